//! The terminal's side of the bus: messages from any number of collectors
//! turned into the engine's ordinary inputs, under the rules a venue adapter
//! follows. Sans-IO; the task in [`super::subscribe`] feeds it.
//!
//! - Every (book, collector run) is a stream with its own sequence. A hole
//!   in it marks the book out of sync (a `Gap`, then a `Resync` incident),
//!   and the messages after it wait until a snapshot from the key-value
//!   bucket at least as new as the hole arrives: the book is rebuilt from it
//!   and the waiting messages after it. A late joiner starts the same way.
//! - One collector is chosen per book; the others' messages for it are
//!   dropped (their connections still show in health). When the chosen one
//!   has said nothing about the venue for `failover_after` while another
//!   has, the book moves to that one, rebuilt from its snapshot.
//! - A collector that stops publishing is only silence: the engine's own
//!   stale window takes its books out of the CBBO, as for a silent venue.
//!   Connections are named `URL (via COLLECTOR)`; the engine knows no more.

use std::collections::{BTreeMap, HashMap};

use crate::engine::{EngineInput, REST_CONN};
use crate::model::{
    BookState, BookUpdate, BookUpdateKind, Funding, Incident, Instrument, Liquidation, MarketEvent,
    Micros, OutOfSyncReason, SeqInfo, Trade, Venue,
};

use super::wire::{self, Body, BookSnapshot, Message, WireBookState};

/// Messages kept while a stream waits for a snapshot; past this the oldest
/// go (the snapshot that ends the wait is then newer anyway).
const MAX_PENDING: usize = 50_000;

/// Counters of the bus side, for the log and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouterStats {
    pub messages: u64,
    pub decode_errors: u64,
    pub gaps: u64,
    pub resyncs: u64,
    pub failovers: u64,
    /// Messages of a collector not chosen for their book.
    pub duplicates: u64,
    /// Messages of an older run of a collector than the one already seen.
    pub old_runs: u64,
}

#[derive(Debug)]
enum Sync {
    /// Every message up to `next - 1` was applied.
    Live { next: u64 },
    /// Waiting for a snapshot with `seq >= min_seq` (and reaching the first
    /// pending message).
    Awaiting { min_seq: u64, pending: Vec<Message> },
}

#[derive(Debug)]
struct Stream {
    epoch: u64,
    /// Bus traffic of this run was seen (its snapshots are current, not a
    /// dead run's left in the bucket).
    heard: bool,
    /// The highest sequence number seen.
    last_seq: u64,
    sync: Sync,
    snapshot: Option<BookSnapshot>,
}

impl Stream {
    fn new(epoch: u64) -> Self {
        Stream {
            epoch,
            heard: false,
            last_seq: 0,
            sync: Sync::Awaiting {
                min_seq: 0,
                pending: Vec::new(),
            },
            snapshot: None,
        }
    }
}

#[derive(Debug, Default)]
struct Route {
    chosen: Option<String>,
    streams: BTreeMap<String, Stream>,
}

pub struct Router {
    failover_after: Micros,
    routes: BTreeMap<(Venue, Instrument), Route>,
    /// Last time each collector said anything about each venue.
    heard: HashMap<(String, Venue), Micros>,
    stats: RouterStats,
}

/// The engine's name for a collector's connection.
pub fn conn_name(collector: &str, conn: &str) -> String {
    if conn == REST_CONN {
        // REST bodies carry no book's liveness, on the bus as at the venue.
        REST_CONN.to_string()
    } else {
        format!("{conn} (via {collector})")
    }
}

impl Router {
    pub fn new(failover_after: Micros) -> Self {
        Router {
            failover_after,
            routes: BTreeMap::new(),
            heard: HashMap::new(),
            stats: RouterStats::default(),
        }
    }

    pub fn stats(&self) -> RouterStats {
        self.stats
    }

