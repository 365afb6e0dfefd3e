//! The market model shared by adapters, engine and UI.

mod asset;
pub mod event;
mod instrument;
pub mod kline;
mod venue;

pub use asset::{Asset, AssetError};
pub use event::*;
pub use instrument::{Instrument, InstrumentError, InstrumentKind};
pub use kline::{CandleOpen, Kline, Timeframe};
pub use venue::{UnknownVenue, Venue};
