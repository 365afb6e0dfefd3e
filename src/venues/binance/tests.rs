//! Adapter tests on hand-written frames shaped like Binance's documentation.

use rust_decimal_macros::dec;

use super::*;
use crate::model::{BookState, Incident, Level};
use crate::venues::Action;
use crate::venues::testkit::Collector;

const SPOT_WS: &str =
    "wss://stream.binance.com:9443/stream?streams=bnbbtc@depth@100ms/bnbbtc@aggTrade";
const SPOT_DEPTH: &str = "https://api.binance.com/api/v3/depth?symbol=BNBBTC&limit=1000";
const FUT_WS: &str = "wss://fstream.binance.com/public/stream?streams=btcusdt@depth@100ms";
const FUT_MARKET_WS: &str = "wss://fstream.binance.com/market/stream?streams=!forceOrder@arr/btcusdt@aggTrade/btcusdt@markPrice@1s";
const FUT_DEPTH: &str = "https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000";

fn adapter() -> Binance {
    Binance::new(AdapterConfig::default())
}

fn spot_diff(first: u64, last: u64, bids: &str, asks: &str) -> String {
    format!(
        r#"{{"stream":"bnbbtc@depth@100ms","data":{{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":{first},"u":{last},"b":{bids},"a":{asks}}}}}"#
    )
}

fn fut_diff(first: u64, last: u64, pu: i64, bids: &str, asks: &str) -> String {
    format!(
        r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":1672515782136,"T":1672515782130,"s":"BTCUSDT","U":{first},"u":{last},"pu":{pu},"b":{bids},"a":{asks}}}}}"#
    )
}

fn snapshot(id: u64, bids: &str, asks: &str) -> String {
    format!(r#"{{"lastUpdateId":{id},"bids":{bids},"asks":{asks}}}"#)
}

fn http_gets(c: &Collector) -> Vec<&str> {
    c.actions
        .iter()
        .filter_map(|a| match a {
            Action::HttpGet { url } => Some(url.as_str()),
            _ => None,
        })
        .collect()
}

fn levels(side: &crate::book::Side) -> Vec<Level> {
    side.iter().copied().collect()
}

fn spot_book(c: &Collector) -> &crate::book::OrderBook {
    c.book(VENUE, "BNB-BTC").expect("book exists")
}

fn fut_book(c: &Collector) -> &crate::book::OrderBook {
    c.book(VENUE, "BTC-USDT-PERP").expect("book exists")
}

#[test]
fn open_requests_the_snapshot_of_each_depth_stream() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 0);
    assert_eq!(http_gets(&c), vec![SPOT_DEPTH]);
    assert_eq!(spot_book(&c).state(), &BookState::Syncing);
    c.open(&mut a, FUT_WS, 0);
    assert_eq!(http_gets(&c), vec![SPOT_DEPTH, FUT_DEPTH]);
}

