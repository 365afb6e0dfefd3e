use super::*;
use crate::model::{BookState, Incident, MarketEvent};
use crate::venues::testkit::{Collector, top_strings};
use crate::venues::{Action, Adapter, AdapterConfig};
use rust_decimal_macros::dec;

const WS: &str = "wss://futures.kraken.com/ws/v1";
const INSTRUMENTS: &str = "https://futures.kraken.com/derivatives/api/v3/instruments";

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../../tests/fixtures/kraken/", $name))
    };
}

fn inst(s: &str) -> Instrument {
    s.parse().unwrap()
}

fn adapter(instruments: &[&str]) -> Kraken {
    Kraken::new(AdapterConfig {
        instruments: instruments.iter().map(|s| inst(s)).collect(),
        ..AdapterConfig::default()
    })
}

/// Opened, with the instrument list (contract sizes) in.
fn opened(instruments: &[&str]) -> (Kraken, Collector) {
    let mut a = adapter(instruments);
    let mut c = Collector::default();
    c.http(&mut a, INSTRUMENTS, fixture!("futures_instruments.json"), 1);
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

fn base(usd: Decimal, price: Decimal) -> String {
    (usd / price).normalize().to_string()
}

#[test]
fn products_map_both_ways() {
    for (id, name, inverse) in [
        ("PI_XBTUSD", "BTC-USD-PERP", true),
        ("PF_XBTUSD", "BTC-USDMC-PERP", false),
        ("pi_ethusd", "ETH-USD-PERP", true),
        ("PF_XDGUSD", "DOGE-USDMC-PERP", false),
    ] {
        assert_eq!(parse_product(id), Some((inst(name), inverse)), "{id}");
        assert_eq!(product_id(&inst(name)).unwrap(), id.to_ascii_uppercase());
    }
    for other in [
        "FI_XBTUSD_260925",
        "FF_XBTUSD_260925",
        "IN_XBTUSD",
        "RR_XBTUSD",
        "XBTUSD",
        "PF_XBTEUR",
    ] {
        assert_eq!(parse_product(other), None, "{other}");
    }
    assert!(super::super::carries(&inst("BTC-USDMC-PERP")).is_ok());
    assert!(super::super::carries(&inst("BTC-USDT-PERP")).is_err());
}

#[test]
fn one_adapter_opens_spot_and_futures_connections() {
    let mut a = adapter(&["BTC-USD", "BTC-USD-PERP", "BTC-USDMC-PERP"]);
    let urls: Vec<String> = a.connections().into_iter().map(|c| c.url).collect();
    assert_eq!(urls, ["wss://ws.kraken.com/v2", WS]);
    let mut out = Output::default();
    a.start(0, &mut out);
    assert!(out.actions.contains(&Action::HttpGet {
        url: INSTRUMENTS.to_string()
    }));
    let mut c = Collector::default();
    c.open(&mut a, WS, 1);
    let s = sends(&c).join("\n");
    for feed in ["book", "trade", "ticker"] {
        assert!(
            s.contains(&format!(
                r#"{{"event":"subscribe","feed":"{feed}","product_ids":["PF_XBTUSD","PI_XBTUSD"]}}"#
            )),
            "{s}"
        );
    }
    assert!(s.contains(r#""feed":"heartbeat""#));
    assert!(
        !s.contains("BTC/USD"),
        "spot is not subscribed on futures: {s}"
    );
    // Perpetuals only: no spot connection.
    let a = adapter(&["BTC-USD-PERP"]);
    assert_eq!(a.connections().len(), 1);
}

#[test]
fn inverse_book_in_coin_and_one_level_updates() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    c.text(&mut a, WS, fixture!("futures_info.json"), 2);
    c.text(&mut a, WS, fixture!("futures_subscribed.json"), 2);
    c.text(&mut a, WS, fixture!("futures_book_snapshot.json"), 3);
    c.text(&mut a, WS, fixture!("futures_book_update.json"), 4);
    c.text(&mut a, WS, fixture!("futures_book_update_2.json"), 5);
    assert!(c.incidents.is_empty(), "{:?}", c.incidents);
    let b = c.book(VENUE, "BTC-USD-PERP").unwrap();
    assert!(b.is_live());
    assert_eq!(
        top_strings(&b.bids, 5),
        [
            ("34893".to_string(), base(dec!(5000), dec!(34893))),
            ("34892.5".into(), base(dec!(6385), dec!(34892.5))),
            ("34892".into(), base(dec!(10924), dec!(34892))),
        ]
    );
    assert_eq!(
        top_strings(&b.asks, 5),
        [("34912".to_string(), base(dec!(2300), dec!(34912)))]
    );
}

#[test]
fn an_inverse_book_waits_for_its_contract_size() {
    let mut a = adapter(&["BTC-USD-PERP"]);
    let mut c = Collector::default();
    c.open(&mut a, WS, 1);
    c.text(&mut a, WS, fixture!("futures_book_snapshot.json"), 2);
    c.text(&mut a, WS, fixture!("futures_book_update.json"), 3);
    assert!(!c.book(VENUE, "BTC-USD-PERP").unwrap().is_live());
    c.http(&mut a, INSTRUMENTS, fixture!("futures_instruments.json"), 4);
    let b = c.book(VENUE, "BTC-USD-PERP").unwrap();
    assert!(b.is_live());
    // Released with the update applied while held.
    assert_eq!(b.best_ask().unwrap().price, dec!(34912));
    c.text(&mut a, WS, fixture!("futures_book_update_2.json"), 5);
    assert_eq!(
        c.book(VENUE, "BTC-USD-PERP")
            .unwrap()
            .best_bid()
            .unwrap()
            .price,
        dec!(34893)
    );
}

#[test]
fn linear_quantities_are_coin() {
    let mut a = adapter(&["BTC-USDMC-PERP"]);
    let mut c = Collector::default();
    c.open(&mut a, WS, 1);
    c.text(&mut a, WS, fixture!("futures_pf_book_snapshot.json"), 2);
    let b = c.book(VENUE, "BTC-USDMC-PERP").unwrap();
    assert!(b.is_live(), "no contract size needed");
    assert_eq!(
        top_strings(&b.asks, 5),
        [
            ("34895".to_string(), "0.0123".to_string()),
            ("34896".into(), "2".into())
        ]
    );
}

#[test]
fn a_seq_gap_resubscribes_the_book() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    c.text(&mut a, WS, fixture!("futures_book_snapshot.json"), 2);
    c.actions.clear();
    c.text(&mut a, WS, fixture!("futures_book_gap.json"), 3);
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    assert!(matches!(
        c.book(VENUE, "BTC-USD-PERP").unwrap().state(),
        BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 326072250,
            got: 326072260
        })
    ));
    assert_eq!(
        sends(&c),
        [
            r#"{"event":"unsubscribe","feed":"book","product_ids":["PI_XBTUSD"]}"#,
            r#"{"event":"subscribe","feed":"book","product_ids":["PI_XBTUSD"]}"#
        ]
    );
    c.text(&mut a, WS, fixture!("futures_book_update.json"), 4);
    assert!(!c.book(VENUE, "BTC-USD-PERP").unwrap().is_live());
    c.text(&mut a, WS, fixture!("futures_book_snapshot.json"), 5);
    assert!(c.book(VENUE, "BTC-USD-PERP").unwrap().is_live());
}

