//! Binance: spot, USD-M and COIN-M perpetuals, one venue (`binance`).
//!
//! Books follow Binance's documented diff-depth + REST snapshot procedure
//! (see [`sync`]); trades come from `aggTrade`, liquidations from
//! `!forceOrder@arr` and funding from `markPrice@1s`. Since Binance's 2026
//! split, USD-M book streams live under `/public` and everything else under
//! `/market`; COIN-M (`dstream`/`dapi`) has one stream endpoint. A
//! connection is classified spot, USD-M or COIN-M by its address.
//!
//! COIN-M is USD-M with two differences: symbols (`BTCUSD_PERP` as
//! `BTC-USD-PERP`; dated futures are not carried) and sizes, which are
//! contracts of `contractSize` USD (see [`contracts`]). Books are kept in
//! contracts and converted at publication, so a COIN-M snapshot waits for
//! `exchangeInfo`. Open interest (USD-M and COIN-M) comes from REST
//! `openInterest`, asked for once a minute while mark prices stream.

mod contracts;
mod history;
mod messages;
mod plan;
mod routing;
pub mod sim;
mod sync;

#[cfg(test)]
mod coinm_tests;
#[cfg(test)]
mod tests;

use rust_decimal::Decimal;

use crate::model::InstrumentKind;
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use std::collections::HashMap;
use std::time::Duration;

use crate::model::{
    Funding, FundingUpdate, Instrument, InstrumentInfo, LiquidatedSide, Liquidation, MarketEvent,
    Micros, OutOfSyncReason, SeqInfo, TakerSide, Trade, Venue,
};
use crate::venues::buffered;
use crate::venues::lifecycle::{Lifecycle, Update};
use crate::venues::parse::ms_to_micros;
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output};

use contracts::Sizing;
use messages::{
    DepthSnapshot, DepthUpdate, Envelope, EventHead, ExchangeInfo, ForceOrderEvent, MarkPriceEvent,
    OpenInterest, TradeEvent, decimal,
};
use routing::{Endpoints, EventKind, RestBody};
use sync::{BookSync, Diff, Effect, Rules, Snapshot};

pub use routing::Market;

pub const SPEC: VenueSpec = VenueSpec {
    name: "binance",
    display_name: "Binance",
    info: VenueInfo {
        markets: "spot, USD-M perpetuals, COIN-M perpetuals (BTCUSD_PERP as BTC-USD-PERP, contracts in USD)",
        book: "diff depth 100ms + REST snapshot (U/u, pu)",
        trades: "aggTrade (taker side from buyer-is-maker)",
        liquidations: "USD-M and COIN-M !forceOrder@arr (sampled: latest per symbol per second)",
        funding: "markPrice@1s (funding rate, next funding, mark, index); open interest from REST openInterest once a minute",
        integrity: "update-id sequence (spot U == prev u + 1, USD-M and COIN-M pu == prev u)",
    },
    capture_names: &["BINANCE", "BINANCE_FUTURES", "BINANCE_DELIVERY"],
    endpoints: &[
        Endpoint::ws(
            "spot_ws",
            "wss://stream.binance.com:9443",
            "spot combined streams",
        ),
        Endpoint::rest(
            "spot_rest",
            "https://api.binance.com",
            "spot depth snapshots and exchangeInfo",
        ),
        Endpoint::ws(
            "futures_public_ws",
            "wss://fstream.binance.com/public",
            "USD-M depth (the 2026 /public split)",
        ),
        Endpoint::ws(
            "futures_market_ws",
            "wss://fstream.binance.com/market",
            "USD-M trades, mark price, liquidations",
        ),
        Endpoint::rest(
            "futures_rest",
            "https://fapi.binance.com",
            "USD-M depth snapshots, exchangeInfo and open interest",
        ),
        Endpoint::ws(
            "coinm_ws",
            "wss://dstream.binance.com",
            "COIN-M combined streams",
        ),
        Endpoint::rest(
            "coinm_rest",
            "https://dapi.binance.com",
            "COIN-M depth snapshots, exchangeInfo and open interest",
        ),
    ],
    taker_fee_bps: bps(10, 0),
    colour: "#f0b90b",
    carries,
    // COIN-M's BTC-USD-PERP and ETH-USD-PERP are carried but not listed by
    // default yet: adding them changes the default-watchlist screens.
    default_listing: &["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"],
    build: |cfg| Box::new(Binance::new(cfg)),
    sim: Some(&sim::SIM),
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// A book connection silent for this long is recycled. Not shorter: an
/// illiquid pair can go half a minute without a diff (RUNEEUR sent one in
/// the 31 s spot capture), and a connection carries few symbols.
const BOOK_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Open interest is asked for this often (weight 1 per symbol).
const OPEN_INTEREST_EVERY: Micros = 60_000_000;

/// Spot lists everything; USD-M here means USDT- or USDC-margined perpetuals,
/// COIN-M the coin-margined USD ones.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if matches!(instrument.quote.as_str(), "USDT" | "USDC" | "USD") => {
            Ok(())
        }
        InstrumentKind::Perp => {
            Err("binance lists USDT and USDC perpetuals (USD-M) and USD perpetuals (COIN-M) only")
        }
    }
}

