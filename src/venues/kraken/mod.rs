//! Kraken spot WebSocket v2 (`wss://ws.kraken.com/v2`): `book` and `trade`;
//! the frozen v1 protocol (`wss://ws.kraken.com`, array frames) is read too,
//! so older recordings replay.
//!
//! Kraken has no sequence numbers: the book is guarded by a CRC32 over the top
//! 10 levels of each side, computed from the decimal text (v2 prices and
//! quantities are JSON numbers: their literal text is read as-is through
//! `RawValue`, and padded to the pair's precision from `AssetPairs` or the
//! `instrument` channel when it lacks trailing zeros). After each message the
//! book is cut to the subscribed depth: Kraken never deletes levels that fall
//! out of it. A mismatch marks the book out of sync and resubscribes.

use crate::model::InstrumentKind;
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::checksum::{TextBook, kraken_checksum, observed_scales, parse_decimal, raw_text};
use super::parse::{self, preview};
use super::{Adapter, AdapterConfig, ConnSpec, Output, Ping};
use crate::model::{
    BookSide, Instrument, InstrumentInfo, Level, MarketEvent, Micros, OutOfSyncReason, SeqInfo,
    TakerSide, Trade, Venue,
};
use crate::venues::lifecycle::{Applied, Lifecycle, Update};

pub const SPEC: VenueSpec = VenueSpec {
    name: "kraken",
    display_name: "Kraken",
    info: VenueInfo {
        markets: "spot",
        book: "book v2: snapshot + updates, depth 10 (25/100/500/1000 configurable)",
        trades: "trade",
        liquidations: "none (spot only)",
        funding: "none (spot only)",
        integrity: "CRC32 of top 10 per side on every message; truncation to depth",
    },
    capture_names: &["KRAKEN"],
    endpoints: &[
        Endpoint::ws("ws", "wss://ws.kraken.com/v2", "spot WebSocket v2"),
        Endpoint::rest("rest", "https://api.kraken.com", "asset pairs"),
    ],
    taker_fee_bps: bps(40, 0),
    colour: "#8d6bff",
    carries,
    default_listing: &["BTC-USD", "ETH-USD", "BTC-USDT", "ETH-USDT"],
    build: |cfg| Box::new(Kraken::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

pub const DEPTHS: [usize; 5] = [10, 25, 100, 500, 1000];

/// Kraken spot lists no perpetuals here.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp => Err("kraken lists spot only"),
    }
}

/// Kraken's legacy asset codes (v1 and REST `wsname`) to common ones.
fn common_asset(code: &str) -> &str {
    match code {
        "XBT" => "BTC",
        "XDG" => "DOGE",
        other => other,
    }
}

fn legacy_asset(code: &str) -> &str {
    match code {
        "BTC" => "XBT",
        "DOGE" => "XDG",
        other => other,
    }
}

/// `BTC/USD` or `XBT/USD` → `BTC-USD`.
pub fn parse_symbol(symbol: &str) -> Option<Instrument> {
    let (b, q) = symbol.split_once('/')?;
    Instrument::spot(common_asset(b), common_asset(q)).ok()
}

/// v2 symbol: `BTC-USD` → `BTC/USD`.
pub fn v2_symbol(i: &Instrument) -> String {
    format!("{}/{}", i.base, i.quote)
}

/// v1 pair: `BTC-USD` → `XBT/USD`.
pub fn v1_symbol(i: &Instrument) -> String {
    format!(
        "{}/{}",
        legacy_asset(i.base.as_str()),
        legacy_asset(i.quote.as_str())
    )
}

fn is_v1_url(url: &str) -> bool {
    !url.trim_end_matches('/').ends_with("/v2") && !url.contains("/v2/")
}

/// The smallest subscribable depth holding `n` levels.
fn depth_for(n: usize) -> usize {
    DEPTHS.iter().copied().find(|&d| d >= n).unwrap_or(1000)
}

/// The venue's own copy of one book (for the checksum) and its depth;
/// whether it is live is the lifecycle's to say.
struct BookSync {
    native: TextBook,
    depth: usize,
}

/// Decimals Kraken renders a pair's prices and quantities with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Precision {
    price: u32,
    qty: u32,
}

