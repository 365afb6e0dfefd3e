#![no_main]
//! The bitget adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("bitget");
