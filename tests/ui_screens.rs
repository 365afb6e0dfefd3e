//! Whole-screen renders of every pane from the fixed sample snapshot (insta
//! snapshots under tests/snapshots/), explicit checks of what must be on
//! screen, tiny-terminal safety, and key handling.

use std::collections::BTreeMap;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use depthwatch::engine::Snapshot;
use depthwatch::ui::app::{BookMode, TimeZone};
use depthwatch::ui::fixtures::sample_snapshot;
use depthwatch::ui::keymap::Context;
use depthwatch::ui::panes::{PANES, PaneId};
use depthwatch::ui::{App, Keymap, Outcome, Theme, UiCommand, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

fn app_with(keymap: Keymap) -> App {
    let (themes, errors) = Theme::load_all(None);
    assert!(errors.is_empty(), "{errors:?}");
    let mut app = App::new(keymap, themes, "dark");
    app.time_zone = TimeZone::Utc;
    app.observe(&Arc::new(sample_snapshot()));
    app
}

fn app() -> App {
    app_with(Keymap::default())
}

fn render_buffer(app: &App, snap: &Snapshot, w: u16, h: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw(f, snap, app)).unwrap();
    terminal.backend().buffer().clone()
}

/// The buffer as text, one line per row, trailing blanks trimmed.
fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let s = text(&render_buffer(app, &sample_snapshot(), w, h));
    if std::env::var_os("SHOW_SCREENS").is_some() {
        println!("{s}");
    }
    s
}

fn pane_screen(pane: PaneId, w: u16, h: u16) -> String {
    let mut app = app();
    app.go_to(pane);
    screen(&app, w, h)
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}
fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}
fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

macro_rules! pane_snapshots {
    ($($test:ident: $pane:expr, $name:literal;)*) => {$(
        #[test]
        fn $test() {
            for (w, h) in [(80, 24), (160, 48)] {
                let s = pane_screen($pane, w, h);
                insta::assert_snapshot!(format!("{}_{}x{}", $name, w, h), s);
            }
        }
    )*};
}

pane_snapshots! {
    overview_screens: PaneId::Overview, "overview";
    book_screens: PaneId::Book, "book";
    arbitrage_screens: PaneId::Arbitrage, "arbitrage";
    liquidations_screens: PaneId::Liquidations, "liquidations";
    trades_screens: PaneId::Trades, "trades";
    health_screens: PaneId::Health, "health";
    logs_screens: PaneId::Logs, "logs";
    derivatives_screens: PaneId::Derivatives, "derivatives";
    heatmap_screens: PaneId::Heatmap, "heatmap";
    chart_screens: PaneId::Chart, "chart";
}

#[test]
fn chart_keys_change_timeframe_source_zoom_and_crosshair() {
    let mut app = app();
    app.go_to(PaneId::Chart);
    let s = screen(&app, 160, 48);
    assert!(
        s.contains("Chart · BTC-USDT · 3 venues, volume-weighted · 1m"),
        "{s}"
    );
    assert!(s.contains("VWAP"), "the readout names the VWAP: {s}");
    assert!(
        s.contains("building"),
        "the newest candle is still open: {s}"
    );
    // Timeframes cycle.
    assert_eq!(app.handle_key(key('f')), Outcome::Consumed);
    assert!(screen(&app, 160, 48).contains("· 5m"));
    assert_eq!(app.handle_key(key('F')), Outcome::Consumed);
    // One venue, then the next, then back to all.
    app.handle_key(key('v'));
    assert!(screen(&app, 160, 48).contains("binance only"));
    app.handle_key(key('v'));
    assert!(screen(&app, 160, 48).contains("bybit only"));
    app.handle_key(key('v'));
    app.handle_key(key('v'));
    assert!(screen(&app, 160, 48).contains("3 venues"));
    // The crosshair reads out an older candle as it moves back.
    let live = screen(&app, 160, 48);
    app.handle_key(key('x'));
    for _ in 0..5 {
        app.handle_key(code(KeyCode::Left));
    }
    let moved = screen(&app, 160, 48);
    let readout = |s: &str| {
        s.lines()
            .find(|l| l.contains(" H ") && l.contains(" L ") && l.contains(" C "))
            .unwrap_or_default()
            .to_string()
    };
    assert_ne!(readout(&live), readout(&moved), "{moved}");
    assert!(!readout(&moved).contains("building"), "{moved}");
    insta::assert_snapshot!("chart_crosshair_160x48", moved);
    app.handle_key(code(KeyCode::Esc));
    assert_eq!(app.chart.crosshair, None);
    // Zoom in shows fewer, wider candles.
    app.handle_key(key('+'));
    app.handle_key(key('+'));
    assert_eq!(app.chart.zoom, 3);
    app.handle_key(key('-'));
    assert_eq!(app.chart.zoom, 2);
}

