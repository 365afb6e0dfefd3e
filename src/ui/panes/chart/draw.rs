//! Painting the chart straight into the frame's buffer: one pass per
//! layer (candles, volume, overlays, axes), each cell set once or twice, so
//! a 200×60 frame stays well under a millisecond.
//!
//! Prices are scaled in `f64` (display only); every figure shown as text
//! comes from the candles' decimals. Each text row holds two price steps
//! (half blocks). Up candles use the bid colour, down ones the ask colour;
//! when the theme marks sides by glyph (the colour-blind theme) up bodies
//! are also drawn hollow (`║`) and down bodies filled (`█`), so the two
//! differ by shape too.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::ZOOMS;
use crate::engine::Snapshot;
use crate::engine::candles::{Candle, CandleSource, SeriesView};
use crate::model::{Instrument, LiquidatedSide, Micros, TakerSide, Timeframe};
use crate::ui::app::App;
use crate::ui::format;
use crate::ui::theme::Theme;

pub struct Input<'a> {
    pub snap: &'a Snapshot,
    pub app: &'a App,
    pub theme: &'a Theme,
    pub key: Instrument,
    pub source: CandleSource,
    pub series: &'a SeriesView,
}

const BARS: [&str; 8] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
const DAY: Micros = 86_400_000_000;

/// The vertical price scale: `levels` half-rows over `lo..=hi`.
struct Scale {
    lo: f64,
    hi: f64,
    rows: u16,
}

impl Scale {
    fn levels(&self) -> i32 {
        i32::from(self.rows) * 2
    }

    /// Half-row level of a price, 0 at the bottom.
    fn level(&self, p: f64) -> i32 {
        let top = self.levels() - 1;
        (((p - self.lo) / (self.hi - self.lo)) * f64::from(top))
            .round()
            .clamp(0.0, f64::from(top)) as i32
    }

    /// The row (from the top) holding a level.
    fn row(&self, level: i32) -> u16 {
        let from_bottom = (level / 2) as u16;
        self.rows.saturating_sub(1).saturating_sub(from_bottom)
    }

