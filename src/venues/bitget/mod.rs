//! Bitget v2 public WebSocket (`wss://ws.bitget.com/v2/ws/public`): spot
//! (`instType` `SPOT`) and USDT-M perpetuals (`USDT-FUTURES`) on one
//! endpoint; channels `books` (full-depth snapshot, then updates with `seq`
//! and a CRC32 `checksum`, see [`sync`]), `trade` (taker side) and, for
//! perpetuals, `ticker` (funding rate and time, mark and index price, open
//! interest `holdingAmount` in the base coin). Instruments from REST at
//! start; sizes are base coin everywhere, so no contract conversion.
//!
//! Limits (Bitget "Websocket API"): at most 1000 channels per connection and
//! "strongly" fewer than 50, 240 subscription requests an hour per
//! connection, 10 messages a second (pings included; the runtime spaces
//! sends 220 ms apart), a text `ping` every 30 s (closed after 2 min
//! without), a forced disconnect every 24 h. So: 50 channels a connection,
//! a subscribe message at most ~4 KB of args, extra connections told apart
//! by a `?conn=N` query (the driver knows connections by URL), and a book
//! that must be resubscribed on a connection near its hourly budget
//! reconnects it instead.
//!
//! History at start (`history`): klines of every instrument and settled
//! funding of every perpetual from the v2 REST; Bitget publishes no
//! open-interest history.
//!
//! Replay: cryptofeed's `bitget.py` (master and v3 branch) still speaks v1
//! (`wss://ws.bitget.com/spot/v1/stream`, `/mix/v1/stream`, `instType`
//! `sp`/`mc`, trades as arrays, `capitalRate`/`holding` tickers, REST
//! `/api/spot/v1/public/products` and `/api/mix/v1/market/contracts`); v1
//! has the same books and checksum without `seq` and is replayed as well.
//! v1 was switched off on 2025-11-28 and is never used live.
//!
//! Differences from VENUES.md §18 found in the docs: the checksum is on
//! every v1 push including snapshots (all match in cryptofeed's capture),
//! on v2 updates, and 0 on v3/UTA; v2 has no liquidation channel (v3's is
//! sampled and its side/amount meaning is not documented in what was read,
//! so it is not used).

mod feeds;
mod history;
mod instruments;
mod poll;
pub mod sim;
mod sync;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::Value;

use crate::model::{Instrument, InstrumentInfo, InstrumentKind, Micros, OutOfSyncReason, Venue};
use crate::venues::checksum::raw_text;
use crate::venues::lifecycle::Lifecycle;
use crate::venues::parse::preview;
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use crate::venues::symbols::split_concatenated;
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output, Ping};

use sync::BookSync;
use wire::{BookData, Push};

pub const SPEC: VenueSpec = VenueSpec {
    name: "bitget",
    display_name: "Bitget",
    info: VenueInfo {
        markets: "spot; USDT-M perpetuals (BTCUSDT USDT-FUTURES as BTC-USDT-PERP)",
        book: "books: full-depth snapshot + updates (spot 200 ms, futures 150 ms)",
        trades: "trade (taker side)",
        liquidations: "none (not on the v2 public API)",
        funding: "ticker (funding rate, next funding, mark/index price, open interest)",
        integrity: "seq increasing; CRC32 of top 25 on updates; break → resubscribe",
    },
    capture_names: &["BITGET"],
    endpoints: &[
        Endpoint::ws(
            "ws",
            "wss://ws.bitget.com/v2/ws/public",
            "public channels, spot and futures",
        ),
        Endpoint::rest(
            "rest",
            "https://api.bitget.com",
            "instrument lists, REST depth",
        ),
    ],
    // Spot base tier 0.1 % (USDT-M futures: 0.06 %).
    taker_fee_bps: bps(10, 0),
    colour: "#1da2b4",
    carries,
    default_listing: &["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"],
    build: |cfg| Box::new(Bitget::new(cfg)),
    sim: Some(&sim::SIM),
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Channels per connection (Bitget: "strongly" fewer than 50).
const CHANNELS_PER_CONN: usize = 50;
/// Characters of `args` per subscribe message (Bitget caps a request at
/// 4096 bytes).
const ARGS_CHARS_PER_MESSAGE: usize = 3800;
/// Subscribe/unsubscribe requests one connection may make (Bitget: 240 an
/// hour); past this a resubscription reconnects instead.
const REQUESTS_PER_CONN: u32 = 200;
const PING_EVERY: Duration = Duration::from_secs(25);
/// Pongs come every 25 s and books push several times a second.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Spot and USDT-M perpetuals are subscribed; coin-M pushes (recordings)
/// are still read.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if instrument.quote.as_str() == "USDT" => Ok(()),
        InstrumentKind::Perp => Err("bitget: only USDT-M perpetuals are watched"),
    }
}

