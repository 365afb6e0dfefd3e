//! Candles per instrument and venue, and aggregated across the venues of a
//! view key (quote groups respected as CBBO respects them:
//! [`super::groups`]), for every [`Timeframe`], built from the trades the
//! engine receives and seeded from the venues' REST klines at start.
//!
//! Memory is bounded: each series keeps [`series::RING`] closed candles,
//! each aggregate as many; the list of recently closed candles (for the
//! headless `candle` lines) keeps [`RECENT`].
//!
//! An aggregate candle is *settled* once no venue under its key still
//! builds that interval (each venue closes on its own trades or clock); it
//! is then merged once ([`candle::merge`]) and kept. The intervals still
//! being built are merged at each snapshot, usually one.

pub mod candle;
pub mod series;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::groups::QuoteGroups;
use crate::model::{CandleOpen, Instrument, Kline, Micros, Timeframe, Trade, Venue};

pub use candle::{Candle, merge};
use series::{Added, Series};

/// Recently closed candles kept for the headless `candle` lines.
pub const RECENT: usize = 1_024;

/// Whose candles a series holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum CandleSource {
    /// Every venue under the key, volume-weighted.
    Aggregate,
    /// One venue's native instrument.
    Venue(Venue, Instrument),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct SeriesKey {
    /// The view key (quote-group key) the series belongs to.
    pub key: Instrument,
    pub source: CandleSource,
    pub timeframe: Timeframe,
}

/// One series as a snapshot holds it.
#[derive(Clone, Debug, Default)]
pub struct SeriesView {
    /// Closed candles, oldest first.
    pub closed: Arc<[Candle]>,
    /// The candle being built.
    pub open: Option<Candle>,
}

impl SeriesView {
    pub fn len(&self) -> usize {
        self.closed.len() + usize::from(self.open.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Candle `i`, oldest first, the open one last.
    pub fn get(&self, i: usize) -> Option<&Candle> {
        self.closed.get(i).or_else(|| {
            (i == self.closed.len())
                .then_some(self.open.as_ref())
                .flatten()
        })
    }

    /// Every candle, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Candle> {
        self.closed.iter().chain(self.open.iter())
    }
}

/// A candle that closed, for the headless `candle` lines.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosedCandle {
    /// Increases by one per closed candle.
    pub seq: u64,
    pub key: Instrument,
    pub source: CandleSource,
    pub timeframe: Timeframe,
    /// The venues in it (one for a venue's candle).
    pub venues: Vec<Venue>,
    pub candle: Candle,
}

/// A closed one-minute candle of one venue's instrument: what the store
/// keeps (the longer intervals and the aggregates are rebuilt from these
/// when they are restored).
#[derive(Clone, Debug, PartialEq)]
pub struct MinuteCandle {
    pub venue: Venue,
    pub instrument: Instrument,
    pub candle: Candle,
}

/// Candles in a snapshot.
#[derive(Clone, Debug, Default)]
pub struct CandlesView {
    pub series: BTreeMap<SeriesKey, SeriesView>,
    /// The last [`RECENT`] closed candles, oldest first.
    pub recent: Arc<Vec<ClosedCandle>>,
    /// Trades whose interval had already closed (dropped).
    pub late_trades: u64,
    /// Klines refused by the seeding (misaligned or inconsistent).
    pub bad_klines: u64,
}

impl CandlesView {
    pub fn get(
        &self,
        key: Instrument,
        source: CandleSource,
        timeframe: Timeframe,
    ) -> Option<&SeriesView> {
        self.series.get(&SeriesKey {
            key,
            source,
            timeframe,
        })
    }

    /// The venue sources under `key`, in order.
    pub fn sources(&self, key: Instrument) -> Vec<CandleSource> {
        let mut out: Vec<CandleSource> = self
            .series
            .keys()
            .filter(|k| k.key == key && k.timeframe == Timeframe::M1)
            .map(|k| k.source)
            .filter(|s| *s != CandleSource::Aggregate)
            .collect();
        out.dedup();
        out
    }
}

