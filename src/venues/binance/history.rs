//! Backfill of USD-M perpetuals at start (`venues::backfill`): open
//! interest from `/futures/data/openInterestHist` (5-minute points, base
//! quantity in `sumOpenInterest`) and settled funding from
//! `/fapi/v1/fundingRate`, whose spacing also tells the funding interval the
//! `markPrice` stream does not carry.
//!
//! Limits: `fundingRate` shares 500 requests per 5 min per IP with
//! `fundingInfo`, `openInterestHist` allows 1000 per 5 min; one request
//! every 400 ms (2.5/s, half of each kind) stays inside both.
//!
//! Klines of every watched spot and USD-M instrument, every interval, come
//! from `/api/v3/klines` and `/fapi/v1/klines` (weight 2 each for fewer
//! than 500 on both, against 6 000 and 2 400 a minute per IP): 200 ms apart
//! is 600 a minute at most. The 1-minute klines of all go first.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::{Binance, Market, VENUE};
use crate::model::{CandleOpen, HistoryKind, Timeframe};
use crate::venues::{Output, backfill, symbols};

const GAP: Duration = Duration::from_millis(400);
const OI_PATH: &str = "/futures/data/openInterestHist";
const FUNDING_PATH: &str = "/fapi/v1/fundingRate";
const KLINE_GAP: Duration = Duration::from_millis(200);
const SPOT_KLINES: &str = "/api/v3/klines";
const FUTURES_KLINES: &str = "/fapi/v1/klines";

/// Binance opens a kline at its first trade.
const CANDLE_OPEN: CandleOpen = CandleOpen::FirstTrade;

