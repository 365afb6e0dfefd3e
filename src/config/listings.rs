//! What each venue lists when no cached catalog says otherwise, read from
//! the venue specs, and the built-in watchlist.

use crate::model::{Instrument, Venue};

/// The watchlist with no config file: BTC and ETH against USDT and USD, spot
/// and perpetuals.
pub const DEFAULT_WATCHLIST: [&str; 8] = [
    "BTC-USDT",
    "BTC-USD",
    "ETH-USDT",
    "ETH-USD",
    "BTC-USDT-PERP",
    "BTC-USD-PERP",
    "ETH-USDT-PERP",
    "ETH-USD-PERP",
];

/// The default instruments `venue` lists (its spec's `default_listing`).
pub fn default_listing(venue: Venue) -> Vec<Instrument> {
    venue
        .spec()
        .default_listing
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

fn is_default_instrument(instrument: &Instrument) -> bool {
    DEFAULT_WATCHLIST
        .iter()
        .any(|n| n.parse::<Instrument>().ok().as_ref() == Some(instrument))
}

/// Whether depthwatch can watch this instrument on `venue` (the venue
/// spec's `carries`, also used by its adapter).
pub fn carries(venue: Venue, instrument: &Instrument) -> bool {
    venue.spec().carries(instrument)
}

/// Best guess without a catalog: the venue's declared listing for the
/// built-in instruments, otherwise whether it carries that kind at all.
pub fn probably_lists(venue: Venue, instrument: &Instrument) -> bool {
    if is_default_instrument(instrument) {
        default_listing(venue).contains(instrument)
    } else {
        carries(venue, instrument)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_listings_are_in_the_default_watchlist() {
        for venue in Venue::all() {
            for name in venue.spec().default_listing {
                assert!(DEFAULT_WATCHLIST.contains(name), "{venue}: {name}");
            }
        }
    }

    #[test]
    fn non_default_instruments_follow_kind() {
        let sol_perp: Instrument = "SOL-USDT-PERP".parse().unwrap();
        assert!(probably_lists(crate::venue!("bybit"), &sol_perp));
        assert!(!probably_lists(crate::venue!("coinbase"), &sol_perp));
        assert!(!probably_lists(crate::venue!("hyperliquid"), &sol_perp));
        let btc_usd: Instrument = "BTC-USD".parse().unwrap();
        assert!(!probably_lists(crate::venue!("binance"), &btc_usd));
        assert!(probably_lists(crate::venue!("gemini"), &btc_usd));
    }
}
