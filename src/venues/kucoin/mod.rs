//! KuCoin: spot (`BTC-USDT`) and perpetual futures (`XBTUSDTM` as
//! `BTC-USDT-PERP`, inverse `XBTUSDM` as `BTC-USD-PERP`), VENUES.md §20.
//!
//! **Connection.** The WebSocket address is handed out per connection:
//! `POST /api/v1/bullet-public` on the spot or futures REST host answers a
//! token and an `endpoint`; the adapter asks for one at start and after
//! every close, and answers with [`Action::Dial`] (`endpoint?token=…&
//! connectId=…`; a configured `spot_ws`/`futures_ws` replaces the endpoint).
//! The connections are known by their `spot_ws`/`futures_ws` names; a
//! recorded address (cryptofeed records the dialled URL with its token) is
//! told apart by its host (`…futures…` is the futures feed). After the
//! server's `welcome` the adapter subscribes; it pings `{"type":"ping"}`
//! within the `pingInterval` (18 s).
//!
//! **Books** ([`sync`]): increments over a REST snapshot under KuCoin's
//! sequence rule, through the shared buffered machine. The full spot REST
//! book (`/api/v3/market/orderbook/level2`) needs an API key; depthwatch
//! uses the public `/api/v1/market/orderbook/level2_100`. So a spot book is
//! the top 100 levels per side at snapshot time plus every change since:
//! levels that were deeper than the 100th at the snapshot and have not
//! changed since are missing, so depth far from the touch is understated
//! (and grows gaps as the price moves toward it). The top of the book, and
//! anything the arbitrage maths walks, is exact while the price stays
//! within those 100 levels. A recorded full book (cryptofeed signs the v3
//! request) is used as it is. Futures use the public full snapshot
//! `GET /api/v1/level2/snapshot`; their sizes are lots, converted with the
//! contract's `multiplier` from `/api/v1/contracts/active` (inverse: USD per
//! lot over each level's price); a futures book is held back until that
//! list has arrived.
//!
//! **Limits.** ≤100 symbols per spot topic (docs); futures topics name one
//! symbol each. All books of a market share one connection: the documented
//! cap of subscribed topics per connection (400, unverified) is not split
//! over several connections.

mod rest;
mod stream;
mod sync;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::model::{Instrument, InstrumentInfo, InstrumentKind, Micros, Venue};
use crate::venues::buffered::{self, BookSync, Effect, Snapshot};
use crate::venues::lifecycle::Lifecycle;
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use crate::venues::{Action, Adapter, AdapterConfig, ConnSpec, DepthPoll, Output, Ping};

use sync::{ContractSpec, Rules};

pub const SPEC: VenueSpec = VenueSpec {
    name: "kucoin",
    display_name: "KuCoin",
    info: VenueInfo {
        markets: "spot; USDT/USDC-margined and inverse (USD) perpetuals (XBTUSDTM as BTC-USDT-PERP)",
        book: "level2 increments over a REST snapshot (spot: public top 100, deeper levels unknown)",
        trades: "/market/match, /contractMarket/execution (taker side)",
        liquidations: "none public",
        funding: "/contract/instrument (funding rate, mark, index); contract list (next funding, open interest)",
        integrity: "spot sequenceStart <= prev sequenceEnd + 1 with per-change sequences; futures sequence +1",
    },
    capture_names: &["KUCOIN"],
    endpoints: &[
        Endpoint::ws(
            "spot_ws",
            "wss://ws-api-spot.kucoin.com",
            "spot WebSocket (the address bullet-public hands out)",
        ),
        Endpoint::ws(
            "futures_ws",
            "wss://ws-api-futures.kucoin.com",
            "futures WebSocket (the address bullet-public hands out)",
        ),
        Endpoint::rest(
            "spot_rest",
            "https://api.kucoin.com",
            "spot tokens, books, symbols",
        ),
        Endpoint::rest(
            "futures_rest",
            "https://api-futures.kucoin.com",
            "futures tokens, books, contracts",
        ),
    ],
    taker_fee_bps: bps(10, 0),
    colour: "#24ae8f",
    carries,
    default_listing: &[
        "BTC-USDT",
        "ETH-USDT",
        "BTC-USDT-PERP",
        "ETH-USDT-PERP",
        "BTC-USD-PERP",
        "ETH-USD-PERP",
    ],
    build: |cfg| Box::new(Kucoin::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Symbols per spot subscription topic (documented limit).
const SYMBOLS_PER_TOPIC: usize = 100;

/// Spot pairs of any quote; perpetuals margined in USDT or USDC, and the
/// inverse (coin-margined) USD ones.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if matches!(instrument.quote.as_str(), "USDT" | "USDC" | "USD") => {
            Ok(())
        }
        InstrumentKind::Perp => Err("kucoin lists perpetuals against USDT, USDC and USD only"),
    }
}

