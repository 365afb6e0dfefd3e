//! Where a problem is: diagnostics with 1-based line and column, and
//! serde's messages reworded to name their key.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// One problem in a config file, 1-based line and column (in characters);
/// line 0 for a problem with no place in a file (an environment override,
/// named by `path`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.path.display(), self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Makes serde's wording friendlier and names the key when the error points
/// at a value (`fps: invalid type: string "x", expected an integer`).
pub(super) fn explain_serde_message(text: &str, span: &Range<usize>, message: &str) -> String {
    let message = message.trim();
    if message == "duplicate key" {
        let key: String = text
            .get(span.start..)
            .unwrap_or("")
            .chars()
            .take_while(|c| !matches!(c, '=' | '\n' | ']'))
            .collect();
        return format!("duplicate key `{}`", key.trim());
    }
    let mut message = message
        .replace("unknown field", "unknown key")
        .replace("expected i64", "expected an integer")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table")
        .replace("expected struct", "expected a table");
    let names_its_key = message.starts_with("unknown key") || message.starts_with("missing field");
    if let Some(key) = key_before(text, span.start)
        && !names_its_key
    {
        message = format!("{key}: {message}");
    }
    message
}

/// The key of `key = value` when `offset` points into the value.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let before = text.get(line_start..offset)?;
    let (key, _value) = before.rsplit_once('=')?;
    // In an inline table (`keymap = { quit = 5 }`) the innermost key.
    let key = key.rsplit(['{', ',']).next().unwrap_or(key);
    let key = key.trim().trim_matches('"');
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plain.then(|| key.to_string())
}
