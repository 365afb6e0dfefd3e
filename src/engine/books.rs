//! Every book the engine owns, and the connections that carry them.
//!
//! A book is usable (for CBBO and arbitrage) only when it is `Live` and its
//! connection has spoken within `stale_after`. Staleness is derived, never
//! written into the book: it clears by itself when the connection speaks
//! again. A book belongs to the connection its last book event came on.

use std::collections::HashMap;

use crate::book::OrderBook;
use crate::model::{BookState, Instrument, Micros, OutOfSyncReason, Venue};

use super::cbbo::{Top, effective_state};

pub type SlotId = usize;
pub type ConnId = usize;

/// One venue + instrument book and what the engine caches about it.
#[derive(Clone, Debug)]
pub struct BookSlot {
    pub venue: Venue,
    pub instrument: Instrument,
    /// Index of its view key in the engine's key table.
    pub key: usize,
    /// Position within that key's slot list.
    pub pos: usize,
    pub book: OrderBook,
    pub conn: Option<ConnId>,
    pub top: Top,
    /// Engine time this book's mid last went to the USD rates.
    pub last_usd_mid: Option<Micros>,
    /// The state last announced to sinks.
    pub announced: Option<BookState>,
}

#[derive(Clone, Debug)]
pub struct Conn {
    pub venue: Venue,
    pub name: String,
    pub last_msg: Micros,
    pub stale: bool,
    /// Books this connection carries.
    pub slots: Vec<SlotId>,
}

#[derive(Debug, Default)]
pub struct Books {
    slots: Vec<BookSlot>,
    index: HashMap<(Venue, Instrument), SlotId>,
    conns: Vec<Conn>,
    conn_index: [HashMap<String, ConnId>; Venue::COUNT],
    /// No connection can turn stale before this engine time.
    next_stale_check: Micros,
}

impl Books {
    pub fn slot_id(&self, venue: Venue, instrument: &Instrument) -> Option<SlotId> {
        self.index.get(&(venue, *instrument)).copied()
    }

    pub fn slot(&self, id: SlotId) -> &BookSlot {
        &self.slots[id]
    }

    pub fn slot_mut(&mut self, id: SlotId) -> &mut BookSlot {
        &mut self.slots[id]
    }

    pub fn slots(&self) -> &[BookSlot] {
        &self.slots
    }

    pub fn slots_mut(&mut self) -> &mut [BookSlot] {
        &mut self.slots
    }

    pub fn conns(&self) -> &[Conn] {
        &self.conns
    }

    /// Add a book; the caller has checked it is not there yet.
    pub fn insert(
        &mut self,
        venue: Venue,
        instrument: Instrument,
        key: usize,
        pos: usize,
    ) -> SlotId {
        let id = self.slots.len();
        self.slots.push(BookSlot {
            venue,
            instrument,
            key,
            pos,
            book: OrderBook::new(),
            conn: None,
            top: Top::default(),
            last_usd_mid: None,
            announced: None,
        });
        self.index.insert((venue, instrument), id);
        id
    }

    /// Drops the books in `gone` and renumbers the rest (order kept).
    /// Returns each old id's new id (`None` for a dropped book); every id
    /// held outside must be remapped with it.
    pub fn remove(&mut self, gone: &[SlotId]) -> Vec<Option<SlotId>> {
        let mut map = Vec::with_capacity(self.slots.len());
        let mut next = 0;
        for id in 0..self.slots.len() {
            if gone.contains(&id) {
                map.push(None);
            } else {
                map.push(Some(next));
                next += 1;
            }
        }
        let mut id = 0;
        self.slots.retain(|_| {
            let keep = map[id].is_some();
            id += 1;
            keep
        });
        self.index = self
            .slots
            .iter()
            .enumerate()
            .map(|(id, s)| ((s.venue, s.instrument), id))
            .collect();
        for c in &mut self.conns {
            c.slots = c.slots.iter().filter_map(|&s| map[s]).collect();
        }
        map
    }

