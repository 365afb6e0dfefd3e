//! Coinbase Advanced Trade public market data (spot).
//!
//! One connection (`ws`), one subscribe message per channel: `level2`,
//! `market_trades` and `heartbeats` (which keeps quiet products' channels
//! open). Books come from `l2_data`: a full `snapshot` event, then `update`
//! events with absolute `new_quantity` per price (`0` removes).
//!
//! `sequence_num` counts every message of the connection across channels, so
//! any jump means a message of unknown content was lost: every book on the
//! connection goes out of sync and we reconnect; the snapshot that follows
//! the new subscription rebuilds them.
//!
//! Trade side: in `market_trades` the `side` field is the **maker** side, as
//! for Coinbase Exchange `match` messages, so we report the opposite as the
//! taker side. Evidence: in the recorded capture (2026-08-09, BTC-USD and
//! ETH-USD) all 71 trades that printed at a touch price had `side: SELL` when
//! they printed at the best ask (a buyer lifted it) and `side: BUY` at the
//! best bid; bbgo fixed its Advanced Trade connector the same way ("correct
//! market trade side to taker side", c9s/bbgo PR 2509).

mod wire;

#[cfg(test)]
mod tests;

use crate::model::InstrumentKind;
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use std::collections::HashMap;
use std::time::Duration;

use crate::model::{
    Incident, Instrument, InstrumentInfo, Level, MarketEvent, Micros, OutOfSyncReason, SeqInfo,
    TakerSide, Trade, Venue,
};
use crate::venues::lifecycle::{Applied, Lifecycle, Update};
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output};

use wire::{Envelope, L2_PREFIX, L2Event, L2Message, ProductsResponse, Side, TradesEvent};

pub const SPEC: VenueSpec = VenueSpec {
    name: "coinbase",
    display_name: "Coinbase Advanced Trade",
    info: VenueInfo {
        markets: "spot",
        book: "level2 over WebSocket (snapshot + updates, full depth)",
        trades: "market_trades (maker side flipped to taker side)",
        liquidations: "none (spot only)",
        funding: "none (spot only)",
        integrity: "connection-wide sequence_num; gap → reconnect and rebuild from snapshot",
    },
    capture_names: &["COINBASE"],
    endpoints: &[
        Endpoint::ws(
            "ws",
            "wss://advanced-trade-ws.coinbase.com",
            "Advanced Trade market data",
        ),
        Endpoint::rest("rest", "https://api.coinbase.com", "product lists"),
    ],
    taker_fee_bps: bps(60, 0),
    colour: "#3c8cff",
    carries,
    default_listing: &["BTC-USD", "ETH-USD"],
    build: |cfg| Box::new(Coinbase::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Heartbeats arrive every second on a healthy connection.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Coinbase Advanced Trade lists spot products only here.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp => Err("coinbase lists spot only"),
    }
}

/// Sequence state of one connection.
#[derive(Default)]
struct ConnState {
    last_seq: Option<u64>,
    /// A reconnect was asked for; later breaks on the doomed connection are
    /// not reported again.
    reconnecting: bool,
}

pub struct Coinbase {
    cfg: AdapterConfig,
    conns: HashMap<String, ConnState>,
    lc: Lifecycle,
    /// `product_id` → instrument, from the products list.
    products: HashMap<String, Instrument>,
}

use crate::venues::parse::rfc3339_micros;

impl Coinbase {
    pub fn new(cfg: AdapterConfig) -> Self {
        Coinbase {
            cfg,
            conns: HashMap::new(),
            lc: Lifecycle::new(VENUE),
            products: HashMap::new(),
        }
    }

    fn ws_url(&self) -> String {
        self.cfg.endpoint(&SPEC, "ws")
    }

    fn products_url(&self) -> String {
        format!(
            "{}/api/v3/brokerage/market/products",
            self.cfg.endpoint(&SPEC, "rest")
        )
    }

    fn product_ids(&self) -> Vec<String> {
        self.cfg
            .instruments
            .iter()
            .filter(|i| carries(i).is_ok())
            .map(|i| format!("{}-{}", i.base, i.quote))
            .collect()
    }

    fn resolve(&self, product_id: &str) -> Option<Instrument> {
        self.products.get(product_id).copied().or_else(|| {
            product_id
                .parse::<Instrument>()
                .ok()
                .filter(|i| carries(i).is_ok())
        })
    }

    fn parse_error(&self, out: &mut Output, detail: String) {
        out.parse_error(VENUE, None, detail);
    }

    fn unknown(&self, out: &mut Output, detail: String) {
        out.unknown(VENUE, None, detail);
    }

