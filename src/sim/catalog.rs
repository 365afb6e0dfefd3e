//! The simulated venues' listings: which books exist, their native symbols,
//! tick and lot sizes, how each venue prints numbers, and which depth-limited
//! feeds each book is streamed through.

use rust_decimal::Decimal;

use crate::model::{Instrument, Venue};

/// How a venue prints a decimal on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumStyle {
    /// Always this many decimals (`"0.35130000"`, `"65114.20"`).
    Fixed(u32),
    /// Shortest exact form, no trailing zeros (`"65140"`, `"0.000678"`).
    Plain,
}

impl NumStyle {
    pub fn format(self, d: Decimal) -> String {
        match self {
            NumStyle::Fixed(dp) => format!("{:.*}", dp as usize, d),
            NumStyle::Plain => d.normalize().to_string(),
        }
    }
}

/// The depth of Binance's diff streams: the whole book.
pub const FULL_DEPTH: usize = usize::MAX;

/// One simulated book.
#[derive(Clone, Debug)]
pub struct Spec {
    pub venue: Venue,
    pub instrument: Instrument,
    /// The venue's own symbol (`BTCUSDT`, `BTC-USDT-SWAP`).
    pub native: String,
    pub tick: Decimal,
    /// Size step in wire units (contracts for OKX swaps, base asset elsewhere).
    pub lot: Decimal,
    /// Base asset per contract when the venue sizes in contracts.
    pub contract_size: Option<Decimal>,
    pub price_style: NumStyle,
    pub size_style: NumStyle,
    /// The depths this book is streamed at (one feed view per depth).
    pub depths: &'static [usize],
    /// Typical resting size near the touch, in the base asset.
    pub typical_size: f64,
}

impl Spec {
    /// Wire size unit expressed in the base asset.
    pub fn lot_in_base(&self) -> Decimal {
        self.lot * self.contract_size.unwrap_or(Decimal::ONE)
    }

    pub fn price(&self, ticks: i64) -> Decimal {
        Decimal::from(ticks) * self.tick
    }

    /// Size in wire units.
    pub fn size(&self, lots: i64) -> Decimal {
        Decimal::from(lots) * self.lot
    }

    pub fn price_str(&self, ticks: i64) -> String {
        self.price_style.format(self.price(ticks))
    }

    pub fn size_str(&self, lots: i64) -> String {
        self.size_style.format(self.size(lots))
    }

    pub fn view_index(&self, depth: usize) -> Option<usize> {
        self.depths.iter().position(|&d| d == depth)
    }
}

/// Starting fair prices per base asset.
pub const BASES: &[(&str, f64)] = &[("BTC", 65_000.0), ("ETH", 1_920.0), ("SOL", 150.0)];

pub const BINANCE_DEPTHS: &[usize] = &[FULL_DEPTH];
pub const BYBIT_DEPTHS: &[usize] = &[50, 200, 1000];
pub const OKX_DEPTHS: &[usize] = &[400];

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or(Decimal::ONE)
}

struct Row {
    venue: Venue,
    instrument: &'static str,
    native: &'static str,
    tick: &'static str,
    lot: &'static str,
    contract_size: Option<&'static str>,
    price_style: NumStyle,
    size_style: NumStyle,
    typical_size: f64,
}

const fn row(
    venue: Venue,
    instrument: &'static str,
    native: &'static str,
    tick: &'static str,
    lot: &'static str,
    styles: (NumStyle, NumStyle),
    typical_size: f64,
) -> Row {
    Row {
        venue,
        instrument,
        native,
        tick,
        lot,
        contract_size: None,
        price_style: styles.0,
        size_style: styles.1,
        typical_size,
    }
}

/// An OKX linear swap: sized in contracts of `ct_val` base, lot 0.01.
const fn swap(
    instrument: &'static str,
    native: &'static str,
    tick: &'static str,
    price_dp: u32,
    ct_val: &'static str,
    typical_size: f64,
) -> Row {
    Row {
        venue: Venue::Okx,
        instrument,
        native,
        tick,
        lot: "0.01",
        contract_size: Some(ct_val),
        price_style: NumStyle::Fixed(price_dp),
        size_style: NumStyle::Plain,
        typical_size,
    }
}

use NumStyle::{Fixed, Plain};

