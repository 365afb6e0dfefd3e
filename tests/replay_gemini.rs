//! Replays the real Gemini v2 capture and compares the final
//! books with the independent reference.

use depthwatch::model::Incident;
use depthwatch::venues::AdapterConfig;
use depthwatch::venues::gemini::Gemini;
use depthwatch::venues::testkit::{captures_or_skip, check_expected, expected_books, replay_file};

#[test]
fn replay_gemini_capture_matches_reference() {
    let Some(dir) = captures_or_skip("replay_gemini_capture_matches_reference") else {
        return;
    };
    let mut adapter = Gemini::new(AdapterConfig::default());
    let c = replay_file(&mut adapter, &dir.join("GEMINI.jsonl.zst")).expect("capture replays");
    assert_eq!(c.count(Incident::ParseError), 0, "parse errors");
    assert_eq!(c.count(Incident::Gap), 0, "gaps");
    assert_eq!(c.crossed, 0, "crossed books");
    // Only l2_updates, trade and heartbeat messages are in this capture.
    assert_eq!(c.count(Incident::UnknownMessage), 0, "unknown messages");
    assert!(!c.trades.is_empty());
    let expected = expected_books(&dir, "GEMINI");
    assert_eq!(expected.len(), 10);
    if let Err(diff) = check_expected(&c, &expected) {
        panic!("books differ from the reference:\n{diff}");
    }
}
