//! Issue 19: a panic anywhere in a venue's task must not take the app down.
//! An adapter that panics on its 40th frame runs in the live runtime against
//! the simulator: its books leave the CBBO at once with the reason, the
//! venue comes back on a fresh adapter (reconnected, resubscribed) and its
//! books are live again; the feed task never ends.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::inst;
use depthwatch::engine::runner;
use depthwatch::engine::snapshot::Snapshot;
use depthwatch::engine::{Engine, EngineConfig, EngineInput};
use depthwatch::model::{BookState, Micros, OutOfSyncReason, Venue};
use depthwatch::net::{HttpClient, run_venue};
use depthwatch::sim::{SimConfig, Simulator};
use depthwatch::venues::lifecycle::Lifecycle;
use depthwatch::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output, registry};
use tokio::sync::{mpsc, watch};

/// The real Bybit adapter, with a bug that fires once.
struct Buggy {
    inner: Box<dyn Adapter>,
    frames: u32,
}

impl Adapter for Buggy {
    fn venue(&self) -> Venue {
        self.inner.venue()
    }
    fn connections(&self) -> Vec<ConnSpec> {
        self.inner.connections()
    }
    fn start(&mut self, now: Micros, out: &mut Output) {
        self.inner.start(now, out)
    }
    fn on_open(&mut self, url: &str, now: Micros, out: &mut Output) {
        self.inner.on_open(url, now, out)
    }
    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        self.frames += 1;
        self.inner.on_text(url, text, received, out);
        if self.frames == 40 {
            let nothing: Vec<u32> = Vec::new();
            let _ = nothing[self.frames as usize];
        }
    }
    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        self.inner.on_http(url, body, received, out)
    }
    fn on_close(&mut self, url: &str, now: Micros, out: &mut Output) {
        self.inner.on_close(url, now, out)
    }
    fn lifecycle(&self) -> &Lifecycle {
        self.inner.lifecycle()
    }
    fn config(&self) -> &AdapterConfig {
        self.inner.config()
    }
    fn poll_depth(&self, instrument: &depthwatch::model::Instrument) -> Option<DepthPoll> {
        self.inner.poll_depth(instrument)
    }
    fn on_poll(
        &mut self,
        instrument: depthwatch::model::Instrument,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        self.inner.on_poll(instrument, body, received, out)
    }
}

fn state(snap: &Snapshot, i: &depthwatch::model::Instrument) -> Option<BookState> {
    snap.instruments
        .iter()
        .flat_map(|v| v.venues.iter())
        .find(|b| b.venue == depthwatch::venue!("bybit") && b.instrument == *i)
        .map(|b| b.state.clone())
}

async fn wait_for(
    rx: &mut watch::Receiver<Arc<Snapshot>>,
    within: Duration,
    cond: impl Fn(&Snapshot) -> bool,
) -> Option<Arc<Snapshot>> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let snap = rx.borrow_and_update().clone();
        if cond(&snap) {
            return Some(snap);
        }
        if tokio::time::timeout_at(deadline, rx.changed())
            .await
            .is_err()
        {
            return None;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_adapter_is_restarted_and_its_books_rebuilt() {
    depthwatch::venues::guard::install_hook();
    let sim = Simulator::start(SimConfig {
        seed: 9,
        tick: Duration::from_millis(50),
        levels_per_side: 60,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let spot = inst("BTC-USDT");
    let (in_tx, in_rx) = mpsc::channel::<EngineInput>(depthwatch::engine::INPUT_CAPACITY);
    let (snap_tx, mut snaps) = watch::channel(Arc::new(Snapshot::default()));
    let (_ctl_tx, ctl_rx) = mpsc::channel(4);
    let engine = tokio::spawn(runner::run(
        Engine::new(EngineConfig {
            watchlist: vec![spot],
            ..EngineConfig::default()
        }),
        in_rx,
        snap_tx,
        50,
        ctl_rx,
    ));
    let cfg = AdapterConfig {
        instruments: vec![spot],
        endpoints: sim.endpoints()[&depthwatch::venue!("bybit")].clone(),
        ..AdapterConfig::default()
    };
    let adapter = Box::new(Buggy {
        inner: registry::build(depthwatch::venue!("bybit"), cfg),
        frames: 0,
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let feed = tokio::spawn(run_venue(
        adapter,
        in_tx,
        HttpClient::new().expect("http"),
        None,
        stop_rx,
    ));

    let restarted = wait_for(&mut snaps, Duration::from_secs(20), |s| {
        matches!(state(s, &spot), Some(BookState::OutOfSync(OutOfSyncReason::Venue(ref why))) if why.contains("restarted"))
    })
    .await
    .expect("the book is shown out of sync with the reason after the panic");
    let view = &restarted.instruments[0];
    assert!(
        view.cbbo.bid.is_none() && view.cbbo.ask.is_none(),
        "out of the CBBO"
    );
    assert!(!feed.is_finished(), "the feed task survived the panic");

    wait_for(&mut snaps, Duration::from_secs(20), |s| {
        state(s, &spot).is_some_and(|b| b.is_live())
    })
    .await
    .expect("rebuilt on a fresh adapter");
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), feed).await;
    engine.abort();
    sim.shutdown().await;
}
