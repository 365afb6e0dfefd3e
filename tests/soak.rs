//! Soak: Binance, Bybit and OKX with random faults (seeded) for about 30 s,
//! checking the same invariants as `tests/faults.rs` throughout (every input
//! and a snapshot every 100 ms: books that are not live stay out of the CBBO
//! and arbitrage, nothing crossed is published), and at three quiescent
//! points that every book is live within 2 s of the last fault's end and
//! equal to the simulator's own.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Counters, Harness, Options};
use depthwatch::model::Venue;
use depthwatch::sim::{Fault, FaultStats};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const SEED: u64 = 0x5eed_2026;
const VENUES: [Venue; 3] = [
    depthwatch::venue!("binance"),
    depthwatch::venue!("bybit"),
    depthwatch::venue!("okx"),
];
/// Fault windows between quiescent checks.
const WINDOWS: usize = 3;
const WINDOW: Duration = Duration::from_secs(9);
const REBUILD_LIMIT: Duration = Duration::from_secs(2);

/// Every fault each venue can be given, with random durations, in a
/// shuffled order (a deck, so every kind comes up in the soak).
fn deck(rng: &mut StdRng) -> Vec<(Venue, Fault)> {
    let mut deck = Vec::new();
    for venue in VENUES {
        let ms =
            |rng: &mut StdRng, lo: u64, hi: u64| Duration::from_millis(rng.random_range(lo..=hi));
        deck.extend([
            (venue, Fault::DropConnections),
            (venue, Fault::Stall(ms(rng, 400, 2500))),
            (venue, Fault::SkipSequence),
            (venue, Fault::Malformed),
            (venue, Fault::UnknownMessage),
            (venue, Fault::RefuseConnections(ms(rng, 300, 1500))),
            (venue, Fault::HugeSnapshot),
        ]);
        if venue == depthwatch::venue!("okx") {
            deck.extend([(venue, Fault::BadChecksum), (venue, Fault::BadChecksum)]);
        }
    }
    deck.shuffle(rng);
    deck
}

