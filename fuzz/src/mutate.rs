//! The structure-aware mutator (libFuzzer's `LLVMFuzzerCustomMutator`).
//!
//! Inputs are scenarios (`depthwatch::fuzzing`); each call parses the
//! input and applies one of:
//!
//! * **JSON mutations** of one frame or body: a node picked at random
//!   (numbers and numeric strings preferred) is replaced by an edge value of
//!   `Decimal` (±79228162514264337593543950335, 1e-28, 1e28, 1e400, -0,
//!   0.0000, 29 fraction digits), of `i64`/`u64` (±2^63, 2^64, …: timestamps
//!   and sequence ids), negated or scaled, swapped to another type
//!   (string ↔ number ↔ null ↔ bool ↔ object ↔ array), emptied, made huge
//!   (`<<rep 100000|,|level>>`: 10^5 book levels), nested deep (up to 10^5
//!   levels), a key removed or duplicated;
//! * **sequence mutations**: a frame duplicated, dropped, swapped with its
//!   neighbour or truncated; `start`/`open`/`close`/`httperr`/`tick`/`snap`
//!   inserted; the connection or URL index changed; a frame sent as a REST
//!   body or the other way round; (pipeline) a venue switch inserted;
//! * **splices**: a real frame or REST body of the venue (captures, committed
//!   corpus) inserted, or a REST body replaced by an HTML error page, an
//!   empty body or a venue's JSON error;
//! * **numeric splices** on text that is not JSON (a truncated frame): a run
//!   of digits replaced by an edge value;
//! * libFuzzer's own byte mutations, on one payload or on the whole input,
//!   so coverage feedback still drives byte-level exploration.

use depthwatch::fuzzing::{Op, Scenario, Selector, Step};
use serde_json::Value;

use crate::dict;

/// Numbers at the edges of what the parsers and the arithmetic handle.
pub const EDGES: &[&str] = &[
    // rust_decimal: MAX, MIN, just past them, scale edges.
    "79228162514264337593543950335",
    "-79228162514264337593543950335",
    "79228162514264337593543950336",
    "39614081257132168796771975168",
    "7.9228162514264337593543950335",
    "0.0000000000000000000000000001",
    "0.00000000000000000000000000001",
    "-0.0000000000000000000000000001",
    "0.1234567890123456789012345678901234",
    "1e-28",
    "1e-29",
    "1e28",
    "1e29",
    "1E+28",
    "1e400",
    "-1e400",
    "1e-400",
    // Zeros.
    "-0",
    "-0.0",
    "0.0000",
    "0",
    "0e0",
    "-0e-0",
    // i64 / u64: timestamps and sequence ids.
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "4294967295",
    "4294967296",
    "2147483648",
    "-1",
    "1",
    "2",
    // Plausible then implausible times (ms, µs, ns, year 10000).
    "1786309548123",
    "1786309548123456",
    "1786309548123456789",
    "253402300800000",
    // Floats f64 cannot keep, or keeps only approximately.
    "1.7976931348623157e308",
    "5e-324",
    "0.1",
    "99999999999999999999999999999999999999",
    // Not numbers at all.
    "NaN",
    "Infinity",
    "-Infinity",
    "1,5",
    " 1",
    "+1",
    "0x1F",
    "1_000",
    "",
    ".",
    "-",
    "1e",
    "1.",
    ".5",
    "00001",
];

/// REST bodies that are not what was asked for.
pub const ERROR_BODIES: &[&str] = &[
    "",
    "null",
    "[]",
    "{}",
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
    "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title></head><body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>",
    "<html><body><h1>451 Unavailable For Legal Reasons</h1>Service unavailable from a restricted location.</body></html>",
    "<html><body><h1>429 Too Many Requests</h1></body></html>",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
    "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}",
    "{\"code\":-1003,\"msg\":\"Too many requests; current limit is 2400 request weight per 1 MINUTE.\"}",
    "{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}",
    "{\"retCode\":10006,\"retMsg\":\"Too many visits!\",\"result\":{},\"time\":1786309548123}",
    "{\"error\":[\"EGeneral:Too many requests\"]}",
    "{\"result\":\"error\",\"reason\":\"RateLimit\",\"message\":\"Requests were made too frequently\"}",
    "{\"message\":\"Internal Server Error\"}",
    "<html><body><<rep 100000||<div>>></body></html>",
];

