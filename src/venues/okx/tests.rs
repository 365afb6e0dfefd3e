use super::*;

#[test]
fn symbols_round_trip() {
    let p: Instrument = "BTC-USDT-PERP".parse().unwrap();
    assert_eq!(native_symbol(&p), "BTC-USDT-SWAP");
    assert_eq!(parse_native("BTC-USDT-SWAP"), Some(p));
    assert_eq!(parse_native("BTC-USDT").unwrap().to_string(), "BTC-USDT");
    assert_eq!(parse_native("BTC-USD-250926"), None);
}

#[test]
fn inverse_contracts_convert_through_price() {
    let spec = ContractSpec {
        value: Decimal::from(100),
        inverse: true,
    };
    assert_eq!(
        spec.to_base(Decimal::from(5), Decimal::from(50_000)),
        Some(Decimal::new(1, 2))
    );
}

#[test]
fn a_repeated_instrument_list_is_not_parsed_again() {
    let cfg = AdapterConfig {
        instruments: vec!["BTC-USDT-PERP".parse().unwrap()],
        ..AdapterConfig::default()
    };
    let mut a = Okx::new(cfg);
    let url = "https://www.okx.com/api/v5/public/instruments?instType=SWAP";
    let body = include_str!("../../../tests/fixtures/okx/instruments_swap.json");
    let lists = |out: &Output| {
        out.events
            .iter()
            .filter(|e| matches!(e, MarketEvent::Instruments { .. }))
            .count()
    };
    let mut out = Output::default();
    a.on_http(url, body, 1, &mut out);
    assert_eq!(lists(&out), 1);
    let mut out = Output::default();
    a.on_http(url, body, 2, &mut out);
    assert_eq!(lists(&out), 0, "the same bytes again: nothing new to say");
    // A body that does not parse is counted each time it comes.
    for at in 3..5 {
        let mut out = Output::default();
        a.on_http(url, "<html>502</html>", at, &mut out);
        assert!(
            out.events.iter().any(|e| matches!(
                e,
                MarketEvent::Incident {
                    incident: crate::model::Incident::ParseError,
                    ..
                }
            )),
            "{:?}",
            out.events
        );
    }
    // The good list again: a body that failed is never kept, so the good
    // one is still the last kept and is skipped.
    let mut out = Output::default();
    a.on_http(url, body, 5, &mut out);
    assert_eq!(lists(&out), 0);
}

