//! `[[alerts]]`: one rule per table. The shared keys first, then the keys of
//! the rule's kind; a key of another kind is an error (it would silently do
//! nothing), and so is a kind missing its threshold.

use std::collections::BTreeMap;
use std::ops::Range;

use rust_decimal::Decimal;
use toml::Spanned;

use super::checker::Checker;
use super::line_col;
use crate::alerts::rule::{
    Amount, FeedTrouble, FundingTrigger, PriceTrigger, Rule, RuleKind, Severity,
};
use crate::config::file::{AlertFile, Number};
use crate::engine::derivs::SpikeMetric;
use crate::model::{LiquidatedSide, Micros, TakerSide};

/// Destination names a rule may list.
pub const DESTINATIONS: [&str; 7] = [
    "app", "bell", "desktop", "webhook", "telegram", "discord", "slack",
];

/// Which kind-specific keys each kind takes.
fn keys_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "arbitrage" => &["min_net_bps", "min_profit", "min_lifetime_s"],
        "liquidation" | "large_trade" => &["min_notional_usd", "side"],
        "spike" => &["metric", "min_z"],
        "funding" => &["min_annual_pct", "min_diff_pct"],
        "price" => &["above", "below", "move_pct", "move_abs", "window_s"],
        "cbbo_spread" => &["min_bps", "min_abs"],
        "feed" => &["trouble", "for_s", "min_count", "window_s"],
        _ => &[],
    }
}

fn seconds(s: f64) -> Micros {
    (s * 1e6).round() as Micros
}

