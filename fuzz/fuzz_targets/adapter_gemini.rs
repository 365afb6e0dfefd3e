#![no_main]
//! The gemini adapter driven by a scenario (see `fuzz/README.md`).
depthwatch_fuzz::adapter_target!("gemini");
