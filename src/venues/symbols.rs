//! Native symbol helpers shared by the venues that glue base and quote
//! together (`BTCUSDT`).

use crate::model::{Instrument, InstrumentKind};

/// Quote assets recognised when a venue gives no separator, longest first so
/// that `USDT` wins over `USD`.
pub const KNOWN_QUOTES: &[&str] = &[
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "USDE", "GUSD", "RLUSD", "EURC", "USD", "EUR", "GBP",
    "JPY", "TRY", "BRL", "AUD", "CAD", "CHF", "BTC", "ETH", "BNB", "DAI", "SGD",
];

/// Split `BTCUSDT` into `BTC-USDT` by the longest known quote suffix.
pub fn split_concatenated(native: &str, kind: InstrumentKind) -> Option<Instrument> {
    let upper = native.to_ascii_uppercase();
    let mut quotes: Vec<&str> = KNOWN_QUOTES.to_vec();
    quotes.sort_by_key(|q| std::cmp::Reverse(q.len()));
    for quote in quotes {
        if let Some(base) = upper.strip_suffix(quote)
            && !base.is_empty()
        {
            let built = match kind {
                InstrumentKind::Spot => Instrument::spot(base, quote),
                InstrumentKind::Perp => Instrument::perp(base, quote),
            };
            return built.ok();
        }
    }
    None
}

/// `BTC-USDT` → `BTCUSDT` (upper case, no separator).
pub fn concatenated(inst: &Instrument) -> String {
    format!("{}{}", inst.base, inst.quote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_by_longest_quote() {
        let i = split_concatenated("btcusdt", InstrumentKind::Spot).unwrap();
        assert_eq!(i.to_string(), "BTC-USDT");
        let i = split_concatenated("NKNUSDT", InstrumentKind::Perp).unwrap();
        assert_eq!(i.to_string(), "NKN-USDT-PERP");
        let i = split_concatenated("LRCBTC", InstrumentKind::Spot).unwrap();
        assert_eq!(i.to_string(), "LRC-BTC");
        assert!(split_concatenated("USDT", InstrumentKind::Spot).is_none());
        assert_eq!(concatenated(&i), "LRCBTC");
    }
}
