//! Reading and validating a config file, with line:column diagnostics.
//!
//! TOML syntax errors, unknown keys and wrong types come from the `toml`
//! deserializer (with its byte span); every other check runs over spanned
//! values and collects all problems, not just the first.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use toml::Spanned;

use super::file::{ConfigFile, Number, Text};
use super::{Config, Theme, WatchEntry, paths};
use crate::model::{Asset, Instrument, Venue};

/// One problem in a config file, 1-based line and column (in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        // Not named `source`: the message already includes it, and a source
        // would print twice in an error chain.
        error: std::io::Error,
    },
    #[error("{}", render(diagnostics))]
    Invalid { diagnostics: Vec<Diagnostic> },
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads and validates the file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    check(&text, path).map_err(|diagnostics| ConfigError::Invalid { diagnostics })
}

/// Validates config text; `path` is only used to label diagnostics.
pub fn check(text: &str, path: &Path) -> Result<Config, Vec<Diagnostic>> {
    check_with_notes(text, path).map(|(config, _)| config)
}

/// [`check`], with the notes of a valid file: things that are allowed but
/// worth knowing (an instrument some of the watched venues do not carry).
pub fn check_with_notes(
    text: &str,
    path: &Path,
) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut checker = Checker {
        text,
        path,
        diagnostics: Vec::new(),
        notes: Vec::new(),
    };
    let file: ConfigFile = match toml::from_str(text) {
        Ok(file) => file,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = explain_serde_message(text, &span, e.message());
            checker.error(span, message);
            return Err(checker.diagnostics);
        }
    };
    let config = checker.build(file);
    if checker.diagnostics.is_empty() {
        Ok((config, checker.notes))
    } else {
        checker.diagnostics.sort_by_key(|d| (d.line, d.column));
        Err(checker.diagnostics)
    }
}

/// `depthwatch check-config [PATH]`: prints the verdict, returns the exit
/// code.
pub fn check_config_cmd(path: Option<PathBuf>) -> i32 {
    let (code, report) = check_config_report(path);
    if code == 0 {
        println!("{report}");
    } else {
        eprintln!("{report}");
    }
    code
}

/// The text and exit code of `check-config`, without printing.
pub fn check_config_report(path: Option<PathBuf>) -> (i32, String) {
    let explicit = path.is_some();
    let Some(path) = path.or_else(paths::default_config_file) else {
        return (
            1,
            "no config directory on this platform; pass a PATH".to_string(),
        );
    };
    if !explicit && !path.exists() {
        let c = Config::default();
        return (
            0,
            format!(
                "OK: no file at {}; built-in defaults: {} instruments, {} venues",
                path.display(),
                c.watchlist.entries.len(),
                c.active_venues().len()
            ),
        );
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(error) => return (1, ConfigError::Read { path, error }.to_string()),
    };
    match check_with_notes(&text, &path) {
        Ok((c, notes)) => {
            let mut report = format!(
                "OK: {}: {} instruments, {} venues",
                path.display(),
                c.watchlist.entries.len(),
                c.active_venues().len()
            );
            for n in notes {
                report.push_str(&format!("\nnote: {n}"));
            }
            (0, report)
        }
        Err(diagnostics) => (1, render(&diagnostics)),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Makes serde's wording friendlier and names the key when the error points
/// at a value (`fps: invalid type: string "x", expected an integer`).
fn explain_serde_message(text: &str, span: &Range<usize>, message: &str) -> String {
    let message = message.trim();
    if message == "duplicate key" {
        let key: String = text
            .get(span.start..)
            .unwrap_or("")
            .chars()
            .take_while(|c| !matches!(c, '=' | '\n' | ']'))
            .collect();
        return format!("duplicate key `{}`", key.trim());
    }
    let mut message = message
        .replace("unknown field", "unknown key")
        .replace("expected i64", "expected an integer")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table")
        .replace("expected struct", "expected a table");
    let names_its_key = message.starts_with("unknown key") || message.starts_with("missing field");
    if let Some(key) = key_before(text, span.start)
        && !names_its_key
    {
        message = format!("{key}: {message}");
    }
    message
}

/// The key of `key = value` when `offset` points into the value.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let before = text.get(line_start..offset)?;
    let (key, _value) = before.rsplit_once('=')?;
    // In an inline table (`keymap = { quit = 5 }`) the innermost key.
    let key = key.rsplit(['{', ',']).next().unwrap_or(key);
    let key = key.trim().trim_matches('"');
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plain.then(|| key.to_string())
}

struct Checker<'a> {
    text: &'a str,
    path: &'a Path,
    diagnostics: Vec<Diagnostic>,
    notes: Vec<Diagnostic>,
}

