//! Binance spot and USD-M futures, server side (VENUES.md §1–2).
//!
//! Paths on the Binance port: spot `/stream?streams=a/b` (combined) and
//! `/ws/a/b` (raw); USD-M `/public/...` (depth, bookTicker) and `/market/...`
//! (aggTrade, markPrice, forceOrder) in both modes, where a stream on the
//! wrong path is accepted and stays silent, as on the real split endpoint.
//! REST: `/api/v3/depth`, `/api/v3/exchangeInfo`, `/fapi/v1/depth`, the
//! history endpoints `/futures/data/openInterestHist` and `/fapi/v1/fundingRate`,
//! `/fapi/v1/exchangeInfo`. Diff events are sent every step whatever the
//! requested speed.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::model::{BookSide, LiquidatedSide, TakerSide};

use super::VENUE;
use crate::sim::kit::FULL_DEPTH;
use crate::sim::kit::Spec;
use crate::sim::kit::pad_huge;
use crate::sim::kit::wire;
use crate::sim::kit::{BookId, SimEvent, SimLiquidation, SimTicker, SimTrade, Step};
use crate::sim::kit::{Ctx, Protocol};
use crate::sim::kit::{Fixed, Listing, Shared, SimVenue};
use crate::sim::kit::{Request, Response};
use crate::sim::kit::{funding_history, kline_history, open_interest_history};

use crate::sim::kit::HUGE_LEVELS;

/// The simulated binance venue: its books, endpoints and protocol.
pub const SIM: SimVenue = SimVenue {
    listings: &[
        Listing::new(
            "BTC-USDT",
            "BTCUSDT",
            "0.01",
            "0.00001",
            (Fixed(8), Fixed(8)),
            0.4,
        ),
        Listing::new(
            "ETH-USDT",
            "ETHUSDT",
            "0.01",
            "0.0001",
            (Fixed(8), Fixed(8)),
            6.0,
        ),
        Listing::new(
            "BTC-USDT-PERP",
            "BTCUSDT",
            "0.10",
            "0.001",
            (Fixed(2), Fixed(3)),
            1.5,
        ),
        Listing::new(
            "ETH-USDT-PERP",
            "ETHUSDT",
            "0.01",
            "0.001",
            (Fixed(2), Fixed(3)),
            25.0,
        ),
        Listing::new(
            "SOL-USDT-PERP",
            "SOLUSDT",
            "0.01",
            "1",
            (Fixed(2), Fixed(0)),
            300.0,
        ),
    ],
    depths: &[FULL_DEPTH],
    endpoints: |ws, http| {
        vec![
            ("spot_ws", ws.to_string()),
            ("spot_rest", http.to_string()),
            ("futures_public_ws", format!("{ws}/public")),
            ("futures_market_ws", format!("{ws}/market")),
            ("futures_rest", http.to_string()),
        ]
    },
    protocol,
    http_get,
    checksum: None,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Spot,
    FuturesPublic,
    FuturesMarket,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Depth,
    AggTrade,
    Trade,
    BookTicker,
    MarkPrice,
    ForceOrder,
}

#[derive(Clone, Debug)]
struct Stream {
    /// The name as the client wrote it (echoed in the combined envelope).
    name: String,
    kind: Kind,
    /// `None` for `!forceOrder@arr` (every symbol).
    book: Option<BookId>,
}

/// Which endpoint serves a stream kind (others accept it silently).
fn served_on(kind: Kind, ep: Endpoint) -> bool {
    match ep {
        Endpoint::Spot => matches!(
            kind,
            Kind::Depth | Kind::AggTrade | Kind::Trade | Kind::BookTicker
        ),
        Endpoint::FuturesPublic => matches!(kind, Kind::Depth | Kind::BookTicker),
        Endpoint::FuturesMarket => {
            matches!(kind, Kind::AggTrade | Kind::MarkPrice | Kind::ForceOrder)
        }
    }
}

