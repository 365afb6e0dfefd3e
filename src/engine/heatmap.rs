//! The liquidity heatmap of a view key: a ring of samples of its live books,
//! one column every [`SAMPLE_EVERY`] of engine time (receive-time based, so
//! replays and a fast-driven test clock sample the same way as a live run).
//!
//! A column holds, per venue, the resting size in [`BUCKETS`] price buckets
//! of one step each, centred on the key's CBBO mid at the end of its
//! interval, plus the trades of that interval as merged marks. The pane sums
//! venues for the aggregated view and groups buckets into rows.
//!
//! Memory is bounded by construction: at most [`COLUMNS`] columns (ten
//! minutes), each with at most one entry per venue of [`BUCKETS`] sizes
//! (8 bytes each) and at most [`MAX_MARKS`] trade marks: about 1.3 MB per
//! venue and 4.3 MB of marks, so a key with five venues stays under 16 MB;
//! a column that repeats the previous book state (no input arrived) shares
//! its sizes with it. See [`HeatRing::heap_bytes`] and
//! [`HeatRing::heap_bound`].
//!
//! The step is chosen once per key: the 1-2-5 number nearest to 1 bp of the
//! mid, but at least the coarsest tick a venue of the key declares (and a
//! multiple of it). It changes only when the price moved fourfold or a
//! coarser tick becomes known; the ring restarts then.
//!
//! Sizes are exact: each venue entry stores integer mantissas at one
//! decimal scale (the finest scale its bucket totals need). Only a bucket
//! total that needs more than 19 significant digits is cut to a coarser
//! scale (never reached by a real market). Trade notionals are quote
//! currency, `price × size`, exact.

use std::collections::VecDeque;
use std::sync::Arc;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::book::OrderBook;
use crate::model::{Micros, TakerSide, Venue};

/// One column per this much engine time.
pub const SAMPLE_EVERY: Micros = 250_000;
/// Columns kept: ten minutes at one every 250 ms.
pub const COLUMNS: usize = 2_400;
/// Price buckets per venue entry, half below and half above the mid.
pub const BUCKETS: usize = 64;
/// Trade marks per column: two per venue and side fit, plus two, so a new
/// venue and side can always get its own mark (see [`HeatRing::record_trade`]).
pub const MAX_MARKS: usize = 2 * Venue::COUNT + 2;
/// Levels read per side of one book per sample: bounds the sampling time on
/// full-depth books with very fine ticks.
const MAX_LEVELS_READ: usize = 5_000;
/// A step changes only when the ideal one is this many times larger or
/// smaller.
const RESTEP_FACTOR: i64 = 4;

/// One venue's resting sizes in a column, exact: bucket `i` holds
/// `sizes[i] × 10^-scale` in the base asset.
#[derive(Clone, Debug, PartialEq)]
pub struct VenueLevels {
    pub venue: Venue,
    /// This venue's own mid at the sample (its books', for the venue filter).
    pub mid: Option<Decimal>,
    scale: u32,
    sizes: Box<[u64]>,
}

impl VenueLevels {
    /// The exact size in bucket `i` (0 outside).
    pub fn size(&self, i: usize) -> Decimal {
        self.sizes.get(i).map_or(Decimal::ZERO, |&m| {
            Decimal::from_i128_with_scale(i128::from(m), self.scale)
        })
    }

    /// The size in bucket `i` as a float, for intensities.
    pub fn size_f64(&self, i: usize) -> f64 {
        self.sizes
            .get(i)
            .map_or(0.0, |&m| m as f64 / 10f64.powi(self.scale as i32))
    }

    /// Buckets held (the same for every venue of a column).
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// Every bucket's size as a float, lowest price first.
    pub fn sizes_f64(&self) -> impl Iterator<Item = f64> + '_ {
        let unit = 10f64.powi(-(self.scale as i32));
        self.sizes.iter().map(move |&m| m as f64 * unit)
    }

    /// The sum of buckets `range` (clipped) as a float.
    pub fn sum_f64(&self, range: std::ops::Range<usize>) -> f64 {
        let end = range.end.min(self.sizes.len());
        let start = range.start.min(end);
        let m: u128 = self.sizes[start..end].iter().map(|&m| u128::from(m)).sum();
        m as f64 / 10f64.powi(self.scale as i32)
    }

    fn heap_bytes(&self) -> usize {
        self.sizes.len() * std::mem::size_of::<u64>()
    }
}

