//! Fault injection: what tests and the demo can do to a venue's feeds, and
//! counts of what was actually injected (to compare with health counters).
//!
//! A fault aimed at a venue applies to every connection of that venue open at
//! the time (each counts on its own); one aimed at a connection applies to it
//! alone. One-shot faults (gap, bad checksum, malformed, unknown message) are
//! spent on the next message they can apply to.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::model::Venue;

/// What was injected, per venue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// WebSocket connections closed abruptly.
    pub dropped_connections: u64,
    /// Connections that went silent (socket kept open).
    pub stalls: u64,
    /// Book messages withheld, leaving a sequence gap on the wire.
    pub sequence_gaps: u64,
    /// OKX book messages sent with a wrong checksum.
    pub bad_checksums: u64,
    /// Truncated / invalid JSON frames sent.
    pub malformed_frames: u64,
    /// Well-formed messages of an unknown type sent.
    pub unknown_messages: u64,
    /// WebSocket connection attempts closed at once.
    pub refused_connections: u64,
    /// HTTP requests answered 503.
    pub refused_http: u64,
    /// Snapshots (WebSocket or REST) served with thousands of levels.
    pub huge_snapshots: u64,
    /// HTTP requests answered 429 with `Retry-After`.
    pub rate_limited: u64,
}

impl FaultStats {
    /// What was injected between `earlier` and these counts.
    pub fn since(&self, earlier: &FaultStats) -> FaultStats {
        FaultStats {
            dropped_connections: self
                .dropped_connections
                .saturating_sub(earlier.dropped_connections),
            stalls: self.stalls.saturating_sub(earlier.stalls),
            sequence_gaps: self.sequence_gaps.saturating_sub(earlier.sequence_gaps),
            bad_checksums: self.bad_checksums.saturating_sub(earlier.bad_checksums),
            malformed_frames: self
                .malformed_frames
                .saturating_sub(earlier.malformed_frames),
            unknown_messages: self
                .unknown_messages
                .saturating_sub(earlier.unknown_messages),
            refused_connections: self
                .refused_connections
                .saturating_sub(earlier.refused_connections),
            refused_http: self.refused_http.saturating_sub(earlier.refused_http),
            huge_snapshots: self.huge_snapshots.saturating_sub(earlier.huge_snapshots),
            rate_limited: self.rate_limited.saturating_sub(earlier.rate_limited),
        }
    }
}

/// One fault, for callers that pick faults from a list (the demo key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    DropConnections,
    Stall(Duration),
    SkipSequence,
    BadChecksum,
    Malformed,
    UnknownMessage,
    RefuseConnections(Duration),
    /// Refuse WebSocket connections only; REST keeps answering (a network
    /// that blocks WebSockets).
    RefuseWebSockets(Duration),
    HugeSnapshot,
    /// The next N REST requests are answered `429 Too Many Requests` with
    /// `Retry-After: 1`.
    RateLimited(u32),
}

impl Fault {
    /// A demo rotation of every fault with sensible durations.
    pub const DEMO_CYCLE: [Fault; 8] = [
        Fault::SkipSequence,
        Fault::BadChecksum,
        Fault::Malformed,
        Fault::UnknownMessage,
        Fault::Stall(Duration::from_secs(15)),
        Fault::DropConnections,
        Fault::RefuseConnections(Duration::from_secs(5)),
        Fault::HugeSnapshot,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Fault::DropConnections => "drop connections",
            Fault::Stall(_) => "stall",
            Fault::SkipSequence => "sequence gap",
            Fault::BadChecksum => "bad checksum",
            Fault::Malformed => "malformed frame",
            Fault::UnknownMessage => "unknown message",
            Fault::RefuseConnections(_) => "refuse connections",
            Fault::RefuseWebSockets(_) => "refuse WebSockets",
            Fault::HugeSnapshot => "huge snapshot",
            Fault::RateLimited(_) => "rate limited (429)",
        }
    }
}

#[derive(Default)]
struct Counters {
    dropped_connections: AtomicU64,
    stalls: AtomicU64,
    sequence_gaps: AtomicU64,
    bad_checksums: AtomicU64,
    malformed_frames: AtomicU64,
    unknown_messages: AtomicU64,
    refused_connections: AtomicU64,
    refused_http: AtomicU64,
    huge_snapshots: AtomicU64,
    rate_limited: AtomicU64,
}

