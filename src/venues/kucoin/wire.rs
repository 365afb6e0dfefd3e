//! KuCoin's message shapes (spot and futures), as serde structs, and the
//! readers for numbers KuCoin sends sometimes as JSON numbers, sometimes as
//! strings (`"sequence":"14610502970"` in REST, `14610502970` on the stream).

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::model::Micros;
use crate::venues::checksum::raw_text;
use crate::venues::parse;

/// A number or a string holding one.
pub(super) fn decimal(v: &RawValue) -> Option<Decimal> {
    parse::decimal(raw_text(v))
}

/// A sequence number, JSON number or string.
pub(super) fn de_seq<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Any {
        N(u64),
        S(String),
    }
    match Any::deserialize(d)? {
        Any::N(n) => Ok(n),
        Any::S(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// Like [`de_seq`], for optional fields.
pub(super) fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Any {
        N(i64),
        F(#[allow(dead_code)] f64),
        S(String),
    }
    Ok(match Option::<Any>::deserialize(d)? {
        Some(Any::N(n)) => Some(n),
        // Float times are not times; drop them rather than guess.
        Some(Any::F(_)) | None => None,
        Some(Any::S(s)) => s.trim().parse().ok(),
    })
}

/// Milliseconds or nanoseconds since the epoch (KuCoin uses both) to µs.
pub(super) fn time_micros(t: i64) -> Option<Micros> {
    if t > 100_000_000_000_000 {
        Some(parse::ns_to_micros(t))
    } else {
        parse::ms_to_micros(t)
    }
}

/// Every WebSocket frame: `welcome`, `ack`, `pong`, `error`, `message`.
#[derive(Deserialize)]
pub(super) struct Envelope<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub topic: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub code: Option<&'a RawValue>,
}

/// `/market/level2:{symbol}` data.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SpotL2<'a> {
    #[serde(deserialize_with = "de_seq")]
    pub sequence_start: u64,
    #[serde(deserialize_with = "de_seq")]
    pub sequence_end: u64,
    #[serde(borrow)]
    pub changes: Changes<'a>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub time: Option<i64>,
}

#[derive(Deserialize)]
pub(super) struct Changes<'a> {
    /// `[price, size, sequence]`, strings.
    #[serde(borrow, default)]
    pub asks: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub bids: Vec<Vec<&'a RawValue>>,
}

/// `/contractMarket/level2:{symbol}` data: one `"price,side,size"` change.
#[derive(Deserialize)]
pub(super) struct FuturesL2<'a> {
    #[serde(deserialize_with = "de_seq")]
    pub sequence: u64,
    #[serde(borrow)]
    pub change: Cow<'a, str>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub timestamp: Option<i64>,
}

/// `/market/match` and `/contractMarket/execution` data.
#[derive(Deserialize)]
pub(super) struct Match<'a> {
    #[serde(borrow, default)]
    pub symbol: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub side: Cow<'a, str>,
    #[serde(borrow)]
    pub price: &'a RawValue,
    #[serde(borrow)]
    pub size: &'a RawValue,
    /// Spot: ns as a string.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub time: Option<i64>,
    /// Futures: ns.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub ts: Option<i64>,
}

/// `/contract/instrument` data (`mark.index.price`, `funding.rate`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InstrumentData<'a> {
    #[serde(borrow, default)]
    pub mark_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub index_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub funding_rate: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub timestamp: Option<i64>,
}

/// `{"code":"200000","data":…}` around every REST answer.
#[derive(Deserialize)]
pub(super) struct Rest<'a> {
    #[serde(borrow, default)]
    pub code: Option<&'a RawValue>,
    #[serde(default)]
    pub msg: Option<String>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
}

impl Rest<'_> {
    pub fn ok(&self) -> bool {
        self.code.is_none_or(|c| raw_text(c) == "200000")
    }

    pub fn why(&self) -> String {
        format!(
            "code {} {}",
            self.code.map(raw_text).unwrap_or("?"),
            self.msg.as_deref().unwrap_or("(no message)")
        )
    }
}

/// `POST /api/v1/bullet-public` data.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Bullet {
    pub token: String,
    #[serde(default)]
    pub instance_servers: Vec<InstanceServer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InstanceServer {
    pub endpoint: String,
    #[serde(default)]
    pub ping_interval: Option<u64>,
}

/// A REST book: spot `level2_100`/full (strings), futures snapshot
/// (numbers).
#[derive(Deserialize)]
pub(super) struct RestBook<'a> {
    #[serde(deserialize_with = "de_seq")]
    pub sequence: u64,
    #[serde(borrow, default)]
    pub bids: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub asks: Vec<Vec<&'a RawValue>>,
    /// Spot: ms.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub time: Option<i64>,
    /// Futures: ns.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub ts: Option<i64>,
}

/// One row of `GET /api/v2/symbols` (or cryptofeed's `/api/v1/symbols`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SpotSymbol {
    pub symbol: String,
    pub base_currency: String,
    pub quote_currency: String,
    #[serde(default)]
    pub price_increment: Option<String>,
    #[serde(default)]
    pub base_increment: Option<String>,
    #[serde(default = "yes")]
    pub enable_trading: bool,
}

fn yes() -> bool {
    true
}

/// One row of `GET /api/v1/contracts/active`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Contract<'a> {
    pub symbol: String,
    #[serde(default)]
    pub base_currency: String,
    #[serde(default)]
    pub quote_currency: String,
    /// `FFWCSX` perpetual, `FFICSX` dated future.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(borrow, default)]
    pub multiplier: Option<&'a RawValue>,
    #[serde(default)]
    pub is_inverse: bool,
    #[serde(borrow, default)]
    pub tick_size: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub lot_size: Option<&'a RawValue>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(borrow, default)]
    pub funding_fee_rate: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub predicted_funding_fee_rate: Option<&'a RawValue>,
    /// Funding period (ms), 28800000 for 8 h.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub funding_rate_granularity: Option<i64>,
    /// Absolute time of the next funding (ms), newer field.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub next_funding_rate_date_time: Option<i64>,
    /// Time left until the next funding (ms).
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub next_funding_rate_time: Option<i64>,
    /// Lots.
    #[serde(borrow, default)]
    pub open_interest: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub mark_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub index_price: Option<&'a RawValue>,
}
