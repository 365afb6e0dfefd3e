//! Harness for the fault, soak and reconnect tests: the simulator on
//! loopback with a manual clock, the real feeds (`net::run_venue_with`) for
//! chosen venues, and an engine driven here from the feeds' channel.
//!
//! Every input is handed to the engine and then checked at once (see
//! [`Monitor`]): a book that is not live must be named in its CBBO's
//! `excluded`, be on no side of the CBBO and in no open opportunity, and a
//! live book is never crossed. Snapshots taken on the way are checked the
//! same way. Book state changes are recorded with their wall time, so tests
//! can see when a fault was detected and when the book was rebuilt.
//!
//! The market moves one step per `tick` while the clock runs; pausing it
//! gives a quiescent point where the engine's books must equal the
//! simulator's own. `DW_DEBUG=1` prints every incident the adapters report
//! and every connection state change.

#![allow(dead_code)]

pub mod nats;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use depthwatch::engine::snapshot::{ConnHealth, ConnState, Snapshot};
use depthwatch::engine::{Engine, EngineConfig, EngineInput};
use depthwatch::model::{BookState, Instrument, Level, MarketEvent, Venue, now_micros};
use depthwatch::net::ws::ConnOptions;
use depthwatch::net::{FeedOptions, HttpClient, run_venue_with};
use depthwatch::sim::{SimConfig, Simulator};
use depthwatch::venues::{AdapterConfig, registry};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Levels per side compared with the simulator's book.
pub const COMPARE_LEVELS: usize = 10;

pub type BookKey = (Venue, Instrument);

pub fn inst(s: &str) -> Instrument {
    s.parse().expect("instrument")
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    pub venues: Vec<Venue>,
    /// Instruments subscribed on every venue that lists them.
    pub instruments: Vec<Instrument>,
    pub seed: u64,
    /// One market step per tick while the clock runs.
    pub tick: Duration,
    pub levels_per_side: usize,
    /// Bound on the adapters' idle timeouts (their own are 40–60 s).
    pub max_idle: Duration,
    /// Engine: a book whose connection is silent this long is stale.
    pub stale_after: Duration,
    /// Mean seconds between dislocations of one book (arbitrage to check).
    pub dislocation_every_s: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            venues: vec![
                depthwatch::venue!("binance"),
                depthwatch::venue!("bybit"),
                depthwatch::venue!("okx"),
            ],
            instruments: vec![inst("BTC-USDT"), inst("ETH-USDT"), inst("BTC-USDT-PERP")],
            seed: 7,
            tick: Duration::from_millis(50),
            levels_per_side: 120,
            max_idle: Duration::from_millis(1500),
            stale_after: Duration::from_millis(700),
            dislocation_every_s: 4.0,
        }
    }
}

/// Short retries on loopback: reconnects in 50–400 ms, REST retries in
/// 50–300 ms.
pub fn fast_feed_options(max_idle: Duration) -> FeedOptions {
    FeedOptions {
        conn: ConnOptions {
            backoff_base: Duration::from_millis(50),
            backoff_cap: Duration::from_millis(400),
            max_idle: Some(max_idle),
        },
        rest_backoff_base: Duration::from_millis(50),
        rest_backoff_cap: Duration::from_millis(300),
    }
}

/// A book state change seen by the engine.
#[derive(Clone, Debug)]
pub struct Transition {
    pub at: Instant,
    pub key: BookKey,
    pub state: BookState,
}

/// Checks every engine state and records book state changes.
#[derive(Default)]
pub struct Monitor {
    pub violations: Vec<String>,
    pub transitions: Vec<Transition>,
    last: HashMap<BookKey, BookState>,
    /// Inputs checked and snapshots checked.
    pub inputs: u64,
    pub snapshots: u64,
    /// Most open opportunities seen at once.
    pub max_open_arbs: usize,
    /// Why connections closed, in order.
    pub closes: Vec<(Venue, String)>,
    /// (venue, instrument) pairs named by adapters in non-live BookState events.
    pub marked_by_adapter: Vec<(Instant, BookKey, BookState)>,
}

impl Monitor {
    fn violation(&mut self, what: String) {
        if self.violations.len() < 50 {
            self.violations.push(what);
        }
    }

