#![no_main]
//! The kucoin adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("kucoin");
