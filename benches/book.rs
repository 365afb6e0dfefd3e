//! Order book side: the sorted `Vec` in `src/book/side.rs` against a
//! `BTreeMap<Decimal, Decimal>` side, on what venues actually send (deltas
//! near the top of a ~1000-level book), on walking depth, and on the case the
//! Vec is worst at (uniformly random updates in a 20 000-level book).
//!
//! `cargo bench --bench book -- --warm-up-time 1 --measurement-time 3`

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use depthwatch::book::Side;
use depthwatch::model::{BookSide, Level};
use rust_decimal::Decimal;

/// The alternative: a price-keyed tree.
#[derive(Clone)]
struct TreeSide {
    bid: bool,
    levels: BTreeMap<Decimal, Decimal>,
}

impl TreeSide {
    fn set(&mut self, price: Decimal, size: Decimal) {
        if size > Decimal::ZERO {
            self.levels.insert(price, size);
        } else {
            self.levels.remove(&price);
        }
    }

    fn best(&self) -> Option<(&Decimal, &Decimal)> {
        if self.bid {
            self.levels.last_key_value()
        } else {
            self.levels.first_key_value()
        }
    }

    /// Notional of the best `n` levels.
    fn walk(&self, n: usize) -> Decimal {
        let sum = |it: &mut dyn Iterator<Item = (&Decimal, &Decimal)>| {
            it.take(n).fold(Decimal::ZERO, |t, (p, s)| t + p * s)
        };
        if self.bid {
            sum(&mut self.levels.iter().rev())
        } else {
            sum(&mut self.levels.iter())
        }
    }
}

/// Tiny deterministic generator (no extra crates).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

const TICK: Decimal = Decimal::from_parts(1, 0, 0, false, 2); // 0.01

/// Bids from 10 000.00 down, one level per tick.
fn bid_levels(n: usize) -> Vec<Level> {
    let top = Decimal::from(10_000);
    (0..n)
        .map(|k| Level::new(top - TICK * Decimal::from(k), Decimal::from(1 + k % 7)))
        .collect()
}

/// Updates within `range` ticks of the top; a quarter delete, and deleted
/// prices come back later, so the book keeps its size.
fn updates(count: usize, range: u64, seed: u64) -> Vec<(Decimal, Decimal)> {
    let mut rng = Lcg(seed);
    let top = Decimal::from(10_000);
    (0..count)
        .map(|_| {
            let price = top - TICK * Decimal::from(rng.next() % range);
            let size = if rng.next() % 4 == 0 {
                Decimal::ZERO
            } else {
                Decimal::new((rng.next() % 100_000) as i64 + 1, 4)
            };
            (price, size)
        })
        .collect()
}

fn sides(levels: &[Level]) -> (Side, TreeSide) {
    let mut vec_side = Side::new(BookSide::Bid);
    vec_side.replace(levels);
    let tree = TreeSide {
        bid: true,
        levels: levels.iter().map(|l| (l.price, l.size)).collect(),
    };
    (vec_side, tree)
}

fn bench_updates(c: &mut Criterion, name: &str, book_levels: usize, range: u64) {
    let levels = bid_levels(book_levels);
    let ups = updates(10_000, range, 42);
    let (vec_side, tree) = sides(&levels);
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(ups.len() as u64));
    g.bench_function("sorted_vec", |b| {
        b.iter_batched_ref(
            || vec_side.clone(),
            |s| {
                for &(p, q) in &ups {
                    s.set(p, q);
                }
                black_box(s.best())
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("btreemap", |b| {
        b.iter_batched_ref(
            || tree.clone(),
            |s| {
                for &(p, q) in &ups {
                    s.set(p, q);
                }
                black_box(s.best().map(|(p, _)| *p))
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn top_deltas(c: &mut Criterion) {
    // Venues send most changes within the first few dozen levels.
    bench_updates(c, "deltas_top20_of_1000", 1_000, 20);
}

fn random_deep(c: &mut Criterion) {
    bench_updates(c, "deltas_uniform_in_20000", 20_000, 20_000);
}

fn walk_depth(c: &mut Criterion) {
    let (vec_side, tree) = sides(&bid_levels(1_000));
    let mut g = c.benchmark_group("walk_top50_of_1000");
    g.bench_function("sorted_vec", |b| {
        b.iter(|| {
            black_box(
                vec_side
                    .iter()
                    .take(50)
                    .fold(Decimal::ZERO, |t, l| t + l.price * l.size),
            )
        })
    });
    g.bench_function("btreemap", |b| b.iter(|| black_box(tree.walk(50))));
    g.finish();
}

criterion_group!(benches, top_deltas, walk_depth, random_deep);
criterion_main!(benches);
