//! Venue adapters: one module per exchange, each a sans-IO state machine.
//!
//! An adapter never touches the network. The connection runtime (live), the
//! replay driver (captures) and tests all drive it the same way: they tell it
//! that a connection opened, hand it each received frame and REST body, and
//! carry out the [`Action`]s it asks for (send a frame, fetch a URL,
//! reconnect). Everything it learns comes out as normalized
//! [`MarketEvent`]s. Connections are identified by their URL.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::model::{Incident, Instrument, MarketEvent, Micros, Venue};

pub mod binance;
pub mod bitstamp;
pub mod bybit;
pub mod checksum;
pub mod coinbase;
pub mod gemini;
pub mod hyperliquid;
pub mod kraken;
pub mod okx;
pub mod registry;
pub mod spec;
pub mod symbols;
pub mod testkit;

pub use spec::{Endpoint, EndpointKind, NotCarried, VenueInfo, VenueSpec, bps};

/// What to subscribe to on a venue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channels {
    pub book: bool,
    pub trades: bool,
    /// Liquidations for the perpetuals among the instruments.
    pub liquidations: bool,
    /// Funding rate / open interest / mark price for perpetuals.
    pub funding: bool,
}

impl Default for Channels {
    fn default() -> Self {
        Channels {
            book: true,
            trades: true,
            liquidations: true,
            funding: true,
        }
    }
}

/// Everything an adapter is built from.
#[derive(Clone, Debug, Default)]
pub struct AdapterConfig {
    /// Instruments to subscribe to, in depthwatch naming.
    pub instruments: Vec<Instrument>,
    pub channels: Channels,
    /// Endpoint overrides by key (each adapter documents its keys, e.g.
    /// `spot_ws`, `spot_rest`); used by the simulator, tests and the config's
    /// `[endpoints]` table.
    pub endpoints: BTreeMap<String, String>,
}

impl AdapterConfig {
    /// The override for endpoint `key`, or the venue's declared default.
    /// Every key an adapter reads is declared in its spec (a registry test
    /// checks each declared key is documented and that overrides are read).
    pub fn endpoint(&self, spec: &spec::VenueSpec, key: &str) -> String {
        if let Some(url) = self.endpoints.get(key) {
            return url.clone();
        }
        match spec.endpoint(key) {
            Some(e) => e.default.to_string(),
            None => {
                debug_assert!(false, "{} reads undeclared endpoint {key}", spec.name);
                String::new()
            }
        }
    }
}

/// App-level keep-alive for venues that need one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ping {
    pub every: Duration,
    pub text: String,
}

/// One WebSocket connection an adapter wants open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnSpec {
    pub url: String,
    /// Reconnect when nothing arrives for this long. `None` for connections
    /// that may be quiet for minutes (liquidation-only streams); those rely on
    /// pings and the socket itself.
    pub idle_timeout: Option<Duration>,
    pub ping: Option<Ping>,
}

/// What an adapter asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send a text frame on the connection with this URL.
    Send { url: String, text: String },
    /// Fetch this URL with HTTP GET and hand the body to `on_http`.
    HttpGet { url: String },
    /// Close and reopen the connection (gap or checksum failure that only a
    /// resubscription fixes).
    Reconnect { url: String, reason: String },
}

/// Events and actions produced by one call into an adapter.
#[derive(Debug, Default)]
pub struct Output {
    pub events: Vec<MarketEvent>,
    pub actions: Vec<Action>,
}

impl Output {
    pub fn clear(&mut self) {
        self.events.clear();
        self.actions.clear();
    }

    pub fn event(&mut self, e: MarketEvent) {
        self.events.push(e);
    }

    pub fn incident(
        &mut self,
        venue: Venue,
        instrument: Option<Instrument>,
        incident: Incident,
        detail: impl Into<Option<String>>,
    ) {
        self.events.push(MarketEvent::Incident {
            venue,
            instrument,
            incident,
            detail: detail.into(),
        });
    }

    pub fn send(&mut self, url: &str, text: impl Into<String>) {
        self.actions.push(Action::Send {
            url: url.to_string(),
            text: text.into(),
        });
    }

    pub fn http_get(&mut self, url: impl Into<String>) {
        self.actions.push(Action::HttpGet { url: url.into() });
    }
}

/// A venue's protocol, without I/O.
pub trait Adapter: Send {
    fn venue(&self) -> Venue;

    /// The connections to open for the configured subscriptions.
    fn connections(&self) -> Vec<ConnSpec>;

    /// Called once before any connection opens (e.g. to fetch the instrument
    /// list).
    fn start(&mut self, _now: Micros, _out: &mut Output) {}

    /// A connection opened: send subscriptions, request snapshots.
    fn on_open(&mut self, url: &str, now: Micros, out: &mut Output);

    /// A text frame arrived.
    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output);

    /// A binary frame arrived (gzip venues). The default counts it as a parse
    /// error, since text venues never send them.
    fn on_binary(&mut self, _url: &str, _data: &[u8], _received: Micros, out: &mut Output) {
        out.incident(
            self.venue(),
            None,
            Incident::ParseError,
            Some("unexpected binary frame".to_string()),
        );
    }

    /// A REST response body arrived for a URL this adapter asked for (live)
    /// or that a capture recorded (replay).
    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output);

    /// A REST request failed; the adapter decides whether to retry.
    fn on_http_error(&mut self, _url: &str, _error: &str, _now: Micros, _out: &mut Output) {}

    /// The connection closed or timed out: every book it carried must be
    /// marked out of sync.
    fn on_close(&mut self, url: &str, now: Micros, out: &mut Output);
}
