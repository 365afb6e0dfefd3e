//! The book lifecycle, property-tested per adapter (issue 10): random
//! interleavings of connect, open, close, REST bodies (snapshots, errors,
//! late and duplicated ones) and frames drawn from that venue's real
//! captures (`../shared/captures`) or documented fixtures
//! (`tests/fixtures/<venue>/`), reordered and duplicated, fed through the
//! adapter into a real engine. After every step:
//!
//! - no book the adapter is not applying updates to is live in the engine;
//! - a book it applies updates to is live in the engine (or out of sync by
//!   the engine's own verdict, a crossed book), never left syncing or stale.
//!
//! `PROPTEST_CASES` sets the cases per adapter (default 400, which keeps
//! the debug-build suite within CI's budget); the longer run documented in
//! the README uses `PROPTEST_CASES=50000` in release mode. A failure
//! prints the seed and the shrunk step list.

use std::collections::BTreeMap;
use std::path::Path;

use depthwatch::capture::{CaptureReader, Frame, Record, shared_captures_dir};
use depthwatch::engine::snapshot::ConnState;
use depthwatch::engine::{Engine, EngineConfig, EngineInput, REST_CONN};
use depthwatch::model::{BookState, Instrument, OutOfSyncReason, Venue};
use depthwatch::venues::{Action, Adapter, AdapterConfig, Output, registry};
use proptest::prelude::*;

/// What one venue's adapter is fed from.
#[derive(Default, Debug)]
struct Pool {
    instruments: Vec<Instrument>,
    /// Connection address → frames received on it.
    frames: BTreeMap<String, Vec<Frame>>,
    /// REST bodies by URL (a URL may have several: late and repeated ones).
    http: Vec<(String, String)>,
    /// Bodies not tied to a URL (fixtures), offered for any URL asked for.
    loose_bodies: Vec<String>,
    source: String,
}

const HTML_ERROR: &str =
    "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
/// Frames larger than this are left out of the pool (full-depth snapshots of
/// several MB would make each case slow); the book snapshots venues send at
/// subscription are well below it except Coinbase's, kept by `keep_large`.
const MAX_FRAME: usize = 4 << 20;

fn capture_pool(venue: Venue) -> Option<Pool> {
    let dir = shared_captures_dir();
    for name in venue.spec().capture_names {
        let path = dir.join(format!("{name}.jsonl.zst"));
        if !path.exists() {
            continue;
        }
        let mut reader = CaptureReader::open(&path).ok()?;
        let mut pool = Pool {
            source: path.display().to_string(),
            ..Pool::default()
        };
        let mut instruments: Vec<Instrument> = reader
            .header()
            .config
            .values()
            .flatten()
            .filter_map(|s| s.parse().ok())
            .collect();
        instruments.sort();
        instruments.dedup();
        pool.instruments = instruments;
        // Up to this many frames per connection keep cases varied and fast.
        while let Ok(Some(rec)) = reader.next_record() {
            match rec {
                Record::Http { url, body, .. } if body.len() <= MAX_FRAME => {
                    pool.http.push((url, body))
                }
                Record::Connect { addr, .. } => {
                    pool.frames.entry(addr).or_default();
                }
                Record::Recv { addr, frame, .. } if frame.len() <= MAX_FRAME => {
                    let v = pool.frames.entry(addr).or_default();
                    if v.len() < 400 {
                        v.push(frame);
                    }
                }
                _ => {}
            }
        }
        return Some(pool);
    }
    None
}

