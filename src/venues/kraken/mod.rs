//! Kraken spot WebSocket v2 (`wss://ws.kraken.com/v2`): `book` and `trade`;
//! the frozen v1 protocol (`wss://ws.kraken.com`, array frames) is read too,
//! so older recordings replay. Kraken Futures perpetuals are [`futures`],
//! on their own connection (`wss://futures.kraken.com/ws/v1`, replayed
//! under the capture name `KRAKEN_FUTURES`); one adapter serves both,
//! telling connections apart by URL.
//!
//! Naming: the inverse `PI_XBTUSD` (USD contracts, coin-margined) is
//! `BTC-USD-PERP`, like the other venues' inverse perpetuals; the linear
//! multi-collateral `PF_XBTUSD` (coin quantities, USD-quoted and settled)
//! is `BTC-USDMC-PERP`, so the two never share a book. `USDMC` is US
//! dollars for USD valuations; put it in a quote group with `USD` to
//! compare it with USD books.
//!
//! Spot: Kraken has no sequence numbers: the book is guarded by a CRC32 over the top
//! 10 levels of each side, computed from the decimal text (v2 prices and
//! quantities are JSON numbers: their literal text is read as-is through
//! `RawValue`, and padded to the pair's precision from `AssetPairs` or the
//! `instrument` channel when it lacks trailing zeros). After each message the
//! book is cut to the subscribed depth: Kraken never deletes levels that fall
//! out of it. A mismatch marks the book out of sync and resubscribes.

mod futures;
mod poll;
mod sync;
#[cfg(test)]
mod tests;
mod v1;
mod v2;
mod wire;

use crate::model::InstrumentKind;
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use std::collections::HashMap;
use std::time::Duration;

use rust_decimal::Decimal;

use super::checksum::{TextBook, parse_decimal};
use super::parse::preview;
use super::{Adapter, AdapterConfig, ConnSpec, Output, Ping};
use crate::model::{Instrument, InstrumentInfo, MarketEvent, Micros, Venue};

use crate::venues::lifecycle::Lifecycle;
pub use futures::{parse_product, product_id};

use sync::{BookSync, Precision};
use wire::{AssetPairs, V2Message};

pub const SPEC: VenueSpec = VenueSpec {
    name: "kraken",
    display_name: "Kraken",
    info: VenueInfo {
        markets: "spot; Kraken Futures perpetuals (PI_XBTUSD inverse as BTC-USD-PERP, PF_XBTUSD multi-collateral as BTC-USDMC-PERP)",
        book: "spot book v2: snapshot + updates, depth 10 (25/100/500/1000 configurable); futures book: snapshot + one-level updates",
        trades: "spot trade; futures trade (taker side)",
        liquidations: "futures trades of type liquidation (perpetuals)",
        funding: "futures ticker (hourly relative funding rate and prediction, next funding, open interest, mark, index)",
        integrity: "spot: CRC32 of top 10 per side on every message, truncation to depth; futures: seq +1 per product, gap → resubscribe",
    },
    capture_names: &["KRAKEN", "KRAKEN_FUTURES"],
    endpoints: &[
        Endpoint::ws("ws", "wss://ws.kraken.com/v2", "spot WebSocket v2"),
        Endpoint::rest("rest", "https://api.kraken.com", "asset pairs"),
        Endpoint::ws(
            "futures_ws",
            "wss://futures.kraken.com/ws/v1",
            "Kraken Futures WebSocket (perpetuals)",
        ),
        Endpoint::rest(
            "futures_rest",
            "https://futures.kraken.com",
            "Kraken Futures instruments and order books",
        ),
    ],
    taker_fee_bps: bps(40, 0),
    colour: "#8d6bff",
    carries,
    default_listing: &[
        "BTC-USD",
        "ETH-USD",
        "BTC-USDT",
        "ETH-USDT",
        "BTC-USD-PERP",
        "ETH-USD-PERP",
    ],
    build: |cfg| Box::new(Kraken::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

pub const DEPTHS: [usize; 5] = [10, 25, 100, 500, 1000];

/// Spot pairs, and the Kraken Futures perpetuals: inverse against USD
/// (`PI_`) and multi-collateral linear (`PF_`, named `BASE-USDMC-PERP`).
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if matches!(instrument.quote.as_str(), "USD" | "USDMC") => Ok(()),
        InstrumentKind::Perp => Err(
            "kraken lists perpetuals against USD (inverse PI_) and multi-collateral USD (PF_, named BASE-USDMC-PERP) only",
        ),
    }
}