fn parse_stream(name: &str, ep: Endpoint, shared: &Shared) -> Option<Stream> {
    let perp = ep != Endpoint::Spot;
    if name.eq_ignore_ascii_case("!forceOrder@arr") {
        return Some(Stream {
            name: name.to_string(),
            kind: Kind::ForceOrder,
            book: None,
        });
    }
    let (sym, rest) = name.split_once('@')?;
    let rest_l = rest.to_ascii_lowercase();
    let kind = match rest_l.as_str() {
        "depth" | "depth@100ms" | "depth@250ms" | "depth@500ms" | "depth@0ms" => Kind::Depth,
        "aggtrade" => Kind::AggTrade,
        "trade" => Kind::Trade,
        "bookticker" => Kind::BookTicker,
        "markprice" | "markprice@1s" => Kind::MarkPrice,
        "forceorder" => Kind::ForceOrder,
        _ => return None,
    };
    let upper = sym.to_ascii_uppercase();
    let book = shared.find(VENUE, |s| {
        s.native == upper && s.instrument.is_perp() == perp
    })?;
    Some(Stream {
        name: name.to_string(),
        kind,
        book: Some(book),
    })
}

fn protocol(req: &Request, shared: &Shared) -> Option<Box<dyn Protocol>> {
    let (ep, rest) = if let Some(r) = req.path.strip_prefix("/public") {
        (Endpoint::FuturesPublic, r)
    } else if let Some(r) = req.path.strip_prefix("/market") {
        (Endpoint::FuturesMarket, r)
    } else {
        (Endpoint::Spot, req.path.as_str())
    };
    let (combined, names): (bool, Vec<&str>) = if rest == "/stream" {
        (
            true,
            req.param("streams").unwrap_or("").split('/').collect(),
        )
    } else if let Some(raw) = rest.strip_prefix("/ws") {
        (false, raw.split('/').collect())
    } else {
        return None;
    };
    let mut session = Session {
        ep,
        combined,
        streams: Vec::new(),
        pending_force: BTreeMap::new(),
        last_force_ms: BTreeMap::new(),
        ping: shared.cfg.binance_ping,
    };
    for n in names.into_iter().filter(|n| !n.is_empty()) {
        session.add(n, shared);
    }
    Some(Box::new(session))
}

struct Session {
    ep: Endpoint,
    combined: bool,
    streams: Vec<Stream>,
    /// Liquidation snapshots: the latest forced order per symbol, at most
    /// one per symbol per second.
    pending_force: BTreeMap<BookId, SimLiquidation>,
    last_force_ms: BTreeMap<BookId, i64>,
    ping: Duration,
}

impl Session {
    fn add(&mut self, name: &str, shared: &Shared) -> bool {
        if self.streams.iter().any(|s| s.name == name) {
            return true;
        }
        match parse_stream(name, self.ep, shared) {
            Some(s) => {
                self.streams.push(s);
                true
            }
            None => false,
        }
    }

    fn wrap(&self, stream: &str, data: String, out: &mut Vec<String>) {
        if self.combined {
            out.push(format!(
                "{{\"stream\":{},\"data\":{data}}}",
                wire::string(stream)
            ));
        } else {
            out.push(data);
        }
    }

    fn live(&self, kind: Kind) -> impl Iterator<Item = &Stream> {
        let ep = self.ep;
        self.streams
            .iter()
            .filter(move |s| s.kind == kind && served_on(kind, ep))
    }
}

