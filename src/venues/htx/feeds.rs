//! Everything but books: trades, liquidations, funding, open interest and
//! the instrument lists.

use serde_json::value::RawValue;

use super::sync::ContractSpec;
use super::wire::{
    ContractRow, Envelope, FundingRow, LiquidationRow, OpenInterestRow, RestBody, SpotSymbol,
    TradeTick, decimal, millis, step,
};
use super::{Htx, Market, VENUE, parse_contract, parse_error, unknown};
use crate::model::{
    Funding, FundingUpdate, Instrument, InstrumentInfo, LiquidatedSide, Liquidation, MarketEvent,
    Micros, TakerSide, Trade,
};
use crate::venues::Output;
use crate::venues::parse::ms_to_micros;

impl Htx {
    /// `market.$symbol.trade.detail`: `direction` is the taker's side;
    /// swap `amount` is contracts (`quantity` the same in the coin).
    pub(super) fn on_trades(
        &mut self,
        i: Instrument,
        tick: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        let t: TradeTick = match serde_json::from_str(tick.get()) {
            Ok(t) => t,
            Err(e) => return parse_error(out, format!("{i} trades: {e}")),
        };
        for row in t.data {
            let (Some(price), Some(qty)) = (decimal(row.price), decimal(row.amount)) else {
                parse_error(out, format!("{i} trade: bad price or amount"));
                continue;
            };
            let side = match row.direction.as_ref() {
                "buy" => TakerSide::Buy,
                "sell" => TakerSide::Sell,
                other => {
                    parse_error(out, format!("{i} trade direction `{other}`"));
                    continue;
                }
            };
            let size = self
                .to_base(&i, qty, price)
                .or_else(|| row.quantity.and_then(decimal).map(|q| q.normalize()));
            let Some(size) = size else {
                tracing::debug!(venue = "htx", %i, "trade before the contract size is known: dropped");
                continue;
            };
            out.trade(Trade {
                venue: VENUE,
                instrument: i,
                price,
                size,
                side,
                exchange_ts: row.ts.and_then(ms_to_micros),
                received,
            });
        }
    }

    /// A notification push (`op: notify`).
    pub(super) fn on_notify(&mut self, env: &Envelope, received: Micros, out: &mut Output) {
        let topic = env.topic.as_deref().unwrap_or_default();
        let Some(data) = env.data else {
            return parse_error(out, format!("notify {topic} without data"));
        };
        if topic.ends_with(".liquidation_orders") {
            self.on_liquidations(data, received, out);
        } else if topic.ends_with(".funding_rate") {
            let ts = env.ts.and_then(millis).and_then(ms_to_micros);
            match serde_json::from_str::<Vec<FundingRow>>(data.get()) {
                Ok(rows) => {
                    for r in rows {
                        // Here `funding_time` is when the rate was computed;
                        // the settlement it is for is `settlement_time`.
                        let next = r.settlement_time.and_then(millis);
                        self.funding(&r, next, None, ts, received, out);
                    }
                }
                Err(e) => parse_error(out, format!("{topic}: {e}")),
            }
        } else {
            unknown(out, format!("notify topic {topic}"));
        }
    }

