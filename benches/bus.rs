//! The bus end to end on loopback: collector → `nats-server -js` → terminal.
//!
//! `cargo bench --bench bus` (its own harness: it prints the figures and
//! ends by itself; SKIPPED without `nats-server` on PATH or without the
//! shared captures).
//!
//! The input is the five shared captures replayed through the real venue
//! adapters (`replay::Replayer`), the engine inputs a live collector's feeds
//! would hand it, prepared before any clock runs. They go through the real
//! collector (`bus::publish::Collector`: the materializer, the JSON
//! encoding, the bounded publish queue) to a fresh `nats-server`, and come
//! back through the real terminal side (`bus::subscribe::Terminal`: the
//! subscription, the decoding, the router), whose engine inputs this bench
//! reads instead of an engine.
//!
//! Two runs, each on a server of its own, each sending for [`SECS`]
//! (the captures over and over):
//! - `max`: frames handed to the collector as fast as its input channel
//!   takes them: the sustained throughput, and the latency under that load
//!   (queues full);
//! - `paced`: [`PACED_FRAMES_PER_S`] frames per second, a busy live feed:
//!   the latency the bus adds when it is not the bottleneck.
//!
//! Latency is publish → terminal: every frame's `received` time is set to
//! the clock when it is handed to the collector; it travels in the message
//! (`wire::Message::received`) and the router passes it on, so a market
//! event's latency is the clock when the terminal task hands it to its
//! engine channel minus that. Both ends are in this process, one clock.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use depthwatch::bus::publish::{Collector, PublishOptions};
use depthwatch::bus::router::RouterStats;
use depthwatch::bus::subscribe::Terminal;
use depthwatch::bus::wire::Origin;
use depthwatch::engine::{EngineInput, INPUT_CAPACITY};
use depthwatch::model::{MarketEvent, Micros, now_micros};
use depthwatch::replay::Replayer;
use tokio::sync::mpsc;

// The binary's allocator, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long each run sends.
const SECS: u64 = 8;
const PACED_FRAMES_PER_S: u64 = 2_000;
/// The terminal has seen everything once nothing arrived for this long after
/// the collector finished.
const QUIET: Duration = Duration::from_secs(2);
const CAPTURES: [&str; 5] = [
    "BINANCE.jsonl.zst",
    "BINANCE_FUTURES.jsonl.zst",
    "BYBIT.jsonl.zst",
    "COINBASE.jsonl.zst",
    "GEMINI.jsonl.zst",
];

/// A `nats-server -js` on a free loopback port, killed on drop (as in
/// tests/nats.rs).
struct NatsServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

/// `nats-server` on PATH, else where Debian's package puts it (`/usr/sbin`,
/// off an ordinary user's PATH).
fn nats_server() -> Option<PathBuf> {
    ["nats-server", "/usr/sbin/nats-server"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| Command::new(p).arg("--version").output().is_ok())
}

impl NatsServer {
    fn start(program: &Path) -> NatsServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir = tempfile::tempdir().expect("tempdir");
        // The README's advice for books of thousands of levels: Coinbase's
        // full-depth BTC-USD snapshot is about 1.1 MB as a message, over the
        // 1 MB default (with it, those messages fail to publish and the
        // terminal resyncs that book from the bucket).
        let config = dir.path().join("nats.conf");
        std::fs::write(&config, "max_payload: 8MB\n").expect("writing nats.conf");
        let child = Command::new(program)
            .arg("-c")
            .arg(&config)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nats-server");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        NatsServer {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            _dir: dir,
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The captures' engine inputs, ticks left out (the collector ticks itself).
fn capture_inputs() -> anyhow::Result<Vec<EngineInput>> {
    let dir = depthwatch::capture::shared_captures_dir();
    let files: Vec<PathBuf> = CAPTURES.iter().map(|f| dir.join(f)).collect();
    let mut replayer = Replayer::open(&files, true)?;
    let mut inputs = Vec::new();
    while let Some((_, batch)) = replayer.next_inputs()? {
        inputs.extend(
            batch
                .into_iter()
                .filter(|i| !matches!(i, EngineInput::Tick { .. })),
        );
    }
    Ok(inputs)
}

#[derive(Clone, Copy)]
enum Pace {
    Max,
    PerSecond(u64),
}

/// What one run measured.
struct Figures {
    frames: u64,
    /// The market events in those frames that the collector publishes (REST
    /// backfills and instrument lists stay with it).
    events_sent: u64,
    send_secs: f64,
    /// From the first frame handed over to the last event received: the
    /// sustained end-to-end window.
    end_to_end_secs: f64,
    published: u64,
    dropped: u64,
    publish_errors: u64,
    /// Market events that reached the terminal's engine channel.
    events_received: u64,
    router: RouterStats,
    /// Publish → terminal, µs, sorted: one per event but the venue-wide
    /// incidents.
    latencies: Vec<Micros>,
}

impl Figures {
    fn percentile(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[i] as f64 / 1000.0
    }

