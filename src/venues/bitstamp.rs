//! Bitstamp WebSocket v2: `diff_order_book_{pair}` over a REST snapshot, and
//! `live_trades_{pair}`.
//!
//! Bitstamp has no sequence numbers. The documented way to build a book:
//! subscribe to the diff channel first and buffer, then fetch
//! `/api/v2/order_book/{pair}/`; drop buffered diffs whose `microtimestamp`
//! is at or before the snapshot's (microseconds, not the second-resolution
//! `timestamp`) and apply the rest. The snapshot is requested once the diff
//! subscription is confirmed, so no diff between the two can be missed.

use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::checksum::{parse_decimal, raw_text};
use super::symbols::split_concatenated;
use super::{Action, Adapter, AdapterConfig, ConnSpec, Output, Ping};
use crate::model::{
    BookState, BookUpdate, BookUpdateKind, Incident, Instrument, InstrumentInfo, InstrumentKind,
    Level, MarketEvent, Micros, OutOfSyncReason, SeqInfo, TakerSide, Trade, Venue,
};

pub const SPEC: VenueSpec = VenueSpec {
    name: "bitstamp",
    display_name: "Bitstamp",
    info: VenueInfo {
        markets: "spot",
        book: "diff_order_book over REST /api/v2/order_book snapshot",
        trades: "live_trades",
        liquidations: "none (spot only)",
        funding: "none (spot only)",
        integrity: "diffs after the snapshot's microtimestamp; no sequence numbers",
    },
    capture_names: &["BITSTAMP"],
    endpoints: &[
        Endpoint::ws("ws", "wss://ws.bitstamp.net", "diff order books and trades"),
        Endpoint::rest(
            "rest",
            "https://www.bitstamp.net",
            "order book snapshots and pairs",
        ),
    ],
    taker_fee_bps: bps(40, 0),
    colour: "#2fbf71",
    carries,
    default_listing: &["BTC-USD", "ETH-USD"],
    build: |cfg| Box::new(Bitstamp::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Diffs kept while a snapshot is on its way; past this the snapshot is
/// evidently not coming and a new one is requested.
const MAX_BUFFERED: usize = 5_000;

pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp => Err("bitstamp lists spot only"),
    }
}

/// `BTC-USD` → `btcusd`.
pub fn url_symbol(i: &Instrument) -> String {
    format!("{}{}", i.base, i.quote).to_ascii_lowercase()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Buffering diffs until the REST snapshot arrives.
    AwaitingSnapshot,
    Live,
}

/// One diff, kept while waiting for the snapshot.
struct Diff {
    micros: Option<Micros>,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

struct PairState {
    instrument: Instrument,
    phase: Phase,
    buffer: Vec<Diff>,
    snapshot_requested: bool,
    /// `microtimestamp` of the snapshot the book was built from.
    snapshot_micros: Option<Micros>,
}

impl PairState {
    fn new(instrument: Instrument) -> Self {
        PairState {
            instrument,
            phase: Phase::AwaitingSnapshot,
            buffer: Vec::new(),
            snapshot_requested: false,
            snapshot_micros: None,
        }
    }

