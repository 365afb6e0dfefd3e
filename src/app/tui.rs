//! The TUI over a live session or a replay: UI commands applied to the engine,
//! the feeds, the config file and the replay clock.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::sync::{mpsc, watch};

use super::live::{self, Session};
use super::store::{PageReader, StoredHistory};
use super::watchlist::WatchlistLink;
use crate::alerts::AlertControl;
use crate::cli::{Cli, ReplayArgs};
use crate::config::paths;
use crate::engine::runner::{self, EngineControl, INPUT_CAPACITY};
use crate::engine::{Engine, EngineInput, Snapshot};
use crate::replay::{Replayer, Speed};
use crate::ui::history::HistoryLink;
use crate::ui::{self, ReplayStatus, SpeedChange, UiCommand, UiContext};

fn ui_context(
    cli: &Cli,
    config: &crate::config::Config,
    config_path: Option<PathBuf>,
) -> UiContext {
    UiContext {
        demo: cli.live.demo,
        replay: None,
        fps: u32::from(config.ui.fps),
        theme_name: config.ui.theme.as_str().to_string(),
        keymap_overrides: config.ui.keymap.clone(),
        config_path,
        watchlist: None,
        catalog: None,
        status: None,
        alerts: None,
        history: HistoryLink::default(),
    }
}

/// `depthwatch` and `depthwatch --demo` with the TUI.
pub async fn run_live(cli: &Cli) -> Result<i32> {
    let mut session = live::start(cli).await?;
    let mut ctx = ui_context(cli, &session.config, session.config_path.clone());
    let mut link = WatchlistLink::new(&session, cli.live.demo, &mut ctx);
    ctx.alerts = Some(session.alerts.view.clone());
    let (history_link, pages) = pages_link(&session.stored);
    ctx.history = history_link;
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<UiCommand>(64);
    let ui_task = tokio::spawn(ui::run(ctx, session.snapshots.clone(), cmd_tx));
    let mut snapshots = session.snapshots.clone();
    let mut engine_alive = true;
    let mut poll = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            cmd = cmd_rx.recv() => match cmd {
                None | Some(UiCommand::Quit) => break,
                Some(
                    cmd @ (UiCommand::AddInstrument(_)
                    | UiCommand::RemoveInstrument(_)
                    | UiCommand::ToggleVenue(..)
                    | UiCommand::EditConfig),
                ) => link.command(&mut session, cmd).await,
                Some(UiCommand::AlertAck(id)) => {
                    let _ = session.alerts.control.send(AlertControl::Ack(id)).await;
                }
                Some(UiCommand::AlertAckAll) => {
                    let _ = session.alerts.control.send(AlertControl::AckAll).await;
                }
                Some(cmd @ (UiCommand::AlertMute { .. }
                    | UiCommand::AlertEnable { .. }
                    | UiCommand::AlertCreate(_))) => link.alert_command(&mut session, cmd).await,
                Some(UiCommand::LoadHistory(req)) => {
                    if let Some(p) = &pages {
                        p.ask(req);
                    }
                }
                Some(cmd) => apply_command(&mut session, cmd).await,
            },
            _ = poll.tick() => link.reload(&mut session, false).await,
            changed = snapshots.changed(), if engine_alive => {
                if changed.is_err() {
                    // The engine is gone (the UI says so); keys still work.
                    engine_alive = false;
                    continue;
                }
                let snap = snapshots.borrow_and_update().clone();
                link.observe(&snap);
            }
        }
    }
    let result = ui_task.await;
    session.close().await;
    match result {
        Ok(r) => r.map(|()| 0),
        Err(e) => Err(anyhow::anyhow!("UI task failed: {e}")),
    }
}

async fn apply_command(session: &mut Session, cmd: UiCommand) {
    let mut config = session.config.clone();
    match cmd {
        UiCommand::SetLiqMinNotional(x) => config.liquidations.min_notional_usd = x,
        UiCommand::SetLargeTradeUsd(x) => config.trades.large_trade_usd = x,
        UiCommand::Quit
        | UiCommand::ReplayPause(_)
        | UiCommand::ReplaySpeed(_)
        | UiCommand::AddInstrument(_)
        | UiCommand::RemoveInstrument(_)
        | UiCommand::ToggleVenue(..)
        | UiCommand::EditConfig
        | UiCommand::AlertAck(_)
        | UiCommand::AlertAckAll
        | UiCommand::AlertMute { .. }
        | UiCommand::AlertEnable { .. }
        | UiCommand::AlertCreate(_)
        | UiCommand::LoadHistory(_) => return,
    }
    session.apply(config).await;
}

