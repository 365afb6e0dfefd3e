//! Stored history below the live rows of the Arbitrage and Liquidations
//! panes. Scrolling past the oldest live row asks the app layer (which owns
//! a reader of the store) for the next older page; the page comes back as
//! an event and is kept here, so the panes only draw what this holds.
//!
//! Rows are newest first, as in the live lists. Pages are asked for with
//! an inclusive upper bound and the rows already shown at that instant are
//! left out, so rows sharing the boundary's microsecond (a venue's batch
//! of liquidations has one receive time) are neither lost nor doubled.
//! Live lists are bounded by count: rows that fall off them while pages
//! are shown are read back from the store ("fill") so the list stays
//! without gaps.

use crate::engine::snapshot::{ClosedArb, LiquidationRow};
use crate::model::Micros;
pub use crate::store::pages::{Direction, HistoryPane, PageRequest, PageResult, STORE_OFF};
use crate::store::{Kind, Query, Record};

/// Rows asked for per page.
pub const PAGE_ROWS: usize = 100;

/// Where the panes' stored history comes from (given to the UI at start).
#[derive(Debug)]
pub enum HistoryLink {
    /// No store to read, and why (`[store] is off`, a replay without
    /// `--store`).
    Off(String),
    /// Answers to [`crate::ui::UiCommand::LoadHistory`].
    Reader(tokio::sync::mpsc::Receiver<PageResult>),
}

impl Default for HistoryLink {
    fn default() -> Self {
        HistoryLink::Off(STORE_OFF.to_string())
    }
}

/// A row kind that pages: where it sits in time and how it is read back.
pub trait Stored: Clone + PartialEq {
    /// The time its list is ordered by.
    fn time(&self) -> Micros;
    fn from_record(r: Record) -> Option<Self>;
}

impl Stored for ClosedArb {
    /// "Recently closed" is ordered by when they closed.
    fn time(&self) -> Micros {
        self.closed
    }
    fn from_record(r: Record) -> Option<Self> {
        match r {
            Record::Arb(a) => a.to_closed(),
            _ => None,
        }
    }
}

impl Stored for LiquidationRow {
    fn time(&self) -> Micros {
        self.time
    }
    fn from_record(r: Record) -> Option<Self> {
        match r {
            Record::Liquidation(l) => Some(l),
            _ => None,
        }
    }
}

/// One pane's loaded pages and where paging stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Pages<T> {
    /// Newest first.
    pub rows: Vec<T>,
    /// A request is out.
    pub loading: bool,
    /// The store has nothing older.
    pub exhausted: bool,
    /// The last read failed (scrolling past the end tries again).
    pub failed: Option<String>,
    /// Asked while there is no store: the pane says so.
    pub told_off: bool,
    /// The newest instant the pages cover (the live list's oldest row, or
    /// the engine clock, when they were asked for).
    top: Option<Micros>,
    /// The oldest instant the pages cover.
    bottom: Option<Micros>,
    /// The last page was all rows already shown at `bottom`: the next asks
    /// strictly before it (more rows than a page share one microsecond).
    skip_bottom: bool,
}

impl<T> Default for Pages<T> {
    fn default() -> Self {
        Pages {
            rows: Vec::new(),
            loading: false,
            exhausted: false,
            failed: None,
            told_off: false,
            top: None,
            bottom: None,
            skip_bottom: false,
        }
    }
}

impl<T: Stored> Pages<T> {
    /// What the pane says below the stored rows, if anything.
    pub fn note(&self, off: Option<&str>) -> Option<String> {
        if self.told_off {
            return Some(format!("no stored history: {}", off.unwrap_or(STORE_OFF)));
        }
        if self.loading {
            return Some("loading older history from the store…".to_string());
        }
        if let Some(e) = &self.failed {
            return Some(format!(
                "stored history unavailable: {e} (scroll on to retry)"
            ));
        }
        self.exhausted.then(|| "no older history".to_string())
    }

    /// The separator above the stored rows is drawn.
    pub fn separated(&self) -> bool {
        self.top.is_some()
    }

