//! Backfill at start (`venues::backfill`), from Deribit's public REST
//! (https://docs.deribit.com/, "Market data"):
//!
//! - settled funding: `public/get_funding_rate_history` (`instrument_name`,
//!   `start_timestamp`, `end_timestamp`, both required) answers one row an
//!   hour with `interest_8h`, the rate over the 8 hours before it (the
//!   figure the live ticker's `funding_8h` gives). Deribit funds
//!   continuously, so consecutive rows overlap: we keep every eighth one
//!   back from the newest, 8-hour periods that do not overlap, whose
//!   spacing is the 8-hour interval the ticker states.
//! - klines: `public/get_tradingview_chart_data` (`resolution` in minutes
//!   or `1D`; `1, 3, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1D`): columns
//!   `ticks` (start, ms), `open`, `high`, `low`, `close`, `volume` (the
//!   base coin) and `cost` (the quote: USD for inverse perpetuals, USDC for
//!   linear ones); no taker buy volume, no trade count. There is no 4-hour
//!   resolution: the 4-hour klines are summed from hourly ones, four to a
//!   UTC-aligned bucket.
//! - open interest: Deribit publishes no history of it (only the ticker's
//!   current `open_interest`), so none is asked for; the changes fill from
//!   the live ticker.
//!
//! Limits: a public request costs 500 of 50 000 credits refilled at 10 000
//! a second (about 20 a second, VENUES.md §10); one every 100 ms is half
//! of that.

use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::wire::RestAnswer;
use super::{Deribit, VENUE, native_symbol, parse_native};
use crate::model::{CandleOpen, HistoryKind, Instrument, Kline, Micros, Timeframe};
use crate::venues::checksum::raw_text;
use crate::venues::{Output, backfill};

pub(super) const FUNDING_PATH: &str = "/api/v2/public/get_funding_rate_history";
pub(super) const KLINES_PATH: &str = "/api/v2/public/get_tradingview_chart_data";
const GAP: Duration = Duration::from_millis(100);
const HOUR_MS: i64 = 3_600_000;
/// The funding period `interest_8h` covers.
const PERIOD_MS: i64 = 8 * HOUR_MS;

/// Deribit's candles are not checked against its trades here: taken to
/// open at the first trade, as most venues do.
pub(super) const CANDLE_OPEN: CandleOpen = CandleOpen::FirstTrade;

/// The `resolution` asked for a timeframe, and how many of its klines make
/// one of ours (4 hours from hourly ones).
fn resolution(tf: Timeframe) -> (&'static str, usize) {
    match tf {
        Timeframe::M1 => ("1", 1),
        Timeframe::M5 => ("5", 1),
        Timeframe::M15 => ("15", 1),
        Timeframe::H1 => ("60", 1),
        Timeframe::H4 => ("60", 4),
        Timeframe::D1 => ("1D", 1),
    }
}

/// The timeframe a chart URL asked for: its resolution and span (an hourly
/// request of four times the ring is the 4-hour one).
fn timeframe_of(url: &str) -> Option<Timeframe> {
    let res = backfill::query_param(url, "resolution")?;
    let start: i64 = backfill::query_param(url, "start_timestamp")?
        .parse()
        .ok()?;
    let end: i64 = backfill::query_param(url, "end_timestamp")?.parse().ok()?;
    let span = end.saturating_sub(start);
    Timeframe::ALL
        .into_iter()
        .find(|tf| resolution(*tf).0 == res && chart_span_ms(*tf) == span)
}

/// The span asked for a timeframe: the ring's worth of its klines.
fn chart_span_ms(tf: Timeframe) -> i64 {
    tf.micros() / 1000 * backfill::KLINES as i64
}

#[derive(Deserialize)]
struct FundingRow<'a> {
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(borrow, default)]
    interest_8h: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Chart<'a> {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    ticks: Vec<i64>,
    #[serde(borrow, default)]
    open: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    high: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    low: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    close: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    volume: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    cost: Vec<&'a RawValue>,
}

fn cell<'a>(column: &[&'a RawValue], i: usize) -> &'a str {
    column.get(i).map_or("", |v| raw_text(v))
}

/// Hourly klines (oldest first, validated) summed into 4-hour ones; a
/// bucket is kept when it holds its first hour (the newest may be short:
/// the interval in progress).
fn four_hourly(hours: Vec<Kline>) -> Vec<Kline> {
    let mut out: Vec<Kline> = Vec::new();
    for k in hours {
        let start = Timeframe::H4.bucket(k.start);
        match out.last_mut() {
            Some(b) if b.start == start => {
                b.high = b.high.max(k.high);
                b.low = b.low.min(k.low);
                b.close = k.close;
                b.volume += k.volume;
                b.turnover = b.turnover.zip(k.turnover).map(|(a, c)| a + c);
            }
            _ if k.start == start => out.push(Kline { start, ..k }),
            // A bucket whose first hour is missing would open wrong.
            _ => {}
        }
    }
    out
}

