//! The collector's core: the engine inputs its venue feeds produce, turned
//! into bus messages. Sans-IO: [`Materializer`] returns what to publish and
//! what to put in the key-value bucket; the task in [`super::publish`] does
//! the I/O.
//!
//! It keeps its own copy of every book (the same [`OrderBook`] the engine
//! uses, fed the same updates) for two reasons: the snapshots late joiners
//! and resyncing terminals read from the bucket, and a sequence number per
//! book that counts every book and state message of this run without holes,
//! so a terminal sees a lost message as a gap.

use std::collections::BTreeMap;

use crate::book::OrderBook;
use crate::engine::EngineInput;
use crate::model::{
    BookState, BookUpdateKind, Instrument, MarketEvent, Micros, OutOfSyncReason, Venue,
};

use super::observe::BookRow;
use super::wire::{self, Body, BookSnapshot, Kind, Message, Origin};

/// What the materializer asks the I/O side to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// A core NATS publish.
    Publish {
        kind: Kind,
        subject: String,
        payload: Vec<u8>,
    },
    /// The latest snapshot of one book, for the key-value bucket.
    Put {
        venue: Venue,
        instrument: Instrument,
        key: String,
        value: Vec<u8>,
    },
}

/// The collector's copy of one book.
#[derive(Debug)]
struct Mirror {
    book: OrderBook,
    /// Sequence number of the last book or state message published.
    seq: u64,
    /// The connection its last book message came on.
    conn: String,
    /// Changed since its snapshot was last put.
    dirty: bool,
}

/// A connection whose frames carried no market data since its last message.
#[derive(Debug, Default)]
struct Quiet {
    bytes: usize,
    heard: bool,
}

pub struct Materializer {
    origin: Origin,
    books: BTreeMap<(Venue, Instrument), Mirror>,
    quiet: BTreeMap<(Venue, String), Quiet>,
}

/// One of the collector's books as it ends (tests compare terminals to it).
#[derive(Clone, Debug)]
pub struct FinalBook {
    pub venue: Venue,
    pub instrument: Instrument,
    pub seq: u64,
    pub state: BookState,
    pub book: OrderBook,
}

