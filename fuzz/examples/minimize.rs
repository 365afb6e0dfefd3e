//! Minimize a crashing input structurally, keeping the same panic (message
//! and location): drop steps, then drop JSON array elements and object
//! members of each payload, while it still panics the same way. libFuzzer's
//! `tmin` works through the custom mutator, which seldom shrinks; this is
//! the minimizer to use for `fuzz/crashes/`.
//! `cargo run --release --example minimize -- TARGET CRASH OUT`

use std::sync::Mutex;

use depthwatch::fuzzing::{Scenario, run_target};
use serde_json::Value;

static LAST: Mutex<Option<String>> = Mutex::new(None);

fn signature(target: &str, data: &[u8]) -> Option<String> {
    *LAST.lock().unwrap() = None;
    let r = std::panic::catch_unwind(|| run_target(target, data));
    r.is_err()
        .then(|| LAST.lock().unwrap().clone().unwrap_or_default())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, input, out] = args.as_slice() else {
        eprintln!("usage: minimize TARGET CRASH OUT");
        std::process::exit(2);
    };
    std::panic::set_hook(Box::new(|info| {
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
        *LAST.lock().unwrap() = Some(format!("{msg} at {at}"));
    }));
    let data = std::fs::read(input).expect("read crash");
    let Some(want) = signature(target, &data) else {
        eprintln!("{input} does not crash {target}");
        std::process::exit(1);
    };
    eprintln!("panic: {want}");
    let mut sc = Scenario::parse(&data);
    let same = |sc: &Scenario| signature(target, &sc.to_bytes()).as_deref() == Some(want.as_str());
    assert!(same(&sc), "the parsed scenario must crash the same way");
    // Steps, last first.
    let mut i = sc.steps.len();
    while i > 0 {
        i -= 1;
        let mut t = sc.clone();
        t.steps.remove(i);
        if same(&t) {
            sc = t;
        }
    }
    // Members of each JSON payload, repeated until nothing more goes.
    loop {
        let mut shrunk = false;
        for s in 0..sc.steps.len() {
            let Ok(v) = serde_json::from_str::<Value>(&sc.steps[s].payload) else {
                continue;
            };
            let mut k = 0;
            let mut cur = v;
            while let Some(smaller) = without_nth(&cur, k) {
                let mut t = sc.clone();
                t.steps[s].payload = smaller.to_string();
                if same(&t) {
                    sc = t;
                    cur = smaller;
                    shrunk = true;
                } else {
                    k += 1;
                }
            }
        }
        if !shrunk {
            break;
        }
    }
    std::fs::write(out, sc.to_bytes()).expect("write");
    eprintln!("{} → {} bytes: {out}", data.len(), sc.to_bytes().len());
}

/// The tree without its `n`th removable member (pre-order over array
/// elements and object entries), or `None` past the last.
fn without_nth(v: &Value, n: usize) -> Option<Value> {
    fn walk(v: &mut Value, n: &mut usize) -> bool {
        match v {
            Value::Array(a) => {
                for i in 0..a.len() {
                    if *n == 0 {
                        a.remove(i);
                        return true;
                    }
                    *n -= 1;
                    if walk(&mut a[i], n) {
                        return true;
                    }
                }
                false
            }
            Value::Object(m) => {
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    if *n == 0 {
                        m.shift_remove(&k);
                        return true;
                    }
                    *n -= 1;
                    if walk(m.get_mut(&k).unwrap(), n) {
                        return true;
                    }
                }
                false
            }
            _ => false,
        }
    }
    let mut c = v.clone();
    let mut n = n;
    walk(&mut c, &mut n).then_some(c)
}
