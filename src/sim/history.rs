//! History the simulated venues answer on their REST history endpoints
//! (open interest, settled funding), so backfill at start can be tried and
//! tested with no exchange. The series are a deterministic function of the
//! book and the time: the same request gets the same answer, and the last
//! open-interest point is the market's current value.

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use super::Shared;
use super::market::{BookId, FUNDING_PERIOD_MS};

/// One point: time (ms) and value (wire lots for open interest, a rate
/// for funding).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistoryPoint<T> {
    pub time_ms: i64,
    pub value: T,
}

/// `n` open-interest points `step_ms` apart, oldest first, ending at the
/// last whole step before now: a slow wave around today's value.
pub fn open_interest_history(
    shared: &Shared,
    book: BookId,
    step_ms: i64,
    n: usize,
) -> Vec<HistoryPoint<i64>> {
    let (Some(now_oi), step) = (shared.open_interest(book), step_ms.max(1)) else {
        return Vec::new();
    };
    let last = shared.now_ms() / step * step;
    let phase = book as f64 * 0.7;
    (0..n)
        .rev()
        .map(|back| {
            let k = back as f64;
            // 3% wave, 1% lower a day back (positions built over the day).
            let factor = 1.0 + 0.03 * ((k * 0.11 + phase).sin() - phase.sin())
                - 0.01 * k * step as f64 / 86_400_000.0;
            HistoryPoint {
                time_ms: last - back as i64 * step,
                value: ((now_oi as f64) * factor).round().max(1.0) as i64,
            }
        })
        .collect()
}

/// The last `n` settled funding rates, oldest first, at the simulator's
/// 8-hour funding times.
pub fn funding_history(shared: &Shared, book: BookId, n: usize) -> Vec<HistoryPoint<Decimal>> {
    let last = shared.now_ms() / FUNDING_PERIOD_MS * FUNDING_PERIOD_MS;
    (0..n)
        .rev()
        .map(|back| {
            let k = (back + book * 3) as f64;
            let rate = 0.0001 + 0.00006 * (k * 0.9).sin();
            HistoryPoint {
                time_ms: last - back as i64 * FUNDING_PERIOD_MS,
                value: Decimal::from_f64(rate)
                    .map(|d| d.round_dp(8))
                    .unwrap_or_default(),
            }
        })
        .collect()
}
