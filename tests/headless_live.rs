//! `depthwatch --demo --headless --json`: the live JSON stream on the
//! built-in simulator (loopback only) carries live books, CBBO and health
//! lines, and Ctrl-C (SIGINT) ends it cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[test]
fn demo_stream_has_books_cbbo_and_health_then_stops_on_sigint() {
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_depthwatch"))
        .args(["--demo", "--headless", "--json"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let (mut live_book, mut cbbo_bid, mut health) = (false, false, false);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(live_book && cbbo_bid && health) && Instant::now() < deadline {
        let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) else {
            continue;
        };
        let v: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
        match v["type"].as_str() {
            Some("book") => {
                live_book |=
                    v["state"] == "live" && v["bids"].as_array().is_some_and(|b| !b.is_empty())
            }
            Some("cbbo") => cbbo_bid |= v["bid"].is_string() && v["bid_venue"].is_string(),
            Some("health") => health |= v["venue"].is_string() && v["state"].is_string(),
            Some(
                "arb" | "trade" | "liquidation" | "alert" | "funding" | "open_interest" | "spike",
            ) => {}
            other => panic!("unexpected line type {other:?}: {line}"),
        }
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        // Generous: shutdown flushes the history store and stops every
        // feed; a loaded 2-core machine has taken over 10 s.
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("depthwatch did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(rx);
    let _ = reader.join();
    assert!(live_book, "no live book line");
    assert!(cbbo_bid, "no cbbo line with a bid");
    assert!(health, "no health line");
    assert!(status.success(), "exit status {status:?}");
}
