//! Bybit v5 public market data: spot and linear (USDT/USDC perpetuals).
//!
//! Connections: `spot_ws` and `linear_ws` (see ENDPOINTS.md), one of each
//! per batch of subscriptions. Subscriptions go out on open as
//! `{"req_id","op":"subscribe","args":[..]}` with at most 10 args per
//! request (the spot limit, applied to both) and at most 21 000 characters of
//! args per connection; extra batches get their own connection, told apart by
//! a `?conn=N` query (ignored by the server, needed because the driver knows
//! connections by URL).
//!
//! Book integrity: a `snapshot` replaces the book at any time; a `delta` must
//! carry `u` = previous `u` + 1, except `u == 1` which Bybit sends after a
//! service restart and which we treat as a snapshot. Any other `u` is a gap:
//! the book goes out of sync and we ask the driver to reconnect that
//! connection. We reconnect rather than unsubscribe/resubscribe the one topic
//! because a fresh connection always yields a fresh snapshot for every topic,
//! whereas a resubscribe that races the unsubscribe is rejected as "already
//! subscribed" and would leave the book waiting forever.

pub mod sim;
mod wire;

#[cfg(test)]
mod tests;

use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::model::{
    CandleOpen, Funding, FundingUpdate, HistoryKind, Instrument, InstrumentInfo, InstrumentKind,
    LiquidatedSide, Liquidation, MarketEvent, Micros, SeqInfo, TakerSide, Timeframe, Trade, Venue,
};
use crate::venues::lifecycle::{Applied, Lifecycle, Update};
use crate::venues::parse::ms_to_micros;
use crate::venues::symbols::{concatenated, split_concatenated};
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output, Ping, backfill};

use wire::{
    BookData, Envelope, FundingPoint, HistoryResponse, InstrumentsResponse, LiquidationData,
    OpenInterestPoint, OrderbookResponse, TickerData, TradeData,
};

pub const SPEC: VenueSpec = VenueSpec {
    name: "bybit",
    display_name: "Bybit",
    info: VenueInfo {
        markets: "spot; USDT and USDC linear perpetuals",
        book: "orderbook.200 over WebSocket (snapshot + deltas, 100 ms)",
        trades: "publicTrade (taker side)",
        liquidations: "allLiquidation (linear perpetuals, 500 ms batches)",
        funding: "tickers (funding rate, next funding, open interest, mark/index price)",
        integrity: "update id u consecutive; snapshot or u=1 resets; gap → reconnect",
    },
    capture_names: &["BYBIT"],
    endpoints: &[
        Endpoint::ws("spot_ws", "wss://stream.bybit.com/v5/public/spot", "spot"),
        Endpoint::ws(
            "linear_ws",
            "wss://stream.bybit.com/v5/public/linear",
            "USDT and USDC perpetuals",
        ),
        Endpoint::rest("rest", "https://api.bybit.com", "instrument lists"),
    ],
    taker_fee_bps: bps(10, 0),
    colour: "#ff8a3d",
    carries,
    default_listing: &["BTC-USDT", "ETH-USDT", "BTC-USDT-PERP", "ETH-USDT-PERP"],
    build: |cfg| Box::new(Bybit::new(cfg)),
    sim: Some(&sim::SIM),
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Bybit opens a candle at the previous candle's close, before any trade,
/// and its high and low include that open (checked against its own
/// `kline.1` pushes in `tests/candles_bybit.rs`).
pub const CANDLE_OPEN: CandleOpen = CandleOpen::PreviousClose;

/// `interval` of `/v5/market/kline` per timeframe.
fn kline_interval(tf: Timeframe) -> &'static str {
    match tf {
        Timeframe::M1 => "1",
        Timeframe::M5 => "5",
        Timeframe::M15 => "15",
        Timeframe::H1 => "60",
        Timeframe::H4 => "240",
        Timeframe::D1 => "D",
    }
}

const MAX_ARGS_PER_REQUEST: usize = 10;
const MAX_ARGS_CHARS_PER_CONN: usize = 21_000;
const BOOK_DEPTH: u32 = 200;
const PING_EVERY: Duration = Duration::from_secs(20);
/// Book topics push every 100 ms and pongs every 20 s, so a minute of
/// silence means the socket is dead.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const PING_TEXT: &str = r#"{"req_id":"ping","op":"ping"}"#;

