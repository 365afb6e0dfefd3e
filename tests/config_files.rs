//! Config files end to end: fixtures, the example, defaults, watchlist edits
//! that keep the rest of the file byte for byte, reload and atomic saves.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use depthwatch::config::atomic::{self, save_atomic_with};
use depthwatch::config::edit::{self, EXAMPLE, add_instrument, remove_instrument, toggle_venue};
use depthwatch::config::load::check_config_report;
use depthwatch::config::{Config, ConfigWatcher, check, listings, load, save_atomic};
use depthwatch::model::{Instrument, Venue};
use rust_decimal::Decimal;
use toml_edit::DocumentMut;

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

fn inst(s: &str) -> Instrument {
    s.parse().unwrap()
}

fn fixture(name: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config/valid")
        .join(name);
    load(&path).unwrap()
}

#[test]
fn every_valid_fixture_loads() {
    for path in fixtures("valid") {
        if let Err(e) = load(&path) {
            panic!("{} should load:\n{e}", path.display());
        }
    }
}

#[test]
fn every_invalid_fixture_fails_where_its_first_line_says() {
    for path in fixtures("invalid") {
        let text = fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap_or("");
        let expect = first.strip_prefix("# expect: ").unwrap_or_else(|| {
            panic!(
                "{}: first line must be `# expect: L:C: text`",
                path.display()
            )
        });
        let mut parts = expect.splitn(3, ':');
        let line: usize = parts.next().unwrap().trim().parse().unwrap();
        let column: usize = parts.next().unwrap().trim().parse().unwrap();
        let fragment = parts.next().unwrap().trim();
        let name = path.file_name().unwrap();
        let diagnostics = match check(&text, Path::new(name)) {
            Ok(_) => panic!("{} should fail", path.display()),
            Err(d) => d,
        };
        let hit = diagnostics
            .iter()
            .find(|d| d.line == line && d.column == column && d.message.contains(fragment));
        let rendered: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
        let d = hit.unwrap_or_else(|| {
            panic!(
                "{}: expected {line}:{column}: {fragment}\ngot:\n{}",
                path.display(),
                rendered.join("\n")
            )
        });
        let prefix = format!("{}:{line}:{column}: ", name.to_string_lossy());
        assert!(d.to_string().starts_with(&prefix), "{d}");
    }
}

/// Issue 10's drift: Gemini's perpetuals were dropped without a word
/// (`OK: 1 instruments, 0 venues`).
#[test]
fn gemini_perpetuals_are_watched() {
    let text = "[watchlist]\ninstruments = [\"BTC-USDC-PERP\"]\nvenues = [\"gemini\"]\n";
    let config = check(text, Path::new("g.toml")).unwrap();
    let adapters = config.adapter_configs();
    assert_eq!(
        adapters[&depthwatch::venue!("gemini")].instruments,
        [inst("BTC-USDC-PERP")]
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.toml");
    fs::write(&path, text).unwrap();
    let (code, report) = check_config_report(Some(path));
    assert_eq!(code, 0);
    assert!(report.ends_with("1 instruments, 1 venues"), "{report}");
}

/// An instrument only some watched venues carry is allowed, with a note
/// naming the others and why.
#[test]
fn partly_carried_instruments_get_a_note() {
    let text = "[watchlist]\ninstruments = [\"BTC-USD-PERP\"]\nvenues = [\"okx\", \"bybit\"]\n";
    let (config, notes) = depthwatch::config::check_with_notes(text, Path::new("n.toml")).unwrap();
    assert_eq!(
        config.venues_for(&inst("BTC-USD-PERP")),
        [depthwatch::venue!("okx")]
    );
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0].to_string(),
        "n.toml:2:16: BTC-USD-PERP is watched on okx only: bybit lists only USDT and USDC perpetuals"
    );
}

