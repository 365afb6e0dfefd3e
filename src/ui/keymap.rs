//! The one key table. It dispatches keys *and* generates the `?` help overlay
//! and the key-hint line, so what the help says is what the keys do.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::panes::{PANES, PaneId};

/// Where a binding applies: everywhere, or only while a pane is active.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Pane(PaneId),
}

/// Everything a key can do. `name()` is the identifier used in config files.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Action {
    Quit,
    Help,
    Pause,
    NextPane,
    PrevPane,
    /// Index into [`PANES`].
    GoToPane(usize),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Make the instrument under the cursor the selected one.
    Select,
    Filter,
    CycleTheme,
    /// Mark the error on the message line read.
    Dismiss,
    NextInstrument,
    PrevInstrument,
    /// Book pane: aggregated → each venue's own book → aggregated.
    CycleBookVenue,
    /// Liquidations / trades panes: raise or lower the display threshold.
    RaiseThreshold,
    LowerThreshold,
    ReplayTogglePause,
    ReplayFaster,
    ReplaySlower,
    // Logs pane (forwarded to the tui-logger widget).
    LogToggleTargets,
    LogFocusTarget,
    LogShowLess,
    LogShowMore,
    LogCaptureLess,
    LogCaptureMore,
    LogPageUp,
    LogPageDown,
    LogFollow,
    LogHideOff,
    // Watchlist pane.
    WatchAdd,
    WatchRemove,
    WatchToggleVenue,
    VenueLeft,
    VenueRight,
    EditConfig,
}

impl Action {
    pub fn name(self) -> String {
        let s = match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::Pause => "pause",
            Action::NextPane => "next_pane",
            Action::PrevPane => "prev_pane",
            Action::GoToPane(i) => return format!("pane_{}", i + 1),
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Select => "select",
            Action::Filter => "filter",
            Action::CycleTheme => "cycle_theme",
            Action::Dismiss => "dismiss",
            Action::NextInstrument => "next_instrument",
            Action::PrevInstrument => "prev_instrument",
            Action::CycleBookVenue => "book_venue",
            Action::RaiseThreshold => "raise_threshold",
            Action::LowerThreshold => "lower_threshold",
            Action::ReplayTogglePause => "replay_pause",
            Action::ReplayFaster => "replay_faster",
            Action::ReplaySlower => "replay_slower",
            Action::LogToggleTargets => "log_targets",
            Action::LogFocusTarget => "log_focus",
            Action::LogShowLess => "log_show_less",
            Action::LogShowMore => "log_show_more",
            Action::LogCaptureLess => "log_capture_less",
            Action::LogCaptureMore => "log_capture_more",
            Action::LogPageUp => "log_page_up",
            Action::LogPageDown => "log_page_down",
            Action::LogFollow => "log_follow",
            Action::LogHideOff => "log_hide_off",
            Action::WatchAdd => "watch_add",
            Action::WatchRemove => "watch_remove",
            Action::WatchToggleVenue => "watch_toggle_venue",
            Action::VenueLeft => "venue_left",
            Action::VenueRight => "venue_right",
            Action::EditConfig => "edit_config",
        };
        s.to_string()
    }
}

/// A key with its modifiers, normalized so that `?` typed with Shift and
/// `?` without compare equal.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        Key { code, mods }
    }
    pub const fn plain(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::NONE)
    }
    pub const fn ch(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods =
            ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match ev.code {
            // The character already carries the shift.
            KeyCode::Char(_) => {
                mods.remove(KeyModifiers::SHIFT);
                ev.code
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// Parses `"j"`, `"ctrl-c"`, `"shift-tab"`, `"alt-enter"`, `"pagedown"`,
    /// `"f5"`, `"space"`, `"+"`, `"-"` (a lone dash is the minus key).
    pub fn parse(text: &str) -> Result<Key, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty key".to_string());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = t;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            mods |= m;
            rest = &rest[len..];
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "delete" | "del" => KeyCode::Delete,
            "insert" => KeyCode::Insert,
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                let n = f[1..].parse::<u8>().map_err(|e| e.to_string())?;
                if !(1..=24).contains(&n) {
                    return Err(format!("`{t}`: function keys go from f1 to f24"));
                }
                KeyCode::F(n)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => {
                        let c = if mods.contains(KeyModifiers::SHIFT) {
                            mods.remove(KeyModifiers::SHIFT);
                            c.to_ascii_uppercase()
                        } else {
                            c
                        };
                        KeyCode::Char(c)
                    }
                    _ => {
                        return Err(format!(
                            "`{t}` is not a key; examples: j, ctrl-c, shift-tab, enter, pagedown, f5"
                        ));
                    }
                }
            }
        };
        Ok(Key { code, mods })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Bksp"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub key: Key,
    pub context: Context,
    pub action: Action,
    pub description: String,
    /// Short label for the bottom key-hint line (None: only in help).
    pub hint: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: default_bindings(),
        }
    }
}

