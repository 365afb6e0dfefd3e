//! Replay: plays capture files through the same adapters as live feeds and
//! turns them into engine inputs in time order (several files merged, each
//! optionally shifted to a common start).

use std::path::PathBuf;

use anyhow::bail;

use crate::capture::{CaptureReader, Frame, Prefetch, Record};
use crate::engine::EngineInput;
use crate::engine::snapshot::ConnState;
use crate::model::{Instrument, MarketEvent, Micros, Venue};
use crate::venues::{self, Adapter, AdapterConfig, Output, guard};

/// How fast to replay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// As fast as possible.
    Max,
    /// Real time multiplied by this factor.
    Factor(f64),
}

impl std::str::FromStr for Speed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        match s.trim_end_matches('x').parse::<f64>() {
            Ok(f) if f > 0.0 && f.is_finite() => Ok(Speed::Factor(f)),
            _ => Err(format!(
                "`{s}` is not a speed: use a positive number (1, 10, 0.5) or `max`"
            )),
        }
    }
}

impl std::fmt::Display for Speed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Speed::Max => f.write_str("max"),
            Speed::Factor(x) => write!(f, "{x}x"),
        }
    }
}

struct Source {
    /// Read ahead on its own thread (decompression and the record's JSON
    /// are off the replay loop).
    reader: Prefetch,
    adapter: Box<dyn Adapter>,
    venue: Venue,
    /// Added to every timestamp of this file.
    offset: Micros,
    next: Option<Record>,
    conns_seen: std::collections::HashSet<String>,
}

/// Counters the headless summary reports that only the replay knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayCounts {
    /// WebSocket frames replayed (`recv` records).
    pub frames: u64,
    /// REST bodies replayed (`http` records).
    pub http_bodies: u64,
}

pub struct Replayer {
    sources: Vec<Source>,
    out: Output,
    pub counts: ReplayCounts,
    start: Micros,
}

impl Replayer {
    /// Open every file; with `align_start`, each file is shifted so its first
    /// record lands on the earliest file's start.
    pub fn open(files: &[PathBuf], align_start: bool) -> anyhow::Result<Self> {
        if files.is_empty() {
            bail!("no capture files given");
        }
        let mut sources = Vec::new();
        for reader in files
            .iter()
            .map(|path| CaptureReader::open_all(path))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
        {
            let mut reader = Prefetch::spawn(reader)?;
            let exchange = reader.header().exchange.clone();
            let Some(venue) = venues::registry::venue_for_capture(&exchange) else {
                bail!(
                    "{}: exchange `{exchange}` is not supported (supported: {})",
                    reader.path(),
                    venues::registry::capture_names().join(", ")
                );
            };
            let instruments = header_instruments(reader.header());
            let cfg = AdapterConfig {
                instruments,
                ..AdapterConfig::default()
            };
            let adapter = venues::registry::build(venue, cfg);
            let next = reader.next_record()?;
            sources.push(Source {
                reader,
                adapter,
                venue,
                offset: 0,
                next,
                conns_seen: Default::default(),
            });
        }
        let firsts: Vec<Micros> = sources
            .iter()
            .filter_map(|s| s.next.as_ref().map(Record::ts))
            .collect();
        let start = firsts.iter().copied().min().unwrap_or(0);
        if align_start {
            for s in &mut sources {
                if let Some(r) = &s.next {
                    s.offset = start.saturating_sub(r.ts());
                }
            }
        }
        Ok(Replayer {
            sources,
            out: Output::default(),
            counts: ReplayCounts::default(),
            start,
        })
    }

    /// Capture time of the first record (after alignment).
    pub fn start(&self) -> Micros {
        self.start
    }

    /// Timestamp of the next record, if any.
    pub fn peek_ts(&self) -> Option<Micros> {
        self.sources
            .iter()
            .filter_map(|s| s.next.as_ref().map(|r| shifted(r.ts(), s.offset)))
            .min()
    }

