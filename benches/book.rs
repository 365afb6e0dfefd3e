//! Order book side: the chunked sorted list in `src/book/side.rs` against the
//! single sorted `Vec` it replaced and a `BTreeMap<Decimal, Decimal>`, on
//!
//! (a) what venues usually send: 10 000 updates within 20 ticks of the top
//!     of a 1 000-level side;
//! (b) full-depth books: 10 000 uniformly random updates in a 50 000-level
//!     side;
//! (c) one delta adding 128 000 new levels (shuffled) to a 1 000-level side;
//! (d) walking the top 50 levels of a 1 000-level side.
//!
//! A quarter of the updates in (a) and (b) delete, and deleted prices come
//! back later, so the side keeps its size.
//!
//! Every figure is this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so it
//! stays meaningful on a machine shared with other jobs.
//!
//! `cargo bench --bench book -- --warm-up-time 1 --measurement-time 3`

use std::collections::BTreeMap;
use std::hint::black_box;

use std::time::Duration;

use criterion::{Bencher, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use depthwatch::book::Side;
use depthwatch::model::{BookSide, Level};
use rust_decimal::Decimal;

/// The previous side: one `Vec` sorted worst → best (best level last).
#[derive(Clone)]
struct VecSide {
    levels: Vec<Level>,
}

impl VecSide {
    fn new(levels: &[Level]) -> Self {
        let mut levels = levels.to_vec();
        levels.sort_by_key(|l| l.price);
        VecSide { levels }
    }

    fn search(&self, price: &Decimal) -> Result<usize, usize> {
        let n = self.levels.len();
        if n > 0 {
            match price.cmp(&self.levels[n - 1].price) {
                std::cmp::Ordering::Equal => return Ok(n - 1),
                std::cmp::Ordering::Greater => return Err(n),
                std::cmp::Ordering::Less => {}
            }
        }
        self.levels.binary_search_by(|l| l.price.cmp(price))
    }

    fn set(&mut self, price: Decimal, size: Decimal) {
        let keep = size > Decimal::ZERO;
        match self.search(&price) {
            Ok(i) if keep => self.levels[i].size = size,
            Ok(i) => {
                self.levels.remove(i);
            }
            Err(i) if keep => self.levels.insert(i, Level { price, size }),
            Err(_) => {}
        }
    }

    fn best(&self) -> Option<Level> {
        self.levels.last().copied()
    }

    fn walk(&self, n: usize) -> Decimal {
        self.levels
            .iter()
            .rev()
            .take(n)
            .fold(Decimal::ZERO, |t, l| t + l.price * l.size)
    }
}

/// The alternative: a price-keyed tree (bids: best is the last key).
#[derive(Clone)]
struct TreeSide {
    levels: BTreeMap<Decimal, Decimal>,
}

impl TreeSide {
    fn new(levels: &[Level]) -> Self {
        TreeSide {
            levels: levels.iter().map(|l| (l.price, l.size)).collect(),
        }
    }

    fn set(&mut self, price: Decimal, size: Decimal) {
        if size > Decimal::ZERO {
            self.levels.insert(price, size);
        } else {
            self.levels.remove(&price);
        }
    }

    fn best(&self) -> Option<Decimal> {
        self.levels.last_key_value().map(|(p, _)| *p)
    }

    fn walk(&self, n: usize) -> Decimal {
        self.levels
            .iter()
            .rev()
            .take(n)
            .fold(Decimal::ZERO, |t, (p, s)| t + p * s)
    }
}

/// This thread's CPU time: meaningful on a machine shared with other busy
/// processes, where wall time includes their time slices.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec (two i64s on 64-bit Linux)
    // into the pointer given, which points at a live local.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// Like criterion's `iter_batched_ref`, timed in thread CPU time: `setup`
/// (a clone of the side) runs outside the timed part.
fn cpu_batched<S, R>(b: &mut Bencher<'_>, setup: impl Fn() -> S, routine: impl Fn(&mut S) -> R) {
    b.iter_custom(|iters| {
        let mut spent = Duration::ZERO;
        for _ in 0..iters {
            let mut state = setup();
            let start = thread_cpu_time();
            black_box(routine(&mut state));
            spent += thread_cpu_time().saturating_sub(start);
            drop(state);
        }
        spent
    })
}

/// Like criterion's `iter`, timed in thread CPU time.
fn cpu_iter<R>(b: &mut Bencher<'_>, routine: impl Fn() -> R) {
    b.iter_custom(|iters| {
        let start = thread_cpu_time();
        for _ in 0..iters {
            black_box(routine());
        }
        thread_cpu_time().saturating_sub(start)
    })
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

/// Updates within `range` ticks of the top; a quarter delete.
fn updates(count: usize, range: u64, seed: u64) -> Vec<Level> {
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
            Level::new(price, size)
        })
        .collect()
}

