//! Wire sizes to base quantities. Spot and USD-M send base quantities; COIN-M
//! sends contracts, each worth `contractSize` USD (`exchangeInfo`: 100 for
//! BTC, 10 for most others), so a quantity at a price is
//! `contracts × USD per contract / price` in the base asset, each book level
//! at its own price. This is the one difference between the USD-M and COIN-M
//! paths of the adapter.

use rust_decimal::Decimal;

use crate::model::Level;
use crate::venues::parse::usd_contracts_to_base;

use super::sync::Effect;

/// A size no book accepts: a level whose contracts could not be converted
/// makes the lifecycle reject the update, and the book resyncs.
const UNCONVERTIBLE: Decimal = Decimal::MAX;

/// How one symbol's wire quantities become base quantities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sizing {
    /// Already in the base asset (spot, USD-M).
    Base,
    /// Inverse contracts of this many USD each (COIN-M).
    UsdContracts(Decimal),
}

impl Sizing {
    /// `qty` at `price` in the base asset; `None` when the conversion
    /// overflows or leaves the size bounds (or the price is not one).
    pub fn to_base(self, qty: Decimal, price: Decimal) -> Option<Decimal> {
        match self {
            Sizing::Base => Some(qty),
            Sizing::UsdContracts(usd) => {
                usd_contracts_to_base(qty, usd, price).map(|d| d.normalize())
            }
        }
    }

    /// Convert levels in place, each at its own price.
    pub fn convert(self, levels: &mut [Level]) {
        for l in levels {
            l.size = self.to_base(l.size, l.price).unwrap_or(UNCONVERTIBLE);
        }
    }

    /// Convert the book data among a sync machine's effects.
    pub fn convert_effects(self, fx: &mut [Effect]) {
        if self == Sizing::Base {
            return;
        }
        for e in fx {
            match e {
                Effect::Snapshot(s) => {
                    self.convert(&mut s.bids);
                    self.convert(&mut s.asks);
                }
                Effect::Delta(d) => {
                    self.convert(&mut d.bids);
                    self.convert(&mut d.asks);
                }
                Effect::Gap { .. } | Effect::SnapshotTooOld | Effect::RequestSnapshot { .. } => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venues::buffered::{Diff, Snapshot};
    use rust_decimal_macros::dec;

    fn snapshot(bids: Vec<Level>, asks: Vec<Level>) -> Effect {
        Effect::Snapshot(Snapshot {
            last_update_id: 1,
            bids,
            asks,
            exchange_ts: None,
            received: 0,
        })
    }

    fn delta(bids: Vec<Level>, asks: Vec<Level>) -> Effect {
        Effect::Delta(Diff {
            first: 2,
            last: 2,
            prev_last: Some(1),
            bids,
            asks,
            exchange_ts: None,
            received: 0,
        })
    }

    #[test]
    fn inverse_contracts_are_usd_over_each_levels_price() {
        let btc = Sizing::UsdContracts(dec!(100));
        // 10 contracts of $100 at $50,000 = 0.02 BTC.
        assert_eq!(btc.to_base(dec!(10), dec!(50000)), Some(dec!(0.02)));
        assert_eq!(btc.to_base(dec!(0), dec!(50000)), Some(dec!(0)));
        assert_eq!(btc.to_base(dec!(1), dec!(0)), None);
        assert_eq!(Sizing::Base.to_base(dec!(1.5), dec!(0)), Some(dec!(1.5)));
        let mut fx = vec![
            snapshot(vec![Level::new(dec!(40000), dec!(4))], vec![]),
            delta(vec![], vec![Level::new(dec!(50000), dec!(5))]),
            delta(vec![Level::new(dec!(0), dec!(1))], vec![]),
        ];
        btc.convert_effects(&mut fx);
        let sizes: Vec<Decimal> = fx
            .iter()
            .flat_map(|e| match e {
                Effect::Snapshot(s) => s.bids.iter().chain(&s.asks).map(|l| l.size).collect(),
                Effect::Delta(d) => d.bids.iter().chain(&d.asks).map(|l| l.size).collect(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(sizes, vec![dec!(0.01), dec!(0.01), UNCONVERTIBLE]);
    }
}
