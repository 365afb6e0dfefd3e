//! The L2 order book of one venue and instrument.

mod side;
mod walk;

pub use side::{Iter, Side};
pub use walk::{Fill, walk};

use rust_decimal::Decimal;

use crate::model::{
    BookSide, BookState, BookUpdate, BookUpdateKind, Level, Micros, OutOfSyncReason,
};

/// `(a + b) / 2` without overflow: the sum as usual, and when it does not fit
/// (both near `Decimal::MAX` or `MIN`), the halves summed instead. `None`
/// only when even that does not fit (rounding the halves up can leave them
/// one unit past the bound): such a price is nonsense, and no figure is
/// better than a wrong one.
pub fn midpoint(a: Decimal, b: Decimal) -> Option<Decimal> {
    match a.checked_add(b) {
        Some(sum) => Some(sum / Decimal::TWO),
        None => (a / Decimal::TWO).checked_add(b / Decimal::TWO),
    }
}

#[derive(Clone, Debug)]
pub struct OrderBook {
    pub bids: Side,
    pub asks: Side,
    state: BookState,
    /// Local receive time of the last applied update.
    pub last_update: Option<Micros>,
    /// Exchange time of the last applied update, when known.
    pub last_exchange_ts: Option<Micros>,
    /// Updates applied since the last snapshot.
    pub updates_since_snapshot: u64,
}

/// What applying an update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Ok,
    /// A delta arrived while the book was not live; it was ignored.
    IgnoredNotLive,
    /// The update left the book crossed; the book is now out of sync.
    Crossed,
}

impl Default for OrderBook {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderBook {
    pub fn new() -> Self {
        OrderBook {
            bids: Side::new(BookSide::Bid),
            asks: Side::new(BookSide::Ask),
            state: BookState::Syncing,
            last_update: None,
            last_exchange_ts: None,
            updates_since_snapshot: 0,
        }
    }

    pub fn state(&self) -> &BookState {
        &self.state
    }

    pub fn is_live(&self) -> bool {
        self.state.is_live()
    }

    /// Mark the book; leaving `Live` keeps the levels for display (greyed)
    /// but they must not be used for CBBO or arbitrage.
    pub fn set_state(&mut self, state: BookState) {
        self.state = state;
    }

