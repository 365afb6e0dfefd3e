//! KuCoin's book rules for the shared snapshot + diff machine
//! ([`crate::venues::buffered`]), and the contract-to-base conversion of
//! futures books.
//!
//! Spot (`/market/level2`, docs-new 3470068w0, "Calibration procedure"):
//! a message covers `sequenceStart..=sequenceEnd` and the next follows when
//! `sequenceStart(new) <= sequenceEnd(old) + 1` and `sequenceEnd(new) >
//! sequenceEnd(old)` (messages may overlap). Each change carries its own
//! sequence, and a change applies only if that sequence is newer than the
//! book's (the docs' example: snapshot 16, changes 15 and 16 ignored, 18
//! and 19 applied). To let the machine do that filtering, a message is cut
//! into one diff per distinct change sequence, the pieces covering the
//! message's range without holes: a change at or below the snapshot (or the
//! last applied sequence) is then stale by the same rule as a whole message.
//! The pieces of one message are merged back into one delta before they
//! are published ([`merge_deltas`]). Price `"0"` changes only move the
//! sequence: they become pieces without levels.
//!
//! Futures (`/contractMarket/level2`, docs-new 3470082w0): one change per
//! message, `sequence` +1 each; the same rule with `first == last`.
//!
//! | | stale (dropped) | first applied | afterwards |
//! |---|---|---|---|
//! | both | `last <= id` | `first <= id + 1 < last + 1` | `first <= prev last + 1` |

use rust_decimal::Decimal;

use crate::model::{BookSide, Level, Micros};
use crate::venues::buffered::{Diff, Effect, Rule};
use crate::venues::parse::{contracts_to_base, usd_contracts_to_base};

/// KuCoin's continuity rule (spot and futures alike, see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Rules;

impl Rule for Rules {
    fn is_stale(&self, d: &Diff, id: u64) -> bool {
        d.last <= id
    }

    fn bridges(&self, d: &Diff, id: u64) -> bool {
        d.first <= id.saturating_add(1) && d.last > id
    }

    fn follows(&self, d: &Diff, last: u64) -> Result<(), (u64, u64)> {
        let next = last.saturating_add(1);
        if d.first > next {
            Err((next, d.first))
        } else {
            Ok(())
        }
    }
}

/// One change of a spot message; `level` is `None` for a price-0
/// (sequence-only) change.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Change {
    pub side: BookSide,
    pub level: Option<Level>,
    pub seq: u64,
}

/// Cut a spot message into diffs, one per distinct change sequence, that
/// cover `start..=end` without holes (see the module doc).
pub(super) fn split(
    start: u64,
    end: u64,
    mut changes: Vec<Change>,
    exchange_ts: Option<Micros>,
    received: Micros,
) -> Vec<Diff> {
    changes.sort_by_key(|c| c.seq);
    let piece = |first: u64, last: u64| Diff {
        first,
        last,
        prev_last: None,
        bids: Vec::new(),
        asks: Vec::new(),
        exchange_ts,
        received,
    };
    let mut diffs: Vec<Diff> = Vec::new();
    let mut first = changes.first().map_or(start, |c| c.seq.min(start));
    for c in changes {
        let open = diffs.last().is_some_and(|d| d.last == c.seq);
        if !open {
            diffs.push(piece(first, c.seq.max(first)));
            first = c.seq.saturating_add(1);
        }
        if let (Some(d), Some(level)) = (diffs.last_mut(), c.level) {
            match c.side {
                BookSide::Bid => d.bids.push(level),
                BookSide::Ask => d.asks.push(level),
            }
        }
    }
    if diffs.is_empty() {
        diffs.push(piece(start, end.max(start)));
    } else if end >= first {
        diffs.push(piece(first, end));
    }
    diffs
}

/// Merge adjacent deltas (the pieces of one message, or a replayed buffer)
/// into one, levels in order so that a later change of a price wins; drop
/// deltas left without levels.
pub(super) fn merge_deltas(fx: &mut Vec<Effect>) {
    let mut merged: Vec<Effect> = Vec::with_capacity(fx.len());
    for e in fx.drain(..) {
        match (merged.last_mut(), e) {
            (Some(Effect::Delta(a)), Effect::Delta(b)) => {
                a.last = b.last;
                a.bids.extend(b.bids);
                a.asks.extend(b.asks);
                a.exchange_ts = b.exchange_ts.or(a.exchange_ts);
                a.received = b.received;
            }
            (_, e) => merged.push(e),
        }
    }
    merged.retain(|e| !matches!(e, Effect::Delta(d) if d.bids.is_empty() && d.asks.is_empty()));
    *fx = merged;
}

/// What one futures lot is worth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ContractSpec {
    /// Linear: base per lot (`multiplier`). Inverse: USD per lot.
    pub value: Decimal,
    pub inverse: bool,
}

/// A size no book accepts: a level whose lots could not be converted makes
/// the lifecycle reject the update, and the book resyncs.
const UNCONVERTIBLE: Decimal = Decimal::MAX;

impl ContractSpec {
    /// Lots at `price` in the base asset, checked.
    pub fn to_base(self, lots: Decimal, price: Decimal) -> Option<Decimal> {
        if self.inverse {
            usd_contracts_to_base(lots, self.value, price)
        } else {
            contracts_to_base(lots, self.value)
        }
    }

    /// Convert book levels in place (each inverse level at its own price).
    pub fn convert(self, levels: &mut [Level]) {
        for l in levels {
            l.size = self
                .to_base(l.size, l.price)
                .map_or(UNCONVERTIBLE, |d| d.normalize());
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
