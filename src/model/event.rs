//! Normalized market events: what every venue adapter turns its frames into,
//! and the only input the engine understands besides connection health.

use rust_decimal::Decimal;

use super::{Instrument, Venue};

/// Unix time in microseconds.
pub type Micros = i64;

/// Current wall-clock time in Unix microseconds.
pub fn now_micros() -> Micros {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as Micros)
        .unwrap_or(0)
}

/// A price level: price and size (in the base asset), both exact decimals.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Level {
    pub price: Decimal,
    pub size: Decimal,
}

impl Level {
    pub fn new(price: Decimal, size: Decimal) -> Self {
        Level { price, size }
    }
}

/// The side of an order book.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BookSide {
    Bid,
    Ask,
}

/// The aggressor (taker) side of a trade.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TakerSide {
    Buy,
    Sell,
}

/// Which positions a liquidation closed. A long is liquidated by a forced
/// sell; a short by a forced buy.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LiquidatedSide {
    Long,
    Short,
}

/// Where a book message stands in the venue's own sequence, kept for health
/// and debugging. The adapter enforces the venue's continuity rule; the engine
/// does not re-check it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SeqInfo {
    /// First update id covered by the message, when the venue sends one.
    pub first: Option<u64>,
    /// Last (or only) update id of the message.
    pub last: Option<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BookUpdateKind {
    /// Replace the whole book; the book becomes live.
    Snapshot,
    /// Apply absolute sizes per price; size 0 deletes the level.
    Delta,
    /// A whole book fetched by REST polling while the venue's stream cannot
    /// be reached: replaces the book, which is then `Polled`, not `Live`.
    Polled,
}

#[derive(Clone, PartialEq, Debug)]
pub struct BookUpdate {
    pub venue: Venue,
    pub instrument: Instrument,
    pub kind: BookUpdateKind,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub seq: SeqInfo,
    /// Exchange event time, when the message carries one.
    pub exchange_ts: Option<Micros>,
    pub received: Micros,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Trade {
    pub venue: Venue,
    pub instrument: Instrument,
    pub price: Decimal,
    /// Size in the base asset (contracts already converted).
    pub size: Decimal,
    pub side: TakerSide,
    pub exchange_ts: Option<Micros>,
    pub received: Micros,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Liquidation {
    pub venue: Venue,
    pub instrument: Instrument,
    pub side: LiquidatedSide,
    /// Fill price when known, else the order or bankruptcy price.
    pub price: Decimal,
    /// Size in the base asset (contracts already converted).
    pub size: Decimal,
    pub exchange_ts: Option<Micros>,
    pub received: Micros,
}

/// Derivatives ticker data; each field is present only when the message
/// carried it (venues send partial updates).
#[derive(Clone, PartialEq, Debug, Default)]
pub struct FundingUpdate {
    /// The rate of the current funding period (a fraction: 0.0001 = 0.01%).
    pub funding_rate: Option<Decimal>,
    /// The venue's prediction of the next period's rate, where it gives one.
    pub predicted_rate: Option<Decimal>,
    pub next_funding: Option<Micros>,
    /// Time between two fundings (8 h on most venues, 1 h on some).
    pub interval: Option<Micros>,
    /// Open interest in the base asset.
    pub open_interest: Option<Decimal>,
    /// Open interest valued in USD, when the venue says so itself.
    pub open_interest_usd: Option<Decimal>,
    pub mark_price: Option<Decimal>,
    pub index_price: Option<Decimal>,
}

/// What a history backfill (REST, at start) is a series of.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HistoryKind {
    /// Open interest in the base asset.
    OpenInterest,
    /// Funding rates as settled, one per period.
    FundingRate,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Funding {
    pub venue: Venue,
    pub instrument: Instrument,
    pub update: FundingUpdate,
    pub exchange_ts: Option<Micros>,
    pub received: Micros,
}

/// Why a book cannot be trusted right now.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum OutOfSyncReason {
    /// A sequence break: the message did not follow the last one applied.
    Gap {
        expected: u64,
        got: u64,
    },
    ChecksumMismatch {
        expected: u32,
        computed: u32,
    },
    Disconnected,
    /// The feed went quiet past its idle timeout.
    Stale,
    /// The book crossed (best bid ≥ best ask) after an update.
    Crossed,
    /// The venue said so (restart, reset, error message).
    Venue(String),
}

impl std::fmt::Display for OutOfSyncReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutOfSyncReason::Gap { expected, got } => {
                write!(f, "sequence gap (expected {expected}, got {got})")
            }
            OutOfSyncReason::ChecksumMismatch { expected, computed } => {
                write!(f, "checksum mismatch (venue {expected}, ours {computed})")
            }
            OutOfSyncReason::Disconnected => f.write_str("disconnected"),
            OutOfSyncReason::Stale => f.write_str("stale: no updates within the idle timeout"),
            OutOfSyncReason::Crossed => f.write_str("crossed book"),
            OutOfSyncReason::Venue(why) => f.write_str(why),
        }
    }
}

