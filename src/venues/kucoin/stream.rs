//! KuCoin WebSocket frames: control messages, level2 increments (spot and
//! futures), trades and the futures instrument channel.

use serde_json::value::RawValue;

use super::sync::{self, Change};
use super::wire::{Envelope, FuturesL2, InstrumentData, Match, SpotL2, decimal, time_micros};
use super::{Kucoin, Market, VENUE};
use crate::model::{
    BookSide, Funding, FundingUpdate, Level, Micros, OutOfSyncReason, TakerSide, Trade,
};
use crate::venues::Output;
use crate::venues::buffered::Diff;
use crate::venues::checksum::raw_text;
use crate::venues::parse::{self, preview};

impl Kucoin {
    pub(super) fn on_frame(
        &mut self,
        m: Market,
        url: &str,
        text: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let env: Envelope = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => return out.parse_error(VENUE, None, format!("{e}: {}", preview(text))),
        };
        let id = env.id.map(|v| raw_text(v).to_string());
        match env.kind.as_deref() {
            Some("message") => {}
            Some("welcome") => return self.subscribe(m, url, out),
            Some("pong") => return,
            Some("ack") => return self.on_ack(m, id, received, out),
            Some("error") => {
                let why = format!(
                    "KuCoin error {}: {}",
                    env.code.map(raw_text).unwrap_or("?"),
                    env.data.map(raw_text).unwrap_or("(no detail)")
                );
                tracing::warn!(venue = "kucoin", url, "{why}");
                let id = id.filter(|i| self.pending_subs.get(i).is_some_and(|(pm, _)| *pm == m));
                if let Some((market, natives)) = id.and_then(|i| self.pending_subs.remove(&i)) {
                    for n in natives {
                        if let Some(b) = self.books[market.index()].get(&n) {
                            let i = b.instrument;
                            self.lc.fail(i, OutOfSyncReason::Venue(why.clone()), out);
                        }
                    }
                }
                return out.unknown(VENUE, None, why);
            }
            other => {
                return out.unknown(
                    VENUE,
                    None,
                    format!("frame type {other:?}: {}", preview(text)),
                );
            }
        }
        let (Some(topic), Some(data)) = (env.topic.as_deref(), env.data) else {
            return out.parse_error(
                VENUE,
                None,
                format!("message without topic/data: {}", preview(text)),
            );
        };
        let (channel, symbol) = topic.split_once(':').unwrap_or((topic, ""));
        let symbol = symbol.trim();
        // A book is bound to the connection of its market: a topic of the
        // other market on this connection is not applied.
        let book_market = match channel {
            "/market/level2" => Some(Market::Spot),
            "/contractMarket/level2" => Some(Market::Futures),
            _ => None,
        };
        if book_market.is_some_and(|bm| bm != m) {
            return out.unknown(
                VENUE,
                None,
                format!("{channel} on the {m:?} connection: {}", preview(text)),
            );
        }
        match channel {
            "/market/level2" => self.on_spot_l2(url, symbol, data, received, out),
            "/contractMarket/level2" => self.on_futures_l2(url, symbol, data, received, out),
            "/market/match" => self.on_trade(Market::Spot, symbol, data, received, out),
            "/contractMarket/execution" => {
                self.on_trade(Market::Futures, symbol, data, received, out)
            }
            "/contract/instrument" => self.on_instrument(symbol, data, received, out),
            // Subscribed by cryptofeed's recordings; nothing depthwatch uses.
            "/market/ticker" | "/market/candles" => {}
            other => out.unknown(VENUE, None, format!("topic {other}")),
        }
    }

    /// A subscription acknowledged: its books ask for their snapshots (the
    /// stream is being cached from now on).
    fn on_ack(&mut self, conn: Market, id: Option<String>, now: Micros, out: &mut Output) {
        // An ack answers a subscription sent on this same connection.
        let Some(id) = id.filter(|i| self.pending_subs.get(i).is_some_and(|(pm, _)| *pm == conn))
        else {
            return;
        };
        let Some((m, natives)) = self.pending_subs.remove(&id) else {
            return;
        };
        for n in natives {
            let mut fx = std::mem::take(&mut self.effects);
            if let Some(b) = self.books[m.index()].get_mut(&n) {
                b.sync.request_snapshot(now, &mut fx);
            }
            self.publish(m, &n, &mut fx, out);
            self.effects = fx;
        }
    }

    fn feed(&mut self, m: Market, url: &str, native: &str, diffs: Vec<Diff>, out: &mut Output) {
        let mut fx = std::mem::take(&mut self.effects);
        let Some(book) = self.book(m, native) else {
            self.effects = fx;
            return out.unknown(VENUE, None, format!("level2 for unknown symbol {native}"));
        };
        for d in diffs {
            book.sync.on_diff(d, &mut fx);
        }
        let instrument = book.instrument;
        self.lc.carried_by(instrument, url, out);
        self.publish(m, native, &mut fx, out);
        self.effects = fx;
    }

    fn on_spot_l2(
        &mut self,
        url: &str,
        native: &str,
        data: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        let instrument = super::parse_spot(native);
        let msg: SpotL2 = match serde_json::from_str(data.get()) {
            Ok(m) => m,
            Err(e) => return out.parse_error(VENUE, instrument, format!("level2 {native}: {e}")),
        };
        if msg.sequence_end < msg.sequence_start {
            let why = format!("level2 {native}: sequenceEnd before sequenceStart");
            return out.parse_error(VENUE, instrument, why);
        }
        let mut changes = Vec::new();
        for (side, rows) in [
            (BookSide::Bid, &msg.changes.bids),
            (BookSide::Ask, &msg.changes.asks),
        ] {
            for row in rows {
                let Some(c) = spot_change(side, row) else {
                    let why = format!("level2 {native}: bad change {row:?}");
                    return out.parse_error(VENUE, instrument, why);
                };
                changes.push(c);
            }
        }
        let ts = msg.time.and_then(time_micros);
        let diffs = sync::split(msg.sequence_start, msg.sequence_end, changes, ts, received);
        self.feed(Market::Spot, url, native, diffs, out);
    }

    fn on_futures_l2(
        &mut self,
        url: &str,
        native: &str,
        data: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        let msg: FuturesL2 = match serde_json::from_str(data.get()) {
            Ok(m) => m,
            Err(e) => return out.parse_error(VENUE, None, format!("level2 {native}: {e}")),
        };
        let mut parts = msg.change.split(',').map(str::trim);
        let (Some(price), Some(side), Some(size), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return out.parse_error(
                VENUE,
                None,
                format!("level2 {native}: change {}", msg.change),
            );
        };
        let (Some(price), Some(size)) = (parse::decimal(price), parse::decimal(size)) else {
            return out.parse_error(
                VENUE,
                None,
                format!("level2 {native}: change {}", msg.change),
            );
        };
        let level = Level::new(price, size);
        let (bids, asks) = match side {
            "buy" => (vec![level], vec![]),
            "sell" => (vec![], vec![level]),
            other => return out.parse_error(VENUE, None, format!("level2 {native}: side {other}")),
        };
        let diff = Diff {
            first: msg.sequence,
            last: msg.sequence,
            prev_last: None,
            bids,
            asks,
            exchange_ts: msg.timestamp.and_then(time_micros),
            received,
        };
        self.feed(Market::Futures, url, native, vec![diff], out);
    }

    fn on_trade(
        &mut self,
        m: Market,
        topic_symbol: &str,
        data: &RawValue,
        received: Micros,
        out: &mut Output,
    ) {
        let t: Match = match serde_json::from_str(data.get()) {
            Ok(t) => t,
            Err(e) => return out.parse_error(VENUE, None, format!("trade: {e}")),
        };
        let native = t.symbol.as_deref().unwrap_or(topic_symbol).to_string();
        let Some(instrument) = self.resolve(m, &native) else {
            return out.unknown(VENUE, None, format!("trade for unknown symbol {native}"));
        };
        let (Some(price), Some(qty)) = (decimal(t.price), decimal(t.size)) else {
            return out.parse_error(VENUE, Some(instrument), "trade: bad price/size");
        };
        // `side` is the taker's (docs: "side of the taker").
        let side = match t.side.as_ref() {
            "buy" => TakerSide::Buy,
            "sell" => TakerSide::Sell,
            other => {
                return out.parse_error(VENUE, Some(instrument), format!("trade side {other}"));
            }
        };
        let size = match m {
            Market::Spot => qty,
            Market::Futures => match self.contracts.get(&native) {
                Some(spec) => match spec.to_base(qty, price) {
                    Some(s) => s.normalize(),
                    None => {
                        let why = format!("trade: {qty} lots out of range");
                        return out.parse_error(VENUE, Some(instrument), why);
                    }
                },
                None => {
                    tracing::debug!(venue = "kucoin", %native, "trade before the contract size is known: dropped");
                    return;
                }
            },
        };
        out.trade(Trade {
            venue: VENUE,
            instrument,
            price,
            size,
            side,
            exchange_ts: t.time.or(t.ts).and_then(time_micros),
            received,
        });
    }

    fn on_instrument(&mut self, native: &str, data: &RawValue, received: Micros, out: &mut Output) {
        let Some(instrument) = self.resolve(Market::Futures, native) else {
            return out.unknown(
                VENUE,
                None,
                format!("instrument for unknown symbol {native}"),
            );
        };
        let d: InstrumentData = match serde_json::from_str(data.get()) {
            Ok(d) => d,
            Err(e) => return out.parse_error(VENUE, Some(instrument), format!("instrument: {e}")),
        };
        let update = FundingUpdate {
            funding_rate: d.funding_rate.and_then(decimal),
            mark_price: d.mark_price.and_then(decimal),
            index_price: d.index_price.and_then(decimal),
            ..FundingUpdate::default()
        };
        if update == FundingUpdate::default() {
            return;
        }
        out.funding(Funding {
            venue: VENUE,
            instrument,
            update,
            exchange_ts: d.timestamp.and_then(time_micros),
            received,
        });
    }
}

/// `[price, size, sequence]` of a spot change; price 0 only moves the
/// sequence.
fn spot_change(side: BookSide, row: &[&RawValue]) -> Option<Change> {
    let [price, size, seq, ..] = row else {
        return None;
    };
    let price = decimal(price)?;
    let size = decimal(size)?;
    let seq: u64 = raw_text(seq).trim().parse().ok()?;
    let level = (!price.is_zero()).then(|| Level::new(price, size));
    Some(Change { side, level, seq })
}
