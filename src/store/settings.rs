//! What `[store]` in the config says, and where the file goes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Kind;
use crate::model::Micros;

/// Days each kind is kept unless the config says otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

const DAY: Micros = 86_400_000_000;

/// Days kept per kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    days: BTreeMap<Kind, u32>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            days: Kind::ALL
                .into_iter()
                .map(|k| (k, DEFAULT_RETENTION_DAYS))
                .collect(),
        }
    }
}

impl Retention {
    pub fn days(&self, kind: Kind) -> u32 {
        self.days
            .get(&kind)
            .copied()
            .unwrap_or(DEFAULT_RETENTION_DAYS)
    }

    pub fn set(&mut self, kind: Kind, days: u32) {
        self.days.insert(kind, days);
    }

    /// Rows of `kind` older than this are pruned.
    pub fn cutoff(&self, kind: Kind, now: Micros) -> Micros {
        now.saturating_sub(DAY.saturating_mul(Micros::from(self.days(kind))))
    }
}

/// `[store]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSettings {
    pub enabled: bool,
    /// The database file; `None`: `history.sqlite` in the data directory.
    pub path: Option<PathBuf>,
    pub retention: Retention,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            enabled: true,
            path: None,
            retention: Retention::default(),
        }
    }
}

/// The live store's file name in the data directory.
pub const LIVE_FILE: &str = "history.sqlite";
/// The demo's own store: a demo never writes simulated markets into the
/// history of real ones.
pub const DEMO_FILE: &str = "history-demo.sqlite";

impl StoreSettings {
    /// The file a run uses: the demo's own beside the data directory's,
    /// else the configured path, else the data directory's.
    pub fn file(&self, demo: bool, data_dir: Option<&Path>) -> Option<PathBuf> {
        if demo {
            return data_dir.map(|d| d.join(DEMO_FILE));
        }
        self.path
            .clone()
            .or_else(|| data_dir.map(|d| d.join(LIVE_FILE)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_never_uses_the_live_file() {
        let s = StoreSettings {
            path: Some(PathBuf::from("/x/live.sqlite")),
            ..StoreSettings::default()
        };
        let data = Path::new("/data");
        assert_eq!(
            s.file(false, Some(data)).unwrap(),
            Path::new("/x/live.sqlite")
        );
        assert_eq!(s.file(true, Some(data)).unwrap(), data.join(DEMO_FILE));
        let d = StoreSettings::default();
        assert_eq!(d.file(false, Some(data)).unwrap(), data.join(LIVE_FILE));
        assert_eq!(d.file(true, None), None);
    }

    #[test]
    fn cutoffs_per_kind() {
        let mut r = Retention::default();
        r.set(Kind::Trades, 2);
        let now = 100 * DAY;
        assert_eq!(r.cutoff(Kind::Trades, now), 98 * DAY);
        assert_eq!(r.cutoff(Kind::Liquidations, now), 70 * DAY);
        assert_eq!(r.cutoff(Kind::Liquidations, 0), -30 * DAY);
    }
}
