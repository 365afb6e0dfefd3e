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
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::engine::EngineInput;
use crate::model::now_micros;

use super::collector::{FinalBook, Materializer, Out};
use super::observe::{CollectorMetrics, CollectorView, Observer, QueueDepths};
use super::wire::{Kind, Origin};

/// Why a message or a snapshot could not be published: the `sink` and
/// `reason` labels of `depthwatch_publish_errors_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A message larger than the server's `max_payload`.
    MaxPayload,
    BadSubject,
    /// The client could not hand the message to its connection.
    Send,
    /// A snapshot key the bucket refuses.
    InvalidKey,
    /// The client could not hand the snapshot to its connection.
    PutSend,
    /// JetStream did not acknowledge the snapshot (timeout, no stream).
    NoAck,
}

impl Failure {
    pub const ALL: [Failure; 6] = [
        Failure::MaxPayload,
        Failure::BadSubject,
        Failure::Send,
        Failure::InvalidKey,
        Failure::PutSend,
        Failure::NoAck,
    ];

    /// `nats` for messages, `nats_kv` for the bucket's snapshots.
    pub fn sink(self) -> &'static str {
        match self {
            Failure::MaxPayload | Failure::BadSubject | Failure::Send => "nats",
            Failure::InvalidKey | Failure::PutSend | Failure::NoAck => "nats_kv",
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Failure::MaxPayload => "max_payload",
            Failure::BadSubject => "bad_subject",
            Failure::Send | Failure::PutSend => "send",
            Failure::InvalidKey => "invalid_key",
            Failure::NoAck => "no_ack",
        }
    }

    fn of_publish(kind: async_nats::client::PublishErrorKind) -> Failure {
        match kind {
            async_nats::client::PublishErrorKind::MaxPayloadExceeded => Failure::MaxPayload,
            async_nats::client::PublishErrorKind::BadSubject => Failure::BadSubject,
            async_nats::client::PublishErrorKind::Send => Failure::Send,
        }
    }

    fn of_put(kind: kv::PutErrorKind) -> Failure {
        match kind {
            kv::PutErrorKind::InvalidKey => Failure::InvalidKey,
            kv::PutErrorKind::Publish => Failure::PutSend,
            kv::PutErrorKind::Ack => Failure::NoAck,
        }
    }

    fn index(self) -> usize {
        Failure::ALL.iter().position(|f| *f == self).unwrap_or(0)
    }
}

/// The counts of one subject kind.
#[derive(Debug, Default)]
pub struct KindCounts {
    pub published: AtomicU64,
    /// Payload bytes of the messages published.
    pub bytes: AtomicU64,
    /// Messages dropped because the publish queue was full.
    pub dropped: AtomicU64,
}

/// What the collector did, counted (the log's summary lines and
/// `--metrics` read them).
#[derive(Debug, Default)]
pub struct PublishStats {
    /// Per subject kind, in [`Kind::ALL`] order.
    kinds: [KindCounts; Kind::ALL.len()],
    /// Per [`Failure`], in [`Failure::ALL`] order.
    failures: [AtomicU64; Failure::ALL.len()],
    pub puts: AtomicU64,
    /// Payload bytes of the snapshots put.
    pub put_bytes: AtomicU64,
    /// Snapshots not queued: put again at a later tick (or, when the
    /// collector is stopping and the bucket's task is gone, lost).
    pub puts_dropped: AtomicU64,
}

impl PublishStats {
    fn add(counter: &AtomicU64) {
        Self::add_n(counter, 1);
    }

