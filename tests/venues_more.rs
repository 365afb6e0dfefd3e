//! OKX, Kraken, Bitstamp and Hyperliquid adapters on hand-written frames
//! shaped after each venue's documentation (`tests/fixtures/<venue>/`), and
//! on small capture-format-2 files written into a temporary directory.

use std::collections::BTreeMap;
use std::path::Path;

use depthwatch::capture::CaptureWriter;
use depthwatch::model::{BookState, Incident, LiquidatedSide, OutOfSyncReason, TakerSide, Venue};
use depthwatch::venues::testkit::{Collector, replay_file, top_strings};
use depthwatch::venues::{Action, AdapterConfig};
use rust_decimal_macros::dec;

fn fixture(venue: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(venue)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn config(instruments: &[&str]) -> AdapterConfig {
    AdapterConfig {
        instruments: instruments.iter().map(|s| s.parse().unwrap()).collect(),
        ..AdapterConfig::default()
    }
}

type Levels = Vec<(String, String)>;

fn levels(c: &Collector, venue: Venue, inst: &str) -> (Levels, Levels) {
    let b = c
        .book(venue, inst)
        .unwrap_or_else(|| panic!("no {venue} {inst} book"));
    (top_strings(&b.bids, 50), top_strings(&b.asks, 50))
}

fn pairs(v: &[(&str, &str)]) -> Levels {
    v.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
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

/// Write frames as a capture-format-2 file: one connection, optional REST
/// bodies first, then every frame received in order.
fn write_capture(
    dir: &Path,
    exchange: &str,
    addr: &str,
    http: &[(&str, String)],
    frames: &[String],
) -> std::path::PathBuf {
    let path = dir.join(format!("{exchange}.jsonl.zst"));
    let mut cfg = BTreeMap::new();
    cfg.insert("l2_book".to_string(), vec!["BTC-USD".to_string()]);
    let mut w = CaptureWriter::create(&path, exchange, &cfg, 1_000_000).unwrap();
    let conn = format!("{exchange}.ws.1");
    let mut ts = 1_000_000;
    for (url, body) in http {
        w.http(&format!("{exchange}.http"), ts, url, body).unwrap();
        ts += 1000;
    }
    w.connect(&conn, ts, addr).unwrap();
    w.send(&conn, ts, addr, "{\"recorded\":\"subscribe\"}")
        .unwrap();
    for f in frames {
        ts += 1000;
        w.recv_text(&conn, ts, f).unwrap();
    }
    w.finish().unwrap();
    path
}

// ---- OKX ----------------------------------------------------------------------

mod okx {
    use super::*;
    use depthwatch::venues::okx::Okx;

    const WS: &str = "wss://ws.okx.com:8443/ws/v5/public";
    const SWAP_URL: &str = "https://www.okx.com/api/v5/public/instruments?instType=SWAP";

    fn f(name: &str) -> String {
        fixture("okx", name)
    }

    fn opened(instruments: &[&str]) -> (Okx, Collector) {
        let mut a = Okx::new(config(instruments));
        let mut c = Collector::default();
        c.open(&mut a, WS, 1);
        (a, c)
    }

    #[test]
    fn subscribes_books_trades_liquidations_and_funding() {
        let (_a, c) = opened(&["BTC-USDT", "BTC-USDT-PERP"]);
        let s = sends(&c).join("\n");
        assert!(
            s.contains(r#"{"channel":"books","instId":"BTC-USDT"}"#),
            "{s}"
        );
        assert!(
            s.contains(r#"{"channel":"books","instId":"BTC-USDT-SWAP"}"#),
            "{s}"
        );
        assert!(
            s.contains(r#"{"channel":"trades","instId":"BTC-USDT"}"#),
            "{s}"
        );
        assert!(
            s.contains(r#"{"channel":"liquidation-orders","instType":"SWAP"}"#),
            "{s}"
        );
        assert!(
            s.contains(r#"{"channel":"funding-rate","instId":"BTC-USDT-SWAP"}"#),
            "{s}"
        );
        assert!(
            s.contains(r#"{"channel":"open-interest","instId":"BTC-USDT-SWAP"}"#),
            "{s}"
        );
        assert!(
            !s.contains(r#"{"channel":"funding-rate","instId":"BTC-USDT"}"#),
            "{s}"
        );
    }

    #[test]
    fn snapshot_updates_and_checksums_pass() {
        let (mut a, mut c) = opened(&["BTC-USDT"]);
        c.text(&mut a, WS, &f("subscribe_ack.json"), 2);
        c.text(&mut a, WS, &f("snapshot.json"), 3);
        c.text(&mut a, WS, &f("update.json"), 4);
        c.text(&mut a, WS, &f("keepalive.json"), 5);
        c.text(&mut a, WS, "pong", 6);
        assert_eq!(c.count(Incident::ChecksumOk), 2);
        assert_eq!(c.count(Incident::ChecksumFailed), 0);
        assert_eq!(c.count(Incident::Gap), 0);
        assert_eq!(c.count(Incident::UnknownMessage), 0);
        assert_eq!(c.count(Incident::ParseError), 0);
        let b = c.book(Venue::Okx, "BTC-USDT").unwrap();
        assert!(b.is_live());
        let (bids, asks) = levels(&c, Venue::Okx, "BTC-USDT");
        assert_eq!(
            bids,
            pairs(&[("65000.15", "0.2"), ("65000.1", "0.5"), ("64999.5", "0.01")])
        );
        assert_eq!(
            asks,
            pairs(&[("65000.2", "0.75"), ("65001", "1.5"), ("65002.3", "0.3")])
        );
    }

    #[test]
    fn checksum_mismatch_marks_out_of_sync_and_resubscribes() {
        let (mut a, mut c) = opened(&["BTC-USDT"]);
        c.actions.clear();
        c.text(&mut a, WS, &f("snapshot.json"), 3);
        c.text(&mut a, WS, &f("update.json"), 4);
        c.text(&mut a, WS, &f("update_bad_checksum.json"), 5);
        assert_eq!(c.count(Incident::ChecksumFailed), 1);
        assert_eq!(c.count(Incident::Resync), 1);
        let b = c.book(Venue::Okx, "BTC-USDT").unwrap();
        assert!(matches!(
            b.state(),
            BookState::OutOfSync(OutOfSyncReason::ChecksumMismatch {
                expected: 123456789,
                ..
            })
        ));
        let s = sends(&c);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].contains("\"op\":\"unsubscribe\"") && s[0].contains("BTC-USDT"));
        assert!(s[1].contains("\"op\":\"subscribe\""));
        // Updates before the new snapshot are not applied; the snapshot heals.
        c.text(&mut a, WS, &f("update.json"), 6);
        assert!(!c.book(Venue::Okx, "BTC-USDT").unwrap().is_live());
        c.text(&mut a, WS, &f("snapshot.json"), 7);
        assert!(c.book(Venue::Okx, "BTC-USDT").unwrap().is_live());
    }

    #[test]
    fn sequence_gap_marks_out_of_sync_and_resubscribes() {
        let (mut a, mut c) = opened(&["BTC-USDT"]);
        c.actions.clear();
        c.text(&mut a, WS, &f("snapshot.json"), 3);
        c.text(&mut a, WS, &f("update.json"), 4);
        c.text(&mut a, WS, &f("update_gap.json"), 5);
        assert_eq!(c.count(Incident::Gap), 1);
        assert_eq!(c.count(Incident::Resync), 1);
        let b = c.book(Venue::Okx, "BTC-USDT").unwrap();
        assert_eq!(
            b.state(),
            &BookState::OutOfSync(OutOfSyncReason::Gap {
                expected: 1001,
                got: 1500
            })
        );
        assert_eq!(sends(&c).len(), 2);
    }

    #[test]
    fn older_traffic_without_seq_ids_is_checked_by_checksum_only() {
        let (mut a, mut c) = opened(&["BTC-USDT"]);
        c.text(&mut a, WS, &f("snapshot_no_seq.json"), 3);
        c.text(&mut a, WS, &f("update_no_seq.json"), 4);
        assert_eq!(c.count(Incident::ChecksumOk), 2);
        assert_eq!(c.count(Incident::Gap), 0);
        let (bids, _) = levels(&c, Venue::Okx, "BTC-USDT");
        assert_eq!(bids[1], ("65000".to_string(), "1.3".to_string()));
    }

    #[test]
    fn swap_book_waits_for_contract_size_then_emits_base_sizes() {
        let (mut a, mut c) = opened(&["BTC-USDT-PERP"]);
        c.text(&mut a, WS, &f("swap_snapshot.json"), 3);
        assert_eq!(c.count(Incident::ChecksumOk), 1);
        assert!(
            c.book(Venue::Okx, "BTC-USDT-PERP")
                .is_none_or(|b| !b.is_live()),
            "no sizes before ctVal is known"
        );
        c.http(&mut a, SWAP_URL, &f("instruments_swap.json"), 4);
        let (bids, asks) = levels(&c, Venue::Okx, "BTC-USDT-PERP");
        // ctVal 0.01 BTC per contract.
        assert_eq!(bids, pairs(&[("65000.1", "0.12"), ("65000", "1.5")]));
        assert_eq!(asks, pairs(&[("65000.2", "0.07"), ("65001", "0.4")]));
        c.text(&mut a, WS, &f("swap_update.json"), 5);
        assert_eq!(
            c.count(Incident::ChecksumOk),
            2,
            "checksum over contract sizes"
        );
        let (bids, _) = levels(&c, Venue::Okx, "BTC-USDT-PERP");
        assert_eq!(bids[1], ("65000".to_string(), "1.51".to_string()));
        assert!(c.book(Venue::Okx, "BTC-USDT-PERP").unwrap().is_live());
    }

    #[test]
    fn liquidations_convert_contracts_to_base() {
        let (mut a, mut c) = opened(&["BTC-USDT-PERP"]);
        c.http(&mut a, SWAP_URL, &f("instruments_swap.json"), 2);
        c.text(&mut a, WS, &f("liquidation.json"), 3);
        assert_eq!(c.liquidations.len(), 2);
        let l = &c.liquidations[0];
        assert_eq!(l.instrument.to_string(), "BTC-USDT-PERP");
        assert_eq!(l.side, LiquidatedSide::Short, "side buy closes a short");
        assert_eq!(l.price, dec!(64950.3));
        assert_eq!(l.size, dec!(0.13), "13 contracts × 0.01 BTC");
        assert_eq!(l.exchange_ts, Some(1_692_266_434_010_000));
        assert_eq!(c.liquidations[1].side, LiquidatedSide::Long);
        assert_eq!(c.liquidations[1].size, dec!(0.02));
    }

    #[test]
    fn trades_spot_and_swap() {
        let (mut a, mut c) = opened(&["BTC-USDT", "BTC-USDT-PERP"]);
        c.http(&mut a, SWAP_URL, &f("instruments_swap.json"), 2);
        c.text(&mut a, WS, &f("trade.json"), 3);
        c.text(&mut a, WS, &f("trade_swap.json"), 4);
        assert_eq!(c.trades.len(), 2);
        assert_eq!(c.trades[0].side, TakerSide::Buy);
        assert_eq!(c.trades[0].price, dec!(65000.2));
        assert_eq!(c.trades[0].size, dec!(0.00001186));
        assert_eq!(c.trades[1].instrument.to_string(), "BTC-USDT-PERP");
        assert_eq!(c.trades[1].side, TakerSide::Sell);
        assert_eq!(c.trades[1].size, dec!(0.03));
    }

    #[test]
    fn funding_rate_and_open_interest() {
        let (mut a, mut c) = opened(&["BTC-USDT-PERP"]);
        c.text(&mut a, WS, &f("funding_rate.json"), 3);
        c.text(&mut a, WS, &f("open_interest.json"), 4);
        assert_eq!(c.funding.len(), 2);
        assert_eq!(c.funding[0].update.funding_rate, Some(dec!(0.0001515)));
        assert_eq!(
            c.funding[0].update.next_funding,
            Some(1_700_726_400_000_000)
        );
        assert_eq!(
            c.funding[1].update.open_interest,
            Some(dec!(22161.1301000000309))
        );
    }

    #[test]
    fn error_and_notice_events() {
        let (mut a, mut c) = opened(&["BTC-USDT"]);
        c.actions.clear();
        c.text(&mut a, WS, &f("error.json"), 2);
        assert_eq!(c.count(Incident::UnknownMessage), 1);
        c.text(&mut a, WS, &f("notice.json"), 3);
        assert!(matches!(&c.actions[..], [Action::Reconnect { url, .. }] if url == WS));
    }

    #[test]
    fn malformed_frames_are_parse_errors() {
        let (mut a, mut c) = opened(&["BTC-USDT"]);
        c.text(&mut a, WS, "{\"arg\":{\"channel\":\"books\"", 2);
        c.text(&mut a, WS, "not json", 3);
        c.text(
            &mut a,
            WS,
            r#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"bids":[["abc","1"]],"asks":[]}]}"#,
            4,
        );
        c.text(
            &mut a,
            WS,
            r#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":{"bids":1}}"#,
            5,
        );
        c.text(
            &mut a,
            WS,
            r#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT"}]}"#,
            6,
        );
        assert_eq!(c.count(Incident::ParseError), 5);
        assert!(c.book(Venue::Okx, "BTC-USDT").is_none_or(|b| !b.is_live()));
    }

    /// The OKX v5 docs ("Order book channel", checksum section) build the
    /// string `3366.1:7:3366.8:9:3366:6:3368:8` from bids [3366.1×7, 3366×6]
    /// and asks [3366.8×9, 3368×8], and `3366.1:7:3366.8:9:3368:8:3372:8`
    /// when one bid meets three asks. OKX's earlier API docs publish the
    /// checksums of exactly these two books: -1881014294 and 831078360.
    #[test]
    fn documentation_example_checksums() {
        use depthwatch::model::BookSide;
        use depthwatch::venues::checksum::{TextBook, okx_checksum, okx_checksum_string};
        let mut book = TextBook::default();
        book.set_text(BookSide::Bid, "3366.1", "7");
        book.set_text(BookSide::Bid, "3366", "6");
        book.set_text(BookSide::Ask, "3366.8", "9");
        book.set_text(BookSide::Ask, "3368", "8");
        assert_eq!(
            okx_checksum_string(&book),
            "3366.1:7:3366.8:9:3366:6:3368:8"
        );
        assert_eq!(okx_checksum(&book), -1881014294);

        // The same through the adapter, as a snapshot carrying that checksum.
        let (mut a, mut c) = opened(&["ETH-USDT"]);
        let frame = r#"{"arg":{"channel":"books","instId":"ETH-USDT"},"action":"snapshot","data":[{"asks":[["3366.8","9","10","3"],["3368","8","3","4"],["3372","8","3","4"]],"bids":[["3366.1","7","0","3"]],"ts":"1597026383085","checksum":831078360,"prevSeqId":-1,"seqId":1}]}"#;
        c.text(&mut a, WS, frame, 2);
        assert_eq!(c.count(Incident::ChecksumOk), 1);
        assert!(c.book(Venue::Okx, "ETH-USDT").unwrap().is_live());
    }

    #[test]
    fn replays_a_capture_under_exchange_name_okx() {
        let dir = tempfile::tempdir().unwrap();
        let frames = [
            f("subscribe_ack.json"),
            f("snapshot.json"),
            f("swap_snapshot.json"),
            f("update.json"),
            f("swap_update.json"),
            f("trade.json"),
            f("liquidation.json"),
            "pong".to_string(),
        ];
        let path = write_capture(
            dir.path(),
            "OKX",
            WS,
            &[(SWAP_URL, f("instruments_swap.json"))],
            &frames,
        );
        let mut a = Okx::new(config(&["BTC-USDT", "BTC-USDT-PERP"]));
        let c = replay_file(&mut a, &path).unwrap();
        assert_eq!(c.frames, 8);
        assert_eq!(c.count(Incident::ParseError), 0);
        assert_eq!(c.count(Incident::UnknownMessage), 0);
        assert_eq!(c.count(Incident::ChecksumOk), 4);
        assert!(c.book(Venue::Okx, "BTC-USDT").unwrap().is_live());
        assert!(c.book(Venue::Okx, "BTC-USDT-PERP").unwrap().is_live());
        assert_eq!(c.trades.len(), 1);
        assert_eq!(c.liquidations.len(), 2);
    }
}
