//! View state only: which pane, which instrument, cursors, the filter line,
//! overlays and display thresholds. Keys go first to the active pane (which
//! may consume them), then to the global handlers.

use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_logger::{TuiWidgetEvent, TuiWidgetState};

use super::history::{HistoryPane, HistoryPanes, PageResult};
use super::keymap::{Action, Context, Keymap};
use super::messages::{Level, Messages, Shown};
use super::panes::alerts::AlertsPane;
use super::panes::chart::ChartState;
use super::panes::heatmap::HeatmapPane;
use super::panes::watchlist::{WatchPane, WatchlistInfo};
use super::panes::{PANES, PaneId};
use super::panes::{arbitrage, liquidations};
use super::theme::Theme;
use super::{ReplayStatus, SpeedChange, UiCommand};
use crate::engine::Snapshot;
use crate::model::{Instrument, Venue};

/// What became of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Consumed,
    NotConsumed,
    Quit,
}

/// Which book the Book pane shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookMode {
    Aggregated,
    Venue(Venue),
}

/// How wall-clock times are shown (tests pin UTC for stable screens).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeZone {
    Local,
    Utc,
}

/// Threshold ladder for `+`/`-` (USD).
const THRESHOLDS: [f64; 14] = [
    0.0,
    1_000.0,
    5_000.0,
    10_000.0,
    25_000.0,
    50_000.0,
    100_000.0,
    250_000.0,
    500_000.0,
    1_000_000.0,
    2_500_000.0,
    5_000_000.0,
    10_000_000.0,
    25_000_000.0,
];

/// Why a replay does not change its alert rules.
const REPLAY_RULES: &str =
    "a replay runs the config's alert rules as they were at its start: change them live";

pub struct App {
    pub keymap: Keymap,
    themes: Vec<Theme>,
    pub theme_index: usize,
    /// Index into [`PANES`].
    pub pane: usize,
    /// The selected instrument key; `None` until a snapshot names one.
    pub selected: Option<Instrument>,
    /// Cursor row per pane (same order as [`PANES`]).
    pub cursors: Vec<usize>,
    pub filter: String,
    pub filter_editing: bool,
    pub help: bool,
    pub paused: bool,
    frozen: Option<Arc<Snapshot>>,
    pub book_mode: BookMode,
    /// Display thresholds; `None` until first seen in a snapshot.
    pub liq_min_notional: Option<f64>,
    pub large_trade_usd: Option<f64>,
    /// The message line: information that expires, errors until dismissed.
    pub messages: Messages,
    /// The time source for message expiry (tests inject their own).
    pub clock: Clock,
    pub demo: bool,
    pub replay: Option<ReplayStatus>,
    pub time_zone: TimeZone,
    pub log_state: TuiWidgetState,
    /// Instrument keys and labels of the latest snapshot, display order.
    instruments: Vec<(Instrument, String)>,
    /// Venues of the selected instrument (for `v`).
    book_venues: Vec<Venue>,
    /// Row counts per pane for cursor bounds.
    rows: Vec<usize>,
    commands: Vec<UiCommand>,
    /// The Watchlist pane's state (rows, venue cursor, add line).
    pub watch: WatchPane,
    /// The Alerts pane's state (the alerts task's view, cursors, toasts).
    pub alerts: AlertsPane,
    /// The Heatmap pane's grouping, time scale and venue filter.
    pub heatmap: HeatmapPane,
    /// The Chart pane's timeframe, source, zoom, scroll and crosshair.
    pub chart: ChartState,
    /// Stored history the Arbitrage and Liquidations panes paged back into.
    pub history: HistoryPanes,
}

impl Default for App {
    fn default() -> Self {
        let (themes, _) = Theme::load_all(None);
        App::new(Keymap::default(), themes, "dark")
    }
}

/// The UI's time source.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

impl App {
    /// What a pane said (watchlist refusals and progress): information.
    fn say(&mut self, said: Option<String>) {
        if let Some(m) = said {
            self.set_status(m);
        }
    }

