//! The engine: sole owner of every book; derives CBBO, aggregated books,
//! arbitrage, liquidation and trade statistics and health, and publishes an
//! immutable [`Snapshot`]. Synchronous at its core (no async inside); the
//! async loop around it lives in [`runner`].
//!
//! Work per input is incremental: an event marks the books it touched, and at
//! the end of [`Engine::handle`] only those books' cached tops, their key's
//! CBBO and the venue pairs involving them are recomputed. Everything shown
//! but not needed for that (aggregated books, labels, statistics views) is
//! built in [`Engine::snapshot`], at most once per UI frame.

pub mod aggregate;
pub mod arb;
pub mod books;
pub mod cbbo;
pub mod config;
pub mod groups;
pub mod health;
pub mod input;
pub mod liquidations;
pub mod runner;
pub mod snapshot;
pub mod trades;
pub mod usd;
pub mod window;

pub use config::EngineConfig;
pub use input::{EngineInput, REST_CONN};
pub use runner::{EngineControl, INPUT_CAPACITY};
pub use snapshot::Snapshot;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::book::{Applied, OrderBook};
use crate::model::{
    BookState, FundingUpdate, Instrument, InstrumentInfo, MarketEvent, Micros, Venue,
};

use arb::{Fees, PairCtx, PairQuote, PairTrack, Thresholds, walk_pair};
use books::{Books, ConnId, SlotId};
use cbbo::{Candidate, CbboTop, Top};
use groups::QuoteGroups;
use health::HealthTracker;
use liquidations::LiquidationStats;
use snapshot::{
    ArbOpportunity, ArbPairStats, Cbbo, CbboSide, ClosedArb, ConnHealth, ConnState, InstrumentView,
    VenueBook,
};
use trades::TradeStats;
use usd::UsdRates;

/// CBBO mids are sampled at most this often (engine time) for sparklines.
const MID_SAMPLE_EVERY: Micros = 250_000;
/// Mid samples kept per key (~30 s at the fastest sampling).
const MID_HISTORY_LEN: usize = 120;
/// A book's mid goes to the USD rates at most this often.
const USD_MID_EVERY: Micros = 1_000_000;
/// Without data, a snapshot is still due this often so ages and rolling
/// windows move on screen.
const IDLE_REFRESH: Micros = 1_000_000;
/// Window of `InstrumentView::liquidations_5m_usd`.
const LIQ_WINDOW: Micros = 5 * 60 * 1_000_000;

/// Counters for the headless summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineTotals {
    pub frames: u64,
    pub parse_errors: u64,
    pub unknown_messages: u64,
    /// Book events (snapshots and deltas) received from adapters.
    pub book_updates: u64,
    pub gaps: u64,
    pub resyncs: u64,
    pub checksum_ok: u64,
    pub checksum_failed: u64,
    /// Updates that left a book crossed (the book went out of sync).
    pub crossed_books: u64,
}

/// A book as [`Engine::books`] lists it.
#[derive(Clone, Debug)]
pub struct BookRef<'a> {
    pub venue: Venue,
    pub instrument: Instrument,
    /// The state shown: `OutOfSync(Stale)` when its connection went silent.
    pub state: BookState,
    pub book: &'a OrderBook,
}

/// Everything the engine keeps per view key.
#[derive(Clone, Debug)]
struct KeyState {
    key: Instrument,
    slots: Vec<SlotId>,
    cbbo: CbboTop,
    /// Ordered pairs by position in `slots`: `pairs[buy * n + sell]`.
    pairs: Vec<PairTrack>,
    mids: VecDeque<f64>,
    last_mid_sample: Option<Micros>,
}

impl KeyState {
    fn new(key: Instrument) -> Self {
        KeyState {
            key,
            slots: Vec::new(),
            cbbo: CbboTop::default(),
            pairs: Vec::new(),
            mids: VecDeque::new(),
            last_mid_sample: None,
        }
    }

    /// Append a book, growing the pair matrix and keeping existing pairs.
    fn add_slot(&mut self, slot: SlotId) {
        let old = self.slots.len();
        let n = old + 1;
        let mut pairs = vec![PairTrack::default(); n * n];
        for (i, track) in std::mem::take(&mut self.pairs).into_iter().enumerate() {
            let (b, s) = (i / old, i % old);
            pairs[b * n + s] = track;
        }
        self.pairs = pairs;
        self.slots.push(slot);
    }

    fn sample_mid(&mut self, now: Micros) {
        let due = self
            .last_mid_sample
            .is_none_or(|t| now - t >= MID_SAMPLE_EVERY);
        if !due {
            return;
        }
        if let Some(mid) = self.cbbo.mid().and_then(|m| m.to_f64()) {
            self.mids.push_back(mid);
            if self.mids.len() > MID_HISTORY_LEN {
                self.mids.pop_front();
            }
            self.last_mid_sample = Some(now);
        }
    }
}

