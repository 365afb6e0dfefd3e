//! Exchange-to-receive latency as a cumulative histogram with fixed bounds,
//! the shape Prometheus scrapes (`depthwatch_exchange_latency_seconds`).
//! The Health pane's percentiles come from recent samples instead; this one
//! counts every sample since the connection was first seen, in a few
//! integers, so keeping it costs the engine a short scan per sample.

use crate::model::Micros;

/// Upper bounds of the buckets, in microseconds: 1 ms to 10 s, roughly
/// 1-2.5-5 per decade (market data latencies live between a few
/// milliseconds and a few hundred). Everything above the last bound is
/// counted only in the total (the `+Inf` bucket).
pub const BOUNDS_US: [Micros; 13] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000,
];

/// Per-bucket (not cumulative) counts, the count and the sum of all samples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// `buckets[i]`: samples in `(BOUNDS_US[i-1], BOUNDS_US[i]]`.
    buckets: [u64; BOUNDS_US.len()],
    count: u64,
    /// Microseconds; saturates rather than wraps.
    sum_us: u64,
}

impl LatencyHistogram {
    /// One sample. A negative latency (the exchange's clock ahead of ours)
    /// counts as 0, so the sum only grows, as Prometheus expects of it;
    /// the Health pane is where clock skew is reported.
    pub fn observe(&mut self, latency: Micros) {
        let us = latency.max(0);
        if let Some(i) = BOUNDS_US.iter().position(|&b| us <= b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum_us = self.sum_us.saturating_add(us.unsigned_abs());
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the samples, seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_us as f64 / 1e6
    }

    /// `(upper bound in seconds, samples in that bucket alone)`, ascending,
    /// ending with `+Inf` and the samples above the last bound: the shape
    /// `prometheus-client` encodes (it makes them cumulative).
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        let mut out: Vec<(f64, u64)> = BOUNDS_US
            .iter()
            .zip(self.buckets)
            .map(|(&bound, n)| (bound as f64 / 1e6, n))
            .collect();
        let counted: u64 = self.buckets.iter().sum();
        out.push((f64::INFINITY, self.count.saturating_sub(counted)));
        out
    }

    /// `(upper bound in seconds, samples at or below it)`: as Prometheus
    /// shows the buckets.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        self.buckets()
            .into_iter()
            .map(|(bound, n)| {
                total += n;
                (bound, total)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_land_in_their_buckets_cumulatively() {
        let mut h = LatencyHistogram::default();
        for us in [-3_000, 0, 1_000, 1_001, 40_000, 60_000_000] {
            h.observe(us);
        }
        let c = h.cumulative();
        assert_eq!(c.len(), BOUNDS_US.len() + 1);
        assert_eq!(c[0], (0.001, 3), "negative, 0 and exactly 1 ms");
        assert_eq!(c[1], (0.0025, 4));
        assert_eq!(c[5], (0.05, 5));
        assert_eq!(c[BOUNDS_US.len() - 1], (10.0, 5));
        assert_eq!(c[BOUNDS_US.len()], (f64::INFINITY, 6), "60 s only in +Inf");
        assert_eq!(h.count(), 6);
        assert_eq!(
            h.sum_seconds(),
            (1_000 + 1_001 + 40_000 + 60_000_000) as f64 / 1e6
        );
        assert!(c.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].0 < w[1].0));
        let b = h.buckets();
        assert_eq!((b[0], b[1], b[2]), ((0.001, 3), (0.0025, 1), (0.005, 0)));
        assert_eq!(b[BOUNDS_US.len()], (f64::INFINITY, 1));
        assert_eq!(b.iter().map(|x| x.1).sum::<u64>(), h.count());
    }

    #[test]
    fn the_sum_saturates() {
        let mut h = LatencyHistogram::default();
        h.observe(Micros::MAX);
        h.observe(Micros::MAX);
        h.observe(Micros::MAX);
        assert_eq!(h.count(), 3);
        assert!(h.sum_seconds() > 1e12);
    }
}