#[test]
fn colour_blind_charts_tell_up_from_down_by_shape() {
    let (themes, _) = Theme::load_all(None);
    let mut app = App::new(Keymap::default(), themes.clone(), "colorblind");
    app.time_zone = TimeZone::Utc;
    app.observe(&Arc::new(sample_snapshot()));
    app.go_to(PaneId::Chart);
    let s = screen(&app, 160, 48);
    assert!(
        s.contains('║') && s.contains('█'),
        "hollow up, filled down: {s}"
    );
    let mut dark = App::new(Keymap::default(), themes, "dark");
    dark.time_zone = TimeZone::Utc;
    dark.observe(&Arc::new(sample_snapshot()));
    dark.go_to(PaneId::Chart);
    assert!(
        !screen(&dark, 160, 48).contains('║'),
        "filled bodies when colour tells"
    );
}

#[test]
fn help_overlay_screens() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = app();
        assert_eq!(app.handle_key(key('?')), Outcome::Consumed);
        assert!(app.help);
        let s = screen(&app, w, h);
        insta::assert_snapshot!(format!("help_{w}x{h}"), s);
    }
}

#[test]
fn book_out_of_sync_venue_screen() {
    let mut app = app();
    app.go_to(PaneId::Book);
    // Aggregated → binance → bybit → okx → kraken (out of sync).
    for _ in 0..4 {
        assert_eq!(app.handle_key(key('v')), Outcome::Consumed);
    }
    assert_eq!(app.book_mode, BookMode::Venue(depthwatch::venue!("kraken")));
    let s = screen(&app, 160, 48);
    assert!(s.contains("kraken only (out of sync)"), "{s}");
    assert!(
        s.contains("kraken out of sync: sequence gap (expected 1042, got 1045)"),
        "{s}"
    );
    assert!(s.contains("not used for CBBO or arbitrage"), "{s}");
    insta::assert_snapshot!("book_kraken_out_of_sync_160x48", s);
    // One more press returns to the aggregated book.
    app.handle_key(key('v'));
    assert_eq!(app.book_mode, BookMode::Aggregated);
}

