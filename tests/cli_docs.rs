//! The generated shell completions and man pages work with the real tools:
//! `bash -n` accepts the bash script, `man -l` renders the page.

use std::process::{Command, Stdio};

fn depthwatch(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_depthwatch"))
        .args(args)
        .output()
        .expect("depthwatch runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[test]
fn bash_accepts_the_completion_script() {
    if !have("bash") {
        println!("SKIPPED: no bash on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("depthwatch.bash");
    std::fs::write(&script, depthwatch(&["completions", "bash"])).unwrap();
    let status = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success(), "bash -n rejected the completion script");
}

#[test]
fn man_renders_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let listed =
        String::from_utf8(depthwatch(&["man", "--out", dir.path().to_str().unwrap()])).unwrap();
    let pages: Vec<&str> = listed.lines().collect();
    assert!(
        pages.iter().any(|p| p.ends_with("depthwatch.1")),
        "{listed}"
    );
    if !have("man") {
        println!(
            "SKIPPED: no man on this machine (pages written: {})",
            pages.len()
        );
        return;
    }
    for page in pages {
        let out = Command::new("man")
            .args(["-l", "-P", "cat", page])
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "man -l {page}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{page}:\n{text}"
        );
    }
}

#[test]
fn version_names_the_commit_in_a_checkout() {
    let text = String::from_utf8(depthwatch(&["--version"])).unwrap();
    assert!(
        text.starts_with(concat!("depthwatch ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let in_checkout = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success());
    match in_checkout {
        Some(o) => {
            let commit = String::from_utf8_lossy(&o.stdout).trim().to_string();
            // Built from this checkout: the binary names a commit (the one it
            // was built at, which is HEAD unless a commit came after the build).
            assert!(text.contains('(') && commit.len() == 12, "{text}");
        }
        None => println!("SKIPPED: not a git checkout, --version is {}", text.trim()),
    }
}
