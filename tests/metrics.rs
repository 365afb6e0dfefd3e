//! `--metrics ADDR`: the Prometheus endpoint scraped by a real HTTP client
//! (reqwest) on loopback and parsed as the Prometheus text format.
//!
//! - In process, over the simulator (Binance, Bybit, OKX): names, types,
//!   units and labels follow the conventions, every family of the catalog
//!   is there, and the gap counter moves when the simulator withholds a
//!   book message (`skip_sequence`, as in tests/faults.rs).
//! - A collector's endpoint (no engine): the collector's families, the
//!   same gap counter moving for the same fault. Without NATS, over the
//!   collector's own observer and book copies fed by the real feeds; with a
//!   real `nats-server` (SKIPPED without one), a `Collecting` publishing the
//!   simulator.
//! - The README's Metrics table lists exactly the catalog's metrics, with
//!   their types, labels and who serves them.
//! - End to end: `depthwatch --demo --headless --metrics 127.0.0.1:0
//!   --log-format json` serves the app's families, logs one JSON object per
//!   line, and stops on SIGTERM (the SIGINT path: feeds, store) with exit
//!   status 0; `depthwatch collect --demo --nats URL --metrics
//!   127.0.0.1:0` serves the collector's and stops the same way.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use common::nats::NatsServer;
use common::{Harness, Options};
use depthwatch::app::collect::Collecting;
use depthwatch::app::feeds::Feeds;
use depthwatch::app::live::{demo_config, wanted_feeds};
use depthwatch::bus::collector::Materializer;
use depthwatch::bus::observe::{CollectorMetrics, CollectorView, Observer, QueueDepths};
use depthwatch::bus::publish::{PublishOptions, PublishStats};
use depthwatch::bus::wire::Origin;
use depthwatch::config::Config;
use depthwatch::engine::{EngineInput, INPUT_CAPACITY, Snapshot};
use depthwatch::metrics::catalog::Role;
use depthwatch::metrics::{self, Sources, catalog};
use depthwatch::model::{Venue, now_micros};
use depthwatch::net::HttpClient;
use depthwatch::sim::{SimConfig, Simulator};
use prometheus_client::metrics::MetricType;
use tokio::sync::{mpsc, watch};

// ---------------------------------------------------------------- parser

#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

#[derive(Debug, Default)]
struct Exposition {
    /// Family name → type, in the order declared.
    types: BTreeMap<String, String>,
    helps: BTreeSet<String>,
    samples: Vec<Sample>,
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The labels of `{k="v",...}` (the braces stripped), with the text
/// format's escapes; the rest of the line after the closing brace.
fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let key = &rest[..eq];
        if !is_name(key) {
            return Err(format!("bad label name {key:?}"));
        }
        let mut chars = rest[eq + 1..].char_indices();
        if chars.next().map(|(_, c)| c) != Some('"') {
            return Err("label value not quoted".into());
        }
        let mut value = String::new();
        let mut end = None;
        let mut escaped = false;
        for (i, c) in chars {
            match (escaped, c) {
                (true, 'n') => {
                    value.push('\n');
                    escaped = false
                }
                (true, c @ ('\\' | '"')) => {
                    value.push(c);
                    escaped = false
                }
                (true, c) => return Err(format!("bad escape \\{c}")),
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(eq + 1 + i + 1);
                    break;
                }
                (false, c) => value.push(c),
            }
        }
        let end = end.ok_or("unterminated label value")?;
        if labels.insert(key.to_string(), value).is_some() {
            return Err(format!("label {key} twice"));
        }
        rest = &rest[end..];
    }
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        s => s.parse().map_err(|_| format!("bad value {s:?}")),
    }
}