/// The books of a column: bucket `i` of every entry covers prices
/// `[(origin + i) × step, (origin + i + 1) × step)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Levels {
    /// The key's CBBO mid at the sample; `None` for a column without books.
    pub mid: Option<Decimal>,
    pub origin: i64,
    /// One entry per venue with a usable book, in venue order.
    pub venues: Vec<VenueLevels>,
}

/// Trades of one venue and side in one price bucket of one interval.
#[derive(Clone, Debug, PartialEq)]
pub struct TradeMark {
    pub venue: Venue,
    pub side: TakerSide,
    /// Volume-weighted price of the merged trades.
    pub price: Decimal,
    pub size: Decimal,
    /// `price × size` summed, in the quote currency.
    pub notional: Decimal,
    pub trades: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Shared with the neighbouring columns while no input changed it.
    pub levels: Arc<Levels>,
    pub marks: Vec<TradeMark>,
}

/// What the snapshot publishes: the ring as it was, shared, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatmapView {
    /// Price per bucket.
    pub step: Decimal,
    pub buckets: usize,
    pub sample_every: Micros,
    /// The interval index (`time / sample_every`) of the newest column.
    pub last_slot: i64,
    pub columns: Vec<Arc<Column>>,
}

impl HeatmapView {
    /// The bucket index holding `price`; `None` when it does not fit.
    pub fn bucket_of(&self, price: Decimal) -> Option<i64> {
        bucket_of(price, self.step)
    }

    /// The lowest price of bucket `b`.
    pub fn price_of(&self, b: i64) -> Option<Decimal> {
        Decimal::from(b).checked_mul(self.step)
    }

    /// Venues present in any column, in venue order.
    pub fn venues(&self) -> Vec<Venue> {
        let mut out: Vec<Venue> = Vec::new();
        for c in &self.columns {
            for v in &c.levels.venues {
                if !out.contains(&v.venue) {
                    out.push(v.venue);
                }
            }
        }
        out.sort();
        out
    }

    /// Engine time at the end of the newest column.
    pub fn end_time(&self) -> Micros {
        self.last_slot
            .saturating_add(1)
            .saturating_mul(self.sample_every)
    }
}

/// A key's ring: closed columns and the marks of the interval still open.
#[derive(Clone, Debug, Default)]
pub struct HeatRing {
    step: Option<Decimal>,
    columns: VecDeque<Arc<Column>>,
    /// Interval index of the newest column.
    last_slot: Option<i64>,
    /// Trades of the open interval.
    pending: Vec<TradeMark>,
    /// The published view, until the ring changes.
    view: Option<Arc<HeatmapView>>,
}

impl HeatRing {
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    pub fn step(&self) -> Option<Decimal> {
        self.step
    }

    /// The columns, oldest first.
    pub fn columns(&self) -> impl Iterator<Item = &Arc<Column>> {
        self.columns.iter()
    }

    /// The shared view; rebuilt only after the ring changed (a new column
    /// every 250 ms at most), so a snapshot per frame copies nothing.
    pub fn view(&mut self) -> Option<Arc<HeatmapView>> {
        let (step, last_slot) = (self.step?, self.last_slot?);
        if self.view.is_none() {
            self.view = Some(Arc::new(HeatmapView {
                step,
                buckets: BUCKETS,
                sample_every: SAMPLE_EVERY,
                last_slot,
                columns: self.columns.iter().cloned().collect(),
            }));
        }
        self.view.clone()
    }

