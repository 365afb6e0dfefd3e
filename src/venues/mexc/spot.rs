//! MEXC spot frames: JSON control answers, protobuf data pushes, and the
//! legacy JSON data frames of recordings made before 2025-08-04.

use prost::Message as _;

use super::proto::{Body, PublicAggreDealsV3Api, PublicAggreDepthsV3Api, PushDataV3ApiWrapper};
use super::wire::{LegacyDeals, LegacyDepth, LegacyPush, SpotControl};
use super::{Market, Mexc, VENUE};
use crate::model::{Instrument, Level, Micros, OutOfSyncReason, TakerSide, Trade};
use crate::venues::Output;
use crate::venues::buffered::Diff;
use crate::venues::parse::{self, preview};

/// `spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT`.
pub(super) fn depth_topic(native: &str) -> String {
    format!("spot@public.aggre.depth.v3.api.pb@100ms@{native}")
}

/// `spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT`.
pub(super) fn deals_topic(native: &str) -> String {
    format!("spot@public.aggre.deals.v3.api.pb@100ms@{native}")
}

/// The symbol a topic ends with.
fn topic_symbol(channel: &str) -> &str {
    channel.rsplit('@').next().unwrap_or_default()
}

/// `"0.35210000"` levels of a push as decimals.
fn levels<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Vec<Level>, String> {
    rows.into_iter()
        .map(|(p, q)| match (parse::decimal(p), parse::decimal(q)) {
            (Some(p), Some(q)) => Ok(Level::new(p, q)),
            _ => Err(format!("bad level [{p:?}, {q:?}]")),
        })
        .collect()
}

/// The taker's side from `tradeType` / legacy `S`: 1 buy, 2 sell.
fn taker_side(code: i32) -> Option<TakerSide> {
    match code {
        1 => Some(TakerSide::Buy),
        2 => Some(TakerSide::Sell),
        _ => None,
    }
}

impl Mexc {
    pub(super) fn on_spot_text(
        &mut self,
        url: &str,
        text: &str,
        received: Micros,
        out: &mut Output,
    ) {
        if text.trim_start().starts_with("{\"c\"") || text.contains("\"c\":\"spot@") {
            if let Ok(p) = serde_json::from_str::<LegacyPush>(text) {
                return self.on_legacy(url, p, received, out);
            }
        }
        let ctl: SpotControl = match serde_json::from_str(text) {
            Ok(c) => c,
            Err(e) => return out.parse_error(VENUE, None, format!("{e}: {}", preview(text))),
        };
        let msg = ctl.msg.unwrap_or_default();
        if msg == "PONG" {
            return;
        }
        let refused = ctl.code.is_some_and(|c| c != 0)
            || msg.contains("Not Subscribed")
            || msg.contains("Blocked");
        if !refused {
            // `{"id":0,"code":0,"msg":"<topics>"}`: subscribed.
            return;
        }
        tracing::warn!(venue = "mexc", url, "subscription refused: {msg}");
        // Books whose topic the refusal names get no stream: out of sync.
        let mut hit: Vec<Instrument> = self
            .books
            .iter()
            .filter(|(_, b)| b.market == Market::Spot && msg.contains(&depth_topic(&b.native)))
            .map(|(i, _)| *i)
            .collect();
        hit.sort();
        for i in hit {
            self.lc
                .fail(i, OutOfSyncReason::Venue(format!("MEXC: {msg}")), out);
        }
        out.unknown(VENUE, None, format!("MEXC refused: {}", preview(&msg)));
    }

    pub(super) fn on_spot_binary(
        &mut self,
        url: &str,
        data: &[u8],
        received: Micros,
        out: &mut Output,
    ) {
        let w = match PushDataV3ApiWrapper::decode(data) {
            Ok(w) => w,
            Err(e) => {
                return out.parse_error(VENUE, None, format!("not a PushDataV3ApiWrapper: {e}"));
            }
        };
        let symbol = w
            .symbol
            .clone()
            .unwrap_or_else(|| topic_symbol(&w.channel).to_string());
        let ts = w.create_time.or(w.send_time).and_then(parse::ms_to_micros);
        match w.body {
            Some(Body::PublicAggreDepths(d)) => self.on_depth(url, &symbol, d, ts, received, out),
            Some(Body::PublicAggreDeals(d)) => self.on_deals(&symbol, d, received, out),
            None => out.unknown(VENUE, None, format!("push on {}", preview(&w.channel))),
        }
    }

