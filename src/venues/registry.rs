//! The table of supported venues: which adapter serves a venue and which
//! capture exchange names it replays. Adding a venue is one row here.

use super::{Adapter, AdapterConfig, VenueInfo};
use super::{binance, bitstamp, bybit, coinbase, gemini, hyperliquid, kraken, okx};
use crate::model::{Instrument, Venue};

type Build = fn(AdapterConfig) -> Box<dyn Adapter>;

struct Row {
    venue: Venue,
    build: Build,
    info: &'static VenueInfo,
    supports: fn(&Instrument) -> bool,
}

macro_rules! row {
    ($venue:expr, $module:ident, $ty:ident) => {
        Row {
            venue: $venue,
            build: |cfg| Box::new($module::$ty::new(cfg)),
            info: &$module::INFO,
            supports: $module::supports,
        }
    };
}

const ROWS: &[Row] = &[
    row!(Venue::Binance, binance, Binance),
    row!(Venue::Bybit, bybit, Bybit),
    row!(Venue::Okx, okx, Okx),
    row!(Venue::Coinbase, coinbase, Coinbase),
    row!(Venue::Kraken, kraken, Kraken),
    row!(Venue::Bitstamp, bitstamp, Bitstamp),
    row!(Venue::Gemini, gemini, Gemini),
    row!(Venue::Hyperliquid, hyperliquid, Hyperliquid),
];

fn row(venue: Venue) -> Option<&'static Row> {
    ROWS.iter().find(|r| r.venue == venue)
}

/// Build the adapter for a venue, if it is supported.
pub fn build(venue: Venue, cfg: AdapterConfig) -> Option<Box<dyn Adapter>> {
    row(venue).map(|r| (r.build)(cfg))
}

/// Every supported venue's description, in table order.
pub fn all_info() -> Vec<&'static VenueInfo> {
    ROWS.iter().map(|r| r.info).collect()
}

pub fn is_supported(venue: Venue) -> bool {
    row(venue).is_some()
}

/// Whether the venue can carry this kind of instrument at all (e.g. no
/// perpetuals on Coinbase spot). Which symbols it lists comes from its
/// instrument list.
pub fn supports(venue: Venue, instrument: &Instrument) -> bool {
    row(venue).is_some_and(|r| (r.supports)(instrument))
}

/// The venue whose adapter replays captures of this exchange name.
pub fn venue_for_capture(exchange: &str) -> Option<Venue> {
    ROWS.iter()
        .find(|r| {
            r.info
                .capture_names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(exchange))
        })
        .map(|r| r.venue)
}

/// All capture exchange names understood by replay.
pub fn capture_names() -> Vec<&'static str> {
    ROWS.iter()
        .flat_map(|r| r.info.capture_names.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_venue_has_an_adapter_and_capture_names() {
        for v in Venue::ALL {
            assert!(is_supported(v), "{v}");
            let info = all_info().into_iter().find(|i| i.venue == v).unwrap();
            assert!(!info.capture_names.is_empty(), "{v}");
            for name in info.capture_names {
                assert_eq!(venue_for_capture(name), Some(v));
            }
        }
        assert_eq!(venue_for_capture("BINANCE_FUTURES"), Some(Venue::Binance));
        assert_eq!(venue_for_capture("FTX"), None);
    }
}
