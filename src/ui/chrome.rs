//! Everything around the panes: the tab line, the status bar, the key-hint
//! (or filter input / status message) line and the `?` help overlay.

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::app::{App, BookMode};
use super::format;
use super::keymap::{Action, Context, HelpLine};
use super::messages::Level;
use super::panes::{self, PANES};
use super::tabs::{self, TabSpec};
use super::theme::Theme;
use crate::engine::Snapshot;
use crate::engine::snapshot::ConnState;

pub fn draw(frame: &mut Frame, snap: &Snapshot, app: &App, theme: &Theme) {
    let area = frame.area();
    frame.buffer_mut().set_style(area, theme.base());
    if area.height < 4 {
        // Too small for chrome: the pane alone.
        render_pane(frame, area, snap, app, theme);
        return;
    }
    let mut bottom = bottom_lines(app, theme, area.width as usize);
    // A second bottom line only when the pane keeps a useful height.
    if area.height < 12 {
        bottom.truncate(1);
    }
    let n = bottom.len().max(1) as u16;
    let rows = panes::stack(area, &[1, area.height - 2 - n, 1]);
    tabs(frame, rows[0], app, theme);
    render_pane(frame, rows[1], snap, app, theme);
    status_bar(frame, rows[2], snap, app, theme);
    frame.render_widget(Paragraph::new(bottom).style(theme.base()), rows[3]);
    if app.help {
        help_overlay(frame, area, app, theme);
    }
}

fn render_pane(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    if let Some(p) = PANES.get(app.pane) {
        (p.render)(frame, area, snap, app, theme);
    }
}

