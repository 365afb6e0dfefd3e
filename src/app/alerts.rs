//! The live session's alerts: the task started as one of the engine's
//! sinks, its destinations built from `[alert_delivery]` and the secrets,
//! its history read back from the history store and written to it, the
//! demo's rules, and `depthwatch alerts test`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use rust_decimal::Decimal;
use tokio::sync::watch;

use crate::alerts::deliver::clock::TokioClock;
use crate::alerts::deliver::{
    self, Changes, DeliveryConfig, DestSpec, Dispatcher, Outcome, Report,
};
use crate::alerts::rule::{FeedTrouble, Rule, RuleKind, Severity};
use crate::alerts::secrets::{self, Secrets};
use crate::alerts::task::{self, AlertControl, AlertsHandle, AlertsInputs, SINK_CAPACITY};
use crate::alerts::view::AlertRecord;
use crate::alerts::{Alert, AlertsView};
use crate::config::Config;
use crate::engine::{Engine, Snapshot};
use crate::model::now_micros;
use crate::store::alerts::{AlertSink, RESTORE_ALERTS};
use crate::store::{Kind, Query, Record, SqliteStore, Store};

/// The history store as the alerts task uses it.
pub struct AlertHistory {
    /// The writer's handle for alerts and deliveries.
    pub sink: AlertSink,
    /// The file the last alerts are read back from at start.
    pub file: PathBuf,
}

/// The newest `limit` alerts of `file` with their deliveries, newest first,
/// as the Alerts pane keeps them. A store that cannot be read restores
/// nothing (said in the log); the run goes on.
pub fn restored_records(file: &Path, limit: usize) -> Vec<AlertRecord> {
    let q = Query {
        limit: Some(limit),
        ..Query::new(Kind::Alerts)
    };
    match SqliteStore::open_read(file).and_then(|s| s.query(&q)) {
        Ok(rows) => {
            let out: Vec<AlertRecord> = rows
                .iter()
                .rev()
                .filter_map(|r| match r {
                    Record::Alert(a) => Some(a.to_record()),
                    _ => None,
                })
                .collect();
            tracing::info!(
                "alert history restored from {}: {} alerts",
                file.display(),
                out.len()
            );
            out
        }
        Err(e) => {
            tracing::warn!("history store: no alert history restored: {e}");
            Vec::new()
        }
    }
}

