//! Gemini v2 market data (spot and perpetuals).
//!
//! One connection (`ws`) subscribed with
//! `{"type":"subscribe","subscriptions":[{"name":"l2","symbols":[..]}]}`.
//! The first `l2_updates` per symbol after subscribing is the whole book;
//! later ones carry absolute sizes per price (`0` removes). v2 messages have
//! no sequence numbers, so a book is trusted from its initial message until
//! the connection closes; after a reconnect the new initial message rebuilds
//! it. Trades come from `trade` messages and the recent-trades list inside
//! the initial `l2_updates`; `side` is the taker side.
//!
//! Symbols: `BTCUSD` → `BTC-USD`; perpetuals `BTCUSDCPERP`/`BTCGUSDPERP` →
//! `BTC-USDC-PERP`/`BTC-GUSD-PERP`. Base and quote come from
//! `/v1/symbols/details/{sym}` when fetched, else from the symbol's shape.

mod wire;

#[cfg(test)]
mod tests;

use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use crate::model::{
    Instrument, InstrumentInfo, InstrumentKind, Level, MarketEvent, Micros, SeqInfo, TakerSide,
    Trade, Venue,
};
use crate::venues::lifecycle::{Applied, Lifecycle, Update};
use crate::venues::parse::ms_to_micros;
use crate::venues::symbols::split_concatenated;
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output};

use wire::{Envelope, L2Updates, SymbolDetails, TradeData, raw_decimal};

pub const SPEC: VenueSpec = VenueSpec {
    name: "gemini",
    display_name: "Gemini",
    info: VenueInfo {
        markets: "spot; perpetuals (USDC/GUSD margined)",
        book: "v2 l2 over WebSocket (initial full book + absolute updates)",
        trades: "trade messages and l2 trades (taker side)",
        liquidations: "none",
        funding: "none",
        integrity: "no sequence numbers: books rebuilt from the initial message on every connect",
    },
    capture_names: &["GEMINI"],
    endpoints: &[
        Endpoint::ws("ws", "wss://api.gemini.com/v2/marketdata", "v2 market data"),
        Endpoint::rest("rest", "https://api.gemini.com", "symbol details"),
    ],
    taker_fee_bps: bps(40, 0),
    colour: "#00c2d1",
    carries,
    default_listing: &["BTC-USD", "ETH-USD"],
    build: |cfg| Box::new(Gemini::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Gemini sends a heartbeat every 5 s.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Gemini lists spot pairs and perpetuals.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if matches!(instrument.quote.as_str(), "USDC" | "GUSD") => Ok(()),
        InstrumentKind::Perp => Err("gemini lists perpetuals against USDC and GUSD only"),
    }
}

/// `BTC-USD` → `BTCUSD`, `BTC-USDC-PERP` → `BTCUSDCPERP`.
fn native_symbol(inst: &Instrument) -> String {
    match inst.kind {
        InstrumentKind::Spot => format!("{}{}", inst.base, inst.quote),
        InstrumentKind::Perp => format!("{}{}PERP", inst.base, inst.quote),
    }
}

/// The instrument a native symbol names by its shape alone.
fn instrument_from_shape(native: &str) -> Option<Instrument> {
    let upper = native.to_ascii_uppercase();
    match upper.strip_suffix("PERP") {
        Some(pair) => split_concatenated(pair, InstrumentKind::Perp),
        None => split_concatenated(&upper, InstrumentKind::Spot),
    }
}

pub struct Gemini {
    cfg: AdapterConfig,
    /// Upper-case native symbol → listing (details where fetched).
    listing: BTreeMap<String, InstrumentInfo>,
    lc: Lifecycle,
    /// Connections asked to reconnect: their book messages are ignored
    /// until they reopen (a message after a rejected one is not a full
    /// book, though it would be the first one seen).
    doomed: HashSet<String>,
}

impl Gemini {
    pub fn new(cfg: AdapterConfig) -> Self {
        Gemini {
            cfg,
            listing: BTreeMap::new(),
            lc: Lifecycle::new(VENUE),
            doomed: HashSet::new(),
        }
    }

    fn rest(&self) -> String {
        self.cfg.endpoint(&SPEC, "rest")
    }

    fn natives(&self) -> Vec<String> {
        self.cfg.instruments.iter().map(native_symbol).collect()
    }

