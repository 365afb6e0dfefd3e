//! The book lifecycle every adapter shares.
//!
//! An adapter knows its venue's protocol facts — how a snapshot, a delta, a
//! gap or a checksum failure is recognised, and how to resync — and nothing
//! about telling the engine. This module owns that: every transition after
//! which updates stop reaching a book emits the state change the engine
//! needs, in a deterministic order (books in instrument order), and book
//! data reaches the engine only through it, so an adapter cannot publish a
//! delta for a book it is not keeping in sync.
//!
//! ```text
//!            subscribe / open            snapshot
//!   Idle ─────────────────────▶ Syncing ─────────▶ Live ──▶ deltas
//!    ▲  unsubscribe               ▲  ▲                │
//!    └────────────────────────────┘  └── gap, checksum failure,
//!                                        close, invalid data, resync
//! ```
//!
//! What the engine was last told is kept per book, so a transition is only
//! announced when it changes something: a book the engine shows as live is
//! always one this module is applying updates to ([`Lifecycle::applying`]).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::Output;
use super::parse::MAX_PRICE;
use crate::model::{
    BookState, BookUpdate, BookUpdateKind, Incident, Instrument, Level, MarketEvent, Micros,
    OutOfSyncReason, SeqInfo, Venue,
};

/// Where a book stands on the adapter's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not subscribed: no updates are expected.
    Idle,
    /// Subscribed or rebuilding: waiting for the snapshot that starts it.
    Syncing,
    /// Built from a snapshot and every update since.
    Live,
}

/// What the engine was last told about a book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Told {
    Nothing,
    Live,
    Polled,
    Syncing,
    /// Out of sync, for a reason already shown.
    OutOfSync,
}

#[derive(Clone, Debug)]
struct Entry {
    phase: Phase,
    told: Told,
    /// The connection carrying the book's updates.
    conn: Option<String>,
}

/// Book data as an adapter parsed it (the lifecycle adds venue and kind).
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    pub instrument: Instrument,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub seq: SeqInfo,
    pub exchange_ts: Option<Micros>,
    pub received: Micros,
}

/// What became of book data handed to the lifecycle.
#[must_use = "an adapter must resync a book whose update was rejected"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Published to the engine.
    Published,
    /// The book is not live (waiting for a snapshot): dropped, as it must be.
    NotLive,
    /// The data broke a rule no venue may break (a non-positive price, a
    /// negative size, a number beyond any real market): counted as a parse
    /// error, and the book is out of sync. The adapter resyncs it.
    Rejected,
}

/// The lifecycle of every book of one adapter.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    venue: Venue,
    books: BTreeMap<Instrument, Entry>,
}

impl Lifecycle {
    pub fn new(venue: Venue) -> Self {
        Lifecycle {
            venue,
            books: BTreeMap::new(),
        }
    }

    pub fn venue(&self) -> Venue {
        self.venue
    }

    pub fn phase(&self, instrument: &Instrument) -> Phase {
        self.books.get(instrument).map_or(Phase::Idle, |e| e.phase)
    }

    pub fn is_live(&self, instrument: &Instrument) -> bool {
        self.phase(instrument) == Phase::Live
    }

