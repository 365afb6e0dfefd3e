//! Each venue's instrument list (from `MarketEvent::Instruments`), cached as
//! JSON in the data directory so symbol completion works offline and at
//! start-up before any venue has answered.
//!
//! One file per venue (`<dir>/<venue>.json`), written atomically. A missing or
//! unreadable file just means that venue falls back to the built-in listings.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{atomic, listings};
use crate::model::{Instrument, InstrumentInfo, Venue};

/// The on-disk form of one venue's list.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    venue: Venue,
    /// Unix seconds when the list was received.
    fetched_at: i64,
    instruments: Vec<CachedInstrument>,
}

#[derive(Serialize, Deserialize)]
struct CachedInstrument {
    instrument: Instrument,
    native: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tick_size: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lot_size: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contract_size: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contract_usd: Option<Decimal>,
}

impl From<&InstrumentInfo> for CachedInstrument {
    fn from(i: &InstrumentInfo) -> Self {
        CachedInstrument {
            instrument: i.instrument,
            native: i.native.clone(),
            tick_size: i.tick_size,
            lot_size: i.lot_size,
            contract_size: i.contract_size,
            contract_usd: i.contract_usd,
        }
    }
}

impl From<CachedInstrument> for InstrumentInfo {
    fn from(c: CachedInstrument) -> Self {
        InstrumentInfo {
            instrument: c.instrument,
            native: c.native,
            tick_size: c.tick_size,
            lot_size: c.lot_size,
            contract_size: c.contract_size,
            contract_usd: c.contract_usd,
        }
    }
}

/// One venue's cached list.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing {
    pub fetched_at: i64,
    pub instruments: Vec<InstrumentInfo>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    venues: BTreeMap<Venue, Listing>,
}

impl Catalog {
    /// Loads every venue's cache found in `dir`; unreadable files are
    /// skipped with a warning.
    pub fn load(dir: &Path) -> Catalog {
        let mut catalog = Catalog::default();
        for venue in Venue::all() {
            let path = venue_file(dir, venue);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    tracing::warn!("instrument cache {}: {e}", path.display());
                    continue;
                }
            };
            match serde_json::from_str::<CacheFile>(&text) {
                Ok(file) if file.venue == venue => {
                    catalog.venues.insert(
                        venue,
                        Listing {
                            fetched_at: file.fetched_at,
                            instruments: file.instruments.into_iter().map(Into::into).collect(),
                        },
                    );
                }
                Ok(_) => tracing::warn!("instrument cache {}: wrong venue", path.display()),
                Err(e) => tracing::warn!("instrument cache {}: {e}", path.display()),
            }
        }
        catalog
    }

    /// Replaces a venue's list in memory.
    pub fn update(&mut self, venue: Venue, list: Vec<InstrumentInfo>, fetched_at: i64) {
        self.venues.insert(
            venue,
            Listing {
                fetched_at,
                instruments: list,
            },
        );
    }

    /// Writes one venue's list to `dir` (atomically).
    pub fn save_venue(&self, dir: &Path, venue: Venue) -> io::Result<()> {
        let Some(listing) = self.venues.get(&venue) else {
            return Ok(());
        };
        let file = CacheFile {
            venue,
            fetched_at: listing.fetched_at,
            instruments: listing.instruments.iter().map(Into::into).collect(),
        };
        let json = serde_json::to_string(&file).map_err(io::Error::other)?;
        atomic::save_atomic(&venue_file(dir, venue), &json)
    }

    pub fn listing(&self, venue: Venue) -> Option<&Listing> {
        self.venues.get(&venue)
    }

    /// Whether the cached list of `venue` holds `instrument`; `None` when
    /// that venue has no cached list.
    pub fn lists(&self, venue: Venue, instrument: &Instrument) -> Option<bool> {
        self.venues
            .get(&venue)
            .map(|l| l.instruments.iter().any(|i| &i.instrument == instrument))
    }

    /// Every known instrument with the venues listing it: cached lists, and
    /// the built-in listings for venues without a cache.
    fn index(&self) -> BTreeMap<Instrument, Vec<Venue>> {
        let mut index: BTreeMap<Instrument, Vec<Venue>> = BTreeMap::new();
        for venue in Venue::all() {
            let instruments: Vec<Instrument> = match self.venues.get(&venue) {
                Some(l) => l.instruments.iter().map(|i| i.instrument).collect(),
                None => listings::default_listing(venue),
            };
            for i in instruments {
                let venues = index.entry(i).or_default();
                if !venues.contains(&venue) {
                    venues.push(venue);
                }
            }
        }
        index
    }

    /// Completion for a typed prefix, best first: exact name, then names
    /// starting with it, then names starting with it when dashes are ignored
    /// (`btcusdt` → BTC-USDT), then names containing it. Within a rank, more
    /// venues first, then spot before perp, then alphabetical.
    pub fn complete(&self, prefix: &str, limit: usize) -> Vec<(Instrument, Vec<Venue>)> {
        let query = prefix.trim().to_ascii_uppercase();
        if query.is_empty() || limit == 0 {
            return Vec::new();
        }
        let compact_query: String = query.chars().filter(|c| *c != '-').collect();
        let mut ranked: Vec<(u8, Instrument, Vec<Venue>)> = self
            .index()
            .into_iter()
            .filter_map(|(instrument, venues)| {
                let name = instrument.to_string();
                let compact: String = name.chars().filter(|c| *c != '-').collect();
                let rank = if name == query {
                    0
                } else if name.starts_with(&query) {
                    1
                } else if compact.starts_with(&compact_query) {
                    2
                } else if name.contains(&query) {
                    3
                } else {
                    return None;
                };
                Some((rank, instrument, venues))
            })
            .collect();
        ranked.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(b.2.len().cmp(&a.2.len()))
                .then(a.1.kind.cmp(&b.1.kind))
                .then(a.1.to_string().cmp(&b.1.to_string()))
        });
        ranked
            .into_iter()
            .take(limit)
            .map(|(_, i, v)| (i, v))
            .collect()
    }
}

