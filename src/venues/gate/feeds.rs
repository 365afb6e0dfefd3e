//! Gate trades, liquidations, futures tickers and the instrument lists.

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::wire::{
    self, Contract, CurrencyPair, FuturesTicker, FuturesTrade, PublicLiquidate, SpotTrade,
};
use super::{Gate, Market, VENUE, parse_error, unknown};
use crate::model::InstrumentInfo;
use crate::model::{
    Funding, FundingUpdate, Instrument, LiquidatedSide, Liquidation, MarketEvent, Micros,
    TakerSide, Trade,
};
use crate::venues::Output;
use crate::venues::parse::{self, preview};

/// A `result` that is one object or a list of them.
fn rows(raw: &RawValue) -> Vec<&RawValue> {
    if raw.get().trim_start().starts_with('[') {
        serde_json::from_str(raw.get()).unwrap_or_default()
    } else {
        vec![raw]
    }
}

impl Gate {
    /// Contracts → base, or `None` (held back) before the multiplier is known.
    fn contracts(&self, contract: &str, size: Decimal) -> Option<Decimal> {
        self.to_base(Market::Futures, contract, size.abs())
    }

    pub(super) fn on_trades(
        &mut self,
        market: Market,
        result: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        for row in rows(result) {
            let parsed = match market {
                Market::Spot => serde_json::from_str::<SpotTrade>(row.get())
                    .ok()
                    .and_then(|t| {
                        let side = match t.side.as_str() {
                            "buy" => TakerSide::Buy,
                            "sell" => TakerSide::Sell,
                            _ => return None,
                        };
                        let i = Self::resolve(Market::Spot, &t.currency_pair)?;
                        let price = wire::decimal(Some(t.price))?;
                        let size = wire::decimal(Some(t.amount))?;
                        Some((i, price, Some(size), side, wire::ms(t.create_time_ms)))
                    }),
                Market::Futures => serde_json::from_str::<FuturesTrade>(row.get())
                    .ok()
                    .and_then(|t| {
                        let i = Self::resolve(Market::Futures, &t.contract)?;
                        let price = wire::decimal(Some(t.price))?;
                        let signed = wire::decimal(Some(t.size))?;
                        let side = if signed.is_sign_negative() {
                            TakerSide::Sell
                        } else {
                            TakerSide::Buy
                        };
                        Some((
                            i,
                            price,
                            self.contracts(&t.contract, signed),
                            side,
                            wire::ms(t.create_time_ms),
                        ))
                    }),
            };
            let Some((instrument, price, size, side, ts)) = parsed else {
                parse_error(out, format!("trade {}", preview(row.get())));
                continue;
            };
            let Some(size) = size else {
                tracing::debug!(%instrument, "Gate trade before the contract size is known: dropped");
                continue;
            };
            out.trade(Trade {
                venue: VENUE,
                instrument,
                price,
                size,
                side,
                exchange_ts: ts,
                received,
            });
        }
    }

    /// `futures.public_liquidates`: a negative order size is a forced sell
    /// (a long liquidated), a positive one a forced buy (a short).
    pub(super) fn on_liquidations(
        &mut self,
        result: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        for row in rows(result) {
            let parsed = serde_json::from_str::<PublicLiquidate>(row.get())
                .ok()
                .and_then(|l| {
                    let i = Self::resolve(Market::Futures, &l.contract)?;
                    let price = wire::decimal(Some(l.price))?;
                    let signed = wire::decimal(Some(l.size)).filter(|s| !s.is_zero())?;
                    let side = if signed.is_sign_negative() {
                        LiquidatedSide::Long
                    } else {
                        LiquidatedSide::Short
                    };
                    Some((i, l.contract, price, signed, side, wire::ms(l.time_ms)))
                });
            let Some((instrument, contract, price, signed, side, ts)) = parsed else {
                parse_error(out, format!("liquidation {}", preview(row.get())));
                continue;
            };
            let Some(size) = self.contracts(&contract, signed) else {
                tracing::debug!(%instrument, "Gate liquidation before the contract size is known: dropped");
                continue;
            };
            out.liquidation(Liquidation {
                venue: VENUE,
                instrument,
                side,
                price,
                size,
                exchange_ts: ts,
                received,
            });
        }
    }

