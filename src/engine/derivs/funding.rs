//! Funding arithmetic: rates normalised to 8 h and annualised by the
//! venue's funding interval, and the differential between venues net of
//! the taker fees of entering and leaving both legs.

use crate::model::Micros;

const HOUR: Micros = 3_600_000_000;
const YEAR: f64 = 365.0 * 24.0 * HOUR as f64;

/// A rate per `interval` as a rate per 8 hours.
pub fn per_8h(rate: f64, interval: Micros) -> Option<f64> {
    (interval > 0).then(|| rate * (8 * HOUR) as f64 / interval as f64)
}

/// A rate per `interval` as a simple annual rate (a fraction: 0.1 = 10%).
pub fn annualised(rate: f64, interval: Micros) -> Option<f64> {
    (interval > 0).then(|| rate * YEAR / interval as f64)
}

/// The best funding carry: long on the venue paying the least (or being
/// paid), short on the one paying the most; returned as (long index, short
/// index, gross annual differential, net of fees).
///
/// Fees: a taker buy and sell on each venue to enter, the same to leave:
/// `2 × (fee_long + fee_short)` bps, spread over the holding period and
/// annualised.
pub fn best_pair(
    annual: &[f64],
    fee_bps: &[f64],
    hold_days: f64,
) -> Option<(usize, usize, f64, f64)> {
    if annual.len() < 2 || hold_days <= 0.0 {
        return None;
    }
    let (lo, _) = annual
        .iter()
        .enumerate()
        .filter(|(_, a)| a.is_finite())
        .min_by(|a, b| a.1.total_cmp(b.1))?;
    let (hi, _) = annual
        .iter()
        .enumerate()
        .filter(|(_, a)| a.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    if lo == hi {
        return None;
    }
    let gross = annual[hi] - annual[lo];
    let fees = 2.0 * (fee_bps.get(lo)? + fee_bps.get(hi)?) / 10_000.0;
    let net = gross - fees * 365.0 / hold_days;
    Some((lo, hi, gross, net))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annualisation_for_1h_4h_and_8h() {
        let r = 0.0001; // 0.01% a period
        assert!((annualised(r, HOUR).unwrap() - 0.876).abs() < 1e-12);
        assert!((annualised(r, 4 * HOUR).unwrap() - 0.219).abs() < 1e-12);
        assert!((annualised(r, 8 * HOUR).unwrap() - 0.1095).abs() < 1e-12);
        assert!((per_8h(r, HOUR).unwrap() - 0.0008).abs() < 1e-15);
        assert_eq!(per_8h(r, 0), None);
    }

    #[test]
    fn differential_net_of_four_fees_over_the_hold() {
        // 10% vs 30% a year; fees 5 and 10 bps: 2·(5+10) = 30 bps to enter
        // and leave, over 7 days: 0.003 · 365/7.
        let (lo, hi, gross, net) = best_pair(&[0.3, 0.1], &[10.0, 5.0], 7.0).unwrap();
        assert_eq!((lo, hi), (1, 0));
        assert!((gross - 0.2).abs() < 1e-12);
        assert!((net - (0.2 - 0.003 * 365.0 / 7.0)).abs() < 1e-12);
        assert_eq!(best_pair(&[0.1], &[1.0], 7.0), None);
    }
}
