//! Where things live on Binance: endpoint bases, stream names, REST URLs,
//! native symbols, and telling spot, USD-M and COIN-M apart by the address a
//! frame or body came from.

use crate::model::{Instrument, InstrumentKind};
use crate::venues::{AdapterConfig, symbols};

use super::sync::Rules;

/// The three Binance markets depthwatch follows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Market {
    Spot,
    /// USD-M futures (USDT/USDC-margined perpetuals only).
    Futures,
    /// COIN-M futures (coin-margined USD perpetuals only, `BTCUSD_PERP` as
    /// `BTC-USD-PERP`): sizes are contracts worth `contractSize` USD each.
    CoinM,
}

impl Market {
    pub const ALL: [Market; 3] = [Market::Spot, Market::Futures, Market::CoinM];
    /// How many markets there are: per-market state is an array this long.
    pub const COUNT: usize = Market::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }

    /// USD-M and COIN-M share one documented diff rule (`pu == prev u`).
    pub fn rules(self) -> Rules {
        match self {
            Market::Spot => Rules::Spot,
            Market::Futures | Market::CoinM => Rules::Futures,
        }
    }

    pub fn is_perp(self) -> bool {
        self != Market::Spot
    }

    /// The market of an instrument: perpetuals quoted in USD are COIN-M.
    pub fn of(instrument: &Instrument) -> Self {
        match instrument.kind {
            InstrumentKind::Spot => Market::Spot,
            InstrumentKind::Perp if instrument.quote.as_str() == "USD" => Market::CoinM,
            InstrumentKind::Perp => Market::Futures,
        }
    }

    /// The venue's symbol: `BTCUSDT` (spot, USD-M), `BTCUSD_PERP` (COIN-M).
    pub fn native(self, instrument: &Instrument) -> String {
        match self {
            Market::Spot | Market::Futures => symbols::concatenated(instrument),
            Market::CoinM => format!("{}{}{COINM_PERP_SUFFIX}", instrument.base, instrument.quote),
        }
    }

    /// A native symbol as an instrument of this market. COIN-M dated
    /// futures (`BTCUSD_211231`) are not carried: `None`.
    pub fn instrument(self, native: &str) -> Option<Instrument> {
        match self {
            Market::Spot => symbols::split_concatenated(native, InstrumentKind::Spot),
            Market::Futures => symbols::split_concatenated(native, InstrumentKind::Perp),
            Market::CoinM => {
                let upper = native.to_ascii_uppercase();
                let base = upper.strip_suffix(COINM_PERP_SUFFIX)?.strip_suffix("USD")?;
                Instrument::perp(base, "USD").ok()
            }
        }
    }

    /// The REST path prefix of this market's API.
    fn rest_prefix(self) -> &'static str {
        match self {
            Market::Spot => "/api/v3",
            Market::Futures => "/fapi/v1",
            Market::CoinM => "/dapi/v1",
        }
    }
}

/// COIN-M perpetual symbols end in this (`BTCUSD_PERP`); dated futures end in
/// their delivery date instead.
const COINM_PERP_SUFFIX: &str = "_PERP";

