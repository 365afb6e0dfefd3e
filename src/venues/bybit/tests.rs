//! Bybit adapter fixtures, shaped after the v5 documentation examples.

use rust_decimal_macros::dec;

use super::*;
use crate::model::{BookState, Incident, OutOfSyncReason};
use crate::venues::Action;
use crate::venues::testkit::Collector;

const LINEAR: &str = "wss://stream.bybit.com/v5/public/linear";
const SPOT: &str = "wss://stream.bybit.com/v5/public/spot";

fn adapter(instruments: &[&str]) -> Bybit {
    Bybit::new(AdapterConfig {
        instruments: instruments.iter().map(|s| s.parse().unwrap()).collect(),
        ..AdapterConfig::default()
    })
}

fn book(kind: &str, u: u64, bids: &str, asks: &str) -> String {
    format!(
        r#"{{"topic":"orderbook.200.BTCUSDT","type":"{kind}","ts":1672304484978,"data":{{"s":"BTCUSDT","b":{bids},"a":{asks},"u":{u},"seq":7961638724}},"cts":1672304484976}}"#
    )
}

fn snapshot_then(c: &mut Collector, a: &mut Bybit) {
    c.text(
        a,
        LINEAR,
        &book(
            "snapshot",
            18521288,
            r#"[["16493.50","0.006"],["16493.00","0.100"]]"#,
            r#"[["16611.00","0.029"],["16612.00","0.213"]]"#,
        ),
        1,
    );
}

#[test]
fn subscribes_on_open_in_chunks_of_ten() {
    let mut a = adapter(&[
        "BTC-USDT-PERP",
        "ETH-USDT-PERP",
        "SOL-USDT-PERP",
        "BTC-USDC-PERP",
        "BTC-USDT",
    ]);
    let conns = a.connections();
    assert_eq!(conns.len(), 2);
    assert!(conns.iter().all(|c| c.ping.is_some()));
    let mut out = Output::default();
    a.on_open(LINEAR, 0, &mut out);
    // 4 perps × 4 topics = 16 args → 2 requests.
    assert_eq!(out.actions.len(), 2);
    let Action::Send { text, .. } = &out.actions[0] else {
        panic!("expected a send");
    };
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["op"], "subscribe");
    assert_eq!(v["args"].as_array().unwrap().len(), 10);
    assert_eq!(v["args"][0], "orderbook.200.BTCUSDT");
    let all: Vec<String> = out
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert!(all.iter().any(|t| t.contains("allLiquidation.BTCPERP")));
    out.clear();
    a.on_open(SPOT, 0, &mut out);
    assert_eq!(out.actions.len(), 1);
}

#[test]
fn many_symbols_spread_over_connections() {
    let syms: Vec<String> = (0..400).map(|i| format!("C{i}-USDT-PERP")).collect();
    let refs: Vec<&str> = syms.iter().map(String::as_str).collect();
    let a = adapter(&refs);
    let conns = a.connections();
    assert!(conns.len() >= 2, "{conns:?}");
    for c in &a.plan {
        let chars: usize = c.topics.iter().map(|t| t.len() + 3).sum::<usize>() + 2;
        assert!(chars <= MAX_ARGS_CHARS_PER_CONN);
    }
    assert_eq!(conns[1].url, format!("{LINEAR}?conn=2"));
}

#[test]
fn snapshot_then_deltas_build_the_book() {
    let mut a = adapter(&[]);
    let mut c = Collector::default();
    snapshot_then(&mut c, &mut a);
    c.text(
        &mut a,
        LINEAR,
        &book(
            "delta",
            18521289,
            r#"[["16493.50","0"],["16492.00","1.5"]]"#,
            r#"[["16611.00","0.5"]]"#,
        ),
        2,
    );
    let b = c.book(VENUE, "BTC-USDT-PERP").unwrap();
    assert!(b.is_live());
    assert_eq!(b.best_bid().unwrap().price, dec!(16493.00));
    assert_eq!(b.bids.len(), 2);
    assert_eq!(b.best_ask().unwrap().size, dec!(0.5));
    assert_eq!(c.count(Incident::Gap), 0);
}

