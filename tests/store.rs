//! The history store end to end: a demo killed with SIGKILL leaves a sound
//! file whose statistics and closed opportunities come back; a burst of
//! 100,000 notices never holds up the engine (drops are counted); a data
//! directory that cannot be written is reported and the engine keeps going;
//! `history --kind alerts` lists stored alerts with their deliveries; the
//! killed demo's one-minute candles come back into the Chart's series.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use depthwatch::alerts::Alert;
use depthwatch::alerts::deliver::Outcome;
use depthwatch::app::store::{HistoryPlan, SINK_NAME, attach};
use depthwatch::engine::candles::CandleSource;
use depthwatch::engine::{Engine, EngineConfig, EngineInput};
use depthwatch::model::{LiquidatedSide, Liquidation, MarketEvent, Micros, Timeframe, now_micros};
use depthwatch::store::{AlertEvent, AlertRow, DeliveryRow, Kind, RestoreSpec, SqliteStore, Store};
use rust_decimal_macros::dec;

fn liquidations(start: Micros, n: usize) -> EngineInput {
    let venue = depthwatch::venue!("bybit");
    EngineInput::Feed {
        venue,
        conn: "wss://test".into(),
        received: start,
        bytes: 100,
        events: (0..n)
            .map(|k| {
                MarketEvent::Liquidation(Liquidation {
                    venue,
                    instrument: "BTC-USDT-PERP".parse().unwrap(),
                    side: LiquidatedSide::Long,
                    price: dec!(65000.5),
                    size: dec!(0.01),
                    exchange_ts: None,
                    received: start + k as Micros,
                })
            })
            .collect(),
    }
}

#[test]
fn a_burst_of_100k_notices_never_holds_up_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let mut engine = Engine::new(EngineConfig::default());
    let plan = HistoryPlan {
        file: Some(path.clone()),
        retention: None,
        restore: false,
    };
    let writer = attach(&mut engine, plan, now_micros()).unwrap();
    let t0 = now_micros();
    let mut slowest = Duration::ZERO;
    for b in 0..100 {
        let input = liquidations(t0 + b * 1_000, 1_000);
        let started = Instant::now();
        engine.handle(input);
        slowest = slowest.max(started.elapsed());
    }
    let sink = engine
        .snapshot()
        .sinks
        .into_iter()
        .find(|s| s.name == SINK_NAME)
        .unwrap();
    // Every notice was either queued or counted as dropped, at once.
    assert_eq!(sink.sent + sink.dropped, 100_000);
    println!(
        "100,000 notices: slowest input {slowest:?}, {} queued, {} dropped",
        sink.sent, sink.dropped
    );
    drop(engine);
    assert!(writer.finish(Duration::from_secs(120)), "writer ended");
    let store = SqliteStore::open_read(&path).unwrap();
    assert_eq!(store.count(Kind::Liquidations).unwrap(), sink.sent);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn an_unwritable_data_directory_is_reported_and_the_engine_runs_on() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the directory should be: nothing can be created there
    // (a read-only mount behaves alike; root ignores permission bits).
    let blocker = dir.path().join("data");
    std::fs::write(&blocker, "not a directory").unwrap();
    let mut engine = Engine::new(EngineConfig::default());
    let plan = HistoryPlan {
        file: Some(blocker.join("history.sqlite")),
        retention: None,
        restore: true,
    };
    let writer = attach(&mut engine, plan, now_micros()).unwrap();
    let sink = |e: &mut Engine| {
        e.snapshot()
            .sinks
            .into_iter()
            .find(|s| s.name == SINK_NAME)
            .unwrap()
    };
    let problem = sink(&mut engine).problem.unwrap();
    assert!(
        problem.starts_with("history not saved: cannot create") && problem.contains("data"),
        "{problem}"
    );
    engine.handle(liquidations(now_micros(), 10));
    let snap = engine.snapshot();
    assert_eq!(snap.liquidations.tape.len(), 10, "the engine goes on");
    // The writer drops what it cannot write, counted.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink(&mut engine).dropped < 10 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sink(&mut engine).dropped, 10);
    drop(engine);
    assert!(writer.finish(Duration::from_secs(30)));
}

