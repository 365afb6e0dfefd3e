//! depthwatch: a terminal market monitor for crypto venues.
//!
//! Layers (see DESIGN.md): `venues` (sans-IO protocol adapters) feed `engine`
//! (books and derived views) through `net` (live connections) or `replay`
//! (captures); `ui` renders the engine's snapshot; `store` keeps history. The engine and adapters
//! never import ratatui; panes never touch the network.

/// The version `--version` prints: the package version and, when built from
/// a git checkout, the commit and its date (see `build.rs`).
pub const VERSION: &str = env!("DEPTHWATCH_VERSION");

pub mod alerts;
pub mod app;
pub mod book;
pub mod bus;
pub mod capture;
pub mod cli;
pub mod config;
pub mod engine;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod headless;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod net;
pub mod replay;
pub mod sim;
pub mod store;
#[cfg(feature = "tui")]
pub mod ui;
pub mod venues;
