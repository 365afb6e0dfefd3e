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

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use depthwatch::bus::publish::{Collector, PublishOptions, PublishStats};
use depthwatch::bus::router::RouterStats;
use depthwatch::bus::subscribe::Terminal;
use depthwatch::bus::wire::Origin;
use depthwatch::engine::{EngineInput, INPUT_CAPACITY};
use depthwatch::model::{Micros, now_micros};
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

impl NatsServer {
    fn start() -> NatsServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir = tempfile::tempdir().expect("tempdir");
        let child = Command::new("nats-server")
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
    events_sent: u64,
    /// From the first frame handed over to the collector having flushed.
    publish_secs: f64,
    published: u64,
    dropped: u64,
    publish_errors: u64,
    /// Market events that reached the terminal's engine channel, and the
    /// time from the first to the last.
    events_received: u64,
    receive_secs: f64,
    router: RouterStats,
    /// Publish → terminal, µs, sorted.
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
        let per_s = |n: u64, secs: f64| n as f64 / secs.max(1e-9);
        println!("bus/{name}:");
        println!(
            "  sent      {} frames, {} events in {:.2} s",
            self.frames, self.events_sent, self.publish_secs
        );
        println!(
            "  published {} messages ({:.0}/s), dropped under pressure {}, publish errors {}",
            self.published,
            per_s(self.published, self.publish_secs),
            self.dropped,
            self.publish_errors
        );
        println!(
            "  received  {} messages, {} events ({:.0} events/s over {:.2} s); decode errors {}, gaps {}, resyncs {}",
            self.router.messages,
            self.events_received,
            per_s(self.events_received, self.receive_secs),
            self.receive_secs,
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

/// The terminal side: the market events the router hands on, with their
/// latency, until the bus has been quiet for [`QUIET`] after `finished`.
async fn receive(
    mut rx: mpsc::Receiver<EngineInput>,
    mut finished: tokio::sync::oneshot::Receiver<()>,
) -> (u64, f64, Vec<Micros>) {
    let mut events = 0u64;
    let mut latencies = Vec::new();
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
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
        // Venue-wide messages (connection states, liveness) carry no market
        // event and are stamped on arrival: not counted.
        if let EngineInput::Feed {
            received,
            events: ev,
            ..
        } = input
            && !ev.is_empty()
        {
            let now = now_micros();
            last = Instant::now();
            first.get_or_insert(last);
            events += ev.len() as u64;
            latencies.push((now - received).max(0));
        }
    }
    let secs = first.map_or(0.0, |f| (last - f).as_secs_f64());
    latencies.sort_unstable();
    (events, secs, latencies)
}

async fn run(inputs: &[EngineInput], pace: Pace, id: &str) -> anyhow::Result<Figures> {
    let server = NatsServer::start();
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
    let stats = collector.stats.clone();

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
                events_sent += events.len() as u64;
                frames += 1;
                sent += 1;
            }
            in_tx.send(input).await?;
            if sent % 1024 == 0 && Instant::now() >= until {
                break;
            }
        }
    }
    drop(in_tx);
    collector.finish().await;
    let publish_secs = start.elapsed().as_secs_f64();
    let _ = finished_tx.send(());
    let (events_received, receive_secs, latencies) = receiver.await?;
    // The router's counters are published on its tick.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let router = *terminal.stats.borrow();
    terminal.stop();
    Ok(Figures {
        frames,
        events_sent,
        publish_secs,
        published: PublishStats::get(&stats.published),
        dropped: PublishStats::get(&stats.dropped),
        publish_errors: PublishStats::get(&stats.publish_errors),
        events_received,
        receive_secs,
        router,
        latencies,
    })
}

fn main() {
    if Command::new("nats-server").arg("--version").output().is_err() {
        println!("SKIPPED: nats-server is not on PATH (apt-get install nats-server)");
        return;
    }
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
        let max = run(&inputs, Pace::Max, "bench-max")
            .await
            .expect("the max run");
        max.print("max");
        let paced = run(&inputs, Pace::PerSecond(PACED_FRAMES_PER_S), "bench-paced")
            .await
            .expect("the paced run");
        paced.print(&format!("paced {PACED_FRAMES_PER_S} frames/s"));
    });
}
