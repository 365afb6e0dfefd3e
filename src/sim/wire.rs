//! Small JSON writers shared by the venue encoders. WebSocket frames are
//! written by hand so that key order matches the real venues' frames.

use super::book::RawLevel;
use super::catalog::Spec;

/// A JSON string literal.
pub fn string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// `[["price","size"],...]` in the venue's number style.
pub fn levels(spec: &Spec, levels: &[RawLevel]) -> String {
    let mut out = String::with_capacity(levels.len() * 24 + 2);
    out.push('[');
    for (i, &(p, s)) in levels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("[\"");
        out.push_str(&spec.price_str(p));
        out.push_str("\",\"");
        out.push_str(&spec.size_str(s));
        out.push_str("\"]");
    }
    out.push(']');
    out
}

/// A truncated copy of a frame: never valid JSON.
pub fn truncated(frame: &str) -> String {
    let mut cut = frame.len() / 2;
    while cut > 0 && !frame.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = frame.get(..cut).unwrap_or("");
    if head.is_empty() {
        "{\"truncated".to_string()
    } else {
        head.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_frames_never_parse() {
        for f in ["{\"a\":1}", "{}", "", "[1,2,3]", "{\"k\":\"ü\"}"] {
            assert!(serde_json::from_str::<serde_json::Value>(&truncated(f)).is_err());
        }
    }
}
