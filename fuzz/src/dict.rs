//! What the mutator splices in: real frames and REST bodies of the target's
//! venue, read once per process from the captures (at run time) and from
//! the committed corpus (built from the documented fixtures).

use std::path::Path;
use std::sync::OnceLock;

use depthwatch::fuzzing::{Op, Scenario};

use crate::seeds;

/// Frames and bodies larger than this stay out of the dictionary.
const MAX_ENTRY: usize = 64 << 10;
/// Entries kept per kind (evenly sampled over the captures).
const MAX_ENTRIES: usize = 4000;

/// One frame or body, with the venue it came from.
#[derive(Clone, Debug)]
pub struct Entry {
    pub venue: String,
    pub payload: String,
}

#[derive(Debug, Default)]
pub struct Dict {
    pub frames: Vec<Entry>,
    pub bodies: Vec<Entry>,
}

static DICT: OnceLock<Dict> = OnceLock::new();

/// The dictionary of `target` (`adapter_<venue>` or `pipeline`); a process
/// runs one target, so the first call decides.
pub fn get(target: &str) -> &'static Dict {
    DICT.get_or_init(|| load(target))
}

pub fn load(target: &str) -> Dict {
    let wanted = target.strip_prefix("adapter_");
    let mut d = Dict::default();
    // The seeds written by `examples/seeds.rs` hold the captures' frames
    // already cut down: reading them is much faster than the captures (a
    // forked libFuzzer loads the dictionary in every job).
    let written = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let mut from_seeds = false;
    for entry in std::fs::read_dir(&written).into_iter().flatten().flatten() {
        if let Ok(bytes) = std::fs::read(entry.path()) {
            add_steps(&mut d, wanted.unwrap_or(""), &Scenario::parse(&bytes).steps);
            from_seeds = true;
        }
    }
    for path in seeds::capture_files().into_iter().filter(|_| !from_seeds) {
        let Ok((venue, steps)) = seeds::capture_steps(&path) else {
            continue;
        };
        if wanted.is_some_and(|w| w != venue.as_str()) {
            continue;
        }
        add_steps(&mut d, venue.as_str(), &steps);
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let dirs: Vec<String> = match wanted {
        Some(_) => vec![target.to_string()],
        None => depthwatch::fuzzing::targets(),
    };
    for dir in dirs {
        let venue = dir.strip_prefix("adapter_").unwrap_or("").to_string();
        for entry in std::fs::read_dir(corpus.join(&dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                add_steps(&mut d, &venue, &Scenario::parse(&bytes).steps);
            }
        }
    }
    d.frames = sample(std::mem::take(&mut d.frames));
    d.bodies = sample(std::mem::take(&mut d.bodies));
    d
}

fn add_steps(d: &mut Dict, venue: &str, steps: &[depthwatch::fuzzing::Step]) {
    let mut venue = venue.to_string();
    for s in steps {
        let entry = || Entry {
            venue: venue.clone(),
            payload: s.payload.clone(),
        };
        match s.op {
            Op::Venue => venue = s.payload.trim().to_string(),
            Op::Text | Op::Binary if s.payload.len() <= MAX_ENTRY => d.frames.push(entry()),
            Op::Http if s.payload.len() <= MAX_ENTRY => d.bodies.push(entry()),
            _ => {}
        }
    }
}

fn sample(v: Vec<Entry>) -> Vec<Entry> {
    if v.len() <= MAX_ENTRIES {
        return v;
    }
    let stride = v.len().div_ceil(MAX_ENTRIES);
    v.into_iter().step_by(stride).collect()
}
