//! Unit tests on messages shaped after Crypto.com's documentation
//! (`tests/fixtures/cryptocom/`, see its README).

use rust_decimal_macros::dec;

use super::*;
use crate::model::{BookUpdateKind, Incident, Level, MarketEvent, TakerSide};
use crate::venues::Action;
use crate::venues::lifecycle::Phase;

const WS: &str = "wss://stream.crypto.com/exchange/v1/market";
const V2: &str = "wss://stream.crypto.com/v2/market";
const NOW: Micros = 1_786_371_790_000_000;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/cryptocom/",
            $name
        ))
    };
}

fn inst(s: &str) -> Instrument {
    s.parse().unwrap()
}

fn adapter(instruments: &[&str]) -> CryptoCom {
    CryptoCom::new(AdapterConfig {
        instruments: instruments.iter().map(|s| inst(s)).collect(),
        ..AdapterConfig::default()
    })
}

fn feed(a: &mut CryptoCom, url: &str, text: &str) -> Output {
    let mut out = Output::default();
    a.on_text(url, text, NOW, &mut out);
    out
}

fn open(a: &mut CryptoCom, url: &str) -> Output {
    let mut out = Output::default();
    a.on_open(url, NOW, &mut out);
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

fn fundings(out: &Output) -> Vec<&crate::model::Funding> {
    out.events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Funding(f) => Some(f),
            _ => None,
        })
        .collect()
}

#[test]
fn symbols_map_both_ways() {
    assert_eq!(native_symbol(&inst("BTC-USDT")), "BTC_USDT");
    assert_eq!(native_symbol(&inst("BTC-USD-PERP")), "BTCUSD-PERP");
    assert_eq!(parse_native("BTC_USDT"), Some(inst("BTC-USDT")));
    assert_eq!(parse_native("BTCUSD-PERP"), Some(inst("BTC-USD-PERP")));
    assert_eq!(
        parse_native("1000SHIBUSD-PERP"),
        Some(inst("1000SHIB-USD-PERP"))
    );
    assert_eq!(parse_native("ETHUSD-230825"), None);
    assert_eq!(parse_native("BTCUSD-INDEX"), None);
    assert_eq!(perp_of_index("BTCUSD-INDEX"), Some(inst("BTC-USD-PERP")));
    assert!(carries(&inst("ETH-BTC")).is_ok());
    assert!(carries(&inst("BTC-USDT-PERP")).is_err());
}

#[test]
fn subscribes_after_the_documented_pause_with_delta_books() {
    let mut a = adapter(&["BTC-USDT", "BTC-USD-PERP", "BTC-USDT-PERP"]);
    assert_eq!(a.send_after_open(), Duration::from_secs(1));
    let conns = a.connections();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].url, WS);
    assert!(
        conns[0].ping.is_none(),
        "the server's heartbeats keep it open"
    );
    let out = open(&mut a, WS);
    let s = sends(&out);
    assert_eq!(s.len(), 2, "{s:?}");
    let books: serde_json::Value = serde_json::from_str(&s[0]).unwrap();
    assert_eq!(books["method"], "subscribe");
    assert_eq!(
        books["params"]["channels"],
        serde_json::json!(["book.BTCUSD-PERP.50", "book.BTC_USDT.50"])
    );
    assert_eq!(
        books["params"]["book_subscription_type"],
        "SNAPSHOT_AND_UPDATE"
    );
    assert_eq!(books["params"]["book_update_frequency"], 10);
    let others: serde_json::Value = serde_json::from_str(&s[1]).unwrap();
    let ch: Vec<&str> = others["params"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for want in [
        "trade.BTC_USDT",
        "trade.BTCUSD-PERP",
        "ticker.BTCUSD-PERP",
        "funding.BTCUSD-PERP",
        "estimatedfunding.BTCUSD-PERP",
        "mark.BTCUSD-PERP",
        "index.BTCUSD-INDEX",
    ] {
        assert!(ch.contains(&want), "{want}: {ch:?}");
    }
    assert!(
        !ch.iter()
            .any(|c| c.contains("BTC_USDT") && c.starts_with("ticker"))
    );
    assert_eq!(a.lc.phase(&inst("BTC-USDT")), Phase::Syncing);
}

