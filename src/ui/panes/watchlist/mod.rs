//! Watchlist (key 8): the watched instruments, one row each, with a column
//! per venue saying what that venue's book of the instrument is doing (live,
//! syncing, out of sync and why, stale, not carried) or that the venue is off.
//!
//! Live sessions edit the watchlist from here: `a` opens an input line with
//! completion from the cached instrument lists, `d` removes the selected row
//! after a one-key confirmation, Space turns the venue under the venue cursor
//! on or off, `E` opens the config file in `$EDITOR`. Each edit becomes a
//! [`UiCommand`]; the app writes the file (comments kept) and the new
//! subscriptions start or stop at once. A replay has no watchlist to edit:
//! the pane then lists what the captures hold, read only.

mod render;

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::config::{Catalog, listings};
use crate::engine::Snapshot;
use crate::model::{Instrument, Venue};
use crate::ui::UiCommand;
use crate::ui::keymap::Action;

pub use render::render;

/// Candidates shown under the add line.
const CANDIDATES: usize = 6;

/// One watched instrument as the config has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchRow {
    pub instrument: Instrument,
    /// The venues it is watched on (its own list, or the global venues that
    /// list it).
    pub venues: Vec<Venue>,
}

/// What the app tells the UI about the running watchlist (live sessions).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WatchlistInfo {
    pub rows: Vec<WatchRow>,
    /// The venues that can be turned on (the simulated ones in the demo).
    pub venues: Vec<Venue>,
    /// Where edits are saved.
    pub config_path: Option<PathBuf>,
    /// Set when editing is off, saying why.
    pub read_only: Option<String>,
}

/// Typing an instrument to add.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AddLine {
    /// What the line shows (a picked candidate replaces what was typed).
    pub text: String,
    /// What the user typed; candidates are computed from it.
    typed: String,
    pub candidates: Vec<(Instrument, Vec<Venue>)>,
    /// Index of the picked candidate (Tab / arrows), if any.
    pub pick: Option<usize>,
    /// Why Enter did not add, shown under the line.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Mode {
    #[default]
    Browse,
    Adding(AddLine),
    /// Waiting for `y` (or `d` again) to remove this instrument.
    ConfirmRemove(Instrument),
}

/// The pane's state, held by [`App`].
#[derive(Clone, Debug, Default)]
pub struct WatchPane {
    /// `None` in a replay: nothing to edit.
    pub info: Option<WatchlistInfo>,
    pub catalog: Arc<Catalog>,
    /// Index into the venue columns.
    pub venue_cursor: usize,
    pub mode: Mode,
}

/// A row as displayed: config rows live, snapshot books in a replay.
struct Shown {
    instrument: Instrument,
    watched_on: Vec<Venue>,
}

impl WatchPane {
    /// An input line or a confirmation is waiting for keys.
    pub fn is_modal(&self) -> bool {
        self.mode != Mode::Browse
    }

    /// Rows for the cursor bounds.
    pub fn row_count(&self, snap: &Snapshot) -> usize {
        self.shown(snap).len()
    }

    fn shown(&self, snap: &Snapshot) -> Vec<Shown> {
        match &self.info {
            Some(info) => config_rows(info),
            None => {
                let mut rows: Vec<Shown> = Vec::new();
                for b in snap.instruments.iter().flat_map(|v| &v.venues) {
                    match rows.iter_mut().find(|r| r.instrument == b.instrument) {
                        Some(r) if !r.watched_on.contains(&b.venue) => r.watched_on.push(b.venue),
                        Some(_) => {}
                        None => rows.push(Shown {
                            instrument: b.instrument,
                            watched_on: vec![b.venue],
                        }),
                    }
                }
                rows
            }
        }
    }

    /// Venue columns: those that can carry at least one row (live), or
    /// those with a book (replay); in venue order.
    fn columns(&self, rows: &[Shown]) -> Vec<Venue> {
        let candidates: Vec<Venue> = match &self.info {
            Some(info) => info.venues.clone(),
            None => Venue::all().collect(),
        };
        let mut cols: Vec<Venue> = candidates
            .into_iter()
            .filter(|v| {
                rows.iter().any(|r| {
                    r.watched_on.contains(v)
                        || (self.info.is_some() && listings::carries(*v, &r.instrument))
                })
            })
            .collect();
        cols.sort();
        cols
    }

    fn editable(&self) -> Result<&WatchlistInfo, String> {
        match &self.info {
            None => Err("a replay has no watchlist to edit: edit it in live mode \
                         (depthwatch, or depthwatch --demo --config FILE)"
                .to_string()),
            Some(info) => match &info.read_only {
                Some(why) => Err(why.clone()),
                None => Ok(info),
            },
        }
    }

