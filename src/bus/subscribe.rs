//! The terminal's task: every message of this bus version and every change
//! of the snapshot bucket through the [`Router`], into the engine's input
//! channel like a venue feed's.

use std::time::Duration;

use anyhow::{Context, Result};
use async_nats::jetstream::kv;
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::engine::EngineInput;
use crate::model::{Micros, now_micros};

use super::router::{Router, RouterStats};
use super::wire;

/// How often failover is considered (and the counters published).
const TICK: Duration = Duration::from_millis(250);

/// A running bus source.
pub struct Terminal {
    pub stats: watch::Receiver<RouterStats>,
    task: JoinHandle<()>,
}

impl Terminal {
    /// Subscribe (before reading the bucket, so nothing published meanwhile
    /// is missed) and start feeding `engine`. A book whose chosen collector
    /// has said nothing about its venue for `failover_after` moves to
    /// another collector that still speaks.
    pub async fn start(
        client: async_nats::Client,
        engine: mpsc::Sender<EngineInput>,
        failover_after: Micros,
    ) -> Result<Terminal> {
        let sub = client
            .subscribe(wire::subscription())
            .await
            .context("subscribing to the bus")?;
        let store = super::open_bucket(&client).await?;
        let (tx, stats) = watch::channel(RouterStats::default());
        let task = tokio::spawn(run(
            client,
            sub,
            store,
            engine,
            Router::new(failover_after),
            tx,
        ));
        Ok(Terminal { stats, task })
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Watch the bucket from each key's latest value on.
async fn watch_bucket(store: &kv::Store) -> Option<kv::Watch> {
    match store.watch_with_history(">").await {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("watching the snapshot bucket failed (retrying): {e}");
            None
        }
    }
}

async fn run(
    // Kept so the connection lives as long as the task.
    _client: async_nats::Client,
    mut sub: async_nats::Subscriber,
    store: kv::Store,
    engine: mpsc::Sender<EngineInput>,
    mut router: Router,
    stats: watch::Sender<RouterStats>,
) {
    let mut snapshots = watch_bucket(&store).await;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut report = tokio::time::interval(Duration::from_secs(60));
    report.tick().await;
    let mut out = Vec::new();
    loop {
        let next_snapshot = async {
            match snapshots.as_mut() {
                Some(w) => w.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = sub.next() => match msg {
                Some(m) => router.on_message(m.subject.as_str(), &m.payload, now_micros(), &mut out),
                None => {
                    tracing::warn!("bus subscription ended");
                    break;
                }
            },
            entry = next_snapshot => match entry {
                Some(Ok(e)) if e.operation == kv::Operation::Put => {
                    router.on_snapshot(&e.key, &e.value, now_micros(), &mut out);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => tracing::warn!("snapshot bucket: {e}"),
                None => {
                    tracing::warn!("snapshot bucket watch ended; watching again");
                    snapshots = None;
                }
            },
            _ = tick.tick() => {
                if snapshots.is_none() {
                    snapshots = watch_bucket(&store).await;
                }
                router.on_tick(now_micros(), &mut out);
                stats.send_replace(router.stats());
            }
            _ = report.tick() => tracing::info!("bus source: {:?}", router.stats()),
        }
        for input in out.drain(..) {
            if engine.send(input).await.is_err() {
                return;
            }
        }
    }
}
