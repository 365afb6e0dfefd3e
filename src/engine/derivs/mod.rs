//! Derivatives: per perpetual and venue, funding (now, predicted, interval,
//! normalised to 8 h and annualised, next time), mark and index, basis
//! against the spot CBBO of the same base and quote group, open interest
//! (contracts, base, USD) and its change over 5 min, 1 h, 4 h and 24 h,
//! traded volume; per-minute series per venue and summed across venues;
//! spike detection on open-interest change and volume; the funding carry
//! between venues.
//!
//! Fed by the same events as everything else (`Funding`, `Trade`,
//! `History` backfills); minutes close as engine time passes them.

mod funding;
mod series;
mod spikes;

pub use funding::{annualised, best_pair, per_8h};
pub use series::{MINUTE, MinuteSeries, minute_of};
pub use spikes::{Detector, MIN_SAMPLES, SpikeSettings, z_score};

use std::collections::{BTreeMap, VecDeque};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::model::{
    Funding, FundingUpdate, HistoryKind, Instrument, InstrumentKind, Micros, Trade, Venue,
};

/// Spikes kept for the tape.
const SPIKE_TAPE: usize = 200;
/// Settled funding rates kept per perpetual.
const SETTLED_KEPT: usize = 400;
/// Minutes of summed open interest shown as a chart (6 h).
pub const OI_CHART_MINUTES: usize = 360;
/// Minutes closed at most per input (a clock jump of days does not make the
/// engine walk every minute).
const MAX_CLOSE: i64 = 1_500;

/// What is measured for a spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpikeMetric {
    /// Open-interest change per minute (base units).
    OpenInterest,
    /// Traded volume per minute (USD).
    Volume,
}

impl SpikeMetric {
    pub fn label(self) -> &'static str {
        match self {
            SpikeMetric::OpenInterest => "open interest",
            SpikeMetric::Volume => "volume",
        }
    }
}

/// One detected spike.
#[derive(Clone, Debug, PartialEq)]
pub struct SpikeRow {
    pub at: Micros,
    /// `None`: summed across venues.
    pub venue: Option<Venue>,
    /// The view key (quote group) it was measured on.
    pub key: Instrument,
    pub metric: SpikeMetric,
    /// The sample: OI change per minute (base) or volume (USD).
    pub value: f64,
    pub z: f64,
}

/// One perpetual on one venue, as shown.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PerpRow {
    pub venue: Option<Venue>,
    pub instrument: Option<Instrument>,
    pub key: Option<Instrument>,
    pub funding_rate: Option<Decimal>,
    pub predicted_rate: Option<Decimal>,
    pub interval: Option<Micros>,
    pub rate_8h: Option<f64>,
    pub annual: Option<f64>,
    pub predicted_annual: Option<f64>,
    pub next_funding: Option<Micros>,
    pub mark: Option<Decimal>,
    pub index: Option<Decimal>,
    /// Mark against the spot CBBO mid of the same base and quote group.
    pub basis_bps: Option<f64>,
    pub oi_base: Option<Decimal>,
    pub oi_contracts: Option<Decimal>,
    pub oi_usd: Option<f64>,
    /// Relative change of base open interest over 5 min, 1 h, 4 h, 24 h.
    pub oi_change: [Option<f64>; 4],
    pub volume_1h_usd: f64,
    pub volume_24h_usd: f64,
    pub updated: Micros,
}

/// The funding carry of one key: venues by annualised funding, best pair.
#[derive(Clone, Debug, PartialEq)]
pub struct FundingCarry {
    pub key: Instrument,
    /// Lowest first.
    pub ranked: Vec<(Venue, f64)>,
    pub best: Option<CarryPair>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CarryPair {
    pub long_venue: Venue,
    pub short_venue: Venue,
    /// Annual differential before fees (fraction).
    pub gross: f64,
    /// After entering and leaving both legs at taker fees, amortised over
    /// the holding period.
    pub net: f64,
}

/// Everything the Derivatives pane and headless lines read.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct DerivativesView {
    pub rows: Vec<PerpRow>,
    pub carry: Vec<FundingCarry>,
    /// Newest first.
    pub spikes: Vec<SpikeRow>,
    /// Per key: summed base open interest, one value a minute, oldest first.
    pub oi_history: Vec<(Instrument, Vec<Option<f64>>)>,
    pub hold_days: f64,
    /// The spike threshold (|z|), for the pane's title.
    pub spike_z: f64,
}

