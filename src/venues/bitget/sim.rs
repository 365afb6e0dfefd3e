//! Bitget v2 public WebSocket and REST, server side (VENUES.md §18).
//!
//! `/v2/ws/public`: `subscribe` / `unsubscribe` with one ack per argument,
//! text `ping` → `pong`; channels `books` (full-depth `snapshot`, then
//! `update`s with an increasing `seq` and the CRC32 `checksum` of the top 25
//! over the wire text, the OKX construction), `trade`, and `ticker` (spot:
//! prices; USDT-FUTURES: funding, mark/index, `holdingAmount` in the base
//! coin). Like the real v2 feed there is no previous-seq field, so a
//! withheld update is only seen when the checksum changes.
//! REST: `/api/v2/spot/public/symbols`, `/api/v2/mix/market/contracts`,
//! `/api/v2/spot/market/orderbook`, `/api/v2/mix/market/merge-depth`, and
//! the history the backfill asks for (`super::history`): funding history
//! (newest first) and spot and futures candles (oldest first).

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::model::{BookSide, TakerSide};

use super::VENUE;
use crate::sim::kit::{BookId, SimEvent, SimTicker, SimTrade, Step};
use crate::sim::kit::{Ctx, Protocol};
use crate::sim::kit::{FULL_DEPTH, Fixed, Listing, Shared, SimVenue, Spec};
use crate::sim::kit::{FeedView, RawLevel, pad_huge, wire};
use crate::sim::kit::{Request, Response};
use crate::sim::kit::{funding_history, kline_history};

use super::history;

/// The simulated bitget venue: its books, endpoints and protocol.
pub const SIM: SimVenue = SimVenue {
    listings: &[
        Listing::new(
            "BTC-USDT",
            "BTCUSDT",
            "0.01",
            "0.000001",
            (Fixed(2), Fixed(6)),
            0.3,
        ),
        Listing::new(
            "ETH-USDT",
            "ETHUSDT",
            "0.01",
            "0.0001",
            (Fixed(2), Fixed(4)),
            4.0,
        ),
        Listing::new(
            "BTC-USDT-PERP",
            "BTCUSDT",
            "0.1",
            "0.0001",
            (Fixed(1), Fixed(4)),
            1.0,
        ),
        Listing::new(
            "ETH-USDT-PERP",
            "ETHUSDT",
            "0.01",
            "0.01",
            (Fixed(2), Fixed(2)),
            15.0,
        ),
        Listing::new(
            "SOL-USDT-PERP",
            "SOLUSDT",
            "0.001",
            "0.1",
            (Fixed(3), Fixed(1)),
            200.0,
        ),
    ],
    depths: &[FULL_DEPTH],
    endpoints: |ws, http| {
        vec![
            ("ws", format!("{ws}/v2/ws/public")),
            ("rest", http.to_string()),
        ]
    },
    protocol,
    http_get,
    checksum: Some(view_checksum),
};

/// Bitget's checksum over price/size strings, best first: bid1, ask1, bid2,
/// ask2, … up to 25 a side, a side that ran out skipped, `price:size`
/// joined by `:`, CRC-32 (IEEE) read as a signed 32-bit integer.
pub fn checksum(bids: &[(String, String)], asks: &[(String, String)]) -> i32 {
    let mut parts: Vec<&str> = Vec::with_capacity(100);
    for i in 0..25 {
        for side in [bids, asks] {
            if let Some((p, s)) = side.get(i) {
                parts.push(p);
                parts.push(s);
            }
        }
    }
    crc32fast::hash(parts.join(":").as_bytes()) as i32
}

fn strings(spec: &Spec, levels: &[RawLevel]) -> Vec<(String, String)> {
    levels
        .iter()
        .take(25)
        .map(|&(p, s)| (spec.price_str(p), spec.size_str(s)))
        .collect()
}

fn view_checksum(spec: &Spec, view: &FeedView) -> i32 {
    checksum(&strings(spec, &view.bids), &strings(spec, &view.asks))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Books,
    Trade,
    Ticker,
}

