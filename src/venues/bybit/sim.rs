//! Bybit v5 public streams, server side (VENUES.md §3).
//!
//! `/v5/public/spot` and `/v5/public/linear`: `subscribe` / `unsubscribe` /
//! `ping` ops with Bybit's acks and pongs; `orderbook.{50,200,1000}.SYM`
//! (snapshot, then deltas with consecutive `u` and the cross sequence `seq`),
//! `publicTrade.SYM`, `tickers.SYM`, and on linear `allLiquidation.SYM`.
//! REST: `/v5/market/instruments-info`, `/v5/market/orderbook`, and the
//! history endpoints `/v5/market/open-interest`,
//! `/v5/market/funding/history` and `/v5/market/kline` (newest first, as
//! Bybit answers).

use serde_json::{Value, json};

use crate::model::{BookSide, LiquidatedSide, TakerSide};

use super::VENUE;
use crate::sim::kit::Spec;
use crate::sim::kit::wire;
use crate::sim::kit::{BookId, SimEvent, SimLiquidation, SimTicker, SimTrade, Step};
use crate::sim::kit::{Ctx, Protocol};
use crate::sim::kit::{Fixed, Listing, Plain, Shared, SimVenue};
use crate::sim::kit::{RawLevel, pad_huge};
use crate::sim::kit::{Request, Response};
use crate::sim::kit::{funding_history, kline_history, open_interest_history};