    /// The books updates are being applied to, in instrument order.
    pub fn applying(&self) -> impl Iterator<Item = Instrument> + '_ {
        self.books
            .iter()
            .filter(|(_, e)| e.phase == Phase::Live)
            .map(|(i, _)| *i)
    }

    /// Every book that is not idle, with its phase.
    pub fn books(&self) -> impl Iterator<Item = (Instrument, Phase)> + '_ {
        self.books
            .iter()
            .filter(|(_, e)| e.phase != Phase::Idle)
            .map(|(i, e)| (*i, e.phase))
    }

    /// The connection carrying a book, if any.
    pub fn conn(&self, instrument: &Instrument) -> Option<&str> {
        self.books.get(instrument)?.conn.as_deref()
    }

    fn entry(&mut self, instrument: Instrument) -> &mut Entry {
        self.books.entry(instrument).or_insert(Entry {
            phase: Phase::Idle,
            told: Told::Nothing,
            conn: None,
        })
    }

    fn tell(&mut self, instrument: Instrument, state: BookState, out: &mut Output) {
        let told = match &state {
            BookState::Live => Told::Live,
            BookState::Polled => Told::Polled,
            BookState::Syncing => Told::Syncing,
            BookState::OutOfSync(_) => Told::OutOfSync,
        };
        self.entry(instrument).told = told;
        out.event(MarketEvent::BookState {
            venue: self.venue,
            instrument,
            state,
        });
    }

    /// The book is (re)subscribed on `conn`, or its connection reopened:
    /// whatever it held is no longer being updated until a snapshot comes.
    pub fn subscribing(&mut self, instrument: Instrument, conn: &str, out: &mut Output) {
        let e = self.entry(instrument);
        if e.conn.as_deref() != Some(conn) {
            e.conn = Some(conn.to_string());
        }
        let announce =
            e.phase == Phase::Live || matches!(e.told, Told::Nothing | Told::Live | Told::Polled);
        e.phase = Phase::Syncing;
        if announce {
            self.tell(instrument, BookState::Syncing, out);
        }
    }

    /// The book's data arrives over `conn`. A book not subscribed yet (data
    /// on a connection whose opening was not seen, as in some recordings)
    /// counts as subscribing now.
    pub fn carried_by(&mut self, instrument: Instrument, conn: &str, out: &mut Output) {
        let e = self.entry(instrument);
        if e.phase == Phase::Idle {
            return self.subscribing(instrument, conn, out);
        }
        if e.conn.as_deref() != Some(conn) {
            e.conn = Some(conn.to_string());
        }
    }

    /// A full book: it replaces everything and the book is live from here.
    pub fn snapshot(&mut self, u: Update, out: &mut Output) -> Applied {
        if let Err(why) = validate(&u) {
            return self.reject(u.instrument, why, out);
        }
        let e = self.entry(u.instrument);
        e.phase = Phase::Live;
        e.told = Told::Live;
        self.publish(u, BookUpdateKind::Snapshot, out);
        Applied::Published
    }

    /// A whole book polled over REST while the stream is unreachable (see
    /// [`super::Adapter::poll_depth`]). Shown as polled, usable while fresh;
    /// ignored once the stream keeps the book live again.
    pub fn polled(&mut self, u: Update, out: &mut Output) -> Applied {
        if self.is_live(&u.instrument) {
            return Applied::NotLive;
        }
        if let Err(why) = validate(&u) {
            out.parse_error(
                self.venue,
                Some(u.instrument),
                format!("polled {}: {why}", u.instrument),
            );
            return Applied::Rejected;
        }
        self.entry(u.instrument).told = Told::Polled;
        self.publish(u, BookUpdateKind::Polled, out);
        Applied::Published
    }

    /// Changes to a live book; dropped unless the book is live.
    pub fn delta(&mut self, u: Update, out: &mut Output) -> Applied {
        if !self.is_live(&u.instrument) {
            return Applied::NotLive;
        }
        if let Err(why) = validate(&u) {
            return self.reject(u.instrument, why, out);
        }
        self.publish(u, BookUpdateKind::Delta, out);
        Applied::Published
    }

    fn publish(&self, u: Update, kind: BookUpdateKind, out: &mut Output) {
        out.event(MarketEvent::Book(BookUpdate {
            venue: self.venue,
            instrument: u.instrument,
            kind,
            bids: u.bids,
            asks: u.asks,
            seq: u.seq,
            exchange_ts: u.exchange_ts,
            received: u.received,
        }));
    }

    fn reject(&mut self, instrument: Instrument, why: String, out: &mut Output) -> Applied {
        out.parse_error(self.venue, Some(instrument), format!("{instrument}: {why}"));
        self.fail(
            instrument,
            OutOfSyncReason::Venue(format!("invalid book data: {why}")),
            out,
        );
        Applied::Rejected
    }

    /// The book broke (gap, checksum failure, venue reset): out of sync and
    /// waiting for a rebuild, which the adapter starts (it counts a resync
    /// when it does, with [`Lifecycle::resync`]).
    pub fn fail(&mut self, instrument: Instrument, reason: OutOfSyncReason, out: &mut Output) {
        let e = self.entry(instrument);
        if e.phase == Phase::Idle {
            return;
        }
        e.phase = Phase::Syncing;
        self.tell(instrument, BookState::OutOfSync(reason), out);
    }

    /// A sequence break: counted, out of sync, and a resync is under way.
    pub fn gap(&mut self, instrument: Instrument, expected: u64, got: u64, out: &mut Output) {
        let reason = OutOfSyncReason::Gap { expected, got };
        tracing::warn!(venue = %self.venue, %instrument, "{reason}: resyncing");
        out.incident(
            self.venue,
            Some(instrument),
            Incident::Gap,
            reason.to_string(),
        );
        self.fail(instrument, reason, out);
        self.resync(instrument, "after a sequence gap", out);
    }

    /// A checksum that did not match: counted, out of sync, resync.
    pub fn checksum_failed(
        &mut self,
        instrument: Instrument,
        expected: u32,
        computed: u32,
        out: &mut Output,
    ) {
        let reason = OutOfSyncReason::ChecksumMismatch { expected, computed };
        tracing::warn!(venue = %self.venue, %instrument, "{reason}: resyncing");
        out.incident(
            self.venue,
            Some(instrument),
            Incident::ChecksumFailed,
            reason.to_string(),
        );
        self.fail(instrument, reason, out);
        self.resync(instrument, "after a checksum mismatch", out);
    }

    /// A checksum that matched.
    pub fn checksum_ok(&self, instrument: Instrument, out: &mut Output) {
        out.incident(self.venue, Some(instrument), Incident::ChecksumOk, None);
    }

    /// Count a rebuild being started (new snapshot, resubscription).
    pub fn resync(&self, instrument: Instrument, why: &str, out: &mut Output) {
        out.incident(
            self.venue,
            Some(instrument),
            Incident::Resync,
            why.to_string(),
        );
    }

    /// The book is live but its snapshot turned out older than the stream
    /// (a documented part of REST-snapshot procedures, not a fault): back to
    /// syncing until a newer snapshot.
    pub fn snapshot_superseded(&mut self, instrument: Instrument, out: &mut Output) {
        let e = self.entry(instrument);
        if e.phase == Phase::Idle {
            return;
        }
        e.phase = Phase::Syncing;
        if e.told != Told::Syncing {
            self.tell(instrument, BookState::Syncing, out);
        }
    }

    /// A connection closed: every book it carried is out of sync until it
    /// is subscribed again and rebuilt.
    pub fn closed(&mut self, conn: &str, out: &mut Output) {
        let hit: Vec<Instrument> = self
            .books
            .iter()
            .filter(|(_, e)| e.conn.as_deref() == Some(conn) && e.phase != Phase::Idle)
            .map(|(i, _)| *i)
            .collect();
        for i in hit {
            let e = self.entry(i);
            e.phase = Phase::Syncing;
            e.conn = None;
            // A book already out of sync keeps the reason it was shown with.
            if e.told != Told::OutOfSync {
                self.tell(i, BookState::OutOfSync(OutOfSyncReason::Disconnected), out);
            }
        }
    }

    /// The books a connection carries, in instrument order.
    pub fn on_conn(&self, conn: &str) -> Vec<Instrument> {
        self.books
            .iter()
            .filter(|(_, e)| e.conn.as_deref() == Some(conn) && e.phase != Phase::Idle)
            .map(|(i, _)| *i)
            .collect()
    }

    /// Every book on `conn` broke at once (a connection-wide sequence).
    pub fn fail_conn(&mut self, conn: &str, reason: OutOfSyncReason, out: &mut Output) {
        for i in self.on_conn(conn) {
            self.fail(i, reason.clone(), out);
        }
    }

    /// No longer subscribed: the book is idle and, if shown as live, shown
    /// as out of sync.
    pub fn unsubscribed(&mut self, instrument: Instrument, out: &mut Output) {
        let e = self.entry(instrument);
        let was_shown = matches!(e.told, Told::Live | Told::Polled | Told::Syncing);
        e.phase = Phase::Idle;
        e.conn = None;
        if was_shown {
            self.tell(
                instrument,
                BookState::OutOfSync(OutOfSyncReason::Venue("unsubscribed".to_string())),
                out,
            );
        }
    }
}