/// The Prometheus text format (0.0.4): `# HELP`, `# TYPE`, samples.
fn parse(text: &str) -> Result<Exposition, String> {
    let mut e = Exposition::default();
    for (n, line) in text.lines().enumerate() {
        let at = |m: String| format!("line {}: {m}: {line}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or("");
            if !is_name(name) || !e.helps.insert(name.to_string()) {
                return Err(at("bad or repeated HELP".into()));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let (Some(name), Some(kind), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(at("bad TYPE".into()));
            };
            if !matches!(
                kind,
                "counter" | "gauge" | "histogram" | "summary" | "untyped"
            ) {
                return Err(at(format!("unknown type {kind}")));
            }
            if e.types.insert(name.to_string(), kind.to_string()).is_some() {
                return Err(at("TYPE twice".into()));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| at("no value".into()))?;
        let name = &line[..name_end];
        if !is_name(name) {
            return Err(at(format!("bad metric name {name:?}")));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end + 1..]).map_err(at)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let mut fields = rest.split_whitespace();
        let value = parse_value(fields.next().ok_or_else(|| at("no value".into()))?).map_err(at)?;
        // An optional timestamp, then nothing.
        if let Some(ts) = fields.next() {
            ts.parse::<i64>().map_err(|_| at("bad timestamp".into()))?;
        }
        if fields.next().is_some() {
            return Err(at("trailing text".into()));
        }
        e.samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    Ok(e)
}

// ------------------------------------------------------------ the checks

fn kind_word(kind: MetricType) -> &'static str {
    match kind {
        MetricType::Counter => "counter",
        MetricType::Histogram => "histogram",
        _ => "gauge",
    }
}

/// The family a sample belongs to, from the declared types.
fn family_of<'a>(e: &'a Exposition, sample: &str) -> Option<(&'a str, &'a str)> {
    if let Some((name, kind)) = e.types.get_key_value(sample) {
        return Some((name, kind));
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = sample.strip_suffix(suffix)
            && let Some((name, kind)) = e.types.get_key_value(base)
            && kind == "histogram"
        {
            return Some((name, kind));
        }
    }
    None
}

/// Conventions and the catalog's families for `role`, on one scrape.
fn check_exposition(e: &Exposition, role: Role) {
    let expected: BTreeMap<String, &'static str> = catalog::served_by(role)
        .map(|d| (d.exposed(), kind_word(d.kind)))
        .collect();
    let declared: BTreeMap<String, &str> = e
        .types
        .iter()
        .map(|(n, k)| (n.clone(), k.as_str()))
        .collect();
    assert_eq!(
        declared, expected,
        "{role:?}: families scraped vs the catalog"
    );
    for name in e.types.keys() {
        assert!(name.starts_with("depthwatch_"), "{name}: prefix");
        assert!(e.helps.contains(name), "{name}: no HELP");
        let kind = &e.types[name];
        assert_eq!(
            kind == "counter",
            name.ends_with("_total"),
            "{name}: _total iff counter"
        );
        if name.contains("latency") || name.contains("staleness") {
            assert!(name.ends_with("_seconds"), "{name}: times in seconds");
        }
        if name.contains("bytes") {
            assert!(name.ends_with("_bytes_total"), "{name}: bytes");
        }
        for bad in ["_ms", "_millis", "_us", "_kb", "_mb"] {
            assert!(!name.contains(bad), "{name}: not a base unit");
        }
    }
    let labels_of: BTreeMap<String, BTreeSet<&str>> = catalog::ALL
        .iter()
        .map(|d| (d.exposed(), d.labels.iter().copied().collect()))
        .collect();
    // Histograms: per label set, cumulative buckets ending at +Inf = count.
    let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts: BTreeMap<String, f64> = BTreeMap::new();
    for s in &e.samples {
        let (family, kind) =
            family_of(e, &s.name).unwrap_or_else(|| panic!("{} has no TYPE", s.name));
        let mut keys: BTreeSet<&str> = s.labels.keys().map(String::as_str).collect();
        if kind == "histogram" && s.name.ends_with("_bucket") {
            assert!(keys.remove("le"), "{}: bucket without le", s.name);
        }
        assert_eq!(keys, labels_of[family], "{}: labels", s.name);
        if kind == "counter" {
            assert!(
                s.value >= 0.0 && s.value.fract() == 0.0,
                "{}: {}",
                s.name,
                s.value
            );
        }
        if kind == "histogram" {
            let mut series = s.labels.clone();
            series.remove("le");
            let key = format!("{family}{series:?}");
            if s.name.ends_with("_bucket") {
                let le = parse_value(&s.labels["le"]).unwrap();
                buckets.entry(key).or_default().push((le, s.value));
            } else if s.name.ends_with("_count") {
                counts.insert(key, s.value);
            }
        }
    }
    for (key, b) in &buckets {
        assert!(
            b.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "{key}: {b:?}"
        );
        assert_eq!(
            b.last().map(|l| l.0),
            Some(f64::INFINITY),
            "{key}: +Inf bucket"
        );
        assert_eq!(
            b.last().map(|l| l.1),
            counts.get(key).copied(),
            "{key}: +Inf = count"
        );
    }
}

