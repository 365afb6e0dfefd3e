//! The set of running venue feeds, reconciled with the config: a venue whose
//! subscriptions changed is restarted, a venue no longer watched is stopped.

use std::collections::BTreeMap;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::engine::EngineInput;
use crate::model::{Instrument, Venue};
use crate::net::{HttpClient, Recording, run_venue};
use crate::venues::{AdapterConfig, registry};

struct Running {
    cfg: AdapterConfig,
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

pub struct Feeds {
    engine: mpsc::Sender<EngineInput>,
    http: HttpClient,
    running: BTreeMap<Venue, Running>,
    /// Aborted tasks not yet seen to end (see [`Feeds::forget`]).
    stopping: Vec<JoinHandle<()>>,
}

/// Two adapter configs subscribe to the same things.
fn same(a: &AdapterConfig, b: &AdapterConfig) -> bool {
    a.instruments == b.instruments && a.channels == b.channels && a.endpoints == b.endpoints
}

impl Feeds {
    pub fn new(engine: mpsc::Sender<EngineInput>, http: HttpClient) -> Self {
        Feeds {
            engine,
            http,
            running: BTreeMap::new(),
            stopping: Vec::new(),
        }
    }

    /// Start, restart or stop venues so that exactly `wanted` runs.
    /// Returns the venues that were (re)started.
    pub fn apply(&mut self, wanted: &BTreeMap<Venue, AdapterConfig>) -> Vec<Venue> {
        let stale: Vec<Venue> = self
            .running
            .keys()
            .filter(|v| !wanted.contains_key(v))
            .copied()
            .collect();
        for v in stale {
            if let Some(r) = self.running.remove(&v) {
                tracing::info!(venue = %v, "stopping feed: no longer watched");
                r.task.abort();
                self.stopping.push(r.task);
            }
        }
        let mut started = Vec::new();
        for (venue, cfg) in wanted {
            if cfg.instruments.is_empty() {
                if let Some(r) = self.running.remove(venue) {
                    r.task.abort();
                    self.stopping.push(r.task);
                }
                continue;
            }
            if self.running.get(venue).is_some_and(|r| same(&r.cfg, cfg)) {
                continue;
            }
            self.start(*venue, cfg.clone(), None);
            started.push(*venue);
        }
        started
    }

    /// Start one venue, optionally recording its traffic.
    pub fn start(&mut self, venue: Venue, cfg: AdapterConfig, recording: Option<Recording>) {
        if let Some(old) = self.running.remove(&venue) {
            old.task.abort();
            self.stopping.push(old.task);
        }
        let adapter = registry::build(venue, cfg.clone());
        tracing::info!(%venue, instruments = cfg.instruments.len(), "starting feed");
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run_venue(
            adapter,
            self.engine.clone(),
            self.http.clone(),
            recording,
            stop_rx,
        ));
        self.running.insert(venue, Running { cfg, task, stop });
    }

    /// Tells the engine to drop books no feed subscribes to any more, once
    /// every stopped or restarted feed task has ended: a frame the old task
    /// sent is then already queued ahead of the `Forget`, so no late update
    /// brings a dropped book back.
    pub async fn forget(&mut self, gone: Vec<(Venue, Vec<Instrument>)>) {
        for task in std::mem::take(&mut self.stopping) {
            // Aborted: ends at its next await point.
            if tokio::time::timeout(std::time::Duration::from_secs(2), task)
                .await
                .is_err()
            {
                tracing::warn!("a stopped feed took over 2 s to end");
            }
        }
        for (venue, instruments) in gone {
            let venue_stopped = !self.running.contains_key(&venue);
            let input = EngineInput::Forget {
                venue,
                instruments,
                venue_stopped,
            };
            if self.engine.send(input).await.is_err() {
                return;
            }
        }
    }

    /// Stop every feed and wait for the tasks to end (recordings flush).
    pub async fn shutdown(&mut self) {
        for (_, r) in std::mem::take(&mut self.running) {
            let _ = r.stop.send(true);
            let _ = r.task.await;
        }
    }
}

impl Drop for Feeds {
    fn drop(&mut self) {
        for r in self.running.values() {
            r.task.abort();
        }
    }
}