    /// The price at the middle of a row.
    fn price_at(&self, row: u16) -> f64 {
        let lower = f64::from(self.rows.saturating_sub(1).saturating_sub(row)) * 2.0;
        self.lo + (lower + 0.5) / f64::from(self.levels() - 1) * (self.hi - self.lo)
    }
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn set(buf: &mut Buffer, x: u16, y: u16, symbol: &str, style: Style) {
    if let Some(cell) = buf.cell_mut((x, y)) {
        cell.set_symbol(symbol).set_style(style);
    }
}

fn is_blank(buf: &Buffer, x: u16, y: u16) -> bool {
    buf.cell((x, y)).is_none_or(|c| c.symbol() == " ")
}

/// Session VWAP (since 00:00 UTC, reset daily) after each candle up to
/// `last`; `None` where the day's turnover is unknown.
fn session_vwap(series: &SeriesView, last: usize) -> Vec<Option<Decimal>> {
    let mut out = Vec::with_capacity(last + 1);
    let (mut day, mut turnover, mut volume) = (Micros::MIN, Some(Decimal::ZERO), Decimal::ZERO);
    for c in series.iter().take(last + 1) {
        let d = c.start.div_euclid(DAY);
        if d != day {
            (day, turnover, volume) = (d, Some(Decimal::ZERO), Decimal::ZERO);
        }
        turnover = turnover.and_then(|t| t.checked_add(c.turnover?));
        volume = volume.checked_add(c.volume).unwrap_or(volume);
        out.push(match turnover {
            Some(t) if !volume.is_zero() => t.checked_div(volume),
            _ => None,
        });
    }
    out
}

/// Decimals of the instrument's prices, for labels and the readout: those
/// of the venues' own candles (trade prices, so the venues' ticks). An
/// aggregate candle's prices are volume-weighted averages with as many
/// decimals as the division gave; they are shown rounded to the finest tick
/// among the venues.
fn price_decimals(input: &Input) -> u32 {
    let recent = |s: &SeriesView| {
        format::dp_for(
            s.iter()
                .rev()
                .take(50)
                .flat_map(|c| [c.open, c.high, c.low, c.close]),
            8,
        )
    };
    match input.source {
        CandleSource::Venue(..) => recent(input.series),
        CandleSource::Aggregate => input
            .snap
            .candles
            .sources(input.key)
            .into_iter()
            .filter_map(|src| {
                input
                    .snap
                    .candles
                    .get(input.key, src, input.app.chart.timeframe)
            })
            .map(recent)
            .max()
            .unwrap_or_else(|| recent(input.series)),
    }
}

fn time_label(t: Micros, tf: Timeframe, app: &App) -> String {
    let pattern = match tf {
        Timeframe::M1 | Timeframe::M5 | Timeframe::M15 | Timeframe::H1 => "%H:%M",
        Timeframe::H4 => "%d %Hh",
        Timeframe::D1 => "%m-%d",
    };
    format::time_as(t, app.time_zone, pattern)
}

/// The readout of one candle: time, OHLC, change, volume and flow, VWAP.
fn readout(
    c: &Candle,
    tf: Timeframe,
    dp: u32,
    open: bool,
    app: &App,
    theme: &Theme,
) -> Line<'static> {
    let label = |s: &str| Span::styled(s.to_string(), theme.muted());
    let value = |s: String| Span::styled(s, theme.base());
    let price = |d: Decimal| format::dec(d, dp);
    let when = match tf {
        Timeframe::D1 | Timeframe::H4 => format::time_as(c.start, app.time_zone, "%Y-%m-%d %H:%M"),
        _ => format::time_as(c.start, app.time_zone, "%m-%d %H:%M"),
    };
    let colour = if c.is_up() { theme.bid } else { theme.ask };
    let change = if c.open.is_zero() {
        String::new()
    } else {
        let pct = (c.close - c.open) / c.open * Decimal::from(100);
        format!(
            "{}{:.2}%",
            if pct >= Decimal::ZERO { "+" } else { "" },
            pct.round_dp(2)
        )
    };
    let mut spans = vec![
        Span::styled(when, theme.fg(theme.title)),
        label("  O "),
        value(price(c.open)),
        label(" H "),
        value(price(c.high)),
        label(" L "),
        value(price(c.low)),
        label(" C "),
        Span::styled(price(c.close), theme.fg(colour)),
        Span::raw(" "),
        Span::styled(change, theme.fg(colour)),
        label("  V "),
        value(format::thousands(
            &c.volume.normalize().round_dp(4).to_string(),
        )),
    ];
    if let (Some(b), false) = (c.buy_volume, c.volume.is_zero()) {
        let pct = (b / c.volume * Decimal::from(100)).round();
        spans.push(label(" buy "));
        spans.push(Span::styled(format!("{pct}%"), theme.fg(theme.bid)));
    }
    if let Some(n) = c.trades {
        spans.push(label("  n "));
        spans.push(value(n.to_string()));
    }
    if let Some(v) = c.vwap() {
        spans.push(label("  VWAP "));
        spans.push(Span::styled(price(v), theme.fg(theme.highlight)));
    }
    if open {
        spans.push(label("  building"));
    }
    if c.partial {
        spans.push(Span::styled(
            "  partial".to_string(),
            theme.fg(theme.warning),
        ));
    }
    Line::from(spans)
}

