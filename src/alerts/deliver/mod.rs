//! Deliveries: each destination behind its own rate limits and circuit
//! breaker, HTTP ones (webhook, Telegram, Discord, Slack) and desktop
//! notifications sent by a worker task each, with retries; every outcome
//! (sent, suppressed, retried, failed, with the reason) reported back.
//!
//! `settings` is the config, `payload` the request of each service, `limit`
//! the token buckets, `breaker` the circuit breaker, `retry` the backoff and
//! `Retry-After`, `clock` the injected time, `http` the attempt itself,
//! `desktop` the freedesktop notification, `plan` which destinations a
//! config and the secrets make (and what a reload changes in them).

pub mod breaker;
pub mod clock;
mod desktop;
mod http;
pub mod limit;
pub mod payload;
pub mod plan;
pub mod retry;
pub mod settings;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::alert::Alert;
use super::rule::Rule;
use super::secrets::{Secret, Secrets};
use breaker::Breaker;
use clock::Clock;
use limit::Limiter;
pub use plan::{Changes, DestSpec, TargetSpec};
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
#[derive(Clone, Debug, PartialEq)]
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

/// Why a destination's worker was told to stop (the outcome of what it
/// still held).
pub const REMOVED: &str = "destination removed from the config";
pub const CHANGED: &str = "destination changed in the config";

/// Set once, when the worker is to stop: why.
type Retire = watch::Receiver<Option<&'static str>>;

struct Job {
    alert: Alert,
}

struct Destination {
    /// How it was set up; a reload with the same spec keeps it as it is.
    spec: DestSpec,
    limiter: Limiter,
    breaker: Option<Arc<Mutex<Breaker>>>,
    /// The worker's queue (HTTP and desktop).
    jobs: Option<mpsc::Sender<Job>>,
    /// Tells the worker to stop.
    retire: Option<watch::Sender<Option<&'static str>>>,
    /// What `alerts test` sends through directly.
    target: Option<(Target, RetryPolicy)>,
    problem: Arc<Mutex<Option<String>>>,
    counts: DestCounts,
}

impl Destination {
    /// The worker ends what it holds with `why` (an attempt under way
    /// finishes and reports as it goes); the queue closes with this value.
    fn retire(self, why: &'static str) {
        if let Some(r) = &self.retire {
            let _ = r.send(Some(why));
        }
    }
}

/// Queue of one worker: alerts beyond it are suppressed, not waited for.
const QUEUE: usize = 64;