/// Bybit lists spot and perpetuals as separate categories with their own
/// endpoints; a native symbol is only unique within one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Market {
    Spot,
    Linear,
}

impl Market {
    /// Classify a connection by its URL path (replays carry recorded URLs).
    fn of_url(url: &str) -> Option<Market> {
        let path = url.split('?').next().unwrap_or(url).trim_end_matches('/');
        if path.ends_with("/spot") {
            Some(Market::Spot)
        } else if path.ends_with("/linear") {
            Some(Market::Linear)
        } else {
            None
        }
    }

    fn category(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Linear => "linear",
        }
    }

    fn of_category(c: &str) -> Option<Market> {
        match c {
            "spot" => Some(Market::Spot),
            "linear" => Some(Market::Linear),
            _ => None,
        }
    }
}

/// One connection and the topics it carries.
#[derive(Clone, Debug)]
struct PlannedConn {
    url: String,
    market: Market,
    topics: Vec<String>,
}

pub struct Bybit {
    cfg: AdapterConfig,
    plan: Vec<PlannedConn>,
    /// Native symbol → instrument, from the REST instrument lists.
    listed: HashMap<(Market, String), Instrument>,
    /// Instrument lists by market, re-published together as each completes.
    lists: BTreeMap<Market, Vec<InstrumentInfo>>,
    /// Pages of a paginated list still being fetched.
    partial: BTreeMap<Market, Vec<InstrumentInfo>>,
    /// Last applied `u` per live book.
    last_u: HashMap<Instrument, u64>,
    lc: Lifecycle,
    next_req_id: u64,
}

/// Bybit lists spot pairs of any quote and USDT/USDC perpetuals.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if matches!(instrument.quote.as_str(), "USDT" | "USDC") => Ok(()),
        InstrumentKind::Perp => Err("bybit lists only USDT and USDC perpetuals"),
    }
}

/// The native symbol Bybit uses for an instrument. USDC perpetuals are named
/// `{BASE}PERP` (e.g. `BTCPERP`); everything else glues base and quote.
fn native_symbol(inst: &Instrument) -> String {
    if inst.is_perp() && inst.quote.as_str() == "USDC" {
        format!("{}PERP", inst.base)
    } else {
        concatenated(inst)
    }
}

impl Bybit {
    pub fn new(cfg: AdapterConfig) -> Self {
        let plan = plan_connections(&cfg);
        Bybit {
            cfg,
            plan,
            listed: HashMap::new(),
            lists: BTreeMap::new(),
            partial: BTreeMap::new(),
            last_u: HashMap::new(),
            lc: Lifecycle::new(VENUE),
            next_req_id: 1,
        }
    }

    fn instruments_url(&self, market: Market) -> String {
        let rest = self.cfg.endpoint(&SPEC, "rest");
        let limit = match market {
            Market::Spot => "",
            Market::Linear => "&limit=1000",
        };
        format!(
            "{rest}/v5/market/instruments-info?category={}{limit}",
            market.category()
        )
    }

    /// Native symbol → instrument: the REST list when it has arrived, else
    /// the symbol's shape (`BTCUSDT`, and `BTCPERP` for USDC perpetuals).
    fn resolve(&self, market: Market, native: &str) -> Option<Instrument> {
        if let Some(i) = self.listed.get(&(market, native.to_string())) {
            return Some(*i);
        }
        match market {
            Market::Spot => split_concatenated(native, InstrumentKind::Spot),
            Market::Linear => match native.strip_suffix("PERP") {
                Some(base) if !base.is_empty() => Instrument::perp(base, "USDC").ok(),
                _ => split_concatenated(native, InstrumentKind::Perp),
            },
        }
    }

    fn req_id(&mut self) -> String {
        let id = self.next_req_id;
        self.next_req_id += 1;
        id.to_string()
    }

