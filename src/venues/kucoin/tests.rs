use super::*;
use crate::model::{BookState, Incident, Level, OutOfSyncReason, TakerSide};
use crate::venues::testkit::{Collector, top_strings};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const SPOT_WS: &str = "wss://ws-api-spot.kucoin.com/?token=T&connectId=c1";
const FUT_WS: &str = "wss://ws-api-futures.kucoin.com/?token=T&connectId=c2";
const SPOT_BOOK: &str = "https://api.kucoin.com/api/v1/market/orderbook/level2_100?symbol=BTC-USDT";
const FUT_BOOK: &str = "https://api-futures.kucoin.com/api/v1/level2/snapshot?symbol=XBTUSDTM";
const CONTRACTS: &str = "https://api-futures.kucoin.com/api/v1/contracts/active";

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kucoin")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn adapter(instruments: &[&str]) -> Kucoin {
    Kucoin::new(AdapterConfig {
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

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

fn l2(start: u64, end: u64, asks: &str, bids: &str) -> String {
    format!(
        r#"{{"topic":"/market/level2:BTC-USDT","type":"message","subject":"trade.l2update","data":{{"changes":{{"asks":[{asks}],"bids":[{bids}]}},"sequenceEnd":{end},"sequenceStart":{start},"symbol":"BTC-USDT","time":1729816425625}}}}"#
    )
}

fn snapshot_body(seq: u64, bids: &str, asks: &str) -> String {
    format!(
        r#"{{"code":"200000","data":{{"time":1729816425000,"sequence":"{seq}","bids":[{bids}],"asks":[{asks}]}}}}"#
    )
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

#[test]
fn symbols_round_trip() {
    assert_eq!(native_symbol(&inst("BTC-USDT-PERP")), "XBTUSDTM");
    assert_eq!(native_symbol(&inst("BTC-USD-PERP")), "XBTUSDM");
    assert_eq!(native_symbol(&inst("ETH-USDT")), "ETH-USDT");
    assert_eq!(parse_perp("XBTUSDTM"), Some(inst("BTC-USDT-PERP")));
    assert_eq!(parse_perp("XBTUSDM"), Some(inst("BTC-USD-PERP")));
    assert_eq!(parse_perp("ETHUSDCM"), Some(inst("ETH-USDC-PERP")));
    assert_eq!(parse_perp("XBTMZ25"), None);
    assert_eq!(parse_spot("BTC-USDT"), Some(inst("BTC-USDT")));
}

#[test]
fn token_answer_dials_and_welcome_subscribes() {
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP"]);
    let mut out = Output::default();
    a.start(0, &mut out);
    let posts: Vec<&str> = out
        .actions
        .iter()
        .filter_map(|x| match x {
            Action::HttpPost { url, .. } => Some(url.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        posts,
        [
            "https://api.kucoin.com/api/v1/bullet-public",
            "https://api-futures.kucoin.com/api/v1/bullet-public"
        ]
    );
    assert!(a.connections().iter().all(|c| c.await_dial));
    out.clear();
    a.on_http(
        "https://api.kucoin.com/api/v1/bullet-public",
        &fixture("bullet.json"),
        1,
        &mut out,
    );
    let Some(Action::Dial { url, target }) = out.actions.first() else {
        panic!("{:?}", out.actions)
    };
    assert_eq!(url, "wss://ws-api-spot.kucoin.com");
    assert!(
        target.starts_with("wss://ws-api-spot.kucoin.com/?token=2neAiuYvAU61ZDXANAGAsiL4"),
        "{target}"
    );
    assert!(target.contains("&connectId="), "{target}");
    // Nothing is subscribed before the server's welcome.
    let mut c = Collector::default();
    c.open(&mut a, "wss://ws-api-spot.kucoin.com", 2);
    assert!(c.actions.is_empty());
    c.text(
        &mut a,
        "wss://ws-api-spot.kucoin.com",
        &fixture("welcome.json"),
        3,
    );
    let sends: Vec<String> = c
        .actions
        .iter()
        .filter_map(|x| match x {
            Action::Send { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(sends.len(), 2, "{sends:?}");
    assert!(sends[0].contains(r#""topic":"/market/level2:BTC-USDT""#));
    assert!(sends[1].contains(r#""topic":"/market/match:BTC-USDT""#));
    // The ack of the level2 subscription asks for the snapshot.
    let id = serde_json::from_str::<serde_json::Value>(&sends[0]).unwrap()["id"].clone();
    let ack = format!(r#"{{"id":{id},"type":"ack"}}"#);
    c.text(&mut a, "wss://ws-api-spot.kucoin.com", &ack, 4);
    assert_eq!(http_gets(&c), [SPOT_BOOK]);
    // A close asks for a fresh token.
    c.actions.clear();
    c.close(&mut a, "wss://ws-api-spot.kucoin.com", 5);
    assert!(
        matches!(&c.actions[..], [Action::HttpPost { url, .. }] if url.ends_with("/bullet-public"))
    );
}

/// The docs' calibration example: snapshot 16; changes 15 and 16 are
/// already in it, 18 and 19 apply.
#[test]
fn spot_per_change_sequences_over_the_snapshot() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 1);
    c.text(
        &mut a,
        SPOT_WS,
        &l2(
            15,
            19,
            r#"["3988.59","3","16"],["3988.61","0","19"],["3988.62","8","15"]"#,
            r#"["3988.50","44","18"]"#,
        ),
        2,
    );
    assert_eq!(http_gets(&c), [SPOT_BOOK]);
    c.http(
        &mut a,
        SPOT_BOOK,
        &snapshot_body(
            16,
            r#"["3988.51","56"],["3988.50","15"],["3988.49","100"],["3988.48","10"]"#,
            r#"["3988.62","8"],["3988.61","32"],["3988.60","47"],["3988.59","3"]"#,
        ),
        3,
    );
    let (bids, asks) = levels(&c, "BTC-USDT");
    assert_eq!(
        bids,
        pairs(&[
            ("3988.51", "56"),
            ("3988.5", "44"),
            ("3988.49", "100"),
            ("3988.48", "10")
        ])
    );
    assert_eq!(
        asks,
        pairs(&[("3988.59", "3"), ("3988.6", "47"), ("3988.62", "8")])
    );
    assert!(a.lifecycle().is_live(&inst("BTC-USDT")));
    // An overlapping message: only its change newer than 19 applies.
    c.text(
        &mut a,
        SPOT_WS,
        &l2(19, 20, r#"["3988.62","1","19"],["3988.70","2","20"]"#, ""),
        4,
    );
    let (_, asks) = levels(&c, "BTC-USDT");
    assert_eq!(
        asks,
        pairs(&[
            ("3988.59", "3"),
            ("3988.6", "47"),
            ("3988.62", "8"),
            ("3988.7", "2")
        ])
    );
    // A sequence-only change (price 0) moves the sequence: 21 follows.
    c.text(&mut a, SPOT_WS, &l2(21, 21, r#"["0","0","21"]"#, ""), 5);
    c.text(
        &mut a,
        SPOT_WS,
        &l2(22, 22, "", r#"["3988.51","0","22"]"#),
        6,
    );
    assert_eq!(c.count(Incident::Gap), 0);
    assert_eq!(levels(&c, "BTC-USDT").0[0], ("3988.5".into(), "44".into()));
}

#[test]
fn spot_gap_goes_out_of_sync_and_fetches_a_new_snapshot() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 1);
    c.text(&mut a, SPOT_WS, &fixture("spot_update.json"), 2);
    c.http(&mut a, SPOT_BOOK, &fixture("spot_snapshot.json"), 3);
    let (bids, asks) = levels(&c, "BTC-USDT");
    assert_eq!(bids, pairs(&[("67993.2", "0.5"), ("67990", "2")]));
    assert_eq!(
        asks,
        pairs(&[
            ("67993.3", "1.21427407"),
            ("67993.5", "0.2"),
            ("67995", "3")
        ])
    );
    c.actions.clear();
    c.text(
        &mut a,
        SPOT_WS,
        &fixture("spot_update_gap.json"),
        20_000_000,
    );
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    let i = inst("BTC-USDT");
    assert!(!a.lifecycle().is_live(&i));
    assert!(matches!(
        c.book(VENUE, "BTC-USDT").unwrap().state(),
        BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 14701689784,
            got: 14701689790
        })
    ));
    assert_eq!(http_gets(&c), [SPOT_BOOK]);
    // The new snapshot bridges the buffered message: live again.
    c.http(
        &mut a,
        SPOT_BOOK,
        &snapshot_body(14701689789, r#"["67993","1"]"#, r#"["67994","1"]"#),
        20_000_001,
    );
    assert!(a.lifecycle().is_live(&i));
    assert_eq!(
        levels(&c, "BTC-USDT").0,
        pairs(&[("67993", "1"), ("67992", "0.4")])
    );
}

#[test]
fn spot_trade_taker_side() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut c = Collector::default();
    c.text(&mut a, SPOT_WS, &fixture("trade.json"), 1);
    let t = &c.trades[0];
    assert_eq!(
        (t.price, t.size, t.side),
        (dec!(67523), dec!(0.003), TakerSide::Buy)
    );
    assert_eq!(t.exchange_ts, Some(1_729_843_222_921_000));
}

#[test]
fn futures_book_waits_for_the_contract_size_then_converts_lots() {
    let mut a = adapter(&["BTC-USDT-PERP"]);
    let mut c = Collector::default();
    c.open(&mut a, FUT_WS, 1);
    c.text(&mut a, FUT_WS, &fixture("futures_update.json"), 2);
    c.http(&mut a, FUT_BOOK, &fixture("futures_snapshot.json"), 3);
    let i = inst("BTC-USDT-PERP");
    assert!(!a.lifecycle().is_live(&i), "no contract size yet");
    c.http(&mut a, CONTRACTS, &fixture("contracts_active.json"), 4);
    assert!(a.lifecycle().is_live(&i));
    // multiplier 0.001 BTC per lot; the update set 90631.2 to 2 lots.
    let (bids, asks) = levels(&c, "BTC-USDT-PERP");
    assert_eq!(bids, pairs(&[("90631.1", "0.5"), ("90630", "1.2")]));
    assert_eq!(asks, pairs(&[("90631.2", "0.002"), ("90632.5", "0.8")]));
    // Funding and open interest from the contract list: 8 724 443 lots.
    let f = c.funding.iter().find(|f| f.instrument == i).unwrap();
    assert_eq!(f.update.open_interest, Some(dec!(8724.443)));
    assert_eq!(f.update.next_funding, Some(1_731_916_800_000_000));
    assert_eq!(f.update.funding_rate, Some(dec!(0.000052)));
    // Next sequence +1 applies; a skipped one is a gap.
    let next = fixture("futures_update.json")
        .replace("1709400450241", "1709400450242")
        .replace("90631.2,sell,2", "90630,buy,0");
    c.text(&mut a, FUT_WS, &next, 5);
    assert_eq!(levels(&c, "BTC-USDT-PERP").0, pairs(&[("90631.1", "0.5")]));
    c.actions.clear();
    let gap = fixture("futures_update.json").replace("1709400450241", "1709400450250");
    c.text(&mut a, FUT_WS, &gap, 6);
    assert_eq!(c.count(Incident::Gap), 1);
    assert!(!a.lifecycle().is_live(&i));
    assert_eq!(http_gets(&c), [FUT_BOOK]);
}

#[test]
fn inverse_lots_are_usd_over_each_price() {
    let spec = ContractSpec {
        value: dec!(1),
        inverse: true,
    };
    let mut lv = vec![
        Level::new(dec!(50000), dec!(100)),
        Level::new(dec!(40000), dec!(0)),
    ];
    spec.convert(&mut lv);
    assert_eq!(lv[0].size, dec!(0.002));
    assert_eq!(lv[1].size, dec!(0));
    let linear = ContractSpec {
        value: dec!(0.001),
        inverse: false,
    };
    assert_eq!(linear.to_base(dec!(25), dec!(91000)), Some(dec!(0.025)));
    // Beyond any size: the level is made unacceptable, never wrong.
    let mut huge = vec![Level::new(dec!(1), Decimal::MAX)];
    linear.convert(&mut huge);
    assert!(!crate::venues::parse::is_size(huge[0].size));
}

#[test]
fn inverse_book_and_open_interest() {
    let mut a = adapter(&["BTC-USD-PERP"]);
    let mut c = Collector::default();
    c.http(&mut a, CONTRACTS, &fixture("contracts_active.json"), 1);
    let i = inst("BTC-USD-PERP");
    let f = c.funding.iter().find(|f| f.instrument == i).unwrap();
    // 50 000 000 USD lots at mark 90 000.
    assert_eq!(
        f.update.open_interest.unwrap().round_dp(6),
        dec!(555.555556)
    );
    let url = "https://api-futures.kucoin.com/api/v1/level2/snapshot?symbol=XBTUSDM";
    c.open(&mut a, FUT_WS, 2);
    c.http(
        &mut a,
        url,
        r#"{"code":"200000","data":{"sequence":5,"symbol":"XBTUSDM","bids":[[50000,100]],"asks":[[50001,50001]],"ts":1731897467182000000}}"#,
        3,
    );
    let (bids, asks) = levels(&c, "BTC-USD-PERP");
    assert_eq!(bids, pairs(&[("50000", "0.002")]));
    assert_eq!(asks, pairs(&[("50001", "1")]));
    let listed = c.funding.len();
    assert!(listed >= 1);
}

#[test]
fn futures_trade_and_funding_channels() {
    let mut a = adapter(&["BTC-USDT-PERP"]);
    let mut c = Collector::default();
    c.text(&mut a, FUT_WS, &fixture("futures_trade.json"), 1);
    assert!(c.trades.is_empty(), "no contract size yet: dropped");
    c.http(&mut a, CONTRACTS, &fixture("contracts_active.json"), 2);
    c.text(&mut a, FUT_WS, &fixture("futures_trade.json"), 3);
    let t = &c.trades[0];
    assert_eq!(
        (t.price, t.size, t.side),
        (dec!(91000.5), dec!(0.025), TakerSide::Sell)
    );
    c.funding.clear();
    c.text(&mut a, FUT_WS, &fixture("mark_index.json"), 4);
    c.text(&mut a, FUT_WS, &fixture("funding_rate.json"), 5);
    assert_eq!(c.funding[0].update.mark_price, Some(dec!(90640.27)));
    assert_eq!(c.funding[0].update.index_price, Some(dec!(90635.5)));
    assert_eq!(c.funding[1].update.funding_rate, Some(dec!(-0.000002)));
}

#[test]
fn malformed_frames_are_parse_errors() {
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP"]);
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 1);
    for bad in [
        "not json",
        r#"{"type":"message","topic":"/market/level2:BTC-USDT","data":{"sequenceStart":"x"}}"#,
        &l2(5, 4, "", ""),
        &l2(5, 5, r#"["1","2"]"#, ""),
        &l2(5, 5, r#"["abc","2","5"]"#, ""),
        r#"{"type":"message","topic":"/market/match:BTC-USDT","data":{"side":"buy","price":"x","size":"1"}}"#,
        r#"{"type":"message"}"#,
    ] {
        c.text(&mut a, SPOT_WS, bad, 2);
    }
    for bad in [
        r#"{"type":"message","topic":"/contractMarket/level2:XBTUSDTM","data":{"sequence":1,"change":"1,up,2"}}"#,
        r#"{"type":"message","topic":"/contractMarket/level2:XBTUSDTM","data":{"sequence":1,"change":"1,buy"}}"#,
    ] {
        c.text(&mut a, FUT_WS, bad, 2);
    }
    assert_eq!(c.count(Incident::ParseError), 9);
    c.text(&mut a, SPOT_WS, &fixture("error.json"), 3);
    assert_eq!(c.count(Incident::UnknownMessage), 1);
}

#[test]
fn rest_fallback_body_is_published_as_polled() {
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP"]);
    let p = a.poll_depth(&inst("BTC-USDT")).unwrap();
    assert_eq!(p.url, SPOT_BOOK);
    let mut c = Collector::default();
    let mut out = Output::default();
    a.on_poll(
        inst("BTC-USDT"),
        &fixture("spot_snapshot.json"),
        1,
        &mut out,
    );
    c.absorb(&mut out);
    let b = c.book(VENUE, "BTC-USDT").unwrap();
    assert_eq!(b.state(), &BookState::Polled);
    assert_eq!(top_strings(&b.bids, 1), pairs(&[("67993.2", "0.5")]));
    // Futures need the contract size first.
    a.on_poll(
        inst("BTC-USDT-PERP"),
        &fixture("futures_snapshot.json"),
        2,
        &mut out,
    );
    assert!(out.events.is_empty());
    c.http(&mut a, CONTRACTS, &fixture("contracts_active.json"), 3);
    a.on_poll(
        inst("BTC-USDT-PERP"),
        &fixture("futures_snapshot.json"),
        4,
        &mut out,
    );
    c.absorb(&mut out);
    let b = c.book(VENUE, "BTC-USDT-PERP").unwrap();
    assert_eq!(top_strings(&b.asks, 1), pairs(&[("90631.2", "0.3")]));
}

#[test]
fn instrument_lists_of_both_markets_go_out_together() {
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP"]);
    let mut out = Output::default();
    a.on_http(
        "https://api.kucoin.com/api/v2/symbols",
        &fixture("symbols.json"),
        1,
        &mut out,
    );
    a.on_http(CONTRACTS, &fixture("contracts_active.json"), 2, &mut out);
    let lists: Vec<&Vec<InstrumentInfo>> = out
        .events
        .iter()
        .filter_map(|e| match e {
            crate::model::MarketEvent::Instruments { list, .. } => Some(list),
            _ => None,
        })
        .collect();
    let last = lists.last().unwrap();
    let names: Vec<String> = last.iter().map(|i| i.instrument.to_string()).collect();
    assert_eq!(
        names,
        ["BTC-USDT", "ETH-USDT", "BTC-USD-PERP", "BTC-USDT-PERP"]
    );
    let perp = last.iter().find(|i| i.native == "XBTUSDTM").unwrap();
    assert_eq!(perp.contract_size, Some(dec!(0.001)));
    assert_eq!(perp.tick_size, Some(dec!(0.1)));
    let inverse = last.iter().find(|i| i.native == "XBTUSDM").unwrap();
    assert_eq!(inverse.contract_usd, Some(dec!(1)));
}