/// A closed minute of one perpetual, for sinks (the store, the bus).
#[derive(Clone, Debug, PartialEq)]
pub struct DerivSample {
    pub venue: Venue,
    pub instrument: Instrument,
    /// Start of the minute.
    pub minute: Micros,
    pub funding_rate: Option<Decimal>,
    pub predicted_rate: Option<Decimal>,
    pub mark: Option<Decimal>,
    pub index: Option<Decimal>,
    pub oi_base: Option<Decimal>,
    pub oi_usd: Option<f64>,
    pub volume_usd: f64,
}

#[derive(Clone, Debug, Default)]
struct Perp {
    latest: FundingUpdate,
    /// The funding interval: the venue's, else inferred from successive
    /// funding times.
    interval: Option<Micros>,
    oi: MinuteSeries,
    volume: MinuteSeries,
    /// Settled funding rates (backfill and observed), oldest first.
    settled: VecDeque<(Micros, Decimal)>,
    /// Last minute an OI sample fed the detector.
    last_oi_sample: Option<(i64, f64)>,
    oi_spikes: Detector,
    vol_spikes: Detector,
    traded: bool,
    updated: Micros,
}

#[derive(Clone, Debug, Default)]
struct Aggregate {
    last_oi_sample: Option<(i64, f64)>,
    oi_spikes: Detector,
    vol_spikes: Detector,
}

/// The outside facts a view needs, supplied by the engine.
pub trait Context {
    /// The view key (quote group) of an instrument.
    fn key_of(&self, i: &Instrument) -> Instrument;
    /// The spot CBBO mid of a key, if its books are usable.
    fn spot_mid(&self, key: &Instrument) -> Option<Decimal>;
    /// USD value of `size` at `price` in the instrument's quote.
    fn usd(&self, i: &Instrument, price: Decimal, size: Decimal) -> Option<f64>;
    /// Base per contract (linear) and USD per contract (inverse).
    fn contract(&self, venue: Venue, i: &Instrument) -> (Option<Decimal>, Option<Decimal>);
    fn taker_fee_bps(&self, venue: Venue) -> f64;
}

#[derive(Clone, Debug, Default)]
pub struct Derivs {
    perps: BTreeMap<(Venue, Instrument), Perp>,
    aggregates: BTreeMap<Instrument, Aggregate>,
    spikes: VecDeque<SpikeRow>,
    /// The minute being filled.
    minute: Option<i64>,
    pub settings: SpikeSettings,
    pub hold_days: f64,
}

impl Derivs {
    pub fn new(settings: SpikeSettings, hold_days: f64) -> Self {
        Derivs {
            settings,
            hold_days,
            ..Derivs::default()
        }
    }

    /// Merge a partial update (venues send what changed).
    pub fn on_funding(&mut self, f: &Funding, now: Micros) {
        let p = self.perps.entry((f.venue, f.instrument)).or_default();
        let u = &f.update;
        let m = &mut p.latest;
        // A new funding time after a known one: the interval, unless the
        // venue said; and the period that ended settled at the old rate.
        if let (Some(new), Some(old)) = (u.next_funding, m.next_funding)
            && new > old
        {
            if p.interval.is_none() && u.interval.is_none() && m.interval.is_none() {
                p.interval = Some(new - old);
            }
            if let Some(rate) = m.funding_rate {
                push_settled(&mut p.settled, old, rate);
            }
        }
        macro_rules! merge {
            ($($f:ident),*) => { $( if u.$f.is_some() { m.$f = u.$f; } )* };
        }
        merge!(
            funding_rate,
            predicted_rate,
            next_funding,
            interval,
            open_interest,
            open_interest_usd,
            mark_price,
            index_price
        );
        if u.interval.is_some() {
            p.interval = u.interval;
        }
        if let Some(oi) = u.open_interest.and_then(|d| d.to_f64()) {
            p.oi.set(minute_of(now), oi);
        }
        p.updated = now;
    }

