//! Alerts: rules over what the engine derives, and their delivery.
//!
//! Evaluation runs as its own task, one of the engine's sinks: notices
//! (liquidations, large trades, spikes, incidents) arrive through the
//! bounded channel every sink has, and the lasting conditions (arbitrage,
//! funding, price, CBBO spread, feed trouble) are read from the engine's
//! immutable snapshot on a tick, so nothing here adds work to the engine.
//!
//! `rule` is the model the config declares; `gate` the pure threshold,
//! lifetime, hysteresis and cooldown logic; `eval` applies the rules to
//! notices and snapshots; `alert` is what fires; `deliver` takes it to each
//! destination; `secrets` holds the tokens and URLs; `task` runs it all and
//! publishes the `view` the Alerts pane shows.

pub mod alert;
pub mod deliver;
pub mod eval;
pub mod gate;
pub mod rule;
pub mod secrets;
pub mod task;
pub mod view;

pub use alert::Alert;
pub use eval::{Evaluator, Verdict};
pub use rule::{Rule, RuleKind, Severity};
pub use task::{AlertControl, AlertsHandle};
pub use view::AlertsView;