    pub(super) fn on_tickers(
        &mut self,
        result: &RawValue,
        time_ms: Option<i64>,
        received: Micros,
        out: &mut Output,
    ) {
        for row in rows(result) {
            let Ok(t) = serde_json::from_str::<FuturesTicker>(row.get()) else {
                parse_error(out, format!("futures ticker {}", preview(row.get())));
                continue;
            };
            let Some(instrument) = Self::resolve(Market::Futures, &t.contract) else {
                unknown(out, format!("ticker for unknown contract {}", t.contract));
                continue;
            };
            let oi = wire::decimal(t.total_size).and_then(|c| self.contracts(&t.contract, c));
            self.funding(
                instrument,
                &t.contract,
                [t.funding_rate, t.mark_price, t.index_price],
                oi,
                time_ms,
                received,
                out,
            );
        }
    }

    /// One funding event; `fields` are the rate, mark and index price.
    #[allow(clippy::too_many_arguments)]
    fn funding(
        &self,
        instrument: Instrument,
        contract: &str,
        [rate, mark, index]: [Option<&RawValue>; 3],
        oi: Option<Decimal>,
        time_ms: Option<i64>,
        received: Micros,
        out: &mut Output,
    ) {
        let update = FundingUpdate {
            funding_rate: wire::decimal(rate),
            next_funding: self.next_funding.get(contract).copied(),
            open_interest: oi,
            mark_price: wire::decimal(mark),
            index_price: wire::decimal(index),
            // Not filled yet: `funding_rate_indicative` (predicted) and the
            // contract's `funding_interval`.
            ..FundingUpdate::default()
        };
        if update == FundingUpdate::default() {
            return;
        }
        out.funding(Funding {
            venue: VENUE,
            instrument,
            update,
            exchange_ts: time_ms.and_then(parse::ms_to_micros),
            received,
        });
    }

    pub(super) fn on_currency_pairs(&mut self, body: &str, out: &mut Output) {
        let pairs: Vec<CurrencyPair> = match serde_json::from_str(body) {
            Ok(p) => p,
            Err(e) => return parse_error(out, format!("currency_pairs: {e}: {}", preview(body))),
        };
        let list = pairs
            .into_iter()
            .filter(|p| p.trade_status.as_deref().is_none_or(|s| s == "tradable"))
            .filter_map(|p| {
                let i = Instrument::spot(&p.base, &p.quote).ok()?;
                Some(InstrumentInfo::linear(
                    i,
                    p.id,
                    wire::step(p.precision),
                    wire::step(p.amount_precision),
                    None,
                ))
            })
            .collect();
        self.lists.insert(Market::Spot, list);
        self.publish_lists(out);
    }

    pub(super) fn on_contracts(&mut self, body: &str, received: Micros, out: &mut Output) {
        let rows: Vec<Contract> = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("contracts: {e}: {}", preview(body))),
        };
        let mut list = Vec::new();
        for c in rows {
            let linear = c.kind.as_deref().is_none_or(|k| k == "direct");
            let Some(instrument) = Self::resolve(Market::Futures, &c.name).filter(|_| linear)
            else {
                continue;
            };
            let multiplier = wire::decimal(c.quanto_multiplier).filter(|m| parse::is_price(*m));
            if let Some(m) = multiplier {
                self.multipliers.insert(c.name.clone(), m.normalize());
            }
            if let Some(t) = wire::decimal(c.funding_next_apply)
                .and_then(|s| i64::try_from(s.trunc()).ok())
                .and_then(parse::secs_to_micros)
            {
                self.next_funding.insert(c.name.clone(), t);
            }
            if c.in_delisting == Some(true) {
                continue;
            }
            let lot = multiplier.and_then(|m| {
                let min = wire::decimal(c.order_size_min).unwrap_or(Decimal::ONE);
                m.checked_mul(min).map(|d| d.normalize())
            });
            let tick = wire::decimal(c.order_price_round).map(|d| d.normalize());
            if self.cfg.channels.funding && self.cfg.instruments.contains(&instrument) {
                let oi = wire::decimal(c.position_size).and_then(|p| self.contracts(&c.name, p));
                self.funding(
                    instrument,
                    &c.name,
                    [c.funding_rate, c.mark_price, c.index_price],
                    oi,
                    None,
                    received,
                    out,
                );
            }
            list.push(InstrumentInfo::linear(
                instrument,
                c.name,
                tick,
                lot,
                multiplier.map(|m| m.normalize()),
            ));
        }
        self.lists.insert(Market::Futures, list);
        self.publish_lists(out);
    }

    fn publish_lists(&self, out: &mut Output) {
        out.event(MarketEvent::Instruments {
            venue: VENUE,
            list: self.lists.values().flatten().cloned().collect(),
        });
    }
}
