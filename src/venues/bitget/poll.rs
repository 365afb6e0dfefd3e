//! The REST fallback: `GET /api/v2/spot/market/orderbook` (`type=step0`,
//! up to 150 levels) and `GET /api/v2/mix/market/merge-depth`
//! (`precision=scale0`, `limit=max`); both 20 requests/s per IP. Spot sends
//! levels as strings, merge-depth as JSON numbers: both are read.

use std::time::Duration;

use super::wire::{Rest, RestBook, level_text, ms};
use super::{Bitget, VENUE, native_symbol};
use crate::model::{Instrument, Level, Micros, SeqInfo};
use crate::venues::lifecycle::Update;
use crate::venues::parse::decimal;
use crate::venues::{DepthPoll, Output};

impl Bitget {
    pub(super) fn poll_request(&self, instrument: &Instrument) -> DepthPoll {
        let sym = native_symbol(instrument);
        let url = if instrument.is_perp() {
            format!(
                "{}/api/v2/mix/market/merge-depth?symbol={sym}&productType=USDT-FUTURES&precision=scale0&limit=max",
                self.rest_url
            )
        } else {
            format!(
                "{}/api/v2/spot/market/orderbook?symbol={sym}&type=step0&limit=150",
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
        let rest: Rest = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => {
                return out.parse_error(VENUE, Some(instrument), format!("polled depth: {e}"));
            }
        };
        let Some(data) = rest.data.filter(|_| rest.ok()) else {
            let why = format!("polled depth: code {:?} {:?}", rest.code, rest.msg);
            return out.unknown(VENUE, Some(instrument), why);
        };
        let book: RestBook = match serde_json::from_str(data.get()) {
            Ok(b) => b,
            Err(e) => {
                return out.parse_error(VENUE, Some(instrument), format!("polled depth: {e}"));
            }
        };
        let mut sides = [Vec::new(), Vec::new()];
        for (side, levels) in sides.iter_mut().zip([&book.bids, &book.asks]) {
            for l in levels {
                let parsed = level_text(l).and_then(|(p, s)| Some((decimal(p)?, decimal(s)?)));
                let Some((p, s)) = parsed else {
                    return out.parse_error(VENUE, Some(instrument), "polled depth: bad level");
                };
                side.push(Level::new(p, s));
            }
        }
        let [bids, asks] = sides;
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: ms(book.ts),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
