//! The simulated venues' listings: which books exist, their native symbols,
//! tick and lot sizes, how each venue prints numbers, and which depth-limited
//! feeds each book is streamed through.

use rust_decimal::Decimal;

use crate::model::{Instrument, Venue};

pub use NumStyle::{Fixed, Plain};

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
    /// Wire sizes are quote (USD) amounts, as on inverse perpetuals: a
    /// level's base size is its amount over its price.
    pub usd_sized: bool,
    pub price_style: NumStyle,
    pub size_style: NumStyle,
    /// The depths this book is streamed at (one feed view per depth).
    pub depths: &'static [usize],
    /// Typical resting size near the touch, in the base asset.
    pub typical_size: f64,
}

impl Spec {
    /// Wire size unit expressed in the base asset (for a USD-sized book,
    /// at the base asset's starting price: good for sizing orders only).
    pub fn lot_in_base(&self) -> Decimal {
        if self.usd_sized {
            let start = Decimal::try_from(start_price(self.instrument.base.as_str()))
                .unwrap_or(Decimal::ONE_HUNDRED);
            return self.lot.checked_div(start).unwrap_or(self.lot);
        }
        self.lot * self.contract_size.unwrap_or(Decimal::ONE)
    }

    /// `lots` at `price` (ticks) in the base asset, exactly as an adapter
    /// converts the wire amount.
    pub fn base_size(&self, lots: i64, price: i64) -> Decimal {
        if self.usd_sized {
            crate::venues::parse::usd_contracts_to_base(
                self.size(lots),
                Decimal::ONE,
                self.price(price),
            )
            .unwrap_or_default()
        } else {
            Decimal::from(lots) * self.lot_in_base()
        }
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

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or(Decimal::ONE)
}

/// One simulated book as a venue's simulator declares it (tick and lot
/// sizes close to the real listing).
pub struct Listing {
    pub instrument: &'static str,
    pub native: &'static str,
    pub tick: &'static str,
    pub lot: &'static str,
    pub contract_size: Option<&'static str>,
    pub usd_sized: bool,
    pub price_style: NumStyle,
    pub size_style: NumStyle,
    pub typical_size: f64,
}

impl Listing {
    /// A book sized in the base asset.
    pub const fn new(
        instrument: &'static str,
        native: &'static str,
        tick: &'static str,
        lot: &'static str,
        styles: (NumStyle, NumStyle),
        typical_size: f64,
    ) -> Listing {
        Listing {
            instrument,
            native,
            tick,
            lot,
            contract_size: None,
            usd_sized: false,
            price_style: styles.0,
            size_style: styles.1,
            typical_size,
        }
    }

    /// A book sized in contracts of `contract_size` base each.
    pub const fn contracts(self, contract_size: &'static str) -> Listing {
        Listing {
            contract_size: Some(contract_size),
            ..self
        }
    }

    /// A book sized in USD amounts (lots of `lot` USD), as inverse
    /// perpetuals are.
    pub const fn usd_sized(self) -> Listing {
        Listing {
            usd_sized: true,
            ..self
        }
    }
}

/// Every simulated book, in a fixed order (registry order, then each
/// venue's listing order; the order is part of the simulator's determinism).
pub fn specs() -> Vec<Spec> {
    crate::model::Venue::all()
        .filter_map(|v| v.spec().sim.map(|sim| (v, sim)))
        .flat_map(|(venue, sim)| {
            sim.listings.iter().filter_map(move |r| {
                let instrument: Instrument = r.instrument.parse().ok()?;
                Some(Spec {
                    venue,
                    instrument,
                    native: r.native.to_string(),
                    tick: dec(r.tick),
                    lot: dec(r.lot),
                    contract_size: r.contract_size.map(dec),
                    usd_sized: r.usd_sized,
                    price_style: r.price_style,
                    size_style: r.size_style,
                    depths: sim.depths,
                    typical_size: r.typical_size,
                })
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
        let declared: usize = crate::model::Venue::all()
            .filter_map(|v| v.spec().sim)
            .map(|sim| sim.listings.len())
            .sum();
        assert_eq!(s.len(), declared);
        let swap = s.iter().find(|s| s.native == "ETH-USDT-SWAP").unwrap();
        assert_eq!(swap.lot_in_base(), dec("0.001"));
        assert_eq!(swap.price_str(192_012), "1920.12");
    }
}