#[test]
fn screens_show_the_key_content() {
    let o = pane_screen(PaneId::Overview, 160, 48);
    for want in [
        "Overview · 4 instruments",
        "BTC-USDT",
        "65,140.4",
        "65,140.5",
        "bybit",
        "3,421.05",
        "BTC-USD≈USDT≈USDC",
        "no live venue — okx: syncing: waiting for a snapshot; bybit: stale",
        "kraken: sequence gap (expected 1042, got 1045)",
        "Venues · BTC-USDT",
        "+8.8",
        "$1.87M",
    ] {
        assert!(o.contains(want), "overview lacks {want:?}:\n{o}");
    }
    let o80 = pane_screen(PaneId::Overview, 80, 24);
    for want in [
        "BTC-USDT",
        "65,140.4",
        "65,140.5",
        "bybit",
        "binance",
        "no live venue",
    ] {
        assert!(o80.contains(want), "80x24 overview lacks {want:?}:\n{o80}");
    }

    let b = pane_screen(PaneId::Book, 160, 48);
    for want in [
        "Book · BTC-USDT · aggregated (3 of 4 venues live)",
        "✗ kraken left out: out of sync: sequence gap",
        "■ binance",
        "spread 0.1",
        "Depth (cumulative size)",
        "65,140.4",
    ] {
        assert!(b.contains(want), "book lacks {want:?}:\n{b}");
    }
    assert!(!pane_screen(PaneId::Book, 80, 24).contains("Depth (cumulative size)"));

    let a = pane_screen(PaneId::Arbitrage, 160, 48);
    for want in [
        "Open opportunities · 2",
        "coinbase",
        "gemini",
        "+8.8",
        "2.88 USD",
        "Recently closed · 3",
        "bitstamp out of sync",
        "Net bps now",
    ] {
        assert!(a.contains(want), "arbitrage lacks {want:?}:\n{a}");
    }
    // Sorted by profit: the BTC-USD arb (2.88) before the ETH-USD one (1.33).
    assert!(a.find("2.88 USD") < a.find("1.33 USD"));

    let l = pane_screen(PaneId::Liquidations, 160, 48);
    for want in [
        "Liquidations ≥ $10.0k",
        "long liq",
        "short liq",
        "$1.42M",
        "Long vs short",
        "Per minute",
    ] {
        assert!(l.contains(want), "liquidations lacks {want:?}:\n{l}");
    }
    let t = pane_screen(PaneId::Trades, 160, 48);
    for want in [
        "Large trades ≥ $100.0k",
        "Taker flow imbalance",
        "BTC-USDT",
        "+28%",
        "sell",
        "buy",
    ] {
        assert!(t.contains(want), "trades lacks {want:?}:\n{t}");
    }
    let h = pane_screen(PaneId::Health, 160, 48);
    for want in [
        "HTTP 429: rate limited, retrying in 30 s",
        "backoff 30s",
        "clock skew: exchange clock 2.4 s behind ours",
        "skew",
        "48,211 ✓ 0 ✗",
        "10,233 ✓ 1 ✗",
        "connecting",
    ] {
        assert!(h.contains(want), "health lacks {want:?}:\n{h}");
    }
    let h80 = pane_screen(PaneId::Health, 80, 24);
    assert!(h80.contains("HTTP 429: rate limited"), "{h80}");
    assert!(
        h80.contains("1 gap") || h80.contains("1 book not live +"),
        "counters fold into notes when narrow:\n{h80}"
    );

    // Chrome: tabs, status bar, hints.
    assert!(o.contains("1 Overview") && o.contains("7 Logs"));
    assert!(o.contains("venues 6/8 live"));
    assert!(o.contains("12:00:00"));
    assert!(o.contains("? help"));
}

#[test]
fn tiny_terminals_never_panic() {
    for (w, h) in [(20, 5), (1, 1), (10, 3), (40, 10), (80, 6), (300, 100)] {
        for p in PANES {
            let mut app = app();
            app.go_to(p.id);
            render_buffer(&app, &sample_snapshot(), w, h);
            app.help = true;
            render_buffer(&app, &sample_snapshot(), w, h);
        }
    }
    // An empty snapshot renders every pane too.
    let mut app = App::default();
    app.observe(&Arc::new(Snapshot::default()));
    for p in PANES {
        app.go_to(p.id);
        let s = text(&render_buffer(&app, &Snapshot::default(), 80, 24));
        assert!(!s.is_empty());
    }
}

#[test]
fn status_bar_shows_demo_replay_and_pause() {
    let mut app = app();
    app.demo = true;
    app.replay = Some(depthwatch::ui::ReplayStatus {
        position: depthwatch::ui::fixtures::NOW,
        start: depthwatch::ui::fixtures::NOW - 90_000_000,
        end: Some(depthwatch::ui::fixtures::NOW + 30_000_000),
        speed: "10x".into(),
        paused: false,
    });
    app.handle_key(key('p'));
    let s = screen(&app, 160, 48);
    assert!(s.contains("DEMO"), "{s}");
    assert!(s.contains("replay ▶ 12:00:00 (1m30s / 2m00s) 10x"), "{s}");
    assert!(s.contains("PAUSED"), "{s}");
    // Replay keys become commands only when replaying.
    app.handle_key(key(' '));
    app.handle_key(key('>'));
    assert_eq!(
        app.take_commands(),
        vec![
            UiCommand::ReplayPause(true),
            UiCommand::ReplaySpeed(depthwatch::ui::SpeedChange::Faster)
        ]
    );
    let mut live = self::app();
    assert_eq!(live.handle_key(key('>')), Outcome::NotConsumed);
    assert!(live.take_commands().is_empty());
}

