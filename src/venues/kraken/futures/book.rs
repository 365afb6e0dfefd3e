//! Kraken Futures books: kept in the venue's own units (contracts for PI,
//! coin for PF), checked for `seq` continuity, published in the coin once
//! the contract size is known (PI books are held back until then).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::wire::{Message, num};
use super::{Kraken, VENUE, parse_product, subscription};
use crate::model::{BookSide, Instrument, Level, Micros, OutOfSyncReason, SeqInfo};
use crate::venues::Output;
use crate::venues::lifecycle::{Applied, Update};
use crate::venues::parse::ms_to_micros;

/// One product's book as Kraken sends it.
pub(in crate::venues::kraken) struct FutBook {
    pub(super) instrument: Instrument,
    pub(super) inverse: bool,
    /// `seq` of the last message applied; `None` while waiting for a
    /// snapshot.
    pub(super) last_seq: Option<u64>,
    bids: BTreeMap<Decimal, Decimal>,
    asks: BTreeMap<Decimal, Decimal>,
}

impl FutBook {
    pub(super) fn new(instrument: Instrument, inverse: bool) -> Self {
        FutBook {
            instrument,
            inverse,
            last_seq: None,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
        }
    }

    pub(super) fn reset(&mut self) {
        self.last_seq = None;
        self.bids.clear();
        self.asks.clear();
    }

    fn set(&mut self, side: BookSide, price: Decimal, qty: Decimal) {
        let levels = match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        };
        if qty.is_zero() {
            levels.remove(&price);
        } else {
            levels.insert(price, qty);
        }
    }
}

impl Kraken {
    /// Resubscribe a product's book for a new snapshot (the lifecycle has
    /// been told why).
    fn resubscribe_futures(&mut self, product: &str, out: &mut Output) {
        if let Some(b) = self.fut.books.get_mut(product) {
            b.reset();
        }
        let url = self.futures_url();
        let products = [product.to_string()];
        out.send(&url, subscription("unsubscribe", "book", &products));
        out.send(&url, subscription("subscribe", "book", &products));
    }

    fn broken_futures(&mut self, product: &str, i: Instrument, why: String, out: &mut Output) {
        out.parse_error(VENUE, Some(i), why.clone());
        self.lc.fail(i, OutOfSyncReason::Venue(why), out);
        self.lc.resync(i, "resubscribing book", out);
        self.resubscribe_futures(product, out);
    }

    /// The whole native book in coin sizes; `None` before the contract
    /// size of a PI product is known.
    fn futures_snapshot(
        &self,
        product: &str,
        seq: Option<u64>,
        ts: Option<Micros>,
        received: Micros,
    ) -> Option<Update> {
        let b = self.fut.books.get(product)?;
        let conv = |levels: &mut dyn Iterator<Item = (&Decimal, &Decimal)>| -> Option<Vec<Level>> {
            levels
                .map(|(p, q)| {
                    Some(Level::new(
                        *p,
                        self.futures_base(product, b.inverse, *q, *p)?,
                    ))
                })
                .collect()
        };
        Some(Update {
            instrument: b.instrument,
            bids: conv(&mut b.bids.iter().rev())?,
            asks: conv(&mut b.asks.iter())?,
            seq: SeqInfo {
                first: None,
                last: seq,
            },
            exchange_ts: ts,
            received,
        })
    }

    pub(super) fn on_futures_book(
        &mut self,
        url: &str,
        m: &Message,
        snapshot: bool,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(product) = m.product_id.as_deref().map(str::to_ascii_uppercase) else {
            return out.parse_error(VENUE, None, "futures book without product_id");
        };
        let Some((instrument, inverse)) = parse_product(&product) else {
            return out.unknown(
                VENUE,
                None,
                format!("futures book of {product} (not carried)"),
            );
        };
        self.lc.carried_by(instrument, url, out);
        let b = self
            .fut
            .books
            .entry(product.clone())
            .or_insert_with(|| FutBook::new(instrument, inverse));
        let Some(seq) = m.seq else {
            let why = format!("{product}: book message without seq");
            return self.broken_futures(&product, instrument, why, out);
        };
        let ts = m.timestamp.and_then(ms_to_micros);
        let mut changed = None;
        if snapshot {
            b.reset();
            for (side, levels) in [(BookSide::Bid, &m.bids), (BookSide::Ask, &m.asks)] {
                for l in levels.iter().flatten() {
                    match (num(Some(l.price)), num(Some(l.qty))) {
                        (Some(p), Some(q)) => b.set(side, p, q),
                        _ => {
                            let why = format!("{product}: bad snapshot level");
                            return self.broken_futures(&product, instrument, why, out);
                        }
                    }
                }
            }
        } else {
            // Waiting for a snapshot.
            let Some(last) = b.last_seq else {
                return;
            };
            if seq != last.wrapping_add(1) {
                b.reset();
                self.lc.gap(instrument, last.wrapping_add(1), seq, out);
                return self.resubscribe_futures(&product, out);
            }
            let side = match m.side.as_deref() {
                Some("buy") => BookSide::Bid,
                Some("sell") => BookSide::Ask,
                _ => {
                    let why = format!("{product}: book side {:?}", m.side);
                    return self.broken_futures(&product, instrument, why, out);
                }
            };
            let (Some(p), Some(q)) = (num(m.price), num(m.qty)) else {
                let why = format!("{product}: bad book level");
                return self.broken_futures(&product, instrument, why, out);
            };
            b.set(side, p, q);
            changed = Some((side, p, q));
        }
        b.last_seq = Some(seq);
        let update = match changed {
            Some((side, p, q)) if self.lc.is_live(&instrument) => {
                let Some(size) = self.futures_base(&product, inverse, q, p) else {
                    let why = format!("{product}: level {p} × {q} out of range");
                    return self.broken_futures(&product, instrument, why, out);
                };
                let level = vec![Level::new(p, size)];
                let (bids, asks) = match side {
                    BookSide::Bid => (level, Vec::new()),
                    BookSide::Ask => (Vec::new(), level),
                };
                let u = Update {
                    instrument,
                    bids,
                    asks,
                    seq: SeqInfo {
                        first: None,
                        last: Some(seq),
                    },
                    exchange_ts: ts,
                    received,
                };
                Some((u, false))
            }
            // A snapshot, or a change to a book held back so far.
            _ => self
                .futures_snapshot(&product, Some(seq), ts, received)
                .map(|u| (u, true)),
        };
        let Some((u, whole)) = update else {
            // A PI book before its contract size: held back.
            return;
        };
        let applied = if whole {
            self.lc.snapshot(u, out)
        } else {
            self.lc.delta(u, out)
        };
        if applied == Applied::Rejected {
            self.lc.resync(instrument, "resubscribing book", out);
            self.resubscribe_futures(&product, out);
        }
    }

    /// Books held back for want of a contract size, now publishable.
    pub(super) fn release_held_futures(&mut self, received: Micros, out: &mut Output) {
        let mut held: Vec<(Instrument, String)> = self
            .fut
            .books
            .iter()
            .filter(|(_, b)| b.last_seq.is_some() && !self.lc.is_live(&b.instrument))
            .map(|(p, b)| (b.instrument, p.clone()))
            .collect();
        held.sort();
        for (instrument, product) in held {
            let seq = self.fut.books.get(&product).and_then(|b| b.last_seq);
            let Some(u) = self.futures_snapshot(&product, seq, None, received) else {
                continue;
            };
            if self.lc.snapshot(u, out) == Applied::Rejected {
                self.lc.resync(instrument, "resubscribing book", out);
                self.resubscribe_futures(&product, out);
            }
        }
    }
}
