//! HTX books: spot MBP increments over a `req` image (the shared buffered
//! machine, [`MbpRule`]), swap `high_freq` increments checked by `version`,
//! and whole-book pushes (`depth.step0`, `mbp.refresh`) that each replace
//! the book. Swap books are kept in contracts ([`NativeBook`]) and
//! converted to base sizes as they are published; until the contract size
//! is known they are held back.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::plan::{SubKind, subscribe_text, unsubscribe_text};
use super::wire::{BookTick, Levels};
use super::{Htx, parse_error, unknown};
use crate::model::{Instrument, Level, Micros, OutOfSyncReason, SeqInfo};
use crate::venues::Output;
use crate::venues::buffered::{self, BookSync, Diff, Rule, Snapshot};
use crate::venues::lifecycle::{Applied, Update};
use crate::venues::parse::{contracts_to_base, ms_to_micros, usd_contracts_to_base};

/// HTX's MBP rule (VENUES.md §11: "find the cached increment whose
/// `prevSeqNum` equals the snapshot `seqNum` and apply from there; every
/// later `prevSeqNum` must equal the previous `seqNum`"). A diff's `first`
/// is its `prevSeqNum`, `last` its `seqNum`.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct MbpRule;

impl Rule for MbpRule {
    fn is_stale(&self, d: &Diff, id: u64) -> bool {
        d.last <= id
    }

    fn bridges(&self, d: &Diff, id: u64) -> bool {
        d.first == id
    }

    fn follows(&self, d: &Diff, last: u64) -> Result<(), (u64, u64)> {
        if d.first == last {
            Ok(())
        } else {
            Err((last, d.first))
        }
    }
}

/// What one swap contract is worth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ContractSpec {
    /// USDT-M: base per contract. Coin-M: USD per contract.
    pub value: Decimal,
    pub inverse: bool,
}

impl ContractSpec {
    /// `qty` contracts at `price` in the base asset (checked).
    pub fn to_base(self, qty: Decimal, price: Decimal) -> Option<Decimal> {
        let base = if self.inverse {
            usd_contracts_to_base(qty, self.value, price)?
        } else {
            contracts_to_base(qty, self.value)?
        };
        Some(base.normalize())
    }
}

/// A book in the venue's units (contracts for swaps).
#[derive(Clone, Debug, Default)]
struct NativeBook {
    bids: BTreeMap<Decimal, Decimal>,
    asks: BTreeMap<Decimal, Decimal>,
}

impl NativeBook {
    fn replace(&mut self, bids: &[Level], asks: &[Level]) {
        self.bids.clear();
        self.asks.clear();
        self.apply(bids, asks);
    }

    fn apply(&mut self, bids: &[Level], asks: &[Level]) {
        for (side, levels) in [(&mut self.bids, bids), (&mut self.asks, asks)] {
            for l in levels {
                if l.size.is_zero() {
                    side.remove(&l.price);
                } else {
                    side.insert(l.price, l.size);
                }
            }
        }
    }
}

/// One book being kept.
pub(super) struct Book {
    mbp: BookSync<MbpRule>,
    /// The MBP channel its increments come on, for the `req` image.
    mbp_topic: Option<String>,
    native: NativeBook,
    /// The native book is whole (a snapshot and every update since).
    synced: bool,
    /// `high_freq`: the last `version` applied.
    version: Option<u64>,
    /// `high_freq`: the channel, to resubscribe after a gap.
    depth_topic: Option<String>,
}

impl Book {
    fn new() -> Self {
        Book {
            mbp: BookSync::new(MbpRule),
            mbp_topic: None,
            native: NativeBook::default(),
            synced: false,
            version: None,
            depth_topic: None,
        }
    }
}

/// Converted levels, or the first level that could not be converted.
fn convert(spec: ContractSpec, levels: &[Level]) -> Result<Vec<Level>, Level> {
    levels
        .iter()
        .map(|l| match spec.to_base(l.size, l.price) {
            Some(size) => Ok(Level::new(l.price, size)),
            None => Err(*l),
        })
        .collect()
}

