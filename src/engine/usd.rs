//! USD conversion rates for display statistics (liquidation and trade
//! notional totals). Never used for books, CBBO or arbitrage, which stay in
//! exact decimals in their own quote currency.
//!
//! Choice: the major USD stablecoins count as exactly 1 USD. Their real price
//! moves by basis points, which is noise for a "how many dollars were
//! liquidated" figure, and pricing them from their own (thin) pairs would make
//! every total wobble. Other assets (EUR, GBP, BTC, ETH, ...) take the latest
//! mid of any `ASSET-<stable>` instrument (spot or perp), or the inverse of a
//! `<stable>-ASSET` one, as fed by the engine through [`UsdRates::set_mid`].

use std::collections::HashMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::model::{Asset, Instrument};

/// Assets valued at exactly 1 USD. `USDMC` is the quote of Kraken's
/// multi-collateral perpetuals (`BTC-USDMC-PERP`): US dollars, named apart
/// from the inverse `BTC-USD-PERP` (see `venues::kraken`).
const STABLES: [&str; 12] = [
    "USD", "USDT", "USDC", "USDE", "FDUSD", "DAI", "GUSD", "RLUSD", "TUSD", "BUSD", "PYUSD",
    "USDMC",
];

pub fn is_usd_stable(asset: Asset) -> bool {
    STABLES.contains(&asset.as_str())
}

#[derive(Clone, Debug, Default)]
pub struct UsdRates {
    /// USD per one unit of a non-stable asset.
    rates: HashMap<Asset, f64>,
}

impl UsdRates {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the mid of `instrument` as a USD rate when one side is a stable
    /// and the other is not. Non-positive mids are ignored.
    pub fn set_mid(&mut self, instrument: &Instrument, mid: Decimal) {
        let Some(mid) = mid.to_f64().filter(|m| m.is_finite() && *m > 0.0) else {
            return;
        };
        let (base, quote) = (instrument.base, instrument.quote);
        match (is_usd_stable(base), is_usd_stable(quote)) {
            // BTC-USDT: mid is USD per BTC.
            (false, true) => {
                self.rates.insert(base, mid);
            }
            // USDC-EUR: mid is EUR per USD, so one EUR is 1/mid USD.
            (true, false) => {
                self.rates.insert(quote, 1.0 / mid);
            }
            _ => {}
        }
    }

    /// USD per one unit of `asset`, when known.
    pub fn rate(&self, asset: Asset) -> Option<f64> {
        if is_usd_stable(asset) {
            Some(1.0)
        } else {
            self.rates.get(&asset).copied()
        }
    }

    /// `price × size` converted from the instrument's quote currency to USD;
    /// `None` while the quote's rate is unknown, and for a result that is not
    /// a finite, non-negative amount (a negative price or size from a broken
    /// feed is an unknown notional, not a negative one).
    pub fn notional_usd(
        &self,
        instrument: &Instrument,
        price: Decimal,
        size: Decimal,
    ) -> Option<f64> {
        let rate = self.rate(instrument.quote)?;
        // f64: cannot panic; Decimal::MAX² × rate is ~6e57, still finite.
        let notional = price.to_f64()? * size.to_f64()? * rate;
        (notional.is_finite() && notional >= 0.0).then_some(notional)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn inst(s: &str) -> Instrument {
        s.parse().unwrap()
    }

    fn asset(s: &str) -> Asset {
        Asset::new(s).unwrap()
    }

    #[test]
    fn stablecoins_are_one_dollar() {
        let rates = UsdRates::new();
        for s in STABLES {
            assert_eq!(rates.rate(asset(s)), Some(1.0));
        }
        let n = rates.notional_usd(&inst("BTC-USDT-PERP"), dec!(60000), dec!(0.5));
        assert_eq!(n, Some(30_000.0));
    }

    #[test]
    fn eur_quote_converts_via_eur_usd_mid() {
        let mut rates = UsdRates::new();
        let btc_eur = inst("BTC-EUR");
        assert_eq!(rates.notional_usd(&btc_eur, dec!(50000), dec!(2)), None);
        rates.set_mid(&inst("EUR-USD"), dec!(1.10));
        let n = rates.notional_usd(&btc_eur, dec!(50000), dec!(2)).unwrap();
        assert!((n - 110_000.0).abs() < 1e-6, "{n}");
    }

    #[test]
    fn inverse_pair_gives_the_reciprocal() {
        let mut rates = UsdRates::new();
        rates.set_mid(&inst("USDC-EUR"), dec!(0.8));
        let eur = rates.rate(asset("EUR")).unwrap();
        assert!((eur - 1.25).abs() < 1e-12, "{eur}");
    }

    #[test]
    fn btc_quote_converts_via_latest_btc_mid() {
        let mut rates = UsdRates::new();
        let eth_btc = inst("ETH-BTC");
        rates.set_mid(&inst("BTC-USDT"), dec!(60000));
        rates.set_mid(&inst("BTC-USD-PERP"), dec!(64000));
        let n = rates.notional_usd(&eth_btc, dec!(0.05), dec!(10)).unwrap();
        assert!((n - 32_000.0).abs() < 1e-6, "{n}");
    }

    #[test]
    fn extreme_values() {
        let (max, min) = (Decimal::MAX, Decimal::MIN);
        let mut rates = UsdRates::new();
        let usdt = inst("BTC-USDT");
        let n = rates.notional_usd(&usdt, max, max).unwrap();
        assert!(n.is_finite() && n > 6e57, "{n}");
        assert_eq!(rates.notional_usd(&usdt, min, max), None);
        assert_eq!(rates.notional_usd(&usdt, max, min), None);
        assert_eq!(rates.notional_usd(&usdt, min, min), Some(n));
        rates.set_mid(&inst("EUR-USD"), max);
        rates.set_mid(&inst("USD-JPY"), Decimal::new(1, 28));
        let eur = rates.notional_usd(&inst("BTC-EUR"), max, max).unwrap();
        assert!(eur.is_finite(), "{eur}");
        assert_eq!(rates.rate(asset("JPY")), Some(1e28));
        let jpy = rates.notional_usd(&inst("BTC-JPY"), max, max).unwrap();
        assert!(jpy.is_finite() && jpy > 6e85, "{jpy}");
        rates.set_mid(&inst("GBP-USD"), min);
        assert_eq!(rates.rate(asset("GBP")), None);
    }

    #[test]
    fn unknown_quote_and_bad_mids_give_none() {
        let mut rates = UsdRates::new();
        rates.set_mid(&inst("DOGE-TRY"), dec!(5));
        rates.set_mid(&inst("GBP-USD"), dec!(0));
        rates.set_mid(&inst("JPY-USD"), dec!(-1));
        assert_eq!(rates.rate(asset("TRY")), None);
        assert_eq!(rates.rate(asset("GBP")), None);
        assert_eq!(rates.rate(asset("JPY")), None);
        assert_eq!(
            rates.notional_usd(&inst("ETH-GBP"), dec!(2000), dec!(1)),
            None
        );
        // A stable against a stable never overrides the fixed 1.0.
        rates.set_mid(&inst("USDT-USD"), dec!(0.998));
        assert_eq!(rates.rate(asset("USDT")), Some(1.0));
    }
}
