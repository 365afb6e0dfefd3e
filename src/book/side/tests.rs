use super::*;
use rust_decimal_macros::dec;

fn prices(s: &Side) -> Vec<Decimal> {
    s.iter().map(|l| l.price).collect()
}

/// The invariants every operation must keep.
fn check(s: &Side) {
    assert_eq!(s.chunks.len(), s.lows.len());
    assert_eq!(s.chunks.iter().map(Vec::len).sum::<usize>(), s.len);
    let mut prev: Option<Decimal> = None;
    for (chunk, low) in s.chunks.iter().zip(&s.lows) {
        assert!(!chunk.is_empty(), "empty chunk");
        assert!(chunk.len() <= CHUNK, "chunk of {}", chunk.len());
        assert_eq!(chunk[0].price, *low);
        for l in chunk {
            assert!(keeps(&l.size), "non-positive size held");
            if let Some(p) = prev {
                assert_eq!(
                    Side::storage_cmp(s.side, &p, &l.price),
                    Ordering::Less,
                    "out of order"
                );
            }
            prev = Some(l.price);
        }
    }
    assert_eq!(s.iter().len(), s.len);
    assert_eq!(s.iter().count(), s.len);
}

/// The previous implementation (one sorted `Vec`, best last), as the
/// reference for what every operation must produce, representation included.
struct Model {
    side: BookSide,
    levels: Vec<Level>,
}

impl Model {
    fn set(&mut self, price: Decimal, size: Decimal) {
        let side = self.side;
        match self
            .levels
            .binary_search_by(|l| Side::storage_cmp(side, &l.price, &price))
        {
            Ok(i) if keeps(&size) => self.levels[i].size = size,
            Ok(i) => {
                self.levels.remove(i);
            }
            Err(i) if keeps(&size) => self.levels.insert(i, Level { price, size }),
            Err(_) => {}
        }
    }

    fn shown(&self) -> Vec<(String, String)> {
        self.levels
            .iter()
            .rev()
            .map(|l| (l.price.to_string(), l.size.to_string()))
            .collect()
    }
}

