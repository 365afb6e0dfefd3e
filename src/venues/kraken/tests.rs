use super::wire::v1_secs_micros;
use super::*;

#[test]
fn symbols_map_legacy_codes() {
    let i = parse_symbol("XBT/USD").unwrap();
    assert_eq!(i.to_string(), "BTC-USD");
    assert_eq!(v2_symbol(&i), "BTC/USD");
    assert_eq!(v1_symbol(&i), "XBT/USD");
    assert_eq!(parse_symbol("XDG/EUR").unwrap().to_string(), "DOGE-EUR");
    assert!(is_v1_url("wss://ws.kraken.com"));
    assert!(!is_v1_url("wss://ws.kraken.com/v2"));
    assert_eq!(depth_for(11), 25);
    assert_eq!(depth_for(5000), 1000);
}

#[test]
fn v1_seconds_to_micros() {
    assert_eq!(
        v1_secs_micros("1582905486.493008"),
        Some(1_582_905_486_493_008)
    );
}
