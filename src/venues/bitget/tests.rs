//! Unit tests on frames shaped after Bitget's documentation
//! (`tests/fixtures/bitget/`, see its README).

use rust_decimal_macros::dec;

use super::*;
use crate::model::{Incident, Level, MarketEvent, TakerSide};
use crate::venues::Action;
use crate::venues::lifecycle::Phase;

const WS: &str = "wss://ws.bitget.com/v2/ws/public";

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/bitget/",
            $name
        ))
    };
}

fn inst(s: &str) -> Instrument {
    s.parse().unwrap()
}

fn adapter(instruments: &[&str]) -> Bitget {
    Bitget::new(AdapterConfig {
        instruments: instruments.iter().map(|s| inst(s)).collect(),
        ..AdapterConfig::default()
    })
}

fn opened(instruments: &[&str]) -> (Bitget, Output) {
    let mut a = adapter(instruments);
    let mut out = Output::default();
    a.on_open(WS, 1, &mut out);
    (a, out)
}

fn feed(a: &mut Bitget, text: &str) -> Output {
    let mut out = Output::default();
    a.on_text(WS, text, 1_754_000_000_000_000, &mut out);
    out
}

fn incidents(out: &Output, kind: Incident) -> usize {
    out.events
        .iter()
        .filter(|e| matches!(e, MarketEvent::Incident { incident, .. } if *incident == kind))
        .count()
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

fn books(out: &Output) -> Vec<&crate::model::BookUpdate> {
    out.events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Book(b) => Some(b),
            _ => None,
        })
        .collect()
}

#[test]
fn symbols_and_product_lines() {
    assert_eq!(native_symbol(&inst("BTC-USDT-PERP")), "BTCUSDT");
    assert_eq!(Market::of("SPOT", "BTCUSDT"), Some(Market::Spot));
    assert_eq!(Market::of("sp", "BTCUSDT"), Some(Market::Spot));
    assert_eq!(Market::of("usdt-futures", "BTCUSDT"), Some(Market::Usdt));
    assert_eq!(Market::of("mc", "BTCUSDT"), Some(Market::Usdt));
    assert_eq!(Market::of("mc", "BTCUSD"), Some(Market::Coin));
    assert_eq!(Market::of("USDC-FUTURES", "BTCPERP"), None);
    assert!(carries(&inst("BTC-USDT-PERP")).is_ok());
    assert!(carries(&inst("BTC-USD-PERP")).is_err());
    assert!(carries(&inst("ETH-BTC")).is_ok());
}

#[test]
fn subscribes_books_trades_and_perp_tickers_in_one_message() {
    let (a, out) = opened(&["BTC-USDT", "BTC-USDT-PERP"]);
    let s = sends(&out);
    assert_eq!(s.len(), 1, "{s:?}");
    let v: Value = serde_json::from_str(&s[0]).unwrap();
    assert_eq!(v["op"], "subscribe");
    let args: Vec<String> = v["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}/{}/{}", a["instType"], a["channel"], a["instId"]))
        .collect();
    assert_eq!(
        args,
        [
            "\"SPOT\"/\"books\"/\"BTCUSDT\"",
            "\"SPOT\"/\"trade\"/\"BTCUSDT\"",
            "\"USDT-FUTURES\"/\"books\"/\"BTCUSDT\"",
            "\"USDT-FUTURES\"/\"trade\"/\"BTCUSDT\"",
            "\"USDT-FUTURES\"/\"ticker\"/\"BTCUSDT\"",
        ]
    );
    let c = a.connections();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].ping.as_ref().unwrap().text, "ping");
    assert_eq!(a.lc.phase(&inst("BTC-USDT")), Phase::Syncing);
}