    /// One bus message; `bytes` is its size on the bus.
    pub fn on_message(
        &mut self,
        subject: &str,
        payload: &[u8],
        now: Micros,
        out: &mut Vec<EngineInput>,
    ) {
        self.stats.messages += 1;
        let parsed = wire::parse_subject(subject).zip(wire::decode_message(payload).ok());
        let Some(((venue, instrument, _), msg)) =
            parsed.filter(|(_, m)| wire::valid_id(&m.origin.collector))
        else {
            self.stats.decode_errors += 1;
            tracing::debug!(subject, "undecodable bus message");
            return;
        };
        self.heard
            .insert((msg.origin.collector.clone(), venue), now);
        let Some(instrument) = instrument else {
            out.push(venue_wide(venue, msg, now));
            return;
        };
        let route = self.routes.entry((venue, instrument)).or_default();
        let collector = msg.origin.collector.clone();
        let stream = route
            .streams
            .entry(collector.clone())
            .or_insert_with(|| Stream::new(msg.origin.epoch));
        if msg.origin.epoch < stream.epoch {
            self.stats.old_runs += 1;
            return;
        }
        if msg.origin.epoch > stream.epoch {
            // The collector restarted: its sequence starts again.
            *stream = Stream::new(msg.origin.epoch);
        }
        stream.heard = true;
        let chosen = match &route.chosen {
            Some(c) => *c == collector,
            None => {
                route.chosen = Some(collector.clone());
                true
            }
        };
        let mut forward = Vec::new();
        match msg.body.seq() {
            None => forward.push(msg),
            Some(seq) => sequenced(
                stream,
                venue,
                instrument,
                msg,
                seq,
                &mut self.stats,
                &mut forward,
            ),
        }
        let stream_ready = matches!(stream.sync, Sync::Awaiting { .. });
        if stream_ready {
            resync(stream, venue, instrument, &mut forward);
        }
        if chosen {
            for m in forward {
                to_engine(venue, instrument, m, now, out);
            }
        } else {
            self.stats.duplicates += forward.len() as u64;
        }
    }

    /// One snapshot from the key-value bucket.
    pub fn on_snapshot(
        &mut self,
        key: &str,
        value: &[u8],
        now: Micros,
        out: &mut Vec<EngineInput>,
    ) {
        let Some((venue, instrument, collector)) = wire::parse_kv_key(key) else {
            self.stats.decode_errors += 1;
            return;
        };
        let Ok(snap) = wire::decode_snapshot(value) else {
            self.stats.decode_errors += 1;
            return;
        };
        if snap.origin.collector != collector {
            self.stats.decode_errors += 1;
            return;
        }
        let route = self.routes.entry((venue, instrument)).or_default();
        let stream = route
            .streams
            .entry(collector.to_string())
            .or_insert_with(|| Stream::new(snap.origin.epoch));
        if snap.origin.epoch < stream.epoch {
            return;
        }
        if snap.origin.epoch > stream.epoch {
            *stream = Stream::new(snap.origin.epoch);
        }
        if stream.snapshot.as_ref().is_some_and(|s| s.seq > snap.seq) {
            return;
        }
        stream.snapshot = Some(snap);
        let mut forward = Vec::new();
        resync(stream, venue, instrument, &mut forward);
        if route.chosen.as_deref() == Some(collector) {
            for m in forward {
                to_engine(venue, instrument, m, now, out);
            }
        } else {
            self.stats.duplicates += forward.len() as u64;
        }
    }

    /// Fail books over from collectors gone quiet to ones still speaking.
    pub fn on_tick(&mut self, now: Micros, out: &mut Vec<EngineInput>) {
        let fresh = |heard: &HashMap<(String, Venue), Micros>, c: &str, v: Venue| {
            heard
                .get(&(c.to_string(), v))
                .is_some_and(|t| now.saturating_sub(*t) <= self.failover_after)
        };
        for (&(venue, instrument), route) in &mut self.routes {
            let Some(current) = route.chosen.clone() else {
                continue;
            };
            if fresh(&self.heard, &current, venue) {
                continue;
            }
            let Some(next) = route
                .streams
                .iter()
                .find(|(c, s)| **c != current && s.heard && fresh(&self.heard, c, venue))
                .map(|(c, _)| c.clone())
            else {
                continue;
            };
            self.stats.failovers += 1;
            tracing::warn!(%venue, %instrument, from = %current, to = %next, "collector quiet: failing over");
            let conn = route
                .streams
                .get(&current)
                .and_then(|s| s.snapshot.as_ref())
                .map(|s| s.conn.clone())
                .unwrap_or_default();
            let reason = format!("collector {current} quiet: failing over to {next}");
            let events = vec![
                MarketEvent::BookState {
                    venue,
                    instrument,
                    state: BookState::OutOfSync(OutOfSyncReason::Venue(reason)),
                },
                MarketEvent::Incident {
                    venue,
                    instrument: Some(instrument),
                    incident: Incident::Resync,
                    detail: Some(format!("failover to collector {next}")),
                },
            ];
            out.push(feed(venue, conn_name(&current, &conn), now, 0, events));
            route.chosen = Some(next.clone());
            let mut forward = Vec::new();
            if let Some(stream) = route.streams.get_mut(&next) {
                stream.sync = Sync::Awaiting {
                    min_seq: stream.last_seq,
                    pending: Vec::new(),
                };
                resync(stream, venue, instrument, &mut forward);
            }
            for m in forward {
                to_engine(venue, instrument, m, now, out);
            }
        }
    }

