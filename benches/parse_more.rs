//! Level updates per second through the OKX, Kraken, Bitstamp and Hyperliquid
//! adapters, on frames shaped like each venue's documentation: parse, apply to
//! the adapter's own state (and checksum where the venue has one), emit.
//!
//! Run: `cargo bench --bench parse_more -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use depthwatch::model::BookSide;
use depthwatch::venues::bitstamp::Bitstamp;
use depthwatch::venues::checksum::{TextBook, kraken_checksum, okx_checksum};
use depthwatch::venues::hyperliquid::Hyperliquid;
use depthwatch::venues::kraken::Kraken;
use depthwatch::venues::okx::Okx;
use depthwatch::venues::{Adapter, AdapterConfig, Output};
use std::hint::black_box;

fn config(inst: &str) -> AdapterConfig {
    AdapterConfig {
        instruments: vec![inst.parse().expect("instrument")],
        ..AdapterConfig::default()
    }
}

type Ladder = Vec<(String, String)>;

/// `levels` bids below 65000 and as many asks above, all at one size.
fn ladder(levels: usize, size: &str) -> (Ladder, Ladder) {
    let bids = (0..levels)
        .map(|i| (format!("{}.{}", 64999 - i, i % 10), size.to_string()))
        .collect();
    let asks = (0..levels)
        .map(|i| (format!("{}.{}", 65001 + i, i % 10), size.to_string()))
        .collect();
    (bids, asks)
}

/// Run `frames` round-robin through one adapter, counting `levels` per frame.
fn bench_frames(
    c: &mut Criterion,
    name: &str,
    a: &mut dyn Adapter,
    url: &str,
    frames: &[String],
    levels: u64,
) {
    let mut group = c.benchmark_group("parse_more");
    group.throughput(Throughput::Elements(levels));
    let mut out = Output::default();
    let mut i = 0usize;
    group.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            a.on_text(url, black_box(&frames[i % frames.len()]), 1, &mut out);
            i += 1;
            black_box(out.events.len())
        })
    });
    group.finish();
    assert!(
        !out.events.iter().any(
            |e| matches!(e, depthwatch::model::MarketEvent::Incident { incident, .. }
            if *incident != depthwatch::model::Incident::ChecksumOk)
        ),
        "{name}: frames produced incidents: {:?}",
        out.events
    );
}