/// Whether a REST URL asked for klines.
pub(super) fn is_klines(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or(url);
    path.ends_with(SPOT_KLINES) || path.ends_with(FUTURES_KLINES)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OiPoint {
    sum_open_interest: String,
    /// A number in today's answers, a string in older ones.
    timestamp: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FundingPoint {
    funding_rate: String,
    funding_time: Value,
}

fn millis(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(-1),
        Value::String(s) => s.parse().unwrap_or(-1),
        _ => -1,
    }
}

/// Which history a REST URL asked for.
pub(super) fn kind_of(url: &str) -> Option<HistoryKind> {
    let path = url.split('?').next()?;
    if path.ends_with(OI_PATH) {
        Some(HistoryKind::OpenInterest)
    } else if path.ends_with(FUNDING_PATH) {
        Some(HistoryKind::FundingRate)
    } else {
        None
    }
}

impl Binance {
    /// Paced kline requests for every watched spot and USD-M instrument.
    fn backfill_klines(&self, out: &mut Output) {
        for tf in Timeframe::ALL {
            for inst in &self.cfg.instruments {
                let (rest, path) = match Market::of(inst) {
                    Market::Spot => (&self.endpoints.spot_rest, SPOT_KLINES),
                    Market::Futures => (&self.endpoints.futures_rest, FUTURES_KLINES),
                    Market::CoinM => continue,
                };
                out.http_get_paced(
                    format!(
                        "{rest}{path}?symbol={}&interval={}&limit={}",
                        symbols::concatenated(inst),
                        tf.label(),
                        backfill::KLINES.min(499)
                    ),
                    KLINE_GAP,
                );
            }
        }
    }

    pub(super) fn on_klines(&mut self, url: &str, body: &str, out: &mut Output) {
        let market = if url.split('?').next().unwrap_or(url).ends_with(SPOT_KLINES) {
            Market::Spot
        } else {
            Market::Futures
        };
        let tf = backfill::query_param(url, "interval")
            .and_then(|i| Timeframe::ALL.into_iter().find(|t| t.label() == i));
        let instrument = backfill::query_param(url, "symbol")
            .and_then(|s| self.resolve(market, s))
            .filter(|i| self.cfg.instruments.contains(i));
        let (Some(instrument), Some(tf)) = (instrument, tf) else {
            return self.unknown(out, None, format!("klines for an unwatched symbol: {url}"));
        };
        // `[openTime, open, high, low, close, volume, closeTime,
        // quoteVolume, trades, takerBuyBase, takerBuyQuote, ignore]`.
        let rows: Vec<Vec<Value>> = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return self.parse_error(out, url, "klines", e),
        };
        fn text(r: &[Value], i: usize) -> &str {
            r.get(i).and_then(Value::as_str).unwrap_or("")
        }
        let (klines, bad) = backfill::klines(rows.iter().map(|r| backfill::RawKline {
            start_ms: r.first().map_or(-1, millis),
            open: text(r, 1),
            high: text(r, 2),
            low: text(r, 3),
            close: text(r, 4),
            volume: text(r, 5),
            turnover: Some(text(r, 7)),
            buy_volume: Some(text(r, 9)),
            trades: r.get(8).and_then(Value::as_u64),
        }));
        if bad > 0 {
            self.parse_error(out, url, "klines", format!("{bad} invalid klines"));
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

    /// Paced history requests: klines of every watched instrument, then
    /// open interest and funding of every watched USD-M perpetual.
    pub(super) fn backfill(&self, out: &mut Output) {
        self.backfill_klines(out);
        let rest = &self.endpoints.futures_rest;
        let usd_m = |i: &&crate::model::Instrument| {
            i.is_perp() && matches!(i.quote.as_str(), "USDT" | "USDC")
        };
        for inst in self.cfg.instruments.iter().filter(usd_m) {
            let symbol = symbols::concatenated(inst);
            out.http_get_paced(
                format!(
                    "{rest}{OI_PATH}?symbol={symbol}&period=5m&limit={}",
                    backfill::OI_POINTS.min(500)
                ),
                GAP,
            );
            out.http_get_paced(
                format!(
                    "{rest}{FUNDING_PATH}?symbol={symbol}&limit={}",
                    backfill::FUNDING_POINTS
                ),
                GAP,
            );
        }
    }

    pub(super) fn on_history(
        &mut self,
        url: &str,
        body: &str,
        kind: HistoryKind,
        out: &mut Output,
    ) {
        let Some(instrument) = backfill::query_param(url, "symbol")
            .and_then(|s| self.resolve(Market::Futures, s))
            .filter(|i| self.cfg.instruments.contains(i))
        else {
            return self.unknown(out, None, format!("history for an unwatched symbol: {url}"));
        };
        let pairs: Result<Vec<(i64, String)>, _> = match kind {
            HistoryKind::OpenInterest => serde_json::from_str::<Vec<OiPoint>>(body).map(|v| {
                v.into_iter()
                    .map(|p| (millis(&p.timestamp), p.sum_open_interest))
                    .collect()
            }),
            HistoryKind::FundingRate => serde_json::from_str::<Vec<FundingPoint>>(body).map(|v| {
                v.into_iter()
                    .map(|p| (millis(&p.funding_time), p.funding_rate))
                    .collect()
            }),
        };
        let pairs = match pairs {
            Ok(p) => p,
            Err(e) => return self.parse_error(out, url, "history", e),
        };
        let (points, bad) = backfill::points(kind, pairs.iter().map(|(t, v)| (*t, v.as_str())));
        if bad > 0 {
            self.parse_error(out, url, "history", format!("{bad} invalid points"));
        }
        if !points.is_empty() {
            out.event(backfill::event(VENUE, instrument, kind, points));
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use crate::model::{Instrument, MarketEvent};
    use crate::venues::{Adapter, AdapterConfig, Output};

    #[test]
    fn backfill_reads_the_documented_history_answers() {
        let mut a = super::Binance::new(AdapterConfig {
            instruments: vec![
                "BTC-USDT".parse().unwrap(),
                "BTC-USDT-PERP".parse().unwrap(),
            ],
            ..AdapterConfig::default()
        });
        let mut out = Output::default();
        a.start(0, &mut out);
        let paced = out.paced_gets();
        let (klines, paced): (Vec<String>, Vec<String>) =
            paced.into_iter().partition(|u| super::is_klines(u));
        assert_eq!(klines.len(), 12, "both instruments, six intervals");
        assert_eq!(
            &klines[..2],
            [
                "https://api.binance.com/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=480",
                "https://fapi.binance.com/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=480",
            ]
        );
        // The documented kline answer (Kline/Candlestick Data).
        let body = r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","17928899.62484339"]]"#;
        let mut out = Output::default();
        a.on_http(&klines[0], body, 0, &mut out);
        let [
            MarketEvent::Klines {
                instrument,
                timeframe,
                klines,
                ..
            },
        ] = out.events.as_slice()
        else {
            panic!("{:?}", out.events);
        };
        assert_eq!(*instrument, "BTC-USDT".parse::<Instrument>().unwrap());
        assert_eq!(*timeframe, crate::model::Timeframe::M1);
        let k = &klines[0];
        assert_eq!(
            (k.start, k.open, k.close),
            (1_499_040_000_000_000, dec!(0.0163479), dec!(0.015771))
        );
        assert_eq!(
            (k.turnover, k.buy_volume, k.trades),
            (
                Some(dec!(2434.19055334)),
                Some(dec!(1756.87402397)),
                Some(308)
            )
        );
        assert_eq!(
            paced,
            [
                "https://fapi.binance.com/futures/data/openInterestHist?symbol=BTCUSDT&period=5m&limit=288",
                "https://fapi.binance.com/fapi/v1/fundingRate?symbol=BTCUSDT&limit=90",
            ]
        );
        // The answers of the USD-M docs (Open Interest Statistics, Get
        // Funding Rate History): a string timestamp and numeric ones.
        let oi = r#"[{"symbol":"BTCUSDT","sumOpenInterest":"20403.63700000","sumOpenInterestValue":"150570784.07809979","CMCCirculatingSupply":"165880.538","timestamp":"1583127900000"},{"symbol":"BTCUSDT","sumOpenInterest":"20401.36700000","sumOpenInterestValue":"149940752.14464448","timestamp":1583128200000}]"#;
        let funding = r#"[{"symbol":"BTCUSDT","fundingRate":"-0.03750000","fundingTime":1570608000000,"markPrice":"34287.54619963"},{"symbol":"BTCUSDT","fundingRate":"0.00010000","fundingTime":1570636800000}]"#;
        let mut out = Output::default();
        a.on_http(&paced[0], oi, 0, &mut out);
        a.on_http(&paced[1], funding, 0, &mut out);
        let perp: Instrument = "BTC-USDT-PERP".parse().unwrap();
        let history: Vec<_> = out
            .events
            .iter()
            .filter_map(|e| match e {
                MarketEvent::History {
                    instrument, points, ..
                } if *instrument == perp => Some(points.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            history,
            vec![
                vec![
                    (1_583_127_900_000_000, dec!(20403.637)),
                    (1_583_128_200_000_000, dec!(20401.367)),
                ],
                vec![
                    (1_570_608_000_000_000, dec!(-0.0375)),
                    (1_570_636_800_000_000, dec!(0.0001)),
                ],
            ]
        );
        let mut out = Output::default();
        a.on_http(
            &paced[0],
            r#"{"code":-1121,"msg":"Invalid symbol."}"#,
            0,
            &mut out,
        );
        assert!(matches!(
            out.events.as_slice(),
            [MarketEvent::Incident { .. }]
        ));
    }
}
