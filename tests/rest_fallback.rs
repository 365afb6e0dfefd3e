//! Issue 11, REST fallback: a venue whose WebSocket port refuses while its
//! REST API answers shows `polled` books (usable while fresh, arbitrage
//! through them marked), then `live` ones when the WebSocket comes back,
//! with no wrong book in between.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::inst;
use depthwatch::engine::runner;
use depthwatch::engine::snapshot::Snapshot;
use depthwatch::engine::{Engine, EngineConfig, EngineInput};
use depthwatch::model::{BookState, Instrument};
use depthwatch::net::ws::ConnOptions;
use depthwatch::net::{FeedOptions, HttpClient, run_venue_with};
use depthwatch::sim::{SimConfig, Simulator};
use depthwatch::venues::{AdapterConfig, registry};
use tokio::sync::{mpsc, watch};

fn state(snap: &Snapshot, i: &Instrument) -> Option<BookState> {
    snap.instruments
        .iter()
        .flat_map(|v| v.venues.iter())
        .find(|b| b.venue == depthwatch::venue!("bybit") && b.instrument == *i)
        .map(|b| b.state.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_websocket_falls_back_to_polled_books_then_live() {
    let sim = Simulator::start(SimConfig {
        seed: 5,
        tick: Duration::from_millis(50),
        levels_per_side: 80,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let bybit = depthwatch::venue!("bybit");
    sim.faults()
        .venue(bybit)
        .refuse_websockets(Duration::from_secs(6));
    let spot = inst("BTC-USDT");
    let perp = inst("BTC-USDT-PERP");
    let (in_tx, in_rx) = mpsc::channel::<EngineInput>(depthwatch::engine::INPUT_CAPACITY);
    let (snap_tx, mut snaps) = watch::channel(Arc::new(Snapshot::default()));
    let (_ctl, ctl_rx) = mpsc::channel(4);
    let engine = tokio::spawn(runner::run(
        Engine::new(EngineConfig {
            watchlist: vec![spot, perp],
            ..EngineConfig::default()
        }),
        in_rx,
        snap_tx,
        50,
        ctl_rx,
    ));
    let adapter = registry::build(
        bybit,
        AdapterConfig {
            instruments: vec![spot, perp],
            endpoints: sim.endpoints()[&bybit].clone(),
            ..AdapterConfig::default()
        },
    );
    let opts = FeedOptions {
        conn: ConnOptions {
            backoff_base: Duration::from_millis(50),
            backoff_cap: Duration::from_millis(300),
            max_idle: None,
        },
        ..FeedOptions::default()
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let feed = tokio::spawn(run_venue_with(
        adapter,
        in_tx,
        HttpClient::new().expect("http"),
        None,
        stop_rx,
        opts,
    ));

    let mut saw_polled = false;
    let mut saw_live_after = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(25);
    while tokio::time::Instant::now() < deadline && !saw_live_after {
        if tokio::time::timeout_at(deadline, snaps.changed())
            .await
            .is_err()
        {
            break;
        }
        let snap = snaps.borrow_and_update().clone();
        let Some(view) = snap.instruments.iter().find(|v| v.instrument == spot) else {
            continue;
        };
        match state(&snap, &spot) {
            Some(BookState::Polled) => {
                saw_polled = true;
                let b = view
                    .venues
                    .iter()
                    .find(|b| b.venue == bybit)
                    .expect("the polled book is listed");
                assert!(
                    !b.bids.is_empty() && !b.asks.is_empty(),
                    "a polled book has levels"
                );
                assert!(b.bids[0].price < b.asks[0].price, "never crossed");
                // Fresh polled books take part in the CBBO.
                assert!(view.cbbo.bid.is_some(), "the polled book is in the CBBO");
            }
            Some(BookState::Live) if saw_polled => saw_live_after = true,
            Some(BookState::Live) => panic!("live while the WebSocket is refused"),
            _ => {}
        }
    }
    assert!(
        saw_polled,
        "books were never polled while the WebSocket was refused"
    );
    assert!(saw_live_after, "the WebSocket never took over again");
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), feed).await;
    engine.abort();
    sim.shutdown().await;
}
