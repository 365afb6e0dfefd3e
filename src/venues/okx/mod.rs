//! OKX v5 public WebSocket: `books` (400-level snapshot then 100 ms
//! increments), `trades`, `liquidation-orders`, `funding-rate`,
//! `open-interest`; instruments from REST for contract sizes.
//!
//! Book integrity: every `books` update must carry `prevSeqId` equal to the
//! last `seqId` (keep-alive updates repeat it; after maintenance `seqId` may go
//! down, which is fine when `prevSeqId` matches). Older traffic has no
//! sequence ids: then only the checksum guards the book. The CRC32 is checked
//! whenever the message carries a non-zero `checksum` (OKX sends 0 since
//! 2026-06-23). A break or mismatch marks the book out of sync and
//! resubscribes the channel, which makes OKX send a fresh snapshot.
//!
//! History at start (`history`): klines of every instrument, open interest
//! and settled funding of every swap, from the public REST.
//!
//! SWAP sizes are contracts. The adapter keeps each book in OKX's own units
//! and text (for the checksum) and emits base-asset sizes, so a SWAP book
//! stays `Syncing` until the instrument list gives its contract value.

mod history;
mod poll;
pub mod sim;
mod sync;
mod wire;

#[cfg(test)]
mod tests;

use crate::model::InstrumentKind;
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use std::collections::HashMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::checksum::{parse_decimal, raw_text};
use super::parse::{contracts_to_base, preview};
use super::unchanged::SeenBodies;
use super::{Adapter, AdapterConfig, ConnSpec, Output, Ping};
use crate::model::{
    Funding, FundingUpdate, HistoryKind, Instrument, InstrumentInfo, LiquidatedSide, Liquidation,
    MarketEvent, Micros, OutOfSyncReason, TakerSide, Trade, Venue,
};
use crate::venues::lifecycle::Lifecycle;

use sync::{BookSync, ContractSpec};
use wire::{
    FundingData, InstrumentsResponse, LiquidationData, OpenInterestData, Push, TradeData, decimal,
    ms_to_micros,
};

pub const SPEC: VenueSpec = VenueSpec {
    name: "okx",
    display_name: "OKX",
    info: VenueInfo {
        markets: "spot, perpetual swaps (BTC-USDT-SWAP as BTC-USDT-PERP)",
        book: "books: 400-level snapshot + 100 ms increments",
        trades: "trades",
        liquidations: "liquidation-orders (SWAP; OKX says not the full total)",
        funding: "funding-rate, open-interest",
        integrity: "seqId/prevSeqId continuity; CRC32 of top 25 when non-zero",
    },
    capture_names: &["OKX"],
    endpoints: &[
        Endpoint::ws(
            "ws",
            "wss://ws.okx.com:8443/ws/v5/public",
            "public channels",
        ),
        Endpoint::rest("rest", "https://www.okx.com", "instrument lists"),
    ],
    taker_fee_bps: bps(10, 0),
    colour: "#9aa0a6",
    carries,
    default_listing: &[
        "BTC-USDT",
        "ETH-USDT",
        "BTC-USDT-PERP",
        "ETH-USDT-PERP",
        "BTC-USD-PERP",
        "ETH-USD-PERP",
    ],
    build: |cfg| Box::new(Okx::new(cfg)),
    sim: Some(&sim::SIM),
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Subscription arguments per `subscribe` message (payload limit is 64 KB).
const ARGS_PER_MESSAGE: usize = 100;

/// Every instrument kind depthwatch names has an OKX counterpart.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if matches!(instrument.quote.as_str(), "USDT" | "USDC" | "USD") => {
            Ok(())
        }
        InstrumentKind::Perp => Err("okx lists perpetual swaps against USDT, USDC and USD only"),
    }
}

/// `BTC-USDT` → `BTC-USDT`; `BTC-USDT-PERP` → `BTC-USDT-SWAP`.
pub fn native_symbol(i: &Instrument) -> String {
    if i.is_perp() {
        format!("{}-{}-SWAP", i.base, i.quote)
    } else {
        format!("{}-{}", i.base, i.quote)
    }
}

/// The reverse of [`native_symbol`]; dated futures and options give `None`.
pub fn parse_native(inst_id: &str) -> Option<Instrument> {
    let parts: Vec<&str> = inst_id.split('-').collect();
    match parts.as_slice() {
        [b, q] => Instrument::spot(b, q).ok(),
        [b, q, "SWAP"] => Instrument::perp(b, q).ok(),
        _ => None,
    }
}

