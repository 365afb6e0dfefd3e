//! The alert rules as the config declares them (`[[alerts]]`, see
//! `config.example.toml`): what each kind watches, its thresholds, and the
//! settings every rule shares (severity, cooldown, deduplication key,
//! hysteresis, where it is delivered).

use rust_decimal::Decimal;

use crate::engine::derivs::SpikeMetric;
use crate::model::{Instrument, LiquidatedSide, Micros, TakerSide, Venue};

/// How loud an alert is. Ordered: `Info < Warning < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A threshold either relative (percent or basis points, as the kind says)
/// or absolute (in the quote currency).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Amount {
    Relative(Decimal),
    Absolute(Decimal),
}

/// What a `price` rule waits for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PriceTrigger {
    /// The CBBO mid moves from below `level` to at or above it.
    CrossesAbove(Decimal),
    /// The CBBO mid moves from above `level` to at or below it.
    CrossesBelow(Decimal),
    /// The mid moved by at least this much (percent or absolute, either
    /// way) within `window`.
    Moves { by: Amount, window: Micros },
}

/// What a `funding` rule compares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FundingTrigger {
    /// |annualised funding| of one venue at least this many percent.
    Annual(Decimal),
    /// Highest minus lowest annualised funding across venues of one
    /// perpetual at least this many percentage points.
    Differential(Decimal),
}

/// Which feed trouble a `feed` rule reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedTrouble {
    /// A book out of sync (gap, checksum, crossed, venue reset) for `for_s`.
    OutOfSync,
    /// A book stale (no update within `[feeds] stale_after_s`) for `for_s`.
    Stale,
    /// A connection disconnected or backing off for `for_s`.
    Disconnected,
    /// At least `min_count` checksum failures within `window`.
    ChecksumFailures { min_count: u32, window: Micros },
}

impl FeedTrouble {
    pub fn label(self) -> &'static str {
        match self {
            FeedTrouble::OutOfSync => "out_of_sync",
            FeedTrouble::Stale => "stale",
            FeedTrouble::Disconnected => "disconnected",
            FeedTrouble::ChecksumFailures { .. } => "checksum",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    /// An open opportunity with net bps and profit both at least these, open
    /// (at those levels) for at least `min_lifetime`.
    Arbitrage {
        min_net_bps: Decimal,
        min_profit: Decimal,
        min_lifetime: Micros,
    },
    /// A liquidation of at least this USD notional (optionally one side).
    Liquidation {
        min_notional_usd: f64,
        side: Option<LiquidatedSide>,
    },
    /// A trade of at least this USD notional (optionally one taker side).
    /// The engine hands on trades from `[trades] large_trade_usd` up.
    LargeTrade {
        min_notional_usd: f64,
        side: Option<TakerSide>,
    },
    /// An open-interest or volume spike with |z| at least `min_z`.
    Spike {
        metric: Option<SpikeMetric>,
        min_z: f64,
    },
    Funding(FundingTrigger),
    Price(PriceTrigger),
    /// The CBBO spread at least this wide (bps of mid, or quote units).
    CbboSpread(Amount),
    Feed {
        trouble: FeedTrouble,
        for_s: Micros,
    },
}

impl RuleKind {
    /// The `kind = "…"` name in the config.
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::Arbitrage { .. } => "arbitrage",
            RuleKind::Liquidation { .. } => "liquidation",
            RuleKind::LargeTrade { .. } => "large_trade",
            RuleKind::Spike { .. } => "spike",
            RuleKind::Funding(_) => "funding",
            RuleKind::Price(_) => "price",
            RuleKind::CbboSpread(_) => "cbbo_spread",
            RuleKind::Feed { .. } => "feed",
        }
    }

    pub const NAMES: [&'static str; 8] = [
        "arbitrage",
        "liquidation",
        "large_trade",
        "spike",
        "funding",
        "price",
        "cbbo_spread",
        "feed",
    ];

    /// Kinds whose condition lasts (a level held or not) rather than
    /// single events; hysteresis and minimum lifetimes apply to these.
    pub fn is_level(&self) -> bool {
        !matches!(
            self,
            RuleKind::Liquidation { .. }
                | RuleKind::LargeTrade { .. }
                | RuleKind::Spike { .. }
                | RuleKind::Feed {
                    trouble: FeedTrouble::ChecksumFailures { .. },
                    ..
                }
        )
    }
}

/// The deduplication key when a rule names none: one cooldown per rule and
/// subject (an instrument, a venue pair, a connection).
pub const DEFAULT_DEDUP_KEY: &str = "{rule}:{subject}";