    fn resolve(&self, native: &str) -> Option<Instrument> {
        match self.listing.get(native) {
            Some(info) => Some(info.instrument),
            None if native.bytes().any(|b| b.is_ascii_lowercase()) => {
                self.resolve(&native.to_ascii_uppercase())
            }
            None => instrument_from_shape(native),
        }
    }

    fn parse_error(&self, out: &mut Output, detail: String) {
        out.parse_error(VENUE, None, detail);
    }

    fn unknown(&self, out: &mut Output, detail: String) {
        out.unknown(VENUE, None, detail);
    }

    fn on_l2(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let msg: L2Updates = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => return self.parse_error(out, format!("l2_updates: {e}")),
        };
        let Some(instrument) = self.resolve(&msg.symbol) else {
            return self.unknown(out, format!("l2_updates for symbol {}", msg.symbol));
        };
        let mut bids = Vec::new();
        let mut asks = Vec::new();
        for (side, price, size) in &msg.changes {
            let level = Level::new(*price, *size);
            match side.as_str() {
                "buy" => bids.push(level),
                "sell" => asks.push(level),
                other => return self.parse_error(out, format!("l2 change side {other:?}")),
            }
        }
        if self.doomed.contains(url) {
            return;
        }
        // The first message per symbol on a connection is the full book.
        let delta = self.lc.is_live(&instrument) && self.lc.conn(&instrument) == Some(url);
        self.lc.carried_by(instrument, url, out);
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: None,
            received,
        };
        let applied = if delta {
            self.lc.delta(u, out)
        } else {
            self.lc.snapshot(u, out)
        };
        if applied == Applied::Rejected {
            // No sequence to resume from: a new connection brings new books.
            self.lc
                .resync(instrument, "reconnecting after invalid data", out);
            self.doomed.insert(url.to_string());
            return out.reconnect(url, format!("{instrument}: invalid book data"));
        }
        // The first message of a subscription carries recent history, not
        // live flow: emitting it would count old trades as happening now.
        if delta {
            for t in msg.trades {
                self.trade(t, received, out);
            }
        }
    }

    fn trade(&self, t: TradeData, received: Micros, out: &mut Output) {
        let Some(instrument) = self.resolve(&t.symbol) else {
            return self.unknown(out, format!("trade for symbol {}", t.symbol));
        };
        let side = match t.side.as_str() {
            "buy" => TakerSide::Buy,
            "sell" => TakerSide::Sell,
            other => return self.parse_error(out, format!("trade side {other:?}")),
        };
        out.trade(Trade {
            venue: VENUE,
            instrument,
            price: t.price,
            size: t.quantity,
            side,
            exchange_ts: t.timestamp.and_then(ms_to_micros),
            received,
        });
    }

    /// `/v1/symbols`: every listed symbol, named by shape until its details
    /// arrive; details are fetched for the symbols we subscribe to.
    fn on_symbols(&mut self, body: &str, out: &mut Output) {
        let symbols: Vec<String> = match serde_json::from_str(body) {
            Ok(s) => s,
            Err(e) => return self.parse_error(out, format!("symbols list: {e}")),
        };
        for s in &symbols {
            let upper = s.to_ascii_uppercase();
            if self.listing.contains_key(&upper) {
                continue;
            }
            if let Some(instrument) = instrument_from_shape(&upper) {
                self.listing.insert(
                    upper.clone(),
                    InstrumentInfo {
                        instrument,
                        native: upper,
                        tick_size: None,
                        lot_size: None,
                        contract_size: None,
                        contract_usd: None,
                    },
                );
            }
        }
        let wanted = self.natives();
        let rest = self.rest();
        for s in symbols {
            if wanted.iter().any(|w| w.eq_ignore_ascii_case(&s)) {
                out.http_get(format!(
                    "{rest}/v1/symbols/details/{}",
                    s.to_ascii_lowercase()
                ));
            }
        }
        self.publish_listing(out);
    }

    fn on_details(&mut self, body: &str, out: &mut Output) {
        let d: SymbolDetails<'_> = match serde_json::from_str(body) {
            Ok(d) => d,
            Err(e) => return self.parse_error(out, format!("symbol details: {e}")),
        };
        let native = d.symbol.to_ascii_uppercase();
        if d.status.as_deref() == Some("closed") {
            self.listing.remove(&native);
            return self.publish_listing(out);
        }
        let perp = d.product_type.as_deref() == Some("swap") || native.ends_with("PERP");
        let from_fields = match (&d.base_currency, &d.quote_currency) {
            (Some(b), Some(q)) if perp => Instrument::perp(b, q).ok(),
            (Some(b), Some(q)) => Instrument::spot(b, q).ok(),
            _ => None,
        };
        let Some(instrument) = from_fields.or_else(|| instrument_from_shape(&native)) else {
            return self.unknown(out, format!("symbol details for {native}"));
        };
        self.listing.insert(
            native.clone(),
            InstrumentInfo {
                instrument,
                native,
                tick_size: raw_decimal(d.quote_increment),
                lot_size: raw_decimal(d.tick_size),
                contract_size: None,
                contract_usd: None,
            },
        );
        self.publish_listing(out);
    }

    fn publish_listing(&self, out: &mut Output) {
        out.event(MarketEvent::Instruments {
            venue: VENUE,
            list: self.listing.values().cloned().collect(),
        });
    }
}

