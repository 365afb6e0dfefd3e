//! Desktop notifications (freedesktop, over the session bus, through
//! notify-rust). Without a session bus (a server, a container, SSH), or
//! without a notification server on it, the first failure is logged once
//! and shown as the destination's problem.

use std::sync::Mutex;

use super::super::alert::Alert;
use super::retry::Attempt;

#[cfg(feature = "desktop")]
pub async fn show(alert: &Alert, problem: &Mutex<Option<String>>) -> Attempt {
    let title = alert.title();
    let text = alert.text.clone();
    let urgency = match alert.severity {
        super::super::rule::Severity::Info => notify_rust::Urgency::Low,
        super::super::rule::Severity::Warning => notify_rust::Urgency::Normal,
        super::super::rule::Severity::Critical => notify_rust::Urgency::Critical,
    };
    let shown = tokio::task::spawn_blocking(move || {
        notify_rust::Notification::new()
            .appname("depthwatch")
            .summary(&title)
            .body(&text)
            .urgency(urgency)
            .show()
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(format!("notification task failed: {e}")));
    match shown {
        Ok(()) => {
            *problem.lock().unwrap_or_else(|p| p.into_inner()) = None;
            Attempt::Ok
        }
        Err(e) => {
            // A bus without a notification daemon (a bare X session, a
            // container with dbus) answers that no one owns the name.
            let why = if e.contains("org.freedesktop.Notifications") {
                format!("no desktop notifications: no notification server on the session bus ({e})")
            } else {
                format!("no desktop notifications (is there a session bus?): {e}")
            };
            let mut p = problem.lock().unwrap_or_else(|p| p.into_inner());
            if p.is_none() {
                tracing::warn!("{why}");
            }
            *p = Some(why.clone());
            Attempt::Fatal(why)
        }
    }
}

#[cfg(not(feature = "desktop"))]
pub async fn show(_: &Alert, _: &Mutex<Option<String>>) -> Attempt {
    Attempt::Fatal("this depthwatch was built without desktop notifications".into())
}
