//! MEXC's JSON shapes: spot control frames and REST bodies, and the futures
//! (contract) WebSocket envelopes and REST bodies. Spot data frames are
//! protobuf ([`super::proto`]).
//!
//! Futures numbers are JSON numbers (`[39146.5,11264,1]`, `"contractSize":
//! 0.0001`): they are read from their raw text, never through `f64`.

use std::io::Read;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::Level;
use crate::venues::checksum::raw_text;
use crate::venues::parse;

/// A decompressed frame larger than this is refused (a gzip member can
/// inflate far beyond what arrived).
const MAX_INFLATED: u64 = 16 << 20;

/// A gzip frame (futures pushes may be compressed) as text.
pub fn gunzip(data: &[u8]) -> Result<String, String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(data)
        .take(MAX_INFLATED + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("not a gzip frame: {e}"))?;
    if text.len() as u64 > MAX_INFLATED {
        return Err(format!("frame inflates beyond {MAX_INFLATED} bytes"));
    }
    Ok(text)
}

/// A JSON number or numeric string as a decimal.
pub fn decimal(raw: Option<&RawValue>) -> Option<Decimal> {
    parse::decimal(raw_text(raw?))
}

/// `[[price, size, ...], ...]` (strings or numbers) as levels.
pub fn levels(rows: &[Vec<&RawValue>]) -> Option<Vec<Level>> {
    rows.iter()
        .map(|r| {
            let price = parse::decimal(raw_text(r.first()?))?;
            let size = parse::decimal(raw_text(r.get(1)?))?;
            Some(Level::new(price, size))
        })
        .collect()
}

// ---- spot ----

/// A spot control frame: subscription answers (`{"id":0,"code":0,"msg":
/// "<topic>"}`), `PONG`, errors.
#[derive(Deserialize, Debug)]
pub struct SpotControl {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub msg: Option<String>,
}

/// `GET /api/v3/depth`: levels as `["price","qty"]`.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SpotDepth<'a> {
    pub last_update_id: Option<u64>,
    #[serde(borrow, default)]
    pub bids: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub asks: Vec<Vec<&'a RawValue>>,
    /// Present on errors (`{"code":-1121,"msg":"Invalid symbol."}`).
    #[serde(default)]
    pub msg: Option<String>,
}

/// `GET /api/v3/exchangeInfo`.
#[derive(Deserialize, Debug)]
pub struct ExchangeInfo {
    #[serde(default)]
    pub symbols: Vec<SpotSymbol>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SpotSymbol {
    pub symbol: String,
    /// `"1"` online, `"2"` paused, `"3"` offline.
    #[serde(default)]
    pub status: Option<String>,
    pub base_asset: String,
    pub quote_asset: String,
    /// Decimals of the price.
    #[serde(default)]
    pub quote_precision: Option<u32>,
    /// The smallest quantity step, as text (`"0.000001"`).
    #[serde(default)]
    pub base_size_precision: Option<String>,
    #[serde(default)]
    pub is_spot_trading_allowed: Option<bool>,
}

/// A legacy JSON data frame of the switched-off `wbs.mexc.com` stream
/// (`spot@public.increase.depth.v3.api@SYM`, `spot@public.deals.v3.api@SYM`).
#[derive(Deserialize, Debug)]
pub struct LegacyPush<'a> {
    pub c: String,
    #[serde(borrow)]
    pub d: &'a RawValue,
    #[serde(default)]
    pub s: Option<String>,
    #[serde(default)]
    pub t: Option<i64>,
}

/// Legacy `increase.depth` body: `{"asks":[{"p","v"}],"bids":[..],"r":"ver"}`.
#[derive(Deserialize, Debug)]
pub struct LegacyDepth {
    #[serde(default)]
    pub asks: Vec<LegacyLevel>,
    #[serde(default)]
    pub bids: Vec<LegacyLevel>,
    pub r: String,
}

#[derive(Deserialize, Debug)]
pub struct LegacyLevel {
    pub p: String,
    pub v: String,
}

