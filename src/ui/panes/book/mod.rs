//! Book: the selected instrument's aggregated ladder (size per venue in the
//! venue's colour, cumulative depth bars) or one venue's own book (`v`), and a
//! depth chart when the terminal is wide enough.

mod chart;
mod ladder;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{framed, lines, note, selected_view, split_h, stack};
use crate::engine::Snapshot;
use crate::engine::snapshot::{AggLevel, InstrumentView, VenueBook};
use crate::model::{BookState, Venue};
use crate::ui::app::{App, BookMode};
use crate::ui::reach::Why;
use crate::ui::theme::Theme;

use chart::depth_chart;
use ladder::ladder;

/// Width from which the depth chart is shown beside the ladder.
pub const CHART_MIN_WIDTH: u16 = 120;

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
        super::wrapped_note(frame, ladder_area, text, theme);
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
        BookState::Polled => "polled over REST: its stream is unreachable".to_string(),
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
