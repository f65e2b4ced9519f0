//! The desk's operations log: every acknowledged change is a line in
//! `rightsdesk.log`, and no line holds the person's name, address or number.

mod common;

use common::cli::run;

#[test]
fn a_scripted_session_leaves_a_log_without_personal_data() {
    let t = tempfile::tempdir().unwrap();
    // The officer's export sits beside the data directory, not in it.
    let data = t.path().join("data");
    let d = data.as_path();
    let fixture = |n: &str| format!("{}/tests/fixtures/import/{n}", env!("CARGO_MANIFEST_DIR"));
    let csv = t.path().join("zelda.csv");
    std::fs::write(
        &csv,
        "Record ID,First Name,Last Name,Email,Phone Number\n77,Zelda,Privacy,zelda@private.example,+353 86 123 4567\n",
    )
    .unwrap();
    let out = run(
        d,
        &[
            "import",
            "web-forms",
            csv.to_str().unwrap(),
            "--format",
            "hubspot",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run(
        d,
        &["import", "events", &fixture("eventbrite-attendees.csv")],
    );
    let id = String::from_utf8(
        run(
            d,
            &[
                "case",
                "open",
                "--right",
                "erasure",
                "--right",
                "access",
                "--name",
                "Zelda Privacy",
                "--email",
                "zelda@private.example",
                "--phone",
                "+353 86 123 4567",
                "--channel",
                "web-form",
            ],
        )
        .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let backup = t.path().join("backups-folder").join("backup.jsonl");
    let script: Vec<Vec<&str>> = vec![
        vec![
            "case",
            "verify",
            &id,
            "--method",
            "call-back",
            "--note",
            "Zelda Privacy confirmed +353 86 123 4567",
        ],
        vec!["case", "note", &id, "zelda@private.example asked twice"],
        vec!["case", "plan", &id, "--accept"],
        vec![
            "case",
            "task",
            &id,
            "web-forms",
            "--action",
            "erase",
            "--status",
            "done",
            "--note",
            "deleted zelda@private.example from HubSpot",
        ],
        vec![
            "case",
            "pause",
            &id,
            "--reason",
            "asked Zelda which account",
        ],
        vec!["case", "resume", &id],
        vec![
            "case",
            "close",
            &id,
            "--outcome",
            "withdrawn",
            "--reason",
            "Zelda Privacy withdrew",
        ],
        vec!["closures", "export", "--with-subjects"],
        vec!["lookup", "zelda"],
        vec!["suppression", "export"],
        vec!["backup", "--out", backup.to_str().unwrap()],
    ];
    for args in &script {
        run(d, args);
    }
    // A refused step (its message names the case, not the person).
    run(
        d,
        &["case", "extend", &id, "--reason", "Zelda is complicated"],
    );

    let log_path = d.join("rightsdesk.log");
    let log = std::fs::read_to_string(&log_path).expect("the desk writes its log");
    for kind in [
        "imported",
        "opened",
        "verified",
        "noted",
        "planned",
        "task-recorded",
        "paused",
        "closed",
        "closures-exported",
        "backup",
    ] {
        assert!(
            log.lines().any(|l| l.split(' ').nth(2) == Some(kind)),
            "no {kind} line in:\n{log}"
        );
    }
    for secret in [
        "Zelda",
        "zelda",
        "Privacy",
        "private.example",
        "123 4567",
        "1234567",
        "86 123",
    ] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&log_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
