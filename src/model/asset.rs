//! A small inline ASCII asset code (`BTC`, `USDT`, `1000PEPE`).
//!
//! Instruments are hashed and compared on every book event, so the asset code
//! lives inline (no heap, `Copy`) instead of in a `String`.

use std::fmt;
use std::str::FromStr;

const CAP: usize = 15;

/// An asset code: 1 to 15 ASCII letters or digits, stored upper case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Asset {
    len: u8,
    bytes: [u8; CAP],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssetError {
    #[error("asset code is empty")]
    Empty,
    #[error("asset code `{0}` is longer than 15 characters")]
    TooLong(String),
    #[error("asset code `{0}` may only hold letters and digits")]
    BadChar(String),
}

impl Asset {
    pub fn new(code: &str) -> Result<Self, AssetError> {
        if code.is_empty() {
            return Err(AssetError::Empty);
        }
        if code.len() > CAP {
            return Err(AssetError::TooLong(code.to_string()));
        }
        let mut bytes = [0u8; CAP];
        for (slot, b) in bytes.iter_mut().zip(code.bytes()) {
            if !b.is_ascii_alphanumeric() {
                return Err(AssetError::BadChar(code.to_string()));
            }
            *slot = b.to_ascii_uppercase();
        }
        Ok(Asset {
            len: code.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII alphanumerics are ever stored.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("?")
    }
}

impl FromStr for Asset {
    type Err = AssetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Asset::new(s)
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_cases_and_round_trips() {
        let a = Asset::new("usdt").unwrap();
        assert_eq!(a.as_str(), "USDT");
        assert_eq!(a.to_string(), "USDT");
        assert_eq!(Asset::new("1000PEPE").unwrap().as_str(), "1000PEPE");
    }

    #[test]
    fn rejects_bad_codes() {
        assert_eq!(Asset::new(""), Err(AssetError::Empty));
        assert!(matches!(Asset::new("BTC/USD"), Err(AssetError::BadChar(_))));
        assert!(matches!(
            Asset::new("ABCDEFGHIJKLMNOPQ"),
            Err(AssetError::TooLong(_))
        ));
    }
}