impl Protocol for Session {
    fn on_text(&mut self, text: &str, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            out.push(
                r#"{"error":{"code":3,"msg":"Invalid JSON: expected value at line 1 column 1"}}"#
                    .to_string(),
            );
            return;
        };
        let id = v.get("id").cloned().unwrap_or(Value::Null);
        let params: Vec<String> = v
            .get("params")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        match v.get("method").and_then(Value::as_str) {
            Some("SUBSCRIBE") => {
                if params.iter().all(|p| self.add(p, ctx.shared)) {
                    out.push(json!({"result": null, "id": id}).to_string());
                } else {
                    out.push(json!({"error": {"code": 2, "msg": "Invalid request: unknown stream"}, "id": id}).to_string());
                }
            }
            Some("UNSUBSCRIBE") => {
                self.streams.retain(|s| !params.contains(&s.name));
                out.push(json!({"result": null, "id": id}).to_string());
            }
            Some("LIST_SUBSCRIPTIONS") => {
                let names: Vec<&str> = self.streams.iter().map(|s| s.name.as_str()).collect();
                out.push(json!({"result": names, "id": id}).to_string());
            }
            _ => out.push(
                json!({"error": {"code": 2, "msg": "Invalid request: unknown method"}, "id": id})
                    .to_string(),
            ),
        }
    }

    fn on_step(&mut self, step: &Step, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        let perp = self.ep != Endpoint::Spot;
        for e in &step.events {
            match e {
                SimEvent::Book { book, delta, .. } => {
                    let Some(spec) = ctx.shared.spec(*book) else {
                        continue;
                    };
                    let depth: Vec<String> = self
                        .live(Kind::Depth)
                        .filter(|s| s.book == Some(*book))
                        .map(|s| s.name.clone())
                        .collect();
                    for name in depth {
                        if ctx.faults.take_skip() {
                            continue;
                        }
                        let data = if perp {
                            format!(
                                "{{\"e\":\"depthUpdate\",\"E\":{t},\"T\":{t},\"s\":\"{}\",\"U\":{},\"u\":{},\"pu\":{},\"b\":{},\"a\":{}}}",
                                spec.native,
                                delta.prev.update_id + 1,
                                delta.ids.update_id,
                                delta.prev.update_id,
                                wire::levels(spec, &delta.bids),
                                wire::levels(spec, &delta.asks),
                                t = step.time_ms,
                            )
                        } else {
                            format!(
                                "{{\"e\":\"depthUpdate\",\"E\":{},\"s\":\"{}\",\"U\":{},\"u\":{},\"b\":{},\"a\":{}}}",
                                step.time_ms,
                                spec.native,
                                delta.prev.update_id + 1,
                                delta.ids.update_id,
                                wire::levels(spec, &delta.bids),
                                wire::levels(spec, &delta.asks),
                            )
                        };
                        self.wrap(&name, data, out);
                    }
                    let tickers: Vec<String> = self
                        .live(Kind::BookTicker)
                        .filter(|s| s.book == Some(*book))
                        .map(|s| s.name.clone())
                        .collect();
                    if !tickers.is_empty()
                        && let Some(snap) = ctx.shared.snapshot(*book, 0, 1)
                        && let (Some(&b), Some(&a)) = (snap.bids.first(), snap.asks.first())
                    {
                        for name in tickers {
                            let (bp, bq, ap, aq) = (
                                spec.price_str(b.0),
                                spec.size_str(b.1),
                                spec.price_str(a.0),
                                spec.size_str(a.1),
                            );
                            let data = if perp {
                                format!(
                                    "{{\"e\":\"bookTicker\",\"u\":{},\"s\":\"{}\",\"b\":\"{bp}\",\"B\":\"{bq}\",\"a\":\"{ap}\",\"A\":\"{aq}\",\"T\":{t},\"E\":{t}}}",
                                    delta.ids.update_id,
                                    spec.native,
                                    t = step.time_ms
                                )
                            } else {
                                format!(
                                    "{{\"u\":{},\"s\":\"{}\",\"b\":\"{bp}\",\"B\":\"{bq}\",\"a\":\"{ap}\",\"A\":\"{aq}\"}}",
                                    delta.ids.update_id, spec.native
                                )
                            };
                            self.wrap(&name, data, out);
                        }
                    }
                }
                SimEvent::Trade(t) => {
                    let Some(spec) = ctx.shared.spec(t.book) else {
                        continue;
                    };
                    for kind in [Kind::AggTrade, Kind::Trade] {
                        let names: Vec<String> = self
                            .live(kind)
                            .filter(|s| s.book == Some(t.book))
                            .map(|s| s.name.clone())
                            .collect();
                        for name in names {
                            self.wrap(&name, trade(spec, t, kind, perp), out);
                        }
                    }
                }
                SimEvent::Liquidation(l) => {
                    // `!forceOrder@arr` is every USD-M symbol of Binance's,
                    // not the other venues' books.
                    let ours = ctx
                        .shared
                        .spec(l.book)
                        .is_some_and(|s| s.venue == VENUE && s.instrument.is_perp());
                    let subscribed = ours
                        && self
                            .live(Kind::ForceOrder)
                            .any(|s| s.book.is_none() || s.book == Some(l.book));
                    if subscribed {
                        self.pending_force.insert(l.book, l.clone());
                    }
                }
                SimEvent::Ticker(t) => {
                    let Some(spec) = ctx.shared.spec(t.book) else {
                        continue;
                    };
                    let names: Vec<String> = self
                        .live(Kind::MarkPrice)
                        .filter(|s| s.book == Some(t.book))
                        .map(|s| s.name.clone())
                        .collect();
                    for name in names {
                        self.wrap(&name, mark_price(spec, t), out);
                    }
                }
            }
        }
        self.flush_force_orders(step.time_ms, ctx, out);
    }

    /// An event of a stream type Binance does not have, on a stream name of
    /// its own (the envelope is what clients route by).
    fn unknown_message(&self, time_ms: i64) -> String {
        let sym = self
            .streams
            .iter()
            .filter(|s| s.book.is_some())
            .find_map(|s| s.name.split_once('@').map(|(sym, _)| sym.to_string()))
            .unwrap_or_else(|| "btcusdt".to_string());
        let data = format!(
            "{{\"e\":\"simUnknownEvent\",\"E\":{time_ms},\"s\":\"{}\"}}",
            sym.to_ascii_uppercase()
        );
        if self.combined {
            format!("{{\"stream\":\"{sym}@simUnknown\",\"data\":{data}}}")
        } else {
            data
        }
    }

    fn ping_every(&self) -> Option<Duration> {
        Some(self.ping)
    }
}

