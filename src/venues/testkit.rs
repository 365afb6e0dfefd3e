//! Drives an adapter over a capture or hand-written frames and keeps the
//! resulting books, for adapter tests (unit and integration).
//!
//! Books here are kept exactly as the engine keeps them ([`OrderBook`]), so a
//! test that passes here tests the adapter, not a second book implementation.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use crate::book::{Applied, OrderBook};
use crate::capture::{CaptureReader, Frame, Record};
use crate::model::{Funding, Incident, Instrument, Liquidation, MarketEvent, Micros, Trade, Venue};

use super::{Action, Adapter, Output};

/// Everything an adapter produced, applied.
#[derive(Default)]
pub struct Collector {
    pub books: BTreeMap<(Venue, Instrument), OrderBook>,
    pub incidents: HashMap<Incident, u64>,
    pub trades: Vec<Trade>,
    pub liquidations: Vec<Liquidation>,
    pub funding: Vec<Funding>,
    pub actions: Vec<Action>,
    /// Frames (WebSocket messages) fed in.
    pub frames: u64,
    /// Book updates applied.
    pub book_updates: u64,
    /// Times a book was left crossed by an update.
    pub crossed: u64,
    /// Deltas dropped because their book was not live.
    pub ignored_not_live: u64,
    /// Points of backfilled histories.
    pub history_points: usize,
    /// Backfilled klines.
    pub klines: usize,
}

impl Collector {
    pub fn count(&self, i: Incident) -> u64 {
        self.incidents.get(&i).copied().unwrap_or(0)
    }

    pub fn book(&self, venue: Venue, instrument: &str) -> Option<&OrderBook> {
        let inst: Instrument = instrument.parse().ok()?;
        self.books.get(&(venue, inst))
    }

    /// Apply and drain one call's output.
    pub fn absorb(&mut self, out: &mut Output) {
        for e in out.events.drain(..) {
            match e {
                MarketEvent::Book(u) => {
                    let book = self.books.entry((u.venue, u.instrument)).or_default();
                    match book.apply(&u) {
                        Applied::Ok => self.book_updates += 1,
                        Applied::Crossed => {
                            self.book_updates += 1;
                            self.crossed += 1;
                        }
                        Applied::IgnoredNotLive => self.ignored_not_live += 1,
                    }
                }
                MarketEvent::BookState {
                    venue,
                    instrument,
                    state,
                } => self
                    .books
                    .entry((venue, instrument))
                    .or_default()
                    .set_state(state),
                MarketEvent::Trade(t) => self.trades.push(t),
                MarketEvent::Liquidation(l) => self.liquidations.push(l),
                MarketEvent::Funding(f) => self.funding.push(f),
                MarketEvent::Incident { incident, .. } => {
                    *self.incidents.entry(incident).or_default() += 1
                }
                MarketEvent::History { points, .. } => self.history_points += points.len(),
                MarketEvent::Klines { klines, .. } => self.klines += klines.len(),
                MarketEvent::Instruments { .. } => {}
            }
        }
        self.actions.append(&mut out.actions);
    }

    /// Feed one text frame.
    pub fn text(&mut self, a: &mut dyn Adapter, url: &str, text: &str, ts: Micros) {
        let mut out = Output::default();
        self.frames += 1;
        a.on_text(url, text, ts, &mut out);
        self.absorb(&mut out);
    }

    /// Feed one REST body.
    pub fn http(&mut self, a: &mut dyn Adapter, url: &str, body: &str, ts: Micros) {
        let mut out = Output::default();
        a.on_http(url, body, ts, &mut out);
        self.absorb(&mut out);
    }

    /// Open a connection (the adapter's subscribe actions are kept).
    pub fn open(&mut self, a: &mut dyn Adapter, url: &str, ts: Micros) {
        let mut out = Output::default();
        a.on_open(url, ts, &mut out);
        self.absorb(&mut out);
    }

    pub fn close(&mut self, a: &mut dyn Adapter, url: &str, ts: Micros) {
        let mut out = Output::default();
        a.on_close(url, ts, &mut out);
        self.absorb(&mut out);
    }
}

/// Replay a whole capture file through an adapter. Sends recorded in the
/// file are not replayed (the adapter's own are in `actions`).
pub fn replay_file(a: &mut dyn Adapter, path: &Path) -> Result<Collector, String> {
    let reader = CaptureReader::open(path).map_err(|e| e.to_string())?;
    let mut c = Collector::default();
    let mut out = Output::default();
    for rec in reader {
        let rec = rec.map_err(|e| e.to_string())?;
        match rec {
            Record::Connect { addr, ts, .. } => a.on_open(&addr, ts, &mut out),
            Record::Http { url, body, ts, .. } => a.on_http(&url, &body, ts, &mut out),
            Record::Send { .. } => {}
            Record::Recv {
                addr, frame, ts, ..
            } => {
                c.frames += 1;
                match frame {
                    Frame::Text(t) => a.on_text(&addr, &t, ts, &mut out),
                    Frame::Binary(b) => a.on_binary(&addr, &b, ts, &mut out),
                }
            }
        }
        c.absorb(&mut out);
    }
    Ok(c)
}