/// A Bitget product line; native symbols are unique only within one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(crate) enum Market {
    Spot,
    /// USDT-M perpetuals (v1 `umcbl`).
    Usdt,
    /// Coin-M perpetuals (v1 `dmcbl`): only read from recordings.
    Coin,
}

impl Market {
    /// From a push's `instType` (v2 `SPOT`/`USDT-FUTURES`, v3 lower case,
    /// v1 `sp`/`mc`: v1 `mc` carries `BTCUSDT` for USDT-M and `BTCUSD` for
    /// coin-M, as cryptofeed tells them apart).
    fn of(inst_type: &str, inst_id: &str) -> Option<Market> {
        match inst_type.to_ascii_uppercase().as_str() {
            "SPOT" | "SP" | "SPBL" => Some(Market::Spot),
            "USDT-FUTURES" | "UMCBL" => Some(Market::Usdt),
            "COIN-FUTURES" | "DMCBL" => Some(Market::Coin),
            "MC" if inst_id.ends_with("USDT") => Some(Market::Usdt),
            "MC" if inst_id.ends_with("USD") => Some(Market::Coin),
            _ => None,
        }
    }

    /// The v2 `instType`.
    fn inst_type(self) -> &'static str {
        match self {
            Market::Spot => "SPOT",
            Market::Usdt => "USDT-FUTURES",
            Market::Coin => "COIN-FUTURES",
        }
    }

    fn of_instrument(i: &Instrument) -> Market {
        if i.is_perp() {
            Market::Usdt
        } else {
            Market::Spot
        }
    }
}

/// `BTC-USDT` and `BTC-USDT-PERP` → `BTCUSDT` (the product line tells them
/// apart).
pub fn native_symbol(i: &Instrument) -> String {
    format!("{}{}", i.base, i.quote)
}

/// `{"instType":..,"channel":"books","instId":..}`.
fn books_arg(market: Market, native: &str) -> Value {
    serde_json::json!({"instType": market.inst_type(), "channel": "books", "instId": native})
}

/// One connection and the channels it carries.
#[derive(Clone, Debug)]
struct PlannedConn {
    url: String,
    args: Vec<Value>,
    books: Vec<Instrument>,
}

pub struct Bitget {
    cfg: AdapterConfig,
    rest_url: String,
    plan: Vec<PlannedConn>,
    books: HashMap<Instrument, BookSync>,
    /// (product line, native symbol) → instrument, from the REST lists.
    listed: HashMap<(Market, String), Instrument>,
    lists: BTreeMap<Market, Vec<InstrumentInfo>>,
    /// Subscribe/unsubscribe requests made on each connection since it
    /// opened.
    requests: HashMap<String, u32>,
    /// The newest trade time (ms) seen per instrument.
    last_trade: HashMap<Instrument, i64>,
    lc: Lifecycle,
}

fn parse_error(out: &mut Output, detail: String) {
    out.parse_error(VENUE, None, detail);
}

fn unknown(out: &mut Output, detail: String) {
    out.unknown(VENUE, None, detail);
}

