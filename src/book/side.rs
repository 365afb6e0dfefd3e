//! One side of an order book.
//!
//! Data structure: a `Vec<Level>` kept sorted with the **best level at the
//! end**. Venue updates cluster at the top of the book, so inserts and removes
//! there move few elements, the best level is one index away, and iterating
//! best-first is a reverse slice walk (cache-friendly, no pointer chasing).
//! Measured in `benches/book.rs` against a `BTreeMap<Decimal, Decimal>`
//! (release build, quiet 2-core machine): 10 000 updates within 20 ticks of
//! the top of a 1 000-level side run at about 12.8 M updates/s against
//! 7.0 M/s (1.8×), and walking the top 50 levels takes about 276 ns against
//! 384 ns (1.4×; decimal arithmetic dominates both). The Vec loses on
//! uniformly random updates across a 20 000-level side (0.74 M/s against
//! 5.7 M/s); full-depth venues (Coinbase) do update deep levels, but their
//! updates still cluster near the touch, and the Coinbase capture replays at
//! about 1 M level updates/s end to end.

use std::cmp::Ordering;

use rust_decimal::Decimal;

use crate::model::{BookSide, Level};

#[derive(Clone, Debug)]
pub struct Side {
    side: BookSide,
    /// Sorted worst → best: bids ascending, asks descending.
    levels: Vec<Level>,
}

impl Side {
    pub fn new(side: BookSide) -> Self {
        Side {
            side,
            levels: Vec::new(),
        }
    }

    pub fn side(&self) -> BookSide {
        self.side
    }

    /// Order of `a` relative to `b` in storage order (worst first).
    #[inline]
    fn storage_cmp(side: BookSide, a: &Decimal, b: &Decimal) -> Ordering {
        match side {
            BookSide::Bid => a.cmp(b),
            BookSide::Ask => b.cmp(a),
        }
    }

    #[inline]
    fn search(&self, price: &Decimal) -> Result<usize, usize> {
        let side = self.side;
        // Most updates touch the top few levels: check the best end first.
        let n = self.levels.len();
        if n > 0 {
            let last = &self.levels[n - 1].price;
            match Self::storage_cmp(side, price, last) {
                Ordering::Equal => return Ok(n - 1),
                Ordering::Greater => return Err(n),
                Ordering::Less => {}
            }
        }
        self.levels
            .binary_search_by(|l| Self::storage_cmp(side, &l.price, price))
    }

    /// Set the absolute size at a price; zero (or negative) removes the level.
    /// Removing a price that is not in the book is not an error: venues do it.
    #[inline]
    pub fn set(&mut self, price: Decimal, size: Decimal) {
        match self.search(&price) {
            Ok(i) => {
                if size.is_sign_positive() && !size.is_zero() {
                    self.levels[i].size = size;
                } else {
                    self.levels.remove(i);
                }
            }
            Err(i) => {
                if size.is_sign_positive() && !size.is_zero() {
                    self.levels.insert(i, Level { price, size });
                }
            }
        }
    }

    /// Replace all levels (a snapshot). Zero sizes are dropped, duplicates keep
    /// the last one given.
    pub fn replace(&mut self, levels: &[Level]) {
        self.levels.clear();
        self.levels.extend(
            levels
                .iter()
                .filter(|l| l.size.is_sign_positive() && !l.size.is_zero()),
        );
        let side = self.side;
        // Stable sort keeps the order given, so dedup below keeps the last one.
        self.levels
            .sort_by(|a, b| Self::storage_cmp(side, &a.price, &b.price));
        let mut deduped: Vec<Level> = Vec::with_capacity(self.levels.len());
        for l in self.levels.drain(..) {
            match deduped.last_mut() {
                Some(prev) if prev.price == l.price => *prev = l,
                _ => deduped.push(l),
            }
        }
        self.levels = deduped;
    }

    pub fn clear(&mut self) {
        self.levels.clear();
    }

    pub fn best(&self) -> Option<Level> {
        self.levels.last().copied()
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// Levels best first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Level> + ExactSizeIterator {
        self.levels.iter().rev()
    }

    /// The best `n` levels, best first.
    pub fn top(&self, n: usize) -> Vec<Level> {
        self.iter().take(n).copied().collect()
    }

    /// Keep only the best `n` levels (venues that send a fixed depth and never
    /// delete what falls out of it).
    pub fn truncate(&mut self, n: usize) {
        let len = self.levels.len();
        if len > n {
            self.levels.drain(..len - n);
        }
    }

    /// Size at exactly this price, if the level exists.
    pub fn size_at(&self, price: &Decimal) -> Option<Decimal> {
        self.search(price).ok().map(|i| self.levels[i].size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn prices(s: &Side) -> Vec<Decimal> {
        s.iter().map(|l| l.price).collect()
    }

    #[test]
    fn bids_are_best_first_descending() {
        let mut s = Side::new(BookSide::Bid);
        s.set(dec!(100), dec!(1));
        s.set(dec!(102), dec!(1));
        s.set(dec!(101), dec!(1));
        assert_eq!(prices(&s), vec![dec!(102), dec!(101), dec!(100)]);
        assert_eq!(s.best().unwrap().price, dec!(102));
    }

    #[test]
    fn asks_are_best_first_ascending() {
        let mut s = Side::new(BookSide::Ask);
        s.set(dec!(101), dec!(1));
        s.set(dec!(100), dec!(2));
        s.set(dec!(103), dec!(1));
        assert_eq!(prices(&s), vec![dec!(100), dec!(101), dec!(103)]);
        assert_eq!(s.best().unwrap().size, dec!(2));
    }

    #[test]
    fn zero_deletes_and_unknown_delete_is_ignored() {
        let mut s = Side::new(BookSide::Ask);
        s.set(dec!(100), dec!(1));
        s.set(dec!(100.0), dec!(0)); // same price, other scale
        assert!(s.is_empty());
        s.set(dec!(99), dec!(0));
        assert!(s.is_empty());
    }

    #[test]
    fn replace_sorts_dedups_and_drops_zero() {
        let mut s = Side::new(BookSide::Bid);
        s.replace(&[
            Level::new(dec!(1), dec!(1)),
            Level::new(dec!(3), dec!(0)),
            Level::new(dec!(2), dec!(5)),
            Level::new(dec!(1), dec!(7)),
        ]);
        assert_eq!(
            s.top(10),
            vec![Level::new(dec!(2), dec!(5)), Level::new(dec!(1), dec!(7))]
        );
    }

    #[test]
    fn truncate_keeps_best() {
        let mut s = Side::new(BookSide::Bid);
        for p in 1..=5 {
            s.set(Decimal::from(p), dec!(1));
        }
        s.truncate(2);
        assert_eq!(prices(&s), vec![dec!(5), dec!(4)]);
        assert_eq!(s.size_at(&dec!(4)), Some(dec!(1)));
        assert_eq!(s.size_at(&dec!(3)), None);
    }
}
