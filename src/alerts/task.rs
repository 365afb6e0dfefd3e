//! The alerts task: one of the engine's sinks. It evaluates the rules
//! against notices as they arrive and against the engine's snapshot on a
//! tick, hands alerts to the dispatcher, folds the deliveries' reports into
//! the history and publishes an [`AlertsView`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::deliver::{Dispatcher, Report};
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