    pub fn new(keymap: Keymap, themes: Vec<Theme>, theme_name: &str) -> App {
        let themes = if themes.is_empty() {
            vec![Theme::default()]
        } else {
            themes
        };
        let theme_index = themes.iter().position(|t| t.name == theme_name);
        let mut app = App {
            keymap,
            theme_index: theme_index.unwrap_or(0),
            themes,
            pane: 0,
            selected: None,
            cursors: vec![0; PANES.len()],
            filter: String::new(),
            filter_editing: false,
            help: false,
            paused: false,
            frozen: None,
            book_mode: BookMode::Aggregated,
            liq_min_notional: None,
            large_trade_usd: None,
            messages: Messages::default(),
            clock: Arc::new(Instant::now),
            demo: false,
            replay: None,
            time_zone: TimeZone::Local,
            log_state: TuiWidgetState::new()
                .set_default_display_level(tui_logger::LevelFilter::Info),
            instruments: Vec::new(),
            book_venues: Vec::new(),
            rows: vec![0; PANES.len()],
            commands: Vec::new(),
            watch: WatchPane::default(),
            alerts: AlertsPane::default(),
            heatmap: HeatmapPane::default(),
            chart: ChartState::default(),
            history: HistoryPanes::default(),
        };
        if theme_index.is_none() {
            app.set_error(format!(
                "unknown theme `{theme_name}`, using `{}` (built-in: {})",
                app.theme().name,
                super::theme::builtin_names()
            ));
        }
        app
    }

    pub fn theme(&self) -> &Theme {
        // `themes` is never empty (see `new`).
        &self.themes[self.theme_index % self.themes.len()]
    }

    pub fn pane_id(&self) -> PaneId {
        PANES.get(self.pane).map_or(PaneId::Overview, |p| p.id)
    }

    pub fn go_to(&mut self, pane: PaneId) {
        if let Some(i) = PANES.iter().position(|p| p.id == pane) {
            self.pane = i;
        }
    }

    pub fn cursor(&self, pane: PaneId) -> usize {
        PANES
            .iter()
            .position(|p| p.id == pane)
            .and_then(|i| self.cursors.get(i).copied())
            .unwrap_or(0)
    }

    /// A message as plain text: an error if it reads as one (see
    /// [`Level::of`]), else information.
    pub fn set_status(&mut self, message: String) {
        let level = Level::of(&message);
        let now = (self.clock)();
        self.messages.push(message, level, now);
    }

    /// Information for the message line; it expires after a few seconds.
    pub fn set_info(&mut self, message: String) {
        let now = (self.clock)();
        self.messages.info(message, now);
    }

    /// An error for the message line; it stays until dismissed.
    pub fn set_error(&mut self, message: String) {
        let now = (self.clock)();
        self.messages.error(message, now);
    }