    /// The klines of every watched instrument, every interval (the
    /// 1-minute ones of all first, as the chart opens on them), then open
    /// interest (5-minute points over the last day) and settled funding of
    /// every watched perpetual; Bybit allows 600 requests per 5 s per IP on
    /// market endpoints, so 100 ms apart stays far inside it.
    fn backfill(&self, out: &mut Output) {
        const GAP: Duration = Duration::from_millis(100);
        let rest = self.cfg.endpoint(&SPEC, "rest");
        for tf in Timeframe::ALL {
            for inst in self.cfg.instruments.iter().filter(|i| carries(i).is_ok()) {
                let category = if inst.is_perp() { "linear" } else { "spot" };
                out.http_get_paced(
                    format!(
                        "{rest}/v5/market/kline?category={category}&symbol={}&interval={}&limit={}",
                        native_symbol(inst),
                        kline_interval(tf),
                        backfill::KLINES.min(1000)
                    ),
                    GAP,
                );
            }
        }
        for inst in self.cfg.instruments.iter().filter(|i| i.is_perp()) {
            let symbol = native_symbol(inst);
            out.http_get_paced(
                format!(
                    "{rest}/v5/market/open-interest?category=linear&symbol={symbol}&intervalTime=5min&limit={}",
                    backfill::OI_POINTS.min(200)
                ),
                GAP,
            );
            out.http_get_paced(
                format!(
                    "{rest}/v5/market/funding/history?category=linear&symbol={symbol}&limit={}",
                    backfill::FUNDING_POINTS
                ),
                GAP,
            );
        }
    }

    fn on_history(&mut self, url: &str, body: &str, kind: HistoryKind, out: &mut Output) {
        let Some(instrument) = backfill::query_param(url, "symbol")
            .and_then(|s| self.resolve(Market::Linear, s))
            .filter(|i| self.cfg.instruments.contains(i))
        else {
            return self.unknown(out, format!("history for an unwatched symbol: {url}"));
        };
        /// retCode, retMsg and the (time ms, value text) points.
        type Answer = (i64, String, Vec<(i64, String)>);
        // Both answers are `result.list` of (time text, value text).
        fn pairs<T: serde::de::DeserializeOwned>(
            body: &str,
            pair: fn(T) -> (String, String),
        ) -> Result<Answer, serde_json::Error> {
            let r: HistoryResponse<T> = serde_json::from_str(body)?;
            let list = r.result.map(|l| l.list).unwrap_or_default();
            let pairs = list
                .into_iter()
                .map(pair)
                .map(|(t, v)| (t.parse().unwrap_or(-1), v))
                .collect();
            Ok((r.ret_code, r.ret_msg, pairs))
        }
        let parsed = match kind {
            HistoryKind::OpenInterest => {
                pairs(body, |p: OpenInterestPoint| (p.timestamp, p.open_interest))
            }
            HistoryKind::FundingRate => pairs(body, |p: FundingPoint| {
                (p.funding_rate_timestamp, p.funding_rate)
            }),
        };
        let (code, msg, pairs) = match parsed {
            Ok(p) => p,
            Err(e) => return self.parse_error(out, format!("history {url}: {e}")),
        };
        if code != 0 {
            return self.parse_error(out, format!("history retCode {code}: {msg}"));
        }
        let (points, bad) = backfill::points(kind, pairs.iter().map(|(t, v)| (*t, v.as_str())));
        if bad > 0 {
            self.parse_error(out, format!("{bad} invalid history points from {url}"));
        }
        if !points.is_empty() {
            out.event(backfill::event(VENUE, instrument, kind, points));
        }
    }

