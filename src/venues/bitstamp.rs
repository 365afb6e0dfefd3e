//! Bitstamp WebSocket v2: `diff_order_book_{pair}` over a REST snapshot, and
//! `live_trades_{pair}`.
//!
//! Bitstamp has no sequence numbers. The documented way to build a book:
//! subscribe to the diff channel first and buffer, then fetch
//! `/api/v2/order_book/{pair}/`; drop buffered diffs whose `microtimestamp`
//! is at or before the snapshot's (microseconds, not the second-resolution
//! `timestamp`) and apply the rest. The snapshot is requested once the diff
//! subscription is confirmed, so no diff between the two can be missed.
//!
//! The shared snapshot + diff machine ([`crate::venues::buffered`]) does
//! the buffering, with `microtimestamp` as the update id and no continuity
//! rule beyond "newer than the snapshot". A snapshot that arrives while no
//! diff subscription is open — a recording made by a tool that fetched it
//! before connecting — is kept and applied to the first diffs of the next
//! subscription by the same rule (diffs newer than its `microtimestamp`);
//! one answered for a request made on a connection that has since closed
//! is discarded, since diffs between it and the new subscription are lost.

use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::checksum::{parse_decimal, raw_text};
use super::symbols::split_concatenated;
use super::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output, Ping};
use crate::model::{
    Instrument, InstrumentInfo, InstrumentKind, Level, MarketEvent, Micros, OutOfSyncReason,
    TakerSide, Trade, Venue,
};
use crate::venues::buffered::{self, BookSync, Diff, Effect, Rule, Snapshot};
use crate::venues::lifecycle::Lifecycle;

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

/// Bitstamp's rule over `microtimestamp`s: a diff at or before the
/// snapshot's time is in it; every later one applies, in order.
#[derive(Clone, Copy, Debug)]
struct ByTime;

impl Rule for ByTime {
    fn is_stale(&self, d: &Diff, id: u64) -> bool {
        d.last <= id
    }

    fn bridges(&self, d: &Diff, id: u64) -> bool {
        d.last > id
    }

    fn follows(&self, _d: &Diff, _last: u64) -> Result<(), (u64, u64)> {
        Ok(())
    }

    /// Timestamps cannot show that no diff was missed.
    fn proves_continuity(&self) -> bool {
        false
    }
}

struct PairState {
    instrument: Instrument,
    sync: BookSync<ByTime>,
}

impl PairState {
    fn new(instrument: Instrument) -> Self {
        PairState {
            instrument,
            sync: BookSync::new(ByTime),
        }
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
    lc: Lifecycle,
    fx: Vec<Effect>,
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
    out.parse_error(VENUE, None, detail);
}

fn unknown(out: &mut Output, detail: String) {
    out.unknown(VENUE, None, detail);
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
            lc: Lifecycle::new(VENUE),
            fx: Vec::new(),
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

    /// Carry out the machine's effects for `pair`.
    fn publish(&mut self, pair: &str, out: &mut Output) {
        let url = self.snapshot_url(pair);
        let Some(p) = self.pairs.get_mut(pair) else {
            return;
        };
        let mut fx = std::mem::take(&mut self.fx);
        buffered::publish(
            &mut p.sync,
            &mut self.lc,
            p.instrument,
            &mut fx,
            out,
            |_, out| out.http_get(url.clone()),
        );
        self.fx = fx;
    }

    fn request_snapshot(&mut self, pair: &str, now: Micros, out: &mut Output) {
        if let Some(p) = self.pairs.get_mut(pair)
            && !p.sync.has_pending()
        {
            p.sync.request_snapshot(now, &mut self.fx);
        }
        self.publish(pair, out);
    }

    fn pair_state(&mut self, pair: &str) -> Option<&mut PairState> {
        if !self.pairs.contains_key(pair) {
            let i = self.instrument_of(pair)?;
            self.pairs.insert(pair.to_string(), PairState::new(i));
        }
        self.pairs.get_mut(pair)
    }

    fn on_diff(
        &mut self,
        url: &str,
        pair: &str,
        data: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        let d: BookData = match serde_json::from_str(data.get()) {
            Ok(d) => d,
            Err(e) => return parse_error(out, format!("diff {pair}: {e}")),
        };
        let (Some(bids), Some(asks)) = (levels(&d.bids), levels(&d.asks)) else {
            return parse_error(out, format!("diff {pair}: bad level"));
        };
        let Some(micros) = micros_of(d.microtimestamp, d.timestamp) else {
            return parse_error(out, format!("diff {pair}: no microtimestamp"));
        };
        let mut fx = std::mem::take(&mut self.fx);
        let Some(p) = self.pair_state(pair) else {
            return unknown(out, format!("diff for unknown pair {pair}"));
        };
        let instrument = p.instrument;
        let id = u64::try_from(micros).unwrap_or(0);
        let diff = Diff {
            first: id,
            last: id,
            prev_last: None,
            bids,
            asks,
            exchange_ts: Some(micros),
            received,
        };
        p.sync.on_diff(diff, &mut fx);
        self.fx = fx;
        self.lc.carried_by(instrument, url, out);
        self.publish(pair, out);
    }

    fn on_snapshot(&mut self, pair: &str, body: &str, received: Micros, out: &mut Output) {
        let d: BookData = match serde_json::from_str(body) {
            Ok(d) => d,
            Err(e) => return parse_error(out, format!("order_book {pair}: {e}")),
        };
        let (Some(bids), Some(asks)) = (levels(&d.bids), levels(&d.asks)) else {
            return parse_error(out, format!("order_book {pair}: bad level"));
        };
        let Some(micros) = micros_of(d.microtimestamp, d.timestamp) else {
            return parse_error(out, format!("order_book {pair}: no microtimestamp"));
        };
        let mut fx = std::mem::take(&mut self.fx);
        let Some(p) = self.pair_state(pair) else {
            return unknown(out, format!("order book for unknown pair {pair}"));
        };
        let snap = Snapshot {
            last_update_id: u64::try_from(micros).unwrap_or(0),
            bids,
            asks,
            exchange_ts: Some(micros),
            received,
        };
        p.sync.on_snapshot(snap, &mut fx);
        self.fx = fx;
        self.publish(pair, out);
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
        let u = crate::venues::lifecycle::Update {
            instrument,
            bids,
            asks,
            seq: Default::default(),
            exchange_ts: micros_of(d.microtimestamp, d.timestamp),
            received,
        };
        // Each message is a whole book: a rejected one is replaced by the next.
        let _ = self.lc.snapshot(u, out);
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
        out.trade(Trade {
            venue: VENUE,
            instrument,
            price,
            size,
            side,
            exchange_ts: micros_of(t.microtimestamp, t.timestamp),
            received,
        });
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
                    contract_usd: None,
                });
            }
        }
        out.event(MarketEvent::Instruments { venue: VENUE, list });
    }
}