    /// A trade on a perpetual adds to its venue's volume.
    pub fn on_trade(&mut self, t: &Trade, usd: Option<f64>) {
        if t.instrument.kind != InstrumentKind::Perp {
            return;
        }
        let p = self.perps.entry((t.venue, t.instrument)).or_default();
        p.traded = true;
        p.volume.add(
            minute_of(t.received),
            usd.filter(|u| u.is_finite()).unwrap_or(0.0),
        );
    }

    /// A backfilled history, oldest first. Open interest fills the series
    /// (never over live minutes) and primes the detector without firing;
    /// funding rates fill the settled list and, when the venue gave no
    /// interval, tell it.
    pub fn on_history(
        &mut self,
        venue: Venue,
        instrument: Instrument,
        kind: HistoryKind,
        points: &[(Micros, Decimal)],
    ) {
        let settings = self.settings;
        let p = self.perps.entry((venue, instrument)).or_default();
        match kind {
            HistoryKind::OpenInterest => {
                let live_from = p.last_oi_sample.map(|(m, _)| m);
                for &(t, v) in points {
                    let (m, Some(v)) = (minute_of(t), v.to_f64()) else {
                        continue;
                    };
                    if live_from.is_some_and(|l| m >= l) || p.oi.get(m).is_some() {
                        continue;
                    }
                    p.oi.set(m, v);
                    if let Some((pm, pv)) = p.last_oi_sample
                        && m > pm
                    {
                        let x = (v - pv) / (m - pm) as f64;
                        // Priming: the window fills, nothing fires.
                        let quiet = SpikeSettings {
                            threshold: f64::INFINITY,
                            ..settings
                        };
                        p.oi_spikes.observe(x, t, &quiet);
                    }
                    if p.last_oi_sample.is_none_or(|(pm, _)| m > pm) {
                        p.last_oi_sample = Some((m, v));
                    }
                }
            }
            HistoryKind::FundingRate => {
                for &(t, rate) in points {
                    push_settled(&mut p.settled, t, rate);
                }
                if p.interval.is_none() && p.latest.interval.is_none() {
                    let n = p.settled.len();
                    if n >= 2 {
                        let d = p.settled[n - 1].0 - p.settled[n - 2].0;
                        p.interval = (d > 0).then_some(d);
                    }
                }
            }
        }
    }

    pub fn forget(&mut self, venue: Venue, instrument: &Instrument) {
        self.perps.remove(&(venue, *instrument));
    }

    /// Engine time moved to `now`: close the minutes it passed. Returns
    /// the spikes found and each perpetual's closed minute.
    pub fn tick(&mut self, now: Micros, ctx: &dyn Context) -> (Vec<SpikeRow>, Vec<DerivSample>) {
        let current = minute_of(now);
        let Some(open) = self.minute else {
            self.minute = Some(current);
            return (Vec::new(), Vec::new());
        };
        if current <= open {
            return (Vec::new(), Vec::new());
        }
        let mut spikes = Vec::new();
        let mut samples = Vec::new();
        let first = open.max(current - MAX_CLOSE);
        for m in first..current {
            self.close_minute(m, ctx, &mut spikes, &mut samples);
        }
        self.minute = Some(current);
        for s in &spikes {
            self.spikes.push_front(s.clone());
        }
        self.spikes.truncate(SPIKE_TAPE);
        (spikes, samples)
    }

