//! COIN-M tests on fixtures written from Binance's COIN-M documentation
//! (tests/fixtures/binance/README.md names the page of each).

use rust_decimal_macros::dec;

use super::*;
use crate::model::{BookState, Incident, Level};
use crate::venues::Action;
use crate::venues::testkit::Collector;

const COINM_WS: &str = "wss://dstream.binance.com/stream?streams=!forceOrder@arr/btcusd_perp@depth@100ms/btcusd_perp@aggTrade/btcusd_perp@markPrice@1s";
const COINM_DEPTH: &str = "https://dapi.binance.com/dapi/v1/depth?symbol=BTCUSD_PERP&limit=1000";
const COINM_INFO: &str = "https://dapi.binance.com/dapi/v1/exchangeInfo";
const COINM_OI: &str = "https://dapi.binance.com/dapi/v1/openInterest?symbol=BTCUSD_PERP";

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/binance")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn adapter() -> Binance {
    Binance::new(AdapterConfig {
        instruments: vec!["BTC-USD-PERP".parse().unwrap()],
        ..AdapterConfig::default()
    })
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

fn book(c: &Collector) -> &crate::book::OrderBook {
    c.book(VENUE, "BTC-USD-PERP").expect("book exists")
}

fn levels(side: &crate::book::Side) -> Vec<Level> {
    side.iter().copied().collect()
}

/// `contracts` of $`usd` at `price`, in the coin (computed independently of
/// the adapter's conversion).
fn coins(contracts: Decimal, usd: Decimal, price: Decimal) -> Decimal {
    (contracts * usd / price).normalize()
}

/// A book made live from the documented snapshot and the two diffs after it.
fn live_book(a: &mut Binance, c: &mut Collector) {
    c.open(a, COINM_WS, 0);
    c.http(a, COINM_INFO, &fixture("coinm_exchange_info.json"), 1);
    c.text(a, COINM_WS, &fixture("coinm_depth_update.json"), 2);
    c.http(a, COINM_DEPTH, &fixture("coinm_depth_snapshot.json"), 3);
    c.text(a, COINM_WS, &fixture("coinm_depth_update_next.json"), 4);
}

#[test]
fn symbols_and_markets() {
    let btc: Instrument = "BTC-USD-PERP".parse().unwrap();
    assert_eq!(Market::of(&btc), Market::CoinM);
    assert_eq!(Market::CoinM.native(&btc), "BTCUSD_PERP");
    assert_eq!(Market::CoinM.instrument("btcusd_perp"), Some(btc));
    assert_eq!(Market::CoinM.instrument("BTCUSD_200925"), None);
    assert!(routing::is_dated_future("BTCUSD_200925"));
    assert!(!routing::is_dated_future("BTCUSD_PERP"));
    assert!(carries(&btc).is_ok());
    assert!(carries(&"BTC-EUR-PERP".parse().unwrap()).is_err());
    let e = routing::Endpoints::from_config(&AdapterConfig::default());
    assert_eq!(e.market_of_ws(COINM_WS), Market::CoinM);
    // An older recording's raw-stream address classifies by its host too.
    assert_eq!(
        e.market_of_ws("wss://dstream.binance.com/ws/btcusd_perp@depth"),
        Market::CoinM
    );
    assert_eq!(
        RestBody::classify(COINM_DEPTH),
        Some(RestBody::Depth {
            market: Market::CoinM,
            native: "BTCUSD_PERP".into()
        })
    );
    assert_eq!(
        RestBody::classify(COINM_INFO),
        Some(RestBody::ExchangeInfo {
            market: Market::CoinM
        })
    );
    assert_eq!(
        RestBody::classify(COINM_OI),
        Some(RestBody::OpenInterest {
            market: Market::CoinM,
            native: "BTCUSD_PERP".into()
        })
    );
    assert_eq!(
        RestBody::classify("https://api.binance.com/api/v3/openInterest?symbol=BTCUSDT"),
        None
    );
}

