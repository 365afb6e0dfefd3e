//! MEXC's book rule for the shared snapshot + diff machine
//! ([`crate::venues::buffered`]), the same for both markets, and the
//! contract-to-base conversion of futures books.
//!
//! Spot ("How to Properly Maintain a Local Copy of the Order Book",
//! spot-v3 Websocket Market Streams): cache `aggre.depth` pushes, note the
//! first `fromVersion`; fetch `GET /api/v3/depth?limit=5000` and its
//! `lastUpdateId`, again while it is older than the first push; drop pushes
//! with `toVersion <= lastUpdateId`; the first remaining one must have
//! `fromVersion <= lastUpdateId + 1`, else fetch again; after it, each push
//! must have `fromVersion == previous toVersion + 1`, else reinitialise.
//! A diff here is `fromVersion..=toVersion`.
//!
//! Futures ("Incremental Order Book Maintenance Mechanism"): the snapshot
//! `GET /api/v1/contract/depth/{symbol}` has a `version`; a `push.depth` is
//! applied when its `version == local + 1`, older ones are in the snapshot
//! already; a break reinitialises (the docs' depth_commits replay is an
//! optimisation of that: depthwatch fetches a fresh snapshot). A push is the
//! diff `version..=version`, or `begin..=end` when the server merged a run
//! of changes: the spot rule reduces to the futures one for single
//! versions.
//!
//! | | stale (dropped) | first applied | afterwards |
//! |---|---|---|---|
//! | both | `last <= id` | `first <= id + 1` (and `last > id`) | `first == prev last + 1` |

use rust_decimal::Decimal;

use crate::model::Level;
use crate::venues::buffered::{Diff, Effect, Rule};
use crate::venues::parse::contracts_to_base;

/// MEXC's version continuity (spot and futures, see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Versions;

impl Rule for Versions {
    fn is_stale(&self, d: &Diff, id: u64) -> bool {
        d.last <= id
    }

    fn bridges(&self, d: &Diff, id: u64) -> bool {
        d.first <= id.saturating_add(1) && d.last > id
    }

    fn follows(&self, d: &Diff, last: u64) -> Result<(), (u64, u64)> {
        let next = last.saturating_add(1);
        if d.first == next {
            Ok(())
        } else {
            Err((next, d.first))
        }
    }
}

/// A size no book accepts: a level whose contracts could not be converted
/// makes the lifecycle reject the update, and the book resyncs.
const UNCONVERTIBLE: Decimal = Decimal::MAX;

/// Base asset per contract of a linear (USDT-settled) perpetual.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ContractSize(pub Decimal);

impl ContractSize {
    /// Contracts in the base asset, checked.
    pub fn to_base(self, contracts: Decimal) -> Option<Decimal> {
        contracts_to_base(contracts, self.0).map(|d| d.normalize())
    }

    fn convert(self, levels: &mut [Level]) {
        for l in levels {
            l.size = self.to_base(l.size).unwrap_or(UNCONVERTIBLE);
        }
    }

    /// Convert the book data among a machine's effects.
    pub fn convert_effects(self, fx: &mut [Effect]) {
        for e in fx {
            match e {
                Effect::Snapshot(s) => {
                    self.convert(&mut s.bids);
                    self.convert(&mut s.asks);
                }
                Effect::Delta(d) => {
                    self.convert(&mut d.bids);
                    self.convert(&mut d.asks);
                }
                _ => {}
            }
        }
    }
}
