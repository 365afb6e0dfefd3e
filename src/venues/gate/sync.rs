//! Gate books, in the venue's units (contracts for futures), under either
//! of Gate's two documented procedures:
//!
//! - `spot.obu` / `futures.obu` (live; announcements 44946, 45317): a
//!   `full:true` push replaces the book and sets its id to `u` (the first
//!   push is one; more may come at any time); an incremental push applies
//!   only when `U` = id + 1, then id := `u`; otherwise unsubscribe and
//!   subscribe again for a fresh full push.
//! - legacy `spot.order_book_update` / `futures.order_book_update` over the
//!   REST snapshot `with_id=true` (the six steps of "How to maintain a local
//!   order book"; cryptofeed's recordings): the shared buffered machine with
//!   [`Legacy`] as its rule: drop `u` < id + 1, the first applied has
//!   `U` ≤ id + 1 ≤ `u`, after that `U` > last `u` + 1 is a gap and a new
//!   snapshot is fetched. Since 2025 this stream also sends irregular
//!   `full:true` books: each replaces the book and sets the id to its `u`.
//!   Empty updates still advance the id.
//!
//! Futures sizes are contracts; each book is kept in contracts and
//! published in the base asset (`quanto_multiplier` base per contract) once
//! the contract list gave the multiplier: until then it is held back.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::wire::{BookPush, level_text};
use super::{Gate, Market, parse_error};
use crate::model::{BookSide, Instrument, Level, Micros, OutOfSyncReason, SeqInfo};
use crate::venues::Output;
use crate::venues::buffered::{BookSync, Diff, Effect, Rule, Snapshot};
use crate::venues::lifecycle::{Applied, Update};
use crate::venues::parse::{self, preview};

/// The legacy stream's continuity rule (Gate's six steps).
#[derive(Clone, Copy, Debug)]
pub(super) struct Legacy;

impl Rule for Legacy {
    /// Step 5: `u < baseID + 1` is in the snapshot already.
    fn is_stale(&self, d: &Diff, id: u64) -> bool {
        d.last < id.saturating_add(1)
    }

    /// Step 4: the first to apply holds `baseID + 1`.
    fn bridges(&self, d: &Diff, id: u64) -> bool {
        d.first <= id.saturating_add(1) && id.saturating_add(1) <= d.last
    }

    /// Step 6: `U > last + 1` means updates were lost.
    fn follows(&self, d: &Diff, last: u64) -> Result<(), (u64, u64)> {
        if d.first > last.saturating_add(1) {
            Err((last.saturating_add(1), d.first))
        } else {
            Ok(())
        }
    }
}

/// Which procedure a book follows (the channel its data arrives on).
pub(super) enum Feed {
    /// `*.obu`: the id of the last push applied, `None` until a full one.
    Obu { id: Option<u64> },
    /// Legacy `*.order_book_update` over REST snapshots.
    Legacy(Box<BookSync<Legacy>>),
}

/// One book in the venue's units.
pub(super) struct GateBook {
    pub(super) market: Market,
    pub(super) native: String,
    bids: BTreeMap<Decimal, Decimal>,
    asks: BTreeMap<Decimal, Decimal>,
    pub(super) feed: Feed,
}

impl GateBook {
    pub(super) fn new(market: Market, native: &str, legacy: bool) -> Self {
        GateBook {
            market,
            native: native.to_string(),
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            feed: if legacy {
                Feed::Legacy(Box::new(BookSync::new(Legacy)))
            } else {
                Feed::Obu { id: None }
            },
        }
    }

    pub(super) fn is_legacy(&self) -> bool {
        matches!(self.feed, Feed::Legacy(_))
    }

    /// Whether the venue-unit copy is a whole, current book.
    fn synced(&self) -> bool {
        match &self.feed {
            Feed::Obu { id } => id.is_some(),
            Feed::Legacy(s) => s.is_synced(),
        }
    }

    fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    fn apply(&mut self, bids: &[Level], asks: &[Level]) {
        for (map, levels) in [(&mut self.bids, bids), (&mut self.asks, asks)] {
            for l in levels {
                if l.size.is_zero() {
                    map.remove(&l.price);
                } else {
                    map.insert(l.price, l.size);
                }
            }
        }
    }

