//! Live mode (`depthwatch`, `--demo`, `--headless`) and `record`: engine task,
//! venue feeds, the UI or the JSON stream, config reloads and watchlist edits.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::{mpsc, watch};

use super::feeds::Feeds;
use super::store::{NO_DATA_DIR, StoredHistory};
use crate::alerts::deliver::Changes;
use crate::cli::{Cli, OutputArgs, RecordArgs};
use crate::config::{self, Config, ConfigWatcher};
use crate::engine::runner::{self, EngineControl, INPUT_CAPACITY};
use crate::engine::{Engine, EngineInput, Snapshot};
use crate::headless;
use crate::model::{Instrument, Micros, Venue, now_micros};
use crate::net::{HttpClient, Recording};
use crate::sim::{SimConfig, Simulator};
use crate::venues::AdapterConfig;

/// What a running live session is made of.
pub struct Session {
    pub config: Config,
    pub config_path: Option<PathBuf>,
    pub feeds: Feeds,
    pub control: mpsc::Sender<EngineControl>,
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// Keeps the simulator running in demo mode.
    pub sim: Option<Simulator>,
    /// The alerts task (rules, history, deliveries).
    pub alerts: crate::alerts::AlertsHandle,
    /// The delivery setup the alerts task runs (reloads compare with it).
    pub delivery: super::alerts::Delivery,
    /// The history store's writer (`[store]`; the demo has its own file).
    pub history: Option<crate::store::writer::Writer>,
    /// The file the panes page back into, or why there is none.
    pub stored: super::store::StoredHistory,
    /// `--source nats://...`: the engine is fed from the bus, and no venue
    /// feed runs here.
    pub bus: Option<crate::bus::subscribe::Terminal>,
    /// The Prometheus endpoint (`--metrics ADDR`).
    pub metrics: Option<crate::metrics::MetricsServer>,
}

/// Point a config at the simulator: its venues and endpoints, and its
/// instruments unless the user's file names a watchlist.
pub fn demo_config(mut config: Config, sim: &Simulator, from_file: bool) -> Config {
    let sim_venues: Vec<_> = crate::sim::venues();
    config.endpoints = sim.endpoints();
    config.watchlist.venues = sim_venues.clone();
    if !from_file {
        // Each instrument on the simulated venues that serve it: a venue that
        // lists it for real but is not simulating it would never sync.
        let served = sim.instruments();
        let mut seen = HashSet::new();
        config.watchlist.entries = served
            .iter()
            .filter(|(_, i)| seen.insert(*i))
            .map(|(_, instrument)| config::WatchEntry {
                instrument: *instrument,
                venues: Some(
                    served
                        .iter()
                        .filter(|(_, i)| i == instrument)
                        .map(|(v, _)| *v)
                        .collect(),
                ),
            })
            .collect();
    }
    for e in &mut config.watchlist.entries {
        if let Some(vs) = &mut e.venues {
            vs.retain(|v| sim_venues.contains(v));
        }
    }
    if config.alerts.is_empty() {
        config.alerts = super::alerts::demo_rules();
    }
    config
}

/// `--demo-faults N`: every N seconds, the next fault of the demo cycle on
/// the next simulated venue, announced in the log.
fn spawn_fault_show(sim: &Simulator, every: Duration) {
    let faults = sim.faults();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        for n in 0usize.. {
            tick.tick().await;
            let fault = crate::sim::Fault::DEMO_CYCLE[n % crate::sim::Fault::DEMO_CYCLE.len()];
            let sim_venues = crate::sim::venues();
            let venue = sim_venues[n % sim_venues.len()];
            tracing::warn!(%venue, "demo: injecting a fault: {}", fault.label());
            faults.venue(venue).inject(fault);
        }
    });
}

/// Only the simulated venues run in demo mode.
pub fn wanted_feeds(config: &Config, demo: bool) -> BTreeMap<Venue, AdapterConfig> {
    let mut wanted = config.adapter_configs();
    if demo {
        let sim_venues = crate::sim::venues();
        wanted.retain(|v, _| sim_venues.contains(v));
    }
    wanted
}

