//! Gate end to end: capture-format-2 files written here (shaped like
//! cryptofeed's `GATEIO` and `GATEIO_FUTURES` recordings, and like a live
//! `*.obu` session) replayed through the adapter and through the binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use depthwatch::capture::CaptureWriter;
use depthwatch::model::{Incident, LiquidatedSide, TakerSide, Venue};
use depthwatch::venues::testkit::{replay_file, top_strings};
use depthwatch::venues::{Action, AdapterConfig, registry};
use serde_json::{Value, json};

const GATE: Venue = depthwatch::venue!("gate");
const SPOT_WS: &str = "wss://api.gateio.ws/ws/v4/";
const FUT_WS: &str = "wss://fx-ws.gateio.ws/v4/ws/usdt";

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

/// REST bodies first (cryptofeed's recordings hold them before the
/// connection record), then one connection and its frames.
fn write_capture(
    dir: &Path,
    exchange: &str,
    symbols: &[&str],
    http: &[(String, String)],
    addr: &str,
    frames: &[Value],
) -> PathBuf {
    let path = dir.join(format!("{exchange}.jsonl.zst"));
    let mut cfg = BTreeMap::new();
    cfg.insert(
        "l2_book".to_string(),
        symbols.iter().map(|s| s.to_string()).collect(),
    );
    let mut w = CaptureWriter::create(&path, exchange, &cfg, 1_619_093_531_000_000).unwrap();
    let mut ts = 1_619_093_531_000_000;
    for (url, body) in http {
        w.http(&format!("{exchange}.http.0"), ts, url, body)
            .unwrap();
        ts += 1000;
    }
    let conn = format!("{exchange}.ws.1");
    w.connect(&conn, ts, addr).unwrap();
    w.send(&conn, ts, addr, "{\"recorded\":\"subscribe\"}")
        .unwrap();
    for f in frames {
        ts += 1000;
        w.recv_text(&conn, ts, &f.to_string()).unwrap();
    }
    w.finish().unwrap();
    path
}

fn update(channel: &str, s: &str, (first, last): (u64, u64), b: Value, a: Value) -> Value {
    json!({"time": 1619093532, "channel": channel, "event": "update",
           "result": {"t": 1619093532978u64, "e": "depthUpdate", "E": 1619093532, "s": s,
                      "U": first, "u": last, "b": b, "a": a}})
}

fn adapter(instruments: &[&str]) -> Box<dyn depthwatch::venues::Adapter> {
    let spot = registry::venue_for_capture("GATEIO").unwrap();
    assert_eq!(registry::venue_for_capture("GATEIO_FUTURES"), Some(spot));
    assert_eq!(spot, GATE);
    registry::build(
        spot,
        AdapterConfig {
            instruments: instruments.iter().map(|s| s.parse().unwrap()).collect(),
            ..AdapterConfig::default()
        },
    )
}

