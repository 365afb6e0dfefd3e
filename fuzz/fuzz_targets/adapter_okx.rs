#![no_main]
//! The okx adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("okx");