    /// Apply a snapshot or delta. A snapshot replaces everything and makes the
    /// book live; a delta is applied only to a live book. A book that ends up
    /// crossed is marked out of sync.
    pub fn apply(&mut self, u: &BookUpdate) -> Applied {
        match u.kind {
            BookUpdateKind::Snapshot => {
                self.bids.replace(&u.bids);
                self.asks.replace(&u.asks);
                self.state = BookState::Live;
                self.updates_since_snapshot = 0;
            }
            BookUpdateKind::Polled => {
                self.bids.replace(&u.bids);
                self.asks.replace(&u.asks);
                self.state = BookState::Polled;
                self.updates_since_snapshot = 0;
            }
            BookUpdateKind::Delta => {
                if !self.state.is_live() {
                    return Applied::IgnoredNotLive;
                }
                self.bids.apply(&u.bids);
                self.asks.apply(&u.asks);
                self.updates_since_snapshot = self.updates_since_snapshot.saturating_add(1);
            }
        }
        self.last_update = Some(u.received);
        if u.exchange_ts.is_some() {
            self.last_exchange_ts = u.exchange_ts;
        }
        if self.is_crossed() {
            self.state = BookState::OutOfSync(OutOfSyncReason::Crossed);
            return Applied::Crossed;
        }
        Applied::Ok
    }

    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best()
    }

    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best()
    }

    /// Best bid at or above best ask.
    pub fn is_crossed(&self) -> bool {
        match (self.bids.best(), self.asks.best()) {
            (Some(b), Some(a)) => b.price >= a.price,
            _ => false,
        }
    }

    /// Midpoint of the best bid and ask; `None` when a side is empty or the
    /// midpoint is not representable (see [`midpoint`]).
    pub fn mid(&self) -> Option<Decimal> {
        let (b, a) = (self.best_bid()?, self.best_ask()?);
        midpoint(b.price, a.price)
    }

    pub fn side(&self, side: BookSide) -> &Side {
        match side {
            BookSide::Bid => &self.bids,
            BookSide::Ask => &self.asks,
        }
    }

    /// Clear both sides (used when a venue resets a book before resending it).
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Instrument, SeqInfo};
    use rust_decimal_macros::dec;

    fn update(
        kind: BookUpdateKind,
        bids: &[(Decimal, Decimal)],
        asks: &[(Decimal, Decimal)],
    ) -> BookUpdate {
        BookUpdate {
            venue: crate::venue!("binance"),
            instrument: "BTC-USDT".parse::<Instrument>().unwrap(),
            kind,
            bids: bids.iter().map(|&(p, s)| Level::new(p, s)).collect(),
            asks: asks.iter().map(|&(p, s)| Level::new(p, s)).collect(),
            seq: SeqInfo::default(),
            exchange_ts: Some(5),
            received: 7,
        }
    }

    #[test]
    fn empty_book_has_no_top() {
        let b = OrderBook::new();
        assert_eq!(b.best_bid(), None);
        assert_eq!(b.mid(), None);
        assert!(!b.is_crossed());
        assert_eq!(b.state(), &BookState::Syncing);
    }

    #[test]
    fn delta_before_snapshot_is_ignored() {
        let mut b = OrderBook::new();
        let r = b.apply(&update(BookUpdateKind::Delta, &[(dec!(1), dec!(1))], &[]));
        assert_eq!(r, Applied::IgnoredNotLive);
        assert!(b.bids.is_empty());
    }

    #[test]
    fn snapshot_then_deltas() {
        let mut b = OrderBook::new();
        b.apply(&update(
            BookUpdateKind::Snapshot,
            &[(dec!(99), dec!(1)), (dec!(98), dec!(2))],
            &[(dec!(101), dec!(1))],
        ));
        assert!(b.is_live());
        b.apply(&update(
            BookUpdateKind::Delta,
            &[(dec!(99), dec!(0)), (dec!(100), dec!(3))],
            &[],
        ));
        assert_eq!(b.best_bid(), Some(Level::new(dec!(100), dec!(3))));
        assert_eq!(b.bids.len(), 2);
        assert_eq!(b.mid(), Some(dec!(100.5)));
        assert_eq!(b.last_update, Some(7));
        assert_eq!(b.updates_since_snapshot, 1);
    }

    #[test]
    fn one_sided_book_is_not_crossed() {
        let mut b = OrderBook::new();
        b.apply(&update(
            BookUpdateKind::Snapshot,
            &[(dec!(1), dec!(1))],
            &[],
        ));
        assert!(b.is_live());
        assert_eq!(b.best_ask(), None);
        assert_eq!(b.mid(), None);
    }

    #[test]
    fn midpoint_never_overflows() {
        let (max, min) = (Decimal::MAX, Decimal::MIN);
        assert_eq!(midpoint(dec!(1), dec!(2)), Some(dec!(1.5)));
        assert_eq!(midpoint(max, min), Some(Decimal::ZERO));
        assert_eq!(midpoint(min, max), Some(Decimal::ZERO));
        // Summing the halves: MAX/2 rounds up, so two of them do not fit.
        let near = max - dec!(1);
        assert_eq!(midpoint(near, near - dec!(2)), Some(max - dec!(2)));
        assert_eq!(midpoint(max, max), None);
        assert_eq!(midpoint(min, min), None);
        assert_eq!(midpoint(-near, -near + dec!(2)), Some(-max + dec!(2)));
    }

    #[test]
    fn extreme_levels_do_not_panic() {
        let (max, min) = (Decimal::MAX, Decimal::MIN);
        let mut b = OrderBook::new();
        let r = b.apply(&update(
            BookUpdateKind::Snapshot,
            &[(min, max), (dec!(0), max), (dec!(1), min)],
            &[(max, max), (dec!(5), min)],
        ));
        assert_eq!(r, Applied::Ok);
        assert_eq!(b.best_bid(), Some(Level::new(dec!(0), max)));
        assert_eq!(b.mid(), Some(max / dec!(2)));
        let r = b.apply(&update(
            BookUpdateKind::Delta,
            &[(min, dec!(0)), (dec!(0), dec!(0)), (max - dec!(1), max)],
            &[],
        ));
        assert_eq!(r, Applied::Ok);
        // (MAX − 1 + MAX) / 2 overflows as a sum; the halves give MAX.
        assert_eq!(b.mid(), Some(max));
        let r = b.apply(&update(BookUpdateKind::Delta, &[(max, max)], &[]));
        assert_eq!(r, Applied::Crossed);
    }

    #[test]
    fn crossing_update_marks_out_of_sync() {
        let mut b = OrderBook::new();
        b.apply(&update(
            BookUpdateKind::Snapshot,
            &[(dec!(99), dec!(1))],
            &[(dec!(101), dec!(1))],
        ));
        let r = b.apply(&update(BookUpdateKind::Delta, &[(dec!(101), dec!(1))], &[]));
        assert_eq!(r, Applied::Crossed);
        assert_eq!(b.state(), &BookState::OutOfSync(OutOfSyncReason::Crossed));
        // Further deltas are ignored until a snapshot rebuilds it.
        let r = b.apply(&update(BookUpdateKind::Delta, &[(dec!(101), dec!(0))], &[]));
        assert_eq!(r, Applied::IgnoredNotLive);
    }
}
