//! depthwatch: a terminal market monitor for crypto venues.
//!
//! Layers (see DESIGN.md): `venues` (sans-IO protocol adapters) feed `engine`
//! (books and derived views) through `net` (live connections) or `replay`
//! (captures); `ui` renders the engine's snapshot. The engine and adapters
//! never import ratatui; panes never touch the network.

pub mod app;
pub mod book;
pub mod capture;
pub mod cli;
pub mod config;
pub mod engine;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod headless;
pub mod logging;
pub mod model;
pub mod net;
pub mod replay;
pub mod sim;
#[cfg(feature = "tui")]
pub mod ui;
pub mod venues;
