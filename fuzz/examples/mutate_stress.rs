//! Run the custom mutator many times over inputs (stable, no libFuzzer),
//! to check it never panics and always returns a size within bounds:
//! `cargo run --release --example mutate_stress -- TARGET ROUNDS PATH...`

use std::path::Path;

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().unwrap_or_else(|| "pipeline".into());
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(1000);
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for a in args {
        let p = Path::new(&a);
        let files: Vec<_> = if p.is_dir() {
            std::fs::read_dir(p)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect()
        } else {
            vec![p.to_path_buf()]
        };
        inputs.extend(files.iter().filter_map(|f| std::fs::read(f).ok()));
    }
    inputs.push(Vec::new());
    let max = 131072;
    let mut flip = |buf: &mut [u8], len: usize, _max: usize| {
        if len > 0 {
            buf[len / 2] ^= 0x20;
        }
        len
    };
    for seed in 0..rounds {
        let input = &inputs[seed as usize % inputs.len()];
        let mut data = input.clone();
        data.resize(max.max(data.len()), 0);
        let n = depthwatch_fuzz::mutate::mutate(
            &target,
            &mut data,
            input.len().min(max),
            max,
            seed,
            &mut flip,
        );
        assert!(n <= max, "seed {seed}: size {n}");
        let (a, b) = (input.as_slice(), &data[..n]);
        let mut out = vec![0u8; max];
        let m = depthwatch_fuzz::mutate::crossover(a, b, &mut out, seed);
        assert!(m <= max);
    }
    println!("{rounds} mutations over {} inputs: ok", inputs.len());
}
