//! Book: the selected instrument's aggregated ladder (size per venue in the
//! venue's colour, cumulative depth bars) or one venue's own book (`v`), and a
//! depth chart when the terminal is wide enough.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, LegendPosition};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{ask_span, bid_span, framed, lines, note, selected_view, split_h, stack};
use crate::engine::Snapshot;
use crate::engine::snapshot::{AggLevel, InstrumentView, VenueBook};
use crate::model::{BookState, Venue};
use crate::ui::app::{App, BookMode};
use crate::ui::format;
use crate::ui::reach::Why;
use crate::ui::table::{Col, Fitted, fit};
use crate::ui::theme::Theme;

/// Width from which the depth chart is shown beside the ladder.
pub const CHART_MIN_WIDTH: u16 = 120;

const COLS: [Col; 5] = [
    Col::right("Price", 12, 0),
    Col::right("Size", 10, 0),
    Col::right("Cumulative", 11, 1),
    Col::left("By venue", 12, 2).flex(),
    Col::left("Depth", 10, 3).flex(),
];

pub fn render(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let Some(view) = selected_view(snap, app) else {
        let inner = framed(frame, area, "Book", theme);
        note(
            frame,
            inner,
            "no instrument selected (choose one in Overview with Enter)",
            theme,
        );
        return;
    };
    let venue_book = match app.book_mode {
        BookMode::Venue(v) => view.venues.iter().find(|b| b.venue == v),
        BookMode::Aggregated => None,
    };
    let live = view.venues.iter().filter(|b| b.state.is_live()).count();
    let why = Why::of(snap, app, view);
    let title = match venue_book {
        Some(b) => format!(
            "Book · {} · {} only ({})",
            view.label,
            b.venue,
            b.state.label().replace('_', " ")
        ),
        None => format!(
            "Book · {} · aggregated ({live} of {} venues live)",
            view.label,
            view.venues.len() + why.missing.len()
        ),
    };
    let inner = framed(frame, area, title, theme);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let header = header_lines(view, venue_book, &why, theme);
    let parts = stack(inner, &[(header.len() as u16).min(inner.height / 2)]);
    lines(frame, parts[0], header, theme);

    let (bids, asks, stale) = match venue_book {
        Some(b) => (
            own_levels(&b.bids, b.venue),
            own_levels(&b.asks, b.venue),
            !b.state.is_live(),
        ),
        None => (
            view.aggregated.bids.clone(),
            view.aggregated.asks.clone(),
            false,
        ),
    };
    let (ladder_area, chart_area) = if parts[1].width >= CHART_MIN_WIDTH {
        let (l, r) = split_h(parts[1], parts[1].width * 11 / 20);
        (l, Some(r))
    } else {
        (parts[1], None)
    };
    if bids.is_empty() && asks.is_empty() {
        let text = match venue_book {
            Some(b) => format!("no levels: {} {}", b.venue, state_reason(&b.state)),
            None if why.no_venue() => "no levels: no venue carries this instrument".into(),
            None => format!("no levels: {}", why.sentence(0)),
        };
        wrapped_note(frame, ladder_area, text, theme);
    } else {
        ladder(frame, ladder_area, view, &bids, &asks, stale, theme);
    }
    if let Some(chart) = chart_area {
        depth_chart(frame, chart, &bids, &asks, stale, theme);
    }
}