/// `depthwatch --demo --headless` until its store holds closed
/// opportunities, then SIGKILL: the file passes `integrity_check`, and a
/// new run gets the statistics and closed opportunities back (the ones
/// left open closed as "depthwatch stopped").
#[test]
fn a_killed_demo_comes_back_with_its_history() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let store_file = data.join("depthwatch").join("history-demo.sqlite");
    let mut child = Command::new(env!("CARGO_BIN_EXE_depthwatch"))
        .args(["--demo", "--headless", "--json"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", &data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let rows = |path: &std::path::Path, sql: &str| -> u64 {
        let Ok(c) =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        else {
            return 0;
        };
        c.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .unwrap_or(0)
    };
    let closed_rows = |path: &std::path::Path| {
        rows(
            path,
            "SELECT COUNT(*) FROM arbitrage WHERE closed IS NOT NULL",
        )
    };
    // Candles close on the minute: up to a minute and the grace.
    let candle_rows = |path: &std::path::Path| rows(path, "SELECT COUNT(*) FROM candle");
    let deadline = Instant::now() + Duration::from_secs(150);
    while (closed_rows(&store_file) < 3 || candle_rows(&store_file) == 0)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(250));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let stored = closed_rows(&store_file);
    assert!(stored >= 3, "the demo stored {stored} closed opportunities");
    assert!(candle_rows(&store_file) > 0, "the demo stored no candle");

    let mut store = SqliteStore::open(&store_file).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    store.begin_run(now_micros()).unwrap();
    let seed = store
        .restore(&RestoreSpec::default(), now_micros())
        .unwrap();
    assert!(seed.closed_arbs.len() as u64 >= stored);
    assert!(!seed.pair_stats.is_empty());
    let opened: u64 = seed.pair_stats.iter().map(|p| p.count).sum();
    assert_eq!(opened, store.count(Kind::Arbitrage).unwrap());
    let minutes = seed.candles.clone();
    assert!(!minutes.is_empty());
    let mut watchlist: Vec<_> = minutes.iter().map(|m| m.instrument).collect();
    watchlist.sort();
    watchlist.dedup();
    let mut engine = Engine::new(EngineConfig {
        watchlist,
        ..EngineConfig::default()
    });
    engine.seed(seed, now_micros());
    let snap = engine.snapshot();
    assert!(snap.arb_history.len() as u64 >= stored.min(200));
    assert_eq!(snap.arb_stats.iter().map(|s| s.count).sum::<u64>(), opened);
    // Every stored minute is back in its venue's 1m series.
    let m = &minutes[0];
    let series = snap
        .candles
        .series
        .iter()
        .find(|(k, _)| {
            k.timeframe == Timeframe::M1 && k.source == CandleSource::Venue(m.venue, m.instrument)
        })
        .map(|(_, s)| s)
        .expect("the candles are back");
    assert!(series.closed.contains(&m.candle));
}

/// `depthwatch history --kind alerts` as a table, CSV and JSON lines: each
/// alert with each destination's latest outcome in one field.
#[test]
fn history_lists_alerts_with_their_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let t0: Micros = 1_764_000_000_000_000;
    {
        let mut s = SqliteStore::open(&path).unwrap();
        s.begin_run(t0).unwrap();
        let mut a = Alert::test(t0);
        a.id = 1;
        a.rule = "big-liq".into();
        a.kind = "liquidation";
        a.subject = "BTC-USDT-PERP okx".into();
        a.venue = Some("okx".parse().unwrap());
        a.text = "short liquidated: $1,200,000 at 65000.12".into();
        let first = [
            ("app", Outcome::Sent { attempts: 1 }),
            ("telegram", Outcome::Queued),
        ];
        s.write_alerts(&[
            AlertEvent::Fired(AlertRow::of(&a, &first, t0)),
            AlertEvent::Delivery {
                alert: 1,
                delivery: DeliveryRow::of(
                    "telegram",
                    &Outcome::Failed("HTTP 429 Too Many Requests".into()),
                    t0 + 2,
                ),
            },
        ])
        .unwrap();
    }
    let run = |extra: &[&str]| -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_depthwatch"))
            .args(["history", "--kind", "alerts", "--store"])
            .arg(&path)
            .args(extra)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .output()
            .expect("binary runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let summary = "app:sent telegram:failed(HTTP 429 Too Many Requests)";
    let table = run(&[]);
    assert!(table.contains("big-liq"), "{table}");
    assert!(table.contains(summary), "{table}");
    let csv = run(&["--csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "time,id,rule,kind,severity,subject,instrument,venue,muted,text,deliveries"
    );
    let row = lines.next().unwrap();
    assert!(
        row.contains(",1,big-liq,liquidation,info,BTC-USDT-PERP okx,,okx,"),
        "{row}"
    );
    assert!(row.ends_with(summary), "{row}");
    let json = run(&["--json"]);
    let v: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(v["rule"], "big-liq");
    assert_eq!(v["deliveries"], summary);
    assert_eq!(v["time_us"], t0);
}
