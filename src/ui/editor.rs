//! `E` in the Watchlist pane: the config file in the user's `$EDITOR`
//! (fallback `vi`), with the terminal handed over while it runs. The app's
//! config watcher picks the saved file up like any outside edit.

use std::path::Path;
use std::process::Command;

use crossterm::{cursor, execute, terminal};

use super::terminal::{TerminalGuard, restore_terminal};
use crate::config::{edit::EXAMPLE, save_atomic};

/// The editor program and its arguments (`EDITOR="code -w"` works).
pub fn editor_command(editor: Option<&str>) -> (String, Vec<String>) {
    let mut words = editor.unwrap_or("").split_whitespace().map(str::to_string);
    match words.next() {
        Some(program) => (program, words.collect()),
        None => ("vi".to_string(), Vec::new()),
    }
}

/// Leaves raw mode and the alternate screen, runs the editor on `path`
/// (created from the documented example first if missing), and takes the
/// terminal back. Errors say what went wrong in a sentence.
pub async fn edit_config(term: &mut TerminalGuard, path: &Path) -> Result<String, String> {
    if !path.exists() {
        save_atomic(path, EXAMPLE).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    }
    let editor = std::env::var("EDITOR").ok();
    let (program, args) = editor_command(editor.as_deref());
    restore_terminal().map_err(|e| format!("cannot hand the terminal over: {e}"))?;
    let file = path.to_path_buf();
    let name = program.clone();
    let ran =
        tokio::task::spawn_blocking(move || Command::new(&name).args(&args).arg(&file).status())
            .await;
    let resumed = resume(term);
    let outcome = match ran {
        Ok(Ok(status)) if status.success() => Ok(program),
        Ok(Ok(status)) => Err(format!("{program} ended with {status}")),
        Ok(Err(e)) => Err(format!("cannot run `{program}` (set $EDITOR): {e}")),
        Err(e) => Err(format!("editor task failed: {e}")),
    };
    resumed.map_err(|e| format!("cannot take the terminal back: {e}"))?;
    outcome
}

fn resume(term: &mut TerminalGuard) -> std::io::Result<()> {
    terminal::enable_raw_mode()?;
    execute!(
        std::io::stdout(),
        terminal::EnterAlternateScreen,
        cursor::Hide
    )?;
    // The editor drew over everything: repaint the whole screen.
    term.terminal().clear()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_command_splits_arguments_and_falls_back_to_vi() {
        assert_eq!(editor_command(None), ("vi".to_string(), vec![]));
        assert_eq!(editor_command(Some("  ")), ("vi".to_string(), vec![]));
        assert_eq!(
            editor_command(Some("code -w")),
            ("code".to_string(), vec!["-w".to_string()])
        );
    }
}