fn default_bindings() -> Vec<Binding> {
    use Action as A;
    use Context::{Global, Pane};
    use KeyCode as K;
    let ctrl = |c| Key::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    let mut table: Vec<(Key, Context, Action, &str, Option<&'static str>)> = vec![
        (Key::ch('q'), Global, A::Quit, "quit", Some("quit")),
        (ctrl('c'), Global, A::Quit, "quit", None),
        (
            Key::ch('?'),
            Global,
            A::Help,
            "show / hide this help",
            Some("help"),
        ),
        (
            Key::ch('p'),
            Global,
            A::Pause,
            "pause the display (feeds keep running)",
            Some("pause"),
        ),
        (Key::plain(K::Tab), Global, A::NextPane, "next pane", None),
        (
            Key::plain(K::BackTab),
            Global,
            A::PrevPane,
            "previous pane",
            None,
        ),
        (Key::ch('j'), Global, A::Down, "move down", None),
        (Key::plain(K::Down), Global, A::Down, "move down", None),
        (Key::ch('k'), Global, A::Up, "move up", None),
        (Key::plain(K::Up), Global, A::Up, "move up", None),
        (
            Key::plain(K::PageDown),
            Global,
            A::PageDown,
            "page down",
            None,
        ),
        (Key::plain(K::PageUp), Global, A::PageUp, "page up", None),
        (Key::ch('g'), Global, A::Top, "go to the top", None),
        (Key::plain(K::Home), Global, A::Top, "go to the top", None),
        (Key::ch('G'), Global, A::Bottom, "go to the bottom", None),
        (
            Key::plain(K::End),
            Global,
            A::Bottom,
            "go to the bottom",
            None,
        ),
        (
            Key::ch('/'),
            Global,
            A::Filter,
            "filter instruments (Esc clears)",
            Some("filter"),
        ),
        (
            Key::ch(']'),
            Global,
            A::NextInstrument,
            "next instrument",
            None,
        ),
        (
            Key::ch('['),
            Global,
            A::PrevInstrument,
            "previous instrument",
            None,
        ),
        (
            Key::ch('t'),
            Global,
            A::CycleTheme,
            "cycle colour theme",
            Some("theme"),
        ),
        (
            Key::plain(K::Esc),
            Global,
            A::Dismiss,
            "dismiss the error message",
            None,
        ),
        (
            Key::ch(' '),
            Global,
            A::ReplayTogglePause,
            "replay: pause / resume",
            None,
        ),
        (
            Key::ch('>'),
            Global,
            A::ReplayFaster,
            "replay: faster",
            None,
        ),
        (
            Key::ch('<'),
            Global,
            A::ReplaySlower,
            "replay: slower",
            None,
        ),
        (
            Key::plain(K::Enter),
            Pane(PaneId::Overview),
            A::Select,
            "select the instrument under the cursor",
            Some("select"),
        ),
        (
            Key::ch('v'),
            Pane(PaneId::Book),
            A::CycleBookVenue,
            "aggregated book / one venue's book (cycles)",
            Some("venue"),
        ),
        (
            Key::ch('+'),
            Pane(PaneId::Liquidations),
            A::RaiseThreshold,
            "raise the minimum notional shown",
            Some("min $"),
        ),
        (
            Key::ch('='),
            Pane(PaneId::Liquidations),
            A::RaiseThreshold,
            "raise the minimum notional shown",
            None,
        ),
        (
            Key::ch('-'),
            Pane(PaneId::Liquidations),
            A::LowerThreshold,
            "lower the minimum notional shown",
            None,
        ),
        (
            Key::ch('+'),
            Pane(PaneId::Trades),
            A::RaiseThreshold,
            "raise the large-trade threshold",
            Some("threshold"),
        ),
        (
            Key::ch('='),
            Pane(PaneId::Trades),
            A::RaiseThreshold,
            "raise the large-trade threshold",
            None,
        ),
        (
            Key::ch('-'),
            Pane(PaneId::Trades),
            A::LowerThreshold,
            "lower the large-trade threshold",
            None,
        ),
        (
            Key::ch('h'),
            Pane(PaneId::Logs),
            A::LogToggleTargets,
            "show / hide the target selector",
            Some("targets"),
        ),
        (
            Key::ch('f'),
            Pane(PaneId::Logs),
            A::LogFocusTarget,
            "show only the selected target",
            None,
        ),
        (
            Key::plain(K::Up),
            Pane(PaneId::Logs),
            A::Up,
            "select previous target",
            None,
        ),
        (
            Key::plain(K::Down),
            Pane(PaneId::Logs),
            A::Down,
            "select next target",
            None,
        ),
        (
            Key::plain(K::Left),
            Pane(PaneId::Logs),
            A::LogShowLess,
            "show one level less",
            None,
        ),
        (
            Key::plain(K::Right),
            Pane(PaneId::Logs),
            A::LogShowMore,
            "show one level more",
            Some("level"),
        ),
        (
            Key::ch('-'),
            Pane(PaneId::Logs),
            A::LogCaptureLess,
            "capture one level less",
            None,
        ),
        (
            Key::ch('+'),
            Pane(PaneId::Logs),
            A::LogCaptureMore,
            "capture one level more",
            None,
        ),
        (
            Key::plain(K::PageUp),
            Pane(PaneId::Logs),
            A::LogPageUp,
            "scroll back",
            Some("scroll"),
        ),
        (
            Key::plain(K::PageDown),
            Pane(PaneId::Logs),
            A::LogPageDown,
            "scroll forward",
            None,
        ),
        (
            Key::plain(K::Esc),
            Pane(PaneId::Logs),
            A::LogFollow,
            "follow new messages again",
            None,
        ),
        (
            Key::ch(' '),
            Pane(PaneId::Logs),
            A::LogHideOff,
            "hide targets that are off",
            None,
        ),
        (
            Key::ch('a'),
            Pane(PaneId::Watchlist),
            A::WatchAdd,
            "add an instrument (Tab completes, Enter adds, Esc cancels)",
            Some("add"),
        ),
        (
            Key::ch('d'),
            Pane(PaneId::Watchlist),
            A::WatchRemove,
            "remove the selected instrument (y confirms)",
            Some("remove"),
        ),
        (
            Key::ch(' '),
            Pane(PaneId::Watchlist),
            A::WatchToggleVenue,
            "turn the venue under the cursor on / off",
            Some("venue on/off"),
        ),
        (
            Key::ch('h'),
            Pane(PaneId::Watchlist),
            A::VenueLeft,
            "venue cursor left",
            None,
        ),
        (
            Key::plain(K::Left),
            Pane(PaneId::Watchlist),
            A::VenueLeft,
            "venue cursor left",
            None,
        ),
        (
            Key::ch('l'),
            Pane(PaneId::Watchlist),
            A::VenueRight,
            "venue cursor right",
            None,
        ),
        (
            Key::plain(K::Right),
            Pane(PaneId::Watchlist),
            A::VenueRight,
            "venue cursor right",
            None,
        ),
        (
            Key::ch('E'),
            Pane(PaneId::Watchlist),
            A::EditConfig,
            "edit the config file in $EDITOR (reloaded on save)",
            Some("edit file"),
        ),
    ];
    // Number keys follow the pane table, so a new pane gets its key for free.
    for i in 0..PANES.len().min(9) {
        if let Some(digit) = char::from_digit(i as u32 + 1, 10) {
            table.push((
                Key::ch(digit),
                Global,
                A::GoToPane(i),
                "go to pane by number",
                None,
            ));
        }
    }
    table
        .into_iter()
        .map(|(key, context, action, description, hint)| Binding {
            key,
            context,
            action,
            description: description.to_string(),
            hint,
        })
        .collect()
}

