//! `tracing` setup: the TUI's Logs pane (tui-logger), a daily-rotated file in
//! the platform data directory, and optionally stderr (headless runs).
//!
//! The level is an `EnvFilter` directive (`info`, `debug,depthwatch::venues=trace`)
//! taken from the `--log-level` flag, else the `DEPTHWATCH_LOG` variable,
//! else [`DEFAULT_LEVEL`].

use std::path::PathBuf;

use anyhow::Context as _;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Environment variable holding the log filter.
pub const LEVEL_ENV: &str = "DEPTHWATCH_LOG";
/// Info for us; chatty network crates only from warnings up.
pub const DEFAULT_LEVEL: &str = "info,tungstenite=warn,tokio_tungstenite=warn,rustls=warn,hyper=warn,hyper_util=warn,reqwest=warn,h2=warn";
/// Log files kept (one per day).
const KEEP_FILES: usize = 7;

/// How console log lines are written (`--log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields`
    /// (with `message`) and the `span` they happened in.
    Json,
}

#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    /// From the command line; wins over the environment.
    pub level: Option<String>,
    /// Feed the TUI Logs pane.
    pub tui: bool,
    /// Also write to the console (headless mode; never while the TUI owns
    /// the screen): stderr, or stdout with `stdout`.
    pub stderr: bool,
    /// The console lines go to stdout instead of stderr.
    pub stdout: bool,
    /// The console lines' format (the file stays text).
    pub format: LogFormat,
    /// Log file directory; `None` uses [`default_dir`]. Files are skipped
    /// (with a warning) when the directory cannot be created.
    pub dir: Option<PathBuf>,
}

/// Keeps the file writer flushing; drop it last (end of `main`).
pub struct LogGuard {
    _file: Option<WorkerGuard>,
    /// Where the log files go, when file logging is on.
    pub file_dir: Option<PathBuf>,
}

/// `<data dir>/logs`, e.g. `~/.local/share/depthwatch/logs` on Linux.
pub fn default_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "depthwatch").map(|d| d.data_dir().join("logs"))
}

/// The filter: flag, else environment, else the default. Bad directives are
/// an error naming where they came from.
pub fn filter(flag: Option<&str>, env: Option<&str>) -> anyhow::Result<EnvFilter> {
    let (source, text) = match (flag, env) {
        (Some(f), _) => ("--log-level", f),
        (None, Some(e)) if !e.trim().is_empty() => (LEVEL_ENV, e),
        _ => ("default", DEFAULT_LEVEL),
    };
    EnvFilter::builder().parse(text).with_context(|| {
        format!("{source}: `{text}` is not a log filter (try `info` or `debug,depthwatch=trace`)")
    })
}

/// stdout or stderr, chosen once; each event is written whole under the
/// stream's lock, so log lines never interleave with a headless line.
#[derive(Clone, Copy, Debug)]
struct ConsoleWriter {
    stdout: bool,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ConsoleWriter {
    type Writer = Box<dyn std::io::Write + 'a>;

    fn make_writer(&'a self) -> Self::Writer {
        if self.stdout {
            Box::new(std::io::stdout().lock())
        } else {
            Box::new(std::io::stderr().lock())
        }
    }
}

fn file_writer(dir: &std::path::Path) -> anyhow::Result<RollingFileAppender> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("depthwatch")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)
        .with_context(|| format!("cannot open a log file in {}", dir.display()))
}

/// Installs the global subscriber. Call once, early in `main`.
pub fn init(opts: &LogOptions) -> anyhow::Result<LogGuard> {
    let env = std::env::var(LEVEL_ENV).ok();
    let filter = filter(opts.level.as_deref(), env.as_deref())?;
    let dir = opts.dir.clone().or_else(default_dir);
    let mut file_problem = None;
    let (file_layer, guard, file_dir) = match dir.as_deref().map(file_writer) {
        Some(Ok(appender)) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false);
            (Some(layer), Some(guard), dir)
        }
        Some(Err(e)) => {
            file_problem = Some(format!("{e:#}"));
            (None, None, None)
        }
        None => {
            file_problem = Some("no home directory: logging to a file is off".to_string());
            (None, None, None)
        }
    };
    #[cfg(feature = "tui")]
    let tui_layer = if opts.tui {
        tui_logger::init_logger(tui_logger::LevelFilter::Trace)
            .map_err(|e| anyhow::anyhow!("log pane: {e}"))?;
        tui_logger::set_default_level(tui_logger::LevelFilter::Trace);
        Some(tui_logger::TuiTracingSubscriberLayer)
    } else {
        None
    };
    // Without the TUI there is no log pane to feed.
    #[cfg(not(feature = "tui"))]
    let tui_layer: Option<tracing_subscriber::layer::Identity> = None;
    let console = ConsoleWriter {
        stdout: opts.stdout,
    };
    let text_layer = (opts.stderr && opts.format == LogFormat::Text)
        .then(|| tracing_subscriber::fmt::layer().with_writer(console));
    let json_layer = (opts.stderr && opts.format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(console)
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(tui_layer)
        .with(text_layer)
        .with(json_layer)
        .try_init()
        .context("a logger is already installed")?;
    if let Some(problem) = file_problem {
        tracing::warn!("{problem}");
    }
    Ok(LogGuard {
        _file: guard,
        file_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_env_beats_default() {
        assert_eq!(
            filter(Some("debug"), Some("trace")).unwrap().to_string(),
            "debug"
        );
        assert_eq!(filter(None, Some("trace")).unwrap().to_string(), "trace");
        assert!(filter(None, None).unwrap().to_string().contains("info"));
        assert!(
            filter(None, Some("  "))
                .unwrap()
                .to_string()
                .contains("info")
        );
        let err = filter(Some("debug,=[x"), None).unwrap_err().to_string();
        assert!(err.contains("--log-level"), "{err}");
    }

    #[test]
    fn file_writer_creates_its_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/logs");
        file_writer(&dir).unwrap();
        assert!(dir.is_dir());
    }
}