#[test]
fn pane_switching_by_number_and_tab() {
    let mut app = app();
    // 1-9, then 0 for the tenth pane; later panes are reached with Tab.
    for (i, p) in PANES.iter().enumerate().take(10) {
        let digit = char::from_digit((i as u32 + 1) % 10, 10).unwrap();
        assert_eq!(app.handle_key(key(digit)), Outcome::Consumed);
        assert_eq!(app.pane_id(), p.id);
    }
    app.handle_key(key('1'));
    app.handle_key(code(KeyCode::Tab));
    assert_eq!(app.pane_id(), PaneId::Book);
    app.handle_key(code(KeyCode::BackTab));
    app.handle_key(code(KeyCode::BackTab));
    let last = PANES.last().unwrap().id;
    assert_eq!(app.pane_id(), last, "Shift-Tab wraps around");
    // Tab with a Shift modifier (some terminals) is Shift-Tab too.
    app.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::SHIFT));
    assert_eq!(app.pane_id(), PANES[PANES.len() - 2].id);
    assert_eq!(app.handle_key(key('0')), Outcome::Consumed);
    assert_eq!(app.pane_id(), PANES[9].id, "0 is the tenth pane");
}

#[test]
fn filter_selects_and_clears() {
    let mut app = app();
    assert_eq!(app.handle_key(key('/')), Outcome::Consumed);
    for c in "eth".chars() {
        assert_eq!(app.handle_key(key(c)), Outcome::Consumed);
    }
    assert_eq!(app.filter, "eth");
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("/ eth"),
        "the input line shows what is typed:\n{s}"
    );
    assert!(s.contains("ETH-USD") && !s.contains("SOL-USDT"), "{s}");
    assert_eq!(app.handle_key(code(KeyCode::Enter)), Outcome::Consumed);
    assert!(!app.filter_editing);
    // Enter now selects the (only) instrument under the cursor.
    app.handle_key(code(KeyCode::Enter));
    assert_eq!(
        app.selected.map(|i| i.to_string()).as_deref(),
        Some("ETH-USD")
    );
    // q while typing is a letter, not quit; Ctrl-C still quits.
    app.handle_key(key('/'));
    assert_eq!(app.handle_key(key('q')), Outcome::Consumed);
    assert_eq!(app.filter, "ethq");
    assert_eq!(app.handle_key(ctrl('c')), Outcome::Quit);
    assert_eq!(app.handle_key(code(KeyCode::Esc)), Outcome::Consumed);
    assert!(app.filter.is_empty() && !app.filter_editing);
    assert_eq!(app.filtered_instruments().len(), 4);
}

#[test]
fn cursor_moves_and_enter_selects() {
    let mut app = app();
    app.handle_key(key('j'));
    app.handle_key(code(KeyCode::Down));
    assert_eq!(app.cursor(PaneId::Overview), 2);
    app.handle_key(code(KeyCode::Enter));
    assert_eq!(
        app.selected.map(|i| i.to_string()).as_deref(),
        Some("BTC-USD")
    );
    app.handle_key(key('G'));
    assert_eq!(app.cursor(PaneId::Overview), 3, "clamped to the last row");
    app.handle_key(key('k'));
    app.handle_key(key('g'));
    assert_eq!(app.cursor(PaneId::Overview), 0);
    // In the Book pane up/down step through instruments instead.
    app.go_to(PaneId::Book);
    app.handle_key(key('j'));
    assert_eq!(
        app.selected.map(|i| i.to_string()).as_deref(),
        Some("SOL-USDT")
    );
}

