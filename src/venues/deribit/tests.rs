use super::*;
use crate::model::{BookState, Incident};
use crate::venues::Action;
use crate::venues::testkit::{Collector, top_strings};
use rust_decimal_macros::dec;

const WS: &str = "wss://www.deribit.com/ws/api/v2";

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/deribit/", $name))
    };
}

fn inst(s: &str) -> Instrument {
    s.parse().unwrap()
}

fn opened(instruments: &[&str]) -> (Deribit, Collector) {
    let mut a = Deribit::new(AdapterConfig {
        instruments: instruments.iter().map(|s| inst(s)).collect(),
        ..AdapterConfig::default()
    });
    let mut c = Collector::default();
    c.open(&mut a, WS, 1);
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

fn strings(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

#[test]
fn symbols_map_both_ways() {
    for (native, ours) in [
        ("BTC-PERPETUAL", "BTC-USD-PERP"),
        ("ETH-PERPETUAL", "ETH-USD-PERP"),
        ("BTC_USDC-PERPETUAL", "BTC-USDC-PERP"),
    ] {
        assert_eq!(parse_native(native), Some(inst(ours)));
        assert_eq!(native_symbol(&inst(ours)), native);
    }
    for other in [
        "BTC-27DEC24",
        "BTC-27DEC24-100000-C",
        "BTC_USDC",
        "BTC-FS-27DEC24_PERP",
    ] {
        assert_eq!(parse_native(other), None, "{other}");
    }
    assert!(carries(&inst("BTC-USD-PERP")).is_ok());
    assert!(carries(&inst("BTC-USDC-PERP")).is_ok());
    assert!(carries(&inst("BTC-USDT-PERP")).is_err());
    assert!(carries(&inst("BTC-USD")).is_err());
}

#[test]
fn open_sets_the_heartbeat_and_subscribes_100ms_channels() {
    let (_a, c) = opened(&["BTC-USD-PERP", "BTC-USDC-PERP"]);
    let s = sends(&c);
    assert!(
        s[0].contains(r#""method":"public/set_heartbeat""#),
        "{}",
        s[0]
    );
    assert!(s[0].contains(r#""interval":30"#));
    let sub = &s[1];
    for ch in [
        "book.BTC-PERPETUAL.100ms",
        "trades.BTC-PERPETUAL.100ms",
        "ticker.BTC-PERPETUAL.100ms",
        "book.BTC_USDC-PERPETUAL.100ms",
    ] {
        assert!(sub.contains(ch), "{sub}");
    }
    assert!(sub.contains(r#""method":"public/subscribe""#));
}

#[test]
fn inverse_snapshot_and_change_in_base_sizes() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    c.text(&mut a, WS, fixture!("subscribe_result.json"), 2);
    c.text(&mut a, WS, fixture!("snapshot.json"), 3);
    let b = c.book(VENUE, "BTC-USD-PERP").unwrap();
    assert!(b.is_live());
    // 130 000 USD at 64 999.5: amount / price.
    assert_eq!(b.best_bid().unwrap().size, dec!(130000) / dec!(64999.5));
    assert_eq!(b.best_ask().unwrap().size, dec!(40000) / dec!(65000));
    c.text(&mut a, WS, fixture!("change.json"), 4);
    let b = c.book(VENUE, "BTC-USD-PERP").unwrap();
    assert!(b.is_live());
    assert_eq!(
        top_strings(&b.bids, 5),
        strings(&[
            (
                "64999.5",
                &(dec!(65000) / dec!(64999.5)).normalize().to_string()
            ),
            (
                "64998",
                &(dec!(65000) / dec!(64998)).normalize().to_string()
            )
        ])
    );
    assert_eq!(
        top_strings(&b.asks, 5),
        strings(&[
            ("65000", "0.7692307692307692307692307692"),
            (
                "65000.5",
                &(dec!(1000) / dec!(65000.5)).normalize().to_string()
            ),
            (
                "65001",
                &(dec!(13000) / dec!(65001)).normalize().to_string()
            ),
            (
                "65002",
                &(dec!(260000) / dec!(65002)).normalize().to_string()
            )
        ])
    );
    assert_eq!(b.updates_since_snapshot, 1);
    assert_eq!(
        a.books[&inst("BTC-USD-PERP")].last_change,
        Some(21486665530)
    );
    assert!(c.incidents.is_empty(), "{:?}", c.incidents);
}

#[test]
fn linear_amounts_are_already_coin() {
    let (mut a, mut c) = opened(&["BTC-USDC-PERP"]);
    c.text(&mut a, WS, fixture!("linear_snapshot.json"), 2);
    let b = c.book(VENUE, "BTC-USDC-PERP").unwrap();
    assert_eq!(
        top_strings(&b.bids, 5),
        strings(&[("64990", "0.125"), ("64989", "1.5")])
    );
    assert_eq!(b.best_ask().unwrap().size, dec!(0.013));
}

#[test]
fn a_change_id_break_resubscribes_for_a_fresh_snapshot() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    c.text(&mut a, WS, fixture!("snapshot.json"), 2);
    c.actions.clear();
    c.text(&mut a, WS, fixture!("change_gap.json"), 3);
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    let b = c.book(VENUE, "BTC-USD-PERP").unwrap();
    assert!(matches!(
        b.state(),
        BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 21486665526,
            got: 21486665600
        })
    ));
    assert!(!a.lifecycle().is_live(&inst("BTC-USD-PERP")));
    let s = sends(&c);
    assert_eq!(s.len(), 2);
    assert!(s[0].contains("public/unsubscribe") && s[0].contains("book.BTC-PERPETUAL.100ms"));
    assert!(s[1].contains("public/subscribe") && s[1].contains("book.BTC-PERPETUAL.100ms"));
    // Changes before the new snapshot are dropped; the snapshot restores it.
    c.text(&mut a, WS, fixture!("change.json"), 4);
    assert!(!c.book(VENUE, "BTC-USD-PERP").unwrap().is_live());
    c.text(&mut a, WS, fixture!("snapshot.json"), 5);
    assert!(c.book(VENUE, "BTC-USD-PERP").unwrap().is_live());
}

#[test]
fn trades_carry_the_taker_side_and_liquidation_flags() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    c.text(&mut a, WS, fixture!("trade.json"), 2);
    assert_eq!(c.trades.len(), 1);
    let t = &c.trades[0];
    assert_eq!(
        (t.side, t.price, t.size),
        (TakerSide::Sell, dec!(65000), dec!(0.1))
    );
    assert_eq!(t.exchange_ts, Some(1_754_000_000_200_000));
    assert!(c.liquidations.is_empty());
    c.text(&mut a, WS, fixture!("trade_liquidation.json"), 3);
    assert_eq!(c.trades.len(), 3);
    // "T" with a buying taker: the taker's forced buy closed a short.
    let l = &c.liquidations[0];
    assert_eq!(
        (l.side, l.price, l.size),
        (LiquidatedSide::Short, dec!(65000), dec!(0.2))
    );
    // "M" with a buying taker: the maker sold, closing a long.
    assert_eq!(c.liquidations[1].side, LiquidatedSide::Long);
    assert_eq!(c.liquidations.len(), 2);
}

#[test]
fn both_sides_liquidated() {
    assert_eq!(
        liquidated_sides("MT", TakerSide::Sell),
        [Some(LiquidatedSide::Long), Some(LiquidatedSide::Short)]
    );
    assert_eq!(liquidated_sides("X", TakerSide::Buy), [None]);
}

#[test]
fn ticker_gives_funding_mark_index_and_open_interest_in_coin() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    c.text(&mut a, WS, fixture!("ticker.json"), 2);
    assert_eq!(c.funding.len(), 1);
    let u = &c.funding[0].update;
    // funding_8h, the figure comparable with other venues' 8-hour periods.
    assert_eq!(u.funding_rate, Some(dec!(0.00011307)));
    assert_eq!(u.interval, Some(8 * 3_600_000_000));
    assert_eq!(u.mark_price, Some(dec!(65000.0)));
    assert_eq!(u.index_price, Some(dec!(64990.11)));
    // 650 M USD of contracts at a 65 000 mark.
    assert_eq!(u.open_interest, Some(dec!(10000)));
    assert_eq!(u.open_interest_usd, Some(dec!(650000000)));
    assert_eq!(u.next_funding, None);
}

#[test]
fn heartbeats_are_answered_and_control_frames_are_silent() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    c.actions.clear();
    c.text(&mut a, WS, fixture!("heartbeat.json"), 2);
    c.text(&mut a, WS, fixture!("subscribe_result.json"), 2);
    assert!(sends(&c).is_empty());
    c.text(&mut a, WS, fixture!("heartbeat_test_request.json"), 3);
    let s = sends(&c);
    assert_eq!(s.len(), 1);
    assert!(s[0].contains(r#""method":"public/test""#), "{}", s[0]);
    assert!(c.incidents.is_empty(), "{:?}", c.incidents);
}

#[test]
fn a_rejected_subscription_takes_its_books_out_of_sync() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    // The subscribe request of `opened` has id 2 (1 is set_heartbeat).
    c.text(&mut a, WS, fixture!("error_raw_unauthorized.json"), 2);
    let b = c.book(VENUE, "BTC-USD-PERP").unwrap();
    assert!(
        matches!(b.state(), BookState::OutOfSync(OutOfSyncReason::Venue(w)) if w.contains("13778"))
    );
    assert_eq!(c.count(Incident::UnknownMessage), 1);
}

#[test]
fn malformed_frames_are_parse_errors() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    c.text(&mut a, WS, "{\"jsonrpc\":\"2.0\",", 2);
    c.text(&mut a, WS, r#"{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":{"bids":1}}}"#, 3);
    c.text(&mut a, WS, r#"{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":{"type":"snapshot","instrument_name":"BTC-PERPETUAL","change_id":5,"bids":[["new","x",10]],"asks":[]}}}"#, 4);
    c.text(&mut a, WS, r#"{"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.BTC-PERPETUAL.100ms","data":[{"instrument_name":"BTC-PERPETUAL","price":65000,"amount":10,"direction":"up"}]}}"#, 5);
    c.text(&mut a, WS, r#"{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":{"type":"snapshot","instrument_name":"BTC-PERPETUAL","bids":[],"asks":[]}}}"#, 6);
    assert_eq!(c.count(Incident::ParseError), 5);
    assert!(!c.book(VENUE, "BTC-USD-PERP").unwrap().is_live());
}

#[test]
fn instrument_lists_give_contract_sizes_and_skip_dated_futures() {
    let (mut a, mut out) = (
        Deribit::new(AdapterConfig {
            instruments: vec![inst("BTC-USD-PERP"), inst("BTC-USDC-PERP")],
            ..AdapterConfig::default()
        }),
        Output::default(),
    );
    a.start(0, &mut out);
    let urls: Vec<String> = out
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::HttpGet { url } => Some(url.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        urls,
        [
            "https://www.deribit.com/api/v2/public/get_instruments?currency=BTC&kind=future",
            "https://www.deribit.com/api/v2/public/get_instruments?currency=USDC&kind=future"
        ]
    );
    out.clear();
    a.on_http(&urls[0], fixture!("instruments_btc.json"), 0, &mut out);
    a.on_http(&urls[1], fixture!("instruments_usdc.json"), 0, &mut out);
    let Some(MarketEvent::Instruments { list, .. }) = out.events.last() else {
        panic!("{:?}", out.events);
    };
    assert_eq!(list.len(), 2);
    let btc = list.iter().find(|i| i.native == "BTC-PERPETUAL").unwrap();
    assert_eq!(btc.instrument, inst("BTC-USD-PERP"));
    assert_eq!(
        (btc.contract_usd, btc.contract_size),
        (Some(dec!(10)), None)
    );
    assert_eq!(btc.tick_size, Some(dec!(0.5)));
    let usdc = list
        .iter()
        .find(|i| i.native == "BTC_USDC-PERPETUAL")
        .unwrap();
    assert_eq!(
        (usdc.contract_size, usdc.contract_usd, usdc.lot_size),
        (Some(dec!(0.001)), None, Some(dec!(0.001)))
    );
    assert!(!a.is_inverse("BTC_USDC-PERPETUAL") && a.is_inverse("BTC-PERPETUAL"));
}

#[test]
fn rest_fallback_body_is_polled_in_base_sizes() {
    let mut a = Deribit::new(AdapterConfig::default());
    let i = inst("BTC-USD-PERP");
    let poll = a.poll_depth(&i).unwrap();
    assert_eq!(
        poll.url,
        "https://www.deribit.com/api/v2/public/get_order_book?instrument_name=BTC-PERPETUAL&depth=1000"
    );
    assert!(a.poll_depth(&inst("BTC-USDT-PERP")).is_none());
    let mut c = Collector::default();
    let mut out = Output::default();
    a.on_poll(i, fixture!("order_book.json"), 5, &mut out);
    c.absorb(&mut out);
    let b = c.book(VENUE, "BTC-USD-PERP").unwrap();
    assert_eq!(b.state(), &BookState::Polled);
    assert_eq!(b.best_ask().unwrap().size, dec!(40000) / dec!(65000));
    let mut out = Output::default();
    a.on_poll(
        i,
        r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"}}"#,
        6,
        &mut out,
    );
    c.absorb(&mut out);
    assert_eq!(c.count(Incident::UnknownMessage), 1);
}

/// The simulator's base sizes are the adapter's conversion of the wire
/// text, to the last digit (the loopback test compares them exactly).
#[test]
fn simulator_and_adapter_divide_alike() {
    let a = Deribit::new(AdapterConfig::default());
    for (amount, price) in [
        ("130000.0", "64999.5"),
        ("10.0", "65000.0"),
        ("7", "1920.05"),
    ] {
        let (am, pr): (Decimal, Decimal) = (amount.parse().unwrap(), price.parse().unwrap());
        let adapter = a.to_base("BTC-PERPETUAL", am, pr).unwrap();
        let sim = usd_contracts_to_base(am.normalize(), Decimal::ONE, pr.normalize()).unwrap();
        assert_eq!(adapter, sim);
        assert_eq!(adapter.normalize().to_string(), sim.normalize().to_string());
    }
}

/// The backfill asks for the klines of every perpetual and interval and
/// its funding history (no open interest: Deribit publishes none), and
/// reads the docs' answers (https://docs.deribit.com/:
/// `public/get_tradingview_chart_data`, `public/get_funding_rate_history`).
#[test]
fn backfill_reads_the_documented_history_answers() {
    use crate::model::{HistoryKind, Timeframe};
    let perp = inst("BTC-USD-PERP");
    let mut a = Deribit::new(AdapterConfig {
        instruments: vec![perp],
        ..AdapterConfig::default()
    });
    let now_ms = 1_569_902_400_000i64;
    let mut out = Output::default();
    a.start(now_ms * 1000, &mut out);
    let paced = out.paced_gets();
    assert_eq!(paced.len(), 7, "six intervals, then funding: {paced:?}");
    let span = |minutes: i64| now_ms - minutes * 60_000 * 480;
    assert_eq!(
        paced[0],
        format!(
            "https://www.deribit.com/api/v2/public/get_tradingview_chart_data?instrument_name=BTC-PERPETUAL&start_timestamp={}&end_timestamp={now_ms}&resolution=1",
            span(1)
        )
    );
    // No 4-hour resolution: hourly ones over four times the span.
    assert!(paced[4].ends_with(&format!(
        "start_timestamp={}&end_timestamp={now_ms}&resolution=60",
        span(240)
    )));
    assert!(paced[5].ends_with("resolution=1D"));
    assert_eq!(
        paced[6],
        format!(
            "https://www.deribit.com/api/v2/public/get_funding_rate_history?instrument_name=BTC-PERPETUAL&start_timestamp={}&end_timestamp={now_ms}",
            now_ms - 90 * 8 * 3_600_000
        )
    );

    // The docs' chart answer, and a third kline of ours whose high is
    // below its low, counted.
    let body = r#"{"jsonrpc":"2.0","id":833,"result":{"volume":[19.007942601,20.095877981,1.0],"cost":[19000.0,23400.0,1.0],"ticks":[1554373800000,1554375600000,1554377400000],"status":"ok","open":[4963.42,4986.29,5000.0],"low":[4728.94,4726.6,5001.0],"high":[5185.45,5250.87,4999.0],"close":[5052.95,5013.59,5000.0]},"usIn":1554381680742493,"usOut":1554381680742698,"usDiff":205,"testnet":false}"#;
    let mut out = Output::default();
    a.on_http(&paced[0], body, 0, &mut out);
    let klines: Vec<_> = out.klines();
    let [(i, tf, k)] = klines.as_slice() else {
        panic!("{:?}", out.events);
    };
    assert_eq!((*i, *tf, k.len()), (perp, Timeframe::M1, 2));
    assert_eq!(k[0].start, 1_554_373_800_000_000);
    assert_eq!(
        (k[0].open, k[0].high, k[0].low, k[0].close),
        (dec!(4963.42), dec!(5185.45), dec!(4728.94), dec!(5052.95))
    );
    // `volume` is the coin, `cost` the USD.
    assert_eq!(
        (k[1].volume, k[1].turnover),
        (dec!(20.095877981), Some(dec!(23400.0)))
    );
    assert_eq!((k[1].buy_volume, k[1].trades), (None, None));
    assert_eq!(out.parse_errors().len(), 1, "{:?}", out.events);

    // The docs' funding answer: four hourly rows, of which the newest
    // stands for the 8 hours before it; a fifth of ours (an impossible
    // rate) is counted.
    let body = r#"{"jsonrpc":"2.0","id":7617,"result":[{"timestamp":1569891600000,"index_price":8222.87,"prev_index_price":8305.72,"interest_8h":-0.00009234260068476106,"interest_1h":-4.739622041017375e-7},{"timestamp":1569895200000,"index_price":8286.49,"prev_index_price":8222.87,"interest_8h":-0.00006720918180255509,"interest_1h":-2.8583510923267753e-7},{"timestamp":1569898800000,"index_price":8431.97,"prev_index_price":8286.49,"interest_8h":-0.00003544496169694662,"interest_1h":-0.000003815906848177951},{"timestamp":1569902400000,"index_price":8422.36,"prev_index_price":8431.97,"interest_8h":-0.00001404147515584998,"interest_1h":8.312033064379086e-7},{"timestamp":1569888000000,"interest_8h":3.5}]}"#;
    let mut out = Output::default();
    a.on_http(&paced[6], body, 0, &mut out);
    let history: Vec<_> = out.histories();
    assert_eq!(
        history,
        vec![(
            perp,
            HistoryKind::FundingRate,
            vec![(1_569_902_400_000_000, dec!(-0.00001404147515584998))]
        )]
    );
    assert_eq!(out.parse_errors().len(), 1, "{:?}", out.events);

    // Rows 8 hours apart are all kept.
    let body = r#"{"jsonrpc":"2.0","result":[{"timestamp":1569873600000,"interest_8h":0.0001},{"timestamp":1569888000000,"interest_8h":0.0002},{"timestamp":1569902400000,"interest_8h":0.0003}]}"#;
    let mut out = Output::default();
    a.on_http(&paced[6], body, 0, &mut out);
    let [MarketEvent::History { points, .. }] = out.events.as_slice() else {
        panic!("{:?}", out.events);
    };
    assert_eq!(
        points.len(),
        2,
        "16:00 is not a multiple of 8 h back: {points:?}"
    );

    // A JSON-RPC error is a parse error in Deribit's words.
    let mut out = Output::default();
    a.on_http(
        &paced[6],
        r#"{"jsonrpc":"2.0","error":{"message":"Invalid params","data":{"reason":"wrong format","param":"instrument_name"},"code":-32602},"testnet":false}"#,
        0,
        &mut out,
    );
    assert_eq!(
        out.parse_errors(),
        ["funding history error -32602: Invalid params"]
    );
}

/// Four hourly klines make one 4-hour kline; a bucket without its first
/// hour is left out rather than opened wrong.
#[test]
fn four_hour_klines_are_summed_from_hourly_ones() {
    use crate::model::Timeframe;
    let mut a = Deribit::new(AdapterConfig {
        instruments: vec![inst("ETH-USD-PERP")],
        ..AdapterConfig::default()
    });
    let now_ms = 1_700_006_400_000i64;
    let mut out = Output::default();
    a.start(now_ms * 1000, &mut out);
    // The hourly request over four times the ring's span.
    let from = format!("start_timestamp={}&", now_ms - 4 * 480 * 3_600_000);
    let url = out
        .actions
        .iter()
        .find_map(|x| match x {
            Action::HttpGetPaced { url, .. } if url.contains(&from) => Some(url.clone()),
            _ => None,
        })
        .unwrap();
    let h = 3_600_000i64;
    let b = 1_699_992_000_000i64; // 4-hour aligned
    let ticks = [b - h, b, b + h, b + 2 * h, b + 3 * h, b + 4 * h];
    let body = format!(
        r#"{{"jsonrpc":"2.0","result":{{"status":"ok","ticks":{ticks:?},"open":[1,10,11,12,13,14],"high":[1,12,13,14,15,15],"low":[1,9,10,11,12,13],"close":[1,11,12,13,14,14],"volume":[1,1,2,3,4,5],"cost":[1,10,20,30,40,50]}}}}"#
    );
    let mut out = Output::default();
    a.on_http(&url, &body, 0, &mut out);
    let [
        MarketEvent::Klines {
            timeframe, klines, ..
        },
    ] = out.events.as_slice()
    else {
        panic!("{:?}", out.events);
    };
    assert_eq!(*timeframe, Timeframe::H4);
    assert_eq!(klines.len(), 2, "{klines:?}");
    let k = &klines[0];
    assert_eq!(k.start, b * 1000);
    assert_eq!(
        (k.open, k.high, k.low, k.close, k.volume, k.turnover),
        (
            dec!(10),
            dec!(15),
            dec!(9),
            dec!(14),
            dec!(10),
            Some(dec!(100))
        )
    );
    assert_eq!(klines[1].start, (b + 4 * h) * 1000, "the one in progress");
}
