//! Which destinations `[alert_delivery]` and the secrets make, as plain
//! values: built at start and again on every config reload, then compared
//! with the running ones, so a reload rebuilds only the destinations whose
//! setup changed and leaves the others (their rate-limit windows, breakers,
//! queues and counts) as they were.

use std::time::Duration;

use super::limit::{self, BucketSpec};
use super::retry::RetryPolicy;
use super::settings::{DeliveryConfig, HttpSettings};
use super::{HttpTarget, NAMES};
use crate::alerts::secrets::{self, Secret, SecretName, Secrets};

/// What a destination's worker delivers to (no client: the dispatcher
/// owns the one every worker shares).
#[derive(Clone, Debug, PartialEq)]
pub enum TargetSpec {
    Http {
        target: HttpTarget,
        timeout: Duration,
    },
    Desktop,
}

/// One destination's whole setup: two specs that differ make two different
/// destinations.
#[derive(Clone, Debug, PartialEq)]
pub struct DestSpec {
    pub name: &'static str,
    pub buckets: Vec<BucketSpec>,
    /// The worker's target and retries; `None` for the app and the bell
    /// (the task delivers those itself) and for a destination that cannot
    /// deliver (`problem` says why).
    pub target: Option<(TargetSpec, RetryPolicy)>,
    /// Failures in a row that open the breaker, and its cool-off (HTTP
    /// destinations).
    pub breaker: Option<(u32, Duration)>,
    /// Why it cannot deliver: a missing secret, a build without desktop
    /// notifications.
    pub problem: Option<String>,
}

impl DestSpec {
    fn local(name: &'static str, per_s: u32) -> DestSpec {
        DestSpec {
            name,
            buckets: vec![limit::BucketSpec::per(
                per_s,
                Duration::from_secs(1),
                "per-second limit",
            )],
            target: None,
            breaker: None,
            problem: None,
        }
    }

    fn http(
        name: &'static str,
        target: Result<HttpTarget, String>,
        s: &HttpSettings,
        buckets: Vec<BucketSpec>,
    ) -> DestSpec {
        let (target, problem) = match target {
            Ok(target) => (
                Some((
                    TargetSpec::Http {
                        target,
                        timeout: s.timeout,
                    },
                    s.retry,
                )),
                None,
            ),
            Err(why) => (None, Some(why)),
        };
        DestSpec {
            name,
            buckets,
            target,
            breaker: Some((s.breaker_failures, s.breaker_cool_off)),
            problem,
        }
    }
}

fn secret(secrets: &Secrets, name: SecretName) -> Result<Secret, String> {
    secrets
        .get(name)
        .cloned()
        .ok_or_else(|| format!("not configured: {}", Secrets::how_to_set(name)))
}

/// The destinations `cfg` turns on, in the order shown, with their secrets.
pub fn plan(cfg: &DeliveryConfig, secrets: &Secrets) -> Vec<DestSpec> {
    let mut out = Vec::new();
    if cfg.app {
        // The history keeps everything; the toast at most 5 a second.
        out.push(DestSpec::local("app", 5));
    }
    if cfg.bell {
        out.push(DestSpec::local("bell", 1));
    }
    if cfg.desktop {
        let mut d = DestSpec::local("desktop", 1);
        if cfg!(feature = "desktop") {
            d.target = Some((
                TargetSpec::Desktop,
                RetryPolicy {
                    max_retries: 0,
                    ..RetryPolicy::default()
                },
            ));
        } else {
            d.problem = Some("this depthwatch was built without desktop notifications".into());
        }
        out.push(d);
    }
    if let Some(s) = &cfg.webhook {
        let t = secret(secrets, secrets::WEBHOOK_URL).map(|url| HttpTarget::Webhook {
            url,
            key: secrets.get(secrets::WEBHOOK_HMAC_KEY).cloned(),
        });
        out.push(DestSpec::http("webhook", t, s, s.buckets()));
    }
    if let Some(s) = &cfg.telegram {
        let t = secret(secrets, secrets::TELEGRAM_TOKEN).map(|token| HttpTarget::Telegram {
            api: s.api_url.clone(),
            token,
            chat_id: s.chat_id.clone(),
        });
        out.push(DestSpec::http("telegram", t, &s.http, s.buckets()));
    }
    if let Some(s) = &cfg.discord {
        let t =
            secret(secrets, secrets::DISCORD_WEBHOOK_URL).map(|url| HttpTarget::Discord { url });
        out.push(DestSpec::http("discord", t, s, s.buckets()));
    }
    if let Some(s) = &cfg.slack {
        let t = secret(secrets, secrets::SLACK_WEBHOOK_URL).map(|url| HttpTarget::Slack { url });
        out.push(DestSpec::http("slack", t, s, s.buckets()));
    }
    out
}

