//! Deribit end to end: capture-format-2 files written here (cryptofeed's
//! `DERIBIT` recordings: `raw` channels, `get_instruments?currency=..`
//! bodies) replayed through the adapter, and the adapter against the
//! built-in simulator over loopback WebSocket and HTTP.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use depthwatch::capture::CaptureWriter;
use depthwatch::model::{Incident, Instrument, LiquidatedSide, TakerSide, now_micros};
use depthwatch::sim::{SimConfig, Simulator};
use depthwatch::venues::deribit::{Deribit, VENUE};
use depthwatch::venues::testkit::{Collector, replay_file, top_strings};
use depthwatch::venues::{Action, Adapter, AdapterConfig, registry};
use futures_util::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WS: &str = "wss://www.deribit.com/ws/api/v2";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/deribit")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A cryptofeed recording subscribes `raw` channels.
fn raw(frame: &str) -> String {
    frame.replace(".100ms\"", ".raw\"")
}

fn write_capture(dir: &Path, http: &[(&str, String)], frames: &[String]) -> std::path::PathBuf {
    let path = dir.join("DERIBIT.jsonl.zst");
    let mut cfg = BTreeMap::new();
    cfg.insert(
        "l2_book".to_string(),
        vec!["BTC-USD-PERP".to_string(), "BTC-USDC-PERP".to_string()],
    );
    cfg.insert("trades".to_string(), vec!["BTC-USD-PERP".to_string()]);
    let mut w = CaptureWriter::create(&path, "DERIBIT", &cfg, 1_754_000_000_000_000).unwrap();
    let mut ts = 1_754_000_000_000_000;
    for (url, body) in http {
        w.http("DERIBIT.http", ts, url, body).unwrap();
        ts += 1000;
    }
    let conn = "DERIBIT.ws.1";
    w.connect(conn, ts, WS).unwrap();
    w.send(conn, ts, WS, r#"{"jsonrpc":"2.0","id":"101","method":"private/subscribe","params":{"channels":["book.BTC-PERPETUAL.raw"]}}"#)
        .unwrap();
    for f in frames {
        ts += 1000;
        w.recv_text(conn, ts, f).unwrap();
    }
    w.finish().unwrap();
    path
}

#[test]
fn replays_a_deribit_capture_to_the_documented_book() {
    let dir = tempfile::tempdir().unwrap();
    let frames = [
        r#"{"jsonrpc":"2.0","id":"101","result":["book.BTC-PERPETUAL.raw","book.BTC_USDC-PERPETUAL.raw","trades.BTC-PERPETUAL.raw"]}"#.to_string(),
        raw(&fixture("snapshot.json")),
        raw(&fixture("linear_snapshot.json")),
        raw(&fixture("change.json")),
        raw(&fixture("trade.json")),
        raw(&fixture("trade_liquidation.json")),
        raw(&fixture("heartbeat.json")),
    ];
    let path = write_capture(
        dir.path(),
        &[
            (
                "https://www.deribit.com/api/v2/public/get_instruments?currency=BTC",
                fixture("instruments_btc.json"),
            ),
            (
                "https://www.deribit.com/api/v2/public/get_instruments?currency=USDC",
                fixture("instruments_usdc.json"),
            ),
        ],
        &frames,
    );
    assert_eq!(registry::venue_for_capture("DERIBIT"), Some(VENUE));
    let mut a = registry::build(
        VENUE,
        AdapterConfig {
            instruments: vec!["BTC-USD-PERP".parse().unwrap()],
            ..AdapterConfig::default()
        },
    );
    let c = replay_file(a.as_mut(), &path).unwrap();
    assert_eq!(c.frames, 7);
    assert_eq!(
        c.count(Incident::ParseError) + c.count(Incident::UnknownMessage) + c.count(Incident::Gap),
        0,
        "{:?}",
        c.incidents
    );
    let b = c.book(VENUE, "BTC-USD-PERP").unwrap();
    assert!(b.is_live());
    let q = |usd: Decimal, p: Decimal| (usd / p).normalize().to_string();
    let want = |v: &[(Decimal, Decimal)]| -> Vec<(String, String)> {
        v.iter()
            .map(|&(p, usd)| (p.normalize().to_string(), q(usd, p)))
            .collect()
    };
    assert_eq!(
        top_strings(&b.bids, 10),
        want(&[(dec!(64999.5), dec!(65000)), (dec!(64998), dec!(65000))])
    );
    assert_eq!(
        top_strings(&b.asks, 10),
        want(&[
            (dec!(65000), dec!(50000)),
            (dec!(65000.5), dec!(1000)),
            (dec!(65001), dec!(13000)),
            (dec!(65002), dec!(260000)),
        ])
    );
    // A book not in the configuration, created on first sight.
    let l = c.book(VENUE, "BTC-USDC-PERP").unwrap();
    assert!(l.is_live());
    assert_eq!(
        top_strings(&l.asks, 10),
        [
            ("64995".to_string(), "0.013".to_string()),
            ("64996".into(), "2".into())
        ]
    );
    assert_eq!(c.trades.len(), 3);
    assert_eq!(c.trades[0].side, TakerSide::Sell);
    assert_eq!(
        c.liquidations.iter().map(|l| l.side).collect::<Vec<_>>(),
        [LiquidatedSide::Short, LiquidatedSide::Long]
    );
}

#[test]
fn a_replayed_gap_leaves_the_book_out_of_sync_until_a_new_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let frames = [
        raw(&fixture("snapshot.json")),
        raw(&fixture("change_gap.json")),
        raw(&fixture("change.json")),
    ];
    let path = write_capture(dir.path(), &[], &frames);
    let mut a = Deribit::new(AdapterConfig::default());
    let c = replay_file(&mut a, &path).unwrap();
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    assert!(!c.book(VENUE, "BTC-USD-PERP").unwrap().is_live());
    let resubscribed = c.actions.iter().any(|a| {
        matches!(a, Action::Send { text, .. } if text.contains("public/subscribe") && text.contains("book.BTC-PERPETUAL.raw"))
    });
    assert!(resubscribed, "{:?}", c.actions);
}