    /// A `/v5/market/kline` answer: `result.list` of `[start, open, high,
    /// low, close, volume, turnover]` texts, newest first.
    fn on_klines(&mut self, url: &str, body: &str, out: &mut Output) {
        let market = backfill::query_param(url, "category").and_then(Market::of_category);
        let tf = backfill::query_param(url, "interval")
            .and_then(|i| Timeframe::ALL.into_iter().find(|t| kline_interval(*t) == i));
        let instrument = market
            .and_then(|m| backfill::query_param(url, "symbol").and_then(|s| self.resolve(m, s)));
        let (Some(instrument), Some(tf)) =
            (instrument.filter(|i| self.cfg.instruments.contains(i)), tf)
        else {
            return self.unknown(out, format!("klines for an unwatched symbol: {url}"));
        };
        let r: HistoryResponse<Vec<String>> = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return self.parse_error(out, format!("klines {url}: {e}")),
        };
        if r.ret_code != 0 {
            return self.parse_error(out, format!("klines retCode {}: {}", r.ret_code, r.ret_msg));
        }
        let rows = r.result.map(|l| l.list).unwrap_or_default();
        let mut short = 0;
        let raw: Vec<backfill::RawKline<'_>> = rows
            .iter()
            .filter_map(|row| match row.as_slice() {
                [t, o, h, l, c, v, turnover, ..] => Some(backfill::RawKline {
                    start_ms: t.parse().unwrap_or(-1),
                    open: o,
                    high: h,
                    low: l,
                    close: c,
                    volume: v,
                    turnover: Some(turnover),
                    buy_volume: None,
                    trades: None,
                }),
                _ => {
                    short += 1;
                    None
                }
            })
            .collect();
        let (klines, bad) = backfill::klines(raw);
        if bad + short > 0 {
            self.parse_error(out, format!("{} invalid klines from {url}", bad + short));
        }
        if !klines.is_empty() {
            out.event(backfill::klines_event(
                VENUE,
                instrument,
                tf,
                CANDLE_OPEN,
                klines,
            ));
        }
    }

    fn parse_error(&self, out: &mut Output, detail: String) {
        out.parse_error(VENUE, None, detail);
    }

    fn unknown(&self, out: &mut Output, detail: String) {
        out.unknown(VENUE, None, detail);
    }

    fn on_book(
        &mut self,
        url: &str,
        market: Market,
        env: &Envelope<'_>,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(raw) = env.data else {
            return self.parse_error(out, "orderbook message without data".into());
        };
        let data: BookData = match serde_json::from_str(raw.get()) {
            Ok(d) => d,
            Err(e) => return self.parse_error(out, format!("orderbook data: {e}")),
        };
        let Some(instrument) = self.resolve(market, &data.s) else {
            return self.unknown(out, format!("orderbook for unknown symbol {}", data.s));
        };
        let kind = env.kind.as_deref().unwrap_or("");
        // `u == 1`: Bybit restarted the book service; the message is a full
        // book to overwrite with, whatever its type says.
        let is_snapshot = kind == "snapshot" || data.u == 1;
        if !is_snapshot && kind != "delta" {
            return self.unknown(out, format!("orderbook message of type {kind:?}"));
        }
        self.lc.carried_by(instrument, url, out);
        let u = Update {
            instrument,
            bids: wire::levels(&data.b),
            asks: wire::levels(&data.a),
            seq: SeqInfo {
                first: None,
                last: Some(data.u),
            },
            exchange_ts: env.ts.and_then(ms_to_micros),
            received,
        };
        let applied = if is_snapshot {
            self.lc.snapshot(u, out)
        } else {
            match self.last_u.get(&instrument) {
                // Waiting for a snapshot (first subscription or after a gap).
                None => return,
                Some(&prev) if data.u == prev.wrapping_add(1) => self.lc.delta(u, out),
                Some(&prev) => {
                    self.last_u.remove(&instrument);
                    self.lc.gap(instrument, prev.wrapping_add(1), data.u, out);
                    return reconnect(url, instrument, "book gap", out);
                }
            }
        };
        match applied {
            Applied::Published => {
                self.last_u.insert(instrument, data.u);
            }
            Applied::NotLive => {}
            Applied::Rejected => {
                self.last_u.remove(&instrument);
                reconnect(url, instrument, "invalid book data", out);
            }
        }
    }

    fn on_trades(
        &mut self,
        market: Market,
        env: &Envelope<'_>,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(raw) = env.data else {
            return self.parse_error(out, "publicTrade message without data".into());
        };
        let trades: Vec<TradeData> = match serde_json::from_str(raw.get()) {
            Ok(t) => t,
            Err(e) => return self.parse_error(out, format!("publicTrade data: {e}")),
        };
        for t in trades {
            let Some(instrument) = self.resolve(market, &t.s) else {
                self.unknown(out, format!("trade for unknown symbol {}", t.s));
                continue;
            };
            let side = match t.side.as_str() {
                "Buy" => TakerSide::Buy,
                "Sell" => TakerSide::Sell,
                other => {
                    self.parse_error(out, format!("trade side {other:?}"));
                    continue;
                }
            };
            out.trade(Trade {
                venue: VENUE,
                instrument,
                price: t.p,
                size: t.v,
                side,
                exchange_ts: ms_to_micros(t.time),
                received,
            });
        }
    }

    fn on_liquidations(
        &mut self,
        market: Market,
        env: &Envelope<'_>,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(raw) = env.data else {
            return self.parse_error(out, "allLiquidation message without data".into());
        };
        let liqs: Vec<LiquidationData> = match serde_json::from_str(raw.get()) {
            Ok(l) => l,
            Err(e) => return self.parse_error(out, format!("allLiquidation data: {e}")),
        };
        for l in liqs {
            let Some(instrument) = self.resolve(market, &l.s) else {
                self.unknown(out, format!("liquidation for unknown symbol {}", l.s));
                continue;
            };
            // Bybit: "When you receive a Buy update, this means that a long
            // position has been liquidated".
            let side = match l.side.as_str() {
                "Buy" => LiquidatedSide::Long,
                "Sell" => LiquidatedSide::Short,
                other => {
                    self.parse_error(out, format!("liquidation side {other:?}"));
                    continue;
                }
            };
            out.liquidation(Liquidation {
                venue: VENUE,
                instrument,
                side,
                price: l.p,
                size: l.v,
                exchange_ts: ms_to_micros(l.time),
                received,
            });
        }
    }

    fn on_ticker(
        &mut self,
        market: Market,
        env: &Envelope<'_>,
        received: Micros,
        out: &mut Output,
    ) {
        if market != Market::Linear {
            // Spot tickers carry no derivatives data; we never subscribe them.
            return self.unknown(out, "spot tickers".into());
        }
        let Some(raw) = env.data else {
            return self.parse_error(out, "tickers message without data".into());
        };
        let t: TickerData = match serde_json::from_str(raw.get()) {
            Ok(t) => t,
            Err(e) => return self.parse_error(out, format!("tickers data: {e}")),
        };
        let Some(instrument) = self.resolve(market, &t.symbol) else {
            return self.unknown(out, format!("tickers for unknown symbol {}", t.symbol));
        };
        let update = FundingUpdate {
            funding_rate: t.funding_rate,
            next_funding: t.next_funding_time.and_then(ms_to_micros),
            open_interest: t.open_interest,
            mark_price: t.mark_price,
            index_price: t.index_price,
            interval: t
                .funding_interval_hour
                .filter(|h| (1..=24).contains(h))
                .map(|h| h * 3_600_000_000),
            ..FundingUpdate::default()
        };
        // Most ticker deltas only move bid1/ask1; nothing for us then.
        if update == FundingUpdate::default() {
            return;
        }
        out.funding(Funding {
            venue: VENUE,
            instrument,
            update,
            exchange_ts: env.ts.and_then(ms_to_micros),
            received,
        });
    }

    fn on_op(&mut self, url: &str, env: &Envelope<'_>, out: &mut Output) {
        let op = env.op.as_deref().unwrap_or("");
        match (op, env.success) {
            // Pongs (spot/linear answer `op: ping`, option/spread `op: pong`)
            // and successful (un)subscribe acks are expected and silent.
            ("ping" | "pong", _) => {}
            ("subscribe" | "unsubscribe", Some(true)) => {}
            ("subscribe", _) => {
                let msg = env.ret_msg.as_deref().unwrap_or("");
                tracing::warn!(venue = "bybit", url, "subscription rejected: {msg}");
                self.unknown(out, format!("subscription rejected: {msg}"));
            }
            _ => self.unknown(out, format!("op {op:?}")),
        }
    }

    fn on_instruments(&mut self, url: &str, body: &str, out: &mut Output) {
        let resp: InstrumentsResponse = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return self.parse_error(out, format!("instruments-info: {e}")),
        };
        if resp.ret_code != 0 {
            return self.parse_error(
                out,
                format!(
                    "instruments-info retCode {}: {}",
                    resp.ret_code, resp.ret_msg
                ),
            );
        }
        let Some(result) = resp.result else {
            return self.parse_error(out, "instruments-info without result".into());
        };
        let market = Market::of_category(&result.category)
            .or_else(|| query_param(url, "category").and_then(|c| Market::of_category(&c)));
        let Some(market) = market else {
            return self.unknown(
                out,
                format!("instruments of category {:?}", result.category),
            );
        };
        let mut page = Vec::with_capacity(result.list.len());
        for e in result.list {
            if e.status.as_deref().is_some_and(|s| s != "Trading") {
                continue;
            }
            let instrument = match market {
                Market::Spot => Instrument::spot(&e.base_coin, &e.quote_coin),
                // Dated futures have no place in the model.
                Market::Linear if e.contract_type.as_deref() == Some("LinearPerpetual") => {
                    Instrument::perp(&e.base_coin, &e.quote_coin)
                }
                Market::Linear => continue,
            };
            let Ok(instrument) = instrument else {
                continue;
            };
            self.listed.insert((market, e.symbol.clone()), instrument);
            let lot = e
                .lot_size_filter
                .as_ref()
                .and_then(|l| l.qty_step.or(l.base_precision));
            page.push(InstrumentInfo {
                instrument,
                native: e.symbol,
                tick_size: e.price_filter.and_then(|p| p.tick_size),
                lot_size: lot,
                contract_size: None,
                contract_usd: None,
            });
        }
        self.partial.entry(market).or_default().extend(page);
        // Live lists are paginated by cursor; a capture holds single pages.
        if let Some(cursor) = result.next_page_cursor.filter(|c| !c.is_empty()) {
            let next = format!(
                "{}&cursor={}",
                self.instruments_url(market),
                url_encode(&cursor)
            );
            out.http_get(next);
            return;
        }
        let complete = self.partial.remove(&market).unwrap_or_default();
        self.lists.insert(market, complete);
        out.event(MarketEvent::Instruments {
            venue: VENUE,
            list: self.lists.values().flatten().cloned().collect(),
        });
    }
}

