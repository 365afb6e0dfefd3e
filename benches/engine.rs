//! One book delta on one venue, then the engine's incremental CBBO and
//! arbitrage recompute for an instrument quoted on all 8 venues.
//!
//! `cargo bench --bench engine -- --warm-up-time 1 --measurement-time 3`
//!
//! The `cpu/` variants count only this thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`), which stays meaningful on a machine shared
//! with other busy processes, where wall time includes their time slices.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use depthwatch::engine::{Engine, EngineConfig, EngineInput};
use depthwatch::model::{
    BookUpdate, BookUpdateKind, Instrument, Level, MarketEvent, SeqInfo, Venue,
};
use rust_decimal::Decimal;

const LEVELS: usize = 500;

fn instrument() -> Instrument {
    Instrument::spot("BTC", "USDT").unwrap_or_else(|_| unreachable!())
}

fn update(venue: Venue, kind: BookUpdateKind, bids: Vec<Level>, asks: Vec<Level>) -> EngineInput {
    EngineInput::Feed {
        venue,
        conn: format!("wss://{venue}"),
        received: 1_000_000,
        bytes: 200,
        events: vec![MarketEvent::Book(BookUpdate {
            venue,
            instrument: instrument(),
            kind,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: None,
            received: 1_000_000,
        })],
    }
}

/// 8 venues around 65 000 with a 1-tick spread each, shifted by up to 7 ticks
/// from one another: spreads exist but fees eat them (the usual case). With
/// `crossed`, binance's book sits 150 ticks lower, so buying there and selling
/// elsewhere pays and the full depth walk runs on every update.
fn engine(crossed: bool) -> Engine {
    let mut e = Engine::new(EngineConfig {
        // 1 bps taker fee on every venue.
        taker_fee_bps: Default::default(),
        default_taker_fee_bps: Decimal::ONE,
        ..EngineConfig::default()
    });
    let tick = Decimal::new(1, 1);
    for (n, venue) in Venue::all().enumerate() {
        let mut base = Decimal::from(65_000) + tick * Decimal::from(n);
        if crossed && venue == depthwatch::venue!("binance") {
            base -= tick * Decimal::from(150);
        }
        let bids = (0..LEVELS)
            .map(|k| {
                Level::new(
                    base - tick * Decimal::from(k),
                    Decimal::new(5 + k as i64 % 9, 1),
                )
            })
            .collect();
        let asks = (0..LEVELS)
            .map(|k| {
                Level::new(
                    base + tick * Decimal::from(k + 1),
                    Decimal::new(5 + k as i64 % 9, 1),
                )
            })
            .collect();
        e.handle(update(venue, BookUpdateKind::Snapshot, bids, asks));
    }
    e
}

fn bench_delta(c: &mut Criterion, name: &str, crossed: bool, level: usize) {
    let mut e = engine(crossed);
    let price = Decimal::from(65_000) + Decimal::new(2, 1) - Decimal::new(level as i64, 1);
    let mut flip = false;
    c.bench_function(name, |b| {
        b.iter_batched(
            || {
                flip = !flip;
                let size = if flip {
                    Decimal::new(7, 1)
                } else {
                    Decimal::new(13, 1)
                };
                update(
                    depthwatch::venue!("okx"),
                    BookUpdateKind::Delta,
                    vec![Level::new(price, size)],
                    vec![],
                )
            },
            |input| {
                e.handle(input);
                black_box(e.now())
            },
            BatchSize::SmallInput,
        )
    });
    // The recompute is real: CBBO and spreads are there, and with `crossed`
    // binance → okx is an opportunity several levels deep.
    assert!(e.cbbo(&instrument()).bid.is_some());
    assert_eq!(e.all_spreads().len(), 56);
    let deep = e.open_arbs().iter().any(|a| {
        a.buy_venue == depthwatch::venue!("binance")
            && a.sell_venue == depthwatch::venue!("okx")
            && a.size > Decimal::ONE
    });
    assert_eq!(deep, crossed);
}

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

/// Same as `bench_delta`, timed in thread CPU time; inputs are built outside
/// the timed part in chunks.
fn bench_delta_cpu(c: &mut Criterion, name: &str, crossed: bool, level: usize) {
    let mut e = engine(crossed);
    let price = Decimal::from(65_000) + Decimal::new(2, 1) - Decimal::new(level as i64, 1);
    let input = |k: u64| {
        let size = if k % 2 == 0 {
            Decimal::new(7, 1)
        } else {
            Decimal::new(13, 1)
        };
        update(
            depthwatch::venue!("okx"),
            BookUpdateKind::Delta,
            vec![Level::new(price, size)],
            vec![],
        )
    };
    c.bench_function(&format!("cpu/{name}"), |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let chunk: Vec<EngineInput> = (done..iters.min(done + 4_096)).map(input).collect();
                done += chunk.len() as u64;
                let start = thread_cpu_time();
                for i in chunk {
                    e.handle(i);
                }
                spent += thread_cpu_time().saturating_sub(start);
            }
            spent
        })
    });
}

fn deltas(c: &mut Criterion) {
    bench_delta_cpu(c, "delta_top_8_venues_no_arb", false, 0);
    bench_delta_cpu(c, "delta_top_8_venues_with_arb_walk", true, 0);
    bench_delta(c, "delta_top_8_venues_no_arb", false, 0);
    bench_delta(c, "delta_deep_8_venues_no_arb", false, 100);
    bench_delta(c, "delta_top_8_venues_with_arb_walk", true, 0);
}

fn snapshot(c: &mut Criterion) {
    let mut e = engine(true);
    c.bench_function("snapshot_8_venues_depth_50", |b| {
        b.iter(|| black_box(e.snapshot()))
    });
}

criterion_group!(benches, deltas, snapshot);
criterion_main!(benches);
