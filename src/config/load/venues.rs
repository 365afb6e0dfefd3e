//! The tables keyed by venue: `[fees]` (taker fees in basis points) and
//! `[endpoints.<venue>]` (URL overrides).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use toml::Spanned;

use super::checker::{Checker, venue_list};
use crate::config::Config;
use crate::config::file::{Number, Text};
use crate::model::Venue;

impl Checker<'_> {
    pub(super) fn fees(&mut self, fees: &BTreeMap<Text, Spanned<Number>>, config: &mut Config) {
        for (key, value) in fees {
            let bps = value.get_ref().0;
            if bps.is_sign_negative() && !bps.is_zero() {
                self.error(
                    value.span(),
                    format!(
                        "fee for {} is negative ({bps} bps); taker fees are 0 or more",
                        key.get_ref()
                    ),
                );
                continue;
            }
            if bps > Decimal::from(1000) {
                self.error(
                    value.span(),
                    format!(
                        "fee for {} is {bps} bps (over 10%); fees are in basis points: 10 = 0.1%",
                        key.get_ref()
                    ),
                );
                continue;
            }
            if key.get_ref() == "default" {
                config.fees.default_bps = bps;
                continue;
            }
            match key.get_ref().parse::<Venue>() {
                Ok(v) => {
                    config.fees.taker_bps.insert(v, bps);
                }
                Err(_) => self.error(
                    key.span(),
                    format!(
                        "unknown venue \"{}\" in [fees] (expected default or one of {})",
                        key.get_ref(),
                        venue_list()
                    ),
                ),
            }
        }
    }

    pub(super) fn endpoints(
        &mut self,
        endpoints: &BTreeMap<Text, BTreeMap<Text, Text>>,
        config: &mut Config,
    ) {
        for (venue_name, table) in endpoints {
            let Some(venue) = self.venue(venue_name) else {
                continue;
            };
            let known = venue.spec().endpoints;
            for (key, url) in table {
                let Some(endpoint) = venue.spec().endpoint(key.get_ref()) else {
                    let allowed = known.iter().map(|e| e.key).collect::<Vec<_>>().join(", ");
                    self.error(
                        key.span(),
                        format!(
                            "unknown endpoint key \"{}\" for {venue} (expected one of {allowed})",
                            key.get_ref()
                        ),
                    );
                    continue;
                };
                let want = endpoint.kind.schemes();
                let u = url.get_ref().trim();
                let has_host = want
                    .iter()
                    .find_map(|s| u.strip_prefix(s))
                    .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
                if !has_host {
                    self.error(
                        url.span(),
                        format!(
                            "{venue}.{}: \"{u}\" must be a URL starting with {} or {}",
                            key.get_ref(),
                            want[0],
                            want[1]
                        ),
                    );
                    continue;
                }
                config
                    .endpoints
                    .entry(venue)
                    .or_default()
                    .insert(key.get_ref().clone(), u.trim_end_matches('/').to_string());
            }
        }
    }
}
