//! The engine: sole owner of every book; derives CBBO, aggregated books,
//! arbitrage, liquidation and trade statistics and health, and publishes an
//! immutable [`Snapshot`]. Synchronous at its core (no async inside).

pub mod config;
pub mod health;
pub mod input;
pub mod liquidations;
pub mod snapshot;
pub mod trades;
pub mod usd;
pub mod window;

pub use config::EngineConfig;
pub use input::EngineInput;
pub use snapshot::Snapshot;
