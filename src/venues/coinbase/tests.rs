//! Coinbase adapter fixtures, shaped after the Advanced Trade WebSocket docs.

use rust_decimal_macros::dec;

use super::*;
use crate::model::BookState;
use crate::venues::Action;
use crate::venues::testkit::Collector;

const WS: &str = "wss://advanced-trade-ws.coinbase.com";

fn adapter() -> Coinbase {
    Coinbase::new(AdapterConfig {
        instruments: vec!["BTC-USD".parse().unwrap(), "ETH-USD".parse().unwrap()],
        ..AdapterConfig::default()
    })
}

fn l2(seq: u64, kind: &str, product: &str, updates: &str) -> String {
    format!(
        r#"{{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":{seq},"events":[{{"type":"{kind}","product_id":"{product}","updates":{updates}}}]}}"#
    )
}

const BTC_SNAPSHOT: &str = r#"[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.3","new_quantity":"0.02"},{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"21921.74","new_quantity":"0.1"}]"#;

#[test]
fn subscribes_one_message_per_channel() {
    let mut a = adapter();
    assert_eq!(a.connections().len(), 1);
    let mut out = Output::default();
    a.on_open(WS, 0, &mut out);
    let channels: Vec<String> = out
        .actions
        .iter()
        .map(|act| match act {
            Action::Send { text, .. } => {
                let v: serde_json::Value = serde_json::from_str(text).unwrap();
                assert_eq!(v["type"], "subscribe");
                assert_eq!(v["product_ids"][1], "ETH-USD");
                v["channel"].as_str().unwrap().to_string()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(channels, ["heartbeats", "level2", "market_trades"]);
}

#[test]
fn snapshot_then_updates() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, WS, 0);
    c.text(&mut a, WS, &l2(0, "snapshot", "BTC-USD", BTC_SNAPSHOT), 1);
    c.text(
        &mut a,
        WS,
        &l2(
            1,
            "update",
            "BTC-USD",
            r#"[{"side":"bid","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21921.73","new_quantity":"0"},{"side":"offer","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21922","new_quantity":"1.5"}]"#,
        ),
        2,
    );
    let b = c.book(VENUE, "BTC-USD").unwrap();
    assert!(b.is_live());
    assert_eq!(b.best_bid().unwrap().price, dec!(21921.3));
    assert_eq!(b.asks.len(), 2);
    assert_eq!(b.last_exchange_ts, Some(1675974770714964));
    assert_eq!(c.count(Incident::Gap), 0);
}

#[test]
fn sequence_gap_takes_every_book_out_and_reconnects() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, WS, 0);
    c.text(&mut a, WS, &l2(0, "snapshot", "BTC-USD", BTC_SNAPSHOT), 1);
    c.text(
        &mut a,
        WS,
        &l2(
            1,
            "snapshot",
            "ETH-USD",
            r#"[{"side":"bid","price_level":"1500","new_quantity":"1"},{"side":"offer","price_level":"1501","new_quantity":"1"}]"#,
        ),
        2,
    );
    // A heartbeat is lost: sequence 2 never arrives.
    c.text(
        &mut a,
        WS,
        r#"{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":3,"events":[{"current_time":"2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105","heartbeat_counter":"3049"}]}"#,
        3,
    );
    for inst in ["BTC-USD", "ETH-USD"] {
        let b = c.book(VENUE, inst).unwrap();
        assert_eq!(
            b.state(),
            &BookState::OutOfSync(OutOfSyncReason::Gap {
                expected: 2,
                got: 3
            }),
            "{inst}"
        );
    }
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    assert!(matches!(
        c.actions.as_slice(),
        [.., Action::Reconnect { url, .. }] if url == WS
    ));
    // Updates on the broken connection are not applied.
    c.text(
        &mut a,
        WS,
        &l2(
            5,
            "update",
            "BTC-USD",
            r#"[{"side":"bid","price_level":"21921.3","new_quantity":"9"}]"#,
        ),
        4,
    );
    assert_eq!(c.count(Incident::Gap), 1);
    // The driver reconnects: close, open, fresh snapshot.
    c.close(&mut a, WS, 5);
    c.open(&mut a, WS, 6);
    c.text(&mut a, WS, &l2(0, "snapshot", "BTC-USD", BTC_SNAPSHOT), 7);
    let b = c.book(VENUE, "BTC-USD").unwrap();
    assert!(b.is_live());
    assert_eq!(b.best_bid().unwrap().size, dec!(0.06317902));
    assert_eq!(c.count(Incident::Gap), 1);
}

#[test]
fn market_trades_report_the_taker_side() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.text(
        &mut a,
        WS,
        r#"{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":0,"events":[{"type":"update","trades":[{"trade_id":"000000000","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"},{"trade_id":"000000001","product_id":"ETH-USD","price":"1260.02","size":"0.1","side":"SELL","time":"2019-08-14T20:42:27.266Z"}]}]}"#,
        1,
    );
    assert_eq!(c.trades.len(), 2);
    assert_eq!(c.trades[0].side, TakerSide::Sell);
    assert_eq!(c.trades[0].size, dec!(0.3));
    assert_eq!(c.trades[0].exchange_ts, Some(1565815347265000));
    assert_eq!(c.trades[1].side, TakerSide::Buy);
    assert_eq!(c.trades[1].instrument.to_string(), "ETH-USD");
}

#[test]
fn acks_heartbeats_silent_others_unknown_junk_parse_error() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.text(
        &mut a,
        WS,
        r#"{"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"subscriptions":{"level2":["BTC-USD"]}}]}"#,
        1,
    );
    c.text(
        &mut a,
        WS,
        r#"{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":1,"events":[{"current_time":"x","heartbeat_counter":"3049"}]}"#,
        2,
    );
    assert!(c.incidents.is_empty());
    c.text(
        &mut a,
        WS,
        r#"{"channel":"candles","client_id":"","timestamp":"2023-06-09T20:19:35.39625135Z","sequence_num":2,"events":[]}"#,
        3,
    );
    assert_eq!(c.count(Incident::UnknownMessage), 1);
    c.text(&mut a, WS, r#"{"channel":"l2_data","events":[{"#, 4);
    c.text(
        &mut a,
        WS,
        &l2(3, "snapshot", "BTC-USD", r#"[{"side":"up"}]"#),
        5,
    );
    assert_eq!(c.count(Incident::ParseError), 2);
    assert_eq!(c.count(Incident::Gap), 0);
}

#[test]
fn products_list_gives_instruments() {
    let mut a = adapter();
    let mut out = Output::default();
    a.on_http(
        "https://api.coinbase.com/api/v3/brokerage/market/products",
        r#"{"products":[{"product_id":"BTC-USD","base_increment":"0.00000001","quote_increment":"0.01","price_increment":"0.01","status":"online","trading_disabled":false,"product_type":"SPOT","quote_currency_id":"USD","base_currency_id":"BTC"},{"product_id":"OLD-USD","status":"delisted","product_type":"SPOT","quote_currency_id":"USD","base_currency_id":"OLD"}],"num_products":2}"#,
        0,
        &mut out,
    );
    let [MarketEvent::Instruments { list, .. }] = out.events.as_slice() else {
        panic!("{:?}", out.events);
    };
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].instrument.to_string(), "BTC-USD");
    assert_eq!(list[0].tick_size, Some(dec!(0.01)));
    assert_eq!(list[0].lot_size, Some(dec!(0.00000001)));
}
