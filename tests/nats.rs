//! The bus against a real `nats-server` (JetStream) on loopback: collectors
//! in this process publish the simulator's venues, terminals build their
//! engine from the bus. Each test starts its own server on a free port and
//! stops it at the end; without `nats-server` on PATH they say SKIPPED.
//! Every wait is for a condition, with a generous deadline.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::nats::NatsServer;
use depthwatch::app::collect::Collecting;
use depthwatch::app::live::{demo_config, wanted_feeds};
use depthwatch::bus::publish::PublishOptions;
use depthwatch::bus::subscribe::Terminal;
use depthwatch::bus::wire::{self, Body, BookSnapshot, Message, Origin, WireBookKind, WireLevel};
use depthwatch::config::Config;
use depthwatch::engine::runner::{self, EngineControl};
use depthwatch::engine::{Engine, EngineConfig, INPUT_CAPACITY, Snapshot};
use depthwatch::model::{Level, Venue};
use depthwatch::sim::{SimConfig, Simulator};
use depthwatch::venues::AdapterConfig;
use rust_decimal_macros::dec;
use tokio::sync::{mpsc, watch};

const DEADLINE: Duration = Duration::from_secs(90);

/// The simulator's feeds for `venues` only (fewer books: a lighter test).
fn feeds(sim: &Simulator, venues: &[Venue]) -> BTreeMap<Venue, AdapterConfig> {
    let config = demo_config(Config::default(), sim, false);
    let mut wanted = wanted_feeds(&config, true);
    wanted.retain(|v, _| venues.contains(v));
    assert_eq!(wanted.len(), venues.len(), "every venue is simulated");
    wanted
}

fn sim_config() -> SimConfig {
    SimConfig {
        levels_per_side: 50,
        ..SimConfig::default()
    }
}

/// A terminal: an engine fed from the bus.
struct Term {
    snapshots: watch::Receiver<Arc<Snapshot>>,
    control: mpsc::Sender<EngineControl>,
    _bus: Terminal,
}

async fn terminal(url: &str) -> Term {
    let cfg = EngineConfig {
        stale_after: 3_000_000,
        ..EngineConfig::default()
    };
    let (in_tx, in_rx) = mpsc::channel(INPUT_CAPACITY);
    let (snap_tx, snapshots) = watch::channel(Arc::new(Snapshot::default()));
    let (control, control_rx) = mpsc::channel(4);
    tokio::spawn(runner::run(
        Engine::new(cfg),
        in_rx,
        snap_tx,
        20,
        control_rx,
    ));
    let client = depthwatch::bus::connect(url, "test terminal")
        .await
        .unwrap();
    let bus = Terminal::start(client, in_tx, 1_000_000).await.unwrap();
    Term {
        snapshots,
        control,
        _bus: bus,
    }
}

impl Term {
    /// Wait until `cond` holds for a snapshot.
    async fn until(&mut self, what: &str, cond: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
        let wait = async {
            loop {
                let snap = self.snapshots.borrow_and_update().clone();
                if cond(&snap) {
                    return snap;
                }
                if self.snapshots.changed().await.is_err() {
                    panic!("engine ended while waiting for: {what}");
                }
            }
        };
        match tokio::time::timeout(DEADLINE, wait).await {
            Ok(s) => s,
            Err(_) => {
                let snap = self.snapshots.borrow().clone();
                panic!("timed out waiting for: {what}\n{}", books_of(&snap));
            }
        }
    }

    async fn close(self) {
        let _ = self.control.send(EngineControl::Shutdown).await;
    }
}

fn books_of(snap: &Snapshot) -> String {
    snap.instruments
        .iter()
        .flat_map(|v| &v.venues)
        .map(|b| format!("{} {} {}\n", b.venue, b.instrument, b.state.label()))
        .collect()
}

/// Every book of `venues` (at least `min` of them) has state `label`.
fn all_books(snap: &Snapshot, venues: &[Venue], label: &str, min: usize) -> bool {
    let books: Vec<_> = snap
        .instruments
        .iter()
        .flat_map(|v| &v.venues)
        .filter(|b| venues.contains(&b.venue))
        .collect();
    books.len() >= min && books.iter().all(|b| b.state.label() == label)
}

