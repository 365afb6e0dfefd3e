//! Kraken books as the venue sends them: each kept as text for the CRC32
//! over the top 10 levels (padded to the pair's precision), cut to the
//! subscribed depth after every message, and resubscribed on a mismatch.

use rust_decimal::Decimal;

use super::{Kraken, depth_for, is_v1_url, parse_error};
use crate::model::{BookSide, Instrument, Level, Micros, OutOfSyncReason, SeqInfo};
use crate::venues::Output;
use crate::venues::checksum::{TextBook, kraken_checksum, observed_scales};
use crate::venues::lifecycle::{Applied, Update};

/// The venue's own copy of one book (for the checksum) and its depth;
/// whether it is live is the lifecycle's to say.
pub(super) struct BookSync {
    pub(super) native: TextBook,
    pub(super) depth: usize,
}

/// Decimals Kraken renders a pair's prices and quantities with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Precision {
    pub(super) price: u32,
    pub(super) qty: u32,
}

/// One book message, either protocol version, as text levels in wire order.
pub(super) struct BookMessage<'a> {
    pub(super) instrument: Instrument,
    pub(super) snapshot: bool,
    pub(super) bids: Vec<(&'a str, &'a str)>,
    pub(super) asks: Vec<(&'a str, &'a str)>,
    pub(super) checksum: Option<u32>,
    pub(super) exchange_ts: Option<Micros>,
    /// Depth the message says it belongs to (v1 channel name `book-25`).
    pub(super) depth: Option<usize>,
}

impl Kraken {
    /// Resubscribe a book for a new snapshot (the lifecycle has been told
    /// why).
    fn resubscribe(&mut self, instrument: Instrument, out: &mut Output) {
        let url = self.url();
        let v1 = is_v1_url(&url);
        if let Some(b) = self.books.get_mut(&instrument) {
            b.native.clear();
        }
        let unsub = self.book_request("unsubscribe", &[instrument], v1);
        let sub = self.book_request("subscribe", &[instrument], v1);
        out.send(&url, unsub);
        out.send(&url, sub);
    }

    fn resync(&mut self, instrument: Instrument, reason: OutOfSyncReason, out: &mut Output) {
        self.lc.fail(instrument, reason, out);
        self.lc.resync(instrument, "resubscribing book", out);
        self.resubscribe(instrument, out);
    }

    /// Apply one book message, verify its checksum, emit the change.
    pub(super) fn on_book_message(&mut self, m: BookMessage, received: Micros, out: &mut Output) {
        let instrument = m.instrument;
        let precision = self.precision.get(&instrument).copied();
        let default_depth = self.depth;
        let b = self.books.entry(instrument).or_insert_with(|| BookSync {
            native: TextBook::default(),
            depth: default_depth,
        });
        if let Some(url) = self.conn_url.as_deref() {
            self.lc.carried_by(instrument, url, out);
        }
        if let Some(d) = m.depth {
            b.depth = d;
        }
        if m.snapshot {
            b.native.clear();
            // A snapshot larger than the depth we thought we had tells the
            // real one (replays of recordings made at another depth).
            let n = m.bids.len().max(m.asks.len());
            if n > b.depth {
                b.depth = depth_for(n);
            }
        } else if !self.lc.is_live(&instrument) {
            return;
        }
        let mut bids = Vec::with_capacity(m.bids.len());
        let mut asks = Vec::with_capacity(m.asks.len());
        for (side, levels, changed) in [
            (BookSide::Bid, &m.bids, &mut bids),
            (BookSide::Ask, &m.asks, &mut asks),
        ] {
            for (p, q) in levels {
                match b.native.set_text(side, p, q) {
                    Some((p, q)) => changed.push(Level::new(p, q)),
                    None => {
                        parse_error(out, format!("{instrument}: bad level {p} {q}"));
                        return self.resync(
                            instrument,
                            OutOfSyncReason::Venue("unparsable level".into()),
                            out,
                        );
                    }
                }
            }
        }
        let (gone_bids, gone_asks) = b.native.truncate(b.depth);
        bids.extend(gone_bids.into_iter().map(|p| Level::new(p, Decimal::ZERO)));
        asks.extend(gone_asks.into_iter().map(|p| Level::new(p, Decimal::ZERO)));

        if let Some(expected) = m.checksum {
            let (ps, qs) = match precision {
                Some(p) => (Some(p.price), Some(p.qty)),
                None => (None, None),
            };
            let mut computed = kraken_checksum(&b.native, ps, qs);
            if computed != expected && precision.is_none() {
                // Without the pair's precision, numbers that lost trailing
                // zeros on the wire are padded to the widest seen.
                let (ps, qs) = observed_scales(&b.native);
                computed = kraken_checksum(&b.native, Some(ps), Some(qs));
            }
            if computed == expected {
                self.lc.checksum_ok(instrument, out);
            } else {
                self.lc.checksum_failed(instrument, expected, computed, out);
                return self.resubscribe(instrument, out);
            }
        }
        let (bids, asks) = if m.snapshot {
            let all = |side| {
                b.native
                    .iter(side)
                    .map(|(p, l)| Level::new(*p, l.size))
                    .collect()
            };
            (all(BookSide::Bid), all(BookSide::Ask))
        } else {
            (bids, asks)
        };
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: m.exchange_ts,
            received,
        };
        let applied = if m.snapshot {
            self.lc.snapshot(u, out)
        } else {
            self.lc.delta(u, out)
        };
        if applied == Applied::Rejected {
            self.resubscribe(instrument, out);
        }
    }
}
