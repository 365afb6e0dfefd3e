//! Replays the real Coinbase Advanced Trade capture and compares the final
//! books with the independent reference.

use depthwatch::model::Incident;
use depthwatch::venues::AdapterConfig;
use depthwatch::venues::coinbase::Coinbase;
use depthwatch::venues::testkit::{captures_or_skip, check_expected, expected_books, replay_file};

#[test]
fn replay_coinbase_capture_matches_reference() {
    let Some(dir) = captures_or_skip("replay_coinbase_capture_matches_reference") else {
        return;
    };
    let mut adapter = Coinbase::new(AdapterConfig::default());
    let c = replay_file(&mut adapter, &dir.join("COINBASE.jsonl.zst")).expect("capture replays");
    assert_eq!(c.count(Incident::ParseError), 0, "parse errors");
    assert_eq!(c.count(Incident::Gap), 0, "gaps");
    assert_eq!(c.crossed, 0, "crossed books");
    // ticker and candles are well-formed but not ours.
    assert!(c.count(Incident::UnknownMessage) > 0);
    assert!(!c.trades.is_empty());
    let expected = expected_books(&dir, "COINBASE");
    assert_eq!(expected.len(), 2);
    if let Err(diff) = check_expected(&c, &expected) {
        panic!("books differ from the reference:\n{diff}");
    }
}
