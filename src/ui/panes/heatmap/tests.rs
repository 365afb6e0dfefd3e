use std::sync::Arc;

use super::*;
use crate::book::OrderBook;
use crate::engine::heatmap::{HeatRing, Levels, sample};
use crate::model::{BookUpdate, BookUpdateKind, Level, SeqInfo};
use rust_decimal_macros::dec;

fn okx() -> Venue {
    crate::venue!("okx")
}
fn bybit() -> Venue {
    crate::venue!("bybit")
}

fn book(bids: &[(Decimal, Decimal)], asks: &[(Decimal, Decimal)]) -> OrderBook {
    let mut b = OrderBook::new();
    b.apply(&BookUpdate {
        venue: okx(),
        instrument: "BTC-USDT".parse().unwrap(),
        kind: BookUpdateKind::Snapshot,
        bids: bids.iter().map(|&(p, s)| Level::new(p, s)).collect(),
        asks: asks.iter().map(|&(p, s)| Level::new(p, s)).collect(),
        seq: SeqInfo::default(),
        exchange_ts: None,
        received: 0,
    });
    b
}

/// Step 0.01 around 100: okx rests 1 at 99.99 and 2 at 100.01, bybit 4
/// at 99.98 and 8 at 100.01; okx buys at 100.01, bybit sells at 99.98.
/// `n` columns; the last has bybit only.
fn view(n: i64) -> HeatmapView {
    let mut ring = HeatRing::default();
    ring.restep(dec!(100), None);
    assert_eq!(ring.step(), Some(dec!(0.01)));
    let a = book(&[(dec!(99.99), dec!(1))], &[(dec!(100.01), dec!(2))]);
    let b = book(&[(dec!(99.98), dec!(4))], &[(dec!(100.01), dec!(8))]);
    for s in 0..n {
        let both = [(okx(), &a), (bybit(), &b)];
        let books: Vec<(Venue, &OrderBook)> = if s == n - 1 {
            vec![(bybit(), &b)]
        } else {
            both.to_vec()
        };
        let levels = sample(dec!(0.01), dec!(100), books).unwrap();
        ring.record_trade(okx(), TakerSide::Buy, dec!(100.01), dec!(1));
        ring.record_trade(bybit(), TakerSide::Sell, dec!(99.98), dec!(3));
        ring.close(s, Arc::new(levels), 0, 0);
    }
    ring.view().unwrap().as_ref().clone()
}

/// The row of a price in a grid of group 1.
fn row(g: &Grid, price: Decimal, step: Decimal) -> usize {
    let b = (price / step).floor().to_i64().unwrap();
    (g.top - b.div_euclid(g.group)) as usize
}

#[test]
fn all_venues_sum_and_one_venue_filters_books_trades_and_mid() {
    let v = view(3);
    let all = grid(&v, None, 1, 1, 9, 3);
    assert_eq!(all.mid, Some(dec!(100)));
    let r = |p| row(&all, p, v.step);
    // Column 0: both venues.
    assert_eq!(all.cell(r(dec!(99.99)), 0).size, 1.0);
    assert_eq!(all.cell(r(dec!(99.98)), 0).size, 4.0);
    assert_eq!(all.cell(r(dec!(100.01)), 0).size, 10.0);
    assert_eq!(all.cell(r(dec!(100.01)), 0).buy, 100.01);
    assert_eq!(all.cell(r(dec!(99.98)), 0).sell, 299.94);
    // Column 2: bybit only.
    assert_eq!(all.cell(r(dec!(100.01)), 2).size, 8.0);
    assert_eq!(all.max_size, 10.0);
    let only = grid(&v, Some(okx()), 1, 1, 9, 3);
    assert_eq!(only.cell(r(dec!(100.01)), 0).size, 2.0);
    assert_eq!(only.cell(r(dec!(99.98)), 0).size, 0.0);
    assert_eq!(only.cell(r(dec!(99.98)), 0).sell, 0.0, "bybit's trade");
    assert_eq!(only.cell(r(dec!(100.01)), 0).buy, 100.01);
    assert_eq!(only.cell(r(dec!(100.01)), 2).size, 0.0, "okx gone");
    assert!(!only.cell(r(dec!(100.01)), 2).covered);
    assert!(only.cell(r(dec!(100.01)), 1).covered);
    // okx's own mid (its book's), not the column's.
    assert_eq!(only.mid, Some(dec!(100)));
    let none = grid(&v, Some(crate::venue!("kraken")), 1, 1, 9, 3);
    assert_eq!(none.mid, None);
    assert!(none.cells.iter().all(|c| *c == Cell::default()));
}