/// The HTTP client deliveries use (the shared TLS setup; no redirects: a
/// webhook that redirects is misconfigured, and a redirect must not carry
/// the body elsewhere).
pub fn http_client() -> Result<reqwest::Client> {
    let tls = (*crate::net::tls::client_config()).clone();
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .user_agent(concat!("depthwatch/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .build()?)
}

/// The secrets from the environment and the secrets file `config` names
/// (default: beside the config file).
fn read_secrets(
    config: &Config,
    config_path: Option<&Path>,
) -> Result<Secrets, secrets::SecretsError> {
    let path = config
        .alert_delivery
        .secrets_file
        .clone()
        .or_else(|| secrets::default_path(config_path));
    Secrets::load(path.as_deref(), |k| std::env::var(k).ok())
}

/// The secrets in force, or why the secrets file was refused (then none).
pub fn load_secrets(config: &Config, config_path: Option<&Path>) -> (Secrets, Option<String>) {
    match read_secrets(config, config_path) {
        Ok(s) => (s, None),
        Err(e) => {
            tracing::error!("alerts: {e}");
            (Secrets::default(), Some(e.to_string()))
        }
    }
}

/// The delivery setup the alerts task was last given, kept by the session
/// so that a config reload can tell what it changes.
pub struct Delivery {
    secrets: Secrets,
    plan: Vec<DestSpec>,
    problem: Option<String>,
}

impl Delivery {
    /// Reads the secrets again as at start and plans `config`'s
    /// destinations with them: what changed, and the control that tells
    /// the task (`None` when nothing did). A secrets file refused now keeps
    /// the secrets read before, so a bad `chmod` does not silence running
    /// destinations; the Alerts pane says so.
    pub fn reload(
        &mut self,
        config: &Config,
        config_path: Option<&Path>,
    ) -> (Changes, Option<AlertControl>) {
        let problem = match read_secrets(config, config_path) {
            Ok(s) => {
                self.secrets = s;
                None
            }
            Err(e) => {
                tracing::error!("alerts: {e}; keeping the secrets read before");
                Some(format!("{e}; keeping the secrets read before"))
            }
        };
        let plan = deliver::plan::plan(&config.alert_delivery, &self.secrets);
        let changes = Changes::between(&self.plan, &plan);
        if changes.is_empty() && problem == self.problem {
            return (changes, None);
        }
        self.plan = plan.clone();
        self.problem = problem.clone();
        (changes, Some(AlertControl::SetDelivery { plan, problem }))
    }
}

/// Registers the alerts sink on `engine` and starts the task over the
/// snapshots it will publish; with a history store, the last alerts come
/// back into its history and new ones are written to it. The delivery
/// setup it starts with comes back for reloads.
pub fn start(
    config: &Config,
    config_path: Option<&Path>,
    engine: &mut Engine,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    history: Option<AlertHistory>,
) -> Result<(AlertsHandle, Delivery)> {
    let (notices, status) = engine.add_sink("alerts", SINK_CAPACITY);
    let (secrets, problem) = load_secrets(config, config_path);
    let plan = deliver::plan::plan(&config.alert_delivery, &secrets);
    let (dispatcher, reports) = Dispatcher::with_plan(
        plan.clone(),
        Arc::new(TokioClock::default()),
        http_client()?,
    );
    let names = dispatcher.names().join(", ");
    tracing::info!(
        "alerts: {} rule(s); destinations: {}",
        config.alerts.len(),
        if names.is_empty() { "none" } else { &names }
    );
    let restored = history
        .as_ref()
        .map(|h| restored_records(&h.file, RESTORE_ALERTS))
        .unwrap_or_default();
    let handle = task::spawn(AlertsInputs {
        rules: config.alerts.clone(),
        dispatcher,
        reports,
        notices,
        snapshots,
        status,
        problem: problem.clone(),
        store: history.map(|h| h.sink),
        restored,
    });
    let delivery = Delivery {
        secrets,
        plan,
        problem,
    };
    Ok((handle, delivery))
}

/// A replay's dispatcher: the config's rules over recorded data deliver to
/// no destination outside the app (old data never messages anyone), and to
/// the app's toast only when `toast` (the TUI; a headless replay outruns the
/// toast's wall-clock rate limit).
pub fn replay_dispatcher(
    toast: bool,
) -> Result<(Dispatcher, tokio::sync::mpsc::UnboundedReceiver<Report>)> {
    let cfg = DeliveryConfig {
        app: toast,
        ..DeliveryConfig::default()
    };
    Ok(Dispatcher::new(
        &cfg,
        &Secrets::default(),
        Arc::new(TokioClock::default()),
        http_client()?,
    ))
}

/// A TUI replay's alerts task over the replayed snapshots (see
/// [`replay_dispatcher`]), keeping what fires in the replay's `--store`
/// file if any; `None` without rules.
pub fn start_for_replay(
    config: &Config,
    engine: &mut Engine,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    store: Option<AlertSink>,
) -> Result<Option<AlertsHandle>> {
    if config.alerts.is_empty() {
        return Ok(None);
    }
    let (notices, status) = engine.add_sink("alerts", SINK_CAPACITY);
    let (dispatcher, reports) = replay_dispatcher(true)?;
    Ok(Some(task::spawn(AlertsInputs {
        rules: config.alerts.clone(),
        dispatcher,
        reports,
        notices,
        snapshots,
        status,
        problem: None,
        store,
        restored: Vec::new(),
    })))
}

/// The rules `--demo` runs when the config has none: the simulator's
/// dislocations open arbitrage and its cascades liquidate, so one fires
/// within the first minute.
pub fn demo_rules() -> Vec<Rule> {
    let mut arb = Rule::new(
        "demo-arbitrage",
        RuleKind::Arbitrage {
            min_net_bps: Decimal::ONE,
            min_profit: Decimal::ZERO,
            min_lifetime: 1_000_000,
        },
    );
    arb.hysteresis = Decimal::ONE;
    arb.cooldown = 30_000_000;
    let mut liq = Rule::new(
        "demo-liquidation",
        RuleKind::Liquidation {
            min_notional_usd: 25_000.0,
            side: None,
        },
    );
    liq.severity = Severity::Info;
    liq.cooldown = 20_000_000;
    let mut down = Rule::new(
        "demo-feed-trouble",
        RuleKind::Feed {
            trouble: FeedTrouble::OutOfSync,
            for_s: 5_000_000,
        },
    );
    down.severity = Severity::Critical;
    vec![arb, liq, down]
}

/// The published view's alerts newer than `seen`, oldest first (never
/// those restored from an earlier run).
pub fn new_records(view: &AlertsView, seen: u64) -> Vec<&crate::alerts::view::AlertRecord> {
    view.records
        .iter()
        .rev()
        .filter(|r| r.alert.id > seen.max(view.restored))
        .collect()
}

/// `depthwatch alerts test`: a test alert to every configured destination;
/// prints each result; exit code 0 when all were sent.
pub async fn run_test(config: &Config, config_path: Option<&Path>) -> Result<i32> {
    let (secrets, problem) = load_secrets(config, config_path);
    if let Some(p) = &problem {
        eprintln!("{p}");
    }
    let (dispatcher, _reports) = Dispatcher::new(
        &config.alert_delivery,
        &secrets,
        Arc::new(TokioClock::default()),
        http_client()?,
    );
    let names = dispatcher.names();
    if names.is_empty() {
        println!("no destinations: [alert_delivery] turns none on (see config.example.toml)");
        return Ok(1);
    }
    let alert = Alert::test(now_micros());
    let mut failed = problem.is_some();
    for (name, outcome) in dispatcher.test_all(&alert).await {
        let note = match (name, &outcome) {
            ("app", Outcome::Sent { .. }) => " (shown as a toast in the TUI)",
            ("bell", Outcome::Sent { .. }) => " (rung by the TUI and headless output)",
            _ => "",
        };
        failed |= !matches!(outcome, Outcome::Sent { .. });
        println!("{name:<9} {outcome}{note}");
    }
    Ok(if failed { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::task::State;
    use crate::engine::notices::{Notice, SinkStatus};
    use crate::engine::snapshot::LiquidationRow;
    use crate::model::{LiquidatedSide, Micros};
    use crate::store::alerts::{AlertEvent, AlertRow, DeliveryRow};

    const T0: Micros = 1_764_000_000_000_000;

    fn liq(time: Micros) -> LiquidationRow {
        LiquidationRow {
            venue: "okx".parse().unwrap(),
            instrument: "BTC-USDT-PERP".parse().unwrap(),
            side: LiquidatedSide::Short,
            price: Decimal::new(6_500_012, 2),
            size: Decimal::new(3, 1),
            notional_usd: 19_500.0,
            notional_known: true,
            time,
        }
    }

    fn stored(id: u64, at: Micros, outcome: Outcome) -> Vec<AlertEvent> {
        let mut a = Alert::test(at);
        a.id = id;
        a.rule = "big-liq".into();
        a.kind = "liquidation";
        a.text = format!("alert {id}");
        vec![
            AlertEvent::Fired(AlertRow::of(&a, &[("app", Outcome::Queued)], at)),
            AlertEvent::Delivery {
                alert: id,
                delivery: DeliveryRow::of("app", &outcome, at + 1),
            },
        ]
    }

    /// A reload reads the secrets file again: a new URL changes the
    /// webhook, the same file changes nothing (no control for the task), a
    /// file refused for its mode keeps the secrets read before and says so.
    #[cfg(unix)]
    #[test]
    fn a_reload_reads_the_secrets_again_and_keeps_them_when_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        let secrets = dir.path().join("secrets.toml");
        let write = |url: &str, mode: u32| {
            std::fs::write(&secrets, format!("webhook_url = \"{url}\"\n")).unwrap();
            std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        write("http://a.invalid/SECRET-A", 0o600);
        let mut config = Config::default();
        config.alert_delivery.webhook = Some(crate::alerts::deliver::HttpSettings::defaults_for(
            "webhook",
        ));
        let (first, problem) = load_secrets(&config, Some(&file));
        assert!(problem.is_none());
        let mut d = Delivery {
            plan: deliver::plan::plan(&config.alert_delivery, &first),
            secrets: first,
            problem,
        };
        let (changes, control) = d.reload(&config, Some(&file));
        assert!(changes.is_empty() && control.is_none());

        write("http://b.invalid/SECRET-B", 0o600);
        let (changes, control) = d.reload(&config, Some(&file));
        assert_eq!(changes.to_string(), "webhook changed");
        assert!(matches!(
            control,
            Some(AlertControl::SetDelivery { problem: None, .. })
        ));

        write("http://c.invalid/SECRET-C", 0o644);
        let (changes, control) = d.reload(&config, Some(&file));
        assert!(
            changes.is_empty(),
            "kept the secrets read before: {changes}"
        );
        match control {
            Some(AlertControl::SetDelivery { plan, problem }) => {
                let p = problem.unwrap();
                assert!(p.contains("chmod 600") && p.contains("keeping"), "{p}");
                assert!(!p.contains("SECRET"), "{p}");
                assert!(format!("{plan:?}").contains("webhook"));
            }
            other => panic!("{other:?}"),
        }
    }

    /// After a restart the Alerts pane has the last alerts back, newest
    /// first and acknowledged, with each destination's latest outcome; new
    /// alerts are numbered after them, are written to the store, and are
    /// the only ones headless output prints as new.
    #[tokio::test]
    async fn restored_alerts_come_back_into_the_view_and_are_not_new() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        {
            let mut s = SqliteStore::open(&path).unwrap();
            s.begin_run(T0).unwrap();
            let mut events = stored(1, T0, Outcome::Sent { attempts: 1 });
            events.extend(stored(2, T0 + 10, Outcome::Failed("HTTP 500".into())));
            events.extend(stored(3, T0 + 20, Outcome::Sent { attempts: 2 }));
            s.write_alerts(&events).unwrap();
        }
        let restored = restored_records(&path, 2);
        let ids: Vec<u64> = restored.iter().map(|r| r.alert.id).collect();
        assert_eq!(ids, [3, 2], "the newest 2, newest first");
        assert!(restored.iter().all(|r| r.acked));
        assert_eq!(
            restored[1].deliveries,
            [("app", Outcome::Failed("HTTP 500".into()))]
        );
        assert!(restored_records(&dir.path().join("none.sqlite"), 2).is_empty());

        let mut rule = Rule::new(
            "big-liq",
            RuleKind::Liquidation {
                min_notional_usd: 1_000.0,
                side: None,
            },
        );
        rule.cooldown = 0;
        let (dispatcher, _reports) = replay_dispatcher(false).unwrap();
        let mut state = State::new(vec![rule], dispatcher, None);
        let (sink, mut written) = AlertSink::channel(8, Arc::new(SinkStatus::new("store")));
        state.restore(restored);
        state.keep_in(sink);
        let view = state.publish().unwrap();
        assert_eq!(view.records.len(), 2);
        assert_eq!(view.restored, 3);
        assert!(new_records(&view, 0).is_empty(), "restored: not new");
        assert_eq!(view.total, 0, "counts are this run's");

        state.on_notice(&Notice::Liquidation(liq(T0 + 60_000_000)));
        let view = state.publish().unwrap();
        let ids: Vec<u64> = view.records.iter().map(|r| r.alert.id).collect();
        assert_eq!(ids, [4, 3, 2]);
        let fresh: Vec<u64> = new_records(&view, 0).iter().map(|r| r.alert.id).collect();
        assert_eq!(fresh, [4]);
        match written.try_recv().unwrap() {
            AlertEvent::Fired(a) => assert_eq!((a.id, a.rule.as_str()), (4, "big-liq")),
            other => panic!("{other:?}"),
        }
        assert!(
            written.try_recv().is_err(),
            "restored alerts are not written again"
        );
    }
}
