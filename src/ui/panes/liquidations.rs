//! Liquidations: the tape (newest first, big ones highlighted), long vs short
//! totals over 1 m / 5 m / 1 h, and a per-minute stacked bar chart.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{PaneId, framed, highlight, lines, split_h, stack};
use crate::engine::Snapshot;
use crate::engine::snapshot::{LiquidationRow, LongShort};
use crate::model::LiquidatedSide;
use crate::ui::app::App;
use crate::ui::format;
use crate::ui::history;
use crate::ui::table::{Col, fit, window};
use crate::ui::theme::Theme;

const TAPE: [Col; 7] = [
    Col::left("Time", 8, 1),
    Col::left("Venue", 11, 0),
    Col::left("Instrument", 13, 2),
    Col::left("Side", 10, 0),
    Col::right("Price", 11, 1),
    Col::right("Size", 9, 3),
    Col::right("Notional", 9, 0).flex(),
];

/// Prints at or above this are highlighted (or 10× the filter, if higher).
const BIG_USD: f64 = 250_000.0;

/// The minimum notional shown: the user's choice, else the engine's.
pub fn min_notional(snap: &Snapshot, app: &App) -> f64 {
    app.liq_min_notional
        .unwrap_or(snap.liquidations.min_notional_usd)
}

/// Tape rows passing the notional and instrument filters: the live tape,
/// and below it what was paged back from the store.
fn tape_parts<'a>(
    snap: &'a Snapshot,
    app: &'a App,
) -> (Vec<&'a LiquidationRow>, Vec<&'a LiquidationRow>) {
    let min = min_notional(snap, app);
    let keep = |r: &&LiquidationRow| {
        r.notional_usd >= min && app.matches_filter(&r.instrument.to_string())
    };
    let live: Vec<&LiquidationRow> = snap.liquidations.tape.iter().filter(keep).collect();
    let stored = app
        .history
        .liquidations
        .below(&live)
        .into_iter()
        .filter(keep)
        .collect();
    (live, stored)
}

/// The cursor's rows in the order shown (live, then stored).
pub fn tape_rows<'a>(snap: &'a Snapshot, app: &'a App) -> Vec<&'a LiquidationRow> {
    let (mut live, stored) = tape_parts(snap, app);
    live.extend(stored);
    live
}

pub fn render(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let liq = &snap.liquidations;
    let min = min_notional(snap, app);
    let (live, stored) = tape_parts(snap, app);
    let tape_title = match stored.len() {
        0 => format!(
            "Liquidations ≥ {} · {} shown (+/- to change)",
            format::usd(min),
            live.len()
        ),
        n => format!(
            "Liquidations ≥ {} · {} shown + {n} from the store (+/- to change)",
            format::usd(min),
            live.len()
        ),
    };
    let shown = (live.as_slice(), stored.as_slice());
    let (tape_area, side_area) = if area.width >= 120 {
        let (l, r) = split_h(area, area.width * 11 / 20);
        (l, Some(r))
    } else {
        (area, None)
    };
    match side_area {
        Some(side) => {
            let inner = framed(frame, tape_area, tape_title, theme);
            tape(frame, inner, shown, app, min, theme);
            let parts = stack(side, &[8]);
            let inner = framed(frame, parts[0], "Long vs short", theme);
            totals(frame, inner, snap, theme);
            let inner = framed(
                frame,
                parts[1],
                "Per minute, last hour (long ▮ short ▮)",
                theme,
            );
            per_minute(frame, inner, &liq.per_minute, theme);
        }
        None => {
            let chart_h = if area.height >= 20 { 7 } else { 0 };
            let parts = stack(
                tape_area,
                &[6, tape_area.height.saturating_sub(6 + chart_h)],
            );
            let inner = framed(frame, parts[0], "Long vs short", theme);
            totals(frame, inner, snap, theme);
            let inner = framed(frame, parts[1], tape_title, theme);
            tape(frame, inner, shown, app, min, theme);
            if chart_h > 0 {
                let inner = framed(frame, parts[2], "Per minute, last hour", theme);
                per_minute(frame, inner, &liq.per_minute, theme);
            }
        }
    }
}

fn side_span(side: LiquidatedSide, theme: &Theme) -> Span<'static> {
    // A long is liquidated by a forced sell (ask colour), a short by a forced buy.
    match side {
        LiquidatedSide::Long => super::ask_span("long liq".into(), theme),
        LiquidatedSide::Short => super::bid_span("short liq".into(), theme),
    }
}

