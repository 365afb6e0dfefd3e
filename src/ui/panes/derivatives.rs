//! Derivatives: per perpetual and venue, funding (the venue's rate, per 8 h
//! and annualised, the predicted rate, a countdown to the next funding),
//! mark, basis against spot, open interest and its changes, volume; for the
//! perpetual under the cursor, the venues ranked by annualised funding with
//! the best carry pair, and its summed open interest over the last hours;
//! the spike tape.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{PaneId, framed, highlight, lines, note, split_h, stack};
use crate::engine::Snapshot;
use crate::engine::derivs::{DerivativesView, FundingCarry, OI_CHART_MINUTES, PerpRow, SpikeRow};
use crate::model::Instrument;
use crate::ui::app::App;
use crate::ui::format;
use crate::ui::table::{Col, cut, fit, window};
use crate::ui::theme::Theme;

const TABLE: [Col; 15] = [
    Col::left("Venue", 11, 0),
    Col::left("Perpetual", 14, 0),
    Col::right("Rate", 9, 1),
    Col::right("Per", 3, 6),
    Col::right("Annual", 8, 0),
    Col::right("Pred/yr", 8, 5),
    Col::right("Next", 6, 2),
    Col::right("Mark", 11, 4),
    Col::right("Basis", 6, 3),
    Col::right("OI", 10, 3),
    Col::right("OI $", 8, 2),
    Col::right("Δ5m", 6, 7),
    Col::right("Δ1h", 6, 4),
    Col::right("Δ4h", 6, 7),
    Col::right("Δ24h", 6, 5),
];

const TAPE: [Col; 6] = [
    Col::left("Time", 8, 1),
    Col::left("Venue", 11, 0),
    Col::left("Key", 13, 0),
    Col::left("Metric", 6, 2),
    Col::right("Value", 9, 3),
    Col::right("z", 6, 0),
];

pub fn render(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let view = &snap.derivatives;
    let rows = shown_rows(view, app);
    let cursor = app.cursor(PaneId::Derivatives);
    let key = rows
        .get(cursor)
        .and_then(|r| r.key)
        .or_else(|| rows.first().and_then(|r| r.key));
    // The table takes what the boxes below leave: at least 5 rows.
    // The table takes the rows it needs, leaving the boxes below at least
    // half the height (and all of the rest).
    let wanted = rows.len().max(1) as u16 + 3;
    let table_h = wanted.min(area.height.saturating_sub(area.height / 2).max(5));
    let parts = stack(area, &[table_h]);
    let title = if parts[0].width >= 100 {
        format!(
            "Funding and open interest · {} perpetuals (annualised; basis in bps vs the spot mid)",
            rows.len()
        )
    } else {
        format!("Funding and open interest · {} perpetuals", rows.len())
    };
    let inner = framed(frame, parts[0], title, theme);
    table(frame, inner, &rows, cursor, snap.now, theme);
    let bottom = parts[1];
    if bottom.height < 3 {
        return;
    }
    let carry = key.and_then(|k| view.carry.iter().find(|c| c.key == k));
    let oi = key.and_then(|k| view.oi_history.iter().find(|(i, _)| *i == k));
    let carry_title = match key {
        Some(k) => format!("Funding across venues · {k}"),
        None => "Funding across venues".to_string(),
    };
    let spikes_title = format!("Spikes · |z| ≥ {}", view.spike_z);
    if bottom.width >= 120 {
        let third = bottom.width / 3;
        let (left, rest) = split_h(bottom, third);
        let (mid, right) = split_h(rest, third);
        let inner = framed(frame, left, carry_title, theme);
        carry_box(frame, inner, carry, view.hold_days, theme);
        let inner = framed(frame, mid, oi_title(key), theme);
        oi_chart(frame, inner, oi.map(|(_, v)| v.as_slice()), theme);
        let inner = framed(frame, right, spikes_title, theme);
        tape(frame, inner, &view.spikes, app, theme);
    } else {
        let (left, right) = split_h(bottom, bottom.width / 2);
        // Narrow: the chart shrinks to a sparkline under the ranking.
        let inner = framed(frame, left, carry_title, theme);
        let split = stack(inner, &[inner.height.saturating_sub(2)]);
        carry_box(frame, split[0], carry, view.hold_days, theme);
        oi_strip(frame, split[1], oi.map(|(_, v)| v.as_slice()), theme);
        let inner = framed(frame, right, spikes_title, theme);
        tape(frame, inner, &view.spikes, app, theme);
    }
}

