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
            Scope::Confirm => "| confirmation |",
            Scope::Person => "| person view |",
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
    let path = path_with_binary();
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

/// Every `sh` block of the README: each one a newcomer can run here runs
/// as written, on a fresh store, in a folder holding the files it names
/// (real-shaped exports from the fixtures, under the README's names); the
/// first command that fails fails the test. A block that installs on a
/// server (sudo, systemd) or builds the project (cargo) is left to the
/// administrator and CI, and said so here by name.
#[test]
fn every_shell_block_runs_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split("\n```").next())
        .collect();
    let fixtures = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/import"
    ));
    let path = path_with_binary();
    let (mut ran, mut left) = (0, Vec::new());
    for block in &blocks {
        if block.contains("sudo ") || block.contains("cargo ") {
            left.push(block.lines().next().unwrap_or_default().to_string());
            continue;
        }
        let t = tempfile::tempdir().unwrap();
        let work = t.path().join("work");
        std::fs::create_dir(&work).unwrap();
        for (from, to) in [
            ("hubspot-contacts.csv", "contacts.csv"),
            ("eventbrite-attendees.csv", "attendees.csv"),
            ("mailchimp-subscribed.csv", "members_export.csv"),
            ("takeout.mbox", "All mail.mbox"),
            ("excel-semikolon-1252.csv", "kunden.csv"),
            ("excel-unicode-text.txt", "kunden.txt"),
        ] {
            std::fs::copy(fixtures.join(from), work.join(to)).unwrap();
        }
        std::fs::copy(
            fixtures.join("../inbox/corpus/takeout.mbox"),
            work.join("privacy.mbox"),
        )
        .unwrap();
        std::fs::write(
            work.join("crm.csv"),
            "ID,Full Name,E-mail,Tel,Org,Updated\nC-1,Jürgen Müller,jurgen@example.de,+49 30 123456,Harbour & Co,2024-08-01\n",
        )
        .unwrap();
        std::fs::write(work.join("names.txt"), "muller\nana garcia\n").unwrap();
        let out = std::process::Command::new("bash")
            .args(["-e", "-u", "-o", "pipefail", "-x", "-c", block])
            .current_dir(&work)
            .env("PATH", &path)
            .env("HOME", t.path())
            .env("RIGHTSDESK_DATA_DIR", t.path().join("data"))
            .env_remove("RIGHTSDESK_SOCKET")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "a README block stopped:\n{block}\n--\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(
        ran >= 3,
        "the shell example, the imports and the charsets run: {ran}"
    );
    assert_eq!(
        left.len(),
        4,
        "only the quick start, the scale bench, the install and the admin commands are left: {left:#?}"
    );
}

/// PATH with the built binary's folder first, so `rightsdesk` in a README
/// block is the one under test.
fn path_with_binary() -> String {
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .parent()
        .unwrap()
        .to_path_buf();
    format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