pub struct Okx {
    cfg: AdapterConfig,
    ws_url: String,
    rest_url: String,
    /// The URL our connection was opened with (replay: the recorded one).
    conn_url: Option<String>,
    books: HashMap<String, BookSync>,
    contracts: HashMap<String, ContractSpec>,
    /// Instrument lists parsed (a repeat is not parsed again).
    lists: SeenBodies,
    lc: Lifecycle,
}

fn subscribe_text(op: &str, args: &[serde_json::Value]) -> String {
    serde_json::json!({ "op": op, "args": args }).to_string()
}

impl Okx {
    pub fn new(cfg: AdapterConfig) -> Self {
        let ws_url = cfg.endpoint(&SPEC, "ws");
        let rest_url = cfg.endpoint(&SPEC, "rest");
        let books = if cfg.channels.book {
            cfg.instruments
                .iter()
                .map(|i| (native_symbol(i), BookSync::new(*i)))
                .collect()
        } else {
            HashMap::new()
        };
        Okx {
            cfg,
            ws_url,
            rest_url,
            conn_url: None,
            books,
            contracts: HashMap::new(),
            lists: SeenBodies::default(),
            lc: Lifecycle::new(VENUE),
        }
    }

    fn has_perps(&self) -> bool {
        self.cfg.instruments.iter().any(Instrument::is_perp)
    }

    fn instruments_url(&self, kind: &str) -> String {
        format!(
            "{}/api/v5/public/instruments?instType={kind}",
            self.rest_url
        )
    }

    /// The subscription arguments for the configured channels.
    fn subscription_args(&self) -> Vec<serde_json::Value> {
        use serde_json::json;
        let ch = &self.cfg.channels;
        let mut args = Vec::new();
        for i in &self.cfg.instruments {
            let id = native_symbol(i);
            if ch.book {
                args.push(json!({"channel": "books", "instId": id}));
            }
            if ch.trades {
                args.push(json!({"channel": "trades", "instId": id}));
            }
            if ch.funding && i.is_perp() {
                args.push(json!({"channel": "funding-rate", "instId": id}));
                args.push(json!({"channel": "open-interest", "instId": id}));
            }
        }
        if ch.liquidations && self.has_perps() {
            args.push(json!({"channel": "liquidation-orders", "instType": "SWAP"}));
        }
        args
    }

    fn url(&self) -> String {
        self.conn_url.clone().unwrap_or_else(|| self.ws_url.clone())
    }

    fn on_trades(&mut self, data: &RawValue, received: Micros, out: &mut Output) {
        let trades: Vec<TradeData> = match serde_json::from_str(data.get()) {
            Ok(t) => t,
            Err(e) => return parse_error(out, format!("trades data: {e}")),
        };
        for t in trades {
            let Some(instrument) = parse_native(&t.inst_id) else {
                continue;
            };
            let (Some(price), Some(sz)) = (decimal(t.px), decimal(t.sz)) else {
                parse_error(out, format!("trade {}: bad px/sz", t.inst_id));
                continue;
            };
            let side = match t.side.as_ref() {
                "buy" => TakerSide::Buy,
                "sell" => TakerSide::Sell,
                other => {
                    parse_error(out, format!("trade side {other}"));
                    continue;
                }
            };
            let Some(size) = self.to_base(&t.inst_id, &instrument, sz, price) else {
                tracing::debug!(inst_id = %t.inst_id, "OKX trade before contract size is known: dropped");
                continue;
            };
            out.trade(Trade {
                venue: VENUE,
                instrument,
                price,
                size,
                side,
                exchange_ts: ms_to_micros(t.ts),
                received,
            });
        }
    }

