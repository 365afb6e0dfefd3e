//! Bitfinex WebSocket v2 public channels (`wss://api-pub.bitfinex.com/ws/2`):
//! spot pairs (`tBTCUSD`, `tAAVE:UST`) and perpetuals (`tBTCF0:USTF0`).
//!
//! Every connection first sends `conf` with `SEQ_ALL | OB_CHECKSUM`
//! (65536 + 131072; 32768 is TIMESTAMP, not sequencing: "General",
//! docs.bitfinex.com/docs/ws-general, bitfinex-rb's `FLAG_*`, VENUES.md
//! §16), then one `subscribe` per channel: `book` (P0, F0, len
//! 100), `trades`, and for perpetuals `status` `deriv:SYMBOL`, plus one
//! `status` `liq:global`. Bitfinex allows 25 channels per connection
//! ("ws-public": "You can subscribe to 25 channels at the same time on the
//! same connection") and 20 connections a minute; more channels get more
//! connections, told apart by a `?conn=N` query (the driver knows
//! connections by URL; that Bitfinex ignores the query is unverified).
//! Data frames are routed by the `chanId` of their `subscribed` event.
//!
//! Instruments come from `/v2/conf/pub:info:pair` and
//! `pub:info:pair:futures` ("Configs"). Bitfinex has no tick size: prices
//! take 5 significant digits (and at most 8 decimals), so the step depends
//! on the price and `tick_size` is left `None`; amounts take 8 decimals
//! (`lot_size` 1e-8). The lists' MIN/MAX_ORDER_SIZE are order limits, not
//! steps, and are not carried. Perpetual amounts are in the base asset, so
//! no contract conversion applies (`contract_size`/`contract_usd` `None`).
//!
//! Integrity: with `SEQ_ALL` every frame carries the connection's next
//! number (see [`seq`]); a break means something was lost on the whole
//! connection, so every book on it goes out of sync and the connection is
//! reopened. A checksum that does not match ([`sync`]) takes that one book
//! out of sync and resubscribes its channel. Info 20051 (server restart)
//! and 20061 (maintenance over; the docs advise subscribing again)
//! reconnect; 20060 (maintenance starts) takes the connection's books out
//! of sync until then.
//!
//! cryptofeed (`cryptofeed/exchanges/bitfinex.py`) records with `conf`
//! flags 65536 only (no checksums), `book` P0/F0 with `len` 100, `trades`
//! and `ticker` (ignored here), 20 channels per connection, all to the same
//! address; its instrument lists are `pub:list:pair:exchange`,
//! `pub:list:currency` and `pub:list:pair:futures`. Its naming maps UST to
//! USDT and BCHN to BCH; so does this module, with the other asset codes
//! Bitfinex spells its own way (UDC for USDC, DSH for DASH, …). A
//! configured instrument keeps its own name for its native symbol, so a
//! capture's header names win over the alias table.
//!
//! VENUES.md §16 against the docs ("ws-general", "ws-public", "ws-public-
//! books", "ws-websocket-checksum", "ws-public-status"): the limits, flags,
//! checksum construction and status layouts agree. The `hb` cadence is not
//! stated in the pages found (cryptofeed's 2021 sample recording shows them
//! within seconds of a channel going quiet); that perpetual amounts are in
//! the base asset stays unverified, as the digest says.

mod feeds;
mod poll;
mod seq;
mod sync;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use rust_decimal::Decimal;

use crate::model::{
    Incident, Instrument, InstrumentInfo, InstrumentKind, MarketEvent, Micros, OutOfSyncReason,
    Venue,
};
use crate::venues::lifecycle::Lifecycle;
use crate::venues::parse::preview;
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output, Ping};

use wire::{Body, Event};

