//! The key table (one entry per view key) and how books enter and leave it.
//!
//! Every book has a slot in [`Books`](super::books::Books); every slot
//! belongs to one key and has a position in that key's slot list. A key keeps
//! a [`PairMatrix`] over those positions, so adding a book grows the matrix,
//! and removing books or regrouping renumbers positions and matrix together.

use std::collections::{HashMap, VecDeque};

use rust_decimal::prelude::ToPrimitive;

use crate::model::{Instrument, Micros, Venue};

use super::Engine;
use super::arb::PairTrack;
use super::books::SlotId;
use super::cbbo::CbboTop;
use super::pairs::PairMatrix;

/// CBBO mids are sampled at most this often (engine time) for sparklines.
const MID_SAMPLE_EVERY: Micros = 250_000;
/// Mid samples kept per key (~30 s at the fastest sampling).
const MID_HISTORY_LEN: usize = 120;

/// Everything the engine keeps per view key.
#[derive(Clone, Debug)]
pub struct KeyState {
    pub key: Instrument,
    /// The key's books; a book's position here is its place in `pairs`.
    pub slots: Vec<SlotId>,
    pub cbbo: CbboTop,
    /// Ordered venue pairs by position in `slots`.
    pub pairs: PairMatrix<PairTrack>,
    pub mids: VecDeque<f64>,
    last_mid_sample: Option<Micros>,
    /// The liquidity heatmap ring of this key's books.
    pub heatmap: super::heatmap::HeatRing,
    /// The coarsest tick of this key's books, and the instrument-list
    /// generation and book count it was read at.
    pub heat_tick: Option<(u64, usize, Option<rust_decimal::Decimal>)>,
}

impl KeyState {
    fn new(key: Instrument) -> Self {
        KeyState {
            key,
            slots: Vec::new(),
            cbbo: CbboTop::default(),
            pairs: PairMatrix::new(),
            mids: VecDeque::new(),
            last_mid_sample: None,
            heatmap: Default::default(),
            heat_tick: None,
        }
    }

    /// Append a book, growing the pair matrix and keeping existing pairs.
    /// Returns the book's position.
    fn add_slot(&mut self, slot: SlotId) -> usize {
        self.pairs.grow();
        self.slots.push(slot);
        self.slots.len() - 1
    }

    /// Keep the books at `kept` (old positions, ascending), renumbered.
    fn retain_positions(&mut self, kept: &[usize]) {
        self.slots = kept.iter().map(|&p| self.slots[p]).collect();
        self.pairs.retain(kept);
    }

    pub fn sample_mid(&mut self, now: Micros) {
        // Saturating: a clock jump of any size (even a bogus i64::MIN/MAX
        // receive time) only makes a sample due, never wraps.
        let due = self
            .last_mid_sample
            .is_none_or(|t| now.saturating_sub(t) >= MID_SAMPLE_EVERY);
        if !due {
            return;
        }
        if let Some(mid) = self.cbbo.mid().and_then(|m| m.to_f64()) {
            self.mids.push_back(mid);
            if self.mids.len() > MID_HISTORY_LEN {
                self.mids.pop_front();
            }
            self.last_mid_sample = Some(now);
        }
    }
}

/// The view keys that have (or had) books, indexed by key.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    keys: Vec<KeyState>,
    index: HashMap<Instrument, usize>,
}

