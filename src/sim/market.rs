//! The simulated market: one seeded random process drives every book.
//!
//! Each base asset has a fair price (a random walk in log space with
//! volatility bursts and liquidation cascades). Each venue's book follows it
//! with its own noise, a perpetual basis, and now and then a dislocation (the
//! book shifted by 5–40 bps for 0.5–10 s) that opens a cross-venue arbitrage.
//! A step (one tick, ~100 ms) moves every book, prints trades and forced
//! orders, and reports what each feed view saw change. Everything is in
//! integer ticks and lots; floats only drive the random choices.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use crate::model::{BookSide, Instrument, Level, LiquidatedSide, TakerSide, Venue};

use super::SimConfig;
use super::book::{FeedView, RawLevel, SimBook, ViewDelta, ViewIds};
use super::catalog::{self, Spec};

/// Index of a book in the catalog.
pub type BookId = usize;

/// Everything that happened in one step, in order.
#[derive(Debug)]
pub struct Step {
    pub no: u64,
    pub time_ms: i64,
    pub events: Vec<SimEvent>,
}

#[derive(Debug)]
pub enum SimEvent {
    /// A feed view of a book changed.
    Book {
        book: BookId,
        view: usize,
        delta: ViewDelta,
        /// OKX checksum of the view's top 25 after this delta.
        checksum: Option<i32>,
    },
    Trade(SimTrade),
    Liquidation(SimLiquidation),
    Ticker(SimTicker),
}

#[derive(Clone, Debug)]
pub struct SimTrade {
    pub book: BookId,
    pub id: u64,
    pub price: i64,
    pub lots: i64,
    pub taker: TakerSide,
    /// The book's cross sequence when the trade printed.
    pub seq: u64,
    pub time_ms: i64,
}

#[derive(Clone, Debug)]
pub struct SimLiquidation {
    pub book: BookId,
    pub side: LiquidatedSide,
    /// Worst fill price of the forced order.
    pub price: i64,
    pub avg_price: Decimal,
    pub lots: i64,
    pub time_ms: i64,
}

/// Once a second per book: prices, funding and open interest.
#[derive(Clone, Debug)]
pub struct SimTicker {
    pub book: BookId,
    pub last_price: i64,
    pub best_bid: RawLevel,
    pub best_ask: RawLevel,
    /// Mark and index prices, in ticks.
    pub mark: i64,
    pub index: i64,
    pub funding_rate: Decimal,
    pub next_funding_ms: i64,
    /// Open interest in wire lots.
    pub open_interest: i64,
    /// Base volume traded since start, in lots.
    pub volume: i64,
    pub time_ms: i64,
}

/// A consistent copy of one feed view.
#[derive(Clone, Debug)]
pub struct ViewSnapshot {
    pub bids: Vec<RawLevel>,
    pub asks: Vec<RawLevel>,
    pub ids: ViewIds,
    /// The step the snapshot reflects; deltas of later steps follow it.
    pub step: u64,
    pub time_ms: i64,
    pub checksum: Option<i32>,
}

const FUNDING_PERIOD_MS: i64 = 8 * 3600 * 1000;

struct Base {
    name: String,
    /// Log of the fair price.
    log_fair: f64,
    vol_mult: f64,
    burst_left: u32,
    cascade: Option<Cascade>,
    /// Last step's move in bps (biases taker side).
    last_move_bps: f64,
}

struct Cascade {
    side: LiquidatedSide,
    steps_left: u32,
    intensity_bps: f64,
}

struct Dislocation {
    offset_bps: f64,
    steps_left: u32,
}

struct BookSim {
    base: usize,
    book: SimBook,
    views: Vec<FeedView>,
    cross_seq: u64,
    noise_bps: f64,
    basis_bps: f64,
    dislocation: Option<Dislocation>,
    spread_ticks: i64,
    /// Mean gap between levels deep in the book, in ticks.
    deep_gap: f64,
    lot_base: f64,
    tick: f64,
    next_trade_id: u64,
    last_price: i64,
    volume: i64,
    open_interest: i64,
    pending_trades: Vec<SimTrade>,
}

