//! One step of the market (one tick, ~100 ms): fair prices move, every book
//! follows with its noise and dislocations, trades and forced orders print,
//! the feed views publish what changed, and once a second a ticker.

use rand::Rng;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use super::{
    BookId, Cascade, Dislocation, FUNDING_PERIOD_MS, Market, SimEvent, SimLiquidation, SimTicker,
    Step, checksum_of, exponential, normal, pareto,
};
use crate::model::{BookSide, LiquidatedSide, TakerSide};

impl Market {
    /// Advance one tick to `time_ms`.
    pub fn step(&mut self, time_ms: i64) -> Step {
        self.step_no += 1;
        self.time_ms = time_ms.max(self.time_ms);
        let mut events = Vec::new();
        self.move_fair_prices();
        for id in 0..self.books.len() {
            self.move_book(id, &mut events);
        }
        for id in 0..self.books.len() {
            self.publish_views(id, &mut events);
        }
        if (self.time_ms - self.last_ticker_ms) as f64 >= 1000.0 - self.tick_ms / 2.0 {
            self.last_ticker_ms = self.time_ms;
            for id in 0..self.books.len() {
                if let Some(t) = self.ticker(id) {
                    events.push(SimEvent::Ticker(t));
                }
            }
        }
        Step {
            no: self.step_no,
            time_ms: self.time_ms,
            events,
        }
    }

    fn move_fair_prices(&mut self) {
        for b in 0..self.bases.len() {
            let rng = &mut self.rng;
            let base = &mut self.bases[b];
            if base.burst_left > 0 {
                base.burst_left -= 1;
                if base.burst_left == 0 {
                    base.vol_mult = 1.0;
                }
            } else if rng.random_bool(0.0025) {
                base.vol_mult = rng.random_range(3.0..6.0);
                base.burst_left = rng.random_range(20..80);
            }
            let mut move_bps = self.volatility_bps * base.vol_mult * normal(rng);
            if base.cascade.is_none() && self.cascade_p > 0.0 && rng.random_bool(self.cascade_p) {
                base.cascade = Some(Cascade {
                    side: if rng.random_bool(0.5) {
                        LiquidatedSide::Long
                    } else {
                        LiquidatedSide::Short
                    },
                    steps_left: rng.random_range(10..50),
                    intensity_bps: rng.random_range(0.5..3.0),
                });
            }
            if let Some(c) = &mut base.cascade {
                let push = c.intensity_bps * rng.random_range(0.5..1.5);
                move_bps += match c.side {
                    LiquidatedSide::Long => -push,
                    LiquidatedSide::Short => push,
                };
                c.steps_left = c.steps_left.saturating_sub(1);
                if c.steps_left == 0 {
                    base.cascade = None;
                }
            }
            base.log_fair += move_bps / 10_000.0;
            base.last_move_bps = move_bps;
        }
    }

