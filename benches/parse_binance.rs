//! Binance adapter throughput: parse + snapshot/diff sync of every frame of
//! the USD-M capture (`../shared/captures/BINANCE_FUTURES.jsonl.zst`, or the
//! folder named by `DEPTHWATCH_CAPTURES`), else of a synthetic set of
//! documentation-shaped frames. Throughput is in price-level updates.
//!
//! `cargo bench --bench parse_binance -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use depthwatch::capture::{CaptureReader, Frame, Record};
use depthwatch::model::MarketEvent;
use depthwatch::venues::binance::Binance;
use depthwatch::venues::testkit::Collector;
use depthwatch::venues::{Adapter, AdapterConfig, Output};

/// What one pass feeds the adapter.
enum Input {
    Open(String),
    Http(String, String),
    Text(String, String),
}

fn capture_inputs() -> Option<(String, Vec<Input>)> {
    let dir = std::env::var_os("DEPTHWATCH_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(depthwatch::capture::shared_captures_dir);
    let path = dir.join("BINANCE_FUTURES.jsonl.zst");
    let reader = CaptureReader::open(&path).ok()?;
    let mut inputs = Vec::new();
    for rec in reader {
        match rec.ok()? {
            Record::Connect { addr, .. } => inputs.push(Input::Open(addr)),
            // The instrument list is fetched once a session, not hot.
            Record::Http { url, .. } if url.contains("exchangeInfo") => {}
            Record::Http { url, body, .. } => inputs.push(Input::Http(url, body)),
            Record::Recv {
                addr,
                frame: Frame::Text(text),
                ..
            } => inputs.push(Input::Text(addr, text)),
            _ => {}
        }
    }
    Some((format!("capture {}", path.display()), inputs))
}

/// A 1000-level snapshot and 5000 USD-M diffs of 10 levels each, chained by `pu`.
fn synthetic_inputs() -> (String, Vec<Input>) {
    let ws = "wss://fstream.binance.com/public/stream?streams=btcusdt@depth@100ms".to_string();
    let rest = "https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000".to_string();
    let side = |start: u64, step: i64, n: u64| {
        (0..n)
            .map(|i| {
                let p = start as i64 * 10 + step * i as i64;
                format!(
                    r#"["{}.{}","{}.{:03}"]"#,
                    p / 10,
                    p % 10,
                    1 + i % 7,
                    i % 1000
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut inputs = vec![
        Input::Open(ws.clone()),
        Input::Http(
            rest,
            format!(
                r#"{{"lastUpdateId":1000,"E":1,"T":1,"bids":[{}],"asks":[{}]}}"#,
                side(65000, -1, 1000),
                side(65001, 1, 1000)
            ),
        ),
    ];
    let mut last = 990u64;
    for i in 0..5000u64 {
        let (first, u) = (last + 3, last + 10);
        let frame = format!(
            r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":{e},"T":{e},"s":"BTCUSDT","U":{first},"u":{u},"pu":{last},"b":[{b}],"a":[{a}]}}}}"#,
            e = 1_700_000_000_000u64 + i * 100,
            b = side(65000 - i % 20, -1, 5),
            a = side(65001 + i % 20, 1, 5),
        );
        inputs.push(Input::Text(ws.clone(), frame));
        last = u;
    }
    ("synthetic doc-shaped frames".to_string(), inputs)
}

fn feed(a: &mut Binance, input: &Input, out: &mut Output) {
    match input {
        Input::Open(url) => a.on_open(url, 0, out),
        Input::Http(url, body) => a.on_http(url, body, 0, out),
        Input::Text(url, text) => a.on_text(url, text, 0, out),
    }
}

/// Price levels carried by the book updates one pass produces.
fn level_updates(inputs: &[Input]) -> u64 {
    let mut a = Binance::new(AdapterConfig::default());
    let mut out = Output::default();
    let mut n = 0u64;
    for input in inputs {
        feed(&mut a, input, &mut out);
        for e in &out.events {
            if let MarketEvent::Book(u) = e {
                n += (u.bids.len() + u.asks.len()) as u64;
            }
        }
        out.clear();
    }
    n
}

fn bench(c: &mut Criterion) {
    let (source, inputs) = capture_inputs().unwrap_or_else(synthetic_inputs);
    let levels = level_updates(&inputs);
    eprintln!(
        "parse_binance: {source}: {} inputs, {levels} level updates per pass",
        inputs.len()
    );
    let mut group = c.benchmark_group("parse_binance");
    group.throughput(Throughput::Elements(levels));
    group.bench_function("parse+sync", |b| {
        b.iter(|| {
            let mut a = Binance::new(AdapterConfig::default());
            let mut out = Output::default();
            for input in &inputs {
                feed(&mut a, black_box(input), &mut out);
                black_box(&out.events);
                out.clear();
            }
        })
    });
    group.bench_function("parse+sync+book", |b| {
        b.iter(|| {
            let mut a = Binance::new(AdapterConfig::default());
            let mut books = Collector::default();
            let mut out = Output::default();
            for input in &inputs {
                feed(&mut a, black_box(input), &mut out);
                books.absorb(&mut out);
            }
            black_box(books.book_updates)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
