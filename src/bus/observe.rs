//! What a collector tells `--metrics` about its feeds, its books and its
//! queues. A collector runs no engine, so no engine snapshot holds these:
//! its task keeps the same connection counters the engine keeps (a
//! [`HealthTracker`] fed the same inputs) and, at each tick while someone
//! reads them, publishes a [`CollectorView`] with them, the states of its
//! own copies of the books and the depths of its queues. A scrape reads the
//! latest view and the publisher's counters ([`PublishStats`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::watch;

use super::publish::PublishStats;
use crate::engine::EngineInput;
use crate::engine::health::HealthTracker;
use crate::engine::snapshot::{ConnHealth, ConnState};
use crate::model::{BookState, Instrument, Micros, OutOfSyncReason, Venue};

/// The collector as its latest tick saw it.
#[derive(Clone, Debug, Default)]
pub struct CollectorView {
    /// When the view was taken (wall clock).
    pub now: Micros,
    /// One row per venue connection, as the engine would count it.
    pub health: Vec<ConnHealth>,
    /// The collector's books, in venue and instrument order.
    pub books: Vec<BookRow>,
    pub queues: QueueDepths,
}

/// One of the collector's books.
#[derive(Clone, Debug, PartialEq)]
pub struct BookRow {
    pub venue: Venue,
    pub instrument: Instrument,
    /// The connection its last book message came on.
    pub conn: String,
    pub state: BookState,
    /// Receive time of its last update.
    pub last_update: Option<Micros>,
}

/// What waits in each of the collector's bounded queues.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueDepths {
    /// Inputs from the feeds, not yet turned into messages.
    pub input: usize,
    /// Messages waiting for NATS.
    pub publish: usize,
    /// Book snapshots waiting for the key-value bucket.
    pub snapshot: usize,
}

/// The handles a metrics endpoint reads; cheap to clone.
#[derive(Clone, Debug)]
pub struct CollectorMetrics {
    pub view: watch::Receiver<Arc<CollectorView>>,
    pub stats: Arc<PublishStats>,
}

#[cfg(test)]
impl CollectorMetrics {
    /// Handles over fixed figures, for tests of what a scrape shows.
    pub fn fixed(view: CollectorView, stats: Arc<PublishStats>) -> Self {
        let (_tx, rx) = watch::channel(Arc::new(view));
        CollectorMetrics { view: rx, stats }
    }
}

/// The collector task's side: counts connections, publishes views.
#[derive(Debug)]
pub struct Observer {
    health: HealthTracker,
    views: Arc<watch::Sender<Arc<CollectorView>>>,
}

impl Observer {
    pub fn new(views: Arc<watch::Sender<Arc<CollectorView>>>) -> Self {
        Observer {
            health: HealthTracker::new(),
            views,
        }
    }

    /// Count one input, as the engine's health tracker does.
    pub fn input(&mut self, input: &EngineInput) {
        match input {
            EngineInput::Feed {
                venue,
                conn,
                received,
                bytes,
                events,
            } => self.health.on_feed(*venue, conn, *received, *bytes, events),
            EngineInput::Conn {
                venue,
                conn,
                state,
                at,
            } => self.health.on_conn(*venue, conn, state.clone(), *at),
            EngineInput::Forget {
                venue,
                venue_stopped: true,
                ..
            } => self.health.forget_venue(*venue),
            EngineInput::Forget { .. }
            | EngineInput::VenueReset { .. }
            | EngineInput::Tick { .. } => {}
        }
    }

    /// Whether anyone reads the views (an endpoint is up).
    pub fn wanted(&self) -> bool {
        self.views.receiver_count() > 0
    }

    /// Publish the view at `now`.
    pub fn publish(&self, now: Micros, books: Vec<BookRow>, queues: QueueDepths) {
        let health = self.health.view(now);
        let books = mark_disconnected(books, &health);
        self.views.send_replace(Arc::new(CollectorView {
            now,
            health,
            books,
            queues,
        }));
    }
}

/// The engine's rule (`engine::books`): a live book whose connection is
/// down or backing off is out of sync until its feed rebuilds it. The
/// collector's copies keep the last state their feed sent, which would
/// read as live through an outage.
fn mark_disconnected(mut books: Vec<BookRow>, health: &[ConnHealth]) -> Vec<BookRow> {
    let down: BTreeMap<(Venue, &str), bool> = health
        .iter()
        .map(|h| {
            let down = matches!(
                h.state,
                ConnState::Disconnected { .. } | ConnState::Backoff { .. }
            );
            ((h.venue, h.conn.as_str()), down)
        })
        .collect();
    for b in &mut books {
        if b.state.is_live() && down.get(&(b.venue, b.conn.as_str())) == Some(&true) {
            b.state = BookState::OutOfSync(OutOfSyncReason::Disconnected);
        }
    }
    books
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Incident, MarketEvent};

    fn okx() -> Venue {
        crate::venue!("okx")
    }

    fn row(conn: &str, state: BookState) -> BookRow {
        BookRow {
            venue: okx(),
            instrument: "BTC-USDT".parse().unwrap(),
            conn: conn.into(),
            state,
            last_update: Some(1),
        }
    }

    #[test]
    fn counts_like_the_engine_and_marks_books_of_a_dropped_connection() {
        let (tx, mut rx) = watch::channel(Arc::new(CollectorView::default()));
        let mut o = Observer::new(Arc::new(tx));
        assert!(o.wanted());
        let conn = |state| EngineInput::Conn {
            venue: okx(),
            conn: "wss://a".into(),
            state,
            at: 1,
        };
        o.input(&conn(ConnState::Connected));
        o.input(&EngineInput::Feed {
            venue: okx(),
            conn: "wss://a".into(),
            received: 2,
            bytes: 120,
            events: vec![MarketEvent::Incident {
                venue: okx(),
                instrument: None,
                incident: Incident::Gap,
                detail: None,
            }],
        });
        o.input(&conn(ConnState::Backoff {
            retry_in_ms: 500,
            reason: "closed".into(),
        }));
        let books = vec![
            row("wss://a", BookState::Live),
            row("wss://b", BookState::Live),
            row("wss://a", BookState::Syncing),
        ];
        let queues = QueueDepths {
            input: 1,
            publish: 2,
            snapshot: 3,
        };
        o.publish(10, books, queues);
        let view = rx.borrow_and_update().clone();
        assert_eq!(view.now, 10);
        assert_eq!(view.queues, queues);
        let h = &view.health[0];
        assert_eq!((h.messages, h.bytes, h.gaps), (1, 120, 1));
        let states: Vec<_> = view.books.iter().map(|b| b.state.clone()).collect();
        assert_eq!(
            states,
            vec![
                BookState::OutOfSync(OutOfSyncReason::Disconnected),
                BookState::Live,
                BookState::Syncing,
            ]
        );
        // The venue stopped: its connections leave the view.
        o.input(&EngineInput::Forget {
            venue: okx(),
            instruments: vec![],
            venue_stopped: true,
        });
        o.publish(11, vec![], QueueDepths::default());
        assert!(rx.borrow().health.is_empty());
        drop(rx);
        assert!(!o.wanted());
    }
}
