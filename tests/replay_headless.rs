//! The binary's headless replay against every real capture: final books equal
//! the independently computed reference books, the summary counts what the
//! reference counts, and nothing fails to parse or crosses.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn captures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED replay_headless: {} not found", dir.display());
        None
    }
}

fn run(args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_depthwatch"))
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent-depthwatch-test")
        .output()
        .expect("binary runs");
    assert!(
        out.status.success(),
        "depthwatch {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn check_capture(name: &str) {
    let Some(dir) = captures() else { return };
    let file = dir.join(format!("{name}.jsonl.zst"));
    let lines = run(&[
        "replay",
        "--headless",
        "--json",
        "--speed",
        "max",
        file.to_str().unwrap(),
    ]);
    let expected: Vec<Value> =
        std::fs::read_to_string(dir.join(format!("expected/{name}.books.jsonl")))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();

    // Line order: books, then cbbo, then arb, then one summary last.
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.last(), Some(&"summary"));
    let rank = |k: &str| {
        ["book", "cbbo", "arb", "summary"]
            .iter()
            .position(|x| *x == k)
            .unwrap()
    };
    assert!(
        kinds.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "{kinds:?}"
    );
    // `type` leads every line, as documented.
    for l in &lines {
        assert_eq!(
            l.as_object().unwrap().keys().next().map(String::as_str),
            Some("type")
        );
    }

    for want in expected.iter().filter(|e| e["type"] == "book") {
        let got = lines
            .iter()
            .find(|l| {
                l["type"] == "book"
                    && l["venue"] == want["venue"]
                    && l["instrument"] == want["instrument"]
            })
            .unwrap_or_else(|| {
                panic!(
                    "{name}: no book line for {} {}",
                    want["venue"], want["instrument"]
                )
            });
        assert_eq!(got["state"], "live", "{name} {}", want["instrument"]);
        assert_eq!(
            got["bids"], want["bids"],
            "{name} {} bids",
            want["instrument"]
        );
        assert_eq!(
            got["asks"], want["asks"],
            "{name} {} asks",
            want["instrument"]
        );
        assert_eq!(
            got["levels_bid"], want["levels_bid"],
            "{name} {} bid levels",
            want["instrument"]
        );
        assert_eq!(
            got["levels_ask"], want["levels_ask"],
            "{name} {} ask levels",
            want["instrument"]
        );
    }

    let summary = lines.last().unwrap();
    let reference = expected
        .iter()
        .find(|e| e["type"] == "reference_summary")
        .unwrap();
    assert_eq!(summary["frames"], reference["frames"], "{name} frames");
    assert_eq!(summary["gaps"], reference["gaps"], "{name} gaps");
    assert_eq!(summary["parse_errors"], 0, "{name} parse errors");
    assert_eq!(summary["crossed_books"], 0, "{name} crossed books");
    assert!(summary["frames_per_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn binance_spot_capture() {
    check_capture("BINANCE");
}

#[test]
fn binance_futures_capture() {
    check_capture("BINANCE_FUTURES");
}

#[test]
fn bybit_capture() {
    check_capture("BYBIT");
}

#[test]
fn coinbase_capture() {
    check_capture("COINBASE");
}

#[test]
fn gemini_capture() {
    check_capture("GEMINI");
}

fn aligned_files(dir: &Path) -> Vec<String> {
    ["BYBIT", "COINBASE", "GEMINI"]
        .iter()
        .map(|n| dir.join(format!("{n}.jsonl.zst")).display().to_string())
        .collect()
}

fn cbbo<'a>(lines: &'a [Value], inst: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["type"] == "cbbo" && l["instrument"] == inst)
        .unwrap_or_else(|| panic!("no cbbo line for {inst}"))
}

