//! HTX (formerly Huobi): spot, USDT-margined swaps (`BTC-USDT` →
//! `BTC-USDT-PERP`) and coin-margined swaps (`BTC-USD` → `BTC-USD-PERP`,
//! inverse, USD per contract). VENUES.md §11 as corrected by §24.
//!
//! Every server frame is a gzip member in a binary frame ([`wire::gunzip`]);
//! plain text frames are read the same way. Market sockets send
//! `{"ping": n}` every 5 s and drop a client that does not answer
//! `{"pong": n}`; the notification sockets send `{"op":"ping","ts":"n"}` and
//! want `{"op":"pong","ts":"n"}`. Both answers go out from `on_binary`.
//!
//! Books ([`sync`]), by channel, whatever the connection:
//! - spot `market.$symbol.mbp.150` (live, on `/feed`): increments whose
//!   `prevSeqNum` must equal the last `seqNum`, over a `req` image asked for
//!   on the same connection once increments are buffered (the shared
//!   buffered machine with HTX's [`sync::MbpRule`]);
//! - swap `market.$code.depth.size_150.high_freq` with `data_type:
//!   incremental` (live): a `snapshot` push, then `update`s whose `version`
//!   is the previous one + 1 on that connection; anything else is a gap and
//!   the topic is resubscribed, which brings a fresh snapshot (HTX swap FAQ);
//! - `market.$symbol.depth.step0` (spot and swaps; what cryptofeed's
//!   `huobi.py` and `huobi_dm.py` subscribe, so what `HUOBI`/`HUOBI_SWAP`
//!   captures hold) and spot `mbp.refresh.$n`: every push is the whole book
//!   and replaces it. Pushes without `bids` and `asks` (HTX sends them for
//!   delisted contracts, says `huobi_dm.py`) change nothing.
//!
//! Swap sizes are contracts: USDT-M `contract_size` base units each, coin-M
//! `contract_size` USD each (base = contracts × USD / price, at each level's
//! price). Swap books are kept in contracts and held back until
//! `swap_contract_info` gives the size; the first push on their connection
//! after that publishes them whole (published from the REST answer, the
//! engine would not know which stream keeps them current). Trades are `trade.detail`
//! (`direction` is the taker's); liquidations `public.*.liquidation_orders`
//! and funding `public.$code.funding_rate` on the notification sockets; open
//! interest from REST `swap_open_interest` once a minute.

mod feeds;
mod plan;
mod poll;
mod sync;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::model::{Instrument, InstrumentInfo, InstrumentKind, Micros, OutOfSyncReason, Venue};
use crate::venues::buffered::Effect;
use crate::venues::lifecycle::Lifecycle;
use crate::venues::parse::preview;
use crate::venues::spec::{Endpoint, NotCarried, VenueInfo, VenueSpec, bps};
use crate::venues::symbols::split_concatenated;
use crate::venues::{Adapter, AdapterConfig, ConnSpec, DepthPoll, Output};

use plan::PlannedConn;
use sync::{Book, ContractSpec};
use wire::Envelope;

