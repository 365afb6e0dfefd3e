//! Kraken Futures (`wss://futures.kraken.com/ws/v1`): the perpetuals of the
//! `kraken` venue, served by the same adapter as spot; a connection is
//! futures or spot by its URL (replays carry the recorded ones).
//!
//! Naming. `PI_XBTUSD`, the inverse perpetual (margined and settled in the
//! coin, quantities in USD contracts of `contractSize` USD each) is
//! `BTC-USD-PERP`, as inverse perpetuals are on OKX, Deribit and KuCoin.
//! `PF_XBTUSD`, the linear multi-collateral perpetual ("flexible futures",
//! quantities in the coin, quoted and settled in USD, margined in any of
//! several collaterals) is `BTC-USDMC-PERP` ("USD, multi-collateral"), so
//! that the two books of one coin, which trade at different prices, never
//! merge. XBT and XDG read as BTC and DOGE. Dated futures (`FI_`, `FF_`),
//! indices (`IN_`, `RR_`) and anything not quoted in USD are not carried.
//! The product prefix decides inverse or linear: the instrument list's
//! `type` is not reliable for it (the documented example lists `PF_XBTUSD`
//! as `futures_inverse`).
//!
//! Sizes. A PI book level of `qty` contracts is `qty × contractSize /
//! price` coins, so PI books are held back (kept in contracts, not
//! published) until the instrument list (`derivatives/api/v3/instruments`)
//! gives the contract size; PF quantities are already in the coin.
//!
//! Feeds: `book` (a `book_snapshot`, then `book` messages of one level each,
//! absolute quantity, 0 removes), `trade` (a `trade_snapshot` of past
//! trades, skipped; then `trade`: `side` is the taker's, `type`
//! `liquidation` marks liquidations), `ticker` (every second) and
//! `heartbeat`. Funding: `relative_funding_rate` is the rate as a fraction
//! of the position's value per hour (Kraken funds hourly), `funding_rate`
//! an absolute amount per contract, so the relative one (and
//! `relative_funding_rate_prediction` as the predicted rate) is used;
//! `next_funding_rate_time`, which the field table calls "the time until
//! next funding rate in milliseconds" while the example and the feeds send
//! an epoch time, is read as either. `openInterest` is in contracts.
//!
//! Book integrity: `seq` goes up by one per message of a product's book; any
//! other step is a gap: out of sync, unsubscribe and subscribe again for a
//! new snapshot. There is no checksum.
//!
//! Keep-alive: Kraken asks for "a ping request at least every 60 seconds"
//! without specifying one on this API, so every 30 s we repeat the
//! documented, idempotent `heartbeat` subscription (a client write the
//! server answers).

mod book;
mod poll;
#[cfg(test)]
mod tests;
mod wire;

use std::collections::HashMap;
use std::time::Duration;

use rust_decimal::Decimal;

use super::{Kraken, VENUE, common_asset, legacy_asset};
use crate::model::{
    Funding, FundingUpdate, Instrument, InstrumentInfo, LiquidatedSide, Liquidation, Micros,
    OutOfSyncReason, TakerSide, Trade,
};
use crate::venues::parse::{ms_to_micros, preview, usd_contracts_to_base};
use crate::venues::{ConnSpec, Output, Ping};

pub(super) use book::FutBook;
use wire::{InstrumentRow, Instruments, Message, lot_of_precision, num};

/// Products per subscribe message (Kraken publishes no limit).
const PRODUCTS_PER_MESSAGE: usize = 50;
/// Ticker messages come every second per product, heartbeats regularly.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const PING_EVERY: Duration = Duration::from_secs(30);
const PING_TEXT: &str = r#"{"event":"subscribe","feed":"heartbeat"}"#;
/// Perpetuals fund every hour (Kraken's contract specifications: "settling
/// at the end of each hour").
const FUNDING_INTERVAL: Micros = 3_600_000_000;

/// Contract facts of one product, from the instrument list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Contract {
    pub(super) inverse: bool,
    pub(super) size: Decimal,
}