impl Session {
    fn flush_force_orders(&mut self, now: i64, ctx: &Ctx<'_>, out: &mut Vec<String>) {
        let due: Vec<BookId> = self
            .pending_force
            .keys()
            .copied()
            .filter(|b| self.last_force_ms.get(b).is_none_or(|&t| now - t >= 1000))
            .collect();
        for book in due {
            let Some(l) = self.pending_force.remove(&book) else {
                continue;
            };
            let Some(spec) = ctx.shared.spec(book) else {
                continue;
            };
            self.last_force_ms.insert(book, now);
            let data = force_order(spec, &l);
            let names: Vec<String> = self
                .live(Kind::ForceOrder)
                .filter(|s| s.book.is_none() || s.book == Some(book))
                .map(|s| s.name.clone())
                .collect();
            for name in names {
                self.wrap(&name, data.clone(), out);
            }
        }
    }
}

fn trade(spec: &Spec, t: &SimTrade, kind: Kind, perp: bool) -> String {
    // `m`: the buyer was the maker, i.e. the taker sold.
    let m = t.taker == TakerSide::Sell;
    let (p, q) = (spec.price_str(t.price), spec.size_str(t.lots));
    match (kind, perp) {
        (Kind::Trade, _) => format!(
            "{{\"e\":\"trade\",\"E\":{e},\"s\":\"{}\",\"t\":{},\"p\":\"{p}\",\"q\":\"{q}\",\"T\":{e},\"m\":{m},\"M\":true}}",
            spec.native,
            t.id,
            e = t.time_ms
        ),
        (_, false) => format!(
            "{{\"e\":\"aggTrade\",\"E\":{e},\"s\":\"{}\",\"a\":{},\"p\":\"{p}\",\"q\":\"{q}\",\"f\":{},\"l\":{},\"T\":{e},\"m\":{m},\"M\":true}}",
            spec.native,
            t.id / 2,
            t.id,
            t.id,
            e = t.time_ms
        ),
        (_, true) => format!(
            "{{\"e\":\"aggTrade\",\"E\":{e},\"a\":{},\"s\":\"{}\",\"p\":\"{p}\",\"q\":\"{q}\",\"f\":{},\"l\":{},\"T\":{e},\"m\":{m}}}",
            t.id / 2,
            spec.native,
            t.id,
            t.id,
            e = t.time_ms
        ),
    }
}

