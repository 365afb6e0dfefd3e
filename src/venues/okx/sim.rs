//! OKX v5 public WebSocket, server side (VENUES.md §4).
//!
//! `/ws/v5/public`: `subscribe` / `unsubscribe` with one ack per argument,
//! text `ping` → `pong`; channels `books` (400-level snapshot, then updates
//! with `prevSeqId`/`seqId` and the CRC32 `checksum` of the top 25), `books5`,
//! `trades`, `liquidation-orders` (by `instType` SWAP), `funding-rate` and
//! `open-interest`.
//! Swap sizes are contracts (`ctVal` 0.01 BTC, 0.1 ETH, 1 SOL).
//! REST: `/api/v5/public/instruments?instType=SPOT|SWAP`, and the history
//! the backfill asks for (`super::history`): open interest, settled funding
//! and candles, newest first, with OKX's error codes for an unknown
//! instrument or bar.

use serde_json::{Value, json};

use crate::model::{BookSide, LiquidatedSide, TakerSide};

use super::VENUE;
use crate::sim::kit::Spec;
use crate::sim::kit::wire;
use crate::sim::kit::{BookId, SimEvent, SimLiquidation, SimTicker, SimTrade, Step};
use crate::sim::kit::{Ctx, Protocol};
use crate::sim::kit::{FeedView, RawLevel, pad_huge};
use crate::sim::kit::{Fixed, Listing, Plain, Shared, SimVenue};
use crate::sim::kit::{Request, Response};
use crate::sim::kit::{funding_history, kline_history, open_interest_history};
use rust_decimal::Decimal;

use super::history;

/// The simulated okx venue: its books, endpoints and protocol.
pub const SIM: SimVenue = SimVenue {
    listings: &[
        Listing::new(
            "BTC-USDT",
            "BTC-USDT",
            "0.1",
            "0.00000001",
            (Fixed(1), Plain),
            0.3,
        ),
        Listing::new(
            "ETH-USDT",
            "ETH-USDT",
            "0.01",
            "0.000001",
            (Fixed(2), Plain),
            4.0,
        ),
        Listing::new(
            "BTC-USDT-PERP",
            "BTC-USDT-SWAP",
            "0.1",
            "0.01",
            (Fixed(1), Plain),
            1.0,
        )
        .contracts("0.01"),
        Listing::new(
            "ETH-USDT-PERP",
            "ETH-USDT-SWAP",
            "0.01",
            "0.01",
            (Fixed(2), Plain),
            15.0,
        )
        .contracts("0.1"),
        Listing::new(
            "SOL-USDT-PERP",
            "SOL-USDT-SWAP",
            "0.01",
            "0.01",
            (Fixed(2), Plain),
            200.0,
        )
        .contracts("1"),
    ],
    depths: &[400],
    endpoints: |ws, http| {
        vec![
            ("ws", format!("{ws}/ws/v5/public")),
            ("rest", http.to_string()),
        ]
    },
    protocol,
    http_get,
    checksum: Some(view_checksum),
};

