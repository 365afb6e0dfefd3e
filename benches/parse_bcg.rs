//! Adapter throughput on the real captures: frames/s and book level
//! updates/s for Bybit, Coinbase and Gemini. The capture is read into memory
//! first and REST bodies (instrument lists) are fed to each fresh adapter
//! outside the timed part, so only the adapters' frame parsing and
//! sequencing is measured (books are not applied).
//!
//! Run: `cargo bench --bench parse_bcg -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use depthwatch::capture::{CaptureReader, Frame, Record};
use depthwatch::model::MarketEvent;
use depthwatch::venues::bybit::Bybit;
use depthwatch::venues::coinbase::Coinbase;
use depthwatch::venues::gemini::Gemini;
use depthwatch::venues::{Adapter, AdapterConfig, Output};

/// A fresh adapter that has seen the capture's REST bodies.
fn primed(make: fn() -> Box<dyn Adapter>, records: &[Record]) -> Box<dyn Adapter> {
    let mut adapter = make();
    let mut out = Output::default();
    for rec in records {
        if let Record::Http { url, body, ts, .. } = rec {
            adapter.on_http(url, body, *ts, &mut out);
            out.clear();
        }
    }
    adapter
}

/// Feed every WebSocket record to the adapter; returns (frames, level
/// updates).
fn run(adapter: &mut dyn Adapter, records: &[Record]) -> (u64, u64) {
    let mut out = Output::default();
    let (mut frames, mut levels) = (0u64, 0u64);
    for rec in records {
        match rec {
            Record::Connect { addr, ts, .. } => adapter.on_open(addr, *ts, &mut out),
            Record::Http { .. } | Record::Send { .. } => {}
            Record::Recv {
                addr, frame, ts, ..
            } => {
                frames += 1;
                match frame {
                    Frame::Text(t) => adapter.on_text(addr, t, *ts, &mut out),
                    Frame::Binary(b) => adapter.on_binary(addr, b, *ts, &mut out),
                }
            }
        }
        for e in &out.events {
            if let MarketEvent::Book(u) = e {
                levels += (u.bids.len() + u.asks.len()) as u64;
            }
        }
        out.clear();
    }
    (frames, levels)
}

fn load(file: &str) -> Option<Vec<Record>> {
    let path = depthwatch::capture::shared_captures_dir().join(file);
    let reader = match CaptureReader::open(&path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("SKIPPED parse_bcg {file}: {} ({e})", path.display());
            return None;
        }
    };
    match reader.collect::<Result<Vec<_>, _>>() {
        Ok(records) => Some(records),
        Err(e) => {
            eprintln!("SKIPPED parse_bcg {file}: {e}");
            None
        }
    }
}

fn bench_venue(c: &mut Criterion, name: &str, file: &str, make: fn() -> Box<dyn Adapter>) {
    let Some(records) = load(file) else {
        return;
    };
    let (frames, levels) = run(primed(make, &records).as_mut(), &records);
    eprintln!("{name}: {frames} frames, {levels} level updates per pass");
    for (unit, count) in [("frames", frames), ("levels", levels)] {
        let mut group = c.benchmark_group(format!("parse_bcg/{unit}"));
        group.throughput(Throughput::Elements(count));
        group.bench_function(name, |b| {
            b.iter_batched(
                || primed(make, &records),
                |mut a| run(a.as_mut(), &records),
                criterion::BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

fn benches(c: &mut Criterion) {
    bench_venue(c, "bybit", "BYBIT.jsonl.zst", || {
        Box::new(Bybit::new(AdapterConfig::default()))
    });
    bench_venue(c, "coinbase", "COINBASE.jsonl.zst", || {
        Box::new(Coinbase::new(AdapterConfig::default()))
    });
    bench_venue(c, "gemini", "GEMINI.jsonl.zst", || {
        Box::new(Gemini::new(AdapterConfig::default()))
    });
}

criterion_group!(parse, benches);
criterion_main!(parse);