impl Counters {
    fn read(&self) -> FaultStats {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FaultStats {
            dropped_connections: g(&self.dropped_connections),
            stalls: g(&self.stalls),
            sequence_gaps: g(&self.sequence_gaps),
            bad_checksums: g(&self.bad_checksums),
            malformed_frames: g(&self.malformed_frames),
            unknown_messages: g(&self.unknown_messages),
            refused_connections: g(&self.refused_connections),
            refused_http: g(&self.refused_http),
            huge_snapshots: g(&self.huge_snapshots),
            rate_limited: g(&self.rate_limited),
        }
    }
}

fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

/// Take one armed shot, if any.
fn take(a: &AtomicU32) -> bool {
    a.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

/// Faults armed on one WebSocket connection.
pub struct SessionFaults {
    pub id: u64,
    pub venue: Venue,
    pub path: String,
    counters: Arc<Counters>,
    skip: AtomicU32,
    bad_checksum: AtomicU32,
    malformed: AtomicU32,
    unknown: AtomicU32,
    stall_until: Mutex<Option<Instant>>,
    /// Wakes the session to close its socket.
    pub drop_now: Notify,
}

impl SessionFaults {
    /// A book message is about to go out: withhold it?
    pub fn take_skip(&self) -> bool {
        let hit = take(&self.skip);
        if hit {
            bump(&self.counters.sequence_gaps);
        }
        hit
    }

    /// An OKX book message is about to go out: corrupt its checksum?
    pub fn take_bad_checksum(&self) -> bool {
        let hit = take(&self.bad_checksum);
        if hit {
            bump(&self.counters.bad_checksums);
        }
        hit
    }

    pub fn take_malformed(&self) -> bool {
        let hit = take(&self.malformed);
        if hit {
            bump(&self.counters.malformed_frames);
        }
        hit
    }

    pub fn take_unknown(&self) -> bool {
        let hit = take(&self.unknown);
        if hit {
            bump(&self.counters.unknown_messages);
        }
        hit
    }

    /// When the current stall ends, if the session is stalled.
    pub fn stalled_until(&self) -> Option<Instant> {
        let mut guard = self.stall_until.lock().ok()?;
        match *guard {
            Some(t) if t > Instant::now() => Some(t),
            Some(_) => {
                *guard = None;
                None
            }
            None => None,
        }
    }

    pub fn count_dropped(&self) {
        bump(&self.counters.dropped_connections);
    }

    fn arm(&self, fault: Fault) {
        match fault {
            Fault::DropConnections => self.drop_now.notify_one(),
            Fault::Stall(d) => {
                if let Ok(mut g) = self.stall_until.lock() {
                    *g = Some(Instant::now() + d);
                    bump(&self.counters.stalls);
                }
            }
            Fault::SkipSequence => {
                self.skip.fetch_add(1, Ordering::AcqRel);
            }
            Fault::BadChecksum => {
                self.bad_checksum.fetch_add(1, Ordering::AcqRel);
            }
            Fault::Malformed => {
                self.malformed.fetch_add(1, Ordering::AcqRel);
            }
            Fault::UnknownMessage => {
                self.unknown.fetch_add(1, Ordering::AcqRel);
            }
            Fault::RefuseConnections(_)
            | Fault::RefuseWebSockets(_)
            | Fault::HugeSnapshot
            | Fault::RateLimited(_) => {}
        }
    }
}

/// Venue-wide fault state (listener level).
#[derive(Default)]
struct VenueState {
    counters: Arc<Counters>,
    refuse_until: Mutex<Option<Instant>>,
    refuse_ws_until: Mutex<Option<Instant>>,
    huge_snapshot: AtomicU32,
    rate_limited: AtomicU32,
}

#[derive(Default)]
struct Registry {
    venues: BTreeMap<Venue, Arc<VenueState>>,
    sessions: Mutex<Vec<Arc<SessionFaults>>>,
    next_id: AtomicU64,
}

/// A handle to inject faults; cheap to clone.
#[derive(Clone)]
pub struct FaultControl {
    reg: Arc<Registry>,
}

/// A connection the simulator is serving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnInfo {
    pub id: u64,
    pub venue: Venue,
    /// Request path and query, e.g. `/v5/public/linear`.
    pub path: String,
}

impl FaultControl {
    pub(crate) fn new(venues: &[Venue]) -> Self {
        let reg = Registry {
            venues: venues
                .iter()
                .map(|&v| (v, Arc::new(VenueState::default())))
                .collect(),
            sessions: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        };
        FaultControl { reg: Arc::new(reg) }
    }

