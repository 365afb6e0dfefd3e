//! Messages for the line under the status bar. Information ("theme: dark",
//! "added ETH-USD · saved to …") expires after [`INFO_TTL`]; errors ("not
//! saved: …", "config not reloaded …") stay until the user dismisses them
//! (the `dismiss` key, Esc by default), oldest first, so none goes unread.
//! Time is passed in, so expiry is tested without sleeping.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long an information message stays.
pub const INFO_TTL: Duration = Duration::from_secs(5);

/// Errors kept at most; the oldest beyond this are dropped (and counted).
const MAX_ERRORS: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

impl Level {
    /// The level of a message that came as plain text (from the app's
    /// status channel): failures say so in their first words.
    pub fn of(text: &str) -> Level {
        let lower = text.to_lowercase();
        const ERROR_STARTS: [&str; 5] = [
            "not saved",
            "config not reloaded",
            "error",
            "engine stopped",
            "cannot",
        ];
        if ERROR_STARTS.iter().any(|p| lower.starts_with(p)) || lower.contains(" failed") {
            Level::Error
        } else {
            Level::Info
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub level: Level,
    pub at: Instant,
}

/// What the message line shows now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown<'a> {
    pub text: &'a str,
    pub level: Level,
    /// Errors waiting behind this one.
    pub more: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Messages {
    info: Option<Message>,
    errors: VecDeque<Message>,
    /// Errors dropped because too many were waiting.
    pub dropped: usize,
}

impl Messages {
    pub fn push(&mut self, text: String, level: Level, now: Instant) {
        let message = Message {
            text,
            level,
            at: now,
        };
        match level {
            Level::Info => self.info = Some(message),
            Level::Error => {
                // The same error again is not news.
                if self.errors.back().is_some_and(|e| e.text == message.text) {
                    return;
                }
                if self.errors.len() >= MAX_ERRORS {
                    self.errors.pop_front();
                    self.dropped += 1;
                }
                self.errors.push_back(message);
            }
        }
    }

    pub fn info(&mut self, text: String, now: Instant) {
        self.push(text, Level::Info, now);
    }

    pub fn error(&mut self, text: String, now: Instant) {
        self.push(text, Level::Error, now);
    }

    /// Forgets an information message older than [`INFO_TTL`]; true if it did.
    pub fn expire(&mut self, now: Instant) -> bool {
        let old = self
            .info
            .as_ref()
            .is_some_and(|m| now.saturating_duration_since(m.at) >= INFO_TTL);
        if old {
            self.info = None;
        }
        old
    }

    /// The oldest unread error, else the information message while fresh.
    pub fn shown(&self, now: Instant) -> Option<Shown<'_>> {
        if let Some(e) = self.errors.front() {
            return Some(Shown {
                text: &e.text,
                level: Level::Error,
                more: self.errors.len() - 1,
            });
        }
        self.info
            .as_ref()
            .filter(|m| now.saturating_duration_since(m.at) < INFO_TTL)
            .map(|m| Shown {
                text: &m.text,
                level: Level::Info,
                more: 0,
            })
    }

    pub fn has_error(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Marks the shown error read; true if there was one.
    pub fn dismiss(&mut self) -> bool {
        self.errors.pop_front().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn information_expires_after_five_seconds() {
        let t0 = Instant::now();
        let mut m = Messages::default();
        m.info("theme: light".into(), t0);
        assert_eq!(
            m.shown(t0 + Duration::from_millis(4_999)).map(|s| s.text),
            Some("theme: light")
        );
        assert_eq!(m.shown(t0 + INFO_TTL), None, "gone at 5 s even unticked");
        assert!(!m.expire(t0 + Duration::from_secs(4)));
        assert!(m.expire(t0 + Duration::from_secs(6)));
        assert_eq!(m.shown(t0), None, "expired means forgotten");
        // A newer message starts its own five seconds.
        m.info("a".into(), t0);
        m.info("b".into(), t0 + Duration::from_secs(4));
        assert_eq!(
            m.shown(t0 + Duration::from_secs(8)).map(|s| s.text),
            Some("b")
        );
    }

    #[test]
    fn errors_stay_until_dismissed_oldest_first() {
        let t0 = Instant::now();
        let mut m = Messages::default();
        m.error("not saved: disk full".into(), t0);
        m.info("theme: dark".into(), t0);
        m.error("config not reloaded: line 3".into(), t0);
        m.error("config not reloaded: line 3".into(), t0);
        let later = t0 + Duration::from_secs(3_600);
        assert!(m.expire(later));
        let s = m.shown(later).unwrap();
        assert_eq!(
            (s.text, s.level, s.more),
            ("not saved: disk full", Level::Error, 1)
        );
        assert!(m.dismiss());
        assert_eq!(
            m.shown(later).map(|s| (s.text, s.more)),
            Some(("config not reloaded: line 3", 0))
        );
        assert!(m.dismiss());
        assert!(!m.dismiss());
        assert_eq!(m.shown(later), None);
    }

    #[test]
    fn errors_are_bounded() {
        let t0 = Instant::now();
        let mut m = Messages::default();
        for i in 0..MAX_ERRORS + 3 {
            m.error(format!("error {i}"), t0);
        }
        assert_eq!(m.dropped, 3);
        assert_eq!(m.shown(t0).map(|s| s.text), Some("error 3"));
    }

    #[test]
    fn plain_text_is_classified() {
        for e in [
            "not saved: permission denied",
            "config not reloaded, keeping the running one: x.toml:3:1: bad",
            "engine stopped: the display is frozen (see the Logs pane)",
            "vim failed to start: not found",
        ] {
            assert_eq!(Level::of(e), Level::Error, "{e}");
        }
        for i in [
            "added ETH-USD · saved to /tmp/c.toml",
            "config reloaded from /tmp/c.toml",
            "config file unchanged",
            "kept ETH-USD",
            "theme: dark",
        ] {
            assert_eq!(Level::of(i), Level::Info, "{i}");
        }
    }
}
