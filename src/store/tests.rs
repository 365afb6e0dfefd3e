//! Round trips per kind, migrations, runs, pruning and restore.

use std::sync::Arc;

use rusqlite::{Connection, params};
use rust_decimal_macros::dec;

use super::*;
use crate::engine::candles::{Candle, MinuteCandle};
use crate::engine::derivs::DerivSample;
use crate::engine::snapshot::{ArbOpportunity, ClosedArb, ConnState, LiquidationRow, TradeRow};
use crate::model::{BookState, Incident, LiquidatedSide, OutOfSyncReason, TakerSide};

const T0: Micros = 1_764_000_000_000_000;
const MIN: Micros = 60_000_000;

fn i(s: &str) -> Instrument {
    s.parse().unwrap()
}

fn v(s: &str) -> Venue {
    s.parse().unwrap()
}

pub(super) fn opened(at: Micros) -> ArbOpportunity {
    ArbOpportunity {
        key: i("BTC-USDT"),
        buy_venue: v("binance"),
        buy_instrument: i("BTC-USDT"),
        sell_venue: v("okx"),
        sell_instrument: i("BTC-USDT"),
        buy_fee_bps: dec!(10),
        sell_fee_bps: dec!(8),
        size: dec!(0.5),
        buy_vwap: dec!(65000.10),
        sell_vwap: dec!(65200.00),
        gross_bps: dec!(30.7),
        net_bps: dec!(12.7),
        profit: dec!(41.32),
        opened: at,
        peak_net_bps: dec!(12.7),
        peak_profit: dec!(41.32),
        peak_size: dec!(0.5),
        peak_buy_vwap: dec!(65000.10),
        peak_sell_vwap: dec!(65200.00),
        polled: false,
    }
}

pub(super) fn closed(opened_at: Micros, lasted: Micros) -> ClosedArb {
    ClosedArb {
        key: i("BTC-USDT"),
        buy_venue: v("binance"),
        sell_venue: v("okx"),
        opened: opened_at,
        closed: opened_at + lasted,
        peak_net_bps: dec!(15.25),
        peak_profit: dec!(52.000001),
        reason: "spread closed".into(),
        buy_instrument: i("BTC-USDT"),
        sell_instrument: i("BTC-USDT"),
        buy_fee_bps: dec!(10),
        sell_fee_bps: dec!(8),
        size: dec!(0.62),
        buy_vwap: dec!(64999.9),
        sell_vwap: dec!(65210.0),
        polled: true,
    }
}

fn liquidation(at: Micros, known: bool) -> LiquidationRow {
    LiquidationRow {
        venue: v("bybit"),
        instrument: i("ETH-USDT-PERP"),
        side: LiquidatedSide::Short,
        price: dec!(1920.29),
        size: dec!(67.317),
        notional_usd: if known { 129_268.2 } else { 0.0 },
        notional_known: known,
        time: at,
    }
}

fn trade(at: Micros) -> TradeRow {
    TradeRow {
        venue: v("binance"),
        instrument: i("BTC-USDT-PERP"),
        side: TakerSide::Sell,
        price: dec!(64932.50),
        size: dec!(2.000),
        notional_usd: 129_865.0,
        time: at,
    }
}

fn sample(minute: Micros, oi: Decimal, volume: f64) -> DerivSample {
    DerivSample {
        venue: v("okx"),
        instrument: i("BTC-USDT-PERP"),
        minute,
        funding_rate: Some(dec!(0.000100)),
        predicted_rate: None,
        mark: Some(dec!(65110.9)),
        index: Some(dec!(65107.7)),
        oi_base: Some(oi),
        oi_usd: Some(3.4e9),
        volume_usd: volume,
    }
}

use rust_decimal::Decimal;

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(&dir.path().join("h.sqlite")).unwrap();
    s.begin_run(T0).unwrap();
    (dir, s)
}

fn write(s: &mut SqliteStore, notices: Vec<Notice>) -> usize {
    let batch: Vec<Arc<Notice>> = notices.into_iter().map(Arc::new).collect();
    s.write(&batch).unwrap()
}

fn all(s: &SqliteStore, kind: Kind) -> Vec<Record> {
    s.query(&Query::new(kind)).unwrap()
}

