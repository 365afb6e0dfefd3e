//! Gate v4: spot (`wss://api.gateio.ws/ws/v4/`) and USDT-settled perpetuals
//! (`wss://fx-ws.gateio.ws/v4/ws/usdt`), one connection kind each.
//!
//! Live: books on `spot.obu` / `futures.obu` (`ob.{SYM}.400`, 100 ms; see
//! [`sync`]), `spot.trades` (`side` is the taker's: "only the taker side is
//! notified") and `futures.trades` (signed `size`, negative = the taker
//! sold), `futures.public_liquidates` (at most one liquidation order per
//! contract per second: sampled) and `futures.tickers` (funding rate, mark,
//! index, open interest `total_size`; the next funding time comes from the
//! contract list). Instruments from `/api/v4/spot/currency_pairs` and
//! `/api/v4/futures/usdt/contracts` at start; futures sizes are contracts of
//! `quanto_multiplier` base each.
//!
//! Liquidation side, found in the futures WebSocket docs: `size` is "the
//! liquidation order's size" and Gate signs order sizes (`futures.orders`:
//! "positive to bid, negative to ask"), so a negative size is a forced sell
//! — a long position liquidated — and a positive one a forced buy closing a
//! short. (VENUES.md §19 says the sign is undocumented.)
//!
//! Replay: cryptofeed's `gateio.py` / `gateio_futures.py` record the legacy
//! `spot.order_book_update` / `futures.order_book_update` (`[SYM, "100ms"]`)
//! over REST `/spot/order_book?currency_pair=..&limit=100&with_id=true` and
//! `/futures/usdt/order_book?contract=..&limit=100&with_id=true`; those are
//! rebuilt with Gate's six-step procedure (REST bodies may come before the
//! connection's first record). Capture names `GATEIO`, `GATEIO_FUTURES`.
//!
//! Keep-alive: Gate pings at the protocol level (answered by the runtime);
//! an application `spot.ping` / `futures.ping` every 15 s resets the server's
//! timeout. No subscription caps are documented; 30 instruments a
//! connection, extra connections told apart by a `?conn=N` query.

mod feeds;
mod poll;
mod sync;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use crate::model::{Instrument, InstrumentInfo, InstrumentKind, Micros, OutOfSyncReason, Venue};
use crate::venues::buffered::Snapshot;
use crate::venues::lifecycle::Lifecycle;
use crate::venues::parse::{self, preview};
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output, Ping};

use sync::{Feed, GateBook};
use wire::{BookPush, Envelope, RestBook, WsError};

pub const SPEC: VenueSpec = VenueSpec {
    name: "gate",
    display_name: "Gate",
    info: VenueInfo {
        markets: "spot; USDT-settled perpetuals (BTC_USDT as BTC-USDT-PERP)",
        book: "spot.obu / futures.obu: 400 levels, full book then updates (100 ms)",
        trades: "spot.trades (taker side), futures.trades (signed size)",
        liquidations: "futures.public_liquidates (sampled: ≤1 per contract per second)",
        funding: "futures.tickers (funding rate, mark/index, open interest) + contract list",
        integrity: "U = last u + 1, full books replace; break → resubscribe",
    },
    capture_names: &["GATEIO", "GATEIO_FUTURES"],
    endpoints: &[
        Endpoint::ws("spot_ws", "wss://api.gateio.ws/ws/v4/", "spot"),
        Endpoint::ws(
            "futures_ws",
            "wss://fx-ws.gateio.ws/v4/ws/usdt",
            "USDT-settled perpetuals",
        ),
        Endpoint::rest(
            "rest",
            "https://api.gateio.ws",
            "instrument lists, REST depth",
        ),
    ],
    // Spot base tier 0.2 % (USDT perpetuals: 0.05 %).
    taker_fee_bps: bps(20, 0),
    colour: "#2354e6",
    carries,
    default_listing: &["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"],
    build: |cfg| Box::new(Gate::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

const INSTRUMENTS_PER_CONN: usize = 30;
const PAYLOAD_PER_MESSAGE: usize = 50;
const PING_EVERY: Duration = Duration::from_secs(15);
/// Books push every 100 ms, pongs every 15 s.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Levels of the `*.obu` stream subscribed.
const OBU_LEVELS: u32 = 400;

/// Spot pairs of any quote and USDT-settled perpetuals.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if instrument.quote.as_str() == "USDT" => Ok(()),
        InstrumentKind::Perp => Err("gate: only USDT-settled perpetuals are watched"),
    }
}