    /// Choose or keep the step for a mid; `true` when it changed (the ring
    /// restarted). `tick` is the coarsest tick of the key's venues, if known.
    pub fn restep(&mut self, mid: Decimal, tick: Option<Decimal>) -> bool {
        let Some(ideal) = ideal_step(mid, tick) else {
            return false;
        };
        let keep = self.step.is_some_and(|s| !needs_restep(s, ideal, tick));
        if keep {
            return false;
        }
        self.step = Some(ideal);
        self.columns.clear();
        self.last_slot = None;
        self.view = None;
        true
    }

    /// Close interval `slot` with `levels` (the books at its end) and the
    /// trades recorded since, then `fill` more intervals in which nothing
    /// arrived: the first `keep` of those repeat the books (nothing changed
    /// them), later ones are empty (the books would have gone stale).
    pub fn close(&mut self, slot: i64, levels: Arc<Levels>, fill: i64, keep: i64) {
        if self.last_slot.is_some_and(|l| slot <= l) {
            return;
        }
        let marks = std::mem::take(&mut self.pending);
        self.push(
            slot,
            Column {
                levels: levels.clone(),
                marks,
            },
        );
        // Only the last ring's worth of filler would stay.
        let fill = fill.max(0);
        let kept = fill.min(COLUMNS as i64);
        let first = slot.saturating_add(fill - kept).saturating_add(1);
        let empty = Arc::new(Levels::default());
        for k in 0..kept {
            let s = first.saturating_add(k);
            let levels = if s.saturating_sub(slot) <= keep {
                levels.clone()
            } else {
                empty.clone()
            };
            self.push(
                s,
                Column {
                    levels,
                    marks: Vec::new(),
                },
            );
        }
    }

    fn push(&mut self, slot: i64, column: Column) {
        if self.columns.len() == COLUMNS {
            self.columns.pop_front();
        }
        self.columns.push_back(Arc::new(column));
        self.last_slot = Some(slot);
        self.view = None;
    }

    /// Add a trade to the open interval. Trades of one venue and side in
    /// one bucket merge into one mark. When the marks are full, the trade
    /// merges into its venue and side's nearest mark; a venue and side
    /// without a mark yet makes room by merging the two nearest marks of
    /// the venue and side holding most (one holds two: [`MAX_MARKS`] is
    /// more than two per venue and side).
    pub fn record_trade(&mut self, venue: Venue, side: TakerSide, price: Decimal, size: Decimal) {
        let Some(notional) = price.checked_mul(size) else {
            return;
        };
        let mark = TradeMark {
            venue,
            side,
            price,
            size,
            notional,
            trades: 1,
        };
        let step = self.step;
        let same_bucket = |m: &TradeMark| match step {
            Some(s) => bucket_of(m.price, s) == bucket_of(price, s),
            None => m.price == price,
        };
        if let Some(m) = self
            .pending
            .iter_mut()
            .find(|m| m.venue == venue && m.side == side && same_bucket(m))
        {
            merge(m, &mark);
            return;
        }
        if self.pending.len() < MAX_MARKS {
            self.pending.push(mark);
            return;
        }
        let distance = |m: &TradeMark| (m.price - price).abs();
        if let Some(m) = self
            .pending
            .iter_mut()
            .filter(|m| m.venue == venue && m.side == side)
            .min_by_key(|m| distance(m))
        {
            merge(m, &mark);
            return;
        }
        self.merge_closest_pair();
        self.pending.push(mark);
    }

    /// Merge the two nearest-priced marks of the venue and side with most.
    fn merge_closest_pair(&mut self) {
        let count = |v: Venue, s: TakerSide, p: &[TradeMark]| {
            p.iter().filter(|m| m.venue == v && m.side == s).count()
        };
        let Some((venue, side)) = self
            .pending
            .iter()
            .map(|m| (m.venue, m.side))
            .max_by_key(|&(v, s)| count(v, s, &self.pending))
        else {
            return;
        };
        let idx: Vec<usize> = (0..self.pending.len())
            .filter(|&i| self.pending[i].venue == venue && self.pending[i].side == side)
            .collect();
        let mut best: Option<(usize, usize, Decimal)> = None;
        for (n, &a) in idx.iter().enumerate() {
            for &b in &idx[n + 1..] {
                let d = (self.pending[a].price - self.pending[b].price).abs();
                if best.is_none_or(|(_, _, bd)| d < bd) {
                    best = Some((a, b, d));
                }
            }
        }
        if let Some((a, b, _)) = best {
            let gone = self.pending.remove(b);
            merge(&mut self.pending[a], &gone);
        }
    }

