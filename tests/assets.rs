//! The pictures in `assets/` are what the renderer draws today from the demo
//! capture, the README shows each of them, and the demo capture replays.

use std::path::Path;

use depthwatch::ui::assets::{DEMO_CAPTURE, demo_pictures, path_of};
use depthwatch::ui::panes::PANES;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_pictures_are_what_the_renderer_draws_today() {
    let pictures = demo_pictures(repo()).expect("the demo capture replays");
    // Every pane but Logs (see `ui::assets::pictures`).
    assert_eq!(pictures.len(), PANES.len() - 1, "one picture per pane");
    let mut stale = Vec::new();
    for p in &pictures {
        let path = path_of(repo(), p);
        match std::fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == p.svg => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nregenerate with `cargo run --example assets` and commit the pictures",
        stale.join("\n")
    );
}

#[test]
fn the_pictures_are_drawn_the_same_every_time() {
    let a = demo_pictures(repo()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = demo_pictures(repo()).unwrap();
    assert!(
        a == b,
        "rendering the same capture twice gave different pictures"
    );
}

#[test]
fn the_readme_shows_every_picture() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for p in demo_pictures(repo()).unwrap() {
        let link = format!("(assets/{})", p.file);
        assert!(readme.contains(&link), "README does not show {link}");
    }
}

#[test]
fn the_demo_capture_replays_with_every_simulated_venue_live() {
    let capture = repo().join(DEMO_CAPTURE);
    let cfg = depthwatch::ui::assets::demo_engine_config(&capture).unwrap();
    let snap = depthwatch::ui::assets::replayed_snapshot(&capture, cfg).unwrap();
    let mut venues: Vec<_> = snap
        .instruments
        .iter()
        .flat_map(|v| {
            v.venues
                .iter()
                .filter(|b| b.state.is_live())
                .map(|b| b.venue)
        })
        .collect();
    venues.sort();
    venues.dedup();
    assert_eq!(
        venues,
        depthwatch::sim::venues(),
        "live venues after the replay"
    );
    assert!(!snap.arbs.is_empty() || !snap.arb_history.is_empty());
}
