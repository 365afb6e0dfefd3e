//! The config file's shape as serde reads it. Every table rejects unknown
//! keys; values that need checks beyond their type keep their span so `load`
//! can point at them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Visitor};
use toml::Spanned;

pub type Text = Spanned<String>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub quote_groups: Option<Spanned<Vec<Spanned<Vec<Text>>>>>,
    pub watchlist: Option<WatchlistFile>,
    /// Venue name (or `default`) → taker fee in bps.
    pub fees: Option<BTreeMap<Text, Spanned<Number>>>,
    pub arbitrage: Option<ArbitrageFile>,
    pub liquidations: Option<LiquidationsFile>,
    pub trades: Option<TradesFile>,
    pub derivatives: Option<DerivativesFile>,
    pub ui: Option<UiFile>,
    /// Venue → endpoint key → URL.
    pub endpoints: Option<BTreeMap<Text, BTreeMap<Text, Text>>>,
    pub feeds: Option<FeedsFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchlistFile {
    pub instruments: Option<Vec<Text>>,
    pub venues: Option<Vec<Text>>,
    /// `[[watchlist.instrument]]` tables.
    #[serde(default)]
    pub instrument: Vec<InstrumentFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentFile {
    pub name: Text,
    pub venues: Option<Vec<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArbitrageFile {
    pub min_net_bps: Option<Spanned<Number>>,
    pub min_profit: Option<Spanned<Number>>,
    pub max_notional: Option<Spanned<Number>>,
    pub history: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidationsFile {
    pub min_notional_usd: Option<Spanned<f64>>,
    pub tape_len: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradesFile {
    pub large_trade_usd: Option<Spanned<f64>>,
    pub tape_len: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiFile {
    pub theme: Option<Text>,
    pub fps: Option<Spanned<i64>>,
    pub book_depth: Option<Spanned<i64>>,
    /// Action → key.
    pub keymap: Option<BTreeMap<Text, Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DerivativesFile {
    pub spike_window: Option<Spanned<i64>>,
    pub spike_z: Option<Spanned<f64>>,
    pub spike_cooldown_s: Option<Spanned<f64>>,
    pub funding_hold_days: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedsFile {
    pub stale_after_s: Option<Spanned<f64>>,
    pub book: Option<bool>,
    pub trades: Option<bool>,
    pub liquidations: Option<bool>,
    pub funding: Option<bool>,
}

/// A decimal written as a TOML integer, float or string (`10`, `4.5`,
/// `"0.001"`). Floats are read back through their shortest decimal text, so
/// `4.5` is exactly 4.5.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub Decimal);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number (e.g. 10, 4.5 or \"0.25\")")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(Decimal::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                if !v.is_finite() {
                    return Err(E::custom("expected a finite number"));
                }
                Decimal::from_str(&v.to_string())
                    .or_else(|_| Decimal::from_scientific(&format!("{v:e}")))
                    .map(Number)
                    .map_err(|_| E::custom(format!("{v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
                Decimal::from_str(v.trim())
                    .map(Number)
                    .map_err(|_| E::custom(format!("\"{v}\" is not a number")))
            }
        }
        d.deserialize_any(NumberVisitor)
    }
}
