//! Rule evaluation over what the engine publishes: notices (liquidations,
//! large trades, spikes, checksum failures) as they come, and the immutable
//! snapshot on a tick for the lasting conditions (arbitrage, funding, price,
//! CBBO spread, books and connections in trouble). Deterministic: time is the
//! engine's, read from the notice or the snapshot.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use super::alert::{Alert, size, usd};
use super::gate::{self, Cooldowns, Gate, Held, Standing};
use super::rule::{Amount, FeedTrouble, FundingTrigger, PriceTrigger, Rule, RuleKind};
use crate::engine::Snapshot;
use crate::engine::notices::Notice;
use crate::engine::snapshot::ConnState;
use crate::headless::dec;
use crate::model::{BookState, Incident, Instrument, Micros, OutOfSyncReason, Venue};

/// What evaluation decided about one qualifying condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Fire(Alert),
    /// It qualified but was held back (cooldown, duplicate).
    Held {
        rule: String,
        subject: String,
        reason: Held,
    },
}

/// What a rule observed about one subject.
struct Seen {
    subject: String,
    instrument: Option<Instrument>,
    venue: Option<Venue>,
    text: String,
}

/// Cooldown keys are forgotten after this long without an alert.
const COOLDOWN_HORIZON: Micros = 24 * 3600 * 1_000_000;

#[derive(Debug, Default)]
pub struct Evaluator {
    rules: Vec<Rule>,
    /// Lasting conditions per (rule, subject).
    gates: HashMap<(String, String), Gate>,
    cooldowns: Cooldowns,
    /// CBBO mids per instrument key, oldest first (for `price` moves).
    mids: HashMap<Instrument, VecDeque<(Micros, Decimal)>>,
    /// Checksum failure times per (rule, subject).
    checksums: HashMap<(String, String), VecDeque<Micros>>,
    next_id: u64,
}

