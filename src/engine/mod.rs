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
//!
//! Layout, one job per module: this one holds the [`Engine`] and dispatches
//! its inputs; `keys` keeps the key table and moves books in and out of it
//! (each key's venue pairs in a [`pairs::PairMatrix`]); `recompute` is the
//! incremental update of tops, CBBO and pair walks; `views` answers queries
//! and builds the snapshot. The maths lives beside them: [`cbbo`], [`arb`],
//! [`aggregate`], [`usd`], and the statistics in [`liquidations`],
//! [`trades`], [`health`] over [`window`].
//!
//! Arithmetic on what came from the network never panics or wraps: decimal
//! steps are `checked_*` (a figure that would not fit is dropped — `None`,
//! no row — rather than shown wrong; sums of sizes saturate), and time
//! differences saturate. The engine clock only moves forward from 0, so
//! differences of engine times fit anyway; receive and exchange times of
//! events may be anything in `i64`, and ages, windows and latencies built
//! from them saturate at the ends of the range.

pub mod aggregate;
pub mod arb;
pub mod books;
pub mod candles;
pub mod cbbo;
pub mod config;
pub mod derivs;
pub mod groups;
pub mod health;
pub mod heatmap;
pub mod input;
mod keys;
pub mod latency;
pub mod liquidations;
pub mod notices;
pub mod pairs;
mod recompute;
pub mod runner;
pub mod seed;
pub mod snapshot;
pub mod trades;
pub mod usd;
mod views;
pub mod window;

pub use config::EngineConfig;
pub use input::{EngineInput, POLL_CONN, REST_CONN};
pub use runner::{EngineControl, INPUT_CAPACITY};
pub use seed::{PairSeed, Seed};
pub use snapshot::Snapshot;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::book::{Applied, OrderBook};
use crate::model::{
    BookState, Instrument, InstrumentInfo, MarketEvent, Micros, OutOfSyncReason, Venue,
};

use arb::{Fees, Thresholds};
use books::{Books, ConnId, SlotId};
use groups::QuoteGroups;
use health::HealthTracker;
use keys::Keys;
use liquidations::LiquidationStats;
use notices::{Notice, Notices, SinkStatus};
use snapshot::{ClosedArb, ConnState};
use trades::TradeStats;
use usd::UsdRates;

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

