//! Rolling time windows built from fixed-width buckets.
//!
//! Statistics over "the last minute / five minutes / hour" are kept as a ring
//! of buckets indexed by `time / width`. Recording touches one bucket; a view
//! folds at most the ring's length, whatever the event rate. Buckets are reset
//! lazily: a slot whose stored index is not the one wanted holds stale data
//! and is ignored or overwritten.
//!
//! Times come from the network and may be anything from `i64::MIN` to
//! `i64::MAX`: bucket arithmetic saturates, so an absurd time lands in the
//! first or last bucket there is instead of wrapping (a window near the ends
//! of the range may then hold fewer buckets; no real time is near them).

use crate::model::Micros;

pub const SECOND: Micros = 1_000_000;
pub const MINUTE: Micros = 60 * SECOND;

/// A value that can be accumulated into a bucket and folded over a window.
pub trait Bucket: Default + Clone {
    fn merge(&mut self, other: &Self);
}

/// A ring of `len` buckets of `width` microseconds each.
#[derive(Clone, Debug)]
pub struct RollingWindow<T> {
    width: Micros,
    /// (bucket index, value); index `None` means never written.
    slots: Vec<(Option<i64>, T)>,
    /// Index of the newest bucket ever written.
    newest: Option<i64>,
}

impl<T: Bucket> RollingWindow<T> {
    /// `len` and `width` are clamped to at least 1.
    pub fn new(len: usize, width: Micros) -> Self {
        RollingWindow {
            width: width.max(1),
            slots: vec![(None, T::default()); len.max(1)],
            newest: None,
        }
    }

    fn index_of(&self, at: Micros) -> i64 {
        at.div_euclid(self.width)
    }

    fn slot_of(&self, index: i64) -> usize {
        // rem_euclid of a positive length is in 0..len.
        index.rem_euclid(self.slots.len() as i64) as usize
    }

    /// Merges `value` into the bucket holding time `at`. A value older than
    /// the ring still covers (its slot already holds a newer bucket) is
    /// dropped: it would fall outside every window anyway.
    pub fn add(&mut self, at: Micros, value: &T) {
        let index = self.index_of(at);
        let slot = self.slot_of(index);
        let Some((stored, bucket)) = self.slots.get_mut(slot) else {
            return;
        };
        self.newest = Some(self.newest.map_or(index, |n| n.max(index)));
        match *stored {
            Some(s) if s == index => bucket.merge(value),
            Some(s) if s > index => {}
            _ => {
                *stored = Some(index);
                *bucket = value.clone();
            }
        }
    }

    /// The bucket with the given index, if the ring still holds it.
    fn bucket(&self, index: i64) -> Option<&T> {
        match self.slots.get(self.slot_of(index)) {
            Some((Some(s), value)) if *s == index => Some(value),
            _ => None,
        }
    }

    /// True when every bucket from the one holding `since` to the newest is
    /// still in the ring (or nothing was ever written).
    pub fn covers(&self, since: Micros) -> bool {
        match self.newest {
            // In i128: exact at the ends of the i64 range too.
            Some(newest) => {
                i128::from(newest) - (self.slots.len() as i128) < i128::from(self.index_of(since))
            }
            None => true,
        }
    }

    /// Fold of every bucket still held from the one holding `since` onwards
    /// (the whole bucket counts even when `since` falls inside it).
    pub fn sum_since(&self, since: Micros) -> T {
        let first = self.index_of(since);
        let mut total = T::default();
        for (stored, value) in &self.slots {
            if stored.is_some_and(|s| s >= first) {
                total.merge(value);
            }
        }
        total
    }

    /// Fold of the `n` most recent buckets up to and including the one holding
    /// `now` (so the newest bucket is partial). `n` is capped at the ring size.
    pub fn sum_last(&self, now: Micros, n: usize) -> T {
        let newest = self.index_of(now);
        let n = n.min(self.slots.len()) as i64;
        let mut total = T::default();
        if n == 0 {
            return total;
        }
        for index in newest.saturating_sub(n - 1)..=newest {
            if let Some(value) = self.bucket(index) {
                total.merge(value);
            }
        }
        total
    }