/// Placeholder for the node being replaced (kept out of real frames).
const HOLE: &str = "\u{1}dwfz\u{1}";

/// A small deterministic PRNG (xorshift64*), seeded by libFuzzer.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u32) -> Self {
        Rng(u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Byte-level fallback: libFuzzer's `fuzzer_mutate` in the targets.
pub type ByteMutate<'a> = &'a mut dyn FnMut(&mut [u8], usize, usize) -> usize;

/// One mutation of `data[..size]` in place; returns the new size (at most
/// `max_size`).
pub fn mutate(
    target: &str,
    data: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
    bytes: ByteMutate<'_>,
) -> usize {
    let mut rng = Rng::new(seed);
    let dict = dict::get(target);
    let mut sc = Scenario::parse(&data[..size]);
    let roll = rng.below(100);
    let changed = if roll < 20 {
        return bytes(data, size, max_size);
    } else if roll < 30 {
        mutate_payload_bytes(&mut sc, &mut rng, bytes)
    } else if roll < 62 {
        mutate_json_step(&mut sc, &mut rng)
    } else if roll < 78 {
        mutate_sequence(&mut sc, &mut rng, target == "pipeline")
    } else if roll < 92 {
        splice(&mut sc, &mut rng, dict, target == "pipeline")
    } else {
        splice_number(&mut sc, &mut rng)
    };
    if !changed {
        return bytes(data, size, max_size);
    }
    let out = sc.to_bytes();
    if out.len() > max_size || out.len() > data.len() {
        return bytes(data, size, max_size);
    }
    data[..out.len()].copy_from_slice(&out);
    out.len()
}

/// libFuzzer's crossover: the first steps of one input, the last of the
/// other.
pub fn crossover(a: &[u8], b: &[u8], out: &mut [u8], seed: u32) -> usize {
    let mut rng = Rng::new(seed);
    let (a, b) = (Scenario::parse(a), Scenario::parse(b));
    let cut_a = rng.below(a.steps.len() + 1);
    let cut_b = rng.below(b.steps.len() + 1);
    let mut steps: Vec<Step> = a.steps[..cut_a].to_vec();
    steps.extend_from_slice(&b.steps[cut_b..]);
    let mut sc = Scenario { steps };
    let mut bytes = sc.to_bytes();
    while bytes.len() > out.len() && !sc.steps.is_empty() {
        sc.steps.pop();
        bytes = sc.to_bytes();
    }
    let n = bytes.len().min(out.len());
    out[..n].copy_from_slice(&bytes[..n]);
    n
}

fn payload_steps(sc: &Scenario, ops: &[Op]) -> Vec<usize> {
    sc.steps
        .iter()
        .enumerate()
        .filter(|(_, s)| ops.contains(&s.op))
        .map(|(i, _)| i)
        .collect()
}

fn mutate_payload_bytes(sc: &mut Scenario, rng: &mut Rng, bytes: ByteMutate<'_>) -> bool {
    let idx = payload_steps(sc, &[Op::Text, Op::Http, Op::HttpError, Op::Binary]);
    if idx.is_empty() {
        return false;
    }
    let s = &mut sc.steps[*rng.pick(&idx)];
    let mut buf = s.payload.as_bytes().to_vec();
    let len = buf.len();
    buf.resize(len + len / 4 + 64, 0);
    let max = buf.len();
    let n = bytes(&mut buf, len, max);
    buf.truncate(n);
    s.payload = String::from_utf8_lossy(&buf).replace(['\n', '\r'], " ");
    true
}

fn mutate_json_step(sc: &mut Scenario, rng: &mut Rng) -> bool {
    let idx = payload_steps(sc, &[Op::Text, Op::Http]);
    if idx.is_empty() {
        return false;
    }
    let i = *rng.pick(&idx);
    match mutate_json(&sc.steps[i].payload, rng) {
        Some(p) => {
            sc.steps[i].payload = p;
            true
        }
        None => false,
    }
}

/// Replace one node of a JSON text; `None` when the text is not JSON.
pub fn mutate_json(text: &str, rng: &mut Rng) -> Option<String> {
    if text.starts_with("b64:") || text.contains("<<rep ") {
        return None;
    }
    let mut v: Value = serde_json::from_str(text).ok()?;
    let mut scalars = 0;
    let total = count(&v, &mut scalars);
    // Numbers and strings hold the prices, sizes, times and ids.
    let orig = if scalars > 0 && rng.chance(65) {
        take_nth(&mut v, rng.below(scalars), true)
    } else {
        take_nth(&mut v, rng.below(total), false)
    }?;
    let raw = replacement(&orig, rng);
    let hole = serde_json::to_string(&Value::String(HOLE.into())).ok()?;
    let s = serde_json::to_string(&v).ok()?;
    Some(s.replacen(&hole, &raw, 1))
}

/// Nodes in the tree, and how many are numbers or strings.
fn count(v: &Value, scalars: &mut usize) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(|x| count(x, scalars)).sum::<usize>(),
        Value::Object(m) => 1 + m.values().map(|x| count(x, scalars)).sum::<usize>(),
        Value::Number(_) | Value::String(_) => {
            *scalars += 1;
            1
        }
        _ => 1,
    }
}