/// Spot, legacy stream: a stale diff, the bridging one, a normal one, an
/// empty one that only advances the id, and a 2025 `full:true` book for a
/// second pair followed by a diff on it.
fn spot_capture(dir: &Path) -> PathBuf {
    let ch = "spot.order_book_update";
    let pairs_body = json!([
        {"id": "HAI_ETH", "base": "HAI", "quote": "ETH", "fee": "0.2", "amount_precision": 3, "precision": 8, "trade_status": "tradable"},
        {"id": "OMG_USDT", "base": "OMG", "quote": "USDT", "fee": "0.2", "amount_precision": 3, "precision": 4, "trade_status": "tradable"}
    ]);
    let book = json!({"id": 2691446, "asks": [["0.00010396", "5876.967"], ["0.0001052", "16944.291"]],
                      "bids": [["0.00010322", "5360.209"], ["0.00010276", "20.80412499"]]});
    let frames = vec![
        json!({"time": 1619093532, "channel": ch, "event": "subscribe", "result": {"status": "success"}}),
        update(
            ch,
            "HAI_ETH",
            (2691440, 2691446),
            json!([["0.00010322", "1"]]),
            json!([]),
        ),
        update(
            ch,
            "HAI_ETH",
            (2691446, 2691449),
            json!([["0.00010324", "5997.415"]]),
            json!([["0.00010396", "0"], ["0.00010397", "5885.172"]]),
        ),
        json!({"time": 1619093533, "channel": "spot.tickers", "event": "update", "result": {"currency_pair": "HAI_ETH", "last": "0.000103"}}),
        update(ch, "HAI_ETH", (2691450, 2691450), json!([]), json!([])),
        update(
            ch,
            "HAI_ETH",
            (2691451, 2691452),
            json!([["0.00010276", "0"]]),
            json!([]),
        ),
        json!({"time": 1619093543, "channel": "spot.trades", "event": "update", "result": {"id": 816995772, "create_time": 1619093543, "create_time_ms": "1619093543708.2642", "side": "sell", "currency_pair": "HAI_ETH", "amount": "201", "price": "0.000103"}}),
        json!({"time": 1619093544, "channel": "spot.candlesticks", "event": "update", "result": {"t": "1619093520", "v": "0", "c": "1", "h": "1", "l": "1", "o": "1", "n": "1m_HAI_ETH"}}),
        json!({"time": 1619093545, "channel": ch, "event": "update", "result": {"t": 1619093545000u64, "full": true, "s": "OMG_USDT", "U": 90, "u": 100, "b": [["7.899", "288"], ["7.898", "65.888"]], "a": [["7.927", "316.6"]], "l": "100"}}),
        update(
            ch,
            "OMG_USDT",
            (101, 101),
            json!([["7.898", "0"]]),
            json!([["7.93", "1"]]),
        ),
    ];
    write_capture(
        dir,
        "GATEIO",
        &["HAI-ETH", "OMG-USDT"],
        &[
            ("https://api.gateio.ws/api/v4/spot/currency_pairs".to_string(), pairs_body.to_string()),
            (
                "https://api.gateio.ws/api/v4/spot/order_book?currency_pair=HAI_ETH&limit=100&with_id=true".to_string(),
                book.to_string(),
            ),
        ],
        SPOT_WS,
        &frames,
    )
}

#[test]
fn a_gateio_spot_recording_rebuilds_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = spot_capture(dir.path());
    let mut a = adapter(&["HAI-ETH", "OMG-USDT"]);
    let c = replay_file(a.as_mut(), &path).unwrap();
    assert_eq!(c.count(Incident::ParseError), 0);
    assert_eq!(c.count(Incident::Gap), 0);
    assert_eq!(c.count(Incident::UnknownMessage), 0);
    let hai = c.book(GATE, "HAI-ETH").unwrap();
    assert!(hai.is_live());
    assert_eq!(
        top_strings(&hai.bids, 10),
        pairs(&[("0.00010324", "5997.415"), ("0.00010322", "5360.209")])
    );
    assert_eq!(
        top_strings(&hai.asks, 10),
        pairs(&[("0.00010397", "5885.172"), ("0.0001052", "16944.291")])
    );
    let omg = c.book(GATE, "OMG-USDT").unwrap();
    assert!(omg.is_live(), "a full book in the diff stream starts it");
    assert_eq!(top_strings(&omg.bids, 10), pairs(&[("7.899", "288")]));
    assert_eq!(
        top_strings(&omg.asks, 10),
        pairs(&[("7.927", "316.6"), ("7.93", "1")])
    );
    assert_eq!(c.trades.len(), 1);
    assert_eq!(c.trades[0].side, TakerSide::Sell);
}

