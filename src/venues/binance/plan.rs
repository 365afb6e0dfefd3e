//! Which combined-stream connections to open for a configuration.
//!
//! Subscriptions go in the URL (`/stream?streams=a/b/c`), so no subscribe
//! messages count against Binance's 5 (spot) / 10 (futures) messages per
//! second.

use std::time::Duration;

use crate::venues::{AdapterConfig, ConnSpec};

use super::carries;
use super::routing::{Endpoints, Market};

/// Documented spot limit.
pub const SPOT_STREAMS_PER_CONN: usize = 1024;
/// USD-M documents 1024 too, but connectors cap it at 200 (VENUES.md §2);
/// COIN-M documents 200.
pub const FUTURES_STREAMS_PER_CONN: usize = 200;

/// A group of streams that must share a connection (one symbol's).
type Group = Vec<String>;

pub fn connections(cfg: &AdapterConfig, ep: &Endpoints, book_idle: Duration) -> Vec<ConnSpec> {
    let ch = &cfg.channels;
    let natives = |market: Market| {
        let mut list: Vec<String> = Vec::new();
        for inst in cfg
            .instruments
            .iter()
            .filter(|i| Market::of(i) == market && carries(i).is_ok())
        {
            let native = market.native(inst).to_ascii_lowercase();
            if !list.contains(&native) {
                list.push(native);
            }
        }
        list
    };
    let spot = natives(Market::Spot);
    let perps = natives(Market::Futures);
    let coinm = natives(Market::CoinM);
    let mut conns = Vec::new();

    // Spot: book and trades of a symbol on one connection.
    let spot_groups: Vec<Group> = spot
        .iter()
        .map(|s| {
            let mut g = Vec::new();
            if ch.book {
                g.push(format!("{s}@depth@100ms"));
            }
            if ch.trades {
                g.push(format!("{s}@aggTrade"));
            }
            g
        })
        .collect();
    push_chunks(
        &mut conns,
        &ep.spot_ws,
        spot_groups,
        SPOT_STREAMS_PER_CONN,
        book_idle,
    );

    // USD-M books on /public.
    if ch.book {
        let groups = perps
            .iter()
            .map(|s| vec![format!("{s}@depth@100ms")])
            .collect();
        push_chunks(
            &mut conns,
            &ep.futures_public_ws,
            groups,
            FUTURES_STREAMS_PER_CONN,
            book_idle,
        );
    }

    // USD-M trades, funding and liquidations on /market: may be quiet.
    let mut market_groups: Vec<Group> = Vec::new();
    if ch.liquidations && !perps.is_empty() {
        market_groups.push(vec!["!forceOrder@arr".to_string()]);
    }
    for s in &perps {
        let mut g = Vec::new();
        if ch.trades {
            g.push(format!("{s}@aggTrade"));
        }
        if ch.funding {
            g.push(format!("{s}@markPrice@1s"));
        }
        market_groups.push(g);
    }
    push_chunks(
        &mut conns,
        &ep.futures_market_ws,
        market_groups,
        FUTURES_STREAMS_PER_CONN,
        Duration::ZERO,
    );

    // COIN-M: one endpoint for everything; a symbol's streams stay together.
    let mut coinm_groups: Vec<Group> = Vec::new();
    if ch.liquidations && !coinm.is_empty() {
        coinm_groups.push(vec!["!forceOrder@arr".to_string()]);
    }
    for s in &coinm {
        let mut g = Vec::new();
        if ch.book {
            g.push(format!("{s}@depth@100ms"));
        }
        if ch.trades {
            g.push(format!("{s}@aggTrade"));
        }
        if ch.funding {
            g.push(format!("{s}@markPrice@1s"));
        }
        coinm_groups.push(g);
    }
    push_chunks(
        &mut conns,
        &ep.coinm_ws,
        coinm_groups,
        FUTURES_STREAMS_PER_CONN,
        book_idle,
    );
    conns
}

