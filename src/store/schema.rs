//! The SQLite schema, as numbered migrations. `PRAGMA user_version` holds
//! the number of migrations applied; opening a store applies the missing
//! ones in one transaction each, so a file from any earlier depthwatch is
//! brought up to date and a crash mid-upgrade leaves the previous version.
//! A file with a higher version than [`VERSION`] (a newer depthwatch) is
//! refused, never written.
//!
//! Conventions (README, "History"): times are integer Unix microseconds;
//! prices, sizes, rates and bps are exact decimal TEXT; USD notionals (a
//! statistic, converted at the rate of the moment) are REAL; venues and
//! instruments are their depthwatch names (`okx`, `BTC-USDT-PERP`). Every
//! table has an index on (instrument, venue, time), one on (instrument,
//! time), one on (venue, time) and one on time, for the `history`
//! selections.

use rusqlite::Connection;

/// Migration `n` (1-based) takes a store from version `n - 1` to `n`.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5];

/// The schema version this depthwatch writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 1: one table per kind of history.
const V1: &str = "
CREATE TABLE arbitrage (
    id INTEGER PRIMARY KEY,
    instrument TEXT NOT NULL,       -- the quote-group key compared under
    buy_venue TEXT NOT NULL,
    buy_instrument TEXT NOT NULL,
    sell_venue TEXT NOT NULL,
    sell_instrument TEXT NOT NULL,
    opened INTEGER NOT NULL,
    closed INTEGER,                 -- NULL while open
    lifetime INTEGER,               -- closed - opened, microseconds
    peak_net_bps TEXT NOT NULL,
    peak_profit TEXT NOT NULL,      -- quote currency, after both taker fees
    size TEXT NOT NULL,             -- base size of the walk at the peak
    buy_vwap TEXT NOT NULL,
    sell_vwap TEXT NOT NULL,
    buy_fee_bps TEXT NOT NULL,
    sell_fee_bps TEXT NOT NULL,
    polled INTEGER NOT NULL,        -- 1: a book was polled over REST
    reason TEXT                     -- why it ended
);
CREATE UNIQUE INDEX arbitrage_pair ON arbitrage (instrument, buy_venue, sell_venue, opened);
CREATE INDEX arbitrage_buy ON arbitrage (buy_venue, opened);
CREATE INDEX arbitrage_sell ON arbitrage (sell_venue, opened);
CREATE INDEX arbitrage_time ON arbitrage (opened);

CREATE TABLE liquidation (
    id INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,          -- local receive time
    venue TEXT NOT NULL,
    instrument TEXT NOT NULL,
    side TEXT NOT NULL,             -- the liquidated side: long or short
    price TEXT NOT NULL,
    size TEXT NOT NULL,
    notional_usd REAL               -- NULL: no USD rate was known
);
CREATE INDEX liquidation_iv ON liquidation (instrument, venue, time);
CREATE INDEX liquidation_v ON liquidation (venue, time);
CREATE INDEX liquidation_time ON liquidation (time);

CREATE TABLE trade (
    id INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    venue TEXT NOT NULL,
    instrument TEXT NOT NULL,
    side TEXT NOT NULL,             -- the taker side: buy or sell
    price TEXT NOT NULL,
    size TEXT NOT NULL,
    notional_usd REAL NOT NULL
);
CREATE INDEX trade_iv ON trade (instrument, venue, time);
CREATE INDEX trade_v ON trade (venue, time);
CREATE INDEX trade_time ON trade (time);

CREATE TABLE funding (
    id INTEGER PRIMARY KEY,
    minute INTEGER NOT NULL,        -- start of the closed minute
    venue TEXT NOT NULL,
    instrument TEXT NOT NULL,
    funding_rate TEXT,              -- the venue's per-period rate
    predicted_rate TEXT,
    mark TEXT,
    index_price TEXT,
    oi_base TEXT,                   -- open interest, base asset
    oi_usd REAL,
    volume_usd REAL NOT NULL        -- traded in that minute
);
CREATE UNIQUE INDEX funding_iv ON funding (instrument, venue, minute);
CREATE INDEX funding_v ON funding (venue, minute);
CREATE INDEX funding_time ON funding (minute);

CREATE TABLE incident (
    id INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    venue TEXT NOT NULL,
    instrument TEXT,                -- NULL: the whole connection
    kind TEXT NOT NULL,             -- gap, resync, checksum_failed, parse_error,
                                    -- unknown_message, disconnect, reconnect
    detail TEXT
);
CREATE INDEX incident_iv ON incident (instrument, venue, time);
CREATE INDEX incident_v ON incident (venue, time);
CREATE INDEX incident_time ON incident (time);

