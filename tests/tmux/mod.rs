//! A real terminal for end-to-end tests: a private tmux server (its own
//! `-L` socket, killed on drop) running one command in a sized window.

#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    /// Start `cmd` (a shell command line) in a `cols`×`rows` window on a
    /// server private to this test (`name` keeps parallel tests apart).
    pub fn start(name: &str, cmd: &str, cols: u16, rows: u16) -> Tmux {
        let t = Tmux {
            socket: format!("dw-e2e-{name}-{}", std::process::id()),
            session: "dw".to_string(),
        };
        let status = t
            .cmd()
            .args(["new-session", "-d", "-s", &t.session, "-x"])
            .arg(cols.to_string())
            .arg("-y")
            .arg(rows.to_string())
            .arg(cmd)
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux new-session failed");
        t
    }

    /// tmux is installed (tests say SKIPPED otherwise).
    pub fn available() -> bool {
        Command::new("tmux").arg("-V").output().is_ok()
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    /// Send keys by tmux name (`Escape`, `Enter`, `q`).
    pub fn keys(&self, keys: &[&str]) {
        let mut c = self.cmd();
        c.args(["send-keys", "-t", &self.session]).args(keys);
        assert!(c.status().expect("send-keys").success());
    }

    /// Type text as is (no key-name interpretation).
    pub fn type_text(&self, text: &str) {
        let mut c = self.cmd();
        c.args(["send-keys", "-l", "-t", &self.session, text]);
        assert!(c.status().expect("send-keys").success());
    }

    pub fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}`.
    pub fn display(&self, format: &str) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", &self.session, format])
            .output()
            .expect("display-message");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Wait until `ok` holds for the screen; on timeout, fail with it.
    pub fn wait_until(&self, what: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Wait until every needle is on screen.
    pub fn wait_for(&self, needles: &[&str], timeout: Duration) -> String {
        self.wait_until(&format!("{needles:?}"), timeout, |s| {
            needles.iter().all(|n| s.contains(n))
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().args(["kill-server"]).status();
    }
}