impl Deribit {
    /// Paced requests: klines of every watched perpetual, every interval
    /// (the 1-minute ones first), then the settled funding of each.
    pub(super) fn backfill(&self, now: Micros, out: &mut Output) {
        let rest = &self.rest_url;
        let end = (now / 1000).max(0);
        let carried: Vec<Instrument> = self.carried().copied().collect();
        for tf in Timeframe::ALL {
            for inst in &carried {
                let res = resolution(tf).0;
                out.http_get_paced(
                    format!(
                        "{rest}{KLINES_PATH}?instrument_name={}&start_timestamp={}&end_timestamp={end}&resolution={res}",
                        native_symbol(inst),
                        end - chart_span_ms(tf),
                    ),
                    GAP,
                );
            }
        }
        for inst in &carried {
            out.http_get_paced(
                format!(
                    "{rest}{FUNDING_PATH}?instrument_name={}&start_timestamp={}&end_timestamp={end}",
                    native_symbol(inst),
                    end - backfill::FUNDING_POINTS as i64 * PERIOD_MS,
                ),
                GAP,
            );
        }
    }

    fn asked(&self, url: &str) -> Option<Instrument> {
        backfill::query_param(url, "instrument_name")
            .and_then(parse_native)
            .filter(|i| self.cfg.instruments.contains(i))
    }

    /// The result of an answer, or a parse error in Deribit's words.
    fn result<'a, T: Deserialize<'a>>(
        &self,
        url: &str,
        body: &'a str,
        what: &str,
        out: &mut Output,
    ) -> Option<T> {
        let answer: RestAnswer<T> = match serde_json::from_str(body) {
            Ok(a) => a,
            Err(e) => {
                out.parse_error(VENUE, None, format!("{what} {url}: {e}"));
                return None;
            }
        };
        match (answer.result, answer.error) {
            (_, Some(e)) => {
                out.parse_error(
                    VENUE,
                    None,
                    format!("{what} error {}: {}", e.code, e.message),
                );
                None
            }
            (None, None) => {
                out.parse_error(VENUE, None, format!("{what} {url}: no result"));
                None
            }
            (Some(r), None) => Some(r),
        }
    }

    pub(super) fn on_funding_history(&mut self, url: &str, body: &str, out: &mut Output) {
        let Some(instrument) = self.asked(url) else {
            return out.unknown(
                VENUE,
                None,
                format!("history for an unwatched symbol: {url}"),
            );
        };
        let Some(rows) = self.result::<Vec<FundingRow>>(url, body, "funding history", out) else {
            return;
        };
        let (points, bad) = backfill::points(
            HistoryKind::FundingRate,
            rows.iter().map(|r| {
                let rate = r.interest_8h.map_or("", |v| raw_text(v));
                (r.timestamp.unwrap_or(-1), rate)
            }),
        );
        if bad > 0 {
            out.parse_error(
                VENUE,
                None,
                format!("{bad} invalid history points from {url}"),
            );
        }
        let newest = points.last().map(|(t, _)| *t);
        let points: Vec<(Micros, Decimal)> = points
            .into_iter()
            .filter(|(t, _)| newest.is_some_and(|n| (n - t) % (PERIOD_MS * 1000) == 0))
            .collect();
        if !points.is_empty() {
            out.event(backfill::event(
                VENUE,
                instrument,
                HistoryKind::FundingRate,
                points,
            ));
        }
    }

    pub(super) fn on_klines(&mut self, url: &str, body: &str, out: &mut Output) {
        let (Some(instrument), Some(tf)) = (self.asked(url), timeframe_of(url)) else {
            return out.unknown(
                VENUE,
                None,
                format!("klines for an unwatched symbol: {url}"),
            );
        };
        let Some(chart) = self.result::<Chart>(url, body, "chart data", out) else {
            return;
        };
        // `no_data` is an empty chart, not an error.
        if chart
            .status
            .as_deref()
            .is_some_and(|s| s != "ok" && s != "no_data")
        {
            let status = chart.status.unwrap_or_default();
            return out.parse_error(VENUE, None, format!("chart data status {status}: {url}"));
        }
        let (klines, bad) =
            backfill::klines(
                chart
                    .ticks
                    .iter()
                    .enumerate()
                    .map(|(i, t)| backfill::RawKline {
                        start_ms: *t,
                        open: cell(&chart.open, i),
                        high: cell(&chart.high, i),
                        low: cell(&chart.low, i),
                        close: cell(&chart.close, i),
                        volume: cell(&chart.volume, i),
                        turnover: Some(cell(&chart.cost, i)),
                        buy_volume: None,
                        trades: None,
                    }),
            );
        if bad > 0 {
            out.parse_error(VENUE, None, format!("{bad} invalid klines from {url}"));
        }
        let klines = match resolution(tf).1 {
            1 => klines,
            _ => four_hourly(klines),
        };
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