/// The settled part of one aggregate.
#[derive(Clone, Debug, Default)]
struct Agg {
    /// Candles before `boundary`, merged.
    settled: Arc<[Candle]>,
    /// Start of the oldest interval some venue still builds.
    boundary: Micros,
    /// Newest start already reported as closed.
    reported: Micros,
}

type BookKey = (Venue, Instrument);

#[derive(Clone, Debug, Default)]
pub struct Candles {
    series: BTreeMap<BookKey, Vec<Series>>,
    aggs: BTreeMap<(Instrument, Timeframe), Agg>,
    recent: VecDeque<ClosedCandle>,
    recent_shared: Option<Arc<Vec<ClosedCandle>>>,
    next_seq: u64,
    late: u64,
    bad_klines: u64,
    /// Earliest time the clock may close a candle.
    next_due: Option<Micros>,
    /// One-minute venue candles closed since the last [`Candles::take_minutes`].
    minutes: Vec<MinuteCandle>,
}

impl Candles {
    pub fn new() -> Self {
        Candles::default()
    }

    fn book(&mut self, book: BookKey) -> &mut Vec<Series> {
        self.series
            .entry(book)
            .or_insert_with(|| Timeframe::ALL.iter().map(|tf| Series::new(*tf)).collect())
    }

    /// One trade (validated by its adapter).
    pub fn on_trade(&mut self, t: &Trade, groups: &QuoteGroups) {
        let at = t.exchange_ts.unwrap_or(t.received);
        let book = (t.venue, t.instrument);
        let mut closed = Vec::new();
        let mut late = false;
        let mut due = self.next_due;
        for s in self.book(book).iter_mut() {
            match s.add(at, t.received, t.price, t.size, t.side) {
                Added::Late => late = true,
                Added::Ok { closed: c } => {
                    closed.extend(c.into_iter().map(|c| (s.timeframe(), c)));
                }
            }
            due = min_opt(due, s.due());
        }
        self.next_due = due;
        if late {
            self.late += 1;
        }
        let key = groups.key_of(&book.1);
        if !self.aggs.contains_key(&(key, Timeframe::M1)) {
            for tf in Timeframe::ALL {
                self.refresh(key, tf, groups, false);
            }
        }
        self.after_closes(book, closed, groups);
    }

    /// The one-minute venue candles closed since the last call, oldest
    /// first (for the sinks: the store keeps them).
    pub fn take_minutes(&mut self) -> Vec<MinuteCandle> {
        std::mem::take(&mut self.minutes)
    }

    /// Restore one venue's instrument from stored one-minute candles
    /// (oldest first) at engine time `now`, before any trade: the minutes
    /// become its 1m series, and each longer interval is rolled up from
    /// them (partial where minutes are missing). An interval still running
    /// at `now` becomes the open candle, partial; the time between the last
    /// stored minute and the first trade is a gap, never flat candles.
    pub fn restore(
        &mut self,
        venue: Venue,
        instrument: Instrument,
        minutes: &[Candle],
        now: Micros,
        groups: &QuoteGroups,
    ) {
        if minutes.is_empty() {
            return;
        }
        let list = self.book((venue, instrument));
        for s in list.iter_mut() {
            s.restore(&series::roll_up(minutes, s.timeframe()), now);
        }
        let due = list.iter().filter_map(Series::due).min();
        self.next_due = min_opt(self.next_due, due);
        let key = groups.key_of(&instrument);
        for tf in Timeframe::ALL {
            self.refresh(key, tf, groups, false);
        }
    }

    /// Time passed: close the candles whose interval is over. True when
    /// one closed.
    pub fn tick(&mut self, now: Micros, groups: &QuoteGroups) -> bool {
        if self.next_due.is_none_or(|d| now < d) {
            return false;
        }
        let mut closes: Vec<(BookKey, Timeframe, Candle)> = Vec::new();
        let mut due = None;
        for (book, list) in &mut self.series {
            for s in list.iter_mut() {
                if let Some(c) = s.tick(now) {
                    closes.push((*book, s.timeframe(), c));
                }
                due = min_opt(due, s.due());
            }
        }
        self.next_due = due;
        let mut by_book: BTreeMap<BookKey, Vec<(Timeframe, Candle)>> = BTreeMap::new();
        for (book, tf, c) in closes {
            by_book.entry(book).or_default().push((tf, c));
        }
        let any = !by_book.is_empty();
        for (book, closed) in by_book {
            self.after_closes(book, closed, groups);
        }
        any
    }

