//! Deribit books: a snapshot, then changes whose `prev_change_id` must be
//! the last `change_id` applied; a break resubscribes the channel for a
//! fresh snapshot. Amounts become base sizes level by level (USD amounts of
//! inverse perpetuals at each level's own price).

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::wire::{BookData, RawLevel, level};
use super::{Deribit, native_symbol, parse_error, parse_native, unknown};
use crate::model::{Instrument, Level, Micros, OutOfSyncReason, SeqInfo};
use crate::venues::Output;
use crate::venues::lifecycle::{Applied, Update};
use crate::venues::parse::{decimal, ms_to_micros};

/// What the adapter keeps per book besides the lifecycle.
pub(super) struct BookSync {
    /// The channel the book arrives on (`book.BTC-PERPETUAL.100ms`; in a
    /// replay of cryptofeed's recordings, `.raw`).
    pub(super) channel: String,
    /// `change_id` of the last message applied; `None` while waiting for a
    /// snapshot.
    pub(super) last_change: Option<u64>,
}

impl BookSync {
    pub(super) fn new(instrument: &Instrument, interval: &str) -> Self {
        BookSync {
            channel: format!("book.{}.{interval}", native_symbol(instrument)),
            last_change: None,
        }
    }
}

/// Whether a book channel is the grouped one
/// (`book.{instrument}.{group}.{depth}.{interval}`: whole books each time).
fn is_grouped(channel: &str) -> bool {
    channel.split('.').count() == 5
}

impl Deribit {
    /// Levels of one side in base sizes; `Err` names the first bad one.
    pub(super) fn side(
        &self,
        native: &str,
        levels: &[Vec<&RawValue>],
    ) -> Result<Vec<Level>, String> {
        let mut out = Vec::with_capacity(levels.len());
        for l in levels {
            let bad = || format!("{native}: bad level {}", preview_level(l));
            let RawLevel {
                delete,
                price,
                amount,
            } = level(l).ok_or_else(bad)?;
            let price = decimal(price).ok_or_else(bad)?;
            let size = if delete {
                Decimal::ZERO
            } else {
                let amount = decimal(amount).ok_or_else(bad)?;
                self.to_base(native, amount, price).ok_or_else(bad)?
            };
            out.push(Level::new(price, size));
        }
        Ok(out)
    }

    /// Resubscribe a book's channel for a fresh snapshot (the lifecycle has
    /// been told why).
    fn resubscribe(&mut self, instrument: Instrument, out: &mut Output) {
        let url = self.url();
        let Some(b) = self.books.get_mut(&instrument) else {
            return;
        };
        b.last_change = None;
        let channel = b.channel.clone();
        let (_, unsub) = self.request(
            "public/unsubscribe",
            serde_json::json!({ "channels": [&channel] }),
        );
        out.send(&url, unsub);
        self.subscribe(&url, &[channel], out);
    }

    /// A book message that breaks the protocol: counted, the book out of
    /// sync, resubscribed.
    fn broken(&mut self, instrument: Instrument, why: String, out: &mut Output) {
        parse_error(out, why.clone());
        self.lc.fail(
            instrument,
            OutOfSyncReason::Venue(format!("invalid book message: {why}")),
            out,
        );
        self.lc.resync(instrument, "resubscribing book", out);
        self.resubscribe(instrument, out);
    }

    pub(super) fn on_book(
        &mut self,
        url: &str,
        channel: &str,
        data: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        let d: BookData = match serde_json::from_str(data.get()) {
            Ok(d) => d,
            Err(e) => return parse_error(out, format!("book data: {e}")),
        };
        let native = d.instrument_name.as_ref();
        let Some(instrument) = parse_native(native) else {
            return unknown(out, format!("book of {native} (not carried)"));
        };
        let grouped = is_grouped(channel);
        let snapshot = match d.kind.as_deref() {
            Some("snapshot") => true,
            Some("change") => grouped,
            // Grouped books have no type; cryptofeed tells the raw book's
            // snapshot by its missing `prev_change_id`.
            None => grouped || d.prev_change_id.is_none(),
            Some(other) => return unknown(out, format!("book message of type {other:?}")),
        };
        self.lc.carried_by(instrument, url, out);
        let b = self
            .books
            .entry(instrument)
            .or_insert_with(|| BookSync::new(&instrument, super::INTERVAL));
        if b.channel != channel {
            b.channel = channel.to_string();
        }
        if !grouped && d.change_id.is_none() {
            // Without it the next change cannot be checked.
            let why = format!("{native}: book message without change_id");
            return self.broken(instrument, why, out);
        }
        if !snapshot {
            // Waiting for a snapshot (first subscription or a resync).
            let Some(last) = b.last_change else {
                return;
            };
            match d.prev_change_id {
                Some(prev) if prev == last => {}
                Some(prev) => {
                    self.lc.gap(instrument, last, prev, out);
                    return self.resubscribe(instrument, out);
                }
                None => {
                    let why = format!("{native}: change without prev_change_id");
                    return self.broken(instrument, why, out);
                }
            }
        }
        let sides = self
            .side(native, &d.bids)
            .and_then(|bids| Ok((bids, self.side(native, &d.asks)?)));
        let (bids, asks) = match sides {
            Ok(s) => s,
            Err(why) => return self.broken(instrument, why, out),
        };
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo {
                first: d.prev_change_id,
                last: d.change_id,
            },
            exchange_ts: d.timestamp.and_then(ms_to_micros),
            received,
        };
        let applied = if snapshot {
            self.lc.snapshot(u, out)
        } else {
            self.lc.delta(u, out)
        };
        match applied {
            Applied::Published => {
                if let Some(b) = self.books.get_mut(&instrument) {
                    b.last_change = d.change_id;
                }
            }
            Applied::NotLive => {}
            Applied::Rejected => {
                self.lc.resync(instrument, "resubscribing book", out);
                self.resubscribe(instrument, out);
            }
        }
    }
}

fn preview_level(l: &[&RawValue]) -> String {
    let parts: Vec<&str> = l.iter().map(|v| v.get()).collect();
    crate::venues::parse::preview(&format!("[{}]", parts.join(",")))
}