    fn on_depth(
        &mut self,
        url: &str,
        symbol: &str,
        d: PublicAggreDepthsV3Api,
        ts: Option<Micros>,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(instrument) = self.book_for(Market::Spot, symbol) else {
            return out.unknown(VENUE, None, format!("depth for unknown symbol {symbol:?}"));
        };
        let versions = (d.from_version.parse::<u64>(), d.to_version.parse::<u64>());
        let (Ok(first), Ok(last)) = versions else {
            return out.parse_error(
                VENUE,
                Some(instrument),
                format!(
                    "{symbol}: versions {:?}..{:?}",
                    d.from_version, d.to_version
                ),
            );
        };
        if first > last {
            return out.parse_error(
                VENUE,
                Some(instrument),
                format!("{symbol}: fromVersion {first} after toVersion {last}"),
            );
        }
        let sides = (
            levels(
                d.bids
                    .iter()
                    .map(|l| (l.price.as_str(), l.quantity.as_str())),
            ),
            levels(
                d.asks
                    .iter()
                    .map(|l| (l.price.as_str(), l.quantity.as_str())),
            ),
        );
        let (bids, asks) = match sides {
            (Ok(b), Ok(a)) => (b, a),
            (Err(e), _) | (_, Err(e)) => {
                return out.parse_error(VENUE, Some(instrument), format!("{symbol}: {e}"));
            }
        };
        let diff = Diff {
            first,
            last,
            prev_last: None,
            bids,
            asks,
            exchange_ts: ts,
            received,
        };
        self.feed(url, instrument, diff, out);
    }

    /// A diff for a book, through its machine.
    pub(super) fn feed(&mut self, url: &str, instrument: Instrument, diff: Diff, out: &mut Output) {
        self.lc.carried_by(instrument, url, out);
        let mut fx = std::mem::take(&mut self.effects);
        if let Some(b) = self.books.get_mut(&instrument) {
            b.sync.on_diff(diff, &mut fx);
        }
        self.publish(instrument, &mut fx, out);
        self.effects = fx;
    }

    fn on_deals(
        &mut self,
        symbol: &str,
        d: PublicAggreDealsV3Api,
        received: Micros,
        out: &mut Output,
    ) {
        let Some(instrument) = self.resolve(Market::Spot, symbol) else {
            return out.unknown(VENUE, None, format!("deals for unknown symbol {symbol:?}"));
        };
        for t in d.deals {
            let parsed = (
                parse::decimal(&t.price),
                parse::decimal(&t.quantity),
                taker_side(t.trade_type),
            );
            let (Some(price), Some(size), Some(side)) = parsed else {
                out.parse_error(
                    VENUE,
                    Some(instrument),
                    format!("deal {:?} {:?} type {}", t.price, t.quantity, t.trade_type),
                );
                continue;
            };
            out.trade(Trade {
                venue: VENUE,
                instrument,
                price,
                size,
                side,
                exchange_ts: parse::ms_to_micros(t.time),
                received,
            });
        }
    }

    /// A legacy JSON push: `increase.depth` (one version `r` per push, the
    /// same rule with `first == last`) or `deals`.
    fn on_legacy(&mut self, url: &str, p: LegacyPush<'_>, received: Micros, out: &mut Output) {
        let symbol =
            p.s.clone()
                .unwrap_or_else(|| topic_symbol(&p.c).to_string());
        let ts = p.t.and_then(parse::ms_to_micros);
        if p.c.starts_with("spot@public.increase.depth.v3.api@") {
            let Some(instrument) = self.book_for(Market::Spot, &symbol) else {
                return out.unknown(VENUE, None, format!("depth for unknown symbol {symbol:?}"));
            };
            let d: LegacyDepth = match serde_json::from_str(p.d.get()) {
                Ok(d) => d,
                Err(e) => return out.parse_error(VENUE, Some(instrument), format!("{}: {e}", p.c)),
            };
            let sides = (
                levels(d.bids.iter().map(|l| (l.p.as_str(), l.v.as_str()))),
                levels(d.asks.iter().map(|l| (l.p.as_str(), l.v.as_str()))),
            );
            let (Ok(version), (Ok(bids), Ok(asks))) = (d.r.parse::<u64>(), sides) else {
                return out.parse_error(VENUE, Some(instrument), format!("{}: bad push", p.c));
            };
            let diff = Diff {
                first: version,
                last: version,
                prev_last: None,
                bids,
                asks,
                exchange_ts: ts,
                received,
            };
            self.feed(url, instrument, diff, out);
        } else if p.c.starts_with("spot@public.deals.v3.api@") {
            let Some(instrument) = self.resolve(Market::Spot, &symbol) else {
                return out.unknown(VENUE, None, format!("deals for unknown symbol {symbol:?}"));
            };
            let d: LegacyDeals = match serde_json::from_str(p.d.get()) {
                Ok(d) => d,
                Err(e) => return out.parse_error(VENUE, Some(instrument), format!("{}: {e}", p.c)),
            };
            for t in d.deals {
                let parsed = (
                    parse::decimal(&t.p),
                    parse::decimal(&t.v),
                    taker_side(t.side),
                );
                let (Some(price), Some(size), Some(side)) = parsed else {
                    out.parse_error(VENUE, Some(instrument), format!("deal {:?}", t.p));
                    continue;
                };
                out.trade(Trade {
                    venue: VENUE,
                    instrument,
                    price,
                    size,
                    side,
                    exchange_ts: parse::ms_to_micros(t.t),
                    received,
                });
            }
        } else {
            // Tickers, klines: nothing depthwatch reads.
            out.unknown(VENUE, None, format!("legacy channel {}", preview(&p.c)));
        }
    }
}
