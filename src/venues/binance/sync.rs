//! Binance's two documented diff rules (VENUES.md §1, §2), for the shared
//! snapshot + diff machine ([`crate::venues::buffered`]):
//!
//! | | stale (dropped) | first applied | afterwards |
//! |---|---|---|---|
//! | spot | `u <= lastUpdateId` | `U <= lastUpdateId+1 <= u` | `U == prev u + 1` |
//! | USD-M | `u < lastUpdateId` | `U <= lastUpdateId <= u` | `pu == prev u` |

use crate::venues::buffered::Rule;
pub use crate::venues::buffered::{BookSync, Diff, Effect, Snapshot};

/// Which of Binance's two documented rules applies.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Rules {
    Spot,
    Futures,
}

impl Rule for Rules {
    /// Older than (or, for spot, equal to) the snapshot: already in it.
    fn is_stale(&self, d: &Diff, snapshot_id: u64) -> bool {
        match self {
            Rules::Spot => d.last <= snapshot_id,
            Rules::Futures => d.last < snapshot_id,
        }
    }

    /// USD-M: the documented `U <= lastUpdateId <= u`, or the event right
    /// after it (`pu == lastUpdateId`) when the snapshot ends exactly on an
    /// event boundary.
    fn bridges(&self, d: &Diff, id: u64) -> bool {
        match self {
            Rules::Spot => d.first <= id.saturating_add(1) && id < d.last,
            Rules::Futures => {
                (d.first <= id && id <= d.last) || d.prev_last == i64::try_from(id).ok()
            }
        }
    }

    fn follows(&self, d: &Diff, last: u64) -> Result<(), (u64, u64)> {
        match self {
            Rules::Spot if d.first > last.saturating_add(1) => {
                Err((last.saturating_add(1), d.first))
            }
            Rules::Futures if d.prev_last != i64::try_from(last).ok() => {
                let got = d
                    .prev_last
                    .and_then(|pu| u64::try_from(pu).ok())
                    .unwrap_or(0);
                Err((last, got))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Level, Micros};
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

    /// A machine whose stream is open (the snapshot request that opening
    /// makes is taken out).
    fn opened(rules: Rules) -> BookSync<Rules> {
        let mut s = BookSync::new(rules);
        let mut fx = Vec::new();
        s.open(0, &mut fx);
        s
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
        let mut s = opened(Rules::Spot);
        let mut fx = Vec::new();
        s.on_diff(diff(95, 100, None), &mut fx);
        s.on_diff(diff(101, 103, None), &mut fx);
        s.on_diff(diff(104, 104, None), &mut fx);
        assert!(fx.is_empty(), "the snapshot was asked for on open");
        fx.clear();
        s.on_snapshot(snap(100), &mut fx);
        assert!(matches!(fx[0], Effect::Snapshot(_)));
        assert_eq!(applied(&fx), vec![(101, 103), (104, 104)]);
        assert_eq!(s.last_update_id(), Some(104));
    }

    #[test]
    fn futures_keeps_the_event_ending_at_last_update_id() {
        let mut s = opened(Rules::Futures);
        let mut fx = Vec::new();
        s.on_diff(diff(90, 99, Some(80)), &mut fx);
        s.on_diff(diff(95, 100, Some(99)), &mut fx);
        s.on_diff(diff(103, 110, Some(100)), &mut fx);
        fx.clear();
        s.on_snapshot(snap(100), &mut fx);
        assert_eq!(applied(&fx), vec![(95, 100), (103, 110)]);
        // The same event under the spot rule would have been dropped.
        let mut spot = opened(Rules::Spot);
        spot.on_diff(diff(95, 100, None), &mut fx);
        fx.clear();
        spot.on_snapshot(snap(100), &mut fx);
        assert!(applied(&fx).is_empty());
    }

    #[test]
    fn snapshot_older_than_buffer_is_requested_again() {
        let mut s = opened(Rules::Spot);
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
        let mut s = opened(Rules::Spot);
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
        let mut s = opened(Rules::Futures);
        let mut fx = Vec::new();
        s.on_snapshot(snap(100), &mut fx);
        fx.clear();
        s.on_diff(diff(101, 104, Some(100)), &mut fx);
        assert_eq!(applied(&fx), vec![(101, 104)]);
        // Buffered before the snapshot, the same event bridges too.
        let mut s = opened(Rules::Futures);
        s.on_diff(diff(101, 104, Some(100)), &mut fx);
        fx.clear();
        s.on_snapshot(snap(100), &mut fx);
        assert_eq!(applied(&fx), vec![(101, 104)]);
    }

    #[test]
    fn spot_gap_restarts_buffering_with_the_breaking_diff() {
        let mut s = opened(Rules::Spot);
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
        let mut s = opened(Rules::Futures);
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
        let mut s = opened(Rules::Spot);
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
