//! Why an instrument has no (live) book: which venues should carry it, and
//! what their connections say. The snapshot holds books only once a venue has
//! sent one, so "no book" alone cannot tell a venue that does not list the
//! instrument from one that cannot be reached; the health rows can.
//!
//! The venues that should carry an instrument are the watchlist's (live
//! sessions), otherwise the venues with connections whose listing has it.
//! A venue's reachability is read from all of its connection rows, since the
//! snapshot does not say which connection carries which instrument.

use std::collections::BTreeMap;

use crate::config::listings;
use crate::engine::Snapshot;
use crate::engine::snapshot::{ConnHealth, ConnState, InstrumentView};
use crate::model::{Asset, Instrument, Venue};
use crate::ui::app::App;
use crate::ui::keymap::{Action, Context};
use crate::ui::panes::{PANES, PaneId};

/// What a venue's connections say, for a book that has not arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// No connection of the venue has reported yet.
    Starting,
    /// Connections are being opened; none failed yet.
    Connecting,
    /// Every connection is down (backing off or closed), with the most
    /// common reason and the soonest retry.
    Unreachable {
        reason: String,
        retry_in_ms: Option<u64>,
    },
    /// Some connections are up, `down` of `total` are not.
    Partial {
        down: usize,
        total: usize,
        reason: String,
    },
    /// Connected: the book simply has not come yet.
    Up,
    /// Replay: the venue's captures play, without this instrument.
    Replay,
}

impl Reach {
    /// A connection problem the Health pane explains.
    pub fn is_failure(&self) -> bool {
        matches!(self, Reach::Unreachable { .. } | Reach::Partial { .. })
    }

    /// One or two words for a state column.
    pub fn state_word(&self) -> &'static str {
        match self {
            Reach::Starting | Reach::Connecting => "connecting",
            Reach::Unreachable { .. } => "unreachable",
            Reach::Partial { .. } => "part down",
            Reach::Up => "no book yet",
            Reach::Replay => "no capture",
        }
    }

    /// The sentence for a detail column or line.
    pub fn detail(&self) -> String {
        match self {
            Reach::Starting => "not connected yet".into(),
            Reach::Connecting => "waiting for the first book…".into(),
            Reach::Unreachable {
                reason,
                retry_in_ms,
            } => match retry_in_ms {
                Some(ms) => format!("{reason} · retry in {}", secs(*ms)),
                None => reason.clone(),
            },
            Reach::Partial {
                down,
                total,
                reason,
            } => format!("{down} of {total} connections down: {reason}"),
            Reach::Up => "connected; waiting for the first book…".into(),
            Reach::Replay => "no book of it in the captures".into(),
        }
    }
}

fn secs(ms: u64) -> String {
    format!("{}s", ms.div_ceil(1000))
}

/// The reason as plain words: the first clause, without the technical
/// detail in parentheses or the advice after a dash (the Health pane keeps
/// the whole text).
pub fn plain_reason(reason: &str) -> String {
    let mut end = reason.len();
    for sep in [" (", " — ", "; "] {
        if let Some(i) = reason.find(sep) {
            end = end.min(i);
        }
    }
    let s = reason[..end].trim();
    if s.is_empty() {
        reason.trim().to_string()
    } else {
        s.to_string()
    }
}

/// What `venue`'s connection rows say.
pub fn venue_reach(health: &[ConnHealth], venue: Venue) -> Reach {
    let rows: Vec<&ConnHealth> = health.iter().filter(|h| h.venue == venue).collect();
    if rows.is_empty() {
        return Reach::Starting;
    }
    if rows.iter().all(|h| h.state == ConnState::Replay) {
        return Reach::Replay;
    }
    let up = rows
        .iter()
        .filter(|h| matches!(h.state, ConnState::Connected | ConnState::Replay))
        .count();
    let mut reasons: Vec<(String, usize)> = Vec::new();
    let mut retry: Option<u64> = None;
    let mut down = 0;
    for h in &rows {
        let reason = match &h.state {
            ConnState::Backoff {
                reason,
                retry_in_ms,
            } => {
                retry = Some(retry.map_or(*retry_in_ms, |r| r.min(*retry_in_ms)));
                reason
            }
            ConnState::Disconnected { reason } => reason,
            _ => continue,
        };
        down += 1;
        let reason = plain_reason(reason);
        match reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => reasons.push((reason, 1)),
        }
    }
    // The most common reason; the first seen on a tie.
    let reason = reasons
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, n))| (*n, std::cmp::Reverse(*i)))
        .map(|(_, (r, _))| r.clone())
        .unwrap_or_default();
    match (up, down) {
        (0, 0) => Reach::Connecting,
        (0, _) => Reach::Unreachable {
            reason,
            retry_in_ms: retry,
        },
        (_, 0) => Reach::Up,
        (_, _) => Reach::Partial {
            down,
            total: rows.len(),
            reason,
        },
    }
}

