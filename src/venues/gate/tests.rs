//! Unit tests on messages shaped after Gate's documentation
//! (`tests/fixtures/gate/`, see its README).

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::model::{BookUpdateKind, Incident, Level, LiquidatedSide, MarketEvent, TakerSide};
use crate::venues::Action;
use crate::venues::lifecycle::Phase;

const SPOT: &str = "wss://api.gateio.ws/ws/v4/";
const FUT: &str = "wss://fx-ws.gateio.ws/v4/ws/usdt";
const NOW: Micros = 1_754_000_000_000_000;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/gate/",
            $name
        ))
    };
}

fn inst(s: &str) -> Instrument {
    s.parse().unwrap()
}

fn adapter(instruments: &[&str]) -> Gate {
    Gate::new(AdapterConfig {
        instruments: instruments.iter().map(|s| inst(s)).collect(),
        ..AdapterConfig::default()
    })
}

fn feed(a: &mut Gate, url: &str, text: &str) -> Output {
    let mut out = Output::default();
    a.on_text(url, text, NOW, &mut out);
    out
}

fn http(a: &mut Gate, url: &str, body: &str) -> Output {
    let mut out = Output::default();
    a.on_http(url, body, NOW, &mut out);
    out
}

fn count(out: &Output, kind: Incident) -> usize {
    out.events
        .iter()
        .filter(|e| matches!(e, MarketEvent::Incident { incident, .. } if *incident == kind))
        .count()
}

fn books(out: &Output) -> Vec<&crate::model::BookUpdate> {
    out.events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Book(b) => Some(b),
            _ => None,
        })
        .collect()
}

