//! Entry points shared by the fuzz targets (`fuzz/`) and the corpus replay
//! test (`tests/fuzz_corpus.rs`), so a crash found by the fuzzer replays
//! through exactly the same code under `cargo test`.
//!
//! An input is a *scenario*: lines of text, one step each, that drive venue
//! adapters the way the connection runtime does (see `fuzz/README.md`):
//!
//! ```text
//! # comment
//! venue gemini             (pipeline target: the venue of the next steps)
//! start                    Adapter::start (instrument lists are asked for)
//! open                     on_open(connections()[0])
//! open @1                  on_open(connections()[1 % n])
//! text PAYLOAD             on_text(connections()[0], PAYLOAD)
//! text @1 PAYLOAD          on_text on connection 1
//! binary @0 b64:H4sI...    on_binary (payload base64 after `b64:`, else raw)
//! http PAYLOAD             on_http(nth URL the adapter asked for, PAYLOAD)
//! http @2 PAYLOAD          … the third URL it asked for (modulo their count)
//! http @https://x/y BODY   … a literal URL (as a capture records it)
//! httperr @0 MESSAGE       on_http_error
//! close @0                 on_close
//! tick 1500000             local clock moves on (µs, at most a day a step)
//! snap                     pipeline: build a snapshot and its headless lines
//! ```
//!
//! Connections are picked from `Adapter::connections()` and URLs from the
//! `Action::HttpGet`s the adapter emitted, by index modulo their number, so
//! every mutated selector still reaches a real code path. `Action::Reconnect`
//! is carried out (close, then open) as the live runtime does. A payload may
//! start with `b64:` (base64 of the bytes, for binary frames and bodies with
//! newlines) and may contain `<<rep N|SEP|ITEM>>`, which expands to `ITEM`
//! repeated `N` times joined by `SEP` (N ≤ 100 000), so a 10^5-level book
//! or 10^4-deep nesting costs a few bytes of input.
//!
//! Work per input is bounded: at most [`MAX_STEPS`] steps, payloads at most
//! [`MAX_PAYLOAD`] bytes after expansion, [`MAX_TOTAL`] bytes in all.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use crate::book::OrderBook;
use crate::engine::snapshot::ConnState;
use crate::engine::{Engine, EngineConfig, EngineInput, REST_CONN};
use crate::headless;
use crate::model::{Asset, Instrument, MarketEvent, Micros, Venue};
use crate::venues::spec::EndpointKind;
use crate::venues::{Action, Adapter, AdapterConfig, Output, registry};

/// Steps run per input; later lines are ignored.
pub const MAX_STEPS: usize = 512;
/// Largest payload after `<<rep>>` expansion.
pub const MAX_PAYLOAD: usize = 8 << 20;
/// Payload bytes per input after expansion.
pub const MAX_TOTAL: usize = 32 << 20;
/// Largest repeat count of one `<<rep>>`.
pub const MAX_REPEAT: usize = 100_000;
/// Largest clock step of one `tick` (a day).
pub const MAX_TICK: Micros = 86_400_000_000;
/// Local clock at the first step (2026-08-09, when the captures were made).
pub const START: Micros = 1_786_309_548_000_000;
/// Clock advance between steps.
const STEP: Micros = 1_000;
/// Reconnects carried out per step (a venue that asks for one on every
/// frame must not loop the driver).
const MAX_RECONNECTS_PER_STEP: usize = 4;
/// URLs remembered from `Action::HttpGet`.
const MAX_URLS: usize = 1024;

/// Instruments the harness subscribes to, each venue keeping those it
/// carries: the fixtures' and the captures' symbols, so seeds from either
/// reach the books.
pub const INSTRUMENTS: &[&str] = &[
    "BTC-USD",
    "ETH-USD",
    "SOL-USD",
    "BTC-USDT",
    "ETH-USDT",
    "BTC-USDC",
    "ETH-USDC",
    "SOL-USDC",
    "BTC-EUR",
    "BTC-GBP",
    "ETH-BTC",
    "BNB-BTC",
    "NKN-USDT",
    "BLZ-ETH",
    "LRC-BTC",
    "RUNE-EUR",
    "BTC-USDT-PERP",
    "ETH-USDT-PERP",
    "SOL-USDT-PERP",
    "DOGE-USDT-PERP",
    "BTC-USDC-PERP",
    "ETH-USDC-PERP",
    "BTC-USD-PERP",
    "ETH-USD-PERP",
    "KPEPE-USD-PERP",
    "SUSHI-USDT-PERP",
    "AKRO-USDT-PERP",
    "KEEP-USDT-PERP",
    "CTK-USDT-PERP",
];