/// A COIN-M dated future (`BTCUSD_211231`): listed, streamed in
/// `!forceOrder@arr`, but not carried (no dated futures in depthwatch).
pub fn is_dated_future(native: &str) -> bool {
    native
        .rsplit_once('_')
        .is_some_and(|(_, d)| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Endpoint bases (ENDPOINTS.md), after config overrides.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub spot_ws: String,
    pub spot_rest: String,
    pub futures_public_ws: String,
    pub futures_market_ws: String,
    pub futures_rest: String,
    pub coinm_ws: String,
    pub coinm_rest: String,
}

impl Endpoints {
    pub fn from_config(cfg: &AdapterConfig) -> Self {
        let get = |key: &str| {
            cfg.endpoint(&super::SPEC, key)
                .trim_end_matches('/')
                .to_string()
        };
        Endpoints {
            spot_ws: get("spot_ws"),
            spot_rest: get("spot_rest"),
            futures_public_ws: get("futures_public_ws"),
            futures_market_ws: get("futures_market_ws"),
            futures_rest: get("futures_rest"),
            coinm_ws: get("coinm_ws"),
            coinm_rest: get("coinm_rest"),
        }
    }

    /// The market a WebSocket address belongs to: the longest configured base
    /// it starts with, else Binance's naming: the `dstream` (COIN-M) or
    /// `fstream` (USD-M) host or the 2026 `/public` and `/market` USD-M
    /// paths. So recorded addresses of older URL forms, and recordings made
    /// against other endpoints (a regional host, the simulator), classify too.
    pub fn market_of_ws(&self, url: &str) -> Market {
        let candidates = [
            (&self.spot_ws, Market::Spot),
            (&self.futures_public_ws, Market::Futures),
            (&self.futures_market_ws, Market::Futures),
            (&self.coinm_ws, Market::CoinM),
        ];
        let best = candidates
            .iter()
            .filter(|(base, _)| url.starts_with(base.as_str()))
            .max_by_key(|(base, _)| base.len());
        match best {
            Some((_, market)) => *market,
            None if url.contains("dstream") => Market::CoinM,
            None if url.contains("fstream") || has_usdm_path(url) => Market::Futures,
            None => Market::Spot,
        }
    }

    fn rest_base(&self, market: Market) -> &str {
        match market {
            Market::Spot => &self.spot_rest,
            Market::Futures => &self.futures_rest,
            Market::CoinM => &self.coinm_rest,
        }
    }

    pub fn depth_url(&self, market: Market, native: &str) -> String {
        format!(
            "{}{}/depth?symbol={native}&limit=1000",
            self.rest_base(market),
            market.rest_prefix()
        )
    }

    pub fn exchange_info_url(&self, market: Market) -> String {
        format!(
            "{}{}/exchangeInfo",
            self.rest_base(market),
            market.rest_prefix()
        )
    }

    /// `GET .../openInterest?symbol=` (futures markets).
    pub fn open_interest_url(&self, market: Market, native: &str) -> String {
        format!(
            "{}{}/openInterest?symbol={native}",
            self.rest_base(market),
            market.rest_prefix()
        )
    }
}

/// What a REST body is, from its URL alone (live and replay alike).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RestBody {
    Depth { market: Market, native: String },
    ExchangeInfo { market: Market },
    OpenInterest { market: Market, native: String },
}

impl RestBody {
    pub fn classify(url: &str) -> Option<RestBody> {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let path = path.trim_end_matches('/');
        let (market, endpoint) = Market::ALL.into_iter().find_map(|m| {
            let (_, rest) = path.rsplit_once(m.rest_prefix())?;
            matches!(rest, "/depth" | "/exchangeInfo" | "/openInterest").then_some((m, rest))
        })?;
        if endpoint == "/exchangeInfo" {
            return Some(RestBody::ExchangeInfo { market });
        }
        let native = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("symbol="))?
            .to_ascii_uppercase();
        if native.is_empty() {
            return None;
        }
        match endpoint {
            "/depth" => Some(RestBody::Depth { market, native }),
            _ if market.is_perp() => Some(RestBody::OpenInterest { market, native }),
            _ => None,
        }
    }
}

/// The stream names of a combined-stream address (`.../stream?streams=a/b`).
pub fn stream_names(url: &str) -> impl Iterator<Item = &str> {
    let list = url
        .split_once("streams=")
        .map(|(_, rest)| rest.split('&').next().unwrap_or(""))
        .unwrap_or("");
    list.split('/').filter(|s| !s.is_empty())
}

/// Native symbols (upper case) with a diff-depth stream in this address.
/// Partial-depth streams (`@depth20`) are full snapshots, not diffs.
pub fn depth_symbols(url: &str) -> Vec<String> {
    stream_names(url)
        .filter_map(|s| {
            let (sym, rest) = s.split_once('@')?;
            let is_diff = rest == "depth" || rest.starts_with("depth@");
            (is_diff && !sym.starts_with('!')).then(|| sym.to_ascii_uppercase())
        })
        .collect()
}

/// Payload types the adapter tells apart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EventKind {
    Depth,
    Trade,
    ForceOrder,
    MarkPrice,
    ServerShutdown,
    /// A subscribed stream depthwatch does not use (bookTicker, kline, ...).
    Unused,
}

impl EventKind {
    /// From a combined stream's name; `None` when the name does not tell.
    pub fn of_stream(stream: &str) -> Option<EventKind> {
        let (sym, rest) = stream.split_once('@').unwrap_or((stream, ""));
        if sym.starts_with("!forceOrder") {
            return Some(EventKind::ForceOrder);
        }
        if sym.starts_with("!markPrice") || rest.starts_with("markPrice") {
            return Some(EventKind::MarkPrice);
        }
        match rest {
            "depth" | "depth@100ms" | "depth@250ms" | "depth@500ms" => Some(EventKind::Depth),
            "aggTrade" | "trade" => Some(EventKind::Trade),
            "forceOrder" => Some(EventKind::ForceOrder),
            _ if rest.starts_with("bookTicker")
                || rest.starts_with("kline")
                || rest.starts_with("depth") =>
            {
                Some(EventKind::Unused)
            }
            _ => None,
        }
    }

