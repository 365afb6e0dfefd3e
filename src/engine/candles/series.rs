//! One venue's candles of one instrument and interval: the candle being
//! built and a ring of closed ones.
//!
//! Trades are bucketed by exchange time (receive time when a venue sends
//! none). A trade of a later bucket closes the open candle; so does time:
//! once the venue's clock (the engine clock less the latency of the
//! series' last trade, so skew does not close candles early) is
//! [`GRACE`] past the candle's end. A trade for a bucket already closed is
//! late: dropped and counted, never folded into the wrong candle. Intervals
//! without trades become flat candles at the previous close when the next
//! trade comes, as venues publish them.

use std::collections::VecDeque;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::candle::{Candle, chain};
use crate::model::{CandleOpen, Kline, Micros, TakerSide, Timeframe};

/// Closed candles kept per series: 8 hours of 1m, 40 h of 5m, 5 days of
/// 15m, 20 days of 1h, 80 days of 4h, 480 days of 1d. A candle is under
/// 200 bytes, so a series stays under 100 kB.
pub const RING: usize = 480;

/// How long after its end a candle waits for late trades before the clock
/// closes it (trade pushes lag their exchange time by up to a second or so).
pub const GRACE: Micros = 2_000_000;

/// What a trade did to the series.
#[derive(Debug, PartialEq)]
pub enum Added {
    /// Added to the open candle; `closed` candles were closed by it (the
    /// previous one and flat fills), oldest first.
    Ok { closed: Vec<Candle> },
    /// Its bucket was already closed: dropped.
    Late,
}

#[derive(Clone, Debug)]
pub struct Series {
    tf: Timeframe,
    rule: CandleOpen,
    closed: VecDeque<Candle>,
    open: Option<Candle>,
    /// Receive minus exchange time of the last trade.
    lag: Micros,
    /// Bumped whenever `closed` changes (aggregates and snapshots cache on it).
    version: u64,
    /// `closed` as last shared with a snapshot.
    shared: Option<Arc<[Candle]>>,
    /// Restored from the store and not yet traded on: the time since the
    /// last stored candle went unwatched, so the first trade opens a
    /// partial candle after a gap instead of flat ones.
    resumed: bool,
}

impl Series {
    pub fn new(tf: Timeframe) -> Series {
        Series {
            tf,
            rule: CandleOpen::default(),
            closed: VecDeque::new(),
            open: None,
            lag: 0,
            version: 0,
            shared: None,
            resumed: false,
        }
    }

    pub fn timeframe(&self) -> Timeframe {
        self.tf
    }

    pub fn open(&self) -> Option<&Candle> {
        self.open.as_ref()
    }

