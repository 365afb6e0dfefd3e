//! The collector: at each scrape, the metrics are read from the engine's
//! latest published [`Snapshot`] (the facts the Health pane shows, counted
//! once, by the engine) and from the publishers' error counters. Nothing is
//! counted here and the engine is never asked anything: a scrape costs the
//! engine nothing.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeGaugeValue, EncodeMetric, MetricEncoder, NoLabelSet,
};
use tokio::sync::watch;

use super::catalog::{self, Def};
use super::publish::PublishErrors;
use crate::engine::Snapshot;
use crate::engine::snapshot::{ConnHealth, ConnState};
use crate::model::BookState;

/// What the endpoint reads; the handles are cheap clones of the app's own.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// The engine's snapshots; `None` where no engine runs (a bare
    /// publisher), and then only the publishers' metrics have samples.
    pub snapshots: Option<watch::Receiver<Arc<Snapshot>>>,
    /// Counted by publishers (the NATS bus) as they fail.
    pub publish_errors: PublishErrors,
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

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snap = self
            .sources
            .snapshots
            .as_ref()
            .map(|rx| rx.borrow().clone())
            .unwrap_or_default();
        let e = &mut encoder;
        let health = &snap.health;
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
        per_conn(e, &catalog::RECONNECTS, health, |h| h.reconnects)?;
        let books: Vec<_> = snap.instruments.iter().flat_map(|v| &v.venues).collect();
        family(e, &catalog::BOOK_STALENESS, |mut m| {
            books.iter().try_for_each(|b| match b.last_update {
                Some(at) => {
                    let instrument = b.instrument.to_string();
                    let labels = vec![
                        ("venue", b.venue.as_str()),
                        ("instrument", instrument.as_str()),
                    ];
                    let age = snap.now.saturating_sub(at).max(0);
                    gauge(&mut m, &labels, age as f64 / 1e6)
                }
                None => Ok(()),
            })
        })?;
        family(e, &catalog::BOOK_STATE, |mut m| {
            books.iter().try_for_each(|b| {
                let instrument = b.instrument.to_string();
                let now = book_state(&b.state);
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
        })?;
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
            self.sources.publish_errors.family().encode(m)
        })?;
        Ok(())
    }
}
