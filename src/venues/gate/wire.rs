//! Gate v4 WebSocket and REST message shapes.
//!
//! Every WebSocket message is `{"time","time_ms","channel","event","error",
//! "result"}` (`futures.obu` pushes carry no `event`). Book levels come as
//! `["price","size"]` arrays (spot, `*.obu`) or `{"p":"price","s":size}`
//! objects (futures legacy and REST), sizes as strings or integers: values
//! stay raw and the readers below take every form.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::Micros;
use crate::venues::checksum::raw_text;
use crate::venues::parse;

#[derive(Deserialize)]
pub struct Envelope<'a> {
    #[serde(borrow, default)]
    pub channel: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub event: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub result: Option<&'a RawValue>,
    #[serde(default)]
    pub time_ms: Option<i64>,
    /// What a request was for (echoed on acks and errors of `*.obu`).
    #[serde(borrow, default)]
    pub payload: Option<&'a RawValue>,
    /// `upgrade` on a service-upgrade notice (no `channel`).
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
}

/// `{"code":2,"message":"..."}`.
#[derive(Deserialize, Default)]
pub struct WsError {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A book push: legacy `*.order_book_update` (`s` = `BTC_USDT`) or `*.obu`
/// (`s` = `ob.BTC_USDT.400`); `full` marks a whole book.
#[derive(Deserialize)]
pub struct BookPush<'a> {
    #[serde(default)]
    pub s: String,
    #[serde(default)]
    pub full: Option<bool>,
    #[serde(rename = "U", default)]
    pub first: Option<u64>,
    #[serde(rename = "u", default)]
    pub last: Option<u64>,
    #[serde(borrow, default)]
    pub b: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    pub a: Vec<&'a RawValue>,
    #[serde(default)]
    pub t: Option<i64>,
}

/// REST `/spot/order_book` and `/futures/usdt/order_book` with
/// `with_id=true`.
#[derive(Deserialize)]
pub struct RestBook<'a> {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(borrow, default)]
    pub bids: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    pub asks: Vec<&'a RawValue>,
    /// Seconds, fractional (`1623898993.123`).
    #[serde(borrow, default)]
    pub current: Option<&'a RawValue>,
}

/// `spot.trades` result: `side` is the taker's ("only the taker side is
/// notified").
#[derive(Deserialize)]
pub struct SpotTrade<'a> {
    #[serde(default)]
    pub currency_pair: String,
    #[serde(borrow)]
    pub price: &'a RawValue,
    #[serde(borrow)]
    pub amount: &'a RawValue,
    #[serde(default)]
    pub side: String,
    /// Milliseconds as decimal text (`"1606292218213.4578"`).
    #[serde(borrow, default)]
    pub create_time_ms: Option<&'a RawValue>,
}

/// `futures.trades` entry: `size` in contracts, negative when the taker
/// sold.
#[derive(Deserialize)]
pub struct FuturesTrade<'a> {
    #[serde(default)]
    pub contract: String,
    #[serde(borrow)]
    pub price: &'a RawValue,
    #[serde(borrow)]
    pub size: &'a RawValue,
    #[serde(borrow, default)]
    pub create_time_ms: Option<&'a RawValue>,
}

/// `futures.public_liquidates` entry: `size` is the liquidation order's
/// size in contracts, signed as Gate signs orders (negative = sell).
#[derive(Deserialize)]
pub struct PublicLiquidate<'a> {
    #[serde(default)]
    pub contract: String,
    #[serde(borrow)]
    pub price: &'a RawValue,
    #[serde(borrow)]
    pub size: &'a RawValue,
    #[serde(borrow, default)]
    pub time_ms: Option<&'a RawValue>,
}

/// `futures.tickers` entry (`total_size`: open interest in contracts).
#[derive(Deserialize)]
pub struct FuturesTicker<'a> {
    #[serde(default)]
    pub contract: String,
    #[serde(borrow, default)]
    pub funding_rate: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub mark_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub index_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub total_size: Option<&'a RawValue>,
}

/// One `/api/v4/spot/currency_pairs` row.
#[derive(Deserialize)]
pub struct CurrencyPair {
    pub id: String,
    #[serde(default)]
    pub base: String,
    #[serde(default)]
    pub quote: String,
    #[serde(default)]
    pub precision: Option<u32>,
    #[serde(default)]
    pub amount_precision: Option<u32>,
    #[serde(default)]
    pub trade_status: Option<String>,
}

/// One `/api/v4/futures/usdt/contracts` row.
#[derive(Deserialize)]
pub struct Contract<'a> {
    pub name: String,
    /// `direct` (linear) or `inverse`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Base asset per contract.
    #[serde(borrow, default)]
    pub quanto_multiplier: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub order_price_round: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub order_size_min: Option<&'a RawValue>,
    #[serde(default)]
    pub in_delisting: Option<bool>,
    #[serde(borrow, default)]
    pub funding_rate: Option<&'a RawValue>,
    /// Unix seconds.
    #[serde(borrow, default)]
    pub funding_next_apply: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub mark_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub index_price: Option<&'a RawValue>,
    /// Open interest in contracts.
    #[serde(borrow, default)]
    pub position_size: Option<&'a RawValue>,
}

/// A decimal (string or number); an empty string is absent.
pub fn decimal(raw: Option<&RawValue>) -> Option<Decimal> {
    raw.map(raw_text)
        .filter(|t| !t.is_empty())
        .and_then(parse::decimal)
}

/// Milliseconds, integer or decimal text, as microseconds.
pub fn ms(raw: Option<&RawValue>) -> Option<Micros> {
    let ms = decimal(raw)?.trunc();
    i64::try_from(ms).ok().and_then(parse::ms_to_micros)
}

/// REST `current`: spot sends milliseconds, futures fractional seconds.
pub fn rest_time(raw: Option<&RawValue>) -> Option<Micros> {
    let v = decimal(raw)?;
    let unit = if v < Decimal::from(100_000_000_000i64) {
        1_000_000
    } else {
        1_000
    };
    i64::try_from((v * Decimal::from(unit)).trunc()).ok()
}

/// A level as text: `["p","s"]` or `{"p":"..","s":..}`.
pub fn level_text(raw: &RawValue) -> Option<(String, String)> {
    let text = raw.get().trim_start();
    if text.starts_with('[') {
        let v: Vec<&RawValue> = serde_json::from_str(raw.get()).ok()?;
        match v.as_slice() {
            [p, s, ..] => Some((raw_text(p).to_string(), raw_text(s).to_string())),
            _ => None,
        }
    } else {
        #[derive(Deserialize)]
        struct Ps<'a> {
            #[serde(borrow)]
            p: &'a RawValue,
            #[serde(borrow)]
            s: &'a RawValue,
        }
        let ps: Ps = serde_json::from_str(raw.get()).ok()?;
        Some((raw_text(ps.p).to_string(), raw_text(ps.s).to_string()))
    }
}

/// `10^-places` (a tick or lot from a precision).
pub fn step(places: Option<u32>) -> Option<Decimal> {
    places.filter(|p| *p <= 18).map(|p| Decimal::new(1, p))
}