pub struct Engine {
    cfg: EngineConfig,
    groups: QuoteGroups,
    fees: Fees,
    thresholds: Thresholds,
    books: Books,
    keys: Vec<KeyState>,
    key_index: HashMap<Instrument, usize>,
    /// Latest merged derivatives data per venue and instrument.
    funding: BTreeMap<(Venue, Instrument), FundingUpdate>,
    /// Latest instrument list per venue (passed through to snapshots).
    instrument_lists: BTreeMap<Venue, Arc<Vec<InstrumentInfo>>>,
    /// Closed opportunities, newest first.
    history: VecDeque<ClosedArb>,
    usd: UsdRates,
    liqs: LiquidationStats,
    trades: TradeStats,
    health: HealthTracker,
    /// Latest time seen (receive times, connection events, ticks).
    now: Micros,
    version: u64,
    /// Something changed since the last snapshot.
    changed: bool,
    last_snapshot_now: Micros,
    book_updates: u64,
    crossed_books: u64,
    /// Books touched by the input being handled.
    dirty: Vec<SlotId>,
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Self {
        Engine {
            groups: QuoteGroups::new(&cfg.quote_groups),
            fees: Fees::from_config(&cfg),
            thresholds: Thresholds::from_config(&cfg),
            books: Books::default(),
            keys: Vec::new(),
            key_index: HashMap::new(),
            funding: BTreeMap::new(),
            instrument_lists: BTreeMap::new(),
            history: VecDeque::new(),
            usd: UsdRates::new(),
            liqs: LiquidationStats::new(cfg.liq_tape_len),
            trades: TradeStats::new(cfg.trade_tape_len),
            health: HealthTracker::new(),
            now: 0,
            version: 0,
            changed: false,
            last_snapshot_now: 0,
            book_updates: 0,
            crossed_books: 0,
            dirty: Vec::new(),
            cfg,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Latest time seen.
    pub fn now(&self) -> Micros {
        self.now
    }

    /// Something changed since the last snapshot (a new one is worth building).
    pub fn has_changes(&self) -> bool {
        self.changed
    }

    /// Apply new settings. Fees, thresholds and staleness apply at once to
    /// every book; a change of quote groups regroups the books (open
    /// opportunities close with "quote groups changed" and pair statistics
    /// restart). Tape lengths apply only at start.
    pub fn set_config(&mut self, cfg: EngineConfig) {
        let regroup = cfg.quote_groups != self.cfg.quote_groups;
        let stale_changed = cfg.stale_after != self.cfg.stale_after;
        self.groups = QuoteGroups::new(&cfg.quote_groups);
        self.fees = Fees::from_config(&cfg);
        self.thresholds = Thresholds::from_config(&cfg);
        self.cfg = cfg;
        self.history.truncate(self.cfg.arb_history);
        if regroup {
            self.regroup();
        }
        if stale_changed {
            let dirty = &mut self.dirty;
            self.books
                .reset_staleness(self.now, self.cfg.stale_after, |s| dirty.push(s));
        }
        self.dirty.extend(0..self.books.slots().len());
        self.flush_dirty();
        self.changed = true;
    }

    pub fn set_queue_depth(&mut self, depth: usize) {
        self.health.set_queue_depth(depth);
    }

    pub fn handle(&mut self, input: EngineInput) {
        match input {
            EngineInput::Feed {
                venue,
                conn,
                received,
                bytes,
                events,
            } => {
                self.advance(received);
                self.health.on_feed(venue, &conn, received, bytes, &events);
                let cid = self.books.conn_id(venue, &conn, received);
                if let Some(revived) = self.books.heard(cid, received) {
                    self.dirty.extend_from_slice(revived);
                }
                // Books belong to the stream that keeps them current; a REST
                // snapshot says nothing about whether that stream is alive.
                let carrier = (conn != REST_CONN).then_some(cid);
                for event in events {
                    self.apply_event(carrier, event);
                }
                self.changed = true;
            }
            EngineInput::Conn {
                venue,
                conn,
                state,
                at,
            } => {
                self.advance(at);
                let cid = self.books.conn_id(venue, &conn, at);
                if matches!(
                    state,
                    ConnState::Disconnected { .. } | ConnState::Backoff { .. }
                ) {
                    let marked = self.books.disconnect(cid);
                    self.dirty.extend(marked);
                }
                self.health.on_conn(venue, &conn, state, at);
                self.changed = true;
            }
            EngineInput::Tick { now } => {
                self.advance(now);
                if self.now - self.last_snapshot_now >= IDLE_REFRESH {
                    self.changed = true;
                }
            }
            EngineInput::Forget {
                venue,
                instruments,
                venue_stopped,
            } => {
                self.forget(venue, &instruments);
                if venue_stopped {
                    self.health.forget_venue(venue);
                }
                self.changed = true;
            }
        }
        let dirty = &mut self.dirty;
        self.books
            .check_stale(self.now, self.cfg.stale_after, |s| dirty.push(s));
        self.flush_dirty();
    }

    fn advance(&mut self, t: Micros) {
        self.now = self.now.max(t);
    }

    fn apply_event(&mut self, conn: Option<ConnId>, event: MarketEvent) {
        match event {
            MarketEvent::Book(update) => {
                let slot = self.slot_for(update.venue, update.instrument);
                if let Some(conn) = conn {
                    self.books.attach(slot, conn);
                }
                self.book_updates += 1;
                match self.books.slot_mut(slot).book.apply(&update) {
                    Applied::Ok => self.dirty.push(slot),
                    Applied::Crossed => {
                        self.crossed_books += 1;
                        tracing::debug!(
                            "{} {} crossed after an update; out of sync until rebuilt",
                            update.venue,
                            update.instrument
                        );
                        self.dirty.push(slot);
                    }
                    Applied::IgnoredNotLive => {}
                }
            }
            MarketEvent::BookState {
                venue,
                instrument,
                state,
            } => {
                let slot = self.slot_for(venue, instrument);
                if let Some(conn) = conn {
                    self.books.attach(slot, conn);
                }
                self.books.slot_mut(slot).book.set_state(state);
                self.dirty.push(slot);
            }
            MarketEvent::Trade(t) => {
                let key = self.groups.key_of(&t.instrument);
                let usd = self.usd.notional_usd(&t.instrument, t.price, t.size);
                self.trades.record(&t, key, usd, self.cfg.large_trade_usd);
            }
            MarketEvent::Liquidation(l) => {
                let usd = self.usd.notional_usd(&l.instrument, l.price, l.size);
                self.liqs.record(&l, usd);
            }
            MarketEvent::Funding(f) => {
                let merged = self.funding.entry((f.venue, f.instrument)).or_default();
                let u = f.update;
                if u.funding_rate.is_some() {
                    merged.funding_rate = u.funding_rate;
                }
                if u.next_funding.is_some() {
                    merged.next_funding = u.next_funding;
                }
                if u.open_interest.is_some() {
                    merged.open_interest = u.open_interest;
                }
                if u.mark_price.is_some() {
                    merged.mark_price = u.mark_price;
                }
                if u.index_price.is_some() {
                    merged.index_price = u.index_price;
                }
            }
            // Instrument lists are for the UI's completion.
            MarketEvent::Instruments { venue, list } => {
                self.instrument_lists.insert(venue, Arc::new(list));
            }
            // Counted by health.
            MarketEvent::Incident { .. } => {}
        }
    }

    fn key_for(&mut self, key: Instrument) -> usize {
        if let Some(&k) = self.key_index.get(&key) {
            return k;
        }
        self.keys.push(KeyState::new(key));
        self.key_index.insert(key, self.keys.len() - 1);
        self.keys.len() - 1
    }

    fn slot_for(&mut self, venue: Venue, instrument: Instrument) -> SlotId {
        if let Some(id) = self.books.slot_id(venue, &instrument) {
            return id;
        }
        let k = self.key_for(self.groups.key_of(&instrument));
        let pos = self.keys[k].slots.len();
        let id = self.books.insert(venue, instrument, k, pos);
        self.keys[k].add_slot(id);
        id
    }

    /// Drops the books of `instruments` on `venue` (see
    /// [`EngineInput::Forget`]): open opportunities involving them close,
    /// the remaining books are renumbered, and a key left without books
    /// goes (it still shows while watched, as an instrument with no data).
    fn forget(&mut self, venue: Venue, instruments: &[Instrument]) {
        for i in instruments {
            self.funding.remove(&(venue, *i));
        }
        let gone: Vec<SlotId> = instruments
            .iter()
            .filter_map(|i| self.books.slot_id(venue, i))
            .collect();
        if gone.is_empty() {
            return;
        }
        let now = self.now;
        for &s in &gone {
            let slot = self.books.slot(s);
            let reason = format!("{venue} {} no longer watched", slot.instrument);
            let ks = &mut self.keys[slot.key];
            let n = ks.slots.len();
            for o in 0..n {
                for pair in [slot.pos * n + o, o * n + slot.pos] {
                    if let Some(closed) = ks.pairs[pair].close(now, reason.clone()) {
                        self.history.push_front(closed);
                    }
                }
            }
        }
        self.history.truncate(self.cfg.arb_history);
        let map = self.books.remove(&gone);
        self.key_index.clear();
        for mut ks in std::mem::take(&mut self.keys) {
            let n = ks.slots.len();
            let kept: Vec<usize> = (0..n).filter(|&p| map[ks.slots[p]].is_some()).collect();
            if kept.is_empty() {
                self.trades.forget_key(&ks.key);
                continue;
            }
            let m = kept.len();
            let mut pairs = vec![PairTrack::default(); m * m];
            for (b, &old_b) in kept.iter().enumerate() {
                for (s, &old_s) in kept.iter().enumerate() {
                    pairs[b * m + s] = std::mem::take(&mut ks.pairs[old_b * n + old_s]);
                }
            }
            ks.slots = kept.iter().filter_map(|&p| map[ks.slots[p]]).collect();
            ks.pairs = pairs;
            // Recomputed below from the remaining books (it named slot ids).
            ks.cbbo = CbboTop::default();
            let k = self.keys.len();
            for (pos, &s) in ks.slots.iter().enumerate() {
                let slot = self.books.slot_mut(s);
                slot.key = k;
                slot.pos = pos;
            }
            self.key_index.insert(ks.key, k);
            self.keys.push(ks);
        }
        self.dirty.extend(0..self.books.slots().len());
    }

    /// Rebuild the key table after the quote groups changed.
    fn regroup(&mut self) {
        let now = self.now;
        for ks in &mut self.keys {
            for track in &mut ks.pairs {
                if let Some(closed) = track.close(now, "quote groups changed".to_string()) {
                    self.history.push_front(closed);
                }
            }
        }
        self.history.truncate(self.cfg.arb_history);
        self.keys.clear();
        self.key_index.clear();
        for id in 0..self.books.slots().len() {
            let key = self.groups.key_of(&self.books.slot(id).instrument);
            let k = self.key_for(key);
            let pos = self.keys[k].slots.len();
            self.keys[k].add_slot(id);
            let slot = self.books.slot_mut(id);
            slot.key = k;
            slot.pos = pos;
        }
    }

    /// Recompute what the touched books feed: their tops, their key's CBBO and
    /// the venue pairs involving them.
    fn flush_dirty(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        let books = &self.books;
        dirty.sort_unstable_by_key(|&s| (books.slot(s).key, s));
        dirty.dedup();
        let mut start = 0;
        while start < dirty.len() {
            let key = self.books.slot(dirty[start]).key;
            let end = dirty[start..]
                .iter()
                .position(|&s| self.books.slot(s).key != key)
                .map_or(dirty.len(), |n| start + n);
            self.recompute_key(key, &dirty[start..end]);
            start = end;
        }
        dirty.clear();
        self.dirty = dirty;
        self.changed = true;
    }

    fn recompute_key(&mut self, k: usize, touched: &[SlotId]) {
        let now = self.now;
        for &s in touched {
            let usable = self.books.usable(s);
            let slot = self.books.slot_mut(s);
            slot.top = Top::of(&slot.book, usable, self.fees.of(slot.venue));
            let usd_due = slot.last_usd_mid.is_none_or(|t| now - t >= USD_MID_EVERY);
            if usable
                && usd_due
                && let Some(mid) = slot.book.mid()
            {
                self.usd.set_mid(&slot.instrument, mid);
                slot.last_usd_mid = Some(now);
            }
        }

        let Engine {
            keys,
            books,
            fees,
            thresholds,
            history,
            cfg,
            ..
        } = self;
        let ks = &mut keys[k];
        ks.cbbo = cbbo::best(ks.slots.iter().map(|&s| {
            let slot = books.slot(s);
            Candidate {
                slot: s,
                venue: slot.venue,
                instrument: &slot.instrument,
                top: &slot.top,
            }
        }));
        ks.sample_mid(now);

        let n = ks.slots.len();
        let positions: Vec<usize> = touched.iter().map(|&s| books.slot(s).pos).collect();
        for (t, &p) in positions.iter().enumerate() {
            for o in 0..n {
                // Pairs with an earlier touched book were done with it.
                if o == p || positions[..t].contains(&o) {
                    continue;
                }
                for (buy, sell) in [(p, o), (o, p)] {
                    let (b, s) = (ks.slots[buy], ks.slots[sell]);
                    let (bs, ss) = (books.slot(b), books.slot(s));
                    if bs.venue == ss.venue {
                        continue;
                    }
                    let track = &mut ks.pairs[buy * n + sell];
                    let crosses = tops_cross(&bs.top, &ss.top);
                    if !crosses && track.walk.is_none() && track.open.is_none() {
                        // The common case: nothing to walk, nothing stored.
                        continue;
                    }
                    let (buy_fee, sell_fee) = (fees.of(bs.venue), fees.of(ss.venue));
                    let walk = if crosses {
                        walk_pair(
                            &bs.book.asks,
                            buy_fee,
                            &ss.book.bids,
                            sell_fee,
                            thresholds.max_notional,
                        )
                    } else {
                        None
                    };
                    let unusable = if track.open.is_none() {
                        None
                    } else if !bs.top.usable {
                        Some(cbbo::unusable_phrase(bs.venue, &books.effective_state(b)))
                    } else if !ss.top.usable {
                        Some(cbbo::unusable_phrase(ss.venue, &books.effective_state(s)))
                    } else {
                        None
                    };
                    let ctx = pair_ctx(ks.key, bs, ss, fees);
                    if let Some(closed) = track.update(walk, &ctx, thresholds, now, unusable) {
                        history.push_front(closed);
                        history.truncate(cfg.arb_history);
                    }
                }
            }
        }
    }

    /// The current quote of an ordered pair: its walk when the tops cross,
    /// else the tops themselves with size 0; `None` when a book is not usable
    /// or lacks the side.
    fn pair_quote(&self, ks: &KeyState, buy: usize, sell: usize) -> Option<PairQuote> {
        let n = ks.slots.len();
        if let Some(walk) = ks.pairs.get(buy * n + sell).and_then(|t| t.walk) {
            return Some(walk);
        }
        let (bs, ss) = (
            self.books.slot(ks.slots[buy]),
            self.books.slot(ks.slots[sell]),
        );
        if bs.venue == ss.venue || !(bs.top.usable && ss.top.usable) {
            return None;
        }
        Some(PairQuote {
            size: Decimal::ZERO,
            cost: Decimal::ZERO,
            proceeds: Decimal::ZERO,
            top_ask: bs.top.ask?.price,
            top_bid: ss.top.bid?.price,
        })
    }

    // ----- queries -----

    pub fn book(&self, venue: Venue, instrument: &Instrument) -> Option<&OrderBook> {
        self.books
            .slot_id(venue, instrument)
            .map(|s| &self.books.slot(s).book)
    }

    /// Every book, ordered by venue then instrument.
    pub fn books(&self) -> impl Iterator<Item = BookRef<'_>> {
        let mut ids: Vec<SlotId> = (0..self.books.slots().len()).collect();
        ids.sort_by_key(|&s| {
            let slot = self.books.slot(s);
            (slot.venue, slot.instrument)
        });
        ids.into_iter().map(|s| {
            let slot = self.books.slot(s);
            BookRef {
                venue: slot.venue,
                instrument: slot.instrument,
                state: self.books.effective_state(s),
                book: &slot.book,
            }
        })
    }

    pub fn totals(&self) -> EngineTotals {
        let h = self.health.totals();
        EngineTotals {
            frames: h.frames,
            parse_errors: h.parse_errors,
            unknown_messages: h.unknown_messages,
            book_updates: self.book_updates,
            gaps: h.gaps,
            resyncs: h.resyncs,
            checksum_ok: h.checksum_ok,
            checksum_failed: h.checksum_failed,
            crossed_books: self.crossed_books,
        }
    }

    /// The view key an instrument is compared under.
    pub fn key_of(&self, instrument: &Instrument) -> Instrument {
        self.groups.key_of(instrument)
    }

    /// The CBBO of a key (a native instrument is mapped to its key).
    pub fn cbbo(&self, key: &Instrument) -> Cbbo {
        match self.key_index.get(&self.groups.key_of(key)) {
            Some(&k) => self.cbbo_of(k),
            None => Cbbo::default(),
        }
    }

    /// Slots of a key in display order: venue, then instrument.
    fn sorted_slots(&self, k: usize) -> Vec<SlotId> {
        let mut ids = self.keys[k].slots.clone();
        ids.sort_by_key(|&s| {
            let slot = self.books.slot(s);
            (slot.venue, slot.instrument)
        });
        ids
    }

    fn cbbo_of(&self, k: usize) -> Cbbo {
        let ks = &self.keys[k];
        let side = |pick: Option<(SlotId, crate::model::Level)>| {
            pick.map(|(s, level)| {
                let slot = self.books.slot(s);
                CbboSide {
                    price: level.price,
                    size: level.size,
                    venue: slot.venue,
                    instrument: slot.instrument,
                    age: cbbo::age(self.now, slot.book.last_update),
                }
            })
        };
        let mixed = self.mixed_quotes(k);
        let excluded = self
            .sorted_slots(k)
            .into_iter()
            .filter_map(|s| {
                let slot = self.books.slot(s);
                let reason = cbbo::exclusion_reason(&self.books.effective_state(s))?;
                Some(if mixed {
                    (slot.venue, format!("{reason} ({})", slot.instrument))
                } else {
                    (slot.venue, reason)
                })
            })
            .collect();
        Cbbo {
            bid: side(ks.cbbo.bid),
            ask: side(ks.cbbo.ask),
            excluded,
        }
    }

    fn mixed_quotes(&self, k: usize) -> bool {
        let mut quotes = self.keys[k]
            .slots
            .iter()
            .map(|&s| self.books.slot(s).instrument.quote);
        match quotes.next() {
            Some(first) => quotes.any(|q| q != first),
            None => false,
        }
    }

    /// Open opportunities passing the thresholds, best profit first.
    pub fn open_arbs(&self) -> Vec<ArbOpportunity> {
        let mut arbs: Vec<ArbOpportunity> = self
            .keys
            .iter()
            .flat_map(|ks| ks.pairs.iter().filter_map(|t| t.open.clone()))
            .collect();
        arbs.sort_by(|a, b| {
            b.profit
                .cmp(&a.profit)
                .then(a.key.cmp(&b.key))
                .then(a.buy_venue.cmp(&b.buy_venue))
                .then(a.sell_venue.cmp(&b.sell_venue))
        });
        arbs
    }

    /// The current spread of every ordered venue pair per key, profitable or
    /// not (size 0 and vwaps at the tops when nothing is executable). With
    /// several books of one venue under a key, the best pair is kept. Ordered
    /// by key, then net spread, best first.
    pub fn all_spreads(&self) -> Vec<ArbOpportunity> {
        let mut best: BTreeMap<(Instrument, Venue, Venue), ArbOpportunity> = BTreeMap::new();
        for ks in &self.keys {
            let n = ks.slots.len();
            for (i, track) in ks.pairs.iter().enumerate() {
                let Some(quote) = self.pair_quote(ks, i / n, i % n) else {
                    continue;
                };
                let (bs, ss) = (
                    self.books.slot(ks.slots[i / n]),
                    self.books.slot(ks.slots[i % n]),
                );
                let ctx = pair_ctx(ks.key, bs, ss, &self.fees);
                let Some(mut row) = ctx.report(&quote, self.now) else {
                    continue;
                };
                if let Some(open) = &track.open {
                    row.opened = open.opened;
                    row.peak_net_bps = open.peak_net_bps;
                    row.peak_profit = open.peak_profit;
                }
                let id = (ks.key, bs.venue, ss.venue);
                match best.get(&id) {
                    Some(kept) if kept.net_bps >= row.net_bps => {}
                    _ => {
                        best.insert(id, row);
                    }
                }
            }
        }
        let mut rows: Vec<ArbOpportunity> = best.into_values().collect();
        rows.sort_by(|a, b| a.key.cmp(&b.key).then(b.net_bps.cmp(&a.net_bps)));
        rows
    }

    /// Statistics per key and ordered venue pair, including the open
    /// opportunity's time so far.
    fn pair_stats(&self) -> Vec<ArbPairStats> {
        type Row = (ArbPairStats, Option<Decimal>);
        let mut stats: BTreeMap<(Instrument, Venue, Venue), Row> = BTreeMap::new();
        for ks in &self.keys {
            let n = ks.slots.len();
            for (i, track) in ks.pairs.iter().enumerate() {
                let quote = self.pair_quote(ks, i / n, i % n);
                if track.count == 0 && quote.is_none() {
                    continue;
                }
                let (bs, ss) = (
                    self.books.slot(ks.slots[i / n]),
                    self.books.slot(ks.slots[i % n]),
                );
                let current = quote.as_ref().and_then(|q| {
                    q.figures(self.fees.of(bs.venue).bps, self.fees.of(ss.venue).bps)
                        .map(|f| f.net_bps)
                });
                let open_for = track
                    .open
                    .as_ref()
                    .map_or(0, |o| (self.now - o.opened).max(0));
                let best = max_opt(
                    track.best_net_bps,
                    track.open.as_ref().map(|o| o.peak_net_bps),
                );
                let (row, row_best) = stats.entry((ks.key, bs.venue, ss.venue)).or_insert((
                    ArbPairStats {
                        key: ks.key,
                        buy_venue: bs.venue,
                        sell_venue: ss.venue,
                        count: 0,
                        total_open: 0,
                        longest: 0,
                        best_net_bps: Decimal::ZERO,
                        current_net_bps: None,
                    },
                    None,
                ));
                row.count += track.count;
                row.total_open += track.total_open + open_for;
                row.longest = row.longest.max(track.longest).max(open_for);
                row.current_net_bps = max_opt(row.current_net_bps, current);
                *row_best = max_opt(*row_best, best);
            }
        }
        stats
            .into_values()
            .map(|(mut row, best)| {
                row.best_net_bps = best.unwrap_or(Decimal::ZERO);
                row
            })
            .collect()
    }

    /// Keys in display order: the watchlist's, then any other key with books.
    fn key_order(&self) -> Vec<Instrument> {
        let mut order: Vec<Instrument> = Vec::new();
        for w in &self.cfg.watchlist {
            let key = self.groups.key_of(w);
            if !order.contains(&key) {
                order.push(key);
            }
        }
        let mut others: Vec<Instrument> = self
            .keys
            .iter()
            .filter(|ks| !ks.slots.is_empty() && !order.contains(&ks.key))
            .map(|ks| ks.key)
            .collect();
        others.sort();
        order.extend(others);
        order
    }

    fn instrument_view(&self, key: Instrument) -> InstrumentView {
        let liquidations_5m_usd = self
            .liqs
            .usd_since(|i| self.groups.key_of(i) == key, self.now - LIQ_WINDOW);
        let funding: Vec<(Venue, FundingUpdate)> = self
            .funding
            .iter()
            .filter(|((_, i), _)| self.groups.key_of(i) == key)
            .map(|((v, _), u)| (*v, u.clone()))
            .collect();
        let Some(&k) = self.key_index.get(&key) else {
            return InstrumentView {
                instrument: key,
                label: self.groups.label(&key, &[]),
                mixed_quotes: false,
                cbbo: Cbbo::default(),
                venues: Vec::new(),
                aggregated: Default::default(),
                mid_history: Vec::new(),
                best_net_bps: None,
                liquidations_5m_usd,
                funding,
            };
        };
        let ks = &self.keys[k];
        let slots = self.sorted_slots(k);
        let depth = self.cfg.snapshot_depth;
        let mut present: Vec<crate::model::Asset> = Vec::new();
        for &s in &slots {
            let q = self.books.slot(s).instrument.quote;
            if !present.contains(&q) {
                present.push(q);
            }
        }
        let venues = slots
            .iter()
            .map(|&s| {
                let slot = self.books.slot(s);
                VenueBook {
                    venue: slot.venue,
                    instrument: slot.instrument,
                    state: self.books.effective_state(s),
                    bids: slot.book.bids.top(depth),
                    asks: slot.book.asks.top(depth),
                    bid_levels: slot.book.bids.len(),
                    ask_levels: slot.book.asks.len(),
                    last_update: slot.book.last_update,
                }
            })
            .collect();
        let aggregated = aggregate::aggregate(
            slots
                .iter()
                .map(|&s| self.books.slot(s))
                .filter(|slot| slot.top.usable)
                .map(|slot| (slot.venue, &slot.book)),
            depth,
        );
        let n = ks.slots.len();
        let best_net_bps = ks
            .pairs
            .iter()
            .enumerate()
            .filter_map(|(i, _)| {
                let q = self.pair_quote(ks, i / n, i % n)?;
                let (bv, sv) = (
                    self.books.slot(ks.slots[i / n]).venue,
                    self.books.slot(ks.slots[i % n]).venue,
                );
                q.figures(self.fees.of(bv).bps, self.fees.of(sv).bps)
                    .map(|f| f.net_bps)
            })
            .max();
        InstrumentView {
            instrument: key,
            label: self.groups.label(&key, &present),
            mixed_quotes: present.len() > 1,
            cbbo: self.cbbo_of(k),
            venues,
            aggregated,
            mid_history: ks.mids.iter().copied().collect(),
            best_net_bps,
            liquidations_5m_usd,
            funding,
        }
    }

    fn health_view(&self) -> Vec<ConnHealth> {
        let mut rows = self.health.view(self.now);
        for row in &mut rows {
            let conn = self
                .books
                .conns()
                .iter()
                .find(|c| c.venue == row.venue && c.name == row.conn);
            if let Some(c) = conn {
                let stale = c.stale;
                row.books_not_live = c
                    .slots
                    .iter()
                    .filter(|&&s| stale || !self.books.slot(s).book.is_live())
                    .count();
            }
        }
        rows
    }

    /// Build the immutable view. The version moves only when something
    /// changed since the previous snapshot.
    pub fn snapshot(&mut self) -> Snapshot {
        if self.changed {
            self.version += 1;
            self.changed = false;
        }
        self.last_snapshot_now = self.now;
        Snapshot {
            version: self.version,
            now: self.now,
            instruments: self
                .key_order()
                .into_iter()
                .map(|key| self.instrument_view(key))
                .collect(),
            arbs: self.open_arbs(),
            arb_history: self.history.iter().cloned().collect(),
            arb_stats: self.pair_stats(),
            liquidations: self.liqs.view(self.now, self.cfg.liq_min_notional_usd),
            trades: self.trades.view(self.now, self.cfg.large_trade_usd),
            health: self.health_view(),
            instrument_lists: self.instrument_lists.clone(),
        }
    }
}

/// Buying at the buy book's ask and selling at the sell book's bid pays
/// after both taker fees (both books usable).
fn tops_cross(buy: &Top, sell: &Top) -> bool {
    match (buy.eff_ask, sell.eff_bid) {
        (Some(ask), Some(bid)) => buy.usable && sell.usable && ask < bid,
        _ => false,
    }
}

fn pair_ctx(
    key: Instrument,
    buy: &books::BookSlot,
    sell: &books::BookSlot,
    fees: &Fees,
) -> PairCtx {
    PairCtx {
        key,
        buy_venue: buy.venue,
        buy_instrument: buy.instrument,
        sell_venue: sell.venue,
        sell_instrument: sell.instrument,
        buy_fee_bps: fees.of(buy.venue).bps,
        sell_fee_bps: fees.of(sell.venue).bps,
    }
}

fn max_opt(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        BookUpdate, BookUpdateKind, Funding, Level, LiquidatedSide, Liquidation, OutOfSyncReason,
        SeqInfo,
    };
    use rust_decimal_macros::dec;

