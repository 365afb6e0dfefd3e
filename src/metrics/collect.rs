//! The collector: at each scrape, the metrics are read from what the
//! command serving them has already counted. An app reads its engine's
//! latest published [`Snapshot`] (the facts the Health pane shows, counted
//! once, by the engine) and the publishers' error counters; `collect`, which
//! runs no engine, reads its bus publisher's latest [`CollectorView`] and
//! counters. Nothing is counted here and no task is asked anything: a
//! scrape costs the engine (or the collector) nothing. Each role writes the
//! families the catalog says it serves, in the catalog's order.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeGaugeValue, EncodeMetric, MetricEncoder, NoLabelSet,
};
use tokio::sync::watch;

use super::catalog::{self, Def, Role};
use super::publish::PublishErrors;
use crate::bus::observe::{CollectorMetrics, CollectorView};
use crate::bus::publish::{Failure, PublishStats};
use crate::bus::wire::Kind;
use crate::engine::Snapshot;
use crate::engine::snapshot::{ConnHealth, ConnState};
use crate::model::{BookState, Instrument, Micros, Venue};

/// What the endpoint reads; the handles are cheap clones of the command's
/// own.
#[derive(Clone, Debug)]
pub enum Sources {
    /// An app (TUI, headless, replay).
    Engine {
        /// The engine's snapshots.
        snapshots: watch::Receiver<Arc<Snapshot>>,
        /// Counted by publishers as they fail.
        publish_errors: PublishErrors,
    },
    /// `depthwatch collect`: its feeds and its bus publisher.
    Collector(CollectorMetrics),
}

impl Sources {
    /// An app's sources over `snapshots`, with no publisher.
    pub fn engine(snapshots: watch::Receiver<Arc<Snapshot>>) -> Self {
        Sources::Engine {
            snapshots,
            publish_errors: PublishErrors::default(),
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Sources::Engine { .. } => Role::App,
            Sources::Collector(_) => Role::Collector,
        }
    }
}

/// Connection states, as the `state` label spells them.
const CONN_STATES: [&str; 5] = [
    "connecting",
    "connected",
    "backoff",
    "disconnected",
    "replay",
];
const BOOK_STATES: [&str; 4] = ["syncing", "live", "polled", "out_of_sync"];

fn conn_state(state: &ConnState) -> &'static str {
    match state {
        ConnState::Connecting => "connecting",
        ConnState::Connected => "connected",
        ConnState::Backoff { .. } => "backoff",
        ConnState::Disconnected { .. } => "disconnected",
        ConnState::Replay => "replay",
    }
}

fn book_state(state: &BookState) -> &'static str {
    match state {
        BookState::Syncing => "syncing",
        BookState::Live => "live",
        BookState::Polled => "polled",
        BookState::OutOfSync(_) => "out_of_sync",
    }
}

type Labels<'a> = Vec<(&'static str, &'a str)>;

fn conn_labels(h: &ConnHealth) -> Labels<'_> {
    vec![("venue", h.venue.as_str()), ("conn", h.conn.as_str())]
}

/// What the book families read of one book, engine's or collector's.
struct Book<'a> {
    venue: Venue,
    instrument: Instrument,
    state: &'a BookState,
    last_update: Option<Micros>,
}

#[derive(Debug)]
pub struct SnapshotCollector {
    sources: Sources,
}

impl SnapshotCollector {
    pub fn new(sources: Sources) -> Self {
        SnapshotCollector { sources }
    }
}

