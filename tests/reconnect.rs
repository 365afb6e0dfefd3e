//! Issue 3: a local WebSocket server speaking Bybit's v5 protocol (the
//! simulator's) drops one connection mid-stream. The live runtime as the app
//! wires it (`net::run_venue` with its default backoff, `engine::runner::run`
//! publishing snapshots) must mark the books of that connection out of sync
//! at once, keep them out of the CBBO, reconnect, resubscribe and rebuild
//! them from a fresh snapshot, while the other connection's book stays live.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{COMPARE_LEVELS, inst};
use depthwatch::engine::runner::{self, EngineControl};
use depthwatch::engine::snapshot::{ConnState, Snapshot, VenueBook};
use depthwatch::engine::{Engine, EngineConfig, EngineInput};
use depthwatch::model::{BookState, Instrument, OutOfSyncReason};
use depthwatch::net::{HttpClient, run_venue};
use depthwatch::sim::{SimConfig, Simulator};
use depthwatch::venues::{AdapterConfig, registry};
use tokio::sync::{mpsc, watch};

fn venue_book(snap: &Snapshot, instrument: &Instrument) -> Option<VenueBook> {
    snap.instruments
        .iter()
        .flat_map(|v| v.venues.iter())
        .find(|b| b.venue == depthwatch::venue!("bybit") && b.instrument == *instrument)
        .cloned()
}

fn live(snap: &Snapshot, instrument: &Instrument) -> bool {
    venue_book(snap, instrument).is_some_and(|b| b.state.is_live())
}