/// A spot instrument the spot connection carries.
fn is_spot(instrument: &Instrument) -> bool {
    instrument.kind == InstrumentKind::Spot
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

pub struct Kraken {
    cfg: AdapterConfig,
    ws_url: String,
    rest_url: String,
    depth: usize,
    conn_url: Option<String>,
    books: HashMap<Instrument, BookSync>,
    precision: HashMap<Instrument, Precision>,
    req_id: u64,
    /// The spot list (AssetPairs or the v2 `instrument` channel), published
    /// with the futures list.
    spot_list: Vec<InstrumentInfo>,
    fut: futures::State,
    lc: Lifecycle,
}

fn parse_error(out: &mut Output, detail: String) {
    out.parse_error(VENUE, None, detail);
}

fn unknown(out: &mut Output, detail: String) {
    out.unknown(VENUE, None, detail);
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
        let fut = futures::State::new(
            cfg.endpoint(&SPEC, "futures_ws"),
            cfg.endpoint(&SPEC, "futures_rest"),
        );
        let books = if cfg.channels.book {
            cfg.instruments
                .iter()
                .filter(|i| is_spot(i))
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
            spot_list: Vec::new(),
            fut,
            lc: Lifecycle::new(VENUE),
        }
    }

    fn spot_instruments(&self) -> impl Iterator<Item = &Instrument> {
        self.cfg.instruments.iter().filter(|i| is_spot(i))
    }

    /// Whether a spot connection is wanted: spot instruments, or nothing
    /// configured at all (as before futures were carried).
    fn wants_spot(&self) -> bool {
        self.spot_instruments().next().is_some() || !self.has_futures()
    }

    /// The spot and futures lists, as one venue list.
    fn publish_instruments(&self, out: &mut Output) {
        let list = self
            .spot_list
            .iter()
            .chain(self.fut.list.iter())
            .cloned()
            .collect();
        out.event(MarketEvent::Instruments { venue: VENUE, list });
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
                contract_usd: None,
            });
        }
        self.spot_list = list;
        self.publish_instruments(out);
    }
}

impl Adapter for Kraken {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        let mut conns = Vec::new();
        if self.wants_spot() {
            conns.push(ConnSpec::new(
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
            ));
        }
        if self.has_futures() {
            conns.push(self.futures_connection());
        }
        conns
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        if self.wants_spot() {
            out.http_get(format!("{}/0/public/AssetPairs", self.rest_url));
        }
        if self.has_futures() {
            out.http_get(self.fut.instruments_url());
        }
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        if self.fut.is_futures_url(url) {
            return self.on_futures_open(url, out);
        }
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
        if self.fut.is_futures_url(url) {
            return self.on_futures_text(url, text, received, out);
        }
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

    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        if url.contains("/derivatives/api/v3/instruments") {
            self.on_futures_instruments(body, received, out);
        } else if url.contains("/0/public/AssetPairs") {
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
        if self.fut.is_futures_url(url) {
            return self.on_futures_close(url, out);
        }
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

    fn poll_depth(&self, instrument: &Instrument) -> Option<crate::venues::DepthPoll> {
        carries(instrument).ok()?;
        if instrument.is_perp() {
            return self.futures_poll_request(instrument);
        }
        Some(self.poll_request(instrument))
    }

    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output) {
        if instrument.is_perp() {
            return self.futures_polled(instrument, body, received, out);
        }
        self.polled(instrument, body, received, out);
    }
}