/// Rows passing the `/` filter, in the engine's order (key, venue).
pub fn shown_rows<'a>(view: &'a DerivativesView, app: &App) -> Vec<&'a PerpRow> {
    view.rows
        .iter()
        .filter(|r| {
            r.instrument
                .is_some_and(|i| app.matches_filter(&i.to_string()))
        })
        .collect()
}

fn oi_title(key: Option<Instrument>) -> String {
    let hours = OI_CHART_MINUTES / 60;
    match key {
        Some(k) => format!("Open interest · {k} · all venues, {hours} h"),
        None => format!("Open interest · {hours} h"),
    }
}

/// `+0.0100%`: a funding rate as a signed percentage.
fn pct(x: f64, dp: usize) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    let v = x * 100.0;
    if v >= 0.0 {
        format!("+{v:.dp$}%")
    } else {
        format!("{v:.dp$}%")
    }
}

/// Positive in the bid colour, negative in the ask colour, with the theme's
/// glyphs so the sign reads without colour too.
fn signed(text: String, x: f64, theme: &Theme) -> Span<'static> {
    if x < 0.0 {
        super::ask_span(text, theme)
    } else if x > 0.0 {
        super::bid_span(text, theme)
    } else {
        Span::styled(text, theme.fg(theme.text))
    }
}

/// A funding period as `8h`, `1h`, `4h` (or minutes).
fn period(us: i64) -> String {
    let m = us / 60_000_000;
    if m >= 60 && m % 60 == 0 {
        format!("{}h", m / 60)
    } else {
        format!("{m}m")
    }
}

/// Base open interest, compact: `78.4k`, `1.25M`, `312.5`.
fn compact(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.2}B", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.1}")
    }
}

fn dash(theme: &Theme) -> Span<'static> {
    Span::styled("—", theme.muted())
}

fn table(frame: &mut Frame, area: Rect, rows: &[&PerpRow], cursor: usize, now: i64, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let fitted = fit(&TABLE, area.width);
    let mut out = vec![fitted.header(theme.header())];
    if rows.is_empty() {
        out.push(Line::from(Span::styled(
            "no perpetuals yet: funding and open interest appear as the venues send them",
            theme.muted(),
        )));
    }
    let mark_dp = format::DpTable::new(
        rows.iter().filter_map(|r| Some((r.instrument?, r.mark?))),
        4,
    );
    let (start, end) = window(rows.len(), cursor, area.height as usize - 1);
    for (i, r) in rows.iter().enumerate().take(end).skip(start) {
        let venue = match r.venue {
            Some(v) => Span::styled(v.to_string(), theme.fg(theme.venue(v))),
            None => dash(theme),
        };
        let instrument = Span::styled(
            r.instrument.map(|i| i.to_string()).unwrap_or_default(),
            theme.fg(theme.text),
        );
        let rate = r
            .funding_rate
            .and_then(|d| rust_decimal::prelude::ToPrimitive::to_f64(&d))
            .map_or_else(|| dash(theme), |x| signed(pct(x, 4), x, theme));
        let per = r
            .interval
            .map_or_else(|| dash(theme), |p| Span::styled(period(p), theme.muted()));
        let annual = r
            .annual
            .map_or_else(|| dash(theme), |x| signed(pct(x, 1), x, theme));
        let predicted = r
            .predicted_annual
            .map_or_else(|| dash(theme), |x| signed(pct(x, 1), x, theme));
        let next = r.next_funding.map_or_else(
            || dash(theme),
            |t| Span::styled(countdown(t - now), theme.fg(theme.text)),
        );
        let mark = match (r.mark, r.instrument) {
            (Some(m), Some(i)) => {
                Span::styled(format::dec(m, mark_dp.get(i)), theme.fg(theme.text))
            }
            _ => dash(theme),
        };
        let basis = r
            .basis_bps
            .map_or_else(|| dash(theme), |b| signed(format!("{b:+.1}"), b, theme));
        let oi = r
            .oi_base
            .and_then(|d| rust_decimal::prelude::ToPrimitive::to_f64(&d))
            .map_or_else(
                || dash(theme),
                |x| Span::styled(compact(x), theme.fg(theme.text)),
            );
        let oi_usd = r.oi_usd.map_or_else(
            || dash(theme),
            |x| Span::styled(format::usd(x), theme.muted()),
        );
        let change =
            |c: Option<f64>| c.map_or_else(|| dash(theme), |x| signed(pct(x, 1), x, theme));
        let line = fitted.row(vec![
            venue,
            instrument,
            rate,
            per,
            annual,
            predicted,
            next,
            mark,
            basis,
            oi,
            oi_usd,
            change(r.oi_change[0]),
            change(r.oi_change[1]),
            change(r.oi_change[2]),
            change(r.oi_change[3]),
        ]);
        out.push(if i == cursor {
            highlight(line, theme)
        } else {
            line
        });
    }
    lines(frame, area, out, theme);
}

