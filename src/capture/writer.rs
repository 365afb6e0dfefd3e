//! Writes capture format 2, so that `depthwatch record` output replays.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use base64::Engine as _;
use serde_json::json;

use crate::model::Micros;

/// A zstd-compressed capture being written. Call [`CaptureWriter::finish`] to
/// flush the compressor; dropping it without finishing loses the tail.
pub struct CaptureWriter {
    out: zstd::Encoder<'static, BufWriter<File>>,
}

fn secs(ts: Micros) -> f64 {
    ts as f64 / 1_000_000.0
}

impl CaptureWriter {
    pub fn create(
        path: &Path,
        exchange: &str,
        config: &BTreeMap<String, Vec<String>>,
        recorded: Micros,
    ) -> std::io::Result<Self> {
        // Level 3: cheap enough to keep up with live traffic.
        Self::create_at_level(path, exchange, config, recorded, 3)
    }

    fn create_at_level(
        path: &Path,
        exchange: &str,
        config: &BTreeMap<String, Vec<String>>,
        recorded: Micros,
        level: i32,
    ) -> std::io::Result<Self> {
        let file = BufWriter::new(File::create(path)?);
        let mut w = CaptureWriter {
            out: zstd::Encoder::new(file, level)?,
        };
        w.line(&json!({"t":"header","format":2,"exchange":exchange,"config":config,"recorded":secs(recorded)}))?;
        Ok(w)
    }

    fn line(&mut self, v: &serde_json::Value) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, v)?;
        self.out.write_all(b"\n")
    }

    pub fn connect(&mut self, conn: &str, ts: Micros, addr: &str) -> std::io::Result<()> {
        self.line(&json!({"t":"connect","conn":conn,"ts":secs(ts),"addr":addr}))
    }

    pub fn send(&mut self, conn: &str, ts: Micros, addr: &str, data: &str) -> std::io::Result<()> {
        self.line(&json!({"t":"send","conn":conn,"ts":secs(ts),"addr":addr,"data":data}))
    }

    pub fn recv_text(&mut self, conn: &str, ts: Micros, data: &str) -> std::io::Result<()> {
        self.line(&json!({"t":"recv","conn":conn,"ts":secs(ts),"data":data}))
    }

    pub fn recv_binary(&mut self, conn: &str, ts: Micros, data: &[u8]) -> std::io::Result<()> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        self.line(&json!({"t":"recv","conn":conn,"ts":secs(ts),"b64":b64}))
    }

    pub fn http(&mut self, conn: &str, ts: Micros, url: &str, body: &str) -> std::io::Result<()> {
        self.line(&json!({"t":"http","conn":conn,"ts":secs(ts),"url":url,"data":body}))
    }

    pub fn finish(self) -> std::io::Result<()> {
        let mut inner = self.out.finish()?;
        inner.flush()
    }
}

/// Writes a bundle (see [`crate::capture::BUNDLE`]): the captures `parts`
/// one after another in one zstd file, behind a bundle header. Each part is a
/// capture file (zstd or plain) as `record` writes it.
pub fn write_bundle(out: &Path, parts: &[&Path], recorded: Micros) -> std::io::Result<()> {
    // Written once and kept (assets/): worth the slow, small level.
    let mut w = CaptureWriter::create_at_level(
        out,
        crate::capture::BUNDLE,
        &BTreeMap::new(),
        recorded,
        19,
    )?;
    for part in parts {
        let bytes = std::fs::read(part)?;
        let text = if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            zstd::decode_all(bytes.as_slice())?
        } else {
            bytes
        };
        w.out.write_all(&text)?;
        if !text.ends_with(b"\n") {
            w.out.write_all(b"\n")?;
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{CaptureReader, Frame, Record};

    #[test]
    fn written_capture_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("X.jsonl.zst");
        let mut cfg = BTreeMap::new();
        cfg.insert("l2_book".to_string(), vec!["BTC-USDT".to_string()]);
        let mut w = CaptureWriter::create(&path, "BYBIT", &cfg, 1_000_000).unwrap();
        w.connect("BYBIT.ws.1", 1_000_000, "wss://a").unwrap();
        w.send("BYBIT.ws.1", 1_000_001, "wss://a", "{\"op\":\"ping\"}")
            .unwrap();
        w.recv_text("BYBIT.ws.1", 1_500_000, "{}").unwrap();
        w.recv_binary("BYBIT.ws.1", 1_600_000, &[1, 2, 3]).unwrap();
        w.http("BYBIT.http", 2_000_000, "https://b", "[1]").unwrap();
        w.finish().unwrap();

        let mut r = CaptureReader::open(&path).unwrap();
        assert_eq!(r.header().config, cfg);
        let recs: Vec<Record> = r.by_ref().map(|x| x.unwrap()).collect();
        assert_eq!(recs.len(), 5);
        assert!(
            matches!(&recs[2], Record::Recv { addr, frame: Frame::Text(t), ts: 1_500_000, .. } if addr == "wss://a" && t == "{}")
        );
        assert!(
            matches!(&recs[3], Record::Recv { frame: Frame::Binary(b), .. } if b == &[1, 2, 3])
        );
    }

    #[test]
    fn a_bundle_opens_as_its_captures_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut parts = Vec::new();
        for (name, frame) in [("BYBIT", "{\"a\":\"\\\"header\\\"\"}"), ("OKX", "{}")] {
            let path = dir.path().join(format!("{name}.jsonl.zst"));
            let mut w = CaptureWriter::create(&path, name, &BTreeMap::new(), 1).unwrap();
            w.connect("c", 1_000_000, "wss://x").unwrap();
            w.recv_text("c", 1_100_000, frame).unwrap();
            w.finish().unwrap();
            parts.push(path);
        }
        let bundle = dir.path().join("demo.jsonl.zst");
        let refs: Vec<&Path> = parts.iter().map(|p| p.as_path()).collect();
        write_bundle(&bundle, &refs, 5).unwrap();

        let readers = CaptureReader::open_all(&bundle).unwrap();
        let names: Vec<&str> = readers
            .iter()
            .map(|r| r.header().exchange.as_str())
            .collect();
        assert_eq!(names, ["BYBIT", "OKX"]);
        for r in readers {
            let recs: Vec<Record> = r.map(|x| x.unwrap()).collect();
            assert_eq!(recs.len(), 2, "a frame quoting \"header\" stays a frame");
        }
        // A plain capture is itself.
        assert_eq!(CaptureReader::open_all(&parts[0]).unwrap().len(), 1);
    }
}