/// The futures side of the Kraken adapter.
pub(super) struct State {
    pub(super) ws_url: String,
    pub(super) rest_url: String,
    /// The URL our futures connection was opened with.
    pub(super) conn_url: Option<String>,
    /// Books by upper-case product id.
    pub(super) books: HashMap<String, FutBook>,
    pub(super) contracts: HashMap<String, Contract>,
    pub(super) list: Vec<InstrumentInfo>,
}

impl State {
    pub(super) fn new(ws_url: String, rest_url: String) -> Self {
        State {
            ws_url,
            rest_url,
            conn_url: None,
            books: HashMap::new(),
            contracts: HashMap::new(),
            list: Vec::new(),
        }
    }

    /// Whether a connection is the futures one: ours, or (replays, older
    /// addresses) any `/ws/v1` or `futures.` host.
    pub(super) fn is_futures_url(&self, url: &str) -> bool {
        url == self.ws_url
            || url.contains("futures.")
            || url.trim_end_matches('/').ends_with("/ws/v1")
    }

    pub(super) fn instruments_url(&self) -> String {
        format!("{}/derivatives/api/v3/instruments", self.rest_url)
    }
}

/// `PI_XBTUSD` → (`BTC-USD-PERP`, inverse), `PF_XBTUSD` → (`BTC-USDMC-PERP`,
/// linear); dated futures, indices and the rest give `None`.
pub fn parse_product(id: &str) -> Option<(Instrument, bool)> {
    let id = id.to_ascii_uppercase();
    let (kind, pair) = id.split_once('_')?;
    if pair.contains('_') || pair.len() < 4 {
        return None;
    }
    let (base, quote) = pair.split_at(pair.len() - 3);
    if quote != "USD" {
        return None;
    }
    let base = common_asset(base);
    match kind {
        "PI" => Some((Instrument::perp(base, quote).ok()?, true)),
        "PF" => Some((Instrument::perp(base, &format!("{quote}MC")).ok()?, false)),
        _ => None,
    }
}

/// The reverse of [`parse_product`].
pub fn product_id(i: &Instrument) -> Option<String> {
    if !i.is_perp() {
        return None;
    }
    let base = legacy_asset(i.base.as_str());
    match i.quote.as_str().strip_suffix("MC") {
        Some(quote) => Some(format!("PF_{base}{quote}")),
        None => Some(format!("PI_{base}{}", i.quote)),
    }
}

