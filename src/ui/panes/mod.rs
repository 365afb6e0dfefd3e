//! One module per pane, each a `render` function over the snapshot. The
//! [`PANES`] table is the single list of panes: tab order, number keys and
//! titles all come from it, so adding a pane is one line here.

pub mod alerts;
pub mod arbitrage;
pub mod book;
pub mod chart;
pub mod derivatives;
pub mod health;
pub mod heatmap;
pub mod liquidations;
pub mod logs;
pub mod overview;
pub mod trades;
pub mod watchlist;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::app::App;
use super::theme::Theme;
use crate::engine::Snapshot;
use crate::engine::snapshot::InstrumentView;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum PaneId {
    Overview,
    Book,
    Arbitrage,
    Liquidations,
    Trades,
    Health,
    Logs,
    Watchlist,
    Derivatives,
    Alerts,
    Chart,
    Heatmap,
}

pub type RenderFn = fn(&mut Frame, Rect, &Snapshot, &App, &Theme);

pub struct PaneSpec {
    pub id: PaneId,
    pub title: &'static str,
    /// For narrow tab lines: short, but still reads as the name.
    pub short: &'static str,
    pub render: RenderFn,
}

/// Tab order; the number key of a pane is its position + 1.
pub const PANES: &[PaneSpec] = &[
    PaneSpec {
        id: PaneId::Overview,
        title: "Overview",
        short: "Ovw",
        render: overview::render,
    },
    PaneSpec {
        id: PaneId::Book,
        title: "Book",
        short: "Book",
        render: book::render,
    },
    PaneSpec {
        id: PaneId::Arbitrage,
        title: "Arbitrage",
        short: "Arb",
        render: arbitrage::render,
    },
    PaneSpec {
        id: PaneId::Liquidations,
        title: "Liquidations",
        short: "Liq",
        render: liquidations::render,
    },
    PaneSpec {
        id: PaneId::Trades,
        title: "Trades",
        short: "Trd",
        render: trades::render,
    },
    PaneSpec {
        id: PaneId::Health,
        title: "Health",
        short: "Hlth",
        render: health::render,
    },
    PaneSpec {
        id: PaneId::Logs,
        title: "Logs",
        short: "Logs",
        render: logs::render,
    },
    PaneSpec {
        id: PaneId::Watchlist,
        title: "Watchlist",
        short: "Watch",
        render: watchlist::render,
    },
    PaneSpec {
        id: PaneId::Derivatives,
        title: "Derivatives",
        short: "Deriv",
        render: derivatives::render,
    },
    PaneSpec {
        id: PaneId::Alerts,
        title: "Alerts",
        short: "Alrt",
        render: alerts::render,
    },
    PaneSpec {
        id: PaneId::Chart,
        title: "Chart",
        short: "Chrt",
        render: chart::render,
    },
    PaneSpec {
        id: PaneId::Heatmap,
        title: "Heatmap",
        short: "Heat",
        render: heatmap::render,
    },
];

/// A bordered block with a styled title.
pub fn block<'a>(title: impl Into<String>, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(format!(" {} ", title.into()), theme.title()))
        .style(theme.base())
}

/// Renders a bordered block and returns its inner area.
pub fn framed(frame: &mut Frame, area: Rect, title: impl Into<String>, theme: &Theme) -> Rect {
    let b = block(title, theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    inner
}

/// Renders lines into an area (clipped, no wrapping).
pub fn lines(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>, theme: &Theme) {
    frame.render_widget(Paragraph::new(lines).style(theme.base()), area);
}

/// A one-line muted note, e.g. "no data yet".
pub fn note(frame: &mut Frame, area: Rect, text: &str, theme: &Theme) {
    lines(
        frame,
        area,
        vec![Line::from(Span::styled(text.to_string(), theme.muted()))],
        theme,
    );
}

/// A muted note wrapped at word boundaries, for areas that may be narrow.
pub fn wrapped_note(frame: &mut Frame, area: Rect, text: String, theme: &Theme) {
    use ratatui::widgets::{Paragraph, Wrap};
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(text, theme.muted())))
            .style(theme.base())
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// The selected instrument's view (first instrument when none selected).
pub fn selected_view<'a>(snap: &'a Snapshot, app: &App) -> Option<&'a InstrumentView> {
    app.selected
        .and_then(|s| snap.instruments.iter().find(|v| v.instrument == s))
        .or_else(|| snap.instruments.first())
}

/// Bid-side text: bid colour plus the theme's glyph (for colour-blind users).
pub fn bid_span(text: String, theme: &Theme) -> Span<'static> {
    side_span(text, &theme.bid_glyph, theme.bid)
}

pub fn ask_span(text: String, theme: &Theme) -> Span<'static> {
    side_span(text, &theme.ask_glyph, theme.ask)
}

fn side_span(text: String, glyph: &str, colour: Color) -> Span<'static> {
    let content = if glyph.is_empty() {
        text
    } else {
        format!("{glyph}{text}")
    };
    Span::styled(content, Style::default().fg(colour))
}

/// Highlights a row (cursor) by giving every span the selection background.
pub fn highlight(line: Line<'static>, theme: &Theme) -> Line<'static> {
    let spans = line
        .spans
        .into_iter()
        .map(|s| {
            let style = s.style.bg(theme.selection_bg);
            Span::styled(s.content, style)
        })
        .collect::<Vec<_>>();
    Line::from(spans).style(Style::default().bg(theme.selection_bg))
}

pub fn bold(style: Style) -> Style {
    style.add_modifier(Modifier::BOLD)
}

/// Whether an instrument key passes the app's `/` filter.
pub fn visible(app: &App, label: &str) -> bool {
    app.matches_filter(label)
}

/// Splits `area` into rows of the given heights from the top; the last gets
/// the rest. Heights beyond the area are clipped, never negative.
pub fn stack(area: Rect, heights: &[u16]) -> Vec<Rect> {
    let mut out = Vec::with_capacity(heights.len() + 1);
    let mut y = area.y;
    let bottom = area.y.saturating_add(area.height);
    for h in heights {
        let h = (*h).min(bottom.saturating_sub(y));
        out.push(Rect::new(area.x, y, area.width, h));
        y += h;
    }
    out.push(Rect::new(area.x, y, area.width, bottom.saturating_sub(y)));
    out
}

/// Splits `area` into a left part of `left` columns and the rest.
pub fn split_h(area: Rect, left: u16) -> (Rect, Rect) {
    let left = left.min(area.width);
    (
        Rect::new(area.x, area.y, left, area.height),
        Rect::new(area.x + left, area.y, area.width - left, area.height),
    )
}

/// The line above rows paged back from the store (Arbitrage, Liquidations).
pub fn history_separator(theme: &Theme) -> Line<'static> {
    Line::from(Span::styled("— history (store) —", theme.muted()))
}

/// A row of a list that pages into the store (live or stored), or the
/// line drawn in its place (the separator, what paging says).
pub fn history_row<'a, T>(
    entry: &crate::ui::history::Entry<'a, T>,
    theme: &Theme,
) -> Result<&'a T, Line<'static>> {
    use crate::ui::history::Entry;
    match entry {
        Entry::Live(r) | Entry::Stored(r) => Ok(*r),
        Entry::Separator => Err(history_separator(theme)),
        Entry::Note(n) => Err(Line::from(Span::styled(n.clone(), theme.muted()))),
    }
}
