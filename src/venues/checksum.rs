//! Books kept in the venue's own text, and the CRC32 checksums computed over
//! them (OKX, Kraken).
//!
//! A checksum is computed over the exact decimal text a venue sent
//! (`0.5000` is not `0.5`), so the adapters that verify one keep a copy of
//! each book with the received strings beside the engine's [`OrderBook`]
//! (which only holds [`Decimal`]s). The same copy carries OKX sizes in
//! contracts, before conversion to the base asset.
//!
//! [`OrderBook`]: crate::book::OrderBook

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use crate::model::BookSide;

/// The text of a JSON string or number, as received: quotes removed from a
/// string, a number's literal kept digit for digit (trailing zeros included).
pub fn raw_text(raw: &RawValue) -> &str {
    let s = raw.get().trim();
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// Parse decimal text (plain or scientific, e.g. `1e-8`).
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

/// One level with the venue's own text for price and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextLevel {
    pub size: Decimal,
    pub price_text: String,
    pub size_text: String,
}

/// An order book in the venue's own units and text.
#[derive(Clone, Debug, Default)]
pub struct TextBook {
    bids: BTreeMap<Decimal, TextLevel>,
    asks: BTreeMap<Decimal, TextLevel>,
}

impl TextBook {
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    fn side_mut(&mut self, side: BookSide) -> &mut BTreeMap<Decimal, TextLevel> {
        match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        }
    }

    /// Set a level from its text; a zero size removes it. `None` when the
    /// text is not a decimal.
    pub fn set_text(
        &mut self,
        side: BookSide,
        price: &str,
        size: &str,
    ) -> Option<(Decimal, Decimal)> {
        let p = parse_decimal(price)?;
        let s = parse_decimal(size)?;
        let map = self.side_mut(side);
        if s.is_zero() || s.is_sign_negative() {
            map.remove(&p);
        } else {
            map.insert(
                p,
                TextLevel {
                    size: s,
                    price_text: price.to_string(),
                    size_text: size.to_string(),
                },
            );
        }
        Some((p, s))
    }

    /// Levels best first: `(price, level)`.
    pub fn iter(&self, side: BookSide) -> Box<dyn Iterator<Item = (&Decimal, &TextLevel)> + '_> {
        match side {
            BookSide::Bid => Box::new(self.bids.iter().rev()),
            BookSide::Ask => Box::new(self.asks.iter()),
        }
    }

    pub fn len(&self, side: BookSide) -> usize {
        match side {
            BookSide::Bid => self.bids.len(),
            BookSide::Ask => self.asks.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bids.is_empty() && self.asks.is_empty()
    }

    /// Keep the best `depth` levels of each side; returns the prices removed
    /// (so the engine's copy can drop them too).
    pub fn truncate(&mut self, depth: usize) -> (Vec<Decimal>, Vec<Decimal>) {
        let mut gone_bids = Vec::new();
        while self.bids.len() > depth {
            match self.bids.pop_first() {
                Some((p, _)) => gone_bids.push(p),
                None => break,
            }
        }
        let mut gone_asks = Vec::new();
        while self.asks.len() > depth {
            match self.asks.pop_last() {
                Some((p, _)) => gone_asks.push(p),
                None => break,
            }
        }
        (gone_bids, gone_asks)
    }
}

/// OKX v5: best 25 bids and asks interleaved (`bid1:ask1:bid2:ask2…`, a side
/// that runs out is skipped), each level `price:size` in the received text,
/// joined with `:`; CRC-32 (IEEE) read as a signed 32-bit integer.
pub fn okx_checksum_string(book: &TextBook) -> String {
    let mut bids = book.iter(BookSide::Bid).take(25);
    let mut asks = book.iter(BookSide::Ask).take(25);
    let mut parts: Vec<&str> = Vec::with_capacity(100);
    loop {
        let b = bids.next();
        let a = asks.next();
        if b.is_none() && a.is_none() {
            break;
        }
        for (_, l) in b.into_iter().chain(a) {
            parts.push(&l.price_text);
            parts.push(&l.size_text);
        }
    }
    parts.join(":")
}

pub fn okx_checksum(book: &TextBook) -> i32 {
    crc32fast::hash(okx_checksum_string(book).as_bytes()) as i32
}

/// Kraken's rendering of one number: the text with `.` removed and leading
/// zeros stripped (`0.00100000` → `100000`).
pub fn kraken_token(text: &str, out: &mut String) {
    let start = out.len();
    for c in text.chars().filter(|&c| c != '.') {
        if c == '0' && out.len() == start {
            continue;
        }
        out.push(c);
    }
}

/// Render a decimal text at least at `scale` decimals (Kraken v2 numbers may
/// lose trailing zeros on the wire; the checksum wants them). Done on the
/// text, by appending zeros, so that it stays the venue's own digits and no
/// scale (however large an instrument list claims it is) can overflow a
/// `Decimal`; scales past [`MAX_PAD_SCALE`] and texts that are not plain
/// decimals are left as they are.
pub fn pad_to_scale(text: &str, scale: Option<u32>) -> std::borrow::Cow<'_, str> {
    let Some(scale) = scale.filter(|&s| s <= MAX_PAD_SCALE) else {
        return text.into();
    };
    let digits = text.strip_prefix('-').unwrap_or(text);
    let plain = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if !plain || digits.bytes().filter(|&b| b == b'.').count() > 1 {
        return text.into();
    }
    let have = text.find('.').map_or(0, |dot| text.len() - dot - 1) as u32;
    if have >= scale {
        return text.into();
    }
    let mut padded = String::with_capacity(text.len() + (scale - have) as usize + 1);
    padded.push_str(text);
    if have == 0 && !text.contains('.') {
        padded.push('.');
    }
    padded.extend(std::iter::repeat_n('0', (scale - have) as usize));
    padded.into()
}

