//! Deliveries: each destination behind its own rate limits and circuit
//! breaker, HTTP ones (webhook, Telegram, Discord, Slack) and desktop
//! notifications sent by a worker task each, with retries; every outcome
//! (sent, suppressed, retried, failed, with the reason) reported back.
//!
//! `settings` is the config, `payload` the request of each service, `limit`
//! the token buckets, `breaker` the circuit breaker, `retry` the backoff and
//! `Retry-After`, `clock` the injected time, `http` the attempt itself,
//! `desktop` the freedesktop notification.

pub mod breaker;
pub mod clock;
mod desktop;
mod http;
pub mod limit;
pub mod payload;
pub mod retry;
pub mod settings;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::alert::Alert;
use super::rule::Rule;
use super::secrets::{self, Secret, SecretName, Secrets};
use breaker::Breaker;
use clock::Clock;
use limit::Limiter;
use retry::{Attempt, RetryPolicy};
pub use settings::{DeliveryConfig, HttpSettings, TelegramSettings};

/// Every destination, in the order shown.
pub const NAMES: [&str; 7] = [
    "app", "bell", "desktop", "webhook", "telegram", "discord", "slack",
];

/// What became of one alert at one destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Handed to the destination's worker.
    Queued,
    Sent {
        attempts: u32,
    },
    /// Attempt failed; trying again after `delay`.
    Retrying {
        attempt: u32,
        reason: String,
        delay: Duration,
    },
    Suppressed(String),
    Failed(String),
}

impl Outcome {
    pub fn is_final(&self) -> bool {
        !matches!(self, Outcome::Queued | Outcome::Retrying { .. })
    }

    /// One word: `sent`, `queued`, `retrying`, `suppressed`, `failed`.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Queued => "queued",
            Outcome::Sent { .. } => "sent",
            Outcome::Retrying { .. } => "retrying",
            Outcome::Suppressed(_) => "suppressed",
            Outcome::Failed(_) => "failed",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Queued => f.write_str("queued"),
            Outcome::Sent { attempts: 1 } => f.write_str("sent"),
            Outcome::Sent { attempts } => write!(f, "sent (attempt {attempts})"),
            Outcome::Retrying {
                attempt,
                reason,
                delay,
            } => write!(
                f,
                "retrying: {reason}; attempt {} in {:.1} s",
                attempt + 1,
                delay.as_secs_f64()
            ),
            Outcome::Suppressed(why) => write!(f, "suppressed: {why}"),
            Outcome::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// An outcome for the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub alert: u64,
    pub destination: &'static str,
    pub outcome: Outcome,
}

/// Counts per destination, for the Alerts pane.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DestCounts {
    pub sent: u64,
    pub suppressed: u64,
    pub retried: u64,
    pub failed: u64,
}

/// A destination as the Alerts pane shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestStatus {
    pub name: &'static str,
    /// Why it cannot deliver (a missing secret, no session bus), if so.
    pub problem: Option<String>,
    /// `closed`, `open`, `half-open` for breakered destinations.
    pub breaker: Option<&'static str>,
    pub counts: DestCounts,
    /// The limits it keeps, in words.
    pub limits: Vec<&'static str>,
}

/// Where an HTTP destination sends.
#[derive(Clone, Debug)]
pub enum HttpTarget {
    Webhook {
        url: Secret,
        key: Option<Secret>,
    },
    Telegram {
        api: String,
        token: Secret,
        chat_id: String,
    },
    Discord {
        url: Secret,
    },
    Slack {
        url: Secret,
    },
}

impl HttpTarget {
    pub fn request(&self, a: &Alert) -> payload::Request {
        match self {
            HttpTarget::Webhook { url, key } => payload::webhook(a, url, key.as_ref()),
            HttpTarget::Telegram {
                api,
                token,
                chat_id,
            } => payload::telegram(a, api, token, chat_id),
            HttpTarget::Discord { url } => payload::discord(a, url),
            HttpTarget::Slack { url } => payload::slack(a, url),
        }
    }
}

