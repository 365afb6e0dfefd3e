//! Spike detection: z = (x − mean) / stdev of the last N samples (the
//! rolling window before x), an event when |z| ≥ the threshold, then quiet
//! for a cooldown.
//!
//! A window not yet holding [`MIN_SAMPLES`] (or N if smaller) gives no z: a
//! handful of samples makes every move look extreme. A constant window
//! (stdev 0) gives none either: any move off a flat line would be
//! "infinitely" significant, which says nothing useful.

use std::collections::VecDeque;

use crate::model::Micros;

pub const MIN_SAMPLES: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpikeSettings {
    pub window: usize,
    pub threshold: f64,
    pub cooldown: Micros,
}

impl Default for SpikeSettings {
    fn default() -> Self {
        SpikeSettings {
            window: 100,
            threshold: 3.0,
            cooldown: 15 * 60 * 1_000_000,
        }
    }
}

/// The z-score of `x` against `window`, if it means something.
pub fn z_score(window: &VecDeque<f64>, x: f64, min_samples: usize) -> Option<f64> {
    let n = window.len();
    if n < min_samples.max(2) || !x.is_finite() {
        return None;
    }
    let mean = window.iter().sum::<f64>() / n as f64;
    let var = window.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    (sd > f64::EPSILON * mean.abs().max(1.0) && sd.is_finite()).then(|| (x - mean) / sd)
}

/// One series' detector.
#[derive(Clone, Debug, Default)]
pub struct Detector {
    window: VecDeque<f64>,
    last_fired: Option<Micros>,
}

impl Detector {
    /// Take the next sample; `Some(z)` when it is a spike (and the detector
    /// was not cooling down). The sample joins the window either way.
    pub fn observe(&mut self, x: f64, at: Micros, s: &SpikeSettings) -> Option<f64> {
        if !x.is_finite() {
            return None;
        }
        let min = MIN_SAMPLES.min(s.window).max(2);
        let z = z_score(&self.window, x, min);
        self.window.push_back(x);
        while self.window.len() > s.window.max(2) {
            self.window.pop_front();
        }
        let z = z.filter(|z| z.abs() >= s.threshold)?;
        let cooling = self
            .last_fired
            .is_some_and(|t| at.saturating_sub(t) < s.cooldown);
        if cooling {
            return None;
        }
        self.last_fired = Some(at);
        Some(z)
    }

    pub fn samples(&self) -> usize {
        self.window.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_z() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample stdev sqrt(32/7).
        let w: VecDeque<f64> = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0].into();
        let z = z_score(&w, 12.0, 2).unwrap();
        assert!((z - 7.0 / (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn constant_series_and_a_window_not_yet_full_give_none() {
        let w: VecDeque<f64> = std::iter::repeat_n(3.0, 50).collect();
        assert_eq!(z_score(&w, 100.0, 20), None);
        let short: VecDeque<f64> = [1.0, 2.0, 3.0].into();
        assert_eq!(z_score(&short, 100.0, 20), None);
    }

    #[test]
    fn fires_then_cools_down() {
        let s = SpikeSettings {
            window: 30,
            threshold: 3.0,
            cooldown: 100,
        };
        let mut d = Detector::default();
        for i in 0..30 {
            assert_eq!(d.observe(f64::from(i % 3), i64::from(i), &s), None);
        }
        assert!(d.observe(50.0, 30, &s).is_some());
        assert_eq!(d.observe(80.0, 60, &s), None, "cooling down");
        assert!(d.observe(500.0, 200, &s).is_some());
        assert_eq!(d.samples(), 30);
    }
}
