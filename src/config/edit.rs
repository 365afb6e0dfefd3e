//! Watchlist edits for the Watchlist pane, made on the TOML document itself
//! (`toml_edit`) so that only the changed values move: every comment, blank
//! line, ordering and formatting choice of the rest of the file survives byte
//! for byte.
//!
//! Shape edited (see `config.example.toml`):
//!
//! ```toml
//! [watchlist]
//! instruments = [
//!     "BTC-USDT",
//!     "ETH-USDT",
//! ]
//!
//! [[watchlist.instrument]]
//! name = "BTC-USDT-PERP"
//! venues = ["binance", "bybit"]
//! ```
//!
//! Adding appends to `instruments` in the array's own style (one per line or
//! inline). Removing drops the value with its line (and its same-line
//! comment) plus any `[[watchlist.instrument]]` table for it. Toggling a
//! venue edits that table's `venues`, creating the table (with the venues the
//! instrument was on) the first time.

use std::path::Path;

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value};

use super::{Config, Diagnostic, atomic, check, listings};
use crate::model::{Instrument, Venue};

/// The documented example; a new config file starts as a copy of it.
pub const EXAMPLE: &str = include_str!("../../config.example.toml");

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the config is not valid TOML: {0}")]
    Syntax(#[from] toml_edit::TomlError),
    #[error("the config has errors; fix them first:\n{}", render(.0))]
    Invalid(Vec<Diagnostic>),
    #[error("`{0}` in the config is not {1}")]
    Shape(String, &'static str),
    #[error("{0} is not in the watchlist")]
    NotWatched(Instrument),
    #[error("no alert rule named \"{0}\" in the config")]
    NoSuchAlert(String),
    #[error("depthwatch does not watch {1} on {0}")]
    Unsupported(Venue, Instrument),
}

fn render(d: &[Diagnostic]) -> String {
    d.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads `path` (or the example when it does not exist), applies `edit`,
/// checks the result and saves it atomically. Returns the new config and
/// text (hand the text to `ConfigWatcher::acknowledge`). Nothing is written
/// when the edit changes nothing or the result would not validate.
pub fn edit_file<T>(
    path: &Path,
    edit: impl FnOnce(&mut DocumentMut) -> Result<T, EditError>,
) -> Result<(Config, String, T), EditError> {
    let io = |source| EditError::Io {
        path: path.display().to_string(),
        source,
    };
    let (old, exists) = match std::fs::read_to_string(path) {
        Ok(text) => (text, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (EXAMPLE.to_string(), false),
        Err(e) => return Err(io(e)),
    };
    check(&old, path).map_err(EditError::Invalid)?;
    let mut doc: DocumentMut = old.parse()?;
    let outcome = edit(&mut doc)?;
    let new = doc.to_string();
    // The saved text is the file's alone; the config is what runs.
    let config = super::check_run(&new, path).map_err(EditError::Invalid)?;
    if new != old || !exists {
        atomic::save_atomic(path, &new).map_err(io)?;
    }
    Ok((config, new, outcome))
}

/// Adds `instrument` at the end of the watchlist. `Ok(false)` if it was
/// already watched.
pub fn add_instrument(doc: &mut DocumentMut, instrument: &Instrument) -> Result<bool, EditError> {
    if effective_instruments(doc)?.contains(instrument) {
        return Ok(false);
    }
    let array = instruments_array(doc)?;
    push_formatted(array, &instrument.to_string());
    Ok(true)
}

/// Removes `instrument` from the watchlist (its `instruments` entry and any
/// `[[watchlist.instrument]]` table). `Ok(false)` if it was not watched.
pub fn remove_instrument(
    doc: &mut DocumentMut,
    instrument: &Instrument,
) -> Result<bool, EditError> {
    if !effective_instruments(doc)?.contains(instrument) {
        return Ok(false);
    }
    let mut changed = false;
    let in_implicit_defaults = listings::DEFAULT_WATCHLIST
        .iter()
        .any(|n| same_instrument(n, instrument));
    if has_array(doc) || in_implicit_defaults {
        let array = instruments_array(doc)?;
        while let Some(i) = position_of(array, |s| same_instrument(s, instrument)) {
            remove_formatted(array, i);
            changed = true;
        }
    }
    if let Some(tables) = override_tables(doc)? {
        let before = tables.len();
        tables.retain(|t| !table_names(t, instrument));
        changed |= tables.len() != before;
    }
    Ok(changed)
}

/// Turns `venue` on or off for `instrument`; returns whether it is now on.
pub fn toggle_venue(
    doc: &mut DocumentMut,
    instrument: &Instrument,
    venue: Venue,
) -> Result<bool, EditError> {
    let config = check(&doc.to_string(), Path::new("config.toml")).map_err(EditError::Invalid)?;
    if !config.instruments().contains(instrument) {
        return Err(EditError::NotWatched(*instrument));
    }
    let current = config.venues_for(instrument);
    let turn_on = !current.contains(&venue);
    if turn_on && !listings::carries(venue, instrument) {
        return Err(EditError::Unsupported(venue, *instrument));
    }
    if override_table(doc, instrument)?.is_none() {
        // Spell out an implicit default list first, so the new table adds to
        // it in the order it had.
        if !has_array(doc) {
            instruments_array(doc)?;
        }
        new_override_table(doc, instrument)?;
    }
    let table = override_table(doc, instrument)?
        .ok_or_else(|| EditError::Shape("watchlist.instrument".into(), "[[tables]]"))?;
    match table.get_mut("venues") {
        Some(item) => {
            let array = item
                .as_array_mut()
                .ok_or_else(|| EditError::Shape("venues".into(), "an array"))?;
            if turn_on {
                push_formatted(array, venue.as_str());
            } else {
                while let Some(i) = position_of(array, |s| s.parse::<Venue>().ok() == Some(venue)) {
                    remove_formatted(array, i);
                }
            }
        }
        None => {
            let mut venues: Vec<Venue> = current;
            if turn_on {
                venues.push(venue);
            } else {
                venues.retain(|v| *v != venue);
            }
            let array: Array = venues.iter().map(|v| v.as_str()).collect();
            table.insert("venues", Item::Value(Value::Array(array)));
        }
    }
    Ok(turn_on)
}

/// The instruments the document watches, in order (as `Config` reads them).
fn effective_instruments(doc: &DocumentMut) -> Result<Vec<Instrument>, EditError> {
    let config = check(&doc.to_string(), Path::new("config.toml")).map_err(EditError::Invalid)?;
    Ok(config.instruments())
}

fn watchlist_table(doc: &mut DocumentMut) -> Result<&mut Table, EditError> {
    let item = doc
        .entry("watchlist")
        .or_insert_with(|| Item::Table(Table::new()));
    item.as_table_mut()
        .ok_or_else(|| EditError::Shape("watchlist".into(), "a table"))
}

fn has_array(doc: &DocumentMut) -> bool {
    doc.get("watchlist")
        .and_then(|w| w.get("instruments"))
        .is_some()
}

/// The `instruments` array, created when missing with the built-in default
/// list (what a file without the key runs with).
fn instruments_array(doc: &mut DocumentMut) -> Result<&mut Array, EditError> {
    let watchlist = watchlist_table(doc)?;
    if !watchlist.contains_key("instruments") {
        let mut array = Array::new();
        for name in listings::DEFAULT_WATCHLIST {
            push_formatted(&mut array, name);
        }
        multiline(&mut array);
        watchlist.insert("instruments", Item::Value(Value::Array(array)));
    }
    watchlist
        .get_mut("instruments")
        .and_then(Item::as_array_mut)
        .ok_or_else(|| EditError::Shape("watchlist.instruments".into(), "an array"))
}

fn override_tables(doc: &mut DocumentMut) -> Result<Option<&mut ArrayOfTables>, EditError> {
    // `Item::get_mut` would insert a placeholder; `TableLike::get_mut` does not.
    let Some(watchlist) = doc.get_mut("watchlist").and_then(Item::as_table_like_mut) else {
        return Ok(None);
    };
    match watchlist.get_mut("instrument") {
        None | Some(Item::None) => Ok(None),
        Some(item) => item
            .as_array_of_tables_mut()
            .map(Some)
            .ok_or_else(|| EditError::Shape("watchlist.instrument".into(), "[[tables]]")),
    }
}

fn override_table<'d>(
    doc: &'d mut DocumentMut,
    instrument: &Instrument,
) -> Result<Option<&'d mut Table>, EditError> {
    Ok(override_tables(doc)?.and_then(|t| t.iter_mut().find(|t| table_names(t, instrument))))
}

fn new_override_table<'d>(
    doc: &'d mut DocumentMut,
    instrument: &Instrument,
) -> Result<&'d mut Table, EditError> {
    let watchlist = watchlist_table(doc)?;
    let item = watchlist
        .entry("instrument")
        .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
    let tables = item
        .as_array_of_tables_mut()
        .ok_or_else(|| EditError::Shape("watchlist.instrument".into(), "[[tables]]"))?;
    let mut table = Table::new();
    table.insert("name", toml_edit::value(instrument.to_string()));
    tables.push(table);
    let last = tables.len() - 1;
    tables
        .get_mut(last)
        .ok_or_else(|| EditError::Shape("watchlist.instrument".into(), "[[tables]]"))
}