/// What one step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Venue,
    Start,
    Open,
    Text,
    Binary,
    Http,
    HttpError,
    Close,
    Tick,
    Snap,
}

impl Op {
    pub const ALL: [Op; 10] = [
        Op::Venue,
        Op::Start,
        Op::Open,
        Op::Text,
        Op::Binary,
        Op::Http,
        Op::HttpError,
        Op::Close,
        Op::Tick,
        Op::Snap,
    ];

    pub fn word(self) -> &'static str {
        match self {
            Op::Venue => "venue",
            Op::Start => "start",
            Op::Open => "open",
            Op::Text => "text",
            Op::Binary => "binary",
            Op::Http => "http",
            Op::HttpError => "httperr",
            Op::Close => "close",
            Op::Tick => "tick",
            Op::Snap => "snap",
        }
    }

    fn from_word(w: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.word() == w)
    }

    /// Whether the op carries a payload after its selector.
    pub fn has_payload(self) -> bool {
        matches!(
            self,
            Op::Venue | Op::Text | Op::Binary | Op::Http | Op::HttpError | Op::Tick
        )
    }
}

/// Which connection or URL a step addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    Index(u64),
    Url(String),
}

/// One line of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub op: Op,
    pub sel: Option<Selector>,
    /// The payload as written (before `b64:` decoding and `<<rep>>`).
    pub payload: String,
}

impl Step {
    pub fn new(op: Op, sel: Option<Selector>, payload: impl Into<String>) -> Self {
        Step {
            op,
            sel,
            payload: payload.into(),
        }
    }

    /// The line as written in a scenario file (without the newline). A
    /// payload with a newline or carriage return is written as `b64:`.
    pub fn line(&self) -> String {
        let mut s = self.op.word().to_string();
        match &self.sel {
            Some(Selector::Index(i)) => s.push_str(&format!(" @{i}")),
            Some(Selector::Url(u)) => s.push_str(&format!(" @{u}")),
            None => {}
        }
        if self.op.has_payload() {
            s.push(' ');
            if self.payload.contains(['\n', '\r']) {
                s.push_str("b64:");
                s.push_str(&base64::engine::general_purpose::STANDARD.encode(&self.payload));
            } else {
                s.push_str(&self.payload);
            }
        }
        s
    }
}

/// A parsed input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scenario {
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Parse any bytes (never fails: unknown lines are skipped, invalid
    /// UTF-8 is replaced, as a WebSocket text frame could never carry it).
    pub fn parse(data: &[u8]) -> Scenario {
        let text = String::from_utf8_lossy(data);
        let mut steps = Vec::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let Some(op) = Op::from_word(word) else {
                continue;
            };
            let (sel, rest) = match rest.strip_prefix('@') {
                Some(r) => {
                    let (tok, after) = r.split_once(' ').unwrap_or((r, ""));
                    let sel = match tok.parse::<u64>() {
                        Ok(i) => Selector::Index(i),
                        Err(_) => Selector::Url(tok.to_string()),
                    };
                    (Some(sel), after)
                }
                None => (None, rest),
            };
            let payload = if op.has_payload() { rest } else { "" };
            steps.push(Step::new(op, sel, payload));
            if steps.len() >= MAX_STEPS {
                break;
            }
        }
        Scenario { steps }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        for s in &self.steps {
            out.push_str(&s.line());
            out.push('\n');
        }
        out.into_bytes()
    }
}

