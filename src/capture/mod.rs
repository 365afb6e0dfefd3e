//! Capture format 2 (see `../shared/captures/README.md`): zstd-compressed (or
//! plain) JSON Lines; a header, then `http`, `connect`, `send` and `recv`
//! records in time order. The reader resolves each record's connection to the
//! address it was opened with, so adapters can tell spot from linear streams.

mod prefetch;
mod unescape;
mod writer;

pub use prefetch::Prefetch;
pub use writer::{CaptureWriter, write_bundle};

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::Micros;

#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub format: u32,
    pub exchange: String,
    /// Feed name → symbols, in depthwatch (cryptofeed) naming.
    pub config: BTreeMap<String, Vec<String>>,
    pub recorded: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

impl Frame {
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(s) => s.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Http {
        conn: String,
        ts: Micros,
        url: String,
        body: String,
    },
    Connect {
        conn: String,
        ts: Micros,
        addr: String,
    },
    Send {
        conn: String,
        ts: Micros,
        addr: String,
        data: String,
    },
    Recv {
        conn: String,
        ts: Micros,
        /// Address the connection was opened with (from its `connect` record).
        addr: String,
        frame: Frame,
    },
}

impl Record {
    pub fn ts(&self) -> Micros {
        match self {
            Record::Http { ts, .. }
            | Record::Connect { ts, .. }
            | Record::Send { ts, .. }
            | Record::Recv { ts, .. } => *ts,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {msg}")]
    Format {
        path: String,
        line: usize,
        msg: String,
    },
}

/// A record as written; strings borrow from the line where they can, and
/// `data` is left as its JSON text to be unescaped once
/// ([`unescape::json_string`]).
#[derive(Deserialize)]
struct RawRecord<'a> {
    #[serde(borrow)]
    t: Cow<'a, str>,
    #[serde(default, borrow)]
    conn: Option<Cow<'a, str>>,
    #[serde(default)]
    ts: Option<f64>,
    #[serde(default, borrow)]
    url: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    addr: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default, borrow)]
    b64: Option<Cow<'a, str>>,
    #[serde(default)]
    format: Option<u32>,
    #[serde(default)]
    exchange: Option<String>,
    #[serde(default)]
    config: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    recorded: Option<f64>,
}

/// Seconds (float) to microseconds.
pub fn secs_to_micros(ts: f64) -> Micros {
    (ts * 1_000_000.0).round() as Micros
}

/// The exchange name of a bundle's first header: the captures of several
/// exchanges in one file (`assets/demo.jsonl.zst`), each a whole capture
/// (its own header, then its records) after that line. `replay` plays them
/// as if each were its own file.
pub const BUNDLE: &str = "BUNDLE";

/// Byte ranges of the captures inside a bundle's text (after its first
/// line): each starts at a header line. Inside a record's JSON strings the
/// quotes are escaped, so `"header"` with bare quotes only appears as a
/// record type.
fn bundle_sections(text: &str) -> Vec<(usize, usize)> {
    let mut starts = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.contains("\"header\"")
            && serde_json::from_str::<RawRecord>(line).is_ok_and(|r| r.t == "header")
        {
            starts.push(at);
        }
        at += line.len();
    }
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    starts.iter().copied().zip(ends).collect()
}

/// A streaming reader over one capture file.
pub struct CaptureReader {
    path: String,
    lines: Box<dyn BufRead + Send>,
    line_no: usize,
    buf: String,
    header: Header,
    addrs: HashMap<String, String>,
}

