//! The history store: batches of 1,000 liquidation notices written in one
//! transaction (the writer's batch), and a day's query for one instrument
//! and venue on a 10-million-row store (indexed).
//!
//! `cargo bench --bench store -- --warm-up-time 1 --measurement-time 5`
//!
//! The big store is built once (30 days, 10 venues × 10 instruments, about
//! 39 rows a minute per pair) under `target/tmp/` and reused by later runs;
//! building it takes a minute or two.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use depthwatch::engine::notices::Notice;
use depthwatch::engine::snapshot::LiquidationRow;
use depthwatch::model::{Instrument, LiquidatedSide, Micros, Venue};
use depthwatch::store::{Kind, Query, SqliteStore, Store};
use rust_decimal::Decimal;

const ROWS: u64 = 10_000_000;
const DAY: Micros = 86_400_000_000;
const DAYS: i64 = 30;
const T0: Micros = 1_764_000_000_000_000;

fn venues() -> Vec<Venue> {
    Venue::all().take(10).collect()
}

fn instruments() -> Vec<Instrument> {
    [
        "BTC-USDT-PERP",
        "ETH-USDT-PERP",
        "SOL-USDT-PERP",
        "XRP-USDT-PERP",
        "DOGE-USDT-PERP",
        "ADA-USDT-PERP",
        "AVAX-USDT-PERP",
        "LINK-USDT-PERP",
        "LTC-USDT-PERP",
        "BNB-USDT-PERP",
    ]
    .iter()
    .map(|s| s.parse().unwrap_or_else(|_| unreachable!()))
    .collect()
}

/// Row `n` of the big store: times spread evenly over 30 days, cycling
/// through venues and instruments.
fn row(n: u64, venues: &[Venue], instruments: &[Instrument]) -> Arc<Notice> {
    let span = DAYS * DAY;
    let time = T0 + (n as i128 * span as i128 / ROWS as i128) as Micros;
    Arc::new(Notice::Liquidation(LiquidationRow {
        venue: venues[(n % venues.len() as u64) as usize],
        instrument: instruments[(n / venues.len() as u64 % instruments.len() as u64) as usize],
        side: if n % 2 == 0 {
            LiquidatedSide::Long
        } else {
            LiquidatedSide::Short
        },
        price: Decimal::new(6_500_000 + (n % 1_000) as i64, 2),
        size: Decimal::new(1 + (n % 500) as i64, 3),
        notional_usd: 650.0,
        notional_known: true,
        time,
    }))
}

fn big_store() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("store-bench-10m.sqlite");
    if let Ok(s) = SqliteStore::open(&path)
        && s.count(Kind::Liquidations).unwrap_or(0) == ROWS
    {
        return path;
    }
    let _ = std::fs::remove_file(&path);
    let mut s = SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let (v, i) = (venues(), instruments());
    let started = std::time::Instant::now();
    let mut batch = Vec::with_capacity(100_000);
    for n in 0..ROWS {
        batch.push(row(n, &v, &i));
        if batch.len() == 100_000 {
            s.write(&batch).unwrap_or_else(|e| panic!("{e}"));
            batch.clear();
        }
    }
    eprintln!(
        "built a {ROWS}-row store in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    path
}

fn bench(c: &mut Criterion) {
    let (v, i) = (venues(), instruments());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut fresh =
        SqliteStore::open(&dir.path().join("insert.sqlite")).unwrap_or_else(|e| panic!("{e}"));
    let mut next = 0u64;
    c.bench_function("store/insert 1000 liquidations (one transaction)", |b| {
        b.iter_batched(
            || {
                let batch: Vec<Arc<Notice>> =
                    (next..next + 1_000).map(|n| row(n, &v, &i)).collect();
                next += 1_000;
                batch
            },
            |batch| black_box(fresh.write(&batch).unwrap_or_else(|e| panic!("{e}"))),
            BatchSize::SmallInput,
        )
    });

    let path = big_store();
    let store = SqliteStore::open_read(&path).unwrap_or_else(|e| panic!("{e}"));
    let day = T0 + 15 * DAY;
    let q = Query {
        instrument: Some(i[3]),
        venue: Some(v[4]),
        since: Some(day),
        until: Some(day + DAY),
        ..Query::new(Kind::Liquidations)
    };
    let rows = store.query(&q).map(|r| r.len()).unwrap_or(0);
    eprintln!("a day of one instrument and venue: {rows} rows");
    c.bench_function("store/query one day, instrument + venue, 10M rows", |b| {
        b.iter(|| black_box(store.query(&q).unwrap_or_else(|e| panic!("{e}")).len()))
    });
    let all_venues = Query {
        venue: None,
        ..q.clone()
    };
    c.bench_function("store/query one day, instrument, 10M rows", |b| {
        b.iter(|| {
            black_box(
                store
                    .query(&all_venues)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .len(),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
