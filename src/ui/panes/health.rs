//! Health: one row per connection — state in plain words, rates, latency (or
//! a clock-skew note instead of nonsense numbers) and protocol counters, with
//! problems coloured. Narrow terminals fold the counters into the note.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{PaneId, framed, highlight, lines};
use crate::engine::Snapshot;
use crate::engine::snapshot::{ConnHealth, ConnState};
use crate::ui::app::App;
use crate::ui::format;
use crate::ui::table::{Col, fit, window};
use crate::ui::theme::Theme;

const COLS: [Col; 14] = [
    Col::left("Connection", 14, 0),
    Col::left("State", 11, 0),
    Col::right("Msgs", 8, 1),
    Col::right("Last", 7, 1),
    Col::right("p50", 7, 2),
    Col::right("p99", 7, 2),
    Col::right("Reconn", 6, 4),
    Col::right("Gaps", 5, 4),
    Col::right("Resync", 6, 4),
    Col::right("Checksum", 12, 4),
    Col::right("Parse", 5, 4),
    Col::right("Queue", 5, 5),
    Col::right("Books", 5, 5),
    Col::left("Notes", 24, 1).flex(),
];

/// A feed silent for longer than this is shown as a warning.
const QUIET_US: i64 = 10_000_000;

pub fn render(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let ok = snap
        .health
        .iter()
        .filter(|h| h.state == ConnState::Connected)
        .count();
    let inner = framed(
        frame,
        area,
        format!("Health · {ok} of {} connections up", snap.health.len()),
        theme,
    );
    if inner.height == 0 {
        return;
    }
    let fitted = fit(&COLS, inner.width);
    let counters_shown = fitted.shown(7);
    let mut out = vec![fitted.header(theme.header())];
    if snap.health.is_empty() {
        out.push(Line::from(Span::styled(
            "no connections yet",
            theme.muted(),
        )));
    }
    let cursor = app.cursor(PaneId::Health);
    let (start, end) = window(snap.health.len(), cursor, inner.height as usize - 1);
    for (i, h) in snap.health.iter().enumerate().take(end).skip(start) {
        let line = row(&fitted, h, counters_shown, theme);
        out.push(if i == cursor {
            highlight(line, theme)
        } else {
            line
        });
    }
    let mut detail: Vec<Line<'static>> = Vec::new();
    if let Some(h) = snap
        .health
        .get(cursor.min(snap.health.len().saturating_sub(1)))
        && out.len() + 2 <= inner.height as usize
    {
        detail.push(Line::from(""));
        detail.push(Line::from(vec![
            Span::styled(format!("{} ", h.venue), theme.fg(theme.venue(h.venue))),
            Span::styled(
                format!(
                    "{} · {} msgs · {}/s · {} unknown messages",
                    h.conn,
                    format::thousands(&h.messages.to_string()),
                    bytes(h.bytes_per_s),
                    h.unknown_messages
                ),
                theme.muted(),
            ),
        ]));
        let reason = match &h.state {
            ConnState::Backoff { reason, .. } | ConnState::Disconnected { reason } => {
                Some(reason.clone())
            }
            _ => None,
        };
        let all = notes(h, reason, false);
        if !all.is_empty() {
            detail.push(Line::from(Span::styled(
                all.join("; "),
                theme.fg(theme.warning),
            )));
        }
    }
    // Sinks (alerts, store, bus, metrics): what they dropped, what ails them.
    if !snap.sinks.is_empty() {
        detail.push(Line::from(""));
        let mut spans = vec![Span::styled("sinks ", theme.header())];
        for (n, sink) in snap.sinks.iter().enumerate() {
            if n > 0 {
                spans.push(Span::styled(" · ", theme.muted()));
            }
            let style = if sink.problem.is_some() {
                theme.fg(theme.error)
            } else if sink.dropped > 0 {
                theme.fg(theme.warning)
            } else {
                theme.fg(theme.ok)
            };
            let mut text = format!(
                "{} {} sent",
                sink.name,
                format::thousands(&sink.sent.to_string())
            );
            if sink.dropped > 0 {
                text.push_str(&format!(
                    ", {} dropped",
                    format::thousands(&sink.dropped.to_string())
                ));
            }
            if let Some(p) = &sink.problem {
                text.push_str(&format!(": {p}"));
            }
            spans.push(Span::styled(text, style));
        }
        detail.push(Line::from(spans));
    }
    let table_h = (out.len() as u16).min(inner.height);
    let parts = super::stack(inner, &[table_h]);
    lines(frame, parts[0], out, theme);
    // The selected connection in full: long URLs and reasons wrap.
    frame.render_widget(
        Paragraph::new(detail)
            .style(theme.base())
            .wrap(Wrap { trim: false }),
        parts[1],
    );
}

