//! Candles built from Bybit's recorded trades agree with Bybit's own
//! `kline.1` pushes in the same capture (`../shared/captures/BYBIT`, linear
//! and spot connections).
//!
//! For each instrument with pushes of two intervals (the capture starts a
//! second before a minute does), the builder is seeded the way a backfill
//! seeds it: with the previous interval's last kline push (Bybit opens a
//! candle at the previous close, and its high and low include that open),
//! delivered where that push arrived. Then, at the last push of the next
//! interval, open, high, low, close and volume equal the candle built from
//! the trades up to that push's exchange time (pushes lag trades by up to a
//! second, so the interval's last push is the one compared). The taker
//! buy/sell split, which klines do not carry, is checked against the sum of
//! the raw `S: "Buy"` / `"Sell"` sizes.
//!
//! The second test proves the check would catch a wrong side, a wrong bucket
//! boundary and a double-counted trade, by feeding mutated trades.

use std::collections::BTreeMap;
use std::path::Path;

use depthwatch::capture::{CaptureReader, Frame, Record};
use depthwatch::engine::candles::{Candle, CandleSource};
use depthwatch::engine::{Engine, EngineConfig, EngineInput};
use depthwatch::model::{
    Instrument, Kline, MarketEvent, Micros, TakerSide, Timeframe, Trade, Venue,
};
use depthwatch::venues::bybit::{Bybit, CANDLE_OPEN};
use depthwatch::venues::testkit::captures_or_skip;
use depthwatch::venues::{Adapter, AdapterConfig, Output};
use rust_decimal::Decimal;
use serde_json::Value;

const MIN: Micros = 60_000_000;

/// One `kline.1` push, as Bybit sent it.
#[derive(Clone, Debug)]
struct Push {
    /// Position of its record in the capture.
    at: usize,
    received: Micros,
    kline: Kline,
    /// The push's exchange time.
    ts: Micros,
}

/// What one instrument is checked against.
#[derive(Clone, Debug)]
struct Check {
    instrument: Instrument,
    seed: Push,
    last: Push,
    /// Σ sizes of the raw trades in the checked interval up to `last.ts`,
    /// by the side Bybit printed.
    buy: Decimal,
    sell: Decimal,
}

struct Capture {
    checks: Vec<Check>,
    /// Every trade the adapter produced, with its record position.
    trades: Vec<(usize, Trade)>,
}

fn d(v: &Value) -> Decimal {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .expect("a decimal string")
}

fn instrument(addr: &str, symbol: &str) -> Instrument {
    let base = symbol.strip_suffix("USDT").expect("USDT symbols only");
    let perp = if addr.ends_with("/linear") {
        "-PERP"
    } else {
        ""
    };
    format!("{base}-USDT{perp}").parse().unwrap()
}