/// The destinations of one run.
pub struct Dispatcher {
    dests: Vec<Destination>,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
    reports: mpsc::UnboundedSender<Report>,
    /// Bells rung so far (the UI or headless output rings them).
    pub bells: u64,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("destinations", &self.names())
            .finish()
    }
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
        Dispatcher::with_plan(plan::plan(cfg, secrets), clock, client)
    }

    /// [`Dispatcher::new`] from a plan made already.
    pub fn with_plan(
        specs: Vec<DestSpec>,
        clock: Arc<dyn Clock>,
        client: reqwest::Client,
    ) -> (Dispatcher, mpsc::UnboundedReceiver<Report>) {
        let (reports, rx) = mpsc::unbounded_channel();
        let mut d = Dispatcher {
            dests: Vec::new(),
            clock,
            client,
            reports,
            bells: 0,
        };
        d.reconfigure(specs);
        (d, rx)
    }

    /// Adopts a new plan (a config reload). A destination whose spec is
    /// the same keeps everything: its rate-limit window, breaker, queue,
    /// worker and counts. A changed one is built anew (a fresh window and
    /// breaker for the new settings; its counts carry on) and a removed
    /// one goes; the old worker of either ends what it still holds (queued,
    /// or waiting to retry) as suppressed with [`CHANGED`] or [`REMOVED`],
    /// so nothing is sent twice or with settings no longer in force.
    pub fn reconfigure(&mut self, specs: Vec<DestSpec>) -> Changes {
        let running: Vec<DestSpec> = self.dests.iter().map(|d| d.spec.clone()).collect();
        let changes = Changes::between(&running, &specs);
        let mut old = std::mem::take(&mut self.dests);
        for spec in specs {
            let kept = old.iter().position(|d| d.spec.name == spec.name);
            let dest = match kept.map(|i| old.remove(i)) {
                Some(same) if same.spec == spec => same,
                Some(was) => {
                    let mut dest = self.build(spec);
                    dest.counts = was.counts.clone();
                    was.retire(CHANGED);
                    dest
                }
                None => self.build(spec),
            };
            self.dests.push(dest);
        }
        for gone in old {
            gone.retire(REMOVED);
        }
        changes
    }

    /// A destination from its spec, its worker started.
    fn build(&self, spec: DestSpec) -> Destination {
        let target = spec.target.as_ref().map(|(t, policy)| {
            let t = match t {
                TargetSpec::Http { target, timeout } => Target::Http {
                    target: target.clone(),
                    client: self.client.clone(),
                    timeout: *timeout,
                },
                TargetSpec::Desktop => Target::Desktop,
            };
            (t, *policy)
        });
        let mut dest = Destination {
            limiter: Limiter::new(&spec.buckets, self.clock.now()),
            breaker: spec
                .breaker
                .map(|(failures, cool_off)| Arc::new(Mutex::new(Breaker::new(failures, cool_off)))),
            jobs: None,
            retire: None,
            target,
            problem: Arc::new(Mutex::new(spec.problem.clone())),
            counts: DestCounts::default(),
            spec,
        };
        if let Some((target, policy)) = dest.target.clone() {
            let (tx, rx) = mpsc::channel(QUEUE);
            let (retire, retired) = watch::channel(None);
            let worker = Worker {
                name: dest.spec.name,
                target,
                policy,
                breaker: dest.breaker.clone(),
                problem: dest.problem.clone(),
                clock: self.clock.clone(),
                reports: self.reports.clone(),
            };
            tokio::spawn(worker.run(rx, retired));
            dest.jobs = Some(tx);
            dest.retire = Some(retire);
        }
        dest
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.dests.iter().map(|d| d.spec.name).collect()
    }

    /// Hands `alert` to every destination `rule` delivers to; returns what
    /// is known at once (queued, suppressed, or sent for the app and bell).
    /// Muted rules deliver nowhere.
    pub fn dispatch(&mut self, alert: &Alert, rule: Option<&Rule>) -> Vec<(&'static str, Outcome)> {
        let now = self.clock.now();
        let mut out = Vec::new();
        for d in &mut self.dests {
            let name = d.spec.name;
            if rule.is_some_and(|r| !r.delivers_to(name)) {
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
                        if name == "bell" {
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
            out.push((name, outcome));
        }
        out
    }

    /// A report from a worker: counted here before it goes to the history
    /// (a removed destination's last reports count nowhere).
    pub fn count_report(&mut self, r: &Report) {
        if let Some(d) = self.dests.iter_mut().find(|d| d.spec.name == r.destination) {
            count(&mut d.counts, &r.outcome);
        }
    }

    pub fn status(&self) -> Vec<DestStatus> {
        self.dests
            .iter()
            .map(|d| DestStatus {
                name: d.spec.name,
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
                    let worker = Worker {
                        name: d.spec.name,
                        target: target.clone(),
                        policy: *policy,
                        breaker: None,
                        problem: d.problem.clone(),
                        clock: self.clock.clone(),
                        reports: tx,
                    };
                    // Never retired: the sender lives through the attempt.
                    let (_keep, mut retired) = watch::channel(None);
                    worker.deliver(alert, &mut retired).await;
                    drop(worker);
                    let mut last = Outcome::Failed("no outcome".into());
                    while let Some(r) = rx.recv().await {
                        last = r.outcome;
                    }
                    last
                }
                (None, Some(why)) => Outcome::Failed(why),
                (None, None) => Outcome::Sent { attempts: 1 },
            };
            out.push((d.spec.name, outcome));
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

/// Resolves with why once the worker is told to stop; never, if the
/// dispatcher went away without saying (the run is ending).
async fn retired(r: &mut Retire) -> &'static str {
    // The guard is let go of within the statement (it must not be held
    // across an await).
    let why = r.wait_for(Option::is_some).await.ok().and_then(|w| *w);
    match why {
        Some(why) => why,
        None => std::future::pending().await,
    }
}

/// One destination's delivery loop and what it needs.
struct Worker {
    name: &'static str,
    target: Target,
    policy: RetryPolicy,
    breaker: Option<Arc<Mutex<Breaker>>>,
    problem: Arc<Mutex<Option<String>>>,
    clock: Arc<dyn Clock>,
    reports: mpsc::UnboundedSender<Report>,
}

impl Worker {
    fn report(&self, alert: &Alert, outcome: Outcome) {
        let _ = self.reports.send(Report {
            alert: alert.id,
            destination: self.name,
            outcome,
        });
    }

    /// Delivers the queue, one alert at a time, until the queue closes or
    /// the worker is retired; then what is still queued ends with why.
    async fn run(self, mut jobs: mpsc::Receiver<Job>, mut retire: Retire) {
        loop {
            let job = tokio::select! {
                biased;
                why = retired(&mut retire) => {
                    jobs.close();
                    while let Ok(job) = jobs.try_recv() {
                        self.report(&job.alert, Outcome::Suppressed(why.to_string()));
                    }
                    return;
                }
                job = jobs.recv() => match job {
                    Some(job) => job,
                    None => return,
                },
            };
            self.deliver(&job.alert, &mut retire).await;
        }
    }

    /// Attempts one alert until it is sent, fails for good, runs out of
    /// retries, the breaker opens or the worker is retired (an attempt
    /// under way is finished first); reports every step.
    async fn deliver(&self, alert: &Alert, retire: &mut Retire) {
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let result = match &self.target {
                Target::Http {
                    target,
                    client,
                    timeout,
                } => http::attempt(client, &target.request(alert), *timeout).await,
                Target::Desktop => desktop::show(alert, &self.problem).await,
            };
            match result {
                Attempt::Ok => {
                    if let Some(b) = &self.breaker {
                        lock(b).success();
                    }
                    if self.name != "desktop" {
                        *lock(&self.problem) = None;
                    }
                    self.report(alert, Outcome::Sent { attempts });
                    return;
                }
                Attempt::Fatal(why) => {
                    if let Some(b) = &self.breaker {
                        lock(b).failure(self.clock.now());
                    }
                    *lock(&self.problem) = Some(why.clone());
                    self.report(alert, Outcome::Failed(why));
                    return;
                }
                Attempt::Retryable {
                    reason,
                    retry_after,
                } => {
                    let opened = self
                        .breaker
                        .as_ref()
                        .is_some_and(|b| lock(b).failure(self.clock.now()));
                    *lock(&self.problem) = Some(reason.clone());
                    if opened {
                        self.report(alert, Outcome::Failed(format!("{reason}; circuit opened")));
                        return;
                    }
                    if attempts > self.policy.max_retries {
                        self.report(
                            alert,
                            Outcome::Failed(format!(
                                "{reason} (gave up after {attempts} attempts)"
                            )),
                        );
                        return;
                    }
                    let Some(delay) = self.policy.delay(attempts, retry_after) else {
                        self.report(
                            alert,
                            Outcome::Failed(format!("{reason}; asked to wait too long")),
                        );
                        return;
                    };
                    if let Some(why) = *retire.borrow() {
                        self.report(alert, Outcome::Suppressed(why.to_string()));
                        return;
                    }
                    self.report(
                        alert,
                        Outcome::Retrying {
                            attempt: attempts,
                            reason,
                            delay,
                        },
                    );
                    tokio::select! {
                        biased;
                        why = retired(retire) => {
                            self.report(alert, Outcome::Suppressed(why.to_string()));
                            return;
                        }
                        () = self.clock.sleep(delay) => {}
                    }
                }
            }
        }
    }
}
