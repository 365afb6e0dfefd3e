use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::snapshot::ArbOpportunity;
use super::*;
use crate::model::FundingUpdate;
use crate::model::{
    BookUpdate, BookUpdateKind, Funding, Level, LiquidatedSide, Liquidation, OutOfSyncReason,
    SeqInfo,
};
use rust_decimal_macros::dec;

const SEC: Micros = 1_000_000;

fn i(s: &str) -> Instrument {
    s.parse().unwrap()
}

fn levels(l: &[(Decimal, Decimal)]) -> Vec<Level> {
    l.iter().map(|&(p, s)| Level::new(p, s)).collect()
}

fn book(
    kind: BookUpdateKind,
    venue: Venue,
    inst: &str,
    bids: &[(Decimal, Decimal)],
    asks: &[(Decimal, Decimal)],
) -> MarketEvent {
    MarketEvent::Book(BookUpdate {
        venue,
        instrument: i(inst),
        kind,
        bids: levels(bids),
        asks: levels(asks),
        seq: SeqInfo::default(),
        exchange_ts: None,
        received: 0,
    })
}

fn snap(
    venue: Venue,
    inst: &str,
    bids: &[(Decimal, Decimal)],
    asks: &[(Decimal, Decimal)],
) -> MarketEvent {
    book(BookUpdateKind::Snapshot, venue, inst, bids, asks)
}

fn delta(
    venue: Venue,
    inst: &str,
    bids: &[(Decimal, Decimal)],
    asks: &[(Decimal, Decimal)],
) -> MarketEvent {
    book(BookUpdateKind::Delta, venue, inst, bids, asks)
}

fn feed(venue: Venue, received: Micros, mut events: Vec<MarketEvent>) -> EngineInput {
    for e in &mut events {
        if let MarketEvent::Book(u) = e {
            u.received = received;
        }
    }
    EngineInput::Feed {
        venue,
        conn: format!("wss://{venue}"),
        received,
        bytes: 100,
        events,
    }
}

/// 10 bps taker fee everywhere, 30 s staleness.
fn cfg() -> EngineConfig {
    EngineConfig {
        taker_fee_bps: BTreeMap::new(),
        default_taker_fee_bps: dec!(10),
        ..EngineConfig::default()
    }
}

fn usd_group() -> Vec<Vec<crate::model::Asset>> {
    vec![
        ["USD", "USDT", "USDC"]
            .iter()
            .map(|a| crate::model::Asset::new(a).unwrap())
            .collect(),
    ]
}

/// okx asks 100, bybit bids 101: buy okx, sell bybit pays after fees.
fn engine_with_arb() -> Engine {
    let mut e = Engine::new(cfg());
    e.handle(feed(
        crate::venue!("okx"),
        SEC,
        vec![snap(
            crate::venue!("okx"),
            "BTC-USDT",
            &[(dec!(99), dec!(1))],
            &[(dec!(100), dec!(1))],
        )],
    ));
    e.handle(feed(
        crate::venue!("bybit"),
        SEC,
        vec![snap(
            crate::venue!("bybit"),
            "BTC-USDT",
            &[(dec!(101), dec!(2))],
            &[(dec!(102), dec!(1))],
        )],
    ));
    e
}

#[test]
fn empty_engine_and_empty_book() {
    let mut e = Engine::new(EngineConfig {
        watchlist: vec![i("ETH-USDT")],
        ..cfg()
    });
    let s = e.snapshot();
    assert_eq!(s.version, 0);
    assert_eq!(
        s.instruments.len(),
        1,
        "watched keys show even without books"
    );
    assert_eq!(s.instruments[0].label, "ETH-USDT");
    assert!(s.instruments[0].cbbo.bid.is_none());

    e.handle(feed(
        crate::venue!("okx"),
        SEC,
        vec![snap(crate::venue!("okx"), "BTC-USDT", &[], &[])],
    ));
    let c = e.cbbo(&i("BTC-USDT"));
    assert!(c.bid.is_none() && c.ask.is_none());
    assert!(
        c.excluded.is_empty(),
        "an empty live book is usable, just empty"
    );
    assert!(e.all_spreads().is_empty());
    let s = e.snapshot();
    assert_eq!(s.version, 1);
    assert_eq!(
        s.instruments
            .iter()
            .map(|v| v.label.as_str())
            .collect::<Vec<_>>(),
        vec!["ETH-USDT", "BTC-USDT"]
    );
    assert_eq!(s.instruments[1].venues[0].state, BookState::Live);
}

#[test]
fn one_sided_book() {
    let mut e = Engine::new(cfg());
    e.handle(feed(
        crate::venue!("okx"),
        SEC,
        vec![snap(
            crate::venue!("okx"),
            "BTC-USDT",
            &[(dec!(99), dec!(1))],
            &[],
        )],
    ));
    e.handle(feed(
        crate::venue!("bybit"),
        SEC,
        vec![snap(
            crate::venue!("bybit"),
            "BTC-USDT",
            &[(dec!(98), dec!(1))],
            &[],
        )],
    ));
    let c = e.cbbo(&i("BTC-USDT"));
    assert_eq!(
        c.bid.as_ref().map(|b| (b.price, b.venue)),
        Some((dec!(99), crate::venue!("okx")))
    );
    assert!(c.ask.is_none());
    assert_eq!(c.spread_bps(), None);
    assert!(e.all_spreads().is_empty());
    assert!(e.open_arbs().is_empty());
    let s = e.snapshot();
    assert!(s.instruments[0].mid_history.is_empty());
    assert_eq!(s.instruments[0].best_net_bps, None);
    assert_eq!(s.instruments[0].aggregated.bids.len(), 2);
}

#[test]
fn versions_move_only_on_change() {
    let mut e = engine_with_arb();
    let v1 = e.snapshot().version;
    assert_eq!(e.snapshot().version, v1);
    e.handle(EngineInput::Tick { now: SEC + 1 });
    assert!(!e.has_changes(), "a tick that changes nothing is no change");
    assert_eq!(e.snapshot().version, v1);
    e.handle(EngineInput::Tick { now: 3 * SEC });
    assert_eq!(e.snapshot().version, v1 + 1, "idle refresh after a second");
    assert_eq!(e.now(), 3 * SEC);
}

