//! Crypto.com trades, perpetual derivatives data and the instrument list.

use rust_decimal::Decimal;

use super::wire::{
    InstrumentList, Push, RestAnswer, TickerData, TradeData, ValueData, num, tick_of_places,
};
use super::{
    CryptoCom, FUNDING_INTERVAL, VENUE, carries, parse_error, parse_native, perp_of_index, unknown,
};
use crate::model::{
    Funding, FundingUpdate, Instrument, InstrumentInfo, MarketEvent, Micros, OutOfSyncReason,
    TakerSide, Trade,
};
use crate::venues::Output;
use crate::venues::parse::{ms_to_micros, preview};

/// The instrument a push is about: its `instrument_name`, else `fallback`
/// (the entry's own `i`).
fn pushed_instrument(push: &Push<'_>, fallback: Option<&str>) -> Option<Instrument> {
    parse_native(push.instrument_name.as_deref().or(fallback)?).filter(|i| carries(i).is_ok())
}

/// The end of the hour `ts` falls in: funding is paid on the hour.
fn hour_end(ts: Micros) -> Option<Micros> {
    ts.checked_div(FUNDING_INTERVAL)?
        .checked_add(1)?
        .checked_mul(FUNDING_INTERVAL)
}

impl CryptoCom {
    pub(super) fn on_trades(&mut self, push: &Push<'_>, received: Micros, out: &mut Output) {
        if !self.cfg.channels.trades {
            return;
        }
        let trades: Vec<TradeData> = match serde_json::from_str(push.data.get()) {
            Ok(t) => t,
            Err(e) => return parse_error(out, format!("trade data: {e}")),
        };
        for t in trades {
            let Some(instrument) = pushed_instrument(push, t.i.as_deref()) else {
                unknown(
                    out,
                    format!("trade of {:?} (not carried)", push.instrument_name),
                );
                continue;
            };
            let native = super::native_symbol(&instrument);
            let side = match t.s.as_ref() {
                "BUY" | "buy" => TakerSide::Buy,
                "SELL" | "sell" => TakerSide::Sell,
                other => {
                    parse_error(out, format!("trade side {other:?}"));
                    continue;
                }
            };
            let price = num(Some(t.p));
            let size = num(Some(t.q)).and_then(|q| self.to_base(&native, q));
            let (Some(price), Some(size)) = (price, size) else {
                parse_error(out, format!("trade {native}: bad price/quantity"));
                continue;
            };
            out.trade(Trade {
                venue: VENUE,
                instrument,
                price,
                size,
                side,
                exchange_ts: t.t.and_then(ms_to_micros),
                received,
            });
        }
    }

    /// Perpetual tickers carry the open interest (`oi`, base units); spot
    /// tickers carry nothing we use.
    pub(super) fn on_ticker(&mut self, push: &Push<'_>, received: Micros, out: &mut Output) {
        let rows: Vec<TickerData> = match serde_json::from_str(push.data.get()) {
            Ok(t) => t,
            Err(e) => return parse_error(out, format!("ticker data: {e}")),
        };
        for t in rows {
            let Some(instrument) = pushed_instrument(push, t.i.as_deref()) else {
                unknown(
                    out,
                    format!("ticker of {:?} (not carried)", push.instrument_name),
                );
                continue;
            };
            if !instrument.is_perp() {
                continue;
            }
            let native = super::native_symbol(&instrument);
            let Some(oi) = t.oi else {
                continue;
            };
            let Some(oi) = num(Some(oi)).and_then(|q| self.to_base(&native, q)) else {
                parse_error(out, format!("ticker {native}: bad oi {}", oi.get()));
                continue;
            };
            self.funding(
                instrument,
                FundingUpdate {
                    open_interest: Some(oi),
                    ..FundingUpdate::default()
                },
                t.t,
                received,
                out,
            );
        }
    }