/// Spot or USDT-settled futures: their own connections, channel prefixes
/// and symbol spaces.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(crate) enum Market {
    Spot,
    Futures,
}

impl Market {
    fn of_channel(channel: &str) -> Option<Market> {
        match channel.split('.').next()? {
            "spot" => Some(Market::Spot),
            "futures" => Some(Market::Futures),
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Futures => "futures",
        }
    }

    fn obu_channel(self) -> &'static str {
        match self {
            Market::Spot => "spot.obu",
            Market::Futures => "futures.obu",
        }
    }

    fn of_instrument(i: &Instrument) -> Market {
        if i.is_perp() {
            Market::Futures
        } else {
            Market::Spot
        }
    }
}

/// `BTC-USDT` and `BTC-USDT-PERP` → `BTC_USDT`.
pub fn native_symbol(i: &Instrument) -> String {
    format!("{}_{}", i.base, i.quote)
}

/// `ob.BTC_USDT.400`.
fn obu_stream(native: &str) -> String {
    format!("ob.{native}.{OBU_LEVELS}")
}

/// A Gate request: `{"time","channel","event","payload"}`.
fn request(now: Micros, channel: &str, event: &str, payload: &[String]) -> String {
    json!({"time": now / 1_000_000, "channel": channel, "event": event, "payload": payload})
        .to_string()
}

#[derive(Clone, Debug)]
struct PlannedConn {
    url: String,
    market: Market,
    instruments: Vec<Instrument>,
}

pub struct Gate {
    cfg: AdapterConfig,
    rest_url: String,
    plan: Vec<PlannedConn>,
    books: HashMap<Instrument, GateBook>,
    /// Base asset per contract, by contract name.
    multipliers: HashMap<String, rust_decimal::Decimal>,
    /// Next funding time per contract, from the contract list.
    next_funding: HashMap<String, Micros>,
    lists: std::collections::BTreeMap<Market, Vec<InstrumentInfo>>,
    lc: Lifecycle,
}

fn parse_error(out: &mut Output, detail: String) {
    out.parse_error(VENUE, None, detail);
}

fn unknown(out: &mut Output, detail: String) {
    out.unknown(VENUE, None, detail);
}

fn plan_connections(cfg: &AdapterConfig) -> Vec<PlannedConn> {
    let mut plan = Vec::new();
    for (market, key) in [(Market::Spot, "spot_ws"), (Market::Futures, "futures_ws")] {
        let base = cfg.endpoint(&SPEC, key);
        let mine: Vec<Instrument> = cfg
            .instruments
            .iter()
            .filter(|i| carries(i).is_ok() && Market::of_instrument(i) == market)
            .copied()
            .collect();
        for (n, chunk) in mine.chunks(INSTRUMENTS_PER_CONN).enumerate() {
            let url = if n == 0 {
                base.clone()
            } else {
                let sep = if base.contains('?') { '&' } else { '?' };
                format!("{base}{sep}conn={}", n + 1)
            };
            plan.push(PlannedConn {
                url,
                market,
                instruments: chunk.to_vec(),
            });
        }
    }
    plan
}

