//! The REST fallback for Kraken spot: `GET /0/public/Depth` (public calls:
//! about one a second).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Kraken, v1_symbol};
use crate::model::{Instrument, Level, Micros, SeqInfo};
use crate::venues::checksum::raw_text;
use crate::venues::lifecycle::Update;
use crate::venues::parse::decimal;
use crate::venues::{DepthPoll, Output};

#[derive(Deserialize)]
struct DepthResponse<'a> {
    #[serde(default)]
    error: Vec<String>,
    #[serde(borrow, default)]
    result: BTreeMap<String, DepthBook<'a>>,
}

#[derive(Deserialize)]
struct DepthBook<'a> {
    #[serde(borrow, default)]
    bids: Vec<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    asks: Vec<Vec<&'a RawValue>>,
}

impl Kraken {
    pub(super) fn poll_request(&self, instrument: &Instrument) -> DepthPoll {
        DepthPoll {
            url: format!(
                "{}/0/public/Depth?pair={}&count=100",
                self.rest_url,
                v1_symbol(instrument).replace('/', "")
            ),
            post: None,
            every: Duration::from_secs(1),
        }
    }

    pub(super) fn polled(
        &mut self,
        instrument: Instrument,
        body: &str,
        received: Micros,
        out: &mut Output,
    ) {
        let resp: DepthResponse = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => {
                return out.parse_error(
                    super::VENUE,
                    Some(instrument),
                    format!("polled Depth: {e}"),
                );
            }
        };
        let Some(book) = resp
            .result
            .into_values()
            .next()
            .filter(|_| resp.error.is_empty())
        else {
            let why = format!("polled Depth: {}", resp.error.join("; "));
            return out.unknown(super::VENUE, Some(instrument), why);
        };
        let side = |levels: &[Vec<&RawValue>]| -> Option<Vec<Level>> {
            levels
                .iter()
                .map(|l| {
                    Some(Level::new(
                        decimal(raw_text(l.first()?))?,
                        decimal(raw_text(l.get(1)?))?,
                    ))
                })
                .collect()
        };
        let (Some(bids), Some(asks)) = (side(&book.bids), side(&book.asks)) else {
            return out.parse_error(super::VENUE, Some(instrument), "polled Depth: bad level");
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