#[test]
fn trades_and_liquidations() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP", "BTC-USDMC-PERP"]);
    c.text(&mut a, WS, fixture!("futures_trade_snapshot.json"), 2);
    c.text(&mut a, WS, fixture!("futures_trade.json"), 3);
    c.text(&mut a, WS, fixture!("futures_trade_liquidation.json"), 4);
    assert_eq!(c.trades.len(), 2, "the snapshot's past trades are skipped");
    let t = &c.trades[0];
    assert_eq!((t.side, t.price), (TakerSide::Sell, dec!(34969.5)));
    assert_eq!(t.size, dec!(15000) / dec!(34969.5));
    assert_eq!(t.exchange_ts, Some(1_612_269_657_781_000));
    assert_eq!(c.liquidations.len(), 1);
    let l = &c.liquidations[0];
    assert_eq!(l.instrument, inst("BTC-USDMC-PERP"));
    assert_eq!((l.side, l.size), (LiquidatedSide::Short, dec!(0.25)));
}

#[test]
fn ticker_gives_relative_funding_next_time_and_open_interest_in_coin() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    c.text(&mut a, WS, fixture!("futures_ticker.json"), 2);
    assert_eq!(c.funding.len(), 1);
    let f = &c.funding[0];
    assert_eq!(f.instrument, inst("BTC-USD-PERP"));
    assert_eq!(f.exchange_ts, Some(1_612_270_825_253_000));
    let u = &f.update;
    // The fraction, not the absolute `funding_rate` (3.89e-9 per contract).
    assert_eq!(u.funding_rate, Some(dec!(0.000135046879166667)));
    assert_eq!(u.predicted_rate, Some(dec!(0.000146960125)));
    assert_eq!(u.interval, Some(3_600_000_000), "hourly funding");
    assert_eq!(u.next_funding, Some(1_612_281_600_000_000));
    assert_eq!(u.mark_price, Some(dec!(34844.25)));
    assert_eq!(u.index_price, Some(dec!(34803.45)));
    // 149706132 one-dollar contracts: that many USD, in BTC at the mark.
    assert_eq!(u.open_interest_usd, Some(dec!(149706132)));
    assert_eq!(u.open_interest, Some(dec!(149706132) / dec!(34844.25)));
}