/// One help line: every key of one action, and what it does.
#[derive(Clone, Debug, PartialEq)]
pub struct HelpLine {
    pub keys: String,
    pub description: String,
}

impl Keymap {
    /// The default table with some actions rebound. Keys are action names
    /// (`quit`, `next_pane`, `pane_3`, `book_venue`, ...); values are one key
    /// or several separated by commas (`"q, ctrl-c"`). A rebound action loses
    /// its default keys.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Keymap, String> {
        let mut bindings = default_bindings();
        for (name, keys) in overrides {
            let template: Vec<Binding> = bindings
                .iter()
                .filter(|b| b.action.name() == *name)
                .cloned()
                .collect();
            if template.is_empty() {
                let mut known: Vec<String> =
                    default_bindings().iter().map(|b| b.action.name()).collect();
                known.dedup();
                return Err(format!(
                    "unknown key action `{name}`; known: {}",
                    known.join(", ")
                ));
            }
            let parsed: Vec<Key> = keys
                .split(',')
                .map(|k| Key::parse(k).map_err(|e| format!("keys.{name}: {e}")))
                .collect::<Result<_, _>>()?;
            bindings.retain(|b| b.action.name() != *name);
            let mut contexts: Vec<Context> = template.iter().map(|b| b.context).collect();
            contexts.dedup();
            for context in contexts {
                let like = template.iter().find(|b| b.context == context);
                let hint = template.iter().find_map(|b| b.hint);
                for key in &parsed {
                    bindings.push(Binding {
                        key: *key,
                        context,
                        action: template[0].action,
                        description: like.map(|b| b.description.clone()).unwrap_or_default(),
                        hint,
                    });
                }
            }
        }
        let map = Keymap { bindings };
        map.check_conflicts()?;
        Ok(map)
    }

    fn check_conflicts(&self) -> Result<(), String> {
        for (i, a) in self.bindings.iter().enumerate() {
            for b in &self.bindings[i + 1..] {
                if a.key == b.key && a.context == b.context && a.action != b.action {
                    return Err(format!(
                        "key {} is bound to both `{}` and `{}`",
                        a.key,
                        a.action.name(),
                        b.action.name()
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The action bound to `key` in exactly `context`.
    pub fn lookup(&self, key: &KeyEvent, context: Context) -> Option<Action> {
        let key = Key::from_event(key);
        self.bindings
            .iter()
            .find(|b| b.context == context && b.key == key)
            .map(|b| b.action)
    }

    /// The keys bound to an action in a context, for display.
    pub fn keys_for(&self, action: Action, context: Context) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|b| b.action == action && b.context == context)
            .map(|b| b.key)
            .collect()
    }

    /// Help lines for one context: bindings sharing a description are merged.
    pub fn help(&self, context: Context) -> Vec<HelpLine> {
        let mut lines: Vec<(String, Vec<Key>)> = Vec::new();
        for b in self.bindings.iter().filter(|b| b.context == context) {
            match lines.iter_mut().find(|(d, _)| *d == b.description) {
                Some((_, keys)) => keys.push(b.key),
                None => lines.push((b.description.clone(), vec![b.key])),
            }
        }
        lines
            .into_iter()
            .map(|(description, keys)| HelpLine {
                keys: join_keys(&keys),
                description,
            })
            .collect()
    }

    /// Short `(keys, label)` hints: the pane's own first, then global ones.
    pub fn hints(&self, pane: PaneId) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        for context in [Context::Pane(pane), Context::Global] {
            let mut seen: Vec<Action> = Vec::new();
            for b in self.bindings.iter().filter(|b| b.context == context) {
                if let Some(hint) = b.hint {
                    if seen.contains(&b.action) {
                        continue;
                    }
                    seen.push(b.action);
                    out.push((join_keys(&self.keys_for(b.action, context)), hint));
                }
            }
            if context == Context::Global {
                let digits: Vec<Key> = (0..PANES.len())
                    .flat_map(|i| self.keys_for(Action::GoToPane(i), Context::Global))
                    .collect();
                if !digits.is_empty() {
                    out.push((join_keys(&digits), "panes"));
                }
            }
        }
        out
    }
}

/// `j/↓`, and runs of 3+ consecutive digits as `1-7`.
fn join_keys(keys: &[Key]) -> String {
    let digits: Vec<u32> = keys
        .iter()
        .filter_map(|k| match k.code {
            KeyCode::Char(c) if k.mods.is_empty() => c.to_digit(10),
            _ => None,
        })
        .collect();
    if keys.len() >= 3 && digits.len() == keys.len() && digits.windows(2).all(|w| w[1] == w[0] + 1)
    {
        return format!("{}-{}", digits[0], digits[digits.len() - 1]);
    }
    keys.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
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
        let err =
            Keymap::with_overrides(&BTreeMap::from([("quit".into(), "p".into())])).unwrap_err();
        assert!(err.contains("pause"), "{err}");
        let err =
            Keymap::with_overrides(&BTreeMap::from([("fly".into(), "z".into())])).unwrap_err();
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
        assert_eq!(panes.keys, format!("1-{}", PANES.len()));
    }
}