    /// The collector chosen for a book, if any.
    pub fn chosen(&self, venue: Venue, instrument: &Instrument) -> Option<&str> {
        self.routes
            .get(&(venue, *instrument))
            .and_then(|r| r.chosen.as_deref())
    }
}

/// A sequenced message: applied in order, held while waiting, or the start
/// of a gap.
fn sequenced(
    stream: &mut Stream,
    venue: Venue,
    instrument: Instrument,
    msg: Message,
    seq: u64,
    stats: &mut RouterStats,
    forward: &mut Vec<Message>,
) {
    stream.last_seq = stream.last_seq.max(seq);
    let whole = matches!(
        msg.body,
        Body::Book {
            kind: wire::WireBookKind::Snapshot | wire::WireBookKind::Polled,
            ..
        }
    );
    match &mut stream.sync {
        Sync::Live { next } if seq < *next => {}
        Sync::Live { next } if seq == *next => {
            *next += 1;
            forward.push(msg);
        }
        // A whole book needs nothing before it.
        _ if whole => {
            stream.sync = Sync::Live { next: seq + 1 };
            forward.push(msg);
        }
        Sync::Live { next } => {
            let expected = *next;
            stats.gaps += 1;
            stats.resyncs += 1;
            tracing::info!(%venue, %instrument, collector = %msg.origin.collector, expected, got = seq, "bus sequence gap: resyncing from the snapshot");
            let gap = [
                (
                    Incident::Gap,
                    format!(
                        "bus sequence gap (expected {expected}, got {got})",
                        got = seq
                    ),
                ),
                (Incident::Resync, "resync from the bus snapshot".to_string()),
            ];
            forward.push(Message {
                origin: msg.origin.clone(),
                conn: msg.conn.clone(),
                received: msg.received,
                body: Body::State {
                    seq: 0,
                    state: (&BookState::OutOfSync(OutOfSyncReason::Gap { expected, got: seq }))
                        .into(),
                },
            });
            // The incidents travel as their own messages so the engine counts
            // them on this stream's connection.
            for (incident, detail) in gap {
                forward.push(Message {
                    origin: msg.origin.clone(),
                    conn: msg.conn.clone(),
                    received: msg.received,
                    body: Body::Incident {
                        incident: incident.into(),
                        detail: Some(detail),
                    },
                });
            }
            stream.sync = Sync::Awaiting {
                min_seq: expected,
                pending: vec![msg],
            };
        }
        Sync::Awaiting { pending, .. } => {
            match pending.last().and_then(|m| m.body.seq()) {
                Some(last) if seq <= last => return,
                Some(last) if seq != last + 1 => pending.clear(),
                _ => {}
            }
            if pending.len() >= MAX_PENDING {
                pending.remove(0);
            }
            pending.push(msg);
        }
    }
}