    /// The book (re)starts: nothing it held is current.
    pub(super) fn reset_obu(&mut self) {
        self.clear();
        self.feed = Feed::Obu { id: None };
    }
}

/// Levels of a push as decimals, in the venue's units.
fn levels(raw: &[&serde_json::value::RawValue]) -> Result<Vec<Level>, String> {
    raw.iter()
        .map(|r| {
            level_text(r)
                .and_then(|(p, s)| Some(Level::new(parse::decimal(&p)?, parse::decimal(&s)?)))
                .ok_or_else(|| format!("bad level {}", preview(r.get())))
        })
        .collect()
}

impl Gate {
    /// Venue units → base: spot as is, futures × `quanto_multiplier`.
    pub(super) fn to_base(&self, market: Market, native: &str, size: Decimal) -> Option<Decimal> {
        match market {
            Market::Spot => Some(size),
            Market::Futures => {
                let m = self.multipliers.get(native)?;
                parse::contracts_to_base(size, *m).map(|d| d.normalize())
            }
        }
    }

    fn convert(&self, market: Market, native: &str, levels: &[Level]) -> Option<Vec<Level>> {
        levels
            .iter()
            .map(|l| Some(Level::new(l.price, self.to_base(market, native, l.size)?)))
            .collect()
    }

    /// The whole book in the base asset, if it can be converted.
    fn whole(
        &self,
        instrument: Instrument,
        seq: SeqInfo,
        ts: Option<Micros>,
        received: Micros,
    ) -> Option<Update> {
        let b = self.books.get(&instrument)?;
        let side = |m: &BTreeMap<Decimal, Decimal>, side: BookSide| -> Option<Vec<Level>> {
            let levels: Vec<Level> = match side {
                BookSide::Bid => m.iter().rev().map(|(p, s)| Level::new(*p, *s)).collect(),
                BookSide::Ask => m.iter().map(|(p, s)| Level::new(*p, *s)).collect(),
            };
            self.convert(b.market, &b.native, &levels)
        };
        Some(Update {
            instrument,
            bids: side(&b.bids, BookSide::Bid)?,
            asks: side(&b.asks, BookSide::Ask)?,
            seq,
            exchange_ts: ts,
            received,
        })
    }

    /// Publish the whole book (a snapshot, or the release of a held one);
    /// `Rejected` when the lifecycle refused it.
    fn publish_whole(
        &mut self,
        instrument: Instrument,
        seq: SeqInfo,
        ts: Option<Micros>,
        received: Micros,
        out: &mut Output,
    ) -> Applied {
        match self.whole(instrument, seq, ts, received) {
            Some(u) => self.lc.snapshot(u, out),
            None => Applied::NotLive, // held: no contract size yet
        }
    }

    /// A `*.obu` push.
    pub(super) fn on_obu(
        &mut self,
        url: &str,
        instrument: Instrument,
        p: BookPush<'_>,
        received: Micros,
        out: &mut Output,
    ) {
        let (bids, asks) = match (levels(&p.b), levels(&p.a)) {
            (Ok(b), Ok(a)) => (b, a),
            (Err(e), _) | (_, Err(e)) => {
                parse_error(out, format!("{}: {e}", p.s));
                self.lc.fail(
                    instrument,
                    OutOfSyncReason::Venue("unparsable level".into()),
                    out,
                );
                self.lc
                    .resync(instrument, "resubscribing after bad data", out);
                return self.resubscribe_obu(url, instrument, received, out);
            }
        };
        let ts = p.t.and_then(parse::ms_to_micros);
        let Some(b) = self.books.get_mut(&instrument) else {
            return;
        };
        if b.is_legacy() {
            b.reset_obu();
        }
        self.lc.carried_by(instrument, url, out);
        let seq = SeqInfo {
            first: p.first,
            last: p.last,
        };
        if p.full == Some(true) {
            b.clear();
            b.apply(&bids, &asks);
            b.feed = Feed::Obu {
                id: p.last.or(Some(0)),
            };
            if self.publish_whole(instrument, seq, ts, received, out) == Applied::Rejected {
                self.resubscribe_obu(url, instrument, received, out);
            }
            return;
        }
        let Feed::Obu { id: Some(last) } = b.feed else {
            return; // waiting for the full push a subscription brings
        };
        let (Some(first), Some(u)) = (p.first, p.last) else {
            return parse_error(out, format!("{}: update without U/u", p.s));
        };
        if first != last.saturating_add(1) {
            b.feed = Feed::Obu { id: None };
            self.lc.gap(instrument, last.saturating_add(1), first, out);
            return self.resubscribe_obu(url, instrument, received, out);
        }
        b.feed = Feed::Obu { id: Some(u) };
        b.apply(&bids, &asks);
        self.publish_change(
            instrument,
            (bids, asks),
            seq,
            ts,
            received,
            out,
            |a, out| a.resubscribe_obu(url, instrument, received, out),
        );
    }

