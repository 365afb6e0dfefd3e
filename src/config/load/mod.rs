//! Reading and validating a config file, with line:column diagnostics.
//!
//! TOML syntax errors, unknown keys and wrong types come from the `toml`
//! deserializer (with its byte span); every other check runs over spanned
//! values and collects all problems, not just the first.
//!
//! `diagnostic` says where a problem is; `checker` walks the file section by
//! section, with `watchlist`, `venues` (`[fees]`, `[endpoints]`), `ui` and
//! `alerts` in their own files.

mod alerts;
mod checker;
mod delivery;
mod diagnostic;
#[cfg(test)]
mod tests;
mod ui;
mod venues;
mod watchlist;

use std::path::{Path, PathBuf};

use super::file::ConfigFile;
use super::{Config, paths};

use checker::Checker;
use diagnostic::explain_serde_message;
pub use diagnostic::{Diagnostic, line_col};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        // Not named `source`: the message already includes it, and a source
        // would print twice in an error chain.
        error: std::io::Error,
    },
    #[error("{}", render(diagnostics))]
    Invalid { diagnostics: Vec<Diagnostic> },
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads and validates the file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    check(&text, path).map_err(|diagnostics| ConfigError::Invalid { diagnostics })
}

/// Validates config text; `path` is only used to label diagnostics.
pub fn check(text: &str, path: &Path) -> Result<Config, Vec<Diagnostic>> {
    check_with_notes(text, path).map(|(config, _)| config)
}

/// [`check`], with the notes of a valid file: things that are allowed but
/// worth knowing (an instrument some of the watched venues do not carry).
pub fn check_with_notes(
    text: &str,
    path: &Path,
) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut checker = Checker {
        text,
        path,
        diagnostics: Vec::new(),
        notes: Vec::new(),
    };
    let file: ConfigFile = match toml::from_str(text) {
        Ok(file) => file,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = explain_serde_message(text, &span, e.message());
            checker.error(span, message);
            return Err(checker.diagnostics);
        }
    };
    let config = checker.build(file);
    if checker.diagnostics.is_empty() {
        Ok((config, checker.notes))
    } else {
        checker.diagnostics.sort_by_key(|d| (d.line, d.column));
        Err(checker.diagnostics)
    }
}

/// `depthwatch check-config [PATH]`: prints the verdict, returns the exit
/// code.
pub fn check_config_cmd(path: Option<PathBuf>) -> i32 {
    let (code, report) = check_config_report(path);
    if code == 0 {
        println!("{report}");
    } else {
        eprintln!("{report}");
    }
    code
}

/// The text and exit code of `check-config`, without printing.
pub fn check_config_report(path: Option<PathBuf>) -> (i32, String) {
    let explicit = path.is_some();
    let Some(path) = path.or_else(paths::default_config_file) else {
        return (
            1,
            "no config directory on this platform; pass a PATH".to_string(),
        );
    };
    if !explicit && !path.exists() {
        let c = Config::default();
        return (
            0,
            format!(
                "OK: no file at {}; built-in defaults: {} instruments, {} venues",
                path.display(),
                c.watchlist.entries.len(),
                c.active_venues().len()
            ),
        );
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(error) => return (1, ConfigError::Read { path, error }.to_string()),
    };
    match check_with_notes(&text, &path) {
        Ok((c, notes)) => {
            let mut report = format!(
                "OK: {}: {} instruments, {} venues",
                path.display(),
                c.watchlist.entries.len(),
                c.active_venues().len()
            );
            for n in notes {
                report.push_str(&format!("\nnote: {n}"));
            }
            (0, report)
        }
        Err(diagnostics) => (1, render(&diagnostics)),
    }
}
