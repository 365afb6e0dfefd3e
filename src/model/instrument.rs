//! Instruments in depthwatch's own naming: `BASE-QUOTE` for spot,
//! `BASE-QUOTE-PERP` for perpetual swaps (see DESIGN.md, Model).

use std::fmt;
use std::str::FromStr;

use super::asset::{Asset, AssetError};

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum InstrumentKind {
    Spot,
    Perp,
}

/// A tradable instrument, independent of venue.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Instrument {
    pub base: Asset,
    pub quote: Asset,
    pub kind: InstrumentKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    #[error("`{0}` is not an instrument: expected BASE-QUOTE or BASE-QUOTE-PERP, e.g. BTC-USDT")]
    Shape(String),
    #[error("`{0}`: {1}")]
    Asset(String, AssetError),
}

impl Instrument {
    pub fn spot(base: &str, quote: &str) -> Result<Self, InstrumentError> {
        Self::build(base, quote, InstrumentKind::Spot)
    }

    pub fn perp(base: &str, quote: &str) -> Result<Self, InstrumentError> {
        Self::build(base, quote, InstrumentKind::Perp)
    }

    fn build(base: &str, quote: &str, kind: InstrumentKind) -> Result<Self, InstrumentError> {
        let whole = || format!("{base}-{quote}");
        Ok(Instrument {
            base: Asset::new(base).map_err(|e| InstrumentError::Asset(whole(), e))?,
            quote: Asset::new(quote).map_err(|e| InstrumentError::Asset(whole(), e))?,
            kind,
        })
    }

    pub fn is_perp(&self) -> bool {
        self.kind == InstrumentKind::Perp
    }
}

impl FromStr for Instrument {
    type Err = InstrumentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split('-').collect();
        match parts.as_slice() {
            [base, quote] => Instrument::spot(base, quote),
            [base, quote, perp] if perp.eq_ignore_ascii_case("PERP") => {
                Instrument::perp(base, quote)
            }
            _ => Err(InstrumentError::Shape(s.to_string())),
        }
    }
}

impl fmt::Display for Instrument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self.kind {
            InstrumentKind::Spot => format!("{}-{}", self.base, self.quote),
            InstrumentKind::Perp => format!("{}-{}-PERP", self.base, self.quote),
        };
        f.pad(&text)
    }
}

impl fmt::Debug for Instrument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl serde::Serialize for Instrument {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Instrument {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spot_and_perp() {
        let spot: Instrument = "btc-usdt".parse().unwrap();
        assert_eq!(spot.to_string(), "BTC-USDT");
        assert!(!spot.is_perp());
        let perp: Instrument = "ETH-USDC-PERP".parse().unwrap();
        assert_eq!(perp.to_string(), "ETH-USDC-PERP");
        assert!(perp.is_perp());
    }

    #[test]
    fn rejects_other_shapes() {
        assert!("BTCUSDT".parse::<Instrument>().is_err());
        assert!("BTC-USDT-SWAP".parse::<Instrument>().is_err());
        assert!("BTC--USDT".parse::<Instrument>().is_err());
    }
}
