//! The simulator's own books, in integer ticks and lots (exact, cheap), and
//! the depth-limited feed views that turn book changes into wire deltas.

use rust_decimal::Decimal;

use crate::model::BookSide;

use super::catalog::Spec;

/// A price level in wire units: (price in ticks, size in lots).
pub type RawLevel = (i64, i64);

/// One side of a simulated book: a Vec sorted worst → best (bids ascending,
/// asks descending), so the busy top of the book is at the cheap end.
#[derive(Clone, Debug)]
pub struct Ladder {
    side: BookSide,
    levels: Vec<RawLevel>,
}

impl Ladder {
    pub fn new(side: BookSide) -> Self {
        Ladder {
            side,
            levels: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    /// Storage order: is `a` worse than `b`?
    fn worse(&self, a: i64, b: i64) -> std::cmp::Ordering {
        match self.side {
            BookSide::Bid => a.cmp(&b),
            BookSide::Ask => b.cmp(&a),
        }
    }

    fn search(&self, price: i64) -> Result<usize, usize> {
        self.levels.binary_search_by(|&(p, _)| self.worse(p, price))
    }

    /// Levels best first.
    pub fn iter(&self) -> impl Iterator<Item = RawLevel> + '_ {
        self.levels.iter().rev().copied()
    }

    pub fn best(&self) -> Option<RawLevel> {
        self.levels.last().copied()
    }

    pub fn worst(&self) -> Option<RawLevel> {
        self.levels.first().copied()
    }

    pub fn top(&self, n: usize) -> Vec<RawLevel> {
        self.iter().take(n).collect()
    }

    pub fn nth(&self, i: usize) -> Option<RawLevel> {
        let idx = self.levels.len().checked_sub(i + 1)?;
        self.levels.get(idx).copied()
    }

    /// Set a level's size; zero or less removes it.
    pub fn set(&mut self, price: i64, lots: i64) {
        match (self.search(price), lots > 0) {
            (Ok(i), true) => {
                if let Some(l) = self.levels.get_mut(i) {
                    l.1 = lots;
                }
            }
            (Ok(i), false) => {
                self.levels.remove(i);
            }
            (Err(i), true) => self.levels.insert(i, (price, lots)),
            (Err(_), false) => {}
        }
    }

    /// The price `dist` ticks further from the touch than `price`.
    pub fn away(&self, price: i64, dist: i64) -> i64 {
        match self.side {
            BookSide::Bid => price - dist,
            BookSide::Ask => price + dist,
        }
    }

    /// Ticks from `price` away from the touch to `other` (negative when
    /// `other` is the better price).
    pub fn distance(&self, price: i64, other: i64) -> i64 {
        match self.side {
            BookSide::Bid => price - other,
            BookSide::Ask => other - price,
        }
    }

    /// Remove every level strictly better than `price`; returns how many.
    pub fn remove_better_than(&mut self, price: i64) -> usize {
        let keep = self
            .levels
            .partition_point(|&(p, _)| self.worse(p, price) != std::cmp::Ordering::Greater);
        let removed = self.levels.len() - keep;
        self.levels.truncate(keep);
        removed
    }

    pub fn pop_worst(&mut self) -> Option<RawLevel> {
        if self.levels.is_empty() {
            None
        } else {
            Some(self.levels.remove(0))
        }
    }
}

/// Both sides of one simulated book.
#[derive(Clone, Debug)]
pub struct SimBook {
    pub bids: Ladder,
    pub asks: Ladder,
}

impl Default for SimBook {
    fn default() -> Self {
        SimBook {
            bids: Ladder::new(BookSide::Bid),
            asks: Ladder::new(BookSide::Ask),
        }
    }
}

impl SimBook {
    pub fn side_mut(&mut self, side: BookSide) -> &mut Ladder {
        match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        }
    }

    pub fn side(&self, side: BookSide) -> &Ladder {
        match side {
            BookSide::Bid => &self.bids,
            BookSide::Ask => &self.asks,
        }
    }
}

/// Sequence counters of one feed view, in the three styles venues use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewIds {
    /// Binance-style update id: grows by the number of level changes.
    pub update_id: u64,
    /// Bybit-style `u`: +1 per message.
    pub msg_seq: u64,
    /// Bybit `seq` / OKX `seqId`: grows in irregular jumps.
    pub cross_seq: u64,
}

/// The part of a book one feed streams (the top `depth` levels a side), as
/// the feed's subscribers know it.
#[derive(Clone, Debug)]
pub struct FeedView {
    pub depth: usize,
    pub bids: Vec<RawLevel>,
    pub asks: Vec<RawLevel>,
    pub ids: ViewIds,
}

/// What changed in a feed view during one step: absolute sizes, 0 deletes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewDelta {
    pub bids: Vec<RawLevel>,
    pub asks: Vec<RawLevel>,
    pub prev: ViewIds,
    pub ids: ViewIds,
}

impl FeedView {
    pub fn new(depth: usize, book: &SimBook, ids: ViewIds) -> Self {
        FeedView {
            depth,
            bids: book.bids.top(depth),
            asks: book.asks.top(depth),
            ids,
        }
    }

