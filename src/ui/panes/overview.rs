//! Overview: one row per instrument (or quote group) with the CBBO and the
//! venue behind each side, spread, a mid sparkline, best net arbitrage and
//! recent liquidations; below, the selected instrument's venues one by one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{PaneId, ask_span, bid_span, highlight, lines, note, selected_view, stack};
use crate::engine::Snapshot;
use crate::engine::snapshot::{InstrumentView, VenueBook};
use crate::model::{BookState, Venue};
use crate::ui::app::App;
use crate::ui::format;
use crate::ui::reach::{self, Reach, Why, ellipsize};
use crate::ui::table::{Col, fit};
use crate::ui::theme::Theme;

const COLS: [Col; 11] = [
    Col::left("  Instrument", 19, 0),
    Col::right("Bid", 11, 0),
    Col::left("venue", 8, 1),
    Col::right("Ask", 11, 0),
    Col::left("venue", 8, 1),
    Col::right("Spr bps", 7, 1),
    Col::right("Net bps", 7, 2),
    Col::right("Liq 5m", 8, 3),
    Col::right("Live", 5, 3),
    Col::left("Mid trend", 16, 4),
    Col::left("Notes", 24, 5).flex(),
];

pub fn render(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let rows: Vec<&InstrumentView> = snap
        .instruments
        .iter()
        .filter(|v| app.matches_filter(&v.label) || app.matches_filter(&v.instrument.to_string()))
        .collect();
    let title = if app.filter.is_empty() {
        format!("Overview · {} instruments", rows.len())
    } else {
        format!(
            "Overview · {} of {} match “{}”",
            rows.len(),
            snap.instruments.len(),
            app.filter
        )
    };
    let detail = selected_view(snap, app);
    let missing = detail
        .map(|v| reach::missing(snap, app, v))
        .unwrap_or_default();
    let detail_h = detail.map_or(0, |v| (v.venues.len() + missing.len()) as u16 + 3);
    let top_h = (rows.len() as u16 + 3).max(4);
    // Venue detail and the mid chart only when the instrument list fits first.
    let parts = if area.height >= top_h + detail_h + MID_CHART_MIN_H {
        stack(area, &[top_h, detail_h])
    } else if area.height >= top_h + detail_h {
        stack(area, &[top_h])
    } else {
        vec![area]
    };
    let inner = super::framed(frame, parts[0], title, theme);
    instrument_table(frame, inner, snap, &rows, app, theme);
    if let (Some(view), Some(part)) = (detail, parts.get(1))
        && part.height > 2
    {
        let inner = super::framed(frame, *part, format!("Venues · {}", view.label), theme);
        venue_table(frame, inner, view, &missing, snap, theme);
    }
    if let (Some(view), Some(part)) = (detail, parts.get(2))
        && part.height >= MID_CHART_MIN_H
    {
        mid_chart(frame, *part, view, theme);
    }
}

/// Rows needed before the mid-price chart is worth drawing.
const MID_CHART_MIN_H: u16 = 8;

fn mid_chart(frame: &mut Frame, area: Rect, view: &InstrumentView, theme: &Theme) {
    use ratatui::symbols::Marker;
    use ratatui::widgets::{Axis, Chart, Dataset, GraphType};
    let points: Vec<(f64, f64)> = view
        .mid_history
        .iter()
        .enumerate()
        .filter(|(_, m)| m.is_finite())
        .map(|(i, m)| (i as f64, *m))
        .collect();
    let title = format!("Mid · {} · last {} samples", view.label, points.len());
    if points.len() < 2 {
        let inner = super::framed(frame, area, title, theme);
        note(frame, inner, "not enough history yet", theme);
        return;
    }
    let lo = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-6);
    let label = |x: f64| Span::styled(format::thousands(&format!("{x:.2}")), theme.muted());
    let chart = Chart::new(vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.fg(theme.title))
            .data(&points),
    ])
    .block(super::block(title, theme))
    .style(theme.base())
    .x_axis(
        Axis::default()
            .style(theme.border())
            .bounds([0.0, (points.len() - 1) as f64]),
    )
    .y_axis(
        Axis::default()
            .style(theme.border())
            .bounds([lo - pad, hi + pad])
            .labels(vec![label(lo), label((lo + hi) / 2.0), label(hi)]),
    );
    frame.render_widget(chart, area);
}

