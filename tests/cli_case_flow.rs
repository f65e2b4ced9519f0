//! The command line as staff and scripts use it: one process per command, so
//! every test here also proves the change survived a restart.

mod common;

use common::cli::{json, ok, run as rightsdesk};
use std::path::Path;
use std::process::Command;

fn refused(dir: &Path, args: &[&str]) -> String {
    let out = rightsdesk(dir, args);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{args:?} should be refused by the rules"
    );
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

fn open_case(dir: &Path, received: &str) -> String {
    ok(
        dir,
        &[
            "case",
            "open",
            "--right",
            "erasure",
            "--name",
            "Jürgen Müller",
            "--email",
            "J.Mueller@Example.de",
            "--channel",
            "email",
            "--received",
            received,
        ],
    )
    .trim()
    .to_string()
}

#[test]
fn deadline_prints_the_regulators_dates() {
    let t = tempfile::tempdir().unwrap();
    let out = ok(
        t.path(),
        &[
            "deadline",
            "--received",
            "2024-11-25",
            "--calendar",
            "england-and-wales",
        ],
    );
    assert_eq!(out.lines().next(), Some("2024-12-27"));
    let j = json(
        t.path(),
        &[
            "deadline",
            "--received",
            "2025-01-31",
            "--calendar",
            "england-and-wales",
            "--json",
        ],
    );
    assert_eq!(
        j,
        serde_json::json!({"received": "2025-01-31", "calendar": "england-and-wales", "due": "2025-02-28", "extended_due": "2025-04-30"})
    );
    let j = json(
        t.path(),
        &["deadline", "--received", "2024-01-31", "--json"],
    );
    assert_eq!(j["due"], "2024-02-29");
    assert_eq!(j["calendar"], "ireland", "Ireland is the default calendar");
    // The clock alone creates no store.
    assert!(!t.path().join("store").exists());
}

#[test]
fn a_case_worked_from_the_shell_survives_restarts_and_verifies() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = open_case(d, "2026-11-02");
    assert!(id.starts_with("DSR-") && id.len() == 13, "{id}");
    ok(
        d,
        &[
            "case",
            "request-id",
            &id,
            "--note",
            "asked for reply from address on file",
            "--on",
            "2026-11-02",
        ],
    );
    let c = json(d, &["case", "show", &id, "--json"]);
    assert_eq!(c["state"], "awaiting-identity");
    assert_eq!(
        c["due"],
        serde_json::Value::Null,
        "the clock stops while ID is awaited"
    );
    ok(
        d,
        &[
            "case",
            "verify",
            &id,
            "--method",
            "reply-from-address",
            "--on",
            "2026-11-05",
        ],
    );
    ok(
        d,
        &[
            "case",
            "task",
            &id,
            "web-forms",
            "--status",
            "done",
            "--note",
            "deleted from HubSpot",
        ],
    );
    ok(
        d,
        &[
            "case",
            "task",
            &id,
            "invoicing",
            "--status",
            "exempt",
            "--note",
            "tax law: Art. 17(3)(b)",
        ],
    );
    // No backup was marked for this erasure: closing as fulfilled needs a
    // reason for that gap, and the refusal names its key.
    let close = [
        "case",
        "close",
        &id,
        "--outcome",
        "fulfilled",
        "--reason",
        "erased everywhere but invoices",
    ];
    let e = refused(d, &close);
    assert!(
        e.contains("backup marks missing") && e.contains("[backup-marks]"),
        "{e}"
    );
    let mut with_reason = close.to_vec();
    with_reason.extend(["--gap", "backup-marks=no backup set holds web-form data"]);
    ok(d, &with_reason);

    let c = json(d, &["case", "show", &id, "--json"]);
    assert_eq!(c["id"], id.as_str());
    assert_eq!(c["rights"], serde_json::json!(["erasure"]));
    assert_eq!(c["state"], "closed");
    assert_eq!(c["received"], "2026-11-02");
    assert_eq!(
        c["due"], "2026-12-07",
        "ID arrived 5 Nov → 5 Dec is a Saturday → Monday 7 Dec"
    );
    assert_eq!(c["extended_due"], serde_json::Value::Null);
    assert_eq!(c["paused_days"], 0);
    assert_eq!(c["subject"]["name"], "Jürgen Müller");
    // A granted erasure keeps only a keyed hash of the address in the case.
    let kept = c["subject"]["emails"][0].as_str().unwrap();
    assert!(kept.starts_with("hash:") && kept.len() == 5 + 64, "{kept}");
    assert!(!c.to_string().contains("j.mueller@example.de"));
    assert_eq!(c["tasks"][0]["source"], "web-forms");
    assert_eq!(c["tasks"][0]["status"], "done");
    assert_eq!(c["tasks"][1]["status"], "exempt");
    assert_eq!(c["closure"]["outcome"], "fulfilled");
    assert_eq!(c["closure"]["responded_on"], c["closure"]["closed_at"]);
    assert_eq!(c["closure"]["via"], "email", "the channel it came by");
    assert_eq!(c["closure"]["gaps"][0]["key"], "backup-marks");
    assert_eq!(
        c["closure"]["gaps"][0]["reason"],
        "no backup set holds web-form data"
    );
    assert_eq!(c["closure"]["reason"], "erased everywhere but invoices");
    assert!(c["closure"]["closed_by"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));

    let v = ok(d, &["audit", "verify"]);
    assert!(v.contains("6 entries"), "{v}");
    let log = ok(d, &["audit", "log", "--case", &id, "--json"]);
    let kinds: Vec<String> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "opened",
            "id-requested",
            "verified",
            "task-recorded",
            "task-recorded",
            "closed"
        ]
    );
    // The chain holds no personal data: names and e-mails live only in the case.
    assert!(
        !log.contains("Müller") && !log.to_lowercase().contains("mueller"),
        "{log}"
    );
}

