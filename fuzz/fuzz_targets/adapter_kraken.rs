#![no_main]
//! The kraken adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("kraken");