impl CaptureReader {
    /// Open a `.jsonl.zst` (by magic bytes, whatever the name) or plain file.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let shown = path.display().to_string();
        let io = |source| CaptureError::Io {
            path: shown.clone(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic).map_err(io)?;
        let file = File::open(path).map_err(io)?;
        let lines: Box<dyn BufRead + Send> = if n == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
            Box::new(BufReader::new(zstd::Decoder::new(file).map_err(io)?))
        } else {
            Box::new(BufReader::new(file))
        };
        Self::from_reader(shown, lines)
    }

    /// Open a capture file, or each capture inside a bundle (see
    /// [`BUNDLE`]), in file order. A plain capture streams from disk; a
    /// bundle is read into memory and split at its headers.
    pub fn open_all(path: &Path) -> Result<Vec<Self>, CaptureError> {
        let mut first = Self::open(path)?;
        if first.header.exchange != BUNDLE {
            return Ok(vec![first]);
        }
        let mut text = String::new();
        first
            .lines
            .read_to_string(&mut text)
            .map_err(|source| CaptureError::Io {
                path: first.path.clone(),
                source,
            })?;
        let mut readers = Vec::new();
        let mut section = 0;
        for (start, end) in bundle_sections(&text) {
            section += 1;
            let shown = format!("{} (capture {section} of the bundle)", first.path);
            let bytes = text.as_bytes()[start..end].to_vec();
            let lines: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(bytes));
            readers.push(Self::from_reader(shown, lines)?);
        }
        if readers.is_empty() {
            return Err(first.err("a bundle holds no captures"));
        }
        Ok(readers)
    }

    pub fn from_reader(path: String, lines: Box<dyn BufRead + Send>) -> Result<Self, CaptureError> {
        let mut r = CaptureReader {
            path,
            lines,
            line_no: 0,
            buf: String::new(),
            header: Header {
                format: 0,
                exchange: String::new(),
                config: BTreeMap::new(),
                recorded: None,
            },
            addrs: HashMap::new(),
        };
        if !r.next_line()? {
            return Err(r.err("empty file, expected a header"));
        }
        let first: RawRecord = serde_json::from_str(&r.buf).map_err(|e| r.err(&e.to_string()))?;
        if first.t != "header" {
            return Err(r.err("first line is not a header"));
        }
        let format = first.format.unwrap_or(0);
        if format != 2 {
            return Err(r.err(&format!(
                "capture format {format} is not supported (expected 2)"
            )));
        }
        let header = Header {
            format,
            exchange: first.exchange.unwrap_or_default(),
            config: first.config.unwrap_or_default(),
            recorded: first.recorded,
        };
        r.header = header;
        Ok(r)
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn err(&self, msg: &str) -> CaptureError {
        CaptureError::Format {
            path: self.path.clone(),
            line: self.line_no,
            msg: msg.to_string(),
        }
    }

    /// The next line that is not blank into `buf`; false at the end.
    fn next_line(&mut self) -> Result<bool, CaptureError> {
        loop {
            self.buf.clear();
            let n = self
                .lines
                .read_line(&mut self.buf)
                .map_err(|source| CaptureError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(false);
            }
            self.line_no += 1;
            if !self.buf.trim().is_empty() {
                return Ok(true);
            }
        }
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record>, CaptureError> {
        loop {
            if !self.next_line()? {
                return Ok(None);
            }
            // The frame is taken out of the line in one pass where the
            // layout allows (see `split_data`); the rest is small.
            let (rest, mut frame_text) = match split_data(&self.buf) {
                Some((rest, data)) => (Some(rest), Some(data)),
                None => (None, None),
            };
            let line = rest.as_deref().unwrap_or(&self.buf);
            let raw: RawRecord =
                serde_json::from_str(line).map_err(|e| self.err(&e.to_string()))?;
            let conn = raw.conn.map(Cow::into_owned).unwrap_or_default();
            let ts = secs_to_micros(raw.ts.unwrap_or(0.0));
            // A frame is a JSON string; a record written by hand may hold the
            // frame's JSON as is.
            let text = |v: Option<&RawValue>| match v {
                Some(v) if v.get().starts_with('"') => {
                    unescape::json_string(v.get()).ok_or_else(|| self.err("bad escape in a string"))
                }
                Some(v) => Ok(v.get().to_string()),
                None => Ok(String::new()),
            };
            let addr_of = |addr: Option<Cow<str>>, conn: &str| match addr {
                Some(a) => a.into_owned(),
                None => self.addrs.get(conn).cloned().unwrap_or_default(),
            };
            let rec = match raw.t.as_ref() {
                "http" => Record::Http {
                    conn,
                    ts,
                    url: raw.url.map(Cow::into_owned).unwrap_or_default(),
                    body: frame_text.take().map_or_else(|| text(raw.data), Ok)?,
                },
                "connect" => {
                    let addr = raw.addr.map(Cow::into_owned).unwrap_or_default();
                    self.addrs.insert(conn.clone(), addr.clone());
                    Record::Connect { conn, ts, addr }
                }
                "send" => Record::Send {
                    addr: addr_of(raw.addr, &conn),
                    data: frame_text.take().map_or_else(|| text(raw.data), Ok)?,
                    conn,
                    ts,
                },
                "recv" => {
                    let frame = match (raw.data, raw.b64) {
                        (_, Some(b64)) => Frame::Binary(
                            base64::engine::general_purpose::STANDARD
                                .decode(b64.as_bytes())
                                .map_err(|e| self.err(&format!("bad base64 frame: {e}")))?,
                        ),
                        (data, None) => {
                            Frame::Text(frame_text.take().map_or_else(|| text(data), Ok)?)
                        }
                    };
                    Record::Recv {
                        addr: addr_of(raw.addr, &conn),
                        conn,
                        ts,
                        frame,
                    }
                }
                // Unknown record types from newer writers are skipped.
                _ => continue,
            };
            return Ok(Some(rec));
        }
    }
}

/// A record whose members before `data` are all scalars (`{"t":"recv",
/// "conn":"…","ts":1.5,"data":"…",…}`, as depthwatch and cryptofeed write
/// them) has its frame unescaped while its end is found, in one pass; the
/// record without the `data` member is returned for serde to read. Any
/// other layout is `None` and read whole by serde. With no `{` or `[`
/// before it, `,"data":"` is a member of the record itself: a quote inside
/// a string is always escaped, so the sequence cannot come from a value.
fn split_data(line: &str) -> Option<(String, String)> {
    const KEY: &str = r#","data":""#;
    let key = line.find(KEY)?;
    if !line.starts_with('{') || line[1..key].contains(['{', '[']) {
        return None;
    }
    let start = key + KEY.len();
    let (data, used) = unescape::json_string_at(&line[start..])?;
    let end = start + used;
    let mut rest = String::with_capacity(line.len() - (end - key));
    rest.push_str(&line[..key]);
    rest.push_str(&line[end..]);
    Some((rest, data))
}

impl Iterator for CaptureReader {
    type Item = Result<Record, CaptureError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Where the shared captures live relative to the crate root, for tests.
pub fn shared_captures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures")
}

/// A reader over `text`, for tests.
#[cfg(test)]
pub(crate) fn test_reader(text: &str) -> CaptureReader {
    CaptureReader::from_reader(
        "test".into(),
        Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &str) -> CaptureReader {
        test_reader(text)
    }

    #[test]
    fn reads_records_and_resolves_addresses() {
        let text = r#"{"t":"header","format":2,"exchange":"BYBIT","config":{"l2_book":["BTC-USDT"]},"recorded":1.5}
{"t":"connect","conn":"B.ws.1","ts":1.0,"addr":"wss://x/spot"}
{"t":"recv","conn":"B.ws.1","ts":1.25,"data":"{\"a\":1}"}
{"t":"recv","conn":"B.ws.1","ts":1.5,"b64":"aGk="}
{"t":"http","conn":"B.http","ts":2.0,"url":"https://x/i","data":"[]"}
"#;
        let mut r = reader(text);
        assert_eq!(r.header().exchange, "BYBIT");
        let recs: Vec<Record> = r.by_ref().map(|x| x.unwrap()).collect();
        assert_eq!(recs.len(), 4);
        assert_eq!(
            recs[1],
            Record::Recv {
                conn: "B.ws.1".into(),
                ts: 1_250_000,
                addr: "wss://x/spot".into(),
                frame: Frame::Text("{\"a\":1}".into())
            }
        );
        assert!(matches!(&recs[2], Record::Recv { frame: Frame::Binary(b), .. } if b == b"hi"));
        assert!(matches!(&recs[3], Record::Http { body, .. } if body == "[]"));
    }

    #[test]
    fn the_frame_is_the_same_whatever_the_record_layout() {
        let frame = "{\"a\":[1,\"x\\\"y\"],\"é\":\"😀\"}";
        let data = serde_json::to_string(frame).unwrap();
        let header = r#"{"t":"header","format":2,"exchange":"BYBIT","config":{}}"#;
        for line in [
            format!(r#"{{"t":"recv","conn":"c","ts":1.5,"data":{data}}}"#),
            format!(r#"{{"t":"recv","conn":"c","ts":1.5,"data":{data},"addr":"wss://x"}}"#),
            format!(r#"{{"data":{data},"t":"recv","conn":"c","ts":1.5}}"#),
            format!(r#"{{"conn":"c[1]","ts":1.5,"t":"recv","data":{data}}}"#),
            format!(r#"{{"t":"recv", "conn":"c", "ts":1.5, "data": {data} }}"#),
        ] {
            let mut r = reader(&format!("{header}\n{line}\n"));
            match r.next_record().unwrap() {
                Some(Record::Recv {
                    frame: Frame::Text(t),
                    ts,
                    ..
                }) => {
                    assert_eq!(t, frame, "{line}");
                    assert_eq!(ts, 1_500_000, "{line}");
                }
                other => panic!("{line}: {other:?}"),
            }
        }
        // A bad escape is still an error with its line.
        let mut r = reader(&format!(
            "{header}\n{}\n",
            r#"{"t":"recv","conn":"c","ts":1,"data":"\q"}"#
        ));
        let e = r.next_record().unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn rejects_other_formats_with_line() {
        let e = CaptureReader::from_reader(
            "f".into(),
            Box::new(std::io::Cursor::new(
                b"{\"t\":\"header\",\"format\":1}\n".to_vec(),
            )),
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("format 1"), "{e}");
    }
}