impl Kraken {
    fn futures_products(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .cfg
            .instruments
            .iter()
            .filter(|i| i.is_perp() && super::carries(i).is_ok())
            .filter_map(product_id)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    pub(super) fn has_futures(&self) -> bool {
        !self.futures_products().is_empty()
    }

    pub(super) fn futures_connection(&self) -> ConnSpec {
        ConnSpec::new(
            self.fut.ws_url.clone(),
            Some(IDLE_TIMEOUT),
            Some(Ping {
                every: PING_EVERY,
                text: PING_TEXT.to_string(),
            }),
        )
    }

    fn futures_url(&self) -> String {
        self.fut
            .conn_url
            .clone()
            .unwrap_or_else(|| self.fut.ws_url.clone())
    }

    pub(super) fn on_futures_open(&mut self, url: &str, out: &mut Output) {
        self.fut.conn_url = Some(url.to_string());
        for b in self.fut.books.values_mut() {
            b.reset();
        }
        let products = self.futures_products();
        if self.cfg.channels.book {
            let mut books = Vec::new();
            for p in &products {
                if let Some((i, inverse)) = parse_product(p) {
                    self.fut
                        .books
                        .entry(p.clone())
                        .or_insert_with(|| FutBook::new(i, inverse));
                    books.push(i);
                }
            }
            books.sort();
            for i in books {
                self.lc.subscribing(i, url, out);
            }
        }
        let ch = &self.cfg.channels;
        let mut feeds = vec!["heartbeat"];
        if ch.book {
            feeds.push("book");
        }
        if ch.trades || ch.liquidations {
            feeds.push("trade");
        }
        if ch.funding {
            feeds.push("ticker");
        }
        for feed in feeds {
            if feed == "heartbeat" {
                out.send(url, PING_TEXT);
                continue;
            }
            for chunk in products.chunks(PRODUCTS_PER_MESSAGE) {
                out.send(url, subscription("subscribe", feed, chunk));
            }
        }
    }

    pub(super) fn on_futures_close(&mut self, url: &str, out: &mut Output) {
        for b in self.fut.books.values_mut() {
            b.reset();
        }
        self.lc.closed(url, out);
    }

    pub(super) fn on_futures_text(
        &mut self,
        url: &str,
        text: &str,
        received: Micros,
        out: &mut Output,
    ) {
        if self.fut.conn_url.as_deref() != Some(url) {
            self.fut.conn_url = Some(url.to_string());
        }
        let m: Message = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                return out.parse_error(VENUE, None, format!("futures: {e}: {}", preview(text)));
            }
        };
        if let Some(event) = m.event.as_deref() {
            return self.on_futures_event(event, &m, out);
        }
        let Some(feed) = m.feed.as_deref() else {
            return out.unknown(VENUE, None, format!("futures: {}", preview(text)));
        };
        match feed {
            "heartbeat" | "trade_snapshot" | "ticker_lite" => {}
            "book_snapshot" => self.on_futures_book(url, &m, true, received, out),
            "book" => self.on_futures_book(url, &m, false, received, out),
            "trade" => self.on_futures_trade(&m, received, out),
            "ticker" => self.on_futures_ticker(&m, received, out),
            other => out.unknown(VENUE, None, format!("futures feed {other}")),
        }
    }

    fn on_futures_event(&mut self, event: &str, m: &Message, out: &mut Output) {
        match event {
            "info" | "subscribed" | "unsubscribed" | "pong" => {}
            "subscribed_failed" | "error" | "alert" => {
                let why = format!(
                    "Kraken Futures {event}: {}",
                    m.message.as_deref().unwrap_or("")
                );
                tracing::warn!(venue = "kraken", "{why}");
                if m.feed.as_deref() == Some("book") {
                    let mut failed: Vec<Instrument> = m
                        .product_ids
                        .iter()
                        .flatten()
                        .filter_map(|p| parse_product(p).map(|(i, _)| i))
                        .collect();
                    failed.sort();
                    for i in failed {
                        self.lc.fail(i, OutOfSyncReason::Venue(why.clone()), out);
                    }
                    for p in m.product_ids.iter().flatten() {
                        if let Some(b) = self.fut.books.get_mut(&p.to_ascii_uppercase()) {
                            b.reset();
                        }
                    }
                }
                out.unknown(VENUE, None, why);
            }
            other => out.unknown(VENUE, None, format!("futures event {other}")),
        }
    }

    /// `qty` of `product` at `price` in the coin; `None` for a PI product
    /// whose contract size is not known yet, or numbers out of range.
    pub(super) fn futures_base(
        &self,
        product: &str,
        inverse: bool,
        qty: Decimal,
        price: Decimal,
    ) -> Option<Decimal> {
        if !inverse {
            return Some(qty);
        }
        let c = self.fut.contracts.get(product)?;
        usd_contracts_to_base(qty, c.size, price)
    }

    fn on_futures_trade(&mut self, m: &Message, received: Micros, out: &mut Output) {
        let Some((product, instrument, inverse)) = product_of(m) else {
            return out.unknown(VENUE, None, "futures trade of an unknown product");
        };
        let (Some(price), Some(qty)) = (num(m.price), num(m.qty)) else {
            return out.parse_error(VENUE, Some(instrument), "futures trade: bad price/qty");
        };
        let side = match m.side.as_deref() {
            Some("buy") => TakerSide::Buy,
            Some("sell") => TakerSide::Sell,
            other => {
                return out.parse_error(
                    VENUE,
                    Some(instrument),
                    format!("futures trade side {other:?}"),
                );
            }
        };
        let Some(size) = self.futures_base(&product, inverse, qty, price) else {
            tracing::debug!(
                product,
                "Kraken Futures trade before its contract size: dropped"
            );
            return;
        };
        let exchange_ts = m.time.and_then(ms_to_micros);
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
        // A liquidation trade is the liquidated position being closed by
        // Kraken's liquidation engine, the taker: a forced sell closes a
        // long, a forced buy a short (the docs name the type, not the side).
        if m.kind.as_deref() == Some("liquidation") && self.cfg.channels.liquidations {
            out.liquidation(Liquidation {
                venue: VENUE,
                instrument,
                side: match side {
                    TakerSide::Sell => LiquidatedSide::Long,
                    TakerSide::Buy => LiquidatedSide::Short,
                },
                price,
                size,
                exchange_ts,
                received,
            });
        }
    }

    fn on_futures_ticker(&mut self, m: &Message, received: Micros, out: &mut Output) {
        let Some((product, instrument, inverse)) = product_of(m) else {
            return out.unknown(VENUE, None, "futures ticker of an unknown product");
        };
        let mark = num(m.mark_price);
        // `openInterest` is in contracts: USD for PI (so its USD value is
        // the venue's own figure, and its coin amount depends on the mark),
        // the coin for PF.
        let oi = num(m.open_interest);
        let open_interest = oi.and_then(|oi| {
            let price = if inverse { mark? } else { Decimal::ONE };
            self.futures_base(&product, inverse, oi, price)
        });
        let open_interest_usd = oi.filter(|_| inverse).and_then(|oi| {
            let size = self.fut.contracts.get(&product)?.size;
            oi.checked_mul(size)
        });
        let exchange_ts = m.time.and_then(ms_to_micros);
        let update = FundingUpdate {
            funding_rate: num(m.relative_funding_rate),
            predicted_rate: num(m.relative_funding_rate_prediction),
            next_funding: next_funding(m),
            interval: Some(FUNDING_INTERVAL),
            open_interest,
            open_interest_usd,
            mark_price: mark,
            index_price: num(m.index),
        };
        if update.funding_rate.is_none() && open_interest.is_none() && mark.is_none() {
            return;
        }
        out.funding(Funding {
            venue: VENUE,
            instrument,
            update,
            exchange_ts,
            received,
        });
    }

    pub(super) fn on_futures_instruments(
        &mut self,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let resp: Instruments = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return out.parse_error(VENUE, None, format!("futures instruments: {e}")),
        };
        if resp.result.as_deref().is_some_and(|r| r != "success") {
            let why = resp.error.unwrap_or_default();
            return out.unknown(VENUE, None, format!("futures instruments: {why}"));
        }
        let mut list = Vec::new();
        for row in resp.instruments {
            if let Some(info) = self.instrument_row(row) {
                list.push(info);
            }
        }
        list.sort_by(|a, b| a.native.cmp(&b.native));
        self.fut.list = list;
        self.publish_instruments(out);
        self.release_held_futures(received, out);
    }

    fn instrument_row(&mut self, row: InstrumentRow) -> Option<InstrumentInfo> {
        let product = row.symbol.to_ascii_uppercase();
        let (instrument, inverse) = parse_product(&product)?;
        let size = num(row.contract_size).map(|d| d.normalize());
        if let Some(size) = size {
            self.fut
                .contracts
                .insert(product.clone(), Contract { inverse, size });
        }
        if row.tradeable == Some(false) {
            return None;
        }
        Some(InstrumentInfo {
            instrument,
            native: product,
            tick_size: num(row.tick_size).map(|d| d.normalize()),
            lot_size: row
                .contract_value_trade_precision
                .and_then(lot_of_precision),
            contract_size: if inverse { None } else { size },
            contract_usd: if inverse { size } else { None },
        })
    }
}

/// `next_funding_rate_time`: an epoch time in ms (the documented example,
/// and what feeds send), or, as the field table words it, the ms until then.
fn next_funding(m: &Message) -> Option<Micros> {
    let t = num(m.next_funding_rate_time)?;
    let t = i64::try_from(t.trunc()).ok()?;
    if t > 1_000_000_000_000 {
        ms_to_micros(t)
    } else {
        ms_to_micros(m.time?.checked_add(t)?)
    }
}

/// The product a push is about, upper case, with its instrument.
fn product_of(m: &Message) -> Option<(String, Instrument, bool)> {
    let product = m.product_id.as_deref()?.to_ascii_uppercase();
    let (instrument, inverse) = parse_product(&product)?;
    Some((product, instrument, inverse))
}

fn subscription(event: &str, feed: &str, products: &[String]) -> String {
    serde_json::json!({"event": event, "feed": feed, "product_ids": products}).to_string()
}