/// The trust state of one book.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum BookState {
    /// Waiting for a snapshot (first subscription or rebuild in progress).
    Syncing,
    /// Built from a snapshot and every update since; may be used.
    Live,
    /// A REST snapshot polled while the stream is unreachable: usable while
    /// fresher than the stale limit, and marked as such wherever it is used.
    Polled,
    /// Known wrong or incomplete until rebuilt.
    OutOfSync(OutOfSyncReason),
}

impl BookState {
    pub fn is_live(&self) -> bool {
        matches!(self, BookState::Live)
    }

    /// Live, or polled: its levels may be used (while fresh).
    pub fn is_usable(&self) -> bool {
        matches!(self, BookState::Live | BookState::Polled)
    }

    pub fn label(&self) -> &'static str {
        match self {
            BookState::Syncing => "syncing",
            BookState::Live => "live",
            BookState::Polled => "polled",
            BookState::OutOfSync(OutOfSyncReason::Stale) => "stale",
            BookState::OutOfSync(_) => "out_of_sync",
        }
    }
}

/// Counted protocol incidents, reported by adapters for the health view.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Incident {
    /// A sequence break was detected.
    Gap,
    /// A book rebuild was started (new snapshot requested or resubscribed).
    Resync,
    ChecksumOk,
    ChecksumFailed,
    /// A frame that could not be parsed as the venue's protocol.
    ParseError,
    /// A well-formed message of a kind the adapter does not handle.
    UnknownMessage,
}

/// One normalized event.
#[derive(Clone, PartialEq, Debug)]
pub enum MarketEvent {
    Book(BookUpdate),
    /// The adapter changed a book's state without new data (gap, checksum
    /// failure, disconnect): the engine marks the book and drops it from CBBO.
    BookState {
        venue: Venue,
        instrument: Instrument,
        state: BookState,
    },
    Trade(Trade),
    Liquidation(Liquidation),
    Funding(Funding),
    Incident {
        venue: Venue,
        instrument: Option<Instrument>,
        incident: Incident,
        detail: Option<String>,
    },
    /// A history backfilled over REST at start (open interest, settled
    /// funding rates), oldest first, so changes and z-scores mean something
    /// in the first minute.
    History {
        venue: Venue,
        instrument: Instrument,
        kind: HistoryKind,
        /// (time, value) pairs.
        points: Vec<(Micros, Decimal)>,
    },
    /// Klines backfilled over REST at start, oldest first, so charts are
    /// full at once. The last may be the interval still in progress.
    Klines {
        venue: Venue,
        instrument: Instrument,
        timeframe: super::Timeframe,
        /// How this venue opens a candle (the builder follows it live too).
        open_rule: super::CandleOpen,
        klines: Vec<super::Kline>,
    },
    /// The venue's instrument list (from REST), for symbol completion and
    /// contract sizes.
    Instruments {
        venue: Venue,
        list: Vec<InstrumentInfo>,
    },
}

/// One listed instrument of a venue.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InstrumentInfo {
    pub instrument: Instrument,
    /// The venue's own symbol (`BTCUSDT`, `BTC-USDT-SWAP`, `XBT/USD`).
    pub native: String,
    pub tick_size: Option<Decimal>,
    pub lot_size: Option<Decimal>,
    /// Base quantity per contract, for venues that size linear contracts
    /// in contracts.
    pub contract_size: Option<Decimal>,
    /// Quote (USD) value per contract of an inverse (coin-margined)
    /// perpetual: base = contracts × this / price.
    pub contract_usd: Option<Decimal>,
}

impl InstrumentInfo {
    /// A row of a venue's list: linear sizes only (`contract_usd` none).
    pub fn linear(
        instrument: Instrument,
        native: String,
        tick_size: Option<Decimal>,
        lot_size: Option<Decimal>,
        contract_size: Option<Decimal>,
    ) -> InstrumentInfo {
        InstrumentInfo {
            instrument,
            native,
            tick_size,
            lot_size,
            contract_size,
            contract_usd: None,
        }
    }
}
