//! Writes the pictures in `assets/` (one SVG per pane) from the demo
//! capture, with the real renderer:
//!
//! ```sh
//! cargo run --example assets
//! ```
//!
//! To record a new demo capture from the simulator first (about 40 s):
//!
//! ```sh
//! cargo run --release -- --demo record --out target/demo-capture --duration 40 --bundle assets/demo.jsonl.zst
//! ```

use std::path::Path;

fn main() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for picture in depthwatch::ui::assets::demo_pictures(repo)? {
        let path = depthwatch::ui::assets::path_of(repo, &picture);
        std::fs::write(&path, &picture.svg)?;
        println!("{}", path.display());
    }
    Ok(())
}
