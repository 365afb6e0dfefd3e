//! Parsing and validation every adapter shares: decimals, times, and the
//! bounds that no real market reaches.
//!
//! A venue, a broken proxy or a hostile endpoint can send any number. What
//! leaves an adapter is checked here (levels in [`super::lifecycle`],
//! trades, liquidations and funding in [`super::Output`]): prices positive,
//! sizes not negative, both below [`MAX_PRICE`] and [`MAX_SIZE`] (so that a
//! product of the two, or a sum of a whole book of them, stays far inside
//! `Decimal`'s range), and times between [`TIME_MIN`] and [`TIME_MAX`].
//! Anything else is a parse error for that frame.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::model::Micros;

/// No asset trades above a trillion quote units.
pub const MAX_PRICE: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);
/// No order rests for more than a quadrillion units (1e15; meme coins reach
/// 1e12).
pub const MAX_SIZE: Decimal = Decimal::from_parts(0xA4C6_8000, 0x3_8D7E, 0, false, 0);
/// 2009-01-01T00:00:00Z: nothing in crypto is older.
pub const TIME_MIN: Micros = 1_230_768_000_000_000;
/// 2100-01-01T00:00:00Z.
pub const TIME_MAX: Micros = 4_102_444_800_000_000;

/// Decimal text, plain (`"0.35210000"`) or scientific (`"1.7e-7"`).
pub fn decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

/// A price as a venue may send it: positive and below [`MAX_PRICE`].
pub fn is_price(d: Decimal) -> bool {
    d > Decimal::ZERO && d <= MAX_PRICE
}

/// A size as a venue may send it: zero or positive, below [`MAX_SIZE`].
pub fn is_size(d: Decimal) -> bool {
    (d.is_zero() || !d.is_sign_negative()) && d <= MAX_SIZE
}

/// Milliseconds since the epoch → microseconds, `None` on overflow.
pub fn ms_to_micros(ms: i64) -> Option<Micros> {
    ms.checked_mul(1_000)
}

/// Whole seconds since the epoch → microseconds.
pub fn secs_to_micros(s: i64) -> Option<Micros> {
    s.checked_mul(1_000_000)
}

/// Nanoseconds since the epoch → microseconds.
pub fn ns_to_micros(ns: i64) -> Micros {
    ns / 1_000
}

/// Decimal seconds (`"1582905486.493008"`) → microseconds.
pub fn decimal_secs_to_micros(text: &str) -> Option<Micros> {
    let micros = decimal(text)?
        .checked_mul(Decimal::from(1_000_000))?
        .trunc();
    i64::try_from(micros).ok()
}

/// RFC 3339 time (`2026-08-09T21:05:48.228568804Z`) → microseconds.
pub fn rfc3339_micros(text: &str) -> Option<Micros> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_micros())
}

/// A time outside the sane window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("time {0} µs is outside 2009–2100")]
pub struct BadTime(pub Micros);

/// An exchange time, if present, must be a plausible one.
pub fn check_time(t: Option<Micros>) -> Result<(), BadTime> {
    match t {
        Some(t) if !(TIME_MIN..=TIME_MAX).contains(&t) => Err(BadTime(t)),
        _ => Ok(()),
    }
}

/// Contracts to base quantity (`qty × contract size`), `None` when the
/// product would overflow or leave the size bounds.
pub fn contracts_to_base(qty: Decimal, contract_size: Decimal) -> Option<Decimal> {
    qty.checked_mul(contract_size).filter(|d| is_size(*d))
}

/// USD-valued contracts of an inverse perpetual to base quantity
/// (`qty × contract value / price`).
pub fn usd_contracts_to_base(
    qty: Decimal,
    usd_per_contract: Decimal,
    price: Decimal,
) -> Option<Decimal> {
    if !is_price(price) {
        return None;
    }
    qty.checked_mul(usd_per_contract)?
        .checked_div(price)
        .filter(|d| is_size(*d))
}

/// The start of a frame for log lines and incident details (at most 120
/// characters, cut on a character boundary).
pub fn preview(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn bounds_are_what_they_say() {
        assert_eq!(MAX_PRICE, dec!(1_000_000_000_000));
        assert_eq!(MAX_SIZE, dec!(1_000_000_000_000_000));
        assert!(MAX_PRICE.checked_mul(MAX_SIZE).is_some());
        assert_eq!(
            chrono::DateTime::from_timestamp_micros(TIME_MIN)
                .unwrap()
                .to_rfc3339(),
            "2009-01-01T00:00:00+00:00"
        );
        assert_eq!(
            chrono::DateTime::from_timestamp_micros(TIME_MAX)
                .unwrap()
                .to_rfc3339(),
            "2100-01-01T00:00:00+00:00"
        );
    }

    #[test]
    fn decimals_plain_and_scientific_and_nonsense() {
        assert_eq!(decimal("0.35210000"), Some(dec!(0.35210000)));
        assert_eq!(decimal("1.7e-7"), Some(dec!(0.00000017)));
        assert_eq!(decimal("1e400"), None);
        assert_eq!(decimal("NaN"), None);
        assert_eq!(decimal(""), None);
        assert!(decimal("-0").is_some_and(is_size));
    }

    #[test]
    fn prices_and_sizes() {
        assert!(is_price(dec!(0.00000001)));
        assert!(!is_price(Decimal::ZERO));
        assert!(!is_price(dec!(-1)));
        assert!(!is_price(Decimal::MAX));
        assert!(is_size(Decimal::ZERO));
        assert!(!is_size(dec!(-0.1)));
        assert!(!is_size(Decimal::MAX));
    }

    #[test]
    fn times_never_overflow() {
        assert_eq!(ms_to_micros(i64::MAX), None);
        assert_eq!(secs_to_micros(i64::MIN), None);
        assert_eq!(
            decimal_secs_to_micros("1582905486.493008"),
            Some(1_582_905_486_493_008)
        );
        assert_eq!(decimal_secs_to_micros("1e30"), None);
        assert!(check_time(Some(0)).is_err());
        assert!(check_time(Some(1_754_000_000_000_000)).is_ok());
        assert!(check_time(None).is_ok());
        assert_eq!(ns_to_micros(i64::MIN), i64::MIN / 1000);
    }

    #[test]
    fn contract_conversions_are_checked() {
        assert_eq!(contracts_to_base(dec!(3), dec!(0.01)), Some(dec!(0.03)));
        assert_eq!(contracts_to_base(Decimal::MAX, dec!(10)), None);
        assert_eq!(
            contracts_to_base(dec!(79228162514264337593543950335), dec!(1)),
            None
        );
        assert_eq!(
            usd_contracts_to_base(dec!(10), dec!(100), dec!(50000)),
            Some(dec!(0.02))
        );
        assert_eq!(
            usd_contracts_to_base(dec!(10), dec!(100), Decimal::ZERO),
            None
        );
    }

    #[test]
    fn preview_cuts_on_characters() {
        let long = "é".repeat(200);
        assert_eq!(preview(&long).chars().count(), 121);
        assert_eq!(preview("short"), "short");
    }
}
