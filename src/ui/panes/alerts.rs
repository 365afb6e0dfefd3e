//! Alerts: the history (newest first: time, severity, rule, what happened,
//! how each destination fared), the deliveries of the alert under the
//! cursor with their reasons, the rules with their counts and state, and the
//! destinations with their limits and circuit breakers.

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{PaneId, framed, highlight, lines, split_h, stack};
use crate::alerts::Severity;
use crate::alerts::deliver::Outcome;
use crate::alerts::view::{AlertRecord, AlertsView};
use crate::engine::Snapshot;
use crate::ui::app::App;
use crate::ui::format;
use crate::ui::table::{Col, cut, fit, window};

/// `text` whole when it fits, else cut with an ellipsis.
fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        cut(text, width)
    }
}
use crate::ui::theme::Theme;

/// The Alerts pane's view state.
#[derive(Clone, Debug, Default)]
pub struct AlertsPane {
    /// The alerts task's latest view (`None`: no alerts task, e.g. a
    /// replay).
    pub view: Option<Arc<AlertsView>>,
    /// The cursor is in the rules list (else the history).
    pub rules_focus: bool,
    pub rule_cursor: usize,
    /// The newest alert already toasted.
    pub seen_id: u64,
    pub seen_bells: u64,
    /// The terminal bell is due (rung by the terminal loop).
    pub bell_due: bool,
}

impl AlertsPane {
    pub fn records(&self) -> &[AlertRecord] {
        self.view.as_deref().map_or(&[], |v| &v.records)
    }

    pub fn rule_names(&self) -> Vec<String> {
        self.view
            .as_deref()
            .map(|v| v.rules.iter().map(|r| r.name.clone()).collect())
            .unwrap_or_default()
    }
}

const HISTORY: [Col; 6] = [
    Col::left("", 1, 0),
    Col::left("Time", 8, 1),
    Col::left("Sev", 4, 2),
    Col::left("Rule", 14, 0),
    Col::left("What", 30, 0).flex(),
    Col::left("Delivered", 16, 3),
];

const RULES: [Col; 5] = [
    Col::left("Rule", 16, 0),
    Col::left("Kind", 11, 2),
    Col::left("State", 7, 0),
    Col::right("Fired", 6, 1),
    Col::right("Held", 5, 3),
];

pub fn render(frame: &mut Frame, area: Rect, _snap: &Snapshot, app: &App, theme: &Theme) {
    let Some(view) = app.alerts.view.as_deref() else {
        let inner = framed(frame, area, "Alerts", theme);
        super::note(
            frame,
            inner,
            "no alerts here: rules run in live sessions (`[[alerts]]` in the config)",
            theme,
        );
        return;
    };
    // Alerts restored from the history store are not counted in `total`
    // (this run's); say how many of the rows shown they are.
    let earlier = view
        .records
        .iter()
        .filter(|r| r.alert.id <= view.restored)
        .count();
    let title = if earlier > 0 {
        format!(
            "Alerts · {} unacknowledged · {} this run · {earlier} from earlier runs",
            view.unacked(),
            view.total
        )
    } else {
        format!(
            "Alerts · {} unacknowledged · {} in all",
            view.unacked(),
            view.total
        )
    };
    let wide = area.width >= 120;
    let (left, right) = if wide {
        let (l, r) = split_h(area, area.width * 3 / 5);
        (l, Some(r))
    } else {
        (area, None)
    };
    let detail_h = if area.height >= 20 { 7 } else { 0 };
    match right {
        Some(right) => {
            let parts = stack(left, &[left.height.saturating_sub(detail_h)]);
            let inner = framed(frame, parts[0], title, theme);
            history(frame, inner, view, app, theme);
            if detail_h > 0 {
                let inner = framed(frame, parts[1], "Deliveries of the selected alert", theme);
                detail(frame, inner, view, app, theme);
            }
            let dest_h = (view.destinations.len() as u16 + 3).min(right.height / 2);
            let parts = stack(right, &[right.height.saturating_sub(dest_h)]);
            let inner = framed(frame, parts[0], rules_title(app), theme);
            rules(frame, inner, view, app, theme);
            let inner = framed(frame, parts[1], "Destinations", theme);
            destinations(frame, inner, view, theme);
        }
        None => {
            let rules_h = if area.height >= 20 {
                (view.rules.len() as u16 + 3).clamp(4, area.height / 3)
            } else {
                0
            };
            let parts = stack(
                left,
                &[left.height.saturating_sub(rules_h + detail_h), detail_h],
            );
            let inner = framed(frame, parts[0], title, theme);
            history(frame, inner, view, app, theme);
            if detail_h > 0 {
                let inner = framed(frame, parts[1], "Deliveries", theme);
                detail(frame, inner, view, app, theme);
            }
            if rules_h > 0 {
                let inner = framed(frame, parts[2], rules_title(app), theme);
                rules(frame, inner, view, app, theme);
            }
        }
    }
}

