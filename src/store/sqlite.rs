//! [`Store`] over one SQLite file: WAL journal (readers such as `history`
//! never block the writer), `synchronous = NORMAL` (a power cut may lose the
//! last batches, never the file's integrity), prepared statements cached
//! per connection, one transaction per batch.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, OpenFlags, Row, Transaction, params, params_from_iter};

use super::alerts::{self as alert_sql, AlertEvent};
use super::codec::{self, dec};
use super::record::{ArbRecord, IncidentRecord, Kind, Record, StateRecord};
use super::schema::{self, VERSION};
use super::{Query, RestoreSpec, Retention, Store, StoreError};
use crate::engine::candles::{Candle, MinuteCandle};
use crate::engine::derivs::DerivSample;
use crate::engine::notices::Notice;
use crate::engine::seed::{PairSeed, Seed};
use crate::engine::snapshot::{ArbOpportunity, ClosedArb, ConnState, LiquidationRow, TradeRow};
use crate::model::{Instrument, Micros, Venue};

/// Rows deleted per statement when pruning, so a large prune never holds
/// the write lock for long.
const PRUNE_CHUNK: usize = 10_000;

pub struct SqliteStore {
    pub(super) conn: Connection,
    path: PathBuf,
    /// This run's id (`begin_run`).
    run: Option<i64>,
    /// Connections seen connected in this run (a later `Connected` is a
    /// reconnect, as the Health pane counts it).
    connected: HashSet<(Venue, String)>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("run", &self.run)
            .finish()
    }
}

/// A SQLite error in plain words, naming the file.
pub fn explain(path: &Path, e: &rusqlite::Error) -> StoreError {
    let p = path.display();
    let text = match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => format!("disk full: cannot write {p}"),
        Some(ErrorCode::ReadOnly) => format!("{p} is read-only"),
        Some(ErrorCode::PermissionDenied) => format!("no permission to write {p}"),
        Some(ErrorCode::CannotOpen) => {
            format!("cannot open {p} (missing, read-only or not writable directory?)")
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            format!("{p} is locked by another process")
        }
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            format!("{p} is damaged or not a depthwatch history file")
        }
        Some(ErrorCode::SystemIoFailure) => format!("disk I/O error on {p}: {e}"),
        _ => format!("{p}: {e}"),
    };
    StoreError::Failed(text)
}

