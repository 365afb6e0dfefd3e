use super::proto::{
    Body, PublicAggreDealsV3Api, PublicAggreDealsV3ApiItem, PublicAggreDepthV3ApiItem,
    PublicAggreDepthsV3Api, PushDataV3ApiWrapper,
};
use super::*;
use crate::model::{BookState, Incident, MarketEvent, OutOfSyncReason, TakerSide};
use crate::venues::Action;
use crate::venues::testkit::{Collector, top_strings};
use base64::Engine as _;
use prost::Message as _;
use rust_decimal_macros::dec;

const SPOT_WS: &str = "wss://wbs-api.mexc.com/ws";
const FUT_WS: &str = "wss://contract.mexc.com/edge";
const SPOT_BOOK: &str = "https://api.mexc.com/api/v3/depth?symbol=BTCUSDT&limit=5000";
const FUT_BOOK: &str = "https://contract.mexc.com/api/v1/contract/depth/BTC_USDT?limit=1000";
const DETAIL: &str = "https://contract.mexc.com/api/v1/contract/detail";
const EXCHANGE_INFO: &str = "https://api.mexc.com/api/v3/exchangeInfo";

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mexc")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A `.pb.b64` fixture: a binary frame, base64 on one line.
fn blob(name: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(fixture(name).trim())
        .unwrap()
}

fn adapter(instruments: &[&str]) -> Mexc {
    Mexc::new(AdapterConfig {
        instruments: instruments.iter().map(|s| s.parse().unwrap()).collect(),
        ..AdapterConfig::default()
    })
}

fn inst(s: &str) -> Instrument {
    s.parse().unwrap()
}

type Levels = Vec<(String, String)>;

fn levels(c: &Collector, i: &str) -> (Levels, Levels) {
    let b = c.book(VENUE, i).unwrap_or_else(|| panic!("no book {i}"));
    (top_strings(&b.bids, 20), top_strings(&b.asks, 20))
}

