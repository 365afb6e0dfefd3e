//! Replays every committed fuzz input (`fuzz/corpus/<target>/*` and
//! `fuzz/crashes/<target>/*`) through the entry points the fuzz targets use
//! (`depthwatch::fuzzing`), so a crash the fuzzer found stays fixed, on
//! stable and in seconds. Each input must not panic, must finish within
//! [`TIME_LIMIT`] and must not allocate more than [`ALLOC_LIMIT`] at once.
//!
//! Inputs that still crash today are listed in [`KNOWN_CRASHES`]: they are
//! reported (`KNOWN CRASH (to fix): …`) without failing the test, and the
//! test fails as soon as one of them stops crashing, so the list is trimmed
//! when the fix lands. See `fuzz/README.md`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use depthwatch::fuzzing;

/// Inputs that crash today, relative to `fuzz/`, with what they hit. Remove
/// an entry when its fix lands (the test says which).
// Every crash the campaigns found so far is fixed (mid and spread with
// checked arithmetic, levels validated at the adapter, OKX open interest
// through `parse::contracts_to_base`, Kraken padding done on the text); the
// inputs stay under `fuzz/crashes/` as regression tests.
const KNOWN_CRASHES: &[(&str, &str)] = &[];

/// Wall time one input may take (a debug build; the fuzzer's limit is
/// tighter in its optimised build).
const TIME_LIMIT: Duration = Duration::from_secs(60);
/// Most memory one input may hold at once above what was held before it.
const ALLOC_LIMIT: usize = 1 << 30;

/// Counts live and peak heap bytes of the whole test process (the inputs
/// run one at a time).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// `PEAK` when the last panic began (its backtrace then allocates a lot).
static PEAK_AT_PANIC: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The last panic's message and location (the hook keeps it; the default
/// hook would print known crashes as if they were failures).
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// `(target, file)` for every input under `fuzz/<kind>/<target>/`.
fn inputs(kind: &str) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(fuzz_dir().join(kind)) else {
        return out;
    };
    for dir in dirs.flatten().filter(|d| d.path().is_dir()) {
        let target = dir.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if f.path().is_file() {
                out.push((target.clone(), f.path()));
            }
        }
    }
    out.sort();
    out
}

enum Outcome {
    Ok(fuzzing::Reached),
    Panicked(String),
    Hung,
}

/// Run one input on its own thread, so a hang is reported instead of
/// stopping the test (the thread is left behind).
fn run(target: &str, data: Vec<u8>) -> (Outcome, Duration, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    PEAK_AT_PANIC.store(base, Ordering::Relaxed);
    let started = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    let target = target.to_string();
    std::thread::Builder::new()
        .name("fuzz-input".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(|| fuzzing::run_target(&target, &data));
            let _ = tx.send(r);
        })
        .expect("spawn");
    let outcome = match rx.recv_timeout(TIME_LIMIT) {
        Ok(Ok(Some(reached))) => Outcome::Ok(reached),
        Ok(Ok(None)) => Outcome::Panicked("no such fuzz target".into()),
        Ok(Err(_)) => Outcome::Panicked(
            LAST_PANIC
                .lock()
                .unwrap()
                .take()
                .unwrap_or_else(|| "panic without message".into()),
        ),
        Err(_) => Outcome::Hung,
    };
    let peak = match outcome {
        Outcome::Panicked(_) => PEAK_AT_PANIC.load(Ordering::Relaxed),
        _ => PEAK.load(Ordering::Relaxed),
    }
    .saturating_sub(base);
    (outcome, started.elapsed(), peak)
}

/// The innermost frame of this repository's code in a backtrace, as
/// `; in FUNCTION at src/FILE:LINE` (a panic inside `rust_decimal` is
/// reported where depthwatch called it).
fn first_own_frame(bt: &str) -> String {
    let lines: Vec<&str> = bt.lines().map(str::trim).collect();
    for (i, l) in lines.iter().enumerate() {
        let Some(path) = l.strip_prefix("at ") else {
            continue;
        };
        if path.contains("/rustc/") || path.contains("/.cargo/") || path.contains("fuzz_corpus.rs")
        {
            continue;
        }
        let func = i
            .checked_sub(1)
            .and_then(|j| lines[j].split_once(": "))
            .map(|(_, f)| f)
            .unwrap_or("?");
        let path = path
            .split_once(env!("CARGO_MANIFEST_DIR"))
            .map(|(_, p)| p.trim_start_matches('/'))
            .unwrap_or(path);
        return format!("; in {func} at {path}");
    }
    String::new()
}