fn side_of(levels: &[Level]) -> Side {
    let mut s = Side::new(BookSide::Bid);
    s.replace(levels);
    s
}

fn bench_updates(c: &mut Criterion, name: &str, book_levels: usize, range: u64) {
    let levels = bid_levels(book_levels);
    let ups = updates(10_000, range, 42);
    let (side, vec_side, tree) = (
        side_of(&levels),
        VecSide::new(&levels),
        TreeSide::new(&levels),
    );
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(ups.len() as u64));
    g.bench_function("chunked", |b| {
        cpu_batched(
            b,
            || side.clone(),
            |s| {
                for l in &ups {
                    s.set(l.price, l.size);
                }
                black_box(s.best())
            },
        )
    });
    g.bench_function("sorted_vec", |b| {
        cpu_batched(
            b,
            || vec_side.clone(),
            |s| {
                for l in &ups {
                    s.set(l.price, l.size);
                }
                black_box(s.best())
            },
        )
    });
    g.bench_function("btreemap", |b| {
        cpu_batched(
            b,
            || tree.clone(),
            |s| {
                for l in &ups {
                    s.set(l.price, l.size);
                }
                black_box(s.best())
            },
        )
    });
    g.finish();
}

/// (a) Venues send most changes within the first few dozen levels.
fn top_deltas(c: &mut Criterion) {
    bench_updates(c, "deltas_top20_of_1000", 1_000, 20);
}

/// (b) Full-depth books (Coinbase) update deep levels too.
fn random_deep(c: &mut Criterion) {
    bench_updates(c, "deltas_uniform_in_50000", 50_000, 50_000);
}

/// (c) One delta adding 128 000 new levels below the 1 000 held, shuffled.
fn bulk_delta(c: &mut Criterion) {
    let levels = bid_levels(1_000);
    let mut rng = Lcg(7);
    let mut delta: Vec<Level> = (1_000..129_000)
        .map(|k| {
            Level::new(
                Decimal::from(10_000) - TICK * Decimal::from(k),
                Decimal::ONE,
            )
        })
        .collect();
    for i in (1..delta.len()).rev() {
        delta.swap(i, rng.next() as usize % (i + 1));
    }
    let (side, vec_side, tree) = (
        side_of(&levels),
        VecSide::new(&levels),
        TreeSide::new(&levels),
    );
    let mut g = c.benchmark_group("delta_adding_128000_levels");
    g.throughput(Throughput::Elements(delta.len() as u64));
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("chunked_apply", |b| {
        cpu_batched(
            b,
            || side.clone(),
            |s| {
                s.apply(&delta);
                black_box(s.len())
            },
        )
    });
    g.bench_function("chunked_level_by_level", |b| {
        cpu_batched(
            b,
            || side.clone(),
            |s| {
                for l in &delta {
                    s.set(l.price, l.size);
                }
                black_box(s.len())
            },
        )
    });
    g.bench_function("sorted_vec", |b| {
        cpu_batched(
            b,
            || vec_side.clone(),
            |s| {
                for l in &delta {
                    s.set(l.price, l.size);
                }
                black_box(s.levels.len())
            },
        )
    });
    g.bench_function("btreemap", |b| {
        cpu_batched(
            b,
            || tree.clone(),
            |s| {
                for l in &delta {
                    s.set(l.price, l.size);
                }
                black_box(s.levels.len())
            },
        )
    });
    g.finish();
}

/// (d) Walking depth: what the arbitrage walk and the snapshot do.
fn walk_depth(c: &mut Criterion) {
    let levels = bid_levels(1_000);
    let (side, vec_side, tree) = (
        side_of(&levels),
        VecSide::new(&levels),
        TreeSide::new(&levels),
    );
    let mut g = c.benchmark_group("walk_top50_of_1000");
    g.bench_function("chunked", |b| {
        cpu_iter(b, || {
            side.iter()
                .take(50)
                .fold(Decimal::ZERO, |t, l| t + l.price * l.size)
        })
    });
    g.bench_function("sorted_vec", |b| cpu_iter(b, || vec_side.walk(50)));
    g.bench_function("btreemap", |b| cpu_iter(b, || tree.walk(50)));
    g.finish();
}

criterion_group!(benches, top_deltas, walk_depth, random_deep, bulk_delta);
criterion_main!(benches);
