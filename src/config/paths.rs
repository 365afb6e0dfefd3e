//! Where depthwatch keeps its files, per platform (`directories`):
//! `config.toml` in the config directory (Linux `~/.config/depthwatch`,
//! macOS `~/Library/Application Support/depthwatch`, Windows
//! `%APPDATA%\depthwatch\config`), logs and the instrument cache in the data
//! directory. Nothing is created until something is written there.

use std::path::{Path, PathBuf};

use directories::ProjectDirs;

use super::{Config, ConfigError, load};

fn project() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "depthwatch")
}

/// `config.toml` in the platform config directory.
pub fn default_config_file() -> Option<PathBuf> {
    project().map(|p| p.config_dir().join("config.toml"))
}

/// The data directory (logs, instrument cache).
pub fn data_dir() -> Option<PathBuf> {
    project().map(|p| p.data_dir().to_path_buf())
}

pub fn log_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("logs"))
}

/// Where `catalog` keeps one JSON file per venue.
pub fn catalog_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("instruments"))
}

/// The config file to use: `--config PATH` if given, else the platform one.
pub fn config_file(cli: Option<&Path>) -> Option<PathBuf> {
    cli.map(Path::to_path_buf).or_else(default_config_file)
}

/// Where the running config came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Read from this file.
    File(PathBuf),
    /// No file there (yet): built-in defaults. The Watchlist pane creates it
    /// on the first edit.
    Defaults(Option<PathBuf>),
}

/// Loads the config for a run. A `--config` path must exist; the platform
/// file may be missing, and then the built-in defaults run. Either way the
/// environment's overrides (`super::env`) apply on top.
pub fn load_for_run(cli: Option<&Path>) -> Result<(Config, Source), ConfigError> {
    let path = config_file(cli);
    match path {
        Some(p) if cli.is_some() || p.exists() => Ok((load(&p)?, Source::File(p))),
        other => {
            let label = other.clone().unwrap_or_else(|| PathBuf::from("defaults"));
            let config = super::check_run("", &label)
                .map_err(|diagnostics| ConfigError::Invalid { diagnostics })?;
            Ok((config, Source::Defaults(other)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_missing_file_is_an_error_but_default_missing_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        assert!(matches!(
            load_for_run(Some(&missing)),
            Err(ConfigError::Read { .. })
        ));
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[ui]\nfps = 60\n").unwrap();
        let (c, src) = load_for_run(Some(&file)).unwrap();
        assert_eq!(c.ui.fps, 60);
        assert_eq!(src, Source::File(file));
    }

    #[test]
    fn paths_end_in_depthwatch_names() {
        if let Some(p) = default_config_file() {
            assert!(p.ends_with("config.toml"));
        }
        if let Some(p) = catalog_dir() {
            assert!(p.ends_with("instruments"));
        }
    }
}
