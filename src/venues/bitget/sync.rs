//! Bitget `books`: a full-depth snapshot, then updates, each book kept in
//! the venue's own text for the CRC32 checksum.
//!
//! Integrity, as Bitget documents it (spot "Depth Channel", futures "Order
//! Book Channel", UTA "Order Book Channel"):
//! - v2 `seq`: "the seq of update incremental messages is incrementing
//!   except during symbol maintenance". Bitget gives no previous id, so a
//!   missing push cannot be seen from `seq` alone; an update whose `seq` is
//!   not above the last one is out of order (a break).
//! - v3 `pseq`: the previous push's `seq`; it must equal the last one
//!   (`pseq = 0` means the venue reset its numbering: rebuilt too).
//! - `checksum` on updates: the best 25 bids and asks interleaved, each
//!   `price:size` in the received text, CRC-32 as a signed int (OKX's
//!   construction, [`okx_checksum`]). It is not checked on snapshots (the
//!   digest and ccxt say they carry none; the first update checks the
//!   snapshot's top 25 anyway), nor when 0 (v3 sends 0).
//!
//! v1 (recordings) has no `seq`: only the checksum guards it. A break marks
//! the book out of sync and resubscribes its `books` channel, which makes
//! Bitget send a fresh snapshot. Sizes are base coin on every market
//! (contracts' `sizeMultiplier` and `minTradeNum` are base quantities), so
//! nothing waits for the instrument list.

use super::wire::{BookData, int, level_text, ms};
use super::{Bitget, Market, parse_error};
use crate::model::{BookSide, Instrument, Level, Micros, OutOfSyncReason, SeqInfo};
use crate::venues::Output;
use crate::venues::checksum::{TextBook, okx_checksum, raw_text};
use crate::venues::lifecycle::{Applied, Update};
use crate::venues::parse::preview;

/// The venue's own copy of one book. Whether the engine holds a live copy
/// is the lifecycle's to say.
pub(super) struct BookSync {
    pub(super) market: Market,
    /// The `instId` the book is subscribed and pushed under.
    pub(super) native: String,
    text: TextBook,
    synced: bool,
    last_seq: Option<i64>,
}

impl BookSync {
    pub(super) fn new(market: Market, native: &str) -> Self {
        BookSync {
            market,
            native: native.to_string(),
            text: TextBook::default(),
            synced: false,
            last_seq: None,
        }
    }

    pub(super) fn reset(&mut self) {
        self.text.clear();
        self.synced = false;
        self.last_seq = None;
    }

    #[cfg(test)]
    pub(super) fn checksum(&self) -> i32 {
        okx_checksum(&self.text)
    }
}

/// Why an update cannot be applied.
enum Break {
    Gap { expected: u64, got: u64 },
    Checksum { expected: i32, computed: i32 },
    Invalid(String),
}

impl Bitget {
    /// One `books` push (`snapshot` or `update`) for `instrument`.
    pub(super) fn on_book_entry(
        &mut self,
        url: &str,
        instrument: Instrument,
        snapshot: bool,
        d: BookData<'_>,
        received: Micros,
        out: &mut Output,
    ) {
        let ts = ms(d.ts);
        let seq = d.seq.and_then(int);
        let Some(b) = self.books.get_mut(&instrument) else {
            return;
        };
        self.lc.carried_by(instrument, url, out);
        if snapshot {
            b.text.clear();
            b.synced = true;
        } else if !b.synced {
            // Waiting for the snapshot a (re)subscription brings.
            return;
        }
        let prev = b.last_seq;
        let result = apply(b, snapshot, &d);
        b.last_seq = seq.or(b.last_seq);
        let changed = match result {
            Ok(changed) => changed,
            Err(brk) => return self.broke(url, instrument, brk, out),
        };
        if !snapshot && checksum_of(&d).is_some() {
            self.lc.checksum_ok(instrument, out);
        }
        let seq_info = SeqInfo {
            first: prev.and_then(|p| u64::try_from(p).ok()),
            last: seq.and_then(|s| u64::try_from(s).ok()),
        };
        let published = if snapshot || !self.lc.is_live(&instrument) {
            let Some(b) = self.books.get(&instrument) else {
                return;
            };
            let side = |s: BookSide| {
                b.text
                    .iter(s)
                    .map(|(p, l)| Level::new(*p, l.size))
                    .collect()
            };
            let u = Update {
                instrument,
                bids: side(BookSide::Bid),
                asks: side(BookSide::Ask),
                seq: seq_info,
                exchange_ts: ts,
                received,
            };
            self.lc.snapshot(u, out)
        } else if changed.0.is_empty() && changed.1.is_empty() {
            return;
        } else {
            let u = Update {
                instrument,
                bids: changed.0,
                asks: changed.1,
                seq: seq_info,
                exchange_ts: ts,
                received,
            };
            self.lc.delta(u, out)
        };
        if published == Applied::Rejected {
            self.resubscribe(url, instrument, out);
        }
    }