/// The replay clock shared with the UI.
struct Clock {
    speed: Speed,
    paused: bool,
    /// Capture time shown at `anchor_wall`.
    anchor_ts: i64,
    anchor_wall: Instant,
}

impl Clock {
    fn position(&self) -> i64 {
        match (self.paused, self.speed) {
            (true, _) | (_, Speed::Max) => self.anchor_ts,
            (false, Speed::Factor(f)) => {
                self.anchor_ts + (self.anchor_wall.elapsed().as_secs_f64() * 1e6 * f) as i64
            }
        }
    }

    fn rebase(&mut self) {
        self.anchor_ts = self.position();
        self.anchor_wall = Instant::now();
    }
}

/// What the UI is given for the panes' history, and the reader behind it
/// (`None`: nothing to read, or its thread could not start, said in the
/// pane).
fn pages_link(source: &StoredHistory) -> (HistoryLink, Option<PageReader>) {
    match source {
        StoredHistory::Off(why) => (HistoryLink::Off(why.clone()), None),
        StoredHistory::File(path) => match PageReader::spawn(path.clone()) {
            Ok((reader, results)) => (HistoryLink::Reader(results), Some(reader)),
            Err(e) => {
                tracing::error!("history store: cannot start the page reader: {e}");
                (
                    HistoryLink::Off(format!("cannot start its reader: {e}")),
                    None,
                )
            }
        },
    }
}

/// Why a replay's panes have no stored history to page into.
const REPLAY_NO_STORE: &str = "a replay keeps none without --store PATH";

const SPEEDS: [f64; 9] = [0.25, 0.5, 1.0, 2.0, 4.0, 10.0, 30.0, 100.0, 1000.0];

fn step_speed(speed: Speed, change: SpeedChange) -> Speed {
    let current = match speed {
        Speed::Max => f64::INFINITY,
        Speed::Factor(f) => f,
    };
    match change {
        SpeedChange::Faster => SPEEDS
            .iter()
            .copied()
            .find(|s| *s > current)
            .map_or(Speed::Max, Speed::Factor),
        SpeedChange::Slower => Speed::Factor(
            SPEEDS
                .iter()
                .rev()
                .copied()
                .find(|s| *s < current)
                .unwrap_or(SPEEDS[0]),
        ),
    }
}

