//! Noticing edits to the config file while running, by polling (no watcher
//! crate): every interval the file's mtime, length and content hash are
//! compared with the last seen (the file is only read when mtime or
//! length moved). A changed file is re-validated; an invalid
//! one yields its diagnostics and the caller keeps the running config.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::{Config, Diagnostic, check_run};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fingerprint {
    modified: Option<SystemTime>,
    len: u64,
    hash: u64,
}

fn hash_of(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

pub struct ConfigWatcher {
    path: PathBuf,
    interval: Duration,
    last_check: Option<Instant>,
    seen: Option<Fingerprint>,
}

impl ConfigWatcher {
    /// Watches `path`, polling at most once a second. The file's current
    /// state counts as seen (the caller has just loaded it, or runs on
    /// defaults because it is missing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self::with_interval(path, Duration::from_secs(1))
    }

    pub fn with_interval(path: impl Into<PathBuf>, interval: Duration) -> Self {
        let path = path.into();
        let seen = fingerprint(&path).map(|(fp, _)| fp);
        ConfigWatcher {
            path,
            interval,
            last_check: None,
            seen,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `None` when the interval has not elapsed, the file is unchanged or
    /// missing; otherwise the re-validated config or its diagnostics.
    pub fn poll(&mut self) -> Option<Result<Config, Vec<Diagnostic>>> {
        let now = Instant::now();
        if self
            .last_check
            .is_some_and(|t| now.duration_since(t) < self.interval)
        {
            return None;
        }
        self.last_check = Some(now);
        self.poll_now()
    }

    /// Checks the file regardless of the interval.
    pub fn poll_now(&mut self) -> Option<Result<Config, Vec<Diagnostic>>> {
        // A missing file (deleted, or mid-replace on some filesystems) keeps
        // the running config; it is picked up again when it reappears.
        let meta = std::fs::metadata(&self.path).ok()?;
        let modified = meta.modified().ok();
        if let Some(seen) = self.seen
            && modified.is_some()
            && seen.modified == modified
            && seen.len == meta.len()
        {
            return None;
        }
        let (fp, bytes) = fingerprint(&self.path)?;
        if self
            .seen
            .is_some_and(|s| s.hash == fp.hash && s.len == fp.len)
        {
            // Touched but not changed: remember the new mtime only.
            self.seen = Some(fp);
            return None;
        }
        self.seen = Some(fp);
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                return Some(Err(vec![Diagnostic {
                    path: self.path.clone(),
                    line: 1,
                    column: 1,
                    message: format!("the file is not UTF-8 text: {e}"),
                }]));
            }
        };
        Some(check_run(&text, &self.path))
    }

    /// Records `text` as the file's content, so the app's own save (e.g. a
    /// watchlist edit) is not reported back as an outside change.
    pub fn acknowledge(&mut self, text: &str) {
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        self.seen = Some(Fingerprint {
            modified,
            len: text.len() as u64,
            hash: hash_of(text.as_bytes()),
        });
    }
}

fn fingerprint(path: &Path) -> Option<(Fingerprint, Vec<u8>)> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let bytes = std::fs::read(path).ok()?;
    Some((
        Fingerprint {
            modified,
            len: bytes.len() as u64,
            hash: hash_of(&bytes),
        },
        bytes,
    ))
}
