//! The built-in market simulator: a seeded market served over the real venue
//! protocols (Binance spot and USD-M, Bybit v5, OKX v5) on loopback ports.
//!
//! `depthwatch --demo` starts one in-process and points the real adapters at
//! it through [`Simulator::endpoints`], so WebSocket, REST, adapters, engine
//! and TUI all run with no network; tests use [`Simulator::faults`] to break
//! feeds on purpose.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use depthwatch::sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default()).await?;
//! let endpoints = sim.endpoints(); // venue → endpoint key → URL
//! # drop(endpoints);
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod book;
mod catalog;
mod faults;
mod history;
mod market;
mod server;
mod session;
pub mod wire;

/// What a venue's simulator (in its venue module) builds on.
pub(crate) mod kit {
    pub use super::Shared;
    pub use super::SimVenue;
    pub use super::book::{FeedView, HUGE_LEVELS, RawLevel, pad_huge};
    pub use super::catalog::{FULL_DEPTH, Fixed, Listing, Plain, Spec};
    pub use super::history::{funding_history, kline_history, open_interest_history};
    pub use super::market::{BookId, SimEvent, SimLiquidation, SimTicker, SimTrade, Step};
    pub use super::server::{Request, Response};
    pub use super::session::{Ctx, Protocol};
    pub use super::wire;
}

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::model::{Instrument, Level, Venue, now_micros};

pub use faults::{ConnInfo, Fault, FaultControl, FaultStats, FaultTarget};

use catalog::Spec;
use market::{BookId, Market, Step, ViewSnapshot};

/// How the simulator behaves; `Default` is the demo setting.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Same seed, same market.
    pub seed: u64,
    /// One market step (every book updates about once per step).
    pub tick: Duration,
    /// Resting levels per book side.
    pub levels_per_side: usize,
    /// Fair-price volatility per step, in basis points (calm regime).
    pub volatility_bps: f64,
    /// Mean seconds between dislocations of one book (0 = never).
    pub dislocation_every_s: f64,
    /// Mean seconds between liquidation cascades of one base asset (0 = never).
    pub cascade_every_s: f64,
    /// Start paused: the market only moves when [`Simulator::advance`] is
    /// called (tests), until [`Simulator::set_paused`]`(false)`. While
    /// paused, REST snapshots answer at once instead of after the next step.
    pub manual_clock: bool,
    /// Exchange time of the first step, Unix ms; `None` = wall clock.
    pub epoch_ms: Option<i64>,
    /// Interval of Binance's server ping frames.
    pub binance_ping: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            tick: Duration::from_millis(100),
            levels_per_side: 500,
            volatility_bps: 0.5,
            dislocation_every_s: 150.0,
            cascade_every_s: 90.0,
            manual_clock: false,
            epoch_ms: None,
            binance_ping: Duration::from_secs(20),
        }
    }
}

/// A venue's simulator, declared in its venue module (`SPEC.sim`): the
/// books it lists, the depths it streams them at, its endpoint keys on the
/// loopback port, and its protocol.
pub struct SimVenue {
    pub(crate) listings: &'static [catalog::Listing],
    /// The depths every book is streamed at (one feed view per depth).
    pub(crate) depths: &'static [usize],
    /// Endpoint overrides for the adapter, from the port's `ws://` and
    /// `http://` base URLs.
    pub(crate) endpoints: fn(ws: &str, http: &str) -> Vec<(&'static str, String)>,
    pub(crate) protocol: fn(&server::Request, &Shared) -> Option<Box<dyn session::Protocol>>,
    pub(crate) http_get: fn(&server::Request, &Shared) -> server::Response,
    /// The checksum each book message carries, for venues that send one.
    pub(crate) checksum: Option<fn(&catalog::Spec, &book::FeedView) -> i32>,
}

/// The simulated venues, in registry order.
pub fn venues() -> Vec<Venue> {
    Venue::all().filter(|v| v.spec().sim.is_some()).collect()
}

/// What every connection shares.
pub struct Shared {
    pub(crate) market: Mutex<Market>,
    pub(crate) tx: broadcast::Sender<Arc<Step>>,
    pub(crate) specs: Arc<Vec<Spec>>,
    pub(crate) faults: FaultControl,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) cfg: SimConfig,
    /// Per-connection ids for venues that print one (`conn_id`, `connId`).
    pub(crate) next_conn: std::sync::atomic::AtomicU64,
    /// The clock is stopped (manual mode or paused); only `advance` moves it.
    pub(crate) paused: AtomicBool,
}

impl Shared {
    /// A feed view's current state, limited to `limit` levels a side, taken
    /// atomically with respect to market steps.
    pub(crate) fn snapshot(&self, book: BookId, view: usize, limit: usize) -> Option<ViewSnapshot> {
        self.market.lock().ok()?.view_snapshot(book, view, limit)
    }

    pub(crate) fn spec(&self, book: BookId) -> Option<&Spec> {
        self.specs.get(book)
    }

    pub(crate) fn find(&self, venue: Venue, pred: impl Fn(&Spec) -> bool) -> Option<BookId> {
        self.specs.iter().position(|s| s.venue == venue && pred(s))
    }

    pub(crate) fn open_interest(&self, book: BookId) -> Option<i64> {
        self.market.lock().ok()?.open_interest(book)
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.market.lock().map(|m| m.time_ms()).unwrap_or(0)
    }

