//! HTX end to end: capture-format-2 files shaped like cryptofeed's
//! `huobi.py` (`HUOBI`: `wss://api.huobi.pro/ws`, `depth.step0`,
//! `trade.detail`, REST `/v1/common/symbols`) and `huobi_swap.py`
//! (`HUOBI_SWAP`: `swap-ws` and `linear-swap-ws`, `depth.step0`, REST
//! `swap_contract_info` and `swap_funding_rate`) recordings, written here
//! with gzip binary frames as HTX sends them, and replayed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use depthwatch::capture::CaptureWriter;
use depthwatch::model::{Incident, TakerSide};
use depthwatch::venues::testkit::{replay_file, top_strings};
use depthwatch::venues::{Adapter, AdapterConfig, registry};

const HTX: depthwatch::model::Venue = depthwatch::venue!("htx");

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

/// One connection of a capture: its address and the frames received on it.
struct Conn<'a> {
    addr: &'a str,
    frames: Vec<String>,
}

/// REST bodies first (cryptofeed loads symbols before connecting), then the
/// connections' frames interleaved, every frame gzip-compressed binary.
fn write_capture(
    dir: &Path,
    exchange: &str,
    symbols: &[&str],
    http: &[(&str, &str)],
    conns: &[Conn<'_>],
) -> PathBuf {
    let path = dir.join(format!("{exchange}.jsonl.zst"));
    let mut cfg = BTreeMap::new();
    let symbols: Vec<String> = symbols.iter().map(|s| s.to_string()).collect();
    cfg.insert("l2_book".to_string(), symbols.clone());
    cfg.insert("trades".to_string(), symbols);
    let mut ts = 1_754_000_000_000_000;
    let mut w = CaptureWriter::create(&path, exchange, &cfg, ts).unwrap();
    for (url, body) in http {
        w.http(&format!("{exchange}.http.sync"), ts, url, body)
            .unwrap();
        ts += 1000;
    }
    for (n, c) in conns.iter().enumerate() {
        let name = format!("{exchange}.ws.{}", n + 1);
        w.connect(&name, ts, c.addr).unwrap();
        w.send(
            &name,
            ts,
            c.addr,
            r#"{"sub":"market.x.depth.step0","id":1}"#,
        )
        .unwrap();
    }
    let longest = conns.iter().map(|c| c.frames.len()).max().unwrap_or(0);
    for i in 0..longest {
        for (n, c) in conns.iter().enumerate() {
            if let Some(f) = c.frames.get(i) {
                ts += 1000;
                w.recv_binary(&format!("{exchange}.ws.{}", n + 1), ts, &gz(f))
                    .unwrap();
            }
        }
    }
    w.finish().unwrap();
    path
}

fn adapter_for(exchange: &str, instruments: &[&str]) -> Box<dyn Adapter> {
    let venue = registry::venue_for_capture(exchange).expect("replays");
    assert_eq!(venue, HTX);
    registry::build(
        venue,
        AdapterConfig {
            instruments: instruments.iter().map(|s| s.parse().unwrap()).collect(),
            ..AdapterConfig::default()
        },
    )
}

const SYMBOLS: &str = r#"{"status":"ok","data":[{"base-currency":"btc","quote-currency":"usdt","price-precision":2,"amount-precision":6,"symbol":"btcusdt","state":"online"},{"base-currency":"ada","quote-currency":"usdt","price-precision":6,"amount-precision":2,"symbol":"adausdt","state":"online"}]}"#;

#[test]
fn a_huobi_spot_recording_replays_to_the_exact_books() {
    let dir = tempfile::tempdir().unwrap();
    let frames = vec![
        r#"{"id":"1","status":"ok","subbed":"market.btcusdt.depth.step0","ts":1754000000100}"#.to_string(),
        r#"{"ping":1754000000200}"#.to_string(),
        r#"{"ch":"market.btcusdt.depth.step0","ts":1754000001000,"tick":{"bids":[[65010.5,0.4],[65010.0,1.0],[65009.0,2.5]],"asks":[[65011.0,0.3],[65012.5,1.1]],"version":100182534697,"ts":1754000000998}}"#.to_string(),
        r#"{"ch":"market.btcusdt.trade.detail","ts":1754000001100,"tick":{"id":101801945127,"ts":1754000001090,"data":[{"id":10180194512782291967181675,"ts":1754000001090,"tradeId":100341530602,"amount":0.0125,"price":65011.0,"direction":"buy"}]}}"#.to_string(),
        // Every push is the whole book: the second replaces the first.
        r#"{"ch":"market.btcusdt.depth.step0","ts":1754000002000,"tick":{"bids":[[65010.5,0.25],[65009.0,2.5]],"asks":[[65011.0,0.3],[65011.5,0.05],[65012.5,1.1]],"version":100182534698,"ts":1754000001998}}"#.to_string(),
        // Not in the config: the book is created on first sight.
        r#"{"ch":"market.adausdt.depth.step0","ts":1754000002100,"tick":{"bids":[[0.7012,1500.5]],"asks":[[0.7015,320]],"version":5512,"ts":1754000002099}}"#.to_string(),
        r#"{"ch":"market.btcusdt.trade.detail","ts":1754000002200,"tick":{"id":101801945128,"ts":1754000002190,"data":[{"id":10180194512782291967181676,"ts":1754000002190,"tradeId":100341530603,"amount":0.5,"price":65010.5,"direction":"sell"}]}}"#.to_string(),
    ];
    let path = write_capture(
        dir.path(),
        "HUOBI",
        &["BTC-USDT", "ADA-USDT"],
        &[("https://api.huobi.pro/v1/common/symbols", SYMBOLS)],
        &[Conn {
            addr: "wss://api.huobi.pro/ws",
            frames,
        }],
    );
    let mut a = adapter_for("HUOBI", &["BTC-USDT"]);
    let c = replay_file(a.as_mut(), &path).unwrap();
    assert_eq!(c.count(Incident::ParseError), 0);
    assert_eq!(c.count(Incident::Gap), 0);
    let btc = c.book(HTX, "BTC-USDT").unwrap();
    assert!(btc.is_live());
    assert_eq!(
        top_strings(&btc.bids, 10),
        pairs(&[("65010.5", "0.25"), ("65009", "2.5")])
    );
    assert_eq!(
        top_strings(&btc.asks, 10),
        pairs(&[("65011", "0.3"), ("65011.5", "0.05"), ("65012.5", "1.1")])
    );
    let ada = c.book(HTX, "ADA-USDT").unwrap();
    assert!(ada.is_live());
    assert_eq!(top_strings(&ada.bids, 10), pairs(&[("0.7012", "1500.5")]));
    assert_eq!(top_strings(&ada.asks, 10), pairs(&[("0.7015", "320")]));
    assert_eq!(c.trades.len(), 2);
    assert_eq!(c.trades[0].side, TakerSide::Buy);
    assert_eq!(c.trades[1].side, TakerSide::Sell);
    assert_eq!(c.trades[1].size.to_string(), "0.5");
}

const LINEAR_INFO: &str = r#"{"status":"ok","data":[{"symbol":"BTC","contract_code":"BTC-USDT","contract_size":0.001000000000000000,"price_tick":0.1,"contract_status":1,"business_type":"swap","pair":"BTC-USDT","contract_type":"swap"}],"ts":1754000000000}"#;
const INVERSE_INFO: &str = r#"{"status":"ok","data":[{"symbol":"BTC","contract_code":"BTC-USD","contract_size":100.000000000000000000,"price_tick":0.1,"contract_status":1}],"ts":1754000000000}"#;
const FUNDING: &str = r#"{"status":"ok","data":{"estimated_rate":"0.000100000000000000","funding_rate":"-0.000362360011416593","contract_code":"BTC-USD","symbol":"BTC","fee_asset":"BTC","funding_time":"1754006400000","next_funding_time":"1754035200000"},"ts":1754000006000}"#;

#[test]
fn a_huobi_swap_recording_replays_to_the_exact_books_in_base_units() {
    let dir = tempfile::tempdir().unwrap();
    let inverse = vec![
        r#"{"id":"1","status":"ok","subbed":"market.BTC-USD.depth.step0","ts":1754000000100}"#.to_string(),
        r#"{"ch":"market.BTC-USD.depth.step0","ts":1754000001000,"tick":{"mrid":1,"id":1754000001,"bids":[[50000.0,5],[40000.0,8]],"asks":[[62500.0,10]],"ts":1754000000998,"version":1754000001,"ch":"market.BTC-USD.depth.step0"}}"#.to_string(),
        r#"{"ch":"market.BTC-USD.trade.detail","ts":1754000001500,"tick":{"id":74377471712,"ts":1754000001490,"data":[{"amount":6,"quantity":0.012,"ts":1754000001490,"id":743774717120000,"price":50000.0,"direction":"sell"}]}}"#.to_string(),
        // A delisted contract's push without levels changes nothing.
        r#"{"ch":"market.BTC-USD.depth.step0","ts":1754000002000,"tick":{"mrid":1,"id":1754000002,"ts":1754000001998,"version":1754000002,"ch":"market.BTC-USD.depth.step0"}}"#.to_string(),
    ];
    let linear = vec![
        r#"{"ping":1754000000200}"#.to_string(),
        r#"{"ch":"market.BTC-USDT.depth.step0","ts":1754000001100,"tick":{"mrid":2,"id":1754000001,"bids":[[65020.0,250],[65019.5,120]],"asks":[[65020.5,362],[65021.0,120]],"ts":1754000001098,"version":1754000001,"ch":"market.BTC-USDT.depth.step0"}}"#.to_string(),
        r#"{"ch":"market.BTC-USDT.depth.step0","ts":1754000002100,"tick":{"mrid":3,"id":1754000002,"bids":[[65020.0,200],[65019.5,120]],"asks":[[65020.5,362]],"ts":1754000002098,"version":1754000002,"ch":"market.BTC-USDT.depth.step0"}}"#.to_string(),
    ];
    let path = write_capture(
        dir.path(),
        "HUOBI_SWAP",
        &["BTC-USD-PERP", "BTC-USDT-PERP"],
        &[
            (
                "https://api.hbdm.com/swap-api/v1/swap_contract_info",
                INVERSE_INFO,
            ),
            (
                "https://api.hbdm.com/linear-swap-api/v1/swap_contract_info",
                LINEAR_INFO,
            ),
            (
                "https://api.hbdm.com/swap-api/v1/swap_funding_rate?contract_code=BTC-USD",
                FUNDING,
            ),
        ],
        &[
            Conn {
                addr: "wss://api.hbdm.com/swap-ws",
                frames: inverse,
            },
            Conn {
                addr: "wss://api.hbdm.com/linear-swap-ws",
                frames: linear,
            },
        ],
    );
    let mut a = adapter_for("HUOBI_SWAP", &["BTC-USD-PERP", "BTC-USDT-PERP"]);
    let c = replay_file(a.as_mut(), &path).unwrap();
    assert_eq!(c.count(Incident::ParseError), 0);
    // Coin-M: contracts × 100 USD / price, at each level's price.
    let inv = c.book(HTX, "BTC-USD-PERP").unwrap();
    assert!(inv.is_live());
    assert_eq!(
        top_strings(&inv.bids, 10),
        pairs(&[("50000", "0.01"), ("40000", "0.02")])
    );
    assert_eq!(top_strings(&inv.asks, 10), pairs(&[("62500", "0.016")]));
    // USDT-M: contracts × 0.001 BTC.
    let lin = c.book(HTX, "BTC-USDT-PERP").unwrap();
    assert!(lin.is_live());
    assert_eq!(
        top_strings(&lin.bids, 10),
        pairs(&[("65020", "0.2"), ("65019.5", "0.12")])
    );
    assert_eq!(top_strings(&lin.asks, 10), pairs(&[("65020.5", "0.362")]));
    // The coin-M trade: 6 contracts × 100 USD / 50000.
    assert_eq!(c.trades.len(), 1);
    assert_eq!(c.trades[0].side, TakerSide::Sell);
    assert_eq!(c.trades[0].size.to_string(), "0.012");
    // cryptofeed's REST funding poll: rate, next settlement, estimate, period.
    assert_eq!(c.funding.len(), 1);
    let f = &c.funding[0].update;
    assert_eq!(
        f.funding_rate,
        Some("-0.000362360011416593".parse().unwrap())
    );
    assert_eq!(f.predicted_rate, Some("0.0001".parse().unwrap()));
    assert_eq!(f.next_funding, Some(1_754_006_400_000_000));
    assert_eq!(f.interval, Some(8 * 3600 * 1_000_000));
}
