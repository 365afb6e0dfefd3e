//! A rendered screen as SVG: the pictures in `assets/` are ratatui buffers
//! drawn by the real renderer, written cell by cell with the theme's
//! colours, so they show exactly what a terminal shows.
//!
//! Each row becomes runs of cells with one style: a `<rect>` for a
//! background that is not the terminal's own and a `<text>` with
//! `xml:space="preserve"` for the characters. Wide characters are not used by
//! the panes; every cell is one column.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

/// Cell size in SVG units: a 14 px monospace font is about 8.4 px wide.
const CELL_W: f32 = 8.4;
const CELL_H: f32 = 17.0;
const FONT_SIZE: f32 = 14.0;

/// The colours a terminal uses for `Color::Reset`: the screen background and
/// the default text.
#[derive(Clone, Copy, Debug)]
pub struct Canvas {
    pub background: (u8, u8, u8),
    pub foreground: (u8, u8, u8),
}

impl Canvas {
    /// A dark terminal (for the dark, colour-blind and high-contrast themes).
    pub const DARK: Canvas = Canvas {
        background: (0x16, 0x18, 0x1d),
        foreground: (0xd0, 0xd0, 0xd0),
    };
    /// A light terminal (for the light theme).
    pub const LIGHT: Canvas = Canvas {
        background: (0xfa, 0xfa, 0xf7),
        foreground: (0x20, 0x20, 0x20),
    };
}

