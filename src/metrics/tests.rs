use std::sync::Arc;

use tokio::sync::watch;

use super::*;
use crate::bus::observe::{BookRow, CollectorMetrics, CollectorView, QueueDepths};
use crate::bus::publish::{Failure, PublishStats};
use crate::bus::wire::Kind;
use crate::engine::Snapshot;
use crate::engine::latency::LatencyHistogram;
use crate::engine::notices::SinkHealth;
use crate::engine::snapshot::{ConnHealth, ConnState};
use crate::model::BookState;
use std::sync::atomic::Ordering;

fn conn(state: ConnState) -> ConnHealth {
    let mut latency_histogram = LatencyHistogram::default();
    latency_histogram.observe(3_000);
    latency_histogram.observe(30_000);
    ConnHealth {
        venue: crate::venue!("okx"),
        conn: "wss://ws.okx.com/ws/v5/public".into(),
        state,
        msgs_per_s: 0.0,
        bytes_per_s: 0.0,
        last_msg_age: None,
        latency_p50_ms: None,
        latency_p99_ms: None,
        clock_skew: None,
        messages: 12,
        bytes: 3_400,
        latency_histogram,
        reconnects: 1,
        gaps: 2,
        resyncs: 3,
        checksum_ok: 40,
        checksum_failed: 5,
        parse_errors: 6,
        unknown_messages: 7,
        queue_depth: 9,
        books_not_live: 0,
    }
}

fn scrape(sources: Sources) -> String {
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry(sources)).unwrap();
    text
}

#[test]
fn a_snapshot_reads_as_prometheus_text() {
    let snap = Snapshot {
        health: vec![conn(ConnState::Backoff {
            retry_in_ms: 1_000,
            reason: "HTTP 429".into(),
        })],
        sinks: vec![SinkHealth {
            name: "store".into(),
            sent: 10,
            dropped: 4,
            problem: None,
        }],
        queue_depth: 9,
        ..Snapshot::default()
    };
    let (_tx, rx) = watch::channel(Arc::new(snap));
    let publish_errors = PublishErrors::default();
    publish_errors.inc("nats", "timeout");
    publish_errors.inc("nats", "timeout");
    let text = scrape(Sources::Engine {
        snapshots: rx,
        publish_errors: publish_errors.clone(),
    });
    let conn = r#"venue="okx",conn="wss://ws.okx.com/ws/v5/public""#;
    for line in [
        format!("depthwatch_connection_state{{{conn},state=\"backoff\"}} 1"),
        format!("depthwatch_connection_state{{{conn},state=\"connected\"}} 0"),
        format!("depthwatch_received_messages_total{{{conn}}} 12"),
        format!("depthwatch_received_bytes_total{{{conn}}} 3400"),
        format!("depthwatch_exchange_latency_seconds_bucket{{{conn},le=\"0.005\"}} 1"),
        format!("depthwatch_exchange_latency_seconds_bucket{{{conn},le=\"+Inf\"}} 2"),
        format!("depthwatch_exchange_latency_seconds_count{{{conn}}} 2"),
        format!("depthwatch_sequence_gaps_total{{{conn}}} 2"),
        format!("depthwatch_resyncs_total{{{conn}}} 3"),
        format!("depthwatch_checksums_total{{{conn},result=\"ok\"}} 40"),
        format!("depthwatch_checksums_total{{{conn},result=\"failed\"}} 5"),
        format!("depthwatch_reconnects_total{{{conn}}} 1"),
        "depthwatch_engine_queue_depth 9".to_string(),
        "depthwatch_sink_dropped_notices_total{sink=\"store\"} 4".to_string(),
        "depthwatch_publish_errors_total{sink=\"nats\",reason=\"timeout\"} 2".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    assert_eq!(publish_errors.get("nats", "timeout"), 2);
    assert_eq!(publish_errors.get("nats", "other"), 0);
}

/// The `# TYPE` lines of a scrape, in order.
fn families(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap_or("").to_string())
        .collect()
}

fn empty(role: catalog::Role) -> Sources {
    match role {
        catalog::Role::App => Sources::engine(watch::channel(Arc::new(Snapshot::default())).1),
        catalog::Role::Collector => Sources::Collector(CollectorMetrics::fixed(
            CollectorView::default(),
            Arc::new(PublishStats::default()),
        )),
    }
}