fn venue_list() -> String {
    Venue::all()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Checker<'_> {
    fn diagnostic(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let (line, column) = line_col(self.text, span.start);
        Diagnostic {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let d = self.diagnostic(span, message);
        self.diagnostics.push(d);
    }

    fn note(&mut self, span: Range<usize>, message: impl Into<String>) {
        let d = self.diagnostic(span, message);
        self.notes.push(d);
    }

    fn venue(&mut self, name: &Text) -> Option<Venue> {
        match name.get_ref().parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.error(
                    name.span(),
                    format!(
                        "unknown venue \"{}\" (expected one of {})",
                        name.get_ref(),
                        venue_list()
                    ),
                );
                None
            }
        }
    }

    fn venues(&mut self, names: &[Text]) -> Vec<Venue> {
        let mut seen: BTreeMap<Venue, Range<usize>> = BTreeMap::new();
        let mut out = Vec::new();
        for name in names {
            let Some(v) = self.venue(name) else { continue };
            if let Some(first) = seen.get(&v) {
                let (l, c) = line_col(self.text, first.start);
                self.error(
                    name.span(),
                    format!("duplicate venue \"{v}\" (first at {l}:{c})"),
                );
                continue;
            }
            seen.insert(v, name.span());
            out.push(v);
        }
        out
    }

    fn instrument(&mut self, name: &Text) -> Option<Instrument> {
        match name.get_ref().parse::<Instrument>() {
            Ok(i) => Some(i),
            Err(e) => {
                self.error(name.span(), format!("malformed instrument: {e}"));
                None
            }
        }
    }

    fn build(&mut self, file: ConfigFile) -> Config {
        let mut config = Config::default();
        if let Some(w) = file.watchlist {
            self.watchlist(w, &mut config);
        }
        if let Some(groups) = file.quote_groups {
            config.quote_groups = self.quote_groups(groups.get_ref());
        }
        if let Some(fees) = file.fees {
            self.fees(&fees, &mut config);
        }
        if let Some(a) = file.arbitrage {
            if let Some(v) = a.min_net_bps {
                config.arbitrage.min_net_bps =
                    self.decimal_at_least(&v, "min_net_bps", Decimal::from(-10_000));
            }
            if let Some(v) = a.min_profit {
                config.arbitrage.min_profit =
                    self.decimal_at_least(&v, "min_profit", Decimal::ZERO);
            }
            if let Some(v) = a.max_notional {
                config.arbitrage.max_notional =
                    self.decimal_at_least(&v, "max_notional", Decimal::ZERO);
            }
            if let Some(v) = a.history {
                config.arbitrage.history = self.count(&v, "history", 0..=100_000);
            }
        }
        if let Some(l) = file.liquidations {
            if let Some(v) = l.min_notional_usd {
                config.liquidations.min_notional_usd = self.non_negative(&v, "min_notional_usd");
            }
            if let Some(v) = l.tape_len {
                config.liquidations.tape_len = self.count(&v, "tape_len", 1..=100_000);
            }
        }
        if let Some(t) = file.trades {
            if let Some(v) = t.large_trade_usd {
                config.trades.large_trade_usd = self.non_negative(&v, "large_trade_usd");
            }
            if let Some(v) = t.tape_len {
                config.trades.tape_len = self.count(&v, "tape_len", 1..=100_000);
            }
        }
        if let Some(ui) = file.ui {
            self.ui(ui, &mut config);
        }
        if let Some(endpoints) = file.endpoints {
            self.endpoints(&endpoints, &mut config);
        }
        if let Some(f) = file.feeds {
            if let Some(v) = f.stale_after_s {
                let s = *v.get_ref();
                if s.is_finite() && s > 0.0 && s <= 86_400.0 {
                    config.feeds.stale_after_s = s;
                } else {
                    self.error(
                        v.span(),
                        format!("stale_after_s must be above 0 and at most 86400 seconds, got {s}"),
                    );
                }
            }
            let ch = &mut config.feeds.channels;
            ch.book = f.book.unwrap_or(ch.book);
            ch.trades = f.trades.unwrap_or(ch.trades);
            ch.liquidations = f.liquidations.unwrap_or(ch.liquidations);
            ch.funding = f.funding.unwrap_or(ch.funding);
        }
        config
    }

    fn watchlist(&mut self, w: super::file::WatchlistFile, config: &mut Config) {
        if let Some(venues) = &w.venues {
            config.watchlist.venues = self.venues(venues);
        }
        // Without an `instruments` key the default list stays, like any
        // missing key; `[[watchlist.instrument]]` tables refine or extend it.
        let mut entries: Vec<WatchEntry> = if w.instruments.is_some() {
            Vec::new()
        } else {
            std::mem::take(&mut config.watchlist.entries)
        };
        let mut first_seen: BTreeMap<Instrument, Range<usize>> = BTreeMap::new();
        for name in w.instruments.iter().flatten() {
            let Some(instrument) = self.instrument(name) else {
                continue;
            };
            if let Some(first) = first_seen.get(&instrument) {
                let (l, c) = line_col(self.text, first.start);
                self.error(
                    name.span(),
                    format!("duplicate instrument {instrument} (first at {l}:{c})"),
                );
                continue;
            }
            first_seen.insert(instrument, name.span());
            entries.push(WatchEntry {
                instrument,
                venues: None,
            });
        }
        let mut overridden: BTreeMap<Instrument, Range<usize>> = BTreeMap::new();
        for table in &w.instrument {
            let Some(instrument) = self.instrument(&table.name) else {
                continue;
            };
            if let Some(first) = overridden.get(&instrument) {
                let (l, c) = line_col(self.text, first.start);
                self.error(
                    table.name.span(),
                    format!(
                        "duplicate [[watchlist.instrument]] for {instrument} (first at {l}:{c})"
                    ),
                );
                continue;
            }
            overridden.insert(instrument, table.name.span());
            let venues = table.venues.as_deref().map(|v| self.venues(v));
            if let Some(venues) = &venues {
                for (venue, name) in venues.iter().zip(table.venues.iter().flatten()) {
                    if let Err(why) = (venue.spec().carries)(&instrument) {
                        self.error(
                            name.span(),
                            format!("{venue} does not carry {instrument}: {why}"),
                        );
                    }
                }
            }
            match entries.iter_mut().find(|e| e.instrument == instrument) {
                Some(entry) => entry.venues = venues,
                None => entries.push(WatchEntry { instrument, venues }),
            }
        }
        config.watchlist.entries = entries;
        self.check_carried(config, &first_seen, &overridden);
    }

    /// Every instrument the file names must be carried by a venue it is
    /// watched on (explicit venue lists were checked one by one); when only
    /// some carry it, a note names the others and why.
    fn check_carried(
        &mut self,
        config: &Config,
        listed: &BTreeMap<Instrument, Range<usize>>,
        overridden: &BTreeMap<Instrument, Range<usize>>,
    ) {
        for e in &config.watchlist.entries {
            if e.venues.is_some() {
                continue;
            }
            let Some(span) = overridden.get(&e.instrument).or(listed.get(&e.instrument)) else {
                continue; // from the built-in list
            };
            let i = e.instrument;
            // What the app will do: `venues_for` also consults the venues'
            // built-in listings for the default instruments.
            let carry = config.venues_for(&i);
            let refuse: Vec<Venue> = config
                .watchlist
                .venues
                .iter()
                .filter(|v| !carry.contains(v))
                .copied()
                .collect();
            let why = refuse
                .iter()
                .map(|v| match (v.spec().carries)(&i) {
                    Err(why) => why.to_string(),
                    Ok(()) => format!("{v} does not list {i}"),
                })
                .collect::<Vec<_>>()
                .join("; ");
            if carry.is_empty() {
                let message = if refuse.is_empty() {
                    format!("{i}: no venue is watched (watchlist.venues is empty)")
                } else {
                    format!("no watched venue carries {i}: {why}")
                };
                self.error(span.clone(), message);
            } else if !refuse.is_empty() {
                let on = carry
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.note(span.clone(), format!("{i} is watched on {on} only: {why}"));
            }
        }
    }

    fn quote_groups(&mut self, groups: &[Spanned<Vec<Text>>]) -> Vec<Vec<Asset>> {
        let mut out = Vec::new();
        let mut grouped: BTreeMap<Asset, Range<usize>> = BTreeMap::new();
        for group in groups {
            if group.get_ref().len() < 2 {
                self.error(
                    group.span(),
                    "a quote group needs at least two currencies, e.g. [\"USD\", \"USDT\"]",
                );
                continue;
            }
            let mut assets = Vec::new();
            for code in group.get_ref() {
                let asset = match Asset::new(code.get_ref().trim()) {
                    Ok(a) => a,
                    Err(e) => {
                        self.error(code.span(), format!("bad currency in quote group: {e}"));
                        continue;
                    }
                };
                if let Some(first) = grouped.get(&asset) {
                    let (l, c) = line_col(self.text, first.start);
                    self.error(
                        code.span(),
                        format!("{asset} is already in a quote group (at {l}:{c})"),
                    );
                    continue;
                }
                grouped.insert(asset, code.span());
                assets.push(asset);
            }
            out.push(assets);
        }
        out
    }

    fn fees(&mut self, fees: &BTreeMap<Text, Spanned<Number>>, config: &mut Config) {
        for (key, value) in fees {
            let bps = value.get_ref().0;
            if bps.is_sign_negative() && !bps.is_zero() {
                self.error(
                    value.span(),
                    format!(
                        "fee for {} is negative ({bps} bps); taker fees are 0 or more",
                        key.get_ref()
                    ),
                );
                continue;
            }
            if bps > Decimal::from(1000) {
                self.error(
                    value.span(),
                    format!(
                        "fee for {} is {bps} bps (over 10%); fees are in basis points: 10 = 0.1%",
                        key.get_ref()
                    ),
                );
                continue;
            }
            if key.get_ref() == "default" {
                config.fees.default_bps = bps;
                continue;
            }
            match key.get_ref().parse::<Venue>() {
                Ok(v) => {
                    config.fees.taker_bps.insert(v, bps);
                }
                Err(_) => self.error(
                    key.span(),
                    format!(
                        "unknown venue \"{}\" in [fees] (expected default or one of {})",
                        key.get_ref(),
                        venue_list()
                    ),
                ),
            }
        }
    }

    fn ui(&mut self, ui: super::file::UiFile, config: &mut Config) {
        if let Some(theme) = ui.theme {
            match Theme::ALL
                .into_iter()
                .find(|t| t.as_str().eq_ignore_ascii_case(theme.get_ref()))
            {
                Some(t) => config.ui.theme = t,
                None => self.error(
                    theme.span(),
                    format!(
                        "unknown theme \"{}\" (expected one of {})",
                        theme.get_ref(),
                        Theme::ALL.map(|t| t.as_str()).join(", ")
                    ),
                ),
            }
        }
        if let Some(fps) = ui.fps {
            let n = *fps.get_ref();
            if super::FPS_RANGE.contains(&n) {
                config.ui.fps = n as u16;
            } else {
                self.error(
                    fps.span(),
                    format!("fps must be between 1 and 120, got {n}"),
                );
            }
        }
        if let Some(depth) = ui.book_depth {
            config.ui.book_depth = self.count(&depth, "book_depth", 1..=5_000);
        }
        for (action, key) in ui.keymap.iter().flatten() {
            let name = action.get_ref();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            {
                self.error(
                    action.span(),
                    format!("keymap action \"{name}\" must be lower-case letters, digits, _ or -"),
                );
                continue;
            }
            match normalize_key(key.get_ref()) {
                Ok(k) => {
                    config.ui.keymap.insert(name.clone(), k);
                }
                Err(why) => self.error(key.span(), format!("keymap.{name}: {why}")),
            }
        }
    }

    fn endpoints(&mut self, endpoints: &BTreeMap<Text, BTreeMap<Text, Text>>, config: &mut Config) {
        for (venue_name, table) in endpoints {
            let Some(venue) = self.venue(venue_name) else {
                continue;
            };
            let known = venue.spec().endpoints;
            for (key, url) in table {
                let Some(endpoint) = venue.spec().endpoint(key.get_ref()) else {
                    let allowed = known.iter().map(|e| e.key).collect::<Vec<_>>().join(", ");
                    self.error(
                        key.span(),
                        format!(
                            "unknown endpoint key \"{}\" for {venue} (expected one of {allowed})",
                            key.get_ref()
                        ),
                    );
                    continue;
                };
                let want = endpoint.kind.schemes();
                let u = url.get_ref().trim();
                let has_host = want
                    .iter()
                    .find_map(|s| u.strip_prefix(s))
                    .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
                if !has_host {
                    self.error(
                        url.span(),
                        format!(
                            "{venue}.{}: \"{u}\" must be a URL starting with {} or {}",
                            key.get_ref(),
                            want[0],
                            want[1]
                        ),
                    );
                    continue;
                }
                config
                    .endpoints
                    .entry(venue)
                    .or_default()
                    .insert(key.get_ref().clone(), u.trim_end_matches('/').to_string());
            }
        }
    }

    fn decimal_at_least(&mut self, v: &Spanned<Number>, key: &str, min: Decimal) -> Decimal {
        let x = v.get_ref().0;
        if x < min {
            self.error(v.span(), format!("{key} must be at least {min}, got {x}"));
        }
        x
    }

    fn non_negative(&mut self, v: &Spanned<f64>, key: &str) -> f64 {
        let x = *v.get_ref();
        if !(x.is_finite() && x >= 0.0) {
            self.error(v.span(), format!("{key} must be 0 or more, got {x}"));
        }
        x
    }

    fn count(
        &mut self,
        v: &Spanned<i64>,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> usize {
        let n = *v.get_ref();
        if !range.contains(&n) {
            self.error(
                v.span(),
                format!(
                    "{key} must be between {} and {}, got {n}",
                    range.start(),
                    range.end()
                ),
            );
        }
        usize::try_from(n).unwrap_or(0)
    }
}

