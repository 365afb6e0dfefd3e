//! Facts the engine derives, handed to sinks (alerts, the store, the bus,
//! metrics) that each run as their own task behind a bounded channel.
//!
//! A sink never slows the engine: notices are sent with `try_send`, and one
//! that does not fit is dropped and counted. Each sink's counts, and the
//! problem it reports (a full disk, a failing webhook), show in the Health
//! pane through its [`SinkStatus`]. With no sink registered, nothing is
//! built.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::model::{BookState, Incident, Instrument, Micros, Venue};

use super::snapshot::{ArbOpportunity, ClosedArb, ConnState, LiquidationRow, TradeRow};

/// One derived fact.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    ArbOpened(ArbOpportunity),
    ArbClosed(ClosedArb),
    Liquidation(LiquidationRow),
    /// A trade at or above the large-trade threshold.
    LargeTrade(TradeRow),
    /// A counted protocol incident (gap, resync, checksum failure, parse
    /// error) with the adapter's words.
    Incident {
        venue: Venue,
        instrument: Option<Instrument>,
        incident: Incident,
        detail: Option<String>,
        at: Micros,
    },
    /// A book's state changed (as the engine shows it).
    BookState {
        venue: Venue,
        instrument: Instrument,
        state: BookState,
        at: Micros,
    },
    /// An open-interest or volume spike (`derivs`).
    Spike(super::derivs::SpikeRow),
    /// A closed minute of one perpetual (funding, mark, open interest,
    /// volume), for the store and the bus.
    DerivSample(super::derivs::DerivSample),
    /// A closed one-minute candle of one venue's instrument, for the store.
    Candle(super::candles::MinuteCandle),
    /// A connection changed state.
    Conn {
        venue: Venue,
        conn: String,
        state: ConnState,
        at: Micros,
    },
}

/// What a sink shares with the engine: how many notices it was sent and
/// dropped, and the problem it last reported (cleared when it recovers).
#[derive(Debug, Default)]
pub struct SinkStatus {
    pub name: String,
    sent: AtomicU64,
    dropped: AtomicU64,
    problem: Mutex<Option<String>>,
}

impl SinkStatus {
    pub fn new(name: &str) -> Self {
        SinkStatus {
            name: name.to_string(),
            ..SinkStatus::default()
        }
    }

    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The sink counts a notice it had to drop itself (a full queue of its
    /// own, a write that failed).
    pub fn count_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// The sink reports a problem (`None`: all well again).
    pub fn set_problem(&self, problem: Option<String>) {
        if let Ok(mut p) = self.problem.lock() {
            *p = problem;
        }
    }

    pub fn problem(&self) -> Option<String> {
        self.problem.lock().ok().and_then(|p| p.clone())
    }
}

/// A sink as the Health pane shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkHealth {
    pub name: String,
    pub sent: u64,
    pub dropped: u64,
    pub problem: Option<String>,
}

impl From<&SinkStatus> for SinkHealth {
    fn from(s: &SinkStatus) -> Self {
        SinkHealth {
            name: s.name.clone(),
            sent: s.sent(),
            dropped: s.dropped(),
            problem: s.problem(),
        }
    }
}

struct Sink {
    tx: mpsc::Sender<Arc<Notice>>,
    status: Arc<SinkStatus>,
}

/// The registered sinks and the notices of the input being handled.
#[derive(Default)]
pub struct Notices {
    sinks: Vec<Sink>,
    pending: Vec<Notice>,
}

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notices")
            .field("sinks", &self.sinks.len())
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Notices {
    /// Anyone listening (else notices are not even built).
    pub fn wanted(&self) -> bool {
        !self.sinks.is_empty()
    }

    /// Register a sink; it receives every notice from now on, through a
    /// channel of `capacity`.
    pub fn add(
        &mut self,
        name: &str,
        capacity: usize,
    ) -> (mpsc::Receiver<Arc<Notice>>, Arc<SinkStatus>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let status = Arc::new(SinkStatus::new(name));
        self.sinks.push(Sink {
            tx,
            status: status.clone(),
        });
        (rx, status)
    }

    pub fn push(&mut self, n: Notice) {
        if self.wanted() {
            self.pending.push(n);
        }
    }

    /// Send what the last input produced; a sink that is full or gone has
    /// its notices counted as dropped.
    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        for n in self.pending.drain(..) {
            let n = Arc::new(n);
            for s in &self.sinks {
                match s.tx.try_send(n.clone()) {
                    Ok(()) => s.status.sent.fetch_add(1, Ordering::Relaxed),
                    Err(_) => s.status.dropped.fetch_add(1, Ordering::Relaxed),
                };
            }
        }
    }

    pub fn health(&self) -> Vec<SinkHealth> {
        self.sinks
            .iter()
            .map(|s| SinkHealth::from(&*s.status))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(at: Micros) -> Notice {
        Notice::Incident {
            venue: crate::venue!("okx"),
            instrument: None,
            incident: Incident::Gap,
            detail: None,
            at,
        }
    }

    #[test]
    fn nothing_is_built_without_a_sink() {
        let mut n = Notices::default();
        n.push(incident(1));
        assert!(n.pending.is_empty());
    }

    #[test]
    fn a_full_sink_drops_and_counts_without_blocking() {
        let mut n = Notices::default();
        let (mut rx, status) = n.add("store", 2);
        for t in 0..5 {
            n.push(incident(t));
        }
        n.flush();
        assert_eq!((status.sent(), status.dropped()), (2, 3));
        assert_eq!(*rx.try_recv().unwrap(), incident(0));
        status.set_problem(Some("disk full".into()));
        assert_eq!(n.health()[0].problem.as_deref(), Some("disk full"));
    }
}