#[test]
fn start_and_connections_cover_coin_m() {
    let mut a = adapter();
    let mut out = Output::default();
    a.start(0, &mut out);
    assert_eq!(
        out.actions,
        vec![Action::HttpGet {
            url: COINM_INFO.into()
        }]
    );
    let urls: Vec<String> = a.connections().into_iter().map(|c| c.url).collect();
    assert_eq!(urls, vec![COINM_WS.to_string()]);
}

#[test]
fn exchange_info_gives_contract_sizes_and_skips_dated_futures() {
    let mut a = adapter();
    let mut c = Collector::default();
    let mut out = Output::default();
    a.on_http(
        COINM_INFO,
        &fixture("coinm_exchange_info.json"),
        0,
        &mut out,
    );
    let list = out
        .events
        .iter()
        .find_map(|e| match e {
            MarketEvent::Instruments { list, .. } => Some(list.clone()),
            _ => None,
        })
        .expect("a list");
    c.absorb(&mut out);
    assert_eq!(c.count(Incident::ParseError), 0);
    // The dated future is left out, the pending contract is not listed.
    let names: Vec<String> = list.iter().map(|i| i.instrument.to_string()).collect();
    assert_eq!(names, vec!["BTC-USD-PERP", "ETH-USD-PERP"]);
    assert_eq!(list[0].native, "BTCUSD_PERP");
    assert_eq!(list[0].contract_usd, Some(dec!(100)));
    assert_eq!(list[0].contract_size, None);
    assert_eq!(list[0].tick_size, Some(dec!(0.1)));
    assert_eq!(list[0].lot_size, Some(dec!(1)));
    assert_eq!(list[1].contract_usd, Some(dec!(10)));
}

#[test]
fn snapshot_waits_for_the_contract_size_then_the_book_is_in_coins() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, COINM_WS, 0);
    assert_eq!(http_gets(&c), vec![COINM_DEPTH]);
    c.text(&mut a, COINM_WS, &fixture("coinm_depth_update.json"), 1);
    c.http(
        &mut a,
        COINM_DEPTH,
        &fixture("coinm_depth_snapshot.json"),
        2,
    );
    assert_eq!(
        book(&c).state(),
        &BookState::Syncing,
        "contracts are never shown as coins"
    );
    c.http(&mut a, COINM_INFO, &fixture("coinm_exchange_info.json"), 3);
    assert!(book(&c).is_live());
    c.text(
        &mut a,
        COINM_WS,
        &fixture("coinm_depth_update_next.json"),
        4,
    );
    let b = book(&c);
    let usd = dec!(100);
    assert_eq!(
        levels(&b.bids),
        vec![
            Level::new(dec!(9638.0), coins(dec!(10), usd, dec!(9638.0))),
            Level::new(dec!(9636.0), coins(dec!(5), usd, dec!(9636.0))),
        ]
    );
    assert_eq!(
        levels(&b.asks),
        vec![
            Level::new(dec!(9638.5), coins(dec!(45), usd, dec!(9638.5))),
            Level::new(dec!(9640.0), coins(dec!(50), usd, dec!(9640.0))),
        ]
    );
    assert_eq!(
        a.last_update_id(Market::CoinM, "BTCUSD_PERP"),
        Some(16769870)
    );
    assert_eq!(http_gets(&c).len(), 1, "no refetch on the documented path");
}

#[test]
fn pu_gap_resyncs_and_a_new_snapshot_recovers() {
    let mut a = adapter();
    let mut c = Collector::default();
    live_book(&mut a, &mut c);
    assert!(book(&c).is_live());
    c.actions.clear();
    c.text(&mut a, COINM_WS, &fixture("coinm_depth_update_gap.json"), 5);
    assert_eq!(
        book(&c).state(),
        &BookState::OutOfSync(OutOfSyncReason::Gap {
            expected: 16769870,
            got: 16769880
        })
    );
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(http_gets(&c), vec![COINM_DEPTH]);
    // The breaking event is kept and bridges the next snapshot.
    let snap = fixture("coinm_depth_snapshot.json").replace("16769853", "16769885");
    c.http(&mut a, COINM_DEPTH, &snap, 6);
    assert!(book(&c).is_live());
    assert_eq!(
        a.last_update_id(Market::CoinM, "BTCUSD_PERP"),
        Some(16769890)
    );
    let best = book(&c).bids.iter().next().copied();
    assert_eq!(
        best,
        Some(Level::new(
            dec!(9638.0),
            coins(dec!(431), dec!(100), dec!(9638.0))
        ))
    );
}