    fn reset(&mut self) {
        self.phase = Phase::AwaitingSnapshot;
        self.buffer.clear();
        self.snapshot_requested = false;
        self.snapshot_micros = None;
    }
}

pub struct Bitstamp {
    cfg: AdapterConfig,
    ws_url: String,
    rest_url: String,
    /// By url symbol (`btcusd`).
    pairs: HashMap<String, PairState>,
    /// url symbol → instrument, from `trading-pairs-info`.
    names: HashMap<String, Instrument>,
}

// ---- wire types ---------------------------------------------------------------

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow, default)]
    channel: Cow<'a, str>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct BookData<'a> {
    #[serde(borrow, default)]
    microtimestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    bids: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    asks: Vec<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct TradeData<'a> {
    #[serde(borrow, default)]
    amount_str: Option<&'a RawValue>,
    #[serde(borrow, default)]
    price_str: Option<&'a RawValue>,
    #[serde(borrow, default)]
    amount: Option<&'a RawValue>,
    #[serde(borrow, default)]
    price: Option<&'a RawValue>,
    #[serde(rename = "type")]
    side: i64,
    #[serde(borrow, default)]
    microtimestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timestamp: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct PairInfo {
    name: String,
    url_symbol: String,
    #[serde(default)]
    trading: String,
    #[serde(default)]
    base_decimals: Option<u32>,
    #[serde(default)]
    counter_decimals: Option<u32>,
}

// ---- helpers ------------------------------------------------------------------

fn micros_of(micro: Option<&RawValue>, secs: Option<&RawValue>) -> Option<Micros> {
    if let Some(m) = micro.and_then(|m| raw_text(m).parse::<i64>().ok()) {
        return Some(m);
    }
    raw_text(secs?).parse::<i64>().ok()?.checked_mul(1_000_000)
}

fn levels(raw: &[Vec<&RawValue>]) -> Option<Vec<Level>> {
    raw.iter()
        .map(|l| match l.as_slice() {
            [p, s, ..] => Some(Level::new(
                parse_decimal(raw_text(p))?,
                parse_decimal(raw_text(s))?,
            )),
            _ => None,
        })
        .collect()
}

fn parse_error(out: &mut Output, detail: String) {
    tracing::warn!(detail = %detail, "Bitstamp parse error");
    out.incident(VENUE, None, Incident::ParseError, Some(detail));
}

fn unknown(out: &mut Output, detail: String) {
    tracing::debug!(detail = %detail, "Bitstamp unknown message");
    out.incident(VENUE, None, Incident::UnknownMessage, Some(detail));
}

/// The pair in `/api/v2/order_book/btcusd/?group=1`.
fn order_book_pair(url: &str) -> Option<&str> {
    let rest = url.split("/order_book/").nth(1)?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let pair = &rest[..end];
    (!pair.is_empty()).then_some(pair)
}

impl Bitstamp {
    pub fn new(cfg: AdapterConfig) -> Self {
        let ws_url = cfg.endpoint(&SPEC, "ws");
        let rest_url = cfg.endpoint(&SPEC, "rest");
        let pairs = cfg
            .instruments
            .iter()
            .filter(|i| carries(i).is_ok())
            .map(|i| (url_symbol(i), PairState::new(*i)))
            .collect();
        Bitstamp {
            cfg,
            ws_url,
            rest_url,
            pairs,
            names: HashMap::new(),
        }
    }

    fn instrument_of(&self, pair: &str) -> Option<Instrument> {
        if let Some(p) = self.pairs.get(pair) {
            return Some(p.instrument);
        }
        self.names
            .get(pair)
            .copied()
            .or_else(|| split_concatenated(pair, InstrumentKind::Spot))
    }

    fn snapshot_url(&self, pair: &str) -> String {
        format!("{}/api/v2/order_book/{pair}/", self.rest_url)
    }

    fn request_snapshot(&mut self, pair: &str, out: &mut Output) {
        let url = self.snapshot_url(pair);
        if let Some(p) = self.pairs.get_mut(pair)
            && !p.snapshot_requested
        {
            p.snapshot_requested = true;
            out.http_get(url);
        }
    }

    fn pair_state(&mut self, pair: &str) -> Option<&mut PairState> {
        if !self.pairs.contains_key(pair) {
            let i = self.instrument_of(pair)?;
            self.pairs.insert(pair.to_string(), PairState::new(i));
        }
        self.pairs.get_mut(pair)
    }

    fn on_diff(&mut self, pair: &str, data: &RawValue, received: Micros, out: &mut Output) {
        let d: BookData = match serde_json::from_str(data.get()) {
            Ok(d) => d,
            Err(e) => return parse_error(out, format!("diff {pair}: {e}")),
        };
        let (Some(bids), Some(asks)) = (levels(&d.bids), levels(&d.asks)) else {
            return parse_error(out, format!("diff {pair}: bad level"));
        };
        let micros = micros_of(d.microtimestamp, d.timestamp);
        let Some(p) = self.pair_state(pair) else {
            return unknown(out, format!("diff for unknown pair {pair}"));
        };
        let instrument = p.instrument;
        match p.phase {
            Phase::AwaitingSnapshot => {
                if p.buffer.len() >= MAX_BUFFERED {
                    p.buffer.clear();
                    p.snapshot_requested = false;
                    tracing::warn!(pair, "Bitstamp snapshot overdue: requesting again");
                    out.incident(
                        VENUE,
                        Some(instrument),
                        Incident::Resync,
                        Some("snapshot overdue".to_string()),
                    );
                }
                p.buffer.push(Diff { micros, bids, asks });
                // Normally requested on the subscription ack; a diff proves
                // the subscription too.
                self.request_snapshot(pair, out);
            }
            Phase::Live => {
                if let (Some(m), Some(s)) = (micros, p.snapshot_micros)
                    && m <= s
                {
                    return;
                }
                out.event(delta(instrument, bids, asks, micros, received));
            }
        }
    }

    fn on_snapshot(&mut self, pair: &str, body: &str, received: Micros, out: &mut Output) {
        let d: BookData = match serde_json::from_str(body) {
            Ok(d) => d,
            Err(e) => return parse_error(out, format!("order_book {pair}: {e}")),
        };
        let (Some(bids), Some(asks)) = (levels(&d.bids), levels(&d.asks)) else {
            return parse_error(out, format!("order_book {pair}: bad level"));
        };
        let snap_micros = micros_of(d.microtimestamp, d.timestamp);
        let Some(p) = self.pair_state(pair) else {
            return unknown(out, format!("order book for unknown pair {pair}"));
        };
        let instrument = p.instrument;
        out.event(MarketEvent::Book(BookUpdate {
            venue: VENUE,
            instrument,
            kind: BookUpdateKind::Snapshot,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: snap_micros,
            received,
        }));
        p.phase = Phase::Live;
        p.snapshot_requested = false;
        p.snapshot_micros = snap_micros;
        for diff in p.buffer.drain(..) {
            let newer = match (diff.micros, snap_micros) {
                (Some(m), Some(s)) => m > s,
                _ => true,
            };
            if newer {
                out.event(delta(
                    instrument,
                    diff.bids,
                    diff.asks,
                    diff.micros,
                    received,
                ));
            }
        }
    }

    /// `order_book_{pair}`: a full top-of-book snapshot per message.
    fn on_full_book(&mut self, pair: &str, data: &RawValue, received: Micros, out: &mut Output) {
        let d: BookData = match serde_json::from_str(data.get()) {
            Ok(d) => d,
            Err(e) => return parse_error(out, format!("order_book {pair}: {e}")),
        };
        let (Some(bids), Some(asks)) = (levels(&d.bids), levels(&d.asks)) else {
            return parse_error(out, format!("order_book {pair}: bad level"));
        };
        let Some(instrument) = self.instrument_of(pair) else {
            return unknown(out, format!("order book for unknown pair {pair}"));
        };
        out.event(MarketEvent::Book(BookUpdate {
            venue: VENUE,
            instrument,
            kind: BookUpdateKind::Snapshot,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: micros_of(d.microtimestamp, d.timestamp),
            received,
        }));
    }

    fn on_trade(&mut self, pair: &str, data: &RawValue, received: Micros, out: &mut Output) {
        let t: TradeData = match serde_json::from_str(data.get()) {
            Ok(t) => t,
            Err(e) => return parse_error(out, format!("trade {pair}: {e}")),
        };
        let price = t
            .price_str
            .or(t.price)
            .map(raw_text)
            .and_then(parse_decimal);
        let size = t
            .amount_str
            .or(t.amount)
            .map(raw_text)
            .and_then(parse_decimal);
        let (Some(price), Some(size)) = (price, size) else {
            return parse_error(out, format!("trade {pair}: no price/amount"));
        };
        let side = match t.side {
            0 => TakerSide::Buy,
            1 => TakerSide::Sell,
            other => return parse_error(out, format!("trade {pair}: type {other}")),
        };
        let Some(instrument) = self.instrument_of(pair) else {
            return unknown(out, format!("trade for unknown pair {pair}"));
        };
        out.event(MarketEvent::Trade(Trade {
            venue: VENUE,
            instrument,
            price,
            size,
            side,
            exchange_ts: micros_of(t.microtimestamp, t.timestamp),
            received,
        }));
    }

    fn on_pairs_info(&mut self, body: &str, out: &mut Output) {
        let rows: Vec<PairInfo> = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("trading-pairs-info: {e}")),
        };
        let mut list = Vec::new();
        for r in rows {
            let Some((b, q)) = r.name.split_once('/') else {
                continue;
            };
            let Ok(instrument) = Instrument::spot(b, q) else {
                continue;
            };
            self.names.insert(r.url_symbol.clone(), instrument);
            if r.trading.is_empty() || r.trading.eq_ignore_ascii_case("enabled") {
                list.push(InstrumentInfo {
                    instrument,
                    native: r.url_symbol,
                    tick_size: r.counter_decimals.map(|d| Decimal::new(1, d.min(28))),
                    lot_size: r.base_decimals.map(|d| Decimal::new(1, d.min(28))),
                    contract_size: None,
                });
            }
        }
        out.event(MarketEvent::Instruments { venue: VENUE, list });
    }
}