/// No venue quotes more decimals than a `Decimal` holds.
pub const MAX_PAD_SCALE: u32 = 28;

/// Kraken (v1 and v2): top 10 asks low→high then top 10 bids high→low, each
/// level `token(price) + token(qty)`; CRC-32 (IEEE) as unsigned. Prices and
/// quantities are padded to `price_scale` / `qty_scale` decimals when given.
pub fn kraken_checksum_string(
    book: &TextBook,
    price_scale: Option<u32>,
    qty_scale: Option<u32>,
) -> String {
    let mut s = String::with_capacity(400);
    for side in [BookSide::Ask, BookSide::Bid] {
        for (_, l) in book.iter(side).take(10) {
            kraken_token(&pad_to_scale(&l.price_text, price_scale), &mut s);
            kraken_token(&pad_to_scale(&l.size_text, qty_scale), &mut s);
        }
    }
    s
}

pub fn kraken_checksum(book: &TextBook, price_scale: Option<u32>, qty_scale: Option<u32>) -> u32 {
    crc32fast::hash(kraken_checksum_string(book, price_scale, qty_scale).as_bytes())
}

/// The largest number of decimals among the top 10 levels' prices and sizes:
/// a fallback precision when the instrument list has not been seen.
pub fn observed_scales(book: &TextBook) -> (u32, u32) {
    let scale = |t: &str| t.split_once('.').map(|(_, f)| f.len() as u32).unwrap_or(0);
    let mut ps = 0;
    let mut qs = 0;
    for side in [BookSide::Ask, BookSide::Bid] {
        for (_, l) in book.iter(side).take(10) {
            ps = ps.max(scale(&l.price_text));
            qs = qs.max(scale(&l.size_text));
        }
    }
    (ps, qs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_to_scale_appends_zeros_on_the_text() {
        assert_eq!(pad_to_scale("0.001", Some(8)), "0.00100000");
        assert_eq!(pad_to_scale("42", Some(2)), "42.00");
        assert_eq!(pad_to_scale("1.50", Some(1)), "1.50");
        assert_eq!(pad_to_scale("1.5", None), "1.5");
        // Scales no Decimal can hold, and texts that are not plain decimals,
        // are left alone instead of overflowing (a fuzz crash before).
        assert_eq!(
            pad_to_scale("79228162514264337593543950335", Some(33)),
            "79228162514264337593543950335"
        );
        assert_eq!(pad_to_scale("1.2.3", Some(5)), "1.2.3");
        assert_eq!(pad_to_scale("1e5", Some(2)), "1e5");
    }

    fn book(bids: &[(&str, &str)], asks: &[(&str, &str)]) -> TextBook {
        let mut b = TextBook::default();
        for (p, s) in bids {
            b.set_text(BookSide::Bid, p, s).unwrap();
        }
        for (p, s) in asks {
            b.set_text(BookSide::Ask, p, s).unwrap();
        }
        b
    }

    #[test]
    fn okx_strings_follow_the_documented_examples() {
        // OKX v5 docs, "Order book channel" → "Checksum" examples.
        let b = book(
            &[("3366.1", "7"), ("3366", "6")],
            &[("3366.8", "9"), ("3368", "8")],
        );
        assert_eq!(okx_checksum_string(&b), "3366.1:7:3366.8:9:3366:6:3368:8");
        let b = book(
            &[("3366.1", "7")],
            &[("3366.8", "9"), ("3368", "8"), ("3372", "8")],
        );
        assert_eq!(okx_checksum_string(&b), "3366.1:7:3366.8:9:3368:8:3372:8");
        assert_eq!(okx_checksum(&b), 831078360);
    }

    #[test]
    fn kraken_tokens_drop_dot_and_leading_zeros_only() {
        let mut s = String::new();
        kraken_token("0.00100000", &mut s);
        assert_eq!(s, "100000");
        s.clear();
        kraken_token("45285.2", &mut s);
        assert_eq!(s, "452852");
        assert_eq!(pad_to_scale("0.1", Some(8)), "0.10000000");
        assert_eq!(pad_to_scale("45281", Some(1)), "45281.0");
        assert_eq!(pad_to_scale("0.123", None), "0.123");
    }

    #[test]
    fn truncation_returns_removed_prices() {
        let mut b = book(
            &[("1", "1"), ("2", "1"), ("3", "1")],
            &[("4", "1"), ("5", "1")],
        );
        let (gb, ga) = b.truncate(1);
        assert_eq!(gb.len(), 2);
        assert_eq!(ga, vec![Decimal::from(5)]);
        assert_eq!(
            b.iter(BookSide::Bid).next().map(|(p, _)| *p),
            Some(Decimal::from(3))
        );
    }

    #[test]
    fn raw_text_keeps_number_literals() {
        let v: Vec<Box<RawValue>> = serde_json::from_str(r#"["1.50", 0.10000000, 2e-8]"#).unwrap();
        assert_eq!(raw_text(&v[0]), "1.50");
        assert_eq!(raw_text(&v[1]), "0.10000000");
        assert_eq!(parse_decimal(raw_text(&v[2])), Some(Decimal::new(2, 8)));
    }
}
