//! The Alerts pane: screens (insta) of a history with every kind of
//! delivery outcome, rules and destinations, and its keys: acknowledge,
//! mute, disable, the rules cursor, the toast and bell for a new alert, and
//! making a rule from the Overview, Arbitrage and Liquidations panes.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use depthwatch::alerts::deliver::{DestCounts, DestStatus, Outcome};
use depthwatch::alerts::rule::NewAlert;
use depthwatch::alerts::view::{AlertRecord, AlertsView, RuleStatus};
use depthwatch::alerts::{Alert, Severity};
use depthwatch::ui::app::TimeZone;
use depthwatch::ui::fixtures::sample_snapshot;
use depthwatch::ui::panes::PaneId;
use depthwatch::ui::{App, Keymap, Theme, UiCommand, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const T0: i64 = 1_717_243_200_000_000;

fn alert(id: u64, rule: &str, severity: Severity, subject: &str, text: &str) -> Alert {
    let mut a = Alert::test(T0 + id as i64 * 7_000_000);
    a.id = id;
    a.rule = rule.into();
    a.kind = "arbitrage";
    a.severity = severity;
    a.subject = subject.into();
    a.text = text.into();
    a
}

fn view() -> AlertsView {
    let sent = Outcome::Sent { attempts: 1 };
    let records = vec![
        AlertRecord {
            alert: alert(
                4,
                "btc-arb",
                Severity::Critical,
                "BTC-USDT binance→okx",
                "BTC-USDT binance→okx: 7.29 bps net, profit 19.97 on 0.5 (buy @ 65000.1, sell @ 65080)",
            ),
            acked: false,
            deliveries: vec![
                ("app", sent.clone()),
                (
                    "telegram",
                    Outcome::Retrying {
                        attempt: 1,
                        reason: "HTTP 429: Too Many Requests: retry after 3".into(),
                        delay: Duration::from_secs(3),
                    },
                ),
                (
                    "slack",
                    Outcome::Failed("connection failed: Connection refused (os error 111)".into()),
                ),
            ],
        },
        AlertRecord {
            alert: alert(
                3,
                "big-liquidation",
                Severity::Warning,
                "bybit BTC-USDT-PERP",
                "bybit BTC-USDT-PERP long liquidated: 4.2 @ 64990 ($272,958)",
            ),
            acked: false,
            deliveries: vec![
                ("app", sent.clone()),
                (
                    "telegram",
                    Outcome::Suppressed("rate limited (Telegram 1/s per chat)".into()),
                ),
                ("slack", Outcome::Sent { attempts: 2 }),
            ],
        },
        AlertRecord {
            alert: alert(
                2,
                "venue-down",
                Severity::Critical,
                "kraken wss://ws.kraken.com/v2",
                "kraken connection down for 60 s or more: DNS lookup failed",
            ),
            acked: true,
            deliveries: vec![("app", sent.clone()), ("telegram", sent.clone())],
        },
        AlertRecord {
            alert: alert(
                1,
                "eth-drop",
                Severity::Info,
                "ETH-USDT",
                "ETH-USDT moved -2.1% within 300 s: 3450 → 3377.55",
            ),
            acked: true,
            deliveries: vec![("app", Outcome::Suppressed("rule muted".into()))],
        },
    ];
    let rule = |name: &str, kind: &'static str, sev, enabled, muted, fired, held| RuleStatus {
        name: name.into(),
        kind,
        severity: sev,
        enabled,
        muted,
        fired,
        held,
        last_held: None,
    };
    AlertsView {
        version: 9,
        records,
        rules: vec![
            rule(
                "btc-arb",
                "arbitrage",
                Severity::Critical,
                true,
                false,
                1,
                3,
            ),
            rule(
                "big-liquidation",
                "liquidation",
                Severity::Warning,
                true,
                false,
                1,
                0,
            ),
            rule("venue-down", "feed", Severity::Critical, true, false, 1, 0),
            rule("eth-drop", "price", Severity::Info, true, true, 1, 0),
            rule(
                "funding-carry",
                "funding",
                Severity::Warning,
                false,
                false,
                0,
                0,
            ),
        ],
        destinations: vec![
            DestStatus {
                name: "app",
                problem: None,
                breaker: None,
                counts: DestCounts {
                    sent: 3,
                    suppressed: 1,
                    retried: 0,
                    failed: 0,
                },
                limits: vec!["per-second limit"],
            },
            DestStatus {
                name: "telegram",
                problem: None,
                breaker: Some("closed"),
                counts: DestCounts {
                    sent: 1,
                    suppressed: 1,
                    retried: 1,
                    failed: 0,
                },
                limits: vec!["Telegram 1/s per chat"],
            },
            DestStatus {
                name: "slack",
                problem: Some("connection failed: Connection refused (os error 111)".into()),
                breaker: Some("open"),
                counts: DestCounts {
                    sent: 1,
                    suppressed: 0,
                    retried: 1,
                    failed: 5,
                },
                limits: vec!["per-second limit"],
            },
        ],
        bells: 0,
        total: 4,
        problem: None,
        restored: 0,
    }
}

