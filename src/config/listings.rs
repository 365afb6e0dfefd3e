//! Built-in knowledge of what each venue lists and which endpoint keys it
//! takes, used when no file or no cached catalog says otherwise.

use crate::model::{Instrument, InstrumentKind, Venue};

/// The watchlist with no config file: BTC and ETH against USDT and USD, spot
/// and perpetuals.
pub const DEFAULT_WATCHLIST: [&str; 8] = [
    "BTC-USDT",
    "BTC-USD",
    "ETH-USDT",
    "ETH-USD",
    "BTC-USDT-PERP",
    "BTC-USD-PERP",
    "ETH-USDT-PERP",
    "ETH-USD-PERP",
];

/// Which venue lists which default instrument (as of 2026).
const DEFAULT_LISTINGS: &[(Venue, &[&str])] = &[
    (
        Venue::Binance,
        &["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"],
    ),
    (
        Venue::Bybit,
        &["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"],
    ),
    (
        Venue::Okx,
        &["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"],
    ),
    (Venue::Coinbase, &["BTC-USD", "ETH-USD"]),
    (
        Venue::Kraken,
        &["BTC-USD", "ETH-USD", "BTC-USDT", "ETH-USDT"],
    ),
    (Venue::Bitstamp, &["BTC-USD", "ETH-USD"]),
    (Venue::Gemini, &["BTC-USD", "ETH-USD"]),
    (Venue::Hyperliquid, &["BTC-USD-PERP", "ETH-USD-PERP"]),
];

/// The default instruments `venue` lists.
pub fn default_listing(venue: Venue) -> Vec<Instrument> {
    DEFAULT_LISTINGS
        .iter()
        .filter(|(v, _)| *v == venue)
        .flat_map(|(_, names)| names.iter().filter_map(|n| n.parse().ok()))
        .collect()
}

fn is_default_instrument(instrument: &Instrument) -> bool {
    DEFAULT_LISTINGS
        .iter()
        .flat_map(|(_, names)| names.iter())
        .any(|n| n.parse::<Instrument>().ok().as_ref() == Some(instrument))
}

/// Whether depthwatch connects to `venue` for instruments of this kind:
/// spot on every venue but Hyperliquid, perpetuals on Binance, Bybit, OKX and
/// Hyperliquid (which quotes its perps in USD).
pub fn supports(venue: Venue, instrument: &Instrument) -> bool {
    match instrument.kind {
        InstrumentKind::Spot => venue != Venue::Hyperliquid,
        InstrumentKind::Perp => match venue {
            Venue::Binance | Venue::Bybit | Venue::Okx => true,
            Venue::Hyperliquid => instrument.quote.as_str() == "USD",
            _ => false,
        },
    }
}

/// Best guess without a catalog: the static table for the default
/// instruments, otherwise whether the venue trades that kind at all.
pub fn probably_lists(venue: Venue, instrument: &Instrument) -> bool {
    if is_default_instrument(instrument) {
        default_listing(venue).contains(instrument)
    } else {
        supports(venue, instrument)
    }
}

/// The endpoint keys each venue accepts in `[endpoints.<venue>]`, with their
/// defaults (ENDPOINTS.md).
pub fn endpoint_keys(venue: Venue) -> &'static [(&'static str, &'static str)] {
    match venue {
        Venue::Binance => &[
            ("spot_ws", "wss://stream.binance.com:9443"),
            ("spot_rest", "https://api.binance.com"),
            ("futures_public_ws", "wss://fstream.binance.com/public"),
            ("futures_market_ws", "wss://fstream.binance.com/market"),
            ("futures_rest", "https://fapi.binance.com"),
        ],
        Venue::Bybit => &[
            ("spot_ws", "wss://stream.bybit.com/v5/public/spot"),
            ("linear_ws", "wss://stream.bybit.com/v5/public/linear"),
            ("rest", "https://api.bybit.com"),
        ],
        Venue::Okx => &[
            ("ws", "wss://ws.okx.com:8443/ws/v5/public"),
            ("rest", "https://www.okx.com"),
        ],
        Venue::Coinbase => &[
            ("ws", "wss://advanced-trade-ws.coinbase.com"),
            ("rest", "https://api.coinbase.com"),
        ],
        Venue::Kraken => &[
            ("ws", "wss://ws.kraken.com/v2"),
            ("rest", "https://api.kraken.com"),
        ],
        Venue::Bitstamp => &[
            ("ws", "wss://ws.bitstamp.net"),
            ("rest", "https://www.bitstamp.net"),
        ],
        Venue::Gemini => &[
            ("ws", "wss://api.gemini.com/v2/marketdata"),
            ("rest", "https://api.gemini.com"),
        ],
        Venue::Hyperliquid => &[
            ("ws", "wss://api.hyperliquid.xyz/ws"),
            ("rest", "https://api.hyperliquid.xyz"),
        ],
    }
}

/// Whether an endpoint key names a WebSocket (`*ws`) rather than a REST base.
pub fn is_websocket_key(key: &str) -> bool {
    key == "ws" || key.ends_with("_ws")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_parses_and_is_supported() {
        for (venue, names) in DEFAULT_LISTINGS {
            for name in names.iter() {
                let i: Instrument = name.parse().unwrap();
                assert!(supports(*venue, &i), "{venue} {name}");
                assert!(DEFAULT_WATCHLIST.contains(name), "{name}");
            }
        }
    }

    #[test]
    fn non_default_instruments_follow_kind() {
        let sol_perp: Instrument = "SOL-USDT-PERP".parse().unwrap();
        assert!(probably_lists(Venue::Bybit, &sol_perp));
        assert!(!probably_lists(Venue::Coinbase, &sol_perp));
        assert!(!probably_lists(Venue::Hyperliquid, &sol_perp));
        let btc_usd: Instrument = "BTC-USD".parse().unwrap();
        assert!(!probably_lists(Venue::Binance, &btc_usd));
        assert!(probably_lists(Venue::Gemini, &btc_usd));
    }
}