    /// The book broke: counted, out of sync, resubscribed.
    fn broke(&mut self, url: &str, instrument: Instrument, brk: Break, out: &mut Output) {
        match brk {
            Break::Gap { expected, got } => self.lc.gap(instrument, expected, got, out),
            Break::Checksum { expected, computed } => {
                self.lc
                    .checksum_failed(instrument, expected as u32, computed as u32, out)
            }
            Break::Invalid(why) => {
                parse_error(out, why);
                self.lc.fail(
                    instrument,
                    OutOfSyncReason::Venue("unparsable book level".into()),
                    out,
                );
                self.lc
                    .resync(instrument, "resubscribing books after bad data", out);
            }
        }
        self.resubscribe(url, instrument, out);
    }

    /// Ask for a fresh snapshot: unsubscribe and subscribe the book's
    /// channel on its connection (the lifecycle has been told why).
    pub(super) fn resubscribe(&mut self, url: &str, instrument: Instrument, out: &mut Output) {
        let Some(b) = self.books.get_mut(&instrument) else {
            return;
        };
        b.reset();
        let arg = super::books_arg(b.market, &b.native);
        let conn = self
            .lc
            .conn(&instrument)
            .map(str::to_string)
            .unwrap_or_else(|| url.to_string());
        let arg = [arg];
        self.request(&conn, &[("unsubscribe", &arg), ("subscribe", &arg)], out);
    }
}

/// The checksum an update carries, when it carries a real one.
fn checksum_of(d: &BookData<'_>) -> Option<i32> {
    d.checksum.and_then(int).filter(|&c| c != 0).and_then(|c| {
        i32::try_from(c)
            .ok()
            .or_else(|| u32::try_from(c).ok().map(|u| u as i32))
    })
}

type Changed = (Vec<Level>, Vec<Level>);

/// Check continuity, apply the levels, check the checksum.
fn apply(b: &mut BookSync, snapshot: bool, d: &BookData<'_>) -> Result<Changed, Break> {
    let seq = d.seq.and_then(int);
    if !snapshot && let Some(last) = b.last_seq {
        let pseq = d.pseq.and_then(int);
        let broken = match (pseq, seq) {
            (Some(p), _) => p != last || p == 0,
            (None, Some(s)) => s <= last,
            (None, None) => false,
        };
        if broken {
            let got = pseq.or(seq).unwrap_or(0);
            return Err(Break::Gap {
                expected: u64::try_from(last).unwrap_or(0),
                got: u64::try_from(got).unwrap_or(0),
            });
        }
    }
    let mut changed: Changed = (Vec::new(), Vec::new());
    for (side, levels) in [(BookSide::Bid, &d.bids), (BookSide::Ask, &d.asks)] {
        for level in levels {
            let Some((p, s)) = level_text(level).and_then(|(p, s)| b.text.set_text(side, p, s))
            else {
                let shown: Vec<&str> = level.iter().map(|v| raw_text(v)).collect();
                return Err(Break::Invalid(format!(
                    "{}: bad level {}",
                    b.native,
                    preview(&shown.join(","))
                )));
            };
            let l = Level::new(p, s);
            match side {
                BookSide::Bid => changed.0.push(l),
                BookSide::Ask => changed.1.push(l),
            }
        }
    }
    if !snapshot && let Some(expected) = checksum_of(d) {
        let computed = okx_checksum(&b.text);
        if computed != expected {
            return Err(Break::Checksum { expected, computed });
        }
    }
    Ok(changed)
}