    /// The next older page, given the oldest live row and the engine clock.
    fn older(&mut self, live_oldest: Option<Micros>, now: Micros) -> Option<Query> {
        if self.loading || self.exhausted {
            return None;
        }
        let until = match (self.bottom, live_oldest) {
            (Some(b), _) if self.skip_bottom => b,
            (Some(b), _) => b.saturating_add(1),
            (None, Some(l)) => l.saturating_add(1),
            (None, None) => now.saturating_add(1),
        };
        self.top.get_or_insert(until.saturating_sub(1));
        self.loading = true;
        self.failed = None;
        Some(Query {
            until: Some(until),
            limit: Some(PAGE_ROWS),
            ..Query::new(Kind::Liquidations)
        })
    }

    /// Rows between the pages' top and the live list's oldest row, when
    /// the live list has moved on.
    fn fill(&mut self, live_oldest: Option<Micros>) -> Option<Query> {
        let (top, oldest) = (self.top?, live_oldest?);
        if self.loading || oldest <= top {
            return None;
        }
        self.loading = true;
        Some(Query {
            since: Some(top),
            until: Some(oldest.saturating_add(1)),
            ..Query::new(Kind::Liquidations)
        })
    }

    /// Take a page in; `live` is what the pane shows above the pages now.
    fn receive(&mut self, direction: Direction, rows: Result<Vec<Record>, String>, live: &[T]) {
        self.loading = false;
        let records = match rows {
            Ok(r) => r,
            Err(e) => {
                self.failed = Some(e);
                return;
            }
        };
        let raw = records.len();
        let mut fresh: Vec<T> = records.into_iter().filter_map(T::from_record).collect();
        fresh.reverse();
        let oldest_raw = fresh.last().map(Stored::time);
        let newest_raw = fresh.first().map(Stored::time);
        let fresh = leave_out_shown(fresh, live.iter().chain(&self.rows).collect());
        match direction {
            Direction::Older => {
                // A page shorter than asked is the end of the store.
                self.exhausted = raw < PAGE_ROWS;
                self.skip_bottom = fresh.is_empty() && !self.exhausted;
                if let Some(t) = oldest_raw {
                    self.bottom = Some(self.bottom.map_or(t, |b| b.min(t)));
                }
                if self.bottom.is_none() {
                    self.bottom = self.top;
                }
                self.rows.extend(fresh);
            }
            Direction::Fill => {
                // Live rows that fell off, newest first, go above the pages.
                if let Some(t) = newest_raw {
                    self.top = Some(self.top.map_or(t, |top| top.max(t)));
                }
                if let Some(l) = live.iter().map(Stored::time).min() {
                    self.top = Some(self.top.map_or(l, |top| top.max(l)));
                }
                let mut rows = fresh;
                rows.extend(std::mem::take(&mut self.rows));
                self.rows = rows;
            }
        }
    }

    /// The stored rows to draw below `live`: those the live list does not
    /// show (it grows back over them when its threshold is lowered).
    pub fn below<'a>(&'a self, live: &[&T]) -> Vec<&'a T> {
        let oldest = live.iter().map(|r| r.time()).min();
        self.rows
            .iter()
            .filter(|r| oldest.is_none_or(|o| r.time() < o) || !live.contains(r))
            .collect()
    }
}

/// `fresh` without the rows already shown, one for one (two equal rows at
/// one instant are two liquidations; a page holding both when one is shown
/// keeps the other).
fn leave_out_shown<T: Stored>(fresh: Vec<T>, shown: Vec<&T>) -> Vec<T> {
    let mut used = vec![false; shown.len()];
    fresh
        .into_iter()
        .filter(|r| {
            let t = r.time();
            let hit = shown
                .iter()
                .enumerate()
                .position(|(i, s)| !used[i] && s.time() == t && *s == r);
            if let Some(i) = hit {
                used[i] = true;
            }
            hit.is_none()
        })
        .collect()
}

