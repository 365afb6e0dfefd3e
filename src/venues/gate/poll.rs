//! The REST fallback: `GET /api/v4/spot/order_book` and
//! `/api/v4/futures/usdt/order_book` (`limit=100`; Gate allows 200 public
//! requests per 10 s per endpoint). Futures sizes are contracts.

use std::time::Duration;

use super::wire::{RestBook, level_text};
use super::{Gate, Market, VENUE, native_symbol};
use crate::model::{Instrument, Level, Micros, SeqInfo};
use crate::venues::lifecycle::Update;
use crate::venues::parse::decimal;
use crate::venues::{DepthPoll, Output};

impl Gate {
    pub(super) fn poll_request(&self, instrument: &Instrument) -> DepthPoll {
        let sym = native_symbol(instrument);
        let url = if instrument.is_perp() {
            format!(
                "{}/api/v4/futures/usdt/order_book?contract={sym}&limit=100&with_id=true",
                self.rest_url
            )
        } else {
            format!(
                "{}/api/v4/spot/order_book?currency_pair={sym}&limit=100&with_id=true",
                self.rest_url
            )
        };
        DepthPoll {
            url,
            post: None,
            every: Duration::from_millis(200),
        }
    }

    pub(super) fn polled(
        &mut self,
        instrument: Instrument,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let book: RestBook = match serde_json::from_str(body) {
            Ok(b) => b,
            Err(e) => {
                return out.parse_error(VENUE, Some(instrument), format!("polled order book: {e}"));
            }
        };
        let market = Market::of_instrument(&instrument);
        let native = native_symbol(&instrument);
        let mut sides = [Vec::new(), Vec::new()];
        for (side, levels) in sides.iter_mut().zip([&book.bids, &book.asks]) {
            for l in levels {
                let Some((p, s)) =
                    level_text(l).and_then(|(p, s)| Some((decimal(&p)?, decimal(&s)?)))
                else {
                    return out.parse_error(
                        VENUE,
                        Some(instrument),
                        "polled order book: bad level",
                    );
                };
                let Some(size) = self.to_base(market, &native, s) else {
                    return; // a contract before its size is known
                };
                side.push(Level::new(p, size));
            }
        }
        let [bids, asks] = sides;
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo {
                first: None,
                last: book.id,
            },
            exchange_ts: super::wire::rest_time(book.current),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