#[test]
fn u_gap_marks_out_of_sync_and_reconnects() {
    let mut a = adapter(&["BTC-USDT-PERP"]);
    let mut c = Collector::default();
    snapshot_then(&mut c, &mut a);
    c.text(
        &mut a,
        LINEAR,
        &book("delta", 18521291, r#"[["16493.00","0.2"]]"#, "[]"),
        2,
    );
    let b = c.book(VENUE, "BTC-USDT-PERP").unwrap();
    assert_eq!(
        b.state(),
        &BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 18521289,
            got: 18521291
        })
    );
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    assert!(matches!(
        c.actions.as_slice(),
        [Action::Reconnect { url, .. }] if url == LINEAR
    ));
    // Further deltas wait silently for the snapshot the reconnect brings.
    c.text(
        &mut a,
        LINEAR,
        &book("delta", 18521292, r#"[["16493.00","0.3"]]"#, "[]"),
        3,
    );
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.actions.len(), 1);
    snapshot_then(&mut c, &mut a);
    assert!(c.book(VENUE, "BTC-USDT-PERP").unwrap().is_live());
}

#[test]
fn u_equal_one_is_a_reset() {
    let mut a = adapter(&[]);
    let mut c = Collector::default();
    snapshot_then(&mut c, &mut a);
    c.text(
        &mut a,
        LINEAR,
        &book("delta", 1, r#"[["16000.00","1"]]"#, r#"[["16001.00","2"]]"#),
        2,
    );
    let b = c.book(VENUE, "BTC-USDT-PERP").unwrap();
    assert!(b.is_live());
    assert_eq!(b.bids.len(), 1);
    assert_eq!(b.asks.len(), 1);
    assert_eq!(b.best_bid().unwrap().price, dec!(16000.00));
    assert_eq!(c.count(Incident::Gap), 0);
    // And the sequence continues from 1.
    c.text(
        &mut a,
        LINEAR,
        &book("delta", 2, r#"[["15999.00","1"]]"#, "[]"),
        3,
    );
    assert_eq!(c.book(VENUE, "BTC-USDT-PERP").unwrap().bids.len(), 2);
    assert_eq!(c.count(Incident::Gap), 0);
}

#[test]
fn mid_stream_snapshot_resets_the_book() {
    let mut a = adapter(&[]);
    let mut c = Collector::default();
    snapshot_then(&mut c, &mut a);
    c.text(
        &mut a,
        LINEAR,
        &book(
            "snapshot",
            18600000,
            r#"[["16400.00","3"]]"#,
            r#"[["16401.00","4"]]"#,
        ),
        2,
    );
    let b = c.book(VENUE, "BTC-USDT-PERP").unwrap();
    assert_eq!(b.bids.len(), 1);
    assert_eq!(b.best_ask().unwrap().price, dec!(16401.00));
    assert_eq!(c.count(Incident::Gap), 0);
    c.text(
        &mut a,
        LINEAR,
        &book("delta", 18600001, r#"[["16399.00","1"]]"#, "[]"),
        3,
    );
    assert_eq!(c.book(VENUE, "BTC-USDT-PERP").unwrap().bids.len(), 2);
}

#[test]
fn spot_and_linear_books_are_distinct() {
    let mut a = adapter(&[]);
    let mut c = Collector::default();
    snapshot_then(&mut c, &mut a);
    c.text(
        &mut a,
        SPOT,
        &book(
            "snapshot",
            5,
            r#"[["16490.00","1"]]"#,
            r#"[["16491.00","1"]]"#,
        ),
        2,
    );
    assert!(c.book(VENUE, "BTC-USDT").unwrap().is_live());
    assert!(c.book(VENUE, "BTC-USDT-PERP").unwrap().is_live());
}

#[test]
fn all_liquidation_doc_message() {
    let mut a = adapter(&[]);
    let mut c = Collector::default();
    c.text(
        &mut a,
        LINEAR,
        r#"{"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1739502303204,"data":[{"T":1739502302929,"s":"ROSEUSDT","S":"Sell","v":"20000","p":"0.04499"}]}"#,
        1,
    );
    c.text(
        &mut a,
        LINEAR,
        r#"{"topic":"allLiquidation.BTCUSDT","type":"snapshot","ts":1739502303204,"data":[{"T":1739502302929,"s":"BTCUSDT","S":"Buy","v":"0.5","p":"95000.1"}]}"#,
        2,
    );
    assert_eq!(c.liquidations.len(), 2);
    let l = &c.liquidations[0];
    assert_eq!(l.instrument.to_string(), "ROSE-USDT-PERP");
    assert_eq!(l.side, LiquidatedSide::Short);
    assert_eq!(l.size, dec!(20000));
    assert_eq!(l.price, dec!(0.04499));
    assert_eq!(l.exchange_ts, Some(1739502302929000));
    assert_eq!(c.liquidations[1].side, LiquidatedSide::Long);
}

#[test]
fn public_trade_doc_message() {
    let mut a = adapter(&[]);
    let mut c = Collector::default();
    c.text(
        &mut a,
        SPOT,
        r#"{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false,"seq":1783284617}]}"#,
        1,
    );
    assert_eq!(c.trades.len(), 1);
    let t = &c.trades[0];
    assert_eq!(t.instrument.to_string(), "BTC-USDT");
    assert_eq!(t.side, TakerSide::Buy);
    assert_eq!(t.price, dec!(16578.50));
}

#[test]
fn ticker_snapshot_and_partial_delta() {
    let mut a = adapter(&[]);
    let mut c = Collector::default();
    c.text(
        &mut a,
        LINEAR,
        r#"{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","markPrice":"17216.00","indexPrice":"17227.36","openInterest":"68744.761","nextFundingTime":"1673280000000","fundingRate":"-0.000212","bid1Price":"17215.50","preOpenPrice":""},"cs":24987956059,"ts":1673272861686}"#,
        1,
    );
    c.text(
        &mut a,
        LINEAR,
        r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"17215.50"},"cs":1,"ts":1673272861786}"#,
        2,
    );
    c.text(
        &mut a,
        LINEAR,
        r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"17217.00"},"cs":2,"ts":1673272861886}"#,
        3,
    );
    assert_eq!(c.funding.len(), 2);
    let f = &c.funding[0].update;
    assert_eq!(f.funding_rate, Some(dec!(-0.000212)));
    assert_eq!(f.next_funding, Some(1673280000000000));
    assert_eq!(f.open_interest, Some(dec!(68744.761)));
    assert_eq!(f.index_price, Some(dec!(17227.36)));
    let f = &c.funding[1].update;
    assert_eq!(f.mark_price, Some(dec!(17217.00)));
    assert_eq!(f.funding_rate, None);
}