/// Legend (venue colours) and the venues left out, with their reasons.
fn header_lines(
    view: &InstrumentView,
    only: Option<&VenueBook>,
    why: &Why,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let mut legend = vec![Span::styled("venues ", theme.muted())];
    for b in &view.venues {
        let live = b.state.is_live();
        let style = if live {
            theme.fg(theme.venue(b.venue))
        } else {
            theme.fg(theme.stale)
        };
        let mark = if only.is_some_and(|o| o.venue == b.venue) {
            "◆"
        } else if live {
            "■"
        } else {
            "□"
        };
        legend.push(Span::styled(format!("{mark} {}  ", b.venue), style));
    }
    for (venue, _) in &why.missing {
        legend.push(Span::styled(format!("□ {venue}  "), theme.fg(theme.stale)));
    }
    if view.mixed_quotes {
        legend.push(Span::styled(
            "· mixed quote currencies",
            theme.fg(theme.warning),
        ));
    }
    out.push(Line::from(legend));
    match only {
        Some(b) if !b.state.is_live() => out.push(Line::from(Span::styled(
            format!(
                "{} {}; this book is not used for CBBO or arbitrage",
                b.venue,
                state_reason(&b.state)
            ),
            theme.fg(theme.error),
        ))),
        Some(_) => {}
        None => {
            for b in view.venues.iter().filter(|b| !b.state.is_live()) {
                out.push(Line::from(Span::styled(
                    format!("✗ {} left out: {}", b.venue, state_reason(&b.state)),
                    theme.fg(theme.stale),
                )));
            }
            for (venue, reach) in &why.missing {
                let style = if reach.is_failure() {
                    theme.fg(theme.error)
                } else {
                    theme.fg(theme.stale)
                };
                out.push(Line::from(Span::styled(
                    format!("✗ {venue} {}: {}", reach.state_word(), reach.detail()),
                    style,
                )));
            }
        }
    }
    out
}

fn state_reason(state: &BookState) -> String {
    match state {
        BookState::Live => "live".to_string(),
        BookState::Syncing => "syncing, waiting for a snapshot".to_string(),
        BookState::OutOfSync(r) => format!("out of sync: {r}"),
    }
}

fn own_levels(levels: &[crate::model::Level], venue: Venue) -> Vec<AggLevel> {
    levels
        .iter()
        .map(|l| AggLevel {
            price: l.price,
            total: l.size,
            per_venue: vec![(venue, l.size)],
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn ladder(
    frame: &mut Frame,
    area: Rect,
    view: &InstrumentView,
    bids: &[AggLevel],
    asks: &[AggLevel],
    stale: bool,
    theme: &Theme,
) {
    if area.height < 2 {
        return;
    }
    let fitted = fit(&COLS, area.width);
    let per_side = (area.height as usize - 2) / 2;
    let bids = &bids[..bids.len().min(per_side)];
    let asks = &asks[..asks.len().min(per_side)];
    let dp = format::dp_for(bids.iter().chain(asks).map(|l| l.price), 8);
    let size_dp = format::dp_for(bids.iter().chain(asks).map(|l| l.total), 4);
    let max_level = bids
        .iter()
        .chain(asks)
        .map(|l| l.total)
        .max()
        .unwrap_or(Decimal::ONE);
    let cum = |ls: &[AggLevel]| {
        ls.iter()
            .scan(Decimal::ZERO, |acc, l| {
                *acc += l.total;
                Some(*acc)
            })
            .collect::<Vec<_>>()
    };
    let (bid_cum, ask_cum) = (cum(bids), cum(asks));
    let max_cum = bid_cum
        .last()
        .copied()
        .max(ask_cum.last().copied())
        .unwrap_or(Decimal::ONE);
    let ctx = Ctx {
        fitted: &fitted,
        dp,
        size_dp,
        max_level,
        max_cum,
        stale,
        theme,
    };

    let mut out = vec![fitted.header(theme.header())];
    // Asks above, best ask next to the spread line.
    for _ in asks.len()..per_side {
        out.push(Line::from(""));
    }
    for (l, c) in asks.iter().zip(&ask_cum).rev() {
        out.push(ctx.row(l, *c, false));
    }
    out.push(spread_line(
        view,
        bids.first(),
        asks.first(),
        dp,
        area.width,
        theme,
    ));
    for (l, c) in bids.iter().zip(&bid_cum) {
        out.push(ctx.row(l, *c, true));
    }
    lines(frame, area, out, theme);
}

struct Ctx<'a> {
    fitted: &'a Fitted,
    dp: u32,
    size_dp: u32,
    max_level: Decimal,
    max_cum: Decimal,
    stale: bool,
    theme: &'a Theme,
}

impl Ctx<'_> {
    fn row(&self, l: &AggLevel, cum: Decimal, bid: bool) -> Line<'static> {
        let t = self.theme;
        let grey = Style::default().fg(t.stale);
        let price = match (self.stale, bid) {
            (true, _) => Span::styled(format::dec(l.price, self.dp), grey),
            (false, true) => bid_span(format::dec(l.price, self.dp), t),
            (false, false) => ask_span(format::dec(l.price, self.dp), t),
        };
        let plain = if self.stale { grey } else { t.fg(t.text) };
        let venue_w = self.fitted.width(3) as usize;
        let depth_w = self.fitted.width(4) as usize;
        let mut line = self.fitted.row(vec![
            price,
            Span::styled(format::dec(l.total, self.size_dp), plain),
            Span::styled(
                format::dec(cum, self.size_dp),
                if self.stale { grey } else { t.muted() },
            ),
            Span::raw(""),
            Span::raw(""),
        ]);
        // Replace the two bar placeholders with coloured segments.
        if venue_w > 0 || depth_w > 0 {
            let keep = line
                .spans
                .len()
                .saturating_sub(if depth_w > 0 && venue_w > 0 { 4 } else { 2 });
            line.spans.truncate(keep);
            if venue_w > 0 {
                line.spans.push(Span::raw(" "));
                line.spans.extend(self.venue_bar(l, venue_w));
            }
            if depth_w > 0 {
                line.spans.push(Span::raw(" "));
                let colour = match (self.stale, bid) {
                    (true, _) => t.stale,
                    (false, true) => t.bid_dim,
                    (false, false) => t.ask_dim,
                };
                let n = scaled(cum, self.max_cum, depth_w);
                line.spans
                    .push(Span::styled("█".repeat(n), Style::default().fg(colour)));
                line.spans.push(Span::raw(" ".repeat(depth_w - n)));
            }
        }
        line
    }

    /// A bar as long as the level's share of the largest level, split into
    /// one coloured segment per venue.
    fn venue_bar(&self, l: &AggLevel, width: usize) -> Vec<Span<'static>> {
        let total_len = scaled(l.total, self.max_level, width);
        let mut spans = Vec::new();
        let mut used = 0;
        for (i, (venue, size)) in l.per_venue.iter().enumerate() {
            let n = if i + 1 == l.per_venue.len() {
                total_len - used
            } else {
                scaled(*size, l.total, total_len).min(total_len - used)
            };
            used += n;
            let colour = if self.stale {
                self.theme.stale
            } else {
                self.theme.venue(*venue)
            };
            spans.push(Span::styled("█".repeat(n), Style::default().fg(colour)));
        }
        spans.push(Span::raw(" ".repeat(width - used)));
        spans
    }
}

