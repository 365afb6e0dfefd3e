//! Connection health (minimal version; the stats helper's module replaces it).

use crate::model::{Incident, MarketEvent, Micros, Venue};

use super::snapshot::{ConnHealth, ConnState};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HealthTotals {
    pub frames: u64,
    pub parse_errors: u64,
    pub unknown_messages: u64,
    pub gaps: u64,
    pub resyncs: u64,
    pub checksum_ok: u64,
    pub checksum_failed: u64,
}

#[derive(Debug, Default)]
pub struct HealthTracker {
    rows: Vec<ConnHealth>,
    totals: HealthTotals,
    queue_depth: usize,
}

impl HealthTracker {
    pub fn new() -> Self {
        Self::default()
    }

    fn row(&mut self, venue: Venue, conn: &str) -> &mut ConnHealth {
        let i = match self
            .rows
            .iter()
            .position(|r| r.venue == venue && r.conn == conn)
        {
            Some(i) => i,
            None => {
                self.rows.push(ConnHealth {
                    venue,
                    conn: conn.to_string(),
                    state: ConnState::Connected,
                    msgs_per_s: 0.0,
                    bytes_per_s: 0.0,
                    last_msg_age: None,
                    latency_p50_ms: None,
                    latency_p99_ms: None,
                    clock_skew: None,
                    messages: 0,
                    reconnects: 0,
                    gaps: 0,
                    resyncs: 0,
                    checksum_ok: 0,
                    checksum_failed: 0,
                    parse_errors: 0,
                    unknown_messages: 0,
                    queue_depth: 0,
                    books_not_live: 0,
                });
                self.rows.len() - 1
            }
        };
        &mut self.rows[i]
    }

    pub fn on_feed(
        &mut self,
        venue: Venue,
        conn: &str,
        _received: Micros,
        _bytes: usize,
        events: &[MarketEvent],
    ) {
        self.totals.frames += 1;
        self.row(venue, conn).messages += 1;
        for e in events {
            if let MarketEvent::Incident { incident, .. } = e {
                let t = &mut self.totals;
                match incident {
                    Incident::Gap => t.gaps += 1,
                    Incident::Resync => t.resyncs += 1,
                    Incident::ChecksumOk => t.checksum_ok += 1,
                    Incident::ChecksumFailed => t.checksum_failed += 1,
                    Incident::ParseError => t.parse_errors += 1,
                    Incident::UnknownMessage => t.unknown_messages += 1,
                }
            }
        }
    }

    pub fn on_conn(&mut self, venue: Venue, conn: &str, state: ConnState, _at: Micros) {
        self.row(venue, conn).state = state;
    }

    pub fn set_queue_depth(&mut self, depth: usize) {
        self.queue_depth = depth;
    }

    pub fn view(&self, _now: Micros) -> Vec<ConnHealth> {
        let depth = self.queue_depth;
        self.rows
            .iter()
            .map(|r| ConnHealth {
                queue_depth: depth,
                ..r.clone()
            })
            .collect()
    }

    pub fn totals(&self) -> HealthTotals {
        self.totals
    }
}