/// One book being kept in sync.
struct BookEntry {
    instrument: Instrument,
    sync: BookSync<Rules>,
    /// A COIN-M snapshot that arrived before the contract size: applied
    /// when `exchangeInfo` gives it (diffs buffer meanwhile).
    pending: Option<Snapshot>,
}

pub struct Binance {
    cfg: AdapterConfig,
    endpoints: Endpoints,
    /// Native symbol → instrument, per market.
    symbols: [HashMap<String, Instrument>; Market::COUNT],
    /// Listed instruments from `exchangeInfo`, per market.
    listed: [Vec<InstrumentInfo>; Market::COUNT],
    /// Books by native symbol, per market.
    books: [HashMap<String, BookEntry>; Market::COUNT],
    /// COIN-M USD per contract by native symbol (`exchangeInfo`).
    contract_usd: HashMap<String, Decimal>,
    /// Latest COIN-M mark price by native symbol, to value open interest.
    marks: HashMap<String, Decimal>,
    /// When open interest was last asked for, per market.
    open_interest_at: [Option<Micros>; Market::COUNT],
    /// Scratch space for the sync state machine's effects.
    effects: Vec<Effect>,
    lc: Lifecycle,
}

impl Binance {
    pub fn new(cfg: AdapterConfig) -> Self {
        let endpoints = Endpoints::from_config(&cfg);
        let mut symbols: [HashMap<String, Instrument>; Market::COUNT] = Default::default();
        for inst in &cfg.instruments {
            let market = Market::of(inst);
            symbols[market.index()].insert(market.native(inst), *inst);
        }
        Binance {
            cfg,
            endpoints,
            symbols,
            listed: Default::default(),
            books: Default::default(),
            contract_usd: HashMap::new(),
            marks: HashMap::new(),
            open_interest_at: [None; Market::COUNT],
            effects: Vec::new(),
            lc: Lifecycle::new(VENUE),
        }
    }

    /// Native symbol → instrument: exchangeInfo or the configured list, else
    /// read from the symbol (remembered).
    fn resolve(&mut self, market: Market, native: &str) -> Option<Instrument> {
        let map = &mut self.symbols[market.index()];
        if let Some(i) = map.get(native) {
            return Some(*i);
        }
        let inst = market.instrument(native)?;
        map.insert(native.to_ascii_uppercase(), inst);
        Some(inst)
    }

    /// How `native`'s wire quantities become base quantities; `None` for a
    /// COIN-M symbol whose contract size is not known yet.
    fn sizing(&self, market: Market, native: &str) -> Option<Sizing> {
        match market {
            Market::Spot | Market::Futures => Some(Sizing::Base),
            Market::CoinM => self
                .contract_usd
                .get(native)
                .map(|usd| Sizing::UsdContracts(*usd)),
        }
    }