/// Split the configured channels into connections of at most
/// [`CHANNELS_PER_CONN`].
fn plan_connections(cfg: &AdapterConfig, base: &str) -> Vec<PlannedConn> {
    let ch = &cfg.channels;
    let mut items: Vec<(Value, Option<Instrument>)> = Vec::new();
    for i in cfg.instruments.iter().filter(|i| carries(i).is_ok()) {
        let (market, id) = (Market::of_instrument(i), native_symbol(i));
        let arg = |channel: &str| serde_json::json!({"instType": market.inst_type(), "channel": channel, "instId": id});
        if ch.book {
            items.push((books_arg(market, &id), Some(*i)));
        }
        if ch.trades {
            items.push((arg("trade"), None));
        }
        if ch.funding && i.is_perp() {
            items.push((arg("ticker"), None));
        }
    }
    items
        .chunks(CHANNELS_PER_CONN)
        .enumerate()
        .map(|(n, chunk)| PlannedConn {
            url: if n == 0 {
                base.to_string()
            } else {
                format!("{base}?conn={}", n + 1)
            },
            args: chunk.iter().map(|(a, _)| a.clone()).collect(),
            books: chunk.iter().filter_map(|(_, i)| *i).collect(),
        })
        .collect()
}

impl Bitget {
    pub fn new(cfg: AdapterConfig) -> Self {
        let ws_url = cfg.endpoint(&SPEC, "ws");
        let rest_url = cfg.endpoint(&SPEC, "rest");
        let plan = plan_connections(&cfg, &ws_url);
        let mut books = HashMap::new();
        for c in &plan {
            for i in &c.books {
                let m = Market::of_instrument(i);
                books.insert(*i, BookSync::new(m, &native_symbol(i)));
            }
        }
        Bitget {
            cfg,
            rest_url,
            plan,
            books,
            listed: HashMap::new(),
            lists: BTreeMap::new(),
            requests: HashMap::new(),
            last_trade: HashMap::new(),
            lc: Lifecycle::new(VENUE),
        }
    }

    /// Each `(op, args)` on connection `url`, in messages of at most
    /// [`ARGS_CHARS_PER_MESSAGE`]; past the connection's request budget the
    /// connection is reopened instead (a new one starts a new budget).
    fn request(&mut self, url: &str, ops: &[(&str, &[Value])], out: &mut Output) {
        let mut messages = Vec::new();
        for (op, args) in ops {
            let mut batch: Vec<&Value> = Vec::new();
            let mut chars = 0;
            for a in args.iter() {
                let cost = a.to_string().len() + 1;
                if !batch.is_empty() && chars + cost > ARGS_CHARS_PER_MESSAGE {
                    messages.push(serde_json::json!({"op": op, "args": batch}).to_string());
                    batch.clear();
                    chars = 0;
                }
                chars += cost;
                batch.push(a);
            }
            if !batch.is_empty() {
                messages.push(serde_json::json!({"op": op, "args": batch}).to_string());
            }
        }
        let used = self.requests.entry(url.to_string()).or_default();
        if *used + messages.len() as u32 > REQUESTS_PER_CONN {
            return out.reconnect(url, "Bitget subscription budget of the connection spent");
        }
        *used += messages.len() as u32;
        for m in messages {
            out.send(url, m);
        }
    }

    /// A push's instrument: the REST list's, else the symbol's shape.
    fn resolve(&self, market: Market, native: &str) -> Option<Instrument> {
        if let Some(i) = self.listed.get(&(market, native.to_string())) {
            return Some(*i);
        }
        match market {
            Market::Spot => split_concatenated(native, InstrumentKind::Spot),
            Market::Usdt | Market::Coin => split_concatenated(native, InstrumentKind::Perp),
        }
    }

    fn on_book(
        &mut self,
        url: &str,
        p: &Push<'_>,
        (market, id): (Market, &str),
        received: Micros,
        out: &mut Output,
    ) {
        let Some(data) = p.data else {
            return parse_error(out, "books push without data".into());
        };
        let entries: Vec<BookData> = match serde_json::from_str(data.get()) {
            Ok(e) => e,
            Err(e) => return parse_error(out, format!("books data: {e}")),
        };
        let Some(instrument) = self.resolve(market, id) else {
            return unknown(out, format!("books for unknown instId {id}"));
        };
        self.books
            .entry(instrument)
            .or_insert_with(|| BookSync::new(market, id));
        let channel = p.arg.as_ref().map_or("", |a| a.channel.as_str());
        // `books1/5/15` push whole (small) books every time.
        let snapshot = p.action.as_deref() == Some("snapshot") || channel != "books";
        for entry in entries {
            self.on_book_entry(url, instrument, snapshot, entry, received, out);
        }
    }

