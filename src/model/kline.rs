//! Candle intervals and the klines venues publish over REST, which seed the
//! engine's candles at start (`engine::candles`).

use rust_decimal::Decimal;

use super::Micros;

/// A candle interval. Buckets are aligned to the Unix epoch in UTC, as every
/// venue aligns its klines.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Timeframe {
    M1,
    M5,
    M15,
    H1,
    H4,
    D1,
}

impl Timeframe {
    /// Every interval, shortest first.
    pub const ALL: [Timeframe; 6] = [
        Timeframe::M1,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::H1,
        Timeframe::H4,
        Timeframe::D1,
    ];

    /// Length in microseconds.
    pub const fn micros(self) -> Micros {
        const MIN: Micros = 60_000_000;
        match self {
            Timeframe::M1 => MIN,
            Timeframe::M5 => 5 * MIN,
            Timeframe::M15 => 15 * MIN,
            Timeframe::H1 => 60 * MIN,
            Timeframe::H4 => 240 * MIN,
            Timeframe::D1 => 1_440 * MIN,
        }
    }

    /// Start of the bucket holding `t` (floor, also for times before 1970).
    pub fn bucket(self, t: Micros) -> Micros {
        // `t - t mod m` cannot overflow where `t / m * m` can (extreme
        // exchange times); the one unrepresentable floor keeps `t`.
        t.checked_sub(t.rem_euclid(self.micros())).unwrap_or(t)
    }

    /// `1m`, `5m`, … `1d`: how the UI and headless lines name it.
    pub fn label(self) -> &'static str {
        match self {
            Timeframe::M1 => "1m",
            Timeframe::M5 => "5m",
            Timeframe::M15 => "15m",
            Timeframe::H1 => "1h",
            Timeframe::H4 => "4h",
            Timeframe::D1 => "1d",
        }
    }

    /// Position in [`Timeframe::ALL`].
    pub fn index(self) -> usize {
        Timeframe::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// How a venue opens a candle.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum CandleOpen {
    /// At the first trade of the interval (Binance and most venues).
    #[default]
    FirstTrade,
    /// At the previous candle's close, before any trade; high and low
    /// include that open (Bybit).
    PreviousClose,
}

/// One kline as a venue's REST history gives it. Fields a venue does not
/// publish are `None`.
#[derive(Clone, PartialEq, Debug)]
pub struct Kline {
    /// Bucket start (exchange time).
    pub start: Micros,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    /// Base volume.
    pub volume: Decimal,
    /// Quote volume (Σ price × size), for the VWAP.
    pub turnover: Option<Decimal>,
    /// Base volume bought by takers.
    pub buy_volume: Option<Decimal>,
    pub trades: Option<u64>,
}
