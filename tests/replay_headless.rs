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

    // Line order: books, cbbo, arb, funding/open interest (per perpetual,
    // then the spikes), one summary last.
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.last(), Some(&"summary"));
    let rank = |k: &str| match k {
        // Per perpetual: its funding line, then its open interest.
        "open_interest" => 3,
        k => ["book", "cbbo", "arb", "funding", "spike", "summary"]
            .iter()
            .position(|x| *x == k)
            .map(|i| if i >= 4 { i + 1 } else { i })
            .unwrap(),
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

/// COIN-M (cryptofeed's `BINANCE_DELIVERY`): compared with its reference
/// books where `expected/` has them; otherwise every perpetual's book must
/// end live with no gap, parse error or crossed book (dated futures in the
/// capture are not carried).
#[test]
fn binance_delivery_capture() {
    let Some(dir) = captures() else { return };
    let name = "BINANCE_DELIVERY";
    let file = dir.join(format!("{name}.jsonl.zst"));
    if !file.is_file() {
        eprintln!(
            "SKIPPED binance_delivery_capture: {} not found",
            file.display()
        );
        return;
    }
    if dir.join(format!("expected/{name}.books.jsonl")).is_file() {
        return check_capture(name);
    }
    let lines = run(&[
        "replay",
        "--headless",
        "--json",
        "--speed",
        "max",
        file.to_str().unwrap(),
    ]);
    let books: Vec<&Value> = lines.iter().filter(|l| l["type"] == "book").collect();
    assert!(!books.is_empty(), "{name}: no book lines");
    for b in &books {
        assert_eq!(b["venue"], "binance");
        assert!(
            b["instrument"].as_str().unwrap().ends_with("-USD-PERP"),
            "{b}"
        );
        assert_eq!(b["state"], "live", "{name} {}", b["instrument"]);
    }
    let summary = lines.last().unwrap();
    assert_eq!(summary["gaps"], 0, "{name} gaps");
    assert_eq!(summary["parse_errors"], 0, "{name} parse errors");
    assert_eq!(summary["crossed_books"], 0, "{name} crossed books");
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

/// The Derivatives figures of the Bybit capture against values computed here
/// from its own `tickers` frames: the latest funding rate, interval, mark,
/// index and open interest each ticker delta carried; the rate annualised by
/// hand; the basis against the spot mid of the replay's own CBBO line.
#[test]
fn bybit_capture_funding_and_open_interest_match_its_ticker_frames() {
    let Some(dir) = captures() else { return };
    let path = dir.join("BYBIT.jsonl.zst");
    let raw = zstd::decode_all(std::fs::File::open(&path).unwrap()).unwrap();
    // symbol → field → latest text (Bybit ticker deltas carry changed fields only).
    let mut latest: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> =
        Default::default();
    for line in String::from_utf8(raw).unwrap().lines() {
        let rec: Value = serde_json::from_str(line).unwrap();
        if rec["t"] != "recv" {
            continue;
        }
        let Some(text) = rec["data"].as_str() else {
            continue;
        };
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if !frame["topic"]
            .as_str()
            .is_some_and(|t| t.starts_with("tickers."))
        {
            continue;
        }
        let d = &frame["data"];
        let Some(symbol) = d["symbol"].as_str() else {
            continue;
        };
        let fields = latest.entry(symbol.to_string()).or_default();
        for k in [
            "fundingRate",
            "fundingIntervalHour",
            "markPrice",
            "indexPrice",
            "openInterest",
            "nextFundingTime",
        ] {
            if let Some(v) = d[k].as_str().filter(|v| !v.is_empty()) {
                fields.insert(k.to_string(), v.to_string());
            }
        }
    }
    let lines = run(&[
        "replay",
        "--headless",
        "--json",
        "--speed",
        "max",
        path.to_str().unwrap(),
    ]);
    let mut checked = 0;
    for (symbol, f) in &latest {
        let Some(base) = symbol.strip_suffix("USDT") else {
            continue;
        };
        let inst = format!("{base}-USDT-PERP");
        let Some(funding) = lines
            .iter()
            .find(|l| l["type"] == "funding" && l["instrument"] == inst.as_str())
        else {
            continue; // a spot ticker, or a perpetual with no funding fields
        };
        let rate: f64 = f["fundingRate"].parse().unwrap();
        let norm = |s: &str| {
            s.parse::<rust_decimal::Decimal>()
                .unwrap()
                .normalize()
                .to_string()
        };
        assert_eq!(funding["rate"], norm(&f["fundingRate"]), "{inst}");
        assert_eq!(funding["mark"], norm(&f["markPrice"]), "{inst}");
        assert_eq!(funding["index"], norm(&f["indexPrice"]), "{inst}");
        let hours: f64 = f["fundingIntervalHour"].parse().unwrap();
        assert_eq!(funding["interval_s"], (hours * 3600.0) as i64, "{inst}");
        let annual = rate * 24.0 / hours * 365.0;
        let got = funding["annual"].as_f64().unwrap();
        assert!(
            (got - annual).abs() < 1e-6,
            "{inst}: annual {got} vs {annual}"
        );
        let next_ms: i64 = f["nextFundingTime"].parse().unwrap();
        assert_eq!(funding["next_funding_us"], next_ms * 1000, "{inst}");
        // Basis: mark against the spot CBBO mid of the same base and quote.
        let spot = lines
            .iter()
            .find(|l| l["type"] == "cbbo" && l["instrument"] == format!("{base}-USDT").as_str());
        match spot.map(|s| (s["bid"].as_str(), s["ask"].as_str())) {
            Some((Some(bid), Some(ask))) => {
                let mid = (bid.parse::<f64>().unwrap() + ask.parse::<f64>().unwrap()) / 2.0;
                let mark: f64 = f["markPrice"].parse().unwrap();
                let basis = (mark - mid) / mid * 1e4;
                let got = funding["basis_bps"].as_f64().unwrap();
                assert!((got - basis).abs() < 0.01, "{inst}: basis {got} vs {basis}");
            }
            // No spot book of this base in the capture: no basis.
            _ => assert!(funding["basis_bps"].is_null(), "{inst}: {funding}"),
        }
        // Linear USDT perpetuals: open interest in the base coin as sent.
        let oi = lines
            .iter()
            .find(|l| l["type"] == "open_interest" && l["instrument"] == inst.as_str())
            .unwrap_or_else(|| panic!("no open_interest line for {inst}"));
        assert_eq!(oi["base"], norm(&f["openInterest"]), "{inst}");
        checked += 1;
    }
    assert!(checked >= 2, "checked {checked} perpetuals: {latest:?}");
}

/// The config's alert rules run over a replay on its own clock: the
/// Coinbase–Gemini BTC-USD spread of the aligned captures (8.84 bps net at
/// the end, 5 + 5 bps fees) fires an arbitrage rule, stamped with the
/// captures' time and delivered nowhere.
#[test]
fn replay_reports_the_alerts_the_rules_would_have_fired() {
    let Some(dir) = captures() else { return };
    let cfg_dir = tempfile::tempdir().unwrap();
    let cfg = cfg_dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[feeds]\nstale_after_s = 60\n\n[fees]\ncoinbase = 5\ngemini = 5\n\n\
         [[alerts]]\nname = \"usd-arb\"\nkind = \"arbitrage\"\nmin_net_bps = 5\n\
         min_lifetime_s = 1\ninstruments = [\"BTC-USD\"]\n",
    )
    .unwrap();
    let files = aligned_files(&dir);
    let store = cfg_dir.path().join("replay.sqlite");
    let mut args = vec![
        "--config",
        cfg.to_str().unwrap(),
        "replay",
        "--headless",
        "--json",
        "--speed",
        "max",
        "--align-start",
        "--store",
        store.to_str().unwrap(),
    ];
    args.extend(files.iter().map(String::as_str));
    let lines = run(&args);
    let alerts: Vec<&Value> = lines.iter().filter(|l| l["type"] == "alert").collect();
    assert!(!alerts.is_empty(), "no alert fired");
    for a in &alerts {
        assert_eq!(a["rule"], "usd-arb");
        assert_eq!(a["subject"], "BTC-USD coinbase→gemini");
        assert_eq!(a["deliveries"], serde_json::json!({}));
        // Stamped with the captures' (aligned) time, recorded long before
        // the wall clock of this run.
        let t = a["time_us"].as_i64().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as i64;
        assert!(t > 0 && t < now - 86_400_000_000, "{t}");
    }
    // The alert lines come before the final state.
    let first_book = lines.iter().position(|l| l["type"] == "book").unwrap();
    let last_alert = lines.iter().rposition(|l| l["type"] == "alert").unwrap();
    assert!(last_alert < first_book);
    // With --store, the file keeps them, as the replay printed them.
    let kept = depthwatch::store::SqliteStore::open_read(&store).unwrap();
    use depthwatch::store::Store;
    let rows = kept
        .query(&depthwatch::store::Query::new(
            depthwatch::store::Kind::Alerts,
        ))
        .unwrap();
    assert_eq!(rows.len(), alerts.len(), "one stored row per alert line");
    match &rows[0] {
        depthwatch::store::Record::Alert(a) => {
            assert_eq!(a.rule, "usd-arb");
            assert_eq!(a.time, alerts[0]["time_us"].as_i64().unwrap());
            assert!(a.deliveries.is_empty(), "a replay delivers to no one");
        }
        other => panic!("{other:?}"),
    }
}
