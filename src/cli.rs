//! Command line: `depthwatch [OPTIONS] [COMMAND]`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::replay::Speed;
use crate::store::Kind;

#[derive(Parser, Debug)]
#[command(
    name = "depthwatch",
    version = crate::VERSION,
    about = "Live L2 books, CBBO, cross-venue arbitrage, liquidations and feed health for crypto venues, in your terminal.",
    long_about = "depthwatch connects to the public market-data feeds of many exchanges at once \
(no account, no API key), keeps a correct L2 order book per venue and instrument, and shows the \
aggregated book, the consolidated best bid/offer with the venue behind each side, arbitrage \
spreads after fees and depth, liquidations, large trades and the health of every connection.\n\n\
Without a command it runs live with your config (or built-in defaults)."
)]
pub struct Cli {
    /// Config file (default: config.toml in the platform config directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Log level for the log pane and log file (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "info", value_name = "LEVEL")]
    pub log_level: String,

    /// How headless runs write log lines to the console: `text` (default)
    /// or `json` (one JSON object per line, for log collectors).
    #[arg(long, global = true, value_enum, default_value_t = crate::logging::LogFormat::Text, value_name = "FORMAT")]
    pub log_format: crate::logging::LogFormat,

    /// Headless runs: log lines to stdout instead of stderr (service
    /// managers that read stdout). Mixes with `--json` lines, so pair it
    /// with `--log-format json` and tell lines apart by their `type` field
    /// (log lines have none).
    #[arg(long, global = true)]
    pub log_stdout: bool,

    /// Serve Prometheus metrics at http://ADDR/metrics (e.g.
    /// 127.0.0.1:9464); live runs, TUI or headless, TUI replays, and
    /// `collect` (its connections, books and publishing; no engine
    /// families: README, Metrics).
    #[arg(long, global = true, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,

    #[command(flatten)]
    pub live: LiveArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Run without the TUI.
    #[arg(long)]
    pub headless: bool,

    /// With --headless: one JSON object per line on stdout (without it, the
    /// same lines as readable `key=value` text).
    #[arg(long, requires = "headless")]
    pub json: bool,

    /// Book levels per side in `book` lines.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub depth: usize,

