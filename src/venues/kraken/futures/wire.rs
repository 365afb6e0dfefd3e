//! Kraken Futures WebSocket v1 and REST v3 message shapes
//! (docs.kraken.com, Derivatives WebSocket: Book, Trade, Ticker, Heartbeat;
//! Derivatives REST: `instruments`, `orderbook`). Numbers are JSON numbers
//! (the ticker's `volume` may be a string like `"7.0541503E7"`); they are
//! read from their literal text.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::venues::checksum::raw_text;
use crate::venues::parse;

/// Every frame: an `event` answer (`info`, `subscribed`,
/// `subscribed_failed`, `error`, `alert`, `pong`) or a `feed` push.
#[derive(Deserialize)]
pub struct Message<'a> {
    #[serde(borrow, default)]
    pub event: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub feed: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub product_id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub product_ids: Option<Vec<String>>,
    #[serde(default)]
    pub message: Option<String>,
    // book_snapshot / book
    #[serde(default)]
    pub seq: Option<u64>,
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(borrow, default)]
    pub bids: Option<Vec<Level<'a>>>,
    #[serde(borrow, default)]
    pub asks: Option<Vec<Level<'a>>>,
    #[serde(borrow, default)]
    pub side: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub qty: Option<&'a RawValue>,
    // trade
    #[serde(borrow, rename = "type", default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default)]
    pub time: Option<i64>,
    // ticker
    #[serde(borrow, default)]
    pub relative_funding_rate: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub relative_funding_rate_prediction: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub next_funding_rate_time: Option<&'a RawValue>,
    #[serde(borrow, rename = "openInterest", default)]
    pub open_interest: Option<&'a RawValue>,
    #[serde(borrow, rename = "markPrice", default)]
    pub mark_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub index: Option<&'a RawValue>,
}

/// `{"price": .., "qty": ..}` of a book snapshot.
#[derive(Deserialize)]
pub struct Level<'a> {
    #[serde(borrow)]
    pub price: &'a RawValue,
    #[serde(borrow)]
    pub qty: &'a RawValue,
}

/// `GET /derivatives/api/v3/instruments`.
#[derive(Deserialize)]
pub struct Instruments<'a> {
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(borrow, default)]
    pub instruments: Vec<InstrumentRow<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstrumentRow<'a> {
    /// `PI_XBTUSD`; the prefix says inverse or linear (the `type` field is
    /// not relied on: the documented example gives `PF_XBTUSD` the type
    /// `futures_inverse`).
    pub symbol: String,
    #[serde(default)]
    pub tradeable: Option<bool>,
    #[serde(borrow, default)]
    pub tick_size: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub contract_size: Option<&'a RawValue>,
    /// Decimals of the order size (negative: sizes in tens, hundreds…).
    #[serde(default)]
    pub contract_value_trade_precision: Option<i32>,
}

/// `GET /derivatives/api/v3/orderbook?symbol=`.
#[derive(Deserialize)]
pub struct OrderBookAnswer<'a> {
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(borrow, rename = "orderBook", default)]
    pub order_book: Option<OrderBook<'a>>,
}

#[derive(Deserialize)]
pub struct OrderBook<'a> {
    #[serde(borrow, default)]
    pub bids: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub asks: Vec<Vec<&'a RawValue>>,
}

/// A JSON number (or numeric string); `None` for `null` or anything else.
pub fn num(raw: Option<&RawValue>) -> Option<Decimal> {
    parse::decimal(raw_text(raw?))
}

/// `10^-precision` as a lot size.
pub fn lot_of_precision(p: i32) -> Option<Decimal> {
    if (0..=28).contains(&p) {
        Some(Decimal::new(1, p as u32))
    } else if (-18..0).contains(&p) {
        Some(Decimal::from(10i64.pow(p.unsigned_abs())))
    } else {
        None
    }
}
