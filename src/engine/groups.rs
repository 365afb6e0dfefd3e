//! Quote groups: which instruments are compared under one view key.
//!
//! Every instrument maps to a key. Without a group the key is the instrument
//! itself; when its quote belongs to a configured group (e.g. USD ≈ USDT ≈
//! USDC) the key is `(base, first quote of the group, kind)`, so BTC-USDT and
//! BTC-USDC books land beside BTC-USD ones.

use crate::model::{Asset, Instrument};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuoteGroups {
    groups: Vec<Vec<Asset>>,
}

impl QuoteGroups {
    /// Empty groups are ignored; a quote listed in two groups belongs to the
    /// first.
    pub fn new(groups: &[Vec<Asset>]) -> Self {
        QuoteGroups {
            groups: groups.iter().filter(|g| !g.is_empty()).cloned().collect(),
        }
    }

    fn group_of(&self, quote: Asset) -> Option<&[Asset]> {
        self.groups
            .iter()
            .find(|g| g.contains(&quote))
            .map(|g| g.as_slice())
    }

    /// The view key of an instrument.
    pub fn key_of(&self, instrument: &Instrument) -> Instrument {
        match self.group_of(instrument.quote).and_then(|g| g.first()) {
            Some(&quote) => Instrument {
                quote,
                ..*instrument
            },
            None => *instrument,
        }
    }

    /// Display label of a key given the quotes of the books present under it:
    /// `BTC-USD≈USDT≈USDC` (present quotes in group order), or the plain
    /// instrument when a single quote (or none) is present.
    pub fn label(&self, key: &Instrument, present: &[Asset]) -> String {
        let ordered: Vec<Asset> = match self.group_of(key.quote) {
            Some(group) => group
                .iter()
                .copied()
                .filter(|q| present.contains(q))
                .collect(),
            None => Vec::new(),
        };
        if ordered.len() < 2 {
            let quote = ordered.first().copied().unwrap_or(key.quote);
            return Instrument { quote, ..*key }.to_string();
        }
        let quotes: Vec<&str> = ordered.iter().map(|q| q.as_str()).collect();
        let perp = if key.is_perp() { "-PERP" } else { "" };
        format!("{}-{}{}", key.base, quotes.join("≈"), perp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Asset {
        Asset::new(s).unwrap()
    }
    fn i(s: &str) -> Instrument {
        s.parse().unwrap()
    }

    #[test]
    fn without_groups_the_key_is_the_instrument() {
        let g = QuoteGroups::new(&[]);
        assert_eq!(g.key_of(&i("BTC-USDT")), i("BTC-USDT"));
        assert_eq!(g.label(&i("BTC-USDT"), &[a("USDT")]), "BTC-USDT");
    }

    #[test]
    fn grouped_quotes_share_the_first_quote() {
        let g = QuoteGroups::new(&[vec![a("USD"), a("USDT"), a("USDC")]]);
        assert_eq!(g.key_of(&i("BTC-USDT")), i("BTC-USD"));
        assert_eq!(g.key_of(&i("BTC-USDC-PERP")), i("BTC-USD-PERP"));
        assert_eq!(g.key_of(&i("ETH-BTC")), i("ETH-BTC"));
        assert_eq!(
            g.label(&i("BTC-USD"), &[a("USDC"), a("USD"), a("USDT")]),
            "BTC-USD≈USDT≈USDC"
        );
        assert_eq!(
            g.label(&i("BTC-USD-PERP"), &[a("USDT"), a("USDC")]),
            "BTC-USDT≈USDC-PERP"
        );
        assert_eq!(g.label(&i("BTC-USD"), &[a("USDT")]), "BTC-USDT");
        assert_eq!(g.label(&i("BTC-USD"), &[]), "BTC-USD");
    }
}
