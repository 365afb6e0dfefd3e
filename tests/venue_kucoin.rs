//! KuCoin end to end on capture-format-2 files written here, shaped as
//! cryptofeed's `kucoin.py` records them (exchange `KUCOIN`): the token
//! POST and the symbol list over REST, the connection to the dialled
//! address with its token, `welcome`, acks, `/market/level2` increments,
//! the REST book fetched once the first increment arrived (cryptofeed asks
//! for the keyed full v3 book), more increments, and trades. A futures file
//! in the same format (the recorder's) covers `/contractMarket/level2`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use depthwatch::capture::CaptureWriter;
use depthwatch::model::{Incident, TakerSide, Venue};
use depthwatch::venues::AdapterConfig;
use depthwatch::venues::kucoin::Kucoin;
use depthwatch::venues::testkit::{Collector, replay_file, top_strings};
use rust_decimal_macros::dec;

enum Rec<'a> {
    Http(&'a str, String),
    Connect(&'a str),
    Recv(String),
}

fn write(dir: &Path, name: &str, symbols: &[&str], recs: &[Rec]) -> PathBuf {
    let path = dir.join(format!("{name}.jsonl.zst"));
    let mut cfg = BTreeMap::new();
    let list: Vec<String> = symbols.iter().map(|s| s.to_string()).collect();
    cfg.insert("l2_book".to_string(), list.clone());
    cfg.insert("trades".to_string(), list);
    let mut w = CaptureWriter::create(&path, "KUCOIN", &cfg, 1_729_816_000_000_000).unwrap();
    let mut ts = 1_729_816_000_000_000;
    for r in recs {
        ts += 1000;
        match r {
            Rec::Http(url, body) => w.http("KUCOIN.http.0", ts, url, body).unwrap(),
            Rec::Connect(a) => {
                w.connect("KUCOIN.ws.1", ts, a).unwrap();
                w.send("KUCOIN.ws.1", ts, a, r#"{"id":1,"type":"subscribe"}"#)
                    .unwrap();
            }
            Rec::Recv(text) => w.recv_text("KUCOIN.ws.1", ts, text).unwrap(),
        }
    }
    w.finish().unwrap();
    path
}

fn adapter(symbols: &[&str]) -> Kucoin {
    Kucoin::new(AdapterConfig {
        instruments: symbols.iter().map(|s| s.parse().unwrap()).collect(),
        ..AdapterConfig::default()
    })
}

fn l2(sym: &str, start: u64, end: u64, asks: &str, bids: &str) -> String {
    format!(
        r#"{{"type":"message","topic":"/market/level2:{sym}","subject":"trade.l2update","data":{{"sequenceStart":{start},"symbol":"{sym}","changes":{{"asks":[{asks}],"bids":[{bids}]}},"sequenceEnd":{end}}}}}"#
    )
}

type Levels = Vec<(String, String)>;

fn book_levels(c: &Collector, inst: &str) -> (Levels, Levels) {
    let venue: Venue = "kucoin".parse().unwrap();
    let b = c
        .book(venue, inst)
        .unwrap_or_else(|| panic!("no {inst} book"));
    assert!(b.is_live(), "{inst}: {:?}", b.state());
    (top_strings(&b.bids, 50), top_strings(&b.asks, 50))
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

#[test]
fn spot_capture_as_cryptofeed_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let bullet = r#"{"code":"200000","data":{"token":"TOKEN","instanceServers":[{"endpoint":"wss://ws-api-spot.kucoin.com/","encrypt":true,"protocol":"websocket","pingInterval":18000,"pingTimeout":10000}]}}"#;
    let symbols = r#"{"code":"200000","data":[{"symbol":"BTC-USDT","name":"BTC-USDT","baseCurrency":"BTC","quoteCurrency":"USDT","baseMinSize":"0.00001","baseIncrement":"0.00000001","priceIncrement":"0.1","enableTrading":true}]}"#;
    let full = r#"{"code":"200000","data":{"time":1729816425000,"sequence":"1002","bids":[["100.5","1"],["100.4","2"],["100.1","3"]],"asks":[["100.6","1"],["100.8","2"],["101","5"]]}}"#;
    let eth = r#"{"code":"200000","data":{"time":1729816425000,"sequence":"50","bids":[["2500","1"]],"asks":[["2501","1"]]}}"#;
    let recs = [
        Rec::Http("https://api.kucoin.com/api/v1/bullet-public", bullet.into()),
        Rec::Http("https://api.kucoin.com/api/v1/symbols", symbols.into()),
        Rec::Connect("wss://ws-api-spot.kucoin.com/?token=TOKEN"),
        Rec::Recv(r#"{"id":"NSkIrWGB1s","type":"welcome"}"#.into()),
        Rec::Recv(r#"{"id":"1","type":"ack"}"#.into()),
        Rec::Recv(r#"{"id":"1","type":"ack"}"#.into()),
        // Before the snapshot: 1001..1003; the change at 1001 and 1002 are
        // in the snapshot already, 1003 is not.
        Rec::Recv(l2(
            "BTC-USDT",
            1001,
            1003,
            r#"["100.6","9","1001"]"#,
            r#"["100.5","7","1002"],["100.3","4","1003"]"#,
        )),
        Rec::Http(
            "https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=BTC-USDT",
            full.into(),
        ),
        Rec::Recv(l2("BTC-USDT", 1004, 1005, r#"["100.8","0","1004"],["0","0","1005"]"#, "")),
        Rec::Recv(l2("BTC-USDT", 1006, 1006, r#"["100.7","0.5","1006"]"#, "")),
        // A symbol not in the header: its book is made on first sight.
        Rec::Recv(l2("ETH-USDT", 51, 51, "", r#"["2499","3","51"]"#)),
        Rec::Http(
            "https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=ETH-USDT",
            eth.into(),
        ),
        Rec::Recv(l2("ETH-USDT", 52, 52, r#"["2501","0","52"]"#, "")),
        Rec::Recv(r#"{"type":"message","topic":"/market/match:BTC-USDT","subject":"trade.l3match","data":{"sequence":"1545896669145","type":"match","symbol":"BTC-USDT","side":"sell","price":"100.5","size":"0.25","tradeId":"5c24c5da03aa673885cd67aa","takerOrderId":"5c24c5d903aa6772d55b371e","makerOrderId":"5c2187d003aa677bd09d5c93","time":"1545913818099033203"}}"#.into()),
        Rec::Recv(r#"{"type":"message","topic":"/market/ticker:BTC-USDT","subject":"trade.ticker","data":{"sequence":"1545896668986","price":"0.08","size":"0.011","bestAsk":"0.08","bestAskSize":"0.18","bestBid":"0.049","bestBidSize":"0.036"}}"#.into()),
    ];
    let path = write(dir.path(), "KUCOIN", &["BTC-USDT"], &recs);
    let mut a = adapter(&["BTC-USDT"]);
    let c = replay_file(&mut a, &path).unwrap();
    let (bids, asks) = book_levels(&c, "BTC-USDT");
    assert_eq!(
        bids,
        pairs(&[
            ("100.5", "1"),
            ("100.4", "2"),
            ("100.3", "4"),
            ("100.1", "3")
        ])
    );
    assert_eq!(
        asks,
        pairs(&[("100.6", "1"), ("100.7", "0.5"), ("101", "5")])
    );
    let (bids, asks) = book_levels(&c, "ETH-USDT");
    assert_eq!(bids, pairs(&[("2500", "1"), ("2499", "3")]));
    assert!(asks.is_empty());
    assert_eq!(c.count(Incident::Gap), 0);
    assert_eq!(c.count(Incident::ParseError), 0);
    assert_eq!(c.count(Incident::UnknownMessage), 0);
    let t = &c.trades[0];
    assert_eq!(
        (t.price, t.size, t.side),
        (dec!(100.5), dec!(0.25), TakerSide::Sell)
    );
}

#[test]
fn a_recorded_gap_takes_the_book_out_until_the_next_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snap = |seq: u64, bid: &str| {
        format!(
            r#"{{"code":"200000","data":{{"time":1729816425000,"sequence":"{seq}","bids":[["{bid}","1"]],"asks":[["200","1"]]}}}}"#
        )
    };
    let url = "https://api.kucoin.com/api/v1/market/orderbook/level2_100?symbol=BTC-USDT";
    let recorded = || {
        vec![
            Rec::Connect("wss://ws-api-spot.kucoin.com/?token=T&connectId=1"),
            Rec::Recv(l2("BTC-USDT", 10, 10, "", r#"["99","1","10"]"#)),
            Rec::Http(url, snap(9, "98")),
            Rec::Recv(l2("BTC-USDT", 15, 15, "", r#"["97","1","15"]"#)),
        ]
    };
    let path = write(dir.path(), "KUCOIN", &["BTC-USDT"], &recorded());
    let mut a = adapter(&["BTC-USDT"]);
    let c = replay_file(&mut a, &path).unwrap();
    assert_eq!(c.count(Incident::Gap), 1);
    assert_eq!(c.count(Incident::Resync), 1);
    let venue: Venue = "kucoin".parse().unwrap();
    assert!(!c.book(venue, "BTC-USDT").unwrap().is_live());
    // Continued with a newer snapshot, the book is rebuilt.
    let mut recs = recorded();
    recs.push(Rec::Http(url, snap(15, "96")));
    recs.push(Rec::Recv(l2("BTC-USDT", 16, 16, "", r#"["95","2","16"]"#)));
    let path = write(dir.path(), "KUCOIN2", &["BTC-USDT"], &recs);
    let mut a = adapter(&["BTC-USDT"]);
    let c = replay_file(&mut a, &path).unwrap();
    let (bids, _) = book_levels(&c, "BTC-USDT");
    assert_eq!(bids, pairs(&[("96", "1"), ("95", "2")]));
}

#[test]
fn futures_capture_converts_lots_after_the_contract_list() {
    let dir = tempfile::tempdir().unwrap();
    let contracts = r#"{"code":"200000","data":[{"symbol":"XBTUSDTM","type":"FFWCSX","baseCurrency":"XBT","quoteCurrency":"USDT","multiplier":0.001,"isInverse":false,"lotSize":1,"tickSize":0.1,"status":"Open","fundingFeeRate":0.0001,"openInterest":"1000","markPrice":90000,"indexPrice":90001,"nextFundingRateDateTime":1731916800000}]}"#;
    let snapshot = r#"{"code":"200000","data":{"sequence":100,"symbol":"XBTUSDTM","bids":[[90000.1,500],[90000,1200]],"asks":[[90000.2,300],[90001,800]],"ts":1731897467182000000}}"#;
    let upd = |seq: u64, change: &str| {
        format!(
            r#"{{"topic":"/contractMarket/level2:XBTUSDTM","type":"message","subject":"level2","sn":{seq},"data":{{"sequence":{seq},"change":"{change}","timestamp":1731897467182}}}}"#
        )
    };
    let recs = [
        Rec::Connect("wss://ws-api-futures.kucoin.com/?token=T&connectId=2"),
        Rec::Recv(r#"{"id":"w","type":"welcome"}"#.into()),
        Rec::Recv(upd(100, "90000.2,sell,1")),
        Rec::Recv(upd(101, "90000.2,sell,2")),
        Rec::Http(
            "https://api-futures.kucoin.com/api/v1/level2/snapshot?symbol=XBTUSDTM",
            snapshot.into(),
        ),
        Rec::Recv(upd(102, "90000,buy,0")),
        Rec::Http("https://api-futures.kucoin.com/api/v1/contracts/active", contracts.into()),
        Rec::Recv(upd(103, "89999.5,buy,7")),
        Rec::Recv(r#"{"topic":"/contractMarket/execution:XBTUSDTM","type":"message","subject":"match","data":{"symbol":"XBTUSDTM","sequence":1,"side":"buy","size":40,"price":"90000.2","tradeId":"1","ts":1731831921275000000}}"#.into()),
    ];
    let path = write(dir.path(), "KUCOIN", &["BTC-USDT-PERP"], &recs);
    let mut a = adapter(&["BTC-USDT-PERP"]);
    let c = replay_file(&mut a, &path).unwrap();
    let (bids, asks) = book_levels(&c, "BTC-USDT-PERP");
    assert_eq!(bids, pairs(&[("90000.1", "0.5"), ("89999.5", "0.007")]));
    assert_eq!(asks, pairs(&[("90000.2", "0.002"), ("90001", "0.8")]));
    assert_eq!(c.count(Incident::Gap), 0);
    assert_eq!(c.trades[0].size, dec!(0.04));
    let f = &c.funding[0];
    assert_eq!(f.update.open_interest, Some(dec!(1)));
}