/// Futures, legacy stream: levels `{"p","s"}` with integer contracts, the
/// contract list for the multiplier, trades and a liquidation.
fn futures_capture(dir: &Path) -> PathBuf {
    let ch = "futures.order_book_update";
    let contracts = json!([
        {"name": "QUICK_USDT", "type": "direct", "quanto_multiplier": "0.01", "order_price_round": "0.01", "order_size_min": 1, "in_delisting": false, "funding_rate": "0.0001", "funding_next_apply": 1684944000, "mark_price": "56.95", "index_price": "56.96", "position_size": 121695},
        {"name": "BTC_USD", "type": "inverse", "quanto_multiplier": "0", "order_price_round": "0.1", "order_size_min": 1, "in_delisting": false}
    ]);
    let book = json!({"current": 1684930167.524, "update": 1684930167.522,
                      "asks": [{"s": 46, "p": "57"}, {"s": 601, "p": "57.01"}],
                      "bids": [{"s": 100, "p": "56.91"}, {"s": 1001, "p": "56.9"}], "id": 124930263});
    let frames = vec![
        json!({"time": 1684930165, "time_ms": 0, "channel": ch, "event": "subscribe", "result": {"status": "success"}}),
        json!({"time": 1684930165, "time_ms": 1684930165254u64, "channel": ch, "event": "update",
               "result": {"U": 124930250, "a": [{"p": "57.5", "s": 0}], "b": [], "s": "QUICK_USDT", "t": 1684930165217u64, "u": 124930260}}),
        json!({"time": 1684930168, "time_ms": 1684930168254u64, "channel": ch, "event": "update",
               "result": {"U": 124930262, "a": [{"p": "57", "s": 50}], "b": [{"p": "56.91", "s": 0}, {"p": "56.92", "s": 7}], "s": "QUICK_USDT", "t": 1684930168217u64, "u": 124930265}}),
        json!({"time": 1684930169, "time_ms": 1684930169123u64, "channel": "futures.trades", "event": "update",
               "result": [{"size": -108, "id": 1, "create_time": 1684930169, "create_time_ms": 1684930169120u64, "price": "56.9", "contract": "QUICK_USDT"}]}),
        json!({"time": 1684930170, "time_ms": 1684930170123u64, "channel": "futures.public_liquidates", "event": "update",
               "result": [{"price": 56.5, "size": "-124", "time_ms": 1684930170101u64, "contract": "QUICK_USDT"}]}),
        json!({"time": 1684930171, "time_ms": 1684930171631u64, "channel": "futures.book_ticker", "event": "update",
               "result": {"t": 1684930171621u64, "u": 124930265, "s": "QUICK_USDT", "b": "56.92", "B": 7, "a": "57", "A": 50}}),
    ];
    write_capture(
        dir,
        "GATEIO_FUTURES",
        &["QUICK-USDT-PERP"],
        &[
            ("https://api.gateio.ws/api/v4/futures/usdt/contracts".to_string(), contracts.to_string()),
            (
                "https://api.gateio.ws/api/v4/futures/usdt/order_book?contract=QUICK_USDT&limit=100&with_id=true".to_string(),
                book.to_string(),
            ),
        ],
        FUT_WS,
        &frames,
    )
}

#[test]
fn a_gateio_futures_recording_rebuilds_in_base_units() {
    let dir = tempfile::tempdir().unwrap();
    let path = futures_capture(dir.path());
    let mut a = adapter(&["QUICK-USDT-PERP"]);
    let c = replay_file(a.as_mut(), &path).unwrap();
    assert_eq!(c.count(Incident::ParseError), 0);
    assert_eq!(c.count(Incident::Gap), 0);
    let b = c.book(GATE, "QUICK-USDT-PERP").unwrap();
    assert!(b.is_live());
    // Contracts × 0.01 QUICK.
    assert_eq!(
        top_strings(&b.bids, 10),
        pairs(&[("56.92", "0.07"), ("56.9", "10.01")])
    );
    assert_eq!(
        top_strings(&b.asks, 10),
        pairs(&[("57", "0.5"), ("57.01", "6.01")])
    );
    assert_eq!(c.trades.len(), 1);
    assert_eq!(
        (c.trades[0].side, c.trades[0].size),
        (TakerSide::Sell, "1.08".parse().unwrap())
    );
    assert_eq!(c.liquidations.len(), 1);
    assert_eq!(c.liquidations[0].side, LiquidatedSide::Long);
    assert_eq!(c.liquidations[0].size, "1.24".parse().unwrap());
    assert!(
        c.funding
            .iter()
            .any(|f| f.update.next_funding == Some(1_684_944_000_000_000))
    );
}