pub struct Kraken {
    cfg: AdapterConfig,
    ws_url: String,
    rest_url: String,
    depth: usize,
    conn_url: Option<String>,
    books: HashMap<Instrument, BookSync>,
    precision: HashMap<Instrument, Precision>,
    req_id: u64,
    lc: Lifecycle,
}

// ---- wire types (v2) ----------------------------------------------------------

#[derive(Deserialize)]
struct V2Message<'a> {
    #[serde(borrow, default)]
    channel: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type", default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<String>,
    /// v1 events (`heartbeat`, `subscriptionStatus`, `systemStatus`, `pong`).
    #[serde(borrow, default)]
    event: Option<Cow<'a, str>>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    pair: Option<String>,
    #[serde(default)]
    subscription: Option<V1Subscription>,
    #[serde(rename = "errorMessage", default)]
    error_message: Option<String>,
}

#[derive(Deserialize)]
struct V1Subscription {
    #[serde(default)]
    name: String,
    #[serde(default)]
    depth: Option<usize>,
}

#[derive(Deserialize)]
struct V2Book<'a> {
    symbol: String,
    #[serde(borrow, default)]
    bids: Vec<V2Level<'a>>,
    #[serde(borrow, default)]
    asks: Vec<V2Level<'a>>,
    #[serde(default)]
    checksum: Option<u32>,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Deserialize)]
struct V2Level<'a> {
    #[serde(borrow)]
    price: &'a RawValue,
    #[serde(borrow)]
    qty: &'a RawValue,
}

#[derive(Deserialize)]
struct V2Trade<'a> {
    symbol: String,
    #[serde(borrow)]
    side: Cow<'a, str>,
    #[serde(borrow)]
    price: &'a RawValue,
    #[serde(borrow)]
    qty: &'a RawValue,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Deserialize)]
struct SubscribeResult {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    symbol: Option<String>,
    #[serde(default)]
    depth: Option<usize>,
}

#[derive(Deserialize)]
struct InstrumentData {
    #[serde(default)]
    pairs: Vec<InstrumentPair>,
}

#[derive(Deserialize)]
struct InstrumentPair {
    symbol: String,
    price_precision: u32,
    qty_precision: u32,
    #[serde(default)]
    price_increment: Option<f64>,
    #[serde(default)]
    qty_increment: Option<f64>,
}

#[derive(Deserialize)]
struct AssetPairs {
    #[serde(default)]
    result: HashMap<String, AssetPair>,
}

#[derive(Deserialize)]
struct AssetPair {
    #[serde(default)]
    wsname: Option<String>,
    pair_decimals: u32,
    lot_decimals: u32,
    #[serde(default)]
    tick_size: Option<String>,
}

// ---- helpers -------------------------------------------------------------------

fn rfc3339_micros(ts: Option<&str>) -> Option<Micros> {
    parse::rfc3339_micros(ts?)
}

/// v1 timestamps: `"1582905486.493008"` seconds.
fn v1_secs_micros(ts: &str) -> Option<Micros> {
    parse::decimal_secs_to_micros(ts)
}

fn v2_levels<'a>(levels: &[V2Level<'a>]) -> Vec<(&'a str, &'a str)> {
    levels
        .iter()
        .map(|l| (raw_text(l.price), raw_text(l.qty)))
        .collect()
}

fn parse_error(out: &mut Output, detail: String) {
    out.parse_error(VENUE, None, detail);
}

fn unknown(out: &mut Output, detail: String) {
    out.unknown(VENUE, None, detail);
}

/// One book message, either protocol version, as text levels in wire order.
struct BookMessage<'a> {
    instrument: Instrument,
    snapshot: bool,
    bids: Vec<(&'a str, &'a str)>,
    asks: Vec<(&'a str, &'a str)>,
    checksum: Option<u32>,
    exchange_ts: Option<Micros>,
    /// Depth the message says it belongs to (v1 channel name `book-25`).
    depth: Option<usize>,
}

impl Kraken {
    pub fn new(cfg: AdapterConfig) -> Self {
        Self::with_depth(cfg, 10)
    }