pub const SPEC: VenueSpec = VenueSpec {
    name: "htx",
    display_name: "HTX (Huobi)",
    info: VenueInfo {
        markets: "spot, USDT-M perpetuals, coin-M perpetuals (BTC-USD as BTC-USD-PERP)",
        book: "spot mbp.150 + req image; swaps depth.size_150.high_freq incremental; depth.step0 replayed",
        trades: "trade.detail (direction = taker)",
        liquidations: "public.*.liquidation_orders (swap notification sockets)",
        funding: "public.$code.funding_rate (rate, next settlement); REST swap_funding_rate (predicted rate); open interest from REST swap_open_interest",
        integrity: "spot prevSeqNum == last seqNum; swaps version +1 per connection; gap → resubscribe",
    },
    capture_names: &["HUOBI", "HUOBI_SWAP"],
    endpoints: &[
        Endpoint::ws("spot_ws", "wss://api.huobi.pro/ws", "spot trades"),
        Endpoint::ws(
            "spot_feed_ws",
            "wss://api.huobi.pro/feed",
            "spot MBP increments and their req images",
        ),
        Endpoint::rest(
            "spot_rest",
            "https://api.huobi.pro",
            "spot symbols and REST depth",
        ),
        Endpoint::ws(
            "linear_ws",
            "wss://api.hbdm.com/linear-swap-ws",
            "USDT-M swap books and trades",
        ),
        Endpoint::ws(
            "inverse_ws",
            "wss://api.hbdm.com/swap-ws",
            "coin-M swap books and trades",
        ),
        Endpoint::ws(
            "linear_notify_ws",
            "wss://api.hbdm.com/linear-swap-notification",
            "USDT-M liquidations and funding",
        ),
        Endpoint::ws(
            "inverse_notify_ws",
            "wss://api.hbdm.com/swap-notification",
            "coin-M liquidations and funding",
        ),
        Endpoint::rest(
            "swap_rest",
            "https://api.hbdm.com",
            "contract info, open interest and swap REST depth",
        ),
    ],
    // Spot base tier 0.2 % (swaps: 0.05 %); users put their own tier.
    taker_fee_bps: bps(20, 0),
    colour: "#2b6fe6",
    carries,
    default_listing: &[
        "BTC-USDT",
        "ETH-USDT",
        "BTC-USDT-PERP",
        "ETH-USDT-PERP",
        "BTC-USD-PERP",
        "ETH-USD-PERP",
    ],
    build: |cfg| Box::new(Htx::new(cfg)),
    sim: None,
};

/// This venue.
pub const VENUE: Venue = Venue::named(SPEC.name);

/// Server pings come every 5 s on every socket, so 30 s of nothing means the
/// socket is dead even when its channels are quiet.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Open interest is polled over REST this often per contract.
const OPEN_INTEREST_EVERY: Micros = 60_000_000;

/// Spot everything; swaps margined in USDT (linear) or in the coin (USD).
pub fn carries(instrument: &Instrument) -> Result<(), NotCarried> {
    match instrument.kind {
        InstrumentKind::Spot => Ok(()),
        InstrumentKind::Perp if matches!(instrument.quote.as_str(), "USDT" | "USD") => Ok(()),
        InstrumentKind::Perp => Err(
            "htx lists USDT-margined (BASE-USDT-PERP) and coin-margined (BASE-USD-PERP) perpetuals only",
        ),
    }
}

/// The three HTX products.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Market {
    Spot,
    /// USDT-margined swaps (`/linear-swap-api`).
    Linear,
    /// Coin-margined swaps (`/swap-api`), inverse.
    Inverse,
}