    fn on_liquidations(&mut self, data: &RawValue, received: Micros, out: &mut Output) {
        let rows: Vec<LiquidationData> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("liquidation-orders data: {e}")),
        };
        for row in rows {
            // Dated futures and options come through `parse_native` as None.
            let Some(instrument) = parse_native(&row.inst_id).filter(Instrument::is_perp) else {
                continue;
            };
            for d in row.details {
                let (Some(price), Some(sz)) = (decimal(d.bk_px), decimal(d.sz)) else {
                    parse_error(out, format!("liquidation {}: bad bkPx/sz", row.inst_id));
                    continue;
                };
                // posSide names the position; in net mode the order side
                // tells it: a forced buy closes a short.
                let side = match (d.pos_side.as_deref(), d.side.as_ref()) {
                    (Some("long"), _) => LiquidatedSide::Long,
                    (Some("short"), _) => LiquidatedSide::Short,
                    (_, "buy") => LiquidatedSide::Short,
                    (_, "sell") => LiquidatedSide::Long,
                    (_, other) => {
                        parse_error(out, format!("liquidation side {other}"));
                        continue;
                    }
                };
                let Some(size) = self.to_base(&row.inst_id, &instrument, sz, price) else {
                    tracing::debug!(inst_id = %row.inst_id, "OKX liquidation before contract size is known: dropped");
                    continue;
                };
                out.liquidation(Liquidation {
                    venue: VENUE,
                    instrument,
                    side,
                    price,
                    size,
                    exchange_ts: ms_to_micros(d.ts),
                    received,
                });
            }
        }
    }

    fn on_funding_rate(&mut self, data: &RawValue, received: Micros, out: &mut Output) {
        let rows: Vec<FundingData> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("funding-rate data: {e}")),
        };
        for r in rows {
            let Some(instrument) = parse_native(&r.inst_id) else {
                continue;
            };
            let next = ms_to_micros(r.funding_time);
            // OKX funds every 8 h on most swaps, 4 h or less on some: the
            // distance between the next two funding times says which.
            let interval = next
                .zip(ms_to_micros(r.next_funding_time))
                .map(|(a, b)| b - a)
                .filter(|d| (60_000_000..=86_400_000_000).contains(d));
            out.funding(Funding {
                venue: VENUE,
                instrument,
                update: FundingUpdate {
                    funding_rate: r.funding_rate.and_then(decimal),
                    predicted_rate: r.next_funding_rate.and_then(decimal),
                    next_funding: next,
                    interval,
                    ..FundingUpdate::default()
                },
                exchange_ts: ms_to_micros(r.ts),
                received,
            });
        }
    }

    fn on_open_interest(&mut self, data: &RawValue, received: Micros, out: &mut Output) {
        let rows: Vec<OpenInterestData> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("open-interest data: {e}")),
        };
        for r in rows {
            let Some(instrument) = parse_native(&r.inst_id) else {
                continue;
            };
            // `oiCcy` is already in the coin; else convert the contracts.
            let oi = r.oi_ccy.and_then(decimal).or_else(|| {
                let contracts = r.oi.and_then(decimal)?;
                let spec = self.contracts.get(r.inst_id.as_ref())?;
                // Checked: a venue can send any number of contracts.
                (!spec.inverse)
                    .then(|| contracts_to_base(contracts, spec.value))
                    .flatten()
                    .map(|d| d.normalize())
            });
            if oi.is_none() {
                continue;
            }
            out.funding(Funding {
                venue: VENUE,
                instrument,
                update: FundingUpdate {
                    open_interest: oi,
                    ..FundingUpdate::default()
                },
                exchange_ts: ms_to_micros(r.ts),
                received,
            });
        }
    }

    fn on_event(&mut self, url: &str, p: &Push, out: &mut Output) {
        let event = p.event.as_deref().unwrap_or_default();
        let code = p.code.map(raw_text).unwrap_or_default();
        let msg = p.msg.clone().unwrap_or_default();
        match event {
            "subscribe" | "unsubscribe" | "channel-conn-count" | "login" => {}
            "error" | "channel-conn-count-error" => {
                tracing::warn!(code, msg = %msg, "OKX error event");
                let instrument = p
                    .arg
                    .as_ref()
                    .and_then(|a| a.inst_id.as_deref())
                    .and_then(parse_native);
                if let (Some(arg), Some(i)) = (&p.arg, instrument)
                    && arg.channel == "books"
                {
                    let why = format!("OKX error {code}: {msg}");
                    self.lc.fail(i, OutOfSyncReason::Venue(why), out);
                }
                out.unknown(VENUE, instrument, format!("OKX error {code}: {msg}"));
            }
            "notice" => {
                tracing::warn!(code, msg = %msg, "OKX notice");
                if code == "64008" {
                    // Service upgrade: the server drops us within 60 s.
                    out.reconnect(url, format!("OKX notice 64008: {msg}"));
                }
            }
            other => unknown(out, format!("OKX event {other}")),
        }
    }

    /// Parses an instrument list; false when it did not parse.
    fn on_instruments(&mut self, body: &str, out: &mut Output) -> bool {
        let resp: InstrumentsResponse = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => {
                parse_error(out, format!("instruments: {e}"));
                return false;
            }
        };
        let mut list = Vec::new();
        for row in resp.data {
            let Some(instrument) = parse_native(&row.inst_id) else {
                continue;
            };
            let (mut contract_size, mut contract_usd) = (None, None);
            if instrument.is_perp() {
                let ct_val = parse_decimal(&row.ct_val);
                let ct_mult = parse_decimal(&row.ct_mult).unwrap_or(Decimal::ONE);
                if let Some(v) = ct_val.and_then(|v| v.checked_mul(ct_mult)) {
                    let inverse = row.ct_type == "inverse";
                    self.contracts
                        .insert(row.inst_id.clone(), ContractSpec { value: v, inverse });
                    contract_size = (!inverse).then(|| v.normalize());
                    contract_usd = inverse.then(|| v.normalize());
                }
            }
            if row.state.is_empty() || row.state == "live" {
                list.push(InstrumentInfo {
                    instrument,
                    native: row.inst_id,
                    tick_size: parse_decimal(&row.tick_sz),
                    lot_size: parse_decimal(&row.lot_sz),
                    contract_size,
                    contract_usd,
                });
            }
        }
        out.event(MarketEvent::Instruments { venue: VENUE, list });
        true
    }
}