    /// Subscribe books at `depth` levels (10, 25, 100, 500 or 1000; other
    /// values round up to the next of these).
    pub fn with_depth(cfg: AdapterConfig, depth: usize) -> Self {
        let ws_url = cfg.endpoint(&SPEC, "ws");
        let rest_url = cfg.endpoint(&SPEC, "rest");
        let depth = depth_for(depth);
        let books = if cfg.channels.book {
            cfg.instruments
                .iter()
                .filter(|i| carries(i).is_ok())
                .map(|i| {
                    (
                        *i,
                        BookSync {
                            native: TextBook::default(),
                            depth,
                        },
                    )
                })
                .collect()
        } else {
            HashMap::new()
        };
        Kraken {
            cfg,
            ws_url,
            rest_url,
            depth,
            conn_url: None,
            books,
            precision: HashMap::new(),
            req_id: 0,
            lc: Lifecycle::new(VENUE),
        }
    }

    fn spot_instruments(&self) -> impl Iterator<Item = &Instrument> {
        self.cfg.instruments.iter().filter(|i| carries(i).is_ok())
    }

    fn next_req_id(&mut self) -> u64 {
        self.req_id += 1;
        self.req_id
    }

    fn book_request(&mut self, method: &str, symbols: &[Instrument], v1: bool) -> String {
        let depth = self.depth;
        if v1 {
            let pairs: Vec<String> = symbols.iter().map(v1_symbol).collect();
            let event = method;
            serde_json::json!({"event": event, "pair": pairs, "subscription": {"name": "book", "depth": depth}})
                .to_string()
        } else {
            let syms: Vec<String> = symbols.iter().map(v2_symbol).collect();
            let id = self.next_req_id();
            let mut params = serde_json::json!({"channel": "book", "symbol": syms, "depth": depth});
            if method == "subscribe" {
                params["snapshot"] = serde_json::Value::Bool(true);
            }
            serde_json::json!({"method": method, "params": params, "req_id": id}).to_string()
        }
    }

    fn trade_request(&mut self, symbols: &[Instrument], v1: bool) -> String {
        if v1 {
            let pairs: Vec<String> = symbols.iter().map(v1_symbol).collect();
            serde_json::json!({"event": "subscribe", "pair": pairs, "subscription": {"name": "trade"}})
                .to_string()
        } else {
            let syms: Vec<String> = symbols.iter().map(v2_symbol).collect();
            let id = self.next_req_id();
            serde_json::json!({"method": "subscribe", "params": {"channel": "trade", "symbol": syms, "snapshot": false}, "req_id": id})
                .to_string()
        }
    }

    fn url(&self) -> String {
        self.conn_url.clone().unwrap_or_else(|| self.ws_url.clone())
    }

    /// Resubscribe a book for a new snapshot (the lifecycle has been told
    /// why).
    fn resubscribe(&mut self, instrument: Instrument, out: &mut Output) {
        let url = self.url();
        let v1 = is_v1_url(&url);
        if let Some(b) = self.books.get_mut(&instrument) {
            b.native.clear();
        }
        let unsub = self.book_request("unsubscribe", &[instrument], v1);
        let sub = self.book_request("subscribe", &[instrument], v1);
        out.send(&url, unsub);
        out.send(&url, sub);
    }

    fn resync(&mut self, instrument: Instrument, reason: OutOfSyncReason, out: &mut Output) {
        self.lc.fail(instrument, reason, out);
        self.lc.resync(instrument, "resubscribing book", out);
        self.resubscribe(instrument, out);
    }

