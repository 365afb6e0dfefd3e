//! Binance's native messages, deserialized straight from the frame text.
//!
//! Strings borrow from the frame (Binance never escapes inside symbols or
//! decimals) and price levels are parsed into `Decimal`s while deserializing,
//! so the hot path allocates only the level vectors.

use std::borrow::Cow;
use std::fmt;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::model::Level;

pub use crate::venues::parse::decimal;

/// A side of price levels, `[["price","qty"],...]`, parsed into decimals.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Levels(pub Vec<Level>);

impl<'de> Deserialize<'de> for Levels {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LevelsVisitor;
        impl<'de> Visitor<'de> for LevelsVisitor {
            type Value = Levels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of [price, quantity] string pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Levels, A::Error> {
                let mut levels = Vec::with_capacity(seq.size_hint().unwrap_or(8));
                while let Some((price, size)) = seq.next_element::<(&'de str, &'de str)>()? {
                    let price = decimal(price)
                        .ok_or_else(|| de::Error::custom(format!("bad price `{price}`")))?;
                    let size = decimal(size)
                        .ok_or_else(|| de::Error::custom(format!("bad quantity `{size}`")))?;
                    levels.push(Level::new(price, size));
                }
                Ok(Levels(levels))
            }
        }
        d.deserialize_seq(LevelsVisitor)
    }
}

/// The outer shape of every frame: a combined-stream envelope
/// (`{"stream":..,"data":..}`), a raw event (`{"e":..}`), or a reply to a
/// request (`{"result":null,"id":1}` / `{"error":{..},"id":1}`).
#[derive(Deserialize, Debug)]
pub struct Envelope<'a> {
    #[serde(borrow, default)]
    pub stream: Option<&'a str>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub e: Option<&'a str>,
    #[serde(default)]
    pub id: Option<IgnoredAny>,
    #[serde(default)]
    pub error: Option<ApiError<'a>>,
}

/// Just the event type of a payload, when the stream name does not tell.
#[derive(Deserialize, Debug)]
pub struct EventHead<'a> {
    #[serde(borrow, default)]
    pub e: Option<&'a str>,
}

/// `{"code":-1121,"msg":"Invalid symbol."}` (REST) or the `error` of a WS reply.
#[derive(Deserialize, Debug)]
pub struct ApiError<'a> {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(borrow, default)]
    pub msg: Option<Cow<'a, str>>,
}

/// `depthUpdate` (spot has no `pu`; USD-M adds `pu` and `T`).
#[derive(Deserialize, Debug)]
pub struct DepthUpdate<'a> {
    #[serde(rename = "E", default)]
    pub event_time: Option<i64>,
    #[serde(rename = "s", borrow)]
    pub symbol: &'a str,
    #[serde(rename = "U")]
    pub first_id: u64,
    #[serde(rename = "u")]
    pub last_id: u64,
    /// USD-M only: `u` of the previous event (may be -1 on the first).
    #[serde(rename = "pu", default)]
    pub prev_last_id: Option<i64>,
    #[serde(rename = "b")]
    pub bids: Levels,
    #[serde(rename = "a")]
    pub asks: Levels,
}

/// `aggTrade` and `trade`.
#[derive(Deserialize, Debug)]
pub struct TradeEvent<'a> {
    #[serde(rename = "E", default)]
    pub event_time: Option<i64>,
    #[serde(rename = "T", default)]
    pub trade_time: Option<i64>,
    #[serde(rename = "s", borrow)]
    pub symbol: &'a str,
    #[serde(rename = "p", borrow)]
    pub price: &'a str,
    #[serde(rename = "q", borrow)]
    pub qty: &'a str,
    /// Buyer is the maker, so the taker sold.
    #[serde(rename = "m")]
    pub buyer_is_maker: bool,
}