#[test]
fn many_instruments_spread_over_connections() {
    let names: Vec<String> = (0..40).map(|n| format!("C{n}X-USD-PERP")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let a = adapter(&refs);
    let conns = a.connections();
    // Seven channels a perpetual, at most 100 a connection.
    assert_eq!(conns.len(), 3);
    assert_eq!(conns[1].url, format!("{WS}?conn=2"));
    for c in &a.plan {
        let (b, o) = a.channels(c);
        assert!(b.len() + o.len() <= MAX_CHANNELS_PER_CONN);
    }
    let total: usize = a.plan.iter().map(|c| c.instruments.len()).sum();
    assert_eq!(total, 40);
}

#[test]
fn snapshot_then_update_then_empty_delta() {
    let mut a = adapter(&["BTC-USDT"]);
    open(&mut a, WS);
    let out = feed(&mut a, WS, fixture!("book_snapshot.json"));
    let b = books(&out);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].kind, BookUpdateKind::Snapshot);
    assert_eq!(b[0].bids[0], Level::new(dec!(64725.67), dec!(0.13269)));
    assert_eq!(b[0].asks.len(), 3);
    assert!(a.lc.is_live(&inst("BTC-USDT")));
    let out = feed(&mut a, WS, fixture!("book_update.json"));
    let b = books(&out);
    assert_eq!(b.len(), 1, "{:?}", out.events);
    assert_eq!(b[0].kind, BookUpdateKind::Delta);
    assert_eq!(b[0].asks[0], Level::new(dec!(64725.68), dec!(0)));
    assert_eq!(b[0].bids[0], Level::new(dec!(64725.67), dec!(0.2)));
    assert_eq!(b[0].seq.last, Some(354254250622560));
    // No change: an empty delta that still advances u.
    let out = feed(&mut a, WS, fixture!("book_update_empty.json"));
    assert_eq!(count(&out, Incident::Gap), 0);
    assert!(a.lc.is_live(&inst("BTC-USDT")));
    assert_eq!(
        a.books[&inst("BTC-USDT")].expect,
        sync::Expect::After(354254250622600)
    );
}

