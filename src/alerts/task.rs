//! The alerts task: one of the engine's sinks. It evaluates the rules
//! against notices as they arrive and against the engine's snapshot on a
//! tick, hands alerts to the dispatcher, folds the deliveries' reports into
//! the history and publishes an [`AlertsView`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::deliver::{DestSpec, Dispatcher, Report};
use super::eval::{Evaluator, Verdict};
use super::rule::Rule;
use super::view::{AlertRecord, AlertsView, HISTORY, RuleStatus};
use crate::engine::Snapshot;
use crate::engine::notices::{Notice, SinkStatus};
use crate::model::now_micros;
use crate::store::alerts::{AlertEvent, AlertRow, AlertSink, DeliveryRow};

/// How often the snapshot is looked at (and the view published).
pub const TICK: Duration = Duration::from_millis(250);

/// Notices the task may fall behind by before the engine drops them.
pub const SINK_CAPACITY: usize = 4_096;

#[derive(Clone, Debug, PartialEq)]
pub enum AlertControl {
    /// New rules (a config reload, a mute, a disable, a new rule).
    SetRules(Vec<Rule>),
    /// New destinations (a config reload, the secrets read again): only
    /// those whose setup changed are rebuilt. `problem`: what the pane says
    /// about the setup (the secrets file refused), if anything.
    SetDelivery {
        plan: Vec<DestSpec>,
        problem: Option<String>,
    },
    /// Acknowledge one alert by id.
    Ack(u64),
    AckAll,
}

/// The running task's ends.
#[derive(Clone, Debug)]
pub struct AlertsHandle {
    pub view: watch::Receiver<Arc<AlertsView>>,
    pub control: mpsc::Sender<AlertControl>,
}

/// What the task needs.
pub struct AlertsInputs {
    pub rules: Vec<Rule>,
    pub dispatcher: Dispatcher,
    pub reports: mpsc::UnboundedReceiver<Report>,
    pub notices: mpsc::Receiver<Arc<Notice>>,
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    pub status: Arc<SinkStatus>,
    /// A problem with the setup (the secrets file refused), shown in the pane.
    pub problem: Option<String>,
    /// Where alerts and deliveries are kept (`None`: no history store).
    pub store: Option<AlertSink>,
    /// The history of earlier runs, newest first (from the store).
    pub restored: Vec<AlertRecord>,
}

/// Starts the task (needs a Tokio runtime).
pub fn spawn(inputs: AlertsInputs) -> AlertsHandle {
    let mut state = State::new(inputs.rules, inputs.dispatcher, inputs.problem);
    state.restore(inputs.restored);
    if let Some(sink) = inputs.store {
        state.keep_in(sink);
    }
    let (view_tx, view) = watch::channel(Arc::new(state.view.clone()));
    let (control, control_rx) = mpsc::channel(64);
    state.status = Some(inputs.status);
    tokio::spawn(run(
        state,
        inputs.reports,
        inputs.notices,
        inputs.snapshots,
        control_rx,
        view_tx,
    ));
    AlertsHandle { view, control }
}

/// Evaluation, dispatch and history: the task's state, driven by its loop
/// (and directly by tests).
pub struct State {
    eval: Evaluator,
    pub dispatcher: Dispatcher,
    pub view: AlertsView,
    dirty: bool,
    status: Option<Arc<SinkStatus>>,
    store: Option<AlertSink>,
}

impl State {
    pub fn new(rules: Vec<Rule>, dispatcher: Dispatcher, problem: Option<String>) -> State {
        let mut s = State {
            view: AlertsView {
                rules: rules.iter().map(RuleStatus::of).collect(),
                destinations: dispatcher.status(),
                problem,
                ..AlertsView::default()
            },
            eval: Evaluator::new(rules),
            dispatcher,
            dirty: true,
            status: None,
            store: None,
        };
        s.view.version = 1;
        s
    }

    /// Write alerts and deliveries to the history store from now on.
    pub fn keep_in(&mut self, sink: AlertSink) {
        self.store = Some(sink);
    }