    /// What the message line shows now, if anything.
    pub fn message(&self) -> Option<Shown<'_>> {
        self.messages.shown((self.clock)())
    }

    /// Forgets expired information; true when the screen changed.
    pub fn tick(&mut self) -> bool {
        let now = (self.clock)();
        self.messages.expire(now)
    }

    /// The app's view of the watchlist changed (an edit or a reload).
    pub fn set_watchlist(&mut self, info: WatchlistInfo) {
        let n = info.rows.len();
        self.watch.info = Some(info);
        if let Some(i) = PANES.iter().position(|p| p.id == PaneId::Watchlist) {
            self.rows[i] = n;
            self.cursors[i] = self.cursors[i].min(n.saturating_sub(1));
        }
    }

    /// The alerts task published a new view: new alerts become toasts
    /// (critical ones stay until dismissed), new bells are due.
    pub fn set_alerts(&mut self, view: Arc<crate::alerts::AlertsView>) {
        let fresh: Vec<String> = view
            .records
            .iter()
            .rev()
            .filter(|r| r.alert.id > self.alerts.seen_id.max(view.restored))
            .filter(|r| {
                r.deliveries.iter().any(|(d, o)| {
                    *d == "app" && matches!(o, crate::alerts::deliver::Outcome::Sent { .. })
                })
            })
            .map(|r| {
                let a = &r.alert;
                let text = format!("alert {}", a.one_line());
                if a.severity == crate::alerts::Severity::Critical {
                    format!("error: {text}")
                } else {
                    text
                }
            })
            .collect();
        for t in fresh {
            match t.strip_prefix("error: ") {
                Some(e) => self.set_error(e.to_string()),
                None => self.set_info(t),
            }
        }
        if let Some(newest) = view.records.first() {
            self.alerts.seen_id = self.alerts.seen_id.max(newest.alert.id);
        }
        if view.bells > self.alerts.seen_bells {
            self.alerts.bell_due = true;
        }
        self.alerts.seen_bells = view.bells;
        let rules = view.rules.len();
        self.alerts.rule_cursor = self.alerts.rule_cursor.min(rules.saturating_sub(1));
        self.alerts.view = Some(view);
        self.count_alert_rows();
    }

    fn count_alert_rows(&mut self) {
        let n = self
            .alerts
            .records()
            .iter()
            .filter(|r| self.matches_filter(&r.alert.subject) || self.matches_filter(&r.alert.rule))
            .count();
        if let Some(i) = PANES.iter().position(|p| p.id == PaneId::Alerts) {
            self.rows[i] = n;
            self.cursors[i] = self.cursors[i].min(n.saturating_sub(1));
        }
    }

    /// The Alerts pane's own keys.
    fn alerts_action(&mut self, action: Action) -> bool {
        use super::panes::alerts::target_rule;
        let Some(view) = self.alerts.view.clone() else {
            return false;
        };
        match action {
            Action::AlertFocus => {
                self.alerts.rules_focus = !self.alerts.rules_focus;
            }
            Action::Up | Action::Down if self.alerts.rules_focus => {
                let n = view.rules.len();
                let c = self.alerts.rule_cursor;
                self.alerts.rule_cursor = if action == Action::Up {
                    c.saturating_sub(1)
                } else {
                    (c + 1).min(n.saturating_sub(1))
                };
            }
            Action::AlertAck => {
                let cursor = self.cursor(PaneId::Alerts);
                let id = view
                    .records
                    .iter()
                    .filter(|r| {
                        self.matches_filter(&r.alert.subject) || self.matches_filter(&r.alert.rule)
                    })
                    .nth(cursor)
                    .map(|r| r.alert.id);
                match id {
                    Some(id) => self.commands.push(UiCommand::AlertAck(id)),
                    None => self.set_info("no alert selected".into()),
                }
            }
            Action::AlertAckAll => self.commands.push(UiCommand::AlertAckAll),
            Action::AlertMute | Action::AlertDisable if self.replay.is_some() => {
                self.set_info(REPLAY_RULES.into());
            }
            Action::AlertMute | Action::AlertDisable => {
                let Some(rule) = target_rule(self) else {
                    self.set_info("no rule selected (r moves the cursor to the rules)".into());
                    return true;
                };
                let Some(status) = view.rules.iter().find(|r| r.name == rule) else {
                    self.set_info(format!("rule {rule} is no longer in the config"));
                    return true;
                };
                self.commands.push(if action == Action::AlertMute {
                    UiCommand::AlertMute {
                        rule,
                        muted: !status.muted,
                    }
                } else {
                    UiCommand::AlertEnable {
                        rule,
                        enabled: !status.enabled,
                    }
                });
            }
            _ => return false,
        }
        true
    }

    /// `A` in the Overview, Arbitrage and Liquidations panes: a rule for
    /// the row under the cursor (a price move, the pair, the instrument's
    /// liquidations).
    fn create_alert(&mut self, pane: PaneId) -> bool {
        use crate::alerts::rule::NewAlert;
        if self.replay.is_some() {
            self.set_info(REPLAY_RULES.into());
            return true;
        }
        let Some(snap) = self.frozen.clone() else {
            return false;
        };
        let new = match pane {
            PaneId::Overview => self
                .filtered_instruments()
                .get(self.cursor(PaneId::Overview))
                .map(|(instrument, _)| NewAlert::price_move(*instrument)),
            PaneId::Arbitrage => {
                let open = arbitrage::open_rows(&snap, self);
                let cursor = self.cursor(PaneId::Arbitrage);
                let arb = |key, buy, sell, bps: rust_decimal::Decimal| NewAlert::Arbitrage {
                    key,
                    buy,
                    sell,
                    min_net_bps: bps.round_dp(1).max(rust_decimal::Decimal::ZERO),
                    min_profit: rust_decimal::Decimal::ZERO,
                };
                match open.get(cursor) {
                    Some(a) => Some(arb(
                        a.key,
                        a.buy_venue,
                        a.sell_venue,
                        a.net_bps.min(a.peak_net_bps),
                    )),
                    // A closed one (live or stored): its pair, at its peak.
                    None => arbitrage::closed_rows(&snap, self)
                        .get(cursor - open.len())
                        .map(|c| arb(c.key, c.buy_venue, c.sell_venue, c.peak_net_bps)),
                }
            }
            PaneId::Liquidations => {
                let min = liquidations::min_notional(&snap, self);
                liquidations::tape_rows(&snap, self)
                    .get(self.cursor(PaneId::Liquidations))
                    .map(|r| NewAlert::Liquidation {
                        instrument: r.instrument,
                        min_notional_usd: min.max(r.notional_usd.min(100_000.0)).round(),
                    })
            }
            _ => None,
        };
        match new {
            Some(n) => self.commands.push(UiCommand::AlertCreate(n)),
            None => self.set_info("nothing selected to alert on".into()),
        }
        true
    }

    pub fn take_commands(&mut self) -> Vec<UiCommand> {
        std::mem::take(&mut self.commands)
    }

    /// The snapshot to show: the frozen one while paused.
    pub fn displayed(&self, latest: &Arc<Snapshot>) -> Arc<Snapshot> {
        match (&self.frozen, self.paused) {
            (Some(f), true) => f.clone(),
            _ => latest.clone(),
        }
    }

    /// Learns what the latest snapshot holds (instrument list, row counts,
    /// thresholds). Called for every new snapshot, paused or not; while paused
    /// the frozen snapshot's shape is kept.
    pub fn observe(&mut self, latest: &Arc<Snapshot>) {
        if self.paused {
            if self.frozen.is_none() {
                self.frozen = Some(latest.clone());
            }
            return;
        }
        self.frozen = Some(latest.clone());
        let snap: &Snapshot = latest;
        self.instruments = snap
            .instruments
            .iter()
            .map(|v| (v.instrument, v.label.clone()))
            .collect();
        if self
            .selected
            .is_none_or(|s| !self.instruments.iter().any(|(i, _)| *i == s))
        {
            self.selected = self.instruments.first().map(|(i, _)| *i);
        }
        self.book_venues = self
            .selected
            .and_then(|s| snap.instruments.iter().find(|v| v.instrument == s))
            .map(|v| v.venues.iter().map(|b| b.venue).collect())
            .unwrap_or_default();
        if let BookMode::Venue(v) = self.book_mode
            && !self.book_venues.contains(&v)
        {
            self.book_mode = BookMode::Aggregated;
        }
        self.heatmap.keep_venue(&self.book_venues);
        let counts = PANES
            .iter()
            .map(|p| match p.id {
                PaneId::Overview => self.filtered_instruments().len(),
                PaneId::Arbitrage => arbitrage::row_count(snap, self),
                PaneId::Liquidations => liquidations::tape_rows(snap, self).len(),
                PaneId::Trades => snap.trades.large.len(),
                PaneId::Health => snap.health.len(),
                PaneId::Watchlist => self.watch.row_count(snap),
                PaneId::Derivatives => {
                    super::panes::derivatives::shown_rows(&snap.derivatives, self).len()
                }
                PaneId::Alerts => 0,
                PaneId::Book | PaneId::Logs | PaneId::Chart | PaneId::Heatmap => 0,
            })
            .collect();
        self.rows = counts;
        self.count_alert_rows();
        for pane in [HistoryPane::Arbitrage, HistoryPane::Liquidations] {
            if let Some(req) = self.history.fill(pane, live_oldest(snap, pane)) {
                self.commands.push(UiCommand::LoadHistory(req));
            }
        }
    }

    /// A page of stored history came back from the app layer.
    pub fn history_page(&mut self, page: PageResult) {
        let snap = self.frozen.clone().unwrap_or_default();
        self.history
            .receive(page, &snap.arb_history, &snap.liquidations.tape);
        self.count_paged_rows();
    }

    /// Rows of the two panes that page into history (live and stored, as
    /// filtered), for the cursor bounds.
    fn count_paged_rows(&mut self) {
        let snap = self.frozen.clone().unwrap_or_default();
        for (pane, n) in [
            (PaneId::Arbitrage, arbitrage::row_count(&snap, self)),
            (
                PaneId::Liquidations,
                liquidations::tape_rows(&snap, self).len(),
            ),
        ] {
            if let Some(i) = PANES.iter().position(|p| p.id == pane) {
                self.rows[i] = n;
                self.cursors[i] = self.cursors[i].min(n.saturating_sub(1));
            }
        }
    }

    /// Past the last row of a pane that pages: ask for the next older page.
    fn page_back(&mut self, pane: PaneId) {
        let which = match pane {
            PaneId::Arbitrage => HistoryPane::Arbitrage,
            PaneId::Liquidations => HistoryPane::Liquidations,
            _ => return,
        };
        let snap = self.frozen.clone().unwrap_or_default();
        if let Some(req) = self
            .history
            .older(which, live_oldest(&snap, which), snap.now)
        {
            self.commands.push(UiCommand::LoadHistory(req));
        }
    }

    /// Back to the newest rows; stored pages are dropped.
    fn back_to_live(&mut self, pane: HistoryPane) {
        self.history.reset(pane);
        let id = match pane {
            HistoryPane::Arbitrage => PaneId::Arbitrage,
            HistoryPane::Liquidations => PaneId::Liquidations,
        };
        if let Some(i) = PANES.iter().position(|p| p.id == id) {
            self.cursors[i] = 0;
        }
        self.count_paged_rows();
    }

    /// Instruments passing the `/` filter, as (key, label).
    pub fn filtered_instruments(&self) -> Vec<(Instrument, String)> {
        self.instruments
            .iter()
            .filter(|(i, label)| self.matches_filter(&i.to_string()) || self.matches_filter(label))
            .cloned()
            .collect()
    }

    /// Case-insensitive substring match against the filter line.
    pub fn matches_filter(&self, text: &str) -> bool {
        self.filter.is_empty() || text.to_lowercase().contains(&self.filter.to_lowercase())
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        if self.filter_editing && self.filter_input(&key) {
            self.after_filter_change();
            return Outcome::Consumed;
        }
        let mut said = None;
        if self.pane_id() == PaneId::Watchlist
            && self.watch.is_modal()
            && self.watch.modal_key(&key, &mut self.commands, &mut said)
        {
            self.say(said);
            return Outcome::Consumed;
        }
        if self.help {
            let action = self.keymap.lookup(&key, Context::Global);
            if action == Some(Action::Quit) && key.modifiers.contains(KeyModifiers::CONTROL) {
                return Outcome::Quit;
            }
            // The overlay is modal: any key closes it.
            self.help = false;
            return Outcome::Consumed;
        }
        // While an error is shown, its dismiss key reads it (before any
        // pane sees the key: Esc also means "follow" in Logs).
        if self.messages.has_error()
            && self.keymap.lookup(&key, Context::Global) == Some(Action::Dismiss)
        {
            self.messages.dismiss();
            return Outcome::Consumed;
        }
        let pane = self.pane_id();
        let pane_action = self.keymap.lookup(&key, Context::Pane(pane));
        if let Some(action) = pane_action
            && self.pane_handle(pane, action)
        {
            return Outcome::Consumed;
        }
        match self.keymap.lookup(&key, Context::Global) {
            Some(Action::Quit) => Outcome::Quit,
            Some(action) if pane_action.is_none() && self.pane_handle(pane, action) => {
                Outcome::Consumed
            }
            Some(action) => {
                if self.global_handle(action) {
                    Outcome::Consumed
                } else {
                    Outcome::NotConsumed
                }
            }
            None => Outcome::NotConsumed,
        }
    }

    /// Typing into the filter line. Returns false for keys it leaves alone
    /// (Ctrl-C, Tab, arrows) so they still work while typing.
    fn filter_input(&mut self, key: &KeyEvent) -> bool {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return false;
        }
        match key.code {
            KeyCode::Esc => {
                self.filter.clear();
                self.filter_editing = false;
            }
            KeyCode::Enter => self.filter_editing = false,
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char(c) => self.filter.push(c),
            _ => return false,
        }
        true
    }

    fn after_filter_change(&mut self) {
        self.count_alert_rows();
        self.count_paged_rows();
        let n = self.filtered_instruments().len();
        if let Some(i) = PANES.iter().position(|p| p.id == PaneId::Overview) {
            self.rows[i] = n;
            self.cursors[i] = self.cursors[i].min(n.saturating_sub(1));
        }
    }

    /// The active pane's own handling; true when it consumed the action.
    fn pane_handle(&mut self, pane: PaneId, action: Action) -> bool {
        match (pane, action) {
            (PaneId::Overview, Action::Select) => {
                let rows = self.filtered_instruments();
                if let Some((key, _)) = rows.get(self.cursor(PaneId::Overview)) {
                    self.select_instrument(*key);
                    self.set_info(format!(
                        "selected {}",
                        rows[self.cursor(PaneId::Overview)].1
                    ));
                }
                true
            }
            (PaneId::Book, Action::Down) => self.step_instrument(1),
            (PaneId::Book, Action::Up) => self.step_instrument(-1),
            (PaneId::Book, Action::CycleBookVenue) => {
                self.book_mode = match self.book_mode {
                    BookMode::Aggregated => self
                        .book_venues
                        .first()
                        .map_or(BookMode::Aggregated, |v| BookMode::Venue(*v)),
                    BookMode::Venue(cur) => {
                        let next = self
                            .book_venues
                            .iter()
                            .position(|v| *v == cur)
                            .and_then(|i| self.book_venues.get(i + 1));
                        next.map_or(BookMode::Aggregated, |v| BookMode::Venue(*v))
                    }
                };
                true
            }
            (PaneId::Liquidations, Action::RaiseThreshold | Action::LowerThreshold) => {
                // The user's last choice, else what the engine applies now
                // (never latched from the empty snapshot shown before the
                // engine's first one).
                let now = self.liq_min_notional.unwrap_or_else(|| {
                    self.frozen
                        .as_ref()
                        .map_or(0.0, |s| s.liquidations.min_notional_usd)
                });
                let next = step_threshold(now, action == Action::RaiseThreshold);
                self.liq_min_notional = Some(next);
                self.commands.push(UiCommand::SetLiqMinNotional(next));
                self.count_paged_rows();
                true
            }
            (PaneId::Trades, Action::RaiseThreshold | Action::LowerThreshold) => {
                let now = self.large_trade_usd.unwrap_or_else(|| {
                    self.frozen.as_ref().map_or(0.0, |s| s.trades.threshold_usd)
                });
                let next = step_threshold(now, action == Action::RaiseThreshold);
                self.large_trade_usd = Some(next);
                self.commands.push(UiCommand::SetLargeTradeUsd(next));
                true
            }
            (PaneId::Watchlist, action) => {
                let row = self.cursor(PaneId::Watchlist);
                let mut said = None;
                let done = self
                    .watch
                    .action(action, row, &mut self.commands, &mut said);
                self.say(said);
                done
            }
            (PaneId::Alerts, action) => self.alerts_action(action),
            (PaneId::Heatmap, action) => self.heatmap.action(action, &self.book_venues),
            (PaneId::Chart, Action::Down) => self.step_instrument(1),
            (PaneId::Chart, Action::Up) => self.step_instrument(-1),
            (PaneId::Chart, action) => {
                let snap = self.frozen.clone();
                self.chart.action(action, snap.as_deref(), self.selected)
            }
            (PaneId::Overview | PaneId::Arbitrage | PaneId::Liquidations, Action::AlertCreate) => {
                self.create_alert(pane)
            }
            (PaneId::Arbitrage, Action::Top) => {
                self.back_to_live(HistoryPane::Arbitrage);
                true
            }
            (PaneId::Liquidations, Action::Top) => {
                self.back_to_live(HistoryPane::Liquidations);
                true
            }
            (PaneId::Logs, _) => match log_event(action) {
                Some(ev) => {
                    self.log_state.transition(ev);
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    fn global_handle(&mut self, action: Action) -> bool {
        let pane = self.pane;
        let n = PANES.len();
        match action {
            Action::Quit => {}
            Action::Help => self.help = !self.help,
            Action::Pause => {
                self.paused = !self.paused;
                self.set_info(if self.paused {
                    "display paused: feeds keep running (p resumes)".to_string()
                } else {
                    "display resumed".to_string()
                });
            }
            Action::NextPane => self.pane = (pane + 1) % n,
            Action::PrevPane => self.pane = (pane + n - 1) % n,
            Action::GoToPane(i) if i < n => self.pane = i,
            Action::GoToPane(_) => return false,
            Action::Up => self.move_cursor(-1),
            Action::Down => self.move_cursor(1),
            Action::PageUp => self.move_cursor(-10),
            Action::PageDown => self.move_cursor(10),
            Action::Top => self.move_cursor(i64::MIN / 2),
            Action::Bottom => self.move_cursor(i64::MAX / 2),
            Action::Filter => self.filter_editing = true,
            Action::CycleTheme => {
                self.theme_index = (self.theme_index + 1) % self.themes.len();
                self.set_info(format!("theme: {}", self.theme().name));
            }
            Action::NextInstrument => return self.step_instrument(1),
            Action::PrevInstrument => return self.step_instrument(-1),
            Action::ReplayTogglePause => match &self.replay {
                Some(r) => self.commands.push(UiCommand::ReplayPause(!r.paused)),
                None => return false,
            },
            Action::ReplayFaster | Action::ReplaySlower => {
                if self.replay.is_none() {
                    return false;
                }
                self.commands
                    .push(UiCommand::ReplaySpeed(if action == Action::ReplayFaster {
                        SpeedChange::Faster
                    } else {
                        SpeedChange::Slower
                    }));
            }
            // Pane-only actions reaching here were not for the active pane.
            _ => return false,
        }
        true
    }

    fn move_cursor(&mut self, delta: i64) {
        let pane = self.pane;
        let max = self.rows.get(pane).copied().unwrap_or(0).saturating_sub(1) as i64;
        let mut past_end = false;
        if let Some(c) = self.cursors.get_mut(pane) {
            // Moving down from the last row (End first stops on it).
            past_end = delta > 0 && *c as i64 >= max;
            *c = (*c as i64).saturating_add(delta).clamp(0, max) as usize;
        }
        if past_end {
            self.page_back(self.pane_id());
        }
    }

    fn select_instrument(&mut self, key: Instrument) {
        if self.selected != Some(key) {
            self.selected = Some(key);
            self.book_mode = BookMode::Aggregated;
            self.heatmap.venue = None;
            self.chart.reset_view();
            if let Some(f) = self.frozen.clone() {
                self.book_venues = f
                    .instruments
                    .iter()
                    .find(|v| v.instrument == key)
                    .map(|v| v.venues.iter().map(|b| b.venue).collect())
                    .unwrap_or_default();
            }
        }
    }

    fn step_instrument(&mut self, delta: i64) -> bool {
        let rows = self.filtered_instruments();
        if rows.is_empty() {
            return false;
        }
        let cur = self
            .selected
            .and_then(|s| rows.iter().position(|(i, _)| *i == s))
            .unwrap_or(0) as i64;
        let next = (cur + delta).rem_euclid(rows.len() as i64) as usize;
        if let Some((key, _)) = rows.get(next) {
            self.select_instrument(*key);
        }
        true
    }
}

/// The oldest row of a pane's live list (the newest instant stored pages
/// may hold).
fn live_oldest(snap: &Snapshot, pane: HistoryPane) -> Option<crate::model::Micros> {
    match pane {
        HistoryPane::Arbitrage => snap.arb_history.iter().map(|c| c.closed).min(),
        HistoryPane::Liquidations => snap.liquidations.tape.iter().map(|r| r.time).min(),
    }
}

fn step_threshold(now: f64, up: bool) -> f64 {
    if up {
        THRESHOLDS
            .iter()
            .copied()
            .find(|t| *t > now + 0.5)
            .unwrap_or(now)
    } else {
        THRESHOLDS
            .iter()
            .rev()
            .copied()
            .find(|t| *t < now - 0.5)
            .unwrap_or(0.0)
    }
}

fn log_event(action: Action) -> Option<TuiWidgetEvent> {
    Some(match action {
        Action::LogToggleTargets => TuiWidgetEvent::HideKey,
        Action::LogFocusTarget => TuiWidgetEvent::FocusKey,
        Action::Up => TuiWidgetEvent::UpKey,
        Action::Down => TuiWidgetEvent::DownKey,
        Action::LogShowLess => TuiWidgetEvent::LeftKey,
        Action::LogShowMore => TuiWidgetEvent::RightKey,
        Action::LogCaptureLess => TuiWidgetEvent::MinusKey,
        Action::LogCaptureMore => TuiWidgetEvent::PlusKey,
        Action::LogPageUp => TuiWidgetEvent::PrevPageKey,
        Action::LogPageDown => TuiWidgetEvent::NextPageKey,
        Action::LogFollow => TuiWidgetEvent::EscapeKey,
        Action::LogHideOff => TuiWidgetEvent::SpaceKey,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_step_along_the_ladder() {
        assert_eq!(step_threshold(0.0, true), 1_000.0);
        assert_eq!(step_threshold(100_000.0, true), 250_000.0);
        assert_eq!(step_threshold(100_000.0, false), 50_000.0);
        assert_eq!(step_threshold(0.0, false), 0.0);
        assert_eq!(step_threshold(30_000.0, false), 25_000.0);
        assert_eq!(step_threshold(1e12, true), 1e12);
    }
}
