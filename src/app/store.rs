//! The history store of a run: opened before the engine starts, read back
//! into it (live and demo), then written by its own thread from the
//! engine's notices. A store that cannot be opened (read-only or full data
//! directory) never stops the run: the reason shows in the Health pane and
//! the status line, and the writer tries again every 30 s.

use std::path::PathBuf;
use std::time::Duration;

use crate::engine::Engine;
use crate::model::Micros;
use crate::store::writer::{self, Opener, Writer, WriterSettings};
use crate::store::{RestoreSpec, Retention, SqliteStore, Store, StoreError};

/// The name the store goes by in the Health pane.
pub const SINK_NAME: &str = "store";

/// How long a run waits at exit for the last batches to be written.
pub const FINISH_WAIT: Duration = Duration::from_secs(5);

/// Where and how a run keeps history.
pub struct HistoryPlan {
    /// `None`: there is no data directory on this platform.
    pub file: Option<PathBuf>,
    /// `None`: never pruned (a replay's store holds capture times, which
    /// the wall clock would find old).
    pub retention: Option<Retention>,
    /// Seed the engine with what the store holds (live and demo runs; a
    /// replay only writes).
    pub restore: bool,
}

/// Open the store, seed `engine` from it when asked, register the sink and
/// start the writer. Returns `None` only when the writer thread could not
/// be started (then the run goes on without history, said in the log).
pub fn attach(engine: &mut Engine, plan: HistoryPlan, now: Micros) -> Option<Writer> {
    let (rx, status) = engine.add_sink(SINK_NAME, writer::CHANNEL_CAPACITY);
    let (store, opener): (Option<Box<dyn Store>>, Opener) = match plan.file {
        Some(path) => {
            let store = match open_and_begin(&path, now) {
                Ok(s) => {
                    if plan.restore {
                        seed(engine, &s, now);
                    }
                    Some(Box::new(s) as Box<dyn Store>)
                }
                Err(e) => {
                    tracing::warn!("history store: {e}");
                    status.set_problem(Some(format!("history not saved: {e}")));
                    None
                }
            };
            (store, writer::sqlite_opener(path))
        }
        None => {
            let why = "no data directory on this platform: set [store] path";
            status.set_problem(Some(format!("history not saved: {why}")));
            let opener: Opener = Box::new(move || Err(StoreError::Failed(why.to_string())));
            (None, opener)
        }
    };
    let settings = WriterSettings::new(plan.retention);
    match Writer::spawn(store, opener, rx, status, settings) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::error!("history store: cannot start its writer: {e}");
            None
        }
    }
}

fn open_and_begin(path: &std::path::Path, now: Micros) -> Result<SqliteStore, StoreError> {
    let mut s = SqliteStore::open(path)?;
    s.begin_run(now)?;
    Ok(s)
}

fn seed(engine: &mut Engine, store: &SqliteStore, now: Micros) {
    let spec = RestoreSpec {
        closed_arbs: engine.config().arb_history,
        ..RestoreSpec::default()
    };
    match store.restore(&spec, now) {
        Ok(seed) => {
            tracing::info!(
                "history restored from {}: {} closed opportunities, {} pairs, {} liquidations, {} large trades, {} perpetual minutes",
                store.path().display(),
                seed.closed_arbs.len(),
                seed.pair_stats.len(),
                seed.liquidations.len(),
                seed.large_trades.len(),
                seed.deriv_samples.len()
            );
            engine.seed(seed, now);
        }
        Err(e) => tracing::warn!("history store: nothing restored: {e}"),
    }
}

/// Wait (off the async workers) for the writer to write what it holds.
pub async fn finish(writer: Option<Writer>) {
    if let Some(w) = writer {
        let done = tokio::task::spawn_blocking(move || w.finish(FINISH_WAIT)).await;
        if !matches!(done, Ok(true)) {
            tracing::warn!("history store: the last batch may not have been written");
        }
    }
}
