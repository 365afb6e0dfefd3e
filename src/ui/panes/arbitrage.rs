//! Arbitrage: open opportunities by profit, recently closed ones, and a
//! buy-venue × sell-venue matrix of the current net spread for the selected
//! instrument.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{PaneId, framed, highlight, lines, selected_view, split_h, stack};
use crate::engine::Snapshot;
use crate::engine::snapshot::{ArbOpportunity, ArbPairStats, ClosedArb};
use crate::model::{Instrument, Venue};
use crate::ui::app::App;
use crate::ui::format;
use crate::ui::history;
use crate::ui::table::{Align, Col, fit, pad, window};
use crate::ui::theme::Theme;

const OPEN: [Col; 11] = [
    Col::left("Instrument", 10, 0),
    Col::left("Buy at", 11, 0),
    Col::left("Sell at", 11, 0),
    Col::right("Gross", 7, 2),
    Col::right("Net bps", 7, 0),
    Col::right("Size", 9, 1),
    Col::right("Profit", 13, 0),
    Col::right("Peak", 7, 3),
    Col::right("Age", 7, 1),
    Col::right("Buy/sell VWAP", 23, 4),
    Col::right("Fees", 9, 5),
];

const CLOSED: [Col; 8] = [
    Col::left("Instrument", 10, 0),
    Col::left("Buy at", 11, 0),
    Col::left("Sell at", 11, 0),
    Col::right("Lasted", 7, 1),
    Col::right("Peak", 7, 0),
    Col::right("Peak pft", 13, 2),
    Col::right("Ended", 10, 1),
    Col::left("Why it ended", 12, 3).flex(),
];

/// Open opportunities passing the filter, in the order shown.
pub fn open_rows<'a>(snap: &'a Snapshot, app: &App) -> Vec<&'a ArbOpportunity> {
    let mut open: Vec<&ArbOpportunity> = snap
        .arbs
        .iter()
        .filter(|a| app.matches_filter(&a.key.to_string()))
        .collect();
    open.sort_by(|a, b| b.profit.cmp(&a.profit).then(b.net_bps.cmp(&a.net_bps)));
    open
}

/// Closed opportunities passing the filter: the live ones, and those paged
/// back from the store below them.
fn closed_parts<'a>(snap: &'a Snapshot, app: &'a App) -> (Vec<&'a ClosedArb>, Vec<&'a ClosedArb>) {
    let live: Vec<&ClosedArb> = snap
        .arb_history
        .iter()
        .filter(|c| app.matches_filter(&c.key.to_string()))
        .collect();
    let stored = app
        .history
        .arbs
        .below(&live)
        .into_iter()
        .filter(|c| app.matches_filter(&c.key.to_string()))
        .collect();
    (live, stored)
}

/// Closed rows in the order shown (live, then stored).
pub fn closed_rows<'a>(snap: &'a Snapshot, app: &'a App) -> Vec<&'a ClosedArb> {
    let (mut live, stored) = closed_parts(snap, app);
    live.extend(stored);
    live
}

/// The cursor's rows: open opportunities, then closed ones.
pub fn row_count(snap: &Snapshot, app: &App) -> usize {
    open_rows(snap, app).len() + closed_rows(snap, app).len()
}