#[test]
fn acks_and_pongs_are_silent_and_junk_is_a_parse_error() {
    let mut a = adapter(&[]);
    let mut c = Collector::default();
    c.text(
        &mut a,
        LINEAR,
        r#"{"success":true,"ret_msg":"","conn_id":"x","req_id":"1","op":"subscribe"}"#,
        1,
    );
    c.text(
        &mut a,
        LINEAR,
        r#"{"success":true,"ret_msg":"pong","conn_id":"x","req_id":"ping","op":"ping"}"#,
        2,
    );
    assert!(c.incidents.is_empty());
    c.text(&mut a, LINEAR, r#"{"topic":"orderbook.200.BTC"#, 3);
    c.text(&mut a, LINEAR, "[1,2", 4);
    c.text(
        &mut a,
        LINEAR,
        r#"{"topic":"orderbook.200.BTCUSDT","type":"delta","data":{"s":"BTCUSDT","b":[["x","1"]],"a":[],"u":2}}"#,
        5,
    );
    assert_eq!(c.count(Incident::ParseError), 3);
    c.text(
        &mut a,
        LINEAR,
        r#"{"topic":"kline.1.BTCUSDT","type":"snapshot","data":[],"ts":1}"#,
        6,
    );
    assert_eq!(c.count(Incident::UnknownMessage), 1);
}

#[test]
fn instrument_list_maps_symbols_and_paginates() {
    let mut a = adapter(&[]);
    let mut out = Output::default();
    let url = "https://api.bybit.com/v5/market/instruments-info?category=linear&limit=1000";
    a.on_http(
        url,
        r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"1000PEPEPERP","contractType":"LinearPerpetual","status":"Trading","baseCoin":"1000PEPE","quoteCoin":"USDC","priceFilter":{"tickSize":"0.0000001"},"lotSizeFilter":{"qtyStep":"100"}},{"symbol":"BTCUSDT-26DEC25","contractType":"LinearFutures","status":"Trading","baseCoin":"BTC","quoteCoin":"USDT"}],"nextPageCursor":"first%3D1"}}"#,
        1,
        &mut out,
    );
    assert!(out.events.is_empty());
    assert!(matches!(
        out.actions.as_slice(),
        [Action::HttpGet { url }] if url.ends_with("&cursor=first%253D1")
    ));
    out.clear();
    a.on_http(
        url,
        r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT","contractType":"LinearPerpetual","status":"Trading","baseCoin":"BTC","quoteCoin":"USDT","priceFilter":{"tickSize":"0.10"},"lotSizeFilter":{"qtyStep":"0.001"}}],"nextPageCursor":""}}"#,
        2,
        &mut out,
    );
    let [MarketEvent::Instruments { list, .. }] = out.events.as_slice() else {
        panic!("{:?}", out.events);
    };
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].instrument.to_string(), "1000PEPE-USDC-PERP");
    assert_eq!(list[1].tick_size, Some(dec!(0.10)));
    assert_eq!(list[1].lot_size, Some(dec!(0.001)));
    assert_eq!(
        a.resolve(Market::Linear, "1000PEPEPERP")
            .map(|i| i.to_string()),
        Some("1000PEPE-USDC-PERP".to_string())
    );
}