/// Start the engine, the simulator (demo) and the feeds.
pub async fn start(cli: &Cli) -> Result<Session> {
    let (config, source) = config::paths::load_for_run(cli.config.as_deref())?;
    let (config_path, from_file) = match source {
        config::paths::Source::File(p) => (Some(p), true),
        config::paths::Source::Defaults(p) => (p, false),
    };
    let (config, sim) = if cli.live.demo {
        let sim = Simulator::start(SimConfig::default())
            .await
            .context("starting the simulator")?;
        if let Some(every) = cli.live.demo_faults {
            spawn_fault_show(&sim, Duration::from_secs(every.max(1)));
        }
        (demo_config(config, &sim, from_file), Some(sim))
    } else {
        (config, None)
    };
    let mut engine = Engine::new(config.engine_config());
    engine.set_heatmap(!cli.live.output.headless);
    let file = config
        .store
        .file(cli.live.demo, config::paths::data_dir().as_deref());
    let stored = match (&file, config.store.enabled) {
        (_, false) => StoredHistory::Off(crate::store::pages::STORE_OFF.to_string()),
        (None, true) => StoredHistory::Off(NO_DATA_DIR.to_string()),
        (Some(f), true) => StoredHistory::File(f.clone()),
    };
    let alert_file = file.clone();
    let history = config.store.enabled.then(|| {
        let plan = super::store::HistoryPlan {
            file,
            retention: Some(config.store.retention.clone()),
            restore: true,
        };
        super::store::attach(&mut engine, plan, now_micros())
    });
    let (in_tx, in_rx) = mpsc::channel::<EngineInput>(INPUT_CAPACITY);
    let (snap_tx, snapshots) = watch::channel(Arc::new(Snapshot::default()));
    let metrics = start_metrics(cli, &snapshots).await?;
    // Alerts are kept beside the engine's history, in the same file.
    let alert_history = match (history.as_ref().and_then(Option::as_ref), alert_file) {
        (Some(writer), Some(file)) => Some(super::alerts::AlertHistory {
            sink: writer.alert_sink(),
            file,
        }),
        _ => None,
    };
    let (alerts, delivery) = super::alerts::start(
        &config,
        config_path.as_deref(),
        &mut engine,
        snapshots.clone(),
        alert_history,
    )?;
    let (control, control_rx) = mpsc::channel(16);
    tokio::spawn(runner::run(
        engine,
        in_rx,
        snap_tx,
        u32::from(config.ui.fps),
        control_rx,
    ));
    let bus = match &cli.live.source {
        Some(url) => Some(start_bus(url, in_tx.clone(), &config).await?),
        None => None,
    };
    let http = HttpClient::new().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut feeds = Feeds::new(in_tx, http);
    if bus.is_none() {
        feeds.apply(&wanted_feeds(&config, cli.live.demo));
    }
    Ok(Session {
        config,
        config_path,
        feeds,
        control,
        snapshots,
        sim,
        alerts,
        delivery,
        history: history.flatten(),
        stored,
        bus,
        metrics,
    })
}

/// `--source`: subscribe to the collectors on the bus. A book fails over
/// to another collector after a third of the stale window without news
/// from its own (between 1 and 10 s).
async fn start_bus(
    url: &str,
    engine: mpsc::Sender<EngineInput>,
    config: &Config,
) -> Result<crate::bus::subscribe::Terminal> {
    anyhow::ensure!(
        crate::bus::is_nats_url(url),
        "--source {url}: expected a NATS URL, nats://host:port"
    );
    let client = crate::bus::connect(url, "depthwatch terminal").await?;
    let failover = (config.engine_config().stale_after / 3).clamp(1_000_000, 10_000_000);
    tracing::info!("reading the bus at {url}");
    crate::bus::subscribe::Terminal::start(client, engine, failover).await
}