/// End a wait with the stream's snapshot when it is current enough: the
/// snapshot, then the pending messages after it.
fn resync(stream: &mut Stream, venue: Venue, instrument: Instrument, forward: &mut Vec<Message>) {
    let Sync::Awaiting { min_seq, pending } = &mut stream.sync else {
        return;
    };
    let Some(snap) = stream.snapshot.as_ref().filter(|_| stream.heard) else {
        return;
    };
    let reaches = match pending.first().and_then(|m| m.body.seq()) {
        Some(first) => snap.seq.saturating_add(1) >= first && snap.seq >= *min_seq,
        None => snap.seq >= *min_seq,
    };
    if !reaches {
        return;
    }
    let pending = std::mem::take(pending);
    tracing::debug!(%venue, %instrument, collector = %snap.origin.collector, seq = snap.seq, "book synced from the bus snapshot");
    forward.extend(snapshot_messages(snap));
    let mut next = snap.seq + 1;
    for m in pending {
        if m.body.seq().is_some_and(|s| s >= next) {
            next = m.body.seq().map_or(next, |s| s + 1);
            forward.push(m);
        }
    }
    stream.last_seq = stream.last_seq.max(next - 1);
    stream.sync = Sync::Live { next };
}

/// A bucket snapshot as the book message it stands for; a snapshot of a
/// book that was not usable is followed by its state (the engine applies the
/// levels, then marks the book).
fn snapshot_messages(snap: &BookSnapshot) -> Vec<Message> {
    let kind = match snap.state {
        WireBookState::Polled => wire::WireBookKind::Polled,
        _ => wire::WireBookKind::Snapshot,
    };
    let message = |body| Message {
        origin: snap.origin.clone(),
        conn: snap.conn.clone(),
        received: snap.taken,
        body,
    };
    let mut out = vec![message(Body::Book {
        seq: snap.seq,
        kind,
        bids: snap.bids.clone(),
        asks: snap.asks.clone(),
        exchange_ts: snap.exchange_ts,
        bytes: 0,
    })];
    if !matches!(snap.state, WireBookState::Live | WireBookState::Polled) {
        out.push(message(Body::State {
            seq: snap.seq,
            state: snap.state.clone(),
        }));
    }
    out
}

fn feed(
    venue: Venue,
    conn: String,
    now: Micros,
    bytes: usize,
    events: Vec<MarketEvent>,
) -> EngineInput {
    EngineInput::Feed {
        venue,
        conn,
        received: now,
        bytes,
        events,
    }
}

fn venue_wide(venue: Venue, msg: Message, now: Micros) -> EngineInput {
    let conn = conn_name(&msg.origin.collector, &msg.conn);
    match msg.body {
        Body::Conn { state } => EngineInput::Conn {
            venue,
            conn,
            state: state.into(),
            at: now,
        },
        Body::Alive { bytes } => feed(venue, conn, now, bytes, Vec::new()),
        Body::Incident { incident, detail } => feed(
            venue,
            conn,
            now,
            0,
            vec![MarketEvent::Incident {
                venue,
                instrument: None,
                incident: incident.into(),
                detail,
            }],
        ),
        // Book kinds on a venue-wide subject: not ours to guess.
        _ => feed(venue, conn, now, 0, Vec::new()),
    }
}