    /// `funding` (this hour's rate), `estimatedfunding` (the next hour's),
    /// `mark` and `index` (`index.BTCUSD-INDEX`, for `BTC-USD-PERP`).
    pub(super) fn on_value(&mut self, push: &Push<'_>, received: Micros, out: &mut Output) {
        let channel = push.channel.as_ref();
        let rows: Vec<ValueData> = match serde_json::from_str(push.data.get()) {
            Ok(v) => v,
            Err(e) => return parse_error(out, format!("{channel} data: {e}")),
        };
        let name = push.instrument_name.as_deref().unwrap_or_default();
        let instrument = if channel == "index" {
            perp_of_index(name)
        } else {
            parse_native(name).filter(|i| i.is_perp())
        };
        let Some(instrument) = instrument else {
            return unknown(out, format!("{channel} of {name:?} (not carried)"));
        };
        for row in rows {
            let Some(v) = num(Some(row.v)) else {
                parse_error(
                    out,
                    format!("{channel} {name}: bad value {}", preview(row.v.get())),
                );
                continue;
            };
            let ts = row.t.and_then(ms_to_micros);
            let update = match channel {
                "funding" => FundingUpdate {
                    funding_rate: Some(v),
                    next_funding: ts.and_then(hour_end),
                    interval: Some(FUNDING_INTERVAL),
                    ..FundingUpdate::default()
                },
                "estimatedfunding" => FundingUpdate {
                    predicted_rate: Some(v),
                    interval: Some(FUNDING_INTERVAL),
                    ..FundingUpdate::default()
                },
                "mark" => FundingUpdate {
                    mark_price: Some(v),
                    ..FundingUpdate::default()
                },
                _ => FundingUpdate {
                    index_price: Some(v),
                    ..FundingUpdate::default()
                },
            };
            self.funding(instrument, update, row.t, received, out);
        }
    }

    fn funding(
        &self,
        instrument: Instrument,
        update: FundingUpdate,
        t_ms: Option<i64>,
        received: Micros,
        out: &mut Output,
    ) {
        if !self.cfg.channels.funding {
            return;
        }
        out.funding(Funding {
            venue: VENUE,
            instrument,
            update,
            exchange_ts: t_ms.and_then(ms_to_micros),
            received,
        });
    }

    /// `public/get-instruments` (v1 `data` rows; v2 `instruments`, spot
    /// only). A live perpetual book whose contract size turns out other than
    /// the one it was built with is rebuilt.
    pub(super) fn on_instruments(&mut self, body: &str, received: Micros, out: &mut Output) {
        let answer: RestAnswer<InstrumentList> = match serde_json::from_str(body) {
            Ok(a) => a,
            Err(e) => return parse_error(out, format!("get-instruments: {e}: {}", preview(body))),
        };
        let Some(list) = answer.result.filter(|_| answer.code.unwrap_or(0) == 0) else {
            let why = answer.message.unwrap_or_default();
            return unknown(
                out,
                format!("get-instruments error {:?}: {why}", answer.code),
            );
        };
        let mut infos = Vec::new();
        let mut changed = Vec::new();
        for row in list.data {
            let perp = match row.inst_type.as_deref() {
                Some("PERPETUAL_SWAP") => true,
                Some("CCY_PAIR") => false,
                _ => continue,
            };
            let Some(instrument) = parse_native(&row.symbol) else {
                continue;
            };
            if instrument.is_perp() != perp || carries(&instrument).is_err() {
                continue;
            }
            let contract = if perp {
                let cs = num(row.contract_size)
                    .filter(|d| *d > Decimal::ZERO)
                    .map(|d| d.normalize());
                let new = cs.unwrap_or(Decimal::ONE);
                if self.contract_size(&row.symbol) != new {
                    changed.push(instrument);
                }
                self.contract.insert(row.symbol.clone(), new);
                cs
            } else {
                None
            };
            if row.tradable == Some(false) {
                continue;
            }
            infos.push(InstrumentInfo {
                instrument,
                native: row.symbol,
                tick_size: num(row.price_tick_size).map(|d| d.normalize()),
                lot_size: num(row.qty_tick_size).map(|d| d.normalize()),
                contract_size: contract,
                contract_usd: None,
            });
        }
        for row in list.instruments {
            let Some(instrument) = parse_native(&row.instrument_name).filter(|i| !i.is_perp())
            else {
                continue;
            };
            infos.push(InstrumentInfo {
                instrument,
                native: row.instrument_name,
                tick_size: tick_of_places(row.price_decimals),
                lot_size: tick_of_places(row.quantity_decimals),
                contract_size: None,
                contract_usd: None,
            });
        }
        infos.sort_by_key(|i| i.instrument);
        out.event(MarketEvent::Instruments {
            venue: VENUE,
            list: infos,
        });
        changed.sort();
        for i in changed {
            if self.lc.is_live(&i) {
                self.lc.fail(
                    i,
                    OutOfSyncReason::Venue("contract size changed: rebuilding".into()),
                    out,
                );
                self.lc.resync(i, "resubscribing book", out);
                self.resubscribe(i, received, out);
            }
        }
    }
}