#[test]
fn close_marks_that_connections_books() {
    let mut a = adapter(&[]);
    let mut c = Collector::default();
    snapshot_then(&mut c, &mut a);
    c.text(
        &mut a,
        SPOT,
        &book(
            "snapshot",
            5,
            r#"[["16490.00","1"]]"#,
            r#"[["16491.00","1"]]"#,
        ),
        2,
    );
    c.close(&mut a, LINEAR, 3);
    assert!(!c.book(VENUE, "BTC-USDT-PERP").unwrap().is_live());
    assert!(c.book(VENUE, "BTC-USDT").unwrap().is_live());
}

/// The history backfill asks for each perpetual's open interest and
/// funding (paced) and turns the documented answers into history events.
#[test]
fn backfill_reads_the_documented_history_answers() {
    let mut a = adapter(&["BTC-USDT", "ETH-USDT-PERP"]);
    let mut out = Output::default();
    a.start(0, &mut out);
    let paced: Vec<&str> = out
        .actions
        .iter()
        .filter_map(|x| match x {
            Action::HttpGetPaced { url, .. } => Some(url.as_str()),
            _ => None,
        })
        .collect();
    let (klines, paced): (Vec<&str>, Vec<&str>) = paced
        .into_iter()
        .partition(|u| u.contains("/v5/market/kline"));
    assert_eq!(
        klines.len(),
        12,
        "both instruments, six intervals: {klines:?}"
    );
    assert_eq!(
        &klines[..2],
        [
            "https://api.bybit.com/v5/market/kline?category=spot&symbol=BTCUSDT&interval=1&limit=480",
            "https://api.bybit.com/v5/market/kline?category=linear&symbol=ETHUSDT&interval=1&limit=480",
        ]
    );
    // The documented answer (Get Kline): newest first, texts.
    let body = r#"{"retCode":0,"retMsg":"OK","result":{"symbol":"ETHUSDT","category":"linear","list":[["1670608800000","1271","1273","1267","1270.5","2686","3411.46"],["1670605200000","1271.5","1271.5","1261","1271","417","529.92"]]},"retExtInfo":{},"time":1672025956592}"#;
    let hourly = klines
        .iter()
        .find(|u| u.contains("linear") && u.contains("interval=60"))
        .unwrap();
    let mut k_out = Output::default();
    a.on_http(hourly, body, 0, &mut k_out);
    let [
        MarketEvent::Klines {
            instrument,
            timeframe,
            open_rule,
            klines,
            ..
        },
    ] = k_out.events.as_slice()
    else {
        panic!("{:?}", k_out.events);
    };
    assert_eq!(instrument.to_string(), "ETH-USDT-PERP");
    assert_eq!(*timeframe, crate::model::Timeframe::H1);
    assert_eq!(*open_rule, crate::model::CandleOpen::PreviousClose);
    let starts: Vec<i64> = klines.iter().map(|k| k.start).collect();
    assert_eq!(
        starts,
        [1_670_605_200_000_000, 1_670_608_800_000_000],
        "oldest first"
    );
    assert_eq!(klines[1].close.to_string(), "1270.5");
    assert_eq!(
        klines[1].turnover.map(|t| t.to_string()),
        Some("3411.46".to_string())
    );
    assert_eq!(paced.len(), 2, "spot has no history: {paced:?}");
    assert!(
        paced[0]
            .contains("/v5/market/open-interest?category=linear&symbol=ETHUSDT&intervalTime=5min")
    );
    assert!(paced[1].contains("/v5/market/funding/history?category=linear&symbol=ETHUSDT"));
    let (oi_url, funding_url) = (paced[0].to_string(), paced[1].to_string());

    // From the v5 docs (Get Open Interest, Get Funding Rate History).
    let oi = r#"{"retCode":0,"retMsg":"OK","result":{"symbol":"ETHUSDT","category":"linear","list":[{"openInterest":"461134384.00000000","timestamp":"1669571400000"},{"openInterest":"461134292.00000000","timestamp":"1669571100000"}],"nextPageCursor":""},"retExtInfo":{},"time":1672053548579}"#;
    let funding = r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"ETHUSDT","fundingRate":"0.0001","fundingRateTimestamp":"1672041600000"},{"symbol":"ETHUSDT","fundingRate":"-0.00005","fundingRateTimestamp":"1672012800000"}]},"retExtInfo":{},"time":1672051897447}"#;
    let mut out = Output::default();
    a.on_http(&oi_url, oi, 0, &mut out);
    a.on_http(&funding_url, funding, 0, &mut out);
    let perp: Instrument = "ETH-USDT-PERP".parse().unwrap();
    assert_eq!(
        out.events,
        vec![
            MarketEvent::History {
                venue: VENUE,
                instrument: perp,
                kind: HistoryKind::OpenInterest,
                points: vec![
                    (1_669_571_100_000_000, dec!(461134292.00000000)),
                    (1_669_571_400_000_000, dec!(461134384.00000000)),
                ],
            },
            MarketEvent::History {
                venue: VENUE,
                instrument: perp,
                kind: HistoryKind::FundingRate,
                points: vec![
                    (1_672_012_800_000_000, dec!(-0.00005)),
                    (1_672_041_600_000_000, dec!(0.0001)),
                ],
            },
        ]
    );

    // An error answer and a malformed body are counted, never panics.
    let mut out = Output::default();
    a.on_http(
        &oi_url,
        r#"{"retCode":10001,"retMsg":"params error"}"#,
        0,
        &mut out,
    );
    a.on_http(&funding_url, "{\"retCode\":0,\"result\":{\"list\":[{\"fundingRate\":\"x\",\"fundingRateTimestamp\":\"1\"}]}}", 0, &mut out);
    a.on_http(&funding_url, "[", 0, &mut out);
    let errors = out
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                MarketEvent::Incident {
                    incident: Incident::ParseError,
                    ..
                }
            )
        })
        .count();
    assert_eq!(errors, 3, "{:?}", out.events);
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, MarketEvent::History { .. }))
    );
}