    /// Klines of one venue's instrument, received at engine time `now`.
    #[allow(clippy::too_many_arguments)]
    pub fn on_klines(
        &mut self,
        venue: Venue,
        instrument: Instrument,
        timeframe: Timeframe,
        rule: CandleOpen,
        klines: &[Kline],
        now: Micros,
        groups: &QuoteGroups,
    ) {
        let book = (venue, instrument);
        let list = self.book(book);
        let mut bad = 0;
        for s in list.iter_mut() {
            if s.timeframe() == timeframe {
                bad += s.seed(rule, klines, now);
            } else {
                // The venue's rule holds for every interval.
                s.seed(rule, &[], now);
            }
        }
        let due = list.iter().filter_map(Series::due).min();
        self.bad_klines += bad as u64;
        self.next_due = min_opt(self.next_due, due);
        self.refresh(groups.key_of(&instrument), timeframe, groups, false);
    }

    /// The feed no longer carries these instruments of `venue`.
    pub fn forget(&mut self, venue: Venue, instruments: &[Instrument], groups: &QuoteGroups) {
        let mut keys = Vec::new();
        for i in instruments {
            if self.series.remove(&(venue, *i)).is_some() {
                keys.push(groups.key_of(i));
            }
        }
        keys.sort();
        keys.dedup();
        for key in keys {
            for tf in Timeframe::ALL {
                self.refresh(key, tf, groups, false);
            }
        }
    }