fn venue(name: &str) -> Venue {
    name.parse().unwrap()
}

fn opts() -> PublishOptions {
    PublishOptions {
        snapshot_every: Duration::from_millis(300),
        ..PublishOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_books_equal_the_collectors_then_go_stale_and_come_back() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let sim = Simulator::start(sim_config()).await.unwrap();
    let venues = [venue("okx"), venue("bybit")];
    let wanted = feeds(&sim, &venues);
    let books = wanted.values().map(|c| c.instruments.len()).sum::<usize>();
    let mut term = terminal(&server.url).await;
    let a = Collecting::start(&server.url, "a", &wanted, opts())
        .await
        .unwrap();
    term.until("every book live", |s| all_books(s, &venues, "live", books))
        .await;
    // The collector stops: its feeds say goodbye, its books are final.
    let finals = a.stop().await;
    assert_eq!(finals.len(), books);
    let snap = term
        .until("the terminal's books equal the collector's", |s| {
            finals.iter().all(|f| {
                s.instruments.iter().flat_map(|v| &v.venues).any(|b| {
                    b.venue == f.venue
                        && b.instrument == f.instrument
                        && b.bid_levels == f.book.bids.len()
                        && b.ask_levels == f.book.asks.len()
                        && b.bids == f.book.bids.top(b.bids.len())
                        && b.asks == f.book.asks.top(b.asks.len())
                })
            })
        })
        .await;
    assert!(!snap.instruments.is_empty());
    // Silence: out of the CBBO within the stale window.
    term.until("every book out of sync or stale", |s| {
        s.instruments
            .iter()
            .flat_map(|v| &v.venues)
            .all(|b| !b.state.is_usable())
            && s.instruments.iter().all(|v| v.cbbo.bid.is_none())
    })
    .await;
    // A new run of the same collector brings them back.
    let a = Collecting::start(&server.url, "a", &wanted, opts())
        .await
        .unwrap();
    term.until("live again after the restart", |s| {
        all_books(s, &venues, "live", books)
    })
    .await;
    a.kill();
    term.until("stale after the kill", |s| {
        all_books(s, &venues, "stale", books)
    })
    .await;
    term.close().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_joiner_syncs_and_collectors_merge_and_dedup() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let sim = Simulator::start(sim_config()).await.unwrap();
    let (x, y) = (venue("okx"), venue("bybit"));
    let fx = feeds(&sim, &[x]);
    let fy = feeds(&sim, &[y]);
    let (nx, ny) = (fx[&x].instruments.len(), fy[&y].instruments.len());
    // Split by venue, and a second collector of x for redundancy.
    let a = Collecting::start(&server.url, "a", &fx, opts())
        .await
        .unwrap();
    let b = Collecting::start(&server.url, "b", &fy, opts())
        .await
        .unwrap();
    let c = Collecting::start(&server.url, "c", &fx, opts())
        .await
        .unwrap();
    // Let the collectors run before the terminal joins.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut term = terminal(&server.url).await;
    term.until("both venues live", |s| {
        all_books(s, &[x], "live", nx) && all_books(s, &[y], "live", ny)
    })
    .await;
    // Each book of x is fed by one collector (the first heard after the
    // terminal joined: both were publishing by then, so either); the
    // other's copies of the same messages are dropped.
    let snap = term.snapshots.borrow().clone();
    let feeding: Vec<&str> = snap
        .health
        .iter()
        .filter(|h| h.venue == x && h.messages > 0)
        .map(|h| h.conn.as_str())
        .collect();
    assert!(
        feeding.iter().all(|c| c.ends_with("(via a)"))
            || feeding.iter().all(|c| c.ends_with("(via c)")),
        "{feeding:?}"
    );
    let mut stats = term._bus.stats.clone();
    tokio::time::timeout(DEADLINE, stats.wait_for(|s| s.duplicates > 0))
        .await
        .expect("c's messages are seen and dropped")
        .unwrap();
    // The chosen one dies: x fails over to the other and is live again.
    a.kill();
    c_after_failover(&mut term, x, nx).await;
    b.stop().await;
    c.stop().await;
    term.close().await;
    sim.shutdown().await;
}

async fn c_after_failover(term: &mut Term, x: Venue, nx: usize) {
    term.until("x live through collector c", |s| {
        let live = all_books(s, &[x], "live", nx);
        let via_c = s
            .health
            .iter()
            .filter(|h| h.venue == x && h.conn.ends_with("(via c)"))
            .all(|h| h.books_not_live == 0);
        live && via_c && s.health.iter().any(|h| h.conn.ends_with("(via c)"))
    })
    .await;
}

/// The test is the collector: a message lost on the bus is a gap; the book
/// is out of sync until a snapshot as new as the gap arrives in the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_bus_message_resyncs_the_book() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let client = depthwatch::bus::connect(&server.url, "test collector")
        .await
        .unwrap();
    let store = depthwatch::bus::open_bucket(&client).await.unwrap();
    let okx = venue("okx");
    let btc = "BTC-USDT".parse().unwrap();
    let origin = Origin {
        collector: "t".into(),
        epoch: 1,
    };
    let subject = wire::subject(okx, Some(&btc), wire::Kind::Book);
    let key = wire::kv_key(okx, &btc, "t");
    let put = |seq: u64, bid: rust_decimal::Decimal| {
        let snap = BookSnapshot {
            origin: origin.clone(),
            conn: "wss://okx".into(),
            seq,
            state: wire::WireBookState::Live,
            bids: vec![WireLevel(bid, dec!(1))],
            asks: vec![WireLevel(dec!(200), dec!(1))],
            exchange_ts: None,
            taken: 0,
        };
        wire::encode(&snap)
    };
    let delta = |seq: u64, bid: rust_decimal::Decimal| {
        wire::encode(&Message {
            origin: origin.clone(),
            conn: "wss://okx".into(),
            received: 0,
            body: Body::Book {
                seq,
                kind: WireBookKind::Delta,
                bids: vec![WireLevel(bid, dec!(2))],
                asks: vec![],
                exchange_ts: None,
                bytes: 0,
            },
        })
    };
    store.put(&key, put(1, dec!(100)).into()).await.unwrap();
    let mut term = terminal(&server.url).await;
    let send = |seq, bid| {
        let (client, subject) = (client.clone(), subject.clone());
        let payload = delta(seq, bid);
        async move {
            client.publish(subject, payload.into()).await.unwrap();
            client.flush().await.unwrap();
        }
    };
    let book = |s: &Snapshot| {
        s.instruments
            .iter()
            .flat_map(|v| &v.venues)
            .find(|b| b.venue == okx)
            .map(|b| (b.state.label(), b.bids.clone()))
    };
    send(2, dec!(101)).await;
    term.until("live with delta 2", |s| {
        book(s).is_some_and(|(st, bids)| {
            st == "live" && bids.first() == Some(&Level::new(dec!(101), dec!(2)))
        })
    })
    .await;
    // 3 is lost; 4 shows the hole.
    send(4, dec!(103)).await;
    let snap = term
        .until("out of sync after the gap", |s| {
            book(s).is_some_and(|(st, _)| st == "out_of_sync")
        })
        .await;
    let gaps: u64 = snap
        .health
        .iter()
        .filter(|h| h.venue == okx)
        .map(|h| h.gaps)
        .sum();
    assert!(gaps >= 1, "the gap is counted");
    send(5, dec!(104)).await;
    // The collector's next snapshot (at 4) ends the wait; 5 is applied on it.
    store.put(&key, put(4, dec!(99)).into()).await.unwrap();
    term.until("live again from the snapshot and delta 5", |s| {
        book(s).is_some_and(|(st, bids)| {
            st == "live" && bids.first() == Some(&Level::new(dec!(104), dec!(2)))
        })
    })
    .await;
    term.close().await;
}
