//! Live networking shared by every venue: TLS, WebSocket connections with
//! heartbeats, idle timeouts and backoff, REST fetches, and the per-venue
//! feed task that drives an adapter.

pub mod backoff;
pub mod error;
pub mod feed;
pub mod http;
pub mod poll;
pub mod tls;
pub mod ws;

pub use error::NetError;
pub use feed::{FeedOptions, Recording, run_venue, run_venue_with};
pub use http::HttpClient;