fn table_names(table: &Table, instrument: &Instrument) -> bool {
    table
        .get("name")
        .and_then(Item::as_str)
        .is_some_and(|s| same_instrument(s, instrument))
}

fn same_instrument(text: &str, instrument: &Instrument) -> bool {
    text.parse::<Instrument>().ok().as_ref() == Some(instrument)
}

fn position_of(array: &Array, matches: impl Fn(&str) -> bool) -> Option<usize> {
    array.iter().position(|v| v.as_str().is_some_and(&matches))
}

fn raw(d: Option<&toml_edit::RawString>) -> String {
    d.and_then(|r| r.as_str()).unwrap_or("").to_string()
}

fn prefix_of(v: &Value) -> String {
    raw(v.decor().prefix())
}

fn suffix_of(v: &Value) -> String {
    raw(v.decor().suffix())
}

/// `text` up to and including its first newline, and the rest.
fn split_first_line(text: &str) -> Option<(&str, &str)> {
    text.find('\n').map(|i| (&text[..=i], &text[i + 1..]))
}

/// `text` up to and including its last newline, and what follows it.
fn split_last_line(text: &str) -> Option<(&str, &str)> {
    text.rfind('\n').map(|i| (&text[..=i], &text[i + 1..]))
}

/// Lays out a freshly built array one value per line with a trailing comma.
fn multiline(array: &mut Array) {
    for v in array.iter_mut() {
        v.decor_mut().set_prefix("\n    ");
        v.decor_mut().set_suffix("");
    }
    array.set_trailing_comma(!array.is_empty());
    array.set_trailing("\n");
}

