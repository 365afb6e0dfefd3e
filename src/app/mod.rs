//! What each command does, wired from the library's parts.

pub mod alerts;
pub mod collect;
pub mod docs;
pub mod feeds;
pub mod history;
pub mod live;
pub mod replay;
pub mod replay_alerts;
pub mod signals;
pub mod store;
#[cfg(feature = "tui")]
pub mod tui;
pub mod venues;
#[cfg(feature = "tui")]
pub mod watchlist;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::logging::{self, LogOptions};

/// Run the parsed command line; returns the process exit code.
pub fn main(cli: Cli) -> Result<i32> {
    crate::venues::guard::install_hook();
    match &cli.command {
        Some(Command::Venues) => {
            print!("{}", venues::table());
            return Ok(0);
        }
        Some(Command::Completions { shell }) => {
            docs::completions(*shell, &mut std::io::stdout().lock())?;
            return Ok(0);
        }
        Some(Command::Man { out: None }) => {
            docs::man_page(&mut std::io::stdout().lock())?;
            return Ok(0);
        }
        Some(Command::Man { out: Some(dir) }) => {
            for file in docs::man_pages(dir)? {
                println!("{}", dir.join(file).display());
            }
            return Ok(0);
        }
        Some(Command::History(args)) => return history::run(&cli, args),
        Some(Command::CheckConfig { path }) => {
            return Ok(crate::config::check_config_cmd(
                path.clone().or(cli.config.clone()),
            ));
        }
        _ => {}
    }
    let tui = match &cli.command {
        Some(Command::Replay(a)) => !a.output.headless,
        Some(Command::Record(_) | Command::Collect(_) | Command::Alerts { .. }) => false,
        _ => !cli.live.output.headless,
    };
    let _log = logging::init(&LogOptions {
        level: Some(cli.log_level.clone()),
        tui,
        stderr: !tui,
        stdout: cli.log_stdout,
        format: cli.log_format,
        dir: None,
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match &cli.command {
            Some(Command::Replay(args)) => {
                let (config, source) = crate::config::paths::load_for_run(cli.config.as_deref())?;
                if args.output.headless {
                    replay::run_headless(args, &config)?;
                    Ok(0)
                } else {
                    run_replay_tui(&cli, args, config, source).await
                }
            }
            Some(Command::Record(args)) => live::run_record(&cli, args).await,
            Some(Command::Collect(args)) => collect::run(&cli, args).await,
            Some(Command::Alerts {
                command: crate::cli::AlertsCommand::Test,
            }) => {
                let (config, source) = crate::config::paths::load_for_run(cli.config.as_deref())?;
                let path = match source {
                    crate::config::paths::Source::File(p) => Some(p),
                    crate::config::paths::Source::Defaults(p) => p,
                };
                alerts::run_test(&config, path.as_deref()).await
            }
            _ if cli.live.output.headless => live::run_headless(&cli).await,
            _ => run_live_tui(&cli).await,
        }
    })
}

#[cfg(feature = "tui")]
async fn run_replay_tui(
    cli: &Cli,
    args: &crate::cli::ReplayArgs,
    config: crate::config::Config,
    source: crate::config::paths::Source,
) -> Result<i32> {
    tui::run_replay(cli, args, config, source).await
}

#[cfg(feature = "tui")]
async fn run_live_tui(cli: &Cli) -> Result<i32> {
    tui::run_live(cli).await
}

#[cfg(not(feature = "tui"))]
async fn run_replay_tui(
    _: &Cli,
    _: &crate::cli::ReplayArgs,
    _: crate::config::Config,
    _: crate::config::paths::Source,
) -> Result<i32> {
    anyhow::bail!(NO_TUI)
}

#[cfg(not(feature = "tui"))]
async fn run_live_tui(_: &Cli) -> Result<i32> {
    anyhow::bail!(NO_TUI)
}

#[cfg(not(feature = "tui"))]
const NO_TUI: &str = "this depthwatch was built without the terminal UI (cargo feature `tui`): \
    use --headless, or build with default features";
