#![no_main]
//! The bitfinex adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("bitfinex");