#[test]
fn consumed_vs_not_consumed() {
    let mut app = app();
    assert_eq!(app.handle_key(key('z')), Outcome::NotConsumed);
    assert_eq!(
        app.handle_key(key('v')),
        Outcome::NotConsumed,
        "v is a Book key"
    );
    assert_eq!(app.handle_key(key('+')), Outcome::NotConsumed);
    assert_eq!(app.handle_key(key('q')), Outcome::Quit);
    assert_eq!(app.handle_key(ctrl('c')), Outcome::Quit);

    app.go_to(PaneId::Liquidations);
    assert_eq!(app.handle_key(key('+')), Outcome::Consumed);
    assert_eq!(app.handle_key(key('+')), Outcome::Consumed);
    assert_eq!(app.handle_key(key('-')), Outcome::Consumed);
    assert_eq!(
        app.take_commands(),
        vec![
            UiCommand::SetLiqMinNotional(25_000.0),
            UiCommand::SetLiqMinNotional(50_000.0),
            UiCommand::SetLiqMinNotional(25_000.0)
        ]
    );
    let s = screen(&app, 160, 48);
    assert!(s.contains("Liquidations ≥ $25.0k"), "{s}");

    app.go_to(PaneId::Trades);
    assert_eq!(app.handle_key(key('-')), Outcome::Consumed);
    assert_eq!(
        app.take_commands(),
        vec![UiCommand::SetLargeTradeUsd(50_000.0)]
    );

    // The Logs pane takes its own keys (forwarded to the log widget).
    app.go_to(PaneId::Logs);
    assert_eq!(app.handle_key(key('h')), Outcome::Consumed);
    assert_eq!(app.handle_key(code(KeyCode::PageUp)), Outcome::Consumed);
    assert!(app.take_commands().is_empty());

    let before = app.theme().name.clone();
    assert_eq!(app.handle_key(key('t')), Outcome::Consumed);
    assert_ne!(app.theme().name, before);
}

#[test]
fn help_is_generated_from_the_keymap() {
    let overrides = BTreeMap::from([("quit".to_string(), "x".to_string())]);
    let mut app = app_with(Keymap::with_overrides(&overrides).unwrap());
    app.go_to(PaneId::Book);
    app.handle_key(key('?'));
    let s = screen(&app, 160, 48);
    for ctx in [Context::Global, Context::Pane(PaneId::Book)] {
        for line in app.keymap.help(ctx) {
            if line.description.starts_with("replay:") {
                // Replay keys are listed only while replaying.
                assert!(!s.contains(&line.description), "{s}");
                continue;
            }
            assert!(
                s.contains(&line.description),
                "help lacks {:?}:\n{s}",
                line.description
            );
            assert!(
                s.contains(&line.keys),
                "help lacks keys {:?}:\n{s}",
                line.keys
            );
        }
    }
    assert!(s.contains("x  quit"), "overridden key shown:\n{s}");
    assert!(!s.contains("q/Ctrl-c"), "{s}");
    // Any key closes the overlay; then x quits and q no longer does.
    assert_eq!(app.handle_key(key('q')), Outcome::Consumed);
    assert!(!app.help);
    assert_eq!(app.handle_key(key('q')), Outcome::NotConsumed);
    assert_eq!(app.handle_key(key('x')), Outcome::Quit);
}

#[test]
fn pause_freezes_the_displayed_snapshot() {
    let mut app = app();
    let first = Arc::new(sample_snapshot());
    app.observe(&first);
    app.handle_key(key('p'));
    let mut next = sample_snapshot();
    next.version += 1;
    let next = Arc::new(next);
    app.observe(&next);
    assert_eq!(app.displayed(&next).version, first.version);
    app.handle_key(key('p'));
    assert_eq!(app.displayed(&next).version, next.version);
}