fn tape(
    frame: &mut Frame,
    area: Rect,
    (live, stored): (&[&LiquidationRow], &[&LiquidationRow]),
    app: &App,
    min: f64,
    theme: &Theme,
) {
    if area.height == 0 {
        return;
    }
    let fitted = fit(&TAPE, area.width);
    let mut out = vec![fitted.header(theme.header())];
    let pages = &app.history.liquidations;
    let entries = history::entries(live, stored, pages, app.history.off.as_deref());
    if live.is_empty() {
        out.push(Line::from(Span::styled(
            "no liquidations at this size yet (quiet streams are normal; - lowers the filter)",
            theme.muted(),
        )));
    }
    let big = BIG_USD.max(min * 10.0);
    let all = live.iter().chain(stored);
    let price_dp = format::DpTable::new(all.clone().map(|r| (r.instrument, r.price)), 4);
    let size_dp = format::DpTable::new(all.map(|r| (r.instrument, r.size)), 4);
    let row = app.cursor(PaneId::Liquidations);
    let cursor_line = history::row_line(&entries, row);
    let height = (area.height as usize - 1).saturating_sub(usize::from(live.is_empty()));
    let (start, end) = window(entries.len(), history::focus_line(&entries, row), height);
    for (i, e) in entries.iter().enumerate().take(end).skip(start) {
        let r = match super::history_row(e, theme) {
            Ok(row) => row,
            Err(line) => {
                out.push(line);
                continue;
            }
        };
        let is_big = r.notional_usd >= big;
        let money = if is_big {
            super::bold(theme.fg(theme.highlight))
        } else {
            theme.fg(theme.text)
        };
        let line = fitted.row(vec![
            Span::styled(format::clock(r.time, app.time_zone), theme.muted()),
            Span::styled(r.venue.to_string(), theme.fg(theme.venue(r.venue))),
            Span::styled(r.instrument.to_string(), theme.fg(theme.text)),
            side_span(r.side, theme),
            Span::styled(
                format::dec(r.price, price_dp.get(r.instrument)),
                theme.fg(theme.text),
            ),
            Span::styled(
                format::dec(r.size, size_dp.get(r.instrument)),
                theme.muted(),
            ),
            Span::styled(format::usd(r.notional_usd), money),
        ]);
        let line = if is_big {
            line.style(Style::default().bg(theme.ask_dim))
        } else {
            line
        };
        out.push(if Some(i) == cursor_line {
            highlight(line, theme)
        } else {
            line
        });
    }
    lines(frame, area, out, theme);
}

fn totals(frame: &mut Frame, area: Rect, snap: &Snapshot, theme: &Theme) {
    let liq = &snap.liquidations;
    let bar_w = (area.width as usize).saturating_sub(44).min(30);
    let row = |label: &str, ls: &LongShort| {
        let total = ls.long_usd + ls.short_usd;
        let long_n = if total > 0.0 {
            ((ls.long_usd / total) * bar_w as f64).round() as usize
        } else {
            0
        };
        let mut spans = vec![
            Span::styled(format!("{label:<4}"), theme.header()),
            Span::styled(
                format!("long {:>8}", format::usd(ls.long_usd)),
                theme.fg(theme.ask),
            ),
            Span::styled(
                format!("  short {:>8}", format::usd(ls.short_usd)),
                theme.fg(theme.bid),
            ),
            Span::styled(format!("  {:>4} ", ls.count), theme.muted()),
        ];
        if bar_w > 0 && total > 0.0 {
            spans.push(Span::styled("█".repeat(long_n), theme.fg(theme.ask)));
            spans.push(Span::styled(
                "█".repeat(bar_w - long_n.min(bar_w)),
                theme.fg(theme.bid),
            ));
        }
        Line::from(spans)
    };
    let mut out = vec![
        row("1m", &liq.last_1m),
        row("5m", &liq.last_5m),
        row("1h", &liq.last_1h),
    ];
    if let Some(big) = &liq.largest_1h {
        out.push(Line::from(vec![
            Span::styled("max ", theme.header()),
            Span::styled(
                format!("{} ", format::usd(big.notional_usd)),
                super::bold(theme.fg(theme.highlight)),
            ),
            side_span(big.side, theme),
            Span::styled(
                format!(
                    " {} {} @ {}",
                    big.venue,
                    big.instrument,
                    format::dec(big.price, 2)
                ),
                theme.muted(),
            ),
        ]));
    }
    lines(frame, area, out, theme);
}

/// Stacked bars, one column per minute (newest at the right): long at the
/// bottom in the ask colour, short on top in the bid colour.
fn per_minute(frame: &mut Frame, area: Rect, minutes: &[LongShort], theme: &Theme) {
    if area.height < 2 || area.width < 2 || minutes.is_empty() {
        return;
    }
    let label_h = 1u16;
    let h = (area.height - label_h) as f64;
    let shown = &minutes[minutes.len().saturating_sub(area.width as usize)..];
    let max = shown
        .iter()
        .map(|m| m.long_usd + m.short_usd)
        .fold(0.0, f64::max);
    if max <= 0.0 {
        super::note(frame, area, "no liquidations in the last hour", theme);
        return;
    }
    let x0 = area.x + area.width - shown.len() as u16;
    let bottom = area.y + area.height - label_h - 1;
    let buf = frame.buffer_mut();
    for (i, m) in shown.iter().enumerate() {
        let x = x0 + i as u16;
        let long = (m.long_usd / max * h).round() as u16;
        let total = ((m.long_usd + m.short_usd) / max * h).round() as u16;
        for k in 0..total.min(area.height - label_h) {
            let colour = if k < long { theme.ask } else { theme.bid };
            if let Some(cell) = buf.cell_mut((x, bottom - k)) {
                cell.set_symbol("█").set_fg(colour);
            }
        }
    }
    let label = format!("max {} /min · {}m ago → now", format::usd(max), shown.len());
    buf.set_string(area.x, area.y + area.height - 1, label, theme.muted());
}
