//! Connection health: state, traffic rates, exchange-to-receive latency and
//! protocol incident counters, one row per (venue, connection).

use std::collections::{BTreeMap, VecDeque};

use super::latency::LatencyHistogram;
use super::snapshot::{ConnHealth, ConnState};
use super::window::{Bucket, RollingWindow, SECOND};
use crate::model::{Incident, MarketEvent, Micros, Venue};

/// Traffic rates are averaged over this many complete seconds.
const RATE_SECONDS: usize = 5;
/// Latency percentiles are computed over this many most recent samples.
const LATENCY_SAMPLES: usize = 2048;
/// A median below this (exchange time ahead of ours) is clock skew.
const SKEW_AHEAD_MS: f64 = -1_000.0;
/// A median above this is skew or a badly delayed feed, not network latency.
const SKEW_BEHIND_MS: f64 = 60_000.0;

/// Sums over every connection, for the headless summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HealthTotals {
    /// Number of frames fed (`on_feed` calls).
    pub frames: u64,
    pub parse_errors: u64,
    pub unknown_messages: u64,
    pub gaps: u64,
    pub resyncs: u64,
    pub checksum_ok: u64,
    pub checksum_failed: u64,
}

impl HealthTotals {
    fn count(&mut self, incident: Incident) {
        let counter = match incident {
            Incident::Gap => &mut self.gaps,
            Incident::Resync => &mut self.resyncs,
            Incident::ChecksumOk => &mut self.checksum_ok,
            Incident::ChecksumFailed => &mut self.checksum_failed,
            Incident::ParseError => &mut self.parse_errors,
            Incident::UnknownMessage => &mut self.unknown_messages,
        };
        *counter += 1;
    }