/// Every endpoint key the example documents changes where its venue
/// connects or what it fetches (issue 10: `[endpoints.hyperliquid] rest`
/// was documented and never read).
#[test]
fn every_documented_endpoint_key_is_read() {
    use depthwatch::venues::{Action, AdapterConfig, Output, registry};
    let mut checked = 0;
    for v in Venue::all() {
        let instruments: Vec<Instrument> = [
            "BTC-USDT",
            "BTC-USD",
            "BTC-USDT-PERP",
            "BTC-USD-PERP",
            "BTC-USDC-PERP",
        ]
        .iter()
        .map(|s| inst(s))
        .filter(|i| v.spec().carries(i))
        .collect();
        for e in v.spec().endpoints {
            let scheme = e.kind.schemes()[1];
            let marker = format!("{scheme}override-{}.invalid", e.key.replace('_', "-"));
            let cfg = AdapterConfig {
                instruments: instruments.clone(),
                endpoints: [(e.key.to_string(), marker.clone())].into(),
                ..AdapterConfig::default()
            };
            let mut adapter = registry::build(v, cfg);
            let mut out = Output::default();
            adapter.start(0, &mut out);
            let conns = adapter.connections();
            for c in &conns {
                adapter.on_open(&c.url, 0, &mut out);
            }
            let touched = conns.iter().any(|c| c.url.starts_with(&marker))
                || out.actions.iter().any(|a| match a {
                    Action::HttpGet { url }
                    | Action::HttpGetPaced { url, .. }
                    | Action::HttpPost { url, .. } => url.starts_with(&marker),
                    Action::Send { url, .. } | Action::Reconnect { url, .. } => {
                        url.starts_with(&marker)
                    }
                    Action::Dial { target, .. } => target.starts_with(&marker),
                });
            assert!(touched, "[endpoints.{v}] {} is never read", e.key);
            checked += 1;
        }
    }
    assert!(checked >= 2 * Venue::count());
}

