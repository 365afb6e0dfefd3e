use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::series::{GRACE, RING};
use super::*;
use crate::model::{Asset, TakerSide};

const T0: Micros = 1_786_310_820_000_000;
const MIN: Micros = 60_000_000;
const SEC: Micros = 1_000_000;

fn i(s: &str) -> Instrument {
    s.parse().unwrap()
}

fn trade(venue: &str, inst: &str, at: Micros, price: Decimal, size: Decimal, buy: bool) -> Trade {
    Trade {
        venue: venue.parse().unwrap(),
        instrument: i(inst),
        price,
        size,
        side: if buy { TakerSide::Buy } else { TakerSide::Sell },
        exchange_ts: Some(at),
        received: at + 50_000,
    }
}

fn no_groups() -> QuoteGroups {
    QuoteGroups::new(&[])
}

fn venue_series<'a>(v: &'a CandlesView, venue: &str, inst: &str, tf: Timeframe) -> &'a SeriesView {
    let key = i(inst);
    v.get(key, CandleSource::Venue(venue.parse().unwrap(), key), tf)
        .unwrap()
}

#[test]
fn trades_build_ohlcv_flow_and_vwap_per_interval() {
    let g = no_groups();
    let mut c = Candles::new();
    for t in [
        trade("binance", "BTC-USDT", T0 + SEC, dec!(100), dec!(1), true),
        trade(
            "binance",
            "BTC-USDT",
            T0 + 2 * SEC,
            dec!(104),
            dec!(2),
            false,
        ),
        trade("binance", "BTC-USDT", T0 + 3 * SEC, dec!(98), dec!(1), true),
        trade(
            "binance",
            "BTC-USDT",
            T0 + 59 * SEC,
            dec!(101),
            dec!(1),
            false,
        ),
        // The next minute closes the first.
        trade("binance", "BTC-USDT", T0 + MIN, dec!(102), dec!(0.5), true),
    ] {
        c.on_trade(&t, &g);
    }
    let v = c.view(&g);
    let s = venue_series(&v, "binance", "BTC-USDT", Timeframe::M1);
    assert_eq!(s.closed.len(), 1);
    let m = &s.closed[0];
    assert_eq!(m.start, T0);
    assert_eq!(
        (m.open, m.high, m.low, m.close, m.volume),
        (dec!(100), dec!(104), dec!(98), dec!(101), dec!(5))
    );
    assert_eq!(
        (m.buy_volume, m.sell_volume),
        (Some(dec!(2)), Some(dec!(3)))
    );
    assert_eq!(m.trades, Some(4));
    assert_eq!(m.vwap(), Some(dec!(101.4)), "(100 + 208 + 98 + 101) / 5");
    assert!(m.partial, "the first candle began before we listened");
    let open = s.open.as_ref().unwrap();
    assert_eq!(
        (open.start, open.open, open.volume),
        (T0 + MIN, dec!(102), dec!(0.5))
    );
    assert!(!open.partial);
    // The 5-minute candle holds all five trades.
    let five = venue_series(&v, "binance", "BTC-USDT", Timeframe::M5);
    assert!(five.closed.is_empty());
    assert_eq!(five.open.as_ref().unwrap().volume, dec!(5.5));
    assert_eq!(five.open.as_ref().unwrap().start, Timeframe::M5.bucket(T0));
    // One candle closed per interval so far: the minute.
    assert_eq!(v.recent.len(), 1);
    assert_eq!(v.recent[0].timeframe, Timeframe::M1);
}

