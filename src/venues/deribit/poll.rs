//! The REST fallback for Deribit: `GET /api/v2/public/get_order_book`
//! (`depth` up to 10 000; we ask for 1 000). Public requests are limited by
//! credits (about 20 non-matching requests a second), so one every 250 ms
//! stays well inside.

use std::time::Duration;

use super::wire::{OrderBook, RestAnswer};
use super::{Deribit, VENUE, native_symbol};
use crate::model::{Instrument, Micros, SeqInfo};
use crate::venues::lifecycle::Update;
use crate::venues::parse::ms_to_micros;
use crate::venues::{DepthPoll, Output};

const DEPTH: usize = 1000;

impl Deribit {
    pub(super) fn poll_request(&self, instrument: &Instrument) -> DepthPoll {
        DepthPoll {
            url: format!(
                "{}/api/v2/public/get_order_book?instrument_name={}&depth={DEPTH}",
                self.rest_url,
                native_symbol(instrument)
            ),
            post: None,
            every: Duration::from_millis(250),
        }
    }

    pub(super) fn polled(
        &mut self,
        instrument: Instrument,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let answer: RestAnswer<OrderBook> = match serde_json::from_str(body) {
            Ok(a) => a,
            Err(e) => {
                return out.parse_error(VENUE, Some(instrument), format!("polled book: {e}"));
            }
        };
        let Some(book) = answer.result else {
            let why = answer
                .error
                .map(|e| format!("{}: {}", e.code, e.message))
                .unwrap_or_default();
            return out.unknown(VENUE, Some(instrument), format!("polled book error {why}"));
        };
        let native = native_symbol(&instrument);
        let sides = self
            .side(&native, &book.bids)
            .and_then(|bids| Ok((bids, self.side(&native, &book.asks)?)));
        let (bids, asks) = match sides {
            Ok(s) => s,
            Err(why) => return out.parse_error(VENUE, Some(instrument), format!("polled {why}")),
        };
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo {
                first: None,
                last: book.change_id,
            },
            exchange_ts: book.timestamp.and_then(ms_to_micros),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