    /// A symbol no instrument stands for: a COIN-M dated future is not
    /// carried (said once per message at debug level), anything else is an
    /// unknown message.
    fn unresolved(&self, market: Market, what: &str, native: &str, out: &mut Output) {
        if market == Market::CoinM && routing::is_dated_future(native) {
            tracing::debug!(venue = "binance", %native, "{what} of a dated future: not carried");
        } else {
            self.unknown(out, None, format!("{what} for unknown symbol {native}"));
        }
    }

    /// The book of `native`, created on first sight.
    fn book_entry(&mut self, market: Market, native: &str) -> Option<&mut BookEntry> {
        if !self.books[market.index()].contains_key(native) {
            let instrument = self.resolve(market, native)?;
            self.books[market.index()].insert(
                native.to_string(),
                BookEntry {
                    instrument,
                    sync: BookSync::new(market.rules()),
                    pending: None,
                },
            );
        }
        self.books[market.index()].get_mut(native)
    }

    fn parse_error(&self, out: &mut Output, url: &str, what: &str, err: impl std::fmt::Display) {
        out.parse_error(VENUE, None, format!("{what} from {url}: {err}"));
    }

    fn unknown(&self, out: &mut Output, instrument: Option<Instrument>, detail: String) {
        out.unknown(VENUE, instrument, detail);
    }

