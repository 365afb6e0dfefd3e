//! Unit tests on frames shaped from HTX's documentation
//! (`tests/fixtures/htx/`, see its README).

use std::io::Write;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::model::{Incident, LiquidatedSide, MarketEvent, TakerSide};
use crate::venues::Action;
use crate::venues::lifecycle::Phase;
use crate::venues::testkit::{Collector, top_strings};

const FEED: &str = "wss://api.huobi.pro/feed";
const LINEAR: &str = "wss://api.hbdm.com/linear-swap-ws";
const INVERSE: &str = "wss://api.hbdm.com/swap-ws";
const NOTIFY: &str = "wss://api.hbdm.com/linear-swap-notification";
const LINEAR_INFO: &str = "https://api.hbdm.com/linear-swap-api/v1/swap_contract_info";
const INVERSE_INFO: &str = "https://api.hbdm.com/swap-api/v1/swap_contract_info";

fn f(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/htx")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn inst(s: &str) -> Instrument {
    s.parse().unwrap()
}

fn adapter(instruments: &[&str]) -> Htx {
    Htx::new(AdapterConfig {
        instruments: instruments.iter().map(|s| inst(s)).collect(),
        ..AdapterConfig::default()
    })
}

fn binary(c: &mut Collector, a: &mut Htx, url: &str, text: &str, ts: Micros) {
    let mut out = Output::default();
    c.frames += 1;
    a.on_binary(url, &gz(text), ts, &mut out);
    c.absorb(&mut out);
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

/// `(price, size)` strings of one side.
type Side = Vec<(String, String)>;

fn levels(c: &Collector, i: &str) -> (Side, Side) {
    let b = c.book(VENUE, i).unwrap_or_else(|| panic!("no book {i}"));
    (top_strings(&b.bids, 10), top_strings(&b.asks, 10))
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

#[test]
fn symbols_and_what_is_carried() {
    assert_eq!(native_symbol(&inst("BTC-USDT")), "btcusdt");
    assert_eq!(native_symbol(&inst("BTC-USDT-PERP")), "BTC-USDT");
    assert_eq!(native_symbol(&inst("BTC-USD-PERP")), "BTC-USD");
    assert_eq!(parse_contract("BTC-USD"), Some(inst("BTC-USD-PERP")));
    assert_eq!(parse_contract("ETH-USDT"), Some(inst("ETH-USDT-PERP")));
    assert_eq!(parse_contract("BTC-USDT-211231"), None);
    assert_eq!(parse_contract("BTC_CW"), None);
    assert!(carries(&inst("BTC-USD-PERP")).is_ok());
    assert!(carries(&inst("BTC-USDC-PERP")).is_err());
    let mut a = adapter(&[]);
    assert_eq!(a.resolve("yfihusd"), Some(inst("YFI-HUSD")));
    assert_eq!(a.resolve("ethbtc"), Some(inst("ETH-BTC")));
}

#[test]
fn spot_mbp_buffers_asks_for_the_image_and_follows_prev_seq_num() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut c = Collector::default();
    c.open(&mut a, FEED, 1);
    assert_eq!(sends(&c), [r#"{"sub":"market.btcusdt.mbp.150","id":"1"}"#]);
    assert_eq!(a.lc.phase(&inst("BTC-USDT")), Phase::Syncing);
    // Increments are buffered; the first one asks for the image on the
    // same connection.
    binary(&mut c, &mut a, FEED, &f("spot_mbp_update_stale.json"), 2);
    binary(&mut c, &mut a, FEED, &f("spot_mbp_update.json"), 3);
    let req = r#"{"req":"market.btcusdt.mbp.150","id":"market.btcusdt.mbp.150"}"#;
    assert_eq!(sends(&c).iter().filter(|s| *s == req).count(), 1);
    assert!(c.actions.iter().all(|x| match x {
        Action::Send { url, .. } => url == FEED,
        _ => true,
    }));
    binary(&mut c, &mut a, FEED, &f("spot_mbp_image.json"), 4);
    assert!(a.lc.is_live(&inst("BTC-USDT")));
    // The stale increment (seqNum = image) is dropped, the bridging one
    // (prevSeqNum = image) applied.
    binary(&mut c, &mut a, FEED, &f("spot_mbp_update_next.json"), 5);
    let (bids, asks) = levels(&c, "BTC-USDT");
    assert_eq!(bids, pairs(&[("65000", "1.5"), ("64999.5", "2")]));
    assert_eq!(
        asks,
        pairs(&[("65000.3", "0.25"), ("65000.5", "1.5"), ("65001", "3")])
    );
    assert_eq!(c.count(Incident::ParseError), 0);
    // A break in prevSeqNum: out of sync and a new image is asked for.
    c.actions.clear();
    binary(&mut c, &mut a, FEED, &f("spot_mbp_update_gap.json"), 6);
    assert_eq!(c.count(Incident::Gap), 1);
    assert!(!a.lc.is_live(&inst("BTC-USDT")));
    assert!(c.book(VENUE, "BTC-USDT").unwrap().state().label() == "out_of_sync");
    assert_eq!(sends(&c), [req]);
}

#[test]
fn swap_books_wait_for_the_contract_size_then_follow_the_version() {
    let mut a = adapter(&["BTC-USDT-PERP"]);
    let mut c = Collector::default();
    c.open(&mut a, LINEAR, 1);
    let subs = sends(&c);
    assert_eq!(
        subs[0],
        r#"{"sub":"market.BTC-USDT.depth.size_150.high_freq","data_type":"incremental","id":"1"}"#
    );
    assert_eq!(
        subs[1],
        r#"{"sub":"market.BTC-USDT.trade.detail","id":"2"}"#
    );
    binary(&mut c, &mut a, LINEAR, &f("subbed.json"), 2);
    binary(&mut c, &mut a, LINEAR, &f("swap_snapshot.json"), 3);
    assert!(
        !a.lc.is_live(&inst("BTC-USDT-PERP")),
        "held: no contract size yet"
    );
    binary(&mut c, &mut a, LINEAR, &f("swap_update.json"), 4);
    c.http(&mut a, LINEAR_INFO, &f("contracts_linear.json"), 5);
    assert!(
        !a.lc.is_live(&inst("BTC-USDT-PERP")),
        "released by the next push on its own connection"
    );
    binary(&mut c, &mut a, LINEAR, &f("swap_update_empty.json"), 6);
    assert!(a.lc.is_live(&inst("BTC-USDT-PERP")));
    // 0.001 BTC a contract; the update before the release is in.
    let (bids, asks) = levels(&c, "BTC-USDT-PERP");
    assert_eq!(
        bids,
        pairs(&[
            ("65004.9", "6.172"),
            ("65004.8", "0.002"),
            ("65003.5", "0.306")
        ])
    );
    assert_eq!(asks[0], ("65005".to_string(), "0.817".to_string()));
    assert_eq!(c.count(Incident::Gap), 0);
    // Version 799 → 805: a gap, out of sync, the topic resubscribed.
    c.actions.clear();
    binary(&mut c, &mut a, LINEAR, &f("swap_update_gap.json"), 7);
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    assert!(!a.lc.is_live(&inst("BTC-USDT-PERP")));
    let s = sends(&c);
    assert_eq!(s.len(), 2);
    assert!(s[0].starts_with(r#"{"unsub":"market.BTC-USDT.depth.size_150.high_freq""#));
    assert!(s[1].starts_with(
        r#"{"sub":"market.BTC-USDT.depth.size_150.high_freq","data_type":"incremental""#
    ));
    // Updates before the new snapshot are dropped; the snapshot restores it.
    binary(&mut c, &mut a, LINEAR, &f("swap_update.json"), 8);
    assert!(!a.lc.is_live(&inst("BTC-USDT-PERP")));
    binary(&mut c, &mut a, LINEAR, &f("swap_snapshot.json"), 9);
    assert!(a.lc.is_live(&inst("BTC-USDT-PERP")));
    assert_eq!(c.count(Incident::ParseError), 0);
}

#[test]
fn inverse_contracts_convert_at_each_levels_price() {
    let spec = ContractSpec {
        value: dec!(100),
        inverse: true,
    };
    assert_eq!(spec.to_base(dec!(5), dec!(50000)), Some(dec!(0.01)));
    let linear = ContractSpec {
        value: dec!(0.001),
        inverse: false,
    };
    assert_eq!(linear.to_base(dec!(6172), dec!(1)), Some(dec!(6.172)));
    assert_eq!(spec.to_base(dec!(5), dec!(0)), None);
    let mut a = adapter(&["BTC-USD-PERP"]);
    let mut c = Collector::default();
    c.http(&mut a, INVERSE_INFO, &f("contracts_inverse.json"), 1);
    c.open(&mut a, INVERSE, 2);
    binary(&mut c, &mut a, INVERSE, &f("inverse_snapshot.json"), 3);
    let (bids, asks) = levels(&c, "BTC-USD-PERP");
    assert_eq!(bids[0], ("50000".to_string(), "0.01".to_string()));
    assert_eq!(bids[1].0, "49999");
    assert_eq!(
        bids[1].1.parse::<Decimal>().unwrap().round_dp(12),
        dec!(0.016000320006)
    );
    assert_eq!(
        asks[0].1.parse::<Decimal>().unwrap().round_dp(12),
        dec!(0.019999800002)
    );
    assert_eq!(a.lc.phase(&inst("BTC-USD-PERP")), Phase::Live);
}

#[test]
fn whole_book_pushes_replace_the_book_and_empty_ones_change_nothing() {
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP"]);
    let mut c = Collector::default();
    let ws = "wss://api.huobi.pro/ws";
    c.open(&mut a, ws, 1);
    binary(&mut c, &mut a, ws, &f("spot_step0.json"), 2);
    binary(&mut c, &mut a, ws, &f("spot_step0_empty.json"), 3);
    let (bids, asks) = levels(&c, "BTC-USDT");
    assert_eq!(
        bids,
        pairs(&[("65010.5", "0.4"), ("65010", "1"), ("65009", "2.5")])
    );
    assert_eq!(asks.len(), 2);
    assert!(a.lc.is_live(&inst("BTC-USDT")));
    // Swap step0 (cryptofeed's HUOBI_SWAP channel), in contracts.
    c.http(&mut a, LINEAR_INFO, &f("contracts_linear.json"), 4);
    binary(&mut c, &mut a, LINEAR, &f("swap_step0.json"), 5);
    let (bids, _) = levels(&c, "BTC-USDT-PERP");
    assert_eq!(bids, pairs(&[("65020", "0.25"), ("65019.5", "0.12")]));
    assert_eq!(c.count(Incident::ParseError), 0);
    assert_eq!(c.count(Incident::UnknownMessage), 0);
}

#[test]
fn trades_carry_the_taker_side_and_base_sizes() {
    let mut a = adapter(&["BTC-USDT", "BTC-USD-PERP"]);
    let mut c = Collector::default();
    binary(
        &mut c,
        &mut a,
        "wss://api.huobi.pro/ws",
        &f("spot_trade.json"),
        1,
    );
    assert_eq!(c.trades.len(), 2);
    assert_eq!(c.trades[0].side, TakerSide::Buy);
    assert_eq!(c.trades[0].size, dec!(0.0125));
    assert_eq!(c.trades[1].side, TakerSide::Sell);
    assert_eq!(c.trades[0].exchange_ts, Some(1_754_000_000_490_000));
    // Before the contract size: the coin quantity HTX sends.
    binary(&mut c, &mut a, INVERSE, &f("swap_trade.json"), 2);
    assert_eq!(c.trades[2].size, dec!(0.012));
    c.http(&mut a, INVERSE_INFO, &f("contracts_inverse.json"), 3);
    binary(&mut c, &mut a, INVERSE, &f("swap_trade.json"), 4);
    // 6 contracts × 100 USD / 50 000.
    assert_eq!(c.trades[3].size, dec!(0.012));
    assert_eq!(c.trades[3].instrument, inst("BTC-USD-PERP"));
}

#[test]
fn liquidations_funding_and_open_interest() {
    let mut a = adapter(&["BTC-USDT-PERP", "ETH-USDT-PERP"]);
    let mut c = Collector::default();
    binary(&mut c, &mut a, NOTIFY, &f("liquidation.json"), 1);
    let l = &c.liquidations[0];
    assert_eq!(l.instrument, inst("ETH-USDT-PERP"));
    assert_eq!(l.side, LiquidatedSide::Short, "a forced buy closes a short");
    assert_eq!((l.price, l.size), (dec!(2446.26), dec!(5)));
    binary(&mut c, &mut a, NOTIFY, &f("funding.json"), 2);
    let u = &c.funding[0].update;
    assert_eq!(u.funding_rate, Some(dec!(0.000064355479737646)));
    assert_eq!(u.next_funding, Some(1_754_006_400_000_000));
    c.http(
        &mut a,
        "https://api.hbdm.com/linear-swap-api/v1/swap_open_interest?contract_code=BTC-USDT",
        &f("open_interest.json"),
        3,
    );
    assert_eq!(c.funding[1].update.open_interest, Some(dec!(6000)));
    c.http(
        &mut a,
        "https://api.hbdm.com/swap-api/v1/swap_funding_rate?contract_code=BTC-USD",
        &f("funding_rest.json"),
        4,
    );
    let u = &c.funding[2].update;
    assert_eq!(c.funding[2].instrument, inst("BTC-USD-PERP"));
    assert_eq!(u.next_funding, Some(1_754_006_400_000_000));
    // What cryptofeed's poll gets for a USDT contract on the coin-M path.
    c.http(
        &mut a,
        "https://api.hbdm.com/swap-api/v1/swap_funding_rate?contract_code=BTC-USDT",
        &f("rest_refused.json"),
        5,
    );
    assert_eq!(c.funding.len(), 3);
    assert_eq!(c.count(Incident::UnknownMessage), 1);
    assert_eq!(c.count(Incident::ParseError), 0);
}

#[test]
fn heartbeats_of_both_socket_kinds_are_answered() {
    let mut a = adapter(&["BTC-USDT-PERP"]);
    let mut c = Collector::default();
    a.start(0, &mut Output::default());
    binary(&mut c, &mut a, LINEAR, &f("ping.json"), 1);
    binary(&mut c, &mut a, NOTIFY, &f("notify_ping.json"), 2);
    binary(&mut c, &mut a, NOTIFY, &f("notify_subbed.json"), 3);
    let s = sends(&c);
    assert_eq!(s[0], r#"{"pong":1754000004000}"#);
    assert_eq!(s[1], r#"{"op":"pong","ts":"1754000004100"}"#);
    assert_eq!(c.count(Incident::UnknownMessage), 0);
    // A minute of heartbeats later, open interest is asked for again.
    binary(&mut c, &mut a, LINEAR, &f("ping.json"), 61_000_000);
    assert!(c.actions.iter().any(|x| matches!(x, Action::HttpGet { url }
        if url.ends_with("/linear-swap-api/v1/swap_open_interest?contract_code=BTC-USDT"))));
}

#[test]
fn malformed_frames_are_counted_and_errors_reported() {
    let mut a = adapter(&["BTC-USDT-PERP"]);
    let mut c = Collector::default();
    let mut out = Output::default();
    a.on_binary(LINEAR, b"\x1f\x8bnot really gzip", 1, &mut out);
    c.absorb(&mut out);
    c.text(&mut a, LINEAR, "{not json", 2);
    c.text(
        &mut a,
        LINEAR,
        r#"{"ch":"market.BTC-USDT.depth.size_150.high_freq","tick":{"bids":[["x",1]],"version":1}}"#,
        3,
    );
    c.text(
        &mut a,
        LINEAR,
        r#"{"ch":"market.BTC-USDT.trade.detail","tick":{"data":[{"price":1}]}}"#,
        4,
    );
    assert_eq!(c.count(Incident::ParseError), 4);
    c.text(&mut a, LINEAR, &f("error.json"), 5);
    c.text(
        &mut a,
        LINEAR,
        r#"{"ch":"market.BTC-USDT.kline.1min","tick":{}}"#,
        6,
    );
    assert_eq!(c.count(Incident::UnknownMessage), 2);
    // A refused book topic takes its book out of sync with HTX's words.
    c.open(&mut a, LINEAR, 7);
    c.text(
        &mut a,
        LINEAR,
        r#"{"status":"error","ts":1,"id":"1","err-code":"bad-request","err-msg":"invalid topic market.BTC-USDT.depth.size_150.high_freq"}"#,
        8,
    );
    let b = c.book(VENUE, "BTC-USDT-PERP").unwrap();
    assert_eq!(b.state().label(), "out_of_sync");
}

#[test]
fn rest_depth_bodies_are_polled_books() {
    let mut a = adapter(&["BTC-USDT", "BTC-USD-PERP"]);
    let p = a.poll_depth(&inst("BTC-USDT")).unwrap();
    assert_eq!(
        p.url,
        "https://api.huobi.pro/market/depth?symbol=btcusdt&type=step0"
    );
    let p = a.poll_depth(&inst("BTC-USD-PERP")).unwrap();
    assert_eq!(
        p.url,
        "https://api.hbdm.com/swap-ex/market/depth?contract_code=BTC-USD&type=step0"
    );
    assert!(a.poll_depth(&inst("BTC-USDC-PERP")).is_none());
    let mut out = Output::default();
    a.on_poll(inst("BTC-USDT"), &f("depth_rest_spot.json"), 1, &mut out);
    a.on_poll(
        inst("BTC-USD-PERP"),
        &f("depth_rest_swap.json"),
        2,
        &mut out,
    );
    let polled: Vec<&MarketEvent> = out
        .events
        .iter()
        .filter(|e| matches!(e, MarketEvent::Book(_)))
        .collect();
    assert_eq!(polled.len(), 1, "the swap waits for its contract size");
    a.on_http(INVERSE_INFO, &f("contracts_inverse.json"), 3, &mut out);
    out.clear();
    a.on_poll(
        inst("BTC-USD-PERP"),
        &f("depth_rest_swap.json"),
        4,
        &mut out,
    );
    let Some(MarketEvent::Book(b)) = out.events.first() else {
        panic!("no polled book: {:?}", out.events);
    };
    // 50 contracts × 100 USD / 50 000.
    assert_eq!(b.bids[0].size, dec!(0.1));
    a.on_poll(inst("BTC-USDT"), &f("rest_refused.json"), 5, &mut out);
    a.on_poll(inst("BTC-USDT"), "<html>", 6, &mut out);
}

#[test]
fn instrument_lists_give_tick_lot_and_contract_sizes() {
    let mut a = adapter(&[]);
    let mut out = Output::default();
    a.on_http(
        "https://api.huobi.pro/v1/common/symbols",
        &f("spot_symbols.json"),
        1,
        &mut out,
    );
    a.on_http(LINEAR_INFO, &f("contracts_linear.json"), 2, &mut out);
    a.on_http(INVERSE_INFO, &f("contracts_inverse.json"), 3, &mut out);
    let Some(MarketEvent::Instruments { list, .. }) = out.events.last() else {
        panic!("no list");
    };
    let names: Vec<String> = list.iter().map(|i| i.instrument.to_string()).collect();
    assert_eq!(
        names,
        [
            "BTC-USDT",
            "YFI-HUSD",
            "BTC-USDT-PERP",
            "ETH-USDT-PERP",
            "BTC-USD-PERP",
            "ETH-USD-PERP"
        ]
    );
    assert_eq!(list[0].tick_size, Some(dec!(0.01)));
    assert_eq!(list[0].lot_size, Some(dec!(0.000001)));
    assert_eq!(list[2].contract_size, Some(dec!(0.001)));
    assert_eq!(list[2].tick_size, Some(dec!(0.1)));
    assert_eq!(list[4].contract_usd, Some(dec!(100)));
    assert_eq!(list[4].contract_size, None);
    assert_eq!(a.resolve("yfihusd"), Some(inst("YFI-HUSD")));
}