    fn on_event(&mut self, p: &Push<'_>, out: &mut Output) {
        let event = p.event.as_deref().unwrap_or_default();
        match event {
            "subscribe" | "unsubscribe" | "login" => {}
            "error" => {
                let code = p.code.map(raw_text).unwrap_or_default();
                let msg = p.msg.clone().unwrap_or_default();
                tracing::warn!(code, msg = %msg, "Bitget error event");
                let book = p
                    .arg
                    .as_ref()
                    .filter(|a| a.channel == "books")
                    .and_then(|a| {
                        let m = Market::of(&a.inst_type, &a.inst_id)?;
                        self.resolve(m, &a.inst_id)
                    });
                if let Some(i) = book {
                    // The venue refused the book: nothing to rebuild from.
                    let why = format!("Bitget error {code}: {msg}");
                    self.lc.fail(i, OutOfSyncReason::Venue(why), out);
                }
                out.unknown(VENUE, book, format!("Bitget error {code}: {msg}"));
            }
            other => unknown(out, format!("Bitget event {other}")),
        }
    }
}

impl Adapter for Bitget {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        self.plan
            .iter()
            .map(|c| {
                ConnSpec::new(
                    c.url.clone(),
                    Some(IDLE_TIMEOUT),
                    Some(Ping {
                        every: PING_EVERY,
                        text: "ping".to_string(),
                    }),
                )
            })
            .collect()
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        for url in self.instruments_urls() {
            out.http_get(url);
        }
        self.backfill(out);
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        self.requests.remove(url);
        // Whatever this connection carried before (a reopen, or a recorded
        // connection seen again without a close) starts from a snapshot.
        let mut restart = self.lc.on_conn(url);
        let planned = self.plan.iter().find(|c| c.url == url).cloned();
        if let Some(c) = &planned {
            restart.extend(c.books.iter().copied());
        }
        restart.sort();
        restart.dedup();
        for i in restart {
            if let Some(b) = self.books.get_mut(&i) {
                b.reset();
            }
            self.lc.subscribing(i, url, out);
        }
        if let Some(c) = planned {
            self.request(url, &[("subscribe", &c.args)], out);
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let trimmed = text.trim();
        if trimmed == "pong" {
            return;
        }
        let p: Push = match serde_json::from_str(trimmed) {
            Ok(p) => p,
            Err(e) => return parse_error(out, format!("{e}: {}", preview(text))),
        };
        if p.event.is_some() {
            return self.on_event(&p, out);
        }
        let Some(arg) = p.arg.clone() else {
            return unknown(out, format!("no arg: {}", preview(text)));
        };
        let Some(market) = Market::of(&arg.inst_type, &arg.inst_id) else {
            return unknown(out, format!("instType {:?}", arg.inst_type));
        };
        let Some(data) = p.data else {
            return parse_error(out, format!("{} push without data", arg.channel));
        };
        let id = arg.inst_id.as_str();
        match arg.channel.as_str() {
            "books" | "books1" | "books5" | "books15" | "books50" => {
                self.on_book(url, &p, (market, id), received, out)
            }
            "trade" | "publicTrade" => {
                let snapshot = p.action.as_deref() == Some("snapshot");
                self.on_trades(data, snapshot, (market, id), received, out)
            }
            "ticker" => self.on_ticker(data, (market, id), received, out),
            other => unknown(out, format!("channel {other}")),
        }
    }

    fn on_http(&mut self, url: &str, body: &str, _received: Micros, out: &mut Output) {
        if url.contains(history::FUNDING_PATH) {
            self.on_funding_history(url, body, out);
        } else if url.contains(history::MIX_KLINES_PATH) {
            self.on_klines(url, body, false, out);
        } else if url.contains(history::SPOT_KLINES_PATH) {
            self.on_klines(url, body, true, out);
        } else {
            self.on_lists(url, body, out);
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // Instrument lists refine symbols and ticks; books work without.
        tracing::warn!(url, error, "Bitget REST request failed");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        self.requests.remove(url);
        for i in self.lc.on_conn(url) {
            if let Some(b) = self.books.get_mut(&i) {
                b.reset();
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