#[test]
fn the_example_is_exactly_the_built_in_defaults() {
    let config = check(EXAMPLE, Path::new("config.example.toml")).unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn the_example_documents_the_retention_of_every_kind() {
    let doc: DocumentMut = EXAMPLE.parse().unwrap();
    let days = doc["store"]["retention_days"].as_table().unwrap();
    for kind in depthwatch::store::Kind::ALL {
        assert_eq!(
            days.get(kind.as_str()).and_then(|d| d.as_integer()),
            Some(i64::from(
                depthwatch::store::settings::DEFAULT_RETENTION_DAYS
            )),
            "[store.retention_days] {kind}"
        );
    }
}

#[test]
fn the_example_documents_every_endpoint_key_with_its_default() {
    let mut documented: Vec<(String, String, String)> = Vec::new();
    let mut venue = None;
    for line in EXAMPLE.lines() {
        let Some(body) = line.strip_prefix("# ") else {
            continue;
        };
        if let Some(v) = body
            .strip_prefix("[endpoints.")
            .and_then(|r| r.strip_suffix(']'))
        {
            venue = Some(v.to_string());
        } else if let (Some(v), Some((key, url))) = (&venue, body.split_once(" = ")) {
            documented.push((
                v.clone(),
                key.to_string(),
                url.trim_matches('"').to_string(),
            ));
        }
    }
    let mut expected = Vec::new();
    for v in Venue::all() {
        for e in v.spec().endpoints {
            expected.push((
                v.as_str().to_string(),
                e.key.to_string(),
                e.default.to_string(),
            ));
        }
    }
    assert_eq!(documented, expected);
}

#[test]
fn no_file_defaults_watch_btc_and_eth_against_usdt_and_usd_spot_and_perp() {
    let config = Config::default();
    let watched = config.instruments();
    for base in ["BTC", "ETH"] {
        for quote in ["USDT", "USD"] {
            assert!(watched.contains(&inst(&format!("{base}-{quote}"))));
            assert!(watched.contains(&inst(&format!("{base}-{quote}-PERP"))));
        }
    }
    let adapters = config.adapter_configs();
    let on = |v: Venue| -> Vec<String> {
        adapters[&v]
            .instruments
            .iter()
            .map(|i| i.to_string())
            .collect()
    };
    assert_eq!(on(depthwatch::venue!("coinbase")), ["BTC-USD", "ETH-USD"]);
    assert_eq!(
        on(depthwatch::venue!("binance")),
        ["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"]
    );
    assert_eq!(
        on(depthwatch::venue!("hyperliquid")),
        ["BTC-USD-PERP", "ETH-USD-PERP"]
    );
    assert_eq!(
        on(depthwatch::venue!("kraken")),
        // Spot, and the inverse futures (PI_XBTUSD, PI_ETHUSD).
        [
            "BTC-USDT",
            "BTC-USD",
            "ETH-USDT",
            "ETH-USD",
            "BTC-USD-PERP",
            "ETH-USD-PERP"
        ]
    );
    assert_eq!(adapters.len(), Venue::count());
    assert!(config.quote_groups.is_empty());
    assert_eq!(
        config.engine_config(),
        depthwatch::engine::config::EngineConfig {
            watchlist: watched,
            ..Default::default()
        }
    );
}

#[test]
fn full_fixture_reaches_engine_and_adapters() {
    let config = fixture("full.toml");
    let engine = config.engine_config();
    assert_eq!(
        engine.taker_fee_bps[&depthwatch::venue!("binance")],
        Decimal::new(75, 1)
    );
    assert_eq!(
        engine.taker_fee_bps[&depthwatch::venue!("bybit")],
        Decimal::new(55, 1)
    );
    assert_eq!(
        engine.taker_fee_bps[&depthwatch::venue!("okx")],
        Decimal::from(10)
    );
    assert_eq!(engine.default_taker_fee_bps, Decimal::from(12));
    assert_eq!(engine.arb_min_net_bps, Decimal::from(-5));
    assert_eq!(engine.arb_min_profit, Decimal::new(125, 2));
    assert_eq!(engine.arb_max_notional, Decimal::from(50_000));
    assert_eq!(engine.arb_history, 50);
    assert_eq!(engine.liq_min_notional_usd, 10_000.0);
    assert_eq!(engine.liq_tape_len, 100);
    assert_eq!(engine.large_trade_usd, 250_000.5);
    assert_eq!(engine.trade_tape_len, 1000);
    assert_eq!(engine.stale_after, 2_500_000);
    assert_eq!(engine.snapshot_depth, 25);
    assert_eq!(engine.quote_groups.len(), 1);
    assert_eq!(config.ui.fps, 120);
    assert_eq!(config.ui.keymap["quit"], "ctrl-q");
    assert_eq!(config.ui.theme, depthwatch::config::Theme::Light);
    assert!(!config.store.enabled);
    assert_eq!(
        config.store.path.as_deref(),
        Some(Path::new("/tmp/depthwatch-history.sqlite"))
    );
    use depthwatch::store::Kind;
    assert_eq!(config.store.retention.days(Kind::Trades), 7);
    assert_eq!(config.store.retention.days(Kind::Incidents), 90);
    assert_eq!(config.store.retention.days(Kind::Arbitrage), 30);

    let adapters = config.adapter_configs();
    assert_eq!(
        adapters.keys().copied().collect::<Vec<_>>(),
        [depthwatch::venue!("binance"), depthwatch::venue!("bybit")]
    );
    let binance = &adapters[&depthwatch::venue!("binance")];
    let names: Vec<String> = binance.instruments.iter().map(|i| i.to_string()).collect();
    assert_eq!(names, ["BTC-USDT", "ETH-USDT-PERP", "DOGE-USDT"]);
    assert!(!binance.channels.trades && !binance.channels.liquidations);
    assert!(binance.channels.book && binance.channels.funding);
    assert_eq!(
        binance.endpoint(&depthwatch::venues::binance::SPEC, "spot_ws"),
        "ws://127.0.0.1:9001"
    );
    assert_eq!(
        binance.endpoint(&depthwatch::venues::binance::SPEC, "futures_rest"),
        "https://fapi.binance.com"
    );
    assert!(adapters[&depthwatch::venue!("bybit")].endpoints.is_empty());
}

#[test]
fn per_instrument_venues_override_the_global_set() {
    let config = fixture("overrides.toml");
    let names: Vec<String> = config.instruments().iter().map(|i| i.to_string()).collect();
    assert_eq!(
        names,
        ["BTC-USDT", "ETH-USD", "BTC-USDT-PERP", "BTC-USD-PERP"]
    );
    assert_eq!(
        config.venues_for(&inst("ETH-USD")),
        [depthwatch::venue!("coinbase"), depthwatch::venue!("gemini")]
    );
    assert_eq!(
        config.venues_for(&inst("BTC-USDT")),
        [
            depthwatch::venue!("binance"),
            depthwatch::venue!("okx"),
            depthwatch::venue!("kraken")
        ]
    );
    let adapters = config.adapter_configs();
    let on = |v: Venue| -> Vec<String> {
        adapters
            .get(&v)
            .map(|a| a.instruments.iter().map(|i| i.to_string()).collect())
            .unwrap_or_default()
    };
    assert_eq!(on(depthwatch::venue!("bybit")), ["BTC-USDT-PERP"]);
    assert_eq!(
        on(depthwatch::venue!("binance")),
        ["BTC-USDT", "BTC-USDT-PERP"]
    );
    assert_eq!(on(depthwatch::venue!("gemini")), ["ETH-USD"]);
    assert_eq!(on(depthwatch::venue!("hyperliquid")), ["BTC-USD-PERP"]);
    assert!(on(depthwatch::venue!("bitstamp")).is_empty());
    assert_eq!(config.quote_groups.len(), 2);
}

#[test]
fn check_config_reports_counts_or_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    fs::write(&good, "[watchlist]\ninstruments = [\"BTC-USD\", \"ETH-USD\"]\nvenues = [\"coinbase\", \"gemini\", \"binance\"]\n").unwrap();
    let (code, text) = check_config_report(Some(good.clone()));
    assert_eq!(code, 0);
    assert_eq!(
        text,
        format!(
            "OK: {p}: 2 instruments, 2 venues\n\
             note: {p}:2:16: BTC-USD is watched on coinbase, gemini only: binance does not list BTC-USD\n\
             note: {p}:2:27: ETH-USD is watched on coinbase, gemini only: binance does not list ETH-USD",
            p = good.display()
        )
    );

    let bad = dir.path().join("bad.toml");
    fs::write(&bad, "[ui]\nfps = 500\n\n[watchlist]\nvenues = [\"ftx\"]\n").unwrap();
    let (code, text) = check_config_report(Some(bad.clone()));
    assert_eq!(code, 1);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with(&format!(
        "{}:2:7: fps must be between 1 and 120",
        bad.display()
    )));
    assert!(lines[1].starts_with(&format!("{}:5:11: unknown venue \"ftx\"", bad.display())));

    let (code, _) = check_config_report(Some(dir.path().join("missing.toml")));
    assert_eq!(code, 1);
}

