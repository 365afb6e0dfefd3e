//! Consolidated best bid and offer over the usable books of one view key.
//!
//! Each book keeps a small cached [`Top`] (best levels and their fee-adjusted
//! prices) refreshed only when that book changes; the CBBO of a key is then a
//! scan of a handful of cached tops, no book access.
//!
//! Tie-break when two books quote the same best price: the larger size wins,
//! then the venue listed first in the registry (binance, bybit, okx,
//! coinbase, kraken, bitstamp, gemini, hyperliquid), then the instrument that
//! sorts first. The choice is deterministic, so the CBBO does not flicker
//! between venues from one frame to the next.

use std::cmp::Ordering;

use rust_decimal::Decimal;

use crate::book::{OrderBook, midpoint};
use crate::model::{BookState, Instrument, Level, Micros, OutOfSyncReason, Venue};

use super::arb::FeeInfo;

/// Cached top of one book, as CBBO and arbitrage see it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Top {
    /// Live and its connection is not silent: may be used.
    pub usable: bool,
    pub bid: Option<Level>,
    pub ask: Option<Level>,
    /// Best bid after the venue's taker fee (what selling one unit yields).
    pub eff_bid: Option<Decimal>,
    /// Best ask after the venue's taker fee (what buying one unit costs).
    pub eff_ask: Option<Decimal>,
}

impl Top {
    pub fn of(book: &OrderBook, usable: bool, fee: &FeeInfo) -> Top {
        if !usable {
            return Top::default();
        }
        let bid = book.best_bid();
        let ask = book.best_ask();
        Top {
            usable,
            bid,
            ask,
            eff_bid: bid.and_then(|l| l.price.checked_mul(fee.sell_mult)),
            eff_ask: ask.and_then(|l| l.price.checked_mul(fee.buy_mult)),
        }
    }
}

/// One participant in the CBBO: a book's identity and its cached top.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    pub slot: usize,
    pub venue: Venue,
    pub instrument: &'a Instrument,
    pub top: &'a Top,
}

/// The winning book and level on each side.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CbboTop {
    pub bid: Option<(usize, Level)>,
    pub ask: Option<(usize, Level)>,
}

impl CbboTop {
    /// `None` also when the midpoint does not fit (see [`midpoint`]).
    pub fn mid(&self) -> Option<Decimal> {
        midpoint(self.bid?.1.price, self.ask?.1.price)
    }
}

/// Is `a` a better level than `b` on this side (see the module tie-break)?
fn better(a: (&Level, Venue, &Instrument), b: (&Level, Venue, &Instrument), bid: bool) -> bool {
    let by_price = if bid {
        a.0.price.cmp(&b.0.price)
    } else {
        b.0.price.cmp(&a.0.price)
    };
    let order = by_price
        .then_with(|| a.0.size.cmp(&b.0.size))
        .then_with(|| b.1.index().cmp(&a.1.index()))
        .then_with(|| b.2.cmp(a.2));
    order == Ordering::Greater
}

