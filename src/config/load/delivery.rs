//! `[alert_delivery]`: the destinations and how each behaves. A table for a
//! secret-bearing key (`url`, `token`) does not exist: secrets come from
//! the environment or the secrets file, never from here.

use std::path::PathBuf;
use std::time::Duration;

use super::checker::Checker;
use crate::alerts::deliver::settings::TELEGRAM_API;
use crate::alerts::deliver::{DeliveryConfig, HttpSettings, TelegramSettings};
use crate::config::file::{AlertDeliveryFile, DestinationFile};

impl Checker<'_> {
    pub(super) fn alert_delivery(&mut self, d: AlertDeliveryFile) -> DeliveryConfig {
        let mut c = DeliveryConfig::default();
        c.app = d.app.unwrap_or(c.app);
        c.bell = d.bell.unwrap_or(c.bell);
        c.desktop = d.desktop.unwrap_or(c.desktop);
        if let Some(p) = &d.secrets_file {
            if p.get_ref().trim().is_empty() {
                self.error(p.span(), "secrets_file must be a path");
            } else {
                c.secrets_file = Some(PathBuf::from(p.get_ref()));
            }
        }
        if let Some(f) = &d.webhook {
            let (span, f) = (f.span(), f.get_ref());
            self.not_telegram(f, span, "webhook");
            c.webhook = Some(self.http_settings(f, "webhook"));
        }
        if let Some(f) = &d.discord {
            let (span, f) = (f.span(), f.get_ref());
            self.not_telegram(f, span, "discord");
            c.discord = Some(self.http_settings(f, "discord"));
        }
        if let Some(f) = &d.slack {
            let (span, f) = (f.span(), f.get_ref());
            self.not_telegram(f, span, "slack");
            c.slack = Some(self.http_settings(f, "slack"));
        }
        if let Some(f) = &d.telegram {
            let (span, f) = (f.span(), f.get_ref());
            let http = self.http_settings(f, "telegram");
            let chat_id = match &f.chat_id {
                Some(id) if !id.get_ref().trim().is_empty() => id.get_ref().trim().to_string(),
                Some(id) => {
                    self.error(id.span(), "chat_id must not be empty");
                    String::new()
                }
                None => {
                    self.error(
                        span,
                        "[alert_delivery.telegram] needs chat_id (the bot token goes in \
                         DEPTHWATCH_TELEGRAM_BOT_TOKEN or the secrets file)",
                    );
                    String::new()
                }
            };
            let api_url = match &f.api_url {
                Some(u) => {
                    let t = u.get_ref().trim().trim_end_matches('/').to_string();
                    if !(t.starts_with("https://") || t.starts_with("http://")) {
                        self.error(u.span(), "api_url must start with https:// or http://");
                    }
                    t
                }
                None => TELEGRAM_API.to_string(),
            };
            c.telegram = Some(TelegramSettings {
                group: f.group.unwrap_or(chat_id.starts_with('-')),
                chat_id,
                api_url,
                http,
            });
        }
        c
    }

    fn not_telegram(&mut self, f: &DestinationFile, span: std::ops::Range<usize>, name: &str) {
        for (key, span) in [
            ("chat_id", f.chat_id.as_ref().map(|v| v.span())),
            ("api_url", f.api_url.as_ref().map(|v| v.span())),
        ] {
            if let Some(span) = span {
                self.error(
                    span,
                    format!("`{key}` is a telegram setting, not one of [alert_delivery.{name}]"),
                );
            }
        }
        if f.group.is_some() {
            self.error(
                span,
                format!("`group` is a telegram setting, not one of [alert_delivery.{name}]"),
            );
        }
    }

    fn http_settings(&mut self, f: &DestinationFile, name: &str) -> HttpSettings {
        let mut s = HttpSettings::defaults_for(name);
        if let Some(v) = &f.max_per_s {
            s.max_per_s = self.count(v, "max_per_s", 1..=1_000) as u32;
        }
        if let Some(v) = &f.max_per_min {
            s.max_per_min = self.count(v, "max_per_min", 0..=60_000) as u32;
        }
        if let Some(v) = &f.max_retries {
            s.retry.max_retries = self.count(v, "max_retries", 0..=20) as u32;
        }
        if let Some(v) = &f.retry_base_s {
            s.retry.base = Duration::from_secs_f64(
                self.positive_at_most(v, "retry_base_s", 3600.0)
                    .clamp(0.0, 3600.0),
            );
        }
        if let Some(v) = &f.breaker_failures {
            s.breaker_failures = self.count(v, "breaker_failures", 1..=1_000) as u32;
        }
        if let Some(v) = &f.breaker_cool_off_s {
            s.breaker_cool_off = Duration::from_secs_f64(
                self.positive_at_most(v, "breaker_cool_off_s", 86_400.0)
                    .clamp(0.0, 86_400.0),
            );
        }
        if let Some(v) = &f.timeout_s {
            s.timeout = Duration::from_secs_f64(
                self.positive_at_most(v, "timeout_s", 600.0)
                    .clamp(0.0, 600.0),
            );
        }
        s
    }
}
