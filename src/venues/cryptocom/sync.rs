//! Crypto.com books. A `book` push is a whole book (the first one of a
//! `SNAPSHOT_AND_UPDATE` subscription, every push of a `SNAPSHOT` one and
//! of the v2 API): it replaces the book, and its `u` is where deltas
//! continue from. A `book.update` push carries changes (`[price, size,
//! orders]`, size `"0"` deletes) with `u` and `pu`: `pu` must be the last
//! `u` applied, else updates were missed — the book is out of sync and the
//! channel is unsubscribed and subscribed again, which brings a fresh
//! snapshot (the documented recovery). A push with nothing changed is an
//! empty delta that still advances `u`.

use rust_decimal::Decimal;

use super::wire::{BookData, RawLevel, level};
use super::{CryptoCom, book_channel, native_symbol, parse_error, parse_native, unknown};
use crate::model::{Instrument, Level, Micros, OutOfSyncReason, SeqInfo};
use crate::venues::Output;
use crate::venues::lifecycle::{Applied, Update};
use crate::venues::parse::{decimal, ms_to_micros, preview};

/// Where a book's deltas must continue from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Expect {
    /// Waiting for a whole book: deltas are dropped.
    Snapshot,
    /// The `u` of the last message applied.
    After(u64),
    /// The last whole book had no `u` (v2, whole books only): a delta
    /// cannot be checked.
    Unchecked,
}

/// What the adapter keeps per book besides the lifecycle.
pub(super) struct BookSync {
    /// The book's channel (`book.BTC_USDT.50`; in a replay, the recorded
    /// one, e.g. `.150`).
    pub(super) channel: String,
    pub(super) expect: Expect,
}

impl BookSync {
    pub(super) fn new(instrument: &Instrument) -> Self {
        BookSync {
            channel: book_channel(&native_symbol(instrument)),
            expect: Expect::Snapshot,
        }
    }

    pub(super) fn reset(&mut self) {
        self.expect = Expect::Snapshot;
    }
}

impl CryptoCom {
    /// Levels of one side in base sizes; `Err` names the first bad one.
    pub(super) fn side(&self, native: &str, levels: &[RawLevel<'_>]) -> Result<Vec<Level>, String> {
        let mut out = Vec::with_capacity(levels.len());
        for l in levels {
            let bad = || {
                let parts: Vec<&str> = l.iter().map(|v| v.get()).collect();
                format!(
                    "{native}: bad level {}",
                    preview(&format!("[{}]", parts.join(",")))
                )
            };
            let (price, size) = level(l).ok_or_else(bad)?;
            let price = decimal(price).ok_or_else(bad)?;
            let size = decimal(size).ok_or_else(bad)?;
            let size = if size.is_zero() {
                Decimal::ZERO
            } else {
                self.to_base(native, size).ok_or_else(bad)?
            };
            out.push(Level::new(price, size));
        }
        Ok(out)
    }

    /// Unsubscribe and subscribe a book's channel for a fresh snapshot (the
    /// lifecycle has been told why).
    pub(super) fn resubscribe(&mut self, instrument: Instrument, now: Micros, out: &mut Output) {
        let Some(b) = self.books.get_mut(&instrument) else {
            return;
        };
        b.reset();
        let channel = b.channel.clone();
        let Some(url) = self.conn_of(&instrument) else {
            return;
        };
        let (_, unsub) = self.request(
            "unsubscribe",
            serde_json::json!({ "channels": [&channel] }),
            now,
        );
        out.send(&url, unsub);
        self.subscribe(&url, &[channel], true, now, out);
    }

    /// A book message that breaks the protocol: counted, the book out of
    /// sync, resubscribed.
    fn broken(&mut self, instrument: Instrument, why: String, now: Micros, out: &mut Output) {
        parse_error(out, why.clone());
        self.lc.fail(
            instrument,
            OutOfSyncReason::Venue(format!("invalid book message: {why}")),
            out,
        );
        self.lc.resync(instrument, "resubscribing book", out);
        self.resubscribe(instrument, now, out);
    }

    pub(super) fn on_book(
        &mut self,
        url: &str,
        push: &super::wire::Push<'_>,
        delta: bool,
        received: Micros,
        out: &mut Output,
    ) {
        let data: Vec<BookData> = match serde_json::from_str(push.data.get()) {
            Ok(d) => d,
            Err(e) => return parse_error(out, format!("{} data: {e}", push.channel)),
        };
        // `instrument_name`, else the middle of `book.{instrument}.{depth}`.
        let native = push
            .instrument_name
            .as_deref()
            .or_else(|| push.subscription.as_deref()?.split('.').nth(1))
            .unwrap_or_default()
            .to_string();
        let Some(instrument) = parse_native(&native).filter(|i| super::carries(i).is_ok()) else {
            return unknown(out, format!("book of {native:?} (not carried)"));
        };
        self.lc.carried_by(instrument, url, out);
        let b = self
            .books
            .entry(instrument)
            .or_insert_with(|| BookSync::new(&instrument));
        if let Some(sub) = push.subscription.as_deref()
            && b.channel != sub
        {
            b.channel = sub.to_string();
        }
        for d in data {
            self.on_book_data(&native, instrument, d, delta, received, out);
        }
    }

    fn on_book_data(
        &mut self,
        native: &str,
        instrument: Instrument,
        d: BookData<'_>,
        delta: bool,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(expect) = self.books.get(&instrument).map(|b| b.expect) else {
            return;
        };
        if delta {
            match (expect, d.pu) {
                // Waiting for a snapshot (first subscription or a resync).
                (Expect::Snapshot, _) => return,
                (Expect::After(last), Some(pu)) if pu == last => {}
                (Expect::After(last), Some(pu)) => {
                    self.lc.gap(instrument, last, pu, out);
                    return self.resubscribe(instrument, received, out);
                }
                (Expect::After(_), None) => {
                    let why = format!("{native}: book.update without pu");
                    return self.broken(instrument, why, received, out);
                }
                (Expect::Unchecked, _) => {
                    let why = format!("{native}: book.update after a book without u");
                    return self.broken(instrument, why, received, out);
                }
            }
            if d.u.is_none() {
                let why = format!("{native}: book.update without u");
                return self.broken(instrument, why, received, out);
            }
        }
        let (bids, asks) = match d.update.as_ref() {
            Some(sides) if delta => (&sides.bids, &sides.asks),
            _ => (&d.bids, &d.asks),
        };
        let sides = self
            .side(native, bids)
            .and_then(|bids| Ok((bids, self.side(native, asks)?)));
        let (bids, asks) = match sides {
            Ok(s) => s,
            Err(why) => return self.broken(instrument, why, received, out),
        };
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo {
                first: d.pu,
                last: d.u,
            },
            exchange_ts: d.t.and_then(ms_to_micros),
            received,
        };
        let applied = if delta {
            self.lc.delta(u, out)
        } else {
            self.lc.snapshot(u, out)
        };
        match applied {
            Applied::Published => {
                if let Some(b) = self.books.get_mut(&instrument) {
                    b.expect = d.u.map_or(Expect::Unchecked, Expect::After);
                }
            }
            Applied::NotLive => {}
            Applied::Rejected => {
                self.lc.resync(instrument, "resubscribing book", out);
                self.resubscribe(instrument, received, out);
            }
        }
    }
}