/// What the two panes hold of stored history, and whether there is any.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryPanes {
    pub arbs: Pages<ClosedArb>,
    pub liquidations: Pages<LiquidationRow>,
    /// Why there is no stored history (`None`: the app layer reads it).
    pub off: Option<String>,
    generation: u64,
}

impl Default for HistoryPanes {
    fn default() -> Self {
        HistoryPanes {
            arbs: Pages::default(),
            liquidations: Pages::default(),
            off: Some(STORE_OFF.to_string()),
            generation: 0,
        }
    }
}

impl HistoryPanes {
    /// A store is there to read.
    pub fn available(&mut self) {
        self.off = None;
    }

    /// The user scrolled past the last row of `pane`: the next older page,
    /// unless one is out, the store has no more, or there is no store (then
    /// the pane says so, once).
    pub fn older(
        &mut self,
        pane: HistoryPane,
        live_oldest: Option<Micros>,
        now: Micros,
    ) -> Option<PageRequest> {
        if self.off.is_some() {
            match pane {
                HistoryPane::Arbitrage => self.arbs.told_off = true,
                HistoryPane::Liquidations => self.liquidations.told_off = true,
            }
            return None;
        }
        let query = match pane {
            HistoryPane::Arbitrage => self.arbs.older(live_oldest, now),
            HistoryPane::Liquidations => self.liquidations.older(live_oldest, now),
        }?;
        Some(self.request(pane, Direction::Older, query))
    }

    /// Rows that fell off `pane`'s live list since its pages were loaded.
    pub fn fill(&mut self, pane: HistoryPane, live_oldest: Option<Micros>) -> Option<PageRequest> {
        let query = match pane {
            HistoryPane::Arbitrage => self.arbs.fill(live_oldest),
            HistoryPane::Liquidations => self.liquidations.fill(live_oldest),
        }?;
        Some(self.request(pane, Direction::Fill, query))
    }

    fn request(&self, pane: HistoryPane, direction: Direction, query: Query) -> PageRequest {
        let query = match pane {
            HistoryPane::Arbitrage => Query {
                kind: Kind::Arbitrage,
                by_close: true,
                ..query
            },
            HistoryPane::Liquidations => query,
        };
        PageRequest {
            pane,
            generation: self.generation,
            direction,
            query,
        }
    }

    /// An answer from the app layer; `live_*` are the live rows shown now.
    pub fn receive(
        &mut self,
        page: PageResult,
        live_arbs: &[ClosedArb],
        live_liqs: &[LiquidationRow],
    ) {
        if page.generation != self.generation {
            return;
        }
        match page.pane {
            HistoryPane::Arbitrage => self.arbs.receive(page.direction, page.rows, live_arbs),
            HistoryPane::Liquidations => {
                self.liquidations
                    .receive(page.direction, page.rows, live_liqs)
            }
        }
    }

    /// Back to live: the pane's pages are dropped (answers still out are
    /// ignored when they come).
    pub fn reset(&mut self, pane: HistoryPane) {
        match pane {
            HistoryPane::Arbitrage => self.arbs = Pages::default(),
            HistoryPane::Liquidations => self.liquidations = Pages::default(),
        }
        self.generation += 1;
    }
}

