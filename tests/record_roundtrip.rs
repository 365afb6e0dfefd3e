//! `record` writes what the adapters saw, so a recording replays to the same
//! books: live feeds from the simulator (loopback) are recorded while an
//! engine keeps the live books; after a clean stop, replaying the files gives
//! exactly those books.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use depthwatch::capture::CaptureWriter;
use depthwatch::engine::{Engine, EngineConfig, EngineInput};
use depthwatch::model::{Instrument, Venue};
use depthwatch::net::{HttpClient, Recording, run_venue};
use depthwatch::replay::Replayer;
use depthwatch::sim::{SimConfig, Simulator};
use depthwatch::venues::{AdapterConfig, registry};
use tokio::sync::{Mutex, mpsc, watch};

type Books = BTreeMap<(Venue, Instrument), (Vec<String>, Vec<String>)>;

fn books_of(engine: &Engine) -> Books {
    engine
        .books()
        .filter(|b| b.book.is_live())
        .map(|b| {
            let side = |s: &depthwatch::book::Side| {
                s.iter()
                    .map(|l| format!("{}x{}", l.price.normalize(), l.size.normalize()))
                    .collect::<Vec<_>>()
            };
            (
                (b.venue, b.instrument),
                (side(&b.book.bids), side(&b.book.asks)),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_replays_to_the_same_books() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let endpoints = sim.endpoints();
    let mut by_venue: BTreeMap<Venue, BTreeSet<Instrument>> = BTreeMap::new();
    for (v, i) in sim.instruments() {
        by_venue.entry(v).or_default().insert(i);
    }

    let (tx, mut rx) = mpsc::channel::<EngineInput>(65_536);
    let engine = Arc::new(Mutex::new(Engine::new(EngineConfig::default())));
    let fed = engine.clone();
    let feeder = tokio::spawn(async move {
        while let Some(input) = rx.recv().await {
            fed.lock().await.handle(input);
        }
    });
    let http = HttpClient::new().unwrap();
    let mut tasks = Vec::new();
    let mut stops = Vec::new();
    let mut files = Vec::new();
    for (venue, instruments) in &by_venue {
        let cfg = AdapterConfig {
            instruments: instruments.iter().copied().collect(),
            endpoints: endpoints[venue].clone(),
            ..AdapterConfig::default()
        };
        let exchange = venue.as_str().to_ascii_uppercase();
        let path = dir.path().join(format!("{exchange}.jsonl.zst"));
        let writer = CaptureWriter::create(&path, &exchange, &BTreeMap::new(), 0).unwrap();
        files.push(path);
        let (stop, stop_rx) = watch::channel(false);
        stops.push(stop);
        let adapter = registry::build(*venue, cfg);
        tasks.push(tokio::spawn(run_venue(
            adapter,
            tx.clone(),
            http.clone(),
            Some(Recording { writer, exchange }),
            stop_rx,
        )));
    }
    drop(tx);

    // Let every book go live and move for a while.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let live = books_of(&*engine.lock().await).len();
        if live >= sim.instruments().len() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "books never went live ({live})"
        );
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;

    // A clean stop: every feed flushes its file after its last frame.
    for s in &stops {
        s.send(true).unwrap();
    }
    for t in tasks {
        t.await.unwrap();
    }
    feeder.await.unwrap();
    let live = books_of(&*engine.lock().await);
    assert!(!live.is_empty());

    let mut replayer = Replayer::open(&files, false).unwrap();
    let mut replayed = Engine::new(EngineConfig::default());
    while let Some((_, inputs)) = replayer.next_inputs().unwrap() {
        for i in inputs {
            replayed.handle(i);
        }
    }
    let again = books_of(&replayed);
    for (k, book) in &live {
        let other = &again[k];
        for (side, (a, b)) in [("bids", (&book.0, &other.0)), ("asks", (&book.1, &other.1))] {
            if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
                panic!(
                    "{k:?} {side} differ after replay at level {i}: live {:?} replayed {:?} (levels {} vs {})",
                    a.get(i),
                    b.get(i),
                    a.len(),
                    b.len()
                );
            }
        }
    }
    assert_eq!(replayed.totals().parse_errors, 0);
    sim.shutdown().await;
}
