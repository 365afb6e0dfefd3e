//! The user's configuration: model, built-in defaults, and what the engine and
//! the adapters are built from.
//!
//! The file's shape (as serde reads it) lives in `file`; `load` turns it into
//! a validated [`Config`] with line:column diagnostics; `edit` rewrites the
//! watchlist in place for the Watchlist pane; `atomic` saves without ever
//! leaving a half-written file; `alert_edit` mutes, disables and adds
//! alert rules the same way; `reload` notices edits made while running;
//! `catalog` caches each venue's instrument list for offline completion;
//! `paths` knows the platform directories. `config.example.toml` at the repo
//! root documents every key with its default.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::engine::config::{EngineConfig, default_taker_fees};
use crate::model::{Asset, Instrument, Venue};
use crate::venues::{AdapterConfig, Channels};

pub mod alert_edit;
pub mod atomic;
pub mod catalog;
pub mod edit;
pub mod env;
mod file;
pub mod listings;
pub mod load;
pub mod paths;
pub mod reload;

pub use atomic::save_atomic;
pub use catalog::Catalog;
pub use load::{
    ConfigError, Diagnostic, check, check_config_cmd, check_run, check_with_notes, load,
};
pub use reload::ConfigWatcher;

/// A validated configuration. `Config::default()` is what runs with no file.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub watchlist: Watchlist,
    /// Quote currencies treated as one; none unless declared.
    pub quote_groups: Vec<Vec<Asset>>,
    pub fees: Fees,
    pub arbitrage: Arbitrage,
    pub liquidations: Liquidations,
    pub trades: Trades,
    pub derivatives: Derivatives,
    pub ui: Ui,
    /// Endpoint overrides per venue (keys as in ENDPOINTS.md), no trailing
    /// slash.
    pub endpoints: BTreeMap<Venue, BTreeMap<String, String>>,
    pub feeds: Feeds,
    /// `[[alerts]]`, in file order.
    pub alerts: Vec<crate::alerts::Rule>,
    /// `[alert_delivery]`: destinations and how they behave.
    pub alert_delivery: crate::alerts::deliver::DeliveryConfig,
    /// `[store]`: the history database.
    pub store: crate::store::StoreSettings,
}

