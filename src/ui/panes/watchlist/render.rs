//! Drawing the watchlist: the grid of instruments by venue, the selected
//! cell in words, the footer and legend, and the add box.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{AddLine, Mode, Shown, WatchPane, WatchlistInfo};
use crate::config::listings;
use crate::engine::Snapshot;
use crate::model::{BookState, OutOfSyncReason, Venue};
use crate::ui::app::App;
use crate::ui::panes::{PaneId, framed, highlight, lines, stack};
use crate::ui::reach::{Reach, health_pointer, venue_reach};
use crate::ui::table::{Align, pad};
use crate::ui::theme::Theme;

/// What a venue column says for one instrument.
enum Cell<'a> {
    /// The venue does not trade this kind of instrument.
    Unsupported,
    Off,
    /// Watched, but the snapshot has no book for it; what the venue's
    /// connections say.
    NotCarried(Reach),
    /// Replay: the captures hold no book of it there.
    Absent,
    Book(&'a BookState),
}

impl Cell<'_> {
    /// The cell's words; `compact` for narrow columns.
    fn text(&self, compact: bool) -> String {
        if compact {
            return match self {
                Cell::Unsupported | Cell::Absent => "—".to_string(),
                Cell::Off => "○ off".to_string(),
                Cell::NotCarried(r) if r.is_failure() => "✗ down".to_string(),
                Cell::NotCarried(Reach::Starting | Reach::Connecting) => "◌ conn".to_string(),
                Cell::NotCarried(_) => "· none".to_string(),
                Cell::Book(BookState::Live) => "● live".to_string(),
                Cell::Book(BookState::Polled) => "◐ poll".to_string(),
                Cell::Book(BookState::Syncing) => "◌ sync".to_string(),
                Cell::Book(BookState::OutOfSync(why)) => format!("✗ {}", short(why)),
            };
        }
        match self {
            Cell::Unsupported | Cell::Absent => "—".to_string(),
            Cell::Off => "○ off".to_string(),
            Cell::NotCarried(r @ (Reach::Unreachable { .. } | Reach::Partial { .. })) => {
                format!("✗ {}", r.state_word())
            }
            Cell::NotCarried(Reach::Starting | Reach::Connecting) => "◌ connecting".to_string(),
            Cell::NotCarried(_) => "· no book yet".to_string(),
            Cell::Book(BookState::Live) => "● live".to_string(),
            Cell::Book(BookState::Polled) => "◐ polled".to_string(),
            Cell::Book(BookState::Syncing) => "◌ syncing".to_string(),
            Cell::Book(BookState::OutOfSync(OutOfSyncReason::Stale)) => "✗ stale".to_string(),
            Cell::Book(BookState::OutOfSync(why)) => format!("✗ out of sync ({})", short(why)),
        }
    }

    /// The full sentence for the detail line; `health` points at the pane.
    fn detail(&self, health: &str) -> String {
        match self {
            Cell::Unsupported => "depthwatch does not watch this kind of instrument there".into(),
            Cell::Absent => "no book of it in the captures".into(),
            Cell::Off => "off (Space turns it on)".into(),
            Cell::NotCarried(r) if r.is_failure() => {
                format!("{}: {} — see {health}", r.state_word(), r.detail())
            }
            Cell::NotCarried(Reach::Up) => {
                "connected, but no book yet: on its way, or the venue does not list it".into()
            }
            Cell::NotCarried(r) => format!("watched, no book yet: {}", r.detail()),
            Cell::Book(BookState::Live) => "live".into(),
            Cell::Book(BookState::Polled) => {
                format!("polled over REST: the stream is unreachable — see {health}")
            }
            Cell::Book(BookState::Syncing) => "syncing: waiting for a snapshot".into(),
            Cell::Book(BookState::OutOfSync(why)) => format!("out of sync: {why}"),
        }
    }

    fn style(&self, theme: &Theme) -> Style {
        match self {
            Cell::Unsupported | Cell::Absent | Cell::Off => theme.muted(),
            Cell::NotCarried(r) if r.is_failure() => theme.fg(theme.error),
            Cell::NotCarried(_) => theme.fg(theme.warning),
            Cell::Book(BookState::Live) => theme.fg(theme.ok),
            Cell::Book(BookState::Polled) => theme.fg(theme.warning),
            Cell::Book(BookState::Syncing) => theme.fg(theme.warning),
            Cell::Book(BookState::OutOfSync(OutOfSyncReason::Stale)) => theme.fg(theme.stale),
            Cell::Book(BookState::OutOfSync(_)) => theme.fg(theme.error),
        }
    }
}