fn shown(s: &Side) -> Vec<(String, String)> {
    s.iter()
        .map(|l| (l.price.to_string(), l.size.to_string()))
        .collect()
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A price on a 0.01 grid, sometimes written with one more decimal
    /// (same value, other scale), and a size that is zero a quarter of the
    /// time.
    fn level(&mut self, range: u64) -> Level {
        let ticks = (self.next() % range) as i64;
        let mut price = Decimal::new(1_000_000 + ticks, 2);
        if self.next() % 5 == 0 {
            price = Decimal::new((1_000_000 + ticks) * 10, 3);
        }
        let size = if self.next() % 4 == 0 {
            Decimal::ZERO
        } else {
            Decimal::new((self.next() % 1_000) as i64 + 1, 3)
        };
        Level { price, size }
    }
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
    assert_eq!(s.best(), None);
    assert_eq!(s.iter().next(), None);
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

#[test]
fn truncate_across_chunks() {
    for n in [0, 1, CHUNK / 2, CHUNK, CHUNK + 1, 3 * CHUNK, 10 * CHUNK] {
        let mut s = Side::new(BookSide::Ask);
        let levels: Vec<Level> = (0..4 * CHUNK as i64)
            .map(|p| Level::new(Decimal::from(p + 1), dec!(1)))
            .collect();
        s.replace(&levels);
        check(&s);
        s.truncate(n);
        check(&s);
        let want: Vec<Decimal> = (1..=n.min(4 * CHUNK) as i64).map(Decimal::from).collect();
        assert_eq!(prices(&s), want, "truncate({n})");
    }
}

#[test]
fn iterates_both_ways_across_chunks() {
    let mut s = Side::new(BookSide::Bid);
    let levels: Vec<Level> = (0..1_000)
        .map(|p| Level::new(Decimal::from(p), dec!(1)))
        .collect();
    s.replace(&levels);
    check(&s);
    assert!(s.chunks.len() > 2);
    let best_first: Vec<i64> = s.iter().map(|l| l.price.mantissa() as i64).collect();
    assert_eq!(best_first, (0..1_000).rev().collect::<Vec<_>>());
    let worst_first: Vec<i64> = s.iter().rev().map(|l| l.price.mantissa() as i64).collect();
    assert_eq!(worst_first, (0..1_000).collect::<Vec<_>>());
    // From both ends at once, meeting in the middle.
    let mut it = s.iter();
    let mut seen = Vec::new();
    while let (Some(a), Some(b)) = (it.next(), it.next_back()) {
        seen.push(a.price);
        seen.push(b.price);
        assert_eq!(it.len(), 1_000 - seen.len());
    }
    assert_eq!(seen.len(), 1_000);
    assert_eq!(
        s.top(3),
        vec![
            Level::new(dec!(999), dec!(1)),
            Level::new(dec!(998), dec!(1)),
            Level::new(dec!(997), dec!(1)),
        ]
    );
}

#[test]
fn random_sets_match_the_sorted_vec() {
    for (side, range, seed) in [
        (BookSide::Bid, 3_000, 1),
        (BookSide::Ask, 3_000, 2),
        (BookSide::Bid, 40, 3),
        (BookSide::Ask, 700, 4),
    ] {
        let mut rng = Lcg(seed);
        let mut s = Side::new(side);
        let mut m = Model {
            side,
            levels: Vec::new(),
        };
        for k in 0..20_000 {
            let l = rng.level(range);
            s.set(l.price, l.size);
            m.set(l.price, l.size);
            if k % 997 == 0 {
                check(&s);
                assert_eq!(shown(&s), m.shown());
            }
        }
        check(&s);
        assert_eq!(shown(&s), m.shown());
        assert_eq!(s.best(), m.levels.last().copied());
        for p in [dec!(10000.00), dec!(10000.01), dec!(10005.5), dec!(1)] {
            let want = m.levels.iter().find(|l| l.price == p).map(|l| l.size);
            assert_eq!(s.size_at(&p), want);
        }
    }
}

#[test]
fn top_updates_empty_and_refill_the_best_chunk() {
    // Delete from the top down through several chunks, then build it back.
    let mut s = Side::new(BookSide::Ask);
    let levels: Vec<Level> = (0..2_000)
        .map(|p| Level::new(Decimal::from(p), dec!(1)))
        .collect();
    s.replace(&levels);
    for p in 0..1_500 {
        s.set(Decimal::from(p), Decimal::ZERO);
        if p % 101 == 0 {
            check(&s);
        }
    }
    check(&s);
    assert_eq!(s.len(), 500);
    assert_eq!(s.best().map(|l| l.price), Some(dec!(1500)));
    for p in (0..1_500).rev() {
        s.set(Decimal::from(p), dec!(2));
    }
    check(&s);
    assert_eq!(s.len(), 2_000);
    assert_eq!(s.best(), Some(Level::new(dec!(0), dec!(2))));
}

#[test]
fn bulk_apply_matches_level_by_level() {
    for (side, seed, held, delta_len, range) in [
        (BookSide::Bid, 10, 0, 5_000, 4_000),
        (BookSide::Ask, 11, 1_000, 5_000, 4_000),
        (BookSide::Bid, 12, 3_000, 400, 4_000),
        (BookSide::Ask, 13, 200, 300, 50),
        (BookSide::Bid, 14, 2_000, 10, 4_000),
    ] {
        let mut rng = Lcg(seed);
        let mut s = Side::new(side);
        let mut m = Model {
            side,
            levels: Vec::new(),
        };
        for _ in 0..held {
            let l = rng.level(range);
            s.set(l.price, l.size);
            m.set(l.price, l.size);
        }
        let delta: Vec<Level> = (0..delta_len).map(|_| rng.level(range)).collect();
        s.apply(&delta);
        for l in &delta {
            m.set(l.price, l.size);
        }
        check(&s);
        assert_eq!(shown(&s), m.shown(), "seed {seed}");
    }
}

#[test]
fn bulk_apply_replays_runs_of_one_price_in_order() {
    // Large enough for the merge path; the interesting prices are repeated.
    let mut s = Side::new(BookSide::Bid);
    s.set(dec!(5.0), dec!(1));
    let mut delta: Vec<Level> = (0..BULK_MIN as i64)
        .map(|p| Level::new(Decimal::from(100 + p), dec!(1)))
        .collect();
    delta.extend([
        // Held level updated: keeps its stored scale.
        Level::new(dec!(5.00), dec!(2)),
        // Created, deleted, created again: the last creation's scale.
        Level::new(dec!(7), dec!(1)),
        Level::new(dec!(7.0), dec!(0)),
        Level::new(dec!(7.00), dec!(3)),
        Level::new(dec!(7.000), dec!(4)),
        // Deleted at the end: gone.
        Level::new(dec!(8), dec!(1)),
        Level::new(dec!(8), dec!(-1)),
    ]);
    s.apply(&delta);
    check(&s);
    let low: Vec<(String, String)> = shown(&s).into_iter().rev().take(2).collect();
    assert_eq!(
        low,
        [
            ("5.0".to_string(), "2".to_string()),
            ("7.00".to_string(), "4".to_string())
        ]
    );
    assert_eq!(s.len(), BULK_MIN + 2);
}

#[test]
fn bulk_apply_of_many_new_levels_is_fast() {
    // 128 000 new levels in shuffled order: quadratic insertion took seconds;
    // the merge path is a sort and a pass (well under a second even in a
    // debug build).
    let mut rng = Lcg(99);
    let mut order: Vec<i64> = (0..128_000).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.next() as usize % (i + 1));
    }
    let delta: Vec<Level> = order
        .iter()
        .map(|&p| Level::new(Decimal::new(p, 2), dec!(1)))
        .collect();
    let mut s = Side::new(BookSide::Bid);
    s.set(dec!(2000), dec!(1));
    let started = std::time::Instant::now();
    s.apply(&delta);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    check(&s);
    assert_eq!(s.len(), 128_001);
    assert_eq!(s.best().map(|l| l.price), Some(dec!(2000)));
    assert_eq!(s.iter().nth(1).map(|l| l.price), Some(dec!(1279.99)));
}

