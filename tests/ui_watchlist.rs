//! The Watchlist pane: whole-screen renders (insta snapshots under
//! tests/snapshots/) live and in a replay, and its keys: add with completion,
//! remove with a confirmation, toggle a venue, the refusals.

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use depthwatch::config::Catalog;
use depthwatch::engine::Snapshot;
use depthwatch::model::{Instrument, InstrumentInfo, Venue};
use depthwatch::ui::app::TimeZone;
use depthwatch::ui::fixtures::sample_snapshot;
use depthwatch::ui::keymap::Context;
use depthwatch::ui::panes::PaneId;
use depthwatch::ui::panes::watchlist::Mode;
use depthwatch::ui::{App, Keymap, Outcome, Theme, UiCommand, WatchRow, WatchlistInfo, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn i(name: &str) -> Instrument {
    name.parse().unwrap()
}

fn info() -> WatchlistInfo {
    let row = |name: &str, venues: &[Venue]| WatchRow {
        instrument: i(name),
        venues: venues.to_vec(),
    };
    WatchlistInfo {
        rows: vec![
            row(
                "BTC-USDT",
                &[
                    depthwatch::venue!("binance"),
                    depthwatch::venue!("bybit"),
                    depthwatch::venue!("okx"),
                    depthwatch::venue!("kraken"),
                ],
            ),
            row(
                "ETH-USD",
                &[
                    depthwatch::venue!("coinbase"),
                    depthwatch::venue!("kraken"),
                    depthwatch::venue!("bitstamp"),
                    depthwatch::venue!("gemini"),
                ],
            ),
            row(
                "SOL-USDT",
                &[
                    depthwatch::venue!("binance"),
                    depthwatch::venue!("bybit"),
                    depthwatch::venue!("okx"),
                ],
            ),
            row(
                "BTC-USDT-PERP",
                &[depthwatch::venue!("binance"), depthwatch::venue!("bybit")],
            ),
        ],
        // A config naming the first eight venues of the registry (new
        // venues are appended, so this stays the same world).
        venues: Venue::all().take(8).collect(),
        config_path: Some(PathBuf::from("/home/me/.config/depthwatch/config.toml")),
        read_only: None,
    }
}

fn listed(venue: Venue, names: &[&str]) -> (Venue, Vec<InstrumentInfo>) {
    let list = names
        .iter()
        .map(|n| InstrumentInfo {
            instrument: i(n),
            native: n.replace('-', ""),
            tick_size: None,
            lot_size: None,
            contract_size: None,
            contract_usd: None,
        })
        .collect();
    (venue, list)
}

fn catalog() -> Arc<Catalog> {
    let mut c = Catalog::default();
    for (venue, list) in [
        listed(
            depthwatch::venue!("binance"),
            &["BTC-USDT", "SOL-USDT", "SOL-USDT-PERP", "SOLV-USDT"],
        ),
        listed(
            depthwatch::venue!("bybit"),
            &["BTC-USDT", "SOL-USDT", "SOL-USDT-PERP"],
        ),
        listed(depthwatch::venue!("okx"), &["BTC-USDT", "SOL-USDT-PERP"]),
    ] {
        c.update(venue, list, 0);
    }
    Arc::new(c)
}

fn live_app() -> App {
    let (themes, errors) = Theme::load_all(None);
    assert!(errors.is_empty(), "{errors:?}");
    let mut app = App::new(Keymap::default(), themes, "dark");
    app.time_zone = TimeZone::Utc;
    app.observe(&Arc::new(sample_snapshot()));
    app.set_watchlist(info());
    app.watch.catalog = catalog();
    app.go_to(PaneId::Watchlist);
    app
}

fn replay_app() -> App {
    let mut app = live_app();
    app.watch.info = None;
    app.observe(&Arc::new(sample_snapshot()));
    app
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let snap: Snapshot = sample_snapshot();
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw(f, &snap, app)).unwrap();
    let buf = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if std::env::var_os("SHOW_SCREENS").is_some() {
        println!("{out}");
    }
    out
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        assert_eq!(app.handle_key(key(c)), Outcome::Consumed, "{c}");
    }
}

#[test]
fn watchlist_screens() {
    for (w, h) in [(80, 24), (160, 48)] {
        let s = screen(&live_app(), w, h);
        insta::assert_snapshot!(format!("watchlist_{w}x{h}"), s);
    }
}