/// Wait for a published snapshot satisfying `cond`, checking each one.
async fn next_snapshot(
    rx: &mut watch::Receiver<Arc<Snapshot>>,
    timeout: Duration,
    seen: &mut Vec<Arc<Snapshot>>,
    cond: impl Fn(&Snapshot) -> bool,
) -> Option<Arc<Snapshot>> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let snap = rx.borrow_and_update().clone();
        seen.push(snap.clone());
        if cond(&snap) {
            return Some(snap);
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            _ => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_bybit_connection_is_rebuilt_and_out_of_sync_in_between() {
    let sim = Arc::new(
        Simulator::start(SimConfig {
            seed: 3,
            tick: Duration::from_millis(50),
            levels_per_side: 120,
            manual_clock: true,
            ..SimConfig::default()
        })
        .await
        .expect("simulator"),
    );
    let spot = inst("BTC-USDT");
    let perp = inst("BTC-USDT-PERP");
    let (stop_tx, stop_rx) = watch::channel(false);
    let running = Arc::new(AtomicBool::new(true));
    let clock = tokio::spawn(common::drive_clock(
        sim.clone(),
        Duration::from_millis(50),
        running.clone(),
        stop_rx.clone(),
    ));

    let (in_tx, in_rx) = mpsc::channel::<EngineInput>(depthwatch::engine::INPUT_CAPACITY);
    let (snap_tx, mut snaps) = watch::channel(Arc::new(Snapshot::default()));
    let (ctl_tx, ctl_rx) = mpsc::channel(4);
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
        depthwatch::venue!("bybit"),
        AdapterConfig {
            instruments: vec![spot, perp],
            endpoints: sim.endpoints()[&depthwatch::venue!("bybit")].clone(),
            ..AdapterConfig::default()
        },
    );
    let feed = tokio::spawn(run_venue(
        adapter,
        in_tx,
        HttpClient::new().expect("http"),
        None,
        stop_rx,
    ));

    let mut seen = Vec::new();
    let both_live = |s: &Snapshot| live(s, &spot) && live(s, &perp);
    assert!(
        next_snapshot(&mut snaps, Duration::from_secs(10), &mut seen, both_live)
            .await
            .is_some(),
        "books never went live"
    );

    // Drop the linear connection mid-stream (no close frame).
    let conns = sim.faults().connections();
    let linear = conns
        .iter()
        .find(|c| c.venue == depthwatch::venue!("bybit") && c.path.ends_with("/linear"))
        .expect("linear connection")
        .clone();
    let dropped_at = Instant::now();
    sim.faults()
        .connection(linear.id)
        .expect("connection")
        .drop_connections();

    // Out of sync in between, and kept out of the CBBO meanwhile.
    let down = next_snapshot(&mut snaps, Duration::from_secs(2), &mut seen, |s| {
        venue_book(s, &perp)
            .is_some_and(|b| b.state == BookState::OutOfSync(OutOfSyncReason::Disconnected))
    })
    .await
    .expect("perp book marked disconnected");
    let marked_after = dropped_at.elapsed();
    assert!(live(&down, &spot), "the spot connection's book stays live");

    // Reconnected, resubscribed (a new session on the same path), rebuilt.
    let back = next_snapshot(&mut snaps, Duration::from_secs(5), &mut seen, |s| {
        live(s, &perp)
    })
    .await
    .expect("perp book rebuilt");
    let rebuilt_after = dropped_at.elapsed();
    let now_conns = sim.faults().connections();
    let fresh = now_conns
        .iter()
        .find(|c| c.venue == depthwatch::venue!("bybit") && c.path == linear.path)
        .expect("a new linear connection");
    assert_ne!(fresh.id, linear.id);
    let row = back
        .health
        .iter()
        .find(|r| r.venue == depthwatch::venue!("bybit") && r.conn.ends_with("/linear"))
        .expect("linear health row");
    assert_eq!(row.state, ConnState::Connected);
    assert_eq!(row.reconnects, 1);
    let spot_row = back
        .health
        .iter()
        .find(|r| r.venue == depthwatch::venue!("bybit") && r.conn.ends_with("/spot"))
        .expect("spot health row");
    assert_eq!(spot_row.reconnects, 0);

    // Every published snapshot while the book was not live kept it out.
    let mut while_down = 0;
    for s in &seen {
        for view in &s.instruments {
            for b in view.venues.iter().filter(|b| !b.state.is_live()) {
                while_down += 1;
                assert!(view.cbbo.excluded.iter().any(|(v, _)| *v == b.venue));
                for side in [&view.cbbo.bid, &view.cbbo.ask].into_iter().flatten() {
                    assert!(!(side.venue == b.venue && side.instrument == b.instrument));
                }
            }
            for b in view.venues.iter().filter(|b| b.state.is_live()) {
                if let (Some(bid), Some(ask)) = (b.bids.first(), b.asks.first()) {
                    assert!(bid.price < ask.price, "crossed book published");
                }
            }
        }
    }
    assert!(while_down > 0);

    // Quiescent: the rebuilt book equals the simulator's.
    running.store(false, Ordering::SeqCst);
    let matches = |s: &Snapshot| {
        [spot, perp].iter().all(|i| {
            let Some(b) = venue_book(s, i) else {
                return false;
            };
            let (bids, asks) = sim.book(depthwatch::venue!("bybit"), i);
            b.state.is_live()
                && b.bids
                    .iter()
                    .take(COMPARE_LEVELS)
                    .eq(bids.iter().take(COMPARE_LEVELS))
                && b.asks
                    .iter()
                    .take(COMPARE_LEVELS)
                    .eq(asks.iter().take(COMPARE_LEVELS))
        })
    };
    assert!(
        next_snapshot(&mut snaps, Duration::from_secs(3), &mut seen, matches)
            .await
            .is_some(),
        "rebuilt books differ from the simulator's"
    );
    eprintln!(
        "RECONNECT bybit linear: marked out of sync {} ms after the drop, rebuilt after {} ms",
        marked_after.as_millis(),
        rebuilt_after.as_millis()
    );

    let _ = ctl_tx.send(EngineControl::Shutdown).await;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), feed).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), engine).await;
    clock.abort();
}
