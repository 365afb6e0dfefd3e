//! The checker: turns the file as serde read it into a [`Config`], one
//! section at a time, collecting every problem with its span. The shared
//! checks (venues, instruments, numbers in range) and the small sections
//! live here; the watchlist, the per-venue tables and `[ui]` have their own
//! files.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use rust_decimal::Decimal;
use toml::Spanned;

use super::{Diagnostic, line_col};
use crate::config::Config;
use crate::config::file::{ConfigFile, Number, Text};
use crate::model::{Asset, Instrument, Venue};

pub(super) struct Checker<'a> {
    pub(super) text: &'a str,
    pub(super) path: &'a Path,
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) notes: Vec<Diagnostic>,
}

pub(super) fn venue_list() -> String {
    Venue::all()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Checker<'_> {
    fn diagnostic(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let (line, column) = line_col(self.text, span.start);
        Diagnostic {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    pub(super) fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let d = self.diagnostic(span, message);
        self.diagnostics.push(d);
    }

    pub(super) fn note(&mut self, span: Range<usize>, message: impl Into<String>) {
        let d = self.diagnostic(span, message);
        self.notes.push(d);
    }

    pub(super) fn venue(&mut self, name: &Text) -> Option<Venue> {
        match name.get_ref().parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.error(
                    name.span(),
                    format!(
                        "unknown venue \"{}\" (expected one of {})",
                        name.get_ref(),
                        venue_list()
                    ),
                );
                None
            }
        }
    }

    pub(super) fn venues(&mut self, names: &[Text]) -> Vec<Venue> {
        let mut seen: BTreeMap<Venue, Range<usize>> = BTreeMap::new();
        let mut out = Vec::new();
        for name in names {
            let Some(v) = self.venue(name) else { continue };
            if let Some(first) = seen.get(&v) {
                let (l, c) = line_col(self.text, first.start);
                self.error(
                    name.span(),
                    format!("duplicate venue \"{v}\" (first at {l}:{c})"),
                );
                continue;
            }
            seen.insert(v, name.span());
            out.push(v);
        }
        out
    }

    pub(super) fn instrument(&mut self, name: &Text) -> Option<Instrument> {
        match name.get_ref().parse::<Instrument>() {
            Ok(i) => Some(i),
            Err(e) => {
                self.error(name.span(), format!("malformed instrument: {e}"));
                None
            }
        }
    }

    pub(super) fn build(&mut self, file: ConfigFile) -> Config {
        let mut config = Config::default();
        if let Some(w) = file.watchlist {
            self.watchlist(w, &mut config);
        }
        if let Some(groups) = file.quote_groups {
            config.quote_groups = self.quote_groups(groups.get_ref());
        }
        if let Some(fees) = file.fees {
            self.fees(&fees, &mut config);
        }
        if let Some(a) = file.arbitrage {
            if let Some(v) = a.min_net_bps {
                config.arbitrage.min_net_bps =
                    self.decimal_at_least(&v, "min_net_bps", Decimal::from(-10_000));
            }
            if let Some(v) = a.min_profit {
                config.arbitrage.min_profit =
                    self.decimal_at_least(&v, "min_profit", Decimal::ZERO);
            }
            if let Some(v) = a.max_notional {
                config.arbitrage.max_notional =
                    self.decimal_at_least(&v, "max_notional", Decimal::ZERO);
            }
            if let Some(v) = a.history {
                config.arbitrage.history = self.count(&v, "history", 0..=100_000);
            }
        }
        if let Some(l) = file.liquidations {
            if let Some(v) = l.min_notional_usd {
                config.liquidations.min_notional_usd = self.non_negative(&v, "min_notional_usd");
            }
            if let Some(v) = l.tape_len {
                config.liquidations.tape_len = self.count(&v, "tape_len", 1..=100_000);
            }
        }
        if let Some(t) = file.trades {
            if let Some(v) = t.large_trade_usd {
                config.trades.large_trade_usd = self.non_negative(&v, "large_trade_usd");
            }
            if let Some(v) = t.tape_len {
                config.trades.tape_len = self.count(&v, "tape_len", 1..=100_000);
            }
        }
        if let Some(d) = file.derivatives {
            let c = &mut config.derivatives;
            if let Some(v) = d.spike_window {
                c.spike_window = self.count(&v, "spike_window", 10..=10_000);
            }
            if let Some(v) = d.spike_z {
                c.spike_z = self.positive_at_most(&v, "spike_z", 100.0);
            }
            if let Some(v) = d.spike_cooldown_s {
                c.spike_cooldown_s = self.non_negative(&v, "spike_cooldown_s");
            }
            if let Some(v) = d.funding_hold_days {
                c.funding_hold_days = self.positive_at_most(&v, "funding_hold_days", 3650.0);
            }
        }
        if let Some(ui) = file.ui {
            self.ui(ui, &mut config);
        }
        if let Some(endpoints) = file.endpoints {
            self.endpoints(&endpoints, &mut config);
        }
        if let Some(f) = file.feeds {
            if let Some(v) = f.stale_after_s {
                let s = *v.get_ref();
                if s.is_finite() && s > 0.0 && s <= 86_400.0 {
                    config.feeds.stale_after_s = s;
                } else {
                    self.error(
                        v.span(),
                        format!("stale_after_s must be above 0 and at most 86400 seconds, got {s}"),
                    );
                }
            }
            let ch = &mut config.feeds.channels;
            ch.book = f.book.unwrap_or(ch.book);
            ch.trades = f.trades.unwrap_or(ch.trades);
            ch.liquidations = f.liquidations.unwrap_or(ch.liquidations);
            ch.funding = f.funding.unwrap_or(ch.funding);
        }
        config
    }

    fn quote_groups(&mut self, groups: &[Spanned<Vec<Text>>]) -> Vec<Vec<Asset>> {
        let mut out = Vec::new();
        let mut grouped: BTreeMap<Asset, Range<usize>> = BTreeMap::new();
        for group in groups {
            if group.get_ref().len() < 2 {
                self.error(
                    group.span(),
                    "a quote group needs at least two currencies, e.g. [\"USD\", \"USDT\"]",
                );
                continue;
            }
            let mut assets = Vec::new();
            for code in group.get_ref() {
                let asset = match Asset::new(code.get_ref().trim()) {
                    Ok(a) => a,
                    Err(e) => {
                        self.error(code.span(), format!("bad currency in quote group: {e}"));
                        continue;
                    }
                };
                if let Some(first) = grouped.get(&asset) {
                    let (l, c) = line_col(self.text, first.start);
                    self.error(
                        code.span(),
                        format!("{asset} is already in a quote group (at {l}:{c})"),
                    );
                    continue;
                }
                grouped.insert(asset, code.span());
                assets.push(asset);
            }
            out.push(assets);
        }
        out
    }

    pub(super) fn decimal_at_least(
        &mut self,
        v: &Spanned<Number>,
        key: &str,
        min: Decimal,
    ) -> Decimal {
        let x = v.get_ref().0;
        if x < min {
            self.error(v.span(), format!("{key} must be at least {min}, got {x}"));
        }
        x
    }

    pub(super) fn positive_at_most(&mut self, v: &Spanned<f64>, key: &str, max: f64) -> f64 {
        let x = *v.get_ref();
        if !(x.is_finite() && x > 0.0 && x <= max) {
            self.error(
                v.span(),
                format!("{key} must be above 0 and at most {max}, got {x}"),
            );
        }
        x
    }

    pub(super) fn non_negative(&mut self, v: &Spanned<f64>, key: &str) -> f64 {
        let x = *v.get_ref();
        if !(x.is_finite() && x >= 0.0) {
            self.error(v.span(), format!("{key} must be 0 or more, got {x}"));
        }
        x
    }

    pub(super) fn count(
        &mut self,
        v: &Spanned<i64>,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> usize {
        let n = *v.get_ref();
        if !range.contains(&n) {
            self.error(
                v.span(),
                format!(
                    "{key} must be between {} and {}, got {n}",
                    range.start(),
                    range.end()
                ),
            );
        }
        usize::try_from(n).unwrap_or(0)
    }
}