#[test]
fn rows_group_buckets_and_columns_average_samples() {
    let v = view(3);
    // Two buckets a row: [99.98, 100) holds okx 1 + bybit 4.
    let g = grid(&v, None, 2, 1, 5, 3);
    let b = (dec!(99.98) / v.step).floor().to_i64().unwrap();
    assert_eq!(b.rem_euclid(2), 0, "99.98 starts a group");
    let r = (g.top - b / 2) as usize;
    assert_eq!(g.cell(r, 0).size, 5.0);
    assert_eq!(g.cell(r, 2).size, 4.0);
    // Two samples a column, newest at the right: the last column averages
    // samples 1 and 2 (5 and 4), the one before holds sample 0 alone.
    let g = grid(&v, None, 2, 2, 5, 2);
    assert_eq!(g.cell(r, 1).size, 4.5);
    assert_eq!(g.cell(r, 0).size, 5.0);
    assert_eq!(g.cell(r, 1).sell, 2.0 * 299.94);
    // More columns than samples: the left ones stay empty.
    let g = grid(&v, None, 1, 4, 5, 3);
    assert!(g.cells.iter().step_by(3).all(|c| *c == Cell::default()));
    // The mid line sits in the mid's row in every column with data.
    let g = grid(&v, None, 1, 1, 5, 3);
    let mid_row = row(&g, dec!(100), v.step);
    assert_eq!(g.mid_rows, vec![Some(mid_row); 3]);
    assert_eq!(mid_row, 2, "centred");
}

#[test]
fn intensity_is_logarithmic_and_markers_grow_with_notional() {
    assert_eq!(intensity(10.0, 0.1, 10.0), 1.0);
    assert!((intensity(1.0, 0.1, 10.0) - 0.5).abs() < 1e-12);
    // Three decades at most: 0.01 is the floor below 10.
    assert!((intensity(1.0, 1e-9, 10.0) - 2.0 / 3.0).abs() < 1e-12);
    assert!(intensity(0.001, 1e-9, 10.0) > 0.0, "above nothing");
    assert_eq!(intensity(0.0, 0.1, 10.0), 0.0);
    assert_eq!(intensity(f64::NAN, 0.1, 10.0), 0.0);
    assert_eq!(intensity(3.0, 3.0, 3.0), 1.0);
    let cell = |buy: f64, sell: f64| Cell {
        buy,
        sell,
        ..Cell::default()
    };
    assert_eq!(
        marker(&cell(100.0, 1.0), 100.0),
        Some(("▲", TakerSide::Buy))
    );
    assert_eq!(
        marker(&cell(1.0, 20.0), 100.0),
        Some(("▾", TakerSide::Sell))
    );
    assert_eq!(marker(&cell(5.0, 0.0), 100.0), Some(("▵", TakerSide::Buy)));
    assert_eq!(marker(&cell(0.0, 0.0), 100.0), None);
}

#[test]
fn keys_step_through_groupings_scales_and_venues() {
    let mut p = HeatmapPane::default();
    let venues = [bybit(), okx()];
    assert!(p.action(Action::HeatVenue, &venues));
    assert_eq!(p.venue, Some(bybit()));
    p.action(Action::HeatVenue, &venues);
    assert_eq!(p.venue, Some(okx()));
    p.action(Action::HeatVenue, &venues);
    assert_eq!(p.venue, None);
    p.venue = Some(okx());
    p.keep_venue(&[bybit()]);
    assert_eq!(p.venue, None);
    for _ in 0..10 {
        p.action(Action::HeatCoarser, &venues);
        p.action(Action::HeatLonger, &venues);
    }
    assert_eq!((p.group, p.scale), (GROUPS.len() - 1, SCALES.len() - 1));
    for _ in 0..10 {
        p.action(Action::HeatFiner, &venues);
        p.action(Action::HeatShorter, &venues);
    }
    assert_eq!((p.group, p.scale), (0, 0));
    assert!(!p.action(Action::Quit, &venues));
}

#[test]
fn an_empty_ring_draws_nothing() {
    let mut ring = HeatRing::default();
    ring.restep(dec!(100), None);
    ring.close(0, Arc::new(Levels::default()), 0, 0);
    let v = ring.view().unwrap();
    let g = grid(&v, None, 1, 1, 4, 4);
    assert_eq!(g.mid, None);
    assert_eq!(g.max_size, 0.0);
    assert_eq!(span(250_000), "250ms");
    assert_eq!(span(90_000_000), "1m30s");
    assert_eq!(span(600_000_000), "10m");
    assert_eq!(compact(1234.0), "1.23k");
    assert_eq!(compact(0.5), "0.50");
}