/// Pack groups into connections of at most `max` streams. A connection with
/// a depth stream gets `book_idle` as idle timeout; others none (`ZERO`
/// means none).
fn push_chunks(
    conns: &mut Vec<ConnSpec>,
    base: &str,
    groups: Vec<Group>,
    max: usize,
    book_idle: Duration,
) {
    let mut current: Vec<String> = Vec::new();
    let mut flush = |current: &mut Vec<String>| {
        if current.is_empty() {
            return;
        }
        let has_book = current.iter().any(|s| s.contains("@depth"));
        conns.push(ConnSpec {
            url: format!("{base}/stream?streams={}", current.join("/")),
            idle_timeout: (has_book && !book_idle.is_zero()).then_some(book_idle),
            ping: None,
            await_dial: false,
        });
        current.clear();
    };
    for group in groups.into_iter().filter(|g| !g.is_empty()) {
        if current.len() + group.len() > max {
            flush(&mut current);
        }
        current.extend(group);
    }
    flush(&mut current);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Instrument;
    use crate::venues::Channels;

    fn cfg(instruments: &[&str]) -> AdapterConfig {
        AdapterConfig {
            instruments: instruments.iter().map(|s| s.parse().unwrap()).collect(),
            channels: Channels::default(),
            endpoints: Default::default(),
        }
    }

    #[test]
    fn spot_and_futures_go_to_their_endpoints() {
        let c = cfg(&["NKN-USDT", "SUSHI-USDT-PERP"]);
        let conns = connections(&c, &Endpoints::from_config(&c), Duration::from_secs(30));
        let urls: Vec<&str> = conns.iter().map(|c| c.url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "wss://stream.binance.com:9443/stream?streams=nknusdt@depth@100ms/nknusdt@aggTrade",
                "wss://fstream.binance.com/public/stream?streams=sushiusdt@depth@100ms",
                "wss://fstream.binance.com/market/stream?streams=!forceOrder@arr/sushiusdt@aggTrade/sushiusdt@markPrice@1s",
            ]
        );
        assert_eq!(conns[0].idle_timeout, Some(Duration::from_secs(30)));
        assert_eq!(conns[1].idle_timeout, Some(Duration::from_secs(30)));
        assert_eq!(conns[2].idle_timeout, None, "quiet channels never time out");
        assert!(conns.iter().all(|c| c.ping.is_none()));
    }

    #[test]
    fn many_symbols_are_split_within_limits() {
        let names: Vec<String> = (0..450).map(|i| format!("C{i}-USDT-PERP")).collect();
        let mut c = cfg(&[]);
        c.instruments = names
            .iter()
            .map(|n| n.parse::<Instrument>().unwrap())
            .collect();
        let conns = connections(&c, &Endpoints::from_config(&c), Duration::from_secs(30));
        let streams = |u: &str| u.split_once("streams=").unwrap().1.split('/').count();
        assert!(
            conns
                .iter()
                .all(|c| streams(&c.url) <= FUTURES_STREAMS_PER_CONN)
        );
        let total: usize = conns.iter().map(|c| streams(&c.url)).sum();
        assert_eq!(total, 450 * 3 + 1);
        // A symbol's trade and funding streams stay together.
        assert!(
            conns
                .iter()
                .all(|c| streams(&c.url) % 2 == 0 || c.url.contains("!forceOrder"))
        );
    }

    #[test]
    fn coin_margined_perps_go_to_dstream_on_one_connection() {
        let c = cfg(&["BTC-USD-PERP", "ETH-USD-PERP", "BTC-EUR-PERP"]);
        let conns = connections(&c, &Endpoints::from_config(&c), Duration::from_secs(30));
        let urls: Vec<&str> = conns.iter().map(|c| c.url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "wss://dstream.binance.com/stream?streams=!forceOrder@arr/btcusd_perp@depth@100ms/btcusd_perp@aggTrade/btcusd_perp@markPrice@1s/ethusd_perp@depth@100ms/ethusd_perp@aggTrade/ethusd_perp@markPrice@1s",
            ]
        );
        assert_eq!(conns[0].idle_timeout, Some(Duration::from_secs(30)));
    }

    #[test]
    fn many_coin_margined_perps_are_split_within_the_limit() {
        let mut c = cfg(&[]);
        c.instruments = (0..150)
            .map(|i| format!("C{i}-USD-PERP").parse::<Instrument>().unwrap())
            .collect();
        let conns = connections(&c, &Endpoints::from_config(&c), Duration::from_secs(30));
        let streams = |u: &str| u.split_once("streams=").unwrap().1.split('/').count();
        assert!(
            conns
                .iter()
                .all(|c| streams(&c.url) <= FUTURES_STREAMS_PER_CONN)
        );
        assert_eq!(
            conns.iter().map(|c| streams(&c.url)).sum::<usize>(),
            150 * 3 + 1
        );
        assert!(conns.len() >= 3);
    }
}