#[test]
fn every_theme_renders() {
    let mut app = app();
    for _ in 0..4 {
        app.handle_key(key('t'));
        for p in PANES {
            app.go_to(p.id);
            render_buffer(&app, &sample_snapshot(), 100, 30);
        }
    }
}

#[test]
fn thresholds_follow_the_engine_until_the_user_changes_them() {
    // The UI starts on an empty snapshot (thresholds 0) before the engine's
    // first one: what it shows and steps from must be the engine's values.
    let (themes, _) = Theme::load_all(None);
    let mut app = App::new(Keymap::default(), themes, "dark");
    app.time_zone = TimeZone::Utc;
    app.observe(&Arc::new(Snapshot::default()));
    let snap = sample_snapshot();
    app.observe(&Arc::new(snap.clone()));
    app.handle_key(key('5'));
    let title = text(&render_buffer(&app, &snap, 160, 48));
    let engine = depthwatch::ui::format::usd(snap.trades.threshold_usd);
    assert!(title.contains(&format!("≥ {engine}")), "{title}");
    app.handle_key(key('+'));
    let sent = app.take_commands();
    match sent.as_slice() {
        [UiCommand::SetLargeTradeUsd(x)] => assert!(*x > snap.trades.threshold_usd, "{x}"),
        other => panic!("{other:?}"),
    }
}

/// A live session's app (watchlist known) showing `snap`.
fn live_app(snap: &Snapshot) -> App {
    let mut app = app();
    app.set_watchlist(depthwatch::ui::fixtures::default_watchlist());
    app.observe(&Arc::new(snap.clone()));
    app
}

fn live_screen(app: &App, snap: &Snapshot, w: u16, h: u16) -> String {
    let s = text(&render_buffer(app, snap, w, h));
    if std::env::var_os("SHOW_SCREENS").is_some() {
        println!("{s}");
    }
    s
}

#[test]
fn offline_overview_says_unreachable_and_why() {
    let snap = depthwatch::ui::fixtures::offline_snapshot();
    let app = live_app(&snap);
    for (w, h) in [(80, 24), (160, 48)] {
        let s = live_screen(&app, &snap, w, h);
        assert!(!s.contains("no venue carries"), "{s}");
        assert!(s.contains("unreachable: DNS lookup failed"), "{s}");
        assert!(s.contains("see Health (6)"), "{s}");
        insta::assert_snapshot!(format!("overview_offline_{w}x{h}"), s);
    }
    let wide = live_screen(&app, &snap, 160, 48);
    // The venues are named where there is room, the TLS failure in plain words.
    assert!(
        wide.lines().any(|l| l.contains("BTC-USDT ")
            && l.contains("binance, bybit, okx, kraken")
            && l.contains("unreachable: DNS lookup failed — see Health (6)")),
        "{wide}"
    );
    assert!(
        wide.contains("bitstamp unreachable: TLS handshake failed — see Health (6)"),
        "{wide}"
    );
    assert!(!wide.contains("UnknownIssuer"), "{wide}");
}

#[test]
fn offline_book_and_watchlist_say_unreachable() {
    let snap = depthwatch::ui::fixtures::offline_snapshot();
    let mut app = live_app(&snap);
    app.go_to(PaneId::Book);
    let s = live_screen(&app, &snap, 80, 24);
    assert!(s.contains("unreachable: DNS lookup failed"), "{s}");
    assert!(!s.contains("no venue carries"), "{s}");
    insta::assert_snapshot!("book_offline_80x24", s);
    app.go_to(PaneId::Watchlist);
    let s = live_screen(&app, &snap, 80, 24);
    // Cells narrow as venues are added; the line under the table says why.
    assert!(s.contains('✗'), "{s}");
    assert!(s.contains("unreachable: DNS lookup failed"), "{s}");
    assert!(!s.contains("not carried"), "{s}");
    insta::assert_snapshot!("watchlist_offline_80x24", s);
}

