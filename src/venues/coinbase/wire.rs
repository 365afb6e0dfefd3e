//! Coinbase Advanced Trade WebSocket and REST message shapes.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Every market-data message: `{"channel", "timestamp", "sequence_num",
/// "events": [..]}`; errors come as `{"type":"error","message":..}`.
#[derive(Deserialize)]
pub struct Envelope<'a> {
    #[serde(borrow, default)]
    pub channel: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(default)]
    pub sequence_num: Option<u64>,
    #[serde(borrow, default)]
    pub events: Option<&'a RawValue>,
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub message: Option<Cow<'a, str>>,
}

/// An `l2_data` message read in one pass: the events typed as the
/// envelope is read, instead of kept as raw text and parsed again (a
/// full-depth snapshot is megabytes). Used when the frame starts with the
/// channel, as Coinbase writes it; [`Envelope`] reads any other layout.
#[derive(Deserialize)]
pub struct L2Message<'a> {
    #[serde(borrow, default)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(default)]
    pub sequence_num: Option<u64>,
    #[serde(default)]
    pub events: Option<Vec<L2Event>>,
}

/// The start of every `l2_data` frame Coinbase sends.
pub const L2_PREFIX: &str = r#"{"channel":"l2_data","#;

/// One `l2_data` event.
#[derive(Deserialize)]
pub struct L2Event {
    #[serde(rename = "type")]
    pub kind: String,
    pub product_id: String,
    #[serde(default)]
    pub updates: Vec<L2Update>,
}

/// `new_quantity` is the absolute size at the price; zero removes it.
#[derive(Deserialize)]
pub struct L2Update {
    pub side: Side,
    pub price_level: Decimal,
    pub new_quantity: Decimal,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Bid,
    Offer,
}

/// One `market_trades` event (snapshot of recent trades, or new ones).
#[derive(Deserialize)]
pub struct TradesEvent {
    /// `snapshot` (recent history sent on subscribe) or `update`.
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub trades: Vec<TradeData>,
}

#[derive(Deserialize)]
pub struct TradeData {
    pub product_id: String,
    pub price: Decimal,
    pub size: Decimal,
    /// The maker's side (see the adapter for the evidence).
    pub side: String,
    #[serde(default)]
    pub time: Option<String>,
}

/// `GET /api/v3/brokerage/market/products`.
#[derive(Deserialize)]
pub struct ProductsResponse {
    pub products: Vec<Product>,
}

#[derive(Deserialize)]
pub struct Product {
    pub product_id: String,
    #[serde(default)]
    pub base_currency_id: String,
    #[serde(default)]
    pub quote_currency_id: String,
    #[serde(default)]
    pub product_type: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub trading_disabled: bool,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub price_increment: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub quote_increment: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub base_increment: Option<Decimal>,
}

fn opt_decimal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let s: Option<Cow<'de, str>> = Option::deserialize(d)?;
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// `GET /api/v3/brokerage/market/product_book` (the REST fallback).
#[derive(Deserialize)]
pub struct ProductBookResponse {
    pub pricebook: PriceBook,
}

#[derive(Deserialize)]
pub struct PriceBook {
    #[serde(default)]
    pub bids: Vec<BookEntry>,
    #[serde(default)]
    pub asks: Vec<BookEntry>,
    #[serde(default)]
    pub time: Option<String>,
}

#[derive(Deserialize)]
pub struct BookEntry {
    pub price: Decimal,
    pub size: Decimal,
}
