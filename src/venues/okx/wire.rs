//! OKX v5 public WebSocket and REST message shapes. Prices, sizes and
//! timestamps are strings on the wire: they stay raw here (the checksum
//! needs the book's text) and the helpers below read them.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::Micros;
use crate::venues::checksum::{parse_decimal, raw_text};

#[derive(Deserialize)]
pub struct Push<'a> {
    #[serde(borrow, default)]
    pub arg: Option<Arg<'a>>,
    #[serde(borrow, default)]
    pub event: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub action: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub code: Option<&'a RawValue>,
    #[serde(default)]
    pub msg: Option<String>,
}

#[derive(Deserialize)]
pub struct Arg<'a> {
    #[serde(borrow, default)]
    pub channel: Cow<'a, str>,
    #[serde(borrow, rename = "instId", default)]
    pub inst_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub struct BookData<'a> {
    #[serde(borrow, default)]
    pub asks: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub bids: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
    #[serde(default)]
    pub checksum: Option<i64>,
    #[serde(rename = "prevSeqId", default)]
    pub prev_seq_id: Option<i64>,
    #[serde(rename = "seqId", default)]
    pub seq_id: Option<i64>,
}

#[derive(Deserialize)]
pub struct TradeData<'a> {
    #[serde(borrow, rename = "instId")]
    pub inst_id: Cow<'a, str>,
    #[serde(borrow)]
    pub px: &'a RawValue,
    #[serde(borrow)]
    pub sz: &'a RawValue,
    #[serde(borrow)]
    pub side: Cow<'a, str>,
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub struct LiquidationData<'a> {
    #[serde(borrow, rename = "instId")]
    pub inst_id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub details: Vec<LiquidationDetail<'a>>,
}

#[derive(Deserialize)]
pub struct LiquidationDetail<'a> {
    #[serde(borrow)]
    pub side: Cow<'a, str>,
    #[serde(borrow, rename = "posSide", default)]
    pub pos_side: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "bkPx")]
    pub bk_px: &'a RawValue,
    #[serde(borrow)]
    pub sz: &'a RawValue,
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub struct FundingData<'a> {
    #[serde(borrow, rename = "instId")]
    pub inst_id: Cow<'a, str>,
    #[serde(borrow, rename = "fundingRate", default)]
    pub funding_rate: Option<&'a RawValue>,
    #[serde(borrow, rename = "fundingTime", default)]
    pub funding_time: Option<&'a RawValue>,
    /// The funding after the next one: their distance is the interval.
    #[serde(borrow, rename = "nextFundingTime", default)]
    pub next_funding_time: Option<&'a RawValue>,
    /// The predicted rate of the next period (empty when OKX gives none).
    #[serde(borrow, rename = "nextFundingRate", default)]
    pub next_funding_rate: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub struct OpenInterestData<'a> {
    #[serde(borrow, rename = "instId")]
    pub inst_id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub oi: Option<&'a RawValue>,
    #[serde(borrow, rename = "oiCcy", default)]
    pub oi_ccy: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub struct InstrumentsResponse {
    #[serde(default)]
    pub data: Vec<InstrumentRow>,
}

#[derive(Deserialize)]
pub struct InstrumentRow {
    #[serde(rename = "instId")]
    pub inst_id: String,
    #[serde(rename = "ctVal", default)]
    pub ct_val: String,
    #[serde(rename = "ctMult", default)]
    pub ct_mult: String,
    #[serde(rename = "ctType", default)]
    pub ct_type: String,
    #[serde(rename = "tickSz", default)]
    pub tick_sz: String,
    #[serde(rename = "lotSz", default)]
    pub lot_sz: String,
    #[serde(default)]
    pub state: String,
}

pub fn ms_to_micros(raw: Option<&RawValue>) -> Option<Micros> {
    raw_text(raw?).parse::<i64>().ok()?.checked_mul(1000)
}

pub fn decimal(raw: &RawValue) -> Option<Decimal> {
    parse_decimal(raw_text(raw))
}

/// `[price, size, ...]` as text.
pub fn level_text<'a>(level: &[&'a RawValue]) -> Option<(&'a str, &'a str)> {
    match level {
        [p, s, ..] => Some((raw_text(p), raw_text(s))),
        _ => None,
    }
}
