//! Deribit public market data over JSON-RPC 2.0
//! (`wss://www.deribit.com/ws/api/v2`): inverse perpetuals and USDC linear
//! perpetuals (VENUES.md §10 and §25).
//!
//! Markets and units. `BTC-PERPETUAL` (inverse, `instrument_type:
//! "reversed"`) is `BTC-USD-PERP`: its book, trade and open-interest amounts
//! are USD (multiples of the contract size, 10 USD for BTC and 1 USD for
//! ETH), so a level's base size is amount / that level's price and a
//! trade's is amount / the trade price. `BTC_USDC-PERPETUAL` (linear,
//! USDC-settled) is `BTC-USDC-PERP`: its amounts are already in the coin.
//! Neither needs the contract size to convert (the amount is the USD value
//! or the coin quantity itself), so no book is held back waiting for the
//! instrument list; the list (`public/get_instruments`, one request per
//! currency) supplies tick size, lot (`min_trade_amount`), contract size and
//! confirms which instruments are `reversed`. Dated futures, options and
//! spot pairs are not carried. The docs' book page says "for perpetuals and
//! futures, amount is in USD units"; its grouped-book and trade pages, the
//! instrument list and VENUES.md §25 say linear instruments are sized in the
//! coin, which is what the USDC perpetuals send.
//!
//! Subscriptions (`public/subscribe`, at most 100 channels a request, one
//! connection): `book.{instrument}.100ms` (the `raw` interval needs an
//! authenticated connection, error 13778), `trades.{instrument}.100ms` and
//! `ticker.{instrument}.100ms`. Replays also read the `raw` channels
//! cryptofeed records and the grouped `book.{instrument}.{group}.{depth}.
//! {interval}` books (whole books every time, no `type`).
//!
//! Book integrity: the first notification is a full snapshot with a
//! `change_id`; every later one carries `prev_change_id`, which must equal
//! the last `change_id` applied. A mismatch marks the book out of sync and
//! resubscribes the channel (unsubscribe + subscribe), which brings a fresh
//! snapshot; changes in between are dropped.
//!
//! History at start (`history`): klines and settled funding of every
//! perpetual from the public REST; Deribit has no open-interest history.
//!
//! Heartbeats: after connecting we call `public/set_heartbeat` (30 s); the
//! server then sends `heartbeat` notifications, and those of type
//! `test_request` must be answered with `public/test` or Deribit closes the
//! connection. We also call `public/test` every 30 s ourselves.

mod history;
mod poll;
pub mod sim;
mod sync;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use crate::model::{
    Funding, FundingUpdate, Instrument, InstrumentInfo, InstrumentKind, LiquidatedSide,
    Liquidation, MarketEvent, Micros, OutOfSyncReason, TakerSide, Trade, Venue,
};
use crate::venues::lifecycle::Lifecycle;
use crate::venues::parse::{ms_to_micros, preview, usd_contracts_to_base};
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output, Ping};

use sync::BookSync;
use wire::{InstrumentRow, RestAnswer, Rpc, RpcError, TickerData, TradeData, id_of, num};

