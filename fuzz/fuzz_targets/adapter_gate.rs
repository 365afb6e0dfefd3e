#![no_main]
//! The gate adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("gate");
