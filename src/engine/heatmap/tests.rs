use super::*;
use crate::engine::{Engine, EngineConfig, EngineInput};
use crate::model::{BookUpdate, BookUpdateKind, Instrument, Level, MarketEvent, SeqInfo, Trade};
use rust_decimal_macros::dec;

const SEC: Micros = 1_000_000;

fn okx() -> Venue {
    crate::venue!("okx")
}
fn bybit() -> Venue {
    crate::venue!("bybit")
}

fn book(bids: &[(Decimal, Decimal)], asks: &[(Decimal, Decimal)]) -> OrderBook {
    let mut b = OrderBook::new();
    b.apply(&update(okx(), "BTC-USDT", bids, asks, 0));
    b
}

fn update(
    venue: Venue,
    inst: &str,
    bids: &[(Decimal, Decimal)],
    asks: &[(Decimal, Decimal)],
    received: Micros,
) -> BookUpdate {
    BookUpdate {
        venue,
        instrument: inst.parse().unwrap(),
        kind: BookUpdateKind::Snapshot,
        bids: bids.iter().map(|&(p, s)| Level::new(p, s)).collect(),
        asks: asks.iter().map(|&(p, s)| Level::new(p, s)).collect(),
        seq: SeqInfo::default(),
        exchange_ts: None,
        received,
    }
}

/// `ideal_step`'s choice made the slow way: every 1-2-5 number of every
/// decade it allows.
fn nearest_1_2_5_everywhere(mid: Decimal) -> Option<Decimal> {
    let raw = mid.checked_div(Decimal::from(10_000))?;
    let target = raw.to_f64()?.ln();
    let mut best: Option<(f64, Decimal)> = None;
    for exp in -20i32..=20 {
        let decade = if exp >= 0 {
            Decimal::from_i128_with_scale(10i128.pow(exp as u32), 0)
        } else {
            Decimal::from_i128_with_scale(1, (-exp) as u32)
        };
        for m in [1, 2, 5] {
            let c = decade * Decimal::from(m);
            let d = (c.to_f64()?.ln() - target).abs();
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, c));
            }
        }
    }
    best.map(|(_, c)| c.normalize())
}

#[test]
fn the_step_search_near_the_mid_finds_what_searching_everywhere_finds() {
    let mut mids = vec![
        dec!(1e-27),
        dec!(0.00000001),
        dec!(1e15),
        dec!(999999999999),
    ];
    // Each decade, at its edges and across it.
    for exp in -12..=12 {
        for m in ["1", "1.4142", "2", "3.1623", "4.9", "5", "7.0711", "9.999"] {
            mids.push(Decimal::from_scientific(&format!("{m}e{exp}")).unwrap());
        }
    }
    for mid in mids {
        assert_eq!(
            ideal_step(mid, None),
            nearest_1_2_5_everywhere(mid),
            "mid {mid}"
        );
    }
}

#[test]
fn step_is_the_nearest_1_2_5_to_a_basis_point_and_a_tick_multiple() {
    assert_eq!(ideal_step(dec!(65000), None), Some(dec!(5)));
    assert_eq!(ideal_step(dec!(3500), None), Some(dec!(0.5)));
    assert_eq!(ideal_step(dec!(0.3521), None), Some(dec!(0.00005)));
    assert_eq!(ideal_step(dec!(500), Some(dec!(0.1))), Some(dec!(0.1)));
    assert_eq!(ideal_step(dec!(5000), Some(dec!(0.3))), Some(dec!(0.6)));
    assert_eq!(ideal_step(dec!(65000), Some(dec!(0.1))), Some(dec!(5.0)));
    assert_eq!(ideal_step(Decimal::ZERO, None), None);
    assert_eq!(ideal_step(dec!(-1), None), None);
    // The extremes a parser lets through give a step or nothing, no panic.
    let _ = ideal_step(Decimal::MAX, None);
    let _ = ideal_step(Decimal::new(1, 28), Some(Decimal::MAX));
}

