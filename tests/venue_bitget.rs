//! Bitget end to end: capture-format-2 files written here and replayed
//! (through the adapter and through the binary), the real adapter against
//! the simulator over loopback, and a checksum fault on the simulator.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use depthwatch::capture::CaptureWriter;
use depthwatch::model::{
    BookState, Incident, Instrument, MarketEvent, OutOfSyncReason, now_micros,
};
use depthwatch::sim::{SimConfig, Simulator};
use depthwatch::venues::bitget::Bitget;
use depthwatch::venues::testkit::{Collector, replay_file, top_strings};
use depthwatch::venues::{Action, Adapter, AdapterConfig, Output, registry};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

const BITGET: depthwatch::model::Venue = depthwatch::venue!("bitget");

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bitget")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

/// Best 25 bids and asks interleaved, `price:size` as sent, CRC-32 signed.
fn checksum(bids: &[(&str, &str)], asks: &[(&str, &str)]) -> i32 {
    let mut parts = Vec::new();
    for i in 0..25 {
        for side in [bids, asks] {
            if let Some((p, s)) = side.get(i) {
                parts.push(format!("{p}:{s}"));
            }
        }
    }
    crc32fast::hash(parts.join(":").as_bytes()) as i32
}

/// One connection of a capture: its address and the frames received on it.
struct Conn<'a> {
    addr: &'a str,
    frames: Vec<String>,
}

