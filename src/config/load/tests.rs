use super::ui::normalize_key;
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

fn overrides(list: &[(&str, &str)]) -> Vec<crate::config::env::Override> {
    crate::config::env::from_vars(list.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
}

#[test]
fn environment_overrides_apply_on_top_of_the_file() {
    let path = Path::new("c.toml");
    let text = "# mine\n[arbitrage]\nmin_net_bps = 1\n\n[ui]\nfps = 30\n";
    let o = overrides(&[
        ("DEPTHWATCH_ARBITRAGE__MIN_NET_BPS", "7.5"),
        ("DEPTHWATCH_UI__THEME", "light"),
        ("DEPTHWATCH_QUOTE_GROUPS", "[[\"USD\", \"USDT\"]]"),
        ("DEPTHWATCH_FEEDS__STALE_AFTER_S", "3"),
    ]);
    let c = check_overridden(text, path, &o).unwrap();
    let plain = check(text, path).unwrap();
    assert_eq!(c.arbitrage.min_net_bps, rust_decimal::Decimal::new(75, 1));
    assert_eq!(c.ui.theme, crate::config::Theme::Light);
    assert_eq!(c.ui.fps, 30, "keys not overridden keep the file's value");
    assert_eq!(c.quote_groups.len(), 1);
    assert_eq!(c.feeds.stale_after_s, 3.0);
    assert_ne!(c.feeds, plain.feeds);
    // No file at all: the defaults with the overrides.
    let d = check_overridden("", path, &o).unwrap();
    assert_eq!(d.ui.theme, crate::config::Theme::Light);
    assert_eq!(d.watchlist, Config::default().watchlist);
}

#[test]
fn a_bad_override_is_reported_under_its_variable() {
    let path = Path::new("c.toml");
    let text = "[ui]\nfps = 30\n";
    for (var, value, says) in [
        ("DEPTHWATCH_ARBITRAGE__MIN_NET_BPS", "8bps", "not a number"),
        ("DEPTHWATCH_UI__FPS", "\"fast\"", "fps"),
        ("DEPTHWATCH_UI__NO_SUCH_KEY", "1", "unknown key"),
        ("DEPTHWATCH_NO_SUCH_SECTION__KEY", "1", "unknown key"),
        ("DEPTHWATCH_UI__FPS__DEEPER", "1", "`ui.fps` is not a table"),
    ] {
        let err = check_overridden(text, path, &overrides(&[(var, value)])).unwrap_err();
        let shown = err
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(shown.starts_with(&format!("{var}: ")), "{shown}");
        assert!(shown.contains(says), "{var}: {shown}");
        assert!(!shown.contains("c.toml"), "{shown}");
    }
    // The file's own problems keep their line and column.
    let err = check_overridden(
        "[ui]\nfps = \"x\"\n",
        path,
        &overrides(&[("DEPTHWATCH_UI__THEME", "dark")]),
    )
    .unwrap_err();
    assert_eq!((err[0].line, err[0].path.as_path()), (2, path));
}