pub const SPEC: VenueSpec = VenueSpec {
    name: "bitfinex",
    display_name: "Bitfinex",
    info: VenueInfo {
        markets: "spot; USDt perpetuals (tBTCF0:USTF0 as BTC-USDT-PERP)",
        book: "book P0, 100 levels: snapshot + one level per frame",
        trades: "trades (te; taker side from the amount's sign)",
        liquidations: "status liq:global (triggers, once per position)",
        funding: "status deriv: (funding, next funding, mark, open interest)",
        integrity: "connection sequence (SEQ_ALL); CRC32 of top 25 (OB_CHECKSUM)",
    },
    capture_names: &["BITFINEX"],
    endpoints: &[
        Endpoint::ws("ws", "wss://api-pub.bitfinex.com/ws/2", "public channels"),
        Endpoint::rest(
            "rest",
            "https://api-pub.bitfinex.com",
            "instrument lists, REST book",
        ),
    ],
    // No trading fees since Bitfinex dropped them on spot, margin and
    // derivatives (a permanent change, it said; before: 0.2 % taker).
    taker_fee_bps: bps(0, 0),
    colour: "#97c93d",
    carries,
    default_listing: &[
        "BTC-USD",
        "ETH-USD",
        "BTC-USDT",
        "ETH-USDT",
        "BTC-USDT-PERP",
        "ETH-USDT-PERP",
    ],
    build: |cfg| Box::new(Bitfinex::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// The instrument lists ("Configs"): every trading pair, and the
/// derivatives, with their order size limits.
const SPOT_LIST: &str = "pub:info:pair";
const FUTURES_LIST: &str = "pub:info:pair:futures";

const CHANNELS_PER_CONN: usize = 25;
const SEQ_ALL: u64 = 65_536;
const OB_CHECKSUM: u64 = 131_072;
/// Every subscribed channel gets `hb` after 15 s of quiet and the pings
/// below are answered: a minute of silence means the socket is dead.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const PING_EVERY: Duration = Duration::from_secs(20);
const PING_TEXT: &str = r#"{"event":"ping","cid":1}"#;

/// Bitfinex asset codes that differ from the common ones.
const ALIASES: &[(&str, &str)] = &[
    ("UST", "USDT"),
    ("UDC", "USDC"),
    ("TSD", "TUSD"),
    ("EUT", "EURT"),
    ("BCHN", "BCH"),
    ("DSH", "DASH"),
    ("IOT", "IOTA"),
    ("QTM", "QTUM"),
    ("ALG", "ALGO"),
    ("MNA", "MANA"),
    ("ATO", "ATOM"),
    ("DAT", "DATA"),
    ("YYW", "YOYOW"),
    ("QSH", "QASH"),
    ("STJ", "STORJ"),
];

fn common_asset(code: &str) -> &str {
    ALIASES
        .iter()
        .find(|(b, _)| *b == code)
        .map_or(code, |(_, c)| c)
}

fn bitfinex_asset(common: &str) -> &str {
    ALIASES
        .iter()
        .find(|(_, c)| *c == common)
        .map_or(common, |(b, _)| b)
}

/// Spot pairs of any quote; perpetuals are against USDt (and EURt).
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if matches!(instrument.quote.as_str(), "USDT" | "EURT") => Ok(()),
        InstrumentKind::Perp => Err("bitfinex lists perpetuals against USDt (and EURt) only"),
    }
}

/// `BTC-USDT` → `tBTCUST`, `AAVE-USDT` → `tAAVE:UST`, `BTC-USDT-PERP` →
/// `tBTCF0:USTF0`.
pub fn native_symbol(i: &Instrument) -> String {
    let (b, q) = (
        bitfinex_asset(i.base.as_str()),
        bitfinex_asset(i.quote.as_str()),
    );
    match i.kind {
        InstrumentKind::Perp => format!("t{b}F0:{q}F0"),
        InstrumentKind::Spot if b.len() == 3 && q.len() == 3 => format!("t{b}{q}"),
        InstrumentKind::Spot => format!("t{b}:{q}"),
    }
}

/// The reverse of [`native_symbol`]; funding currencies (`fUSD`) give `None`.
pub fn parse_native(symbol: &str) -> Option<Instrument> {
    let pair = symbol.strip_prefix('t')?;
    let (b, q) = match pair.split_once(':') {
        Some(parts) => parts,
        None if pair.len() == 6 && pair.is_ascii() => pair.split_at(3),
        None => return None,
    };
    match (b.strip_suffix("F0"), q.strip_suffix("F0")) {
        (Some(b), Some(q)) if !b.is_empty() && !q.is_empty() => {
            Instrument::perp(common_asset(b), common_asset(q)).ok()
        }
        _ => Instrument::spot(common_asset(b), common_asset(q)).ok(),
    }
}

/// One channel subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sub {
    Book(String),
    Trades(String),
    Deriv(String),
    Liquidations,
}

impl Sub {
    fn message(&self) -> String {
        use serde_json::json;
        match self {
            Sub::Book(s) => json!({"event": "subscribe", "channel": "book", "symbol": s,
                "prec": "P0", "freq": "F0", "len": "100"}),
            Sub::Trades(s) => json!({"event": "subscribe", "channel": "trades", "symbol": s}),
            Sub::Deriv(s) => {
                json!({"event": "subscribe", "channel": "status", "key": format!("deriv:{s}")})
            }
            Sub::Liquidations => {
                json!({"event": "subscribe", "channel": "status", "key": "liq:global"})
            }
        }
        .to_string()
    }
}