fn short(why: &OutOfSyncReason) -> String {
    match why {
        OutOfSyncReason::Gap { .. } => "gap".into(),
        OutOfSyncReason::ChecksumMismatch { .. } => "checksum".into(),
        OutOfSyncReason::Disconnected => "disconnected".into(),
        OutOfSyncReason::Stale => "stale".into(),
        OutOfSyncReason::Crossed => "crossed".into(),
        OutOfSyncReason::Venue(w) => w.clone(),
    }
}

fn cell<'a>(snap: &'a Snapshot, row: &Shown, venue: Venue, live: bool) -> Cell<'a> {
    if live && !listings::carries(venue, &row.instrument) {
        return Cell::Unsupported;
    }
    if !row.watched_on.contains(&venue) {
        // Not watched here: switched off by the user, or simply not listed
        // by this venue (then "off" would suggest Space could turn it on).
        return match live {
            true if !listings::probably_lists(venue, &row.instrument) => Cell::Unsupported,
            true => Cell::Off,
            false => Cell::Absent,
        };
    }
    snap.instruments
        .iter()
        .flat_map(|v| &v.venues)
        .find(|b| b.venue == venue && b.instrument == row.instrument)
        .map_or_else(
            || Cell::NotCarried(venue_reach(&snap.health, venue)),
            |b| Cell::Book(&b.state),
        )
}

pub fn render(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let pane = &app.watch;
    let rows = pane.shown(snap);
    let columns = pane.columns(&rows);
    let cursor = app
        .cursor(PaneId::Watchlist)
        .min(rows.len().saturating_sub(1));
    let venue_cursor = pane.venue_cursor.min(columns.len().saturating_sub(1));
    let title = match &pane.info {
        Some(_) => format!("Watchlist · {} instruments", rows.len()),
        None => format!(
            "Watchlist · {} instruments in the replay (read only)",
            rows.len()
        ),
    };
    let bottom_h = match &pane.mode {
        Mode::Adding(line) => {
            (line.candidates.len() as u16 + 4 + u16::from(line.error.is_some())).max(5)
        }
        _ => 0,
    };
    let parts = stack(area, &[area.height.saturating_sub(bottom_h)]);
    let inner = framed(frame, parts[0], title, theme);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    // The table, then a blank line, the selected cell in words and a footer
    // (dropped first when short of room).
    let footer_h: u16 = if inner.height >= 7 { 4 } else { 0 };
    let header_h = 1 + u16::from(staggered(
        &columns,
        cell_width(inner.width, &rows, &columns),
    ));
    let table_h = (rows.len().max(1) as u16 + header_h).min(inner.height - footer_h);
    let table = stack(inner, &[table_h]);
    grid(
        frame,
        table[0],
        snap,
        &rows,
        &columns,
        (cursor, venue_cursor),
        pane,
        theme,
    );
    if footer_h > 0 {
        let mut foot = vec![Line::from("")];
        foot.push(detail_line(
            snap,
            &rows,
            &columns,
            (cursor, venue_cursor),
            pane,
            &health_pointer(app),
            theme,
        ));
        foot.push(footer_line(pane, theme));
        foot.push(legend(theme));
        // Long paths and sentences wrap at words rather than being cut,
        // continuation lines indented like the first.
        let foot: Vec<Line<'static>> = foot.into_iter().map(unindent).collect();
        let area = table[1];
        let inset = Rect::new(
            area.x + 1,
            area.y,
            area.width.saturating_sub(1),
            area.height,
        );
        frame.render_widget(
            Paragraph::new(foot)
                .style(theme.base())
                .wrap(Wrap { trim: true }),
            inset,
        );
    }
    if let (Mode::Adding(line), Some(area)) = (&pane.mode, parts.get(1))
        && area.height > 0
    {
        add_box(frame, *area, line, theme);
    }
}