    /// Apply one book message, verify its checksum, emit the change.
    fn on_book_message(&mut self, m: BookMessage, received: Micros, out: &mut Output) {
        let instrument = m.instrument;
        let precision = self.precision.get(&instrument).copied();
        let default_depth = self.depth;
        let b = self.books.entry(instrument).or_insert_with(|| BookSync {
            native: TextBook::default(),
            depth: default_depth,
        });
        if let Some(url) = self.conn_url.as_deref() {
            self.lc.carried_by(instrument, url, out);
        }
        if let Some(d) = m.depth {
            b.depth = d;
        }
        if m.snapshot {
            b.native.clear();
            // A snapshot larger than the depth we thought we had tells the
            // real one (replays of recordings made at another depth).
            let n = m.bids.len().max(m.asks.len());
            if n > b.depth {
                b.depth = depth_for(n);
            }
        } else if !self.lc.is_live(&instrument) {
            return;
        }
        let mut bids = Vec::with_capacity(m.bids.len());
        let mut asks = Vec::with_capacity(m.asks.len());
        for (side, levels, changed) in [
            (BookSide::Bid, &m.bids, &mut bids),
            (BookSide::Ask, &m.asks, &mut asks),
        ] {
            for (p, q) in levels {
                match b.native.set_text(side, p, q) {
                    Some((p, q)) => changed.push(Level::new(p, q)),
                    None => {
                        parse_error(out, format!("{instrument}: bad level {p} {q}"));
                        return self.resync(
                            instrument,
                            OutOfSyncReason::Venue("unparsable level".into()),
                            out,
                        );
                    }
                }
            }
        }
        let (gone_bids, gone_asks) = b.native.truncate(b.depth);
        bids.extend(gone_bids.into_iter().map(|p| Level::new(p, Decimal::ZERO)));
        asks.extend(gone_asks.into_iter().map(|p| Level::new(p, Decimal::ZERO)));

        if let Some(expected) = m.checksum {
            let (ps, qs) = match precision {
                Some(p) => (Some(p.price), Some(p.qty)),
                None => (None, None),
            };
            let mut computed = kraken_checksum(&b.native, ps, qs);
            if computed != expected && precision.is_none() {
                // Without the pair's precision, numbers that lost trailing
                // zeros on the wire are padded to the widest seen.
                let (ps, qs) = observed_scales(&b.native);
                computed = kraken_checksum(&b.native, Some(ps), Some(qs));
            }
            if computed == expected {
                self.lc.checksum_ok(instrument, out);
            } else {
                self.lc.checksum_failed(instrument, expected, computed, out);
                return self.resubscribe(instrument, out);
            }
        }
        let (bids, asks) = if m.snapshot {
            let all = |side| {
                b.native
                    .iter(side)
                    .map(|(p, l)| Level::new(*p, l.size))
                    .collect()
            };
            (all(BookSide::Bid), all(BookSide::Ask))
        } else {
            (bids, asks)
        };
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: m.exchange_ts,
            received,
        };
        let applied = if m.snapshot {
            self.lc.snapshot(u, out)
        } else {
            self.lc.delta(u, out)
        };
        if applied == Applied::Rejected {
            self.resubscribe(instrument, out);
        }
    }

    // ---- v2 ----

    fn on_v2(&mut self, msg: V2Message, text: &str, received: Micros, out: &mut Output) {
        if let Some(method) = msg.method.as_deref() {
            return self.on_v2_response(method, &msg, out);
        }
        let Some(channel) = msg.channel.as_deref() else {
            return unknown(out, preview(text));
        };
        let data = msg.data;
        match channel {
            "heartbeat" | "status" => {}
            "book" => {
                let Some(data) = data else {
                    return parse_error(out, "book without data".into());
                };
                let books: Vec<V2Book> = match serde_json::from_str(data.get()) {
                    Ok(b) => b,
                    Err(e) => return parse_error(out, format!("book data: {e}")),
                };
                let snapshot = msg.kind.as_deref() == Some("snapshot");
                for book in &books {
                    let Some(instrument) = parse_symbol(&book.symbol) else {
                        parse_error(out, format!("book symbol {}", book.symbol));
                        continue;
                    };
                    let m = BookMessage {
                        instrument,
                        snapshot,
                        bids: v2_levels(&book.bids),
                        asks: v2_levels(&book.asks),
                        checksum: book.checksum,
                        exchange_ts: rfc3339_micros(book.timestamp.as_deref()),
                        depth: None,
                    };
                    self.on_book_message(m, received, out);
                }
            }
            "trade" => {
                // The optional snapshot holds past trades: not live flow.
                if msg.kind.as_deref() == Some("snapshot") {
                    return;
                }
                let Some(data) = data else {
                    return parse_error(out, "trade without data".into());
                };
                let trades: Vec<V2Trade> = match serde_json::from_str(data.get()) {
                    Ok(t) => t,
                    Err(e) => return parse_error(out, format!("trade data: {e}")),
                };
                for t in trades {
                    let side = match t.side.as_ref() {
                        "buy" => TakerSide::Buy,
                        "sell" => TakerSide::Sell,
                        other => {
                            parse_error(out, format!("trade side {other}"));
                            continue;
                        }
                    };
                    let (Some(instrument), Some(price), Some(size)) = (
                        parse_symbol(&t.symbol),
                        parse_decimal(raw_text(t.price)),
                        parse_decimal(raw_text(t.qty)),
                    ) else {
                        parse_error(out, format!("trade {}: bad fields", t.symbol));
                        continue;
                    };
                    out.trade(Trade {
                        venue: VENUE,
                        instrument,
                        price,
                        size,
                        side,
                        exchange_ts: rfc3339_micros(t.timestamp.as_deref()),
                        received,
                    });
                }
            }
            "instrument" => {
                let Some(data) = data else { return };
                match serde_json::from_str::<InstrumentData>(data.get()) {
                    Ok(d) => self.on_instrument_pairs(d, out),
                    Err(e) => parse_error(out, format!("instrument data: {e}")),
                }
            }
            other => unknown(out, format!("channel {other}")),
        }
    }

    fn on_v2_response(&mut self, method: &str, msg: &V2Message, out: &mut Output) {
        match method {
            "pong" | "unsubscribe" => {}
            "subscribe" if msg.success == Some(true) => {
                let Some(result) = msg.result else { return };
                if let Ok(r) = serde_json::from_str::<SubscribeResult>(result.get())
                    && r.channel == "book"
                    && let (Some(sym), Some(depth)) = (r.symbol, r.depth)
                    && let Some(i) = parse_symbol(&sym)
                    && let Some(b) = self.books.get_mut(&i)
                {
                    b.depth = depth;
                }
            }
            "subscribe" => {
                let why = msg.error.clone().unwrap_or_default();
                tracing::warn!(error = %why, "Kraken subscription failed");
                unknown(out, format!("subscribe failed: {why}"));
            }
            other => unknown(out, format!("method {other}")),
        }
    }

    fn on_instrument_pairs(&mut self, d: InstrumentData, out: &mut Output) {
        use rust_decimal::prelude::FromPrimitive;
        let mut list = Vec::new();
        for p in d.pairs {
            let Some(instrument) = parse_symbol(&p.symbol) else {
                continue;
            };
            self.precision.insert(
                instrument,
                Precision {
                    price: p.price_precision,
                    qty: p.qty_precision,
                },
            );
            list.push(InstrumentInfo {
                instrument,
                native: p.symbol,
                tick_size: p.price_increment.and_then(Decimal::from_f64),
                lot_size: p.qty_increment.and_then(Decimal::from_f64),
                contract_size: None,
            });
        }
        out.event(MarketEvent::Instruments { venue: VENUE, list });
    }

    // ---- v1 ----

    fn on_v1_event(&mut self, msg: &V2Message, out: &mut Output) {
        match msg.event.as_deref().unwrap_or_default() {
            "heartbeat" | "pong" | "systemStatus" => {}
            "subscriptionStatus" => match msg.status.as_deref() {
                Some("subscribed") => {
                    if let (Some(pair), Some(sub)) = (&msg.pair, &msg.subscription)
                        && sub.name == "book"
                        && let (Some(i), Some(d)) = (parse_symbol(pair), sub.depth)
                        && let Some(b) = self.books.get_mut(&i)
                    {
                        b.depth = d;
                    }
                }
                Some("unsubscribed") => {}
                _ => {
                    let why = msg.error_message.clone().unwrap_or_default();
                    tracing::warn!(error = %why, "Kraken subscription failed");
                    unknown(out, format!("subscription error: {why}"));
                }
            },
            other => unknown(out, format!("event {other}")),
        }
    }

    /// `[channelID, payload..., channelName, pair]`.
    fn on_v1_array(&mut self, text: &str, received: Micros, out: &mut Output) {
        let parts: Vec<&RawValue> = match serde_json::from_str(text) {
            Ok(p) => p,
            Err(e) => return parse_error(out, format!("{e}: {}", preview(text))),
        };
        let n = parts.len();
        if n < 4 {
            return parse_error(out, format!("short v1 array: {}", preview(text)));
        }
        let name = raw_text(parts[n - 2]).to_string();
        let pair = raw_text(parts[n - 1]);
        let Some(instrument) = parse_symbol(pair) else {
            return parse_error(out, format!("v1 pair {pair}"));
        };
        let payloads = &parts[1..n - 2];
        if let Some(depth) = name.strip_prefix("book-") {
            self.on_v1_book(instrument, depth.parse().ok(), payloads, received, out);
        } else if name == "trade" {
            self.on_v1_trades(instrument, payloads, received, out);
        } else {
            unknown(out, format!("v1 channel {name}"));
        }
    }

    fn on_v1_book(
        &mut self,
        instrument: Instrument,
        depth: Option<usize>,
        payloads: &[&RawValue],
        received: Micros,
        out: &mut Output,
    ) {
        #[derive(Deserialize)]
        struct V1Book<'a> {
            #[serde(borrow, default)]
            r#as: Option<Vec<Vec<&'a RawValue>>>,
            #[serde(borrow, default)]
            bs: Option<Vec<Vec<&'a RawValue>>>,
            #[serde(borrow, default)]
            a: Option<Vec<Vec<&'a RawValue>>>,
            #[serde(borrow, default)]
            b: Option<Vec<Vec<&'a RawValue>>>,
            #[serde(default)]
            c: Option<String>,
        }
        let mut books = Vec::with_capacity(payloads.len());
        for p in payloads {
            match serde_json::from_str::<V1Book>(p.get()) {
                Ok(b) => books.push(b),
                Err(e) => return parse_error(out, format!("v1 book: {e}")),
            }
        }
        let snapshot = books.iter().any(|b| b.r#as.is_some() || b.bs.is_some());
        let mut m = BookMessage {
            instrument,
            snapshot,
            bids: Vec::new(),
            asks: Vec::new(),
            checksum: None,
            exchange_ts: None,
            depth,
        };
        for book in &books {
            for (levels, side_is_bid) in [
                (book.r#as.as_ref().or(book.a.as_ref()), false),
                (book.bs.as_ref().or(book.b.as_ref()), true),
            ] {
                for l in levels.into_iter().flatten() {
                    let [p, q, rest @ ..] = l.as_slice() else {
                        return parse_error(out, format!("{instrument}: short v1 level"));
                    };
                    if let Some(ts) = rest.first().and_then(|t| v1_secs_micros(raw_text(t))) {
                        m.exchange_ts = Some(m.exchange_ts.map_or(ts, |x| x.max(ts)));
                    }
                    let lv = (raw_text(p), raw_text(q));
                    if side_is_bid {
                        m.bids.push(lv);
                    } else {
                        m.asks.push(lv);
                    }
                }
            }
            if let Some(c) = &book.c {
                match c.parse::<u32>() {
                    Ok(c) => m.checksum = Some(c),
                    Err(_) => return parse_error(out, format!("{instrument}: checksum {c}")),
                }
            }
        }
        self.on_book_message(m, received, out);
    }

    fn on_v1_trades(
        &mut self,
        instrument: Instrument,
        payloads: &[&RawValue],
        received: Micros,
        out: &mut Output,
    ) {
        for p in payloads {
            let rows: Vec<Vec<&RawValue>> = match serde_json::from_str(p.get()) {
                Ok(r) => r,
                Err(e) => return parse_error(out, format!("v1 trade: {e}")),
            };
            for row in rows {
                let [price, volume, time, side, ..] = row.as_slice() else {
                    parse_error(out, format!("{instrument}: short v1 trade"));
                    continue;
                };
                let side = match raw_text(side) {
                    "b" => TakerSide::Buy,
                    "s" => TakerSide::Sell,
                    other => {
                        parse_error(out, format!("v1 trade side {other}"));
                        continue;
                    }
                };
                let (Some(price), Some(size)) = (
                    parse_decimal(raw_text(price)),
                    parse_decimal(raw_text(volume)),
                ) else {
                    parse_error(out, format!("{instrument}: bad v1 trade"));
                    continue;
                };
                out.trade(Trade {
                    venue: VENUE,
                    instrument,
                    price,
                    size,
                    side,
                    exchange_ts: v1_secs_micros(raw_text(time)),
                    received,
                });
            }
        }
    }

    fn on_asset_pairs(&mut self, body: &str, out: &mut Output) {
        let pairs: AssetPairs = match serde_json::from_str(body) {
            Ok(p) => p,
            Err(e) => return parse_error(out, format!("AssetPairs: {e}")),
        };
        let mut list = Vec::new();
        for (key, p) in pairs.result {
            // `.d` pairs are dark-pool books with no public depth.
            if key.ends_with(".d") {
                continue;
            }
            let Some(instrument) = p.wsname.as_deref().and_then(parse_symbol) else {
                continue;
            };
            self.precision.insert(
                instrument,
                Precision {
                    price: p.pair_decimals,
                    qty: p.lot_decimals,
                },
            );
            list.push(InstrumentInfo {
                instrument,
                native: p.wsname.unwrap_or(key),
                tick_size: p.tick_size.as_deref().and_then(parse_decimal),
                lot_size: Some(Decimal::new(1, p.lot_decimals.min(28))),
                contract_size: None,
            });
        }
        out.event(MarketEvent::Instruments { venue: VENUE, list });
    }
}

