//! The live session's side of the Watchlist pane: watchlist edits written to
//! the config file (comments kept) and applied at once, reloads of the file
//! when it changes on disk, the instrument catalog kept up to date for
//! completion, and the messages the status line shows about all of it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use super::live::Session;
use crate::alerts::deliver::Changes;
use crate::config::{self, Catalog, Config, ConfigWatcher, edit};
use crate::engine::Snapshot;
use crate::model::{InstrumentInfo, Venue, now_micros};
use crate::ui::{UiCommand, UiContext, WatchRow, WatchlistInfo};

/// Channels to the UI plus what is needed to feed them.
pub struct WatchlistLink {
    info: watch::Sender<WatchlistInfo>,
    catalog_tx: watch::Sender<Arc<Catalog>>,
    status: watch::Sender<Option<String>>,
    catalog: Catalog,
    /// Where lists are cached; `None` in the demo (simulated lists are not
    /// real listings and must not replace the cache).
    catalog_dir: Option<PathBuf>,
    seen_lists: BTreeMap<Venue, Arc<Vec<InstrumentInfo>>>,
    /// Venues that can be turned on.
    venues: Vec<Venue>,
    read_only: Option<String>,
    watcher: Option<ConfigWatcher>,
}

impl WatchlistLink {
    /// Builds the link and plugs its receivers into `ctx`.
    pub fn new(session: &Session, demo: bool, ctx: &mut UiContext) -> WatchlistLink {
        let path = session.config_path.clone();
        let read_only = match &path {
            None => Some(
                "no config directory on this system: run with --config FILE to edit the watchlist"
                    .to_string(),
            ),
            Some(p) if demo && !p.exists() => Some(
                "demo without a config file: the watchlist is the simulator's \
                 (run depthwatch --demo --config FILE to edit one)"
                    .to_string(),
            ),
            Some(_) => None,
        };
        let (catalog, catalog_dir) = if demo {
            (Catalog::default(), None)
        } else {
            let dir = config::paths::catalog_dir();
            let catalog = dir.as_deref().map(Catalog::load).unwrap_or_default();
            (catalog, dir)
        };
        let venues = if demo {
            crate::sim::venues()
        } else {
            Venue::all().collect()
        };
        let link = WatchlistLink {
            info: watch::channel(WatchlistInfo::default()).0,
            catalog_tx: watch::channel(Arc::new(catalog.clone())).0,
            status: watch::channel(None).0,
            catalog,
            catalog_dir,
            seen_lists: BTreeMap::new(),
            venues,
            read_only,
            watcher: path.map(ConfigWatcher::new),
        };
        link.info
            .send_replace(link.info_of(&session.config, &session.config_path));
        ctx.watchlist = Some(link.info.subscribe());
        ctx.catalog = Some(link.catalog_tx.subscribe());
        ctx.status = Some(link.status.subscribe());
        link
    }

    fn info_of(&self, config: &Config, path: &Option<PathBuf>) -> WatchlistInfo {
        WatchlistInfo {
            rows: config
                .watchlist
                .entries
                .iter()
                .map(|e| WatchRow {
                    instrument: e.instrument,
                    venues: config.venues_for(&e.instrument),
                })
                .collect(),
            venues: self.venues.clone(),
            config_path: path.clone(),
            read_only: self.read_only.clone(),
        }
    }

    fn say(&self, message: String) {
        self.status.send_replace(Some(message));
    }

    fn publish(&self, session: &Session) {
        self.info
            .send_replace(self.info_of(&session.config, &session.config_path));
    }

    /// Applies a watchlist command from the UI (others are ignored).
    pub async fn command(&mut self, session: &mut Session, cmd: UiCommand) {
        if cmd == UiCommand::EditConfig {
            self.reload(session, true).await;
            return;
        }
        if let Some(why) = &self.read_only {
            self.say(why.clone());
            return;
        }
        let Some(path) = session.config_path.clone() else {
            return;
        };
        let result = match &cmd {
            UiCommand::AddInstrument(i) => {
                edit::edit_file(&path, |doc| edit::add_instrument(doc, i)).map(|(c, t, added)| {
                    let what = if added {
                        format!("added {i}")
                    } else {
                        format!("{i} was already watched")
                    };
                    (c, t, what)
                })
            }
            UiCommand::RemoveInstrument(i) => {
                edit::edit_file(&path, |doc| edit::remove_instrument(doc, i)).map(
                    |(c, t, removed)| {
                        let what = if removed {
                            format!("removed {i}")
                        } else {
                            format!("{i} was not watched")
                        };
                        (c, t, what)
                    },
                )
            }
            UiCommand::ToggleVenue(i, v) => {
                edit::edit_file(&path, |doc| edit::toggle_venue(doc, i, *v)).map(|(c, t, on)| {
                    let state = if on { "on" } else { "off" };
                    (c, t, format!("{i} on {v}: {state}"))
                })
            }
            _ => return,
        };
        match result {
            Ok((config, text, what)) => {
                if let Some(w) = &mut self.watcher {
                    w.acknowledge(&text);
                }
                tracing::info!("watchlist: {what} (saved to {})", path.display());
                let changes = session.apply(config).await;
                self.publish(session);
                self.say(format!(
                    "{what} · saved to {}{}",
                    path.display(),
                    delivery_note(&changes)
                ));
            }
            Err(e) => {
                tracing::error!("watchlist edit not saved: {e}");
                self.say(format!("not saved: {}", one_line(&e.to_string())));
            }
        }
    }

