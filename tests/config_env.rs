//! Config keys from the environment (`DEPTHWATCH_<SECTION>__<KEY>`), end to
//! end through the binary: an override changes what a run computes, a bad
//! one stops it naming the variable, and none is written into the file.

use std::process::{Command, Output};

fn depthwatch(args: &[&str], env: &[(&str, &str)], home: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_depthwatch"));
    cmd.args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("binary runs")
}

const FILE: &str = "# my settings\n[arbitrage]\nmin_net_bps = 2 # mine\n";

#[test]
fn check_config_applies_overrides_and_names_a_bad_one() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config.toml");
    std::fs::write(&file, FILE).unwrap();
    let path = file.to_str().unwrap();

    let ok = depthwatch(
        &["check-config", path],
        &[
            ("DEPTHWATCH_ARBITRAGE__MIN_NET_BPS", "8"),
            ("DEPTHWATCH_UI__THEME", "light"),
        ],
        home.path(),
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let bad = depthwatch(
        &["check-config", path],
        &[("DEPTHWATCH_ARBITRAGE__MIN_NET_BPS", "8bps")],
        home.path(),
    );
    let said = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{said}");
    assert!(
        said.contains("DEPTHWATCH_ARBITRAGE__MIN_NET_BPS: "),
        "{said}"
    );
    assert!(said.contains("not a number"), "{said}");

    // A run refuses to start on it too, with the same words.
    let run = depthwatch(
        &[
            "--config",
            path,
            "replay",
            "--headless",
            "--json",
            "no-such-file.jsonl.zst",
        ],
        &[("DEPTHWATCH_UI__FPS", "\"fast\"")],
        home.path(),
    );
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(said.contains("DEPTHWATCH_UI__FPS: "), "{said}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        FILE,
        "file untouched"
    );
}

/// The cbbo lines of a headless replay of the bundled demo capture.
fn cbbo_labels(env: &[(&str, &str)], home: &std::path::Path) -> Vec<String> {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo.jsonl.zst");
    let out = depthwatch(
        &["replay", "--headless", "--json", "--speed", "max", demo],
        env,
        home,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "cbbo")
        .filter_map(|v| v["instrument"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn an_override_changes_what_a_replay_computes() {
    let home = tempfile::tempdir().unwrap();
    let plain = cbbo_labels(&[], home.path());
    assert!(plain.iter().all(|l| !l.contains('≈')), "{plain:?}");
    let grouped = cbbo_labels(
        &[("DEPTHWATCH_QUOTE_GROUPS", r#"[["USD", "USDT"]]"#)],
        home.path(),
    );
    assert!(grouped.iter().any(|l| l.contains('≈')), "{grouped:?}");
    assert!(grouped.len() < plain.len(), "{plain:?} vs {grouped:?}");
}