#[test]
fn buffered_diffs_older_than_the_snapshot_are_dropped() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 0);
    // Buffered while the snapshot is in flight.
    c.text(
        &mut a,
        SPOT_WS,
        &spot_diff(150, 155, r#"[["0.0020","5"]]"#, "[]"),
        1,
    );
    c.text(
        &mut a,
        SPOT_WS,
        &spot_diff(156, 160, r#"[["0.0021","6"]]"#, "[]"),
        2,
    );
    c.text(
        &mut a,
        SPOT_WS,
        &spot_diff(161, 163, r#"[["0.0024","10"]]"#, "[]"),
        3,
    );
    assert!(!spot_book(&c).is_live());
    assert_eq!(http_gets(&c).len(), 1, "one request while one is in flight");
    c.http(
        &mut a,
        SPOT_DEPTH,
        &snapshot(160, r#"[["0.0023","1"]]"#, r#"[["0.0026","100"]]"#),
        4,
    );
    let book = spot_book(&c);
    assert!(book.is_live());
    // 150..155 and 156..160 are in the snapshot: 0.0020/0.0021 never appear.
    assert_eq!(
        levels(&book.bids),
        vec![
            Level::new(dec!(0.0024), dec!(10)),
            Level::new(dec!(0.0023), dec!(1))
        ]
    );
    assert_eq!(a.last_update_id(Market::Spot, "BNBBTC"), Some(163));
}

#[test]
fn spot_gap_resyncs_and_recovers_with_a_fresh_snapshot() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 0);
    c.http(
        &mut a,
        SPOT_DEPTH,
        &snapshot(100, r#"[["1.0","1"]]"#, r#"[["2.0","1"]]"#),
        1,
    );
    c.text(
        &mut a,
        SPOT_WS,
        &spot_diff(99, 102, r#"[["1.1","1"]]"#, "[]"),
        2,
    );
    c.text(
        &mut a,
        SPOT_WS,
        &spot_diff(103, 104, r#"[["1.2","1"]]"#, "[]"),
        3,
    );
    assert!(spot_book(&c).is_live());
    c.actions.clear();

    // 105 went missing.
    c.text(
        &mut a,
        SPOT_WS,
        &spot_diff(106, 107, r#"[["1.3","1"]]"#, "[]"),
        4,
    );
    assert_eq!(
        spot_book(&c).state(),
        &BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 105,
            got: 106
        })
    );
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    assert_eq!(http_gets(&c), vec![SPOT_DEPTH]);

    // Buffering restarted with 106..107; a fresh snapshot at 106 bridges it.
    c.text(
        &mut a,
        SPOT_WS,
        &spot_diff(108, 108, "[]", r#"[["1.9","2"]]"#),
        5,
    );
    c.http(
        &mut a,
        SPOT_DEPTH,
        &snapshot(106, r#"[["1.0","1"],["1.2","1"]]"#, r#"[["2.0","1"]]"#),
        6,
    );
    let book = spot_book(&c);
    assert!(book.is_live());
    assert_eq!(
        levels(&book.bids),
        vec![
            Level::new(dec!(1.3), dec!(1)),
            Level::new(dec!(1.2), dec!(1)),
            Level::new(dec!(1.0), dec!(1))
        ]
    );
    assert_eq!(
        levels(&book.asks),
        vec![
            Level::new(dec!(1.9), dec!(2)),
            Level::new(dec!(2.0), dec!(1))
        ]
    );
    assert_eq!(a.last_update_id(Market::Spot, "BNBBTC"), Some(108));
    assert_eq!(c.count(Incident::Gap), 1);
}

#[test]
fn futures_pu_break_resyncs_and_recovers() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, FUT_WS, 0);
    c.http(
        &mut a,
        FUT_DEPTH,
        &snapshot(200, r#"[["100.0","1"]]"#, r#"[["101.0","1"]]"#),
        1,
    );
    // The event ending exactly at lastUpdateId is the bridge under the USD-M rule.
    c.text(
        &mut a,
        FUT_WS,
        &fut_diff(190, 200, 180, r#"[["100.0","3"]]"#, "[]"),
        2,
    );
    c.text(
        &mut a,
        FUT_WS,
        &fut_diff(205, 210, 200, r#"[["100.5","1"]]"#, "[]"),
        3,
    );
    assert!(fut_book(&c).is_live());
    assert_eq!(
        fut_book(&c).best_bid(),
        Some(Level::new(dec!(100.5), dec!(1)))
    );
    c.actions.clear();

    c.text(
        &mut a,
        FUT_WS,
        &fut_diff(220, 230, 215, r#"[["100.6","1"]]"#, "[]"),
        4,
    );
    assert_eq!(
        fut_book(&c).state(),
        &BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 210,
            got: 215
        })
    );
    assert_eq!((c.count(Incident::Gap), c.count(Incident::Resync)), (1, 1));
    assert_eq!(http_gets(&c), vec![FUT_DEPTH]);

    c.http(
        &mut a,
        FUT_DEPTH,
        &snapshot(225, r#"[["100.0","3"]]"#, r#"[["101.0","1"]]"#),
        5,
    );
    c.text(
        &mut a,
        FUT_WS,
        &fut_diff(231, 235, 230, "[]", r#"[["100.9","4"]]"#),
        6,
    );
    let book = fut_book(&c);
    assert!(book.is_live());
    assert_eq!(book.best_bid(), Some(Level::new(dec!(100.6), dec!(1))));
    assert_eq!(book.best_ask(), Some(Level::new(dec!(100.9), dec!(4))));
    assert_eq!(a.last_update_id(Market::Futures, "BTCUSDT"), Some(235));
}

#[test]
fn spot_and_futures_differ_by_one_when_bridging() {
    // The same ids: an event ending at lastUpdateId is dropped on spot (it
    // is in the snapshot) but is the bridge on USD-M.
    let mut a = adapter();
    let mut c = Collector::default();
    c.http(
        &mut a,
        SPOT_DEPTH,
        &snapshot(50, r#"[["1.0","1"]]"#, "[]"),
        0,
    );
    c.text(
        &mut a,
        SPOT_WS,
        &spot_diff(45, 50, r#"[["1.0","9"]]"#, "[]"),
        1,
    );
    assert_eq!(
        spot_book(&c).best_bid(),
        Some(Level::new(dec!(1.0), dec!(1)))
    );
    assert_eq!(a.last_update_id(Market::Spot, "BNBBTC"), Some(50));
    c.text(&mut a, SPOT_WS, &spot_diff(51, 52, "[]", "[]"), 2);
    assert_eq!(a.last_update_id(Market::Spot, "BNBBTC"), Some(52));

    c.http(
        &mut a,
        FUT_DEPTH,
        &snapshot(50, r#"[["1.0","1"]]"#, "[]"),
        0,
    );
    c.text(
        &mut a,
        FUT_WS,
        &fut_diff(45, 50, 40, r#"[["1.0","9"]]"#, "[]"),
        1,
    );
    assert_eq!(
        fut_book(&c).best_bid(),
        Some(Level::new(dec!(1.0), dec!(9)))
    );
    // Spot's bridge shape (U = lastUpdateId + 1) does not bridge on USD-M
    // unless pu says it follows: the snapshot is fetched again (quietly:
    // nothing after it was applied, so nothing was lost).
    let mut b = adapter();
    let mut d = Collector::default();
    d.http(&mut b, FUT_DEPTH, &snapshot(50, "[]", "[]"), 0);
    d.text(&mut b, FUT_WS, &fut_diff(51, 52, 49, "[]", "[]"), 1);
    assert_eq!(fut_book(&d).state(), &BookState::Syncing);
    assert_eq!(http_gets(&d), vec![FUT_DEPTH]);
    assert_eq!(d.count(Incident::Gap), 0);
    assert_eq!(c.count(Incident::Gap), 0);
}

#[test]
fn stale_snapshot_is_requested_again_and_the_buffer_kept() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 0);
    c.text(
        &mut a,
        SPOT_WS,
        &spot_diff(300, 305, r#"[["1.5","1"]]"#, "[]"),
        1,
    );
    c.actions.clear();
    c.http(
        &mut a,
        SPOT_DEPTH,
        &snapshot(250, r#"[["1.0","1"]]"#, "[]"),
        2,
    );
    assert!(!spot_book(&c).is_live());
    assert_eq!(http_gets(&c), vec![SPOT_DEPTH]);
    c.http(
        &mut a,
        SPOT_DEPTH,
        &snapshot(302, r#"[["1.0","1"]]"#, "[]"),
        3,
    );
    assert_eq!(
        spot_book(&c).best_bid(),
        Some(Level::new(dec!(1.5), dec!(1)))
    );
}

#[test]
fn close_marks_the_books_of_that_connection_disconnected() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 0);
    c.open(&mut a, FUT_WS, 0);
    c.http(
        &mut a,
        SPOT_DEPTH,
        &snapshot(10, r#"[["1.0","1"]]"#, "[]"),
        1,
    );
    c.http(
        &mut a,
        FUT_DEPTH,
        &snapshot(10, r#"[["1.0","1"]]"#, "[]"),
        1,
    );
    c.close(&mut a, SPOT_WS, 2);
    assert_eq!(
        spot_book(&c).state(),
        &BookState::OutOfSync(OutOfSyncReason::Disconnected)
    );
    assert!(fut_book(&c).is_live());
    assert_eq!(a.last_update_id(Market::Spot, "BNBBTC"), None);
    // Reopening starts over with a new snapshot request.
    c.actions.clear();
    c.open(&mut a, SPOT_WS, 3);
    assert_eq!(http_gets(&c), vec![SPOT_DEPTH]);
}

#[test]
fn force_order_doc_example_is_one_long_liquidation() {
    let mut a = adapter();
    let mut c = Collector::default();
    let frame = r#"{"stream":"!forceOrder@arr","data":{"e":"forceOrder","E":1568014460893,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC","q":"0.014","p":"9910","ap":"9910","X":"FILLED","l":"0.014","z":"0.014","T":1568014460893}}}"#;
    c.text(&mut a, FUT_MARKET_WS, frame, 7);
    assert_eq!(c.liquidations.len(), 1);
    let l = &c.liquidations[0];
    assert_eq!(l.instrument.to_string(), "BTC-USDT-PERP");
    assert_eq!(l.side, LiquidatedSide::Long);
    assert_eq!((l.price, l.size), (dec!(9910), dec!(0.014)));
    assert_eq!(l.exchange_ts, Some(1_568_014_460_893_000));
    assert_eq!(l.received, 7);
}

#[test]
fn force_order_falls_back_to_order_qty_and_price() {
    let mut a = adapter();
    let mut c = Collector::default();
    // Not yet filled: z and ap are zero; a raw (non-combined) frame.
    let frame = r#"{"e":"forceOrder","E":1672515782135,"o":{"s":"ETHUSDT","S":"BUY","o":"LIMIT","f":"IOC","q":"2.5","p":"1800.5","ap":"0","X":"NEW","l":"0","z":"0","T":1672515782136}}"#;
    c.text(&mut a, FUT_MARKET_WS, frame, 0);
    let l = &c.liquidations[0];
    assert_eq!(l.side, LiquidatedSide::Short);
    assert_eq!((l.price, l.size), (dec!(1800.5), dec!(2.5)));
    assert_eq!(l.exchange_ts, Some(1_672_515_782_136_000));
}

#[test]
fn agg_trade_taker_side_comes_from_buyer_is_maker() {
    let mut a = adapter();
    let mut c = Collector::default();
    let t = |m: bool| {
        format!(
            r#"{{"stream":"bnbbtc@aggTrade","data":{{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":{m}}}}}"#
        )
    };
    c.text(&mut a, SPOT_WS, &t(true), 0);
    c.text(&mut a, SPOT_WS, &t(false), 0);
    let raw = r#"{"e":"trade","E":1672515782137,"s":"BNBBTC","t":12345,"p":"0.002","q":"5","T":1672515782137,"m":true}"#;
    c.text(
        &mut a,
        "wss://stream.binance.com:9443/ws/bnbbtc@trade",
        raw,
        0,
    );
    let sides: Vec<TakerSide> = c.trades.iter().map(|t| t.side).collect();
    assert_eq!(
        sides,
        vec![TakerSide::Sell, TakerSide::Buy, TakerSide::Sell]
    );
    assert_eq!(c.trades[0].instrument.to_string(), "BNB-BTC");
    assert_eq!(
        (c.trades[0].price, c.trades[0].size),
        (dec!(0.001), dec!(100))
    );
    assert_eq!(c.trades[0].exchange_ts, Some(1_672_515_782_136_000));
    // The same symbol on a futures connection is the perpetual.
    c.text(
        &mut a,
        FUT_MARKET_WS,
        &t(true).replace("BNBBTC", "BTCUSDT"),
        0,
    );
    assert_eq!(c.trades[3].instrument.to_string(), "BTC-USDT-PERP");
}

#[test]
fn mark_price_is_funding() {
    let mut a = adapter();
    let mut c = Collector::default();
    let frame = r#"{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","ap":"11794.15000000","P":"11784.62659091","i":"11784.25641265","r":"0.00038167","T":1562306400000}}"#;
    c.text(&mut a, FUT_MARKET_WS, frame, 0);
    let f = &c.funding[0];
    assert_eq!(f.instrument.to_string(), "BTC-USDT-PERP");
    assert_eq!(f.update.funding_rate, Some(dec!(0.00038167)));
    assert_eq!(f.update.next_funding, Some(1_562_306_400_000_000));
    assert_eq!(f.update.mark_price, Some(dec!(11794.15)));
    assert_eq!(f.update.index_price, Some(dec!(11784.25641265)));
    assert_eq!(f.exchange_ts, Some(1_562_305_380_000_000));
}

/// USD-M's mark price stream has no open interest: REST `openInterest`
/// (base asset) is asked for once a minute, as for COIN-M. The body is the
/// example of "Open Interest" in Binance's USD-M market data docs.
#[test]
fn usd_m_open_interest_is_polled_and_in_base() {
    const OI: &str = "https://fapi.binance.com/fapi/v1/openInterest?symbol=BTCUSDT";
    let cfg = AdapterConfig {
        instruments: vec!["BTC-USDT-PERP".parse().unwrap()],
        ..Default::default()
    };
    let mut a = Binance::new(cfg);
    let mut c = Collector::default();
    let frame = r#"{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","ap":"11794.15000000","P":"11784.62659091","i":"11784.25641265","r":"0.00038167","T":1562306400000}}"#;
    c.text(&mut a, FUT_MARKET_WS, frame, 1_000_000);
    assert_eq!(http_gets(&c), vec![OI]);
    c.text(&mut a, FUT_MARKET_WS, frame, 30_000_000);
    assert_eq!(
        http_gets(&c),
        vec![OI],
        "once a minute, not once a mark price"
    );
    c.http(
        &mut a,
        OI,
        r#"{"openInterest":"10659.509","symbol":"BTCUSDT","time":1589437530011}"#,
        31_000_000,
    );
    let f = c.funding.last().unwrap();
    assert_eq!(f.instrument.to_string(), "BTC-USDT-PERP");
    assert_eq!(f.update.open_interest, Some(dec!(10659.509)));
    assert_eq!(f.update.open_interest_usd, None);
    assert_eq!(f.exchange_ts, Some(1_589_437_530_011_000));
}

#[test]
fn control_frames_are_silent_and_unused_streams_counted() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.text(&mut a, SPOT_WS, r#"{"result":null,"id":1}"#, 0);
    assert!(c.incidents.is_empty(), "a subscription ack is expected");
    let ticker = r#"{"stream":"bnbbtc@bookTicker","data":{"u":400900217,"s":"BNBBTC","b":"0.0024","B":"31.21","a":"0.0026","A":"40.66"}}"#;
    c.text(&mut a, SPOT_WS, ticker, 0);
    assert_eq!(c.count(Incident::UnknownMessage), 1);
    assert_eq!(c.count(Incident::ParseError), 0);

    let mut c = Collector::default();
    c.text(&mut a, SPOT_WS, r#"{"e":"serverShutdown","E":1}"#, 0);
    assert!(matches!(&c.actions[..], [Action::Reconnect { url, .. }] if url == SPOT_WS));
    assert!(c.incidents.is_empty());
}

#[test]
fn malformed_frames_are_parse_errors_not_panics() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 0);
    let bad = [
        "",
        "not json",
        r#"{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate""#,
        r#"{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BNBBTC","U":"x","u":2,"b":[],"a":[]}}"#,
        r#"{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1e","1"]],"a":[]}}"#,
        r#"{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1"]],"a":[]}}"#,
        r#"{"stream":"bnbbtc@aggTrade","data":{"e":"aggTrade","s":"BNBBTC","p":"abc","q":"1","m":true}}"#,
        r#"{"stream":"bnbbtc@aggTrade","data":[1,2]}"#,
        r#"{"stream":"!forceOrder@arr","data":{"e":"forceOrder","o":{"s":"BTCUSDT"}}}"#,
        r#"[1,2,3]"#,
    ];
    for (i, frame) in bad.iter().enumerate() {
        c.text(&mut a, SPOT_WS, frame, i as Micros);
    }
    let mut out = Output::default();
    a.on_binary(SPOT_WS, &[0x1f, 0x8b], 0, &mut out);
    c.absorb(&mut out);
    assert_eq!(c.count(Incident::ParseError), bad.len() as u64 + 1);
    assert!(c.trades.is_empty() && c.liquidations.is_empty());
    // Futures diffs must carry `pu`.
    c.text(
        &mut a,
        FUT_WS,
        &spot_diff(1, 2, "[]", "[]").replace("BNBBTC", "BTCUSDT"),
        0,
    );
    assert_eq!(c.count(Incident::ParseError), bad.len() as u64 + 2);
}

#[test]
fn rest_error_bodies_are_counted_not_fatal() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 0);
    c.http(
        &mut a,
        SPOT_DEPTH,
        r#"{"code":-1121,"msg":"Invalid symbol."}"#,
        1,
    );
    assert_eq!(c.count(Incident::UnknownMessage), 1);
    assert!(matches!(
        spot_book(&c).state(),
        BookState::OutOfSync(OutOfSyncReason::Venue(why)) if why.contains("-1121")
    ));
    c.http(&mut a, SPOT_DEPTH, "<html>502 Bad Gateway</html>", 2);
    assert_eq!(c.count(Incident::ParseError), 1);
    // A later good snapshot still syncs the book.
    c.http(&mut a, SPOT_DEPTH, &snapshot(5, r#"[["1","1"]]"#, "[]"), 3);
    assert!(spot_book(&c).is_live());
}

#[test]
fn exchange_info_lists_instruments_and_maps_symbols() {
    let mut a = adapter();
    let spot = r#"{"timezone":"UTC","symbols":[
        {"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[
            {"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"1000000","tickSize":"0.01000000"},
            {"filterType":"LOT_SIZE","minQty":"0.00001","maxQty":"9000","stepSize":"0.00001000"}]},
        {"symbol":"OLDBTC","status":"BREAK","baseAsset":"OLD","quoteAsset":"BTC","filters":[]}]}"#;
    let futures = r#"{"symbols":[
        {"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[
            {"minPrice":"556.72","filterType":"PRICE_FILTER","tickSize":"0.10"},{"stepSize":"0.001","filterType":"LOT_SIZE"}]},
        {"symbol":"BTCUSDT_260925","contractType":"CURRENT_QUARTER","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[]},
        {"symbol":"1000PEPEUSDT","contractType":"PERPETUAL","status":"TRADING","baseAsset":"1000PEPE","quoteAsset":"USDT","filters":[]}]}"#;
    let mut out = Output::default();
    a.on_http(
        "https://api.binance.com/api/v3/exchangeInfo",
        spot,
        0,
        &mut out,
    );
    a.on_http(
        "https://fapi.binance.com/fapi/v1/exchangeInfo",
        futures,
        0,
        &mut out,
    );
    let lists: Vec<&Vec<InstrumentInfo>> = out
        .events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Instruments { list, .. } => Some(list),
            _ => None,
        })
        .collect();
    assert_eq!(lists.len(), 2);
    let all = lists[1];
    let names: Vec<String> = all.iter().map(|i| i.instrument.to_string()).collect();
    assert_eq!(
        names,
        vec!["BTC-USDT", "BTC-USDT-PERP", "1000PEPE-USDT-PERP"]
    );
    assert_eq!(all[0].tick_size, Some(dec!(0.01)));
    assert_eq!(all[0].lot_size, Some(dec!(0.00001)));
    assert_eq!(all[1].tick_size, Some(dec!(0.1)));
    assert_eq!(all[1].native, "BTCUSDT");
}

#[test]
fn start_fetches_the_instrument_lists_it_needs() {
    let cfg = AdapterConfig {
        instruments: vec!["SUSHI-USDT-PERP".parse().unwrap()],
        ..Default::default()
    };
    let mut a = Binance::new(cfg);
    let mut out = Output::default();
    a.start(0, &mut out);
    let lists: Vec<_> = out
        .actions
        .iter()
        .filter(|x| matches!(x, Action::HttpGet { .. }))
        .collect();
    assert_eq!(
        lists,
        vec![&Action::HttpGet {
            url: "https://fapi.binance.com/fapi/v1/exchangeInfo".into()
        }]
    );
    assert_eq!(a.connections().len(), 2);
}

#[test]
fn snapshot_answered_before_the_first_diff_is_no_gap() {
    // Spot: the snapshot asked for at connect time arrives before any diff,
    // and the first diff starts after lastUpdateId + 1. Binance's procedure
    // says the snapshot is too old: fetch again, quietly.
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 0);
    c.http(
        &mut a,
        SPOT_DEPTH,
        &snapshot(100, r#"[["1.0","1"]]"#, "[]"),
        1,
    );
    c.actions.clear();
    c.text(
        &mut a,
        SPOT_WS,
        &spot_diff(110, 112, r#"[["1.1","1"]]"#, "[]"),
        2,
    );
    assert_eq!(spot_book(&c).state(), &BookState::Syncing);
    assert_eq!((c.count(Incident::Gap), c.count(Incident::Resync)), (0, 0));
    assert_eq!(http_gets(&c), vec![SPOT_DEPTH]);
    c.http(
        &mut a,
        SPOT_DEPTH,
        &snapshot(111, r#"[["1.0","1"]]"#, "[]"),
        3,
    );
    assert!(spot_book(&c).is_live());
    assert_eq!(
        spot_book(&c).best_bid(),
        Some(Level::new(dec!(1.1), dec!(1)))
    );
    assert_eq!((c.count(Incident::Gap), c.count(Incident::Resync)), (0, 0));

    // USD-M: the first event after a boundary snapshot has U > lastUpdateId
    // but pu == lastUpdateId: it follows directly (the demo's false gaps).
    let mut a = adapter();
    let mut d = Collector::default();
    d.open(&mut a, FUT_WS, 0);
    d.http(
        &mut a,
        FUT_DEPTH,
        &snapshot(200, r#"[["5.0","1"]]"#, "[]"),
        1,
    );
    d.text(
        &mut a,
        FUT_WS,
        &fut_diff(201, 203, 200, r#"[["5.5","2"]]"#, "[]"),
        2,
    );
    assert!(fut_book(&d).is_live());
    assert_eq!(
        fut_book(&d).best_bid(),
        Some(Level::new(dec!(5.5), dec!(2)))
    );
    assert_eq!((d.count(Incident::Gap), d.count(Incident::Resync)), (0, 0));
}

#[test]
fn an_event_of_another_type_on_a_stream_is_unknown_not_unparsable() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, SPOT_WS, 0);
    c.text(
        &mut a,
        SPOT_WS,
        r#"{"stream":"bnbbtc@depth@100ms","data":{"e":"newEventType","E":1672515782136}}"#,
        1,
    );
    assert_eq!(c.count(Incident::UnknownMessage), 1);
    assert_eq!(c.count(Incident::ParseError), 0);
    // A depth event that is broken stays a parse error.
    c.text(
        &mut a,
        SPOT_WS,
        r#"{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1}}"#,
        2,
    );
    assert_eq!(c.count(Incident::ParseError), 1);
}
