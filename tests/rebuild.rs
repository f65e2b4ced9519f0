//! sled keeps overwritten bytes in its files until it rewrites them; `rebuild`
//! rewrites the whole store so an overwritten e-mail is really gone from disk.

mod common;

use common::cli::ok;

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
        !common::cli::files_holding(&d, old.as_bytes()).is_empty(),
        "precondition: sled still holds the overwritten bytes"
    );

    let out = ok(&d, &["rebuild"]);
    assert!(out.starts_with("rebuilt the store"), "{out}");
    assert!(
        common::cli::files_holding(&d, old.as_bytes()).is_empty(),
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
