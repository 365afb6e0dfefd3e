//! The history store of a run: opened before the engine starts, read back
//! into it (live and demo), then written by its own thread from the
//! engine's notices. A store that cannot be opened (read-only or full data
//! directory) never stops the run: the reason shows in the Health pane and
//! the status line, and the writer tries again every 30 s.
//!
//! The Arbitrage and Liquidations panes page back into the same file
//! through a [`PageReader`]: its own thread and read-only connection (WAL
//! lets it read beside the writer), so a read never waits on the UI's draw
//! path and the UI never does I/O.

use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::engine::Engine;
use crate::model::Micros;
use crate::store::pages::{PageRequest, PageResult};
use crate::store::writer::{self, Opener, Writer, WriterSettings};
use crate::store::{RestoreSpec, Retention, SqliteStore, Store, StoreError};

/// The name the store goes by in the Health pane.
pub const SINK_NAME: &str = "store";

/// Why a run keeps no history when the platform has no data directory.
pub const NO_DATA_DIR: &str = "no data directory on this platform: set [store] path";

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
            let why = NO_DATA_DIR;
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
                "history restored from {}: {} closed opportunities, {} pairs, {} liquidations, {} large trades, {} perpetual minutes, {} candle minutes",
                store.path().display(),
                seed.closed_arbs.len(),
                seed.pair_stats.len(),
                seed.liquidations.len(),
                seed.large_trades.len(),
                seed.deriv_samples.len(),
                seed.candles.len()
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

/// Where the panes' stored history is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredHistory {
    File(PathBuf),
    /// There is none, and why (the panes say so).
    Off(String),
}

/// What a pane says when the page reader thread has stopped.
const READER_STOPPED: &str = "the history reader stopped (see the Logs pane)";

/// Answers the UI has not taken in yet, at most (the reader waits beyond).
const PAGE_ANSWERS: usize = 8;

/// Reads pages of stored history for the panes on its own thread.
pub struct PageReader {
    requests: std_mpsc::Sender<PageRequest>,
    /// For answering here when the reader thread is gone.
    answers: mpsc::Sender<PageResult>,
}

impl PageReader {
    /// The reader of `path` and the receiver of its answers (for the UI).
    /// The file is opened at the first request (and again after a failure).
    pub fn spawn(path: PathBuf) -> std::io::Result<(PageReader, mpsc::Receiver<PageResult>)> {
        let (tx, rx) = std_mpsc::channel::<PageRequest>();
        let (answers, results) = mpsc::channel(PAGE_ANSWERS);
        let thread_answers = answers.clone();
        std::thread::Builder::new()
            .name("history-pages".into())
            .spawn(move || {
                let mut store: Option<SqliteStore> = None;
                for req in rx {
                    // A panic while reading answers this request with why
                    // and ends the thread; later requests are answered by
                    // `ask`.
                    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        read_page(&path, &mut store, &req)
                    }));
                    let (page, go_on) = match read {
                        Ok(rows) => (
                            PageResult {
                                pane: req.pane,
                                generation: req.generation,
                                direction: req.direction,
                                rows,
                            },
                            true,
                        ),
                        Err(_) => (req.failed(READER_STOPPED), false),
                    };
                    if thread_answers.blocking_send(page).is_err() || !go_on {
                        break;
                    }
                }
            })?;
        Ok((
            PageReader {
                requests: tx,
                answers,
            },
            results,
        ))
    }

    /// Ask for a page; the answer comes on the receiver (at once, saying
    /// why, when the reader thread has stopped).
    pub fn ask(&self, req: PageRequest) {
        if let Err(std_mpsc::SendError(req)) = self.requests.send(req) {
            tracing::warn!("history store: the page reader has stopped");
            let _ = self.answers.try_send(req.failed(READER_STOPPED));
        }
    }
}

fn read_page(
    path: &std::path::Path,
    store: &mut Option<SqliteStore>,
    req: &PageRequest,
) -> Result<Vec<crate::store::Record>, String> {
    if store.is_none() {
        *store = Some(SqliteStore::open_read(path).map_err(|e| e.to_string())?);
    }
    let s = store.as_ref().ok_or_else(|| "no store".to_string())?;
    s.query(&req.query).map_err(|e| {
        // Opened again next time (the file may have been replaced).
        *store = None;
        e.to_string()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::notices::Notice;
    use crate::engine::snapshot::LiquidationRow;
    use crate::model::LiquidatedSide;
    use crate::store::pages::{Direction, HistoryPane};
    use crate::store::{Kind, Query, Record};

    fn liq(time: Micros) -> LiquidationRow {
        LiquidationRow {
            venue: "okx".parse().unwrap(),
            instrument: "BTC-USDT-PERP".parse().unwrap(),
            side: LiquidatedSide::Short,
            price: rust_decimal::Decimal::new(6_500_012, 2),
            size: rust_decimal::Decimal::new(3, 1),
            notional_usd: 19_500.0,
            notional_known: true,
            time,
        }
    }

    /// The reader reads beside a writer's open connection and answers on
    /// the channel; a missing file is an answer too, not a hang.
    #[test]
    fn the_page_reader_answers_beside_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        let mut writer = SqliteStore::open(&path).unwrap();
        writer.begin_run(1).unwrap();
        let batch: Vec<Arc<Notice>> = (1..=3)
            .map(|t| Arc::new(Notice::Liquidation(liq(t * 1_000))))
            .collect();
        writer.write(&batch).unwrap();
        let (reader, mut answers) = PageReader::spawn(path).unwrap();
        let req = |until| PageRequest {
            pane: HistoryPane::Liquidations,
            generation: 4,
            direction: Direction::Older,
            query: Query {
                until: Some(until),
                limit: Some(2),
                ..Query::new(Kind::Liquidations)
            },
        };
        reader.ask(req(3_000));
        let page = answers.blocking_recv().unwrap();
        assert_eq!((page.pane, page.generation), (HistoryPane::Liquidations, 4));
        assert_eq!(
            page.rows.unwrap(),
            [
                Record::Liquidation(liq(1_000)),
                Record::Liquidation(liq(2_000))
            ]
        );
        let (missing, mut none) = PageReader::spawn(dir.path().join("none.sqlite")).unwrap();
        missing.ask(req(1));
        let e = none.blocking_recv().unwrap().rows.unwrap_err();
        assert!(e.contains("no history at"), "{e}");
    }
}
