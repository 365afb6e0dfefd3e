//! Semantic colours. Panes ask for meanings (`bid`, `stale`, a venue's
//! colour), never for raw colours, so a theme file restyles everything.
//!
//! Four themes are built in (`themes/*.toml`, embedded at compile time). A
//! file with the same name in `<config dir>/themes/` patches the built-in one:
//! only the fields it lists change.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

use crate::model::Venue;

/// Built-in themes in cycling order; the first is the default.
pub const BUILTIN: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("colorblind", include_str!("../../themes/colorblind.toml")),
];

macro_rules! colour_fields {
    ($($field:ident),* $(,)?) => {
        /// A complete theme. Field meanings are documented in `themes/dark.toml`.
        #[derive(Clone, Debug, PartialEq)]
        pub struct Theme {
            pub name: String,
            $(pub $field: Color,)*
            /// Venue colours by venue name.
            pub venues: BTreeMap<String, Color>,
            /// Colours for venues the theme does not name, picked by a
            /// stable hash of the name; empty: the venue's own colour.
            pub venue_palette: Vec<Color>,
            pub bid_glyph: String,
            pub ask_glyph: String,
            /// Heatmap cells, least to most resting size (at least two).
            pub heat_palette: Vec<Color>,
        }

        impl Theme {
            /// Applies one TOML table over this theme; unknown keys and bad
            /// values are errors naming the key.
            fn patch(&mut self, table: &toml::Table) -> Result<(), String> {
                for (key, value) in table {
                    match key.as_str() {
                        $(stringify!($field) => self.$field = colour(key, value)?,)*
                        "venues" => {
                            let table = value.as_table().ok_or_else(|| {
                                "`venues` is a table of colours by venue name: \
                                 [venues] binance = \"#f0b90b\""
                                    .to_string()
                            })?;
                            for (name, v) in table {
                                let venue: Venue = name.parse().map_err(|e| format!("venues: {e}"))?;
                                self.venues
                                    .insert(venue.as_str().to_string(), colour(&format!("venues.{name}"), v)?);
                            }
                        }
                        "venue_palette" => {
                            let list = value
                                .as_array()
                                .ok_or_else(|| "`venue_palette` must be a list of colours".to_string())?;
                            self.venue_palette = list
                                .iter()
                                .map(|v| colour(key, v))
                                .collect::<Result<_, _>>()?;
                        }
                        "heat_palette" => {
                            let list = value
                                .as_array()
                                .ok_or_else(|| "`heat_palette` must be a list of colours".to_string())?;
                            let palette = list
                                .iter()
                                .map(|v| colour(key, v))
                                .collect::<Result<Vec<_>, _>>()?;
                            if palette.len() < 2 {
                                return Err("`heat_palette` needs two colours or more".to_string());
                            }
                            self.heat_palette = palette;
                        }
                        "bid_glyph" => self.bid_glyph = text(key, value)?,
                        "ask_glyph" => self.ask_glyph = text(key, value)?,
                        other => return Err(format!("unknown theme field `{other}`")),
                    }
                }
                Ok(())
            }

            /// Every key a complete theme file must define.
            fn required_keys() -> Vec<&'static str> {
                vec![$(stringify!($field),)* "bid_glyph", "ask_glyph", "heat_palette"]
            }

            fn blank(name: &str) -> Theme {
                Theme {
                    name: name.to_string(),
                    $($field: Color::Reset,)*
                    venues: BTreeMap::new(),
                    venue_palette: Vec::new(),
                    bid_glyph: String::new(),
                    ask_glyph: String::new(),
                    heat_palette: Vec::new(),
                }
            }
        }
    };
}

colour_fields!(
    text,
    background,
    muted,
    border,
    title,
    highlight,
    selection_bg,
    bid,
    ask,
    bid_dim,
    ask_dim,
    ok,
    warning,
    error,
    stale,
    heat_mid,
    heat_buy,
    heat_sell,
);

fn colour(key: &str, value: &toml::Value) -> Result<Color, String> {
    let s = value
        .as_str()
        .ok_or_else(|| format!("`{key}` must be a colour string like \"#1e90ff\" or \"red\""))?;
    Color::from_str(s).map_err(|_| format!("`{key}`: `{s}` is not a colour"))
}