    /// Fold of the `n` complete buckets before the one holding `now`.
    pub fn sum_complete(&self, now: Micros, n: usize) -> T {
        let current = self.index_of(now);
        let n = n.min(self.slots.len().saturating_sub(1)) as i64;
        let mut total = T::default();
        for index in current.saturating_sub(n)..current {
            if let Some(value) = self.bucket(index) {
                total.merge(value);
            }
        }
        total
    }

    /// The `n` most recent buckets up to the one holding `now`, oldest first;
    /// buckets with no data are `T::default()`.
    pub fn series(&self, now: Micros, n: usize) -> Vec<T> {
        let newest = self.index_of(now);
        let n = n.min(self.slots.len()) as i64;
        if n == 0 {
            return Vec::new();
        }
        (newest.saturating_sub(n - 1)..=newest)
            .map(|index| self.bucket(index).cloned().unwrap_or_default())
            .collect()
    }
}

/// The three display windows every statistic uses: the last 1 minute and 5
/// minutes from per-second buckets, the last hour from per-minute buckets.
/// Each window includes the current, partial bucket.
#[derive(Clone, Debug)]
pub struct TimeWindows<T> {
    seconds: RollingWindow<T>,
    minutes: RollingWindow<T>,
}

impl<T: Bucket> Default for TimeWindows<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Bucket> TimeWindows<T> {
    pub fn new() -> Self {
        TimeWindows {
            seconds: RollingWindow::new(300, SECOND),
            minutes: RollingWindow::new(60, MINUTE),
        }
    }

    pub fn add(&mut self, at: Micros, value: &T) {
        self.seconds.add(at, value);
        self.minutes.add(at, value);
    }

    pub fn last_1m(&self, now: Micros) -> T {
        self.seconds.sum_last(now, 60)
    }

    pub fn last_5m(&self, now: Micros) -> T {
        self.seconds.sum_last(now, 300)
    }

    pub fn last_1h(&self, now: Micros) -> T {
        self.minutes.sum_last(now, 60)
    }

    /// Everything recorded from `since` on, at one-second resolution while
    /// the per-second ring still covers it, else at one-minute resolution
    /// (the minute holding `since` counts whole), and at most one hour back.
    pub fn sum_since(&self, since: Micros) -> T {
        if self.seconds.covers(since) {
            self.seconds.sum_since(since)
        } else {
            self.minutes.sum_since(since)
        }
    }

    /// Per-minute totals of the last hour, oldest first (60 entries).
    pub fn per_minute(&self, now: Micros) -> Vec<T> {
        self.minutes.series(now, 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, Default, PartialEq)]
    struct Count(u64);

    impl Bucket for Count {
        fn merge(&mut self, other: &Self) {
            self.0 += other.0;
        }
    }

    const T0: Micros = 1_700_000_000 * SECOND;

    #[test]
    fn events_age_out_of_one_minute_but_stay_in_five() {
        let mut w = TimeWindows::<Count>::new();
        w.add(T0, &Count(1));
        w.add(T0 + 30 * SECOND, &Count(2));
        let now = T0 + 30 * SECOND;
        assert_eq!(w.last_1m(now), Count(3));
        let later = T0 + 61 * SECOND;
        assert_eq!(w.last_1m(later), Count(2));
        assert_eq!(w.last_5m(later), Count(3));
        assert_eq!(w.last_1h(later), Count(3));
        let much_later = T0 + 6 * MINUTE;
        assert_eq!(w.last_5m(much_later), Count(0));
        assert_eq!(w.last_1h(much_later), Count(3));
        assert_eq!(w.last_1h(T0 + 61 * MINUTE), Count(0));
    }

    #[test]
    fn stale_slots_are_overwritten_not_merged() {
        let mut w = RollingWindow::<Count>::new(4, SECOND);
        w.add(T0, &Count(5));
        // Same slot four buckets later: the old value must not leak in.
        w.add(T0 + 4 * SECOND, &Count(1));
        assert_eq!(w.sum_last(T0 + 4 * SECOND, 4), Count(1));
        // An event older than the ring covers is dropped.
        w.add(T0, &Count(7));
        assert_eq!(w.sum_last(T0 + 4 * SECOND, 4), Count(1));
    }

