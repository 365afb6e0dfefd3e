//! The aggregated book of a view key: usable books' levels merged by price.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::book::OrderBook;
use crate::model::{BookSide, Venue};

use super::snapshot::{AggLevel, AggregatedBook};

/// Merge the best `depth` levels per side of each book. Only the top `depth`
/// of each book can reach the merged top `depth`, so nothing deeper is read.
pub fn aggregate<'a>(
    books: impl IntoIterator<Item = (Venue, &'a OrderBook)>,
    depth: usize,
) -> AggregatedBook {
    let mut bids: BTreeMap<Decimal, Vec<(Venue, Decimal)>> = BTreeMap::new();
    let mut asks: BTreeMap<Decimal, Vec<(Venue, Decimal)>> = BTreeMap::new();
    for (venue, book) in books {
        for (side, merged) in [(BookSide::Bid, &mut bids), (BookSide::Ask, &mut asks)] {
            for l in book.side(side).iter().take(depth) {
                add(merged.entry(l.price).or_default(), venue, l.size);
            }
        }
    }
    AggregatedBook {
        bids: bids.into_iter().rev().take(depth).map(level).collect(),
        asks: asks.into_iter().take(depth).map(level).collect(),
    }
}

/// Add a venue's size at a price (one venue may hold several books under a
/// quote group, e.g. BTC-USDT and BTC-USDC).
fn add(per_venue: &mut Vec<(Venue, Decimal)>, venue: Venue, size: Decimal) {
    match per_venue.iter_mut().find(|(v, _)| *v == venue) {
        Some((_, s)) => *s = s.saturating_add(size),
        None => per_venue.push((venue, size)),
    }
}

fn level((price, mut per_venue): (Decimal, Vec<(Venue, Decimal)>)) -> AggLevel {
    per_venue.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let total = per_venue
        .iter()
        .fold(Decimal::ZERO, |t, (_, s)| t.saturating_add(*s));
    AggLevel {
        price,
        total,
        per_venue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BookUpdate, BookUpdateKind, Level, SeqInfo};
    use rust_decimal_macros::dec;

    fn book(bids: &[(Decimal, Decimal)], asks: &[(Decimal, Decimal)]) -> OrderBook {
        let mut b = OrderBook::new();
        b.apply(&BookUpdate {
            venue: crate::venue!("binance"),
            instrument: "BTC-USD".parse().unwrap(),
            kind: BookUpdateKind::Snapshot,
            bids: bids.iter().map(|&(p, s)| Level::new(p, s)).collect(),
            asks: asks.iter().map(|&(p, s)| Level::new(p, s)).collect(),
            seq: SeqInfo::default(),
            exchange_ts: None,
            received: 0,
        });
        b
    }

    #[test]
    fn merges_by_price_best_first() {
        let a = book(
            &[(dec!(100), dec!(1)), (dec!(99), dec!(2))],
            &[(dec!(101), dec!(1))],
        );
        let b = book(
            &[(dec!(100.0), dec!(3))],
            &[(dec!(102), dec!(1)), (dec!(103), dec!(1))],
        );
        let agg = aggregate(
            [(crate::venue!("okx"), &a), (crate::venue!("kraken"), &b)],
            2,
        );
        assert_eq!(agg.bids.len(), 2);
        assert_eq!(agg.bids[0].price, dec!(100));
        assert_eq!(agg.bids[0].total, dec!(4));
        assert_eq!(
            agg.bids[0].per_venue,
            vec![
                (crate::venue!("kraken"), dec!(3)),
                (crate::venue!("okx"), dec!(1))
            ]
        );
        assert_eq!(agg.bids[1].price, dec!(99));
        assert_eq!(
            agg.asks.iter().map(|l| l.price).collect::<Vec<_>>(),
            vec![dec!(101), dec!(102)]
        );
        assert!(aggregate([], 5).bids.is_empty());
    }
}
