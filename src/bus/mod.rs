//! depthwatch on NATS: collectors near the exchanges publish normalized
//! events, terminals anywhere build their engine from them (README, "On the
//! bus").
//!
//! - [`wire`]: subjects, messages and bucket snapshots (JSON, exact decimal
//!   strings).
//! - [`collector`]: engine inputs to messages, with a per-book sequence and
//!   the collector's own copy of each book (sans-IO).
//! - [`publish`]: the collector's tasks: a bounded queue between the feeds
//!   and NATS, so the bus never slows them; what does not fit is counted.
//! - [`observe`]: what the collector tells `--metrics` (it runs no engine).
//! - [`router`]: messages to engine inputs: gaps, resyncs, duplicates,
//!   failover (sans-IO).
//! - [`subscribe`]: the terminal's task around the router.

pub mod collector;
pub mod observe;
pub mod publish;
pub mod router;
pub mod subscribe;
pub mod wire;

use std::time::Duration;

use anyhow::{Context, Result};
use async_nats::jetstream::{self, kv};

/// The key-value bucket holding the latest snapshot of every book.
pub const BUCKET: &str = "depthwatch_books";

/// A NATS URL as `--nats` / `--source` take it: `nats://host:port` (or
/// `tls://`, or a bare `host:port`).
pub fn is_nats_url(s: &str) -> bool {
    s.starts_with("nats://") || s.starts_with("tls://")
}

/// Connect, retrying in the background when the server is not up yet (the
/// client reconnects by itself afterwards, keeping subscriptions).
pub async fn connect(url: &str, name: &str) -> Result<async_nats::Client> {
    async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Connected => tracing::info!("NATS: connected"),
                async_nats::Event::SlowConsumer(_) => {
                    tracing::warn!("NATS: slow consumer, messages dropped (books resync)")
                }
                other => tracing::warn!("NATS: {other}"),
            }
        })
        .connect(url)
        .await
        .with_context(|| format!("connecting to NATS at {url}"))
}

/// The snapshot bucket, created when missing: one value per key (history
/// 1: only the latest snapshot matters), file storage so a restarted server
/// still has them, values up to the server's max_payload.
pub async fn open_bucket(client: &async_nats::Client) -> Result<kv::Store> {
    let js = jetstream::new(client.clone());
    if let Ok(store) = js.get_key_value(BUCKET).await {
        return Ok(store);
    }
    let max_value = i32::try_from(client.server_info().max_payload).unwrap_or(i32::MAX);
    // The bucket's stream made here, as the client's `create_key_value`
    // would make it: that call first reads the account info, whose shape
    // changed in server 2.10, so it fails against the 2.9 servers that
    // distributions still ship.
    let created = js
        .create_stream(jetstream::stream::Config {
            name: format!("KV_{BUCKET}"),
            description: Some(
                "depthwatch: latest book snapshot per venue, instrument and collector".into(),
            ),
            subjects: vec![format!("$KV.{BUCKET}.>")],
            max_messages_per_subject: 1,
            max_message_size: max_value,
            storage: jetstream::stream::StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: jetstream::stream::DiscardPolicy::New,
            num_replicas: 1,
            ..Default::default()
        })
        .await;
    if let Err(e) = created {
        // Another collector or terminal may have created it meanwhile.
        tracing::debug!("creating the bucket's stream: {e}");
    }
    js.get_key_value(BUCKET)
        .await
        .context("opening the JetStream key-value bucket (is JetStream enabled: nats-server -js?)")
}