#[test]
fn illegal_transitions_are_refused_with_a_reason() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = open_case(d, "2024-01-10");
    ok(
        d,
        &[
            "case",
            "verify",
            &id,
            "--method",
            "known-details",
            "--on",
            "2024-01-10",
        ],
    );
    let e = refused(d, &["case", "extend", &id, "--reason", "complex"]);
    assert!(e.contains("before the first month ends"), "{e}");
    ok(
        d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "fulfilled",
            "--reason",
            "done",
            "--gap",
            "backup-marks=erasure asked of one web form only",
            "--gap",
            "no-work=the form's owner deleted the entry before we planned",
        ],
    );
    let e = refused(
        d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "withdrawn",
            "--reason",
            "again",
        ],
    );
    assert!(
        e.contains(&format!("cannot close {id}: it was closed (fulfilled)")),
        "{e}"
    );
    let e = refused(d, &["case", "verify", &id, "--method", "call-back"]);
    assert!(e.contains(&format!("cannot verify {id}")), "{e}");
    let e = refused(d, &["case", "task", &id, "nowhere", "--status", "done"]);
    assert!(e.contains("unknown source 'nowhere'"), "{e}");
    let e = refused(
        d,
        &[
            "case",
            "open",
            "--right",
            "access",
            "--name",
            " ",
            "--channel",
            "post",
        ],
    );
    assert!(e.contains("name: is required"), "{e}");
    // Refusals changed nothing.
    assert_eq!(json(d, &["case", "show", &id, "--json"])["version"], 3);
    ok(d, &["audit", "verify"]);
}