/// `depthwatch replay FILE...` in the TUI: a paced feeder, the engine task
/// and the UI; `space` pauses, `[`/`]` change speed (see the help overlay).
pub async fn run_replay(
    cli: &Cli,
    args: &ReplayArgs,
    config: crate::config::Config,
    source: paths::Source,
) -> Result<i32> {
    let cfg = config.engine_config();
    let config_path = match source {
        paths::Source::File(p) => Some(p),
        paths::Source::Defaults(p) => p,
    };
    let mut replayer = Replayer::open(&args.files, args.align_start)?;
    let start_ts = replayer.start();
    let (in_tx, in_rx) = mpsc::channel::<EngineInput>(INPUT_CAPACITY);
    let (snap_tx, snapshots) = watch::channel(Arc::new(Snapshot::default()));
    // Kept until the replay ends (dropping it stops the endpoint).
    let _metrics = live::start_metrics(cli, &snapshots).await?;
    let (control, control_rx) = mpsc::channel(16);
    let mut engine = Engine::new(cfg);
    let history = super::replay::store_for(&mut engine, args);
    let alerts = super::alerts::start_for_replay(
        &config,
        &mut engine,
        snapshots.clone(),
        history.as_ref().map(|w| w.alert_sink()),
    )?;
    tokio::spawn(runner::run(
        engine,
        in_rx,
        snap_tx,
        u32::from(config.ui.fps),
        control_rx,
    ));

    let status0 = ReplayStatus {
        position: start_ts,
        start: start_ts,
        end: None,
        speed: args.speed.to_string(),
        paused: false,
    };
    let (status_tx, status_rx) = watch::channel(status0);
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<UiCommand>(64);
    let mut ctx = ui_context(cli, &config, config_path);
    ctx.replay = Some(status_rx);
    ctx.alerts = alerts.as_ref().map(|a| a.view.clone());
    // A replay's panes page back into the store it writes, if any.
    let stored = match &args.store {
        Some(p) => StoredHistory::File(p.clone()),
        None => StoredHistory::Off(REPLAY_NO_STORE.to_string()),
    };
    let (history_link, pages) = pages_link(&stored);
    ctx.history = history_link;
    let mut ui_task = tokio::spawn(ui::run(ctx, snapshots, cmd_tx));

    let mut clock = Clock {
        speed: args.speed,
        paused: false,
        anchor_ts: start_ts,
        anchor_wall: Instant::now(),
    };
    let mut done = false;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tokio::select! {
            r = &mut ui_task => {
                let _ = control.send(EngineControl::Shutdown).await;
                super::store::finish(history).await;
                return match r {
                    Ok(r) => r.map(|()| 0),
                    Err(e) => Err(anyhow::anyhow!("UI task failed: {e}")),
                };
            }
            cmd = cmd_rx.recv() => match cmd {
                None | Some(UiCommand::Quit) => {}
                Some(UiCommand::ReplayPause(p)) => { clock.rebase(); clock.paused = p; }
                Some(UiCommand::ReplaySpeed(change)) => { clock.rebase(); clock.speed = step_speed(clock.speed, change); }
                Some(UiCommand::SetLiqMinNotional(x)) => {
                    let mut c = config.clone();
                    c.liquidations.min_notional_usd = x;
                    let _ = control.send(EngineControl::SetConfig(Box::new(c.engine_config()))).await;
                }
                Some(UiCommand::SetLargeTradeUsd(x)) => {
                    let mut c = config.clone();
                    c.trades.large_trade_usd = x;
                    let _ = control.send(EngineControl::SetConfig(Box::new(c.engine_config()))).await;
                }
                Some(UiCommand::LoadHistory(req)) => {
                    if let Some(p) = &pages {
                        p.ask(req);
                    }
                }
                Some(UiCommand::AlertAck(id)) => {
                    if let Some(a) = &alerts {
                        let _ = a.control.send(AlertControl::Ack(id)).await;
                    }
                }
                Some(UiCommand::AlertAckAll) => {
                    if let Some(a) = &alerts {
                        let _ = a.control.send(AlertControl::AckAll).await;
                    }
                }
                // The panes refuse to edit in a replay before any of these:
                // the replay's rules are the config's, as it was at start.
                Some(
                    UiCommand::AddInstrument(_)
                    | UiCommand::RemoveInstrument(_)
                    | UiCommand::ToggleVenue(..)
                    | UiCommand::EditConfig
                    | UiCommand::AlertMute { .. }
                    | UiCommand::AlertEnable { .. }
                    | UiCommand::AlertCreate(_),
                ) => {}
            },
            _ = tick.tick(), if !done => {
                // Feed everything due by now (a bounded batch per tick keeps the
                // UI responsive at `max`).
                let due = clock.position();
                let mut fed = 0;
                while !clock.paused && fed < 5_000 {
                    match replayer.peek_ts() {
                        Some(ts) if clock.speed == Speed::Max || ts <= due => {}
                        Some(_) => break,
                        None => { done = true; break; }
                    }
                    let Some((ts, inputs)) = replayer.next_inputs()? else { done = true; break };
                    for input in inputs {
                        if in_tx.send(input).await.is_err() {
                            done = true;
                        }
                    }
                    if clock.speed == Speed::Max {
                        clock.anchor_ts = ts;
                    }
                    fed += 1;
                }
                let position = clock.position();
                if !done && clock.speed != Speed::Max {
                    // Time passes between frames too: staleness follows the
                    // replay clock, and stops while paused.
                    let _ = in_tx.send(EngineInput::Tick { now: position }).await;
                }
                status_tx.send_replace(ReplayStatus {
                    position,
                    start: start_ts,
                    end: if done { Some(position) } else { None },
                    speed: clock.speed.to_string(),
                    paused: clock.paused,
                });
            }
        }
    }
}