impl Evaluator {
    pub fn new(rules: Vec<Rule>) -> Evaluator {
        Evaluator {
            rules,
            next_id: 1,
            ..Evaluator::default()
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number the next alert after `id` (alerts restored from an earlier
    /// run keep their numbers; a new one never takes one of them).
    pub fn number_after(&mut self, id: u64) {
        self.next_id = self.next_id.max(id.saturating_add(1));
    }

    /// Adopt new rules. Conditions of rules whose kind and thresholds did
    /// not change keep their state (so a mute does not re-fire them).
    pub fn set_rules(&mut self, rules: Vec<Rule>) {
        let same: HashSet<String> = rules
            .iter()
            .filter(|r| {
                self.rules
                    .iter()
                    .any(|o| o.name == r.name && o.kind == r.kind && o.hysteresis == r.hysteresis)
            })
            .map(|r| r.name.clone())
            .collect();
        self.gates.retain(|(rule, _), _| same.contains(rule));
        self.checksums.retain(|(rule, _), _| same.contains(rule));
        self.rules = rules;
    }

    /// Evaluates the event rules against one notice.
    pub fn on_notice(&mut self, n: &Notice) -> Vec<Verdict> {
        let mut out = Vec::new();
        for i in 0..self.rules.len() {
            let rule = &self.rules[i];
            if !rule.enabled {
                continue;
            }
            let (seen, at) = match (&rule.kind, n) {
                (
                    RuleKind::Liquidation {
                        min_notional_usd,
                        side,
                    },
                    Notice::Liquidation(l),
                ) => {
                    let qualifies = rule.wants_instrument(&[l.instrument])
                        && rule.wants_venue(&[l.venue])
                        && side.is_none_or(|s| s == l.side)
                        && (l.notional_usd >= *min_notional_usd
                            && (l.notional_known || *min_notional_usd <= 0.0));
                    if !qualifies {
                        continue;
                    }
                    let side = match l.side {
                        crate::model::LiquidatedSide::Long => "long",
                        crate::model::LiquidatedSide::Short => "short",
                    };
                    let notional = if l.notional_known {
                        format!(" ({})", usd(l.notional_usd))
                    } else {
                        String::new()
                    };
                    (
                        Seen {
                            subject: format!("{} {}", l.venue, l.instrument),
                            instrument: Some(l.instrument),
                            venue: Some(l.venue),
                            text: format!(
                                "{} {} {side} liquidated: {} @ {}{notional}",
                                l.venue,
                                l.instrument,
                                size(l.size),
                                dec(l.price)
                            ),
                        },
                        l.time,
                    )
                }
                (
                    RuleKind::LargeTrade {
                        min_notional_usd,
                        side,
                    },
                    Notice::LargeTrade(t),
                ) => {
                    let qualifies = rule.wants_instrument(&[t.instrument])
                        && rule.wants_venue(&[t.venue])
                        && side.is_none_or(|s| s == t.side)
                        && t.notional_usd >= *min_notional_usd;
                    if !qualifies {
                        continue;
                    }
                    let side = match t.side {
                        crate::model::TakerSide::Buy => "buy",
                        crate::model::TakerSide::Sell => "sell",
                    };
                    (
                        Seen {
                            subject: format!("{} {}", t.venue, t.instrument),
                            instrument: Some(t.instrument),
                            venue: Some(t.venue),
                            text: format!(
                                "{} {} large {side}: {} @ {} ({})",
                                t.venue,
                                t.instrument,
                                size(t.size),
                                dec(t.price),
                                usd(t.notional_usd)
                            ),
                        },
                        t.time,
                    )
                }
                (RuleKind::Spike { metric, min_z }, Notice::Spike(s)) => {
                    let venues: Vec<Venue> = s.venue.into_iter().collect();
                    let qualifies = rule.wants_instrument(&[s.key])
                        && (rule.venues.is_empty() || rule.wants_venue(&venues))
                        && metric.is_none_or(|m| m == s.metric)
                        && s.z.abs() >= *min_z;
                    if !qualifies {
                        continue;
                    }
                    let on = s.venue.map_or("all venues".to_string(), |v| v.to_string());
                    (
                        Seen {
                            subject: format!("{} {} {}", s.key, s.metric.label(), on),
                            instrument: Some(s.key),
                            venue: s.venue,
                            text: format!(
                                "{} {} spike on {on}: z = {:.1} (value {:.0})",
                                s.key,
                                s.metric.label(),
                                s.z,
                                s.value
                            ),
                        },
                        s.at,
                    )
                }
                (
                    RuleKind::Feed {
                        trouble: FeedTrouble::ChecksumFailures { min_count, window },
                        ..
                    },
                    Notice::Incident {
                        venue,
                        instrument,
                        incident: Incident::ChecksumFailed,
                        detail,
                        at,
                    },
                ) => {
                    let instruments: Vec<Instrument> = instrument.iter().copied().collect();
                    if !(rule.wants_venue(&[*venue])
                        && (rule.instruments.is_empty() || rule.wants_instrument(&instruments)))
                    {
                        continue;
                    }
                    let subject = match instrument {
                        Some(i) => format!("{venue} {i}"),
                        None => venue.to_string(),
                    };
                    let times = self
                        .checksums
                        .entry((rule.name.clone(), subject.clone()))
                        .or_default();
                    times.push_back(*at);
                    while times
                        .front()
                        .is_some_and(|t| at.saturating_sub(*t) >= *window)
                    {
                        times.pop_front();
                    }
                    let count = times.len();
                    if count < *min_count as usize {
                        continue;
                    }
                    let detail = detail
                        .as_deref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default();
                    (
                        Seen {
                            subject: subject.clone(),
                            instrument: *instrument,
                            venue: Some(*venue),
                            text: format!(
                                "{subject}: {count} checksum failure(s) within {} s{detail}",
                                window / 1_000_000
                            ),
                        },
                        *at,
                    )
                }
                _ => continue,
            };
            out.push(self.fire(i, seen, at));
        }
        out
    }

    /// Evaluates the lasting conditions against a snapshot.
    pub fn on_snapshot(&mut self, snap: &Snapshot) -> Vec<Verdict> {
        let now = snap.now;
        self.record_mids(snap);
        let mut out = Vec::new();
        let mut touched: HashSet<(String, String)> = HashSet::new();
        for i in 0..self.rules.len() {
            let rule = &self.rules[i];
            if !rule.enabled || !rule.kind.is_level() {
                continue;
            }
            let mut observed: Vec<(Seen, Standing)> = Vec::new();
            let mut min_lifetime = 0;
            let mut start_armed = true;
            let h = rule.hysteresis;
            match &rule.kind {
                RuleKind::Arbitrage {
                    min_net_bps,
                    min_profit,
                    min_lifetime: life,
                } => {
                    min_lifetime = *life;
                    for a in &snap.arbs {
                        if !(rule.wants_instrument(&[a.key, a.buy_instrument, a.sell_instrument])
                            && rule.wants_venue(&[a.buy_venue, a.sell_venue]))
                        {
                            continue;
                        }
                        let mut s = gate::at_least(a.net_bps, *min_net_bps, h);
                        // Profit gates firing; re-arming follows the spread.
                        s.holds &= a.profit >= *min_profit;
                        observed.push((
                            Seen {
                                subject: format!("{} {}→{}", a.key, a.buy_venue, a.sell_venue),
                                instrument: Some(a.key),
                                venue: Some(a.buy_venue),
                                // What to act on first (pair, venues, edge), prices
                                // last: a toast in a narrow status line is cut
                                // from the right.
                                text: format!(
                                    "{} {}→{}: {} bps net, profit {} on {} (buy @ {}, sell @ {})",
                                    a.key,
                                    a.buy_venue,
                                    a.sell_venue,
                                    dec(a.net_bps.round_dp(2)),
                                    dec(a.profit.round_dp(2)),
                                    size(a.size),
                                    dec(a.buy_vwap.round_dp(8)),
                                    dec(a.sell_vwap.round_dp(8)),
                                ),
                            },
                            s,
                        ));
                    }
                }
                RuleKind::Funding(FundingTrigger::Annual(pct)) => {
                    for r in &snap.derivatives.rows {
                        let (Some(venue), Some(instrument), Some(annual)) =
                            (r.venue, r.instrument, r.annual)
                        else {
                            continue;
                        };
                        let keys: Vec<Instrument> =
                            [Some(instrument), r.key].into_iter().flatten().collect();
                        if !(rule.wants_instrument(&keys) && rule.wants_venue(&[venue])) {
                            continue;
                        }
                        let Some(v) = Decimal::from_f64(annual * 100.0) else {
                            continue;
                        };
                        observed.push((
                            Seen {
                                subject: format!("{venue} {instrument}"),
                                instrument: Some(instrument),
                                venue: Some(venue),
                                text: format!(
                                    "{venue} {instrument} funding {}% annualised",
                                    dec(v.round_dp(2))
                                ),
                            },
                            gate::at_least(v.abs(), *pct, h),
                        ));
                    }
                }
                RuleKind::Funding(FundingTrigger::Differential(pct)) => {
                    let mut by_key: BTreeMap<Instrument, Vec<(Venue, f64)>> = BTreeMap::new();
                    for r in &snap.derivatives.rows {
                        if let (Some(venue), Some(key), Some(annual)) = (r.venue, r.key, r.annual)
                            && rule.wants_venue(&[venue])
                            && rule.wants_instrument(&[key])
                        {
                            by_key.entry(key).or_default().push((venue, annual));
                        }
                    }
                    for (key, rates) in by_key {
                        let lo = rates.iter().min_by(|a, b| a.1.total_cmp(&b.1));
                        let hi = rates.iter().max_by(|a, b| a.1.total_cmp(&b.1));
                        let (Some(lo), Some(hi)) = (lo, hi) else {
                            continue;
                        };
                        if rates.len() < 2 {
                            continue;
                        }
                        let Some(diff) = Decimal::from_f64((hi.1 - lo.1) * 100.0) else {
                            continue;
                        };
                        observed.push((
                            Seen {
                                subject: key.to_string(),
                                instrument: Some(key),
                                venue: None,
                                text: format!(
                                    "{key} funding differential {} pp annualised: {} {}% vs {} {}%",
                                    dec(diff.round_dp(2)),
                                    hi.0,
                                    dec(Decimal::from_f64(hi.1 * 100.0)
                                        .unwrap_or_default()
                                        .round_dp(2)),
                                    lo.0,
                                    dec(Decimal::from_f64(lo.1 * 100.0)
                                        .unwrap_or_default()
                                        .round_dp(2)),
                                ),
                            },
                            gate::at_least(diff, *pct, h),
                        ));
                    }
                }
                RuleKind::Price(trigger) => {
                    start_armed = !matches!(
                        trigger,
                        PriceTrigger::CrossesAbove(_) | PriceTrigger::CrossesBelow(_)
                    );
                    for view in &snap.instruments {
                        if !rule.wants_instrument(&[view.instrument]) {
                            continue;
                        }
                        let (Some(b), Some(a)) = (&view.cbbo.bid, &view.cbbo.ask) else {
                            continue;
                        };
                        let Some(mid) = crate::book::midpoint(a.price, b.price) else {
                            continue;
                        };
                        let subject = view.label.clone();
                        let seen = |text: String| Seen {
                            subject: subject.clone(),
                            instrument: Some(view.instrument),
                            venue: None,
                            text,
                        };
                        match trigger {
                            PriceTrigger::CrossesAbove(level) => observed.push((
                                seen(format!(
                                    "{subject} crossed above {}: mid {}",
                                    dec(*level),
                                    dec(mid)
                                )),
                                gate::at_least(mid, *level, h),
                            )),
                            PriceTrigger::CrossesBelow(level) => observed.push((
                                seen(format!(
                                    "{subject} crossed below {}: mid {}",
                                    dec(*level),
                                    dec(mid)
                                )),
                                gate::at_most(mid, *level, h),
                            )),
                            PriceTrigger::Moves { by, window } => {
                                let Some(&(_, first)) = self
                                    .mids
                                    .get(&view.instrument)
                                    .and_then(|m| m.iter().find(|(t, _)| now - t <= *window))
                                else {
                                    continue;
                                };
                                let Some(change) = mid.checked_sub(first) else {
                                    continue;
                                };
                                let (value, threshold, unit) = match by {
                                    Amount::Relative(p) => {
                                        let Some(pct) = gate::percent_of(change, first) else {
                                            continue;
                                        };
                                        (pct, *p, "%")
                                    }
                                    Amount::Absolute(x) => (change, *x, ""),
                                };
                                let sign = if change.is_sign_negative() { "" } else { "+" };
                                observed.push((
                                    seen(format!(
                                        "{subject} moved {sign}{}{unit} within {} s: {} → {}",
                                        dec(value.round_dp(4)),
                                        window / 1_000_000,
                                        dec(first),
                                        dec(mid)
                                    )),
                                    gate::at_least(value.abs(), threshold, h),
                                ));
                            }
                        }
                    }
                }
                RuleKind::CbboSpread(amount) => {
                    for view in &snap.instruments {
                        if !rule.wants_instrument(&[view.instrument]) {
                            continue;
                        }
                        let (Some(b), Some(a)) = (&view.cbbo.bid, &view.cbbo.ask) else {
                            continue;
                        };
                        if !rule.wants_venue(&[b.venue, a.venue]) {
                            continue;
                        }
                        let (value, threshold, unit) = match amount {
                            Amount::Relative(bps) => {
                                let Some(v) = view.cbbo.spread_bps() else {
                                    continue;
                                };
                                (v, *bps, " bps")
                            }
                            Amount::Absolute(x) => {
                                let Some(v) = a.price.checked_sub(b.price) else {
                                    continue;
                                };
                                (v, *x, "")
                            }
                        };
                        observed.push((
                            Seen {
                                subject: view.label.clone(),
                                instrument: Some(view.instrument),
                                venue: None,
                                text: format!(
                                    "{} CBBO spread {}{unit}: bid {} ({}) ask {} ({})",
                                    view.label,
                                    dec(value.round_dp(4)),
                                    dec(b.price),
                                    b.venue,
                                    dec(a.price),
                                    a.venue
                                ),
                            },
                            gate::at_least(value, threshold, h),
                        ));
                    }
                }
                RuleKind::Feed { trouble, for_s } => {
                    min_lifetime = *for_s;
                    let secs = for_s / 1_000_000;
                    match trouble {
                        FeedTrouble::OutOfSync | FeedTrouble::Stale => {
                            for b in snap.instruments.iter().flat_map(|v| &v.venues) {
                                if !(rule.wants_venue(&[b.venue])
                                    && rule.wants_instrument(&[b.instrument]))
                                {
                                    continue;
                                }
                                let stale =
                                    matches!(b.state, BookState::OutOfSync(OutOfSyncReason::Stale));
                                let holds = match trouble {
                                    FeedTrouble::Stale => stale,
                                    _ => matches!(b.state, BookState::OutOfSync(_)) && !stale,
                                };
                                let what = match &b.state {
                                    BookState::OutOfSync(r) => format!("{r:?}").to_lowercase(),
                                    other => other.label().to_string(),
                                };
                                observed.push((
                                    Seen {
                                        subject: format!("{} {}", b.venue, b.instrument),
                                        instrument: Some(b.instrument),
                                        venue: Some(b.venue),
                                        text: format!(
                                            "{} {} book {} for {secs} s or more ({what})",
                                            b.venue,
                                            b.instrument,
                                            trouble.label().replace('_', " ")
                                        ),
                                    },
                                    Standing {
                                        holds,
                                        cleared: b.state.is_usable(),
                                    },
                                ));
                            }
                        }
                        FeedTrouble::Disconnected => {
                            for c in &snap.health {
                                if !rule.wants_venue(&[c.venue]) {
                                    continue;
                                }
                                let (holds, why) = match &c.state {
                                    ConnState::Disconnected { reason } => (true, reason.clone()),
                                    ConnState::Backoff { reason, .. } => (true, reason.clone()),
                                    _ => (false, String::new()),
                                };
                                observed.push((
                                    Seen {
                                        subject: format!("{} {}", c.venue, c.conn),
                                        instrument: None,
                                        venue: Some(c.venue),
                                        text: format!(
                                            "{} connection down for {secs} s or more: {why}",
                                            c.venue
                                        ),
                                    },
                                    Standing {
                                        holds,
                                        cleared: matches!(
                                            c.state,
                                            ConnState::Connected | ConnState::Replay
                                        ),
                                    },
                                ));
                            }
                        }
                        FeedTrouble::ChecksumFailures { .. } => {}
                    }
                }
                RuleKind::Liquidation { .. }
                | RuleKind::LargeTrade { .. }
                | RuleKind::Spike { .. } => {}
            }
            let name = rule.name.clone();
            for (seen, standing) in observed {
                let key = (name.clone(), seen.subject.clone());
                let gate = self.gates.entry(key.clone()).or_insert(if start_armed {
                    Gate::armed()
                } else {
                    Gate::disarmed()
                });
                touched.insert(key);
                if gate.step(standing, now, min_lifetime) {
                    out.push(self.fire(i, seen, now));
                }
            }
        }
        // Subjects no longer there (closed, removed) are cleared.
        for (key, gate) in &mut self.gates {
            if !touched.contains(key) {
                gate.step(Standing::GONE, now, 0);
            }
        }
        self.cooldowns.prune(now, COOLDOWN_HORIZON);
        out
    }

    /// Keeps the CBBO mid history `price` move rules look back on.
    fn record_mids(&mut self, snap: &Snapshot) {
        let window = self
            .rules
            .iter()
            .filter(|r| r.enabled)
            .filter_map(|r| match r.kind {
                RuleKind::Price(PriceTrigger::Moves { window, .. }) => Some(window),
                _ => None,
            })
            .max();
        let Some(window) = window else {
            self.mids.clear();
            return;
        };
        for view in &snap.instruments {
            let (Some(b), Some(a)) = (&view.cbbo.bid, &view.cbbo.ask) else {
                continue;
            };
            let Some(mid) = crate::book::midpoint(a.price, b.price) else {
                continue;
            };
            let m = self.mids.entry(view.instrument).or_default();
            if m.back().is_none_or(|(t, _)| *t < snap.now) {
                m.push_back((snap.now, mid));
            }
            while m
                .front()
                .is_some_and(|(t, _)| snap.now.saturating_sub(*t) > window)
            {
                m.pop_front();
            }
        }
    }

    /// The alert for what rule `i` saw, unless its key is cooling down.
    fn fire(&mut self, i: usize, seen: Seen, at: Micros) -> Verdict {
        let rule = &self.rules[i];
        let instrument = seen.instrument.map(|i| i.to_string()).unwrap_or_default();
        let venue = seen.venue.map(|v| v.to_string()).unwrap_or_default();
        let key = gate::dedup_key(
            &rule.dedup_key,
            &[
                ("rule", &rule.name),
                ("kind", rule.kind.name()),
                ("subject", &seen.subject),
                ("instrument", &instrument),
                ("venue", &venue),
            ],
        );
        if let Err(reason) = self.cooldowns.admit(&key, &rule.name, at, rule.cooldown) {
            return Verdict::Held {
                rule: rule.name.clone(),
                subject: seen.subject,
                reason,
            };
        }
        let id = self.next_id;
        self.next_id += 1;
        Verdict::Fire(Alert {
            id,
            at,
            rule: rule.name.clone(),
            kind: rule.kind.name(),
            severity: rule.severity,
            subject: seen.subject,
            instrument: seen.instrument,
            venue: seen.venue,
            text: seen.text,
            dedup_key: key,
            muted: rule.muted,
        })
    }
}

#[cfg(test)]
mod tests;
