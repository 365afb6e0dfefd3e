//! Instrument lists: v2 `/api/v2/spot/public/symbols` and
//! `/api/v2/mix/market/contracts`, v1 `/api/spot/v1/public/products` and
//! `/api/mix/v1/market/contracts` (recordings). Ticks from the precisions
//! (`pricePlace` × `priceEndStep` for contracts), lots from `sizeMultiplier`
//! (base coin) or the quantity precision.

use super::wire::{self, Contract, Rest, SpotSymbol};
use super::{Bitget, Market, VENUE, parse_error, unknown};
use crate::model::{Instrument, InstrumentInfo, MarketEvent};
use crate::venues::Output;

impl Bitget {
    fn on_spot_symbols(&mut self, rows: Vec<SpotSymbol>) {
        let mut list = Vec::new();
        for r in rows {
            if r.status.as_deref().is_some_and(|s| s != "online") {
                continue;
            }
            let Ok(instrument) = Instrument::spot(&r.base_coin, &r.quote_coin) else {
                continue;
            };
            // v1 lists `BTCUSDT_SPBL` and pushes `BTCUSDT`.
            let native = r.symbol_name.unwrap_or(r.symbol);
            self.listed
                .insert((Market::Spot, native.clone()), instrument);
            list.push(InstrumentInfo {
                instrument,
                native,
                tick_size: wire::step_of(r.price_precision.as_deref(), None),
                lot_size: wire::step_of(r.quantity_precision.as_deref(), None),
                contract_size: None,
                contract_usd: None,
            });
        }
        self.lists.insert(Market::Spot, list);
    }

    fn on_contracts(&mut self, market: Market, rows: Vec<Contract>) {
        let mut list = Vec::new();
        for r in rows {
            let perpetual = r.symbol_type.as_deref().is_none_or(|t| t == "perpetual");
            let trading = r.symbol_status.as_deref().is_none_or(|s| s == "normal");
            // v1 names `BTCUSDT_UMCBL`; dated ones have a third part.
            let mut parts = r.symbol.split('_');
            let native = parts.next().unwrap_or_default().to_string();
            if !perpetual || parts.nth(1).is_some() {
                continue;
            }
            let Ok(instrument) = Instrument::perp(&r.base_coin, &r.quote_coin) else {
                continue;
            };
            self.listed.insert((market, native.clone()), instrument);
            if !trading {
                continue;
            }
            let lot = r
                .size_multiplier
                .as_deref()
                .and_then(crate::venues::parse::decimal)
                .map(|d| d.normalize())
                .or_else(|| wire::step_of(r.volume_place.as_deref(), None));
            list.push(InstrumentInfo {
                instrument,
                native,
                tick_size: wire::step_of(r.price_place.as_deref(), r.price_end_step.as_deref()),
                lot_size: lot,
                // Sizes are base coin: no contract conversion.
                contract_size: None,
                contract_usd: None,
            });
        }
        self.lists.insert(market, list);
    }

    pub(super) fn instruments_urls(&self) -> Vec<String> {
        let mut urls = vec![format!("{}/api/v2/spot/public/symbols", self.rest_url)];
        if self.cfg.instruments.iter().any(Instrument::is_perp) {
            urls.push(format!(
                "{}/api/v2/mix/market/contracts?productType=USDT-FUTURES",
                self.rest_url
            ));
        }
        urls
    }

    /// A REST instrument list (v2 or v1, spot or contracts).
    pub(super) fn on_lists(&mut self, url: &str, body: &str, out: &mut Output) {
        let spot = url.contains("/api/v2/spot/public/symbols")
            || url.contains("/api/spot/v1/public/products");
        let contracts = url.contains("/api/v2/mix/market/contracts")
            || url.contains("/api/mix/v1/market/contracts");
        if !spot && !contracts {
            return unknown(out, format!("HTTP body for {url}"));
        }
        let rest: Rest = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("{url}: {e}")),
        };
        let Some(data) = rest.data.filter(|_| rest.ok()) else {
            let why = format!("{url}: code {:?} {:?}", rest.code, rest.msg);
            return unknown(out, why);
        };
        if spot {
            match serde_json::from_str::<Vec<SpotSymbol>>(data.get()) {
                Ok(rows) => self.on_spot_symbols(rows),
                Err(e) => return parse_error(out, format!("spot symbols: {e}")),
            }
        } else {
            let Some(market) = contracts_market(url) else {
                return unknown(out, format!("contracts of {url}"));
            };
            match serde_json::from_str::<Vec<Contract>>(data.get()) {
                Ok(rows) => self.on_contracts(market, rows),
                Err(e) => return parse_error(out, format!("contracts: {e}")),
            }
        }
        out.event(MarketEvent::Instruments {
            venue: VENUE,
            list: self.lists.values().flatten().cloned().collect(),
        });
    }
}

/// The product line a contracts URL asks for.
fn contracts_market(url: &str) -> Option<Market> {
    let query = url.split_once('?')?.1;
    let kind = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("productType="))?;
    Market::of(kind, "")
}