    fn add_n(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn kind(&self, kind: Kind) -> &KindCounts {
        let i = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        &self.kinds[i]
    }

    pub fn failures(&self, failure: Failure) -> u64 {
        Self::get(&self.failures[failure.index()])
    }

    pub(crate) fn fail(&self, failure: Failure) {
        Self::add(&self.failures[failure.index()]);
    }

    fn sum(&self, counter: impl Fn(&KindCounts) -> &AtomicU64) -> u64 {
        self.kinds.iter().map(|k| Self::get(counter(k))).sum()
    }

    /// Messages published, every kind.
    pub fn published(&self) -> u64 {
        self.sum(|k| &k.published)
    }

    /// Messages dropped under pressure, every kind.
    pub fn dropped(&self) -> u64 {
        self.sum(|k| &k.dropped)
    }

    fn failed(&self, sink: &str) -> u64 {
        Failure::ALL
            .iter()
            .filter(|f| f.sink() == sink)
            .map(|f| self.failures(*f))
            .sum()
    }

    /// Messages that failed to publish.
    pub fn publish_errors(&self) -> u64 {
        self.failed("nats")
    }

    /// Snapshots that failed to be put.
    pub fn put_errors(&self) -> u64 {
        self.failed("nats_kv")
    }

    fn summary(&self) -> String {
        format!(
            "published {}, dropped {}, publish errors {}, snapshots put {} (deferred {}, failed {})",
            self.published(),
            self.dropped(),
            self.publish_errors(),
            Self::get(&self.puts),
            Self::get(&self.puts_dropped),
            self.put_errors(),
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
    views: Arc<watch::Sender<Arc<CollectorView>>>,
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
        let (views, _) = watch::channel(Arc::new(CollectorView::default()));
        let views = Arc::new(views);
        let observer = Observer::new(views.clone());
        let task = tokio::spawn(run(
            client,
            store,
            origin,
            inputs,
            opts,
            stats.clone(),
            observer,
        ));
        Collector { stats, views, task }
    }

    /// What `--metrics` reads. The collector's view is taken at each tick
    /// (`snapshot_every`) from the first call on.
    pub fn metrics(&self) -> CollectorMetrics {
        CollectorMetrics {
            view: self.views.subscribe(),
            stats: self.stats.clone(),
        }
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

/// A message for NATS: its kind (for the counts), subject and payload.
type Outgoing = (Kind, String, Bytes);

async fn run(
    client: async_nats::Client,
    store: kv::Store,
    origin: Origin,
    mut inputs: mpsc::Receiver<EngineInput>,
    opts: PublishOptions,
    stats: Arc<PublishStats>,
    mut observer: Observer,
) -> Vec<FinalBook> {
    let (pub_tx, mut pub_rx) = mpsc::channel::<Outgoing>(opts.queue.max(1));
    let (kv_tx, mut kv_rx) = mpsc::channel::<(String, Bytes)>(4096);
    let publisher = {
        let (client, stats) = (client.clone(), stats.clone());
        tokio::spawn(async move {
            while let Some((kind, subject, payload)) = pub_rx.recv().await {
                let bytes = payload.len() as u64;
                match client.publish(subject, payload).await {
                    Ok(()) => {
                        let counts = stats.kind(kind);
                        PublishStats::add(&counts.published);
                        PublishStats::add_n(&counts.bytes, bytes);
                    }
                    Err(e) => {
                        stats.fail(Failure::of_publish(e.kind()));
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
                let bytes = value.len() as u64;
                match store.put(&key, value).await {
                    Ok(_) => {
                        PublishStats::add(&stats.puts);
                        PublishStats::add_n(&stats.put_bytes, bytes);
                    }
                    Err(e) => {
                        stats.fail(Failure::of_put(e.kind()));
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
                Some(input) => {
                    observer.input(&input);
                    mat.input(&input, now_micros(), &mut out);
                }
                None => break,
            },
            _ = tick.tick() => {
                let now = now_micros();
                mat.tick(now, &mut out);
                if observer.wanted() {
                    let depths = QueueDepths {
                        input: inputs.len(),
                        publish: waiting(&pub_tx),
                        snapshot: waiting(&kv_tx),
                    };
                    observer.publish(now, mat.book_rows(), depths);
                }
            }
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

/// Items waiting in the queue `tx` sends into.
fn waiting<T>(tx: &mpsc::Sender<T>) -> usize {
    tx.max_capacity() - tx.capacity()
}

struct Queues<'a> {
    publish: &'a mpsc::Sender<Outgoing>,
    kv: &'a mpsc::Sender<(String, Bytes)>,
    stats: &'a PublishStats,
}

impl Queues<'_> {
    /// Queue what fits, never waiting.
    fn offer(&self, mat: &mut Materializer, out: &mut Vec<Out>) {
        for o in out.drain(..) {
            match o {
                Out::Publish {
                    kind,
                    subject,
                    payload,
                } => {
                    if let Err(TrySendError::Full(_) | TrySendError::Closed(_)) =
                        self.publish.try_send((kind, subject, payload.into()))
                    {
                        PublishStats::add(&self.stats.kind(kind).dropped);
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
            match o {
                Out::Publish {
                    kind,
                    subject,
                    payload,
                } => {
                    if self
                        .publish
                        .send((kind, subject, payload.into()))
                        .await
                        .is_err()
                    {
                        PublishStats::add(&self.stats.kind(kind).dropped);
                    }
                }
                Out::Put { key, value, .. } => {
                    if self.kv.send((key, value.into())).await.is_err() {
                        PublishStats::add(&self.stats.puts_dropped);
                    }
                }
            }
        }
    }
}
