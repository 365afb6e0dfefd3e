//! Per-minute series: open interest (a level, the last value seen in each
//! minute) and traded volume (a sum over each minute), a day deep.
//!
//! Statistics only (changes, z-scores, charts), so `f64`; the values shown
//! as numbers come from the exact latest figures, not from here.

use std::collections::VecDeque;

use crate::model::Micros;

pub const MINUTE: Micros = 60_000_000;
/// A day and a bit: the 24 h change needs the value 1 440 minutes back.
pub const DEPTH: usize = 1_500;

/// The minute a time falls in (floor, also for times before 1970).
pub fn minute_of(t: Micros) -> i64 {
    t.div_euclid(MINUTE)
}

/// One value per minute; `None` where nothing was seen.
#[derive(Clone, Debug, Default)]
pub struct MinuteSeries {
    /// The minute of the last element.
    last: Option<i64>,
    values: VecDeque<Option<f64>>,
}

impl MinuteSeries {
    fn slot(&mut self, minute: i64) -> Option<&mut Option<f64>> {
        let last = match self.last {
            None => {
                self.last = Some(minute);
                self.values.push_back(None);
                minute
            }
            Some(l) => l,
        };
        if minute > last {
            // Bounded even for a time far in the future: at most DEPTH
            // empty minutes are added.
            let gap = usize::try_from(minute - last)
                .unwrap_or(usize::MAX)
                .min(DEPTH);
            for _ in 0..gap {
                self.values.push_back(None);
            }
            while self.values.len() > DEPTH {
                self.values.pop_front();
            }
            self.last = Some(minute);
            return self.values.back_mut();
        }
        let back = usize::try_from(last - minute).ok()?;
        let len = self.values.len();
        (back < len).then(|| &mut self.values[len - 1 - back])
    }

    /// The level at `minute` is `v` (the latest value of a minute wins).
    pub fn set(&mut self, minute: i64, v: f64) {
        if let Some(s) = self.slot(minute) {
            *s = Some(v);
        }
    }

    /// Add `v` to `minute`'s sum.
    pub fn add(&mut self, minute: i64, v: f64) {
        if let Some(s) = self.slot(minute) {
            *s = Some(s.unwrap_or(0.0) + v);
        }
    }

    pub fn get(&self, minute: i64) -> Option<f64> {
        let last = self.last?;
        let back = usize::try_from(last.checked_sub(minute)?).ok()?;
        let len = self.values.len();
        if back >= len {
            return None;
        }
        self.values[len - 1 - back]
    }

    /// The latest value at or before `minute`, with its minute.
    pub fn at_or_before(&self, minute: i64) -> Option<(i64, f64)> {
        let last = self.last?;
        let start = minute.min(last);
        let oldest = last - (self.values.len() as i64 - 1);
        (oldest..=start)
            .rev()
            .find_map(|m| self.get(m).map(|v| (m, v)))
    }

    /// The last `n` minutes up to `minute`, oldest first (`None` where
    /// nothing was seen).
    pub fn window(&self, minute: i64, n: usize) -> Vec<Option<f64>> {
        let n = i64::try_from(n).unwrap_or(0);
        ((minute - n + 1)..=minute).map(|m| self.get(m)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_sums_gaps_and_depth() {
        let mut s = MinuteSeries::default();
        s.set(10, 1.0);
        s.set(10, 2.0);
        s.add(12, 5.0);
        s.add(12, 1.0);
        assert_eq!(s.get(10), Some(2.0));
        assert_eq!(s.get(11), None);
        assert_eq!(s.get(12), Some(6.0));
        assert_eq!(s.at_or_before(11), Some((10, 2.0)));
        // Older than kept, and far in the future, stay bounded.
        s.set(10 + DEPTH as i64 * 3, 7.0);
        assert_eq!(s.get(10), None);
        assert!(s.values.len() <= DEPTH);
        s.set(i64::MAX / 2, 1.0);
        assert!(s.values.len() <= DEPTH);
        assert_eq!(minute_of(-1), -1);
    }
}