    /// Print every venue pair's best spread in `arb` lines, profitable or not.
    #[arg(long)]
    pub all_spreads: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct LiveArgs {
    /// Run on the built-in simulated venues (no network needed).
    #[arg(long)]
    pub demo: bool,

    /// With --demo: break a simulated feed every N seconds (gap, bad
    /// checksum, stall, drop, ...) to show how depthwatch copes.
    #[arg(long, value_name = "N", requires = "demo", hide = true)]
    pub demo_faults: Option<u64>,

    /// Build the engine from collectors on a NATS bus instead of connecting
    /// to the venues (`nats://host:4222`); see `depthwatch collect`.
    #[arg(long, value_name = "URL", conflicts_with = "demo")]
    pub source: Option<String>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Play capture files (format 2, zstd or plain) through the adapters.
    Replay(ReplayArgs),
    /// Record live traffic as capture files that replay to the same books.
    Record(RecordArgs),
    /// Run the venue connections with no UI and publish normalized events to
    /// NATS, for terminals started with `--source nats://...`.
    Collect(CollectArgs),
    /// Validate a config file and report problems with line and column.
    CheckConfig {
        /// The file to check (default: the platform config file).
        path: Option<PathBuf>,
    },
    /// List the supported venues and their channels.
    Venues,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// bash: `depthwatch completions bash > ~/.local/share/bash-completion/completions/depthwatch`;
    /// zsh: `depthwatch completions zsh > ~/.zfunc/_depthwatch` (with `fpath+=~/.zfunc`);
    /// fish: `depthwatch completions fish > ~/.config/fish/completions/depthwatch.fish`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    ///
    /// `depthwatch man | man -l -` reads it; `depthwatch man --out ~/.local/share/man/man1`
    /// installs depthwatch.1 and depthwatch-<command>.1.
    Man {
        /// Write depthwatch.1 and a page per command here instead of printing.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Alert deliveries (see the README, "Alerts").
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
    /// Query the stored history: opportunities, liquidations, large trades,
    /// per-minute funding and open interest, incidents, states, alerts.
    History(HistoryArgs),
}

#[derive(Subcommand, Debug)]
pub enum AlertsCommand {
    /// Send a test alert to every configured destination and print what
    /// became of each (exit code 1 if any failed).
    Test,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    depthwatch history --since 1h\n  \
    depthwatch history --kind liquidations --venue bybit --since 2026-12-03 --csv\n  \
    depthwatch history --stats --instrument BTC-USDT --since 1d\n  \
    depthwatch history --kind incidents --since 6h --json\n  \
    depthwatch history --kind candles --instrument BTC-USDT --venue okx --since 2h --csv")]
pub struct HistoryArgs {
    /// What to list: arbitrage, liquidations, trades (large ones), funding
    /// (per-minute funding, mark, open interest, volume), incidents (gaps,
    /// resyncs, checksum failures, disconnects, reconnects), states (book
    /// and connection state changes), alerts (with each destination's
    /// outcome), candles (one-minute candles per instrument and venue).
    #[arg(long, short, default_value = "arbitrage", value_parser = parse_kind, value_name = "KIND")]
    pub kind: Kind,

    /// Only this instrument (`BTC-USDT`, `ETH-USDT-PERP`); opportunities
    /// match their key or either leg.
    #[arg(long, short, value_name = "INSTRUMENT")]
    pub instrument: Option<String>,

    /// Only this venue; opportunities match either leg.
    #[arg(long, short, value_name = "VENUE")]
    pub venue: Option<String>,

    /// From this time: a duration back from now (90s, 15m, 1h30m, 2d, 1w),
    /// an RFC 3339 time (2026-12-03T10:00:00Z) or a UTC date (2026-12-03).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// Before this time (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// At most N rows: the newest of the selection.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Comma-separated values with a header line.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,

    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,

    /// Per instrument and venue pair: opportunities, median and 90th
    /// percentile lifetime, longest, best net bps, theoretical profit.
    #[arg(long)]
    pub stats: bool,

    /// Read the demo's store instead of the live one.
    #[arg(long, conflicts_with = "store")]
    pub demo: bool,

    /// Read this store file instead of the configured one.
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    let alias = match s {
        "arb" | "arbs" | "opportunities" => "arbitrage",
        "liq" | "liqs" => "liquidations",
        "trade" => "trades",
        "oi" | "open_interest" | "derivatives" => "funding",
        "incident" => "incidents",
        "state" => "states",
        "alert" => "alerts",
        "candle" | "klines" | "ohlc" => "candles",
        other => other,
    };
    Kind::parse(alias).ok_or_else(|| {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Capture files (`../shared/captures/*.jsonl.zst`, or your recordings).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Playback speed: a factor of real time (1, 10, 0.5) or `max`.
    #[arg(long, default_value = "1", value_name = "N|max")]
    pub speed: Speed,

    /// Shift each file so all start together (captures recorded at
    /// different times then overlap).
    #[arg(long)]
    pub align_start: bool,

    /// Write the replay's history (opportunities, liquidations, ...) to
    /// this store file. Without it a replay writes no history.
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The NATS server (`nats://host:4222`), with JetStream enabled.
    #[arg(long, value_name = "URL")]
    pub nats: String,

    /// This collector's id on the bus (letters, digits, `-`, `_`; default:
    /// the host name). Two collectors of the same venues need distinct ids.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,

    /// Publish the built-in simulated venues instead of the real ones.
    #[arg(long)]
    pub demo: bool,

    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long, value_name = "S")]
    pub duration: Option<u64>,

    /// On exit, print the collector's final books as headless `book` JSON
    /// lines on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Directory for the capture files (one per venue, `VENUE.jsonl.zst`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long, value_name = "S")]
    pub duration: Option<u64>,

    /// Also write every venue's capture into this one file (a bundle that
    /// `replay` plays as the separate files). With `--demo` (before
    /// `record`), the simulator's venues are recorded.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_replay() {
        let cli = Cli::try_parse_from([
            "depthwatch",
            "replay",
            "a.zst",
            "b.zst",
            "--speed",
            "max",
            "--align-start",
            "--headless",
            "--json",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Replay(r)) => {
                assert_eq!(r.files.len(), 2);
                assert_eq!(r.speed, Speed::Max);
                assert!(r.align_start && r.output.headless && r.output.json);
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["depthwatch", "replay", "a", "--speed", "fast"]).is_err());
    }

    #[test]
    fn parses_history() {
        let cli = Cli::try_parse_from([
            "depthwatch",
            "history",
            "--kind",
            "liq",
            "--venue",
            "bybit",
            "--since",
            "1h",
            "--csv",
        ])
        .unwrap();
        match cli.command {
            Some(Command::History(h)) => {
                assert_eq!(h.kind, Kind::Liquidations);
                assert_eq!(h.venue.as_deref(), Some("bybit"));
                assert!(h.csv && !h.json && !h.stats);
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["depthwatch", "history", "--kind", "candles"]).is_ok());
        assert!(Cli::try_parse_from(["depthwatch", "history", "--kind", "ticks"]).is_err());
        assert!(Cli::try_parse_from(["depthwatch", "history", "--csv", "--json"]).is_err());
        let r = Cli::try_parse_from(["depthwatch", "replay", "a", "--store", "h.sqlite"]).unwrap();
        assert!(matches!(r.command, Some(Command::Replay(a)) if a.store.is_some()));
    }
}