/// `value / max` of `width` cells, at least one cell for a non-zero value.
fn scaled(value: Decimal, max: Decimal, width: usize) -> usize {
    if max.is_zero() || value.is_zero() || width == 0 {
        return 0;
    }
    let f = (value / max).to_f64().unwrap_or(0.0).clamp(0.0, 1.0);
    ((f * width as f64).round() as usize).clamp(1, width)
}

fn spread_line(
    view: &InstrumentView,
    bid: Option<&AggLevel>,
    ask: Option<&AggLevel>,
    dp: u32,
    width: u16,
    theme: &Theme,
) -> Line<'static> {
    let bps_of = |d: Decimal, a: Decimal, b: Decimal| {
        let mid = (a + b) / Decimal::TWO;
        if mid.is_zero() {
            Decimal::ZERO
        } else {
            (d / mid * Decimal::from(10_000)).round_dp(2)
        }
    };
    // Longest first; the first that fits is shown.
    let (texts, style) = match (bid, ask) {
        (Some(b), Some(a)) if b.price > a.price => {
            let by = b.price - a.price;
            let head = format!(
                " crossed by {} ({:.2} bps)",
                format::dec(by, dp),
                bps_of(by, a.price, b.price)
            );
            (
                vec![
                    format!("{head}: bids above asks across venues "),
                    format!("{head} "),
                ],
                theme.fg(theme.warning),
            )
        }
        (Some(b), Some(a)) => {
            let spread = a.price - b.price;
            let mid = (a.price + b.price) / Decimal::TWO;
            let head = format!(
                " spread {} ({:.2} bps)",
                format::dec(spread, dp),
                bps_of(spread, a.price, b.price)
            );
            (
                vec![
                    format!(
                        "{head} · mid {} {} ",
                        format::dec(mid, dp + 1),
                        view.instrument.quote
                    ),
                    format!("{head} "),
                ],
                theme.fg(theme.highlight),
            )
        }
        _ => (
            vec![" one side empty ".to_string()],
            theme.fg(theme.highlight),
        ),
    };
    let w = width as usize;
    let text = texts
        .iter()
        .find(|t| t.chars().count() <= w)
        .or(texts.last())
        .cloned()
        .unwrap_or_default();
    let len = text.chars().count();
    let left = w.saturating_sub(len) / 2;
    let right = w.saturating_sub(len + left);
    Line::from(vec![
        Span::styled("─".repeat(left), theme.border()),
        Span::styled(text, style),
        Span::styled("─".repeat(right), theme.border()),
    ])
}