pub fn render(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let open = open_rows(snap, app);
    let open_h = (open.len() as u16 + 3).clamp(4, (area.height / 2).max(4));
    let parts = stack(area, &[open_h]);
    let inner = framed(
        frame,
        parts[0],
        format!("Open opportunities · {}", open.len()),
        theme,
    );
    open_table(frame, inner, &open, snap, app, theme);

    // The selected instrument's matrix; if it has no venue pairs, the matrix
    // of the opportunity under the cursor (open or closed), else of the
    // best open one.
    let selected = selected_view(snap, app).map(|v| v.instrument);
    let has_stats = |k: Option<Instrument>| snap.arb_stats.iter().any(|s| Some(s.key) == k);
    let cursor = app.cursor(PaneId::Arbitrage);
    let under_cursor = open.get(cursor).map(|a| a.key).or_else(|| {
        closed_rows(snap, app)
            .get(cursor.saturating_sub(open.len()))
            .map(|c| c.key)
    });
    let key = if has_stats(selected) {
        selected
    } else {
        [under_cursor, open.first().map(|a| a.key)]
            .into_iter()
            .flatten()
            .find(|k| has_stats(Some(*k)))
            .or(selected)
    };
    let stats: Vec<&ArbPairStats> = snap
        .arb_stats
        .iter()
        .filter(|s| Some(s.key) == key)
        .collect();
    let venues = matrix_venues(&stats);
    let matrix_w = 12 + 9 * venues.len() as u16 + 2;
    let matrix_h = venues.len() as u16 + 4;
    let key_label = key
        .and_then(|k| snap.instruments.iter().find(|v| v.instrument == k))
        .map(|v| v.label.clone())
        .or(key.map(|k| k.to_string()))
        .unwrap_or_else(|| "—".to_string());
    let matrix_title = format!("Net bps now · {key_label}");
    let rest = parts[1];
    let (closed_area, matrix_area) = if rest.width >= 100 && rest.width > matrix_w + 60 {
        let (l, r) = split_h(rest, rest.width - matrix_w);
        (l, r)
    } else if rest.height >= matrix_h + 5 {
        let p = stack(rest, &[rest.height - matrix_h]);
        (p[0], p[1])
    } else {
        (rest, Rect::new(rest.x, rest.y + rest.height, rest.width, 0))
    };
    let inner = framed(
        frame,
        closed_area,
        match app.history.arbs.rows.len() {
            0 => format!("Recently closed · {}", snap.arb_history.len()),
            n => format!(
                "Recently closed · {} · {n} from the store",
                snap.arb_history.len()
            ),
        },
        theme,
    );
    closed_table(frame, inner, snap, app, open.len(), theme);
    if matrix_area.height >= 3 {
        let inner = framed(frame, matrix_area, matrix_title, theme);
        matrix(frame, inner, &venues, &stats, theme);
    }
}

fn open_table(
    frame: &mut Frame,
    area: Rect,
    open: &[&ArbOpportunity],
    snap: &Snapshot,
    app: &App,
    theme: &Theme,
) {
    if area.height == 0 {
        return;
    }
    let fitted = fit(&OPEN, area.width);
    let mut out = vec![fitted.header(theme.header())];
    if open.is_empty() {
        out.push(Line::from(Span::styled(
            "no opportunity passes the thresholds right now (net of taker fees and depth)",
            theme.muted(),
        )));
    }
    let cursor = app.cursor(PaneId::Arbitrage);
    let (start, end) = window(open.len(), cursor, area.height as usize - 1);
    for (i, a) in open.iter().enumerate().take(end).skip(start) {
        let venue = |v: Venue| Span::styled(v.to_string(), theme.fg(theme.venue(v)));
        let line = fitted.row(vec![
            Span::styled(a.key.to_string(), theme.fg(theme.text)),
            venue(a.buy_venue),
            venue(a.sell_venue),
            Span::styled(format::bps(a.gross_bps), theme.muted()),
            Span::styled(format::bps(a.net_bps), super::bold(theme.fg(theme.ok))),
            Span::styled(format::dec(a.size, 4), theme.fg(theme.text)),
            Span::styled(
                format!("{} {}", format::dec(a.profit, 2), a.key.quote),
                super::bold(theme.fg(theme.highlight)),
            ),
            Span::styled(format::bps(a.peak_net_bps), theme.muted()),
            // A polled book (REST fallback) is coarser and older: say so.
            if a.polled {
                Span::styled(
                    format!("{} poll", format::age(snap.now - a.opened)),
                    theme.fg(theme.warning),
                )
            } else {
                Span::styled(format::age(snap.now - a.opened), theme.fg(theme.text))
            },
            Span::styled(
                format!(
                    "{} / {}",
                    format::dec(a.buy_vwap, 2),
                    format::dec(a.sell_vwap, 2)
                ),
                theme.muted(),
            ),
            Span::styled(
                format!(
                    "{}+{} bps",
                    a.buy_fee_bps.normalize(),
                    a.sell_fee_bps.normalize()
                ),
                theme.muted(),
            ),
        ]);
        out.push(if i == cursor {
            highlight(line, theme)
        } else {
            line
        });
    }
    lines(frame, area, out, theme);
}

