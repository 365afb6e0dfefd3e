//! Crypto.com Exchange v1 public market data
//! (`wss://stream.crypto.com/exchange/v1/market`): spot pairs and the
//! USD-settled perpetuals (VENUES.md §17).
//!
//! Markets and units. Spot `BTC_USDT` is `BTC-USDT`; perpetual
//! `BTCUSD-PERP` is `BTC-USD-PERP`. Perpetuals are linear and sized in the
//! base coin: `public/get-instruments` gives `contract_size` `"1"` for every
//! one, and sizes are multiplied by it (a live book is rebuilt should the
//! list ever say otherwise). Dated futures and warrants are not carried.
//!
//! Subscriptions: `book.{instrument}.50` with `book_subscription_type:
//! SNAPSHOT_AND_UPDATE` and `book_update_frequency: 10` (see [`sync`]),
//! `trade.{instrument}` (`s` is the taker's side), and for perpetuals
//! `ticker` (open interest `oi`), `funding` (the current hour's rate, paid
//! at the end of the hour), `estimatedfunding` (the next hour's),
//! `mark.{instrument}` and `index.{BASEUSD-INDEX}`. The docs ask for a
//! pause of one second after connecting before the first request (rate
//! limits are pro-rated over the calendar second the connection opened in):
//! [`Adapter::send_after_open`]. They publish 100 requests a second on the
//! market socket but no channel cap per connection (error 40107
//! `EXCEED_MAX_SUBSCRIPTIONS` exists); we keep at most
//! [`MAX_CHANNELS_PER_CONN`] channels on one connection and open more
//! (`?conn=N`) beyond that. No public liquidation feed exists.
//!
//! Heartbeats: the server sends `{"id":N,"method":"public/heartbeat"}`
//! every 30 s and closes the connection unless answered with
//! `{"id":N,"method":"public/respond-heartbeat"}` (same id).
//!
//! Replay: captures named `CRYPTO.COM`. cryptofeed records the v1 socket
//! with whole-book `book.{instrument}.150` snapshots (the `SNAPSHOT`
//! subscription type) and, in older versions, the v2 market API
//! (`wss://stream.crypto.com/v2/market`, `book.{instrument}.150` whole
//! books with JSON numbers, instruments from `/v2/public/get-instruments`).
//! Every `book` push is a whole book, so all three replay through the same
//! rule; only `book.update` deltas are checked against `pu`.

mod feeds;
mod poll;
mod sync;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::json;

use crate::model::{Instrument, InstrumentKind, Micros, OutOfSyncReason, Venue};
use crate::venues::lifecycle::Lifecycle;
use crate::venues::parse::{contracts_to_base, preview};
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output};

use sync::BookSync;
use wire::Envelope;

