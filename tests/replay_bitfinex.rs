//! Replays a real Bitfinex capture (`BITFINEX.jsonl.zst`) when the shared
//! captures hold one, and compares the final books with the independent
//! reference when there is one.

use depthwatch::model::Incident;
use depthwatch::venues::AdapterConfig;
use depthwatch::venues::bitfinex::Bitfinex;
use depthwatch::venues::testkit::{captures_or_skip, check_expected, expected_books, replay_file};

#[test]
fn replay_bitfinex_capture_matches_reference() {
    const TEST: &str = "replay_bitfinex_capture_matches_reference";
    let Some(dir) = captures_or_skip(TEST) else {
        return;
    };
    let path = dir.join("BITFINEX.jsonl.zst");
    if !path.exists() {
        eprintln!(
            "SKIPPED {TEST}: no {} (no Bitfinex capture)",
            path.display()
        );
        return;
    }
    let mut adapter = Bitfinex::new(AdapterConfig::default());
    let c = replay_file(&mut adapter, &path).expect("capture replays");
    assert_eq!(c.count(Incident::ParseError), 0, "parse errors");
    assert_eq!(c.count(Incident::Gap), 0, "gaps");
    assert_eq!(c.count(Incident::ChecksumFailed), 0, "checksum failures");
    assert_eq!(c.crossed, 0, "crossed books");
    if dir.join("expected/BITFINEX.books.jsonl").exists() {
        let expected = expected_books(&dir, "BITFINEX");
        if let Err(diff) = check_expected(&c, &expected) {
            panic!("books differ from the reference:\n{diff}");
        }
    } else {
        eprintln!("SKIPPED {TEST} (books part): no expected/BITFINEX.books.jsonl");
    }
}