    /// Check the connection-wide sequence; on a break, take every book of
    /// the connection out of sync and reconnect.
    fn check_sequence(&mut self, url: &str, seq: u64, out: &mut Output) {
        let conn = self.conns.entry(url.to_string()).or_default();
        let prev = conn.last_seq.replace(seq);
        let Some(prev) = prev else {
            return;
        };
        let expected = prev.wrapping_add(1);
        if seq == expected || conn.reconnecting {
            return;
        }
        conn.reconnecting = true;
        tracing::warn!(venue = "coinbase", url, expected, got = seq, "sequence gap");
        out.incident(
            VENUE,
            None,
            Incident::Gap,
            format!("expected sequence_num {expected}, got {seq}"),
        );
        self.lc
            .fail_conn(url, OutOfSyncReason::Gap { expected, got: seq }, out);
        out.incident(
            VENUE,
            None,
            Incident::Resync,
            "reconnecting to rebuild every book from fresh snapshots".to_string(),
        );
        out.reconnect(
            url,
            format!("sequence gap (expected {expected}, got {seq})"),
        );
    }

    /// An `l2_data` frame in Coinbase's own layout (channel first), read
    /// in one pass.
    fn on_l2_frame(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let msg: L2Message<'_> = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => return self.parse_error(out, format!("l2_data: {e}")),
        };
        if let Some(seq) = msg.sequence_num {
            self.check_sequence(url, seq, out);
        }
        let Some(events) = msg.events else {
            return self.parse_error(out, "l2_data without events".into());
        };
        let exchange_ts = msg.timestamp.as_deref().and_then(rfc3339_micros);
        self.on_l2_events(url, events, msg.sequence_num, exchange_ts, received, out);
    }

    fn on_l2(&mut self, url: &str, env: &Envelope<'_>, received: Micros, out: &mut Output) {
        let Some(raw) = env.events else {
            return self.parse_error(out, "l2_data without events".into());
        };
        let events: Vec<L2Event> = match serde_json::from_str(raw.get()) {
            Ok(e) => e,
            Err(e) => return self.parse_error(out, format!("l2_data events: {e}")),
        };
        let exchange_ts = env.timestamp.as_deref().and_then(rfc3339_micros);
        self.on_l2_events(url, events, env.sequence_num, exchange_ts, received, out);
    }

    fn on_l2_events(
        &mut self,
        url: &str,
        events: Vec<L2Event>,
        sequence_num: Option<u64>,
        exchange_ts: Option<Micros>,
        received: Micros,
        out: &mut Output,
    ) {
        for ev in events {
            let Some(instrument) = self.resolve(&ev.product_id) else {
                self.unknown(out, format!("l2_data for product {}", ev.product_id));
                continue;
            };
            let snapshot = match ev.kind.as_str() {
                "snapshot" => true,
                "update" => false,
                other => {
                    self.unknown(out, format!("l2_data event type {other:?}"));
                    continue;
                }
            };
            if snapshot {
                self.lc.carried_by(instrument, url, out);
            } else if self.lc.conn(&instrument) != Some(url) {
                // Updates before the (re)subscription snapshot cannot be
                // placed; the snapshot will carry their effect.
                continue;
            }
            // Sized once: a full-depth snapshot holds tens of thousands of
            // levels, and doubling would touch twice the memory.
            let bids_n = ev.updates.iter().filter(|u| u.side == Side::Bid).count();
            let mut bids = Vec::with_capacity(bids_n);
            let mut asks = Vec::with_capacity(ev.updates.len() - bids_n);
            for u in ev.updates {
                let level = Level::new(u.price_level, u.new_quantity);
                match u.side {
                    Side::Bid => bids.push(level),
                    Side::Offer => asks.push(level),
                }
            }
            let u = Update {
                instrument,
                bids,
                asks,
                seq: SeqInfo {
                    first: None,
                    last: sequence_num,
                },
                exchange_ts,
                received,
            };
            let applied = if snapshot {
                self.lc.snapshot(u, out)
            } else {
                self.lc.delta(u, out)
            };
            if applied == Applied::Rejected {
                self.lc
                    .resync(instrument, "reconnecting after invalid data", out);
                out.reconnect(url, format!("{instrument}: invalid book data"));
            }
        }
    }

    fn on_trades(&mut self, env: &Envelope<'_>, received: Micros, out: &mut Output) {
        let Some(raw) = env.events else {
            return self.parse_error(out, "market_trades without events".into());
        };
        let events: Vec<TradesEvent> = match serde_json::from_str(raw.get()) {
            Ok(e) => e,
            Err(e) => return self.parse_error(out, format!("market_trades events: {e}")),
        };
        // The `snapshot` event replays recent history on subscribe: those
        // trades are not live flow (they would skew flow windows, which run on
        // receive time, and latency), so only `update` trades are emitted.
        for t in events
            .into_iter()
            .filter(|e| e.kind != "snapshot")
            .flat_map(|e| e.trades)
        {
            let Some(instrument) = self.resolve(&t.product_id) else {
                self.unknown(out, format!("trade for product {}", t.product_id));
                continue;
            };
            // `side` is the maker's side: a SELL maker means a buyer took it.
            let side = match t.side.as_str() {
                "SELL" => TakerSide::Buy,
                "BUY" => TakerSide::Sell,
                other => {
                    self.parse_error(out, format!("trade side {other:?}"));
                    continue;
                }
            };
            out.trade(Trade {
                venue: VENUE,
                instrument,
                price: t.price,
                size: t.size,
                side,
                exchange_ts: t.time.as_deref().and_then(rfc3339_micros),
                received,
            });
        }
    }

    fn on_products(&mut self, body: &str, out: &mut Output) {
        let resp: ProductsResponse = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return self.parse_error(out, format!("products list: {e}")),
        };
        let mut list = Vec::with_capacity(resp.products.len());
        for p in resp.products {
            if p.product_type != "SPOT" || p.status != "online" || p.trading_disabled {
                continue;
            }
            let Ok(instrument) = Instrument::spot(&p.base_currency_id, &p.quote_currency_id) else {
                continue;
            };
            self.products.insert(p.product_id.clone(), instrument);
            list.push(InstrumentInfo {
                instrument,
                native: p.product_id,
                tick_size: p.price_increment.or(p.quote_increment),
                lot_size: p.base_increment,
                contract_size: None,
                contract_usd: None,
            });
        }
        out.event(MarketEvent::Instruments { venue: VENUE, list });
    }
}