#[test]
fn each_role_describes_its_families_even_without_samples() {
    for role in catalog::Role::ALL {
        let sources = empty(role);
        assert_eq!(sources.role(), role);
        let text = scrape(sources);
        let expected: Vec<String> = catalog::served_by(role).map(|d| d.exposed()).collect();
        assert_eq!(families(&text), expected, "{role:?}:\n{text}");
        for def in catalog::served_by(role) {
            let kind = match def.kind {
                prometheus_client::metrics::MetricType::Counter => "counter",
                prometheus_client::metrics::MetricType::Histogram => "histogram",
                _ => "gauge",
            };
            let line = format!("# TYPE {} {kind}", def.exposed());
            assert!(text.contains(&line), "{line} missing in\n{text}");
        }
    }
    // Every family is served by someone; the engine's own only by the app.
    for def in catalog::ALL {
        assert!(!def.served_by.is_empty(), "{}", def.name);
    }
    assert!(
        !catalog::ENGINE_QUEUE_DEPTH
            .served_by
            .contains(&catalog::Role::Collector)
    );
}

#[test]
fn a_collector_view_reads_as_prometheus_text() {
    let okx = crate::venue!("okx");
    let view = CollectorView {
        now: 5_000_000,
        health: vec![conn(ConnState::Connected)],
        books: vec![BookRow {
            venue: okx,
            instrument: "BTC-USDT".parse().unwrap(),
            conn: "wss://ws.okx.com/ws/v5/public".into(),
            state: BookState::Syncing,
            last_update: Some(3_500_000),
        }],
        queues: QueueDepths {
            input: 4,
            publish: 5,
            snapshot: 6,
        },
    };
    let stats = Arc::new(PublishStats::default());
    let book_counts = stats.kind(Kind::Book);
    book_counts.published.fetch_add(3, Ordering::Relaxed);
    book_counts.bytes.fetch_add(300, Ordering::Relaxed);
    stats
        .kind(Kind::Trade)
        .dropped
        .fetch_add(7, Ordering::Relaxed);
    stats.puts.fetch_add(2, Ordering::Relaxed);
    stats.fail(Failure::MaxPayload);
    let text = scrape(Sources::Collector(CollectorMetrics::fixed(view, stats)));
    let conn = r#"venue="okx",conn="wss://ws.okx.com/ws/v5/public""#;
    let book = r#"venue="okx",instrument="BTC-USDT""#;
    for line in [
        format!("depthwatch_connection_state{{{conn},state=\"connected\"}} 1"),
        format!("depthwatch_sequence_gaps_total{{{conn}}} 2"),
        format!("depthwatch_exchange_latency_seconds_count{{{conn}}} 2"),
        format!("depthwatch_book_state{{{book},state=\"syncing\"}} 1"),
        format!("depthwatch_book_state{{{book},state=\"live\"}} 0"),
        format!("depthwatch_book_staleness_seconds{{{book}}} 1.5"),
        "depthwatch_collector_queue_depth{queue=\"input\"} 4".to_string(),
        "depthwatch_collector_queue_depth{queue=\"snapshot\"} 6".to_string(),
        // Every kind and failure is there from the start, at 0.
        "depthwatch_published_messages_total{kind=\"liquidation\"} 0".to_string(),
        "depthwatch_published_bytes_total{kind=\"snapshot\"} 0".to_string(),
        "depthwatch_collector_dropped_messages_total{kind=\"book\"} 0".to_string(),
        "depthwatch_publish_errors_total{sink=\"nats_kv\",reason=\"no_ack\"} 0".to_string(),
        "depthwatch_collector_deferred_snapshots_total 0".to_string(),
        "depthwatch_published_messages_total{kind=\"book\"} 3".to_string(),
        "depthwatch_published_bytes_total{kind=\"book\"} 300".to_string(),
        "depthwatch_published_messages_total{kind=\"snapshot\"} 2".to_string(),
        "depthwatch_collector_dropped_messages_total{kind=\"trade\"} 7".to_string(),
        "depthwatch_publish_errors_total{sink=\"nats\",reason=\"max_payload\"} 1".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    assert!(!text.contains("engine_queue_depth"), "{text}");
}
