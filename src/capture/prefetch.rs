//! Reading a capture on its own thread, ahead of the replay.
//!
//! Decompressing a record and unescaping the frame held in its `data`
//! string is a third or more of a replay's work, and none of it depends on
//! the adapters or the engine. A [`Prefetch`] does it on a reader thread,
//! in batches over a bounded channel, so on a machine with a second core
//! the replay loop only parses frames and applies them. Records come out in
//! file order, exactly as [`CaptureReader::next_record`] gives them, and an
//! error ends the stream at the record it happened on.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{CaptureError, CaptureReader, Header, Record};

/// Records per batch: enough that the channel is not the cost, few enough
/// that the first batch is ready at once.
const BATCH: usize = 256;
/// Batches read ahead (bounds memory at about `BATCH * AHEAD` records).
const AHEAD: usize = 8;

type Batch = Result<Vec<Record>, CaptureError>;

/// A capture read ahead on a thread; [`Prefetch::next_record`] as on the
/// reader itself.
pub struct Prefetch {
    header: Header,
    path: String,
    rx: Receiver<Batch>,
    batch: std::vec::IntoIter<Record>,
    /// The thread has said everything it will (end of file or an error).
    done: bool,
}

impl Prefetch {
    /// Moves `reader` to a thread of its own that reads ahead of the caller.
    pub fn spawn(reader: CaptureReader) -> std::io::Result<Prefetch> {
        let header = reader.header().clone();
        let path = reader.path().to_string();
        let (tx, rx) = sync_channel(AHEAD);
        std::thread::Builder::new()
            .name("capture-reader".into())
            .spawn(move || read_ahead(reader, tx))?;
        Ok(Prefetch {
            header,
            path,
            rx,
            batch: Vec::new().into_iter(),
            done: false,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record>, CaptureError> {
        loop {
            if let Some(r) = self.batch.next() {
                return Ok(Some(r));
            }
            if self.done {
                return Ok(None);
            }
            match self.rx.recv() {
                Ok(Ok(batch)) => self.batch = batch.into_iter(),
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread ended after its last batch.
                Err(_) => self.done = true,
            }
        }
    }
}

/// The reader thread: batches until the end of the file, an error, or the
/// replay hanging up (dropped early).
fn read_ahead(mut reader: CaptureReader, tx: SyncSender<Batch>) {
    loop {
        let mut batch = Vec::with_capacity(BATCH);
        let mut end = false;
        while batch.len() < BATCH {
            match reader.next_record() {
                Ok(Some(r)) => batch.push(r),
                Ok(None) => {
                    end = true;
                    break;
                }
                Err(e) => {
                    // What was read before the error comes first.
                    if !batch.is_empty() && tx.send(Ok(batch)).is_err() {
                        return;
                    }
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
        if !batch.is_empty() && tx.send(Ok(batch)).is_err() {
            return;
        }
        if end {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::capture::test_reader as reader;

    fn capture(records: usize) -> String {
        let mut text = String::from(
            "{\"t\":\"header\",\"format\":2,\"exchange\":\"BYBIT\",\"config\":{}}\n\
             {\"t\":\"connect\",\"conn\":\"B.ws.1\",\"ts\":1.0,\"addr\":\"wss://x/spot\"}\n",
        );
        for i in 0..records {
            text.push_str(&format!(
                "{{\"t\":\"recv\",\"conn\":\"B.ws.1\",\"ts\":{}.5,\"data\":\"{{\\\"n\\\":{i}}}\"}}\n",
                i + 1
            ));
        }
        text
    }

    #[test]
    fn gives_the_records_of_the_reader_in_order() {
        // More than a few batches, and not a multiple of one.
        let text = capture(BATCH * 3 + 17);
        let direct: Vec<Record> = reader(&text).map(|r| r.unwrap()).collect();
        let mut ahead = Prefetch::spawn(reader(&text)).unwrap();
        assert_eq!(ahead.header().exchange, "BYBIT");
        let mut got = Vec::new();
        while let Some(r) = ahead.next_record().unwrap() {
            got.push(r);
        }
        assert_eq!(got, direct);
        assert!(ahead.next_record().unwrap().is_none());
    }

    #[test]
    fn an_error_comes_after_the_records_before_it() {
        let mut text = capture(5);
        text.push_str("{not json\n");
        text.push_str(capture(1).lines().last().unwrap());
        let mut ahead = Prefetch::spawn(reader(&text)).unwrap();
        // The connect and five frames, then the bad line (line 8).
        for _ in 0..6 {
            assert!(ahead.next_record().unwrap().is_some());
        }
        let e = ahead.next_record().unwrap_err();
        assert!(e.to_string().contains("line 8"), "{e}");
        assert!(ahead.next_record().unwrap().is_none());
    }
}