/// Appends a string in the style of the array: on its own line with the same
/// indentation in a multi-line array (after any comment ending the previous
/// last line), `, "x"` in an inline one.
fn push_formatted(array: &mut Array, text: &str) {
    let mut value = Value::from(text);
    let Some(last) = array.len().checked_sub(1) else {
        let trailing = raw(Some(array.trailing()));
        let prefix = if trailing.contains('\n') {
            "\n    "
        } else {
            ""
        };
        value.decor_mut().set_prefix(prefix);
        value.decor_mut().set_suffix("");
        array.push_formatted(value);
        if trailing.contains('\n') {
            array.set_trailing_comma(true);
        }
        return;
    };
    let Some(last_value) = array.get(last) else {
        return;
    };
    let last_prefix = prefix_of(last_value);
    let last_suffix = suffix_of(last_value);
    let comma = array.trailing_comma();
    // What follows the last value's comma (or the value itself without one)
    // up to `]`.
    let tail = if comma {
        raw(Some(array.trailing()))
    } else {
        last_suffix.clone()
    };
    let multi_line = last_prefix.contains('\n') || tail.contains('\n');
    let (prefix, new_tail) = if multi_line {
        let indent = split_last_line(&last_prefix).map_or("    ", |(_, indent)| indent);
        match split_first_line(&tail) {
            Some((line_end, rest)) => (format!("{line_end}{indent}"), format!("\n{rest}")),
            None => (format!("\n{indent}"), tail.clone()),
        }
    } else {
        let prefix = if last == 0 {
            " ".to_string()
        } else {
            last_prefix.clone()
        };
        (prefix, tail.clone())
    };
    value.decor_mut().set_prefix(prefix);
    if comma {
        value.decor_mut().set_suffix("");
        array.set_trailing(new_tail);
    } else {
        if let Some(v) = array.get_mut(last) {
            v.decor_mut().set_suffix("");
        }
        value.decor_mut().set_suffix(new_tail);
    }
    array.push_formatted(value);
}

