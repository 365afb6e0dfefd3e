//! A real run with secrets set: `depthwatch --demo --headless --json` with
//! the demo's rules firing, delivered to a loopback webhook and Telegram
//! stand-in, then the log file, the config, the output and the history
//! store (alerts and deliveries) are searched for every secret: none may
//! appear. Also shows the demo's rules fire within a minute and print
//! `alert` lines.

mod loopback;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use loopback::Loopback;

#[test]
fn no_secret_reaches_the_log_the_config_or_the_output() {
    let server = Loopback::start();
    let addr = server.addr;

    let home = tempfile::tempdir().unwrap();
    let config_dir = home.path().join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    let config = config_dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "# alerts to loopback stand-ins\n[alert_delivery]\nbell = true\n\n[alert_delivery.webhook]\n\n[alert_delivery.telegram]\nchat_id = \"4242\"\napi_url = \"http://{addr}\"\n"
        ),
    )
    .unwrap();
    let secrets = [
        (
            "DEPTHWATCH_WEBHOOK_URL",
            format!("http://{addr}/hook/WEBHOOKSECRET-7f3a"),
        ),
        ("DEPTHWATCH_WEBHOOK_HMAC_KEY", "HMACSECRET-91bc".to_string()),
        (
            "DEPTHWATCH_TELEGRAM_BOT_TOKEN",
            "555000:TGSECRET-d0d0".to_string(),
        ),
    ];
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_depthwatch"));
    cmd.args(["--demo", "--headless", "--json", "--config"])
        .arg(&config)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", &config_dir)
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("DEPTHWATCH_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &secrets {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err_text = Arc::new(Mutex::new(String::new()));
    let err_sink = err_text.clone();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        *err_sink.lock().unwrap() = s;
    });
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = String::new();
    let mut alert_lines = 0;
    let deadline = Instant::now() + Duration::from_secs(90);
    // Until an alert went out and both stand-ins heard from us.
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && v["type"] == "alert"
            {
                alert_lines += 1;
                assert!(v["rule"].as_str().unwrap().starts_with("demo-"), "{line}");
                assert!(v["deliveries"].is_object(), "{line}");
            }
            out.push_str(&line);
            out.push('\n');
        }
        let heard = server.seen();
        let hook = heard.iter().any(|r| r.contains("/hook/"));
        let tg = heard.iter().any(|r| r.contains("/sendMessage"));
        if alert_lines > 0 && hook && tg {
            break;
        }
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let stop = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if stop.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(rx);
    let _ = reader.join();
    let _ = err_reader.join();
    assert!(alert_lines > 0, "no alert line within 90 s");
    let heard = server.seen();
    assert!(
        heard.iter().any(|r| r.contains("/hook/WEBHOOKSECRET-7f3a")),
        "the webhook was not delivered to"
    );
    assert!(
        heard
            .iter()
            .any(|r| r.contains("X-Depthwatch-Signature: sha256=")
                || r.contains("x-depthwatch-signature: sha256=")),
        "webhook bodies are signed"
    );
    assert!(
        heard
            .iter()
            .any(|r| r.contains("/bot555000:TGSECRET-d0d0/sendMessage"))
    );

    // The log files, the config and everything printed: no secret.
    let mut searched = vec![(
        "config".to_string(),
        std::fs::read_to_string(&config).unwrap(),
    )];
    let logs = home.path().join("data").join("depthwatch").join("logs");
    let mut log_bytes = 0;
    for e in std::fs::read_dir(&logs).expect("a log directory") {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        log_bytes += text.len();
        searched.push((p.display().to_string(), text));
    }
    assert!(log_bytes > 0, "the log file is empty");
    // The history store keeps the alerts and each destination's outcome by
    // name: never a URL or a token (the file and its WAL, byte for byte).
    let store = home
        .path()
        .join("data")
        .join("depthwatch")
        .join("history-demo.sqlite");
    {
        let c = rusqlite::Connection::open_with_flags(
            &store,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert!(count("SELECT COUNT(*) FROM alert") > 0, "no alert stored");
        assert!(
            count("SELECT COUNT(*) FROM alert_delivery WHERE destination = 'telegram'") > 0,
            "no telegram delivery stored"
        );
    }
    for suffix in ["", "-wal"] {
        let mut p = store.clone().into_os_string();
        p.push(suffix);
        if let Ok(bytes) = std::fs::read(&p) {
            searched.push((
                std::path::PathBuf::from(p).display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    searched.push(("stdout".into(), out));
    searched.push(("stderr".into(), err_text.lock().unwrap().clone()));
    for (what, text) in &searched {
        for needle in ["WEBHOOKSECRET", "HMACSECRET", "TGSECRET", "555000:"] {
            assert!(!text.contains(needle), "{needle} appears in {what}");
        }
    }
}
