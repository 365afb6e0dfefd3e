//! Kraken WebSocket v2: `book`, `trade` and `instrument` pushes and the
//! responses to our requests.

use rust_decimal::Decimal;

use super::sync::{BookMessage, Precision};
use super::wire::{
    InstrumentData, SubscribeResult, V2Book, V2Message, V2Trade, rfc3339_micros, v2_levels,
};
use super::{Kraken, VENUE, parse_error, parse_symbol, unknown};
use crate::model::{InstrumentInfo, Micros, TakerSide, Trade};
use crate::venues::Output;
use crate::venues::checksum::{parse_decimal, raw_text};
use crate::venues::parse::preview;

impl Kraken {
    pub(super) fn on_v2(&mut self, msg: V2Message, text: &str, received: Micros, out: &mut Output) {
        if let Some(method) = msg.method.as_deref() {
            return self.on_v2_response(method, &msg, out);
        }
        let Some(channel) = msg.channel.as_deref() else {
            return unknown(out, preview(text));
        };
        let data = msg.data;
        match channel {
            "heartbeat" | "status" => {}
            "book" => {
                let Some(data) = data else {
                    return parse_error(out, "book without data".into());
                };
                let books: Vec<V2Book> = match serde_json::from_str(data.get()) {
                    Ok(b) => b,
                    Err(e) => return parse_error(out, format!("book data: {e}")),
                };
                let snapshot = msg.kind.as_deref() == Some("snapshot");
                for book in &books {
                    let Some(instrument) = parse_symbol(&book.symbol) else {
                        parse_error(out, format!("book symbol {}", book.symbol));
                        continue;
                    };
                    let m = BookMessage {
                        instrument,
                        snapshot,
                        bids: v2_levels(&book.bids),
                        asks: v2_levels(&book.asks),
                        checksum: book.checksum,
                        exchange_ts: rfc3339_micros(book.timestamp.as_deref()),
                        depth: None,
                    };
                    self.on_book_message(m, received, out);
                }
            }
            "trade" => {
                // The optional snapshot holds past trades: not live flow.
                if msg.kind.as_deref() == Some("snapshot") {
                    return;
                }
                let Some(data) = data else {
                    return parse_error(out, "trade without data".into());
                };
                let trades: Vec<V2Trade> = match serde_json::from_str(data.get()) {
                    Ok(t) => t,
                    Err(e) => return parse_error(out, format!("trade data: {e}")),
                };
                for t in trades {
                    let side = match t.side.as_ref() {
                        "buy" => TakerSide::Buy,
                        "sell" => TakerSide::Sell,
                        other => {
                            parse_error(out, format!("trade side {other}"));
                            continue;
                        }
                    };
                    let (Some(instrument), Some(price), Some(size)) = (
                        parse_symbol(&t.symbol),
                        parse_decimal(raw_text(t.price)),
                        parse_decimal(raw_text(t.qty)),
                    ) else {
                        parse_error(out, format!("trade {}: bad fields", t.symbol));
                        continue;
                    };
                    out.trade(Trade {
                        venue: VENUE,
                        instrument,
                        price,
                        size,
                        side,
                        exchange_ts: rfc3339_micros(t.timestamp.as_deref()),
                        received,
                    });
                }
            }
            "instrument" => {
                let Some(data) = data else { return };
                match serde_json::from_str::<InstrumentData>(data.get()) {
                    Ok(d) => self.on_instrument_pairs(d, out),
                    Err(e) => parse_error(out, format!("instrument data: {e}")),
                }
            }
            other => unknown(out, format!("channel {other}")),
        }
    }

    fn on_v2_response(&mut self, method: &str, msg: &V2Message, out: &mut Output) {
        match method {
            "pong" | "unsubscribe" => {}
            "subscribe" if msg.success == Some(true) => {
                let Some(result) = msg.result else { return };
                if let Ok(r) = serde_json::from_str::<SubscribeResult>(result.get())
                    && r.channel == "book"
                    && let (Some(sym), Some(depth)) = (r.symbol, r.depth)
                    && let Some(i) = parse_symbol(&sym)
                    && let Some(b) = self.books.get_mut(&i)
                {
                    b.depth = depth;
                }
            }
            "subscribe" => {
                let why = msg.error.clone().unwrap_or_default();
                tracing::warn!(error = %why, "Kraken subscription failed");
                unknown(out, format!("subscribe failed: {why}"));
            }
            other => unknown(out, format!("method {other}")),
        }
    }

    fn on_instrument_pairs(&mut self, d: InstrumentData, out: &mut Output) {
        use rust_decimal::prelude::FromPrimitive;
        let mut list = Vec::new();
        for p in d.pairs {
            let Some(instrument) = parse_symbol(&p.symbol) else {
                continue;
            };
            self.precision.insert(
                instrument,
                Precision {
                    price: p.price_precision,
                    qty: p.qty_precision,
                },
            );
            list.push(InstrumentInfo {
                instrument,
                native: p.symbol,
                tick_size: p.price_increment.and_then(Decimal::from_f64),
                lot_size: p.qty_increment.and_then(Decimal::from_f64),
                contract_size: None,
                contract_usd: None,
            });
        }
        self.spot_list = list;
        self.publish_instruments(out);
    }
}