#[test]
fn screen_shows_each_venue_state() {
    let s = screen(&live_app(), 160, 48);
    for want in [
        "Watchlist · 4 instruments",
        "● live",
        "✗ out of sync (gap)",
        "◌ syncing",
        "✗ stale",
        "· no book yet",
        "○ off",
        "binance · BTC-USDT: live",
        "Edits go to /home/me/.config/depthwatch/config.toml (comments kept)",
    ] {
        assert!(s.contains(want), "lacks {want:?}:\n{s}");
    }
    // Narrow: the compact words.
    let s = screen(&live_app(), 80, 24);
    for want in ["● live", "✗ gap", "◌ sync", "✗ stale", "· none", "○ off"] {
        assert!(s.contains(want), "80x24 lacks {want:?}:\n{s}");
    }
}

#[test]
fn replay_is_read_only() {
    let mut app = replay_app();
    let s = screen(&app, 160, 48);
    assert!(s.contains("in the replay (read only)"), "{s}");
    assert!(s.contains("The watchlist is edited in live mode"), "{s}");
    assert!(
        s.contains("BTC-USDC"),
        "books of the captures are listed:\n{s}"
    );
    insta::assert_snapshot!("watchlist_replay_160x48", s);
    for k in ['a', 'd', ' ', 'E'] {
        assert_eq!(app.handle_key(key(k)), Outcome::Consumed);
        assert!(app.take_commands().is_empty());
        assert!(
            app.message()
                .map(|m| m.text)
                .unwrap_or("")
                .contains("replay")
        );
    }
    assert_eq!(app.watch.mode, Mode::Browse);
}

#[test]
fn add_with_completion() {
    let mut app = live_app();
    assert_eq!(app.handle_key(key('a')), Outcome::Consumed);
    assert!(matches!(app.watch.mode, Mode::Adding(_)));
    // Typing `q` or digits edits the line; it neither quits nor switches pane.
    typed(&mut app, "sol");
    let Mode::Adding(line) = &app.watch.mode else {
        panic!("add line closed")
    };
    let names: Vec<String> = line.candidates.iter().map(|(i, _)| i.to_string()).collect();
    // SOL-USDT is watched already: not offered.
    assert_eq!(names, ["SOL-USDT-PERP", "SOLV-USDT"]);
    assert_eq!(
        line.candidates[0].1,
        [
            depthwatch::venue!("binance"),
            depthwatch::venue!("bybit"),
            depthwatch::venue!("okx")
        ]
    );
    let s = screen(&app, 80, 24);
    assert!(s.contains("Add instrument") && s.contains("> SOL"), "{s}");
    // Tab walks the candidates (and wraps), Shift-Tab walks back.
    app.handle_key(code(KeyCode::Tab));
    app.handle_key(code(KeyCode::Tab));
    app.handle_key(code(KeyCode::Tab));
    app.handle_key(code(KeyCode::BackTab));
    let Mode::Adding(line) = &app.watch.mode else {
        panic!("add line closed")
    };
    assert_eq!(line.text, "SOLV-USDT");
    app.handle_key(code(KeyCode::Up));
    let s = screen(&app, 80, 24);
    insta::assert_snapshot!("watchlist_add_80x24", s);
    assert_eq!(app.handle_key(code(KeyCode::Enter)), Outcome::Consumed);
    assert_eq!(
        app.take_commands(),
        [UiCommand::AddInstrument(i("SOL-USDT-PERP"))]
    );
    assert_eq!(app.watch.mode, Mode::Browse);
}

#[test]
fn invalid_input_says_why_and_esc_cancels() {
    let mut app = live_app();
    app.handle_key(key('a'));
    let error = |app: &App| match &app.watch.mode {
        Mode::Adding(line) => line.error.clone().unwrap_or_default(),
        other => panic!("add line closed: {other:?}"),
    };
    app.handle_key(code(KeyCode::Enter));
    assert!(
        error(&app).contains("type an instrument"),
        "{}",
        error(&app)
    );
    typed(&mut app, "btc usdt");
    app.handle_key(code(KeyCode::Enter));
    assert!(error(&app).contains("not an instrument"), "{}", error(&app));
    for _ in 0..5 {
        app.handle_key(code(KeyCode::Backspace));
    }
    typed(&mut app, "-usdt");
    app.handle_key(code(KeyCode::Enter));
    assert_eq!(error(&app), "BTC-USDT is already watched");
    let s = screen(&app, 160, 48);
    assert!(s.contains("BTC-USDT is already watched"), "{s}");
    // Typing clears the error; a pair no cached list has is refused.
    for _ in 0..8 {
        app.handle_key(code(KeyCode::Backspace));
    }
    typed(&mut app, "ETH-USDT-PERP");
    assert_eq!(error(&app), "");
    app.handle_key(code(KeyCode::Enter));
    assert!(
        error(&app).contains("is not listed on binance, bybit, okx"),
        "{}",
        error(&app)
    );
    assert!(app.take_commands().is_empty());
    assert_eq!(app.handle_key(code(KeyCode::Esc)), Outcome::Consumed);
    assert_eq!(app.watch.mode, Mode::Browse);
    assert!(app.take_commands().is_empty());
    // Ctrl-C still quits from the add line.
    app.handle_key(key('a'));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.handle_key(ctrl_c), Outcome::Quit);
}

