//! Backfill at start (`venues::backfill`), from OKX's public REST (docs:
//! https://www.okx.com/docs-v5/en/, "Trading Statistics" and "Public Data"
//! / "Market Data"):
//!
//! - open interest: `GET /api/v5/rubik/stat/contracts/open-interest-history`
//!   with `instId` and `period=5m`, at most 100 rows (8 h 20 min, enough for
//!   the 4 h change), newest first as `[ts, oi, oiCcy, oiUsd]`; we take
//!   `oiCcy`, the coin, as the live `open-interest` channel does. 10 requests
//!   per 2 s per IP and instrument.
//! - settled funding: `GET /api/v5/public/funding-rate-history`, up to 400
//!   rows, newest first; `realizedRate` is the rate paid (`fundingRate` the
//!   one predicted for it). 10 requests per 2 s per IP.
//! - klines: `GET /api/v5/market/candles` (the latest 1 440 of a bar, at most
//!   300 a request, 40 requests per 2 s per IP): a first page of 300, then
//!   one page before it (`after` = the oldest start) for the rest of
//!   [`backfill::KLINES`]. Rows are `[ts, o, h, l, c, vol, volCcy,
//!   volCcyQuote, confirm]`, `vol` in contracts for swaps and in the base
//!   coin for spot, `volCcy` in the coin for swaps and in the quote for spot;
//!   no taker buy volume, no trade count.
//!
//! Klines go 100 ms apart (10 a second against 20); the history requests
//! of both kinds 250 ms apart (4 a second against 5 of each).

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::{Okx, VENUE, carries, native_symbol, parse_native};
use crate::model::{CandleOpen, HistoryKind, Instrument, Timeframe};
use crate::venues::{Output, backfill};

pub(super) const OI_PATH: &str = "/api/v5/rubik/stat/contracts/open-interest-history";
pub(super) const FUNDING_PATH: &str = "/api/v5/public/funding-rate-history";
pub(super) const KLINES_PATH: &str = "/api/v5/market/candles";
const GAP: Duration = Duration::from_millis(250);
const KLINE_GAP: Duration = Duration::from_millis(100);
/// Rows of one open-interest answer at most.
const OI_ROWS: usize = 100;
/// Rows of one candles answer at most.
const KLINE_PAGE: usize = 300;

/// OKX's own candles are not checked against its trades here (it has no
/// candle channel we subscribe): it is taken to open at the first trade,
/// as most venues do.
pub(super) const CANDLE_OPEN: CandleOpen = CandleOpen::FirstTrade;

/// `bar` per timeframe; the day is asked in UTC (`1Dutc`), as the engine
/// aligns its buckets (`1D` opens at midnight in Hong Kong).
pub(super) fn bar(tf: Timeframe) -> &'static str {
    match tf {
        Timeframe::M1 => "1m",
        Timeframe::M5 => "5m",
        Timeframe::M15 => "15m",
        Timeframe::H1 => "1H",
        Timeframe::H4 => "4H",
        Timeframe::D1 => "1Dutc",
    }
}

/// Every REST answer: `code` "0" or the venue's error code and words.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    code: Value,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    data: Vec<Value>,
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn cell(r: &Value, i: usize) -> &str {
    r.get(i).map_or("", text)
}

fn millis(v: Option<&Value>) -> i64 {
    v.and_then(|v| text(v).parse().ok()).unwrap_or(-1)
}

impl Okx {
    /// Paced requests: the klines of every watched instrument, every
    /// interval (the 1-minute ones of all first), then open interest and
    /// settled funding of every watched perpetual.
    pub(super) fn backfill(&self, out: &mut Output) {
        let rest = &self.rest_url;
        for tf in Timeframe::ALL {
            for inst in self.cfg.instruments.iter().filter(|i| carries(i).is_ok()) {
                out.http_get_paced(
                    format!(
                        "{rest}{KLINES_PATH}?instId={}&bar={}&limit={}",
                        native_symbol(inst),
                        bar(tf),
                        backfill::KLINES.min(KLINE_PAGE)
                    ),
                    KLINE_GAP,
                );
            }
        }
        for inst in self.cfg.instruments.iter().filter(|i| i.is_perp()) {
            let id = native_symbol(inst);
            out.http_get_paced(
                format!(
                    "{rest}{OI_PATH}?instId={id}&period=5m&limit={}",
                    backfill::OI_POINTS.min(OI_ROWS)
                ),
                GAP,
            );
            out.http_get_paced(
                format!(
                    "{rest}{FUNDING_PATH}?instId={id}&limit={}",
                    backfill::FUNDING_POINTS
                ),
                GAP,
            );
        }
    }