/// KuCoin's asset code to the common one.
fn common_asset(code: &str) -> &str {
    match code {
        "XBT" => "BTC",
        other => other,
    }
}

/// `BTC-USDT` → `BTC-USDT`; `BTC-USDT-PERP` → `XBTUSDTM`.
pub fn native_symbol(i: &Instrument) -> String {
    if i.is_perp() {
        let base = match i.base.as_str() {
            "BTC" => "XBT",
            other => other,
        };
        format!("{base}{}M", i.quote)
    } else {
        format!("{}-{}", i.base, i.quote)
    }
}

/// A spot symbol (`BTC-USDT`) as an instrument.
pub fn parse_spot(native: &str) -> Option<Instrument> {
    let (base, quote) = native.split_once('-')?;
    Instrument::spot(common_asset(base), common_asset(quote)).ok()
}

/// A perpetual symbol without the contract list: `XBTUSDTM` → BTC-USDT-PERP.
/// Dated futures (`XBTMZ25`) give `None`.
pub fn parse_perp(native: &str) -> Option<Instrument> {
    let stem = native.strip_suffix('M')?;
    // KuCoin's perpetuals are quoted in USDT, USDC or (inverse) USD only; a
    // generic split would read `XBTUSD` as XB/TUSD, so the quotes are tried
    // here longest first.
    let (base, quote) = ["USDT", "USDC", "USD"].iter().find_map(|q| {
        stem.strip_suffix(q)
            .filter(|b| !b.is_empty())
            .map(|b| (b, *q))
    })?;
    Instrument::perp(common_asset(base), quote).ok()
}

/// Spot or futures: which connection, token and REST host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Market {
    Spot = 0,
    Futures = 1,
}

impl Market {
    const ALL: [Market; 2] = [Market::Spot, Market::Futures];

