//! Heatmap: the resting size of the selected instrument's aggregated book
//! (or one venue's) over the last minutes. Time runs left to right (newest
//! at the right edge), price bottom to top; a cell's colour and shade are
//! the mean resting size in its price rows over its time span, on a log
//! scale from the smallest to the largest cell in view (three decades at
//! most). Trades are
//! markers sized by notional (▵ ▴ ▲ buys, ▿ ▾ ▼ sells: shape tells the side
//! without colour) and the mid price is a line.
//!
//! Keys: `+`/`-` group more or fewer price buckets per row, `,`/`.` fewer
//! or more samples (250 ms each) per column, `v` cycles all venues → each
//! venue → all; `[`/`]` change the instrument.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{framed, lines, selected_view, stack, wrapped_note};
use crate::engine::Snapshot;
use crate::engine::heatmap::HeatmapView;
use crate::model::{Micros, TakerSide, Venue};
use crate::ui::app::App;
use crate::ui::format;
use crate::ui::keymap::Action;
use crate::ui::theme::Theme;

/// Price buckets per row (the engine's step is the heatmap's tick).
pub const GROUPS: [i64; 5] = [1, 2, 5, 10, 20];
/// Samples per column: 250 ms, 500 ms, 1 s, 2 s, 5 s, 10 s.
pub const SCALES: [usize; 6] = [1, 2, 4, 8, 20, 40];
/// Decades of resting size the colours span below the largest cell.
const DECADES: f64 = 3.0;
/// Shades from the least to the most resting size.
const RAMP: [&str; 4] = ["░", "▒", "▓", "█"];
/// Trade markers from small to large notional.
const BUY_MARKS: [&str; 3] = ["▵", "▴", "▲"];
const SELL_MARKS: [&str; 3] = ["▿", "▾", "▼"];

/// The pane's view state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeatmapPane {
    /// Index into [`GROUPS`].
    pub group: usize,
    /// Index into [`SCALES`].
    pub scale: usize,
    /// One venue's books only; `None`: every venue (aggregated).
    pub venue: Option<Venue>,
}

impl Default for HeatmapPane {
    fn default() -> Self {
        HeatmapPane {
            group: 0,
            scale: 2,
            venue: None,
        }
    }
}

impl HeatmapPane {
    /// The pane's own keys; `venues` are the selected instrument's.
    pub fn action(&mut self, action: Action, venues: &[Venue]) -> bool {
        match action {
            Action::HeatCoarser => self.group = (self.group + 1).min(GROUPS.len() - 1),
            Action::HeatFiner => self.group = self.group.saturating_sub(1),
            Action::HeatLonger => self.scale = (self.scale + 1).min(SCALES.len() - 1),
            Action::HeatShorter => self.scale = self.scale.saturating_sub(1),
            Action::HeatVenue => {
                self.venue = match self.venue {
                    None => venues.first().copied(),
                    Some(cur) => venues
                        .iter()
                        .position(|v| *v == cur)
                        .and_then(|i| venues.get(i + 1))
                        .copied(),
                };
            }
            _ => return false,
        }
        true
    }

    /// Forget a venue the instrument no longer has.
    pub fn keep_venue(&mut self, venues: &[Venue]) {
        if self.venue.is_some_and(|v| !venues.contains(&v)) {
            self.venue = None;
        }
    }
}

/// One cell: the mean resting size over its samples and the trades in it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cell {
    pub size: f64,
    /// Some sample recorded this price range (else nothing is known).
    pub covered: bool,
    pub buy: f64,
    pub sell: f64,
}

/// What the pane draws, before colours.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub rows: usize,
    pub cols: usize,
    /// Price group (`bucket / group`) of the top row; row `r` is `top - r`.
    pub top: i64,
    /// Buckets per row.
    pub group: i64,
    /// Row-major, `rows × cols`.
    pub cells: Vec<Cell>,
    /// The mid's row per column, if known and in view.
    pub mid_rows: Vec<Option<usize>>,
    /// The latest mid the grid is centred on.
    pub mid: Option<Decimal>,
    /// The smallest and largest positive cell sizes in view.
    pub min_size: f64,
    pub max_size: f64,
    pub max_notional: f64,
}

