//! Backfill at start (`venues::backfill`), from Bitget's v2 public REST
//! (https://www.bitget.com/api-doc/):
//!
//! - settled funding: `GET /api/v2/mix/market/history-fund-rate`
//!   ("Get Historical Funding Rates", `symbol`, `productType`, `pageSize`
//!   at most 100), newest first, `fundingRate` per funding at
//!   `fundingTime`; their spacing tells the interval (Bitget funds some
//!   contracts every 1, 2 or 4 hours).
//! - klines: `GET /api/v2/mix/market/candles` for perpetuals (`granularity`
//!   `1m … 4H`, `1Dutc`; rows `[ts, open, high, low, close, baseVolume,
//!   quoteVolume]`) and `GET /api/v2/spot/market/candles` for spot
//!   (`1min … 4h`, `1Dutc`; rows `[ts, open, high, low, close, baseVolume,
//!   usdtVolume, quoteVolume]`), at most 1 000 a request; volumes in the
//!   base coin and the quote, no taker buy volume, no trade count. Days are
//!   asked in UTC (`1Dutc`), as the engine aligns them.
//! - open interest: the v2 public API has only the current figure
//!   (`/api/v2/mix/market/open-interest`, also the ticker's
//!   `holdingAmount`), no history, so none is asked for; the changes fill
//!   from the live ticker.
//!
//! Limits: each of these endpoints allows 20 requests a second per IP; one
//! every 100 ms is half of that.

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::wire::Rest;
use super::{Bitget, Market, VENUE, carries, native_symbol};
use crate::model::{CandleOpen, HistoryKind, Instrument, Timeframe};
use crate::venues::checksum::raw_text;
use crate::venues::{Output, backfill};

pub(super) const FUNDING_PATH: &str = "/api/v2/mix/market/history-fund-rate";
pub(super) const MIX_KLINES_PATH: &str = "/api/v2/mix/market/candles";
pub(super) const SPOT_KLINES_PATH: &str = "/api/v2/spot/market/candles";
/// The product line of the perpetuals carried.
const PRODUCT_TYPE: &str = "USDT-FUTURES";
const GAP: Duration = Duration::from_millis(100);
/// Rows of one funding answer at most.
const FUNDING_PAGE: usize = 100;
/// Rows of one candles answer at most.
const KLINE_PAGE: usize = 1_000;

/// Bitget's candles are not checked against its trades here: taken to open
/// at the first trade, as most venues do.
pub(super) const CANDLE_OPEN: CandleOpen = CandleOpen::FirstTrade;

/// `granularity` per timeframe: futures and spot spell them differently.
pub(super) fn granularity(spot: bool, tf: Timeframe) -> &'static str {
    match (spot, tf) {
        (false, Timeframe::M1) => "1m",
        (false, Timeframe::M5) => "5m",
        (false, Timeframe::M15) => "15m",
        (false, Timeframe::H1) => "1H",
        (false, Timeframe::H4) => "4H",
        (true, Timeframe::M1) => "1min",
        (true, Timeframe::M5) => "5min",
        (true, Timeframe::M15) => "15min",
        (true, Timeframe::H1) => "1h",
        (true, Timeframe::H4) => "4h",
        (_, Timeframe::D1) => "1Dutc",
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FundingRow<'a> {
    #[serde(borrow, default)]
    funding_rate: Option<&'a RawValue>,
    #[serde(borrow, default)]
    funding_time: Option<&'a RawValue>,
}

fn text(v: Option<&RawValue>) -> &str {
    v.map_or("", raw_text)
}

fn cell<'a>(r: &[&'a RawValue], i: usize) -> &'a str {
    r.get(i).map_or("", |v| raw_text(v))
}

fn millis(v: Option<&RawValue>) -> i64 {
    text(v).parse().unwrap_or(-1)
}