const NAMED_KEYS: [&str; 16] = [
    "enter",
    "esc",
    "tab",
    "backtab",
    "backspace",
    "delete",
    "insert",
    "home",
    "end",
    "pageup",
    "pagedown",
    "up",
    "down",
    "left",
    "right",
    "space",
];

/// Checks a key spec (`q`, `?`, `ctrl-c`, `alt-enter`, `f5`, `shift-tab`) and
/// returns it lower-cased.
fn normalize_key(spec: &str) -> Result<String, String> {
    let lower = spec.trim().to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split('-').collect();
    // A bare "-" or a "ctrl--" names the minus key.
    if lower.ends_with('-') && lower.len() > 1 || lower == "-" {
        parts.retain(|p| !p.is_empty());
        parts.push("-");
    }
    let Some((key, modifiers)) = parts.split_last() else {
        return Err("empty key".to_string());
    };
    for m in modifiers {
        if !matches!(*m, "ctrl" | "alt" | "shift") {
            return Err(format!(
                "unknown modifier \"{m}\" in \"{spec}\" (expected ctrl, alt or shift)"
            ));
        }
    }
    let is_function = key
        .strip_prefix('f')
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=12).contains(&n));
    if key.chars().count() == 1 || is_function || NAMED_KEYS.contains(key) {
        Ok(lower)
    } else {
        Err(format!(
            "unknown key \"{spec}\" (expected a character, f1..f12 or one of {})",
            NAMED_KEYS.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        let x = text.find("\"x").unwrap();
        assert_eq!(line_col(text, x), (2, 6));
        assert_eq!(line_col(text, 10_000), (3, 1));
    }

    #[test]
    fn keys_normalize() {
        assert_eq!(normalize_key("Ctrl-C").unwrap(), "ctrl-c");
        assert_eq!(normalize_key("F5").unwrap(), "f5");
        assert_eq!(normalize_key("?").unwrap(), "?");
        assert_eq!(normalize_key("-").unwrap(), "-");
        assert_eq!(normalize_key("ctrl--").unwrap(), "ctrl--");
        assert!(normalize_key("hyper-x").is_err());
        assert!(normalize_key("f13").is_err());
        assert!(normalize_key("banana").is_err());
    }

    #[test]
    fn no_file_defaults_are_valid_and_complete() {
        let c = check("", Path::new("empty.toml")).unwrap();
        assert_eq!(c, Config::default());
        let names: Vec<String> = c.instruments().iter().map(|i| i.to_string()).collect();
        for n in crate::config::listings::DEFAULT_WATCHLIST {
            assert!(names.contains(&n.to_string()));
        }
    }
}