impl Adapter for Coinbase {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        if self.product_ids().is_empty() {
            return Vec::new();
        }
        vec![ConnSpec::new(self.ws_url(), Some(IDLE_TIMEOUT), None)]
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        out.http_get(self.products_url());
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        // A new connection starts its own sequence.
        self.conns.insert(url.to_string(), ConnState::default());
        let products = self.product_ids();
        if products.is_empty() {
            return;
        }
        let mut channels = vec!["heartbeats"];
        if self.cfg.channels.book {
            channels.push("level2");
            let mut books: Vec<Instrument> =
                products.iter().filter_map(|p| self.resolve(p)).collect();
            books.sort();
            for i in books {
                self.lc.subscribing(i, url, out);
            }
        }
        if self.cfg.channels.trades {
            channels.push("market_trades");
        }
        for channel in channels {
            let msg = serde_json::json!({
                "type": "subscribe",
                "product_ids": products,
                "channel": channel,
            });
            out.send(url, msg.to_string());
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        if text.starts_with(L2_PREFIX) {
            return self.on_l2_frame(url, text, received, out);
        }
        let env: Envelope<'_> = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => return self.parse_error(out, format!("not a Coinbase message: {e}")),
        };
        if let Some(seq) = env.sequence_num {
            self.check_sequence(url, seq, out);
        }
        let Some(channel) = env.channel.as_deref() else {
            if env.kind.as_deref() == Some("error") {
                let msg = env.message.as_deref().unwrap_or("");
                tracing::warn!(venue = "coinbase", url, "venue error: {msg}");
                return self.unknown(out, format!("error: {msg}"));
            }
            return self.unknown(out, "message without channel".into());
        };
        match channel {
            "l2_data" => self.on_l2(url, &env, received, out),
            "market_trades" => self.on_trades(&env, received, out),
            // Keep-alives and subscription acknowledgements.
            "heartbeats" | "subscriptions" => {}
            other => self.unknown(out, format!("channel {other}")),
        }
    }

    fn on_http(&mut self, url: &str, body: &str, _received: Micros, out: &mut Output) {
        if url.contains("/api/v3/brokerage/market/products") {
            self.on_products(body, out);
        } else {
            self.unknown(out, format!("REST body from {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // Product ids parse as BASE-QUOTE without the list; only completion
        // and tick sizes wait for it.
        tracing::warn!(venue = "coinbase", url, "REST request failed: {error}");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        self.conns.remove(url);
        self.lc.closed(url, out);
    }

    fn lifecycle(&self) -> &Lifecycle {
        &self.lc
    }

    fn config(&self) -> &AdapterConfig {
        &self.cfg
    }

    /// `GET /api/v3/brokerage/market/product_book`, 100 levels; public
    /// endpoints allow 10 requests a second.
    fn poll_depth(&self, instrument: &Instrument) -> Option<DepthPoll> {
        carries(instrument).ok()?;
        Some(DepthPoll {
            url: format!(
                "{}/api/v3/brokerage/market/product_book?product_id={}-{}&limit=100",
                self.cfg.endpoint(&SPEC, "rest"),
                instrument.base,
                instrument.quote
            ),
            post: None,
            every: Duration::from_millis(250),
        })
    }

    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output) {
        let book: wire::ProductBookResponse = match serde_json::from_str(body) {
            Ok(b) => b,
            Err(e) => return self.parse_error(out, format!("polled product_book: {e}")),
        };
        let side = |v: &[wire::BookEntry]| v.iter().map(|l| Level::new(l.price, l.size)).collect();
        let u = Update {
            instrument,
            bids: side(&book.pricebook.bids),
            asks: side(&book.pricebook.asks),
            seq: SeqInfo::default(),
            exchange_ts: book.pricebook.time.as_deref().and_then(rfc3339_micros),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
