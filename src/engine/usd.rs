//! USD conversion rates from live mids (minimal version; the stats helper's
//! module replaces it).

use std::collections::HashMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::model::{Asset, Instrument};

#[derive(Debug, Default)]
pub struct UsdRates {
    mids: HashMap<(Asset, Asset), f64>,
}

impl UsdRates {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_mid(&mut self, instrument: &Instrument, mid: Decimal) {
        if let Some(m) = mid.to_f64() {
            self.mids.insert((instrument.base, instrument.quote), m);
        }
    }

    /// USD per one unit of `asset`: USD itself, or a mid against USD.
    pub fn rate(&self, asset: Asset) -> Option<f64> {
        if asset.as_str() == "USD" {
            return Some(1.0);
        }
        self.mids
            .iter()
            .find(|((b, q), _)| *b == asset && q.as_str() == "USD")
            .map(|(_, m)| *m)
    }

    pub fn notional_usd(
        &self,
        instrument: &Instrument,
        price: Decimal,
        size: Decimal,
    ) -> Option<f64> {
        Some((price * size).to_f64()? * self.rate(instrument.quote)?)
    }
}
