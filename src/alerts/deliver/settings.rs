//! `[alert_delivery]`: which destinations are on and how each behaves (rate
//! limits, retries, circuit breaker, timeout). No secrets here: URLs and
//! tokens come from the environment or the secrets file (`secrets`).

use std::path::PathBuf;
use std::time::Duration;

use super::limit::BucketSpec;
use super::retry::RetryPolicy;

/// Telegram's public Bot API endpoint (overridable for tests and proxies).
pub const TELEGRAM_API: &str = "https://api.telegram.org";

/// How one HTTP destination behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpSettings {
    /// At most this many messages a second (burst of as many).
    pub max_per_s: u32,
    /// At most this many a minute (0: no per-minute limit).
    pub max_per_min: u32,
    pub retry: RetryPolicy,
    /// Failed attempts in a row that open the circuit breaker.
    pub breaker_failures: u32,
    pub breaker_cool_off: Duration,
    pub timeout: Duration,
}

impl HttpSettings {
    /// The defaults for a destination: its documented limits where it
    /// documents them (Slack: 1 message a second per webhook; Discord:
    /// 5 requests per 2 s per webhook, 30 a minute per channel).
    pub fn defaults_for(name: &str) -> HttpSettings {
        let (max_per_s, max_per_min) = match name {
            "telegram" => (1, 0),
            "discord" => (2, 30),
            "slack" => (1, 0),
            _ => (5, 0),
        };
        HttpSettings {
            max_per_s,
            max_per_min,
            retry: RetryPolicy::default(),
            breaker_failures: 5,
            breaker_cool_off: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }

    pub fn buckets(&self) -> Vec<BucketSpec> {
        let mut b = vec![BucketSpec::per(
            self.max_per_s,
            Duration::from_secs(1),
            "per-second limit",
        )];
        if self.max_per_min > 0 {
            b.push(BucketSpec::per(
                self.max_per_min,
                Duration::from_secs(60),
                "per-minute limit",
            ));
        }
        b
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TelegramSettings {
    /// The chat (user, group or channel id, or `@channelname`). An id, not
    /// a secret: the bot token is what grants access.
    pub chat_id: String,
    pub api_url: String,
    /// A group chat: Telegram's 20 messages a minute per group applies
    /// (default: a chat id starting with `-`).
    pub group: bool,
    pub http: HttpSettings,
}

impl TelegramSettings {
    /// Telegram's documented limits: about one message a second per chat,
    /// 30 a second overall, 20 a minute per group.
    pub fn buckets(&self) -> Vec<BucketSpec> {
        let mut b = vec![
            BucketSpec::per(
                self.http.max_per_s,
                Duration::from_secs(1),
                "Telegram 1/s per chat",
            ),
            BucketSpec::per(30, Duration::from_secs(1), "Telegram 30/s per bot"),
        ];
        if self.group {
            b.push(BucketSpec::per(
                20,
                Duration::from_secs(60),
                "Telegram 20/min per group",
            ));
        }
        if self.http.max_per_min > 0 {
            b.push(BucketSpec::per(
                self.http.max_per_min,
                Duration::from_secs(60),
                "per-minute limit",
            ));
        }
        b
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryConfig {
    /// The toast in the status line (the Alerts pane keeps every alert
    /// regardless).
    pub app: bool,
    /// The terminal bell.
    pub bell: bool,
    /// Desktop notifications (freedesktop, over the session bus).
    pub desktop: bool,
    /// Default: `secrets.toml` beside the config file.
    pub secrets_file: Option<PathBuf>,
    pub webhook: Option<HttpSettings>,
    pub telegram: Option<TelegramSettings>,
    pub discord: Option<HttpSettings>,
    pub slack: Option<HttpSettings>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            app: true,
            bell: false,
            desktop: false,
            secrets_file: None,
            webhook: None,
            telegram: None,
            discord: None,
            slack: None,
        }
    }
}