/// Line diff (LCS) of two texts as `-line` / `+line` entries.
fn diff(old: &str, new: &str) -> Vec<String> {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("-{}", a[i].trim_end_matches('\n')));
            i += 1;
        } else {
            out.push(format!("+{}", b[j].trim_end_matches('\n')));
            j += 1;
        }
    }
    out
}

const COMMENTED: &str = r#"# My depthwatch setup.   (trailing spaces kept)
#
# Majors first; alts later.

quote_groups = [ ["USD", "USDT"] ]   # treat dollars alike

[watchlist]  # what I look at
instruments = [
    # --- majors ---
    "BTC-USDT",   # the big one
    "ETH-USDT",
    "BTC-USD",    # coinbase & co
    # --- alts ---
    "SOL-USDT",
]
venues = ['binance', 'okx',   'coinbase', "bybit", "gemini"]  # no kraken today

# Funding-rate watch.
[[watchlist.instrument]]
name    = "BTC-USDT-PERP"   # aligned on purpose
venues  = [ "binance", "bybit" ]   # okx later

[fees]
binance = 7.5    # VIP 1
okx     = 8

[ui]
fps = 60         # smooth
keymap = { quit = "ctrl-q" }

# end of file comment
"#;

#[test]
fn watchlist_edits_keep_every_other_byte() {
    let mut doc: DocumentMut = COMMENTED.parse().unwrap();
    assert!(add_instrument(&mut doc, &inst("DOGE-USDT")).unwrap());
    assert!(!add_instrument(&mut doc, &inst("btc-usdt")).unwrap());
    assert_eq!(diff(COMMENTED, &doc.to_string()), ["+    \"DOGE-USDT\","]);

    let mut doc: DocumentMut = COMMENTED.parse().unwrap();
    assert!(remove_instrument(&mut doc, &inst("BTC-USD")).unwrap());
    assert!(!remove_instrument(&mut doc, &inst("XRP-USDT")).unwrap());
    assert_eq!(
        diff(COMMENTED, &doc.to_string()),
        ["-    \"BTC-USD\",    # coinbase & co"]
    );

    let mut doc: DocumentMut = COMMENTED.parse().unwrap();
    assert!(toggle_venue(&mut doc, &inst("BTC-USDT-PERP"), depthwatch::venue!("okx")).unwrap());
    assert_eq!(
        diff(COMMENTED, &doc.to_string()),
        [
            "-venues  = [ \"binance\", \"bybit\" ]   # okx later",
            "+venues  = [ \"binance\", \"bybit\", \"okx\" ]   # okx later",
        ]
    );
    assert!(
        !toggle_venue(
            &mut doc,
            &inst("BTC-USDT-PERP"),
            depthwatch::venue!("binance")
        )
        .unwrap()
    );
    assert_eq!(
        diff(COMMENTED, &doc.to_string()),
        [
            "-venues  = [ \"binance\", \"bybit\" ]   # okx later",
            "+venues  = [ \"bybit\", \"okx\" ]   # okx later",
        ]
    );

    // A perp watched through the override table only is removed with it.
    let mut doc: DocumentMut = COMMENTED.parse().unwrap();
    assert!(remove_instrument(&mut doc, &inst("BTC-USDT-PERP")).unwrap());
    assert_eq!(
        diff(COMMENTED, &doc.to_string()),
        [
            "-# Funding-rate watch.",
            "-[[watchlist.instrument]]",
            "-name    = \"BTC-USDT-PERP\"   # aligned on purpose",
            "-venues  = [ \"binance\", \"bybit\" ]   # okx later",
            "-",
        ]
    );

    // Toggling an instrument without its own list writes one, right after
    // the existing table, from the venues it was on.
    let mut doc: DocumentMut = COMMENTED.parse().unwrap();
    assert!(!toggle_venue(&mut doc, &inst("SOL-USDT"), depthwatch::venue!("coinbase")).unwrap());
    let edited = doc.to_string();
    assert_eq!(
        diff(COMMENTED, &edited),
        [
            "+[[watchlist.instrument]]",
            "+name = \"SOL-USDT\"",
            "+venues = [\"binance\", \"okx\", \"bybit\", \"gemini\"]",
            "+",
        ]
    );
    assert!(edited.contains(
        "# okx later\n\n[[watchlist.instrument]]\nname = \"SOL-USDT\"\nvenues = [\"binance\", \"okx\", \"bybit\", \"gemini\"]\n\n[fees]\n"
    ));
    let config = check(&edited, Path::new("x")).unwrap();
    assert_eq!(
        config.venues_for(&inst("SOL-USDT")),
        [
            depthwatch::venue!("binance"),
            depthwatch::venue!("okx"),
            depthwatch::venue!("bybit"),
            depthwatch::venue!("gemini")
        ]
    );
}

