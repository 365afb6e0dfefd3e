//! Snapshot + diff synchronisation of one Binance book (VENUES.md §1, §2).
//!
//! Diffs that arrive before a usable snapshot are buffered (never dropped on
//! a resync: losing them causes endless resync loops). A snapshot is applied
//! as soon as it is usable, then the buffered diffs that bridge it, then live
//! diffs under the venue's continuity rule:
//!
//! | | stale (dropped) | first applied | afterwards |
//! |---|---|---|---|
//! | spot | `u <= lastUpdateId` | `U <= lastUpdateId+1 <= u` | `U == prev u + 1` |
//! | USD-M | `u < lastUpdateId` | `U <= lastUpdateId <= u` | `pu == prev u` |
//!
//! The state machine is pure: it turns diffs and snapshots into [`Effect`]s
//! that the adapter converts into market events and actions.

use std::collections::VecDeque;

use crate::model::{Level, Micros};

/// Which of Binance's two documented rules applies.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Rules {
    Spot,
    Futures,
}

/// One `depthUpdate`, parsed.
#[derive(Clone, PartialEq, Debug)]
pub struct Diff {
    /// `U`
    pub first: u64,
    /// `u`
    pub last: u64,
    /// `pu` (USD-M only)
    pub prev_last: Option<i64>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub exchange_ts: Option<Micros>,
    pub received: Micros,
}

/// One REST depth snapshot, parsed.
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
pub struct BookSync {
    rules: Rules,
    phase: Phase,
    buffer: VecDeque<Diff>,
    /// When the snapshot now in flight was asked for.
    requested_at: Option<Micros>,
}

