//! History backfill at start: each venue with public history endpoints asks
//! for the recent open interest and settled funding of every perpetual it
//! watches, and the klines of every instrument it watches (paced GETs,
//! [`crate::venues::Output::http_get_paced`]), so the Derivatives pane's
//! changes and z-scores mean something in the first minute and charts are
//! full at once. A venue module owns its URLs and JSON shapes; this module
//! holds what they share: validating the points and building the event.

use rust_decimal::Decimal;

use super::parse::{TIME_MAX, TIME_MIN, decimal, is_price, is_size, ms_to_micros};
use crate::model::{
    CandleOpen, HistoryKind, Instrument, Kline, MarketEvent, Micros, Timeframe, Venue,
};

/// How far back open interest is asked for: a day at 5-minute resolution
/// gives the 24 h change at once.
pub const OI_POINTS: usize = 288;
/// Settled funding rates asked for (a month of 8-hourly fundings).
pub const FUNDING_POINTS: usize = 90;

/// Klines asked for per instrument and interval: as many as a candle
/// series keeps.
pub const KLINES: usize = crate::engine::candles::series::RING;

/// One kline as a venue's JSON gives it: start in ms, then texts.
pub struct RawKline<'a> {
    pub start_ms: i64,
    pub open: &'a str,
    pub high: &'a str,
    pub low: &'a str,
    pub close: &'a str,
    pub volume: &'a str,
    pub turnover: Option<&'a str>,
    pub buy_volume: Option<&'a str>,
    pub trades: Option<u64>,
}

/// Klines, validated (prices positive and bounded, low ≤ open, close ≤
/// high, volumes sizes, times sane, buy volume within the volume), oldest
/// first, one per start. Returns them and how many were invalid.
pub fn klines<'a>(rows: impl IntoIterator<Item = RawKline<'a>>) -> (Vec<Kline>, usize) {
    let mut bad = 0;
    let mut out: Vec<Kline> = Vec::new();
    for r in rows {
        let price = |t: &str| decimal(t).filter(|d| is_price(*d));
        let size = |t: &str| decimal(t).filter(|d| is_size(*d));
        let start = ms_to_micros(r.start_ms).filter(|t| (TIME_MIN..=TIME_MAX).contains(t));
        let optional = |t: Option<&str>| match t {
            None => Some(None),
            Some(t) => size(t).map(Some),
        };
        let k = (|| {
            let k = Kline {
                start: start?,
                open: price(r.open)?,
                high: price(r.high)?,
                low: price(r.low)?,
                close: price(r.close)?,
                volume: size(r.volume)?,
                turnover: optional(r.turnover)?,
                buy_volume: optional(r.buy_volume)?,
                trades: r.trades,
            };
            let ordered = k.low <= k.open.min(k.close) && k.high >= k.open.max(k.close);
            let flow_ok = k.buy_volume.is_none_or(|b| b <= k.volume);
            (ordered && flow_ok).then_some(k)
        })();
        match k {
            Some(k) => out.push(k),
            None => bad += 1,
        }
    }
    out.sort_by_key(|k| k.start);
    out.dedup_by_key(|k| k.start);
    (out, bad)
}

/// The event for a venue's klines.
pub fn klines_event(
    venue: Venue,
    instrument: Instrument,
    timeframe: Timeframe,
    open_rule: CandleOpen,
    klines: Vec<Kline>,
) -> MarketEvent {
    MarketEvent::Klines {
        venue,
        instrument,
        timeframe,
        open_rule,
        klines,
    }
}

/// A funding rate beyond ±100% a period is not a rate.
fn is_rate(d: Decimal) -> bool {
    d.abs() < Decimal::ONE
}

/// Points from (time in ms, value text) pairs, oldest first, one per time.
/// Returns the points and how many pairs were invalid (bad number, time
/// outside any market's life, a negative open interest or an impossible
/// rate), which the caller counts as parse errors.
pub fn points<'a>(
    kind: HistoryKind,
    pairs: impl IntoIterator<Item = (i64, &'a str)>,
) -> (Vec<(Micros, Decimal)>, usize) {
    let valid = match kind {
        HistoryKind::OpenInterest => is_size,
        HistoryKind::FundingRate => is_rate,
    };
    let mut bad = 0;
    let mut out: Vec<(Micros, Decimal)> = Vec::new();
    for (ms, text) in pairs {
        let t = ms_to_micros(ms).filter(|t| (TIME_MIN..=TIME_MAX).contains(t));
        match (t, decimal(text).filter(|d| valid(*d))) {
            (Some(t), Some(v)) => out.push((t, v)),
            _ => bad += 1,
        }
    }
    out.sort_by_key(|(t, _)| *t);
    out.dedup_by_key(|(t, _)| *t);
    (out, bad)
}

/// The event for a venue's answer.
pub fn event(
    venue: Venue,
    instrument: Instrument,
    kind: HistoryKind,
    points: Vec<(Micros, Decimal)>,
) -> MarketEvent {
    MarketEvent::History {
        venue,
        instrument,
        kind,
        points,
    }
}

/// The value of query parameter `key` in `url` (history answers are told
/// apart by the symbol they were asked for).
pub fn query_param<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_validated_sorted_and_unique() {
        let (p, bad) = points(
            HistoryKind::OpenInterest,
            [
                (1_700_000_300_000, "12.5"),
                (1_700_000_000_000, "10"),
                (1_700_000_000_000, "10"),
                (1_700_000_600_000, "-1"),
                (1_700_000_900_000, "x"),
                (i64::MAX, "3"),
            ],
        );
        assert_eq!(bad, 3);
        let want: Vec<(Micros, Decimal)> = vec![
            (1_700_000_000_000_000, Decimal::from(10)),
            (1_700_000_300_000_000, "12.5".parse().unwrap()),
        ];
        assert_eq!(p, want);
        let (f, bad) = points(
            HistoryKind::FundingRate,
            [(1_700_000_000_000, "-0.0001"), (1_700_028_800_000, "2")],
        );
        assert_eq!((f.len(), bad), (1, 1));
    }

    #[test]
    fn klines_are_validated_sorted_and_unique() {
        let raw = |ms, o, h, l, c| RawKline {
            start_ms: ms,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: "2",
            turnover: Some("200"),
            buy_volume: None,
            trades: None,
        };
        let (k, bad) = klines([
            raw(1_700_000_060_000, "100", "101", "99", "100.5"),
            raw(1_700_000_000_000, "99", "100", "98", "100"),
            raw(1_700_000_000_000, "99", "100", "98", "100"),
            // High below the close, a zero price, a bad time.
            raw(1_700_000_120_000, "100", "100", "99", "101"),
            raw(1_700_000_180_000, "0", "1", "0", "1"),
            raw(i64::MAX, "1", "1", "1", "1"),
        ]);
        assert_eq!(bad, 3);
        let starts: Vec<Micros> = k.iter().map(|k| k.start).collect();
        assert_eq!(starts, [1_700_000_000_000_000, 1_700_000_060_000_000]);
        assert_eq!(k[1].turnover, Some(Decimal::from(200)));
    }

    #[test]
    fn query_params_are_found_by_name() {
        let url = "https://x/v5/market/open-interest?category=linear&symbol=BTCUSDT&limit=200";
        assert_eq!(query_param(url, "symbol"), Some("BTCUSDT"));
        assert_eq!(query_param(url, "category"), Some("linear"));
        assert_eq!(query_param(url, "cursor"), None);
        assert_eq!(query_param("https://x/a", "symbol"), None);
    }
}