#[test]
fn connecting_overview_waits_for_the_first_book() {
    let snap = depthwatch::ui::fixtures::connecting_snapshot();
    let app = live_app(&snap);
    for (w, h) in [(80, 24), (160, 48)] {
        let s = live_screen(&app, &snap, w, h);
        assert!(s.contains("waiting for the first book…"), "{s}");
        assert!(!s.contains("no venue carries"), "{s}");
        assert!(!s.contains("unreachable"), "{s}");
        insta::assert_snapshot!(format!("overview_connecting_{w}x{h}"), s);
    }
}

#[test]
fn no_venue_carries_only_when_true() {
    let snap = depthwatch::ui::fixtures::offline_snapshot();
    let mut info = depthwatch::ui::fixtures::default_watchlist();
    // No configured venue lists this one.
    info.rows[5].venues.clear();
    let mut app = live_app(&snap);
    app.set_watchlist(info.clone());
    let s = live_screen(&app, &snap, 160, 48);
    let row = |name: &str| {
        s.lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_default()
            .to_string()
    };
    let unwatched = info.rows[5].instrument.to_string();
    assert!(
        row(&unwatched).contains("no venue carries this instrument"),
        "{s}"
    );
    assert!(row("BTC-USDT").contains("unreachable"), "{s}");
}

#[test]
fn crossed_book_draws_both_depth_curves() {
    let snap = depthwatch::ui::fixtures::crossed_snapshot();
    let group = snap
        .instruments
        .iter()
        .find(|v| v.mixed_quotes)
        .expect("the fixture has a quote group");
    let (best_bid, best_ask) = (&group.aggregated.bids[0], &group.aggregated.asks[0]);
    assert!(best_bid.price > best_ask.price, "the fixture is crossed");
    assert!(
        group.aggregated.bids.last().unwrap().price > group.aggregated.asks.last().unwrap().price,
        "every bid shown is above every ask"
    );
    let mut app = app();
    app.observe(&Arc::new(snap.clone()));
    app.selected = Some(group.instrument);
    app.go_to(PaneId::Book);
    let buf = render_buffer(&app, &snap, 160, 48);
    let s = text(&buf);
    if std::env::var_os("SHOW_SCREENS").is_some() {
        println!("{s}");
    }
    assert!(s.contains("crossed by 122.61 (18.82 bps)"), "{s}");
    assert!(
        s.contains("Depth (cumulative size) · crossed by 122.61"),
        "{s}"
    );
    // Both curves are drawn: cells in the bid and in the ask colour inside
    // the chart (the right part of the pane), and the crossed band marker.
    let theme = app.theme();
    let chart_x = 160 * 11 / 20;
    let count = |colour| {
        let mut n = 0;
        for y in 0..48 {
            for x in chart_x..160 {
                let c = &buf[(x, y)];
                let braille = c
                    .symbol()
                    .chars()
                    .any(|ch| ('\u{2801}'..='\u{28FF}').contains(&ch));
                if c.fg == colour && braille {
                    n += 1;
                }
            }
        }
        n
    };
    assert!(count(theme.bid) > 10, "bid curve drawn:\n{s}");
    assert!(count(theme.ask) > 10, "ask curve drawn:\n{s}");
    assert!(count(theme.warning) > 5, "crossed band drawn:\n{s}");
    insta::assert_snapshot!("book_crossed_160x48", s);
}

/// An app whose clock the test moves.
fn app_with_clock() -> (App, Arc<std::sync::Mutex<std::time::Instant>>) {
    let mut app = app();
    let now = Arc::new(std::sync::Mutex::new(std::time::Instant::now()));
    let clock = now.clone();
    app.clock = Arc::new(move || *clock.lock().unwrap());
    (app, now)
}

fn advance(now: &std::sync::Mutex<std::time::Instant>, secs: u64) {
    *now.lock().unwrap() += std::time::Duration::from_secs(secs);
}