fn rules_title(app: &App) -> String {
    if app.alerts.rules_focus {
        "Rules (cursor here; r: back to the history)".to_string()
    } else {
        "Rules (r: move the cursor here)".to_string()
    }
}

fn severity_span(s: Severity, theme: &Theme) -> Span<'static> {
    let (text, style) = match s {
        Severity::Info => ("info", theme.muted()),
        Severity::Warning => ("warn", theme.fg(theme.warning)),
        Severity::Critical => ("CRIT", super::bold(theme.fg(theme.error))),
    };
    Span::styled(text, style)
}

fn outcome_style(o: &Outcome, theme: &Theme) -> Style {
    match o {
        Outcome::Sent { .. } => theme.fg(theme.ok),
        Outcome::Queued | Outcome::Retrying { .. } => theme.fg(theme.warning),
        Outcome::Suppressed(_) => theme.muted(),
        Outcome::Failed(_) => theme.fg(theme.error),
    }
}

/// `app✓ tg… slack✗`: one mark per destination.
fn summary(r: &AlertRecord, theme: &Theme) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for (n, (d, o)) in r.deliveries.iter().enumerate() {
        let mark = match o {
            Outcome::Sent { .. } => "✓",
            Outcome::Queued | Outcome::Retrying { .. } => "…",
            Outcome::Suppressed(_) => "–",
            Outcome::Failed(_) => "✗",
        };
        if n > 0 {
            out.push(Span::raw(" "));
        }
        out.push(Span::styled(format!("{d}{mark}"), outcome_style(o, theme)));
    }
    out
}

fn history(frame: &mut Frame, area: Rect, view: &AlertsView, app: &App, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let fitted = fit(&HISTORY, area.width);
    let mut out = vec![fitted.header(theme.header())];
    let records: Vec<&AlertRecord> = view
        .records
        .iter()
        .filter(|r| app.matches_filter(&r.alert.subject) || app.matches_filter(&r.alert.rule))
        .collect();
    if records.is_empty() {
        let text = if view.rules.is_empty() {
            "no rules yet: add [[alerts]] to the config, or press A on an arbitrage pair or a liquidation"
        } else {
            "no alerts yet"
        };
        out.push(Line::from(Span::styled(text, theme.muted())));
    }
    let cursor = app.cursor(PaneId::Alerts);
    let (start, end) = window(records.len(), cursor, area.height as usize - 1);
    let what_w = fitted.width(4) as usize;
    let dest_w = fitted.width(5) as usize;
    for (i, r) in records.iter().enumerate().take(end).skip(start) {
        let a = &r.alert;
        let text_style = if r.acked {
            theme.muted()
        } else {
            theme.fg(theme.text)
        };
        let mut dest: Vec<Span<'static>> = summary(r, theme);
        let mut used = 0;
        dest.retain(|s| {
            used += s.content.chars().count();
            used <= dest_w
        });
        let line = fitted.row(vec![
            if r.acked {
                Span::raw(" ")
            } else {
                Span::styled("●", theme.fg(theme.highlight))
            },
            Span::styled(format::clock(a.at, app.time_zone), theme.muted()),
            severity_span(a.severity, theme),
            Span::styled(a.rule.clone(), theme.fg(theme.text)),
            Span::styled(clip(&a.text, what_w), text_style),
            Span::styled(
                dest.iter()
                    .map(|s| s.content.to_string())
                    .collect::<String>(),
                dest.first().map_or(theme.muted(), |s| s.style),
            ),
        ]);
        out.push(if i == cursor && !app.alerts.rules_focus {
            highlight(line, theme)
        } else {
            line
        });
    }
    lines(frame, area, out, theme);
}