/// A book broke: a fresh connection brings a fresh snapshot of every topic
/// (see the module documentation for why not a resubscription).
fn reconnect(url: &str, instrument: Instrument, why: &str, out: &mut Output) {
    out.reconnect(
        url,
        format!("{instrument} {why}: reconnecting for a fresh snapshot"),
    );
}

/// Split the configured instruments into connections per market within the
/// per-connection args budget.
fn plan_connections(cfg: &AdapterConfig) -> Vec<PlannedConn> {
    let mut plan = Vec::new();
    for (market, key) in [(Market::Spot, "spot_ws"), (Market::Linear, "linear_ws")] {
        let base = cfg.endpoint(&SPEC, key);
        let mut topics = Vec::new();
        for inst in &cfg.instruments {
            let ours = match market {
                Market::Spot => !inst.is_perp(),
                Market::Linear => inst.is_perp() && carries(inst).is_ok(),
            };
            if !ours {
                continue;
            }
            let sym = native_symbol(inst);
            if cfg.channels.book {
                topics.push(format!("orderbook.{BOOK_DEPTH}.{sym}"));
            }
            if cfg.channels.trades {
                topics.push(format!("publicTrade.{sym}"));
            }
            if market == Market::Linear && cfg.channels.funding {
                topics.push(format!("tickers.{sym}"));
            }
            if market == Market::Linear && cfg.channels.liquidations {
                topics.push(format!("allLiquidation.{sym}"));
            }
        }
        let mut batch: Vec<String> = Vec::new();
        let mut chars = 2; // the brackets of the args array
        let flush = |batch: &mut Vec<String>, plan: &mut Vec<PlannedConn>| {
            if batch.is_empty() {
                return;
            }
            let n = plan
                .iter()
                .filter(|c: &&PlannedConn| c.market == market)
                .count();
            let url = if n == 0 {
                base.clone()
            } else {
                format!("{base}?conn={}", n + 1)
            };
            plan.push(PlannedConn {
                url,
                market,
                topics: std::mem::take(batch),
            });
        };
        for t in topics {
            let cost = t.len() + 3; // quotes and comma
            if chars + cost > MAX_ARGS_CHARS_PER_CONN {
                flush(&mut batch, &mut plan);
                chars = 2;
            }
            chars += cost;
            batch.push(t);
        }
        flush(&mut batch, &mut plan);
    }
    plan
}