fn delta(
    instrument: Instrument,
    bids: Vec<Level>,
    asks: Vec<Level>,
    ts: Option<Micros>,
    received: Micros,
) -> MarketEvent {
    MarketEvent::Book(BookUpdate {
        venue: VENUE,
        instrument,
        kind: BookUpdateKind::Delta,
        bids,
        asks,
        seq: SeqInfo::default(),
        exchange_ts: ts,
        received,
    })
}

fn subscribe(channel: &str) -> String {
    serde_json::json!({"event": "bts:subscribe", "data": {"channel": channel}}).to_string()
}

impl Adapter for Bitstamp {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        vec![ConnSpec {
            url: self.ws_url.clone(),
            idle_timeout: Some(Duration::from_secs(60)),
            ping: Some(Ping {
                every: Duration::from_secs(20),
                text: r#"{"event":"bts:heartbeat"}"#.to_string(),
            }),
        }]
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        out.http_get(format!("{}/api/v2/trading-pairs-info/", self.rest_url));
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        let mut symbols: Vec<String> = self.pairs.keys().cloned().collect();
        symbols.sort();
        for p in self.pairs.values_mut() {
            p.reset();
        }
        for s in symbols {
            // Diffs first: they are buffered while the snapshot is fetched.
            if self.cfg.channels.book {
                out.send(url, subscribe(&format!("diff_order_book_{s}")));
            }
            if self.cfg.channels.trades {
                out.send(url, subscribe(&format!("live_trades_{s}")));
            }
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let m: Message = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                return parse_error(
                    out,
                    format!("{e}: {}", text.chars().take(120).collect::<String>()),
                );
            }
        };
        let channel = m.channel.as_ref();
        match m.event.as_ref() {
            "data" => {
                let Some(data) = m.data else {
                    return parse_error(out, format!("{channel}: no data"));
                };
                if let Some(pair) = channel.strip_prefix("diff_order_book_") {
                    self.on_diff(pair, data, received, out);
                } else if let Some(pair) = channel.strip_prefix("order_book_") {
                    self.on_full_book(pair, data, received, out);
                } else {
                    unknown(out, format!("data on {channel}"));
                }
            }
            "trade" => {
                let (Some(pair), Some(data)) = (channel.strip_prefix("live_trades_"), m.data)
                else {
                    return unknown(out, format!("trade on {channel}"));
                };
                self.on_trade(pair, data, received, out);
            }
            "bts:subscription_succeeded" => {
                if let Some(pair) = channel.strip_prefix("diff_order_book_") {
                    self.request_snapshot(pair, out);
                }
            }
            "bts:unsubscription_succeeded" | "bts:heartbeat" => {}
            "bts:request_reconnect" => {
                tracing::info!("Bitstamp asked for a reconnect");
                out.actions.push(Action::Reconnect {
                    url: url.to_string(),
                    reason: "bts:request_reconnect".to_string(),
                });
            }
            "bts:error" => {
                let detail = m.data.map(|d| d.get().to_string()).unwrap_or_default();
                tracing::warn!(detail = %detail, "Bitstamp error");
                unknown(out, format!("bts:error {detail}"));
            }
            other => unknown(out, format!("event {other} on {channel}")),
        }
    }

    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        if url.contains("/trading-pairs-info") {
            self.on_pairs_info(body, out);
        } else if let Some(pair) = order_book_pair(url) {
            let pair = pair.to_ascii_lowercase();
            self.on_snapshot(&pair, body, received, out);
        } else {
            unknown(out, format!("HTTP body for {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, out: &mut Output) {
        tracing::warn!(url, error, "Bitstamp REST request failed");
        // A failed snapshot is asked for again on the next diff.
        if let Some(pair) = order_book_pair(url)
            && let Some(p) = self.pairs.get_mut(&pair.to_ascii_lowercase())
        {
            p.snapshot_requested = false;
            out.incident(
                VENUE,
                Some(p.instrument),
                Incident::Resync,
                Some(format!("snapshot request failed: {error}")),
            );
        }
    }

    fn on_close(&mut self, _url: &str, _now: Micros, out: &mut Output) {
        for p in self.pairs.values_mut() {
            if p.phase == Phase::Live {
                out.event(MarketEvent::BookState {
                    venue: VENUE,
                    instrument: p.instrument,
                    state: BookState::OutOfSync(OutOfSyncReason::Disconnected),
                });
            }
            p.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_names() {
        let i: Instrument = "BTC-USD".parse().unwrap();
        assert_eq!(url_symbol(&i), "btcusd");
        assert_eq!(
            order_book_pair("https://www.bitstamp.net/api/v2/order_book/btcusd/"),
            Some("btcusd")
        );
        assert_eq!(
            order_book_pair("https://x/api/v2/order_book/ethusd?group=1"),
            Some("ethusd")
        );
        assert_eq!(order_book_pair("https://x/api/v2/ticker/"), None);
    }
}