#[test]
fn status_messages_expire_and_errors_wait_to_be_dismissed() {
    let (mut app, now) = app_with_clock();
    app.handle_key(key('t'));
    let theme = app.theme().name.clone();
    assert_eq!(
        app.message().map(|m| m.text.to_string()),
        Some(format!("theme: {theme}"))
    );
    // Other keys do not wipe it; time does.
    app.handle_key(key('j'));
    advance(&now, 4);
    assert!(screen(&app, 80, 24).contains(&format!("theme: {theme}")));
    advance(&now, 1);
    app.tick();
    assert_eq!(app.message(), None);
    assert!(
        screen(&app, 80, 24).contains("? help"),
        "the hints are back"
    );

    // An error outlives any number of seconds and keys, until Esc.
    app.set_status(
        "config not reloaded, keeping the running one: config.toml:3:7: unknown key `fsp`".into(),
    );
    app.set_info("config file unchanged".into());
    advance(&now, 600);
    app.tick();
    app.handle_key(key('j'));
    let s = screen(&app, 80, 24);
    assert!(s.contains("✗ config not reloaded"), "{s}");
    assert!(s.contains("Esc dismisses"), "{s}");
    insta::assert_snapshot!("error_message_80x24", s);
    // In Logs, Esc reads the error first (and follows the log only after).
    app.go_to(PaneId::Logs);
    assert_eq!(app.handle_key(code(KeyCode::Esc)), Outcome::Consumed);
    assert_eq!(app.message(), None, "the info expired meanwhile");
    assert_eq!(app.handle_key(code(KeyCode::Esc)), Outcome::Consumed);
    // Esc with no error is not taken from the panes that use it.
    app.go_to(PaneId::Overview);
    assert_eq!(app.handle_key(code(KeyCode::Esc)), Outcome::NotConsumed);
}

#[test]
fn dismiss_key_is_in_the_help_and_can_be_rebound() {
    let mut app = app();
    app.handle_key(key('?'));
    let s = screen(&app, 160, 48);
    assert!(s.contains("Esc  dismiss the error message"), "{s}");
    let overrides = BTreeMap::from([("dismiss".to_string(), "ctrl-d".to_string())]);
    let mut app = app_with(Keymap::with_overrides(&overrides).unwrap());
    app.set_error("not saved: disk full".into());
    assert!(screen(&app, 80, 24).contains("Ctrl-d dismisses"));
    assert_eq!(app.handle_key(code(KeyCode::Esc)), Outcome::NotConsumed);
    assert_eq!(app.handle_key(ctrl('d')), Outcome::Consumed);
    assert_eq!(app.message(), None);
}

#[test]
fn every_pane_at_80x24_shows_whole_names_and_hints() {
    let sample = sample_snapshot();
    let offline = depthwatch::ui::fixtures::offline_snapshot();
    for (snap, live) in [(&sample, false), (&offline, true)] {
        for p in PANES {
            let mut app = if live { live_app(snap) } else { app() };
            app.go_to(p.id);
            let s = live_screen(&app, snap, 80, 24);
            let lines: Vec<&str> = s.lines().collect();
            // The current pane's name is whole in the tab line.
            assert!(
                format!("{} ", lines[0]).contains(&format!(" {} ", p.title)),
                "{}:\n{s}",
                p.title
            );
            // Every hint shown is whole: the bottom lines hold whole
            // "key label" items only.
            let hints: Vec<String> = app
                .keymap
                .hints(p.id)
                .into_iter()
                .map(|(k, l)| {
                    // As the hint line shows them: the first of several keys.
                    let k = if k.contains('/') && k.len() > 1 {
                        k.split('/').next().unwrap_or_default().to_string()
                    } else {
                        k
                    };
                    format!("{k} {l}")
                })
                .collect();
            let bottom: String = lines
                .iter()
                .rev()
                .take_while(|l| !l.contains(" venues "))
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join("  ");
            let leftover: String = bottom
                .split("  ")
                .filter(|item| !item.is_empty() && !hints.iter().any(|h| h == item.trim()))
                .collect::<Vec<_>>()
                .join(" | ");
            assert!(leftover.is_empty(), "partial hints {leftover:?}:\n{s}");
            assert!(bottom.contains("? help"), "{s}");
        }
    }
}