#[test]
fn many_channels_spread_over_connections_and_small_messages() {
    let names: Vec<String> = (0..40).map(|i| format!("C{i}X-USDT-PERP")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let a = adapter(&refs);
    let conns = a.connections();
    // 40 perps × 3 channels = 120 channels, 50 a connection.
    assert_eq!(conns.len(), 3);
    assert_eq!(conns[1].url, format!("{WS}?conn=2"));
    let mut a = a;
    let mut out = Output::default();
    a.on_open(&conns[0].url, 1, &mut out);
    for s in sends(&out) {
        assert!(s.len() < 4096, "{} bytes", s.len());
    }
    let args: usize = sends(&out)
        .iter()
        .map(|s| {
            serde_json::from_str::<Value>(s).unwrap()["args"]
                .as_array()
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(args, 50);
}

#[test]
fn snapshot_then_update_with_checksum() {
    let (mut a, _) = opened(&["BTC-USDT"]);
    let out = feed(&mut a, fixture!("snapshot.json"));
    let b = books(&out);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].kind, crate::model::BookUpdateKind::Snapshot);
    assert_eq!(b[0].bids[0], Level::new(dec!(65000.10), dec!(0.5)));
    assert_eq!(b[0].asks.len(), 3);
    assert!(a.lc.is_live(&inst("BTC-USDT")));

    let out = feed(&mut a, fixture!("update.json"));
    assert_eq!(incidents(&out, Incident::ChecksumOk), 1);
    assert_eq!(incidents(&out, Incident::ChecksumFailed), 0);
    let b = books(&out);
    assert_eq!(b[0].kind, crate::model::BookUpdateKind::Delta);
    assert_eq!(
        b[0].bids,
        [
            Level::new(dec!(65000.10), dec!(0.75)),
            Level::new(dec!(64999.50), dec!(0))
        ]
    );
    assert_eq!(b[0].seq.last, Some(1005));
    // The text copy holds the wire strings: the checksum is the update's.
    let sync = a.books.get(&inst("BTC-USDT")).unwrap();
    assert_eq!(sync.checksum(), 266418389);
}

#[test]
fn a_wrong_checksum_resubscribes_the_book() {
    let (mut a, _) = opened(&["BTC-USDT"]);
    let _ = feed(&mut a, fixture!("snapshot.json"));
    let _ = feed(&mut a, fixture!("update.json"));
    let out = feed(&mut a, fixture!("update_bad_checksum.json"));
    assert_eq!(incidents(&out, Incident::ChecksumFailed), 1);
    assert_eq!(incidents(&out, Incident::Resync), 1);
    assert!(books(&out).is_empty(), "the broken update is not published");
    assert_eq!(a.lc.phase(&inst("BTC-USDT")), Phase::Syncing);
    let s = sends(&out);
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(s[0].contains("\"op\":\"unsubscribe\"") && s[0].contains("\"books\""));
    assert!(s[1].contains("\"op\":\"subscribe\"") && s[1].contains("\"BTCUSDT\""));
    // Updates are dropped until the resubscription's snapshot.
    assert!(books(&feed(&mut a, fixture!("update.json"))).is_empty());
    let out = feed(&mut a, fixture!("snapshot.json"));
    assert_eq!(books(&out).len(), 1);
    assert!(a.lc.is_live(&inst("BTC-USDT")));
}

#[test]
fn a_seq_that_goes_back_is_a_gap() {
    let (mut a, _) = opened(&["BTC-USDT"]);
    let _ = feed(&mut a, fixture!("snapshot.json"));
    let _ = feed(&mut a, fixture!("update.json"));
    let out = feed(&mut a, fixture!("update_old_seq.json"));
    assert_eq!(incidents(&out, Incident::Gap), 1);
    assert_eq!(incidents(&out, Incident::Resync), 1);
    assert_eq!(sends(&out).len(), 2);
    assert!(!a.lc.is_live(&inst("BTC-USDT")));
}

#[test]
fn v3_pseq_must_chain() {
    let (mut a, _) = opened(&["BTC-USDT-PERP"]);
    let snap = r#"{"action":"snapshot","arg":{"instType":"usdt-futures","topic":"books","symbol":"BTCUSDT"},"data":[{"a":[["100.1","2"]],"b":[["100","1"]],"checksum":0,"seq":10,"pseq":0,"ts":"1754000000000"}]}"#;
    let next = r#"{"action":"update","arg":{"instType":"usdt-futures","topic":"books","symbol":"BTCUSDT"},"data":[{"a":[],"b":[["100","3"]],"checksum":0,"seq":12,"pseq":10,"ts":"1754000000100"}]}"#;
    let skip = r#"{"action":"update","arg":{"instType":"usdt-futures","topic":"books","symbol":"BTCUSDT"},"data":[{"a":[],"b":[["99","3"]],"checksum":0,"seq":20,"pseq":15,"ts":"1754000000200"}]}"#;
    assert_eq!(books(&feed(&mut a, snap)).len(), 1);
    let out = feed(&mut a, next);
    assert_eq!(books(&out).len(), 1);
    assert_eq!(
        incidents(&out, Incident::ChecksumOk),
        0,
        "checksum 0 is not one"
    );
    let out = feed(&mut a, skip);
    assert_eq!(incidents(&out, Incident::Gap), 1);
    assert!(!a.lc.is_live(&inst("BTC-USDT-PERP")));
}

#[test]
fn perpetual_sizes_are_base_coin() {
    let (mut a, _) = opened(&["BTC-USDT-PERP"]);
    let out = feed(&mut a, fixture!("futures_snapshot.json"));
    let b = books(&out);
    assert_eq!(b[0].instrument, inst("BTC-USDT-PERP"));
    assert_eq!(b[0].bids[0], Level::new(dec!(64990.5), dec!(1.2)));
    let out = feed(&mut a, fixture!("futures_update.json"));
    assert_eq!(incidents(&out, Incident::ChecksumOk), 1);
    assert_eq!(
        books(&out)[0].asks,
        [
            Level::new(dec!(64991.0), dec!(0)),
            Level::new(dec!(64991.5), dec!(0.25))
        ]
    );
    // The contract list's sizeMultiplier is a base-coin step, not a
    // contract size.
    let mut out = Output::default();
    let url = "https://api.bitget.com/api/v2/mix/market/contracts?productType=USDT-FUTURES";
    a.on_http(url, fixture!("contracts.json"), 1, &mut out);
    let list = out
        .events
        .iter()
        .find_map(|e| match e {
            MarketEvent::Instruments { list, .. } => Some(list.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(list.len(), 1, "the delivery contract is left out");
    assert_eq!(list[0].instrument, inst("BTC-USDT-PERP"));
    assert_eq!(list[0].tick_size, Some(dec!(0.1)));
    assert_eq!(list[0].lot_size, Some(dec!(0.0001)));
    assert_eq!(list[0].contract_size, None);
}

#[test]
fn spot_symbols_give_ticks_and_lots() {
    let mut a = adapter(&["BTC-USDT"]);
    let mut out = Output::default();
    let url = "https://api.bitget.com/api/v2/spot/public/symbols";
    a.on_http(url, fixture!("spot_symbols.json"), 1, &mut out);
    let MarketEvent::Instruments { list, .. } = &out.events[0] else {
        panic!("{:?}", out.events);
    };
    assert_eq!(list.len(), 1, "offline symbols are left out");
    assert_eq!(list[0].native, "BTCUSDT");
    assert_eq!(list[0].tick_size, Some(dec!(0.01)));
    assert_eq!(list[0].lot_size, Some(dec!(0.000001)));
}

#[test]
fn trades_carry_the_taker_side_and_snapshots_are_history() {
    let (mut a, _) = opened(&["BTC-USDT"]);
    let out = feed(&mut a, fixture!("trade_snapshot.json"));
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, MarketEvent::Trade(_))),
        "the subscription's recent-trades snapshot is history"
    );
    let out = feed(&mut a, fixture!("trade.json"));
    let MarketEvent::Trade(t) = &out.events[0] else {
        panic!("{:?}", out.events);
    };
    assert_eq!(t.side, TakerSide::Sell);
    assert_eq!((t.price, t.size), (dec!(65000.20), dec!(0.15)));
    assert_eq!(t.exchange_ts, Some(1_754_000_000_300_000));
    // A later snapshot (resubscription) repeats old trades: only newer ones count.
    assert!(
        feed(&mut a, fixture!("trade_snapshot.json"))
            .events
            .iter()
            .all(|e| !matches!(e, MarketEvent::Trade(_)))
    );
}

#[test]
fn futures_ticker_is_funding_and_open_interest() {
    let (mut a, _) = opened(&["BTC-USDT-PERP"]);
    let out = feed(&mut a, fixture!("ticker_futures.json"));
    let MarketEvent::Funding(f) = &out.events[0] else {
        panic!("{:?}", out.events);
    };
    assert_eq!(f.instrument, inst("BTC-USDT-PERP"));
    assert_eq!(f.update.funding_rate, Some(dec!(0.0001)));
    assert_eq!(f.update.next_funding, Some(1_754_006_400_000_000));
    assert_eq!(f.update.open_interest, Some(dec!(41234.5678)));
    assert_eq!(f.update.mark_price, Some(dec!(64990.8)));
    assert_eq!(f.update.index_price, Some(dec!(65001.2)));
    assert!(feed(&mut a, fixture!("ticker_spot.json")).events.is_empty());
}

#[test]
fn v1_frames_replay() {
    let mut a = adapter(&[]);
    let out = feed(&mut a, fixture!("v1_snapshot.json"));
    let b = books(&out);
    assert_eq!(b[0].instrument, inst("ETH-USDT"));
    let out = feed(&mut a, fixture!("v1_update.json"));
    assert_eq!(incidents(&out, Incident::ChecksumOk), 1);
    assert_eq!(books(&out).len(), 1);
    let out = feed(&mut a, fixture!("v1_trade.json"));
    let MarketEvent::Trade(t) = &out.events[0] else {
        panic!("{:?}", out.events);
    };
    assert_eq!(t.instrument, inst("ETH-USDT-PERP"));
    assert_eq!((t.side, t.size), (TakerSide::Sell, dec!(0.35)));
    let out = feed(&mut a, fixture!("v1_ticker.json"));
    let MarketEvent::Funding(f) = &out.events[0] else {
        panic!("{:?}", out.events);
    };
    assert_eq!(f.update.funding_rate, Some(dec!(-0.0001)));
    assert_eq!(f.update.open_interest, Some(dec!(21957.17)));
    assert_eq!(f.exchange_ts, Some(1_649_290_077_309_000));
    // v1 coin-M pushes name `BTCUSD`: an inverse perpetual, sizes in coin.
    let coin = r#"{"action":"snapshot","arg":{"instType":"mc","channel":"books","instId":"BTCUSD"},"data":[{"asks":[["40000.5","1.5"]],"bids":[["40000","0.2"]],"checksum":0,"ts":"1649021358917"}]}"#;
    assert_eq!(
        books(&feed(&mut a, coin))[0].instrument,
        inst("BTC-USD-PERP")
    );
}

#[test]
fn events_pongs_and_bad_frames() {
    let (mut a, _) = opened(&["BTC-USDT"]);
    assert!(feed(&mut a, fixture!("pong.txt")).events.is_empty());
    assert!(
        feed(&mut a, fixture!("subscribe_ack.json"))
            .events
            .is_empty()
    );
    let out = feed(&mut a, fixture!("error.json"));
    assert_eq!(incidents(&out, Incident::UnknownMessage), 1);
    for bad in [
        "{\"action\":\"snapshot\",\"arg\":",
        r#"{"action":"snapshot","arg":{"instType":"SPOT","channel":"books","instId":"BTCUSDT"},"data":{"x":1}}"#,
        r#"{"action":"update","arg":{"instType":"SPOT","channel":"trade","instId":"BTCUSDT"},"data":[{"ts":"1","price":"x","size":"1","side":"buy"}]}"#,
        r#"{"action":"update","arg":{"instType":"SPOT","channel":"trade","instId":"BTCUSDT"},"data":[{"ts":"1754000000000","price":"1","size":"1","side":"up"}]}"#,
    ] {
        let out = feed(&mut a, bad);
        assert_eq!(incidents(&out, Incident::ParseError), 1, "{bad}");
    }
    // A level that is not a number takes the book down and resubscribes.
    let _ = feed(&mut a, fixture!("snapshot.json"));
    let bad = r#"{"action":"update","arg":{"instType":"SPOT","channel":"books","instId":"BTCUSDT"},"data":[{"asks":[["abc","1"]],"bids":[],"checksum":0,"seq":2000,"ts":"1754000000000"}]}"#;
    let out = feed(&mut a, bad);
    assert_eq!(incidents(&out, Incident::ParseError), 1);
    assert_eq!(sends(&out).len(), 2);
    assert!(!a.lc.is_live(&inst("BTC-USDT")));
    // Negative sizes are refused by the lifecycle and resubscribed too.
    let _ = feed(&mut a, fixture!("snapshot.json"));
    let neg = r#"{"action":"update","arg":{"instType":"SPOT","channel":"books","instId":"BTCUSDT"},"data":[{"asks":[["65009","-1"]],"bids":[],"checksum":0,"seq":3000,"ts":"1754000000000"}]}"#;
    let out = feed(&mut a, neg);
    assert!(incidents(&out, Incident::ParseError) >= 1);
    assert_eq!(sends(&out).len(), 2);
}

#[test]
fn closing_takes_books_down_and_reopening_resubscribes() {
    let (mut a, _) = opened(&["BTC-USDT"]);
    let _ = feed(&mut a, fixture!("snapshot.json"));
    let mut out = Output::default();
    a.on_close(WS, 2, &mut out);
    assert!(!a.lc.is_live(&inst("BTC-USDT")));
    assert!(books(&feed(&mut a, fixture!("update.json"))).is_empty());
    let mut out = Output::default();
    a.on_open(WS, 3, &mut out);
    assert_eq!(sends(&out).len(), 1);
    assert_eq!(books(&feed(&mut a, fixture!("snapshot.json"))).len(), 1);
}

#[test]
fn a_spent_subscription_budget_reconnects() {
    let (mut a, _) = opened(&["BTC-USDT"]);
    let mut reconnected = false;
    for _ in 0..REQUESTS_PER_CONN {
        let _ = feed(&mut a, fixture!("snapshot.json"));
        let out = feed(&mut a, fixture!("update_bad_checksum.json"));
        if out
            .actions
            .iter()
            .any(|x| matches!(x, Action::Reconnect { .. }))
        {
            reconnected = true;
            assert!(sends(&out).is_empty());
            break;
        }
    }
    assert!(reconnected);
}

#[test]
fn rest_depth_bodies_are_polled() {
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP"]);
    let spot = a.poll_depth(&inst("BTC-USDT")).unwrap();
    assert!(
        spot.url
            .ends_with("/api/v2/spot/market/orderbook?symbol=BTCUSDT&type=step0&limit=150")
    );
    let perp = a.poll_depth(&inst("BTC-USDT-PERP")).unwrap();
    assert!(
        perp.url
            .contains("/api/v2/mix/market/merge-depth?symbol=BTCUSDT&productType=USDT-FUTURES")
    );
    assert!(a.poll_depth(&inst("BTC-USD-PERP")).is_none());
    for (i, body) in [
        ("BTC-USDT", fixture!("orderbook_spot.json")),
        ("BTC-USDT-PERP", fixture!("merge_depth.json")),
    ] {
        let mut out = Output::default();
        a.on_poll(inst(i), body, 1_754_000_000_000_000, &mut out);
        let b = books(&out);
        assert_eq!(b.len(), 1, "{i}: {:?}", out.events);
        assert_eq!(b[0].kind, crate::model::BookUpdateKind::Polled);
        assert_eq!(b[0].bids.len(), 2);
    }
    let mut out = Output::default();
    a.on_poll(
        inst("BTC-USDT"),
        "{\"code\":\"40034\",\"msg\":\"x\",\"data\":null}",
        1,
        &mut out,
    );
    assert_eq!(incidents(&out, Incident::UnknownMessage), 1);
}

/// The backfill asks for the klines of every instrument and interval (spot
/// and futures spell the intervals differently) and the funding history of
/// every perpetual (no open interest: the v2 API has none), and reads the
/// docs' answers (https://www.bitget.com/api-doc/contract/market/Get-Candle-Data,
/// .../spot/market/Get-Candle-Data, .../contract/market/Get-History-Funding-Rate).
#[test]
fn backfill_reads_the_documented_history_answers() {
    use crate::model::{HistoryKind, Timeframe};
    let mut a = adapter(&["BTC-USDT", "BTC-USDT-PERP"]);
    let mut out = Output::default();
    a.start(0, &mut out);
    let paced = out.paced_gets();
    assert_eq!(
        paced.len(),
        13,
        "two instruments, six intervals, one funding: {paced:?}"
    );
    assert_eq!(
        paced[..2],
        [
            "https://api.bitget.com/api/v2/spot/market/candles?symbol=BTCUSDT&granularity=1min&limit=480",
            "https://api.bitget.com/api/v2/mix/market/candles?symbol=BTCUSDT&productType=USDT-FUTURES&granularity=1m&limit=480",
        ]
    );
    assert!(
        paced[8].ends_with("granularity=4h&limit=480"),
        "{}",
        paced[8]
    );
    assert!(
        paced[9].ends_with("granularity=4H&limit=480"),
        "{}",
        paced[9]
    );
    assert!(
        paced[10].ends_with("granularity=1Dutc&limit=480"),
        "{}",
        paced[10]
    );
    assert_eq!(
        paced[12],
        "https://api.bitget.com/api/v2/mix/market/history-fund-rate?symbol=BTCUSDT&productType=USDT-FUTURES&pageSize=90"
    );
    // Futures ("Get Candlestick Data"): `[ts, o, h, l, c, baseVolume,
    // quoteVolume]`; a second row of ours with a zero price is counted.
    let body = r#"{"code":"00000","msg":"success","requestTime":1695800278693,"data":[["1656604800000","37834.5","37849.5","37773.5","37773.5","428.3462","16198849.1079"],["1656604860000","0","1","0","1","1","1"]]}"#;
    let mut out = Output::default();
    a.on_http(&paced[1], body, 0, &mut out);
    let got = out.klines();
    let [(i, tf, k)] = got.as_slice() else {
        panic!("{:?}", out.events);
    };
    assert_eq!((*i, *tf), (inst("BTC-USDT-PERP"), Timeframe::M1));
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].start, 1_656_604_800_000_000);
    assert_eq!(
        (k[0].open, k[0].high, k[0].low, k[0].close),
        (dec!(37834.5), dec!(37849.5), dec!(37773.5), dec!(37773.5))
    );
    assert_eq!(
        (k[0].volume, k[0].turnover, k[0].buy_volume, k[0].trades),
        (dec!(428.3462), Some(dec!(16198849.1079)), None, None)
    );
    assert_eq!(out.parse_errors().len(), 1, "{:?}", out.events);

    // Spot: `usdtVolume` comes before the quote volume.
    let body = r#"{"code":"00000","msg":"success","requestTime":1695800278693,"data":[["1656604800000","37834.5","37849.5","37773.5","37773.5","428.3462","16198849.1079","16198849.1079"]]}"#;
    let mut out = Output::default();
    a.on_http(&paced[0], body, 0, &mut out);
    let got = out.klines();
    let [(i, tf, k)] = got.as_slice() else {
        panic!("{:?}", out.events);
    };
    assert_eq!((*i, *tf), (inst("BTC-USDT"), Timeframe::M1));
    assert_eq!(k[0].turnover, Some(dec!(16198849.1079)));
    assert!(out.parse_errors().is_empty());

    // "Get Historical Funding Rates", newest first; a third row of ours
    // without a time is counted.
    let body = r#"{"code":"00000","msg":"success","requestTime":1695796546319,"data":[{"symbol":"BTCUSDT","fundingRate":"0.0005","fundingTime":"1695776400000"},{"symbol":"BTCUSDT","fundingRate":"0.000013","fundingTime":"1695715200000"},{"symbol":"BTCUSDT","fundingRate":"0.0001"}]}"#;
    let mut out = Output::default();
    a.on_http(&paced[12], body, 0, &mut out);
    let history: Vec<_> = out.histories();
    assert_eq!(
        history,
        vec![(
            inst("BTC-USDT-PERP"),
            HistoryKind::FundingRate,
            vec![
                (1_695_715_200_000_000, dec!(0.000013)),
                (1_695_776_400_000_000, dec!(0.0005)),
            ]
        )]
    );
    assert_eq!(out.parse_errors().len(), 1, "{:?}", out.events);

    // An error answer is a parse error in Bitget's words.
    let mut out = Output::default();
    a.on_http(
        &paced[12],
        r#"{"code":"40034","msg":"Parameter symbol does not exist","requestTime":1695796546319,"data":null}"#,
        0,
        &mut out,
    );
    assert_eq!(
        out.parse_errors(),
        ["funding history code 40034: Parameter symbol does not exist"]
    );
    assert!(out.klines().is_empty());
}