/// The line without its one leading space (the area is inset instead).
fn unindent(mut line: Line<'static>) -> Line<'static> {
    if let Some(first) = line.spans.first_mut()
        && let Some(rest) = first.content.strip_prefix(' ')
    {
        first.content = rest.to_string().into();
    }
    line
}

/// Width of one venue column, its gap included (the last column needs no
/// gap after it).
fn cell_width(width: u16, rows: &[Shown], columns: &[Venue]) -> usize {
    let avail = (width as usize).saturating_sub(name_width(rows));
    if columns.is_empty() {
        0
    } else {
        ((avail + 1) / columns.len()).clamp(1, 26)
    }
}

/// Whether some venue name is longer than its column (then the header
/// takes two lines).
fn staggered(columns: &[Venue], cell_w: usize) -> bool {
    cell_w > 1
        && columns
            .iter()
            .any(|v| v.as_str().chars().count() > cell_w - 1)
}

/// Width of the instrument column, marker included.
fn name_width(rows: &[Shown]) -> usize {
    rows.iter()
        .map(|r| r.instrument.to_string().chars().count())
        .max()
        .unwrap_or(10)
        .max(10)
        + 3
}

#[allow(clippy::too_many_arguments)]
fn grid(
    frame: &mut Frame,
    area: Rect,
    snap: &Snapshot,
    rows: &[Shown],
    columns: &[Venue],
    (cursor, venue_cursor): (usize, usize),
    pane: &WatchPane,
    theme: &Theme,
) {
    if area.height == 0 {
        return;
    }
    let live = pane.info.is_some();
    let name_w = name_width(rows);
    let cell_w = cell_width(area.width, rows, columns);
    let stagger = staggered(columns, cell_w);
    let mut out = Vec::new();
    // Venue names too long for their column alternate between two header
    // lines, each with two columns of room, rather than being cut.
    for line in 0..1 + usize::from(stagger) {
        let title = if line == 0 { "  Instrument" } else { "" };
        let mut header = vec![pad(
            Span::styled(title, theme.header()),
            name_w,
            Align::Left,
        )];
        let room = if stagger {
            2 * cell_w - 1
        } else {
            cell_w.saturating_sub(1)
        };
        let mut used = 0;
        for (c, v) in columns.iter().enumerate() {
            if stagger && c % 2 != line {
                continue;
            }
            let mut style = theme.fg(theme.venue(*v)).add_modifier(Modifier::BOLD);
            if c == venue_cursor && live {
                style = style.add_modifier(Modifier::UNDERLINED);
            }
            let name = pad(Span::raw(v.as_str()), room, Align::Left);
            let name = name.content.trim_end().to_string();
            // A name running past the right edge moves left to end there.
            let right = (area.width as usize).saturating_sub(name_w);
            let at = (c * cell_w)
                .min(right.saturating_sub(name.chars().count()))
                .max(used + usize::from(used > 0));
            header.push(Span::raw(" ".repeat(at.saturating_sub(used))));
            used = at + name.chars().count();
            header.push(Span::styled(name, style));
        }
        out.push(Line::from(header));
    }
    if rows.is_empty() {
        let text = if live {
            "  nothing watched: a adds an instrument"
        } else {
            "  no books yet"
        };
        out.push(Line::from(Span::styled(text, theme.muted())));
    }
    let (start, end) = crate::ui::table::window(
        rows.len(),
        cursor,
        (area.height as usize).saturating_sub(out.len()),
    );
    for (r, row) in rows.iter().enumerate().take(end).skip(start) {
        let selected = r == cursor;
        let marker = if selected { "▸ " } else { "  " };
        let mut spans = vec![pad(
            Span::styled(format!("{marker}{}", row.instrument), theme.fg(theme.text)),
            name_w,
            Align::Left,
        )];
        for (c, v) in columns.iter().enumerate() {
            let cell = cell(snap, row, *v, live);
            let full = cell.text(false);
            let text = if full.chars().count() < cell_w {
                full
            } else {
                cell.text(true)
            };
            let mut style = cell.style(theme);
            if selected && c == venue_cursor && live {
                style = style.add_modifier(Modifier::REVERSED);
            }
            // Leave one column of air between cells.
            let shown = pad(Span::raw(text), cell_w.saturating_sub(1), Align::Left);
            spans.push(Span::styled(shown.content, style));
            spans.push(Span::raw(if cell_w > 1 { " " } else { "" }));
        }
        let line = Line::from(spans);
        out.push(if selected {
            highlight(line, theme)
        } else {
            line
        });
    }
    lines(frame, area, out, theme);
}

fn detail_line(
    snap: &Snapshot,
    rows: &[Shown],
    columns: &[Venue],
    (cursor, venue_cursor): (usize, usize),
    pane: &WatchPane,
    health: &str,
    theme: &Theme,
) -> Line<'static> {
    if let Mode::ConfirmRemove(i) = &pane.mode {
        return Line::from(vec![
            Span::styled(
                format!(" Remove {i} from the watchlist? "),
                theme.fg(theme.warning).add_modifier(Modifier::BOLD),
            ),
            Span::styled("y", theme.fg(theme.highlight).add_modifier(Modifier::BOLD)),
            Span::styled(" yes · any other key keeps it", theme.muted()),
        ]);
    }
    let (Some(row), Some(venue)) = (rows.get(cursor), columns.get(venue_cursor)) else {
        return Line::from("");
    };
    let cell = cell(snap, row, *venue, pane.info.is_some());
    Line::from(vec![
        Span::styled(
            format!(" {venue}"),
            theme.fg(theme.venue(*venue)).add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!(" · {}: ", row.instrument), theme.fg(theme.text)),
        Span::styled(cell.detail(health), cell.style(theme)),
    ])
}

