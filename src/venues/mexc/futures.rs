//! MEXC futures (contract) frames: answers, depth, deals, tickers and
//! funding rates.

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::wire::{self, Envelope, FundingRate, FuturesDeal, FuturesDepth, FuturesTicker};
use super::{Market, Mexc, VENUE};
use crate::model::{Funding, FundingUpdate, Instrument, Micros, OutOfSyncReason, TakerSide, Trade};
use crate::venues::Output;
use crate::venues::buffered::Diff;
use crate::venues::parse::{self, preview};

/// A `data` that is one object or a list of them.
fn rows(raw: &RawValue) -> Vec<&RawValue> {
    if raw.get().trim_start().starts_with('[') {
        serde_json::from_str(raw.get()).unwrap_or_default()
    } else {
        vec![raw]
    }
}

impl Mexc {
    /// Contracts → base, `None` before the contract size is known.
    pub(super) fn contracts_to_base(&self, symbol: &str, contracts: Decimal) -> Option<Decimal> {
        self.contracts.get(symbol)?.to_base(contracts)
    }

    pub(super) fn on_futures_text(
        &mut self,
        url: &str,
        text: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let env: Envelope = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => return out.parse_error(VENUE, None, format!("{e}: {}", preview(text))),
        };
        let channel = env.channel.as_str();
        if channel == "pong" {
            return;
        }
        if let Some(sub) = channel.strip_prefix("rs.") {
            return self.on_answer(sub, env.data, out);
        }
        let Some(data) = env.data else {
            return out.parse_error(VENUE, None, format!("{channel} without data"));
        };
        let symbol = env.symbol.clone().unwrap_or_default();
        match channel {
            "push.depth" => self.on_futures_depth(url, &symbol, data, env.ts, received, out),
            "push.deal" => self.on_futures_deals(&symbol, data, received, out),
            "push.ticker" => self.on_ticker(data, env.ts, received, out),
            "push.funding.rate" => self.on_funding_rate(data, env.ts, received, out),
            other => out.unknown(VENUE, None, format!("channel {other}")),
        }
    }

    /// `rs.sub.depth` (`"success"`) or `rs.error`.
    fn on_answer(&mut self, sub: &str, data: Option<&RawValue>, out: &mut Output) {
        let text = data.map(|d| d.get().trim_matches('"')).unwrap_or_default();
        if text == "success" {
            return;
        }
        tracing::warn!(venue = "mexc", "futures {sub}: {text}");
        if sub == "sub.depth" || sub == "error" {
            // A refused depth subscription: no stream will keep these books.
            let mut hit: Vec<Instrument> = self
                .books
                .iter()
                .filter(|(_, b)| b.market == Market::Futures && text.contains(&b.native))
                .map(|(i, _)| *i)
                .collect();
            hit.sort();
            for i in hit {
                let why = OutOfSyncReason::Venue(format!("MEXC: {text}"));
                self.lc.fail(i, why, out);
            }
        }
        out.unknown(VENUE, None, format!("MEXC {sub}: {}", preview(text)));
    }

    fn on_futures_depth(
        &mut self,
        url: &str,
        symbol: &str,
        data: &RawValue,
        ts: Option<i64>,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(instrument) = self.book_for(Market::Futures, symbol) else {
            return out.unknown(
                VENUE,
                None,
                format!("depth for unknown contract {symbol:?}"),
            );
        };
        let d: FuturesDepth = match serde_json::from_str(data.get()) {
            Ok(d) => d,
            Err(e) => {
                return out.parse_error(
                    VENUE,
                    Some(instrument),
                    format!("push.depth {symbol}: {e}"),
                );
            }
        };
        let range = match (d.begin, d.end, d.version) {
            (Some(b), Some(e), _) if b <= e => Some((b, e)),
            (None, None, Some(v)) => Some((v, v)),
            _ => None,
        };
        let Some((first, last)) = range else {
            return out.parse_error(
                VENUE,
                Some(instrument),
                format!("push.depth {symbol}: no usable version"),
            );
        };
        let (Some(bids), Some(asks)) = (wire::levels(&d.bids), wire::levels(&d.asks)) else {
            return out.parse_error(
                VENUE,
                Some(instrument),
                format!("push.depth {symbol}: bad level"),
            );
        };
        let diff = Diff {
            first,
            last,
            prev_last: None,
            bids,
            asks,
            exchange_ts: ts.or(d.timestamp).and_then(parse::ms_to_micros),
            received,
        };
        self.feed(url, instrument, diff, out);
    }

    fn on_futures_deals(
        &mut self,
        symbol: &str,
        data: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(instrument) = self.resolve(Market::Futures, symbol) else {
            return out.unknown(VENUE, None, format!("deal for unknown contract {symbol:?}"));
        };
        for row in rows(data) {
            let parsed = serde_json::from_str::<FuturesDeal>(row.get())
                .ok()
                .and_then(|t| {
                    let side = match t.side {
                        1 => TakerSide::Buy,
                        2 => TakerSide::Sell,
                        _ => return None,
                    };
                    let price = wire::decimal(Some(t.p))?;
                    let contracts = wire::decimal(Some(t.v))?;
                    Some((price, contracts, side, t.t))
                });
            let Some((price, contracts, side, t)) = parsed else {
                out.parse_error(
                    VENUE,
                    Some(instrument),
                    format!("deal {}", preview(row.get())),
                );
                continue;
            };
            let Some(size) = self.contracts_to_base(symbol, contracts) else {
                tracing::debug!(%instrument, "MEXC deal before the contract size is known: dropped");
                continue;
            };
            out.trade(Trade {
                venue: VENUE,
                instrument,
                price,
                size,
                side,
                exchange_ts: t.and_then(parse::ms_to_micros),
                received,
            });
        }
    }

    fn on_ticker(&mut self, data: &RawValue, ts: Option<i64>, received: Micros, out: &mut Output) {
        let t: FuturesTicker = match serde_json::from_str(data.get()) {
            Ok(t) => t,
            Err(e) => return out.parse_error(VENUE, None, format!("push.ticker: {e}")),
        };
        let Some(instrument) = self.resolve(Market::Futures, &t.symbol) else {
            return out.unknown(
                VENUE,
                None,
                format!("ticker for unknown contract {}", t.symbol),
            );
        };
        let oi = wire::decimal(t.hold_vol).and_then(|c| self.contracts_to_base(&t.symbol, c));
        let update = FundingUpdate {
            funding_rate: wire::decimal(t.funding_rate),
            open_interest: oi,
            mark_price: wire::decimal(t.fair_price),
            index_price: wire::decimal(t.index_price),
            ..FundingUpdate::default()
        };
        let ts = t.timestamp.or(ts);
        self.funding(instrument, update, ts, received, out);
    }

    fn on_funding_rate(
        &mut self,
        data: &RawValue,
        ts: Option<i64>,
        received: Micros,
        out: &mut Output,
    ) {
        let f: FundingRate = match serde_json::from_str(data.get()) {
            Ok(f) => f,
            Err(e) => return out.parse_error(VENUE, None, format!("push.funding.rate: {e}")),
        };
        let Some(instrument) = self.resolve(Market::Futures, &f.symbol) else {
            return out.unknown(
                VENUE,
                None,
                format!("funding for unknown contract {}", f.symbol),
            );
        };
        let update = FundingUpdate {
            funding_rate: wire::decimal(f.rate),
            next_funding: f.next_settle_time.and_then(parse::ms_to_micros),
            ..FundingUpdate::default()
        };
        self.funding(instrument, update, ts, received, out);
    }

    /// One funding event for a configured perpetual, if it says anything.
    pub(super) fn funding(
        &self,
        instrument: Instrument,
        update: FundingUpdate,
        ts: Option<i64>,
        received: Micros,
        out: &mut Output,
    ) {
        if update == FundingUpdate::default() {
            return;
        }
        out.funding(Funding {
            venue: VENUE,
            instrument,
            update,
            exchange_ts: ts.and_then(parse::ms_to_micros),
            received,
        });
    }
}
