//! The store's writer: its own thread, fed by the sink's bounded channel.
//!
//! Notices are written in batches, one transaction each: a batch closes at
//! [`BATCH_ROWS`] notices or [`BATCH_WAIT`] after its first notice. While a
//! write is slow the channel fills and the engine drops (and counts) what
//! does not fit; the engine itself never waits. A failed write (disk full,
//! read-only file) counts its batch as dropped and reports the reason
//! through the [`SinkStatus`] (Health pane, status line); the next batch
//! tries again and clears the problem when it succeeds. A store that cannot
//! be opened at all is retried every [`REOPEN_EVERY`]; until then notices
//! are dropped and counted.
//!
//! The alerts task writes through its own bounded channel into the same
//! thread ([`Writer::alert_sink`]); its events are batched beside the
//! notices and their drops counted in the same [`SinkStatus`].
//!
//! The thread ends when every sender of notices is gone (the engine
//! stopped), after writing what it holds. Retention is applied at start and every
//! [`PRUNE_EVERY`].

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::alerts::{ALERT_CAPACITY, AlertEvent, AlertSink};
use super::{Retention, SqliteStore, Store, StoreError};
use crate::engine::notices::{Notice, SinkStatus};
use crate::model::{Micros, now_micros};

/// Notices per transaction at most.
pub const BATCH_ROWS: usize = 1_000;
/// A batch is written at most this long after its first notice.
pub const BATCH_WAIT: Duration = Duration::from_millis(250);
/// Capacity of the sink's channel: a few seconds of a busy session, so a
/// hiccup of the disk costs nothing, a dead one costs counted drops.
pub const CHANNEL_CAPACITY: usize = 16_384;
pub const PRUNE_EVERY: Duration = Duration::from_secs(3_600);
pub const REOPEN_EVERY: Duration = Duration::from_secs(30);

/// How the writer gets its store (again, after a failure to open).
pub type Opener = Box<dyn FnMut() -> Result<Box<dyn Store>, StoreError> + Send>;

/// An opener for a SQLite file: opens it and begins a run.
pub fn sqlite_opener(path: PathBuf) -> Opener {
    Box::new(move || {
        let mut s = SqliteStore::open(&path)?;
        s.begin_run(now_micros())?;
        Ok(Box::new(s) as Box<dyn Store>)
    })
}

pub struct WriterSettings {
    /// `None`: never prune.
    pub retention: Option<Retention>,
    pub batch_rows: usize,
    pub batch_wait: Duration,
    pub prune_every: Duration,
    pub reopen_every: Duration,
    /// The clock retention is measured against.
    pub clock: fn() -> Micros,
}

impl WriterSettings {
    pub fn new(retention: Option<Retention>) -> Self {
        WriterSettings {
            retention,
            batch_rows: BATCH_ROWS,
            batch_wait: BATCH_WAIT,
            prune_every: PRUNE_EVERY,
            reopen_every: REOPEN_EVERY,
            clock: now_micros,
        }
    }
}

/// The running writer.
pub struct Writer {
    handle: Option<JoinHandle<()>>,
    alerts: AlertSink,
}

impl Writer {
    /// Start the writer thread. `store` is an already opened store (the one
    /// the engine was seeded from), or `None` to open it with `opener`.
    pub fn spawn(
        store: Option<Box<dyn Store>>,
        opener: Opener,
        rx: mpsc::Receiver<Arc<Notice>>,
        status: Arc<SinkStatus>,
        settings: WriterSettings,
    ) -> std::io::Result<Writer> {
        let (alerts, alerts_rx) = AlertSink::channel(ALERT_CAPACITY, status.clone());
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        status.set_problem(Some(format!("history writer failed to start: {e}")));
                        return;
                    }
                };
                let mut task = Task {
                    store,
                    opener,
                    status,
                    settings,
                    last_open_try: None,
                };
                rt.block_on(task.run(rx, alerts_rx));
            })?;
        Ok(Writer {
            handle: Some(handle),
            alerts,
        })
    }

    /// Where the alerts task writes its alerts and deliveries.
    pub fn alert_sink(&self) -> AlertSink {
        self.alerts.clone()
    }

    /// Wait for the thread to write what it holds and end (its channel
    /// must be closed: the engine stopped), at most `timeout`. Returns
    /// whether it ended.
    /// The alerts task's senders may outlive the engine; the thread does
    /// not wait for them.
    pub fn finish(mut self, timeout: Duration) -> bool {
        let Some(h) = self.handle.take() else {
            return true;
        };
        let deadline = Instant::now() + timeout;
        while !h.is_finished() {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        h.join().is_ok()
    }
}

