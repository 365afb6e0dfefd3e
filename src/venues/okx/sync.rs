//! OKX books as the venue sends them: each kept in OKX's own units and
//! text for the CRC32 checksum, checked for `seqId`/`prevSeqId`
//! continuity, and converted from contracts to base-asset sizes once the
//! instrument list gives a SWAP's contract value.

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::wire::{BookData, level_text, ms_to_micros};
use super::{Okx, parse_error, parse_native, subscribe_text, unknown};
use crate::model::{BookSide, Instrument, Level, Micros, OutOfSyncReason, SeqInfo};
use crate::venues::Output;
use crate::venues::checksum::{TextBook, okx_checksum};
use crate::venues::lifecycle::{Applied, Update};
use crate::venues::parse::preview;

/// How many base units one contract is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ContractSpec {
    /// `ctVal × ctMult`.
    pub(super) value: Decimal,
    /// Inverse contracts are worth `value` in the quote currency.
    pub(super) inverse: bool,
}

impl ContractSpec {
    pub(super) fn to_base(self, contracts: Decimal, price: Decimal) -> Option<Decimal> {
        let notional = contracts.checked_mul(self.value)?;
        let base = if self.inverse {
            if price.is_zero() {
                return None;
            }
            notional.checked_div(price)?.round_dp(8)
        } else {
            notional
        };
        Some(base.normalize())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Waiting for a snapshot (initial or after a resubscription).
    AwaitingSnapshot,
    Synced,
}

/// The venue's own copy of one book, for its checksum and contract sizes.
/// Whether the engine holds a live copy is the lifecycle's to say.
pub(super) struct BookSync {
    pub(super) instrument: Instrument,
    native: TextBook,
    phase: Phase,
    last_seq: Option<i64>,
}

impl BookSync {
    pub(super) fn new(instrument: Instrument) -> Self {
        BookSync {
            instrument,
            native: TextBook::default(),
            phase: Phase::AwaitingSnapshot,
            last_seq: None,
        }
    }

    pub(super) fn reset(&mut self) {
        self.native.clear();
        self.phase = Phase::AwaitingSnapshot;
        self.last_seq = None;
    }
}

impl Okx {
    /// Base size of `size` units of `inst_id` at `price`; `None` for a SWAP
    /// whose contract value is not known yet.
    pub(super) fn to_base(
        &self,
        inst_id: &str,
        instrument: &Instrument,
        size: Decimal,
        price: Decimal,
    ) -> Option<Decimal> {
        if instrument.is_perp() {
            self.contracts.get(inst_id)?.to_base(size, price)
        } else {
            Some(size)
        }
    }

    fn convertible(&self, inst_id: &str, instrument: &Instrument) -> bool {
        !instrument.is_perp() || self.contracts.contains_key(inst_id)
    }

    /// The whole native book as a base-unit snapshot.
    fn snapshot_event(
        &self,
        inst_id: &str,
        seq: SeqInfo,
        ts: Option<Micros>,
        received: Micros,
    ) -> Option<Update> {
        let b = self.books.get(inst_id)?;
        let side = |side: BookSide| -> Option<Vec<Level>> {
            b.native
                .iter(side)
                .map(|(p, l)| {
                    Some(Level::new(
                        *p,
                        self.to_base(inst_id, &b.instrument, l.size, *p)?,
                    ))
                })
                .collect()
        };
        Some(Update {
            instrument: b.instrument,
            bids: side(BookSide::Bid)?,
            asks: side(BookSide::Ask)?,
            seq,
            exchange_ts: ts,
            received,
        })
    }

    /// Resubscribe a book's channel for a new snapshot (the lifecycle has
    /// already been told why).
    fn resubscribe(&mut self, inst_id: &str, out: &mut Output) {
        let url = self.url();
        let Some(b) = self.books.get_mut(inst_id) else {
            return;
        };
        b.reset();
        let arg = [serde_json::json!({"channel": "books", "instId": inst_id})];
        out.send(&url, subscribe_text("unsubscribe", &arg));
        out.send(&url, subscribe_text("subscribe", &arg));
    }

    /// The book broke for `reason`: out of sync, resync by resubscribing.
    fn resync(&mut self, inst_id: &str, reason: OutOfSyncReason, out: &mut Output) {
        if let Some(instrument) = self.books.get(inst_id).map(|b| b.instrument) {
            self.lc.fail(instrument, reason, out);
            self.lc.resync(instrument, "resubscribing books", out);
        }
        self.resubscribe(inst_id, out);
    }

    pub(super) fn on_book(
        &mut self,
        inst_id: &str,
        action: Option<&str>,
        data: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        let entries: Vec<BookData> = match serde_json::from_str(data.get()) {
            Ok(e) => e,
            Err(e) => return parse_error(out, format!("books data: {e}")),
        };
        if !self.books.contains_key(inst_id) {
            match parse_native(inst_id) {
                Some(i) => {
                    self.books.insert(inst_id.to_string(), BookSync::new(i));
                }
                None => return unknown(out, format!("books for unknown instId {inst_id}")),
            }
        }
        for entry in entries {
            self.on_book_entry(inst_id, action, entry, received, out);
        }
    }