#[test]
fn venue_going_out_of_sync_closes_the_opportunity() {
    let mut e = engine_with_arb();
    let arbs = e.open_arbs();
    assert_eq!(arbs.len(), 1);
    let a = &arbs[0];
    assert_eq!(
        (a.buy_venue, a.sell_venue, a.size),
        (crate::venue!("okx"), crate::venue!("bybit"), dec!(1))
    );
    assert_eq!(a.gross_bps, dec!(100));
    assert_eq!(a.net_bps, dec!(80));
    assert_eq!(a.profit, dec!(0.8));
    assert_eq!(a.opened, SEC);
    assert_eq!(
        e.cbbo(&i("BTC-USDT")).bid.unwrap().venue,
        crate::venue!("bybit")
    );

    let gap = OutOfSyncReason::Gap {
        expected: 5,
        got: 7,
    };
    e.handle(feed(
        crate::venue!("bybit"),
        2 * SEC,
        vec![MarketEvent::BookState {
            venue: crate::venue!("bybit"),
            instrument: i("BTC-USDT"),
            state: BookState::OutOfSync(gap),
        }],
    ));
    assert!(e.open_arbs().is_empty());
    let c = e.cbbo(&i("BTC-USDT"));
    assert_eq!(c.bid.unwrap().venue, crate::venue!("okx"));
    assert_eq!(
        c.excluded,
        vec![(
            crate::venue!("bybit"),
            "out of sync: sequence gap (expected 5, got 7)".to_string()
        )]
    );
    let s = e.snapshot();
    assert!(s.arbs.is_empty());
    assert_eq!(s.arb_history.len(), 1);
    let h = &s.arb_history[0];
    assert_eq!(h.reason, "bybit out of sync");
    assert_eq!((h.opened, h.closed), (SEC, 2 * SEC));
    // Out of sync books are shown, greyed, but never aggregated.
    let view = &s.instruments[0];
    assert_eq!(view.venues.len(), 2);
    assert!(
        view.aggregated
            .bids
            .iter()
            .all(|l| l.per_venue[0].0 == crate::venue!("okx"))
    );
}

#[test]
fn stale_connection_leaves_cbbo_and_comes_back() {
    let mut e = engine_with_arb();
    // okx keeps talking; bybit goes quiet for longer than stale_after.
    e.handle(feed(crate::venue!("okx"), 20 * SEC, vec![]));
    e.handle(feed(crate::venue!("okx"), 32 * SEC, vec![]));
    let c = e.cbbo(&i("BTC-USDT"));
    assert_eq!(c.bid.unwrap().venue, crate::venue!("okx"));
    assert_eq!(
        c.excluded,
        vec![(crate::venue!("bybit"), "stale".to_string())]
    );
    assert!(e.open_arbs().is_empty());
    let s = e.snapshot();
    assert_eq!(s.arb_history[0].reason, "bybit stale");
    let bybit = s.instruments[0]
        .venues
        .iter()
        .find(|v| v.venue == crate::venue!("bybit"))
        .unwrap();
    assert_eq!(bybit.state, BookState::OutOfSync(OutOfSyncReason::Stale));
    assert_eq!(
        e.books()
            .find(|b| b.venue == crate::venue!("bybit"))
            .unwrap()
            .state,
        BookState::OutOfSync(OutOfSyncReason::Stale)
    );

    // A heartbeat-only frame is enough: the book is live again.
    e.handle(feed(crate::venue!("bybit"), 33 * SEC, vec![]));
    let c = e.cbbo(&i("BTC-USDT"));
    assert_eq!(c.bid.unwrap().venue, crate::venue!("bybit"));
    assert!(c.excluded.is_empty());
    assert_eq!(e.open_arbs()[0].opened, 33 * SEC, "a new opportunity");

    // Ticks alone make books stale too.
    e.handle(EngineInput::Tick { now: 70 * SEC });
    assert_eq!(e.cbbo(&i("BTC-USDT")).excluded.len(), 2);
    assert!(e.cbbo(&i("BTC-USDT")).bid.is_none());
    // Revived once more, and stale again when it falls silent again.
    e.handle(feed(crate::venue!("bybit"), 71 * SEC, vec![]));
    assert_eq!(
        e.cbbo(&i("BTC-USDT")).bid.unwrap().venue,
        crate::venue!("bybit")
    );
    e.handle(EngineInput::Tick { now: 102 * SEC });
    assert!(e.cbbo(&i("BTC-USDT")).bid.is_none());
}

#[test]
fn disconnect_marks_books_out_of_sync() {
    let mut e = engine_with_arb();
    e.handle(EngineInput::Conn {
        venue: crate::venue!("okx"),
        conn: "wss://okx".into(),
        state: ConnState::Disconnected {
            reason: "closed".into(),
        },
        at: 2 * SEC,
    });
    assert_eq!(
        e.cbbo(&i("BTC-USDT")).excluded,
        vec![(
            crate::venue!("okx"),
            "out of sync: disconnected".to_string()
        )]
    );
    assert_eq!(e.snapshot().arb_history[0].reason, "okx out of sync");
}

