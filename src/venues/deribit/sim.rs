//! Deribit JSON-RPC 2.0, server side (VENUES.md §10, §25).
//!
//! `/ws/api/v2`: `public/set_heartbeat` (then a `test_request` heartbeat
//! every interval), `public/test`, `public/subscribe` and
//! `public/unsubscribe` with the channels `book.{instrument}.{100ms|agg2}`
//! (snapshot, then `change` notifications chained by
//! `prev_change_id`/`change_id`; `raw` answers error 13778 as it does for a
//! connection that has not authenticated), `trades.{instrument}.{interval}`
//! (the `liquidation` flag `"T"` on fills of the simulator's forced orders:
//! Deribit's liquidation engine trades the position as the taker) and
//! `ticker.{instrument}.{interval}` (once a second).
//! Inverse perpetuals are sized in USD (lots of one contract: 10 USD for
//! BTC, 1 USD for ETH), the USDC perpetual in BTC.
//! REST: `/api/v2/public/get_instruments`, `/api/v2/public/get_order_book`,
//! and the history the backfill asks for (`super::history`): hourly
//! `get_funding_rate_history` rows and `get_tradingview_chart_data`
//! columns over the span asked.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::model::{BookSide, TakerSide};

use super::VENUE;
use crate::sim::kit::{BookId, SimEvent, SimTicker, SimTrade, Step};
use crate::sim::kit::{Ctx, Protocol};
use crate::sim::kit::{FULL_DEPTH, Fixed, Listing, Plain, Shared, SimVenue};
use crate::sim::kit::{RawLevel, Spec, pad_huge, wire};
use crate::sim::kit::{Request, Response};
use crate::sim::kit::{funding_history, kline_history};
use rust_decimal::Decimal;

use super::history;

/// The simulated deribit venue: its books, endpoints and protocol.
pub const SIM: SimVenue = SimVenue {
    listings: &[
        Listing::new(
            "BTC-USD-PERP",
            "BTC-PERPETUAL",
            "0.5",
            "10",
            (Fixed(1), Fixed(1)),
            2.0,
        )
        .usd_sized(),
        Listing::new(
            "ETH-USD-PERP",
            "ETH-PERPETUAL",
            "0.05",
            "1",
            (Plain, Fixed(1)),
            30.0,
        )
        .usd_sized(),
        Listing::new(
            "BTC-USDC-PERP",
            "BTC_USDC-PERPETUAL",
            "1",
            "0.001",
            (Fixed(1), Plain),
            0.5,
        ),
    ],
    depths: &[FULL_DEPTH],
    endpoints: |ws, http| {
        vec![
            ("ws", format!("{ws}/ws/api/v2")),
            ("rest", http.to_string()),
        ]
    },
    protocol,
    http_get,
    checksum: None,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Book,
    Trades,
    Ticker,
}

struct Sub {
    channel: String,
    kind: Kind,
    book: BookId,
    /// Book changes of steps up to this one are in the snapshot already.
    from_step: u64,
    /// Prices the client holds, for `new` versus `change`.
    bids: BTreeSet<i64>,
    asks: BTreeSet<i64>,
}

fn protocol(req: &Request, _shared: &Shared) -> Option<Box<dyn Protocol>> {
    (req.path == "/ws/api/v2").then(|| {
        Box::new(Session {
            subs: Vec::new(),
            heartbeat_ms: None,
            last_heartbeat_ms: 0,
            trade_seq: 1,
        }) as Box<dyn Protocol>
    })
}

struct Session {
    subs: Vec<Sub>,
    /// `public/set_heartbeat` interval, once asked for.
    heartbeat_ms: Option<i64>,
    last_heartbeat_ms: i64,
    trade_seq: u64,
}

/// A JSON-RPC answer to request `id`.
fn answer(id: &Value, result: Value, now_ms: i64) -> String {
    let us = now_ms.max(0) * 1000;
    json!({"jsonrpc": "2.0", "id": id, "result": result, "usIn": us, "usOut": us + 35,
           "usDiff": 35, "testnet": false})
    .to_string()
}