    fn move_book(&mut self, id: BookId, events: &mut Vec<SimEvent>) {
        let Some(spec) = self.specs.get(id).cloned() else {
            return;
        };
        let Some(sim) = self.books.get_mut(id) else {
            return;
        };
        let Some(base) = self.bases.get(sim.base) else {
            return;
        };
        let rng = &mut self.rng;
        let fair = base.log_fair.exp();
        let last_move = base.last_move_bps;
        let cascade = base.cascade.as_ref().map(|c| c.side);

        // Venue noise (mean-reverting) and dislocations.
        sim.noise_bps = sim.noise_bps * 0.98 + 0.06 * normal(rng);
        match &mut sim.dislocation {
            Some(d) => {
                d.steps_left = d.steps_left.saturating_sub(1);
                if d.steps_left == 0 {
                    sim.dislocation = None;
                }
            }
            None => {
                if self.dislocation_p > 0.0 && rng.random_bool(self.dislocation_p) {
                    let size = rng.random_range(5.0..40.0);
                    let ms = rng.random_range(500.0..10_000.0);
                    sim.dislocation = Some(Dislocation {
                        offset_bps: if rng.random_bool(0.5) { size } else { -size },
                        steps_left: ((ms / self.tick_ms).round() as u32).max(1),
                    });
                }
            }
        }
        if rng.random_bool(0.05) {
            sim.spread_ticks = if rng.random_bool(0.7) {
                1
            } else {
                rng.random_range(2..5)
            };
        }
        let offset =
            sim.basis_bps + sim.noise_bps + sim.dislocation.as_ref().map_or(0.0, |d| d.offset_bps);
        let mid_ticks = fair * (1.0 + offset / 10_000.0) / sim.tick;
        let best_bid = (mid_ticks - sim.spread_ticks as f64 / 2.0).floor() as i64;
        let best_ask = best_bid + sim.spread_ticks;
        sim.set_touch(rng, BookSide::Bid, best_bid, self.levels, &spec);
        sim.set_touch(rng, BookSide::Ask, best_ask, self.levels, &spec);
        sim.churn(rng, self.levels, &spec);

        // Trade bursts, leaning with the price move.
        let burst_p = if cascade.is_some() { 0.25 } else { 0.12 };
        if rng.random_bool(burst_p) {
            let n = 1 + exponential(rng, 2.0) as usize;
            let p_buy = (0.5 + last_move / 10.0).clamp(0.2, 0.8);
            for _ in 0..n.min(12) {
                let taker = if rng.random_bool(p_buy) {
                    TakerSide::Buy
                } else {
                    TakerSide::Sell
                };
                let want = sim.lots(spec.typical_size * 0.05 * pareto(rng, 1.3).min(400.0));
                sim.take(id, taker, want, self.time_ms, None);
            }
        }
        // Forced orders on perpetuals: cascades, plus the odd lone one.
        if spec.instrument.is_perp() {
            let side = match cascade {
                Some(side) if rng.random_bool(0.35) => Some(side),
                _ if rng.random_bool(0.004) => Some(if rng.random_bool(0.5) {
                    LiquidatedSide::Long
                } else {
                    LiquidatedSide::Short
                }),
                _ => None,
            };
            if let Some(side) = side {
                let orders = if cascade.is_some() {
                    rng.random_range(1..4)
                } else {
                    1
                };
                for _ in 0..orders {
                    let want = sim.lots(spec.typical_size * 0.2 * pareto(rng, 1.5).min(200.0));
                    // A long is closed by a forced sell, a short by a forced buy.
                    let taker = match side {
                        LiquidatedSide::Long => TakerSide::Sell,
                        LiquidatedSide::Short => TakerSide::Buy,
                    };
                    if let Some((worst, avg, lots)) =
                        sim.take(id, taker, want, self.time_ms, Some(side))
                    {
                        events.push(SimEvent::Liquidation(SimLiquidation {
                            book: id,
                            side,
                            price: worst,
                            avg_price: avg,
                            lots,
                            time_ms: self.time_ms,
                        }));
                    }
                }
            }
        }
        sim.keep_depth(rng, self.levels, &spec);
        for t in sim.pending_trades.drain(..) {
            events.push(SimEvent::Trade(t));
        }
    }

    fn publish_views(&mut self, id: BookId, events: &mut Vec<SimEvent>) {
        let Some(spec) = self.specs.get(id) else {
            return;
        };
        let Some(sim) = self.books.get_mut(id) else {
            return;
        };
        sim.cross_seq += self.rng.random_range(1..400u64);
        let deepest = sim.views.iter().map(|v| v.depth).max().unwrap_or(0);
        let bids = sim.book.bids.top(deepest);
        let asks = sim.book.asks.top(deepest);
        for (v, view) in sim.views.iter_mut().enumerate() {
            if let Some(delta) = view.refresh(&bids, &asks, sim.cross_seq) {
                let checksum = checksum_of(spec, view);
                events.push(SimEvent::Book {
                    book: id,
                    view: v,
                    delta,
                    checksum,
                });
            }
        }
    }

    fn ticker(&mut self, id: BookId) -> Option<SimTicker> {
        let sim = self.books.get_mut(id)?;
        let base = self.bases.get(sim.base)?;
        let best_bid = sim.book.bids.best()?;
        let best_ask = sim.book.asks.best()?;
        let mark = (best_bid.0 + best_ask.0) / 2;
        let index = (base.log_fair.exp() / sim.tick).round() as i64;
        let premium = (mark - index) as f64 / index.max(1) as f64;
        let rate = (0.0001 + premium * 0.3).clamp(-0.0075, 0.0075);
        let funding_rate = Decimal::from_f64(rate)
            .map(|d| d.round_dp(8))
            .unwrap_or_default();
        let drift = normal(&mut self.rng) * 0.0005;
        sim.open_interest = ((sim.open_interest as f64) * (1.0 + drift))
            .round()
            .max(1.0) as i64;
        Some(SimTicker {
            book: id,
            last_price: if sim.last_price > 0 {
                sim.last_price
            } else {
                mark
            },
            best_bid,
            best_ask,
            mark,
            index,
            funding_rate,
            next_funding_ms: (self.time_ms / FUNDING_PERIOD_MS + 1) * FUNDING_PERIOD_MS,
            open_interest: sim.open_interest,
            volume: sim.volume,
            time_ms: self.time_ms,
        })
    }
}
