//! The REST fallback: `GET /market/depth?symbol=…&type=step0` (spot),
//! `/linear-swap-ex/market/depth?contract_code=…&type=step0` (USDT-M) and
//! `/swap-ex/market/depth?…` (coin-M), 150 levels a side. HTX publishes 800
//! market-data requests a second per IP for swaps and about 10 a second
//! for spot (unverified); one book every 200 ms stays well inside both.

use std::time::Duration;

use super::wire::{BookTick, Levels, RestBody};
use super::{Htx, Market, VENUE, native_symbol};
use crate::model::{Instrument, Level, Micros, SeqInfo};
use crate::venues::lifecycle::Update;
use crate::venues::parse::ms_to_micros;
use crate::venues::{DepthPoll, Output};

const POLL_EVERY: Duration = Duration::from_millis(200);

impl Htx {
    pub(super) fn poll_request(&self, i: &Instrument) -> DepthPoll {
        let sym = native_symbol(i);
        let url = match Market::of(i) {
            Market::Spot => format!("{}/market/depth?symbol={sym}&type=step0", self.ep.spot_rest),
            Market::Linear => format!(
                "{}/linear-swap-ex/market/depth?contract_code={sym}&type=step0",
                self.ep.swap_rest
            ),
            Market::Inverse => format!(
                "{}/swap-ex/market/depth?contract_code={sym}&type=step0",
                self.ep.swap_rest
            ),
        };
        DepthPoll {
            url,
            post: None,
            every: POLL_EVERY,
        }
    }

    pub(super) fn polled(&mut self, i: Instrument, body: &str, received: Micros, out: &mut Output) {
        let b: RestBody = match serde_json::from_str(body) {
            Ok(b) => b,
            Err(e) => return out.parse_error(VENUE, Some(i), format!("polled depth: {e}")),
        };
        if let Some(why) = b.refused() {
            return out.unknown(VENUE, Some(i), format!("polled depth refused: {why}"));
        }
        let tick: Option<BookTick> = b.tick.and_then(|t| serde_json::from_str(t.get()).ok());
        let Some(BookTick {
            bids: Some(Levels(bids)),
            asks: Some(Levels(asks)),
            ts,
            ..
        }) = tick
        else {
            return out.parse_error(VENUE, Some(i), "polled depth without a book");
        };
        let convert = |levels: Vec<Level>| -> Option<Vec<Level>> {
            levels
                .into_iter()
                .map(|l| Some(Level::new(l.price, self.to_base(&i, l.size, l.price)?)))
                .collect()
        };
        let (Some(bids), Some(asks)) = (convert(bids), convert(asks)) else {
            // A swap before its contract size is known.
            return;
        };
        let u = Update {
            instrument: i,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: ts.or(b.ts).and_then(ms_to_micros),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
