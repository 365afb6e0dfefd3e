//! The simulator speaks the venues' documented protocols on loopback: raw
//! WebSocket / HTTP clients subscribe exactly as the real venues expect and
//! check the frames' shapes, the sequence rules, the OKX checksum (computed
//! independently here), the wire symptoms of each fault, and determinism.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use depthwatch::model::{Instrument, Level, Venue};
use depthwatch::sim::{SimConfig, Simulator};
use futures_util::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const EPOCH_MS: i64 = 1_786_000_000_000;

fn manual(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        manual_clock: true,
        epoch_ms: Some(EPOCH_MS),
        ..SimConfig::default()
    }
}

async fn start(cfg: SimConfig) -> Simulator {
    Simulator::start(cfg).await.expect("simulator starts")
}

fn endpoint(sim: &Simulator, venue: Venue, key: &str) -> String {
    sim.endpoints()[&venue][key].clone()
}

async fn connect(url: &str) -> Ws {
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(url),
    )
    .await
    .expect("connect in time")
    .expect("websocket connects")
    .0
}

/// The next text frame, or `None` after `wait` of silence or on close.
async fn next_text(ws: &mut Ws, wait: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(t.to_string()),
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) | Err(_) => return None,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Every text frame until the connection is quiet for 500 ms (the market is
/// paused in these tests, so quiet means done).
async fn drain(ws: &mut Ws) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(t) = next_text(ws, Duration::from_millis(500)).await {
        out.push(t);
    }
    out
}

