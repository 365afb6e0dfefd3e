//! `history --stats`: per instrument and ordered venue pair, how many
//! opportunities, how long they lasted (median, 90th percentile, longest)
//! and the theoretical profit (the sum of each one's peak profit: what
//! taking every one at its best would have made, before latency and
//! inventory). Computed from the rows, exactly (decimals summed as
//! decimals; lifetimes in integer microseconds).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::ArbRecord;
use crate::model::{Instrument, Micros, Venue};

#[derive(Clone, Debug, PartialEq)]
pub struct PairSummary {
    pub instrument: Instrument,
    pub buy_venue: Venue,
    pub sell_venue: Venue,
    pub opportunities: u64,
    /// Over closed ones only; `None` when none closed.
    pub median_lifetime: Option<Micros>,
    pub p90_lifetime: Option<Micros>,
    pub longest: Option<Micros>,
    pub best_net_bps: Decimal,
    /// Sum of peak profits, in the instrument's quote currency; `None`
    /// when the sum does not fit a decimal.
    pub theoretical_profit: Option<Decimal>,
}

/// The nearest-rank percentile `p` (0..=100) of sorted values.
pub fn percentile(sorted: &[Micros], p: u32) -> Option<Micros> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    // Nearest rank: ceil(p / 100 × n), at least 1.
    let rank = (u64::from(p.min(100)) * n as u64).div_ceil(100).max(1) as usize;
    Some(sorted[rank.min(n) - 1])
}

/// Summaries per (instrument key, buy venue, sell venue), in that order.
pub fn summarize(rows: &[ArbRecord]) -> Vec<PairSummary> {
    struct Acc {
        count: u64,
        lifetimes: Vec<Micros>,
        best: Decimal,
        profit: Option<Decimal>,
    }
    let mut by_pair: BTreeMap<(Instrument, Venue, Venue), Acc> = BTreeMap::new();
    for r in rows {
        let acc = by_pair
            .entry((r.key, r.buy_venue, r.sell_venue))
            .or_insert(Acc {
                count: 0,
                lifetimes: Vec::new(),
                best: r.peak_net_bps,
                profit: Some(Decimal::ZERO),
            });
        acc.count += 1;
        if let Some(l) = r.lifetime() {
            acc.lifetimes.push(l);
        }
        acc.best = acc.best.max(r.peak_net_bps);
        acc.profit = acc.profit.and_then(|p| p.checked_add(r.peak_profit));
    }
    by_pair
        .into_iter()
        .map(|((instrument, buy_venue, sell_venue), mut acc)| {
            acc.lifetimes.sort_unstable();
            PairSummary {
                instrument,
                buy_venue,
                sell_venue,
                opportunities: acc.count,
                median_lifetime: percentile(&acc.lifetimes, 50),
                p90_lifetime: percentile(&acc.lifetimes, 90),
                longest: acc.lifetimes.last().copied(),
                best_net_bps: acc.best,
                theoretical_profit: acc.profit,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Micros> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&v, 0), Some(1));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    fn arb(buy: &str, lifetime: Option<Micros>, profit: Decimal, bps: Decimal) -> ArbRecord {
        ArbRecord {
            key: "BTC-USDT".parse().unwrap(),
            buy_venue: buy.parse().unwrap(),
            buy_instrument: "BTC-USDT".parse().unwrap(),
            sell_venue: "okx".parse().unwrap(),
            sell_instrument: "BTC-USDT".parse().unwrap(),
            opened: 1_000,
            closed: lifetime.map(|l| 1_000 + l),
            peak_net_bps: bps,
            peak_profit: profit,
            size: dec!(1),
            buy_vwap: dec!(100),
            sell_vwap: dec!(101),
            buy_fee_bps: dec!(1),
            sell_fee_bps: dec!(1),
            polled: false,
            reason: lifetime.map(|_| "spread closed".into()),
        }
    }

    #[test]
    fn summaries_per_pair_count_open_ones_but_time_closed_ones() {
        let rows = vec![
            arb("binance", Some(100), dec!(1.10), dec!(3)),
            arb("binance", Some(300), dec!(2.25), dec!(5)),
            arb("binance", None, dec!(0.65), dec!(4)),
            arb("bybit", Some(50), dec!(0.1), dec!(1)),
        ];
        let s = summarize(&rows);
        assert_eq!(s.len(), 2);
        let b = &s[0];
        assert_eq!(b.buy_venue, crate::venue!("binance"));
        assert_eq!(b.opportunities, 3);
        assert_eq!(b.median_lifetime, Some(100));
        assert_eq!(b.p90_lifetime, Some(300));
        assert_eq!(b.longest, Some(300));
        assert_eq!(b.best_net_bps, dec!(5));
        assert_eq!(b.theoretical_profit, Some(dec!(4.00)));
        assert_eq!(s[1].opportunities, 1);
    }
}