    fn on_book_entry(
        &mut self,
        inst_id: &str,
        action: Option<&str>,
        d: BookData,
        received: Micros,
        out: &mut Output,
    ) {
        let ts = ms_to_micros(d.ts);
        let seq = SeqInfo {
            first: d.prev_seq_id.and_then(|s| u64::try_from(s).ok()),
            last: d.seq_id.and_then(|s| u64::try_from(s).ok()),
        };
        // `books5` / `bbo-tbt` pushes have no action: each is a full snapshot.
        let snapshot = action.is_none_or(|a| a == "snapshot");
        let Some(b) = self.books.get_mut(inst_id) else {
            return;
        };
        let instrument = b.instrument;
        if let Some(url) = self.conn_url.as_deref() {
            self.lc.carried_by(instrument, url, out);
        }
        if snapshot {
            b.native.clear();
            b.phase = Phase::Synced;
        } else {
            if b.phase != Phase::Synced {
                return;
            }
            if let (Some(prev), Some(last)) = (d.prev_seq_id, b.last_seq)
                && prev != last
            {
                let (expected, got) = (last.max(0) as u64, prev.max(0) as u64);
                self.lc.gap(instrument, expected, got, out);
                return self.resubscribe(inst_id, out);
            }
        }
        if d.seq_id.is_some() {
            b.last_seq = d.seq_id;
        }
        let mut changed: Vec<(BookSide, Decimal, Decimal)> =
            Vec::with_capacity(d.bids.len() + d.asks.len());
        for (side, levels) in [(BookSide::Bid, &d.bids), (BookSide::Ask, &d.asks)] {
            for level in levels {
                match level_text(level).and_then(|(p, s)| b.native.set_text(side, p, s)) {
                    Some((p, s)) => changed.push((side, p, s)),
                    None => {
                        b.reset();
                        parse_error(
                            out,
                            format!("{inst_id}: bad level {}", preview(&format!("{level:?}"))),
                        );
                        return self.resync(
                            inst_id,
                            OutOfSyncReason::Venue("unparsable level".into()),
                            out,
                        );
                    }
                }
            }
        }
        // Checksum 0 means "deprecated field" (OKX, 2026-06-23): skip it.
        if let Some(expected) = d.checksum.filter(|&c| c != 0) {
            let computed = okx_checksum(&b.native);
            if i64::from(computed) == expected {
                self.lc.checksum_ok(instrument, out);
            } else {
                self.lc
                    .checksum_failed(instrument, expected as i32 as u32, computed as u32, out);
                return self.resubscribe(inst_id, out);
            }
        }
        if !self.convertible(inst_id, &instrument) {
            // SWAP sizes cannot be converted before the instrument list.
            return;
        }
        if snapshot || !self.lc.is_live(&instrument) {
            if let Some(u) = self.snapshot_event(inst_id, seq, ts, received)
                && self.lc.snapshot(u, out) == Applied::Rejected
            {
                self.resubscribe(inst_id, out);
            }
            return;
        }
        if changed.is_empty() {
            return; // keep-alive
        }
        let mut bids = Vec::new();
        let mut asks = Vec::new();
        for (side, p, s) in changed {
            let Some(size) = self.to_base(inst_id, &instrument, s, p) else {
                continue;
            };
            let l = Level::new(p, size);
            match side {
                BookSide::Bid => bids.push(l),
                BookSide::Ask => asks.push(l),
            }
        }
        let u = Update {
            instrument,
            bids,
            asks,
            seq,
            exchange_ts: ts,
            received,
        };
        if self.lc.delta(u, out) == Applied::Rejected {
            self.resubscribe(inst_id, out);
        }
    }

    /// Books that were held back for want of a contract size.
    pub(super) fn release_held_books(&mut self, received: Micros, out: &mut Output) {
        let mut held: Vec<String> = self
            .books
            .iter()
            .filter(|(id, b)| {
                b.phase == Phase::Synced
                    && !self.lc.is_live(&b.instrument)
                    && self.convertible(id, &b.instrument)
            })
            .map(|(id, _)| id.clone())
            .collect();
        held.sort();
        for id in held {
            let seq = SeqInfo {
                first: None,
                last: self
                    .books
                    .get(&id)
                    .and_then(|b| b.last_seq)
                    .and_then(|s| u64::try_from(s).ok()),
            };
            if let Some(u) = self.snapshot_event(&id, seq, None, received)
                && self.lc.snapshot(u, out) == Applied::Rejected
            {
                self.resubscribe(&id, out);
            }
        }
    }
}