/// Writes one family: its descriptor, then `samples` with the encoder.
fn family(
    encoder: &mut DescriptorEncoder,
    def: &Def,
    samples: impl FnOnce(MetricEncoder<'_>) -> Result<(), std::fmt::Error>,
) -> Result<(), std::fmt::Error> {
    samples(encoder.encode_descriptor(def.name, def.help, def.unit.as_ref(), def.kind)?)
}

fn counter(m: &mut MetricEncoder<'_>, labels: &Labels, v: u64) -> Result<(), std::fmt::Error> {
    m.encode_family(labels)?
        .encode_counter::<NoLabelSet, _, u64>(&v, None)
}

fn gauge(
    m: &mut MetricEncoder<'_>,
    labels: &Labels,
    v: impl EncodeGaugeValue,
) -> Result<(), std::fmt::Error> {
    m.encode_family(labels)?.encode_gauge(&v)
}

/// A counter family with one sample per connection.
fn per_conn(
    encoder: &mut DescriptorEncoder,
    def: &Def,
    health: &[ConnHealth],
    value: impl Fn(&ConnHealth) -> u64,
) -> Result<(), std::fmt::Error> {
    family(encoder, def, |mut m| {
        health
            .iter()
            .try_for_each(|h| counter(&mut m, &conn_labels(h), value(h)))
    })
}

/// The connection families, `connection_state` to `reconnects`.
fn connections(e: &mut DescriptorEncoder, health: &[ConnHealth]) -> Result<(), std::fmt::Error> {
    family(e, &catalog::CONNECTION_STATE, |mut m| {
        for h in health {
            let now = conn_state(&h.state);
            for state in CONN_STATES {
                let mut labels = conn_labels(h);
                labels.push(("state", state));
                gauge(&mut m, &labels, i64::from(state == now))?;
            }
        }
        Ok(())
    })?;
    per_conn(e, &catalog::RECEIVED_MESSAGES, health, |h| h.messages)?;
    per_conn(e, &catalog::RECEIVED_BYTES, health, |h| h.bytes)?;
    family(e, &catalog::EXCHANGE_LATENCY, |mut m| {
        health.iter().try_for_each(|h| {
            let hist = &h.latency_histogram;
            m.encode_family(&conn_labels(h))?
                .encode_histogram::<NoLabelSet>(
                    hist.sum_seconds(),
                    hist.count(),
                    &hist.buckets(),
                    None,
                )
        })
    })?;
    per_conn(e, &catalog::SEQUENCE_GAPS, health, |h| h.gaps)?;
    per_conn(e, &catalog::RESYNCS, health, |h| h.resyncs)?;
    family(e, &catalog::CHECKSUMS, |mut m| {
        health.iter().try_for_each(|h| {
            for (result, n) in [("ok", h.checksum_ok), ("failed", h.checksum_failed)] {
                let mut labels = conn_labels(h);
                labels.push(("result", result));
                counter(&mut m, &labels, n)?;
            }
            Ok(())
        })
    })?;
    per_conn(e, &catalog::PARSE_ERRORS, health, |h| h.parse_errors)?;
    per_conn(e, &catalog::UNKNOWN_MESSAGES, health, |h| {
        h.unknown_messages
    })?;
    per_conn(e, &catalog::RECONNECTS, health, |h| h.reconnects)
}

/// `book_staleness` and `book_state`, at `now`.
fn books(e: &mut DescriptorEncoder, now: Micros, books: &[Book]) -> Result<(), std::fmt::Error> {
    family(e, &catalog::BOOK_STALENESS, |mut m| {
        books.iter().try_for_each(|b| match b.last_update {
            Some(at) => {
                let instrument = b.instrument.to_string();
                let labels = vec![
                    ("venue", b.venue.as_str()),
                    ("instrument", instrument.as_str()),
                ];
                let age = now.saturating_sub(at).max(0);
                gauge(&mut m, &labels, age as f64 / 1e6)
            }
            None => Ok(()),
        })
    })?;
    family(e, &catalog::BOOK_STATE, |mut m| {
        books.iter().try_for_each(|b| {
            let instrument = b.instrument.to_string();
            let now = book_state(b.state);
            for state in BOOK_STATES {
                let labels = vec![
                    ("venue", b.venue.as_str()),
                    ("instrument", instrument.as_str()),
                    ("state", state),
                ];
                gauge(&mut m, &labels, i64::from(state == now))?;
            }
            Ok(())
        })
    })
}

/// The app: everything in its engine's latest snapshot.
fn engine(
    e: &mut DescriptorEncoder,
    snap: &Snapshot,
    publish_errors: &PublishErrors,
) -> Result<(), std::fmt::Error> {
    connections(e, &snap.health)?;
    let rows: Vec<Book> = snap
        .instruments
        .iter()
        .flat_map(|v| &v.venues)
        .map(|b| Book {
            venue: b.venue,
            instrument: b.instrument,
            state: &b.state,
            last_update: b.last_update,
        })
        .collect();
    books(e, snap.now, &rows)?;
    family(e, &catalog::ENGINE_QUEUE_DEPTH, |mut m| {
        m.encode_gauge(&(snap.queue_depth as i64))
    })?;
    family(e, &catalog::SINK_NOTICES, |mut m| {
        snap.sinks
            .iter()
            .try_for_each(|s| counter(&mut m, &vec![("sink", s.name.as_str())], s.sent))
    })?;
    family(e, &catalog::SINK_DROPPED, |mut m| {
        snap.sinks
            .iter()
            .try_for_each(|s| counter(&mut m, &vec![("sink", s.name.as_str())], s.dropped))
    })?;
    family(e, &catalog::PUBLISH_ERRORS, |m| {
        publish_errors.family().encode(m)
    })
}

/// The label of book snapshots in the per-kind families.
const SNAPSHOT_KIND: &str = "snapshot";

/// `collect`: its view of the feeds and books, and its publisher's counts.
/// Every kind and failure has a sample from the start (at 0), so a rate
/// over them needs no first occurrence.
fn collector(
    e: &mut DescriptorEncoder,
    view: &CollectorView,
    stats: &PublishStats,
) -> Result<(), std::fmt::Error> {
    connections(e, &view.health)?;
    let rows: Vec<Book> = view
        .books
        .iter()
        .map(|b| Book {
            venue: b.venue,
            instrument: b.instrument,
            state: &b.state,
            last_update: b.last_update,
        })
        .collect();
    books(e, view.now, &rows)?;
    let get = PublishStats::get;
    family(e, &catalog::PUBLISH_ERRORS, |mut m| {
        Failure::ALL.iter().try_for_each(|f| {
            let labels = vec![("sink", f.sink()), ("reason", f.reason())];
            counter(&mut m, &labels, stats.failures(*f))
        })
    })?;
    let per_kind = |e: &mut DescriptorEncoder,
                    def: &Def,
                    value: &dyn Fn(Kind) -> u64,
                    snapshots: Option<u64>| {
        family(e, def, |mut m| {
            for kind in Kind::ALL {
                counter(&mut m, &vec![("kind", kind.as_str())], value(kind))?;
            }
            match snapshots {
                Some(n) => counter(&mut m, &vec![("kind", SNAPSHOT_KIND)], n),
                None => Ok(()),
            }
        })
    };
    per_kind(
        e,
        &catalog::PUBLISHED_MESSAGES,
        &|k| get(&stats.kind(k).published),
        Some(get(&stats.puts)),
    )?;
    per_kind(
        e,
        &catalog::PUBLISHED_BYTES,
        &|k| get(&stats.kind(k).bytes),
        Some(get(&stats.put_bytes)),
    )?;
    family(e, &catalog::COLLECTOR_QUEUE_DEPTH, |mut m| {
        let q = &view.queues;
        for (queue, depth) in [
            ("input", q.input),
            ("publish", q.publish),
            ("snapshot", q.snapshot),
        ] {
            gauge(&mut m, &vec![("queue", queue)], depth as i64)?;
        }
        Ok(())
    })?;
    per_kind(
        e,
        &catalog::COLLECTOR_DROPPED,
        &|k| get(&stats.kind(k).dropped),
        None,
    )?;
    family(e, &catalog::COLLECTOR_DEFERRED, |mut m| {
        m.encode_counter::<NoLabelSet, _, u64>(&get(&stats.puts_dropped), None)
    })
}

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        match &self.sources {
            Sources::Engine {
                snapshots,
                publish_errors,
            } => {
                let snap = snapshots.borrow().clone();
                engine(&mut encoder, &snap, publish_errors)
            }
            Sources::Collector(c) => {
                let view = c.view.borrow().clone();
                collector(&mut encoder, &view, &c.stats)
            }
        }
    }
}
