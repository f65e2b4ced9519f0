//! The edges an attacker found in linking identities and in the one
//! suppression list: a recording found by its title brings no identifiers;
//! an identity linked to a case planned without one still reaches the
//! list; a register task recorded done by hand writes its register; a map
//! never loses an unsubscribe; a stray quote inside a cell is a letter; an
//! import reads only a regular file.

mod common;

use common::cli::{flagged_keys, json, ok, run};

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn a_recording_found_by_its_title_joins_the_case_without_its_hosts_address() {
    let t = tempfile::tempdir().unwrap();
    let d = &t.path().join("data");
    ok(
        d,
        &[
            "import",
            "meeting-recordings",
            &fixture("zoom-discovery-calls.json"),
        ],
    );
    let id = ok(
        d,
        &[
            "case",
            "open",
            "--right",
            "erasure",
            "--name",
            "Jürgen Müller",
            "--email",
            "jm@example.de",
            "--channel",
            "email",
        ],
    )
    .trim()
    .to_string();
    ok(
        d,
        &[
            "case",
            "link",
            &id,
            "--record",
            "meeting-recordings:qW3rT5yU7iO9pA1sD2fG4h==",
            "--note",
            "the discovery call was with him",
        ],
    );
    let c = json(d, &["case", "show", &id, "--json"]);
    assert_eq!(
        c["subject"]["emails"],
        serde_json::json!(["jm@example.de"]),
        "{c}"
    );
    assert!(c["records"]
        .to_string()
        .contains("qW3rT5yU7iO9pA1sD2fG4h=="));
}

#[test]
fn an_identity_linked_to_a_case_planned_without_one_reaches_the_list() {
    let t = tempfile::tempdir().unwrap();
    let d = &t.path().join("data");
    let id = ok(
        d,
        &[
            "case",
            "open",
            "--right",
            "objection",
            "--name",
            "Obi Jection",
            "--channel",
            "post",
        ],
    )
    .trim()
    .to_string();
    ok(d, &["case", "verify", &id, "--method", "known-details"]);
    ok(d, &["case", "plan", &id, "--accept"]);
    ok(
        d,
        &[
            "case",
            "link",
            &id,
            "--email",
            "obi@x.example",
            "--note",
            "his letter gives it",
        ],
    );
    let list = t.path().join("c.csv");
    std::fs::write(&list, "key,email\n1,obi@x.example\n2,ana@example.es\n").unwrap();
    assert_eq!(
        flagged_keys(
            d,
            &["suppression", "check", list.to_str().unwrap(), "--json"]
        ),
        ["1"]
    );
    let exported = json(d, &["suppression", "export", "--format", "json"]);
    assert_eq!(
        exported["entries"].as_array().unwrap().len(),
        1,
        "{exported}"
    );
}

#[test]
fn an_open_objection_is_caught_before_any_import_holds_the_address() {
    let t = tempfile::tempdir().unwrap();
    let d = &t.path().join("data");
    ok(
        d,
        &[
            "case",
            "open",
            "--right",
            "objection",
            "--name",
            "Tomás Ó Briain",
            "--email",
            "tomas@example.ie",
            "--channel",
            "email",
        ],
    );
    let list = t.path().join("c.csv");
    std::fs::write(&list, "key,email\n1,tomas@example.ie\n").unwrap();
    assert_eq!(
        flagged_keys(
            d,
            &["suppression", "check", list.to_str().unwrap(), "--json"]
        ),
        ["1"]
    );
}

#[test]
fn a_map_never_loses_an_unsubscribe() {
    let t = tempfile::tempdir().unwrap();
    let d = &t.path().join("data");
    let r = json(
        d,
        &[
            "import",
            "marketing",
            &fixture("mailchimp-unsubscribed.csv"),
            "--format",
            "mailchimp",
            "--map",
            "key=LEID,email=Email Address,first=First Name,last=Last Name",
            "--json",
        ],
    );
    assert_eq!(r["suppressed"], 1, "{r}");
}

#[test]
fn a_quote_inside_a_cell_is_a_letter_and_only_a_regular_file_is_read() {
    let t = tempfile::tempdir().unwrap();
    let d = &t.path().join("data");
    let f = t.path().join("irish.csv");
    std::fs::write(&f, "name,email\nSeán O\"Brien,sean@example.ie\n").unwrap();
    ok(d, &["import", "customers", f.to_str().unwrap()]);
    assert!(json(d, &["lookup", "sean@example.ie", "--json"])
        .to_string()
        .contains("O\\\"Brien"));

    let fifo = t.path().join("export.csv");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let out = run(d, &["import", "customers", fifo.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a regular file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
