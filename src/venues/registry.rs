//! The table of supported venues: which adapter serves a venue and which
//! capture exchange names it replays. Adding a venue is one row here.

use super::{Adapter, AdapterConfig, VenueInfo};
use crate::model::Venue;

type Build = fn(AdapterConfig) -> Box<dyn Adapter>;

struct Row {
    venue: Venue,
    build: Build,
    info: &'static VenueInfo,
}

const ROWS: &[Row] = &[];

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