/// Take out the `n`th node (pre-order; among scalars only with
/// `scalars_only`), leaving the placeholder.
fn take_nth(v: &mut Value, n: usize, scalars_only: bool) -> Option<Value> {
    fn walk(v: &mut Value, n: &mut usize, scalars_only: bool) -> Option<Value> {
        let counts = !scalars_only || matches!(v, Value::Number(_) | Value::String(_));
        if counts {
            if *n == 0 {
                return Some(std::mem::replace(v, Value::String(HOLE.into())));
            }
            *n -= 1;
        }
        match v {
            Value::Array(a) => a.iter_mut().find_map(|x| walk(x, n, scalars_only)),
            Value::Object(m) => m.values_mut().find_map(|x| walk(x, n, scalars_only)),
            _ => None,
        }
    }
    let mut n = n;
    walk(v, &mut n, scalars_only)
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The numeric text of a node, if it has one (`"65000.1"` or `65000.1`).
fn numeric(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() && s.parse::<f64>().is_ok() => Some(s.clone()),
        _ => None,
    }
}

/// Raw JSON text to put where `orig` was.
fn replacement(orig: &Value, rng: &mut Rng) -> String {
    let as_string = matches!(orig, Value::String(_));
    let wrap = |s: String, rng: &mut Rng| {
        // Keep the node's kind mostly; sometimes swap string ↔ number.
        if as_string != rng.chance(20) {
            quoted(&s)
        } else {
            s
        }
    };
    let orig_text = orig.to_string();
    match rng.below(12) {
        0..=4 => wrap(rng.pick(EDGES).to_string(), rng),
        5 => {
            let n = numeric(orig).unwrap_or_else(|| "1".into());
            let neg = match n.strip_prefix('-') {
                Some(p) => p.to_string(),
                None => format!("-{n}"),
            };
            wrap(neg, rng)
        }
        6 => {
            let n = numeric(orig).unwrap_or_else(|| "1".into());
            let tail = *rng.pick(&[
                "e400",
                "e28",
                "e-28",
                "e29",
                "000000000000000000000000000000",
                "0000000000000000000",
                ".0000000000000000000000000000001",
                "99999999999999999999999999999",
            ]);
            wrap(format!("{n}{tail}"), rng)
        }
        7 => {
            let unquoted = match orig {
                Value::String(s) => s.clone(),
                _ => orig_text.clone(),
            };
            match rng.below(11) {
                0 => "null".into(),
                1 => "true".into(),
                2 => "false".into(),
                3 => "0".into(),
                4 => "\"\"".into(),
                5 => "{}".into(),
                6 => "[]".into(),
                7 => format!("[{orig_text}]"),
                8 => format!("{{\"x\":{orig_text}}}"),
                9 => quoted(&orig_text),
                _ => unquoted,
            }
        }
        8 => container(orig, rng),
        9 => {
            let depth = *rng.pick(&[64usize, 129, 1000, 10_000, 100_000]);
            if rng.chance(50) {
                format!("<<rep {depth}||[>>{orig_text}<<rep {depth}||]>>")
            } else {
                format!("<<rep {depth}||{{\"a\":>>{orig_text}<<rep {depth}||}}>>")
            }
        }
        10 => {
            let n = *rng.pick(&[40usize, 400, 1000, 10_000, 100_000]);
            wrap(format!("<<rep {n}||9>>"), rng)
        }
        _ => orig_text,
    }
}

