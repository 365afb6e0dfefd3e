//! What the engine consumes: normalized events from adapters, grouped by the
//! frame they came from, plus connection transitions and clock ticks.

use crate::model::{MarketEvent, Micros, Venue};

use super::snapshot::ConnState;

/// The connection name under which REST bodies are fed (live and replay).
/// Books are never attached to it: their stream decides their staleness.
pub const REST_CONN: &str = "rest";

#[derive(Clone, Debug)]
pub enum EngineInput {
    /// The events parsed from one received frame or REST body.
    Feed {
        venue: Venue,
        /// Connection URL (live) or capture connection name (replay).
        conn: String,
        received: Micros,
        /// Frame size, for bytes/s.
        bytes: usize,
        events: Vec<MarketEvent>,
    },
    /// A connection changed state. A `Connected` after an earlier one counts
    /// as a reconnect.
    Conn {
        venue: Venue,
        conn: String,
        state: ConnState,
        at: Micros,
    },
    /// Time passes without data (windows roll, books go stale).
    Tick { now: Micros },
}