/// What is watched, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Watchlist {
    /// Instruments in display order, each with its explicit venue list if the
    /// file gives one.
    pub entries: Vec<WatchEntry>,
    /// The venues an instrument without its own list is watched on (those of
    /// them that list it).
    pub venues: Vec<Venue>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchEntry {
    pub instrument: Instrument,
    /// `Some` when `[[watchlist.instrument]]` names the venues for it.
    pub venues: Option<Vec<Venue>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fees {
    /// Taker fee in bps per venue.
    pub taker_bps: BTreeMap<Venue, Decimal>,
    /// For venues missing from `taker_bps`.
    pub default_bps: Decimal,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arbitrage {
    pub min_net_bps: Decimal,
    pub min_profit: Decimal,
    /// 0 = no cap.
    pub max_notional: Decimal,
    pub history: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Liquidations {
    pub min_notional_usd: f64,
    pub tape_len: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Trades {
    pub large_trade_usd: f64,
    pub tape_len: usize,
}

/// `[derivatives]`: spike detection and the funding carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Derivatives {
    /// Samples (minutes) in the rolling window of the spike z-scores.
    pub spike_window: usize,
    /// |z| at or above which a spike is reported.
    pub spike_z: f64,
    /// Quiet time after a spike of one series (seconds).
    pub spike_cooldown_s: f64,
    /// Holding period the funding carry amortises entry and exit fees over.
    pub funding_hold_days: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Dark,
    Light,
    /// Maximum contrast, for bright rooms and projectors.
    HighContrast,
    /// Bids and asks told apart without red/green.
    Colorblind,
}

impl Theme {
    pub const ALL: [Theme; 4] = [
        Theme::Dark,
        Theme::Light,
        Theme::HighContrast,
        Theme::Colorblind,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Dark => "dark",
            Theme::Light => "light",
            Theme::HighContrast => "high-contrast",
            Theme::Colorblind => "colorblind",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ui {
    pub theme: Theme,
    /// Redraws per second, 1..=120.
    pub fps: u16,
    /// Book levels per side kept in snapshots for display.
    pub book_depth: usize,
    /// Key overrides: action name → key (`"q"`, `"ctrl-c"`, `"f5"`, …),
    /// lower-cased.
    pub keymap: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Feeds {
    /// A live book with no update for this long (seconds) is marked stale.
    pub stale_after_s: f64,
    pub channels: Channels,
}

pub const FPS_RANGE: std::ops::RangeInclusive<i64> = 1..=120;

impl Default for Config {
    fn default() -> Self {
        let engine = EngineConfig::default();
        Config {
            watchlist: Watchlist {
                entries: listings::DEFAULT_WATCHLIST
                    .iter()
                    .filter_map(|name| name.parse().ok())
                    .map(|instrument| WatchEntry {
                        instrument,
                        venues: None,
                    })
                    .collect(),
                venues: Venue::all().collect(),
            },
            quote_groups: Vec::new(),
            fees: Fees {
                taker_bps: default_taker_fees(),
                default_bps: engine.default_taker_fee_bps,
            },
            arbitrage: Arbitrage {
                min_net_bps: engine.arb_min_net_bps,
                min_profit: engine.arb_min_profit,
                max_notional: engine.arb_max_notional,
                history: engine.arb_history,
            },
            liquidations: Liquidations {
                min_notional_usd: engine.liq_min_notional_usd,
                tape_len: engine.liq_tape_len,
            },
            trades: Trades {
                large_trade_usd: engine.large_trade_usd,
                tape_len: engine.trade_tape_len,
            },
            derivatives: Derivatives {
                spike_window: engine.spikes.window,
                spike_z: engine.spikes.threshold,
                spike_cooldown_s: engine.spikes.cooldown as f64 / 1e6,
                funding_hold_days: engine.funding_hold_days,
            },
            ui: Ui {
                theme: Theme::Dark,
                fps: 30,
                book_depth: engine.snapshot_depth,
                keymap: BTreeMap::new(),
            },
            endpoints: BTreeMap::new(),
            feeds: Feeds {
                stale_after_s: engine.stale_after as f64 / 1e6,
                channels: Channels::default(),
            },
            alerts: Vec::new(),
            alert_delivery: Default::default(),
            store: crate::store::StoreSettings::default(),
        }
    }
}

impl Config {
    /// The watched instruments, in display order.
    pub fn instruments(&self) -> Vec<Instrument> {
        self.watchlist
            .entries
            .iter()
            .map(|e| e.instrument)
            .collect()
    }

    /// The venues `instrument` is watched on: its own list if it has one,
    /// otherwise those of the global venue set that list it.
    pub fn venues_for(&self, instrument: &Instrument) -> Vec<Venue> {
        let explicit = self
            .watchlist
            .entries
            .iter()
            .find(|e| &e.instrument == instrument)
            .and_then(|e| e.venues.clone());
        explicit.unwrap_or_else(|| {
            self.watchlist
                .venues
                .iter()
                .copied()
                .filter(|v| listings::probably_lists(*v, instrument))
                .collect()
        })
    }

    /// What the engine is built from.
    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            watchlist: self.instruments(),
            quote_groups: self.quote_groups.clone(),
            taker_fee_bps: self.fees.taker_bps.clone(),
            default_taker_fee_bps: self.fees.default_bps,
            arb_min_net_bps: self.arbitrage.min_net_bps,
            arb_min_profit: self.arbitrage.min_profit,
            arb_max_notional: self.arbitrage.max_notional,
            arb_history: self.arbitrage.history,
            liq_min_notional_usd: self.liquidations.min_notional_usd,
            liq_tape_len: self.liquidations.tape_len,
            large_trade_usd: self.trades.large_trade_usd,
            trade_tape_len: self.trades.tape_len,
            stale_after: (self.feeds.stale_after_s * 1e6).round() as i64,
            snapshot_depth: self.ui.book_depth,
            spikes: crate::engine::derivs::SpikeSettings {
                window: self.derivatives.spike_window,
                threshold: self.derivatives.spike_z,
                cooldown: (self.derivatives.spike_cooldown_s * 1e6).round() as i64,
            },
            funding_hold_days: self.derivatives.funding_hold_days,
        }
    }

    /// One adapter config per venue that has at least one instrument to
    /// watch, instruments in watchlist order.
    pub fn adapter_configs(&self) -> BTreeMap<Venue, AdapterConfig> {
        self.adapter_configs_with(|v, i| self.venues_for(i).contains(&v))
    }

    /// Like [`Config::adapter_configs`], but for instruments without their
    /// own venue list the cached catalog decides which venues list them
    /// (venues with no cached list fall back to the built-in knowledge).
    pub fn adapter_configs_with_catalog(
        &self,
        catalog: &Catalog,
    ) -> BTreeMap<Venue, AdapterConfig> {
        self.adapter_configs_with(|v, i| {
            let explicit = self
                .watchlist
                .entries
                .iter()
                .any(|e| &e.instrument == i && e.venues.is_some());
            if explicit || !self.watchlist.venues.contains(&v) {
                return self.venues_for(i).contains(&v);
            }
            catalog
                .lists(v, i)
                .unwrap_or_else(|| listings::probably_lists(v, i))
        })
    }

    fn adapter_configs_with(
        &self,
        watched_on: impl Fn(Venue, &Instrument) -> bool,
    ) -> BTreeMap<Venue, AdapterConfig> {
        let mut out = BTreeMap::new();
        for venue in Venue::all() {
            let instruments: Vec<Instrument> = self
                .instruments()
                .into_iter()
                .filter(|i| watched_on(venue, i))
                .collect();
            if instruments.is_empty() {
                continue;
            }
            out.insert(
                venue,
                AdapterConfig {
                    instruments,
                    channels: self.feeds.channels.clone(),
                    endpoints: self.endpoints.get(&venue).cloned().unwrap_or_default(),
                },
            );
        }
        out
    }

    /// Distinct venues with at least one watched instrument.
    pub fn active_venues(&self) -> BTreeSet<Venue> {
        self.instruments()
            .iter()
            .flat_map(|i| self.venues_for(i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InstrumentInfo;

    fn listed(names: &[&str]) -> Vec<InstrumentInfo> {
        names
            .iter()
            .map(|n| InstrumentInfo {
                instrument: n.parse().unwrap(),
                native: n.replace('-', ""),
                tick_size: None,
                lot_size: None,
                contract_size: None,
                contract_usd: None,
            })
            .collect()
    }

    #[test]
    fn the_catalog_decides_where_unlisted_instruments_go() {
        let mut config = Config::default();
        let sol: Instrument = "SOL-USD".parse().unwrap();
        config.watchlist.entries = vec![WatchEntry {
            instrument: sol,
            venues: None,
        }];
        // Without a catalog: every venue whose built-in knowledge carries it.
        let guess: Vec<Venue> = config.adapter_configs().into_keys().collect();
        let carrying: Vec<Venue> = Venue::all().filter(|v| v.spec().carries(&sol)).collect();
        assert_eq!(guess, carrying);
        assert!(guess.len() >= 7);
        let mut catalog = Catalog::default();
        catalog.update(
            crate::venue!("coinbase"),
            listed(&["SOL-USD", "BTC-USD"]),
            0,
        );
        catalog.update(crate::venue!("binance"), listed(&["SOL-USDT"]), 0);
        let known: Vec<Venue> = config
            .adapter_configs_with_catalog(&catalog)
            .into_keys()
            .collect();
        // Binance's list lacks it; uncached spot venues keep the guess.
        assert!(known.contains(&crate::venue!("coinbase")));
        assert!(!known.contains(&crate::venue!("binance")));
        assert!(known.contains(&crate::venue!("kraken")));
        // An explicit list wins over the catalog.
        config.watchlist.entries[0].venues = Some(vec![crate::venue!("binance")]);
        let explicit: Vec<Venue> = config
            .adapter_configs_with_catalog(&catalog)
            .into_keys()
            .collect();
        assert_eq!(explicit, [crate::venue!("binance")]);
    }

    #[test]
    fn engine_config_carries_every_setting() {
        let mut config = Config::default();
        config.feeds.stale_after_s = 1.5;
        config.ui.book_depth = 20;
        let e = config.engine_config();
        assert_eq!(e.stale_after, 1_500_000);
        assert_eq!(e.snapshot_depth, 20);
        assert_eq!(e.watchlist, config.instruments());
    }
}