// ---- against the simulator ------------------------------------------------------

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn http_get(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("http://").ok_or("not http")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(host).await.map_err(|e| e.to_string())?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8(buf).map_err(|e| e.to_string())?;
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no head")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(head.lines().next().unwrap_or("").to_string());
    }
    Ok(body.to_string())
}

struct Driver {
    conns: BTreeMap<String, Ws>,
    c: Collector,
}

impl Driver {
    async fn run_actions(&mut self, a: &mut dyn Adapter) {
        while !self.c.actions.is_empty() {
            let actions: Vec<Action> = self.c.actions.drain(..).collect();
            for act in actions {
                match act {
                    Action::Send { url, text } => {
                        if let Some(ws) = self.conns.get_mut(&url) {
                            ws.send(Message::text(text)).await.unwrap();
                        }
                    }
                    // History requests are paced live; the simulator
                    // answers them at once.
                    Action::HttpGet { url } | Action::HttpGetPaced { url, .. } => {
                        match http_get(&url).await {
                            Ok(body) => self.c.http(a, &url, &body, now_micros()),
                            Err(e) => panic!("GET {url}: {e}"),
                        }
                    }
                    other => panic!("the simulated deribit asks for no {other:?}"),
                }
            }
        }
    }

    async fn pump(&mut self, a: &mut dyn Adapter, idle: Duration) {
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            let mut got = false;
            let urls: Vec<String> = self.conns.keys().cloned().collect();
            for url in urls {
                while let Some(ws) = self.conns.get_mut(&url) {
                    let Ok(Some(Ok(m))) = tokio::time::timeout(idle, ws.next()).await else {
                        break;
                    };
                    if let Message::Text(t) = m {
                        self.c.text(a, &url, t.as_str(), now_micros());
                        got = true;
                        self.run_actions(a).await;
                    }
                }
            }
            if !got {
                break;
            }
        }
    }
}

const INSTS: [&str; 3] = ["BTC-USD-PERP", "ETH-USD-PERP", "BTC-USDC-PERP"];

