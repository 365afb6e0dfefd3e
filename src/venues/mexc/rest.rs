//! MEXC REST bodies: book snapshots of both markets, the instrument lists,
//! and the REST fallback (polled depth).

use std::time::Duration;

use rust_decimal::Decimal;

use super::sync::ContractSize;
use super::wire::{self, Contract, ExchangeInfo, FuturesRestDepth, Rest, SpotDepth};
use super::{Market, Mexc, VENUE, native_symbol};
use crate::model::InstrumentInfo;
use crate::model::{Instrument, Level, Micros, SeqInfo};
use crate::venues::buffered::Snapshot;
use crate::venues::lifecycle::Update;
use crate::venues::parse::{self, preview};
use crate::venues::{DepthPoll, Output};

/// Levels a polled book asks for (spot allows 5000, futures 1000; the
/// fallback needs the touch and some depth, not the whole book).
const POLL_LIMIT: u32 = 500;
/// MEXC allows 20 public futures requests per 2 s and weights spot depth
/// by size: one poll per half second for the whole venue stays well inside.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// A book body, parsed, in the venue's units.
struct Parsed {
    id: u64,
    bids: Vec<Level>,
    asks: Vec<Level>,
    ts: Option<Micros>,
}

/// `/api/v3/depth?symbol=BTCUSDT&...` → `BTCUSDT`; the contract path
/// `/api/v1/contract/depth/BTC_USDT?limit=…` → `BTC_USDT`.
fn book_symbol(url: &str) -> Option<(Market, String)> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if let Some(rest) = path.split("/api/v1/contract/depth/").nth(1) {
        let sym = rest.trim_end_matches('/');
        return (!sym.is_empty()).then(|| (Market::Futures, sym.to_string()));
    }
    if path.ends_with("/api/v3/depth") {
        let sym = query.split('&').find_map(|kv| kv.strip_prefix("symbol="))?;
        return Some((Market::Spot, sym.to_string()));
    }
    None
}

fn parse_spot_depth(body: &str) -> Result<Parsed, String> {
    let d: SpotDepth = serde_json::from_str(body).map_err(|e| format!("{e}: {}", preview(body)))?;
    let Some(id) = d.last_update_id else {
        return Err(format!(
            "no lastUpdateId: {}",
            d.msg.unwrap_or_else(|| preview(body))
        ));
    };
    let (Some(bids), Some(asks)) = (wire::levels(&d.bids), wire::levels(&d.asks)) else {
        return Err("bad level".to_string());
    };
    Ok(Parsed {
        id,
        bids,
        asks,
        ts: None,
    })
}

fn parse_futures_depth(body: &str) -> Result<Parsed, String> {
    let rest: Rest = serde_json::from_str(body).map_err(|e| format!("{e}: {}", preview(body)))?;
    let data = rest
        .data
        .filter(|_| rest.ok())
        .ok_or_else(|| format!("refused: {}", rest.why()))?;
    let d: FuturesRestDepth =
        serde_json::from_str(data.get()).map_err(|e| format!("{e}: {}", preview(data.get())))?;
    let (Some(bids), Some(asks)) = (wire::levels(&d.bids), wire::levels(&d.asks)) else {
        return Err("bad level".to_string());
    };
    Ok(Parsed {
        id: d.version,
        bids,
        asks,
        ts: d.timestamp.and_then(parse::ms_to_micros),
    })
}

impl Mexc {
    pub(super) fn on_rest(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        let path = url.split('?').next().unwrap_or(url);
        if path.ends_with("/api/v3/exchangeInfo") {
            self.on_exchange_info(body, out);
        } else if path.ends_with("/api/v1/contract/detail") {
            self.on_contracts(body, out);
            self.release_held(out);
        } else if let Some((m, native)) = book_symbol(url) {
            self.on_snapshot_body(m, &native, body, received, out);
        } else {
            out.unknown(VENUE, None, format!("REST body from {path}"));
        }
    }

    fn on_snapshot_body(
        &mut self,
        m: Market,
        native: &str,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(instrument) = self.book_for(m, native) else {
            return out.unknown(
                VENUE,
                None,
                format!("book body for unknown symbol {native}"),
            );
        };
        let parsed = match m {
            Market::Spot => parse_spot_depth(body),
            Market::Futures => parse_futures_depth(body),
        };
        let p = match parsed {
            Ok(p) => p,
            Err(e) => {
                return out.parse_error(VENUE, Some(instrument), format!("{native} snapshot: {e}"));
            }
        };
        let snap = Snapshot {
            last_update_id: p.id,
            bids: p.bids,
            asks: p.asks,
            exchange_ts: p.ts,
            received,
        };
        let known = m == Market::Spot || self.contracts.contains_key(native);
        let mut fx = std::mem::take(&mut self.effects);
        if let Some(b) = self.books.get_mut(&instrument) {
            if known {
                b.sync.on_snapshot(snap, &mut fx);
            } else {
                // Contracts cannot be sized yet: wait for the contract list.
                b.held = Some(snap);
            }
        }
        self.publish(instrument, &mut fx, out);
        self.effects = fx;
    }