#[test]
fn committed_fuzz_inputs_replay_without_panic_hang_or_blow_up() {
    std::panic::set_hook(Box::new(|info| {
        PEAK_AT_PANIC.store(PEAK.load(Ordering::Relaxed), Ordering::Relaxed);
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let ours = first_own_frame(&std::backtrace::Backtrace::force_capture().to_string());
        *LAST_PANIC.lock().unwrap() = Some(format!("{msg} (at {at}{ours})"));
    }));

    let targets = fuzzing::targets();
    let corpus = inputs("corpus");
    let crashes = inputs("crashes");
    let mut failures = Vec::new();
    for t in &targets {
        if !corpus.iter().any(|(ct, _)| ct == t) {
            failures.push(format!("fuzz/corpus/{t}/ is missing or empty"));
        }
    }
    let mut known_seen = Vec::new();
    let mut reached_books: std::collections::BTreeMap<String, usize> = Default::default();
    let (mut slowest, mut biggest) = ((Duration::ZERO, String::new()), (0, String::new()));
    for (target, path) in corpus.iter().chain(&crashes) {
        let rel = path
            .strip_prefix(fuzz_dir())
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        if !targets.contains(target) {
            failures.push(format!("{rel}: no fuzz target named {target}"));
            continue;
        }
        let data = std::fs::read(path).expect("read input");
        let (outcome, took, peak) = run(target, data);
        if took > slowest.0 {
            slowest = (took, rel.clone());
        }
        if peak > biggest.0 {
            biggest = (peak, rel.clone());
        }
        let known = KNOWN_CRASHES.iter().find(|(k, _)| *k == rel);
        match (outcome, known) {
            (Outcome::Ok(r), None) => {
                *reached_books.entry(target.clone()).or_default() += r.book_events;
            }
            (Outcome::Ok(_), Some(_)) => failures.push(format!(
                "{rel} no longer crashes: remove it from KNOWN_CRASHES in tests/fuzz_corpus.rs"
            )),
            (Outcome::Panicked(msg), Some((_, class))) => {
                known_seen.push(rel.clone());
                println!("KNOWN CRASH (to fix): {rel} — {class}: {msg}");
            }
            (Outcome::Panicked(msg), None) => failures.push(format!("{rel}: panicked: {msg}")),
            (Outcome::Hung, _) => failures.push(format!(
                "{rel}: still running after {TIME_LIMIT:?} (hang or unbounded work)"
            )),
        }
        if peak > ALLOC_LIMIT {
            failures.push(format!(
                "{rel}: held {} MiB at once (limit {} MiB)",
                peak >> 20,
                ALLOC_LIMIT >> 20
            ));
        }
    }
    for (k, _) in KNOWN_CRASHES {
        if !fuzz_dir().join(k).is_file() {
            failures.push(format!("KNOWN_CRASHES lists {k}, which does not exist"));
        }
    }
    // The corpus must drive each venue's adapter as far as its books, or
    // the fuzzer starts from inputs that never reach the code under test.
    for t in &targets {
        if reached_books.get(t).copied().unwrap_or(0) == 0 {
            failures.push(format!("fuzz/corpus/{t}/: no input produced a book event"));
        }
    }
    println!(
        "fuzz corpus: {} corpus and {} crash inputs replayed over {} targets, {} known crashes; slowest {:?} ({}), most memory {} KiB ({})",
        corpus.len(),
        crashes.len(),
        targets.len(),
        known_seen.len(),
        slowest.0,
        slowest.1,
        biggest.0 >> 10,
        biggest.1
    );
    // Printed as well: the panic hook installed for the replays keeps
    // assertion messages quiet.
    for f in &failures {
        println!("FAILED: {f}");
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
