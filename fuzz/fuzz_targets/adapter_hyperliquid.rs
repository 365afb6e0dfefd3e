#![no_main]
//! The hyperliquid adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("hyperliquid");
