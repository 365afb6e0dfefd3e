//! Alert rule edits from the Alerts, Overview, Arbitrage and Liquidations
//! panes, made on the TOML document (`toml_edit`) like the watchlist's: a
//! mute or a disable sets one key of that rule's `[[alerts]]` table, a new
//! rule is a new table at the end; every other byte of the file stays as it
//! was.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use super::edit::EditError;
use crate::alerts::rule::NewAlert;
use crate::headless::dec;

fn alert_tables(doc: &mut DocumentMut) -> Result<&mut ArrayOfTables, EditError> {
    if doc.get("alerts").is_none() {
        doc.insert("alerts", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    doc.get_mut("alerts")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| EditError::Shape("alerts".into(), "[[tables]]"))
}

fn named<'d>(doc: &'d mut DocumentMut, name: &str) -> Result<&'d mut Table, EditError> {
    alert_tables(doc)?
        .iter_mut()
        .find(|t| t.get("name").and_then(Item::as_str) == Some(name))
        .ok_or_else(|| EditError::NoSuchAlert(name.to_string()))
}

/// Sets `muted` on the rule `name`; `Ok(false)` if it already was so.
pub fn set_muted(doc: &mut DocumentMut, name: &str, muted: bool) -> Result<bool, EditError> {
    set_flag(doc, name, "muted", muted, false)
}

/// Sets `enabled` on the rule `name`; `Ok(false)` if it already was so.
pub fn set_enabled(doc: &mut DocumentMut, name: &str, enabled: bool) -> Result<bool, EditError> {
    set_flag(doc, name, "enabled", enabled, true)
}

/// Writes `key = on`, or removes the key when `on` is its default (so a
/// rule muted and unmuted again reads as it did).
fn set_flag(
    doc: &mut DocumentMut,
    name: &str,
    key: &str,
    on: bool,
    default: bool,
) -> Result<bool, EditError> {
    let table = named(doc, name)?;
    let was = table.get(key).and_then(Item::as_bool).unwrap_or(default);
    if was == on {
        return Ok(false);
    }
    if on == default {
        table.remove(key);
    } else {
        table.insert(key, value(on));
    }
    Ok(true)
}