impl Materializer {
    pub fn new(origin: Origin) -> Self {
        Materializer {
            origin,
            books: BTreeMap::new(),
            quiet: BTreeMap::new(),
        }
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    fn message(&self, conn: &str, received: Micros, body: Body) -> Vec<u8> {
        wire::encode(&Message {
            origin: self.origin.clone(),
            conn: conn.to_string(),
            received,
            body,
        })
    }

    fn publish(
        &self,
        out: &mut Vec<Out>,
        venue: Venue,
        instrument: Option<&Instrument>,
        conn: &str,
        received: Micros,
        body: Body,
    ) {
        let kind = body.kind();
        let subject = wire::subject(venue, instrument, kind);
        out.push(Out::Publish {
            kind,
            subject,
            payload: self.message(conn, received, body),
        });
    }

    /// Turn one engine input into messages (and snapshots to put).
    pub fn input(&mut self, input: &EngineInput, now: Micros, out: &mut Vec<Out>) {
        match input {
            EngineInput::Feed {
                venue,
                conn,
                received,
                bytes,
                events,
            } => {
                if events.is_empty() {
                    let q = self.quiet.entry((*venue, conn.clone())).or_default();
                    q.bytes = q.bytes.saturating_add(*bytes);
                    q.heard = true;
                    return;
                }
                // The connection spoke with data: no liveness message owed.
                if let Some(q) = self.quiet.get_mut(&(*venue, conn.clone())) {
                    *q = Quiet::default();
                }
                let mut frame_bytes = *bytes;
                for event in events {
                    self.event(*venue, conn, *received, &mut frame_bytes, event, now, out);
                }
            }
            EngineInput::Conn {
                venue,
                conn,
                state,
                at,
            } => {
                let body = Body::Conn {
                    state: state.into(),
                };
                self.publish(out, *venue, None, conn, *at, body);
            }
            EngineInput::VenueReset { venue, reason } => {
                let state = BookState::OutOfSync(OutOfSyncReason::Venue(reason.clone()));
                self.mark_venue(*venue, None, &state, now, out);
            }
            EngineInput::Forget {
                venue, instruments, ..
            } => {
                let state =
                    BookState::OutOfSync(OutOfSyncReason::Venue("no longer collected".into()));
                self.mark_venue(*venue, Some(instruments), &state, now, out);
            }
            EngineInput::Tick { .. } => {}
        }
    }

    /// Set `state` on the books of `venue` (all, or those in `only`).
    fn mark_venue(
        &mut self,
        venue: Venue,
        only: Option<&[Instrument]>,
        state: &BookState,
        now: Micros,
        out: &mut Vec<Out>,
    ) {
        let keys: Vec<(Venue, Instrument)> = self
            .books
            .keys()
            .filter(|(v, i)| *v == venue && only.is_none_or(|o| o.contains(i)))
            .copied()
            .collect();
        for (v, i) in keys {
            let conn = self
                .books
                .get(&(v, i))
                .map(|m| m.conn.clone())
                .unwrap_or_default();
            self.state(v, i, &conn, now, state, now, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        venue: Venue,
        conn: &str,
        received: Micros,
        frame_bytes: &mut usize,
        event: &MarketEvent,
        now: Micros,
        out: &mut Vec<Out>,
    ) {
        let bytes = std::mem::take(frame_bytes);
        match event {
            MarketEvent::Book(u) => {
                let m = self.mirror(u.venue, u.instrument);
                m.seq += 1;
                m.book.apply(u);
                m.conn = conn.to_string();
                m.dirty = true;
                let body = Body::Book {
                    seq: m.seq,
                    kind: u.kind.into(),
                    bids: wire::wire_levels(u.bids.iter().copied()),
                    asks: wire::wire_levels(u.asks.iter().copied()),
                    exchange_ts: u.exchange_ts,
                    bytes,
                };
                self.publish(out, u.venue, Some(&u.instrument), conn, received, body);
                // A whole book is what late joiners need most: put it now.
                if u.kind != BookUpdateKind::Delta {
                    self.put(u.venue, u.instrument, now, out);
                }
            }
            MarketEvent::BookState {
                venue,
                instrument,
                state,
            } => self.state(*venue, *instrument, conn, received, state, now, out),
            MarketEvent::Trade(t) => {
                let body = Body::Trade {
                    price: t.price,
                    size: t.size,
                    side: t.side.into(),
                    exchange_ts: t.exchange_ts,
                };
                self.publish(out, t.venue, Some(&t.instrument), conn, received, body);
            }
            MarketEvent::Liquidation(l) => {
                let body = Body::Liquidation {
                    price: l.price,
                    size: l.size,
                    side: l.side.into(),
                    exchange_ts: l.exchange_ts,
                };
                self.publish(out, l.venue, Some(&l.instrument), conn, received, body);
            }
            MarketEvent::Funding(f) => {
                let body = Body::Funding {
                    update: (&f.update).into(),
                    exchange_ts: f.exchange_ts,
                };
                self.publish(out, f.venue, Some(&f.instrument), conn, received, body);
            }
            MarketEvent::Incident {
                venue: v,
                instrument,
                incident,
                detail,
            } => {
                let body = Body::Incident {
                    incident: (*incident).into(),
                    detail: detail.clone(),
                };
                self.publish(out, *v, instrument.as_ref(), conn, received, body);
            }
            // REST backfills (history, klines) and instrument lists stay
            // with the collector: they are large, one-off, and a terminal
            // fetches none of them.
            MarketEvent::History { .. }
            | MarketEvent::Klines { .. }
            | MarketEvent::Instruments { .. } => {
                tracing::trace!(%venue, "not published on the bus: backfill or instrument list");
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn state(
        &mut self,
        venue: Venue,
        instrument: Instrument,
        conn: &str,
        received: Micros,
        state: &BookState,
        now: Micros,
        out: &mut Vec<Out>,
    ) {
        let m = self.mirror(venue, instrument);
        m.seq += 1;
        m.book.set_state(state.clone());
        let body = Body::State {
            seq: m.seq,
            state: state.into(),
        };
        self.publish(out, venue, Some(&instrument), conn, received, body);
        self.put(venue, instrument, now, out);
    }

    fn mirror(&mut self, venue: Venue, instrument: Instrument) -> &mut Mirror {
        self.books
            .entry((venue, instrument))
            .or_insert_with(|| Mirror {
                book: OrderBook::new(),
                seq: 0,
                conn: String::new(),
                dirty: false,
            })
    }

    fn put(&mut self, venue: Venue, instrument: Instrument, now: Micros, out: &mut Vec<Out>) {
        let Some(m) = self.books.get_mut(&(venue, instrument)) else {
            return;
        };
        m.dirty = false;
        let snap = BookSnapshot {
            origin: self.origin.clone(),
            conn: m.conn.clone(),
            seq: m.seq,
            state: m.book.state().into(),
            bids: wire::wire_levels(m.book.bids.iter().copied()),
            asks: wire::wire_levels(m.book.asks.iter().copied()),
            exchange_ts: m.book.last_exchange_ts,
            taken: now,
        };
        out.push(Out::Put {
            venue,
            instrument,
            key: wire::kv_key(venue, &instrument, &self.origin.collector),
            value: wire::encode(&snap),
        });
    }

    /// A put that could not be queued: the book is put again next time.
    pub fn put_dropped(&mut self, venue: Venue, instrument: Instrument) {
        if let Some(m) = self.books.get_mut(&(venue, instrument)) {
            m.dirty = true;
        }
    }

    /// Periodic work: the snapshot of every book changed since its last put,
    /// and a liveness message for each connection that spoke without data.
    pub fn tick(&mut self, now: Micros, out: &mut Vec<Out>) {
        let dirty: Vec<(Venue, Instrument)> = self
            .books
            .iter()
            .filter(|(_, m)| m.dirty)
            .map(|(k, _)| *k)
            .collect();
        for (v, i) in dirty {
            self.put(v, i, now, out);
        }
        let quiet: Vec<((Venue, String), usize)> = self
            .quiet
            .iter_mut()
            .filter(|(_, q)| q.heard)
            .map(|(k, q)| {
                let bytes = q.bytes;
                *q = Quiet::default();
                (k.clone(), bytes)
            })
            .collect();
        for ((venue, conn), bytes) in quiet {
            self.publish(out, venue, None, &conn, now, Body::Alive { bytes });
        }
    }

    /// Every book's snapshot, changed or not (on the way out).
    pub fn put_all(&mut self, now: Micros, out: &mut Vec<Out>) {
        let keys: Vec<(Venue, Instrument)> = self.books.keys().copied().collect();
        for (v, i) in keys {
            self.put(v, i, now, out);
        }
    }

    /// The state of each of the collector's books, in venue and instrument
    /// order (for `--metrics`: no levels copied).
    pub fn book_rows(&self) -> Vec<BookRow> {
        self.books
            .iter()
            .map(|((venue, instrument), m)| BookRow {
                venue: *venue,
                instrument: *instrument,
                conn: m.conn.clone(),
                state: m.book.state().clone(),
                last_update: m.book.last_update,
            })
            .collect()
    }

    /// The collector's books, in venue and instrument order.
    pub fn books(&self) -> Vec<FinalBook> {
        self.books
            .iter()
            .map(|((venue, instrument), m)| FinalBook {
                venue: *venue,
                instrument: *instrument,
                seq: m.seq,
                state: m.book.state().clone(),
                book: m.book.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BookUpdate, Level, SeqInfo};
    use rust_decimal_macros::dec;

    fn origin() -> Origin {
        Origin {
            collector: "a".into(),
            epoch: 1,
        }
    }

    fn book(kind: BookUpdateKind, bid: Level) -> MarketEvent {
        MarketEvent::Book(BookUpdate {
            venue: crate::venue!("okx"),
            instrument: "BTC-USDT".parse().unwrap(),
            kind,
            bids: vec![bid],
            asks: vec![Level::new(dec!(101), dec!(1))],
            seq: SeqInfo::default(),
            exchange_ts: Some(3),
            received: 5,
        })
    }

    fn feed(events: Vec<MarketEvent>) -> EngineInput {
        EngineInput::Feed {
            venue: crate::venue!("okx"),
            conn: "wss://okx".into(),
            received: 5,
            bytes: 100,
            events,
        }
    }

    fn messages(out: &[Out]) -> Vec<(String, Message)> {
        out.iter()
            .filter_map(|o| match o {
                Out::Publish {
                    subject, payload, ..
                } => Some((subject.clone(), wire::decode_message(payload).unwrap())),
                Out::Put { .. } => None,
            })
            .collect()
    }

    #[test]
    fn books_are_sequenced_and_snapshots_put() {
        let mut m = Materializer::new(origin());
        let mut out = Vec::new();
        m.input(
            &feed(vec![book(
                BookUpdateKind::Snapshot,
                Level::new(dec!(100), dec!(1)),
            )]),
            10,
            &mut out,
        );
        m.input(
            &feed(vec![book(
                BookUpdateKind::Delta,
                Level::new(dec!(100), dec!(2)),
            )]),
            11,
            &mut out,
        );
        let msgs = messages(&out);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].0, "depthwatch.v1.okx.BTC-USDT.book");
        assert_eq!(msgs[0].1.body.seq(), Some(1));
        assert_eq!(msgs[1].1.body.seq(), Some(2));
        // The snapshot was put at once; the delta waits for the tick.
        let puts = out.iter().filter(|o| matches!(o, Out::Put { .. })).count();
        assert_eq!(puts, 1);
        out.clear();
        m.tick(20, &mut out);
        let Some(Out::Put { key, value, .. }) = out.first() else {
            panic!("{out:?}")
        };
        assert_eq!(key, "okx.BTC-USDT.a");
        let snap = wire::decode_snapshot(value).unwrap();
        assert_eq!(snap.seq, 2);
        assert_eq!(snap.bids, vec![wire::WireLevel(dec!(100), dec!(2))]);
        assert_eq!(snap.state, wire::WireBookState::Live);
        out.clear();
        m.tick(30, &mut out);
        assert!(out.is_empty(), "nothing changed: {out:?}");
    }

    #[test]
    fn states_share_the_book_sequence_and_quiet_frames_become_alive() {
        let mut m = Materializer::new(origin());
        let mut out = Vec::new();
        m.input(
            &feed(vec![book(
                BookUpdateKind::Snapshot,
                Level::new(dec!(100), dec!(1)),
            )]),
            1,
            &mut out,
        );
        m.input(
            &EngineInput::VenueReset {
                venue: crate::venue!("okx"),
                reason: "restart".into(),
            },
            2,
            &mut out,
        );
        m.input(&feed(vec![]), 3, &mut out);
        m.input(&feed(vec![]), 3, &mut out);
        m.tick(4, &mut out);
        let msgs = messages(&out);
        assert_eq!(msgs[1].0, "depthwatch.v1.okx.BTC-USDT.state");
        assert_eq!(msgs[1].1.body.seq(), Some(2));
        assert_eq!(msgs[2].0, "depthwatch.v1.okx._.conn");
        assert_eq!(msgs[2].1.body, Body::Alive { bytes: 200 });
        assert_eq!(m.books()[0].seq, 2);
        assert!(!m.books()[0].state.is_live());
    }
}