    const SEC: Micros = 1_000_000;

    fn i(s: &str) -> Instrument {
        s.parse().unwrap()
    }

    fn levels(l: &[(Decimal, Decimal)]) -> Vec<Level> {
        l.iter().map(|&(p, s)| Level::new(p, s)).collect()
    }

    fn book(
        kind: BookUpdateKind,
        venue: Venue,
        inst: &str,
        bids: &[(Decimal, Decimal)],
        asks: &[(Decimal, Decimal)],
    ) -> MarketEvent {
        MarketEvent::Book(BookUpdate {
            venue,
            instrument: i(inst),
            kind,
            bids: levels(bids),
            asks: levels(asks),
            seq: SeqInfo::default(),
            exchange_ts: None,
            received: 0,
        })
    }

    fn snap(
        venue: Venue,
        inst: &str,
        bids: &[(Decimal, Decimal)],
        asks: &[(Decimal, Decimal)],
    ) -> MarketEvent {
        book(BookUpdateKind::Snapshot, venue, inst, bids, asks)
    }

    fn delta(
        venue: Venue,
        inst: &str,
        bids: &[(Decimal, Decimal)],
        asks: &[(Decimal, Decimal)],
    ) -> MarketEvent {
        book(BookUpdateKind::Delta, venue, inst, bids, asks)
    }