#[derive(Clone, Debug)]
struct Sub {
    /// The `arg` object as acked and echoed.
    arg: String,
    channel: Channel,
    book: BookId,
    /// Book updates of steps up to this one are in the snapshot already.
    from_step: u64,
}

fn protocol(req: &Request, _shared: &Shared) -> Option<Box<dyn Protocol>> {
    if req.path != "/v2/ws/public" {
        return None;
    }
    Some(Box::new(Session { subs: Vec::new() }))
}

struct Session {
    subs: Vec<Sub>,
}

fn perp_of(inst_type: &str) -> Option<bool> {
    match inst_type {
        "SPOT" => Some(false),
        "USDT-FUTURES" => Some(true),
        _ => None,
    }
}

fn arg_json(inst_type: &str, channel: &str, inst_id: &str) -> String {
    format!(
        "{{\"instType\":{},\"channel\":{},\"instId\":{}}}",
        wire::string(inst_type),
        wire::string(channel),
        wire::string(inst_id)
    )
}

/// Validate one argument: (channel, book, arg as echoed) or Bitget's error.
fn parse_arg(arg: &Value, shared: &Shared) -> Result<(Channel, BookId, String), (u32, String)> {
    let s = |k: &str| arg.get(k).and_then(Value::as_str).unwrap_or("");
    let (inst_type, channel, inst_id) = (s("instType"), s("channel"), s("instId"));
    let echoed = arg_json(inst_type, channel, inst_id);
    let missing = || {
        (
            30001,
            format!("instType:{inst_type},channel:{channel},instId:{inst_id} doesn't exist"),
        )
    };
    let perp = perp_of(inst_type).ok_or_else(missing)?;
    let ch = match channel {
        "books" => Channel::Books,
        "trade" => Channel::Trade,
        "ticker" => Channel::Ticker,
        _ => return Err(missing()),
    };
    let book = shared
        .find(VENUE, |s| {
            s.native == inst_id && s.instrument.is_perp() == perp
        })
        .ok_or_else(missing)?;
    Ok((ch, book, echoed))
}

fn push(action: &str, arg: &str, data: &str, ts: i64) -> String {
    format!("{{\"action\":\"{action}\",\"arg\":{arg},\"data\":{data},\"ts\":{ts}}}")
}

fn books_message(
    spec: &Spec,
    sub: &Sub,
    action: &str,
    body: (&[RawLevel], &[RawLevel]),
    sum: i32,
    seq: u64,
    ts: i64,
) -> String {
    let data = format!(
        "[{{\"asks\":{},\"bids\":{},\"checksum\":{sum},\"seq\":{seq},\"ts\":\"{ts}\"}}]",
        wire::levels(spec, body.1),
        wire::levels(spec, body.0)
    );
    push(action, &sub.arg, &data, ts)
}

fn trades_message(spec: &Spec, arg: &str, trades: &[&SimTrade], ts: i64) -> String {
    let items: Vec<String> = trades
        .iter()
        .map(|t| {
            let side = match t.taker {
                TakerSide::Buy => "buy",
                TakerSide::Sell => "sell",
            };
            format!(
                "{{\"ts\":\"{}\",\"price\":\"{}\",\"size\":\"{}\",\"side\":\"{side}\",\"tradeId\":\"{}\"}}",
                t.time_ms,
                spec.price_str(t.price),
                spec.size_str(t.lots),
                1_100_000_000_000_000_000u64 + t.id
            )
        })
        .collect();
    push("update", arg, &format!("[{}]", items.join(",")), ts)
}

