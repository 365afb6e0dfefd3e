//! `--metrics ADDR`: the Prometheus endpoint scraped by a real HTTP client
//! (reqwest) on loopback and parsed as the Prometheus text format.
//!
//! - In process, over the simulator (Binance, Bybit, OKX): names, types,
//!   units and labels follow the conventions, every family of the catalog
//!   is there, and the gap counter moves when the simulator withholds a
//!   book message (`skip_sequence`, as in tests/faults.rs).
//! - The README's Metrics table lists exactly the catalog's metrics, with
//!   their types and labels.
//! - End to end: `depthwatch --demo --headless --metrics 127.0.0.1:0
//!   --log-format json` serves the same families, logs one JSON object per
//!   line, and stops on SIGTERM (the SIGINT path: feeds, store) with exit
//!   status 0.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use common::{Harness, Options};
use depthwatch::engine::Snapshot;
use depthwatch::metrics::{self, Sources, catalog};
use prometheus_client::metrics::MetricType;
use tokio::sync::watch;

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

/// Conventions and the catalog, on one scrape.
fn check_exposition(e: &Exposition) {
    let expected: BTreeMap<String, &'static str> = catalog::ALL
        .iter()
        .map(|d| (d.exposed(), kind_word(d.kind)))
        .collect();
    let declared: BTreeMap<String, &str> = e
        .types
        .iter()
        .map(|(n, k)| (n.clone(), k.as_str()))
        .collect();
    assert_eq!(declared, expected, "families scraped vs the catalog");
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

// ----------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_follows_conventions_and_counts_an_injected_gap() {
    let h = Harness::start(Options::default()).await;
    let (tx, rx) = watch::channel(Arc::new(Snapshot::default()));
    let server = metrics::start(
        "127.0.0.1:0".parse().unwrap(),
        Sources {
            snapshots: Some(rx),
            publish_errors: Default::default(),
        },
    )
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
    check_exposition(&before);
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
    check_exposition(&after);
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
    // Counters never go down between scrapes.
    for s in before.samples.iter().filter(|s| s.name.ends_with("_total")) {
        let now = value(
            &after,
            &s.name,
            &s.labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .unwrap_or(0.0);
        assert!(now >= s.value, "{} {:?} went down", s.name, s.labels);
    }
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

/// The README's Metrics table: `| name | type | labels | meaning |`.
fn readme_metrics() -> BTreeMap<String, (String, BTreeSet<String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Metrics\n")
        .nth(1)
        .expect("a ## Metrics section in the README");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `depthwatch_")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let name = cells[0].trim_matches('`').to_string();
        let kind = cells[1].to_string();
        let labels = cells[2]
            .split(", ")
            .map(|l| l.trim_matches('`').to_string())
            .filter(|l| !l.is_empty() && l != "none")
            .collect();
        assert!(
            rows.insert(name.clone(), (kind, labels)).is_none(),
            "{name} twice"
        );
    }
    rows
}

#[test]
fn readme_lists_every_metric_with_its_type_and_labels() {
    let from_catalog: BTreeMap<String, (String, BTreeSet<String>)> = catalog::ALL
        .iter()
        .map(|d| {
            (
                d.exposed(),
                (
                    kind_word(d.kind).to_string(),
                    d.labels.iter().map(|l| l.to_string()).collect(),
                ),
            )
        })
        .collect();
    assert_eq!(readme_metrics(), from_catalog);
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

#[cfg(unix)]
#[test]
fn headless_demo_serves_metrics_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::Instant;

    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_depthwatch"))
        .args(["--demo", "--headless", "--json", "--metrics", "127.0.0.1:0"])
        .args(["--log-format", "json"])
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
    // Until a venue connected (the demo starts in well under the deadline).
    let mut scraped = None;
    while Instant::now() < deadline {
        let e = runtime.block_on(scrape(&http, &url));
        if sum_over(&e, "depthwatch_received_messages_total", &[]) > 0.0 {
            scraped = Some(e);
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let e = scraped.expect("messages counted within 30 s");
    check_exposition(&e);
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
}
