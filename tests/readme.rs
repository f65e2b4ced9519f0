//! The README's key table is for staff: it must not drift from the key map.

use rightsdesk::tui::keymap::{KeyMap, Scope};

#[test]
fn readme_lists_every_default_key() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for b in KeyMap::default().bindings {
        let scope = match b.scope {
            Scope::Queue => "| queue |",
            Scope::Case => "| case |",
            Scope::Global => "| everywhere |",
        };
        for k in &b.keys {
            let key = format!("`{k}`");
            let found = readme.lines().any(|l| {
                (l.starts_with(scope) || b.scope == Scope::Global && l.starts_with("| queue |"))
                    && l.contains(&key)
            });
            assert!(
                found,
                "README's key table lacks {key} ({}) in {scope}",
                b.action.name()
            );
        }
    }
}

/// The README's shell example of a case, run as written on a fresh store
/// with the binary on PATH; the first command that fails fails the test.
#[test]
fn the_shell_example_runs_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Working a case from the shell")
        .nth(1)
        .expect("the README has its shell section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the section opens with a sh block");
    let t = tempfile::tempdir().unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("bash")
        .args(["-e", "-u", "-o", "pipefail", "-x", "-c", block])
        .env("PATH", path)
        .env("HOME", t.path())
        .env("RIGHTSDESK_DATA_DIR", t.path().join("data"))
        .env_remove("RIGHTSDESK_SOCKET")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's shell example stopped:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2024-12-27"), "{stdout}");
    assert!(stdout.contains("closed"), "{stdout}");
    assert!(stdout.contains("audit chain intact"), "{stdout}");
}
