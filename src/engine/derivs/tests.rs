use super::*;
use rust_decimal_macros::dec;

const MIN: Micros = MINUTE;
const T0: Micros = 1_754_000_000_000_000 - 1_754_000_000_000_000 % MINUTE;

struct Ctx {
    spot_mid: Option<Decimal>,
}

impl Context for Ctx {
    fn key_of(&self, i: &Instrument) -> Instrument {
        *i
    }
    fn spot_mid(&self, key: &Instrument) -> Option<Decimal> {
        (key.kind == InstrumentKind::Spot).then_some(self.spot_mid?)
    }
    fn usd(&self, _: &Instrument, price: Decimal, size: Decimal) -> Option<f64> {
        (price * size).to_f64()
    }
    fn contract(&self, _: Venue, _: &Instrument) -> (Option<Decimal>, Option<Decimal>) {
        (Some(dec!(0.001)), None)
    }
    fn taker_fee_bps(&self, _: Venue) -> f64 {
        5.0
    }
}

fn perp() -> Instrument {
    "BTC-USDT-PERP".parse().unwrap()
}

fn funding(venue: Venue, at: Micros, u: FundingUpdate) -> Funding {
    Funding {
        venue,
        instrument: perp(),
        update: u,
        exchange_ts: None,
        received: at,
    }
}

fn oi(d: &mut Derivs, venue: Venue, at: Micros, v: Decimal) {
    let f = funding(
        venue,
        at,
        FundingUpdate {
            open_interest: Some(v),
            ..FundingUpdate::default()
        },
    );
    d.on_funding(&f, at);
}

#[test]
fn funding_interval_inferred_and_annualised_and_basis() {
    let mut d = Derivs::new(SpikeSettings::default(), 7.0);
    let bybit = crate::venue!("bybit");
    let h8 = 8 * 3_600_000_000;
    for (t, next) in [(T0, T0 + h8), (T0 + 2 * MIN, T0 + 2 * h8)] {
        let u = FundingUpdate {
            funding_rate: Some(dec!(0.0001)),
            next_funding: Some(next),
            mark_price: Some(dec!(100.5)),
            ..FundingUpdate::default()
        };
        d.on_funding(&funding(bybit, t, u), t);
    }
    let v = d.view(
        T0 + 3 * MIN,
        &Ctx {
            spot_mid: Some(dec!(100)),
        },
    );
    let r = &v.rows[0];
    assert_eq!(r.interval, Some(h8), "from two funding times");
    assert!((r.annual.unwrap() - 0.1095).abs() < 1e-12);
    assert!((r.rate_8h.unwrap() - 0.0001).abs() < 1e-15);
    assert!((r.basis_bps.unwrap() - 50.0).abs() < 1e-9);
    assert_eq!(
        d.perps[&(bybit, perp())].settled.len(),
        1,
        "the period that ended settled"
    );
}

#[test]
fn open_interest_changes_over_windows_and_contracts() {
    let mut d = Derivs::new(SpikeSettings::default(), 7.0);
    let okx = crate::venue!("okx");
    oi(&mut d, okx, T0, dec!(100));
    oi(&mut d, okx, T0 + 55 * MIN, dec!(110));
    oi(&mut d, okx, T0 + 60 * MIN, dec!(121));
    let u = FundingUpdate {
        mark_price: Some(dec!(2)),
        ..FundingUpdate::default()
    };
    d.on_funding(&funding(okx, T0 + 60 * MIN, u), T0 + 60 * MIN);
    let r = &d.view(T0 + 60 * MIN, &Ctx { spot_mid: None }).rows[0];
    assert!(
        (r.oi_change[0].unwrap() - 0.1).abs() < 1e-12,
        "5 min: 110 → 121"
    );
    assert!(
        (r.oi_change[1].unwrap() - 0.21).abs() < 1e-12,
        "1 h: 100 → 121"
    );
    assert_eq!(r.oi_change[3], None, "no value a day back");
    assert_eq!(r.oi_contracts, Some(dec!(121000)));
    assert_eq!(r.oi_usd, Some(242.0));
}