#[test]
fn equal_prices_break_ties_by_size_then_venue() {
    let mut e = Engine::new(cfg());
    e.handle(feed(
        crate::venue!("kraken"),
        SEC,
        vec![snap(
            crate::venue!("kraken"),
            "ETH-USD",
            &[(dec!(10), dec!(5))],
            &[(dec!(11), dec!(1))],
        )],
    ));
    e.handle(feed(
        crate::venue!("coinbase"),
        SEC,
        vec![snap(
            crate::venue!("coinbase"),
            "ETH-USD",
            &[(dec!(10.00), dec!(2))],
            &[(dec!(11), dec!(1))],
        )],
    ));
    let c = e.cbbo(&i("ETH-USD"));
    assert_eq!(
        c.bid.as_ref().unwrap().venue,
        crate::venue!("kraken"),
        "larger size"
    );
    assert_eq!(
        c.ask.as_ref().unwrap().venue,
        crate::venue!("coinbase"),
        "coinbase before kraken"
    );
    e.handle(feed(
        crate::venue!("coinbase"),
        2 * SEC,
        vec![delta(
            crate::venue!("coinbase"),
            "ETH-USD",
            &[(dec!(10), dec!(5))],
            &[],
        )],
    ));
    let c = e.cbbo(&i("ETH-USD"));
    assert_eq!(c.bid.as_ref().unwrap().venue, crate::venue!("coinbase"));
    assert_eq!(c.bid.as_ref().unwrap().age, 0);
    e.handle(EngineInput::Tick { now: 3 * SEC });
    let c = e.cbbo(&i("ETH-USD"));
    assert_eq!(
        c.bid.as_ref().unwrap().age,
        SEC,
        "age runs from the book's last update"
    );
}

#[test]
fn fees_make_a_gross_spread_unprofitable() {
    // 5 bps gross between okx ask 100 and bybit bid 100.05; 20 bps fees.
    let mut e = Engine::new(cfg());
    e.handle(feed(
        crate::venue!("okx"),
        SEC,
        vec![snap(
            crate::venue!("okx"),
            "BTC-USDT",
            &[(dec!(99), dec!(1))],
            &[(dec!(100), dec!(1))],
        )],
    ));
    e.handle(feed(
        crate::venue!("bybit"),
        SEC,
        vec![snap(
            crate::venue!("bybit"),
            "BTC-USDT",
            &[(dec!(100.05), dec!(1))],
            &[(dec!(101), dec!(1))],
        )],
    ));
    assert!(e.open_arbs().is_empty());
    let spreads = e.all_spreads();
    assert_eq!(spreads.len(), 2);
    let best = &spreads[0];
    assert_eq!(
        (best.buy_venue, best.sell_venue),
        (crate::venue!("okx"), crate::venue!("bybit"))
    );
    assert_eq!(
        (best.size, best.gross_bps, best.net_bps, best.profit),
        (Decimal::ZERO, dec!(5), dec!(-15), Decimal::ZERO)
    );
    let s = e.snapshot();
    assert_eq!(s.instruments[0].best_net_bps, Some(dec!(-15)));
    let stat = s
        .arb_stats
        .iter()
        .find(|p| p.buy_venue == crate::venue!("okx"))
        .unwrap();
    assert_eq!(stat.current_net_bps, Some(dec!(-15)));
    assert_eq!(stat.count, 0);

    // Without fees the same books are an opportunity.
    e.set_config(EngineConfig {
        default_taker_fee_bps: Decimal::ZERO,
        ..cfg()
    });
    let arbs = e.open_arbs();
    assert_eq!(arbs.len(), 1);
    assert_eq!(arbs[0].net_bps, dec!(5));
    assert_eq!(arbs[0].profit, dec!(0.05));
}

#[test]
fn depth_makes_part_of_the_top_executable() {
    // Buy on okx: asks 100×1, 100.1×4. Sell on bybit: bids 100.5×1.5,
    // 100.2×10. 10 bps each: 1 at 100 and 0.5 at 100.1 pay; 100.1 vs
    // 100.2 does not (100.2001 ≥ 100.0998). Size 1.5 of okx's 5 at the
    // top two levels; cost 150.05, proceeds 150.75.
    let mut e = Engine::new(cfg());
    e.handle(feed(
        crate::venue!("okx"),
        SEC,
        vec![snap(
            crate::venue!("okx"),
            "BTC-USDT",
            &[(dec!(99), dec!(1))],
            &[(dec!(100), dec!(1)), (dec!(100.1), dec!(4))],
        )],
    ));
    e.handle(feed(
        crate::venue!("bybit"),
        SEC,
        vec![snap(
            crate::venue!("bybit"),
            "BTC-USDT",
            &[(dec!(100.5), dec!(1.5)), (dec!(100.2), dec!(10))],
            &[(dec!(102), dec!(1))],
        )],
    ));
    let a = &e.open_arbs()[0];
    assert_eq!(a.size, dec!(1.5));
    assert_eq!(a.buy_vwap.round_dp(8), dec!(100.03333333));
    assert_eq!(a.sell_vwap, dec!(100.5));
    // gross = 0.7 / 150.05 × 1e4 = 46.6511…; net = gross − 20;
    // profit = 150.05 × net / 1e4 = 0.7 − 0.3001 = 0.3999.
    assert_eq!(a.gross_bps.round_dp(4), dec!(46.6511));
    assert_eq!(a.net_bps.round_dp(4), dec!(26.6511));
    assert_eq!(a.profit.round_dp(10), dec!(0.3999));
    assert_eq!((a.buy_fee_bps, a.sell_fee_bps), (dec!(10), dec!(10)));

    // A notional cap of 50 limits the size to 0.5.
    e.set_config(EngineConfig {
        arb_max_notional: dec!(50),
        ..cfg()
    });
    let a = &e.open_arbs()[0];
    assert_eq!(
        (a.size, a.buy_vwap, a.sell_vwap),
        (dec!(0.5), dec!(100), dec!(100.5))
    );
    // Thresholds: 0.3999 profit is not worth 1 unit of quote.
    e.set_config(EngineConfig {
        arb_min_profit: dec!(1),
        ..cfg()
    });
    assert!(e.open_arbs().is_empty());
    assert_eq!(e.snapshot().arb_history[0].reason, "spread closed");
}