CREATE TABLE state (
    id INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    venue TEXT NOT NULL,
    instrument TEXT,                -- set for a book
    conn TEXT,                      -- set for a connection
    state TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX state_iv ON state (instrument, venue, time);
CREATE INDEX state_v ON state (venue, time);
CREATE INDEX state_time ON state (time);
";

/// Version 2: runs. Each start of depthwatch is a run; the writer keeps its
/// last write time, so opportunities a killed run left open can be closed
/// at that time on the next start instead of staying open forever.
const V2: &str = "
CREATE TABLE run (
    id INTEGER PRIMARY KEY,
    started INTEGER NOT NULL,
    last_write INTEGER NOT NULL,    -- latest notice time written
    version TEXT NOT NULL           -- depthwatch version
);
ALTER TABLE arbitrage ADD COLUMN run INTEGER REFERENCES run (id);
";

/// Version 3: opportunities by when they closed, for the Arbitrage pane
/// paging back through closed ones (and the restore of the latest closed);
/// and (instrument, time) per kind, so that a selection naming an
/// instrument but no venue reads a time range of it instead of every row
/// of the instrument (a day of one instrument over 10 venues in a
/// 10-million-row store: 148 ms before, `benches/store.rs`).
const V3: &str = "
CREATE INDEX arbitrage_closed ON arbitrage (closed);
CREATE INDEX liquidation_it ON liquidation (instrument, time);
CREATE INDEX trade_it ON trade (instrument, time);
CREATE INDEX funding_it ON funding (instrument, minute);
CREATE INDEX incident_it ON incident (instrument, time);
CREATE INDEX state_it ON state (instrument, time);
";

/// Version 4: alerts and what each destination did with them. `id` is the
/// alert's number within its run (the Alerts pane's `#n`); a delivery row
/// is one outcome as it became known (queued, then retrying, then sent), so
/// the latest per destination is what the pane showed. Destinations are
/// their names only (`telegram`): never a URL or a token.
const V4: &str = "
CREATE TABLE alert (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL,      -- the alert's number within its run
    run INTEGER REFERENCES run (id),
    time INTEGER NOT NULL,          -- engine time it fired at
    rule TEXT NOT NULL,
    kind TEXT NOT NULL,             -- the rule's kind, or test
    severity TEXT NOT NULL,
    subject TEXT NOT NULL,
    instrument TEXT,
    venue TEXT,
    text TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    muted INTEGER NOT NULL
);
CREATE UNIQUE INDEX alert_run ON alert (run, alert_id);
CREATE INDEX alert_iv ON alert (instrument, venue, time);
CREATE INDEX alert_it ON alert (instrument, time);
CREATE INDEX alert_v ON alert (venue, time);
CREATE INDEX alert_time ON alert (time);

CREATE TABLE alert_delivery (
    id INTEGER PRIMARY KEY,
    alert INTEGER NOT NULL REFERENCES alert (id),
    destination TEXT NOT NULL,      -- app, bell, desktop, webhook, telegram, discord, slack
    outcome TEXT NOT NULL,          -- queued, sent, retrying, suppressed, failed
    attempts INTEGER,               -- sent and retrying: the attempt
    detail TEXT,                    -- why (suppressed, retrying, failed)
    time INTEGER NOT NULL           -- wall clock when it became known
);
CREATE INDEX alert_delivery_alert ON alert_delivery (alert, id);
CREATE INDEX alert_delivery_time ON alert_delivery (time);
";

/// Version 5: one-minute candles per instrument and venue, as depthwatch
/// built them from the trades. One row per minute: a complete candle
/// replaces a partial one of the same minute, never the other way round.
const V5: &str = "
CREATE TABLE candle (
    id INTEGER PRIMARY KEY,
    minute INTEGER NOT NULL,        -- start of the minute, exchange time
    venue TEXT NOT NULL,
    instrument TEXT NOT NULL,
    open TEXT NOT NULL,
    high TEXT NOT NULL,
    low TEXT NOT NULL,
    close TEXT NOT NULL,
    volume TEXT NOT NULL,           -- base
    buy_volume TEXT,                -- base bought by takers; NULL: not known
    sell_volume TEXT,
    turnover TEXT,                  -- quote (sum of price x size), for the VWAP
    trades INTEGER,
    partial INTEGER NOT NULL        -- 1: built from part of the minute only
);
CREATE UNIQUE INDEX candle_iv ON candle (instrument, venue, minute);
CREATE INDEX candle_it ON candle (instrument, minute);
CREATE INDEX candle_v ON candle (venue, minute);
CREATE INDEX candle_time ON candle (minute);
";

/// The version of an open store.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Bring the store to `target` (at most [`VERSION`]) one migration at a
/// time; returns the version found. A version above `target` is left alone
/// (the caller decides whether that is acceptable).
pub fn migrate_to(conn: &mut Connection, target: i64) -> rusqlite::Result<i64> {
    let found = version(conn)?;
    let target = target.min(VERSION);
    for n in found.max(0)..target {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[n as usize])?;
        // PRAGMA takes no parameters; `n + 1` is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {}", n + 1))?;
        tx.commit()?;
    }
    Ok(found)
}
