//! One candle, the trade arithmetic that builds it and the volume-weighted
//! merge that aggregates several venues' candles of one interval.
//!
//! Money stays `Decimal`. Sums of sizes saturate (a figure that large is no
//! market's); sums of price × size that would not fit leave the turnover,
//! and with it the VWAP, unknown rather than wrong.

use rust_decimal::Decimal;

use crate::model::{Kline, Micros, TakerSide};

/// Open, high, low, close and the flow of one interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Candle {
    /// Bucket start, exchange time (UTC-aligned, see [`crate::model::Timeframe`]).
    pub start: Micros,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    /// Base volume.
    pub volume: Decimal,
    /// Base volume bought / sold by takers; `None` when a source did not
    /// say (Bybit's klines give no split).
    pub buy_volume: Option<Decimal>,
    pub sell_volume: Option<Decimal>,
    /// Σ price × size (quote volume), for the VWAP.
    pub turnover: Option<Decimal>,
    pub trades: Option<u64>,
    /// Built from part of its interval only (the app started inside it, or
    /// a backfill and live trades overlapped in it): its volume figures are
    /// a lower bound, its open may not be the venue's.
    pub partial: bool,
}

impl Candle {
    /// A candle with no trade yet, every price at `price`.
    pub fn flat(start: Micros, price: Decimal) -> Candle {
        Candle {
            start,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: Decimal::ZERO,
            buy_volume: Some(Decimal::ZERO),
            sell_volume: Some(Decimal::ZERO),
            turnover: Some(Decimal::ZERO),
            trades: Some(0),
            partial: false,
        }
    }

    pub fn from_kline(k: &Kline) -> Candle {
        let sell = k.buy_volume.and_then(|b| k.volume.checked_sub(b));
        Candle {
            start: k.start,
            open: k.open,
            high: k.high,
            low: k.low,
            close: k.close,
            volume: k.volume,
            buy_volume: k.buy_volume,
            sell_volume: sell,
            turnover: k.turnover,
            trades: k.trades,
            partial: false,
        }
    }

    /// Adds one trade (price and size already validated by the adapter).
    pub fn add(&mut self, price: Decimal, size: Decimal, side: TakerSide) {
        self.high = self.high.max(price);
        self.low = self.low.min(price);
        self.close = price;
        self.volume = saturating_add(self.volume, size);
        let flow = match side {
            TakerSide::Buy => &mut self.buy_volume,
            TakerSide::Sell => &mut self.sell_volume,
        };
        *flow = flow.map(|v| saturating_add(v, size));
        self.turnover = self
            .turnover
            .and_then(|t| t.checked_add(price.checked_mul(size)?));
        self.trades = self.trades.map(|n| n.saturating_add(1));
    }

    /// Volume-weighted average price; `None` without volume or turnover.
    pub fn vwap(&self) -> Option<Decimal> {
        if self.volume.is_zero() {
            return None;
        }
        self.turnover?.checked_div(self.volume)
    }

    /// Close at or above open (drawn as an up candle).
    pub fn is_up(&self) -> bool {
        self.close >= self.open
    }
}

fn saturating_add(a: Decimal, b: Decimal) -> Decimal {
    a.checked_add(b).unwrap_or(Decimal::MAX)
}

fn sum_opt<T: Copy>(
    parts: &[&Candle],
    get: impl Fn(&Candle) -> Option<T>,
    add: impl Fn(T, T) -> Option<T>,
    zero: T,
) -> Option<T> {
    parts
        .iter()
        .try_fold(zero, |acc, c| get(c).and_then(|v| add(acc, v)))
}

/// The candle of one interval across venues: volume, flow, turnover and
/// trade count are sums; open, high, low and close are each venue's price
/// weighted by its volume in the interval (a venue that printed nothing
/// weighs nothing; with no volume anywhere, a plain mean). So the VWAP is
/// the VWAP of all the venues' trades, and one thin venue's stray print
/// does not become the aggregate's high. `None` for no parts, parts of
/// different intervals, or sums that do not fit.
pub fn merge(parts: &[&Candle]) -> Option<Candle> {
    let first = parts.first()?;
    if parts.iter().any(|c| c.start != first.start) {
        return None;
    }
    let volume = parts
        .iter()
        .fold(Decimal::ZERO, |a, c| saturating_add(a, c.volume));
    let weighted = |get: fn(&Candle) -> Decimal| -> Option<Decimal> {
        let (sum, total) = if volume.is_zero() {
            let sum = parts
                .iter()
                .try_fold(Decimal::ZERO, |a, c| a.checked_add(get(c)))?;
            (sum, Decimal::from(parts.len()))
        } else {
            let sum = parts.iter().try_fold(Decimal::ZERO, |a, c| {
                a.checked_add(get(c).checked_mul(c.volume)?)
            })?;
            (sum, volume)
        };
        sum.checked_div(total)
    };
    let add = |a: Decimal, b: Decimal| a.checked_add(b);
    Some(Candle {
        start: first.start,
        open: weighted(|c| c.open)?,
        high: weighted(|c| c.high)?,
        low: weighted(|c| c.low)?,
        close: weighted(|c| c.close)?,
        volume,
        buy_volume: sum_opt(parts, |c| c.buy_volume, add, Decimal::ZERO),
        sell_volume: sum_opt(parts, |c| c.sell_volume, add, Decimal::ZERO),
        turnover: sum_opt(parts, |c| c.turnover, add, Decimal::ZERO),
        trades: sum_opt(parts, |c| c.trades, |a: u64, b: u64| a.checked_add(b), 0),
        partial: parts.iter().any(|c| c.partial),
    })
}

/// Consecutive candles (oldest first) as one candle of a longer interval
/// starting at `start`: the first open, the last close, the extremes, and
/// the sums of the flow. `complete` says the parts cover the whole
/// interval; otherwise, or when a part is partial, the result is partial.
/// `None` for no parts.
pub fn chain(start: Micros, parts: &[&Candle], complete: bool) -> Option<Candle> {
    let (first, last) = (parts.first()?, parts.last()?);
    let add = |a: Decimal, b: Decimal| a.checked_add(b);
    Some(Candle {
        start,
        open: first.open,
        high: parts.iter().map(|c| c.high).max()?,
        low: parts.iter().map(|c| c.low).min()?,
        close: last.close,
        volume: parts
            .iter()
            .fold(Decimal::ZERO, |a, c| saturating_add(a, c.volume)),
        buy_volume: sum_opt(parts, |c| c.buy_volume, add, Decimal::ZERO),
        sell_volume: sum_opt(parts, |c| c.sell_volume, add, Decimal::ZERO),
        turnover: sum_opt(parts, |c| c.turnover, add, Decimal::ZERO),
        trades: sum_opt(parts, |c| c.trades, |a: u64, b: u64| a.checked_add(b), 0),
        partial: !complete || parts.iter().any(|c| c.partial),
    })
}
