//! Seeding the engine at start with what a store kept (`crate::store`), so
//! the panes show after a restart what they showed before: closed
//! opportunities and per-pair statistics (Arbitrage), the last hour of
//! liquidations and large trades (their tapes and rolling windows), and the
//! per-minute open-interest and volume series of the perpetuals (changes,
//! charts and the spike z-scores of the Derivatives pane).
//!
//! Seeding happens once, before the first input. Everything seeded is
//! history: no notice goes to the sinks for it (the store has it already),
//! and no spike fires while the detectors are primed.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::model::{HistoryKind, Instrument, InstrumentKind, Micros, Venue};

use super::Engine;
use super::candles::MinuteCandle;
use super::derivs::DerivSample;
use super::snapshot::{ClosedArb, LiquidationRow, TradeRow};

/// What a store hands the engine at start.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Seed {
    /// Recently closed opportunities, newest first.
    pub closed_arbs: Vec<ClosedArb>,
    /// Statistics per ordered pair of books over the stored history.
    pub pair_stats: Vec<PairSeed>,
    /// Liquidations of the last hour, oldest first.
    pub liquidations: Vec<LiquidationRow>,
    /// Large trades of the last hour, oldest first.
    pub large_trades: Vec<TradeRow>,
    /// Closed minutes of the perpetuals, oldest first.
    pub deriv_samples: Vec<DerivSample>,
    /// One-minute venue candles, oldest first.
    pub candles: Vec<MinuteCandle>,
}

/// The stored statistics of one ordered pair of books.
#[derive(Clone, Debug, PartialEq)]
pub struct PairSeed {
    pub buy_venue: Venue,
    pub buy_instrument: Instrument,
    pub sell_venue: Venue,
    pub sell_instrument: Instrument,
    /// Opportunities opened.
    pub count: u64,
    /// Total time open, microseconds.
    pub total_open: Micros,
    pub longest: Micros,
    pub best_net_bps: Option<Decimal>,
}

/// Seeded statistics of one key and ordered venue pair, added to the live
/// ones when the snapshot is built.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct PairTotals {
    pub count: u64,
    pub total_open: Micros,
    pub longest: Micros,
    pub best_net_bps: Option<Decimal>,
}

impl Engine {
    /// Seed the engine with stored history; `now` is the wall clock (the
    /// engine clock moves there, as the first live input would move it).
    /// Opportunities and statistics are filed under today's quote groups.
    pub fn seed(&mut self, seed: Seed, now: Micros) {
        self.advance(now);
        for c in seed.closed_arbs {
            let key = self.groups.key_of(&c.buy_instrument);
            self.history.push_back(ClosedArb { key, ..c });
        }
        self.history.truncate(self.cfg.arb_history);
        for p in seed.pair_stats {
            let key = self.groups.key_of(&p.buy_instrument);
            let t = self
                .seeded_pairs
                .entry((key, p.buy_venue, p.sell_venue))
                .or_default();
            t.count = t.count.saturating_add(p.count);
            t.total_open = t.total_open.saturating_add(p.total_open.max(0));
            t.longest = t.longest.max(p.longest);
            t.best_net_bps = match (t.best_net_bps, p.best_net_bps) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        for row in seed.liquidations {
            self.liqs.restore(row);
        }
        for row in seed.large_trades {
            self.trades.restore_large(row);
        }
        self.seed_derivs(seed.deriv_samples);
        self.seed_candles(seed.candles);
        self.changed = true;
    }

    /// The candles of watched instruments only, as [`Self::seed_derivs`].
    fn seed_candles(&mut self, minutes: Vec<MinuteCandle>) {
        let watched = self.watched_keys();
        let mut per_book: BTreeMap<(Venue, Instrument), Vec<super::candles::Candle>> =
            BTreeMap::new();
        for m in minutes {
            if watched.contains(&self.groups.key_of(&m.instrument)) {
                per_book
                    .entry((m.venue, m.instrument))
                    .or_default()
                    .push(m.candle);
            }
        }
        for ((venue, instrument), list) in per_book {
            self.candles
                .restore(venue, instrument, &list, self.now, &self.groups);
        }
    }

    /// The view keys of the watchlist.
    fn watched_keys(&self) -> Vec<Instrument> {
        self.cfg
            .watchlist
            .iter()
            .map(|i| self.groups.key_of(i))
            .collect()
    }

    /// Open interest and volume of watched perpetuals only: a perpetual
    /// no longer watched would come back as an empty Derivatives row.
    fn seed_derivs(&mut self, samples: Vec<DerivSample>) {
        type Series = (Vec<(Micros, Decimal)>, Vec<(Micros, f64)>);
        let watched = self.watched_keys();
        let mut per_perp: BTreeMap<(Venue, Instrument), Series> = BTreeMap::new();
        for s in samples {
            if s.instrument.kind != InstrumentKind::Perp
                || !watched.contains(&self.groups.key_of(&s.instrument))
            {
                continue;
            }
            let (oi, volume) = per_perp.entry((s.venue, s.instrument)).or_default();
            if let Some(v) = s.oi_base {
                oi.push((s.minute, v));
            }
            if s.volume_usd.is_finite() {
                volume.push((s.minute, s.volume_usd));
            }
        }
        for ((venue, instrument), (oi, volume)) in per_perp {
            if !oi.is_empty() {
                self.derivs
                    .on_history(venue, instrument, HistoryKind::OpenInterest, &oi);
            }
            // Quiet minutes count for the z-scores once the perpetual trades.
            if volume.iter().any(|&(_, v)| v > 0.0) {
                self.derivs.restore_volume(venue, instrument, &volume);
            }
        }
    }

    /// Drop the seeded pair statistics (the quote groups changed: pair
    /// statistics restart).
    pub(super) fn forget_seeded_pairs(&mut self) {
        self.seeded_pairs.clear();
    }
}

pub(super) type SeededPairs = BTreeMap<(Instrument, Venue, Venue), PairTotals>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineConfig;
    use crate::engine::candles::CandleSource;
    use crate::model::Timeframe;
    use crate::model::{LiquidatedSide, TakerSide};
    use rust_decimal_macros::dec;