fn text(key: &str, value: &toml::Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("`{key}` must be a string"))
}

fn parse_table(src: &str) -> Result<toml::Table, String> {
    src.parse::<toml::Table>().map_err(|e| e.to_string())
}

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin("dark").unwrap_or_else(|_| Theme::blank("dark"))
    }
}

impl Theme {
    /// A built-in theme by name, exactly as shipped.
    pub fn builtin(name: &str) -> Result<Theme, String> {
        let (_, src) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("unknown theme `{name}`; built-in: {}", builtin_names()))?;
        let table = parse_table(src).map_err(|e| format!("theme `{name}`: {e}"))?;
        if let Some(missing) = Theme::required_keys()
            .into_iter()
            .find(|k| !table.contains_key(*k))
        {
            return Err(format!("theme `{name}` lacks `{missing}`"));
        }
        let mut theme = Theme::blank(name);
        theme
            .patch(&table)
            .map_err(|e| format!("theme `{name}`: {e}"))?;
        Ok(theme)
    }

    /// Patches this theme with a user file's text (partial: listed fields only).
    pub fn patched_with(mut self, user_src: &str) -> Result<Theme, String> {
        let table = parse_table(user_src)?;
        self.patch(&table)?;
        Ok(self)
    }

    /// All built-in themes, each patched by `<dir>/<name>.toml` when that file
    /// exists. Errors in a user file keep the built-in and are returned as
    /// messages for the status bar.
    pub fn load_all(user_dir: Option<&Path>) -> (Vec<Theme>, Vec<String>) {
        let mut themes = Vec::new();
        let mut errors = Vec::new();
        for (name, _) in BUILTIN {
            let base = match Theme::builtin(name) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let user_file = user_dir.map(|d| d.join(format!("{name}.toml")));
            let theme = match user_file.as_deref().map(std::fs::read_to_string) {
                Some(Ok(src)) => match base.clone().patched_with(&src) {
                    Ok(t) => t,
                    Err(e) => {
                        let path = user_file.as_deref().unwrap_or(Path::new(name));
                        errors.push(format!("theme {}: {e}", path.display()));
                        base
                    }
                },
                _ => base,
            };
            themes.push(theme);
        }
        if themes.is_empty() {
            themes.push(Theme::blank("dark"));
        }
        (themes, errors)
    }

    /// The default directory for user theme patches.
    pub fn user_dir() -> Option<std::path::PathBuf> {
        directories::ProjectDirs::from("", "", "depthwatch").map(|d| d.config_dir().join("themes"))
    }

    /// A venue's colour: the theme's `[venues]` entry, else a colour of
    /// the theme's `venue_palette` chosen by the venue's name (stable across
    /// runs and venue additions), else the venue's own declared colour.
    pub fn venue(&self, venue: Venue) -> Color {
        if let Some(c) = self.venues.get(venue.as_str()) {
            return *c;
        }
        if !self.venue_palette.is_empty() {
            let i = name_hash(venue.as_str()) % self.venue_palette.len();
            return self.venue_palette[i];
        }
        Color::from_str(venue.spec().colour).unwrap_or(self.text)
    }

    // Ready-made styles, so panes stay consistent.
    pub fn base(&self) -> Style {
        Style::default().fg(self.text).bg(self.background)
    }
    pub fn fg(&self, c: Color) -> Style {
        Style::default().fg(c)
    }
    pub fn muted(&self) -> Style {
        self.fg(self.muted)
    }
    pub fn header(&self) -> Style {
        self.fg(self.muted).add_modifier(Modifier::BOLD)
    }
    pub fn title(&self) -> Style {
        self.fg(self.title).add_modifier(Modifier::BOLD)
    }
    pub fn border(&self) -> Style {
        self.fg(self.border)
    }
    pub fn selected(&self) -> Style {
        Style::default().bg(self.selection_bg)
    }

    /// The heatmap colour of an intensity in `0..=1` (0: the background).
    pub fn heat(&self, t: f64) -> Color {
        let n = self.heat_palette.len();
        if n == 0 || t.is_nan() || t <= 0.0 {
            return self.background;
        }
        let i = ((t * n as f64).ceil() as usize).clamp(1, n) - 1;
        self.heat_palette[i]
    }
}

