//! Walking one side of a book to fill a size.

use rust_decimal::Decimal;

use super::Side;

/// The result of taking liquidity from one side of a book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// Base size filled (less than asked when the book ran out).
    pub size: Decimal,
    /// Quote amount paid or received.
    pub notional: Decimal,
    /// Worst price touched.
    pub worst_price: Option<Decimal>,
}

impl Fill {
    /// Volume-weighted average price, if anything filled (and the quotient
    /// is representable: a huge notional over a tiny size is not).
    pub fn vwap(&self) -> Option<Decimal> {
        if self.size.is_zero() {
            None
        } else {
            self.notional.checked_div(self.size)
        }
    }
}

/// Take up to `size` from `side`, best level first.
///
/// Overflow: the walk stops before a level whose notional would not fit in
/// a `Decimal` (only absurd prices or sizes get there), so the fill reports
/// a smaller size with a notional that is exact, never a wrapped or
/// saturated one.
pub fn walk(side: &Side, size: Decimal) -> Fill {
    let mut left = size;
    let mut notional = Decimal::ZERO;
    let mut worst_price = None;
    for level in side.iter() {
        if left <= Decimal::ZERO {
            break;
        }
        let take = level.size.min(left);
        let Some(next) = take
            .checked_mul(level.price)
            .and_then(|n| notional.checked_add(n))
        else {
            break;
        };
        // take ≤ left, both positive: no overflow.
        let Some(rest) = left.checked_sub(take) else {
            break;
        };
        notional = next;
        left = rest;
        worst_price = Some(level.price);
    }
    // 0 ≤ left.max(0) ≤ size when size > 0; left == size otherwise.
    let filled = size
        .checked_sub(left.max(Decimal::ZERO))
        .unwrap_or(Decimal::ZERO);
    Fill {
        size: filled,
        notional,
        worst_price,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BookSide, Level};
    use rust_decimal_macros::dec;

    #[test]
    fn walks_levels_and_reports_vwap() {
        let mut asks = Side::new(BookSide::Ask);
        asks.replace(&[
            Level::new(dec!(100), dec!(1)),
            Level::new(dec!(101), dec!(2)),
        ]);
        let f = walk(&asks, dec!(2));
        assert_eq!(f.size, dec!(2));
        assert_eq!(f.notional, dec!(201));
        assert_eq!(f.vwap(), Some(dec!(100.5)));
        assert_eq!(f.worst_price, Some(dec!(101)));
    }

    #[test]
    fn extreme_values_stop_the_walk_instead_of_overflowing() {
        let (max, min) = (Decimal::MAX, Decimal::MIN);
        let mut asks = Side::new(BookSide::Ask);
        asks.replace(&[Level::new(dec!(2), dec!(1)), Level::new(max, max)]);
        let f = walk(&asks, max);
        assert_eq!((f.size, f.notional), (dec!(1), dec!(2)));
        assert_eq!(f.worst_price, Some(dec!(2)));
        let f = walk(&asks, min);
        assert_eq!((f.size, f.notional, f.worst_price), (min, dec!(0), None));
        assert_eq!(f.vwap(), Some(Decimal::ZERO));

        let mut bids = Side::new(BookSide::Bid);
        bids.replace(&[Level::new(min, max), Level::new(dec!(-1), max)]);
        let f = walk(&bids, max);
        assert_eq!((f.size, f.notional), (max, -max));
        assert_eq!(f.vwap(), Some(dec!(-1)));
        // A notional too large for its tiny size has no vwap.
        let f = Fill {
            size: Decimal::new(1, 28),
            notional: max,
            worst_price: None,
        };
        assert_eq!(f.vwap(), None);
    }

    #[test]
    fn partial_fill_when_book_runs_out() {
        let mut bids = Side::new(BookSide::Bid);
        bids.replace(&[Level::new(dec!(10), dec!(1))]);
        let f = walk(&bids, dec!(5));
        assert_eq!(f.size, dec!(1));
        assert_eq!(f.vwap(), Some(dec!(10)));
        assert_eq!(walk(&Side::new(BookSide::Bid), dec!(1)).vwap(), None);
    }
}