#[test]
fn buckets_hold_exact_sums_of_the_levels_in_their_price_range() {
    // Step 5 around mid 100: buckets from 100 - 32×5 = -60 (origin -12).
    let b = book(
        &[
            (dec!(99.99), dec!(0.00000001)),
            (dec!(95), dec!(1.5)), // on a bucket boundary: bucket [95, 100)
            (dec!(94.99), dec!(2)),
            (dec!(90.5), dec!(0.25)),
            (dec!(-100), dec!(9)), // below the window
        ],
        &[
            (dec!(100), dec!(3)),
            (dec!(104.999), dec!(4)),
            (dec!(105), dec!(12345.678)),
            (dec!(1000), dec!(7)), // above the window
        ],
    );
    let levels = sample(dec!(5), dec!(100), [(okx(), &b)]).unwrap();
    assert_eq!(levels.origin, 20 - 32);
    assert_eq!(levels.mid, Some(dec!(100)));
    let v = &levels.venues[0];
    let at = |price: Decimal| (bucket_of(price, dec!(5)).unwrap() - levels.origin) as usize;
    assert_eq!(v.size(at(dec!(99))), dec!(1.50000001));
    assert_eq!(v.size(at(dec!(94))), dec!(2.25));
    assert_eq!(v.size(at(dec!(100))), dec!(7));
    assert_eq!(v.size(at(dec!(105))), dec!(12345.678));
    let total: Decimal = (0..BUCKETS).map(|i| v.size(i)).sum();
    assert_eq!(total, dec!(12356.42800001), "nothing outside the window");
    assert!((v.sum_f64(0..BUCKETS) - 12356.42800001).abs() < 1e-9);
    assert_eq!(v.size(BUCKETS), Decimal::ZERO);
}

#[test]
fn books_of_one_venue_add_into_one_entry_in_venue_order() {
    let a = book(&[(dec!(99), dec!(1))], &[(dec!(101), dec!(1))]);
    let b = book(&[(dec!(99.5), dec!(0.5))], &[(dec!(101), dec!(2))]);
    let levels = sample(
        dec!(1),
        dec!(100),
        [(okx(), &a), (bybit(), &b), (okx(), &b)],
    )
    .unwrap();
    let venues: Vec<Venue> = levels.venues.iter().map(|v| v.venue).collect();
    assert_eq!(venues, vec![bybit(), okx()]);
    let okx_entry = &levels.venues[1];
    let i99 = (99 - levels.origin) as usize;
    assert_eq!(okx_entry.size(i99), dec!(1.5));
    assert_eq!(okx_entry.size(i99 + 2), dec!(3));
}

#[test]
fn huge_totals_keep_every_digit_a_u64_holds() {
    let sums = [dec!(18446744073.709551615), dec!(0.1), Decimal::MAX];
    let v = encode(okx(), None, &sums);
    // MAX does not fit at any scale: it saturates, the rest is cut to scale 0.
    assert_eq!(v.size(1), Decimal::ZERO);
    assert_eq!(v.size(2), Decimal::from(u64::MAX));
    let v = encode(okx(), None, &sums[..2]);
    assert_eq!(v.size(0), dec!(18446744073.709551615));
    assert_eq!(v.size(1), dec!(0.1));
}

#[test]
fn trades_merge_per_venue_side_and_bucket_and_marks_stay_bounded() {
    let mut ring = HeatRing::default();
    assert!(ring.restep(dec!(100), None));
    assert_eq!(ring.step(), Some(dec!(0.01)));
    ring.record_trade(okx(), TakerSide::Buy, dec!(100), dec!(1));
    ring.record_trade(okx(), TakerSide::Buy, dec!(100.001), dec!(3));
    ring.record_trade(okx(), TakerSide::Sell, dec!(100), dec!(2));
    assert_eq!(ring.pending.len(), 2);
    let buy = &ring.pending[0];
    assert_eq!(
        (buy.size, buy.notional, buy.trades),
        (dec!(4), dec!(400.003), 2)
    );
    assert_eq!(buy.price, dec!(100.00075));
    // Many prices on many venues: never more than MAX_MARKS, nothing lost.
    let venues: Vec<Venue> = Venue::all().collect();
    let mut size = dec!(6);
    for n in 0..500 {
        let v = venues[n % venues.len()];
        let side = if n % 3 == 0 {
            TakerSide::Sell
        } else {
            TakerSide::Buy
        };
        ring.record_trade(v, side, dec!(90) + Decimal::from(n), dec!(1));
        size += dec!(1);
        assert!(ring.pending.len() <= MAX_MARKS);
    }
    let kept: Decimal = ring.pending.iter().map(|m| m.size).sum();
    assert_eq!(kept, size);
    let trades: u32 = ring.pending.iter().map(|m| m.trades).sum();
    assert_eq!(trades, 503);
    ring.close(0, Arc::new(Levels::default()), 0, 0);
    assert!(ring.pending.is_empty());
    assert_eq!(
        ring.columns().next().map(|c| c.marks.len()),
        Some(MAX_MARKS)
    );
}

