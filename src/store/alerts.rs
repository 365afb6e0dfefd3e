//! Alerts and their deliveries in the store: the rows as written and read
//! back, the handle the alerts task writes through, and the SQL.
//!
//! The alerts task is not one of the engine's sinks for the store, so it
//! gets its own bounded channel into the same writer ([`AlertSink`]):
//! `try_send`, never a wait; what does not fit is counted as dropped in the
//! store's line of the Health pane, beside the engine's notices.
//!
//! Only what the Alerts pane shows is kept: destination names, outcomes and
//! their reasons (already without URLs, `deliver::http`). Webhook URLs and
//! tokens never reach this module.

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use tokio::sync::mpsc;

use crate::alerts::alert::Alert;
use crate::alerts::deliver::{self, Outcome};
use crate::alerts::rule::{RuleKind, Severity};
use crate::alerts::view::AlertRecord;
use crate::engine::notices::SinkStatus;
use crate::model::{Instrument, Micros, Venue};

/// Alerts read back into the Alerts pane at start.
pub const RESTORE_ALERTS: usize = 200;

/// Alert events the writer may fall behind by before they are dropped.
pub const ALERT_CAPACITY: usize = 1_024;

/// One outcome at one destination, as it became known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRow {
    pub destination: String,
    /// `queued`, `sent`, `retrying`, `suppressed`, `failed`.
    pub outcome: String,
    /// Sent: the attempt that succeeded; retrying: the attempt that failed.
    pub attempts: Option<u32>,
    /// Why (suppressed, retrying, failed).
    pub detail: Option<String>,
    /// Wall clock when it became known.
    pub time: Micros,
}

impl DeliveryRow {
    pub fn of(destination: &str, o: &Outcome, time: Micros) -> DeliveryRow {
        let (attempts, detail) = match o {
            Outcome::Queued => (None, None),
            Outcome::Sent { attempts } => (Some(*attempts), None),
            Outcome::Retrying {
                attempt, reason, ..
            } => (Some(*attempt), Some(reason.clone())),
            Outcome::Suppressed(why) | Outcome::Failed(why) => (None, Some(why.clone())),
        };
        DeliveryRow {
            destination: destination.to_string(),
            outcome: o.word().to_string(),
            attempts,
            detail,
            time,
        }
    }

    /// The outcome as the Alerts pane shows it. An alert still queued or
    /// retrying when depthwatch stopped was never delivered, and no one
    /// will deliver it now: it reads as failed, saying so.
    pub fn to_outcome(&self) -> Outcome {
        let detail = self.detail.clone().unwrap_or_default();
        match self.outcome.as_str() {
            "sent" => Outcome::Sent {
                attempts: self.attempts.unwrap_or(1),
            },
            "suppressed" => Outcome::Suppressed(detail),
            "failed" => Outcome::Failed(detail),
            other if detail.is_empty() => {
                Outcome::Failed(format!("depthwatch stopped while it was {other}"))
            }
            other => Outcome::Failed(format!("depthwatch stopped while it was {other}: {detail}")),
        }
    }

    /// `sent`, `failed(429 Too Many Requests)`.
    pub fn summary(&self) -> String {
        match &self.detail {
            Some(d) if !d.is_empty() => format!("{}({d})", self.outcome),
            _ => self.outcome.clone(),
        }
    }
}

/// One alert with its deliveries, oldest outcome first.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRow {
    /// The run it fired in (`None`: written without a run).
    pub run: Option<i64>,
    /// Its number within that run.
    pub id: u64,
    pub time: Micros,
    pub rule: String,
    pub kind: String,
    pub severity: String,
    pub subject: String,
    pub instrument: Option<Instrument>,
    pub venue: Option<Venue>,
    pub text: String,
    pub dedup_key: String,
    pub muted: bool,
    pub deliveries: Vec<DeliveryRow>,
}

