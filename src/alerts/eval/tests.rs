use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::alerts::rule::Severity;
use crate::engine::snapshot::{ArbOpportunity, Cbbo, CbboSide, InstrumentView, LiquidationRow};
use crate::model::LiquidatedSide;

const S: Micros = 1_000_000;

fn i(name: &str) -> Instrument {
    name.parse().unwrap()
}

fn arb(net: Decimal, profit: Decimal) -> ArbOpportunity {
    ArbOpportunity {
        key: i("BTC-USDT"),
        buy_venue: crate::venue!("binance"),
        buy_instrument: i("BTC-USDT"),
        sell_venue: crate::venue!("okx"),
        sell_instrument: i("BTC-USDT"),
        buy_fee_bps: dec!(5),
        sell_fee_bps: dec!(5),
        size: dec!(0.5),
        buy_vwap: dec!(65000),
        sell_vwap: dec!(65100),
        gross_bps: net + dec!(10),
        net_bps: net,
        profit,
        opened: 0,
        peak_net_bps: net,
        peak_profit: profit,
        peak_size: dec!(0.5),
        peak_buy_vwap: dec!(65000),
        peak_sell_vwap: dec!(65100),
        polled: false,
    }
}

fn snap(now: Micros, arbs: Vec<ArbOpportunity>) -> Snapshot {
    Snapshot {
        now,
        arbs,
        ..Snapshot::default()
    }
}

fn view(name: &str, bid: Decimal, ask: Decimal) -> InstrumentView {
    let side = |price, venue| CbboSide {
        price,
        size: dec!(1),
        venue,
        instrument: i(name),
        age: 0,
    };
    InstrumentView {
        instrument: i(name),
        label: name.to_string(),
        mixed_quotes: false,
        cbbo: Cbbo {
            bid: Some(side(bid, crate::venue!("binance"))),
            ask: Some(side(ask, crate::venue!("okx"))),
            excluded: Vec::new(),
        },
        venues: Vec::new(),
        aggregated: Default::default(),
        mid_history: Vec::new(),
        best_net_bps: None,
        liquidations_5m_usd: 0.0,
        funding: Vec::new(),
    }
}

fn priced(now: Micros, mid: Decimal) -> Snapshot {
    Snapshot {
        now,
        instruments: vec![view("BTC-USDT", mid - dec!(0.5), mid + dec!(0.5))],
        ..Snapshot::default()
    }
}

fn fired(v: &[Verdict]) -> Vec<&Alert> {
    v.iter()
        .filter_map(|v| match v {
            Verdict::Fire(a) => Some(a),
            Verdict::Held { .. } => None,
        })
        .collect()
}

fn arb_rule(min_lifetime: Micros) -> Rule {
    let mut r = Rule::new(
        "arb",
        RuleKind::Arbitrage {
            min_net_bps: dec!(10),
            min_profit: dec!(5),
            min_lifetime,
        },
    );
    r.hysteresis = dec!(2);
    r.cooldown = 0;
    r
}

#[test]
fn arbitrage_needs_both_minimums() {
    let mut e = Evaluator::new(vec![arb_rule(0)]);
    assert!(fired(&e.on_snapshot(&snap(0, vec![arb(dec!(12), dec!(4))]))).is_empty());
    assert!(fired(&e.on_snapshot(&snap(S, vec![arb(dec!(9), dec!(50))]))).is_empty());
    let v = e.on_snapshot(&snap(2 * S, vec![arb(dec!(12), dec!(6))]));
    let a = fired(&v);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].subject, "BTC-USDT binance→okx");
    assert_eq!(a[0].severity, Severity::Warning);
    assert!(a[0].text.contains("12 bps net, profit 6"), "{}", a[0].text);
}

#[test]
fn arbitrage_filters_instruments_and_venues() {
    let mut r = arb_rule(0);
    r.venues = vec![crate::venue!("kraken")];
    let mut e = Evaluator::new(vec![r.clone()]);
    assert!(fired(&e.on_snapshot(&snap(0, vec![arb(dec!(20), dec!(20))]))).is_empty());
    r.venues = vec![crate::venue!("okx")];
    r.instruments = vec![i("ETH-USDT")];
    let mut e = Evaluator::new(vec![r.clone()]);
    assert!(fired(&e.on_snapshot(&snap(0, vec![arb(dec!(20), dec!(20))]))).is_empty());
    r.instruments = vec![i("BTC-USDT")];
    let mut e = Evaluator::new(vec![r]);
    assert_eq!(
        fired(&e.on_snapshot(&snap(0, vec![arb(dec!(20), dec!(20))]))).len(),
        1
    );
}

