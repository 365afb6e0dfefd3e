//! `[ui]`: theme, frame rate, book depth and key overrides.

use super::checker::Checker;
use crate::config::file::UiFile;
use crate::config::{Config, FPS_RANGE, Theme};

impl Checker<'_> {
    pub(super) fn ui(&mut self, ui: UiFile, config: &mut Config) {
        if let Some(theme) = ui.theme {
            match Theme::ALL
                .into_iter()
                .find(|t| t.as_str().eq_ignore_ascii_case(theme.get_ref()))
            {
                Some(t) => config.ui.theme = t,
                None => self.error(
                    theme.span(),
                    format!(
                        "unknown theme \"{}\" (expected one of {})",
                        theme.get_ref(),
                        Theme::ALL.map(|t| t.as_str()).join(", ")
                    ),
                ),
            }
        }
        if let Some(fps) = ui.fps {
            let n = *fps.get_ref();
            if FPS_RANGE.contains(&n) {
                config.ui.fps = n as u16;
            } else {
                self.error(
                    fps.span(),
                    format!("fps must be between 1 and 120, got {n}"),
                );
            }
        }
        if let Some(depth) = ui.book_depth {
            config.ui.book_depth = self.count(&depth, "book_depth", 1..=5_000);
        }
        for (action, key) in ui.keymap.iter().flatten() {
            let name = action.get_ref();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            {
                self.error(
                    action.span(),
                    format!("keymap action \"{name}\" must be lower-case letters, digits, _ or -"),
                );
                continue;
            }
            match normalize_key(key.get_ref()) {
                Ok(k) => {
                    config.ui.keymap.insert(name.clone(), k);
                }
                Err(why) => self.error(key.span(), format!("keymap.{name}: {why}")),
            }
        }
    }
}

const NAMED_KEYS: [&str; 16] = [
    "enter",
    "esc",
    "tab",
    "backtab",
    "backspace",
    "delete",
    "insert",
    "home",
    "end",
    "pageup",
    "pagedown",
    "up",
    "down",
    "left",
    "right",
    "space",
];

/// Checks a key spec (`q`, `?`, `ctrl-c`, `alt-enter`, `f5`, `shift-tab`) and
/// returns it lower-cased.
pub(super) fn normalize_key(spec: &str) -> Result<String, String> {
    let lower = spec.trim().to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split('-').collect();
    // A bare "-" or a "ctrl--" names the minus key.
    if lower.ends_with('-') && lower.len() > 1 || lower == "-" {
        parts.retain(|p| !p.is_empty());
        parts.push("-");
    }
    let Some((key, modifiers)) = parts.split_last() else {
        return Err("empty key".to_string());
    };
    for m in modifiers {
        if !matches!(*m, "ctrl" | "alt" | "shift") {
            return Err(format!(
                "unknown modifier \"{m}\" in \"{spec}\" (expected ctrl, alt or shift)"
            ));
        }
    }
    let is_function = key
        .strip_prefix('f')
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=12).contains(&n));
    if key.chars().count() == 1 || is_function || NAMED_KEYS.contains(key) {
        Ok(lower)
    } else {
        Err(format!(
            "unknown key \"{spec}\" (expected a character, f1..f12 or one of {})",
            NAMED_KEYS.join(", ")
        ))
    }
}