/// A steady open interest, then a jump: one spike, per venue and summed;
/// a second jump within the cooldown is quiet.
#[test]
fn open_interest_spike_fires_once_with_cooldown() {
    let s = SpikeSettings {
        window: 40,
        threshold: 3.0,
        cooldown: 30 * MIN,
    };
    let mut d = Derivs::new(s, 7.0);
    let binance = crate::venue!("binance");
    let ctx = Ctx { spot_mid: None };
    let mut level = dec!(1000);
    let mut fired = Vec::new();
    for m in 0..60 {
        // Small wiggles: +1, +2, +1, +2 …
        level += if m % 2 == 0 { dec!(1) } else { dec!(2) };
        if m == 50 || m == 55 {
            level += dec!(400);
        }
        oi(&mut d, binance, T0 + m * MIN, level);
        let (sp, _) = d.tick(T0 + (m + 1) * MIN, &ctx);
        fired.extend(sp.into_iter().map(|s| (m, s.venue, s.metric)));
    }
    assert_eq!(
        fired,
        [
            (50, Some(binance), SpikeMetric::OpenInterest),
            (50, None, SpikeMetric::OpenInterest)
        ]
    );
    assert_eq!(d.spikes.len(), 2);
}

#[test]
fn a_backfill_primes_the_window_so_the_first_live_minute_can_spike() {
    let s = SpikeSettings {
        window: 30,
        threshold: 3.0,
        cooldown: MIN,
    };
    let mut d = Derivs::new(s, 7.0);
    let bybit = crate::venue!("bybit");
    let ctx = Ctx { spot_mid: None };
    // 5-minute history: +5 per 5 min (1 per minute), with noise.
    let points: Vec<(Micros, Decimal)> = (0..40)
        .map(|k| {
            let noise = if k % 2 == 0 { dec!(0) } else { dec!(1) };
            (T0 + k * 5 * MIN, dec!(500) + Decimal::from(5 * k) + noise)
        })
        .collect();
    d.on_history(bybit, perp(), HistoryKind::OpenInterest, &points);
    let live = T0 + 40 * 5 * MIN;
    d.tick(live, &ctx);
    oi(&mut d, bybit, live, dec!(1500));
    let (sp, samples) = d.tick(live + MIN, &ctx);
    assert!(
        sp.iter().any(|s| s.venue == Some(bybit)),
        "primed by the backfill: {sp:?}"
    );
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].oi_base, Some(dec!(1500)));
}

#[test]
fn volume_spikes_and_carry() {
    let s = SpikeSettings {
        window: 25,
        threshold: 3.0,
        cooldown: MIN,
    };
    let mut d = Derivs::new(s, 7.0);
    let ctx = Ctx { spot_mid: None };
    let venue = crate::venue!("okx");
    let mut fired = 0;
    for m in 0..40 {
        let usd = if m == 35 {
            1_000_000.0
        } else {
            1000.0 + f64::from(m % 3 * 10)
        };
        let t = Trade {
            venue,
            instrument: perp(),
            price: dec!(1),
            size: dec!(1),
            side: crate::model::TakerSide::Buy,
            exchange_ts: None,
            received: T0 + i64::from(m) * MIN,
        };
        d.on_trade(&t, Some(usd));
        let (sp, _) = d.tick(T0 + i64::from(m + 1) * MIN, &ctx);
        fired += sp
            .iter()
            .filter(|s| s.metric == SpikeMetric::Volume)
            .count();
    }
    assert_eq!(fired, 2, "per venue and summed");
    // Carry between two venues: 10% vs 30% a year at 5 bps each.
    for (v, rate) in [("binance", dec!(0.0001)), ("bybit", dec!(0.0003))] {
        let u = FundingUpdate {
            funding_rate: Some(rate / Decimal::from(365 * 3) * dec!(1095)),
            interval: Some(8 * 3_600_000_000),
            ..FundingUpdate::default()
        };
        let venue: Venue = v.parse().unwrap();
        d.on_funding(&funding(venue, T0, u), T0);
    }
    let view = d.view(T0, &ctx);
    let best = view.carry[0].best.as_ref().unwrap();
    assert_eq!(best.long_venue, crate::venue!("binance"));
    assert_eq!(best.short_venue, crate::venue!("bybit"));
    assert!((best.gross - 0.219).abs() < 1e-9);
    assert!((best.net - (0.219 - 0.002 * 365.0 / 7.0)).abs() < 1e-9);
}

#[test]
fn clock_jumps_stay_bounded() {
    let mut d = Derivs::new(SpikeSettings::default(), 7.0);
    let ctx = Ctx { spot_mid: None };
    oi(&mut d, crate::venue!("okx"), T0, dec!(1));
    d.tick(T0, &ctx);
    let (_, samples) = d.tick(i64::MAX, &ctx);
    assert!(samples.len() as i64 <= MAX_CLOSE);
}
