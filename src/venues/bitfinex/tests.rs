//! Bitfinex adapter on frames shaped after the v2 documentation
//! (`tests/fixtures/bitfinex/README.md` names the pages).

use rust_decimal_macros::dec;

use super::*;
use crate::model::{BookState, LiquidatedSide, TakerSide};
use crate::venues::Action;
use crate::venues::testkit::{Collector, top_strings};

const WS: &str = "wss://api-pub.bitfinex.com/ws/2";

fn f(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bitfinex")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn adapter(instruments: &[&str]) -> Bitfinex {
    Bitfinex::new(AdapterConfig {
        instruments: instruments.iter().map(|s| s.parse().unwrap()).collect(),
        ..AdapterConfig::default()
    })
}

fn opened(instruments: &[&str]) -> (Bitfinex, Collector) {
    let mut a = adapter(instruments);
    let mut c = Collector::default();
    c.open(&mut a, WS, 1);
    for name in ["info.json", "conf_ack.json", "subscribed_book.json"] {
        c.text(&mut a, WS, &f(name), 2);
    }
    (a, c)
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

/// The frame with its sequence number (its last element) set to `n`.
fn seqd(frame: &str, n: u64) -> String {
    let cut = frame.rfind(',').expect("a frame with a sequence number");
    format!("{},{n}]", &frame[..cut])
}

type Levels = Vec<(String, String)>;

fn levels(c: &Collector, inst: &str) -> (Levels, Levels) {
    let b = c.book(VENUE, inst).expect("book");
    (top_strings(&b.bids, 100), top_strings(&b.asks, 100))
}

fn pairs(v: &[(&str, &str)]) -> Levels {
    v.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

#[test]
fn symbols_map_both_ways_with_asset_aliases() {
    for (common, native) in [
        ("BTC-USD", "tBTCUSD"),
        ("BTC-USDT", "tBTCUST"),
        ("AAVE-USDT", "tAAVE:UST"),
        ("BCH-USD", "tBCHN:USD"),
        ("ETH-USDC", "tETHUDC"),
        ("BTC-USDT-PERP", "tBTCF0:USTF0"),
        ("BTC-EURT-PERP", "tBTCF0:EUTF0"),
    ] {
        let i: Instrument = common.parse().unwrap();
        assert_eq!(native_symbol(&i), native, "{common}");
        assert_eq!(parse_native(native), Some(i), "{native}");
    }
    assert_eq!(parse_native("fUSD"), None);
    assert_eq!(parse_native("tBTCUSDT"), None, "no separator and not 3+3");
    assert_eq!(parse_native("tDSHUSD").unwrap().to_string(), "DASH-USD");
    assert!(carries(&"BTC-USD-PERP".parse().unwrap()).is_err());
}

#[test]
fn channels_are_spread_over_connections_of_25() {
    let syms: Vec<String> = (0..10).map(|i| format!("C{i}-USDT-PERP")).collect();
    let refs: Vec<&str> = syms.iter().map(String::as_str).collect();
    let a = adapter(&refs);
    let conns = a.connections();
    // 10 perps × (book, trades, deriv) + liq:global = 31 channels.
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0].url, WS);
    assert_eq!(conns[1].url, format!("{WS}?conn=2"));
    assert!(
        conns
            .iter()
            .all(|c| c.ping.is_some() && c.idle_timeout.is_some())
    );
    assert_eq!(a.plan[0].subs.len(), 25);
    assert_eq!(a.plan[1].subs.last(), Some(&Sub::Liquidations));
}

