//! The immutable view the engine publishes for the UI and headless output.
//!
//! This is the contract between the engine and everything that shows data:
//! panes render from it alone. Add fields freely; renaming breaks panes.

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::model::{
    BookState, FundingUpdate, Instrument, InstrumentInfo, Level, LiquidatedSide, Micros, TakerSide,
    Venue,
};

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Increases with every publish; the UI redraws only when it changes.
    pub version: u64,
    /// Engine clock at publish (receive-time based in replay, wall clock live).
    pub now: Micros,
    /// One entry per watched instrument (or quote group), in display order.
    pub instruments: Vec<InstrumentView>,
    /// Open arbitrage opportunities passing the thresholds, best net profit first.
    pub arbs: Vec<ArbOpportunity>,
    /// Recently closed opportunities, newest first.
    pub arb_history: Vec<ClosedArb>,
    /// Per ordered venue pair and instrument statistics.
    pub arb_stats: Vec<ArbPairStats>,
    pub liquidations: LiquidationView,
    pub trades: TradeView,
    /// One row per venue connection.
    pub health: Vec<ConnHealth>,
    /// The latest instrument list each venue sent (`MarketEvent::Instruments`),
    /// for symbol completion. A list is replaced, never edited, so a changed
    /// `Arc` means a new list.
    pub instrument_lists: BTreeMap<Venue, Arc<Vec<InstrumentInfo>>>,
    /// Funding, open interest, basis, spikes, carry (the Derivatives pane).
    pub derivatives: super::derivs::DerivativesView,
    /// The sinks (alerts, store, bus, metrics) and what they dropped.
    pub sinks: Vec<super::notices::SinkHealth>,
    /// Engine input queue depth when last sampled (also on each health row).
    pub queue_depth: usize,
    /// The liquidity heatmap ring per view key, shared with the engine (a
    /// snapshot copies no columns; see [`super::heatmap`]).
    pub heatmaps: BTreeMap<Instrument, Arc<super::heatmap::HeatmapView>>,
    /// Candles per venue and aggregated (the Chart pane, `candle` lines).
    pub candles: super::candles::CandlesView,
}

/// The key under which venues are compared: an instrument, or a quote group
/// (e.g. BTC against USD, USDT and USDC) when the config declares one.
#[derive(Clone, Debug)]
pub struct InstrumentView {
    /// Display instrument; for a quote group its quote is the group's first.
    pub instrument: Instrument,
    /// Label shown to users, e.g. `BTC-USD` or `BTC-USD≈USDT≈USDC`.
    pub label: String,
    /// True when venues with different quote currencies are mixed here.
    pub mixed_quotes: bool,
    pub cbbo: Cbbo,
    /// Every venue book under this key, live or not.
    pub venues: Vec<VenueBook>,
    /// Levels merged across live venues by price, best first.
    pub aggregated: AggregatedBook,
    /// Recent CBBO mid prices, oldest first (display only).
    pub mid_history: Vec<f64>,
    /// Best current net spread (bps) over all venue pairs, even if unprofitable.
    pub best_net_bps: Option<Decimal>,
    /// USD notional liquidated in the last 5 minutes.
    pub liquidations_5m_usd: f64,
    /// Derivatives data per venue (perpetuals only).
    pub funding: Vec<(Venue, FundingUpdate)>,
}

#[derive(Clone, Debug, Default)]
pub struct Cbbo {
    pub bid: Option<CbboSide>,
    pub ask: Option<CbboSide>,
    /// Venues with a book here that are kept out of the CBBO, and why.
    pub excluded: Vec<(Venue, String)>,
}