/// Tick and lot sizes follow the real listings closely (2026).
const ROWS: &[Row] = &[
    row(
        Venue::Binance,
        "BTC-USDT",
        "BTCUSDT",
        "0.01",
        "0.00001",
        (Fixed(8), Fixed(8)),
        0.4,
    ),
    row(
        Venue::Binance,
        "ETH-USDT",
        "ETHUSDT",
        "0.01",
        "0.0001",
        (Fixed(8), Fixed(8)),
        6.0,
    ),
    row(
        Venue::Binance,
        "BTC-USDT-PERP",
        "BTCUSDT",
        "0.10",
        "0.001",
        (Fixed(2), Fixed(3)),
        1.5,
    ),
    row(
        Venue::Binance,
        "ETH-USDT-PERP",
        "ETHUSDT",
        "0.01",
        "0.001",
        (Fixed(2), Fixed(3)),
        25.0,
    ),
    row(
        Venue::Binance,
        "SOL-USDT-PERP",
        "SOLUSDT",
        "0.01",
        "1",
        (Fixed(2), Fixed(0)),
        300.0,
    ),
    row(
        Venue::Bybit,
        "BTC-USDT",
        "BTCUSDT",
        "0.1",
        "0.000001",
        (Plain, Plain),
        0.3,
    ),
    row(
        Venue::Bybit,
        "ETH-USDT",
        "ETHUSDT",
        "0.01",
        "0.00001",
        (Plain, Plain),
        4.0,
    ),
    row(
        Venue::Bybit,
        "BTC-USDT-PERP",
        "BTCUSDT",
        "0.10",
        "0.001",
        (Fixed(2), Fixed(3)),
        1.2,
    ),
    row(
        Venue::Bybit,
        "ETH-USDT-PERP",
        "ETHUSDT",
        "0.01",
        "0.01",
        (Fixed(2), Fixed(2)),
        20.0,
    ),
    row(
        Venue::Bybit,
        "SOL-USDT-PERP",
        "SOLUSDT",
        "0.010",
        "0.1",
        (Fixed(3), Fixed(1)),
        250.0,
    ),
    row(
        Venue::Okx,
        "BTC-USDT",
        "BTC-USDT",
        "0.1",
        "0.00000001",
        (Fixed(1), Plain),
        0.3,
    ),
    row(
        Venue::Okx,
        "ETH-USDT",
        "ETH-USDT",
        "0.01",
        "0.000001",
        (Fixed(2), Plain),
        4.0,
    ),
    swap("BTC-USDT-PERP", "BTC-USDT-SWAP", "0.1", 1, "0.01", 1.0),
    swap("ETH-USDT-PERP", "ETH-USDT-SWAP", "0.01", 2, "0.1", 15.0),
    swap("SOL-USDT-PERP", "SOL-USDT-SWAP", "0.01", 2, "1", 200.0),
];

/// Every simulated book, in a fixed order (the order is part of the
/// simulator's determinism).
pub fn specs() -> Vec<Spec> {
    ROWS.iter()
        .filter_map(|r| {
            let instrument: Instrument = r.instrument.parse().ok()?;
            let depths = match r.venue {
                Venue::Binance => BINANCE_DEPTHS,
                Venue::Bybit => BYBIT_DEPTHS,
                _ => OKX_DEPTHS,
            };
            Some(Spec {
                venue: r.venue,
                instrument,
                native: r.native.to_string(),
                tick: dec(r.tick),
                lot: dec(r.lot),
                contract_size: r.contract_size.map(dec),
                price_style: r.price_style,
                size_style: r.size_style,
                depths,
                typical_size: r.typical_size,
            })
        })
        .collect()
}

/// Starting fair price of a base asset.
pub fn start_price(base: &str) -> f64 {
    BASES
        .iter()
        .find(|(b, _)| *b == base)
        .map(|&(_, p)| p)
        .unwrap_or(100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_print_like_the_venues() {
        assert_eq!(Fixed(8).format(dec("0.3513")), "0.35130000");
        assert_eq!(Fixed(2).format(dec("65114.2")), "65114.20");
        assert_eq!(Fixed(0).format(dec("5")), "5");
        assert_eq!(Plain.format(dec("65140.0")), "65140");
        assert_eq!(Plain.format(dec("0.000678")), "0.000678");
    }

    #[test]
    fn every_row_parses() {
        let s = specs();
        assert_eq!(s.len(), ROWS.len());
        let swap = s.iter().find(|s| s.native == "ETH-USDT-SWAP").unwrap();
        assert_eq!(swap.lot_in_base(), dec("0.001"));
        assert_eq!(swap.price_str(192_012), "1920.12");
    }
}