fn bytes(b: f64) -> String {
    if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

fn row(
    fitted: &crate::ui::table::Fitted,
    h: &ConnHealth,
    counters_shown: bool,
    theme: &Theme,
) -> Line<'static> {
    let (state, state_style, reason) = match &h.state {
        ConnState::Connected => ("live".to_string(), theme.fg(theme.ok), None),
        ConnState::Connecting => ("connecting".to_string(), theme.fg(theme.warning), None),
        ConnState::Backoff {
            retry_in_ms,
            reason,
        } => (
            format!("backoff {}s", retry_in_ms.div_ceil(1_000)),
            theme.fg(theme.warning),
            Some(reason.clone()),
        ),
        ConnState::Disconnected { reason } => (
            "down".to_string(),
            theme.fg(theme.error),
            Some(reason.clone()),
        ),
        ConnState::Replay => ("replay".to_string(), theme.fg(theme.ok), None),
    };
    let active = matches!(h.state, ConnState::Connected | ConnState::Replay);
    let last = match h.last_msg_age {
        Some(a) if active && a > QUIET_US => Span::styled(format::age(a), theme.fg(theme.warning)),
        Some(a) => Span::styled(format::age(a), theme.fg(theme.text)),
        None => Span::styled("—", theme.muted()),
    };
    let latency = |v: Option<f64>| match (&h.clock_skew, v) {
        (Some(_), _) => Span::styled("skew", theme.fg(theme.warning)),
        (None, Some(ms)) => Span::styled(format::ms(ms), theme.fg(theme.text)),
        (None, None) => Span::styled("—", theme.muted()),
    };
    let count = |n: u64, bad: bool| {
        let style = if n > 0 && bad {
            theme.fg(theme.error)
        } else if n > 0 {
            theme.fg(theme.warning)
        } else {
            theme.muted()
        };
        Span::styled(format::thousands(&n.to_string()), style)
    };
    let checksum = if h.checksum_ok + h.checksum_failed == 0 {
        Span::styled("—", theme.muted())
    } else {
        let style = if h.checksum_failed > 0 {
            theme.fg(theme.error)
        } else {
            theme.fg(theme.ok)
        };
        Span::styled(
            format!(
                "{} ✓ {} ✗",
                format::thousands(&h.checksum_ok.to_string()),
                h.checksum_failed
            ),
            style,
        )
    };
    let notes = notes(h, reason, counters_shown);
    let note_style = if matches!(h.state, ConnState::Disconnected { .. })
        || h.checksum_failed > 0
        || h.parse_errors > 0
    {
        theme.fg(theme.error)
    } else if notes.is_empty() {
        theme.muted()
    } else {
        theme.fg(theme.warning)
    };
    fitted.row(vec![
        Span::styled(
            format!("{} {}", h.venue, conn_label(&h.conn)),
            theme.fg(theme.venue(h.venue)),
        ),
        Span::styled(state, state_style),
        Span::styled(
            format::rate(h.msgs_per_s),
            if active && h.msgs_per_s == 0.0 {
                theme.fg(theme.warning)
            } else {
                theme.fg(theme.text)
            },
        ),
        last,
        latency(h.latency_p50_ms),
        latency(h.latency_p99_ms),
        count(h.reconnects, false),
        count(h.gaps, false),
        count(h.resyncs, false),
        checksum,
        count(h.parse_errors, true),
        Span::styled(h.queue_depth.to_string(), theme.muted()),
        count(h.books_not_live as u64, false),
        Span::styled(fit_notes(&notes, fitted.width(13) as usize), note_style),
    ])
}