#[test]
fn fillers_repeat_the_books_until_they_would_be_stale_then_are_empty() {
    let mut ring = HeatRing::default();
    ring.restep(dec!(100), None);
    let levels = Arc::new(sample(dec!(0.01), dec!(100), [(okx(), &book(&[], &[]))]).unwrap());
    ring.close(10, levels.clone(), 5, 3);
    assert_eq!(ring.len(), 6);
    let shared: Vec<bool> = ring
        .columns()
        .map(|c| Arc::ptr_eq(&c.levels, &levels))
        .collect();
    assert_eq!(shared, vec![true, true, true, true, false, false]);
    let view = ring.view().unwrap();
    assert_eq!(view.last_slot, 15);
    assert_eq!(view.end_time(), 16 * SAMPLE_EVERY);
    // A later slot only; an old one is ignored.
    ring.close(12, levels.clone(), 0, 0);
    assert_eq!(ring.len(), 6);
    // A jump of a day keeps one ring of columns, the last ones.
    ring.close(16, levels, 345_600, 0);
    assert_eq!(ring.len(), COLUMNS);
    assert_eq!(ring.view().unwrap().last_slot, 16 + 345_600);
}

#[test]
fn the_view_is_shared_until_a_column_arrives() {
    let mut ring = HeatRing::default();
    assert!(ring.view().is_none(), "no step yet");
    ring.restep(dec!(100), None);
    ring.close(1, Arc::new(Levels::default()), 0, 0);
    let a = ring.view().unwrap();
    let b = ring.view().unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    ring.close(2, Arc::new(Levels::default()), 0, 0);
    let c = ring.view().unwrap();
    assert!(!Arc::ptr_eq(&a, &c));
    assert_eq!((a.columns.len(), c.columns.len()), (1, 2));
    assert!(Arc::ptr_eq(&a.columns[0], &c.columns[0]), "columns shared");
}

#[test]
fn the_step_changes_only_on_a_fourfold_move_or_a_coarser_tick() {
    let mut ring = HeatRing::default();
    assert!(ring.restep(dec!(65000), None));
    ring.close(1, Arc::new(Levels::default()), 0, 0);
    assert!(!ring.restep(dec!(100000), None));
    assert!(!ring.restep(dec!(30000), None));
    assert_eq!(ring.len(), 1);
    assert!(
        ring.restep(dec!(300000), None),
        "ideal 20 (or more) is 4× away"
    );
    assert!(ring.is_empty(), "restarted");
    assert!(ring.restep(dec!(300000), Some(dec!(3))));
    assert_eq!(ring.step(), Some(dec!(21)));
}

fn feed(venue: Venue, received: Micros, events: Vec<MarketEvent>) -> EngineInput {
    EngineInput::Feed {
        venue,
        conn: format!("wss://{venue}"),
        received,
        bytes: 100,
        events,
    }
}

fn quote(venue: Venue, t: Micros, mid: Decimal) -> EngineInput {
    let lv = |p: Decimal, n: i64| (p, Decimal::from(n));
    feed(
        venue,
        t,
        vec![MarketEvent::Book(update(
            venue,
            "BTC-USDT",
            &(1..=40)
                .map(|n| lv(mid - Decimal::from(n), n))
                .collect::<Vec<_>>(),
            &(1..=40)
                .map(|n| lv(mid + Decimal::from(n), n))
                .collect::<Vec<_>>(),
            t,
        ))],
    )
}

fn trade(venue: Venue, t: Micros, price: Decimal, side: TakerSide) -> EngineInput {
    feed(
        venue,
        t,
        vec![MarketEvent::Trade(Trade {
            venue,
            instrument: "BTC-USDT".parse().unwrap(),
            price,
            size: dec!(0.5),
            side,
            exchange_ts: Some(t),
            received: t,
        })],
    )
}

fn btc() -> Instrument {
    "BTC-USDT".parse().unwrap()
}