/// Container mutations: empty, huge, reversed, duplicated, a key dropped
/// or doubled.
fn container(orig: &Value, rng: &mut Rng) -> String {
    match orig {
        Value::Array(a) => {
            let elem = a
                .first()
                .map(Value::to_string)
                .unwrap_or_else(|| "[\"1\",\"1\"]".into());
            match rng.below(6) {
                0 => "[]".into(),
                1 => {
                    let n = *rng.pick(&[100usize, 1000, 10_000, 100_000]);
                    format!("[<<rep {n}|,|{elem}>>]")
                }
                2 => {
                    let mut r = a.clone();
                    r.reverse();
                    Value::Array(r).to_string()
                }
                3 => {
                    let mut r = a.clone();
                    r.extend(a.iter().cloned());
                    Value::Array(r).to_string()
                }
                4 => {
                    let mut r = a.clone();
                    if !r.is_empty() {
                        r.remove(rng.below(r.len()));
                    }
                    Value::Array(r).to_string()
                }
                _ => {
                    // Every element at one edge value.
                    let edge = quoted(rng.pick::<&str>(EDGES));
                    let n = a.len().clamp(1, 1000);
                    format!("[<<rep {n}|,|[{edge},{edge}]>>]")
                }
            }
        }
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<&String> = m.keys().collect();
            let key = keys[rng.below(keys.len())].clone();
            let mut parts: Vec<String> = m
                .iter()
                .filter(|(k, _)| rng.chance(50) || **k != key)
                .map(|(k, v)| format!("{}:{}", quoted(k), v))
                .collect();
            if rng.chance(50) {
                // A duplicate key, later value at an edge.
                parts.push(format!(
                    "{}:{}",
                    quoted(&key),
                    quoted(rng.pick::<&str>(EDGES))
                ));
            }
            format!("{{{}}}", parts.join(","))
        }
        other => format!("[<<rep 100000|,|{other}>>]"),
    }
}

fn mutate_sequence(sc: &mut Scenario, rng: &mut Rng, pipeline: bool) -> bool {
    let n = sc.steps.len();
    let at = rng.below(n + 1);
    match rng.below(9) {
        0 if n > 0 => {
            let i = rng.below(n);
            let s = sc.steps[i].clone();
            sc.steps.insert(i + 1, s);
        }
        1 if n > 0 => {
            sc.steps.remove(rng.below(n));
        }
        2 if n > 1 => {
            let i = rng.below(n - 1);
            sc.steps.swap(i, i + 1);
        }
        3 => {
            let idx = payload_steps(sc, &[Op::Text, Op::Http]);
            if idx.is_empty() {
                return false;
            }
            let s = &mut sc.steps[*rng.pick(&idx)];
            let cut = rng.below(s.payload.len() + 1);
            let cut = (0..=cut)
                .rev()
                .find(|c| s.payload.is_char_boundary(*c))
                .unwrap_or(0);
            s.payload.truncate(cut);
        }
        4 => {
            let op = *rng.pick(&[
                Op::Start,
                Op::Open,
                Op::Close,
                Op::HttpError,
                Op::Tick,
                Op::Snap,
            ]);
            let sel = rng.chance(50).then(|| Selector::Index(rng.below(4) as u64));
            let payload = match op {
                Op::Tick => rng
                    .pick(&["0", "1", "999", "5000000", "30000001", "86400000000"])
                    .to_string(),
                Op::HttpError => rng
                    .pick(&["timed out", "HTTP 429", "HTTP 451", "dns error", ""])
                    .to_string(),
                _ => String::new(),
            };
            sc.steps.insert(at, Step::new(op, sel, payload));
        }
        5 if n > 0 => {
            let s = &mut sc.steps[rng.below(n)];
            s.sel = match rng.below(3) {
                0 => None,
                _ => Some(Selector::Index(rng.below(8) as u64)),
            };
        }
        6 => {
            let idx = payload_steps(sc, &[Op::Text, Op::Http]);
            if idx.is_empty() {
                return false;
            }
            let s = &mut sc.steps[*rng.pick(&idx)];
            s.op = if s.op == Op::Text { Op::Http } else { Op::Text };
            s.sel = None;
        }
        7 if pipeline => {
            let venues: Vec<&str> = depthwatch::model::Venue::all()
                .map(|v| v.as_str())
                .collect();
            sc.steps
                .insert(at, Step::new(Op::Venue, None, *rng.pick(&venues)));
        }
        _ => {
            // A whole frame repeated many times: floods, replays.
            if n == 0 {
                return false;
            }
            let i = rng.below(n);
            let s = sc.steps[i].clone();
            for _ in 0..rng.below(16) + 2 {
                sc.steps.insert(i, s.clone());
            }
        }
    }
    true
}

