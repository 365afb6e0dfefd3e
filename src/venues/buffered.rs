//! Snapshot + diff synchronisation for venues whose stream carries diffs and
//! whose snapshot is requested separately (REST, or a `req` on the socket):
//! Binance, Bitstamp, and the venues that follow the same procedure.
//!
//! Diffs that arrive before a usable snapshot are buffered (never dropped on
//! a resync: losing them causes endless resync loops). A snapshot is applied
//! as soon as it is usable, then the buffered diffs that bridge it, then live
//! diffs under the venue's continuity [`Rule`] (its protocol facts: which
//! diffs a snapshot already holds, which one bridges it, which follow).
//!
//! The state machine is pure: it turns diffs and snapshots into [`Effect`]s,
//! and [`publish`] turns those into lifecycle transitions (which tell the
//! engine) and snapshot requests.

use std::collections::VecDeque;

use super::Output;
use super::lifecycle::{Applied, Lifecycle, Update};
use crate::model::{Instrument, Level, Micros, SeqInfo};

/// A venue's continuity rule for diffs over a snapshot.
pub trait Rule {
    /// The diff is older than (already contained in) snapshot `id`.
    fn is_stale(&self, d: &Diff, id: u64) -> bool;
    /// The diff is the first to apply on top of snapshot `id`.
    fn bridges(&self, d: &Diff, id: u64) -> bool;
    /// After `last` was applied, whether `d` follows it; `Err((expected,
    /// got))` is a gap. Called only for diffs newer than `last`.
    fn follows(&self, d: &Diff, last: u64) -> Result<(), (u64, u64)>;

    /// Whether bridging proves that nothing was missed between a snapshot
    /// and the stream (update ids do; timestamps alone do not). Without
    /// that proof, a snapshot answered for a request made on a stream that
    /// has since closed is discarded rather than applied to the next one.
    fn proves_continuity(&self) -> bool {
        true
    }
}

/// One diff, parsed.
#[derive(Clone, PartialEq, Debug)]
pub struct Diff {
    /// First update id the diff covers (Binance `U`).
    pub first: u64,
    /// Last update id (Binance `u`).
    pub last: u64,
    /// The last update id of the diff before it, when the venue sends one
    /// (Binance USD-M `pu`).
    pub prev_last: Option<i64>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub exchange_ts: Option<Micros>,
    pub received: Micros,
}

/// One snapshot, parsed.
#[derive(Clone, PartialEq, Debug)]
pub struct Snapshot {
    pub last_update_id: u64,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub exchange_ts: Option<Micros>,
    pub received: Micros,
}

/// What the adapter must do after feeding the state machine.
#[derive(Clone, PartialEq, Debug)]
pub enum Effect {
    /// Publish this snapshot: the book is live from here.
    Snapshot(Snapshot),
    /// Publish this diff as a delta of the live book.
    Delta(Diff),
    /// Continuity broke: the book is out of sync until the next snapshot.
    Gap { expected: u64, got: u64 },
    /// The snapshot just published predates the stream (it was answered
    /// before the first diff arrived and the first diff does not follow it):
    /// not a fault, the book is syncing again until a newer snapshot.
    SnapshotTooOld,
    /// Ask for a (new) REST snapshot. `stale` when the one received was older
    /// than the diffs (a quiet refetch, as Binance's procedure says).
    RequestSnapshot { stale: bool },
}

/// Diffs kept while a snapshot is in flight (100 ms stream: over 3 minutes).
const MAX_BUFFERED: usize = 2048;

/// A snapshot still unanswered after this long may be asked for again.
pub const SNAPSHOT_RETRY: Micros = 10_000_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// No usable snapshot yet: diffs are buffered.
    Awaiting,
    /// A snapshot was published. `last` is the last applied update id
    /// (`lastUpdateId` until the bridging diff came); `bridged` once it has.
    Synced { last: u64, bridged: bool },
}

#[derive(Clone, Debug)]
pub struct BookSync<R> {
    rules: R,
    phase: Phase,
    buffer: VecDeque<Diff>,
    /// When the snapshot now in flight was asked for.
    requested_at: Option<Micros>,
    /// A diff stream is open (between [`BookSync::open`] and
    /// [`BookSync::close`]).
    stream: bool,
    /// A snapshot that arrived while no stream was open (a recording whose
    /// REST records precede the connection's): applied by the same rule to
    /// the first diffs of the next stream.
    pending: Option<Snapshot>,
    /// The request in flight was made on a stream that closed, and the rule
    /// cannot prove its answer fits the next stream: discard it.
    voided: bool,
}