struct Task {
    store: Option<Box<dyn Store>>,
    opener: Opener,
    status: Arc<SinkStatus>,
    settings: WriterSettings,
    last_open_try: Option<Instant>,
}

impl Task {
    async fn run(
        &mut self,
        mut rx: mpsc::Receiver<Arc<Notice>>,
        mut alerts_rx: mpsc::Receiver<AlertEvent>,
    ) {
        if self.store.is_none() {
            self.try_open();
        }
        self.prune();
        let mut prune_at = tokio::time::Instant::now() + self.settings.prune_every;
        let mut batch: Vec<Arc<Notice>> = Vec::with_capacity(self.settings.batch_rows);
        let mut alerts: Vec<AlertEvent> = Vec::new();
        // The writer holds a sender of its own, so this channel never
        // closes while it runs.
        let mut open = true;
        while open {
            tokio::select! {
                n = rx.recv() => match n {
                    Some(n) => batch.push(n),
                    None => open = false,
                },
                Some(e) = alerts_rx.recv() => alerts.push(e),
                _ = tokio::time::sleep_until(prune_at) => {
                    self.prune();
                    prune_at = tokio::time::Instant::now() + self.settings.prune_every;
                    continue;
                }
            }
            // Fill the batch until it is full, its time is up or the
            // channel closes.
            let deadline = tokio::time::Instant::now() + self.settings.batch_wait;
            while open && batch.len() + alerts.len() < self.settings.batch_rows {
                tokio::select! {
                    n = rx.recv() => match n {
                        Some(n) => batch.push(n),
                        None => open = false,
                    },
                    Some(e) = alerts_rx.recv() => alerts.push(e),
                    _ = tokio::time::sleep_until(deadline) => break,
                }
            }
            if !open {
                // What the alerts task sent before the engine stopped.
                while let Ok(e) = alerts_rx.try_recv() {
                    alerts.push(e);
                }
            }
            if !batch.is_empty() {
                self.write(&batch);
                batch.clear();
            }
            if !alerts.is_empty() {
                self.write_alerts(&alerts);
                alerts.clear();
            }
        }
    }

    /// Open the store unless a try was made within `reopen_every`.
    fn try_open(&mut self) -> bool {
        if self.store.is_some() {
            return true;
        }
        if self
            .last_open_try
            .is_some_and(|t| t.elapsed() < self.settings.reopen_every)
        {
            return false;
        }
        self.last_open_try = Some(Instant::now());
        match (self.opener)() {
            Ok(s) => {
                self.store = Some(s);
                self.status.set_problem(None);
                true
            }
            Err(e) => {
                tracing::warn!("history store: {e}");
                self.status
                    .set_problem(Some(format!("history not saved: {e}")));
                false
            }
        }
    }

    fn write(&mut self, batch: &[Arc<Notice>]) {
        if !self.try_open() {
            self.status.count_dropped(batch.len() as u64);
            return;
        }
        let Some(store) = self.store.as_mut() else {
            return;
        };
        match store.write(batch) {
            Ok(_) => {
                if self.status.problem().is_some() {
                    tracing::info!("history store: writing again");
                    self.status.set_problem(None);
                }
            }
            Err(e) => {
                if self.status.problem().is_none() {
                    tracing::warn!("history store: {e}");
                }
                self.status.count_dropped(batch.len() as u64);
                self.status
                    .set_problem(Some(format!("history not saved: {e}")));
            }
        }
    }

    fn write_alerts(&mut self, batch: &[AlertEvent]) {
        if !self.try_open() {
            self.status.count_dropped(batch.len() as u64);
            return;
        }
        let Some(store) = self.store.as_mut() else {
            return;
        };
        if let Err(e) = store.write_alerts(batch) {
            if self.status.problem().is_none() {
                tracing::warn!("history store: {e}");
            }
            self.status.count_dropped(batch.len() as u64);
            self.status
                .set_problem(Some(format!("history not saved: {e}")));
        }
    }

    fn prune(&mut self) {
        let now = (self.settings.clock)();
        let (Some(store), Some(retention)) = (self.store.as_mut(), &self.settings.retention) else {
            return;
        };
        match store.prune(retention, now) {
            Ok(0) => {}
            Ok(n) => tracing::info!("history store: pruned {n} rows past their retention"),
            Err(e) => tracing::warn!("history store: pruning failed: {e}"),
        }
    }
}
