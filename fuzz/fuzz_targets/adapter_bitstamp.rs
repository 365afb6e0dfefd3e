#![no_main]
//! The bitstamp adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("bitstamp");
