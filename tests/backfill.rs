//! History backfill at start, against the simulator's REST history
//! endpoints: every watched perpetual of Binance, Bybit, OKX, Deribit and Bitget gets its open
//! interest of the last hours and its settled funding before any minute has
//! closed, so the 4 h change shows at once and Binance's funding interval is
//! known, and its candles of every interval, so a chart is full at once;
//! 429 answers with `Retry-After` are waited out and retried.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use depthwatch::engine::candles::CandleSource;
use depthwatch::engine::snapshot::ConnState;
use depthwatch::engine::{Engine, EngineConfig, EngineInput};
use depthwatch::model::{HistoryKind, Instrument, MarketEvent, Timeframe, Venue};
use depthwatch::net::{HttpClient, run_venue};
use depthwatch::sim::{SimConfig, Simulator};
use depthwatch::venues::{AdapterConfig, registry};
use tokio::sync::{Mutex, mpsc, watch};

const HOUR_US: i64 = 3_600_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perpetuals_start_with_their_history_and_429s_are_waited_out() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let venues: Vec<Venue> = ["binance", "bybit", "okx", "deribit", "bitget"]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    // Neither publishes open-interest history: their changes come from the
    // live ticker alone.
    let no_oi_history: Vec<Venue> = ["deribit", "bitget"]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    let endpoints = sim.endpoints();
    // The first REST requests of Bybit are refused with `Retry-After: 1`.
    sim.faults().venue(venues[1]).rate_limit(4);

    let (tx, mut rx) = mpsc::channel::<EngineInput>(65_536);
    let engine = Arc::new(Mutex::new(Engine::new(EngineConfig::default())));
    let waits = Arc::new(Mutex::new(Vec::<(Venue, u64)>::new()));
    // Settled-funding histories received, by perpetual.
    let fundings = Arc::new(Mutex::new(BTreeMap::<(Venue, Instrument), usize>::new()));
    let (fed, seen, funded) = (engine.clone(), waits.clone(), fundings.clone());
    let feeder = tokio::spawn(async move {
        while let Some(input) = rx.recv().await {
            if let EngineInput::Feed { events, .. } = &input {
                for e in events {
                    if let MarketEvent::History {
                        venue,
                        instrument,
                        kind: HistoryKind::FundingRate,
                        points,
                    } = e
                    {
                        *funded
                            .lock()
                            .await
                            .entry((*venue, *instrument))
                            .or_default() += points.len();
                    }
                }
            }
            if let EngineInput::Conn {
                venue,
                state: ConnState::Backoff { retry_in_ms, .. },
                ..
            } = &input
            {
                seen.lock().await.push((*venue, *retry_in_ms));
            }
            fed.lock().await.handle(input);
        }
    });
    let http = HttpClient::new().unwrap();
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    let mut perps = Vec::new();
    for &venue in &venues {
        let instruments: Vec<_> = sim
            .instruments()
            .into_iter()
            .filter(|(v, i)| *v == venue && i.is_perp())
            .map(|(_, i)| i)
            .collect();
        perps.extend(instruments.iter().map(|i| (venue, *i)));
        let cfg = AdapterConfig {
            instruments,
            endpoints: endpoints[&venue].clone(),
            ..AdapterConfig::default()
        };
        let (stop, stop_rx) = watch::channel(false);
        stops.push(stop);
        tasks.push(tokio::spawn(run_venue(
            registry::build(venue, cfg),
            tx.clone(),
            http.clone(),
            None,
            stop_rx,
        )));
    }
    drop(tx);
    assert!(perps.len() >= 11, "{perps:?}");

    // Ends by itself: the loop gives up (and the test fails) after a minute.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let rows = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut e = engine.lock().await;
        let now = e.now();
        e.handle(EngineInput::Tick { now });
        let snap = e.snapshot();
        let rows: BTreeMap<_, _> = snap
            .derivatives
            .rows
            .iter()
            .filter_map(|r| Some(((r.venue?, r.instrument?), r.clone())))
            .collect();
        let charted = |(venue, instrument): &(Venue, Instrument)| {
            Timeframe::ALL.iter().all(|tf| {
                snap.candles
                    .get(*instrument, CandleSource::Venue(*venue, *instrument), *tf)
                    .is_some_and(|s| s.closed.len() >= 100)
            })
        };
        let funded = fundings.lock().await.clone();
        let done = perps.iter().all(|k| {
            rows.get(k).is_some_and(|r| {
                (r.oi_change[2].is_some() || no_oi_history.contains(&k.0))
                    && (k.0 != venues[0] || r.interval.is_some())
            }) && charted(k)
                && funded.get(k).is_some_and(|n| *n >= 10)
        });
        if done {
            break rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "backfill incomplete after 60 s: {:?}",
            perps
                .iter()
                .map(|k| (
                    k,
                    rows.get(k).map(|r| (r.oi_change, r.interval)),
                    charted(k),
                    funded.get(k)
                ))
                .collect::<Vec<_>>()
        );
    };
    for k in perps.iter().filter(|k| !no_oi_history.contains(&k.0)) {
        let r = &rows[k];
        // The simulator's history is a few percent around today's value.
        let change = r.oi_change[2].unwrap();
        assert!(change.abs() < 0.2, "{k:?}: 4 h change {change}");
        if k.0 == venues[0] {
            assert_eq!(
                r.interval,
                Some(8 * HOUR_US),
                "{k:?}: interval from the settled fundings"
            );
            assert!(
                r.annual.is_some(),
                "{k:?}: annualised once the interval is known"
            );
        }
    }
    let stats = sim.faults().venue(venues[1]).stats();
    assert_eq!(stats.rate_limited, 4, "every armed 429 was answered");
    let waits = waits.lock().await.clone();
    assert!(
        waits.iter().any(|(v, ms)| *v == venues[1] && *ms >= 1_000),
        "a 429 was retried no sooner than its Retry-After: {waits:?}"
    );
    assert_eq!(engine.lock().await.totals().parse_errors, 0);

    for s in &stops {
        s.send(true).unwrap();
    }
    for t in tasks {
        t.await.unwrap();
    }
    feeder.await.unwrap();
    sim.shutdown().await;
}