    /// Heap bytes the ring holds now (sizes shared between columns counted
    /// once per column: an upper estimate).
    pub fn heap_bytes(&self) -> usize {
        let column = |c: &Column| {
            std::mem::size_of::<Column>()
                + std::mem::size_of::<Levels>()
                + c.levels.venues.capacity() * std::mem::size_of::<VenueLevels>()
                + c.levels
                    .venues
                    .iter()
                    .map(VenueLevels::heap_bytes)
                    .sum::<usize>()
                + c.marks.capacity() * std::mem::size_of::<TradeMark>()
        };
        self.columns.capacity() * std::mem::size_of::<Arc<Column>>()
            + self.columns.iter().map(|c| column(c)).sum::<usize>()
            + self.pending.capacity() * std::mem::size_of::<TradeMark>()
    }

    /// The most [`heap_bytes`](Self::heap_bytes) can reach for a key with
    /// `venues` venues.
    pub fn heap_bound(venues: usize) -> usize {
        // A VecDeque allocates at most the next power of two of its length.
        let slots = (COLUMNS + 1).next_power_of_two();
        let entry = std::mem::size_of::<VenueLevels>() + BUCKETS * std::mem::size_of::<u64>();
        // A Vec grown by pushes holds at most the next power of two.
        let marks = MAX_MARKS.next_power_of_two() * std::mem::size_of::<TradeMark>();
        let column = std::mem::size_of::<Column>()
            + std::mem::size_of::<Levels>()
            // Entries are collected from an exact-size iterator: no slack.
            + venues * entry
            + marks;
        slots * std::mem::size_of::<Arc<Column>>() + COLUMNS * column + marks
    }
}

/// A step must change when it is no tick multiple or the ideal one is
/// [`RESTEP_FACTOR`] times away from it.
fn needs_restep(step: Decimal, ideal: Decimal, tick: Option<Decimal>) -> bool {
    let fits_tick = tick.is_none_or(|t| t.is_zero() || (step % t).is_zero());
    let factor = Decimal::from(RESTEP_FACTOR);
    let far = |a: Decimal, b: Decimal| a.checked_mul(factor).is_some_and(|a4| a4 <= b);
    !fits_tick || far(step, ideal) || far(ideal, step)
}

fn merge(into: &mut TradeMark, m: &TradeMark) {
    into.size = into.size.saturating_add(m.size);
    into.notional = into.notional.saturating_add(m.notional);
    into.trades = into.trades.saturating_add(m.trades);
    if let Some(vwap) = into.notional.checked_div(into.size) {
        into.price = vwap;
    }
}

/// The bucket holding `price` at `step`: `floor(price / step)`.
pub fn bucket_of(price: Decimal, step: Decimal) -> Option<i64> {
    price.checked_div(step)?.floor().to_i64()
}

/// The 1-2-5 number nearest (in ratio) to 1 bp of `mid`, at least `tick`
/// and a multiple of it. `None` for a mid that is not positive.
pub fn ideal_step(mid: Decimal, tick: Option<Decimal>) -> Option<Decimal> {
    if mid <= Decimal::ZERO {
        return None;
    }
    let raw = mid.checked_div(Decimal::from(10_000))?;
    let mut best: Option<(f64, Decimal)> = None;
    let raw_f = raw.to_f64()?;
    let target = raw_f.ln();
    // Decades 10^-20 ..= 10^20 cover every price a parser lets through. The
    // nearest 1-2-5 number lies in the decade of `raw` or a neighbour, so
    // only those three are tried (the engine asks at every heatmap sample).
    let decade_of_raw = raw_f.log10().floor();
    let near = |d: f64| (d.clamp(-20.0, 20.0)) as i32;
    for exp in near(decade_of_raw - 1.0)..=near(decade_of_raw + 1.0) {
        let decade = if exp >= 0 {
            Decimal::from_i128_with_scale(10i128.checked_pow(exp as u32)?, 0)
        } else {
            Decimal::from_i128_with_scale(1, (-exp) as u32)
        };
        for m in [1, 2, 5] {
            let Some(c) = decade.checked_mul(Decimal::from(m)) else {
                continue;
            };
            let Some(cf) = c.to_f64() else { continue };
            let d = (cf.ln() - target).abs();
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, c));
            }
        }
    }
    let (_, step) = best?;
    match tick {
        Some(t) if t > Decimal::ZERO => {
            if step <= t {
                Some(t)
            } else {
                // Round up to a tick multiple.
                let n = step.checked_div(t)?.ceil();
                n.checked_mul(t)
            }
        }
        _ => Some(step.normalize()),
    }
}