#[test]
fn open_sends_conf_then_one_subscribe_per_channel() {
    let mut a = adapter(&["BTC-USD", "BTC-USDT-PERP"]);
    let mut c = Collector::default();
    c.open(&mut a, WS, 1);
    let s = sends(&c);
    assert_eq!(s[0], r#"{"event":"conf","flags":196608}"#);
    assert_eq!(s.len(), 1 + 2 + 3 + 1, "{s:?}");
    let book: serde_json::Value = serde_json::from_str(&s[1]).unwrap();
    assert_eq!(book["channel"], "book");
    assert_eq!(book["symbol"], "tBTCUSD");
    assert_eq!(book["prec"], "P0");
    assert_eq!(book["len"], "100");
    assert!(
        s.iter()
            .any(|t| t.contains(r#""key":"deriv:tBTCF0:USTF0""#))
    );
    assert!(s.iter().any(|t| t.contains(r#""key":"liq:global""#)));
    assert_eq!(
        c.book(VENUE, "BTC-USD").unwrap().state(),
        &BookState::Syncing
    );
}

#[test]
fn snapshot_updates_deletes_and_a_matching_checksum() {
    let (mut a, mut c) = opened(&["BTC-USD"]);
    for name in [
        "snapshot.json",
        "update.json",
        "update_delete.json",
        "checksum.json",
        "heartbeat.json",
        "pong.json",
    ] {
        c.text(&mut a, WS, &f(name), 3);
    }
    assert_eq!(c.count(Incident::ChecksumOk), 1);
    assert_eq!(c.count(Incident::ChecksumFailed), 0);
    assert_eq!(c.count(Incident::Gap), 0);
    assert_eq!(c.count(Incident::ParseError), 0);
    assert_eq!(c.count(Incident::UnknownMessage), 0);
    assert!(c.book(VENUE, "BTC-USD").unwrap().is_live());
    let (bids, asks) = levels(&c, "BTC-USD");
    assert_eq!(
        bids,
        pairs(&[("7254.7", "3.3"), ("7254.6", "0.5"), ("7254.5", "0.25")])
    );
    assert_eq!(asks, pairs(&[("7255", "0.75")]));
}

#[test]
fn checksum_mismatch_resubscribes_the_book_after_unsubscribed() {
    let (mut a, mut c) = opened(&["BTC-USD"]);
    c.actions.clear();
    c.text(&mut a, WS, &f("snapshot.json"), 3);
    c.text(&mut a, WS, &seqd(&f("checksum_bad.json"), 2), 4);
    assert_eq!(c.count(Incident::ChecksumFailed), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    assert!(matches!(
        c.book(VENUE, "BTC-USD").unwrap().state(),
        BookState::OutOfSync(OutOfSyncReason::ChecksumMismatch {
            expected: 123456789,
            ..
        })
    ));
    assert_eq!(
        sends(&c),
        [r#"{"event":"unsubscribe","chanId":17082}"#.to_string()]
    );
    // Frames still in flight on the old channel change nothing.
    c.text(&mut a, WS, &seqd(&f("update.json"), 3), 5);
    c.text(
        &mut a,
        WS,
        r#"{"event":"unsubscribed","status":"OK","chanId":17082}"#,
        6,
    );
    let s = sends(&c);
    assert_eq!(s.len(), 2);
    assert!(s[1].contains(r#""channel":"book""#) && s[1].contains("tBTCUSD"));
    c.text(
        &mut a,
        WS,
        &f("subscribed_book.json").replace("17082", "17090"),
        7,
    );
    c.text(
        &mut a,
        WS,
        &seqd(&f("snapshot.json").replace("17082", "17090"), 4),
        8,
    );
    assert!(c.book(VENUE, "BTC-USD").unwrap().is_live());
    assert_eq!(c.count(Incident::Gap), 0);
}

#[test]
fn a_sequence_gap_takes_the_connections_books_out_and_reconnects() {
    let (mut a, mut c) = opened(&["BTC-USD"]);
    c.text(&mut a, WS, &f("snapshot.json"), 3);
    c.text(&mut a, WS, &f("update.json"), 4);
    c.actions.clear();
    c.text(&mut a, WS, &f("update_gap.json"), 5);
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    assert_eq!(
        c.book(VENUE, "BTC-USD").unwrap().state(),
        &BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 3,
            got: 42
        })
    );
    assert!(matches!(&c.actions[..], [Action::Reconnect { url, .. }] if url == WS));
    assert!(!a.lc.is_live(&"BTC-USD".parse().unwrap()));
    // The reconnect: closed, opened, subscribed, a fresh snapshot from 1.
    c.close(&mut a, WS, 6);
    c.open(&mut a, WS, 7);
    c.text(&mut a, WS, &f("subscribed_book.json"), 8);
    c.text(&mut a, WS, &f("snapshot.json"), 9);
    assert!(c.book(VENUE, "BTC-USD").unwrap().is_live());
    assert_eq!(c.count(Incident::Gap), 1);
}

#[test]
fn trades_take_te_only_with_the_taker_side() {
    let (mut a, mut c) = opened(&["BTC-USD"]);
    c.text(&mut a, WS, &f("subscribed_trades.json"), 3);
    for (n, name) in ["trades_snapshot.json", "trade.json", "trade_update.json"]
        .iter()
        .enumerate()
    {
        c.text(&mut a, WS, &seqd(&f(name), n as u64 + 1), 4);
    }
    assert_eq!(c.trades.len(), 1, "snapshot is history, tu repeats te");
    let t = &c.trades[0];
    assert_eq!(t.side, TakerSide::Sell);
    assert_eq!((t.price, t.size), (dec!(7254.6), dec!(0.0185)));
    assert_eq!(t.exchange_ts, Some(1_574_694_480_123_000));
    assert_eq!(c.count(Incident::Gap), 0, "trade frames share the sequence");
}

#[test]
fn liquidations_once_per_position_and_only_perpetuals() {
    let (mut a, mut c) = opened(&["BTC-USDT-PERP"]);
    c.text(&mut a, WS, &f("subscribed_liq.json"), 3);
    c.text(&mut a, WS, &seqd(&f("liquidation.json"), 1), 4);
    assert_eq!(c.liquidations.len(), 2, "{:?}", c.liquidations);
    let l = &c.liquidations[0];
    assert_eq!(l.instrument.to_string(), "BTC-USDT-PERP");
    assert_eq!(l.side, LiquidatedSide::Short);
    assert_eq!((l.price, l.size), (dec!(27152.1), dec!(0.2)));
    let l = &c.liquidations[1];
    assert_eq!(l.instrument.to_string(), "ETH-USDT-PERP");
    assert_eq!(l.side, LiquidatedSide::Long);
    assert_eq!(l.price, dec!(730.5), "BASE_PRICE without PRICE_ACQUIRED");
    // The same trigger again is not counted twice.
    c.text(&mut a, WS, &seqd(&f("liquidation.json"), 2), 5);
    assert_eq!(c.liquidations.len(), 2);
}

#[test]
fn derivatives_status_gives_funding_mark_and_open_interest() {
    let (mut a, mut c) = opened(&["BTC-USDT-PERP"]);
    c.text(&mut a, WS, &f("subscribed_deriv.json"), 3);
    c.text(&mut a, WS, &seqd(&f("deriv_status.json"), 1), 4);
    assert_eq!(c.funding.len(), 1);
    let fu = &c.funding[0];
    assert_eq!(fu.instrument.to_string(), "BTC-USDT-PERP");
    assert_eq!(fu.update.funding_rate, Some(dec!(0.00012)));
    assert_eq!(fu.update.next_funding, Some(1_596_153_600_000_000));
    assert_eq!(fu.update.mark_price, Some(dec!(11208.3)));
    assert_eq!(fu.update.open_interest, Some(dec!(2845.123)));
    assert_eq!(fu.update.index_price, None);
}

#[test]
fn malformed_frames_are_parse_errors_and_resync_the_book() {
    let (mut a, mut c) = opened(&["BTC-USD"]);
    c.text(&mut a, WS, &f("snapshot.json"), 3);
    c.actions.clear();
    c.text(&mut a, WS, "not json", 4);
    c.text(&mut a, WS, r#"[17082,"#, 5);
    c.text(&mut a, WS, r#"["x",[1,2,3]]"#, 6);
    assert_eq!(c.count(Incident::ParseError), 3);
    assert!(c.book(VENUE, "BTC-USD").unwrap().is_live());
    c.text(&mut a, WS, r#"[17082,[7254.5,1,"abc"],2]"#, 7);
    assert_eq!(c.count(Incident::ParseError), 4);
    assert!(!c.book(VENUE, "BTC-USD").unwrap().is_live());
    assert_eq!(
        sends(&c),
        [r#"{"event":"unsubscribe","chanId":17082}"#.to_string()]
    );
    // A zero amount names no side.
    let (mut a, mut c) = opened(&["BTC-USD"]);
    c.text(&mut a, WS, r#"[17082,[[7254.7,3,0]],1]"#, 3);
    assert_eq!(c.count(Incident::ParseError), 1);
    assert!(!c.book(VENUE, "BTC-USD").unwrap().is_live());
}

#[test]
fn info_restart_reconnects_and_maintenance_takes_books_out() {
    let (mut a, mut c) = opened(&["BTC-USD"]);
    c.text(&mut a, WS, &f("snapshot.json"), 3);
    c.actions.clear();
    c.text(&mut a, WS, &f("info_restart.json"), 4);
    assert!(matches!(&c.actions[..], [Action::Reconnect { url, .. }] if url == WS));
    c.text(
        &mut a,
        WS,
        r#"{"event":"info","code":20060,"msg":"Entering maintenance"}"#,
        5,
    );
    assert!(!c.book(VENUE, "BTC-USD").unwrap().is_live());
    c.actions.clear();
    c.text(
        &mut a,
        WS,
        r#"{"event":"info","code":20061,"msg":"Maintenance ended"}"#,
        6,
    );
    assert!(matches!(&c.actions[..], [Action::Reconnect { .. }]));
}

#[test]
fn an_error_on_a_book_subscription_is_shown() {
    let (mut a, mut c) = opened(&["BTC-USD"]);
    c.text(&mut a, WS, &f("error.json"), 3);
    assert_eq!(c.count(Incident::UnknownMessage), 1);
    assert!(matches!(
        c.book(VENUE, "BTC-USD").unwrap().state(),
        BookState::OutOfSync(OutOfSyncReason::Venue(_))
    ));
}

#[test]
fn instrument_lists_and_the_rest_book() {
    let mut a = adapter(&["BTC-USDT-PERP"]);
    let mut out = Output::default();
    a.start(0, &mut out);
    let spot = "https://api-pub.bitfinex.com/v2/conf/pub:info:pair";
    let futures = "https://api-pub.bitfinex.com/v2/conf/pub:info:pair:futures";
    assert_eq!(
        out.actions,
        [
            Action::HttpGet { url: spot.into() },
            Action::HttpGet {
                url: futures.into()
            },
        ]
    );
    out.clear();
    a.on_http(spot, &f("pair_info_exchange.json"), 1, &mut out);
    a.on_http(futures, &f("pair_info_futures.json"), 1, &mut out);
    let Some(MarketEvent::Instruments { list, .. }) = out.events.last() else {
        panic!("{:?}", out.events);
    };
    let names: Vec<String> = list.iter().map(|i| i.instrument.to_string()).collect();
    let want = [
        "BTC-USD",
        "BTC-USDT",
        "ETH-USD",
        "ETH-USDT",
        "AAVE-USDT",
        "BTC-USDT-PERP",
        "ETH-USDT-PERP",
        "BTC-EURT-PERP",
    ];
    assert_eq!(names, want);
    assert_eq!(list[1].native, "tBTCUST");
    assert_eq!(list[5].native, "tBTCF0:USTF0");
    for info in list {
        // Prices have 5 significant digits (no fixed tick); amounts take 8
        // decimals; perpetual amounts are in the base asset already.
        assert_eq!(info.tick_size, None);
        assert_eq!(info.lot_size, Some(dec!(0.00000001)));
        assert_eq!((info.contract_size, info.contract_usd), (None, None));
    }
    // The lists a recording fetched (`pub:list:pair:*`) read the same.
    let mut old = adapter(&["BTC-USDT-PERP"]);
    out.clear();
    let list_url = |k: &str| format!("https://api-pub.bitfinex.com/v2/conf/pub:list:pair:{k}");
    old.on_http(
        &list_url("exchange"),
        &f("pair_list_exchange.json"),
        1,
        &mut out,
    );
    old.on_http(
        &list_url("futures"),
        &f("pair_list_futures.json"),
        1,
        &mut out,
    );
    let Some(MarketEvent::Instruments { list, .. }) = out.events.last() else {
        panic!("{:?}", out.events);
    };
    let old_names: Vec<String> = list.iter().map(|i| i.instrument.to_string()).collect();
    assert_eq!(old_names, want);
    // A body that is not a list is a parse error, not a panic.
    out.clear();
    old.on_http(spot, r#"["error",10020,"key: invalid"]"#, 2, &mut out);
    assert!(matches!(
        out.events.as_slice(),
        [MarketEvent::Incident {
            incident: Incident::ParseError,
            ..
        }]
    ));

    let i: Instrument = "BTC-USD".parse().unwrap();
    let poll = a.poll_depth(&i).unwrap();
    assert_eq!(
        poll.url,
        "https://api-pub.bitfinex.com/v2/book/tBTCUSD/P0?len=100"
    );
    let mut c = Collector::default();
    let mut out = Output::default();
    a.on_poll(i, &f("rest_book.json"), 5, &mut out);
    c.absorb(&mut out);
    let (bids, asks) = levels(&c, "BTC-USD");
    assert_eq!(bids, pairs(&[("7254.7", "3.3"), ("7254.6", "0.5")]));
    assert_eq!(asks, pairs(&[("7254.8", "1.2"), ("7255", "0.75")]));
    assert_eq!(
        c.book(VENUE, "BTC-USD").unwrap().state(),
        &BookState::Polled
    );
    a.on_poll(i, r#"["error",10020,"symbol: invalid"]"#, 6, &mut out);
    c.absorb(&mut out);
    assert_eq!(c.count(Incident::UnknownMessage), 1);
}

#[test]
fn two_recorded_connections_to_one_address_interleave_without_gaps() {
    // cryptofeed opens one connection per 20 channels, all to the same
    // address: each counts its own sequence from 1.
    let mut a = adapter(&["BTC-USD", "ETH-USD"]);
    let mut c = Collector::default();
    c.open(&mut a, WS, 1);
    c.text(&mut a, WS, &f("subscribed_book.json"), 2);
    c.text(&mut a, WS, &f("snapshot.json"), 3);
    c.open(&mut a, WS, 4);
    let eth = f("subscribed_book.json")
        .replace("17082", "17100")
        .replace("BTCUSD", "ETHUSD");
    c.text(&mut a, WS, &eth, 5);
    c.text(&mut a, WS, r#"[17100,[[1800.1,1,2],[1800.5,1,-3]],1]"#, 6);
    c.text(&mut a, WS, &f("update.json"), 7);
    c.text(&mut a, WS, r#"[17100,[1800.2,1,1],2]"#, 8);
    c.text(&mut a, WS, r#"[17100,"hb",3]"#, 9);
    c.text(&mut a, WS, &f("update_delete.json"), 10);
    assert_eq!(c.count(Incident::Gap), 0);
    assert!(c.book(VENUE, "BTC-USD").unwrap().is_live());
    assert!(c.book(VENUE, "ETH-USD").unwrap().is_live());
    let (bids, _) = levels(&c, "ETH-USD");
    assert_eq!(bids, pairs(&[("1800.2", "1"), ("1800.1", "2")]));
}

#[test]
fn a_configured_name_wins_over_the_alias_table() {
    // A recording's header may name tDSHUSD as cryptofeed does.
    let mut a = adapter(&["DSH-USD"]);
    let mut c = Collector::default();
    c.open(&mut a, WS, 1);
    let sub = f("subscribed_book.json").replace("BTCUSD", "DSHUSD");
    c.text(&mut a, WS, &sub, 2);
    c.text(&mut a, WS, &f("snapshot.json"), 3);
    assert!(c.book(VENUE, "DSH-USD").unwrap().is_live());
    assert!(c.book(VENUE, "DASH-USD").is_none());
}

#[test]
fn unknown_channels_and_unused_subscriptions_are_counted_once() {
    let (mut a, mut c) = opened(&["BTC-USD"]);
    c.text(
        &mut a,
        WS,
        r#"{"event":"subscribed","channel":"ticker","chanId":5,"symbol":"tBTCUSD","pair":"BTCUSD"}"#,
        3,
    );
    c.text(&mut a, WS, r#"[5,[1,2,3,4,5,6,7,8,9,10],1]"#, 4);
    c.text(&mut a, WS, r#"[999,[1,2,3],2]"#, 5);
    c.text(&mut a, WS, r#"[998,"hb",3]"#, 6);
    assert_eq!(c.count(Incident::UnknownMessage), 2);
    assert_eq!(c.count(Incident::Gap), 0);
}
