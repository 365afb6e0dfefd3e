//! MEXC: spot (`BTCUSDT` as `BTC-USDT`) over the protobuf v3 stream and
//! USDT-settled perpetuals (`BTC_USDT` as `BTC-USDT-PERP`) over the JSON
//! contract stream, VENUES.md §21.
//!
//! **Spot** (`wss://wbs-api.mexc.com/ws`; the JSON `wbs.mexc.com` stream was
//! switched off on 2025-08-04). Requests and their answers are JSON
//! (`{"method":"SUBSCRIPTION","params":[..]}` → `{"id":0,"code":0,"msg":
//! "<topic>"}`, `{"method":"PING"}` → `PONG`); data frames are binary
//! protobuf `PushDataV3ApiWrapper` messages ([`proto`]). Books on
//! `spot@public.aggre.depth.v3.api.pb@100ms@SYM` over the REST snapshot
//! `GET /api/v3/depth?limit=5000`, trades on
//! `spot@public.aggre.deals.v3.api.pb@100ms@SYM` (`tradeType` 1 buy, 2
//! sell: the taker's side). One connection carries at most 30
//! subscriptions (documented): books are spread over as many connections
//! as needed, the extra ones told apart by a `?conn=N` query. Instruments
//! from `GET /api/v3/exchangeInfo` (`quotePrecision` price decimals,
//! `baseSizePrecision` the quantity step). A recording of the legacy JSON
//! stream (`spot@public.increase.depth.v3.api@SYM`, one `r` version per
//! push over the REST snapshot, and `spot@public.deals.v3.api@SYM`) is
//! replayed by the same rule.
//!
//! **Futures** (`wss://contract.mexc.com/edge`): `sub.depth` (with
//! `compress:false`, one version per push) over `GET
//! /api/v1/contract/depth/{symbol}?limit=1000`, `sub.deal` (`T` 1 buy, 2
//! sell), `sub.ticker` (funding rate, fair (mark) and index price, open
//! interest `holdVol`) and `sub.funding.rate` (rate, next settlement).
//! Sizes are contracts of `contractSize` base each, from `GET
//! /api/v1/contract/detail` at start; a book waits for that list. Pushes may
//! come gzip-compressed as binary frames: both forms are read. The client
//! pings `{"method":"ping"}` every 15 s (the server closes after a minute
//! without one). Rules of both books: [`sync`].
//!
//! **Liquidations**: MEXC publishes none: the contract WebSocket's public
//! channels are tickers, deals, depth, klines, funding rate, index and fair
//! price; forced orders appear only in a user's own private streams.

mod futures;
pub mod proto;
mod rest;
mod spot;
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
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output, Ping};

use sync::{ContractSize, Versions};

pub const SPEC: VenueSpec = VenueSpec {
    name: "mexc",
    display_name: "MEXC",
    info: VenueInfo {
        markets: "spot (protobuf stream); USDT-settled perpetuals (BTC_USDT as BTC-USDT-PERP)",
        book: "spot aggre.depth 100ms (protobuf) over REST depth 5000; futures sub.depth over REST depth 1000",
        trades: "spot aggre.deals (taker side), futures sub.deal (taker side)",
        liquidations: "none public",
        funding: "sub.ticker (funding rate, fair/index price, open interest), sub.funding.rate (next settlement)",
        integrity: "spot fromVersion = last toVersion + 1; futures version + 1; break → new snapshot",
    },
    capture_names: &["MEXC"],
    endpoints: &[
        Endpoint::ws(
            "spot_ws",
            "wss://wbs-api.mexc.com/ws",
            "spot (protobuf pushes)",
        ),
        Endpoint::ws(
            "futures_ws",
            "wss://contract.mexc.com/edge",
            "USDT-settled perpetuals",
        ),
        Endpoint::rest(
            "spot_rest",
            "https://api.mexc.com",
            "spot books, exchangeInfo",
        ),
        Endpoint::rest(
            "futures_rest",
            "https://contract.mexc.com",
            "futures books, contract details",
        ),
    ],
    // Spot base tier: 0 % maker, 0.05 % taker (futures taker 0.02 %).
    taker_fee_bps: bps(5, 0),
    colour: "#f26d5b",
    carries,
    default_listing: &["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"],
    build: |cfg| Box::new(Mexc::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Subscriptions one spot connection may carry (documented).
const SUBSCRIPTIONS_PER_CONN: usize = 30;
const SPOT_PING: Duration = Duration::from_secs(20);
const FUTURES_PING: Duration = Duration::from_secs(15);
/// Pongs answer every ping, so even a quiet book shows life this often.
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// Spot pairs of any quote and USDT-settled perpetuals.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if instrument.quote.as_str() == "USDT" => Ok(()),
        InstrumentKind::Perp => Err("mexc: only USDT-settled perpetuals are watched"),
    }
}

