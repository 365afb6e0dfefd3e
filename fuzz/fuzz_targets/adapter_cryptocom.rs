#![no_main]
//! The cryptocom adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("cryptocom");
