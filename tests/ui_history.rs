//! The Arbitrage and Liquidations panes page back into stored history:
//! scrolling past the oldest live row asks for a page, the app layer's
//! reader reads it from a real store beside the rows a run wrote, and the
//! pane shows it below the live rows (insta screens at 80x24 and 160x48);
//! an empty store says so, no store says so, and Home goes back to live.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use depthwatch::app::store::PageReader;
use depthwatch::engine::Snapshot;
use depthwatch::engine::notices::Notice;
use depthwatch::engine::snapshot::{ArbOpportunity, ClosedArb, LiquidationRow};
use depthwatch::model::Micros;
use depthwatch::store::{Kind, SqliteStore, Store};
use depthwatch::ui::app::TimeZone;
use depthwatch::ui::fixtures::sample_snapshot;
use depthwatch::ui::history::{Direction, HistoryPane, PAGE_ROWS, PageRequest, PageResult};
use depthwatch::ui::keymap::Context;
use depthwatch::ui::panes::PaneId;
use depthwatch::ui::{App, Keymap, Theme, UiCommand, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SEC: Micros = 1_000_000;

fn new_app(store: bool) -> App {
    let (themes, errors) = Theme::load_all(None);
    assert!(errors.is_empty(), "{errors:?}");
    let mut app = App::new(Keymap::default(), themes, "dark");
    app.time_zone = TimeZone::Utc;
    if store {
        app.history.available();
    }
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
    out
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn requests(app: &mut App) -> Vec<PageRequest> {
    app.take_commands()
        .into_iter()
        .filter_map(|c| match c {
            UiCommand::LoadHistory(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// Closed opportunities older than the sample's: one a minute before the
/// sample's oldest closed one, each on another pair.
fn older_arbs(snap: &Snapshot) -> Vec<ClosedArb> {
    let oldest = snap.arb_history.iter().map(|c| c.closed).min().unwrap();
    let reasons = ["spread closed", "kraken out of sync", "spread closed"];
    (0..3)
        .map(|n| {
            let template = &snap.arb_history[(n as usize + 1) % 3];
            let closed = oldest - (n + 1) * 600 * SEC;
            ClosedArb {
                opened: closed - (n + 2) * 7 * SEC,
                closed,
                peak_net_bps: template.peak_net_bps + rust_decimal::Decimal::from(n),
                reason: reasons[n as usize].into(),
                ..template.clone()
            }
        })
        .collect()
}

/// Liquidations older than the sample's tape, above its $10k filter.
fn older_liquidations(snap: &Snapshot) -> Vec<LiquidationRow> {
    let tape = &snap.liquidations.tape;
    let oldest = tape.iter().map(|r| r.time).min().unwrap();
    (0..4)
        .map(|n| LiquidationRow {
            time: oldest - (n + 1) * 97 * SEC,
            ..tape[n as usize % 4].clone()
        })
        .collect()
}

/// A store as a run leaves it: the live rows and the older ones.
fn store_with(dir: &std::path::Path, notices: Vec<Notice>) -> std::path::PathBuf {
    let path = dir.join("history.sqlite");
    let mut s = SqliteStore::open(&path).unwrap();
    s.begin_run(0).unwrap();
    let batch: Vec<Arc<Notice>> = notices.into_iter().map(Arc::new).collect();
    s.write(&batch).unwrap();
    path
}

/// What the app layer does with a request: its reader answers it.
fn answer(
    reader: &PageReader,
    answers: &mut tokio::sync::mpsc::Receiver<PageResult>,
    req: PageRequest,
) -> PageResult {
    reader.ask(req);
    answers.blocking_recv().unwrap()
}

#[test]
fn arbitrage_pages_back_into_the_store() {
    let snap = sample_snapshot();
    let dir = tempfile::tempdir().unwrap();
    let older = older_arbs(&snap);
    let mut notices: Vec<Notice> = snap
        .arb_history
        .iter()
        .cloned()
        .map(Notice::ArbClosed)
        .collect();
    notices.extend(older.iter().cloned().map(Notice::ArbClosed));
    // An opportunity still open is not a closed one.
    let open: &ArbOpportunity = &snap.arbs[0];
    notices.push(Notice::ArbOpened(ArbOpportunity {
        opened: older[2].closed - 3 * SEC,
        ..open.clone()
    }));
    let path = store_with(dir.path(), notices);
    let (reader, mut answers) = PageReader::spawn(path).unwrap();

    let mut app = new_app(true);
    app.go_to(PaneId::Arbitrage);
    let live = screen(&app, 80, 24);
    // To the oldest live row: no read yet; one more step past it reads.
    assert_eq!(
        app.keymap
            .lookup(&code(KeyCode::End), Context::Pane(PaneId::Arbitrage))
            .map(|a| a.name()),
        Some("bottom".into())
    );
    for _ in 0..snap.arbs.len() + snap.arb_history.len() - 1 {
        app.handle_key(code(KeyCode::Down));
    }
    assert!(requests(&mut app).is_empty());
    app.handle_key(code(KeyCode::Down));
    let reqs = requests(&mut app);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let q = &reqs[0].query;
    let oldest = snap.arb_history.iter().map(|c| c.closed).min().unwrap();
    assert_eq!(
        (q.kind, q.by_close, q.until, q.limit),
        (Kind::Arbitrage, true, Some(oldest + 1), Some(PAGE_ROWS))
    );
    // While it is out, nothing more is asked.
    app.handle_key(code(KeyCode::Down));
    assert!(requests(&mut app).is_empty());
    let loading = screen(&app, 80, 24);
    assert!(loading.contains("loading older history"), "{loading}");

    let page = answer(&reader, &mut answers, reqs[0].clone());
    assert_eq!(page.direction, Direction::Older);
    app.history_page(page);
    // To the oldest stored row (the live ones scroll out at 80x24).
    app.handle_key(code(KeyCode::End));
    assert!(requests(&mut app).is_empty());
    for (w, h) in [(80, 24), (160, 48)] {
        let s = screen(&app, w, h);
        assert!(s.contains("— history (store) —"), "{s}");
        assert!(s.contains("3 from the store"), "{s}");
        assert!(s.contains("no older history"), "the page was short: {s}");
        insta::assert_snapshot!(format!("arbitrage_history_{w}x{h}"), s);
    }
    // The cursor walks into the stored rows; past them, nothing to ask.
    for _ in 0..10 {
        app.handle_key(code(KeyCode::Down));
    }
    assert!(requests(&mut app).is_empty());
    // Home: back to live, the stored rows dropped.
    app.handle_key(code(KeyCode::Home));
    assert_eq!(app.cursor(PaneId::Arbitrage), 0);
    assert_eq!(screen(&app, 80, 24), live);
}

#[test]
fn liquidations_page_back_into_the_store() {
    let snap = sample_snapshot();
    let dir = tempfile::tempdir().unwrap();
    let older = older_liquidations(&snap);
    let mut notices: Vec<Notice> = snap
        .liquidations
        .tape
        .iter()
        .rev()
        .cloned()
        .map(Notice::Liquidation)
        .collect();
    notices.extend(older.iter().cloned().map(Notice::Liquidation));
    let path = store_with(dir.path(), notices);
    let (reader, mut answers) = PageReader::spawn(path).unwrap();

    let mut app = new_app(true);
    app.go_to(PaneId::Liquidations);
    app.handle_key(code(KeyCode::End));
    assert!(requests(&mut app).is_empty(), "End stops on the oldest row");
    app.handle_key(code(KeyCode::PageDown));
    let reqs = requests(&mut app);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].pane, HistoryPane::Liquidations);
    let oldest = snap.liquidations.tape.iter().map(|r| r.time).min().unwrap();
    assert_eq!(reqs[0].query.until, Some(oldest + 1));
    app.history_page(answer(&reader, &mut answers, reqs[0].clone()));
    // Onto the newest stored row: the boundary is in view at 80x24.
    app.handle_key(code(KeyCode::Down));
    assert!(requests(&mut app).is_empty());
    for (w, h) in [(80, 24), (160, 48)] {
        let s = screen(&app, w, h);
        assert!(s.contains("— history (store) —"), "{s}");
        assert!(s.contains("+ 4 from the store"), "{s}");
        insta::assert_snapshot!(format!("liquidations_history_{w}x{h}"), s);
    }
    // The stored rows are rows: the cursor reaches the last of them.
    app.handle_key(code(KeyCode::End));
    let shown = snap
        .liquidations
        .tape
        .iter()
        .filter(|r| r.notional_usd >= snap.liquidations.min_notional_usd)
        .count();
    assert_eq!(app.cursor(PaneId::Liquidations), shown + older.len() - 1);
}

#[test]
fn an_empty_store_says_there_is_no_older_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_with(dir.path(), Vec::new());
    let (reader, mut answers) = PageReader::spawn(path).unwrap();
    for pane in [PaneId::Arbitrage, PaneId::Liquidations] {
        let mut app = new_app(true);
        app.go_to(pane);
        app.handle_key(code(KeyCode::End));
        app.handle_key(code(KeyCode::Down));
        let reqs = requests(&mut app);
        assert_eq!(reqs.len(), 1, "{pane:?}");
        app.history_page(answer(&reader, &mut answers, reqs[0].clone()));
        let s = screen(&app, 80, 24);
        assert!(s.contains("no older history"), "{pane:?}:\n{s}");
        assert!(!s.contains("from the store"), "{pane:?}:\n{s}");
        // Asked once: the store has nothing older.
        app.handle_key(code(KeyCode::Down));
        assert!(requests(&mut app).is_empty());
    }
}

#[test]
fn without_a_store_the_panes_say_so() {
    for pane in [PaneId::Arbitrage, PaneId::Liquidations] {
        let mut app = new_app(false);
        app.go_to(pane);
        let before = screen(&app, 160, 48);
        assert!(!before.contains("no stored history"), "{before}");
        app.handle_key(code(KeyCode::End));
        app.handle_key(code(KeyCode::Down));
        assert!(requests(&mut app).is_empty(), "no store, no read");
        let s = screen(&app, 160, 48);
        assert_eq!(
            s.matches("no stored history: [store] is off").count(),
            1,
            "{pane:?}:\n{s}"
        );
        // The app layer's reason is the one shown.
        let mut app = new_app(false);
        app.history.off = Some("a replay keeps none without --store PATH".into());
        app.go_to(pane);
        app.handle_key(code(KeyCode::End));
        app.handle_key(code(KeyCode::Down));
        let s = screen(&app, 160, 48);
        assert!(
            s.contains("no stored history: a replay keeps none without --store PATH"),
            "{s}"
        );
    }
}

#[test]
fn both_panes_help_lists_the_history_keys() {
    let keymap = Keymap::default();
    for pane in [PaneId::Arbitrage, PaneId::Liquidations] {
        let help = keymap.help(Context::Pane(pane));
        let live = help
            .iter()
            .find(|l| l.description.starts_with("back to live"))
            .unwrap_or_else(|| panic!("{pane:?}: {help:?}"));
        assert_eq!(live.keys, "Home/g");
        let older = help
            .iter()
            .find(|l| l.description.contains("moving on past it"))
            .unwrap_or_else(|| panic!("{pane:?}: {help:?}"));
        assert_eq!(older.keys, "End/G");
    }
}

#[test]
fn the_help_overlay_of_both_panes_shows_the_history_keys() {
    for pane in [PaneId::Arbitrage, PaneId::Liquidations] {
        for (w, h) in [(80, 24), (160, 48)] {
            let mut app = new_app(true);
            app.go_to(pane);
            app.handle_key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE));
            let s = screen(&app, w, h);
            if std::env::var_os("SHOW_SCREENS").is_some() {
                println!("{s}");
            }
            assert!(s.contains("back to live"), "{pane:?} {w}x{h}:\n{s}");
            assert!(s.contains("Home/g"), "{pane:?} {w}x{h}:\n{s}");
            assert!(s.contains("End/G"), "{pane:?} {w}x{h}:\n{s}");
        }
    }
}