/// The simulated bybit venue: its books, endpoints and protocol.
pub const SIM: SimVenue = SimVenue {
    listings: &[
        Listing::new(
            "BTC-USDT",
            "BTCUSDT",
            "0.1",
            "0.000001",
            (Plain, Plain),
            0.3,
        ),
        Listing::new(
            "ETH-USDT",
            "ETHUSDT",
            "0.01",
            "0.00001",
            (Plain, Plain),
            4.0,
        ),
        Listing::new(
            "BTC-USDT-PERP",
            "BTCUSDT",
            "0.10",
            "0.001",
            (Fixed(2), Fixed(3)),
            1.2,
        ),
        Listing::new(
            "ETH-USDT-PERP",
            "ETHUSDT",
            "0.01",
            "0.01",
            (Fixed(2), Fixed(2)),
            20.0,
        ),
        Listing::new(
            "SOL-USDT-PERP",
            "SOLUSDT",
            "0.010",
            "0.1",
            (Fixed(3), Fixed(1)),
            250.0,
        ),
    ],
    depths: &[50, 200, 1000],
    endpoints: |ws, http| {
        vec![
            ("spot_ws", format!("{ws}/v5/public/spot")),
            ("linear_ws", format!("{ws}/v5/public/linear")),
            ("rest", http.to_string()),
        ]
    },
    protocol,
    http_get,
    checksum: None,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Category {
    Spot,
    Linear,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Index of the feed view (depth) of the book.
    Book(usize),
    Trades,
    Tickers,
    Liquidations,
}

#[derive(Clone, Debug)]
struct Sub {
    topic: String,
    kind: Kind,
    book: BookId,
    /// Book deltas of steps up to this one are in the snapshot already.
    from_step: u64,
    snapshot_sent: bool,
}

fn protocol(req: &Request, shared: &Shared) -> Option<Box<dyn Protocol>> {
    let category = match req.path.as_str() {
        "/v5/public/spot" => Category::Spot,
        "/v5/public/linear" => Category::Linear,
        _ => return None,
    };
    let conn_id = format!("sim{:06}-bybit", shared.conn_no());
    Some(Box::new(Session {
        category,
        conn_id,
        subs: Vec::new(),
        last_trade_price: Vec::new(),
    }))
}

struct Session {
    category: Category,
    conn_id: String,
    subs: Vec<Sub>,
    /// Last trade price per book, for the tick direction `L`.
    last_trade_price: Vec<(BookId, i64)>,
}

impl Session {
    fn book_for(&self, sym: &str, shared: &Shared) -> Option<BookId> {
        let perp = self.category == Category::Linear;
        shared.find(VENUE, |s| s.native == sym && s.instrument.is_perp() == perp)
    }

    fn parse_topic(&self, topic: &str, shared: &Shared) -> Option<(Kind, BookId)> {
        let mut parts = topic.split('.');
        let kind = parts.next()?;
        match kind {
            "orderbook" => {
                let depth: usize = parts.next()?.parse().ok()?;
                let book = self.book_for(parts.next()?, shared)?;
                let view = shared.spec(book)?.view_index(depth)?;
                Some((Kind::Book(view), book))
            }
            "publicTrade" => Some((Kind::Trades, self.book_for(parts.next()?, shared)?)),
            "tickers" => Some((Kind::Tickers, self.book_for(parts.next()?, shared)?)),
            "allLiquidation" if self.category == Category::Linear => {
                Some((Kind::Liquidations, self.book_for(parts.next()?, shared)?))
            }
            _ => None,
        }
    }

    fn ack(&self, op: &str, req_id: &Option<String>, success: bool, msg: &str) -> String {
        let mut m = serde_json::Map::new();
        m.insert("success".into(), json!(success));
        let ret_msg = match (success, self.category) {
            (true, Category::Spot) => op.to_string(),
            (true, Category::Linear) => String::new(),
            (false, _) => msg.to_string(),
        };
        m.insert("ret_msg".into(), json!(ret_msg));
        m.insert("conn_id".into(), json!(self.conn_id));
        match (req_id, self.category) {
            (Some(id), _) => {
                m.insert("req_id".into(), json!(id));
            }
            (None, Category::Linear) => {
                m.insert("req_id".into(), json!(""));
            }
            (None, Category::Spot) => {}
        }
        m.insert("op".into(), json!(op));
        Value::Object(m).to_string()
    }

    /// Envelope in the category's field order (spot puts `ts` first).
    fn envelope(&self, topic: &str, kind: &str, ts: i64, data: &str, tail: &str) -> String {
        match self.category {
            Category::Linear => format!(
                "{{\"topic\":{},\"type\":\"{kind}\",\"ts\":{ts},\"data\":{data}{tail}}}",
                wire::string(topic)
            ),
            Category::Spot => format!(
                "{{\"topic\":{},\"ts\":{ts},\"type\":\"{kind}\",\"data\":{data}{tail}}}",
                wire::string(topic)
            ),
        }
    }

    fn subscribe(
        &mut self,
        topics: &[String],
        ctx: &Ctx<'_>,
        out: &mut Vec<String>,
    ) -> Vec<String> {
        let mut bad = Vec::new();
        let mut snapshots = Vec::new();
        for topic in topics {
            if self.subs.iter().any(|s| &s.topic == topic) {
                continue;
            }
            let Some((kind, book)) = self.parse_topic(topic, ctx.shared) else {
                bad.push(topic.clone());
                continue;
            };
            let mut sub = Sub {
                topic: topic.clone(),
                kind,
                book,
                from_step: 0,
                snapshot_sent: false,
            };
            if let Kind::Book(view) = kind
                && let Some(spec) = ctx.shared.spec(book)
            {
                let depth = spec.depths.get(view).copied().unwrap_or(200);
                let huge = ctx.shared.faults.take_huge_snapshot(VENUE);
                if let Some(mut snap) = ctx.shared.snapshot(book, view, depth) {
                    if huge {
                        pad_huge(spec, &mut snap.bids, BookSide::Bid);
                        pad_huge(spec, &mut snap.asks, BookSide::Ask);
                    }
                    sub.from_step = snap.step;
                    snapshots.push(self.book_message(
                        spec,
                        topic,
                        "snapshot",
                        snap.time_ms,
                        (&snap.bids, &snap.asks),
                        (snap.ids.msg_seq, snap.ids.cross_seq),
                    ));
                }
            }
            self.subs.push(sub);
        }
        out.append(&mut snapshots);
        bad
    }

    fn book_message(
        &self,
        spec: &Spec,
        topic: &str,
        kind: &str,
        ts: i64,
        (bids, asks): (&[RawLevel], &[RawLevel]),
        (u, seq): (u64, u64),
    ) -> String {
        let data = format!(
            "{{\"s\":\"{}\",\"b\":{},\"a\":{},\"u\":{u},\"seq\":{seq}}}",
            spec.native,
            wire::levels(spec, bids),
            wire::levels(spec, asks)
        );
        self.envelope(topic, kind, ts, &data, &format!(",\"cts\":{ts}"))
    }

    fn trades(&mut self, spec: &Spec, topic: &str, trades: &[&SimTrade], ts: i64) -> String {
        let mut items = Vec::with_capacity(trades.len());
        for t in trades {
            let last = self.last_trade_price.iter_mut().find(|(b, _)| *b == t.book);
            let direction = match last.as_deref().map(|&(_, p)| p) {
                Some(p) if t.price > p => "PlusTick",
                Some(p) if t.price < p => "MinusTick",
                _ => "ZeroPlusTick",
            };
            match last {
                Some(slot) => slot.1 = t.price,
                None => self.last_trade_price.push((t.book, t.price)),
            }
            let id = match self.category {
                Category::Linear => uuid_like(t.id),
                Category::Spot => format!("{}", 2_280_000_000_000_000_000u64 + t.id),
            };
            let side = match t.taker {
                TakerSide::Buy => "Buy",
                TakerSide::Sell => "Sell",
            };
            items.push(format!(
                "{{\"T\":{},\"s\":\"{}\",\"S\":\"{side}\",\"v\":\"{}\",\"p\":\"{}\",\"L\":\"{direction}\",\"i\":\"{id}\",\"BT\":false,\"RPI\":false,\"seq\":{}}}",
                t.time_ms,
                spec.native,
                spec.size_str(t.lots),
                spec.price_str(t.price),
                t.seq
            ));
        }
        self.envelope(topic, "snapshot", ts, &format!("[{}]", items.join(",")), "")
    }

    fn ticker(&self, spec: &Spec, topic: &str, t: &SimTicker, snapshot: bool) -> String {
        let last = spec.price_str(t.last_price);
        let data = match self.category {
            Category::Spot => {
                let volume = spec.size(t.volume);
                let turnover = (volume * spec.price(t.last_price)).round_dp(8).normalize();
                format!(
                    "{{\"symbol\":\"{}\",\"lastPrice\":\"{last}\",\"highPrice24h\":\"{last}\",\"lowPrice24h\":\"{last}\",\"prevPrice24h\":\"{last}\",\"volume24h\":\"{}\",\"turnover24h\":\"{turnover}\",\"price24hPcnt\":\"0\",\"usdIndexPrice\":\"{}\"}}",
                    spec.native,
                    volume.normalize(),
                    spec.price(t.index).normalize()
                )
            }
            Category::Linear => {
                let oi = spec.size(t.open_interest);
                let oi_value = (oi * spec.price(t.mark)).round_dp(2);
                let mut s = format!(
                    "{{\"symbol\":\"{}\",\"lastPrice\":\"{last}\",\"markPrice\":\"{}\",\"indexPrice\":\"{}\",\"openInterest\":\"{}\",\"openInterestValue\":\"{oi_value:.2}\",\"fundingRate\":\"{}\",\"nextFundingTime\":\"{}\",\"bid1Price\":\"{}\",\"bid1Size\":\"{}\",\"ask1Price\":\"{}\",\"ask1Size\":\"{}\"",
                    spec.native,
                    spec.price_str(t.mark),
                    spec.price_str(t.index),
                    spec.size_str(t.open_interest),
                    t.funding_rate.normalize(),
                    t.next_funding_ms,
                    spec.price_str(t.best_bid.0),
                    spec.size_str(t.best_bid.1),
                    spec.price_str(t.best_ask.0),
                    spec.size_str(t.best_ask.1),
                );
                if snapshot {
                    s.push_str(",\"fundingIntervalHour\":\"8\",\"tickDirection\":\"ZeroPlusTick\"");
                }
                s.push('}');
                s
            }
        };
        let kind = if snapshot || self.category == Category::Spot {
            "snapshot"
        } else {
            "delta"
        };
        let cs = format!(",\"cs\":{}", t.time_ms.max(0) as u64 * 7);
        self.envelope(topic, kind, t.time_ms, &data, &cs)
    }

    fn liquidations(&self, spec: &Spec, topic: &str, ls: &[&SimLiquidation], ts: i64) -> String {
        let items: Vec<String> = ls
            .iter()
            .map(|l| {
                // Bybit: `S` = "Buy" means a long position was liquidated.
                let side = match l.side {
                    LiquidatedSide::Long => "Buy",
                    LiquidatedSide::Short => "Sell",
                };
                format!(
                    "{{\"T\":{},\"s\":\"{}\",\"S\":\"{side}\",\"v\":\"{}\",\"p\":\"{}\"}}",
                    l.time_ms,
                    spec.native,
                    spec.size_str(l.lots),
                    spec.price_str(l.price)
                )
            })
            .collect();
        self.envelope(topic, "snapshot", ts, &format!("[{}]", items.join(",")), "")
    }
}

/// A stable UUID-shaped trade id.
fn uuid_like(id: u64) -> String {
    let h = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "{:08x}-{:04x}-5{:03x}-a{:03x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        (h >> 4) as u16 & 0xfff,
        id as u16 & 0xfff,
        id & 0xffff_ffff_ffff
    )
}