    fn print(&self, name: &str) {
        let per_s = |n: u64| n as f64 / self.end_to_end_secs.max(1e-9);
        println!("bus/{name}:");
        println!(
            "  sent      {} frames, {} events to publish, in {:.2} s",
            self.frames, self.events_sent, self.send_secs
        );
        println!(
            "  published {} messages ({:.0}/s end to end), dropped under pressure {}, publish errors {}",
            self.published,
            per_s(self.published),
            self.dropped,
            self.publish_errors
        );
        println!(
            "  received  {} messages, {} events ({:.0} events/s over {:.2} s end to end); decode errors {}, gaps {}, resyncs {}",
            self.router.messages,
            self.events_received,
            per_s(self.events_received),
            self.end_to_end_secs,
            self.router.decode_errors,
            self.router.gaps,
            self.router.resyncs
        );
        println!(
            "  latency   publish → terminal p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} events)",
            self.percentile(0.50),
            self.percentile(0.99),
            self.latencies.last().copied().unwrap_or(0) as f64 / 1000.0,
            self.latencies.len()
        );
    }
}

/// The events of a frame the collector publishes.
fn published_events(events: &[MarketEvent]) -> u64 {
    events
        .iter()
        .filter(|e| {
            !matches!(
                e,
                MarketEvent::History { .. }
                    | MarketEvent::Klines { .. }
                    | MarketEvent::Instruments { .. }
            )
        })
        .count() as u64
}

/// What the terminal side saw.
struct Received {
    events: u64,
    last: Option<Instant>,
    latencies: Vec<Micros>,
}

/// The terminal side: the market events the router hands on, with their
/// latency, until the bus has been quiet for [`QUIET`] after `finished`.
async fn receive(
    mut rx: mpsc::Receiver<EngineInput>,
    mut finished: tokio::sync::oneshot::Receiver<()>,
) -> Received {
    let mut got = Received {
        events: 0,
        last: None,
        latencies: Vec::new(),
    };
    let mut done = false;
    loop {
        let next = tokio::select! {
            input = rx.recv() => input,
            _ = &mut finished, if !done => {
                done = true;
                continue;
            }
            _ = tokio::time::sleep(QUIET), if done => None,
        };
        let Some(input) = next else { break };
        let EngineInput::Feed {
            received, events, ..
        } = input
        else {
            continue;
        };
        if events.is_empty() {
            continue;
        }
        let now = now_micros();
        got.last = Some(Instant::now());
        got.events += events.len() as u64;
        // Venue-wide incidents (an unknown message, a parse error) are
        // stamped on arrival: no latency of theirs to count.
        let venue_wide = events.iter().all(|e| {
            matches!(
                e,
                MarketEvent::Incident {
                    instrument: None,
                    ..
                }
            )
        });
        if !venue_wide {
            got.latencies.push((now - received).max(0));
        }
    }
    got.latencies.sort_unstable();
    got
}

async fn run(
    server: &Path,
    inputs: &[EngineInput],
    pace: Pace,
    id: &str,
) -> anyhow::Result<Figures> {
    let server = NatsServer::start(server);
    // The terminal first, so it is subscribed before anything is published.
    let (engine_tx, engine_rx) = mpsc::channel(INPUT_CAPACITY);
    let terminal = Terminal::start(
        depthwatch::bus::connect(&server.url, "bench terminal").await?,
        engine_tx,
        1_000_000,
    )
    .await?;
    let (finished_tx, finished_rx) = tokio::sync::oneshot::channel();
    let receiver = tokio::spawn(receive(engine_rx, finished_rx));

    let client = depthwatch::bus::connect(&server.url, id).await?;
    let store = depthwatch::bus::open_bucket(&client).await?;
    let origin = Origin {
        collector: id.to_string(),
        epoch: u64::try_from(now_micros()).unwrap_or(0),
    };
    let (in_tx, in_rx) = mpsc::channel(INPUT_CAPACITY);
    let collector = Collector::spawn(client, store, origin, in_rx, PublishOptions::default());

    let (mut frames, mut events_sent) = (0u64, 0u64);
    let start = Instant::now();
    let until = start + Duration::from_secs(SECS);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let per_tick = match pace {
        Pace::Max => u64::MAX,
        Pace::PerSecond(n) => (n / 1000).max(1),
    };
    let mut cycle = inputs.iter().cycle();
    'send: while Instant::now() < until {
        if matches!(pace, Pace::PerSecond(_)) {
            tick.tick().await;
        }
        let mut sent = 0;
        while sent < per_tick {
            let Some(input) = cycle.next() else {
                break 'send;
            };
            let mut input = input.clone();
            if let EngineInput::Feed {
                received, events, ..
            } = &mut input
            {
                *received = now_micros();
                events_sent += published_events(events);
                frames += 1;
                sent += 1;
            }
            in_tx.send(input).await?;
            if sent % 1024 == 0 && Instant::now() >= until {
                break;
            }
        }
    }
    let send_secs = start.elapsed().as_secs_f64();
    drop(in_tx);
    let _ = finished_tx.send(());
    let got = receiver.await?;
    // The router's counters are published on its tick.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let router = *terminal.stats.borrow();
    let stats = &collector.stats;
    let figures = Figures {
        frames,
        events_sent,
        send_secs,
        end_to_end_secs: got.last.map_or(0.0, |l| (l - start).as_secs_f64()),
        published: stats.published(),
        dropped: stats.dropped(),
        publish_errors: stats.publish_errors(),
        events_received: got.events,
        router,
        latencies: got.latencies,
    };
    // Everything published has arrived; what is left is the collector's
    // bucket backlog (snapshot puts wait for JetStream's ack one by one),
    // not the publish path measured here.
    collector.abort();
    terminal.stop();
    Ok(figures)
}

fn main() {
    // Off by default; RUST_LOG=depthwatch::bus=debug shows publish errors.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let Some(server) = nats_server() else {
        println!(
            "SKIPPED: nats-server is neither on PATH nor in /usr/sbin (apt-get install nats-server)"
        );
        return;
    };
    let dir = depthwatch::capture::shared_captures_dir();
    if let Some(missing) = CAPTURES.iter().find(|f| !dir.join(f).exists()) {
        println!(
            "SKIPPED: {} is absent (the shared captures)",
            dir.join(missing).display()
        );
        return;
    }
    let inputs = capture_inputs().expect("replaying the shared captures");
    let frames = inputs
        .iter()
        .filter(|i| matches!(i, EngineInput::Feed { .. }))
        .count();
    println!(
        "input: the five shared captures through the adapters, {frames} frames, sent over and over for {SECS} s per run"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let max = run(&server, &inputs, Pace::Max, "bench-max")
            .await
            .expect("the max run");
        max.print("max");
        let paced = run(
            &server,
            &inputs,
            Pace::PerSecond(PACED_FRAMES_PER_S),
            "bench-paced",
        )
        .await
        .expect("the paced run");
        paced.print(&format!("paced {PACED_FRAMES_PER_S} frames/s"));
    });
}