    /// Parse one payload, counting a failure as a parse error.
    fn parse<'a, T: serde::Deserialize<'a>>(
        &self,
        out: &mut Output,
        url: &str,
        what: &str,
        text: &'a str,
    ) -> Option<T> {
        match serde_json::from_str(text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.parse_error(out, url, what, e);
                None
            }
        }
    }

    /// Parse an event payload of the kind its stream carries. A well-formed
    /// event of another type (`e`) is an unknown message, not a parse error.
    fn parse_event<'a, T: serde::Deserialize<'a>>(
        &self,
        out: &mut Output,
        url: &str,
        kind: EventKind,
        what: &str,
        text: &'a str,
    ) -> Option<T> {
        match serde_json::from_str(text) {
            Ok(v) => Some(v),
            Err(e) => {
                // Only on failure: the normal path parses once.
                match serde_json::from_str::<EventHead>(text) {
                    Ok(EventHead { e: Some(event) }) if EventKind::of_event(event) != kind => {
                        self.unknown(out, None, format!("`{event}` event on a {what} stream"));
                    }
                    _ => self.parse_error(out, url, what, e),
                }
                None
            }
        }
    }

    /// A payload that may be a single event or an array of them (`!…@arr`).
    fn parse_many<'a, T: serde::Deserialize<'a>>(
        &self,
        out: &mut Output,
        url: &str,
        kind: EventKind,
        what: &str,
        text: &'a str,
    ) -> Vec<T> {
        if text.trim_start().starts_with('[') {
            self.parse::<Vec<T>>(out, url, what, text)
                .unwrap_or_default()
        } else {
            self.parse_event::<T>(out, url, kind, what, text)
                .into_iter()
                .collect()
        }
    }

    fn on_depth(
        &mut self,
        market: Market,
        url: &str,
        payload: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(msg) =
            self.parse_event::<DepthUpdate>(out, url, EventKind::Depth, "depthUpdate", payload)
        else {
            return;
        };
        if market.is_perp() && msg.prev_last_id.is_none() {
            self.parse_error(out, url, "futures depthUpdate", "missing `pu`");
            return;
        }
        let diff = Diff {
            first: msg.first_id,
            last: msg.last_id,
            prev_last: msg.prev_last_id,
            bids: msg.bids.0,
            asks: msg.asks.0,
            exchange_ts: msg.event_time.and_then(ms_to_micros),
            received,
        };
        let symbol = msg.symbol;
        let mut fx = std::mem::take(&mut self.effects);
        let instrument = match self.book_entry(market, symbol) {
            Some(entry) => {
                entry.sync.on_diff(diff, &mut fx);
                entry.instrument
            }
            None => {
                self.effects = fx;
                return self.unresolved(market, "depthUpdate", symbol, out);
            }
        };
        self.lc.carried_by(instrument, url, out);
        self.publish(market, symbol, &mut fx, out);
        self.effects = fx;
    }

    /// Turn sync effects into lifecycle transitions and snapshot requests,
    /// book data converted to base quantities.
    fn publish(&mut self, market: Market, native: &str, fx: &mut Vec<Effect>, out: &mut Output) {
        match self.sizing(market, native) {
            Some(sizing) => sizing.convert_effects(fx),
            // Never reached (COIN-M snapshots wait for the contract size),
            // but a book without base sizes must not be published.
            None => fx.retain(|e| !matches!(e, Effect::Snapshot(_) | Effect::Delta(_))),
        }
        let Some(entry) = self.books[market.index()].get_mut(native) else {
            return;
        };
        let url = self.endpoints.depth_url(market, native);
        buffered::publish(
            &mut entry.sync,
            &mut self.lc,
            entry.instrument,
            fx,
            out,
            |stale, out| {
                // A snapshot older than the stream is part of the documented
                // procedure, not a fault: no incident.
                if stale {
                    tracing::debug!(venue = "binance", %native, "snapshot older than the diffs: fetching again");
                }
                out.http_get(url.clone());
            },
        );
    }

    fn on_trade(
        &mut self,
        market: Market,
        url: &str,
        payload: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(msg) =
            self.parse_event::<TradeEvent>(out, url, EventKind::Trade, "trade", payload)
        else {
            return;
        };
        let (Some(price), Some(qty)) = (decimal(msg.price), decimal(msg.qty)) else {
            return self.parse_error(out, url, "trade", "bad price or quantity");
        };
        let Some(instrument) = self.resolve(market, msg.symbol) else {
            return self.unresolved(market, "trade", msg.symbol, out);
        };
        let Some(sizing) = self.sizing(market, msg.symbol) else {
            tracing::debug!(venue = "binance", symbol = %msg.symbol, "trade before the contract size is known: dropped");
            return;
        };
        let Some(size) = sizing.to_base(qty, price) else {
            return self.parse_error(out, url, "trade", format!("{qty} contracts out of range"));
        };
        out.trade(Trade {
            venue: VENUE,
            instrument,
            price,
            size,
            side: if msg.buyer_is_maker {
                TakerSide::Sell
            } else {
                TakerSide::Buy
            },
            exchange_ts: msg.event_time.or(msg.trade_time).and_then(ms_to_micros),
            received,
        });
    }

    fn on_force_order(
        &mut self,
        market: Market,
        url: &str,
        payload: &str,
        received: Micros,
        out: &mut Output,
    ) {
        for msg in self.parse_many::<ForceOrderEvent>(
            out,
            url,
            EventKind::ForceOrder,
            "forceOrder",
            payload,
        ) {
            let o = &msg.order;
            let side = match o.side {
                "SELL" => LiquidatedSide::Long,
                "BUY" => LiquidatedSide::Short,
                other => {
                    self.parse_error(out, url, "forceOrder", format!("side `{other}`"));
                    continue;
                }
            };
            let non_zero = |s: Option<&str>| s.and_then(decimal).filter(|d| !d.is_zero());
            let qty = non_zero(o.filled_qty).or_else(|| decimal(o.qty));
            let price = non_zero(o.avg_price).or_else(|| decimal(o.price));
            let (Some(qty), Some(price)) = (qty, price) else {
                self.parse_error(out, url, "forceOrder", "bad price or quantity");
                continue;
            };
            let Some(instrument) = self.resolve(market, o.symbol) else {
                self.unresolved(market, "forceOrder", o.symbol, out);
                continue;
            };
            // `!forceOrder@arr` covers the whole market: a COIN-M symbol not
            // in exchangeInfo has no contract size and is left out.
            let Some(sizing) = self.sizing(market, o.symbol) else {
                tracing::debug!(venue = "binance", symbol = %o.symbol, "forceOrder without a contract size: dropped");
                continue;
            };
            let Some(size) = sizing.to_base(qty, price) else {
                self.parse_error(
                    out,
                    url,
                    "forceOrder",
                    format!("{qty} contracts out of range"),
                );
                continue;
            };
            out.liquidation(Liquidation {
                venue: VENUE,
                instrument,
                side,
                price,
                size,
                exchange_ts: o.trade_time.or(msg.event_time).and_then(ms_to_micros),
                received,
            });
        }
    }

    fn on_mark_price(
        &mut self,
        market: Market,
        url: &str,
        payload: &str,
        received: Micros,
        out: &mut Output,
    ) {
        for msg in self.parse_many::<MarkPriceEvent>(
            out,
            url,
            EventKind::MarkPrice,
            "markPriceUpdate",
            payload,
        ) {
            let Some(instrument) = self.resolve(market, msg.symbol) else {
                self.unresolved(market, "markPrice", msg.symbol, out);
                continue;
            };
            let field = |s: Option<&str>| s.filter(|s| !s.is_empty()).and_then(decimal);
            if market == Market::CoinM
                && let Some(mark) = field(msg.mark_price)
            {
                self.marks.insert(msg.symbol.to_string(), mark);
            }
            let update = FundingUpdate {
                funding_rate: field(msg.funding_rate),
                next_funding: msg.next_funding.filter(|t| *t > 0).and_then(ms_to_micros),
                open_interest: None,
                mark_price: field(msg.mark_price),
                index_price: field(msg.index_price),
                ..FundingUpdate::default()
            };
            out.funding(Funding {
                venue: VENUE,
                instrument,
                update,
                exchange_ts: msg.event_time.and_then(ms_to_micros),
                received,
            });
        }
        // The mark price stream carries no open interest on either market.
        if market.is_perp() {
            self.poll_open_interest(market, received, out);
        }
    }

    /// Ask for the open interest of every configured perpetual of `market`
    /// when a minute has passed (driven by the mark price stream, which
    /// arrives every second; replay drops the requests).
    fn poll_open_interest(&mut self, market: Market, now: Micros, out: &mut Output) {
        if !self.cfg.channels.funding
            || self.open_interest_at[market.index()]
                .is_some_and(|at| now.saturating_sub(at) < OPEN_INTEREST_EVERY)
        {
            return;
        }
        self.open_interest_at[market.index()] = Some(now);
        let mut natives: Vec<String> = self
            .cfg
            .instruments
            .iter()
            .filter(|i| carries(i).is_ok() && Market::of(i) == market)
            .map(|i| market.native(i))
            .collect();
        natives.dedup();
        for native in natives {
            out.http_get(self.endpoints.open_interest_url(market, &native));
        }
    }

    /// REST `openInterest`: COIN-M counts contracts, so the USD value is
    /// exact and the base quantity is that over the latest mark price.
    fn on_open_interest(
        &mut self,
        market: Market,
        native: &str,
        url: &str,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(oi) = self.parse::<OpenInterest>(out, url, "openInterest", body) else {
            return;
        };
        let Some(qty) = oi.open_interest else {
            let why = format!(
                "openInterest refused: {} {}",
                oi.code.map(|c| c.to_string()).unwrap_or_default(),
                oi.msg.as_deref().unwrap_or("(no message)")
            );
            tracing::warn!(venue = "binance", %url, "{why}");
            return self.unknown(out, None, why);
        };
        let Some(qty) = decimal(qty) else {
            return self.parse_error(out, url, "openInterest", format!("bad quantity `{qty}`"));
        };
        let native = oi.symbol.unwrap_or(native);
        let Some(instrument) = self.resolve(market, native) else {
            return self.unresolved(market, "openInterest", native, out);
        };
        let (base, usd) = match self.sizing(market, native) {
            Some(Sizing::Base) => (Some(qty), None),
            Some(sizing @ Sizing::UsdContracts(per)) => {
                let base = self
                    .marks
                    .get(native)
                    .and_then(|mark| sizing.to_base(qty, *mark));
                (base, qty.checked_mul(per).map(|d| d.normalize()))
            }
            None => {
                tracing::debug!(venue = "binance", %native, "open interest before the contract size is known: dropped");
                return;
            }
        };
        out.funding(Funding {
            venue: VENUE,
            instrument,
            update: FundingUpdate {
                open_interest: base,
                open_interest_usd: usd,
                ..FundingUpdate::default()
            },
            exchange_ts: oi.time.and_then(ms_to_micros),
            received,
        });
    }

    fn on_depth_snapshot(
        &mut self,
        market: Market,
        native: &str,
        url: &str,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(snap) = self.parse::<DepthSnapshot>(out, url, "depth snapshot", body) else {
            return;
        };
        let (Some(id), Some(bids), Some(asks)) = (snap.last_update_id, snap.bids, snap.asks) else {
            // An error body such as {"code":-1121,"msg":"Invalid symbol."}:
            // the runtime retries; the book says why it is not there.
            let why = format!(
                "depth snapshot refused: {} {}",
                snap.code.map(|c| c.to_string()).unwrap_or_default(),
                snap.msg.as_deref().unwrap_or("(no message)")
            );
            tracing::warn!(venue = "binance", %url, "{why}");
            let instrument = self.resolve(market, native);
            if let Some(instrument) = instrument
                && !self.lc.is_live(&instrument)
            {
                self.lc
                    .fail(instrument, OutOfSyncReason::Venue(why.clone()), out);
            }
            self.unknown(out, instrument, why);
            return;
        };
        let snapshot = Snapshot {
            last_update_id: id,
            bids: bids.0,
            asks: asks.0,
            exchange_ts: snap.event_time.and_then(ms_to_micros),
            received,
        };
        let known_size = self.sizing(market, native).is_some();
        let mut fx = std::mem::take(&mut self.effects);
        let Some(entry) = self.book_entry(market, native) else {
            self.effects = fx;
            return self.unresolved(market, "depth snapshot", native, out);
        };
        if !known_size {
            tracing::debug!(venue = "binance", %native, "snapshot before the contract size: held until exchangeInfo");
            entry.pending = Some(snapshot);
            self.effects = fx;
            return;
        }
        entry.sync.on_snapshot(snapshot, &mut fx);
        self.publish(market, native, &mut fx, out);
        self.effects = fx;
    }

    /// Apply the COIN-M snapshots that were waiting for a contract size.
    fn apply_pending_snapshots(&mut self, out: &mut Output) {
        let market = Market::CoinM;
        let ready: Vec<String> = self.books[market.index()]
            .iter()
            .filter(|(native, b)| b.pending.is_some() && self.contract_usd.contains_key(*native))
            .map(|(native, _)| native.clone())
            .collect();
        for native in ready {
            let mut fx = std::mem::take(&mut self.effects);
            if let Some(entry) = self.books[market.index()].get_mut(&native)
                && let Some(snapshot) = entry.pending.take()
            {
                entry.sync.on_snapshot(snapshot, &mut fx);
            }
            self.publish(market, &native, &mut fx, out);
            self.effects = fx;
        }
    }

    fn on_exchange_info(&mut self, market: Market, url: &str, body: &str, out: &mut Output) {
        let Some(info) = self.parse::<ExchangeInfo>(out, url, "exchangeInfo", body) else {
            return;
        };
        if info.symbols.is_empty() && info.code.is_some() {
            let why = format!(
                "exchangeInfo refused: {} {}",
                info.code.unwrap_or_default(),
                info.msg.as_deref().unwrap_or("(no message)")
            );
            tracing::warn!(venue = "binance", %url, "{why}");
            return self.unknown(out, None, why);
        }
        let mut listed = Vec::new();
        for s in &info.symbols {
            if market.is_perp() && s.contract_type != Some("PERPETUAL") {
                continue;
            }
            let built = match market {
                Market::Spot => Instrument::spot(s.base_asset, s.quote_asset),
                Market::Futures | Market::CoinM => Instrument::perp(s.base_asset, s.quote_asset),
            };
            let Ok(instrument) = built else { continue };
            // A COIN-M contract without a usable size cannot be converted:
            // its books stay syncing rather than show contracts as coins.
            let contract_usd = match market {
                Market::CoinM => match s.contract_size.filter(|d| *d > Decimal::ZERO) {
                    Some(usd) => Some(usd.normalize()),
                    None => {
                        let why = format!("exchangeInfo: {} without contractSize", s.symbol);
                        self.parse_error(out, url, "exchangeInfo", why);
                        continue;
                    }
                },
                Market::Spot | Market::Futures => None,
            };
            if let Some(usd) = contract_usd {
                self.contract_usd.insert(s.symbol.to_string(), usd);
            }
            self.symbols[market.index()].insert(s.symbol.to_string(), instrument);
            if s.is_trading() {
                listed.push(InstrumentInfo {
                    instrument,
                    native: s.symbol.to_string(),
                    tick_size: s.tick_size(),
                    lot_size: s.lot_size(),
                    contract_size: None,
                    contract_usd,
                });
            }
        }
        self.listed[market.index()] = listed;
        // Publish the markets together: they are one venue's list.
        let list = self.listed.iter().flatten().cloned().collect();
        out.event(MarketEvent::Instruments { venue: VENUE, list });
        if market == Market::CoinM {
            self.apply_pending_snapshots(out);
        }
    }

    /// Dispatch one payload by kind.
    fn on_payload(
        &mut self,
        kind: EventKind,
        market: Market,
        url: &str,
        payload: &str,
        received: Micros,
        out: &mut Output,
    ) {
        match kind {
            EventKind::Depth => self.on_depth(market, url, payload, received, out),
            EventKind::Trade => self.on_trade(market, url, payload, received, out),
            EventKind::ForceOrder => self.on_force_order(market, url, payload, received, out),
            EventKind::MarkPrice => self.on_mark_price(market, url, payload, received, out),
            EventKind::ServerShutdown => {
                tracing::info!(venue = "binance", %url, "serverShutdown: reconnecting");
                out.reconnect(url, "Binance announced a server shutdown");
            }
            EventKind::Unused => {
                let detail = payload.get(..60).unwrap_or(payload);
                self.unknown(out, None, format!("unused stream: {detail}"));
            }
        }
    }
}