    #[test]
    fn hour_series_is_oldest_first() {
        let mut w = TimeWindows::<Count>::new();
        w.add(T0, &Count(1));
        w.add(T0 + 10 * MINUTE, &Count(2));
        let now = T0 + 10 * MINUTE;
        let series = w.per_minute(now);
        assert_eq!(series.len(), 60);
        assert_eq!(series[59], Count(2));
        assert_eq!(series[49], Count(1));
        assert_eq!(series.iter().map(|c| c.0).sum::<u64>(), 3);
    }

    #[test]
    fn complete_buckets_exclude_the_current_one() {
        let mut w = RollingWindow::<Count>::new(6, SECOND);
        for s in 0..6 {
            w.add(T0 + s * SECOND, &Count(10));
        }
        let now = T0 + 5 * SECOND + SECOND / 2;
        assert_eq!(w.sum_complete(now, 5), Count(50));
        assert_eq!(w.sum_last(now, 6), Count(60));
    }

    #[test]
    fn sum_since_picks_the_finest_ring_that_covers() {
        let mut w = TimeWindows::<Count>::new();
        w.add(T0, &Count(1));
        w.add(T0 + 10 * SECOND, &Count(2));
        w.add(T0 + 20 * MINUTE, &Count(4));
        assert_eq!(w.sum_since(T0 + 20 * MINUTE - 5 * SECOND), Count(4));
        // Ten minutes back is beyond the second ring: minute resolution.
        assert_eq!(w.sum_since(T0 + 10 * MINUTE), Count(4));
        assert_eq!(w.sum_since(T0 + 5 * SECOND), Count(7));
        assert_eq!(w.sum_since(T0 - MINUTE), Count(7));
    }

    #[test]
    fn extreme_times_do_not_panic() {
        // Width 1 puts bucket indices at the ends of the i64 range.
        for width in [1, SECOND] {
            let mut w = RollingWindow::<Count>::new(4, width);
            for t in [i64::MIN, i64::MIN + 1, 0, i64::MAX - 1, i64::MAX] {
                w.add(t, &Count(1));
                for now in [i64::MIN, 0, i64::MAX] {
                    let _ = w.covers(now);
                    let _ = w.sum_since(now);
                    let _ = w.sum_last(now, 4);
                    assert_eq!(w.sum_last(now, 0), Count(0));
                    let _ = w.sum_complete(now, 4);
                    assert!(w.series(now, 4).len() <= 4);
                    assert!(w.series(now, 0).is_empty());
                }
            }
        }
        let mut w = RollingWindow::<Count>::new(4, 1);
        w.add(i64::MAX, &Count(2));
        assert_eq!(w.sum_last(i64::MAX, 4), Count(2));
        assert_eq!(
            w.series(i64::MAX, 4),
            vec![Count(0), Count(0), Count(0), Count(2)]
        );
        assert_eq!(w.sum_complete(i64::MAX, 3), Count(0));
        let mut w = RollingWindow::<Count>::new(4, 1);
        w.add(i64::MIN, &Count(3));
        assert!(w.covers(i64::MIN));
        assert_eq!(w.sum_last(i64::MIN, 4), Count(3));
        assert_eq!(
            w.series(i64::MIN, 4),
            vec![Count(3)],
            "clipped at the range"
        );
        let mut t = TimeWindows::<Count>::new();
        t.add(i64::MIN, &Count(1));
        t.add(i64::MAX, &Count(1));
        assert_eq!(t.last_1h(i64::MAX), Count(1));
        assert_eq!(t.per_minute(i64::MIN).len(), 60);
        assert_eq!(t.sum_since(i64::MIN), Count(2));
    }

    #[test]
    fn negative_times_do_not_panic() {
        let mut w = TimeWindows::<Count>::new();
        w.add(-5, &Count(1));
        assert_eq!(w.last_1m(0), Count(1));
    }
}