impl Adapter for Kraken {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        vec![ConnSpec::new(
            self.ws_url.clone(),
            // Kraken sends a heartbeat about every second when quiet.
            Some(Duration::from_secs(15)),
            Some(Ping {
                every: Duration::from_secs(30),
                text: if is_v1_url(&self.ws_url) {
                    r#"{"event":"ping"}"#.to_string()
                } else {
                    r#"{"method":"ping"}"#.to_string()
                },
            }),
        )]
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        out.http_get(format!("{}/0/public/AssetPairs", self.rest_url));
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        self.conn_url = Some(url.to_string());
        let v1 = is_v1_url(url);
        for b in self.books.values_mut() {
            b.native.clear();
        }
        let mut books: Vec<Instrument> = self.books.keys().copied().collect();
        books.sort();
        for i in books {
            self.lc.subscribing(i, url, out);
        }
        let symbols: Vec<Instrument> = self.spot_instruments().copied().collect();
        if symbols.is_empty() {
            return;
        }
        if self.cfg.channels.book {
            let text = self.book_request("subscribe", &symbols, v1);
            out.send(url, text);
        }
        if self.cfg.channels.trades {
            let text = self.trade_request(&symbols, v1);
            out.send(url, text);
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        // Frames say which connection carries the books (also when the
        // opening was not seen, as in some recordings).
        if self.conn_url.as_deref() != Some(url) {
            self.conn_url = Some(url.to_string());
        }
        let trimmed = text.trim_start();
        if trimmed.starts_with('[') {
            return self.on_v1_array(trimmed, received, out);
        }
        let msg: V2Message = match serde_json::from_str(trimmed) {
            Ok(m) => m,
            Err(e) => return parse_error(out, format!("{e}: {}", preview(text))),
        };
        if msg.event.is_some() {
            return self.on_v1_event(&msg, out);
        }
        self.on_v2(msg, text, received, out);
    }

