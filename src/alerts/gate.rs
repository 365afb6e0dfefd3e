//! The pure pieces of rule evaluation: thresholds (with their hysteresis
//! band), the gate that turns a lasting condition into one alert (minimum
//! lifetime, re-arming), and cooldowns per deduplication key.
//!
//! Time is the engine's clock in microseconds, passed in: nothing here reads
//! a clock, so every case is tested without waiting.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::model::Micros;

/// Where a value stands against a threshold: `holds` when the condition is
/// met, `cleared` when it is back past the threshold by the hysteresis
/// margin (only then may the rule fire again). In between, neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub holds: bool,
    pub cleared: bool,
}

impl Standing {
    /// Not observed at all (the opportunity closed, the book went away).
    pub const GONE: Standing = Standing {
        holds: false,
        cleared: true,
    };
}

/// `value ≥ threshold`; cleared below `threshold − margin`.
pub fn at_least(value: Decimal, threshold: Decimal, margin: Decimal) -> Standing {
    let floor = threshold.checked_sub(margin.abs()).unwrap_or(Decimal::MIN);
    Standing {
        holds: value >= threshold,
        cleared: value < floor,
    }
}

/// `value ≤ threshold`; cleared above `threshold + margin`.
pub fn at_most(value: Decimal, threshold: Decimal, margin: Decimal) -> Standing {
    let ceiling = threshold.checked_add(margin.abs()).unwrap_or(Decimal::MAX);
    Standing {
        holds: value <= threshold,
        cleared: value > ceiling,
    }
}

/// Both conditions hold; cleared when either is cleared.
pub fn both(a: Standing, b: Standing) -> Standing {
    Standing {
        holds: a.holds && b.holds,
        cleared: a.cleared || b.cleared,
    }
}

/// `part` as a percentage of `whole` (`None` for a zero whole or a figure
/// that does not fit).
pub fn percent_of(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        return None;
    }
    part.checked_mul(Decimal::ONE_HUNDRED)?.checked_div(whole)
}

/// One lasting condition of one rule and subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gate {
    /// May fire the next time the condition has held long enough.
    armed: bool,
    /// Since when the condition has held (while armed).
    since: Option<Micros>,
}

impl Gate {
    /// Armed from the start: a condition that already holds fires.
    pub fn armed() -> Gate {
        Gate {
            armed: true,
            since: None,
        }
    }

    /// Armed only after the condition was first seen cleared: for
    /// "crosses" rules, where starting above the level is no crossing.
    pub fn disarmed() -> Gate {
        Gate {
            armed: false,
            since: None,
        }
    }

    pub fn is_armed(&self) -> bool {
        self.armed
    }

    /// Feeds one observation; true when the alert fires now. It fires once
    /// the condition has held without a break for `min_lifetime`, then not
    /// again until the condition has cleared.
    pub fn step(&mut self, s: Standing, at: Micros, min_lifetime: Micros) -> bool {
        if !self.armed {
            if s.cleared {
                self.armed = true;
                self.since = None;
            }
            return false;
        }
        if !s.holds {
            self.since = None;
            return false;
        }
        let since = *self.since.get_or_insert(at);
        if at.saturating_sub(since) >= min_lifetime {
            self.armed = false;
            self.since = None;
            true
        } else {
            false
        }
    }
}

/// Why an alert that qualified was not delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    /// This rule already alerted on the same key within its cooldown.
    Cooldown { ago: Micros },
    /// Another rule alerted on the same key within this rule's cooldown.
    Duplicate { of: String, ago: Micros },
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Held::Cooldown { ago } => write!(f, "cooldown (last alert {} s ago)", ago / 1_000_000),
            Held::Duplicate { of, ago } => write!(
                f,
                "duplicate of rule {of} ({} s ago, same key)",
                ago / 1_000_000
            ),
        }
    }
}