/// Recently closed, and below them what was paged back from the store.
/// The cursor is on this table past the open opportunities (`open` rows).
fn closed_table(
    frame: &mut Frame,
    area: Rect,
    snap: &Snapshot,
    app: &App,
    open: usize,
    theme: &Theme,
) {
    if area.height == 0 {
        return;
    }
    let fitted = fit(&CLOSED, area.width);
    let mut out = vec![fitted.header(theme.header())];
    let (live, stored) = closed_parts(snap, app);
    let pages = &app.history.arbs;
    let entries = history::entries(&live, &stored, pages, app.history.off.as_deref());
    if entries.is_empty() {
        out.push(Line::from(Span::styled(
            "nothing closed yet",
            theme.muted(),
        )));
    }
    let row = app.cursor(PaneId::Arbitrage).checked_sub(open);
    let focus = row.map_or(0, |r| history::focus_line(&entries, r));
    let cursor_line = row.and_then(|r| history::row_line(&entries, r));
    let (start, end) = window(entries.len(), focus, area.height as usize - 1);
    for (i, e) in entries.iter().enumerate().take(end).skip(start) {
        let c = match super::history_row(e, theme) {
            Ok(row) => row,
            Err(line) => {
                out.push(line);
                continue;
            }
        };
        let venue = |v: Venue| Span::styled(v.to_string(), theme.fg(theme.venue(v)));
        let line = fitted.row(vec![
            Span::styled(c.key.to_string(), theme.fg(theme.text)),
            venue(c.buy_venue),
            venue(c.sell_venue),
            Span::styled(format::age(c.closed - c.opened), theme.fg(theme.text)),
            Span::styled(format::bps(c.peak_net_bps), theme.fg(theme.ok)),
            Span::styled(
                format!("{} {}", format::dec(c.peak_profit, 2), c.key.quote),
                theme.fg(theme.text),
            ),
            Span::styled(
                format!("{} ago", format::age(snap.now - c.closed)),
                theme.muted(),
            ),
            Span::styled(c.reason.clone(), theme.muted()),
        ]);
        out.push(if Some(i) == cursor_line {
            highlight(line, theme)
        } else {
            line
        });
    }
    lines(frame, area, out, theme);
}

fn matrix_venues(stats: &[&ArbPairStats]) -> Vec<Venue> {
    let mut v: Vec<Venue> = stats
        .iter()
        .flat_map(|s| [s.buy_venue, s.sell_venue])
        .collect();
    v.sort();
    v.dedup();
    v
}

fn matrix(frame: &mut Frame, area: Rect, venues: &[Venue], stats: &[&ArbPairStats], theme: &Theme) {
    if venues.is_empty() {
        super::note(frame, area, "no venue pairs for this instrument", theme);
        return;
    }
    let cell = 9usize;
    let mut header = vec![Span::styled(
        pad("buy ↓ sell →".into(), 12, Align::Left).content,
        theme.muted(),
    )];
    for v in venues {
        header.push(Span::styled(
            pad(v.to_string().into(), cell, Align::Right).content,
            theme.fg(theme.venue(*v)),
        ));
    }
    let mut out = vec![Line::from(header)];
    for buy in venues {
        let mut row = vec![Span::styled(
            pad(buy.to_string().into(), 12, Align::Left).content,
            theme.fg(theme.venue(*buy)),
        )];
        for sell in venues {
            let value = stats
                .iter()
                .find(|s| s.buy_venue == *buy && s.sell_venue == *sell)
                .and_then(|s| s.current_net_bps);
            let (text, style) = match value {
                _ if buy == sell => ("·".to_string(), theme.muted()),
                None => ("—".to_string(), theme.muted()),
                Some(n) if n.is_sign_positive() && !n.is_zero() => {
                    (format::bps(n), super::bold(theme.fg(theme.ok)))
                }
                Some(n) => (format::bps(n), theme.fg(theme.stale)),
            };
            row.push(Span::styled(
                pad(text.into(), cell, Align::Right).content,
                style,
            ));
        }
        out.push(Line::from(row));
    }
    out.push(Line::from(Span::styled(
        "net of both taker fees, at executable size",
        theme.muted(),
    )));
    lines(frame, area, out, theme);
}