/// Sample books into a column centred on `mid`. Books of one venue (a
/// quote group may hold several) add into one entry. `None` when the window
/// does not fit in a `Decimal`.
pub fn sample<'a>(
    step: Decimal,
    mid: Decimal,
    books: impl IntoIterator<Item = (Venue, &'a OrderBook)>,
) -> Option<Levels> {
    let half = (BUCKETS / 2) as i64;
    let origin = bucket_of(mid, step)?.checked_sub(half)?;
    let low = Decimal::from(origin).checked_mul(step)?;
    let high = Decimal::from(origin.checked_add(BUCKETS as i64)?).checked_mul(step)?;
    let mut acc: Vec<(Venue, Vec<Decimal>, Option<Decimal>)> = Vec::new();
    for (venue, book) in books {
        let pos = match acc.iter().position(|(v, _, _)| *v == venue) {
            Some(p) => p,
            None => {
                acc.push((venue, vec![Decimal::ZERO; BUCKETS], book.mid()));
                acc.len() - 1
            }
        };
        let sums = &mut acc[pos].1;
        add_bids(sums, book, low, high, step);
        add_asks(sums, book, low, high, step);
    }
    acc.sort_by_key(|(v, _, _)| *v);
    Some(Levels {
        mid: Some(mid),
        origin,
        venues: acc
            .into_iter()
            .map(|(venue, sums, mid)| encode(venue, mid, &sums))
            .collect(),
    })
}

/// Bids best (highest) first: walk buckets downwards, dividing only once.
fn add_bids(sums: &mut [Decimal], book: &OrderBook, low: Decimal, high: Decimal, step: Decimal) {
    let mut cur: Option<(usize, Decimal)> = None; // bucket, its lower bound
    for l in book.bids.iter().take(MAX_LEVELS_READ) {
        if l.price >= high {
            continue;
        }
        if l.price < low {
            break;
        }
        let (mut i, mut lb) = match cur {
            Some(c) => c,
            None => match first_bucket(l.price, low, step) {
                Some(c) => c,
                None => return,
            },
        };
        while l.price < lb && i > 0 {
            i -= 1;
            lb = lb.saturating_sub(step);
        }
        if let Some(s) = sums.get_mut(i) {
            *s = s.saturating_add(l.size);
        }
        cur = Some((i, lb));
    }
}

/// Asks best (lowest) first: walk buckets upwards.
fn add_asks(sums: &mut [Decimal], book: &OrderBook, low: Decimal, high: Decimal, step: Decimal) {
    let mut cur: Option<(usize, Decimal)> = None; // bucket, its upper bound
    for l in book.asks.iter().take(MAX_LEVELS_READ) {
        if l.price < low {
            continue;
        }
        if l.price >= high {
            break;
        }
        let (mut i, mut ub) = match cur {
            Some(c) => c,
            None => match first_bucket(l.price, low, step) {
                Some((i, lb)) => (i, lb.saturating_add(step)),
                None => return,
            },
        };
        while l.price >= ub && i + 1 < BUCKETS {
            i += 1;
            ub = ub.saturating_add(step);
        }
        if let Some(s) = sums.get_mut(i) {
            *s = s.saturating_add(l.size);
        }
        cur = Some((i, ub));
    }
}

