//! What travels on the bus: subjects, the JSON message of each kind, and the
//! book snapshot kept in the key-value bucket. Pure functions of bytes, so
//! a malformed message is a counted decode error, never a panic.
//!
//! Prices and sizes are decimal strings (`rust_decimal` with
//! `serde-with-str`): exact, the same text the headless lines print.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::engine::snapshot::ConnState;
use crate::model::{
    BookState, BookUpdateKind, FundingUpdate, Incident, Instrument, Level, LiquidatedSide, Micros,
    OutOfSyncReason, TakerSide, Venue,
};

/// Every subject starts so; `v1` is the version of the messages below.
pub const PREFIX: &str = "depthwatch.v1";
/// The instrument token of venue-wide subjects (connection health).
pub const VENUE_WIDE: &str = "_";

/// The kind of a subject: its last token.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Book snapshots and deltas (sequenced per book).
    Book,
    /// Book state changes without data (sequenced with the book).
    State,
    Trade,
    Liquidation,
    /// Funding and open interest.
    Funding,
    /// Counted protocol incidents (gaps, checksum results, parse errors).
    Incident,
    /// Venue-wide: connection states and liveness.
    Conn,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Book,
        Kind::State,
        Kind::Trade,
        Kind::Liquidation,
        Kind::Funding,
        Kind::Incident,
        Kind::Conn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Book => "book",
            Kind::State => "state",
            Kind::Trade => "trade",
            Kind::Liquidation => "liquidation",
            Kind::Funding => "funding",
            Kind::Incident => "incident",
            Kind::Conn => "conn",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// `depthwatch.v1.<venue>.<instrument>.<kind>`, with `_` for venue-wide kinds.
pub fn subject(venue: Venue, instrument: Option<&Instrument>, kind: Kind) -> String {
    match instrument {
        Some(i) => format!("{PREFIX}.{venue}.{i}.{}", kind.as_str()),
        None => format!("{PREFIX}.{venue}.{VENUE_WIDE}.{}", kind.as_str()),
    }
}

/// The subscription that sees every message of this version.
pub fn subscription() -> String {
    format!("{PREFIX}.>")
}

/// The venue, instrument (none for venue-wide) and kind of a subject.
pub fn parse_subject(s: &str) -> Option<(Venue, Option<Instrument>, Kind)> {
    let rest = s.strip_prefix(PREFIX)?.strip_prefix('.')?;
    let mut parts = rest.split('.');
    let (venue, instrument, kind) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let venue: Venue = venue.parse().ok()?;
    let instrument = match instrument {
        VENUE_WIDE => None,
        i => Some(i.parse().ok()?),
    };
    Some((venue, instrument, Kind::parse(kind)?))
}

/// The key-value key of one collector's snapshot of one book:
/// `<venue>.<instrument>.<collector>`.
pub fn kv_key(venue: Venue, instrument: &Instrument, collector: &str) -> String {
    format!("{venue}.{instrument}.{collector}")
}

pub fn parse_kv_key(key: &str) -> Option<(Venue, Instrument, &str)> {
    let mut parts = key.splitn(3, '.');
    let venue = parts.next()?.parse().ok()?;
    let instrument = parts.next()?.parse().ok()?;
    let collector = parts.next()?;
    valid_id(collector).then_some((venue, instrument, collector))
}

/// A collector id fits in a subject token and a key: ASCII letters, digits,
/// `-` and `_`, 1 to 64 of them.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Who sent a message: the collector's id and the run (its start time in
/// Unix microseconds). Per-book sequences restart with every run.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Origin {
    pub collector: String,
    pub epoch: u64,
}

