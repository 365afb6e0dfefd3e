//! Prometheus metrics (`--metrics ADDR`): an HTTP endpoint at `/metrics`.
//!
//! Nothing here counts: the engine already counts every fact the Health
//! pane shows, and a scrape reads them from its latest published snapshot
//! (`collect`), so metrics never slow the engine and never disagree with
//! the pane. `depthwatch collect` runs no engine: its bus publisher keeps
//! the same connection counters and its own (`crate::bus::observe`), and a
//! scrape reads those instead. Publishers inside an app add their errors
//! through [`PublishErrors`]. `catalog` declares every metric once, with
//! who serves it; `server` is the HTTP side.
//!
//! To attach it to a command: build [`Sources`] from the handles that
//! command has and call [`start`].

pub mod catalog;
mod collect;
mod publish;
mod server;

use std::net::SocketAddr;

use prometheus_client::registry::Registry;

pub use collect::Sources;
pub use publish::PublishErrors;
pub use server::MetricsServer;

/// The registry of everything `sources` can tell.
pub fn registry(sources: Sources) -> Registry {
    let mut registry = Registry::with_prefix(catalog::PREFIX);
    registry.register_collector(Box::new(collect::SnapshotCollector::new(sources)));
    registry
}

/// Serve the metrics of `sources` on `addr` until the returned server is
/// shut down or dropped.
pub async fn start(addr: SocketAddr, sources: Sources) -> std::io::Result<MetricsServer> {
    let server = server::serve(addr, registry(sources)).await?;
    tracing::info!("metrics at http://{}/metrics", server.local_addr());
    Ok(server)
}

#[cfg(test)]
mod tests;