pub struct Market {
    rng: StdRng,
    specs: Arc<Vec<Spec>>,
    bases: Vec<Base>,
    books: Vec<BookSim>,
    levels: usize,
    step_no: u64,
    time_ms: i64,
    last_ticker_ms: i64,
    tick_ms: f64,
    volatility_bps: f64,
    dislocation_p: f64,
    cascade_p: f64,
}

/// Standard normal (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Exponential with the given mean.
fn exponential(rng: &mut StdRng, mean: f64) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    -u.ln() * mean
}

/// Pareto with scale 1: heavy-tailed multipliers for trade and order sizes.
fn pareto(rng: &mut StdRng, alpha: f64) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    u.powf(-1.0 / alpha)
}

impl Market {
    pub fn new(cfg: &SimConfig, specs: Arc<Vec<Spec>>, time_ms: i64) -> Self {
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let tick_ms = cfg.tick.as_secs_f64() * 1000.0;
        let per_step = |every_s: f64| {
            if every_s > 0.0 {
                (tick_ms / 1000.0 / every_s).min(1.0)
            } else {
                0.0
            }
        };
        let mut bases: Vec<Base> = Vec::new();
        for spec in specs.iter() {
            let name = spec.instrument.base.to_string();
            if !bases.iter().any(|b| b.name == name) {
                bases.push(Base {
                    log_fair: catalog::start_price(&name).ln(),
                    name,
                    vol_mult: 1.0,
                    burst_left: 0,
                    cascade: None,
                    last_move_bps: 0.0,
                });
            }
        }
        let levels = cfg.levels_per_side.max(10);
        let mut books = Vec::with_capacity(specs.len());
        for spec in specs.iter() {
            let base = bases
                .iter()
                .position(|b| b.name == spec.instrument.base.as_str())
                .unwrap_or(0);
            let fair = bases.get(base).map(|b| b.log_fair.exp()).unwrap_or(100.0);
            let tick = spec.tick.try_into().unwrap_or(0.01f64);
            let lot_base: f64 = spec.lot_in_base().try_into().unwrap_or(1.0f64);
            let mut sim = BookSim {
                base,
                book: SimBook::default(),
                views: Vec::new(),
                cross_seq: rng.random_range(1_000_000_000..100_000_000_000),
                noise_bps: normal(&mut rng),
                basis_bps: if spec.instrument.is_perp() {
                    1.5 + rng.random_range(-0.15..0.15)
                } else {
                    0.0
                },
                dislocation: None,
                spread_ticks: 1,
                // Levels a side span about 0.8 % of the price (at least one
                // tick apart).
                deep_gap: (fair * 0.008 / tick / levels as f64 - 1.0).max(0.1),
                lot_base,
                tick,
                next_trade_id: rng.random_range(10_000_000..900_000_000),
                last_price: 0,
                volume: 0,
                open_interest: 0,
                pending_trades: Vec::new(),
            };
            sim.seed_book(&mut rng, spec, fair, levels);
            sim.open_interest = sim.lots(spec.typical_size * rng.random_range(5_000.0..20_000.0));
            let update_id = rng.random_range(1_000_000_000..60_000_000_000u64);
            let msg_seq = rng.random_range(1_000_000..80_000_000u64);
            sim.views = spec
                .depths
                .iter()
                .map(|&d| {
                    FeedView::new(
                        d,
                        &sim.book,
                        ViewIds {
                            update_id,
                            msg_seq,
                            cross_seq: sim.cross_seq,
                        },
                    )
                })
                .collect();
            books.push(sim);
        }
        Market {
            rng,
            specs,
            bases,
            books,
            levels,
            step_no: 0,
            time_ms,
            last_ticker_ms: time_ms,
            tick_ms,
            volatility_bps: cfg.volatility_bps,
            dislocation_p: per_step(cfg.dislocation_every_s),
            cascade_p: per_step(cfg.cascade_every_s),
        }
    }