impl Market {
    pub fn of(i: &Instrument) -> Market {
        match (i.kind, i.quote.as_str()) {
            (InstrumentKind::Spot, _) => Market::Spot,
            (InstrumentKind::Perp, "USD") => Market::Inverse,
            (InstrumentKind::Perp, _) => Market::Linear,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// `BTC-USDT` → `btcusdt`; `BTC-USDT-PERP` → `BTC-USDT`; `BTC-USD-PERP` →
/// `BTC-USD`.
pub fn native_symbol(i: &Instrument) -> String {
    match Market::of(i) {
        Market::Spot => format!("{}{}", i.base, i.quote).to_ascii_lowercase(),
        _ => format!("{}-{}", i.base, i.quote),
    }
}

/// A swap contract code: `BTC-USDT` or `BTC-USD`. Dated futures
/// (`BTC-USDT-211231`, `BTC_CW`) give `None`.
pub fn parse_contract(code: &str) -> Option<Instrument> {
    let (base, quote) = code.split_once('-')?;
    match quote.to_ascii_uppercase().as_str() {
        q @ ("USDT" | "USD") => Instrument::perp(base, q).ok(),
        _ => None,
    }
}

/// HTX quote currencies the shared list does not know (`yfihusd`), tried
/// first when a spot symbol is not in the symbol list.
const HTX_QUOTES: &[&str] = &["husd", "usdd"];

/// Endpoint bases after config overrides.
#[derive(Clone, Debug)]
pub(super) struct Endpoints {
    spot_ws: String,
    spot_feed_ws: String,
    spot_rest: String,
    linear_ws: String,
    inverse_ws: String,
    linear_notify_ws: String,
    inverse_notify_ws: String,
    swap_rest: String,
}

impl Endpoints {
    fn from_config(cfg: &AdapterConfig) -> Self {
        let get = |key: &str| cfg.endpoint(&SPEC, key).trim_end_matches('/').to_string();
        Endpoints {
            spot_ws: get("spot_ws"),
            spot_feed_ws: get("spot_feed_ws"),
            spot_rest: get("spot_rest"),
            linear_ws: get("linear_ws"),
            inverse_ws: get("inverse_ws"),
            linear_notify_ws: get("linear_notify_ws"),
            inverse_notify_ws: get("inverse_notify_ws"),
            swap_rest: get("swap_rest"),
        }
    }

    /// `/linear-swap-api` or `/swap-api` (REST paths of the two swap kinds).
    fn swap_api(market: Market) -> &'static str {
        match market {
            Market::Inverse => "/swap-api",
            _ => "/linear-swap-api",
        }
    }
}

pub struct Htx {
    cfg: AdapterConfig,
    ep: Endpoints,
    plan: Vec<PlannedConn>,
    /// Spot symbol (`btcusdt`) → instrument: config, symbol list, or split.
    spot_symbols: HashMap<String, Instrument>,
    /// Contract sizes of swaps, from `swap_contract_info`.
    contracts: HashMap<Instrument, ContractSpec>,
    /// Listed instruments per market, published together.
    listed: [Vec<InstrumentInfo>; 3],
    books: BTreeMap<Instrument, Book>,
    /// Scratch space for the buffered machine's effects.
    effects: Vec<Effect>,
    /// When open interest was last asked for.
    open_interest_at: Option<Micros>,
    /// Ids of subscribe and request frames.
    next_id: u64,
    lc: Lifecycle,
}

impl Htx {
    pub fn new(cfg: AdapterConfig) -> Self {
        let ep = Endpoints::from_config(&cfg);
        let plan = plan::connections(&cfg, &ep);
        let spot_symbols = cfg
            .instruments
            .iter()
            .filter(|i| !i.is_perp())
            .map(|i| (native_symbol(i), *i))
            .collect();
        Htx {
            cfg,
            ep,
            plan,
            spot_symbols,
            contracts: HashMap::new(),
            listed: Default::default(),
            books: BTreeMap::new(),
            effects: Vec::new(),
            open_interest_at: None,
            next_id: 0,
            lc: Lifecycle::new(VENUE),
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The configured instruments HTX carries, in config order.
    fn wanted(&self, market: Market) -> impl Iterator<Item = &Instrument> {
        self.cfg
            .instruments
            .iter()
            .filter(move |i| carries(i).is_ok() && Market::of(i) == market)
    }

    /// A channel's symbol or contract code → instrument.
    fn resolve(&mut self, code: &str) -> Option<Instrument> {
        if code.contains('-') {
            return parse_contract(code);
        }
        let lower = code.to_ascii_lowercase();
        if let Some(i) = self.spot_symbols.get(&lower) {
            return Some(*i);
        }
        let split = HTX_QUOTES
            .iter()
            .find_map(|q| {
                let base = lower.strip_suffix(q).filter(|b| !b.is_empty())?;
                Instrument::spot(base, q).ok()
            })
            .or_else(|| split_concatenated(&lower, InstrumentKind::Spot))?;
        self.spot_symbols.insert(lower, split);
        Some(split)
    }

    fn on_frame(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        let env: Envelope = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => return parse_error(out, format!("{e}: {}", preview(text))),
        };
        if let Some(ping) = env.ping {
            out.send(url, format!(r#"{{"pong":{}}}"#, ping.get()));
            return self.poll_open_interest(received, out);
        }
        match env.op.as_deref() {
            None => {}
            Some("ping") => {
                let ts = env.ts.map_or("0", |t| t.get());
                out.send(url, format!(r#"{{"op":"pong","ts":{ts}}}"#));
                return self.poll_open_interest(received, out);
            }
            Some("notify") => return self.on_notify(&env, received, out),
            Some("sub" | "unsub" | "error") => {
                if let Some(why) = env.error() {
                    self.on_error(&why, env.topic.as_deref(), out);
                }
                return;
            }
            Some("close") => {
                let why = env.err_msg.as_deref().unwrap_or("HTX closed the session");
                return out.reconnect(url, why);
            }
            Some(other) => return unknown(out, format!("HTX op `{other}`")),
        }
        if let Some(why) = env.error() {
            let topic = env.err_msg.as_deref().and_then(topic_in);
            return self.on_error(&why, topic, out);
        }
        if env.subbed.is_some() || env.unsubbed.is_some() {
            return;
        }
        if let Some(rep) = env.rep.as_deref() {
            return self.on_rep(url, rep, env.data, &env, received, out);
        }
        let Some(ch) = env.ch.as_deref() else {
            return unknown(out, format!("unrecognised frame: {}", preview(text)));
        };
        self.on_channel(url, ch, &env, received, out);
    }

    /// A push on `market.$code.$channel`.
    fn on_channel(
        &mut self,
        url: &str,
        ch: &str,
        env: &Envelope,
        received: Micros,
        out: &mut Output,
    ) {
        let Some((code, channel)) = ch.strip_prefix("market.").and_then(|r| r.split_once('.'))
        else {
            return unknown(out, format!("channel {ch}"));
        };
        let Some(instrument) = self.resolve(code) else {
            return unknown(
                out,
                format!("{ch}: not a spot symbol or perpetual contract"),
            );
        };
        let Some(tick) = env.tick else {
            return parse_error(out, format!("{ch}: push without tick"));
        };
        let ts = env.ts.and_then(wire::millis);
        let spot = !instrument.is_perp();
        if channel == "trade.detail" {
            self.on_trades(instrument, tick, received, out)
        } else if channel == "depth.step0" || (spot && channel.starts_with("mbp.refresh.")) {
            self.on_full_book(url, instrument, tick, ts, received, out)
        } else if spot && channel.starts_with("mbp.") {
            self.on_mbp(url, instrument, ch, tick, ts, received, out)
        } else if !spot && channel.starts_with("depth.size_") && channel.ends_with(".high_freq") {
            self.on_high_freq(url, instrument, ch, tick, ts, received, out)
        } else if channel.starts_with("depth.step") {
            unknown(out, format!("{ch}: merged depth is not a book"))
        } else {
            unknown(out, format!("channel {ch}"))
        }
    }

    /// An error frame: a refused book topic takes its book out of sync with
    /// the venue's words (resubscribing would be refused again).
    fn on_error(&mut self, why: &str, topic: Option<&str>, out: &mut Output) {
        tracing::warn!(venue = "htx", "{why}");
        let book = topic.and_then(|t| {
            let (code, channel) = t.strip_prefix("market.")?.split_once('.')?;
            let is_book = channel.starts_with("depth") || channel.starts_with("mbp");
            is_book.then(|| self.resolve(code)).flatten()
        });
        if let Some(i) = book {
            self.lc
                .fail(i, OutOfSyncReason::Venue(why.to_string()), out);
        }
        out.unknown(VENUE, book, why.to_string());
    }

    /// Ask for open interest when a minute has passed (driven by the
    /// server's heartbeats, which arrive every 5 s on every socket).
    fn poll_open_interest(&mut self, now: Micros, out: &mut Output) {
        if !self.cfg.channels.funding
            || self
                .open_interest_at
                .is_some_and(|at| now.saturating_sub(at) < OPEN_INTEREST_EVERY)
        {
            return;
        }
        self.open_interest_at = Some(now);
        let urls: Vec<String> = [Market::Linear, Market::Inverse]
            .into_iter()
            .flat_map(|m| {
                self.wanted(m)
                    .map(|i| self.open_interest_url(i))
                    .collect::<Vec<_>>()
            })
            .collect();
        for url in urls {
            out.http_get(url);
        }
    }

    fn open_interest_url(&self, i: &Instrument) -> String {
        format!(
            "{}{}/v1/swap_open_interest?contract_code={}",
            self.ep.swap_rest,
            Endpoints::swap_api(Market::of(i)),
            native_symbol(i)
        )
    }

    fn contracts_url(&self, market: Market) -> String {
        format!(
            "{}{}/v1/swap_contract_info",
            self.ep.swap_rest,
            Endpoints::swap_api(market)
        )
    }
}

/// The `market.…` topic named in an error message (`invalid topic market.X…`).
fn topic_in(msg: &str) -> Option<&str> {
    msg.split_whitespace().find(|w| w.starts_with("market."))
}

fn parse_error(out: &mut Output, detail: String) {
    out.parse_error(VENUE, None, detail);
}

fn unknown(out: &mut Output, detail: String) {
    out.unknown(VENUE, None, detail);
}

impl Adapter for Htx {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn connections(&self) -> Vec<ConnSpec> {
        self.plan
            .iter()
            .map(|c| ConnSpec::new(c.url.clone(), Some(IDLE_TIMEOUT), None))
            .collect()
    }

    fn start(&mut self, now: Micros, out: &mut Output) {
        if self.wanted(Market::Spot).next().is_some() {
            out.http_get(format!("{}/v1/common/symbols", self.ep.spot_rest));
        }
        for market in [Market::Linear, Market::Inverse] {
            if self.wanted(market).next().is_some() {
                out.http_get(self.contracts_url(market));
            }
        }
        self.poll_open_interest(now, out);
    }

    fn on_open(&mut self, url: &str, _now: Micros, out: &mut Output) {
        // Books this address carried (a reconnect the recording did not
        // close) start again from nothing.
        for i in self.lc.on_conn(url) {
            self.reset_book(i, true);
            self.lc.subscribing(i, url, out);
        }
        let Some(conn) = self.plan.iter().find(|c| c.url == url).cloned() else {
            return;
        };
        let mut books: Vec<Instrument> = conn.subs.iter().filter_map(|s| s.book).collect();
        books.sort();
        for i in books {
            self.reset_book(i, true);
            self.lc.subscribing(i, url, out);
        }
        for sub in &conn.subs {
            let id = self.id();
            out.send(url, sub.text(id));
        }
    }

    fn on_text(&mut self, url: &str, text: &str, received: Micros, out: &mut Output) {
        self.on_frame(url, text, received, out);
    }

    fn on_binary(&mut self, url: &str, data: &[u8], received: Micros, out: &mut Output) {
        match wire::gunzip(data) {
            Ok(text) => self.on_frame(url, &text, received, out),
            Err(e) => parse_error(out, e),
        }
    }

    fn on_http(&mut self, url: &str, body: &str, received: Micros, out: &mut Output) {
        let path = url.split('?').next().unwrap_or(url);
        if path.ends_with("/v1/common/symbols") {
            self.on_spot_symbols(body, out);
        } else if path.ends_with("/linear-swap-api/v1/swap_contract_info") {
            self.on_contracts(Market::Linear, body, out);
        } else if path.ends_with("/swap-api/v1/swap_contract_info") {
            self.on_contracts(Market::Inverse, body, out);
        } else if path.ends_with("/v1/swap_open_interest") {
            self.on_open_interest(body, received, out);
        } else if path.ends_with("/v1/swap_funding_rate") {
            self.on_rest_funding(body, received, out);
        } else {
            unknown(out, format!("HTTP body for {url}"));
        }
    }

    fn on_http_error(&mut self, url: &str, error: &str, _now: Micros, _out: &mut Output) {
        tracing::warn!(venue = "htx", url, "REST request failed: {error}");
    }

    fn on_close(&mut self, url: &str, _now: Micros, out: &mut Output) {
        for i in self.lc.on_conn(url) {
            self.reset_book(i, false);
        }
        self.lc.closed(url, out);
    }

    fn lifecycle(&self) -> &Lifecycle {
        &self.lc
    }

    fn config(&self) -> &AdapterConfig {
        &self.cfg
    }

    fn poll_depth(&self, instrument: &Instrument) -> Option<DepthPoll> {
        carries(instrument).ok()?;
        Some(self.poll_request(instrument))
    }

    fn on_poll(&mut self, instrument: Instrument, body: &str, received: Micros, out: &mut Output) {
        self.polled(instrument, body, received, out);
    }
}