fn app() -> App {
    let (themes, _) = Theme::load_all(None);
    let mut app = App::new(Keymap::default(), themes, "dark");
    app.time_zone = TimeZone::Utc;
    app.observe(&Arc::new(sample_snapshot()));
    app
}

fn alerts_app() -> App {
    let mut app = app();
    // Seen already: no toasts in the screens.
    app.alerts.seen_id = 4;
    app.set_alerts(Arc::new(view()));
    app.go_to(PaneId::Alerts);
    app
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw(f, &sample_snapshot(), app)).unwrap();
    let buf = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

#[test]
fn alerts_screens() {
    for (w, h) in [(80, 24), (160, 48)] {
        let s = screen(&alerts_app(), w, h);
        insta::assert_snapshot!(format!("alerts_{w}x{h}"), s);
    }
}

#[test]
fn screens_show_history_outcomes_rules_and_destinations() {
    let s = screen(&alerts_app(), 160, 48);
    for want in [
        "Alerts · 2 unacknowledged · 4 in all",
        "btc-arb",
        "CRIT",
        "retrying: HTTP 429: Too Many Requests: retry after 3; attempt 2 in 3.0 s",
        "failed: connection failed",
        "muted",
        "off",
        "breaker open",
        "sent 1 · supp 1 · retry 1 · fail 0",
    ] {
        assert!(s.contains(want), "missing {want:?}:\n{s}");
    }
    let s = screen(&alerts_app(), 80, 24);
    assert!(s.contains("btc-arb") && s.contains("Alerts"), "{s}");
    // No view (a replay): says so.
    let mut a = app();
    a.go_to(PaneId::Alerts);
    assert!(screen(&a, 80, 24).contains("no alerts here"));
}

#[test]
fn keys_acknowledge_mute_and_disable() {
    let mut a = alerts_app();
    a.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    a.handle_key(key('A'));
    a.handle_key(key('m'));
    a.handle_key(key('x'));
    assert_eq!(
        a.take_commands(),
        [
            UiCommand::AlertAck(4),
            UiCommand::AlertAckAll,
            UiCommand::AlertMute {
                rule: "btc-arb".into(),
                muted: true
            },
            UiCommand::AlertEnable {
                rule: "btc-arb".into(),
                enabled: false
            },
        ]
    );
    // The rules cursor: down to the muted rule, unmute it; the disabled
    // one below is enabled again.
    a.handle_key(key('r'));
    for _ in 0..3 {
        a.handle_key(key('j'));
    }
    a.handle_key(key('m'));
    a.handle_key(key('j'));
    a.handle_key(key('x'));
    assert_eq!(
        a.take_commands(),
        [
            UiCommand::AlertMute {
                rule: "eth-drop".into(),
                muted: false
            },
            UiCommand::AlertEnable {
                rule: "funding-carry".into(),
                enabled: true
            },
        ]
    );
    let s = screen(&a, 160, 48);
    assert!(s.contains("Rules (cursor here"), "{s}");
}