    /// The engine just handled an input.
    fn check_engine(&mut self, engine: &Engine) {
        self.inputs += 1;
        let now = Instant::now();
        let arbs = engine.open_arbs();
        self.max_open_arbs = self.max_open_arbs.max(arbs.len());
        let mut changes = Vec::new();
        for b in engine.books() {
            let key = (b.venue, b.instrument);
            if self.last.get(&key) != Some(&b.state) {
                changes.push((key, b.state.clone()));
            }
            // Live, or polled over REST while fresh (the REST fallback):
            // usable, never crossed; arbitrage through a polled book says so.
            if b.state.is_usable() {
                if let (Some(bid), Some(ask)) = (b.book.best_bid(), b.book.best_ask())
                    && bid.price >= ask.price
                {
                    self.violation(format!(
                        "{} {} usable but crossed: bid {} >= ask {}",
                        b.venue, b.instrument, bid.price, ask.price
                    ));
                }
                if b.state == BookState::Polled {
                    for a in &arbs {
                        let uses = (a.buy_venue == b.venue && a.buy_instrument == b.instrument)
                            || (a.sell_venue == b.venue && a.sell_instrument == b.instrument);
                        if uses && !a.polled {
                            self.violation(format!(
                                "{} {} is polled but an opportunity through it is not marked",
                                b.venue, b.instrument
                            ));
                        }
                    }
                }
                continue;
            }
            let cbbo = engine.cbbo(&b.instrument);
            if !cbbo.excluded.iter().any(|(v, _)| *v == b.venue) {
                self.violation(format!(
                    "{} {} is {:?} but not excluded from the CBBO",
                    b.venue, b.instrument, b.state
                ));
            }
            for side in [&cbbo.bid, &cbbo.ask].into_iter().flatten() {
                if side.venue == b.venue && side.instrument == b.instrument {
                    self.violation(format!(
                        "{} {} is {:?} but sets a CBBO side",
                        b.venue, b.instrument, b.state
                    ));
                }
            }
            for a in &arbs {
                let uses = (a.buy_venue == b.venue && a.buy_instrument == b.instrument)
                    || (a.sell_venue == b.venue && a.sell_instrument == b.instrument);
                if uses {
                    self.violation(format!(
                        "{} {} is {:?} but an open opportunity uses it",
                        b.venue, b.instrument, b.state
                    ));
                }
            }
        }
        for (key, state) in changes {
            self.last.insert(key, state.clone());
            self.transitions.push(Transition {
                at: now,
                key,
                state,
            });
        }
        if engine.totals().crossed_books > 0 {
            self.violation(format!(
                "{} updates left a book crossed",
                engine.totals().crossed_books
            ));
        }
    }

    /// The adapters' own verdicts, before the engine applies them.
    fn note_events(&mut self, input: &EngineInput) {
        if std::env::var("DW_DEBUG").is_ok()
            && let EngineInput::Conn {
                venue, conn, state, ..
            } = input
        {
            eprintln!("CONN {venue} {conn} {state:?}");
        }
        if let EngineInput::Conn {
            venue,
            state: ConnState::Disconnected { reason },
            ..
        } = input
        {
            self.closes.push((*venue, reason.clone()));
        }
        if let EngineInput::Feed { events, .. } = input {
            for e in events {
                if std::env::var("DW_DEBUG").is_ok()
                    && let MarketEvent::Incident {
                        venue,
                        incident,
                        detail,
                        ..
                    } = e
                {
                    eprintln!("INCIDENT {venue} {incident:?} {detail:?}");
                }
                if let MarketEvent::BookState {
                    venue,
                    instrument,
                    state,
                } = e
                    && !state.is_live()
                {
                    self.marked_by_adapter.push((
                        Instant::now(),
                        (*venue, *instrument),
                        state.clone(),
                    ));
                }
            }
        }
    }

    fn check_snapshot(&mut self, snap: &Snapshot) {
        self.snapshots += 1;
        for view in &snap.instruments {
            for vb in &view.venues {
                if vb.state.is_usable() {
                    if let (Some(bid), Some(ask)) = (vb.bids.first(), vb.asks.first())
                        && bid.price >= ask.price
                    {
                        self.violation(format!(
                            "snapshot {}: {} {} published crossed",
                            snap.version, vb.venue, vb.instrument
                        ));
                    }
                    continue;
                }
                if !view.cbbo.excluded.iter().any(|(v, _)| *v == vb.venue) {
                    self.violation(format!(
                        "snapshot {}: {} {} {:?} not excluded",
                        snap.version, vb.venue, vb.instrument, vb.state
                    ));
                }
                for side in [&view.cbbo.bid, &view.cbbo.ask].into_iter().flatten() {
                    if side.venue == vb.venue && side.instrument == vb.instrument {
                        self.violation(format!(
                            "snapshot {}: {} {} {:?} in the CBBO",
                            snap.version, vb.venue, vb.instrument, vb.state
                        ));
                    }
                }
                for a in &snap.arbs {
                    if (a.buy_venue == vb.venue && a.buy_instrument == vb.instrument)
                        || (a.sell_venue == vb.venue && a.sell_instrument == vb.instrument)
                    {
                        self.violation(format!(
                            "snapshot {}: opportunity on {} {} {:?}",
                            snap.version, vb.venue, vb.instrument, vb.state
                        ));
                    }
                }
            }
        }
    }
}

