//! What a venue declares about itself, once, in its own module.
//!
//! Config validation, watchlist completion, the engine's default fees, the
//! themes, the simulator, replay and `depthwatch venues` all read a venue's
//! [`VenueSpec`]; nothing else in the tree lists venues. Adding a venue is
//! its module (which defines `pub const SPEC: VenueSpec`) and one line in
//! [`super::registry`].

use rust_decimal::Decimal;

use super::{Adapter, AdapterConfig};
use crate::model::Instrument;

/// Whether an endpoint is a WebSocket URL or a REST base URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointKind {
    WebSocket,
    Rest,
}

impl EndpointKind {
    /// The URL schemes an override of this kind may use.
    pub fn schemes(self) -> [&'static str; 2] {
        match self {
            EndpointKind::WebSocket => ["ws://", "wss://"],
            EndpointKind::Rest => ["http://", "https://"],
        }
    }
}

/// One endpoint a venue connects to, overridable as
/// `[endpoints.<venue>] <key> = "URL"`.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub key: &'static str,
    pub default: &'static str,
    pub kind: EndpointKind,
    /// What the endpoint serves, for `config.example.toml` and errors.
    pub serves: &'static str,
}

impl Endpoint {
    pub const fn ws(key: &'static str, default: &'static str, serves: &'static str) -> Self {
        Endpoint {
            key,
            default,
            kind: EndpointKind::WebSocket,
            serves,
        }
    }

    pub const fn rest(key: &'static str, default: &'static str, serves: &'static str) -> Self {
        Endpoint {
            key,
            default,
            kind: EndpointKind::Rest,
            serves,
        }
    }
}

/// The one-line descriptions of `depthwatch venues` (and the README table).
#[derive(Clone, Copy, Debug)]
pub struct VenueInfo {
    pub markets: &'static str,
    pub book: &'static str,
    pub trades: &'static str,
    pub liquidations: &'static str,
    pub funding: &'static str,
    pub integrity: &'static str,
}

/// Why a venue does not carry an instrument, in words for the user
/// ("bybit lists only USDT and USDC perpetuals").
pub type NotCarried = &'static str;

/// A venue's declared facts.
pub struct VenueSpec {
    /// Lower-case name used in config files, JSON output and on screen.
    pub name: &'static str,
    /// The exchange's own name ("OKX", "Coinbase Advanced Trade").
    pub display_name: &'static str,
    pub info: VenueInfo,
    /// Exchange names used in capture headers that this venue replays.
    pub capture_names: &'static [&'static str],
    /// Every endpoint the adapter reads, with its config key and default.
    pub endpoints: &'static [Endpoint],
    /// Published base-tier taker fee in basis points; users override it.
    pub taker_fee_bps: Decimal,
    /// Colour on screen when the theme does not name this venue ("#rrggbb").
    pub colour: &'static str,
    /// Which instruments depthwatch can watch on this venue. The one
    /// answer config validation, watchlist completion and the adapter use;
    /// which symbols exist comes from the venue's instrument list.
    pub carries: fn(&Instrument) -> Result<(), NotCarried>,
    /// Of the built-in watchlist, what the venue lists (used before its
    /// instrument list has been fetched once).
    pub default_listing: &'static [&'static str],
    pub build: fn(AdapterConfig) -> Box<dyn Adapter>,
    /// The simulator's implementation of this venue, if it has one.
    pub sim: Option<&'static crate::sim::SimVenue>,
}

impl VenueSpec {
    pub fn endpoint(&self, key: &str) -> Option<&'static Endpoint> {
        self.endpoints.iter().find(|e| e.key == key)
    }

    pub fn carries(&self, instrument: &Instrument) -> bool {
        (self.carries)(instrument).is_ok()
    }
}

/// A fee in basis points as a constant: `bps(45, 1)` is 4.5 bps.
pub const fn bps(mantissa: u32, scale: u32) -> Decimal {
    Decimal::from_parts(mantissa, 0, 0, false, scale)
}