/// The value of `key` in a URL's query string.
fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

/// Percent-encode everything but RFC 3986 unreserved characters.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Adapter for Bybit {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        self.plan
            .iter()
            .map(|c| {
                ConnSpec::new(
                    c.url.clone(),
                    Some(IDLE_TIMEOUT),
                    Some(Ping {
                        every: PING_EVERY,
                        text: PING_TEXT.to_string(),
                    }),
                )
            })
            .collect()
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        for market in [Market::Spot, Market::Linear] {
            out.http_get(self.instruments_url(market));
        }
        self.backfill(out);
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        let Some(market) = Market::of_url(url) else {
            tracing::warn!(
                venue = "bybit",
                url,
                "connection to an unknown Bybit endpoint"
            );
            return;
        };
        // Our own URL, or (replay, older address forms) the first batch of
        // the same market.
        let conn = self
            .plan
            .iter()
            .find(|c| c.url == url)
            .or_else(|| self.plan.iter().find(|c| c.market == market));
        let Some(topics) = conn.map(|c| c.topics.clone()) else {
            return;
        };
        // Every book on this connection starts again from the snapshot the
        // subscription brings.
        for topic in &topics {
            let Some(native) = topic
                .strip_prefix("orderbook.")
                .and_then(|t| t.split('.').nth(1))
            else {
                continue;
            };
            if let Some(instrument) = self.resolve(market, native) {
                self.last_u.remove(&instrument);
                self.lc.subscribing(instrument, url, out);
            }
        }
        for chunk in topics.chunks(MAX_ARGS_PER_REQUEST) {
            let msg = serde_json::json!({
                "req_id": self.req_id(),
                "op": "subscribe",
                "args": chunk,
            });
            out.send(url, msg.to_string());
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let env: Envelope<'_> = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => return self.parse_error(out, format!("not a Bybit message: {e}")),
        };
        let Some(topic) = env.topic.as_deref() else {
            if env.op.is_some() {
                return self.on_op(url, &env, out);
            }
            return self.unknown(out, "message without topic or op".into());
        };
        let Some(market) = Market::of_url(url) else {
            return self.unknown(out, format!("topic {topic} on unknown endpoint {url}"));
        };
        let channel = topic.split('.').next().unwrap_or("");
        match channel {
            "orderbook" => self.on_book(url, market, &env, received, out),
            "publicTrade" => self.on_trades(market, &env, received, out),
            "allLiquidation" => self.on_liquidations(market, &env, received, out),
            "tickers" => self.on_ticker(market, &env, received, out),
            _ => self.unknown(out, format!("topic {topic}")),
        }
    }

    fn on_http(&mut self, url: &str, body: &str, _received: Micros, out: &mut Output) {
        if url.contains("/v5/market/instruments-info") {
            self.on_instruments(url, body, out);
        } else if url.contains("/v5/market/open-interest") {
            self.on_history(url, body, HistoryKind::OpenInterest, out);
        } else if url.contains("/v5/market/funding/history") {
            self.on_history(url, body, HistoryKind::FundingRate, out);
        } else if url.contains("/v5/market/kline") {
            self.on_klines(url, body, out);
        } else {
            self.unknown(out, format!("REST body from {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        // The instrument list only refines symbol mapping and completion;
        // books work without it, so there is nothing to retry urgently.
        tracing::warn!(venue = "bybit", url, "REST request failed: {error}");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        for instrument in self.lc.on_conn(url) {
            self.last_u.remove(&instrument);
        }
        self.lc.closed(url, out);
    }

    fn lifecycle(&self) -> &Lifecycle {
        &self.lc
    }

    fn config(&self) -> &AdapterConfig {
        &self.cfg
    }

    /// `GET /v5/market/orderbook`, 200 levels; Bybit allows 600 requests
    /// per 5 s per IP on market endpoints.
    fn poll_depth(&self, instrument: &Instrument) -> Option<DepthPoll> {
        carries(instrument).ok()?;
        let category = if instrument.is_perp() {
            "linear"
        } else {
            "spot"
        };
        Some(DepthPoll {
            url: format!(
                "{}/v5/market/orderbook?category={category}&symbol={}&limit=200",
                self.cfg.endpoint(&SPEC, "rest"),
                native_symbol(instrument)
            ),
            post: None,
            every: Duration::from_millis(250),
        })
    }

    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output) {
        let resp: OrderbookResponse = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return self.parse_error(out, format!("polled orderbook: {e}")),
        };
        let Some(r) = resp.result.filter(|_| resp.ret_code == 0) else {
            return self.unknown(
                out,
                format!(
                    "polled orderbook retCode {}: {}",
                    resp.ret_code, resp.ret_msg
                ),
            );
        };
        let u = Update {
            instrument,
            bids: wire::levels(&r.b),
            asks: wire::levels(&r.a),
            seq: SeqInfo {
                first: None,
                last: r.u,
            },
            exchange_ts: r.ts.and_then(ms_to_micros),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
