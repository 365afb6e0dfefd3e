//! The registry: every supported venue, one line each, in display order.
//! Adding a venue is its module and one line here (README, "How it is
//! built").

use super::spec::VenueSpec;
use super::{Adapter, AdapterConfig};
use crate::model::{Instrument, Venue};

pub const SPECS: &[&VenueSpec] = &[
    &super::binance::SPEC,
    &super::bybit::SPEC,
    &super::okx::SPEC,
    &super::coinbase::SPEC,
    &super::kraken::SPEC,
    &super::bitstamp::SPEC,
    &super::gemini::SPEC,
    &super::hyperliquid::SPEC,
    &super::deribit::SPEC,
    &super::bitget::SPEC,
    &super::htx::SPEC,
    &super::gate::SPEC,
    &super::kucoin::SPEC,
    &super::bitfinex::SPEC,
    &super::cryptocom::SPEC,
    &super::mexc::SPEC,
];

/// Build the adapter for a venue.
pub fn build(venue: Venue, cfg: AdapterConfig) -> Box<dyn Adapter> {
    (venue.spec().build)(cfg)
}

/// Whether depthwatch can watch this instrument on the venue.
pub fn carries(venue: Venue, instrument: &Instrument) -> bool {
    venue.spec().carries(instrument)
}

/// The venue whose adapter replays captures of this exchange name.
pub fn venue_for_capture(exchange: &str) -> Option<Venue> {
    Venue::all().find(|v| {
        v.spec()
            .capture_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(exchange))
    })
}

/// All capture exchange names understood by replay.
pub fn capture_names() -> Vec<&'static str> {
    Venue::all()
        .flat_map(|v| v.spec().capture_names.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venues::spec::EndpointKind;

    #[test]
    fn every_venue_declares_what_the_app_reads() {
        for v in Venue::all() {
            let spec = v.spec();
            assert!(!spec.capture_names.is_empty(), "{v}");
            for name in spec.capture_names {
                assert_eq!(venue_for_capture(name), Some(v));
            }
            assert!(!spec.endpoints.is_empty(), "{v}");
            for (i, e) in spec.endpoints.iter().enumerate() {
                assert!(
                    !spec.endpoints[..i].iter().any(|o| o.key == e.key),
                    "{v}: endpoint key {} twice",
                    e.key
                );
                let [a, b] = e.kind.schemes();
                assert!(
                    e.default.starts_with(a) || e.default.starts_with(b),
                    "{v}.{}",
                    e.key
                );
                assert_eq!(
                    e.kind == EndpointKind::WebSocket,
                    e.key == "ws" || e.key.ends_with("_ws"),
                    "{v}.{}: WebSocket keys end in ws, REST keys do not",
                    e.key
                );
            }
            assert!(
                ratatui_free_colour(spec.colour),
                "{v}: colour {}",
                spec.colour
            );
            for name in spec.default_listing {
                let i: Instrument = name.parse().unwrap();
                assert!(spec.carries(&i), "{v} lists {name} but does not carry it");
            }
            assert!(spec.taker_fee_bps >= rust_decimal::Decimal::ZERO);
        }
        assert_eq!(venue_for_capture("FTX"), None);
    }

    fn ratatui_free_colour(c: &str) -> bool {
        c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit())
    }
}
