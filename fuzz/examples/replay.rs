//! Run inputs through a target on stable, printing what each reached (and
//! the panic, if one): `cargo run --example replay -- TARGET PATH...`
//! where a PATH is a file or a folder of inputs.

use std::path::{Path, PathBuf};

fn files(p: &Path) -> Vec<PathBuf> {
    if p.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        v.sort();
        v
    } else {
        vec![p.to_path_buf()]
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(target) = args.next() else {
        eprintln!(
            "usage: replay TARGET PATH...   (targets: {})",
            depthwatch::fuzzing::targets().join(", ")
        );
        std::process::exit(2);
    };
    let mut failed = 0;
    for path in args.flat_map(|a| files(Path::new(&a))) {
        let data = std::fs::read(&path).expect("read input");
        let started = std::time::Instant::now();
        let r = std::panic::catch_unwind(|| depthwatch::fuzzing::run_target(&target, &data));
        let ms = started.elapsed().as_secs_f64() * 1e3;
        match r {
            Ok(Some(r)) => println!(
                "{}: steps {} events {} book events {} lines {} ({ms:.1} ms)",
                path.display(),
                r.steps,
                r.events,
                r.book_events,
                r.lines
            ),
            Ok(None) => {
                eprintln!("unknown target {target}");
                std::process::exit(2);
            }
            Err(_) => {
                failed += 1;
                println!("{}: PANIC ({ms:.1} ms)", path.display());
            }
        }
    }
    if failed > 0 {
        std::process::exit(1);
    }
}
