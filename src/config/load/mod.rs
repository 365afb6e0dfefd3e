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

/// Reads and validates the file at `path`, with the environment's
/// overrides (see [`check_run`]).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    check_run(&text, path).map_err(|diagnostics| ConfigError::Invalid { diagnostics })
}

/// The config a run uses: `text` (the file's, or empty without one) with
/// the `DEPTHWATCH_<SECTION>__<KEY>` overrides of this process's
/// environment on top (`super::env`).
pub fn check_run(text: &str, path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let overrides = super::env::from_env().map_err(|bad| {
        bad.into_iter()
            .map(|b| env_diagnostic(&b.var, b.message))
            .collect::<Vec<_>>()
    })?;
    check_overridden(text, path, &overrides)
}

/// [`check`] of `text` with `overrides` on top. The file must be valid on
/// its own (its problems keep their line and column); then the overrides
/// are added one at a time, so a problem one brings is reported under the
/// variable's name.
pub fn check_overridden(
    text: &str,
    path: &Path,
    overrides: &[super::env::Override],
) -> Result<Config, Vec<Diagnostic>> {
    let config = check(text, path)?;
    if overrides.is_empty() {
        return Ok(config);
    }
    // The file parsed, so this does too.
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| vec![env_diagnostic(path_name(path), e.to_string())])?;
    let mut config = config;
    for o in overrides {
        super::env::apply(&mut doc, o).map_err(|m| vec![env_diagnostic(&o.var, m)])?;
        config = check(&doc.to_string(), path).map_err(|diagnostics| {
            diagnostics
                .into_iter()
                .map(|d| env_diagnostic(&o.var, d.message))
                .collect::<Vec<_>>()
        })?;
    }
    Ok(config)
}

fn path_name(path: &Path) -> &str {
    path.to_str().unwrap_or("config")
}

/// A problem with an environment variable: no line or column, the
/// variable's name where the file's path would be.
fn env_diagnostic(var: &str, message: String) -> Diagnostic {
    Diagnostic {
        path: PathBuf::from(var),
        line: 0,
        column: 0,
        message,
    }
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
    match check_with_notes(&text, &path)
        .and_then(|(_, notes)| Ok((check_run(&text, &path)?, notes)))
    {
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
