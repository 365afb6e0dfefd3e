//! Gemini adapter fixtures, shaped after the v2 market-data docs.

use rust_decimal_macros::dec;

use super::*;
use crate::model::{BookState, Incident, OutOfSyncReason};
use crate::venues::Action;
use crate::venues::testkit::Collector;

const WS: &str = "wss://api.gemini.com/v2/marketdata";

fn adapter() -> Gemini {
    Gemini::new(AdapterConfig {
        instruments: vec!["BTC-USD".parse().unwrap(), "BTC-USDC-PERP".parse().unwrap()],
        ..AdapterConfig::default()
    })
}

const INITIAL: &str = r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","9122.04","0.00121425"],["buy","9122.00","0.5"],["sell","9122.07","0.98942292"],["sell","9123.00","2"]],"trades":[{"type":"trade","symbol":"BTCUSD","event_id":169841458,"timestamp":1560976400428,"price":"9122.04","quantity":"0.0073173","side":"sell","tid":2840140800042677}],"auction_events":[]}"#;

#[test]
fn subscribes_l2_with_native_symbols() {
    let mut a = adapter();
    assert_eq!(a.connections().len(), 1);
    let mut out = Output::default();
    a.on_open(WS, 0, &mut out);
    let [Action::Send { text, .. }] = out.actions.as_slice() else {
        panic!("{:?}", out.actions);
    };
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["type"], "subscribe");
    assert_eq!(v["subscriptions"][0]["name"], "l2");
    assert_eq!(
        v["subscriptions"][0]["symbols"],
        serde_json::json!(["BTCUSD", "BTCUSDCPERP"])
    );
}

#[test]
fn initial_book_then_update() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, WS, 0);
    c.text(&mut a, WS, INITIAL, 1);
    let b = c.book(VENUE, "BTC-USD").unwrap();
    assert!(b.is_live());
    assert_eq!(b.bids.len(), 2);
    assert_eq!(b.best_ask().unwrap().price, dec!(9122.07));
    // The recent trades of the initial message are history, not live flow.
    assert!(c.trades.is_empty());
    c.text(
        &mut a,
        WS,
        r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","9122.04","0"],["sell","9122.05","0.1"]]}"#,
        2,
    );
    let b = c.book(VENUE, "BTC-USD").unwrap();
    assert!(b.is_live());
    assert_eq!(b.best_bid().unwrap().price, dec!(9122.00));
    assert_eq!(b.best_ask().unwrap().price, dec!(9122.05));
    assert_eq!(b.asks.len(), 3);
    assert_eq!(b.updates_since_snapshot, 1);
}

#[test]
fn reconnect_rebuilds_from_the_new_initial_message() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, WS, 0);
    c.text(&mut a, WS, INITIAL, 1);
    c.close(&mut a, WS, 2);
    let b = c.book(VENUE, "BTC-USD").unwrap();
    assert_eq!(
        b.state(),
        &BookState::OutOfSync(OutOfSyncReason::Disconnected)
    );
    c.open(&mut a, WS, 3);
    c.text(
        &mut a,
        WS,
        r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","9000","1"],["sell","9001","1"]],"trades":[]}"#,
        4,
    );
    let b = c.book(VENUE, "BTC-USD").unwrap();
    assert!(b.is_live());
    assert_eq!(b.bids.len(), 1);
    assert_eq!(b.asks.len(), 1);
}

#[test]
fn trade_message_and_perp_symbol() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.text(
        &mut a,
        WS,
        // The documentation's example, with a real millisecond timestamp
        // (its `151231241` is 1970: outside the sane window, a parse error).
        r#"{"type":"trade","symbol":"BTCUSDCPERP","event_id":3575573053,"timestamp":1512312410000,"price":"9004.21","quantity":"0.0911","side":"buy","tid":2840140800042677}"#,
        1,
    );
    assert_eq!(c.trades.len(), 1);
    assert_eq!(c.trades[0].instrument.to_string(), "BTC-USDC-PERP");
    assert_eq!(c.trades[0].side, TakerSide::Buy);
    assert_eq!(c.trades[0].size, dec!(0.0911));
}

#[test]
fn heartbeat_silent_unknown_counted_junk_is_parse_error() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.text(&mut a, WS, r#"{"type":"heartbeat","timestamp":1}"#, 1);
    assert!(c.incidents.is_empty());
    c.text(
        &mut a,
        WS,
        r#"{"type":"candles_1m_updates","symbol":"BTCUSD","changes":[]}"#,
        2,
    );
    assert_eq!(c.count(Incident::UnknownMessage), 1);
    c.text(
        &mut a,
        WS,
        r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["#,
        3,
    );
    c.text(
        &mut a,
        WS,
        r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["up","1","1"]]}"#,
        4,
    );
    c.text(
        &mut a,
        WS,
        r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","abc","1"]]}"#,
        5,
    );
    assert_eq!(c.count(Incident::ParseError), 3);
    assert!(c.books.is_empty());
}

#[test]
fn symbol_details_name_instruments_exactly() {
    let mut a = adapter();
    let mut out = Output::default();
    a.on_http(
        "https://api.gemini.com/v1/symbols",
        r#"["btcusd","btcusdcperp","btcgusdperp","efilfil"]"#,
        0,
        &mut out,
    );
    let fetches: Vec<&Action> = out
        .actions
        .iter()
        .filter(|a| matches!(a, Action::HttpGet { .. }))
        .collect();
    assert_eq!(fetches.len(), 2);
    out.clear();
    a.on_http(
        "https://api.gemini.com/v1/symbols/details/btcusdcperp",
        r#"{"symbol":"BTCUSDCPERP","quote_currency":"USDC","tick_size":0.0001,"quote_increment":0.5,"min_order_size":"0.0001","status":"open","product_type":"swap","contract_type":"linear","contract_price_currency":"GUSD","base_currency":"BTC"}"#,
        1,
        &mut out,
    );
    a.on_http(
        "https://api.gemini.com/v1/symbols/details/btcusd",
        r#"{"symbol":"BTCUSD","quote_currency":"USD","tick_size":1e-8,"quote_increment":0.01,"status":"open","product_type":"spot","base_currency":"BTC"}"#,
        2,
        &mut out,
    );
    let Some(MarketEvent::Instruments { list, .. }) = out.events.last() else {
        panic!("{:?}", out.events);
    };
    let find = |n: &str| list.iter().find(|i| i.native == n).unwrap();
    assert_eq!(find("BTCUSDCPERP").instrument.to_string(), "BTC-USDC-PERP");
    assert_eq!(find("BTCUSDCPERP").tick_size, Some(dec!(0.5)));
    assert_eq!(find("BTCUSD").lot_size, Some(dec!(0.00000001)));
    assert_eq!(find("BTCGUSDPERP").instrument.to_string(), "BTC-GUSD-PERP");
    assert!(list.iter().all(|i| i.native != "EFILFIL"));
}
