//! Hyperliquid WebSocket (`wss://api.hyperliquid.xyz/ws`): `l2Book`,
//! `trades` and `activeAssetCtx` per coin, perpetuals only.
//!
//! Every `l2Book` message is a complete book (up to 20 levels a side), so each
//! one is emitted as a snapshot; there is nothing to sequence or verify.
//! Coins map to `COIN-USD-PERP` (Hyperliquid perps settle in USDC; their
//! prices are quoted in USD terms). The perpetuals list is a POST to the
//! `rest` endpoint (`/info {"type":"meta"}`: names and size decimals); coins
//! map by name, `BTC-USD-PERP` ↔ `BTC`, with the lower-case `k` prefix of
//! Hyperliquid's thousand-unit coins (`kPEPE`) restored from the list (or a
//! known list before it arrives).

use crate::model::InstrumentKind;
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use std::borrow::Cow;
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::checksum::{parse_decimal, raw_text};
use super::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output, Ping};
use crate::model::{
    Funding, FundingUpdate, Instrument, InstrumentInfo, Level, MarketEvent, Micros, SeqInfo,
    TakerSide, Trade, Venue,
};
use crate::venues::lifecycle::{Applied, Lifecycle, Update};

pub const SPEC: VenueSpec = VenueSpec {
    name: "hyperliquid",
    display_name: "Hyperliquid",
    info: VenueInfo {
        markets: "perpetuals as COIN-USD-PERP (USDC-settled)",
        book: "l2Book: full 20-level snapshot per block (~0.5 s)",
        trades: "trades",
        liquidations: "none public (user streams only)",
        funding: "activeAssetCtx (hourly funding, open interest, mark)",
        integrity: "each message is a full book; no sequence or checksum",
    },
    capture_names: &["HYPERLIQUID"],
    endpoints: &[
        Endpoint::ws(
            "ws",
            "wss://api.hyperliquid.xyz/ws",
            "l2Book, trades, asset contexts",
        ),
        Endpoint::rest(
            "rest",
            "https://api.hyperliquid.xyz",
            "POST /info: the perpetuals list",
        ),
    ],
    taker_fee_bps: bps(45, 1),
    colour: "#e06cc0",
    carries,
    default_listing: &["BTC-USD-PERP", "ETH-USD-PERP"],
    build: |cfg| Box::new(Hyperliquid::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Coins Hyperliquid lists per thousand units with a lower-case `k`.
const K_COINS: &[&str] = &[
    "kPEPE", "kSHIB", "kBONK", "kFLOKI", "kLUNC", "kDOGS", "kNEIRO",
];

/// Perpetuals quoted in USD.
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Perp if instrument.quote.as_str() == "USD" => Ok(()),
        InstrumentKind::Perp => {
            Err("hyperliquid lists USDC-settled perpetuals only, named COIN-USD-PERP")
        }
        InstrumentKind::Spot => Err("hyperliquid lists perpetuals only (COIN-USD-PERP)"),
    }
}

/// `BTC-USD-PERP` → `BTC`; `KPEPE-USD-PERP` → `kPEPE`.
pub fn coin(i: &Instrument) -> String {
    let base = i.base.as_str();
    K_COINS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(base))
        .map(|k| k.to_string())
        .unwrap_or_else(|| base.to_string())
}

/// `BTC` → `BTC-USD-PERP`. Spot pairs (`PURR/USDC`, `@107`) give `None`.
pub fn parse_coin(coin: &str) -> Option<Instrument> {
    Instrument::perp(coin, "USD").ok()
}

pub struct Hyperliquid {
    cfg: AdapterConfig,
    ws_url: String,
    lc: Lifecycle,
}

/// `POST /info {"type":"meta"}`: the perpetuals.
#[derive(Deserialize)]
struct Meta {
    universe: Vec<MetaAsset>,
}

#[derive(Deserialize)]
struct MetaAsset {
    name: String,
    #[serde(rename = "szDecimals", default)]
    sz_decimals: Option<u32>,
    #[serde(rename = "isDelisted", default)]
    is_delisted: bool,
}

// ---- wire types ---------------------------------------------------------------

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    channel: Cow<'a, str>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Book<'a> {
    #[serde(borrow)]
    coin: Cow<'a, str>,
    #[serde(default)]
    time: Option<i64>,
    #[serde(borrow)]
    levels: Vec<Vec<WireLevel<'a>>>,
}

#[derive(Deserialize)]
struct WireLevel<'a> {
    #[serde(borrow)]
    px: &'a RawValue,
    #[serde(borrow)]
    sz: &'a RawValue,
}

#[derive(Deserialize)]
struct WireTrade<'a> {
    #[serde(borrow)]
    coin: Cow<'a, str>,
    #[serde(borrow)]
    side: Cow<'a, str>,
    #[serde(borrow)]
    px: &'a RawValue,
    #[serde(borrow)]
    sz: &'a RawValue,
    #[serde(default)]
    time: Option<i64>,
}

