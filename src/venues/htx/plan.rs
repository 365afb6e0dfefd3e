//! Which connections to open, and what each subscribes to.
//!
//! HTX takes one topic per subscribe frame. The driver spaces client frames
//! (220 ms), and HTX drops a market socket whose server pings go unanswered
//! four times (about 20 s, measured; the docs say five), so a pong must never
//! wait behind a long queue of subscriptions: a connection carries at most
//! [`MAX_TOPICS_PER_CONN`] topics (about 7 s of subscribing), and extra
//! batches get their own connection, told apart by a `?conn=N` query (the
//! driver knows connections by URL). HTX allows 40 subscriptions a second
//! per connection and "normally" no more than 30 connections.

use serde_json::json;

use super::{Endpoints, Market, carries, native_symbol};
use crate::model::Instrument;
use crate::venues::AdapterConfig;

pub(super) const MAX_TOPICS_PER_CONN: usize = 30;

/// The spot MBP channel: 150 levels, increments between 100 ms images, which
/// a `req` on the same channel can align (VENUES.md §24: `req` images exist
/// for 5, 20 and 150 levels only).
pub(super) const SPOT_BOOK: &str = "mbp.150";
/// The swap incremental channel (`data_type: incremental`).
pub(super) const SWAP_BOOK: &str = "depth.size_150.high_freq";

/// What a connection is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ConnKind {
    /// `wss://api.huobi.pro/feed`: spot MBP increments and their `req`.
    SpotBook,
    /// `wss://api.huobi.pro/ws`: spot trades.
    SpotMarket,
    /// `/linear-swap-ws` or `/swap-ws`: swap books and trades.
    Swap(Market),
    /// `/linear-swap-notification` or `/swap-notification`: liquidations
    /// and funding (`op: sub`, its own heartbeat).
    Notify(Market),
}

/// How a topic is subscribed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum SubKind {
    /// `{"sub": topic, "id": ..}`.
    Market,
    /// The same with `"data_type": "incremental"` (swap books).
    Incremental,
    /// `{"op": "sub", "cid": .., "topic": topic}`.
    Notify,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Sub {
    pub topic: String,
    pub kind: SubKind,
    /// The book this topic keeps, if it is a book topic.
    pub book: Option<Instrument>,
}

impl Sub {
    fn market(topic: String, book: Option<Instrument>) -> Sub {
        Sub {
            topic,
            kind: SubKind::Market,
            book,
        }
    }

    pub fn text(&self, id: u64) -> String {
        subscribe_text(&self.topic, self.kind, id)
    }
}

/// The subscribe frame for `topic`.
pub(super) fn subscribe_text(topic: &str, kind: SubKind, id: u64) -> String {
    let id = id.to_string();
    match kind {
        SubKind::Market => json!({"sub": topic, "id": id}),
        SubKind::Incremental => json!({"sub": topic, "data_type": "incremental", "id": id}),
        SubKind::Notify => json!({"op": "sub", "cid": id, "topic": topic}),
    }
    .to_string()
}