    fn feed(venue: Venue, received: Micros, mut events: Vec<MarketEvent>) -> EngineInput {
        for e in &mut events {
            if let MarketEvent::Book(u) = e {
                u.received = received;
            }
        }
        EngineInput::Feed {
            venue,
            conn: format!("wss://{venue}"),
            received,
            bytes: 100,
            events,
        }
    }

    /// 10 bps taker fee everywhere, 30 s staleness.
    fn cfg() -> EngineConfig {
        EngineConfig {
            taker_fee_bps: BTreeMap::new(),
            default_taker_fee_bps: dec!(10),
            ..EngineConfig::default()
        }
    }

    fn usd_group() -> Vec<Vec<crate::model::Asset>> {
        vec![
            ["USD", "USDT", "USDC"]
                .iter()
                .map(|a| crate::model::Asset::new(a).unwrap())
                .collect(),
        ]
    }

    /// okx asks 100, bybit bids 101: buy okx, sell bybit pays after fees.
    fn engine_with_arb() -> Engine {
        let mut e = Engine::new(cfg());
        e.handle(feed(
            crate::venue!("okx"),
            SEC,
            vec![snap(
                crate::venue!("okx"),
                "BTC-USDT",
                &[(dec!(99), dec!(1))],
                &[(dec!(100), dec!(1))],
            )],
        ));
        e.handle(feed(
            crate::venue!("bybit"),
            SEC,
            vec![snap(
                crate::venue!("bybit"),
                "BTC-USDT",
                &[(dec!(101), dec!(2))],
                &[(dec!(102), dec!(1))],
            )],
        ));
        e
    }