#[test]
fn the_binary_replays_gate_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let files = [spot_capture(dir.path()), futures_capture(dir.path())];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_depthwatch"))
        .args(["replay", "--headless", "--json", "--speed", "max"])
        .args(&files)
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
    let book = |i: &str| {
        lines
            .iter()
            .find(|l| l["type"] == "book" && l["venue"] == "gate" && l["instrument"] == i)
            .unwrap_or_else(|| panic!("no {i} line"))
    };
    assert_eq!(book("HAI-ETH")["state"], "live");
    assert_eq!(book("QUICK-USDT-PERP")["bids"][1], json!(["56.9", "10.01"]));
    let summary = lines.last().unwrap();
    assert_eq!(summary["parse_errors"], 0);
    assert_eq!(summary["gaps"], 0);
    assert_eq!(summary["crossed_books"], 0);
}

/// A live `spot.obu` session: a full book, a continuous update, a break
/// (resubscribed), then the full book the resubscription brings.
#[test]
fn an_obu_session_resubscribes_on_a_break() {
    let dir = tempfile::tempdir().unwrap();
    let push = |result: Value| json!({"channel": "spot.obu", "result": result, "time_ms": 1754000000103u64});
    let frames = vec![
        json!({"time": 1754000000, "time_ms": 1754000000271u64, "channel": "spot.obu", "event": "subscribe", "payload": ["ob.BTC_USDT.400"], "result": {"status": "success"}}),
        push(
            json!({"t": 1754000000100u64, "full": true, "s": "ob.BTC_USDT.400", "u": 1000, "b": [["65000.1", "0.5"]], "a": [["65000.2", "0.3"]]}),
        ),
        push(
            json!({"t": 1754000000200u64, "s": "ob.BTC_USDT.400", "U": 1001, "u": 1003, "b": [["65000", "1"]]}),
        ),
        push(
            json!({"t": 1754000000300u64, "s": "ob.BTC_USDT.400", "U": 1010, "u": 1011, "a": [["65000.3", "9"]]}),
        ),
        push(
            json!({"t": 1754000000400u64, "s": "ob.BTC_USDT.400", "U": 1012, "u": 1012, "a": [["65000.4", "9"]]}),
        ),
        push(
            json!({"t": 1754000000500u64, "full": true, "s": "ob.BTC_USDT.400", "u": 1020, "b": [["65000.1", "0.6"]], "a": [["65000.2", "0.2"], ["65000.3", "9"]]}),
        ),
        push(
            json!({"t": 1754000000600u64, "s": "ob.BTC_USDT.400", "U": 1021, "u": 1021, "b": [["64999", "2"]]}),
        ),
    ];
    let path = write_capture(dir.path(), "GATEIO", &["BTC-USDT"], &[], SPOT_WS, &frames);
    let mut a = adapter(&["BTC-USDT"]);
    let c = replay_file(a.as_mut(), &path).unwrap();
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    let resubscribed = c
        .actions
        .iter()
        .filter(|x| matches!(x, Action::Send { text, .. } if text.contains("unsubscribe") && text.contains("ob.BTC_USDT.400")))
        .count();
    assert_eq!(resubscribed, 1);
    let b = c.book(GATE, "BTC-USDT").unwrap();
    assert!(b.is_live());
    assert_eq!(
        top_strings(&b.bids, 10),
        pairs(&[("65000.1", "0.6"), ("64999", "2")])
    );
    assert_eq!(
        top_strings(&b.asks, 10),
        pairs(&[("65000.2", "0.2"), ("65000.3", "9")])
    );
}
