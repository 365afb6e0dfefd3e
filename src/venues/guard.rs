//! A panic inside an adapter must not take the app down, nor leave its
//! books on screen as live while nothing updates them.
//!
//! The drivers (the live feed task, replay) call into the adapter through
//! [`call`]. If the adapter panics, its partial output is dropped, every book
//! it was keeping is announced out of sync with the reason, and a fresh
//! adapter is built from the same configuration ([`restart`]); the live
//! driver then reconnects its connections, so the books rebuild from new
//! snapshots. The panic is logged; the process-wide hook ([`install_hook`])
//! keeps it off the terminal, and the TUI's hook leaves the screen alone for
//! a guarded panic ([`in_guarded_call`]).

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use super::{Adapter, Output, registry};
use crate::model::{BookState, MarketEvent, OutOfSyncReason};

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Whether the current thread is inside a guarded adapter call (a panic
/// there is handled: the terminal stays as it is).
pub fn in_guarded_call() -> bool {
    GUARDED.with(Cell::get)
}

/// Keep guarded panics out of stderr (they are logged by [`call`]); any
/// other panic goes to the previous hook as before.
pub fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if in_guarded_call() {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                tracing::error!("adapter panicked{at}: {}", message(info.payload()));
            } else {
                previous(info);
            }
        }));
    });
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

/// Call into the adapter; `Err` with the panic message if it panicked (its
/// output is then discarded: it may be half of something).
pub fn call(
    adapter: &mut Box<dyn Adapter>,
    out: &mut Output,
    f: impl FnOnce(&mut dyn Adapter, &mut Output),
) -> Result<(), String> {
    GUARDED.with(|g| g.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| f(adapter.as_mut(), out)));
    GUARDED.with(|g| g.set(false));
    result.map_err(|payload| {
        out.clear();
        message(payload.as_ref())
    })
}

/// Replace a panicked adapter with a fresh one of the same configuration,
/// after announcing every book it kept as out of sync (into `out`).
pub fn restart(adapter: &mut Box<dyn Adapter>, why: &str, out: &mut Output) {
    let venue = adapter.venue();
    let reason = format!("{venue} adapter restarted after an internal error: {why}");
    tracing::error!("{reason}");
    // The old adapter's book list, read defensively: it just panicked.
    let books: Vec<_> = catch_unwind(AssertUnwindSafe(|| {
        adapter
            .lifecycle()
            .books()
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
    }))
    .unwrap_or_default();
    for instrument in books {
        out.event(MarketEvent::BookState {
            venue,
            instrument,
            state: BookState::OutOfSync(OutOfSyncReason::Venue(reason.clone())),
        });
    }
    out.parse_error(venue, None, reason);
    let cfg = adapter.config().clone();
    *adapter = registry::build(venue, cfg);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Instrument, Micros, Venue};
    use crate::venues::lifecycle::Lifecycle;
    use crate::venues::{AdapterConfig, ConnSpec};

    /// An adapter that keeps one live book and panics on `"boom"`.
    struct Fragile {
        cfg: AdapterConfig,
        lc: Lifecycle,
    }

    impl Adapter for Fragile {
        fn venue(&self) -> Venue {
            self.lc.venue()
        }
        fn connections(&self) -> Vec<ConnSpec> {
            Vec::new()
        }
        fn on_open(&mut self, url: &str, _: Micros, out: &mut Output) {
            let i: Instrument = "BTC-USDT".parse().unwrap();
            self.lc.subscribing(i, url, out);
        }
        fn on_text(&mut self, _: &str, text: &str, _: Micros, _: &mut Output) {
            if text == "boom" {
                let v: Vec<u8> = Vec::new();
                let _ = v[usize::from(text.len() == 4)];
            }
        }
        fn on_http(&mut self, _: &str, _: &str, _: Micros, _: &mut Output) {}
        fn on_close(&mut self, _: &str, _: Micros, _: &mut Output) {}
        fn lifecycle(&self) -> &Lifecycle {
            &self.lc
        }
        fn config(&self) -> &AdapterConfig {
            &self.cfg
        }
        fn poll_depth(&self, _: &Instrument) -> Option<crate::venues::DepthPoll> {
            None
        }
        fn on_poll(&mut self, _: Instrument, _: &str, _: Micros, _: &mut Output) {}
    }

    #[test]
    fn a_panic_is_caught_and_its_books_go_out_of_sync() {
        install_hook();
        let mut a: Box<dyn Adapter> = Box::new(Fragile {
            cfg: AdapterConfig::default(),
            lc: Lifecycle::new(crate::venue!("bybit")),
        });
        let mut out = Output::default();
        call(&mut a, &mut out, |a, out| a.on_open("ws", 0, out)).unwrap();
        out.clear();
        let err = call(&mut a, &mut out, |a, out| a.on_text("ws", "boom", 0, out)).unwrap_err();
        assert!(err.contains("index out of bounds"), "{err}");
        assert!(!in_guarded_call());
        restart(&mut a, &err, &mut out);
        let states: Vec<String> = out
            .events
            .iter()
            .filter_map(|e| match e {
                MarketEvent::BookState { state, .. } => Some(state.label().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(states, ["out_of_sync"]);
        // The replacement is the registry's adapter for the venue, idle.
        assert_eq!(a.venue(), crate::venue!("bybit"));
        assert_eq!(a.lifecycle().books().count(), 0);
    }
}
