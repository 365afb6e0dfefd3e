//! Pages of stored rows the Arbitrage and Liquidations panes ask for as the
//! user scrolls past their live rows: what the UI asks and what the app
//! layer's reader answers (`app::store::PageReader`). Plain data, so the
//! headless build (no `tui` feature) knows them too.

use super::{Query, Record};

/// Why there is no stored history with `[store] enabled = false`.
pub const STORE_OFF: &str = "[store] is off";

/// The panes that page back into history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryPane {
    Arbitrage,
    Liquidations,
}

/// Which end of the loaded rows a request extends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The next page before the oldest row shown.
    Older,
    /// Rows that fell off the live list since the pages were loaded.
    Fill,
}

/// A read the UI asks the app layer for.
#[derive(Clone, Debug, PartialEq)]
pub struct PageRequest {
    pub pane: HistoryPane,
    /// Answers to an older generation (the user went back to live since)
    /// are dropped.
    pub generation: u64,
    pub direction: Direction,
    pub query: Query,
}

impl PageRequest {
    /// The answer to this request when it could not be read (the pane says
    /// why, and the next scroll asks again).
    pub fn failed(&self, why: impl Into<String>) -> PageResult {
        PageResult {
            pane: self.pane,
            generation: self.generation,
            direction: self.direction,
            rows: Err(why.into()),
        }
    }
}

/// The app layer's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct PageResult {
    pub pane: HistoryPane,
    pub generation: u64,
    pub direction: Direction,
    /// Rows oldest first (as the store hands them back), or why not.
    pub rows: Result<Vec<Record>, String>,
}