/// The backfill asks for klines of every instrument and interval, then open
/// interest and funding of every perpetual, and reads the answers of the
/// docs (https://www.okx.com/docs-v5/en/: "Get candlesticks", "Get
/// contract open interest history", "Get funding rate history").
#[test]
fn backfill_reads_the_documented_history_answers() {
    use crate::model::{HistoryKind, Timeframe};
    use rust_decimal_macros::dec;

    let spot: Instrument = "BTC-USDT".parse().unwrap();
    let inverse: Instrument = "BTC-USD-PERP".parse().unwrap();
    let mut a = Okx::new(AdapterConfig {
        instruments: vec![spot, inverse],
        ..AdapterConfig::default()
    });
    let mut out = Output::default();
    a.start(0, &mut out);
    let paced = out.paced_gets();
    let (klines, history): (Vec<&String>, Vec<&String>) =
        paced.iter().partition(|u| u.contains("/market/candles"));
    assert_eq!(klines.len(), 12, "two instruments, six intervals");
    assert_eq!(
        klines[..2],
        [
            "https://www.okx.com/api/v5/market/candles?instId=BTC-USDT&bar=1m&limit=300",
            "https://www.okx.com/api/v5/market/candles?instId=BTC-USD-SWAP&bar=1m&limit=300",
        ]
    );
    assert!(klines[10].ends_with("instId=BTC-USDT&bar=1Dutc&limit=300"));
    assert_eq!(
        history,
        [
            "https://www.okx.com/api/v5/rubik/stat/contracts/open-interest-history?instId=BTC-USD-SWAP&period=5m&limit=100",
            "https://www.okx.com/api/v5/public/funding-rate-history?instId=BTC-USD-SWAP&limit=90",
        ]
    );

    // "Get candlesticks": both rows of the example start at the same
    // (unaligned) time, so one is kept; a third row (ours) has its high
    // below its close and is counted.
    let body = r#"{"code":"0","msg":"","data":[["1597026383085","3.721","3.743","3.677","3.708","8422410","22698348.04828491","12698348.04828491","0"],["1597026383085","3.731","3.799","3.494","3.72","24912403","67632347.24399722","37632347.24399722","0"],["1597026323085","3.7","3.6","3.5","3.7","1","3.7","3.7","1"]]}"#;
    let mut out = Output::default();
    a.on_http(klines[0], body, 0, &mut out);
    let got: Vec<_> = out.klines();
    assert_eq!(got.len(), 1, "{:?}", out.events);
    let (instrument, tf, k) = &got[0];
    assert_eq!((*instrument, *tf), (spot, Timeframe::M1));
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].start, 1_597_026_383_085_000);
    assert_eq!((k[0].open, k[0].close), (dec!(3.721), dec!(3.708)));
    // Spot: `vol` in the base coin; `volCcyQuote` the turnover.
    assert_eq!(k[0].volume, dec!(8422410));
    assert_eq!(k[0].turnover, Some(dec!(12698348.04828491)));
    assert_eq!((k[0].buy_volume, k[0].trades), (None, None));
    assert_eq!(out.parse_errors().len(), 1, "{:?}", out.events);
    // Short of a full page: no second page is asked for.
    assert!(out.actions.is_empty(), "{:?}", out.actions);

    // A swap's volume is `volCcy`, the coin, not `vol`, the contracts.
    let mut out = Output::default();
    a.on_http(
        klines[1],
        r#"{"code":"0","msg":"","data":[["1597026360000","3.721","3.743","3.677","3.708","8422410","22698348.04828491","12698348.04828491","1"]]}"#,
        0,
        &mut out,
    );
    let [MarketEvent::Klines { klines: k, .. }] = out.events.as_slice() else {
        panic!("{:?}", out.events);
    };
    assert_eq!(k[0].volume, dec!(22698348.04828491));

    // "Get contract open interest history": `[ts, oi, oiCcy, oiUsd]`, the
    // coin taken; a row of ours with a negative figure is counted.
    let oi = r#"{"code":"0","msg":"","data":[["1701417600000","731377.57500501","111","8888888"],["1701417500000","731377.57500501","111","8888888"],["1701417400000","-1","-1","-1"]]}"#;
    // "Get funding rate history": `realizedRate` is the rate paid.
    let funding = r#"{"code":"0","msg":"","data":[{"fundingRate":"0.0000746604960499","fundingTime":"1703059200000","instId":"BTC-USD-SWAP","instType":"SWAP","method":"next_period","realizedRate":"0.0000746572360545"},{"fundingRate":"0.000227985782722","fundingTime":"1703030400000","instId":"BTC-USD-SWAP","instType":"SWAP","method":"next_period","realizedRate":"0.0002279755647389"}]}"#;
    let mut out = Output::default();
    a.on_http(history[0], oi, 0, &mut out);
    a.on_http(history[1], funding, 0, &mut out);
    let got: Vec<_> = out.histories();
    assert_eq!(
        got,
        vec![
            (
                inverse,
                HistoryKind::OpenInterest,
                vec![
                    (1_701_417_500_000_000, dec!(111)),
                    (1_701_417_600_000_000, dec!(111)),
                ]
            ),
            (
                inverse,
                HistoryKind::FundingRate,
                vec![
                    (1_703_030_400_000_000, dec!(0.0002279755647389)),
                    (1_703_059_200_000_000, dec!(0.0000746572360545)),
                ]
            ),
        ]
    );
    assert_eq!(out.parse_errors().len(), 1, "the negative row");

    // An error answer is a parse error in OKX's words, not a panic.
    let mut out = Output::default();
    a.on_http(
        history[0],
        r#"{"code":"51001","msg":"Instrument ID does not exist","data":[]}"#,
        0,
        &mut out,
    );
    assert_eq!(
        out.parse_errors(),
        ["history code 51001: Instrument ID does not exist"]
    );
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, MarketEvent::History { .. }))
    );
}

/// A full first page of candles asks for the page before it, up to the
/// ring; the second page asks for nothing more.
#[test]
fn a_full_page_of_candles_asks_for_the_one_before() {
    use crate::venues::Action;
    let mut a = Okx::new(AdapterConfig {
        instruments: vec!["ETH-USDT".parse().unwrap()],
        ..AdapterConfig::default()
    });
    let start = 1_700_000_040_000i64;
    let rows: Vec<String> = (0..300)
        .map(|i| {
            format!(
                r#"["{}","10","11","9","10","1","10","10","1"]"#,
                start - i * 60_000
            )
        })
        .collect();
    let body = format!(r#"{{"code":"0","msg":"","data":[{}]}}"#, rows.join(","));
    let url = "https://www.okx.com/api/v5/market/candles?instId=ETH-USDT&bar=1m&limit=300";
    let mut out = Output::default();
    a.on_http(url, &body, 0, &mut out);
    let oldest = start - 299 * 60_000;
    let next = format!(
        "https://www.okx.com/api/v5/market/candles?instId=ETH-USDT&bar=1m&after={oldest}&limit=180"
    );
    assert!(
        matches!(out.actions.as_slice(), [Action::HttpGetPaced { url, .. }] if *url == next),
        "{:?}",
        out.actions
    );
    let mut out = Output::default();
    a.on_http(&next, &body, 0, &mut out);
    assert!(out.actions.is_empty(), "{:?}", out.actions);
}