fn ticker_message(spec: &Spec, arg: &str, t: &SimTicker) -> String {
    let last = spec.price_str(t.last_price);
    let volume = spec.size(t.volume).normalize();
    let quote_volume = (spec.size(t.volume) * spec.price(t.last_price))
        .round_dp(4)
        .normalize();
    let mut data = format!(
        "{{\"instId\":\"{}\",\"lastPr\":\"{last}\",\"open24h\":\"{last}\",\"high24h\":\"{last}\",\"low24h\":\"{last}\",\"change24h\":\"0\",\"bidPr\":\"{}\",\"askPr\":\"{}\",\"bidSz\":\"{}\",\"askSz\":\"{}\",\"baseVolume\":\"{volume}\",\"quoteVolume\":\"{quote_volume}\"",
        spec.native,
        spec.price_str(t.best_bid.0),
        spec.price_str(t.best_ask.0),
        spec.size_str(t.best_bid.1),
        spec.size_str(t.best_ask.1),
    );
    if spec.instrument.is_perp() {
        data.push_str(&format!(
            ",\"indexPrice\":\"{}\",\"markPrice\":\"{}\",\"fundingRate\":\"{}\",\"nextFundingTime\":\"{}\",\"holdingAmount\":\"{}\",\"usdtVolume\":\"{quote_volume}\"",
            spec.price_str(t.index),
            spec.price_str(t.mark),
            t.funding_rate.normalize(),
            t.next_funding_ms,
            spec.size(t.open_interest).normalize(),
        ));
    } else {
        data.push_str(",\"openUtc\":\"0\",\"changeUtc24h\":\"0\"");
    }
    data.push_str(&format!(",\"ts\":\"{}\"}}", t.time_ms));
    push("snapshot", arg, &format!("[{data}]"), t.time_ms)
}

impl Session {
    fn subscribe(&mut self, args: &[Value], ctx: &Ctx<'_>, out: &mut Vec<String>) {
        for arg in args {
            let (channel, book, echoed) = match parse_arg(arg, ctx.shared) {
                Ok(x) => x,
                Err((code, msg)) => {
                    out.push(format!(
                        "{{\"event\":\"error\",\"arg\":{},\"code\":{code},\"msg\":{},\"op\":\"subscribe\"}}",
                        arg,
                        wire::string(&msg)
                    ));
                    continue;
                }
            };
            out.push(format!("{{\"event\":\"subscribe\",\"arg\":{echoed}}}"));
            if self.subs.iter().any(|s| s.arg == echoed) {
                continue;
            }
            let mut sub = Sub {
                arg: echoed,
                channel,
                book,
                from_step: 0,
            };
            if channel == Channel::Books
                && let Some(spec) = ctx.shared.spec(book)
            {
                let huge = ctx.shared.faults.take_huge_snapshot(VENUE);
                if let Some(mut snap) = ctx.shared.snapshot(book, 0, FULL_DEPTH) {
                    if huge {
                        pad_huge(spec, &mut snap.bids, BookSide::Bid);
                        pad_huge(spec, &mut snap.asks, BookSide::Ask);
                    }
                    sub.from_step = snap.step;
                    let sum = checksum(&strings(spec, &snap.bids), &strings(spec, &snap.asks));
                    out.push(books_message(
                        spec,
                        &sub,
                        "snapshot",
                        (&snap.bids, &snap.asks),
                        sum,
                        snap.ids.cross_seq,
                        snap.time_ms,
                    ));
                }
            }
            self.subs.push(sub);
        }
    }

    fn unsubscribe(&mut self, args: &[Value], ctx: &Ctx<'_>, out: &mut Vec<String>) {
        for arg in args {
            if let Ok((_, _, echoed)) = parse_arg(arg, ctx.shared) {
                self.subs.retain(|s| s.arg != echoed);
                out.push(format!("{{\"event\":\"unsubscribe\",\"arg\":{echoed}}}"));
            }
        }
    }
}

