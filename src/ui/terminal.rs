//! Raw mode and the alternate screen, undone however the UI ends: normal
//! return, error (guard dropped) or panic (hook restores first, then runs the
//! previous hook so the panic message is readable).

use std::io::{self, Stdout};
use std::sync::Once;

use crossterm::{
    cursor, execute,
    terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode},
};
use ratatui::{Terminal, backend::CrosstermBackend};

pub struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    restored: bool,
}

static PANIC_HOOK: Once = Once::new();

/// Puts the terminal back to normal. Safe to call more than once.
pub fn restore_terminal() -> io::Result<()> {
    let raw = disable_raw_mode();
    execute!(io::stdout(), LeaveAlternateScreen, cursor::Show)?;
    raw
}

fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A panic inside an adapter is caught and handled; the UI
            // carries on, so the screen stays as it is.
            if !crate::venues::guard::in_guarded_call() {
                let _ = restore_terminal();
            }
            previous(info);
        }));
    });
}

impl TerminalGuard {
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        if let Err(e) = execute!(io::stdout(), EnterAlternateScreen, cursor::Hide) {
            let _ = restore_terminal();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(io::stdout())) {
            Ok(terminal) => Ok(TerminalGuard {
                terminal,
                restored: false,
            }),
            Err(e) => {
                let _ = restore_terminal();
                Err(e)
            }
        }
    }

    pub fn terminal(&mut self) -> &mut Terminal<CrosstermBackend<Stdout>> {
        &mut self.terminal
    }

    pub fn restore(mut self) -> io::Result<()> {
        self.restored = true;
        restore_terminal()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if !self.restored {
            let _ = restore_terminal();
        }
    }
}

/// Rings the terminal bell (BEL; the terminal decides: a sound, a flash, an
/// urgency hint). A write failure is not worth reporting.
pub fn bell() {
    use std::io::Write;
    let mut out = io::stdout();
    let _ = out.write_all(b"\x07");
    let _ = out.flush();
}