/// `--metrics ADDR`: the endpoint over the engine's snapshots. A port that
/// cannot be bound stops the start, naming the address.
pub async fn start_metrics(
    cli: &Cli,
    snapshots: &watch::Receiver<Arc<Snapshot>>,
) -> Result<Option<crate::metrics::MetricsServer>> {
    let Some(addr) = cli.metrics else {
        return Ok(None);
    };
    let sources = crate::metrics::Sources::engine(snapshots.clone());
    let server = crate::metrics::start(addr, sources)
        .await
        .with_context(|| format!("--metrics {addr}: cannot serve metrics there"))?;
    Ok(Some(server))
}

impl Session {
    /// Stop the engine and the feeds, then let the store write what it
    /// holds.
    pub async fn close(&mut self) {
        let _ = self.control.send(EngineControl::Shutdown).await;
        self.feeds.shutdown().await;
        super::store::finish(self.history.take()).await;
        if let Some(metrics) = self.metrics.take() {
            metrics.shutdown().await;
        }
    }

    /// Adopt a new config: engine settings now, feeds restarted where their
    /// subscriptions changed, alert rules and destinations (the secrets read
    /// again). Returns what changed in the alert destinations.
    pub async fn apply(&mut self, mut config: Config) -> Changes {
        if let Some(sim) = &self.sim {
            config = demo_config(config, sim, true);
        }
        let _ = self
            .control
            .send(EngineControl::SetConfig(Box::new(config.engine_config())))
            .await;
        let demo = self.sim.is_some();
        let wanted = |c: &Config| match self.bus {
            Some(_) => BTreeMap::new(),
            None => wanted_feeds(c, demo),
        };
        let before = wanted(&self.config);
        let after = wanted(&config);
        self.feeds.apply(&after);
        self.feeds.forget(unsubscribed(&before, &after)).await;
        if config.alerts != self.config.alerts {
            let _ = self
                .alerts
                .control
                .send(crate::alerts::AlertControl::SetRules(config.alerts.clone()))
                .await;
        }
        let changes = self.apply_delivery(&config).await;
        self.config = config;
        changes
    }

    /// Reads the secrets again and hands the alerts task the destinations
    /// of `config` if they changed (said in the log).
    pub async fn apply_delivery(&mut self, config: &Config) -> Changes {
        let (changes, control) = self.delivery.reload(config, self.config_path.as_deref());
        if !changes.is_empty() {
            tracing::info!("alert delivery: {changes}");
        }
        if let Some(c) = control {
            let _ = self.alerts.control.send(c).await;
        }
        changes
    }
}

/// Per venue, the instruments `before` subscribed to that `after` does not.
fn unsubscribed(
    before: &BTreeMap<Venue, AdapterConfig>,
    after: &BTreeMap<Venue, AdapterConfig>,
) -> Vec<(Venue, Vec<Instrument>)> {
    before
        .iter()
        .filter_map(|(venue, was)| {
            let gone: Vec<Instrument> = was
                .instruments
                .iter()
                .filter(|i| {
                    !after
                        .get(venue)
                        .is_some_and(|now| now.instruments.contains(i))
                })
                .copied()
                .collect();
            (!gone.is_empty()).then_some((*venue, gone))
        })
        .collect()
}

