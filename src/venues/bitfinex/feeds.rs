//! Bitfinex trades and status channels.
//!
//! - `trades` ("ws-public-trades"): a snapshot of recent trades after
//!   `subscribed` (history, not live flow: skipped), then each trade twice,
//!   `te` at execution and `tu` once written to the database. Only `te` is
//!   taken. `[ID, MTS, AMOUNT, PRICE]`, AMOUNT > 0 when the taker bought.
//! - `status` `deriv:SYMBOL` ("ws-public-status"): `[MTS, _, DERIV_PRICE,
//!   SPOT_PRICE, _, INSURANCE_FUND_BALANCE, _, NEXT_FUNDING_EVT_MTS,
//!   NEXT_FUNDING_ACCRUED, NEXT_FUNDING_STEP, _, CURRENT_FUNDING, _, _,
//!   MARK_PRICE, _, _, OPEN_INTEREST, …]` (the REST `/v2/status/deriv` rows
//!   have `KEY` first, so their indexes are one higher). CURRENT_FUNDING is
//!   the rate of the current 8 h period; OPEN_INTEREST is in the base asset,
//!   as derivative amounts are (unverified: the docs say "outstanding
//!   contracts"). SPOT_PRICE is Bitfinex's own spot mid, not an index, so no
//!   index price is given.
//! - `status` `liq:global`: `[["pos", POS_ID, MTS, _, SYMBOL, AMOUNT,
//!   BASE_PRICE, _, IS_MATCH, IS_MARKET_SOLD, _, PRICE_ACQUIRED], …]` for
//!   every market. IS_MATCH 0 is the liquidation trigger, 1 a market
//!   execution of it (there may be several), so only triggers are taken,
//!   once per POS_ID, as tardis-dev's normalizer does. AMOUNT > 0 is a long
//!   liquidated. The price is PRICE_ACQUIRED when given, else BASE_PRICE.
//!   Margin positions on spot pairs are in the feed too; only perpetuals
//!   are kept.

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::wire::{decimal_at, elements, integer_at, text_at};
use super::{Bitfinex, VENUE};
use crate::model::{
    Funding, FundingUpdate, Instrument, LiquidatedSide, Liquidation, Micros, TakerSide, Trade,
};
use crate::venues::Output;
use crate::venues::parse::{ms_to_micros, preview};

/// Bitfinex exchanges funding every 8 hours ("Derivatives Status":
/// CURRENT_FUNDING is "applied in the current 8h period").
const FUNDING_INTERVAL: Micros = 8 * 3_600 * 1_000_000;

/// Liquidation position ids remembered against double counting.
const SEEN_LIQUIDATIONS: usize = 4096;

fn ms(v: Option<i64>) -> Option<Micros> {
    v.and_then(ms_to_micros)
}

impl Bitfinex {
    pub(super) fn on_trade(
        &mut self,
        instrument: Instrument,
        tag: &str,
        data: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        match tag {
            "te" => {}
            // The same trade again, once written (and funding trades).
            "tu" | "fte" | "ftu" => return,
            other => {
                return out.unknown(VENUE, Some(instrument), format!("trades message {other}"));
            }
        }
        let row = match elements(data) {
            Ok(r) => r,
            Err(e) => return out.parse_error(VENUE, Some(instrument), format!("trade: {e}")),
        };
        let (Some(amount), Some(price)) = (decimal_at(&row, 2), decimal_at(&row, 3)) else {
            let why = format!("trade {}", preview(data.get()));
            return out.parse_error(VENUE, Some(instrument), why);
        };
        let side = if amount > Decimal::ZERO {
            TakerSide::Buy
        } else if amount < Decimal::ZERO {
            TakerSide::Sell
        } else {
            return out.parse_error(VENUE, Some(instrument), "trade of amount 0");
        };
        out.trade(Trade {
            venue: VENUE,
            instrument,
            price,
            size: amount.abs(),
            side,
            exchange_ts: ms(integer_at(&row, 1)),
            received,
        });
    }

    pub(super) fn on_deriv_status(
        &mut self,
        instrument: Instrument,
        data: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        let row = match elements(data) {
            Ok(r) => r,
            Err(e) => {
                return out.parse_error(VENUE, Some(instrument), format!("deriv status: {e}"));
            }
        };
        let update = FundingUpdate {
            funding_rate: decimal_at(&row, 11),
            // NEXT_FUNDING_ACCRUED is what has accrued so far in the
            // period (it grows with NEXT_FUNDING_STEP), not a prediction.
            predicted_rate: None,
            next_funding: ms(integer_at(&row, 7)),
            interval: Some(FUNDING_INTERVAL),
            open_interest: decimal_at(&row, 17),
            open_interest_usd: None,
            mark_price: decimal_at(&row, 14),
            index_price: None,
        };
        let empty = FundingUpdate {
            interval: Some(FUNDING_INTERVAL),
            ..FundingUpdate::default()
        };
        if update == empty {
            return; // a row of nulls says nothing
        }
        out.funding(Funding {
            venue: VENUE,
            instrument,
            update,
            exchange_ts: ms(integer_at(&row, 0)),
            received,
        });
    }

    pub(super) fn on_liquidations(&mut self, data: &RawValue, received: Micros, out: &mut Output) {
        let rows = match elements(data) {
            Ok(r) => r,
            Err(e) => return out.parse_error(VENUE, None, format!("liq:global: {e}")),
        };
        // One row unwrapped, or a list of rows.
        let rows: Vec<Vec<&RawValue>> = if text_at(&rows, 0) == Some("pos") {
            vec![rows]
        } else {
            let mut all = Vec::with_capacity(rows.len());
            for r in rows {
                match elements(r) {
                    Ok(cells) => all.push(cells),
                    Err(e) => return out.parse_error(VENUE, None, format!("liq:global row: {e}")),
                }
            }
            all
        };
        for row in rows {
            self.liquidation_row(&row, received, out);
        }
    }

    fn liquidation_row(&mut self, row: &[&RawValue], received: Micros, out: &mut Output) {
        if text_at(row, 0) != Some("pos") {
            return out.unknown(VENUE, None, "liq:global row that is not a position");
        }
        if integer_at(row, 8) != Some(0) {
            return; // a market execution of a trigger already counted
        }
        let Some(instrument) = text_at(row, 4)
            .and_then(|s| self.resolve(s))
            .filter(Instrument::is_perp)
        else {
            return;
        };
        let (Some(amount), Some(pos_id)) = (decimal_at(row, 5), integer_at(row, 1)) else {
            return out.parse_error(VENUE, Some(instrument), "liquidation without amount or id");
        };
        let price = decimal_at(row, 11)
            .filter(|p| *p > Decimal::ZERO)
            .or_else(|| decimal_at(row, 6));
        let Some(price) = price else {
            return out.parse_error(VENUE, Some(instrument), "liquidation without a price");
        };
        let side = if amount > Decimal::ZERO {
            LiquidatedSide::Long
        } else if amount < Decimal::ZERO {
            LiquidatedSide::Short
        } else {
            return out.parse_error(VENUE, Some(instrument), "liquidation of amount 0");
        };
        if !self.liq_seen.insert(pos_id) {
            return;
        }
        self.liq_order.push_back(pos_id);
        if self.liq_order.len() > SEEN_LIQUIDATIONS
            && let Some(old) = self.liq_order.pop_front()
        {
            self.liq_seen.remove(&old);
        }
        out.liquidation(Liquidation {
            venue: VENUE,
            instrument,
            side,
            price,
            size: amount.abs(),
            exchange_ts: ms(integer_at(row, 2)),
            received,
        });
    }
}