/// What no venue may send in a book: prices must be positive, sizes not
/// negative, both below bounds no real market reaches (so sums and products
/// of them stay far from `Decimal`'s limits).
fn validate(u: &Update) -> Result<(), String> {
    for (side, levels) in [("bid", &u.bids), ("ask", &u.asks)] {
        for l in levels {
            if l.price <= Decimal::ZERO || l.price > MAX_PRICE {
                return Err(format!("{side} price {} out of range", l.price));
            }
            // A zero size deletes (in a snapshot: a level that is not
            // there, which the book skips).
            if !super::parse::is_size(l.size) {
                return Err(format!("{side} size {} out of range", l.size));
            }
        }
    }
    super::parse::check_time(u.exchange_ts).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn venue() -> Venue {
        crate::venue!("bybit")
    }

    fn inst(s: &str) -> Instrument {
        s.parse().unwrap()
    }

    fn update(i: Instrument, price: Decimal) -> Update {
        Update {
            instrument: i,
            bids: vec![Level::new(price, dec!(1))],
            asks: vec![],
            seq: SeqInfo::default(),
            exchange_ts: None,
            received: 1,
        }
    }

    fn states(out: &mut Output) -> Vec<(Instrument, String)> {
        out.events
            .drain(..)
            .filter_map(|e| match e {
                MarketEvent::BookState {
                    instrument, state, ..
                } => Some((instrument, state.label().to_string())),
                MarketEvent::Book(b) => Some((b.instrument, format!("{:?}", b.kind))),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_live_book_reopened_is_announced_syncing_and_drops_deltas() {
        let (a, mut out) = (inst("BTC-USDT"), Output::default());
        let mut lc = Lifecycle::new(venue());
        lc.subscribing(a, "ws1", &mut out);
        assert_eq!(
            lc.snapshot(update(a, dec!(1)), &mut out),
            Applied::Published
        );
        assert_eq!(lc.delta(update(a, dec!(2)), &mut out), Applied::Published);
        lc.subscribing(a, "ws1", &mut out);
        assert_eq!(lc.delta(update(a, dec!(3)), &mut out), Applied::NotLive);
        assert_eq!(
            states(&mut out),
            [
                (a, "syncing".into()),
                (a, "Snapshot".into()),
                (a, "Delta".into()),
                (a, "syncing".into())
            ]
        );
        assert_eq!(lc.applying().count(), 0);
    }

    #[test]
    fn close_marks_only_that_connections_books_in_order() {
        let (a, b, c) = (inst("ETH-USDT"), inst("BTC-USDT"), inst("SOL-USDT"));
        let mut out = Output::default();
        let mut lc = Lifecycle::new(venue());
        for (i, conn) in [(a, "x"), (b, "x"), (c, "y")] {
            lc.subscribing(i, conn, &mut out);
            let _ = lc.snapshot(update(i, dec!(1)), &mut out);
        }
        out.clear();
        lc.closed("x", &mut out);
        assert_eq!(
            states(&mut out),
            [(b, "out_of_sync".into()), (a, "out_of_sync".into())]
        );
        assert_eq!(lc.applying().collect::<Vec<_>>(), [c]);
        // A second close says nothing new.
        lc.closed("x", &mut out);
        assert!(out.events.is_empty());
    }

    #[test]
    fn gap_counts_fails_and_resyncs() {
        let (a, mut out) = (inst("BTC-USDT"), Output::default());
        let mut lc = Lifecycle::new(venue());
        lc.subscribing(a, "ws", &mut out);
        let _ = lc.snapshot(update(a, dec!(1)), &mut out);
        out.clear();
        lc.gap(a, 5, 7, &mut out);
        let kinds: Vec<String> = out
            .events
            .iter()
            .map(|e| match e {
                MarketEvent::Incident { incident, .. } => format!("{incident:?}"),
                MarketEvent::BookState { state, .. } => state.label().to_string(),
                _ => "?".into(),
            })
            .collect();
        assert_eq!(kinds, ["Gap", "out_of_sync", "Resync"]);
        assert!(!lc.is_live(&a));
    }

    #[test]
    fn invalid_levels_are_rejected_and_take_the_book_out_of_sync() {
        let (a, mut out) = (inst("BTC-USDT"), Output::default());
        let mut lc = Lifecycle::new(venue());
        lc.subscribing(a, "ws", &mut out);
        assert_eq!(
            lc.snapshot(update(a, dec!(-1)), &mut out),
            Applied::Rejected
        );
        assert!(!lc.is_live(&a));
        let _ = lc.snapshot(update(a, dec!(1)), &mut out);
        assert_eq!(
            lc.delta(update(a, Decimal::MAX), &mut out),
            Applied::Rejected
        );
        assert!(!lc.is_live(&a));
        assert!(out.events.iter().any(|e| matches!(
            e,
            MarketEvent::Incident {
                incident: Incident::ParseError,
                ..
            }
        )));
    }

    #[test]
    fn unsubscribe_of_a_shown_book_is_announced() {
        let (a, mut out) = (inst("BTC-USDT"), Output::default());
        let mut lc = Lifecycle::new(venue());
        lc.subscribing(a, "ws", &mut out);
        let _ = lc.snapshot(update(a, dec!(1)), &mut out);
        out.clear();
        lc.unsubscribed(a, &mut out);
        assert_eq!(states(&mut out), [(a, "out_of_sync".into())]);
        assert_eq!(lc.phase(&a), Phase::Idle);
        lc.fail(a, OutOfSyncReason::Stale, &mut out);
        assert!(out.events.is_empty(), "an idle book has nothing to fail");
    }
}