fn pairs(v: &[(&str, &str)]) -> Levels {
    v.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

fn binary(c: &mut Collector, a: &mut Mexc, url: &str, data: &[u8], ts: Micros) {
    let mut out = Output::default();
    c.frames += 1;
    a.on_binary(url, data, ts, &mut out);
    c.absorb(&mut out);
}

fn http_gets(c: &Collector) -> Vec<String> {
    c.actions
        .iter()
        .filter_map(|a| match a {
            Action::HttpGet { url } => Some(url.clone()),
            _ => None,
        })
        .collect()
}

fn sends(c: &Collector) -> Vec<String> {
    c.actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// A depth push encoded with prost, as the server sends it.
fn depth_push(from: u64, to: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> Vec<u8> {
    let items = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(p, q)| PublicAggreDepthV3ApiItem {
                price: p.to_string(),
                quantity: q.to_string(),
            })
            .collect()
    };
    PushDataV3ApiWrapper {
        channel: spot::depth_topic("BTCUSDT"),
        body: Some(Body::PublicAggreDepths(PublicAggreDepthsV3Api {
            asks: items(asks),
            bids: items(bids),
            event_type: "spot@public.aggre.depth.v3.api.pb@100ms".into(),
            from_version: from.to_string(),
            to_version: to.to_string(),
            last_order_create_time: 0,
        })),
        symbol: Some("BTCUSDT".into()),
        symbol_id: None,
        create_time: None,
        send_time: Some(1_736_411_838_730),
    }
    .encode_to_vec()
}

#[test]
fn symbols_round_trip() {
    assert_eq!(native_symbol(&inst("BTC-USDT")), "BTCUSDT");
    assert_eq!(native_symbol(&inst("BTC-USDT-PERP")), "BTC_USDT");
    assert_eq!(parse_perp("BTC_USDT"), Some(inst("BTC-USDT-PERP")));
    assert_eq!(parse_spot("ETHUSDC"), Some(inst("ETH-USDC")));
    assert_eq!(parse_spot("USDT"), None);
    assert!(carries(&inst("BTC-USD-PERP")).is_err());
}

#[test]
fn the_proto_blob_decodes_field_for_field() {
    // Encoded by hand from PushDataV3ApiWrapper.proto's field table (see
    // tests/fixtures/mexc/README.md), not by prost.
    let w = PushDataV3ApiWrapper::decode(blob("spot_depth.pb.b64").as_slice()).unwrap();
    assert_eq!(w.channel, "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT");
    assert_eq!(w.symbol.as_deref(), Some("BTCUSDT"));
    assert_eq!(w.send_time, Some(1_736_411_838_730));
    let Some(Body::PublicAggreDepths(d)) = w.body else {
        panic!("{:?}", w.body)
    };
    assert_eq!(
        (d.from_version.as_str(), d.to_version.as_str()),
        ("10589632356", "10589632359")
    );
    assert_eq!(d.event_type, "spot@public.aggre.depth.v3.api.pb@100ms");
    assert_eq!(d.asks.len(), 1);
    assert_eq!(d.asks[0].price, "92880.10");
    assert_eq!(d.bids[0].quantity, "0.00000000");
    assert_eq!(d.bids[1].price, "92877.50");
    // What prost writes decodes to the same message (it puts the oneof
    // after the plain fields; field order does not matter on the wire).
    let w = PushDataV3ApiWrapper::decode(blob("spot_depth.pb.b64").as_slice()).unwrap();
    assert_eq!(
        PushDataV3ApiWrapper::decode(w.encode_to_vec().as_slice()).unwrap(),
        w
    );
}

#[test]
fn spot_connections_hold_at_most_thirty_subscriptions() {
    let names: Vec<String> = (0..20).map(|n| format!("C{n}-USDT")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let a = adapter(&refs);
    let conns = a.connections();
    // Book + deals per instrument: 15 instruments a connection.
    assert_eq!(conns.len(), 2, "{conns:?}");
    assert_eq!(conns[0].url, SPOT_WS);
    assert_eq!(conns[1].url, format!("{SPOT_WS}?conn=2"));
    for c in &a.plan {
        let subs: usize = a
            .subscriptions(c)
            .iter()
            .map(|m| {
                serde_json::from_str::<serde_json::Value>(m).unwrap()["params"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .sum();
        assert!(subs <= SUBSCRIPTIONS_PER_CONN, "{subs}");
    }
    let ping = conns[0].ping.as_ref().unwrap();
    assert_eq!(ping.text, r#"{"method":"PING"}"#);
}

#[test]
fn spot_book_follows_the_documented_procedure() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 1);
    let subs = sends(&c);
    assert_eq!(
        subs,
        [
            r#"{"method":"SUBSCRIPTION","params":["spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT","spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"]}"#
        ]
    );
    // The snapshot is asked for once the first push is cached.
    assert!(http_gets(&c).is_empty());
    c.text(&mut a, SPOT_WS, &fixture("spot_sub_answer.json"), 2);
    // A push already inside the snapshot (dropped), then the bridging one.
    binary(
        &mut c,
        &mut a,
        SPOT_WS,
        &depth_push(10589632350, 10589632352, &[("1", "1")], &[]),
        3,
    );
    assert_eq!(http_gets(&c), [SPOT_BOOK]);
    binary(&mut c, &mut a, SPOT_WS, &blob("spot_depth.pb.b64"), 4);
    c.http(&mut a, SPOT_BOOK, &fixture("spot_depth_snapshot.json"), 5);
    assert!(c.book(VENUE, "BTC-USDT").unwrap().is_live());
    binary(&mut c, &mut a, SPOT_WS, &blob("spot_depth_next.pb.b64"), 6);
    let (bids, asks) = levels(&c, "BTC-USDT");
    assert_eq!(bids, pairs(&[("92877.5", "1.2"), ("92870", "1.5")]));
    assert_eq!(asks, pairs(&[("92881", "0.75"), ("92885", "0.6")]));
    assert_eq!(c.count(Incident::Gap), 0);
    assert_eq!(c.count(Incident::ParseError), 0);
    // PONG is a control answer, nothing else.
    c.text(&mut a, SPOT_WS, &fixture("spot_pong.json"), 7);
    assert_eq!(c.count(Incident::UnknownMessage), 0);
}

#[test]
fn a_snapshot_older_than_the_first_push_is_fetched_again() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 1);
    binary(
        &mut c,
        &mut a,
        SPOT_WS,
        &depth_push(10589632400, 10589632401, &[], &[]),
        2,
    );
    c.actions.clear();
    // lastUpdateId 10589632355 < first fromVersion - 1: refetch, not live.
    c.http(&mut a, SPOT_BOOK, &fixture("spot_depth_snapshot.json"), 3);
    assert!(!c.book(VENUE, "BTC-USDT").unwrap().is_live());
    assert_eq!(http_gets(&c), [SPOT_BOOK]);
}

#[test]
fn a_spot_version_gap_resyncs_through_a_new_snapshot() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 1);
    binary(&mut c, &mut a, SPOT_WS, &blob("spot_depth.pb.b64"), 2);
    c.http(&mut a, SPOT_BOOK, &fixture("spot_depth_snapshot.json"), 3);
    binary(&mut c, &mut a, SPOT_WS, &blob("spot_depth_next.pb.b64"), 4);
    c.actions.clear();
    binary(&mut c, &mut a, SPOT_WS, &blob("spot_depth_gap.pb.b64"), 5);
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    let b = c.book(VENUE, "BTC-USDT").unwrap();
    assert!(matches!(
        b.state(),
        BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 10589632363,
            got: 10589632370
        })
    ));
    assert_eq!(http_gets(&c), [SPOT_BOOK]);
    // The new snapshot bridges the push that broke continuity.
    let snap =
        r#"{"lastUpdateId":10589632369,"bids":[["92870.00","1"]],"asks":[["92890.00","2"]]}"#;
    c.http(&mut a, SPOT_BOOK, snap, 6);
    let (bids, asks) = levels(&c, "BTC-USDT");
    assert_eq!(bids, pairs(&[("92877.5", "2"), ("92870", "1")]));
    assert_eq!(asks, pairs(&[("92890", "2")]));
    assert!(c.book(VENUE, "BTC-USDT").unwrap().is_live());
}

