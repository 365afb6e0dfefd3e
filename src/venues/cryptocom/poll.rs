//! The REST fallback: `GET /exchange/v1/public/get-book?instrument_name=..
//! &depth=50` (50 is the most it serves). Public market-data requests are
//! limited to 100 a second per method; one every 200 ms stays far inside.

use std::time::Duration;

use super::wire::{RestAnswer, RestBook};
use super::{CryptoCom, DEPTH, VENUE, native_symbol};
use crate::model::{Instrument, Micros, SeqInfo};
use crate::venues::lifecycle::Update;
use crate::venues::parse::ms_to_micros;
use crate::venues::{DepthPoll, Output};

impl CryptoCom {
    pub(super) fn poll_request(&self, instrument: &Instrument) -> DepthPoll {
        DepthPoll {
            url: format!(
                "{}/exchange/v1/public/get-book?instrument_name={}&depth={DEPTH}",
                self.rest_url,
                native_symbol(instrument)
            ),
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
        let answer: RestAnswer<RestBook> = match serde_json::from_str(body) {
            Ok(a) => a,
            Err(e) => {
                return out.parse_error(VENUE, Some(instrument), format!("polled book: {e}"));
            }
        };
        let book = match answer.result {
            Some(r) if answer.code.unwrap_or(0) == 0 => r.data.into_iter().next(),
            _ => {
                let why = format!("{:?}: {}", answer.code, answer.message.unwrap_or_default());
                return out.unknown(VENUE, Some(instrument), format!("polled book error {why}"));
            }
        };
        let Some(book) = book else {
            return out.parse_error(VENUE, Some(instrument), "polled book without data");
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
            seq: SeqInfo::default(),
            exchange_ts: book.t.and_then(ms_to_micros),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