impl Grid {
    pub fn cell(&self, row: usize, col: usize) -> Cell {
        self.cells
            .get(row * self.cols + col)
            .copied()
            .unwrap_or_default()
    }
}

/// Bin the ring into `rows × cols` cells of `group` buckets and `scale`
/// samples, newest at the right, centred on the newest mid; only `venue`'s
/// books and trades when given.
pub fn grid(
    view: &HeatmapView,
    venue: Option<Venue>,
    group: i64,
    scale: usize,
    rows: usize,
    cols: usize,
) -> Grid {
    let group = group.max(1);
    let scale = scale.max(1);
    let mid_of = |levels: &crate::engine::heatmap::Levels| match venue {
        None => levels.mid,
        Some(v) => levels
            .venues
            .iter()
            .find(|e| e.venue == v)
            .and_then(|e| e.mid),
    };
    let mid = view.columns.iter().rev().find_map(|c| mid_of(&c.levels));
    let mut g = Grid {
        rows,
        cols,
        top: 0,
        group,
        cells: vec![Cell::default(); rows * cols],
        mid_rows: vec![None; cols],
        mid,
        min_size: 0.0,
        max_size: 0.0,
        max_notional: 0.0,
    };
    let Some(mid_group) = mid
        .and_then(|m| view.bucket_of(m))
        .map(|b| b.div_euclid(group))
    else {
        return g;
    };
    g.top = mid_group.saturating_add((rows / 2) as i64);
    let row_of = |bucket: i64| -> Option<usize> {
        let r = g.top.checked_sub(bucket.div_euclid(group))?;
        usize::try_from(r).ok().filter(|&r| r < rows)
    };
    let n = view.columns.len();
    let mut acc = vec![0.0f64; rows];
    let mut covered = vec![false; rows];
    for c in 0..cols {
        // Cell c spans ring columns [start, end).
        let from_right = cols - c;
        let Some(end) = n.checked_sub((from_right - 1) * scale) else {
            continue;
        };
        let start = end.saturating_sub(scale);
        if start == end {
            continue;
        }
        acc.iter_mut().for_each(|a| *a = 0.0);
        covered.iter_mut().for_each(|a| *a = false);
        let mut mid_row = None;
        for col in &view.columns[start..end] {
            let levels = &col.levels;
            for entry in &levels.venues {
                if venue.is_some_and(|v| v != entry.venue) {
                    continue;
                }
                if group == 1 {
                    add_ungrouped(&mut acc, &mut covered, g.top, levels.origin, entry);
                    continue;
                }
                // Consecutive buckets fall into consecutive groups: step
                // the group along instead of dividing for each bucket.
                let mut grp = levels.origin.div_euclid(group);
                let mut within = levels.origin.rem_euclid(group);
                for size in entry.sizes_f64() {
                    if let Some(r) = g
                        .top
                        .checked_sub(grp)
                        .and_then(|r| usize::try_from(r).ok())
                        .filter(|&r| r < rows)
                    {
                        acc[r] += size;
                        covered[r] = true;
                    }
                    within += 1;
                    if within == group {
                        within = 0;
                        grp = grp.saturating_add(1);
                    }
                }
            }
            if let Some(m) = mid_of(levels) {
                mid_row = view.bucket_of(m).and_then(row_of);
            }
            for mark in &col.marks {
                if venue.is_some_and(|v| v != mark.venue) {
                    continue;
                }
                let Some(r) = view.bucket_of(mark.price).and_then(row_of) else {
                    continue;
                };
                let notional = mark.notional.to_f64().unwrap_or(0.0);
                let cell = &mut g.cells[r * cols + c];
                match mark.side {
                    TakerSide::Buy => cell.buy += notional,
                    TakerSide::Sell => cell.sell += notional,
                }
            }
        }
        g.mid_rows[c] = mid_row;
        let samples = (end - start) as f64;
        for r in 0..rows {
            let cell = &mut g.cells[r * cols + c];
            cell.size = acc[r] / samples;
            cell.covered = covered[r];
            g.max_size = g.max_size.max(cell.size);
            if cell.size > 0.0 && (g.min_size == 0.0 || cell.size < g.min_size) {
                g.min_size = cell.size;
            }
            g.max_notional = g.max_notional.max(cell.buy).max(cell.sell);
        }
    }
    g
}