pub const SPEC: VenueSpec = VenueSpec {
    name: "deribit",
    display_name: "Deribit",
    info: VenueInfo {
        markets: "inverse perpetuals (BTC-PERPETUAL as BTC-USD-PERP), USDC linear perpetuals (BTC_USDC-PERPETUAL as BTC-USDC-PERP)",
        book: "book.{instrument}.100ms over JSON-RPC (full snapshot + changes)",
        trades: "trades.{instrument}.100ms (taker direction)",
        liquidations: "liquidation flag on trades (M/T/MT: which side was liquidated)",
        funding: "ticker.{instrument}.100ms (current funding, mark, index, open interest)",
        integrity: "prev_change_id == last change_id; mismatch → resubscribe for a fresh snapshot",
    },
    capture_names: &["DERIBIT"],
    endpoints: &[
        Endpoint::ws(
            "ws",
            "wss://www.deribit.com/ws/api/v2",
            "JSON-RPC WebSocket (book, trades, ticker)",
        ),
        Endpoint::rest(
            "rest",
            "https://www.deribit.com",
            "instrument lists, REST order book",
        ),
    ],
    taker_fee_bps: bps(5, 0),
    colour: "#b8e04a",
    carries,
    default_listing: &["BTC-USD-PERP", "ETH-USD-PERP"],
    build: |cfg| Box::new(Deribit::new(cfg)),
    sim: Some(&sim::SIM),
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Channels per `public/subscribe` request (Deribit publishes no per-request
/// limit; subscribe requests are rate limited at ~3 a second, burst 10).
const CHANNELS_PER_REQUEST: usize = 100;
/// `public/set_heartbeat` interval (Deribit's minimum is 10 s).
const HEARTBEAT_SECS: u64 = 30;
/// The ticker streams every 100 ms and heartbeats come every 30 s.
const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
const PING_EVERY: Duration = Duration::from_secs(30);
/// Our keep-alive (answers are silent; id 0 is never a request of ours).
const PING_TEXT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"public/test","params":{}}"#;
/// The aggregation interval we subscribe at (`raw` needs authentication).
const INTERVAL: &str = "100ms";
/// Deribit's "too many requests" error: retried on a new connection.
const TOO_MANY_REQUESTS: i64 = 10028;

/// Deribit's inverse perpetuals are quoted in USD, its linear ones in USDC.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Perp if matches!(instrument.quote.as_str(), "USD" | "USDC") => Ok(()),
        InstrumentKind::Perp => Err("deribit lists inverse (USD) and USDC linear perpetuals only"),
        InstrumentKind::Spot => Err("deribit is carried for its perpetuals only"),
    }
}

/// `BTC-USD-PERP` → `BTC-PERPETUAL`; `BTC-USDC-PERP` → `BTC_USDC-PERPETUAL`.
pub fn native_symbol(i: &Instrument) -> String {
    if i.quote.as_str() == "USD" {
        format!("{}-PERPETUAL", i.base)
    } else {
        format!("{}_{}-PERPETUAL", i.base, i.quote)
    }
}

/// The reverse of [`native_symbol`]; dated futures (`BTC-27DEC24`),
/// options, combos and spot pairs give `None`.
pub fn parse_native(name: &str) -> Option<Instrument> {
    let root = name.strip_suffix("-PERPETUAL")?;
    match root.split_once('_') {
        None => Instrument::perp(root, "USD").ok(),
        Some((base, quote)) => Instrument::perp(base, quote).ok(),
    }
}

/// The currency whose instrument list holds `i` (`BTC` for the inverse
/// BTC perpetual, `USDC` for every USDC linear one).
fn list_currency(i: &Instrument) -> String {
    if i.quote.as_str() == "USD" {
        i.base.to_string()
    } else {
        i.quote.to_string()
    }
}

pub struct Deribit {
    cfg: AdapterConfig,
    ws_url: String,
    rest_url: String,
    /// The URL our connection was opened with (replay: the recorded one).
    conn_url: Option<String>,
    books: HashMap<Instrument, BookSync>,
    /// Native name → inverse (amounts in USD), from the instrument lists;
    /// names not listed yet are classified by their shape.
    inverse: HashMap<String, bool>,
    /// Instrument lists by currency, published together as each arrives.
    lists: BTreeMap<String, Vec<InstrumentInfo>>,
    /// Our `public/subscribe` requests not answered yet: id → channels.
    pending: BTreeMap<u64, Vec<String>>,
    next_id: u64,
    lc: Lifecycle,
}

fn parse_error(out: &mut Output, detail: String) {
    out.parse_error(VENUE, None, detail);
}

fn unknown(out: &mut Output, detail: String) {
    out.unknown(VENUE, None, detail);
}

impl Deribit {
    pub fn new(cfg: AdapterConfig) -> Self {
        let ws_url = cfg.endpoint(&SPEC, "ws");
        let rest_url = cfg.endpoint(&SPEC, "rest");
        Deribit {
            cfg,
            ws_url,
            rest_url,
            conn_url: None,
            books: HashMap::new(),
            inverse: HashMap::new(),
            lists: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_id: 1,
            lc: Lifecycle::new(VENUE),
        }
    }

    fn carried(&self) -> impl Iterator<Item = &Instrument> {
        self.cfg.instruments.iter().filter(|i| carries(i).is_ok())
    }

    fn url(&self) -> String {
        self.conn_url.clone().unwrap_or_else(|| self.ws_url.clone())
    }

    fn request(&mut self, method: &str, params: serde_json::Value) -> (u64, String) {
        let id = self.next_id;
        self.next_id += 1;
        let text =
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
                .to_string();
        (id, text)
    }

