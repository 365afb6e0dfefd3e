//! `depthwatch collect --nats URL [--demo]`: the venue feeds with no engine
//! and no UI, published to NATS (see `crate::bus`).

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use super::feeds::Feeds;
use crate::bus::collector::FinalBook;
use crate::bus::publish::{Collector, PublishOptions, PublishStats};
use crate::bus::wire::{self, Origin};
use crate::cli::{Cli, CollectArgs};
use crate::config;
use crate::engine::{EngineInput, INPUT_CAPACITY};
use crate::model::{Venue, now_micros};
use crate::net::HttpClient;
use crate::sim::{SimConfig, Simulator};
use crate::venues::AdapterConfig;

/// A running collector: its feeds and the bus side.
pub struct Collecting {
    feeds: Feeds,
    collector: Collector,
}

impl Collecting {
    /// Connect to NATS as `id` and start the `wanted` feeds publishing.
    pub async fn start(
        url: &str,
        id: &str,
        wanted: &BTreeMap<Venue, AdapterConfig>,
        opts: PublishOptions,
    ) -> Result<Collecting> {
        anyhow::ensure!(
            wire::valid_id(id),
            "collector id `{id}`: use 1 to 64 letters, digits, `-` or `_`"
        );
        let client = crate::bus::connect(url, &format!("depthwatch collect {id}")).await?;
        let store = crate::bus::open_bucket(&client).await?;
        let origin = Origin {
            collector: id.to_string(),
            epoch: u64::try_from(now_micros()).unwrap_or(0),
        };
        let (in_tx, in_rx) = mpsc::channel::<EngineInput>(INPUT_CAPACITY);
        let collector = Collector::spawn(client, store, origin, in_rx, opts);
        let http = HttpClient::new().map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut feeds = Feeds::new(in_tx, http);
        feeds.apply(wanted);
        Ok(Collecting { feeds, collector })
    }

    pub fn stats(&self) -> &PublishStats {
        &self.collector.stats
    }

    /// What `--metrics` serves for this collector.
    pub fn metrics(&self) -> crate::metrics::Sources {
        crate::metrics::Sources::Collector(self.collector.metrics())
    }

    /// Stop the feeds, publish what they said last and every book's final
    /// snapshot; the collector's books as they ended.
    pub async fn stop(mut self) -> Vec<FinalBook> {
        self.feeds.shutdown().await;
        drop(self.feeds);
        self.collector.finish().await
    }

    /// Stop at once, publishing nothing more (a collector that died).
    pub fn kill(self) {
        self.collector.abort();
        drop(self.feeds);
    }
}

/// The host name, as a collector id (`collector` when unknown).
fn default_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .unwrap_or_default();
    let id: String = host
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if id.is_empty() {
        "collector".into()
    } else {
        id
    }
}

pub async fn run(cli: &Cli, args: &CollectArgs) -> Result<i32> {
    let mut shutdown = super::signals::Shutdown::new();
    let (config, source) = config::paths::load_for_run(cli.config.as_deref())?;
    let demo = args.demo || cli.live.demo;
    let sim = if demo {
        Some(
            Simulator::start(SimConfig::default())
                .await
                .context("starting the simulator")?,
        )
    } else {
        None
    };
    let config = match &sim {
        Some(sim) => super::live::demo_config(
            config,
            sim,
            matches!(source, config::paths::Source::File(_)),
        ),
        None => config,
    };
    let id = args.id.clone().unwrap_or_else(default_id);
    let wanted = super::live::wanted_feeds(&config, demo);
    let collecting = Collecting::start(&args.nats, &id, &wanted, PublishOptions::default()).await?;
    let metrics = match cli.metrics {
        Some(addr) => match crate::metrics::start(addr, collecting.metrics()).await {
            Ok(server) => Some(server),
            Err(e) => {
                collecting.stop().await;
                return Err(anyhow::Error::new(e)
                    .context(format!("--metrics {addr}: cannot serve metrics there")));
            }
        },
        None => None,
    };
    // Through the log, so `--log-format json` keeps stderr one JSON object
    // per line.
    tracing::info!(
        venues = wanted.len(),
        collector = %id,
        nats = %args.nats,
        "collecting {} venues as `{id}` onto {}",
        wanted.len(),
        args.nats
    );
    let stopped_by = match args.duration {
        Some(s) => {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(s)) => None,
                sig = shutdown.signalled() => Some(sig),
            }
        }
        None => Some(shutdown.signalled().await),
    };
    if let Some(sig) = stopped_by {
        tracing::info!("{sig}: stopping");
    }
    let dropped = collecting.stats().dropped();
    let books = collecting.stop().await;
    if let Some(metrics) = metrics {
        metrics.shutdown().await;
    }
    if args.json {
        let stdout = std::io::stdout();
        let mut w = stdout.lock();
        for b in &books {
            let bids: Vec<_> = b.book.bids.iter().copied().collect();
            let asks: Vec<_> = b.book.asks.iter().copied().collect();
            let line = crate::headless::book_line(
                b.venue,
                &b.instrument,
                &b.state,
                &bids,
                &asks,
                (bids.len(), asks.len()),
                usize::MAX,
            );
            writeln!(w, "{line}")?;
        }
        w.flush()?;
    }
    tracing::info!(
        books = books.len(),
        dropped,
        "collected {} books; {dropped} messages dropped under pressure",
        books.len()
    );
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    Ok(0)
}