    fn close_minute(
        &mut self,
        m: i64,
        ctx: &dyn Context,
        spikes: &mut Vec<SpikeRow>,
        samples: &mut Vec<DerivSample>,
    ) {
        let at = (m + 1).saturating_mul(MINUTE);
        let s = self.settings;
        // Per key sums, for the aggregated detectors.
        let mut oi_sum: BTreeMap<Instrument, (f64, bool)> = BTreeMap::new();
        let mut vol_sum: BTreeMap<Instrument, (f64, bool)> = BTreeMap::new();
        for (&(venue, instrument), p) in &mut self.perps {
            let key = ctx.key_of(&instrument);
            if let Some(v) = p.oi.get(m) {
                let e = oi_sum.entry(key).or_insert((0.0, true));
                e.0 += v;
                if let Some((pm, pv)) = p.last_oi_sample
                    && m > pm
                {
                    let x = (v - pv) / (m - pm) as f64;
                    if let Some(z) = p.oi_spikes.observe(x, at, &s) {
                        spikes.push(spike(at, Some(venue), key, SpikeMetric::OpenInterest, x, z));
                    }
                }
                p.last_oi_sample = Some((m, v));
            } else if p.oi.at_or_before(m).is_some() {
                // A venue that reported before but not this minute: the
                // sum would fall for no reason.
                oi_sum.entry(key).or_insert((0.0, true)).1 = false;
            }
            let vol = p.volume.get(m).unwrap_or(0.0);
            if p.traded {
                let e = vol_sum.entry(key).or_insert((0.0, true));
                e.0 += vol;
                if let Some(z) = p.vol_spikes.observe(vol, at, &s) {
                    spikes.push(spike(at, Some(venue), key, SpikeMetric::Volume, vol, z));
                }
            }
            let l = &p.latest;
            samples.push(DerivSample {
                venue,
                instrument,
                minute: m.saturating_mul(MINUTE),
                funding_rate: l.funding_rate,
                predicted_rate: l.predicted_rate,
                mark: l.mark_price,
                index: l.index_price,
                oi_base: l.open_interest,
                oi_usd: oi_usd(l, &instrument, ctx),
                volume_usd: vol,
            });
        }
        for (key, (sum, complete)) in oi_sum {
            let a = self.aggregates.entry(key).or_default();
            if !complete {
                a.last_oi_sample = None;
                continue;
            }
            if let Some((pm, pv)) = a.last_oi_sample
                && m > pm
            {
                let x = (sum - pv) / (m - pm) as f64;
                if let Some(z) = a.oi_spikes.observe(x, at, &s) {
                    spikes.push(spike(at, None, key, SpikeMetric::OpenInterest, x, z));
                }
            }
            a.last_oi_sample = Some((m, sum));
        }
        for (key, (sum, _)) in vol_sum {
            let a = self.aggregates.entry(key).or_default();
            if let Some(z) = a.vol_spikes.observe(sum, at, &s) {
                spikes.push(spike(at, None, key, SpikeMetric::Volume, sum, z));
            }
        }
    }

    /// The funding data of one perpetual (the Overview's funding column).
    pub fn latest(&self) -> impl Iterator<Item = (&(Venue, Instrument), &FundingUpdate)> {
        self.perps.iter().map(|(k, p)| (k, &p.latest))
    }

    pub fn view(&self, now: Micros, ctx: &dyn Context) -> DerivativesView {
        let minute = minute_of(now);
        let mut rows: Vec<PerpRow> = self
            .perps
            .iter()
            .map(|(&(venue, instrument), p)| row(venue, instrument, p, minute, ctx))
            .collect();
        rows.sort_by_key(|r| (r.key, r.venue, r.instrument));
        let mut by_key: BTreeMap<Instrument, Vec<(Venue, f64)>> = BTreeMap::new();
        for r in &rows {
            if let (Some(key), Some(venue), Some(a)) = (r.key, r.venue, r.annual) {
                by_key.entry(key).or_default().push((venue, a));
            }
        }
        let carry = by_key
            .into_iter()
            .map(|(key, mut ranked)| {
                ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                let annual: Vec<f64> = ranked.iter().map(|r| r.1).collect();
                let fees: Vec<f64> = ranked.iter().map(|r| ctx.taker_fee_bps(r.0)).collect();
                let best = best_pair(&annual, &fees, self.hold_days).map(|(lo, hi, gross, net)| {
                    CarryPair {
                        long_venue: ranked[lo].0,
                        short_venue: ranked[hi].0,
                        gross,
                        net,
                    }
                });
                FundingCarry { key, ranked, best }
            })
            .collect();
        let mut hist: BTreeMap<Instrument, Vec<Option<f64>>> = BTreeMap::new();
        for (&(_, instrument), p) in &self.perps {
            let w = p.oi.window(minute, OI_CHART_MINUTES);
            let sum = hist
                .entry(ctx.key_of(&instrument))
                .or_insert_with(|| vec![None; OI_CHART_MINUTES]);
            for (s, v) in sum.iter_mut().zip(w) {
                if let Some(v) = v {
                    *s = Some(s.unwrap_or(0.0) + v);
                }
            }
        }
        DerivativesView {
            rows,
            carry,
            spikes: self.spikes.iter().cloned().collect(),
            oi_history: hist.into_iter().collect(),
            hold_days: self.hold_days,
            spike_z: self.settings.threshold,
        }
    }
}

