//! History that survives a restart: the engine's notices (opportunities,
//! liquidations, large trades, per-minute funding and open interest,
//! one-minute candles, incidents, book and connection states) and the alerts task's alerts and
//! deliveries ([`alerts`]) kept in an embedded database, read back at start
//! ([`crate::engine::Seed`], the Alerts pane's history) and by
//! `depthwatch history`.
//!
//! The store is a sink ([`crate::engine::notices`]): the engine hands it
//! notices through a bounded channel with `try_send`, and a writer thread
//! ([`writer`]) writes them in batches, so a slow or failing disk never
//! stalls the engine; what does not fit, or could not be written, is counted
//! and shown in the Health pane with the reason.
//!
//! [`Store`] is the interface the app uses; [`SqliteStore`] implements it
//! over one SQLite file (schema and migrations in [`schema`], documented in
//! the README). A shared server database for a desk (PostgreSQL) would be a
//! second implementation of the same trait (README, "History").
//!
//! Layout: `record` holds the rows as read back, `codec` the text forms of
//! enums and decimals, `sqlite` the SQL, `writer` the batching thread,
//! `stats` the summaries of `history --stats`, `settings` what the config
//! says, `pages` what the panes ask for when they page back.

pub mod alerts;
pub mod codec;
pub mod pages;
pub mod record;
pub mod schema;
pub mod settings;
mod sqlite;
pub mod stats;
pub mod writer;

#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use alerts::{AlertEvent, AlertRow, AlertSink, DeliveryRow};
pub use record::{ArbRecord, IncidentRecord, Kind, Record, StateRecord};
pub use settings::{Retention, StoreSettings};
pub use sqlite::SqliteStore;

use crate::engine::Seed;
use crate::engine::notices::Notice;
use crate::model::{Instrument, Micros, Venue};

/// What a store failure means, in plain words (shown in the Health pane and
/// the status line).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Failed(String),
    /// The file was written by a newer depthwatch.
    #[error(
        "{path} has schema version {found}; this depthwatch knows up to {known}: upgrade depthwatch or point [store] path elsewhere"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("no history at {0} yet (depthwatch writes it while running)")]
    Missing(String),
}

/// A selection of stored rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub kind: Kind,
    /// Instrument (for opportunities: the key or either leg).
    pub instrument: Option<Instrument>,
    /// Venue (for opportunities: either leg).
    pub venue: Option<Venue>,
    /// From this time on (inclusive), microseconds.
    pub since: Option<Micros>,
    /// Before this time (exclusive).
    pub until: Option<Micros>,
    /// At most this many rows (the newest of the range).
    pub limit: Option<usize>,
    /// Opportunities only: closed ones, selected and ordered by when they
    /// closed rather than opened (the Arbitrage pane pages back in the
    /// order its "Recently closed" list is in).
    pub by_close: bool,
}

impl Query {
    pub fn new(kind: Kind) -> Self {
        Query {
            kind,
            instrument: None,
            venue: None,
            since: None,
            until: None,
            limit: None,
            by_close: false,
        }
    }
}

/// What to read back at start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RestoreSpec {
    /// Closed opportunities (the engine keeps this many).
    pub closed_arbs: usize,
    /// Liquidations and large trades from this far back (1 h).
    pub tape_window: Micros,
    /// Funding and open-interest minutes from this far back (a day: the
    /// 24 h change needs them).
    pub series_window: Micros,
    /// One-minute candles from this far back: as many minutes as the
    /// engine keeps of 1m candles (the longer intervals are rolled up from
    /// the same minutes).
    pub candle_window: Micros,
}

impl Default for RestoreSpec {
    fn default() -> Self {
        RestoreSpec {
            closed_arbs: 200,
            tape_window: 3_600_000_000,
            series_window: 1_500 * 60_000_000,
            candle_window: crate::engine::candles::series::RING as Micros
                * crate::model::Timeframe::M1.micros(),
        }
    }
}

/// A place history is kept. Writes come in batches from one writer; reads
/// may come from anywhere that holds a store (the app at start, `history`).
pub trait Store: Send {
    /// Start a run: opportunities an earlier run left open (it was killed)
    /// are closed at the last time that run wrote, "depthwatch stopped".
    fn begin_run(&mut self, started: Micros) -> Result<(), StoreError>;

    /// Write a batch of notices in one transaction; returns the rows
    /// written (a notice the store does not keep writes none).
    fn write(&mut self, batch: &[Arc<Notice>]) -> Result<usize, StoreError>;

    /// Write a batch of the alerts task's events in one transaction;
    /// returns the rows written.
    fn write_alerts(&mut self, batch: &[AlertEvent]) -> Result<usize, StoreError>;

    /// Delete what is older than its kind's retention; returns rows deleted.
    fn prune(&mut self, retention: &Retention, now: Micros) -> Result<u64, StoreError>;

    /// Rows matching `q`, oldest first.
    fn query(&self, q: &Query) -> Result<Vec<Record>, StoreError>;

    /// What the engine is seeded with at start.
    fn restore(&self, spec: &RestoreSpec, now: Micros) -> Result<Seed, StoreError>;
}
