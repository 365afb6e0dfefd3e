//! Backfill of USD-M perpetuals at start (`venues::backfill`): open
//! interest from `/futures/data/openInterestHist` (5-minute points, base
//! quantity in `sumOpenInterest`) and settled funding from
//! `/fapi/v1/fundingRate`, whose spacing also tells the funding interval the
//! `markPrice` stream does not carry.
//!
//! Limits: `fundingRate` shares 500 requests per 5 min per IP with
//! `fundingInfo`, `openInterestHist` allows 1000 per 5 min; one request
//! every 400 ms (2.5/s, half of each kind) stays inside both.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::{Binance, Market, VENUE};
use crate::model::HistoryKind;
use crate::venues::{Output, backfill, symbols};

const GAP: Duration = Duration::from_millis(400);
const OI_PATH: &str = "/futures/data/openInterestHist";
const FUNDING_PATH: &str = "/fapi/v1/fundingRate";

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
    /// Paced history requests for every watched USD-M perpetual.
    pub(super) fn backfill(&self, out: &mut Output) {
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
    use crate::venues::{Action, Adapter, AdapterConfig, Output};

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
        let paced: Vec<String> = out
            .actions
            .iter()
            .filter_map(|x| match x {
                Action::HttpGetPaced { url, .. } => Some(url.clone()),
                _ => None,
            })
            .collect();
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