    /// `public.$code.liquidation_orders` rows: `direction` is the forced
    /// order's (a `sell` closes a long), `amount` is in the coin, `volume` in
    /// contracts, `price` the bankruptcy price.
    fn on_liquidations(&mut self, data: &RawValue, received: Micros, out: &mut Output) {
        let rows: Vec<LiquidationRow> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("liquidation_orders: {e}")),
        };
        for row in rows {
            let Some(i) = parse_contract(&row.contract_code) else {
                continue; // dated futures
            };
            let side = match row.direction.as_ref() {
                "sell" => LiquidatedSide::Long,
                "buy" => LiquidatedSide::Short,
                other => {
                    parse_error(out, format!("{i} liquidation direction `{other}`"));
                    continue;
                }
            };
            let Some(price) = decimal(row.price) else {
                parse_error(out, format!("{i} liquidation: bad price"));
                continue;
            };
            let size = row
                .amount
                .and_then(decimal)
                .map(|a| a.normalize())
                .or_else(|| {
                    let contracts = row.volume.and_then(decimal)?;
                    self.to_base(&i, contracts, price)
                });
            let Some(size) = size else {
                parse_error(out, format!("{i} liquidation: no usable amount or volume"));
                continue;
            };
            out.liquidation(Liquidation {
                venue: VENUE,
                instrument: i,
                side,
                price,
                size,
                exchange_ts: row.created_at.and_then(millis).and_then(ms_to_micros),
                received,
            });
        }
    }

    fn funding(
        &self,
        r: &FundingRow,
        next_ms: Option<i64>,
        interval: Option<Micros>,
        ts: Option<Micros>,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(i) = parse_contract(&r.contract_code) else {
            return;
        };
        out.funding(Funding {
            venue: VENUE,
            instrument: i,
            update: FundingUpdate {
                funding_rate: r.funding_rate.and_then(decimal),
                predicted_rate: r.estimated_rate.and_then(decimal),
                next_funding: next_ms.filter(|t| *t > 0).and_then(ms_to_micros),
                interval,
                ..FundingUpdate::default()
            },
            exchange_ts: ts,
            received,
        });
    }

    /// REST `swap_funding_rate` (what cryptofeed's `huobi_swap.py` polls):
    /// here `funding_time` is the coming settlement.
    pub(super) fn on_rest_funding(&mut self, body: &str, received: Micros, out: &mut Output) {
        let Some(data) = self.rest_data(body, "swap_funding_rate", out) else {
            return;
        };
        let ts = serde_json::from_str::<RestBody>(body)
            .ok()
            .and_then(|b| b.ts)
            .and_then(ms_to_micros);
        match serde_json::from_str::<FundingRow>(data.get()) {
            Ok(r) => {
                let next = r.funding_time.and_then(millis);
                // The period, where HTX still gives the settlement after.
                let after = r.next_funding_time.and_then(millis);
                let interval = next
                    .zip(after)
                    .filter(|(n, a)| *n > 0 && a > n)
                    .and_then(|(n, a)| ms_to_micros(a - n));
                self.funding(&r, next, interval, ts, received, out);
            }
            Err(e) => parse_error(out, format!("swap_funding_rate: {e}")),
        }
    }

    /// REST `swap_open_interest`: `amount` is in the coin.
    pub(super) fn on_open_interest(&mut self, body: &str, received: Micros, out: &mut Output) {
        let Some(data) = self.rest_data(body, "swap_open_interest", out) else {
            return;
        };
        let rows: Vec<OpenInterestRow> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("swap_open_interest: {e}")),
        };
        for r in rows {
            let Some(i) = parse_contract(&r.contract_code) else {
                continue;
            };
            let linear = self.contracts.get(&i).filter(|c| !c.inverse);
            let oi = r.amount.and_then(decimal).or_else(|| {
                let contracts = r.volume.and_then(decimal)?;
                linear?.to_base(contracts, rust_decimal::Decimal::ONE)
            });
            let Some(oi) = oi else { continue };
            // Coin-M contracts are worth a fixed USD amount each, so the
            // venue's own volume gives open interest in USD exactly.
            let usd = self
                .contracts
                .get(&i)
                .filter(|c| c.inverse)
                .zip(r.volume.and_then(decimal))
                .and_then(|(c, v)| v.checked_mul(c.value))
                .map(|v| v.normalize());
            out.funding(Funding {
                venue: VENUE,
                instrument: i,
                update: FundingUpdate {
                    open_interest: Some(oi.normalize()),
                    open_interest_usd: usd,
                    ..FundingUpdate::default()
                },
                exchange_ts: None,
                received,
            });
        }
    }

    /// The `data` of an `ok` REST body; a refusal is counted as unknown.
    fn rest_data<'a>(&self, body: &'a str, what: &str, out: &mut Output) -> Option<&'a RawValue> {
        let b: RestBody = match serde_json::from_str(body) {
            Ok(b) => b,
            Err(e) => {
                parse_error(out, format!("{what}: {e}"));
                return None;
            }
        };
        if let Some(why) = b.refused() {
            tracing::warn!(venue = "htx", "{what} refused: {why}");
            unknown(out, format!("{what} refused: {why}"));
            return None;
        }
        let data = b.data;
        if data.is_none() {
            parse_error(out, format!("{what}: no data"));
        }
        data
    }

    /// `GET /v1/common/symbols`.
    pub(super) fn on_spot_symbols(&mut self, body: &str, out: &mut Output) {
        let Some(data) = self.rest_data(body, "common/symbols", out) else {
            return;
        };
        let rows: Vec<SpotSymbol> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("common/symbols: {e}")),
        };
        let mut list = Vec::new();
        for s in rows {
            let Ok(i) = Instrument::spot(&s.base, &s.quote) else {
                continue;
            };
            self.spot_symbols.insert(s.symbol.to_ascii_lowercase(), i);
            if s.state.as_deref().is_none_or(|st| st == "online") {
                list.push(InstrumentInfo {
                    instrument: i,
                    native: s.symbol.to_string(),
                    tick_size: step(s.price_precision),
                    lot_size: step(s.amount_precision),
                    contract_size: None,
                    contract_usd: None,
                });
            }
        }
        self.publish_list(Market::Spot, list, out);
    }

    /// `GET /{linear-swap,swap}-api/v1/swap_contract_info`.
    pub(super) fn on_contracts(&mut self, market: Market, body: &str, out: &mut Output) {
        let Some(data) = self.rest_data(body, "swap_contract_info", out) else {
            return;
        };
        let rows: Vec<ContractRow> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("swap_contract_info: {e}")),
        };
        let mut list = Vec::new();
        for r in rows {
            let Some(i) = parse_contract(&r.contract_code).filter(|i| Market::of(i) == market)
            else {
                continue;
            };
            let size = r
                .contract_size
                .and_then(decimal)
                .filter(|s| s.is_sign_positive() && !s.is_zero())
                .map(|s| s.normalize());
            let inverse = market == Market::Inverse;
            if let Some(value) = size {
                self.contracts.insert(i, ContractSpec { value, inverse });
            }
            if r.contract_status.is_none_or(|s| s == 1) {
                list.push(InstrumentInfo {
                    instrument: i,
                    native: r.contract_code.to_string(),
                    tick_size: r.price_tick.and_then(decimal).map(|t| t.normalize()),
                    // One contract, in the base asset (linear only: an
                    // inverse contract's base quantity moves with the price).
                    lot_size: size.filter(|_| !inverse),
                    contract_size: size.filter(|_| !inverse),
                    contract_usd: size.filter(|_| inverse),
                });
            }
        }
        self.publish_list(market, list, out);
    }

    /// The venue's instruments: every market's latest list, together.
    fn publish_list(&mut self, market: Market, list: Vec<InstrumentInfo>, out: &mut Output) {
        self.listed[market.index()] = list;
        let list = self.listed.iter().flatten().cloned().collect();
        out.event(MarketEvent::Instruments { venue: VENUE, list });
    }
}