    pub fn step_no(&self) -> u64 {
        self.step_no
    }

    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    /// Advance one tick to `time_ms`.
    pub fn step(&mut self, time_ms: i64) -> Step {
        self.step_no += 1;
        self.time_ms = time_ms.max(self.time_ms);
        let mut events = Vec::new();
        self.move_fair_prices();
        for id in 0..self.books.len() {
            self.move_book(id, &mut events);
        }
        for id in 0..self.books.len() {
            self.publish_views(id, &mut events);
        }
        if (self.time_ms - self.last_ticker_ms) as f64 >= 1000.0 - self.tick_ms / 2.0 {
            self.last_ticker_ms = self.time_ms;
            for id in 0..self.books.len() {
                if let Some(t) = self.ticker(id) {
                    events.push(SimEvent::Ticker(t));
                }
            }
        }
        Step {
            no: self.step_no,
            time_ms: self.time_ms,
            events,
        }
    }

    fn move_fair_prices(&mut self) {
        for b in 0..self.bases.len() {
            let rng = &mut self.rng;
            let base = &mut self.bases[b];
            if base.burst_left > 0 {
                base.burst_left -= 1;
                if base.burst_left == 0 {
                    base.vol_mult = 1.0;
                }
            } else if rng.random_bool(0.0025) {
                base.vol_mult = rng.random_range(3.0..6.0);
                base.burst_left = rng.random_range(20..80);
            }
            let mut move_bps = self.volatility_bps * base.vol_mult * normal(rng);
            if base.cascade.is_none() && self.cascade_p > 0.0 && rng.random_bool(self.cascade_p) {
                base.cascade = Some(Cascade {
                    side: if rng.random_bool(0.5) {
                        LiquidatedSide::Long
                    } else {
                        LiquidatedSide::Short
                    },
                    steps_left: rng.random_range(10..50),
                    intensity_bps: rng.random_range(0.5..3.0),
                });
            }
            if let Some(c) = &mut base.cascade {
                let push = c.intensity_bps * rng.random_range(0.5..1.5);
                move_bps += match c.side {
                    LiquidatedSide::Long => -push,
                    LiquidatedSide::Short => push,
                };
                c.steps_left = c.steps_left.saturating_sub(1);
                if c.steps_left == 0 {
                    base.cascade = None;
                }
            }
            base.log_fair += move_bps / 10_000.0;
            base.last_move_bps = move_bps;
        }
    }