/// Health counters of one venue, summed over its connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// WebSocket connections only.
    pub reconnects: u64,
    /// The REST pseudo-connection.
    pub rest_reconnects: u64,
    pub gaps: u64,
    pub resyncs: u64,
    pub checksum_ok: u64,
    pub checksum_failed: u64,
    pub parse_errors: u64,
    pub unknown_messages: u64,
}

impl Counters {
    pub fn of(rows: &[ConnHealth], venue: Venue) -> Counters {
        let mut c = Counters::default();
        for r in rows.iter().filter(|r| r.venue == venue) {
            if r.conn == depthwatch::net::feed::REST_CONN {
                c.rest_reconnects += r.reconnects;
            } else {
                c.reconnects += r.reconnects;
            }
            c.gaps += r.gaps;
            c.resyncs += r.resyncs;
            c.checksum_ok += r.checksum_ok;
            c.checksum_failed += r.checksum_failed;
            c.parse_errors += r.parse_errors;
            c.unknown_messages += r.unknown_messages;
        }
        c
    }

    /// Counts since `before`.
    pub fn since(&self, before: &Counters) -> Counters {
        Counters {
            reconnects: self.reconnects - before.reconnects,
            rest_reconnects: self.rest_reconnects - before.rest_reconnects,
            gaps: self.gaps - before.gaps,
            resyncs: self.resyncs - before.resyncs,
            checksum_ok: self.checksum_ok - before.checksum_ok,
            checksum_failed: self.checksum_failed - before.checksum_failed,
            parse_errors: self.parse_errors - before.parse_errors,
            unknown_messages: self.unknown_messages - before.unknown_messages,
        }
    }
}

pub struct Harness {
    pub sim: Arc<Simulator>,
    pub opts: Options,
    engine: Arc<Mutex<Engine>>,
    monitor: Arc<Mutex<Monitor>>,
    clock_running: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Every book the feeds subscribe to.
    pub books: Vec<BookKey>,
}

impl Harness {
    /// Start everything and wait (up to 15 s) until every book is live.
    pub async fn start(opts: Options) -> Harness {
        let sim = Simulator::start(SimConfig {
            seed: opts.seed,
            tick: opts.tick,
            levels_per_side: opts.levels_per_side,
            dislocation_every_s: opts.dislocation_every_s,
            manual_clock: true,
            ..SimConfig::default()
        })
        .await
        .expect("simulator starts");
        let sim = Arc::new(sim);
        let listed = sim.instruments();
        let books: Vec<BookKey> = listed
            .iter()
            .filter(|(v, i)| opts.venues.contains(v) && opts.instruments.contains(i))
            .copied()
            .collect();
        let engine = Arc::new(Mutex::new(Engine::new(EngineConfig {
            watchlist: opts.instruments.clone(),
            stale_after: opts.stale_after.as_micros() as i64,
            ..EngineConfig::default()
        })));
        let monitor = Arc::new(Mutex::new(Monitor::default()));
        let (stop, stop_rx) = watch::channel(false);
        let (tx, rx) = mpsc::channel::<EngineInput>(depthwatch::engine::INPUT_CAPACITY);
        let mut tasks = Vec::new();
        let endpoints = sim.endpoints();
        for &venue in &opts.venues {
            let cfg = AdapterConfig {
                instruments: books
                    .iter()
                    .filter(|(v, _)| *v == venue)
                    .map(|(_, i)| *i)
                    .collect(),
                endpoints: endpoints.get(&venue).cloned().unwrap_or_default(),
                ..AdapterConfig::default()
            };
            let adapter = registry::build(venue, cfg);
            let http = HttpClient::new().expect("HTTP client");
            tasks.push(tokio::spawn(run_venue_with(
                adapter,
                tx.clone(),
                http,
                None,
                stop_rx.clone(),
                fast_feed_options(opts.max_idle),
            )));
        }
        drop(tx);
        tasks.push(tokio::spawn(pump(
            rx,
            engine.clone(),
            monitor.clone(),
            stop_rx.clone(),
        )));
        let clock_running = Arc::new(AtomicBool::new(true));
        tasks.push(tokio::spawn(drive_clock(
            sim.clone(),
            opts.tick,
            clock_running.clone(),
            stop_rx,
        )));
        let h = Harness {
            sim,
            opts,
            engine,
            monitor,
            clock_running,
            stop,
            tasks,
            books,
        };
        let all = h.books.clone();
        let took = h
            .wait_until(Duration::from_secs(15), |e| all_live(e, &all))
            .await;
        assert!(
            took.is_some(),
            "books not live after start: {:?}",
            h.not_live(&all)
        );
        h
    }

