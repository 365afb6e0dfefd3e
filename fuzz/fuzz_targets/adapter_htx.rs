#![no_main]
//! The htx adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("htx");