impl<R: Rule> BookSync<R> {
    pub fn new(rules: R) -> Self {
        BookSync {
            rules,
            phase: Phase::Awaiting,
            buffer: VecDeque::new(),
            requested_at: None,
            stream: false,
            pending: None,
            voided: false,
        }
    }

    /// Live: a snapshot has been published and nothing broke since.
    pub fn is_synced(&self) -> bool {
        matches!(self.phase, Phase::Synced { .. })
    }

    /// The last update id applied to the published book.
    pub fn last_update_id(&self) -> Option<u64> {
        match self.phase {
            Phase::Synced { last, .. } => Some(last),
            Phase::Awaiting => None,
        }
    }

    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The published book was rejected (invalid data): a new snapshot is
    /// needed; what is buffered and what follows is kept.
    pub fn invalidate(&mut self) {
        self.phase = Phase::Awaiting;
        self.requested_at = None;
    }

    /// Back to the start: the buffer belonged to the old stream, so it goes
    /// too (a pending snapshot stays).
    pub fn reset(&mut self) {
        self.phase = Phase::Awaiting;
        self.buffer.clear();
        self.requested_at = None;
    }

    /// A diff stream opened (subscribed): everything starts again, and a
    /// snapshot is asked for unless one is pending.
    pub fn open(&mut self, now: Micros, fx: &mut Vec<Effect>) {
        self.open_without_request();
        if self.pending.is_none() {
            self.request_snapshot(now, fx);
        }
    }

    /// A diff stream opened whose snapshot may only be asked for once the
    /// venue confirms the subscription ([`BookSync::request_snapshot`]
    /// then).
    pub fn open_without_request(&mut self) {
        self.reset();
        self.stream = true;
    }

    /// A snapshot is waiting for the stream's first diffs.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The diff stream closed.
    pub fn close(&mut self) {
        let in_flight = self.requested_at.is_some() && self.phase == Phase::Awaiting;
        self.voided = in_flight && !self.rules.proves_continuity();
        self.stream = false;
        self.reset();
    }

    /// Ask for a snapshot now unless one is already in flight.
    pub fn request_snapshot(&mut self, now: Micros, fx: &mut Vec<Effect>) {
        if self.phase != Phase::Awaiting {
            return;
        }
        let in_flight = self
            .requested_at
            .is_some_and(|at| now.saturating_sub(at) < SNAPSHOT_RETRY);
        if !in_flight {
            self.requested_at = Some(now);
            fx.push(Effect::RequestSnapshot { stale: false });
        }
    }

    /// A diff arrived.
    pub fn on_diff(&mut self, diff: Diff, fx: &mut Vec<Effect>) {
        self.stream = true;
        match self.phase {
            Phase::Awaiting => {
                let now = diff.received;
                self.buffer_diff(diff);
                match self.pending.take() {
                    Some(snap) => self.apply_snapshot(snap, fx),
                    None => self.request_snapshot(now, fx),
                }
            }
            Phase::Synced { .. } => self.apply_live(diff, fx),
        }
    }

    /// A snapshot arrived.
    pub fn on_snapshot(&mut self, snap: Snapshot, fx: &mut Vec<Effect>) {
        if self.voided {
            self.voided = false;
            return;
        }
        if !self.stream {
            // Keep the newest; it waits for the stream.
            if self
                .pending
                .as_ref()
                .is_none_or(|p| p.last_update_id <= snap.last_update_id)
            {
                self.pending = Some(snap);
            }
            return;
        }
        self.apply_snapshot(snap, fx);
    }

    fn apply_snapshot(&mut self, snap: Snapshot, fx: &mut Vec<Effect>) {
        match self.phase {
            // Live and bridged: nobody asked for this one (e.g. a duplicate
            // response); the book is already correct.
            Phase::Synced { bridged: true, .. } => return,
            // Published but not yet bridged: a newer snapshot replaces it.
            Phase::Synced { last, .. } if snap.last_update_id < last => return,
            _ => {}
        }
        let id = snap.last_update_id;
        while self.buffer.front().is_some_and(|d| self.is_stale(d, id)) {
            self.buffer.pop_front();
        }
        if let Some(first) = self.buffer.front()
            && !self.bridges(first, id)
        {
            // The snapshot predates everything buffered: fetch a newer one.
            self.phase = Phase::Awaiting;
            self.requested_at = Some(snap.received);
            fx.push(Effect::RequestSnapshot { stale: true });
            return;
        }
        self.requested_at = None;
        self.phase = Phase::Synced {
            last: id,
            bridged: false,
        };
        fx.push(Effect::Snapshot(snap));
        for diff in std::mem::take(&mut self.buffer) {
            match self.phase {
                // A gap inside the buffer: keep buffering what follows it.
                Phase::Awaiting => self.buffer_diff(diff),
                Phase::Synced { .. } => self.apply_live(diff, fx),
            }
        }
    }