    /// Subscribe `channels` on `url`, remembering the requests.
    fn subscribe(&mut self, url: &str, channels: &[String], out: &mut Output) {
        for chunk in channels.chunks(CHANNELS_PER_REQUEST) {
            let (id, text) =
                self.request("public/subscribe", serde_json::json!({ "channels": chunk }));
            self.pending.insert(id, chunk.to_vec());
            out.send(url, text);
        }
    }

    /// The channels for the configured instruments and channels.
    fn channels(&self) -> Vec<String> {
        let ch = &self.cfg.channels;
        let mut out = Vec::new();
        for i in self.carried() {
            let name = native_symbol(i);
            if ch.book {
                out.push(format!("book.{name}.{INTERVAL}"));
            }
            // Liquidations are flags on trades.
            if ch.trades || ch.liquidations {
                out.push(format!("trades.{name}.{INTERVAL}"));
            }
            if ch.funding {
                out.push(format!("ticker.{name}.{INTERVAL}"));
            }
        }
        out
    }

    /// Whether `native`'s amounts are USD (inverse) rather than coin.
    fn is_inverse(&self, native: &str) -> bool {
        self.inverse
            .get(native)
            .copied()
            .unwrap_or_else(|| !native.contains('_'))
    }

    /// An amount of `native` at `price` in the base asset; `None` when it
    /// cannot be (a non-positive price for a USD amount, an overflow).
    fn to_base(&self, native: &str, amount: Decimal, price: Decimal) -> Option<Decimal> {
        if self.is_inverse(native) {
            usd_contracts_to_base(amount, Decimal::ONE, price)
        } else {
            Some(amount)
        }
    }

