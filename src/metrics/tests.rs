use std::sync::Arc;

use tokio::sync::watch;

use super::*;
use crate::engine::Snapshot;
use crate::engine::latency::LatencyHistogram;
use crate::engine::notices::SinkHealth;
use crate::engine::snapshot::{ConnHealth, ConnState};

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
    let text = scrape(Sources {
        snapshots: Some(rx),
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

#[test]
fn every_family_is_described_even_without_samples() {
    let text = scrape(Sources::default());
    for def in catalog::ALL {
        let kind = match def.kind {
            prometheus_client::metrics::MetricType::Counter => "counter",
            prometheus_client::metrics::MetricType::Histogram => "histogram",
            _ => "gauge",
        };
        let line = format!("# TYPE {} {kind}", def.exposed());
        assert!(text.contains(&line), "{line} missing in\n{text}");
    }
}