impl Adapter for Gemini {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        if self.cfg.instruments.is_empty() || !(self.cfg.channels.book || self.cfg.channels.trades)
        {
            return Vec::new();
        }
        vec![ConnSpec::new(
            self.cfg.endpoint(&SPEC, "ws"),
            Some(IDLE_TIMEOUT),
            None,
        )]
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        out.http_get(format!("{}/v1/symbols", self.rest()));
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        // Whatever was live on this URL is stale until its initial message.
        self.doomed.remove(url);
        if self.cfg.channels.book {
            let mut books: Vec<Instrument> = self
                .natives()
                .iter()
                .filter_map(|n| self.resolve(n))
                .collect();
            books.sort();
            for i in books {
                self.lc.subscribing(i, url, out);
            }
        }
        let symbols = self.natives();
        if symbols.is_empty() {
            return;
        }
        // `l2` carries trades too, so it serves a trades-only configuration.
        let msg = serde_json::json!({
            "type": "subscribe",
            "subscriptions": [{ "name": "l2", "symbols": symbols }],
        });
        out.send(url, msg.to_string());
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let env: Envelope<'_> = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => return self.parse_error(out, format!("not a Gemini message: {e}")),
        };
        match env.kind.as_deref() {
            Some("l2_updates") => self.on_l2(url, text, received, out),
            Some("trade") => match serde_json::from_str::<TradeData>(text) {
                Ok(t) => self.trade(t, received, out),
                Err(e) => self.parse_error(out, format!("trade: {e}")),
            },
            Some("heartbeat") => {}
            Some(other) => self.unknown(out, format!("message type {other}")),
            None if env.result.as_deref() == Some("error") => {
                let msg = env.message.as_deref().unwrap_or("");
                tracing::warn!(venue = "gemini", url, "venue error: {msg}");
                self.unknown(out, format!("error: {msg}"));
            }
            None => self.unknown(out, "message without type".into()),
        }
    }

    fn on_http(&mut self, url: &str, body: &str, _received: Micros, out: &mut Output) {
        let path = url.split('?').next().unwrap_or(url).trim_end_matches('/');
        if path.contains("/v1/symbols/details/") {
            self.on_details(body, out);
        } else if path.ends_with("/v1/symbols") {
            self.on_symbols(body, out);
        } else {
            self.unknown(out, format!("REST body from {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // Symbols resolve by shape without details; nothing waits on them.
        tracing::warn!(venue = "gemini", url, "REST request failed: {error}");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        self.lc.closed(url, out);
    }

    fn lifecycle(&self) -> &Lifecycle {
        &self.lc
    }

    fn config(&self) -> &AdapterConfig {
        &self.cfg
    }

    /// `GET /v1/book/{symbol}`, 100 levels a side; public endpoints allow
    /// 120 requests a minute.
    fn poll_depth(&self, instrument: &Instrument) -> Option<DepthPoll> {
        carries(instrument).ok()?;
        Some(DepthPoll {
            url: format!(
                "{}/v1/book/{}?limit_bids=100&limit_asks=100",
                self.rest(),
                native_symbol(instrument).to_ascii_lowercase()
            ),
            post: None,
            every: Duration::from_secs(1),
        })
    }

    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output) {
        let book: wire::RestBook = match serde_json::from_str(body) {
            Ok(b) => b,
            Err(e) => return self.parse_error(out, format!("polled book: {e}")),
        };
        let side =
            |v: &[wire::RestLevel]| v.iter().map(|l| Level::new(l.price, l.amount)).collect();
        let u = Update {
            instrument,
            bids: side(&book.bids),
            asks: side(&book.asks),
            seq: SeqInfo::default(),
            exchange_ts: None,
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