    /// Put back the history of earlier runs (newest first). Only the
    /// history: nothing is delivered again, the rules' counts and
    /// cooldowns start with this run (a rule may fire again as soon as its
    /// condition holds), and new alerts are numbered after the restored.
    pub fn restore(&mut self, mut records: Vec<AlertRecord>) {
        records.truncate(HISTORY);
        let newest = records.iter().map(|r| r.alert.id).max().unwrap_or(0);
        self.eval.number_after(newest);
        self.view.restored = newest;
        self.view.records = records;
        self.dirty = true;
    }

    pub fn on_notice(&mut self, n: &Notice) {
        let v = self.eval.on_notice(n);
        self.apply(v);
    }

    pub fn on_snapshot(&mut self, s: &Snapshot) {
        let v = self.eval.on_snapshot(s);
        self.apply(v);
    }

    fn apply(&mut self, verdicts: Vec<Verdict>) {
        for v in verdicts {
            self.dirty = true;
            match v {
                Verdict::Fire(alert) => {
                    let rule = self.eval.rules().iter().find(|r| r.name == alert.rule);
                    let deliveries = self.dispatcher.dispatch(&alert, rule);
                    if let Some(store) = &self.store {
                        let row = AlertRow::of(&alert, &deliveries, now_micros());
                        store.send(AlertEvent::Fired(row));
                    }
                    if let Some(s) = self.view.rules.iter_mut().find(|s| s.name == alert.rule) {
                        s.fired += 1;
                    }
                    self.view.total += 1;
                    self.view.records.insert(
                        0,
                        AlertRecord {
                            alert,
                            acked: false,
                            deliveries,
                        },
                    );
                    self.view.records.truncate(HISTORY);
                }
                Verdict::Held {
                    rule,
                    subject,
                    reason,
                } => {
                    if let Some(s) = self.view.rules.iter_mut().find(|s| s.name == rule) {
                        s.held += 1;
                        s.last_held = Some(format!("{subject}: {reason}"));
                    }
                }
            }
        }
    }

    pub fn on_report(&mut self, r: Report) {
        self.dispatcher.count_report(&r);
        if let Some(store) = &self.store {
            store.send(AlertEvent::Delivery {
                alert: r.alert,
                delivery: DeliveryRow::of(r.destination, &r.outcome, now_micros()),
            });
        }
        if let Some(rec) = self.view.records.iter_mut().find(|x| x.alert.id == r.alert) {
            match rec.deliveries.iter_mut().find(|(d, _)| *d == r.destination) {
                Some((_, o)) => *o = r.outcome,
                None => rec.deliveries.push((r.destination, r.outcome)),
            }
        }
        self.dirty = true;
    }

    pub fn control(&mut self, c: AlertControl) {
        match c {
            AlertControl::SetRules(rules) => {
                let old = std::mem::take(&mut self.view.rules);
                self.view.rules = rules
                    .iter()
                    .map(|r| {
                        let mut s = RuleStatus::of(r);
                        if let Some(o) = old.iter().find(|o| o.name == r.name) {
                            s.fired = o.fired;
                            s.held = o.held;
                            s.last_held = o.last_held.clone();
                        }
                        s
                    })
                    .collect();
                self.eval.set_rules(rules);
            }
            AlertControl::SetDelivery { plan, problem } => {
                self.dispatcher.reconfigure(plan);
                self.view.problem = problem;
            }
            AlertControl::Ack(id) => {
                if let Some(r) = self.view.records.iter_mut().find(|r| r.alert.id == id) {
                    r.acked = true;
                }
            }
            AlertControl::AckAll => {
                for r in &mut self.view.records {
                    r.acked = true;
                }
            }
        }
        self.dirty = true;
    }

    /// The view to publish, if anything changed since the last one.
    pub fn publish(&mut self) -> Option<AlertsView> {
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        self.view.destinations = self.dispatcher.status();
        self.view.bells = self.dispatcher.bells;
        self.view.version += 1;
        if let Some(status) = &self.status {
            let problems: Vec<String> = self
                .view
                .destinations
                .iter()
                .filter(|d| d.breaker == Some("open"))
                .map(|d| format!("{}: circuit open", d.name))
                .collect();
            status.set_problem((!problems.is_empty()).then(|| problems.join(", ")));
        }
        Some(self.view.clone())
    }
}