fn venue_file(dir: &Path, venue: Venue) -> PathBuf {
    dir.join(format!("{}.json", venue.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, native: &str) -> InstrumentInfo {
        InstrumentInfo {
            instrument: name.parse().unwrap(),
            native: native.to_string(),
            tick_size: Some("0.01".parse().unwrap()),
            lot_size: None,
            contract_size: None,
            contract_usd: None,
        }
    }

    #[test]
    fn round_trips_through_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Catalog::default();
        let list = vec![
            info("SOL-USDT", "SOLUSDT"),
            info("SOL-USDT-PERP", "SOLUSDT"),
        ];
        c.update(crate::venue!("binance"), list.clone(), 1_700_000_000);
        c.save_venue(dir.path(), crate::venue!("binance")).unwrap();
        std::fs::write(dir.path().join("okx.json"), "{ not json").unwrap();
        let back = Catalog::load(dir.path());
        assert_eq!(
            back.listing(crate::venue!("binance")).unwrap().instruments,
            list
        );
        assert!(back.listing(crate::venue!("okx")).is_none());
        assert_eq!(
            back.lists(crate::venue!("binance"), &"SOL-USDT".parse().unwrap()),
            Some(true)
        );
        assert_eq!(
            back.lists(crate::venue!("okx"), &"SOL-USDT".parse().unwrap()),
            None
        );
    }

    #[test]
    fn completion_ranks_exact_then_prefix() {
        let mut c = Catalog::default();
        c.update(
            crate::venue!("binance"),
            vec![
                info("BTC-USDT", "BTCUSDT"),
                info("BTC-USDC", "BTCUSDC"),
                info("BTC-USDT-PERP", "BTCUSDT"),
                info("WBTC-USDT", "WBTCUSDT"),
            ],
            0,
        );
        let got: Vec<String> = c
            .complete("btc-usdt", 10)
            .into_iter()
            .map(|(i, _)| i.to_string())
            .collect();
        // WBTC-USDT only contains the text: last.
        assert_eq!(got, ["BTC-USDT", "BTC-USDT-PERP", "WBTC-USDT"]);
        let got = c.complete("btc", 3);
        assert_eq!(got.len(), 3);
        // Built-in listings fill in the uncached venues; the most widely
        // listed come first, so spot BTC-USDT is among the first three.
        let usdt = got
            .iter()
            .find(|(i, _)| i.to_string() == "BTC-USDT")
            .unwrap();
        assert!(usdt.1.contains(&crate::venue!("kraken")));
        let compact: Vec<String> = c
            .complete("btcusdc", 5)
            .into_iter()
            .map(|(i, _)| i.to_string())
            .collect();
        assert_eq!(compact, ["BTC-USDC"]);
        let sub: Vec<String> = c
            .complete("BTC-US", 10)
            .into_iter()
            .map(|(i, _)| i.to_string())
            .collect();
        assert_eq!(sub.last().map(String::as_str), Some("WBTC-USDT"));
    }
}