/// What a new plan changes in a running one, by destination name (in the
/// order of [`NAMES`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<&'static str>,
    pub removed: Vec<&'static str>,
    /// Still configured, with other settings or secrets: rebuilt.
    pub changed: Vec<&'static str>,
}

impl Changes {
    pub fn between(old: &[DestSpec], new: &[DestSpec]) -> Changes {
        let mut c = Changes::default();
        for name in NAMES {
            let was = old.iter().find(|d| d.name == name);
            let now = new.iter().find(|d| d.name == name);
            match (was, now) {
                (None, Some(_)) => c.added.push(name),
                (Some(_), None) => c.removed.push(name),
                (Some(a), Some(b)) if a != b => c.changed.push(name),
                _ => {}
            }
        }
        c
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// `telegram added, webhook removed, slack changed` (never a URL or token:
/// only names).
impl std::fmt::Display for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            (&self.added, "added"),
            (&self.removed, "removed"),
            (&self.changed, "changed"),
        ]
        .into_iter()
        .flat_map(|(names, word)| names.iter().map(move |n| format!("{n} {word}")))
        .collect();
        if parts.is_empty() {
            f.write_str("unchanged")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(pairs: &[(&'static str, &'static str)]) -> Secrets {
        let pairs = pairs.to_vec();
        Secrets::load(None, move |k| {
            pairs
                .iter()
                .find(|(e, _)| *e == k)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    #[test]
    fn changes_name_what_was_added_removed_and_changed() {
        let before = DeliveryConfig {
            webhook: Some(HttpSettings::defaults_for("webhook")),
            slack: Some(HttpSettings::defaults_for("slack")),
            ..DeliveryConfig::default()
        };
        let s = secrets(&[
            (secrets::WEBHOOK_URL.env, "http://a.invalid/w"),
            (secrets::SLACK_WEBHOOK_URL.env, "http://s.invalid/s"),
        ]);
        let old = plan(&before, &s);
        assert_eq!(
            old.iter().map(|d| d.name).collect::<Vec<_>>(),
            ["app", "webhook", "slack"]
        );
        assert!(Changes::between(&old, &plan(&before, &s)).is_empty());

        let mut after = before.clone();
        after.webhook = None;
        after.bell = true;
        after.telegram = Some(crate::alerts::deliver::TelegramSettings {
            chat_id: "42".into(),
            api_url: crate::alerts::deliver::settings::TELEGRAM_API.into(),
            group: false,
            http: HttpSettings::defaults_for("telegram"),
        });
        after.slack.as_mut().unwrap().max_per_s = 3;
        let c = Changes::between(&old, &plan(&after, &s));
        assert_eq!(c.added, ["bell", "telegram"]);
        assert_eq!(c.removed, ["webhook"]);
        assert_eq!(c.changed, ["slack"]);
        assert_eq!(
            c.to_string(),
            "bell added, telegram added, webhook removed, slack changed"
        );
    }

    /// A secret is part of a destination's setup: a new URL (or a secret
    /// now missing) changes it; the message still names only the
    /// destination.
    #[test]
    fn a_new_secret_changes_the_destination_and_is_never_shown() {
        let cfg = DeliveryConfig {
            webhook: Some(HttpSettings::defaults_for("webhook")),
            ..DeliveryConfig::default()
        };
        let a = plan(
            &cfg,
            &secrets(&[(secrets::WEBHOOK_URL.env, "http://a/SECRET-1")]),
        );
        let b = plan(
            &cfg,
            &secrets(&[(secrets::WEBHOOK_URL.env, "http://b/SECRET-2")]),
        );
        let c = Changes::between(&a, &b);
        assert_eq!(c.changed, ["webhook"]);
        let none = plan(&cfg, &Secrets::default());
        assert!(none[1].target.is_none());
        assert!(
            none[1]
                .problem
                .as_deref()
                .is_some_and(|p| p.contains("DEPTHWATCH_WEBHOOK_URL"))
        );
        let c2 = Changes::between(&b, &none);
        assert_eq!(c2.changed, ["webhook"]);
        for text in [c.to_string(), c2.to_string(), format!("{a:?}")] {
            assert!(!text.contains("SECRET"), "{text}");
        }
    }
}
