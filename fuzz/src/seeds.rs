//! Seeds from the real captures (`../shared/captures/*.jsonl.zst`), read at
//! run time: each capture becomes a scenario (`http @URL`, `open @addr`,
//! `text @addr`, `tick`), cut into windows small enough for libFuzzer, with
//! the REST bodies and frames of each window's past that set up its books.
//! Nothing here is written into the repository: `examples/seeds.rs` writes
//! them under `fuzz/seeds/` (ignored by git).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use depthwatch::capture::{CaptureReader, Frame, Record};
use depthwatch::fuzzing::{INSTRUMENTS, Op, Scenario, Selector, Step};
use depthwatch::model::{Micros, Venue};
use depthwatch::venues::registry;
use serde_json::Value;

/// Bodies and frames larger than this are shrunk (lists filtered to the
/// harness's instruments, arrays cut) before they become seeds.
pub const SHRINK_ABOVE: usize = 4 << 10;
/// Elements naming a harness instrument kept per array when shrinking …
pub const KEEP_PER_ARRAY: usize = 30;
/// … and other elements (book levels, other symbols).
pub const KEEP_OTHERS: usize = 20;
/// Frames per window.
pub const WINDOW: usize = 16;
/// Stream snapshots carried into later windows.
const MAX_SETUP_SNAPSHOTS: usize = 8;
/// REST bodies of other symbols carried into later windows.
const MAX_SETUP_OTHER_BODIES: usize = 12;

/// `$DEPTHWATCH_CAPTURES`, else the first `shared/captures` beside the
/// repository or one of its parents (a worktree's `../shared` included).
pub fn captures_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DEPTHWATCH_CAPTURES") {
        return Some(PathBuf::from(d));
    }
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    fuzz.ancestors()
        .skip(1)
        .map(|a| a.join("shared/captures"))
        .find(|d| d.is_dir())
}

/// Every `*.jsonl.zst` capture, sorted.
pub fn capture_files() -> Vec<PathBuf> {
    let Some(dir) = captures_dir() else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.zst"))
        .collect();
    files.sort();
    files
}

/// A capture as scenario steps. Sends are left out (the adapter makes its
/// own); a clock step becomes `tick`.
pub fn capture_steps(path: &Path) -> Result<(Venue, Vec<Step>), String> {
    let mut reader = CaptureReader::open(path).map_err(|e| e.to_string())?;
    let exchange = reader.header().exchange.clone();
    let venue = registry::venue_for_capture(&exchange)
        .ok_or_else(|| format!("{}: no venue for {exchange}", path.display()))?;
    let natives = natives();
    let mut steps = Vec::new();
    let mut last: Option<Micros> = None;
    while let Some(rec) = reader.next_record().map_err(|e| e.to_string())? {
        let ts = rec.ts();
        if let Some(prev) = last {
            let dt = ts - prev - 1_000;
            if dt > 0 {
                steps.push(Step::new(Op::Tick, None, dt.to_string()));
            }
        }
        last = Some(ts);
        let url = |u: &str| Some(Selector::Url(u.to_string()));
        match rec {
            Record::Http { url: u, body, .. } => {
                steps.push(Step::new(Op::Http, url(&u), shrink(&body, &natives)))
            }
            Record::Connect { addr, .. } => steps.push(Step::new(Op::Open, url(&addr), "")),
            Record::Send { .. } => {}
            Record::Recv { addr, frame, .. } => match frame {
                Frame::Text(t) => steps.push(Step::new(Op::Text, url(&addr), shrink(&t, &natives))),
                Frame::Binary(b) => steps.push(Step::new(
                    Op::Binary,
                    url(&addr),
                    format!(
                        "b64:{}",
                        base64::engine::general_purpose::STANDARD.encode(b)
                    ),
                )),
            },
        }
    }
    Ok((venue, steps))
}

/// Cut a capture's steps into windows of [`WINDOW`] frames. Each window
/// starts with what came before it that sets books up: every `open`, the
/// latest body of each REST URL and the latest book snapshots pushed on
/// the stream.
pub fn windows(steps: &[Step], max_bytes: usize) -> Vec<Scenario> {
    let natives = natives();
    let mut out = Vec::new();
    let mut setup: Vec<Step> = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let mut sc = Scenario {
            steps: setup.clone(),
        };
        let mut frames = 0;
        while i < steps.len() && frames < WINDOW {
            let s = &steps[i];
            if matches!(s.op, Op::Text | Op::Binary) {
                frames += 1;
            }
            sc.steps.push(s.clone());
            if matches!(s.op, Op::Open | Op::Http) {
                setup.retain(|o| !(o.op == s.op && o.sel == s.sel));
                // Per-symbol REST bodies (Gemini's details of every symbol)
                // of other instruments: a dozen is plenty.
                let others = setup
                    .iter()
                    .filter(|o| o.op == Op::Http && !for_harness(o, &natives))
                    .count();
                if s.op == Op::Open || for_harness(s, &natives) || others < MAX_SETUP_OTHER_BODIES {
                    setup.push(s.clone());
                }
            } else if s.op == Op::Text && s.payload.contains("snapshot") {
                // Book snapshots pushed on the stream (Bybit, Coinbase, OKX).
                let snapshots = setup.iter().filter(|o| o.op == Op::Text).count();
                if snapshots >= MAX_SETUP_SNAPSHOTS {
                    let first = setup.iter().position(|o| o.op == Op::Text);
                    if let Some(at) = first {
                        setup.remove(at);
                    }
                }
                setup.push(s.clone());
            }
            i += 1;
        }
        if sc.to_bytes().len() <= max_bytes {
            out.push(sc);
        }
    }
    out
}

