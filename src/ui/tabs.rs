//! The tab line's layout for any number of panes: full names when they fit,
//! else a short form of every other pane's name (padded, then tight: `1 Ovw 2
//! Book`), else only their keys; the
//! current pane's name is always whole. When even that is too wide, a window
//! of tabs around the current one, with `‹` / `›` saying more are off screen.

/// One pane as the tab line sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TabSpec {
    pub title: String,
    /// A short name that still reads ("Ovw", "Liq", "Hlth").
    pub short: String,
    /// The key that opens it ("1"), if any.
    pub key: Option<String>,
}

/// How much of a name a tab shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Form {
    Full,
    Short,
    /// The key alone (the short name for a pane without a key).
    Key,
}

impl TabSpec {
    pub fn label(&self, form: Form) -> String {
        let name = match form {
            Form::Full => &self.title,
            Form::Short => &self.short,
            Form::Key => match &self.key {
                Some(k) => return format!(" {k} "),
                None => &self.short,
            },
        };
        match &self.key {
            Some(k) => format!(" {k} {name} "),
            None => format!(" {name} "),
        }
    }
}

/// The chosen layout: whether the brand shows, the gap before each tab, and
/// the tabs shown (index into the specs, label).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TabLine {
    pub brand: bool,
    pub gap: &'static str,
    pub tabs: Vec<(usize, String)>,
    /// Tabs hidden to the left / right (window layout only).
    pub more_left: bool,
    pub more_right: bool,
}

impl TabLine {
    pub fn width(&self, brand_w: usize) -> usize {
        let tabs: usize = self
            .tabs
            .iter()
            .map(|(_, t)| t.chars().count() + self.gap.len())
            .sum();
        tabs + if self.brand { brand_w } else { 0 }
            + usize::from(self.more_left)
            + usize::from(self.more_right)
    }
}

/// Lays out `specs` in `width` columns with `current` whole; `brand_w` is
/// the width of the brand shown first when there is room.
pub fn layout(specs: &[TabSpec], current: usize, width: usize, brand_w: usize) -> TabLine {
    let all = |form: Form, brand: bool, gap: &'static str, tight: bool| TabLine {
        brand,
        gap,
        tabs: specs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let f = if i == current { Form::Full } else { form };
                let label = s.label(f);
                (
                    i,
                    if tight {
                        label.trim().to_string()
                    } else {
                        label
                    },
                )
            })
            .collect(),
        more_left: false,
        more_right: false,
    };
    for form in [Form::Full, Form::Short, Form::Key] {
        // Padded tabs, then without the padding (one space between tabs)
        // before falling back to a shorter form.
        for (brand, gap, tight) in [
            (true, " ", false),
            (false, " ", false),
            (false, "", false),
            (false, " ", true),
        ] {
            let line = all(form, brand, gap, tight);
            if line.width(brand_w) <= width {
                return line;
            }
        }
    }
    window(specs, current, width)
}