fn mark_price(spec: &Spec, t: &SimTicker) -> String {
    let p = spec.price(t.mark).round_dp(8);
    let i = spec.price(t.index).round_dp(8);
    format!(
        "{{\"e\":\"markPriceUpdate\",\"E\":{},\"s\":\"{}\",\"p\":\"{p:.8}\",\"i\":\"{i:.8}\",\"P\":\"{i:.8}\",\"r\":\"{:.8}\",\"T\":{}}}",
        t.time_ms, spec.native, t.funding_rate, t.next_funding_ms
    )
}

fn force_order(spec: &Spec, l: &SimLiquidation) -> String {
    // A long is closed by a forced SELL.
    let side = match l.side {
        LiquidatedSide::Long => "SELL",
        LiquidatedSide::Short => "BUY",
    };
    let q = spec.size_str(l.lots);
    let avg = spec
        .price_style
        .format(l.avg_price.round_dp(spec.tick.scale()));
    format!(
        "{{\"e\":\"forceOrder\",\"E\":{t},\"o\":{{\"s\":\"{}\",\"S\":\"{side}\",\"o\":\"LIMIT\",\"f\":\"IOC\",\"q\":\"{q}\",\"p\":\"{}\",\"ap\":\"{avg}\",\"X\":\"FILLED\",\"l\":\"{q}\",\"z\":\"{q}\",\"T\":{t}}}}}",
        spec.native,
        spec.price_str(l.price),
        t = l.time_ms
    )
}

fn bad_request(code: i64, msg: &str) -> Response {
    Response::error(400, json!({"code": code, "msg": msg}).to_string())
}

fn http_get(req: &Request, shared: &Shared) -> Response {
    match req.path.as_str() {
        "/api/v3/depth" => depth(req, shared, false),
        "/fapi/v1/depth" => depth(req, shared, true),
        "/api/v3/exchangeInfo" => exchange_info(req, shared, false),
        "/fapi/v1/exchangeInfo" => exchange_info(req, shared, true),
        "/futures/data/openInterestHist" => open_interest_hist(req, shared),
        "/fapi/v1/openInterest" => open_interest(req, shared),
        "/fapi/v1/fundingRate" => funding_rate(req, shared),
        "/api/v3/klines" => klines(req, shared, false),
        "/fapi/v1/klines" => klines(req, shared, true),
        _ => Response::error(404, json!({"code": -1, "msg": "not found"}).to_string()),
    }
}

/// The USD-M perpetual a history request names.
fn perp_book(req: &Request, shared: &Shared) -> Option<BookId> {
    let symbol = req.param("symbol")?.to_ascii_uppercase();
    shared.find(VENUE, |s| s.native == symbol && s.instrument.is_perp())
}

fn limit(req: &Request, default: usize, max: usize) -> usize {
    req.param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, max)
}

/// `GET /fapi/v1/openInterest`: the perpetual's open interest now, in
/// the base asset.
fn open_interest(req: &Request, shared: &Shared) -> Response {
    let Some(book) = perp_book(req, shared) else {
        return bad_request(-1121, "Invalid symbol.");
    };
    let (Some(spec), Some(oi)) = (shared.spec(book), shared.open_interest(book)) else {
        return bad_request(-1121, "Invalid symbol.");
    };
    Response::json(
        json!({"openInterest": spec.size_str(oi), "symbol": spec.native, "time": shared.now_ms()})
            .to_string(),
    )
}