#[test]
fn the_first_edit_creates_the_file_from_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("config.toml");
    let (config, text, added) =
        edit::edit_file(&path, |d| add_instrument(d, &inst("SOL-USDT"))).unwrap();
    assert!(added);
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert_eq!(diff(EXAMPLE, &text), ["+    \"SOL-USDT\","]);
    assert_eq!(
        config.instruments().len(),
        listings::DEFAULT_WATCHLIST.len() + 1
    );

    // An invalid file is never rewritten.
    fs::write(&path, "[ui]\nfps = 0\n").unwrap();
    assert!(matches!(
        edit::edit_file(&path, |d| add_instrument(d, &inst("SOL-USDT"))),
        Err(edit::EditError::Invalid(_))
    ));
    assert_eq!(fs::read_to_string(&path).unwrap(), "[ui]\nfps = 0\n");
}

#[test]
fn a_broken_reload_reports_line_and_column_and_keeps_the_running_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    fs::write(&path, "[ui]\nfps = 30\n").unwrap();
    let mut running = load(&path).unwrap();
    let mut watcher = ConfigWatcher::with_interval(&path, Duration::ZERO);
    assert!(watcher.poll().is_none(), "unchanged file");

    fs::write(&path, "[ui]\nfps = 30\ntheme = \"neon\"\n").unwrap();
    match watcher.poll() {
        Some(Err(d)) => {
            assert_eq!((d[0].line, d[0].column), (3, 9));
            assert!(d[0].message.contains("unknown theme \"neon\""));
        }
        other => panic!("expected diagnostics, got {other:?}"),
    }
    assert_eq!(running.ui.fps, 30, "the caller keeps what it runs");
    assert!(watcher.poll().is_none(), "reported once");

    fs::write(&path, "[ui]\nfps = 45\n").unwrap();
    match watcher.poll() {
        Some(Ok(c)) => running = c,
        other => panic!("expected a config, got {other:?}"),
    }
    assert_eq!(running.ui.fps, 45);

    // The app's own save is not reported back; a syntax error is.
    let own = "[ui]\nfps = 50\n";
    save_atomic(&path, own).unwrap();
    watcher.acknowledge(own);
    assert!(watcher.poll().is_none());
    fs::write(&path, "[ui\nfps = 50\n").unwrap();
    match watcher.poll() {
        Some(Err(d)) => assert_eq!((d[0].line, d[0].column), (1, 4)),
        other => panic!("expected diagnostics, got {other:?}"),
    }
    fs::remove_file(&path).unwrap();
    assert!(watcher.poll().is_none(), "a vanished file keeps the config");
}

