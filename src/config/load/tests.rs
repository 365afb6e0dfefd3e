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