    fn on_subscription(
        &mut self,
        url: &str,
        params: Option<wire::Params<'_>>,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(params) = params else {
            return parse_error(out, "subscription without params".into());
        };
        let (Some(channel), Some(data)) = (params.channel.as_deref(), params.data) else {
            return parse_error(out, "subscription without channel or data".into());
        };
        match channel.split('.').next().unwrap_or("") {
            "book" => self.on_book(url, channel, data, received, out),
            "trades" => self.on_trades(data, received, out),
            "ticker" => self.on_ticker(data, received, out),
            _ => unknown(out, format!("channel {channel}")),
        }
    }

    fn on_trades(&mut self, data: &RawValue, received: Micros, out: &mut Output) {
        let trades: Vec<TradeData> = match serde_json::from_str(data.get()) {
            Ok(t) => t,
            Err(e) => return parse_error(out, format!("trades data: {e}")),
        };
        for t in trades {
            let Some(instrument) = parse_native(&t.instrument_name) else {
                unknown(out, format!("trade of {} (not carried)", t.instrument_name));
                continue;
            };
            let (Some(price), Some(amount)) = (num(Some(t.price)), num(Some(t.amount))) else {
                parse_error(
                    out,
                    format!("trade {}: bad price/amount", t.instrument_name),
                );
                continue;
            };
            let side = match t.direction.as_ref() {
                "buy" => TakerSide::Buy,
                "sell" => TakerSide::Sell,
                other => {
                    parse_error(out, format!("trade direction {other:?}"));
                    continue;
                }
            };
            let Some(size) = self.to_base(&t.instrument_name, amount, price) else {
                parse_error(
                    out,
                    format!("trade {}: size out of range", t.instrument_name),
                );
                continue;
            };
            let exchange_ts = t.timestamp.and_then(ms_to_micros);
            if self.cfg.channels.trades {
                out.trade(Trade {
                    venue: VENUE,
                    instrument,
                    price,
                    size,
                    side,
                    exchange_ts,
                    received,
                });
            }
            let Some(flag) = t.liquidation.as_deref() else {
                continue;
            };
            if !self.cfg.channels.liquidations {
                continue;
            }
            for liquidated in liquidated_sides(flag, side) {
                match liquidated {
                    Some(side) => out.liquidation(Liquidation {
                        venue: VENUE,
                        instrument,
                        side,
                        price,
                        size,
                        exchange_ts,
                        received,
                    }),
                    None => unknown(out, format!("trade liquidation flag {flag:?}")),
                }
            }
        }
    }

    fn on_ticker(&mut self, data: &RawValue, received: Micros, out: &mut Output) {
        let t: TickerData = match serde_json::from_str(data.get()) {
            Ok(t) => t,
            Err(e) => return parse_error(out, format!("ticker data: {e}")),
        };
        let Some(instrument) = parse_native(&t.instrument_name) else {
            return unknown(
                out,
                format!("ticker of {} (not carried)", t.instrument_name),
            );
        };
        let mark = num(t.mark_price);
        // Open interest is in the amount unit: USD for inverse perpetuals
        // (converted at the mark price), the coin for linear ones.
        let open_interest = num(t.open_interest).and_then(|oi| {
            if self.is_inverse(&t.instrument_name) {
                usd_contracts_to_base(oi, Decimal::ONE, mark?)
            } else {
                Some(oi)
            }
        });
        // Deribit accrues funding continuously: `funding_8h` is the rate
        // over the last 8 hours (the figure comparable with other venues'
        // 8-hour periods), `current_funding` the instantaneous one; there is
        // no next funding time to show.
        let inverse = self.is_inverse(&t.instrument_name);
        let update = FundingUpdate {
            funding_rate: num(t.funding_8h).or_else(|| num(t.current_funding)),
            interval: Some(8 * 3_600_000_000),
            open_interest,
            open_interest_usd: num(t.open_interest).filter(|_| inverse),
            mark_price: mark,
            index_price: num(t.index_price),
            ..FundingUpdate::default()
        };
        if update == FundingUpdate::default() {
            return;
        }
        out.funding(Funding {
            venue: VENUE,
            instrument,
            update,
            exchange_ts: t.timestamp.and_then(ms_to_micros),
            received,
        });
    }

    fn on_error(&mut self, url: &str, id: Option<u64>, err: RpcError, out: &mut Output) {
        let why = format!("Deribit error {}: {}", err.code, err.message);
        tracing::warn!(venue = "deribit", url, "{why}");
        if let Some(channels) = id.and_then(|id| self.pending.remove(&id)) {
            let mut failed: Vec<Instrument> = channels
                .iter()
                .filter_map(|c| c.strip_prefix("book."))
                .filter_map(|c| c.split('.').next())
                .filter_map(parse_native)
                .collect();
            failed.sort();
            for i in failed {
                if let Some(b) = self.books.get_mut(&i) {
                    b.last_change = None;
                }
                self.lc.fail(i, OutOfSyncReason::Venue(why.clone()), out);
            }
            if err.code == TOO_MANY_REQUESTS {
                out.reconnect(url, format!("{why}: subscribing again on a new connection"));
            }
        }
        unknown(out, why);
    }

    fn instruments_url(&self, currency: &str) -> String {
        format!(
            "{}/api/v2/public/get_instruments?currency={currency}&kind=future",
            self.rest_url
        )
    }

    fn on_instruments(&mut self, url: &str, body: &str, out: &mut Output) {
        let answer: RestAnswer<Vec<InstrumentRow>> = match serde_json::from_str(body) {
            Ok(a) => a,
            Err(e) => return parse_error(out, format!("get_instruments: {e}")),
        };
        let Some(rows) = answer.result else {
            let why = answer.error.map(|e| e.message).unwrap_or_default();
            return unknown(out, format!("get_instruments error: {why}"));
        };
        let key = query_param(url, "currency").unwrap_or_else(|| url.to_string());
        let mut list = Vec::new();
        for row in rows {
            // Perpetual futures only (cryptofeed's lists include options).
            if row.kind.as_deref().is_some_and(|k| k != "future")
                || row.settlement_period.as_deref() != Some("perpetual")
            {
                continue;
            }
            let Some(instrument) = parse_native(&row.instrument_name) else {
                continue;
            };
            let inverse = match row.instrument_type.as_deref() {
                Some("reversed") => true,
                Some("linear") => false,
                _ => !row.instrument_name.contains('_'),
            };
            self.inverse.insert(row.instrument_name.clone(), inverse);
            if row.is_active == Some(false) {
                continue;
            }
            let contract = num(row.contract_size).map(|d| d.normalize());
            list.push(InstrumentInfo {
                instrument,
                native: row.instrument_name,
                // Coarser ticks above some prices (`tick_size_steps`) are
                // not modelled: this is the finest.
                tick_size: num(row.tick_size).map(|d| d.normalize()),
                lot_size: num(row.min_trade_amount).map(|d| d.normalize()),
                contract_size: if inverse { None } else { contract },
                contract_usd: if inverse { contract } else { None },
            });
        }
        self.lists.insert(key, list);
        out.event(MarketEvent::Instruments {
            venue: VENUE,
            list: self.lists.values().flatten().cloned().collect(),
        });
    }
}