pub fn chart(frame: &mut Frame, area: Rect, input: &Input<'_>) {
    let Input {
        snap,
        app,
        theme,
        key,
        source,
        series,
    } = *input;
    let st = &app.chart;
    let tf = st.timeframe;
    if area.height < 7 || area.width < 24 {
        super::note(frame, area, "enlarge the terminal to see the chart", theme);
        return;
    }
    let vol_rows = (area.height / 6).clamp(1, 6);
    let price_rows = area.height - 2 - vol_rows;
    let len = series.len();
    let newest = len - 1 - st.offset.min(len - 1);
    let dp = price_decimals(input);
    let axis_label = |p: f64| format::thousands(&format!("{:.*}", dp as usize, p));
    // The axis is as wide as the widest label of the newest candles.
    let axis_w = series
        .iter()
        .rev()
        .take(50)
        .map(|c| axis_label(f(c.high) * 1.02).chars().count())
        .max()
        .unwrap_or(8) as u16
        + 2;
    let plot_w = area.width.saturating_sub(axis_w).max(1);
    let cw = ZOOMS[st.zoom.min(ZOOMS.len() - 1)];
    let visible = usize::from((plot_w / cw).max(1)).min(newest + 1);
    let first = newest + 1 - visible;
    let candles: Vec<&Candle> = (first..=newest).filter_map(|i| series.get(i)).collect();
    let x_of = |k: usize| area.x + plot_w - (visible - k) as u16 * cw;
    let body_w = if cw == 1 { 1 } else { cw - 1 };
    let centre = |k: usize| x_of(k) + (body_w - 1) / 2;

    // The crosshair's candle (clamped into view), else the newest shown.
    let cross = st.crosshair.map(|at| {
        candles
            .iter()
            .position(|c| c.start >= at)
            .unwrap_or(visible - 1)
    });
    let read = cross.unwrap_or(visible - 1);
    if let Some(c) = candles.get(read) {
        let is_open = series.open.as_ref().is_some_and(|o| o.start == c.start);
        let line = readout(c, tf, dp, is_open, app, theme);
        super::super::lines(
            frame,
            Rect::new(area.x, area.y, area.width, 1),
            vec![line],
            theme,
        );
    }

    let vwap = session_vwap(series, newest);
    let (mut lo, mut hi) = candles
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
            (lo.min(f(c.low)), hi.max(f(c.high)))
        });
    if !(lo.is_finite() && hi.is_finite()) {
        return;
    }
    if hi - lo < hi.abs() * 1e-6 {
        let pad = (hi.abs() * 1e-4).max(1e-9);
        (lo, hi) = (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.02;
    let scale = Scale {
        lo: lo - pad,
        hi: hi + pad,
        rows: price_rows,
    };
    let top = area.y + 1;
    let vol_top = top + price_rows;
    let axis_y = vol_top + vol_rows;
    let hollow_up = !theme.bid_glyph.is_empty();
    let buf = frame.buffer_mut();

    if let Some(k) = cross {
        let bg = Style::default().bg(theme.selection_bg);
        for y in top..axis_y {
            for dx in 0..body_w {
                set(buf, x_of(k) + dx, y, " ", bg);
            }
        }
    }

    // Candles.
    for (k, c) in candles.iter().enumerate() {
        let up = c.is_up();
        let style = {
            let s = theme.fg(if up { theme.bid } else { theme.ask });
            if cross == Some(k) {
                s.bg(theme.selection_bg)
            } else {
                s
            }
        };
        let (body_lo, body_hi) = (
            scale.level(f(c.open.min(c.close))),
            scale.level(f(c.open.max(c.close))),
        );
        let (wick_lo, wick_hi) = (scale.level(f(c.low)), scale.level(f(c.high)));
        let full = if up && hollow_up { "║" } else { "█" };
        for row in scale.row(wick_hi)..=scale.row(wick_lo) {
            let lower = i32::from(price_rows - 1 - row) * 2;
            let upper = lower + 1;
            let body = |l: i32| (body_lo..=body_hi).contains(&l);
            let wick = |l: i32| (wick_lo..=wick_hi).contains(&l);
            let y = top + row;
            let (b_lo, b_up) = (body(lower), body(upper));
            let body_symbol = match (b_lo, b_up) {
                (true, true) => Some(full),
                _ if up && hollow_up && (b_lo || b_up) => Some(full),
                (false, true) => Some("▀"),
                (true, false) => Some("▄"),
                (false, false) => None,
            };
            match body_symbol {
                Some(s) => {
                    for dx in 0..body_w {
                        set(buf, x_of(k) + dx, y, s, style);
                    }
                }
                None => {
                    let s = match (wick(lower), wick(upper)) {
                        (true, true) => "│",
                        (false, true) => "╵",
                        (true, false) => "╷",
                        (false, false) => continue,
                    };
                    set(buf, centre(k), y, s, style);
                }
            }
        }
    }

    // Session VWAP, in the cells the candles leave free.
    let vwap_style = theme.fg(theme.highlight);
    for (k, v) in vwap[first..].iter().enumerate().take(visible) {
        let Some(v) = v else { continue };
        let y = top + scale.row(scale.level(f(*v)));
        for dx in 0..cw {
            let x = x_of(k) + dx;
            if x < area.x + plot_w && is_blank(buf, x, y) {
                set(buf, x, y, "·", vwap_style);
            }
        }
    }

    // Markers: liquidations (L longs, S shorts) of the base asset and large
    // trades (● bought, ○ sold) of this key, on the candle they fell in.
    let index_of = |t: Micros| {
        let start = tf.bucket(t);
        candles.binary_search_by_key(&start, |c| c.start).ok()
    };
    let venue_ok = |v| match source {
        CandleSource::Aggregate => true,
        CandleSource::Venue(sv, _) => sv == v,
    };
    let members: Vec<Instrument> = snap
        .instruments
        .iter()
        .find(|v| v.instrument == key)
        .map(|v| v.venues.iter().map(|b| b.instrument).collect())
        .unwrap_or_default();
    let bold = Modifier::BOLD;
    for l in snap
        .liquidations
        .tape
        .iter()
        .filter(|l| l.instrument.base == key.base && venue_ok(l.venue))
    {
        if let Some(k) = index_of(l.time) {
            let (s, colour) = match l.side {
                LiquidatedSide::Long => ("L", theme.ask),
                LiquidatedSide::Short => ("S", theme.bid),
            };
            let y = top + scale.row(scale.level(f(l.price)));
            set(buf, centre(k), y, s, theme.fg(colour).add_modifier(bold));
        }
    }
    for t in
        snap.trades.large.iter().filter(|t| {
            (t.instrument == key || members.contains(&t.instrument)) && venue_ok(t.venue)
        })
    {
        if let Some(k) = index_of(t.time) {
            let (s, colour) = match t.side {
                TakerSide::Buy => ("●", theme.bid),
                TakerSide::Sell => ("○", theme.ask),
            };
            let y = top + scale.row(scale.level(f(t.price)));
            set(buf, centre(k), y, s, theme.fg(colour).add_modifier(bold));
        }
    }

    // Volume bars, eighths of a row.
    let vmax = candles.iter().map(|c| f(c.volume)).fold(0.0, f64::max);
    if vmax > 0.0 {
        for (k, c) in candles.iter().enumerate() {
            let eighths = (f(c.volume) / vmax * f64::from(vol_rows) * 8.0).round() as u16;
            let colour: Color = if c.is_up() {
                theme.bid_dim
            } else {
                theme.ask_dim
            };
            let style = theme.fg(colour);
            for r in 0..vol_rows {
                let fill = eighths.saturating_sub(r * 8).min(8);
                if fill == 0 {
                    break;
                }
                let y = axis_y - 1 - r;
                for dx in 0..body_w {
                    set(buf, x_of(k) + dx, y, BARS[usize::from(fill - 1)], style);
                }
            }
        }
    }

    // Price axis: a label every third row, the last close highlighted.
    let axis_x = area.x + plot_w + 1;
    let label_w = axis_w.saturating_sub(1);
    let muted = theme.muted();
    let last = candles.last().map(|c| scale.row(scale.level(f(c.close))));
    for row in 0..price_rows {
        let text = if Some(row) == last {
            candles
                .last()
                .map(|c| (format::dec(c.close, dp), theme.fg(theme.highlight)))
        } else if row % 3 == 0 && last.is_none_or(|l| l.abs_diff(row) > 1) {
            Some((axis_label(scale.price_at(row)), muted))
        } else {
            None
        };
        if let Some((text, style)) = text {
            buf.set_stringn(axis_x, top + row, text, usize::from(label_w), style);
        }
    }
    if vmax > 0.0 {
        let v = Decimal::try_from(vmax)
            .unwrap_or_default()
            .round_dp(2)
            .normalize();
        buf.set_stringn(axis_x, vol_top, format!("{v}"), usize::from(label_w), muted);
    }

    // Time axis: labels on round candles, never overlapping.
    let every = (12 / cw).max(1) as i64;
    let mut free_from = area.x;
    for (k, c) in candles.iter().enumerate() {
        if (c.start / tf.micros()).rem_euclid(every) != 0 {
            continue;
        }
        let x = x_of(k);
        let text = time_label(c.start, tf, app);
        let w = text.chars().count() as u16;
        if x < free_from || x + w > area.x + plot_w {
            continue;
        }
        buf.set_stringn(x, axis_y, format!("╹{text}"), usize::from(w + 1), muted);
        free_from = x + w + 2;
    }
}
