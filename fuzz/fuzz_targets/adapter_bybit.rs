#![no_main]
//! The bybit adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("bybit");