#[test]
fn opportunities_round_trip_open_then_closed() {
    let (_d, mut s) = store();
    assert_eq!(write(&mut s, vec![Notice::ArbOpened(opened(T0))]), 1);
    let rows = all(&s, Kind::Arbitrage);
    let Record::Arb(a) = &rows[0] else {
        panic!("{rows:?}")
    };
    assert_eq!(
        (a.closed, a.reason.as_deref(), a.lifetime()),
        (None, None, None)
    );
    assert_eq!(a.peak_profit, dec!(41.32));
    assert_eq!(a.to_closed(), None);
    // Closing completes the same row with the peak figures.
    let c = closed(T0, 7_600_000);
    write(&mut s, vec![Notice::ArbClosed(c.clone())]);
    let rows = all(&s, Kind::Arbitrage);
    assert_eq!(rows.len(), 1);
    let Record::Arb(a) = &rows[0] else {
        panic!("{rows:?}")
    };
    assert_eq!(a.to_closed().as_ref(), Some(&c));
    assert_eq!(a.lifetime(), Some(7_600_000));
    assert_eq!(a.peak_profit.to_string(), "52.000001", "exact text");
    // A closing whose opening was dropped is written whole.
    let c2 = closed(T0 + MIN, 1_000);
    write(&mut s, vec![Notice::ArbClosed(c2.clone())]);
    let rows = all(&s, Kind::Arbitrage);
    assert_eq!(rows.len(), 2);
    assert!(matches!(&rows[1], Record::Arb(a) if a.to_closed() == Some(c2.clone())));
}

#[test]
fn liquidations_trades_and_samples_round_trip() {
    let (_d, mut s) = store();
    let (l1, l2) = (liquidation(T0, true), liquidation(T0 + 1, false));
    let t = trade(T0 + 2);
    let d = sample(T0 - T0 % MIN, dec!(52310.2), 182_400.5);
    let n = write(
        &mut s,
        vec![
            Notice::Liquidation(l1.clone()),
            Notice::Liquidation(l2.clone()),
            Notice::LargeTrade(t.clone()),
            Notice::DerivSample(d.clone()),
        ],
    );
    assert_eq!(n, 4);
    assert_eq!(
        all(&s, Kind::Liquidations),
        [Record::Liquidation(l1), Record::Liquidation(l2)]
    );
    assert_eq!(all(&s, Kind::Trades), [Record::Trade(t)]);
    assert_eq!(all(&s, Kind::Funding), [Record::Funding(d.clone())]);
    // The same minute again (a replay run twice) replaces it.
    let d2 = DerivSample {
        volume_usd: 1.0,
        ..d.clone()
    };
    write(&mut s, vec![Notice::DerivSample(d2.clone())]);
    assert_eq!(all(&s, Kind::Funding), [Record::Funding(d2)]);
}