/// Cumulative size from the best price outwards, as a step curve that
/// starts at zero on the best price: `(price, cumulative)` points in the
/// order of `levels` (best first).
fn step_curve(levels: &[AggLevel]) -> Vec<(f64, f64)> {
    let to_f = |d: Decimal| d.to_f64().unwrap_or(0.0);
    let mut out = Vec::with_capacity(levels.len() * 2);
    let mut acc = 0.0;
    for l in levels {
        let price = to_f(l.price);
        out.push((price, acc));
        acc += to_f(l.total);
        out.push((price, acc));
    }
    out
}

/// How far the best bid is above the best ask, when it is (a crossed
/// aggregated book: venues crossed against each other).
fn crossing(bids: &[AggLevel], asks: &[AggLevel]) -> Option<(Decimal, Decimal)> {
    let (b, a) = (bids.first()?.price, asks.first()?.price);
    (b > a).then_some((a, b))
}

/// Price → chart x. Linear over every price shown; but when the book is so
/// crossed that every bid shown lies above every ask, the empty stretch
/// between the two sides would squeeze both curves into the chart's edges,
/// so each side gets its own half, asks left and bids right (price order
/// kept), with the break in the middle.
#[derive(Clone, Copy, Debug, PartialEq)]
enum XMap {
    Linear { lo: f64, hi: f64 },
    Split { asks: (f64, f64), bids: (f64, f64) },
}

/// Share of the width each side gets in a split chart.
const HALF: f64 = 0.46;