    /// Publish the change to a synced book: a delta when it is live, the
    /// whole book when it was held back and can now be converted.
    #[allow(clippy::too_many_arguments)]
    fn publish_change(
        &mut self,
        instrument: Instrument,
        (bids, asks): (Vec<Level>, Vec<Level>),
        seq: SeqInfo,
        ts: Option<Micros>,
        received: Micros,
        out: &mut Output,
        resync: impl FnOnce(&mut Self, &mut Output),
    ) {
        let Some(b) = self.books.get(&instrument) else {
            return;
        };
        let (market, native) = (b.market, b.native.clone());
        let applied = if self.lc.is_live(&instrument) {
            if bids.is_empty() && asks.is_empty() {
                return;
            }
            let (Some(bids), Some(asks)) = (
                self.convert(market, &native, &bids),
                self.convert(market, &native, &asks),
            ) else {
                return;
            };
            self.lc.delta(
                Update {
                    instrument,
                    bids,
                    asks,
                    seq,
                    exchange_ts: ts,
                    received,
                },
                out,
            )
        } else {
            self.publish_whole(instrument, seq, ts, received, out)
        };
        if applied == Applied::Rejected {
            resync(self, out);
        }
    }

    /// `unsubscribe` + `subscribe` of the book's `*.obu` stream (the
    /// lifecycle has been told why).
    pub(super) fn resubscribe_obu(
        &mut self,
        url: &str,
        instrument: Instrument,
        now: Micros,
        out: &mut Output,
    ) {
        let Some(b) = self.books.get_mut(&instrument) else {
            return;
        };
        b.reset_obu();
        let (market, stream) = (b.market, super::obu_stream(&b.native));
        let conn = self
            .lc
            .conn(&instrument)
            .map(str::to_string)
            .unwrap_or_else(|| url.to_string());
        for event in ["unsubscribe", "subscribe"] {
            out.send(
                &conn,
                super::request(
                    now,
                    market.obu_channel(),
                    event,
                    std::slice::from_ref(&stream),
                ),
            );
        }
    }

    /// A legacy `*.order_book_update` push.
    pub(super) fn on_legacy(
        &mut self,
        url: &str,
        instrument: Instrument,
        p: BookPush<'_>,
        received: Micros,
        out: &mut Output,
    ) {
        let (bids, asks) = match (levels(&p.b), levels(&p.a)) {
            (Ok(b), Ok(a)) => (b, a),
            (Err(e), _) | (_, Err(e)) => return parse_error(out, format!("{}: {e}", p.s)),
        };
        let Some(b) = self.books.get_mut(&instrument) else {
            return;
        };
        if !b.is_legacy() {
            *b = GateBook::new(b.market, &b.native.clone(), true);
        }
        self.lc.carried_by(instrument, url, out);
        let Feed::Legacy(sync) = &mut b.feed else {
            return;
        };
        let ts = p.t.and_then(parse::ms_to_micros);
        let mut fx = Vec::new();
        if p.full == Some(true) {
            // A whole book in the diff stream: it replaces everything.
            let Some(u) = p.last else {
                return parse_error(out, format!("{}: full book without u", p.s));
            };
            sync.open_without_request();
            sync.on_snapshot(
                Snapshot {
                    last_update_id: u,
                    bids,
                    asks,
                    exchange_ts: ts,
                    received,
                },
                &mut fx,
            );
        } else {
            let (Some(first), Some(last)) = (p.first, p.last) else {
                return parse_error(out, format!("{}: update without U/u", p.s));
            };
            let diff = Diff {
                first,
                last,
                prev_last: None,
                bids,
                asks,
                exchange_ts: ts,
                received,
            };
            sync.on_diff(diff, &mut fx);
        }
        self.legacy_effects(instrument, fx, out);
    }