    fn move_book(&mut self, id: BookId, events: &mut Vec<SimEvent>) {
        let Some(spec) = self.specs.get(id).cloned() else {
            return;
        };
        let Some(sim) = self.books.get_mut(id) else {
            return;
        };
        let Some(base) = self.bases.get(sim.base) else {
            return;
        };
        let rng = &mut self.rng;
        let fair = base.log_fair.exp();
        let last_move = base.last_move_bps;
        let cascade = base.cascade.as_ref().map(|c| c.side);

        // Venue noise (mean-reverting) and dislocations.
        sim.noise_bps = sim.noise_bps * 0.98 + 0.06 * normal(rng);
        match &mut sim.dislocation {
            Some(d) => {
                d.steps_left = d.steps_left.saturating_sub(1);
                if d.steps_left == 0 {
                    sim.dislocation = None;
                }
            }
            None => {
                if self.dislocation_p > 0.0 && rng.random_bool(self.dislocation_p) {
                    let size = rng.random_range(5.0..40.0);
                    let ms = rng.random_range(500.0..10_000.0);
                    sim.dislocation = Some(Dislocation {
                        offset_bps: if rng.random_bool(0.5) { size } else { -size },
                        steps_left: ((ms / self.tick_ms).round() as u32).max(1),
                    });
                }
            }
        }
        if rng.random_bool(0.05) {
            sim.spread_ticks = if rng.random_bool(0.7) {
                1
            } else {
                rng.random_range(2..5)
            };
        }
        let offset =
            sim.basis_bps + sim.noise_bps + sim.dislocation.as_ref().map_or(0.0, |d| d.offset_bps);
        let mid_ticks = fair * (1.0 + offset / 10_000.0) / sim.tick;
        let best_bid = (mid_ticks - sim.spread_ticks as f64 / 2.0).floor() as i64;
        let best_ask = best_bid + sim.spread_ticks;
        sim.set_touch(rng, BookSide::Bid, best_bid, self.levels, &spec);
        sim.set_touch(rng, BookSide::Ask, best_ask, self.levels, &spec);
        sim.churn(rng, self.levels, &spec);

        // Trade bursts, leaning with the price move.
        let burst_p = if cascade.is_some() { 0.25 } else { 0.12 };
        if rng.random_bool(burst_p) {
            let n = 1 + exponential(rng, 2.0) as usize;
            let p_buy = (0.5 + last_move / 10.0).clamp(0.2, 0.8);
            for _ in 0..n.min(12) {
                let taker = if rng.random_bool(p_buy) {
                    TakerSide::Buy
                } else {
                    TakerSide::Sell
                };
                let want = sim.lots(spec.typical_size * 0.05 * pareto(rng, 1.3).min(400.0));
                sim.take(id, taker, want, self.time_ms);
            }
        }
        // Forced orders on perpetuals: cascades, plus the odd lone one.
        if spec.instrument.is_perp() {
            let side = match cascade {
                Some(side) if rng.random_bool(0.35) => Some(side),
                _ if rng.random_bool(0.004) => Some(if rng.random_bool(0.5) {
                    LiquidatedSide::Long
                } else {
                    LiquidatedSide::Short
                }),
                _ => None,
            };
            if let Some(side) = side {
                let orders = if cascade.is_some() {
                    rng.random_range(1..4)
                } else {
                    1
                };
                for _ in 0..orders {
                    let want = sim.lots(spec.typical_size * 0.2 * pareto(rng, 1.5).min(200.0));
                    // A long is closed by a forced sell, a short by a forced buy.
                    let taker = match side {
                        LiquidatedSide::Long => TakerSide::Sell,
                        LiquidatedSide::Short => TakerSide::Buy,
                    };
                    if let Some((worst, avg, lots)) = sim.take(id, taker, want, self.time_ms) {
                        events.push(SimEvent::Liquidation(SimLiquidation {
                            book: id,
                            side,
                            price: worst,
                            avg_price: avg,
                            lots,
                            time_ms: self.time_ms,
                        }));
                    }
                }
            }
        }
        sim.keep_depth(rng, self.levels, &spec);
        for t in sim.pending_trades.drain(..) {
            events.push(SimEvent::Trade(t));
        }
    }

    fn publish_views(&mut self, id: BookId, events: &mut Vec<SimEvent>) {
        let Some(spec) = self.specs.get(id) else {
            return;
        };
        let Some(sim) = self.books.get_mut(id) else {
            return;
        };
        sim.cross_seq += self.rng.random_range(1..400u64);
        let deepest = sim.views.iter().map(|v| v.depth).max().unwrap_or(0);
        let bids = sim.book.bids.top(deepest);
        let asks = sim.book.asks.top(deepest);
        for (v, view) in sim.views.iter_mut().enumerate() {
            if let Some(delta) = view.refresh(&bids, &asks, sim.cross_seq) {
                let checksum = checksum_of(spec, view);
                events.push(SimEvent::Book {
                    book: id,
                    view: v,
                    delta,
                    checksum,
                });
            }
        }
    }

