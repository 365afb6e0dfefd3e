//! Issue 19: numbers no venue should send (a broken proxy, a bad release, a
//! hostile endpoint) are parse errors, never a crash. The three inputs that
//! made `depthwatch replay --headless --json --speed max` exit with status
//! 101, replayed through the binary as capture-format-2 files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use depthwatch::capture::CaptureWriter;
use serde_json::Value;

const T0: i64 = 1_754_000_000_000_000;

fn capture(
    dir: &Path,
    exchange: &str,
    symbols: &[&str],
    addr: &str,
    http: &[(&str, &str)],
    frames: &[&str],
) -> PathBuf {
    let path = dir.join(format!("{exchange}.jsonl.zst"));
    let cfg = BTreeMap::from([(
        "l2_book".to_string(),
        symbols.iter().map(|s| s.to_string()).collect(),
    )]);
    let mut w = CaptureWriter::create(&path, exchange, &cfg, T0).unwrap();
    let mut ts = T0;
    for (url, body) in http {
        ts += 1_000;
        w.http(&format!("{exchange}.http.1"), ts, url, body)
            .unwrap();
    }
    let conn = format!("{exchange}.ws.1");
    ts += 1_000;
    w.connect(&conn, ts, addr).unwrap();
    for f in frames {
        ts += 1_000;
        w.recv_text(&conn, ts, f).unwrap();
    }
    w.finish().unwrap();
    path
}

/// The replay's JSON lines; the process must exit 0.
fn replay(file: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_depthwatch"))
        .args(["replay", "--headless", "--json", "--speed", "max"])
        .arg(file)
        .env("XDG_CONFIG_HOME", "/nonexistent-depthwatch-test")
        .output()
        .expect("binary runs");
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn summary(lines: &[Value]) -> &Value {
    lines
        .iter()
        .find(|l| l["type"] == "summary")
        .expect("a summary line")
}

fn book<'a>(lines: &'a [Value], instrument: &str) -> Option<&'a Value> {
    lines
        .iter()
        .find(|l| l["type"] == "book" && l["instrument"] == instrument)
}

const GEMINI_WS: &str = "wss://api.gemini.com/v2/marketdata";

#[test]
fn gemini_first_message_with_a_price_at_decimal_max() {
    let dir = tempfile::tempdir().unwrap();
    let file = capture(
        dir.path(),
        "GEMINI",
        &["BTC-USD"],
        GEMINI_WS,
        &[],
        &[
            r#"{"changes":[["buy","1","1"],["sell","79228162514264337593543950335","1"]],"symbol":"BTCUSD","type":"l2_updates"}"#,
        ],
    );
    let lines = replay(&file);
    assert!(summary(&lines)["parse_errors"].as_u64().unwrap() >= 1);
    let b = book(&lines, "BTC-USD").expect("the book is listed");
    assert_ne!(b["state"], "live", "{b}");
}

#[test]
fn gemini_negative_price_is_not_a_level() {
    let dir = tempfile::tempdir().unwrap();
    let file = capture(
        dir.path(),
        "GEMINI",
        &["BTC-USD"],
        GEMINI_WS,
        &[],
        &[
            r#"{"changes":[["buy","-79228162514264337593543950335","1"],["sell","1","1"]],"symbol":"BTCUSD","type":"l2_updates"}"#,
        ],
    );
    let lines = replay(&file);
    assert!(summary(&lines)["parse_errors"].as_u64().unwrap() >= 1);
    let b = book(&lines, "BTC-USD").expect("the book is listed");
    assert_ne!(b["state"], "live", "{b}");
    assert_eq!(b["bids"], Value::Array(vec![]), "no negative level kept");
}

#[test]
fn okx_open_interest_that_overflows_the_contract_conversion() {
    let dir = tempfile::tempdir().unwrap();
    let swaps = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/okx/instruments_swap.json"),
    )
    .unwrap()
    // The fixture's linear BTC swap stands in for DOGE's real listing.
    .replace("BTC-USDT-SWAP", "DOGE-USDT-SWAP");
    let file = capture(
        dir.path(),
        "OKX",
        &["DOGE-USDT-PERP"],
        "wss://ws.okx.com:8443/ws/v5/public",
        &[(
            "https://www.okx.com/api/v5/public/instruments?instType=SWAP",
            &swaps,
        )],
        &[
            r#"{"arg":{"channel":"open-interest","instId":"DOGE-USDT-SWAP"},"data":[{"instId":"DOGE-USDT-SWAP","oi":"79228162514264337593543950335"}]}"#,
        ],
    );
    let lines = replay(&file);
    assert!(summary(&lines)["frames"].as_u64().unwrap() >= 1);
}
