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