/// `depthwatch --headless [--json]`: stream changes as JSON lines until
/// Ctrl-C or SIGTERM (both stop the same way: engine, feeds, store flushed).
pub async fn run_headless(cli: &Cli) -> Result<i32> {
    let mut shutdown = super::signals::Shutdown::new();
    let mut session = start(cli).await?;
    let mut printer = StreamPrinter::new(cli.live.output.clone());
    let mut watcher = session.config_path.clone().map(ConfigWatcher::new);
    let mut poll = tokio::time::interval(Duration::from_secs(1));
    let mut alerts = session.alerts.view.clone();
    let (mut seen_alert, mut seen_bells, mut alerts_open) = (0u64, 0u64, true);
    loop {
        tokio::select! {
            signal = shutdown.signalled() => {
                tracing::info!("{signal}: stopping");
                break;
            }
            changed = alerts.changed(), if alerts_open => {
                if changed.is_err() { alerts_open = false; continue; }
                let view = alerts.borrow_and_update().clone();
                let stdout = std::io::stdout();
                let mut w = stdout.lock();
                for r in super::alerts::new_records(&view, seen_alert) {
                    let line = crate::alerts::alert::headless_line(&r.alert, &r.delivery_words());
                    headless::emit(&mut w, &line, printer.args.json)?;
                    seen_alert = r.alert.id;
                }
                w.flush()?;
                if view.bells > seen_bells {
                    // The bell goes to stderr: stdout is for the lines.
                    eprint!("\x07");
                }
                seen_bells = view.bells;
            }
            changed = session.snapshots.changed() => {
                if changed.is_err() { break; }
                let snap = session.snapshots.borrow_and_update().clone();
                printer.print(&snap)?;
            }
            _ = poll.tick() => {
                if let Some(result) = watcher.as_mut().and_then(ConfigWatcher::poll) {
                    match result {
                        Ok(cfg) => { tracing::info!("config reloaded"); session.apply(cfg).await; }
                        Err(diags) => for d in diags { tracing::error!("config not reloaded: {d}") },
                    }
                }
            }
        }
    }
    session.close().await;
    Ok(0)
}

/// Prints what changed between snapshots: book lines at most once a second
/// per book, CBBO and arbitrage lines when they change, trades and
/// liquidations once each, health at most every 5 s; funding when the rate
/// or the next funding time changes (else once a minute: mark and basis move
/// all the time), open interest when it changes (at most every 10 s per
/// perpetual), spikes once each.
struct StreamPrinter {
    args: OutputArgs,
    /// Last printed line and when, per venue book (at most one a second each).
    last_books: BTreeMap<(crate::model::Venue, crate::model::Instrument), (String, Micros)>,
    last_cbbo: BTreeMap<String, String>,
    last_arbs: BTreeMap<String, String>,
    seen_trade: Micros,
    seen_liq: Micros,
    last_health: Micros,
    /// Per perpetual: the funding figures last printed, and when.
    last_funding: BTreeMap<PerpKey, (String, Micros)>,
    last_oi: BTreeMap<PerpKey, (String, Micros)>,
    seen_spike: Micros,
    /// Sequence number of the last `candle` line printed.
    seen_candle: Option<u64>,
}

type PerpKey = (
    Option<crate::model::Venue>,
    Option<crate::model::Instrument>,
);

/// Prints `value` for `key` when `changed` (its identity) differs from the
/// last printed and `min_gap` has passed, or when `max_gap` has passed.
fn due(
    last: &mut BTreeMap<PerpKey, (String, Micros)>,
    key: PerpKey,
    identity: String,
    now: Micros,
    min_gap: Micros,
    max_gap: Micros,
) -> bool {
    let print = match last.get(&key) {
        None => true,
        Some((was, at)) => (*was != identity && now - at >= min_gap) || now - at >= max_gap,
    };
    if print {
        last.insert(key, (identity, now));
    }
    print
}

impl StreamPrinter {
    fn new(args: OutputArgs) -> Self {
        let now = now_micros();
        StreamPrinter {
            args,
            last_books: BTreeMap::new(),
            last_cbbo: BTreeMap::new(),
            last_arbs: BTreeMap::new(),
            seen_trade: now,
            seen_liq: now,
            last_health: 0,
            last_funding: BTreeMap::new(),
            last_oi: BTreeMap::new(),
            seen_spike: now,
            seen_candle: None,
        }
    }

