//! `[watchlist]`: the venues, the instruments and `[[watchlist.instrument]]`
//! refinements, and whether each instrument is carried where it is watched.

use std::collections::BTreeMap;
use std::ops::Range;

use super::checker::Checker;
use super::line_col;
use crate::config::file::WatchlistFile;
use crate::config::{Config, WatchEntry};
use crate::model::{Instrument, Venue};

impl Checker<'_> {
    pub(super) fn watchlist(&mut self, w: WatchlistFile, config: &mut Config) {
        if let Some(venues) = &w.venues {
            config.watchlist.venues = self.venues(venues);
        }
        // Without an `instruments` key the default list stays, like any
        // missing key; `[[watchlist.instrument]]` tables refine or extend it.
        let mut entries: Vec<WatchEntry> = if w.instruments.is_some() {
            Vec::new()
        } else {
            std::mem::take(&mut config.watchlist.entries)
        };
        let mut first_seen: BTreeMap<Instrument, Range<usize>> = BTreeMap::new();
        for name in w.instruments.iter().flatten() {
            let Some(instrument) = self.instrument(name) else {
                continue;
            };
            if let Some(first) = first_seen.get(&instrument) {
                let (l, c) = line_col(self.text, first.start);
                self.error(
                    name.span(),
                    format!("duplicate instrument {instrument} (first at {l}:{c})"),
                );
                continue;
            }
            first_seen.insert(instrument, name.span());
            entries.push(WatchEntry {
                instrument,
                venues: None,
            });
        }
        let mut overridden: BTreeMap<Instrument, Range<usize>> = BTreeMap::new();
        for table in &w.instrument {
            let Some(instrument) = self.instrument(&table.name) else {
                continue;
            };
            if let Some(first) = overridden.get(&instrument) {
                let (l, c) = line_col(self.text, first.start);
                self.error(
                    table.name.span(),
                    format!(
                        "duplicate [[watchlist.instrument]] for {instrument} (first at {l}:{c})"
                    ),
                );
                continue;
            }
            overridden.insert(instrument, table.name.span());
            let venues = table.venues.as_deref().map(|v| self.venues(v));
            if let Some(venues) = &venues {
                for (venue, name) in venues.iter().zip(table.venues.iter().flatten()) {
                    if let Err(why) = (venue.spec().carries)(&instrument) {
                        self.error(
                            name.span(),
                            format!("{venue} does not carry {instrument}: {why}"),
                        );
                    }
                }
            }
            match entries.iter_mut().find(|e| e.instrument == instrument) {
                Some(entry) => entry.venues = venues,
                None => entries.push(WatchEntry { instrument, venues }),
            }
        }
        config.watchlist.entries = entries;
        self.check_carried(config, &first_seen, &overridden);
    }

    /// Every instrument the file names must be carried by a venue it is
    /// watched on (explicit venue lists were checked one by one); when only
    /// some carry it, a note names the others and why.
    fn check_carried(
        &mut self,
        config: &Config,
        listed: &BTreeMap<Instrument, Range<usize>>,
        overridden: &BTreeMap<Instrument, Range<usize>>,
    ) {
        for e in &config.watchlist.entries {
            if e.venues.is_some() {
                continue;
            }
            let Some(span) = overridden.get(&e.instrument).or(listed.get(&e.instrument)) else {
                continue; // from the built-in list
            };
            let i = e.instrument;
            // What the app will do: `venues_for` also consults the venues'
            // built-in listings for the default instruments.
            let carry = config.venues_for(&i);
            let refuse: Vec<Venue> = config
                .watchlist
                .venues
                .iter()
                .filter(|v| !carry.contains(v))
                .copied()
                .collect();
            let why = refuse
                .iter()
                .map(|v| match (v.spec().carries)(&i) {
                    Err(why) => why.to_string(),
                    Ok(()) => format!("{v} does not list {i}"),
                })
                .collect::<Vec<_>>()
                .join("; ");
            if carry.is_empty() {
                let message = if refuse.is_empty() {
                    format!("{i}: no venue is watched (watchlist.venues is empty)")
                } else {
                    format!("no watched venue carries {i}: {why}")
                };
                self.error(span.clone(), message);
            } else if !refuse.is_empty() {
                let on = carry
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.note(span.clone(), format!("{i} is watched on {on} only: {why}"));
            }
        }
    }
}
