//! Every metric depthwatch exposes, declared once: its name (before the
//! `depthwatch_` prefix, the unit and the `_total` of counters, which the
//! encoder adds), type, unit, labels and help. The collector writes them in
//! this order; the README's Metrics table lists the same (a test compares
//! it with a scrape).

use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

/// The prefix of every name.
pub const PREFIX: &str = "depthwatch";

#[derive(Debug)]
pub struct Def {
    pub name: &'static str,
    pub kind: MetricType,
    pub unit: Option<Unit>,
    pub labels: &'static [&'static str],
    pub help: &'static str,
}

impl Def {
    /// The name a scrape shows: `depthwatch_<name>[_<unit>][_total]`.
    pub fn exposed(&self) -> String {
        let mut name = format!("{PREFIX}_{}", self.name);
        if let Some(unit) = &self.unit {
            name.push('_');
            name.push_str(unit.as_str());
        }
        if self.kind == MetricType::Counter {
            name.push_str("_total");
        }
        name
    }
}

const CONN: &[&str] = &["venue", "conn"];
const BOOK: &[&str] = &["venue", "instrument"];

pub const CONNECTION_STATE: Def = Def {
    name: "connection_state",
    kind: MetricType::Gauge,
    unit: None,
    labels: &["venue", "conn", "state"],
    help: "1 for the state each venue connection is in (connecting, connected, backoff, disconnected, replay), 0 for the others",
};
pub const RECEIVED_MESSAGES: Def = Def {
    name: "received_messages",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Frames (WebSocket messages, REST bodies) received",
};
pub const RECEIVED_BYTES: Def = Def {
    name: "received",
    kind: MetricType::Counter,
    unit: Some(Unit::Bytes),
    labels: CONN,
    help: "Bytes of the frames received",
};
pub const EXCHANGE_LATENCY: Def = Def {
    name: "exchange_latency",
    kind: MetricType::Histogram,
    unit: Some(Unit::Seconds),
    labels: CONN,
    help: "Local receive time minus the exchange's event time, per event that carries one (negative values, clock skew, count as 0)",
};
pub const SEQUENCE_GAPS: Def = Def {
    name: "sequence_gaps",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Sequence breaks detected (each takes its book out of sync until rebuilt)",
};
pub const RESYNCS: Def = Def {
    name: "resyncs",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Books rebuilt from a fresh snapshot",
};
pub const CHECKSUMS: Def = Def {
    name: "checksums",
    kind: MetricType::Counter,
    unit: None,
    labels: &["venue", "conn", "result"],
    help: "Book checksums verified, by result (ok, failed)",
};
pub const PARSE_ERRORS: Def = Def {
    name: "parse_errors",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Frames that could not be parsed or held invalid values",
};
pub const UNKNOWN_MESSAGES: Def = Def {
    name: "unknown_messages",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Well-formed frames of a kind the adapter does not know",
};
pub const RECONNECTS: Def = Def {
    name: "reconnects",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Connections established again after an earlier one",
};
pub const BOOK_STALENESS: Def = Def {
    name: "book_staleness",
    kind: MetricType::Gauge,
    unit: Some(Unit::Seconds),
    labels: BOOK,
    help: "Time since the book last changed, at the engine's latest snapshot (absent before its first update)",
};
pub const BOOK_STATE: Def = Def {
    name: "book_state",
    kind: MetricType::Gauge,
    unit: None,
    labels: &["venue", "instrument", "state"],
    help: "1 for the state each book is in (syncing, live, polled, out_of_sync), 0 for the others",
};
pub const ENGINE_QUEUE_DEPTH: Def = Def {
    name: "engine_queue_depth",
    kind: MetricType::Gauge,
    unit: None,
    labels: &[],
    help: "Inputs waiting in the engine's bounded channel when last sampled",
};
pub const SINK_NOTICES: Def = Def {
    name: "sink_notices",
    kind: MetricType::Counter,
    unit: None,
    labels: &["sink"],
    help: "Notices handed to each sink (alerts, store, bus)",
};
pub const SINK_DROPPED: Def = Def {
    name: "sink_dropped_notices",
    kind: MetricType::Counter,
    unit: None,
    labels: &["sink"],
    help: "Notices a sink dropped: its queue was full, or it could not write them",
};
pub const PUBLISH_ERRORS: Def = Def {
    name: "publish_errors",
    kind: MetricType::Counter,
    unit: None,
    labels: &["sink", "reason"],
    help: "Messages a publisher (the NATS bus) failed to publish, by reason",
};

/// All of them, in the order a scrape shows them.
pub const ALL: &[&Def] = &[
    &CONNECTION_STATE,
    &RECEIVED_MESSAGES,
    &RECEIVED_BYTES,
    &EXCHANGE_LATENCY,
    &SEQUENCE_GAPS,
    &RESYNCS,
    &CHECKSUMS,
    &PARSE_ERRORS,
    &UNKNOWN_MESSAGES,
    &RECONNECTS,
    &BOOK_STALENESS,
    &BOOK_STATE,
    &ENGINE_QUEUE_DEPTH,
    &SINK_NOTICES,
    &SINK_DROPPED,
    &PUBLISH_ERRORS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions() {
        let mut seen = std::collections::HashSet::new();
        for def in ALL {
            let name = def.exposed();
            assert!(seen.insert(name.clone()), "{name} twice");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
            assert_eq!(
                def.kind == MetricType::Counter,
                name.ends_with("_total"),
                "{name}"
            );
            assert!(!def.name.ends_with("_total"), "the encoder adds _total");
            assert!(!def.help.ends_with('.'), "{name}: help ends without a stop");
        }
        assert_eq!(RECEIVED_BYTES.exposed(), "depthwatch_received_bytes_total");
        assert_eq!(
            EXCHANGE_LATENCY.exposed(),
            "depthwatch_exchange_latency_seconds"
        );
    }
}
