#![no_main]
//! The coinbase adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("coinbase");