fn push_settled(settled: &mut VecDeque<(Micros, Decimal)>, t: Micros, rate: Decimal) {
    if settled.back().is_some_and(|(last, _)| *last >= t) {
        return;
    }
    settled.push_back((t, rate));
    while settled.len() > SETTLED_KEPT {
        settled.pop_front();
    }
}

fn spike(
    at: Micros,
    venue: Option<Venue>,
    key: Instrument,
    metric: SpikeMetric,
    value: f64,
    z: f64,
) -> SpikeRow {
    SpikeRow {
        at,
        venue,
        key,
        metric,
        value,
        z,
    }
}

fn oi_usd(l: &FundingUpdate, i: &Instrument, ctx: &dyn Context) -> Option<f64> {
    if let Some(usd) = l.open_interest_usd.and_then(|d| d.to_f64()) {
        return Some(usd);
    }
    ctx.usd(i, l.mark_price?, l.open_interest?)
}

fn row(venue: Venue, instrument: Instrument, p: &Perp, minute: i64, ctx: &dyn Context) -> PerpRow {
    let l = &p.latest;
    let key = ctx.key_of(&instrument);
    let interval = p.interval.or(l.interval);
    let f = |d: Option<Decimal>| d.and_then(|d| d.to_f64());
    let rate = f(l.funding_rate);
    let spot = Instrument {
        kind: InstrumentKind::Spot,
        ..instrument
    };
    let basis_bps = match (l.mark_price, ctx.spot_mid(&ctx.key_of(&spot))) {
        (Some(mark), Some(mid)) if mid > Decimal::ZERO => mark
            .checked_sub(mid)
            .and_then(|d| d.checked_div(mid))
            .and_then(|d| d.to_f64())
            .map(|d| d * 10_000.0),
        _ => None,
    };
    let (per_contract_base, per_contract_usd) = ctx.contract(venue, &instrument);
    let oi_usd = oi_usd(l, &instrument, ctx);
    let oi_contracts = match (per_contract_base, per_contract_usd) {
        (Some(b), _) if b > Decimal::ZERO => l.open_interest.and_then(|oi| oi.checked_div(b)),
        (_, Some(u)) if u > Decimal::ZERO => oi_usd
            .and_then(Decimal::from_f64_retain)
            .and_then(|usd| usd.checked_div(u))
            .map(|c| c.round_dp(0)),
        _ => None,
    };
    let now_oi = p.oi.at_or_before(minute).map(|(_, v)| v);
    let change = |back: i64| -> Option<f64> {
        let (_, then) = p.oi.at_or_before(minute - back)?;
        let now = now_oi?;
        (then.abs() > f64::EPSILON).then(|| (now - then) / then)
    };
    let sum = |n: usize| {
        p.volume
            .window(minute, n)
            .into_iter()
            .flatten()
            .sum::<f64>()
    };
    PerpRow {
        venue: Some(venue),
        instrument: Some(instrument),
        key: Some(key),
        funding_rate: l.funding_rate,
        predicted_rate: l.predicted_rate,
        interval,
        rate_8h: rate.zip(interval).and_then(|(r, i)| per_8h(r, i)),
        annual: rate.zip(interval).and_then(|(r, i)| annualised(r, i)),
        predicted_annual: f(l.predicted_rate)
            .zip(interval)
            .and_then(|(r, i)| annualised(r, i)),
        next_funding: l.next_funding,
        mark: l.mark_price,
        index: l.index_price,
        basis_bps,
        oi_base: l.open_interest,
        oi_contracts,
        oi_usd,
        oi_change: [change(5), change(60), change(240), change(1440)],
        volume_1h_usd: sum(60),
        volume_24h_usd: sum(1440),
        updated: p.updated,
    }
}

#[cfg(test)]
mod tests;