fn parse_error(out: &mut Output, detail: String) {
    out.parse_error(VENUE, None, detail);
}

fn unknown(out: &mut Output, detail: String) {
    out.unknown(VENUE, None, detail);
}

impl Adapter for Okx {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        vec![ConnSpec::new(
            self.ws_url.clone(),
            Some(Duration::from_secs(40)),
            // OKX drops a connection silent for 30 s: ping while idle.
            Some(Ping {
                every: Duration::from_secs(20),
                text: "ping".to_string(),
            }),
        )]
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        out.http_get(self.instruments_url("SPOT"));
        if self.has_perps() {
            out.http_get(self.instruments_url("SWAP"));
        }
        self.backfill(out);
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        self.conn_url = Some(url.to_string());
        let mut instruments: Vec<Instrument> = Vec::new();
        for b in self.books.values_mut() {
            b.reset();
            instruments.push(b.instrument);
        }
        instruments.sort();
        for i in instruments {
            self.lc.subscribing(i, url, out);
        }
        let args = self.subscription_args();
        for chunk in args.chunks(ARGS_PER_MESSAGE) {
            out.send(url, subscribe_text("subscribe", chunk));
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        // Frames say which connection carries the books (also when the
        // opening was not seen, as in some recordings).
        if self.conn_url.as_deref() != Some(url) {
            self.conn_url = Some(url.to_string());
        }
        let trimmed = text.trim();
        if trimmed == "pong" {
            return;
        }
        let p: Push = match serde_json::from_str(trimmed) {
            Ok(p) => p,
            Err(e) => return parse_error(out, format!("{e}: {}", preview(text))),
        };
        if p.event.is_some() {
            return self.on_event(url, &p, out);
        }
        let (Some(arg), Some(data)) = (&p.arg, p.data) else {
            return unknown(out, format!("no arg/data: {}", preview(text)));
        };
        let channel = arg.channel.as_ref();
        match channel {
            "books" | "books-l2-tbt" | "books50-l2-tbt" | "books5" | "bbo-tbt" => {
                let Some(inst_id) = arg.inst_id.as_deref() else {
                    return parse_error(out, "books push without instId".to_string());
                };
                let inst_id = inst_id.to_string();
                self.on_book(&inst_id, p.action.as_deref(), data, received, out)
            }
            "trades" | "trades-all" => self.on_trades(data, received, out),
            "liquidation-orders" => self.on_liquidations(data, received, out),
            "funding-rate" => self.on_funding_rate(data, received, out),
            "open-interest" => self.on_open_interest(data, received, out),
            other => unknown(out, format!("channel {other}")),
        }
    }

    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        if url.contains("/api/v5/public/instruments") {
            if let Some(hash) = self.lists.fresh(url, body)
                && self.on_instruments(body, out)
            {
                self.lists.keep(url, hash);
            }
            self.release_held_books(received, out);
        } else if url.contains(history::OI_PATH) {
            self.on_history(url, body, HistoryKind::OpenInterest, out);
        } else if url.contains(history::FUNDING_PATH) {
            self.on_history(url, body, HistoryKind::FundingRate, out);
        } else if url.contains(history::KLINES_PATH) {
            self.on_klines(url, body, out);
        } else {
            unknown(out, format!("HTTP body for {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        tracing::warn!(url, error, "OKX REST request failed");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        for b in self.books.values_mut() {
            b.reset();
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
        Some(self.poll_request(instrument))
    }

    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output) {
        self.polled(instrument, body, received, out);
    }
}
