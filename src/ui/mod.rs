//! The terminal UI: renders the engine's [`Snapshot`] and turns keys into
//! view changes or [`UiCommand`]s. It never touches the network.
//!
//! Pieces: [`app::App`] (view state and key handling), [`keymap`] (the one key
//! table, also the help text), [`theme`] (semantic colours), [`panes`] (one
//! render function per pane), [`chrome`] (tabs, status bar, help overlay) and
//! [`run`] (the terminal loop).

pub mod app;
pub mod assets;
pub mod chrome;
pub mod editor;
#[cfg(any(test, feature = "testkit"))]
pub mod fixtures;
pub mod format;
pub mod history;
pub mod keymap;
pub mod messages;
pub mod panes;
pub mod reach;
pub mod svg;
pub mod table;
pub mod tabs;
pub mod terminal;
pub mod theme;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::{FutureExt, StreamExt};
use ratatui::Frame;
use tokio::sync::{mpsc, watch};

use crate::config::Catalog;
use crate::engine::Snapshot;
use crate::model::{Instrument, Micros, Venue};

pub use app::{App, Outcome};
pub use keymap::Keymap;
pub use panes::watchlist::{WatchRow, WatchlistInfo};
pub use theme::Theme;

/// Where a replay stands, published by the replay driver.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayStatus {
    pub position: Micros,
    pub start: Micros,
    pub end: Option<Micros>,
    /// As the user gave it: `"1x"`, `"10x"`, `"max"`.
    pub speed: String,
    pub paused: bool,
}

/// Speed steps for [`UiCommand::ReplaySpeed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpeedChange {
    Faster,
    Slower,
}

/// What the UI asks the rest of the program to do.
#[derive(Clone, Debug, PartialEq)]
pub enum UiCommand {
    Quit,
    /// Liquidations below this USD notional leave the tape.
    SetLiqMinNotional(f64),
    /// Trades at or above this USD notional count as large.
    SetLargeTradeUsd(f64),
    /// Replay only: pause (true) or resume (false).
    ReplayPause(bool),
    /// Replay only: step the playback speed.
    ReplaySpeed(SpeedChange),
    /// Watchlist pane: add to the config file's watchlist.
    AddInstrument(Instrument),
    /// Watchlist pane: remove from the watchlist (and its venue override).
    RemoveInstrument(Instrument),
    /// Watchlist pane: turn one venue on or off for an instrument.
    ToggleVenue(Instrument, Venue),
    /// The config file was just edited in `$EDITOR` (the UI ran it): look
    /// at it now rather than at the next poll.
    EditConfig,
    /// Alerts pane: acknowledge one alert (by id), or all.
    AlertAck(u64),
    AlertAckAll,
    /// Alerts pane: mute / unmute a rule (saved to the config).
    AlertMute {
        rule: String,
        muted: bool,
    },
    /// Alerts pane: disable / enable a rule (saved to the config).
    AlertEnable {
        rule: String,
        enabled: bool,
    },
    /// Arbitrage / Liquidations panes: a new rule for the selected row.
    AlertCreate(crate::alerts::rule::NewAlert),
    /// Arbitrage / Liquidations panes: read a page of stored history (the
    /// answer comes back through [`UiContext::history`]).
    LoadHistory(history::PageRequest),
}

/// Everything [`run`] needs besides the channels.
#[derive(Debug)]
pub struct UiContext {
    /// Show the DEMO marker (simulated venues).
    pub demo: bool,
    /// Present when replaying captures.
    pub replay: Option<watch::Receiver<ReplayStatus>>,
    /// Upper bound on redraws per second.
    pub fps: u32,
    /// Initial theme name (`dark`, `light`, `high-contrast`, `colorblind`).
    pub theme_name: String,
    /// Action name → key(s), see [`Keymap::with_overrides`].
    pub keymap_overrides: BTreeMap<String, String>,
    /// The config file in use; user theme patches live in `themes/` beside it.
    pub config_path: Option<PathBuf>,
    /// Live sessions: the running watchlist, for the Watchlist pane (`None`
    /// in a replay, which has nothing to edit).
    pub watchlist: Option<watch::Receiver<WatchlistInfo>>,
    /// Instrument lists for completion when adding to the watchlist.
    pub catalog: Option<watch::Receiver<Arc<Catalog>>>,
    /// Messages from the app for the status line (config reloads, edits).
    pub status: Option<watch::Receiver<Option<String>>>,
    /// Live sessions: the alerts task's view (history, rules, destinations).
    pub alerts: Option<watch::Receiver<Arc<crate::alerts::AlertsView>>>,
    /// Stored history for the Arbitrage and Liquidations panes.
    pub history: history::HistoryLink,
}

