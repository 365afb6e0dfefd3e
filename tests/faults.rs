//! Feed faults never show a wrong book (issue 5).
//!
//! Each test runs the simulator with Binance (spot + USD-M), Bybit and OKX
//! feeds for BTC-USDT, ETH-USDT and BTC-USDT-PERP, injects one fault on
//! every venue at once, and checks (besides the harness's per-input
//! invariants: a book that is not live is excluded from the CBBO and from
//! every open opportunity, no live book is ever crossed):
//! - the books the fault hits are marked out of sync (or stale), and those
//!   it does not hit stay live;
//! - every book that went down is live again within 2 s of the fault's end;
//! - the health counters match what the simulator injected (`FaultStats`);
//! - once the market is paused, every book equals the simulator's own over
//!   the top 10 levels a side.
//!
//! Timeouts are shortened through `FeedOptions` (not the adapters): idle
//! timeouts are bounded to 1.5 s (`ConnOptions::max_idle`) and the engine's
//! stale-after is 0.7 s, so a stall is seen in 0.7 s and a stalled socket is
//! recycled in 1.5 s; backoff is 50–400 ms.
//!
//! The tests share the two cores, so they run one at a time.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{BookKey, Counters, Harness, Options};
use depthwatch::model::{BookState, OutOfSyncReason, Venue};
use depthwatch::sim::FaultStats;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const VENUES: [Venue; 3] = [
    depthwatch::venue!("binance"),
    depthwatch::venue!("bybit"),
    depthwatch::venue!("okx"),
];
/// Rebuilt within this long after the fault ends.
const REBUILD_LIMIT: Duration = Duration::from_secs(2);
/// How long a test watches after the fault before its final checks.
const WATCH: Duration = Duration::from_millis(2500);
const MATCH_TIMEOUT: Duration = Duration::from_secs(3);

fn stats_since(a: &FaultStats, b: &FaultStats) -> FaultStats {
    a.since(b)
}

/// Counters and fault statistics before a fault, to compare after it.
struct Baseline {
    t0: Instant,
    before: BTreeMap<Venue, (Counters, FaultStats)>,
}

impl Baseline {
    fn take(h: &Harness) -> Baseline {
        let health = h.health();
        let before = VENUES
            .iter()
            .map(|&v| (v, (Counters::of(&health, v), h.sim.faults().stats(v))))
            .collect();
        Baseline {
            t0: Instant::now(),
            before,
        }
    }

    /// (health counters, injected faults) since the baseline, per venue.
    fn deltas(&self, h: &Harness) -> BTreeMap<Venue, (Counters, FaultStats)> {
        let health = h.health();
        VENUES
            .iter()
            .map(|&v| {
                let (c0, f0) = &self.before[&v];
                let c = Counters::of(&health, v).since(c0);
                let f = stats_since(&h.sim.faults().stats(v), f0);
                (v, (c, f))
            })
            .collect()
    }
}

/// Every book that went down after `t0` is live again within
/// [`REBUILD_LIMIT`] of `fault_end`. Returns the slowest rebuild per venue.
fn assert_rebuilt(
    h: &Harness,
    name: &str,
    t0: Instant,
    fault_end: Instant,
) -> BTreeMap<Venue, Duration> {
    let mut slowest: BTreeMap<Venue, Duration> = BTreeMap::new();
    for key in h.went_down_after(t0) {
        let took = h.rebuilt_after(fault_end, &key);
        let Some(took) = took else {
            panic!(
                "{name}: {} {} not rebuilt: {:?}",
                key.0,
                key.1,
                h.not_live(&[key])
            );
        };
        assert!(
            took < REBUILD_LIMIT,
            "{name}: {} {} rebuilt {took:?} after the fault ended",
            key.0,
            key.1
        );
        let e = slowest.entry(key.0).or_default();
        *e = (*e).max(took);
    }
    for (v, d) in &slowest {
        eprintln!(
            "REBUILD {name:<20} {:<8} {:>5} ms after the fault ended",
            v.as_str(),
            d.as_millis()
        );
    }
    slowest
}

fn down_by_venue(keys: &[BookKey], venue: Venue) -> usize {
    keys.iter().filter(|(v, _)| *v == venue).count()
}

/// Did any state change of `key` after `t0` match `pred`?
fn saw_state(h: &Harness, t0: Instant, key: &BookKey, pred: impl Fn(&BookState) -> bool) -> bool {
    h.transitions_after(t0, key).iter().any(|t| pred(&t.state))
        || h.monitor()
            .marked_by_adapter
            .iter()
            .any(|(at, k, s)| *at >= t0 && k == key && pred(s))
}

