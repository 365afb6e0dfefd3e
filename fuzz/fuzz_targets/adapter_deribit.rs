#![no_main]
//! The deribit adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("deribit");
