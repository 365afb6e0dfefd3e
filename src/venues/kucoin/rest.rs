//! KuCoin REST bodies: connection tokens, book snapshots (spot
//! `level2_100`, or a recorded full v3 book; futures `level2/snapshot`),
//! the spot symbol and futures contract lists, and the REST fallback.
//!
//! Rate limits (docs-new "Rate Limit"): the public pool allows 2 000
//! weight per 30 s per IP; spot `level2_100` weighs 4, the futures
//! snapshot more. Polling one book every 300 ms stays far below both.

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::sync::ContractSpec;
use super::wire::{Bullet, Contract, Rest, RestBook, SpotSymbol, decimal, time_micros};
use super::{Kucoin, Market, VENUE, common_asset, native_symbol, parse_spot};
use crate::model::{
    Funding, FundingUpdate, Instrument, InstrumentInfo, Level, Micros, OutOfSyncReason, SeqInfo,
};
use crate::venues::buffered::Snapshot;
use crate::venues::lifecycle::Update;
use crate::venues::parse::{self, preview};
use crate::venues::{DepthPoll, Output};

/// The `symbol=` query parameter of a URL.
fn symbol_param(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("symbol="))
        .filter(|s| !s.is_empty())
}

/// REST levels `[price, size]`, strings or numbers.
fn levels(rows: &[Vec<&RawValue>]) -> Option<Vec<Level>> {
    rows.iter()
        .map(|r| match r.as_slice() {
            [p, s, ..] => Some(Level::new(decimal(p)?, decimal(s)?)),
            _ => None,
        })
        .collect()
}