impl Keys {
    pub fn get(&self, key: &Instrument) -> Option<usize> {
        self.index.get(key).copied()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, KeyState> {
        self.keys.iter()
    }

    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, KeyState> {
        self.keys.iter_mut()
    }

    /// The index of a key, adding it when new.
    fn key_for(&mut self, key: Instrument) -> usize {
        if let Some(k) = self.get(&key) {
            return k;
        }
        self.keys.push(KeyState::new(key));
        self.index.insert(key, self.keys.len() - 1);
        self.keys.len() - 1
    }

    fn push(&mut self, ks: KeyState) -> usize {
        let k = self.keys.len();
        self.index.insert(ks.key, k);
        self.keys.push(ks);
        k
    }

    fn clear(&mut self) -> Vec<KeyState> {
        self.index.clear();
        std::mem::take(&mut self.keys)
    }
}

impl<'a> IntoIterator for &'a Keys {
    type Item = &'a KeyState;
    type IntoIter = std::slice::Iter<'a, KeyState>;
    fn into_iter(self) -> Self::IntoIter {
        self.keys.iter()
    }
}

impl std::ops::Index<usize> for Keys {
    type Output = KeyState;
    fn index(&self, k: usize) -> &KeyState {
        &self.keys[k]
    }
}

impl std::ops::IndexMut<usize> for Keys {
    fn index_mut(&mut self, k: usize) -> &mut KeyState {
        &mut self.keys[k]
    }
}

impl Engine {
    /// The slot of a book, created (under its key) on first sight.
    pub(super) fn slot_for(&mut self, venue: Venue, instrument: Instrument) -> SlotId {
        if let Some(id) = self.books.slot_id(venue, &instrument) {
            return id;
        }
        let k = self.keys.key_for(self.groups.key_of(&instrument));
        let pos = self.keys[k].slots.len();
        let id = self.books.insert(venue, instrument, k, pos);
        self.keys[k].add_slot(id);
        id
    }

    /// Drops the books of `instruments` on `venue` (see
    /// [`EngineInput::Forget`](super::EngineInput::Forget)): open
    /// opportunities involving them close, the remaining books are
    /// renumbered, and a key left without books goes (it still shows while
    /// watched, as an instrument with no data).
    pub(super) fn forget(&mut self, venue: Venue, instruments: &[Instrument]) {
        for i in instruments {
            self.derivs.forget(venue, i);
        }
        let gone: Vec<SlotId> = instruments
            .iter()
            .filter_map(|i| self.books.slot_id(venue, i))
            .collect();
        if gone.is_empty() {
            return;
        }
        for &s in &gone {
            let reason = format!(
                "{venue} {} no longer watched",
                self.books.slot(s).instrument
            );
            self.close_pairs(s, &reason);
        }
        self.history.truncate(self.cfg.arb_history);
        let map = self.books.remove(&gone);
        for mut ks in self.keys.clear() {
            let kept: Vec<usize> = (0..ks.slots.len())
                .filter(|&p| map[ks.slots[p]].is_some())
                .collect();
            if kept.is_empty() {
                self.trades.forget_key(&ks.key);
                continue;
            }
            ks.retain_positions(&kept);
            for s in &mut ks.slots {
                // Every kept slot has a new id (that is what kept means).
                *s = map[*s].unwrap_or(*s);
            }
            // Recomputed below from the remaining books (it named slot ids).
            ks.cbbo = CbboTop::default();
            let slots = ks.slots.clone();
            let k = self.keys.push(ks);
            for (pos, s) in slots.into_iter().enumerate() {
                let slot = self.books.slot_mut(s);
                slot.key = k;
                slot.pos = pos;
            }
        }
        self.dirty.extend(0..self.books.slots().len());
    }

    /// Close every open opportunity involving book `s` with `reason` (into
    /// the history; the caller truncates it).
    pub(super) fn close_pairs(&mut self, s: SlotId, reason: &str) {
        let slot = self.books.slot(s);
        let pairs = &mut self.keys[slot.key].pairs;
        for pair in pairs.involving(slot.pos) {
            if let Some(closed) = pairs[pair].close(self.now, reason.to_string()) {
                self.notices
                    .push(super::notices::Notice::ArbClosed(closed.clone()));
                self.history.push_front(closed);
            }
        }
    }

    /// Rebuild the key table after the quote groups changed.
    pub(super) fn regroup(&mut self) {
        let now = self.now;
        for ks in self.keys.iter_mut() {
            for (_, track) in ks.pairs.iter_mut() {
                if let Some(closed) = track.close(now, "quote groups changed".to_string()) {
                    self.notices
                        .push(super::notices::Notice::ArbClosed(closed.clone()));
                    self.history.push_front(closed);
                }
            }
        }
        self.history.truncate(self.cfg.arb_history);
        self.keys.clear();
        for id in 0..self.books.slots().len() {
            let key = self.groups.key_of(&self.books.slot(id).instrument);
            let k = self.keys.key_for(key);
            let pos = self.keys[k].add_slot(id);
            let slot = self.books.slot_mut(id);
            slot.key = k;
            slot.pos = pos;
        }
    }
}