#[test]
fn linear_ticker_open_interest_is_coin_and_next_funding_may_be_a_countdown() {
    let (mut a, mut c) = opened(&["BTC-USDMC-PERP"]);
    let frame = fixture!("futures_ticker.json")
        .replace("PI_XBTUSD", "PF_XBTUSD")
        .replace("1612281600000", "3600000");
    c.text(&mut a, WS, &frame, 2);
    let u = &c.funding[0].update;
    assert_eq!(c.funding[0].instrument, inst("BTC-USDMC-PERP"));
    assert_eq!(u.open_interest, Some(dec!(149706132)));
    assert_eq!(u.open_interest_usd, None, "not a figure PF gives itself");
    assert_eq!(u.next_funding, Some((1_612_270_825_253 + 3_600_000) * 1000));
}

#[test]
fn an_inverse_ticker_before_the_contract_size_has_no_open_interest() {
    let mut a = adapter(&["BTC-USD-PERP"]);
    let mut c = Collector::default();
    c.open(&mut a, WS, 1);
    c.text(&mut a, WS, fixture!("futures_ticker.json"), 2);
    let u = &c.funding[0].update;
    assert_eq!((u.open_interest, u.open_interest_usd), (None, None));
    assert!(u.funding_rate.is_some());
}

#[test]
fn the_futures_connection_keeps_itself_alive() {
    let a = adapter(&["BTC-USD-PERP"]);
    let conns = a.connections();
    let [c] = conns.as_slice() else {
        panic!("{conns:?}")
    };
    assert_eq!(c.url, WS);
    let ping = c.ping.as_ref().unwrap();
    // Kraken drops connections the client has not written to for 60 s.
    assert!(ping.every < Duration::from_secs(60));
    assert_eq!(ping.text, r#"{"event":"subscribe","feed":"heartbeat"}"#);
    assert!(c.idle_timeout.is_some());
}

#[test]
fn instruments_skip_dated_futures_and_carry_contract_sizes() {
    let mut a = adapter(&["BTC-USD", "BTC-USD-PERP"]);
    let mut out = Output::default();
    a.on_http(
        INSTRUMENTS,
        fixture!("futures_instruments.json"),
        0,
        &mut out,
    );
    let Some(MarketEvent::Instruments { list, .. }) = out.events.last() else {
        panic!("{:?}", out.events);
    };
    let names: Vec<&str> = list.iter().map(|i| i.native.as_str()).collect();
    assert_eq!(names, ["PF_XBTUSD", "PI_XBTUSD"]);
    assert_eq!(list[1].contract_usd, Some(dec!(1)));
    assert_eq!(list[1].tick_size, Some(dec!(0.5)));
    assert_eq!(
        (list[0].contract_size, list[0].lot_size),
        (Some(dec!(1)), Some(dec!(0.0001)))
    );
}

#[test]
fn bad_futures_frames_are_counted() {
    let (mut a, mut c) = opened(&["BTC-USD-PERP"]);
    c.text(&mut a, WS, fixture!("futures_heartbeat.json"), 2);
    assert!(c.incidents.is_empty());
    c.text(&mut a, WS, "{\"feed\":", 3);
    c.text(&mut a, WS, r#"{"feed":"book_snapshot","product_id":"PI_XBTUSD","seq":1,"bids":[{"price":"x","qty":1}],"asks":[]}"#, 4);
    c.text(
        &mut a,
        WS,
        r#"{"feed":"trade","product_id":"PI_XBTUSD","side":"up","qty":1,"price":2}"#,
        5,
    );
    assert_eq!(c.count(Incident::ParseError), 3);
    c.text(&mut a, WS, fixture!("futures_error.json"), 6);
    assert_eq!(c.count(Incident::UnknownMessage), 1);
}

#[test]
fn rest_fallback_polls_the_futures_book() {
    let (mut a, _) = opened(&["BTC-USD-PERP"]);
    let i = inst("BTC-USD-PERP");
    let poll = a.poll_depth(&i).unwrap();
    assert_eq!(
        poll.url,
        "https://futures.kraken.com/derivatives/api/v3/orderbook?symbol=PI_XBTUSD"
    );
    let mut c = Collector::default();
    let mut out = Output::default();
    a.on_poll(i, fixture!("futures_orderbook.json"), 9, &mut out);
    c.absorb(&mut out);
    let b = c.book(VENUE, "BTC-USD-PERP").unwrap();
    assert_eq!(b.state(), &BookState::Polled);
    assert_eq!(b.best_bid().unwrap().size, dec!(6385) / dec!(34892.5));
}