#[test]
fn arbitrage_min_lifetime_ignores_a_flicker() {
    let mut e = Evaluator::new(vec![arb_rule(2 * S)]);
    let good = || vec![arb(dec!(15), dec!(10))];
    assert!(fired(&e.on_snapshot(&snap(0, good()))).is_empty());
    // Gone after one second: a flicker.
    assert!(fired(&e.on_snapshot(&snap(S, vec![]))).is_empty());
    assert!(fired(&e.on_snapshot(&snap(2 * S, good()))).is_empty());
    assert!(fired(&e.on_snapshot(&snap(3 * S, good()))).is_empty());
    assert_eq!(fired(&e.on_snapshot(&snap(4 * S, good()))).len(), 1);
}

#[test]
fn arbitrage_hovering_at_the_threshold_fires_once() {
    let mut e = Evaluator::new(vec![arb_rule(0)]);
    let mut n = 0;
    for t in 0..50 {
        let net = if t % 2 == 0 { dec!(10) } else { dec!(9) };
        n += fired(&e.on_snapshot(&snap(t * S, vec![arb(net, dec!(10))]))).len();
    }
    assert_eq!(n, 1, "within the 2 bps band it never re-arms");
    // Closing re-arms.
    e.on_snapshot(&snap(100 * S, vec![]));
    assert_eq!(
        fired(&e.on_snapshot(&snap(101 * S, vec![arb(dec!(11), dec!(10))]))).len(),
        1
    );
}

#[test]
fn cooldown_holds_back_a_second_episode() {
    let mut r = arb_rule(0);
    r.cooldown = 60 * S;
    let mut e = Evaluator::new(vec![r]);
    assert_eq!(
        fired(&e.on_snapshot(&snap(0, vec![arb(dec!(12), dec!(10))]))).len(),
        1
    );
    e.on_snapshot(&snap(S, vec![]));
    let v = e.on_snapshot(&snap(2 * S, vec![arb(dec!(12), dec!(10))]));
    assert!(matches!(
        &v[..],
        [Verdict::Held {
            reason: Held::Cooldown { .. },
            ..
        }]
    ));
    e.on_snapshot(&snap(3 * S, vec![]));
    assert_eq!(
        fired(&e.on_snapshot(&snap(70 * S, vec![arb(dec!(12), dec!(10))]))).len(),
        1
    );
}

fn liq(venue: Venue, usd: f64, side: LiquidatedSide, time: Micros) -> Notice {
    Notice::Liquidation(LiquidationRow {
        venue,
        instrument: i("BTC-USDT-PERP"),
        side,
        price: dec!(65000),
        size: dec!(2),
        notional_usd: usd,
        notional_known: true,
        time,
    })
}

#[test]
fn liquidations_by_notional_side_and_venue_with_dedup() {
    let mut r = Rule::new(
        "liq",
        RuleKind::Liquidation {
            min_notional_usd: 100_000.0,
            side: Some(LiquidatedSide::Long),
        },
    );
    r.cooldown = 30 * S;
    let mut e = Evaluator::new(vec![r]);
    let b = crate::venue!("binance");
    assert!(fired(&e.on_notice(&liq(b, 99_999.0, LiquidatedSide::Long, 0))).is_empty());
    assert!(fired(&e.on_notice(&liq(b, 500_000.0, LiquidatedSide::Short, 0))).is_empty());
    let v = e.on_notice(&liq(b, 130_000.0, LiquidatedSide::Long, 0));
    assert_eq!(
        fired(&v)[0].text,
        "binance BTC-USDT-PERP long liquidated: 2 @ 65000 ($130,000)"
    );
    // Same venue and instrument within the cooldown: held.
    let v = e.on_notice(&liq(b, 130_000.0, LiquidatedSide::Long, 10 * S));
    assert!(matches!(&v[..], [Verdict::Held { .. }]));
    // Another venue is another key.
    let v = e.on_notice(&liq(
        crate::venue!("okx"),
        130_000.0,
        LiquidatedSide::Long,
        10 * S,
    ));
    assert_eq!(fired(&v).len(), 1);
}