/// Who was liquidated in a trade flagged `flag`, the taker having traded
/// `taker`. Deribit: `"M"` when the maker side was under liquidation, `"T"`
/// the taker side, `"MT"` both. A liquidated long is closed by a sell and a
/// short by a buy: a taker-side liquidation of a buying taker is a short,
/// a maker-side liquidation opposite a buying taker (the maker sold) is a
/// long. `None` for a flag Deribit does not document.
fn liquidated_sides(flag: &str, taker: TakerSide) -> Vec<Option<LiquidatedSide>> {
    let (taker_side, maker_side) = match taker {
        TakerSide::Buy => (LiquidatedSide::Short, LiquidatedSide::Long),
        TakerSide::Sell => (LiquidatedSide::Long, LiquidatedSide::Short),
    };
    match flag {
        "T" => vec![Some(taker_side)],
        "M" => vec![Some(maker_side)],
        "MT" => vec![Some(taker_side), Some(maker_side)],
        _ => vec![None],
    }
}

/// The value of `key` in a URL's query string.
fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

impl Adapter for Deribit {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        vec![ConnSpec::new(
            self.ws_url.clone(),
            Some(IDLE_TIMEOUT),
            Some(Ping {
                every: PING_EVERY,
                text: PING_TEXT.to_string(),
            }),
        )]
    }

    fn start(&mut self, now: Micros, out: &mut Output) {
        let mut currencies: Vec<String> = self.carried().map(list_currency).collect();
        currencies.sort();
        currencies.dedup();
        for c in currencies {
            out.http_get(self.instruments_url(&c));
        }
        self.backfill(now, out);
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        self.conn_url = Some(url.to_string());
        self.pending.clear();
        for b in self.books.values_mut() {
            b.last_change = None;
        }
        if self.cfg.channels.book {
            let mut books: Vec<Instrument> = self.carried().copied().collect();
            books.sort();
            books.dedup();
            for i in books {
                self.books
                    .entry(i)
                    .or_insert_with(|| BookSync::new(&i, INTERVAL));
                self.lc.subscribing(i, url, out);
            }
        }
        let (_, heartbeat) = self.request(
            "public/set_heartbeat",
            serde_json::json!({ "interval": HEARTBEAT_SECS }),
        );
        out.send(url, heartbeat);
        let channels = self.channels();
        self.subscribe(url, &channels, out);
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        if self.conn_url.as_deref() != Some(url) {
            self.conn_url = Some(url.to_string());
        }
        let msg: Rpc = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => return parse_error(out, format!("not JSON-RPC: {e}: {}", preview(text))),
        };
        if let Some(method) = msg.method.as_deref() {
            return match method {
                "subscription" => self.on_subscription(url, msg.params, received, out),
                "heartbeat" => match msg.params.as_ref().and_then(|p| p.kind.as_deref()) {
                    Some("test_request") => {
                        let (_, text) = self.request("public/test", serde_json::json!({}));
                        out.send(url, text);
                    }
                    Some("heartbeat") | None => {}
                    Some(other) => unknown(out, format!("heartbeat of type {other}")),
                },
                other => unknown(out, format!("method {other}")),
            };
        }
        let id = id_of(msg.id);
        if let Some(err) = msg.error {
            return self.on_error(url, id, err, out);
        }
        if msg.result.is_some() {
            // Answers to subscribe, set_heartbeat and test: nothing to do.
            if let Some(id) = id {
                self.pending.remove(&id);
            }
            return;
        }
        unknown(out, format!("message {}", preview(text)));
    }

    fn on_http(&mut self, url: &str, body: &str, _received: Micros, out: &mut Output) {
        if url.contains("/public/get_instruments") {
            self.on_instruments(url, body, out);
        } else if url.contains(history::FUNDING_PATH) {
            self.on_funding_history(url, body, out);
        } else if url.contains(history::KLINES_PATH) {
            self.on_klines(url, body, out);
        } else {
            unknown(out, format!("REST body from {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // The lists refine tick sizes and confirm inverse instruments;
        // books convert by the instrument names without them.
        tracing::warn!(venue = "deribit", url, "REST request failed: {error}");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        for b in self.books.values_mut() {
            b.last_change = None;
        }
        self.pending.clear();
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