fn splice(sc: &mut Scenario, rng: &mut Rng, dict: &dict::Dict, pipeline: bool) -> bool {
    let n = sc.steps.len();
    let at = rng.below(n + 1);
    let insert = |sc: &mut Scenario, venue: &str, step: Step| {
        if pipeline && !venue.is_empty() {
            sc.steps.insert(at, Step::new(Op::Venue, None, venue));
            sc.steps.insert(at + 1, step);
        } else {
            sc.steps.insert(at, step);
        }
    };
    match rng.below(4) {
        0 | 1 if !dict.frames.is_empty() => {
            let e = rng.pick(&dict.frames);
            let op = if e.payload.starts_with("b64:") {
                Op::Binary
            } else {
                Op::Text
            };
            let sel = rng.chance(30).then(|| Selector::Index(rng.below(4) as u64));
            insert(sc, &e.venue, Step::new(op, sel, e.payload.clone()));
        }
        2 if !dict.bodies.is_empty() => {
            let e = rng.pick(&dict.bodies);
            let sel = Some(Selector::Index(rng.below(8) as u64));
            insert(sc, &e.venue, Step::new(Op::Http, sel, e.payload.clone()));
        }
        _ => {
            let body = rng.pick(ERROR_BODIES).to_string();
            let idx = payload_steps(sc, &[Op::Http]);
            if !idx.is_empty() && rng.chance(50) {
                sc.steps[*rng.pick(&idx)].payload = body;
            } else {
                let sel = Some(Selector::Index(rng.below(8) as u64));
                sc.steps.insert(at, Step::new(Op::Http, sel, body));
            }
        }
    }
    true
}

/// Replace one run of digits (with its sign, point and exponent) in any
/// payload by an edge value, textually.
fn splice_number(sc: &mut Scenario, rng: &mut Rng) -> bool {
    let idx = payload_steps(sc, &[Op::Text, Op::Http, Op::Tick]);
    if idx.is_empty() {
        return false;
    }
    let s = &mut sc.steps[*rng.pick(&idx)];
    let b = s.payload.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() || (b[i] == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let start = i;
            i += 1;
            while i < b.len()
                && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b'e' | b'E' | b'+' | b'-'))
            {
                i += 1;
            }
            runs.push((start, i));
        } else {
            i += 1;
        }
    }
    if runs.is_empty() {
        return false;
    }
    let (start, end) = *rng.pick(&runs);
    s.payload.replace_range(start..end, rng.pick::<&str>(EDGES));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_mutations_stay_json_or_expand() {
        let mut rng = Rng::new(7);
        let frame = r#"{"changes":[["buy","1","1"],["sell","2","1"]],"symbol":"BTCUSD","type":"l2_updates"}"#;
        let mut differ = 0;
        for _ in 0..500 {
            let m = mutate_json(frame, &mut rng).unwrap();
            assert!(!m.contains(HOLE), "{m}");
            differ += usize::from(m != frame);
        }
        assert!(differ > 300);
    }
}
