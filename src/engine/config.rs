//! Engine settings, filled from the user's config (or defaults).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::model::{Asset, Instrument, Venue};

#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    /// Instruments shown, in order. Books of other instruments are still kept.
    pub watchlist: Vec<Instrument>,
    /// Quote currencies treated as one (e.g. [USD, USDT, USDC]). Quotes not in
    /// any group stand alone.
    pub quote_groups: Vec<Vec<Asset>>,
    /// Taker fee per venue in basis points; venues not listed use
    /// `default_taker_fee_bps`.
    pub taker_fee_bps: BTreeMap<Venue, Decimal>,
    pub default_taker_fee_bps: Decimal,
    /// An opportunity is reported only at or above this net spread …
    pub arb_min_net_bps: Decimal,
    /// … and this net profit in quote currency.
    pub arb_min_profit: Decimal,
    /// Cap on the quote notional one opportunity is sized to (0 = no cap).
    pub arb_max_notional: Decimal,
    /// Closed opportunities kept for the history view.
    pub arb_history: usize,
    /// Liquidations below this USD notional are left off the tape.
    pub liq_min_notional_usd: f64,
    pub liq_tape_len: usize,
    /// Trades at or above this USD notional are "large".
    pub large_trade_usd: f64,
    pub trade_tape_len: usize,
    /// A live book with no update for this long is marked stale (µs).
    pub stale_after: i64,
    /// Levels per side kept in snapshots for display.
    pub snapshot_depth: usize,
    /// Open-interest and volume spike detection.
    pub spikes: super::derivs::SpikeSettings,
    /// Holding period the funding carry amortises fees over (days).
    pub funding_hold_days: f64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            watchlist: Vec::new(),
            quote_groups: Vec::new(),
            taker_fee_bps: default_taker_fees(),
            default_taker_fee_bps: Decimal::from(10),
            arb_min_net_bps: Decimal::ZERO,
            arb_min_profit: Decimal::ZERO,
            arb_max_notional: Decimal::ZERO,
            arb_history: 200,
            liq_min_notional_usd: 0.0,
            liq_tape_len: 500,
            large_trade_usd: 100_000.0,
            trade_tape_len: 500,
            stale_after: 30_000_000,
            snapshot_depth: 50,
            spikes: super::derivs::SpikeSettings::default(),
            funding_hold_days: 7.0,
        }
    }
}

/// Each venue's published base-tier taker fee (its spec); users override.
pub fn default_taker_fees() -> BTreeMap<Venue, Decimal> {
    Venue::all().map(|v| (v, v.spec().taker_fee_bps)).collect()
}