/// Spot or futures: their own connections, REST hosts and symbol forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Market {
    Spot,
    Futures,
}

impl Market {
    fn of(i: &Instrument) -> Market {
        if i.is_perp() {
            Market::Futures
        } else {
            Market::Spot
        }
    }
}

/// `BTC-USDT` → `BTCUSDT`; `BTC-USDT-PERP` → `BTC_USDT`.
pub fn native_symbol(i: &Instrument) -> String {
    match Market::of(i) {
        Market::Spot => format!("{}{}", i.base, i.quote),
        Market::Futures => format!("{}_{}", i.base, i.quote),
    }
}

/// `BTC_USDT` → `BTC-USDT-PERP`.
pub fn parse_perp(native: &str) -> Option<Instrument> {
    let (base, quote) = native.split_once('_')?;
    Instrument::perp(base, quote).ok()
}

/// Quotes tried, longest first, to split a spot symbol before
/// `exchangeInfo` has named its assets.
const SPOT_QUOTES: &[&str] = &["USDT", "USDC", "USDE", "USD1", "BTC", "ETH", "EUR", "BRL"];

/// A spot symbol without the exchange's list: `BTCUSDT` → `BTC-USDT`.
pub fn parse_spot(native: &str) -> Option<Instrument> {
    SPOT_QUOTES.iter().find_map(|q| {
        let base = native.strip_suffix(q).filter(|b| !b.is_empty())?;
        Instrument::spot(base, q).ok()
    })
}

#[derive(Clone, Debug)]
struct PlannedConn {
    url: String,
    market: Market,
    instruments: Vec<Instrument>,
}

/// One book: the buffered machine over the venue's units, and a futures
/// snapshot held until the contract size is known.
struct Book {
    market: Market,
    native: String,
    sync: BookSync<Versions>,
    held: Option<Snapshot>,
}

impl Book {
    fn new(market: Market, native: String) -> Self {
        Book {
            market,
            native,
            sync: BookSync::new(Versions),
            held: None,
        }
    }
}

pub struct Mexc {
    cfg: AdapterConfig,
    spot_ws: String,
    futures_ws: String,
    spot_rest: String,
    futures_rest: String,
    plan: Vec<PlannedConn>,
    books: HashMap<Instrument, Book>,
    /// Native symbols of both markets.
    natives: HashMap<(Market, String), Instrument>,
    /// Base per contract, by contract symbol.
    contracts: HashMap<String, ContractSize>,
    lists: BTreeMap<Market, Vec<InstrumentInfo>>,
    effects: Vec<Effect>,
    lc: Lifecycle,
}

fn plan_connections(cfg: &AdapterConfig) -> Vec<PlannedConn> {
    let mine = |m: Market| -> Vec<Instrument> {
        let mut v: Vec<Instrument> = cfg
            .instruments
            .iter()
            .filter(|i| carries(i).is_ok() && Market::of(i) == m)
            .copied()
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let mut plan = Vec::new();
    // Each spot instrument takes a book and a trade subscription.
    let per_instrument = usize::from(cfg.channels.book) + usize::from(cfg.channels.trades);
    let per_conn = SUBSCRIPTIONS_PER_CONN / per_instrument.max(1);
    let base = cfg.endpoint(&SPEC, "spot_ws");
    for (n, chunk) in mine(Market::Spot).chunks(per_conn).enumerate() {
        let url = if n == 0 {
            base.clone()
        } else {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}conn={}", n + 1)
        };
        plan.push(PlannedConn {
            url,
            market: Market::Spot,
            instruments: chunk.to_vec(),
        });
    }
    let perps = mine(Market::Futures);
    if !perps.is_empty() {
        plan.push(PlannedConn {
            url: cfg.endpoint(&SPEC, "futures_ws"),
            market: Market::Futures,
            instruments: perps,
        });
    }
    plan
}