fn tabs(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    const BRAND: &str = " depthwatch ";
    let specs: Vec<TabSpec> = PANES
        .iter()
        .enumerate()
        .map(|(i, p)| TabSpec {
            title: p.title.to_string(),
            short: p.short.to_string(),
            key: app
                .keymap
                .keys_for(Action::GoToPane(i), Context::Global)
                .first()
                .map(|k| k.to_string()),
        })
        .collect();
    let line = tabs::layout(&specs, app.pane, area.width as usize, BRAND.len());
    let mut spans = Vec::new();
    if line.brand {
        spans.push(Span::styled(
            BRAND,
            theme.title().add_modifier(Modifier::REVERSED),
        ));
    }
    if line.more_left {
        spans.push(Span::styled("‹", theme.muted()));
    }
    for (i, label) in line.tabs {
        let style = if i == app.pane {
            theme.title().bg(theme.selection_bg)
        } else {
            theme.muted()
        };
        spans.push(Span::raw(line.gap));
        spans.push(Span::styled(label, style));
    }
    if line.more_right {
        spans.push(Span::styled("›", theme.muted()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.base()), area);
}

fn status_bar(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let sep = || Span::styled(" │ ", theme.muted());
    let mut left: Vec<Span> = Vec::new();
    let (live, total) = venues_live(snap);
    let venue_style = if total > 0 && live == total {
        theme.fg(theme.ok)
    } else if live == 0 {
        theme.fg(theme.error)
    } else {
        theme.fg(theme.warning)
    };
    left.push(Span::styled(
        format!(" venues {live}/{total} live"),
        venue_style,
    ));
    left.push(sep());
    let label = panes::selected_view(snap, app).map_or("—".to_string(), |v| v.label.clone());
    left.push(Span::styled(
        label,
        theme.fg(theme.text).add_modifier(Modifier::BOLD),
    ));
    if let BookMode::Venue(v) = app.book_mode {
        left.push(Span::styled(format!(" @{v}"), theme.fg(theme.venue(v))));
    }
    if !app.filter.is_empty() {
        left.push(sep());
        left.push(Span::styled(
            format!("filter: {}", app.filter),
            theme.fg(theme.highlight),
        ));
    }
    if app.demo {
        left.push(sep());
        left.push(Span::styled(
            " DEMO ",
            bold(theme.fg(theme.background).bg(theme.warning)),
        ));
    }
    if let Some(r) = &app.replay {
        left.push(sep());
        let pos = format::clock(r.position, app.time_zone);
        let elapsed = format::age(r.position - r.start);
        let end = r
            .end
            .map(|e| format!(" / {}", format::age(e - r.start)))
            .unwrap_or_default();
        let state = if r.paused { "⏸" } else { "▶" };
        left.push(Span::styled(
            format!("replay {state} {pos} ({elapsed}{end}) {}", r.speed),
            theme.fg(theme.highlight),
        ));
    }
    if app.paused {
        left.push(sep());
        left.push(Span::styled(
            " PAUSED ",
            bold(theme.fg(theme.background).bg(theme.highlight)),
        ));
    }
    // A sink that cannot do its job (the store on a read-only or full
    // disk) says so here too, not only in the Health pane.
    for sink in &snap.sinks {
        if let Some(problem) = &sink.problem {
            left.push(sep());
            left.push(Span::styled(
                format!("{}: {problem}", sink.name),
                theme.fg(theme.error),
            ));
        }
    }
    let right = format!("{} ", format::clock(snap.now, app.time_zone));
    let used: usize = left.iter().map(|s| s.content.chars().count()).sum();
    let pad = (area.width as usize).saturating_sub(used + right.len());
    left.push(Span::raw(" ".repeat(pad)));
    left.push(Span::styled(right, theme.muted()));
    frame.render_widget(
        Paragraph::new(Line::from(left)).style(theme.base().bg(theme.selection_bg)),
        area,
    );
}

/// Venues with at least one live connection / all venues seen in health.
fn venues_live(snap: &Snapshot) -> (usize, usize) {
    let all: BTreeSet<_> = snap.health.iter().map(|h| h.venue).collect();
    let live: BTreeSet<_> = snap
        .health
        .iter()
        .filter(|h| matches!(h.state, ConnState::Connected | ConnState::Replay))
        .map(|h| h.venue)
        .collect();
    (live.len(), all.len())
}

/// The lines under the status bar: the filter input, else the message
/// (an error until dismissed, information for a few seconds), else the key
/// hints. Long ones wrap at word (or hint) boundaries onto a second line.
fn bottom_lines(app: &App, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let key_style = bold(theme.fg(theme.highlight));
    if app.filter_editing {
        return vec![Line::from(vec![
            Span::styled(" / ", key_style),
            Span::styled(app.filter.clone(), theme.fg(theme.text)),
            Span::styled("█", theme.fg(theme.highlight)),
            Span::styled("   Enter keep · Esc clear", theme.muted()),
        ])];
    }
    if let Some(msg) = app.message() {
        let (style, mut atoms): (Style, Vec<Vec<Span<'static>>>) = match msg.level {
            Level::Error => (
                theme.fg(theme.error),
                vec![vec![Span::styled("✗", theme.fg(theme.error))]],
            ),
            Level::Info => (theme.fg(theme.warning), Vec::new()),
        };
        atoms.extend(
            msg.text
                .split_whitespace()
                .map(|w| vec![Span::styled(w.to_string(), style)]),
        );
        if msg.level == Level::Error {
            let key = app
                .keymap
                .keys_for(Action::Dismiss, Context::Global)
                .first()
                .map(|k| k.to_string());
            let mut tail = vec![Span::styled("·", theme.muted())];
            if let Some(k) = key {
                tail.push(Span::styled(format!(" {k}"), key_style));
                tail.push(Span::styled(" dismisses", theme.muted()));
            }
            if msg.more > 0 {
                tail.push(Span::styled(format!(" ({} more)", msg.more), theme.muted()));
            }
            atoms.push(tail);
        }
        return pack(&atoms, " ", width, 2, true).0;
    }
    let mut atoms: Vec<Vec<Span<'static>>> = Vec::new();
    let mut help_at = None;
    for (keys, label) in app.keymap.hints(app.pane_id()) {
        // The first key is enough here; `?` lists them all.
        let keys = if keys.contains('/') && keys.len() > 1 {
            keys.split('/').next().unwrap_or_default().to_string()
        } else {
            keys
        };
        if label == "help" {
            help_at = Some(atoms.len());
        }
        atoms.push(vec![
            Span::styled(keys, key_style),
            Span::styled(format!(" {label}"), theme.muted()),
        ]);
    }
    // Hints that do not fit on two lines go, from the end, but never the
    // one that opens the help listing them all.
    loop {
        let (lines, placed) = pack(&atoms, "  ", width, 2, false);
        if placed == atoms.len() || atoms.len() <= 1 {
            return lines;
        }
        let drop = (0..atoms.len()).rev().find(|i| Some(*i) != help_at);
        match drop {
            Some(i) => {
                atoms.remove(i);
                if help_at.is_some_and(|h| h > i) {
                    help_at = help_at.map(|h| h - 1);
                }
            }
            None => return lines,
        }
    }
}

/// Packs atoms (runs of spans never split) into at most `max_lines` lines of
/// `width`, each starting with a space, atoms separated by `sep`. Atoms that
/// do not fit are left out; with `ellipsis` the last line then ends in `…`.
/// Returns the lines and how many atoms they hold.
fn pack(
    atoms: &[Vec<Span<'static>>],
    sep: &str,
    width: usize,
    max_lines: usize,
    ellipsis: bool,
) -> (Vec<Line<'static>>, usize) {
    let atom_w = |a: &[Span<'static>]| a.iter().map(|s| s.content.chars().count()).sum::<usize>();
    let mut lines: Vec<Vec<Span<'static>>> = vec![vec![Span::raw(" ")]];
    let mut used = 1;
    let mut placed = 0;
    for atom in atoms {
        let w = atom_w(atom);
        let lead = if used > 1 { sep.chars().count() } else { 0 };
        if used + lead + w > width && used > 1 {
            if lines.len() == max_lines {
                break;
            }
            lines.push(vec![Span::raw(" ")]);
            used = 1;
        }
        let line = lines.last_mut().expect("one line at least");
        if used > 1 {
            line.push(Span::raw(sep.to_string()));
            used += sep.chars().count();
        }
        if used + w > width {
            // Longer than a whole line (a long path): cut with an ellipsis.
            let text: String = atom.iter().map(|s| s.content.as_ref()).collect();
            let style = atom.first().map(|s| s.style).unwrap_or_default();
            let room = width.saturating_sub(used);
            line.push(Span::styled(super::reach::ellipsize(&text, room), style));
            used = width;
            placed += 1;
            continue;
        }
        line.extend(atom.iter().cloned());
        used += w;
        placed += 1;
    }
    if placed < atoms.len() && ellipsis {
        let line = lines.last_mut().expect("one line at least");
        if used + 1 > width {
            line.pop();
        }
        line.push(Span::raw("…"));
    }
    (lines.into_iter().map(Line::from).collect(), placed)
}

fn bold(style: Style) -> Style {
    style.add_modifier(Modifier::BOLD)
}

fn help_overlay(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let pane = app.pane_id();
    let pane_title = PANES.get(app.pane).map_or("", |p| p.title);
    // Replay keys only matter while replaying.
    let keep = |l: &HelpLine| app.replay.is_some() || !l.description.starts_with("replay:");
    let global: Vec<HelpLine> = app
        .keymap
        .help(Context::Global)
        .into_iter()
        .filter(keep)
        .collect();
    let local = app.keymap.help(Context::Pane(pane));
    let key_w = global
        .iter()
        .chain(&local)
        .map(|l| l.keys.chars().count())
        .max()
        .unwrap_or(0);
    let section = |title: String, rows: &[HelpLine], out: &mut Vec<Line<'static>>| {
        out.push(Line::from(Span::styled(title, theme.title())));
        for l in rows {
            out.push(Line::from(vec![
                Span::styled(
                    format!(" {:>key_w$}  ", l.keys),
                    bold(theme.fg(theme.highlight)),
                ),
                Span::styled(l.description.clone(), theme.fg(theme.text)),
            ]));
        }
    };
    // The active pane's keys first: they are what the user is looking for.
    let mut all: Vec<Line<'static>> = Vec::new();
    if !local.is_empty() {
        section(format!("{pane_title} pane"), &local, &mut all);
        all.push(Line::from(""));
    }
    section("Everywhere".into(), &global, &mut all);

    // Flow into as many columns as the height needs.
    let avail_h = area.height.saturating_sub(2).max(1) as usize;
    let columns: Vec<&[Line<'static>]> = all.chunks(avail_h).collect();
    // Each column as wide as its own longest line.
    let widths: Vec<u16> = columns
        .iter()
        .map(|c| c.iter().map(|l| l.width()).max().unwrap_or(0) as u16 + 3)
        .collect();
    let w = (widths.iter().sum::<u16>() + 2).min(area.width);
    let h = (all.len().min(avail_h) as u16 + 2).min(area.height);
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    frame.render_widget(Clear, rect);
    let inner = panes::framed(frame, rect, "Keys (any key closes)", theme);
    let mut x = inner.x;
    for (column, col_w) in columns.into_iter().zip(widths) {
        let width = col_w.min((inner.x + inner.width).saturating_sub(x));
        if width == 0 {
            break;
        }
        panes::lines(
            frame,
            Rect::new(x, inner.y, width, inner.height),
            column.to_vec(),
            theme,
        );
        x += width;
    }
}