#[test]
fn a_gap_resubscribes_for_a_fresh_snapshot() {
    let mut a = adapter(&["BTC-USDT"]);
    open(&mut a, WS);
    feed(&mut a, WS, fixture!("book_snapshot.json"));
    let out = feed(&mut a, WS, fixture!("book_update_gap.json"));
    assert_eq!(count(&out, Incident::Gap), 1);
    assert!(books(&out).is_empty());
    assert!(!a.lc.is_live(&inst("BTC-USDT")));
    let s = sends(&out);
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(s[0].contains(r#""method":"unsubscribe""#) && s[0].contains("book.BTC_USDT.50"));
    assert!(s[1].contains(r#""method":"subscribe""#) && s[1].contains("SNAPSHOT_AND_UPDATE"));
    // Deltas before the new snapshot are dropped; the snapshot restores it.
    let out = feed(&mut a, WS, fixture!("book_update.json"));
    assert!(books(&out).is_empty());
    assert_eq!(count(&out, Incident::Gap), 0);
    feed(&mut a, WS, fixture!("book_snapshot.json"));
    assert!(a.lc.is_live(&inst("BTC-USDT")));
}

#[test]
fn v2_whole_books_replay_and_deltas_without_u_resync() {
    let mut a = adapter(&["ETH-USDT"]);
    let out = feed(&mut a, V2, fixture!("book_v2.json"));
    let b = books(&out);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].kind, BookUpdateKind::Snapshot);
    assert_eq!(b[0].bids[0], Level::new(dec!(4131.21), dec!(0.74041)));
    assert_eq!(b[0].asks[1], Level::new(dec!(4131.5), dec!(1.2)));
    assert!(a.lc.is_live(&inst("ETH-USDT")));
    assert_eq!(a.books[&inst("ETH-USDT")].channel, "book.ETH_USDT.150");
    // Another whole book replaces it.
    let out = feed(&mut a, V2, fixture!("book_v2.json"));
    assert_eq!(books(&out).len(), 1);
    assert_eq!(count(&out, Incident::ParseError), 0);
    // A delta after a book without `u` cannot be checked.
    let delta = fixture!("book_update.json").replace("BTC_USDT", "ETH_USDT");
    let out = feed(&mut a, V2, &delta);
    assert_eq!(count(&out, Incident::ParseError), 1);
    assert!(!a.lc.is_live(&inst("ETH-USDT")));
}

#[test]
fn trades_carry_the_taker_side() {
    let mut a = adapter(&["BTC-USDT", "BTC-USD-PERP"]);
    let out = feed(&mut a, WS, fixture!("trade.json"));
    let t: Vec<_> = out
        .events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Trade(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].side, TakerSide::Sell);
    assert_eq!(t[0].price, dec!(64725.67));
    assert_eq!(t[0].size, dec!(0.0001));
    assert_eq!(t[0].exchange_ts, Some(1_786_371_795_577_000));
    assert_eq!(t[1].side, TakerSide::Buy);
    let out = feed(&mut a, WS, fixture!("perp_trade.json"));
    assert!(matches!(&out.events[..], [MarketEvent::Trade(t)]
        if t.instrument == inst("BTC-USD-PERP") && t.size == dec!(0.015)));
}

#[test]
fn no_liquidation_channel_is_subscribed() {
    let mut a = adapter(&["BTC-USD-PERP"]);
    let s = sends(&open(&mut a, WS)).join("\n");
    assert!(!s.contains("liquidation"), "{s}");
    assert_eq!(SPEC.info.liquidations, "none public");
}

#[test]
fn contract_sizes_convert_linear_perpetual_sizes() {
    let mut a = adapter(&["BTC-USD-PERP"]);
    open(&mut a, WS);
    // Before the list: contract size 1 (base coin).
    let out = feed(&mut a, WS, fixture!("perp_book_snapshot.json"));
    assert_eq!(
        books(&out)[0].bids[0],
        Level::new(dec!(64668.1), dec!(0.2901))
    );
    let mut out = Output::default();
    a.on_http(
        "https://api.crypto.com/exchange/v1/public/get-instruments",
        fixture!("instruments.json"),
        NOW,
        &mut out,
    );
    // Contract size 1, as listed: the live book is kept.
    assert!(a.lc.is_live(&inst("BTC-USD-PERP")));
    assert!(sends(&out).is_empty());
    // A list with another size rebuilds the book, then sizes are scaled.
    let list = fixture!("instruments.json").replace(
        r#""underlying_symbol":"BTCUSD-INDEX","contract_size":"1""#,
        r#""underlying_symbol":"BTCUSD-INDEX","contract_size":"0.001""#,
    );
    let mut out = Output::default();
    a.on_http(
        "https://api.crypto.com/exchange/v1/public/get-instruments",
        &list,
        NOW,
        &mut out,
    );
    assert!(!a.lc.is_live(&inst("BTC-USD-PERP")));
    assert!(
        sends(&out)
            .iter()
            .any(|s| s.contains("book.BTCUSD-PERP.50"))
    );
    let out = feed(&mut a, WS, fixture!("perp_book_snapshot.json"));
    assert_eq!(
        books(&out)[0].bids[0],
        Level::new(dec!(64668.1), dec!(0.0002901))
    );
    let out = feed(&mut a, WS, fixture!("ticker_perp.json"));
    assert_eq!(
        fundings(&out)[0].update.open_interest,
        Some(dec!(6.1155643))
    );
    // Crypto.com has no inverse contracts: nothing is sized in USD.
    assert!(a.contract.values().all(|c| *c > Decimal::ZERO));
}

#[test]
fn heartbeats_are_answered_with_their_id() {
    let mut a = adapter(&["BTC-USDT"]);
    let out = feed(&mut a, WS, fixture!("heartbeat.json"));
    assert_eq!(
        out.actions,
        vec![Action::Send {
            url: WS.to_string(),
            text: r#"{"id":1786371790001,"method":"public/respond-heartbeat"}"#.to_string()
        }]
    );
    assert!(out.events.is_empty());
}

#[test]
fn instrument_lists_v1_and_v2() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut out = Output::default();
    a.start(NOW, &mut out);
    assert_eq!(
        out.actions,
        vec![Action::HttpGet {
            url: "https://api.crypto.com/exchange/v1/public/get-instruments".into()
        }]
    );
    let mut out = Output::default();
    a.on_http(
        "https://api.crypto.com/exchange/v1/public/get-instruments",
        fixture!("instruments.json"),
        NOW,
        &mut out,
    );
    let MarketEvent::Instruments { list, .. } = &out.events[0] else {
        panic!("{:?}", out.events);
    };
    // Futures, warrants and untradable pairs left out.
    let names: Vec<&str> = list.iter().map(|i| i.native.as_str()).collect();
    assert_eq!(names, ["BTCUSD-PERP", "BTC_USDT"]);
    assert_eq!(list[1].tick_size, Some(dec!(0.01)));
    assert_eq!(list[1].lot_size, Some(dec!(0.00001)));
    assert_eq!(list[1].contract_size, None);
    assert_eq!(list[0].instrument, inst("BTC-USD-PERP"));
    assert_eq!(list[0].tick_size, Some(dec!(0.1)));
    assert_eq!(list[0].contract_size, Some(dec!(1)));
    assert_eq!(list[0].contract_usd, None);
    let mut out = Output::default();
    a.on_http(
        "https://api.crypto.com/v2/public/get-instruments",
        fixture!("instruments_v2.json"),
        NOW,
        &mut out,
    );
    let MarketEvent::Instruments { list, .. } = &out.events[0] else {
        panic!("{:?}", out.events);
    };
    assert_eq!(list[0].instrument, inst("CRO-BTC"));
    assert_eq!(list[0].tick_size, Some(dec!(0.0000000001)));
    assert_eq!(list[1].instrument, inst("ETH-USDT"));
    assert_eq!(list[1].lot_size, Some(dec!(0.00001)));
}

