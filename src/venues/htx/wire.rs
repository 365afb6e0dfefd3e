//! HTX message shapes: the gzip framing, the WebSocket envelopes of the
//! market and notification sockets, and the REST bodies used here.
//!
//! HTX sends prices and sizes as JSON numbers (`[9.121E-7,92730.24]`), and
//! some numeric fields of REST and notification bodies as strings: both are
//! read from their raw text (never through `f64`) with [`decimal`].

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::model::Level;
use crate::venues::checksum::raw_text;

/// A decompressed frame larger than this is refused (a gzip member can
/// inflate far beyond what arrived; HTX frames are a few kB).
pub const MAX_INFLATED: u64 = 16 << 20;

/// Inflate one gzip frame (HTX compresses every server frame; cryptofeed
/// reads them with `zlib.decompress(msg, 16 + MAX_WBITS)`, i.e. gzip).
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

/// A JSON number or numeric string as a decimal; `null` and junk give `None`.
pub fn decimal(raw: &RawValue) -> Option<Decimal> {
    crate::venues::parse::decimal(raw_text(raw))
}

/// A JSON number or numeric string of milliseconds.
pub fn millis(raw: &RawValue) -> Option<i64> {
    raw_text(raw).parse().ok()
}

/// `[[price, size], ...]` with each value a JSON number (or a string),
/// parsed into decimals while deserializing.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Levels(pub Vec<Level>);

impl<'de> Deserialize<'de> for Levels {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LevelsVisitor;
        impl<'de> Visitor<'de> for LevelsVisitor {
            type Value = Levels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of [price, size] pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Levels, A::Error> {
                let mut levels = Vec::with_capacity(seq.size_hint().unwrap_or(16));
                while let Some(pair) = seq.next_element::<Vec<&'de RawValue>>()? {
                    let (Some(p), Some(s)) = (pair.first(), pair.get(1)) else {
                        return Err(de::Error::custom("a level without price and size"));
                    };
                    let price = decimal(p)
                        .ok_or_else(|| de::Error::custom(format!("bad price `{}`", p.get())))?;
                    let size = decimal(s)
                        .ok_or_else(|| de::Error::custom(format!("bad size `{}`", s.get())))?;
                    levels.push(Level::new(price, size));
                }
                Ok(Levels(levels))
            }
        }
        d.deserialize_seq(LevelsVisitor)
    }
}

/// Every frame of the market (`/ws`, `/feed`, `/linear-swap-ws`,
/// `/swap-ws`) and notification sockets, read once; the payload (`tick`,
/// `data`) is parsed by channel afterwards.
#[derive(Deserialize)]
pub struct Envelope<'a> {
    /// Market heartbeat `{"ping": 1492420473027}`.
    #[serde(borrow, default)]
    pub ping: Option<&'a RawValue>,
    /// Notification sockets: `ping`, `notify`, `sub`, `unsub`, `error`, `close`.
    #[serde(borrow, default)]
    pub op: Option<Cow<'a, str>>,
    /// Number on market frames, string on notification heartbeats.
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
    /// A push: `market.$symbol.$channel`.
    #[serde(borrow, default)]
    pub ch: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tick: Option<&'a RawValue>,
    /// The answer to a `req` (the MBP image).
    #[serde(borrow, default)]
    pub rep: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub subbed: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub unsubbed: Option<Cow<'a, str>>,
    /// Notification pushes and acknowledgements.
    #[serde(borrow, default)]
    pub topic: Option<Cow<'a, str>>,
    /// `"bad-request"` on market sockets, a number (0 = fine) on
    /// notification sockets.
    #[serde(rename = "err-code", borrow, default)]
    pub err_code: Option<&'a RawValue>,
    #[serde(rename = "err-msg", borrow, default)]
    pub err_msg: Option<Cow<'a, str>>,
}

impl Envelope<'_> {
    /// The error this frame reports, if any.
    pub fn error(&self) -> Option<String> {
        let code = self.err_code.map(raw_text).unwrap_or_default();
        let failed = self.status.as_deref() == Some("error")
            || self.op.as_deref() == Some("error")
            || !(code.is_empty() || code == "0" || code == "null");
        failed.then(|| {
            format!(
                "HTX error {code}: {}",
                self.err_msg.as_deref().unwrap_or("(no message)")
            )
        })
    }
}