/// FNV-1a: a hash that does not change between runs or Rust versions.
fn name_hash(name: &str) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h as usize
}

pub fn builtin_names() -> String {
    BUILTIN.map(|(n, _)| n).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_is_complete_and_documented() {
        for (name, src) in BUILTIN {
            let theme = Theme::builtin(name).unwrap();
            assert_eq!(theme.name, name);
            for key in Theme::required_keys() {
                assert!(
                    src.contains(&format!("#   {key}")),
                    "{name}.toml does not document `{key}`"
                );
            }
        }
    }

    #[test]
    fn colorblind_does_not_use_red_green_for_sides() {
        let t = Theme::builtin("colorblind").unwrap();
        assert_ne!(t.bid_glyph, t.ask_glyph);
        assert!(!t.bid_glyph.is_empty());
        assert_eq!(t.bid, Color::Rgb(0x56, 0xb4, 0xe9));
        assert_eq!(t.ask, Color::Rgb(0xe6, 0x9f, 0x00));
    }

    #[test]
    fn every_builtin_has_a_heat_palette_from_low_to_high() {
        for (name, _) in BUILTIN {
            let t = Theme::builtin(name).unwrap();
            assert!(t.heat_palette.len() >= 2, "{name}");
            assert_eq!(t.heat(0.0), t.background, "{name}");
            assert_eq!(t.heat(1e-9), t.heat_palette[0], "{name}");
            assert_eq!(t.heat(1.0), *t.heat_palette.last().unwrap(), "{name}");
            assert_eq!(t.heat(7.0), *t.heat_palette.last().unwrap(), "{name}");
            assert_ne!(t.heat_buy, t.heat_sell, "{name}");
        }
        let dark = Theme::builtin("dark").unwrap();
        assert!(
            dark.clone()
                .patched_with("heat_palette = [\"red\"]")
                .is_err()
        );
        assert!(dark.patched_with("heat_palette = \"red\"").is_err());
    }

    #[test]
    fn user_file_patches_only_listed_fields() {
        let base = Theme::builtin("dark").unwrap();
        let patched = base.clone().patched_with("bid = \"blue\"\n").unwrap();
        assert_eq!(patched.bid, Color::Blue);
        assert_eq!(patched.ask, base.ask);
        assert!(
            base.clone()
                .patched_with("bidd = \"blue\"")
                .unwrap_err()
                .contains("bidd")
        );
        assert!(
            base.clone()
                .patched_with("venues = [\"red\"]")
                .unwrap_err()
                .contains("table")
        );
        assert!(
            base.clone()
                .patched_with("[venues]\nftx = \"red\"")
                .is_err()
        );
        let okx = crate::venue!("okx");
        let red = base
            .clone()
            .patched_with("[venues]\nokx = \"red\"")
            .unwrap();
        assert_eq!(red.venue(okx), Color::Red);
        assert_eq!(
            red.venue(crate::venue!("bybit")),
            base.venue(crate::venue!("bybit"))
        );
    }

    #[test]
    fn every_venue_has_a_colour_in_every_theme() {
        for (name, _) in BUILTIN {
            let t = Theme::builtin(name).unwrap();
            for v in Venue::all() {
                assert_ne!(t.venue(v), Color::Reset, "{name}: {v}");
            }
        }
        // A theme that names no venue still colours them all.
        let mut bare = Theme::blank("bare");
        for v in Venue::all() {
            assert_eq!(bare.venue(v), Color::from_str(v.spec().colour).unwrap());
        }
        bare.venue_palette = vec![Color::Red, Color::Blue];
        let a = bare.venue(crate::venue!("kraken"));
        assert!(a == Color::Red || a == Color::Blue);
        assert_eq!(a, bare.venue(crate::venue!("kraken")), "stable");
    }

    #[test]
    fn load_all_reads_user_dir_and_reports_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("light.toml"), "title = \"red\"").unwrap();
        std::fs::write(dir.path().join("dark.toml"), "title = 5").unwrap();
        let (themes, errors) = Theme::load_all(Some(dir.path()));
        assert_eq!(themes.len(), 4);
        assert_eq!(themes[1].title, Color::Red);
        assert_eq!(themes[0], Theme::builtin("dark").unwrap());
        assert_eq!(errors.len(), 1, "{errors:?}");
    }
}
