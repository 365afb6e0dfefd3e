//! Config overrides from the environment, for running as a service:
//! `DEPTHWATCH_<SECTION>__<KEY>=<value>` sets `[section] key`, a double
//! underscore between table levels (`DEPTHWATCH_ENDPOINTS__BINANCE__SPOT_WS`
//! sets `[endpoints.binance] spot_ws`), names upper or lower case. The
//! top-level keys that are not tables have no section:
//! `DEPTHWATCH_QUOTE_GROUPS`, `DEPTHWATCH_ALERTS`. Values are TOML values
//! (`5`, `"0.25"`, `true`, `["BTC-USDT"]`, `{ spot_ws = "ws://..." }`); one
//! that does not parse as TOML is taken as a string, so
//! `DEPTHWATCH_UI__THEME=light` works unquoted.
//!
//! Other `DEPTHWATCH_` variables (the log filter, alert secrets) are not
//! config keys and are left alone. Overrides apply on top of the file's text
//! when it is checked (start, reload, after an in-app edit), so an edit
//! never writes them into the file.

use toml_edit::{DocumentMut, Item, Table, Value};

/// The prefix of every override.
pub const PREFIX: &str = "DEPTHWATCH_";
/// Between table levels.
const LEVEL: &str = "__";
/// Top-level keys that hold a value, not a table: overridden by a name
/// without a level separator.
const TOP_LEVEL_VALUES: [&str; 2] = ["quote_groups", "alerts"];

/// One variable read as a config override.
#[derive(Clone, Debug)]
pub struct Override {
    /// The variable's name, for messages (the value is never repeated).
    pub var: String,
    /// Table names, then the key, lower case.
    pub path: Vec<String>,
    value: Value,
}

/// A variable that names a config key but cannot be one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadVar {
    pub var: String,
    pub message: String,
}

/// The overrides among `vars` (name, value), sorted by name; a variable
/// that names a config key badly is an error naming it.
pub fn from_vars(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Override>, Vec<BadVar>> {
    let mut overrides = Vec::new();
    let mut bad = Vec::new();
    for (var, text) in vars {
        let Some(rest) = strip_prefix(&var) else {
            continue;
        };
        let rest = rest.to_ascii_lowercase();
        if !rest.contains(LEVEL) && !TOP_LEVEL_VALUES.contains(&rest.as_str()) {
            continue;
        }
        let path: Vec<String> = rest.split(LEVEL).map(str::to_string).collect();
        if path.iter().any(|p| p.is_empty()) {
            bad.push(BadVar {
                var,
                message: "an empty table or key name (use one `__` between levels, e.g. DEPTHWATCH_ARBITRAGE__MIN_NET_BPS)".into(),
            });
            continue;
        }
        let value = text
            .trim()
            .parse::<Value>()
            .unwrap_or_else(|_| Value::from(text.as_str()));
        overrides.push(Override { var, path, value });
    }
    if !bad.is_empty() {
        bad.sort_by(|a, b| a.var.cmp(&b.var));
        return Err(bad);
    }
    overrides.sort_by(|a, b| a.var.cmp(&b.var));
    Ok(overrides)
}

/// The overrides in this process's environment.
pub fn from_env() -> Result<Vec<Override>, Vec<BadVar>> {
    // Names or values that are not Unicode cannot be config keys: skipped.
    from_vars(
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
    )
}

fn strip_prefix(var: &str) -> Option<&str> {
    let head = var.get(..PREFIX.len())?;
    head.eq_ignore_ascii_case(PREFIX)
        .then(|| &var[PREFIX.len()..])
}

/// Sets `o` in `doc`, creating the tables on its path. A path through a
/// value that is not a table is an error (message without the value).
pub fn apply(doc: &mut DocumentMut, o: &Override) -> Result<(), String> {
    let Some((key, tables)) = o.path.split_last() else {
        return Err("no key".into());
    };
    let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
    let mut walked = Vec::new();
    for name in tables {
        walked.push(name.as_str());
        if table.get(name).is_none() {
            let mut t = Table::new();
            // No empty `[a]` header for a table that only holds `[a.b]`.
            t.set_implicit(true);
            table.insert(name, Item::Table(t));
        }
        table = match table.get_mut(name).and_then(Item::as_table_like_mut) {
            Some(t) => t,
            None => return Err(format!("`{}` is not a table", walked.join("."))),
        };
    }
    table.insert(key, Item::Value(o.value.clone()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_become_paths_and_values_toml() {
        let o = from_vars(vars(&[
            ("DEPTHWATCH_UI__THEME", "light"),
            ("DEPTHWATCH_ARBITRAGE__MIN_NET_BPS", "5"),
            (
                "depthwatch_endpoints__binance__spot_ws",
                "\"ws://127.0.0.1:1\"",
            ),
            ("DEPTHWATCH_QUOTE_GROUPS", "[[\"USD\", \"USDT\"]]"),
            ("DEPTHWATCH_LOG", "debug"),
            ("DEPTHWATCH_WEBHOOK_URL", "https://secret.example/hook"),
            ("HOME", "/root"),
        ]))
        .unwrap();
        let paths: Vec<(&str, Vec<&str>)> = o
            .iter()
            .map(|o| (o.var.as_str(), o.path.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            paths,
            vec![
                (
                    "DEPTHWATCH_ARBITRAGE__MIN_NET_BPS",
                    vec!["arbitrage", "min_net_bps"]
                ),
                ("DEPTHWATCH_QUOTE_GROUPS", vec!["quote_groups"]),
                ("DEPTHWATCH_UI__THEME", vec!["ui", "theme"]),
                (
                    "depthwatch_endpoints__binance__spot_ws",
                    vec!["endpoints", "binance", "spot_ws"]
                ),
            ]
        );
        assert_eq!(o[0].value.as_integer(), Some(5));
        assert_eq!(o[2].value.as_str(), Some("light"), "not TOML: a string");
        assert_eq!(o[3].value.as_str(), Some("ws://127.0.0.1:1"));
    }

    #[test]
    fn empty_levels_are_an_error_naming_the_variable() {
        let err = from_vars(vars(&[("DEPTHWATCH_UI____THEME", "x")])).unwrap_err();
        assert_eq!(err[0].var, "DEPTHWATCH_UI____THEME");
        assert!(err[0].message.contains("empty"), "{}", err[0].message);
        assert!(from_vars(vars(&[("DEPTHWATCH_UI__", "x")])).is_err());
    }

    #[test]
    fn apply_replaces_in_place_and_adds_tables() {
        let mut doc: DocumentMut =
            "# mine\n[arbitrage]\nmin_net_bps = 1 # keep\n\n[ui]\nfps = 30\n"
                .parse()
                .unwrap();
        let o = from_vars(vars(&[
            ("DEPTHWATCH_ARBITRAGE__MIN_NET_BPS", "7.5"),
            ("DEPTHWATCH_ENDPOINTS__OKX__WS", "ws://localhost:9"),
        ]))
        .unwrap();
        for o in &o {
            apply(&mut doc, o).unwrap();
        }
        let text = doc.to_string();
        assert!(text.contains("min_net_bps = 7.5"), "{text}");
        assert!(
            text.contains("[endpoints.okx]\nws = \"ws://localhost:9\""),
            "{text}"
        );
        assert!(!text.contains("[endpoints]\n"), "{text}");
        let under_value = from_vars(vars(&[("DEPTHWATCH_UI__FPS__X", "1")])).unwrap();
        assert_eq!(
            apply(&mut doc, &under_value[0]).unwrap_err(),
            "`ui.fps` is not a table"
        );
    }
}