impl Adapter for Binance {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        plan::connections(&self.cfg, &self.endpoints, BOOK_IDLE_TIMEOUT)
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        let mut wanted = [false; Market::COUNT];
        for inst in self.cfg.instruments.iter().filter(|i| carries(i).is_ok()) {
            wanted[Market::of(inst).index()] = true;
        }
        for market in Market::ALL {
            if wanted[market.index()] {
                out.http_get(self.endpoints.exchange_info_url(market));
            }
        }
        self.backfill(out);
    }

    fn on_open(&mut self, url: &str, now: Micros, out: &mut Output) {
        let market = self.endpoints.market_of_ws(url);
        for native in routing::depth_symbols(url) {
            let mut fx = std::mem::take(&mut self.effects);
            let Some(entry) = self.book_entry(market, &native) else {
                self.effects = fx;
                self.unresolved(market, "depth stream", &native, out);
                continue;
            };
            // A new connection is a new stream: whatever was built on the
            // old one (or buffered from it) is rebuilt from a new snapshot.
            entry.sync.open(now, &mut fx);
            let instrument = entry.instrument;
            self.lc.subscribing(instrument, url, out);
            self.publish(market, &native, &mut fx, out);
            self.effects = fx;
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let Some(env) = self.parse::<Envelope>(out, url, "frame", text) else {
            return;
        };
        let market = self.endpoints.market_of_ws(url);
        let (payload, kind) = match (env.data, env.e) {
            (Some(data), _) => (data.get(), env.stream.and_then(EventKind::of_stream)),
            (None, Some(e)) => (text, Some(EventKind::of_event(e))),
            (None, None) => {
                if let Some(err) = env.error {
                    let why = format!(
                        "request refused: {} {}",
                        err.code.unwrap_or_default(),
                        err.msg.as_deref().unwrap_or("(no message)")
                    );
                    tracing::warn!(venue = "binance", %url, "{why}");
                    self.unknown(out, None, why);
                } else if env.id.is_none() {
                    let detail = text.get(..60).unwrap_or(text);
                    self.unknown(out, None, format!("unrecognised frame: {detail}"));
                }
                // else: a subscription reply {"result":null,"id":N}.
                return;
            }
        };
        let kind = match kind {
            Some(k) => k,
            None => match serde_json::from_str::<EventHead>(payload) {
                Ok(head) => head.e.map_or(EventKind::Unused, EventKind::of_event),
                Err(e) => return self.parse_error(out, url, "payload", e),
            },
        };
        self.on_payload(kind, market, url, payload, received, out);
    }

    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        if let Some(kind) = history::kind_of(url) {
            return self.on_history(url, body, kind, out);
        }
        if history::is_klines(url) {
            return self.on_klines(url, body, out);
        }
        match RestBody::classify(url) {
            Some(RestBody::Depth { market, native }) => {
                self.on_depth_snapshot(market, &native, url, body, received, out)
            }
            Some(RestBody::ExchangeInfo { market }) => {
                self.on_exchange_info(market, url, body, out)
            }
            Some(RestBody::OpenInterest { market, native }) => {
                self.on_open_interest(market, &native, url, body, received, out)
            }
            None => self.unknown(out, None, format!("unexpected REST body from {url}")),
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // The runtime retries; a diff arriving after SNAPSHOT_RETRY asks again.
        tracing::warn!(venue = "binance", %url, "REST request failed: {error}");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        let carried = self.lc.on_conn(url);
        for entry in self.books.iter_mut().flat_map(|m| m.values_mut()) {
            if carried.contains(&entry.instrument) {
                entry.sync.close();
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

    /// `GET /api/v3/depth` (spot), `/fapi/v1/depth` (USD-M) or
    /// `/dapi/v1/depth` (COIN-M), 100 levels: request weight 5 against 6 000
    /// (spot) and 2 400 (futures) a minute.
    fn poll_depth(&self, instrument: &Instrument) -> Option<DepthPoll> {
        carries(instrument).ok()?;
        let market = Market::of(instrument);
        let url = self
            .endpoints
            .depth_url(market, &market.native(instrument))
            .replace("limit=1000", "limit=100");
        Some(DepthPoll {
            url,
            post: None,
            every: Duration::from_millis(500),
        })
    }

    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output) {
        let Some(snap) = self.parse::<DepthSnapshot>(out, "poll", "polled depth", body) else {
            return;
        };
        let (Some(mut bids), Some(mut asks)) = (snap.bids, snap.asks) else {
            return self.unknown(out, Some(instrument), "polled depth without levels".into());
        };
        let market = Market::of(&instrument);
        let Some(sizing) = self.sizing(market, &market.native(&instrument)) else {
            tracing::debug!(venue = "binance", %instrument, "polled depth before the contract size is known: dropped");
            return;
        };
        sizing.convert(&mut bids.0);
        sizing.convert(&mut asks.0);
        let u = Update {
            instrument,
            bids: bids.0,
            asks: asks.0,
            seq: SeqInfo {
                first: None,
                last: snap.last_update_id,
            },
            exchange_ts: snap.event_time.and_then(ms_to_micros),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}

impl Binance {
    /// The sync state of a book, for tests and diagnostics: the last applied
    /// update id when live.
    pub fn last_update_id(&self, market: Market, native: &str) -> Option<u64> {
        self.books[market.index()]
            .get(native)
            .and_then(|b| b.sync.last_update_id())
    }
}