    /// Process the next record (earliest across files) and return its time
    /// and the engine inputs it produced.
    pub fn next_inputs(&mut self) -> anyhow::Result<Option<(Micros, Vec<EngineInput>)>> {
        let Some(idx) = self
            .sources
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.next.as_ref().map(|r| (shifted(r.ts(), s.offset), i)))
            .min()
            .map(|(_, i)| i)
        else {
            return Ok(None);
        };
        let src = &mut self.sources[idx];
        let Some(record) = src.next.take() else {
            return Ok(None);
        };
        src.next = src.reader.next_record()?;
        let ts = shifted(record.ts(), src.offset);
        let venue = src.venue;
        let mut inputs = Vec::new();
        let out = &mut self.out;
        out.clear();
        // A panic inside the adapter is caught (`guard`): the venue's books
        // go out of sync and a fresh adapter takes the rest of the file.
        let mut panicked: Option<String> = None;
        match record {
            Record::Connect { conn, addr, .. } => {
                if !src.conns_seen.insert(conn.clone()) {
                    // A second connect on the same name: a reconnect.
                    inputs.push(EngineInput::Conn {
                        venue,
                        conn: conn.clone(),
                        state: ConnState::Connected,
                        at: ts,
                    });
                }
                inputs.push(EngineInput::Conn {
                    venue,
                    conn,
                    state: ConnState::Replay,
                    at: ts,
                });
                panicked =
                    guard::call(&mut src.adapter, out, |a, out| a.on_open(&addr, ts, out)).err();
            }
            Record::Send { .. } => {}
            Record::Http {
                url, body, conn, ..
            } => {
                self.counts.http_bodies += 1;
                panicked = guard::call(&mut src.adapter, out, |a, out| {
                    a.on_http(&url, &body, ts, out)
                })
                .err();
                if !out.events.is_empty() {
                    inputs.push(EngineInput::Feed {
                        venue,
                        conn,
                        received: ts,
                        bytes: 0,
                        events: std::mem::take(&mut out.events),
                    });
                }
            }
            Record::Recv {
                conn, addr, frame, ..
            } => {
                self.counts.frames += 1;
                let bytes = frame.len();
                panicked = guard::call(&mut src.adapter, out, |a, out| match &frame {
                    Frame::Text(t) => a.on_text(&addr, t, ts, out),
                    Frame::Binary(b) => a.on_binary(&addr, b, ts, out),
                })
                .err();
                inputs.push(EngineInput::Feed {
                    venue,
                    conn,
                    received: ts,
                    bytes,
                    events: std::mem::take(&mut out.events),
                });
            }
        }
        if let Some(why) = panicked {
            inputs.push(EngineInput::VenueReset {
                venue,
                reason: "adapter restarted after an internal error".to_string(),
            });
            guard::restart(&mut src.adapter, &why, out);
            inputs.push(EngineInput::Feed {
                venue,
                conn: crate::engine::REST_CONN.to_string(),
                received: ts,
                bytes: 0,
                events: std::mem::take(&mut out.events),
            });
        }
        if src.offset != 0 {
            for input in &mut inputs {
                if let EngineInput::Feed { events, .. } = input {
                    shift_exchange_times(events, src.offset);
                }
            }
        }
        // Replay cannot send, fetch or reconnect: the capture already holds
        // what happened. Actions are dropped.
        out.actions.clear();
        Ok(Some((ts, inputs)))
    }
}

/// A capture time moved by a file's `--align-start` offset. Capture files are
/// input like any other: a corrupt or hostile time near `i64::MIN`/`MAX`
/// saturates at the end of the range instead of wrapping (a wrapped time
/// would reorder the merge of files and jump the engine clock).
fn shifted(ts: Micros, offset: Micros) -> Micros {
    ts.saturating_add(offset)
}

/// Move exchange timestamps with `--align-start`, so latency stays the
/// recorded latency instead of the distance between recording dates.
fn shift_exchange_times(events: &mut [MarketEvent], offset: Micros) {
    for e in events {
        let ts = match e {
            MarketEvent::Book(u) => &mut u.exchange_ts,
            MarketEvent::Trade(t) => &mut t.exchange_ts,
            MarketEvent::Liquidation(l) => &mut l.exchange_ts,
            MarketEvent::Funding(f) => &mut f.exchange_ts,
            _ => continue,
        };
        if let Some(t) = ts {
            *t = shifted(*t, offset);
        }
    }
}

/// Instruments named in a capture header's feed lists.
fn header_instruments(h: &crate::capture::Header) -> Vec<Instrument> {
    let mut all: Vec<Instrument> = h
        .config
        .values()
        .flatten()
        .filter_map(|s| s.parse().ok())
        .collect();
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TakerSide, Trade};
    use rust_decimal::Decimal;

    #[test]
    fn offsets_saturate_at_the_ends_of_the_range() {
        assert_eq!(shifted(10, -3), 7);
        assert_eq!(shifted(i64::MAX, 1), i64::MAX);
        assert_eq!(shifted(i64::MIN, -1), i64::MIN);
        assert_eq!(shifted(i64::MIN, i64::MAX), -1);
        // An alignment offset between absurd first times saturates too.
        assert_eq!(i64::MIN.saturating_sub(i64::MAX), i64::MIN);

        let trade = |ts| {
            MarketEvent::Trade(Trade {
                venue: crate::venue!("okx"),
                instrument: "BTC-USDT".parse().unwrap(),
                price: Decimal::ONE,
                size: Decimal::ONE,
                side: TakerSide::Buy,
                exchange_ts: ts,
                received: 0,
            })
        };
        let mut events = vec![trade(Some(i64::MAX)), trade(Some(i64::MIN)), trade(None)];
        shift_exchange_times(&mut events, i64::MAX);
        shift_exchange_times(&mut events, i64::MIN);
        let times: Vec<Option<Micros>> = events
            .iter()
            .map(|e| match e {
                MarketEvent::Trade(t) => t.exchange_ts,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(times, [Some(-1), Some(i64::MIN), None]);
    }
}
