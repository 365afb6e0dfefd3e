//! The one key table. It dispatches keys *and* generates the `?` help overlay
//! and the key-hint line, so what the help says is what the keys do.
//!
//! The table's rows are in `table.rs`; keys (parse, normalize, display) in
//! `keys.rs`; what the table means (lookup, overrides, conflicts, help,
//! hints) here.

mod keys;
mod table;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crossterm::event::KeyEvent;

use super::panes::{PANES, PaneId};

pub use keys::Key;
use keys::join_keys;
use table::default_bindings;

/// Where a binding applies: everywhere, or only while a pane is active.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Pane(PaneId),
}

/// Everything a key can do. `name()` is the identifier used in config files.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Action {
    Quit,
    Help,
    Pause,
    NextPane,
    PrevPane,
    /// Index into [`PANES`].
    GoToPane(usize),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Make the instrument under the cursor the selected one.
    Select,
    Filter,
    CycleTheme,
    /// Mark the error on the message line read.
    Dismiss,
    NextInstrument,
    PrevInstrument,
    /// Book pane: aggregated → each venue's own book → aggregated.
    CycleBookVenue,
    /// Liquidations / trades panes: raise or lower the display threshold.
    RaiseThreshold,
    LowerThreshold,
    ReplayTogglePause,
    ReplayFaster,
    ReplaySlower,
    // Logs pane (forwarded to the tui-logger widget).
    LogToggleTargets,
    LogFocusTarget,
    LogShowLess,
    LogShowMore,
    LogCaptureLess,
    LogCaptureMore,
    LogPageUp,
    LogPageDown,
    LogFollow,
    LogHideOff,
    // Watchlist pane.
    WatchAdd,
    WatchRemove,
    WatchToggleVenue,
    VenueLeft,
    VenueRight,
    EditConfig,
    // Alerts pane (and the panes alerts are made from).
    AlertAck,
    AlertAckAll,
    AlertMute,
    AlertDisable,
    AlertFocus,
    /// Arbitrage / Liquidations panes: an alert rule for the selected row.
    AlertCreate,
    // Heatmap pane: price rows, time columns, venue filter.
    HeatCoarser,
    HeatFiner,
    HeatLonger,
    HeatShorter,
    HeatVenue,
    // Chart pane.
    ChartTimeframeNext,
    ChartTimeframePrev,
    ChartZoomIn,
    ChartZoomOut,
    /// Scroll back / forward in time (or move the crosshair when it is on).
    ChartBack,
    ChartForward,
    ChartPageBack,
    ChartPageForward,
    ChartCrosshair,
    /// Back to the newest candle, crosshair off.
    ChartLive,
}

impl Action {
    pub fn name(self) -> String {
        let s = match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::Pause => "pause",
            Action::NextPane => "next_pane",
            Action::PrevPane => "prev_pane",
            Action::GoToPane(i) => return format!("pane_{}", i + 1),
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Select => "select",
            Action::Filter => "filter",
            Action::CycleTheme => "cycle_theme",
            Action::Dismiss => "dismiss",
            Action::NextInstrument => "next_instrument",
            Action::PrevInstrument => "prev_instrument",
            Action::CycleBookVenue => "book_venue",
            Action::RaiseThreshold => "raise_threshold",
            Action::LowerThreshold => "lower_threshold",
            Action::ReplayTogglePause => "replay_pause",
            Action::ReplayFaster => "replay_faster",
            Action::ReplaySlower => "replay_slower",
            Action::LogToggleTargets => "log_targets",
            Action::LogFocusTarget => "log_focus",
            Action::LogShowLess => "log_show_less",
            Action::LogShowMore => "log_show_more",
            Action::LogCaptureLess => "log_capture_less",
            Action::LogCaptureMore => "log_capture_more",
            Action::LogPageUp => "log_page_up",
            Action::LogPageDown => "log_page_down",
            Action::LogFollow => "log_follow",
            Action::LogHideOff => "log_hide_off",
            Action::WatchAdd => "watch_add",
            Action::WatchRemove => "watch_remove",
            Action::WatchToggleVenue => "watch_toggle_venue",
            Action::VenueLeft => "venue_left",
            Action::VenueRight => "venue_right",
            Action::EditConfig => "edit_config",
            Action::AlertAck => "alert_ack",
            Action::AlertAckAll => "alert_ack_all",
            Action::AlertMute => "alert_mute",
            Action::AlertDisable => "alert_disable",
            Action::AlertFocus => "alert_focus",
            Action::AlertCreate => "alert_create",
            Action::HeatCoarser => "heat_coarser",
            Action::HeatFiner => "heat_finer",
            Action::HeatLonger => "heat_longer",
            Action::HeatShorter => "heat_shorter",
            Action::HeatVenue => "heat_venue",
            Action::ChartTimeframeNext => "chart_timeframe_next",
            Action::ChartTimeframePrev => "chart_timeframe_prev",
            Action::ChartZoomIn => "chart_zoom_in",
            Action::ChartZoomOut => "chart_zoom_out",
            Action::ChartBack => "chart_back",
            Action::ChartForward => "chart_forward",
            Action::ChartPageBack => "chart_page_back",
            Action::ChartPageForward => "chart_page_forward",
            Action::ChartCrosshair => "chart_crosshair",
            Action::ChartLive => "chart_live",
        };
        s.to_string()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub key: Key,
    pub context: Context,
    pub action: Action,
    pub description: String,
    /// Short label for the bottom key-hint line (None: only in help).
    pub hint: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: default_bindings(),
        }
    }
}

