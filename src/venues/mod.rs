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

use crate::model::{Funding, Incident, Instrument, Liquidation, MarketEvent, Micros, Trade, Venue};

pub mod backfill;
pub mod binance;
pub mod bitfinex;
pub mod bitget;
pub mod bitstamp;
pub mod buffered;
pub mod bybit;
pub mod checksum;
pub mod coinbase;
pub mod cryptocom;
pub mod deribit;
pub mod gate;
pub mod gemini;
pub mod guard;
pub mod htx;
pub mod hyperliquid;
pub mod kraken;
pub mod kucoin;
pub mod lifecycle;
pub mod mexc;
pub mod okx;
pub mod parse;
pub mod registry;
pub mod spec;
pub mod symbols;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod unchanged;

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
    /// The address to dial is handed out by the venue at run time (e.g. a
    /// per-connection token): the runtime waits for an [`Action::Dial`]
    /// before connecting, and dials the latest one on every reconnect. The
    /// adapter still knows the connection by `url`.
    pub await_dial: bool,
}

impl ConnSpec {
    pub fn new(url: impl Into<String>, idle_timeout: Option<Duration>, ping: Option<Ping>) -> Self {
        ConnSpec {
            url: url.into(),
            idle_timeout,
            ping,
            await_dial: false,
        }
    }
}

/// How to poll one book's depth over REST while the venue's stream cannot
/// be reached (the REST fallback, `net::poll`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepthPoll {
    pub url: String,
    /// A JSON body to POST instead of a GET.
    pub post: Option<String>,
    /// The least time between two polls of this venue, within its
    /// published rate limits (the runtime polls one book at a time).
    pub every: Duration,
}

/// What an adapter asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send a text frame on the connection with this URL.
    Send { url: String, text: String },
    /// Fetch this URL with HTTP GET and hand the body to `on_http`.
    HttpGet { url: String },
    /// The same, but at least `gap` after the venue's previous paced request
    /// (history backfills: many requests at start, within the venue's rate
    /// limits).
    HttpGetPaced { url: String, gap: Duration },
    /// POST this JSON body to the URL and hand the answer to `on_http`.
    HttpPost { url: String, body: String },
    /// Dial `target` for the connection known as `url` (see
    /// [`ConnSpec::await_dial`]).
    Dial { url: String, target: String },
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

    /// A GET spaced `gap` after the previous paced one (see
    /// [`Action::HttpGetPaced`]).
    pub fn http_get_paced(&mut self, url: impl Into<String>, gap: Duration) {
        self.actions.push(Action::HttpGetPaced {
            url: url.into(),
            gap,
        });
    }

    pub fn http_post(&mut self, url: impl Into<String>, body: impl Into<String>) {
        self.actions.push(Action::HttpPost {
            url: url.into(),
            body: body.into(),
        });
    }

    pub fn reconnect(&mut self, url: &str, reason: impl Into<String>) {
        self.actions.push(Action::Reconnect {
            url: url.to_string(),
            reason: reason.into(),
        });
    }

    /// A frame that is not the venue's protocol (counted in Health).
    pub fn parse_error(
        &mut self,
        venue: Venue,
        instrument: Option<Instrument>,
        detail: impl Into<String>,
    ) {
        let detail = detail.into();
        tracing::warn!(%venue, "unparsable: {detail}");
        self.incident(venue, instrument, Incident::ParseError, detail);
    }

    /// A well-formed message the adapter does not handle (counted).
    pub fn unknown(
        &mut self,
        venue: Venue,
        instrument: Option<Instrument>,
        detail: impl Into<String>,
    ) {
        let detail = detail.into();
        tracing::debug!(%venue, "unhandled: {detail}");
        self.incident(venue, instrument, Incident::UnknownMessage, detail);
    }

    /// A trade, if its numbers are ones a venue may send (else a parse
    /// error).
    pub fn trade(&mut self, t: Trade) {
        let ok = parse::is_price(t.price) && parse::is_size(t.size);
        match (ok, parse::check_time(t.exchange_ts)) {
            (true, Ok(())) => self.event(MarketEvent::Trade(t)),
            (false, _) => self.parse_error(
                t.venue,
                Some(t.instrument),
                format!("trade price {} size {} out of range", t.price, t.size),
            ),
            (_, Err(e)) => self.parse_error(t.venue, Some(t.instrument), format!("trade: {e}")),
        }
    }

    /// A liquidation, validated as a trade is.
    pub fn liquidation(&mut self, l: Liquidation) {
        let ok = parse::is_price(l.price) && parse::is_size(l.size);
        match (ok, parse::check_time(l.exchange_ts)) {
            (true, Ok(())) => self.event(MarketEvent::Liquidation(l)),
            (false, _) => self.parse_error(
                l.venue,
                Some(l.instrument),
                format!("liquidation price {} size {} out of range", l.price, l.size),
            ),
            (_, Err(e)) => {
                self.parse_error(l.venue, Some(l.instrument), format!("liquidation: {e}"))
            }
        }
    }

    /// Derivatives data, validated: prices positive and bounded, open
    /// interest a size, the funding rate a fraction (|rate| ≤ 1), times sane.
    pub fn funding(&mut self, f: Funding) {
        let u = &f.update;
        let price_ok = |p: Option<rust_decimal::Decimal>| p.is_none_or(parse::is_price);
        let rate_ok = |r: Option<rust_decimal::Decimal>| {
            r.is_none_or(|r| r.abs() <= rust_decimal::Decimal::ONE)
        };
        let problem = if !price_ok(u.mark_price) || !price_ok(u.index_price) {
            Some("mark or index price out of range".to_string())
        } else if !u.open_interest.is_none_or(parse::is_size) {
            Some("open interest out of range".to_string())
        } else if !rate_ok(u.funding_rate) {
            Some("funding rate out of range".to_string())
        } else if let Err(e) =
            parse::check_time(f.exchange_ts).and(parse::check_time(u.next_funding))
        {
            Some(e.to_string())
        } else {
            None
        };
        match problem {
            None => self.event(MarketEvent::Funding(f)),
            Some(why) => self.parse_error(f.venue, Some(f.instrument), format!("funding: {why}")),
        }
    }
}

/// A venue's protocol, without I/O.
pub trait Adapter: Send {
    fn venue(&self) -> Venue;

    /// The connections to open for the configured subscriptions.
    fn connections(&self) -> Vec<ConnSpec>;

    /// How long to wait after a connection opens before sending on it (the
    /// subscriptions asked for in `on_open` go out after it). Zero for
    /// venues that document no such pause.
    fn send_after_open(&self) -> Duration {
        Duration::ZERO
    }

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

    /// The state of every book, as the engine was told it (tests check that
    /// the two never disagree).
    fn lifecycle(&self) -> &lifecycle::Lifecycle;

    /// What the adapter was built from (a panicked adapter is rebuilt from
    /// it, see [`guard`]).
    fn config(&self) -> &AdapterConfig;

    /// The REST request for one book's depth, for polling while the stream
    /// cannot be reached; `None` if the venue has no public REST depth.
    fn poll_depth(&self, instrument: &Instrument) -> Option<DepthPoll>;

    /// A polled depth body for `instrument`: publish it through
    /// [`lifecycle::Lifecycle::polled`] (a parse error otherwise).
    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output);
}