/// The book part of `tick` (`depth.step0`, `mbp.$levels`,
/// `depth.size_$n.high_freq`) or of a `req` image's `data`.
#[derive(Deserialize)]
pub struct BookTick<'a> {
    #[serde(default)]
    pub bids: Option<Levels>,
    #[serde(default)]
    pub asks: Option<Levels>,
    /// MBP increments and images.
    #[serde(rename = "seqNum", default)]
    pub seq_num: Option<u64>,
    #[serde(rename = "prevSeqNum", default)]
    pub prev_seq_num: Option<u64>,
    /// Swap `high_freq`: +1 per push on one connection. On `depth.step0`
    /// it is the Unix second, not a sequence.
    #[serde(default)]
    pub version: Option<u64>,
    /// Swap `high_freq`: `snapshot` or `update`.
    #[serde(borrow, default)]
    pub event: Option<Cow<'a, str>>,
    #[serde(default)]
    pub ts: Option<i64>,
}

/// `market.$symbol.trade.detail` tick.
#[derive(Deserialize)]
pub struct TradeTick<'a> {
    #[serde(borrow, default)]
    pub data: Vec<TradeRow<'a>>,
}

#[derive(Deserialize)]
pub struct TradeRow<'a> {
    #[serde(borrow)]
    pub price: &'a RawValue,
    /// Spot: base quantity. Swaps: contracts.
    #[serde(borrow)]
    pub amount: &'a RawValue,
    /// Swaps: the same quantity in the coin.
    #[serde(borrow, default)]
    pub quantity: Option<&'a RawValue>,
    /// The taker's side.
    #[serde(borrow)]
    pub direction: Cow<'a, str>,
    #[serde(default)]
    pub ts: Option<i64>,
}

/// One row of `public.$code.liquidation_orders`.
#[derive(Deserialize)]
pub struct LiquidationRow<'a> {
    #[serde(borrow)]
    pub contract_code: Cow<'a, str>,
    /// The forced order's side: `sell` closes a long.
    #[serde(borrow)]
    pub direction: Cow<'a, str>,
    /// Contracts.
    #[serde(borrow, default)]
    pub volume: Option<&'a RawValue>,
    /// Coin.
    #[serde(borrow, default)]
    pub amount: Option<&'a RawValue>,
    /// Bankruptcy price.
    #[serde(borrow)]
    pub price: &'a RawValue,
    #[serde(borrow, default)]
    pub created_at: Option<&'a RawValue>,
}

/// One row of `public.$code.funding_rate` (notification) or the `data` of
/// REST `swap_funding_rate`.
#[derive(Deserialize)]
pub struct FundingRow<'a> {
    #[serde(borrow)]
    pub contract_code: Cow<'a, str>,
    #[serde(borrow, default)]
    pub funding_rate: Option<&'a RawValue>,
    /// REST: the coming settlement. Notification: when the rate was
    /// computed (the settlement is `settlement_time`).
    #[serde(borrow, default)]
    pub funding_time: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub settlement_time: Option<&'a RawValue>,
    /// The venue's estimate of the next period's rate (often `null`).
    #[serde(borrow, default)]
    pub estimated_rate: Option<&'a RawValue>,
    /// REST: the settlement after `funding_time` (deprecated by HTX, often
    /// `null` now); with `funding_time` it gives the funding interval.
    #[serde(borrow, default)]
    pub next_funding_time: Option<&'a RawValue>,
}

/// A REST body: `{"status":"ok","data":...,"ts":...}` or an error.
#[derive(Deserialize)]
pub struct RestBody<'a> {
    #[serde(borrow, default)]
    pub status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub tick: Option<&'a RawValue>,
    #[serde(default)]
    pub ts: Option<i64>,
    #[serde(rename = "err-code", borrow, default)]
    pub err_code: Option<&'a RawValue>,
    #[serde(rename = "err-msg", borrow, default)]
    pub err_msg: Option<Cow<'a, str>>,
}