impl Protocol for Session {
    fn on_text(&mut self, text: &str, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        if text == "ping" {
            out.push("pong".to_string());
            return;
        }
        let parsed = serde_json::from_str::<Value>(text).ok();
        let op = parsed
            .as_ref()
            .and_then(|v| v.get("op"))
            .and_then(Value::as_str);
        let args: Vec<Value> = parsed
            .as_ref()
            .and_then(|v| v.get("args"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match op {
            Some("subscribe") => self.subscribe(&args, ctx, out),
            Some("unsubscribe") => self.unsubscribe(&args, ctx, out),
            _ => out.push(format!(
                "{{\"event\":\"error\",\"code\":30004,\"msg\":{}}}",
                wire::string(&format!("Illegal request: {text}"))
            )),
        }
    }

    fn on_step(&mut self, step: &Step, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        for sub in &self.subs {
            let Some(spec) = ctx.shared.spec(sub.book) else {
                continue;
            };
            match sub.channel {
                Channel::Books => {
                    if step.no <= sub.from_step {
                        continue;
                    }
                    for e in &step.events {
                        let SimEvent::Book {
                            book,
                            delta,
                            checksum,
                            ..
                        } = e
                        else {
                            continue;
                        };
                        if *book != sub.book || ctx.faults.take_skip() {
                            continue;
                        }
                        let mut sum = checksum.unwrap_or(0);
                        if ctx.faults.take_bad_checksum() {
                            sum = (sum ^ 0x5a5a_5a5a) | 1;
                        }
                        out.push(books_message(
                            spec,
                            sub,
                            "update",
                            (&delta.bids, &delta.asks),
                            sum,
                            delta.ids.cross_seq,
                            step.time_ms,
                        ));
                    }
                }
                Channel::Trade => {
                    let trades: Vec<&SimTrade> = step
                        .events
                        .iter()
                        .filter_map(|e| match e {
                            SimEvent::Trade(t) if t.book == sub.book => Some(t),
                            _ => None,
                        })
                        .collect();
                    if !trades.is_empty() {
                        out.push(trades_message(spec, &sub.arg, &trades, step.time_ms));
                    }
                }
                Channel::Ticker => {
                    for e in &step.events {
                        if let SimEvent::Ticker(t) = e
                            && t.book == sub.book
                        {
                            out.push(ticker_message(spec, &sub.arg, t));
                        }
                    }
                }
            }
        }
    }

    fn unknown_message(&self, time_ms: i64) -> String {
        push(
            "update",
            "{\"instType\":\"SPOT\",\"channel\":\"sim-unknown\",\"instId\":\"BTCUSDT\"}",
            &format!("[{{\"ts\":\"{time_ms}\"}}]"),
            time_ms,
        )
    }
}

fn envelope(data: Value, now: i64) -> Response {
    Response::json(
        json!({"code": "00000", "msg": "success", "requestTime": now, "data": data}).to_string(),
    )
}

fn error(status: u16, code: &str, msg: &str, now: i64) -> Response {
    Response::error(
        status,
        json!({"code": code, "msg": msg, "requestTime": now, "data": null}).to_string(),
    )
}

/// `pricePlace` and `priceEndStep` of a tick (0.5 → 1 and 5).
fn place_and_step(tick: Decimal) -> (u32, Decimal) {
    let t = tick.normalize();
    (t.scale(), Decimal::from_i128_with_scale(t.mantissa(), 0))
}

fn http_get(req: &Request, shared: &Shared) -> Response {
    let now = shared.now_ms();
    match req.path.as_str() {
        "/api/v2/spot/public/symbols" => symbols(req, shared, now),
        "/api/v2/mix/market/contracts" => contracts(req, shared, now),
        "/api/v2/spot/market/orderbook" => depth(req, shared, false, now),
        "/api/v2/mix/market/merge-depth" => depth(req, shared, true, now),
        history::FUNDING_PATH => funding(req, shared, now),
        history::MIX_KLINES_PATH => candles(req, shared, false, now),
        history::SPOT_KLINES_PATH => candles(req, shared, true, now),
        _ => error(404, "40404", "Request URL NOT FOUND", now),
    }
}

fn limit(req: &Request, key: &str, default: usize, max: usize) -> usize {
    req.param(key)
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, max)
}

/// The book a history request names, or Bitget's error answer.
fn history_book(
    req: &Request,
    shared: &Shared,
    perp: bool,
    now: i64,
) -> Result<(BookId, Spec), Response> {
    let sym = req.param("symbol").unwrap_or_default();
    let spec = listed(shared, perp, Some(sym)).into_iter().next();
    let book = shared.find(VENUE, |s| s.native == sym && s.instrument.is_perp() == perp);
    spec.zip(book)
        .map(|(s, b)| (b, s))
        .ok_or_else(|| error(400, "40034", "Parameter symbol does not exist", now))
}

/// Settled fundings, newest first.
fn funding(req: &Request, shared: &Shared, now: i64) -> Response {
    let (book, spec) = match history_book(req, shared, true, now) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let data: Vec<Value> = funding_history(shared, book, limit(req, "pageSize", 20, 100))
        .into_iter()
        .rev()
        .map(|p| {
            json!({"symbol": spec.native, "fundingRate": p.value.normalize().to_string(),
                   "fundingTime": p.time_ms.to_string()})
        })
        .collect();
    envelope(Value::Array(data), now)
}

/// Candles, oldest first as Bitget answers them: futures
/// `[ts, o, h, l, c, baseVolume, quoteVolume]`, spot with `usdtVolume`
/// before the quote volume.
fn candles(req: &Request, shared: &Shared, spot: bool, now: i64) -> Response {
    let (book, spec) = match history_book(req, shared, !spot, now) {
        Ok(b) => b,
        Err(e) => return e,
    };
    const MIN: i64 = 60_000;
    let step = match (spot, req.param("granularity").unwrap_or_default()) {
        (false, "1m") | (true, "1min") => MIN,
        (false, "5m") | (true, "5min") => 5 * MIN,
        (false, "15m") | (true, "15min") => 15 * MIN,
        (false, "1H") | (true, "1h") => 60 * MIN,
        (false, "4H") | (true, "4h") => 240 * MIN,
        (_, "1Dutc") => 1_440 * MIN,
        _ => return error(400, "40034", "Parameter granularity does not exist", now),
    };
    let data: Vec<Value> = kline_history(shared, book, step, limit(req, "limit", 100, 1_000))
        .into_iter()
        .map(|k| {
            let base = spec.size(k.lots);
            let quote = (base * spec.price(k.close))
                .round_dp(4)
                .normalize()
                .to_string();
            let mut row = vec![
                k.start_ms.to_string(),
                spec.price_str(k.open),
                spec.price_str(k.high),
                spec.price_str(k.low),
                spec.price_str(k.close),
                base.normalize().to_string(),
            ];
            if spot {
                row.push(quote.clone());
            }
            row.push(quote);
            json!(row)
        })
        .collect();
    envelope(Value::Array(data), now)
}

fn listed(shared: &Shared, perp: bool, wanted: Option<&str>) -> Vec<Spec> {
    shared
        .specs
        .iter()
        .filter(|s| s.venue == VENUE && s.instrument.is_perp() == perp)
        .filter(|s| wanted.is_none_or(|w| w == s.native))
        .cloned()
        .collect()
}

fn symbols(req: &Request, shared: &Shared, now: i64) -> Response {
    let data: Vec<Value> = listed(shared, false, req.param("symbol"))
        .iter()
        .map(|s| {
            json!({
                "symbol": s.native, "baseCoin": s.instrument.base.to_string(),
                "quoteCoin": s.instrument.quote.to_string(), "minTradeAmount": "0",
                "maxTradeAmount": "900000000000000000000", "takerFeeRate": "0.001",
                "makerFeeRate": "0.001", "pricePrecision": s.tick.normalize().scale().to_string(),
                "quantityPrecision": s.lot.normalize().scale().to_string(), "quotePrecision": "8",
                "status": "online", "minTradeUSDT": "1", "buyLimitPriceRatio": "0.05",
                "sellLimitPriceRatio": "0.05", "areaSymbol": "no", "orderQuantity": "200",
                "openTime": "1532454360000"
            })
        })
        .collect();
    envelope(Value::Array(data), now)
}

fn contracts(req: &Request, shared: &Shared, now: i64) -> Response {
    match req.param("productType") {
        Some("USDT-FUTURES") => {}
        Some("COIN-FUTURES" | "USDC-FUTURES") => return envelope(json!([]), now),
        _ => return error(400, "40020", "Parameter productType error", now),
    }
    let data: Vec<Value> = listed(shared, true, req.param("symbol"))
        .iter()
        .map(|s| {
            let (place, step) = place_and_step(s.tick);
            json!({
                "symbol": s.native, "baseCoin": s.instrument.base.to_string(),
                "quoteCoin": s.instrument.quote.to_string(), "buyLimitPriceRatio": "0.01",
                "sellLimitPriceRatio": "0.01", "feeRateUpRatio": "0.005", "makerFeeRate": "0.0002",
                "takerFeeRate": "0.0006", "openCostUpRatio": "0.01", "supportMarginCoins": ["USDT"],
                "minTradeNum": s.lot.to_string(), "priceEndStep": step.to_string(),
                "volumePlace": s.lot.normalize().scale().to_string(), "pricePlace": place.to_string(),
                "sizeMultiplier": s.lot.to_string(), "symbolType": "perpetual", "minTradeUSDT": "5",
                "maxSymbolOrderNum": "200", "maxProductOrderNum": "400", "maxPositionNum": "150",
                "symbolStatus": "normal", "offTime": "-1", "limitOpenTime": "-1", "deliveryTime": "",
                "deliveryStartTime": "", "deliveryPeriod": "", "launchTime": "", "fundInterval": "8",
                "minLever": "1", "maxLever": "125", "posLimit": "0.05", "maintainTime": ""
            })
        })
        .collect();
    envelope(Value::Array(data), now)
}

fn depth(req: &Request, shared: &Shared, perp: bool, now: i64) -> Response {
    let Some(sym) = req.param("symbol") else {
        return error(400, "40034", "Parameter symbol does not exist", now);
    };
    let Some(spec) = listed(shared, perp, Some(sym)).into_iter().next() else {
        return error(400, "40034", "Parameter symbol does not exist", now);
    };
    let Some(book) = shared.find(VENUE, |s| s.native == sym && s.instrument.is_perp() == perp)
    else {
        return error(400, "40034", "Parameter symbol does not exist", now);
    };
    let limit = match req.param("limit") {
        Some("max") | None => 150,
        Some(l) => l.parse::<usize>().unwrap_or(150).clamp(1, 150),
    };
    let huge = shared.faults.take_huge_snapshot(VENUE);
    let Some(mut snap) = shared.snapshot(book, 0, limit) else {
        return error(400, "40034", "Parameter symbol does not exist", now);
    };
    if huge {
        pad_huge(&spec, &mut snap.bids, BookSide::Bid);
        pad_huge(&spec, &mut snap.asks, BookSide::Ask);
    }
    // Spot answers strings, merge-depth numbers.
    let levels = |ls: &[RawLevel]| -> String {
        let items: Vec<String> = ls
            .iter()
            .map(|&(p, s)| {
                if perp {
                    format!("[{},{}]", spec.price_str(p), spec.size_str(s))
                } else {
                    format!("[\"{}\",\"{}\"]", spec.price_str(p), spec.size_str(s))
                }
            })
            .collect();
        format!("[{}]", items.join(","))
    };
    let extra = if perp {
        format!(
            ",\"scale\":\"{}\",\"precision\":\"scale0\",\"isMaxPrecision\":\"YES\"",
            spec.tick.normalize()
        )
    } else {
        String::new()
    };
    Response::json(format!(
        "{{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":{now},\"data\":{{\"asks\":{},\"bids\":{},\"ts\":\"{}\"{extra}}}}}",
        levels(&snap.asks),
        levels(&snap.bids),
        snap.time_ms
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn checksum_follows_the_documented_strings() {
        // Bitget "Depth Channel" → "Checksum" examples.
        let c = checksum(
            &s(&[("43231.1", "4"), ("43231", "6")]),
            &s(&[("43232.8", "9"), ("43232.9", "8")]),
        );
        assert_eq!(
            c,
            crc32fast::hash(b"43231.1:4:43232.8:9:43231:6:43232.9:8") as i32
        );
        let c = checksum(
            &s(&[("3366.1", "7")]),
            &s(&[("3366.8", "9"), ("3368", "8"), ("3372", "8")]),
        );
        assert_eq!(c, 831078360);
    }

    #[test]
    fn ticks_become_place_and_step() {
        assert_eq!(place_and_step(Decimal::new(5, 1)), (1, Decimal::from(5)));
        assert_eq!(place_and_step(Decimal::new(1, 2)), (2, Decimal::ONE));
        assert_eq!(place_and_step(Decimal::ONE), (0, Decimal::ONE));
    }
}
