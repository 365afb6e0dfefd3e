#![no_main]
//! Adapters → engine → snapshot → headless lines (see `fuzz/README.md`).
depthwatch_fuzz::pipeline_target!();