    pub fn closed(&self) -> &VecDeque<Candle> {
        &self.closed
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// The closed candles as a shared slice (built once per change).
    pub fn shared(&mut self) -> Arc<[Candle]> {
        if let Some(s) = &self.shared {
            return s.clone();
        }
        let s: Arc<[Candle]> = self.closed.iter().cloned().collect();
        self.shared = Some(s.clone());
        s
    }

    fn changed(&mut self) {
        self.version += 1;
        self.shared = None;
        while self.closed.len() > RING {
            self.closed.pop_front();
        }
    }

    /// The last price known before bucket `start`: the close of the open or
    /// last closed candle.
    fn last_close(&self) -> Option<&Candle> {
        self.open.as_ref().or(self.closed.back())
    }

    /// A new candle at `start` opened by a trade at `price`.
    fn opened(&self, start: Micros, price: Decimal, prev: Option<Decimal>) -> Candle {
        match (self.rule, prev) {
            (CandleOpen::PreviousClose, Some(p)) => {
                let mut c = Candle::flat(start, p);
                c.high = p.max(price);
                c.low = p.min(price);
                c.close = price;
                c
            }
            _ => Candle::flat(start, price),
        }
    }

    /// Close the open candle and the flat intervals up to `until`
    /// (exclusive), returning them oldest first.
    fn close_until(&mut self, until: Micros) -> Vec<Candle> {
        let mut out = Vec::new();
        let d = self.tf.micros();
        if let Some(c) = self.open.take() {
            out.push(c);
        }
        if let Some(last) = out.last().or(self.closed.back()).cloned() {
            // More gap than the ring holds: only the ring's worth is kept.
            let gap = (until.saturating_sub(last.start) / d - 1).clamp(0, RING as i64);
            let mut start = until - gap * d;
            while start < until {
                out.push(Candle::flat(start, last.close));
                start += d;
            }
        }
        if !out.is_empty() {
            self.closed.extend(out.iter().cloned());
            self.changed();
        }
        out
    }

    /// One trade at exchange time `at`, received `received`.
    pub fn add(
        &mut self,
        at: Micros,
        received: Micros,
        price: Decimal,
        size: Decimal,
        side: TakerSide,
    ) -> Added {
        let start = self.tf.bucket(at);
        let newest = self.last_close().map(|c| c.start);
        if newest.is_some_and(|n| start < n)
            || (self.open.is_none() && newest.is_some_and(|n| start <= n))
        {
            return Added::Late;
        }
        self.lag = received.saturating_sub(at);
        let resumed = std::mem::take(&mut self.resumed);
        let mut closed = Vec::new();
        if self.open.as_ref().is_some_and(|c| c.start == start) {
            if let Some(c) = self.open.as_mut() {
                c.add(price, size, side);
            }
            return Added::Ok { closed };
        }
        let fresh = newest.is_none();
        if resumed {
            closed.extend(self.close_open());
        } else if !fresh {
            closed = self.close_until(start);
        }
        let prev = self.closed.back().map(|c| c.close);
        let mut c = self.opened(start, price, prev);
        c.add(price, size, side);
        // The first candle of a series, or the first after a restart,
        // began before we listened.
        c.partial = fresh || resumed;
        self.open = Some(c);
        Added::Ok { closed }
    }

    /// Close the open candle, with no flat fills after it.
    fn close_open(&mut self) -> Option<Candle> {
        let c = self.open.take()?;
        self.closed.push_back(c.clone());
        self.changed();
        Some(c)
    }

    /// Restore candles of this interval (oldest first, aligned, from
    /// [`roll_up`]) at engine time `now`: those whose interval is over
    /// join the closed ones (a candle already held for an interval is
    /// kept), one still running becomes the open candle if there is none.
    /// The series then waits for its first trade without flat fills.
    pub fn restore(&mut self, candles: &[Candle], now: Micros) {
        let d = self.tf.micros();
        let open_start = self.open.as_ref().map(|c| c.start);
        let mut merged: std::collections::BTreeMap<Micros, Candle> =
            self.closed.drain(..).map(|c| (c.start, c)).collect();
        for c in candles {
            if c.start.saturating_add(d) <= now {
                if open_start.is_none_or(|s| c.start < s) {
                    merged.entry(c.start).or_insert_with(|| c.clone());
                }
            } else if self.open.is_none() && merged.keys().next_back().is_none_or(|s| *s < c.start)
            {
                self.open = Some(Candle {
                    partial: true,
                    ..c.clone()
                });
            }
        }
        self.closed = merged.into_values().collect();
        self.changed();
        self.resumed = true;
    }

    /// When the clock closes the open candle (engine time).
    pub fn due(&self) -> Option<Micros> {
        let c = self.open.as_ref()?;
        Some(
            c.start
                .saturating_add(self.tf.micros())
                .saturating_add(GRACE)
                .saturating_add(self.lag),
        )
    }

    /// Close the open candle if the clock says its interval is over.
    pub fn tick(&mut self, now: Micros) -> Option<Candle> {
        if self.due().is_none_or(|due| now < due) {
            return None;
        }
        self.close_open()
    }

    /// Seed with a venue's klines (oldest first), received at engine time
    /// `now`. Settled klines replace what trades built for their interval
    /// (the venue's whole record against our partial one), unless ours is
    /// complete. The interval still in progress becomes the open candle if
    /// none is; otherwise the open candle takes the kline's open and the
    /// union of both ranges, and its volume figures are the larger of the
    /// two: it is then partial (the kline saw the start of the interval,
    /// the stream saw what came after, and both saw some of the middle).
    /// Returns how many klines were refused (misaligned, inconsistent).
    pub fn seed(&mut self, rule: CandleOpen, klines: &[Kline], now: Micros) -> usize {
        self.rule = rule;
        let d = self.tf.micros();
        let venue_now = now.saturating_sub(self.lag);
        let mut bad = 0;
        let mut settled: Vec<Candle> = Vec::new();
        let mut in_progress: Option<Candle> = None;
        for k in klines {
            let consistent = k.low <= k.open.min(k.close) && k.high >= k.open.max(k.close);
            if self.tf.bucket(k.start) != k.start || !consistent {
                bad += 1;
                continue;
            }
            let open_start = self.open.as_ref().map(|c| c.start);
            if open_start.is_some_and(|s| k.start > s) {
                bad += 1;
            } else if open_start == Some(k.start)
                || (open_start.is_none() && k.start.saturating_add(d) > venue_now)
            {
                in_progress = Some(Candle::from_kline(k));
            } else {
                settled.push(Candle::from_kline(k));
            }
        }
        if !settled.is_empty() {
            let mut merged: std::collections::BTreeMap<Micros, Candle> =
                self.closed.drain(..).map(|c| (c.start, c)).collect();
            for k in settled {
                match merged.get(&k.start) {
                    Some(ours) if !ours.partial => {}
                    _ => {
                        merged.insert(k.start, k);
                    }
                }
            }
            self.closed = merged.into_values().collect();
            self.changed();
        }
        match (self.open.as_mut(), in_progress) {
            (None, Some(k)) => {
                if self.closed.back().is_none_or(|c| c.start < k.start) {
                    self.open = Some(k);
                    // The venue's own record reaches the present.
                    self.resumed = false;
                }
            }
            (Some(ours), Some(k)) => {
                ours.open = k.open;
                ours.high = ours.high.max(k.high);
                ours.low = ours.low.min(k.low);
                if k.volume > ours.volume {
                    ours.volume = k.volume;
                    ours.buy_volume = k.buy_volume;
                    ours.sell_volume = k.sell_volume;
                    ours.turnover = k.turnover;
                    ours.trades = k.trades;
                }
                ours.partial = true;
            }
            (Some(ours), None) => {
                // A candle opened by its first trade before we knew the venue
                // opens at the previous close.
                if rule == CandleOpen::PreviousClose
                    && let Some(prev) = self.closed.back().filter(|p| p.start + d == ours.start)
                {
                    ours.open = prev.close;
                    ours.high = ours.high.max(prev.close);
                    ours.low = ours.low.min(prev.close);
                }
            }
            (None, None) => {}
        }
        bad
    }
}

/// One-minute candles (oldest first) rolled up into `tf`'s intervals,
/// oldest first; an interval missing minutes is partial.
pub fn roll_up(minutes: &[Candle], tf: Timeframe) -> Vec<Candle> {
    let per = (tf.micros() / Timeframe::M1.micros()).max(1) as usize;
    let mut buckets: std::collections::BTreeMap<Micros, Vec<&Candle>> =
        std::collections::BTreeMap::new();
    for m in minutes {
        if Timeframe::M1.bucket(m.start) == m.start {
            buckets.entry(tf.bucket(m.start)).or_default().push(m);
        }
    }
    buckets
        .into_iter()
        .filter_map(|(start, mut parts)| {
            parts.sort_by_key(|c| c.start);
            parts.dedup_by_key(|c| c.start);
            chain(start, &parts, parts.len() >= per)
        })
        .collect()
}
