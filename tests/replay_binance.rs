//! Replays the real Binance captures (spot and USD-M) through the adapter and
//! checks the rebuilt books against the independent reference, plus an
//! independent cross-check: Binance's own `bookTicker` stream must agree with
//! the rebuilt top of book wherever its update id matches an applied update.

use std::collections::HashMap;
use std::path::Path;

use depthwatch::capture::{CaptureReader, Frame, Record};
use depthwatch::model::{Incident, Instrument, InstrumentKind, Level, MarketEvent};
use depthwatch::venues::binance::Binance;
use depthwatch::venues::testkit::{self, Collector};
use depthwatch::venues::{Adapter, AdapterConfig, Output, symbols};
use rust_decimal::Decimal;
use serde::Deserialize;

#[test]
fn replay_binance_spot_matches_reference() {
    let Some(dir) = testkit::captures_or_skip("replay_binance_spot_matches_reference") else {
        return;
    };
    check_capture(&dir, "BINANCE");
}

#[test]
fn replay_binance_futures_matches_reference() {
    let Some(dir) = testkit::captures_or_skip("replay_binance_futures_matches_reference") else {
        return;
    };
    check_capture(&dir, "BINANCE_FUTURES");
}

#[test]
fn book_ticker_agrees_with_rebuilt_top_of_book() {
    let Some(dir) = testkit::captures_or_skip("book_ticker_agrees_with_rebuilt_top_of_book") else {
        return;
    };
    for name in ["BINANCE", "BINANCE_FUTURES"] {
        let (checked, mismatches) = cross_check_book_ticker(&dir, name);
        assert!(
            mismatches.is_empty(),
            "{name}: bookTicker disagrees with the rebuilt book:\n{}",
            mismatches.join("\n")
        );
        assert!(
            checked > 0,
            "{name}: no bookTicker matched an applied update id"
        );
        eprintln!("{name}: {checked} bookTicker frames agree with the rebuilt top of book");
    }
}

fn check_capture(dir: &Path, name: &str) {
    let path = dir.join(format!("{name}.jsonl.zst"));
    let mut adapter = Binance::new(AdapterConfig::default());
    let c = testkit::replay_file(&mut adapter, &path).expect("capture replays");
    let expected = testkit::expected_books(dir, name);
    assert!(!expected.is_empty());
    if let Err(diff) = testkit::check_expected(&c, &expected) {
        panic!("{name}: books differ from the reference:\n{diff}");
    }
    assert_eq!(c.count(Incident::ParseError), 0, "{name}: parse errors");
    assert_eq!(c.count(Incident::Gap), 0, "{name}: gaps");
    assert_eq!(c.crossed, 0, "{name}: crossed books");
    assert!(c.book_updates > 0);
    eprintln!(
        "{name}: {} frames, {} book updates, {} trades, {} unknown (bookTicker/kline), {} resyncs",
        c.frames,
        c.book_updates,
        c.trades.len(),
        c.count(Incident::UnknownMessage),
        c.count(Incident::Resync),
    );
}

#[derive(Deserialize)]
struct Combined<'a> {
    #[serde(borrow)]
    stream: &'a str,
    #[serde(borrow)]
    data: BookTicker<'a>,
}

#[derive(Deserialize)]
struct BookTicker<'a> {
    u: u64,
    s: &'a str,
    b: &'a str,
    #[serde(rename = "B")]
    bid_qty: &'a str,
    a: &'a str,
    #[serde(rename = "A")]
    ask_qty: &'a str,
}

type Top = (Option<Level>, Option<Level>);

/// Replays `name` frame by frame, remembering the top of book after every
/// applied update id, then compares each recorded bookTicker whose `u` is one
/// of those ids. Returns (compared, mismatches).
fn cross_check_book_ticker(dir: &Path, name: &str) -> (usize, Vec<String>) {
    let path = dir.join(format!("{name}.jsonl.zst"));
    let reader = CaptureReader::open(&path).expect("capture opens");
    let mut adapter = Binance::new(AdapterConfig::default());
    let mut c = Collector::default();
    let mut out = Output::default();
    let mut tops: HashMap<(Instrument, u64), Top> = HashMap::new();
    let mut tickers: Vec<(Instrument, u64, Top)> = Vec::new();
    for rec in reader {
        match rec.expect("record reads") {
            Record::Connect { addr, ts, .. } => adapter.on_open(&addr, ts, &mut out),
            Record::Http { url, body, ts, .. } => adapter.on_http(&url, &body, ts, &mut out),
            Record::Send { .. } => {}
            Record::Recv {
                addr, frame, ts, ..
            } => {
                let Frame::Text(text) = frame else {
                    continue;
                };
                if let Ok(t) = serde_json::from_str::<Combined>(&text)
                    && t.stream.ends_with("@bookTicker")
                {
                    let kind = if addr.contains("fstream") {
                        InstrumentKind::Perp
                    } else {
                        InstrumentKind::Spot
                    };
                    let inst = symbols::split_concatenated(t.data.s, kind).expect("symbol");
                    let level = |p: &str, q: &str| {
                        Some(Level::new(
                            p.parse::<Decimal>().ok()?,
                            q.parse::<Decimal>().ok()?,
                        ))
                    };
                    tickers.push((
                        inst,
                        t.data.u,
                        (
                            level(t.data.b, t.data.bid_qty),
                            level(t.data.a, t.data.ask_qty),
                        ),
                    ));
                }
                adapter.on_text(&addr, &text, ts, &mut out);
            }
        }
        // Apply one event at a time so each update id gets its own top.
        out.actions.clear();
        for event in std::mem::take(&mut out.events) {
            let applied = match &event {
                MarketEvent::Book(u) => u.seq.last.map(|last| (u.instrument, last)),
                _ => None,
            };
            let mut one = Output::default();
            one.event(event);
            c.absorb(&mut one);
            let Some((inst, last)) = applied else {
                continue;
            };
            if let Some((_, book)) = c.books.iter().find(|((_, i), _)| *i == inst)
                && book.is_live()
            {
                tops.insert((inst, last), (book.best_bid(), book.best_ask()));
            }
        }
    }
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for (inst, u, ticker) in tickers {
        let Some(top) = tops.get(&(inst, u)) else {
            continue;
        };
        checked += 1;
        if *top != ticker {
            mismatches.push(format!("{inst} u={u}: book {top:?}, bookTicker {ticker:?}"));
        }
    }
    (checked, mismatches)
}