#[test]
fn quote_groups_merge_and_mark_mixed() {
    let events = |e: &mut Engine| {
        e.handle(feed(
            crate::venue!("coinbase"),
            SEC,
            vec![snap(
                crate::venue!("coinbase"),
                "BTC-USD",
                &[(dec!(100), dec!(1))],
                &[(dec!(101), dec!(1))],
            )],
        ));
        e.handle(feed(
            crate::venue!("binance"),
            SEC,
            vec![snap(
                crate::venue!("binance"),
                "BTC-USDT",
                &[(dec!(100.5), dec!(1))],
                &[(dec!(102), dec!(1))],
            )],
        ));
    };
    let mut apart = Engine::new(EngineConfig {
        watchlist: vec![i("BTC-USDT")],
        ..cfg()
    });
    events(&mut apart);
    let s = apart.snapshot();
    assert_eq!(
        s.instruments
            .iter()
            .map(|v| (v.label.as_str(), v.mixed_quotes))
            .collect::<Vec<_>>(),
        vec![("BTC-USDT", false), ("BTC-USD", false)]
    );

    let mut merged = Engine::new(EngineConfig {
        watchlist: vec![i("BTC-USDT")],
        quote_groups: usd_group(),
        ..cfg()
    });
    events(&mut merged);
    let s = merged.snapshot();
    assert_eq!(s.instruments.len(), 1);
    let v = &s.instruments[0];
    assert_eq!(v.instrument, i("BTC-USD"));
    assert_eq!(v.label, "BTC-USD≈USDT");
    assert!(v.mixed_quotes);
    assert_eq!(v.cbbo.bid.as_ref().unwrap().instrument, i("BTC-USDT"));
    assert_eq!(v.cbbo.ask.as_ref().unwrap().instrument, i("BTC-USD"));
    assert_eq!(
        merged.cbbo(&i("BTC-USDC")).bid.unwrap().venue,
        crate::venue!("binance")
    );
    assert_eq!(v.aggregated.bids.len(), 2);

    // Regrouping at run time splits them again.
    apart.set_config(EngineConfig {
        quote_groups: usd_group(),
        ..cfg()
    });
    assert_eq!(apart.snapshot().instruments.len(), 1);
}

#[test]
fn crossed_book_is_excluded_and_counted() {
    let mut e = engine_with_arb();
    e.handle(feed(
        crate::venue!("okx"),
        2 * SEC,
        vec![delta(
            crate::venue!("okx"),
            "BTC-USDT",
            &[(dec!(100.5), dec!(1))],
            &[],
        )],
    ));
    assert_eq!(e.totals().crossed_books, 1);
    assert_eq!(e.totals().book_updates, 3);
    assert_eq!(e.totals().frames, 3);
    let c = e.cbbo(&i("BTC-USDT"));
    assert_eq!(
        c.excluded,
        vec![(
            crate::venue!("okx"),
            "out of sync: crossed book".to_string()
        )]
    );
    assert_eq!(c.ask.unwrap().venue, crate::venue!("bybit"));
    assert!(e.open_arbs().is_empty());
    // A fresh snapshot makes it live again.
    e.handle(feed(
        crate::venue!("okx"),
        3 * SEC,
        vec![snap(
            crate::venue!("okx"),
            "BTC-USDT",
            &[(dec!(99), dec!(1))],
            &[(dec!(100), dec!(1))],
        )],
    ));
    assert!(e.cbbo(&i("BTC-USDT")).excluded.is_empty());
    assert_eq!(e.open_arbs().len(), 1);
}

#[test]
fn history_and_pair_stats_after_open_and_close() {
    let mut e = engine_with_arb(); // opens at 1 s
    let close = |e: &mut Engine, t| {
        e.handle(feed(
            crate::venue!("bybit"),
            t,
            vec![delta(
                crate::venue!("bybit"),
                "BTC-USDT",
                &[(dec!(101), dec!(0))],
                &[],
            )],
        ))
    };
    let reopen = |e: &mut Engine, t| {
        e.handle(feed(
            crate::venue!("bybit"),
            t,
            vec![delta(
                crate::venue!("bybit"),
                "BTC-USDT",
                &[(dec!(101.5), dec!(1))],
                &[],
            )],
        ))
    };
    close(&mut e, 3 * SEC);
    reopen(&mut e, 4 * SEC);
    // The peak follows the better spread: (101.5 − 100)/100 − 20 bps.
    assert_eq!(e.open_arbs()[0].peak_net_bps, dec!(130));
    e.handle(feed(
        crate::venue!("bybit"),
        5 * SEC,
        vec![delta(
            crate::venue!("bybit"),
            "BTC-USDT",
            &[(dec!(101.5), dec!(0))],
            &[],
        )],
    ));
    reopen(&mut e, 6 * SEC);
    e.handle(EngineInput::Tick { now: 7 * SEC });
    let s = e.snapshot();
    assert_eq!(s.arb_history.len(), 2);
    assert_eq!(
        (s.arb_history[0].opened, s.arb_history[0].closed),
        (4 * SEC, 5 * SEC)
    );
    assert_eq!(
        (s.arb_history[1].opened, s.arb_history[1].closed),
        (SEC, 3 * SEC)
    );
    assert_eq!(s.arb_history[0].peak_net_bps, dec!(130));
    assert_eq!(s.arb_history[1].reason, "spread closed");
    let st = s
        .arb_stats
        .iter()
        .find(|p| p.buy_venue == crate::venue!("okx") && p.sell_venue == crate::venue!("bybit"))
        .unwrap();
    assert_eq!(st.count, 3);
    // 2 s + 1 s closed, 1 s of the one still open at 7 s.
    assert_eq!(st.total_open, 4 * SEC);
    assert_eq!(st.longest, 2 * SEC);
    assert_eq!(st.best_net_bps, dec!(130));
    assert_eq!(st.current_net_bps, Some(dec!(130)));
    let reverse = s
        .arb_stats
        .iter()
        .find(|p| p.buy_venue == crate::venue!("bybit"))
        .unwrap();
    assert_eq!(reverse.count, 0);
    assert!(reverse.current_net_bps.unwrap() < Decimal::ZERO);

    // History is capped by the config.
    e.set_config(EngineConfig {
        arb_history: 1,
        ..cfg()
    });
    close(&mut e, 8 * SEC);
    assert_eq!(e.snapshot().arb_history.len(), 1);
}

