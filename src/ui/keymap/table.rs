//! The default bindings: the table's data, one row per key. Dispatch, help,
//! hints and conflict checks read it through [`Keymap`](super::Keymap).

use crossterm::event::{KeyCode, KeyModifiers};

use super::{Action, Binding, Context, Key};
use crate::ui::panes::{PANES, PaneId};

pub(super) fn default_bindings() -> Vec<Binding> {
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