    fn on_http(&mut self, url: &str, body: &str, _received: Micros, out: &mut Output) {
        if url.contains("/0/public/AssetPairs") {
            self.on_asset_pairs(body, out);
        } else {
            unknown(out, format!("HTTP body for {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // Without precisions the checksum falls back to the digits seen.
        tracing::warn!(url, error, "Kraken REST request failed");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        for b in self.books.values_mut() {
            b.native.clear();
        }
        self.lc.closed(url, out);
    }

    fn lifecycle(&self) -> &Lifecycle {
        &self.lc
    }

    fn config(&self) -> &AdapterConfig {
        &self.cfg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_map_legacy_codes() {
        let i = parse_symbol("XBT/USD").unwrap();
        assert_eq!(i.to_string(), "BTC-USD");
        assert_eq!(v2_symbol(&i), "BTC/USD");
        assert_eq!(v1_symbol(&i), "XBT/USD");
        assert_eq!(parse_symbol("XDG/EUR").unwrap().to_string(), "DOGE-EUR");
        assert!(is_v1_url("wss://ws.kraken.com"));
        assert!(!is_v1_url("wss://ws.kraken.com/v2"));
        assert_eq!(depth_for(11), 25);
        assert_eq!(depth_for(5000), 1000);
    }

    #[test]
    fn v1_seconds_to_micros() {
        assert_eq!(
            v1_secs_micros("1582905486.493008"),
            Some(1_582_905_486_493_008)
        );
    }
}
