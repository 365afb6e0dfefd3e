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
    /// `[[alerts]]` rules.
    pub alerts: Option<Vec<Spanned<AlertFile>>>,
    pub alert_delivery: Option<AlertDeliveryFile>,
    pub store: Option<StoreFile>,
}

/// `[alert_delivery]` and its destination tables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertDeliveryFile {
    pub app: Option<bool>,
    pub bell: Option<bool>,
    pub desktop: Option<bool>,
    pub secrets_file: Option<Text>,
    pub webhook: Option<Spanned<DestinationFile>>,
    pub telegram: Option<Spanned<DestinationFile>>,
    pub discord: Option<Spanned<DestinationFile>>,
    pub slack: Option<Spanned<DestinationFile>>,
}

/// One HTTP destination's behaviour (its secrets live elsewhere).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationFile {
    pub max_per_s: Option<Spanned<i64>>,
    pub max_per_min: Option<Spanned<i64>>,
    pub max_retries: Option<Spanned<i64>>,
    pub retry_base_s: Option<Spanned<f64>>,
    pub breaker_failures: Option<Spanned<i64>>,
    pub breaker_cool_off_s: Option<Spanned<f64>>,
    pub timeout_s: Option<Spanned<f64>>,
    // telegram
    pub chat_id: Option<Text>,
    pub api_url: Option<Text>,
    pub group: Option<bool>,
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

/// One `[[alerts]]` table: the shared settings, then each kind's own keys
/// (a key that does not belong to the rule's kind is an error).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertFile {
    pub name: Option<Text>,
    pub kind: Option<Text>,
    pub severity: Option<Text>,
    pub cooldown_s: Option<Spanned<f64>>,
    pub dedup_key: Option<Text>,
    pub hysteresis: Option<Spanned<Number>>,
    pub instruments: Option<Vec<Text>>,
    pub venues: Option<Vec<Text>>,
    pub destinations: Option<Vec<Text>>,
    pub enabled: Option<bool>,
    pub muted: Option<bool>,
    // arbitrage
    pub min_net_bps: Option<Spanned<Number>>,
    pub min_profit: Option<Spanned<Number>>,
    pub min_lifetime_s: Option<Spanned<f64>>,
    // liquidation, large_trade
    pub min_notional_usd: Option<Spanned<f64>>,
    pub side: Option<Text>,
    // spike
    pub metric: Option<Text>,
    pub min_z: Option<Spanned<f64>>,
    // funding
    pub min_annual_pct: Option<Spanned<Number>>,
    pub min_diff_pct: Option<Spanned<Number>>,
    // price
    pub above: Option<Spanned<Number>>,
    pub below: Option<Spanned<Number>>,
    pub move_pct: Option<Spanned<Number>>,
    pub move_abs: Option<Spanned<Number>>,
    pub window_s: Option<Spanned<f64>>,
    // cbbo_spread
    pub min_bps: Option<Spanned<Number>>,
    pub min_abs: Option<Spanned<Number>>,
    // feed
    pub trouble: Option<Text>,
    pub for_s: Option<Spanned<f64>>,
    pub min_count: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreFile {
    pub enabled: Option<bool>,
    pub path: Option<Text>,
    /// Kind → days.
    pub retention_days: Option<BTreeMap<Text, Spanned<i64>>>,
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