/// One connection and the channels it subscribes.
#[derive(Clone, Debug)]
struct PlannedConn {
    url: String,
    subs: Vec<Sub>,
}

/// What a channel id carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chan {
    Book(Instrument),
    Trades(Instrument),
    Deriv(Instrument),
    Liquidations,
    /// Subscribed by someone else (a recording's `ticker`), or being
    /// unsubscribed.
    Ignored,
}

pub struct Bitfinex {
    cfg: AdapterConfig,
    plan: Vec<PlannedConn>,
    /// Native symbol → configured instrument (their names win).
    configured: BTreeMap<String, Instrument>,
    /// `(url, chanId)` → what it carries.
    chans: BTreeMap<(String, u64), Chan>,
    books: BTreeMap<Instrument, sync::Book>,
    seqs: BTreeMap<String, seq::ConnSeq>,
    /// Book channels unsubscribed for a rebuild, subscribed again on
    /// `unsubscribed`.
    resubscribing: BTreeMap<(String, u64), Instrument>,
    liq_seen: BTreeSet<i64>,
    liq_order: VecDeque<i64>,
    /// Instrument lists by kind, published together.
    lists: BTreeMap<&'static str, Vec<InstrumentInfo>>,
    lc: Lifecycle,
}

impl Bitfinex {
    pub fn new(cfg: AdapterConfig) -> Self {
        let plan = plan_connections(&cfg);
        let configured = cfg
            .instruments
            .iter()
            .map(|i| (native_symbol(i), *i))
            .collect();
        Bitfinex {
            cfg,
            plan,
            configured,
            chans: BTreeMap::new(),
            books: BTreeMap::new(),
            seqs: BTreeMap::new(),
            resubscribing: BTreeMap::new(),
            liq_seen: BTreeSet::new(),
            liq_order: VecDeque::new(),
            lists: BTreeMap::new(),
            lc: Lifecycle::new(VENUE),
        }
    }

    fn resolve(&self, native: &str) -> Option<Instrument> {
        self.configured
            .get(native)
            .copied()
            .or_else(|| parse_native(native))
    }

    fn rest(&self) -> String {
        self.cfg.endpoint(&SPEC, "rest")
    }

    fn on_event(&mut self, url: &str, e: Event<'_>, out: &mut Output) {
        match e.event.as_ref() {
            "subscribed" => self.on_subscribed(url, &e, out),
            "unsubscribed" => {
                if let Some(chan) = e.chan_id() {
                    self.chans.remove(&(url.to_string(), chan));
                    self.subscribe_again(url, chan, out);
                }
            }
            "info" => self.on_info(url, &e, out),
            "conf" if e.status_ok() => {}
            "conf" => {
                let why = format!("conf flags {:?} refused", e.flags);
                out.unknown(VENUE, None, why);
            }
            "pong" => {}
            "error" => self.on_error(url, &e, out),
            other => out.unknown(VENUE, None, format!("event {other}")),
        }
    }

    fn on_subscribed(&mut self, url: &str, e: &Event<'_>, out: &mut Output) {
        let Some(chan) = e.chan_id() else {
            return out.parse_error(VENUE, None, "subscribed without chanId");
        };
        let symbol = e.symbol.as_deref().unwrap_or_default();
        let what = match (e.channel.as_deref().unwrap_or_default(), e.key.as_deref()) {
            ("book", _) if e.prec.as_deref().is_none_or(|p| p == "P0") => {
                self.resolve(symbol).map(Chan::Book)
            }
            ("trades", _) => self.resolve(symbol).map(Chan::Trades),
            ("status", Some("liq:global")) => Some(Chan::Liquidations),
            ("status", Some(key)) => key
                .strip_prefix("deriv:")
                .and_then(|s| self.resolve(s))
                .map(Chan::Deriv),
            _ => None,
        };
        let key = (url.to_string(), chan);
        match what {
            Some(Chan::Book(i)) => {
                self.books.entry(i).or_default().reset();
                self.lc.subscribing(i, url, out);
                self.chans.insert(key, Chan::Book(i));
            }
            Some(c) => {
                self.chans.insert(key, c);
            }
            None => {
                self.chans.insert(key, Chan::Ignored);
                let channel = e.channel.as_deref().unwrap_or("?");
                let detail = format!("channel {channel} {symbol} (not used)");
                out.unknown(VENUE, None, detail);
            }
        }
    }

    /// A book channel unsubscribed for a rebuild: subscribe it again.
    fn subscribe_again(&mut self, url: &str, chan: u64, out: &mut Output) {
        if let Some(i) = self.resubscribing.remove(&(url.to_string(), chan)) {
            out.send(url, Sub::Book(native_symbol(&i)).message());
        }
    }