/// One venue's buckets into the rows of an ungrouped grid (a row per
/// bucket, `top` the highest): bucket `i` is row `top - origin - i`, so the
/// rows in view are one run, added without a division or a bounds test per
/// bucket (most of a frame's work: every sample × venue × bucket in view).
fn add_ungrouped(
    acc: &mut [f64],
    covered: &mut [bool],
    top: i64,
    origin: i64,
    entry: &crate::engine::heatmap::VenueLevels,
) {
    let rows = acc.len() as i64;
    let n = entry.len() as i64;
    // Row of bucket 0; bucket i is in view when 0 <= first - i < rows.
    let Some(first) = top.checked_sub(origin) else {
        return;
    };
    let lo = first.saturating_sub(rows - 1).max(0);
    let hi = first.saturating_add(1).min(n);
    if lo >= hi {
        return;
    }
    let (lo, hi) = (lo as usize, hi as usize);
    // Rows first - hi + 1 ..= first - lo, highest bucket in the first row.
    let row_lo = (first - hi as i64 + 1) as usize;
    let row_hi = (first - lo as i64) as usize;
    let dest = acc[row_lo..=row_hi].iter_mut().rev();
    for (a, size) in dest.zip(entry.sizes_f64().skip(lo).take(hi - lo)) {
        *a += size;
    }
    covered[row_lo..=row_hi].fill(true);
}

/// Log intensity in `0..=1` over the sizes in view: just above 0 at `min`
/// (but at most [`DECADES`] below `max`), 1 at `max`; 0 for nothing.
pub fn intensity(size: f64, min: f64, max: f64) -> f64 {
    Intensity::new(min, max).of(size)
}

/// [`intensity`] with the scale worked out once for a whole grid (a
/// 200×60 frame asks for it 11,000 times).
#[derive(Clone, Copy, Debug)]
pub struct Intensity {
    max: f64,
    log_floor: f64,
    /// Decades from the floor to `max`; 0 when they are one value.
    range: f64,
}

impl Intensity {
    pub fn new(min: f64, max: f64) -> Self {
        let floor = min.max(max / 10f64.powf(DECADES));
        Intensity {
            max,
            log_floor: floor.log10(),
            range: (max / floor).log10(),
        }
    }

    pub fn of(&self, size: f64) -> f64 {
        if size <= 0.0 || self.max <= 0.0 || !size.is_finite() {
            return 0.0;
        }
        if self.range.is_nan() || self.range <= 0.0 {
            return 1.0;
        }
        ((size.log10() - self.log_floor) / self.range).clamp(1e-6, 1.0)
    }
}

/// A trade marker: the larger side's shape, sized by its share of the
/// largest trade cell in view.
pub fn marker(cell: &Cell, max: f64) -> Option<(&'static str, TakerSide)> {
    let (notional, side, marks) = if cell.buy >= cell.sell {
        (cell.buy, TakerSide::Buy, BUY_MARKS)
    } else {
        (cell.sell, TakerSide::Sell, SELL_MARKS)
    };
    if notional <= 0.0 || max <= 0.0 {
        return None;
    }
    let share = notional / max;
    let tier = if share >= 0.5 {
        2
    } else if share >= 0.1 {
        1
    } else {
        0
    };
    Some((marks[tier], side))
}