#[test]
fn extension_and_pause_show_in_the_case() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // Received today so the extension is in time.
    let id = ok(
        d,
        &[
            "case",
            "open",
            "--right",
            "access",
            "--right",
            "portability",
            "--name",
            "Ana García",
            "--channel",
            "web-form",
        ],
    )
    .trim()
    .to_string();
    ok(d, &["case", "verify", &id, "--method", "known-details"]);
    let c = json(
        d,
        &[
            "case",
            "extend",
            &id,
            "--reason",
            "nine systems to search",
            "--json",
        ],
    );
    assert!(c["extended_due"].is_string());
    assert!(c["extended_due"].as_str() > c["due"].as_str());
    let e = refused(d, &["case", "extend", &id, "--reason", "again"]);
    assert!(e.contains("already extended"), "{e}");
    ok(
        d,
        &[
            "case",
            "pause",
            &id,
            "--reason",
            "which account did you use?",
        ],
    );
    assert_eq!(
        json(d, &["case", "show", &id, "--json"])["state"],
        "awaiting-clarification"
    );
    ok(d, &["case", "resume", &id]);
    let list = json(d, &["case", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(json(d, &["case", "list", "--overdue", "--json"])
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn flipping_one_byte_of_an_audit_entry_is_caught_and_named() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = open_case(d, "2026-11-02");
    ok(d, &["case", "verify", &id, "--method", "known-details"]);
    ok(d, &["case", "note", &id, "called back"]);
    ok(d, &["audit", "verify"]);
    {
        let db = sled::open(d.join("store")).unwrap();
        let audit = db.open_tree("audit").unwrap();
        let key = 2u64.to_be_bytes();
        let mut v = audit.get(key).unwrap().unwrap().to_vec();
        // Flip one byte inside the actor's name, keeping the JSON readable.
        let pos = v.windows(8).position(|w| w == b"\"actor\":").unwrap() + 9;
        v[pos] ^= 0x01;
        audit.insert(key, v).unwrap();
        db.flush().unwrap();
    }
    let out = rightsdesk(d, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(5));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("audit entry #2"), "{e}");
    let j: serde_json::Value =
        serde_json::from_slice(&rightsdesk(d, &["audit", "verify", "--json"]).stdout).unwrap();
    assert_eq!(j["ok"], false);
    assert_eq!(j["entry"], 2);
}

#[test]
fn a_case_edited_outside_the_desk_is_caught() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = open_case(d, "2026-11-02");
    {
        let db = sled::open(d.join("store")).unwrap();
        let cases = db.open_tree("cases").unwrap();
        let (k, v) = cases.iter().next().unwrap().unwrap();
        let s = String::from_utf8(v.to_vec())
            .unwrap()
            .replace("2026-11-02", "2026-11-20");
        cases.insert(k, s.as_bytes()).unwrap();
        db.flush().unwrap();
    }
    let out = rightsdesk(d, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(5));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains(&format!("case {id} does not match its last audit entry #1")),
        "{e}"
    );
}

#[test]
fn a_busy_store_is_named_without_a_panic() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    open_case(d, "2026-11-02");
    // This test process is the "third" one holding the store open.
    let holder = rightsdesk::store::Store::open(&d.join("store")).unwrap();
    for _ in 0..2 {
        let out = rightsdesk(d, &["case", "list"]);
        assert_eq!(out.status.code(), Some(4));
        let e = String::from_utf8_lossy(&out.stderr);
        assert_eq!(e.lines().count(), 1, "one line: {e}");
        assert!(
            e.contains(&d.join("store").display().to_string()) && e.contains("in use"),
            "{e}"
        );
        assert!(!e.contains("panicked") && !e.contains("backtrace"), "{e}");
    }
    drop(holder);
    ok(d, &["case", "list"]);
}

#[test]
fn the_data_directory_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("desk");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000; exec '{}' case list",
            env!("CARGO_BIN_EXE_rightsdesk")
        ))
        .env("RIGHTSDESK_DATA_DIR", &d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fn walk(p: &Path, out: &mut Vec<(std::path::PathBuf, u32, bool)>) {
        let m = std::fs::metadata(p).unwrap();
        out.push((p.to_path_buf(), m.permissions().mode() & 0o777, m.is_dir()));
        if m.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                walk(&e.unwrap().path(), out);
            }
        }
    }
    let mut all = Vec::new();
    walk(&d, &mut all);
    assert!(all.len() > 3);
    for (p, mode, dir) in all {
        assert_eq!(
            mode,
            if dir { 0o700 } else { 0o600 },
            "{} is {:o}",
            p.display(),
            mode
        );
    }
    let settings = std::fs::read_to_string(d.join("settings.toml")).unwrap();
    assert!(settings.contains("calendar = \"ireland\""));
}

#[test]
fn a_bad_settings_file_is_named() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    ok(d, &["case", "list"]);
    let p = d.join("settings.toml");
    let s = std::fs::read_to_string(&p)
        .unwrap()
        .replace("\"ireland\"", "\"atlantis\"");
    std::fs::write(&p, s).unwrap();
    let out = rightsdesk(d, &["case", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("settings.toml") && e.contains("calendar") && e.contains("atlantis"),
        "{e}"
    );
}

#[test]
fn outside_text_reaches_the_terminal_inert() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = ok(
        d,
        &[
            "case",
            "open",
            "--right",
            "access",
            "--name",
            "Eve \u{1b}]52;c;aGk=\u{7}\u{202e}",
            "--channel",
            "web-form",
        ],
    )
    .trim()
    .to_string();
    for args in [vec!["case", "show", id.as_str()], vec!["case", "list"]] {
        let out = ok(d, &args);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'),
            "{out:?}"
        );
        assert!(out.contains("Eve ^[]52;c;aGk=^G"), "{out}");
    }
    assert!(ok(d, &["case", "show", &id]).contains("Eve ^[]52;c;aGk=^G<U+202E>"));
}