    /// An alert rule edit from the UI (mute, disable, a new rule): saved to
    /// the config file keeping comments, then applied. Without a file to
    /// write (a demo without `--config`), mutes and disables apply to the
    /// running rules only, and say so.
    pub async fn alert_command(&mut self, session: &mut Session, cmd: UiCommand) {
        use crate::config::alert_edit;
        if let Some(why) = self.read_only.clone() {
            let mut config = session.config.clone();
            let what = match &cmd {
                UiCommand::AlertMute { rule, muted } => {
                    config.alerts.iter_mut().find(|r| r.name == *rule).map(|r| {
                        r.muted = *muted;
                        format!("{rule} {}", if *muted { "muted" } else { "unmuted" })
                    })
                }
                UiCommand::AlertEnable { rule, enabled } => {
                    config.alerts.iter_mut().find(|r| r.name == *rule).map(|r| {
                        r.enabled = *enabled;
                        format!("{rule} {}", if *enabled { "enabled" } else { "disabled" })
                    })
                }
                _ => None,
            };
            match what {
                Some(what) => {
                    session.apply(config).await;
                    self.say(format!("{what} until you quit (not saved: {why})"));
                }
                None => self.say(why),
            }
            return;
        }
        let Some(path) = session.config_path.clone() else {
            return;
        };
        let result = match &cmd {
            UiCommand::AlertMute { rule, muted } => {
                edit::edit_file(&path, |doc| alert_edit::set_muted(doc, rule, *muted)).map(
                    |(c, t, _)| {
                        let word = if *muted { "muted" } else { "unmuted" };
                        (c, t, format!("alert {rule} {word}"))
                    },
                )
            }
            UiCommand::AlertEnable { rule, enabled } => {
                edit::edit_file(&path, |doc| alert_edit::set_enabled(doc, rule, *enabled)).map(
                    |(c, t, _)| {
                        let word = if *enabled { "enabled" } else { "disabled" };
                        (c, t, format!("alert {rule} {word}"))
                    },
                )
            }
            UiCommand::AlertCreate(new) => edit::edit_file(&path, |doc| {
                alert_edit::add_alert(doc, new)
            })
            .map(|(c, t, name)| (c, t, format!("new alert rule {name} ({})", new.describe()))),
            _ => return,
        };
        match result {
            Ok((config, text, what)) => {
                if let Some(w) = &mut self.watcher {
                    w.acknowledge(&text);
                }
                tracing::info!("alerts: {what} (saved to {})", path.display());
                let changes = session.apply(config).await;
                self.publish(session);
                self.say(format!(
                    "{what} · saved to {}{}",
                    path.display(),
                    delivery_note(&changes)
                ));
            }
            Err(e) => {
                tracing::error!("alert rule edit not saved: {e}");
                self.say(format!("not saved: {}", one_line(&e.to_string())));
            }
        }
    }

    /// Looks at the config file (`now`: regardless of the poll interval)
    /// and adopts it when it changed and validates; otherwise keeps the
    /// running config and says why.
    pub async fn reload(&mut self, session: &mut Session, now: bool) {
        let Some(watcher) = &mut self.watcher else {
            return;
        };
        let polled = if now {
            watcher.poll_now()
        } else {
            watcher.poll()
        };
        let path = watcher.path().display().to_string();
        match polled {
            None if now => {
                // The secrets file may have changed alone: read it again.
                let config = session.config.clone();
                let changes = session.apply_delivery(&config).await;
                self.say(format!("config file unchanged{}", delivery_note(&changes)));
            }
            None => {}
            Some(Ok(config)) => {
                tracing::info!("config file changed: reloaded");
                let changes = session.apply(config).await;
                self.publish(session);
                self.say(format!(
                    "config reloaded from {path}{}",
                    delivery_note(&changes)
                ));
            }
            Some(Err(diags)) => {
                for d in &diags {
                    tracing::error!("config not reloaded, keeping the running one: {d}");
                }
                let first = diags.first().map(ToString::to_string).unwrap_or_default();
                let more = match diags.len() {
                    0 | 1 => String::new(),
                    n => format!(" (+{} more in Logs)", n - 1),
                };
                self.say(format!(
                    "config not reloaded, keeping the running one: {first}{more}"
                ));
            }
        }
    }

    /// Takes new instrument lists from a snapshot into the catalog (and its
    /// cache on disk, live only).
    pub fn observe(&mut self, snap: &Snapshot) {
        let mut changed = false;
        for (venue, list) in &snap.instrument_lists {
            if self
                .seen_lists
                .get(venue)
                .is_some_and(|seen| Arc::ptr_eq(seen, list))
            {
                continue;
            }
            self.seen_lists.insert(*venue, list.clone());
            self.catalog
                .update(*venue, list.to_vec(), now_micros() / 1_000_000);
            if let Some(dir) = &self.catalog_dir
                && let Err(e) = self.catalog.save_venue(dir, *venue)
            {
                tracing::warn!("instrument cache for {venue} not saved: {e}");
            }
            changed = true;
        }
        if changed {
            self.catalog_tx.send_replace(Arc::new(self.catalog.clone()));
        }
    }
}

/// What a reload changed in the alert destinations, for the status line
/// (nothing when it changed none).
fn delivery_note(changes: &Changes) -> String {
    if changes.is_empty() {
        String::new()
    } else {
        format!(" · alert delivery: {changes}")
    }
}

/// Multi-line errors (diagnostic lists) on one status line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_names_what_a_reload_changed_in_the_deliveries() {
        assert_eq!(delivery_note(&Changes::default()), "");
        let c = Changes {
            added: vec!["telegram"],
            removed: vec!["webhook"],
            changed: Vec::new(),
        };
        assert_eq!(
            format!("config reloaded from c.toml{}", delivery_note(&c)),
            "config reloaded from c.toml · alert delivery: telegram added, webhook removed"
        );
    }
}