/// Whether an `http @URL` step is for one of the harness's instruments (its
/// last path segment or a query value names one) or for no symbol at all.
fn for_harness(s: &Step, natives: &HashSet<String>) -> bool {
    let Some(Selector::Url(u)) = &s.sel else {
        return true;
    };
    let u = u.to_lowercase();
    let (path, query) = u.split_once('?').unwrap_or((&u, ""));
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    natives.contains(last)
        || query
            .split('&')
            .any(|kv| kv.split_once('=').is_some_and(|(_, v)| natives.contains(v)))
        || !path.contains("/details/")
}

/// The lower-case native spellings of the harness's instruments (`btcusd`,
/// `btc-usdt-swap`, `xbt/usd`, ...), to keep their entries when shrinking.
pub fn natives() -> HashSet<String> {
    let mut set = HashSet::new();
    for name in INSTRUMENTS {
        let parts: Vec<&str> = name.split('-').collect();
        let (b, q) = (parts[0].to_lowercase(), parts[1].to_lowercase());
        let mut bases = vec![b.clone()];
        if b == "btc" {
            bases.push("xbt".into());
        }
        for b in &bases {
            for sep in ["", "-", "/", "_"] {
                set.insert(format!("{b}{sep}{q}"));
            }
            set.insert(format!("{b}-{q}-swap"));
            set.insert(format!("{b}{q}perp"));
            set.insert(format!("{b}-{q}-perp"));
        }
    }
    set
}

/// A large JSON text with its arrays cut to [`KEEP_PER_ARRAY`] elements,
/// those naming a harness instrument first; other texts as they are.
pub fn shrink(text: &str, natives: &HashSet<String>) -> String {
    if text.len() <= SHRINK_ABOVE {
        return text.to_string();
    }
    match serde_json::from_str::<Value>(text) {
        Ok(mut v) => {
            shrink_value(&mut v, natives);
            v.to_string()
        }
        Err(_) => text.chars().take(SHRINK_ABOVE).collect(),
    }
}

fn names_native(v: &Value, natives: &HashSet<String>) -> bool {
    match v {
        Value::String(s) => natives.contains(&s.to_lowercase()),
        Value::Object(m) => m.iter().any(|(k, v)| {
            natives.contains(&k.to_lowercase())
                || matches!(v, Value::String(s) if natives.contains(&s.to_lowercase()))
        }),
        _ => false,
    }
}

fn shrink_value(v: &mut Value, natives: &HashSet<String>) {
    match v {
        Value::Array(items) => {
            if items.len() > KEEP_OTHERS {
                let (mut keep, rest): (Vec<Value>, Vec<Value>) = std::mem::take(items)
                    .into_iter()
                    .partition(|i| names_native(i, natives));
                keep.truncate(KEEP_PER_ARRAY);
                keep.extend(rest.into_iter().take(KEEP_OTHERS));
                *items = keep;
            }
            items.iter_mut().for_each(|i| shrink_value(i, natives));
        }
        Value::Object(m) => {
            if m.len() > KEEP_OTHERS {
                let entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
                let (mut keep, rest): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(k, v)| {
                    natives.contains(&k.to_lowercase()) || names_native(v, natives)
                });
                keep.truncate(KEEP_PER_ARRAY);
                keep.extend(rest.into_iter().take(KEEP_OTHERS));
                m.extend(keep);
            }
            m.values_mut().for_each(|i| shrink_value(i, natives));
        }
        _ => {}
    }
}

/// Seeds for one target: windows of its venue's captures (every capture,
/// for `pipeline`, plus pairs of venues one after the other so CBBO and
/// arbitrage meet two books).
pub fn seeds_for(target: &str, max_bytes: usize) -> Vec<Scenario> {
    let mut per_venue: Vec<(Venue, Vec<Scenario>)> = Vec::new();
    for path in capture_files() {
        match capture_steps(&path) {
            Ok((venue, steps)) => per_venue.push((venue, windows(&steps, max_bytes))),
            Err(e) => eprintln!("{e}"),
        }
    }
    if let Some(name) = target.strip_prefix("adapter_") {
        return per_venue
            .into_iter()
            .filter(|(v, _)| v.as_str() == name)
            .flat_map(|(_, w)| w)
            .collect();
    }
    let venue_line = |v: Venue| Step::new(Op::Venue, None, v.as_str());
    let mut out = Vec::new();
    for (v, ws) in &per_venue {
        for w in ws {
            let mut s = vec![venue_line(*v)];
            s.extend(w.steps.iter().cloned());
            out.push(Scenario { steps: s });
        }
    }
    for (a, (va, wa)) in per_venue.iter().enumerate() {
        for (vb, wb) in per_venue.iter().skip(a + 1) {
            for (x, y) in wa.iter().zip(wb) {
                let mut s = vec![venue_line(*va)];
                s.extend(x.steps.iter().cloned());
                s.push(venue_line(*vb));
                s.extend(y.steps.iter().cloned());
                let sc = Scenario { steps: s };
                if sc.to_bytes().len() <= max_bytes {
                    out.push(sc);
                }
            }
        }
    }
    out
}
