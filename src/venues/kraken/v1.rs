//! Kraken's frozen WebSocket v1 (array frames, `event` objects), read so
//! that older recordings replay.

use serde_json::value::RawValue;

use super::sync::BookMessage;
use super::wire::{V1Book, V2Message, v1_secs_micros};
use super::{Kraken, VENUE, parse_error, parse_symbol, unknown};
use crate::model::{Instrument, Micros, TakerSide, Trade};
use crate::venues::Output;
use crate::venues::checksum::{parse_decimal, raw_text};
use crate::venues::parse::preview;

impl Kraken {
    pub(super) fn on_v1_event(&mut self, msg: &V2Message, out: &mut Output) {
        match msg.event.as_deref().unwrap_or_default() {
            "heartbeat" | "pong" | "systemStatus" => {}
            "subscriptionStatus" => match msg.status.as_deref() {
                Some("subscribed") => {
                    if let (Some(pair), Some(sub)) = (&msg.pair, &msg.subscription)
                        && sub.name == "book"
                        && let (Some(i), Some(d)) = (parse_symbol(pair), sub.depth)
                        && let Some(b) = self.books.get_mut(&i)
                    {
                        b.depth = d;
                    }
                }
                Some("unsubscribed") => {}
                _ => {
                    let why = msg.error_message.clone().unwrap_or_default();
                    tracing::warn!(error = %why, "Kraken subscription failed");
                    unknown(out, format!("subscription error: {why}"));
                }
            },
            other => unknown(out, format!("event {other}")),
        }
    }

    /// `[channelID, payload..., channelName, pair]`.
    pub(super) fn on_v1_array(&mut self, text: &str, received: Micros, out: &mut Output) {
        let parts: Vec<&RawValue> = match serde_json::from_str(text) {
            Ok(p) => p,
            Err(e) => return parse_error(out, format!("{e}: {}", preview(text))),
        };
        let n = parts.len();
        if n < 4 {
            return parse_error(out, format!("short v1 array: {}", preview(text)));
        }
        let name = raw_text(parts[n - 2]).to_string();
        let pair = raw_text(parts[n - 1]);
        let Some(instrument) = parse_symbol(pair) else {
            return parse_error(out, format!("v1 pair {pair}"));
        };
        let payloads = &parts[1..n - 2];
        if let Some(depth) = name.strip_prefix("book-") {
            self.on_v1_book(instrument, depth.parse().ok(), payloads, received, out);
        } else if name == "trade" {
            self.on_v1_trades(instrument, payloads, received, out);
        } else {
            unknown(out, format!("v1 channel {name}"));
        }
    }

    fn on_v1_book(
        &mut self,
        instrument: Instrument,
        depth: Option<usize>,
        payloads: &[&RawValue],
        received: Micros,
        out: &mut Output,
    ) {
        let mut books = Vec::with_capacity(payloads.len());
        for p in payloads {
            match serde_json::from_str::<V1Book>(p.get()) {
                Ok(b) => books.push(b),
                Err(e) => return parse_error(out, format!("v1 book: {e}")),
            }
        }
        let snapshot = books.iter().any(|b| b.r#as.is_some() || b.bs.is_some());
        let mut m = BookMessage {
            instrument,
            snapshot,
            bids: Vec::new(),
            asks: Vec::new(),
            checksum: None,
            exchange_ts: None,
            depth,
        };
        for book in &books {
            for (levels, side_is_bid) in [
                (book.r#as.as_ref().or(book.a.as_ref()), false),
                (book.bs.as_ref().or(book.b.as_ref()), true),
            ] {
                for l in levels.into_iter().flatten() {
                    let [p, q, rest @ ..] = l.as_slice() else {
                        return parse_error(out, format!("{instrument}: short v1 level"));
                    };
                    if let Some(ts) = rest.first().and_then(|t| v1_secs_micros(raw_text(t))) {
                        m.exchange_ts = Some(m.exchange_ts.map_or(ts, |x| x.max(ts)));
                    }
                    let lv = (raw_text(p), raw_text(q));
                    if side_is_bid {
                        m.bids.push(lv);
                    } else {
                        m.asks.push(lv);
                    }
                }
            }
            if let Some(c) = &book.c {
                match c.parse::<u32>() {
                    Ok(c) => m.checksum = Some(c),
                    Err(_) => return parse_error(out, format!("{instrument}: checksum {c}")),
                }
            }
        }
        self.on_book_message(m, received, out);
    }

    fn on_v1_trades(
        &mut self,
        instrument: Instrument,
        payloads: &[&RawValue],
        received: Micros,
        out: &mut Output,
    ) {
        for p in payloads {
            let rows: Vec<Vec<&RawValue>> = match serde_json::from_str(p.get()) {
                Ok(r) => r,
                Err(e) => return parse_error(out, format!("v1 trade: {e}")),
            };
            for row in rows {
                let [price, volume, time, side, ..] = row.as_slice() else {
                    parse_error(out, format!("{instrument}: short v1 trade"));
                    continue;
                };
                let side = match raw_text(side) {
                    "b" => TakerSide::Buy,
                    "s" => TakerSide::Sell,
                    other => {
                        parse_error(out, format!("v1 trade side {other}"));
                        continue;
                    }
                };
                let (Some(price), Some(size)) = (
                    parse_decimal(raw_text(price)),
                    parse_decimal(raw_text(volume)),
                ) else {
                    parse_error(out, format!("{instrument}: bad v1 trade"));
                    continue;
                };
                out.trade(Trade {
                    venue: VENUE,
                    instrument,
                    price,
                    size,
                    side,
                    exchange_ts: v1_secs_micros(raw_text(time)),
                    received,
                });
            }
        }
    }
}