/// One `book` line of `../shared/captures/expected/*.books.jsonl`.
#[derive(Deserialize, Debug)]
pub struct ExpectedBook {
    pub venue: String,
    pub instrument: String,
    pub bids: Vec<(String, String)>,
    pub asks: Vec<(String, String)>,
    #[serde(default)]
    pub levels_bid: Option<usize>,
    #[serde(default)]
    pub levels_ask: Option<usize>,
}

/// The shared captures folder, or `None` after printing a visible skip note.
pub fn captures_or_skip(test: &str) -> Option<std::path::PathBuf> {
    let dir = crate::capture::shared_captures_dir();
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: {} not found (real captures live beside the repository)",
            dir.display()
        );
        None
    }
}

/// Read the expected books for capture `name` (e.g. `BINANCE`).
pub fn expected_books(dir: &Path, name: &str) -> Vec<ExpectedBook> {
    let path = dir.join("expected").join(format!("{name}.books.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| l.contains("\"type\": \"book\"") || l.contains("\"type\":\"book\""))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Top `n` levels of a side as normalized decimal strings.
pub fn top_strings(side: &crate::book::Side, n: usize) -> Vec<(String, String)> {
    side.iter()
        .take(n)
        .map(|l| {
            (
                l.price.normalize().to_string(),
                l.size.normalize().to_string(),
            )
        })
        .collect()
}

/// Assert every expected book is reproduced: top 10 per side and, where the
/// reference gives them, level counts. Returns a readable diff on failure.
pub fn check_expected(c: &Collector, expected: &[ExpectedBook]) -> Result<(), String> {
    let mut problems = Vec::new();
    for e in expected {
        let venue: Venue = match e.venue.parse() {
            Ok(v) => v,
            Err(err) => {
                problems.push(err.to_string());
                continue;
            }
        };
        let Some(book) = c.book(venue, &e.instrument) else {
            problems.push(format!("{} {}: no book", e.venue, e.instrument));
            continue;
        };
        if !book.is_live() {
            problems.push(format!(
                "{} {}: book is {:?}",
                e.venue,
                e.instrument,
                book.state()
            ));
        }
        let n = e.bids.len().max(e.asks.len());
        let bids = top_strings(&book.bids, n);
        let asks = top_strings(&book.asks, n);
        if bids != e.bids {
            problems.push(format!(
                "{} {} bids:\n  got  {bids:?}\n  want {:?}",
                e.venue, e.instrument, e.bids
            ));
        }
        if asks != e.asks {
            problems.push(format!(
                "{} {} asks:\n  got  {asks:?}\n  want {:?}",
                e.venue, e.instrument, e.asks
            ));
        }
        if let Some(lb) = e.levels_bid
            && lb != book.bids.len()
        {
            problems.push(format!(
                "{} {}: {} bid levels, want {lb}",
                e.venue,
                e.instrument,
                book.bids.len()
            ));
        }
        if let Some(la) = e.levels_ask
            && la != book.asks.len()
        {
            problems.push(format!(
                "{} {}: {} ask levels, want {la}",
                e.venue,
                e.instrument,
                book.asks.len()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// One backfilled series: instrument, kind, (time, value) points.
pub type HistorySeries = (
    Instrument,
    crate::model::HistoryKind,
    Vec<(Micros, rust_decimal::Decimal)>,
);

/// What adapter tests read back from one call's [`Output`].
impl Output {
    /// The URLs of the paced GETs asked for (backfill), in order.
    pub fn paced_gets(&self) -> Vec<String> {
        self.actions
            .iter()
            .filter_map(|x| match x {
                Action::HttpGetPaced { url, .. } => Some(url.clone()),
                _ => None,
            })
            .collect()
    }

    /// The details of the parse errors reported, in order.
    pub fn parse_errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MarketEvent::Incident {
                    incident: Incident::ParseError,
                    detail,
                    ..
                } => Some(detail.clone().unwrap_or_default()),
                _ => None,
            })
            .collect()
    }

    /// The history series (open interest, funding) backfilled.
    pub fn histories(&self) -> Vec<HistorySeries> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MarketEvent::History {
                    instrument,
                    kind,
                    points,
                    ..
                } => Some((*instrument, *kind, points.clone())),
                _ => None,
            })
            .collect()
    }

    /// The klines backfilled, per instrument and interval.
    pub fn klines(
        &self,
    ) -> Vec<(
        Instrument,
        crate::model::Timeframe,
        Vec<crate::model::Kline>,
    )> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MarketEvent::Klines {
                    instrument,
                    timeframe,
                    klines,
                    ..
                } => Some((*instrument, *timeframe, klines.clone())),
                _ => None,
            })
            .collect()
    }
}
