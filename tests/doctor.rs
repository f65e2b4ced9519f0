//! `rightsdesk doctor` checks the setup a newcomer gets wrong: the shipped
//! organisation's name, a bad settings file, a team socket nobody answers.

mod common;

use common::cli::{ok, private_dir, run};

#[test]
fn the_shipped_organisation_is_pointed_out_until_it_is_changed() {
    let t = private_dir();
    let d = t.path();
    ok(d, &["case", "list"]); // the first start writes settings.toml
    let said = ok(d, &["doctor"]);
    assert!(
        said.contains("advice") && said.contains("'Infotrode', the shipped example"),
        "{said}"
    );
    assert!(
        said.contains("the PDF font") && said.contains("holiday calendar"),
        "{said}"
    );
    let file = d.join("settings.toml");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "organisation = \"Infotrode\"",
        "organisation = \"Acme Ltd\"",
    );
    std::fs::write(&file, text).unwrap();
    let said = ok(d, &["doctor"]);
    assert!(!said.contains("shipped example"), "{said}");
    assert!(said.contains("organisation: Acme Ltd"), "{said}");
}

#[test]
fn a_bad_settings_file_and_a_dead_socket_are_problems() {
    let t = private_dir();
    let d = t.path();
    ok(d, &["case", "list"]);
    std::fs::write(d.join("settings.toml"), "organisation = 3\n").unwrap();
    // A socket left by a service that stopped: it exists, nobody answers.
    let sock = d.join("rightsdesk.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    let out = run(d, &["doctor"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("PROBLEM settings") && said.contains("settings.toml: line 1"),
        "{said}"
    );
    std::fs::remove_file(d.join("settings.toml")).unwrap();
    let out = run(d, &["doctor"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("advice") && said.contains("nothing answers"),
        "a stale socket is worth a look, not a failure: {said}"
    );
    // A broken catalogue of the organisation's own is a problem.
    std::fs::write(d.join("sources.toml"), "[[source]\n").unwrap();
    let out = run(d, &["doctor"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success()
            && said.contains("PROBLEM source catalogue")
            && said.contains("sources.toml"),
        "{said}"
    );
}