fn subscribe(channel: &str) -> String {
    serde_json::json!({"event": "bts:subscribe", "data": {"channel": channel}}).to_string()
}

impl Adapter for Bitstamp {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        vec![ConnSpec::new(
            self.ws_url.clone(),
            Some(Duration::from_secs(60)),
            Some(Ping {
                every: Duration::from_secs(20),
                text: r#"{"event":"bts:heartbeat"}"#.to_string(),
            }),
        )]
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        out.http_get(format!("{}/api/v2/trading-pairs-info/", self.rest_url));
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        let mut symbols: Vec<String> = self.pairs.keys().cloned().collect();
        symbols.sort();
        for s in symbols {
            // Diffs first: they are buffered while the snapshot is fetched.
            if self.cfg.channels.book
                && let Some(p) = self.pairs.get_mut(&s)
            {
                // A new stream: what was built on the old one is rebuilt;
                // its snapshot is asked for once the subscription is
                // confirmed.
                p.sync.open_without_request();
                let instrument = p.instrument;
                self.lc.subscribing(instrument, url, out);
                out.send(url, subscribe(&format!("diff_order_book_{s}")));
            }
            if self.cfg.channels.trades {
                out.send(url, subscribe(&format!("live_trades_{s}")));
            }
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let now = received;
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
                    self.on_diff(url, pair, data, received, out);
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
                    self.request_snapshot(pair, now, out);
                }
            }
            "bts:unsubscription_succeeded" | "bts:heartbeat" => {}
            "bts:request_reconnect" => {
                tracing::info!("Bitstamp asked for a reconnect");
                out.reconnect(url, "bts:request_reconnect");
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
        // The runtime retries the request; the book says why it waits.
        if let Some(pair) = order_book_pair(url)
            && let Some(p) = self.pairs.get(&pair.to_ascii_lowercase())
            && !self.lc.is_live(&p.instrument)
        {
            let why = OutOfSyncReason::Venue(format!("snapshot request failed: {error}"));
            self.lc.fail(p.instrument, why, out);
        }
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        for p in self.pairs.values_mut() {
            p.sync.close();
        }
        self.lc.closed(url, out);
    }

    fn lifecycle(&self) -> &Lifecycle {
        &self.lc
    }

    fn config(&self) -> &AdapterConfig {
        &self.cfg
    }

    /// `GET /api/v2/order_book/{pair}/`; Bitstamp allows 400 requests a
    /// second, and the full book is large: one a second.
    fn poll_depth(&self, instrument: &Instrument) -> Option<DepthPoll> {
        carries(instrument).ok()?;
        Some(DepthPoll {
            url: self.snapshot_url(&url_symbol(instrument)),
            post: None,
            every: Duration::from_secs(1),
        })
    }

    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output) {
        let d: BookData = match serde_json::from_str(body) {
            Ok(d) => d,
            Err(e) => return parse_error(out, format!("polled order_book: {e}")),
        };
        let (Some(bids), Some(asks)) = (levels(&d.bids), levels(&d.asks)) else {
            return parse_error(out, "polled order_book: bad level".to_string());
        };
        let u = crate::venues::lifecycle::Update {
            instrument,
            bids,
            asks,
            seq: Default::default(),
            exchange_ts: micros_of(d.microtimestamp, d.timestamp),
            received,
        };
        let _ = self.lc.polled(u, out);
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
