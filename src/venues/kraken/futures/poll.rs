//! The REST fallback for Kraken Futures: `GET /derivatives/api/v3/orderbook`
//! (the whole book; Kraken publishes no public limit for it, so one a
//! second, as for spot).

use std::time::Duration;

use super::wire::{OrderBookAnswer, num};
use super::{Kraken, VENUE, parse_product, product_id};
use crate::model::{Instrument, Level, Micros, SeqInfo};
use crate::venues::lifecycle::Update;
use crate::venues::{DepthPoll, Output};

impl Kraken {
    pub(in crate::venues::kraken) fn futures_poll_request(
        &self,
        instrument: &Instrument,
    ) -> Option<DepthPoll> {
        Some(DepthPoll {
            url: format!(
                "{}/derivatives/api/v3/orderbook?symbol={}",
                self.fut.rest_url,
                product_id(instrument)?
            ),
            post: None,
            every: Duration::from_secs(1),
        })
    }

    pub(in crate::venues::kraken) fn futures_polled(
        &mut self,
        instrument: Instrument,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let resp: OrderBookAnswer = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => {
                return out.parse_error(VENUE, Some(instrument), format!("polled orderbook: {e}"));
            }
        };
        let Some(book) = resp
            .order_book
            .filter(|_| resp.result.as_deref() == Some("success"))
        else {
            let why = format!("polled orderbook: {}", resp.error.unwrap_or_default());
            return out.unknown(VENUE, Some(instrument), why);
        };
        let Some(product) = product_id(&instrument) else {
            return;
        };
        let inverse = parse_product(&product).is_some_and(|(_, inv)| inv);
        let side = |levels: &[Vec<&serde_json::value::RawValue>]| -> Option<Vec<Level>> {
            levels
                .iter()
                .map(|l| {
                    let (p, q) = (num(l.first().copied())?, num(l.get(1).copied())?);
                    Some(Level::new(p, self.futures_base(&product, inverse, q, p)?))
                })
                .collect()
        };
        let (Some(bids), Some(asks)) = (side(&book.bids), side(&book.asks)) else {
            // A bad level, or a PI book before its contract size.
            return out.unknown(VENUE, Some(instrument), "polled orderbook not convertible");
        };
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
