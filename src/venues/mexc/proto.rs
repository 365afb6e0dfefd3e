//! MEXC spot push messages (protobuf), written by hand for prost with the
//! field numbers and types of MEXC's published definitions:
//! github.com/mexcdevelop/websocket-proto at commit
//! `7b8ac7a6681f28551612a5a7cefbb7e09b56bb85` (2026-06-17, "增加推送字段
//! 2026.6"), files `PushDataV3ApiWrapper.proto`,
//! `PublicAggreDepthsV3Api.proto` and `PublicAggreDealsV3Api.proto`.
//!
//! Only the messages depthwatch reads are here. Fields of the wrapper's
//! `oneof body` that are not declared (klines, tickers, private streams)
//! are skipped by prost as unknown fields and leave `body` empty, which the
//! adapter counts as an unhandled message. No build script and no `protoc`:
//! the structs are the generated code's shape, kept small.

/// `PushDataV3ApiWrapper.proto`: every binary frame of the spot stream.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushDataV3ApiWrapper {
    /// The topic, e.g. `spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT`.
    #[prost(string, tag = "1")]
    pub channel: String,
    #[prost(oneof = "Body", tags = "313, 314")]
    pub body: Option<Body>,
    #[prost(string, optional, tag = "3")]
    pub symbol: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub symbol_id: Option<String>,
    /// When the message was generated (ms).
    #[prost(int64, optional, tag = "5")]
    pub create_time: Option<i64>,
    /// When it was pushed (ms).
    #[prost(int64, optional, tag = "6")]
    pub send_time: Option<i64>,
}

/// The wrapper's `oneof body`, the members read here.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Body {
    #[prost(message, tag = "313")]
    PublicAggreDepths(PublicAggreDepthsV3Api),
    #[prost(message, tag = "314")]
    PublicAggreDeals(PublicAggreDealsV3Api),
}

/// `PublicAggreDepthsV3Api.proto` (`spot@public.aggre.depth.v3.api.pb`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreDepthsV3Api {
    #[prost(message, repeated, tag = "1")]
    pub asks: Vec<PublicAggreDepthV3ApiItem>,
    #[prost(message, repeated, tag = "2")]
    pub bids: Vec<PublicAggreDepthV3ApiItem>,
    #[prost(string, tag = "3")]
    pub event_type: String,
    #[prost(string, tag = "4")]
    pub from_version: String,
    #[prost(string, tag = "5")]
    pub to_version: String,
    #[prost(int64, tag = "6")]
    pub last_order_create_time: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreDepthV3ApiItem {
    #[prost(string, tag = "1")]
    pub price: String,
    #[prost(string, tag = "2")]
    pub quantity: String,
}

/// `PublicAggreDealsV3Api.proto` (`spot@public.aggre.deals.v3.api.pb`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreDealsV3Api {
    #[prost(message, repeated, tag = "1")]
    pub deals: Vec<PublicAggreDealsV3ApiItem>,
    #[prost(string, tag = "2")]
    pub event_type: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreDealsV3ApiItem {
    #[prost(string, tag = "1")]
    pub price: String,
    #[prost(string, tag = "2")]
    pub quantity: String,
    /// 1 buy, 2 sell: the taker's side.
    #[prost(int32, tag = "3")]
    pub trade_type: i32,
    /// Trade time (ms).
    #[prost(int64, tag = "4")]
    pub time: i64,
    #[prost(string, tag = "5")]
    pub trade_id: String,
}