    #[test]
    fn empty_engine_and_empty_book() {
        let mut e = Engine::new(EngineConfig {
            watchlist: vec![i("ETH-USDT")],
            ..cfg()
        });
        let s = e.snapshot();
        assert_eq!(s.version, 0);
        assert_eq!(
            s.instruments.len(),
            1,
            "watched keys show even without books"
        );
        assert_eq!(s.instruments[0].label, "ETH-USDT");
        assert!(s.instruments[0].cbbo.bid.is_none());

        e.handle(feed(
            crate::venue!("okx"),
            SEC,
            vec![snap(crate::venue!("okx"), "BTC-USDT", &[], &[])],
        ));
        let c = e.cbbo(&i("BTC-USDT"));
        assert!(c.bid.is_none() && c.ask.is_none());
        assert!(
            c.excluded.is_empty(),
            "an empty live book is usable, just empty"
        );
        assert!(e.all_spreads().is_empty());
        let s = e.snapshot();
        assert_eq!(s.version, 1);
        assert_eq!(
            s.instruments
                .iter()
                .map(|v| v.label.as_str())
                .collect::<Vec<_>>(),
            vec!["ETH-USDT", "BTC-USDT"]
        );
        assert_eq!(s.instruments[1].venues[0].state, BookState::Live);
    }

    #[test]
    fn one_sided_book() {
        let mut e = Engine::new(cfg());
        e.handle(feed(
            crate::venue!("okx"),
            SEC,
            vec![snap(
                crate::venue!("okx"),
                "BTC-USDT",
                &[(dec!(99), dec!(1))],
                &[],
            )],
        ));
        e.handle(feed(
            crate::venue!("bybit"),
            SEC,
            vec![snap(
                crate::venue!("bybit"),
                "BTC-USDT",
                &[(dec!(98), dec!(1))],
                &[],
            )],
        ));
        let c = e.cbbo(&i("BTC-USDT"));
        assert_eq!(
            c.bid.as_ref().map(|b| (b.price, b.venue)),
            Some((dec!(99), crate::venue!("okx")))
        );
        assert!(c.ask.is_none());
        assert_eq!(c.spread_bps(), None);
        assert!(e.all_spreads().is_empty());
        assert!(e.open_arbs().is_empty());
        let s = e.snapshot();
        assert!(s.instruments[0].mid_history.is_empty());
        assert_eq!(s.instruments[0].best_net_bps, None);
        assert_eq!(s.instruments[0].aggregated.bids.len(), 2);
    }

    #[test]
    fn versions_move_only_on_change() {
        let mut e = engine_with_arb();
        let v1 = e.snapshot().version;
        assert_eq!(e.snapshot().version, v1);
        e.handle(EngineInput::Tick { now: SEC + 1 });
        assert!(!e.has_changes(), "a tick that changes nothing is no change");
        assert_eq!(e.snapshot().version, v1);
        e.handle(EngineInput::Tick { now: 3 * SEC });
        assert_eq!(e.snapshot().version, v1 + 1, "idle refresh after a second");
        assert_eq!(e.now(), 3 * SEC);
    }

    #[test]
    fn venue_going_out_of_sync_closes_the_opportunity() {
        let mut e = engine_with_arb();
        let arbs = e.open_arbs();
        assert_eq!(arbs.len(), 1);
        let a = &arbs[0];
        assert_eq!(
            (a.buy_venue, a.sell_venue, a.size),
            (crate::venue!("okx"), crate::venue!("bybit"), dec!(1))
        );
        assert_eq!(a.gross_bps, dec!(100));
        assert_eq!(a.net_bps, dec!(80));
        assert_eq!(a.profit, dec!(0.8));
        assert_eq!(a.opened, SEC);
        assert_eq!(
            e.cbbo(&i("BTC-USDT")).bid.unwrap().venue,
            crate::venue!("bybit")
        );

        let gap = OutOfSyncReason::Gap {
            expected: 5,
            got: 7,
        };
        e.handle(feed(
            crate::venue!("bybit"),
            2 * SEC,
            vec![MarketEvent::BookState {
                venue: crate::venue!("bybit"),
                instrument: i("BTC-USDT"),
                state: BookState::OutOfSync(gap),
            }],
        ));
        assert!(e.open_arbs().is_empty());
        let c = e.cbbo(&i("BTC-USDT"));
        assert_eq!(c.bid.unwrap().venue, crate::venue!("okx"));
        assert_eq!(
            c.excluded,
            vec![(
                crate::venue!("bybit"),
                "out of sync: sequence gap (expected 5, got 7)".to_string()
            )]
        );
        let s = e.snapshot();
        assert!(s.arbs.is_empty());
        assert_eq!(s.arb_history.len(), 1);
        let h = &s.arb_history[0];
        assert_eq!(h.reason, "bybit out of sync");
        assert_eq!((h.opened, h.closed), (SEC, 2 * SEC));
        // Out of sync books are shown, greyed, but never aggregated.
        let view = &s.instruments[0];
        assert_eq!(view.venues.len(), 2);
        assert!(
            view.aggregated
                .bids
                .iter()
                .all(|l| l.per_venue[0].0 == crate::venue!("okx"))
        );
    }

