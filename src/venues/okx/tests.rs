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