fn value(e: &Exposition, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    e.samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

fn sum_over(e: &Exposition, name: &str, labels: &[(&str, &str)]) -> f64 {
    e.samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls((*depthwatch::net::tls::client_config()).clone())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn scrape(client: &reqwest::Client, url: &str) -> Exposition {
    let response = client.get(url).send().await.expect("scrape answered");
    assert!(response.status().is_success(), "{}", response.status());
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Counters never go down between scrapes.
fn counters_never_went_down(before: &Exposition, after: &Exposition) {
    for s in before.samples.iter().filter(|s| s.name.ends_with("_total")) {
        let now = value(
            after,
            &s.name,
            &s.labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .unwrap_or(0.0);
        assert!(now >= s.value, "{} {:?} went down", s.name, s.labels);
    }
}

/// Scrape `url` until `ready` holds (or panic after `within`).
async fn scrape_until(
    client: &reqwest::Client,
    url: &str,
    within: Duration,
    what: &str,
    ready: impl Fn(&Exposition) -> bool,
) -> Exposition {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let e = scrape(client, url).await;
        if ready(&e) {
            return e;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ----------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_follows_conventions_and_counts_an_injected_gap() {
    let h = Harness::start(Options::default()).await;
    let (tx, rx) = watch::channel(Arc::new(Snapshot::default()));
    let server = metrics::start("127.0.0.1:0".parse().unwrap(), Sources::engine(rx))
        .await
        .expect("metrics endpoint binds");
    let url = format!("http://{}/metrics", server.local_addr());
    let http = client();
    // The engine publishes its snapshot; the endpoint reads the latest.
    let publish = || {
        tx.send_replace(Arc::new(h.snapshot()));
    };
    publish();
    let before = scrape(&http, &url).await;
    check_exposition(&before, Role::App);
    for venue in ["binance", "bybit", "okx"] {
        let conn_up = value(
            &before,
            "depthwatch_connection_state",
            &[("venue", venue), ("state", "connected")],
        );
        assert_eq!(conn_up, Some(1.0), "{venue} connected");
        assert!(
            sum_over(
                &before,
                "depthwatch_received_messages_total",
                &[("venue", venue)]
            ) > 0.0,
            "{venue}: messages"
        );
        assert!(
            sum_over(
                &before,
                "depthwatch_received_bytes_total",
                &[("venue", venue)]
            ) > 0.0,
            "{venue}: bytes"
        );
        assert!(
            value(
                &before,
                "depthwatch_book_state",
                &[("venue", venue), ("state", "live")]
            ) == Some(1.0),
            "{venue}: a live book"
        );
    }
    assert!(value(&before, "depthwatch_engine_queue_depth", &[]).is_some());
    assert!(value(&before, "depthwatch_book_staleness_seconds", &[]).is_some_and(|s| s >= 0.0));
    // The simulator stamps exchange times, so latencies were observed.
    assert!(sum_over(&before, "depthwatch_exchange_latency_seconds_count", &[]) > 0.0);
    let gaps_before = sum_over(&before, "depthwatch_sequence_gaps_total", &[]);
    assert_eq!(gaps_before, 0.0, "no gaps before the fault");

    let okx = depthwatch::venue!("okx");
    h.sim.faults().venue(okx).skip_sequence();
    let moved = h
        .wait_until(Duration::from_secs(20), |e| e.totals().gaps >= 1)
        .await;
    assert!(moved.is_some(), "the engine never saw the gap");
    publish();
    let after = scrape(&http, &url).await;
    check_exposition(&after, Role::App);
    let okx_gaps = sum_over(
        &after,
        "depthwatch_sequence_gaps_total",
        &[("venue", "okx")],
    );
    assert!(okx_gaps >= 1.0, "okx gap counter did not move: {okx_gaps}");
    assert_eq!(
        okx_gaps,
        h.sim.faults().stats(okx).sequence_gaps as f64,
        "one gap counted per gap injected"
    );
    counters_never_went_down(&before, &after);
    // Only /metrics is served.
    let other = http
        .get(format!("http://{}/", server.local_addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), reqwest::StatusCode::NOT_FOUND);
    server.shutdown().await;
    h.shutdown().await;
}

/// The README's Metrics table: `| name | type | labels | served by |
/// meaning |`; a row's type, labels and roles.
type Row = (String, BTreeSet<String>, BTreeSet<String>);

fn readme_metrics() -> BTreeMap<String, Row> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Metrics\n")
        .nth(1)
        .expect("a ## Metrics section in the README");
    let section = section.split("\n## ").next().unwrap_or(section);
    let list = |cell: &str| -> BTreeSet<String> {
        cell.split(", ")
            .map(|l| l.trim_matches('`').to_string())
            .filter(|l| !l.is_empty() && l != "none")
            .collect()
    };
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `depthwatch_")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let name = cells[0].trim_matches('`').to_string();
        let row = (cells[1].to_string(), list(cells[2]), list(cells[3]));
        assert!(rows.insert(name.clone(), row).is_none(), "{name} twice");
    }
    rows
}

#[test]
fn readme_lists_every_metric_with_its_type_labels_and_roles() {
    let from_catalog: BTreeMap<String, Row> = catalog::ALL
        .iter()
        .map(|d| {
            (
                d.exposed(),
                (
                    kind_word(d.kind).to_string(),
                    d.labels.iter().map(|l| l.to_string()).collect(),
                    d.served_by.iter().map(|r| r.as_str().to_string()).collect(),
                ),
            )
        })
        .collect();
    assert_eq!(readme_metrics(), from_catalog);
}

// ------------------------------------------------------------ collectors

fn venue(name: &str) -> Venue {
    name.parse().unwrap()
}

/// The simulator's feeds for `venues` only.
fn sim_feeds(
    sim: &Simulator,
    venues: &[Venue],
) -> BTreeMap<Venue, depthwatch::venues::AdapterConfig> {
    let config = demo_config(Config::default(), sim, false);
    let mut wanted = wanted_feeds(&config, true);
    wanted.retain(|v, _| venues.contains(v));
    assert_eq!(wanted.len(), venues.len(), "every venue is simulated");
    wanted
}

/// What a collector's scrape must show once its feeds run: every venue
/// connected with messages, a live book and latencies.
fn collector_running(e: &Exposition, venues: &[Venue]) -> bool {
    venues.iter().all(|v| {
        let v = v.as_str();
        value(
            e,
            "depthwatch_connection_state",
            &[("venue", v), ("state", "connected")],
        ) == Some(1.0)
            && sum_over(e, "depthwatch_received_messages_total", &[("venue", v)]) > 0.0
            && sum_over(e, "depthwatch_received_bytes_total", &[("venue", v)]) > 0.0
            && value(
                e,
                "depthwatch_book_state",
                &[("venue", v), ("state", "live")],
            ) == Some(1.0)
    }) && sum_over(e, "depthwatch_exchange_latency_seconds_count", &[]) > 0.0
}

/// Withhold one OKX book message and wait until the scrape counts the gap,
/// one per gap injected.
async fn inject_gap_and_see_it(sim: &Simulator, http: &reqwest::Client, url: &str) -> Exposition {
    let okx = venue("okx");
    sim.faults().venue(okx).skip_sequence();
    let after = scrape_until(http, url, Duration::from_secs(30), "okx gap counted", |e| {
        sum_over(e, "depthwatch_sequence_gaps_total", &[("venue", "okx")]) >= 1.0
    })
    .await;
    assert_eq!(
        sum_over(
            &after,
            "depthwatch_sequence_gaps_total",
            &[("venue", "okx")]
        ),
        sim.faults().stats(okx).sequence_gaps as f64,
        "one gap counted per gap injected"
    );
    after
}

/// No NATS: the collector's observer and book copies (the same types its
/// task uses) fed by the real feeds over the simulator, their views served
/// as a collector's, scraped over HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_view_counts_an_injected_gap_without_nats() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let venues = [venue("okx"), venue("bybit")];
    let (in_tx, mut in_rx) = mpsc::channel::<EngineInput>(INPUT_CAPACITY);
    let mut feeds = Feeds::new(in_tx, HttpClient::new().unwrap());
    feeds.apply(&sim_feeds(&sim, &venues));
    let (views, view) = watch::channel(Arc::new(CollectorView::default()));
    let mut observer = Observer::new(Arc::new(views));
    let glue = tokio::spawn(async move {
        let mut mat = Materializer::new(Origin {
            collector: "test".into(),
            epoch: 1,
        });
        let mut out = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                input = in_rx.recv() => match input {
                    Some(input) => {
                        observer.input(&input);
                        mat.input(&input, now_micros(), &mut out);
                        out.clear();
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    let depths = QueueDepths { input: in_rx.len(), ..QueueDepths::default() };
                    observer.publish(now_micros(), mat.book_rows(), depths);
                }
            }
        }
    });
    let sources = Sources::Collector(CollectorMetrics {
        view,
        stats: Arc::new(PublishStats::default()),
    });
    let server = metrics::start("127.0.0.1:0".parse().unwrap(), sources)
        .await
        .expect("metrics endpoint binds");
    let url = format!("http://{}/metrics", server.local_addr());
    let http = client();
    let before = scrape_until(&http, &url, Duration::from_secs(30), "feeds running", |e| {
        collector_running(e, &venues)
    })
    .await;
    check_exposition(&before, Role::Collector);
    assert_eq!(
        sum_over(&before, "depthwatch_sequence_gaps_total", &[]),
        0.0
    );
    let after = inject_gap_and_see_it(&sim, &http, &url).await;
    check_exposition(&after, Role::Collector);
    counters_never_went_down(&before, &after);
    server.shutdown().await;
    feeds.shutdown().await;
    drop(feeds);
    glue.await.unwrap();
    sim.shutdown().await;
}

/// A collector publishing to a real `nats-server`: its endpoint counts
/// what it published, per kind, and the same injected gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_on_nats_serves_its_metrics_and_counts_an_injected_gap() {
    let Some(nats) = NatsServer::start() else {
        return;
    };
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let venues = [venue("okx"), venue("bybit")];
    let opts = PublishOptions {
        snapshot_every: Duration::from_millis(200),
        ..PublishOptions::default()
    };
    let collecting = Collecting::start(&nats.url, "metrics", &sim_feeds(&sim, &venues), opts)
        .await
        .unwrap();
    let server = metrics::start("127.0.0.1:0".parse().unwrap(), collecting.metrics())
        .await
        .expect("metrics endpoint binds");
    let url = format!("http://{}/metrics", server.local_addr());
    let http = client();
    let before = scrape_until(&http, &url, Duration::from_secs(60), "publishing", |e| {
        collector_running(e, &venues)
            && value(
                e,
                "depthwatch_published_messages_total",
                &[("kind", "book")],
            )
            .is_some_and(|n| n > 0.0)
            && value(
                e,
                "depthwatch_published_messages_total",
                &[("kind", "snapshot")],
            )
            .is_some_and(|n| n > 0.0)
    })
    .await;
    check_exposition(&before, Role::Collector);
    assert!(
        value(
            &before,
            "depthwatch_published_bytes_total",
            &[("kind", "book")]
        ) > Some(0.0)
    );
    assert_eq!(
        sum_over(&before, "depthwatch_publish_errors_total", &[]),
        0.0
    );
    assert_eq!(
        sum_over(&before, "depthwatch_collector_dropped_messages_total", &[]),
        0.0
    );
    for queue in ["input", "publish", "snapshot"] {
        assert!(
            value(
                &before,
                "depthwatch_collector_queue_depth",
                &[("queue", queue)]
            )
            .is_some(),
            "{queue} queue"
        );
    }
    assert_eq!(
        sum_over(&before, "depthwatch_sequence_gaps_total", &[]),
        0.0
    );
    let after = inject_gap_and_see_it(&sim, &http, &url).await;
    check_exposition(&after, Role::Collector);
    counters_never_went_down(&before, &after);
    // The gap went out on the bus too, as an incident.
    assert!(
        value(
            &after,
            "depthwatch_published_messages_total",
            &[("kind", "incident")]
        ) > Some(0.0)
    );
    server.shutdown().await;
    collecting.stop().await;
    sim.shutdown().await;
}

#[test]
fn the_parser_rejects_what_prometheus_would() {
    assert!(parse("# TYPE a counter\na_total 1\n").is_ok());
    assert!(parse("a{b=\"c\\\"d\"} 1.5\n").unwrap().samples[0].labels["b"] == "c\"d");
    assert!(parse("a{b=c} 1\n").is_err());
    assert!(parse("a{b=\"c} 1\n").is_err());
    assert!(parse("a 1 2 3\n").is_err());
    assert!(parse("9a 1\n").is_err());
    assert!(parse("# TYPE a widget\n").is_err());
}

/// Run the binary with `args` (logging JSON to stderr), scrape the address
/// it logs until `ready` holds, check the families of `role`, then SIGTERM
/// it: it must stop with status 0, saying so. Every stderr line is a JSON
/// log object except those starting with one of `plain` (status lines the
/// command prints).
#[cfg(unix)]
fn serve_then_sigterm(args: &[&str], role: Role, ready: impl Fn(&Exposition) -> bool) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::Instant;

    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_depthwatch"))
        .args(args)
        .args(["--metrics", "127.0.0.1:0", "--log-format", "json"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("DEPTHWATCH_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stderr = child.stderr.take().unwrap();
    // Every log line is a JSON object; its message is in `fields`.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let v: serde_json::Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("log line not JSON: {line}: {e}"));
            assert!(
                v["level"].is_string() && v["timestamp"].is_string(),
                "{line}"
            );
            let message = v["fields"]["message"].as_str().unwrap_or("").to_string();
            if tx.send(message).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut url = None;
    while url.is_none() && Instant::now() < deadline {
        if let Ok(message) = rx.recv_timeout(Duration::from_millis(500)) {
            url = message.strip_prefix("metrics at ").map(str::to_string);
        }
    }
    let url = url.expect("the endpoint's address logged");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = client();
    // Until `ready` (the demo starts in well under the deadline).
    let mut scraped = None;
    while Instant::now() < deadline {
        let e = runtime.block_on(scrape(&http, &url));
        if ready(&e) {
            scraped = Some(e);
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let e = scraped.expect("ready within 30 s");
    check_exposition(&e, role);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        // As for SIGINT: shutdown flushes the store and stops every feed.
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("depthwatch did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut said = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
        said.push(line);
    }
    drop(rx);
    reader.join().expect("every log line was JSON");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        said.iter().any(|l| l.contains("SIGTERM: stopping")),
        "no stop message: {said:?}"
    );
    if role == Role::Collector {
        assert!(
            said.iter().any(|l| l.starts_with("collected ")),
            "the collector's summary is a log line too: {said:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn headless_demo_serves_metrics_and_stops_on_sigterm() {
    serve_then_sigterm(&["--demo", "--headless", "--json"], Role::App, |e| {
        sum_over(e, "depthwatch_received_messages_total", &[]) > 0.0
    });
}

#[cfg(unix)]
#[test]
fn collect_demo_serves_metrics_and_stops_on_sigterm() {
    let Some(nats) = NatsServer::start() else {
        return;
    };
    serve_then_sigterm(
        &["collect", "--demo", "--nats", &nats.url, "--id", "e2e"],
        Role::Collector,
        |e| {
            sum_over(e, "depthwatch_received_messages_total", &[]) > 0.0
                && sum_over(e, "depthwatch_published_messages_total", &[]) > 0.0
        },
    );
}