    fn print(&mut self, snap: &Snapshot) -> Result<()> {
        let stdout = std::io::stdout();
        let mut w = stdout.lock();
        for b in snap.instruments.iter().flat_map(|v| &v.venues) {
            let value = headless::venue_book_line(b, self.args.depth);
            let line = value.to_string();
            let key = (b.venue, b.instrument);
            let due = match self.last_books.get(&key) {
                Some((last, at)) => *last != line && snap.now - at >= 1_000_000,
                None => true,
            };
            if due {
                headless::emit(&mut w, &value, self.args.json)?;
                self.last_books.insert(key, (line, snap.now));
            }
        }
        for view in &snap.instruments {
            let value = headless::cbbo_line(&view.label, view.mixed_quotes, &view.cbbo);
            let line = value.to_string();
            if self.last_cbbo.get(&view.label) != Some(&line) {
                headless::emit(&mut w, &value, self.args.json)?;
                self.last_cbbo.insert(view.label.clone(), line);
            }
        }
        let mut open = BTreeMap::new();
        for a in &snap.arbs {
            let key = format!("{}|{}|{}", a.key, a.buy_venue, a.sell_venue);
            let value = headless::arb_line(a);
            let line = value.to_string();
            if self.last_arbs.get(&key) != Some(&line) {
                headless::emit(&mut w, &value, self.args.json)?;
            }
            open.insert(key, line);
        }
        self.last_arbs = open;
        let mut newest = self.seen_trade;
        for t in snap
            .trades
            .large
            .iter()
            .filter(|t| t.time > self.seen_trade)
            .rev()
        {
            headless::emit(&mut w, &headless::trade_line(t), self.args.json)?;
            newest = newest.max(t.time);
        }
        self.seen_trade = newest;
        let mut newest = self.seen_liq;
        for l in snap
            .liquidations
            .tape
            .iter()
            .filter(|l| l.time > self.seen_liq)
            .rev()
        {
            headless::emit(&mut w, &headless::liquidation_line(l), self.args.json)?;
            newest = newest.max(l.time);
        }
        self.seen_liq = newest;
        for r in &snap.derivatives.rows {
            let key = (r.venue, r.instrument);
            let identity = format!(
                "{:?}|{:?}|{:?}|{:?}",
                r.funding_rate, r.predicted_rate, r.next_funding, r.interval
            );
            if r.funding_rate.is_some()
                && due(
                    &mut self.last_funding,
                    key,
                    identity,
                    snap.now,
                    0,
                    60_000_000,
                )
            {
                headless::emit(&mut w, &headless::funding_line(r), self.args.json)?;
            }
            if let Some(oi) = r.oi_base {
                if due(
                    &mut self.last_oi,
                    key,
                    oi.to_string(),
                    snap.now,
                    10_000_000,
                    i64::MAX,
                ) {
                    headless::emit(&mut w, &headless::open_interest_line(r), self.args.json)?;
                }
            }
        }
        let mut newest = self.seen_spike;
        for s in snap
            .derivatives
            .spikes
            .iter()
            .filter(|s| s.at > self.seen_spike)
            .rev()
        {
            headless::emit(&mut w, &headless::spike_line(s), self.args.json)?;
            newest = newest.max(s.at);
        }
        self.seen_spike = newest;
        let seen = self.seen_candle;
        for c in snap
            .candles
            .recent
            .iter()
            .filter(|c| seen.is_none_or(|s| c.seq > s))
        {
            headless::emit(&mut w, &headless::candle_line(c), self.args.json)?;
            self.seen_candle = Some(c.seq);
        }
        if snap.now - self.last_health >= 5_000_000 {
            for h in &snap.health {
                headless::emit(&mut w, &headless::health_line(h), self.args.json)?;
            }
            self.last_health = snap.now;
        }
        w.flush()?;
        Ok(())
    }
}