/// One `[[alerts]]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Unique among the rules; shown in the Alerts pane and deliveries.
    pub name: String,
    pub kind: RuleKind,
    pub severity: Severity,
    /// Quiet time per deduplication key after an alert.
    pub cooldown: Micros,
    /// Template of the deduplication key: `{rule}`, `{kind}`, `{subject}`,
    /// `{instrument}`, `{venue}`. Alerts with the same key share one
    /// cooldown, across rules too.
    pub dedup_key: String,
    /// Level rules re-arm only once the value is back past the threshold by
    /// this much (in the threshold's unit).
    pub hysteresis: Decimal,
    /// Only these instruments (or quote-group keys); empty: all.
    pub instruments: Vec<Instrument>,
    /// Only these venues (either side of an arbitrage pair); empty: all.
    pub venues: Vec<Venue>,
    /// Destination names (`app`, `bell`, `desktop`, `webhook`, `telegram`,
    /// `discord`, `slack`); empty: every configured one.
    pub destinations: Vec<String>,
    /// Disabled rules are not evaluated.
    pub enabled: bool,
    /// Muted rules are evaluated and kept in the history, never delivered.
    pub muted: bool,
}

impl Rule {
    /// A rule with the shared settings at their defaults.
    pub fn new(name: &str, kind: RuleKind) -> Rule {
        Rule {
            name: name.to_string(),
            kind,
            severity: Severity::Warning,
            cooldown: 60_000_000,
            dedup_key: DEFAULT_DEDUP_KEY.to_string(),
            hysteresis: Decimal::ZERO,
            instruments: Vec::new(),
            venues: Vec::new(),
            destinations: Vec::new(),
            enabled: true,
            muted: false,
        }
    }

    /// Passes the instrument filter (any of the candidates matches).
    pub fn wants_instrument(&self, candidates: &[Instrument]) -> bool {
        self.instruments.is_empty() || candidates.iter().any(|c| self.instruments.contains(c))
    }

    /// Passes the venue filter (any of the candidates matches).
    pub fn wants_venue(&self, candidates: &[Venue]) -> bool {
        self.venues.is_empty() || candidates.iter().any(|c| self.venues.contains(c))
    }

    /// Whether `destination` gets this rule's alerts.
    pub fn delivers_to(&self, destination: &str) -> bool {
        self.destinations.is_empty() || self.destinations.iter().any(|d| d == destination)
    }
}

/// A rule made from the keyboard (the `A` key of the Overview, Arbitrage
/// and Liquidations panes), written to the config as a new `[[alerts]]`
/// table.
#[derive(Clone, Debug, PartialEq)]
pub enum NewAlert {
    /// This pair of this key, at the engine's current thresholds.
    Arbitrage {
        key: Instrument,
        buy: Venue,
        sell: Venue,
        min_net_bps: Decimal,
        min_profit: Decimal,
    },
    /// Liquidations of this instrument from this notional up.
    Liquidation {
        instrument: Instrument,
        min_notional_usd: f64,
    },
    /// The instrument's CBBO mid moving by `move_pct` percent, either way,
    /// within `window_s` seconds.
    Price {
        instrument: Instrument,
        move_pct: Decimal,
        window_s: u32,
    },
}

/// What `A` on a price row watches for: a move a trader notices, 1 %
/// either way within 5 minutes (a level to cross needs a number only the
/// trader knows; a move needs none).
pub const PRICE_MOVE_PCT: Decimal = Decimal::ONE;
pub const PRICE_WINDOW_S: u32 = 300;

impl NewAlert {
    /// The name it gets (made unique by the editor if taken).
    pub fn name(&self) -> String {
        match self {
            NewAlert::Arbitrage { key, buy, sell, .. } => {
                format!("arb-{}-{buy}-{sell}", key.to_string().to_ascii_lowercase())
            }
            NewAlert::Liquidation { instrument, .. } => {
                format!("liq-{}", instrument.to_string().to_ascii_lowercase())
            }
            NewAlert::Price { instrument, .. } => {
                format!("price-{}", instrument.to_string().to_ascii_lowercase())
            }
        }
    }

    /// The price rule of a row in the Overview: [`PRICE_MOVE_PCT`] within
    /// [`PRICE_WINDOW_S`].
    pub fn price_move(instrument: Instrument) -> NewAlert {
        NewAlert::Price {
            instrument,
            move_pct: PRICE_MOVE_PCT,
            window_s: PRICE_WINDOW_S,
        }
    }

    /// What it alerts on, in a few words (the status line says it when the
    /// rule is saved).
    pub fn describe(&self) -> String {
        use crate::headless::dec;
        match self {
            NewAlert::Arbitrage {
                key,
                buy,
                sell,
                min_net_bps,
                ..
            } => format!("{key} {buy}→{sell} from {} bps net", dec(*min_net_bps)),
            NewAlert::Liquidation {
                instrument,
                min_notional_usd,
            } => format!(
                "liquidations of {instrument} from {}",
                super::alert::usd(*min_notional_usd)
            ),
            NewAlert::Price {
                instrument,
                move_pct,
                window_s,
            } => {
                let window = if window_s % 60 == 0 {
                    format!("{} min", window_s / 60)
                } else {
                    format!("{window_s} s")
                };
                format!("{instrument} moving ±{}% within {window}", dec(*move_pct))
            }
        }
    }
}