    fn ticker(&mut self, id: BookId) -> Option<SimTicker> {
        let sim = self.books.get_mut(id)?;
        let base = self.bases.get(sim.base)?;
        let best_bid = sim.book.bids.best()?;
        let best_ask = sim.book.asks.best()?;
        let mark = (best_bid.0 + best_ask.0) / 2;
        let index = (base.log_fair.exp() / sim.tick).round() as i64;
        let premium = (mark - index) as f64 / index.max(1) as f64;
        let rate = (0.0001 + premium * 0.3).clamp(-0.0075, 0.0075);
        let funding_rate = Decimal::from_f64(rate)
            .map(|d| d.round_dp(8))
            .unwrap_or_default();
        let drift = normal(&mut self.rng) * 0.0005;
        sim.open_interest = ((sim.open_interest as f64) * (1.0 + drift))
            .round()
            .max(1.0) as i64;
        Some(SimTicker {
            book: id,
            last_price: if sim.last_price > 0 {
                sim.last_price
            } else {
                mark
            },
            best_bid,
            best_ask,
            mark,
            index,
            funding_rate,
            next_funding_ms: (self.time_ms / FUNDING_PERIOD_MS + 1) * FUNDING_PERIOD_MS,
            open_interest: sim.open_interest,
            volume: sim.volume,
            time_ms: self.time_ms,
        })
    }

    /// A consistent copy of a feed view (for a WebSocket snapshot or a REST
    /// depth answer), limited to `limit` levels a side.
    pub fn view_snapshot(&self, id: BookId, view: usize, limit: usize) -> Option<ViewSnapshot> {
        let spec = self.specs.get(id)?;
        let v = self.books.get(id)?.views.get(view)?;
        Some(ViewSnapshot {
            bids: v.bids.iter().take(limit).copied().collect(),
            asks: v.asks.iter().take(limit).copied().collect(),
            ids: v.ids,
            step: self.step_no,
            time_ms: self.time_ms,
            checksum: checksum_of(spec, v),
        })
    }

    /// The current book in base units, best first.
    pub fn book_levels(&self, id: BookId) -> Option<(Vec<Level>, Vec<Level>)> {
        let spec = self.specs.get(id)?;
        let sim = self.books.get(id)?;
        let unit = spec.lot_in_base();
        let conv = |(p, s): RawLevel| Level::new(spec.price(p), Decimal::from(s) * unit);
        Some((
            sim.book.bids.iter().map(conv).collect(),
            sim.book.asks.iter().map(conv).collect(),
        ))
    }

    pub fn find(&self, venue: Venue, instrument: &Instrument) -> Option<BookId> {
        self.specs
            .iter()
            .position(|s| s.venue == venue && &s.instrument == instrument)
    }
}

impl BookSim {
    fn lots(&self, base_size: f64) -> i64 {
        ((base_size / self.lot_base).round() as i64).max(1)
    }

    /// Resting size at depth index `i`: grows away from the touch,
    /// log-normally spread, with the odd large order.
    fn draw_size(&self, rng: &mut StdRng, spec: &Spec, i: usize, levels: usize) -> i64 {
        let depth = i as f64 / levels as f64;
        let mut size = spec.typical_size * (0.25 + 3.0 * depth) * (0.8 * normal(rng)).exp();
        if rng.random_bool(0.03) {
            size *= 8.0;
        }
        self.lots(size)
    }

    /// Gap (ticks) between consecutive levels at depth index `i`.
    fn draw_gap(&self, rng: &mut StdRng, i: usize, levels: usize) -> i64 {
        let mean = self.deep_gap * 2.0 * (i as f64 / levels as f64);
        1 + exponential(rng, mean.max(0.3)) as i64
    }

