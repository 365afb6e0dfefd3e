//! The pictures in `assets/`: every pane, drawn by the real renderer from
//! the engine state a replay of the demo capture (`assets/demo.jsonl.zst`,
//! recorded from the simulator) ends in, written as SVG with the theme's
//! colours. `cargo run --example assets` writes them; a test draws them again
//! and compares, so the README never shows a screen the app no longer draws.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::app::TimeZone;
use super::panes::{PANES, PaneId};
use super::svg::{Canvas, to_svg};
use super::{App, Keymap, Theme, WatchRow, WatchlistInfo, draw};
use crate::alerts::AlertsView;
use crate::alerts::rule::Rule;
use crate::app::replay_alerts::ReplayAlerts;
use crate::engine::{Engine, EngineConfig, EngineInput, Snapshot};
use crate::replay::Replayer;

/// Terminal size of the pictures: wide enough for every pane's full layout,
/// small enough to read on a README page.
pub const SIZE: (u16, u16) = (132, 40);

/// Where the demo capture lives in the repository.
pub const DEMO_CAPTURE: &str = "assets/demo.jsonl.zst";

/// One picture: its file name under `assets/` and its SVG text.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    pub file: String,
    pub title: String,
    pub svg: String,
}

/// The engine's snapshot at the end of a max-speed replay of `capture`.
pub fn replayed_snapshot(capture: &Path, cfg: EngineConfig) -> Result<Snapshot> {
    Ok(replayed(capture, cfg, &[])?.0)
}

/// The same, with what `rules` fired on the way (`None` without rules).
pub fn replayed(
    capture: &Path,
    cfg: EngineConfig,
    rules: &[Rule],
) -> Result<(Snapshot, Option<AlertsView>)> {
    let mut replayer = Replayer::open(&[capture.to_path_buf()], false)
        .with_context(|| format!("opening {}", capture.display()))?;
    let mut engine = Engine::new(cfg);
    let mut alerts = ReplayAlerts::attach(&mut engine, rules, None)?;
    while let Some((ts, inputs)) = replayer.next_inputs()? {
        for input in inputs {
            engine.handle(input);
        }
        if let Some(a) = alerts.as_mut() {
            a.step(&mut engine, ts, false);
        }
    }
    let now = engine.now();
    engine.handle(EngineInput::Tick { now });
    if let Some(a) = alerts.as_mut() {
        a.step(&mut engine, now, true);
    }
    Ok((engine.snapshot(), alerts.map(|a| a.view().clone())))
}

/// Every pane of `snap` but Logs as a picture (dark theme, times in UTC),
/// the Alerts pane showing `alerts`.
pub fn pictures(snap: Snapshot, alerts: Option<AlertsView>) -> Vec<Picture> {
    let (themes, _) = Theme::load_all(None);
    let mut app = App::new(Keymap::default(), themes, "dark");
    app.time_zone = TimeZone::Utc;
    app.set_watchlist(watchlist_of(&snap));
    if let Some(view) = alerts {
        app.set_alerts(Arc::new(view));
    }
    let snap = Arc::new(snap);
    app.observe(&snap);
    // The Logs pane shows the process's own log, stamped with the wall
    // clock: a replay here logs nothing, and a picture of it could not be
    // checked against a fresh render.
    PANES
        .iter()
        .filter(|pane| pane.id != PaneId::Logs)
        .map(|pane| {
            app.go_to(pane.id);
            let title = format!("depthwatch: the {} pane", pane.title);
            Picture {
                file: format!("{}.svg", file_stem(pane.id, pane.title)),
                svg: render(&app, &snap, &title),
                title,
            }
        })
        .collect()
}

/// The pictures of the demo capture, as the example and the test make them
/// (the Alerts pane with what `--demo`'s rules fired during it).
pub fn demo_pictures(repo: &Path) -> Result<Vec<Picture>> {
    let capture = repo.join(DEMO_CAPTURE);
    let rules = crate::app::alerts::demo_rules();
    let (snap, alerts) = replayed(&capture, demo_engine_config(&capture)?, &rules)?;
    Ok(pictures(snap, alerts))
}

/// The built-in config watching what the capture recorded (its headers'
/// `l2_book` lists), as `--demo` watches what the simulator serves.
pub fn demo_engine_config(capture: &Path) -> Result<EngineConfig> {
    let mut config = crate::config::Config::default();
    let mut entries: Vec<crate::config::WatchEntry> = Vec::new();
    let mut venues = Vec::new();
    for reader in crate::capture::CaptureReader::open_all(capture)? {
        let header = reader.header();
        let Some(venue) = crate::venues::registry::venue_for_capture(&header.exchange) else {
            continue;
        };
        venues.push(venue);
        for name in header.config.get("l2_book").into_iter().flatten() {
            let Ok(instrument) = name.parse::<crate::model::Instrument>() else {
                continue;
            };
            match entries.iter_mut().find(|e| e.instrument == instrument) {
                Some(e) => e.venues.get_or_insert_with(Vec::new).push(venue),
                None => entries.push(crate::config::WatchEntry {
                    instrument,
                    venues: Some(vec![venue]),
                }),
            }
        }
    }
    config.watchlist.entries = entries;
    config.watchlist.venues = venues;
    Ok(config.engine_config())
}

/// Where each picture goes.
pub fn path_of(repo: &Path, picture: &Picture) -> PathBuf {
    repo.join("assets").join(&picture.file)
}

fn render(app: &App, snap: &Snapshot, title: &str) -> String {
    let (w, h) = SIZE;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| match e {});
    // TestBackend's draw cannot fail.
    let _ = terminal.draw(|f| draw(f, snap, app));
    to_svg(terminal.backend().buffer(), Canvas::DARK, title)
}

/// The watchlist the demo shows: every instrument of the snapshot with the
/// venues that quote it.
fn watchlist_of(snap: &Snapshot) -> WatchlistInfo {
    WatchlistInfo {
        rows: snap
            .instruments
            .iter()
            .map(|v| WatchRow {
                instrument: v.instrument,
                venues: v.venues.iter().map(|b| b.venue).collect(),
            })
            .collect(),
        venues: crate::sim::venues(),
        config_path: Some(PathBuf::from("~/.config/depthwatch/config.toml")),
        read_only: None,
    }
}

fn file_stem(id: PaneId, title: &str) -> String {
    let n = PANES.iter().position(|p| p.id == id).map_or(0, |i| i + 1);
    format!("{n}-{}", title.to_ascii_lowercase().replace(' ', "-"))
}