async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_string()))
        .await
        .expect("send");
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A plain HTTP/1.1 GET: (status, body).
async fn http_get(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(host).await.expect("tcp connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .expect("answer in time")
        .expect("read");
    let text = String::from_utf8(buf).expect("utf8");
    let (head, body) = text.split_once("\r\n\r\n").expect("head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("content-length");
    assert_eq!(body.len(), len, "Content-Length matches");
    (status, body.to_string())
}

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("decimal string expected, got {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("bad decimal {v}: {e}"))
}

/// A test-side book that keeps the exact strings received.
#[derive(Default)]
struct StrBook {
    bids: BTreeMap<Decimal, (String, String)>,
    asks: BTreeMap<Decimal, (String, String)>,
}

impl StrBook {
    fn apply_side(side: &mut BTreeMap<Decimal, (String, String)>, levels: &Value) {
        for l in levels.as_array().expect("levels array") {
            let (p, s) = (&l[0], &l[1]);
            let (pd, sd) = (dec(p), dec(s));
            if sd.is_zero() {
                side.remove(&pd);
            } else {
                side.insert(
                    pd,
                    (
                        p.as_str().unwrap().to_string(),
                        s.as_str().unwrap().to_string(),
                    ),
                );
            }
        }
    }

    fn apply(&mut self, bids: &Value, asks: &Value) {
        Self::apply_side(&mut self.bids, bids);
        Self::apply_side(&mut self.asks, asks);
    }

    fn bids_best_first(&self) -> Vec<&(String, String)> {
        self.bids.values().rev().collect()
    }

    fn asks_best_first(&self) -> Vec<&(String, String)> {
        self.asks.values().collect()
    }

    /// Top `n` a side in base units (`unit` = base per wire size unit).
    fn top(&self, n: usize, unit: Decimal) -> (Vec<Level>, Vec<Level>) {
        let conv = |(p, s): &(String, String)| {
            Level::new(p.parse().unwrap(), s.parse::<Decimal>().unwrap() * unit)
        };
        (
            self.bids_best_first()
                .into_iter()
                .take(n)
                .map(conv)
                .collect(),
            self.asks_best_first()
                .into_iter()
                .take(n)
                .map(conv)
                .collect(),
        )
    }

    /// OKX checksum, built independently from the documented recipe.
    fn okx_checksum(&self) -> i32 {
        let bids = self.bids_best_first();
        let asks = self.asks_best_first();
        let mut s = String::new();
        for i in 0..25 {
            for side in [&bids, &asks] {
                if let Some((p, q)) = side.get(i) {
                    if !s.is_empty() {
                        s.push(':');
                    }
                    s.push_str(p);
                    s.push(':');
                    s.push_str(q);
                }
            }
        }
        crc32fast::hash(s.as_bytes()) as i32
    }
}

fn sim_top(sim: &Simulator, venue: Venue, inst: &str, n: usize) -> (Vec<Level>, Vec<Level>) {
    let inst: Instrument = inst.parse().unwrap();
    let (b, a) = sim.book(venue, &inst);
    (
        b.into_iter().take(n).collect(),
        a.into_iter().take(n).collect(),
    )
}

fn assert_level_pairs(levels: &Value) {
    for l in levels.as_array().expect("array of levels") {
        let l = l.as_array().expect("level array");
        assert!(l.len() >= 2);
        assert!(l.iter().all(Value::is_string), "levels are strings: {l:?}");
    }
}

// ---------------------------------------------------------------- Binance

#[tokio::test]
async fn binance_spot_snapshot_bridges_the_diff_stream() {
    let sim = start(manual(11)).await;
    let ws_base = endpoint(&sim, depthwatch::venue!("binance"), "spot_ws");
    let rest = endpoint(&sim, depthwatch::venue!("binance"), "spot_rest");
    let mut ws = connect(&format!(
        "{ws_base}/stream?streams=btcusdt@depth@100ms/btcusdt@aggTrade/btcusdt@bookTicker"
    ))
    .await;
    sim.advance(5);
    let (status, body) = http_get(&format!("{rest}/api/v3/depth?symbol=BTCUSDT&limit=1000")).await;
    assert_eq!(status, 200);
    let snap = json(&body);
    let last_id = snap["lastUpdateId"].as_u64().expect("lastUpdateId");
    assert_level_pairs(&snap["bids"]);
    assert!(
        snap["bids"].as_array().unwrap().len() >= 400,
        "hundreds of levels"
    );
    sim.advance(30);
    let frames = drain(&mut ws).await;

    let mut book = StrBook::default();
    book.apply(&snap["bids"], &snap["asks"]);
    let (mut book_id, mut first, mut diffs, mut trades, mut tickers) = (last_id, true, 0, 0, 0);
    for f in &frames {
        let v = json(f);
        let stream = v["stream"].as_str().expect("combined envelope");
        let data = &v["data"];
        match stream {
            "btcusdt@depth@100ms" => {
                assert_eq!(data["e"], "depthUpdate");
                assert_eq!(data["s"], "BTCUSDT");
                assert!(data["E"].is_i64());
                assert_level_pairs(&data["b"]);
                assert_level_pairs(&data["a"]);
                let (u_first, u_last) = (data["U"].as_u64().unwrap(), data["u"].as_u64().unwrap());
                assert!(u_first <= u_last);
                if u_last <= book_id {
                    continue; // older than the snapshot
                }
                if first {
                    // Documented rule: the first applied event spans lastUpdateId+1.
                    assert!(u_first <= last_id + 1 && last_id < u_last);
                    first = false;
                } else {
                    assert_eq!(u_first, book_id + 1, "spot diff ids are contiguous");
                }
                book.apply(&data["b"], &data["a"]);
                book_id = u_last;
                diffs += 1;
            }
            "btcusdt@aggTrade" => {
                assert_eq!(data["e"], "aggTrade");
                for k in ["p", "q"] {
                    dec(&data[k]);
                }
                assert!(data["m"].is_boolean() && data["a"].is_u64() && data["T"].is_i64());
                trades += 1;
            }
            "btcusdt@bookTicker" => {
                for k in ["b", "B", "a", "A"] {
                    dec(&data[k]);
                }
                assert!(data["u"].is_u64());
                tickers += 1;
            }
            other => panic!("unexpected stream {other}"),
        }
    }
    assert!(diffs >= 25, "{diffs} diffs");
    assert!(trades > 0 && tickers > 0);
    assert_eq!(
        book.top(1000, Decimal::ONE),
        sim_top(&sim, depthwatch::venue!("binance"), "BTC-USDT", 1000)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn binance_futures_pu_chains_and_market_streams_are_split() {
    let cfg = SimConfig {
        cascade_every_s: 2.0,
        ..manual(12)
    };
    let sim = start(cfg).await;
    let public = endpoint(&sim, depthwatch::venue!("binance"), "futures_public_ws");
    let market = endpoint(&sim, depthwatch::venue!("binance"), "futures_market_ws");
    let rest = endpoint(&sim, depthwatch::venue!("binance"), "futures_rest");
    let mut depth = connect(&format!("{public}/stream?streams=btcusdt@depth@100ms")).await;
    let mut mkt = connect(&format!(
        "{market}/stream?streams=btcusdt@aggTrade/!forceOrder@arr/btcusdt@markPrice@1s/btcusdt@depth@100ms"
    ))
    .await;
    sim.advance(3);
    let (status, body) = http_get(&format!("{rest}/fapi/v1/depth?symbol=BTCUSDT&limit=1000")).await;
    assert_eq!(status, 200);
    let snap = json(&body);
    let last_id = snap["lastUpdateId"].as_u64().unwrap();
    assert!(snap["E"].is_i64() && snap["T"].is_i64());
    sim.advance(150);

    let mut book = StrBook::default();
    book.apply(&snap["bids"], &snap["asks"]);
    let mut prev_u: Option<u64> = None;
    for f in drain(&mut depth).await {
        let v = json(&f);
        let d = &v["data"];
        assert_eq!(d["e"], "depthUpdate");
        assert!(d["T"].is_i64());
        let (uf, ul, pu) = (
            d["U"].as_u64().unwrap(),
            d["u"].as_u64().unwrap(),
            d["pu"].as_u64().unwrap(),
        );
        if let Some(p) = prev_u {
            assert_eq!(pu, p, "pu equals the previous event's u");
        }
        prev_u = Some(ul);
        if ul < last_id {
            continue;
        }
        book.apply(&d["b"], &d["a"]);
        let _ = uf;
    }
    assert_eq!(
        book.top(500, Decimal::ONE),
        sim_top(&sim, depthwatch::venue!("binance"), "BTC-USDT-PERP", 500)
    );

    let (mut trades, mut marks, mut forced) = (0, 0, 0);
    for f in drain(&mut mkt).await {
        let v = json(&f);
        let d = &v["data"];
        match v["stream"].as_str().unwrap() {
            "btcusdt@aggTrade" => {
                assert_eq!(d["e"], "aggTrade");
                trades += 1;
            }
            "btcusdt@markPrice@1s" => {
                assert_eq!(d["e"], "markPriceUpdate");
                for k in ["p", "i", "r"] {
                    dec(&d[k]);
                }
                assert!(d["T"].is_i64());
                marks += 1;
            }
            "!forceOrder@arr" => {
                assert_eq!(d["e"], "forceOrder");
                let o = &d["o"];
                assert!(o["S"] == "SELL" || o["S"] == "BUY");
                for k in ["q", "p", "ap", "l", "z"] {
                    dec(&o[k]);
                }
                assert_eq!(o["X"], "FILLED");
                forced += 1;
            }
            other => panic!("stream {other} must stay silent on /market"),
        }
    }
    assert!(
        trades > 0 && marks >= 10 && forced > 0,
        "{trades} {marks} {forced}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn binance_sends_server_ping_frames() {
    let sim = start(SimConfig {
        binance_ping: Duration::from_millis(100),
        ..manual(14)
    })
    .await;
    let url = format!(
        "{}/stream?streams=btcusdt@depth",
        endpoint(&sim, depthwatch::venue!("binance"), "spot_ws")
    );
    let mut ws = connect(&url).await;
    let ping = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            if let Some(Ok(Message::Ping(_))) = ws.next().await {
                return;
            }
        }
    })
    .await;
    assert!(ping.is_ok(), "a ping frame arrives");
    sim.shutdown().await;
}

#[tokio::test]
async fn binance_rest_instruments_and_errors() {
    let sim = start(manual(13)).await;
    let rest = endpoint(&sim, depthwatch::venue!("binance"), "spot_rest");
    let (status, body) = http_get(&format!("{rest}/api/v3/exchangeInfo")).await;
    assert_eq!(status, 200);
    let info = json(&body);
    let btc = info["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["symbol"] == "BTCUSDT")
        .expect("BTCUSDT listed");
    assert_eq!(btc["baseAsset"], "BTC");
    let tick = btc["filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["filterType"] == "PRICE_FILTER")
        .unwrap();
    assert_eq!(dec(&tick["tickSize"]), "0.01".parse().unwrap());
    let (status, body) = http_get(&format!("{rest}/fapi/v1/exchangeInfo")).await;
    assert_eq!(status, 200);
    assert!(
        json(&body)["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["contractType"] == "PERPETUAL")
    );
    let (status, body) = http_get(&format!("{rest}/api/v3/depth?symbol=NOPEUSDT")).await;
    assert_eq!(status, 400);
    assert_eq!(json(&body)["code"], -1121);
    let (status, body) = http_get(&format!("{rest}/api/v3/depth?symbol=ETHUSDT&limit=5")).await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["bids"].as_array().unwrap().len(), 5);
    sim.shutdown().await;
}

// ------------------------------------------------------------------ Bybit

#[tokio::test]
async fn bybit_snapshot_then_consecutive_deltas() {
    let sim = start(SimConfig {
        cascade_every_s: 2.0,
        ..manual(21)
    })
    .await;
    let mut ws = connect(&endpoint(&sim, depthwatch::venue!("bybit"), "linear_ws")).await;
    send(
        &mut ws,
        r#"{"req_id":"7","op":"subscribe","args":["orderbook.200.BTCUSDT","publicTrade.BTCUSDT","tickers.BTCUSDT","allLiquidation.BTCUSDT"]}"#,
    )
    .await;
    let ack = json(
        &next_text(&mut ws, Duration::from_secs(2))
            .await
            .expect("ack"),
    );
    assert_eq!(ack["success"], true);
    assert_eq!(ack["op"], "subscribe");
    assert_eq!(ack["req_id"], "7");
    assert!(ack["conn_id"].is_string());
    let snap = json(
        &next_text(&mut ws, Duration::from_secs(2))
            .await
            .expect("snapshot"),
    );
    assert_eq!(snap["topic"], "orderbook.200.BTCUSDT");
    assert_eq!(snap["type"], "snapshot");
    assert!(snap["ts"].is_i64() && snap["cts"].is_i64());
    let data = &snap["data"];
    assert_eq!(data["s"], "BTCUSDT");
    assert_eq!(data["b"].as_array().unwrap().len(), 200);
    let mut book = StrBook::default();
    book.apply(&data["b"], &data["a"]);
    let (mut u, mut seq) = (data["u"].as_u64().unwrap(), data["seq"].as_u64().unwrap());

    send(&mut ws, r#"{"req_id":"p1","op":"ping"}"#).await;
    let pong = json(
        &next_text(&mut ws, Duration::from_secs(2))
            .await
            .expect("pong"),
    );
    assert_eq!(
        (pong["ret_msg"].as_str(), pong["op"].as_str()),
        (Some("pong"), Some("ping"))
    );
    assert_eq!(pong["req_id"], "p1");

    sim.advance(150);
    let (mut deltas, mut trades, mut tickers, mut liqs) = (0, 0, 0, 0);
    for f in drain(&mut ws).await {
        let v = json(&f);
        let topic = v["topic"].as_str().expect("topic");
        match topic {
            "orderbook.200.BTCUSDT" => {
                assert_eq!(v["type"], "delta");
                let d = &v["data"];
                let (nu, ns) = (d["u"].as_u64().unwrap(), d["seq"].as_u64().unwrap());
                assert_eq!(nu, u + 1, "u is consecutive");
                assert!(ns > seq, "seq grows");
                (u, seq) = (nu, ns);
                book.apply(&d["b"], &d["a"]);
                deltas += 1;
            }
            "publicTrade.BTCUSDT" => {
                for t in v["data"].as_array().unwrap() {
                    assert!(t["S"] == "Buy" || t["S"] == "Sell");
                    dec(&t["v"]);
                    dec(&t["p"]);
                    assert!(t["T"].is_i64() && t["i"].is_string() && t["seq"].is_u64());
                }
                trades += 1;
            }
            "tickers.BTCUSDT" => {
                let d = &v["data"];
                assert_eq!(v["type"], if tickers == 0 { "snapshot" } else { "delta" });
                for k in ["markPrice", "indexPrice", "fundingRate", "openInterest"] {
                    dec(&d[k]);
                }
                tickers += 1;
            }
            "allLiquidation.BTCUSDT" => {
                for l in v["data"].as_array().unwrap() {
                    assert!(l["S"] == "Buy" || l["S"] == "Sell");
                    dec(&l["v"]);
                    dec(&l["p"]);
                }
                liqs += 1;
            }
            other => panic!("unexpected topic {other}"),
        }
    }
    assert!(
        deltas >= 100 && trades > 0 && tickers >= 10 && liqs > 0,
        "{deltas} {trades} {tickers} {liqs}"
    );
    assert_eq!(
        book.top(200, Decimal::ONE),
        sim_top(&sim, depthwatch::venue!("bybit"), "BTC-USDT-PERP", 200)
    );

    // Spot: its own ack style, unknown topics refused.
    let mut spot = connect(&endpoint(&sim, depthwatch::venue!("bybit"), "spot_ws")).await;
    send(
        &mut spot,
        r#"{"op":"subscribe","args":["orderbook.50.ETHUSDT"]}"#,
    )
    .await;
    let ack = json(&next_text(&mut spot, Duration::from_secs(2)).await.unwrap());
    assert_eq!(
        (ack["success"].as_bool(), ack["ret_msg"].as_str()),
        (Some(true), Some("subscribe"))
    );
    let snap = json(&next_text(&mut spot, Duration::from_secs(2)).await.unwrap());
    assert_eq!(snap["data"]["a"].as_array().unwrap().len(), 50);
    send(
        &mut spot,
        r#"{"op":"subscribe","args":["allLiquidation.BTCUSDT"]}"#,
    )
    .await;
    let ack = json(&next_text(&mut spot, Duration::from_secs(2)).await.unwrap());
    assert_eq!(ack["success"], false);
    sim.shutdown().await;
}

#[tokio::test]
async fn bybit_rest_instruments() {
    let sim = start(manual(22)).await;
    let rest = endpoint(&sim, depthwatch::venue!("bybit"), "rest");
    let (status, body) = http_get(&format!(
        "{rest}/v5/market/instruments-info?category=linear"
    ))
    .await;
    assert_eq!(status, 200);
    let v = json(&body);
    assert_eq!(v["retCode"], 0);
    let btc = v["result"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["symbol"] == "BTCUSDT")
        .unwrap();
    assert_eq!(btc["contractType"], "LinearPerpetual");
    dec(&btc["priceFilter"]["tickSize"]);
    dec(&btc["lotSizeFilter"]["qtyStep"]);
    let (_, body) = http_get(&format!("{rest}/v5/market/instruments-info?category=spot")).await;
    let v = json(&body);
    assert!(
        v["result"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["symbol"] == "ETHUSDT")
    );
    dec(&v["result"]["list"][0]["lotSizeFilter"]["basePrecision"]);
    sim.shutdown().await;
}

// -------------------------------------------------------------------- OKX

/// Subscribe on OKX (market paused); returns the acks and the other frames
/// that came with them (snapshots), in order.
async fn okx_subscribe(ws: &mut Ws, args: &str) -> (Vec<Value>, Vec<String>) {
    send(
        ws,
        &format!(r#"{{"id":"1","op":"subscribe","args":{args}}}"#),
    )
    .await;
    let n = json(args).as_array().unwrap().len();
    let (mut acks, mut others) = (Vec::new(), Vec::new());
    while acks.len() < n {
        let text = next_text(ws, Duration::from_secs(2)).await.expect("ack");
        let v = json(&text);
        if v.get("event").is_some() {
            acks.push(v);
        } else {
            others.push(text);
        }
    }
    // Snapshots follow their acks.
    while let Some(text) = next_text(ws, Duration::from_millis(200)).await {
        others.push(text);
    }
    (acks, others)
}

#[tokio::test]
async fn okx_checksums_verify_and_seq_ids_chain() {
    let sim = start(SimConfig {
        cascade_every_s: 2.0,
        ..manual(31)
    })
    .await;
    let rest = endpoint(&sim, depthwatch::venue!("okx"), "rest");
    let (status, body) = http_get(&format!("{rest}/api/v5/public/instruments?instType=SWAP")).await;
    assert_eq!(status, 200);
    let swaps = json(&body);
    assert_eq!(swaps["code"], "0");
    let ct_val = |id: &str| {
        swaps["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["instId"] == id)
            .map(|s| dec(&s["ctVal"]))
            .unwrap()
    };
    assert_eq!(ct_val("BTC-USDT-SWAP"), "0.01".parse().unwrap());
    assert_eq!(ct_val("ETH-USDT-SWAP"), "0.1".parse().unwrap());

    let mut ws = connect(&endpoint(&sim, depthwatch::venue!("okx"), "ws")).await;
    let (acks, mut frames) = okx_subscribe(
        &mut ws,
        r#"[{"channel":"books","instId":"BTC-USDT"},{"channel":"books","instId":"ETH-USDT-SWAP"},{"channel":"trades","instId":"BTC-USDT-SWAP"},{"channel":"liquidation-orders","instType":"SWAP"},{"channel":"funding-rate","instId":"BTC-USDT-SWAP"}]"#,
    )
    .await;
    for a in &acks {
        assert_eq!(a["event"], "subscribe");
        assert_eq!(a["id"], "1");
        assert!(a["connId"].is_string() && a["arg"]["channel"].is_string());
    }
    send(&mut ws, "ping").await;
    sim.advance(120);
    frames.extend(drain(&mut ws).await);
    assert!(
        frames.iter().any(|f| f == "pong"),
        "text ping gets text pong"
    );

    let mut books: BTreeMap<String, (StrBook, i64)> = BTreeMap::new();
    let (mut updates, mut trades, mut liqs, mut fundings) = (0, 0, 0, 0);
    for f in frames.iter().filter(|f| *f != "pong") {
        let v = json(f);
        let channel = v["arg"]["channel"].as_str().expect("arg.channel");
        let d = &v["data"][0];
        match channel {
            "books" => {
                let inst = v["arg"]["instId"].as_str().unwrap().to_string();
                let (seq, prev) = (
                    d["seqId"].as_i64().unwrap(),
                    d["prevSeqId"].as_i64().unwrap(),
                );
                for side in ["bids", "asks"] {
                    for l in d[side].as_array().unwrap() {
                        assert_eq!(l.as_array().unwrap().len(), 4);
                    }
                }
                let entry = books.entry(inst.clone()).or_default();
                match v["action"].as_str().unwrap() {
                    "snapshot" => {
                        assert_eq!(prev, -1);
                        assert_eq!(d["bids"].as_array().unwrap().len(), 400);
                        entry.0 = StrBook::default();
                    }
                    "update" => {
                        assert_eq!(prev, entry.1, "prevSeqId chains for {inst}");
                        updates += 1;
                    }
                    a => panic!("action {a}"),
                }
                entry.0.apply(&d["bids"], &d["asks"]);
                entry.1 = seq;
                let sum = d["checksum"].as_i64().unwrap();
                assert_ne!(sum, 0);
                assert_eq!(entry.0.okx_checksum() as i64, sum, "checksum of {inst}");
                assert!(d["ts"].is_string());
            }
            "trades" => {
                assert_eq!(d["instId"], "BTC-USDT-SWAP");
                dec(&d["px"]);
                dec(&d["sz"]);
                assert!(d["side"] == "buy" || d["side"] == "sell");
                trades += 1;
            }
            "liquidation-orders" => {
                assert_eq!(d["instType"], "SWAP");
                let det = &d["details"][0];
                dec(&det["bkPx"]);
                dec(&det["sz"]);
                assert!(det["posSide"] == "long" || det["posSide"] == "short");
                liqs += 1;
            }
            "funding-rate" => {
                dec(&d["fundingRate"]);
                assert!(d["nextFundingTime"].is_string());
                fundings += 1;
            }
            other => panic!("channel {other}"),
        }
    }
    assert!(
        updates >= 200 && trades > 0 && liqs > 0 && fundings > 0,
        "{updates} {trades} {liqs} {fundings}"
    );
    let (spot, _) = &books["BTC-USDT"];
    assert_eq!(
        spot.top(400, Decimal::ONE),
        sim_top(&sim, depthwatch::venue!("okx"), "BTC-USDT", 400)
    );
    let (swap, _) = &books["ETH-USDT-SWAP"];
    assert_eq!(
        swap.top(400, ct_val("ETH-USDT-SWAP")),
        sim_top(&sim, depthwatch::venue!("okx"), "ETH-USDT-PERP", 400),
        "swap sizes are contracts of ctVal"
    );
    let (_, body) = http_get(&format!("{rest}/api/v5/public/instruments?instType=SPOT")).await;
    assert!(
        json(&body)["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["instId"] == "ETH-USDT")
    );
    sim.shutdown().await;
}

// ----------------------------------------------------------------- Faults

#[tokio::test]
async fn skip_sequence_leaves_a_gap_on_each_venue() {
    let sim = start(manual(41)).await;
    // Bybit: u jumps.
    let mut by = connect(&endpoint(&sim, depthwatch::venue!("bybit"), "linear_ws")).await;
    send(
        &mut by,
        r#"{"op":"subscribe","args":["orderbook.50.ETHUSDT"]}"#,
    )
    .await;
    next_text(&mut by, Duration::from_secs(2))
        .await
        .expect("ack");
    let snap = json(
        &next_text(&mut by, Duration::from_secs(2))
            .await
            .expect("snapshot"),
    );
    // OKX: prevSeqId stops chaining.
    let mut ok = connect(&endpoint(&sim, depthwatch::venue!("okx"), "ws")).await;
    let (_, snaps) = okx_subscribe(&mut ok, r#"[{"channel":"books","instId":"BTC-USDT"}]"#).await;
    // Binance: U jumps past u+1.
    let mut bn = connect(&format!(
        "{}/stream?streams=ethusdt@depth@100ms",
        endpoint(&sim, depthwatch::venue!("binance"), "spot_ws")
    ))
    .await;

    // Establish each stream's position before the fault.
    sim.advance(5);
    let mut by_frames = drain(&mut by).await;
    let mut ok_frames = snaps;
    ok_frames.extend(drain(&mut ok).await);
    let mut bn_frames = drain(&mut bn).await;
    assert!(!bn_frames.is_empty());
    for v in [
        depthwatch::venue!("bybit"),
        depthwatch::venue!("okx"),
        depthwatch::venue!("binance"),
    ] {
        sim.faults().venue(v).skip_sequence();
    }
    sim.advance(10);
    by_frames.extend(drain(&mut by).await);
    ok_frames.extend(drain(&mut ok).await);
    bn_frames.extend(drain(&mut bn).await);

    let mut u = snap["data"]["u"].as_u64().unwrap();
    let mut jumps = 0;
    for f in by_frames {
        let nu = json(&f)["data"]["u"].as_u64().unwrap();
        if nu != u + 1 {
            jumps += 1;
            assert_eq!(nu, u + 2, "exactly one message withheld");
        }
        u = nu;
    }
    assert_eq!(jumps, 1);

    let mut seq = None;
    let mut breaks = 0;
    for f in ok_frames {
        let d = &json(&f)["data"][0];
        if seq.is_some_and(|s| d["prevSeqId"].as_i64() != Some(s)) {
            breaks += 1;
        }
        seq = d["seqId"].as_i64();
    }
    assert_eq!(breaks, 1);

    let mut last: Option<u64> = None;
    let mut gaps = 0;
    for f in bn_frames {
        let d = &json(&f)["data"];
        let (uf, ul) = (d["U"].as_u64().unwrap(), d["u"].as_u64().unwrap());
        if last.is_some_and(|l| uf != l + 1) {
            gaps += 1;
        }
        last = Some(ul);
    }
    assert_eq!(gaps, 1);
    for v in [
        depthwatch::venue!("bybit"),
        depthwatch::venue!("okx"),
        depthwatch::venue!("binance"),
    ] {
        assert_eq!(sim.faults().stats(v).sequence_gaps, 1, "{v}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_checksum_malformed_and_unknown_show_on_the_wire() {
    let sim = start(manual(42)).await;
    let mut ws = connect(&endpoint(&sim, depthwatch::venue!("okx"), "ws")).await;
    let (_, snaps) = okx_subscribe(&mut ws, r#"[{"channel":"books","instId":"ETH-USDT"}]"#).await;
    let mut book = StrBook::default();
    let snap = json(&snaps[0]);
    book.apply(&snap["data"][0]["bids"], &snap["data"][0]["asks"]);
    sim.advance(3);
    let okx = sim.faults().venue(depthwatch::venue!("okx"));
    okx.bad_checksum();
    okx.malformed();
    okx.unknown_message();
    sim.advance(5);
    let (mut mismatches, mut unparsable, mut unknown) = (0, 0, 0);
    for f in drain(&mut ws).await {
        let Ok(v) = serde_json::from_str::<Value>(&f) else {
            unparsable += 1;
            continue;
        };
        match v["arg"]["channel"].as_str() {
            Some("books") => {
                let d = &v["data"][0];
                book.apply(&d["bids"], &d["asks"]);
                let sum = d["checksum"].as_i64().unwrap();
                assert_ne!(sum, 0);
                if book.okx_checksum() as i64 != sum {
                    mismatches += 1;
                }
            }
            _ => unknown += 1,
        }
    }
    assert_eq!((mismatches, unparsable, unknown), (1, 1, 1));
    let stats = okx.stats();
    assert_eq!(
        (
            stats.bad_checksums,
            stats.malformed_frames,
            stats.unknown_messages
        ),
        (1, 1, 1)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn stall_silences_an_open_socket_then_resumes() {
    let sim = start(SimConfig {
        tick: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await;
    let url = format!(
        "{}/stream?streams=btcusdt@depth@100ms",
        endpoint(&sim, depthwatch::venue!("binance"), "spot_ws")
    );
    let mut ws = connect(&url).await;
    assert!(next_text(&mut ws, Duration::from_secs(2)).await.is_some());
    sim.faults()
        .venue(depthwatch::venue!("binance"))
        .stall(Duration::from_millis(800));
    // Frames already in flight may still land; then silence.
    let started = Instant::now();
    while next_text(&mut ws, Duration::from_millis(150))
        .await
        .is_some()
    {
        assert!(
            started.elapsed() < Duration::from_millis(300),
            "still sending"
        );
    }
    let quiet_from = Instant::now();
    let resumed = next_text(&mut ws, Duration::from_secs(3)).await;
    assert!(
        resumed.is_some(),
        "the socket stayed open and the feed resumed"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(750),
        "silent for the stall"
    );
    assert!(quiet_from.elapsed() >= Duration::from_millis(400));
    assert_eq!(sim.faults().stats(depthwatch::venue!("binance")).stalls, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn drop_and_refuse_close_connections() {
    let sim = start(SimConfig {
        tick: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await;
    let url = endpoint(&sim, depthwatch::venue!("bybit"), "linear_ws");
    let mut ws = connect(&url).await;
    send(
        &mut ws,
        r#"{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}"#,
    )
    .await;
    assert!(next_text(&mut ws, Duration::from_secs(2)).await.is_some());
    assert_eq!(sim.faults().connections().len(), 1);
    sim.faults()
        .venue(depthwatch::venue!("bybit"))
        .drop_connections();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
            Ok(Some(Ok(_))) => assert!(Instant::now() < deadline, "still open"),
            Ok(Some(Err(_))) | Ok(None) => break,
            Err(_) => panic!("no close after drop"),
        }
    }
    assert_eq!(
        sim.faults()
            .stats(depthwatch::venue!("bybit"))
            .dropped_connections,
        1
    );

    sim.faults()
        .venue(depthwatch::venue!("bybit"))
        .refuse_connections(Duration::from_millis(700));
    let refused = tokio_tungstenite::connect_async(url.as_str()).await;
    assert!(refused.is_err(), "new connections are closed at once");
    let (status, _) = http_get(&format!(
        "{}/v5/market/instruments-info?category=linear",
        endpoint(&sim, depthwatch::venue!("bybit"), "rest")
    ))
    .await;
    assert_eq!(status, 503);
    let stats = sim.faults().stats(depthwatch::venue!("bybit"));
    assert_eq!((stats.refused_connections, stats.refused_http), (1, 1));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut again = connect(&url).await;
    send(&mut again, r#"{"op":"ping"}"#).await;
    assert!(
        next_text(&mut again, Duration::from_secs(2))
            .await
            .is_some()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn huge_snapshot_carries_thousands_of_levels() {
    let sim = start(manual(43)).await;
    sim.faults()
        .venue(depthwatch::venue!("binance"))
        .huge_snapshot();
    let rest = endpoint(&sim, depthwatch::venue!("binance"), "spot_rest");
    let (_, body) = http_get(&format!("{rest}/api/v3/depth?symbol=BTCUSDT&limit=100")).await;
    let v = json(&body);
    assert_eq!(v["bids"].as_array().unwrap().len(), 5000);
    assert_eq!(v["asks"].as_array().unwrap().len(), 5000);
    let mut book = StrBook::default();
    book.apply(&v["bids"], &v["asks"]);
    // Still a proper book: uncrossed, and the real part matches the sim.
    assert!(book.bids.keys().next_back() < book.asks.keys().next());
    assert_eq!(
        book.top(100, Decimal::ONE),
        sim_top(&sim, depthwatch::venue!("binance"), "BTC-USDT", 100)
    );
    let (_, body) = http_get(&format!("{rest}/api/v3/depth?symbol=BTCUSDT&limit=100")).await;
    assert_eq!(
        json(&body)["bids"].as_array().unwrap().len(),
        100,
        "one huge snapshot only"
    );

    sim.faults()
        .venue(depthwatch::venue!("bybit"))
        .huge_snapshot();
    let mut ws = connect(&endpoint(&sim, depthwatch::venue!("bybit"), "spot_ws")).await;
    send(
        &mut ws,
        r#"{"op":"subscribe","args":["orderbook.200.BTCUSDT"]}"#,
    )
    .await;
    next_text(&mut ws, Duration::from_secs(2)).await.unwrap();
    let snap = json(&next_text(&mut ws, Duration::from_secs(2)).await.unwrap());
    assert_eq!(snap["data"]["b"].as_array().unwrap().len(), 5000);
    assert_eq!(
        sim.faults()
            .stats(depthwatch::venue!("binance"))
            .huge_snapshots,
        1
    );
    assert_eq!(
        sim.faults()
            .stats(depthwatch::venue!("bybit"))
            .huge_snapshots,
        1
    );
    sim.shutdown().await;
}

// ------------------------------------------------------------ Determinism

/// Connect to each venue, subscribe, advance the market and collect frames.
async fn first_frames(seed: u64, n: usize) -> Vec<String> {
    let sim = start(manual(seed)).await;
    let mut by = connect(&endpoint(&sim, depthwatch::venue!("bybit"), "linear_ws")).await;
    send(
        &mut by,
        r#"{"req_id":"1","op":"subscribe","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT"]}"#,
    )
    .await;
    let mut ok = connect(&endpoint(&sim, depthwatch::venue!("okx"), "ws")).await;
    let (acks, snaps) = okx_subscribe(&mut ok, r#"[{"channel":"books","instId":"ETH-USDT-SWAP"},{"channel":"trades","instId":"ETH-USDT-SWAP"}]"#).await;
    let mut bn = connect(&format!(
        "{}/stream?streams=solusdt@depth@100ms/solusdt@aggTrade",
        endpoint(&sim, depthwatch::venue!("binance"), "futures_public_ws")
    ))
    .await;
    // Let both subscriptions' snapshots out before the market moves.
    let mut frames = Vec::new();
    while frames.len() < 2 {
        frames.push(
            next_text(&mut by, Duration::from_secs(2))
                .await
                .expect("bybit"),
        );
    }
    frames.extend(acks.iter().map(Value::to_string));
    frames.extend(snaps);
    sim.advance(60);
    for ws in [&mut by, &mut ok, &mut bn] {
        frames.extend(drain(ws).await);
    }
    sim.shutdown().await;
    frames.truncate(n);
    frames
}

#[tokio::test]
async fn same_seed_same_first_messages() {
    let a = first_frames(99, 150).await;
    let b = first_frames(99, 150).await;
    assert_eq!(a.len(), 150, "enough frames");
    assert_eq!(a, b);
    let c = first_frames(100, 150).await;
    assert_ne!(a, c);
}
