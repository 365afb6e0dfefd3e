//! `depthwatch completions SHELL` and `depthwatch man`: generated from the
//! same clap definition that parses the command line, so they cannot drift.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::Cli;

/// Write the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "depthwatch", out);
    Ok(())
}

/// Write the main man page (`depthwatch.1`).
pub fn man_page(out: &mut dyn Write) -> Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)?;
    Ok(())
}

/// Write `depthwatch.1` and `depthwatch-<command>.1` for every command into
/// `dir`; returns the file names written.
pub fn man_pages(dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    let root = Cli::command();
    let mut pages = vec![("depthwatch".to_string(), root.clone())];
    for sub in root.get_subcommands() {
        let name = format!("depthwatch-{}", sub.get_name());
        // The page's synopsis names the full command.
        let sub = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("depthwatch {}", sub.get_name()));
        pages.push((name, sub));
    }
    for (name, cmd) in pages {
        let file = format!("{name}.1");
        let path = dir.join(&file);
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd).title(&name).render(&mut buf)?;
        std::fs::write(&path, buf).with_context(|| format!("writing {}", path.display()))?;
        written.push(file);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_every_command() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
            clap_complete::Shell::Elvish,
            clap_complete::Shell::PowerShell,
        ] {
            let mut out = Vec::new();
            completions(shell, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            for sub in Cli::command().get_subcommands() {
                assert!(text.contains(sub.get_name()), "{shell}: {}", sub.get_name());
            }
            assert!(text.contains("--headless"), "{shell}");
        }
    }

    #[test]
    fn man_page_documents_the_options_and_commands() {
        let mut out = Vec::new();
        man_page(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(".ie"), "{}", &text[..40]);
        assert!(text.contains(".TH depthwatch 1"));
        assert!(text.contains("\\-\\-demo"));
        assert!(text.contains("check\\-config"));
    }

    #[test]
    fn man_pages_are_written_one_per_command() {
        let dir = tempfile::tempdir().unwrap();
        let files = man_pages(dir.path()).unwrap();
        assert!(files.contains(&"depthwatch.1".to_string()));
        assert!(files.contains(&"depthwatch-replay.1".to_string()));
        assert_eq!(files.len(), 1 + Cli::command().get_subcommands().count());
        let replay = std::fs::read_to_string(dir.path().join("depthwatch-replay.1")).unwrap();
        assert!(replay.contains("\\-\\-speed"));
    }

    #[test]
    fn the_readme_lists_every_command() {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("## Commands")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("README has a Commands section");
        for sub in Cli::command().get_subcommands() {
            let row = format!("| `depthwatch {}", sub.get_name());
            assert!(table.contains(&row), "README Commands table lacks {row}");
        }
    }

    #[test]
    fn version_names_the_package_version() {
        assert!(crate::VERSION.starts_with(env!("CARGO_PKG_VERSION")));
        let long = Cli::command().render_version();
        assert!(long.contains(crate::VERSION), "{long}");
    }
}