pub fn render(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let state = &app.heatmap;
    let Some(view) = selected_view(snap, app) else {
        let inner = framed(frame, area, "Heatmap", theme);
        wrapped_note(frame, inner, "no instruments".to_string(), theme);
        return;
    };
    let group = GROUPS[state.group.min(GROUPS.len() - 1)];
    let scale = SCALES[state.scale.min(SCALES.len() - 1)];
    let heat = snap.heatmaps.get(&view.instrument);
    let venue_name = state
        .venue
        .map_or("all venues".to_string(), |v| v.to_string());
    let row_price = heat.and_then(|h| h.step.checked_mul(Decimal::from(group)));
    let per_row = match (heat, row_price) {
        (Some(h), Some(p)) if group > 1 => {
            format!(
                " · {} a row ({} × {group})",
                p.normalize(),
                h.step.normalize()
            )
        }
        (Some(_), Some(p)) => format!(" · {} a row", p.normalize()),
        _ => String::new(),
    };
    let per_col = heat.map_or(String::new(), |h| {
        format!(
            " · {} a column",
            span(h.sample_every.saturating_mul(scale as i64))
        )
    });
    let title = format!("Heatmap · {} · {venue_name}{per_row}{per_col}", view.label);
    let inner = framed(frame, area, title, theme);
    let Some(heat) = heat else {
        wrapped_note(
            frame,
            inner,
            format!(
                "no heatmap for {} yet: a column is sampled every 250 ms once a venue's book is live",
                view.label
            ),
            theme,
        );
        return;
    };
    if inner.height < 4 || inner.width < 20 {
        return;
    }
    let parts = stack(inner, &[1, inner.height - 2]);
    let (legend_area, body, axis) = (parts[0], parts[1], parts[2]);
    let rows = body.height as usize;
    let dp = heat.step.normalize().scale();
    let label = |g: i64| {
        Decimal::from(g)
            .checked_mul(Decimal::from(group))
            .and_then(|b| heat.price_of(b.to_i64()?))
            .map_or_else(String::new, |p| format::dec(p, dp))
    };
    // The top row's group only depends on the rows, not the width.
    let top = grid(heat, state.venue, group, scale, rows, 0).top;
    let label_w = (0..rows as i64)
        .map(|r| label(top - r).chars().count())
        .max()
        .unwrap_or(0) as u16
        + 1;
    let grid_w = body.width.saturating_sub(label_w) as usize;
    let g = grid(heat, state.venue, group, scale, rows, grid_w);
    lines(
        frame,
        legend_area,
        vec![legend(&g, heat, view, theme)],
        theme,
    );
    if g.mid.is_none() {
        let what = state
            .venue
            .map_or("no live book".to_string(), |v| format!("no live {v} book"));
        let area = Rect::new(body.x, body.y, body.width, 1);
        wrapped_note(frame, area, format!("{what} in the last 10 minutes"), theme);
        return;
    }
    let mid_row = g
        .mid
        .and_then(|m| heat.bucket_of(m))
        .map(|b| g.top.saturating_sub(b.div_euclid(group)));
    // Price axis: every row when there is room, else every other group.
    let every = if rows > 24 { 2 } else { 1 };
    let buf = frame.buffer_mut();
    let heat_scale = Intensity::new(g.min_size, g.max_size);
    for r in 0..rows {
        let y = body.y + r as u16;
        let grp = g.top - r as i64;
        let is_mid = mid_row == Some(r as i64);
        if is_mid || grp.rem_euclid(every) == 0 {
            let text = format!("{:>w$} ", label(grp), w = label_w as usize - 1);
            let style = if is_mid {
                Style::default()
                    .fg(theme.heat_mid)
                    .add_modifier(Modifier::BOLD)
            } else {
                theme.muted()
            };
            buf.set_stringn(body.x, y, text, label_w as usize, style);
        }
        for c in 0..grid_w {
            let x = body.x + label_w + c as u16;
            let cell = g.cell(r, c);
            let t = heat_scale.of(cell.size);
            let bg = if t > 0.0 {
                theme.heat(t)
            } else {
                theme.background
            };
            let (symbol, style) = if let Some((m, side)) = marker(&cell, g.max_notional) {
                let fg = match side {
                    TakerSide::Buy => theme.heat_buy,
                    TakerSide::Sell => theme.heat_sell,
                };
                (
                    m,
                    Style::default().fg(fg).bg(bg).add_modifier(Modifier::BOLD),
                )
            } else if g.mid_rows[c] == Some(r) {
                ("─", Style::default().fg(theme.heat_mid).bg(bg))
            } else if t > 0.0 {
                let shade = ((t * RAMP.len() as f64).ceil() as usize).clamp(1, RAMP.len()) - 1;
                (
                    RAMP[shade],
                    Style::default().fg(theme.heat(t)).bg(theme.background),
                )
            } else {
                (" ", theme.base())
            };
            if let Some(cell) = buf.cell_mut((x, y)) {
                cell.set_symbol(symbol).set_style(style);
            }
        }
    }
    time_axis(
        frame,
        Rect::new(
            axis.x + label_w,
            axis.y,
            axis.width.saturating_sub(label_w),
            1,
        ),
        heat.sample_every.saturating_mul(scale as i64),
        theme,
    );
}