async fn start() -> Harness {
    let h = Harness::start(Options::default()).await;
    h.run_for(Duration::from_millis(600)).await;
    // No false alarms before any fault (what the demo's health pane shows).
    for v in VENUES {
        let c = h.counters(v);
        assert_eq!(
            c,
            Counters {
                checksum_ok: c.checksum_ok,
                ..Counters::default()
            },
            "{v}: incidents at start-up"
        );
    }
    h
}

/// Books that went out of sync after `t0`. A stale mark alone is left out:
/// it would mean the test machine stalled (no data for 0.7 s), not that the
/// fault under test did anything.
fn out_of_sync_after(h: &Harness, t0: Instant) -> Vec<BookKey> {
    h.went_down_after(t0)
        .into_iter()
        .filter(|k| {
            saw_state(h, t0, k, |s| {
                !s.is_live() && *s != BookState::OutOfSync(OutOfSyncReason::Stale)
            })
        })
        .collect()
}

/// The checks every test ends with.
async fn finish(h: Harness) {
    finish_with(h, true).await
}

/// `rest_quiet`: no REST retries expected. A test that refuses every
/// connection also refuses the REST requests in flight then (paced kline
/// backfills, open-interest polls), and their retries count on the REST
/// pseudo-connection.
async fn finish_with(h: Harness, rest_quiet: bool) {
    h.assert_books_match(MATCH_TIMEOUT).await;
    let summary = {
        let m = h.monitor();
        format!(
            "{} inputs and {} snapshots checked, up to {} open opportunities",
            m.inputs, m.snapshots, m.max_open_arbs
        )
    };
    eprintln!("CHECKED {summary}");
    // No start-up false alarms: REST fetches are not reconnects.
    for v in VENUES.iter().filter(|_| rest_quiet) {
        assert_eq!(h.counters(*v).rest_reconnects, 0, "{v} REST reconnects");
    }
    h.assert_clean();
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_connection() {
    let _serial = SERIAL.lock().await;
    let h = start().await;
    let base = Baseline::take(&h);
    for v in VENUES {
        h.sim.faults().venue(v).drop_connections();
    }
    let fault_end = Instant::now();
    h.run_for(WATCH).await;

    let down = h.went_down_after(base.t0);
    for key in &h.books {
        assert!(
            saw_state(&h, base.t0, key, |s| *s
                == BookState::OutOfSync(OutOfSyncReason::Disconnected)),
            "{} {} never marked disconnected",
            key.0,
            key.1
        );
    }
    assert_eq!(down.len(), h.books.len());
    assert_rebuilt(&h, "drop connection", base.t0, fault_end);
    for (v, (c, f)) in base.deltas(&h) {
        assert!(f.dropped_connections >= 1, "{v}: nothing dropped");
        // One successful reconnect per dropped connection, nothing else.
        assert_eq!(c.reconnects, f.dropped_connections, "{v} reconnects");
        assert_eq!((c.gaps, c.resyncs), (0, 0), "{v} gaps/resyncs");
        assert_eq!((c.parse_errors, c.unknown_messages), (0, 0), "{v}");
    }
    finish(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_with_socket_open() {
    let _serial = SERIAL.lock().await;
    let h = start().await;
    let opts = h.opts.clone();

    // A long stall: stale after 0.7 s, socket recycled by the (bounded) idle
    // timeout at 1.5 s, rebuilt on a fresh connection while the old one is
    // still stalled.
    let base = Baseline::take(&h);
    let stall = Duration::from_secs(3);
    for v in VENUES {
        h.sim.faults().venue(v).stall(stall);
    }
    let detected = base.t0 + opts.max_idle;
    h.run_for(stall + Duration::from_millis(500)).await;
    for key in &h.books {
        assert!(
            saw_state(&h, base.t0, key, |s| *s
                == BookState::OutOfSync(OutOfSyncReason::Stale)),
            "{} {} never marked stale",
            key.0,
            key.1
        );
        let stale_at = h
            .transitions_after(base.t0, key)
            .into_iter()
            .find(|t| !t.state.is_live())
            .map(|t| t.at - base.t0);
        let stale_at = stale_at.expect("went stale");
        assert!(
            stale_at < opts.stale_after + Duration::from_millis(500),
            "{} {} stale only after {stale_at:?}",
            key.0,
            key.1
        );
    }
    // Measured from the idle timeout (when the runtime gives up on the
    // socket); each book is also live again before the stall itself ends.
    let slowest = assert_rebuilt(&h, "stall (idle timeout)", base.t0, detected);
    for d in slowest.values() {
        assert!(
            *d + opts.max_idle < stall,
            "rebuilt only after the stall ended"
        );
    }
    for (v, (c, f)) in base.deltas(&h) {
        // Connections with an idle timeout are recycled once each; Binance's
        // liquidation/trade connection has none (it may be quiet for minutes)
        // and simply resumes when the stall ends.
        let book_conns = match v.as_str() {
            "binance" | "bybit" => 2,
            _ => 1,
        };
        let quiet_conns = if v == depthwatch::venue!("binance") {
            1
        } else {
            0
        };
        assert_eq!(f.stalls, book_conns + quiet_conns, "{v} stalled sessions");
        assert_eq!(c.reconnects, book_conns, "{v} reconnects");
        assert_eq!((c.gaps, c.resyncs), (0, 0), "{v} gaps/resyncs");
    }

    // A short stall (longer than stale-after, shorter than the idle
    // timeout): stale, then live again with nothing lost and no reconnect.
    h.run_for(Duration::from_millis(500)).await;
    let base = Baseline::take(&h);
    let stall = Duration::from_millis(1100);
    for v in VENUES {
        h.sim.faults().venue(v).stall(stall);
    }
    let fault_end = base.t0 + stall;
    h.run_for(stall + Duration::from_millis(900)).await;
    assert_eq!(h.went_down_after(base.t0).len(), h.books.len());
    assert_rebuilt(&h, "stall (short)", base.t0, fault_end);
    for (v, (c, _)) in base.deltas(&h) {
        assert_eq!(c.reconnects, 0, "{v} reconnects after a short stall");
        assert_eq!((c.gaps, c.resyncs), (0, 0), "{v} gaps/resyncs");
    }
    finish(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_gap() {
    let _serial = SERIAL.lock().await;
    let h = start().await;
    let base = Baseline::take(&h);
    for v in VENUES {
        h.sim.faults().venue(v).skip_sequence();
    }
    let fault_end = Instant::now();
    h.run_for(WATCH).await;

    let down = h.went_down_after(base.t0);
    for v in VENUES {
        assert!(down_by_venue(&down, v) >= 1, "{v}: no book marked");
    }
    for key in &down {
        assert!(
            saw_state(&h, base.t0, key, |s| matches!(
                s,
                BookState::OutOfSync(OutOfSyncReason::Gap { .. } | OutOfSyncReason::Disconnected)
            )),
            "{} {} down without a gap",
            key.0,
            key.1
        );
    }
    assert_rebuilt(&h, "sequence gap", base.t0, fault_end);
    for (v, (c, f)) in base.deltas(&h) {
        // One skip per connection carrying books; each is one gap and one
        // rebuild. Bybit rebuilds by reconnecting.
        assert!(f.sequence_gaps >= 1, "{v}: no gap injected");
        assert_eq!(c.gaps, f.sequence_gaps, "{v} gaps");
        assert_eq!(c.resyncs, f.sequence_gaps, "{v} resyncs");
        let reconnects = if v == depthwatch::venue!("bybit") {
            f.sequence_gaps
        } else {
            0
        };
        assert_eq!(c.reconnects, reconnects, "{v} reconnects");
        assert_eq!(c.checksum_failed, 0, "{v} checksum failures");
    }
    finish(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_wrong_checksum() {
    let _serial = SERIAL.lock().await;
    let h = start().await;
    let base = Baseline::take(&h);
    h.sim
        .faults()
        .venue(depthwatch::venue!("okx"))
        .bad_checksum();
    let fault_end = Instant::now();
    h.run_for(WATCH).await;

    let down = out_of_sync_after(&h, base.t0);
    assert_eq!(down.len(), 1, "exactly the corrupted book: {down:?}");
    assert_eq!(down[0].0, depthwatch::venue!("okx"));
    assert!(saw_state(&h, base.t0, &down[0], |s| matches!(
        s,
        BookState::OutOfSync(OutOfSyncReason::ChecksumMismatch { .. })
    )));
    assert_rebuilt(&h, "bad checksum", base.t0, fault_end);
    let deltas = base.deltas(&h);
    let (c, f) = deltas[&depthwatch::venue!("okx")];
    assert_eq!(f.bad_checksums, 1);
    assert_eq!(c.checksum_failed, 1);
    assert_eq!(c.resyncs, 1);
    assert!(c.checksum_ok > 0, "checksums keep being verified");
    assert_eq!((c.gaps, c.reconnects), (0, 0));
    finish(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json() {
    let _serial = SERIAL.lock().await;
    let h = start().await;
    let base = Baseline::take(&h);
    for v in VENUES {
        h.sim.faults().venue(v).malformed();
    }
    h.run_for(Duration::from_millis(1500)).await;
    // The truncated frame comes on top of the normal traffic: sequence
    // numbers prove nothing was lost, so no book may go down.
    let down = out_of_sync_after(&h, base.t0);
    assert!(
        down.is_empty(),
        "books went down on a parse error: {down:?}"
    );
    for (v, (c, f)) in base.deltas(&h) {
        assert!(f.malformed_frames >= 1, "{v}: nothing injected");
        assert_eq!(c.parse_errors, f.malformed_frames, "{v} parse errors");
        assert_eq!(c.unknown_messages, 0, "{v} unknown messages");
        assert_eq!((c.gaps, c.resyncs, c.reconnects), (0, 0, 0), "{v}");
    }
    eprintln!("REBUILD malformed JSON        (no book affected)");
    finish(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_message_type() {
    let _serial = SERIAL.lock().await;
    let h = start().await;
    let base = Baseline::take(&h);
    for v in VENUES {
        h.sim.faults().venue(v).unknown_message();
    }
    h.run_for(Duration::from_millis(1500)).await;
    let down = out_of_sync_after(&h, base.t0);
    assert!(
        down.is_empty(),
        "books went down on an unknown message: {down:?}"
    );
    for (v, (c, f)) in base.deltas(&h) {
        assert!(f.unknown_messages >= 1, "{v}: nothing injected");
        assert_eq!(
            c.unknown_messages, f.unknown_messages,
            "{v} unknown messages"
        );
        assert_eq!(c.parse_errors, 0, "{v} parse errors");
        assert_eq!((c.gaps, c.resyncs, c.reconnects), (0, 0, 0), "{v}");
    }
    eprintln!("REBUILD unknown message       (no book affected)");
    finish(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuse_connections_for_a_while() {
    let _serial = SERIAL.lock().await;
    let h = start().await;
    let base = Baseline::take(&h);
    let refuse = Duration::from_millis(1500);
    for v in VENUES {
        let f = h.sim.faults().venue(v);
        f.refuse_connections(refuse);
        f.drop_connections();
    }
    let fault_end = base.t0 + refuse;
    // Nothing can come back while connections are refused.
    tokio::time::sleep(refuse - Duration::from_millis(100)).await;
    let down_now = h.not_live(&h.books);
    assert_eq!(down_now.len(), h.books.len(), "{down_now:?}");
    h.run_for(WATCH).await;

    assert_eq!(h.went_down_after(base.t0).len(), h.books.len());
    assert_rebuilt(&h, "refused connections", base.t0, fault_end);
    for (v, (c, f)) in base.deltas(&h) {
        // A refused attempt never connects: exactly one reconnect per
        // dropped connection, however many attempts were refused (at least
        // one each, since the first retry comes within 50 ms).
        assert_eq!(c.reconnects, f.dropped_connections, "{v} reconnects");
        assert!(
            f.refused_connections >= f.dropped_connections,
            "{v}: {} refused for {} dropped",
            f.refused_connections,
            f.dropped_connections
        );
        // REST is only used once connections are back (Binance snapshots).
        assert!(c.rest_reconnects <= f.refused_http, "{v} REST reconnects");
        assert_eq!((c.gaps, c.resyncs), (0, 0), "{v}");
    }
    finish_with(h, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_snapshot() {
    let _serial = SERIAL.lock().await;
    let h = start().await;
    let base = Baseline::take(&h);
    // The next snapshot of each venue is huge; dropping the connections
    // makes every book take a new one.
    for v in VENUES {
        let f = h.sim.faults().venue(v);
        f.huge_snapshot();
        f.drop_connections();
    }
    let fault_end = Instant::now();
    h.run_for(WATCH).await;
    assert_rebuilt(&h, "huge snapshot", base.t0, fault_end);
    for (v, (c, f)) in base.deltas(&h) {
        assert_eq!(f.huge_snapshots, 1, "{v} huge snapshots served");
        assert_eq!(c.reconnects, f.dropped_connections, "{v} reconnects");
        assert_eq!((c.gaps, c.resyncs, c.parse_errors), (0, 0, 0), "{v}");
        // The 5000-level side was taken whole.
        let deepest = h
            .engine()
            .books()
            .filter(|b| b.venue == v)
            .map(|b| b.book.bids.len().max(b.book.asks.len()))
            .max()
            .unwrap_or(0);
        assert!(deepest >= 5000, "{v}: deepest book side {deepest} levels");
    }
    finish(h).await;
}