#[test]
fn funding_estimated_funding_mark_index_and_open_interest() {
    let mut a = adapter(&["BTC-USD-PERP"]);
    let p = inst("BTC-USD-PERP");
    let out = feed(&mut a, WS, fixture!("funding.json"));
    let f = fundings(&out);
    assert_eq!(f[0].instrument, p);
    assert_eq!(f[0].update.funding_rate, Some(dec!(-0.000000091)));
    assert_eq!(f[0].update.interval, Some(3_600_000_000));
    // 1786371785000 ms is 23 min 5 s past an hour; paid at its end.
    assert_eq!(f[0].update.next_funding, Some(1_786_374_000_000_000));
    let out = feed(&mut a, WS, fixture!("estimatedfunding.json"));
    assert_eq!(
        fundings(&out)[0].update.predicted_rate,
        Some(dec!(-0.000006242))
    );
    let out = feed(&mut a, WS, fixture!("mark.json"));
    assert_eq!(fundings(&out)[0].update.mark_price, Some(dec!(64652.3)));
    let out = feed(&mut a, WS, fixture!("index.json"));
    let f = fundings(&out);
    assert_eq!(f[0].instrument, p);
    assert_eq!(f[0].update.index_price, Some(dec!(64654.45)));
    let out = feed(&mut a, WS, fixture!("ticker_perp.json"));
    let f = fundings(&out);
    assert_eq!(f[0].update.open_interest, Some(dec!(6115.5643)));
    assert_eq!(f[0].exchange_ts, Some(1_786_371_789_379_000));
    // A spot ticker carries nothing we use.
    let spot = fixture!("ticker_perp.json").replace("BTCUSD-PERP", "BTC_USDT");
    assert!(feed(&mut a, WS, &spot).events.is_empty());
}

#[test]
fn subscription_errors_fail_the_books_they_named() {
    let mut a = adapter(&["BTC-USDT"]);
    open(&mut a, WS);
    let out = feed(&mut a, WS, fixture!("error_subscribe.json"));
    assert_eq!(count(&out, Incident::UnknownMessage), 1);
    assert!(out.events.iter().any(|e| matches!(e, MarketEvent::BookState { instrument, .. } if *instrument == inst("BTC-USDT"))));
    // An acknowledgement is silent.
    let mut a = adapter(&["BTC-USDT"]);
    open(&mut a, WS);
    assert!(
        feed(&mut a, WS, fixture!("subscribe_ack.json"))
            .events
            .is_empty()
    );
    assert!(!a.pending.contains_key(&1));
}

