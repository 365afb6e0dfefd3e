//! Cross-venue arbitrage after taker fees and depth.
//!
//! For an ordered pair (buy on A, sell on B) the walk takes A's asks and B's
//! bids together, best first, while the marginal unit still pays after both
//! taker fees: `ask × (1 + fa/1e4) < bid × (1 − fb/1e4)`, optionally capped by
//! a quote notional. Reported figures (DESIGN.md's JSON depends on them):
//!
//! - `gross_bps = (sell_vwap − buy_vwap) / buy_vwap × 1e4`
//! - `net_bps = gross_bps − buy_fee_bps − sell_fee_bps`
//! - `profit = size × buy_vwap × net_bps / 1e4` (quote currency)
//!
//! The walk keeps only sums (size, cost, proceeds); the divisions above are
//! done only when a figure is needed (threshold check of an executable pair,
//! snapshot), which keeps the per-update path to a few multiplications.
//!
//! Overflow: every step on book values is checked. A walk whose sums would
//! not fit in a `Decimal` gives no quote (the pair shows nothing, an open
//! opportunity on it closes), and a figure that would not fit gives no
//! figures: only absurd prices or sizes get there, and a missing number is
//! better than a wrong one.

use rust_decimal::Decimal;

use crate::book::Side;
use crate::model::{Instrument, Micros, Venue};

use super::EngineConfig;
use super::snapshot::{ArbOpportunity, ClosedArb};

const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// A venue's taker fee and the price multipliers derived from it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeeInfo {
    pub bps: Decimal,
    /// `1 + fee/1e4`: what buying one unit at price p costs per p.
    pub buy_mult: Decimal,
    /// `1 − fee/1e4`: what selling one unit at price p yields per p.
    pub sell_mult: Decimal,
}

impl FeeInfo {
    pub fn new(bps: Decimal) -> Self {
        // |frac| ≤ Decimal::MAX / 1e4, so 1 ± frac cannot overflow.
        let frac = bps / BPS;
        FeeInfo {
            bps,
            buy_mult: Decimal::ONE + frac,
            sell_mult: Decimal::ONE - frac,
        }
    }
}

/// Taker fees per venue, from the config.
#[derive(Clone, Debug, PartialEq)]
pub struct Fees {
    /// Indexed by [`Venue::index`].
    per_venue: Vec<FeeInfo>,
}

impl Fees {
    pub fn from_config(cfg: &EngineConfig) -> Self {
        let per_venue = Venue::all().map(|v| {
            FeeInfo::new(
                cfg.taker_fee_bps
                    .get(&v)
                    .copied()
                    .unwrap_or(cfg.default_taker_fee_bps),
            )
        });
        Fees {
            per_venue: per_venue.collect(),
        }
    }

    pub fn of(&self, venue: Venue) -> &FeeInfo {
        &self.per_venue[venue.index()]
    }
}

/// What walking a pair of books found, as sums. `size` is zero when not even
/// the top pays; the tops are kept so the spread can still be shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairQuote {
    pub size: Decimal,
    /// Quote paid buying `size` on the buy venue (before fees).
    pub cost: Decimal,
    /// Quote received selling `size` on the sell venue (before fees).
    pub proceeds: Decimal,
    pub top_ask: Decimal,
    pub top_bid: Decimal,
}

/// The reported figures of a pair quote.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    pub size: Decimal,
    pub buy_vwap: Decimal,
    pub sell_vwap: Decimal,
    pub gross_bps: Decimal,
    pub net_bps: Decimal,
    pub profit: Decimal,
}

impl PairQuote {
    /// Figures after fees; `None` only for degenerate (zero) prices. With no
    /// executable size, vwaps are the top prices and profit is zero.
    pub fn figures(&self, buy_fee_bps: Decimal, sell_fee_bps: Decimal) -> Option<Figures> {
        let (buy_vwap, sell_vwap, gross_bps) = if self.size.is_zero() {
            let gross = self
                .top_bid
                .checked_sub(self.top_ask)?
                .checked_mul(BPS)?
                .checked_div(self.top_ask)?;
            (self.top_ask, self.top_bid, gross)
        } else {
            // (sell_vwap − buy_vwap) / buy_vwap = (proceeds − cost) / cost.
            let gross = self
                .proceeds
                .checked_sub(self.cost)?
                .checked_mul(BPS)?
                .checked_div(self.cost)?;
            (
                self.cost.checked_div(self.size)?,
                self.proceeds.checked_div(self.size)?,
                gross,
            )
        };
        let net_bps = gross_bps
            .checked_sub(buy_fee_bps)?
            .checked_sub(sell_fee_bps)?;
        let profit = self.cost.checked_mul(net_bps)?.checked_div(BPS)?;
        Some(Figures {
            size: self.size,
            buy_vwap,
            sell_vwap,
            gross_bps,
            net_bps,
            profit,
        })
    }
}