/// `depthwatch record --out DIR [--duration S]`.
pub async fn run_record(cli: &Cli, args: &RecordArgs) -> Result<i32> {
    let (config, source) = config::paths::load_for_run(cli.config.as_deref())?;
    // `--demo record` records the simulator's venues (the demo capture in
    // assets/ is made this way).
    let sim = if cli.live.demo {
        Some(
            Simulator::start(SimConfig::default())
                .await
                .context("starting the simulator")?,
        )
    } else {
        None
    };
    let config = match &sim {
        Some(sim) => demo_config(
            config,
            sim,
            matches!(source, config::paths::Source::File(_)),
        ),
        None => config,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    // Recording needs no engine, but the feeds report to one: drain it.
    let (in_tx, mut in_rx) = mpsc::channel::<EngineInput>(INPUT_CAPACITY);
    let drain = tokio::spawn(async move {
        let mut frames = 0u64;
        while let Some(input) = in_rx.recv().await {
            if matches!(input, EngineInput::Feed { bytes, .. } if bytes > 0) {
                frames += 1;
            }
        }
        frames
    });
    let http = HttpClient::new().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut feeds = Feeds::new(in_tx, http);
    let now = now_micros();
    let mut files = Vec::new();
    for (venue, cfg) in wanted_feeds(&config, sim.is_some()) {
        if cfg.instruments.is_empty() {
            continue;
        }
        let exchange = venue.as_str().to_ascii_uppercase();
        let path = args.out.join(format!("{exchange}.jsonl.zst"));
        files.push(path.clone());
        let mut feeds_cfg = BTreeMap::new();
        let names: Vec<String> = cfg.instruments.iter().map(|i| i.to_string()).collect();
        feeds_cfg.insert("l2_book".to_string(), names.clone());
        feeds_cfg.insert("trades".to_string(), names);
        let writer = crate::capture::CaptureWriter::create(&path, &exchange, &feeds_cfg, now)
            .with_context(|| format!("creating {}", path.display()))?;
        eprintln!("recording {venue} to {}", path.display());
        feeds.start(venue, cfg, Some(Recording { writer, exchange }));
    }
    let mut shutdown = super::signals::Shutdown::new();
    match args.duration {
        Some(s) => {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(s)) => {}
                _ = shutdown.signalled() => {}
            }
        }
        None => {
            shutdown.signalled().await;
        }
    }
    feeds.shutdown().await;
    drop(feeds);
    let frames = drain.await.unwrap_or(0);
    eprintln!("recorded {frames} frames to {}", args.out.display());
    if let Some(bundle) = &args.bundle {
        let parts: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
        crate::capture::write_bundle(bundle, &parts, now)
            .with_context(|| format!("writing {}", bundle.display()))?;
        eprintln!("bundled {} captures into {}", parts.len(), bundle.display());
    }
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feeds(entries: &[(Venue, &[&str])]) -> BTreeMap<Venue, AdapterConfig> {
        entries
            .iter()
            .map(|(v, names)| {
                let cfg = AdapterConfig {
                    instruments: names.iter().map(|n| n.parse().unwrap()).collect(),
                    channels: Default::default(),
                    endpoints: Default::default(),
                };
                (*v, cfg)
            })
            .collect()
    }

    #[test]
    fn unsubscribed_lists_what_left_each_venue() {
        let before = feeds(&[
            (crate::venue!("binance"), &["BTC-USDT", "SOL-USDT"]),
            (crate::venue!("okx"), &["BTC-USDT"]),
            (crate::venue!("bybit"), &["ETH-USDT"]),
        ]);
        let after = feeds(&[
            (crate::venue!("binance"), &["BTC-USDT", "ETH-USDT"]),
            (crate::venue!("bybit"), &["ETH-USDT"]),
        ]);
        let i = |n: &str| n.parse::<Instrument>().unwrap();
        assert_eq!(
            unsubscribed(&before, &after),
            [
                (crate::venue!("binance"), vec![i("SOL-USDT")]),
                (crate::venue!("okx"), vec![i("BTC-USDT")]),
            ]
        );
        assert!(unsubscribed(&after, &after).is_empty());
    }
}