impl Htx {
    fn book(&mut self, i: Instrument) -> &mut Book {
        self.books.entry(i).or_insert_with(Book::new)
    }

    /// Forget what the book held: its connection opened (`open`) or closed.
    pub(super) fn reset_book(&mut self, i: Instrument, open: bool) {
        let b = self.book(i);
        if open {
            // The image is asked for once increments are buffered.
            b.mbp.open_without_request();
        } else {
            b.mbp.close();
        }
        b.native = NativeBook::default();
        b.synced = false;
        b.version = None;
    }

    /// The book's data arrives on `url`. A book is kept from one connection
    /// at a time: data for it on another connection than the one carrying
    /// it starts it again there (what it held came from the other stream).
    fn claim(&mut self, i: Instrument, url: &str, out: &mut Output) {
        let elsewhere = self.lc.conn(&i).is_some_and(|c| c != url);
        if elsewhere {
            self.reset_book(i, true);
            self.lc.subscribing(i, url, out);
        } else {
            self.lc.carried_by(i, url, out);
        }
    }

    /// `depth.step0` / `mbp.refresh`: the whole book, every push.
    pub(super) fn on_full_book(
        &mut self,
        url: &str,
        i: Instrument,
        tick: &RawValue,
        ts: Option<i64>,
        received: Micros,
        out: &mut Output,
    ) {
        let t: BookTick = match serde_json::from_str(tick.get()) {
            Ok(t) => t,
            Err(e) => return self.bad_book(i, format!("{i} depth: {e}"), out),
        };
        // Delisted contracts keep pushing ticks without levels: nothing changes.
        let (Some(Levels(bids)), Some(Levels(asks))) = (t.bids, t.asks) else {
            return;
        };
        self.claim(i, url, out);
        let exchange_ts = t.ts.or(ts).and_then(ms_to_micros);
        if i.is_perp() {
            let b = self.book(i);
            b.native.replace(&bids, &asks);
            b.synced = true;
            b.version = None;
            b.depth_topic = None;
            return self.publish_native(i, SeqInfo::default(), exchange_ts, received, out);
        }
        let u = Update {
            instrument: i,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts,
            received,
        };
        if self.lc.snapshot(u, out) == Applied::Rejected {
            self.lc
                .resync(i, "the next whole-book push replaces it", out);
        }
    }

