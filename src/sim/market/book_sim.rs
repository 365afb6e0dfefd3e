//! How one simulated venue book's resting orders evolve: seeded around the
//! fair price, the touch moved, orders churned, depth kept, and taker orders
//! walking the opposite side (printing trades).

use rand::Rng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use super::{BookId, BookSim, SimTrade, exponential, normal};
use crate::model::{BookSide, LiquidatedSide, TakerSide};
use crate::sim::catalog::Spec;

impl BookSim {
    pub(super) fn lots(&self, base_size: f64) -> i64 {
        ((base_size / self.lot_base).round() as i64).max(1)
    }

    /// Resting size at depth index `i`: grows away from the touch,
    /// log-normally spread, with the odd large order.
    fn draw_size(&self, rng: &mut StdRng, spec: &Spec, i: usize, levels: usize) -> i64 {
        let depth = i as f64 / levels as f64;
        let mut size = spec.typical_size * (0.25 + 3.0 * depth) * (0.8 * normal(rng)).exp();
        if rng.random_bool(0.03) {
            size *= 8.0;
        }
        self.lots(size)
    }

    /// Gap (ticks) between consecutive levels at depth index `i`.
    fn draw_gap(&self, rng: &mut StdRng, i: usize, levels: usize) -> i64 {
        let mean = self.deep_gap * 2.0 * (i as f64 / levels as f64);
        1 + exponential(rng, mean.max(0.3)) as i64
    }

    pub(super) fn seed_book(&mut self, rng: &mut StdRng, spec: &Spec, fair: f64, levels: usize) {
        let mid = fair / self.tick;
        let bid = (mid - 0.5).floor() as i64;
        for (side, touch) in [(BookSide::Bid, bid), (BookSide::Ask, bid + 1)] {
            let mut price = touch;
            for i in 0..levels {
                let size = self.draw_size(rng, spec, i, levels);
                if price <= 0 {
                    break;
                }
                self.book.side_mut(side).set(price, size);
                let gap = self.draw_gap(rng, i, levels);
                price = self.book.side(side).away(price, gap);
            }
        }
    }

    /// Move the touch of one side to `touch`: levels better than it are
    /// cancelled; when the side fell behind, new levels fill the gap.
    pub(super) fn set_touch(
        &mut self,
        rng: &mut StdRng,
        side: BookSide,
        touch: i64,
        levels: usize,
        spec: &Spec,
    ) {
        if touch <= 0 {
            return;
        }
        self.book.side_mut(side).remove_better_than(touch);
        let best = self.book.side(side).best().map(|(p, _)| p);
        let behind = best.map(|p| self.book.side(side).distance(touch, p));
        if behind == Some(0) {
            return;
        }
        // Fill from the touch outward, at most a few dozen levels.
        let mut price = touch;
        for i in 0..30 {
            if let Some(b) = best
                && self.book.side(side).distance(price, b) <= 0
            {
                break;
            }
            let size = self.draw_size(rng, spec, i, levels);
            self.book.side_mut(side).set(price, size);
            let gap = self.draw_gap(rng, i, levels);
            price = self.book.side(side).away(price, gap);
            if price <= 0 {
                break;
            }
        }
    }

    /// Random resting-order changes, concentrated near the top; plus one
    /// anywhere in the book, so that levels left deep by a price move take
    /// on deep-book sizes.
    pub(super) fn churn(&mut self, rng: &mut StdRng, levels: usize, spec: &Spec) {
        for side in [BookSide::Bid, BookSide::Ask] {
            let len = self.book.side(side).len();
            if len > 10 {
                let i = rng.random_range(10..len);
                if let Some((price, _)) = self.book.side(side).nth(i) {
                    let size = self.draw_size(rng, spec, i, levels);
                    self.book.side_mut(side).set(price, size);
                }
            }
        }
        let n = 2 + exponential(rng, 4.0) as usize;
        for _ in 0..n.min(40) {
            let side = if rng.random_bool(0.5) {
                BookSide::Bid
            } else {
                BookSide::Ask
            };
            let len = self.book.side(side).len();
            if len < 3 {
                continue;
            }
            let i = (exponential(rng, 6.0) as usize).min(len - 2);
            let Some((price, lots)) = self.book.side(side).nth(i) else {
                continue;
            };
            let r: f64 = rng.random();
            if r < 0.55 || i == 0 {
                let new = ((lots as f64) * (0.35 * normal(rng)).exp()).round() as i64;
                let new = if new == lots { lots + 1 } else { new.max(1) };
                self.book.side_mut(side).set(price, new);
            } else if r < 0.8 {
                self.book.side_mut(side).set(price, 0);
            } else if let Some((next, _)) = self.book.side(side).nth(i + 1) {
                let room = self.book.side(side).distance(price, next);
                if room > 1 {
                    let at = self.book.side(side).away(price, rng.random_range(1..room));
                    let size = self.draw_size(rng, spec, i, levels);
                    self.book.side_mut(side).set(at, size);
                }
            }
        }
    }

    /// Keep each side near `levels` deep.
    pub(super) fn keep_depth(&mut self, rng: &mut StdRng, levels: usize, spec: &Spec) {
        for side in [BookSide::Bid, BookSide::Ask] {
            while self.book.side(side).len() > levels + 40 {
                self.book.side_mut(side).pop_worst();
            }
            let mut guard = 0;
            while self.book.side(side).len() < levels && guard < levels {
                guard += 1;
                let len = self.book.side(side).len();
                let Some((worst, _)) = self.book.side(side).worst() else {
                    break;
                };
                let gap = self.draw_gap(rng, len, levels);
                let price = self.book.side(side).away(worst, gap);
                if price <= 0 {
                    break;
                }
                let size = self.draw_size(rng, spec, len, levels);
                self.book.side_mut(side).set(price, size);
            }
        }
    }

    /// A taker order of `want` lots walks the opposite side (at most five
    /// levels, never emptying it); prints one trade per level (marked
    /// `forced` for a liquidation order). Returns the worst price, average
    /// price and filled lots.
    pub(super) fn take(
        &mut self,
        id: BookId,
        taker: TakerSide,
        want: i64,
        time_ms: i64,
        forced: Option<LiquidatedSide>,
    ) -> Option<(i64, Decimal, i64)> {
        let side = match taker {
            TakerSide::Buy => BookSide::Ask,
            TakerSide::Sell => BookSide::Bid,
        };
        let mut left = want;
        let mut filled = 0i64;
        let mut notional = 0i128;
        let mut worst = None;
        for _ in 0..5 {
            if left <= 0 || self.book.side(side).len() <= 5 {
                break;
            }
            let Some((price, lots)) = self.book.side(side).best() else {
                break;
            };
            let fill = left.min(lots);
            self.book.side_mut(side).set(price, lots - fill);
            left -= fill;
            filled += fill;
            notional += price as i128 * fill as i128;
            worst = Some(price);
            self.last_price = price;
            self.volume += fill;
            self.pending_trades.push(SimTrade {
                book: id,
                id: self.next_trade_id,
                price,
                lots: fill,
                taker,
                seq: self.cross_seq,
                time_ms,
                forced,
            });
            self.next_trade_id += 1;
        }
        let worst = worst?;
        let avg_ticks = Decimal::from_i128_with_scale(notional, 0) / Decimal::from(filled.max(1));
        let tick = Decimal::from_f64(self.tick).unwrap_or(Decimal::ONE);
        Some((worst, (avg_ticks * tick).round_dp(8).normalize(), filled))
    }
}
