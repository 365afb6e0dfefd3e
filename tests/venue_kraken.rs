//! Kraken Futures end to end: capture-format-2 files recorded the way
//! cryptofeed's `KRAKEN_FUTURES` feed does (REST instrument list first, then
//! `wss://futures.kraken.com/ws/v1`), replayed through the `kraken` adapter,
//! which also keeps serving spot (its `KRAKEN` replays are in
//! `tests/venues_more.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use depthwatch::capture::CaptureWriter;
use depthwatch::model::{Incident, LiquidatedSide};
use depthwatch::venues::testkit::{replay_file, top_strings};
use depthwatch::venues::{Action, AdapterConfig, registry};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const WS: &str = "wss://futures.kraken.com/ws/v1";
const INSTRUMENTS: &str = "https://futures.kraken.com/derivatives/api/v3/instruments";

fn f(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kraken")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write_capture(dir: &Path, http: &[(&str, String)], frames: &[String]) -> std::path::PathBuf {
    let path = dir.join("KRAKEN_FUTURES.jsonl.zst");
    let mut cfg = BTreeMap::new();
    // cryptofeed names PI_XBTUSD and PF_XBTUSD alike: BTC-USD-PERP.
    cfg.insert("l2_book".to_string(), vec!["BTC-USD-PERP".to_string()]);
    cfg.insert("trades".to_string(), vec!["BTC-USD-PERP".to_string()]);
    let mut w =
        CaptureWriter::create(&path, "KRAKEN_FUTURES", &cfg, 1_612_269_000_000_000).unwrap();
    let mut ts = 1_612_269_000_000_000;
    for (url, body) in http {
        w.http("KRAKEN_FUTURES.http", ts, url, body).unwrap();
        ts += 1000;
    }
    let conn = "KRAKEN_FUTURES.ws.1";
    w.connect(conn, ts, WS).unwrap();
    w.send(
        conn,
        ts,
        WS,
        r#"{"event":"subscribe","feed":"book","product_ids":["PI_XBTUSD","PF_XBTUSD"]}"#,
    )
    .unwrap();
    for frame in frames {
        ts += 1000;
        w.recv_text(conn, ts, frame).unwrap();
    }
    w.finish().unwrap();
    path
}

fn base(usd: Decimal, price: Decimal) -> (String, String) {
    (
        price.normalize().to_string(),
        (usd / price).normalize().to_string(),
    )
}

#[test]
fn replays_a_kraken_futures_capture_level_by_level() {
    let dir = tempfile::tempdir().unwrap();
    let frames = [
        f("futures_info.json"),
        f("futures_subscribed.json"),
        f("futures_book_snapshot.json"),
        f("futures_pf_book_snapshot.json"),
        f("futures_heartbeat.json"),
        f("futures_book_update.json"),
        f("futures_trade_snapshot.json"),
        f("futures_trade.json"),
        f("futures_book_update_2.json"),
        f("futures_trade_liquidation.json"),
        f("futures_ticker.json"),
    ];
    let path = write_capture(
        dir.path(),
        &[(INSTRUMENTS, f("futures_instruments.json"))],
        &frames,
    );
    let venue = registry::venue_for_capture("KRAKEN_FUTURES").unwrap();
    assert_eq!(venue, depthwatch::venue!("kraken"));
    assert_eq!(registry::venue_for_capture("KRAKEN"), Some(venue));
    let mut a = registry::build(
        venue,
        AdapterConfig {
            instruments: vec!["BTC-USD-PERP".parse().unwrap()],
            ..AdapterConfig::default()
        },
    );
    let c = replay_file(a.as_mut(), &path).unwrap();
    assert_eq!(c.frames, 11);
    assert_eq!(
        c.count(Incident::ParseError) + c.count(Incident::UnknownMessage) + c.count(Incident::Gap),
        0,
        "{:?}",
        c.incidents
    );
    let pi = c.book(venue, "BTC-USD-PERP").unwrap();
    assert!(pi.is_live());
    assert_eq!(
        top_strings(&pi.bids, 10),
        [
            base(dec!(5000), dec!(34893)),
            base(dec!(6385), dec!(34892.5)),
            base(dec!(10924), dec!(34892)),
        ]
    );
    assert_eq!(top_strings(&pi.asks, 10), [base(dec!(2300), dec!(34912))]);
    // PF_XBTUSD: not in the configuration, created on first sight, in coin.
    let pf = c.book(venue, "BTC-USDMC-PERP").unwrap();
    assert!(pf.is_live());
    assert_eq!(
        top_strings(&pf.bids, 10),
        [
            ("34890".to_string(), "0.5".to_string()),
            ("34889".into(), "1.2345".into())
        ]
    );
    assert_eq!(c.trades.len(), 2);
    assert_eq!(c.liquidations.len(), 1);
    assert_eq!(c.liquidations[0].side, LiquidatedSide::Short);
    assert_eq!(c.funding.len(), 1);
}

#[test]
fn a_replayed_seq_gap_takes_the_book_out_of_sync() {
    let dir = tempfile::tempdir().unwrap();
    let frames = [
        f("futures_book_snapshot.json"),
        f("futures_book_gap.json"),
        f("futures_book_update.json"),
    ];
    let path = write_capture(
        dir.path(),
        &[(INSTRUMENTS, f("futures_instruments.json"))],
        &frames,
    );
    let mut a = registry::build(depthwatch::venue!("kraken"), AdapterConfig::default());
    let c = replay_file(a.as_mut(), &path).unwrap();
    assert_eq!(c.count(Incident::Gap), 1);
    assert!(
        !c.book(depthwatch::venue!("kraken"), "BTC-USD-PERP")
            .unwrap()
            .is_live()
    );
    assert!(c.actions.iter().any(|a| matches!(a,
        Action::Send { url, text } if url == WS && text.contains(r#""event":"subscribe","feed":"book""#))));
}
