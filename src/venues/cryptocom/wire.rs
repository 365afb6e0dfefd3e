//! Crypto.com Exchange message shapes (exchange-docs.crypto.com,
//! "Exchange v1 API": "Websocket Subscriptions" `book.{instrument_name}.
//! {depth}`, `trade.{instrument_name}`, `ticker.{instrument_name}`,
//! `funding.` / `estimatedfunding.` / `mark.` / `index.{instrument_name}`,
//! `public/heartbeat`, `public/get-instruments`, `public/get-book`; and the
//! older v2 market API cryptofeed recorded).
//!
//! Exchange v1 sends prices and sizes as strings, v2 as JSON numbers: both
//! are kept as their literal text (`RawValue`) and read with [`num`], so
//! nothing passes through a float.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::venues::checksum::raw_text;
use crate::venues::parse;

/// Every frame: a server heartbeat (`method: public/heartbeat`), the answer
/// to one of our requests (`code`, `message`) or a subscription push
/// (`method: subscribe` with `result`).
#[derive(Deserialize)]
pub struct Envelope<'a> {
    /// Echoed verbatim in the heartbeat answer (a number in the docs).
    #[serde(borrow, default)]
    pub id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub method: Option<Cow<'a, str>>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(borrow, default)]
    pub message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub result: Option<Push<'a>>,
}

/// `result` of a subscription push.
#[derive(Deserialize)]
pub struct Push<'a> {
    #[serde(borrow, default)]
    pub instrument_name: Option<Cow<'a, str>>,
    /// The channel subscribed (`book.BTC_USDT.50`).
    #[serde(borrow, default)]
    pub subscription: Option<Cow<'a, str>>,
    /// What the push is (`book`, `book.update`, `trade`, `ticker`, …).
    #[serde(borrow)]
    pub channel: Cow<'a, str>,
    #[serde(borrow)]
    pub data: &'a RawValue,
}

/// One level: `[price, size, orders]` (v1 strings, v2 numbers).
pub type RawLevel<'a> = Vec<&'a RawValue>;

/// Both sides of a book message or of a delta's `update`.
#[derive(Deserialize, Default)]
pub struct Sides<'a> {
    #[serde(borrow, default)]
    pub bids: Vec<RawLevel<'a>>,
    #[serde(borrow, default)]
    pub asks: Vec<RawLevel<'a>>,
}

/// One entry of `data` on `book` (whole book: `bids`/`asks`) or
/// `book.update` (changes under `update`; `pu` is the previous `u`).
#[derive(Deserialize)]
pub struct BookData<'a> {
    #[serde(borrow, default)]
    pub bids: Vec<RawLevel<'a>>,
    #[serde(borrow, default)]
    pub asks: Vec<RawLevel<'a>>,
    #[serde(borrow, default)]
    pub update: Option<Sides<'a>>,
    /// Publish time, ms.
    #[serde(default)]
    pub t: Option<i64>,
    #[serde(default)]
    pub u: Option<u64>,
    #[serde(default)]
    pub pu: Option<u64>,
}

/// Price and size text of a level; `None` for a shape not sent.
pub fn level<'a>(l: &[&'a RawValue]) -> Option<(&'a str, &'a str)> {
    match l {
        [price, size, ..] => Some((raw_text(price), raw_text(size))),
        _ => None,
    }
}

/// One trade of `trade.{instrument}`: `s` is the taker's side (changelog
/// 2024-02-12).
#[derive(Deserialize)]
pub struct TradeData<'a> {
    #[serde(borrow, default)]
    pub i: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub p: &'a RawValue,
    #[serde(borrow)]
    pub q: &'a RawValue,
    #[serde(borrow)]
    pub s: Cow<'a, str>,
    #[serde(default)]
    pub t: Option<i64>,
}

/// One entry of `ticker.{instrument}` (only the fields used: `oi` is the
/// open interest, in the base asset for perpetuals).
#[derive(Deserialize)]
pub struct TickerData<'a> {
    #[serde(borrow, default)]
    pub i: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub oi: Option<&'a RawValue>,
    #[serde(default)]
    pub t: Option<i64>,
}

/// One entry of `funding`, `estimatedfunding`, `mark` and `index`.
#[derive(Deserialize)]
pub struct ValueData<'a> {
    #[serde(borrow)]
    pub v: &'a RawValue,
    #[serde(default)]
    pub t: Option<i64>,
}

/// A REST answer: `{"id","method","code","result"}`.
#[derive(Deserialize)]
pub struct RestAnswer<T> {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default = "absent")]
    pub result: Option<T>,
}

/// `serde(default)` would ask `T: Default` of [`RestAnswer`].
fn absent<T>() -> Option<T> {
    None
}

/// `result` of `public/get-instruments`: v1 rows in `data`, v2 rows in
/// `instruments`.
#[derive(Deserialize)]
pub struct InstrumentList<'a> {
    #[serde(borrow, default)]
    pub data: Vec<InstrumentRow<'a>>,
    #[serde(borrow, default)]
    pub instruments: Vec<InstrumentRowV2<'a>>,
}

/// One v1 instrument.
#[derive(Deserialize)]
pub struct InstrumentRow<'a> {
    pub symbol: String,
    /// `CCY_PAIR`, `PERPETUAL_SWAP`, `FUTURE`, `WARRANT`.
    #[serde(default)]
    pub inst_type: Option<String>,
    #[serde(default)]
    pub tradable: Option<bool>,
    #[serde(borrow, default)]
    pub price_tick_size: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub qty_tick_size: Option<&'a RawValue>,
    /// Base per contract (`"1"` on every perpetual listed so far).
    #[serde(borrow, default)]
    pub contract_size: Option<&'a RawValue>,
}

/// One v2 instrument (spot only): ticks as decimal places.
#[derive(Deserialize)]
pub struct InstrumentRowV2<'a> {
    pub instrument_name: String,
    #[serde(borrow, default)]
    pub price_decimals: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub quantity_decimals: Option<&'a RawValue>,
}

/// `result` of `public/get-book`.
#[derive(Deserialize)]
pub struct RestBook<'a> {
    #[serde(borrow, default)]
    pub data: Vec<BookData<'a>>,
}

/// A JSON number or numeric string; `None` for `null` or anything else.
pub fn num(raw: Option<&RawValue>) -> Option<Decimal> {
    parse::decimal(raw_text(raw?))
}

/// `10^-places` for a count of decimal places (v2 instrument lists).
pub fn tick_of_places(raw: Option<&RawValue>) -> Option<Decimal> {
    let places: u32 = raw_text(raw?).parse().ok()?;
    (places <= 18).then(|| Decimal::new(1, places))
}
