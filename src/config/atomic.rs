//! Saving a file so that a crash at any moment leaves either the old or the
//! new content, never a mix: write a temporary file in the same directory,
//! fsync it, rename it over the target, fsync the directory.
//!
//! Temporary files are named `.<name>.<random>.tmp`. A failed save removes
//! its own; one left behind by a killed process is swept by the next save once
//! it is older than [`STALE_TEMP_AGE`] (no live save holds one that long).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Age after which a leftover temporary file is considered abandoned.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// Atomically replaces `path` with `text`, creating parent directories.
pub fn save_atomic(path: &Path, text: &str) -> io::Result<()> {
    save_atomic_with(path, |file| file.write_all(text.as_bytes()))
}

/// Like [`save_atomic`], with the content produced by `write` (which may fail
/// part-way: the target is then untouched and the temporary file removed).
pub fn save_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = parent_dir(path);
    fs::create_dir_all(&dir)?;
    sweep_stale_temps(path);
    let temp = temp_path(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)?;
    let written = write(&mut file)
        .and_then(|()| file.flush())
        .and_then(|()| file.sync_all());
    drop(file);
    let result = written.and_then(|()| fs::rename(&temp, path));
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(&dir);
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_string())
}

/// The temporary name used for `path` (random part varies per save).
pub fn temp_path(path: &Path) -> PathBuf {
    let tag: u64 = rand::random();
    parent_dir(path).join(format!(".{}.{tag:016x}.tmp", file_name(path)))
}

/// Whether `candidate` is a temporary file of a save of `path`.
pub fn is_temp_of(path: &Path, candidate: &Path) -> bool {
    let prefix = format!(".{}.", file_name(path));
    candidate
        .file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| {
            n.strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".tmp"))
                .is_some_and(|tag| tag.len() == 16 && tag.chars().all(|c| c.is_ascii_hexdigit()))
        })
}

/// Removes temporary files of earlier saves of `path` that were abandoned.
fn sweep_stale_temps(path: &Path) {
    let Ok(entries) = fs::read_dir(parent_dir(path)) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let candidate = entry.path();
        if !is_temp_of(path, &candidate) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age >= STALE_TEMP_AGE);
        if old {
            let _ = fs::remove_file(&candidate);
        }
    }
}

/// Makes the rename durable. Directories cannot be opened for syncing on
/// every platform (Windows); the rename itself is still atomic there.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