    fn of(i: &Instrument) -> Market {
        if i.is_perp() {
            Market::Futures
        } else {
            Market::Spot
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One book: the buffered machine, and a futures snapshot held until the
/// contract size is known.
struct Book {
    instrument: Instrument,
    sync: BookSync<Rules>,
    held: Option<Snapshot>,
}

pub struct Kucoin {
    cfg: AdapterConfig,
    /// Connection names (`spot_ws`, `futures_ws`).
    ws: [String; 2],
    /// A configured WebSocket address, dialled instead of the one in the
    /// token answer.
    ws_override: [Option<String>; 2],
    rest: [String; 2],
    /// The URL each market's connection is known by (replay: recorded).
    conn: [Option<String>; 2],
    /// Books by native symbol, per market.
    books: [BTreeMap<String, Book>; 2],
    contracts: HashMap<String, ContractSpec>,
    /// Futures symbols from the contract list.
    perps: HashMap<String, Instrument>,
    /// The last instrument list of each market (the engine keeps one list
    /// per venue: both go out together).
    listed: [Vec<InstrumentInfo>; 2],
    /// Level2 subscriptions awaiting their ack: id → books.
    pending_subs: HashMap<String, (Market, Vec<String>)>,
    next_id: u64,
    effects: Vec<Effect>,
    lc: Lifecycle,
}

impl Kucoin {
    pub fn new(cfg: AdapterConfig) -> Self {
        let ws = [
            cfg.endpoint(&SPEC, "spot_ws"),
            cfg.endpoint(&SPEC, "futures_ws"),
        ];
        let ws_override = [
            cfg.endpoints.get("spot_ws").cloned(),
            cfg.endpoints.get("futures_ws").cloned(),
        ];
        let rest = [
            cfg.endpoint(&SPEC, "spot_rest"),
            cfg.endpoint(&SPEC, "futures_rest"),
        ];
        let mut a = Kucoin {
            ws,
            ws_override,
            rest,
            conn: [None, None],
            books: Default::default(),
            contracts: HashMap::new(),
            perps: HashMap::new(),
            listed: Default::default(),
            pending_subs: HashMap::new(),
            next_id: 1,
            effects: Vec::new(),
            lc: Lifecycle::new(VENUE),
            cfg,
        };
        if a.cfg.channels.book {
            let wanted: Vec<Instrument> = a.configured().collect();
            for i in wanted {
                a.books[Market::of(&i).index()].insert(
                    native_symbol(&i),
                    Book {
                        instrument: i,
                        sync: BookSync::new(Rules),
                        held: None,
                    },
                );
            }
        }
        a
    }

    /// The configured instruments KuCoin carries.
    fn configured(&self) -> impl Iterator<Item = Instrument> + '_ {
        self.cfg
            .instruments
            .iter()
            .copied()
            .filter(|i| carries(i).is_ok())
    }

    fn wants(&self, m: Market) -> bool {
        self.configured().any(|i| Market::of(&i) == m)
    }

    fn configured_natives(&self, m: Market) -> Vec<String> {
        let mut v: Vec<String> = self
            .configured()
            .filter(|i| Market::of(i) == m)
            .map(|i| native_symbol(&i))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Which market a connection URL (ours, or a recorded address) is.
    fn market_of_ws(&self, url: &str) -> Market {
        if url.starts_with(&self.ws[Market::Futures.index()]) {
            Market::Futures
        } else if url.starts_with(&self.ws[Market::Spot.index()]) {
            Market::Spot
        } else if url.contains("futures") {
            Market::Futures
        } else {
            Market::Spot
        }
    }

    /// Which market a REST URL belongs to.
    fn market_of_rest(&self, url: &str) -> Market {
        if url.starts_with(&self.rest[Market::Futures.index()]) || url.contains("api-futures") {
            Market::Futures
        } else {
            Market::Spot
        }
    }

    fn bullet_url(&self, m: Market) -> String {
        format!("{}/api/v1/bullet-public", self.rest[m.index()])
    }

    fn snapshot_url(&self, m: Market, native: &str) -> String {
        match m {
            Market::Spot => format!(
                "{}/api/v1/market/orderbook/level2_100?symbol={native}",
                self.rest[0]
            ),
            Market::Futures => format!("{}/api/v1/level2/snapshot?symbol={native}", self.rest[1]),
        }
    }

    fn resolve(&mut self, m: Market, native: &str) -> Option<Instrument> {
        match m {
            Market::Spot => parse_spot(native),
            Market::Futures => self
                .perps
                .get(native)
                .copied()
                .or_else(|| parse_perp(native)),
        }
    }

    /// The book of `native`, created on first sight.
    fn book(&mut self, m: Market, native: &str) -> Option<&mut Book> {
        if !self.books[m.index()].contains_key(native) {
            let instrument = self.resolve(m, native)?;
            self.books[m.index()].insert(
                native.to_string(),
                Book {
                    instrument,
                    sync: BookSync::new(Rules),
                    held: None,
                },
            );
        }
        self.books[m.index()].get_mut(native)
    }

    /// Turn the machine's effects for one book into lifecycle transitions
    /// and snapshot requests (futures sizes converted on the way).
    fn publish(&mut self, m: Market, native: &str, fx: &mut Vec<Effect>, out: &mut Output) {
        sync::merge_deltas(fx);
        if m == Market::Futures {
            match self.contracts.get(native) {
                Some(spec) => spec.convert_effects(fx),
                // Never reached (snapshots wait for the contract list), but
                // a book without sizes must not be published.
                None => fx.retain(|e| !matches!(e, Effect::Snapshot(_) | Effect::Delta(_))),
            }
        }
        let url = self.snapshot_url(m, native);
        let Some(book) = self.books[m.index()].get_mut(native) else {
            return;
        };
        buffered::publish(
            &mut book.sync,
            &mut self.lc,
            book.instrument,
            fx,
            out,
            |_stale, out| out.http_get(url.clone()),
        );
    }

    /// Ask for a connection token.
    fn request_token(&self, m: Market, out: &mut Output) {
        out.http_post(self.bullet_url(m), "{}");
    }

    fn next_id(&mut self) -> String {
        let id = self.next_id;
        self.next_id += 1;
        id.to_string()
    }

    /// Subscribe everything configured for the market (after `welcome`).
    fn subscribe(&mut self, m: Market, url: &str, out: &mut Output) {
        let natives = self.configured_natives(m);
        let ch = self.cfg.channels.clone();
        let mut topics: Vec<(String, Option<Vec<String>>)> = Vec::new();
        match m {
            Market::Spot => {
                for chunk in natives.chunks(SYMBOLS_PER_TOPIC) {
                    let list = chunk.join(",");
                    if ch.book {
                        topics.push((format!("/market/level2:{list}"), Some(chunk.to_vec())));
                    }
                    if ch.trades {
                        topics.push((format!("/market/match:{list}"), None));
                    }
                }
            }
            Market::Futures => {
                for n in &natives {
                    if ch.book {
                        let topic = format!("/contractMarket/level2:{n}");
                        topics.push((topic, Some(vec![n.clone()])));
                    }
                    if ch.trades {
                        topics.push((format!("/contractMarket/execution:{n}"), None));
                    }
                    if ch.funding {
                        topics.push((format!("/contract/instrument:{n}"), None));
                    }
                }
            }
        }
        for (topic, books) in topics {
            let id = self.next_id();
            if let Some(books) = books {
                self.pending_subs.insert(id.clone(), (m, books));
            }
            let msg = serde_json::json!({
                "id": id,
                "type": "subscribe",
                "topic": topic,
                "privateChannel": false,
                "response": true,
            });
            out.send(url, msg.to_string());
        }
    }

    /// The instrument lists of both markets, as one venue list.
    fn publish_listing(&self, out: &mut Output) {
        let list: Vec<InstrumentInfo> = self.listed.iter().flatten().cloned().collect();
        out.event(crate::model::MarketEvent::Instruments { venue: VENUE, list });
    }
}

impl Adapter for Kucoin {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        Market::ALL
            .into_iter()
            .filter(|m| self.wants(*m))
            .map(|m| ConnSpec {
                url: self.ws[m.index()].clone(),
                // Pongs answer every ping, so a quiet book still shows life.
                idle_timeout: Some(Duration::from_secs(45)),
                // KuCoin's pingInterval is 18 s (pingTimeout 10 s).
                ping: Some(Ping {
                    every: Duration::from_secs(15),
                    text: r#"{"id":"ping","type":"ping"}"#.to_string(),
                }),
                await_dial: true,
            })
            .collect()
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        if self.wants(Market::Spot) {
            out.http_get(format!("{}/api/v2/symbols", self.rest[0]));
            self.request_token(Market::Spot, out);
        }
        if self.wants(Market::Futures) {
            out.http_get(format!("{}/api/v1/contracts/active", self.rest[1]));
            self.request_token(Market::Futures, out);
        }
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        let m = self.market_of_ws(url);
        self.conn[m.index()] = Some(url.to_string());
        self.pending_subs.retain(|_, (market, _)| *market != m);
        let mut instruments = Vec::new();
        for b in self.books[m.index()].values_mut() {
            // A new stream: rebuilt from a snapshot asked for once the
            // subscription is acknowledged (or its first increment came).
            b.sync.open_without_request();
            b.held = None;
            instruments.push(b.instrument);
        }
        instruments.sort();
        for i in instruments {
            self.lc.subscribing(i, url, out);
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let m = self.market_of_ws(url);
        if self.conn[m.index()].as_deref() != Some(url) {
            // Frames from a connection not seen opening (or after its
            // close): a new stream, its books rebuilt as after an open.
            self.on_open(url, received, out);
        }
        self.on_frame(m, url, text, received, out);
    }

    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        self.on_rest(url, body, received, out);
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // The runtime retries the request; a book asks again for its
        // snapshot on an increment after buffered::SNAPSHOT_RETRY.
        tracing::warn!(venue = "kucoin", url, "REST request failed: {error}");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        let m = self.market_of_ws(url);
        for b in self.books[m.index()].values_mut() {
            b.sync.close();
            b.held = None;
        }
        self.pending_subs.retain(|_, (market, _)| *market != m);
        self.lc.closed(url, out);
        if self.conn[m.index()].as_deref() == Some(url) {
            self.conn[m.index()] = None;
        }
        // Tokens are per connection: the reconnect dials a fresh one.
        self.request_token(m, out);
    }

    fn lifecycle(&self) -> &Lifecycle {
        &self.lc
    }

    fn config(&self) -> &AdapterConfig {
        &self.cfg
    }

    fn poll_depth(&self, instrument: &Instrument) -> Option<DepthPoll> {
        carries(instrument).ok()?;
        Some(self.poll_request(instrument))
    }

    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output) {
        self.polled(instrument, body, received, out);
    }
}

impl Kucoin {
    /// Dial the address a token answer gave.
    fn dial(&mut self, m: Market, endpoint: &str, token: &str, out: &mut Output) {
        let base = self.ws_override[m.index()]
            .clone()
            .unwrap_or_else(|| endpoint.to_string());
        let sep = if base.contains('?') { '&' } else { '?' };
        let id = self.next_id();
        out.actions.push(Action::Dial {
            url: self.ws[m.index()].clone(),
            target: format!("{base}{sep}token={token}&connectId=depthwatch-{id}"),
        });
    }
}
