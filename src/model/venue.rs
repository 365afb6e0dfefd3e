//! The exchanges depthwatch speaks to. Spot and derivatives of one exchange
//! are the same venue with different instruments.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Venue {
    Binance,
    Bybit,
    Okx,
    Coinbase,
    Kraken,
    Bitstamp,
    Gemini,
    Hyperliquid,
}

impl Venue {
    pub const ALL: [Venue; 8] = [
        Venue::Binance,
        Venue::Bybit,
        Venue::Okx,
        Venue::Coinbase,
        Venue::Kraken,
        Venue::Bitstamp,
        Venue::Gemini,
        Venue::Hyperliquid,
    ];

    /// The lower-case name used in config files, JSON output and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            Venue::Binance => "binance",
            Venue::Bybit => "bybit",
            Venue::Okx => "okx",
            Venue::Coinbase => "coinbase",
            Venue::Kraken => "kraken",
            Venue::Bitstamp => "bitstamp",
            Venue::Gemini => "gemini",
            Venue::Hyperliquid => "hyperliquid",
        }
    }

    /// Dense index, for per-venue arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown venue `{0}`; known venues: binance, bybit, okx, coinbase, kraken, bitstamp, gemini, hyperliquid"
)]
pub struct UnknownVenue(pub String);

impl FromStr for Venue {
    type Err = UnknownVenue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Venue::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownVenue(s.to_string()))
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl serde::Serialize for Venue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Venue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for v in Venue::ALL {
            assert_eq!(v.as_str().parse::<Venue>().unwrap(), v);
            assert_eq!(Venue::ALL[v.index()], v);
        }
        assert!("ftx".parse::<Venue>().is_err());
    }
}
