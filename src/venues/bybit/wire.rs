//! Bybit v5 public WebSocket and REST message shapes.
//!
//! Field names follow the v5 docs; every frame is first read as an
//! [`Envelope`] and its `data` is parsed by topic. Prices and sizes are
//! decimal strings on the wire and stay `Decimal` here.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::Level;

/// Every Bybit public frame: a topic push (`topic`, `type`, `ts`, `data`) or
/// an operation response (`op`, `success`, `ret_msg`).
#[derive(Deserialize)]
pub struct Envelope<'a> {
    #[serde(borrow, default)]
    pub topic: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default)]
    pub ts: Option<i64>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub op: Option<Cow<'a, str>>,
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(borrow, default)]
    pub ret_msg: Option<Cow<'a, str>>,
}

/// `orderbook.{depth}.{symbol}` data (snapshot and delta alike).
#[derive(Deserialize)]
pub struct BookData {
    pub s: String,
    #[serde(default)]
    pub b: Vec<(Decimal, Decimal)>,
    #[serde(default)]
    pub a: Vec<(Decimal, Decimal)>,
    pub u: u64,
}

pub fn levels(raw: &[(Decimal, Decimal)]) -> Vec<Level> {
    raw.iter().map(|&(p, q)| Level::new(p, q)).collect()
}

/// One `publicTrade` entry; `S` is the taker side.
#[derive(Deserialize)]
pub struct TradeData {
    #[serde(rename = "T")]
    pub time: i64,
    pub s: String,
    #[serde(rename = "S")]
    pub side: String,
    pub v: Decimal,
    pub p: Decimal,
}

/// One `allLiquidation` entry; `S = Buy` means a long position was
/// liquidated, `v` is the executed size (base coin on linear), `p` the
/// bankruptcy price.
#[derive(Deserialize)]
pub struct LiquidationData {
    #[serde(rename = "T")]
    pub time: i64,
    pub s: String,
    #[serde(rename = "S")]
    pub side: String,
    pub v: Decimal,
    pub p: Decimal,
}

/// `tickers.{symbol}` data on linear; deltas carry only the fields that
/// changed, so everything is optional. Empty strings (pre-listing fields)
/// read as absent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TickerData {
    pub symbol: String,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub funding_rate: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_i64_str")]
    pub next_funding_time: Option<i64>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub open_interest: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub mark_price: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub index_price: Option<Decimal>,
    /// Hours between fundings (1, 2, 4 or 8 on Bybit), when the ticker says.
    #[serde(default, deserialize_with = "opt_i64_str")]
    pub funding_interval_hour: Option<i64>,
}

fn opt_decimal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let s: Option<Cow<'de, str>> = Option::deserialize(d)?;
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn opt_i64_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let s: Option<Cow<'de, str>> = Option::deserialize(d)?;
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// `GET /v5/market/instruments-info` response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstrumentsResponse {
    pub ret_code: i64,
    #[serde(default)]
    pub ret_msg: String,
    #[serde(default)]
    pub result: Option<InstrumentsResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstrumentsResult {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub list: Vec<InstrumentEntry>,
    #[serde(default)]
    pub next_page_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstrumentEntry {
    pub symbol: String,
    pub base_coin: String,
    pub quote_coin: String,
    /// Linear only: `LinearPerpetual`, `LinearFutures`.
    #[serde(default)]
    pub contract_type: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub price_filter: Option<PriceFilter>,
    #[serde(default)]
    pub lot_size_filter: Option<LotSizeFilter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceFilter {
    #[serde(default, deserialize_with = "opt_decimal")]
    pub tick_size: Option<Decimal>,
}

/// Linear gives `qtyStep`; spot gives `basePrecision` instead.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LotSizeFilter {
    #[serde(default, deserialize_with = "opt_decimal")]
    pub qty_step: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub base_precision: Option<Decimal>,
}

/// `GET /v5/market/orderbook`: the REST book (for the REST fallback).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderbookResponse {
    pub ret_code: i64,
    #[serde(default)]
    pub ret_msg: String,
    #[serde(default)]
    pub result: Option<OrderbookResult>,
}

#[derive(Deserialize)]
pub struct OrderbookResult {
    #[serde(default)]
    pub b: Vec<(Decimal, Decimal)>,
    #[serde(default)]
    pub a: Vec<(Decimal, Decimal)>,
    #[serde(default)]
    pub ts: Option<i64>,
    #[serde(default)]
    pub u: Option<u64>,
}
