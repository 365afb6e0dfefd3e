#![no_main]
//! The binance adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("binance");
