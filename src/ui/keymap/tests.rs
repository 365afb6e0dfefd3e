use crossterm::event::{KeyCode, KeyModifiers};

use super::*;

#[test]
fn parses_key_strings() {
    assert_eq!(
        Key::parse("ctrl-c").unwrap(),
        Key::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
    );
    assert_eq!(
        Key::parse("shift-tab").unwrap(),
        Key::plain(KeyCode::BackTab)
    );
    assert_eq!(Key::parse("j").unwrap(), Key::ch('j'));
    assert_eq!(Key::parse("-").unwrap(), Key::ch('-'));
    assert_eq!(Key::parse("shift-j").unwrap(), Key::ch('J'));
    assert_eq!(Key::parse("F5").unwrap(), Key::plain(KeyCode::F(5)));
    assert_eq!(
        Key::parse("PageDown").unwrap(),
        Key::plain(KeyCode::PageDown)
    );
    assert!(Key::parse("ctrl-").is_err());
    assert!(Key::parse("jj").is_err());
    assert!(Key::parse("f99").is_err());
}

#[test]
fn shifted_characters_match_their_binding() {
    let map = Keymap::default();
    let ev = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
    assert_eq!(map.lookup(&ev, Context::Global), Some(Action::Help));
    let ev = KeyEvent::new(KeyCode::Tab, KeyModifiers::SHIFT);
    assert_eq!(map.lookup(&ev, Context::Global), Some(Action::PrevPane));
}

#[test]
fn defaults_have_no_conflicts() {
    Keymap::default().check_conflicts().unwrap();
}

#[test]
fn overrides_rebind_and_detect_conflicts() {
    let map = Keymap::with_overrides(&BTreeMap::from([(
        "quit".to_string(),
        "x, ctrl-q".to_string(),
    )]))
    .unwrap();
    let x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
    let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(map.lookup(&x, Context::Global), Some(Action::Quit));
    assert_eq!(map.lookup(&q, Context::Global), None);
    let err = Keymap::with_overrides(&BTreeMap::from([("quit".into(), "p".into())])).unwrap_err();
    assert!(err.contains("pause"), "{err}");
    let err = Keymap::with_overrides(&BTreeMap::from([("fly".into(), "z".into())])).unwrap_err();
    assert!(err.contains("unknown key action `fly`"), "{err}");
    let err =
        Keymap::with_overrides(&BTreeMap::from([("quit".into(), "ctrl-".into())])).unwrap_err();
    assert!(err.contains("keys.quit"), "{err}");
}

#[test]
fn help_merges_keys_of_one_action() {
    let help = Keymap::default().help(Context::Global);
    let quit = help.iter().find(|l| l.description == "quit").unwrap();
    assert_eq!(quit.keys, "q/Ctrl-c");
    let panes = help
        .iter()
        .find(|l| l.description == "go to pane by number")
        .unwrap();
    assert_eq!(panes.keys, format!("1-{}", PANES.len().min(10) % 10));
}