#[test]
fn remove_asks_first() {
    let mut app = live_app();
    app.handle_key(key('j'));
    assert_eq!(app.handle_key(key('d')), Outcome::Consumed);
    assert_eq!(app.watch.mode, Mode::ConfirmRemove(i("ETH-USD")));
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("Remove ETH-USD from the watchlist? y yes"),
        "{s}"
    );
    // Any other key keeps it (and is not acted on).
    assert_eq!(app.handle_key(key('q')), Outcome::Consumed);
    assert!(app.take_commands().is_empty());
    assert_eq!(app.message().map(|m| m.text), Some("kept ETH-USD"));
    app.handle_key(key('d'));
    app.handle_key(key('y'));
    assert_eq!(
        app.take_commands(),
        [UiCommand::RemoveInstrument(i("ETH-USD"))]
    );
    // `d d` works too.
    app.handle_key(key('d'));
    app.handle_key(key('d'));
    assert_eq!(
        app.take_commands(),
        [UiCommand::RemoveInstrument(i("ETH-USD"))]
    );
}

#[test]
fn space_toggles_the_venue_under_the_cursor() {
    let mut app = live_app();
    app.handle_key(key(' '));
    assert_eq!(
        app.take_commands(),
        [UiCommand::ToggleVenue(
            i("BTC-USDT"),
            depthwatch::venue!("binance")
        )]
    );
    app.handle_key(key('l'));
    app.handle_key(code(KeyCode::Right));
    app.handle_key(key('h'));
    app.handle_key(key(' '));
    assert_eq!(
        app.take_commands(),
        [UiCommand::ToggleVenue(
            i("BTC-USDT"),
            depthwatch::venue!("bybit")
        )]
    );
    assert!(screen(&app, 160, 48).contains("bybit · BTC-USDT: live"));
    // The cursor stops at the last column; a perp on a spot-only venue is
    // refused with a reason.
    for _ in 0..20 {
        app.handle_key(key('l'));
    }
    app.handle_key(key('G'));
    app.handle_key(key(' '));
    assert!(app.take_commands().is_empty());
    assert_eq!(
        app.message().map(|m| m.text),
        Some("depthwatch does not watch BTC-USDT-PERP on gemini")
    );
    // E asks the UI loop to run the editor.
    app.handle_key(key('E'));
    assert_eq!(app.take_commands(), [UiCommand::EditConfig]);
}

#[test]
fn read_only_live_sessions_say_why() {
    let mut app = live_app();
    let mut ro = info();
    ro.read_only = Some("demo without a config file".into());
    app.set_watchlist(ro);
    app.handle_key(key('a'));
    assert_eq!(app.watch.mode, Mode::Browse);
    assert_eq!(
        app.message().map(|m| m.text),
        Some("demo without a config file")
    );
    // Cursor bounds follow the rows the app sent.
    let mut fewer = info();
    fewer.rows.truncate(1);
    app.handle_key(key('G'));
    app.set_watchlist(fewer);
    assert_eq!(app.cursor(PaneId::Watchlist), 0);
}

#[test]
fn keys_are_in_the_help() {
    let help = Keymap::default().help(Context::Pane(PaneId::Watchlist));
    let text: Vec<String> = help
        .iter()
        .map(|l| format!("{} {}", l.keys, l.description))
        .collect();
    for want in [
        "a add an instrument",
        "d remove the selected instrument",
        "Space turn the venue under the cursor on / off",
        "h/← venue cursor left",
        "l/→ venue cursor right",
        "E edit the config file",
    ] {
        assert!(
            text.iter().any(|t| t.starts_with(want)),
            "{want:?} not in {text:?}"
        );
    }
    let mut app = live_app();
    app.handle_key(key('?'));
    let s = screen(&app, 160, 48);
    assert!(
        s.contains("Watchlist pane") && s.contains("add an instrument"),
        "{s}"
    );
}