/// Inject one fault; returns when it ends.
fn inject(h: &Harness, venue: Venue, fault: Fault) -> Instant {
    let target = h.sim.faults().venue(venue);
    let now = Instant::now();
    match fault {
        Fault::RefuseConnections(d) => {
            // Refusal only bites on new connections: drop the open ones.
            target.refuse_connections(d);
            target.drop_connections();
            now + d
        }
        Fault::HugeSnapshot => {
            target.huge_snapshot();
            target.drop_connections();
            now
        }
        Fault::Stall(d) => {
            target.stall(d);
            now + d
        }
        other => {
            target.inject(other);
            now
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_faults_on_three_venues() {
    let started = Instant::now();
    let h = Harness::start(Options {
        seed: SEED,
        ..Options::default()
    })
    .await;
    let mut rng = StdRng::seed_from_u64(SEED);
    let health0 = h.health();
    let before: BTreeMap<Venue, (Counters, FaultStats)> = VENUES
        .iter()
        .map(|&v| (v, (Counters::of(&health0, v), h.sim.faults().stats(v))))
        .collect();
    let mut injected: BTreeMap<&'static str, u32> = BTreeMap::new();

    let mut faults = deck(&mut rng).into_iter().cycle();
    for window in 0..WINDOWS {
        let end = Instant::now() + WINDOW;
        let mut last_fault_end = Instant::now();
        while Instant::now() < end {
            let Some((venue, fault)) = faults.next() else {
                break;
            };
            *injected.entry(fault.label()).or_default() += 1;
            last_fault_end = last_fault_end.max(inject(&h, venue, fault));
            h.run_for(Duration::from_millis(rng.random_range(400..=1000)))
                .await;
        }
        // Quiescent point: every book live within 2 s of the last fault's
        // end, then equal to the simulator's.
        let deadline = last_fault_end + REBUILD_LIMIT;
        let books = h.books.clone();
        let wait = deadline.saturating_duration_since(Instant::now());
        let live = h.wait_until(wait, |e| common::all_live(e, &books)).await;
        assert!(
            live.is_some(),
            "window {window}: not live 2 s after the last fault: {:?}",
            h.not_live(&books)
        );
        let slowest = books
            .iter()
            .filter_map(|k| h.rebuilt_after(last_fault_end, k))
            .max()
            .unwrap_or_default();
        eprintln!(
            "SOAK window {window}: every book live {} ms after the last fault ended",
            slowest.as_millis()
        );
        // A short stall may still be holding a connection back.
        tokio::time::sleep(last_fault_end.saturating_duration_since(Instant::now())).await;
        h.assert_books_match(Duration::from_secs(3)).await;
        let v = h.violations();
        assert!(v.is_empty(), "window {window}: {v:#?}");
    }

    let health = h.health();
    for v in VENUES {
        let (c0, f0) = &before[&v];
        let c = Counters::of(&health, v).since(c0);
        let f1 = h.sim.faults().stats(v);
        let f = f1.since(f0);
        eprintln!("SOAK {v}: injected {f:?}");
        eprintln!("SOAK {v}: counted  {c:?}");
        // Exact whatever overlaps: every gap and every checksum failure
        // starts exactly one rebuild, and nothing else does.
        assert_eq!(c.resyncs, c.gaps + c.checksum_failed, "{v} resyncs");
        // Never more than injected: nothing is detected that did not happen.
        assert!(c.gaps <= f.sequence_gaps, "{v} gaps");
        assert!(
            c.checksum_failed <= f.bad_checksums,
            "{v} checksum failures"
        );
        assert!(c.parse_errors <= f.malformed_frames, "{v} parse errors");
        assert!(c.unknown_messages <= f.unknown_messages, "{v} unknown");
        // A one-shot fault goes unseen only when its frame goes out on a
        // connection the client is leaving (closed for a gap, or a stalled
        // session catching up after the client gave up on it), or hits a book
        // already rebuilding (a skipped or corrupted update of a book that is
        // not live proves nothing). Faults are at least 0.4 s apart and taken
        // within one 50 ms step, so each reconnect or rebuild hides at most
        // one per kind.
        let hiding = c.reconnects + c.resyncs;
        assert!(c.gaps + hiding >= f.sequence_gaps, "{v} gaps: {c:?} {f:?}");
        assert!(
            c.checksum_failed + hiding >= f.bad_checksums,
            "{v} checksums"
        );
        assert!(
            c.parse_errors + hiding >= f.malformed_frames,
            "{v} parse errors"
        );
        assert!(
            c.unknown_messages + hiding >= f.unknown_messages,
            "{v} unknown"
        );
        // Each dropped connection comes back exactly once; beyond that only
        // idle-timeout recycles (stalls) and Bybit's reconnect-on-gap.
        assert!(c.reconnects >= f.dropped_connections, "{v} reconnects");
        let bybit_gap_reconnects = if v == depthwatch::venue!("bybit") {
            c.gaps
        } else {
            0
        };
        let closes: Vec<String> = h
            .monitor()
            .closes
            .iter()
            .filter(|(cv, _)| *cv == v)
            .map(|(_, why)| why.clone())
            .collect();
        assert!(
            c.reconnects <= f.dropped_connections + f.stalls + bybit_gap_reconnects,
            "{v} reconnects: {c:?} {f:?}; closes: {closes:#?}"
        );
    }
    let summary = {
        let m = h.monitor();
        format!(
            "{} inputs and {} snapshots checked, up to {} open opportunities, {} book state changes",
            m.inputs,
            m.snapshots,
            m.max_open_arbs,
            m.transitions.len()
        )
    };
    eprintln!("SOAK injected {injected:?}; {summary}");
    h.assert_clean();
    h.shutdown().await;
    // How long it took is reported, not asserted: a loaded machine is slow,
    // not wrong.
    eprintln!("SOAK took {:?}", started.elapsed());
}