/// The current tab whole and as many neighbours (keys only) as fit.
fn window(specs: &[TabSpec], current: usize, width: usize) -> TabLine {
    let label = |i: usize| {
        let form = if i == current { Form::Full } else { Form::Key };
        specs[i].label(form)
    };
    let w = |i: usize| label(i).chars().count();
    let (mut lo, mut hi) = (current, current + 1);
    let mut used = if current < specs.len() { w(current) } else { 0 };
    // Room for both markers is kept while tabs remain on both sides.
    let markers = |lo: usize, hi: usize| usize::from(lo > 0) + usize::from(hi < specs.len());
    loop {
        let mut grew = false;
        if hi < specs.len() && used + w(hi) + markers(lo, hi + 1) <= width {
            used += w(hi);
            hi += 1;
            grew = true;
        }
        if lo > 0 && used + w(lo - 1) + markers(lo - 1, hi) <= width {
            used += w(lo - 1);
            lo -= 1;
            grew = true;
        }
        if !grew {
            break;
        }
    }
    TabLine {
        brand: false,
        gap: "",
        tabs: (lo..hi.min(specs.len())).map(|i| (i, label(i))).collect(),
        more_left: lo > 0,
        more_right: hi < specs.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(names: &[(&str, &str)]) -> Vec<TabSpec> {
        names
            .iter()
            .enumerate()
            .map(|(i, (title, short))| TabSpec {
                title: title.to_string(),
                short: short.to_string(),
                key: (i < 9).then(|| (i + 1).to_string()),
            })
            .collect()
    }

    const EIGHT: [(&str, &str); 8] = [
        ("Overview", "Ovw"),
        ("Book", "Book"),
        ("Arbitrage", "Arb"),
        ("Liquidations", "Liq"),
        ("Trades", "Trd"),
        ("Health", "Hlth"),
        ("Logs", "Logs"),
        ("Watchlist", "Watch"),
    ];

    const TWELVE: [(&str, &str); 12] = [
        ("Overview", "Ovw"),
        ("Book", "Book"),
        ("Arbitrage", "Arb"),
        ("Liquidations", "Liq"),
        ("Trades", "Trd"),
        ("Health", "Hlth"),
        ("Logs", "Logs"),
        ("Watchlist", "Watch"),
        ("Derivatives", "Deriv"),
        ("Alerts", "Alrt"),
        ("Chart", "Chrt"),
        ("Heatmap", "Heat"),
    ];

    fn text(line: &TabLine) -> String {
        let mut s = String::new();
        if line.more_left {
            s.push('‹');
        }
        for (_, t) in &line.tabs {
            s.push_str(line.gap);
            s.push_str(t);
        }
        if line.more_right {
            s.push('›');
        }
        s
    }

    /// Every tab shows a whole form of its own name; the current one in full.
    fn check(specs: &[TabSpec], line: &TabLine, current: usize, width: usize) {
        assert!(line.width(12) <= width, "{} > {width}", line.width(12));
        for (i, t) in &line.tabs {
            let s = &specs[*i];
            if *i == current {
                assert_eq!(t.trim(), s.label(Form::Full).trim());
            } else {
                assert!(
                    [Form::Full, Form::Short, Form::Key].contains(&form_of(s, t)),
                    "{t:?}"
                );
            }
        }
        assert!(line.tabs.iter().any(|(i, _)| *i == current));
    }

    fn form_of(s: &TabSpec, label: &str) -> Form {
        [Form::Full, Form::Short, Form::Key]
            .into_iter()
            .find(|f| s.label(*f).trim() == label.trim())
            .unwrap_or_else(|| panic!("{label:?} is no form of {}", s.title))
    }

    #[test]
    fn full_names_when_they_fit() {
        let s = specs(&EIGHT);
        let line = layout(&s, 0, 160, 12);
        assert!(line.brand);
        assert_eq!(
            text(&line),
            "  1 Overview   2 Book   3 Arbitrage   4 Liquidations   5 Trades   6 Health   7 Logs   8 Watchlist "
        );
    }

    #[test]
    fn eight_panes_at_80_columns_read_short_names() {
        let s = specs(&EIGHT);
        for current in 0..s.len() {
            let line = layout(&s, current, 80, 12);
            check(&s, &line, current, 80);
            assert!(line.tabs.len() == 8, "all shown");
        }
        assert_eq!(
            text(&layout(&s, 0, 80, 12)),
            "  1 Overview   2 Book   3 Arb   4 Liq   5 Trd   6 Hlth   7 Logs   8 Watch "
        );
        assert_eq!(
            text(&layout(&s, 3, 80, 12)),
            "  1 Ovw   2 Book   3 Arb   4 Liquidations   5 Trd   6 Hlth   7 Logs   8 Watch "
        );
    }

    #[test]
    fn ten_panes_at_80_columns_still_read_short_names() {
        let s = specs(&TWELVE[..10]);
        for current in 0..s.len() {
            let line = layout(&s, current, 80, 12);
            check(&s, &line, current, 80);
            assert_eq!(line.tabs.len(), 10);
            for (i, t) in &line.tabs {
                if *i != current {
                    assert_ne!(form_of(&s[*i], t), Form::Key, "{t:?} reads as a name");
                }
            }
        }
    }

    #[test]
    fn twelve_panes_at_80_columns_keep_every_tab_and_the_current_name() {
        let s = specs(&TWELVE);
        for current in 0..s.len() {
            let line = layout(&s, current, 80, 12);
            check(&s, &line, current, 80);
            assert_eq!(line.tabs.len(), 12, "all twelve shown at 80 columns");
            assert!(!line.more_left && !line.more_right);
        }
        // Panes beyond the number keys show their short name.
        let t = text(&layout(&s, 3, 80, 12));
        assert_eq!(
            t,
            "  1   2   3   4 Liquidations   5   6   7   8   9   Alrt   Chrt   Heat "
        );
    }

    #[test]
    fn narrow_terminals_get_a_window_around_the_current_tab() {
        let s = specs(&TWELVE);
        for width in [20, 30, 40] {
            for current in 0..s.len() {
                let line = layout(&s, current, width, 12);
                check(&s, &line, current, width);
            }
        }
        let line = layout(&s, 6, 30, 12);
        assert!(line.more_left && line.more_right, "{}", text(&line));
        // Too narrow even for the current name: it is still the one shown.
        let line = layout(&s, 3, 5, 12);
        assert_eq!(line.tabs.len(), 1);
    }
}