impl Gate {
    pub fn new(cfg: AdapterConfig) -> Self {
        let rest_url = cfg.endpoint(&SPEC, "rest");
        let plan = plan_connections(&cfg);
        let mut books = HashMap::new();
        if cfg.channels.book {
            for c in &plan {
                for i in &c.instruments {
                    books.insert(*i, GateBook::new(c.market, &native_symbol(i), false));
                }
            }
        }
        Gate {
            cfg,
            rest_url,
            plan,
            books,
            multipliers: HashMap::new(),
            next_funding: HashMap::new(),
            lists: std::collections::BTreeMap::new(),
            lc: Lifecycle::new(VENUE),
        }
    }

    /// The market a connection serves: ours by plan, a recorded one by its
    /// address (`fx-ws…/usdt` futures, `api.gateio.ws/ws/v4` spot).
    fn url_market(&self, url: &str) -> Option<Market> {
        if let Some(c) = self.plan.iter().find(|c| c.url == url) {
            return Some(c.market);
        }
        let path = url.split('?').next().unwrap_or(url);
        if path.contains("fx-ws") || path.contains("/futures") || path.ends_with("/usdt") {
            Some(Market::Futures)
        } else if path.contains("/ws/v4") || path.contains("/spot") {
            Some(Market::Spot)
        } else {
            None
        }
    }

    /// `BTC_USDT` → `BTC-USDT` (spot) or `BTC-USDT-PERP` (futures).
    fn resolve(market: Market, native: &str) -> Option<Instrument> {
        let (base, quote) = native.split_once('_')?;
        match market {
            Market::Spot => Instrument::spot(base, quote).ok(),
            Market::Futures => Instrument::perp(base, quote).ok(),
        }
    }

    /// The book for a native symbol, created on first sight.
    fn book_for(&mut self, market: Market, native: &str, legacy: bool) -> Option<Instrument> {
        let instrument = Self::resolve(market, native)?;
        self.books
            .entry(instrument)
            .or_insert_with(|| GateBook::new(market, native, legacy));
        Some(instrument)
    }

    /// The legacy snapshot request for a book (cryptofeed's URLs).
    fn snapshot_url(&self, instrument: &Instrument) -> Option<String> {
        let b = self.books.get(instrument)?;
        Some(match b.market {
            Market::Spot => format!(
                "{}/api/v4/spot/order_book?currency_pair={}&limit=100&with_id=true",
                self.rest_url, b.native
            ),
            Market::Futures => format!(
                "{}/api/v4/futures/usdt/order_book?contract={}&limit=100&with_id=true",
                self.rest_url, b.native
            ),
        })
    }

    /// Subscription messages of a planned connection.
    fn subscriptions(&self, c: &PlannedConn, now: Micros) -> Vec<String> {
        let ch = &self.cfg.channels;
        let natives: Vec<String> = c.instruments.iter().map(native_symbol).collect();
        let mut msgs = Vec::new();
        let mut add = |channel: &str, payload: Vec<String>| {
            for chunk in payload.chunks(PAYLOAD_PER_MESSAGE) {
                msgs.push(request(now, channel, "subscribe", chunk));
            }
        };
        let p = c.market.prefix();
        if ch.book {
            add(
                c.market.obu_channel(),
                natives.iter().map(|n| obu_stream(n)).collect(),
            );
        }
        if ch.trades {
            add(&format!("{p}.trades"), natives.clone());
        }
        if c.market == Market::Futures {
            if ch.funding {
                add("futures.tickers", natives.clone());
            }
            if ch.liquidations {
                add("futures.public_liquidates", natives.clone());
            }
        }
        msgs
    }

    fn on_book(
        &mut self,
        url: &str,
        market: Market,
        channel: &str,
        result: &serde_json::value::RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        let push: BookPush = match serde_json::from_str(result.get()) {
            Ok(p) => p,
            Err(e) => return parse_error(out, format!("{channel}: {e}")),
        };
        let obu = channel.ends_with(".obu");
        // `ob.BTC_USDT.400` on obu, `BTC_USDT` on the legacy stream.
        let native = if obu {
            push.s.split('.').nth(1).unwrap_or_default().to_string()
        } else {
            push.s.clone()
        };
        let Some(instrument) = self.book_for(market, &native, !obu) else {
            return unknown(out, format!("{channel} for unknown symbol {:?}", push.s));
        };
        if obu {
            self.on_obu(url, instrument, push, received, out);
        } else {
            self.on_legacy(url, instrument, push, received, out);
        }
    }

