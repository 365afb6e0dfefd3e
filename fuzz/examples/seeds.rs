//! Write capture-derived seeds for every target under `fuzz/seeds/<target>/`
//! (ignored by git: the captures must not enter the repository).
//!
//! `cargo run --release --example seeds [MAX_BYTES]` (stable is fine); the
//! captures are found as `depthwatch_fuzz::seeds::captures_dir` says.

use std::path::Path;

fn main() {
    let max_bytes: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64 << 10);
    let Some(dir) = depthwatch_fuzz::seeds::captures_dir() else {
        eprintln!("no captures found (set DEPTHWATCH_CAPTURES): no seeds written");
        return;
    };
    eprintln!("captures: {}", dir.display());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    for target in depthwatch::fuzzing::targets() {
        let seeds = depthwatch_fuzz::seeds::seeds_for(&target, max_bytes);
        let out = root.join(&target);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).expect("create seeds dir");
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(out.join(format!("capture-{i:04}")), s.to_bytes()).expect("write seed");
        }
        eprintln!("{target}: {} seeds", seeds.len());
    }
}