    /// The quote groups changed: aggregates are rebuilt under the new keys.
    pub fn regroup(&mut self, groups: &QuoteGroups) {
        self.aggs.clear();
        let mut keys: Vec<Instrument> = self.series.keys().map(|(_, i)| groups.key_of(i)).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            for tf in Timeframe::ALL {
                self.refresh(key, tf, groups, false);
            }
        }
    }

    fn push_recent(&mut self, c: ClosedCandle) {
        self.recent.push_back(c);
        while self.recent.len() > RECENT {
            self.recent.pop_front();
        }
        self.recent_shared = None;
    }

    fn after_closes(
        &mut self,
        book: BookKey,
        closed: Vec<(Timeframe, Candle)>,
        groups: &QuoteGroups,
    ) {
        if closed.is_empty() {
            return;
        }
        let key = groups.key_of(&book.1);
        let mut tfs = Vec::new();
        for (tf, candle) in closed {
            if tf == Timeframe::M1 {
                self.minutes.push(MinuteCandle {
                    venue: book.0,
                    instrument: book.1,
                    candle: candle.clone(),
                });
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            self.push_recent(ClosedCandle {
                seq,
                key,
                source: CandleSource::Venue(book.0, book.1),
                timeframe: tf,
                venues: vec![book.0],
                candle,
            });
            if !tfs.contains(&tf) {
                tfs.push(tf);
            }
        }
        for tf in tfs {
            self.refresh(key, tf, groups, true);
        }
    }

    /// The series under `key` for one interval.
    fn members<'a>(
        series: &'a BTreeMap<BookKey, Vec<Series>>,
        key: Instrument,
        tf: Timeframe,
        groups: &'a QuoteGroups,
    ) -> impl Iterator<Item = (&'a BookKey, &'a Series)> + 'a {
        series
            .iter()
            .filter(move |((_, i), _)| groups.key_of(i) == key)
            .filter_map(move |(b, list)| list.get(tf.index()).map(|s| (b, s)))
    }

    /// Re-merge the settled candles of one aggregate; with `report`, the
    /// newly settled ones are closed candles (only when two or more venue
    /// series make the aggregate: one venue's aggregate is its candle).
    fn refresh(&mut self, key: Instrument, tf: Timeframe, groups: &QuoteGroups, report: bool) {
        let members: Vec<(&BookKey, &Series)> =
            Self::members(&self.series, key, tf, groups).collect();
        if members.is_empty() {
            self.aggs.remove(&(key, tf));
            return;
        }
        let boundary = members
            .iter()
            .filter_map(|(_, s)| s.open().map(|c| c.start))
            .min()
            .unwrap_or(Micros::MAX);
        let mut by_start: BTreeMap<Micros, Vec<(&Candle, Venue)>> = BTreeMap::new();
        for ((venue, _), s) in &members {
            for c in s.closed().iter().filter(|c| c.start < boundary) {
                by_start.entry(c.start).or_default().push((c, *venue));
            }
        }
        let skip = by_start.len().saturating_sub(series::RING);
        let merged: Vec<(Candle, Vec<Venue>)> = by_start
            .into_values()
            .skip(skip)
            .filter_map(|parts| {
                let candles: Vec<&Candle> = parts.iter().map(|(c, _)| *c).collect();
                let mut venues: Vec<Venue> = parts.iter().map(|(_, v)| *v).collect();
                venues.sort();
                venues.dedup();
                merge(&candles).map(|c| (c, venues))
            })
            .collect();
        let several = members.len() > 1;
        let newest = merged.last().map(|(c, _)| c.start).unwrap_or(Micros::MIN);
        let agg = self.aggs.entry((key, tf)).or_insert_with(|| Agg {
            reported: newest,
            ..Agg::default()
        });
        let fresh: Vec<(Candle, Vec<Venue>)> = if report && several {
            merged
                .iter()
                .filter(|(c, _)| c.start > agg.reported)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        agg.reported = agg.reported.max(newest);
        agg.boundary = boundary;
        agg.settled = merged.into_iter().map(|(c, _)| c).collect();
        for (candle, venues) in fresh {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.push_recent(ClosedCandle {
                seq,
                key,
                source: CandleSource::Aggregate,
                timeframe: tf,
                venues,
                candle,
            });
        }
    }

    /// Everything for a snapshot.
    pub fn view(&mut self, groups: &QuoteGroups) -> CandlesView {
        let mut out = BTreeMap::new();
        for ((venue, instrument), list) in &mut self.series {
            let key = groups.key_of(instrument);
            for s in list.iter_mut() {
                out.insert(
                    SeriesKey {
                        key,
                        source: CandleSource::Venue(*venue, *instrument),
                        timeframe: s.timeframe(),
                    },
                    SeriesView {
                        closed: s.shared(),
                        open: s.open().cloned(),
                    },
                );
            }
        }
        for ((key, tf), agg) in &self.aggs {
            let mut tail: BTreeMap<Micros, Vec<&Candle>> = BTreeMap::new();
            for (_, s) in Self::members(&self.series, *key, *tf, groups) {
                for c in s
                    .closed()
                    .iter()
                    .rev()
                    .take_while(|c| c.start >= agg.boundary)
                {
                    tail.entry(c.start).or_default().push(c);
                }
                if let Some(c) = s.open() {
                    tail.entry(c.start).or_default().push(c);
                }
            }
            let mut tail: Vec<Candle> = tail.values().filter_map(|p| merge(p)).collect();
            let open = tail.pop();
            let closed = if tail.is_empty() {
                agg.settled.clone()
            } else {
                agg.settled.iter().cloned().chain(tail).collect()
            };
            out.insert(
                SeriesKey {
                    key: *key,
                    source: CandleSource::Aggregate,
                    timeframe: *tf,
                },
                SeriesView { closed, open },
            );
        }
        let recent = match &self.recent_shared {
            Some(r) => r.clone(),
            None => {
                let r = Arc::new(self.recent.iter().cloned().collect::<Vec<_>>());
                self.recent_shared = Some(r.clone());
                r
            }
        };
        CandlesView {
            series: out,
            recent,
            late_trades: self.late,
            bad_klines: self.bad_klines,
        }
    }
}

fn min_opt(a: Option<Micros>, b: Option<Micros>) -> Option<Micros> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