#[test]
fn extreme_prices_and_sizes() {
    let mut s = Side::new(BookSide::Bid);
    s.set(Decimal::MAX, Decimal::MAX);
    s.set(Decimal::MIN, Decimal::MAX);
    s.set(Decimal::ZERO, Decimal::MAX);
    s.set(dec!(1), Decimal::MIN); // a negative size deletes (nothing here)
    assert_eq!(prices(&s), vec![Decimal::MAX, Decimal::ZERO, Decimal::MIN]);
    s.apply(&[Level::new(Decimal::MAX, Decimal::MIN)]);
    assert_eq!(s.best().map(|l| l.price), Some(Decimal::ZERO));
    check(&s);
}

#[test]
fn deleting_most_levels_merges_chunks() {
    let mut rng = Lcg(5);
    let mut s = Side::new(BookSide::Ask);
    let mut m = Model {
        side: BookSide::Ask,
        levels: Vec::new(),
    };
    let mut prices: Vec<i64> = (0..4_000).collect();
    for &p in &prices {
        s.set(Decimal::from(p), dec!(1));
        m.set(Decimal::from(p), dec!(1));
    }
    let chunks_full = s.chunks.len();
    for i in (1..prices.len()).rev() {
        prices.swap(i, rng.next() as usize % (i + 1));
    }
    for (k, &p) in prices.iter().take(3_900).enumerate() {
        s.set(Decimal::from(p), Decimal::ZERO);
        m.set(Decimal::from(p), Decimal::ZERO);
        if k % 331 == 0 {
            check(&s);
        }
    }
    check(&s);
    assert_eq!(shown(&s), m.shown());
    assert!(
        s.chunks.len() * 4 < chunks_full,
        "{} chunks left of {chunks_full}",
        s.chunks.len()
    );
}

proptest::proptest! {
    /// The fast comparison orders prices exactly as `Decimal::cmp`, across
    /// scales, signs and mantissas up to the 96-bit limit.
    #[test]
    fn price_cmp_agrees_with_decimal_cmp(
        ma in proptest::prop_oneof![-1_000_000_000i64..1_000_000_000, proptest::num::i64::ANY],
        mb in proptest::prop_oneof![-1_000_000_000i64..1_000_000_000, proptest::num::i64::ANY],
        sa in 0u32..=28,
        sb in 0u32..=28,
        wide in proptest::bool::ANY,
    ) {
        let widen = |m: i64| if wide { i128::from(m) << 32 } else { i128::from(m) };
        let a = Decimal::from_i128_with_scale(widen(ma), sa);
        let b = Decimal::from_i128_with_scale(widen(mb), sb);
        proptest::prop_assert_eq!(price_cmp(&a, &b), a.cmp(&b), "{} vs {}", a, b);
        // The same value written with more decimals compares equal.
        let mut longer = a;
        longer.rescale((sa + 2).min(28));
        proptest::prop_assert_eq!(price_cmp(&a, &longer), a.cmp(&longer), "{} vs {}", a, longer);
    }
}