#[derive(Deserialize)]
struct AssetCtx<'a> {
    #[serde(borrow)]
    coin: Cow<'a, str>,
    #[serde(borrow)]
    ctx: CtxFields<'a>,
}

#[derive(Deserialize)]
struct CtxFields<'a> {
    #[serde(borrow, default)]
    funding: Option<&'a RawValue>,
    #[serde(borrow, rename = "openInterest", default)]
    open_interest: Option<&'a RawValue>,
    #[serde(borrow, rename = "markPx", default)]
    mark_px: Option<&'a RawValue>,
    #[serde(borrow, rename = "oraclePx", default)]
    oracle_px: Option<&'a RawValue>,
}

// ---- helpers ------------------------------------------------------------------

fn decimal(raw: &RawValue) -> Option<Decimal> {
    parse_decimal(raw_text(raw))
}

fn levels(raw: &[WireLevel]) -> Option<Vec<Level>> {
    raw.iter()
        .map(|l| Some(Level::new(decimal(l.px)?, decimal(l.sz)?)))
        .collect()
}

fn ms(t: Option<i64>) -> Option<Micros> {
    t?.checked_mul(1000)
}

fn parse_error(out: &mut Output, detail: String) {
    out.parse_error(VENUE, None, detail);
}

fn unknown(out: &mut Output, detail: String) {
    out.unknown(VENUE, None, detail);
}

fn subscribe(kind: &str, coin: &str) -> String {
    serde_json::json!({"method": "subscribe", "subscription": {"type": kind, "coin": coin}})
        .to_string()
}

impl Hyperliquid {
    pub fn new(cfg: AdapterConfig) -> Self {
        let ws_url = cfg.endpoint(&SPEC, "ws");
        Hyperliquid {
            cfg,
            ws_url,
            lc: Lifecycle::new(VENUE),
        }
    }

    fn on_book(&mut self, url: &str, data: &RawValue, received: Micros, out: &mut Output) {
        let b: Book = match serde_json::from_str(data.get()) {
            Ok(b) => b,
            Err(e) => return parse_error(out, format!("l2Book: {e}")),
        };
        let Some(instrument) = parse_coin(&b.coin) else {
            return unknown(out, format!("l2Book for coin {}", b.coin));
        };
        let [bids, asks] = b.levels.as_slice() else {
            return parse_error(out, format!("l2Book {}: expected [bids, asks]", b.coin));
        };
        let (Some(bids), Some(asks)) = (levels(bids), levels(asks)) else {
            return parse_error(out, format!("l2Book {}: bad level", b.coin));
        };
        self.lc.carried_by(instrument, url, out);
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: ms(b.time),
            received,
        };
        if self.lc.snapshot(u, out) == Applied::Rejected {
            // Every message is a full book: the next one rebuilds it.
            self.lc
                .resync(instrument, "waiting for the next full book", out);
        }
    }

    fn on_trades(&mut self, data: &RawValue, received: Micros, out: &mut Output) {
        let trades: Vec<WireTrade> = match serde_json::from_str(data.get()) {
            Ok(t) => t,
            Err(e) => return parse_error(out, format!("trades: {e}")),
        };
        for t in trades {
            // Spot pairs (`@107`, `PURR/USDC`) are not subscribed here.
            let Some(instrument) = parse_coin(&t.coin) else {
                continue;
            };
            let side = match t.side.as_ref() {
                "B" => TakerSide::Buy,
                "A" => TakerSide::Sell,
                other => {
                    parse_error(out, format!("trade side {other}"));
                    continue;
                }
            };
            let (Some(price), Some(size)) = (decimal(t.px), decimal(t.sz)) else {
                parse_error(out, format!("trade {}: bad px/sz", t.coin));
                continue;
            };
            out.trade(Trade {
                venue: VENUE,
                instrument,
                price,
                size,
                side,
                exchange_ts: ms(t.time),
                received,
            });
        }
    }

    fn on_asset_ctx(&mut self, data: &RawValue, received: Micros, out: &mut Output) {
        let c: AssetCtx = match serde_json::from_str(data.get()) {
            Ok(c) => c,
            Err(e) => return parse_error(out, format!("activeAssetCtx: {e}")),
        };
        let Some(instrument) = parse_coin(&c.coin) else {
            return;
        };
        out.funding(Funding {
            venue: VENUE,
            instrument,
            update: FundingUpdate {
                funding_rate: c.ctx.funding.and_then(decimal),
                next_funding: None,
                open_interest: c.ctx.open_interest.and_then(decimal),
                mark_price: c.ctx.mark_px.and_then(decimal),
                index_price: c.ctx.oracle_px.and_then(decimal),
                // Hyperliquid pays funding every hour.
                interval: Some(3_600_000_000),
                ..FundingUpdate::default()
            },
            exchange_ts: None,
            received,
        });
    }

    fn info_url(&self) -> String {
        format!("{}/info", self.cfg.endpoint(&SPEC, "rest"))
    }

    fn on_meta(&mut self, body: &str, out: &mut Output) {
        let meta: Meta = match serde_json::from_str(body) {
            Ok(m) => m,
            Err(e) => return parse_error(out, format!("info meta: {e}")),
        };
        let list = meta
            .universe
            .into_iter()
            .filter(|a| !a.is_delisted)
            .filter_map(|a| {
                Some(InstrumentInfo {
                    instrument: parse_coin(&a.name)?,
                    lot_size: a.sz_decimals.map(|d| Decimal::new(1, d.min(28))),
                    native: a.name,
                    // Prices: at most 5 significant figures, so the tick
                    // depends on the price; none to declare.
                    tick_size: None,
                    contract_size: None,
                    contract_usd: None,
                })
            })
            .collect();
        out.event(MarketEvent::Instruments { venue: VENUE, list });
    }
}

