//! Liquidation statistics: a bounded tape and rolling long/short totals.
//!
//! Time: every window and every row uses the local receive time, never the
//! exchange's. The engine clock (`now`) is receive-time based too, so windows
//! and row ages cannot be skewed by an exchange clock, and events from venues
//! with and without event times are treated alike.

use std::collections::{HashMap, VecDeque};

use super::snapshot::{LiquidationRow, LiquidationView, LongShort};
use super::window::{Bucket, MINUTE, RollingWindow, TimeWindows};
use crate::model::{Instrument, LiquidatedSide, Liquidation, Micros};

impl Bucket for LongShort {
    fn merge(&mut self, other: &Self) {
        self.long_usd += other.long_usd;
        self.short_usd += other.short_usd;
        self.count = self.count.saturating_add(other.count);
    }
}

/// USD notional per instrument, for [`LiquidationStats::usd_since`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct UsdSum(f64);

impl Bucket for UsdSum {
    fn merge(&mut self, other: &Self) {
        self.0 += other.0;
    }
}

/// The largest liquidation (by known USD notional) within a bucket.
#[derive(Clone, Debug, Default, PartialEq)]
struct Largest(Option<LiquidationRow>);

impl Bucket for Largest {
    fn merge(&mut self, other: &Self) {
        if let Some(candidate) = &other.0 {
            let bigger = match &self.0 {
                Some(current) => candidate.notional_usd > current.notional_usd,
                None => true,
            };
            if bigger {
                self.0 = Some(candidate.clone());
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct LiquidationStats {
    tape_len: usize,
    /// Newest at the front.
    tape: VecDeque<LiquidationRow>,
    totals: TimeWindows<LongShort>,
    largest: RollingWindow<Largest>,
    per_instrument: HashMap<Instrument, TimeWindows<UsdSum>>,
}

impl LiquidationStats {
    pub fn new(tape_len: usize) -> Self {
        LiquidationStats {
            tape_len,
            tape: VecDeque::with_capacity(tape_len.min(4096)),
            totals: TimeWindows::new(),
            largest: RollingWindow::new(60, MINUTE),
            per_instrument: HashMap::new(),
        }
    }

    /// Records one liquidation. `notional_usd` is `None` when the quote's USD
    /// rate is unknown: the row is kept (marked, notional 0) and counted, but
    /// adds nothing to the USD totals.
    /// Record one liquidation; returns its tape row.
    pub fn record(&mut self, l: &Liquidation, notional_usd: Option<f64>) -> LiquidationRow {
        let at = l.received;
        let usd = notional_usd.filter(|n| n.is_finite()).unwrap_or(0.0);
        let row = LiquidationRow {
            venue: l.venue,
            instrument: l.instrument,
            side: l.side,
            price: l.price,
            size: l.size,
            notional_usd: usd,
            notional_known: notional_usd.is_some(),
            time: at,
        };

        let mut amount = LongShort {
            count: 1,
            ..LongShort::default()
        };
        match l.side {
            LiquidatedSide::Long => amount.long_usd = usd,
            LiquidatedSide::Short => amount.short_usd = usd,
        }
        self.totals.add(at, &amount);
        self.per_instrument
            .entry(l.instrument)
            .or_default()
            .add(at, &UsdSum(usd));
        if row.notional_known {
            self.largest.add(at, &Largest(Some(row.clone())));
        }

        if self.tape_len > 0 {
            self.tape.push_front(row.clone());
            self.tape.truncate(self.tape_len);
        }
        row
    }

    /// USD notional liquidated from `since` on over every instrument `key`
    /// accepts (all venues). Resolution is one second for the last five
    /// minutes and one minute up to an hour back.
    pub fn usd_since(&self, key: impl Fn(&Instrument) -> bool, since: Micros) -> f64 {
        self.per_instrument
            .iter()
            .filter(|(instrument, _)| key(instrument))
            .map(|(_, windows)| windows.sum_since(since).0)
            .sum()
    }

    /// The tape keeps rows at or above `min_notional_usd` and rows whose
    /// notional is unknown (they may be large; they are marked). The totals
    /// count every liquidation.
    pub fn view(&self, now: Micros, min_notional_usd: f64) -> LiquidationView {
        LiquidationView {
            tape: self
                .tape
                .iter()
                .filter(|r| !r.notional_known || r.notional_usd >= min_notional_usd)
                .cloned()
                .collect(),
            min_notional_usd,
            last_1m: self.totals.last_1m(now),
            last_5m: self.totals.last_5m(now),
            last_1h: self.totals.last_1h(now),
            largest_1h: self.largest.sum_last(now, 60).0,
            per_minute: self.totals.per_minute(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::window::SECOND;

    use rust_decimal_macros::dec;

    const T0: Micros = 1_700_000_000 * SECOND;

    fn liq(side: LiquidatedSide, at: Micros) -> Liquidation {
        Liquidation {
            venue: crate::venue!("binance"),
            instrument: "BTC-USDT-PERP".parse().unwrap(),
            side,
            price: dec!(60000),
            size: dec!(1),
            exchange_ts: Some(at - 5_000),
            received: at,
        }
    }

    fn on(instrument: &str, l: Liquidation) -> Liquidation {
        Liquidation {
            instrument: instrument.parse().unwrap(),
            ..l
        }
    }

    #[test]
    fn long_and_short_are_attributed_separately() {
        let mut s = LiquidationStats::new(10);
        s.record(&liq(LiquidatedSide::Long, T0), Some(1_000.0));
        s.record(&liq(LiquidatedSide::Long, T0 + SECOND), Some(500.0));
        s.record(&liq(LiquidatedSide::Short, T0 + 2 * SECOND), Some(250.0));
        let v = s.view(T0 + 3 * SECOND, 0.0);
        let expected = LongShort {
            long_usd: 1_500.0,
            short_usd: 250.0,
            count: 3,
        };
        assert_eq!(v.last_1m, expected);
        assert_eq!(v.last_5m, expected);
        assert_eq!(v.last_1h, expected);
        assert_eq!(v.per_minute.len(), 60);
        let last_minutes: LongShort = v.per_minute.iter().fold(LongShort::default(), |mut a, b| {
            a.merge(b);
            a
        });
        assert_eq!(last_minutes, expected);
    }

    #[test]
    fn windows_roll_over() {
        let mut s = LiquidationStats::new(10);
        s.record(&liq(LiquidatedSide::Long, T0), Some(1_000.0));
        s.record(&liq(LiquidatedSide::Short, T0 + 90 * SECOND), Some(300.0));
        let v = s.view(T0 + 2 * MINUTE, 0.0);
        assert_eq!(v.last_1m.long_usd, 0.0);
        assert_eq!(v.last_1m.short_usd, 300.0);
        assert_eq!(v.last_5m.long_usd, 1_000.0);
        assert_eq!(v.last_5m.count, 2);
        let v = s.view(T0 + 30 * MINUTE, 0.0);
        assert_eq!(v.last_5m, LongShort::default());
        assert_eq!(v.last_1h.count, 2);
        assert_eq!(v.per_minute.iter().map(|m| m.count).sum::<u64>(), 2);
        let v = s.view(T0 + 2 * 60 * MINUTE, 0.0);
        assert_eq!(v.last_1h, LongShort::default());
        assert!(v.largest_1h.is_none());
        // The tape is not time-bounded.
        assert_eq!(v.tape.len(), 2);
    }

    #[test]
    fn tape_is_bounded_newest_first_and_filtered() {
        let mut s = LiquidationStats::new(3);
        for i in 0..5 {
            let usd = [100.0, 5_000.0, 200.0, 9_000.0, 50.0][i as usize];
            s.record(&liq(LiquidatedSide::Long, T0 + i * SECOND), Some(usd));
        }
        let v = s.view(T0 + 5 * SECOND, 0.0);
        let notionals: Vec<f64> = v.tape.iter().map(|r| r.notional_usd).collect();
        assert_eq!(notionals, vec![50.0, 9_000.0, 200.0]);
        let v = s.view(T0 + 5 * SECOND, 1_000.0);
        assert_eq!(v.min_notional_usd, 1_000.0);
        assert_eq!(v.tape.len(), 1);
        assert_eq!(v.tape[0].notional_usd, 9_000.0);
        // Totals ignore the tape filter and the tape bound.
        assert_eq!(v.last_1m.count, 5);
        assert_eq!(v.last_1m.long_usd, 14_350.0);
    }

    #[test]
    fn unknown_notional_is_kept_marked_and_counted() {
        let mut s = LiquidationStats::new(10);
        s.record(&liq(LiquidatedSide::Short, T0), None);
        let v = s.view(T0, 1_000_000.0);
        assert_eq!(v.tape.len(), 1);
        assert!(!v.tape[0].notional_known);
        assert_eq!(v.tape[0].notional_usd, 0.0);
        assert_eq!(v.tape[0].time, T0);
        assert_eq!(v.last_1m.count, 1);
        assert_eq!(v.last_1m.short_usd, 0.0);
        assert!(v.largest_1h.is_none());
    }

    #[test]
    fn largest_is_within_the_last_hour() {
        let mut s = LiquidationStats::new(10);
        s.record(&liq(LiquidatedSide::Long, T0), Some(90_000.0));
        s.record(
            &liq(LiquidatedSide::Short, T0 + 10 * MINUTE),
            Some(20_000.0),
        );
        s.record(&liq(LiquidatedSide::Long, T0 + 20 * MINUTE), Some(30_000.0));
        let v = s.view(T0 + 30 * MINUTE, 0.0);
        assert_eq!(
            v.largest_1h.as_ref().map(|r| r.notional_usd),
            Some(90_000.0)
        );
        let v = s.view(T0 + 65 * MINUTE, 0.0);
        let largest = v.largest_1h.unwrap();
        assert_eq!(largest.notional_usd, 30_000.0);
        assert_eq!(largest.side, LiquidatedSide::Long);
    }

    #[test]
    fn extreme_times_counts_and_notionals() {
        let mut s = LiquidationStats::new(3);
        for at in [i64::MIN, 0, i64::MAX] {
            let mut l = liq(LiquidatedSide::Long, 0);
            (l.price, l.size) = (rust_decimal::Decimal::MAX, rust_decimal::Decimal::MIN);
            (l.received, l.exchange_ts) = (at, Some(at));
            s.record(&l, Some(f64::MAX));
            let short = Liquidation {
                received: at,
                ..liq(LiquidatedSide::Short, 0)
            };
            s.record(&short, Some(f64::INFINITY));
            for now in [i64::MIN, 0, i64::MAX] {
                let v = s.view(now, 0.0);
                assert!(v.per_minute.len() <= 60);
                let _ = s.usd_since(|_| true, now);
            }
        }
        let v = s.view(i64::MAX, 0.0);
        assert_eq!(v.last_1m.count, 2);
        assert_eq!(v.last_1m.long_usd, f64::MAX);
        assert_eq!(
            v.last_1m.short_usd, 0.0,
            "a non-finite notional adds nothing"
        );
        let mut total = LongShort {
            count: u64::MAX,
            ..LongShort::default()
        };
        total.merge(&LongShort {
            count: 1,
            ..LongShort::default()
        });
        assert_eq!(total.count, u64::MAX);
    }

    #[test]
    fn usd_since_filters_by_instrument_and_time() {
        let mut s = LiquidationStats::new(10);
        s.record(&liq(LiquidatedSide::Long, T0), Some(100.0));
        s.record(
            &on("ETH-USDT-PERP", liq(LiquidatedSide::Long, T0 + SECOND)),
            Some(40.0),
        );
        s.record(
            &on("BTC-USD-PERP", liq(LiquidatedSide::Short, T0 + 2 * MINUTE)),
            Some(7.0),
        );
        let btc = |i: &Instrument| i.base.as_str() == "BTC";
        assert_eq!(s.usd_since(btc, T0 - MINUTE), 107.0);
        assert_eq!(s.usd_since(btc, T0 + MINUTE), 7.0);
        assert_eq!(s.usd_since(|_| true, T0), 147.0);
        assert_eq!(s.usd_since(|_| false, T0), 0.0);
    }
}