#[test]
fn a_shared_dedup_key_suppresses_across_rules() {
    let mk = |name: &str, min: f64| {
        let mut r = Rule::new(
            name,
            RuleKind::Liquidation {
                min_notional_usd: min,
                side: None,
            },
        );
        r.dedup_key = "liq:{instrument}".into();
        r
    };
    let mut e = Evaluator::new(vec![mk("liq-1m", 1e6), mk("liq-100k", 1e5)]);
    let v = e.on_notice(&liq(crate::venue!("bybit"), 2e6, LiquidatedSide::Short, 0));
    assert_eq!(fired(&v).len(), 1);
    assert!(matches!(
        &v[1],
        Verdict::Held { reason: Held::Duplicate { of, .. }, .. } if of == "liq-1m"
    ));
}

#[test]
fn price_crosses_a_level_once_per_crossing() {
    let mut r = Rule::new(
        "btc-70k",
        RuleKind::Price(PriceTrigger::CrossesAbove(dec!(70000))),
    );
    r.hysteresis = dec!(100);
    r.cooldown = 0;
    let mut e = Evaluator::new(vec![r]);
    // Starts above: no crossing.
    assert!(fired(&e.on_snapshot(&priced(0, dec!(70500)))).is_empty());
    assert!(fired(&e.on_snapshot(&priced(S, dec!(69850)))).is_empty());
    let v = e.on_snapshot(&priced(2 * S, dec!(70001)));
    assert_eq!(fired(&v).len(), 1);
    assert!(fired(&v)[0].text.contains("crossed above 70000"));
    // Hovering around 70000 inside the 100 band: no more.
    for t in 3..20 {
        let mid = if t % 2 == 0 { dec!(70010) } else { dec!(69950) };
        assert!(fired(&e.on_snapshot(&priced(t * S, mid))).is_empty());
    }
    assert!(fired(&e.on_snapshot(&priced(30 * S, dec!(69890)))).is_empty());
    assert_eq!(fired(&e.on_snapshot(&priced(31 * S, dec!(70000)))).len(), 1);
}

#[test]
fn price_crosses_below() {
    let mut r = Rule::new(
        "btc-60k",
        RuleKind::Price(PriceTrigger::CrossesBelow(dec!(60000))),
    );
    r.cooldown = 0;
    let mut e = Evaluator::new(vec![r]);
    assert!(fired(&e.on_snapshot(&priced(0, dec!(60100)))).is_empty());
    assert_eq!(fired(&e.on_snapshot(&priced(S, dec!(59990)))).len(), 1);
}

#[test]
fn price_moves_in_percent_and_absolute_within_a_window() {
    let rule = |by| {
        let mut r = Rule::new(
            "move",
            RuleKind::Price(PriceTrigger::Moves { by, window: 60 * S }),
        );
        r.cooldown = 0;
        r
    };
    // 1% within a minute.
    let mut e = Evaluator::new(vec![rule(Amount::Relative(dec!(1)))]);
    assert!(fired(&e.on_snapshot(&priced(0, dec!(60000)))).is_empty());
    assert!(fired(&e.on_snapshot(&priced(30 * S, dec!(60500)))).is_empty());
    let v = e.on_snapshot(&priced(50 * S, dec!(59400)));
    assert_eq!(fired(&v).len(), 1, "-1% from 60000");
    assert!(
        fired(&v)[0].text.contains("moved -1%"),
        "{}",
        fired(&v)[0].text
    );
    // A slow drift over longer than the window does not count.
    let mut e = Evaluator::new(vec![rule(Amount::Relative(dec!(1)))]);
    for t in 0..10 {
        let mid = dec!(60000) - Decimal::from(t) * dec!(100);
        assert!(fired(&e.on_snapshot(&priced(t * 61 * S, mid))).is_empty());
    }
    // Absolute: 250 within the window.
    let mut e = Evaluator::new(vec![rule(Amount::Absolute(dec!(250)))]);
    e.on_snapshot(&priced(0, dec!(60000)));
    assert!(fired(&e.on_snapshot(&priced(S, dec!(60249)))).is_empty());
    assert_eq!(fired(&e.on_snapshot(&priced(2 * S, dec!(60250)))).len(), 1);
}

