//! The REST fallback for OKX: `GET /api/v5/market/books` (400 levels at
//! most; 40 requests per 2 s per IP). SWAP sizes are contracts, converted
//! with the contract value from the instrument list.

use std::time::Duration;

use serde::Deserialize;

use super::wire::BookData;
use super::{Okx, native_symbol};
use crate::model::{Instrument, Level, Micros, SeqInfo};
use crate::venues::checksum::raw_text;
use crate::venues::lifecycle::Update;
use crate::venues::parse::decimal;
use crate::venues::{DepthPoll, Output};

#[derive(Deserialize)]
struct BooksResponse<'a> {
    #[serde(default)]
    code: String,
    #[serde(default)]
    msg: String,
    #[serde(borrow, default)]
    data: Vec<BookData<'a>>,
}

impl Okx {
    pub(super) fn poll_request(&self, instrument: &Instrument) -> DepthPoll {
        DepthPoll {
            url: format!(
                "{}/api/v5/market/books?instId={}&sz=100",
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
        let resp: BooksResponse = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => {
                return out.parse_error(
                    super::VENUE,
                    Some(instrument),
                    format!("polled books: {e}"),
                );
            }
        };
        let Some(book) = resp.data.into_iter().next().filter(|_| resp.code == "0") else {
            let why = format!("polled books: code {} {}", resp.code, resp.msg);
            return out.unknown(super::VENUE, Some(instrument), why);
        };
        let inst_id = native_symbol(&instrument);
        let mut sides = [Vec::new(), Vec::new()];
        for (side, levels) in sides.iter_mut().zip([&book.bids, &book.asks]) {
            for l in levels {
                let (Some(p), Some(s)) = (
                    l.first().map(|v| raw_text(v)).and_then(decimal),
                    l.get(1).map(|v| raw_text(v)).and_then(decimal),
                ) else {
                    return out.parse_error(
                        super::VENUE,
                        Some(instrument),
                        "polled books: bad level",
                    );
                };
                let Some(size) = self.to_base(&inst_id, &instrument, s, p) else {
                    // A swap before its contract value is known.
                    return;
                };
                side.push(Level::new(p, size));
            }
        }
        let [bids, asks] = sides;
        let u = Update {
            instrument,
            bids,
            asks,
            seq: SeqInfo::default(),
            exchange_ts: super::wire::ms_to_micros(book.ts),
            received,
        };
        let _ = self.lc.polled(u, out);
    }
}