/// `x > 0` without a full decimal comparison (the walk's hot path).
#[inline]
fn positive(x: Decimal) -> bool {
    x.is_sign_positive() && !x.is_zero()
}

/// Walk the buy venue's asks against the sell venue's bids. `None` when a side
/// is empty or the numbers overflow.
pub fn walk_pair(
    asks: &Side,
    buy_fee: &FeeInfo,
    bids: &Side,
    sell_fee: &FeeInfo,
    max_notional: Decimal,
) -> Option<PairQuote> {
    let mut ask_iter = asks.iter();
    let mut bid_iter = bids.iter();
    let mut ask = *ask_iter.next()?;
    let mut bid = *bid_iter.next()?;
    let mut quote = PairQuote {
        size: Decimal::ZERO,
        cost: Decimal::ZERO,
        proceeds: Decimal::ZERO,
        top_ask: ask.price,
        top_bid: bid.price,
    };
    let mut eff_ask = ask.price.checked_mul(buy_fee.buy_mult)?;
    let mut eff_bid = bid.price.checked_mul(sell_fee.sell_mult)?;
    let capped = max_notional > Decimal::ZERO;
    while eff_ask < eff_bid {
        let mut take = ask.size.min(bid.size);
        let mut cap_reached = false;
        if capped {
            let room = max_notional
                .checked_sub(quote.cost)?
                .checked_div(ask.price)?;
            if room <= take {
                take = room;
                cap_reached = true;
            }
        }
        if positive(take) {
            quote.size = quote.size.checked_add(take)?;
            quote.cost = quote.cost.checked_add(take.checked_mul(ask.price)?)?;
            quote.proceeds = quote.proceeds.checked_add(take.checked_mul(bid.price)?)?;
        }
        if cap_reached {
            break;
        }
        ask.size = ask.size.checked_sub(take)?;
        bid.size = bid.size.checked_sub(take)?;
        if !positive(ask.size) {
            match ask_iter.next() {
                Some(next) => {
                    ask = *next;
                    eff_ask = ask.price.checked_mul(buy_fee.buy_mult)?;
                }
                None => break,
            }
        }
        if !positive(bid.size) {
            match bid_iter.next() {
                Some(next) => {
                    bid = *next;
                    eff_bid = bid.price.checked_mul(sell_fee.sell_mult)?;
                }
                None => break,
            }
        }
    }
    Some(quote)
}

/// Identity and fees of one ordered pair, for building reports.
#[derive(Clone, Copy, Debug)]
pub struct PairCtx {
    pub key: Instrument,
    pub buy_venue: Venue,
    pub buy_instrument: Instrument,
    pub sell_venue: Venue,
    pub sell_instrument: Instrument,
    pub buy_fee_bps: Decimal,
    pub sell_fee_bps: Decimal,
    /// Either book is polled (REST fallback).
    pub polled: bool,
}

impl PairCtx {
    /// An opportunity report from a quote (`opened` and peaks set to now's).
    pub fn report(&self, quote: &PairQuote, now: Micros) -> Option<ArbOpportunity> {
        let f = quote.figures(self.buy_fee_bps, self.sell_fee_bps)?;
        Some(ArbOpportunity {
            key: self.key,
            buy_venue: self.buy_venue,
            buy_instrument: self.buy_instrument,
            sell_venue: self.sell_venue,
            sell_instrument: self.sell_instrument,
            buy_fee_bps: self.buy_fee_bps,
            sell_fee_bps: self.sell_fee_bps,
            size: f.size,
            buy_vwap: f.buy_vwap,
            sell_vwap: f.sell_vwap,
            gross_bps: f.gross_bps,
            net_bps: f.net_bps,
            profit: f.profit,
            opened: now,
            peak_net_bps: f.net_bps,
            peak_profit: f.profit,
            peak_size: f.size,
            peak_buy_vwap: f.buy_vwap,
            peak_sell_vwap: f.sell_vwap,
            polled: self.polled,
        })
    }
}