fn detail(frame: &mut Frame, area: Rect, view: &AlertsView, app: &App, theme: &Theme) {
    let records: Vec<&AlertRecord> = view
        .records
        .iter()
        .filter(|r| app.matches_filter(&r.alert.subject) || app.matches_filter(&r.alert.rule))
        .collect();
    let Some(r) = records.get(app.cursor(PaneId::Alerts)) else {
        super::note(
            frame,
            area,
            "the selected alert's deliveries show here",
            theme,
        );
        return;
    };
    let id = format!("#{} ", r.alert.id);
    let room = (area.width as usize).saturating_sub(id.chars().count());
    let mut out = vec![Line::from(vec![
        Span::styled(id, theme.muted()),
        Span::styled(clip(&r.alert.text, room), theme.fg(theme.text)),
    ])];
    if r.deliveries.is_empty() {
        out.push(Line::from(Span::styled(
            "delivered nowhere (the rule names no configured destination)",
            theme.muted(),
        )));
    }
    for (d, o) in &r.deliveries {
        out.push(Line::from(vec![
            Span::styled(format!("{d:<9}"), theme.header()),
            Span::styled(
                clip(&o.to_string(), (area.width as usize).saturating_sub(9)),
                outcome_style(o, theme),
            ),
        ]));
    }
    lines(frame, area, out, theme);
}

fn rules(frame: &mut Frame, area: Rect, view: &AlertsView, app: &App, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let fitted = fit(&RULES, area.width);
    let mut out = vec![fitted.header(theme.header())];
    if view.rules.is_empty() {
        out.push(Line::from(Span::styled("no rules", theme.muted())));
    }
    let cursor = app.alerts.rule_cursor;
    let (start, end) = window(view.rules.len(), cursor, area.height as usize - 1);
    for (i, r) in view.rules.iter().enumerate().take(end).skip(start) {
        let (state, style) = match (r.enabled, r.muted) {
            (false, _) => ("off", theme.muted()),
            (true, true) => ("muted", theme.fg(theme.warning)),
            (true, false) => ("on", theme.fg(theme.ok)),
        };
        let line = fitted.row(vec![
            Span::styled(r.name.clone(), theme.fg(theme.text)),
            Span::styled(r.kind, theme.muted()),
            Span::styled(state, style),
            Span::styled(r.fired.to_string(), theme.fg(theme.text)),
            Span::styled(r.held.to_string(), theme.muted()),
        ]);
        out.push(if i == cursor && app.alerts.rules_focus {
            highlight(line, theme)
        } else {
            line
        });
    }
    lines(frame, area, out, theme);
}

fn destinations(frame: &mut Frame, area: Rect, view: &AlertsView, theme: &Theme) {
    let mut out = Vec::new();
    if let Some(p) = &view.problem {
        out.push(Line::from(Span::styled(p.clone(), theme.fg(theme.error))));
    }
    if view.destinations.is_empty() {
        out.push(Line::from(Span::styled(
            "none: the app toast is off and [alert_delivery] sets up no other",
            theme.muted(),
        )));
    }
    for d in &view.destinations {
        let c = &d.counts;
        let mut spans = vec![
            Span::styled(format!("{:<9}", d.name), theme.header()),
            Span::styled(
                format!(
                    "sent {} · supp {} · retry {} · fail {}",
                    c.sent, c.suppressed, c.retried, c.failed
                ),
                theme.fg(theme.text),
            ),
        ];
        if let Some(b) = d.breaker {
            let style = if b == "closed" {
                theme.muted()
            } else {
                theme.fg(theme.error)
            };
            spans.push(Span::styled(format!(" · breaker {b}"), style));
        }
        if let Some(p) = &d.problem {
            spans.push(Span::styled(format!(" · {p}"), theme.fg(theme.warning)));
        }
        out.push(Line::from(spans));
    }
    lines(frame, area, out, theme);
}

/// The rule the pane's mute / disable keys act on: the selected rule in the
/// rules list, else the rule of the selected alert.
pub fn target_rule(app: &App) -> Option<String> {
    let view = app.alerts.view.as_deref()?;
    if app.alerts.rules_focus {
        return view
            .rules
            .get(app.alerts.rule_cursor)
            .map(|r| r.name.clone());
    }
    let records: Vec<&AlertRecord> = view
        .records
        .iter()
        .filter(|r| app.matches_filter(&r.alert.subject) || app.matches_filter(&r.alert.rule))
        .collect();
    records
        .get(app.cursor(PaneId::Alerts))
        .map(|r| r.alert.rule.clone())
}
