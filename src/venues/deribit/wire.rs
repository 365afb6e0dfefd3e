//! Deribit JSON-RPC 2.0 message shapes (docs.deribit.com: "Notifications",
//! `book.(instrument_name).(interval)`, `trades.(instrument_name).(interval)`,
//! `ticker.(instrument_name).(interval)`, `public/get_instruments`,
//! `public/get_order_book`).
//!
//! Prices and amounts are JSON numbers on the wire; they are kept as their
//! literal text (`RawValue`) and read with [`num`], so `65000.5` is exactly
//! `65000.5` and never passes through a float.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::venues::checksum::raw_text;
use crate::venues::parse;

/// Every frame: a notification (`method`, `params`), or the answer to one
/// of our requests (`id` with `result` or `error`).
#[derive(Deserialize)]
pub struct Rpc<'a> {
    #[serde(borrow, default)]
    pub id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub params: Option<Params<'a>>,
    #[serde(borrow, default)]
    pub result: Option<&'a RawValue>,
    #[serde(default)]
    pub error: Option<RpcError>,
}

/// `params` of a `subscription` (`channel`, `data`) or `heartbeat`
/// (`type`: `heartbeat` or `test_request`) notification.
#[derive(Deserialize)]
pub struct Params<'a> {
    #[serde(borrow, default)]
    pub channel: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, rename = "type", default)]
    pub kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Debug)]
pub struct RpcError {
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub message: String,
}

/// `book.{instrument}.{interval}` data. The first notification is
/// `type: snapshot` (every level `new`), later ones `type: change` with
/// `prev_change_id`. The grouped channel
/// (`book.{instrument}.{group}.{depth}.{interval}`) has no `type` and sends
/// whole books of `[price, amount]` pairs.
#[derive(Deserialize)]
pub struct BookData<'a> {
    #[serde(borrow, rename = "type", default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub instrument_name: Cow<'a, str>,
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(default)]
    pub change_id: Option<u64>,
    #[serde(default)]
    pub prev_change_id: Option<u64>,
    #[serde(borrow, default)]
    pub bids: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub asks: Vec<Vec<&'a RawValue>>,
}

/// One level change: `[action, price, amount]` (`new`, `change`, `delete`)
/// or, in grouped books and REST answers, `[price, amount]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawLevel<'a> {
    pub delete: bool,
    pub price: &'a str,
    pub amount: &'a str,
}

/// Read one level; `None` for a shape Deribit does not send.
pub fn level<'a>(l: &[&'a RawValue]) -> Option<RawLevel<'a>> {
    match l {
        [action, price, amount] => {
            let delete = match raw_text(action) {
                "delete" => true,
                "new" | "change" => false,
                _ => return None,
            };
            Some(RawLevel {
                delete,
                price: raw_text(price),
                amount: raw_text(amount),
            })
        }
        [price, amount] => Some(RawLevel {
            delete: false,
            price: raw_text(price),
            amount: raw_text(amount),
        }),
        _ => None,
    }
}

/// One entry of `trades.{instrument}.{interval}`: `direction` is the
/// taker's; `liquidation` is present only on trades caused by one.
#[derive(Deserialize)]
pub struct TradeData<'a> {
    #[serde(borrow)]
    pub instrument_name: Cow<'a, str>,
    #[serde(borrow)]
    pub price: &'a RawValue,
    #[serde(borrow)]
    pub amount: &'a RawValue,
    #[serde(borrow)]
    pub direction: Cow<'a, str>,
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(borrow, default)]
    pub liquidation: Option<Cow<'a, str>>,
}

/// `ticker.{instrument}.{interval}` data (only the fields used; any may be
/// `null`).
#[derive(Deserialize)]
pub struct TickerData<'a> {
    #[serde(borrow)]
    pub instrument_name: Cow<'a, str>,
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(borrow, default)]
    pub mark_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub index_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub open_interest: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub current_funding: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub funding_8h: Option<&'a RawValue>,
}

/// A REST answer: `{"jsonrpc":"2.0","result":..}` or `{"error":..}`.
#[derive(Deserialize)]
pub struct RestAnswer<T> {
    #[serde(default = "absent")]
    pub result: Option<T>,
    #[serde(default)]
    pub error: Option<RpcError>,
}

/// `serde(default)` would ask `T: Default` of [`RestAnswer`].
fn absent<T>() -> Option<T> {
    None
}

/// One row of `public/get_instruments`.
#[derive(Deserialize)]
pub struct InstrumentRow<'a> {
    pub instrument_name: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub settlement_period: Option<String>,
    /// `reversed` (inverse, amounts in USD) or `linear` (amounts in coin).
    #[serde(default)]
    pub instrument_type: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(borrow, default)]
    pub tick_size: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub contract_size: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub min_trade_amount: Option<&'a RawValue>,
}

/// `public/get_order_book` result.
#[derive(Deserialize)]
pub struct OrderBook<'a> {
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(default)]
    pub change_id: Option<u64>,
    #[serde(borrow, default)]
    pub bids: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub asks: Vec<Vec<&'a RawValue>>,
}

/// A JSON number (or numeric string); `None` for `null` or anything else.
pub fn num(raw: Option<&RawValue>) -> Option<Decimal> {
    parse::decimal(raw_text(raw?))
}

/// The request id of an answer, when it is one of ours (a number).
pub fn id_of(raw: Option<&RawValue>) -> Option<u64> {
    raw_text(raw?).parse().ok()
}
