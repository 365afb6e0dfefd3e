//! Queries and the snapshot: everything shown but not needed by the
//! incremental recompute (aggregated books, labels, pair statistics, health
//! rows) is built here, at most once per UI frame.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::book::OrderBook;
use crate::model::{FundingUpdate, Instrument, Venue};

use super::books::SlotId;
use super::recompute::pair_ctx;
use super::snapshot::{
    ArbOpportunity, ArbPairStats, Cbbo, CbboSide, ConnHealth, InstrumentView, Snapshot, VenueBook,
};
use super::{BookRef, Engine, EngineTotals, LIQ_WINDOW, aggregate, cbbo};

impl Engine {
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
        match self.keys.get(&self.groups.key_of(key)) {
            Some(k) => self.cbbo_of(k),
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
            .flat_map(|ks| ks.pairs.iter().filter_map(|(_, t)| t.open.clone()))
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
            for ((buy, sell), track) in ks.pairs.iter() {
                let Some(quote) = self.pair_quote(ks, buy, sell) else {
                    continue;
                };
                let (bs, ss) = (
                    self.books.slot(ks.slots[buy]),
                    self.books.slot(ks.slots[sell]),
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
    /// opportunity's time so far and what was seeded from a store.
    fn pair_stats(&self) -> Vec<ArbPairStats> {
        type Row = (ArbPairStats, Option<Decimal>);
        let mut stats: BTreeMap<(Instrument, Venue, Venue), Row> = BTreeMap::new();
        for ks in &self.keys {
            for ((buy, sell), track) in ks.pairs.iter() {
                let quote = self.pair_quote(ks, buy, sell);
                if track.count == 0 && quote.is_none() {
                    continue;
                }
                let (bs, ss) = (
                    self.books.slot(ks.slots[buy]),
                    self.books.slot(ks.slots[sell]),
                );
                let current = quote.as_ref().and_then(|q| {
                    q.figures(self.fees.of(bs.venue).bps, self.fees.of(ss.venue).bps)
                        .map(|f| f.net_bps)
                });
                // Saturating: times come from the network and may be absurd.
                let open_for = track
                    .open
                    .as_ref()
                    .map_or(0, |o| self.now.saturating_sub(o.opened).max(0));
                let best = max_opt(
                    track.best_net_bps,
                    track.open.as_ref().map(|o| o.peak_net_bps),
                );
                let (row, row_best) = stats
                    .entry((ks.key, bs.venue, ss.venue))
                    .or_insert_with(|| (no_stats(ks.key, bs.venue, ss.venue), None));
                row.count = row.count.saturating_add(track.count);
                row.total_open = row
                    .total_open
                    .saturating_add(track.total_open)
                    .saturating_add(open_for);
                row.longest = row.longest.max(track.longest).max(open_for);
                row.current_net_bps = max_opt(row.current_net_bps, current);
                *row_best = max_opt(*row_best, best);
            }
        }
        for (&(key, buy_venue, sell_venue), t) in &self.seeded_pairs {
            let (row, row_best) = stats
                .entry((key, buy_venue, sell_venue))
                .or_insert_with(|| (no_stats(key, buy_venue, sell_venue), None));
            row.count = row.count.saturating_add(t.count);
            row.total_open = row.total_open.saturating_add(t.total_open);
            row.longest = row.longest.max(t.longest);
            *row_best = max_opt(*row_best, t.best_net_bps);
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
        let liquidations_5m_usd = self.liqs.usd_since(
            |i| self.groups.key_of(i) == key,
            self.now.saturating_sub(LIQ_WINDOW),
        );
        let funding: Vec<(Venue, FundingUpdate)> = self
            .derivs
            .latest()
            .filter(|((_, i), _)| self.groups.key_of(i) == key)
            .map(|((v, _), u)| (*v, u.clone()))
            .collect();
        let Some(k) = self.keys.get(&key) else {
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
        let best_net_bps = ks
            .pairs
            .iter()
            .filter_map(|((buy, sell), _)| {
                let q = self.pair_quote(ks, buy, sell)?;
                let (bv, sv) = (
                    self.books.slot(ks.slots[buy]).venue,
                    self.books.slot(ks.slots[sell]).venue,
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
            sinks: self.notices.health(),
            queue_depth: self.health.queue_depth(),
            arb_stats: self.pair_stats(),
            liquidations: self.liqs.view(self.now, self.cfg.liq_min_notional_usd),
            trades: self.trades.view(self.now, self.cfg.large_trade_usd),
            health: self.health_view(),
            instrument_lists: self.instrument_lists.clone(),
            derivatives: self.derivs.view(self.now, &DerivCtx::of(self)),
            heatmaps: self
                .keys
                .iter_mut()
                .filter_map(|ks| Some((ks.key, ks.heatmap.view()?)))
                .collect(),
            candles: self.candles.view(&self.groups),
        }
    }
}

/// What the derivatives views need from the rest of the engine.
pub(super) struct DerivCtx<'a> {
    pub(super) groups: &'a super::groups::QuoteGroups,
    pub(super) keys: &'a super::keys::Keys,
    pub(super) usd: &'a super::usd::UsdRates,
    pub(super) fees: &'a super::arb::Fees,
    pub(super) lists: &'a BTreeMap<Venue, std::sync::Arc<Vec<crate::model::InstrumentInfo>>>,
}

impl<'a> DerivCtx<'a> {
    pub(super) fn of(e: &'a Engine) -> Self {
        DerivCtx {
            groups: &e.groups,
            keys: &e.keys,
            usd: &e.usd,
            fees: &e.fees,
            lists: &e.instrument_lists,
        }
    }
}

impl super::derivs::Context for DerivCtx<'_> {
    fn key_of(&self, i: &Instrument) -> Instrument {
        self.groups.key_of(i)
    }

    fn spot_mid(&self, key: &Instrument) -> Option<Decimal> {
        self.keys.get(key).and_then(|k| self.keys[k].cbbo.mid())
    }

    fn usd(&self, i: &Instrument, price: Decimal, size: Decimal) -> Option<f64> {
        self.usd.notional_usd(i, price, size)
    }

    fn contract(&self, venue: Venue, i: &Instrument) -> (Option<Decimal>, Option<Decimal>) {
        self.lists
            .get(&venue)
            .and_then(|l| l.iter().find(|x| x.instrument == *i))
            .map_or((None, None), |x| (x.contract_size, x.contract_usd))
    }

    fn taker_fee_bps(&self, venue: Venue) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.fees.of(venue).bps.to_f64().unwrap_or(0.0)
    }
}
/// A pair's statistics before anything is counted.
fn no_stats(key: Instrument, buy_venue: Venue, sell_venue: Venue) -> ArbPairStats {
    ArbPairStats {
        key,
        buy_venue,
        sell_venue,
        count: 0,
        total_open: 0,
        longest: 0,
        best_net_bps: Decimal::ZERO,
        current_net_bps: None,
    }
}

fn max_opt(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