impl Checker<'_> {
    pub(super) fn alerts(&mut self, tables: Vec<Spanned<AlertFile>>) -> Vec<Rule> {
        let mut out = Vec::new();
        let mut names: BTreeMap<String, Range<usize>> = BTreeMap::new();
        for table in tables {
            let span = table.span();
            let a = table.into_inner();
            let Some(name) = &a.name else {
                self.error(span, "[[alerts]] needs a `name`");
                continue;
            };
            let n = name.get_ref().trim();
            if n.is_empty() || n.chars().any(|c| c.is_control()) {
                self.error(
                    name.span(),
                    "an alert name must be non-empty text on one line",
                );
                continue;
            }
            if let Some(first) = names.get(n) {
                let (l, c) = line_col(self.text, first.start);
                self.error(
                    name.span(),
                    format!("duplicate alert name \"{n}\" (first at {l}:{c})"),
                );
                continue;
            }
            names.insert(n.to_string(), name.span());
            if let Some(rule) = self.alert(n, span, &a) {
                out.push(rule);
            }
        }
        out
    }

    fn alert(&mut self, name: &str, span: Range<usize>, a: &AlertFile) -> Option<Rule> {
        let Some(kind_text) = &a.kind else {
            self.error(
                span,
                format!(
                    "alert \"{name}\" needs a `kind` (one of {})",
                    RuleKind::NAMES.join(", ")
                ),
            );
            return None;
        };
        let kind_name = kind_text.get_ref().trim().to_ascii_lowercase();
        if !RuleKind::NAMES.contains(&kind_name.as_str()) {
            self.error(
                kind_text.span(),
                format!(
                    "unknown alert kind \"{}\" (expected one of {})",
                    kind_text.get_ref(),
                    RuleKind::NAMES.join(", ")
                ),
            );
            return None;
        }
        let before = self.diagnostics.len();
        self.foreign_keys(a, &kind_name);
        let kind = self.kind(&kind_name, span.clone(), a)?;
        let mut rule = Rule::new(name, kind);
        if let Some(s) = &a.severity {
            match Severity::parse(s.get_ref()) {
                Some(v) => rule.severity = v,
                None => self.error(
                    s.span(),
                    format!(
                        "unknown severity \"{}\" (expected info, warning or critical)",
                        s.get_ref()
                    ),
                ),
            }
        }
        if let Some(v) = &a.cooldown_s {
            rule.cooldown = seconds(self.non_negative(v, "cooldown_s"));
        }
        if let Some(d) = &a.dedup_key {
            if d.get_ref().trim().is_empty() {
                self.error(d.span(), "dedup_key must not be empty");
            }
            rule.dedup_key = d.get_ref().clone();
        }
        if let Some(h) = &a.hysteresis {
            rule.hysteresis = self.decimal_at_least(h, "hysteresis", Decimal::ZERO);
        }
        for i in a.instruments.iter().flatten() {
            if let Some(i) = self.instrument(i) {
                rule.instruments.push(i);
            }
        }
        if let Some(v) = &a.venues {
            rule.venues = self.venues(v);
        }
        for d in a.destinations.iter().flatten() {
            let name = d.get_ref().trim().to_ascii_lowercase();
            if DESTINATIONS.contains(&name.as_str()) {
                rule.destinations.push(name);
            } else {
                self.error(
                    d.span(),
                    format!(
                        "unknown destination \"{}\" (expected one of {})",
                        d.get_ref(),
                        DESTINATIONS.join(", ")
                    ),
                );
            }
        }
        rule.enabled = a.enabled.unwrap_or(true);
        rule.muted = a.muted.unwrap_or(false);
        (self.diagnostics.len() == before).then_some(rule)
    }

    /// Keys given that the kind does not use.
    fn foreign_keys(&mut self, a: &AlertFile, kind: &str) {
        let own = keys_of(kind);
        let spans: [(&str, Option<Range<usize>>); 19] = [
            ("min_net_bps", a.min_net_bps.as_ref().map(Spanned::span)),
            ("min_profit", a.min_profit.as_ref().map(Spanned::span)),
            (
                "min_lifetime_s",
                a.min_lifetime_s.as_ref().map(Spanned::span),
            ),
            (
                "min_notional_usd",
                a.min_notional_usd.as_ref().map(Spanned::span),
            ),
            ("side", a.side.as_ref().map(Spanned::span)),
            ("metric", a.metric.as_ref().map(Spanned::span)),
            ("min_z", a.min_z.as_ref().map(Spanned::span)),
            (
                "min_annual_pct",
                a.min_annual_pct.as_ref().map(Spanned::span),
            ),
            ("min_diff_pct", a.min_diff_pct.as_ref().map(Spanned::span)),
            ("above", a.above.as_ref().map(Spanned::span)),
            ("below", a.below.as_ref().map(Spanned::span)),
            ("move_pct", a.move_pct.as_ref().map(Spanned::span)),
            ("move_abs", a.move_abs.as_ref().map(Spanned::span)),
            ("window_s", a.window_s.as_ref().map(Spanned::span)),
            ("min_bps", a.min_bps.as_ref().map(Spanned::span)),
            ("min_abs", a.min_abs.as_ref().map(Spanned::span)),
            ("trouble", a.trouble.as_ref().map(Spanned::span)),
            ("for_s", a.for_s.as_ref().map(Spanned::span)),
            ("min_count", a.min_count.as_ref().map(Spanned::span)),
        ];
        for (key, span) in spans {
            if let Some(span) = span
                && !own.contains(&key)
            {
                self.error(
                    span,
                    format!(
                        "`{key}` does not apply to kind \"{kind}\" (its keys: {})",
                        own.join(", ")
                    ),
                );
            }
        }
    }

    /// Exactly one of the given keys.
    /// A filter key naming one of `options` (case-insensitive), or `any`
    /// (and absent) for no filter; anything else is an error at its span.
    fn choice<T: Copy>(
        &mut self,
        value: &Option<Spanned<String>>,
        key: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let v = value.as_ref()?;
        let word = v.get_ref().trim().to_ascii_lowercase();
        if word == "any" {
            return None;
        }
        let found = options
            .iter()
            .find(|(name, _)| *name == word)
            .map(|(_, t)| *t);
        if found.is_none() {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            self.error(
                v.span(),
                format!("{key} must be {} or any", names.join(", ")),
            );
        }
        found
    }

    fn one_of<'v>(
        &mut self,
        span: &Range<usize>,
        kind: &str,
        options: &[(&str, Option<&'v Spanned<Number>>)],
    ) -> Option<(&'static str, &'v Spanned<Number>)> {
        let given: Vec<(&str, &Spanned<Number>)> = options
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, v)))
            .collect();
        let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
        match given[..] {
            [(k, v)] => {
                let k = keys_of(kind).iter().find(|o| **o == k).copied()?;
                Some((k, v))
            }
            [] => {
                self.error(
                    span.clone(),
                    format!("a {kind} alert needs one of {}", names.join(", ")),
                );
                None
            }
            [_, (_, second), ..] => {
                self.error(
                    second.span(),
                    format!("a {kind} alert takes only one of {}", names.join(", ")),
                );
                None
            }
        }
    }

    fn kind(&mut self, kind: &str, span: Range<usize>, a: &AlertFile) -> Option<RuleKind> {
        let num = |v: &Spanned<Number>| v.get_ref().0;
        Some(match kind {
            "arbitrage" => RuleKind::Arbitrage {
                min_net_bps: match &a.min_net_bps {
                    Some(v) => self.decimal_at_least(v, "min_net_bps", Decimal::from(-10_000)),
                    None => Decimal::ZERO,
                },
                min_profit: match &a.min_profit {
                    Some(v) => self.decimal_at_least(v, "min_profit", Decimal::ZERO),
                    None => Decimal::ZERO,
                },
                min_lifetime: a
                    .min_lifetime_s
                    .as_ref()
                    .map_or(0, |v| seconds(self.non_negative(v, "min_lifetime_s"))),
            },
            "liquidation" => RuleKind::Liquidation {
                min_notional_usd: a
                    .min_notional_usd
                    .as_ref()
                    .map_or(0.0, |v| self.non_negative(v, "min_notional_usd")),
                side: self.choice(
                    &a.side,
                    "side",
                    &[
                        ("long", LiquidatedSide::Long),
                        ("short", LiquidatedSide::Short),
                    ],
                ),
            },
            "large_trade" => RuleKind::LargeTrade {
                min_notional_usd: a
                    .min_notional_usd
                    .as_ref()
                    .map_or(0.0, |v| self.non_negative(v, "min_notional_usd")),
                side: self.choice(
                    &a.side,
                    "side",
                    &[("buy", TakerSide::Buy), ("sell", TakerSide::Sell)],
                ),
            },
            "spike" => RuleKind::Spike {
                metric: self.choice(
                    &a.metric,
                    "metric",
                    &[
                        ("open_interest", SpikeMetric::OpenInterest),
                        ("volume", SpikeMetric::Volume),
                    ],
                ),
                min_z: a
                    .min_z
                    .as_ref()
                    .map_or(3.0, |v| self.positive_at_most(v, "min_z", 100.0)),
            },
            "funding" => {
                let (key, v) = self.one_of(
                    &span,
                    kind,
                    &[
                        ("min_annual_pct", a.min_annual_pct.as_ref()),
                        ("min_diff_pct", a.min_diff_pct.as_ref()),
                    ],
                )?;
                let x = self.decimal_at_least(v, key, Decimal::ZERO);
                RuleKind::Funding(if key == "min_annual_pct" {
                    FundingTrigger::Annual(x)
                } else {
                    FundingTrigger::Differential(x)
                })
            }
            "price" => {
                let (key, v) = self.one_of(
                    &span,
                    kind,
                    &[
                        ("above", a.above.as_ref()),
                        ("below", a.below.as_ref()),
                        ("move_pct", a.move_pct.as_ref()),
                        ("move_abs", a.move_abs.as_ref()),
                    ],
                )?;
                let moves = key.starts_with("move");
                match (&a.window_s, moves) {
                    (Some(w), false) => {
                        self.error(w.span(), "window_s goes with move_pct or move_abs");
                    }
                    (None, true) => {
                        self.error(span.clone(), format!("{key} needs window_s (seconds)"));
                    }
                    _ => {}
                }
                let window = a.window_s.as_ref().map_or(0, |w| {
                    seconds(self.positive_at_most(w, "window_s", 86_400.0))
                });
                match key {
                    "above" => PriceTrigger::CrossesAbove(num(v)),
                    "below" => PriceTrigger::CrossesBelow(num(v)),
                    "move_pct" => PriceTrigger::Moves {
                        by: Amount::Relative(self.positive_decimal(v, key)),
                        window,
                    },
                    _ => PriceTrigger::Moves {
                        by: Amount::Absolute(self.positive_decimal(v, key)),
                        window,
                    },
                }
                .into()
            }
            "cbbo_spread" => {
                let (key, v) = self.one_of(
                    &span,
                    kind,
                    &[
                        ("min_bps", a.min_bps.as_ref()),
                        ("min_abs", a.min_abs.as_ref()),
                    ],
                )?;
                RuleKind::CbboSpread(if key == "min_bps" {
                    Amount::Relative(num(v))
                } else {
                    Amount::Absolute(num(v))
                })
            }
            "feed" => {
                let Some(t) = &a.trouble else {
                    self.error(
                        span,
                        "a feed alert needs `trouble` (out_of_sync, stale, disconnected or checksum)",
                    );
                    return None;
                };
                let for_s = a
                    .for_s
                    .as_ref()
                    .map_or(0, |v| seconds(self.non_negative(v, "for_s")));
                let trouble = match t.get_ref().trim().to_ascii_lowercase().as_str() {
                    "out_of_sync" => FeedTrouble::OutOfSync,
                    "stale" => FeedTrouble::Stale,
                    "disconnected" => FeedTrouble::Disconnected,
                    "checksum" => FeedTrouble::ChecksumFailures {
                        min_count: a
                            .min_count
                            .as_ref()
                            .map_or(1, |v| self.count(v, "min_count", 1..=1_000_000) as u32),
                        window: a.window_s.as_ref().map_or(60_000_000, |w| {
                            seconds(self.positive_at_most(w, "window_s", 86_400.0))
                        }),
                    },
                    _ => {
                        self.error(
                            t.span(),
                            format!(
                                "unknown trouble \"{}\" (expected out_of_sync, stale, disconnected or checksum)",
                                t.get_ref()
                            ),
                        );
                        return None;
                    }
                };
                if !matches!(trouble, FeedTrouble::ChecksumFailures { .. }) {
                    for (key, s) in [
                        ("min_count", a.min_count.as_ref().map(Spanned::span)),
                        ("window_s", a.window_s.as_ref().map(Spanned::span)),
                    ] {
                        if let Some(s) = s {
                            self.error(s, format!("{key} goes with trouble = \"checksum\""));
                        }
                    }
                }
                RuleKind::Feed { trouble, for_s }
            }
            _ => return None,
        })
    }

    fn positive_decimal(&mut self, v: &Spanned<Number>, key: &str) -> Decimal {
        let x = v.get_ref().0;
        if x <= Decimal::ZERO {
            self.error(v.span(), format!("{key} must be above 0, got {x}"));
        }
        x
    }
}