    fn on_info(&mut self, url: &str, e: &Event<'_>, out: &mut Output) {
        let msg = e.msg.clone().unwrap_or_default();
        match e.code {
            Some(20051) => out.reconnect(url, format!("Bitfinex 20051 (server restart): {msg}")),
            Some(20060) => {
                let why = OutOfSyncReason::Venue("Bitfinex maintenance (20060)".into());
                self.lc.fail_conn(url, why, out);
                for i in self.lc.on_conn(url) {
                    if let Some(b) = self.books.get_mut(&i) {
                        b.reset();
                    }
                }
            }
            Some(20061) => {
                out.reconnect(url, "Bitfinex 20061: maintenance over, subscribing again")
            }
            Some(code) => out.unknown(VENUE, None, format!("info {code}: {msg}")),
            None => {
                if e.platform.as_ref().and_then(|p| p.status) == Some(0) {
                    tracing::warn!(venue = %VENUE, url, "Bitfinex platform in maintenance");
                }
            }
        }
    }

    fn on_error(&mut self, url: &str, e: &Event<'_>, out: &mut Output) {
        let detail = format!(
            "Bitfinex error {}: {}",
            e.code.unwrap_or_default(),
            e.msg.as_deref().unwrap_or_default()
        );
        tracing::warn!(venue = %VENUE, url, "{detail}");
        // An unsubscribe that failed: subscribe anyway.
        if let Some(chan) = e.chan_id() {
            self.subscribe_again(url, chan, out);
        }
        let book = (e.channel.as_deref() == Some("book"))
            .then(|| e.symbol.as_deref().and_then(|s| self.resolve(s)))
            .flatten();
        if let Some(i) = book {
            self.lc.fail(i, OutOfSyncReason::Venue(detail.clone()), out);
        }
        out.unknown(VENUE, book, detail);
    }

    fn on_frame(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let f = match wire::frame(text) {
            Ok(f) => f,
            Err(e) => return out.parse_error(VENUE, None, format!("{e}: {}", preview(text))),
        };
        if let Some(n) = f.seq
            && let Err((expected, got)) = self.seqs.entry(url.to_string()).or_default().accept(n)
        {
            self.on_seq_gap(url, expected, got, out);
        }
        let Some(&chan) = self.chans.get(&(url.to_string(), f.chan)) else {
            if !matches!(f.body, Body::Heartbeat) {
                out.unknown(VENUE, None, format!("data for unknown channel {}", f.chan));
            }
            return;
        };
        match (chan, f.body) {
            (_, Body::Heartbeat) | (Chan::Ignored, _) => {}
            (Chan::Book(instrument), Body::Data(d)) => {
                let r = sync::Route {
                    url,
                    chan: f.chan,
                    instrument,
                };
                self.on_book_data(r, d, f.seq, received, out)
            }
            (Chan::Book(instrument), Body::Checksum(cs)) => {
                let r = sync::Route {
                    url,
                    chan: f.chan,
                    instrument,
                };
                self.on_checksum(r, cs, out)
            }
            // Trade snapshots are history.
            (Chan::Trades(_), Body::Data(_)) => {}
            (Chan::Trades(i), Body::Tagged { tag, data }) => {
                self.on_trade(i, tag, data, received, out)
            }
            (Chan::Deriv(i), Body::Data(d)) => self.on_deriv_status(i, d, received, out),
            (Chan::Liquidations, Body::Data(d)) => self.on_liquidations(d, received, out),
            (_, body) => out.unknown(VENUE, None, format!("unexpected {}", body.kind())),
        }
    }

    /// The connection lost a frame: every book on it is out of sync, and a
    /// new connection rebuilds them all.
    fn on_seq_gap(&mut self, url: &str, expected: u64, got: u64, out: &mut Output) {
        let books = self.lc.on_conn(url);
        if books.is_empty() {
            let detail = format!("sequence gap on {url}: expected {expected}, got {got}");
            out.incident(VENUE, None, Incident::Gap, detail);
        }
        for i in books {
            if let Some(b) = self.books.get_mut(&i) {
                b.reset();
            }
            self.lc.gap(i, expected, got, out);
        }
        out.reconnect(url, format!("sequence gap: expected {expected}, got {got}"));
    }