/// Whole notes while they fit, then how many more (the detail line below
/// the table has them all); a single note too long is cut at a word.
fn fit_notes(notes: &[String], width: usize) -> String {
    let all = notes.join("; ");
    if all.chars().count() <= width {
        return all;
    }
    let mut out = String::new();
    for (i, note) in notes.iter().enumerate() {
        let rest = notes.len() - i - 1;
        let more = if rest > 0 {
            format!(" +{rest}")
        } else {
            String::new()
        };
        let sep = if out.is_empty() { "" } else { "; " };
        let next = format!("{out}{sep}{note}");
        if next.chars().count() + more.chars().count() <= width {
            out = next;
            continue;
        }
        let left = notes.len() - i;
        if out.is_empty() {
            // The first note (the reason, when there is one) alone is too
            // long: as many of its words as fit.
            return crate::ui::table::cut(note, width);
        }
        return format!("{out} +{left}");
    }
    out
}

/// The state's reason, clock skew, books not live and (when the counter
/// columns are hidden) the non-zero problem counters, in plain words.
fn notes(h: &ConnHealth, reason: Option<String>, counters_shown: bool) -> Vec<String> {
    let mut notes: Vec<String> = Vec::new();
    if let Some(r) = reason {
        notes.push(r);
    }
    if let Some(skew) = &h.clock_skew {
        notes.push(format!("clock skew: {skew}; latency not shown"));
    }
    if h.books_not_live > 0 {
        let n = h.books_not_live;
        notes.push(format!(
            "{n} book{} not live",
            if n == 1 { "" } else { "s" }
        ));
    }
    if !counters_shown {
        for (n, what) in [
            (h.gaps, "gap"),
            (h.resyncs, "resync"),
            (h.checksum_failed, "checksum failure"),
            (h.parse_errors, "parse error"),
            (h.reconnects, "reconnect"),
        ] {
            if n > 0 {
                notes.push(format!("{n} {what}{}", if n == 1 { "" } else { "s" }));
            }
        }
    }
    notes
}

/// A short name for a connection: the meaningful part of its URL path
/// (`spot`, `linear`, `public`, `market`), `rest` for REST traffic, or a
/// capture's connection name (`ws.2`) in replay.
pub fn conn_label(conn: &str) -> String {
    let Some((_, rest)) = conn.split_once("://") else {
        // Capture names look like `BYBIT.ws.2`: drop the exchange.
        return conn
            .split_once('.')
            .map_or(conn, |(_, tail)| tail)
            .to_ascii_lowercase();
    };
    let (host_path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = host_path.split_once('/').map_or("", |(_, p)| p);
    const NOISE: [&str; 5] = ["stream", "ws", "v2", "v5", "marketdata"];
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let meaningful = segments
        .iter()
        .rev()
        .find(|s| !NOISE.contains(s))
        .copied()
        .unwrap_or("ws");
    let nth = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("conn="))
        .map(|n| format!("#{n}"))
        .unwrap_or_default();
    format!("{meaningful}{nth}")
}

#[cfg(test)]
mod label_tests {
    use super::conn_label;

    #[test]
    fn connection_labels_are_short() {
        assert_eq!(
            conn_label("wss://stream.bybit.com/v5/public/linear"),
            "linear"
        );
        assert_eq!(
            conn_label("wss://fstream.binance.com/market/stream?streams=a/b"),
            "market"
        );
        assert_eq!(
            conn_label("wss://fstream.binance.com/public/stream?streams=a"),
            "public"
        );
        assert_eq!(
            conn_label("wss://stream.binance.com:9443/stream?streams=a"),
            "ws"
        );
        assert_eq!(conn_label("wss://api.gemini.com/v2/marketdata"), "ws");
        assert_eq!(conn_label("wss://advanced-trade-ws.coinbase.com"), "ws");
        assert_eq!(conn_label("wss://ws.okx.com:8443/ws/v5/public"), "public");
        assert_eq!(
            conn_label("wss://stream.bybit.com/v5/public/spot?conn=2"),
            "spot#2"
        );
        assert_eq!(conn_label("rest"), "rest");
        assert_eq!(conn_label("BYBIT.ws.2"), "ws.2");
    }
}