/// One help line: every key of one action, and what it does.
#[derive(Clone, Debug, PartialEq)]
pub struct HelpLine {
    pub keys: String,
    pub description: String,
}

impl Keymap {
    /// The default table with some actions rebound. Keys are action names
    /// (`quit`, `next_pane`, `pane_3`, `book_venue`, ...); values are one key
    /// or several separated by commas (`"q, ctrl-c"`). A rebound action loses
    /// its default keys.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Keymap, String> {
        let mut bindings = default_bindings();
        for (name, keys) in overrides {
            let template: Vec<Binding> = bindings
                .iter()
                .filter(|b| b.action.name() == *name)
                .cloned()
                .collect();
            if template.is_empty() {
                let mut known: Vec<String> =
                    default_bindings().iter().map(|b| b.action.name()).collect();
                known.dedup();
                return Err(format!(
                    "unknown key action `{name}`; known: {}",
                    known.join(", ")
                ));
            }
            let parsed: Vec<Key> = keys
                .split(',')
                .map(|k| Key::parse(k).map_err(|e| format!("keys.{name}: {e}")))
                .collect::<Result<_, _>>()?;
            bindings.retain(|b| b.action.name() != *name);
            let mut contexts: Vec<Context> = template.iter().map(|b| b.context).collect();
            contexts.dedup();
            for context in contexts {
                let like = template.iter().find(|b| b.context == context);
                let hint = template.iter().find_map(|b| b.hint);
                for key in &parsed {
                    bindings.push(Binding {
                        key: *key,
                        context,
                        action: template[0].action,
                        description: like.map(|b| b.description.clone()).unwrap_or_default(),
                        hint,
                    });
                }
            }
        }
        let map = Keymap { bindings };
        map.check_conflicts()?;
        Ok(map)
    }

    fn check_conflicts(&self) -> Result<(), String> {
        for (i, a) in self.bindings.iter().enumerate() {
            for b in &self.bindings[i + 1..] {
                if a.key == b.key && a.context == b.context && a.action != b.action {
                    return Err(format!(
                        "key {} is bound to both `{}` and `{}`",
                        a.key,
                        a.action.name(),
                        b.action.name()
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The action bound to `key` in exactly `context`.
    pub fn lookup(&self, key: &KeyEvent, context: Context) -> Option<Action> {
        let key = Key::from_event(key);
        self.bindings
            .iter()
            .find(|b| b.context == context && b.key == key)
            .map(|b| b.action)
    }

    /// The keys bound to an action in a context, for display.
    pub fn keys_for(&self, action: Action, context: Context) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|b| b.action == action && b.context == context)
            .map(|b| b.key)
            .collect()
    }

    /// Help lines for one context: bindings sharing a description are merged.
    pub fn help(&self, context: Context) -> Vec<HelpLine> {
        let mut lines: Vec<(String, Vec<Key>)> = Vec::new();
        for b in self.bindings.iter().filter(|b| b.context == context) {
            match lines.iter_mut().find(|(d, _)| *d == b.description) {
                Some((_, keys)) => keys.push(b.key),
                None => lines.push((b.description.clone(), vec![b.key])),
            }
        }
        lines
            .into_iter()
            .map(|(description, keys)| HelpLine {
                keys: join_keys(&keys),
                description,
            })
            .collect()
    }

    /// Short `(keys, label)` hints: the pane's own first, then global ones.
    pub fn hints(&self, pane: PaneId) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        for context in [Context::Pane(pane), Context::Global] {
            let mut seen: Vec<Action> = Vec::new();
            for b in self.bindings.iter().filter(|b| b.context == context) {
                if let Some(hint) = b.hint {
                    if seen.contains(&b.action) {
                        continue;
                    }
                    seen.push(b.action);
                    out.push((join_keys(&self.keys_for(b.action, context)), hint));
                }
            }
            if context == Context::Global {
                let digits: Vec<Key> = (0..PANES.len())
                    .flat_map(|i| self.keys_for(Action::GoToPane(i), Context::Global))
                    .collect();
                if !digits.is_empty() {
                    out.push((join_keys(&digits), "panes"));
                }
            }
        }
        out
    }
}
