//! What the engine consumes: normalized events from adapters, grouped by the
//! frame they came from, plus connection transitions and clock ticks.

use crate::model::{Instrument, MarketEvent, Micros, Venue};

use super::snapshot::ConnState;

/// The connection name under which REST bodies are fed (live and replay).
/// Books are never attached to it: their stream decides their staleness.
pub const REST_CONN: &str = "rest";

/// The connection name under which polled books (the REST fallback) are
/// fed: unlike [`REST_CONN`], books are attached to it, so a poller that
/// stops leaves its books stale like a silent stream.
pub const POLL_CONN: &str = "rest poll";

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
    /// The feed of `venue` no longer subscribes to `instruments` (the
    /// watchlist changed): their books and derivatives data go, and open
    /// opportunities on them close. With `venue_stopped` the venue's feed
    /// ended altogether and its connection rows leave the health view too.
    /// Send it after the old feed stopped sending, so no late frame brings a
    /// book back.
    Forget {
        venue: Venue,
        instruments: Vec<Instrument>,
        venue_stopped: bool,
    },
    /// The venue's feed task was restarted after an internal error: every
    /// book of `venue` is at once `OutOfSync(Venue(reason))`, out of CBBO and
    /// arbitrage (open opportunities on them close as "`VENUE` out of sync:
    /// `REASON`"), until a new snapshot of that book arrives. Its levels stay
    /// for display, greyed; deltas are ignored meanwhile.
    VenueReset { venue: Venue, reason: String },
}