    #[test]
    fn stale_connection_leaves_cbbo_and_comes_back() {
        let mut e = engine_with_arb();
        // okx keeps talking; bybit goes quiet for longer than stale_after.
        e.handle(feed(crate::venue!("okx"), 20 * SEC, vec![]));
        e.handle(feed(crate::venue!("okx"), 32 * SEC, vec![]));
        let c = e.cbbo(&i("BTC-USDT"));
        assert_eq!(c.bid.unwrap().venue, crate::venue!("okx"));
        assert_eq!(
            c.excluded,
            vec![(crate::venue!("bybit"), "stale".to_string())]
        );
        assert!(e.open_arbs().is_empty());
        let s = e.snapshot();
        assert_eq!(s.arb_history[0].reason, "bybit stale");
        let bybit = s.instruments[0]
            .venues
            .iter()
            .find(|v| v.venue == crate::venue!("bybit"))
            .unwrap();
        assert_eq!(bybit.state, BookState::OutOfSync(OutOfSyncReason::Stale));
        assert_eq!(
            e.books()
                .find(|b| b.venue == crate::venue!("bybit"))
                .unwrap()
                .state,
            BookState::OutOfSync(OutOfSyncReason::Stale)
        );

        // A heartbeat-only frame is enough: the book is live again.
        e.handle(feed(crate::venue!("bybit"), 33 * SEC, vec![]));
        let c = e.cbbo(&i("BTC-USDT"));
        assert_eq!(c.bid.unwrap().venue, crate::venue!("bybit"));
        assert!(c.excluded.is_empty());
        assert_eq!(e.open_arbs()[0].opened, 33 * SEC, "a new opportunity");

        // Ticks alone make books stale too.
        e.handle(EngineInput::Tick { now: 70 * SEC });
        assert_eq!(e.cbbo(&i("BTC-USDT")).excluded.len(), 2);
        assert!(e.cbbo(&i("BTC-USDT")).bid.is_none());
        // Revived once more, and stale again when it falls silent again.
        e.handle(feed(crate::venue!("bybit"), 71 * SEC, vec![]));
        assert_eq!(
            e.cbbo(&i("BTC-USDT")).bid.unwrap().venue,
            crate::venue!("bybit")
        );
        e.handle(EngineInput::Tick { now: 102 * SEC });
        assert!(e.cbbo(&i("BTC-USDT")).bid.is_none());
    }

    #[test]
    fn disconnect_marks_books_out_of_sync() {
        let mut e = engine_with_arb();
        e.handle(EngineInput::Conn {
            venue: crate::venue!("okx"),
            conn: "wss://okx".into(),
            state: ConnState::Disconnected {
                reason: "closed".into(),
            },
            at: 2 * SEC,
        });
        assert_eq!(
            e.cbbo(&i("BTC-USDT")).excluded,
            vec![(
                crate::venue!("okx"),
                "out of sync: disconnected".to_string()
            )]
        );
        assert_eq!(e.snapshot().arb_history[0].reason, "okx out of sync");
    }

    #[test]
    fn equal_prices_break_ties_by_size_then_venue() {
        let mut e = Engine::new(cfg());
        e.handle(feed(
            crate::venue!("kraken"),
            SEC,
            vec![snap(
                crate::venue!("kraken"),
                "ETH-USD",
                &[(dec!(10), dec!(5))],
                &[(dec!(11), dec!(1))],
            )],
        ));
        e.handle(feed(
            crate::venue!("coinbase"),
            SEC,
            vec![snap(
                crate::venue!("coinbase"),
                "ETH-USD",
                &[(dec!(10.00), dec!(2))],
                &[(dec!(11), dec!(1))],
            )],
        ));
        let c = e.cbbo(&i("ETH-USD"));
        assert_eq!(
            c.bid.as_ref().unwrap().venue,
            crate::venue!("kraken"),
            "larger size"
        );
        assert_eq!(
            c.ask.as_ref().unwrap().venue,
            crate::venue!("coinbase"),
            "coinbase before kraken"
        );
        e.handle(feed(
            crate::venue!("coinbase"),
            2 * SEC,
            vec![delta(
                crate::venue!("coinbase"),
                "ETH-USD",
                &[(dec!(10), dec!(5))],
                &[],
            )],
        ));
        let c = e.cbbo(&i("ETH-USD"));
        assert_eq!(c.bid.as_ref().unwrap().venue, crate::venue!("coinbase"));
        assert_eq!(c.bid.as_ref().unwrap().age, 0);
        e.handle(EngineInput::Tick { now: 3 * SEC });
        let c = e.cbbo(&i("ETH-USD"));
        assert_eq!(
            c.bid.as_ref().unwrap().age,
            SEC,
            "age runs from the book's last update"
        );
    }

    #[test]
    fn fees_make_a_gross_spread_unprofitable() {
        // 5 bps gross between okx ask 100 and bybit bid 100.05; 20 bps fees.
        let mut e = Engine::new(cfg());
        e.handle(feed(
            crate::venue!("okx"),
            SEC,
            vec![snap(
                crate::venue!("okx"),
                "BTC-USDT",
                &[(dec!(99), dec!(1))],
                &[(dec!(100), dec!(1))],
            )],
        ));
        e.handle(feed(
            crate::venue!("bybit"),
            SEC,
            vec![snap(
                crate::venue!("bybit"),
                "BTC-USDT",
                &[(dec!(100.05), dec!(1))],
                &[(dec!(101), dec!(1))],
            )],
        ));
        assert!(e.open_arbs().is_empty());
        let spreads = e.all_spreads();
        assert_eq!(spreads.len(), 2);
        let best = &spreads[0];
        assert_eq!(
            (best.buy_venue, best.sell_venue),
            (crate::venue!("okx"), crate::venue!("bybit"))
        );
        assert_eq!(
            (best.size, best.gross_bps, best.net_bps, best.profit),
            (Decimal::ZERO, dec!(5), dec!(-15), Decimal::ZERO)
        );
        let s = e.snapshot();
        assert_eq!(s.instruments[0].best_net_bps, Some(dec!(-15)));
        let stat = s
            .arb_stats
            .iter()
            .find(|p| p.buy_venue == crate::venue!("okx"))
            .unwrap();
        assert_eq!(stat.current_net_bps, Some(dec!(-15)));
        assert_eq!(stat.count, 0);

        // Without fees the same books are an opportunity.
        e.set_config(EngineConfig {
            default_taker_fee_bps: Decimal::ZERO,
            ..cfg()
        });
        let arbs = e.open_arbs();
        assert_eq!(arbs.len(), 1);
        assert_eq!(arbs[0].net_bps, dec!(5));
        assert_eq!(arbs[0].profit, dec!(0.05));
    }

    #[test]
    fn depth_makes_part_of_the_top_executable() {
        // Buy on okx: asks 100×1, 100.1×4. Sell on bybit: bids 100.5×1.5,
        // 100.2×10. 10 bps each: 1 at 100 and 0.5 at 100.1 pay; 100.1 vs
        // 100.2 does not (100.2001 ≥ 100.0998). Size 1.5 of okx's 5 at the
        // top two levels; cost 150.05, proceeds 150.75.
        let mut e = Engine::new(cfg());
        e.handle(feed(
            crate::venue!("okx"),
            SEC,
            vec![snap(
                crate::venue!("okx"),
                "BTC-USDT",
                &[(dec!(99), dec!(1))],
                &[(dec!(100), dec!(1)), (dec!(100.1), dec!(4))],
            )],
        ));
        e.handle(feed(
            crate::venue!("bybit"),
            SEC,
            vec![snap(
                crate::venue!("bybit"),
                "BTC-USDT",
                &[(dec!(100.5), dec!(1.5)), (dec!(100.2), dec!(10))],
                &[(dec!(102), dec!(1))],
            )],
        ));
        let a = &e.open_arbs()[0];
        assert_eq!(a.size, dec!(1.5));
        assert_eq!(a.buy_vwap.round_dp(8), dec!(100.03333333));
        assert_eq!(a.sell_vwap, dec!(100.5));
        // gross = 0.7 / 150.05 × 1e4 = 46.6511…; net = gross − 20;
        // profit = 150.05 × net / 1e4 = 0.7 − 0.3001 = 0.3999.
        assert_eq!(a.gross_bps.round_dp(4), dec!(46.6511));
        assert_eq!(a.net_bps.round_dp(4), dec!(26.6511));
        assert_eq!(a.profit.round_dp(10), dec!(0.3999));
        assert_eq!((a.buy_fee_bps, a.sell_fee_bps), (dec!(10), dec!(10)));

        // A notional cap of 50 limits the size to 0.5.
        e.set_config(EngineConfig {
            arb_max_notional: dec!(50),
            ..cfg()
        });
        let a = &e.open_arbs()[0];
        assert_eq!(
            (a.size, a.buy_vwap, a.sell_vwap),
            (dec!(0.5), dec!(100), dec!(100.5))
        );
        // Thresholds: 0.3999 profit is not worth 1 unit of quote.
        e.set_config(EngineConfig {
            arb_min_profit: dec!(1),
            ..cfg()
        });
        assert!(e.open_arbs().is_empty());
        assert_eq!(e.snapshot().arb_history[0].reason, "spread closed");
    }