impl XMap {
    fn new(bids: &[AggLevel], asks: &[AggLevel]) -> Option<XMap> {
        let range = |ls: &[AggLevel]| {
            let prices = ls.iter().map(|l| l.price.to_f64().unwrap_or(0.0));
            let lo = prices.clone().fold(f64::INFINITY, f64::min);
            let hi = prices.fold(f64::NEG_INFINITY, f64::max);
            (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
        };
        match (range(bids), range(asks)) {
            (Some(b), Some(a)) if b.0 > a.1 => Some(XMap::Split { asks: a, bids: b }),
            (b, a) => {
                let lo = b.map(|r| r.0).into_iter().chain(a.map(|r| r.0));
                let hi = b.map(|r| r.1).into_iter().chain(a.map(|r| r.1));
                let (lo, hi) = (
                    lo.fold(f64::INFINITY, f64::min),
                    hi.fold(f64::NEG_INFINITY, f64::max),
                );
                if !lo.is_finite() || !hi.is_finite() {
                    return None;
                }
                let pad = if hi > lo {
                    0.0
                } else {
                    (lo.abs() * 1e-4).max(1e-9)
                };
                Some(XMap::Linear {
                    lo: lo - pad,
                    hi: hi + pad,
                })
            }
        }
    }

    fn bounds(self) -> [f64; 2] {
        match self {
            XMap::Linear { lo, hi } => [lo, hi],
            XMap::Split { .. } => [0.0, 1.0],
        }
    }

    /// `bid`: which side the price is from (decides the half when split).
    fn x(self, price: f64, bid: bool) -> f64 {
        let within = |(lo, hi): (f64, f64)| {
            if hi > lo {
                (price - lo) / (hi - lo) * HALF
            } else {
                HALF / 2.0
            }
        };
        match self {
            XMap::Linear { .. } => price,
            XMap::Split { asks, .. } if !bid => within(asks),
            XMap::Split { bids, .. } => 1.0 - HALF + within(bids),
        }
    }
}

fn depth_chart(
    frame: &mut Frame,
    area: Rect,
    bids: &[AggLevel],
    asks: &[AggLevel],
    stale: bool,
    theme: &Theme,
) {
    let Some(xmap) = XMap::new(bids, asks) else {
        return;
    };
    let place = |pts: Vec<(f64, f64)>, bid: bool| -> Vec<(f64, f64)> {
        pts.into_iter().map(|(p, y)| (xmap.x(p, bid), y)).collect()
    };
    let mut bid_pts = place(step_curve(bids), true);
    bid_pts.reverse();
    let ask_pts = place(step_curve(asks), false);
    let top = bid_pts
        .iter()
        .chain(&ask_pts)
        .map(|p| p.1)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let (bc, ac) = if stale {
        (theme.stale, theme.stale)
    } else {
        (theme.bid, theme.ask)
    };
    let crossed = crossing(bids, asks);
    let dp = format::dp_for(bids.iter().chain(asks).map(|l| l.price), 8);
    // Where the book is crossed: bracketed from the best ask up to the best
    // bid when the sides overlap, or the break between the halves.
    let band: Vec<(f64, f64)> = match (crossed, xmap) {
        (None, _) => Vec::new(),
        (Some(_), XMap::Split { .. }) => vec![(0.5, top), (0.5, 0.0)],
        (Some((a, b)), XMap::Linear { .. }) => {
            let (a, b) = (a.to_f64().unwrap_or(0.0), b.to_f64().unwrap_or(0.0));
            vec![(a, top), (a, 0.0), (b, 0.0), (b, top)]
        }
    };
    let mut datasets = Vec::new();
    if !band.is_empty() {
        datasets.push(
            Dataset::default()
                .name("crossed")
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(theme.warning))
                .data(&band),
        );
    }
    datasets.push(
        Dataset::default()
            .name("bids")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::default().fg(bc))
            .data(&bid_pts),
    );
    datasets.push(
        Dataset::default()
            .name("asks")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::default().fg(ac))
            .data(&ask_pts),
    );
    let title = match crossed {
        Some((a, b)) => format!(
            "Depth (cumulative size) · crossed by {}",
            format::dec(b - a, dp)
        ),
        None => "Depth (cumulative size)".to_string(),
    };
    let label = |x: f64| Span::styled(format::thousands(&format!("{x:.1}")), theme.muted());
    let x_labels = match xmap {
        XMap::Linear { lo, hi } => vec![label(lo), label((lo + hi) / 2.0), label(hi)],
        XMap::Split { asks, bids } => vec![
            label(asks.0),
            Span::styled("asks ┊ bids", theme.fg(theme.warning)),
            label(bids.1),
        ],
    };
    let chart = Chart::new(datasets)
        .block(super::block(title, theme))
        .style(theme.base())
        // Where the curves are lowest: near the spread, or at the outer
        // end of the asks when the halves are split.
        .legend_position(Some(match xmap {
            XMap::Linear { .. } => LegendPosition::Top,
            XMap::Split { .. } => LegendPosition::TopLeft,
        }))
        .x_axis(
            Axis::default()
                .style(theme.border())
                .bounds(xmap.bounds())
                .labels(x_labels),
        )
        .y_axis(
            Axis::default()
                .style(theme.border())
                .bounds([0.0, top * 1.05])
                .labels(vec![
                    Span::styled("0", theme.muted()),
                    Span::styled(format!("{:.2}", top / 2.0), theme.muted()),
                    Span::styled(format!("{top:.2}"), theme.muted()),
                ]),
        );
    frame.render_widget(chart, area);
}

/// A muted note wrapped at word boundaries.
fn wrapped_note(frame: &mut Frame, area: Rect, text: String, theme: &Theme) {
    use ratatui::widgets::{Paragraph, Wrap};
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(text, theme.muted())))
            .style(theme.base())
            .wrap(Wrap { trim: true }),
        area,
    );
}