impl RestBody<'_> {
    /// `Some(why)` unless the venue said `ok`.
    pub fn refused(&self) -> Option<String> {
        (self.status.as_deref() != Some("ok")).then(|| {
            format!(
                "{} {}",
                self.err_code.map(raw_text).unwrap_or("(no code)"),
                self.err_msg.as_deref().unwrap_or("(no message)")
            )
        })
    }
}

/// `GET /v1/common/symbols` row (spot).
#[derive(Deserialize)]
pub struct SpotSymbol<'a> {
    #[serde(rename = "base-currency", borrow)]
    pub base: Cow<'a, str>,
    #[serde(rename = "quote-currency", borrow)]
    pub quote: Cow<'a, str>,
    #[serde(borrow)]
    pub symbol: Cow<'a, str>,
    #[serde(borrow, default)]
    pub state: Option<Cow<'a, str>>,
    #[serde(rename = "price-precision", default)]
    pub price_precision: Option<u32>,
    #[serde(rename = "amount-precision", default)]
    pub amount_precision: Option<u32>,
}

/// `GET /{linear-swap,swap}-api/v1/swap_contract_info` row.
#[derive(Deserialize)]
pub struct ContractRow<'a> {
    #[serde(borrow)]
    pub contract_code: Cow<'a, str>,
    /// USDT-M: base per contract (despite the USDT label). Coin-M: USD per
    /// contract.
    #[serde(borrow, default)]
    pub contract_size: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub price_tick: Option<&'a RawValue>,
    /// 1 = listed and trading.
    #[serde(default)]
    pub contract_status: Option<i64>,
}

/// `GET /{linear-swap,swap}-api/v1/swap_open_interest` row.
#[derive(Deserialize)]
pub struct OpenInterestRow<'a> {
    #[serde(borrow)]
    pub contract_code: Cow<'a, str>,
    /// Contracts.
    #[serde(borrow, default)]
    pub volume: Option<&'a RawValue>,
    /// Coin.
    #[serde(borrow, default)]
    pub amount: Option<&'a RawValue>,
}

/// `10^-precision` as a decimal (spot tick and lot sizes).
pub fn step(precision: Option<u32>) -> Option<Decimal> {
    let p = precision?;
    (p <= 28).then(|| Decimal::new(1, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn levels_read_numbers_in_any_notation() {
        let t: BookTick = serde_json::from_str(
            r#"{"bids":[[9.121E-7,92730.24],[710.0,188358.0]],"asks":[["1.5","2"]],"version":1}"#,
        )
        .unwrap();
        let bids = t.bids.unwrap().0;
        assert_eq!(bids[0], Level::new(dec!(0.0000009121), dec!(92730.24)));
        assert_eq!(bids[1].size.normalize(), dec!(188358));
        assert_eq!(t.asks.unwrap().0[0], Level::new(dec!(1.5), dec!(2)));
        assert!(serde_json::from_str::<BookTick>(r#"{"bids":[[1]]}"#).is_err());
        assert!(serde_json::from_str::<BookTick>(r#"{"bids":[["x",1]]}"#).is_err());
    }

    #[test]
    fn gunzip_round_trips_and_refuses_junk() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(br#"{"ping":1}"#).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(gunzip(&gz).unwrap(), r#"{"ping":1}"#);
        assert!(gunzip(b"not gzip").is_err());
    }

    #[test]
    fn errors_of_both_socket_kinds() {
        let market: Envelope = serde_json::from_str(
            r#"{"status":"error","ts":1,"id":"x","err-code":"bad-request","err-msg":"invalid topic"}"#,
        )
        .unwrap();
        assert!(market.error().unwrap().contains("invalid topic"));
        let ack: Envelope =
            serde_json::from_str(r#"{"op":"sub","cid":"1","topic":"t","ts":1,"err-code":0}"#)
                .unwrap();
        assert_eq!(ack.error(), None);
        assert_eq!(step(Some(4)), Some(dec!(0.0001)));
    }
}