fn error(id: &Value, code: i64, message: &str, now_ms: i64) -> String {
    let us = now_ms.max(0) * 1000;
    json!({"jsonrpc": "2.0", "id": id, "error": {"message": message, "code": code},
           "usIn": us, "usOut": us + 20, "usDiff": 20, "testnet": false})
    .to_string()
}

fn notification(channel: &str, data: &str) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":{{\"channel\":{},\"data\":{data}}}}}",
        wire::string(channel)
    )
}

/// `[["new",p,a],...]` for a snapshot, recording the prices held.
fn snapshot_levels(spec: &Spec, levels: &[RawLevel], held: &mut BTreeSet<i64>) -> String {
    held.clear();
    let items: Vec<String> = levels
        .iter()
        .map(|&(p, s)| {
            held.insert(p);
            format!("[\"new\",{},{}]", spec.price_str(p), spec.size_str(s))
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// A change's levels: `delete` for a size of zero, `new` for a price the
/// client does not hold, `change` otherwise.
fn change_levels(spec: &Spec, levels: &[RawLevel], held: &mut BTreeSet<i64>) -> String {
    let items: Vec<String> = levels
        .iter()
        .map(|&(p, s)| {
            let action = if s == 0 {
                held.remove(&p);
                "delete"
            } else if held.insert(p) {
                "new"
            } else {
                "change"
            };
            format!("[\"{action}\",{},{}]", spec.price_str(p), spec.size_str(s))
        })
        .collect();
    format!("[{}]", items.join(","))
}

impl Session {
    fn parse_channel(channel: &str, shared: &Shared) -> Result<(Kind, BookId), i64> {
        let parts: Vec<&str> = channel.split('.').collect();
        let [kind, name, interval] = parts.as_slice() else {
            return Err(0);
        };
        let kind = match *kind {
            "book" => Kind::Book,
            "trades" => Kind::Trades,
            "ticker" => Kind::Ticker,
            _ => return Err(0),
        };
        match *interval {
            "100ms" | "agg2" => {}
            "raw" => return Err(13778),
            _ => return Err(0),
        }
        shared
            .find(VENUE, |s| s.native == *name)
            .map(|b| (kind, b))
            .ok_or(0)
    }

    fn subscribe(&mut self, id: &Value, channels: &[String], ctx: &Ctx<'_>, out: &mut Vec<String>) {
        let now = ctx.shared.now_ms();
        let mut parsed = Vec::new();
        for c in channels {
            match Self::parse_channel(c, ctx.shared) {
                Ok((kind, book)) => parsed.push((c.clone(), kind, book)),
                Err(13778) => {
                    out.push(error(
                        id,
                        13778,
                        "raw_subscriptions_not_available_for_unauthorized",
                        now,
                    ));
                    return;
                }
                // Deribit leaves channels it does not know out of the result.
                Err(_) => {}
            }
        }
        let subscribed: Vec<&String> = parsed.iter().map(|(c, _, _)| c).collect();
        out.push(answer(id, json!(subscribed), now));
        for (channel, kind, book) in parsed {
            if self.subs.iter().any(|s| s.channel == channel) {
                continue;
            }
            let mut sub = Sub {
                channel,
                kind,
                book,
                from_step: 0,
                bids: BTreeSet::new(),
                asks: BTreeSet::new(),
            };
            if kind == Kind::Book
                && let Some(spec) = ctx.shared.spec(book)
            {
                let huge = ctx.shared.faults.take_huge_snapshot(VENUE);
                if let Some(mut snap) = ctx.shared.snapshot(book, 0, FULL_DEPTH) {
                    if huge {
                        pad_huge(spec, &mut snap.bids, BookSide::Bid);
                        pad_huge(spec, &mut snap.asks, BookSide::Ask);
                    }
                    sub.from_step = snap.step;
                    let data = format!(
                        "{{\"type\":\"snapshot\",\"timestamp\":{},\"instrument_name\":\"{}\",\"change_id\":{},\"bids\":{},\"asks\":{}}}",
                        snap.time_ms,
                        spec.native,
                        snap.ids.cross_seq,
                        snapshot_levels(spec, &snap.bids, &mut sub.bids),
                        snapshot_levels(spec, &snap.asks, &mut sub.asks)
                    );
                    out.push(notification(&sub.channel, &data));
                }
            }
            self.subs.push(sub);
        }
    }

    fn trades(&mut self, spec: &Spec, channel: &str, trades: &[&SimTrade]) -> String {
        let items: Vec<String> = trades
            .iter()
            .map(|t| {
                let direction = match t.taker {
                    TakerSide::Buy => "buy",
                    TakerSide::Sell => "sell",
                };
                // Fills of a forced order: the liquidated side is the taker.
                let liquidation = if t.forced.is_some() {
                    ",\"liquidation\":\"T\""
                } else {
                    ""
                };
                let seq = self.trade_seq;
                self.trade_seq += 1;
                let price = spec.price_str(t.price);
                format!(
                    "{{\"trade_seq\":{seq},\"trade_id\":\"{}\",\"timestamp\":{},\"tick_direction\":{},\"price\":{price},\"mark_price\":{price},\"instrument_name\":\"{}\",\"index_price\":{price},\"direction\":\"{direction}\",\"amount\":{},\"contracts\":{}.0{liquidation}}}",
                    t.id,
                    t.time_ms,
                    if t.taker == TakerSide::Buy { 0 } else { 2 },
                    spec.native,
                    spec.size_str(t.lots),
                    t.lots
                )
            })
            .collect();
        notification(channel, &format!("[{}]", items.join(",")))
    }
}

fn ticker_data(spec: &Spec, t: &SimTicker) -> String {
    let rate = t.funding_rate.normalize();
    let last = spec.price_str(t.last_price);
    format!(
        "{{\"timestamp\":{},\"stats\":{{\"volume_usd\":0,\"volume\":{},\"price_change\":0.0,\"low\":{last},\"high\":{last}}},\"state\":\"open\",\"settlement_price\":{},\"open_interest\":{},\"min_price\":{},\"max_price\":{},\"mark_price\":{},\"last_price\":{last},\"interest_value\":0.0,\"instrument_name\":\"{}\",\"index_price\":{},\"funding_8h\":{rate},\"estimated_delivery_price\":{},\"current_funding\":{rate},\"best_bid_price\":{},\"best_bid_amount\":{},\"best_ask_price\":{},\"best_ask_amount\":{}}}",
        t.time_ms,
        spec.size_str(t.volume),
        spec.price_str(t.index),
        spec.size_str(t.open_interest),
        spec.price_str(t.mark - t.mark / 50),
        spec.price_str(t.mark + t.mark / 50),
        spec.price_str(t.mark),
        spec.native,
        spec.price_str(t.index),
        spec.price_str(t.index),
        spec.price_str(t.best_bid.0),
        spec.size_str(t.best_bid.1),
        spec.price_str(t.best_ask.0),
        spec.size_str(t.best_ask.1),
    )
}

impl Protocol for Session {
    fn on_text(&mut self, text: &str, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        let now = ctx.shared.now_ms();
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            out.push(error(&Value::Null, -32700, "Parse error", now));
            return;
        };
        let id = v.get("id").cloned().unwrap_or(Value::Null);
        let params = v.get("params").cloned().unwrap_or(Value::Null);
        let channels: Vec<String> = params
            .get("channels")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        match v.get("method").and_then(Value::as_str) {
            Some("public/set_heartbeat") => match params.get("interval").and_then(Value::as_i64) {
                Some(s) if s >= 10 => {
                    self.heartbeat_ms = Some(s * 1000);
                    self.last_heartbeat_ms = now;
                    out.push(answer(&id, json!("ok"), now));
                }
                _ => out.push(error(&id, -32602, "Invalid params", now)),
            },
            Some("public/test") => out.push(answer(&id, json!({"version": "1.2.26"}), now)),
            Some("public/subscribe") => self.subscribe(&id, &channels, ctx, out),
            Some("public/unsubscribe") => {
                let mut removed = Vec::new();
                self.subs.retain(|s| {
                    let gone = channels.contains(&s.channel);
                    if gone {
                        removed.push(s.channel.clone());
                    }
                    !gone
                });
                out.push(answer(&id, json!(removed), now));
            }
            _ => out.push(error(&id, -32601, "Method not found", now)),
        }
    }

    fn on_step(&mut self, step: &Step, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        if let Some(every) = self.heartbeat_ms
            && step.time_ms - self.last_heartbeat_ms >= every
        {
            self.last_heartbeat_ms = step.time_ms;
            out.push(
                r#"{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}"#
                    .to_string(),
            );
        }
        for i in 0..self.subs.len() {
            let Some((kind, book, from_step)) =
                self.subs.get(i).map(|s| (s.kind, s.book, s.from_step))
            else {
                continue;
            };
            let Some(spec) = ctx.shared.spec(book) else {
                continue;
            };
            match kind {
                Kind::Book => {
                    if step.no <= from_step {
                        continue;
                    }
                    for e in &step.events {
                        let SimEvent::Book {
                            book: b,
                            view: 0,
                            delta,
                            ..
                        } = e
                        else {
                            continue;
                        };
                        let Some(sub) = self.subs.get_mut(i).filter(|_| *b == book) else {
                            continue;
                        };
                        // Held prices follow the book even for a withheld
                        // change: only its ids leave a gap.
                        let bids = change_levels(spec, &delta.bids, &mut sub.bids);
                        let asks = change_levels(spec, &delta.asks, &mut sub.asks);
                        if ctx.faults.take_skip() {
                            continue;
                        }
                        let data = format!(
                            "{{\"type\":\"change\",\"timestamp\":{},\"prev_change_id\":{},\"instrument_name\":\"{}\",\"change_id\":{},\"bids\":{bids},\"asks\":{asks}}}",
                            step.time_ms, delta.prev.cross_seq, spec.native, delta.ids.cross_seq
                        );
                        out.push(notification(&sub.channel, &data));
                    }
                }
                Kind::Trades => {
                    let trades: Vec<&SimTrade> = step
                        .events
                        .iter()
                        .filter_map(|e| match e {
                            SimEvent::Trade(t) if t.book == book => Some(t),
                            _ => None,
                        })
                        .collect();
                    if !trades.is_empty() {
                        let channel = self.subs.get(i).map(|s| s.channel.clone());
                        if let Some(channel) = channel {
                            let msg = self.trades(spec, &channel, &trades);
                            out.push(msg);
                        }
                    }
                }
                Kind::Ticker => {
                    for e in &step.events {
                        if let SimEvent::Ticker(t) = e
                            && t.book == book
                            && let Some(sub) = self.subs.get(i)
                        {
                            out.push(notification(&sub.channel, &ticker_data(spec, t)));
                        }
                    }
                }
            }
        }
    }

    fn unknown_message(&self, time_ms: i64) -> String {
        notification(
            "sim_unknown.BTC-PERPETUAL.100ms",
            &format!("{{\"timestamp\":{time_ms}}}"),
        )
    }
}

/// A decimal as a JSON number.
fn number(d: rust_decimal::Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

fn rest(result: Value, now_ms: i64) -> Response {
    let us = now_ms.max(0) * 1000;
    Response::json(
        json!({"jsonrpc": "2.0", "result": result, "usIn": us, "usOut": us + 250,
               "usDiff": 250, "testnet": false})
        .to_string(),
    )
}

fn invalid(param: &str, reason: &str) -> Response {
    Response::error(
        400,
        json!({"jsonrpc": "2.0", "error": {"message": "Invalid params",
               "data": {"reason": reason, "param": param}, "code": -32602},
               "testnet": false})
        .to_string(),
    )
}

fn http_get(req: &Request, shared: &Shared) -> Response {
    let now = shared.now_ms();
    match req.path.as_str() {
        "/api/v2/public/get_instruments" => instruments(req, shared, now),
        "/api/v2/public/get_order_book" => order_book(req, shared, now),
        history::FUNDING_PATH => funding_history_answer(req, shared, now),
        history::KLINES_PATH => chart(req, shared, now),
        _ => Response::error(
            404,
            json!({"jsonrpc": "2.0", "error": {"message": "Method not found", "code": -32601}})
                .to_string(),
        ),
    }
}

/// A required millisecond parameter, or Deribit's "Invalid params".
fn millis_param(req: &Request, name: &str) -> Result<i64, Response> {
    req.param(name)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| invalid(name, "must be present"))
}

/// The perpetual a history request names, and the span it asks for.
fn history_request(req: &Request, shared: &Shared) -> Result<(BookId, i64, i64), Response> {
    let name = req.param("instrument_name").unwrap_or_default();
    let book = shared
        .find(VENUE, |s| s.native == name)
        .ok_or_else(|| invalid("instrument_name", "wrong format"))?;
    let start = millis_param(req, "start_timestamp")?;
    let end = millis_param(req, "end_timestamp")?;
    Ok((book, start, end))
}

/// The book's mid in ticks.
fn mid(shared: &Shared, book: BookId) -> Option<i64> {
    let s = shared.snapshot(book, 0, 1)?;
    Some((s.bids.first()?.0 + s.asks.first()?.0) / 2)
}

/// One row an hour within the span (up to now): `interest_8h` is the
/// simulator's 8-hour rate of the period the hour ends in.
fn funding_history_answer(req: &Request, shared: &Shared, now: i64) -> Response {
    const HOUR: i64 = 3_600_000;
    let (book, start, end) = match history_request(req, shared) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(spec) = shared.spec(book) else {
        return invalid("instrument_name", "wrong format");
    };
    let last = end.min(now).div_euclid(HOUR) * HOUR;
    let hours = ((last - start).div_euclid(HOUR) + 1).clamp(0, 5_000);
    let periods = funding_history(shared, book, (hours as usize).div_ceil(8) + 1);
    let index = mid(shared, book).map(|m| spec.price(m)).unwrap_or_default();
    let rows: Vec<Value> = (0..hours)
        .rev()
        .map(|back| {
            let t = last - back * HOUR;
            let rate = periods
                .iter()
                .find(|p| p.time_ms >= t)
                .or(periods.last())
                .map(|p| p.value)
                .unwrap_or_default();
            json!({"timestamp": t, "index_price": number(index), "prev_index_price": number(index),
                   "interest_8h": number(rate), "interest_1h": number((rate / Decimal::from(8)).round_dp(12))})
        })
        .collect();
    rest(Value::Array(rows), now)
}

/// `public/get_tradingview_chart_data`: columns of the klines starting
/// within the span (up to now), `volume` in the coin and `cost` in the
/// quote (USD for the USD-sized inverse perpetuals).
fn chart(req: &Request, shared: &Shared, now: i64) -> Response {
    let (book, start, end) = match history_request(req, shared) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(spec) = shared.spec(book) else {
        return invalid("instrument_name", "wrong format");
    };
    let step: i64 = match req.param("resolution") {
        Some("1D") => 86_400_000,
        Some(m @ ("1" | "3" | "5" | "10" | "15" | "30" | "60" | "120" | "180" | "360" | "720")) => {
            m.parse::<i64>().unwrap_or(1) * 60_000
        }
        _ => return invalid("resolution", "must be one of the supported resolutions"),
    };
    let n = ((now - start).div_euclid(step) + 2).clamp(0, 10_000) as usize;
    let klines: Vec<_> = kline_history(shared, book, step, n)
        .into_iter()
        .filter(|k| k.start_ms >= start && k.start_ms <= end)
        .collect();
    // Columns: ticks, open, high, low, close, volume, cost.
    let mut cols: [Vec<Value>; 7] = Default::default();
    for k in &klines {
        let size = spec.size(k.lots);
        let close = spec.price(k.close);
        let (volume, cost) = if spec.usd_sized {
            ((size / close).round_dp(8), size)
        } else {
            (size, (size * close).round_dp(4))
        };
        let row = [
            json!(k.start_ms),
            number(spec.price(k.open)),
            number(spec.price(k.high)),
            number(spec.price(k.low)),
            number(close),
            number(volume),
            number(cost),
        ];
        for (col, v) in cols.iter_mut().zip(row) {
            col.push(v);
        }
    }
    let [ticks, open, high, low, close, volume, cost] = cols;
    let status = if klines.is_empty() { "no_data" } else { "ok" };
    rest(
        json!({
            "volume": volume, "cost": cost, "ticks": ticks, "status": status,
            "open": open, "low": low, "high": high, "close": close,
        }),
        now,
    )
}

fn instruments(req: &Request, shared: &Shared, now: i64) -> Response {
    let currency = req.param("currency").unwrap_or("any");
    if req.param("kind").is_some_and(|k| k != "future") {
        return rest(json!([]), now);
    }
    let rows: Vec<Value> = shared
        .specs
        .iter()
        .filter(|s| s.venue == VENUE)
        .filter(|s| {
            let listed_in = if s.usd_sized {
                s.instrument.base.as_str()
            } else {
                s.instrument.quote.as_str()
            };
            currency == "any" || currency.eq_ignore_ascii_case(listed_in)
        })
        .map(|s| {
            let base = s.instrument.base.to_string();
            let (kind, quote, settle) = if s.usd_sized {
                ("reversed", "USD".to_string(), base.clone())
            } else {
                let q = s.instrument.quote.to_string();
                ("linear", q.clone(), q)
            };
            json!({
                "tick_size": number(s.tick), "tick_size_steps": [], "taker_commission": 0.0005,
                "settlement_period": "perpetual", "settlement_currency": settle, "rfq": false,
                "quote_currency": quote, "price_index": format!("{}_{}", base.to_lowercase(), quote.to_lowercase()),
                "min_trade_amount": number(s.lot), "max_liquidation_commission": 0.0075,
                "max_leverage": 50, "maker_commission": 0.0, "kind": "future", "is_active": true,
                "instrument_name": s.native, "instrument_id": 124_972, "instrument_type": kind,
                "future_type": kind, "expiration_timestamp": 32_503_708_800_000i64,
                "creation_timestamp": 1_534_242_287_000i64, "counter_currency": quote,
                "contract_size": number(s.lot), "block_trade_tick_size": 0.01,
                "block_trade_min_trade_amount": 200_000, "block_trade_commission": 0.00025,
                "base_currency": base
            })
        })
        .collect();
    rest(Value::Array(rows), now)
}

fn order_book(req: &Request, shared: &Shared, now: i64) -> Response {
    let Some(name) = req.param("instrument_name") else {
        return invalid("instrument_name", "must be present");
    };
    let Some(book) = shared.find(VENUE, |s| s.native == name) else {
        return invalid("instrument_name", "instrument not found");
    };
    let Some(spec) = shared.spec(book) else {
        return invalid("instrument_name", "instrument not found");
    };
    let depth = req
        .param("depth")
        .and_then(|d| d.parse::<usize>().ok())
        .unwrap_or(5)
        .clamp(1, 10_000);
    let Some(snap) = shared.snapshot(book, 0, depth) else {
        return invalid("instrument_name", "instrument not found");
    };
    let side = |levels: &[RawLevel]| -> String {
        let items: Vec<String> = levels
            .iter()
            .map(|&(p, s)| format!("[{},{}]", spec.price_str(p), spec.size_str(s)))
            .collect();
        format!("[{}]", items.join(","))
    };
    let (bid, ask) = (snap.bids.first(), snap.asks.first());
    let best = |l: Option<&RawLevel>| match l {
        Some(&(p, s)) => (spec.price_str(p), spec.size_str(s)),
        None => ("0".to_string(), "0".to_string()),
    };
    let ((bp, ba), (ap, aa)) = (best(bid), best(ask));
    let us = now.max(0) * 1000;
    let body = format!(
        "{{\"jsonrpc\":\"2.0\",\"result\":{{\"timestamp\":{},\"state\":\"open\",\"instrument_name\":\"{}\",\"change_id\":{},\"bids\":{},\"asks\":{},\"best_bid_price\":{bp},\"best_bid_amount\":{ba},\"best_ask_price\":{ap},\"best_ask_amount\":{aa}}},\"usIn\":{us},\"usOut\":{},\"usDiff\":400,\"testnet\":false}}",
        snap.time_ms,
        spec.native,
        snap.ids.cross_seq,
        side(&snap.bids),
        side(&snap.asks),
        us + 400
    );
    Response::json(body)
}