impl From<PriceTrigger> for RuleKind {
    fn from(t: PriceTrigger) -> RuleKind {
        RuleKind::Price(t)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rust_decimal_macros::dec;

    use super::super::check;
    use super::*;

    /// The example's rules, commented out there, with the `# ` taken off.
    pub(crate) fn example_rules() -> String {
        let text = crate::config::edit::EXAMPLE;
        let start = text.find("# [[alerts]]").expect("the example shows rules");
        let end = text[start..].find("\n\n").map_or(text.len(), |n| start + n);
        text[start..end]
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| {
                l.starts_with("[[alerts]]")
                    || l.split_once(" = ").is_some_and(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    })
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_examples_rules_parse_and_cover_every_kind() {
        let c = check(&example_rules(), Path::new("example.toml")).unwrap();
        assert_eq!(c.alerts.len(), 12);
        for kind in RuleKind::NAMES {
            assert!(
                c.alerts.iter().any(|r| r.kind.name() == kind),
                "no example of {kind}"
            );
        }
        let arb = &c.alerts[0];
        assert_eq!(
            arb.kind,
            RuleKind::Arbitrage {
                min_net_bps: dec!(5),
                min_profit: dec!(10),
                min_lifetime: 3_000_000
            }
        );
        assert_eq!(arb.severity, Severity::Critical);
        assert_eq!(arb.hysteresis, dec!(2));
        assert_eq!(arb.venues.len(), 3);
        let liq = &c.alerts[1];
        assert_eq!(liq.dedup_key, "liq:{instrument}");
        assert_eq!(liq.cooldown, 60_000_000);
        assert!(c.alerts.iter().any(|r| r.kind
            == RuleKind::Price(PriceTrigger::Moves {
                by: Amount::Relative(dec!(2)),
                window: 300_000_000
            })));
    }

    fn errors(text: &str) -> Vec<String> {
        check(text, Path::new("a.toml"))
            .unwrap_err()
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn filter_words_name_their_choices() {
        let e = errors("[[alerts]]\nname = \"x\"\nkind = \"large_trade\"\nside = \"long\"\n");
        assert!(
            e[0].contains(":4:8") && e[0].contains("side must be buy, sell or any"),
            "{e:?}"
        );
        let e = errors("[[alerts]]\nname = \"x\"\nkind = \"spike\"\nmetric = \"price\"\n");
        assert!(
            e[0].contains("metric must be open_interest, volume or any"),
            "{e:?}"
        );
        let e = errors("[[alerts]]\nname = \"x\"\nkind = \"liquidation\"\nside = \"buy\"\n");
        assert!(e[0].contains("side must be long, short or any"), "{e:?}");
        // Case and `any` are accepted.
        let ok = "[[alerts]]\nname = \"x\"\nkind = \"liquidation\"\nside = \"Long\"\n\n[[alerts]]\nname = \"y\"\nkind = \"spike\"\nmetric = \"any\"\n";
        assert!(check(ok, Path::new("a.toml")).is_ok());
    }

    #[test]
    fn mistakes_are_pointed_at() {
        let e = errors("[[alerts]]\nname = \"x\"\nkind = \"pricey\"\n");
        assert!(
            e[0].contains("a.toml:3:8") && e[0].contains("unknown alert kind"),
            "{e:?}"
        );
        let e = errors("[[alerts]]\nname = \"x\"\nkind = \"arbitrage\"\nabove = 5\n");
        assert!(
            e[0].contains(":4:9") && e[0].contains("`above` does not apply to kind \"arbitrage\""),
            "{e:?}"
        );
        let e = errors("[[alerts]]\nname = \"x\"\nkind = \"price\"\n");
        assert!(
            e[0].contains("needs one of above, below, move_pct, move_abs"),
            "{e:?}"
        );
        let e = errors("[[alerts]]\nname = \"x\"\nkind = \"price\"\nabove = 1\nbelow = 2\n");
        assert!(
            e[0].contains(":5:9") && e[0].contains("only one of"),
            "{e:?}"
        );
        let e = errors("[[alerts]]\nname = \"x\"\nkind = \"price\"\nmove_pct = 1\n");
        assert!(e[0].contains("needs window_s"), "{e:?}");
        let e = errors(
            "[[alerts]]\nname = \"x\"\nkind = \"feed\"\ntrouble = \"stale\"\n\n[[alerts]]\nname = \"x\"\nkind = \"feed\"\ntrouble = \"stale\"\n",
        );
        assert!(
            e[0].contains(":7:8") && e[0].contains("duplicate alert name \"x\" (first at 2:8)"),
            "{e:?}"
        );
        let e = errors("[[alerts]]\nkind = \"feed\"\n");
        assert!(e[0].contains("needs a `name`"), "{e:?}");
        let e = errors(
            "[[alerts]]\nname = \"x\"\nkind = \"liquidation\"\nside = \"up\"\nseverity = \"loud\"\ndestinations = [\"pager\"]\nvenues = [\"nowhere\"]\n",
        );
        assert_eq!(e.len(), 4, "{e:?}");
        let e = errors(
            "[[alerts]]\nname = \"x\"\nkind = \"feed\"\ntrouble = \"stale\"\nmin_count = 2\n",
        );
        assert!(e[0].contains("goes with trouble = \"checksum\""), "{e:?}");
        let e = errors("[[alerts]]\nname = \"x\"\nkind = \"spike\"\nbogus = 1\n");
        assert!(e[0].contains("bogus"), "{e:?}");
    }

    #[test]
    fn defaults_of_the_shared_keys() {
        let c = check(
            "[[alerts]]\nname = \"down\"\nkind = \"feed\"\ntrouble = \"disconnected\"\nfor_s = 5\nmuted = true\n",
            Path::new("a.toml"),
        )
        .unwrap();
        let r = &c.alerts[0];
        assert_eq!(
            r.kind,
            RuleKind::Feed {
                trouble: FeedTrouble::Disconnected,
                for_s: 5_000_000
            }
        );
        assert!(r.enabled && r.muted);
        assert_eq!(r.severity, Severity::Warning);
        assert!(r.destinations.is_empty() && r.instruments.is_empty());
    }
}