#[test]
fn aligned_multi_venue_replay_gives_cbbo_and_spreads() {
    let Some(dir) = captures() else { return };
    // The Gemini capture is 14 s long, Bybit's 44 s: allow books to be 60 s
    // old so the end of the aligned replay still uses Gemini.
    let cfg_dir = tempfile::tempdir().unwrap();
    let cfg = cfg_dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[feeds]\nstale_after_s = 60\n\n[fees]\ncoinbase = 5\ngemini = 5\n",
    )
    .unwrap();
    let files = aligned_files(&dir);
    let mut args = vec![
        "--config",
        cfg.to_str().unwrap(),
        "replay",
        "--headless",
        "--json",
        "--speed",
        "max",
        "--align-start",
        "--all-spreads",
    ];
    args.extend(files.iter().map(String::as_str));
    let lines = run(&args);
    // BTC-USD is quoted by Coinbase and Gemini (final reference books:
    // Coinbase 65083.66 / 65083.67, Gemini 65206.28 / 65206.29).
    let btc_usd = cbbo(&lines, "BTC-USD");
    assert_eq!(btc_usd["bid"], "65206.28");
    assert_eq!(btc_usd["bid_venue"], "gemini");
    assert_eq!(btc_usd["ask"], "65083.67");
    assert_eq!(btc_usd["ask_venue"], "coinbase");
    assert_eq!(btc_usd["excluded"], serde_json::json!([]));
    // BTC-USDT: Bybit spot 65140.4 / 65140.5 and Gemini 65264.28 / 65264.52.
    let btc_usdt = cbbo(&lines, "BTC-USDT");
    assert_eq!(btc_usdt["bid"], "65264.28");
    assert_eq!(btc_usdt["bid_venue"], "gemini");
    assert_eq!(btc_usdt["ask"], "65140.5");
    assert_eq!(btc_usdt["ask_venue"], "bybit");
    // --all-spreads lists every venue pair, with the documented fields. The
    // top of the books pays (65206.28 − 65083.67) / 65083.67 = 18.84 bps
    // gross, 8.84 after 5 + 5 bps fees; walking deeper both books trade at
    // worse prices until the marginal unit stops paying.
    let pair = lines
        .iter()
        .find(|a| {
            a["type"] == "arb"
                && a["instrument"] == "BTC-USD"
                && a["buy_venue"] == "coinbase"
                && a["sell_venue"] == "gemini"
        })
        .expect("coinbase→gemini BTC-USD spread");
    let num = |f: &str| -> f64 {
        assert!(pair[f].is_string(), "{f} in {pair}");
        pair[f].as_str().unwrap().parse().unwrap()
    };
    assert_eq!(pair["buy_fee_bps"], "5");
    assert_eq!(pair["sell_fee_bps"], "5");
    let (size, buy, sell) = (num("size"), num("buy_vwap"), num("sell_vwap"));
    let (gross, net, profit) = (num("gross_bps"), num("net_bps"), num("profit"));
    assert!(size > 0.05292903, "walks past the top level: {pair}");
    assert!(buy >= 65083.67 && sell <= 65206.28 && sell > buy, "{pair}");
    assert!(gross < 18.84 && gross > 10.0, "{pair}");
    assert!((net - (gross - 10.0)).abs() < 0.011, "{pair}");
    assert!(
        (profit - size * buy * net / 1e4).abs() / profit < 0.01,
        "{pair}"
    );
}

#[test]
fn a_capture_that_ended_long_ago_is_stale_and_leaves_the_cbbo() {
    let Some(dir) = captures() else { return };
    let files = aligned_files(&dir);
    let mut args = vec![
        "replay",
        "--headless",
        "--json",
        "--speed",
        "max",
        "--align-start",
    ];
    args.extend(files.iter().map(String::as_str));
    let lines = run(&args);
    // With the default 30 s staleness, Gemini (14 s of data) is 30 s silent
    // when Bybit's 44 s capture ends: excluded, and said so.
    let btc_usd = cbbo(&lines, "BTC-USD");
    assert_eq!(btc_usd["bid_venue"], "coinbase");
    assert_eq!(btc_usd["excluded"][0]["venue"], "gemini");
    assert_eq!(btc_usd["excluded"][0]["reason"], "stale");
    let gemini_book = lines
        .iter()
        .find(|l| l["type"] == "book" && l["venue"] == "gemini" && l["instrument"] == "BTC-USD")
        .unwrap();
    assert_eq!(gemini_book["state"], "stale");
}
