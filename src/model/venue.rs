//! The exchanges depthwatch speaks to. Spot and derivatives of one exchange
//! are the same venue with different instruments.
//!
//! A `Venue` is a position in the venue registry
//! ([`crate::venues::registry`]): the registry is the only list of venues,
//! and every fact about one (name, endpoints, fees, colour) is read from its
//! [`VenueSpec`]. Venues order as the registry lists them.

use std::fmt;
use std::str::FromStr;

use crate::venues::registry::SPECS;
use crate::venues::spec::VenueSpec;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Venue(u8);

/// A registered venue by name, checked at compile time:
/// `venue!("binance")`.
#[macro_export]
macro_rules! venue {
    ($name:literal) => {{
        const V: $crate::model::Venue = $crate::model::Venue::named($name);
        V
    }};
}

const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl Venue {
    /// The registered venue of this name. In a `const` (as `venue!` uses
    /// it), an unknown name fails the build.
    pub const fn named(name: &str) -> Venue {
        let mut i = 0;
        while i < SPECS.len() {
            if same_name(SPECS[i].name, name) {
                return Venue(i as u8);
            }
            i += 1;
        }
        panic!("no venue of this name in the registry")
    }

    /// Every registered venue, in registry order.
    pub fn all() -> impl ExactSizeIterator<Item = Venue> + Clone {
        (0..SPECS.len()).map(|i| Venue(i as u8))
    }

    /// How many venues are registered.
    pub const COUNT: usize = SPECS.len();

    pub fn count() -> usize {
        Self::COUNT
    }

    /// The venue's declared facts.
    pub fn spec(self) -> &'static VenueSpec {
        SPECS[self.0 as usize]
    }

    /// The lower-case name used in config files, JSON output and on screen.
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// Dense index, for per-venue arrays.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown venue `{0}`; known venues: {known}", known = known_names())]
pub struct UnknownVenue(pub String);

fn known_names() -> String {
    Venue::all()
        .map(Venue::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Venue {
    type Err = UnknownVenue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Venue::all()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownVenue(s.to_string()))
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
        for v in Venue::all() {
            assert_eq!(v.as_str().parse::<Venue>().unwrap(), v);
            assert_eq!(Venue::all().nth(v.index()), Some(v));
            assert_eq!(Venue::named(v.as_str()), v);
        }
        assert!("ftx".parse::<Venue>().is_err());
        assert_eq!(crate::venue!("okx").as_str(), "okx");
    }

    #[test]
    fn unknown_venue_lists_the_registry() {
        let e = "ftx".parse::<Venue>().unwrap_err().to_string();
        for v in Venue::all() {
            assert!(e.contains(v.as_str()), "{e}");
        }
    }

    #[test]
    fn names_are_unique_lower_case() {
        let names: Vec<&str> = Venue::all().map(Venue::as_str).collect();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(n.to_ascii_lowercase(), *n);
            assert!(!names[..i].contains(n), "{n} registered twice");
        }
    }
}