/// Legacy `deals` body: `{"deals":[{"p","v","S","t"}]}`.
#[derive(Deserialize, Debug)]
pub struct LegacyDeals {
    #[serde(default)]
    pub deals: Vec<LegacyDeal>,
}

#[derive(Deserialize, Debug)]
pub struct LegacyDeal {
    pub p: String,
    pub v: String,
    #[serde(rename = "S")]
    pub side: i32,
    pub t: i64,
}

// ---- futures ----

/// Every futures frame: `{"channel","data","symbol","ts"}`.
#[derive(Deserialize, Debug)]
pub struct Envelope<'a> {
    pub channel: String,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default)]
    pub ts: Option<i64>,
}

/// `push.depth`: absolute sizes in contracts, `[price, contracts, orders]`;
/// `version` per change, or `begin`/`end` when the server merged several.
#[derive(Deserialize, Debug)]
pub struct FuturesDepth<'a> {
    #[serde(borrow, default)]
    pub asks: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub bids: Vec<Vec<&'a RawValue>>,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub begin: Option<u64>,
    #[serde(default)]
    pub end: Option<u64>,
    #[serde(default)]
    pub timestamp: Option<i64>,
}

/// `push.deal`: `p` price, `v` contracts, `T` 1 buy / 2 sell (taker), `t` ms.
#[derive(Deserialize, Debug)]
pub struct FuturesDeal<'a> {
    #[serde(borrow)]
    pub p: &'a RawValue,
    #[serde(borrow)]
    pub v: &'a RawValue,
    #[serde(rename = "T")]
    pub side: i32,
    #[serde(default)]
    pub t: Option<i64>,
}

/// `push.ticker`, the fields used.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct FuturesTicker<'a> {
    pub symbol: String,
    #[serde(borrow, default)]
    pub funding_rate: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub fair_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub index_price: Option<&'a RawValue>,
    /// Open interest in contracts.
    #[serde(borrow, default)]
    pub hold_vol: Option<&'a RawValue>,
    #[serde(default)]
    pub timestamp: Option<i64>,
}

/// `push.funding.rate`: `{"rate","symbol","nextSettleTime"}`.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct FundingRate<'a> {
    pub symbol: String,
    #[serde(borrow, default)]
    pub rate: Option<&'a RawValue>,
    #[serde(default)]
    pub next_settle_time: Option<i64>,
}

/// A futures REST answer: `{"success","code","data"}`.
#[derive(Deserialize, Debug)]
pub struct Rest<'a> {
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(default)]
    pub message: Option<String>,
}

impl Rest<'_> {
    pub fn ok(&self) -> bool {
        self.success != Some(false) && self.code.unwrap_or(0) == 0
    }

    pub fn why(&self) -> String {
        format!(
            "code {}: {}",
            self.code.unwrap_or_default(),
            self.message.as_deref().unwrap_or("(no message)")
        )
    }
}

/// `GET /api/v1/contract/depth/{symbol}` data.
#[derive(Deserialize, Debug)]
pub struct FuturesRestDepth<'a> {
    #[serde(borrow, default)]
    pub asks: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub bids: Vec<Vec<&'a RawValue>>,
    pub version: u64,
    #[serde(default)]
    pub timestamp: Option<i64>,
}

/// One row of `GET /api/v1/contract/detail`.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Contract<'a> {
    pub symbol: String,
    pub base_coin: String,
    pub quote_coin: String,
    #[serde(default)]
    pub settle_coin: Option<String>,
    /// Base asset per contract (linear).
    #[serde(borrow, default)]
    pub contract_size: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub price_unit: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub vol_unit: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub min_vol: Option<&'a RawValue>,
    /// 1 perpetual, 2 delivery.
    #[serde(default)]
    pub future_type: Option<i64>,
    /// 0 enabled, 1 delivering, 2 delivered, 3 offline, 4 paused.
    #[serde(default)]
    pub state: Option<i64>,
}