    fn seed_book(&mut self, rng: &mut StdRng, spec: &Spec, fair: f64, levels: usize) {
        let mid = fair / self.tick;
        let bid = (mid - 0.5).floor() as i64;
        for (side, touch) in [(BookSide::Bid, bid), (BookSide::Ask, bid + 1)] {
            let mut price = touch;
            for i in 0..levels {
                let size = self.draw_size(rng, spec, i, levels);
                if price <= 0 {
                    break;
                }
                self.book.side_mut(side).set(price, size);
                let gap = self.draw_gap(rng, i, levels);
                price = self.book.side(side).away(price, gap);
            }
        }
    }

    /// Move the touch of one side to `touch`: levels better than it are
    /// cancelled; when the side fell behind, new levels fill the gap.
    fn set_touch(
        &mut self,
        rng: &mut StdRng,
        side: BookSide,
        touch: i64,
        levels: usize,
        spec: &Spec,
    ) {
        if touch <= 0 {
            return;
        }
        self.book.side_mut(side).remove_better_than(touch);
        let best = self.book.side(side).best().map(|(p, _)| p);
        let behind = best.map(|p| self.book.side(side).distance(touch, p));
        if behind == Some(0) {
            return;
        }
        // Fill from the touch outward, at most a few dozen levels.
        let mut price = touch;
        for i in 0..30 {
            if let Some(b) = best
                && self.book.side(side).distance(price, b) <= 0
            {
                break;
            }
            let size = self.draw_size(rng, spec, i, levels);
            self.book.side_mut(side).set(price, size);
            let gap = self.draw_gap(rng, i, levels);
            price = self.book.side(side).away(price, gap);
            if price <= 0 {
                break;
            }
        }
    }

    /// Random resting-order changes, concentrated near the top; plus one
    /// anywhere in the book, so that levels left deep by a price move take
    /// on deep-book sizes.
    fn churn(&mut self, rng: &mut StdRng, levels: usize, spec: &Spec) {
        for side in [BookSide::Bid, BookSide::Ask] {
            let len = self.book.side(side).len();
            if len > 10 {
                let i = rng.random_range(10..len);
                if let Some((price, _)) = self.book.side(side).nth(i) {
                    let size = self.draw_size(rng, spec, i, levels);
                    self.book.side_mut(side).set(price, size);
                }
            }
        }
        let n = 2 + exponential(rng, 4.0) as usize;
        for _ in 0..n.min(40) {
            let side = if rng.random_bool(0.5) {
                BookSide::Bid
            } else {
                BookSide::Ask
            };
            let len = self.book.side(side).len();
            if len < 3 {
                continue;
            }
            let i = (exponential(rng, 6.0) as usize).min(len - 2);
            let Some((price, lots)) = self.book.side(side).nth(i) else {
                continue;
            };
            let r: f64 = rng.random();
            if r < 0.55 || i == 0 {
                let new = ((lots as f64) * (0.35 * normal(rng)).exp()).round() as i64;
                let new = if new == lots { lots + 1 } else { new.max(1) };
                self.book.side_mut(side).set(price, new);
            } else if r < 0.8 {
                self.book.side_mut(side).set(price, 0);
            } else if let Some((next, _)) = self.book.side(side).nth(i + 1) {
                let room = self.book.side(side).distance(price, next);
                if room > 1 {
                    let at = self.book.side(side).away(price, rng.random_range(1..room));
                    let size = self.draw_size(rng, spec, i, levels);
                    self.book.side_mut(side).set(at, size);
                }
            }
        }
    }

    /// Keep each side near `levels` deep.
    fn keep_depth(&mut self, rng: &mut StdRng, levels: usize, spec: &Spec) {
        for side in [BookSide::Bid, BookSide::Ask] {
            while self.book.side(side).len() > levels + 40 {
                self.book.side_mut(side).pop_worst();
            }
            let mut guard = 0;
            while self.book.side(side).len() < levels && guard < levels {
                guard += 1;
                let len = self.book.side(side).len();
                let Some((worst, _)) = self.book.side(side).worst() else {
                    break;
                };
                let gap = self.draw_gap(rng, len, levels);
                let price = self.book.side(side).away(worst, gap);
                if price <= 0 {
                    break;
                }
                let size = self.draw_size(rng, spec, len, levels);
                self.book.side_mut(side).set(price, size);
            }
        }
    }