/// Reporting thresholds, from the config.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    pub min_net_bps: Decimal,
    pub min_profit: Decimal,
    pub max_notional: Decimal,
}

impl Thresholds {
    pub fn from_config(cfg: &EngineConfig) -> Self {
        Thresholds {
            min_net_bps: cfg.arb_min_net_bps,
            min_profit: cfg.arb_min_profit,
            max_notional: cfg.arb_max_notional,
        }
    }

    fn passes(&self, o: &ArbOpportunity) -> bool {
        o.size > Decimal::ZERO && o.net_bps >= self.min_net_bps && o.profit >= self.min_profit
    }
}

/// The lifetime of one ordered pair: its current walk when the fee-adjusted
/// tops cross, the open opportunity if any, and statistics over past ones.
/// (A pair whose tops do not cross stores nothing: its spread is derived from
/// the books' cached tops when shown, so the common update touches no track.)
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PairTrack {
    pub walk: Option<PairQuote>,
    pub open: Option<ArbOpportunity>,
    pub count: u64,
    pub total_open: Micros,
    pub longest: Micros,
    pub best_net_bps: Option<Decimal>,
}

impl PairTrack {
    /// Take a new walk (`None`: the tops do not cross or a book is not
    /// usable). Returns the opportunity that closed, if one did; `unusable`
    /// names the venue whose book stopped being usable, when that is why.
    pub fn update(
        &mut self,
        walk: Option<PairQuote>,
        ctx: &PairCtx,
        thresholds: &Thresholds,
        now: Micros,
        unusable: Option<String>,
    ) -> Option<ClosedArb> {
        self.walk = walk;
        // Division only for executable walks, which are rare.
        let passing = walk
            .filter(|q| q.size > Decimal::ZERO)
            .and_then(|q| ctx.report(&q, now))
            .filter(|o| thresholds.passes(o));
        match (passing, self.open.as_mut()) {
            (Some(new), Some(open)) => {
                open.size = new.size;
                open.buy_vwap = new.buy_vwap;
                open.sell_vwap = new.sell_vwap;
                open.gross_bps = new.gross_bps;
                open.net_bps = new.net_bps;
                open.profit = new.profit;
                open.buy_fee_bps = new.buy_fee_bps;
                open.sell_fee_bps = new.sell_fee_bps;
                open.peak_net_bps = open.peak_net_bps.max(new.net_bps);
                if new.profit > open.peak_profit {
                    open.peak_profit = new.profit;
                    open.peak_size = new.size;
                    open.peak_buy_vwap = new.buy_vwap;
                    open.peak_sell_vwap = new.sell_vwap;
                }
                open.polled |= new.polled;
                None
            }
            (Some(new), None) => {
                self.count = self.count.saturating_add(1);
                self.open = Some(new);
                None
            }
            (None, Some(_)) => {
                let reason = unusable.unwrap_or_else(|| "spread closed".to_string());
                self.close(now, reason)
            }
            (None, None) => None,
        }
    }

