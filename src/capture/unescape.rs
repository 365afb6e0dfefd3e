//! The text of a JSON string literal, unescaped in one pass.
//!
//! A capture record holds each frame as a JSON string (`"data":"{\"a\":1}"`):
//! the frame itself, escaped. serde_json would unescape it into a scratch
//! buffer that grows by doubling, then copy it out; a snapshot frame of
//! several megabytes pays that twice over. Here the literal, already
//! checked by serde_json (a borrowed `RawValue`), is copied run by run
//! between escapes into a `String` sized once.

/// The value of `literal`, a JSON string literal with its quotes, as
/// serde_json's `RawValue` gives it (so well formed); `None` if it is not
/// one (the caller reports a bad record).
pub fn json_string(literal: &str) -> Option<String> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    let bytes = inner.as_bytes();
    // Unescaping only shortens: the escaped length is enough room.
    let mut out = String::with_capacity(inner.len());
    let mut at = 0;
    while let Some(off) = memchr::memchr(b'\\', &bytes[at..]) {
        let esc = at + off;
        out.push_str(&inner[at..esc]);
        let (ch, used) = escape(&inner[esc + 1..])?;
        out.push(ch);
        at = esc + 1 + used;
    }
    out.push_str(&inner[at..]);
    Some(out)
}

/// The value of the JSON string starting at `text[0]` (just after its
/// opening quote), unescaped in the same pass that finds its end; with the
/// index just past the closing quote. `None` on a bad escape, a control
/// character or no closing quote.
pub fn json_string_at(text: &str) -> Option<(String, usize)> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut at = 0;
    loop {
        let off = memchr::memchr2(b'"', b'\\', &bytes[at..])?;
        let stop = at + off;
        let run = &text[at..stop];
        // JSON strings hold no raw control characters.
        if run.bytes().any(|b| b < 0x20) {
            return None;
        }
        if out.capacity() == 0 {
            // Unescaping only shortens: what is left is enough room.
            out.reserve(text.len() - at);
        }
        out.push_str(run);
        if bytes[stop] == b'"' {
            return Some((out, stop + 1));
        }
        let (ch, used) = escape(&text[stop + 1..])?;
        out.push(ch);
        at = stop + 1 + used;
    }
}

/// The character an escape stands for (`rest` starts after the backslash)
/// and how many bytes of `rest` it used.
fn escape(rest: &str) -> Option<(char, usize)> {
    let c = match rest.as_bytes().first()? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => return unicode(rest),
        _ => return None,
    };
    Some((c, 1))
}

/// `uXXXX`, or a surrogate pair `uD83D\uDE00`. A lone surrogate (which
/// JSON allows and UTF-8 cannot hold) becomes U+FFFD, as serde_json's
/// lossy readers do.
fn unicode(rest: &str) -> Option<(char, usize)> {
    let hex = |s: &str| u16::from_str_radix(s.get(..4)?, 16).ok();
    let first = hex(rest.get(1..)?)?;
    if (0xD800..0xDC00).contains(&first)
        && let Some(second) = rest
            .get(5..)
            .filter(|s| s.starts_with("\\u"))
            .and_then(|s| hex(&s[2..]))
        && (0xDC00..0xE000).contains(&second)
    {
        let code = 0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00);
        return Some((char::from_u32(code)?, 11));
    }
    Some((char::from_u32(u32::from(first)).unwrap_or('\u{FFFD}'), 5))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json makes of the same literal.
    fn serde(literal: &str) -> String {
        serde_json::from_str(literal).unwrap()
    }

    #[test]
    fn unescapes_as_serde_json_does() {
        for text in [
            "",
            "plain",
            "{\"a\":1,\"b\":[\"x\",\"y\"]}",
            "back\\slash / and \u{8}\u{c}\n\r\t",
            "é ü 中文 😀 \u{1}",
            "\\\"",
            "ends with an escape\"",
        ] {
            let literal = serde_json::to_string(text).unwrap();
            assert_eq!(json_string(&literal).as_deref(), Some(text), "{literal}");
        }
        // Escapes serde_json itself never writes.
        for literal in [r#""\/\u00e9\u4E2D\ud83d\ude00""#, r#""a\u0022b""#] {
            assert_eq!(json_string(literal), Some(serde(literal)), "{literal}");
        }
    }

    #[test]
    fn a_string_is_found_and_unescaped_in_one_pass() {
        for text in ["", "plain", "{\"a\":[1,\"x\"]}", "é \\ \n 😀"] {
            let literal = serde_json::to_string(text).unwrap();
            let tail = format!("{},\"b\":2}}", &literal[1..]);
            let (got, end) = json_string_at(&tail).unwrap();
            assert_eq!(got, text);
            assert_eq!(&tail[end..], ",\"b\":2}");
        }
        assert_eq!(json_string_at("no end"), None);
        assert_eq!(json_string_at("bad \\x\""), None);
        assert_eq!(json_string_at("raw\nnewline\""), None);
    }

    #[test]
    fn a_lone_surrogate_is_a_replacement_character() {
        assert_eq!(json_string(r#""x\ud83dy""#).as_deref(), Some("x\u{FFFD}y"));
        assert_eq!(json_string(r#""\ude00""#).as_deref(), Some("\u{FFFD}"));
    }

    #[test]
    fn what_is_not_a_string_literal_is_none() {
        for bad in ["", "\"", "abc", "\"\\x\"", "\"\\u12\"", "\"\\"] {
            assert_eq!(json_string(bad), None, "{bad:?}");
        }
    }
}