    /// A REST snapshot (`with_id=true`) for a legacy book.
    pub(super) fn on_rest_snapshot(
        &mut self,
        instrument: Instrument,
        snap: Snapshot,
        out: &mut Output,
    ) {
        let Some(b) = self.books.get_mut(&instrument) else {
            return;
        };
        if !b.is_legacy() {
            *b = GateBook::new(b.market, &b.native.clone(), true);
        }
        let Feed::Legacy(sync) = &mut b.feed else {
            return;
        };
        let mut fx = Vec::new();
        sync.on_snapshot(snap, &mut fx);
        self.legacy_effects(instrument, fx, out);
    }

    /// Carry out the legacy machine's effects: the venue-unit copy follows
    /// every snapshot and diff; the lifecycle gets them in the base asset.
    pub(super) fn legacy_effects(
        &mut self,
        instrument: Instrument,
        fx: Vec<Effect>,
        out: &mut Output,
    ) {
        let mut rejected = false;
        for effect in fx {
            if rejected {
                continue;
            }
            match effect {
                Effect::Snapshot(s) => {
                    let seq = SeqInfo {
                        first: None,
                        last: Some(s.last_update_id),
                    };
                    if let Some(b) = self.books.get_mut(&instrument) {
                        b.clear();
                        b.apply(&s.bids, &s.asks);
                    }
                    rejected = self.publish_whole(instrument, seq, s.exchange_ts, s.received, out)
                        == Applied::Rejected;
                }
                Effect::Delta(d) => {
                    let seq = SeqInfo {
                        first: Some(d.first),
                        last: Some(d.last),
                    };
                    if let Some(b) = self.books.get_mut(&instrument) {
                        b.apply(&d.bids, &d.asks);
                    }
                    let mut failed = false;
                    self.publish_change(
                        instrument,
                        (d.bids, d.asks),
                        seq,
                        d.exchange_ts,
                        d.received,
                        out,
                        |_, _| failed = true,
                    );
                    rejected = failed;
                }
                Effect::Gap { expected, got } => self.lc.gap(instrument, expected, got, out),
                Effect::SnapshotTooOld => self.lc.snapshot_superseded(instrument, out),
                Effect::RequestSnapshot { .. } => {
                    if let Some(url) = self.snapshot_url(&instrument) {
                        out.http_get(url);
                    }
                }
            }
        }
        if rejected {
            if let Some(Feed::Legacy(sync)) = self.books.get_mut(&instrument).map(|b| &mut b.feed) {
                sync.invalidate();
            }
            self.lc
                .resync(instrument, "new snapshot after invalid data", out);
            if let Some(url) = self.snapshot_url(&instrument) {
                out.http_get(url);
            }
        }
    }

    /// Books held back for want of a contract size, now convertible.
    pub(super) fn release_held_books(&mut self, received: Micros, out: &mut Output) {
        let mut held: Vec<Instrument> = self
            .books
            .iter()
            .filter(|(i, b)| {
                b.market == Market::Futures
                    && b.synced()
                    && !self.lc.is_live(i)
                    && self
                        .whole(**i, SeqInfo::default(), None, received)
                        .is_some()
            })
            .map(|(i, _)| *i)
            .collect();
        held.sort();
        for i in held {
            if self.publish_whole(i, SeqInfo::default(), None, received, out) == Applied::Rejected {
                let url = self.lc.conn(&i).map(str::to_string).unwrap_or_default();
                match self.books.get(&i).map(GateBook::is_legacy) {
                    Some(true) => {
                        self.legacy_effects(i, vec![Effect::RequestSnapshot { stale: false }], out)
                    }
                    _ => self.resubscribe_obu(&url, i, received, out),
                }
            }
        }
    }
}