async fn run(
    mut state: State,
    mut reports: mpsc::UnboundedReceiver<Report>,
    mut notices: mpsc::Receiver<Arc<Notice>>,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    mut control: mpsc::Receiver<AlertControl>,
    view: watch::Sender<Arc<AlertsView>>,
) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut notices_open, mut control_open) = (true, true);
    loop {
        tokio::select! {
            n = notices.recv(), if notices_open => match n {
                Some(n) => state.on_notice(&n),
                None => notices_open = false,
            },
            Some(r) = reports.recv() => state.on_report(r),
            c = control.recv(), if control_open => match c {
                Some(c) => state.control(c),
                None => control_open = false,
            },
            _ = tick.tick() => {
                if snapshots.has_changed().unwrap_or(false) {
                    let snap = snapshots.borrow_and_update().clone();
                    state.on_snapshot(&snap);
                }
                if let Some(v) = state.publish() {
                    view.send_replace(Arc::new(v));
                }
                if !notices_open && !control_open {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::alerts::Alert;
    use crate::alerts::deliver::clock::ManualClock;
    use crate::alerts::deliver::plan::plan;
    use crate::alerts::deliver::{
        CHANGED, DeliveryConfig, DestStatus, HttpSettings, Outcome, REMOVED,
    };
    use crate::alerts::secrets::{self, Secrets};

    fn alert(id: u64) -> Alert {
        let mut a = Alert::test(1_700_000_000_000_000);
        a.id = id;
        a
    }

    fn webhook_at(url: &str, settings: HttpSettings) -> Vec<DestSpec> {
        let url = url.to_string();
        let s = Secrets::load(None, move |k| {
            (k == secrets::WEBHOOK_URL.env).then(|| url.clone())
        })
        .unwrap();
        let cfg = DeliveryConfig {
            webhook: Some(settings),
            ..DeliveryConfig::default()
        };
        plan(&cfg, &s)
    }

    fn with_bell(mut p: Vec<DestSpec>) -> Vec<DestSpec> {
        let bell = DeliveryConfig {
            app: false,
            bell: true,
            ..DeliveryConfig::default()
        };
        p.insert(1, plan(&bell, &Secrets::default()).remove(0));
        p
    }

    fn dest<'v>(view: &'v AlertsView, name: &str) -> &'v DestStatus {
        view.destinations.iter().find(|d| d.name == name).unwrap()
    }

    /// A port nothing listens on: connections are refused at once.
    fn refused_url() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    }

    /// Reports until `n` final outcomes (a hang guard, not a speed test).
    async fn finals(rx: &mut mpsc::UnboundedReceiver<Report>, n: usize) -> Vec<Report> {
        let mut out = Vec::new();
        while out
            .iter()
            .filter(|r: &&Report| r.outcome.is_final())
            .count()
            < n
        {
            let r = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                .await
                .expect("deliveries end")
                .expect("reports open");
            out.push(r);
        }
        out
    }

    /// A reload with the same settings keeps each destination's state: the
    /// app's rate-limit window is still spent, the webhook's breaker still
    /// open, the counts go on. A destination with a new URL starts with a
    /// closed breaker (its counts carry on); a removed one leaves the view.
    #[tokio::test]
    async fn a_reload_keeps_what_did_not_change_and_rebuilds_what_did() {
        let mut settings = HttpSettings::defaults_for("webhook");
        settings.breaker_failures = 1;
        settings.retry.max_retries = 0;
        let first = webhook_at(&refused_url(), settings.clone());
        let clock = ManualClock::default();
        let (dispatcher, mut reports) = Dispatcher::with_plan(
            first.clone(),
            Arc::new(clock),
            crate::app::alerts::http_client().unwrap(),
        );
        let mut state = State::new(Vec::new(), dispatcher, None);
        for id in 1..=6 {
            state.dispatcher.dispatch(&alert(id), None);
            if id == 1 {
                for r in finals(&mut reports, 1).await {
                    state.on_report(r);
                }
            }
        }
        let view = state.publish().unwrap();
        assert_eq!(dest(&view, "app").counts.sent, 5);
        assert_eq!(dest(&view, "app").counts.suppressed, 1, "5 a second");
        assert_eq!(dest(&view, "webhook").breaker, Some("open"));
        let webhook_counts = dest(&view, "webhook").counts.clone();
        assert_eq!((webhook_counts.failed, webhook_counts.suppressed), (1, 5));

        // The same settings, and a bell more.
        state.control(AlertControl::SetDelivery {
            plan: with_bell(first.clone()),
            problem: None,
        });
        let out = state.dispatcher.dispatch(&alert(7), None);
        assert_eq!(
            out.iter().map(|(d, o)| (*d, o.word())).collect::<Vec<_>>(),
            [
                ("app", "suppressed"),
                ("bell", "sent"),
                ("webhook", "suppressed"),
            ],
            "{out:?}"
        );
        for (_, o) in [&out[0], &out[2]] {
            assert!(
                matches!(o, Outcome::Suppressed(w) if w.contains("rate limited")),
                "the window is still spent: {o:?}"
            );
        }
        let view = state.publish().unwrap();
        assert_eq!(dest(&view, "app").counts.sent, 5);
        assert_eq!(dest(&view, "webhook").breaker, Some("open"));

        // A new URL: a new destination behind a closed breaker.
        state.control(AlertControl::SetDelivery {
            plan: with_bell(webhook_at(&refused_url(), settings)),
            problem: Some("the secrets file was refused".into()),
        });
        let view = state.publish().unwrap();
        assert_eq!(dest(&view, "webhook").breaker, Some("closed"));
        assert_eq!(dest(&view, "webhook").counts.failed, 1, "counts carry on");
        assert_eq!(
            view.problem.as_deref(),
            Some("the secrets file was refused")
        );

        // Only the app again.
        let app_only = plan(&DeliveryConfig::default(), &Secrets::default());
        state.control(AlertControl::SetDelivery {
            plan: app_only,
            problem: None,
        });
        let view = state.publish().unwrap();
        let names: Vec<&str> = view.destinations.iter().map(|d| d.name).collect();
        assert_eq!(names, ["app"]);
        assert_eq!(dest(&view, "app").counts.sent, 5);
        assert!(view.problem.is_none());
    }

    /// What a removed (or changed) destination still holds ends with why:
    /// the queued alert at once, the one under way when its attempt is
    /// over (instead of a retry).
    #[tokio::test]
    async fn in_flight_deliveries_of_a_removed_destination_end_with_why() {
        // Accepts connections (the kernel's backlog) and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", silent.local_addr().unwrap());
        let mut settings = HttpSettings::defaults_for("webhook");
        settings.timeout = Duration::from_millis(500);
        let client = crate::app::alerts::http_client().unwrap();
        for (next, why) in [
            (
                plan(&DeliveryConfig::default(), &Secrets::default()),
                REMOVED,
            ),
            (webhook_at(&refused_url(), settings.clone()), CHANGED),
        ] {
            let (mut d, mut reports) = Dispatcher::with_plan(
                webhook_at(&url, settings.clone()),
                Arc::new(ManualClock::default()),
                client.clone(),
            );
            assert_eq!(d.dispatch(&alert(1), None)[1].1, Outcome::Queued);
            assert_eq!(d.dispatch(&alert(2), None)[1].1, Outcome::Queued);
            // Let the worker start on the first.
            tokio::time::sleep(Duration::from_millis(100)).await;
            d.reconfigure(next);
            let got = finals(&mut reports, 2).await;
            let end = |id| {
                got.iter()
                    .rfind(|r| r.alert == id)
                    .map(|r| r.outcome.clone())
                    .unwrap()
            };
            assert_eq!(end(2), Outcome::Suppressed(why.into()), "{got:?}");
            assert_eq!(end(1), Outcome::Suppressed(why.into()), "{got:?}");
            assert!(
                got.iter()
                    .all(|r| !matches!(r.outcome, Outcome::Retrying { .. })),
                "no retry after the reload: {got:?}"
            );
        }
    }
}
