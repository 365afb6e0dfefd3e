//! Bitfinex `book` channel, precision P0 ("ws-public-books"): a snapshot
//! `[[PRICE, COUNT, AMOUNT], …]` right after `subscribed`, then one level
//! per frame. COUNT > 0 sets the level (AMOUNT > 0 a bid, < 0 an ask, size
//! |AMOUNT|); COUNT = 0 deletes it (AMOUNT 1 from the bids, -1 from the
//! asks). Bitfinex keeps the subscribed `len` itself: a level that leaves
//! the range comes as a delete, so nothing is truncated here.
//!
//! Each book is also kept in the text Bitfinex sent, for the checksum
//! (`OB_CHECKSUM`, "ws-websocket-checksum"): the best 25 bids and asks
//! interleaved (bid 1, ask 1, bid 2, …; a side that runs out is skipped),
//! each `PRICE:AMOUNT` with the ask amounts negative, joined by `:`, CRC-32
//! compared as a signed 32-bit integer. The numbers' text is used as sent
//! (tiny prices arrive as `2e-8`, bitfinex-api-node #328).

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::wire::{elements, text_at};
use super::{Bitfinex, VENUE};
use crate::model::{BookSide, Instrument, Level, Micros, OutOfSyncReason, SeqInfo};
use crate::venues::Output;
use crate::venues::checksum::TextBook;
use crate::venues::lifecycle::{Applied, Update};
use crate::venues::parse::{decimal, preview};

/// The venue's own copy of one book.
#[derive(Clone, Debug, Default)]
pub(super) struct Book {
    /// Ask sizes are kept positive; the checksum puts the sign back.
    text: TextBook,
    /// The text book is complete (a snapshot arrived on the current
    /// subscription and every update since).
    synced: bool,
}

impl Book {
    pub(super) fn reset(&mut self) {
        self.text.clear();
        self.synced = false;
    }
}

/// One `[PRICE, COUNT, AMOUNT]` level as text.
struct Row<'a> {
    price: &'a str,
    count: Decimal,
    amount: &'a str,
    amount_value: Decimal,
}

fn row<'a>(raw: &'a RawValue) -> Option<Row<'a>> {
    let cells = elements(raw).ok()?;
    let price = text_at(&cells, 0)?;
    let count = text_at(&cells, 1).and_then(decimal)?;
    let amount = text_at(&cells, 2)?;
    let amount_value = decimal(amount)?;
    decimal(price)?;
    (count >= Decimal::ZERO && count.fract().is_zero()).then_some(Row {
        price,
        count,
        amount,
        amount_value,
    })
}

/// Which side a level belongs to, and its size text (unsigned).
fn side_of<'a>(r: &Row<'a>) -> Option<(BookSide, &'a str)> {
    if r.amount_value > Decimal::ZERO {
        Some((BookSide::Bid, r.amount))
    } else if r.amount_value < Decimal::ZERO {
        Some((BookSide::Ask, r.amount.trim_start().trim_start_matches('-')))
    } else {
        None
    }
}

/// The checksum string of a P0 book (see the module documentation).
pub(super) fn checksum_string(book: &TextBook) -> String {
    let mut bids = book.iter(BookSide::Bid).take(25);
    let mut asks = book.iter(BookSide::Ask).take(25);
    let mut parts: Vec<String> = Vec::with_capacity(100);
    loop {
        let (b, a) = (bids.next(), asks.next());
        if b.is_none() && a.is_none() {
            break;
        }
        if let Some((_, l)) = b {
            parts.push(l.price_text.clone());
            parts.push(l.size_text.clone());
        }
        if let Some((_, l)) = a {
            parts.push(l.price_text.clone());
            parts.push(format!("-{}", l.size_text));
        }
    }
    parts.join(":")
}

pub(super) fn checksum(book: &TextBook) -> i32 {
    crc32fast::hash(checksum_string(book).as_bytes()) as i32
}

fn levels(book: &TextBook, side: BookSide) -> Vec<Level> {
    book.iter(side)
        .map(|(p, l)| Level::new(*p, l.size))
        .collect()
}

/// Where a book frame came from.
#[derive(Clone, Copy)]
pub(super) struct Route<'a> {
    pub(super) url: &'a str,
    pub(super) chan: u64,
    pub(super) instrument: Instrument,
}

impl Bitfinex {
    /// A `book` payload for `instrument` on channel `chan` of `url`.
    pub(super) fn on_book_data(
        &mut self,
        r: Route<'_>,
        data: &RawValue,
        seq: Option<u64>,
        received: Micros,
        out: &mut Output,
    ) {
        let Route {
            url, instrument, ..
        } = r;
        let cells = match elements(data) {
            Ok(c) => c,
            Err(e) => return self.bad_book(r, format!("book: {e}"), out),
        };
        self.lc.carried_by(instrument, url, out);
        // An empty list is the snapshot of an empty book.
        let is_snapshot = cells
            .first()
            .is_none_or(|c| c.get().trim_start().starts_with('['));
        let seq = SeqInfo {
            first: None,
            last: seq,
        };
        if is_snapshot {
            self.on_snapshot(r, &cells, seq, received, out);
        } else {
            self.on_update(r, data, seq, received, out);
        }
    }

