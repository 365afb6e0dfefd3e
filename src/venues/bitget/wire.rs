//! Bitget public WebSocket and REST message shapes, v2 (current) and v1
//! (stopped 2025-11-28; still in recordings, cryptofeed's `bitget.py`).
//!
//! Every push is `{"action","arg":{"instType","channel","instId"},"data":[..]}`
//! (v3/UTA names `topic` and `symbol` in `arg`, `a`/`b` in books: read through
//! aliases); events are `{"event":"subscribe"|"error",..}`. Numbers are
//! strings on the wire, except some that v1 and the REST merge-depth send as
//! JSON numbers: every value stays raw here and the readers below take
//! either (the checksum needs the book's text as sent).

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::Micros;
use crate::venues::checksum::raw_text;
use crate::venues::parse;

#[derive(Deserialize)]
pub struct Push<'a> {
    #[serde(borrow, default)]
    pub action: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub event: Option<Cow<'a, str>>,
    #[serde(default)]
    pub arg: Option<Arg>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub code: Option<&'a RawValue>,
    #[serde(default)]
    pub msg: Option<String>,
}

#[derive(Deserialize, Clone, Debug, Default)]
pub struct Arg {
    #[serde(rename = "instType", default)]
    pub inst_type: String,
    #[serde(alias = "topic", default)]
    pub channel: String,
    #[serde(rename = "instId", alias = "symbol", default)]
    pub inst_id: String,
}

/// One `books` entry (snapshot or update).
#[derive(Deserialize)]
pub struct BookData<'a> {
    #[serde(borrow, alias = "a", default)]
    pub asks: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, alias = "b", default)]
    pub bids: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub checksum: Option<&'a RawValue>,
    /// v2/v3: increasing per push (v1 has none).
    #[serde(borrow, default)]
    pub seq: Option<&'a RawValue>,
    /// v3: the `seq` of the previous push (0 after a reset).
    #[serde(borrow, default)]
    pub pseq: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
}

/// v2 `trade` entry; v1 sends `[ts, price, size, side]` arrays instead.
/// `side` is the taker's.
#[derive(Deserialize)]
pub struct TradeObj<'a> {
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
    #[serde(borrow)]
    pub price: &'a RawValue,
    #[serde(borrow)]
    pub size: &'a RawValue,
    #[serde(borrow)]
    pub side: Cow<'a, str>,
}

/// `ticker` entry: v2 futures (`fundingRate`, `nextFundingTime`,
/// `holdingAmount`) or v1 mix (`capitalRate`, `nextSettleTime`, `holding`);
/// spot tickers carry none of these. (Separate fields, not aliases: a
/// message holding both names would otherwise be refused.)
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TickerData<'a> {
    #[serde(default)]
    pub inst_id: Option<String>,
    #[serde(borrow, default)]
    pub funding_rate: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub capital_rate: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub next_funding_time: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub next_settle_time: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub mark_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub index_price: Option<&'a RawValue>,
    /// Open interest in the base coin.
    #[serde(borrow, default)]
    pub holding_amount: Option<&'a RawValue>,
    /// v1: open interest in the base coin.
    #[serde(borrow, default)]
    pub holding: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub system_time: Option<&'a RawValue>,
}

/// `{"code":"00000","msg":"success","data":..}`, every REST answer.
#[derive(Deserialize)]
pub struct Rest<'a> {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub msg: Option<String>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
}

impl Rest<'_> {
    pub fn ok(&self) -> bool {
        self.code.as_deref().is_none_or(|c| c == "00000")
    }
}

/// One row of `/api/v2/spot/public/symbols` (v1 `/api/spot/v1/public/products`).
#[derive(Deserialize)]
pub struct SpotSymbol {
    /// v2 `BTCUSDT`; v1 `BTCUSDT_SPBL` (its `symbolName` is `BTCUSDT`).
    pub symbol: String,
    #[serde(rename = "symbolName", default)]
    pub symbol_name: Option<String>,
    #[serde(rename = "baseCoin")]
    pub base_coin: String,
    #[serde(rename = "quoteCoin")]
    pub quote_coin: String,
    #[serde(rename = "pricePrecision", alias = "priceScale", default)]
    pub price_precision: Option<String>,
    #[serde(rename = "quantityPrecision", alias = "quantityScale", default)]
    pub quantity_precision: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// One row of `/api/v2/mix/market/contracts` (v1 `/api/mix/v1/market/contracts`).
#[derive(Deserialize)]
pub struct Contract {
    /// v2 `BTCUSDT`; v1 `BTCUSDT_UMCBL` / `BTCUSD_DMCBL`.
    pub symbol: String,
    #[serde(rename = "baseCoin")]
    pub base_coin: String,
    #[serde(rename = "quoteCoin")]
    pub quote_coin: String,
    #[serde(rename = "pricePlace", default)]
    pub price_place: Option<String>,
    #[serde(rename = "priceEndStep", default)]
    pub price_end_step: Option<String>,
    #[serde(rename = "volumePlace", default)]
    pub volume_place: Option<String>,
    /// v2: the size step, in the base coin.
    #[serde(rename = "sizeMultiplier", default)]
    pub size_multiplier: Option<String>,
    /// v2: `perpetual` or `delivery`.
    #[serde(rename = "symbolType", default)]
    pub symbol_type: Option<String>,
    /// v2: `normal`, `maintain`, `limit_open`, `restrictedAPI`, `off`.
    #[serde(rename = "symbolStatus", default)]
    pub symbol_status: Option<String>,
}

/// `/api/v2/spot/market/orderbook` and `/api/v2/mix/market/merge-depth`
/// `data` (levels as strings or numbers).
#[derive(Deserialize)]
pub struct RestBook<'a> {
    #[serde(borrow, default)]
    pub asks: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub bids: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
}

/// A number or a quoted number, as an integer.
pub fn int(raw: &RawValue) -> Option<i64> {
    raw_text(raw).parse::<i64>().ok()
}

/// Milliseconds (number or string) → microseconds.
pub fn ms(raw: Option<&RawValue>) -> Option<Micros> {
    raw.and_then(int).and_then(parse::ms_to_micros)
}

/// A decimal (string or number); an empty string is absent.
pub fn decimal(raw: Option<&RawValue>) -> Option<Decimal> {
    raw.map(raw_text)
        .filter(|t| !t.is_empty())
        .and_then(parse::decimal)
}

/// `[price, size, ..]` as the text received.
pub fn level_text<'a>(level: &[&'a RawValue]) -> Option<(&'a str, &'a str)> {
    match level {
        [p, s, ..] => Some((raw_text(p), raw_text(s))),
        _ => None,
    }
}

/// `10^-places × step` (`pricePlace` 1, `priceEndStep` 5 → 0.5).
pub fn step_of(places: Option<&str>, step: Option<&str>) -> Option<Decimal> {
    let places: u32 = places?.trim().parse().ok().filter(|p| *p <= 18)?;
    let step = step.map_or(Some(Decimal::ONE), parse::decimal)?;
    step.checked_mul(Decimal::new(1, places))
        .map(|d| d.normalize())
}