/// One bus message: origin, the venue connection it came from, the
/// collector's receive time, and what it says.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Message {
    #[serde(flatten)]
    pub origin: Origin,
    /// The venue connection (URL, or the engine's `rest` / `rest poll`).
    pub conn: String,
    /// Collector receive time (Unix µs): the bus latency is measured from it.
    pub received: Micros,
    #[serde(flatten)]
    pub body: Body,
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    /// A book snapshot or delta; `seq` counts every book and state message of
    /// this book from this collector run, from 1, without holes.
    Book {
        seq: u64,
        kind: WireBookKind,
        bids: Vec<WireLevel>,
        asks: Vec<WireLevel>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exchange_ts: Option<Micros>,
        /// Size of the venue frame it came from (0 for the rest of a frame).
        #[serde(default)]
        bytes: usize,
    },
    /// A book state change (gap, checksum failure, venue reset), sequenced
    /// with the book's data.
    State { seq: u64, state: WireBookState },
    Trade {
        price: Decimal,
        size: Decimal,
        side: WireTaker,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exchange_ts: Option<Micros>,
    },
    Liquidation {
        price: Decimal,
        size: Decimal,
        /// The positions closed: `long` or `short`.
        side: WireLiquidated,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exchange_ts: Option<Micros>,
    },
    Funding {
        #[serde(flatten)]
        update: WireFunding,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exchange_ts: Option<Micros>,
    },
    Incident {
        incident: WireIncident,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A venue connection changed state.
    Conn { state: WireConnState },
    /// The connection spoke (frames without market data: heartbeats, acks)
    /// since the last message about it; `bytes` of them.
    Alive { bytes: usize },
}

impl Body {
    /// The per-book sequence number, for the kinds that carry one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Body::Book { seq, .. } | Body::State { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    /// The subject kind this body travels on.
    pub fn kind(&self) -> Kind {
        match self {
            Body::Book { .. } => Kind::Book,
            Body::State { .. } => Kind::State,
            Body::Trade { .. } => Kind::Trade,
            Body::Liquidation { .. } => Kind::Liquidation,
            Body::Funding { .. } => Kind::Funding,
            Body::Incident { .. } => Kind::Incident,
            Body::Conn { .. } | Body::Alive { .. } => Kind::Conn,
        }
    }
}

/// `["price","size"]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct WireLevel(pub Decimal, pub Decimal);

impl From<Level> for WireLevel {
    fn from(l: Level) -> Self {
        WireLevel(l.price, l.size)
    }
}

impl From<WireLevel> for Level {
    fn from(l: WireLevel) -> Self {
        Level::new(l.0, l.1)
    }
}

pub fn wire_levels(levels: impl IntoIterator<Item = Level>) -> Vec<WireLevel> {
    levels.into_iter().map(WireLevel::from).collect()
}