/// Appends a rule for `new`; returns its name (suffixed `-2`, `-3`, … when
/// taken).
pub fn add_alert(doc: &mut DocumentMut, new: &NewAlert) -> Result<String, EditError> {
    let tables = alert_tables(doc)?;
    let taken: Vec<String> = tables
        .iter()
        .filter_map(|t| t.get("name").and_then(Item::as_str).map(str::to_string))
        .collect();
    let base = new.name();
    let mut name = base.clone();
    let mut n = 1;
    while taken.contains(&name) {
        n += 1;
        name = format!("{base}-{n}");
    }
    let mut t = Table::new();
    t.insert("name", value(name.clone()));
    match new {
        NewAlert::Arbitrage {
            key,
            buy,
            sell,
            min_net_bps,
            min_profit,
        } => {
            t.insert("kind", value("arbitrage"));
            t.insert(
                "instruments",
                value(toml_edit::Array::from_iter([key.to_string()])),
            );
            t.insert(
                "venues",
                value(toml_edit::Array::from_iter([
                    buy.to_string(),
                    sell.to_string(),
                ])),
            );
            t.insert("min_net_bps", value(dec(*min_net_bps)));
            t.insert("min_profit", value(dec(*min_profit)));
            t.insert("min_lifetime_s", value(2));
        }
        NewAlert::Liquidation {
            instrument,
            min_notional_usd,
        } => {
            t.insert("kind", value("liquidation"));
            t.insert(
                "instruments",
                value(toml_edit::Array::from_iter([instrument.to_string()])),
            );
            t.insert("min_notional_usd", value(min_notional_usd.round() as i64));
        }
        NewAlert::Price {
            instrument,
            move_pct,
            window_s,
        } => {
            t.insert("kind", value("price"));
            t.insert(
                "instruments",
                value(toml_edit::Array::from_iter([instrument.to_string()])),
            );
            // A whole number reads as one (`move_pct = 1`), a fraction as
            // its exact decimal text.
            match i64::try_from(move_pct.normalize().mantissa()) {
                Ok(n) if move_pct.normalize().scale() == 0 => t.insert("move_pct", value(n)),
                _ => t.insert("move_pct", value(dec(*move_pct))),
            };
            t.insert("window_s", value(i64::from(*window_s)));
            t.insert("severity", value("warning"));
        }
    }
    t.decor_mut().set_prefix(format!(
        "\n# Added from the app ({}); edit freely.\n",
        match new {
            NewAlert::Arbitrage { .. } => "Arbitrage pane",
            NewAlert::Liquidation { .. } => "Liquidations pane",
            NewAlert::Price { .. } => "Overview pane",
        }
    ));
    tables.push(t);
    Ok(name)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rust_decimal_macros::dec;

    use super::*;
    use crate::config::check;

    const FILE: &str = "# my config\n[watchlist]\ninstruments = [\"BTC-USDT\"] # mine\n\n# the arb rule\n[[alerts]]\nname = \"arb\" # keep this\nkind = \"arbitrage\"\nmin_net_bps = 5\n";

    #[test]
    fn mute_and_disable_keep_every_comment() {
        let mut doc: DocumentMut = FILE.parse().unwrap();
        assert!(set_muted(&mut doc, "arb", true).unwrap());
        assert!(!set_muted(&mut doc, "arb", true).unwrap());
        assert!(set_enabled(&mut doc, "arb", false).unwrap());
        let text = doc.to_string();
        for kept in ["# my config", "# mine", "# the arb rule", "# keep this"] {
            assert!(text.contains(kept), "{text}");
        }
        let c = check(&text, Path::new("c.toml")).unwrap();
        assert!(c.alerts[0].muted && !c.alerts[0].enabled);
        assert!(set_muted(&mut doc, "arb", false).unwrap());
        assert!(set_enabled(&mut doc, "arb", true).unwrap());
        assert_eq!(doc.to_string(), FILE, "back to the bytes it had");
        assert!(matches!(
            set_muted(&mut doc, "nope", true),
            Err(EditError::NoSuchAlert(_))
        ));
    }

    #[test]
    fn new_rules_are_appended_and_valid() {
        let mut doc: DocumentMut = FILE.parse().unwrap();
        let arb = NewAlert::Arbitrage {
            key: "BTC-USDT".parse().unwrap(),
            buy: crate::venue!("binance"),
            sell: crate::venue!("okx"),
            min_net_bps: dec!(2.5),
            min_profit: dec!(1),
        };
        assert_eq!(
            add_alert(&mut doc, &arb).unwrap(),
            "arb-btc-usdt-binance-okx"
        );
        assert_eq!(
            add_alert(&mut doc, &arb).unwrap(),
            "arb-btc-usdt-binance-okx-2"
        );
        let liq = NewAlert::Liquidation {
            instrument: "ETH-USDT-PERP".parse().unwrap(),
            min_notional_usd: 100_000.0,
        };
        assert_eq!(add_alert(&mut doc, &liq).unwrap(), "liq-eth-usdt-perp");
        let text = doc.to_string();
        assert!(text.starts_with(FILE), "{text}");
        assert!(text.contains("# Added from the app (Liquidations pane)"));
        let c = check(&text, Path::new("c.toml")).unwrap();
        assert_eq!(c.alerts.len(), 4);
        assert_eq!(c.alerts[1].venues.len(), 2);
        // From a price row: a move of 1 % either way within 5 minutes.
        let price = NewAlert::price_move("SOL-USDT".parse().unwrap());
        assert_eq!(add_alert(&mut doc, &price).unwrap(), "price-sol-usdt");
        let text = doc.to_string();
        assert!(text.contains("# Added from the app (Overview pane)"));
        assert!(
            text.contains(
                "kind = \"price\"\ninstruments = [\"SOL-USDT\"]\nmove_pct = 1\nwindow_s = 300\n"
            ),
            "{text}"
        );
        let c = check(&text, Path::new("c.toml")).unwrap();
        let rule = c
            .alerts
            .iter()
            .find(|r| r.name == "price-sol-usdt")
            .unwrap();
        let mut want = crate::alerts::Rule::new(
            "price-sol-usdt",
            crate::alerts::RuleKind::Price(crate::alerts::rule::PriceTrigger::Moves {
                by: crate::alerts::rule::Amount::Relative(dec!(1)),
                window: 300_000_000,
            }),
        );
        want.instruments = vec!["SOL-USDT".parse().unwrap()];
        want.severity = crate::alerts::Severity::Warning;
        assert_eq!(*rule, want);
        assert_eq!(price.describe(), "SOL-USDT moving ±1% within 5 min");
        // A fraction is written exactly.
        let half = NewAlert::Price {
            instrument: "SOL-USDT".parse().unwrap(),
            move_pct: dec!(0.5),
            window_s: 90,
        };
        assert_eq!(add_alert(&mut doc, &half).unwrap(), "price-sol-usdt-2");
        assert_eq!(half.describe(), "SOL-USDT moving ±0.5% within 90 s");
        let c = check(&doc.to_string(), Path::new("c.toml")).unwrap();
        assert_eq!(
            c.alerts.last().unwrap().kind,
            crate::alerts::RuleKind::Price(crate::alerts::rule::PriceTrigger::Moves {
                by: crate::alerts::rule::Amount::Relative(dec!(0.5)),
                window: 90_000_000,
            })
        );
        // Into a file without rules.
        let mut doc: DocumentMut = "[ui]\nfps = 30\n".parse().unwrap();
        add_alert(&mut doc, &liq).unwrap();
        assert_eq!(
            check(&doc.to_string(), Path::new("c.toml"))
                .unwrap()
                .alerts
                .len(),
            1
        );
    }
}