    fn buffer_diff(&mut self, diff: Diff) {
        if self.buffer.len() >= MAX_BUFFERED {
            self.buffer.pop_front();
        }
        self.buffer.push_back(diff);
    }

    fn is_stale(&self, d: &Diff, snapshot_id: u64) -> bool {
        self.rules.is_stale(d, snapshot_id)
    }

    fn bridges(&self, d: &Diff, id: u64) -> bool {
        self.rules.bridges(d, id)
    }

    fn apply_live(&mut self, diff: Diff, fx: &mut Vec<Effect>) {
        let Phase::Synced { last, bridged } = self.phase else {
            return;
        };
        if !bridged {
            if self.is_stale(&diff, last) {
                return;
            }
            if !self.bridges(&diff, last) {
                // Nothing was applied after the snapshot yet, and this diff is
                // newer than it: the snapshot is simply older than the stream
                // (Binance: "if U > lastUpdateId+1, get a new snapshot").
                fx.push(Effect::SnapshotTooOld);
                self.phase = Phase::Awaiting;
                self.requested_at = Some(diff.received);
                self.buffer_diff(diff);
                fx.push(Effect::RequestSnapshot { stale: true });
                return;
            }
        } else {
            // A repeated or older event: its absolute sizes are already in.
            if diff.last <= last {
                return;
            }
            if let Err((expected, got)) = self.rules.follows(&diff, last) {
                return self.gap(expected, got, diff, fx);
            }
        }
        self.phase = Phase::Synced {
            last: diff.last,
            bridged: true,
        };
        fx.push(Effect::Delta(diff));
    }

    /// Continuity broke at `diff`: out of sync, new snapshot, and buffering
    /// restarts with this diff (it is newer than anything applied).
    fn gap(&mut self, expected: u64, got: u64, diff: Diff, fx: &mut Vec<Effect>) {
        fx.push(Effect::Gap { expected, got });
        self.phase = Phase::Awaiting;
        self.requested_at = None;
        let now = diff.received;
        self.buffer_diff(diff);
        self.request_snapshot(now, fx);
    }
}

/// Carry out the machine's effects for one book: book data and state
/// changes through the lifecycle, snapshot requests through `request`
/// (called with `stale` when the snapshot received was older than the
/// stream, a documented part of the procedure rather than a fault).
pub fn publish<R: Rule>(
    sync: &mut BookSync<R>,
    lc: &mut Lifecycle,
    instrument: Instrument,
    fx: &mut Vec<Effect>,
    out: &mut Output,
    mut request: impl FnMut(bool, &mut Output),
) {
    let mut rejected = false;
    for effect in fx.drain(..) {
        if rejected {
            // Everything after a rejected update needs the new snapshot.
            continue;
        }
        match effect {
            Effect::Snapshot(s) => {
                let u = Update {
                    instrument,
                    bids: s.bids,
                    asks: s.asks,
                    seq: SeqInfo {
                        first: None,
                        last: Some(s.last_update_id),
                    },
                    exchange_ts: s.exchange_ts,
                    received: s.received,
                };
                rejected = lc.snapshot(u, out) == Applied::Rejected;
            }
            Effect::Delta(d) => {
                let u = Update {
                    instrument,
                    bids: d.bids,
                    asks: d.asks,
                    seq: SeqInfo {
                        first: Some(d.first),
                        last: Some(d.last),
                    },
                    exchange_ts: d.exchange_ts,
                    received: d.received,
                };
                rejected = lc.delta(u, out) == Applied::Rejected;
            }
            Effect::Gap { expected, got } => lc.gap(instrument, expected, got, out),
            Effect::SnapshotTooOld => lc.snapshot_superseded(instrument, out),
            Effect::RequestSnapshot { stale } => request(stale, out),
        }
    }
    if rejected {
        sync.invalidate();
        lc.resync(instrument, "new snapshot after invalid data", out);
        request(false, out);
    }
}