/// One line of a list with stored history below its live rows.
#[derive(Debug, PartialEq)]
pub enum Entry<'a, T> {
    Live(&'a T),
    /// "— history (store) —".
    Separator,
    Stored(&'a T),
    Note(String),
}

/// The lines of such a list: live rows, then (when pages were asked for)
/// the separator, the stored rows and what paging says.
pub fn entries<'a, T: Stored>(
    live: &[&'a T],
    stored: &[&'a T],
    pages: &Pages<T>,
    off: Option<&str>,
) -> Vec<Entry<'a, T>> {
    let mut out: Vec<Entry<'a, T>> = live.iter().map(|r| Entry::Live(*r)).collect();
    if pages.separated() {
        out.push(Entry::Separator);
        out.extend(stored.iter().map(|r| Entry::Stored(*r)));
    }
    if let Some(n) = pages.note(off) {
        out.push(Entry::Note(n));
    }
    out
}

/// The line cursor row `row` is on (rows are live then stored ones; the
/// separator and the note are not rows).
pub fn row_line<T>(entries: &[Entry<'_, T>], row: usize) -> Option<usize> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Entry::Live(_) | Entry::Stored(_)))
        .nth(row)
        .map(|(i, _)| i)
}

/// The line to keep in view for cursor row `row`: its own, or on the last
/// row the note below it.
pub fn focus_line<T>(entries: &[Entry<'_, T>], row: usize) -> usize {
    if row + 1 >= rows(entries) {
        return entries.len().saturating_sub(1);
    }
    row_line(entries, row).unwrap_or(0)
}

/// Rows (live and stored) among the lines.
pub fn rows<T>(entries: &[Entry<'_, T>]) -> usize {
    entries
        .iter()
        .filter(|e| matches!(e, Entry::Live(_) | Entry::Stored(_)))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LiquidatedSide;
    use rust_decimal_macros::dec;

    fn liq(time: Micros, size: u32) -> LiquidationRow {
        LiquidationRow {
            venue: "bybit".parse().unwrap(),
            instrument: "BTC-USDT-PERP".parse().unwrap(),
            side: LiquidatedSide::Long,
            price: dec!(65000),
            size: rust_decimal::Decimal::from(size),
            notional_usd: 65_000.0 * f64::from(size),
            notional_known: true,
            time,
        }
    }

    fn page(pane: HistoryPane, generation: u64, rows: Vec<LiquidationRow>) -> PageResult {
        PageResult {
            pane,
            generation,
            direction: Direction::Older,
            rows: Ok(rows.into_iter().map(Record::Liquidation).collect()),
        }
    }

    #[test]
    fn without_a_store_the_pane_is_told_once_and_nothing_is_asked() {
        let mut h = HistoryPanes::default();
        assert_eq!(h.older(HistoryPane::Liquidations, Some(10), 20), None);
        assert!(h.liquidations.told_off);
        assert_eq!(
            h.liquidations.note(h.off.as_deref()).as_deref(),
            Some("no stored history: [store] is off")
        );
        assert_eq!(h.arbs, Pages::default(), "the other pane was not asked");
    }

    #[test]
    fn pages_ask_before_the_oldest_row_shown_and_leave_out_what_is_shown() {
        let mut h = HistoryPanes::default();
        h.available();
        let live = vec![liq(50, 1), liq(40, 2)];
        let r = h.older(HistoryPane::Liquidations, Some(40), 99).unwrap();
        assert_eq!(r.query.kind, Kind::Liquidations);
        assert_eq!(
            r.query.until,
            Some(41),
            "inclusive: rows sharing the instant"
        );
        assert_eq!(r.query.limit, Some(PAGE_ROWS));
        // One out at a time.
        assert_eq!(h.older(HistoryPane::Liquidations, Some(40), 99), None);
        // The store hands back oldest first; the row at 40 already shown
        // is left out, another at 40 is kept.
        let mut rows: Vec<LiquidationRow> = (0..98).map(|i| liq(i / 3, 9)).collect();
        rows.extend([liq(40, 3), liq(40, 2)]);
        h.receive(page(HistoryPane::Liquidations, 0, rows), &[], &live);
        let p = &h.liquidations;
        assert_eq!(p.rows.len(), 99);
        assert_eq!(p.rows[0], liq(40, 3));
        assert_eq!(p.rows[1].time, 32, "newest first");
        assert!(!p.exhausted && !p.loading);
        let r = h.older(HistoryPane::Liquidations, Some(40), 99).unwrap();
        assert_eq!(r.query.until, Some(1));
        h.receive(page(HistoryPane::Liquidations, 0, vec![]), &[], &live);
        assert!(h.liquidations.exhausted);
        assert_eq!(
            h.liquidations.note(None).as_deref(),
            Some("no older history")
        );
        assert_eq!(h.older(HistoryPane::Liquidations, Some(40), 99), None);
    }

    #[test]
    fn a_full_page_of_rows_already_shown_skips_their_instant() {
        let mut h = HistoryPanes::default();
        h.available();
        let live: Vec<LiquidationRow> = (0..PAGE_ROWS as u32).map(|s| liq(7, s)).collect();
        h.older(HistoryPane::Liquidations, Some(7), 99).unwrap();
        h.receive(page(HistoryPane::Liquidations, 0, live.clone()), &[], &live);
        let r = h.older(HistoryPane::Liquidations, Some(7), 99).unwrap();
        assert_eq!(r.query.until, Some(7), "strictly before the shared instant");
    }

    #[test]
    fn going_back_to_live_drops_pages_and_late_answers() {
        let mut h = HistoryPanes::default();
        h.available();
        let r = h.older(HistoryPane::Arbitrage, None, 500).unwrap();
        assert!(r.query.by_close && r.query.kind == Kind::Arbitrage);
        assert_eq!(r.query.until, Some(501), "no live rows: up to the clock");
        h.reset(HistoryPane::Arbitrage);
        h.receive(
            PageResult {
                pane: HistoryPane::Arbitrage,
                generation: r.generation,
                direction: Direction::Older,
                rows: Err("late".into()),
            },
            &[],
            &[],
        );
        assert_eq!(h.arbs, Pages::default());
    }

    #[test]
    fn rows_that_fall_off_the_live_list_are_filled_in_above_the_pages() {
        let mut h = HistoryPanes::default();
        h.available();
        h.older(HistoryPane::Liquidations, Some(40), 99).unwrap();
        h.receive(
            page(HistoryPane::Liquidations, 0, vec![liq(10, 1)]),
            &[],
            &[liq(40, 1)],
        );
        assert_eq!(h.fill(HistoryPane::Liquidations, Some(40)), None);
        // The live list now starts at 60: 40 and 50 fell off.
        let r = h.fill(HistoryPane::Liquidations, Some(60)).unwrap();
        assert_eq!((r.query.since, r.query.until), (Some(40), Some(61)));
        assert_eq!(r.query.limit, None);
        let live = [liq(60, 1)];
        h.receive(
            PageResult {
                direction: Direction::Fill,
                ..page(
                    HistoryPane::Liquidations,
                    0,
                    vec![liq(40, 1), liq(50, 1), liq(60, 1)],
                )
            },
            &[],
            &live,
        );
        let times: Vec<Micros> = h.liquidations.rows.iter().map(|r| r.time).collect();
        assert_eq!(times, [50, 40, 10]);
        assert_eq!(h.fill(HistoryPane::Liquidations, Some(60)), None);
    }

    #[test]
    fn entries_put_the_separator_and_note_around_stored_rows() {
        let mut h = HistoryPanes::default();
        h.available();
        let (a, b, c) = (liq(3, 1), liq(2, 1), liq(1, 1));
        assert_eq!(
            entries(&[&a], &[], &h.liquidations, None),
            [Entry::Live(&a)],
            "nothing asked: the live list as it was"
        );
        h.older(HistoryPane::Liquidations, Some(3), 9).unwrap();
        h.receive(
            page(HistoryPane::Liquidations, 0, vec![c.clone(), b.clone()]),
            &[],
            std::slice::from_ref(&a),
        );
        let p = &h.liquidations;
        let stored: Vec<&LiquidationRow> = p.rows.iter().collect();
        let e = entries(&[&a], &stored, p, None);
        assert_eq!(
            e,
            [
                Entry::Live(&a),
                Entry::Separator,
                Entry::Stored(&b),
                Entry::Stored(&c),
                Entry::Note("no older history".into()),
            ]
        );
        assert_eq!(rows(&e), 3);
        assert_eq!(row_line(&e, 0), Some(0));
        assert_eq!(row_line(&e, 1), Some(2), "the separator is not a row");
        assert_eq!(row_line(&e, 3), None);
        assert_eq!(focus_line(&e, 1), 2);
        assert_eq!(
            focus_line(&e, 2),
            4,
            "the note stays in view on the last row"
        );
    }
}
