//! Liquidation statistics (minimal version; the stats helper's module
//! replaces it).

use crate::model::{Instrument, Liquidation, Micros};

use super::snapshot::LiquidationView;

#[derive(Debug, Default)]
pub struct LiquidationStats {
    seen: Vec<(Instrument, Micros, f64)>,
}

impl LiquidationStats {
    pub fn new(_tape_len: usize) -> Self {
        Self::default()
    }

    pub fn record(&mut self, l: &Liquidation, notional_usd: Option<f64>) {
        self.seen
            .push((l.instrument, l.received, notional_usd.unwrap_or(0.0)));
    }

    pub fn usd_since(&self, key: impl Fn(&Instrument) -> bool, since: Micros) -> f64 {
        self.seen
            .iter()
            .filter(|(i, t, _)| key(i) && *t >= since)
            .map(|(_, _, usd)| usd)
            .sum()
    }

    pub fn view(&self, _now: Micros, min_notional_usd: f64) -> LiquidationView {
        LiquidationView {
            min_notional_usd,
            ..LiquidationView::default()
        }
    }
}