#[test]
fn mid_history_funding_and_liquidations() {
    let mut e = engine_with_arb();
    for k in 0..10 {
        let t = 2 * SEC + k * 100_000;
        e.handle(feed(
            crate::venue!("okx"),
            t,
            vec![delta(
                crate::venue!("okx"),
                "BTC-USDT",
                &[(dec!(99), Decimal::from(k + 2))],
                &[],
            )],
        ));
    }
    let s = e.snapshot();
    // Samples at 1 s (first book), then at most every 250 ms of 2.0–2.9 s.
    assert_eq!(s.instruments[0].mid_history.len(), 5);
    assert_eq!(s.instruments[0].mid_history[0], 99.5, "okx alone at 1 s");

    let perp = "BTC-USDT-PERP";
    let fund = |rate: Option<Decimal>, mark: Option<Decimal>| {
        MarketEvent::Funding(Funding {
            venue: crate::venue!("bybit"),
            instrument: i(perp),
            update: FundingUpdate {
                funding_rate: rate,
                mark_price: mark,
                ..Default::default()
            },
            exchange_ts: None,
            received: 0,
        })
    };
    e.handle(feed(
        crate::venue!("bybit"),
        3 * SEC,
        vec![
            snap(
                crate::venue!("bybit"),
                perp,
                &[(dec!(99), dec!(1))],
                &[(dec!(100), dec!(1))],
            ),
            fund(Some(dec!(0.0001)), None),
            fund(None, Some(dec!(99.5))),
            MarketEvent::Liquidation(Liquidation {
                venue: crate::venue!("bybit"),
                instrument: i(perp),
                side: LiquidatedSide::Long,
                price: dec!(99),
                size: dec!(2),
                exchange_ts: None,
                received: 3 * SEC,
            }),
        ],
    ));
    let s = e.snapshot();
    let v = s
        .instruments
        .iter()
        .find(|v| v.instrument == i(perp))
        .unwrap();
    assert_eq!(v.funding.len(), 1);
    assert_eq!(v.funding[0].1.funding_rate, Some(dec!(0.0001)));
    assert_eq!(v.funding[0].1.mark_price, Some(dec!(99.5)));
    // No USD rate for USDT in this engine: the notional is unknown, so 0.
    assert!(v.liquidations_5m_usd >= 0.0);
}

#[test]
fn several_books_of_one_venue_under_a_group() {
    let mut e = Engine::new(EngineConfig {
        quote_groups: usd_group(),
        ..cfg()
    });
    e.handle(feed(
        crate::venue!("binance"),
        SEC,
        vec![
            snap(
                crate::venue!("binance"),
                "BTC-USDT",
                &[(dec!(99), dec!(1))],
                &[(dec!(100), dec!(1))],
            ),
            snap(
                crate::venue!("binance"),
                "BTC-USDC",
                &[(dec!(101), dec!(1))],
                &[(dec!(102), dec!(1))],
            ),
        ],
    ));
    // Same venue: never an arbitrage pair with itself.
    assert!(e.open_arbs().is_empty());
    assert!(e.all_spreads().is_empty());
    e.handle(feed(
        crate::venue!("okx"),
        SEC,
        vec![snap(
            crate::venue!("okx"),
            "BTC-USD",
            &[(dec!(101), dec!(1))],
            &[(dec!(103), dec!(1))],
        )],
    ));
    let arbs = e.open_arbs();
    assert_eq!(arbs.len(), 1);
    assert_eq!(
        (arbs[0].buy_venue, arbs[0].buy_instrument),
        (crate::venue!("binance"), i("BTC-USDT"))
    );
    let s = e.snapshot();
    assert_eq!(s.instruments[0].label, "BTC-USD≈USDT≈USDC");
    let c = &s.instruments[0].cbbo;
    // Equal 101 bids of size 1: binance before okx.
    assert_eq!(
        c.bid.as_ref().map(|b| (b.venue, b.instrument)),
        Some((crate::venue!("binance"), i("BTC-USDC")))
    );
}

#[test]
fn incremental_matches_a_fresh_engine() {
    // Drive one engine with many deltas, feed a second only the final
    // books as snapshots: their spreads must agree.
    let venues = [
        crate::venue!("binance"),
        crate::venue!("okx"),
        crate::venue!("kraken"),
    ];
    let mut inc = Engine::new(cfg());
    for (n, v) in venues.iter().enumerate() {
        let off = Decimal::from(n as i64) / dec!(10);
        inc.handle(feed(
            *v,
            SEC,
            vec![snap(
                *v,
                "ETH-USD",
                &[(dec!(99) + off, dec!(1)), (dec!(98), dec!(2))],
                &[(dec!(100) + off, dec!(1)), (dec!(101), dec!(2))],
            )],
        ));
    }
    let mut seed: u64 = 7;
    for k in 0..300 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v = venues[(seed >> 33) as usize % 3];
        let p = Decimal::new(9_700 + ((seed >> 40) % 600) as i64, 2);
        let size = Decimal::from(((seed >> 20) % 4) as i64);
        let (bids, asks) = match inc.book(v, &i("ETH-USD")).and_then(|b| b.mid()) {
            Some(mid) if p < mid => (vec![(p, size)], vec![]),
            _ => (vec![], vec![(p, size)]),
        };
        inc.handle(feed(v, SEC + k, vec![delta(v, "ETH-USD", &bids, &asks)]));
    }
    let mut fresh = Engine::new(cfg());
    for b in inc.books() {
        let bids: Vec<(Decimal, Decimal)> = b.book.bids.iter().map(|l| (l.price, l.size)).collect();
        let asks: Vec<(Decimal, Decimal)> = b.book.asks.iter().map(|l| (l.price, l.size)).collect();
        let ev = if b.state.is_live() {
            snap(b.venue, "ETH-USD", &bids, &asks)
        } else {
            MarketEvent::BookState {
                venue: b.venue,
                instrument: b.instrument,
                state: b.state.clone(),
            }
        };
        fresh.handle(feed(b.venue, 2 * SEC, vec![ev]));
    }
    let strip = |rows: Vec<ArbOpportunity>| {
        rows.into_iter()
            .map(|a| (a.buy_venue, a.sell_venue, a.size, a.net_bps, a.profit))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(inc.all_spreads()), strip(fresh.all_spreads()));
    assert_eq!(strip(inc.open_arbs()), strip(fresh.open_arbs()));
    let (a, b) = (inc.cbbo(&i("ETH-USD")), fresh.cbbo(&i("ETH-USD")));
    assert_eq!(
        (
            a.bid.map(|x| (x.price, x.venue)),
            a.ask.map(|x| (x.price, x.venue))
        ),
        (
            b.bid.map(|x| (x.price, x.venue)),
            b.ask.map(|x| (x.price, x.venue))
        )
    );
}

