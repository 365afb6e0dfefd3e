//! The set of running venue feeds, reconciled with the config: a venue whose
//! subscriptions changed is restarted, a venue no longer watched is stopped.

use std::collections::BTreeMap;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::engine::EngineInput;
use crate::model::Venue;
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
            }
        }
        let mut started = Vec::new();
        for (venue, cfg) in wanted {
            if cfg.instruments.is_empty() {
                if let Some(r) = self.running.remove(venue) {
                    r.task.abort();
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
        }
        let Some(adapter) = registry::build(venue, cfg.clone()) else {
            tracing::error!(%venue, "no adapter for this venue");
            return;
        };
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

    pub fn venues(&self) -> Vec<Venue> {
        self.running.keys().copied().collect()
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