fn sends(out: &Output) -> Vec<String> {
    out.actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn gets(out: &Output) -> Vec<String> {
    out.actions
        .iter()
        .filter_map(|a| match a {
            Action::HttpGet { url } => Some(url.clone()),
            _ => None,
        })
        .collect()
}

const CONTRACTS: &str = "https://api.gateio.ws/api/v4/futures/usdt/contracts";
const SPOT_BOOK: &str =
    "https://api.gateio.ws/api/v4/spot/order_book?currency_pair=ETH_USDT&limit=100&with_id=true";
const FUT_BOOK: &str = "https://api.gateio.ws/api/v4/futures/usdt/order_book?contract=RDNT_USDT&limit=100&with_id=true";

#[test]
fn subscriptions_per_market() {
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP", "BTC-USD-PERP"]);
    let conns = a.connections();
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0].url, SPOT);
    assert_eq!(conns[1].url, FUT);
    assert_eq!(
        conns[1].ping.as_ref().unwrap().text,
        r#"{"channel":"futures.ping"}"#
    );
    let mut out = Output::default();
    a.on_open(SPOT, NOW, &mut out);
    let s = sends(&out);
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(s[0].contains(r#""channel":"spot.obu""#) && s[0].contains("ob.BTC_USDT.400"));
    assert!(s[0].contains(r#""time":1754000000"#));
    assert!(s[1].contains(r#""channel":"spot.trades""#));
    let mut out = Output::default();
    a.on_open(FUT, NOW, &mut out);
    let s = sends(&out).join("\n");
    for ch in [
        "futures.obu",
        "futures.trades",
        "futures.tickers",
        "futures.public_liquidates",
    ] {
        assert!(s.contains(ch), "{ch}: {s}");
    }
    assert!(
        !s.contains("BTC_USD\""),
        "inverse contracts are not watched"
    );
    assert_eq!(a.lc.phase(&inst("BTC-USDT-PERP")), Phase::Syncing);
    let many: Vec<String> = (0..70).map(|i| format!("C{i}-USDT")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let urls: Vec<String> = adapter(&refs)
        .connections()
        .into_iter()
        .map(|c| c.url)
        .collect();
    assert_eq!(
        urls,
        [
            SPOT.to_string(),
            format!("{SPOT}?conn=2"),
            format!("{SPOT}?conn=3")
        ]
    );
}

#[test]
fn obu_full_then_update_then_gap_resubscribes() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut out = Output::default();
    a.on_open(SPOT, NOW, &mut out);
    assert!(
        books(&feed(&mut a, SPOT, fixture!("obu_spot_update.json"))).is_empty(),
        "before the full book"
    );
    let out = feed(&mut a, SPOT, fixture!("obu_spot_full.json"));
    let b = books(&out);
    assert_eq!(b[0].kind, BookUpdateKind::Snapshot);
    assert_eq!(
        b[0].bids,
        [
            Level::new(dec!(65000.1), dec!(0.5)),
            Level::new(dec!(65000), dec!(1.25))
        ]
    );
    let out = feed(&mut a, SPOT, fixture!("obu_spot_update.json"));
    let b = books(&out);
    assert_eq!(b[0].kind, BookUpdateKind::Delta);
    assert_eq!(b[0].asks, [Level::new(dec!(65000.3), dec!(0.4))]);
    assert_eq!(b[0].seq.last, Some(1004));
    let out = feed(&mut a, SPOT, fixture!("obu_spot_gap.json"));
    assert_eq!(count(&out, Incident::Gap), 1);
    assert_eq!(count(&out, Incident::Resync), 1);
    assert!(books(&out).is_empty());
    assert!(!a.lc.is_live(&inst("BTC-USDT")));
    let s = sends(&out);
    assert_eq!(s.len(), 2);
    assert!(s[0].contains(r#""event":"unsubscribe""#) && s[0].contains("ob.BTC_USDT.400"));
    assert!(s[1].contains(r#""event":"subscribe""#));
    // A full book may come again at any time: it replaces everything.
    let _ = feed(&mut a, SPOT, fixture!("obu_spot_full.json"));
    assert!(a.lc.is_live(&inst("BTC-USDT")));
}

#[test]
fn futures_contracts_wait_for_the_multiplier() {
    let mut a = adapter(&["BTC-USDT-PERP"]);
    let mut out = Output::default();
    a.on_open(FUT, NOW, &mut out);
    let out = feed(&mut a, FUT, fixture!("obu_futures_full.json"));
    assert!(books(&out).is_empty(), "held back without a contract size");
    let _ = feed(&mut a, FUT, fixture!("obu_futures_update.json"));
    assert!(!a.lc.is_live(&inst("BTC-USDT-PERP")));
    let out = http(&mut a, CONTRACTS, fixture!("contracts.json"));
    let b = books(&out);
    assert_eq!(b.len(), 1, "released");
    // 30166 contracts × 0.0001 BTC; the update's delete and insert are in.
    assert_eq!(
        b[0].bids,
        [
            Level::new(dec!(64990.5), dec!(3.0166)),
            Level::new(dec!(64989.5), dec!(0.0062))
        ]
    );
    assert_eq!(b[0].asks, [Level::new(dec!(64991), dec!(0.4208))]);
    let list = out
        .events
        .iter()
        .find_map(|e| match e {
            MarketEvent::Instruments { list, .. } => Some(list.clone()),
            _ => None,
        })
        .unwrap();
    let btc = list.iter().find(|i| i.native == "BTC_USDT").unwrap();
    assert_eq!(btc.contract_size, Some(dec!(0.0001)));
    assert_eq!(
        (btc.tick_size, btc.lot_size),
        (Some(dec!(0.1)), Some(dec!(0.0001)))
    );
    assert!(!list.iter().any(|i| i.native == "OLD_USDT"), "delisting");
    // The contract list also gives funding and the next funding time.
    let f = out
        .events
        .iter()
        .find_map(|e| match e {
            MarketEvent::Funding(f) => Some(f.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(f.update.next_funding, Some(1_754_006_400_000_000));
    assert_eq!(f.update.open_interest, Some(dec!(16953.1691)));
}

#[test]
fn legacy_six_steps_with_rest_snapshot_first() {
    let mut a = adapter(&[]);
    // The recording holds the REST body before the connection opened.
    let out = http(&mut a, SPOT_BOOK, fixture!("rest_spot_order_book.json"));
    assert!(books(&out).is_empty());
    let mut out = Output::default();
    a.on_open(SPOT, NOW, &mut out);
    // u ≤ id: already in the snapshot; the snapshot is published with it.
    let out = feed(&mut a, SPOT, fixture!("legacy_spot_stale.json"));
    let b = books(&out);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].kind, BookUpdateKind::Snapshot);
    assert_eq!(b[0].seq.last, Some(5000));
    let out = feed(&mut a, SPOT, fixture!("legacy_spot_update.json"));
    let b = books(&out);
    assert_eq!(b[0].kind, BookUpdateKind::Delta);
    assert_eq!(b[0].asks, [Level::new(dec!(1920.9), dec!(0))]);
    // An empty update advances the id: the next one follows it.
    assert!(books(&feed(&mut a, SPOT, fixture!("legacy_spot_empty.json"))).is_empty());
    let out = feed(&mut a, SPOT, fixture!("legacy_spot_after_empty.json"));
    assert_eq!(count(&out, Incident::Gap), 0);
    assert_eq!(books(&out).len(), 1);
    // U > last u + 1: lost updates, a new snapshot is fetched.
    let out = feed(&mut a, SPOT, fixture!("legacy_spot_gap.json"));
    assert_eq!(count(&out, Incident::Gap), 1);
    assert_eq!(gets(&out), [SPOT_BOOK.to_string()]);
    assert!(!a.lc.is_live(&inst("ETH-USDT")));
    // A 2025 `full:true` book in the diff stream replaces everything.
    let out = feed(&mut a, SPOT, fixture!("legacy_spot_full.json"));
    let b = books(&out);
    assert_eq!(b[0].kind, BookUpdateKind::Snapshot);
    assert_eq!(b[0].bids, [Level::new(dec!(1921), dec!(2))]);
    assert_eq!(b[0].asks, [Level::new(dec!(1921.5), dec!(1))]);
    assert!(a.lc.is_live(&inst("ETH-USDT")));
}

#[test]
fn legacy_futures_levels_are_objects_in_contracts() {
    let mut a = adapter(&[]);
    let _ = http(&mut a, CONTRACTS, fixture!("contracts.json"));
    let _ = http(&mut a, FUT_BOOK, fixture!("rest_futures_order_book.json"));
    let out = feed(&mut a, FUT, fixture!("legacy_futures_update.json"));
    let b = books(&out);
    assert_eq!(b.len(), 2, "snapshot, then the bridging update");
    assert_eq!(b[0].instrument, inst("RDNT-USDT-PERP"));
    assert_eq!(
        b[1].asks,
        [
            Level::new(dec!(0.2983), dec!(0)),
            Level::new(dec!(0.2975), dec!(1575))
        ]
    );
}

#[test]
fn trades_liquidations_and_tickers() {
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP"]);
    let out = feed(&mut a, SPOT, fixture!("spot_trade.json"));
    let MarketEvent::Trade(t) = &out.events[0] else {
        panic!("{:?}", out.events);
    };
    assert_eq!(
        (t.side, t.size, t.price),
        (TakerSide::Sell, dec!(16.47), dec!(65000.2))
    );
    assert_eq!(t.exchange_ts, Some(1_606_292_218_213_000));
    // Futures: contracts need the multiplier.
    assert!(
        feed(&mut a, FUT, fixture!("futures_trades.json"))
            .events
            .is_empty()
    );
    let _ = http(&mut a, CONTRACTS, fixture!("contracts.json"));
    let out = feed(&mut a, FUT, fixture!("futures_trades.json"));
    let sides: Vec<(TakerSide, Decimal)> = out
        .events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Trade(t) => Some((t.side, t.size)),
            _ => None,
        })
        .collect();
    assert_eq!(
        sides,
        [
            (TakerSide::Sell, dec!(0.0108)),
            (TakerSide::Buy, dec!(0.002))
        ]
    );
    let out = feed(&mut a, FUT, fixture!("public_liquidates.json"));
    let liqs: Vec<(LiquidatedSide, Decimal, Decimal)> = out
        .events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Liquidation(l) => Some((l.side, l.size, l.price)),
            _ => None,
        })
        .collect();
    assert_eq!(
        liqs,
        [
            (LiquidatedSide::Long, dec!(0.0124), dec!(64800.1)),
            (LiquidatedSide::Short, dec!(0.003), dec!(65200))
        ]
    );
    let out = feed(&mut a, FUT, fixture!("futures_tickers.json"));
    let MarketEvent::Funding(f) = &out.events[0] else {
        panic!("{:?}", out.events);
    };
    assert_eq!(f.update.funding_rate, Some(dec!(-0.000114)));
    assert_eq!(f.update.open_interest, Some(dec!(7.3648)));
    assert_eq!(f.update.mark_price, Some(dec!(64990.8)));
    assert_eq!(f.update.next_funding, Some(1_754_006_400_000_000));
}

#[test]
fn acks_errors_pongs_upgrades_and_bad_frames() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut out = Output::default();
    a.on_open(SPOT, NOW, &mut out);
    assert!(
        feed(&mut a, SPOT, fixture!("subscribe_ack.json"))
            .events
            .is_empty()
    );
    assert!(feed(&mut a, FUT, fixture!("pong.json")).events.is_empty());
    let out = feed(&mut a, SPOT, fixture!("error_alert_sub.json"));
    assert_eq!(count(&out, Incident::UnknownMessage), 1);
    assert!(
        out.actions
            .iter()
            .any(|x| matches!(x, Action::Reconnect { .. }))
    );
    let out = feed(&mut a, SPOT, fixture!("upgrade.json"));
    assert!(
        out.actions
            .iter()
            .any(|x| matches!(x, Action::Reconnect { .. }))
    );
    for bad in [
        "{\"channel\":\"spot.obu\",",
        r#"{"channel":"spot.obu","result":{"full":true,"s":"ob.BTC_USDT.400","u":1,"b":[["x","1"]],"a":[]}}"#,
        r#"{"channel":"spot.trades","event":"update","result":{"currency_pair":"BTC_USDT","price":"1","amount":"1","side":"up"}}"#,
        r#"{"channel":"futures.public_liquidates","event":"update","result":[{"contract":"BTC_USDT","price":"1","size":"0"}]}"#,
    ] {
        let url = if bad.contains("futures.") { FUT } else { SPOT };
        let out = feed(&mut a, url, bad);
        assert_eq!(count(&out, Incident::ParseError), 1, "{bad}");
    }
}

#[test]
fn rest_depth_is_polled() {
    let mut a = adapter(&["ETH-USDT", "RDNT-USDT-PERP"]);
    let p = a.poll_depth(&inst("ETH-USDT")).unwrap();
    assert_eq!(p.url, SPOT_BOOK);
    assert_eq!(a.poll_depth(&inst("RDNT-USDT-PERP")).unwrap().url, FUT_BOOK);
    assert!(a.poll_depth(&inst("BTC-USD-PERP")).is_none());
    let mut out = Output::default();
    a.on_poll(
        inst("ETH-USDT"),
        fixture!("rest_spot_order_book.json"),
        NOW,
        &mut out,
    );
    let b = books(&out);
    assert_eq!(b[0].kind, BookUpdateKind::Polled);
    assert_eq!(b[0].exchange_ts, Some(1_754_000_000_250_000));
    let _ = http(&mut a, CONTRACTS, fixture!("contracts.json"));
    let mut out = Output::default();
    a.on_poll(
        inst("RDNT-USDT-PERP"),
        fixture!("rest_futures_order_book.json"),
        NOW,
        &mut out,
    );
    let b = books(&out);
    assert_eq!(b[0].bids[0], Level::new(dec!(0.297), dec!(200)));
    assert_eq!(b[0].exchange_ts, Some(1_684_930_166_384_000));
}

#[test]
fn currency_pairs_give_ticks() {
    let mut a = adapter(&[]);
    let out = http(
        &mut a,
        "https://api.gateio.ws/api/v4/spot/currency_pairs",
        fixture!("currency_pairs.json"),
    );
    let MarketEvent::Instruments { list, .. } = &out.events[0] else {
        panic!("{:?}", out.events);
    };
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].tick_size, list[0].lot_size),
        (Some(dec!(0.1)), Some(dec!(0.000001)))
    );
}