    #[test]
    fn quote_groups_merge_and_mark_mixed() {
        let events = |e: &mut Engine| {
            e.handle(feed(
                crate::venue!("coinbase"),
                SEC,
                vec![snap(
                    crate::venue!("coinbase"),
                    "BTC-USD",
                    &[(dec!(100), dec!(1))],
                    &[(dec!(101), dec!(1))],
                )],
            ));
            e.handle(feed(
                crate::venue!("binance"),
                SEC,
                vec![snap(
                    crate::venue!("binance"),
                    "BTC-USDT",
                    &[(dec!(100.5), dec!(1))],
                    &[(dec!(102), dec!(1))],
                )],
            ));
        };
        let mut apart = Engine::new(EngineConfig {
            watchlist: vec![i("BTC-USDT")],
            ..cfg()
        });
        events(&mut apart);
        let s = apart.snapshot();
        assert_eq!(
            s.instruments
                .iter()
                .map(|v| (v.label.as_str(), v.mixed_quotes))
                .collect::<Vec<_>>(),
            vec![("BTC-USDT", false), ("BTC-USD", false)]
        );

        let mut merged = Engine::new(EngineConfig {
            watchlist: vec![i("BTC-USDT")],
            quote_groups: usd_group(),
            ..cfg()
        });
        events(&mut merged);
        let s = merged.snapshot();
        assert_eq!(s.instruments.len(), 1);
        let v = &s.instruments[0];
        assert_eq!(v.instrument, i("BTC-USD"));
        assert_eq!(v.label, "BTC-USD≈USDT");
        assert!(v.mixed_quotes);
        assert_eq!(v.cbbo.bid.as_ref().unwrap().instrument, i("BTC-USDT"));
        assert_eq!(v.cbbo.ask.as_ref().unwrap().instrument, i("BTC-USD"));
        assert_eq!(
            merged.cbbo(&i("BTC-USDC")).bid.unwrap().venue,
            crate::venue!("binance")
        );
        assert_eq!(v.aggregated.bids.len(), 2);

        // Regrouping at run time splits them again.
        apart.set_config(EngineConfig {
            quote_groups: usd_group(),
            ..cfg()
        });
        assert_eq!(apart.snapshot().instruments.len(), 1);
    }

    #[test]
    fn crossed_book_is_excluded_and_counted() {
        let mut e = engine_with_arb();
        e.handle(feed(
            crate::venue!("okx"),
            2 * SEC,
            vec![delta(
                crate::venue!("okx"),
                "BTC-USDT",
                &[(dec!(100.5), dec!(1))],
                &[],
            )],
        ));
        assert_eq!(e.totals().crossed_books, 1);
        assert_eq!(e.totals().book_updates, 3);
        assert_eq!(e.totals().frames, 3);
        let c = e.cbbo(&i("BTC-USDT"));
        assert_eq!(
            c.excluded,
            vec![(
                crate::venue!("okx"),
                "out of sync: crossed book".to_string()
            )]
        );
        assert_eq!(c.ask.unwrap().venue, crate::venue!("bybit"));
        assert!(e.open_arbs().is_empty());
        // A fresh snapshot makes it live again.
        e.handle(feed(
            crate::venue!("okx"),
            3 * SEC,
            vec![snap(
                crate::venue!("okx"),
                "BTC-USDT",
                &[(dec!(99), dec!(1))],
                &[(dec!(100), dec!(1))],
            )],
        ));
        assert!(e.cbbo(&i("BTC-USDT")).excluded.is_empty());
        assert_eq!(e.open_arbs().len(), 1);
    }

    #[test]
    fn history_and_pair_stats_after_open_and_close() {
        let mut e = engine_with_arb(); // opens at 1 s
        let close = |e: &mut Engine, t| {
            e.handle(feed(
                crate::venue!("bybit"),
                t,
                vec![delta(
                    crate::venue!("bybit"),
                    "BTC-USDT",
                    &[(dec!(101), dec!(0))],
                    &[],
                )],
            ))
        };
        let reopen = |e: &mut Engine, t| {
            e.handle(feed(
                crate::venue!("bybit"),
                t,
                vec![delta(
                    crate::venue!("bybit"),
                    "BTC-USDT",
                    &[(dec!(101.5), dec!(1))],
                    &[],
                )],
            ))
        };
        close(&mut e, 3 * SEC);
        reopen(&mut e, 4 * SEC);
        // The peak follows the better spread: (101.5 − 100)/100 − 20 bps.
        assert_eq!(e.open_arbs()[0].peak_net_bps, dec!(130));
        e.handle(feed(
            crate::venue!("bybit"),
            5 * SEC,
            vec![delta(
                crate::venue!("bybit"),
                "BTC-USDT",
                &[(dec!(101.5), dec!(0))],
                &[],
            )],
        ));
        reopen(&mut e, 6 * SEC);
        e.handle(EngineInput::Tick { now: 7 * SEC });
        let s = e.snapshot();
        assert_eq!(s.arb_history.len(), 2);
        assert_eq!(
            (s.arb_history[0].opened, s.arb_history[0].closed),
            (4 * SEC, 5 * SEC)
        );
        assert_eq!(
            (s.arb_history[1].opened, s.arb_history[1].closed),
            (SEC, 3 * SEC)
        );
        assert_eq!(s.arb_history[0].peak_net_bps, dec!(130));
        assert_eq!(s.arb_history[1].reason, "spread closed");
        let st = s
            .arb_stats
            .iter()
            .find(|p| p.buy_venue == crate::venue!("okx") && p.sell_venue == crate::venue!("bybit"))
            .unwrap();
        assert_eq!(st.count, 3);
        // 2 s + 1 s closed, 1 s of the one still open at 7 s.
        assert_eq!(st.total_open, 4 * SEC);
        assert_eq!(st.longest, 2 * SEC);
        assert_eq!(st.best_net_bps, dec!(130));
        assert_eq!(st.current_net_bps, Some(dec!(130)));
        let reverse = s
            .arb_stats
            .iter()
            .find(|p| p.buy_venue == crate::venue!("bybit"))
            .unwrap();
        assert_eq!(reverse.count, 0);
        assert!(reverse.current_net_bps.unwrap() < Decimal::ZERO);

        // History is capped by the config.
        e.set_config(EngineConfig {
            arb_history: 1,
            ..cfg()
        });
        close(&mut e, 8 * SEC);
        assert_eq!(e.snapshot().arb_history.len(), 1);
    }

    #[test]
    fn mid_history_funding_and_liquidations() {
        let mut e = engine_with_arb();
        for k in 0..10 {
            let t = 2 * SEC + k * 100_000;
            e.handle(feed(
                crate::venue!("okx"),
                t,
                vec![delta(
                    crate::venue!("okx"),
                    "BTC-USDT",
                    &[(dec!(99), Decimal::from(k + 2))],
                    &[],
                )],
            ));
        }
        let s = e.snapshot();
        // Samples at 1 s (first book), then at most every 250 ms of 2.0–2.9 s.
        assert_eq!(s.instruments[0].mid_history.len(), 5);
        assert_eq!(s.instruments[0].mid_history[0], 99.5, "okx alone at 1 s");

        let perp = "BTC-USDT-PERP";
        let fund = |rate: Option<Decimal>, mark: Option<Decimal>| {
            MarketEvent::Funding(Funding {
                venue: crate::venue!("bybit"),
                instrument: i(perp),
                update: FundingUpdate {
                    funding_rate: rate,
                    mark_price: mark,
                    ..Default::default()
                },
                exchange_ts: None,
                received: 0,
            })
        };
        e.handle(feed(
            crate::venue!("bybit"),
            3 * SEC,
            vec![
                snap(
                    crate::venue!("bybit"),
                    perp,
                    &[(dec!(99), dec!(1))],
                    &[(dec!(100), dec!(1))],
                ),
                fund(Some(dec!(0.0001)), None),
                fund(None, Some(dec!(99.5))),
                MarketEvent::Liquidation(Liquidation {
                    venue: crate::venue!("bybit"),
                    instrument: i(perp),
                    side: LiquidatedSide::Long,
                    price: dec!(99),
                    size: dec!(2),
                    exchange_ts: None,
                    received: 3 * SEC,
                }),
            ],
        ));
        let s = e.snapshot();
        let v = s
            .instruments
            .iter()
            .find(|v| v.instrument == i(perp))
            .unwrap();
        assert_eq!(v.funding.len(), 1);
        assert_eq!(v.funding[0].1.funding_rate, Some(dec!(0.0001)));
        assert_eq!(v.funding[0].1.mark_price, Some(dec!(99.5)));
        // No USD rate for USDT in this engine: the notional is unknown, so 0.
        assert!(v.liquidations_5m_usd >= 0.0);
    }