    fn on_snapshot(
        &mut self,
        r: Route<'_>,
        cells: &[&RawValue],
        seq: SeqInfo,
        received: Micros,
        out: &mut Output,
    ) {
        let Route {
            url,
            chan,
            instrument,
        } = r;
        let mut parsed = Vec::with_capacity(cells.len());
        for cell in cells {
            match row(cell).filter(|r| r.count > Decimal::ZERO) {
                Some(r) if side_of(&r).is_some() => parsed.push(r),
                _ => {
                    let why = format!("book snapshot level {}", preview(cell.get()));
                    return self.bad_book(r, why, out);
                }
            }
        }
        let book = self.books.entry(instrument).or_default();
        book.reset();
        for r in &parsed {
            if let Some((side, size)) = side_of(r) {
                book.text.set_text(side, r.price, size);
            }
        }
        book.synced = true;
        let u = Update {
            instrument,
            bids: levels(&book.text, BookSide::Bid),
            asks: levels(&book.text, BookSide::Ask),
            seq,
            exchange_ts: None,
            received,
        };
        if self.lc.snapshot(u, out) == Applied::Rejected {
            self.lc
                .resync(instrument, "resubscribing after invalid data", out);
            self.resubscribe_book(url, chan, instrument, out);
        }
    }

    fn on_update(
        &mut self,
        r: Route<'_>,
        data: &RawValue,
        seq: SeqInfo,
        received: Micros,
        out: &mut Output,
    ) {
        let Route {
            url,
            chan,
            instrument,
        } = r;
        if !self.books.get(&instrument).is_some_and(|b| b.synced) {
            return; // waiting for the snapshot
        }
        let parsed =
            row(data).and_then(|r| side_of(&r).map(|(side, size)| (r.count, r.price, side, size)));
        let applied = parsed.and_then(|(count, price, side, size)| {
            let size = if count.is_zero() { "0" } else { size };
            let book = self.books.get_mut(&instrument)?;
            book.text.set_text(side, price, size).map(|ps| (side, ps))
        });
        let Some((side, (price, size))) = applied else {
            let why = format!("book update {}", preview(data.get()));
            return self.bad_book(r, why, out);
        };
        let level = Level::new(price, size);
        let (bids, asks) = match side {
            BookSide::Bid => (vec![level], vec![]),
            BookSide::Ask => (vec![], vec![level]),
        };
        let u = Update {
            instrument,
            bids,
            asks,
            seq,
            exchange_ts: None,
            received,
        };
        if self.lc.delta(u, out) == Applied::Rejected {
            self.lc
                .resync(instrument, "resubscribing after invalid data", out);
            self.resubscribe_book(url, chan, instrument, out);
        }
    }

    /// `[CHAN_ID, "cs", CHECKSUM]` for a book.
    pub(super) fn on_checksum(&mut self, r: Route<'_>, expected: i64, out: &mut Output) {
        let Route {
            url,
            chan,
            instrument,
        } = r;
        let Some(book) = self.books.get(&instrument).filter(|b| b.synced) else {
            return;
        };
        if !self.lc.is_live(&instrument) {
            return;
        }
        let computed = checksum(&book.text);
        if i64::from(computed) == expected {
            self.lc.checksum_ok(instrument, out);
        } else {
            self.lc
                .checksum_failed(instrument, expected as i32 as u32, computed as u32, out);
            self.resubscribe_book(url, chan, instrument, out);
        }
    }

    /// A book frame that is not Bitfinex's protocol: counted, and the book
    /// is rebuilt from a new subscription.
    fn bad_book(&mut self, r: Route<'_>, why: String, out: &mut Output) {
        let Route {
            url,
            chan,
            instrument,
        } = r;
        out.parse_error(VENUE, Some(instrument), why);
        self.lc.fail(
            instrument,
            OutOfSyncReason::Venue("unparsable book data".into()),
            out,
        );
        self.lc.resync(instrument, "resubscribing the book", out);
        self.resubscribe_book(url, chan, instrument, out);
    }

    /// Unsubscribe the book's channel; the subscription follows the
    /// `unsubscribed` answer (so the two cannot race), and its `subscribed`
    /// and snapshot rebuild the book. The lifecycle has been told why.
    pub(super) fn resubscribe_book(
        &mut self,
        url: &str,
        chan: u64,
        instrument: Instrument,
        out: &mut Output,
    ) {
        if let Some(b) = self.books.get_mut(&instrument) {
            b.reset();
        }
        let key = (url.to_string(), chan);
        if self.resubscribing.insert(key.clone(), instrument).is_some() {
            return; // already under way
        }
        self.chans.insert(key, super::Chan::Ignored);
        out.send(
            url,
            serde_json::json!({"event": "unsubscribe", "chanId": chan}).to_string(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_interleaves_with_negative_ask_amounts() {
        let mut b = TextBook::default();
        b.set_text(BookSide::Bid, "7254.7", "3.3");
        b.set_text(BookSide::Bid, "7254.6", "0.5");
        b.set_text(BookSide::Ask, "7254.8", "1.2");
        assert_eq!(checksum_string(&b), "7254.7:3.3:7254.8:-1.2:7254.6:0.5");
        b.set_text(BookSide::Bid, "2e-8", "100");
        assert!(checksum_string(&b).ends_with(":2e-8:100"));
        assert_eq!(
            checksum(&b),
            crc32fast::hash(checksum_string(&b).as_bytes()) as i32
        );
    }
}