impl BookSync {
    pub fn new(rules: Rules) -> Self {
        BookSync {
            rules,
            phase: Phase::Awaiting,
            buffer: VecDeque::new(),
            requested_at: None,
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

    /// Back to the start (connection closed): the buffer belonged to the old
    /// stream, so it goes too.
    pub fn reset(&mut self) {
        self.phase = Phase::Awaiting;
        self.buffer.clear();
        self.requested_at = None;
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
        match self.phase {
            Phase::Awaiting => {
                let now = diff.received;
                self.buffer_diff(diff);
                self.request_snapshot(now, fx);
            }
            Phase::Synced { .. } => self.apply_live(diff, fx),
        }
    }

    /// A REST snapshot arrived.
    pub fn on_snapshot(&mut self, snap: Snapshot, fx: &mut Vec<Effect>) {
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

    /// Older than (or, for spot, equal to) the snapshot: already in it.
    fn is_stale(&self, d: &Diff, snapshot_id: u64) -> bool {
        match self.rules {
            Rules::Spot => d.last <= snapshot_id,
            Rules::Futures => d.last < snapshot_id,
        }
    }

    /// The first diff applied on top of snapshot `id`. USD-M: the documented
    /// `U <= lastUpdateId <= u`, or the event right after it (`pu ==
    /// lastUpdateId`) when the snapshot ends exactly on an event boundary.
    fn bridges(&self, d: &Diff, id: u64) -> bool {
        match self.rules {
            Rules::Spot => d.first <= id.saturating_add(1) && id < d.last,
            Rules::Futures => {
                (d.first <= id && id <= d.last) || d.prev_last == i64::try_from(id).ok()
            }
        }
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
            match self.rules {
                Rules::Spot if diff.first > last.saturating_add(1) => {
                    let got = diff.first;
                    return self.gap(last.saturating_add(1), got, diff, fx);
                }
                Rules::Futures if diff.prev_last != i64::try_from(last).ok() => {
                    let got = diff
                        .prev_last
                        .and_then(|pu| u64::try_from(pu).ok())
                        .unwrap_or(0);
                    return self.gap(last, got, diff, fx);
                }
                _ => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn diff(first: u64, last: u64, pu: Option<i64>) -> Diff {
        Diff {
            first,
            last,
            prev_last: pu,
            bids: vec![Level::new(Decimal::from(last), Decimal::ONE)],
            asks: vec![],
            exchange_ts: None,
            received: last as Micros,
        }
    }

    fn snap(id: u64) -> Snapshot {
        Snapshot {
            last_update_id: id,
            bids: vec![],
            asks: vec![],
            exchange_ts: None,
            received: 0,
        }
    }

    fn applied(fx: &[Effect]) -> Vec<(u64, u64)> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Delta(d) => Some((d.first, d.last)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn spot_bridges_at_last_update_id_plus_one() {
        // Snapshot 100: the event ending at 100 is already in it; 101..103 bridges.
        let mut s = BookSync::new(Rules::Spot);
        let mut fx = Vec::new();
        s.on_diff(diff(95, 100, None), &mut fx);
        s.on_diff(diff(101, 103, None), &mut fx);
        s.on_diff(diff(104, 104, None), &mut fx);
        assert_eq!(fx, vec![Effect::RequestSnapshot { stale: false }]);
        fx.clear();
        s.on_snapshot(snap(100), &mut fx);
        assert!(matches!(fx[0], Effect::Snapshot(_)));
        assert_eq!(applied(&fx), vec![(101, 103), (104, 104)]);
        assert_eq!(s.last_update_id(), Some(104));
    }

    #[test]
    fn futures_keeps_the_event_ending_at_last_update_id() {
        let mut s = BookSync::new(Rules::Futures);
        let mut fx = Vec::new();
        s.on_diff(diff(90, 99, Some(80)), &mut fx);
        s.on_diff(diff(95, 100, Some(99)), &mut fx);
        s.on_diff(diff(103, 110, Some(100)), &mut fx);
        fx.clear();
        s.on_snapshot(snap(100), &mut fx);
        assert_eq!(applied(&fx), vec![(95, 100), (103, 110)]);
        // The same event under the spot rule would have been dropped.
        let mut spot = BookSync::new(Rules::Spot);
        spot.on_diff(diff(95, 100, None), &mut fx);
        fx.clear();
        spot.on_snapshot(snap(100), &mut fx);
        assert!(applied(&fx).is_empty());
    }

    #[test]
    fn snapshot_older_than_buffer_is_requested_again() {
        let mut s = BookSync::new(Rules::Spot);
        let mut fx = Vec::new();
        s.on_diff(diff(120, 125, None), &mut fx);
        fx.clear();
        s.on_snapshot(snap(100), &mut fx);
        assert_eq!(fx, vec![Effect::RequestSnapshot { stale: true }]);
        assert!(!s.is_synced());
        assert_eq!(s.buffered(), 1, "the buffer survives a stale snapshot");
        fx.clear();
        s.on_snapshot(snap(121), &mut fx);
        assert_eq!(applied(&fx), vec![(120, 125)]);
    }

    #[test]
    fn snapshot_before_any_diff_that_the_stream_outran_is_fetched_again_quietly() {
        // The snapshot asked for at connect time answers before any diff, and
        // the first diff starts past it: refetch, no gap.
        let mut s = BookSync::new(Rules::Spot);
        let mut fx = Vec::new();
        s.on_snapshot(snap(100), &mut fx);
        assert!(matches!(fx[0], Effect::Snapshot(_)));
        fx.clear();
        s.on_diff(diff(105, 107, None), &mut fx);
        assert_eq!(
            fx,
            vec![
                Effect::SnapshotTooOld,
                Effect::RequestSnapshot { stale: true }
            ]
        );
        assert!(!s.is_synced());
        assert_eq!(s.buffered(), 1);
        fx.clear();
        s.on_snapshot(snap(106), &mut fx);
        assert_eq!(applied(&fx), vec![(105, 107)]);
        assert!(!fx.iter().any(|e| matches!(e, Effect::Gap { .. })));
    }

    #[test]
    fn futures_event_right_after_the_snapshot_bridges_by_pu() {
        // lastUpdateId 100 ends on an event boundary: the next event has
        // U = 101 > lastUpdateId but pu = 100, so it follows directly.
        let mut s = BookSync::new(Rules::Futures);
        let mut fx = Vec::new();
        s.on_snapshot(snap(100), &mut fx);
        fx.clear();
        s.on_diff(diff(101, 104, Some(100)), &mut fx);
        assert_eq!(applied(&fx), vec![(101, 104)]);
        // Buffered before the snapshot, the same event bridges too.
        let mut s = BookSync::new(Rules::Futures);
        s.on_diff(diff(101, 104, Some(100)), &mut fx);
        fx.clear();
        s.on_snapshot(snap(100), &mut fx);
        assert_eq!(applied(&fx), vec![(101, 104)]);
    }

    #[test]
    fn spot_gap_restarts_buffering_with_the_breaking_diff() {
        let mut s = BookSync::new(Rules::Spot);
        let mut fx = Vec::new();
        s.on_snapshot(snap(10), &mut fx);
        s.on_diff(diff(11, 12, None), &mut fx);
        fx.clear();
        s.on_diff(diff(14, 15, None), &mut fx);
        assert_eq!(
            fx,
            vec![
                Effect::Gap {
                    expected: 13,
                    got: 14
                },
                Effect::RequestSnapshot { stale: false }
            ]
        );
        assert_eq!(s.buffered(), 1);
        // Only one request while it is in flight.
        fx.clear();
        s.on_diff(diff(16, 16, None), &mut fx);
        assert!(fx.is_empty());
        s.on_snapshot(snap(14), &mut fx);
        assert_eq!(applied(&fx), vec![(14, 15), (16, 16)]);
    }

    #[test]
    fn futures_pu_break_is_a_gap() {
        let mut s = BookSync::new(Rules::Futures);
        let mut fx = Vec::new();
        s.on_snapshot(snap(100), &mut fx);
        s.on_diff(diff(98, 105, Some(97)), &mut fx);
        s.on_diff(diff(107, 110, Some(105)), &mut fx);
        fx.clear();
        s.on_diff(diff(115, 120, Some(112)), &mut fx);
        assert_eq!(
            fx[0],
            Effect::Gap {
                expected: 110,
                got: 112
            }
        );
    }

    #[test]
    fn gap_inside_the_buffer_keeps_the_rest_buffered() {
        let mut s = BookSync::new(Rules::Spot);
        let mut fx = Vec::new();
        s.on_diff(diff(11, 12, None), &mut fx);
        s.on_diff(diff(20, 21, None), &mut fx);
        s.on_diff(diff(22, 22, None), &mut fx);
        fx.clear();
        s.on_snapshot(snap(10), &mut fx);
        assert_eq!(applied(&fx), vec![(11, 12)]);
        assert!(fx.contains(&Effect::Gap {
            expected: 13,
            got: 20
        }));
        assert_eq!(s.buffered(), 2);
    }
}