impl SqliteStore {
    /// Open (creating it and its directory if needed) for writing, and
    /// bring the schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Failed(format!("cannot create {}: {}", dir.display(), io_words(&e)))
            })?;
        }
        let conn = Connection::open(path).map_err(|e| explain(path, &e))?;
        Self::prepare(conn, path, true)
    }

    /// Open an existing store to read it (`history`). A store of an older
    /// schema is upgraded when the file is writable.
    pub fn open_read(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| explain(path, &e))?;
        let found = schema::version(&conn).map_err(|e| explain(path, &e))?;
        if found < VERSION {
            drop(conn);
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| explain(path, &e))?;
            return Self::prepare(conn, path, true);
        }
        Self::prepare(conn, path, false)
    }

    fn prepare(mut conn: Connection, path: &Path, write: bool) -> Result<Self, StoreError> {
        let err = |e: rusqlite::Error| explain(path, &e);
        conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
        if write {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(
                    "history store {}: journal mode {mode} (WAL not available here)",
                    path.display()
                );
            }
            conn.execute_batch("PRAGMA synchronous = NORMAL")
                .map_err(err)?;
        }
        let found = if write {
            schema::migrate_to(&mut conn, VERSION).map_err(err)?
        } else {
            schema::version(&conn).map_err(err)?
        };
        if found > VERSION {
            return Err(StoreError::TooNew {
                path: path.display().to_string(),
                found,
                known: VERSION,
            });
        }
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            run: None,
            connected: HashSet::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `PRAGMA integrity_check`: `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| explain(&self.path, &e))
    }

    /// Rows in a kind's table.
    pub fn count(&self, kind: Kind) -> Result<u64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {}", table(kind));
        self.conn
            .query_row(&sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(|e| explain(&self.path, &e))
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        explain(&self.path, &e)
    }

    fn write_batch(&mut self, batch: &[Arc<Notice>]) -> rusqlite::Result<usize> {
        let tx = self.conn.transaction()?;
        let mut rows = 0;
        let mut latest: Option<Micros> = None;
        for n in batch {
            rows += write_notice(&tx, n, self.run, &mut self.connected)?;
            if let Some(t) = notice_time(n) {
                latest = Some(latest.map_or(t, |l| l.max(t)));
            }
        }
        if let (Some(run), Some(t)) = (self.run, latest) {
            tx.prepare_cached("UPDATE run SET last_write = MAX(last_write, ?2) WHERE id = ?1")?
                .execute(params![run, t])?;
        }
        tx.commit()?;
        Ok(rows)
    }

    fn write_alert_batch(&mut self, batch: &[AlertEvent]) -> rusqlite::Result<usize> {
        let tx = self.conn.transaction()?;
        let mut rows = 0;
        for e in batch {
            rows += alert_sql::write_event(&tx, e, self.run)?;
        }
        tx.commit()?;
        Ok(rows)
    }

    fn restore_seed(&self, spec: &RestoreSpec, now: Micros) -> rusqlite::Result<Seed> {
        let mut closed_arbs = Vec::new();
        let mut st = self.conn.prepare(&format!(
            "SELECT {ARB_COLUMNS} FROM arbitrage WHERE closed IS NOT NULL ORDER BY closed DESC LIMIT ?1"
        ))?;
        let limit = i64::try_from(spec.closed_arbs).unwrap_or(i64::MAX);
        for r in st.query_map([limit], arb_row)? {
            if let Some(c) = r?.to_closed() {
                closed_arbs.push(c);
            }
        }
        // The bare `peak_net_bps` comes from the row holding the maximum
        // (SQLite's rule for a single MAX aggregate): its exact text.
        let mut st = self.conn.prepare(
            "SELECT buy_venue, buy_instrument, sell_venue, sell_instrument, COUNT(*),
                    CAST(MIN(TOTAL(lifetime), 9.0e18) AS INTEGER), COALESCE(MAX(lifetime), 0),
                    peak_net_bps, MAX(CAST(peak_net_bps AS REAL))
             FROM arbitrage
             GROUP BY buy_venue, buy_instrument, sell_venue, sell_instrument",
        )?;
        let pair_stats = st
            .query_map([], |r| {
                Ok(PairSeed {
                    buy_venue: parsed(r, 0)?,
                    buy_instrument: parsed(r, 1)?,
                    sell_venue: parsed(r, 2)?,
                    sell_instrument: parsed(r, 3)?,
                    count: r.get::<_, i64>(4)?.max(0) as u64,
                    total_open: r.get(5)?,
                    longest: r.get(6)?,
                    best_net_bps: Some(decimal(r, 7)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let since = |w: Micros| now.saturating_sub(w);
        let records = |kind: Kind, from: Micros| -> rusqlite::Result<Vec<Record>> {
            let q = Query {
                since: Some(from),
                ..Query::new(kind)
            };
            self.select(&q)
        };
        let liquidations = records(Kind::Liquidations, since(spec.tape_window))?
            .into_iter()
            .filter_map(|r| match r {
                Record::Liquidation(l) => Some(l),
                _ => None,
            })
            .collect();
        let large_trades = records(Kind::Trades, since(spec.tape_window))?
            .into_iter()
            .filter_map(|r| match r {
                Record::Trade(t) => Some(t),
                _ => None,
            })
            .collect();
        let deriv_samples = records(Kind::Funding, since(spec.series_window))?
            .into_iter()
            .filter_map(|r| match r {
                Record::Funding(d) => Some(d),
                _ => None,
            })
            .collect();
        let candles = records(Kind::Candles, since(spec.candle_window))?
            .into_iter()
            .filter_map(|r| match r {
                Record::Candle(c) => Some(c),
                _ => None,
            })
            .collect();
        Ok(Seed {
            closed_arbs,
            pair_stats,
            liquidations,
            large_trades,
            deriv_samples,
            candles,
        })
    }

    fn select(&self, q: &Query) -> rusqlite::Result<Vec<Record>> {
        let columns = match q.kind {
            Kind::Arbitrage => ARB_COLUMNS,
            Kind::Liquidations => LIQ_COLUMNS,
            Kind::Trades => TRADE_COLUMNS,
            Kind::Funding => FUNDING_COLUMNS,
            Kind::Incidents => INCIDENT_COLUMNS,
            Kind::States => STATE_COLUMNS,
            Kind::Alerts => alert_sql::ALERT_COLUMNS,
            Kind::Candles => CANDLE_COLUMNS,
        };
        let by_close = q.by_close && q.kind == Kind::Arbitrage;
        let time = if by_close {
            "closed"
        } else {
            time_column(q.kind)
        };
        let mut clauses: Vec<String> = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        if by_close {
            clauses.push("closed IS NOT NULL".to_string());
        }
        if let Some(i) = q.instrument {
            args.push(Value::Text(i.to_string()));
            let n = args.len();
            clauses.push(if q.kind == Kind::Arbitrage {
                format!("(instrument = ?{n} OR buy_instrument = ?{n} OR sell_instrument = ?{n})")
            } else {
                format!("instrument = ?{n}")
            });
        }
        if let Some(v) = q.venue {
            args.push(Value::Text(v.as_str().to_string()));
            let n = args.len();
            clauses.push(if q.kind == Kind::Arbitrage {
                format!("(buy_venue = ?{n} OR sell_venue = ?{n})")
            } else {
                format!("venue = ?{n}")
            });
        }
        if let Some(t) = q.since {
            args.push(Value::Integer(t));
            clauses.push(format!("{time} >= ?{}", args.len()));
        }
        if let Some(t) = q.until {
            args.push(Value::Integer(t));
            clauses.push(format!("{time} < ?{}", args.len()));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        // The newest `limit` rows, handed back oldest first.
        let (order, limit) = match q.limit {
            Some(n) => {
                args.push(Value::Integer(i64::try_from(n).unwrap_or(i64::MAX)));
                ("DESC", format!(" LIMIT ?{}", args.len()))
            }
            None => ("ASC", String::new()),
        };
        let sql = format!(
            "SELECT {columns} FROM {}{filter} ORDER BY {time} {order}, id {order}{limit}",
            table(q.kind)
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let kind = q.kind;
        let mut out = if kind == Kind::Alerts {
            let rows = st.query_map(params_from_iter(args), alert_sql::alert_row)?;
            let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for (id, mut a) in rows {
                a.deliveries = alert_sql::deliveries(&self.conn, id)?;
                out.push(Record::Alert(a));
            }
            out
        } else {
            let rows = st.query_map(params_from_iter(args), |r| decode(kind, r))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        if q.limit.is_some() {
            out.reverse();
        }
        Ok(out)
    }
}

fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::ReadOnlyFilesystem => "read-only file system".to_string(),
        std::io::ErrorKind::StorageFull => "disk full".to_string(),
        _ => e.to_string(),
    }
}

fn table(kind: Kind) -> &'static str {
    match kind {
        Kind::Arbitrage => "arbitrage",
        Kind::Liquidations => "liquidation",
        Kind::Trades => "trade",
        Kind::Funding => "funding",
        Kind::Incidents => "incident",
        Kind::States => "state",
        Kind::Alerts => "alert",
        Kind::Candles => "candle",
    }
}

fn time_column(kind: Kind) -> &'static str {
    match kind {
        Kind::Arbitrage => "opened",
        Kind::Funding | Kind::Candles => "minute",
        _ => "time",
    }
}

impl Store for SqliteStore {
    fn begin_run(&mut self, started: Micros) -> Result<(), StoreError> {
        let version = env!("CARGO_PKG_VERSION");
        let tx = self
            .conn
            .transaction()
            .map_err(|e| explain(&self.path, &e))?;
        let run = (|| -> rusqlite::Result<i64> {
            // Closed at the last time their run wrote (never before they
            // opened); from a store of before runs existed: when they opened.
            tx.execute(
                "UPDATE arbitrage SET
                    closed = COALESCE((SELECT MAX(run.last_write, arbitrage.opened)
                                       FROM run WHERE run.id = arbitrage.run), opened),
                    lifetime = COALESCE((SELECT MAX(run.last_write, arbitrage.opened)
                                         FROM run WHERE run.id = arbitrage.run), opened) - opened,
                    reason = 'depthwatch stopped'
                 WHERE closed IS NULL",
                [],
            )?;
            tx.execute(
                "INSERT INTO run (started, last_write, version) VALUES (?1, ?1, ?2)",
                params![started, version],
            )?;
            Ok(tx.last_insert_rowid())
        })()
        .map_err(|e| explain(&self.path, &e))?;
        tx.commit().map_err(|e| explain(&self.path, &e))?;
        self.run = Some(run);
        self.connected.clear();
        Ok(())
    }

    fn write(&mut self, batch: &[Arc<Notice>]) -> Result<usize, StoreError> {
        self.write_batch(batch).map_err(|e| self.err(e))
    }

    fn prune(&mut self, retention: &Retention, now: Micros) -> Result<u64, StoreError> {
        let mut deleted = 0u64;
        for kind in Kind::ALL {
            let cutoff = retention.cutoff(kind, now);
            if kind == Kind::Alerts {
                // Deliveries go with their alert.
                loop {
                    let (alerts, rows) = alert_sql::prune(&self.conn, cutoff, PRUNE_CHUNK)
                        .map_err(|e| self.err(e))?;
                    deleted += rows as u64;
                    if alerts < PRUNE_CHUNK {
                        break;
                    }
                }
                continue;
            }
            let (t, time) = (table(kind), time_column(kind));
            let sql = format!(
                "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE {time} < ?1 ORDER BY {time} LIMIT {PRUNE_CHUNK})"
            );
            loop {
                let n = self
                    .conn
                    .prepare_cached(&sql)
                    .and_then(|mut st| st.execute([cutoff]))
                    .map_err(|e| self.err(e))?;
                deleted += n as u64;
                if n < PRUNE_CHUNK {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    fn write_alerts(&mut self, batch: &[AlertEvent]) -> Result<usize, StoreError> {
        self.write_alert_batch(batch).map_err(|e| self.err(e))
    }

    fn query(&self, q: &Query) -> Result<Vec<Record>, StoreError> {
        self.select(q).map_err(|e| self.err(e))
    }

    fn restore(&self, spec: &RestoreSpec, now: Micros) -> Result<Seed, StoreError> {
        self.restore_seed(spec, now).map_err(|e| self.err(e))
    }
}

/// The time a notice is filed under (for the run's last write).
fn notice_time(n: &Notice) -> Option<Micros> {
    Some(match n {
        Notice::ArbOpened(o) => o.opened,
        Notice::ArbClosed(c) => c.closed,
        Notice::Liquidation(l) => l.time,
        Notice::LargeTrade(t) => t.time,
        Notice::DerivSample(d) => d.minute,
        Notice::Incident { at, .. } | Notice::BookState { at, .. } | Notice::Conn { at, .. } => *at,
        Notice::Spike(_) | Notice::Candle(_) => return None,
    })
}

const ARB_INSERT: &str = "INSERT INTO arbitrage (instrument, buy_venue, buy_instrument, sell_venue,
    sell_instrument, opened, closed, lifetime, peak_net_bps, peak_profit, size, buy_vwap, sell_vwap,
    buy_fee_bps, sell_fee_bps, polled, reason, run)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

/// Write one notice; returns the rows written.
fn write_notice(
    tx: &Transaction<'_>,
    n: &Notice,
    run: Option<i64>,
    connected: &mut HashSet<(Venue, String)>,
) -> rusqlite::Result<usize> {
    match n {
        Notice::ArbOpened(o) => write_opened(tx, o, run),
        Notice::ArbClosed(c) => write_closed(tx, c, run),
        Notice::Liquidation(l) => tx
            .prepare_cached(
                "INSERT INTO liquidation (time, venue, instrument, side, price, size, notional_usd)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                l.time,
                l.venue.as_str(),
                l.instrument.to_string(),
                codec::liq_side(l.side),
                dec(l.price),
                dec(l.size),
                l.notional_known.then_some(l.notional_usd),
            ]),
        Notice::LargeTrade(t) => tx
            .prepare_cached(
                "INSERT INTO trade (time, venue, instrument, side, price, size, notional_usd)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                t.time,
                t.venue.as_str(),
                t.instrument.to_string(),
                codec::taker_side(t.side),
                dec(t.price),
                dec(t.size),
                t.notional_usd,
            ]),
        Notice::DerivSample(d) => tx
            .prepare_cached(
                "INSERT INTO funding (minute, venue, instrument, funding_rate, predicted_rate, mark,
                    index_price, oi_base, oi_usd, volume_usd)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (instrument, venue, minute) DO UPDATE SET
                    funding_rate = excluded.funding_rate, predicted_rate = excluded.predicted_rate,
                    mark = excluded.mark, index_price = excluded.index_price,
                    oi_base = excluded.oi_base, oi_usd = excluded.oi_usd,
                    volume_usd = excluded.volume_usd",
            )?
            .execute(params![
                d.minute,
                d.venue.as_str(),
                d.instrument.to_string(),
                d.funding_rate.map(dec),
                d.predicted_rate.map(dec),
                d.mark.map(dec),
                d.index.map(dec),
                d.oi_base.map(dec),
                d.oi_usd.filter(|u| u.is_finite()),
                if d.volume_usd.is_finite() { d.volume_usd } else { 0.0 },
            ]),
        Notice::Incident {
            venue,
            instrument,
            incident,
            detail,
            at,
        } => match codec::incident(*incident) {
            Some(kind) => write_incident(tx, *at, *venue, *instrument, kind, detail.as_deref()),
            None => Ok(0),
        },
        Notice::BookState {
            venue,
            instrument,
            state,
            at,
        } => {
            let (label, reason) = codec::book_state(state);
            write_state(tx, *at, *venue, Some(*instrument), None, label, reason)
        }
        Notice::Conn {
            venue,
            conn,
            state,
            at,
        } => {
            let (label, reason) = codec::conn_state(state);
            let mut rows = write_state(tx, *at, *venue, None, Some(conn), label, reason)?;
            match state {
                ConnState::Disconnected { reason } => {
                    rows += write_incident(tx, *at, *venue, None, "disconnect", Some(reason))?;
                }
                ConnState::Connected if !connected.insert((*venue, conn.clone())) => {
                    rows += write_incident(tx, *at, *venue, None, "reconnect", Some(conn))?;
                }
                _ => {}
            }
            Ok(rows)
        }
        Notice::Candle(m) => write_candle(tx, m),
        Notice::Spike(_) => Ok(0),
    }
}

/// A closed minute; a complete candle replaces a partial one of its
/// minute (a restart inside it), never the other way round.
fn write_candle(tx: &Transaction<'_>, m: &MinuteCandle) -> rusqlite::Result<usize> {
    let c = &m.candle;
    tx.prepare_cached(
        "INSERT INTO candle (minute, venue, instrument, open, high, low, close, volume,
            buy_volume, sell_volume, turnover, trades, partial)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (instrument, venue, minute) DO UPDATE SET
            open = excluded.open, high = excluded.high, low = excluded.low,
            close = excluded.close, volume = excluded.volume,
            buy_volume = excluded.buy_volume, sell_volume = excluded.sell_volume,
            turnover = excluded.turnover, trades = excluded.trades, partial = excluded.partial
         WHERE candle.partial = 1 OR excluded.partial = 0",
    )?
    .execute(params![
        c.start,
        m.venue.as_str(),
        m.instrument.to_string(),
        dec(c.open),
        dec(c.high),
        dec(c.low),
        dec(c.close),
        dec(c.volume),
        c.buy_volume.map(dec),
        c.sell_volume.map(dec),
        c.turnover.map(dec),
        c.trades.and_then(|n| i64::try_from(n).ok()),
        c.partial,
    ])
}

/// An opportunity that opened: its figures so far; closing completes it.
fn write_opened(
    tx: &Transaction<'_>,
    o: &ArbOpportunity,
    run: Option<i64>,
) -> rusqlite::Result<usize> {
    let sql =
        format!("{ARB_INSERT} ON CONFLICT (instrument, buy_venue, sell_venue, opened) DO NOTHING");
    tx.prepare_cached(&sql)?.execute(params![
        o.key.to_string(),
        o.buy_venue.as_str(),
        o.buy_instrument.to_string(),
        o.sell_venue.as_str(),
        o.sell_instrument.to_string(),
        o.opened,
        None::<i64>,
        None::<i64>,
        dec(o.peak_net_bps),
        dec(o.peak_profit),
        dec(o.peak_size),
        dec(o.peak_buy_vwap),
        dec(o.peak_sell_vwap),
        dec(o.buy_fee_bps),
        dec(o.sell_fee_bps),
        o.polled,
        None::<String>,
        run,
    ])
}

/// An opportunity that closed: completes the row its opening wrote (or
/// writes it whole, if the opening was dropped).
fn write_closed(tx: &Transaction<'_>, c: &ClosedArb, run: Option<i64>) -> rusqlite::Result<usize> {
    let sql = format!(
        "{ARB_INSERT} ON CONFLICT (instrument, buy_venue, sell_venue, opened) DO UPDATE SET
            closed = excluded.closed, lifetime = excluded.lifetime,
            peak_net_bps = excluded.peak_net_bps, peak_profit = excluded.peak_profit,
            size = excluded.size, buy_vwap = excluded.buy_vwap, sell_vwap = excluded.sell_vwap,
            buy_fee_bps = excluded.buy_fee_bps, sell_fee_bps = excluded.sell_fee_bps,
            polled = excluded.polled, reason = excluded.reason"
    );
    tx.prepare_cached(&sql)?.execute(params![
        c.key.to_string(),
        c.buy_venue.as_str(),
        c.buy_instrument.to_string(),
        c.sell_venue.as_str(),
        c.sell_instrument.to_string(),
        c.opened,
        c.closed,
        c.closed.saturating_sub(c.opened).max(0),
        dec(c.peak_net_bps),
        dec(c.peak_profit),
        dec(c.size),
        dec(c.buy_vwap),
        dec(c.sell_vwap),
        dec(c.buy_fee_bps),
        dec(c.sell_fee_bps),
        c.polled,
        c.reason,
        run,
    ])
}

fn write_incident(
    tx: &Transaction<'_>,
    at: Micros,
    venue: Venue,
    instrument: Option<Instrument>,
    kind: &str,
    detail: Option<&str>,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "INSERT INTO incident (time, venue, instrument, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        at,
        venue.as_str(),
        instrument.map(|i| i.to_string()),
        kind,
        detail
    ])
}

fn write_state(
    tx: &Transaction<'_>,
    at: Micros,
    venue: Venue,
    instrument: Option<Instrument>,
    conn: Option<&str>,
    state: &str,
    reason: Option<String>,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "INSERT INTO state (time, venue, instrument, conn, state, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        at,
        venue.as_str(),
        instrument.map(|i| i.to_string()),
        conn,
        state,
        reason
    ])
}

const ARB_COLUMNS: &str = "instrument, buy_venue, buy_instrument, sell_venue, sell_instrument,
    opened, closed, peak_net_bps, peak_profit, size, buy_vwap, sell_vwap, buy_fee_bps,
    sell_fee_bps, polled, reason";
const LIQ_COLUMNS: &str = "time, venue, instrument, side, price, size, notional_usd";
const TRADE_COLUMNS: &str = "time, venue, instrument, side, price, size, notional_usd";
const FUNDING_COLUMNS: &str = "minute, venue, instrument, funding_rate, predicted_rate, mark,
    index_price, oi_base, oi_usd, volume_usd";
const CANDLE_COLUMNS: &str = "minute, venue, instrument, open, high, low, close, volume,
    buy_volume, sell_volume, turnover, trades, partial";
const INCIDENT_COLUMNS: &str = "time, venue, instrument, kind, detail";
const STATE_COLUMNS: &str = "time, venue, instrument, conn, state, reason";

/// A stored text that does not parse: the row is reported, never guessed.
fn bad(idx: usize, what: &str, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        rusqlite::types::Type::Text,
        format!("not a valid {what}: {text:?}").into(),
    )
}

fn parsed<T: FromStr>(r: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = r.get(idx)?;
    text.parse()
        .map_err(|_| bad(idx, std::any::type_name::<T>(), &text))
}

fn parsed_opt<T: FromStr>(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<T>> {
    match r.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| bad(idx, std::any::type_name::<T>(), &text)),
    }
}

fn decimal(r: &Row<'_>, idx: usize) -> rusqlite::Result<rust_decimal::Decimal> {
    let text: String = r.get(idx)?;
    codec::parse_dec(&text).ok_or_else(|| bad(idx, "decimal", &text))
}

fn decimal_opt(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<rust_decimal::Decimal>> {
    match r.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(text) => codec::parse_dec(&text)
            .map(Some)
            .ok_or_else(|| bad(idx, "decimal", &text)),
    }
}

fn arb_row(r: &Row<'_>) -> rusqlite::Result<ArbRecord> {
    Ok(ArbRecord {
        key: parsed(r, 0)?,
        buy_venue: parsed(r, 1)?,
        buy_instrument: parsed(r, 2)?,
        sell_venue: parsed(r, 3)?,
        sell_instrument: parsed(r, 4)?,
        opened: r.get(5)?,
        closed: r.get(6)?,
        peak_net_bps: decimal(r, 7)?,
        peak_profit: decimal(r, 8)?,
        size: decimal(r, 9)?,
        buy_vwap: decimal(r, 10)?,
        sell_vwap: decimal(r, 11)?,
        buy_fee_bps: decimal(r, 12)?,
        sell_fee_bps: decimal(r, 13)?,
        polled: r.get(14)?,
        reason: r.get(15)?,
    })
}

fn decode(kind: Kind, r: &Row<'_>) -> rusqlite::Result<Record> {
    Ok(match kind {
        Kind::Arbitrage => Record::Arb(arb_row(r)?),
        Kind::Liquidations => {
            let side: String = r.get(3)?;
            let usd: Option<f64> = r.get(6)?;
            Record::Liquidation(LiquidationRow {
                time: r.get(0)?,
                venue: parsed(r, 1)?,
                instrument: parsed(r, 2)?,
                side: codec::parse_liq_side(&side).ok_or_else(|| bad(3, "side", &side))?,
                price: decimal(r, 4)?,
                size: decimal(r, 5)?,
                notional_usd: usd.unwrap_or(0.0),
                notional_known: usd.is_some(),
            })
        }
        Kind::Trades => {
            let side: String = r.get(3)?;
            Record::Trade(TradeRow {
                time: r.get(0)?,
                venue: parsed(r, 1)?,
                instrument: parsed(r, 2)?,
                side: codec::parse_taker_side(&side).ok_or_else(|| bad(3, "side", &side))?,
                price: decimal(r, 4)?,
                size: decimal(r, 5)?,
                notional_usd: r.get(6)?,
            })
        }
        Kind::Funding => Record::Funding(DerivSample {
            minute: r.get(0)?,
            venue: parsed(r, 1)?,
            instrument: parsed(r, 2)?,
            funding_rate: decimal_opt(r, 3)?,
            predicted_rate: decimal_opt(r, 4)?,
            mark: decimal_opt(r, 5)?,
            index: decimal_opt(r, 6)?,
            oi_base: decimal_opt(r, 7)?,
            oi_usd: r.get(8)?,
            volume_usd: r.get(9)?,
        }),
        Kind::Incidents => Record::Incident(IncidentRecord {
            time: r.get(0)?,
            venue: parsed(r, 1)?,
            instrument: parsed_opt(r, 2)?,
            kind: r.get(3)?,
            detail: r.get(4)?,
        }),
        Kind::Candles => Record::Candle(MinuteCandle {
            venue: parsed(r, 1)?,
            instrument: parsed(r, 2)?,
            candle: Candle {
                start: r.get(0)?,
                open: decimal(r, 3)?,
                high: decimal(r, 4)?,
                low: decimal(r, 5)?,
                close: decimal(r, 6)?,
                volume: decimal(r, 7)?,
                buy_volume: decimal_opt(r, 8)?,
                sell_volume: decimal_opt(r, 9)?,
                turnover: decimal_opt(r, 10)?,
                trades: r
                    .get::<_, Option<i64>>(11)?
                    .and_then(|n| u64::try_from(n).ok()),
                partial: r.get(12)?,
            },
        }),
        Kind::Alerts => unreachable!("alerts are read with their deliveries (select)"),
        Kind::States => Record::State(StateRecord {
            time: r.get(0)?,
            venue: parsed(r, 1)?,
            instrument: parsed_opt(r, 2)?,
            conn: r.get(3)?,
            state: r.get(4)?,
            reason: r.get(5)?,
        }),
    })
}
