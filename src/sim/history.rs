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

/// One simulated kline, in ticks and wire lots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimKline {
    pub start_ms: i64,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub lots: i64,
    /// Lots bought by takers.
    pub buy_lots: i64,
    pub trades: u64,
}

/// A stable pseudo-random number in [0, 1) for (book, time, salt).
fn noise(book: BookId, t: i64, salt: u64) -> f64 {
    let mut h = (book as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(t as u64)
        .wrapping_add(salt.wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The last `n` klines of `step_ms`, oldest first, the newest being the
/// interval in progress and closing at the book's mid now; each opens at
/// the previous close. A random walk backwards from today's price (about
/// 6 bps per √minute), so a chart of the demo is full at start.
pub fn kline_history(shared: &Shared, book: BookId, step_ms: i64, n: usize) -> Vec<SimKline> {
    let mid = shared
        .snapshot(book, 0, 1)
        .and_then(|s| Some((s.bids.first()?.0 + s.asks.first()?.0) / 2));
    let (Some(mid), step) = (mid, step_ms.max(1)) else {
        return Vec::new();
    };
    let last = shared.now_ms().div_euclid(step) * step;
    let sigma = 0.0006 * (step as f64 / 60_000.0).sqrt();
    let mut close = mid as f64;
    let mut out = Vec::with_capacity(n);
    for back in 0..n as i64 {
        let start = last - back * step;
        let z = noise(book, start, 1) + noise(book, start, 2) - 1.0;
        let open = close * (1.0 - z * sigma * 1.7);
        let wick = |salt| noise(book, start, salt) * sigma * close * 0.8;
        let high = open.max(close) + wick(3);
        let low = (open.min(close) - wick(4)).max(1.0);
        let scale = (step as f64 / 60_000.0).max(1.0);
        let lots = ((200.0 + noise(book, start, 5) * 2_000.0) * scale).round() as i64;
        let buy = (lots as f64 * (0.3 + 0.4 * noise(book, start, 6))).round() as i64;
        out.push(SimKline {
            start_ms: start,
            open: open.round().max(1.0) as i64,
            high: high.round().max(1.0) as i64,
            low: low.round().max(1.0) as i64,
            close: close.round().max(1.0) as i64,
            lots,
            buy_lots: buy,
            trades: (lots / 7).max(1) as u64,
        });
        close = open;
    }
    out.reverse();
    // Rounding may leave an open or close outside the range.
    for k in &mut out {
        k.high = k.high.max(k.open).max(k.close);
        k.low = k.low.min(k.open).min(k.close);
    }
    out
}