impl Mexc {
    pub fn new(cfg: AdapterConfig) -> Self {
        let plan = plan_connections(&cfg);
        let mut a = Mexc {
            spot_ws: cfg.endpoint(&SPEC, "spot_ws"),
            futures_ws: cfg.endpoint(&SPEC, "futures_ws"),
            spot_rest: cfg.endpoint(&SPEC, "spot_rest"),
            futures_rest: cfg.endpoint(&SPEC, "futures_rest"),
            plan,
            books: HashMap::new(),
            natives: HashMap::new(),
            contracts: HashMap::new(),
            lists: BTreeMap::new(),
            effects: Vec::new(),
            lc: Lifecycle::new(VENUE),
            cfg,
        };
        let planned: Vec<Instrument> = a
            .plan
            .iter()
            .flat_map(|c| c.instruments.iter().copied())
            .collect();
        for i in planned {
            let (m, native) = (Market::of(&i), native_symbol(&i));
            a.natives.insert((m, native.clone()), i);
            if a.cfg.channels.book {
                a.books.insert(i, Book::new(m, native));
            }
        }
        a
    }

    /// The market a connection serves: ours by plan, a recorded one by its
    /// address (`contract.mexc.com` is futures).
    fn url_market(&self, url: &str) -> Market {
        if let Some(c) = self.plan.iter().find(|c| c.url == url) {
            return c.market;
        }
        if url.starts_with(&self.futures_ws) {
            Market::Futures
        } else if url.starts_with(&self.spot_ws) {
            Market::Spot
        } else if url.contains("contract") || url.contains("/edge") {
            Market::Futures
        } else {
            Market::Spot
        }
    }

    /// The instrument of a native symbol, if it can be named.
    fn resolve(&self, m: Market, native: &str) -> Option<Instrument> {
        if let Some(i) = self.natives.get(&(m, native.to_string())) {
            return Some(*i);
        }
        match m {
            Market::Spot => parse_spot(native),
            Market::Futures => parse_perp(native),
        }
    }

    /// The book of a native symbol, created on first sight (a recording
    /// may carry books the header does not name).
    fn book_for(&mut self, m: Market, native: &str) -> Option<Instrument> {
        let i = self.resolve(m, native).filter(|i| carries(i).is_ok())?;
        self.books
            .entry(i)
            .or_insert_with(|| Book::new(m, native.to_string()));
        Some(i)
    }

    fn snapshot_url(&self, m: Market, native: &str) -> String {
        match m {
            Market::Spot => format!("{}/api/v3/depth?symbol={native}&limit=5000", self.spot_rest),
            Market::Futures => format!(
                "{}/api/v1/contract/depth/{native}?limit=1000",
                self.futures_rest
            ),
        }
    }

    /// Carry out the machine's effects for one book: futures sizes in the
    /// base asset, then lifecycle transitions and snapshot requests.
    fn publish(&mut self, instrument: Instrument, fx: &mut Vec<Effect>, out: &mut Output) {
        let Some(book) = self.books.get(&instrument) else {
            fx.clear();
            return;
        };
        let (m, native) = (book.market, book.native.clone());
        if m == Market::Futures {
            match self.contracts.get(&native) {
                Some(cs) => cs.convert_effects(fx),
                // Never reached (snapshots wait for the contract list), but
                // a book without sizes must not be published.
                None => fx.retain(|e| !matches!(e, Effect::Snapshot(_) | Effect::Delta(_))),
            }
        }
        let url = self.snapshot_url(m, &native);
        let Some(book) = self.books.get_mut(&instrument) else {
            return;
        };
        buffered::publish(
            &mut book.sync,
            &mut self.lc,
            instrument,
            fx,
            out,
            |_, out| out.http_get(url.clone()),
        );
    }

    /// The instrument lists of both markets, as one venue list.
    fn publish_lists(&self, out: &mut Output) {
        out.event(crate::model::MarketEvent::Instruments {
            venue: VENUE,
            list: self.lists.values().flatten().cloned().collect(),
        });
    }

