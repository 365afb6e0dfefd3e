//! Fixed-width text columns that drop by priority when the terminal is
//! narrow and share spare width among flexible columns when it is wide.
//! Rows are plain `Line`s, so a row may also span all columns (a reason
//! text instead of numbers).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Clone, Copy, Debug)]
pub struct Col {
    pub title: &'static str,
    pub width: u16,
    pub align: Align,
    /// 0 is kept longest; higher numbers are dropped first.
    pub priority: u8,
    /// Takes a share of spare width.
    pub flex: bool,
}

impl Col {
    pub const fn left(title: &'static str, width: u16, priority: u8) -> Col {
        Col {
            title,
            width,
            align: Align::Left,
            priority,
            flex: false,
        }
    }
    pub const fn right(title: &'static str, width: u16, priority: u8) -> Col {
        Col {
            title,
            width,
            align: Align::Right,
            priority,
            flex: false,
        }
    }
    pub const fn flex(mut self) -> Col {
        self.flex = true;
        self
    }
}

/// The columns that fit, with their final widths.
#[derive(Clone, Debug)]
pub struct Fitted {
    cols: Vec<Col>,
    widths: Vec<Option<u16>>,
}

const GAP: u16 = 1;

pub fn fit(cols: &[Col], total: u16) -> Fitted {
    let mut order: Vec<usize> = (0..cols.len()).collect();
    order.sort_by_key(|&i| (cols[i].priority, i));
    let mut widths = vec![None; cols.len()];
    let mut used: u16 = 0;
    for i in order {
        let need = cols[i].width + if used == 0 { 0 } else { GAP };
        if used.saturating_add(need) <= total {
            widths[i] = Some(cols[i].width);
            used += need;
        }
    }
    let flex: Vec<usize> = (0..cols.len())
        .filter(|&i| cols[i].flex && widths[i].is_some())
        .collect();
    if !flex.is_empty() {
        let spare = total.saturating_sub(used);
        let share = spare / flex.len() as u16;
        let mut rest = spare % flex.len() as u16;
        for i in flex {
            if let Some(w) = widths[i].as_mut() {
                *w += share + u16::from(rest > 0);
                rest = rest.saturating_sub(1);
            }
        }
    }
    Fitted {
        cols: cols.to_vec(),
        widths,
    }
}

impl Fitted {
    pub fn shown(&self, index: usize) -> bool {
        self.widths.get(index).is_some_and(Option::is_some)
    }

    pub fn width(&self, index: usize) -> u16 {
        self.widths.get(index).copied().flatten().unwrap_or(0)
    }

    pub fn header(&self, style: Style) -> Line<'static> {
        let cells = self
            .cols
            .iter()
            .map(|c| Span::styled(c.title, style))
            .collect();
        self.row(cells)
    }

    /// One row from one cell per column (cells of hidden columns are skipped).
    pub fn row(&self, cells: Vec<Span<'static>>) -> Line<'static> {
        let mut spans = Vec::with_capacity(cells.len() * 2);
        let mut first = true;
        for ((col, width), cell) in self.cols.iter().zip(&self.widths).zip(cells) {
            let Some(width) = *width else { continue };
            if !first {
                spans.push(Span::raw(" ".repeat(GAP as usize)));
            }
            first = false;
            spans.push(pad(cell, width as usize, col.align));
        }
        Line::from(spans)
    }
}

/// Pads or truncates a span to exactly `width` characters.
pub fn pad(span: Span<'static>, width: usize, align: Align) -> Span<'static> {
    let text = span.content.as_ref();
    let len = text.chars().count();
    let content = if len > width {
        cut(text, width)
    } else {
        let fill = " ".repeat(width - len);
        match align {
            Align::Left => format!("{text}{fill}"),
            Align::Right => format!("{fill}{text}"),
        }
    };
    Span::styled(content, span.style)
}

/// `text` in `width` characters with `…`: at a word boundary when that
/// keeps at least a third of the width, else mid-word (a single long word).
pub fn cut(text: &str, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let at_word = crate::ui::reach::ellipsize(text, width);
    if at_word.chars().count() * 3 >= width {
        return at_word;
    }
    let mut s: String = text.chars().take(width - 1).collect();
    s.push('…');
    s
}

/// The visible window `[start, end)` of `len` rows in `height` lines that
/// keeps `cursor` in view.
pub fn window(len: usize, cursor: usize, height: usize) -> (usize, usize) {
    if height == 0 || len == 0 {
        return (0, 0);
    }
    let cursor = cursor.min(len - 1);
    let start = cursor.saturating_sub(height - 1);
    (start, (start + height).min(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_low_priority_columns_and_shares_spare_width() {
        let cols = [
            Col::left("a", 4, 0),
            Col::right("b", 4, 2),
            Col::right("c", 4, 1).flex(),
        ];
        let f = fit(&cols, 9);
        assert!(f.shown(0) && !f.shown(1) && f.shown(2));
        assert_eq!(f.width(2), 4);
        let f = fit(&cols, 20);
        assert_eq!(f.width(2), 4 + 20 - 14);
        let line = fit(&cols, 14).row(vec!["x".into(), "yy".into(), "toolong".into()]);
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "x      yy too…");
        assert_eq!(
            cut("HTTP 429: rate limited, retrying", 25),
            "HTTP 429: rate limited…"
        );
        assert_eq!(cut("coinbase", 7), "coinba…");
        assert_eq!(cut("a verylongword", 9), "a verylo…");
        assert_eq!(fit(&cols, 0).width(0), 0);
    }

    #[test]
    fn window_keeps_cursor_visible() {
        assert_eq!(window(100, 0, 10), (0, 10));
        assert_eq!(window(100, 15, 10), (6, 16));
        assert_eq!(window(5, 9, 10), (0, 5));
        assert_eq!(window(5, 2, 0), (0, 0));
    }
}
