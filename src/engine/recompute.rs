//! The incremental recompute at the end of every input: the touched books'
//! cached tops, their key's CBBO and the venue pairs involving them.

use rust_decimal::Decimal;

use crate::model::{BookState, Instrument, Micros};

use super::Engine;
use super::arb::{Fees, PairCtx, PairQuote, walk_pair};
use super::books::{BookSlot, SlotId};
use super::cbbo::{self, Candidate, Top};
use super::keys::KeyState;
use super::notices::Notice;

/// A book's mid goes to the USD rates at most this often.
const USD_MID_EVERY: Micros = 1_000_000;

impl Engine {
    /// Recompute what the touched books feed: their tops, their key's CBBO and
    /// the venue pairs involving them.
    pub(super) fn flush_dirty(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        let books = &self.books;
        dirty.sort_unstable_by_key(|&s| (books.slot(s).key, s));
        dirty.dedup();
        let mut start = 0;
        while start < dirty.len() {
            let key = self.books.slot(dirty[start]).key;
            let end = dirty[start..]
                .iter()
                .position(|&s| self.books.slot(s).key != key)
                .map_or(dirty.len(), |n| start + n);
            self.recompute_key(key, &dirty[start..end]);
            start = end;
        }
        dirty.clear();
        self.dirty = dirty;
        self.changed = true;
    }

    fn recompute_key(&mut self, k: usize, touched: &[SlotId]) {
        let now = self.now;
        for &s in touched {
            if self.notices.wanted() {
                let state = self.books.effective_state(s);
                let slot = self.books.slot_mut(s);
                if slot.announced.as_ref() != Some(&state) {
                    slot.announced = Some(state.clone());
                    let (venue, instrument) = (slot.venue, slot.instrument);
                    self.notices.push(Notice::BookState {
                        venue,
                        instrument,
                        state,
                        at: now,
                    });
                }
            }
            let usable = self.books.usable(s);
            let slot = self.books.slot_mut(s);
            slot.top = Top::of(&slot.book, usable, self.fees.of(slot.venue));
            // Saturating, like every difference of engine times.
            let usd_due = slot
                .last_usd_mid
                .is_none_or(|t| now.saturating_sub(t) >= USD_MID_EVERY);
            if usable
                && usd_due
                && let Some(mid) = slot.book.mid()
            {
                self.usd.set_mid(&slot.instrument, mid);
                slot.last_usd_mid = Some(now);
            }
        }

        let Engine {
            keys,
            books,
            fees,
            thresholds,
            history,
            cfg,
            notices,
            ..
        } = self;
        let ks = &mut keys[k];
        ks.cbbo = cbbo::best(ks.slots.iter().map(|&s| {
            let slot = books.slot(s);
            Candidate {
                slot: s,
                venue: slot.venue,
                instrument: &slot.instrument,
                top: &slot.top,
            }
        }));
        ks.sample_mid(now);

        let n = ks.slots.len();
        let positions: Vec<usize> = touched.iter().map(|&s| books.slot(s).pos).collect();
        for (t, &p) in positions.iter().enumerate() {
            for o in 0..n {
                // Pairs with an earlier touched book were done with it.
                if o == p || positions[..t].contains(&o) {
                    continue;
                }
                for (buy, sell) in [(p, o), (o, p)] {
                    let (b, s) = (ks.slots[buy], ks.slots[sell]);
                    let (bs, ss) = (books.slot(b), books.slot(s));
                    if bs.venue == ss.venue {
                        continue;
                    }
                    let track = &mut ks.pairs[(buy, sell)];
                    let crosses = tops_cross(&bs.top, &ss.top);
                    if !crosses && track.walk.is_none() && track.open.is_none() {
                        // The common case: nothing to walk, nothing stored.
                        continue;
                    }
                    let (buy_fee, sell_fee) = (fees.of(bs.venue), fees.of(ss.venue));
                    let walk = if crosses {
                        walk_pair(
                            &bs.book.asks,
                            buy_fee,
                            &ss.book.bids,
                            sell_fee,
                            thresholds.max_notional,
                        )
                    } else {
                        None
                    };
                    let unusable = if track.open.is_none() {
                        None
                    } else if !bs.top.usable {
                        Some(cbbo::unusable_phrase(bs.venue, &books.effective_state(b)))
                    } else if !ss.top.usable {
                        Some(cbbo::unusable_phrase(ss.venue, &books.effective_state(s)))
                    } else {
                        None
                    };
                    let ctx = pair_ctx(ks.key, bs, ss, fees);
                    let was_open = track.open.is_some();
                    if let Some(closed) = track.update(walk, &ctx, thresholds, now, unusable) {
                        notices.push(Notice::ArbClosed(closed.clone()));
                        history.push_front(closed);
                        history.truncate(cfg.arb_history);
                    }
                    if !was_open && let Some(open) = &track.open {
                        notices.push(Notice::ArbOpened(open.clone()));
                    }
                }
            }
        }
    }

    /// The current quote of an ordered pair: its walk when the tops cross,
    /// else the tops themselves with size 0; `None` when a book is not usable
    /// or lacks the side.
    pub(super) fn pair_quote(&self, ks: &KeyState, buy: usize, sell: usize) -> Option<PairQuote> {
        if let Some(walk) = ks.pairs.get(buy, sell).and_then(|t| t.walk) {
            return Some(walk);
        }
        let (bs, ss) = (
            self.books.slot(ks.slots[buy]),
            self.books.slot(ks.slots[sell]),
        );
        if bs.venue == ss.venue || !(bs.top.usable && ss.top.usable) {
            return None;
        }
        Some(PairQuote {
            size: Decimal::ZERO,
            cost: Decimal::ZERO,
            proceeds: Decimal::ZERO,
            top_ask: bs.top.ask?.price,
            top_bid: ss.top.bid?.price,
        })
    }
}

/// Buying at the buy book's ask and selling at the sell book's bid pays
/// after both taker fees (both books usable).
fn tops_cross(buy: &Top, sell: &Top) -> bool {
    match (buy.eff_ask, sell.eff_bid) {
        (Some(ask), Some(bid)) => buy.usable && sell.usable && ask < bid,
        _ => false,
    }
}

pub(super) fn pair_ctx(key: Instrument, buy: &BookSlot, sell: &BookSlot, fees: &Fees) -> PairCtx {
    PairCtx {
        key,
        buy_venue: buy.venue,
        buy_instrument: buy.instrument,
        sell_venue: sell.venue,
        sell_instrument: sell.instrument,
        buy_fee_bps: fees.of(buy.venue).bps,
        sell_fee_bps: fees.of(sell.venue).bps,
        polled: *buy.book.state() == BookState::Polled || *sell.book.state() == BookState::Polled,
    }
}
