//! Desktop notifications through `depthwatch alerts test`: with no session
//! bus (a server, a container, SSH) and with a bus but no notification
//! server, the destination fails with the reason, never hangs or passes
//! silently; with a stand-in notification server on a private bus
//! (`dbus-daemon`), the alert is shown as the freedesktop spec says.

use std::process::Command;

#[test]
fn without_a_session_bus_desktop_delivery_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[alert_delivery]\napp = false\ndesktop = true\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_depthwatch"))
        .args(["--config", cfg.to_str().unwrap(), "alerts", "test"])
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", dir.path().join("no-bus").display()),
        )
        .output()
        .expect("binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed destination: exit 1\n{stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("desktop"))
        .unwrap_or_else(|| panic!("no desktop line in {stdout}"));
    let expected = if cfg!(feature = "desktop") {
        "session bus"
    } else {
        "built without desktop notifications"
    };
    assert!(line.contains("failed") && line.contains(expected), "{line}");
}

/// A notification server on a private session bus: what it was asked to
/// show (app name, summary, body, urgency hint).
#[derive(Clone, Default)]
struct Shown(std::sync::Arc<std::sync::Mutex<Vec<Notification>>>);

/// App name, summary, body and urgency hint.
type Notification = (String, String, String, u8);

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Shown {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: &str,
        _replaces_id: u32,
        _app_icon: &str,
        summary: &str,
        body: &str,
        _actions: Vec<&str>,
        hints: std::collections::HashMap<&str, zbus::zvariant::Value<'_>>,
        _expire_timeout: i32,
    ) -> u32 {
        let urgency = hints
            .get("urgency")
            .and_then(|v| u8::try_from(v).ok())
            .unwrap_or(u8::MAX);
        let mut shown = self.0.lock().unwrap();
        shown.push((app_name.into(), summary.into(), body.into(), urgency));
        shown.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "stand-in".into(),
            "depthwatch tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }
}

/// With a session bus and a notification server, the test alert is shown:
/// depthwatch's name, the alert's title and text, low urgency for info.
#[test]
fn a_test_alert_reaches_the_notification_server_on_the_session_bus() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    if !cfg!(feature = "desktop") {
        println!("SKIPPED: built without the desktop feature");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bus");
    let Ok(mut daemon) = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address"])
        .arg(format!("--address=unix:path={}", socket.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        println!("SKIPPED: no dbus-daemon (install dbus-daemon to run this test)");
        return;
    };
    let mut address = String::new();
    BufReader::new(daemon.stdout.take().unwrap())
        .read_line(&mut address)
        .unwrap();
    let address = address.trim().to_string();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[alert_delivery]\napp = false\ndesktop = true\n").unwrap();
    let alerts_test = || {
        Command::new(env!("CARGO_BIN_EXE_depthwatch"))
            .args(["--config", cfg.to_str().unwrap(), "alerts", "test"])
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .output()
            .expect("binary runs")
    };
    // The bus alone: no one shows notifications yet.
    let out = alerts_test();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("no notification server on the session bus"),
        "{stdout}"
    );
    let shown = Shown::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        zbus::connection::Builder::address(address.as_str())
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .serve_at("/org/freedesktop/Notifications", shown.clone())
            .unwrap()
            .build()
            .await
            .expect("the stand-in server joins the bus")
    });
    let out = alerts_test();
    drop(server);
    let _ = daemon.kill();
    let _ = daemon.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("desktop") && l.contains("sent")),
        "{stdout}"
    );
    let shown = shown.0.lock().unwrap().clone();
    assert_eq!(shown.len(), 1, "{shown:?}");
    let (app, summary, body, urgency) = &shown[0];
    assert_eq!(app, "depthwatch");
    assert_eq!(summary, "[INFO] test: depthwatch");
    assert!(!body.is_empty());
    assert_eq!(*urgency, 0, "info is low urgency");
}
