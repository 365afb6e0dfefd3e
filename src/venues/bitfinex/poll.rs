//! The REST fallback for Bitfinex: `GET /v2/book/{SYMBOL}/P0?len=100`
//! ("rest-public-book"), `[[PRICE, COUNT, AMOUNT], …]` with bids (AMOUNT >
//! 0) first and asks (AMOUNT < 0) after. Bitfinex limits public REST
//! endpoints to between 10 and 90 requests a minute each (90 for the book,
//! per third-party clients): one poll a second stays under it.

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::wire::{decimal_at, elements};
use super::{Bitfinex, SPEC, VENUE, native_symbol};
use crate::model::{Instrument, Level, Micros, SeqInfo};
use crate::venues::lifecycle::Update;
use crate::venues::{DepthPoll, Output};

pub(super) const POLL_EVERY: Duration = Duration::from_secs(1);

impl Bitfinex {
    pub(super) fn poll_request(&self, instrument: &Instrument) -> DepthPoll {
        DepthPoll {
            url: format!(
                "{}/v2/book/{}/P0?len=100",
                self.cfg.endpoint(&SPEC, "rest"),
                native_symbol(instrument)
            ),
            post: None,
            every: POLL_EVERY,
        }
    }

    pub(super) fn polled(
        &mut self,
        instrument: Instrument,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let rows: Vec<&RawValue> = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => {
                let why = format!("polled book: {e}");
                return out.parse_error(VENUE, Some(instrument), why);
            }
        };
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        for raw in rows {
            let cells = elements(raw).unwrap_or_default();
            let (Some(price), Some(amount)) = (decimal_at(&cells, 0), decimal_at(&cells, 2)) else {
                // `["error", 10020, "len: invalid"]` and the like.
                let why = format!("polled book: {}", crate::venues::parse::preview(body));
                return out.unknown(VENUE, Some(instrument), why);
            };
            if amount > Decimal::ZERO {
                bids.push(Level::new(price, amount));
            } else if amount < Decimal::ZERO {
                asks.push(Level::new(price, amount.abs()));
            }
        }
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: None,
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