    pub(crate) fn is_running(&self) -> bool {
        !self.paused.load(Ordering::Relaxed)
    }

    /// With the clock running, wait (up to a second) for the next step, as a
    /// REST answer lags the stream on a real venue. A snapshot taken then is
    /// newer than the first stream event a client connected earlier holds.
    pub(crate) async fn after_next_step(&self) {
        if self.is_running() {
            let mut rx = self.tx.subscribe();
            let _ = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await;
        }
    }

    pub(crate) fn conn_no(&self) -> u64 {
        self.next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// A running simulator.
pub struct Simulator {
    shared: Arc<Shared>,
    ports: BTreeMap<Venue, u16>,
    tasks: Vec<JoinHandle<()>>,
    shutdown: watch::Sender<bool>,
}

fn advance_market(shared: &Shared, time_ms: impl FnOnce(&Market) -> i64) {
    if let Ok(mut m) = shared.market.lock() {
        let t = time_ms(&m);
        let step = Arc::new(m.step(t));
        // Sent under the lock: a snapshot taken under it is exactly "after
        // step N", and every receiver sees step N+1 next.
        let _ = shared.tx.send(step);
    }
}

impl Simulator {
    /// Bind one free loopback port per venue and start serving.
    pub async fn start(cfg: SimConfig) -> anyhow::Result<Simulator> {
        let specs = Arc::new(catalog::specs());
        let epoch_ms = cfg.epoch_ms.unwrap_or_else(|| now_micros() / 1000);
        let market = Market::new(&cfg, specs.clone(), epoch_ms);
        let (tx, _) = broadcast::channel(1024);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            market: Mutex::new(market),
            tx,
            specs,
            faults: FaultControl::new(&venues()),
            shutdown: shutdown_rx,
            cfg: cfg.clone(),
            next_conn: std::sync::atomic::AtomicU64::new(1),
            paused: AtomicBool::new(cfg.manual_clock),
        });
        let mut ports = BTreeMap::new();
        let mut tasks = Vec::new();
        for venue in venues() {
            let listener = server::bind().await?;
            ports.insert(venue, listener.local_addr()?.port());
            tasks.push(tokio::spawn(server::serve(listener, venue, shared.clone())));
        }
        {
            let shared = shared.clone();
            tasks.push(tokio::spawn(async move {
                let start = Instant::now();
                let mut every =
                    tokio::time::interval(shared.cfg.tick.max(Duration::from_millis(1)));
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                every.tick().await;
                loop {
                    every.tick().await;
                    if shared.is_running() {
                        let elapsed = start.elapsed().as_millis() as i64;
                        advance_market(&shared, |_| epoch_ms + elapsed);
                    }
                }
            }));
        }
        Ok(Simulator {
            shared,
            ports,
            tasks,
            shutdown: shutdown_tx,
        })
    }

    /// Endpoint overrides per venue, keyed as the adapters expect
    /// (ENDPOINTS.md): e.g. binance `spot_ws` = `ws://127.0.0.1:PORT`.
    pub fn endpoints(&self) -> BTreeMap<Venue, BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for (&venue, &port) in &self.ports {
            let ws = format!("ws://127.0.0.1:{port}");
            let http = format!("http://127.0.0.1:{port}");
            let keys = venue
                .spec()
                .sim
                .map(|sim| (sim.endpoints)(&ws, &http))
                .unwrap_or_default();
            out.insert(
                venue,
                keys.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            );
        }
        out
    }

    /// The loopback port serving a venue.
    pub fn port(&self, venue: Venue) -> Option<u16> {
        self.ports.get(&venue).copied()
    }

    /// Every simulated (venue, instrument).
    pub fn instruments(&self) -> Vec<(Venue, Instrument)> {
        self.shared
            .specs
            .iter()
            .map(|s| (s.venue, s.instrument))
            .collect()
    }

    /// The simulator's own current book (base units, best first); empty for
    /// an instrument it does not simulate.
    pub fn book(&self, venue: Venue, instrument: &Instrument) -> (Vec<Level>, Vec<Level>) {
        self.shared
            .market
            .lock()
            .ok()
            .and_then(|m| {
                let id = m.find(venue, instrument)?;
                m.book_levels(id)
            })
            .unwrap_or_default()
    }

    pub fn faults(&self) -> FaultControl {
        self.shared.faults.clone()
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.shared.market.lock().map(|m| m.step_no()).unwrap_or(0)
    }

    /// Stop or restart the clock (e.g. to compare books at rest); a
    /// `manual_clock` simulator starts paused.
    pub fn set_paused(&self, paused: bool) {
        self.shared.paused.store(paused, Ordering::Relaxed);
    }

    /// Move the market `n` steps now (each `tick` later in exchange time).
    /// Meant for a paused clock; with the running clock it adds steps.
    pub fn advance(&self, n: usize) {
        let tick_ms = self.shared.cfg.tick.as_millis().max(1) as i64;
        for _ in 0..n {
            advance_market(&self.shared, |m| m.time_ms() + tick_ms);
        }
    }

    /// Stop serving: connections get a close frame, listeners stop.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        // Give sessions a moment to send their close frames.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let tasks = std::mem::take(&mut self.tasks);
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for Simulator {
    /// A simulator dropped without [`Simulator::shutdown`] still stops its
    /// listeners, clock and connections.
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}
