//! Stored rows as they are read back, one type per kind.

use rust_decimal::Decimal;

use super::alerts::AlertRow;
use crate::engine::candles::MinuteCandle;
use crate::engine::derivs::DerivSample;
use crate::engine::snapshot::{ClosedArb, LiquidationRow, TradeRow};
use crate::model::{Instrument, Micros, Venue};

/// The kinds of history kept (one table each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Arbitrage opportunities, open and closed.
    Arbitrage,
    Liquidations,
    /// Trades at or above the large-trade threshold.
    Trades,
    /// Closed minutes of the perpetuals: funding, mark, index, open
    /// interest, volume.
    Funding,
    /// Gaps, resyncs, checksum failures, parse errors, disconnects and
    /// reconnects, with the reason.
    Incidents,
    /// Book and connection state changes.
    States,
    /// Alerts that fired, with what each destination did with them.
    Alerts,
    /// Closed one-minute candles per instrument and venue, as depthwatch
    /// built them from the trades.
    Candles,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Arbitrage,
        Kind::Liquidations,
        Kind::Trades,
        Kind::Funding,
        Kind::Incidents,
        Kind::States,
        Kind::Alerts,
        Kind::Candles,
    ];

    /// The name used in the config (`[store.retention_days]`) and on the
    /// command line (`history --kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Arbitrage => "arbitrage",
            Kind::Liquidations => "liquidations",
            Kind::Trades => "trades",
            Kind::Funding => "funding",
            Kind::Incidents => "incidents",
            Kind::States => "states",
            Kind::Alerts => "alerts",
            Kind::Candles => "candles",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One arbitrage opportunity: written when it opens, completed when it
/// closes. The figures are those of its peak (the walk when the profit
/// peaked).
#[derive(Clone, Debug, PartialEq)]
pub struct ArbRecord {
    /// The quote-group key it was compared under.
    pub key: Instrument,
    pub buy_venue: Venue,
    pub buy_instrument: Instrument,
    pub sell_venue: Venue,
    pub sell_instrument: Instrument,
    pub opened: Micros,
    /// `None` while open.
    pub closed: Option<Micros>,
    pub peak_net_bps: Decimal,
    pub peak_profit: Decimal,
    pub size: Decimal,
    pub buy_vwap: Decimal,
    pub sell_vwap: Decimal,
    pub buy_fee_bps: Decimal,
    pub sell_fee_bps: Decimal,
    /// A book was polled over REST while it was open.
    pub polled: bool,
    /// Why it ended (`None` while open).
    pub reason: Option<String>,
}

impl ArbRecord {
    /// How long it lasted (`None` while open).
    pub fn lifetime(&self) -> Option<Micros> {
        self.closed.map(|c| c.saturating_sub(self.opened).max(0))
    }

    /// As the engine keeps closed opportunities; `None` while open.
    pub fn to_closed(&self) -> Option<ClosedArb> {
        Some(ClosedArb {
            key: self.key,
            buy_venue: self.buy_venue,
            sell_venue: self.sell_venue,
            opened: self.opened,
            closed: self.closed?,
            peak_net_bps: self.peak_net_bps,
            peak_profit: self.peak_profit,
            reason: self.reason.clone().unwrap_or_default(),
            buy_instrument: self.buy_instrument,
            sell_instrument: self.sell_instrument,
            buy_fee_bps: self.buy_fee_bps,
            sell_fee_bps: self.sell_fee_bps,
            size: self.size,
            buy_vwap: self.buy_vwap,
            sell_vwap: self.sell_vwap,
            polled: self.polled,
        })
    }
}

impl From<&ClosedArb> for ArbRecord {
    fn from(c: &ClosedArb) -> Self {
        ArbRecord {
            key: c.key,
            buy_venue: c.buy_venue,
            buy_instrument: c.buy_instrument,
            sell_venue: c.sell_venue,
            sell_instrument: c.sell_instrument,
            opened: c.opened,
            closed: Some(c.closed),
            peak_net_bps: c.peak_net_bps,
            peak_profit: c.peak_profit,
            size: c.size,
            buy_vwap: c.buy_vwap,
            sell_vwap: c.sell_vwap,
            buy_fee_bps: c.buy_fee_bps,
            sell_fee_bps: c.sell_fee_bps,
            polled: c.polled,
            reason: Some(c.reason.clone()),
        }
    }
}

/// A feed incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentRecord {
    pub time: Micros,
    pub venue: Venue,
    pub instrument: Option<Instrument>,
    /// `gap`, `resync`, `checksum_failed`, `parse_error`,
    /// `unknown_message`, `disconnect`, `reconnect`.
    pub kind: String,
    /// The adapter's or the connection's words.
    pub detail: Option<String>,
}

/// A book or connection state change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateRecord {
    pub time: Micros,
    pub venue: Venue,
    /// Set for a book.
    pub instrument: Option<Instrument>,
    /// Set for a connection (its URL, or `rest`).
    pub conn: Option<String>,
    /// Book: `live`, `syncing`, `polled`, `stale`, `out_of_sync`;
    /// connection: `connecting`, `connected`, `backoff`, `disconnected`,
    /// `replay`.
    pub state: String,
    pub reason: Option<String>,
}

/// One stored row.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Arb(ArbRecord),
    Liquidation(LiquidationRow),
    Trade(TradeRow),
    Funding(DerivSample),
    Incident(IncidentRecord),
    State(StateRecord),
    Alert(AlertRow),
    Candle(MinuteCandle),
}

impl Record {
    /// The time the row is filed under (an opportunity: when it opened).
    pub fn time(&self) -> Micros {
        match self {
            Record::Arb(a) => a.opened,
            Record::Liquidation(l) => l.time,
            Record::Trade(t) => t.time,
            Record::Funding(d) => d.minute,
            Record::Incident(i) => i.time,
            Record::State(s) => s.time,
            Record::Alert(a) => a.time,
            Record::Candle(c) => c.candle.start,
        }
    }
}