fn read(path: &Path) -> Capture {
    let bybit: Venue = "bybit".parse().unwrap();
    let mut adapter = Bybit::new(AdapterConfig::default());
    let mut out = Output::default();
    let mut pushes: BTreeMap<Instrument, Vec<Push>> = BTreeMap::new();
    // Raw trades: (instrument, exchange ms, size, Bybit's side).
    let mut raw: Vec<(Instrument, Micros, Decimal, String)> = Vec::new();
    let mut trades = Vec::new();
    for (at, rec) in CaptureReader::open(path)
        .expect("capture opens")
        .enumerate()
    {
        let rec = rec.expect("record reads");
        match rec {
            Record::Connect { addr, ts, .. } => adapter.on_open(&addr, ts, &mut out),
            Record::Http { url, body, ts, .. } => adapter.on_http(&url, &body, ts, &mut out),
            Record::Send { .. } => {}
            Record::Recv {
                addr,
                frame: Frame::Text(text),
                ts,
                ..
            } => {
                adapter.on_text(&addr, &text, ts, &mut out);
                let v: Value = serde_json::from_str(&text).unwrap();
                let topic = v["topic"].as_str().unwrap_or("");
                if let Some(symbol) = topic.strip_prefix("kline.1.") {
                    for k in v["data"].as_array().unwrap() {
                        pushes
                            .entry(instrument(&addr, symbol))
                            .or_default()
                            .push(Push {
                                at,
                                received: ts,
                                ts: k["timestamp"].as_i64().unwrap() * 1_000,
                                kline: Kline {
                                    start: k["start"].as_i64().unwrap() * 1_000,
                                    open: d(&k["open"]),
                                    high: d(&k["high"]),
                                    low: d(&k["low"]),
                                    close: d(&k["close"]),
                                    volume: d(&k["volume"]),
                                    turnover: Some(d(&k["turnover"])),
                                    buy_volume: None,
                                    trades: None,
                                },
                            });
                    }
                } else if let Some(symbol) = topic.strip_prefix("publicTrade.") {
                    for t in v["data"].as_array().unwrap() {
                        raw.push((
                            instrument(&addr, symbol),
                            t["T"].as_i64().unwrap() * 1_000,
                            d(&t["v"]),
                            t["S"].as_str().unwrap().to_string(),
                        ));
                    }
                }
            }
            Record::Recv { .. } => {}
        }
        for e in out.events.drain(..) {
            if let MarketEvent::Trade(t) = e {
                assert_eq!(t.venue, bybit);
                trades.push((at, t));
            }
        }
        out.actions.clear();
    }
    let mut checks = Vec::new();
    for (instrument, list) in pushes {
        let first = list[0].kline.start;
        let seed = list
            .iter()
            .rfind(|p| p.kline.start == first)
            .cloned()
            .unwrap();
        let Some(last) = list.iter().rfind(|p| p.kline.start == first + MIN).cloned() else {
            continue;
        };
        let (mut buy, mut sell) = (Decimal::ZERO, Decimal::ZERO);
        for (i, t, size, side) in &raw {
            if *i == instrument && (last.kline.start..=last.ts).contains(t) {
                match side.as_str() {
                    "Buy" => buy += size,
                    "Sell" => sell += size,
                    other => panic!("side {other}"),
                }
            }
        }
        checks.push(Check {
            instrument,
            seed,
            last,
            buy,
            sell,
        });
    }
    Capture { checks, trades }
}

/// The candle of the checked interval built by the engine from `trades`
/// (those of the instrument up to the last push's exchange time), seeded
/// with the previous interval's last push where it arrived.
fn build(check: &Check, trades: &[(usize, Trade)]) -> Option<Candle> {
    let bybit: Venue = "bybit".parse().unwrap();
    let mut engine = Engine::new(EngineConfig::default());
    let feed = |received, events| EngineInput::Feed {
        venue: bybit,
        conn: "BYBIT".into(),
        received,
        bytes: 0,
        events,
    };
    let mut seeded = false;
    let seed = |engine: &mut Engine| {
        engine.handle(feed(
            check.seed.received,
            vec![MarketEvent::Klines {
                venue: bybit,
                instrument: check.instrument,
                timeframe: Timeframe::M1,
                open_rule: CANDLE_OPEN,
                klines: vec![check.seed.kline.clone()],
            }],
        ));
    };
    for (at, t) in trades {
        if !seeded && *at > check.seed.at {
            seed(&mut engine);
            seeded = true;
        }
        let exchange = t.exchange_ts.unwrap_or(t.received);
        if t.instrument == check.instrument && exchange <= check.last.ts {
            engine.handle(feed(t.received, vec![MarketEvent::Trade(t.clone())]));
        }
    }
    if !seeded {
        seed(&mut engine);
    }
    engine.handle(EngineInput::Tick {
        now: check.last.received,
    });
    let snap = engine.snapshot();
    let series = snap.candles.get(
        check.instrument,
        CandleSource::Venue(bybit, check.instrument),
        Timeframe::M1,
    )?;
    series
        .iter()
        .find(|c| c.start == check.last.kline.start)
        .cloned()
}

/// What differs between the built candle and Bybit's, in words.
fn differences(check: &Check, trades: &[(usize, Trade)]) -> Vec<String> {
    let i = check.instrument;
    let Some(c) = build(check, trades) else {
        return vec![format!("{i}: no candle built")];
    };
    let k = &check.last.kline;
    let mut out = Vec::new();
    let mut cmp = |what: &str, got: Decimal, want: Decimal| {
        if got.normalize() != want.normalize() {
            out.push(format!("{i} {what}: built {got}, Bybit {want}"));
        }
    };
    cmp("open", c.open, k.open);
    cmp("high", c.high, k.high);
    cmp("low", c.low, k.low);
    cmp("close", c.close, k.close);
    cmp("volume", c.volume, k.volume);
    cmp("buy volume", c.buy_volume.unwrap_or_default(), check.buy);
    cmp("sell volume", c.sell_volume.unwrap_or_default(), check.sell);
    out
}