impl Default for UiContext {
    fn default() -> Self {
        UiContext {
            demo: false,
            replay: None,
            fps: 30,
            theme_name: "dark".to_string(),
            keymap_overrides: BTreeMap::new(),
            config_path: None,
            watchlist: None,
            catalog: None,
            status: None,
            alerts: None,
            history: history::HistoryLink::default(),
        }
    }
}

/// Draws one whole screen: tabs, the active pane, status and hint lines, and
/// the help overlay when open.
pub fn draw(frame: &mut Frame, snap: &Snapshot, app: &App) {
    let theme = app.theme();
    chrome::draw(frame, snap, app, theme);
}

/// Hands a command to the app layer without waiting. A command the full
/// channel cannot take is logged; a history page asked for is answered at
/// once with why, so the pane does not wait for it forever.
fn send_command(commands: &mpsc::Sender<UiCommand>, cmd: UiCommand, app: &mut App) {
    match commands.try_send(cmd) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(UiCommand::LoadHistory(req))) => {
            app.history_page(req.failed("the app was busy"));
        }
        Err(e) => tracing::warn!("UI command not delivered: {e}"),
    }
}

/// Runs the terminal UI until the user quits. Keys are drained in batches and
/// the screen is drawn at most once per wake, at most `ctx.fps` times a second,
/// and only when the snapshot, the view state or the clock second changed.
pub async fn run(
    ctx: UiContext,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    commands: mpsc::Sender<UiCommand>,
) -> anyhow::Result<()> {
    let keymap = Keymap::with_overrides(&ctx.keymap_overrides).map_err(anyhow::Error::msg)?;
    let user_dir = ctx
        .config_path
        .as_ref()
        .and_then(|p| p.parent().map(|d| d.join("themes")))
        .or_else(Theme::user_dir);
    let (themes, theme_errors) = Theme::load_all(user_dir.as_deref());
    let mut app = App::new(keymap, themes, &ctx.theme_name);
    app.demo = ctx.demo;
    if let Some(err) = theme_errors.first() {
        tracing::warn!("{err}");
        app.set_error(err.clone());
    }
    let mut replay = ctx.replay;
    app.replay = replay.as_ref().map(|r| r.borrow().clone());
    let mut watchlist = ctx.watchlist;
    if let Some(w) = &mut watchlist {
        app.set_watchlist(w.borrow_and_update().clone());
    }
    let mut catalog = ctx.catalog;
    if let Some(c) = &mut catalog {
        app.watch.catalog = c.borrow_and_update().clone();
    }
    let mut status = ctx.status;
    let mut alerts = ctx.alerts;
    if let Some(a) = &mut alerts {
        app.set_alerts(a.borrow_and_update().clone());
    }
    let config_path = ctx.config_path;
    let mut pages = match ctx.history {
        history::HistoryLink::Reader(rx) => {
            app.history.available();
            Some(rx)
        }
        history::HistoryLink::Off(why) => {
            app.history.off = Some(why);
            None
        }
    };

    let mut term = terminal::TerminalGuard::enter()?;
    let mut events = EventStream::new();
    let frame_gap = Duration::from_secs_f64(1.0 / f64::from(ctx.fps.clamp(1, 240)));
    let mut latest: Arc<Snapshot> = snapshots.borrow_and_update().clone();
    app.observe(&latest);
    let mut engine_alive = true;
    let mut dirty = true;
    let started = tokio::time::Instant::now();
    let mut last_draw = started.checked_sub(frame_gap).unwrap_or(started);
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        if dirty {
            let now = tokio::time::Instant::now();
            if now >= last_draw + frame_gap {
                let shown = app.displayed(&latest);
                term.terminal().draw(|f| draw(f, &shown, &app))?;
                if std::mem::take(&mut app.alerts.bell_due) {
                    terminal::bell();
                }
                last_draw = now;
                dirty = false;
            }
        }
        tokio::select! {
            ev = events.next() => {
                let Some(ev) = ev else { break };
                let mut batch = vec![ev?];
                // Drain everything already queued, then draw once.
                while let Some(Some(more)) = events.next().now_or_never() {
                    batch.push(more?);
                }
                let mut quit = false;
                for ev in batch {
                    match ev {
                        Event::Key(key) if key.kind != KeyEventKind::Release => {
                            match app.handle_key(key) {
                                Outcome::Quit => quit = true,
                                Outcome::Consumed => dirty = true,
                                Outcome::NotConsumed => {}
                            }
                        }
                        Event::Resize(..) => dirty = true,
                        _ => {}
                    }
                }
                for cmd in app.take_commands() {
                    if cmd == UiCommand::EditConfig {
                        let Some(path) = &config_path else {
                            app.set_error("no config file location on this system".into());
                            continue;
                        };
                        // The editor owns the terminal (and its keys) until it exits.
                        drop(events);
                        let result = editor::edit_config(&mut term, path).await;
                        events = EventStream::new();
                        dirty = true;
                        match result {
                            Ok(program) => app.set_info(format!("back from {program}: reloading the config")),
                            Err(e) => {
                                tracing::error!("{e}");
                                app.set_error(e);
                                continue;
                            }
                        }
                    }
                    send_command(&commands, cmd, &mut app);
                }
                if quit {
                    let _ = commands.send(UiCommand::Quit).await;
                    break;
                }
            }
            changed = snapshots.changed(), if engine_alive => {
                if changed.is_err() {
                    engine_alive = false;
                    app.set_error("engine stopped: the display is frozen (see the Logs pane)".into());
                    dirty = true;
                } else {
                    let snap = snapshots.borrow_and_update().clone();
                    if snap.version != latest.version {
                        latest = snap;
                        app.observe(&latest);
                        dirty |= !app.paused;
                        // Stored rows the live lists no longer hold.
                        for cmd in app.take_commands() {
                            send_command(&commands, cmd, &mut app);
                        }
                    }
                }
            }
            changed = async {
                match replay.as_mut() {
                    Some(r) => r.changed().await,
                    None => std::future::pending().await,
                }
            } => {
                match (changed, replay.as_mut()) {
                    (Ok(()), Some(r)) => app.replay = Some(r.borrow_and_update().clone()),
                    _ => replay = None,
                }
                dirty = true;
            }
            ok = changed(&mut watchlist) => {
                match (ok, watchlist.as_mut()) {
                    (true, Some(w)) => app.set_watchlist(w.borrow_and_update().clone()),
                    _ => watchlist = None,
                }
                dirty = true;
            }
            ok = changed(&mut catalog) => {
                match (ok, catalog.as_mut()) {
                    (true, Some(c)) => app.watch.catalog = c.borrow_and_update().clone(),
                    _ => catalog = None,
                }
            }
            ok = changed(&mut status) => {
                match (ok, status.as_mut()) {
                    (true, Some(s)) => {
                        if let Some(msg) = s.borrow_and_update().clone() {
                            app.set_status(msg);
                        }
                    }
                    _ => status = None,
                }
                dirty = true;
            }
            ok = changed(&mut alerts) => {
                match (ok, alerts.as_mut()) {
                    (true, Some(a)) => app.set_alerts(a.borrow_and_update().clone()),
                    _ => alerts = None,
                }
                dirty = true;
            }
            page = async {
                match pages.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                match page {
                    Some(page) => app.history_page(page),
                    None => pages = None,
                }
                dirty = true;
            }
            _ = clock.tick() => {
                app.tick();
                dirty = true;
            }
            _ = tokio::time::sleep_until(last_draw + frame_gap), if dirty => {}
        }
    }
    term.restore()?;
    Ok(())
}

/// Waits for a change on an optional watch channel: true on a change, false
/// when the sender is gone; never returns without a channel.
async fn changed<T>(rx: &mut Option<watch::Receiver<T>>) -> bool {
    match rx {
        Some(r) => r.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Kind, Query};

    #[test]
    fn a_page_request_the_full_channel_cannot_take_is_answered_with_why() {
        let (tx, _rx) = mpsc::channel(1);
        tx.try_send(UiCommand::Quit).unwrap();
        let mut app = App::default();
        app.history.liquidations.loading = true;
        let req = history::PageRequest {
            pane: history::HistoryPane::Liquidations,
            generation: 0,
            direction: history::Direction::Older,
            query: Query::new(Kind::Liquidations),
        };
        send_command(&tx, UiCommand::LoadHistory(req), &mut app);
        let note = app.history.liquidations.note(None).unwrap_or_default();
        assert!(note.contains("the app was busy"), "{note}");
        assert!(!app.history.liquidations.loading);
    }
}