impl Protocol for Session {
    fn on_text(&mut self, text: &str, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            out.push(self.ack("", &None, false, "error:invalid json"));
            return;
        };
        let req_id = v.get("req_id").and_then(|r| match r {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let args: Vec<String> = v
            .get("args")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        match v.get("op").and_then(Value::as_str) {
            Some("ping") => {
                let mut m = serde_json::Map::new();
                m.insert("success".into(), json!(true));
                m.insert("ret_msg".into(), json!("pong"));
                m.insert("conn_id".into(), json!(self.conn_id));
                if let Some(id) = &req_id {
                    m.insert("req_id".into(), json!(id));
                }
                m.insert("op".into(), json!("ping"));
                out.push(Value::Object(m).to_string());
            }
            Some("subscribe") => {
                let mut snapshots = Vec::new();
                let bad = self.subscribe(&args, ctx, &mut snapshots);
                if bad.is_empty() {
                    out.push(self.ack("subscribe", &req_id, true, ""));
                } else {
                    let msg = format!("error:handler not found,topics:{}", bad.join(","));
                    out.push(self.ack("subscribe", &req_id, false, &msg));
                }
                out.extend(snapshots);
            }
            Some("unsubscribe") => {
                self.subs.retain(|s| !args.contains(&s.topic));
                out.push(self.ack("unsubscribe", &req_id, true, ""));
            }
            other => {
                let msg = format!("error:unknown op {}", other.unwrap_or(""));
                out.push(self.ack(other.unwrap_or(""), &req_id, false, &msg));
            }
        }
    }

    fn on_step(&mut self, step: &Step, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        let subs = self.subs.clone();
        for (i, sub) in subs.iter().enumerate() {
            let Some(spec) = ctx.shared.spec(sub.book) else {
                continue;
            };
            match sub.kind {
                Kind::Book(view) => {
                    if step.no <= sub.from_step {
                        continue;
                    }
                    for e in &step.events {
                        if let SimEvent::Book {
                            book,
                            view: v,
                            delta,
                            ..
                        } = e
                            && *book == sub.book
                            && *v == view
                        {
                            if ctx.faults.take_skip() {
                                continue;
                            }
                            out.push(self.book_message(
                                spec,
                                &sub.topic,
                                "delta",
                                step.time_ms,
                                (&delta.bids, &delta.asks),
                                (delta.ids.msg_seq, delta.ids.cross_seq),
                            ));
                        }
                    }
                }
                Kind::Trades => {
                    let trades: Vec<&SimTrade> = step
                        .events
                        .iter()
                        .filter_map(|e| match e {
                            SimEvent::Trade(t) if t.book == sub.book => Some(t),
                            _ => None,
                        })
                        .collect();
                    if !trades.is_empty() {
                        let msg = self.trades(spec, &sub.topic, &trades, step.time_ms);
                        out.push(msg);
                    }
                }
                Kind::Tickers => {
                    for e in &step.events {
                        if let SimEvent::Ticker(t) = e
                            && t.book == sub.book
                        {
                            out.push(self.ticker(spec, &sub.topic, t, !sub.snapshot_sent));
                            if let Some(s) = self.subs.get_mut(i) {
                                s.snapshot_sent = true;
                            }
                        }
                    }
                }
                Kind::Liquidations => {
                    let ls: Vec<&SimLiquidation> = step
                        .events
                        .iter()
                        .filter_map(|e| match e {
                            SimEvent::Liquidation(l) if l.book == sub.book => Some(l),
                            _ => None,
                        })
                        .collect();
                    if !ls.is_empty() {
                        out.push(self.liquidations(spec, &sub.topic, &ls, step.time_ms));
                    }
                }
            }
        }
    }

    fn unknown_message(&self, time_ms: i64) -> String {
        let sym = self
            .subs
            .first()
            .map(|s| s.topic.rsplit('.').next().unwrap_or("BTCUSDT").to_string())
            .unwrap_or_else(|| "BTCUSDT".to_string());
        self.envelope(&format!("simUnknown.{sym}"), "snapshot", time_ms, "{}", "")
    }
}

fn envelope(result: Value, now: i64) -> Response {
    Response::json(
        json!({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now})
            .to_string(),
    )
}

fn params_error(msg: &str, now: i64) -> Response {
    Response::json(
        json!({"retCode": 10001, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": now})
            .to_string(),
    )
}

fn http_get(req: &Request, shared: &Shared) -> Response {
    let now = shared.now_ms();
    let perp = match req.param("category") {
        Some("spot") => false,
        Some("linear") => true,
        _ => return params_error("params error: Category is invalid", now),
    };
    match req.path.as_str() {
        "/v5/market/instruments-info" => instruments(req, shared, perp, now),
        "/v5/market/orderbook" => orderbook(req, shared, perp, now),
        "/v5/market/open-interest" if perp => open_interest(req, shared, now),
        "/v5/market/funding/history" if perp => funding(req, shared, now),
        "/v5/market/kline" => klines(req, shared, perp, now),
        _ => Response::error(404, "{\"retCode\":10404,\"retMsg\":\"not found\"}"),
    }
}

fn instruments(req: &Request, shared: &Shared, perp: bool, now: i64) -> Response {
    let wanted = req.param("symbol");
    let list: Vec<Value> = shared
        .specs
        .iter()
        .filter(|s| s.venue == VENUE && s.instrument.is_perp() == perp)
        .filter(|s| wanted.is_none_or(|w| w == s.native))
        .map(|s| {
            let base = s.instrument.base.to_string();
            let quote = s.instrument.quote.to_string();
            let tick = s.tick.to_string();
            let lot = s.lot.to_string();
            if perp {
                json!({
                    "symbol": s.native, "contractType": "LinearPerpetual", "status": "Trading",
                    "baseCoin": base, "quoteCoin": quote, "launchTime": "1584230400000",
                    "deliveryTime": "0", "deliveryFeeRate": "", "priceScale": s.tick.scale().to_string(),
                    "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
                    "priceFilter": {"minPrice": tick, "maxPrice": "1999999.80", "tickSize": tick},
                    "lotSizeFilter": {"maxOrderQty": "1500", "minOrderQty": lot, "qtyStep": lot,
                        "postOnlyMaxOrderQty": "1500", "maxMktOrderQty": "150", "minNotionalValue": "5"},
                    "unifiedMarginTrade": true, "fundingInterval": 480, "settleCoin": quote,
                    "copyTrading": "both", "upperFundingRate": "0.005", "lowerFundingRate": "-0.005",
                    "isPreListing": false, "preListingInfo": null
                })
            } else {
                json!({
                    "symbol": s.native, "baseCoin": base, "quoteCoin": quote, "innovation": "0",
                    "status": "Trading", "marginTrading": "utaOnly", "stTag": "0",
                    "lotSizeFilter": {"basePrecision": lot, "quotePrecision": "0.0000001",
                        "minOrderQty": lot, "maxOrderQty": "230", "minOrderAmt": "5", "maxOrderAmt": "8000000"},
                    "priceFilter": {"tickSize": tick},
                    "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"}
                })
            }
        })
        .collect();
    let category = if perp { "linear" } else { "spot" };
    let mut result = json!({"category": category, "list": list});
    if perp && let Some(m) = result.as_object_mut() {
        m.insert("nextPageCursor".into(), json!(""));
    }
    envelope(result, now)
}

/// The perpetual a history request names, or Bybit's error answer.
fn history_book(req: &Request, shared: &Shared, now: i64) -> Result<BookId, Response> {
    let sym = req.param("symbol").unwrap_or_default();
    shared
        .find(VENUE, |s| s.native == sym && s.instrument.is_perp())
        .ok_or_else(|| params_error("params error: symbol invalid", now))
}

fn limit(req: &Request, default: usize, max: usize) -> usize {
    req.param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, max)
}

fn open_interest(req: &Request, shared: &Shared, now: i64) -> Response {
    let book = match history_book(req, shared, now) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let step_ms = match req.param("intervalTime") {
        Some("5min") => 300_000,
        Some("15min") => 900_000,
        Some("30min") => 1_800_000,
        Some("1h") => 3_600_000,
        Some("4h") => 14_400_000,
        Some("1d") => 86_400_000,
        _ => return params_error("params error: intervalTime invalid", now),
    };
    let Some(spec) = shared.spec(book) else {
        return params_error("params error: symbol invalid", now);
    };
    let list: Vec<Value> = open_interest_history(shared, book, step_ms, limit(req, 50, 200))
        .into_iter()
        .rev()
        .map(
            |p| json!({"openInterest": spec.size_str(p.value), "timestamp": p.time_ms.to_string()}),
        )
        .collect();
    envelope(
        json!({"symbol": spec.native, "category": "linear", "list": list, "nextPageCursor": ""}),
        now,
    )
}

fn funding(req: &Request, shared: &Shared, now: i64) -> Response {
    let book = match history_book(req, shared, now) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let Some(spec) = shared.spec(book) else {
        return params_error("params error: symbol invalid", now);
    };
    let list: Vec<Value> = funding_history(shared, book, limit(req, 200, 200))
        .into_iter()
        .rev()
        .map(|p| {
            json!({"symbol": spec.native, "fundingRate": p.value.to_string(),
                   "fundingRateTimestamp": p.time_ms.to_string()})
        })
        .collect();
    envelope(json!({"category": "linear", "list": list}), now)
}

fn klines(req: &Request, shared: &Shared, perp: bool, now: i64) -> Response {
    let sym = req.param("symbol").unwrap_or_default();
    let Some(book) = shared.find(VENUE, |s| s.native == sym && s.instrument.is_perp() == perp)
    else {
        return params_error("params error: symbol invalid", now);
    };
    let Some(spec) = shared.spec(book) else {
        return params_error("params error: symbol invalid", now);
    };
    let step_ms = match req.param("interval") {
        Some("1") => 60_000,
        Some("5") => 300_000,
        Some("15") => 900_000,
        Some("60") => 3_600_000,
        Some("240") => 14_400_000,
        Some("D") => 86_400_000,
        _ => return params_error("params error: interval invalid", now),
    };
    let list: Vec<Value> = kline_history(shared, book, step_ms, limit(req, 200, 1000))
        .into_iter()
        .rev()
        .map(|k| {
            let volume = spec.size(k.lots);
            let turnover = (volume * spec.price(k.close)).round_dp(4);
            json!([
                k.start_ms.to_string(),
                spec.price_str(k.open),
                spec.price_str(k.high),
                spec.price_str(k.low),
                spec.price_str(k.close),
                spec.size_str(k.lots),
                turnover.normalize().to_string()
            ])
        })
        .collect();
    let category = if perp { "linear" } else { "spot" };
    envelope(
        json!({"symbol": spec.native, "category": category, "list": list}),
        now,
    )
}

fn orderbook(req: &Request, shared: &Shared, perp: bool, now: i64) -> Response {
    let Some(sym) = req.param("symbol") else {
        return params_error("params error: symbol is required", now);
    };
    let Some(book) = shared.find(VENUE, |s| s.native == sym && s.instrument.is_perp() == perp)
    else {
        return params_error("params error: symbol invalid", now);
    };
    let Some(spec) = shared.spec(book) else {
        return params_error("params error: symbol invalid", now);
    };
    let (default, max) = if perp { (25, 500) } else { (1, 200) };
    let limit = req
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, max);
    let view = spec.view_index(1000).unwrap_or(0);
    let Some(snap) = shared.snapshot(book, view, limit) else {
        return params_error("params error: symbol invalid", now);
    };
    let levels = |ls: &[RawLevel]| -> Value {
        ls.iter()
            .map(|&(p, s)| json!([spec.price_str(p), spec.size_str(s)]))
            .collect()
    };
    envelope(
        json!({"s": spec.native, "b": levels(&snap.bids), "a": levels(&snap.asks),
               "ts": snap.time_ms, "u": snap.ids.msg_seq, "seq": snap.ids.cross_seq, "cts": snap.time_ms}),
        now,
    )
}
