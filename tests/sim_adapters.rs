//! The real adapters against the simulator, over loopback WebSocket and HTTP.

use std::collections::BTreeMap;
use std::time::Duration;

use depthwatch::model::{Incident, Instrument, Venue, now_micros};
use depthwatch::sim::{SimConfig, Simulator};
use depthwatch::venues::testkit::Collector;
use depthwatch::venues::{Action, Adapter, AdapterConfig};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

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
                    // Pacing is the runtime's job; here every GET goes at once.
                    Action::HttpGet { url } | Action::HttpGetPaced { url, .. } => {
                        match http_get(&url).await {
                            Ok(body) => self.c.http(a, &url, &body, now_micros()),
                            Err(e) => panic!("GET {url}: {e}"),
                        }
                    }
                    Action::Reconnect { url, reason } => {
                        println!("reconnect {url}: {reason}");
                        self.conns.remove(&url);
                        self.c.close(a, &url, now_micros());
                        let ws = tokio_tungstenite::connect_async(url.as_str())
                            .await
                            .unwrap()
                            .0;
                        self.conns.insert(url.clone(), ws);
                        self.c.open(a, &url, now_micros());
                    }
                    other => panic!("the simulated venues ask for no {other:?}"),
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
                        let mut out = depthwatch::venues::Output::default();
                        a.on_text(&url, t.as_str(), now_micros(), &mut out);
                        for e in &out.events {
                            if let depthwatch::model::MarketEvent::Incident {
                                incident,
                                detail,
                                ..
                            } = e
                            {
                                if *incident != Incident::ChecksumOk {
                                    println!(
                                        "INCIDENT {incident:?} {detail:?} on {url}: {}",
                                        &t.as_str()[..t.len().min(200)]
                                    );
                                }
                            }
                        }
                        self.c.frames += 1;
                        self.c.absorb(&mut out);
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

async fn run(venue: Venue, adapter: &mut dyn Adapter, sim: &Simulator, steps: usize) -> Collector {
    let mut d = Driver {
        conns: BTreeMap::new(),
        c: Collector::default(),
    };
    let mut out = depthwatch::venues::Output::default();
    adapter.start(now_micros(), &mut out);
    d.c.absorb(&mut out);
    d.run_actions(adapter).await;
    for spec in adapter.connections() {
        let ws = tokio_tungstenite::connect_async(spec.url.as_str())
            .await
            .unwrap()
            .0;
        d.conns.insert(spec.url.clone(), ws);
        d.c.open(adapter, &spec.url, now_micros());
        d.run_actions(adapter).await;
    }
    // Clock running (realistic timing) for a while, then paused to compare.
    let until = std::time::Instant::now() + Duration::from_millis(steps as u64 * 100);
    let mut injected = false;
    while std::time::Instant::now() < until {
        d.pump(adapter, Duration::from_millis(5)).await;
        if !injected
            && std::time::Instant::now() + Duration::from_secs(4) > until
            && std::env::var("FAULTS").is_ok()
        {
            injected = true;
            let f = sim.faults().venue(venue);
            f.skip_sequence();
            f.bad_checksum();
            f.malformed();
            f.unknown_message();
        }
    }
    sim.set_paused(true);
    d.pump(adapter, Duration::from_millis(500)).await;
    let _ = venue;
    d.c
}

fn check(sim: &Simulator, venue: Venue, c: &Collector, insts: &[&str]) {
    println!(
        "{venue}: frames {} updates {} trades {} liqs {} funding {} incidents {:?}",
        c.frames,
        c.book_updates,
        c.trades.len(),
        c.liquidations.len(),
        c.funding.len(),
        c.incidents
    );
    for name in insts {
        let inst: Instrument = name.parse().unwrap();
        let book = c
            .books
            .get(&(venue, inst))
            .unwrap_or_else(|| panic!("{venue} {name} missing"));
        assert!(book.is_live(), "{venue} {name} {:?}", book.state());
        let (sb, sa) = sim.book(venue, &inst);
        let ab: Vec<_> = book.bids.top(20);
        let aa: Vec<_> = book.asks.top(20);
        assert_eq!(ab, sb[..20].to_vec(), "{venue} {name} bids");
        assert_eq!(aa, sa[..20].to_vec(), "{venue} {name} asks");
    }
    println!("{venue} injected {:?}", sim.faults().stats(venue));
    if std::env::var("FAULTS").is_err() {
        assert_eq!(c.count(Incident::ParseError), 0);
        assert_eq!(c.count(Incident::Gap), 0);
    }
}

fn cfg(sim: &Simulator, venue: Venue, insts: &[&str]) -> AdapterConfig {
    AdapterConfig {
        instruments: insts.iter().map(|i| i.parse().unwrap()).collect(),
        endpoints: sim.endpoints()[&venue].clone(),
        ..AdapterConfig::default()
    }
}

const INSTS: [&str; 4] = ["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"];

#[tokio::test]
async fn binance_adapter_on_sim() {
    let sim = Simulator::start(SimConfig {
        cascade_every_s: 3.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut a =
        depthwatch::venues::binance::Binance::new(cfg(&sim, depthwatch::venue!("binance"), &INSTS));
    let c = run(depthwatch::venue!("binance"), &mut a, &sim, 80).await;
    check(&sim, depthwatch::venue!("binance"), &c, &INSTS);
}

#[tokio::test]
async fn bybit_adapter_on_sim() {
    let sim = Simulator::start(SimConfig {
        cascade_every_s: 3.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut a =
        depthwatch::venues::bybit::Bybit::new(cfg(&sim, depthwatch::venue!("bybit"), &INSTS));
    let c = run(depthwatch::venue!("bybit"), &mut a, &sim, 80).await;
    check(&sim, depthwatch::venue!("bybit"), &c, &INSTS);
}

#[tokio::test]
async fn okx_adapter_on_sim() {
    let sim = Simulator::start(SimConfig {
        cascade_every_s: 3.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut a = depthwatch::venues::okx::Okx::new(cfg(&sim, depthwatch::venue!("okx"), &INSTS));
    let c = run(depthwatch::venue!("okx"), &mut a, &sim, 80).await;
    check(&sim, depthwatch::venue!("okx"), &c, &INSTS);
    assert!(c.count(Incident::ChecksumOk) > 0);
}