/// Best bid and best ask over the usable candidates.
pub fn best<'a>(candidates: impl IntoIterator<Item = Candidate<'a>>) -> CbboTop {
    let mut bid: Option<(Candidate<'a>, Level)> = None;
    let mut ask: Option<(Candidate<'a>, Level)> = None;
    for c in candidates {
        if !c.top.usable {
            continue;
        }
        if let Some(l) = c.top.bid {
            let wins = match &bid {
                Some((w, wl)) => better(
                    (&l, c.venue, c.instrument),
                    (wl, w.venue, w.instrument),
                    true,
                ),
                None => true,
            };
            if wins {
                bid = Some((c, l));
            }
        }
        if let Some(l) = c.top.ask {
            let wins = match &ask {
                Some((w, wl)) => better(
                    (&l, c.venue, c.instrument),
                    (wl, w.venue, w.instrument),
                    false,
                ),
                None => true,
            };
            if wins {
                ask = Some((c, l));
            }
        }
    }
    CbboTop {
        bid: bid.map(|(c, l)| (c.slot, l)),
        ask: ask.map(|(c, l)| (c.slot, l)),
    }
}

/// The state shown for a book: a live book whose connection went silent is
/// shown as `OutOfSync(Stale)`.
pub fn effective_state(state: &BookState, conn_stale: bool) -> BookState {
    if state.is_usable() && conn_stale {
        BookState::OutOfSync(OutOfSyncReason::Stale)
    } else {
        state.clone()
    }
}

/// Why a book is kept out of the CBBO, or `None` when it is usable.
pub fn exclusion_reason(effective: &BookState) -> Option<String> {
    match effective {
        BookState::Live | BookState::Polled => None,
        BookState::Syncing => Some("syncing".to_string()),
        BookState::OutOfSync(OutOfSyncReason::Stale) => Some("stale".to_string()),
        BookState::OutOfSync(why) => Some(format!("out of sync: {why}")),
    }
}

/// A short phrase naming why a venue's book stopped being usable, for closed
/// opportunities: "bybit out of sync", "okx stale", "kraken syncing".
pub fn unusable_phrase(venue: Venue, effective: &BookState) -> String {
    let what = match effective {
        BookState::Live | BookState::Polled => "book empty",
        BookState::Syncing => "syncing",
        BookState::OutOfSync(OutOfSyncReason::Stale) => "stale",
        BookState::OutOfSync(_) => "out of sync",
    };
    format!("{venue} {what}")
}

/// Age of a book's last update at `now`, never negative; saturating, so a
/// bogus receive time (`i64::MIN`, `i64::MAX`) gives an age of 0 or
/// `i64::MAX`, never a wrapped one.
pub fn age(now: Micros, last_update: Option<Micros>) -> Micros {
    last_update
        .map(|t| now.saturating_sub(t).max(0))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn top(bid: Option<(Decimal, Decimal)>, ask: Option<(Decimal, Decimal)>) -> Top {
        Top {
            usable: true,
            bid: bid.map(|(p, s)| Level::new(p, s)),
            ask: ask.map(|(p, s)| Level::new(p, s)),
            eff_bid: None,
            eff_ask: None,
        }
    }

    #[test]
    fn picks_highest_bid_and_lowest_ask() {
        let i: Instrument = "BTC-USD".parse().unwrap();
        let a = top(Some((dec!(100), dec!(1))), Some((dec!(102), dec!(1))));
        let b = top(Some((dec!(101), dec!(1))), Some((dec!(103), dec!(1))));
        let c = CbboTop::default();
        assert_eq!(c.mid(), None);
        let got = best([
            Candidate {
                slot: 0,
                venue: crate::venue!("okx"),
                instrument: &i,
                top: &a,
            },
            Candidate {
                slot: 1,
                venue: crate::venue!("kraken"),
                instrument: &i,
                top: &b,
            },
        ]);
        assert_eq!(got.bid.map(|x| x.0), Some(1));
        assert_eq!(got.ask.map(|x| x.0), Some(0));
        assert_eq!(got.mid(), Some(dec!(101.5)));
    }

    #[test]
    fn ties_go_to_larger_size_then_venue_order() {
        let i: Instrument = "BTC-USD".parse().unwrap();
        let small = top(Some((dec!(100), dec!(1))), Some((dec!(101), dec!(2))));
        let large = top(Some((dec!(100.0), dec!(3))), Some((dec!(101), dec!(2))));
        let got = best([
            Candidate {
                slot: 0,
                venue: crate::venue!("binance"),
                instrument: &i,
                top: &small,
            },
            Candidate {
                slot: 1,
                venue: crate::venue!("kraken"),
                instrument: &i,
                top: &large,
            },
        ]);
        assert_eq!(got.bid.map(|x| x.0), Some(1), "larger size wins");
        // Same price and size on the ask: binance comes before kraken.
        assert_eq!(got.ask.map(|x| x.0), Some(0));
        let got = best([
            Candidate {
                slot: 1,
                venue: crate::venue!("kraken"),
                instrument: &i,
                top: &large,
            },
            Candidate {
                slot: 0,
                venue: crate::venue!("binance"),
                instrument: &i,
                top: &small,
            },
        ]);
        assert_eq!(
            got.ask.map(|x| x.0),
            Some(0),
            "order of candidates does not matter"
        );
    }

    #[test]
    fn extreme_prices_and_times() {
        let (max, min) = (Decimal::MAX, Decimal::MIN);
        let side = |p| Some((0, Level::new(p, max)));
        let c = CbboTop {
            bid: side(min),
            ask: side(max),
        };
        assert_eq!(c.mid(), Some(Decimal::ZERO));
        let c = CbboTop {
            bid: side(max),
            ask: side(max),
        };
        assert_eq!(c.mid(), None);
        assert_eq!(age(i64::MAX, Some(i64::MIN)), i64::MAX);
        assert_eq!(age(i64::MIN, Some(i64::MAX)), 0);
        assert_eq!(age(i64::MIN, Some(i64::MIN)), 0);
        assert_eq!(age(5, None), 0);
        let fee = FeeInfo::new(Decimal::MAX);
        let mut book = OrderBook::new();
        book.apply(&crate::model::BookUpdate {
            venue: crate::venue!("okx"),
            instrument: "BTC-USD".parse().unwrap(),
            kind: crate::model::BookUpdateKind::Snapshot,
            bids: vec![Level::new(min, max)],
            asks: vec![Level::new(max, max)],
            seq: Default::default(),
            exchange_ts: None,
            received: 0,
        });
        let top = Top::of(&book, true, &fee);
        assert!(top.usable && top.bid.is_some() && top.ask.is_some());
        assert_eq!(top.eff_ask, None, "MAX × (1 + MAX/1e4) does not fit");
    }

    #[test]
    fn reasons() {
        assert_eq!(exclusion_reason(&BookState::Live), None);
        assert_eq!(
            exclusion_reason(&effective_state(&BookState::Live, true)).as_deref(),
            Some("stale")
        );
        let gap = BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 5,
            got: 7,
        });
        assert_eq!(
            exclusion_reason(&gap).as_deref(),
            Some("out of sync: sequence gap (expected 5, got 7)")
        );
        assert_eq!(
            unusable_phrase(crate::venue!("bybit"), &gap),
            "bybit out of sync"
        );
    }
}