fn okx(c: &mut Criterion) {
    const URL: &str = "wss://ws.okx.com:8443/ws/v5/public";
    let okx_levels = |l: &[(String, String)]| {
        l.iter()
            .map(|(p, s)| format!(r#"["{p}","{s}","0","1"]"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut book = TextBook::default();
    let (sb, sa) = ladder(25, "1.5");
    for (p, s) in &sb {
        book.set_text(BookSide::Bid, p, s);
    }
    for (p, s) in &sa {
        book.set_text(BookSide::Ask, p, s);
    }
    let snapshot = format!(
        r#"{{"arg":{{"channel":"books","instId":"BTC-USDT"}},"action":"snapshot","data":[{{"asks":[{}],"bids":[{}],"ts":"1","checksum":{}}}]}}"#,
        okx_levels(&sa),
        okx_levels(&sb),
        okx_checksum(&book)
    );
    // Two updates over the same 10+10 prices alternate the book between two
    // states, so every checksum can be precomputed.
    let mut frames = Vec::new();
    for size in ["0.25", "3.125"] {
        let (ub, ua) = ladder(10, size);
        for (p, s) in &ub {
            book.set_text(BookSide::Bid, p, s);
        }
        for (p, s) in &ua {
            book.set_text(BookSide::Ask, p, s);
        }
        frames.push(format!(
            r#"{{"arg":{{"channel":"books","instId":"BTC-USDT"}},"action":"update","data":[{{"asks":[{}],"bids":[{}],"ts":"2","checksum":{}}}]}}"#,
            okx_levels(&ua),
            okx_levels(&ub),
            okx_checksum(&book)
        ));
    }
    let mut a = Okx::new(config("BTC-USDT"));
    let mut out = Output::default();
    a.on_open(URL, 0, &mut out);
    a.on_text(URL, &snapshot, 0, &mut out);
    bench_frames(
        c,
        "okx books update 20 levels + crc32",
        &mut a,
        URL,
        &frames,
        20,
    );
}

fn kraken(c: &mut Criterion) {
    const URL: &str = "wss://ws.kraken.com/v2";
    let kraken_levels = |l: &[(String, String)]| {
        l.iter()
            .map(|(p, s)| format!(r#"{{"price":{p},"qty":{s}}}"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut book = TextBook::default();
    let (sb, sa) = ladder(10, "1.50000000");
    for (p, s) in &sb {
        book.set_text(BookSide::Bid, p, s);
    }
    for (p, s) in &sa {
        book.set_text(BookSide::Ask, p, s);
    }
    let snapshot = format!(
        r#"{{"channel":"book","type":"snapshot","data":[{{"symbol":"BTC/USD","bids":[{}],"asks":[{}],"checksum":{}}}]}}"#,
        kraken_levels(&sb),
        kraken_levels(&sa),
        kraken_checksum(&book, None, None)
    );
    let mut frames = Vec::new();
    for size in ["0.25000000", "3.12500000"] {
        let (ub, ua) = ladder(5, size);
        for (p, s) in &ub {
            book.set_text(BookSide::Bid, p, s);
        }
        for (p, s) in &ua {
            book.set_text(BookSide::Ask, p, s);
        }
        frames.push(format!(
            r#"{{"channel":"book","type":"update","data":[{{"symbol":"BTC/USD","bids":[{}],"asks":[{}],"checksum":{},"timestamp":"2023-10-06T17:35:55.440295Z"}}]}}"#,
            kraken_levels(&ub),
            kraken_levels(&ua),
            kraken_checksum(&book, None, None)
        ));
    }
    let mut a = Kraken::new(config("BTC-USD"));
    let mut out = Output::default();
    a.on_open(URL, 0, &mut out);
    a.on_text(URL, &snapshot, 0, &mut out);
    bench_frames(
        c,
        "kraken book update 10 levels + crc32",
        &mut a,
        URL,
        &frames,
        10,
    );
}

fn bitstamp(c: &mut Criterion) {
    const URL: &str = "wss://ws.bitstamp.net";
    let pairs = |l: &[(String, String)]| {
        l.iter()
            .map(|(p, s)| format!(r#"["{p}","{s}"]"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    let (sb, sa) = ladder(100, "1.00000000");
    let snapshot = format!(
        r#"{{"timestamp":"1","microtimestamp":"1000000","bids":[{}],"asks":[{}]}}"#,
        pairs(&sb),
        pairs(&sa)
    );
    let frames: Vec<String> = ["0.25000000", "3.12500000"]
        .iter()
        .map(|size| {
            let (ub, ua) = ladder(10, size);
            format!(
                r#"{{"data":{{"timestamp":"2","microtimestamp":"2000000","bids":[{}],"asks":[{}]}},"channel":"diff_order_book_btcusd","event":"data"}}"#,
                pairs(&ub),
                pairs(&ua)
            )
        })
        .collect();
    let mut a = Bitstamp::new(config("BTC-USD"));
    let mut out = Output::default();
    a.on_open(URL, 0, &mut out);
    a.on_http(
        "https://www.bitstamp.net/api/v2/order_book/btcusd/",
        &snapshot,
        0,
        &mut out,
    );
    bench_frames(c, "bitstamp diff 20 levels", &mut a, URL, &frames, 20);
}

fn hyperliquid(c: &mut Criterion) {
    const URL: &str = "wss://api.hyperliquid.xyz/ws";
    let (b, a_) = ladder(20, "0.5");
    let side = |l: &[(String, String)]| {
        l.iter()
            .map(|(p, s)| format!(r#"{{"px":"{p}","sz":"{s}","n":3}}"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    let frames = vec![format!(
        r#"{{"channel":"l2Book","data":{{"coin":"BTC","time":1700000000000,"levels":[[{}],[{}]]}}}}"#,
        side(&b),
        side(&a_)
    )];
    let mut a = Hyperliquid::new(config("BTC-USD-PERP"));
    let mut out = Output::default();
    a.on_open(URL, 0, &mut out);
    bench_frames(c, "hyperliquid l2Book 40 levels", &mut a, URL, &frames, 40);
}

criterion_group!(benches, okx, kraken, bitstamp, hyperliquid);
criterion_main!(benches);
