//! Gemini v2 market-data and v1 REST message shapes.

use std::borrow::Cow;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Every v2 market-data message carries a `type`.
#[derive(Deserialize)]
pub struct Envelope<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    /// Error replies: `{"result":"error","reason":..,"message":..}`.
    #[serde(borrow, default)]
    pub result: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub message: Option<Cow<'a, str>>,
}

/// `l2_updates`: the first one per symbol after subscribing is the whole
/// book (with recent trades); later ones are absolute sizes per price.
#[derive(Deserialize)]
pub struct L2Updates {
    pub symbol: String,
    #[serde(default)]
    pub changes: Vec<(String, Decimal, Decimal)>,
    #[serde(default)]
    pub trades: Vec<TradeData>,
}

/// A `trade` message, also the shape of `l2_updates.trades` entries;
/// `side` is the taker side, `timestamp` in ms.
#[derive(Deserialize)]
pub struct TradeData {
    pub symbol: String,
    pub price: Decimal,
    pub quantity: Decimal,
    pub side: String,
    #[serde(default)]
    pub timestamp: Option<i64>,
}

/// `GET /v1/symbols/details/{symbol}`. Gemini's `tick_size` is the order
/// quantity step and `quote_increment` the price step; both are JSON numbers,
/// read from their literal text so no float rounding creeps in.
#[derive(Deserialize)]
pub struct SymbolDetails<'a> {
    pub symbol: String,
    #[serde(default)]
    pub base_currency: Option<String>,
    #[serde(default)]
    pub quote_currency: Option<String>,
    #[serde(borrow, default)]
    pub tick_size: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub quote_increment: Option<&'a RawValue>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub product_type: Option<String>,
}

/// A JSON number or numeric string as an exact decimal.
pub fn raw_decimal(raw: Option<&RawValue>) -> Option<Decimal> {
    let text = raw?.get().trim().trim_matches('"');
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// `GET /v1/book/{symbol}` (the REST fallback).
#[derive(Deserialize)]
pub struct RestBook {
    #[serde(default)]
    pub bids: Vec<RestLevel>,
    #[serde(default)]
    pub asks: Vec<RestLevel>,
}

#[derive(Deserialize)]
pub struct RestLevel {
    pub price: Decimal,
    pub amount: Decimal,
}