    /// Close the open opportunity, if any, folding it into the statistics.
    pub fn close(&mut self, now: Micros, reason: String) -> Option<ClosedArb> {
        let open = self.open.take()?;
        // Saturating: engine times come from the network and may be absurd.
        let lasted = now.saturating_sub(open.opened).max(0);
        self.total_open = self.total_open.saturating_add(lasted);
        self.longest = self.longest.max(lasted);
        self.best_net_bps = Some(
            self.best_net_bps
                .map_or(open.peak_net_bps, |b| b.max(open.peak_net_bps)),
        );
        Some(ClosedArb {
            key: open.key,
            buy_venue: open.buy_venue,
            sell_venue: open.sell_venue,
            opened: open.opened,
            closed: now,
            peak_net_bps: open.peak_net_bps,
            peak_profit: open.peak_profit,
            reason,
            buy_instrument: open.buy_instrument,
            sell_instrument: open.sell_instrument,
            buy_fee_bps: open.buy_fee_bps,
            sell_fee_bps: open.sell_fee_bps,
            size: open.peak_size,
            buy_vwap: open.peak_buy_vwap,
            sell_vwap: open.peak_sell_vwap,
            polled: open.polled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BookSide, Level};
    use rust_decimal_macros::dec;

    fn side(side: BookSide, levels: &[(Decimal, Decimal)]) -> Side {
        let mut s = Side::new(side);
        let l: Vec<Level> = levels.iter().map(|&(p, q)| Level::new(p, q)).collect();
        s.replace(&l);
        s
    }

    #[test]
    fn fee_multipliers() {
        let f = FeeInfo::new(dec!(10));
        assert_eq!(f.buy_mult, dec!(1.001));
        assert_eq!(f.sell_mult, dec!(0.999));
    }

    #[test]
    fn depth_limits_the_size() {
        // Buy asks 100×1, 100.1×4; sell bids 100.5×1.5, 100.2×10; 10 bps each.
        // 100.1 < 100.3995 take 1; 100.2001 < 100.3995 take 0.5;
        // 100.2001 ≥ 100.0998 stop. Size 1.5, cost 150.05, proceeds 150.75.
        let asks = side(
            BookSide::Ask,
            &[(dec!(100), dec!(1)), (dec!(100.1), dec!(4))],
        );
        let bids = side(
            BookSide::Bid,
            &[(dec!(100.5), dec!(1.5)), (dec!(100.2), dec!(10))],
        );
        let fee = FeeInfo::new(dec!(10));
        let q = walk_pair(&asks, &fee, &bids, &fee, Decimal::ZERO).unwrap();
        assert_eq!(
            (q.size, q.cost, q.proceeds),
            (dec!(1.5), dec!(150.05), dec!(150.75))
        );
        let f = q.figures(dec!(10), dec!(10)).unwrap();
        assert_eq!(f.buy_vwap.round_dp(6), dec!(100.033333));
        assert_eq!(f.sell_vwap, dec!(100.5));
        // gross = 0.7 / 150.05 × 1e4; profit = 0.7 − 150.05 × 0.002 = 0.3999.
        assert_eq!(f.gross_bps.round_dp(6), dec!(46.651116));
        assert_eq!(f.net_bps.round_dp(6), dec!(26.651116));
        assert_eq!(f.profit.round_dp(10), dec!(0.3999));
    }

    #[test]
    fn notional_cap_stops_the_walk() {
        let asks = side(BookSide::Ask, &[(dec!(100), dec!(5))]);
        let bids = side(BookSide::Bid, &[(dec!(110), dec!(5))]);
        let fee = FeeInfo::new(dec!(0));
        let q = walk_pair(&asks, &fee, &bids, &fee, dec!(250)).unwrap();
        assert_eq!(
            (q.size, q.cost, q.proceeds),
            (dec!(2.5), dec!(250), dec!(275))
        );
    }

    #[test]
    fn fees_can_eat_a_gross_spread() {
        // 5 bps gross, 20 bps of fees: nothing executable, net −15 bps.
        let asks = side(BookSide::Ask, &[(dec!(100), dec!(1))]);
        let bids = side(BookSide::Bid, &[(dec!(100.05), dec!(1))]);
        let fee = FeeInfo::new(dec!(10));
        let q = walk_pair(&asks, &fee, &bids, &fee, Decimal::ZERO).unwrap();
        assert_eq!(q.size, Decimal::ZERO);
        let f = q.figures(dec!(10), dec!(10)).unwrap();
        assert_eq!(f.gross_bps, dec!(5));
        assert_eq!(f.net_bps, dec!(-15));
        assert_eq!(f.profit, Decimal::ZERO);
        let zero = FeeInfo::new(dec!(0));
        let q = walk_pair(&asks, &zero, &bids, &zero, Decimal::ZERO).unwrap();
        assert_eq!(q.size, dec!(1));
    }

    #[test]
    fn empty_side_gives_no_quote() {
        let asks = side(BookSide::Ask, &[]);
        let bids = side(BookSide::Bid, &[(dec!(1), dec!(1))]);
        let fee = FeeInfo::new(dec!(10));
        assert_eq!(walk_pair(&asks, &fee, &bids, &fee, Decimal::ZERO), None);
    }

    #[test]
    fn extreme_values_give_no_quote_or_no_figures() {
        let (max, min) = (Decimal::MAX, Decimal::MIN);
        for fee in [
            FeeInfo::new(dec!(0)),
            FeeInfo::new(dec!(10)),
            FeeInfo::new(max),
            FeeInfo::new(min),
        ] {
            for cap in [Decimal::ZERO, dec!(1), max, min] {
                for (ask_p, ask_s, bid_p, bid_s) in [
                    (min, max, max, max),
                    (min, max, dec!(1), max),
                    (dec!(1), max, max, max),
                    (dec!(-1), max, dec!(1), Decimal::new(1, 28)),
                    (Decimal::new(1, 28), max, max, Decimal::new(1, 28)),
                    (max, max, max, max),
                ] {
                    let asks = side(BookSide::Ask, &[(ask_p, ask_s)]);
                    let bids = side(BookSide::Bid, &[(bid_p, bid_s)]);
                    if let Some(q) = walk_pair(&asks, &fee, &bids, &fee, cap) {
                        let _ = q.figures(fee.bps, fee.bps);
                        let _ = q.figures(max, min);
                    }
                }
            }
        }
        // Tops that far apart have no spread figure.
        let q = PairQuote {
            size: Decimal::ZERO,
            cost: Decimal::ZERO,
            proceeds: Decimal::ZERO,
            top_ask: min,
            top_bid: max,
        };
        assert_eq!(q.figures(dec!(0), dec!(0)), None);
        let q = PairQuote {
            top_ask: dec!(1),
            top_bid: dec!(2),
            ..q
        };
        assert!(q.figures(dec!(0), dec!(0)).is_some());
        assert_eq!(q.figures(min, dec!(0)), None, "net = gross − MIN overflows");
        let q = PairQuote {
            size: dec!(1),
            cost: min,
            proceeds: max,
            ..q
        };
        assert_eq!(q.figures(dec!(0), dec!(0)), None);
        // A cost that overflowed the walk: no quote, not a panic.
        let asks = side(BookSide::Ask, &[(dec!(2), max)]);
        let bids = side(BookSide::Bid, &[(dec!(3), max)]);
        let zero = FeeInfo::new(dec!(0));
        assert_eq!(walk_pair(&asks, &zero, &bids, &zero, Decimal::ZERO), None);
    }

    #[test]
    fn track_durations_saturate() {
        let ctx = PairCtx {
            key: "BTC-USD".parse().unwrap(),
            buy_venue: crate::venue!("okx"),
            buy_instrument: "BTC-USD".parse().unwrap(),
            sell_venue: crate::venue!("kraken"),
            sell_instrument: "BTC-USD".parse().unwrap(),
            buy_fee_bps: dec!(0),
            sell_fee_bps: dec!(0),
            polled: false,
        };
        let th = Thresholds {
            min_net_bps: dec!(0),
            min_profit: dec!(0),
            max_notional: dec!(0),
        };
        let walk = PairQuote {
            size: dec!(1),
            cost: dec!(100),
            proceeds: dec!(101),
            top_ask: dec!(100),
            top_bid: dec!(101),
        };
        let mut t = PairTrack::default();
        assert_eq!(t.update(Some(walk), &ctx, &th, i64::MIN, None), None);
        let closed = t.update(None, &ctx, &th, i64::MAX, None).unwrap();
        assert_eq!((closed.opened, closed.closed), (i64::MIN, i64::MAX));
        assert_eq!((t.total_open, t.longest), (i64::MAX, i64::MAX));
        t.update(Some(walk), &ctx, &th, i64::MIN, None);
        t.close(i64::MAX, "again".into());
        assert_eq!((t.total_open, t.count), (i64::MAX, 2));
        // Closing "before" it opened counts nothing.
        t.update(Some(walk), &ctx, &th, i64::MAX, None);
        t.close(i64::MIN, "clock went back".into());
        assert_eq!(t.total_open, i64::MAX);
    }

    #[test]
    fn zero_prices_do_not_panic() {
        let asks = side(BookSide::Ask, &[(dec!(0), dec!(1))]);
        let bids = side(BookSide::Bid, &[(dec!(0), dec!(1))]);
        let fee = FeeInfo::new(dec!(0));
        let q = walk_pair(&asks, &fee, &bids, &fee, dec!(10)).unwrap();
        assert_eq!(q.figures(dec!(0), dec!(0)), None);
    }
}
