//! History backfill at start: each venue with public history endpoints asks
//! for the recent open interest and settled funding of every perpetual it
//! watches (paced GETs, [`crate::venues::Output::http_get_paced`]), so the
//! Derivatives pane's changes and z-scores mean something in the first
//! minute. A venue module owns its URLs and JSON shapes; this module holds
//! what they share: validating the points and building the event.

use rust_decimal::Decimal;

use super::parse::{TIME_MAX, TIME_MIN, decimal, is_size, ms_to_micros};
use crate::model::{HistoryKind, Instrument, MarketEvent, Micros, Venue};

/// How far back open interest is asked for: a day at 5-minute resolution
/// gives the 24 h change at once.
pub const OI_POINTS: usize = 288;
/// Settled funding rates asked for (a month of 8-hourly fundings).
pub const FUNDING_POINTS: usize = 90;

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
    fn query_params_are_found_by_name() {
        let url = "https://x/v5/market/open-interest?category=linear&symbol=BTCUSDT&limit=200";
        assert_eq!(query_param(url, "symbol"), Some("BTCUSDT"));
        assert_eq!(query_param(url, "category"), Some("linear"));
        assert_eq!(query_param(url, "cursor"), None);
        assert_eq!(query_param("https://x/a", "symbol"), None);
    }
}