/// Time to the next funding: `47m12s`, `2h03m`; `due` once passed.
fn countdown(us: i64) -> String {
    if us <= 0 {
        "due".to_string()
    } else {
        format::age(us)
    }
}

fn carry_box(
    frame: &mut Frame,
    area: Rect,
    carry: Option<&FundingCarry>,
    hold_days: f64,
    theme: &Theme,
) {
    if area.height == 0 {
        return;
    }
    let Some(c) = carry else {
        note(
            frame,
            area,
            "no funding rates for this perpetual yet",
            theme,
        );
        return;
    };
    let w = area.width as usize;
    let mut out = Vec::new();
    match &c.best {
        Some(b) => {
            out.push(Line::from(vec![
                Span::styled("long ", theme.muted()),
                Span::styled(
                    b.long_venue.to_string(),
                    theme.fg(theme.venue(b.long_venue)),
                ),
                Span::styled(" / short ", theme.muted()),
                Span::styled(
                    b.short_venue.to_string(),
                    theme.fg(theme.venue(b.short_venue)),
                ),
            ]));
            out.push(Line::from(vec![
                Span::styled("gross ", theme.muted()),
                signed(pct(b.gross, 1), b.gross, theme),
                Span::styled("/yr · net ", theme.muted()),
                signed(pct(b.net, 1), b.net, theme),
                Span::styled(format!(" ({hold_days:.0} d, fees)"), theme.muted()),
            ]));
        }
        None => out.push(Line::from(Span::styled(
            "one venue only: no carry pair",
            theme.muted(),
        ))),
    }
    // Highest first: who is paid most to be short.
    let hi = c.ranked.iter().map(|r| r.1.abs()).fold(0.0f64, f64::max);
    let label_w = 12usize;
    let value_w = 9usize;
    let bar_w = w.saturating_sub(label_w + value_w + 2);
    for (venue, annual) in c.ranked.iter().rev() {
        let n = if hi > 0.0 {
            ((annual.abs() / hi) * bar_w as f64).round() as usize
        } else {
            0
        };
        let bar = "█".repeat(n.min(bar_w));
        let bar_style = if *annual < 0.0 {
            theme.fg(theme.ask_dim)
        } else {
            theme.fg(theme.bid_dim)
        };
        out.push(Line::from(vec![
            Span::styled(
                format!("{:<label_w$}", cut(venue.as_str(), label_w - 1)),
                theme.fg(theme.venue(*venue)),
            ),
            signed(format!("{:>value_w$}", pct(*annual, 1)), *annual, theme),
            Span::raw(" "),
            Span::styled(bar, bar_style),
        ]));
    }
    lines(frame, area, out, theme);
}

/// The summed open interest of the last hours as bars, one column per time
/// bucket, with its range.
fn oi_chart(frame: &mut Frame, area: Rect, history: Option<&[Option<f64>]>, theme: &Theme) {
    if area.height == 0 || area.width < 10 {
        return;
    }
    let values = bucketed(history.unwrap_or(&[]), area.width as usize);
    if values.iter().all(Option::is_none) {
        note(frame, area, "no open interest yet", theme);
        return;
    }
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    let lo = known.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let rows = area.height.saturating_sub(1).max(1) as usize;
    const EIGHTHS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let mut out = Vec::with_capacity(rows + 1);
    // A flat series still shows as a half-height band, not an empty box.
    let height = |v: f64| -> usize {
        if hi > lo {
            (((v - lo) / (hi - lo)) * (rows * 8 - 1) as f64).round() as usize + 1
        } else {
            rows * 4
        }
    };
    for row in (0..rows).rev() {
        let text: String = values
            .iter()
            .map(|v| match v {
                None => ' ',
                Some(v) => {
                    let h = height(*v);
                    let filled = h.saturating_sub(row * 8).min(8);
                    EIGHTHS[filled]
                }
            })
            .collect();
        out.push(Line::from(Span::styled(text, theme.fg(theme.title))));
    }
    out.push(Line::from(vec![
        Span::styled("low ", theme.muted()),
        Span::styled(compact(lo), theme.fg(theme.text)),
        Span::styled("  high ", theme.muted()),
        Span::styled(compact(hi), theme.fg(theme.text)),
        Span::styled("  now ", theme.muted()),
        Span::styled(
            known.last().map(|v| compact(*v)).unwrap_or_default(),
            theme.fg(theme.highlight),
        ),
    ]));
    lines(frame, area, out, theme);
}