fn open_interest_hist(req: &Request, shared: &Shared) -> Response {
    let Some(book) = perp_book(req, shared) else {
        return bad_request(-1121, "Invalid symbol.");
    };
    let step_ms = match req.param("period") {
        Some("5m") => 300_000,
        Some("15m") => 900_000,
        Some("30m") => 1_800_000,
        Some("1h") => 3_600_000,
        Some("4h") => 14_400_000,
        Some("1d") => 86_400_000,
        _ => {
            return bad_request(
                -1102,
                "Mandatory parameter 'period' was not sent, was empty/null, or malformed.",
            );
        }
    };
    let Some(spec) = shared.spec(book) else {
        return bad_request(-1121, "Invalid symbol.");
    };
    let mid = shared
        .snapshot(book, 0, 1)
        .and_then(|s| Some((s.bids.first()?.0 + s.asks.first()?.0) / 2))
        .map(|t| spec.price(t))
        .unwrap_or_default();
    let points: Vec<Value> = open_interest_history(shared, book, step_ms, limit(req, 30, 500))
        .into_iter()
        .map(|p| {
            let base = spec.size(p.value);
            json!({"symbol": spec.native, "sumOpenInterest": format!("{:.8}", base),
                   "sumOpenInterestValue": format!("{:.8}", (base * mid).round_dp(8)),
                   "timestamp": p.time_ms})
        })
        .collect();
    Response::json(Value::Array(points).to_string())
}

/// `[openTime, open, high, low, close, volume, closeTime, quoteVolume,
/// trades, takerBuyBase, takerBuyQuote, "0"]`, oldest first.
fn klines(req: &Request, shared: &Shared, perp: bool) -> Response {
    let upper = req.param("symbol").unwrap_or_default().to_ascii_uppercase();
    let Some(book) = shared.find(VENUE, |s| {
        s.native == upper && s.instrument.is_perp() == perp
    }) else {
        return bad_request(-1121, "Invalid symbol.");
    };
    let Some(spec) = shared.spec(book) else {
        return bad_request(-1121, "Invalid symbol.");
    };
    let step_ms = match req.param("interval") {
        Some("1m") => 60_000,
        Some("5m") => 300_000,
        Some("15m") => 900_000,
        Some("1h") => 3_600_000,
        Some("4h") => 14_400_000,
        Some("1d") => 86_400_000,
        _ => return bad_request(-1120, "Invalid interval."),
    };
    let rows: Vec<Value> = kline_history(shared, book, step_ms, limit(req, 500, 1000))
        .into_iter()
        .map(|k| {
            let close = spec.price(k.close);
            let (volume, buy) = (spec.size(k.lots), spec.size(k.buy_lots));
            json!([
                k.start_ms,
                spec.price_str(k.open),
                spec.price_str(k.high),
                spec.price_str(k.low),
                spec.price_str(k.close),
                spec.size_str(k.lots),
                k.start_ms + step_ms - 1,
                (volume * close).round_dp(8).normalize().to_string(),
                k.trades,
                spec.size_str(k.buy_lots),
                (buy * close).round_dp(8).normalize().to_string(),
                "0"
            ])
        })
        .collect();
    Response::json(Value::Array(rows).to_string())
}

fn funding_rate(req: &Request, shared: &Shared) -> Response {
    let Some(book) = perp_book(req, shared) else {
        return bad_request(-1121, "Invalid symbol.");
    };
    let Some(spec) = shared.spec(book) else {
        return bad_request(-1121, "Invalid symbol.");
    };
    let points: Vec<Value> = funding_history(shared, book, limit(req, 100, 1000))
        .into_iter()
        .map(|p| {
            json!({"symbol": spec.native, "fundingRate": format!("{:.8}", p.value),
                   "fundingTime": p.time_ms, "markPrice": ""})
        })
        .collect();
    Response::json(Value::Array(points).to_string())
}