fn capture() -> Option<Capture> {
    let dir = captures_or_skip("candles_bybit")?;
    Some(read(&dir.join("BYBIT.jsonl.zst")))
}

#[test]
fn candles_from_trades_equal_bybit_klines() {
    let Some(cap) = capture() else { return };
    let linear = cap.checks.iter().filter(|c| c.instrument.is_perp()).count();
    assert!(
        cap.checks.len() >= 5 && linear >= 1 && linear < cap.checks.len(),
        "instruments checked on both connections: {:?}",
        cap.checks.iter().map(|c| c.instrument).collect::<Vec<_>>()
    );
    let mut problems = Vec::new();
    for check in &cap.checks {
        // The interval starts one second into the capture, with trades in it.
        assert_eq!(check.last.kline.start, check.seed.kline.start + MIN);
        problems.extend(differences(check, &cap.trades));
    }
    assert!(problems.is_empty(), "{problems:#?}");
    println!(
        "candles_bybit: {} instruments agree with Bybit's kline.1",
        cap.checks.len()
    );
}

/// Each mutation of the trades makes at least one instrument disagree.
#[test]
fn the_check_catches_a_wrong_side_boundary_or_double_count() {
    let Some(cap) = capture() else { return };
    let in_interval = |check: &Check, t: &Trade| {
        let e = t.exchange_ts.unwrap_or(t.received);
        t.instrument == check.instrument && (check.last.kline.start..=check.last.ts).contains(&e)
    };
    type Mutation = Box<dyn Fn(&Check, &[(usize, Trade)]) -> Vec<(usize, Trade)>>;
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "one trade's taker side flipped",
            Box::new(move |check, trades| {
                let mut out = trades.to_vec();
                if let Some((_, t)) = out.iter_mut().find(|(_, t)| in_interval(check, t)) {
                    t.side = match t.side {
                        TakerSide::Buy => TakerSide::Sell,
                        TakerSide::Sell => TakerSide::Buy,
                    };
                }
                out
            }),
        ),
        (
            "one trade counted twice",
            Box::new(move |check, trades| {
                let mut out = trades.to_vec();
                if let Some(i) = out.iter().position(|(_, t)| in_interval(check, t)) {
                    let dup = out[i].clone();
                    out.insert(i + 1, dup);
                }
                out
            }),
        ),
        (
            "buckets starting a second late",
            Box::new(|_, trades| shifted(trades, -1_000_000)),
        ),
        (
            "buckets starting a second early",
            Box::new(|_, trades| shifted(trades, 1_000_000)),
        ),
        (
            "the other connection's trades of the same symbol",
            Box::new(move |check, trades| {
                trades
                    .iter()
                    .map(|(at, t)| {
                        let mut t = t.clone();
                        if t.instrument.base == check.instrument.base
                            && t.instrument.kind != check.instrument.kind
                        {
                            t.instrument = check.instrument;
                        }
                        (*at, t)
                    })
                    .collect()
            }),
        ),
    ];
    let unmutated: usize = cap
        .checks
        .iter()
        .map(|c| differences(c, &cap.trades).len())
        .sum();
    assert_eq!(unmutated, 0);
    for (name, mutate) in &mutations {
        let caught: Vec<String> = cap
            .checks
            .iter()
            .flat_map(|c| differences(c, &mutate(c, &cap.trades)))
            .collect();
        assert!(!caught.is_empty(), "the check misses {name}");
        println!("{name}: {}", caught[0]);
    }
}

/// Exchange times moved by `by` (a builder whose bucket boundary is off).
fn shifted(trades: &[(usize, Trade)], by: Micros) -> Vec<(usize, Trade)> {
    trades
        .iter()
        .map(|(at, t)| {
            let mut t = t.clone();
            t.exchange_ts = t.exchange_ts.map(|e| e + by);
            (*at, t)
        })
        .collect()
}