/// The SVG document of `buf` as a terminal with `canvas` would show it.
pub fn to_svg(buf: &Buffer, canvas: Canvas, title: &str) -> String {
    let area = buf.area;
    let (w, h) = (
        f32::from(area.width) * CELL_W,
        f32::from(area.height) * CELL_H,
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" xml:space="preserve" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.1} {h:.1}" role="img" aria-label="{}">"#,
        escape(title)
    );
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(
        out,
        r#"<style>text{{font-family:"DejaVu Sans Mono","Menlo","Consolas",monospace;font-size:{FONT_SIZE}px;white-space:pre}}.b{{font-weight:bold}}.i{{font-style:italic}}.u{{text-decoration:underline}}</style>"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="{}"/>"#,
        hex(canvas.background)
    );
    for y in 0..area.height {
        let row: Vec<CellStyle> = (0..area.width)
            .map(|x| CellStyle::of(&buf[(area.x + x, area.y + y)], canvas))
            .collect();
        // Backgrounds first, so text is drawn over them.
        for (start, len, style) in runs(&row, |a, b| a.bg == b.bg) {
            if style.bg != canvas.background {
                let _ = writeln!(
                    out,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{CELL_H:.1}" fill="{}"/>"#,
                    start as f32 * CELL_W,
                    f32::from(y) * CELL_H,
                    len as f32 * CELL_W,
                    hex(style.bg)
                );
            }
        }
        let symbols: Vec<&str> = (0..area.width)
            .map(|x| buf[(area.x + x, area.y + y)].symbol())
            .collect();
        for (start, len, style) in runs(&row, |a, b| a.fg == b.fg && a.mods == b.mods) {
            let text: String = symbols[start..start + len].concat();
            if text.trim().is_empty() && !style.mods.contains(Modifier::UNDERLINED) {
                continue;
            }
            let mut class = String::new();
            for (m, c) in [
                (Modifier::BOLD, "b"),
                (Modifier::ITALIC, "i"),
                (Modifier::UNDERLINED, "u"),
            ] {
                if style.mods.contains(m) {
                    class.push_str(if class.is_empty() { "" } else { " " });
                    class.push_str(c);
                }
            }
            let class = if class.is_empty() {
                String::new()
            } else {
                format!(r#" class="{class}""#)
            };
            // The baseline sits about a fifth of a cell above the bottom.
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" fill="{}" textLength="{:.1}" lengthAdjust="spacingAndGlyphs"{class}>{}</text>"#,
                start as f32 * CELL_W,
                (f32::from(y) + 0.78) * CELL_H,
                hex(style.fg),
                len as f32 * CELL_W,
                escape(&text)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

#[derive(Clone, Copy, PartialEq)]
struct CellStyle {
    fg: (u8, u8, u8),
    bg: (u8, u8, u8),
    mods: Modifier,
}

impl CellStyle {
    fn of(cell: &ratatui::buffer::Cell, canvas: Canvas) -> Self {
        let mut fg = rgb(cell.fg).unwrap_or(canvas.foreground);
        let mut bg = rgb(cell.bg).unwrap_or(canvas.background);
        if cell.modifier.contains(Modifier::REVERSED) {
            std::mem::swap(&mut fg, &mut bg);
        }
        if cell.modifier.contains(Modifier::DIM) {
            fg = mix(fg, bg);
        }
        let keep = Modifier::BOLD | Modifier::ITALIC | Modifier::UNDERLINED;
        CellStyle {
            fg,
            bg,
            mods: cell.modifier & keep,
        }
    }
}

/// Maximal runs of cells that `same` says look alike: (start, length, style).
fn runs(
    row: &[CellStyle],
    same: impl Fn(&CellStyle, &CellStyle) -> bool,
) -> Vec<(usize, usize, CellStyle)> {
    let mut out: Vec<(usize, usize, CellStyle)> = Vec::new();
    for (x, style) in row.iter().enumerate() {
        match out.last_mut() {
            Some((_, len, s)) if same(s, style) => *len += 1,
            _ => out.push((x, 1, *style)),
        }
    }
    out
}

/// A colour as RGB; `None` for `Reset` (the terminal's own).
fn rgb(c: Color) -> Option<(u8, u8, u8)> {
    Some(match c {
        Color::Reset => return None,
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) => indexed(i),
        Color::Black => ANSI[0],
        Color::Red => ANSI[1],
        Color::Green => ANSI[2],
        Color::Yellow => ANSI[3],
        Color::Blue => ANSI[4],
        Color::Magenta => ANSI[5],
        Color::Cyan => ANSI[6],
        Color::Gray => ANSI[7],
        Color::DarkGray => ANSI[8],
        Color::LightRed => ANSI[9],
        Color::LightGreen => ANSI[10],
        Color::LightYellow => ANSI[11],
        Color::LightBlue => ANSI[12],
        Color::LightMagenta => ANSI[13],
        Color::LightCyan => ANSI[14],
        Color::White => ANSI[15],
    })
}

/// The xterm default 16-colour palette.
const ANSI: [(u8, u8, u8); 16] = [
    (0x00, 0x00, 0x00),
    (0xcd, 0x00, 0x00),
    (0x00, 0xcd, 0x00),
    (0xcd, 0xcd, 0x00),
    (0x00, 0x00, 0xee),
    (0xcd, 0x00, 0xcd),
    (0x00, 0xcd, 0xcd),
    (0xe5, 0xe5, 0xe5),
    (0x7f, 0x7f, 0x7f),
    (0xff, 0x00, 0x00),
    (0x00, 0xff, 0x00),
    (0xff, 0xff, 0x00),
    (0x5c, 0x5c, 0xff),
    (0xff, 0x00, 0xff),
    (0x00, 0xff, 0xff),
    (0xff, 0xff, 0xff),
];

/// The xterm 256-colour palette: 16 ANSI, a 6×6×6 cube, 24 greys.
fn indexed(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI[usize::from(i)],
        16..=231 => {
            let n = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(n / 36), level((n / 6) % 6), level(n % 6))
        }
        _ => {
            let g = 8 + (i - 232) * 10;
            (g, g, g)
        }
    }
}

fn mix(a: (u8, u8, u8), b: (u8, u8, u8)) -> (u8, u8, u8) {
    let m = |x: u8, y: u8| ((u16::from(x) + u16::from(y)) / 2) as u8;
    (m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn cells_become_styled_runs_with_escaped_text() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 2));
        buf.set_string(0, 0, "a<b", Style::default().fg(Color::Rgb(1, 2, 3)));
        buf.set_string(
            4,
            0,
            "ok",
            Style::default()
                .fg(Color::Green)
                .bg(Color::Indexed(236))
                .add_modifier(Modifier::BOLD),
        );
        let svg = to_svg(&buf, Canvas::DARK, "t & u");
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.contains(r#"aria-label="t &amp; u""#));
        assert!(svg.contains(r##"fill="#010203""##) && svg.contains(">a&lt;b</text>"));
        // Indexed 236 is grey 48; the bold run is classed.
        assert!(svg.contains(r##"x="33.6" y="0.0" width="16.8" height="17.0" fill="#303030""##));
        assert!(svg.contains(r#"class="b">ok</text>"#));
        assert!(svg.trim_end().ends_with("</svg>"));
        // Blank rows draw nothing but the canvas.
        assert_eq!(svg.matches("<text").count(), 2);
    }

    #[test]
    fn reversed_cells_swap_colours() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 3, 1));
        buf.set_string(0, 0, "x", Style::default().add_modifier(Modifier::REVERSED));
        let svg = to_svg(&buf, Canvas::DARK, "r");
        assert!(svg.contains(r##"fill="#d0d0d0"/>"##), "{svg}");
        assert!(svg.contains(r##"fill="#16181d" textLength"##), "{svg}");
    }

    #[test]
    fn the_palette_matches_xterm() {
        assert_eq!(indexed(16), (0, 0, 0));
        assert_eq!(indexed(196), (255, 0, 0));
        assert_eq!(indexed(231), (255, 255, 255));
        assert_eq!(indexed(255), (238, 238, 238));
    }
}