#[test]
fn too_many_requests_reconnects() {
    let mut a = adapter(&["BTC-USDT"]);
    open(&mut a, WS);
    let err = fixture!("error_subscribe.json")
        .replace("40107", "42901")
        .replace("EXCEED_MAX_SUBSCRIPTIONS", "TOO_MANY_REQUESTS");
    let out = feed(&mut a, WS, &err);
    assert!(
        out.actions
            .iter()
            .any(|x| matches!(x, Action::Reconnect { url, .. } if url == WS))
    );
}

#[test]
fn close_marks_books_out_of_sync() {
    let mut a = adapter(&["BTC-USDT"]);
    open(&mut a, WS);
    feed(&mut a, WS, fixture!("book_snapshot.json"));
    let mut out = Output::default();
    a.on_close(WS, NOW, &mut out);
    assert!(!a.lc.is_live(&inst("BTC-USDT")));
    // After reopening, deltas wait for the new snapshot.
    open(&mut a, WS);
    let out = feed(&mut a, WS, fixture!("book_update.json"));
    assert!(books(&out).is_empty());
    assert_eq!(count(&out, Incident::Gap), 0);
}

#[test]
fn rest_fallback_polls_get_book() {
    let mut a = adapter(&["BTC-USDT"]);
    let p = a.poll_depth(&inst("BTC-USDT")).unwrap();
    assert_eq!(
        p.url,
        "https://api.crypto.com/exchange/v1/public/get-book?instrument_name=BTC_USDT&depth=50"
    );
    assert!(a.poll_depth(&inst("BTC-USDT-PERP")).is_none());
    let mut out = Output::default();
    a.on_poll(inst("BTC-USDT"), fixture!("get_book.json"), NOW, &mut out);
    let b = books(&out);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].asks[1], Level::new(dec!(64725.79), dec!(0.03151)));
    let mut out = Output::default();
    a.on_poll(inst("BTC-USDT"), "<html>502</html>", NOW, &mut out);
    assert_eq!(count(&out, Incident::ParseError), 1);
}

#[test]
fn malformed_frames_are_counted_not_panicking() {
    let mut a = adapter(&["BTC-USDT", "BTC-USD-PERP"]);
    open(&mut a, WS);
    feed(&mut a, WS, fixture!("book_snapshot.json"));
    let bad = [
        "not json",
        "{}",
        r#"{"method":"subscribe","code":0,"result":{"channel":"book","data":{}}}"#,
        r#"{"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT","channel":"trade","data":[{"p":"x","q":"1","s":"BUY"}]}}"#,
        r#"{"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT","channel":"trade","data":[{"p":"1","q":"1","s":"UP"}]}}"#,
        r#"{"method":"subscribe","code":0,"result":{"instrument_name":"BTCUSD-PERP","channel":"funding","data":[{"v":"abc"}]}}"#,
        r#"{"method":"subscribe","code":0,"result":{"instrument_name":"BTCUSD-PERP","channel":"mark","data":[{"v":"-5","t":1}]}}"#,
        r#"{"method":"subscribe","code":0,"result":{"instrument_name":"BTCUSD-PERP","channel":"funding","data":[{"v":"7","t":1786371785000}]}}"#,
    ];
    for text in bad {
        let out = feed(&mut a, WS, text);
        assert!(
            count(&out, Incident::ParseError) + count(&out, Incident::UnknownMessage) >= 1,
            "{text}: {:?}",
            out.events
        );
    }
    // A bad level breaks the book: counted, out of sync, resubscribed.
    let broken = fixture!("book_update.json").replace(r#"["64725.90","0.40000","1"]"#, r#"["x"]"#);
    let out = feed(&mut a, WS, &broken);
    assert_eq!(count(&out, Incident::ParseError), 1);
    assert!(!a.lc.is_live(&inst("BTC-USDT")));
    assert!(sends(&out).iter().any(|s| s.contains("unsubscribe")));
    // A negative size is rejected by the lifecycle and resynced.
    feed(&mut a, WS, fixture!("book_snapshot.json"));
    let negative = fixture!("book_update.json").replace("0.20000", "-0.2");
    let out = feed(&mut a, WS, &negative);
    assert!(!a.lc.is_live(&inst("BTC-USDT")));
    assert!(count(&out, Incident::Resync) >= 1);
}
