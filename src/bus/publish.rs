//! The collector's tasks: engine inputs from the venue feeds go through the
//! [`Materializer`]; its messages and snapshots go to NATS through bounded
//! queues. The feeds never wait for NATS: a message that does not fit is
//! dropped and counted (a terminal then sees a gap and resyncs from the
//! bucket), a snapshot that does not fit is put again at the next tick.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::kv;
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinHandle;

use crate::engine::EngineInput;
use crate::model::now_micros;

use super::collector::{FinalBook, Materializer, Out};
use super::wire::Origin;

/// What the collector did, counted.
#[derive(Debug, Default)]
pub struct PublishStats {
    pub published: AtomicU64,
    /// Messages dropped because the publish queue was full.
    pub dropped: AtomicU64,
    pub publish_errors: AtomicU64,
    pub puts: AtomicU64,
    /// Snapshots not queued (put again later).
    pub puts_dropped: AtomicU64,
    pub put_errors: AtomicU64,
}

impl PublishStats {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn summary(&self) -> String {
        format!(
            "published {}, dropped {}, publish errors {}, snapshots put {} (deferred {}, failed {})",
            Self::get(&self.published),
            Self::get(&self.dropped),
            Self::get(&self.publish_errors),
            Self::get(&self.puts),
            Self::get(&self.puts_dropped),
            Self::get(&self.put_errors),
        )
    }
}

#[derive(Clone, Debug)]
pub struct PublishOptions {
    /// Messages waiting for NATS before new ones are dropped.
    pub queue: usize,
    /// How often changed books are snapshotted into the bucket (and quiet
    /// connections said alive).
    pub snapshot_every: Duration,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            queue: 65_536,
            snapshot_every: Duration::from_millis(500),
        }
    }
}

/// A running collector.
pub struct Collector {
    pub stats: Arc<PublishStats>,
    task: JoinHandle<Vec<FinalBook>>,
}

impl Collector {
    /// Start publishing what arrives on `inputs`, until every sender of it is
    /// gone.
    pub fn spawn(
        client: async_nats::Client,
        store: kv::Store,
        origin: Origin,
        inputs: mpsc::Receiver<EngineInput>,
        opts: PublishOptions,
    ) -> Collector {
        let stats = Arc::new(PublishStats::default());
        let task = tokio::spawn(run(client, store, origin, inputs, opts, stats.clone()));
        Collector { stats, task }
    }

    /// Wait until the inputs ended and everything queued went out; the
    /// collector's books as they ended.
    pub async fn finish(self) -> Vec<FinalBook> {
        self.task.await.unwrap_or_default()
    }

    /// Stop at once (as a killed process would: nothing more is sent).
    pub fn abort(&self) {
        self.task.abort();
    }
}

async fn run(
    client: async_nats::Client,
    store: kv::Store,
    origin: Origin,
    mut inputs: mpsc::Receiver<EngineInput>,
    opts: PublishOptions,
    stats: Arc<PublishStats>,
) -> Vec<FinalBook> {
    let (pub_tx, mut pub_rx) = mpsc::channel::<(String, Bytes)>(opts.queue.max(1));
    let (kv_tx, mut kv_rx) = mpsc::channel::<(String, Bytes)>(4096);
    let publisher = {
        let (client, stats) = (client.clone(), stats.clone());
        tokio::spawn(async move {
            while let Some((subject, payload)) = pub_rx.recv().await {
                match client.publish(subject, payload).await {
                    Ok(()) => PublishStats::add(&stats.published),
                    Err(e) => {
                        PublishStats::add(&stats.publish_errors);
                        tracing::debug!("NATS publish failed: {e}");
                    }
                }
            }
        })
    };
    let putter = {
        let stats = stats.clone();
        tokio::spawn(async move {
            while let Some((key, value)) = kv_rx.recv().await {
                match store.put(&key, value).await {
                    Ok(_) => PublishStats::add(&stats.puts),
                    Err(e) => {
                        PublishStats::add(&stats.put_errors);
                        tracing::debug!(key, "snapshot put failed: {e}");
                    }
                }
            }
        })
    };
    let mut mat = Materializer::new(origin);
    let mut tick = tokio::time::interval(opts.snapshot_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut report = tokio::time::interval(Duration::from_secs(60));
    report.tick().await;
    let mut out = Vec::new();
    let queues = Queues {
        publish: &pub_tx,
        kv: &kv_tx,
        stats: &stats,
    };
    loop {
        tokio::select! {
            input = inputs.recv() => match input {
                Some(input) => mat.input(&input, now_micros(), &mut out),
                None => break,
            },
            _ = tick.tick() => mat.tick(now_micros(), &mut out),
            _ = report.tick() => tracing::info!("bus: {}", stats.summary()),
        }
        queues.offer(&mut mat, &mut out);
    }
    // On the way out every book's last state goes to the bucket, waiting
    // for room this time.
    mat.put_all(now_micros(), &mut out);
    queues.flush(&mut out).await;
    drop((pub_tx, kv_tx));
    let _ = publisher.await;
    let _ = putter.await;
    if let Err(e) = client.flush().await {
        tracing::warn!("NATS flush on exit failed: {e}");
    }
    tracing::info!("bus: {}", stats.summary());
    mat.books()
}

struct Queues<'a> {
    publish: &'a mpsc::Sender<(String, Bytes)>,
    kv: &'a mpsc::Sender<(String, Bytes)>,
    stats: &'a PublishStats,
}

impl Queues<'_> {
    /// Queue what fits, never waiting.
    fn offer(&self, mat: &mut Materializer, out: &mut Vec<Out>) {
        for o in out.drain(..) {
            match o {
                Out::Publish { subject, payload } => {
                    if let Err(TrySendError::Full(_) | TrySendError::Closed(_)) =
                        self.publish.try_send((subject, payload.into()))
                    {
                        PublishStats::add(&self.stats.dropped);
                    }
                }
                Out::Put {
                    venue,
                    instrument,
                    key,
                    value,
                } => {
                    if self.kv.try_send((key, value.into())).is_err() {
                        PublishStats::add(&self.stats.puts_dropped);
                        mat.put_dropped(venue, instrument);
                    }
                }
            }
        }
    }

    /// Queue everything, waiting for room.
    async fn flush(&self, out: &mut Vec<Out>) {
        for o in out.drain(..) {
            let sent = match o {
                Out::Publish { subject, payload } => {
                    self.publish.send((subject, payload.into())).await.is_ok()
                }
                Out::Put { key, value, .. } => self.kv.send((key, value.into())).await.is_ok(),
            };
            if !sent {
                PublishStats::add(&self.stats.dropped);
            }
        }
    }
}
