//! sled keeps overwritten bytes in its files until it rewrites them; `rebuild`
//! rewrites the whole store so an overwritten e-mail is really gone from disk.

use std::path::Path;
use std::process::Command;

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(args)
        .env("RIGHTSDESK_DATA_DIR", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Whether any file under `dir` contains `needle`.
fn on_disk(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            let p = e.path();
            if p.is_dir() {
                on_disk(&p, needle)
            } else {
                std::fs::read(&p)
                    .map(|b| b.windows(needle.len()).any(|w| w == needle))
                    .unwrap_or(false)
            }
        })
}

#[test]
fn rebuild_removes_overwritten_bytes_and_keeps_everything_else() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("desk");
    let first = t.path().join("contacts.csv");
    let old = "old.address.7f3a@example.org";
    std::fs::write(&first, format!("\"Record ID\",\"First Name\",\"Last Name\",\"Email\"\n\"9001\",\"Aoife\",\"Byrne\",\"{old}\"\n")).unwrap();
    ok(&d, &["import", "web-forms", first.to_str().unwrap()]);
    let id = ok(
        &d,
        &[
            "case",
            "open",
            "--right",
            "rectification",
            "--name",
            "Aoife Byrne",
            "--channel",
            "email",
        ],
    )
    .trim()
    .to_string();
    // The same HubSpot record, re-exported with its e-mail corrected.
    std::fs::write(&first, "\"Record ID\",\"First Name\",\"Last Name\",\"Email\"\n\"9001\",\"Aoife\",\"Byrne\",\"aoife@example.ie\"\n").unwrap();
    ok(&d, &["import", "web-forms", first.to_str().unwrap()]);
    std::fs::remove_file(&first).unwrap();
    assert!(
        !ok(&d, &["lookup", "byrne", "--json"]).contains(old),
        "the index no longer has the old address"
    );
    assert!(
        on_disk(&d, old.as_bytes()),
        "precondition: sled still holds the overwritten bytes"
    );

    let out = ok(&d, &["rebuild"]);
    assert!(out.starts_with("rebuilt the store"), "{out}");
    assert!(
        !on_disk(&d, old.as_bytes()),
        "after rebuild the old address is nowhere under the data directory"
    );
    assert!(ok(&d, &["lookup", "byrne", "--json"]).contains("aoife@example.ie"));
    assert!(ok(&d, &["case", "show", &id]).contains("Aoife Byrne"));
    let v = ok(&d, &["audit", "verify"]);
    assert!(v.contains("audit chain intact"), "{v}");
    let log = ok(&d, &["audit", "log", "--json"]);
    assert!(log.contains("\"kind\":\"rebuild\""));
    let names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains("rebuild") || n.contains("store.")),
        "no leftovers: {names:?}"
    );
}
