//! REST fallback: when a venue's WebSocket cannot be reached after several
//! attempts but its REST API answers (networks that block WebSockets
//! exist), its books are polled over REST at the pace the venue's rate
//! limits allow ([`crate::venues::DepthPoll`]). Such books are `Polled`,
//! not live: usable while fresher than the stale limit, marked wherever
//! they are used. The WebSocket keeps being retried and takes over when it
//! comes back (a book the stream keeps live is not polled).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::engine::snapshot::ConnState;
use crate::model::Instrument;
use crate::venues::{Adapter, DepthPoll};

/// Consecutive failed connection attempts before polling starts.
pub const FALLBACK_AFTER: u32 = 3;

#[derive(Debug)]
pub struct Fallback {
    /// Consecutive failed attempts per connection.
    failures: Vec<u32>,
    /// Books still to poll this round.
    queue: VecDeque<Instrument>,
    next_at: Option<Instant>,
    in_flight: bool,
}

impl Fallback {
    pub fn new(connections: usize) -> Self {
        Fallback {
            failures: vec![0; connections],
            queue: VecDeque::new(),
            next_at: None,
            in_flight: false,
        }
    }

    /// Some connection has failed often enough.
    pub fn active(&self) -> bool {
        self.failures.iter().any(|&f| f >= FALLBACK_AFTER)
    }

    /// A connection reported a state.
    pub fn on_state(&mut self, conn: usize, state: &ConnState) {
        let Some(f) = self.failures.get_mut(conn) else {
            return;
        };
        match state {
            ConnState::Backoff { .. } => *f = f.saturating_add(1),
            ConnState::Connected => *f = 0,
            _ => {}
        }
        if self.active() && self.next_at.is_none() {
            self.next_at = Some(Instant::now());
            tracing::warn!(
                "WebSocket unreachable after {FALLBACK_AFTER} attempts: polling books over REST"
            );
        }
        if !self.active() {
            self.next_at = None;
            self.queue.clear();
        }
    }

    /// When the next poll is due, if polling.
    pub fn next_at(&self) -> Option<Instant> {
        if self.in_flight || !self.active() {
            None
        } else {
            self.next_at
        }
    }

    /// The next book to poll and how, or `None` when no book needs it (all
    /// live on the stream, or the venue has no REST depth).
    pub fn next(&mut self, adapter: &dyn Adapter) -> Option<(Instrument, DepthPoll)> {
        if self.queue.is_empty() {
            let cfg = adapter.config();
            let spec = adapter.venue().spec();
            self.queue = cfg
                .instruments
                .iter()
                .filter(|i| spec.carries(i))
                .copied()
                .collect();
        }
        let lc = adapter.lifecycle();
        while let Some(i) = self.queue.pop_front() {
            if lc.is_live(&i) {
                continue;
            }
            if let Some(p) = adapter.poll_depth(&i) {
                self.in_flight = true;
                return Some((i, p));
            }
        }
        // Nothing to poll now; look again in a while.
        self.next_at = Some(Instant::now() + Duration::from_secs(1));
        None
    }

    /// A poll was answered (or failed): the next one is due `every` later
    /// (`every` is the venue's pace between any two polls).
    pub fn answered(&mut self, every: Duration) {
        self.in_flight = false;
        self.next_at = Some(Instant::now() + every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_starts_after_repeated_failures_and_stops_on_connect() {
        let mut f = Fallback::new(2);
        let backoff = ConnState::Backoff {
            retry_in_ms: 1000,
            reason: "refused".into(),
        };
        for _ in 0..FALLBACK_AFTER - 1 {
            f.on_state(1, &backoff);
        }
        assert!(!f.active());
        f.on_state(1, &backoff);
        assert!(f.active());
        assert!(f.next_at().is_some());
        f.on_state(1, &ConnState::Connected);
        assert!(!f.active());
        assert!(f.next_at().is_none());
    }
}