    /// From a payload's `e` field.
    pub fn of_event(e: &str) -> EventKind {
        match e {
            "depthUpdate" => EventKind::Depth,
            "aggTrade" | "trade" => EventKind::Trade,
            "forceOrder" => EventKind::ForceOrder,
            "markPriceUpdate" => EventKind::MarkPrice,
            "serverShutdown" => EventKind::ServerShutdown,
            _ => EventKind::Unused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_connections_by_address() {
        let e = Endpoints::from_config(&AdapterConfig::default());
        assert_eq!(
            e.market_of_ws("wss://stream.binance.com:9443/stream?streams=nknusdt@depth@100ms"),
            Market::Spot
        );
        assert_eq!(
            e.market_of_ws("wss://fstream.binance.com/stream?streams=sushiusdt@depth@100ms"),
            Market::Futures
        );
        assert_eq!(
            e.market_of_ws("wss://fstream.binance.com/market/stream?streams=!forceOrder@arr"),
            Market::Futures
        );
        let mut cfg = AdapterConfig::default();
        cfg.endpoints
            .insert("spot_ws".into(), "ws://127.0.0.1:9000".into());
        cfg.endpoints.insert(
            "futures_public_ws".into(),
            "ws://127.0.0.1:9000/public".into(),
        );
        let e = Endpoints::from_config(&cfg);
        assert_eq!(
            e.market_of_ws("ws://127.0.0.1:9000/public/stream?streams=x"),
            Market::Futures
        );
        assert_eq!(
            e.market_of_ws("ws://127.0.0.1:9000/stream?streams=x"),
            Market::Spot
        );
    }

    #[test]
    fn classifies_rest_bodies() {
        assert_eq!(
            RestBody::classify("https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000"),
            Some(RestBody::Depth {
                market: Market::Spot,
                native: "NKNUSDT".into()
            })
        );
        assert_eq!(
            RestBody::classify(
                "https://fapi.binance.com/fapi/v1/depth?limit=1000&symbol=SUSHIUSDT"
            ),
            Some(RestBody::Depth {
                market: Market::Futures,
                native: "SUSHIUSDT".into()
            })
        );
        assert_eq!(
            RestBody::classify("https://fapi.binance.com/fapi/v1/exchangeInfo"),
            Some(RestBody::ExchangeInfo {
                market: Market::Futures
            })
        );
        assert_eq!(
            RestBody::classify("https://api.binance.com/api/v3/time"),
            None
        );
    }

    #[test]
    fn reads_depth_symbols_from_stream_lists() {
        let url = "wss://x/stream?streams=nknusdt@depth@100ms/nknusdt@bookTicker/blzeth@depth/lrcbtc@depth20@100ms/!forceOrder@arr";
        assert_eq!(depth_symbols(url), vec!["NKNUSDT", "BLZETH"]);
        assert_eq!(
            EventKind::of_stream("!forceOrder@arr"),
            Some(EventKind::ForceOrder)
        );
        assert_eq!(
            EventKind::of_stream("btcusdt@markPrice@1s"),
            Some(EventKind::MarkPrice)
        );
        assert_eq!(
            EventKind::of_stream("nknusdt@kline_1m"),
            Some(EventKind::Unused)
        );
        assert_eq!(
            EventKind::of_stream("nknusdt@depth@100ms"),
            Some(EventKind::Depth)
        );
        assert_eq!(EventKind::of_stream("nknusdt@somethingNew"), None);
    }
}

/// `…/public/stream?…`, `…/market/ws/…`: the routed USD-M paths.
fn has_usdm_path(url: &str) -> bool {
    let path = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split_once('/')
        .map_or("", |(_, p)| p);
    path.starts_with("public/") || path.starts_with("market/")
}

#[cfg(test)]
mod usdm_path_tests {
    use super::*;

    #[test]
    fn recordings_against_other_hosts_classify_by_path() {
        let e = Endpoints::from_config(&AdapterConfig::default());
        assert_eq!(
            e.market_of_ws("ws://127.0.0.1:4000/public/stream?streams=btcusdt@depth@100ms"),
            Market::Futures
        );
        assert_eq!(
            e.market_of_ws("ws://127.0.0.1:4000/market/stream?streams=!forceOrder@arr"),
            Market::Futures
        );
        assert_eq!(
            e.market_of_ws("ws://127.0.0.1:4000/stream?streams=btcusdt@depth@100ms"),
            Market::Spot
        );
    }
}
