//! A fixed, rich [`Snapshot`] for screen tests, benchmarks and layout work:
//! BTC-USDT on four venues (kraken out of sync), ETH-USD, a BTC-USD quote
//! group, SOL-USDT with no usable venue, two open arbitrages, history,
//! liquidations, large trades and health rows including a rate-limited
//! backoff and a clock-skewed venue. Deterministic: same value every call.

mod heatmap;

use rust_decimal::Decimal;

use crate::engine::snapshot::*;
use crate::model::{
    BookState, FundingUpdate, Instrument, Level, LiquidatedSide, Micros, OutOfSyncReason,
    TakerSide, Venue,
};

/// 2026-03-14 12:00:00 UTC.
pub const NOW: Micros = 1_773_489_600_000_000;
const SEC: Micros = 1_000_000;

fn inst(s: &str) -> Instrument {
    // Constant, well-formed names only.
    s.parse().expect("fixture instrument names are valid")
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

/// Small deterministic generator for "random-looking" sizes.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// A size in [lo, hi) with `scale` decimals.
    fn size(&mut self, lo: i64, hi: i64, scale: u32) -> Decimal {
        let span = (hi - lo).max(1) as u64;
        Decimal::new(lo + (self.next() % span) as i64, scale)
    }
}

/// One venue's book: `levels` levels from `best_bid`/`best_ask` outwards by `tick`.
#[allow(clippy::too_many_arguments)]
fn venue_book(
    venue: Venue,
    instrument: Instrument,
    state: BookState,
    best_bid: Decimal,
    best_ask: Decimal,
    tick: Decimal,
    size_range: (i64, i64, u32),
    seed: u64,
    age: Micros,
) -> VenueBook {
    let mut rng = Lcg(seed);
    let levels = 15;
    // Prices step out by one or two ticks, so some levels are empty.
    let mut side = |base: Decimal, dir: Decimal| {
        let mut offset = 0i64;
        (0..levels)
            .map(|_| {
                let level = Level {
                    price: base + dir * tick * Decimal::from(offset),
                    size: rng.size(size_range.0, size_range.1, size_range.2),
                };
                offset += 1 + (rng.next() % 3 == 0) as i64;
                level
            })
            .collect::<Vec<Level>>()
    };
    let bids = side(best_bid, -Decimal::ONE);
    let asks = side(best_ask, Decimal::ONE);
    VenueBook {
        venue,
        instrument,
        state,
        bid_levels: bids.len() * 40,
        ask_levels: asks.len() * 40,
        bids,
        asks,
        last_update: Some(NOW - age),
    }
}

/// Merges live venues' levels by price, best first (what the engine does).
fn aggregate(venues: &[VenueBook]) -> AggregatedBook {
    fn side(
        venues: &[VenueBook],
        pick: fn(&VenueBook) -> &Vec<Level>,
        bids: bool,
    ) -> Vec<AggLevel> {
        let mut out: Vec<AggLevel> = Vec::new();
        for vb in venues.iter().filter(|v| v.state.is_live()) {
            for l in pick(vb) {
                match out.iter_mut().find(|a| a.price == l.price) {
                    Some(a) => {
                        a.total += l.size;
                        a.per_venue.push((vb.venue, l.size));
                    }
                    None => out.push(AggLevel {
                        price: l.price,
                        total: l.size,
                        per_venue: vec![(vb.venue, l.size)],
                    }),
                }
            }
        }
        for a in &mut out {
            a.per_venue.sort_by_key(|x| std::cmp::Reverse(x.1));
        }
        if bids {
            out.sort_by_key(|a| std::cmp::Reverse(a.price));
        } else {
            out.sort_by_key(|a| a.price);
        }
        out
    }
    AggregatedBook {
        bids: side(venues, |v| &v.bids, true),
        asks: side(venues, |v| &v.asks, false),
    }
}

/// CBBO over live venues; others listed as excluded with their reason.
fn cbbo(venues: &[VenueBook]) -> Cbbo {
    let live = venues.iter().filter(|v| v.state.is_live());
    let side = |v: &VenueBook, l: &Level| CbboSide {
        price: l.price,
        size: l.size,
        venue: v.venue,
        instrument: v.instrument,
        age: NOW - v.last_update.unwrap_or(NOW),
    };
    let bid = live
        .clone()
        .filter_map(|v| v.bids.first().map(|l| side(v, l)))
        .max_by(|a, b| a.price.cmp(&b.price));
    let ask = live
        .filter_map(|v| v.asks.first().map(|l| side(v, l)))
        .min_by(|a, b| a.price.cmp(&b.price));
    let excluded = venues
        .iter()
        .filter(|v| !v.state.is_live())
        .map(|v| {
            let why = match &v.state {
                BookState::Syncing => "syncing: waiting for a snapshot".to_string(),
                BookState::OutOfSync(r) => r.to_string(),
                BookState::Live | BookState::Polled => String::new(),
            };
            (v.venue, why)
        })
        .collect();
    Cbbo { bid, ask, excluded }
}