#[test]
fn help_lists_every_alerts_key() {
    let mut a = alerts_app();
    a.handle_key(key('?'));
    let s = screen(&a, 160, 48);
    for want in [
        "acknowledge the selected alert",
        "acknowledge every alert",
        "mute / unmute the rule",
        "disable / enable the rule",
        "between the history and the rules",
    ] {
        assert!(s.contains(want), "help lacks {want:?}:\n{s}");
    }
}

#[test]
fn a_new_alert_toasts_and_rings() {
    let mut a = app();
    let mut v = view();
    v.bells = 1;
    a.set_alerts(Arc::new(v));
    // The critical one stays until dismissed; the bell is due.
    assert!(a.alerts.bell_due);
    let m = a.message().expect("a toast");
    assert!(m.text.starts_with("alert [CRITICAL] "), "{}", m.text);
    let s = screen(&a, 160, 48);
    assert!(s.contains("alert [CRITICAL]"), "{s}");
    // The same view again: nothing new.
    a.alerts.bell_due = false;
    a.set_alerts(Arc::new(view()));
    assert!(!a.alerts.bell_due);
}

/// Alerts restored from the history store at start are shown, not toasted
/// again as new.
#[test]
fn restored_alerts_do_not_toast() {
    let mut a = app();
    let mut v = view();
    v.restored = v.records.iter().map(|r| r.alert.id).max().unwrap();
    a.set_alerts(Arc::new(v));
    assert!(a.message().is_none(), "{:?}", a.message().map(|m| m.text));
    assert_eq!(
        a.alerts.view.as_ref().unwrap().records.len(),
        view().records.len()
    );
    // The title tells this run's alerts from those of earlier runs.
    a.go_to(PaneId::Alerts);
    let shown = view().records.len();
    let s = screen(&a, 160, 48);
    assert!(s.contains(&format!("· {shown} from earlier runs")), "{s}");
}

#[test]
fn rules_from_the_arbitrage_and_liquidation_panes() {
    let snap = sample_snapshot();
    let mut a = app();
    a.go_to(PaneId::Arbitrage);
    a.handle_key(key('A'));
    let first = &snap.arbs[0];
    match &a.take_commands()[..] {
        [UiCommand::AlertCreate(NewAlert::Arbitrage { key, buy, sell, .. })] => {
            assert_eq!(
                (*key, *buy, *sell),
                (first.key, first.buy_venue, first.sell_venue)
            );
        }
        other => panic!("{other:?}"),
    }
    a.go_to(PaneId::Liquidations);
    a.handle_key(key('A'));
    let liq = &snap.liquidations.tape[0];
    match &a.take_commands()[..] {
        [UiCommand::AlertCreate(NewAlert::Liquidation { instrument, .. })] => {
            assert_eq!(*instrument, liq.instrument);
        }
        other => panic!("{other:?}"),
    }
}

/// `A` on an Overview row: a price rule for the instrument under the
/// cursor (a move of 1 % either way within 5 minutes); the help and the
/// pane's hint line say so.
#[test]
fn a_price_rule_from_the_overview() {
    let snap = sample_snapshot();
    let mut a = app();
    a.go_to(PaneId::Overview);
    a.handle_key(key('j'));
    a.handle_key(key('A'));
    let second = snap.instruments[1].instrument;
    match &a.take_commands()[..] {
        [
            UiCommand::AlertCreate(
                new @ NewAlert::Price {
                    instrument,
                    move_pct,
                    window_s,
                },
            ),
        ] => {
            assert_eq!(*instrument, second);
            assert_eq!(move_pct.to_string(), "1");
            assert_eq!(*window_s, 300);
            assert_eq!(
                new.name(),
                format!("price-{}", second.to_string().to_ascii_lowercase())
            );
        }
        other => panic!("{other:?}"),
    }
    let s = screen(&a, 80, 24);
    assert!(s.contains("A alert"), "{s}");
}