#[test]
fn forgotten_books_leave_every_view() {
    let mut e = engine_with_arb();
    // A third BTC-USDT book (kraken asks 100.5: also buys into bybit) and
    // a second instrument on okx.
    e.handle(feed(
        crate::venue!("kraken"),
        SEC,
        vec![snap(
            crate::venue!("kraken"),
            "BTC-USDT",
            &[(dec!(99.5), dec!(1))],
            &[(dec!(100.5), dec!(1))],
        )],
    ));
    e.handle(feed(
        crate::venue!("okx"),
        SEC,
        vec![snap(
            crate::venue!("okx"),
            "ETH-USDT",
            &[(dec!(10), dec!(1))],
            &[(dec!(11), dec!(1))],
        )],
    ));
    assert_eq!(e.open_arbs().len(), 2);
    e.handle(EngineInput::Forget {
        venue: crate::venue!("okx"),
        instruments: vec![i("BTC-USDT")],
        venue_stopped: false,
    });
    assert!(e.book(crate::venue!("okx"), &i("BTC-USDT")).is_none());
    let closed = &e.snapshot().arb_history[0];
    assert_eq!(closed.reason, "okx BTC-USDT no longer watched");
    // What is left computes as in an engine that never saw the book.
    let arbs = e.open_arbs();
    assert_eq!(arbs.len(), 1);
    assert_eq!(
        (arbs[0].buy_venue, arbs[0].sell_venue),
        (crate::venue!("kraken"), crate::venue!("bybit"))
    );
    let c = e.cbbo(&i("BTC-USDT"));
    assert_eq!(
        c.ask.map(|a| (a.price, a.venue)),
        Some((dec!(100.5), crate::venue!("kraken")))
    );
    assert_eq!(
        c.bid.map(|b| (b.price, b.venue)),
        Some((dec!(101), crate::venue!("bybit")))
    );
    assert_eq!(
        e.cbbo(&i("ETH-USDT")).bid.map(|b| b.price),
        Some(dec!(10)),
        "other books of the venue stay"
    );
    let s = e.snapshot();
    let btc = s
        .instruments
        .iter()
        .find(|v| v.label == "BTC-USDT")
        .unwrap();
    let venues: Vec<Venue> = btc.venues.iter().map(|b| b.venue).collect();
    assert_eq!(venues, [crate::venue!("bybit"), crate::venue!("kraken")]);

    // Subscribed again later: a new book starts from its snapshot.
    e.handle(feed(
        crate::venue!("okx"),
        2 * SEC,
        vec![snap(
            crate::venue!("okx"),
            "BTC-USDT",
            &[(dec!(99), dec!(1))],
            &[(dec!(100), dec!(1))],
        )],
    ));
    assert_eq!(e.open_arbs().len(), 2);
    assert_eq!(e.open_arbs()[0].buy_venue, crate::venue!("okx"));

    // An unwatched key with no book left leaves the snapshot, and a
    // stopped venue's connection rows leave the health view.
    e.handle(EngineInput::Forget {
        venue: crate::venue!("okx"),
        instruments: vec![i("BTC-USDT"), i("ETH-USDT")],
        venue_stopped: true,
    });
    let s = e.snapshot();
    assert!(s.instruments.iter().all(|v| v.label != "ETH-USDT"));
    assert!(s.health.iter().all(|h| h.venue != crate::venue!("okx")));
    assert!(s.health.iter().any(|h| h.venue == crate::venue!("bybit")));
    assert_eq!(e.books().count(), 2);
    // Forgetting what is not there is harmless.
    e.handle(EngineInput::Forget {
        venue: crate::venue!("gemini"),
        instruments: vec![i("BTC-USD")],
        venue_stopped: false,
    });
    assert_eq!(e.open_arbs().len(), 1);
}

#[test]
fn instrument_lists_reach_the_snapshot() {
    let mut e = Engine::new(cfg());
    let list = vec![crate::model::InstrumentInfo {
        instrument: i("SOL-USDT"),
        native: "SOLUSDT".into(),
        tick_size: None,
        lot_size: None,
        contract_size: None,
        contract_usd: None,
    }];
    e.handle(feed(
        crate::venue!("binance"),
        SEC,
        vec![MarketEvent::Instruments {
            venue: crate::venue!("binance"),
            list: list.clone(),
        }],
    ));
    let s = e.snapshot();
    assert_eq!(
        s.instrument_lists
            .get(&crate::venue!("binance"))
            .map(|l| l.as_slice()),
        Some(list.as_slice())
    );
}

/// Every query a UI frame or a headless line makes.
fn look_at_everything(e: &mut Engine) {
    let s = e.snapshot();
    for v in &s.instruments {
        let _ = v.cbbo.spread_bps();
        let _ = e.cbbo(&v.instrument).spread_bps();
    }
    let _ = (e.all_spreads(), e.open_arbs(), e.totals());
    for b in e.books() {
        let _ = (b.book.mid(), b.book.bids.top(10), b.book.asks.top(10));
        let _ = crate::book::walk(&b.book.asks, Decimal::MAX);
        let _ = crate::book::walk(&b.book.bids, Decimal::MAX).vwap();
    }
}