impl Cbbo {
    /// `(ask − bid) / mid × 1e4`; `None` without both sides, with a zero
    /// mid, or when a step does not fit in a `Decimal` (absurd prices: no
    /// figure rather than a wrong one).
    pub fn spread_bps(&self) -> Option<Decimal> {
        let (b, a) = (self.bid.as_ref()?, self.ask.as_ref()?);
        let mid = crate::book::midpoint(a.price, b.price)?;
        if mid.is_zero() {
            return None;
        }
        a.price
            .checked_sub(b.price)?
            .checked_div(mid)?
            .checked_mul(Decimal::from(10_000))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CbboSide {
    pub price: Decimal,
    pub size: Decimal,
    pub venue: Venue,
    /// The venue's native instrument behind this side (differs in quote groups).
    pub instrument: Instrument,
    /// Time since this venue's book last changed, in microseconds.
    pub age: Micros,
}

#[derive(Clone, Debug)]
pub struct VenueBook {
    pub venue: Venue,
    pub instrument: Instrument,
    pub state: BookState,
    /// Best levels, best first (capped for display).
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    /// Total levels held per side.
    pub bid_levels: usize,
    pub ask_levels: usize,
    pub last_update: Option<Micros>,
}

#[derive(Clone, Debug, Default)]
pub struct AggregatedBook {
    pub bids: Vec<AggLevel>,
    pub asks: Vec<AggLevel>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AggLevel {
    pub price: Decimal,
    pub total: Decimal,
    /// Size per venue at this price, largest first.
    pub per_venue: Vec<(Venue, Decimal)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ArbOpportunity {
    /// The quote-group key it belongs to.
    pub key: Instrument,
    pub buy_venue: Venue,
    pub buy_instrument: Instrument,
    pub sell_venue: Venue,
    pub sell_instrument: Instrument,
    pub buy_fee_bps: Decimal,
    pub sell_fee_bps: Decimal,
    /// Executable base size (both books walked while it still pays).
    pub size: Decimal,
    pub buy_vwap: Decimal,
    pub sell_vwap: Decimal,
    pub gross_bps: Decimal,
    pub net_bps: Decimal,
    /// Net profit in quote currency after both taker fees.
    pub profit: Decimal,
    pub opened: Micros,
    pub peak_net_bps: Decimal,
    pub peak_profit: Decimal,
    /// The walk when the profit peaked: size and both VWAPs.
    pub peak_size: Decimal,
    pub peak_buy_vwap: Decimal,
    pub peak_sell_vwap: Decimal,
    /// One of the books is polled over REST (the venue's stream is
    /// unreachable): a coarser, older picture than a live book.
    pub polled: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClosedArb {
    pub key: Instrument,
    pub buy_venue: Venue,
    pub sell_venue: Venue,
    pub opened: Micros,
    pub closed: Micros,
    pub peak_net_bps: Decimal,
    pub peak_profit: Decimal,
    /// Why it ended: "spread closed", "bybit out of sync", ...
    pub reason: String,
    pub buy_instrument: Instrument,
    pub sell_instrument: Instrument,
    pub buy_fee_bps: Decimal,
    pub sell_fee_bps: Decimal,
    /// The walk at the peak profit.
    pub size: Decimal,
    pub buy_vwap: Decimal,
    pub sell_vwap: Decimal,
    /// A book was polled over REST at some point while it was open.
    pub polled: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ArbPairStats {
    pub key: Instrument,
    pub buy_venue: Venue,
    pub sell_venue: Venue,
    /// Opportunities opened so far.
    pub count: u64,
    /// Total time open, microseconds.
    pub total_open: Micros,
    pub longest: Micros,
    pub best_net_bps: Decimal,
    /// Current net spread, profitable or not (for the venue matrix).
    pub current_net_bps: Option<Decimal>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LiquidationRow {
    pub venue: Venue,
    pub instrument: Instrument,
    pub side: LiquidatedSide,
    pub price: Decimal,
    pub size: Decimal,
    /// 0 when the quote currency's USD rate was unknown (see `notional_known`).
    pub notional_usd: f64,
    /// False when no USD rate was known for the quote currency at the time.
    pub notional_known: bool,
    /// Local receive time (also the time windows use).
    pub time: Micros,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LongShort {
    pub long_usd: f64,
    pub short_usd: f64,
    pub count: u64,
}

#[derive(Clone, Debug, Default)]
pub struct LiquidationView {
    /// Newest first, at or above the configured minimum notional.
    pub tape: Vec<LiquidationRow>,
    pub min_notional_usd: f64,
    pub last_1m: LongShort,
    pub last_5m: LongShort,
    pub last_1h: LongShort,
    /// Largest liquidation in the last hour.
    pub largest_1h: Option<LiquidationRow>,
    /// Per-minute totals for the last 60 minutes, oldest first.
    pub per_minute: Vec<LongShort>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TradeRow {
    pub venue: Venue,
    pub instrument: Instrument,
    pub side: TakerSide,
    pub price: Decimal,
    pub size: Decimal,
    pub notional_usd: f64,
    pub time: Micros,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct FlowStats {
    pub buy_usd: f64,
    pub sell_usd: f64,
    pub trades: u64,
}

impl FlowStats {
    /// (buy − sell) / (buy + sell), in −1..=1; 0 with no volume.
    pub fn imbalance(&self) -> f64 {
        let total = self.buy_usd + self.sell_usd;
        if total > 0.0 {
            (self.buy_usd - self.sell_usd) / total
        } else {
            0.0
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct InstrumentFlow {
    pub key: Instrument,
    pub last_1m: FlowStats,
    pub last_5m: FlowStats,
    pub last_1h: FlowStats,
}

#[derive(Clone, Debug, Default)]
pub struct TradeView {
    /// Large trades, newest first.
    pub large: Vec<TradeRow>,
    pub threshold_usd: f64,
    pub flow: Vec<InstrumentFlow>,
}

/// Connection state as the health pane shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Connected,
    /// Waiting before the next attempt; `reason` is plain words
    /// ("DNS lookup failed", "HTTP 429: rate limited").
    Backoff {
        retry_in_ms: u64,
        reason: String,
    },
    Disconnected {
        reason: String,
    },
    /// Replay: fed from a capture file.
    Replay,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConnHealth {
    pub venue: Venue,
    /// The connection's URL (or capture connection name in replay).
    pub conn: String,
    pub state: ConnState,
    pub msgs_per_s: f64,
    pub bytes_per_s: f64,
    /// Time since the last message, microseconds.
    pub last_msg_age: Option<Micros>,
    /// Exchange-to-receive latency percentiles, milliseconds.
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    /// Set when latencies are negative or implausibly large: clock skew.
    pub clock_skew: Option<String>,
    /// Frames received (the count the rates are made of).
    pub messages: u64,
    /// Bytes of those frames.
    pub bytes: u64,
    /// Every exchange-to-receive latency sample (for Prometheus).
    pub latency_histogram: super::latency::LatencyHistogram,
    pub reconnects: u64,
    pub gaps: u64,
    pub resyncs: u64,
    pub checksum_ok: u64,
    pub checksum_failed: u64,
    pub parse_errors: u64,
    pub unknown_messages: u64,
    /// Engine input queue depth when last sampled.
    pub queue_depth: usize,
    /// Books carried by this connection that are not live.
    pub books_not_live: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn cbbo(bid: Decimal, ask: Decimal) -> Cbbo {
        let side = |price| CbboSide {
            price,
            size: Decimal::MAX,
            venue: crate::venue!("okx"),
            instrument: "BTC-USD".parse().unwrap(),
            age: i64::MAX,
        };
        Cbbo {
            bid: Some(side(bid)),
            ask: Some(side(ask)),
            excluded: Vec::new(),
        }
    }

    #[test]
    fn spread_bps_at_the_edges() {
        let (max, min) = (Decimal::MAX, Decimal::MIN);
        assert_eq!(cbbo(dec!(99), dec!(101)).spread_bps(), Some(dec!(200)));
        assert_eq!(cbbo(min, max).spread_bps(), None, "zero mid");
        assert_eq!(cbbo(max, max).spread_bps(), None, "mid does not fit");
        assert_eq!(cbbo(min, min).spread_bps(), None);
        assert_eq!(cbbo(dec!(-1), max).spread_bps(), None, "MAX + 1 overflows");
        let wide = cbbo(dec!(1), max).spread_bps().unwrap();
        assert_eq!(wide.round(), dec!(20000), "(MAX − 1) / (MAX / 2) × 1e4");
        assert_eq!(
            cbbo(max, dec!(1)).spread_bps().map(|b| b.round()),
            Some(dec!(-20000))
        );
        let big = dec!(1e27);
        assert_eq!(
            cbbo(-big, big + dec!(2)).spread_bps(),
            None,
            "× 1e4 overflows"
        );
        let tiny = Decimal::new(1, 28);
        assert_eq!(cbbo(tiny, tiny).spread_bps(), Some(Decimal::ZERO));
        assert_eq!(Cbbo::default().spread_bps(), None);
    }
}