/// One line: a sparkline of the summed open interest and its latest value.
fn oi_strip(frame: &mut Frame, area: Rect, history: Option<&[Option<f64>]>, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let label = "OI 6h ";
    let width = (area.width as usize).saturating_sub(label.len() + 9);
    let values: Vec<f64> = bucketed(history.unwrap_or(&[]), width)
        .into_iter()
        .flatten()
        .collect();
    let now = values
        .last()
        .map(|v| compact(*v))
        .unwrap_or_else(|| "—".into());
    let out = vec![Line::from(vec![
        Span::styled(label, theme.muted()),
        Span::styled(format::sparkline(&values, width), theme.fg(theme.title)),
        Span::styled(format!(" {now}"), theme.fg(theme.highlight)),
    ])];
    let strip = stack(area, &[area.height.saturating_sub(1)]);
    lines(frame, strip[1], out, theme);
}

/// `width` buckets over the series, each the last known value in it.
pub fn bucketed(series: &[Option<f64>], width: usize) -> Vec<Option<f64>> {
    if width == 0 || series.is_empty() {
        return Vec::new();
    }
    let n = series.len();
    (0..width.min(n))
        .map(|b| {
            let cols = width.min(n);
            let from = b * n / cols;
            let to = ((b + 1) * n / cols).max(from + 1);
            series[from..to].iter().rev().find_map(|v| *v)
        })
        .collect()
}

fn tape(frame: &mut Frame, area: Rect, spikes: &[SpikeRow], app: &App, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let fitted = fit(&TAPE, area.width);
    let mut out = vec![fitted.header(theme.header())];
    if spikes.is_empty() {
        out.push(Line::from(Span::styled(
            "no spikes yet (z-scores need a window of minutes)",
            theme.muted(),
        )));
    }
    for s in spikes.iter().take(area.height as usize - 1) {
        let venue = match s.venue {
            Some(v) => Span::styled(v.to_string(), theme.fg(theme.venue(v))),
            None => Span::styled("all venues", theme.fg(theme.text)),
        };
        let value = match s.metric {
            crate::engine::derivs::SpikeMetric::OpenInterest => compact(s.value),
            crate::engine::derivs::SpikeMetric::Volume => format::usd(s.value),
        };
        out.push(fitted.row(vec![
            Span::styled(format::clock(s.at, app.time_zone), theme.muted()),
            venue,
            Span::styled(s.key.to_string(), theme.fg(theme.text)),
            Span::styled(
                match s.metric {
                    crate::engine::derivs::SpikeMetric::OpenInterest => "OI Δ",
                    crate::engine::derivs::SpikeMetric::Volume => "volume",
                },
                theme.muted(),
            ),
            signed(value, s.value, theme),
            Span::styled(
                format!("{:+.1}", s.z),
                super::bold(theme.fg(theme.highlight)),
            ),
        ]));
    }
    lines(frame, area, out, theme);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_the_last_known_value() {
        let s = [Some(1.0), None, Some(3.0), None];
        assert_eq!(bucketed(&s, 2), [Some(1.0), Some(3.0)]);
        assert_eq!(bucketed(&s, 10), [Some(1.0), None, Some(3.0), None]);
        assert!(bucketed(&[], 5).is_empty());
    }

    #[test]
    fn rates_and_periods_read() {
        assert_eq!(pct(0.0001, 4), "+0.0100%");
        assert_eq!(pct(-0.123, 1), "-12.3%");
        assert_eq!(period(8 * 3_600_000_000), "8h");
        assert_eq!(period(30 * 60_000_000), "30m");
        assert_eq!(countdown(-5), "due");
        assert_eq!(compact(78_412.5), "78.4k");
    }
}
