//! End to end: alert destinations follow config reloads in a real run,
//! `depthwatch --demo --headless --json --config FILE`, whose one rule fires
//! on every simulated trade. It starts with no webhook; the config gains
//! `[alert_delivery.webhook]` (its URL in the secrets file beside it) and
//! alerts reach the loopback server; the secrets file gets another URL (and
//! the config a new comment, so it is reloaded) and the next alerts go to
//! the new server only; the webhook leaves the config and no more arrive
//! anywhere. The log says what changed each time, never the URL.

mod loopback;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use loopback::Loopback;

/// Long enough for a loaded machine; the run moves on as soon as it can.
const WAIT: Duration = Duration::from_secs(60);

fn config(revision: u32, webhook: bool) -> String {
    let mut text = format!(
        "# alert delivery reload test, revision {revision}\n\
         [trades]\nlarge_trade_usd = 0\n\n\
         [[alerts]]\nname = \"every-trade\"\nkind = \"large_trade\"\ncooldown_s = 0\n"
    );
    if webhook {
        text.push_str("\n[alert_delivery.webhook]\nmax_per_s = 20\n");
    }
    text
}

#[cfg(unix)]
fn write_secrets(path: &Path, url: &str) {
    use std::os::unix::fs::PermissionsExt;
    // Written beside, then moved into place: never there with a wider mode.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("webhook_url = \"{url}\"\n")).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[cfg(not(unix))]
fn write_secrets(path: &Path, url: &str) {
    std::fs::write(path, format!("webhook_url = \"{url}\"\n")).unwrap();
}

/// The run's `alert` lines as they come.
struct Run {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Run {
    /// The next `alert` line's deliveries, waiting at most `WAIT`.
    fn next_alert(&self) -> serde_json::Map<String, Value> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) else {
                continue;
            };
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && v["type"] == "alert"
            {
                assert_eq!(v["rule"], "every-trade", "{line}");
                return v["deliveries"].as_object().cloned().unwrap_or_default();
            }
        }
        panic!(
            "no alert line within {WAIT:?}; stderr: {}",
            self.stderr.lock().unwrap()
        );
    }

    /// Reads alert lines until one satisfies `ok`.
    fn alert_where(&self, what: &str, ok: impl Fn(&serde_json::Map<String, Value>) -> bool) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if ok(&self.next_alert()) {
                return;
            }
        }
        panic!("no alert {what} within {WAIT:?}");
    }

    /// Reads alert lines until `done`, at most `WAIT`.
    fn until(&self, what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done() {
            assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
            self.next_alert();
        }
    }

    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let stop = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if stop.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stderr.lock().unwrap().clone()
    }
}

fn start(home: &Path, config: &Path) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_depthwatch"));
    cmd.args(["--demo", "--headless", "--json", "--config"])
        .arg(config)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("DEPTHWATCH_LOG", "info")
        // The secrets file is the only source here (a variable would win).
        .env_remove("DEPTHWATCH_WEBHOOK_URL")
        .env_remove("DEPTHWATCH_WEBHOOK_HMAC_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        *sink.lock().unwrap() = s;
    });
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Run {
        child,
        lines,
        stderr,
    }
}

fn hits(server: &Loopback, path: &str) -> usize {
    server
        .seen()
        .iter()
        .filter(|r| r.starts_with(&format!("POST {path} ")))
        .count()
}

fn logs(home: &Path) -> String {
    let dir: PathBuf = home.join("data").join("depthwatch").join("logs");
    let mut all = String::new();
    for e in std::fs::read_dir(&dir).expect("a log directory") {
        all.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    all
}

#[test]
fn webhook_added_changed_and_removed_by_reloads() {
    let (a, b) = (Loopback::start(), Loopback::start());
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("config");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.toml");
    let secrets = dir.join("secrets.toml");
    write_secrets(&secrets, &format!("{}/hook-a", a.url()));
    std::fs::write(&file, config(0, false)).unwrap();
    let run = start(home.path(), &file);

    // No webhook: alerts fire, nothing is sent anywhere.
    let first = run.next_alert();
    assert!(!first.contains_key("webhook"), "{first:?}");
    assert!(a.seen().is_empty() && b.seen().is_empty());

    // Reloaded with one: the next alerts reach it.
    std::fs::write(&file, config(1, true)).unwrap();
    run.until("an alert at the webhook", || hits(&a, "/hook-a") > 0);
    let body = a.seen()[0].clone();
    assert!(body.contains("\"rule\":\"every-trade\""), "{body}");

    // Its URL changed (the secrets file, then the config touched): the next
    // go to the new one, none to the old any more.
    write_secrets(&secrets, &format!("{}/hook-b", b.url()));
    std::fs::write(&file, config(2, true)).unwrap();
    run.until("an alert at the new URL", || hits(&b, "/hook-b") > 0);
    // What was under way to the old URL has ended by now.
    std::thread::sleep(Duration::from_secs(1));
    let old = hits(&a, "/hook-a");
    let new = hits(&b, "/hook-b");
    run.until("more alerts at the new URL", || {
        hits(&b, "/hook-b") >= new + 3
    });
    assert_eq!(
        hits(&a, "/hook-a"),
        old,
        "the old URL got alerts after the change"
    );

    // Removed: alerts go on firing, the webhook gets none.
    std::fs::write(&file, config(3, false)).unwrap();
    run.alert_where("without the webhook", |d| !d.contains_key("webhook"));
    std::thread::sleep(Duration::from_secs(1));
    let (old, new) = (a.seen().len(), b.seen().len());
    for _ in 0..10 {
        let d = run.next_alert();
        assert!(!d.contains_key("webhook"), "{d:?}");
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        (a.seen().len(), b.seen().len()),
        (old, new),
        "sent after removal"
    );

    let stderr = run.stop();
    let log = logs(home.path());
    for said in [
        "alert delivery: webhook added",
        "alert delivery: webhook changed",
        "alert delivery: webhook removed",
    ] {
        assert!(
            log.contains(said),
            "the log does not say {said:?}:\n{log}\n{stderr}"
        );
    }
    for text in [&log, &stderr] {
        assert!(
            !text.contains("/hook-a") && !text.contains("/hook-b"),
            "a URL in the log"
        );
    }
}