#[test]
fn spot_deals_are_trades_with_the_taker_side() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut c = Collector::default();
    binary(&mut c, &mut a, SPOT_WS, &blob("spot_deals.pb.b64"), 1);
    assert_eq!(c.trades.len(), 2);
    let t = &c.trades[0];
    assert_eq!(
        (t.price, t.size, t.side),
        (dec!(93220.00), dec!(0.04438243), TakerSide::Sell)
    );
    assert_eq!(t.exchange_ts, Some(1_736_409_765_051_000));
    assert_eq!(c.trades[1].side, TakerSide::Buy);
    // A deal encoded with prost: an unknown trade type is a parse error.
    let bad = PushDataV3ApiWrapper {
        channel: spot::deals_topic("BTCUSDT"),
        body: Some(Body::PublicAggreDeals(PublicAggreDealsV3Api {
            deals: vec![PublicAggreDealsV3ApiItem {
                price: "1".into(),
                quantity: "1".into(),
                trade_type: 7,
                time: 1_736_409_765_051,
                trade_id: String::new(),
            }],
            event_type: String::new(),
        })),
        symbol: Some("BTCUSDT".into()),
        symbol_id: None,
        create_time: None,
        send_time: None,
    };
    binary(&mut c, &mut a, SPOT_WS, &bad.encode_to_vec(), 2);
    assert_eq!(c.trades.len(), 2);
    assert_eq!(c.count(Incident::ParseError), 1);
}

