//! End to end: the real binary in a real terminal (tmux), driven by keys.
//!
//! Replays the multi-venue captures with `--align-start`, switches through
//! every pane and looks for what a user would see, then quits with `q` and
//! checks the terminal left the alternate screen. Skipped, with a visible
//! message, when tmux or the captures are missing.

mod tmux;

use std::path::{Path, PathBuf};
use std::process::Command;

use std::time::Duration;
use tmux::Tmux;

fn captures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    if !dir.is_dir() {
        eprintln!("SKIPPED e2e_tmux: {} not found", dir.display());
        return None;
    }
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED e2e_tmux: tmux is not installed");
        return None;
    }
    Some(dir)
}

#[test]
fn replay_in_tui_switches_panes_and_restores_terminal() {
    let Some(dir) = captures() else { return };
    let bin = env!("CARGO_BIN_EXE_depthwatch");
    let files: Vec<String> = ["BYBIT", "COINBASE", "GEMINI"]
        .iter()
        .map(|n| dir.join(format!("{n}.jsonl.zst")).display().to_string())
        .collect();
    let log_dir = tempfile::tempdir().unwrap();
    let cmd = format!(
        "XDG_DATA_HOME={} XDG_CONFIG_HOME={} {bin} replay --align-start --speed 4 {} 2>{}/stderr; echo depthwatch-exit=$?; sleep 60",
        log_dir.path().display(),
        log_dir.path().display(),
        files.join(" "),
        log_dir.path().display()
    );
    let t = Tmux::start("replay", &cmd, 160, 48);

    let overview = t.wait_for(&["Overview", "BTC-USD"], Duration::from_secs(20));
    assert!(
        overview.contains("REPLAY") || overview.contains("replay"),
        "status bar shows replay:\n{overview}"
    );
    // Prices arrive once the first books are built.
    t.wait_for(&["coinbase", "gemini"], Duration::from_secs(20));

    let panes: [(&str, &[&str]); 7] = [
        ("1", &["Overview", "BTC-USD"]),
        ("2", &["Book"]),
        ("3", &["Arbitrage"]),
        ("4", &["Liquidations"]),
        ("5", &["Trades"]),
        ("6", &["Health", "bybit", "coinbase", "gemini"]),
        ("7", &["Logs"]),
    ];
    for (key, needles) in panes {
        t.keys(&[key]);
        t.wait_for(needles, Duration::from_secs(10));
    }
    // The help overlay comes from the keymap.
    t.keys(&["?"]);
    t.wait_for(&["quit"], Duration::from_secs(5));
    t.keys(&["Escape"]);
    // A key right after Esc would arrive as Alt+key: let the Esc stand alone.
    std::thread::sleep(Duration::from_millis(300));

    t.keys(&["q"]);
    // The shell prints the exit status once depthwatch is gone; it must be 0
    // and the terminal must be back on the normal screen.
    let after = t.wait_for(&["depthwatch-exit="], Duration::from_secs(10));
    assert!(
        after.contains("depthwatch-exit=0"),
        "exit status:\n{after}\nstderr:\n{}",
        std::fs::read_to_string(log_dir.path().join("stderr")).unwrap_or_default()
    );
    assert_eq!(
        t.display("#{alternate_on}"),
        "0",
        "terminal left in the alternate screen"
    );
}