fn fixture_pool(venue: Venue) -> Option<Pool> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(venue.as_str());
    let mut files: Vec<_> = std::fs::read_dir(&dir).ok()?.flatten().collect();
    files.sort_by_key(|e| e.path());
    let mut frames = Vec::new();
    // `*.b64` fixtures are binary frames (protobuf venues), base64 on a line.
    let mut binary = Vec::new();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(f.path()) {
            if f.path().extension().is_some_and(|e| e == "b64") {
                use base64::Engine as _;
                if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(text.trim()) {
                    binary.push(b);
                }
            } else {
                frames.push(text);
            }
        }
    }
    let instruments = [
        "BTC-USD",
        "BTC-USDT",
        "ETH-USDT",
        "ETH-USD",
        "BTC-USDT-PERP",
        "BTC-USD-PERP",
        "ETH-USD-PERP",
        "BTC-USDC-PERP",
    ]
    .iter()
    .filter_map(|s| s.parse::<Instrument>().ok())
    .filter(|i| venue.spec().carries(i))
    .collect();
    let mut pool = Pool {
        instruments,
        source: dir.display().to_string(),
        loose_bodies: frames.clone(),
        ..Pool::default()
    };
    let cfg = AdapterConfig {
        instruments: pool.instruments.clone(),
        ..AdapterConfig::default()
    };
    for c in registry::build(venue, cfg).connections() {
        let text = frames.iter().cloned().map(Frame::Text);
        let bin = binary.iter().cloned().map(Frame::Binary);
        pool.frames.insert(c.url, text.chain(bin).collect());
    }
    Some(pool)
}

/// One step, decoded against the pool and the URLs asked for so far.
#[derive(Clone, Debug)]
enum Step {
    Open(usize),
    Close(usize),
    Frame(usize, usize),
    /// A recorded REST body (by index), or a loose body for a requested URL.
    Http(usize, usize),
    HttpError(usize),
    /// Let time pass (ms); below the stale limit so staleness stays the
    /// engine's verdict on silence, not on the test's clock.
    Wait(u16),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        2 => any::<usize>().prop_map(Step::Open),
        1 => any::<usize>().prop_map(Step::Close),
        12 => (any::<usize>(), any::<usize>()).prop_map(|(c, f)| Step::Frame(c, f)),
        3 => (any::<usize>(), any::<usize>()).prop_map(|(u, b)| Step::Http(u, b)),
        1 => any::<usize>().prop_map(Step::HttpError),
        1 => (1u16..5_000).prop_map(Step::Wait),
    ];
    proptest::collection::vec(step, 1..100)
}

struct Rig {
    venue: Venue,
    adapter: Box<dyn Adapter>,
    engine: Engine,
    now: i64,
    requested: Vec<String>,
}

impl Rig {
    fn new(venue: Venue, pool: &Pool) -> Rig {
        let cfg = AdapterConfig {
            instruments: pool.instruments.clone(),
            ..AdapterConfig::default()
        };
        let mut rig = Rig {
            venue,
            adapter: registry::build(venue, cfg),
            engine: Engine::new(EngineConfig::default()),
            now: 1_754_000_000_000_000,
            requested: Vec::new(),
        };
        let mut out = Output::default();
        rig.adapter.start(rig.now, &mut out);
        rig.feed(REST_CONN, 0, out);
        rig
    }

    fn feed(&mut self, conn: &str, bytes: usize, mut out: Output) {
        for a in out.actions.drain(..) {
            if let Action::HttpGet { url } | Action::HttpPost { url, .. } = a {
                self.requested.push(url);
            }
        }
        self.engine.handle(EngineInput::Feed {
            venue: self.venue,
            conn: conn.to_string(),
            received: self.now,
            bytes,
            events: std::mem::take(&mut out.events),
        });
    }

    fn conn(&mut self, conn: &str, state: ConnState) {
        self.engine.handle(EngineInput::Conn {
            venue: self.venue,
            conn: conn.to_string(),
            state,
            at: self.now,
        });
    }