#[test]
fn malformed_frames_are_counted_not_fatal() {
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP"]);
    let mut c = Collector::default();
    binary(&mut c, &mut a, SPOT_WS, &[0xff, 0xff, 0xff], 1);
    binary(&mut c, &mut a, SPOT_WS, &[0x1f, 0x8b, 0, 1], 2);
    c.text(&mut a, SPOT_WS, "{not json", 3);
    c.text(
        &mut a,
        FUT_WS,
        r#"{"channel":"push.depth","data":{"asks":[["x",1]],"version":1},"symbol":"BTC_USDT"}"#,
        4,
    );
    c.text(
        &mut a,
        FUT_WS,
        r#"{"channel":"push.depth","data":{"asks":[]},"symbol":"BTC_USDT"}"#,
        5,
    );
    binary(&mut c, &mut a, SPOT_WS, &depth_push(9, 3, &[], &[]), 6);
    c.http(
        &mut a,
        SPOT_BOOK,
        r#"{"code":-1121,"msg":"Invalid symbol."}"#,
        7,
    );
    c.http(
        &mut a,
        DETAIL,
        r#"{"success":false,"code":1001,"message":"busy"}"#,
        8,
    );
    assert_eq!(c.count(Incident::ParseError), 8);
    assert!(c.books.values().all(|b| !b.is_live()));
    // A wrapper whose body is a member not read here (a kline).
    let mut kline = PushDataV3ApiWrapper {
        channel: "spot@public.kline.v3.api.pb@BTCUSDT@Min1".into(),
        body: None,
        symbol: Some("BTCUSDT".into()),
        symbol_id: None,
        create_time: None,
        send_time: None,
    }
    .encode_to_vec();
    kline.extend_from_slice(&[0xa2, 0x13, 0x00]); // field 308, empty message
    binary(&mut c, &mut a, SPOT_WS, &kline, 9);
    assert_eq!(c.count(Incident::UnknownMessage), 1);
}

#[test]
fn a_refused_subscription_marks_the_book() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 1);
    c.text(&mut a, SPOT_WS, &fixture("spot_sub_refused.json"), 2);
    let b = c.book(VENUE, "BTC-USDT").unwrap();
    assert!(
        matches!(b.state(), BookState::OutOfSync(OutOfSyncReason::Venue(_))),
        "{:?}",
        b.state()
    );
}

#[test]
fn legacy_json_recordings_replay_by_the_same_rule() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 1);
    c.text(&mut a, SPOT_WS, &fixture("spot_legacy_depth.json"), 2);
    c.http(&mut a, SPOT_BOOK, &fixture("spot_depth_snapshot.json"), 3);
    let (bids, asks) = levels(&c, "BTC-USDT");
    assert_eq!(bids[0], ("92877.58".to_string(), "0.31".to_string()));
    assert!(bids.contains(&("92877".to_string(), "0.9".to_string())));
    assert_eq!(asks, pairs(&[("92885", "0.6")]));
    c.text(&mut a, SPOT_WS, &fixture("spot_legacy_deals.json"), 4);
    assert_eq!(c.trades.len(), 1);
    assert_eq!(c.trades[0].side, TakerSide::Buy);
}

fn futures_live() -> (Mexc, Collector) {
    let mut a = adapter(&["BTC-USDT-PERP"]);
    let mut c = Collector::default();
    let mut out = Output::default();
    a.start(0, &mut out);
    c.absorb(&mut out);
    assert_eq!(http_gets(&c), [DETAIL]);
    c.actions.clear();
    c.open(&mut a, FUT_WS, 1);
    assert_eq!(http_gets(&c), [FUT_BOOK]);
    let subs = sends(&c);
    assert_eq!(
        subs[0],
        r#"{"method":"sub.depth","param":{"symbol":"BTC_USDT","compress":false}}"#
    );
    assert_eq!(subs.len(), 4, "{subs:?}");
    c.text(&mut a, FUT_WS, &fixture("futures_sub_answer.json"), 2);
    // The snapshot comes before the contract list: held until it does.
    c.http(&mut a, FUT_BOOK, &fixture("futures_depth_snapshot.json"), 3);
    assert!(!c.book(VENUE, "BTC-USDT-PERP").unwrap().is_live());
    c.http(&mut a, DETAIL, &fixture("futures_contract_detail.json"), 4);
    assert!(c.book(VENUE, "BTC-USDT-PERP").unwrap().is_live());
    (a, c)
}

#[test]
fn futures_contracts_become_base_quantity() {
    let (mut a, mut c) = futures_live();
    // 3251 contracts × 0.0001 BTC.
    let (bids, asks) = levels(&c, "BTC-USDT-PERP");
    assert_eq!(bids, pairs(&[("6859", "0.12"), ("6858.5", "0.05")]));
    assert_eq!(asks, pairs(&[("6859.5", "0.3251"), ("6860", "0.2")]));
    c.text(&mut a, FUT_WS, &fixture("futures_depth.json"), 5);
    let (bids, asks) = levels(&c, "BTC-USDT-PERP");
    assert_eq!(bids, pairs(&[("6859", "0.12")]));
    assert_eq!(asks, pairs(&[("6859.5", "0.3"), ("6860", "0.2")]));
    assert_eq!(c.count(Incident::Gap), 0);
}