    #[test]
    fn several_books_of_one_venue_under_a_group() {
        let mut e = Engine::new(EngineConfig {
            quote_groups: usd_group(),
            ..cfg()
        });
        e.handle(feed(
            crate::venue!("binance"),
            SEC,
            vec![
                snap(
                    crate::venue!("binance"),
                    "BTC-USDT",
                    &[(dec!(99), dec!(1))],
                    &[(dec!(100), dec!(1))],
                ),
                snap(
                    crate::venue!("binance"),
                    "BTC-USDC",
                    &[(dec!(101), dec!(1))],
                    &[(dec!(102), dec!(1))],
                ),
            ],
        ));
        // Same venue: never an arbitrage pair with itself.
        assert!(e.open_arbs().is_empty());
        assert!(e.all_spreads().is_empty());
        e.handle(feed(
            crate::venue!("okx"),
            SEC,
            vec![snap(
                crate::venue!("okx"),
                "BTC-USD",
                &[(dec!(101), dec!(1))],
                &[(dec!(103), dec!(1))],
            )],
        ));
        let arbs = e.open_arbs();
        assert_eq!(arbs.len(), 1);
        assert_eq!(
            (arbs[0].buy_venue, arbs[0].buy_instrument),
            (crate::venue!("binance"), i("BTC-USDT"))
        );
        let s = e.snapshot();
        assert_eq!(s.instruments[0].label, "BTC-USD≈USDT≈USDC");
        let c = &s.instruments[0].cbbo;
        // Equal 101 bids of size 1: binance before okx.
        assert_eq!(
            c.bid.as_ref().map(|b| (b.venue, b.instrument)),
            Some((crate::venue!("binance"), i("BTC-USDC")))
        );
    }

    #[test]
    fn incremental_matches_a_fresh_engine() {
        // Drive one engine with many deltas, feed a second only the final
        // books as snapshots: their spreads must agree.
        let venues = [
            crate::venue!("binance"),
            crate::venue!("okx"),
            crate::venue!("kraken"),
        ];
        let mut inc = Engine::new(cfg());
        for (n, v) in venues.iter().enumerate() {
            let off = Decimal::from(n as i64) / dec!(10);
            inc.handle(feed(
                *v,
                SEC,
                vec![snap(
                    *v,
                    "ETH-USD",
                    &[(dec!(99) + off, dec!(1)), (dec!(98), dec!(2))],
                    &[(dec!(100) + off, dec!(1)), (dec!(101), dec!(2))],
                )],
            ));
        }
        let mut seed: u64 = 7;
        for k in 0..300 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = venues[(seed >> 33) as usize % 3];
            let p = Decimal::new(9_700 + ((seed >> 40) % 600) as i64, 2);
            let size = Decimal::from(((seed >> 20) % 4) as i64);
            let (bids, asks) = match inc.book(v, &i("ETH-USD")).and_then(|b| b.mid()) {
                Some(mid) if p < mid => (vec![(p, size)], vec![]),
                _ => (vec![], vec![(p, size)]),
            };
            inc.handle(feed(v, SEC + k, vec![delta(v, "ETH-USD", &bids, &asks)]));
        }
        let mut fresh = Engine::new(cfg());
        for b in inc.books() {
            let bids: Vec<(Decimal, Decimal)> =
                b.book.bids.iter().map(|l| (l.price, l.size)).collect();
            let asks: Vec<(Decimal, Decimal)> =
                b.book.asks.iter().map(|l| (l.price, l.size)).collect();
            let ev = if b.state.is_live() {
                snap(b.venue, "ETH-USD", &bids, &asks)
            } else {
                MarketEvent::BookState {
                    venue: b.venue,
                    instrument: b.instrument,
                    state: b.state.clone(),
                }
            };
            fresh.handle(feed(b.venue, 2 * SEC, vec![ev]));
        }
        let strip = |rows: Vec<ArbOpportunity>| {
            rows.into_iter()
                .map(|a| (a.buy_venue, a.sell_venue, a.size, a.net_bps, a.profit))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(inc.all_spreads()), strip(fresh.all_spreads()));
        assert_eq!(strip(inc.open_arbs()), strip(fresh.open_arbs()));
        let (a, b) = (inc.cbbo(&i("ETH-USD")), fresh.cbbo(&i("ETH-USD")));
        assert_eq!(
            (
                a.bid.map(|x| (x.price, x.venue)),
                a.ask.map(|x| (x.price, x.venue))
            ),
            (
                b.bid.map(|x| (x.price, x.venue)),
                b.ask.map(|x| (x.price, x.venue))
            )
        );
    }

    #[test]
    fn forgotten_books_leave_every_view() {
        let mut e = engine_with_arb();
        // A third BTC-USDT book (kraken asks 100.5: also buys into bybit) and
        // a second instrument on okx.
        e.handle(feed(
            crate::venue!("kraken"),
            SEC,
            vec![snap(
                crate::venue!("kraken"),
                "BTC-USDT",
                &[(dec!(99.5), dec!(1))],
                &[(dec!(100.5), dec!(1))],
            )],
        ));
        e.handle(feed(
            crate::venue!("okx"),
            SEC,
            vec![snap(
                crate::venue!("okx"),
                "ETH-USDT",
                &[(dec!(10), dec!(1))],
                &[(dec!(11), dec!(1))],
            )],
        ));
        assert_eq!(e.open_arbs().len(), 2);
        e.handle(EngineInput::Forget {
            venue: crate::venue!("okx"),
            instruments: vec![i("BTC-USDT")],
            venue_stopped: false,
        });
        assert!(e.book(crate::venue!("okx"), &i("BTC-USDT")).is_none());
        let closed = &e.snapshot().arb_history[0];
        assert_eq!(closed.reason, "okx BTC-USDT no longer watched");
        // What is left computes as in an engine that never saw the book.
        let arbs = e.open_arbs();
        assert_eq!(arbs.len(), 1);
        assert_eq!(
            (arbs[0].buy_venue, arbs[0].sell_venue),
            (crate::venue!("kraken"), crate::venue!("bybit"))
        );
        let c = e.cbbo(&i("BTC-USDT"));
        assert_eq!(
            c.ask.map(|a| (a.price, a.venue)),
            Some((dec!(100.5), crate::venue!("kraken")))
        );
        assert_eq!(
            c.bid.map(|b| (b.price, b.venue)),
            Some((dec!(101), crate::venue!("bybit")))
        );
        assert_eq!(
            e.cbbo(&i("ETH-USDT")).bid.map(|b| b.price),
            Some(dec!(10)),
            "other books of the venue stay"
        );
        let s = e.snapshot();
        let btc = s
            .instruments
            .iter()
            .find(|v| v.label == "BTC-USDT")
            .unwrap();
        let venues: Vec<Venue> = btc.venues.iter().map(|b| b.venue).collect();
        assert_eq!(venues, [crate::venue!("bybit"), crate::venue!("kraken")]);

        // Subscribed again later: a new book starts from its snapshot.
        e.handle(feed(
            crate::venue!("okx"),
            2 * SEC,
            vec![snap(
                crate::venue!("okx"),
                "BTC-USDT",
                &[(dec!(99), dec!(1))],
                &[(dec!(100), dec!(1))],
            )],
        ));
        assert_eq!(e.open_arbs().len(), 2);
        assert_eq!(e.open_arbs()[0].buy_venue, crate::venue!("okx"));

        // An unwatched key with no book left leaves the snapshot, and a
        // stopped venue's connection rows leave the health view.
        e.handle(EngineInput::Forget {
            venue: crate::venue!("okx"),
            instruments: vec![i("BTC-USDT"), i("ETH-USDT")],
            venue_stopped: true,
        });
        let s = e.snapshot();
        assert!(s.instruments.iter().all(|v| v.label != "ETH-USDT"));
        assert!(s.health.iter().all(|h| h.venue != crate::venue!("okx")));
        assert!(s.health.iter().any(|h| h.venue == crate::venue!("bybit")));
        assert_eq!(e.books().count(), 2);
        // Forgetting what is not there is harmless.
        e.handle(EngineInput::Forget {
            venue: crate::venue!("gemini"),
            instruments: vec![i("BTC-USD")],
            venue_stopped: false,
        });
        assert_eq!(e.open_arbs().len(), 1);
    }

    #[test]
    fn instrument_lists_reach_the_snapshot() {
        let mut e = Engine::new(cfg());
        let list = vec![crate::model::InstrumentInfo {
            instrument: i("SOL-USDT"),
            native: "SOLUSDT".into(),
            tick_size: None,
            lot_size: None,
            contract_size: None,
        }];
        e.handle(feed(
            crate::venue!("binance"),
            SEC,
            vec![MarketEvent::Instruments {
                venue: crate::venue!("binance"),
                list: list.clone(),
            }],
        ));
        let s = e.snapshot();
        assert_eq!(
            s.instrument_lists
                .get(&crate::venue!("binance"))
                .map(|l| l.as_slice()),
            Some(list.as_slice())
        );
    }
}