impl Kucoin {
    pub(super) fn on_rest(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        let m = self.market_of_rest(url);
        let path = url.split('?').next().unwrap_or(url);
        let rest: Rest = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => {
                let why = format!("REST {path}: {e}: {}", preview(body));
                return out.parse_error(VENUE, None, why);
            }
        };
        if path.ends_with("/bullet-public") {
            self.on_bullet(m, &rest, out)
        } else if path.contains("/market/orderbook/level2") {
            self.on_snapshot(Market::Spot, url, &rest, received, out)
        } else if path.contains("/level2/snapshot") || path.contains("/level2/depth") {
            self.on_snapshot(Market::Futures, url, &rest, received, out)
        } else if path.ends_with("/symbols") {
            self.on_symbols(&rest, out)
        } else if path.ends_with("/contracts/active") {
            self.on_contracts(&rest, received, out);
            self.release_held(out);
        } else {
            out.unknown(VENUE, None, format!("unexpected REST body from {path}"))
        }
    }

    fn on_bullet(&mut self, m: Market, rest: &Rest, out: &mut Output) {
        let bullet: Option<Bullet> = rest
            .data
            .filter(|_| rest.ok())
            .and_then(|d| serde_json::from_str(d.get()).ok());
        let Some(b) = bullet else {
            return out.unknown(
                VENUE,
                None,
                format!("bullet-public refused: {}", rest.why()),
            );
        };
        let Some(server) = b.instance_servers.first() else {
            return out.parse_error(VENUE, None, "bullet-public without instanceServers");
        };
        if let Some(ms) = server.ping_interval
            && ms < 15_000
        {
            tracing::warn!(
                venue = "kucoin",
                "pingInterval {ms} ms is below our 15 s ping"
            );
        }
        let endpoint = server.endpoint.clone();
        self.dial(m, &endpoint, &b.token, out);
    }

    fn on_snapshot(
        &mut self,
        m: Market,
        url: &str,
        rest: &Rest,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(native) = symbol_param(url).map(str::to_string) else {
            return out.unknown(VENUE, None, format!("snapshot without symbol: {url}"));
        };
        let book: Option<RestBook> = rest
            .data
            .filter(|_| rest.ok())
            .and_then(|d| serde_json::from_str(d.get()).ok());
        let Some(book) = book else {
            let why = format!("book snapshot refused: {}", rest.why());
            let instrument = self.resolve(m, &native);
            if let Some(i) = instrument
                && !self.lc.is_live(&i)
            {
                self.lc.fail(i, OutOfSyncReason::Venue(why.clone()), out);
            }
            return out.unknown(VENUE, instrument, why);
        };
        let (Some(bids), Some(asks)) = (levels(&book.bids), levels(&book.asks)) else {
            let i = self.resolve(m, &native);
            return out.parse_error(VENUE, i, format!("snapshot {native}: bad level"));
        };
        let snap = Snapshot {
            last_update_id: book.sequence,
            bids,
            asks,
            exchange_ts: book.time.or(book.ts).and_then(time_micros),
            received,
        };
        let known = self.contracts.contains_key(&native);
        let mut fx = std::mem::take(&mut self.effects);
        let Some(b) = self.book(m, &native) else {
            self.effects = fx;
            return out.unknown(VENUE, None, format!("snapshot for unknown symbol {native}"));
        };
        if m == Market::Futures && !known {
            // Lots cannot be sized yet: wait for the contract list.
            b.held = Some(snap);
            self.effects = fx;
            return;
        }
        b.sync.on_snapshot(snap, &mut fx);
        self.publish(m, &native, &mut fx, out);
        self.effects = fx;
    }

    /// Futures snapshots that waited for their contract size.
    fn release_held(&mut self, out: &mut Output) {
        let ready: Vec<String> = self.books[Market::Futures.index()]
            .iter()
            .filter(|(n, b)| b.held.is_some() && self.contracts.contains_key(*n))
            .map(|(n, _)| n.clone())
            .collect();
        for n in ready {
            let mut fx = std::mem::take(&mut self.effects);
            if let Some(b) = self.books[Market::Futures.index()].get_mut(&n)
                && let Some(snap) = b.held.take()
            {
                b.sync.on_snapshot(snap, &mut fx);
            }
            self.publish(Market::Futures, &n, &mut fx, out);
            self.effects = fx;
        }
    }

    fn on_symbols(&mut self, rest: &Rest, out: &mut Output) {
        let rows: Option<Vec<SpotSymbol>> = rest
            .data
            .filter(|_| rest.ok())
            .and_then(|d| serde_json::from_str(d.get()).ok());
        let Some(rows) = rows else {
            return out.parse_error(VENUE, None, format!("symbols: {}", rest.why()));
        };
        let mut list: Vec<InstrumentInfo> = rows
            .into_iter()
            .filter(|r| r.enable_trading)
            .filter_map(|r| {
                let instrument = Instrument::spot(
                    common_asset(&r.base_currency),
                    common_asset(&r.quote_currency),
                )
                .ok()
                .or_else(|| parse_spot(&r.symbol))?;
                Some(InstrumentInfo {
                    instrument,
                    tick_size: r.price_increment.as_deref().and_then(parse::decimal),
                    lot_size: r.base_increment.as_deref().and_then(parse::decimal),
                    native: r.symbol,
                    contract_size: None,
                    contract_usd: None,
                })
            })
            .collect();
        list.sort_by(|a, b| a.native.cmp(&b.native));
        self.listed[Market::Spot.index()] = list;
        self.publish_listing(out);
    }

    fn on_contracts(&mut self, rest: &Rest, received: Micros, out: &mut Output) {
        let rows: Option<Vec<Contract>> = rest
            .data
            .filter(|_| rest.ok())
            .and_then(|d| serde_json::from_str(d.get()).ok());
        let Some(rows) = rows else {
            return out.parse_error(VENUE, None, format!("contracts: {}", rest.why()));
        };
        let configured: Vec<String> = self
            .configured()
            .filter(Instrument::is_perp)
            .map(|i| native_symbol(&i))
            .collect();
        let mut list = Vec::new();
        let mut funding = Vec::new();
        for r in rows {
            // FFWCSX: perpetual; FFICSX: dated futures, left out.
            if !(r.kind.is_empty() || r.kind == "FFWCSX") {
                continue;
            }
            let Some(instrument) = Instrument::perp(
                common_asset(&r.base_currency),
                common_asset(&r.quote_currency),
            )
            .ok()
            .or_else(|| super::parse_perp(&r.symbol)) else {
                continue;
            };
            let Some(mult) = r.multiplier.and_then(decimal).filter(|d| !d.is_zero()) else {
                continue;
            };
            let spec = ContractSpec {
                value: mult.abs(),
                inverse: r.is_inverse,
            };
            self.contracts.insert(r.symbol.clone(), spec);
            self.perps.insert(r.symbol.clone(), instrument);
            if configured.contains(&r.symbol) {
                funding.push(contract_funding(instrument, spec, &r, received));
            }
            if r.status.as_deref().is_none_or(|s| s == "Open") {
                list.push(InstrumentInfo {
                    instrument,
                    native: r.symbol,
                    tick_size: r.tick_size.and_then(decimal),
                    lot_size: r.lot_size.and_then(decimal),
                    contract_size: (!spec.inverse).then(|| spec.value.normalize()),
                    contract_usd: spec.inverse.then(|| spec.value.normalize()),
                });
            }
        }
        list.sort_by(|a, b| a.native.cmp(&b.native));
        self.listed[Market::Futures.index()] = list;
        self.publish_listing(out);
        for f in funding {
            out.funding(f);
        }
    }

    pub(super) fn poll_request(&self, instrument: &Instrument) -> DepthPoll {
        let m = Market::of(instrument);
        DepthPoll {
            url: self.snapshot_url(m, &native_symbol(instrument)),
            post: None,
            every: Duration::from_millis(300),
        }
    }

    pub(super) fn polled(
        &mut self,
        instrument: Instrument,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let rest: Rest = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return out.parse_error(VENUE, Some(instrument), format!("polled book: {e}")),
        };
        let book: Option<RestBook> = rest
            .data
            .filter(|_| rest.ok())
            .and_then(|d| serde_json::from_str(d.get()).ok());
        let Some(book) = book else {
            let why = format!("polled book refused: {}", rest.why());
            return out.unknown(VENUE, Some(instrument), why);
        };
        let (Some(mut bids), Some(mut asks)) = (levels(&book.bids), levels(&book.asks)) else {
            return out.parse_error(VENUE, Some(instrument), "polled book: bad level");
        };
        if instrument.is_perp() {
            let Some(spec) = self.contracts.get(&native_symbol(&instrument)) else {
                // Lots without a contract size: nothing to show yet.
                return;
            };
            spec.convert(&mut bids);
            spec.convert(&mut asks);
        }
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo {
                first: None,
                last: Some(book.sequence),
            },
            exchange_ts: book.time.or(book.ts).and_then(time_micros),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}

/// Funding, next funding, open interest (lots to base), mark and index from
/// a contract row.
fn contract_funding(
    instrument: Instrument,
    spec: ContractSpec,
    r: &Contract,
    received: Micros,
) -> Funding {
    let mark = r.mark_price.and_then(decimal);
    let open_interest = r
        .open_interest
        .and_then(decimal)
        .and_then(|lots| spec.to_base(lots, mark.unwrap_or(Decimal::ZERO)))
        .map(|d| d.normalize());
    let next_funding = r
        .next_funding_rate_date_time
        .and_then(parse::ms_to_micros)
        .or_else(|| {
            r.next_funding_rate_time
                .and_then(parse::ms_to_micros)
                .and_then(|d| received.checked_add(d))
        });
    Funding {
        venue: VENUE,
        instrument,
        update: FundingUpdate {
            funding_rate: r.funding_fee_rate.and_then(decimal),
            predicted_rate: r.predicted_funding_fee_rate.and_then(decimal),
            next_funding,
            interval: r.funding_rate_granularity.and_then(parse::ms_to_micros),
            open_interest,
            mark_price: mark,
            index_price: r.index_price.and_then(decimal),
            ..FundingUpdate::default()
        },
        exchange_ts: None,
        received,
    }
}