/// Expand a payload: `b64:` decoding, then `<<rep N|SEP|ITEM>>`. `budget`
/// is what the input may still expand to; `None` once it is spent.
pub fn expand(payload: &str, budget: &mut usize) -> Option<Vec<u8>> {
    // Most payloads have neither: no byte-by-byte scan (it dominates a
    // fuzzing run's time otherwise).
    if !payload.starts_with("b64:") && !payload.contains("<<rep ") {
        let n = payload.len();
        if n > MAX_PAYLOAD.min(*budget) {
            return None;
        }
        *budget -= n;
        return Some(payload.as_bytes().to_vec());
    }
    let raw: Vec<u8> = match payload.strip_prefix("b64:") {
        Some(b) => base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .unwrap_or_else(|_| b.as_bytes().to_vec()),
        None => payload.as_bytes().to_vec(),
    };
    let limit = MAX_PAYLOAD.min(*budget);
    let mut out = Vec::with_capacity(raw.len().min(limit));
    let mut rest = &raw[..];
    while let Some(at) = find(rest, b"<<rep ") {
        out.extend_from_slice(&rest[..at]);
        let body = &rest[at + 6..];
        let Some(end) = find(body, b">>") else {
            out.extend_from_slice(&rest[at..at + 6]);
            rest = body;
            continue;
        };
        let directive = &body[..end];
        rest = &body[end + 2..];
        let mut parts = directive.splitn(3, |&b| b == b'|');
        let (Some(n), Some(sep), Some(item)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let n = std::str::from_utf8(n)
            .ok()
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(0)
            .min(MAX_REPEAT);
        for i in 0..n {
            if i > 0 {
                out.extend_from_slice(sep);
            }
            out.extend_from_slice(item);
            if out.len() > limit {
                return None;
            }
        }
    }
    out.extend_from_slice(rest);
    if out.len() > limit {
        return None;
    }
    *budget -= out.len();
    Some(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    // The standard library's substring search where the bytes are text.
    if let (Ok(h), Ok(n)) = (std::str::from_utf8(hay), std::str::from_utf8(needle)) {
        return h.find(n);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The adapter configuration the harness uses for a venue.
pub fn adapter_config(venue: Venue) -> AdapterConfig {
    AdapterConfig {
        instruments: instruments(venue),
        ..AdapterConfig::default()
    }
}

/// [`INSTRUMENTS`] the venue carries.
pub fn instruments(venue: Venue) -> Vec<Instrument> {
    INSTRUMENTS
        .iter()
        .filter_map(|s| s.parse::<Instrument>().ok())
        .filter(|i| registry::carries(venue, i))
        .collect()
}

/// What a run reached, for the corpus test's sanity checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reached {
    pub steps: usize,
    pub events: usize,
    pub book_events: usize,
    /// Headless lines built (pipeline only).
    pub lines: usize,
}

/// One venue's adapter and what the driver knows about it.
struct Driven {
    venue: Venue,
    adapter: Box<dyn Adapter>,
    /// URLs from `Action::HttpGet`, oldest first, without repeats.
    urls: Vec<String>,
}

impl Driven {
    fn new(venue: Venue) -> Self {
        Driven {
            venue,
            adapter: registry::build(venue, adapter_config(venue)),
            urls: Vec::new(),
        }
    }

    fn conn(&self, sel: &Option<Selector>) -> String {
        let urls: Vec<String> = self
            .adapter
            .connections()
            .into_iter()
            .map(|c| c.url)
            .collect();
        pick(sel, &urls).unwrap_or_else(|| self.default_endpoint(EndpointKind::WebSocket))
    }

    fn http_url(&self, sel: &Option<Selector>) -> String {
        pick(sel, &self.urls).unwrap_or_else(|| self.default_endpoint(EndpointKind::Rest))
    }

    fn default_endpoint(&self, kind: EndpointKind) -> String {
        let spec = self.venue.spec();
        spec.endpoints
            .iter()
            .find(|e| e.kind == kind)
            .or(spec.endpoints.first())
            .map(|e| e.default.to_string())
            .unwrap_or_default()
    }

    /// Remember URLs to fetch; return connections to reopen.
    fn take_actions(&mut self, out: &mut Output) -> Vec<String> {
        let mut reconnect = Vec::new();
        for a in out.actions.drain(..) {
            match a {
                Action::HttpGet { url } | Action::HttpPost { url, .. } => {
                    if self.urls.len() < MAX_URLS && !self.urls.contains(&url) {
                        self.urls.push(url);
                    }
                }
                Action::Reconnect { url, .. } => {
                    if reconnect.len() < MAX_RECONNECTS_PER_STEP && !reconnect.contains(&url) {
                        reconnect.push(url);
                    }
                }
                Action::Send { .. } | Action::Dial { .. } => {}
            }
        }
        reconnect
    }
}

fn pick(sel: &Option<Selector>, urls: &[String]) -> Option<String> {
    match sel {
        Some(Selector::Url(u)) => Some(u.clone()),
        _ if urls.is_empty() => None,
        Some(Selector::Index(i)) => Some(urls[(*i % urls.len() as u64) as usize].clone()),
        None => Some(urls[0].clone()),
    }
}

/// Something the driver did, for the pipeline to turn into engine inputs.
enum Happened {
    Opened(String),
    Frame {
        conn: String,
        bytes: usize,
        events: Vec<MarketEvent>,
    },
    Rest(Vec<MarketEvent>),
    Closed(String),
    Tick,
}

/// Run one step against one adapter; `sink` sees what happened.
fn step(
    d: &mut Driven,
    s: &Step,
    now: &mut Micros,
    budget: &mut usize,
    out: &mut Output,
    sink: &mut dyn FnMut(Happened, Micros),
) {
    *now += STEP;
    let t = *now;
    out.clear();
    match s.op {
        Op::Venue | Op::Snap => return,
        Op::Start => d.adapter.start(t, out),
        Op::Open => {
            let url = d.conn(&s.sel);
            d.adapter.on_open(&url, t, out);
            sink(Happened::Opened(url.clone()), t);
            sink(Happened::Rest(std::mem::take(&mut out.events)), t);
        }
        Op::Text | Op::Binary => {
            let Some(bytes) = expand(&s.payload, budget) else {
                return;
            };
            let url = d.conn(&s.sel);
            if s.op == Op::Text {
                let text = String::from_utf8_lossy(&bytes);
                d.adapter.on_text(&url, &text, t, out);
            } else {
                d.adapter.on_binary(&url, &bytes, t, out);
            }
            let events = std::mem::take(&mut out.events);
            sink(
                Happened::Frame {
                    conn: url,
                    bytes: bytes.len(),
                    events,
                },
                t,
            );
        }
        Op::Http => {
            let Some(bytes) = expand(&s.payload, budget) else {
                return;
            };
            let url = d.http_url(&s.sel);
            d.adapter
                .on_http(&url, &String::from_utf8_lossy(&bytes), t, out);
        }
        Op::HttpError => {
            let url = d.http_url(&s.sel);
            d.adapter.on_http_error(&url, &s.payload, t, out);
        }
        Op::Close => {
            let url = d.conn(&s.sel);
            d.adapter.on_close(&url, t, out);
            sink(Happened::Rest(std::mem::take(&mut out.events)), t);
            sink(Happened::Closed(url), t);
        }
        Op::Tick => {
            let dt = s.payload.trim().parse::<i64>().unwrap_or(0);
            *now += dt.clamp(0, MAX_TICK);
            sink(Happened::Tick, *now);
        }
    }
    if !out.events.is_empty() {
        sink(Happened::Rest(std::mem::take(&mut out.events)), t);
    }
    for url in d.take_actions(out) {
        out.clear();
        d.adapter.on_close(&url, t, out);
        sink(Happened::Rest(std::mem::take(&mut out.events)), t);
        sink(Happened::Closed(url.clone()), t);
        d.adapter.on_open(&url, t, out);
        sink(Happened::Opened(url), t);
        sink(Happened::Rest(std::mem::take(&mut out.events)), t);
        // Actions of the reopen (subscribe, snapshot requests) are kept;
        // a further reconnect waits for the next step.
        let _ = d.take_actions(out);
    }
}

/// Target (a): one venue's adapter, its events applied to order books as
/// the engine keeps them. `venue` lines in the input are ignored.
pub fn fuzz_adapter(venue: Venue, data: &[u8]) -> Reached {
    let scenario = Scenario::parse(data);
    let mut d = Driven::new(venue);
    let mut books: BTreeMap<Instrument, OrderBook> = BTreeMap::new();
    let mut reached = Reached::default();
    let mut now = START;
    let mut budget = MAX_TOTAL;
    let mut out = Output::default();
    for s in &scenario.steps {
        reached.steps += 1;
        step(&mut d, s, &mut now, &mut budget, &mut out, &mut |h, _| {
            let events = match h {
                Happened::Frame { events, .. } | Happened::Rest(events) => events,
                _ => return,
            };
            reached.events += events.len();
            for e in events {
                apply(&mut books, &mut reached, e);
            }
        });
    }
    reached
}

fn apply(books: &mut BTreeMap<Instrument, OrderBook>, reached: &mut Reached, e: MarketEvent) {
    match e {
        MarketEvent::Book(u) => {
            reached.book_events += 1;
            let book = books.entry(u.instrument).or_default();
            book.apply(&u);
            // What the engine reads off a book after every update.
            let _ = book.mid();
            let _ = book.is_crossed();
            let _ = (book.bids.top(10), book.asks.top(10));
        }
        MarketEvent::BookState {
            instrument, state, ..
        } => books.entry(instrument).or_default().set_state(state),
        _ => {}
    }
}

/// The engine configuration of the pipeline target: every harness
/// instrument watched, USD ≈ USDT ≈ USDC grouped so venues meet in CBBO
/// and arbitrage, thresholds at zero so every spread is worked out.
pub fn engine_config() -> EngineConfig {
    let mut watchlist: Vec<Instrument> =
        INSTRUMENTS.iter().filter_map(|s| s.parse().ok()).collect();
    watchlist.dedup();
    let group = ["USD", "USDT", "USDC"]
        .iter()
        .filter_map(|a| Asset::new(a).ok())
        .collect();
    EngineConfig {
        watchlist,
        quote_groups: vec![group],
        ..EngineConfig::default()
    }
}

/// Target (b): adapters → `Engine::handle` → `Engine::snapshot` → the
/// headless JSON lines (those a live `--headless --json` run streams and
/// those a headless replay ends with). `venue NAME` switches the venue of
/// the following steps; before any, the venue is the first byte's (modulo
/// the number of venues).
pub fn fuzz_pipeline(data: &[u8]) -> Reached {
    let scenario = Scenario::parse(data);
    let first = data.first().copied().unwrap_or(0) as usize % Venue::count();
    let mut current = Venue::all().nth(first).expect("registry is not empty");
    let mut driven: BTreeMap<Venue, Driven> = BTreeMap::new();
    let mut engine = Engine::new(engine_config());
    let mut reached = Reached::default();
    let mut now = START;
    let mut budget = MAX_TOTAL;
    let mut out = Output::default();
    for (i, s) in scenario.steps.iter().enumerate() {
        reached.steps += 1;
        match s.op {
            Op::Venue => {
                if let Ok(v) = s.payload.trim().parse::<Venue>() {
                    current = v;
                }
                continue;
            }
            Op::Snap => {
                reached.lines += snapshot_lines(&mut engine);
                continue;
            }
            _ => {}
        }
        let d = driven
            .entry(current)
            .or_insert_with(|| Driven::new(current));
        let venue = d.venue;
        step(d, s, &mut now, &mut budget, &mut out, &mut |h, at| {
            let input = match h {
                Happened::Opened(conn) => EngineInput::Conn {
                    venue,
                    conn,
                    state: ConnState::Connected,
                    at,
                },
                Happened::Closed(conn) => EngineInput::Conn {
                    venue,
                    conn,
                    state: ConnState::Disconnected {
                        reason: "closed by the fuzz scenario".into(),
                    },
                    at,
                },
                Happened::Frame {
                    conn,
                    bytes,
                    events,
                } => {
                    reached.events += events.len();
                    reached.book_events += book_events(&events);
                    EngineInput::Feed {
                        venue,
                        conn,
                        received: at,
                        bytes,
                        events,
                    }
                }
                Happened::Rest(events) => {
                    if events.is_empty() {
                        return;
                    }
                    reached.events += events.len();
                    reached.book_events += book_events(&events);
                    EngineInput::Feed {
                        venue,
                        conn: REST_CONN.to_string(),
                        received: at,
                        bytes: 0,
                        events,
                    }
                }
                Happened::Tick => EngineInput::Tick { now: at },
            };
            engine.handle(input);
        });
        // The UI asks for a snapshot at most once a frame; every few steps
        // is as often as a busy feed sees it.
        if i % 8 == 7 {
            reached.lines += snapshot_lines(&mut engine);
        }
    }
    engine.handle(EngineInput::Tick { now });
    reached.lines += snapshot_lines(&mut engine);
    reached.lines += final_lines(&mut engine);
    reached
}

fn book_events(events: &[MarketEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, MarketEvent::Book(_)))
        .count()
}

/// The lines a live headless run streams from one snapshot.
fn snapshot_lines(engine: &mut Engine) -> usize {
    let snap = engine.snapshot();
    let mut lines: Vec<Value> = Vec::new();
    for view in &snap.instruments {
        for b in &view.venues {
            lines.push(headless::venue_book_line(b, 10));
        }
        lines.push(headless::cbbo_line(
            &view.label,
            view.mixed_quotes,
            &view.cbbo,
        ));
    }
    lines.extend(snap.arbs.iter().map(headless::arb_line));
    lines.extend(snap.trades.large.iter().map(headless::trade_line));
    lines.extend(
        snap.liquidations
            .tape
            .iter()
            .map(headless::liquidation_line),
    );
    lines.extend(snap.health.iter().map(headless::health_line));
    emit_all(&lines)
}

/// The lines a headless replay ends with (books, CBBO, every spread, summary).
fn final_lines(engine: &mut Engine) -> usize {
    let mut lines: Vec<Value> = engine
        .books()
        .map(|b| {
            headless::book_line(
                b.venue,
                &b.instrument,
                &b.state,
                &b.book.bids.top(10),
                &b.book.asks.top(10),
                (b.book.bids.len(), b.book.asks.len()),
                10,
            )
        })
        .collect();
    lines.extend(engine.all_spreads().iter().map(headless::arb_line));
    let t = engine.totals();
    lines.push(serde_json::json!({
        "type": "summary",
        "parse_errors": t.parse_errors,
        "book_updates": t.book_updates,
        "crossed_books": t.crossed_books,
    }));
    emit_all(&lines)
}

/// Print every line as `--json` and as text would (to nowhere).
fn emit_all(lines: &[Value]) -> usize {
    let mut sink = std::io::sink();
    for v in lines {
        let _ = headless::emit(&mut sink, v, true);
        let _ = headless::emit(&mut sink, v, false);
    }
    lines.len()
}

/// The fuzz targets by name (`fuzz/fuzz_targets/<name>.rs`, the folders of
/// `fuzz/corpus/` and `fuzz/crashes/`): `adapter_<venue>` for each venue of
/// the registry, and `pipeline`.
pub fn targets() -> Vec<String> {
    let mut t: Vec<String> = Venue::all()
        .map(|v| format!("adapter_{}", v.as_str()))
        .collect();
    t.push("pipeline".to_string());
    t
}

/// Run the named target on one input; `None` for an unknown name.
pub fn run_target(name: &str, data: &[u8]) -> Option<Reached> {
    if name == "pipeline" {
        return Some(fuzz_pipeline(data));
    }
    let venue: Venue = name.strip_prefix("adapter_")?.parse().ok()?;
    Some(fuzz_adapter(venue, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_lines_round_trip() {
        let text = "venue gemini\nstart\nopen @1\ntext {\"a\":1}\nhttp @https://x/y <b>\nhttperr @2 boom\ntick 5\nsnap\nnonsense\n# c\n";
        let s = Scenario::parse(text.as_bytes());
        assert_eq!(s.steps.len(), 8);
        assert_eq!(s.steps[2].sel, Some(Selector::Index(1)));
        assert_eq!(s.steps[4].sel, Some(Selector::Url("https://x/y".into())));
        assert_eq!(s.steps[4].payload, "<b>");
        assert_eq!(Scenario::parse(&s.to_bytes()), s);
        let multi = Scenario {
            steps: vec![Step::new(Op::Http, None, "<html>\n</html>")],
        };
        let back = Scenario::parse(&multi.to_bytes());
        let mut budget = MAX_TOTAL;
        assert_eq!(
            expand(&back.steps[0].payload, &mut budget).unwrap(),
            b"<html>\n</html>"
        );
    }

    #[test]
    fn repeats_expand_within_bounds() {
        let mut budget = MAX_TOTAL;
        let e = expand(r#"[<<rep 3|,|["1","2"]>>]"#, &mut budget).unwrap();
        assert_eq!(e, br#"[["1","2"],["1","2"],["1","2"]]"#);
        let e = expand("<<rep 4||[>>1<<rep 4||]>>", &mut budget).unwrap();
        assert_eq!(e, b"[[[[1]]]]");
        let e = expand("<<rep 999999999|,|x>>", &mut budget).unwrap();
        assert_eq!(e.len(), 2 * MAX_REPEAT - 1);
        let mut small = 10;
        assert_eq!(expand("<<rep 20||x>>", &mut small), None);
        assert_eq!(expand("<<rep 2|x>> <<rep", &mut budget).unwrap(), b" <<rep");
    }

    #[test]
    fn every_target_runs_on_empty_and_junk_input() {
        for t in targets() {
            run_target(&t, b"").unwrap();
            run_target(&t, b"start\nopen\ntext }{\nhttp <html>\nclose\n").unwrap();
        }
        assert!(run_target("adapter_nowhere", b"").is_none());
    }
}