    /// A taker order of `want` lots walks the opposite side (at most five
    /// levels, never emptying it); prints one trade per level. Returns the
    /// worst price, average price and filled lots.
    fn take(
        &mut self,
        id: BookId,
        taker: TakerSide,
        want: i64,
        time_ms: i64,
    ) -> Option<(i64, Decimal, i64)> {
        let side = match taker {
            TakerSide::Buy => BookSide::Ask,
            TakerSide::Sell => BookSide::Bid,
        };
        let mut left = want;
        let mut filled = 0i64;
        let mut notional = 0i128;
        let mut worst = None;
        for _ in 0..5 {
            if left <= 0 || self.book.side(side).len() <= 5 {
                break;
            }
            let Some((price, lots)) = self.book.side(side).best() else {
                break;
            };
            let fill = left.min(lots);
            self.book.side_mut(side).set(price, lots - fill);
            left -= fill;
            filled += fill;
            notional += price as i128 * fill as i128;
            worst = Some(price);
            self.last_price = price;
            self.volume += fill;
            self.pending_trades.push(SimTrade {
                book: id,
                id: self.next_trade_id,
                price,
                lots: fill,
                taker,
                seq: self.cross_seq,
                time_ms,
            });
            self.next_trade_id += 1;
        }
        let worst = worst?;
        let avg_ticks = Decimal::from_i128_with_scale(notional, 0) / Decimal::from(filled.max(1));
        let tick = Decimal::from_f64(self.tick).unwrap_or(Decimal::ONE);
        Some((worst, (avg_ticks * tick).round_dp(8).normalize(), filled))
    }
}

/// The checksum the venue's protocol puts on a view's message, if any.
fn checksum_of(spec: &Spec, view: &FeedView) -> Option<i32> {
    spec.venue.spec().sim?.checksum.map(|f| f(spec, view))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market(seed: u64) -> Market {
        let cfg = SimConfig {
            seed,
            ..SimConfig::default()
        };
        Market::new(&cfg, Arc::new(catalog::specs()), 1_700_000_000_000)
    }

    #[test]
    fn books_stay_deep_uncrossed_and_views_track_them() {
        let mut m = market(7);
        let mut trades = 0;
        let mut liqs = 0;
        for i in 0..600 {
            let step = m.step(1_700_000_000_000 + 100 * (i + 1));
            for e in &step.events {
                match e {
                    SimEvent::Trade(_) => trades += 1,
                    SimEvent::Liquidation(_) => liqs += 1,
                    _ => {}
                }
            }
            for sim in &m.books {
                let (b, a) = (sim.book.bids.best().unwrap(), sim.book.asks.best().unwrap());
                assert!(b.0 < a.0, "crossed at step {i}");
                for v in &sim.views {
                    assert_eq!(v.bids, sim.book.bids.top(v.depth));
                }
            }
        }
        assert!(trades > 100, "{trades} trades");
        assert!(liqs > 0);
        for sim in &m.books {
            assert!(sim.book.bids.len() >= 400 && sim.book.asks.len() >= 400);
        }
    }

    #[test]
    fn same_seed_same_market() {
        let (mut a, mut b) = (market(3), market(3));
        for i in 0..50 {
            let (sa, sb) = (a.step(i * 100), b.step(i * 100));
            assert_eq!(format!("{:?}", sa.events), format!("{:?}", sb.events));
        }
        let mut c = market(4);
        let sc = c.step(100);
        let sa = market(3).step(100);
        assert_ne!(format!("{:?}", sa.events), format!("{:?}", sc.events));
    }
}