fn instrument_table(
    frame: &mut Frame,
    area: Rect,
    snap: &Snapshot,
    rows: &[&InstrumentView],
    app: &App,
    theme: &Theme,
) {
    if area.height == 0 {
        return;
    }
    let fitted = fit(&COLS, area.width);
    let mut out = vec![fitted.header(theme.header())];
    if rows.is_empty() {
        out.push(Line::from(Span::styled(
            "  no instruments (check the watchlist, or clear the filter with / Esc)",
            theme.muted(),
        )));
    }
    let spark_w = fitted.width(9) as usize;
    let (start, end) = crate::ui::table::window(
        rows.len(),
        app.cursor(PaneId::Overview),
        area.height as usize - 1,
    );
    for (i, v) in rows.iter().enumerate().take(end).skip(start) {
        let marker = if app.selected == Some(v.instrument) {
            "▸ "
        } else {
            "  "
        };
        let name = Span::styled(format!("{marker}{}", v.label), theme.fg(theme.text));
        let dp = price_dp(v);
        let why = Why::of(snap, app, v);
        let live = v.venues.iter().filter(|b| b.state.is_live()).count();
        let expected = v.venues.len() + why.missing.len();
        let live_style = if live == expected {
            theme.muted()
        } else {
            theme.fg(theme.warning)
        };
        let line = match (&v.cbbo.bid, &v.cbbo.ask) {
            (None, None) => {
                // The reason starts in the name column's padding when the
                // name leaves room for a space.
                let name_w = fitted.width(0) as usize;
                let gap = usize::from(name.content.chars().count() >= name_w);
                let mut spans = fitted.row(vec![name]).spans;
                let room = (area.width as usize).saturating_sub(name_w + gap);
                let style = if why.unreachable() {
                    theme.fg(theme.error)
                } else {
                    theme.fg(theme.stale)
                };
                spans.push(Span::styled(
                    format!("{}{}", " ".repeat(gap), why.fitted(room)),
                    style,
                ));
                Line::from(spans)
            }
            (bid, ask) => {
                let cell_price =
                    |s: Option<&crate::engine::snapshot::CbboSide>, is_bid: bool| match s {
                        Some(s) if is_bid => bid_span(format::dec(s.price, dp), theme),
                        Some(s) => ask_span(format::dec(s.price, dp), theme),
                        None => Span::styled("—", theme.muted()),
                    };
                let cell_venue = |s: Option<&crate::engine::snapshot::CbboSide>| match s {
                    Some(s) => Span::styled(s.venue.to_string(), theme.fg(theme.venue(s.venue))),
                    None => Span::raw(""),
                };
                let spread = v
                    .cbbo
                    .spread_bps()
                    .map_or(Span::styled("—", theme.muted()), |s| {
                        let style = if s.is_sign_negative() {
                            theme.fg(theme.error)
                        } else {
                            theme.fg(theme.text)
                        };
                        Span::styled(format!("{:.2}", s.round_dp(2)), style)
                    });
                let net = v
                    .best_net_bps
                    .map_or(Span::styled("—", theme.muted()), |n| {
                        let style = if n.is_sign_positive() && !n.is_zero() {
                            super::bold(theme.fg(theme.ok))
                        } else {
                            theme.muted()
                        };
                        Span::styled(format::bps(n), style)
                    });
                let liq = if v.liquidations_5m_usd > 0.0 {
                    Span::styled(format::usd(v.liquidations_5m_usd), theme.fg(theme.text))
                } else {
                    Span::styled("—", theme.muted())
                };
                let notes = notes(v, &why, fitted.width(10) as usize);
                fitted.row(vec![
                    name,
                    cell_price(bid.as_ref(), true),
                    cell_venue(bid.as_ref()),
                    cell_price(ask.as_ref(), false),
                    cell_venue(ask.as_ref()),
                    spread,
                    net,
                    liq,
                    Span::styled(format!("{live}/{expected}"), live_style),
                    Span::styled(
                        format::sparkline(&v.mid_history, spark_w),
                        theme.fg(theme.title),
                    ),
                    Span::styled(notes, theme.fg(theme.stale)),
                ])
            }
        };
        out.push(if i == app.cursor(PaneId::Overview) {
            highlight(line, theme)
        } else {
            line
        });
    }
    lines(frame, area, out, theme);
}

/// Decimals that show every displayed price of this instrument exactly.
fn price_dp(v: &InstrumentView) -> u32 {
    format::dp_for(
        v.venues
            .iter()
            .flat_map(|b| b.bids.first().into_iter().chain(b.asks.first()))
            .map(|l| l.price),
        8,
    )
}

/// What is left out or missing for a row that has a CBBO, in `width`.
fn notes(v: &InstrumentView, why: &Why, width: usize) -> String {
    let mut text = String::new();
    for level in 0..=Why::TERSEST {
        text = why.note(level);
        if v.mixed_quotes {
            text = if text.is_empty() {
                "mixed quotes".into()
            } else {
                format!("mixed quotes; {text}")
            };
        }
        if text.chars().count() <= width {
            return text;
        }
    }
    ellipsize(&text, width)
}

const VENUE_COLS: [Col; 10] = [
    Col::left("  Venue", 13, 0),
    Col::left("Instrument", 13, 3),
    Col::left("State", 11, 0),
    Col::right("Bid", 12, 0),
    Col::right("Size", 10, 2),
    Col::right("Ask", 12, 0),
    Col::right("Size", 10, 2),
    Col::right("Updated", 8, 1),
    Col::right("Levels", 9, 4),
    Col::left("Why / funding", 20, 5).flex(),
];