    /// A spot MBP increment.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_mbp(
        &mut self,
        url: &str,
        i: Instrument,
        ch: &str,
        tick: &RawValue,
        ts: Option<i64>,
        received: Micros,
        out: &mut Output,
    ) {
        let t: BookTick = match serde_json::from_str(tick.get()) {
            Ok(t) => t,
            Err(e) => return self.bad_book(i, format!("{ch}: {e}"), out),
        };
        let (Some(seq), Some(prev)) = (t.seq_num, t.prev_seq_num) else {
            return self.bad_book(i, format!("{ch}: increment without seqNum/prevSeqNum"), out);
        };
        let diff = Diff {
            first: prev,
            last: seq,
            prev_last: None,
            bids: t.bids.map(|l| l.0).unwrap_or_default(),
            asks: t.asks.map(|l| l.0).unwrap_or_default(),
            exchange_ts: t.ts.or(ts).and_then(ms_to_micros),
            received,
        };
        self.claim(i, url, out);
        let mut fx = std::mem::take(&mut self.effects);
        let b = self.book(i);
        b.mbp_topic = Some(ch.to_string());
        b.mbp.on_diff(diff, &mut fx);
        self.publish_mbp(url, i, &mut fx, out);
        self.effects = fx;
    }

    /// The answer to a `req`: the MBP image.
    pub(super) fn on_rep(
        &mut self,
        url: &str,
        rep: &str,
        data: Option<&RawValue>,
        env: &super::Envelope,
        received: Micros,
        out: &mut Output,
    ) {
        let parts = rep.strip_prefix("market.").and_then(|r| r.split_once('.'));
        let Some((code, channel)) = parts.filter(|(_, c)| c.starts_with("mbp.")) else {
            return unknown(out, format!("reply to req {rep}"));
        };
        let Some(i) = self.resolve(code).filter(|i| !i.is_perp()) else {
            return unknown(out, format!("reply to req {rep}"));
        };
        if env.status.as_deref() != Some("ok") {
            // The machine asks again when the next increment finds no image.
            return unknown(out, format!("req {rep} refused ({channel})"));
        }
        let t: Option<BookTick> = data.and_then(|d| serde_json::from_str(d.get()).ok());
        let Some((seq, t)) = t.and_then(|t| Some((t.seq_num?, t))) else {
            return self.bad_book(i, format!("req {rep}: no image"), out);
        };
        let snap = Snapshot {
            last_update_id: seq,
            bids: t.bids.map(|l| l.0).unwrap_or_default(),
            asks: t.asks.map(|l| l.0).unwrap_or_default(),
            exchange_ts: env.ts.and_then(super::wire::millis).and_then(ms_to_micros),
            received,
        };
        self.claim(i, url, out);
        let mut fx = std::mem::take(&mut self.effects);
        let b = self.book(i);
        if b.mbp_topic.is_none() {
            b.mbp_topic = Some(rep.to_string());
        }
        b.mbp.on_snapshot(snap, &mut fx);
        self.publish_mbp(url, i, &mut fx, out);
        self.effects = fx;
    }

    fn publish_mbp(
        &mut self,
        url: &str,
        i: Instrument,
        fx: &mut Vec<buffered::Effect>,
        out: &mut Output,
    ) {
        let Some(b) = self.books.get_mut(&i) else {
            return;
        };
        let topic = b.mbp_topic.clone();
        buffered::publish(&mut b.mbp, &mut self.lc, i, fx, out, |_stale, out| {
            if let Some(topic) = &topic {
                let req = serde_json::json!({"req": topic, "id": topic}).to_string();
                out.send(url, req);
            }
        });
    }

    /// A swap `depth.size_$n.high_freq` push.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_high_freq(
        &mut self,
        url: &str,
        i: Instrument,
        ch: &str,
        tick: &RawValue,
        ts: Option<i64>,
        received: Micros,
        out: &mut Output,
    ) {
        let t: BookTick = match serde_json::from_str(tick.get()) {
            Ok(t) => t,
            Err(e) => return self.bad_book(i, format!("{ch}: {e}"), out),
        };
        let Some(version) = t.version else {
            return self.bad_book(i, format!("{ch}: push without version"), out);
        };
        self.claim(i, url, out);
        let exchange_ts = t.ts.or(ts).and_then(ms_to_micros);
        let bids = t.bids.map(|l| l.0).unwrap_or_default();
        let asks = t.asks.map(|l| l.0).unwrap_or_default();
        let seq = SeqInfo {
            first: None,
            last: Some(version),
        };
        let b = self.book(i);
        b.depth_topic = Some(ch.to_string());
        match t.event.as_deref() {
            // `data_type: snapshot` pushes carry no event: whole books too.
            None | Some("snapshot") => {
                b.native.replace(&bids, &asks);
                b.synced = true;
                b.version = Some(version);
                self.publish_native(i, seq, exchange_ts, received, out)
            }
            Some("update") => {
                let (true, Some(last)) = (b.synced, b.version) else {
                    return; // before the snapshot that starts it
                };
                if version != last.saturating_add(1) {
                    self.lc.gap(i, last.saturating_add(1), version, out);
                    return self.resubscribe(i, out);
                }
                b.version = Some(version);
                b.native.apply(&bids, &asks);
                if !self.lc.is_live(&i) {
                    // Held for its contract size: whole when released.
                    return self.publish_native(i, seq, exchange_ts, received, out);
                }
                if bids.is_empty() && asks.is_empty() {
                    return; // only advances the version
                }
                let Some(spec) = self.contracts.get(&i).copied() else {
                    return;
                };
                let (bids, asks) = match (convert(spec, &bids), convert(spec, &asks)) {
                    (Ok(b), Ok(a)) => (b, a),
                    (Err(l), _) | (_, Err(l)) => return self.unconvertible(i, l, out),
                };
                let u = Update {
                    instrument: i,
                    bids,
                    asks,
                    seq,
                    exchange_ts,
                    received,
                };
                if self.lc.delta(u, out) == Applied::Rejected {
                    self.lc.resync(i, "resubscribing the depth channel", out);
                    self.resubscribe(i, out);
                }
            }
            Some(other) => unknown(out, format!("{ch}: event `{other}`")),
        }
    }

    /// Publish a swap's whole native book, converted; nothing while its
    /// contract size is unknown (the book stays syncing until then).
    fn publish_native(
        &mut self,
        i: Instrument,
        seq: SeqInfo,
        exchange_ts: Option<Micros>,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(spec) = self.contracts.get(&i).copied() else {
            return;
        };
        let Some(b) = self.books.get(&i) else {
            return;
        };
        let side = |m: &BTreeMap<Decimal, Decimal>, rev: bool| -> Vec<Level> {
            let levels = m.iter().map(|(p, s)| Level::new(*p, *s));
            if rev {
                levels.rev().collect()
            } else {
                levels.collect()
            }
        };
        let (bids, asks) = (side(&b.native.bids, true), side(&b.native.asks, false));
        let (bids, asks) = match (convert(spec, &bids), convert(spec, &asks)) {
            (Ok(b), Ok(a)) => (b, a),
            (Err(l), _) | (_, Err(l)) => return self.unconvertible(i, l, out),
        };
        let u = Update {
            instrument: i,
            bids,
            asks,
            seq,
            exchange_ts,
            received,
        };
        if self.lc.snapshot(u, out) == Applied::Rejected {
            self.lc.resync(i, "resubscribing the depth channel", out);
            self.resubscribe(i, out);
        }
    }

    /// A level whose base size overflows: the data is unusable, resync.
    fn unconvertible(&mut self, i: Instrument, l: Level, out: &mut Output) {
        let why = format!("{i}: {} contracts at {} do not convert", l.size, l.price);
        out.parse_error(super::VENUE, Some(i), why.clone());
        self.lc.fail(i, OutOfSyncReason::Venue(why), out);
        self.lc.resync(i, "resubscribing the depth channel", out);
        self.resubscribe(i, out);
    }

    /// A book push that does not parse: counted, and the book resyncs.
    fn bad_book(&mut self, i: Instrument, why: String, out: &mut Output) {
        parse_error(out, why.clone());
        if !self.lc.is_live(&i) {
            return;
        }
        self.lc.fail(
            i,
            OutOfSyncReason::Venue(format!("unparsable push: {why}")),
            out,
        );
        if i.is_perp() {
            self.lc.resync(i, "resubscribing the depth channel", out);
            self.resubscribe(i, out);
        } else {
            let b = self.book(i);
            b.mbp.invalidate();
            self.lc.resync(i, "new req image", out);
        }
    }

    /// A swap book that broke: `high_freq` topics are unsubscribed and
    /// subscribed again on their connection (a subscription starts with a
    /// snapshot); whole-book channels mend themselves with the next push.
    pub(super) fn resubscribe(&mut self, i: Instrument, out: &mut Output) {
        let url = self.lc.conn(&i).map(str::to_string);
        let b = self.book(i);
        b.synced = false;
        b.version = None;
        let (Some(url), Some(topic)) = (url, b.depth_topic.clone()) else {
            return;
        };
        let (a, z) = (self.id(), self.id());
        out.send(&url, unsubscribe_text(&topic, SubKind::Incremental, a));
        out.send(&url, subscribe_text(&topic, SubKind::Incremental, z));
    }

    /// Base size of `qty` of `i` at `price`: spot as is, swaps converted
    /// (`None` while the contract size is unknown).
    pub(super) fn to_base(&self, i: &Instrument, qty: Decimal, price: Decimal) -> Option<Decimal> {
        if !i.is_perp() {
            return Some(qty);
        }
        self.contracts.get(i)?.to_base(qty, price)
    }
}
