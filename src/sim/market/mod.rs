//! The simulated market: one seeded random process drives every book.
//!
//! Each base asset has a fair price (a random walk in log space with
//! volatility bursts and liquidation cascades). Each venue's book follows it
//! with its own noise, a perpetual basis, and now and then a dislocation (the
//! book shifted by 5–40 bps for 0.5–10 s) that opens a cross-venue arbitrage.
//! A step (one tick, ~100 ms) moves every book, prints trades and forced
//! orders, and reports what each feed view saw change. Everything is in
//! integer ticks and lots; floats only drive the random choices.
//!
//! Here: the model's state, its construction and the queries the server
//! answers from; `step` generates one step's events; `book_sim` evolves one
//! venue book's resting orders.

mod book_sim;
mod step;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use crate::model::{Instrument, Level, LiquidatedSide, TakerSide, Venue};

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
    /// The position the taker order closed by force, when it was a
    /// liquidation (venues that flag liquidations on trades).
    pub forced: Option<LiquidatedSide>,
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
        let conv = |(p, s): RawLevel| Level::new(spec.price(p), spec.base_size(s, p));
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
/// The checksum the venue's protocol puts on a view's message, if any.
fn checksum_of(spec: &Spec, view: &FeedView) -> Option<i32> {
    spec.venue.spec().sim?.checksum.map(|f| f(spec, view))
}
