//! What each command does, wired from the library's parts.

pub mod replay;
pub mod venues;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Run the parsed command line; returns the process exit code.
pub fn main(cli: Cli) -> Result<i32> {
    match &cli.command {
        Some(Command::Venues) => {
            print!("{}", venues::table());
            Ok(0)
        }
        Some(Command::CheckConfig { path }) => Ok(crate::config::check_config_cmd(
            path.clone().or(cli.config.clone()),
        )),
        Some(Command::Replay(args)) => {
            let (config, _) = crate::config::paths::load_for_run(cli.config.as_deref())?;
            if args.output.headless {
                replay::run_headless(args, config.engine_config())?;
                Ok(0)
            } else {
                anyhow::bail!("the replay TUI is not wired yet")
            }
        }
        Some(Command::Record(_)) | None => anyhow::bail!("live mode is not wired yet"),
    }
}
