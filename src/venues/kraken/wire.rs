//! Kraken spot WebSocket (v2 objects, v1 events and book payloads) and REST
//! `AssetPairs` message shapes. v2 prices and quantities are JSON numbers,
//! kept as their literal text (`RawValue`) for the checksum.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::Micros;
use crate::venues::checksum::raw_text;
use crate::venues::parse;

#[derive(Deserialize)]
pub struct V2Message<'a> {
    #[serde(borrow, default)]
    pub channel: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type", default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub method: Option<Cow<'a, str>>,
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(borrow, default)]
    pub result: Option<&'a RawValue>,
    #[serde(default)]
    pub error: Option<String>,
    /// v1 events (`heartbeat`, `subscriptionStatus`, `systemStatus`, `pong`).
    #[serde(borrow, default)]
    pub event: Option<Cow<'a, str>>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub pair: Option<String>,
    #[serde(default)]
    pub subscription: Option<V1Subscription>,
    #[serde(rename = "errorMessage", default)]
    pub error_message: Option<String>,
}

#[derive(Deserialize)]
pub struct V1Subscription {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub depth: Option<usize>,
}

#[derive(Deserialize)]
pub struct V2Book<'a> {
    pub symbol: String,
    #[serde(borrow, default)]
    pub bids: Vec<V2Level<'a>>,
    #[serde(borrow, default)]
    pub asks: Vec<V2Level<'a>>,
    #[serde(default)]
    pub checksum: Option<u32>,
    #[serde(default)]
    pub timestamp: Option<String>,
}

#[derive(Deserialize)]
pub struct V2Level<'a> {
    #[serde(borrow)]
    pub price: &'a RawValue,
    #[serde(borrow)]
    pub qty: &'a RawValue,
}

#[derive(Deserialize)]
pub struct V2Trade<'a> {
    pub symbol: String,
    #[serde(borrow)]
    pub side: Cow<'a, str>,
    #[serde(borrow)]
    pub price: &'a RawValue,
    #[serde(borrow)]
    pub qty: &'a RawValue,
    #[serde(default)]
    pub timestamp: Option<String>,
}

#[derive(Deserialize)]
pub struct SubscribeResult {
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default)]
    pub depth: Option<usize>,
}

#[derive(Deserialize)]
pub struct InstrumentData {
    #[serde(default)]
    pub pairs: Vec<InstrumentPair>,
}

#[derive(Deserialize)]
pub struct InstrumentPair {
    pub symbol: String,
    pub price_precision: u32,
    pub qty_precision: u32,
    #[serde(default)]
    pub price_increment: Option<f64>,
    #[serde(default)]
    pub qty_increment: Option<f64>,
}

#[derive(Deserialize)]
pub struct AssetPairs {
    #[serde(default)]
    pub result: HashMap<String, AssetPair>,
}

#[derive(Deserialize)]
pub struct AssetPair {
    #[serde(default)]
    pub wsname: Option<String>,
    pub pair_decimals: u32,
    pub lot_decimals: u32,
    #[serde(default)]
    pub tick_size: Option<String>,
}

/// A v1 book payload: `as`/`bs` in a snapshot, `a`/`b` in an update.
#[derive(Deserialize)]
pub struct V1Book<'a> {
    #[serde(borrow, default)]
    pub r#as: Option<Vec<Vec<&'a RawValue>>>,
    #[serde(borrow, default)]
    pub bs: Option<Vec<Vec<&'a RawValue>>>,
    #[serde(borrow, default)]
    pub a: Option<Vec<Vec<&'a RawValue>>>,
    #[serde(borrow, default)]
    pub b: Option<Vec<Vec<&'a RawValue>>>,
    #[serde(default)]
    pub c: Option<String>,
}

pub fn rfc3339_micros(ts: Option<&str>) -> Option<Micros> {
    parse::rfc3339_micros(ts?)
}

/// v1 timestamps: `"1582905486.493008"` seconds.
pub fn v1_secs_micros(ts: &str) -> Option<Micros> {
    parse::decimal_secs_to_micros(ts)
}

pub fn v2_levels<'a>(levels: &[V2Level<'a>]) -> Vec<(&'a str, &'a str)> {
    levels
        .iter()
        .map(|l| (raw_text(l.price), raw_text(l.qty)))
        .collect()
}