/// The instruments behind a view key: the key itself, every quote of a
/// quote-group label (`BTC-USD≈USDT≈USDC`), and the books' own instruments.
fn members(view: &InstrumentView) -> Vec<Instrument> {
    let mut out = vec![view.instrument];
    let quotes = view
        .label
        .strip_prefix(&format!("{}-", view.instrument.base))
        .map(|rest| rest.strip_suffix("-PERP").unwrap_or(rest))
        .unwrap_or_default();
    for q in quotes.split('≈') {
        if let Ok(quote) = Asset::new(q) {
            let i = Instrument {
                quote,
                ..view.instrument
            };
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    for b in &view.venues {
        if !out.contains(&b.instrument) {
            out.push(b.instrument);
        }
    }
    out
}

/// The venues that should carry this view's instrument, in venue order.
pub fn expected_venues(snap: &Snapshot, app: &App, view: &InstrumentView) -> Vec<Venue> {
    let members = members(view);
    let mut out: Vec<Venue> = view.venues.iter().map(|b| b.venue).collect();
    let configured: Option<Vec<Venue>> = app.watch.info.as_ref().and_then(|info| {
        let rows: Vec<_> = info
            .rows
            .iter()
            .filter(|r| members.contains(&r.instrument))
            .collect();
        (!rows.is_empty()).then(|| rows.iter().flat_map(|r| r.venues.iter().copied()).collect())
    });
    match configured {
        // A live session: the watchlist says where it is watched (maybe
        // nowhere: no configured venue lists it).
        Some(venues) => out.extend(venues),
        // Not in the watchlist under this key (a quote group the UI cannot
        // see), or a replay: books present say it all; with none, the
        // venues with connections that list it.
        _ if !view.venues.is_empty() => {}
        _ => out.extend(
            snap.health
                .iter()
                .map(|h| h.venue)
                .filter(|v| members.iter().any(|i| listings::probably_lists(*v, i))),
        ),
    }
    out.sort();
    out.dedup();
    out
}

/// Expected venues with no book under this key, and what their
/// connections say.
pub fn missing(snap: &Snapshot, app: &App, view: &InstrumentView) -> Vec<(Venue, Reach)> {
    expected_venues(snap, app, view)
        .into_iter()
        .filter(|v| !view.venues.iter().any(|b| b.venue == *v))
        .map(|v| (v, venue_reach(&snap.health, v)))
        .collect()
}

/// "Health (6)": the Health pane with its key, for pointers.
pub fn health_pointer(app: &App) -> String {
    let Some(i) = PANES.iter().position(|p| p.id == PaneId::Health) else {
        return "the Health pane".into();
    };
    let title = PANES[i].title;
    match app
        .keymap
        .keys_for(Action::GoToPane(i), Context::Global)
        .first()
    {
        Some(k) => format!("{title} ({k})"),
        None => title.to_string(),
    }
}

/// Why a view has no CBBO (or which venues it lacks), as sentences from
/// longest to shortest; the caller shows the first that fits.
#[derive(Clone, Debug, Default)]
pub struct Why {
    /// Books present but kept out (venue, engine's reason).
    pub excluded: Vec<(Venue, String)>,
    /// Expected venues without a book.
    pub missing: Vec<(Venue, Reach)>,
    /// Whether any book at all is present under the key.
    pub has_books: bool,
    /// Whether the CBBO has a side (so this is a note, not the whole story).
    pub has_cbbo: bool,
    pub health: String,
}

impl Why {
    pub fn of(snap: &Snapshot, app: &App, view: &InstrumentView) -> Why {
        Why {
            excluded: view.cbbo.excluded.clone(),
            missing: missing(snap, app, view),
            has_books: !view.venues.is_empty(),
            has_cbbo: view.cbbo.bid.is_some() || view.cbbo.ask.is_some(),
            health: health_pointer(app),
        }
    }

    /// True when no configured venue carries the instrument at all.
    pub fn no_venue(&self) -> bool {
        !self.has_books && self.missing.is_empty()
    }

    /// Any venue that should carry it cannot be reached.
    pub fn unreachable(&self) -> bool {
        self.missing.iter().any(|(_, r)| r.is_failure())
    }

    /// The tersest verbosity level of [`Why::sentence`].
    pub const TERSEST: u8 = 4;

    /// The sentence at a verbosity `level` (0 the fullest, up to
    /// [`Why::TERSEST`]): 1 shortens reasons, 2 counts venues, 3 merges the
    /// failing venues into one count, 4 drops their reasons if they differ.
    pub fn sentence(&self, level: u8) -> String {
        let (body, pointer) = self.parts(level);
        body + &pointer
    }

    /// The sentence's body and its pointer to the Health pane (empty when
    /// nothing failed).
    fn parts(&self, level: u8) -> (String, String) {
        let pointer = if self.unreachable() {
            format!(" — see {}", self.health)
        } else {
            String::new()
        };
        (self.body(level), pointer)
    }

    fn body(&self, level: u8) -> String {
        if self.no_venue() {
            return "no venue carries this instrument".into();
        }
        let short = level >= 1;
        let counted = level >= 2;
        let names = |venues: &[Venue]| -> String {
            if counted && venues.len() > 1 {
                format!("{} venues", venues.len())
            } else {
                venues
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let mut parts: Vec<String> = Vec::new();
        // Failures first: they are what the user must act on.
        let mut failures: BTreeMap<(u8, String), Vec<Venue>> = BTreeMap::new();
        let mut connecting: Vec<Venue> = Vec::new();
        let mut waiting: Vec<Venue> = Vec::new();
        let mut absent: Vec<Venue> = Vec::new();
        for (v, reach) in &self.missing {
            match reach {
                Reach::Unreachable { reason, .. } => {
                    failures.entry((0, reason.clone())).or_default().push(*v);
                }
                Reach::Partial { reason, .. } => {
                    failures.entry((1, reason.clone())).or_default().push(*v);
                }
                Reach::Starting | Reach::Connecting => connecting.push(*v),
                Reach::Up => waiting.push(*v),
                Reach::Replay => absent.push(*v),
            }
        }
        if level >= 3 && failures.len() > 1 {
            let mut all: Vec<Venue> = failures.values().flatten().copied().collect();
            all.sort();
            all.dedup();
            let mut reasons: Vec<&str> = failures.keys().map(|(_, r)| r.as_str()).collect();
            reasons.dedup();
            let what = format!("{} unreachable", names(&all));
            parts.push(if level >= 4 && reasons.len() > 1 {
                what
            } else {
                format!("{what}: {}", reasons.join(", "))
            });
        } else {
            for ((kind, reason), venues) in &failures {
                let what = if *kind == 0 {
                    "unreachable"
                } else {
                    "partly unreachable"
                };
                parts.push(format!("{} {what}: {reason}", names(venues)));
            }
        }
        for (v, reason) in &self.excluded {
            let reason = if short {
                first_clause(reason)
            } else {
                reason.clone()
            };
            parts.push(format!("{v}: {reason}"));
        }
        if !connecting.is_empty() || !waiting.is_empty() {
            let mut s = if self.has_books {
                // Others are here already: name the ones still to come.
                let mut late = connecting.clone();
                late.extend(&waiting);
                late.sort();
                format!("waiting for {}", names(&late))
            } else {
                "waiting for the first book…".to_string()
            };
            if !self.has_books && !connecting.is_empty() && !short {
                s.push_str(&format!(" (connecting to {})", names(&connecting)));
            }
            parts.push(s);
        }
        if !absent.is_empty() {
            parts.push(format!("not in the captures of {}", names(&absent)));
        }
        let mut s = parts.join("; ");
        if self.has_books && !self.has_cbbo {
            s = if s.is_empty() {
                "no live venue yet".into()
            } else {
                format!("no live venue — {s}")
            };
        }
        s
    }

    /// The fullest sentence that fits `width` characters; else the tersest
    /// body cut at a word boundary, still ending with the Health pointer.
    pub fn fitted(&self, width: usize) -> String {
        for level in 0..=Self::TERSEST {
            let s = self.sentence(level);
            if s.chars().count() <= width {
                return s;
            }
        }
        let (body, pointer) = self.parts(Self::TERSEST);
        let room = width.saturating_sub(pointer.chars().count());
        if room >= 12 {
            ellipsize(&body, room) + &pointer
        } else {
            ellipsize(&(body + &pointer), width)
        }
    }

    /// Notes for a row that has a CBBO: what is left out or missing.
    pub fn note(&self, level: u8) -> String {
        if self.excluded.is_empty() && self.missing.is_empty() {
            String::new()
        } else {
            self.sentence(level)
        }
    }
}

/// `stale: no updates…` → `stale`; `sequence gap (expected …)` → `sequence gap`.
fn first_clause(reason: &str) -> String {
    let mut end = reason.len();
    for sep in [": ", " (", " — ", "; "] {
        if let Some(i) = reason.find(sep) {
            end = end.min(i);
        }
    }
    reason[..end].to_string()
}

/// `text` in at most `width` characters, cut at a word boundary with `…`.
pub fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let keep: String = text.chars().take(width - 1).collect();
    let cut = match keep.rfind(' ') {
        Some(i) if i > 0 => keep[..i].trim_end_matches([',', ';', ':', '—', ' ']),
        _ => keep.as_str(),
    };
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venue;

    fn row(v: Venue, state: ConnState) -> ConnHealth {
        ConnHealth {
            venue: v,
            conn: "wss://x".into(),
            state,
            msgs_per_s: 0.0,
            bytes_per_s: 0.0,
            last_msg_age: None,
            latency_p50_ms: None,
            latency_p99_ms: None,
            clock_skew: None,
            messages: 0,
            bytes: 0,
            latency_histogram: Default::default(),
            reconnects: 0,
            gaps: 0,
            resyncs: 0,
            checksum_ok: 0,
            checksum_failed: 0,
            parse_errors: 0,
            unknown_messages: 0,
            queue_depth: 0,
            books_not_live: 0,
        }
    }

    fn backoff(reason: &str, ms: u64) -> ConnState {
        ConnState::Backoff {
            retry_in_ms: ms,
            reason: reason.into(),
        }
    }

    #[test]
    fn reach_reads_every_connection_of_the_venue() {
        let b = venue!("binance");
        assert_eq!(venue_reach(&[], b), Reach::Starting);
        let rows = [
            row(b, backoff("DNS lookup failed", 9_000)),
            row(b, backoff("DNS lookup failed", 4_500)),
            row(
                b,
                ConnState::Disconnected {
                    reason: "TLS handshake failed (bad cert)".into(),
                },
            ),
        ];
        assert_eq!(
            venue_reach(&rows, b),
            Reach::Unreachable {
                reason: "DNS lookup failed".into(),
                retry_in_ms: Some(4_500)
            }
        );
        let mixed = [row(b, ConnState::Connected), rows[2].clone()];
        assert_eq!(
            venue_reach(&mixed, b),
            Reach::Partial {
                down: 1,
                total: 2,
                reason: "TLS handshake failed".into()
            }
        );
        assert_eq!(
            venue_reach(&[row(b, ConnState::Connecting)], b),
            Reach::Connecting
        );
        assert_eq!(
            venue_reach(
                &[row(b, ConnState::Connected), row(b, ConnState::Connecting)],
                b
            ),
            Reach::Up
        );
        assert_eq!(venue_reach(&[row(b, ConnState::Replay)], b), Reach::Replay);
        // Other venues' rows do not count.
        assert_eq!(venue_reach(&rows, venue!("okx")), Reach::Starting);
    }

    #[test]
    fn plain_reasons_drop_detail_and_advice() {
        assert_eq!(
            plain_reason("TLS handshake failed (invalid peer certificate)"),
            "TLS handshake failed"
        );
        assert_eq!(
            plain_reason("HTTP 451: blocked in your region — set another endpoint"),
            "HTTP 451: blocked in your region"
        );
        assert_eq!(plain_reason("DNS lookup failed"), "DNS lookup failed");
    }

    fn why(missing: Vec<(Venue, Reach)>) -> Why {
        Why {
            missing,
            health: "Health (6)".into(),
            ..Why::default()
        }
    }

    fn dns() -> Reach {
        Reach::Unreachable {
            reason: "DNS lookup failed".into(),
            retry_in_ms: Some(3_000),
        }
    }

    #[test]
    fn unreachable_venues_are_named_with_the_reason() {
        let w = why(vec![(venue!("binance"), dns()), (venue!("bybit"), dns())]);
        assert_eq!(
            w.sentence(0),
            "binance, bybit unreachable: DNS lookup failed — see Health (6)"
        );
        assert_eq!(
            w.sentence(2),
            "2 venues unreachable: DNS lookup failed — see Health (6)"
        );
        assert_eq!(
            w.fitted(58),
            "2 venues unreachable: DNS lookup failed — see Health (6)"
        );
        assert_eq!(w.fitted(40), "2 venues unreachable… — see Health (6)");
        assert_eq!(w.fitted(20), "2 venues…");
        let two = why(vec![
            (venue!("binance"), dns()),
            (
                venue!("bitstamp"),
                Reach::Unreachable {
                    reason: "TLS handshake failed".into(),
                    retry_in_ms: None,
                },
            ),
            (venue!("bybit"), dns()),
        ]);
        assert_eq!(
            two.sentence(0),
            "binance, bybit unreachable: DNS lookup failed; bitstamp unreachable: TLS handshake failed — see Health (6)"
        );
        assert_eq!(
            two.sentence(3),
            "3 venues unreachable: DNS lookup failed, TLS handshake failed — see Health (6)"
        );
        assert_eq!(two.fitted(58), "3 venues unreachable — see Health (6)");
        assert!(!w.no_venue());
    }

    #[test]
    fn connecting_venues_wait_for_the_first_book() {
        let w = why(vec![
            (venue!("binance"), Reach::Connecting),
            (venue!("okx"), Reach::Up),
        ]);
        assert_eq!(
            w.sentence(0),
            "waiting for the first book… (connecting to binance)"
        );
        assert_eq!(w.sentence(1), "waiting for the first book…");
        let mixed = why(vec![(venue!("binance"), dns()), (venue!("okx"), Reach::Up)]);
        assert_eq!(
            mixed.sentence(0),
            "binance unreachable: DNS lookup failed; waiting for the first book… — see Health (6)"
        );
    }

    #[test]
    fn no_venue_only_when_none_should_carry_it() {
        assert_eq!(why(vec![]).sentence(0), "no venue carries this instrument");
        let with_books = Why {
            has_books: true,
            excluded: vec![(venue!("okx"), "syncing: waiting for a snapshot".into())],
            ..why(vec![(venue!("bybit"), dns())])
        };
        assert_eq!(
            with_books.sentence(0),
            "no live venue — bybit unreachable: DNS lookup failed; okx: syncing: waiting for a snapshot — see Health (6)"
        );
        assert_eq!(
            with_books.sentence(1),
            "no live venue — bybit unreachable: DNS lookup failed; okx: syncing — see Health (6)"
        );
    }

    #[test]
    fn ellipsis_cuts_at_a_word() {
        assert_eq!(ellipsize("short", 10), "short");
        assert_eq!(ellipsize("okx: syncing; bybit: stale", 16), "okx: syncing…");
        assert_eq!(ellipsize("abcdefghij", 5), "abcd…");
        assert_eq!(ellipsize("abc", 0), "");
    }
}