    fn run(&mut self, pool: &Pool, step: &Step) {
        self.now += 1_000;
        let conns: Vec<&String> = pool.frames.keys().collect();
        let mut out = Output::default();
        match *step {
            Step::Open(c) if !conns.is_empty() => {
                let url = conns[c % conns.len()].clone();
                self.conn(&url, ConnState::Connected);
                self.adapter.on_open(&url, self.now, &mut out);
                self.feed(&url, 0, out);
            }
            Step::Close(c) if !conns.is_empty() => {
                let url = conns[c % conns.len()].clone();
                self.adapter.on_close(&url, self.now, &mut out);
                self.feed(&url, 0, out);
                self.conn(
                    &url,
                    ConnState::Disconnected {
                        reason: "test".to_string(),
                    },
                );
            }
            Step::Frame(c, f) if !conns.is_empty() => {
                let url = conns[c % conns.len()].clone();
                let frames = &pool.frames[&url];
                if frames.is_empty() {
                    return;
                }
                let frame = &frames[f % frames.len()];
                match frame {
                    Frame::Text(t) => self.adapter.on_text(&url, t, self.now, &mut out),
                    Frame::Binary(b) => self.adapter.on_binary(&url, b, self.now, &mut out),
                }
                self.feed(&url, frame.len(), out);
            }
            Step::Http(u, b) => {
                let (url, body) =
                    if !pool.http.is_empty() && (b % 4 != 0 || self.requested.is_empty()) {
                        pool.http[u % pool.http.len()].clone()
                    } else if !self.requested.is_empty() {
                        let url = self.requested[u % self.requested.len()].clone();
                        let body = match pool.loose_bodies.get(b % (pool.loose_bodies.len() + 1)) {
                            Some(body) => body.clone(),
                            None => HTML_ERROR.to_string(),
                        };
                        (url, body)
                    } else {
                        return;
                    };
                self.adapter.on_http(&url, &body, self.now, &mut out);
                self.feed(REST_CONN, body.len(), out);
            }
            Step::HttpError(u) if !self.requested.is_empty() => {
                let url = self.requested[u % self.requested.len()].clone();
                self.adapter
                    .on_http_error(&url, "HTTP 429: rate limited", self.now, &mut out);
                self.feed(REST_CONN, 0, out);
            }
            Step::Wait(ms) => {
                self.now += i64::from(ms) * 1_000;
                self.engine.handle(EngineInput::Tick { now: self.now });
            }
            _ => {}
        }
    }

    /// The two views of every book agree.
    fn check(&self) -> Result<(), String> {
        let lc = self.adapter.lifecycle();
        for b in self.engine.books().filter(|b| b.venue == self.venue) {
            let applying = lc.is_live(&b.instrument);
            if b.state.is_live() && !applying {
                return Err(format!(
                    "{} {} is live in the engine but the adapter is not applying its updates ({:?})",
                    self.venue,
                    b.instrument,
                    lc.phase(&b.instrument)
                ));
            }
            let engines_own = matches!(b.state, BookState::OutOfSync(OutOfSyncReason::Crossed));
            if applying && !b.state.is_live() && !engines_own {
                return Err(format!(
                    "{} {}: the adapter applies its updates but the engine shows it {:?}",
                    self.venue, b.instrument, b.state
                ));
            }
        }
        for i in lc.applying() {
            if self.engine.book(self.venue, &i).is_none() {
                return Err(format!(
                    "{} {i}: applied but unknown to the engine",
                    self.venue
                ));
            }
        }
        Ok(())
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400)
}

fn property(venue_name: &str) {
    let venue: Venue = venue_name.parse().unwrap();
    let pool = match capture_pool(venue) {
        Some(p) => p,
        None => {
            println!(
                "SKIPPED (capture part): no capture of {venue} in {}; using fixtures",
                shared_captures_dir().display()
            );
            match fixture_pool(venue) {
                Some(p) => p,
                None => panic!("{venue}: neither a capture nor fixtures to draw frames from"),
            }
        }
    };
    println!(
        "{venue}: frames from {} ({} connections, {} REST bodies), {} cases",
        pool.source,
        pool.frames.len(),
        pool.http.len() + pool.loose_bodies.len(),
        cases()
    );
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(steps in steps())| {
        let mut rig = Rig::new(venue, &pool);
        for (n, step) in steps.iter().enumerate() {
            rig.run(&pool, step);
            if let Err(e) = rig.check() {
                return Err(TestCaseError::fail(format!("after step {n} ({step:?}): {e}")));
            }
        }
    });
}

macro_rules! lifecycle_properties {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                property(stringify!($name));
            }
        )*

        /// A new venue in the registry must get a property test here.
        #[test]
        fn every_registered_venue_is_covered() {
            let covered = [$(stringify!($name)),*];
            for v in Venue::all() {
                assert!(covered.contains(&v.as_str()), "no lifecycle property test for {v}");
            }
        }
    };
}

lifecycle_properties!(
    binance,
    bybit,
    okx,
    coinbase,
    kraken,
    bitstamp,
    gemini,
    hyperliquid,
    deribit,
    bitget,
    htx,
    gate,
    kucoin,
    bitfinex,
    cryptocom,
    mexc,
);