/// Write a capture: REST bodies first (as cryptofeed's recordings put
/// them), then each connection's connect record and frames, interleaved.
fn write_capture(
    dir: &Path,
    exchange: &str,
    symbols: &[&str],
    http: &[(&str, String)],
    conns: &[Conn<'_>],
) -> PathBuf {
    let path = dir.join(format!("{exchange}.jsonl.zst"));
    let mut cfg = BTreeMap::new();
    let symbols: Vec<String> = symbols.iter().map(|s| s.to_string()).collect();
    cfg.insert("l2_book".to_string(), symbols.clone());
    cfg.insert("trades".to_string(), symbols);
    let mut w = CaptureWriter::create(&path, exchange, &cfg, 1_649_290_075_000_000).unwrap();
    let mut ts = 1_649_290_075_000_000;
    for (url, body) in http {
        w.http(&format!("{exchange}.http.sync"), ts, url, body)
            .unwrap();
        ts += 1000;
    }
    for (n, c) in conns.iter().enumerate() {
        let name = format!("{exchange}.ws.{}", n + 1);
        w.connect(&name, ts, c.addr).unwrap();
        w.send(&name, ts, c.addr, "{\"op\":\"subscribe\",\"args\":[]}")
            .unwrap();
    }
    let longest = conns.iter().map(|c| c.frames.len()).max().unwrap_or(0);
    for i in 0..longest {
        for (n, c) in conns.iter().enumerate() {
            if let Some(f) = c.frames.get(i) {
                ts += 1000;
                w.recv_text(&format!("{exchange}.ws.{}", n + 1), ts, f)
                    .unwrap();
            }
        }
    }
    w.finish().unwrap();
    path
}

fn v1_book(
    action: &str,
    inst_type: &str,
    id: &str,
    b: &[(&str, &str)],
    a: &[(&str, &str)],
    sum: i32,
) -> String {
    json!({"action": action, "arg": {"instType": inst_type, "channel": "books", "instId": id},
           "data": [{"asks": a.iter().map(|(p, s)| [p, s]).collect::<Vec<_>>(),
                     "bids": b.iter().map(|(p, s)| [p, s]).collect::<Vec<_>>(),
                     "checksum": sum, "ts": "1649290077000"}]})
    .to_string()
}

/// A v1 recording as cryptofeed makes one: spot and mix streams, the v1
/// REST lists, checksums on every push, trades as arrays.
fn v1_capture(dir: &Path) -> PathBuf {
    let spot_url = "https://api.bitget.com/api/spot/v1/public/products";
    let spot_body = json!({"code": "00000", "msg": "success", "requestTime": 1649290075822u64, "data": [
        {"symbol": "EOSUSDT_SPBL", "symbolName": "EOSUSDT", "baseCoin": "EOS", "quoteCoin": "USDT",
         "minTradeAmount": "0.01", "maxTradeAmount": "0", "takerFeeRate": "0.001", "makerFeeRate": "0.001",
         "priceScale": "4", "quantityScale": "4", "status": "online"}]})
    .to_string();
    let mix_url = "https://api.bitget.com/api/mix/v1/market/contracts?productType=umcbl";
    let mix_body =
        json!({"code": "00000", "msg": "success", "requestTime": 1649290076159u64, "data": [
        {"symbol": "DASHUSDT_UMCBL", "quoteCoin": "USDT", "baseCoin": "DASH", "minTradeNum": "0.01",
         "priceEndStep": "1", "volumePlace": "2", "pricePlace": "2"}]})
        .to_string();
    // EOSUSDT: snapshot, then two updates.
    let s0 = [
        ("2.4346", "1929.6778"),
        ("2.4341", "167.4122"),
        ("2.4300", "10.0000"),
    ];
    let a0 = [("2.4376", "31.1134"), ("2.4377", "43.1792")];
    let s1 = [
        ("2.4346", "1900.0000"),
        ("2.4341", "167.4122"),
        ("2.4300", "10.0000"),
    ];
    let a1 = [
        ("2.4370", "5.0000"),
        ("2.4376", "31.1134"),
        ("2.4377", "43.1792"),
    ];
    let s2 = [("2.4346", "1900.0000"), ("2.4300", "10.0000")];
    let spot = vec![
        json!({"event": "subscribe", "arg": {"instType": "sp", "channel": "books", "instId": "EOSUSDT"}}).to_string(),
        v1_book("snapshot", "sp", "EOSUSDT", &s0, &a0, checksum(&s0, &a0)),
        r#"{"action":"snapshot","arg":{"instType":"sp","channel":"trade","instId":"EOSUSDT"},"data":[["1649290076333","2.4350","10.5","sell"]]}"#.to_string(),
        v1_book("update", "sp", "EOSUSDT", &[("2.4346", "1900.0000")], &[("2.4370", "5.0000")], checksum(&s1, &a1)),
        r#"{"action":"update","arg":{"instType":"sp","channel":"candle1m","instId":"EOSUSDT"},"data":[["1649290020000","2.43","2.44","2.43","2.44","100"]]}"#.to_string(),
        v1_book("update", "sp", "EOSUSDT", &[("2.4341", "0")], &[], checksum(&s2, &a1)),
        r#"{"action":"update","arg":{"instType":"sp","channel":"trade","instId":"EOSUSDT"},"data":[["1649290077777","2.4370","4","buy"]]}"#.to_string(),
    ];
    // DASHUSDT (USDT-M): snapshot and one update, plus a ticker.
    let d0 = [("113.37", "0.49"), ("113.36", "12.00")];
    let e0 = [("113.42", "6.40"), ("113.43", "2.01")];
    let e1 = [("113.43", "2.01")];
    let mix = vec![
        v1_book("snapshot", "mc", "DASHUSDT", &d0, &e0, checksum(&d0, &e0)),
        v1_book("update", "mc", "DASHUSDT", &[], &[("113.42", "0")], checksum(&d0, &e1)),
        r#"{"action":"snapshot","arg":{"instType":"mc","channel":"ticker","instId":"DASHUSDT"},"data":[{"instId":"DASHUSDT","last":"113.370","bestAsk":"113.41","bestBid":"113.36","capitalRate":"-0.000100","nextSettleTime":1649314800000,"systemTime":1649290077309,"markPrice":"113.381","indexPrice":"113.427","holding":"21957.17"}]}"#.to_string(),
    ];
    write_capture(
        dir,
        "BITGET",
        &["EOS-USDT", "DASH-USDT-PERP"],
        &[(spot_url, spot_body), (mix_url, mix_body)],
        &[
            Conn {
                addr: "wss://ws.bitget.com/spot/v1/stream",
                frames: spot,
            },
            Conn {
                addr: "wss://ws.bitget.com/mix/v1/stream",
                frames: mix,
            },
        ],
    )
}

fn adapter_for(instruments: &[&str]) -> Box<dyn Adapter> {
    let venue = registry::venue_for_capture("BITGET").expect("BITGET replays");
    assert_eq!(venue, BITGET);
    registry::build(
        venue,
        AdapterConfig {
            instruments: instruments.iter().map(|s| s.parse().unwrap()).collect(),
            ..AdapterConfig::default()
        },
    )
}

#[test]
fn a_v1_recording_replays_to_the_exact_books() {
    let dir = tempfile::tempdir().unwrap();
    let path = v1_capture(dir.path());
    let mut a = adapter_for(&["EOS-USDT", "DASH-USDT-PERP"]);
    let c = replay_file(a.as_mut(), &path).unwrap();
    assert_eq!(c.count(Incident::ParseError), 0);
    assert_eq!(c.count(Incident::ChecksumOk), 3);
    assert_eq!(c.count(Incident::ChecksumFailed), 0);
    let eos = c.book(BITGET, "EOS-USDT").unwrap();
    assert!(eos.is_live());
    assert_eq!(
        top_strings(&eos.bids, 10),
        pairs(&[("2.4346", "1900"), ("2.43", "10")])
    );
    assert_eq!(
        top_strings(&eos.asks, 10),
        pairs(&[("2.437", "5"), ("2.4376", "31.1134"), ("2.4377", "43.1792")])
    );
    let dash = c.book(BITGET, "DASH-USDT-PERP").unwrap();
    assert!(dash.is_live());
    assert_eq!(
        top_strings(&dash.bids, 10),
        pairs(&[("113.37", "0.49"), ("113.36", "12")])
    );
    assert_eq!(top_strings(&dash.asks, 10), pairs(&[("113.43", "2.01")]));
    // The subscription's trade snapshot is history; the update is new.
    assert_eq!(c.trades.len(), 1);
    assert_eq!(c.trades[0].side, depthwatch::model::TakerSide::Buy);
    assert_eq!(c.funding.len(), 1);
    assert_eq!(
        c.funding[0].update.open_interest,
        Some("21957.17".parse().unwrap())
    );
}

#[test]
fn the_binary_replays_a_bitget_recording() {
    let dir = tempfile::tempdir().unwrap();
    let path = v1_capture(dir.path());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_depthwatch"))
        .args(["replay", "--headless", "--json", "--speed", "max"])
        .arg(&path)
        .env("XDG_CONFIG_HOME", "/nonexistent-depthwatch-test")
        .output()
        .expect("binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let book = lines
        .iter()
        .find(|l| l["type"] == "book" && l["instrument"] == "EOS-USDT")
        .expect("EOS-USDT book line");
    assert_eq!(book["venue"], "bitget");
    assert_eq!(book["state"], "live");
    assert_eq!(book["bids"][0], json!(["2.4346", "1900"]));
    assert_eq!(book["asks"][0], json!(["2.437", "5"]));
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["parse_errors"], 0);
    assert_eq!(summary["gaps"], 0);
    assert_eq!(summary["checksum_ok"], 3);
    assert_eq!(summary["crossed_books"], 0);
}

/// v2: a wrong checksum takes the book down and resubscribes it; updates
/// before the new snapshot are dropped; the book ends exactly as the
/// snapshot and update after it say.
#[test]
fn a_v2_recording_with_a_bad_checksum_resubscribes_and_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let ws = "wss://ws.bitget.com/v2/ws/public";
    let s2 = [("65000.10", "0.500000")];
    let a2 = [("65000.20", "0.300000"), ("65000.90", "1.000000")];
    let a3 = [("65000.90", "1.000000")];
    let frames = vec![
        fixture("subscribe_ack.json"),
        fixture("snapshot.json"),
        fixture("update.json"),
        fixture("update_bad_checksum.json"),
        fixture("update.json"),
        json!({"action": "snapshot", "arg": {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"},
               "data": [{"asks": a2.iter().map(|(p, s)| [p, s]).collect::<Vec<_>>(),
                         "bids": s2.iter().map(|(p, s)| [p, s]).collect::<Vec<_>>(),
                         "checksum": 0, "seq": 2000, "ts": "1754000001000"}], "ts": 1754000001001u64})
        .to_string(),
        json!({"action": "update", "arg": {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"},
               "data": [{"asks": [["65000.20", "0"]], "bids": [],
                         "checksum": checksum(&s2, &a3), "seq": 2001, "ts": "1754000001100"}], "ts": 1754000001101u64})
        .to_string(),
    ];
    let path = write_capture(
        dir.path(),
        "BITGET",
        &["BTC-USDT"],
        &[(
            "https://api.bitget.com/api/v2/spot/public/symbols",
            fixture("spot_symbols.json"),
        )],
        &[Conn { addr: ws, frames }],
    );
    let mut a = adapter_for(&["BTC-USDT"]);
    let c = replay_file(a.as_mut(), &path).unwrap();
    assert_eq!(c.count(Incident::ChecksumFailed), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    assert_eq!(c.count(Incident::ChecksumOk), 2);
    assert_eq!(c.count(Incident::ParseError), 0);
    let resubscribed: Vec<&str> = c
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .filter(|t| t.contains("\"books\""))
        .collect();
    assert!(resubscribed.iter().any(|t| t.contains("unsubscribe")));
    let b = c.book(BITGET, "BTC-USDT").unwrap();
    assert!(b.is_live());
    assert_eq!(top_strings(&b.bids, 10), pairs(&[("65000.1", "0.5")]));
    assert_eq!(top_strings(&b.asks, 10), pairs(&[("65000.9", "1")]));
}

// ---- the simulator ---------------------------------------------------------

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn http_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "GET {url}: {head}");
    body.to_string()
}

/// Carry out the adapter's actions (sends, REST fetches) until none is left.
async fn run_actions(a: &mut Bitget, c: &mut Collector, conns: &mut BTreeMap<String, Ws>) {
    while !c.actions.is_empty() {
        for act in std::mem::take(&mut c.actions) {
            match act {
                Action::Send { url, text } => {
                    if let Some(ws) = conns.get_mut(&url) {
                        ws.send(tokio_tungstenite::tungstenite::Message::text(text))
                            .await
                            .unwrap();
                    }
                }
                // History requests are paced live; the simulator answers
                // them at once.
                Action::HttpGet { url } | Action::HttpGetPaced { url, .. } => {
                    let body = http_get(&url).await;
                    c.http(a, &url, &body, now_micros());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

/// Read every connection until it has been quiet for `idle`.
async fn pump(a: &mut Bitget, c: &mut Collector, conns: &mut BTreeMap<String, Ws>, idle: Duration) {
    loop {
        let mut got = false;
        let urls: Vec<String> = conns.keys().cloned().collect();
        for url in urls {
            while let Some(ws) = conns.get_mut(&url) {
                let Ok(Some(Ok(m))) = tokio::time::timeout(idle, ws.next()).await else {
                    break;
                };
                if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                    c.text(a, &url, t.as_str(), now_micros());
                    got = true;
                    run_actions(a, c, conns).await;
                }
            }
        }
        if !got {
            break;
        }
    }
}

#[tokio::test]
async fn the_adapter_on_the_simulator_keeps_the_simulators_books() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let insts = ["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"];
    let mut a = Bitget::new(AdapterConfig {
        instruments: insts.iter().map(|s| s.parse().unwrap()).collect(),
        endpoints: sim.endpoints()[&BITGET].clone(),
        ..AdapterConfig::default()
    });
    let mut c = Collector::default();
    let mut conns = BTreeMap::new();
    let mut out = Output::default();
    a.start(now_micros(), &mut out);
    c.absorb(&mut out);
    run_actions(&mut a, &mut c, &mut conns).await;
    for spec in a.connections() {
        let (ws, _) = tokio_tungstenite::connect_async(spec.url.as_str())
            .await
            .unwrap();
        conns.insert(spec.url.clone(), ws);
        c.open(&mut a, &spec.url, now_micros());
        run_actions(&mut a, &mut c, &mut conns).await;
    }
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        pump(&mut a, &mut c, &mut conns, Duration::from_millis(5)).await;
    }
    // A ping is answered with a pong (and nothing else).
    for ws in conns.values_mut() {
        ws.send(tokio_tungstenite::tungstenite::Message::text("ping"))
            .await
            .unwrap();
    }
    sim.set_paused(true);
    pump(&mut a, &mut c, &mut conns, Duration::from_millis(500)).await;
    assert_eq!(c.count(Incident::ParseError), 0);
    assert_eq!(c.count(Incident::UnknownMessage), 0);
    assert_eq!(c.count(Incident::Gap), 0);
    assert_eq!(c.count(Incident::ChecksumFailed), 0);
    assert!(c.count(Incident::ChecksumOk) > 20, "{:?}", c.incidents);
    for name in insts {
        let i: Instrument = name.parse().unwrap();
        let book = c.books.get(&(BITGET, i)).unwrap();
        assert!(book.is_live(), "{name} {:?}", book.state());
        let (sb, sa) = sim.book(BITGET, &i);
        assert_eq!(book.bids.top(25), sb[..25].to_vec(), "{name} bids");
        assert_eq!(book.asks.top(25), sa[..25].to_vec(), "{name} asks");
        assert_eq!(book.bids.len(), sb.len(), "{name}: the whole book");
    }
    assert!(!c.trades.is_empty());
    let perp: Instrument = "BTC-USDT-PERP".parse().unwrap();
    let f = c
        .funding
        .iter()
        .find(|f| f.instrument == perp)
        .expect("funding");
    assert!(f.update.funding_rate.is_some() && f.update.open_interest.is_some());
    // The REST fallback (the stream gone) answers in both shapes.
    for url in conns.keys() {
        c.close(&mut a, url, now_micros());
    }
    for name in ["BTC-USDT", "BTC-USDT-PERP"] {
        let i: Instrument = name.parse().unwrap();
        let poll = a.poll_depth(&i).unwrap();
        let body = http_get(&poll.url).await;
        let mut out = Output::default();
        a.on_poll(i, &body, now_micros(), &mut out);
        assert!(
            out.events
                .iter()
                .any(|e| matches!(e, MarketEvent::Book(b) if b.bids.len() == 150)),
            "{name}: {body:.200}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_checksum_on_the_simulator_rebuilds_exactly_that_book() {
    let h = common::Harness::start(common::Options {
        venues: vec![BITGET],
        ..common::Options::default()
    })
    .await;
    h.run_for(Duration::from_millis(600)).await;
    let before = h.counters(BITGET);
    let injected = h.sim.faults().stats(BITGET).bad_checksums;
    let t0 = Instant::now();
    h.sim.faults().venue(BITGET).bad_checksum();
    h.run_for(Duration::from_millis(2500)).await;
    let down: Vec<_> = h
        .went_down_after(t0)
        .into_iter()
        .filter(|k| {
            h.transitions_after(t0, k).iter().any(|t| {
                matches!(
                    t.state,
                    BookState::OutOfSync(OutOfSyncReason::ChecksumMismatch { .. })
                )
            })
        })
        .collect();
    assert_eq!(down.len(), 1, "exactly the corrupted book: {down:?}");
    assert!(
        h.rebuilt_after(t0, &down[0]).is_some(),
        "{:?} rebuilt",
        down[0]
    );
    let c = h.counters(BITGET).since(&before);
    assert_eq!(h.sim.faults().stats(BITGET).bad_checksums - injected, 1);
    assert_eq!(c.checksum_failed, 1);
    assert_eq!(c.resyncs, 1);
    assert_eq!((c.gaps, c.reconnects), (0, 0));
    assert!(c.checksum_ok > 0);
    h.assert_books_match(Duration::from_secs(3)).await;
    h.assert_clean();
    h.shutdown().await;
}