fn depth(req: &Request, shared: &Shared, perp: bool) -> Response {
    let Some(symbol) = req.param("symbol").filter(|s| !s.is_empty()) else {
        return bad_request(
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        );
    };
    let upper = symbol.to_ascii_uppercase();
    let Some(book) = shared.find(VENUE, |s| {
        s.native == upper && s.instrument.is_perp() == perp
    }) else {
        return bad_request(-1121, "Invalid symbol.");
    };
    let Some(spec) = shared.spec(book) else {
        return bad_request(-1121, "Invalid symbol.");
    };
    let default = if perp { 500 } else { 100 };
    let limit = req
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, if perp { 1000 } else { 5000 });
    let huge = shared.faults.take_huge_snapshot(VENUE);
    let Some(mut snap) = shared.snapshot(book, 0, if huge { HUGE_LEVELS } else { limit }) else {
        return Response::error(503, "{}");
    };
    if huge {
        pad_huge(spec, &mut snap.bids, BookSide::Bid);
        pad_huge(spec, &mut snap.asks, BookSide::Ask);
    }
    let (bids, asks) = (
        wire::levels(spec, &snap.bids),
        wire::levels(spec, &snap.asks),
    );
    let body = if perp {
        format!(
            "{{\"lastUpdateId\":{},\"E\":{t},\"T\":{t},\"bids\":{bids},\"asks\":{asks}}}",
            snap.ids.update_id,
            t = snap.time_ms
        )
    } else {
        format!(
            "{{\"lastUpdateId\":{},\"bids\":{bids},\"asks\":{asks}}}",
            snap.ids.update_id
        )
    };
    Response::json(body)
}

fn exchange_info(req: &Request, shared: &Shared, perp: bool) -> Response {
    let wanted = req.param("symbol").map(str::to_ascii_uppercase);
    let now = shared.now_ms();
    let symbols: Vec<Value> = shared
        .specs
        .iter()
        .filter(|s| s.venue == VENUE && s.instrument.is_perp() == perp)
        .filter(|s| wanted.as_ref().is_none_or(|w| *w == s.native))
        .map(|s| {
            let base = s.instrument.base.to_string();
            let quote = s.instrument.quote.to_string();
            if perp {
                json!({
                    "symbol": s.native, "pair": s.native, "contractType": "PERPETUAL",
                    "deliveryDate": 4133404800000i64, "onboardDate": 1569398400000i64,
                    "status": "TRADING", "baseAsset": base, "quoteAsset": quote, "marginAsset": quote,
                    "pricePrecision": s.tick.scale(), "quantityPrecision": s.lot.normalize().scale(),
                    "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
                    "filters": [
                        {"minPrice": s.tick.to_string(), "maxPrice": "4529764", "filterType": "PRICE_FILTER", "tickSize": s.tick.to_string()},
                        {"stepSize": s.lot.to_string(), "filterType": "LOT_SIZE", "maxQty": "1000", "minQty": s.lot.to_string()},
                        {"stepSize": s.lot.to_string(), "filterType": "MARKET_LOT_SIZE", "maxQty": "120", "minQty": s.lot.to_string()}
                    ],
                    "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET"],
                    "timeInForce": ["GTC", "IOC", "FOK", "GTX"]
                })
            } else {
                let f8 = |d: rust_decimal::Decimal| format!("{d:.8}");
                json!({
                    "symbol": s.native, "status": "TRADING",
                    "baseAsset": base, "baseAssetPrecision": 8,
                    "quoteAsset": quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                    "isSpotTradingAllowed": true, "isMarginTradingAllowed": true,
                    "filters": [
                        {"filterType": "PRICE_FILTER", "minPrice": f8(s.tick), "maxPrice": "1000000.00000000", "tickSize": f8(s.tick)},
                        {"filterType": "LOT_SIZE", "minQty": f8(s.lot), "maxQty": "9000.00000000", "stepSize": f8(s.lot)}
                    ],
                    "permissions": ["SPOT", "MARGIN"]
                })
            }
        })
        .collect();
    let mut body = json!({
        "timezone": "UTC",
        "serverTime": now,
        "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}],
        "exchangeFilters": [],
        "symbols": symbols,
    });
    if perp && let Some(m) = body.as_object_mut() {
        m.insert("futuresType".into(), json!("U_MARGINED"));
        m.insert(
            "assets".into(),
            json!([{"asset": "USDT", "marginAvailable": true}]),
        );
    }
    Response::json(body.to_string())
}