/// What a worker delivers to.
#[derive(Clone, Debug)]
enum Target {
    Http {
        target: HttpTarget,
        client: reqwest::Client,
        timeout: Duration,
    },
    Desktop,
}

struct Job {
    alert: Alert,
}

struct Destination {
    name: &'static str,
    limiter: Limiter,
    breaker: Option<Arc<Mutex<Breaker>>>,
    /// The worker's queue (HTTP and desktop).
    jobs: Option<mpsc::Sender<Job>>,
    /// What `alerts test` sends through directly.
    target: Option<(Target, RetryPolicy)>,
    problem: Arc<Mutex<Option<String>>>,
    counts: DestCounts,
}

/// Queue of one worker: alerts beyond it are suppressed, not waited for.
const QUEUE: usize = 64;

/// The destinations of one run.
pub struct Dispatcher {
    dests: Vec<Destination>,
    clock: Arc<dyn Clock>,
    reports: mpsc::UnboundedSender<Report>,
    /// Bells rung so far (the UI or headless output rings them).
    pub bells: u64,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field(
                "destinations",
                &self.dests.iter().map(|d| d.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn secret(secrets: &Secrets, name: SecretName) -> Result<Secret, String> {
    secrets
        .get(name)
        .cloned()
        .ok_or_else(|| format!("not configured: {}", Secrets::how_to_set(name)))
}

impl Dispatcher {
    /// Builds the configured destinations and starts their workers (needs
    /// a Tokio runtime). Reports come out of the returned receiver.
    pub fn new(
        cfg: &DeliveryConfig,
        secrets: &Secrets,
        clock: Arc<dyn Clock>,
        client: reqwest::Client,
    ) -> (Dispatcher, mpsc::UnboundedReceiver<Report>) {
        let (reports, rx) = mpsc::unbounded_channel();
        let mut d = Dispatcher {
            dests: Vec::new(),
            clock,
            reports,
            bells: 0,
        };
        let now = d.clock.now();
        let simple = |name: &'static str, per_s: u32| Destination {
            name,
            limiter: Limiter::new(
                &[limit::BucketSpec::per(
                    per_s,
                    Duration::from_secs(1),
                    "per-second limit",
                )],
                now,
            ),
            breaker: None,
            jobs: None,
            target: None,
            problem: Arc::new(Mutex::new(None)),
            counts: DestCounts::default(),
        };
        if cfg.app {
            // The history keeps everything; the toast at most 5 a second.
            d.dests.push(simple("app", 5));
        }
        if cfg.bell {
            d.dests.push(simple("bell", 1));
        }
        if cfg.desktop {
            let mut dest = simple("desktop", 1);
            if cfg!(feature = "desktop") {
                dest.target = Some((
                    Target::Desktop,
                    RetryPolicy {
                        max_retries: 0,
                        ..RetryPolicy::default()
                    },
                ));
            } else {
                *lock(&dest.problem) =
                    Some("this depthwatch was built without desktop notifications".into());
            }
            d.dests.push(dest);
        }
        let http = |name: &'static str,
                    target: Result<HttpTarget, String>,
                    s: &HttpSettings,
                    buckets: Vec<limit::BucketSpec>|
         -> Destination {
            let mut dest = Destination {
                name,
                limiter: Limiter::new(&buckets, now),
                breaker: Some(Arc::new(Mutex::new(Breaker::new(
                    s.breaker_failures,
                    s.breaker_cool_off,
                )))),
                jobs: None,
                target: None,
                problem: Arc::new(Mutex::new(None)),
                counts: DestCounts::default(),
            };
            match target {
                Ok(t) => {
                    dest.target = Some((
                        Target::Http {
                            target: t,
                            client: client.clone(),
                            timeout: s.timeout,
                        },
                        s.retry,
                    ));
                }
                Err(why) => *lock(&dest.problem) = Some(why),
            }
            dest
        };
        if let Some(s) = &cfg.webhook {
            let t = secret(secrets, secrets::WEBHOOK_URL).map(|url| HttpTarget::Webhook {
                url,
                key: secrets.get(secrets::WEBHOOK_HMAC_KEY).cloned(),
            });
            d.dests.push(http("webhook", t, s, s.buckets()));
        }
        if let Some(s) = &cfg.telegram {
            let t = secret(secrets, secrets::TELEGRAM_TOKEN).map(|token| HttpTarget::Telegram {
                api: s.api_url.clone(),
                token,
                chat_id: s.chat_id.clone(),
            });
            d.dests.push(http("telegram", t, &s.http, s.buckets()));
        }
        if let Some(s) = &cfg.discord {
            let t = secret(secrets, secrets::DISCORD_WEBHOOK_URL)
                .map(|url| HttpTarget::Discord { url });
            d.dests.push(http("discord", t, s, s.buckets()));
        }
        if let Some(s) = &cfg.slack {
            let t =
                secret(secrets, secrets::SLACK_WEBHOOK_URL).map(|url| HttpTarget::Slack { url });
            d.dests.push(http("slack", t, s, s.buckets()));
        }
        for dest in &mut d.dests {
            if let Some((target, policy)) = dest.target.clone() {
                let (tx, rx) = mpsc::channel(QUEUE);
                dest.jobs = Some(tx);
                tokio::spawn(worker(
                    dest.name,
                    target,
                    policy,
                    dest.breaker.clone(),
                    dest.problem.clone(),
                    d.clock.clone(),
                    rx,
                    d.reports.clone(),
                ));
            }
        }
        (d, rx)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.dests.iter().map(|d| d.name).collect()
    }

    /// Hands `alert` to every destination `rule` delivers to; returns what
    /// is known at once (queued, suppressed, or sent for the app and bell).
    /// Muted rules deliver nowhere.
    pub fn dispatch(&mut self, alert: &Alert, rule: Option<&Rule>) -> Vec<(&'static str, Outcome)> {
        let now = self.clock.now();
        let mut out = Vec::new();
        for d in &mut self.dests {
            if rule.is_some_and(|r| !r.delivers_to(d.name)) {
                continue;
            }
            let outcome = if alert.muted {
                Outcome::Suppressed("rule muted".into())
            } else if let Some(why) = lock(&d.problem).clone().filter(|_| d.jobs.is_none()) {
                Outcome::Suppressed(why)
            } else if let Err(limit) = d.limiter.try_take(now) {
                Outcome::Suppressed(format!("rate limited ({limit})"))
            } else if let Some(Err(why)) = d.breaker.as_ref().map(|b| lock(b).allow(now)) {
                Outcome::Suppressed(why)
            } else {
                match &d.jobs {
                    None => {
                        if d.name == "bell" {
                            self.bells += 1;
                        }
                        Outcome::Sent { attempts: 1 }
                    }
                    Some(tx) => match tx.try_send(Job {
                        alert: alert.clone(),
                    }) {
                        Ok(()) => Outcome::Queued,
                        Err(_) => Outcome::Suppressed("delivery queue full".into()),
                    },
                }
            };
            count(&mut d.counts, &outcome);
            out.push((d.name, outcome));
        }
        out
    }

    /// A report from a worker: counted here before it goes to the history.
    pub fn count_report(&mut self, r: &Report) {
        if let Some(d) = self.dests.iter_mut().find(|d| d.name == r.destination) {
            count(&mut d.counts, &r.outcome);
        }
    }

    pub fn status(&self) -> Vec<DestStatus> {
        self.dests
            .iter()
            .map(|d| DestStatus {
                name: d.name,
                problem: lock(&d.problem).clone(),
                breaker: d.breaker.as_ref().map(|b| lock(b).label()),
                counts: d.counts.clone(),
                limits: d.limiter.specs().iter().map(|s| s.label).collect(),
            })
            .collect()
    }

    /// `depthwatch alerts test`: one alert straight to every destination
    /// (no rate limit or breaker), with retries; each final outcome.
    pub async fn test_all(&self, alert: &Alert) -> Vec<(&'static str, Outcome)> {
        let mut out = Vec::new();
        for d in &self.dests {
            let problem = lock(&d.problem).clone();
            let outcome = match (&d.target, problem) {
                (Some((target, policy)), _) => {
                    let (tx, mut rx) = mpsc::unbounded_channel();
                    deliver(
                        d.name,
                        target,
                        *policy,
                        None,
                        &d.problem,
                        &*self.clock,
                        alert,
                        &tx,
                    )
                    .await;
                    drop(tx);
                    let mut last = Outcome::Failed("no outcome".into());
                    while let Some(r) = rx.recv().await {
                        last = r.outcome;
                    }
                    last
                }
                (None, Some(why)) => Outcome::Failed(why),
                (None, None) => Outcome::Sent { attempts: 1 },
            };
            out.push((d.name, outcome));
        }
        out
    }
}

fn count(c: &mut DestCounts, o: &Outcome) {
    match o {
        Outcome::Queued => {}
        Outcome::Sent { .. } => c.sent += 1,
        Outcome::Retrying { .. } => c.retried += 1,
        Outcome::Suppressed(_) => c.suppressed += 1,
        Outcome::Failed(_) => c.failed += 1,
    }
}

/// A poisoned lock still holds usable state (plain counters and flags).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[allow(clippy::too_many_arguments)]
async fn worker(
    name: &'static str,
    target: Target,
    policy: RetryPolicy,
    breaker: Option<Arc<Mutex<Breaker>>>,
    problem: Arc<Mutex<Option<String>>>,
    clock: Arc<dyn Clock>,
    mut jobs: mpsc::Receiver<Job>,
    reports: mpsc::UnboundedSender<Report>,
) {
    while let Some(job) = jobs.recv().await {
        deliver(
            name,
            &target,
            policy,
            breaker.as_deref(),
            &problem,
            &*clock,
            &job.alert,
            &reports,
        )
        .await;
    }
}

/// Attempts one alert until it is sent, fails for good, runs out of
/// retries or the breaker opens; reports every step.
#[allow(clippy::too_many_arguments)]
async fn deliver(
    name: &'static str,
    target: &Target,
    policy: RetryPolicy,
    breaker: Option<&Mutex<Breaker>>,
    problem: &Mutex<Option<String>>,
    clock: &dyn Clock,
    alert: &Alert,
    reports: &mpsc::UnboundedSender<Report>,
) {
    let report = |outcome| {
        let _ = reports.send(Report {
            alert: alert.id,
            destination: name,
            outcome,
        });
    };
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let result = match target {
            Target::Http {
                target,
                client,
                timeout,
            } => http::attempt(client, &target.request(alert), *timeout).await,
            Target::Desktop => desktop::show(alert, problem).await,
        };
        match result {
            Attempt::Ok => {
                if let Some(b) = breaker {
                    lock(b).success();
                }
                if name != "desktop" {
                    *lock(problem) = None;
                }
                report(Outcome::Sent { attempts });
                return;
            }
            Attempt::Fatal(why) => {
                if let Some(b) = breaker {
                    lock(b).failure(clock.now());
                }
                *lock(problem) = Some(why.clone());
                report(Outcome::Failed(why));
                return;
            }
            Attempt::Retryable {
                reason,
                retry_after,
            } => {
                let opened = breaker.is_some_and(|b| lock(b).failure(clock.now()));
                *lock(problem) = Some(reason.clone());
                if opened {
                    report(Outcome::Failed(format!("{reason}; circuit opened")));
                    return;
                }
                if attempts > policy.max_retries {
                    report(Outcome::Failed(format!(
                        "{reason} (gave up after {attempts} attempts)"
                    )));
                    return;
                }
                let Some(delay) = policy.delay(attempts, retry_after) else {
                    report(Outcome::Failed(format!("{reason}; asked to wait too long")));
                    return;
                };
                report(Outcome::Retrying {
                    attempt: attempts,
                    reason,
                    delay,
                });
                clock.sleep(delay).await;
            }
        }
    }
}