impl AlertRow {
    /// An alert as it fired, with what was known at once.
    pub fn of(a: &Alert, deliveries: &[(&'static str, Outcome)], now: Micros) -> AlertRow {
        AlertRow {
            run: None,
            id: a.id,
            time: a.at,
            rule: a.rule.clone(),
            kind: a.kind.to_string(),
            severity: a.severity.as_str().to_string(),
            subject: a.subject.clone(),
            instrument: a.instrument,
            venue: a.venue,
            text: a.text.clone(),
            dedup_key: a.dedup_key.clone(),
            muted: a.muted,
            deliveries: deliveries
                .iter()
                .map(|(d, o)| DeliveryRow::of(d, o, now))
                .collect(),
        }
    }

    /// The latest outcome per destination, in the order destinations first
    /// appeared.
    pub fn latest_deliveries(&self) -> Vec<&DeliveryRow> {
        let mut out: Vec<&DeliveryRow> = Vec::new();
        for d in &self.deliveries {
            match out.iter_mut().find(|x| x.destination == d.destination) {
                Some(x) => *x = d,
                None => out.push(d),
            }
        }
        out
    }

    /// `app:sent telegram:failed(429 Too Many Requests)`.
    pub fn delivery_summary(&self) -> String {
        self.latest_deliveries()
            .iter()
            .map(|d| format!("{}:{}", d.destination, d.summary()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// As the Alerts pane keeps it (acknowledged: it is from an earlier
    /// run). Names this depthwatch does not know (a newer one wrote them)
    /// read as `unknown`; destinations it does not know are left out.
    pub fn to_record(&self) -> AlertRecord {
        let kind = RuleKind::NAMES
            .into_iter()
            .chain(["test"])
            .find(|k| *k == self.kind)
            .unwrap_or("unknown");
        let deliveries = self
            .latest_deliveries()
            .into_iter()
            .filter_map(|d| {
                let name = deliver::NAMES.into_iter().find(|n| *n == d.destination)?;
                Some((name, d.to_outcome()))
            })
            .collect();
        AlertRecord {
            alert: Alert {
                id: self.id,
                at: self.time,
                rule: self.rule.clone(),
                kind,
                severity: Severity::parse(&self.severity).unwrap_or(Severity::Info),
                subject: self.subject.clone(),
                instrument: self.instrument,
                venue: self.venue,
                text: self.text.clone(),
                dedup_key: self.dedup_key.clone(),
                muted: self.muted,
            },
            acked: true,
            deliveries,
        }
    }
}

/// What the alerts task hands the writer.
#[derive(Clone, Debug, PartialEq)]
pub enum AlertEvent {
    /// An alert fired, with the outcomes known at once.
    Fired(AlertRow),
    /// A later outcome of alert `alert` (its number in this run).
    Delivery { alert: u64, delivery: DeliveryRow },
}

impl AlertEvent {
    pub fn time(&self) -> Micros {
        match self {
            AlertEvent::Fired(a) => a.time,
            AlertEvent::Delivery { delivery, .. } => delivery.time,
        }
    }
}

/// The alerts task's way into the store's writer: never waits.
#[derive(Clone, Debug)]
pub struct AlertSink {
    tx: mpsc::Sender<AlertEvent>,
    status: Arc<SinkStatus>,
}

impl AlertSink {
    /// A sink and the writer's end; drops count in `status`.
    pub fn channel(
        capacity: usize,
        status: Arc<SinkStatus>,
    ) -> (AlertSink, mpsc::Receiver<AlertEvent>) {
        let (tx, rx) = mpsc::channel(capacity);
        (AlertSink { tx, status }, rx)
    }

    pub fn send(&self, e: AlertEvent) {
        if self.tx.try_send(e).is_err() {
            self.status.count_dropped(1);
        }
    }
}

/// Write one event; returns the rows written. A delivery of an alert not
/// in the store (its `Fired` was dropped) writes nothing.
pub(super) fn write_event(
    tx: &Transaction<'_>,
    e: &AlertEvent,
    run: Option<i64>,
) -> rusqlite::Result<usize> {
    match e {
        AlertEvent::Fired(a) => {
            tx.prepare_cached(
                "INSERT INTO alert (alert_id, run, time, rule, kind, severity, subject, instrument,
                    venue, text, dedup_key, muted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                a.id as i64,
                run,
                a.time,
                a.rule,
                a.kind,
                a.severity,
                a.subject,
                a.instrument.map(|i| i.to_string()),
                a.venue.map(|v| v.as_str()),
                a.text,
                a.dedup_key,
                a.muted,
            ])?;
            let row = tx.last_insert_rowid();
            let mut n = 1;
            for d in &a.deliveries {
                n += write_delivery(tx, row, d)?;
            }
            Ok(n)
        }
        AlertEvent::Delivery { alert, delivery } => {
            let row: Option<i64> = tx
                .prepare_cached("SELECT id FROM alert WHERE run IS ?1 AND alert_id = ?2")?
                .query_row(params![run, *alert as i64], |r| r.get(0))
                .optional()?;
            match row {
                Some(row) => write_delivery(tx, row, delivery),
                None => Ok(0),
            }
        }
    }
}

fn write_delivery(tx: &Transaction<'_>, alert: i64, d: &DeliveryRow) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "INSERT INTO alert_delivery (alert, destination, outcome, attempts, detail, time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        alert,
        d.destination,
        d.outcome,
        d.attempts,
        d.detail,
        d.time
    ])
}

/// The columns [`alert_row`] reads, `id` (the row's) first.
pub(super) const ALERT_COLUMNS: &str = "id, run, alert_id, time, rule, kind, severity, subject,
    instrument, venue, text, dedup_key, muted";

/// An alert row without its deliveries, and its row id (for them).
pub(super) fn alert_row(r: &Row<'_>) -> rusqlite::Result<(i64, AlertRow)> {
    let parse_opt = |idx: usize| -> rusqlite::Result<Option<String>> { r.get(idx) };
    let instrument = match parse_opt(8)? {
        Some(t) => Some(t.parse().map_err(|_| bad(8, "instrument", &t))?),
        None => None,
    };
    let venue = match parse_opt(9)? {
        Some(t) => Some(t.parse().map_err(|_| bad(9, "venue", &t))?),
        None => None,
    };
    Ok((
        r.get(0)?,
        AlertRow {
            run: r.get(1)?,
            id: r.get::<_, i64>(2)?.max(0) as u64,
            time: r.get(3)?,
            rule: r.get(4)?,
            kind: r.get(5)?,
            severity: r.get(6)?,
            subject: r.get(7)?,
            instrument,
            venue,
            text: r.get(10)?,
            dedup_key: r.get(11)?,
            muted: r.get(12)?,
            deliveries: Vec::new(),
        },
    ))
}

fn bad(idx: usize, what: &str, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        rusqlite::types::Type::Text,
        format!("not a valid {what}: {text:?}").into(),
    )
}

/// The deliveries of the alert in row `alert`, oldest first.
pub(super) fn deliveries(conn: &Connection, alert: i64) -> rusqlite::Result<Vec<DeliveryRow>> {
    let mut st = conn.prepare_cached(
        "SELECT destination, outcome, attempts, detail, time FROM alert_delivery
         WHERE alert = ?1 ORDER BY id",
    )?;
    st.query_map([alert], |r| {
        Ok(DeliveryRow {
            destination: r.get(0)?,
            outcome: r.get(1)?,
            attempts: r.get(2)?,
            detail: r.get(3)?,
            time: r.get(4)?,
        })
    })?
    .collect()
}

/// Delete alerts before `cutoff` and their deliveries, at most `chunk`
/// alerts; returns the alerts deleted and all rows deleted.
pub(super) fn prune(
    conn: &Connection,
    cutoff: Micros,
    chunk: usize,
) -> rusqlite::Result<(usize, usize)> {
    let pick = format!("SELECT id FROM alert WHERE time < ?1 ORDER BY time LIMIT {chunk}");
    let d = conn
        .prepare_cached(&format!(
            "DELETE FROM alert_delivery WHERE alert IN ({pick})"
        ))?
        .execute([cutoff])?;
    let a = conn
        .prepare_cached(&format!("DELETE FROM alert WHERE id IN ({pick})"))?
        .execute([cutoff])?;
    Ok((a, a + d))
}