#[test]
fn extreme_values_never_panic() {
    let (max, min) = (Decimal::MAX, Decimal::MIN);
    assert_eq!(max.to_string(), "79228162514264337593543950335");
    assert_eq!(min.to_string(), "-79228162514264337593543950335");
    let tiny = Decimal::new(1, 28);
    let configs = [
        cfg(),
        EngineConfig {
            default_taker_fee_bps: Decimal::ZERO,
            quote_groups: usd_group(),
            ..cfg()
        },
        EngineConfig {
            default_taker_fee_bps: max,
            arb_max_notional: max,
            ..cfg()
        },
        EngineConfig {
            default_taker_fee_bps: min,
            arb_max_notional: dec!(1),
            arb_min_net_bps: min,
            arb_min_profit: min,
            ..cfg()
        },
    ];
    for config in configs {
        let mut e = Engine::new(config.clone());
        let (okx, bybit, kraken) = (
            crate::venue!("okx"),
            crate::venue!("bybit"),
            crate::venue!("kraken"),
        );
        let (binance, coinbase) = (crate::venue!("binance"), crate::venue!("coinbase"));
        let books = [
            // The bounds themselves, as prices and sizes.
            (
                okx,
                vec![(min, max), (dec!(1), min)],
                vec![(max, max), (dec!(2), min)],
            ),
            // A mid that only fits as a sum of halves.
            (
                bybit,
                vec![(max - dec!(1), max), (dec!(1), max)],
                vec![(max, max)],
            ),
            // Negative prices on both sides.
            (
                kraken,
                vec![(min, max)],
                vec![(min + dec!(1), max), (dec!(-1), max)],
            ),
            // Tiny prices and sizes: quotients that do not fit.
            (binance, vec![(tiny, max)], vec![(tiny * dec!(2), tiny)]),
            // Crossed from the start.
            (coinbase, vec![(max, max)], vec![(min, max)]),
        ];
        // All live at an ordinary time first (the engine clock only moves
        // forward, so a book received at i64::MIN would be stale at once),
        // with absurd exchange times.
        for (k, (venue, bids, asks)) in books.iter().enumerate() {
            let mut ev = snap(*venue, "BTC-USDT", bids, asks);
            if let MarketEvent::Book(u) = &mut ev {
                u.exchange_ts = Some(if k % 2 == 0 { i64::MIN } else { i64::MAX });
            }
            e.handle(feed(*venue, SEC, vec![ev]));
            look_at_everything(&mut e);
        }
        assert!(
            !e.snapshot().instruments[0].cbbo.excluded.is_empty(),
            "the crossed book is out"
        );
        // Then receive times at the ends of the range (a book last updated at
        // i64::MIN has an age of i64::MAX at any later engine time).
        for t in [i64::MIN, 2 * SEC, i64::MAX] {
            for (venue, _, _) in &books {
                let events = vec![
                    delta(
                        *venue,
                        "BTC-USDT",
                        &[(max, max), (min, min)],
                        &[(max, tiny)],
                    ),
                    delta(
                        *venue,
                        "BTC-USDT",
                        &[(tiny, max)],
                        &[(min, max), (max, min)],
                    ),
                    MarketEvent::Trade(crate::model::Trade {
                        venue: *venue,
                        instrument: i("BTC-USDT"),
                        price: max,
                        size: max,
                        side: crate::model::TakerSide::Buy,
                        exchange_ts: Some(t),
                        received: t,
                    }),
                    MarketEvent::Trade(crate::model::Trade {
                        venue: *venue,
                        instrument: i("BTC-EUR"),
                        price: min,
                        size: max,
                        side: crate::model::TakerSide::Sell,
                        exchange_ts: Some(i64::MIN),
                        received: t,
                    }),
                    MarketEvent::Liquidation(Liquidation {
                        venue: *venue,
                        instrument: i("BTC-USDT-PERP"),
                        side: LiquidatedSide::Short,
                        price: min,
                        size: min,
                        exchange_ts: Some(i64::MAX),
                        received: t,
                    }),
                    MarketEvent::Liquidation(Liquidation {
                        venue: *venue,
                        instrument: i("BTC-USDT-PERP"),
                        side: LiquidatedSide::Long,
                        price: max,
                        size: max,
                        exchange_ts: None,
                        received: t,
                    }),
                    MarketEvent::Funding(Funding {
                        venue: *venue,
                        instrument: i("BTC-USDT-PERP"),
                        update: FundingUpdate {
                            funding_rate: Some(min),
                            next_funding: Some(i64::MIN),
                            open_interest: Some(max),
                            mark_price: Some(max),
                            index_price: Some(min),
                            ..FundingUpdate::default()
                        },
                        exchange_ts: Some(t),
                        received: t,
                    }),
                ];
                e.handle(feed(*venue, t, events));
                look_at_everything(&mut e);
            }
            e.handle(EngineInput::Tick { now: t });
            e.handle(EngineInput::Conn {
                venue: okx,
                conn: "wss://okx".into(),
                state: ConnState::Disconnected {
                    reason: "closed".into(),
                },
                at: t,
            });
            look_at_everything(&mut e);
            // Fresh snapshots after all that, then a regroup.
            for (venue, bids, asks) in &books {
                e.handle(feed(*venue, t, vec![snap(*venue, "BTC-USDT", bids, asks)]));
            }
            e.set_config(EngineConfig {
                quote_groups: if config.quote_groups.is_empty() {
                    usd_group()
                } else {
                    Vec::new()
                },
                stale_after: i64::MAX,
                ..config.clone()
            });
            look_at_everything(&mut e);
            e.set_config(EngineConfig {
                stale_after: 1,
                ..config.clone()
            });
            e.handle(EngineInput::Tick { now: i64::MAX });
            look_at_everything(&mut e);
        }
        e.handle(EngineInput::Forget {
            venue: bybit,
            instruments: vec![i("BTC-USDT"), i("BTC-USDT-PERP")],
            venue_stopped: true,
        });
        look_at_everything(&mut e);
    }
}