#[test]
fn late_trades_are_dropped_and_quiet_intervals_are_flat() {
    let g = no_groups();
    let mut c = Candles::new();
    c.on_trade(
        &trade("okx", "ETH-USDT", T0 + SEC, dec!(10), dec!(1), true),
        &g,
    );
    c.on_trade(
        &trade(
            "okx",
            "ETH-USDT",
            T0 + 3 * MIN + SEC,
            dec!(12),
            dec!(1),
            true,
        ),
        &g,
    );
    // Belongs to the first minute, which is closed.
    c.on_trade(
        &trade("okx", "ETH-USDT", T0 + 30 * SEC, dec!(11), dec!(1), true),
        &g,
    );
    let v = c.view(&g);
    assert_eq!(v.late_trades, 1);
    let s = venue_series(&v, "okx", "ETH-USDT", Timeframe::M1);
    let starts: Vec<Micros> = s.iter().map(|c| c.start).collect();
    assert_eq!(starts, [T0, T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
    for flat in &s.closed[1..] {
        assert_eq!(
            (flat.open, flat.close, flat.volume),
            (dec!(10), dec!(10), Decimal::ZERO)
        );
        assert_eq!(flat.trades, Some(0));
    }
    assert_eq!(
        s.closed[0].volume,
        dec!(1),
        "the late trade was not folded in"
    );
}

#[test]
fn the_clock_closes_a_candle_after_the_grace_less_the_feed_latency() {
    let g = no_groups();
    let mut c = Candles::new();
    // Received 50 ms after it happened.
    c.on_trade(
        &trade("okx", "ETH-USDT", T0 + SEC, dec!(10), dec!(1), true),
        &g,
    );
    let end = T0 + MIN;
    assert!(!c.tick(end + GRACE, &g), "latency not yet passed");
    assert!(c.tick(end + GRACE + 50_000, &g));
    let v = c.view(&g);
    let s = venue_series(&v, "okx", "ETH-USDT", Timeframe::M1);
    assert_eq!((s.closed.len(), s.open.is_none()), (1, true));
    // A trade of that minute now is late.
    c.on_trade(
        &trade("okx", "ETH-USDT", T0 + 59 * SEC, dec!(10), dec!(1), true),
        &g,
    );
    assert_eq!(c.view(&g).late_trades, 1);
}

fn kline(start: Micros, o: Decimal, h: Decimal, l: Decimal, close: Decimal, v: Decimal) -> Kline {
    Kline {
        start,
        open: o,
        high: h,
        low: l,
        close,
        volume: v,
        turnover: None,
        buy_volume: None,
        trades: None,
    }
}

#[test]
fn a_previous_close_venue_opens_at_the_seeded_close() {
    let g = no_groups();
    let mut c = Candles::new();
    let perp = i("BTC-USDT-PERP");
    let bybit: Venue = "bybit".parse().unwrap();
    let prev = kline(
        T0 - MIN,
        dec!(100),
        dec!(101),
        dec!(99),
        dec!(100.5),
        dec!(3),
    );
    c.on_klines(
        bybit,
        perp,
        Timeframe::M1,
        CandleOpen::PreviousClose,
        &[prev],
        T0 + SEC,
        &g,
    );
    c.on_trade(
        &trade(
            "bybit",
            "BTC-USDT-PERP",
            T0 + 2 * SEC,
            dec!(101),
            dec!(1),
            true,
        ),
        &g,
    );
    let v = c.view(&g);
    let s = venue_series(&v, "bybit", "BTC-USDT-PERP", Timeframe::M1);
    let open = s.open.as_ref().unwrap();
    assert_eq!(
        (open.open, open.high, open.low, open.close),
        (dec!(100.5), dec!(101), dec!(100.5), dec!(101))
    );
    assert!(!open.partial, "the seeded close is the candle before it");
    // Trades first, the seed after: the open is corrected the same way.
    let mut c = Candles::new();
    c.on_trade(
        &trade(
            "bybit",
            "BTC-USDT-PERP",
            T0 + 2 * SEC,
            dec!(101),
            dec!(1),
            true,
        ),
        &g,
    );
    c.on_klines(
        bybit,
        perp,
        Timeframe::M1,
        CandleOpen::PreviousClose,
        &[kline(
            T0 - MIN,
            dec!(100),
            dec!(101),
            dec!(99),
            dec!(100.5),
            dec!(3),
        )],
        T0 + 3 * SEC,
        &g,
    );
    let v = c.view(&g);
    let s = venue_series(&v, "bybit", "BTC-USDT-PERP", Timeframe::M1);
    assert_eq!(s.closed.len(), 1);
    let open = s.open.as_ref().unwrap();
    assert_eq!((open.open, open.low), (dec!(100.5), dec!(100.5)));
}

#[test]
fn seeding_fills_history_and_merges_the_interval_in_progress() {
    let g = no_groups();
    let mut c = Candles::new();
    let spot = i("BTC-USDT");
    let binance: Venue = "binance".parse().unwrap();
    // Live trades before the backfill answer: one in the minute before,
    // then the current one.
    c.on_trade(
        &trade("binance", "BTC-USDT", T0 - SEC, dec!(100), dec!(0.1), true),
        &g,
    );
    c.on_trade(
        &trade("binance", "BTC-USDT", T0 + SEC, dec!(105), dec!(0.2), true),
        &g,
    );
    let klines = [
        kline(
            T0 - 3 * MIN,
            dec!(90),
            dec!(95),
            dec!(89),
            dec!(94),
            dec!(7),
        ),
        kline(
            T0 - 2 * MIN,
            dec!(94),
            dec!(97),
            dec!(93),
            dec!(96),
            dec!(4),
        ),
        // Misaligned: refused.
        kline(
            T0 - 90 * SEC,
            dec!(96),
            dec!(97),
            dec!(95),
            dec!(96),
            dec!(1),
        ),
        kline(T0 - MIN, dec!(96), dec!(101), dec!(95), dec!(100), dec!(9)),
        // In progress: the venue saw more of it than we did.
        kline(T0, dec!(104), dec!(106), dec!(103), dec!(105), dec!(2)),
    ];
    c.on_klines(
        binance,
        spot,
        Timeframe::M1,
        CandleOpen::FirstTrade,
        &klines,
        T0 + 2 * SEC,
        &g,
    );
    let v = c.view(&g);
    assert_eq!(v.bad_klines, 1);
    let s = venue_series(&v, "binance", "BTC-USDT", Timeframe::M1);
    let closed: Vec<(Micros, Decimal)> = s.closed.iter().map(|c| (c.start, c.volume)).collect();
    assert_eq!(
        closed,
        [
            (T0 - 3 * MIN, dec!(7)),
            (T0 - 2 * MIN, dec!(4)),
            (T0 - MIN, dec!(9))
        ],
        "the venue's record replaced our partial minute"
    );
    let open = s.open.as_ref().unwrap();
    assert_eq!(
        (open.open, open.high, open.low, open.close, open.volume),
        (dec!(104), dec!(106), dec!(103), dec!(105), dec!(2))
    );
    assert!(open.partial);
    assert!(
        v.recent.iter().all(|r| r.candle.start != T0 - 2 * MIN),
        "seeds are history, not closes"
    );
}

#[test]
fn aggregated_candles_equal_a_hand_computed_merge() {
    // USD ≈ USDT: coinbase BTC-USD and two venues' BTC-USDT under one key;
    // ETH-USDT stays out.
    let usd = Asset::new("USD").unwrap();
    let usdt = Asset::new("USDT").unwrap();
    let g = QuoteGroups::new(&[vec![usd, usdt]]);
    let mut c = Candles::new();
    let trades = [
        // binance: O 100 H 110 L 90 C 105, volume 1 + 1 + 2 = 4, turnover 410 + ...
        trade("binance", "BTC-USDT", T0 + SEC, dec!(100), dec!(1), true),
        trade(
            "binance",
            "BTC-USDT",
            T0 + 2 * SEC,
            dec!(110),
            dec!(1),
            true,
        ),
        trade(
            "binance",
            "BTC-USDT",
            T0 + 3 * SEC,
            dec!(90),
            dec!(1),
            false,
        ),
        trade(
            "binance",
            "BTC-USDT",
            T0 + 4 * SEC,
            dec!(105),
            dec!(1),
            false,
        ),
        // coinbase: O 102 H 108 L 100 C 104, volume 12
        trade("coinbase", "BTC-USD", T0 + SEC, dec!(102), dec!(3), true),
        trade(
            "coinbase",
            "BTC-USD",
            T0 + 5 * SEC,
            dec!(108),
            dec!(3),
            true,
        ),
        trade(
            "coinbase",
            "BTC-USD",
            T0 + 6 * SEC,
            dec!(100),
            dec!(3),
            false,
        ),
        trade(
            "coinbase",
            "BTC-USD",
            T0 + 7 * SEC,
            dec!(104),
            dec!(3),
            true,
        ),
        // okx prints nothing this minute but was there the minute before.
        trade("okx", "BTC-USDT", T0 - 10 * SEC, dec!(99), dec!(1), true),
        trade("okx", "ETH-USDT", T0 + SEC, dec!(2000), dec!(50), true),
        // Next minute: both close theirs.
        trade("binance", "BTC-USDT", T0 + MIN, dec!(106), dec!(1), true),
        trade(
            "coinbase",
            "BTC-USD",
            T0 + MIN + SEC,
            dec!(105),
            dec!(1),
            false,
        ),
    ];
    for t in &trades {
        c.on_trade(t, &g);
    }
    // okx's minute closes by the clock.
    c.tick(T0 + MIN + GRACE + SEC, &g);
    let v = c.view(&g);
    let key = i("BTC-USD");
    let agg = v.get(key, CandleSource::Aggregate, Timeframe::M1).unwrap();
    let m = agg.iter().find(|c| c.start == T0).unwrap();
    // Weights 4 (binance) and 12 (coinbase) out of 16; okx has no candle here.
    assert_eq!(m.open, dec!(101.5), "(4×100 + 12×102) / 16");
    assert_eq!(m.high, dec!(108.5), "(4×110 + 12×108) / 16");
    assert_eq!(m.low, dec!(97.5), "(4×90 + 12×100) / 16");
    assert_eq!(m.close, dec!(104.25), "(4×105 + 12×104) / 16");
    assert_eq!(m.volume, dec!(16));
    assert_eq!(m.buy_volume, Some(dec!(11)), "2 + 9");
    assert_eq!(m.sell_volume, Some(dec!(5)), "2 + 3");
    assert_eq!(m.trades, Some(8));
    // Σ price × size: 405 + 1242 = 1647.
    assert_eq!(m.turnover, Some(dec!(1647)));
    assert_eq!(m.vwap(), Some(dec!(102.9375)));
    // A minute with no volume anywhere is the plain mean of the venues.
    let quiet = merge(&[&Candle::flat(T0, dec!(100)), &Candle::flat(T0, dec!(103))]).unwrap();
    assert_eq!((quiet.open, quiet.volume), (dec!(101.5), Decimal::ZERO));
    assert_eq!(
        merge(&[&Candle::flat(T0, dec!(1)), &Candle::flat(T0 + MIN, dec!(1))]),
        None
    );
    // ETH is its own key (ETH-USD, its quote grouped).
    assert!(
        v.get(i("ETH-USD"), CandleSource::Aggregate, Timeframe::M1)
            .is_some()
    );
    let sources = v.sources(key);
    assert_eq!(sources.len(), 3, "{sources:?}");
    // The settled minute was reported once, with its venues.
    let closes: Vec<&ClosedCandle> = v
        .recent
        .iter()
        .filter(|r| r.source == CandleSource::Aggregate && r.timeframe == Timeframe::M1)
        .collect();
    assert_eq!(closes.len(), 2, "okx's minute before, then T0: {closes:?}");
    let last = closes.last().unwrap();
    assert_eq!(last.candle, *m);
    assert_eq!(last.venues.len(), 2);
}

#[test]
fn memory_stays_within_the_ring() {
    let g = no_groups();
    let mut c = Candles::new();
    for m in 0..(RING as i64 + 100) {
        c.on_trade(
            &trade("okx", "ETH-USDT", T0 + m * MIN, dec!(10), dec!(1), true),
            &g,
        );
    }
    // A gap far longer than the ring.
    c.on_trade(
        &trade(
            "okx",
            "ETH-USDT",
            T0 + 100_000 * MIN,
            dec!(10),
            dec!(1),
            true,
        ),
        &g,
    );
    let v = c.view(&g);
    let s = venue_series(&v, "okx", "ETH-USDT", Timeframe::M1);
    assert_eq!(s.closed.len(), RING);
    let agg = v
        .get(i("ETH-USDT"), CandleSource::Aggregate, Timeframe::M1)
        .unwrap();
    assert!(agg.closed.len() <= RING);
    assert!(v.recent.len() <= RECENT);
}

#[test]
fn forgetting_a_venue_drops_its_series_and_its_share_of_the_aggregate() {
    let g = no_groups();
    let mut c = Candles::new();
    c.on_trade(&trade("okx", "ETH-USDT", T0, dec!(10), dec!(1), true), &g);
    c.on_trade(
        &trade("binance", "ETH-USDT", T0, dec!(20), dec!(1), true),
        &g,
    );
    let v = c.view(&g);
    let agg = v
        .get(i("ETH-USDT"), CandleSource::Aggregate, Timeframe::M1)
        .unwrap();
    assert_eq!(agg.open.as_ref().unwrap().open, dec!(15));
    c.forget("okx".parse().unwrap(), &[i("ETH-USDT")], &g);
    let v = c.view(&g);
    let agg = v
        .get(i("ETH-USDT"), CandleSource::Aggregate, Timeframe::M1)
        .unwrap();
    assert_eq!(agg.open.as_ref().unwrap().open, dec!(20));
    assert_eq!(v.sources(i("ETH-USDT")).len(), 1);
}

#[test]
fn closed_minutes_go_to_the_sinks_once() {
    let g = no_groups();
    let mut c = Candles::new();
    for n in 0..3 {
        c.on_trade(
            &trade("okx", "BTC-USDT", T0 + n * MIN, dec!(100), dec!(1), true),
            &g,
        );
    }
    let minutes = c.take_minutes();
    let starts: Vec<Micros> = minutes.iter().map(|m| m.candle.start).collect();
    assert_eq!(starts, [T0, T0 + MIN], "the 1m candles only, oldest first");
    assert_eq!(minutes[0].venue, crate::venue!("okx"));
    assert_eq!(minutes[0].instrument, i("BTC-USDT"));
    assert!(c.take_minutes().is_empty(), "handed over once");
    assert!(c.tick(T0 + 3 * MIN + GRACE + SEC, &g));
    assert_eq!(c.take_minutes().len(), 1, "the clock closes one too");
}

/// Ten stored minutes, a restart twenty minutes later: the 1m series is
/// the minutes, the longer intervals are rolled up from them (partial
/// where minutes are missing, open where the interval still runs), and
/// the first trade opens a partial candle after a gap, not flat ones.
#[test]
fn restored_minutes_come_back_rolled_up_and_resume_after_a_gap() {
    let g = no_groups();
    let hour = Timeframe::H1.bucket(T0) + Timeframe::H1.micros();
    let minutes: Vec<Candle> = (0..10)
        .map(|k| {
            let p = Decimal::from(100 + k);
            let mut m = Candle::flat(hour + k * MIN, p);
            m.add(p, dec!(1), TakerSide::Buy);
            m
        })
        .collect();
    let now = hour + 30 * MIN;
    let mut c = Candles::new();
    c.restore(crate::venue!("binance"), i("BTC-USDT"), &minutes, now, &g);
    assert!(c.take_minutes().is_empty(), "restored history is not news");
    let v = c.view(&g);
    let m1 = venue_series(&v, "binance", "BTC-USDT", Timeframe::M1);
    assert_eq!(m1.closed.to_vec(), minutes);
    assert!(m1.open.is_none());
    let m5 = venue_series(&v, "binance", "BTC-USDT", Timeframe::M5);
    assert_eq!(m5.closed.len(), 2);
    let first = &m5.closed[0];
    assert_eq!(
        (first.start, first.open, first.high, first.low, first.close),
        (hour, dec!(100), dec!(104), dec!(100), dec!(104))
    );
    assert_eq!(
        (first.volume, first.trades, first.partial),
        (dec!(5), Some(5), false)
    );
    assert_eq!(first.turnover, Some(dec!(510)));
    let m15 = venue_series(&v, "binance", "BTC-USDT", Timeframe::M15);
    assert_eq!(m15.closed.len(), 1);
    assert!(m15.closed[0].partial, "ten of fifteen minutes");
    let h1 = venue_series(&v, "binance", "BTC-USDT", Timeframe::H1);
    assert!(h1.closed.is_empty());
    let open = h1.open.as_ref().expect("the hour still runs");
    assert_eq!(
        (open.open, open.close, open.volume),
        (dec!(100), dec!(109), dec!(10))
    );
    assert!(open.partial);
    let agg = v
        .get(i("BTC-USDT"), CandleSource::Aggregate, Timeframe::M1)
        .unwrap();
    assert_eq!(agg.closed.len(), 10, "the aggregate is rebuilt too");

    c.on_trade(
        &trade(
            "binance",
            "BTC-USDT",
            now + 5 * SEC,
            dec!(200),
            dec!(1),
            false,
        ),
        &g,
    );
    let v = c.view(&g);
    let m1 = venue_series(&v, "binance", "BTC-USDT", Timeframe::M1);
    assert_eq!(m1.closed.len(), 10, "no flat candles for the gap");
    let live = m1.open.as_ref().unwrap();
    assert_eq!((live.start, live.open), (now, dec!(200)));
    assert!(live.partial, "we listened from part of it only");
    let h1 = venue_series(&v, "binance", "BTC-USDT", Timeframe::H1);
    let open = h1.open.as_ref().unwrap();
    assert_eq!(
        (open.open, open.close, open.volume),
        (dec!(100), dec!(200), dec!(11))
    );
    assert_eq!(h1.closed.len(), 0);

    // Live from here: the next minute closes this one, and a quiet minute
    // after it is a flat candle again.
    c.on_trade(
        &trade(
            "binance",
            "BTC-USDT",
            now + 2 * MIN,
            dec!(201),
            dec!(1),
            true,
        ),
        &g,
    );
    let closed: Vec<Micros> = c.take_minutes().iter().map(|m| m.candle.start).collect();
    assert_eq!(closed, [now, now + MIN]);
}

#[test]
fn a_late_trade_for_a_restored_minute_is_dropped() {
    let g = no_groups();
    let mut c = Candles::new();
    let minutes = [Candle::flat(T0, dec!(100))];
    c.restore(
        crate::venue!("okx"),
        i("BTC-USDT"),
        &minutes,
        T0 + 2 * MIN,
        &g,
    );
    c.on_trade(
        &trade("okx", "BTC-USDT", T0 + SEC, dec!(1), dec!(1), true),
        &g,
    );
    let v = c.view(&g);
    assert_eq!(v.late_trades, 1);
    let m1 = venue_series(&v, "okx", "BTC-USDT", Timeframe::M1);
    assert_eq!(m1.closed[0].close, dec!(100));
}
