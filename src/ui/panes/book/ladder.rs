//! The ladder: asks above the spread line, bids below, each level's size,
//! cumulative size, a bar split by venue colour and a depth bar.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::engine::snapshot::{AggLevel, InstrumentView};
use crate::ui::format;
use crate::ui::panes::{ask_span, bid_span, lines};
use crate::ui::table::{Col, Fitted, fit};
use crate::ui::theme::Theme;

const COLS: [Col; 5] = [
    Col::right("Price", 12, 0),
    Col::right("Size", 10, 0),
    Col::right("Cumulative", 11, 1),
    Col::left("By venue", 12, 2).flex(),
    Col::left("Depth", 10, 3).flex(),
];

#[allow(clippy::too_many_arguments)]
pub(super) fn ladder(
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