/// The unsubscribe frame for `topic`.
pub(super) fn unsubscribe_text(topic: &str, kind: SubKind, id: u64) -> String {
    let id = id.to_string();
    match kind {
        SubKind::Market => json!({"unsub": topic, "id": id}),
        SubKind::Incremental => json!({"unsub": topic, "data_type": "incremental", "id": id}),
        SubKind::Notify => json!({"op": "unsub", "cid": id, "topic": topic}),
    }
    .to_string()
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct PlannedConn {
    pub url: String,
    pub kind: ConnKind,
    pub subs: Vec<Sub>,
}

/// The connections for a configuration, in a fixed order.
pub(super) fn connections(cfg: &AdapterConfig, ep: &Endpoints) -> Vec<PlannedConn> {
    let ch = &cfg.channels;
    let mut wanted: Vec<Instrument> = Vec::new();
    for i in cfg.instruments.iter().filter(|i| carries(i).is_ok()) {
        if !wanted.contains(i) {
            wanted.push(*i);
        }
    }
    let of = |m: Market| wanted.iter().filter(move |i| Market::of(i) == m);
    let mut plan = Vec::new();

    // Spot: books on /feed, trades on /ws.
    let books: Vec<Vec<Sub>> = of(Market::Spot)
        .filter(|_| ch.book)
        .map(|i| {
            let topic = format!("market.{}.{SPOT_BOOK}", native_symbol(i));
            vec![Sub::market(topic, Some(*i))]
        })
        .collect();
    pack(&mut plan, &ep.spot_feed_ws, ConnKind::SpotBook, books);
    let trades: Vec<Vec<Sub>> = of(Market::Spot)
        .filter(|_| ch.trades)
        .map(|i| {
            let topic = format!("market.{}.trade.detail", native_symbol(i));
            vec![Sub::market(topic, None)]
        })
        .collect();
    pack(&mut plan, &ep.spot_ws, ConnKind::SpotMarket, trades);

    for (market, ws, notify) in [
        (Market::Linear, &ep.linear_ws, &ep.linear_notify_ws),
        (Market::Inverse, &ep.inverse_ws, &ep.inverse_notify_ws),
    ] {
        // A contract's book and trades share a connection.
        let groups: Vec<Vec<Sub>> = of(market)
            .map(|i| {
                let code = native_symbol(i);
                let mut g = Vec::new();
                if ch.book {
                    g.push(Sub {
                        topic: format!("market.{code}.{SWAP_BOOK}"),
                        kind: SubKind::Incremental,
                        book: Some(*i),
                    });
                }
                if ch.trades {
                    g.push(Sub::market(format!("market.{code}.trade.detail"), None));
                }
                g
            })
            .collect();
        pack(&mut plan, ws, ConnKind::Swap(market), groups);

        let notify_sub = |topic: String| Sub {
            topic,
            kind: SubKind::Notify,
            book: None,
        };
        let mut groups: Vec<Vec<Sub>> = Vec::new();
        if ch.liquidations && of(market).next().is_some() {
            // Every contract's liquidations in one topic: a quiet stream.
            groups.push(vec![notify_sub("public.*.liquidation_orders".into())]);
        }
        if ch.funding {
            for i in of(market) {
                let topic = format!("public.{}.funding_rate", native_symbol(i));
                groups.push(vec![notify_sub(topic)]);
            }
        }
        pack(&mut plan, notify, ConnKind::Notify(market), groups);
    }
    plan
}

/// Pack groups of topics (a group stays on one connection) into connections
/// of at most [`MAX_TOPICS_PER_CONN`] topics.
fn pack(plan: &mut Vec<PlannedConn>, base: &str, kind: ConnKind, groups: Vec<Vec<Sub>>) {
    let mut current: Vec<Sub> = Vec::new();
    let mut n = 0;
    let mut flush = |current: &mut Vec<Sub>, plan: &mut Vec<PlannedConn>| {
        if current.is_empty() {
            return;
        }
        n += 1;
        let url = if n == 1 {
            base.to_string()
        } else {
            format!("{base}?conn={n}")
        };
        plan.push(PlannedConn {
            url,
            kind,
            subs: std::mem::take(current),
        });
    };
    for g in groups.into_iter().filter(|g| !g.is_empty()) {
        if current.len() + g.len() > MAX_TOPICS_PER_CONN {
            flush(&mut current, plan);
        }
        current.extend(g);
    }
    flush(&mut current, plan);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venues::Channels;

    fn cfg(instruments: &[&str]) -> AdapterConfig {
        AdapterConfig {
            instruments: instruments.iter().map(|s| s.parse().unwrap()).collect(),
            channels: Channels::default(),
            endpoints: Default::default(),
        }
    }

    #[test]
    fn every_market_goes_to_its_endpoint() {
        let c = cfg(&["BTC-USDT", "BTC-USDT-PERP", "BTC-USD-PERP", "BTC-EUR-PERP"]);
        let plan = connections(&c, &Endpoints::from_config(&c));
        let urls: Vec<(&str, Vec<&str>)> = plan
            .iter()
            .map(|p| {
                (
                    p.url.as_str(),
                    p.subs.iter().map(|s| s.topic.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            urls,
            vec![
                ("wss://api.huobi.pro/feed", vec!["market.btcusdt.mbp.150"]),
                (
                    "wss://api.huobi.pro/ws",
                    vec!["market.btcusdt.trade.detail"]
                ),
                (
                    "wss://api.hbdm.com/linear-swap-ws",
                    vec![
                        "market.BTC-USDT.depth.size_150.high_freq",
                        "market.BTC-USDT.trade.detail"
                    ]
                ),
                (
                    "wss://api.hbdm.com/linear-swap-notification",
                    vec![
                        "public.*.liquidation_orders",
                        "public.BTC-USDT.funding_rate"
                    ]
                ),
                (
                    "wss://api.hbdm.com/swap-ws",
                    vec![
                        "market.BTC-USD.depth.size_150.high_freq",
                        "market.BTC-USD.trade.detail"
                    ]
                ),
                (
                    "wss://api.hbdm.com/swap-notification",
                    vec!["public.*.liquidation_orders", "public.BTC-USD.funding_rate"]
                ),
            ]
        );
        assert_eq!(
            plan[2].subs[0].text(7),
            r#"{"sub":"market.BTC-USDT.depth.size_150.high_freq","data_type":"incremental","id":"7"}"#
        );
        assert_eq!(
            plan[3].subs[0].text(8),
            r#"{"op":"sub","cid":"8","topic":"public.*.liquidation_orders"}"#
        );
    }

    #[test]
    fn many_contracts_are_split_and_keep_book_and_trades_together() {
        let names: Vec<String> = (0..40).map(|i| format!("C{i}-USDT-PERP")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let c = cfg(&refs);
        let plan = connections(&c, &Endpoints::from_config(&c));
        let swaps: Vec<&PlannedConn> = plan
            .iter()
            .filter(|p| p.kind == ConnKind::Swap(Market::Linear))
            .collect();
        assert_eq!(swaps.len(), 3);
        assert!(swaps.iter().all(|p| p.subs.len() <= MAX_TOPICS_PER_CONN));
        assert!(swaps.iter().all(|p| p.subs.len() % 2 == 0));
        assert_eq!(swaps[1].url, "wss://api.hbdm.com/linear-swap-ws?conn=2");
        let total: usize = swaps.iter().map(|p| p.subs.len()).sum();
        assert_eq!(total, 80);
    }
}