    const NOW: Micros = 1_764_700_000_000_000;
    const MIN: Micros = 60_000_000;

    fn i(s: &str) -> Instrument {
        s.parse().unwrap()
    }

    fn minute(venue: &str, instrument: Instrument, start: Micros) -> MinuteCandle {
        MinuteCandle {
            venue: venue.parse().unwrap(),
            instrument,
            candle: crate::engine::candles::Candle::flat(start, dec!(65000)),
        }
    }

    fn closed(buy: &str, opened: Micros) -> ClosedArb {
        ClosedArb {
            key: i("BTC-USDT"),
            buy_venue: buy.parse().unwrap(),
            sell_venue: crate::venue!("okx"),
            opened,
            closed: opened + 2_000_000,
            peak_net_bps: dec!(4.5),
            peak_profit: dec!(12.5),
            reason: "spread closed".into(),
            buy_instrument: i("BTC-USDT"),
            sell_instrument: i("BTC-USDT"),
            buy_fee_bps: dec!(10),
            sell_fee_bps: dec!(8),
            size: dec!(0.1),
            buy_vwap: dec!(65000),
            sell_vwap: dec!(65100),
            polled: false,
        }
    }

    #[test]
    fn a_seeded_engine_shows_what_the_store_kept() {
        let perp = i("BTC-USDT-PERP");
        let cfg = EngineConfig {
            watchlist: vec![i("BTC-USDT"), perp],
            arb_history: 1,
            ..EngineConfig::default()
        };
        let mut e = Engine::new(cfg);
        let pair = PairSeed {
            buy_venue: crate::venue!("binance"),
            buy_instrument: i("BTC-USDT"),
            sell_venue: crate::venue!("okx"),
            sell_instrument: i("BTC-USDT"),
            count: 7,
            total_open: 21_000_000,
            longest: 9_000_000,
            best_net_bps: Some(dec!(11.5)),
        };
        let liq = LiquidationRow {
            venue: crate::venue!("bybit"),
            instrument: perp,
            side: LiquidatedSide::Long,
            price: dec!(65000),
            size: dec!(2),
            notional_usd: 130_000.0,
            notional_known: true,
            time: NOW - 10 * MIN,
        };
        let trade = TradeRow {
            venue: crate::venue!("binance"),
            instrument: perp,
            side: TakerSide::Buy,
            price: dec!(65000),
            size: dec!(3),
            notional_usd: 195_000.0,
            time: NOW - 5 * MIN,
        };
        let samples: Vec<DerivSample> = (0..90)
            .map(|m| DerivSample {
                venue: crate::venue!("okx"),
                instrument: perp,
                minute: NOW - NOW % MIN - (90 - m) * MIN,
                funding_rate: Some(dec!(0.0001)),
                predicted_rate: None,
                mark: Some(dec!(65000)),
                index: Some(dec!(65000)),
                oi_base: Some(Decimal::from(1_000 + m)),
                oi_usd: None,
                volume_usd: 1_000.0,
            })
            .collect();
        e.seed(
            Seed {
                closed_arbs: vec![closed("binance", NOW - MIN), closed("bybit", NOW - 2 * MIN)],
                pair_stats: vec![pair],
                liquidations: vec![liq.clone()],
                large_trades: vec![trade.clone()],
                deriv_samples: samples,
                candles: vec![
                    minute("okx", perp, NOW - NOW % MIN - MIN),
                    minute("okx", i("ETH-USDT-PERP"), NOW - NOW % MIN - MIN),
                ],
            },
            NOW,
        );
        assert_eq!(e.now(), NOW);
        let snap = e.snapshot();
        assert_eq!(snap.arb_history, [closed("binance", NOW - MIN)], "capped");
        let stats = &snap.arb_stats[0];
        assert_eq!(
            (stats.count, stats.total_open, stats.longest),
            (7, 21_000_000, 9_000_000)
        );
        assert_eq!(stats.best_net_bps, dec!(11.5));
        assert_eq!(stats.current_net_bps, None, "no books yet");
        assert_eq!(snap.liquidations.tape, [liq]);
        assert_eq!(snap.liquidations.last_1h.count, 1);
        assert_eq!(snap.trades.large, [trade]);
        let row = snap
            .derivatives
            .rows
            .iter()
            .find(|r| r.venue == Some(crate::venue!("okx")))
            .unwrap();
        let change_1h = row.oi_change[1].unwrap();
        // The last closed minute (1 089) against an hour before it (1 030).
        assert!((change_1h - 59.0 / 1_030.0).abs() < 1e-9, "{change_1h}");
        assert_eq!(row.volume_1h_usd, 59_000.0, "the minutes of the last hour");
        let okx = CandleSource::Venue(crate::venue!("okx"), perp);
        let m1 = snap.candles.get(perp, okx, Timeframe::M1).unwrap();
        assert_eq!(m1.closed.len(), 1, "the stored minute is back");
        assert!(
            snap.candles.sources(i("ETH-USDT-PERP")).is_empty(),
            "not watched: not restored"
        );
        // No notices for seeded history (none were wanted anyway), and a
        // regroup restarts the seeded statistics with the live ones.
        let mut cfg = e.config().clone();
        cfg.quote_groups = vec![vec!["USD".parse().unwrap(), "USDT".parse().unwrap()]];
        e.set_config(cfg);
        assert!(e.snapshot().arb_stats.is_empty());
    }
}