async fn on_sim(gap_fault: bool) -> (Simulator, Collector) {
    let sim = Simulator::start(SimConfig {
        cascade_every_s: 2.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut a = Deribit::new(AdapterConfig {
        instruments: INSTS.iter().map(|i| i.parse().unwrap()).collect(),
        endpoints: sim.endpoints()[&VENUE].clone(),
        ..AdapterConfig::default()
    });
    let mut d = Driver {
        conns: BTreeMap::new(),
        c: Collector::default(),
    };
    let mut out = depthwatch::venues::Output::default();
    a.start(now_micros(), &mut out);
    d.c.absorb(&mut out);
    d.run_actions(&mut a).await;
    for spec in a.connections() {
        let ws = tokio_tungstenite::connect_async(spec.url.as_str())
            .await
            .unwrap()
            .0;
        d.conns.insert(spec.url.clone(), ws);
        d.c.open(&mut a, &spec.url, now_micros());
        d.run_actions(&mut a).await;
    }
    let until = std::time::Instant::now() + Duration::from_secs(8);
    let mut injected = !gap_fault;
    while std::time::Instant::now() < until {
        d.pump(&mut a, Duration::from_millis(5)).await;
        if !injected && std::time::Instant::now() + Duration::from_secs(5) > until {
            injected = true;
            sim.faults().venue(VENUE).skip_sequence();
        }
    }
    sim.set_paused(true);
    d.pump(&mut a, Duration::from_millis(500)).await;
    (sim, d.c)
}

fn assert_books_equal(sim: &Simulator, c: &Collector) {
    for name in INSTS {
        let inst: Instrument = name.parse().unwrap();
        let book = c
            .books
            .get(&(VENUE, inst))
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(book.is_live(), "{name} {:?}", book.state());
        let (sb, sa) = sim.book(VENUE, &inst);
        assert_eq!(book.bids.top(20), sb[..20].to_vec(), "{name} bids");
        assert_eq!(book.asks.top(20), sa[..20].to_vec(), "{name} asks");
        assert_eq!(book.bids.len(), sb.len(), "{name} bid levels");
        assert_eq!(book.asks.len(), sa.len(), "{name} ask levels");
    }
}

#[tokio::test]
async fn deribit_adapter_on_sim_ends_with_the_simulators_books() {
    let (sim, c) = on_sim(false).await;
    println!(
        "deribit: frames {} updates {} trades {} liqs {} funding {} incidents {:?}",
        c.frames,
        c.book_updates,
        c.trades.len(),
        c.liquidations.len(),
        c.funding.len(),
        c.incidents
    );
    assert_books_equal(&sim, &c);
    assert_eq!(c.count(Incident::ParseError), 0);
    assert_eq!(c.count(Incident::UnknownMessage), 0);
    assert_eq!(c.count(Incident::Gap), 0);
    assert!(!c.trades.is_empty() && !c.funding.is_empty());
    assert!(!c.liquidations.is_empty(), "cascades print flagged trades");
    assert!(c.funding.iter().all(|f| f.update.open_interest.is_some()));
}

#[tokio::test]
async fn a_withheld_change_is_a_gap_and_the_resubscription_rebuilds_the_book() {
    let (sim, c) = on_sim(true).await;
    assert!(sim.faults().stats(VENUE).sequence_gaps >= 1);
    assert!(c.count(Incident::Gap) >= 1, "{:?}", c.incidents);
    assert!(c.count(Incident::Resync) >= 1);
    assert_books_equal(&sim, &c);
}

#[tokio::test]
async fn the_rest_fallback_polls_the_simulators_book() {
    let sim = Simulator::start(SimConfig {
        manual_clock: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.advance(3);
    let mut a = Deribit::new(AdapterConfig {
        endpoints: sim.endpoints()[&VENUE].clone(),
        ..AdapterConfig::default()
    });
    let mut c = Collector::default();
    for name in INSTS {
        let inst: Instrument = name.parse().unwrap();
        let poll = a.poll_depth(&inst).unwrap();
        assert!(poll.every >= Duration::from_millis(50));
        let body = http_get(&poll.url).await.unwrap();
        let mut out = depthwatch::venues::Output::default();
        a.on_poll(inst, &body, now_micros(), &mut out);
        c.absorb(&mut out);
        let book = c.books.get(&(VENUE, inst)).unwrap();
        assert_eq!(book.state(), &depthwatch::model::BookState::Polled);
        let (sb, sa) = sim.book(VENUE, &inst);
        assert_eq!(book.bids.top(20), sb[..20].to_vec(), "{name} bids");
        assert_eq!(book.asks.top(20), sa[..20].to_vec(), "{name} asks");
    }
    assert!(c.incidents.is_empty(), "{:?}", c.incidents);
    sim.shutdown().await;
}