    /// An acknowledgement or an error for a request.
    fn on_ack(&mut self, url: &str, env: &Envelope<'_>, channel: &str, out: &mut Output) {
        let Some(err) = env.error.filter(|e| e.get().trim() != "null") else {
            return;
        };
        let err: WsError = serde_json::from_str(err.get()).unwrap_or_default();
        let msg = err.message.unwrap_or_default();
        let code = err.code.unwrap_or_default();
        tracing::warn!(venue = "gate", channel, code, msg = %msg, "Gate error");
        // An `*.obu` stream refused: "Alert sub" (code 2) means the old
        // subscription still runs and no full book will come: reconnect.
        let streams: Vec<String> = env
            .payload
            .and_then(|p| serde_json::from_str(p.get()).ok())
            .unwrap_or_default();
        let market = Market::of_channel(channel);
        let here = market.is_some() && self.url_market(url).is_none_or(|m| Some(m) == market);
        if here && channel.ends_with(".obu") && env.event.as_deref() == Some("subscribe") {
            for s in &streams {
                let native = s.split('.').nth(1).unwrap_or_default();
                if let Some(i) = market.and_then(|m| Self::resolve(m, native)) {
                    // Refused: no full book will come for what it held.
                    if let Some(b) = self.books.get_mut(&i) {
                        b.reset_obu();
                    }
                    let why = format!("Gate error {code}: {msg}");
                    self.lc.fail(i, OutOfSyncReason::Venue(why), out);
                }
            }
            if code == 2 {
                out.reconnect(url, format!("Gate refused a resubscription: {msg}"));
            }
        }
        unknown(out, format!("Gate error {code} on {channel}: {msg}"));
    }

    fn on_order_book_body(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        let (market, key) = if url.contains("/futures/usdt/order_book") {
            (Market::Futures, "contract")
        } else {
            (Market::Spot, "currency_pair")
        };
        let Some(native) = query_param(url, key) else {
            return unknown(out, format!("order book body without {key}: {url}"));
        };
        let book: RestBook = match serde_json::from_str(body) {
            Ok(b) => b,
            Err(e) => {
                return parse_error(out, format!("order book {native}: {e}: {}", preview(body)));
            }
        };
        let Some(id) = book.id else {
            return unknown(out, format!("order book {native} without id"));
        };
        let Some(instrument) = self.book_for(market, &native, true) else {
            return unknown(out, format!("order book for unknown symbol {native}"));
        };
        let levels = |raw: &[&serde_json::value::RawValue]| -> Option<Vec<crate::model::Level>> {
            raw.iter()
                .map(|r| {
                    let (p, s) = wire::level_text(r)?;
                    Some(crate::model::Level::new(
                        parse::decimal(&p)?,
                        parse::decimal(&s)?,
                    ))
                })
                .collect()
        };
        let (Some(bids), Some(asks)) = (levels(&book.bids), levels(&book.asks)) else {
            return parse_error(out, format!("order book {native}: bad level"));
        };
        let ts = wire::rest_time(book.current);
        let snap = Snapshot {
            last_update_id: id,
            bids,
            asks,
            exchange_ts: ts,
            received,
        };
        self.on_rest_snapshot(instrument, snap, out);
    }
}

/// The value of `key` in a URL's query.
fn query_param(url: &str, key: &str) -> Option<String> {
    url.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .map(str::to_string)
}