    pub fn engine(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().expect("engine lock")
    }

    pub fn monitor(&self) -> MutexGuard<'_, Monitor> {
        self.monitor.lock().expect("monitor lock")
    }

    pub fn books_of(&self, venue: Venue) -> Vec<BookKey> {
        self.books
            .iter()
            .filter(|(v, _)| *v == venue)
            .copied()
            .collect()
    }

    /// Poll the engine every 5 ms until `cond` holds; how long it took, or
    /// `None` after `timeout`.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut cond: impl FnMut(&Engine) -> bool,
    ) -> Option<Duration> {
        let start = Instant::now();
        loop {
            if cond(&self.engine()) {
                return Some(start.elapsed());
            }
            if start.elapsed() >= timeout {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn not_live(&self, keys: &[BookKey]) -> Vec<String> {
        let e = self.engine();
        let states: BTreeMap<BookKey, BookState> = e
            .books()
            .map(|b| ((b.venue, b.instrument), b.state))
            .collect();
        keys.iter()
            .filter(|k| states.get(k).is_none_or(|s| !s.is_live()))
            .map(|k| format!("{} {}: {:?}", k.0, k.1, states.get(k)))
            .collect()
    }

    pub fn health(&self) -> Vec<ConnHealth> {
        let snap = self.engine().snapshot();
        self.monitor().check_snapshot(&snap);
        snap.health
    }

    pub fn counters(&self, venue: Venue) -> Counters {
        Counters::of(&self.health(), venue)
    }

    /// Take a snapshot and check it.
    pub fn snapshot(&self) -> Snapshot {
        let snap = self.engine().snapshot();
        self.monitor().check_snapshot(&snap);
        snap
    }

    pub fn pause_clock(&self) {
        self.clock_running.store(false, Ordering::SeqCst);
    }

    pub fn resume_clock(&self) {
        self.clock_running.store(true, Ordering::SeqCst);
    }

    /// Let the market run for `d`, checking a snapshot every 100 ms.
    pub async fn run_for(&self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.snapshot();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Pause the market, wait (up to `timeout`) until every book is live and
    /// equal to the simulator's over the top levels, then resume. Panics with
    /// the differences otherwise.
    pub async fn assert_books_match(&self, timeout: Duration) {
        self.pause_clock();
        // The last step may still be on its way through the feeds.
        let books = self.books.clone();
        let matched = self
            .wait_until(timeout, |e| {
                books.iter().all(|k| book_matches(e, &self.sim, k).is_ok())
            })
            .await;
        if matched.is_none() {
            let e = self.engine();
            let diffs: Vec<String> = books
                .iter()
                .filter_map(|k| book_matches(&e, &self.sim, k).err())
                .collect();
            panic!("books differ from the simulator's: {diffs:#?}");
        }
        self.resume_clock();
    }

    /// State changes of `key` after `t`.
    pub fn transitions_after(&self, t: Instant, key: &BookKey) -> Vec<Transition> {
        self.monitor()
            .transitions
            .iter()
            .filter(|tr| tr.at >= t && &tr.key == key)
            .cloned()
            .collect()
    }

    /// Books that were seen not live at some point after `t`.
    pub fn went_down_after(&self, t: Instant) -> Vec<BookKey> {
        let m = self.monitor();
        let mut keys: Vec<BookKey> = m
            .transitions
            .iter()
            .filter(|tr| tr.at >= t && !tr.state.is_live())
            .map(|tr| tr.key)
            .chain(
                m.marked_by_adapter
                    .iter()
                    .filter(|(at, _, _)| *at >= t)
                    .map(|(_, k, _)| *k),
            )
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Per book: how long after `fault_end` it was live again (zero when it
    /// already was by then). `None` when it is not live.
    pub fn rebuilt_after(&self, fault_end: Instant, key: &BookKey) -> Option<Duration> {
        let m = self.monitor();
        let mut live_at: Option<Instant> = None;
        let mut last_state: Option<&BookState> = None;
        for tr in m.transitions.iter().filter(|tr| &tr.key == key) {
            last_state = Some(&tr.state);
            if tr.state.is_live() {
                live_at.get_or_insert(tr.at);
            } else {
                live_at = None;
            }
        }
        if !last_state.is_some_and(BookState::is_live) {
            return None;
        }
        let at = live_at?;
        Some(at.saturating_duration_since(fault_end))
    }

    pub fn violations(&self) -> Vec<String> {
        self.monitor().violations.clone()
    }

    /// Final checks shared by every test: no violation, no crossed book.
    pub fn assert_clean(&self) {
        let v = self.violations();
        assert!(v.is_empty(), "invariant violations: {v:#?}");
        assert_eq!(self.engine().totals().crossed_books, 0);
        let m = self.monitor();
        assert!(m.inputs > 0 && m.snapshots > 0);
    }

    /// Stop everything; a feed, the pump or the clock that ended early
    /// (a panic) fails the test.
    pub async fn shutdown(self) {
        for t in &self.tasks {
            assert!(!t.is_finished(), "a feed or harness task ended early");
        }
        let _ = self.stop.send(true);
        for t in self.tasks {
            match tokio::time::timeout(Duration::from_secs(5), t).await {
                Ok(Err(e)) if e.is_panic() => panic!("task panicked: {e}"),
                Ok(_) => {}
                Err(_) => panic!("a task did not stop within 5 s"),
            }
        }
    }
}

pub fn all_live(e: &Engine, keys: &[BookKey]) -> bool {
    keys.iter().all(|k| {
        e.books()
            .any(|b| (b.venue, b.instrument) == *k && b.state.is_live())
    })
}

/// Live and equal to the simulator's book over the top levels. With the
/// market paused every connection falls silent, so the engine soon calls
/// every book stale: what counts here is the book's own state.
pub fn book_matches(e: &Engine, sim: &Simulator, key: &BookKey) -> Result<(), String> {
    let Some(b) = e.books().find(|b| (b.venue, b.instrument) == *key) else {
        return Err(format!("{} {}: no book", key.0, key.1));
    };
    if !b.book.is_live() {
        return Err(format!("{} {}: {:?}", key.0, key.1, b.state));
    }
    let (sim_bids, sim_asks) = sim.book(key.0, &key.1);
    let top = |v: &[Level]| v.iter().take(COMPARE_LEVELS).copied().collect::<Vec<_>>();
    let (ours_b, ours_a) = (
        b.book.bids.top(COMPARE_LEVELS),
        b.book.asks.top(COMPARE_LEVELS),
    );
    if ours_b != top(&sim_bids) || ours_a != top(&sim_asks) {
        return Err(format!(
            "{} {}: bids ours {:?} sim {:?}; asks ours {:?} sim {:?}",
            key.0,
            key.1,
            ours_b.first(),
            sim_bids.first(),
            ours_a.first(),
            sim_asks.first()
        ));
    }
    Ok(())
}

/// Hand every input to the engine and check the result; tick every 20 ms.
async fn pump(
    mut rx: mpsc::Receiver<EngineInput>,
    engine: Arc<Mutex<Engine>>,
    monitor: Arc<Mutex<Monitor>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut ticks = 0u64;
    loop {
        let input = tokio::select! {
            input = rx.recv() => match input {
                Some(i) => i,
                None => return,
            },
            _ = tick.tick() => {
                ticks += 1;
                EngineInput::Tick { now: now_micros() }
            }
            _ = stop.changed() => return,
        };
        let is_tick = matches!(input, EngineInput::Tick { .. });
        let (Ok(mut e), Ok(mut m)) = (engine.lock(), monitor.lock()) else {
            return;
        };
        m.note_events(&input);
        e.handle(input);
        m.check_engine(&e);
        // A snapshot every 100 ms, as a UI would take them.
        if is_tick && ticks % 5 == 0 {
            let snap = e.snapshot();
            m.check_snapshot(&snap);
        }
    }
}

/// Advance the simulator one step per tick while the clock runs.
pub async fn drive_clock(
    sim: Arc<Simulator>,
    tick: Duration,
    running: Arc<AtomicBool>,
    mut stop: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(tick);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {
                if running.load(Ordering::SeqCst) {
                    sim.advance(1);
                }
            }
            _ = stop.changed() => return,
        }
    }
}