fn venue_table(
    frame: &mut Frame,
    area: Rect,
    v: &InstrumentView,
    missing: &[(Venue, Reach)],
    snap: &Snapshot,
    theme: &Theme,
) {
    if v.venues.is_empty() && missing.is_empty() {
        note(frame, area, "no venue carries this instrument", theme);
        return;
    }
    let fitted = fit(&VENUE_COLS, area.width);
    let dp = price_dp(v);
    let size_dp = format::dp_for(
        v.venues
            .iter()
            .flat_map(|b| b.bids.first().into_iter().chain(b.asks.first()))
            .map(|l| l.size),
        4,
    );
    let mut out = vec![fitted.header(theme.header())];
    for b in &v.venues {
        out.push(venue_row(&fitted, b, v, snap, dp, size_dp, theme));
    }
    for (venue, reach) in missing {
        out.push(missing_row(&fitted, *venue, reach, v, area.width, theme));
    }
    lines(frame, area, out, theme);
}

fn venue_row(
    fitted: &crate::ui::table::Fitted,
    b: &VenueBook,
    v: &InstrumentView,
    snap: &Snapshot,
    dp: u32,
    size_dp: u32,
    theme: &Theme,
) -> Line<'static> {
    let live = b.state.is_live();
    let dim = |s: Span<'static>| {
        if live {
            s
        } else {
            Span::styled(s.content, theme.fg(theme.stale))
        }
    };
    let (state_text, state_style) = match &b.state {
        BookState::Live => ("live".to_string(), theme.fg(theme.ok)),
        BookState::Polled => ("polled".to_string(), theme.fg(theme.warning)),
        BookState::Syncing => ("syncing".to_string(), theme.fg(theme.warning)),
        BookState::OutOfSync(_) => (b.state.label().replace('_', " "), theme.fg(theme.error)),
    };
    let why = match &b.state {
        BookState::OutOfSync(r) => r.to_string(),
        BookState::Syncing => "waiting for a snapshot; not used".to_string(),
        BookState::Polled => "REST poll: stream unreachable; used while fresh".to_string(),
        BookState::Live => v
            .funding
            .iter()
            .find(|(venue, _)| *venue == b.venue)
            .and_then(|(_, f)| f.funding_rate)
            .map(|r| format!("funding {:.4}%", r * rust_decimal::Decimal::from(100)))
            .unwrap_or_default(),
    };
    let price = |l: Option<&crate::model::Level>, bid: bool| match l {
        Some(l) if bid => dim(bid_span(format::dec(l.price, dp), theme)),
        Some(l) => dim(ask_span(format::dec(l.price, dp), theme)),
        None => Span::styled("—", theme.muted()),
    };
    let size = |l: Option<&crate::model::Level>| match l {
        Some(l) => dim(Span::styled(
            format::dec(l.size, size_dp),
            theme.fg(theme.text),
        )),
        None => Span::raw(""),
    };
    let updated = b
        .last_update
        .map_or("—".to_string(), |t| format::age(snap.now - t));
    fitted.row(vec![
        Span::styled(format!("  {}", b.venue), theme.fg(theme.venue(b.venue))),
        dim(Span::styled(b.instrument.to_string(), theme.fg(theme.text))),
        Span::styled(state_text, state_style),
        price(b.bids.first(), true),
        size(b.bids.first()),
        price(b.asks.first(), false),
        size(b.asks.first()),
        dim(Span::styled(updated, theme.muted())),
        dim(Span::styled(
            format!("{}/{}", b.bid_levels, b.ask_levels),
            theme.muted(),
        )),
        Span::styled(
            why,
            if live {
                theme.muted()
            } else {
                theme.fg(theme.stale)
            },
        ),
    ])
}

/// A venue that should carry the instrument but has no book: its state
/// in words, and why across the remaining columns.
fn missing_row(
    fitted: &crate::ui::table::Fitted,
    venue: Venue,
    reach: &Reach,
    v: &InstrumentView,
    width: u16,
    theme: &Theme,
) -> Line<'static> {
    let style = match reach {
        Reach::Unreachable { .. } | Reach::Partial { .. } => theme.fg(theme.error),
        Reach::Starting | Reach::Connecting => theme.fg(theme.warning),
        Reach::Up | Reach::Replay => theme.muted(),
    };
    let cells = vec![
        Span::styled(format!("  {venue}"), theme.fg(theme.venue(venue))),
        Span::styled(v.instrument.to_string(), theme.fg(theme.stale)),
        Span::styled(reach.state_word(), style),
    ];
    let lead: usize = [0, 1, 2]
        .iter()
        .filter(|&&i| fitted.shown(i))
        .map(|&i| fitted.width(i) as usize + 1)
        .sum();
    let mut line = fitted.row(cells);
    let room = (width as usize).saturating_sub(lead);
    line.spans.push(Span::raw(" "));
    line.spans
        .push(Span::styled(ellipsize(&reach.detail(), room), style));
    line
}