fn mids(center: f64, amplitude: f64, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Lcg(seed);
    let mut x = center;
    (0..n)
        .map(|i| {
            x += ((rng.next() % 1000) as f64 / 1000.0 - 0.5) * amplitude;
            x + (i as f64 / 7.0).sin() * amplitude
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn view(
    label: &str,
    instrument: Instrument,
    mixed_quotes: bool,
    venues: Vec<VenueBook>,
    mid_center: f64,
    best_net_bps: Option<&str>,
    liq_5m: f64,
    funding: Vec<(Venue, FundingUpdate)>,
) -> InstrumentView {
    InstrumentView {
        instrument,
        label: label.to_string(),
        mixed_quotes,
        cbbo: cbbo(&venues),
        aggregated: aggregate(&venues),
        mid_history: mids(mid_center, mid_center * 0.0004, 120, mid_center as u64),
        venues,
        best_net_bps: best_net_bps.map(d),
        liquidations_5m_usd: liq_5m,
        funding,
    }
}

fn instruments() -> Vec<InstrumentView> {
    let btc_usdt = inst("BTC-USDT");
    let tick = d("0.1");
    let btc_range = (1_000, 250_000, 5);
    let btc = vec![
        venue_book(
            crate::venue!("binance"),
            btc_usdt,
            BookState::Live,
            d("65140.3"),
            d("65140.6"),
            tick,
            btc_range,
            1,
            40_000,
        ),
        venue_book(
            crate::venue!("bybit"),
            btc_usdt,
            BookState::Live,
            d("65140.4"),
            d("65140.5"),
            tick,
            btc_range,
            2,
            120_000,
        ),
        venue_book(
            crate::venue!("okx"),
            btc_usdt,
            BookState::Live,
            d("65140.2"),
            d("65140.7"),
            tick,
            btc_range,
            3,
            310_000,
        ),
        venue_book(
            crate::venue!("kraken"),
            btc_usdt,
            BookState::OutOfSync(OutOfSyncReason::Gap {
                expected: 1_042,
                got: 1_045,
            }),
            d("65138.0"),
            d("65139.9"),
            tick,
            btc_range,
            4,
            9 * SEC,
        ),
    ];
    let eth_usd = inst("ETH-USD");
    let eth_tick = d("0.01");
    let eth_range = (10_000, 4_000_000, 4);
    let eth = vec![
        venue_book(
            crate::venue!("coinbase"),
            eth_usd,
            BookState::Live,
            d("3421.08"),
            d("3421.12"),
            eth_tick,
            eth_range,
            5,
            60_000,
        ),
        venue_book(
            crate::venue!("kraken"),
            eth_usd,
            BookState::Live,
            d("3420.95"),
            d("3421.05"),
            eth_tick,
            eth_range,
            6,
            210_000,
        ),
        venue_book(
            crate::venue!("bitstamp"),
            eth_usd,
            BookState::Live,
            d("3422.21"),
            d("3422.40"),
            eth_tick,
            eth_range,
            7,
            480_000,
        ),
        venue_book(
            crate::venue!("gemini"),
            eth_usd,
            BookState::Live,
            d("3421.00"),
            d("3421.30"),
            eth_tick,
            eth_range,
            8,
            150_000,
        ),
    ];
    let btc_usd = inst("BTC-USD");
    let group = vec![
        venue_book(
            crate::venue!("coinbase"),
            btc_usd,
            BookState::Live,
            d("65080.12"),
            d("65083.67"),
            d("0.01"),
            btc_range,
            9,
            30_000,
        ),
        venue_book(
            crate::venue!("gemini"),
            btc_usd,
            BookState::Live,
            d("65206.28"),
            d("65210.00"),
            d("0.01"),
            btc_range,
            10,
            250_000,
        ),
        venue_book(
            crate::venue!("bitstamp"),
            btc_usd,
            BookState::Live,
            d("65150.00"),
            d("65152.00"),
            d("1"),
            btc_range,
            11,
            700_000,
        ),
        venue_book(
            crate::venue!("hyperliquid"),
            inst("BTC-USDC"),
            BookState::Syncing,
            d("65140"),
            d("65141"),
            d("1"),
            btc_range,
            12,
            2 * SEC,
        ),
    ];
    let sol = inst("SOL-USDT");
    let sol_range = (100, 50_000, 2);
    let sol_books = vec![
        venue_book(
            crate::venue!("okx"),
            sol,
            BookState::Syncing,
            d("142.31"),
            d("142.33"),
            d("0.01"),
            sol_range,
            13,
            4 * SEC,
        ),
        venue_book(
            crate::venue!("bybit"),
            sol,
            BookState::OutOfSync(OutOfSyncReason::Stale),
            d("142.30"),
            d("142.34"),
            d("0.01"),
            sol_range,
            14,
            45 * SEC,
        ),
    ];
    let funding = vec![(
        crate::venue!("binance"),
        FundingUpdate {
            funding_rate: Some(d("0.0001")),
            next_funding: Some(NOW + 3_600 * SEC),
            open_interest: Some(d("81234.5")),
            mark_price: Some(d("65141.2")),
            index_price: Some(d("65139.8")),
            ..FundingUpdate::default()
        },
    )];
    vec![
        view(
            "BTC-USDT",
            btc_usdt,
            false,
            btc,
            65_140.0,
            Some("-1.8"),
            1_873_400.0,
            funding,
        ),
        view(
            "ETH-USD",
            eth_usd,
            false,
            eth,
            3_421.0,
            Some("3.1"),
            412_800.0,
            Vec::new(),
        ),
        view(
            "BTC-USD≈USDT≈USDC",
            btc_usd,
            true,
            group,
            65_140.0,
            Some("8.84"),
            0.0,
            Vec::new(),
        ),
        view(
            "SOL-USDT",
            sol,
            false,
            sol_books,
            142.3,
            None,
            18_250.0,
            Vec::new(),
        ),
    ]
}

fn arbs() -> (Vec<ArbOpportunity>, Vec<ClosedArb>, Vec<ArbPairStats>) {
    let btc_usd = inst("BTC-USD");
    let eth_usd = inst("ETH-USD");
    let open = vec![
        ArbOpportunity {
            key: btc_usd,
            buy_venue: crate::venue!("coinbase"),
            buy_instrument: btc_usd,
            sell_venue: crate::venue!("gemini"),
            sell_instrument: btc_usd,
            buy_fee_bps: d("5"),
            sell_fee_bps: d("5"),
            size: d("0.05"),
            buy_vwap: d("65083.67"),
            sell_vwap: d("65206.28"),
            gross_bps: d("18.84"),
            net_bps: d("8.84"),
            profit: d("2.88"),
            opened: NOW - 14 * SEC,
            peak_net_bps: d("11.02"),
            peak_profit: d("3.59"),
            peak_size: d("0.05"),
            peak_buy_vwap: d("65081.10"),
            peak_sell_vwap: d("65213.40"),
            polled: false,
        },
        ArbOpportunity {
            key: eth_usd,
            buy_venue: crate::venue!("kraken"),
            buy_instrument: eth_usd,
            sell_venue: crate::venue!("bitstamp"),
            sell_instrument: eth_usd,
            buy_fee_bps: d("4"),
            sell_fee_bps: d("4"),
            size: d("1.2500"),
            buy_vwap: d("3421.05"),
            sell_vwap: d("3422.21"),
            gross_bps: d("11.1"),
            net_bps: d("3.1"),
            profit: d("1.33"),
            opened: NOW - 2_300_000,
            peak_net_bps: d("3.4"),
            peak_profit: d("1.45"),
            peak_size: d("1.2500"),
            peak_buy_vwap: d("3420.90"),
            peak_sell_vwap: d("3422.35"),
            polled: false,
        },
    ];
    let closed = vec![
        ClosedArb {
            key: btc_usd,
            buy_venue: crate::venue!("bitstamp"),
            sell_venue: crate::venue!("gemini"),
            opened: NOW - 95 * SEC,
            closed: NOW - 61 * SEC,
            peak_net_bps: d("6.2"),
            peak_profit: d("4.10"),
            buy_instrument: btc_usd,
            sell_instrument: btc_usd,
            buy_fee_bps: d("5"),
            sell_fee_bps: d("5"),
            size: d("0.1"),
            buy_vwap: d("100"),
            sell_vwap: d("100.2"),
            polled: false,
            reason: "spread closed".into(),
        },
        ClosedArb {
            key: eth_usd,
            buy_venue: crate::venue!("gemini"),
            sell_venue: crate::venue!("bitstamp"),
            opened: NOW - 300 * SEC,
            closed: NOW - 290 * SEC,
            peak_net_bps: d("2.7"),
            peak_profit: d("0.92"),
            buy_instrument: eth_usd,
            sell_instrument: eth_usd,
            buy_fee_bps: d("5"),
            sell_fee_bps: d("5"),
            size: d("0.1"),
            buy_vwap: d("100"),
            sell_vwap: d("100.2"),
            polled: false,
            reason: "bitstamp out of sync".into(),
        },
        ClosedArb {
            key: btc_usd,
            buy_venue: crate::venue!("coinbase"),
            sell_venue: crate::venue!("bitstamp"),
            opened: NOW - 1_900 * SEC,
            closed: NOW - 1_897 * SEC,
            peak_net_bps: d("1.4"),
            peak_profit: d("0.35"),
            buy_instrument: btc_usd,
            sell_instrument: btc_usd,
            buy_fee_bps: d("5"),
            sell_fee_bps: d("5"),
            size: d("0.1"),
            buy_vwap: d("100"),
            sell_vwap: d("100.2"),
            polled: false,
            reason: "spread closed".into(),
        },
    ];
    let pair = |key, buy, sell, count, net: Option<&str>, best: &str| ArbPairStats {
        key,
        buy_venue: buy,
        sell_venue: sell,
        count,
        total_open: count as Micros * 7 * SEC,
        longest: 31 * SEC,
        best_net_bps: d(best),
        current_net_bps: net.map(d),
    };
    let stats = vec![
        pair(
            btc_usd,
            crate::venue!("coinbase"),
            crate::venue!("gemini"),
            12,
            Some("8.84"),
            "11.02",
        ),
        pair(
            btc_usd,
            crate::venue!("gemini"),
            crate::venue!("coinbase"),
            0,
            Some("-29.2"),
            "-12.0",
        ),
        pair(
            btc_usd,
            crate::venue!("coinbase"),
            crate::venue!("bitstamp"),
            3,
            Some("0.9"),
            "1.4",
        ),
        pair(
            btc_usd,
            crate::venue!("bitstamp"),
            crate::venue!("coinbase"),
            0,
            Some("-20.8"),
            "-15.5",
        ),
        pair(
            btc_usd,
            crate::venue!("bitstamp"),
            crate::venue!("gemini"),
            5,
            Some("-1.2"),
            "6.2",
        ),
        pair(
            btc_usd,
            crate::venue!("gemini"),
            crate::venue!("bitstamp"),
            0,
            Some("-18.4"),
            "-9.9",
        ),
        pair(
            eth_usd,
            crate::venue!("kraken"),
            crate::venue!("bitstamp"),
            7,
            Some("3.1"),
            "3.4",
        ),
        pair(
            eth_usd,
            crate::venue!("gemini"),
            crate::venue!("bitstamp"),
            2,
            Some("1.8"),
            "2.7",
        ),
        pair(
            eth_usd,
            crate::venue!("coinbase"),
            crate::venue!("bitstamp"),
            1,
            Some("-2.0"),
            "0.5",
        ),
    ];
    (open, closed, stats)
}

fn liquidations() -> LiquidationView {
    let btc = inst("BTC-USDT-PERP");
    let eth = inst("ETH-USDT-PERP");
    let row = |venue, instrument, side, price: &str, size: &str, secs_ago: i64| {
        let (p, s) = (d(price), d(size));
        let notional = (p * s).to_string().parse::<f64>().unwrap_or(0.0);
        LiquidationRow {
            venue,
            instrument,
            side,
            price: p,
            size: s,
            notional_usd: notional,
            notional_known: true,
            time: NOW - secs_ago * SEC,
        }
    };
    use LiquidatedSide::{Long, Short};
    let tape = vec![
        row(crate::venue!("binance"), btc, Long, "65120.5", "0.412", 3),
        row(crate::venue!("bybit"), btc, Long, "65118.0", "1.250", 8),
        row(crate::venue!("okx"), eth, Short, "3423.1", "12.00", 21),
        row(crate::venue!("binance"), btc, Long, "65101.2", "21.774", 44),
        row(
            crate::venue!("hyperliquid"),
            eth,
            Short,
            "3424.0",
            "2.35",
            67,
        ),
        row(crate::venue!("bybit"), eth, Long, "3419.8", "40.10", 95),
        row(crate::venue!("okx"), btc, Short, "65188.7", "0.080", 140),
        row(crate::venue!("binance"), eth, Long, "3418.2", "6.50", 210),
        row(crate::venue!("bybit"), btc, Short, "65210.0", "3.005", 260),
        row(
            crate::venue!("hyperliquid"),
            btc,
            Long,
            "65090.0",
            "0.150",
            400,
        ),
        row(
            crate::venue!("binance"),
            btc,
            Short,
            "65230.4",
            "0.900",
            820,
        ),
        row(crate::venue!("okx"), eth, Long, "3410.5", "18.20", 1_500),
    ];
    let largest = tape.get(3).cloned();
    let mut rng = Lcg(42);
    let per_minute = (0..60)
        .map(|i| {
            let burst = if (40..44).contains(&i) { 8.0 } else { 1.0 };
            LongShort {
                long_usd: (rng.next() % 200_000) as f64 * burst,
                short_usd: (rng.next() % 120_000) as f64 * burst,
                count: 1 + rng.next() % 9,
            }
        })
        .collect();
    LiquidationView {
        tape,
        min_notional_usd: 10_000.0,
        last_1m: LongShort {
            long_usd: 1_476_830.0,
            short_usd: 41_077.0,
            count: 4,
        },
        last_5m: LongShort {
            long_usd: 1_636_550.0,
            short_usd: 244_890.0,
            count: 9,
        },
        last_1h: LongShort {
            long_usd: 6_912_400.0,
            short_usd: 3_188_250.0,
            count: 131,
        },
        largest_1h: largest,
        per_minute,
    }
}

fn trades() -> TradeView {
    let row = |venue, instrument: &str, side, price: &str, size: &str, secs_ago: i64| {
        let (p, s) = (d(price), d(size));
        TradeRow {
            venue,
            instrument: inst(instrument),
            side,
            price: p,
            size: s,
            notional_usd: (p * s).to_string().parse::<f64>().unwrap_or(0.0),
            time: NOW - secs_ago * SEC,
        }
    };
    use TakerSide::{Buy, Sell};
    let large = vec![
        row(
            crate::venue!("binance"),
            "BTC-USDT",
            Buy,
            "65140.6",
            "4.210",
            2,
        ),
        row(
            crate::venue!("coinbase"),
            "BTC-USD",
            Sell,
            "65080.12",
            "2.000",
            5,
        ),
        row(
            crate::venue!("bybit"),
            "BTC-USDT",
            Sell,
            "65140.4",
            "1.733",
            11,
        ),
        row(
            crate::venue!("kraken"),
            "ETH-USD",
            Buy,
            "3421.05",
            "85.0",
            19,
        ),
        row(
            crate::venue!("okx"),
            "BTC-USDT",
            Buy,
            "65140.7",
            "12.500",
            33,
        ),
        row(
            crate::venue!("gemini"),
            "BTC-USD",
            Buy,
            "65210.00",
            "1.620",
            58,
        ),
        row(
            crate::venue!("coinbase"),
            "ETH-USD",
            Sell,
            "3421.08",
            "40.25",
            75,
        ),
        row(
            crate::venue!("binance"),
            "ETH-USDT",
            Sell,
            "3421.50",
            "150.0",
            130,
        ),
        row(
            crate::venue!("bitstamp"),
            "BTC-USD",
            Buy,
            "65152",
            "3.000",
            240,
        ),
        row(
            crate::venue!("binance"),
            "BTC-USDT",
            Sell,
            "65139.0",
            "2.250",
            610,
        ),
    ];
    let flow = |key: &str, m1: (f64, f64, u64), m5: (f64, f64, u64), h1: (f64, f64, u64)| {
        let fs = |(b, s, n): (f64, f64, u64)| FlowStats {
            buy_usd: b,
            sell_usd: s,
            trades: n,
        };
        InstrumentFlow {
            key: inst(key),
            last_1m: fs(m1),
            last_5m: fs(m5),
            last_1h: fs(h1),
        }
    };
    TradeView {
        large,
        threshold_usd: 100_000.0,
        flow: vec![
            flow(
                "BTC-USDT",
                (4_120_000.0, 2_310_000.0, 1_812),
                (18_400_000.0, 16_950_000.0, 9_140),
                (212_000_000.0, 227_500_000.0, 101_220),
            ),
            flow(
                "ETH-USD",
                (820_000.0, 1_140_000.0, 402),
                (3_900_000.0, 4_410_000.0, 2_215),
                (51_200_000.0, 49_800_000.0, 27_004),
            ),
            flow(
                "BTC-USD",
                (610_000.0, 130_000.0, 96),
                (2_840_000.0, 1_990_000.0, 610),
                (30_100_000.0, 30_050_000.0, 7_731),
            ),
            flow("SOL-USDT", (0.0, 0.0, 0), (0.0, 0.0, 0), (0.0, 0.0, 0)),
        ],
    }
}

#[allow(clippy::too_many_arguments)]
fn conn(
    venue: Venue,
    url: &str,
    state: ConnState,
    msgs_per_s: f64,
    last_ms: Option<i64>,
    latency: Option<(f64, f64)>,
    counters: [u64; 6],
    books_not_live: usize,
) -> ConnHealth {
    let [
        reconnects,
        gaps,
        resyncs,
        checksum_ok,
        checksum_failed,
        parse_errors,
    ] = counters;
    ConnHealth {
        venue,
        conn: url.to_string(),
        state,
        msgs_per_s,
        bytes_per_s: msgs_per_s * 310.0,
        last_msg_age: last_ms.map(|ms| ms * 1_000),
        latency_p50_ms: latency.map(|l| l.0),
        latency_p99_ms: latency.map(|l| l.1),
        clock_skew: None,
        messages: (msgs_per_s * 3_600.0) as u64,
        bytes: (msgs_per_s * 3_600.0 * 310.0) as u64,
        latency_histogram: Default::default(),
        reconnects,
        gaps,
        resyncs,
        checksum_ok,
        checksum_failed,
        parse_errors,
        unknown_messages: 0,
        queue_depth: (msgs_per_s / 100.0) as usize,
        books_not_live,
    }
}

fn health() -> Vec<ConnHealth> {
    let mut gemini = conn(
        crate::venue!("gemini"),
        "wss://api.gemini.com/v2/marketdata",
        ConnState::Connected,
        35.2,
        Some(180),
        None,
        [0, 0, 0, 0, 0, 0],
        0,
    );
    gemini.clock_skew = Some("exchange clock 2.4 s behind ours".into());
    vec![
        conn(
            crate::venue!("binance"),
            "wss://stream.binance.com:9443/stream",
            ConnState::Connected,
            412.6,
            Some(12),
            Some((38.0, 121.0)),
            [0, 0, 0, 0, 0, 0],
            0,
        ),
        conn(
            crate::venue!("binance"),
            "wss://fstream.binance.com/stream",
            ConnState::Connected,
            96.4,
            Some(40),
            Some((41.5, 140.0)),
            [1, 0, 0, 0, 0, 0],
            0,
        ),
        conn(
            crate::venue!("bybit"),
            "wss://stream.bybit.com/v5/public/linear",
            ConnState::Connected,
            288.1,
            Some(3),
            Some((22.0, 64.0)),
            [0, 0, 0, 0, 0, 0],
            1,
        ),
        conn(
            crate::venue!("okx"),
            "wss://ws.okx.com:8443/ws/v5/public",
            ConnState::Connected,
            190.7,
            Some(9),
            Some((55.0, 180.0)),
            [0, 0, 0, 48_211, 0, 0],
            1,
        ),
        conn(
            crate::venue!("coinbase"),
            "wss://advanced-trade-ws.coinbase.com",
            ConnState::Connected,
            240.3,
            Some(5),
            Some((71.0, 260.0)),
            [2, 0, 0, 0, 0, 0],
            0,
        ),
        conn(
            crate::venue!("kraken"),
            "wss://ws.kraken.com/v2",
            ConnState::Connected,
            120.0,
            Some(30),
            Some((90.0, 410.0)),
            [0, 1, 1, 10_233, 1, 0],
            1,
        ),
        conn(
            crate::venue!("bitstamp"),
            "wss://ws.bitstamp.net",
            ConnState::Backoff {
                retry_in_ms: 30_000,
                reason: "HTTP 429: rate limited, retrying in 30 s".into(),
            },
            0.0,
            Some(95_000),
            None,
            [4, 0, 0, 0, 0, 0],
            0,
        ),
        gemini,
        conn(
            crate::venue!("hyperliquid"),
            "wss://api.hyperliquid.xyz/ws",
            ConnState::Connecting,
            0.0,
            None,
            None,
            [0, 0, 0, 0, 0, 2],
            1,
        ),
    ]
}

/// The rich fixed snapshot described in the module docs.
pub fn sample_snapshot() -> Snapshot {
    // Built once: its candles and heatmap are simulated trade by trade and
    // sample by sample, seconds of work in a debug build, and screen tests
    // ask for it hundreds of times. Immutable once built.
    static SAMPLE: std::sync::OnceLock<Snapshot> = std::sync::OnceLock::new();
    SAMPLE.get_or_init(build_sample_snapshot).clone()
}

fn build_sample_snapshot() -> Snapshot {
    let (arbs, arb_history, arb_stats) = arbs();
    Snapshot {
        version: 42,
        now: NOW,
        instruments: instruments(),
        arbs,
        arb_history,
        arb_stats,
        liquidations: liquidations(),
        trades: trades(),
        health: health(),
        instrument_lists: Default::default(),
        sinks: Vec::new(),
        derivatives: derivatives(),
        queue_depth: 0,
        heatmaps: heatmap::heatmaps(),
        candles: candles(),
    }
}

/// Three venues' BTC perpetual, one ETH, two spikes, an OI chart.
pub fn derivatives() -> crate::engine::derivs::DerivativesView {
    use crate::engine::derivs::{
        CarryPair, DerivativesView, FundingCarry, PerpRow, SpikeMetric, SpikeRow,
    };
    const H: i64 = 3_600_000_000;
    let btc = inst("BTC-USDT-PERP");
    let eth = inst("ETH-USDT-PERP");
    let row =
        |v: Venue, i, rate: &str, interval: i64, oi: &str, mark: &str, basis: f64, ch: [f64; 4]| {
            let r: f64 = rate.parse().unwrap_or(0.0);
            PerpRow {
                venue: Some(v),
                instrument: Some(i),
                key: Some(i),
                funding_rate: Some(d(rate)),
                predicted_rate: Some(d(rate) * d("1.1")),
                interval: Some(interval),
                rate_8h: Some(r * (8 * H) as f64 / interval as f64),
                annual: Some(r * (365 * 24 * H) as f64 / interval as f64),
                predicted_annual: Some(1.1 * r * (365 * 24 * H) as f64 / interval as f64),
                next_funding: Some(NOW + 47 * 60 * SEC),
                mark: Some(d(mark)),
                index: Some(d(mark) - d("3.2")),
                basis_bps: Some(basis),
                oi_base: Some(d(oi)),
                oi_contracts: None,
                oi_usd: Some(oi.parse::<f64>().unwrap_or(0.0) * mark.parse::<f64>().unwrap_or(0.0)),
                oi_change: ch.map(Some),
                volume_1h_usd: 182_400_000.0,
                volume_24h_usd: 4_210_000_000.0,
                updated: NOW - SEC,
            }
        };
    let rows = vec![
        row(
            crate::venue!("binance"),
            btc,
            "0.000100",
            8 * H,
            "78412.5",
            "65112.4",
            1.8,
            [0.001, 0.012, -0.004, 0.031],
        ),
        row(
            crate::venue!("bybit"),
            btc,
            "0.000085",
            8 * H,
            "52310.2",
            "65110.9",
            1.6,
            [0.0, 0.009, -0.011, 0.027],
        ),
        row(
            crate::venue!("hyperliquid"),
            btc,
            "0.0000125",
            H,
            "21870.0",
            "65115.0",
            2.2,
            [0.004, 0.021, 0.013, 0.052],
        ),
        row(
            crate::venue!("okx"),
            eth,
            "-0.000031",
            8 * H,
            "1204500",
            "3421.7",
            -0.7,
            [-0.002, -0.015, -0.02, 0.004],
        ),
    ];
    let carry = vec![FundingCarry {
        key: btc,
        ranked: vec![
            (crate::venue!("bybit"), 0.0931),
            (crate::venue!("binance"), 0.1095),
            (crate::venue!("hyperliquid"), 0.1095),
        ],
        best: Some(CarryPair {
            long_venue: crate::venue!("bybit"),
            short_venue: crate::venue!("hyperliquid"),
            gross: 0.0164,
            net: -0.0711,
        }),
    }];
    let spikes = vec![
        SpikeRow {
            at: NOW - 3 * 60 * SEC,
            venue: Some(crate::venue!("binance")),
            key: btc,
            metric: SpikeMetric::Volume,
            value: 41_200_000.0,
            z: 4.7,
        },
        SpikeRow {
            at: NOW - 21 * 60 * SEC,
            venue: None,
            key: btc,
            metric: SpikeMetric::OpenInterest,
            value: 612.0,
            z: -3.4,
        },
    ];
    let series: Vec<Option<f64>> = (0..360)
        .map(|m| Some(150_000.0 + 900.0 * ((m as f64) / 23.0).sin() + 8.0 * m as f64))
        .collect();
    DerivativesView {
        rows,
        carry,
        spikes,
        oi_history: vec![(btc, series)],
        hold_days: 7.0,
        spike_z: 3.0,
    }
}

/// An instrument with no book at all (what the engine publishes before a
/// venue's first book arrives).
fn empty_view(name: &str) -> InstrumentView {
    InstrumentView {
        instrument: inst(name),
        label: name.to_string(),
        mixed_quotes: false,
        cbbo: Cbbo::default(),
        venues: Vec::new(),
        aggregated: AggregatedBook::default(),
        mid_history: Vec::new(),
        best_net_bps: None,
        liquidations_5m_usd: 0.0,
        funding: Vec::new(),
    }
}

/// The built-in watchlist's instruments with no books, as the engine
/// shows them before any venue has sent one.
fn empty_instruments() -> Vec<InstrumentView> {
    crate::config::listings::DEFAULT_WATCHLIST
        .iter()
        .map(|n| empty_view(n))
        .collect()
}

/// One health row per connection a live session opens for `venue`, all in
/// `state` (the names the live feeds use).
fn venue_conns(venue: Venue, names: &[&str], state: &ConnState) -> Vec<ConnHealth> {
    names
        .iter()
        .map(|n| conn(venue, n, state.clone(), 0.0, None, None, [0; 6], 0))
        .collect()
}

/// The connections of the live default session, per venue.
const LIVE_CONNS: [(&str, &[&str]); 8] = [
    ("binance", &["rest", "market", "public", "ws"]),
    ("bybit", &["rest", "linear", "spot"]),
    ("okx", &["rest", "public"]),
    ("coinbase", &["rest", "ws"]),
    ("kraken", &["rest", "ws"]),
    ("bitstamp", &["rest", "ws"]),
    ("gemini", &["rest", "ws"]),
    ("hyperliquid", &["ws"]),
];

/// The watchlist a live session without a config file runs: the built-in
/// instruments on every venue that lists them.
pub fn default_watchlist() -> crate::ui::WatchlistInfo {
    use crate::config::listings;
    let rows = listings::DEFAULT_WATCHLIST
        .iter()
        .map(|n| {
            let instrument = inst(n);
            crate::ui::WatchRow {
                instrument,
                venues: Venue::all()
                    .filter(|v| listings::probably_lists(*v, &instrument))
                    .collect(),
            }
        })
        .collect();
    crate::ui::WatchlistInfo {
        rows,
        venues: Venue::all().collect(),
        config_path: Some(std::path::PathBuf::from(
            "/home/me/.config/depthwatch/config.toml",
        )),
        read_only: None,
    }
}

/// A machine with no network: the default watchlist, no books, and every
/// connection backing off after a failed DNS lookup (bitstamp's after a
/// TLS failure, so two reasons show).
pub fn offline_snapshot() -> Snapshot {
    let dns = |ms: u64| ConnState::Backoff {
        retry_in_ms: ms,
        reason: "DNS lookup failed".into(),
    };
    let mut health = Vec::new();
    for (i, (name, conns)) in LIVE_CONNS.iter().enumerate() {
        let venue: Venue = name.parse().expect("registered venue");
        let state = if *name == "bitstamp" {
            ConnState::Disconnected {
                reason: "TLS handshake failed (invalid peer certificate: UnknownIssuer)".into(),
            }
        } else {
            dns(4_000 + 3_000 * i as u64)
        };
        health.extend(venue_conns(venue, conns, &state));
    }
    // Venues registered after this fixture was drawn: unreachable too.
    for venue in Venue::all().filter(|v| !LIVE_CONNS.iter().any(|(n, _)| *n == v.as_str())) {
        health.extend(venue_conns(venue, &["ws"], &dns(30_000)));
    }
    Snapshot {
        version: 3,
        now: NOW,
        instruments: empty_instruments(),
        health,
        ..Snapshot::default()
    }
}

/// Start-up: the default watchlist with no books yet; binance is connected
/// (its books are on their way), bybit and okx are connecting, the others
/// have not reported.
pub fn connecting_snapshot() -> Snapshot {
    let mut health = Vec::new();
    health.extend(venue_conns(
        crate::venue!("binance"),
        LIVE_CONNS[0].1,
        &ConnState::Connected,
    ));
    health.extend(venue_conns(
        crate::venue!("bybit"),
        LIVE_CONNS[1].1,
        &ConnState::Connecting,
    ));
    health.extend(venue_conns(
        crate::venue!("okx"),
        LIVE_CONNS[2].1,
        &ConnState::Connecting,
    ));
    Snapshot {
        version: 2,
        now: NOW,
        instruments: empty_instruments(),
        health,
        ..Snapshot::default()
    }
}

/// The sample with its BTC-USD quote group's aggregated book capped at 12
/// levels a side, as the engine publishes it: gemini's bids sit above
/// coinbase's asks, so every bid shown is above every ask (venues crossed
/// against each other, the arbitrage the Arbitrage pane prices).
pub fn crossed_snapshot() -> Snapshot {
    let mut snap = sample_snapshot();
    for v in &mut snap.instruments {
        if v.mixed_quotes {
            v.aggregated.bids.truncate(12);
            v.aggregated.asks.truncate(12);
        }
    }
    snap
}

/// Candles of the last six hours, built by the engine's own builder from a
/// deterministic stream of trades: BTC-USDT on binance, bybit and okx (a
/// selloff and a recovery two hours ago), ETH-USD on coinbase.
pub fn candles() -> crate::engine::candles::CandlesView {
    use crate::engine::candles::Candles;
    use crate::engine::groups::QuoteGroups;
    use crate::model::Trade;
    let groups = QuoteGroups::new(&[]);
    let mut c = Candles::new();
    let mut rng = Lcg(7);
    let books = [
        ("binance", "BTC-USDT", 65_140.0, "0.1"),
        ("bybit", "BTC-USDT", 65_141.0, "0.1"),
        ("okx", "BTC-USDT", 65_139.0, "0.1"),
        ("coinbase", "ETH-USD", 3_423.0, "0.01"),
    ];
    let start = NOW - 6 * 3_600 * SEC;
    let step = 7 * SEC;
    let mut t = start;
    let mut drift = 0.0f64;
    while t < NOW {
        // A slow wave, a dip two hours ago and noise.
        let hours = (NOW - t) as f64 / 3_600e6;
        let dip = if (1.5..2.5).contains(&hours) {
            -0.012 * (1.0 - (hours - 2.0).abs() * 2.0)
        } else {
            0.0
        };
        drift += ((rng.next() % 1_000) as f64 - 499.5) * 1e-7;
        for (k, (venue, instrument, base, tick)) in books.iter().enumerate() {
            if rng.next() % 4 == k as u64 % 4 {
                continue;
            }
            let wave = 0.004 * ((hours * 1.3 + k as f64).sin());
            let noise = ((rng.next() % 200) as f64 - 100.0) * 2e-6;
            let px = base * (1.0 + wave + dip + drift + noise);
            let tick: Decimal = d(tick);
            let price =
                (Decimal::from_f64_retain(px).unwrap_or(Decimal::ONE) / tick).round() * tick;
            let size = rng.size(1, 3_000, 3);
            let side = if rng.next() % 2 == 0 {
                TakerSide::Buy
            } else {
                TakerSide::Sell
            };
            let trade = Trade {
                venue: venue.parse().unwrap_or(crate::venue!("binance")),
                instrument: inst(instrument),
                price,
                size,
                side,
                exchange_ts: Some(t),
                received: t + 40_000,
            };
            c.on_trade(&trade, &groups);
        }
        t += step + (rng.next() % 5) as i64 * SEC;
    }
    c.tick(NOW, &groups);
    c.view(&groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_has_what_the_screens_need() {
        let s = sample_snapshot();
        assert_eq!(s.instruments.len(), 4);
        let btc = &s.instruments[0];
        assert_eq!(btc.venues.len(), 4);
        assert_eq!(btc.cbbo.excluded.len(), 1);
        assert_eq!(
            btc.cbbo.bid.as_ref().map(|b| b.venue),
            Some(crate::venue!("bybit"))
        );
        assert!(btc.aggregated.bids.len() > 10);
        assert!(s.instruments[3].cbbo.bid.is_none());
        assert_eq!(s.arbs.len(), 2);
        assert!(s.health.iter().any(|h| h.clock_skew.is_some()));
        assert!(
            s.health
                .iter()
                .any(|h| matches!(h.state, ConnState::Backoff { .. }))
        );
    }
}