    /// The watched instrument a history URL asked for.
    fn asked(&self, url: &str) -> Option<Instrument> {
        backfill::query_param(url, "instId")
            .and_then(parse_native)
            .filter(|i| self.cfg.instruments.contains(i))
    }

    /// The rows of an answer, or a parse error in the venue's words.
    fn rows(&self, url: &str, body: &str, what: &str, out: &mut Output) -> Option<Vec<Value>> {
        let a: Answer = match serde_json::from_str(body) {
            Ok(a) => a,
            Err(e) => {
                out.parse_error(VENUE, None, format!("{what} {url}: {e}"));
                return None;
            }
        };
        let code = match &a.code {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if code != "0" {
            out.parse_error(VENUE, None, format!("{what} code {code}: {}", a.msg));
            return None;
        }
        Some(a.data)
    }

    pub(super) fn on_history(
        &mut self,
        url: &str,
        body: &str,
        kind: HistoryKind,
        out: &mut Output,
    ) {
        let Some(instrument) = self.asked(url) else {
            return out.unknown(
                VENUE,
                None,
                format!("history for an unwatched symbol: {url}"),
            );
        };
        let Some(rows) = self.rows(url, body, "history", out) else {
            return;
        };
        let pairs: Vec<(i64, &str)> = match kind {
            // `[ts, oi, oiCcy, oiUsd]`.
            HistoryKind::OpenInterest => rows
                .iter()
                .map(|r| (millis(r.get(0)), r.get(2).map_or("", text)))
                .collect(),
            HistoryKind::FundingRate => rows
                .iter()
                .map(|r| {
                    let paid = r.get("realizedRate").map_or("", text);
                    let rate = if paid.is_empty() {
                        r.get("fundingRate").map_or("", text)
                    } else {
                        paid
                    };
                    (millis(r.get("fundingTime")), rate)
                })
                .collect(),
        };
        let (points, bad) = backfill::points(kind, pairs);
        if bad > 0 {
            out.parse_error(
                VENUE,
                None,
                format!("{bad} invalid history points from {url}"),
            );
        }
        if !points.is_empty() {
            out.event(backfill::event(VENUE, instrument, kind, points));
        }
    }

    pub(super) fn on_klines(&mut self, url: &str, body: &str, out: &mut Output) {
        let tf = backfill::query_param(url, "bar")
            .and_then(|b| Timeframe::ALL.into_iter().find(|t| bar(*t) == b));
        let (Some(instrument), Some(tf)) = (self.asked(url), tf) else {
            return out.unknown(
                VENUE,
                None,
                format!("klines for an unwatched symbol: {url}"),
            );
        };
        let Some(rows) = self.rows(url, body, "klines", out) else {
            return;
        };
        let perp = instrument.is_perp();
        let (klines, bad) = backfill::klines(rows.iter().map(|r| backfill::RawKline {
            start_ms: millis(r.get(0)),
            open: cell(r, 1),
            high: cell(r, 2),
            low: cell(r, 3),
            close: cell(r, 4),
            // Swaps count `vol` in contracts and `volCcy` in the coin.
            volume: cell(r, if perp { 6 } else { 5 }),
            turnover: Some(cell(r, 7)),
            buy_volume: None,
            trades: None,
        }));
        if bad > 0 {
            out.parse_error(VENUE, None, format!("{bad} invalid klines from {url}"));
        }
        // A full first page: the page before it completes the ring.
        let first_page = backfill::query_param(url, "after").is_none();
        let rest = backfill::KLINES.saturating_sub(rows.len());
        if first_page
            && rows.len() >= KLINE_PAGE
            && rest > 0
            && let Some(oldest) = klines.first()
        {
            out.http_get_paced(
                format!(
                    "{}{KLINES_PATH}?instId={}&bar={}&after={}&limit={}",
                    self.rest_url,
                    native_symbol(&instrument),
                    bar(tf),
                    oldest.start / 1000,
                    rest.min(KLINE_PAGE)
                ),
                KLINE_GAP,
            );
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