fn temp_files(dir: &Path, target: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| atomic::is_temp_of(target, p))
        .collect()
}

#[test]
fn a_save_that_fails_half_way_leaves_the_old_file_and_no_temp() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    save_atomic(&path, "old = 1\n").unwrap();
    let err = save_atomic_with(&path, |f| {
        use std::io::Write;
        f.write_all(b"new = ")?;
        Err(std::io::Error::other("disk full"))
    });
    assert!(err.is_err());
    assert_eq!(fs::read_to_string(&path).unwrap(), "old = 1\n");
    assert!(temp_files(dir.path(), &path).is_empty());
    save_atomic(&path, "new = 2\n").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "new = 2\n");
    assert!(temp_files(dir.path(), &path).is_empty());
}

#[test]
fn a_crash_before_rename_leaves_the_old_file_and_the_leftover_is_swept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    save_atomic(&path, "old = 1\n").unwrap();
    // A process killed between writing its temp file and renaming it.
    let leftover = atomic::temp_path(&path);
    fs::write(&leftover, "new = ").unwrap();
    assert!(atomic::is_temp_of(&path, &leftover));
    assert_eq!(fs::read_to_string(&path).unwrap(), "old = 1\n");
    // A fresh temp file could belong to a save in progress: kept for now.
    save_atomic(&path, "new = 2\n").unwrap();
    assert_eq!(
        temp_files(dir.path(), &path),
        std::slice::from_ref(&leftover)
    );
    // Once abandoned long enough, the next save removes it.
    let old = SystemTime::now() - atomic::STALE_TEMP_AGE - Duration::from_secs(1);
    fs::File::options()
        .write(true)
        .open(&leftover)
        .unwrap()
        .set_modified(old)
        .unwrap();
    save_atomic(&path, "new = 3\n").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "new = 3\n");
    assert!(temp_files(dir.path(), &path).is_empty());
}