#[test]
fn the_engine_samples_every_250_ms_of_its_own_clock() {
    let mut e = Engine::new(EngineConfig::default());
    let t0 = 1_764_660_000 * SEC;
    e.handle(quote(okx(), t0, dec!(65000)));
    e.handle(quote(bybit(), t0 + 10_000, dec!(65000.5)));
    e.handle(trade(okx(), t0 + 100_000, dec!(65001), TakerSide::Buy));
    assert!(
        e.snapshot().heatmaps.is_empty(),
        "the first interval is open"
    );
    // Crossing into the next interval closes it with the books at its end.
    e.handle(EngineInput::Tick { now: t0 + 260_000 });
    let snap = e.snapshot();
    let view = &snap.heatmaps[&btc()];
    assert_eq!(view.columns.len(), 1);
    assert_eq!(view.step, dec!(5));
    let col = &view.columns[0];
    assert_eq!(
        col.levels.mid,
        Some(dec!(65000.25)),
        "CBBO mid: bybit bid, okx ask"
    );
    assert_eq!(col.levels.venues.len(), 2);
    assert_eq!(col.marks.len(), 1);
    assert_eq!(col.marks[0].notional, dec!(32500.5));
    assert_eq!(view.last_slot, t0 / SAMPLE_EVERY);
    // Ten idle seconds: forty columns repeating the books.
    e.handle(EngineInput::Tick {
        now: t0 + 10 * SEC + 260_000,
    });
    let snap = e.snapshot();
    let view = &snap.heatmaps[&btc()];
    assert_eq!(view.columns.len(), 41);
    assert!(view.columns[1..].iter().all(|c| c.marks.is_empty()));
    assert!(Arc::ptr_eq(
        &view.columns[1].levels,
        &view.columns[40].levels
    ));
}

/// Hours of engine time driven fast: quotes moving, trades, idle gaps and
/// a venue dropping out; the ring never outgrows its bound.
#[test]
fn memory_stays_within_its_bound_over_a_long_run() {
    let mut e = Engine::new(EngineConfig::default());
    let t0 = 1_764_660_000 * SEC;
    let hours = 3;
    let steps = hours * 3_600 * 4;
    let mut t = t0;
    for n in 0..steps {
        t += SAMPLE_EVERY / 2 + (n % 7) * 20_000;
        let mid = dec!(65000) + Decimal::from((n % 400) - 200);
        match n % 5 {
            0 => e.handle(quote(okx(), t, mid)),
            1 if n % 3_000 < 2_000 => e.handle(quote(bybit(), t, mid + dec!(3))),
            2 | 3 => {
                let side = if n % 2 == 0 {
                    TakerSide::Buy
                } else {
                    TakerSide::Sell
                };
                for k in 0..5 {
                    e.handle(trade(okx(), t, mid + Decimal::from(k), side));
                }
            }
            _ => e.handle(EngineInput::Tick { now: t }),
        }
        if n % 10_000 == 0 {
            // An idle minute.
            t += 60 * SEC;
            e.handle(EngineInput::Tick { now: t });
        }
        if n % 997 == 0 {
            let k = e.keys.get(&btc()).unwrap();
            let ring = &e.keys[k].heatmap;
            assert!(ring.len() <= COLUMNS);
            assert!(
                ring.heap_bytes() <= HeatRing::heap_bound(2),
                "{}",
                ring.heap_bytes()
            );
        }
    }
    let k = e.keys.get(&btc()).unwrap();
    let ring = &e.keys[k].heatmap;
    assert_eq!(ring.len(), COLUMNS, "full after hours");
    assert!(ring.columns.capacity() <= (COLUMNS + 1).next_power_of_two());
    assert!(ring.columns().all(|c| c.marks.len() <= MAX_MARKS
        && c.levels.venues.len() <= 2
        && c.levels.venues.iter().all(|v| v.sizes.len() == BUCKETS)));
    assert!(ring.heap_bytes() <= HeatRing::heap_bound(2));
    // The documented figure: five venues stay under 16 MB.
    assert!(
        HeatRing::heap_bound(5) < 16 << 20,
        "{}",
        HeatRing::heap_bound(5)
    );
    let snap = e.snapshot();
    let view = &snap.heatmaps[&btc()];
    assert_eq!(view.end_time(), (t / SAMPLE_EVERY) * SAMPLE_EVERY);
}
