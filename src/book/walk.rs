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
    /// Volume-weighted average price, if anything filled.
    pub fn vwap(&self) -> Option<Decimal> {
        if self.size.is_zero() {
            None
        } else {
            Some(self.notional / self.size)
        }
    }
}

/// Take up to `size` from `side`, best level first.
pub fn walk(side: &Side, size: Decimal) -> Fill {
    let mut left = size;
    let mut notional = Decimal::ZERO;
    let mut worst_price = None;
    for level in side.iter() {
        if left <= Decimal::ZERO {
            break;
        }
        let take = level.size.min(left);
        notional += take * level.price;
        left -= take;
        worst_price = Some(level.price);
    }
    Fill {
        size: size - left.max(Decimal::ZERO),
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
    fn partial_fill_when_book_runs_out() {
        let mut bids = Side::new(BookSide::Bid);
        bids.replace(&[Level::new(dec!(10), dec!(1))]);
        let f = walk(&bids, dec!(5));
        assert_eq!(f.size, dec!(1));
        assert_eq!(f.vwap(), Some(dec!(10)));
        assert_eq!(walk(&Side::new(BookSide::Bid), dec!(1)).vwap(), None);
    }
}