/// `forceOrder`: one liquidation order (sampled: latest per symbol per second).
#[derive(Deserialize, Debug)]
pub struct ForceOrderEvent<'a> {
    #[serde(rename = "E", default)]
    pub event_time: Option<i64>,
    #[serde(rename = "o", borrow)]
    pub order: ForceOrder<'a>,
}

#[derive(Deserialize, Debug)]
pub struct ForceOrder<'a> {
    #[serde(rename = "s", borrow)]
    pub symbol: &'a str,
    /// `SELL` closes a long, `BUY` closes a short.
    #[serde(rename = "S", borrow)]
    pub side: &'a str,
    #[serde(rename = "q", borrow)]
    pub qty: &'a str,
    #[serde(rename = "p", borrow)]
    pub price: &'a str,
    #[serde(rename = "ap", borrow, default)]
    pub avg_price: Option<&'a str>,
    #[serde(rename = "z", borrow, default)]
    pub filled_qty: Option<&'a str>,
    #[serde(rename = "T", default)]
    pub trade_time: Option<i64>,
}

/// `markPriceUpdate` (USD-M `<sym>@markPrice[@1s]`).
#[derive(Deserialize, Debug)]
pub struct MarkPriceEvent<'a> {
    #[serde(rename = "E", default)]
    pub event_time: Option<i64>,
    #[serde(rename = "s", borrow)]
    pub symbol: &'a str,
    #[serde(rename = "p", borrow, default)]
    pub mark_price: Option<&'a str>,
    #[serde(rename = "i", borrow, default)]
    pub index_price: Option<&'a str>,
    #[serde(rename = "r", borrow, default)]
    pub funding_rate: Option<&'a str>,
    /// Next funding time (ms).
    #[serde(rename = "T", default)]
    pub next_funding: Option<i64>,
}

/// REST `depth` response (`E`/`T` only on USD-M), or an error body.
#[derive(Deserialize, Debug)]
pub struct DepthSnapshot<'a> {
    #[serde(rename = "lastUpdateId", default)]
    pub last_update_id: Option<u64>,
    #[serde(rename = "E", default)]
    pub event_time: Option<i64>,
    #[serde(default)]
    pub bids: Option<Levels>,
    #[serde(default)]
    pub asks: Option<Levels>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(borrow, default)]
    pub msg: Option<Cow<'a, str>>,
}

/// REST `openInterest` (USD-M: base asset; COIN-M: contracts), or an error body.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct OpenInterest<'a> {
    #[serde(borrow, default)]
    pub symbol: Option<&'a str>,
    #[serde(borrow, default)]
    pub open_interest: Option<&'a str>,
    #[serde(default)]
    pub time: Option<i64>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(borrow, default)]
    pub msg: Option<Cow<'a, str>>,
}

/// REST `exchangeInfo` (the three markets share the fields used here).
#[derive(Deserialize, Debug)]
pub struct ExchangeInfo<'a> {
    #[serde(borrow, default)]
    pub symbols: Vec<SymbolInfo<'a>>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(borrow, default)]
    pub msg: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SymbolInfo<'a> {
    #[serde(borrow)]
    pub symbol: &'a str,
    #[serde(borrow, default)]
    pub status: Option<&'a str>,
    #[serde(borrow)]
    pub base_asset: &'a str,
    #[serde(borrow)]
    pub quote_asset: &'a str,
    /// Futures only: `PERPETUAL`, `CURRENT_QUARTER`, ...
    #[serde(borrow, default)]
    pub contract_type: Option<&'a str>,
    /// COIN-M says `contractStatus` where spot and USD-M say `status`.
    #[serde(borrow, default)]
    pub contract_status: Option<&'a str>,
    /// COIN-M only: USD per contract, a JSON number (`100`, `10`).
    #[serde(default, deserialize_with = "number_or_string")]
    pub contract_size: Option<Decimal>,
    #[serde(borrow, default)]
    pub filters: Vec<SymbolFilter<'a>>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SymbolFilter<'a> {
    #[serde(borrow)]
    pub filter_type: &'a str,
    #[serde(borrow, default)]
    pub tick_size: Option<&'a str>,
    #[serde(borrow, default)]
    pub step_size: Option<&'a str>,
}