#[test]
fn cbbo_spread_in_bps_and_absolute() {
    let wide = |now| Snapshot {
        now,
        instruments: vec![view("ETH-USDT", dec!(3000), dec!(3003))],
        ..Snapshot::default()
    };
    let mut r = Rule::new("spread", RuleKind::CbboSpread(Amount::Relative(dec!(9))));
    r.cooldown = 0;
    let mut e = Evaluator::new(vec![r.clone()]);
    let v = e.on_snapshot(&wide(0));
    assert_eq!(fired(&v).len(), 1, "3 / 3001.5 = 9.995 bps");
    r.kind = RuleKind::CbboSpread(Amount::Absolute(dec!(3.01)));
    let mut e = Evaluator::new(vec![r]);
    assert!(fired(&e.on_snapshot(&wide(0))).is_empty());
}

#[test]
fn disabled_rules_are_not_evaluated_and_muted_ones_are_marked() {
    let mut r = arb_rule(0);
    r.enabled = false;
    let mut e = Evaluator::new(vec![r.clone()]);
    assert!(
        e.on_snapshot(&snap(0, vec![arb(dec!(20), dec!(20))]))
            .is_empty()
    );
    r.enabled = true;
    r.muted = true;
    e.set_rules(vec![r]);
    let v = e.on_snapshot(&snap(S, vec![arb(dec!(20), dec!(20))]));
    assert!(fired(&v)[0].muted);
}

#[test]
fn feed_trouble_after_n_seconds() {
    use crate::engine::snapshot::{ConnHealth, ConnState};
    let conn = |state: ConnState| ConnHealth {
        venue: crate::venue!("kraken"),
        conn: "wss://ws.kraken.com".into(),
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
    };
    let at = |now, state| Snapshot {
        now,
        health: vec![conn(state)],
        ..Snapshot::default()
    };
    let down = || ConnState::Disconnected {
        reason: "DNS lookup failed".into(),
    };
    let mut r = Rule::new(
        "down",
        RuleKind::Feed {
            trouble: FeedTrouble::Disconnected,
            for_s: 30 * S,
        },
    );
    r.cooldown = 0;
    let mut e = Evaluator::new(vec![r]);
    assert!(fired(&e.on_snapshot(&at(0, down()))).is_empty());
    assert!(fired(&e.on_snapshot(&at(29 * S, down()))).is_empty());
    let v = e.on_snapshot(&at(30 * S, down()));
    assert_eq!(
        fired(&v)[0].text,
        "kraken connection down for 30 s or more: DNS lookup failed"
    );
    assert!(fired(&e.on_snapshot(&at(40 * S, ConnState::Connected))).is_empty());
    assert!(fired(&e.on_snapshot(&at(41 * S, down()))).is_empty());
}

#[test]
fn checksum_failures_within_a_window() {
    let fail = |at| Notice::Incident {
        venue: crate::venue!("okx"),
        instrument: Some(i("BTC-USDT")),
        incident: Incident::ChecksumFailed,
        detail: Some("crc mismatch".into()),
        at,
    };
    let mut r = Rule::new(
        "crc",
        RuleKind::Feed {
            trouble: FeedTrouble::ChecksumFailures {
                min_count: 3,
                window: 60 * S,
            },
            for_s: 0,
        },
    );
    r.cooldown = 0;
    let mut e = Evaluator::new(vec![r]);
    assert!(fired(&e.on_notice(&fail(0))).is_empty());
    assert!(fired(&e.on_notice(&fail(30 * S))).is_empty());
    // The first one fell out of the window.
    assert!(fired(&e.on_notice(&fail(61 * S))).is_empty());
    let v = e.on_notice(&fail(62 * S));
    assert_eq!(
        fired(&v)[0].text,
        "okx BTC-USDT: 3 checksum failure(s) within 60 s: crc mismatch"
    );
}