    /// Faults aimed at every connection of a venue.
    pub fn venue(&self, venue: Venue) -> FaultTarget {
        FaultTarget {
            ctl: self.clone(),
            venue,
            conn: None,
        }
    }

    /// Faults aimed at one connection (ids from [`FaultControl::connections`]).
    /// Venue-wide faults (refuse, huge snapshot) apply to its venue.
    pub fn connection(&self, id: u64) -> Option<FaultTarget> {
        let venue = self.session(id)?.venue;
        Some(FaultTarget {
            ctl: self.clone(),
            venue,
            conn: Some(id),
        })
    }

    /// Open WebSocket connections, oldest first.
    pub fn connections(&self) -> Vec<ConnInfo> {
        self.reg
            .sessions
            .lock()
            .map(|s| {
                s.iter()
                    .map(|f| ConnInfo {
                        id: f.id,
                        venue: f.venue,
                        path: f.path.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn stats(&self, venue: Venue) -> FaultStats {
        self.reg
            .venues
            .get(&venue)
            .map(|v| v.counters.read())
            .unwrap_or_default()
    }

    fn session(&self, id: u64) -> Option<Arc<SessionFaults>> {
        let s = self.reg.sessions.lock().ok()?;
        s.iter().find(|f| f.id == id).cloned()
    }

    /// Register a new WebSocket session.
    pub(crate) fn open_session(&self, venue: Venue, path: &str) -> Arc<SessionFaults> {
        let counters = self
            .reg
            .venues
            .get(&venue)
            .map(|v| v.counters.clone())
            .unwrap_or_default();
        let s = Arc::new(SessionFaults {
            id: self.reg.next_id.fetch_add(1, Ordering::Relaxed),
            venue,
            path: path.to_string(),
            counters,
            skip: AtomicU32::new(0),
            bad_checksum: AtomicU32::new(0),
            malformed: AtomicU32::new(0),
            unknown: AtomicU32::new(0),
            stall_until: Mutex::new(None),
            drop_now: Notify::new(),
        });
        if let Ok(mut list) = self.reg.sessions.lock() {
            list.push(s.clone());
        }
        s
    }

    pub(crate) fn close_session(&self, id: u64) {
        if let Ok(mut list) = self.reg.sessions.lock() {
            list.retain(|s| s.id != id);
        }
    }

    /// Should a new connection to this venue be refused? Counts it if so.
    pub(crate) fn refuse(&self, venue: Venue, websocket: bool) -> bool {
        let Some(v) = self.reg.venues.get(&venue) else {
            return false;
        };
        let until = |m: &Mutex<Option<Instant>>| {
            m.lock()
                .map(|g| g.is_some_and(|t| t > Instant::now()))
                .unwrap_or(false)
        };
        let refusing = until(&v.refuse_until) || (websocket && until(&v.refuse_ws_until));
        if refusing {
            bump(if websocket {
                &v.counters.refused_connections
            } else {
                &v.counters.refused_http
            });
        }
        refusing
    }

    /// A REST request arrived: answer it 429? Counts it if so.
    pub(crate) fn take_rate_limit(&self, venue: Venue) -> bool {
        let Some(v) = self.reg.venues.get(&venue) else {
            return false;
        };
        let hit = take(&v.rate_limited);
        if hit {
            bump(&v.counters.rate_limited);
        }
        hit
    }

    /// A snapshot is being served: make it huge? Counts it if so.
    pub(crate) fn take_huge_snapshot(&self, venue: Venue) -> bool {
        let Some(v) = self.reg.venues.get(&venue) else {
            return false;
        };
        let hit = take(&v.huge_snapshot);
        if hit {
            bump(&v.counters.huge_snapshots);
        }
        hit
    }
}

/// The faults one venue or one connection can be given.
pub struct FaultTarget {
    ctl: FaultControl,
    venue: Venue,
    conn: Option<u64>,
}

impl FaultTarget {
    pub fn inject(&self, fault: Fault) {
        let state = self.ctl.reg.venues.get(&self.venue);
        match fault {
            Fault::RefuseConnections(d) => {
                if let Some(v) = state
                    && let Ok(mut g) = v.refuse_until.lock()
                {
                    *g = Some(Instant::now() + d);
                }
            }
            Fault::RefuseWebSockets(d) => {
                if let Some(v) = state
                    && let Ok(mut g) = v.refuse_ws_until.lock()
                {
                    *g = Some(Instant::now() + d);
                }
            }
            Fault::HugeSnapshot => {
                if let Some(v) = state {
                    v.huge_snapshot.fetch_add(1, Ordering::AcqRel);
                }
            }
            Fault::RateLimited(n) => {
                if let Some(v) = state {
                    v.rate_limited.fetch_add(n, Ordering::AcqRel);
                }
            }
            _ => {
                let sessions: Vec<Arc<SessionFaults>> = self
                    .ctl
                    .reg
                    .sessions
                    .lock()
                    .map(|s| s.clone())
                    .unwrap_or_default();
                for s in sessions {
                    let aimed = match self.conn {
                        Some(id) => s.id == id,
                        None => s.venue == self.venue,
                    };
                    if aimed {
                        s.arm(fault);
                    }
                }
            }
        }
    }

    /// Close the connections abruptly (no close frame).
    pub fn drop_connections(&self) {
        self.inject(Fault::DropConnections);
    }

    /// Stop sending (and reading) for `d`, keeping the sockets open.
    pub fn stall(&self, d: Duration) {
        self.inject(Fault::Stall(d));
    }

    /// Withhold the next book message: the next one shows a sequence gap.
    pub fn skip_sequence(&self) {
        self.inject(Fault::SkipSequence);
    }

    /// OKX: send the next book message with a wrong (non-zero) checksum.
    pub fn bad_checksum(&self) {
        self.inject(Fault::BadChecksum);
    }

    /// Send a truncated JSON frame (in addition to the normal traffic).
    pub fn malformed(&self) {
        self.inject(Fault::Malformed);
    }

    /// Send a well-formed message of a type the venue never sends.
    pub fn unknown_message(&self) {
        self.inject(Fault::UnknownMessage);
    }

    /// For `d`, close new WebSocket connections at once and answer HTTP 503.
    pub fn refuse_connections(&self, d: Duration) {
        self.inject(Fault::RefuseConnections(d));
    }

    /// Refuse WebSocket connections for `d`; REST still answers.
    pub fn refuse_websockets(&self, d: Duration) {
        self.inject(Fault::RefuseWebSockets(d));
    }

    /// The venue's next snapshot (WebSocket or REST) carries ~5000 levels a side.
    pub fn huge_snapshot(&self) {
        self.inject(Fault::HugeSnapshot);
    }

    /// The venue's next `n` REST requests are answered 429 (`Retry-After: 1`).
    pub fn rate_limit(&self, n: u32) {
        self.inject(Fault::RateLimited(n));
    }

    pub fn stats(&self) -> FaultStats {
        self.ctl.stats(self.venue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venue_faults_arm_each_open_session_once() {
        let ctl = FaultControl::new(&[crate::venue!("bybit"), crate::venue!("okx")]);
        let a = ctl.open_session(crate::venue!("bybit"), "/v5/public/spot");
        let b = ctl.open_session(crate::venue!("bybit"), "/v5/public/linear");
        let c = ctl.open_session(crate::venue!("okx"), "/ws/v5/public");
        ctl.venue(crate::venue!("bybit")).skip_sequence();
        assert!(a.take_skip() && !a.take_skip());
        assert!(b.take_skip());
        assert!(!c.take_skip());
        assert_eq!(ctl.stats(crate::venue!("bybit")).sequence_gaps, 2);
        ctl.connection(c.id).unwrap().malformed();
        assert!(c.take_malformed() && !a.take_malformed());
        ctl.close_session(a.id);
        assert_eq!(ctl.connections().len(), 2);
    }

    #[test]
    fn refusal_and_huge_snapshot_are_venue_wide() {
        let ctl = FaultControl::new(&[crate::venue!("okx")]);
        assert!(!ctl.refuse(crate::venue!("okx"), true));
        ctl.venue(crate::venue!("okx"))
            .refuse_connections(Duration::from_secs(5));
        assert!(ctl.refuse(crate::venue!("okx"), true));
        assert!(ctl.refuse(crate::venue!("okx"), false));
        ctl.venue(crate::venue!("okx")).huge_snapshot();
        assert!(ctl.take_huge_snapshot(crate::venue!("okx")));
        assert!(!ctl.take_huge_snapshot(crate::venue!("okx")));
        let s = ctl.stats(crate::venue!("okx"));
        assert_eq!(
            (s.refused_connections, s.refused_http, s.huge_snapshots),
            (1, 1, 1)
        );
    }
}