/// One line: what the shades, markers and line mean, with the figures.
fn legend(
    g: &Grid,
    heat: &HeatmapView,
    view: &crate::engine::snapshot::InstrumentView,
    theme: &Theme,
) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, s) in RAMP.iter().enumerate() {
        let t = (i + 1) as f64 / RAMP.len() as f64;
        spans.push(Span::styled(*s, Style::default().fg(theme.heat(t))));
    }
    let base = view.instrument.base.to_string();
    let quote = view.instrument.quote.to_string();
    spans.push(Span::styled(
        format!(" size ≤ {} {base}", compact(g.max_size)),
        theme.muted(),
    ));
    spans.push(Span::styled("  ", theme.muted()));
    spans.push(Span::styled(BUY_MARKS[2], theme.fg(theme.heat_buy)));
    spans.push(Span::styled(" buy ", theme.muted()));
    spans.push(Span::styled(SELL_MARKS[2], theme.fg(theme.heat_sell)));
    // Marks scale to the largest trade in view; with none yet there is no
    // scale to give.
    let marks = if g.max_notional > 0.0 {
        format!(" sell ≤ {} {quote}", compact(g.max_notional))
    } else {
        " sell (no trades in view)".to_string()
    };
    spans.push(Span::styled(marks, theme.muted()));
    spans.push(Span::styled("  ─", theme.fg(theme.heat_mid)));
    let dp = heat.step.normalize().scale() + 1;
    let mid = g.mid.map_or("—".to_string(), |m| format::dec(m, dp.min(8)));
    spans.push(Span::styled(format!(" mid {mid}"), theme.muted()));
    Line::from(spans)
}

/// Relative time labels under the grid, newest (`now`) at the right.
fn time_axis(frame: &mut Frame, area: Rect, per_col: Micros, theme: &Theme) {
    const SEC: Micros = 1_000_000;
    let width = area.width as i64;
    if width <= 0 || per_col <= 0 {
        return;
    }
    // The shortest round interval that leaves room for a label.
    let every = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1_200]
        .into_iter()
        .map(|s| s * SEC)
        .find(|&iv| iv % per_col == 0 && iv / per_col >= 10)
        .unwrap_or(600 * SEC);
    let cols_per_tick = (every / per_col).max(1);
    let mut text = vec![' '; area.width as usize];
    let mut k = 0;
    loop {
        let from_right = k * cols_per_tick;
        if from_right >= width {
            break;
        }
        let label = if k == 0 {
            "now".to_string()
        } else {
            format!("-{}", span(from_right * per_col))
        };
        let label: Vec<char> = format!("{label}┘").chars().collect();
        let end = width - from_right; // one past the tick's column
        let start = end - label.len() as i64;
        if start >= 0 {
            for (i, ch) in label.iter().enumerate() {
                text[(start as usize) + i] = *ch;
            }
        }
        k += 1;
    }
    let s: String = text.into_iter().collect();
    lines(
        frame,
        area,
        vec![Line::from(Span::styled(s, theme.muted()))],
        theme,
    );
}

/// `250ms`, `1s`, `30s`, `1m`, `1m30s`, `10m`.
fn span(us: Micros) -> String {
    let ms = us / 1_000;
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let s = ms / 1_000;
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s:02}s"),
    }
}

/// Three significant figures with k/M/B (display-only statistics).
fn compact(x: f64) -> String {
    let a = x.abs();
    let (v, unit) = if a >= 1e9 {
        (x / 1e9, "B")
    } else if a >= 1e6 {
        (x / 1e6, "M")
    } else if a >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{unit}")
}

#[cfg(test)]
mod tests;