impl Adapter for Hyperliquid {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        vec![ConnSpec::new(
            self.ws_url.clone(),
            // Pongs every 50 s keep quiet coins' connections visibly alive.
            Some(Duration::from_secs(75)),
            Some(Ping {
                every: Duration::from_secs(50),
                text: r#"{"method":"ping"}"#.to_string(),
            }),
        )]
    }

    fn start(&mut self, _now: Micros, out: &mut Output) {
        out.http_post(self.info_url(), r#"{"type":"meta"}"#);
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        let ch = self.cfg.channels.clone();
        let mine: Vec<Instrument> = self
            .cfg
            .instruments
            .iter()
            .filter(|i| carries(i).is_ok())
            .copied()
            .collect();
        for i in &mine {
            let c = coin(i);
            // One subscription per message: Hyperliquid does not batch.
            if ch.book {
                self.lc.subscribing(*i, url, out);
                out.send(url, subscribe("l2Book", &c));
            }
            if ch.trades {
                out.send(url, subscribe("trades", &c));
            }
            if ch.funding {
                out.send(url, subscribe("activeAssetCtx", &c));
            }
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let m: Message = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                return parse_error(
                    out,
                    format!("{e}: {}", text.chars().take(120).collect::<String>()),
                );
            }
        };
        match m.channel.as_ref() {
            "pong" | "subscriptionResponse" => {}
            "error" => {
                let detail = m.data.map(|d| raw_text(d).to_string()).unwrap_or_default();
                tracing::warn!(detail = %detail, "Hyperliquid error");
                unknown(out, format!("error: {detail}"));
            }
            channel => {
                let Some(data) = m.data else {
                    return parse_error(out, format!("{channel} without data"));
                };
                match channel {
                    "l2Book" => self.on_book(url, data, received, out),
                    "trades" => self.on_trades(data, received, out),
                    "activeAssetCtx" => self.on_asset_ctx(data, received, out),
                    other => unknown(out, format!("channel {other}")),
                }
            }
        }
    }

    fn on_http(&mut self, url: &str, body: &str, _received: Micros, out: &mut Output) {
        if url.ends_with("/info") && body.contains("\"universe\"") {
            self.on_meta(body, out);
        } else {
            unknown(out, format!("HTTP body for {url}"));
        }
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        self.lc.closed(url, out);
    }

    fn lifecycle(&self) -> &Lifecycle {
        &self.lc
    }

    fn config(&self) -> &AdapterConfig {
        &self.cfg
    }

    /// `POST /info {"type":"l2Book"}`: weight 2 of 1 200 a minute.
    fn poll_depth(&self, instrument: &Instrument) -> Option<DepthPoll> {
        carries(instrument).ok()?;
        Some(DepthPoll {
            url: self.info_url(),
            post: Some(serde_json::json!({"type": "l2Book", "coin": coin(instrument)}).to_string()),
            every: Duration::from_millis(500),
        })
    }

    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output) {
        let b: Book = match serde_json::from_str(body) {
            Ok(b) => b,
            Err(e) => return parse_error(out, format!("polled l2Book: {e}")),
        };
        let [bids, asks] = b.levels.as_slice() else {
            return parse_error(out, "polled l2Book: expected [bids, asks]".to_string());
        };
        let (Some(bids), Some(asks)) = (levels(bids), levels(asks)) else {
            return parse_error(out, "polled l2Book: bad level".to_string());
        };
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: ms(b.time),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coins_map_both_ways() {
        let i: Instrument = "KPEPE-USD-PERP".parse().unwrap();
        assert_eq!(coin(&i), "kPEPE");
        assert_eq!(parse_coin("kPEPE"), Some(i));
        assert_eq!(parse_coin("BTC").unwrap().to_string(), "BTC-USD-PERP");
        assert_eq!(parse_coin("@107"), None);
        assert!(carries(&"ETH-USD-PERP".parse().unwrap()).is_ok());
        assert!(carries(&"ETH-USD".parse().unwrap()).is_err());
    }
}
