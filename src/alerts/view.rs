//! What the alerts task publishes for the Alerts pane and headless output:
//! the history with every destination's outcome, each rule's counts, each
//! destination's state. Immutable once published, like the engine's
//! snapshot.

use super::alert::Alert;
use super::deliver::{DestStatus, Outcome};
use super::rule::{Rule, Severity};

/// Alerts kept in the history, newest first.
pub const HISTORY: usize = 500;

#[derive(Clone, Debug, PartialEq)]
pub struct AlertRecord {
    pub alert: Alert,
    pub acked: bool,
    /// Latest outcome per destination, in destination order.
    pub deliveries: Vec<(&'static str, Outcome)>,
}

impl AlertRecord {
    /// `(destination, outcome)` pairs as text, for headless lines.
    pub fn delivery_words(&self) -> Vec<(String, String)> {
        self.deliveries
            .iter()
            .map(|(d, o)| (d.to_string(), o.to_string()))
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleStatus {
    pub name: String,
    pub kind: &'static str,
    pub severity: Severity,
    pub enabled: bool,
    pub muted: bool,
    pub fired: u64,
    /// Qualified but held back (cooldown, duplicate).
    pub held: u64,
    pub last_held: Option<String>,
}

impl RuleStatus {
    pub fn of(rule: &Rule) -> RuleStatus {
        RuleStatus {
            name: rule.name.clone(),
            kind: rule.kind.name(),
            severity: rule.severity,
            enabled: rule.enabled,
            muted: rule.muted,
            fired: 0,
            held: 0,
            last_held: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertsView {
    /// Increases with every publish.
    pub version: u64,
    /// Newest first, at most [`HISTORY`].
    pub records: Vec<AlertRecord>,
    pub rules: Vec<RuleStatus>,
    pub destinations: Vec<DestStatus>,
    /// Bells rung so far (the UI rings one per increase).
    pub bells: u64,
    /// Alerts fired in total (the history keeps the newest).
    pub total: u64,
    /// A problem of the alerts setup itself (a refused secrets file).
    pub problem: Option<String>,
    /// Alerts numbered up to this came from an earlier run (the history
    /// store): shown, never toasted or printed as new again.
    pub restored: u64,
}

impl AlertsView {
    pub fn unacked(&self) -> usize {
        self.records.iter().filter(|r| !r.acked).count()
    }
}