pub fn model_levels(levels: &[WireLevel]) -> Vec<Level> {
    levels.iter().copied().map(Level::from).collect()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireBookKind {
    Snapshot,
    Delta,
    Polled,
}

impl From<BookUpdateKind> for WireBookKind {
    fn from(k: BookUpdateKind) -> Self {
        match k {
            BookUpdateKind::Snapshot => WireBookKind::Snapshot,
            BookUpdateKind::Delta => WireBookKind::Delta,
            BookUpdateKind::Polled => WireBookKind::Polled,
        }
    }
}

impl From<WireBookKind> for BookUpdateKind {
    fn from(k: WireBookKind) -> Self {
        match k {
            WireBookKind::Snapshot => BookUpdateKind::Snapshot,
            WireBookKind::Delta => BookUpdateKind::Delta,
            WireBookKind::Polled => BookUpdateKind::Polled,
        }
    }
}

/// A book state: `{"state":"live"}`, `{"state":"out_of_sync","reason":
/// "gap","expected":5,"got":7}`, ...
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WireBookState {
    Syncing,
    Live,
    Polled,
    OutOfSync {
        #[serde(flatten)]
        reason: WireReason,
    },
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum WireReason {
    Gap { expected: u64, got: u64 },
    ChecksumMismatch { expected: u32, computed: u32 },
    Disconnected,
    Stale,
    Crossed,
    Venue { why: String },
}

impl From<&BookState> for WireBookState {
    fn from(s: &BookState) -> Self {
        match s {
            BookState::Syncing => WireBookState::Syncing,
            BookState::Live => WireBookState::Live,
            BookState::Polled => WireBookState::Polled,
            BookState::OutOfSync(r) => WireBookState::OutOfSync {
                reason: match r {
                    OutOfSyncReason::Gap { expected, got } => WireReason::Gap {
                        expected: *expected,
                        got: *got,
                    },
                    OutOfSyncReason::ChecksumMismatch { expected, computed } => {
                        WireReason::ChecksumMismatch {
                            expected: *expected,
                            computed: *computed,
                        }
                    }
                    OutOfSyncReason::Disconnected => WireReason::Disconnected,
                    OutOfSyncReason::Stale => WireReason::Stale,
                    OutOfSyncReason::Crossed => WireReason::Crossed,
                    OutOfSyncReason::Venue(why) => WireReason::Venue { why: why.clone() },
                },
            },
        }
    }
}

impl From<WireBookState> for BookState {
    fn from(s: WireBookState) -> Self {
        match s {
            WireBookState::Syncing => BookState::Syncing,
            WireBookState::Live => BookState::Live,
            WireBookState::Polled => BookState::Polled,
            WireBookState::OutOfSync { reason } => BookState::OutOfSync(match reason {
                WireReason::Gap { expected, got } => OutOfSyncReason::Gap { expected, got },
                WireReason::ChecksumMismatch { expected, computed } => {
                    OutOfSyncReason::ChecksumMismatch { expected, computed }
                }
                WireReason::Disconnected => OutOfSyncReason::Disconnected,
                WireReason::Stale => OutOfSyncReason::Stale,
                WireReason::Crossed => OutOfSyncReason::Crossed,
                WireReason::Venue { why } => OutOfSyncReason::Venue(why),
            }),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireTaker {
    Buy,
    Sell,
}

impl From<TakerSide> for WireTaker {
    fn from(s: TakerSide) -> Self {
        match s {
            TakerSide::Buy => WireTaker::Buy,
            TakerSide::Sell => WireTaker::Sell,
        }
    }
}

impl From<WireTaker> for TakerSide {
    fn from(s: WireTaker) -> Self {
        match s {
            WireTaker::Buy => TakerSide::Buy,
            WireTaker::Sell => TakerSide::Sell,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireLiquidated {
    Long,
    Short,
}

impl From<LiquidatedSide> for WireLiquidated {
    fn from(s: LiquidatedSide) -> Self {
        match s {
            LiquidatedSide::Long => WireLiquidated::Long,
            LiquidatedSide::Short => WireLiquidated::Short,
        }
    }
}

impl From<WireLiquidated> for LiquidatedSide {
    fn from(s: WireLiquidated) -> Self {
        match s {
            WireLiquidated::Long => LiquidatedSide::Long,
            WireLiquidated::Short => LiquidatedSide::Short,
        }
    }
}

/// [`FundingUpdate`] field for field; absent fields were not in the venue's
/// message.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
pub struct WireFunding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funding_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_funding: Option<Micros>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Micros>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_interest: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_interest_usd: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_price: Option<Decimal>,
}

impl From<&FundingUpdate> for WireFunding {
    fn from(u: &FundingUpdate) -> Self {
        WireFunding {
            funding_rate: u.funding_rate,
            predicted_rate: u.predicted_rate,
            next_funding: u.next_funding,
            interval: u.interval,
            open_interest: u.open_interest,
            open_interest_usd: u.open_interest_usd,
            mark_price: u.mark_price,
            index_price: u.index_price,
        }
    }
}

impl From<WireFunding> for FundingUpdate {
    fn from(u: WireFunding) -> Self {
        FundingUpdate {
            funding_rate: u.funding_rate,
            predicted_rate: u.predicted_rate,
            next_funding: u.next_funding,
            interval: u.interval,
            open_interest: u.open_interest,
            open_interest_usd: u.open_interest_usd,
            mark_price: u.mark_price,
            index_price: u.index_price,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireIncident {
    Gap,
    Resync,
    ChecksumOk,
    ChecksumFailed,
    ParseError,
    UnknownMessage,
}

impl From<Incident> for WireIncident {
    fn from(i: Incident) -> Self {
        match i {
            Incident::Gap => WireIncident::Gap,
            Incident::Resync => WireIncident::Resync,
            Incident::ChecksumOk => WireIncident::ChecksumOk,
            Incident::ChecksumFailed => WireIncident::ChecksumFailed,
            Incident::ParseError => WireIncident::ParseError,
            Incident::UnknownMessage => WireIncident::UnknownMessage,
        }
    }
}

impl From<WireIncident> for Incident {
    fn from(i: WireIncident) -> Self {
        match i {
            WireIncident::Gap => Incident::Gap,
            WireIncident::Resync => Incident::Resync,
            WireIncident::ChecksumOk => Incident::ChecksumOk,
            WireIncident::ChecksumFailed => Incident::ChecksumFailed,
            WireIncident::ParseError => Incident::ParseError,
            WireIncident::UnknownMessage => Incident::UnknownMessage,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "conn_state", rename_all = "snake_case")]
pub enum WireConnState {
    Connecting,
    Connected,
    Backoff { retry_in_ms: u64, reason: String },
    Disconnected { reason: String },
    Replay,
}

impl From<&ConnState> for WireConnState {
    fn from(s: &ConnState) -> Self {
        match s {
            ConnState::Connecting => WireConnState::Connecting,
            ConnState::Connected => WireConnState::Connected,
            ConnState::Backoff {
                retry_in_ms,
                reason,
            } => WireConnState::Backoff {
                retry_in_ms: *retry_in_ms,
                reason: reason.clone(),
            },
            ConnState::Disconnected { reason } => WireConnState::Disconnected {
                reason: reason.clone(),
            },
            ConnState::Replay => WireConnState::Replay,
        }
    }
}

impl From<WireConnState> for ConnState {
    fn from(s: WireConnState) -> Self {
        match s {
            WireConnState::Connecting => ConnState::Connecting,
            WireConnState::Connected => ConnState::Connected,
            WireConnState::Backoff {
                retry_in_ms,
                reason,
            } => ConnState::Backoff {
                retry_in_ms,
                reason,
            },
            WireConnState::Disconnected { reason } => ConnState::Disconnected { reason },
            WireConnState::Replay => ConnState::Replay,
        }
    }
}

/// The latest state of one book from one collector run, as the key-value
/// bucket keeps it: whole sides, the state, and the sequence number of the
/// last book message it reflects.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct BookSnapshot {
    #[serde(flatten)]
    pub origin: Origin,
    pub conn: String,
    pub seq: u64,
    #[serde(flatten)]
    pub state: WireBookState,
    pub bids: Vec<WireLevel>,
    pub asks: Vec<WireLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_ts: Option<Micros>,
    /// Collector time of the snapshot (Unix µs).
    pub taken: Micros,
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain types cannot fail (no maps with non-string
    // keys, no custom serializers that error).
    serde_json::to_vec(value).unwrap_or_default()
}

pub fn decode_message(bytes: &[u8]) -> Result<Message, serde_json::Error> {
    serde_json::from_slice(bytes)
}

pub fn decode_snapshot(bytes: &[u8]) -> Result<BookSnapshot, serde_json::Error> {
    serde_json::from_slice(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn origin() -> Origin {
        Origin {
            collector: "eu-1".into(),
            epoch: 7,
        }
    }

    #[test]
    fn subjects_round_trip() {
        let v = crate::venue!("binance");
        let i: Instrument = "BTC-USDT-PERP".parse().unwrap();
        let s = subject(v, Some(&i), Kind::Book);
        assert_eq!(s, "depthwatch.v1.binance.BTC-USDT-PERP.book");
        assert_eq!(parse_subject(&s), Some((v, Some(i), Kind::Book)));
        let s = subject(v, None, Kind::Conn);
        assert_eq!(s, "depthwatch.v1.binance._.conn");
        assert_eq!(parse_subject(&s), Some((v, None, Kind::Conn)));
        assert_eq!(parse_subject("depthwatch.v1.binance.BTC-USDT.nope"), None);
        assert_eq!(parse_subject("depthwatch.v1.nowhere.BTC-USDT.book"), None);
        assert_eq!(parse_subject("depthwatch.v2.binance.BTC-USDT.book"), None);
        assert_eq!(parse_subject("depthwatch.v1.binance.BTC-USDT.book.x"), None);
        let k = kv_key(v, &i, "eu-1");
        assert_eq!(k, "binance.BTC-USDT-PERP.eu-1");
        assert_eq!(parse_kv_key(&k), Some((v, i, "eu-1")));
        assert_eq!(parse_kv_key("binance.BTC-USDT.bad id"), None);
        assert!(valid_id("tokyo_2-a") && !valid_id("") && !valid_id("a.b"));
    }

    #[test]
    fn a_book_message_keeps_exact_decimals() {
        let m = Message {
            origin: origin(),
            conn: "wss://x".into(),
            received: 5,
            body: Body::Book {
                seq: 3,
                kind: WireBookKind::Delta,
                bids: vec![WireLevel(dec!(65000.10), dec!(0.00000001))],
                asks: vec![],
                exchange_ts: Some(4),
                bytes: 120,
            },
        };
        let bytes = encode(&m);
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(
            text.contains(r#""bids":[["65000.10","0.00000001"]]"#),
            "{text}"
        );
        assert!(text.contains(r#""type":"book""#) && text.contains(r#""collector":"eu-1""#));
        assert_eq!(decode_message(&bytes).unwrap(), m);
        assert_eq!(m.body.seq(), Some(3));
    }

    #[test]
    fn every_kind_round_trips() {
        let bodies = vec![
            Body::State {
                seq: 9,
                state: (&BookState::OutOfSync(OutOfSyncReason::Gap {
                    expected: 4,
                    got: 6,
                }))
                    .into(),
            },
            Body::Trade {
                price: dec!(1.5),
                size: dec!(2),
                side: WireTaker::Sell,
                exchange_ts: None,
            },
            Body::Liquidation {
                price: dec!(3),
                size: dec!(4),
                side: WireLiquidated::Short,
                exchange_ts: Some(1),
            },
            Body::Funding {
                update: WireFunding {
                    funding_rate: Some(dec!(0.0001)),
                    ..Default::default()
                },
                exchange_ts: None,
            },
            Body::Incident {
                incident: WireIncident::ChecksumFailed,
                detail: Some("crc".into()),
            },
            Body::Conn {
                state: (&ConnState::Backoff {
                    retry_in_ms: 500,
                    reason: "HTTP 429".into(),
                })
                    .into(),
            },
            Body::Alive { bytes: 12 },
        ];
        for body in bodies {
            let m = Message {
                origin: origin(),
                conn: "c".into(),
                received: 1,
                body,
            };
            assert_eq!(decode_message(&encode(&m)).unwrap(), m);
        }
        let s = BookSnapshot {
            origin: origin(),
            conn: "c".into(),
            seq: 12,
            state: WireBookState::Live,
            bids: vec![WireLevel(dec!(1), dec!(2))],
            asks: vec![WireLevel(dec!(3), dec!(4))],
            exchange_ts: None,
            taken: 8,
        };
        assert_eq!(decode_snapshot(&encode(&s)).unwrap(), s);
    }

    #[test]
    fn states_convert_both_ways() {
        for s in [
            BookState::Syncing,
            BookState::Live,
            BookState::Polled,
            BookState::OutOfSync(OutOfSyncReason::ChecksumMismatch {
                expected: 1,
                computed: 2,
            }),
            BookState::OutOfSync(OutOfSyncReason::Venue("reset".into())),
            BookState::OutOfSync(OutOfSyncReason::Crossed),
        ] {
            assert_eq!(BookState::from(WireBookState::from(&s)), s);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"{}",
            b"[1,2]",
            br#"{"collector":"a","epoch":1,"conn":"c","received":1,"type":"book","seq":1,"kind":"delta","bids":[["x","1"]],"asks":[]}"#,
            br#"{"collector":"a","epoch":-1,"conn":"c","received":1,"type":"alive","bytes":1}"#,
        ] {
            assert!(decode_message(bad).is_err());
        }
    }
}
