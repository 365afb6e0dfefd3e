//! Every metric depthwatch exposes, declared once: its name (before the
//! `depthwatch_` prefix, the unit and the `_total` of counters, which the
//! encoder adds), type, unit, labels, help and who serves it (the app, a
//! `collect`, or both where it is the same fact). A scrape writes the
//! families of its role in this order; the README's Metrics table lists the
//! same (a test compares it with a scrape).

use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

/// The prefix of every name.
pub const PREFIX: &str = "depthwatch";

/// Who serves an endpoint: the app (TUI, headless, replay: an engine's
/// snapshots) or `depthwatch collect` (feeds and the bus, no engine).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    App,
    Collector,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::App, Role::Collector];

    /// As the README's table names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::App => "app",
            Role::Collector => "collect",
        }
    }
}

const BOTH: &[Role] = &[Role::App, Role::Collector];
const APP: &[Role] = &[Role::App];
const COLLECTOR: &[Role] = &[Role::Collector];

#[derive(Debug)]
pub struct Def {
    pub name: &'static str,
    pub kind: MetricType,
    pub unit: Option<Unit>,
    pub labels: &'static [&'static str],
    pub help: &'static str,
    /// Who has the facts behind it.
    pub served_by: &'static [Role],
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
    served_by: BOTH,
};
pub const RECEIVED_MESSAGES: Def = Def {
    name: "received_messages",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Frames (WebSocket messages, REST bodies) received",
    served_by: BOTH,
};
pub const RECEIVED_BYTES: Def = Def {
    name: "received",
    kind: MetricType::Counter,
    unit: Some(Unit::Bytes),
    labels: CONN,
    help: "Bytes of the frames received",
    served_by: BOTH,
};
pub const EXCHANGE_LATENCY: Def = Def {
    name: "exchange_latency",
    kind: MetricType::Histogram,
    unit: Some(Unit::Seconds),
    labels: CONN,
    help: "Local receive time minus the exchange's event time, per event that carries one (negative values, clock skew, count as 0)",
    served_by: BOTH,
};
pub const SEQUENCE_GAPS: Def = Def {
    name: "sequence_gaps",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Sequence breaks detected (each takes its book out of sync until rebuilt)",
    served_by: BOTH,
};
pub const RESYNCS: Def = Def {
    name: "resyncs",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Books rebuilt from a fresh snapshot",
    served_by: BOTH,
};
pub const CHECKSUMS: Def = Def {
    name: "checksums",
    kind: MetricType::Counter,
    unit: None,
    labels: &["venue", "conn", "result"],
    help: "Book checksums verified, by result (ok, failed)",
    served_by: BOTH,
};
pub const PARSE_ERRORS: Def = Def {
    name: "parse_errors",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Frames that could not be parsed or held invalid values",
    served_by: BOTH,
};
pub const UNKNOWN_MESSAGES: Def = Def {
    name: "unknown_messages",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Well-formed frames of a kind the adapter does not know",
    served_by: BOTH,
};
pub const RECONNECTS: Def = Def {
    name: "reconnects",
    kind: MetricType::Counter,
    unit: None,
    labels: CONN,
    help: "Connections established again after an earlier one",
    served_by: BOTH,
};
pub const BOOK_STALENESS: Def = Def {
    name: "book_staleness",
    kind: MetricType::Gauge,
    unit: Some(Unit::Seconds),
    labels: BOOK,
    help: "Time since the book last changed, at the latest snapshot of the engine (or view of the collector), absent before its first update",
    served_by: BOTH,
};
pub const BOOK_STATE: Def = Def {
    name: "book_state",
    kind: MetricType::Gauge,
    unit: None,
    labels: &["venue", "instrument", "state"],
    help: "1 for the state each book is in (syncing, live, polled, out_of_sync), 0 for the others",
    served_by: BOTH,
};
pub const ENGINE_QUEUE_DEPTH: Def = Def {
    name: "engine_queue_depth",
    kind: MetricType::Gauge,
    unit: None,
    labels: &[],
    help: "Inputs waiting in the engine's bounded channel when last sampled",
    served_by: APP,
};
pub const SINK_NOTICES: Def = Def {
    name: "sink_notices",
    kind: MetricType::Counter,
    unit: None,
    labels: &["sink"],
    help: "Notices handed to each sink (alerts, store, bus)",
    served_by: APP,
};
pub const SINK_DROPPED: Def = Def {
    name: "sink_dropped_notices",
    kind: MetricType::Counter,
    unit: None,
    labels: &["sink"],
    help: "Notices a sink dropped: its queue was full, or it could not write them",
    served_by: APP,
};
pub const PUBLISH_ERRORS: Def = Def {
    name: "publish_errors",
    kind: MetricType::Counter,
    unit: None,
    labels: &["sink", "reason"],
    help: "Messages a publisher failed to publish, by sink (nats: messages, nats_kv: the bucket's snapshots) and reason",
    served_by: BOTH,
};

pub const PUBLISHED_MESSAGES: Def = Def {
    name: "published_messages",
    kind: MetricType::Counter,
    unit: None,
    labels: &["kind"],
    help: "Messages published on NATS, by subject kind (book, state, trade, liquidation, funding, incident, conn), and book snapshots put into the key-value bucket (snapshot)",
    served_by: COLLECTOR,
};
pub const PUBLISHED_BYTES: Def = Def {
    name: "published",
    kind: MetricType::Counter,
    unit: Some(Unit::Bytes),
    labels: &["kind"],
    help: "Payload bytes of the messages and snapshots published",
    served_by: COLLECTOR,
};
pub const COLLECTOR_QUEUE_DEPTH: Def = Def {
    name: "collector_queue_depth",
    kind: MetricType::Gauge,
    unit: None,
    labels: &["queue"],
    help: "Items waiting in the collector's bounded queues when last sampled: input (from the feeds), publish (messages for NATS), snapshot (book snapshots for the bucket)",
    served_by: COLLECTOR,
};
pub const COLLECTOR_DROPPED: Def = Def {
    name: "collector_dropped_messages",
    kind: MetricType::Counter,
    unit: None,
    labels: &["kind"],
    help: "Messages dropped because the publish queue was full (terminals see a gap and resync), by subject kind",
    served_by: COLLECTOR,
};
pub const COLLECTOR_DEFERRED: Def = Def {
    name: "collector_deferred_snapshots",
    kind: MetricType::Counter,
    unit: None,
    labels: &[],
    help: "Book snapshots that found the bucket's queue full, put again at a later tick",
    served_by: COLLECTOR,
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
    &PUBLISHED_MESSAGES,
    &PUBLISHED_BYTES,
    &COLLECTOR_QUEUE_DEPTH,
    &COLLECTOR_DROPPED,
    &COLLECTOR_DEFERRED,
];

/// The families `role` serves, in scrape order.
pub fn served_by(role: Role) -> impl Iterator<Item = &'static Def> {
    ALL.iter()
        .copied()
        .filter(move |d| d.served_by.contains(&role))
}

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