#[test]
fn a_futures_version_gap_refetches_the_snapshot() {
    let (mut a, mut c) = futures_live();
    c.text(&mut a, FUT_WS, &fixture("futures_depth.json"), 5);
    c.actions.clear();
    c.text(&mut a, FUT_WS, &fixture("futures_depth_gap.json"), 6);
    assert_eq!(c.count(Incident::Gap), 1);
    assert!(matches!(
        c.book(VENUE, "BTC-USDT-PERP").unwrap().state(),
        BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 96801928,
            got: 96801930
        })
    ));
    assert_eq!(http_gets(&c), [FUT_BOOK]);
    let snap = r#"{"success":true,"code":0,"data":{"asks":[[6861,10,1]],"bids":[[6857,20,1]],"version":96801929,"timestamp":1587442022503}}"#;
    c.http(&mut a, FUT_BOOK, snap, 7);
    let (bids, asks) = levels(&c, "BTC-USDT-PERP");
    assert_eq!(bids, pairs(&[("6859", "0.09"), ("6857", "0.002")]));
    assert_eq!(asks, pairs(&[("6861", "0.001")]));
}

#[test]
fn gzip_futures_pushes_read_like_text() {
    use std::io::Write;
    let (mut a, mut c) = futures_live();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(fixture("futures_depth.json").as_bytes())
        .unwrap();
    binary(&mut c, &mut a, FUT_WS, &e.finish().unwrap(), 5);
    let (_, asks) = levels(&c, "BTC-USDT-PERP");
    assert_eq!(asks[0], ("6859.5".to_string(), "0.3".to_string()));
}

#[test]
fn futures_deals_tickers_and_funding() {
    let (mut a, mut c) = futures_live();
    c.text(&mut a, FUT_WS, &fixture("futures_deal.json"), 5);
    let t = &c.trades[0];
    assert_eq!(
        (t.price, t.size, t.side),
        (dec!(6866.5), dec!(0.2096), TakerSide::Sell)
    );
    c.text(&mut a, FUT_WS, &fixture("futures_ticker.json"), 6);
    c.text(&mut a, FUT_WS, &fixture("futures_funding_rate.json"), 7);
    let u = &c.funding[0].update;
    assert_eq!(u.funding_rate, Some(dec!(0.0008)));
    assert_eq!(u.mark_price, Some(dec!(6867.4)));
    assert_eq!(u.index_price, Some(dec!(6861.6)));
    // holdVol 2284742 contracts × 0.0001.
    assert_eq!(u.open_interest, Some(dec!(228.4742)));
    let f = &c.funding[1].update;
    assert_eq!(f.funding_rate, Some(dec!(0.001)));
    assert_eq!(f.next_funding, Some(1_587_456_000_000_000));
    c.text(&mut a, FUT_WS, &fixture("futures_pong.json"), 8);
    assert_eq!(c.count(Incident::UnknownMessage), 0);
    assert_eq!(c.count(Incident::ParseError), 0);
    c.text(&mut a, FUT_WS, &fixture("futures_error.json"), 9);
    assert!(matches!(
        c.book(VENUE, "BTC-USDT-PERP").unwrap().state(),
        BookState::OutOfSync(OutOfSyncReason::Venue(_))
    ));
}