/// The last alert per deduplication key.
#[derive(Clone, Debug, Default)]
pub struct Cooldowns {
    last: HashMap<String, (Micros, String)>,
}

impl Cooldowns {
    /// Lets an alert of `rule` on `key` through (and remembers it) unless
    /// one on the same key came within `cooldown`.
    pub fn admit(
        &mut self,
        key: &str,
        rule: &str,
        at: Micros,
        cooldown: Micros,
    ) -> Result<(), Held> {
        if let Some((t, by)) = self.last.get(key) {
            let ago = at.saturating_sub(*t);
            if ago < cooldown {
                return Err(if by == rule {
                    Held::Cooldown { ago }
                } else {
                    Held::Duplicate {
                        of: by.clone(),
                        ago,
                    }
                });
            }
        }
        self.last.insert(key.to_string(), (at, rule.to_string()));
        Ok(())
    }

    /// Forgets keys quiet for longer than `horizon` (bounded memory).
    pub fn prune(&mut self, now: Micros, horizon: Micros) {
        self.last
            .retain(|_, (t, _)| now.saturating_sub(*t) < horizon);
    }
}

/// Fills a deduplication-key template.
pub fn dedup_key(template: &str, fields: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in fields {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const S: Micros = 1_000_000;

    #[test]
    fn percent_and_absolute_thresholds() {
        // Absolute: 10 bps at least, margin 2.
        assert_eq!(
            at_least(dec!(10), dec!(10), dec!(2)),
            Standing {
                holds: true,
                cleared: false
            }
        );
        assert!(!at_least(dec!(9), dec!(10), dec!(2)).holds);
        assert!(!at_least(dec!(9), dec!(10), dec!(2)).cleared, "in the band");
        assert!(at_least(dec!(7.99), dec!(10), dec!(2)).cleared);
        assert!(at_most(dec!(60000), dec!(60000), dec!(50)).holds);
        assert!(!at_most(dec!(60040), dec!(60000), dec!(50)).cleared);
        assert!(at_most(dec!(60051), dec!(60000), dec!(50)).cleared);
        // Percent: a move of 150 on 60000 is 0.25%.
        let pct = percent_of(dec!(150), dec!(60000)).unwrap();
        assert_eq!(pct, dec!(0.25));
        assert!(at_least(pct, dec!(0.25), dec!(0.05)).holds);
        assert!(!at_least(pct, dec!(0.3), dec!(0.05)).holds);
        assert_eq!(percent_of(dec!(1), Decimal::ZERO), None);
        assert_eq!(percent_of(Decimal::MAX, dec!(0.5)), None, "does not fit");
        // Extreme thresholds never panic.
        assert!(at_least(Decimal::MIN, Decimal::MIN, Decimal::MAX).holds);
        assert!(!at_most(Decimal::MAX, Decimal::MAX, Decimal::MAX).cleared);
    }

    #[test]
    fn both_conditions_must_hold() {
        let net = at_least(dec!(12), dec!(10), dec!(0));
        let profit = at_least(dec!(0.5), dec!(1), dec!(0));
        assert!(!both(net, profit).holds);
        assert!(both(net, profit).cleared, "profit below its minimum");
        assert!(both(net, at_least(dec!(2), dec!(1), dec!(0))).holds);
    }

    #[test]
    fn min_lifetime_needs_an_unbroken_run() {
        let mut g = Gate::armed();
        let on = at_least(dec!(11), dec!(10), dec!(1));
        let dip = at_least(dec!(9.5), dec!(10), dec!(1));
        assert!(!g.step(on, 0, 3 * S));
        assert!(!g.step(on, 2 * S, 3 * S));
        // A dip below the threshold restarts the clock.
        assert!(!g.step(dip, 2 * S + 1, 3 * S));
        assert!(!g.step(on, 3 * S, 3 * S));
        assert!(!g.step(on, 5 * S, 3 * S));
        assert!(g.step(on, 6 * S, 3 * S), "held 3 s without a break");
        assert!(!g.step(on, 7 * S, 3 * S), "once per episode");
        // No lifetime: the first observation fires.
        assert!(Gate::armed().step(on, 0, 0));
    }

    #[test]
    fn hysteresis_on_a_value_hovering_at_the_threshold() {
        let mut g = Gate::armed();
        let mut fired = 0;
        // 10.0, 9.9, 10.0, 9.9, ... with a 0.5 margin: fires once.
        for n in 0..100 {
            let v = if n % 2 == 0 { dec!(10.0) } else { dec!(9.9) };
            if g.step(at_least(v, dec!(10), dec!(0.5)), n * S, 0) {
                fired += 1;
            }
        }
        assert_eq!(fired, 1);
        // Without hysteresis the same hovering fires on every return.
        let mut g = Gate::armed();
        let mut fired = 0;
        for n in 0..100 {
            let v = if n % 2 == 0 { dec!(10.0) } else { dec!(9.9) };
            if g.step(at_least(v, dec!(10), dec!(0)), n * S, 0) {
                fired += 1;
            }
        }
        assert_eq!(fired, 50);
        // Falling past the margin re-arms it.
        let mut g = Gate::armed();
        assert!(g.step(at_least(dec!(10), dec!(10), dec!(0.5)), 0, 0));
        assert!(!g.step(at_least(dec!(9.6), dec!(10), dec!(0.5)), 1, 0));
        assert!(!g.is_armed());
        assert!(!g.step(at_least(dec!(9.4), dec!(10), dec!(0.5)), 2, 0));
        assert!(g.is_armed());
        assert!(g.step(at_least(dec!(10.1), dec!(10), dec!(0.5)), 3, 0));
    }

    #[test]
    fn crossing_gates_start_disarmed() {
        let mut g = Gate::disarmed();
        let above = at_least(dec!(70100), dec!(70000), dec!(0));
        assert!(!g.step(above, 0, 0), "starting above is no crossing");
        assert!(!g.step(at_least(dec!(69000), dec!(70000), dec!(0)), S, 0));
        assert!(g.step(above, 2 * S, 0));
        assert!(!g.step(Standing::GONE, 3 * S, 0));
        assert!(g.is_armed(), "gone counts as cleared");
    }

    #[test]
    fn cooldown_and_dedup_per_key() {
        let mut c = Cooldowns::default();
        assert_eq!(c.admit("liq:binance BTC", "liq", 0, 60 * S), Ok(()));
        assert_eq!(
            c.admit("liq:binance BTC", "liq", 10 * S, 60 * S),
            Err(Held::Cooldown { ago: 10 * S })
        );
        // Another key is independent.
        assert_eq!(c.admit("liq:okx BTC", "liq", 10 * S, 60 * S), Ok(()));
        // Another rule with the same key is a duplicate.
        let held = c.admit("liq:binance BTC", "big-liq", 20 * S, 60 * S);
        assert_eq!(
            held,
            Err(Held::Duplicate {
                of: "liq".into(),
                ago: 20 * S
            })
        );
        assert_eq!(
            held.unwrap_err().to_string(),
            "duplicate of rule liq (20 s ago, same key)"
        );
        // After the cooldown it goes through again.
        assert_eq!(c.admit("liq:binance BTC", "liq", 60 * S, 60 * S), Ok(()));
        c.prune(200 * S, 100 * S);
        assert!(c.last.is_empty());
    }

    #[test]
    fn dedup_templates() {
        let key = dedup_key(
            "{kind}:{instrument}",
            &[("kind", "price"), ("instrument", "BTC-USDT"), ("rule", "r")],
        );
        assert_eq!(key, "price:BTC-USDT");
        assert_eq!(
            dedup_key(
                super::super::rule::DEFAULT_DEDUP_KEY,
                &[("rule", "a"), ("subject", "b")]
            ),
            "a:b"
        );
    }
}