    /// Subscription requests of a planned connection.
    fn subscriptions(&self, c: &PlannedConn) -> Vec<String> {
        let ch = &self.cfg.channels;
        let mut msgs = Vec::new();
        for i in &c.instruments {
            let n = native_symbol(i);
            match c.market {
                Market::Spot => {
                    let mut params = Vec::new();
                    if ch.book {
                        params.push(spot::depth_topic(&n));
                    }
                    if ch.trades {
                        params.push(spot::deals_topic(&n));
                    }
                    if !params.is_empty() {
                        msgs.push(
                            serde_json::json!({"method": "SUBSCRIPTION", "params": params})
                                .to_string(),
                        );
                    }
                }
                Market::Futures => {
                    let sub = |method: &str, extra: Option<(&str, bool)>| {
                        let mut param = serde_json::json!({ "symbol": n });
                        if let Some((k, v)) = extra {
                            param[k] = serde_json::Value::Bool(v);
                        }
                        serde_json::json!({"method": method, "param": param}).to_string()
                    };
                    if ch.book {
                        // Unmerged increments: one version per push.
                        msgs.push(sub("sub.depth", Some(("compress", false))));
                    }
                    if ch.trades {
                        msgs.push(sub("sub.deal", None));
                    }
                    if ch.funding {
                        msgs.push(sub("sub.ticker", None));
                        msgs.push(sub("sub.funding.rate", None));
                    }
                }
            }
        }
        msgs
    }
}

impl Adapter for Mexc {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        self.plan
            .iter()
            .map(|c| {
                let (every, text) = match c.market {
                    Market::Spot => (SPOT_PING, r#"{"method":"PING"}"#),
                    Market::Futures => (FUTURES_PING, r#"{"method":"ping"}"#),
                };
                ConnSpec::new(
                    c.url.clone(),
                    Some(IDLE_TIMEOUT),
                    Some(Ping {
                        every,
                        text: text.to_string(),
                    }),
                )
            })
            .collect()
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        if self.plan.iter().any(|c| c.market == Market::Spot) {
            out.http_get(format!("{}/api/v3/exchangeInfo", self.spot_rest));
        }
        if self.plan.iter().any(|c| c.market == Market::Futures) {
            out.http_get(format!("{}/api/v1/contract/detail", self.futures_rest));
        }
    }

    fn on_open(&mut self, url: &str, now: Micros, out: &mut Output) {
        let market = self.url_market(url);
        let mut restart = self.lc.on_conn(url);
        let planned = self.plan.iter().find(|c| c.url == url).cloned();
        if let Some(c) = &planned {
            restart.extend(c.instruments.iter().filter(|i| self.books.contains_key(i)));
        }
        restart.sort();
        restart.dedup();
        for i in restart {
            self.lc.subscribing(i, url, out);
            let mut fx = std::mem::take(&mut self.effects);
            if let Some(b) = self.books.get_mut(&i) {
                b.held = None;
                match market {
                    // Spot: cache the stream first, the snapshot is asked
                    // for on its first push (documented order).
                    Market::Spot => b.sync.open_without_request(),
                    // Futures: the snapshot first (documented order).
                    Market::Futures => b.sync.open(now, &mut fx),
                }
            }
            self.publish(i, &mut fx, out);
            self.effects = fx;
        }
        if let Some(c) = planned {
            for m in self.subscriptions(&c) {
                out.send(url, m);
            }
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        match self.url_market(url) {
            Market::Spot => self.on_spot_text(url, text, received, out),
            Market::Futures => self.on_futures_text(url, text, received, out),
        }
    }

    fn on_binary(&mut self, url: &str, data: &[u8], received: Micros, out: &mut Output) {
        let gzip = data.starts_with(&[0x1f, 0x8b]);
        match (self.url_market(url), gzip) {
            (Market::Spot, false) => self.on_spot_binary(url, data, received, out),
            (_, true) => match wire::gunzip(data) {
                Ok(text) => self.on_text(url, &text, received, out),
                Err(e) => out.parse_error(VENUE, None, e),
            },
            (Market::Futures, false) => match std::str::from_utf8(data) {
                Ok(text) => self.on_futures_text(url, text, received, out),
                Err(_) => out.parse_error(VENUE, None, "futures binary frame is not gzip"),
            },
        }
    }

    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        self.on_rest(url, body, received, out);
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // The runtime retries; a book asks again for its snapshot on a push
        // after buffered::SNAPSHOT_RETRY.
        tracing::warn!(venue = "mexc", url, "REST request failed: {error}");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        for i in self.lc.on_conn(url) {
            if let Some(b) = self.books.get_mut(&i) {
                b.sync.close();
                b.held = None;
            }
        }
        self.lc.closed(url, out);
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