impl Adapter for Gate {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        self.plan
            .iter()
            .map(|c| {
                let text = json!({"channel": format!("{}.ping", c.market.prefix())}).to_string();
                ConnSpec::new(
                    c.url.clone(),
                    Some(IDLE_TIMEOUT),
                    Some(Ping {
                        every: PING_EVERY,
                        text,
                    }),
                )
            })
            .collect()
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        out.http_get(format!("{}/api/v4/spot/currency_pairs", self.rest_url));
        if self.cfg.instruments.iter().any(Instrument::is_perp) {
            out.http_get(format!("{}/api/v4/futures/usdt/contracts", self.rest_url));
        }
    }

    fn on_open(&mut self, url: &str, now: Micros, out: &mut Output) {
        let mut restart = self.lc.on_conn(url);
        let planned = self.plan.iter().find(|c| c.url == url).cloned();
        if let Some(c) = &planned
            && self.cfg.channels.book
        {
            restart.extend(c.instruments.iter().copied());
        }
        restart.sort();
        restart.dedup();
        for i in restart {
            self.lc.subscribing(i, url, out);
            let mut fx = Vec::new();
            match self.books.get_mut(&i).map(|b| &mut b.feed) {
                // A recorded legacy stream: a new snapshot unless one waits.
                Some(Feed::Legacy(sync)) => sync.open(now, &mut fx),
                Some(Feed::Obu { .. }) => {
                    if let Some(b) = self.books.get_mut(&i) {
                        b.reset_obu();
                    }
                }
                None => {}
            }
            self.legacy_effects(i, fx, out);
        }
        if let Some(c) = planned {
            for m in self.subscriptions(&c, now) {
                out.send(url, m);
            }
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let env: Envelope = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => return parse_error(out, format!("{e}: {}", preview(text))),
        };
        if env.kind.as_deref() == Some("upgrade") {
            return out.reconnect(url, "Gate service upgrade notice");
        }
        let Some(channel) = env.channel.as_deref().map(str::to_string) else {
            return unknown(out, format!("no channel: {}", preview(text)));
        };
        let event = env.event.as_deref().unwrap_or("");
        if matches!(event, "subscribe" | "unsubscribe") || channel.ends_with(".pong") {
            return self.on_ack(url, &env, &channel, out);
        }
        let Some(market) = Market::of_channel(&channel) else {
            return unknown(out, format!("channel {channel}"));
        };
        // A market's data belongs on its own connection kind (a book is
        // carried by one connection, as the engine sees it too).
        if self.url_market(url).is_some_and(|m| m != market) {
            return unknown(out, format!("{channel} on the other market's connection"));
        }
        let Some(result) = env.result else {
            return parse_error(out, format!("{channel} without result"));
        };
        match channel.split_once('.').map_or("", |(_, c)| c) {
            "obu" | "order_book_update" => {
                self.on_book(url, market, &channel, result, received, out)
            }
            "trades" => self.on_trades(market, result, received, out),
            "public_liquidates" => self.on_liquidations(result, received, out),
            "tickers" if market == Market::Futures => {
                self.on_tickers(result, env.time_ms, received, out)
            }
            // Spot tickers, book tickers and candles carry nothing we use.
            "tickers" | "book_ticker" | "candlesticks" => {}
            other => unknown(out, format!("channel {market:?}.{other}")),
        }
    }

    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        if url.contains("/spot/currency_pairs") {
            self.on_currency_pairs(body, out);
        } else if url.contains("/futures/usdt/contracts") {
            self.on_contracts(body, received, out);
            self.release_held_books(received, out);
        } else if url.contains("/spot/order_book") || url.contains("/futures/usdt/order_book") {
            self.on_order_book_body(url, body, received, out);
        } else {
            unknown(out, format!("HTTP body for {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        tracing::warn!(venue = "gate", url, error, "REST request failed");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        for i in self.lc.on_conn(url) {
            match self.books.get_mut(&i).map(|b| &mut b.feed) {
                Some(Feed::Legacy(sync)) => sync.close(),
                Some(Feed::Obu { .. }) => {
                    if let Some(b) = self.books.get_mut(&i) {
                        b.reset_obu();
                    }
                }
                None => {}
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