    fn add(&mut self, other: &HealthTotals) {
        self.frames += other.frames;
        self.parse_errors += other.parse_errors;
        self.unknown_messages += other.unknown_messages;
        self.gaps += other.gaps;
        self.resyncs += other.resyncs;
        self.checksum_ok += other.checksum_ok;
        self.checksum_failed += other.checksum_failed;
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Traffic {
    messages: u64,
    bytes: u64,
}

impl Bucket for Traffic {
    fn merge(&mut self, other: &Self) {
        self.messages += other.messages;
        self.bytes += other.bytes;
    }
}

#[derive(Clone, Debug)]
struct ConnStats {
    state: ConnState,
    ever_connected: bool,
    reconnects: u64,
    /// Frames and incident counters of this connection.
    counts: HealthTotals,
    traffic: RollingWindow<Traffic>,
    first_msg: Option<Micros>,
    last_msg: Option<Micros>,
    /// Recent receive − exchange times, microseconds, oldest first.
    latencies: VecDeque<Micros>,
    /// Every latency sample since the connection was first seen.
    latency_histogram: LatencyHistogram,
    /// Bytes of every frame received.
    bytes: u64,
}

impl ConnStats {
    /// A connection first heard of through its data is evidently connected;
    /// `on_conn` overrides this as soon as it reports.
    fn new(state: ConnState) -> Self {
        ConnStats {
            state,
            ever_connected: false,
            reconnects: 0,
            counts: HealthTotals::default(),
            traffic: RollingWindow::new(RATE_SECONDS + 1, SECOND),
            first_msg: None,
            last_msg: None,
            latencies: VecDeque::with_capacity(LATENCY_SAMPLES),
            latency_histogram: LatencyHistogram::default(),
            bytes: 0,
        }
    }

    fn add_latency(&mut self, received: Micros, exchange: Micros) {
        if self.latencies.len() >= LATENCY_SAMPLES {
            self.latencies.pop_front();
        }
        let latency = received.saturating_sub(exchange);
        self.latencies.push_back(latency);
        self.latency_histogram.observe(latency);
    }

    /// (messages/s, bytes/s) over the last complete seconds, or since the
    /// first message when that is more recent.
    fn rates(&self, now: Micros) -> (f64, f64) {
        let Some(first) = self.first_msg else {
            return (0.0, 0.0);
        };
        let elapsed = now.div_euclid(SECOND) - first.div_euclid(SECOND);
        let span = elapsed.clamp(0, RATE_SECONDS as i64);
        if span == 0 {
            return (0.0, 0.0);
        }
        let sum = self.traffic.sum_complete(now, RATE_SECONDS);
        let span = span as f64;
        (sum.messages as f64 / span, sum.bytes as f64 / span)
    }

    fn row(&self, venue: Venue, conn: &str, now: Micros, queue_depth: usize) -> ConnHealth {
        let (msgs_per_s, bytes_per_s) = self.rates(now);
        let latency = Latency::from_samples(&self.latencies);
        ConnHealth {
            venue,
            conn: conn.to_string(),
            state: self.state.clone(),
            msgs_per_s,
            bytes_per_s,
            last_msg_age: self.last_msg.map(|t| now.saturating_sub(t).max(0)),
            latency_p50_ms: latency.p50_ms,
            latency_p99_ms: latency.p99_ms,
            clock_skew: latency.skew,
            messages: self.counts.frames,
            bytes: self.bytes,
            latency_histogram: self.latency_histogram,
            reconnects: self.reconnects,
            gaps: self.counts.gaps,
            resyncs: self.counts.resyncs,
            checksum_ok: self.counts.checksum_ok,
            checksum_failed: self.counts.checksum_failed,
            parse_errors: self.counts.parse_errors,
            unknown_messages: self.counts.unknown_messages,
            queue_depth,
            books_not_live: 0,
        }
    }
}

/// Latency percentiles, or the reason they are withheld.
#[derive(Debug, Default, PartialEq)]
struct Latency {
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    skew: Option<String>,
}

impl Latency {
    fn from_samples(samples: &VecDeque<Micros>) -> Self {
        let mut sorted: Vec<Micros> = samples.iter().copied().collect();
        sorted.sort_unstable();
        let (Some(p50), Some(p99)) = (percentile(&sorted, 0.50), percentile(&sorted, 0.99)) else {
            return Latency::default();
        };
        let (p50_ms, p99_ms) = (p50 as f64 / 1_000.0, p99 as f64 / 1_000.0);
        if p50_ms < SKEW_AHEAD_MS {
            return Latency {
                skew: Some(format!(
                    "clock skew: exchange time ahead by {:.1} s",
                    -p50_ms / 1_000.0
                )),
                ..Latency::default()
            };
        }
        if p50_ms > SKEW_BEHIND_MS {
            return Latency {
                skew: Some(format!(
                    "clock skew or delayed feed: {:.1} s behind",
                    p50_ms / 1_000.0
                )),
                ..Latency::default()
            };
        }
        Latency {
            p50_ms: Some(p50_ms),
            p99_ms: Some(p99_ms),
            skew: None,
        }
    }
}

/// Nearest-rank percentile of sorted samples (`q` in 0..=1).
fn percentile(sorted: &[Micros], q: f64) -> Option<Micros> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

#[derive(Clone, Debug, Default)]
pub struct HealthTracker {
    /// Per venue, per connection name; BTreeMaps give the display order
    /// (venue in registry order, then connection name) and let a frame
    /// be counted without allocating a key.
    conns: BTreeMap<Venue, BTreeMap<String, ConnStats>>,
    queue_depth: usize,
}

impl HealthTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The connection's stats, created in state `initial` when new. Looked
    /// up by `&str` so a frame on a known connection allocates nothing.
    fn conn_mut(&mut self, venue: Venue, conn: &str, initial: ConnState) -> Option<&mut ConnStats> {
        let per_venue = self.conns.entry(venue).or_default();
        if !per_venue.contains_key(conn) {
            per_venue.insert(conn.to_string(), ConnStats::new(initial));
        }
        per_venue.get_mut(conn)
    }

    /// One frame received on `conn`, with the events the adapter made of it.
    pub fn on_feed(
        &mut self,
        venue: Venue,
        conn: &str,
        received: Micros,
        bytes: usize,
        events: &[MarketEvent],
    ) {
        let Some(stats) = self.conn_mut(venue, conn, ConnState::Connected) else {
            return;
        };
        stats.counts.frames += 1;
        stats.bytes = stats.bytes.saturating_add(bytes as u64);
        stats.traffic.add(
            received,
            &Traffic {
                messages: 1,
                bytes: bytes as u64,
            },
        );
        stats.first_msg = Some(stats.first_msg.map_or(received, |t| t.min(received)));
        stats.last_msg = Some(stats.last_msg.map_or(received, |t| t.max(received)));
        for event in events {
            match event {
                MarketEvent::Book(b) => {
                    if let Some(ts) = b.exchange_ts {
                        stats.add_latency(b.received, ts);
                    }
                }
                MarketEvent::Trade(t) => {
                    if let Some(ts) = t.exchange_ts {
                        stats.add_latency(t.received, ts);
                    }
                }
                MarketEvent::Liquidation(l) => {
                    if let Some(ts) = l.exchange_ts {
                        stats.add_latency(l.received, ts);
                    }
                }
                MarketEvent::Funding(f) => {
                    if let Some(ts) = f.exchange_ts {
                        stats.add_latency(f.received, ts);
                    }
                }
                MarketEvent::Incident { incident, .. } => stats.counts.count(*incident),
                MarketEvent::BookState { .. }
                | MarketEvent::Instruments { .. }
                | MarketEvent::History { .. }
                | MarketEvent::Klines { .. } => {}
            }
        }
    }

    /// A connection state change. `Connected` after an earlier `Connected`
    /// on the same connection counts as a reconnect.
    /// The time of the change is not shown yet; it is part of the contract
    /// so the pane can grow a "since" column.
    pub fn on_conn(&mut self, venue: Venue, conn: &str, state: ConnState, _at: Micros) {
        let Some(stats) = self.conn_mut(venue, conn, ConnState::Connecting) else {
            return;
        };
        if state == ConnState::Connected {
            if stats.ever_connected {
                stats.reconnects += 1;
            }
            stats.ever_connected = true;
        }
        stats.state = state;
    }

    pub fn set_queue_depth(&mut self, depth: usize) {
        self.queue_depth = depth;
    }

    pub fn queue_depth(&self) -> usize {
        self.queue_depth
    }

    /// The venue's feed was stopped: its connections leave the view (their
    /// counts leave the totals too).
    pub fn forget_venue(&mut self, venue: Venue) {
        self.conns.remove(&venue);
    }

    /// One row per connection, by venue then connection name.
    /// `books_not_live` is left 0: the engine, which owns the books, fills it.
    pub fn view(&self, now: Micros) -> Vec<ConnHealth> {
        self.conns
            .iter()
            .flat_map(|(venue, conns)| {
                conns
                    .iter()
                    .map(move |(conn, stats)| stats.row(*venue, conn, now, self.queue_depth))
            })
            .collect()
    }

    pub fn totals(&self) -> HealthTotals {
        let mut totals = HealthTotals::default();
        for stats in self.conns.values().flat_map(|c| c.values()) {
            totals.add(&stats.counts);
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Instrument, LiquidatedSide, Liquidation, TakerSide, Trade};
    use rust_decimal_macros::dec;

    const T0: Micros = 1_700_000_000 * SECOND;
    const WS: &str = "wss://stream.example/ws";

    fn trade(exchange_ts: Option<Micros>, received: Micros) -> MarketEvent {
        MarketEvent::Trade(Trade {
            venue: crate::venue!("binance"),
            instrument: Instrument::spot("BTC", "USDT").unwrap(),
            price: dec!(1),
            size: dec!(1),
            side: TakerSide::Buy,
            exchange_ts,
            received,
        })
    }

    fn incident(incident: Incident) -> MarketEvent {
        MarketEvent::Incident {
            venue: crate::venue!("binance"),
            instrument: None,
            incident,
            detail: None,
        }
    }

    fn only_row(h: &HealthTracker, now: Micros) -> ConnHealth {
        let rows = h.view(now);
        assert_eq!(rows.len(), 1);
        rows.into_iter().next().unwrap()
    }

    #[test]
    fn reconnects_count_connected_after_connected() {
        let mut h = HealthTracker::new();
        h.on_conn(crate::venue!("okx"), WS, ConnState::Connecting, T0);
        assert_eq!(only_row(&h, T0).state, ConnState::Connecting);
        h.on_conn(crate::venue!("okx"), WS, ConnState::Connected, T0 + 1);
        assert_eq!(only_row(&h, T0).reconnects, 0);
        let backoff = ConnState::Backoff {
            retry_in_ms: 1_000,
            reason: "HTTP 429: rate limited".into(),
        };
        h.on_conn(crate::venue!("okx"), WS, backoff.clone(), T0 + 2);
        assert_eq!(only_row(&h, T0).state, backoff);
        h.on_conn(crate::venue!("okx"), WS, ConnState::Connecting, T0 + 3);
        h.on_conn(crate::venue!("okx"), WS, ConnState::Connected, T0 + 4);
        h.on_conn(crate::venue!("okx"), WS, ConnState::Connected, T0 + 5);
        let row = only_row(&h, T0 + 6);
        assert_eq!(row.reconnects, 2);
        assert_eq!(row.state, ConnState::Connected);
        // Another connection of the same venue has its own count.
        h.on_conn(
            crate::venue!("okx"),
            "wss://other",
            ConnState::Connected,
            T0,
        );
        assert_eq!(h.view(T0)[0].reconnects, 0);
    }

    #[test]
    fn message_rate_over_the_last_complete_seconds() {
        let mut h = HealthTracker::new();
        // 10 frames of 100 bytes in each of 10 seconds.
        for s in 0..10 {
            for i in 0..10 {
                h.on_feed(
                    crate::venue!("kraken"),
                    WS,
                    T0 + s * SECOND + i * 1_000,
                    100,
                    &[],
                );
            }
        }
        let now = T0 + 10 * SECOND + SECOND / 2;
        let row = only_row(&h, now);
        assert_eq!(row.messages, 100);
        assert_eq!(row.msgs_per_s, 10.0);
        assert_eq!(row.bytes_per_s, 1_000.0);
        assert_eq!(row.last_msg_age, Some(now - (T0 + 9 * SECOND + 9_000)));
        assert_eq!(row.state, ConnState::Connected);
        // Quiet for a while: the rate falls to zero, the total stays.
        let row = only_row(&h, T0 + 20 * SECOND);
        assert_eq!(row.msgs_per_s, 0.0);
        assert_eq!(row.messages, 100);
    }

    #[test]
    fn young_connection_rate_divides_by_its_age() {
        let mut h = HealthTracker::new();
        for i in 0..6 {
            h.on_feed(crate::venue!("gemini"), WS, T0 + i * 100_000, 10, &[]);
        }
        // Still in the first second: no complete second yet.
        assert_eq!(only_row(&h, T0 + 700_000).msgs_per_s, 0.0);
        let row = only_row(&h, T0 + 2 * SECOND);
        assert_eq!(row.msgs_per_s, 3.0);
        assert_eq!(row.bytes_per_s, 30.0);
    }

    #[test]
    fn latency_percentiles_on_known_samples() {
        let mut h = HealthTracker::new();
        // Latencies 1..=100 ms, in shuffled order.
        for i in 0..100i64 {
            let ms = (i * 37) % 100 + 1;
            let received = T0 + i * SECOND;
            h.on_feed(
                crate::venue!("bybit"),
                WS,
                received,
                50,
                &[trade(Some(received - ms * 1_000), received)],
            );
        }
        // Events without exchange time add no sample.
        h.on_feed(crate::venue!("bybit"), WS, T0, 50, &[trade(None, T0)]);
        let row = only_row(&h, T0 + 100 * SECOND);
        assert_eq!(row.latency_p50_ms, Some(50.0));
        assert_eq!(row.latency_p99_ms, Some(99.0));
        assert_eq!(row.clock_skew, None);
    }

    #[test]
    fn bytes_and_the_latency_histogram_count_everything() {
        let mut h = HealthTracker::new();
        for i in 0..3 * LATENCY_SAMPLES as i64 {
            let received = T0 + i;
            h.on_feed(
                crate::venue!("bybit"),
                WS,
                received,
                100,
                &[trade(Some(received - 20_000), received)],
            );
        }
        let row = only_row(&h, T0);
        assert_eq!(row.bytes, 300 * LATENCY_SAMPLES as u64);
        // The percentiles keep recent samples; the histogram keeps them all.
        let hist = row.latency_histogram;
        assert_eq!(hist.count(), 3 * LATENCY_SAMPLES as u64);
        let le_25ms = hist.cumulative()[4];
        assert_eq!(le_25ms, (0.025, 3 * LATENCY_SAMPLES as u64));
        assert_eq!(hist.cumulative()[3].1, 0, "nothing at or below 10 ms");
    }

    #[test]
    fn latency_keeps_only_recent_samples() {
        let mut h = HealthTracker::new();
        for _ in 0..LATENCY_SAMPLES {
            h.on_feed(
                crate::venue!("bybit"),
                WS,
                T0,
                1,
                &[trade(Some(T0 - 500_000), T0)],
            );
        }
        for _ in 0..LATENCY_SAMPLES {
            h.on_feed(
                crate::venue!("bybit"),
                WS,
                T0,
                1,
                &[trade(Some(T0 - 2_000), T0)],
            );
        }
        assert_eq!(only_row(&h, T0).latency_p99_ms, Some(2.0));
    }

    #[test]
    fn clock_skew_ahead_and_behind_withholds_latency() {
        let mut ahead = HealthTracker::new();
        let liq = MarketEvent::Liquidation(Liquidation {
            venue: crate::venue!("bybit"),
            instrument: Instrument::perp("BTC", "USDT").unwrap(),
            side: LiquidatedSide::Long,
            price: dec!(1),
            size: dec!(1),
            exchange_ts: Some(T0 + 2_500_000),
            received: T0,
        });
        ahead.on_feed(crate::venue!("bybit"), WS, T0, 10, &[liq]);
        let row = only_row(&ahead, T0);
        assert_eq!(
            row.clock_skew.as_deref(),
            Some("clock skew: exchange time ahead by 2.5 s")
        );
        assert_eq!((row.latency_p50_ms, row.latency_p99_ms), (None, None));

        let mut behind = HealthTracker::new();
        behind.on_feed(
            crate::venue!("bybit"),
            WS,
            T0,
            10,
            &[trade(Some(T0 - 90 * SECOND), T0)],
        );
        let row = only_row(&behind, T0);
        assert_eq!(
            row.clock_skew.as_deref(),
            Some("clock skew or delayed feed: 90.0 s behind")
        );
        assert_eq!((row.latency_p50_ms, row.latency_p99_ms), (None, None));

        // A small negative latency (NTP-level skew) is shown as is.
        let mut slight = HealthTracker::new();
        slight.on_feed(
            crate::venue!("bybit"),
            WS,
            T0,
            10,
            &[trade(Some(T0 + 3_000), T0)],
        );
        let row = only_row(&slight, T0);
        assert_eq!(row.clock_skew, None);
        assert_eq!(row.latency_p50_ms, Some(-3.0));
    }

    #[test]
    fn incidents_are_counted_per_connection_and_in_totals() {
        let mut h = HealthTracker::new();
        h.set_queue_depth(7);
        h.on_feed(
            crate::venue!("okx"),
            "b",
            T0,
            10,
            &[
                incident(Incident::Gap),
                incident(Incident::Resync),
                incident(Incident::ChecksumOk),
                incident(Incident::ChecksumOk),
            ],
        );
        h.on_feed(
            crate::venue!("okx"),
            "a",
            T0,
            10,
            &[
                incident(Incident::ChecksumFailed),
                incident(Incident::ParseError),
            ],
        );
        h.on_feed(
            crate::venue!("binance"),
            "z",
            T0,
            10,
            &[incident(Incident::UnknownMessage)],
        );
        h.on_feed(crate::venue!("binance"), "z", T0, 10, &[]);

        let rows = h.view(T0);
        let order: Vec<(Venue, &str)> = rows.iter().map(|r| (r.venue, r.conn.as_str())).collect();
        assert_eq!(
            order,
            vec![
                (crate::venue!("binance"), "z"),
                (crate::venue!("okx"), "a"),
                (crate::venue!("okx"), "b")
            ]
        );
        assert!(rows.iter().all(|r| r.queue_depth == 7));
        let b = &rows[2];
        assert_eq!(
            (b.gaps, b.resyncs, b.checksum_ok, b.checksum_failed),
            (1, 1, 2, 0)
        );
        let a = &rows[1];
        assert_eq!(
            (a.checksum_failed, a.parse_errors, a.unknown_messages),
            (1, 1, 0)
        );
        assert_eq!((rows[0].unknown_messages, rows[0].messages), (1, 2));

        assert_eq!(
            h.totals(),
            HealthTotals {
                frames: 4,
                parse_errors: 1,
                unknown_messages: 1,
                gaps: 1,
                resyncs: 1,
                checksum_ok: 2,
                checksum_failed: 1,
            }
        );
    }

    #[test]
    fn percentile_is_nearest_rank() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.99), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4], 0.5), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 0.99), Some(4));
    }
}
