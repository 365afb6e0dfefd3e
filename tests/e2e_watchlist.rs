//! End to end: the Watchlist pane of the real binary in a real terminal
//! (tmux, private socket), on the built-in simulator (`--demo`, loopback
//! only) with a config file in a temporary directory.
//!
//! Adds an instrument with keys, checks the file and the screen, removes it
//! again with the confirmation, checks that the file is back to what it was
//! (every comment kept) and that the instrument left the Overview, then quits
//! with `q` and checks the terminal was restored. Skipped, with a visible
//! message, when tmux is missing.

mod tmux;

use std::path::Path;
use std::process::Command;

use std::time::{Duration, Instant};
use tmux::Tmux;

const CONFIG: &str = r#"# My depthwatch config, written by hand.
# Every comment here must survive edits made from the Watchlist pane.

[watchlist]
# Majors first.
instruments = [
    "BTC-USDT",       # the main one
    "ETH-USDT-PERP",  # perp
]
# Only the venues I trust.
venues = ["binance", "bybit", "okx"]

[ui]
# Calm redraws.
fps = 10
"#;

const WAIT: Duration = Duration::from_secs(30);

fn wait_for_file(path: &Path, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if ok(&text) {
            return text;
        }
        if start.elapsed() > WAIT {
            panic!("timed out waiting for the file to {what}:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn make_executable(_: &Path) {}

fn comments(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.find('#').map(|i| &l[i..]))
        .collect()
}

#[test]
fn watchlist_edits_reach_the_file_and_the_screen() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED e2e_watchlist: tmux is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let home = dir.path().join("home");
    // The "editor" for `E`: puts a prepared file in place, as a user would.
    let edited = dir.path().join("edited.toml");
    std::fs::write(
        &edited,
        CONFIG.replace(
            "    \"ETH-USDT-PERP\",  # perp\n",
            "    \"ETH-USDT-PERP\",  # perp\n    \"SOL-USDT-PERP\",  # from the editor\n",
        ),
    )
    .unwrap();
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!("#!/bin/sh\ncp '{}' \"$1\"\n", edited.display()),
    )
    .unwrap();
    make_executable(&editor);
    let bin = env!("CARGO_BIN_EXE_depthwatch");
    // The shell writes the exit status to a file: tmux's own
    // `pane_dead_status` is sometimes left empty here (a child not reaped),
    // and the last output of a dying pane can be lost.
    let exit_file = dir.path().join("exit_status");
    let cmd = format!(
        "HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data EDITOR={editor} \
         {bin} --demo --config {config}; echo $? > {exit}; sleep 60",
        exit = exit_file.display(),
        home = home.display(),
        editor = editor.display(),
        config = config.display(),
    );
    let t = Tmux::start("watchlist", &cmd, 160, 48);
    t.wait_for(&["Overview", "DEMO", "BTC-USDT"], WAIT);

    t.keys(&["8"]);
    t.wait_for(
        &["Watchlist · 2 instruments", "binance", "bybit", "okx"],
        WAIT,
    );
    // The simulated books come up.
    t.wait_for(&["● live"], WAIT);

    // Add through the keys.
    t.keys(&["a"]);
    t.wait_for(&["Add instrument"], WAIT);
    t.type_text("SOL-USDT-PERP");
    t.wait_for(&["> SOL-USDT-PERP"], WAIT);
    t.keys(&["Enter"]);
    let text = wait_for_file(&config, "gain SOL-USDT-PERP", |t| {
        t.contains("\"SOL-USDT-PERP\"")
    });
    assert_eq!(comments(&text), comments(CONFIG), "comments kept:\n{text}");
    let screen = t.wait_for(
        &[
            "Watchlist · 3 instruments",
            "SOL-USDT-PERP",
            "added SOL-USDT-PERP",
        ],
        WAIT,
    );
    assert!(
        !screen.contains("Add instrument"),
        "add line closed:\n{screen}"
    );
    // Its books open at once (the simulator serves SOL perps on every
    // venue of the demo that lists them).
    t.wait_until("SOL-USDT-PERP live", WAIT, |s| {
        s.lines().any(|l| {
            l.contains("SOL-USDT-PERP")
                && l.matches("● live").count() >= 3
                && !l.contains('◌')
                && !l.contains('✗')
        })
    });
    t.keys(&["1"]);
    t.wait_for(&["Overview · 3 instruments", "SOL-USDT-PERP"], WAIT);

    // Remove it again, with the confirmation.
    t.keys(&["8"]);
    t.wait_for(&["Watchlist · 3 instruments"], WAIT);
    t.keys(&["G", "d"]);
    t.wait_for(&["Remove SOL-USDT-PERP from the watchlist?"], WAIT);
    t.keys(&["y"]);
    let text = wait_for_file(&config, "lose SOL-USDT-PERP", |t| {
        !t.contains("SOL-USDT-PERP")
    });
    assert_eq!(text, CONFIG, "the file is back to what it was");
    t.wait_for(
        &["Watchlist · 2 instruments", "removed SOL-USDT-PERP"],
        WAIT,
    );
    // And it left the other panes.
    t.keys(&["1"]);
    t.wait_until("SOL-USDT-PERP to leave the Overview", WAIT, |s| {
        // The instrument table is the first box (the status line still
        // names what was removed).
        let table: String = s.lines().take_while(|l| !l.starts_with('└')).collect();
        table.contains("Overview · 2 instruments") && !table.contains("SOL-USDT-PERP")
    });

    // `E`: the editor runs on the file and the app picks the change up.
    t.keys(&["8"]);
    t.wait_for(&["Watchlist · 2 instruments"], WAIT);
    t.keys(&["E"]);
    t.wait_for(
        &[
            "Watchlist · 3 instruments",
            "SOL-USDT-PERP",
            "config reloaded",
        ],
        WAIT,
    );

    // A file that does not validate is not adopted: the status line says
    // where it is wrong, the running watchlist stays.
    std::fs::write(&config, CONFIG.replace("fps = 10", "fps = \"fast\"")).unwrap();
    let screen = t.wait_for(&["config not reloaded, keeping the running one"], WAIT);
    assert!(
        screen.contains(&format!("{}:15:7", config.display())),
        "file:line:col in the status line:\n{screen}"
    );
    assert!(screen.contains("Watchlist · 3 instruments"), "{screen}");

    t.keys(&["q"]);
    let status = wait_for_file(&exit_file, "hold the exit status", |t| t.ends_with('\n'));
    assert_eq!(status.trim(), "0", "exit status; screen:\n{}", t.screen());
    assert_eq!(
        t.display("#{alternate_on}"),
        "0",
        "terminal left in the alternate screen"
    );
    // The demo's simulated instrument lists are not cached as real ones.
    assert!(!home.join("data/depthwatch/instruments").exists());
}