    /// A pane key from the keymap. `row` is the cursor row. Returns whether
    /// the action was the pane's.
    pub fn action(
        &mut self,
        action: Action,
        row: usize,
        commands: &mut Vec<UiCommand>,
        status: &mut Option<String>,
    ) -> bool {
        let rows: Vec<Shown> = self.info.as_ref().map(config_rows).unwrap_or_default();
        let columns = self.columns(&rows);
        match action {
            Action::VenueLeft => self.venue_cursor = self.venue_cursor.saturating_sub(1),
            Action::VenueRight => {
                self.venue_cursor = (self.venue_cursor + 1).min(columns.len().saturating_sub(1));
            }
            Action::WatchAdd | Action::WatchRemove | Action::WatchToggleVenue => {
                if let Err(why) = self.editable() {
                    *status = Some(why);
                    return true;
                }
                let selected = rows.get(row).map(|r| r.instrument);
                match (action, selected) {
                    (Action::WatchAdd, _) => self.mode = Mode::Adding(AddLine::default()),
                    (Action::WatchRemove, Some(i)) => self.mode = Mode::ConfirmRemove(i),
                    (Action::WatchToggleVenue, Some(i)) => {
                        let cursor = self.venue_cursor.min(columns.len().saturating_sub(1));
                        match columns.get(cursor) {
                            Some(&venue) if listings::carries(venue, &i) => {
                                commands.push(UiCommand::ToggleVenue(i, venue));
                            }
                            Some(&venue) => {
                                *status = Some(format!("depthwatch does not watch {i} on {venue}"));
                            }
                            None => {}
                        }
                    }
                    _ => *status = Some("the watchlist is empty: a adds an instrument".into()),
                }
            }
            Action::EditConfig => match self.editable() {
                Err(why) => *status = Some(why),
                Ok(_) => commands.push(UiCommand::EditConfig),
            },
            _ => return false,
        }
        true
    }

    /// Keys while the add line or a confirmation is open. Ctrl and Alt keys
    /// are left alone (Ctrl-C still quits). Returns whether it consumed the key.
    pub fn modal_key(
        &mut self,
        key: &KeyEvent,
        commands: &mut Vec<UiCommand>,
        status: &mut Option<String>,
    ) -> bool {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return false;
        }
        match std::mem::take(&mut self.mode) {
            Mode::Browse => return false,
            Mode::ConfirmRemove(i) => {
                if matches!(key.code, KeyCode::Char('y' | 'Y' | 'd') | KeyCode::Enter) {
                    commands.push(UiCommand::RemoveInstrument(i));
                    *status = Some(format!("removing {i}…"));
                } else {
                    *status = Some(format!("kept {i}"));
                }
            }
            Mode::Adding(mut line) => {
                match key.code {
                    KeyCode::Esc => return true,
                    KeyCode::Enter => match self.validate(&line.text) {
                        Ok(i) => {
                            commands.push(UiCommand::AddInstrument(i));
                            *status = Some(format!("adding {i}…"));
                            return true;
                        }
                        Err(why) => line.error = Some(why),
                    },
                    KeyCode::Tab | KeyCode::Down => line.step(1),
                    KeyCode::BackTab | KeyCode::Up => line.step(-1),
                    KeyCode::Backspace => {
                        line.typed.pop();
                        self.retype(&mut line);
                    }
                    KeyCode::Char(c) if !c.is_control() => {
                        line.typed.push(c.to_ascii_uppercase());
                        self.retype(&mut line);
                    }
                    _ => {}
                }
                self.mode = Mode::Adding(line);
            }
        }
        true
    }

    fn retype(&self, line: &mut AddLine) {
        line.text = line.typed.clone();
        line.pick = None;
        line.error = None;
        let venues: Vec<Venue> = self
            .info
            .as_ref()
            .map(|i| i.venues.clone())
            .unwrap_or_default();
        let watched: Vec<Instrument> = self
            .info
            .as_ref()
            .map(|i| i.rows.iter().map(|r| r.instrument).collect())
            .unwrap_or_default();
        // Only what could be added here: venues of this session, not yet watched.
        line.candidates = self
            .catalog
            .complete(&line.typed, 64)
            .into_iter()
            .filter(|(i, _)| !watched.contains(i))
            .filter_map(|(i, vs)| {
                let vs: Vec<Venue> = vs.into_iter().filter(|v| venues.contains(v)).collect();
                (!vs.is_empty()).then_some((i, vs))
            })
            .take(CANDIDATES)
            .collect();
    }

    /// Why `text` cannot be added, or the instrument.
    fn validate(&self, text: &str) -> Result<Instrument, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("type an instrument, e.g. BTC-USDT or SOL-USDT-PERP".to_string());
        }
        let i: Instrument = text.parse().map_err(|e| format!("{e}"))?;
        let Some(info) = &self.info else {
            return Err("nothing to edit in a replay".to_string());
        };
        if info.rows.iter().any(|r| r.instrument == i) {
            return Err(format!("{i} is already watched"));
        }
        let venues: Vec<Venue> = info
            .venues
            .iter()
            .copied()
            .filter(|v| listings::carries(*v, &i))
            .collect();
        if venues.is_empty() {
            return Err(format!("none of the venues here carries {i}"));
        }
        let listed = venues
            .iter()
            .any(|v| self.catalog.lists(*v, &i) == Some(true));
        let unknown = venues.iter().any(|v| self.catalog.lists(*v, &i).is_none());
        if !listed && !unknown {
            let names: Vec<&str> = venues.iter().map(|v| v.as_str()).collect();
            return Err(format!(
                "{i} is not listed on {} (per their instrument lists)",
                names.join(", ")
            ));
        }
        Ok(i)
    }
}

fn config_rows(info: &WatchlistInfo) -> Vec<Shown> {
    info.rows
        .iter()
        .map(|r| Shown {
            instrument: r.instrument,
            watched_on: r.venues.clone(),
        })
        .collect()
}

impl AddLine {
    fn step(&mut self, delta: i64) {
        let n = self.candidates.len() as i64;
        if n == 0 {
            return;
        }
        let next = match self.pick {
            None if delta > 0 => 0,
            None => n - 1,
            Some(p) => (p as i64 + delta).rem_euclid(n),
        } as usize;
        self.pick = Some(next);
        if let Some((i, _)) = self.candidates.get(next) {
            self.text = i.to_string();
        }
        self.error = None;
    }
}
