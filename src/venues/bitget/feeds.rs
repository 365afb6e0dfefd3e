//! Trades and tickers (funding, mark/index price, open interest), v2 and v1.

use serde_json::value::RawValue;

use super::wire::{self, TickerData, TradeObj};
use super::{Bitget, Market, VENUE, parse_error, unknown};
use crate::model::{Funding, FundingUpdate, Micros, TakerSide, Trade};
use crate::venues::Output;
use crate::venues::checksum::raw_text;
use crate::venues::parse::preview;

impl Bitget {
    /// `trade` pushes. The first push of a subscription is a `snapshot` of
    /// recent trades (history, and repeated on every resubscription): of a
    /// snapshot only the trades newer than any seen are new; before any
    /// trade was seen it only sets that mark.
    pub(super) fn on_trades(
        &mut self,
        data: &RawValue,
        snapshot: bool,
        (market, id): (Market, &str),
        received: Micros,
        out: &mut Output,
    ) {
        let Some(instrument) = self.resolve(market, id) else {
            return unknown(out, format!("trades for unknown instId {id}"));
        };
        let rows: Vec<&RawValue> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("trade data: {e}")),
        };
        for row in rows {
            let parsed = if row.get().trim_start().starts_with('[') {
                // v1: [ts, price, size, side]
                serde_json::from_str::<Vec<&RawValue>>(row.get())
                    .ok()
                    .and_then(|v| match v.as_slice() {
                        [ts, p, s, side, ..] => {
                            Some((Some(*ts), *p, *s, raw_text(side).to_string()))
                        }
                        _ => None,
                    })
            } else {
                serde_json::from_str::<TradeObj>(row.get())
                    .ok()
                    .map(|t| (t.ts, t.price, t.size, t.side.to_string()))
            };
            let Some((ts, price, size, side)) = parsed else {
                parse_error(out, format!("trade {}", preview(row.get())));
                continue;
            };
            let ms = ts.and_then(wire::int);
            let newest = self.last_trade.get(&instrument).copied();
            if let Some(t) = ms {
                self.last_trade
                    .insert(instrument, newest.map_or(t, |n| n.max(t)));
            }
            if snapshot && newest.is_none_or(|n| ms.is_none_or(|t| t <= n)) {
                continue;
            }
            let side = match side.to_ascii_lowercase().as_str() {
                "buy" => TakerSide::Buy,
                "sell" => TakerSide::Sell,
                other => {
                    parse_error(out, format!("trade side {other:?}"));
                    continue;
                }
            };
            let (Some(price), Some(size)) = (wire::decimal(Some(price)), wire::decimal(Some(size)))
            else {
                parse_error(out, format!("trade {}: bad price/size", preview(row.get())));
                continue;
            };
            out.trade(Trade {
                venue: VENUE,
                instrument,
                price,
                size,
                side,
                exchange_ts: wire::ms(ts),
                received,
            });
        }
    }

    pub(super) fn on_ticker(
        &mut self,
        data: &RawValue,
        (market, id): (Market, &str),
        received: Micros,
        out: &mut Output,
    ) {
        if market == Market::Spot {
            // Spot tickers hold no derivatives data (we never subscribe them).
            return;
        }
        let rows: Vec<TickerData> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return parse_error(out, format!("ticker data: {e}")),
        };
        for t in rows {
            let native = t.inst_id.as_deref().unwrap_or(id);
            let Some(instrument) = self.resolve(market, native) else {
                unknown(out, format!("ticker for unknown instId {native}"));
                continue;
            };
            let update = FundingUpdate {
                funding_rate: wire::decimal(t.funding_rate.or(t.capital_rate)),
                next_funding: wire::ms(t.next_funding_time.or(t.next_settle_time)),
                open_interest: wire::decimal(t.holding_amount.or(t.holding)),
                mark_price: wire::decimal(t.mark_price),
                index_price: wire::decimal(t.index_price),
                ..FundingUpdate::default()
            };
            if update == FundingUpdate::default() {
                continue;
            }
            out.funding(Funding {
                venue: VENUE,
                instrument,
                update,
                exchange_ts: wire::ms(t.ts.or(t.system_time)),
                received,
            });
        }
    }
}