    /// Re-read the book from its top levels (best first, at least `depth`
    /// of them when the book has that many; several views of one book share
    /// one walk of it). When the visible part changed, advance the ids
    /// (taking the book's current cross sequence) and return the delta.
    pub fn refresh(
        &mut self,
        bids: &[RawLevel],
        asks: &[RawLevel],
        cross_seq: u64,
    ) -> Option<ViewDelta> {
        let bids = bids.get(..self.depth.min(bids.len())).unwrap_or(bids);
        let asks = asks.get(..self.depth.min(asks.len())).unwrap_or(asks);
        let bid_changes = diff(&self.bids, bids, BookSide::Bid);
        let ask_changes = diff(&self.asks, asks, BookSide::Ask);
        if bid_changes.is_empty() && ask_changes.is_empty() {
            return None;
        }
        self.bids.clear();
        self.bids.extend_from_slice(bids);
        self.asks.clear();
        self.asks.extend_from_slice(asks);
        let changes = (bid_changes.len() + ask_changes.len()) as u64;
        if changes == 0 {
            return None;
        }
        let prev = self.ids;
        self.ids = ViewIds {
            update_id: prev.update_id + changes,
            msg_seq: prev.msg_seq + 1,
            cross_seq: cross_seq.max(prev.cross_seq + 1),
        };
        Some(ViewDelta {
            bids: bid_changes,
            asks: ask_changes,
            prev,
            ids: self.ids,
        })
    }
}

/// Changes turning `old` into `new` (both best first), in best-first order.
fn diff(old: &[RawLevel], new: &[RawLevel], side: BookSide) -> Vec<RawLevel> {
    // Compare prices in "best first" order: for bids higher is earlier.
    let key = |p: i64| match side {
        BookSide::Bid => -p,
        BookSide::Ask => p,
    };
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(&(op, os)), Some(&(np, ns))) => {
                if op == np {
                    if os != ns {
                        out.push((np, ns));
                    }
                    i += 1;
                    j += 1;
                } else if key(op) < key(np) {
                    out.push((op, 0));
                    i += 1;
                } else {
                    out.push((np, ns));
                    j += 1;
                }
            }
            (Some(&(op, _)), None) => {
                out.push((op, 0));
                i += 1;
            }
            (None, Some(&l)) => {
                out.push(l);
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// Extra levels far beyond `worst` for the huge-snapshot fault: they start a
/// distance `gap` (ticks) past the worst real level, so they never interfere
/// with the streamed part of the book.
pub fn synthetic_tail(side: BookSide, worst: i64, gap: i64, count: usize) -> Vec<RawLevel> {
    let step = |i: i64| 1 + i % 3;
    let mut price = worst;
    let mut out = Vec::with_capacity(count);
    for i in 0..count as i64 {
        let dist = if i == 0 { gap.max(1) } else { step(i) };
        price = match side {
            BookSide::Bid => price - dist,
            BookSide::Ask => price + dist,
        };
        if price <= 0 {
            break;
        }
        out.push((price, 1 + (i * 7919) % 997));
    }
    out
}

/// Levels a side in a huge-snapshot fault answer.
pub const HUGE_LEVELS: usize = 5000;

/// Extend a side (best first) to [`HUGE_LEVELS`] with levels starting 3 %
/// beyond its worst level, out of reach of normal book motion.
pub fn pad_huge(spec: &Spec, levels: &mut Vec<RawLevel>, side: BookSide) {
    let Some(&(worst, _)) = levels.last() else {
        return;
    };
    let missing = HUGE_LEVELS.saturating_sub(levels.len());
    let gap = (spec.price(worst) * Decimal::new(3, 2) / spec.tick)
        .trunc()
        .try_into()
        .unwrap_or(1000i64);
    levels.extend(synthetic_tail(side, worst, gap, missing));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(bids: &[RawLevel], asks: &[RawLevel]) -> SimBook {
        let mut b = SimBook::default();
        for &(p, s) in bids {
            b.bids.set(p, s);
        }
        for &(p, s) in asks {
            b.asks.set(p, s);
        }
        b
    }

    #[test]
    fn ladders_are_best_first() {
        let b = book(&[(99, 1), (100, 2), (97, 3)], &[(102, 1), (101, 5)]);
        assert_eq!(b.bids.top(2), vec![(100, 2), (99, 1)]);
        assert_eq!(b.asks.best(), Some((101, 5)));
        assert_eq!(b.bids.worst(), Some((97, 3)));
        let mut b = b;
        assert_eq!(b.bids.remove_better_than(98), 2);
        assert_eq!(b.bids.best(), Some((97, 3)));
    }

    #[test]
    fn view_diff_reports_inserts_updates_and_levels_leaving_the_window() {
        let ids = ViewIds {
            update_id: 10,
            msg_seq: 1,
            cross_seq: 100,
        };
        let mut b = book(&[(100, 1), (99, 1), (98, 1)], &[(101, 1), (102, 1)]);
        let mut v = FeedView::new(2, &b, ids);
        assert!(v.refresh(&b.bids.top(9), &b.asks.top(9), 103).is_none());
        // A better bid pushes 99 out of the two-level window; 98 was never in.
        b.bids.set(100, 4);
        b.bids.set(100 + 1, 2);
        b.asks.set(101, 0);
        let d = v.refresh(&b.bids.top(9), &b.asks.top(9), 105).unwrap();
        assert_eq!(d.bids, vec![(101, 2), (100, 4), (99, 0)]);
        assert_eq!(d.asks, vec![(101, 0)]);
        assert_eq!(d.prev, ids);
        assert_eq!(d.ids.update_id, 14);
        assert_eq!(d.ids.msg_seq, 2);
        assert_eq!(d.ids.cross_seq, 105);
        assert_eq!(v.bids, vec![(101, 2), (100, 4)]);
    }

    #[test]
    fn synthetic_tail_lies_beyond_the_book() {
        let t = synthetic_tail(BookSide::Ask, 1000, 50, 10);
        assert_eq!(t.len(), 10);
        assert!(t.iter().all(|&(p, s)| p >= 1050 && s > 0));
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        let t = synthetic_tail(BookSide::Bid, 100, 50, 100);
        assert!(t.iter().all(|&(p, _)| p > 0 && p <= 50));
    }
}