fn footer_line(pane: &WatchPane, theme: &Theme) -> Line<'static> {
    let text = match &pane.info {
        None => " Replay: the instruments come from the capture files. The watchlist is \
                 edited in live mode (depthwatch, depthwatch --demo --config FILE)."
            .to_string(),
        Some(WatchlistInfo {
            read_only: Some(why),
            ..
        }) => format!(" {why}"),
        Some(info) => match &info.config_path {
            Some(p) => format!(" Edits go to {} (comments kept).", p.display()),
            None => " No config file location on this system: edits cannot be saved.".into(),
        },
    };
    Line::from(Span::styled(text, theme.muted()))
}

fn legend(theme: &Theme) -> Line<'static> {
    let states = [
        Cell::Book(&BookState::Live),
        Cell::Book(&BookState::Syncing),
        Cell::Book(&BookState::OutOfSync(OutOfSyncReason::Crossed)),
        Cell::NotCarried(Reach::Up),
        Cell::Off,
        Cell::Unsupported,
    ];
    let words = [
        "live",
        "syncing",
        "out of sync / stale / down",
        "no book",
        "off",
        "n/a",
    ];
    let mut spans = vec![Span::raw(" ")];
    for (cell, word) in states.iter().zip(words) {
        let glyph: String = cell.text(true).chars().take(1).collect();
        spans.push(Span::styled(glyph, cell.style(theme)));
        spans.push(Span::styled(format!(" {word}  "), theme.muted()));
    }
    Line::from(spans)
}

fn add_box(frame: &mut Frame, area: Rect, line: &AddLine, theme: &Theme) {
    let inner = framed(frame, area, "Add instrument", theme);
    let key =
        |k: &'static str| Span::styled(k, theme.fg(theme.highlight).add_modifier(Modifier::BOLD));
    let mut out = vec![Line::from(vec![
        Span::styled(
            " > ",
            theme.fg(theme.highlight).add_modifier(Modifier::BOLD),
        ),
        Span::styled(line.text.clone(), theme.fg(theme.text)),
        Span::styled("█", theme.fg(theme.highlight)),
    ])];
    if line.candidates.is_empty() {
        let text = if line.typed.is_empty() {
            "   type a symbol: BTC-USDT, SOL-USDT-PERP, or just sol"
        } else {
            "   no match in the instrument lists (Enter adds what is typed)"
        };
        out.push(Line::from(Span::styled(text, theme.muted())));
    }
    for (n, (i, venues)) in line.candidates.iter().enumerate() {
        let names: Vec<&str> = venues.iter().map(|v| v.as_str()).collect();
        let row = Line::from(vec![
            Span::styled(format!("   {:<18}", i.to_string()), theme.fg(theme.text)),
            Span::styled(names.join(" "), theme.muted()),
        ]);
        out.push(if line.pick == Some(n) {
            highlight(row, theme)
        } else {
            row
        });
    }
    if let Some(err) = &line.error {
        out.push(Line::from(Span::styled(
            format!("   {err}"),
            theme.fg(theme.error),
        )));
    }
    out.push(Line::from(vec![
        Span::raw("   "),
        key("Tab/↓"),
        Span::styled(" next  ", theme.muted()),
        key("Shift-Tab/↑"),
        Span::styled(" previous  ", theme.muted()),
        key("Enter"),
        Span::styled(" add  ", theme.muted()),
        key("Esc"),
        Span::styled(" cancel", theme.muted()),
    ]));
    lines(frame, inner, out, theme);
}