/// A message for a chosen stream as the engine input the venue gave.
fn to_engine(
    venue: Venue,
    instrument: Instrument,
    msg: Message,
    now: Micros,
    out: &mut Vec<EngineInput>,
) {
    let conn = conn_name(&msg.origin.collector, &msg.conn);
    let (bytes, events) = match msg.body {
        Body::Book {
            seq,
            kind,
            bids,
            asks,
            exchange_ts,
            bytes,
        } => (
            bytes,
            vec![MarketEvent::Book(BookUpdate {
                venue,
                instrument,
                kind: BookUpdateKind::from(kind),
                bids: wire::model_levels(&bids),
                asks: wire::model_levels(&asks),
                seq: SeqInfo {
                    first: None,
                    last: Some(seq),
                },
                exchange_ts,
                received: now,
            })],
        ),
        Body::State { state, .. } => (
            0,
            vec![MarketEvent::BookState {
                venue,
                instrument,
                state: state.into(),
            }],
        ),
        Body::Trade {
            price,
            size,
            side,
            exchange_ts,
        } => (
            0,
            vec![MarketEvent::Trade(Trade {
                venue,
                instrument,
                price,
                size,
                side: side.into(),
                exchange_ts,
                received: now,
            })],
        ),
        Body::Liquidation {
            price,
            size,
            side,
            exchange_ts,
        } => (
            0,
            vec![MarketEvent::Liquidation(Liquidation {
                venue,
                instrument,
                side: side.into(),
                price,
                size,
                exchange_ts,
                received: now,
            })],
        ),
        Body::Funding {
            update,
            exchange_ts,
        } => (
            0,
            vec![MarketEvent::Funding(Funding {
                venue,
                instrument,
                update: update.into(),
                exchange_ts,
                received: now,
            })],
        ),
        Body::Incident { incident, detail } => (
            0,
            vec![MarketEvent::Incident {
                venue,
                instrument: Some(instrument),
                incident: incident.into(),
                detail,
            }],
        ),
        Body::Conn { .. } | Body::Alive { .. } => (0, Vec::new()),
    };
    out.push(feed(venue, conn, now, bytes, events));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::wire::{Origin, WireLevel};
    use rust_decimal_macros::dec;

    const SUBJECT: &str = "depthwatch.v1.okx.BTC-USDT.book";
    const KEY_A: &str = "okx.BTC-USDT.a";

    fn origin(c: &str, epoch: u64) -> Origin {
        Origin {
            collector: c.into(),
            epoch,
        }
    }

    fn delta(c: &str, epoch: u64, seq: u64, price: u32) -> Vec<u8> {
        wire::encode(&Message {
            origin: origin(c, epoch),
            conn: "wss://okx".into(),
            received: 1,
            body: Body::Book {
                seq,
                kind: wire::WireBookKind::Delta,
                bids: vec![WireLevel(price.into(), dec!(1))],
                asks: vec![],
                exchange_ts: None,
                bytes: 10,
            },
        })
    }

    fn snapshot(c: &str, epoch: u64, seq: u64) -> Vec<u8> {
        wire::encode(&BookSnapshot {
            origin: origin(c, epoch),
            conn: "wss://okx".into(),
            seq,
            state: WireBookState::Live,
            bids: vec![WireLevel(dec!(90), dec!(1))],
            asks: vec![WireLevel(dec!(200), dec!(1))],
            exchange_ts: None,
            taken: 1,
        })
    }

    /// What reached the engine, in short: `S<seq>` snapshot, `D<seq>`
    /// delta, `X` out of sync, `G` gap incident, `R` resync incident.
    fn shorthand(out: &[EngineInput]) -> Vec<String> {
        out.iter()
            .flat_map(|i| match i {
                EngineInput::Feed { events, .. } => events
                    .iter()
                    .map(|e| match e {
                        MarketEvent::Book(u) => format!(
                            "{}{}",
                            if u.kind == BookUpdateKind::Delta {
                                "D"
                            } else {
                                "S"
                            },
                            u.seq.last.unwrap_or(0)
                        ),
                        MarketEvent::BookState { .. } => "X".to_string(),
                        MarketEvent::Incident {
                            incident: Incident::Gap,
                            ..
                        } => "G".into(),
                        MarketEvent::Incident {
                            incident: Incident::Resync,
                            ..
                        } => "R".into(),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>(),
                other => vec![format!("{other:?}")],
            })
            .collect()
    }

    #[test]
    fn a_late_joiner_syncs_from_the_snapshot_and_what_followed() {
        let mut r = Router::new(5_000_000);
        let mut out = Vec::new();
        // The bucket is read before the bus has spoken: the snapshot waits
        // for this run to be heard.
        r.on_snapshot(KEY_A, &snapshot("a", 1, 10), 0, &mut out);
        assert!(out.is_empty());
        r.on_message(SUBJECT, &delta("a", 1, 11, 95), 0, &mut out);
        r.on_message(SUBJECT, &delta("a", 1, 12, 96), 0, &mut out);
        r.on_message(SUBJECT, &delta("a", 1, 12, 96), 0, &mut out);
        assert_eq!(shorthand(&out), ["S10", "D11", "D12"]);
        let conn = match &out[0] {
            EngineInput::Feed { conn, .. } => conn.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(conn, "wss://okx (via a)");
    }

    #[test]
    fn a_hole_marks_the_book_and_a_newer_snapshot_rebuilds_it() {
        let mut r = Router::new(5_000_000);
        let mut out = Vec::new();
        r.on_message(SUBJECT, &delta("a", 1, 1, 95), 0, &mut out);
        r.on_snapshot(KEY_A, &snapshot("a", 1, 1), 0, &mut out);
        r.on_message(SUBJECT, &delta("a", 1, 2, 96), 0, &mut out);
        // 3 is lost.
        r.on_message(SUBJECT, &delta("a", 1, 4, 97), 0, &mut out);
        r.on_message(SUBJECT, &delta("a", 1, 5, 98), 0, &mut out);
        assert_eq!(shorthand(&out), ["S1", "D2", "X", "G", "R"]);
        out.clear();
        // A snapshot from before the hole cannot end the wait.
        r.on_snapshot(KEY_A, &snapshot("a", 1, 2), 0, &mut out);
        assert!(out.is_empty());
        r.on_snapshot(KEY_A, &snapshot("a", 1, 4), 0, &mut out);
        r.on_message(SUBJECT, &delta("a", 1, 6, 99), 0, &mut out);
        assert_eq!(shorthand(&out), ["S4", "D5", "D6"]);
        assert_eq!(r.stats().gaps, 1);
    }

    #[test]
    fn duplicate_collectors_feed_once_and_fail_over_when_one_goes_quiet() {
        let mut r = Router::new(1_000);
        let mut out = Vec::new();
        r.on_message(SUBJECT, &delta("a", 1, 1, 95), 0, &mut out);
        r.on_snapshot(KEY_A, &snapshot("a", 1, 1), 0, &mut out);
        r.on_message(SUBJECT, &delta("b", 7, 1, 95), 0, &mut out);
        r.on_snapshot("okx.BTC-USDT.b", &snapshot("b", 7, 1), 0, &mut out);
        r.on_message(SUBJECT, &delta("a", 1, 2, 96), 0, &mut out);
        r.on_message(SUBJECT, &delta("b", 7, 2, 96), 0, &mut out);
        assert_eq!(shorthand(&out), ["S1", "D2"]);
        assert_eq!(
            r.chosen(crate::venue!("okx"), &"BTC-USDT".parse().unwrap()),
            Some("a")
        );
        assert!(r.stats().duplicates >= 2);
        out.clear();
        // a goes quiet; b keeps speaking.
        r.on_message(SUBJECT, &delta("b", 7, 3, 97), 1_500, &mut out);
        r.on_tick(1_600, &mut out);
        assert_eq!(
            r.chosen(crate::venue!("okx"), &"BTC-USDT".parse().unwrap()),
            Some("b")
        );
        assert_eq!(shorthand(&out), ["X", "R"]);
        out.clear();
        r.on_message(SUBJECT, &delta("b", 7, 4, 98), 1_700, &mut out);
        r.on_snapshot("okx.BTC-USDT.b", &snapshot("b", 7, 3), 1_700, &mut out);
        r.on_message(SUBJECT, &delta("a", 1, 3, 1), 1_800, &mut out);
        assert_eq!(shorthand(&out), ["S3", "D4"]);
    }

    #[test]
    fn a_restarted_collector_starts_a_new_sequence_and_old_runs_are_ignored() {
        let mut r = Router::new(5_000_000);
        let mut out = Vec::new();
        r.on_message(SUBJECT, &delta("a", 1, 1, 95), 0, &mut out);
        r.on_snapshot(KEY_A, &snapshot("a", 1, 1), 0, &mut out);
        r.on_message(SUBJECT, &delta("a", 2, 1, 95), 0, &mut out);
        r.on_message(SUBJECT, &delta("a", 1, 2, 95), 0, &mut out);
        r.on_snapshot(KEY_A, &snapshot("a", 1, 2), 0, &mut out);
        r.on_snapshot(KEY_A, &snapshot("a", 2, 1), 0, &mut out);
        assert_eq!(shorthand(&out), ["S1", "S1"]);
        assert_eq!(r.stats().old_runs, 1);
    }

    #[test]
    fn garbage_is_counted() {
        let mut r = Router::new(5_000_000);
        let mut out = Vec::new();
        r.on_message(SUBJECT, b"{not json", 0, &mut out);
        r.on_message(
            "depthwatch.v1.nowhere.X-Y.book",
            &delta("a", 1, 1, 1),
            0,
            &mut out,
        );
        r.on_snapshot("okx.BTC-USDT.a", b"[]", 0, &mut out);
        r.on_snapshot("okx.BTC-USDT.b", &snapshot("a", 1, 1), 0, &mut out);
        assert!(out.is_empty());
        assert_eq!(r.stats().decode_errors, 4);
    }
}