#[test]
fn agg_trade_is_converted_at_its_price() {
    let mut a = adapter();
    let mut c = Collector::default();
    // Before the contract size: dropped, not shown as 2 BTC.
    c.text(&mut a, COINM_WS, &fixture("coinm_agg_trade.json"), 0);
    assert!(c.trades.is_empty());
    c.http(&mut a, COINM_INFO, &fixture("coinm_exchange_info.json"), 1);
    c.text(&mut a, COINM_WS, &fixture("coinm_agg_trade.json"), 2);
    let t = &c.trades[0];
    assert_eq!(t.instrument.to_string(), "BTC-USD-PERP");
    assert_eq!(t.side, TakerSide::Buy, "buyer not the maker: taker bought");
    assert_eq!(t.price, dec!(9643.5));
    assert_eq!(t.size, coins(dec!(2), dec!(100), dec!(9643.5)));
    assert_eq!(t.exchange_ts, Some(1_591_261_134_288_000));
}

#[test]
fn force_order_is_a_liquidation_in_coins_and_dated_futures_are_skipped() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.http(&mut a, COINM_INFO, &fixture("coinm_exchange_info.json"), 0);
    c.text(&mut a, COINM_WS, &fixture("coinm_force_order.json"), 1);
    c.text(
        &mut a,
        COINM_WS,
        &fixture("coinm_force_order_dated.json"),
        2,
    );
    assert_eq!(c.liquidations.len(), 1);
    let l = &c.liquidations[0];
    assert_eq!(l.instrument.to_string(), "BTC-USD-PERP");
    assert_eq!(l.side, LiquidatedSide::Long);
    assert_eq!(l.price, dec!(9496.5), "the average fill price");
    assert_eq!(l.size, coins(dec!(1), dec!(100), dec!(9496.5)));
    assert_eq!(l.exchange_ts, Some(1_591_154_240_949_000));
    assert_eq!(c.count(Incident::UnknownMessage), 0);
    assert_eq!(c.count(Incident::ParseError), 0);
}

#[test]
fn mark_price_is_funding_and_paces_open_interest_requests() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.http(&mut a, COINM_INFO, &fixture("coinm_exchange_info.json"), 0);
    let mark = fixture("coinm_mark_price.json");
    c.text(&mut a, COINM_WS, &mark, 1_000_000);
    let f = &c.funding[0];
    assert_eq!(f.instrument.to_string(), "BTC-USD-PERP");
    assert_eq!(f.update.funding_rate, Some(dec!(0)));
    assert_eq!(f.update.next_funding, Some(1_596_096_000_000_000));
    assert_eq!(f.update.mark_price, Some(dec!(11012.31359011)));
    assert_eq!(f.update.index_price, Some(dec!(10933.62615417)));
    assert_eq!(f.exchange_ts, Some(1_596_095_725_000_000));
    assert_eq!(http_gets(&c), vec![COINM_OI]);
    // Once a minute, not once a mark price.
    c.text(&mut a, COINM_WS, &mark, 30_000_000);
    assert_eq!(http_gets(&c).len(), 1);
    c.text(&mut a, COINM_WS, &mark, 61_000_000);
    assert_eq!(http_gets(&c), vec![COINM_OI, COINM_OI]);
}

