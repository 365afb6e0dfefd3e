//! The text forms things are stored in. Decimals are their exact decimal
//! text (`Decimal`'s `Display`, read back with `FromStr`): never a float.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::engine::snapshot::ConnState;
use crate::model::{BookState, Incident, LiquidatedSide, TakerSide};

pub fn liq_side(s: LiquidatedSide) -> &'static str {
    match s {
        LiquidatedSide::Long => "long",
        LiquidatedSide::Short => "short",
    }
}

pub fn parse_liq_side(s: &str) -> Option<LiquidatedSide> {
    match s {
        "long" => Some(LiquidatedSide::Long),
        "short" => Some(LiquidatedSide::Short),
        _ => None,
    }
}

pub fn taker_side(s: TakerSide) -> &'static str {
    match s {
        TakerSide::Buy => "buy",
        TakerSide::Sell => "sell",
    }
}

pub fn parse_taker_side(s: &str) -> Option<TakerSide> {
    match s {
        "buy" => Some(TakerSide::Buy),
        "sell" => Some(TakerSide::Sell),
        _ => None,
    }
}

/// The incident kinds kept (`ChecksumOk` is a count, not an incident).
pub fn incident(i: Incident) -> Option<&'static str> {
    Some(match i {
        Incident::Gap => "gap",
        Incident::Resync => "resync",
        Incident::ChecksumFailed => "checksum_failed",
        Incident::ParseError => "parse_error",
        Incident::UnknownMessage => "unknown_message",
        Incident::ChecksumOk => return None,
    })
}

/// A book state's label and, out of sync, why.
pub fn book_state(s: &BookState) -> (&'static str, Option<String>) {
    let reason = match s {
        BookState::OutOfSync(r) => Some(r.to_string()),
        _ => None,
    };
    (s.label(), reason)
}

/// A connection state's label and reason.
pub fn conn_state(s: &ConnState) -> (&'static str, Option<String>) {
    match s {
        ConnState::Connecting => ("connecting", None),
        ConnState::Connected => ("connected", None),
        ConnState::Backoff {
            retry_in_ms,
            reason,
        } => (
            "backoff",
            Some(format!("{reason} (retrying in {retry_in_ms} ms)")),
        ),
        ConnState::Disconnected { reason } => ("disconnected", Some(reason.clone())),
        ConnState::Replay => ("replay", None),
    }
}

pub fn dec(d: Decimal) -> String {
    d.to_string()
}

pub fn parse_dec(s: &str) -> Option<Decimal> {
    Decimal::from_str(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn decimals_round_trip_exactly() {
        for d in [
            dec!(0.00000001),
            dec!(65083.67000),
            dec!(-12.5),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(1, 28),
        ] {
            let back = parse_dec(&dec(d)).unwrap();
            assert_eq!(back, d);
            assert_eq!(back.scale(), d.scale(), "{d}: trailing zeros kept");
        }
        for bad in ["", "12.3.4", "NaN", "0x10"] {
            assert_eq!(parse_dec(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sides_round_trip() {
        for s in [LiquidatedSide::Long, LiquidatedSide::Short] {
            assert_eq!(parse_liq_side(liq_side(s)), Some(s));
        }
        for s in [TakerSide::Buy, TakerSide::Sell] {
            assert_eq!(parse_taker_side(taker_side(s)), Some(s));
        }
        assert_eq!(parse_taker_side("BUY"), None);
    }
}