/// Removes the value at `index` with its line in a multi-line array (and
/// the comment sharing that line), keeping comment lines above and below.
fn remove_formatted(array: &mut Array, index: usize) {
    let Some(removed) = array.get(index) else {
        return;
    };
    let prefix = prefix_of(removed);
    let suffix = suffix_of(removed);
    let is_last = index + 1 == array.len();
    let comma = array.trailing_comma();
    // What follows the removed value up to the next value (or `]`).
    let next = if !is_last {
        array.get(index + 1).map(prefix_of).unwrap_or_default()
    } else if comma {
        raw(Some(array.trailing()))
    } else {
        suffix
    };
    let own_line = prefix.contains('\n') || index == 0;
    let joined = if own_line {
        let kept = split_last_line(&prefix).map_or(prefix.as_str(), |(head, _)| head);
        match split_first_line(&next) {
            Some((_, rest)) if prefix.contains('\n') => format!("{kept}{rest}"),
            _ => prefix.clone(),
        }
    } else {
        next.clone()
    };
    array.remove(index);
    if !is_last {
        if let Some(v) = array.get_mut(index) {
            v.decor_mut().set_prefix(joined);
        }
    } else if array.is_empty() {
        array.set_trailing_comma(false);
        array.set_trailing(joined);
    } else if comma {
        array.set_trailing(joined);
    } else if let Some(v) = array.get_mut(index - 1) {
        v.decor_mut().set_suffix(joined);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> DocumentMut {
        text.parse().unwrap()
    }

    fn add(text: &str, name: &str) -> String {
        let mut d = doc(text);
        let i: Instrument = name.parse().unwrap();
        assert!(add_instrument(&mut d, &i).unwrap());
        d.to_string()
    }

    fn remove(text: &str, name: &str) -> String {
        let mut d = doc(text);
        let i: Instrument = name.parse().unwrap();
        assert!(remove_instrument(&mut d, &i).unwrap());
        d.to_string()
    }

    #[test]
    fn push_keeps_inline_style() {
        assert_eq!(
            add("[watchlist]\ninstruments = [\"BTC-USDT\"]\n", "ETH-USDT"),
            "[watchlist]\ninstruments = [\"BTC-USDT\", \"ETH-USDT\"]\n"
        );
        assert_eq!(
            add(
                "[watchlist]\ninstruments = [ \"BTC-USDT\",  \"ETH-USD\" ]\n",
                "SOL-USDT"
            ),
            "[watchlist]\ninstruments = [ \"BTC-USDT\",  \"ETH-USD\",  \"SOL-USDT\" ]\n"
        );
        assert_eq!(
            add("[watchlist]\ninstruments = []\n", "SOL-USDT"),
            "[watchlist]\ninstruments = [\"SOL-USDT\"]\n"
        );
    }

    #[test]
    fn push_keeps_multiline_style_and_comments() {
        let text =
            "[watchlist]\ninstruments = [\n  \"BTC-USDT\",  # main\n  \"ETH-USDT\",  # second\n]\n";
        assert_eq!(
            add(text, "SOL-USDT"),
            "[watchlist]\ninstruments = [\n  \"BTC-USDT\",  # main\n  \"ETH-USDT\",  # second\n  \"SOL-USDT\",\n]\n"
        );
        let no_comma =
            "[watchlist]\ninstruments = [\n    \"BTC-USDT\",\n    \"ETH-USDT\"  # last\n]\n";
        assert_eq!(
            add(no_comma, "SOL-USDT"),
            "[watchlist]\ninstruments = [\n    \"BTC-USDT\",\n    \"ETH-USDT\",  # last\n    \"SOL-USDT\"\n]\n"
        );
        let end_comment = "[watchlist]\ninstruments = [\n    \"BTC-USDT\",\n    # more later\n]\n";
        assert_eq!(
            add(end_comment, "SOL-USDT"),
            "[watchlist]\ninstruments = [\n    \"BTC-USDT\",\n    \"SOL-USDT\",\n    # more later\n]\n"
        );
    }

    #[test]
    fn remove_takes_the_line_and_its_comment_only() {
        let text = "[watchlist]\ninstruments = [\n  # majors\n  \"BTC-USDT\",  # main\n  \"ETH-USDT\",  # second\n  \"SOL-USDT\",\n]\n";
        assert_eq!(
            remove(text, "ETH-USDT"),
            "[watchlist]\ninstruments = [\n  # majors\n  \"BTC-USDT\",  # main\n  \"SOL-USDT\",\n]\n"
        );
        assert_eq!(
            remove(text, "BTC-USDT"),
            "[watchlist]\ninstruments = [\n  # majors\n  \"ETH-USDT\",  # second\n  \"SOL-USDT\",\n]\n"
        );
        assert_eq!(
            remove(text, "SOL-USDT"),
            "[watchlist]\ninstruments = [\n  # majors\n  \"BTC-USDT\",  # main\n  \"ETH-USDT\",  # second\n]\n"
        );
        let no_comma =
            "[watchlist]\ninstruments = [\n    \"BTC-USDT\",\n    \"ETH-USDT\"  # last\n]\n";
        assert_eq!(
            remove(no_comma, "ETH-USDT"),
            "[watchlist]\ninstruments = [\n    \"BTC-USDT\"\n]\n"
        );
        assert_eq!(
            remove(
                "[watchlist]\ninstruments = [\"A-B\", \"C-D\", \"E-F\"]\n",
                "C-D"
            ),
            "[watchlist]\ninstruments = [\"A-B\", \"E-F\"]\n"
        );
        assert_eq!(
            remove("[watchlist]\ninstruments = [\"A-B\", \"C-D\"]\n", "A-B"),
            "[watchlist]\ninstruments = [\"C-D\"]\n"
        );
        assert_eq!(
            remove("[watchlist]\ninstruments = [\"A-B\"]\n", "A-B"),
            "[watchlist]\ninstruments = []\n"
        );
    }

    #[test]
    fn editing_an_implicit_default_list_writes_it_out() {
        let text = "# mine\n[ui]\nfps = 10\n";
        let out = add(text, "SOL-USDT");
        let config = check(&out, Path::new("x")).unwrap();
        assert_eq!(
            config.instruments().len(),
            listings::DEFAULT_WATCHLIST.len() + 1
        );
        assert!(out.starts_with("# mine\n[ui]\nfps = 10\n"), "{out}");
        let out = remove(text, "BTC-USD");
        let config = check(&out, Path::new("x")).unwrap();
        assert_eq!(
            config.instruments().len(),
            listings::DEFAULT_WATCHLIST.len() - 1
        );
    }

    #[test]
    fn toggling_in_an_implicit_default_list_keeps_the_others() {
        let mut d = doc("[ui]\nfps = 10\n");
        let i: Instrument = "ETH-USD".parse().unwrap();
        assert!(!toggle_venue(&mut d, &i, crate::venue!("gemini")).unwrap());
        let config = check(&d.to_string(), Path::new("x")).unwrap();
        assert_eq!(config.instruments(), Config::default().instruments(), "{d}");
        assert_eq!(
            config.venues_for(&i),
            [
                crate::venue!("coinbase"),
                crate::venue!("kraken"),
                crate::venue!("bitstamp"),
                crate::venue!("bitfinex"),
                crate::venue!("cryptocom")
            ]
        );
    }

    #[test]
    fn toggle_creates_then_edits_the_override_table() {
        let text = "[watchlist]\ninstruments = [\"BTC-USDT-PERP\"]\n\n[ui]\nfps = 30\n";
        let mut d = doc(text);
        let i: Instrument = "BTC-USDT-PERP".parse().unwrap();
        let before = check(text, Path::new("x")).unwrap().venues_for(&i);
        assert!(!toggle_venue(&mut d, &i, crate::venue!("okx")).unwrap());
        let out = d.to_string();
        // The implicit list spelled out, without OKX.
        let kept: Vec<String> = before
            .iter()
            .filter(|v| **v != crate::venue!("okx"))
            .map(|v| format!("{:?}", v.as_str()))
            .collect();
        assert_eq!(
            out,
            format!(
                "[watchlist]\ninstruments = [\"BTC-USDT-PERP\"]\n\n[[watchlist.instrument]]\nname = \"BTC-USDT-PERP\"\nvenues = [{}]\n\n[ui]\nfps = 30\n",
                kept.join(", ")
            )
        );
        assert!(matches!(
            toggle_venue(&mut d, &i, crate::venue!("hyperliquid")),
            Err(EditError::Unsupported(..))
        ));
        assert!(toggle_venue(&mut d, &i, crate::venue!("okx")).unwrap());
        let config = check(&d.to_string(), Path::new("x")).unwrap();
        let mut after = config.venues_for(&i);
        after.sort();
        let mut expected = before.clone();
        expected.sort();
        assert_eq!(after, expected);
        let other: Instrument = "DOGE-USDT".parse().unwrap();
        assert!(matches!(
            toggle_venue(&mut d, &other, crate::venue!("okx")),
            Err(EditError::NotWatched(_))
        ));
    }
}