/// OKX's checksum over price/size strings (best first): bid1, ask1, bid2,
/// ask2, … up to 25 a side, skipping a side that ran out, `price:size`
/// joined by `:`, CRC-32 (IEEE) read as a signed 32-bit integer.
pub fn checksum(bids: &[(String, String)], asks: &[(String, String)]) -> i32 {
    let mut parts: Vec<&str> = Vec::with_capacity(100);
    for i in 0..25 {
        if let Some((p, s)) = bids.get(i) {
            parts.push(p);
            parts.push(s);
        }
        if let Some((p, s)) = asks.get(i) {
            parts.push(p);
            parts.push(s);
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

/// Checksum of a feed view as its subscribers hold it.
fn view_checksum(spec: &Spec, view: &FeedView) -> i32 {
    checksum(&strings(spec, &view.bids), &strings(spec, &view.asks))
}

/// `[["px","sz","0","orders"],...]`.
fn levels(spec: &Spec, levels: &[RawLevel]) -> String {
    let items: Vec<String> = levels
        .iter()
        .map(|&(p, s)| {
            let orders = 1 + (p ^ s).rem_euclid(17);
            format!(
                "[\"{}\",\"{}\",\"0\",\"{orders}\"]",
                spec.price_str(p),
                spec.size_str(s)
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Books,
    Books5,
    Trades,
    Liquidations,
    Funding,
    OpenInterest,
}

#[derive(Clone, Debug)]
struct Sub {
    /// The `arg` object as acked and echoed (`{"channel":..,"instId":..}`).
    arg: String,
    channel: Channel,
    book: Option<BookId>,
    from_step: u64,
    last_top5: Option<(Vec<RawLevel>, Vec<RawLevel>)>,
    tickers_seen: u64,
}

fn protocol(req: &Request, shared: &Shared) -> Option<Box<dyn Protocol>> {
    if req.path != "/ws/v5/public" {
        return None;
    }
    Some(Box::new(Session {
        conn_id: format!("{:08x}", 0x51a0_0000u64 + shared.conn_no()),
        subs: Vec::new(),
    }))
}

struct Session {
    conn_id: String,
    subs: Vec<Sub>,
}

fn arg_json(channel: &str, key: &str, value: &str) -> String {
    format!(
        "{{\"channel\":{},\"{key}\":{}}}",
        wire::string(channel),
        wire::string(value)
    )
}

impl Session {
    fn event(&self, id: &Option<String>, event: &str, arg: &str) -> String {
        let id = id
            .as_ref()
            .map(|i| format!("\"id\":{},", wire::string(i)))
            .unwrap_or_default();
        format!(
            "{{{id}\"event\":\"{event}\",\"arg\":{arg},\"connId\":\"{}\"}}",
            self.conn_id
        )
    }

    fn error(&self, id: &Option<String>, code: &str, msg: &str) -> String {
        let id = id
            .as_ref()
            .map(|i| format!("\"id\":{},", wire::string(i)))
            .unwrap_or_default();
        format!(
            "{{{id}\"event\":\"error\",\"code\":\"{code}\",\"msg\":{},\"connId\":\"{}\"}}",
            wire::string(msg),
            self.conn_id
        )
    }

    /// Validate one subscription argument.
    fn parse_arg(
        arg: &Value,
        shared: &Shared,
    ) -> Result<(Channel, Option<BookId>, String), String> {
        let channel = arg.get("channel").and_then(Value::as_str).unwrap_or("");
        let inst_id = arg.get("instId").and_then(Value::as_str);
        let inst_type = arg.get("instType").and_then(Value::as_str);
        let wrong = || {
            format!(
                "Wrong URL or channel:{channel},instId:{} doesn't exist. Please use the correct URL, channel and parameters referring to API document.",
                inst_id.or(inst_type).unwrap_or("")
            )
        };
        let book_of = |id: &str, perp_only: bool| {
            shared.find(VENUE, |s| {
                s.native == id && (!perp_only || s.instrument.is_perp())
            })
        };
        match channel {
            "books" | "books5" | "trades" | "funding-rate" | "open-interest" => {
                let id = inst_id.ok_or_else(wrong)?;
                let perp_only = matches!(channel, "funding-rate" | "open-interest");
                let book = book_of(id, perp_only).ok_or_else(wrong)?;
                let ch = match channel {
                    "books" => Channel::Books,
                    "books5" => Channel::Books5,
                    "trades" => Channel::Trades,
                    "funding-rate" => Channel::Funding,
                    _ => Channel::OpenInterest,
                };
                Ok((ch, Some(book), arg_json(channel, "instId", id)))
            }
            "liquidation-orders" => match inst_type {
                Some(t @ ("SWAP" | "FUTURES" | "MARGIN" | "OPTION")) => Ok((
                    Channel::Liquidations,
                    None,
                    arg_json(channel, "instType", t),
                )),
                _ => Err(wrong()),
            },
            _ => Err(wrong()),
        }
    }

    fn books_message(&self, sub: &Sub, spec: &Spec, action: &str, body: BooksBody<'_>) -> String {
        format!(
            "{{\"arg\":{},\"action\":\"{action}\",\"data\":[{{\"asks\":{},\"bids\":{},\"ts\":\"{}\",\"checksum\":{},\"prevSeqId\":{},\"seqId\":{}}}]}}",
            sub.arg,
            levels(spec, body.asks),
            levels(spec, body.bids),
            body.ts,
            body.checksum,
            body.prev_seq,
            body.seq
        )
    }

    fn subscribe(
        &mut self,
        id: &Option<String>,
        args: &[Value],
        ctx: &Ctx<'_>,
        out: &mut Vec<String>,
    ) {
        for arg in args {
            let (channel, book, arg_s) = match Self::parse_arg(arg, ctx.shared) {
                Ok(x) => x,
                Err(msg) => {
                    out.push(self.error(id, "60018", &msg));
                    continue;
                }
            };
            out.push(self.event(id, "subscribe", &arg_s));
            if self.subs.iter().any(|s| s.arg == arg_s) {
                continue;
            }
            let mut sub = Sub {
                arg: arg_s,
                channel,
                book,
                from_step: 0,
                last_top5: None,
                tickers_seen: 0,
            };
            if channel == Channel::Books
                && let Some(book) = book
                && let Some(spec) = ctx.shared.spec(book)
            {
                let huge = ctx.shared.faults.take_huge_snapshot(VENUE);
                if let Some(mut snap) = ctx.shared.snapshot(book, 0, 400) {
                    if huge {
                        pad_huge(spec, &mut snap.bids, BookSide::Bid);
                        pad_huge(spec, &mut snap.asks, BookSide::Ask);
                    }
                    sub.from_step = snap.step;
                    out.push(self.books_message(
                        &sub,
                        spec,
                        "snapshot",
                        BooksBody {
                            bids: &snap.bids,
                            asks: &snap.asks,
                            ts: snap.time_ms,
                            checksum: snap.checksum.unwrap_or(0),
                            prev_seq: -1,
                            seq: snap.ids.cross_seq as i64,
                        },
                    ));
                }
            }
            self.subs.push(sub);
        }
    }
}

struct BooksBody<'a> {
    bids: &'a [RawLevel],
    asks: &'a [RawLevel],
    ts: i64,
    checksum: i32,
    prev_seq: i64,
    seq: i64,
}

fn trades_message(arg: &str, spec: &Spec, trades: &[&SimTrade]) -> String {
    let items: Vec<String> = trades
        .iter()
        .map(|t| {
            let side = match t.taker {
                TakerSide::Buy => "buy",
                TakerSide::Sell => "sell",
            };
            format!(
                "{{\"instId\":\"{}\",\"tradeId\":\"{}\",\"px\":\"{}\",\"sz\":\"{}\",\"side\":\"{side}\",\"ts\":\"{}\",\"count\":\"1\",\"seqId\":{}}}",
                spec.native,
                t.id,
                spec.price_str(t.price),
                spec.size_str(t.lots),
                t.time_ms,
                t.seq
            )
        })
        .collect();
    format!("{{\"arg\":{arg},\"data\":[{}]}}", items.join(","))
}

fn liquidation_message(arg: &str, spec: &Spec, l: &SimLiquidation) -> String {
    // The forced order's side: a long is closed by a sell.
    let (side, pos) = match l.side {
        LiquidatedSide::Long => ("sell", "long"),
        LiquidatedSide::Short => ("buy", "short"),
    };
    let family = format!("{}-{}", spec.instrument.base, spec.instrument.quote);
    format!(
        "{{\"arg\":{arg},\"data\":[{{\"details\":[{{\"bkLoss\":\"0\",\"bkPx\":\"{}\",\"ccy\":\"\",\"posSide\":\"{pos}\",\"side\":\"{side}\",\"sz\":\"{}\",\"ts\":\"{}\"}}],\"instFamily\":\"{family}\",\"instId\":\"{}\",\"instType\":\"SWAP\",\"uly\":\"{family}\"}}]}}",
        spec.price_str(l.price),
        spec.size_str(l.lots),
        l.time_ms,
        spec.native
    )
}

/// `open-interest`: `oi` in contracts, `oiCcy` in the coin.
fn open_interest_message(arg: &str, spec: &Spec, t: &SimTicker) -> String {
    let contracts = spec.size(t.open_interest);
    let coin = (contracts * spec.contract_size.unwrap_or(rust_decimal::Decimal::ONE)).normalize();
    let usd = (coin * spec.price(t.mark)).round_dp(2).normalize();
    format!(
        "{{\"arg\":{arg},\"data\":[{{\"instId\":\"{}\",\"instType\":\"SWAP\",\"oi\":\"{}\",\"oiCcy\":\"{coin}\",\"oiUsd\":\"{usd}\",\"ts\":\"{}\"}}]}}",
        spec.native,
        contracts.normalize(),
        t.time_ms
    )
}

fn funding_message(arg: &str, spec: &Spec, t: &SimTicker) -> String {
    let premium = if t.index != 0 {
        (rust_decimal::Decimal::from(t.mark - t.index) / rust_decimal::Decimal::from(t.index))
            .round_dp(10)
            .normalize()
    } else {
        rust_decimal::Decimal::ZERO
    };
    format!(
        "{{\"arg\":{arg},\"data\":[{{\"fundingRate\":\"{}\",\"fundingTime\":\"{}\",\"instId\":\"{}\",\"instType\":\"SWAP\",\"method\":\"current_period\",\"maxFundingRate\":\"0.0075\",\"minFundingRate\":\"-0.0075\",\"nextFundingRate\":\"\",\"nextFundingTime\":\"{}\",\"premium\":\"{premium}\",\"settFundingRate\":\"0.0001\",\"settState\":\"settled\",\"ts\":\"{}\"}}]}}",
        t.funding_rate.normalize(),
        t.next_funding_ms,
        spec.native,
        t.next_funding_ms + 8 * 3600 * 1000,
        t.time_ms
    )
}

impl Protocol for Session {
    fn on_text(&mut self, text: &str, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        if text == "ping" {
            out.push("pong".to_string());
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            out.push(self.error(&None, "60012", &format!("Invalid request: {text}")));
            return;
        };
        let id = v.get("id").and_then(Value::as_str).map(str::to_string);
        let args: Vec<Value> = v
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match v.get("op").and_then(Value::as_str) {
            Some("subscribe") => self.subscribe(&id, &args, ctx, out),
            Some("unsubscribe") => {
                for arg in &args {
                    if let Ok((_, _, arg_s)) = Self::parse_arg(arg, ctx.shared) {
                        self.subs.retain(|s| s.arg != arg_s);
                        out.push(self.event(&id, "unsubscribe", &arg_s));
                    }
                }
            }
            _ => out.push(self.error(&id, "60012", &format!("Invalid request: {text}"))),
        }
    }

    fn on_step(&mut self, step: &Step, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        for i in 0..self.subs.len() {
            let Some(sub) = self.subs.get(i).cloned() else {
                continue;
            };
            let spec = sub.book.and_then(|b| ctx.shared.spec(b));
            match (sub.channel, spec) {
                (Channel::Books, Some(spec)) => {
                    if step.no <= sub.from_step {
                        continue;
                    }
                    for e in &step.events {
                        if let SimEvent::Book {
                            book,
                            delta,
                            checksum,
                            ..
                        } = e
                            && Some(*book) == sub.book
                        {
                            if ctx.faults.take_skip() {
                                continue;
                            }
                            let mut sum = checksum.unwrap_or(0);
                            if ctx.faults.take_bad_checksum() {
                                sum = (sum ^ 0x5a5a_5a5a) | 1;
                            }
                            out.push(self.books_message(
                                &sub,
                                spec,
                                "update",
                                BooksBody {
                                    bids: &delta.bids,
                                    asks: &delta.asks,
                                    ts: step.time_ms,
                                    checksum: sum,
                                    prev_seq: delta.prev.cross_seq as i64,
                                    seq: delta.ids.cross_seq as i64,
                                },
                            ));
                        }
                    }
                }
                (Channel::Books5, Some(spec)) => {
                    let Some(book) = sub.book else { continue };
                    let changed = step
                        .events
                        .iter()
                        .any(|e| matches!(e, SimEvent::Book { book: b, .. } if *b == book));
                    if !changed {
                        continue;
                    }
                    let Some(snap) = ctx.shared.snapshot(book, 0, 5) else {
                        continue;
                    };
                    let top = (snap.bids.clone(), snap.asks.clone());
                    if sub.last_top5.as_ref() == Some(&top) {
                        continue;
                    }
                    out.push(format!(
                        "{{\"arg\":{},\"data\":[{{\"asks\":{},\"bids\":{},\"instId\":\"{}\",\"ts\":\"{}\",\"seqId\":{}}}]}}",
                        sub.arg,
                        levels(spec, &snap.asks),
                        levels(spec, &snap.bids),
                        spec.native,
                        snap.time_ms,
                        snap.ids.cross_seq
                    ));
                    if let Some(s) = self.subs.get_mut(i) {
                        s.last_top5 = Some(top);
                    }
                }
                (Channel::Trades, Some(spec)) => {
                    let trades: Vec<&SimTrade> = step
                        .events
                        .iter()
                        .filter_map(|e| match e {
                            SimEvent::Trade(t) if Some(t.book) == sub.book => Some(t),
                            _ => None,
                        })
                        .collect();
                    if !trades.is_empty() {
                        out.push(trades_message(&sub.arg, spec, &trades));
                    }
                }
                (Channel::Funding, Some(spec)) => {
                    for e in &step.events {
                        if let SimEvent::Ticker(t) = e
                            && Some(t.book) == sub.book
                        {
                            // OKX pushes funding about every 30–90 s; here every 10 s.
                            if sub.tickers_seen % 10 == 0 {
                                out.push(funding_message(&sub.arg, spec, t));
                            }
                            if let Some(s) = self.subs.get_mut(i) {
                                s.tickers_seen += 1;
                            }
                        }
                    }
                }
                (Channel::OpenInterest, Some(spec)) => {
                    for e in &step.events {
                        if let SimEvent::Ticker(t) = e
                            && Some(t.book) == sub.book
                        {
                            // OKX pushes open interest about every 3 s.
                            if sub.tickers_seen % 3 == 0 {
                                out.push(open_interest_message(&sub.arg, spec, t));
                            }
                            if let Some(s) = self.subs.get_mut(i) {
                                s.tickers_seen += 1;
                            }
                        }
                    }
                }
                (Channel::Liquidations, _) => {
                    if !sub.arg.contains("\"SWAP\"") {
                        continue;
                    }
                    for e in &step.events {
                        if let SimEvent::Liquidation(l) = e
                            && let Some(spec) = ctx.shared.spec(l.book)
                            && spec.venue == VENUE
                        {
                            out.push(liquidation_message(&sub.arg, spec, l));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn unknown_message(&self, time_ms: i64) -> String {
        format!(
            "{{\"arg\":{{\"channel\":\"sim-unknown\",\"instId\":\"BTC-USDT\"}},\"data\":[{{\"ts\":\"{time_ms}\"}}]}}"
        )
    }
}

fn http_get(req: &Request, shared: &Shared) -> Response {
    match req.path.as_str() {
        "/api/v5/public/instruments" => instruments(req, shared),
        history::OI_PATH => history_answer(open_interest(req, shared)),
        history::FUNDING_PATH => history_answer(funding(req, shared)),
        history::KLINES_PATH => history_answer(candles(req, shared)),
        _ => Response::error(
            404,
            json!({"code": "50000", "msg": "not found", "data": []}).to_string(),
        ),
    }
}

/// An OKX error code and its words.
type Refusal = (&'static str, &'static str);
const NO_INSTRUMENT: Refusal = ("51001", "Instrument ID does not exist");

/// OKX's answer: `code` "0" and the rows, or an error code and its words.
fn history_answer(rows: Result<Vec<Value>, Refusal>) -> Response {
    let body = match rows {
        Ok(data) => json!({"code": "0", "msg": "", "data": data}),
        Err((code, msg)) => json!({"code": code, "msg": msg, "data": []}),
    };
    Response::json(body.to_string())
}

/// The swap (or, for candles, any instrument) a request names.
fn asked(req: &Request, shared: &Shared, perp_only: bool) -> Result<BookId, Refusal> {
    let id = req.param("instId").unwrap_or_default();
    shared
        .find(VENUE, |s| {
            s.native == id && (s.instrument.is_perp() || !perp_only)
        })
        .ok_or(NO_INSTRUMENT)
}

fn limit(req: &Request, default: usize, max: usize) -> usize {
    req.param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, max)
}

/// Milliseconds of a `bar` or `period`.
fn bar_ms(bar: &str) -> Option<i64> {
    const MIN: i64 = 60_000;
    Some(match bar {
        "1m" => MIN,
        "5m" => 5 * MIN,
        "15m" => 15 * MIN,
        "30m" => 30 * MIN,
        "1H" => 60 * MIN,
        "2H" => 120 * MIN,
        "4H" => 240 * MIN,
        "1Dutc" => 1_440 * MIN,
        _ => return None,
    })
}

/// `[ts, oi, oiCcy, oiUsd]`, newest first (contracts, coin, USD).
fn open_interest(req: &Request, shared: &Shared) -> Result<Vec<Value>, Refusal> {
    let book = asked(req, shared, true)?;
    let step =
        bar_ms(req.param("period").unwrap_or("5m")).ok_or(("51000", "Parameter period error"))?;
    let spec = shared.spec(book).ok_or(NO_INSTRUMENT)?;
    let value = spec.contract_size.unwrap_or(Decimal::ONE);
    let mid = mid(shared, book).map(|m| spec.price(m)).unwrap_or_default();
    Ok(
        open_interest_history(shared, book, step, limit(req, 100, 100))
            .into_iter()
            .rev()
            .map(|p| {
                let contracts = spec.size(p.value);
                let coin = (contracts * value).normalize();
                let usd = (coin * mid).round_dp(2).normalize();
                json!([
                    p.time_ms.to_string(),
                    contracts.normalize().to_string(),
                    coin.to_string(),
                    usd.to_string()
                ])
            })
            .collect(),
    )
}

/// Settled fundings, newest first.
fn funding(req: &Request, shared: &Shared) -> Result<Vec<Value>, Refusal> {
    let book = asked(req, shared, true)?;
    let spec = shared.spec(book).ok_or(NO_INSTRUMENT)?;
    Ok(funding_history(shared, book, limit(req, 400, 400))
        .into_iter()
        .rev()
        .map(|p| {
            let rate = p.value.normalize().to_string();
            json!({"fundingRate": rate, "fundingTime": p.time_ms.to_string(), "formulaType": "withRate",
                   "instId": spec.native, "instType": "SWAP", "method": "current_period", "realizedRate": rate})
        })
        .collect())
}

/// `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`, newest first, of
/// the latest 1 440; `after` asks for those before a start.
fn candles(req: &Request, shared: &Shared) -> Result<Vec<Value>, Refusal> {
    let book = asked(req, shared, false)?;
    let step = bar_ms(req.param("bar").unwrap_or("1m")).ok_or(("51000", "Parameter bar error"))?;
    let spec = shared.spec(book).ok_or(NO_INSTRUMENT)?;
    let after = req.param("after").and_then(|a| a.parse::<i64>().ok());
    let all = kline_history(shared, book, step, 1_440);
    let newest = all.last().map(|k| k.start_ms);
    let rows: Vec<Value> = all
        .iter()
        .filter(|k| after.is_none_or(|a| k.start_ms < a))
        .rev()
        .take(limit(req, 100, 300))
        .map(|k| {
            let size = spec.size(k.lots);
            let close = spec.price(k.close);
            // Swaps: `vol` contracts, `volCcy` coin; spot: base, quote.
            let (vol_ccy, quote) = match spec.contract_size {
                Some(value) => (size * value, size * value * close),
                None => (size * close, size * close),
            };
            json!([
                k.start_ms.to_string(),
                spec.price_str(k.open),
                spec.price_str(k.high),
                spec.price_str(k.low),
                spec.price_str(k.close),
                size.normalize().to_string(),
                vol_ccy.round_dp(8).normalize().to_string(),
                quote.round_dp(4).normalize().to_string(),
                if Some(k.start_ms) == newest { "0" } else { "1" }
            ])
        })
        .collect();
    Ok(rows)
}

/// The book's mid in ticks.
fn mid(shared: &Shared, book: BookId) -> Option<i64> {
    let s = shared.snapshot(book, 0, 1)?;
    Some((s.bids.first()?.0 + s.asks.first()?.0) / 2)
}

fn instruments(req: &Request, shared: &Shared) -> Response {
    let perp = match req.param("instType") {
        Some("SPOT") => false,
        Some("SWAP") => true,
        Some("FUTURES") | Some("OPTION") | Some("MARGIN") => {
            return Response::json(json!({"code": "0", "msg": "", "data": []}).to_string());
        }
        _ => {
            return Response::error(
                400,
                json!({"code": "51000", "msg": "Parameter instType error", "data": []}).to_string(),
            );
        }
    };
    let wanted = req.param("instId");
    let data: Vec<Value> = shared
        .specs
        .iter()
        .filter(|s| s.venue == VENUE && s.instrument.is_perp() == perp)
        .filter(|s| wanted.is_none_or(|w| w == s.native))
        .map(|s| {
            let base = s.instrument.base.to_string();
            let quote = s.instrument.quote.to_string();
            let family = format!("{base}-{quote}");
            let (tick, lot) = (s.tick.to_string(), s.lot.to_string());
            if perp {
                json!({
                    "instType": "SWAP", "instId": s.native, "uly": family, "instFamily": family,
                    "baseCcy": "", "quoteCcy": "", "settleCcy": quote,
                    "ctVal": s.contract_size.map(|c| c.to_string()).unwrap_or_default(),
                    "ctMult": "1", "ctValCcy": base, "ctType": "linear",
                    "tickSz": tick, "lotSz": lot, "minSz": lot, "state": "live",
                    "listTime": "1611916828000", "lever": "100", "maxLmtSz": "100000000", "maxMktSz": "12000"
                })
            } else {
                json!({
                    "instType": "SPOT", "instId": s.native, "uly": "", "instFamily": "",
                    "baseCcy": base, "quoteCcy": quote, "settleCcy": "",
                    "ctVal": "", "ctMult": "", "ctValCcy": "", "ctType": "",
                    "tickSz": tick, "lotSz": lot, "minSz": lot, "state": "live",
                    "listTime": "1548133413000", "lever": "10", "maxLmtSz": "9999999999", "maxMktSz": "1000000"
                })
            }
        })
        .collect();
    Response::json(json!({"code": "0", "msg": "", "data": data}).to_string())
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
    fn checksum_follows_the_documented_string() {
        // VENUES.md §4: bids [3366.1×7, 3366×6], asks [3366.8×9, 3368×8]
        // → "3366.1:7:3366.8:9:3366:6:3368:8".
        let c = checksum(
            &s(&[("3366.1", "7"), ("3366", "6")]),
            &s(&[("3366.8", "9"), ("3368", "8")]),
        );
        assert_eq!(
            c,
            crc32fast::hash(b"3366.1:7:3366.8:9:3366:6:3368:8") as i32
        );
        let c = checksum(
            &s(&[("3366.1", "7")]),
            &s(&[("3366.8", "9"), ("3368", "8"), ("3372", "8")]),
        );
        assert_eq!(
            c,
            crc32fast::hash(b"3366.1:7:3366.8:9:3368:8:3372:8") as i32
        );
    }
}
