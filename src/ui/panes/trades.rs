//! Trades: taker buy/sell imbalance per instrument over 1 m / 5 m / 1 h, and
//! the tape of large trades above the (adjustable) threshold.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{PaneId, framed, highlight, lines, stack};
use crate::engine::Snapshot;
use crate::engine::snapshot::{FlowStats, TradeRow};
use crate::model::TakerSide;
use crate::ui::app::App;
use crate::ui::format;
use crate::ui::table::{Col, fit, window};
use crate::ui::theme::Theme;

const FLOW: [Col; 7] = [
    Col::left("Instrument", 12, 0),
    Col::right("1m", 7, 0),
    Col::right("5m", 7, 0),
    Col::right("1h", 7, 0),
    Col::right("Vol 5m", 8, 1),
    Col::right("Vol 1h", 8, 2),
    Col::left("5m: sell ◀ ▶ buy", 17, 3).flex(),
];

const TAPE: [Col; 7] = [
    Col::left("Time", 8, 1),
    Col::left("Venue", 11, 0),
    Col::left("Instrument", 13, 2),
    Col::left("Side", 6, 0),
    Col::right("Price", 11, 1),
    Col::right("Size", 10, 3),
    Col::right("Notional", 9, 0).flex(),
];

pub fn render(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let flows: Vec<_> = snap
        .trades
        .flow
        .iter()
        .filter(|f| app.matches_filter(&f.key.to_string()))
        .collect();
    let flow_h = (flows.len() as u16 + 3).min(area.height / 2).max(3);
    let parts = stack(area, &[flow_h]);
    let inner = framed(
        frame,
        parts[0],
        "Taker flow imbalance (buy − sell) / (buy + sell)",
        theme,
    );
    // The instrument column as wide as the longest name (BTC-USDT-PERP).
    let mut cols = FLOW;
    cols[0].width = flows
        .iter()
        .map(|f| f.key.to_string().chars().count() as u16)
        .max()
        .unwrap_or(0)
        .clamp(10, 22);
    let fitted = fit(&cols, inner.width);
    let bar_w = fitted.width(6) as usize;
    let mut out = vec![fitted.header(theme.header())];
    for f in &flows {
        out.push(fitted.row(vec![
            Span::styled(f.key.to_string(), theme.fg(theme.text)),
            imbalance(&f.last_1m, theme),
            imbalance(&f.last_5m, theme),
            imbalance(&f.last_1h, theme),
            Span::styled(volume(&f.last_5m), theme.muted()),
            Span::styled(volume(&f.last_1h), theme.muted()),
            Span::raw(""),
        ]));
        if bar_w > 0
            && let Some(line) = out.last_mut()
        {
            line.spans.pop();
            line.spans
                .extend(balance_bar(f.last_5m.imbalance(), bar_w, theme));
        }
    }
    if flows.is_empty() {
        out.push(Line::from(Span::styled("no trades yet", theme.muted())));
    }
    lines(frame, inner, out, theme);

    let threshold = app.large_trade_usd.unwrap_or(snap.trades.threshold_usd);
    let rows: Vec<&TradeRow> = snap
        .trades
        .large
        .iter()
        .filter(|t| t.notional_usd >= threshold && app.matches_filter(&t.instrument.to_string()))
        .collect();
    let title = format!(
        "Large trades ≥ {} · {} shown (+/- to change)",
        format::usd(threshold),
        rows.len()
    );
    let inner = framed(frame, parts[1], title, theme);
    tape(frame, inner, &rows, app, threshold, theme);
}

fn imbalance(f: &FlowStats, theme: &Theme) -> Span<'static> {
    if f.trades == 0 {
        return Span::styled("—", theme.muted());
    }
    let x = f.imbalance() * 100.0;
    let text = format!("{x:+.0}%");
    if x > 0.5 {
        super::bid_span(text, theme)
    } else if x < -0.5 {
        super::ask_span(text, theme)
    } else {
        Span::styled(text, theme.muted())
    }
}

fn volume(f: &FlowStats) -> String {
    if f.trades == 0 {
        "—".to_string()
    } else {
        format::usd(f.buy_usd + f.sell_usd)
    }
}

/// A bar centred on zero: sell share grows left, buy share grows right.
fn balance_bar(imbalance: f64, width: usize, theme: &Theme) -> Vec<Span<'static>> {
    let half = width.saturating_sub(1) / 2;
    let n = ((imbalance.abs() * half as f64).round() as usize).min(half);
    let (left, right) = if imbalance < 0.0 { (n, 0) } else { (0, n) };
    vec![
        Span::raw(" ".repeat(half - left)),
        Span::styled("█".repeat(left), theme.fg(theme.ask)),
        Span::styled("│", theme.border()),
        Span::styled("█".repeat(right), theme.fg(theme.bid)),
        Span::raw(" ".repeat(width.saturating_sub(half + 1 + right))),
    ]
}

fn tape(
    frame: &mut Frame,
    area: Rect,
    rows: &[&TradeRow],
    app: &App,
    threshold: f64,
    theme: &Theme,
) {
    if area.height == 0 {
        return;
    }
    let fitted = fit(&TAPE, area.width);
    let mut out = vec![fitted.header(theme.header())];
    if rows.is_empty() {
        out.push(Line::from(Span::styled(
            "no trade at this size yet (- lowers the threshold)",
            theme.muted(),
        )));
    }
    let cursor = app.cursor(PaneId::Trades);
    let price_dp = format::DpTable::new(rows.iter().map(|t| (t.instrument, t.price)), 4);
    let size_dp = format::DpTable::new(rows.iter().map(|t| (t.instrument, t.size)), 4);
    let (start, end) = window(rows.len(), cursor, area.height as usize - 1);
    for (i, t) in rows.iter().enumerate().take(end).skip(start) {
        let side = match t.side {
            TakerSide::Buy => super::bid_span("buy".into(), theme),
            TakerSide::Sell => super::ask_span("sell".into(), theme),
        };
        let money = if t.notional_usd >= threshold * 5.0 {
            super::bold(theme.fg(theme.highlight))
        } else {
            theme.fg(theme.text)
        };
        let line = fitted.row(vec![
            Span::styled(format::clock(t.time, app.time_zone), theme.muted()),
            Span::styled(t.venue.to_string(), theme.fg(theme.venue(t.venue))),
            Span::styled(t.instrument.to_string(), theme.fg(theme.text)),
            side,
            Span::styled(
                format::dec(t.price, price_dp.get(t.instrument)),
                theme.fg(theme.text),
            ),
            Span::styled(
                format::dec(t.size, size_dp.get(t.instrument)),
                theme.muted(),
            ),
            Span::styled(format::usd(t.notional_usd), money),
        ]);
        out.push(if i == cursor {
            highlight(line, theme)
        } else {
            line
        });
    }
    lines(frame, area, out, theme);
}