#[test]
fn incidents_and_states_round_trip_with_reasons() {
    let (_d, mut s) = store();
    let okx = v("okx");
    let url = "wss://ws.okx.com:8443/ws/v5/public".to_string();
    let n = write(
        &mut s,
        vec![
            Notice::Incident {
                venue: okx,
                instrument: Some(i("BTC-USDT")),
                incident: Incident::ChecksumFailed,
                detail: Some("crc32 mismatch: venue 123, ours 456".into()),
                at: T0,
            },
            // A checksum that matched is a count, not an incident.
            Notice::Incident {
                venue: okx,
                instrument: Some(i("BTC-USDT")),
                incident: Incident::ChecksumOk,
                detail: None,
                at: T0,
            },
            Notice::BookState {
                venue: okx,
                instrument: i("BTC-USDT"),
                state: BookState::OutOfSync(OutOfSyncReason::Gap {
                    expected: 5,
                    got: 7,
                }),
                at: T0 + 1,
            },
            Notice::Conn {
                venue: okx,
                conn: url.clone(),
                state: ConnState::Connected,
                at: T0 + 2,
            },
            Notice::Conn {
                venue: okx,
                conn: url.clone(),
                state: ConnState::Disconnected {
                    reason: "idle timeout".into(),
                },
                at: T0 + 3,
            },
            Notice::Conn {
                venue: okx,
                conn: url.clone(),
                state: ConnState::Connected,
                at: T0 + 4,
            },
        ],
    );
    // 1 incident + 1 book state + 3 conn states + disconnect + reconnect.
    assert_eq!(n, 7);
    let incidents: Vec<(String, Option<String>)> = all(&s, Kind::Incidents)
        .into_iter()
        .map(|r| match r {
            Record::Incident(i) => (i.kind, i.detail),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        incidents,
        [
            (
                "checksum_failed".to_string(),
                Some("crc32 mismatch: venue 123, ours 456".to_string())
            ),
            ("disconnect".to_string(), Some("idle timeout".to_string())),
            ("reconnect".to_string(), Some(url.clone())),
        ]
    );
    let states = all(&s, Kind::States);
    assert_eq!(states.len(), 4);
    assert_eq!(
        states[0],
        Record::State(StateRecord {
            time: T0 + 1,
            venue: okx,
            instrument: Some(i("BTC-USDT")),
            conn: None,
            state: "out_of_sync".into(),
            reason: Some("sequence gap (expected 5, got 7)".into()),
        })
    );
    assert!(
        matches!(&states[2], Record::State(s) if s.conn.as_deref() == Some(url.as_str()) && s.state == "disconnected")
    );
}

#[test]
fn queries_select_by_instrument_venue_and_time() {
    let (_d, mut s) = store();
    let mut notices = Vec::new();
    for n in 0..10 {
        let mut l = liquidation(T0 + n * MIN, true);
        if n % 2 == 1 {
            l.venue = v("okx");
        }
        if n >= 8 {
            l.instrument = i("BTC-USDT-PERP");
        }
        notices.push(Notice::Liquidation(l));
    }
    let mut other_pair = closed(T0, 5);
    other_pair.buy_venue = v("kraken");
    other_pair.buy_instrument = i("BTC-USD");
    notices.push(Notice::ArbClosed(other_pair));
    notices.push(Notice::ArbClosed(closed(T0 + MIN, 5)));
    write(&mut s, notices);
    let q = |f: &dyn Fn(&mut Query)| {
        let mut q = Query::new(Kind::Liquidations);
        f(&mut q);
        s.query(&q)
            .unwrap()
            .iter()
            .map(Record::time)
            .collect::<Vec<_>>()
    };
    assert_eq!(q(&|q| q.venue = Some(v("okx"))).len(), 5);
    assert_eq!(q(&|q| q.instrument = Some(i("BTC-USDT-PERP"))).len(), 2);
    assert_eq!(
        q(&|q| {
            q.since = Some(T0 + 2 * MIN);
            q.until = Some(T0 + 4 * MIN);
        }),
        [T0 + 2 * MIN, T0 + 3 * MIN],
        "since inclusive, until exclusive, oldest first"
    );
    assert_eq!(
        q(&|q| q.limit = Some(3)),
        [T0 + 7 * MIN, T0 + 8 * MIN, T0 + 9 * MIN],
        "the newest three"
    );
    // Opportunities match either leg's venue and instrument.
    let arbs = |f: &dyn Fn(&mut Query)| {
        let mut q = Query::new(Kind::Arbitrage);
        f(&mut q);
        s.query(&q).unwrap().len()
    };
    assert_eq!(arbs(&|q| q.venue = Some(v("okx"))), 2);
    assert_eq!(arbs(&|q| q.venue = Some(v("kraken"))), 1);
    assert_eq!(arbs(&|q| q.instrument = Some(i("BTC-USD"))), 1);
    assert_eq!(arbs(&|q| q.instrument = Some(i("BTC-USDT"))), 2);
}

#[test]
fn a_killed_run_leaves_its_open_opportunities_closed_at_its_last_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    {
        let mut s = SqliteStore::open(&path).unwrap();
        s.begin_run(T0).unwrap();
        write(
            &mut s,
            vec![
                Notice::ArbOpened(opened(T0 + 1_000)),
                Notice::Liquidation(liquidation(T0 + 9_000, true)),
            ],
        );
        // Dropped without anything else: the process died.
    }
    let mut s = SqliteStore::open(&path).unwrap();
    s.begin_run(T0 + MIN).unwrap();
    let rows = all(&s, Kind::Arbitrage);
    let Record::Arb(a) = &rows[0] else {
        panic!("{rows:?}")
    };
    assert_eq!(a.closed, Some(T0 + 9_000));
    assert_eq!(a.lifetime(), Some(8_000));
    assert_eq!(a.reason.as_deref(), Some("depthwatch stopped"));
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

/// A store as the first schema wrote it, with rows, opened by today's
/// depthwatch: brought to the current version, rows kept and readable,
/// an opportunity left open closed (at its opening: v1 kept no runs).
#[test]
fn a_version_1_store_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.sqlite");
    {
        let mut c = Connection::open(&path).unwrap();
        assert_eq!(schema::migrate_to(&mut c, 1).unwrap(), 0);
        assert_eq!(schema::version(&c).unwrap(), 1);
        c.execute(
            "INSERT INTO arbitrage (instrument, buy_venue, buy_instrument, sell_venue,
                sell_instrument, opened, closed, lifetime, peak_net_bps, peak_profit, size,
                buy_vwap, sell_vwap, buy_fee_bps, sell_fee_bps, polled, reason)
             VALUES ('BTC-USDT', 'binance', 'BTC-USDT', 'okx', 'BTC-USDT', ?1, ?2, 500,
                '15.25', '52.000001', '0.62', '64999.9', '65210.0', '10', '8', 1, 'spread closed'),
                    ('BTC-USDT', 'okx', 'BTC-USDT', 'binance', 'BTC-USDT', ?3, NULL, NULL,
                '1.5', '2', '0.1', '1', '2', '10', '8', 0, NULL)",
            params![T0, T0 + 500, T0 + 1_000],
        )
        .unwrap();
        c.execute(
            "INSERT INTO liquidation (time, venue, instrument, side, price, size, notional_usd)
             VALUES (?1, 'bybit', 'ETH-USDT-PERP', 'short', '1920.29', '67.317', NULL)",
            [T0],
        )
        .unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(schema::version(&s.conn).unwrap(), schema::VERSION);
    s.begin_run(T0 + MIN).unwrap();
    let rows = all(&s, Kind::Arbitrage);
    assert_eq!(rows.len(), 2);
    assert!(matches!(&rows[0], Record::Arb(a) if a.peak_profit == dec!(52.000001) && a.polled));
    assert!(
        matches!(&rows[1], Record::Arb(a) if a.closed == Some(T0 + 1_000) && a.reason.as_deref() == Some("depthwatch stopped"))
    );
    assert_eq!(
        all(&s, Kind::Liquidations),
        [Record::Liquidation(liquidation(T0, false))]
    );
    // New writes carry the run.
    write(&mut s, vec![Notice::ArbOpened(opened(T0 + 2 * MIN))]);
    let run: Option<i64> = s
        .conn
        .query_row(
            "SELECT run FROM arbitrage WHERE opened = ?1",
            [T0 + 2 * MIN],
            |r| r.get(0),
        )
        .unwrap();
    assert!(run.is_some());
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

/// A store of the previous version (2: runs, no index on `closed` or on
/// (instrument, time)) is brought to the current one with its rows, and
/// the indexes are there and used.
#[test]
fn a_version_2_store_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.sqlite");
    {
        let mut c = Connection::open(&path).unwrap();
        assert_eq!(schema::migrate_to(&mut c, 2).unwrap(), 0);
        assert_eq!(schema::version(&c).unwrap(), 2);
        c.execute(
            "INSERT INTO arbitrage (instrument, buy_venue, buy_instrument, sell_venue,
                sell_instrument, opened, closed, lifetime, peak_net_bps, peak_profit, size,
                buy_vwap, sell_vwap, buy_fee_bps, sell_fee_bps, polled, reason, run)
             VALUES ('BTC-USDT', 'binance', 'BTC-USDT', 'okx', 'BTC-USDT', ?1, ?2, 500,
                '15.25', '52.000001', '0.62', '64999.9', '65210.0', '10', '8', 1,
                'spread closed', NULL)",
            params![T0, T0 + 500],
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(schema::version(&s.conn).unwrap(), schema::VERSION);
    for name in [
        "arbitrage_closed",
        "liquidation_it",
        "trade_it",
        "funding_it",
        "incident_it",
        "state_it",
    ] {
        let index: i64 = s
            .conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(index, 1, "{name}");
    }
    // A day of one instrument over every venue reads its time range.
    let plan: String = s
        .conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT time FROM liquidation
             WHERE instrument = 'BTC-USDT-PERP' AND time >= 0 AND time < 10 ORDER BY time, id",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("liquidation_it"), "{plan}");
    let rows = all(&s, Kind::Arbitrage);
    assert!(
        matches!(&rows[..], [Record::Arb(a)] if a.closed == Some(T0 + 500)),
        "{rows:?}"
    );
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

/// Paging by close time: closed ones only, the newest `limit` before
/// `until`, and a long-lived opportunity sorts by when it ended.
#[test]
fn opportunities_page_back_by_when_they_closed() {
    let (_d, mut s) = store();
    write(
        &mut s,
        vec![
            // Opened first, closed last.
            Notice::ArbClosed(closed(T0, 50 * MIN)),
            Notice::ArbClosed(closed(T0 + MIN, MIN)),
            Notice::ArbClosed(closed(T0 + 3 * MIN, MIN)),
            Notice::ArbOpened(opened(T0 + 10 * MIN)),
        ],
    );
    let page = |until: Option<Micros>, limit: usize| -> Vec<Micros> {
        let q = Query {
            until,
            limit: Some(limit),
            by_close: true,
            ..Query::new(Kind::Arbitrage)
        };
        s.query(&q)
            .unwrap()
            .into_iter()
            .map(|r| match r {
                Record::Arb(a) => a.closed.unwrap(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    // Oldest first, as every query hands rows back; the open one is left out.
    assert_eq!(page(None, 10), [T0 + 2 * MIN, T0 + 4 * MIN, T0 + 50 * MIN]);
    assert_eq!(page(Some(T0 + 50 * MIN), 1), [T0 + 4 * MIN]);
    assert_eq!(page(Some(T0 + 2 * MIN), 10), Vec::<Micros>::new());
}

#[test]
fn a_newer_store_is_refused_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(&format!("PRAGMA user_version = {}", schema::VERSION + 1))
            .unwrap();
    }
    let e = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(e, StoreError::TooNew { .. }), "{e}");
    assert!(e.to_string().contains("upgrade depthwatch"));
    let e = SqliteStore::open_read(&path).unwrap_err();
    assert!(matches!(e, StoreError::TooNew { .. }), "{e}");
    assert!(matches!(
        SqliteStore::open_read(&dir.path().join("none.sqlite")),
        Err(StoreError::Missing(_))
    ));
}

#[test]
fn pruning_follows_each_kinds_retention() {
    let (_d, mut s) = store();
    let day = 86_400_000_000;
    write(
        &mut s,
        vec![
            Notice::Liquidation(liquidation(T0 - 10 * day, true)),
            Notice::Liquidation(liquidation(T0 - day, true)),
            Notice::LargeTrade(trade(T0 - 10 * day)),
            Notice::ArbClosed(closed(T0 - 40 * day, 5)),
            Notice::ArbClosed(closed(T0 - day, 5)),
        ],
    );
    let mut r = Retention::default();
    r.set(Kind::Liquidations, 5);
    assert_eq!(
        s.prune(&r, T0).unwrap(),
        2,
        "one liquidation, one opportunity"
    );
    assert_eq!(s.count(Kind::Liquidations).unwrap(), 1);
    assert_eq!(s.count(Kind::Trades).unwrap(), 1, "30 days for trades");
    assert_eq!(s.count(Kind::Arbitrage).unwrap(), 1);
}

#[test]
fn restore_reads_back_what_the_panes_need() {
    let (_d, mut s) = store();
    let hour = 3_600_000_000;
    let now = T0 + 2 * hour;
    let mut notices = vec![
        Notice::Liquidation(liquidation(now - 2 * hour, true)),
        Notice::Liquidation(liquidation(now - 10 * MIN, true)),
        Notice::LargeTrade(trade(now - 5 * MIN)),
    ];
    for n in 0..3 {
        notices.push(Notice::ArbClosed(closed(T0 + n * MIN, (n + 1) * 1_000_000)));
    }
    let mut best = closed(T0 + 5 * MIN, 100);
    best.peak_net_bps = dec!(9.5);
    best.buy_venue = v("bybit");
    notices.push(Notice::ArbClosed(best));
    let mut big = closed(T0 + 6 * MIN, 100);
    big.buy_venue = v("bybit");
    big.peak_net_bps = dec!(10.25);
    notices.push(Notice::ArbClosed(big));
    notices.push(Notice::ArbOpened(opened(T0 + 7 * MIN)));
    for m in 0..3 {
        notices.push(Notice::DerivSample(sample(
            now - now % MIN - (3 - m) * MIN,
            Decimal::from(100 + m),
            10.0,
        )));
    }
    write(&mut s, notices);
    let spec = RestoreSpec {
        closed_arbs: 2,
        ..RestoreSpec::default()
    };
    let seed = s.restore(&spec, now).unwrap();
    assert_eq!(seed.closed_arbs.len(), 2, "the newest closed ones");
    assert_eq!(seed.closed_arbs[0].opened, T0 + 6 * MIN);
    assert_eq!(seed.liquidations.len(), 1, "the last hour");
    assert_eq!(seed.large_trades.len(), 1);
    assert_eq!(seed.deriv_samples.len(), 3);
    assert_eq!(seed.pair_stats.len(), 2);
    let binance = seed
        .pair_stats
        .iter()
        .find(|p| p.buy_venue == v("binance"))
        .unwrap();
    assert_eq!(binance.count, 4, "three closed, one still open");
    assert_eq!(binance.total_open, 6_000_000);
    assert_eq!(binance.longest, 3_000_000);
    let bybit = seed
        .pair_stats
        .iter()
        .find(|p| p.buy_venue == v("bybit"))
        .unwrap();
    assert_eq!(
        bybit.best_net_bps,
        Some(dec!(10.25)),
        "exact, numerically largest"
    );
}

fn fired(id: u64, at: Micros) -> crate::alerts::Alert {
    let mut a = crate::alerts::Alert::test(at);
    a.id = id;
    a.rule = "btc-arb".into();
    a.kind = "arbitrage";
    a.severity = crate::alerts::Severity::Critical;
    a.subject = "BTC-USDT binance→okx".into();
    a.instrument = Some(i("BTC-USDT"));
    a.venue = Some(v("okx"));
    a.text = "BTC-USDT binance→okx 15.25 bps net, 52.00 USDT".into();
    a.dedup_key = "btc-arb:BTC-USDT:binance:okx".into();
    a
}

fn alert_rows(s: &SqliteStore) -> Vec<AlertRow> {
    all(s, Kind::Alerts)
        .into_iter()
        .map(|r| match r {
            Record::Alert(a) => a,
            other => panic!("{other:?}"),
        })
        .collect()
}

/// An alert and every outcome of its deliveries come back as written; the
/// latest per destination is what the pane and `history` show.
#[test]
fn alerts_round_trip_with_their_deliveries() {
    use crate::alerts::deliver::Outcome;
    let (_d, mut s) = store();
    let a = fired(7, T0);
    let first = [
        ("app", Outcome::Sent { attempts: 1 }),
        ("telegram", Outcome::Queued),
    ];
    let later = |o: Outcome| AlertEvent::Delivery {
        alert: 7,
        delivery: DeliveryRow::of("telegram", &o, T0 + 5),
    };
    let events = [
        AlertEvent::Fired(AlertRow::of(&a, &first, T0 + 1)),
        later(Outcome::Retrying {
            attempt: 1,
            reason: "HTTP 429 Too Many Requests".into(),
            delay: std::time::Duration::from_secs(3),
        }),
        later(Outcome::Failed("HTTP 429 Too Many Requests".into())),
        // Of an alert the store never got (its Fired was dropped): nothing.
        AlertEvent::Delivery {
            alert: 99,
            delivery: DeliveryRow::of("app", &Outcome::Sent { attempts: 1 }, T0),
        },
    ];
    assert_eq!(s.write_alerts(&events).unwrap(), 5, "1 alert + 4 outcomes");
    let rows = alert_rows(&s);
    let [r] = &rows[..] else { panic!("{rows:?}") };
    assert_eq!((r.id, r.time, r.run.is_some()), (7, T0, true));
    assert_eq!(r.rule, "btc-arb");
    assert_eq!(
        (r.kind.as_str(), r.severity.as_str()),
        ("arbitrage", "critical")
    );
    assert_eq!(r.instrument, Some(i("BTC-USDT")));
    assert_eq!(r.venue, Some(v("okx")));
    assert_eq!(r.text, a.text);
    assert_eq!(r.dedup_key, a.dedup_key);
    assert!(!r.muted);
    let outcomes: Vec<(&str, &str)> = r
        .deliveries
        .iter()
        .map(|d| (d.destination.as_str(), d.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("app", "sent"),
            ("telegram", "queued"),
            ("telegram", "retrying"),
            ("telegram", "failed")
        ]
    );
    assert_eq!(r.deliveries[2].attempts, Some(1));
    assert_eq!(
        r.delivery_summary(),
        "app:sent telegram:failed(HTTP 429 Too Many Requests)"
    );
    // As the Alerts pane keeps it.
    let rec = r.to_record();
    assert_eq!(rec.alert, a);
    assert!(rec.acked);
    assert_eq!(
        rec.deliveries,
        [
            ("app", Outcome::Sent { attempts: 1 }),
            (
                "telegram",
                Outcome::Failed("HTTP 429 Too Many Requests".into())
            )
        ]
    );
    // Selected like the other kinds.
    let q = |f: &dyn Fn(&mut Query)| {
        let mut q = Query::new(Kind::Alerts);
        f(&mut q);
        s.query(&q).unwrap().len()
    };
    assert_eq!(q(&|q| q.venue = Some(v("okx"))), 1);
    assert_eq!(q(&|q| q.venue = Some(v("binance"))), 0);
    assert_eq!(q(&|q| q.instrument = Some(i("BTC-USDT"))), 1);
    assert_eq!(q(&|q| q.since = Some(T0 + 1)), 0);
}

/// What an earlier run left queued or retrying was never delivered, and
/// no one delivers it now: it reads as failed, saying why.
#[test]
fn an_unfinished_delivery_restores_as_failed() {
    use crate::alerts::deliver::Outcome;
    let row = |outcome: &str, detail: Option<&str>| DeliveryRow {
        destination: "webhook".into(),
        outcome: outcome.into(),
        attempts: Some(2),
        detail: detail.map(String::from),
        time: T0,
    };
    assert_eq!(
        row("retrying", Some("HTTP 500")).to_outcome(),
        Outcome::Failed("depthwatch stopped while it was retrying: HTTP 500".into())
    );
    assert_eq!(
        row("queued", None).to_outcome(),
        Outcome::Failed("depthwatch stopped while it was queued".into())
    );
    assert_eq!(
        row("sent", None).to_outcome(),
        Outcome::Sent { attempts: 2 }
    );
    assert_eq!(
        row("suppressed", Some("rate limit")).to_outcome(),
        Outcome::Suppressed("rate limit".into())
    );
}

/// Alerts of each run keep their own numbers; a later run's outcome goes
/// to its own alert #1, not the earlier run's.
#[test]
fn alert_numbers_are_per_run() {
    use crate::alerts::deliver::Outcome;
    let (_d, mut s) = store();
    let fire = |id, at| AlertEvent::Fired(AlertRow::of(&fired(id, at), &[], at));
    s.write_alerts(&[fire(1, T0)]).unwrap();
    s.begin_run(T0 + MIN).unwrap();
    s.write_alerts(&[
        fire(1, T0 + MIN),
        AlertEvent::Delivery {
            alert: 1,
            delivery: DeliveryRow::of("app", &Outcome::Sent { attempts: 1 }, T0 + MIN),
        },
    ])
    .unwrap();
    let rows = alert_rows(&s);
    assert_eq!(rows.len(), 2);
    assert!(rows[0].deliveries.is_empty(), "{rows:?}");
    assert_eq!(rows[1].deliveries.len(), 1);
    assert_ne!(rows[0].run, rows[1].run);
}

/// Alerts go after their retention with their deliveries; newer ones stay.
#[test]
fn alerts_are_pruned_with_their_deliveries() {
    use crate::alerts::deliver::Outcome;
    let (_d, mut s) = store();
    let day = 86_400_000_000;
    let sent = [("app", Outcome::Sent { attempts: 1 })];
    s.write_alerts(&[
        AlertEvent::Fired(AlertRow::of(&fired(1, T0 - 3 * day), &sent, T0)),
        AlertEvent::Fired(AlertRow::of(&fired(2, T0), &sent, T0)),
    ])
    .unwrap();
    let mut r = Retention::default();
    r.set(Kind::Alerts, 2);
    assert_eq!(s.prune(&r, T0).unwrap(), 2, "one alert and its delivery");
    let rows = alert_rows(&s);
    assert_eq!(rows.iter().map(|a| a.id).collect::<Vec<_>>(), [2]);
    let deliveries: i64 = s
        .conn
        .query_row("SELECT COUNT(*) FROM alert_delivery", [], |r| r.get(0))
        .unwrap();
    assert_eq!(deliveries, 1);
}

fn assert_indexes(s: &SqliteStore, names: &[&str]) {
    for name in names {
        let index: i64 = s
            .conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(index, 1, "{name}");
    }
}

/// A store of version 3 (no alerts) is brought up to date with its rows;
/// the alert tables and their time indexes are there.
#[test]
fn a_version_3_store_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.sqlite");
    {
        let mut c = Connection::open(&path).unwrap();
        assert_eq!(schema::migrate_to(&mut c, 3).unwrap(), 0);
        assert_eq!(schema::version(&c).unwrap(), 3);
        c.execute(
            "INSERT INTO liquidation (time, venue, instrument, side, price, size, notional_usd)
             VALUES (?1, 'bybit', 'ETH-USDT-PERP', 'short', '1920.29', '67.317', NULL)",
            [T0],
        )
        .unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(schema::version(&s.conn).unwrap(), schema::VERSION);
    assert_indexes(
        &s,
        &["alert_time", "alert_iv", "alert_run", "alert_delivery_time"],
    );
    assert_eq!(s.count(Kind::Liquidations).unwrap(), 1);
    s.begin_run(T0).unwrap();
    s.write_alerts(&[AlertEvent::Fired(AlertRow::of(&fired(1, T0), &[], T0))])
        .unwrap();
    assert_eq!(s.count(Kind::Alerts).unwrap(), 1);
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

/// The writer takes the alerts task's events beside the notices and writes
/// them before it ends; what the alert channel cannot take is counted on
/// the store's line.
#[test]
fn the_writer_writes_alerts_from_its_alert_sink() {
    use crate::engine::notices::SinkStatus;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.sqlite");
    let (tx, rx) = tokio::sync::mpsc::channel::<Arc<Notice>>(8);
    let status = Arc::new(SinkStatus::new("store"));
    let w = writer::Writer::spawn(
        None,
        writer::sqlite_opener(path.clone()),
        rx,
        status.clone(),
        writer::WriterSettings::new(None),
    )
    .unwrap();
    let sink = w.alert_sink();
    for id in 1..=3 {
        sink.send(AlertEvent::Fired(AlertRow::of(&fired(id, T0), &[], T0)));
    }
    tx.try_send(Arc::new(Notice::ArbOpened(opened(T0))))
        .unwrap();
    drop(tx);
    assert!(w.finish(std::time::Duration::from_secs(30)));
    let s = SqliteStore::open_read(&path).unwrap();
    assert_eq!(s.count(Kind::Alerts).unwrap(), 3);
    assert_eq!(s.count(Kind::Arbitrage).unwrap(), 1);
    assert_eq!(status.dropped(), 0);

    // A full channel drops and counts, never waits.
    let status = Arc::new(SinkStatus::new("store"));
    let (full, _rx) = AlertSink::channel(1, status.clone());
    for id in 1..=3 {
        full.send(AlertEvent::Fired(AlertRow::of(&fired(id, T0), &[], T0)));
    }
    assert_eq!(status.dropped(), 2);
}

fn minute(venue: &str, start: Micros, close: Decimal, partial: bool) -> MinuteCandle {
    let mut c = Candle::flat(start, dec!(65000.5));
    c.add(close, dec!(0.25), TakerSide::Sell);
    c.partial = partial;
    MinuteCandle {
        venue: v(venue),
        instrument: i("BTC-USDT"),
        candle: c,
    }
}

/// Candles come back exactly, with the figures a source did not give as
/// unknown; a complete minute replaces a partial one, never the reverse.
#[test]
fn candles_round_trip_and_a_complete_minute_wins() {
    let (_d, mut s) = store();
    let partial = minute("okx", T0, dec!(65001.25), true);
    let mut unknown = minute("bybit", T0, dec!(64999), false);
    unknown.candle.buy_volume = None;
    unknown.candle.sell_volume = None;
    unknown.candle.trades = None;
    unknown.candle.turnover = None;
    let n = write(
        &mut s,
        vec![
            Notice::Candle(partial.clone()),
            Notice::Candle(unknown.clone()),
        ],
    );
    assert_eq!(n, 2);
    assert_eq!(
        all(&s, Kind::Candles),
        [Record::Candle(partial.clone()), Record::Candle(unknown)]
    );
    let complete = minute("okx", T0, dec!(65002), false);
    write(&mut s, vec![Notice::Candle(complete.clone())]);
    write(&mut s, vec![Notice::Candle(partial)]);
    let okx = Query {
        venue: Some(v("okx")),
        ..Query::new(Kind::Candles)
    };
    assert_eq!(s.query(&okx).unwrap(), [Record::Candle(complete)]);
}

/// Restore gives the minutes of the engine's 1m ring, oldest first.
#[test]
fn restore_gives_the_candle_minutes_back() {
    let (_d, mut s) = store();
    let now = T0 + 1_000 * MIN;
    let notices: Vec<Notice> = (0..600)
        .map(|k| Notice::Candle(minute("okx", T0 + 400 * MIN + k * MIN, dec!(65001), false)))
        .collect();
    write(&mut s, notices);
    let seed = s.restore(&RestoreSpec::default(), now).unwrap();
    let starts: Vec<Micros> = seed.candles.iter().map(|m| m.candle.start).collect();
    assert_eq!(starts.len(), crate::engine::candles::series::RING);
    assert_eq!(starts.first(), Some(&(now - 480 * MIN)));
    assert!(starts.windows(2).all(|w| w[0] < w[1]));
}

/// A store of the previous version (4: no candles) is brought to version 5
/// with its rows, and takes candles.
#[test]
fn a_version_4_store_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.sqlite");
    {
        let mut c = Connection::open(&path).unwrap();
        assert_eq!(schema::migrate_to(&mut c, 4).unwrap(), 0);
        c.execute(
            "INSERT INTO liquidation (time, venue, instrument, side, price, size, notional_usd)
             VALUES (?1, 'bybit', 'ETH-USDT-PERP', 'short', '1920.29', '67.317', NULL)",
            [T0],
        )
        .unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(schema::version(&s.conn).unwrap(), 5);
    assert_eq!(schema::VERSION, 5);
    assert_indexes(&s, &["candle_iv", "candle_it", "candle_v", "candle_time"]);
    assert_eq!(s.count(Kind::Liquidations).unwrap(), 1);
    write(
        &mut s,
        vec![Notice::Candle(minute("okx", T0, dec!(1), false))],
    );
    assert_eq!(s.count(Kind::Candles).unwrap(), 1);
    assert_eq!(s.integrity_check().unwrap(), "ok");
}
