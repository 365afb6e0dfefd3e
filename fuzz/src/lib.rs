//! The fuzz targets' shared code: seeds from the real captures (read at run
//! time, never copied into the repository), the dictionary of real frames
//! the mutator splices in, and the structure-aware mutator itself.
//!
//! The inputs and the code that runs them are `depthwatch::fuzzing`'s, so
//! `tests/fuzz_corpus.rs` replays every committed input exactly as the
//! fuzzer ran it. This crate does not call into libFuzzer itself (the
//! targets pass `libfuzzer_sys::fuzzer_mutate` in), so the `seeds` example
//! builds and runs on stable without it.

pub mod dict;
pub mod mutate;
pub mod seeds;

/// A fuzz target for one venue's adapter, with the structure-aware mutator.
#[macro_export]
macro_rules! adapter_target {
    ($venue:literal) => {
        libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            depthwatch::fuzzing::fuzz_adapter(depthwatch::venue!($venue), data);
        });
        $crate::mutator!(concat!("adapter_", $venue));
    };
}

/// The adapter → engine → snapshot → headless lines target.
#[macro_export]
macro_rules! pipeline_target {
    () => {
        libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            depthwatch::fuzzing::fuzz_pipeline(data);
        });
        $crate::mutator!("pipeline");
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! mutator {
    ($target:expr) => {
        libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
            $crate::mutate::mutate(
                $target,
                data,
                size,
                max_size,
                seed,
                &mut |buf: &mut [u8], len: usize, max: usize| {
                    libfuzzer_sys::fuzzer_mutate(buf, len, max)
                },
            )
        });
        libfuzzer_sys::fuzz_crossover!(|a: &[u8], b: &[u8], out: &mut [u8], seed: u32| {
            $crate::mutate::crossover(a, b, out, seed)
        });
    };
}