pub const SPEC: VenueSpec = VenueSpec {
    name: "cryptocom",
    display_name: "Crypto.com",
    info: VenueInfo {
        markets: "spot; USD-settled perpetuals (BTCUSD-PERP as BTC-USD-PERP)",
        book: "book.{instrument}.50: snapshot, then deltas every 10 ms (SNAPSHOT_AND_UPDATE)",
        trades: "trade.{instrument} (taker side)",
        liquidations: "none public",
        funding: "funding, estimatedfunding (hourly), mark, index; open interest from ticker",
        integrity: "pu == last u; break → unsubscribe + subscribe for a fresh snapshot",
    },
    capture_names: &["CRYPTO.COM"],
    endpoints: &[
        Endpoint::ws(
            "ws",
            "wss://stream.crypto.com/exchange/v1/market",
            "market data WebSocket (book, trades, ticker, funding)",
        ),
        Endpoint::rest(
            "rest",
            "https://api.crypto.com",
            "instrument list, REST order book",
        ),
    ],
    // Base tier taker (ccxt's schedule: 0.4 % spot; derivatives are lower).
    taker_fee_bps: bps(40, 0),
    colour: "#1199fa",
    carries,
    default_listing: &[
        "BTC-USDT",
        "ETH-USDT",
        "BTC-USD",
        "ETH-USD",
        "BTC-USD-PERP",
        "ETH-USD-PERP",
    ],
    build: |cfg| Box::new(CryptoCom::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Channels we put on one connection (Crypto.com documents the error for
/// too many, not the number).
pub const MAX_CHANNELS_PER_CONN: usize = 100;
/// Channels per subscribe request.
const CHANNELS_PER_REQUEST: usize = 50;
/// Book depth subscribed (10 or 50 with deltas).
const DEPTH: u32 = 50;
/// Delta interval in ms (10 or 100 with `SNAPSHOT_AND_UPDATE`).
const UPDATE_FREQUENCY_MS: u32 = 10;
/// The pause the docs ask for between connecting and the first request.
const SEND_AFTER_OPEN: Duration = Duration::from_secs(1);
/// Deltas come every 10 ms (empty ones when nothing changed) and
/// heartbeats every 30 s.
const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// `TOO_MANY_REQUESTS`: subscribed again on a new connection.
const TOO_MANY_REQUESTS: i64 = 42901;
/// Funding is exchanged every hour.
const FUNDING_INTERVAL: Micros = 3_600_000_000;

/// Spot pairs of any quote; perpetuals are all USD-settled.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if instrument.quote.as_str() == "USD" => Ok(()),
        InstrumentKind::Perp => Err("crypto.com lists USD-settled perpetuals only (BTCUSD-PERP)"),
    }
}

/// `BTC-USDT` → `BTC_USDT`; `BTC-USD-PERP` → `BTCUSD-PERP`.
pub fn native_symbol(i: &Instrument) -> String {
    if i.is_perp() {
        format!("{}{}-PERP", i.base, i.quote)
    } else {
        format!("{}_{}", i.base, i.quote)
    }
}

/// The reverse of [`native_symbol`]; futures (`BTCUSD-230825`), warrants
/// and index names give `None`.
pub fn parse_native(name: &str) -> Option<Instrument> {
    if let Some(root) = name.strip_suffix("-PERP") {
        let base = root.strip_suffix("USD")?;
        return Instrument::perp(base, "USD").ok();
    }
    let (base, quote) = name.split_once('_')?;
    Instrument::spot(base, quote).ok()
}

/// The index a perpetual settles against (`BTCUSD-PERP` → `BTCUSD-INDEX`,
/// the instrument list's `underlying_symbol`).
fn index_name(i: &Instrument) -> String {
    format!("{}{}-INDEX", i.base, i.quote)
}

/// The perpetual an index price belongs to (`BTCUSD-INDEX` → `BTC-USD-PERP`).
fn perp_of_index(name: &str) -> Option<Instrument> {
    let root = name.strip_suffix("-INDEX")?;
    let base = root.strip_suffix("USD")?;
    Instrument::perp(base, "USD").ok()
}

/// `book.BTC_USDT.50`.
fn book_channel(native: &str) -> String {
    format!("book.{native}.{DEPTH}")
}

/// One connection we open and the instruments it carries.
#[derive(Clone, Debug)]
struct PlannedConn {
    url: String,
    instruments: Vec<Instrument>,
}

pub struct CryptoCom {
    cfg: AdapterConfig,
    rest_url: String,
    plan: Vec<PlannedConn>,
    books: HashMap<Instrument, BookSync>,
    /// Base per contract by native perpetual name, from the list (1 until
    /// then).
    contract: HashMap<String, Decimal>,
    /// Our subscribe requests not answered yet: id → connection, channels.
    pending: BTreeMap<u64, (String, Vec<String>)>,
    next_id: u64,
    lc: Lifecycle,
}

fn parse_error(out: &mut Output, detail: String) {
    out.parse_error(VENUE, None, detail);
}

fn unknown(out: &mut Output, detail: String) {
    out.unknown(VENUE, None, detail);
}

impl CryptoCom {
    pub fn new(cfg: AdapterConfig) -> Self {
        let rest_url = cfg.endpoint(&SPEC, "rest");
        let plan = plan_connections(&cfg);
        CryptoCom {
            cfg,
            rest_url,
            plan,
            books: HashMap::new(),
            contract: HashMap::new(),
            pending: BTreeMap::new(),
            next_id: 1,
            lc: Lifecycle::new(VENUE),
        }
    }

    /// Base per contract of `native` (1 for spot and until listed).
    fn contract_size(&self, native: &str) -> Decimal {
        self.contract.get(native).copied().unwrap_or(Decimal::ONE)
    }

    /// A size of `native` in the base asset; `None` when out of range.
    fn to_base(&self, native: &str, qty: Decimal) -> Option<Decimal> {
        contracts_to_base(qty, self.contract_size(native))
    }

    /// The connection a book is carried on: where its data last came from,
    /// else the one planned for it.
    fn conn_of(&self, i: &Instrument) -> Option<String> {
        if let Some(c) = self.lc.conn(i) {
            return Some(c.to_string());
        }
        self.plan
            .iter()
            .find(|c| c.instruments.contains(i))
            .map(|c| c.url.clone())
    }

    fn request(&mut self, method: &str, params: serde_json::Value, now: Micros) -> (u64, String) {
        let id = self.next_id;
        self.next_id += 1;
        let text =
            json!({"id": id, "method": method, "params": params, "nonce": now / 1000}).to_string();
        (id, text)
    }

    /// Subscribe `channels` (book channels with the delta parameters).
    fn subscribe(
        &mut self,
        url: &str,
        channels: &[String],
        books: bool,
        now: Micros,
        out: &mut Output,
    ) {
        for chunk in channels.chunks(CHANNELS_PER_REQUEST) {
            let params = if books {
                json!({
                    "channels": chunk,
                    "book_subscription_type": "SNAPSHOT_AND_UPDATE",
                    "book_update_frequency": UPDATE_FREQUENCY_MS,
                })
            } else {
                json!({ "channels": chunk })
            };
            let (id, text) = self.request("subscribe", params, now);
            self.pending.insert(id, (url.to_string(), chunk.to_vec()));
            out.send(url, text);
        }
    }

    /// The book channels and the other channels of a planned connection.
    fn channels(&self, c: &PlannedConn) -> (Vec<String>, Vec<String>) {
        let (books, others) = c
            .instruments
            .iter()
            .map(|i| channels_of(i, &self.cfg))
            .fold((Vec::new(), Vec::new()), |(mut b, mut o), (bi, oi)| {
                b.extend(bi);
                o.extend(oi);
                (b, o)
            });
        let mut others = others;
        others.sort();
        others.dedup();
        (books, others)
    }

    fn on_error(&mut self, url: &str, env: &Envelope<'_>, code: i64, out: &mut Output) {
        let msg = env.message.as_deref().unwrap_or_default();
        let method = env.method.as_deref().unwrap_or_default();
        let why = format!("Crypto.com error {code} on {method}: {msg}");
        tracing::warn!(venue = "cryptocom", url, "{why}");
        let id = env
            .id
            .and_then(|i| i.get().trim_matches('"').parse::<u64>().ok());
        if let Some((_, channels)) = id.and_then(|id| self.pending.remove(&id)) {
            let mut failed: Vec<Instrument> = channels
                .iter()
                .filter_map(|c| c.strip_prefix("book."))
                .filter_map(|c| c.split('.').next())
                .filter_map(parse_native)
                .collect();
            failed.sort();
            for i in failed {
                if let Some(b) = self.books.get_mut(&i) {
                    b.reset();
                }
                self.lc.fail(i, OutOfSyncReason::Venue(why.clone()), out);
            }
            if code == TOO_MANY_REQUESTS {
                out.reconnect(url, format!("{why}: subscribing again on a new connection"));
            }
        }
        unknown(out, why);
    }
}

/// The channels for one instrument: its book channel, then the others.
fn channels_of(i: &Instrument, cfg: &AdapterConfig) -> (Vec<String>, Vec<String>) {
    let ch = &cfg.channels;
    let native = native_symbol(i);
    let books = if ch.book {
        vec![book_channel(&native)]
    } else {
        Vec::new()
    };
    let mut others = Vec::new();
    if ch.trades {
        others.push(format!("trade.{native}"));
    }
    if i.is_perp() && ch.funding {
        for c in ["ticker", "funding", "estimatedfunding", "mark"] {
            others.push(format!("{c}.{native}"));
        }
        others.push(format!("index.{}", index_name(i)));
    }
    (books, others)
}

/// Carried instruments packed into connections of at most
/// [`MAX_CHANNELS_PER_CONN`] channels; the second and later ones are told
/// apart by a `conn=N` query.
fn plan_connections(cfg: &AdapterConfig) -> Vec<PlannedConn> {
    let base = cfg.endpoint(&SPEC, "ws");
    let mut mine: Vec<Instrument> = cfg
        .instruments
        .iter()
        .filter(|i| carries(i).is_ok())
        .copied()
        .collect();
    mine.sort();
    mine.dedup();
    let mut groups: Vec<Vec<Instrument>> = Vec::new();
    let mut used = 0;
    for i in mine {
        let (b, o) = channels_of(&i, cfg);
        let n = b.len() + o.len();
        if n == 0 {
            continue;
        }
        match groups.last_mut() {
            Some(g) if used + n <= MAX_CHANNELS_PER_CONN => {
                g.push(i);
                used += n;
            }
            _ => {
                groups.push(vec![i]);
                used = n;
            }
        }
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(n, instruments)| {
            let url = if n == 0 {
                base.clone()
            } else {
                let sep = if base.contains('?') { '&' } else { '?' };
                format!("{base}{sep}conn={}", n + 1)
            };
            PlannedConn { url, instruments }
        })
        .collect()
}

impl Adapter for CryptoCom {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        // No client ping: the server's heartbeats, answered, keep it open.
        self.plan
            .iter()
            .map(|c| ConnSpec::new(c.url.clone(), Some(IDLE_TIMEOUT), None))
            .collect()
    }

    fn send_after_open(&self) -> Duration {
        SEND_AFTER_OPEN
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        out.http_get(format!(
            "{}/exchange/v1/public/get-instruments",
            self.rest_url
        ));
    }

    fn on_open(&mut self, url: &str, now: Micros, out: &mut Output) {
        // Answers still owed on the old connection will not come.
        let planned = self.plan.iter().find(|c| c.url == url).cloned();
        let mut restart = self.lc.on_conn(url);
        if let Some(c) = &planned
            && self.cfg.channels.book
        {
            restart.extend(c.instruments.iter().copied());
        }
        restart.sort();
        restart.dedup();
        for i in restart {
            self.books
                .entry(i)
                .or_insert_with(|| BookSync::new(&i))
                .reset();
            self.lc.subscribing(i, url, out);
        }
        let Some(c) = planned else {
            return;
        };
        let (books, others) = self.channels(&c);
        if !books.is_empty() {
            self.subscribe(url, &books, true, now, out);
        }
        if !others.is_empty() {
            self.subscribe(url, &others, false, now, out);
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let env: Envelope = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => return parse_error(out, format!("{e}: {}", preview(text))),
        };
        let method = env.method.as_deref().unwrap_or_default();
        if method == "public/heartbeat" {
            let id = env.id.map_or("0", |i| i.get());
            let answer = format!(r#"{{"id":{id},"method":"public/respond-heartbeat"}}"#);
            return out.send(url, answer);
        }
        match env.code {
            Some(0) | None => {}
            Some(code) => return self.on_error(url, &env, code, out),
        }
        let Some(push) = env.result else {
            // Answers to subscribe / unsubscribe.
            if matches!(method, "subscribe" | "unsubscribe") {
                if let Some(id) = env.id.and_then(|i| i.get().parse::<u64>().ok()) {
                    self.pending.remove(&id);
                }
                return;
            }
            return unknown(out, format!("message {}", preview(text)));
        };
        match push.channel.as_ref() {
            "book" => self.on_book(url, &push, false, received, out),
            "book.update" => self.on_book(url, &push, true, received, out),
            "trade" => self.on_trades(&push, received, out),
            "ticker" => self.on_ticker(&push, received, out),
            "funding" | "estimatedfunding" | "mark" | "index" => {
                self.on_value(&push, received, out)
            }
            // Recorded by cryptofeed, nothing we show.
            "candlestick" => {}
            other => unknown(out, format!("channel {other}")),
        }
    }

    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        if url.contains("/public/get-instruments") {
            self.on_instruments(body, received, out);
        } else {
            unknown(out, format!("REST body from {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // The list refines ticks and contract sizes; books do without it.
        tracing::warn!(venue = "cryptocom", url, "REST request failed: {error}");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        for i in self.lc.on_conn(url) {
            if let Some(b) = self.books.get_mut(&i) {
                b.reset();
            }
        }
        self.pending.retain(|_, (conn, _)| conn != url);
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