#[test]
fn venue_reset_takes_every_book_of_the_venue_out_until_its_snapshot() {
    let mut e = engine_with_arb(); // buy okx, sell bybit: open at 1 s
    let okx = crate::venue!("okx");
    e.handle(feed(
        okx,
        SEC,
        vec![snap(
            okx,
            "ETH-USDT",
            &[(dec!(10), dec!(1))],
            &[(dec!(11), dec!(1))],
        )],
    ));
    // A book still syncing is marked too.
    e.handle(feed(
        okx,
        SEC,
        vec![MarketEvent::BookState {
            venue: okx,
            instrument: i("SOL-USDT"),
            state: BookState::Syncing,
        }],
    ));
    assert_eq!(e.open_arbs().len(), 1);
    let v1 = e.snapshot().version;

    let reason = "feed task restarted after an internal error";
    e.handle(EngineInput::VenueReset {
        venue: okx,
        reason: reason.to_string(),
    });
    let out = BookState::OutOfSync(OutOfSyncReason::Venue(reason.to_string()));
    let states: Vec<(Venue, BookState)> = e.books().map(|b| (b.venue, b.state)).collect();
    assert_eq!(
        states,
        [
            (crate::venue!("bybit"), BookState::Live),
            (okx, out.clone()),
            (okx, out.clone()),
            (okx, out.clone()),
        ]
    );
    assert!(e.open_arbs().is_empty());
    let c = e.cbbo(&i("BTC-USDT"));
    assert_eq!(c.bid.unwrap().venue, crate::venue!("bybit"));
    assert_eq!(c.ask.unwrap().venue, crate::venue!("bybit"));
    assert_eq!(c.excluded, [(okx, format!("out of sync: {reason}"))]);
    assert!(e.cbbo(&i("ETH-USDT")).bid.is_none());
    let s = e.snapshot();
    assert_eq!(s.version, v1 + 1);
    assert_eq!(s.arb_history.len(), 1);
    assert_eq!(
        s.arb_history[0].reason,
        format!("okx out of sync: {reason}")
    );
    assert_eq!(s.arb_history[0].closed, SEC);
    // The levels stay for display.
    let btc = s
        .instruments
        .iter()
        .find(|v| v.label == "BTC-USDT")
        .unwrap();
    let okx_book = btc.venues.iter().find(|b| b.venue == okx).unwrap();
    assert_eq!(okx_book.state, out);
    assert_eq!(okx_book.asks.len(), 1);
    assert_eq!(btc.aggregated.asks.len(), 1, "bybit's only");

    // Deltas do not bring it back; a snapshot does, book by book.
    e.handle(feed(
        okx,
        2 * SEC,
        vec![delta(okx, "BTC-USDT", &[(dec!(99.5), dec!(1))], &[])],
    ));
    assert_eq!(e.book(okx, &i("BTC-USDT")).unwrap().state(), &out);
    assert!(e.open_arbs().is_empty());
    e.handle(feed(
        okx,
        3 * SEC,
        vec![snap(
            okx,
            "BTC-USDT",
            &[(dec!(99), dec!(1))],
            &[(dec!(100), dec!(1))],
        )],
    ));
    assert!(e.book(okx, &i("BTC-USDT")).unwrap().is_live());
    assert_eq!(e.book(okx, &i("ETH-USDT")).unwrap().state(), &out);
    assert!(e.cbbo(&i("BTC-USDT")).excluded.is_empty());
    let arbs = e.open_arbs();
    assert_eq!(arbs.len(), 1);
    assert_eq!(arbs[0].opened, 3 * SEC, "a new opportunity");

    // A venue with no books: nothing happens to the others.
    e.handle(EngineInput::VenueReset {
        venue: crate::venue!("gemini"),
        reason: "restarted".into(),
    });
    assert_eq!(e.open_arbs().len(), 1);
    assert_eq!(e.snapshot().arb_history.len(), 1);
}

#[test]
fn sinks_hear_openings_closings_states_and_incidents_in_order() {
    use super::notices::Notice;
    let mut e = Engine::new(cfg());
    let (mut rx, status) = e.add_sink("test", 1024);
    let mut base = engine_with_arb();
    // Replay the same inputs into the engine with a sink.
    for v in ["okx", "bybit"] {
        let venue: Venue = v.parse().unwrap();
        let (bids, asks) = if v == "okx" {
            ([(dec!(99), dec!(1))], [(dec!(100), dec!(1))])
        } else {
            ([(dec!(101), dec!(2))], [(dec!(102), dec!(1))])
        };
        e.handle(feed(
            venue,
            SEC,
            vec![snap(venue, "BTC-USDT", &bids, &asks)],
        ));
    }
    assert_eq!(base.open_arbs(), e.open_arbs(), "a sink changes nothing");
    e.handle(feed(
        crate::venue!("bybit"),
        2 * SEC,
        vec![
            MarketEvent::Incident {
                venue: crate::venue!("bybit"),
                instrument: Some(i("BTC-USDT")),
                incident: crate::model::Incident::Gap,
                detail: Some("u 5 → 7".into()),
            },
            MarketEvent::BookState {
                venue: crate::venue!("bybit"),
                instrument: i("BTC-USDT"),
                state: BookState::OutOfSync(OutOfSyncReason::Gap {
                    expected: 5,
                    got: 7,
                }),
            },
        ],
    ));
    let mut kinds = Vec::new();
    while let Ok(n) = rx.try_recv() {
        kinds.push(match &*n {
            Notice::ArbOpened(_) => "opened".to_string(),
            Notice::ArbClosed(c) => format!("closed: {}", c.reason),
            Notice::BookState { venue, state, .. } => format!("{venue} {}", state.label()),
            Notice::Incident { incident, .. } => format!("{incident:?}"),
            other => format!("{other:?}"),
        });
    }
    assert_eq!(
        kinds,
        [
            "okx live",
            "bybit live",
            "opened",
            "Gap",
            "bybit out_of_sync",
            "closed: bybit out of sync"
        ]
    );
    assert_eq!(status.dropped(), 0);
    let _ = base.snapshot();
    assert_eq!(e.snapshot().sinks[0].sent, 6);
}