    /// Futures snapshots that waited for their contract size.
    fn release_held(&mut self, out: &mut Output) {
        let mut ready: Vec<Instrument> = self
            .books
            .iter()
            .filter(|(_, b)| b.held.is_some() && self.contracts.contains_key(&b.native))
            .map(|(i, _)| *i)
            .collect();
        ready.sort();
        for i in ready {
            let mut fx = std::mem::take(&mut self.effects);
            if let Some(b) = self.books.get_mut(&i)
                && let Some(snap) = b.held.take()
            {
                b.sync.on_snapshot(snap, &mut fx);
            }
            self.publish(i, &mut fx, out);
            self.effects = fx;
        }
    }

    fn on_exchange_info(&mut self, body: &str, out: &mut Output) {
        let ei: ExchangeInfo = match serde_json::from_str(body) {
            Ok(e) => e,
            Err(e) => {
                return out.parse_error(
                    VENUE,
                    None,
                    format!("exchangeInfo: {e}: {}", preview(body)),
                );
            }
        };
        let mut list = Vec::new();
        for s in ei.symbols {
            let Ok(instrument) = Instrument::spot(&s.base_asset, &s.quote_asset) else {
                continue;
            };
            self.natives
                .insert((Market::Spot, s.symbol.clone()), instrument);
            let online = s.status.as_deref().is_none_or(|st| st == "1")
                && s.is_spot_trading_allowed != Some(false);
            if !online {
                continue;
            }
            let tick = s
                .quote_precision
                .filter(|p| *p <= 28)
                .map(|p| Decimal::new(1, p));
            let lot = s
                .base_size_precision
                .as_deref()
                .and_then(parse::decimal)
                .filter(|d| parse::is_price(*d))
                .map(|d| d.normalize());
            list.push(InstrumentInfo::linear(
                instrument, s.symbol, tick, lot, None,
            ));
        }
        self.lists.insert(Market::Spot, list);
        self.publish_lists(out);
    }

    fn on_contracts(&mut self, body: &str, out: &mut Output) {
        let rest: Rest = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => {
                return out.parse_error(
                    VENUE,
                    None,
                    format!("contract detail: {e}: {}", preview(body)),
                );
            }
        };
        let rows: Option<Vec<Contract>> = rest
            .data
            .filter(|_| rest.ok())
            .and_then(|d| serde_json::from_str(d.get()).ok());
        let Some(rows) = rows else {
            return out.parse_error(VENUE, None, format!("contract detail: {}", rest.why()));
        };
        let mut list = Vec::new();
        for c in rows {
            let perpetual = c.future_type.is_none_or(|t| t == 1);
            let linear = c.settle_coin.as_deref().is_none_or(|s| s == c.quote_coin);
            let Ok(instrument) = Instrument::perp(&c.base_coin, &c.quote_coin) else {
                continue;
            };
            if !perpetual || !linear || super::carries(&instrument).is_err() {
                continue;
            }
            let size = wire::decimal(c.contract_size).filter(|d| parse::is_price(*d));
            let Some(size) = size.map(|d| d.normalize()) else {
                out.parse_error(
                    VENUE,
                    Some(instrument),
                    format!("{}: contractSize missing or out of range", c.symbol),
                );
                continue;
            };
            self.contracts.insert(c.symbol.clone(), ContractSize(size));
            self.natives
                .insert((Market::Futures, c.symbol.clone()), instrument);
            if c.state.is_some_and(|s| s != 0) {
                continue;
            }
            let tick = wire::decimal(c.price_unit).map(|d| d.normalize());
            // The order step: volUnit contracts (at least minVol to open).
            let lot = wire::decimal(c.vol_unit)
                .or_else(|| wire::decimal(c.min_vol))
                .and_then(|v| v.checked_mul(size))
                .map(|d| d.normalize());
            list.push(InstrumentInfo::linear(
                instrument,
                c.symbol,
                tick,
                lot,
                Some(size),
            ));
        }
        self.lists.insert(Market::Futures, list);
        self.publish_lists(out);
    }

    pub(super) fn poll_request(&self, instrument: &Instrument) -> DepthPoll {
        let native = native_symbol(instrument);
        let url = match Market::of(instrument) {
            Market::Spot => format!(
                "{}/api/v3/depth?symbol={native}&limit={POLL_LIMIT}",
                self.spot_rest
            ),
            Market::Futures => format!(
                "{}/api/v1/contract/depth/{native}?limit={POLL_LIMIT}",
                self.futures_rest
            ),
        };
        DepthPoll {
            url,
            post: None,
            every: POLL_EVERY,
        }
    }

    pub(super) fn polled(
        &mut self,
        instrument: Instrument,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let m = Market::of(&instrument);
        let parsed = match m {
            Market::Spot => parse_spot_depth(body),
            Market::Futures => parse_futures_depth(body),
        };
        let mut p = match parsed {
            Ok(p) => p,
            Err(e) => {
                return out.parse_error(VENUE, Some(instrument), format!("polled depth: {e}"));
            }
        };
        if m == Market::Futures {
            let Some(cs) = self.contracts.get(&native_symbol(&instrument)).copied() else {
                return; // contracts before their size is known
            };
            for l in p.bids.iter_mut().chain(p.asks.iter_mut()) {
                let Some(size) = cs.to_base(l.size) else {
                    return out.parse_error(
                        VENUE,
                        Some(instrument),
                        "polled depth: size out of range",
                    );
                };
                l.size = size;
            }
        }
        let u = Update {
            instrument,
            bids: p.bids,
            asks: p.asks,
            seq: SeqInfo {
                first: None,
                last: Some(p.id),
            },
            exchange_ts: p.ts,
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
