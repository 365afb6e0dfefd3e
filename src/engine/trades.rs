//! Trade statistics (minimal version; the stats helper's module replaces it).

use crate::model::{Instrument, Micros, Trade};

use super::snapshot::TradeView;

#[derive(Debug, Default)]
pub struct TradeStats {
    count: u64,
}

impl TradeStats {
    pub fn new(_tape_len: usize) -> Self {
        Self::default()
    }

    pub fn record(
        &mut self,
        _t: &Trade,
        _key: Instrument,
        _notional_usd: Option<f64>,
        _large_threshold_usd: f64,
    ) {
        self.count += 1;
    }

    pub fn view(&self, _now: Micros, threshold_usd: f64) -> TradeView {
        TradeView {
            threshold_usd,
            ..TradeView::default()
        }
    }
}