#[test]
fn instrument_lists_of_both_markets() {
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP"]);
    let mut out = Output::default();
    a.on_http(
        EXCHANGE_INFO,
        &fixture("spot_exchange_info.json"),
        1,
        &mut out,
    );
    a.on_http(
        DETAIL,
        &fixture("futures_contract_detail.json"),
        2,
        &mut out,
    );
    let Some(MarketEvent::Instruments { list, .. }) = out.events.last() else {
        panic!("{:?}", out.events)
    };
    let get = |s: &str| list.iter().find(|i| i.instrument == inst(s)).cloned();
    let spot = get("BTC-USDT").unwrap();
    assert_eq!(
        (spot.native.as_str(), spot.tick_size, spot.lot_size),
        ("BTCUSDT", Some(dec!(0.01)), Some(dec!(0.000001)))
    );
    let perp = get("ETH-USDT-PERP").unwrap();
    assert_eq!(perp.contract_size, Some(dec!(0.01)));
    assert_eq!(perp.tick_size, Some(dec!(0.01)));
    assert_eq!(perp.lot_size, Some(dec!(0.01)));
    // Offline pairs and the coin-margined BTC_USD are not listed.
    assert!(get("OLD-USDT").is_none());
    assert!(get("BTC-USD-PERP").is_none());
    assert_eq!(list.len(), 4);
}

#[test]
fn polled_depth_of_both_markets() {
    let (mut a, mut c) = futures_live();
    let p = a.poll_depth(&inst("BTC-USDT-PERP")).unwrap();
    assert_eq!(
        p.url,
        "https://contract.mexc.com/api/v1/contract/depth/BTC_USDT?limit=500"
    );
    let mut out = Output::default();
    a.on_close(FUT_WS, 10, &mut out);
    c.absorb(&mut out);
    a.on_poll(
        inst("BTC-USDT-PERP"),
        &fixture("futures_depth_snapshot.json"),
        11,
        &mut out,
    );
    c.absorb(&mut out);
    let b = c.book(VENUE, "BTC-USDT-PERP").unwrap();
    assert_eq!(b.state(), &BookState::Polled);
    assert_eq!(top_strings(&b.asks, 1), pairs(&[("6859.5", "0.3251")]));
    let mut s = adapter(&["BTC-USDT"]);
    assert_eq!(
        s.poll_depth(&inst("BTC-USDT")).unwrap().url,
        "https://api.mexc.com/api/v3/depth?symbol=BTCUSDT&limit=500"
    );
    s.on_poll(
        inst("BTC-USDT"),
        &fixture("spot_depth_snapshot.json"),
        1,
        &mut out,
    );
    c.absorb(&mut out);
    assert_eq!(
        c.book(VENUE, "BTC-USDT").unwrap().state(),
        &BookState::Polled
    );
}

#[test]
fn recorded_binary_frames_replay_from_a_capture() {
    use crate::capture::CaptureWriter;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("MEXC.jsonl.zst");
    let mut config = std::collections::BTreeMap::new();
    config.insert("l2_book".to_string(), vec!["BTC-USDT".to_string()]);
    let mut w = CaptureWriter::create(&path, "MEXC", &config, 1_700_000_000_000_000).unwrap();
    let ts = 1_700_000_000_000_000;
    w.connect("MEXC.ws.1", ts, SPOT_WS).unwrap();
    w.recv_text("MEXC.ws.1", ts + 1, &fixture("spot_sub_answer.json"))
        .unwrap();
    w.recv_binary("MEXC.ws.1", ts + 2, &blob("spot_depth.pb.b64"))
        .unwrap();
    w.http(
        "MEXC.http.1",
        ts + 3,
        SPOT_BOOK,
        &fixture("spot_depth_snapshot.json"),
    )
    .unwrap();
    w.recv_binary("MEXC.ws.1", ts + 4, &blob("spot_depth_next.pb.b64"))
        .unwrap();
    w.recv_binary("MEXC.ws.1", ts + 5, &blob("spot_deals.pb.b64"))
        .unwrap();
    w.finish().unwrap();
    let mut a = adapter(&["BTC-USDT"]);
    let c = crate::venues::testkit::replay_file(&mut a, &path).unwrap();
    assert_eq!(c.frames, 4);
    assert_eq!(c.trades.len(), 2);
    let (bids, asks) = levels(&c, "BTC-USDT");
    assert_eq!(bids, pairs(&[("92877.5", "1.2"), ("92870", "1.5")]));
    assert_eq!(asks, pairs(&[("92881", "0.75"), ("92885", "0.6")]));
    assert!(c.book(VENUE, "BTC-USDT").unwrap().is_live());
    // The registry finds this venue for the capture name.
    assert_eq!(
        crate::venues::registry::venue_for_capture("MEXC"),
        Some(VENUE)
    );
}