/// A decimal sent as a JSON number or a string; `None` when absent. A value
/// that is neither is an error (the body is then a counted parse error).
fn number_or_string<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(serde_json::Number),
        Text(String),
    }
    let raw = Option::<Raw>::deserialize(d)?;
    let text = match &raw {
        None => return Ok(None),
        Some(Raw::Number(n)) => n.to_string(),
        Some(Raw::Text(t)) => t.clone(),
    };
    decimal(&text)
        .map(Some)
        .ok_or_else(|| de::Error::custom(format!("bad decimal `{text}`")))
}

impl<'a> SymbolInfo<'a> {
    /// `TRADING` under either field name (absent: listed).
    pub fn is_trading(&self) -> bool {
        self.status
            .or(self.contract_status)
            .is_none_or(|st| st == "TRADING")
    }

    fn filter_value(
        &self,
        kind: &str,
        pick: fn(&SymbolFilter<'a>) -> Option<&'a str>,
    ) -> Option<Decimal> {
        self.filters
            .iter()
            .find(|f| f.filter_type == kind)
            .and_then(pick)
            .and_then(decimal)
            .filter(|d| !d.is_zero())
            .map(|d| d.normalize())
    }

    pub fn tick_size(&self) -> Option<Decimal> {
        self.filter_value("PRICE_FILTER", |f| f.tick_size)
    }

    pub fn lot_size(&self) -> Option<Decimal> {
        self.filter_value("LOT_SIZE", |f| f.step_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn parses_doc_depth_update() {
        let text = r#"{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}"#;
        let d: DepthUpdate = serde_json::from_str(text).unwrap();
        assert_eq!((d.first_id, d.last_id, d.prev_last_id), (157, 160, None));
        assert_eq!(d.bids.0, vec![Level::new(dec!(0.0024), dec!(10))]);
        assert_eq!(d.asks.0, vec![Level::new(dec!(0.0026), dec!(100))]);
    }

    #[test]
    fn rejects_non_decimal_levels() {
        let text = r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["abc","1"]],"a":[]}"#;
        assert!(serde_json::from_str::<DepthUpdate>(text).is_err());
    }

    #[test]
    fn reads_filters() {
        let text = r#"{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT",
            "filters":[{"filterType":"PRICE_FILTER","tickSize":"0.01000000"},{"filterType":"LOT_SIZE","stepSize":"0.00001000"}]}"#;
        let s: SymbolInfo = serde_json::from_str(text).unwrap();
        assert_eq!(s.tick_size(), Some(dec!(0.01)));
        assert_eq!(s.lot_size(), Some(dec!(0.00001)));
        assert_eq!(s.contract_size, None);
        assert!(s.is_trading());
    }

    #[test]
    fn reads_coinm_contract_size_as_number_or_string() {
        let text = r#"{"symbol":"BTCUSD_PERP","contractType":"PERPETUAL","contractStatus":"TRADING",
            "contractSize":100,"baseAsset":"BTC","quoteAsset":"USD"}"#;
        let s: SymbolInfo = serde_json::from_str(text).unwrap();
        assert_eq!(s.contract_size, Some(dec!(100)));
        assert!(s.is_trading());
        let text = r#"{"symbol":"X","contractStatus":"PENDING_TRADING","contractSize":"10","baseAsset":"X","quoteAsset":"USD"}"#;
        let s: SymbolInfo = serde_json::from_str(text).unwrap();
        assert_eq!(s.contract_size, Some(dec!(10)));
        assert!(!s.is_trading());
        let text = r#"{"symbol":"X","contractSize":true,"baseAsset":"X","quoteAsset":"USD"}"#;
        assert!(serde_json::from_str::<SymbolInfo>(text).is_err());
    }
}