    /// The id of a connection, registering it on first sight.
    pub fn conn_id(&mut self, venue: Venue, name: &str, now: Micros) -> ConnId {
        let by_name = &mut self.conn_index[venue.index()];
        if let Some(&id) = by_name.get(name) {
            return id;
        }
        let id = self.conns.len();
        by_name.insert(name.to_string(), id);
        self.conns.push(Conn {
            venue,
            name: name.to_string(),
            last_msg: now,
            stale: false,
            slots: Vec::new(),
        });
        id
    }

    /// A message arrived on `conn`. Returns the books it carries when it was
    /// stale (they are usable again).
    pub fn heard(&mut self, conn: ConnId, at: Micros) -> Option<&[SlotId]> {
        let c = &mut self.conns[conn];
        c.last_msg = c.last_msg.max(at);
        if c.stale {
            c.stale = false;
            // It can go stale again: make sure the next check looks at it.
            self.next_stale_check = self.next_stale_check.min(at);
            Some(&self.conns[conn].slots)
        } else {
            None
        }
    }

    /// Record that `slot` is carried by `conn`.
    pub fn attach(&mut self, slot: SlotId, conn: ConnId) {
        let s = &mut self.slots[slot];
        if s.conn == Some(conn) {
            return;
        }
        if let Some(old) = s.conn.replace(conn) {
            self.conns[old].slots.retain(|&x| x != slot);
        }
        self.conns[conn].slots.push(slot);
        // The connection may have had no books: look at it at the next check.
        self.next_stale_check = self.next_stale_check.min(self.conns[conn].last_msg);
    }

    pub fn conn_stale(&self, slot: SlotId) -> bool {
        self.slots[slot].conn.is_some_and(|c| self.conns[c].stale)
    }

    /// Live (or polled) and not silent.
    pub fn usable(&self, slot: SlotId) -> bool {
        self.slots[slot].book.state().is_usable() && !self.conn_stale(slot)
    }

    /// The state shown for a book (stale when its connection went silent).
    pub fn effective_state(&self, slot: SlotId) -> BookState {
        effective_state(self.slots[slot].book.state(), self.conn_stale(slot))
    }

    /// The connection dropped: its live books can no longer be trusted.
    /// Returns the books marked.
    pub fn disconnect(&mut self, conn: ConnId) -> Vec<SlotId> {
        let mut marked = Vec::new();
        for &s in &self.conns[conn].slots {
            let book = &mut self.slots[s].book;
            if book.is_live() {
                book.set_state(BookState::OutOfSync(OutOfSyncReason::Disconnected));
                marked.push(s);
            }
        }
        marked
    }

    /// Put every book of `venue` in `state`. Returns the books marked.
    pub fn mark_venue(&mut self, venue: Venue, state: &BookState) -> Vec<SlotId> {
        let mut marked = Vec::new();
        for (id, slot) in self.slots.iter_mut().enumerate() {
            if slot.venue == venue {
                slot.book.set_state(state.clone());
                marked.push(id);
            }
        }
        marked
    }

    /// Re-derive staleness at `now`; calls `changed` for every book whose
    /// connection turned stale. Cheap when nothing can have changed.
    pub fn check_stale(
        &mut self,
        now: Micros,
        stale_after: Micros,
        mut changed: impl FnMut(SlotId),
    ) {
        if stale_after <= 0 || now < self.next_stale_check {
            return;
        }
        let mut next = Micros::MAX;
        for c in &mut self.conns {
            if c.stale || c.slots.is_empty() {
                continue;
            }
            let deadline = c.last_msg.saturating_add(stale_after);
            if now > deadline {
                c.stale = true;
                c.slots.iter().for_each(|&s| changed(s));
            } else {
                next = next.min(deadline.saturating_add(1));
            }
        }
        self.next_stale_check = next;
    }

    /// Stale-after changed: re-derive everything at the next check, and clear
    /// staleness that no longer applies.
    pub fn reset_staleness(
        &mut self,
        now: Micros,
        stale_after: Micros,
        mut changed: impl FnMut(SlotId),
    ) {
        for c in &mut self.conns {
            let stale = stale_after > 0
                && !c.slots.is_empty()
                && now > c.last_msg.saturating_add(stale_after);
            if c.stale != stale {
                c.stale = stale;
                c.slots.iter().for_each(|&s| changed(s));
            }
        }
        self.next_stale_check = Micros::MIN;
    }
}
