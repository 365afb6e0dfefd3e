//! The depth chart: cumulative size per side as step curves, with the
//! crossed stretch marked (or the sides split into halves when every bid
//! lies above every ask).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, LegendPosition};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::engine::snapshot::AggLevel;
use crate::ui::format;
use crate::ui::panes::block;
use crate::ui::theme::Theme;

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

pub(super) fn depth_chart(
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
        .block(block(title, theme))
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