    fn on_pair_list(&mut self, kind: &'static str, body: &str, out: &mut Output) {
        let pairs = match wire::pair_list(body) {
            Ok(p) => p,
            Err(e) => return out.parse_error(VENUE, None, format!("pair list: {e}")),
        };
        let mut list = Vec::with_capacity(pairs.len());
        for pair in pairs {
            if pair.starts_with("TEST") {
                continue; // paper-trading pairs
            }
            let native = format!("t{pair}");
            let Some(instrument) = self.resolve(&native) else {
                continue;
            };
            if instrument.is_perp() != (kind == "futures") {
                continue;
            }
            list.push(InstrumentInfo {
                instrument,
                native,
                // Prices have 5 significant digits, not a tick size.
                tick_size: None,
                // Amounts take up to 8 decimals.
                lot_size: Some(Decimal::new(1, 8)),
                // Derivative amounts are in the base asset, not contracts.
                contract_size: None,
                contract_usd: None,
            });
        }
        self.lists.insert(kind, list);
        out.event(MarketEvent::Instruments {
            venue: VENUE,
            list: self.lists.values().flatten().cloned().collect(),
        });
    }
}

/// Split the configured channels into connections of at most 25.
fn plan_connections(cfg: &AdapterConfig) -> Vec<PlannedConn> {
    let ch = &cfg.channels;
    let mut subs = Vec::new();
    for i in cfg.instruments.iter().filter(|i| carries(i).is_ok()) {
        let s = native_symbol(i);
        if ch.book {
            subs.push(Sub::Book(s.clone()));
        }
        if ch.trades {
            subs.push(Sub::Trades(s.clone()));
        }
        if ch.funding && i.is_perp() {
            subs.push(Sub::Deriv(s));
        }
    }
    if ch.liquidations && cfg.instruments.iter().any(Instrument::is_perp) {
        subs.push(Sub::Liquidations);
    }
    let base = cfg.endpoint(&SPEC, "ws");
    subs.chunks(CHANNELS_PER_CONN)
        .enumerate()
        .map(|(n, chunk)| PlannedConn {
            url: if n == 0 {
                base.clone()
            } else {
                format!("{base}?conn={}", n + 1)
            },
            subs: chunk.to_vec(),
        })
        .collect()
}

impl Adapter for Bitfinex {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        self.plan
            .iter()
            .map(|c| {
                let ping = Ping {
                    every: PING_EVERY,
                    text: PING_TEXT.to_string(),
                };
                ConnSpec::new(c.url.clone(), Some(IDLE_TIMEOUT), Some(ping))
            })
            .collect()
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        let rest = self.rest();
        out.http_get(format!("{rest}/v2/conf/{SPOT_LIST}"));
        if self.cfg.instruments.iter().any(Instrument::is_perp) {
            out.http_get(format!("{rest}/v2/conf/{FUTURES_LIST}"));
        }
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        self.seqs.entry(url.to_string()).or_default().opened();
        let Some(conn) = self.plan.iter().find(|c| c.url == url).cloned() else {
            // A recorded address: its `subscribed` events say what it carries.
            return;
        };
        let conf = serde_json::json!({"event": "conf", "flags": SEQ_ALL | OB_CHECKSUM});
        out.send(url, conf.to_string());
        for sub in &conn.subs {
            if let Sub::Book(s) = sub
                && let Some(i) = self.resolve(s)
                && self.lc.conn(&i) != Some(url)
            {
                // (A book already carried here is on a second recorded
                // connection to the same address: it stays as it is.)
                self.books.entry(i).or_default().reset();
                self.lc.subscribing(i, url, out);
            }
            out.send(url, sub.message());
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let t = text.trim_start();
        if t.starts_with('[') {
            return self.on_frame(url, t, received, out);
        }
        match serde_json::from_str::<Event>(t) {
            Ok(e) => self.on_event(url, e, out),
            Err(e) => out.parse_error(VENUE, None, format!("{e}: {}", preview(text))),
        }
    }

    fn on_http(&mut self, url: &str, body: &str, _received: Micros, out: &mut Output) {
        // `pub:list:pair:*` are what recordings (cryptofeed) fetched.
        if url.contains(FUTURES_LIST) || url.contains("pub:list:pair:futures") {
            self.on_pair_list("futures", body, out);
        } else if url.contains(SPOT_LIST) || url.contains("pub:list:pair:exchange") {
            self.on_pair_list("exchange", body, out);
        } else if url.contains("/v2/conf/") {
            // Other configs a recording fetched (currencies, pair info).
        } else {
            out.unknown(VENUE, None, format!("REST body from {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // The lists only refine completion; books work without them.
        tracing::warn!(venue = %VENUE, url, "REST request failed: {error}");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        self.chans.retain(|(u, _), _| u != url);
        self.resubscribing.retain(|(u, _), _| u != url);
        self.seqs.remove(url);
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