impl Bitget {
    /// Paced requests: klines of every watched instrument, every interval
    /// (the 1-minute ones first), then the settled funding of every
    /// perpetual.
    pub(super) fn backfill(&self, out: &mut Output) {
        let rest = &self.rest_url;
        let limit = backfill::KLINES.min(KLINE_PAGE);
        for tf in Timeframe::ALL {
            for inst in self.cfg.instruments.iter().filter(|i| carries(i).is_ok()) {
                let symbol = native_symbol(inst);
                let url = if inst.is_perp() {
                    format!(
                        "{rest}{MIX_KLINES_PATH}?symbol={symbol}&productType={PRODUCT_TYPE}&granularity={}&limit={limit}",
                        granularity(false, tf)
                    )
                } else {
                    format!(
                        "{rest}{SPOT_KLINES_PATH}?symbol={symbol}&granularity={}&limit={limit}",
                        granularity(true, tf)
                    )
                };
                out.http_get_paced(url, GAP);
            }
        }
        for inst in self.cfg.instruments.iter().filter(|i| i.is_perp()) {
            out.http_get_paced(
                format!(
                    "{rest}{FUNDING_PATH}?symbol={}&productType={PRODUCT_TYPE}&pageSize={}",
                    native_symbol(inst),
                    backfill::FUNDING_POINTS.min(FUNDING_PAGE)
                ),
                GAP,
            );
        }
    }

    /// The watched instrument a history URL asked for.
    fn asked(&self, url: &str, market: Market) -> Option<Instrument> {
        backfill::query_param(url, "symbol")
            .and_then(|s| self.resolve(market, s))
            .filter(|i| self.cfg.instruments.contains(i))
    }

    /// The `data` of an answer, or a parse error in Bitget's words.
    fn data<'a>(
        &self,
        url: &str,
        body: &'a str,
        what: &str,
        out: &mut Output,
    ) -> Option<&'a RawValue> {
        let rest: Rest<'a> = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => {
                out.parse_error(VENUE, None, format!("{what} {url}: {e}"));
                return None;
            }
        };
        if !rest.ok() {
            let code = rest.code.unwrap_or_default();
            let msg = rest.msg.unwrap_or_default();
            out.parse_error(VENUE, None, format!("{what} code {code}: {msg}"));
            return None;
        }
        let data = rest.data;
        if data.is_none() {
            out.parse_error(VENUE, None, format!("{what} {url}: no data"));
        }
        data
    }

    pub(super) fn on_funding_history(&mut self, url: &str, body: &str, out: &mut Output) {
        let Some(instrument) = self.asked(url, Market::Usdt) else {
            return out.unknown(
                VENUE,
                None,
                format!("history for an unwatched symbol: {url}"),
            );
        };
        let Some(data) = self.data(url, body, "funding history", out) else {
            return;
        };
        let rows: Vec<FundingRow> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return out.parse_error(VENUE, None, format!("funding history {url}: {e}")),
        };
        let (points, bad) = backfill::points(
            HistoryKind::FundingRate,
            rows.iter()
                .map(|r| (millis(r.funding_time), text(r.funding_rate))),
        );
        if bad > 0 {
            out.parse_error(
                VENUE,
                None,
                format!("{bad} invalid history points from {url}"),
            );
        }
        if !points.is_empty() {
            out.event(backfill::event(
                VENUE,
                instrument,
                HistoryKind::FundingRate,
                points,
            ));
        }
    }

    pub(super) fn on_klines(&mut self, url: &str, body: &str, spot: bool, out: &mut Output) {
        let market = if spot { Market::Spot } else { Market::Usdt };
        let tf = backfill::query_param(url, "granularity").and_then(|g| {
            Timeframe::ALL
                .into_iter()
                .find(|t| granularity(spot, *t) == g)
        });
        let (Some(instrument), Some(tf)) = (self.asked(url, market), tf) else {
            return out.unknown(
                VENUE,
                None,
                format!("klines for an unwatched symbol: {url}"),
            );
        };
        let Some(data) = self.data(url, body, "klines", out) else {
            return;
        };
        let rows: Vec<Vec<&RawValue>> = match serde_json::from_str(data.get()) {
            Ok(r) => r,
            Err(e) => return out.parse_error(VENUE, None, format!("klines {url}: {e}")),
        };
        // Spot rows put `usdtVolume` before the quote volume.
        let quote = if spot { 7 } else { 6 };
        let (klines, bad) = backfill::klines(rows.iter().map(|r| backfill::RawKline {
            start_ms: millis(r.first().copied()),
            open: cell(r, 1),
            high: cell(r, 2),
            low: cell(r, 3),
            close: cell(r, 4),
            volume: cell(r, 5),
            turnover: Some(cell(r, quote)),
            buy_volume: None,
            trades: None,
        }));
        if bad > 0 {
            out.parse_error(VENUE, None, format!("{bad} invalid klines from {url}"));
        }
        if !klines.is_empty() {
            out.event(backfill::klines_event(
                VENUE,
                instrument,
                tf,
                CANDLE_OPEN,
                klines,
            ));
        }
    }
}