/// The bucket of a price inside the window and its lower bound.
fn first_bucket(price: Decimal, low: Decimal, step: Decimal) -> Option<(usize, Decimal)> {
    let i = price
        .checked_sub(low)?
        .checked_div(step)?
        .floor()
        .to_usize()?
        .min(BUCKETS - 1);
    let lb = low.checked_add(Decimal::from(i).checked_mul(step)?)?;
    Some((i, lb))
}

/// Integer mantissas at the finest scale the totals need; a coarser scale
/// only when a mantissa would not fit in 64 bits.
fn encode(venue: Venue, mid: Option<Decimal>, sums: &[Decimal]) -> VenueLevels {
    let sums: Vec<Decimal> = sums
        .iter()
        .map(|d| d.max(&Decimal::ZERO).normalize())
        .collect();
    let mut scale = sums.iter().map(Decimal::scale).max().unwrap_or(0);
    loop {
        let sizes: Option<Vec<u64>> = sums.iter().map(|d| mantissa_at(*d, scale)).collect();
        match sizes {
            Some(sizes) => {
                return VenueLevels {
                    venue,
                    mid,
                    scale,
                    sizes: sizes.into_boxed_slice(),
                };
            }
            None if scale > 0 => scale -= 1,
            None => {
                let sizes = sums
                    .iter()
                    .map(|d| d.trunc().to_u64().unwrap_or(u64::MAX))
                    .collect::<Vec<_>>();
                return VenueLevels {
                    venue,
                    mid,
                    scale: 0,
                    sizes: sizes.into_boxed_slice(),
                };
            }
        }
    }
}

/// `d × 10^scale` as an integer (truncated when `d` is finer), if it fits.
fn mantissa_at(d: Decimal, scale: u32) -> Option<u64> {
    let (m, s) = (d.mantissa(), d.scale());
    let v = if s <= scale {
        m.checked_mul(10i128.checked_pow(scale - s)?)?
    } else {
        m / 10i128.checked_pow(s - scale)?
    };
    u64::try_from(v).ok()
}

impl super::Engine {
    /// Close heatmap interval `slot` for every key (see [`HeatRing::close`]);
    /// `fill` intervals after it passed without input.
    pub(super) fn close_heat(&mut self, slot: i64, fill: i64) {
        let keep = self.cfg.stale_after / SAMPLE_EVERY;
        for k in 0..self.keys.iter().len() {
            let tick = self.key_tick(k);
            let super::Engine { keys, books, .. } = self;
            let ks = &mut keys[k];
            let mid = ks.cbbo.mid();
            if let Some(m) = mid {
                ks.heatmap.restep(m, tick);
            }
            let Some(step) = ks.heatmap.step() else {
                // Nothing to place trades against yet.
                ks.heatmap.pending.clear();
                continue;
            };
            let usable = ks
                .slots
                .iter()
                .map(|&s| books.slot(s))
                .filter(|b| b.top.usable)
                .map(|b| (b.venue, &b.book));
            let levels = mid
                .and_then(|m| sample(step, m, usable))
                .unwrap_or_default();
            ks.heatmap.close(slot, Arc::new(levels), fill, keep);
        }
    }

    /// The coarsest tick the key's books declare (instrument lists), cached
    /// until a list arrives or the key's books change.
    fn key_tick(&mut self, k: usize) -> Option<Decimal> {
        let (lists_gen, n) = (self.lists_gen, self.keys[k].slots.len());
        if let Some((g, m, tick)) = self.keys[k].heat_tick
            && g == lists_gen
            && m == n
        {
            return tick;
        }
        let tick = self.keys[k]
            .slots
            .iter()
            .filter_map(|&s| {
                let slot = self.books.slot(s);
                self.instrument_lists
                    .get(&slot.venue)?
                    .iter()
                    .find(|i| i.instrument == slot.instrument)?
                    .tick_size
            })
            .filter(|t| *t > Decimal::ZERO)
            .max();
        self.keys[k].heat_tick = Some((lists_gen, n, tick));
        tick
    }
}

#[cfg(test)]
mod tests;
