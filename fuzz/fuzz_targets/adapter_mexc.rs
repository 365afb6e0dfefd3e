#![no_main]
//! The mexc adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("mexc");