pub struct Engine {
    cfg: EngineConfig,
    groups: QuoteGroups,
    fees: Fees,
    thresholds: Thresholds,
    books: Books,
    keys: Keys,
    /// Funding, open interest, basis, spikes per perpetual and venue.
    derivs: derivs::Derivs,
    /// Candles per venue and aggregated, every interval.
    candles: candles::Candles,
    /// Latest instrument list per venue (passed through to snapshots).
    instrument_lists: BTreeMap<Venue, Arc<Vec<InstrumentInfo>>>,
    /// Closed opportunities, newest first.
    history: VecDeque<ClosedArb>,
    /// Pair statistics seeded from a store, beside the live ones.
    seeded_pairs: seed::SeededPairs,
    usd: UsdRates,
    liqs: LiquidationStats,
    trades: TradeStats,
    health: HealthTracker,
    /// Latest time seen (receive times, connection events, ticks).
    now: Micros,
    /// The heatmap interval `now` falls in (`None` before the first input).
    heat_slot: Option<i64>,
    /// The heatmap is sampled (off for runs that show no heatmap).
    heatmap_on: bool,
    /// Bumped when a venue's instrument list (with its ticks) arrives.
    lists_gen: u64,
    version: u64,
    /// Something changed since the last snapshot.
    changed: bool,
    last_snapshot_now: Micros,
    book_updates: u64,
    crossed_books: u64,
    /// Books touched by the input being handled.
    dirty: Vec<SlotId>,
    /// Sinks and what this input gave them.
    notices: Notices,
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Self {
        Engine {
            groups: QuoteGroups::new(&cfg.quote_groups),
            fees: Fees::from_config(&cfg),
            thresholds: Thresholds::from_config(&cfg),
            books: Books::default(),
            keys: Keys::default(),
            derivs: derivs::Derivs::new(cfg.spikes, cfg.funding_hold_days),
            candles: candles::Candles::new(),
            instrument_lists: BTreeMap::new(),
            history: VecDeque::new(),
            seeded_pairs: seed::SeededPairs::new(),
            usd: UsdRates::new(),
            liqs: LiquidationStats::new(cfg.liq_tape_len),
            trades: TradeStats::new(cfg.trade_tape_len),
            health: HealthTracker::new(),
            now: 0,
            heat_slot: None,
            heatmap_on: true,
            lists_gen: 0,
            version: 0,
            changed: false,
            last_snapshot_now: 0,
            book_updates: 0,
            crossed_books: 0,
            dirty: Vec::new(),
            notices: Notices::default(),
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
            self.candles.regroup(&self.groups);
            self.forget_seeded_pairs();
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
                if self.notices.wanted() {
                    for e in &events {
                        if let MarketEvent::Incident {
                            venue,
                            instrument,
                            incident,
                            detail,
                        } = e
                            && !matches!(incident, crate::model::Incident::ChecksumOk)
                        {
                            self.notices.push(Notice::Incident {
                                venue: *venue,
                                instrument: *instrument,
                                incident: *incident,
                                detail: detail.clone(),
                                at: received,
                            });
                        }
                    }
                }
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
                if self.notices.wanted() {
                    self.notices.push(Notice::Conn {
                        venue,
                        conn: conn.clone(),
                        state: state.clone(),
                        at,
                    });
                }
                self.health.on_conn(venue, &conn, state, at);
                self.changed = true;
            }
            EngineInput::Tick { now } => {
                self.advance(now);
                if self.now.saturating_sub(self.last_snapshot_now) >= IDLE_REFRESH {
                    self.changed = true;
                }
            }
            EngineInput::Forget {
                venue,
                instruments,
                venue_stopped,
            } => {
                self.forget(venue, &instruments);
                self.candles.forget(venue, &instruments, &self.groups);
                if venue_stopped {
                    self.health.forget_venue(venue);
                }
                self.changed = true;
            }
            EngineInput::VenueReset { venue, reason } => {
                self.venue_reset(venue, reason);
                self.changed = true;
            }
        }
        let dirty = &mut self.dirty;
        self.books
            .check_stale(self.now, self.cfg.stale_after, |s| dirty.push(s));
        self.flush_dirty();
        self.close_minutes();
        if self.candles.tick(self.now, &self.groups) {
            self.changed = true;
        }
        for m in self.candles.take_minutes() {
            self.notices.push(Notice::Candle(m));
        }
        self.notices.flush();
    }

    /// Close the derivatives minutes engine time passed: spikes and samples
    /// go to the sinks.
    fn close_minutes(&mut self) {
        // Field by field: the derivatives are borrowed mutably beside them.
        let ctx = views::DerivCtx {
            groups: &self.groups,
            keys: &self.keys,
            usd: &self.usd,
            fees: &self.fees,
            lists: &self.instrument_lists,
        };
        let (spikes, samples) = self.derivs.tick(self.now, &ctx);
        if !spikes.is_empty() {
            self.changed = true;
        }
        for s in spikes {
            self.notices.push(Notice::Spike(s));
        }
        if self.notices.wanted() {
            for s in samples {
                self.notices.push(Notice::DerivSample(s));
            }
        }
    }

    /// Register a sink (alerts, store, bus, metrics): it receives every
    /// [`Notice`] from now on through a bounded channel; what does not fit
    /// is dropped and counted, never waited for.
    pub fn add_sink(
        &mut self,
        name: &str,
        capacity: usize,
    ) -> (tokio::sync::mpsc::Receiver<Arc<Notice>>, Arc<SinkStatus>) {
        self.notices.add(name, capacity)
    }

    /// See [`EngineInput::VenueReset`]. The opportunities close here, with
    /// the reason, before the recompute (which would only say "out of sync").
    fn venue_reset(&mut self, venue: Venue, reason: String) {
        let why = format!("{venue} out of sync: {reason}");
        let state = BookState::OutOfSync(OutOfSyncReason::Venue(reason));
        let marked = self.books.mark_venue(venue, &state);
        for &s in &marked {
            self.close_pairs(s, &why);
        }
        self.history.truncate(self.cfg.arb_history);
        self.dirty.extend(marked);
    }

    /// Whether to keep the heatmap. A run without a screen (headless,
    /// replay, collect) prints no heatmap, and sampling every book four
    /// times a second of market time is a tenth of a replay's work.
    pub fn set_heatmap(&mut self, on: bool) {
        self.heatmap_on = on;
        if !on {
            self.heat_slot = None;
        }
    }

    /// Move the clock on; crossing into a new heatmap interval closes the
    /// old one first, with the books as they were at its end.
    fn advance(&mut self, t: Micros) {
        let now = self.now.max(t);
        if !self.heatmap_on {
            self.now = now;
            return;
        }
        let slot = now.div_euclid(heatmap::SAMPLE_EVERY);
        match self.heat_slot {
            Some(cur) if slot > cur => {
                self.close_heat(cur, slot.saturating_sub(cur).saturating_sub(1));
                self.heat_slot = Some(slot);
            }
            Some(_) => {}
            None => self.heat_slot = Some(slot),
        }
        self.now = now;
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
                self.derivs.on_trade(&t, usd);
                if let Some(k) = self.keys.get(&key).filter(|_| self.heatmap_on) {
                    self.keys[k]
                        .heatmap
                        .record_trade(t.venue, t.side, t.price, t.size);
                }
                self.candles.on_trade(&t, &self.groups);
                if let Some(row) = self.trades.record(&t, key, usd, self.cfg.large_trade_usd) {
                    self.notices.push(Notice::LargeTrade(row));
                }
            }
            MarketEvent::Liquidation(l) => {
                let usd = self.usd.notional_usd(&l.instrument, l.price, l.size);
                let row = self.liqs.record(&l, usd);
                self.notices.push(Notice::Liquidation(row));
            }
            MarketEvent::Funding(f) => self.derivs.on_funding(&f, self.now),
            MarketEvent::History {
                venue,
                instrument,
                kind,
                points,
            } => self.derivs.on_history(venue, instrument, kind, &points),
            MarketEvent::Klines {
                venue,
                instrument,
                timeframe,
                open_rule,
                klines,
            } => self.candles.on_klines(
                venue,
                instrument,
                timeframe,
                open_rule,
                &klines,
                self.now,
                &self.groups,
            ),
            // Instrument lists are for the UI's completion.
            MarketEvent::Instruments { venue, list } => {
                self.instrument_lists.insert(venue, Arc::new(list));
                self.lists_gen += 1;
            }
            // Counted by health.
            MarketEvent::Incident { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests;