#[test]
fn open_interest_is_exact_in_usd_and_in_coins_at_the_mark() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.http(&mut a, COINM_INFO, &fixture("coinm_exchange_info.json"), 0);
    c.text(&mut a, COINM_WS, &fixture("coinm_mark_price.json"), 1);
    c.funding.clear();
    c.http(&mut a, COINM_OI, &fixture("coinm_open_interest.json"), 2);
    let f = &c.funding[0];
    assert_eq!(f.instrument.to_string(), "BTC-USD-PERP");
    assert_eq!(f.update.open_interest_usd, Some(dec!(1500400)));
    assert_eq!(
        f.update.open_interest,
        Some(coins(dec!(15004), dec!(100), dec!(11012.31359011)))
    );
    assert_eq!(f.update.funding_rate, None, "a partial update");
    assert_eq!(f.exchange_ts, Some(1_591_261_042_378_000));
    // An error body is counted, not fatal.
    c.http(
        &mut a,
        COINM_OI,
        r#"{"code":-1121,"msg":"Invalid symbol."}"#,
        3,
    );
    assert_eq!(c.count(Incident::UnknownMessage), 1);
    assert_eq!(c.funding.len(), 1);
}

#[test]
fn malformed_coin_m_data_is_counted_not_shown() {
    let mut a = adapter();
    let mut c = Collector::default();
    c.open(&mut a, COINM_WS, 0);
    // A COIN-M diff must carry `pu`.
    let no_pu = fixture("coinm_depth_update.json").replace(r#""pu":16769845,"#, "");
    c.text(&mut a, COINM_WS, &no_pu, 1);
    assert_eq!(c.count(Incident::ParseError), 1);
    // A contract without a size: a parse error, and its book never shows
    // contracts as coins.
    let no_size = fixture("coinm_exchange_info.json").replace(r#""contractSize":100,"#, "");
    c.http(&mut a, COINM_INFO, &no_size, 2);
    assert_eq!(c.count(Incident::ParseError), 2);
    c.http(
        &mut a,
        COINM_DEPTH,
        &fixture("coinm_depth_snapshot.json"),
        3,
    );
    assert_eq!(book(&c).state(), &BookState::Syncing);
    // A contract count that cannot be converted takes the book out of sync.
    c.http(&mut a, COINM_INFO, &fixture("coinm_exchange_info.json"), 4);
    assert!(book(&c).is_live());
    c.text(&mut a, COINM_WS, &fixture("coinm_depth_update.json"), 5);
    assert!(book(&c).is_live());
    let huge = fixture("coinm_depth_update_next.json").replace(
        r#"[["9636.0","5"]]"#,
        r#"[["0.0000000001","79228162514264337593543950335"]]"#,
    );
    c.text(&mut a, COINM_WS, &huge, 5);
    assert!(!book(&c).is_live());
    assert!(c.count(Incident::Resync) >= 1);
    let bad_oi = r#"{"symbol":"BTCUSD_PERP","openInterest":"lots","time":1}"#;
    let before = c.count(Incident::ParseError);
    c.http(&mut a, COINM_OI, bad_oi, 6);
    assert_eq!(c.count(Incident::ParseError), before + 1);
    assert!(c.funding.is_empty());
}

#[test]
fn poll_depth_reads_coin_m_and_converts() {
    let mut a = adapter();
    let btc: Instrument = "BTC-USD-PERP".parse().unwrap();
    let poll = a.poll_depth(&btc).expect("COIN-M has REST depth");
    assert_eq!(
        poll.url,
        "https://dapi.binance.com/dapi/v1/depth?symbol=BTCUSD_PERP&limit=100"
    );
    let mut c = Collector::default();
    let mut out = Output::default();
    a.on_http(
        COINM_INFO,
        &fixture("coinm_exchange_info.json"),
        0,
        &mut out,
    );
    a.on_poll(btc, &fixture("coinm_depth_snapshot.json"), 1, &mut out);
    c.absorb(&mut out);
    let b = book(&c);
    assert_eq!(b.state(), &BookState::Polled);
    assert_eq!(
        b.bids.iter().next().copied(),
        Some(Level::new(
            dec!(9638.0),
            coins(dec!(431), dec!(100), dec!(9638.0))
        ))
    );
}
