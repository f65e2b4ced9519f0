//! The organisation's records: the closure log, and the desk's own retention.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::cli::files_holding;
use rightsdesk::domain::closure::Closing;
use rightsdesk::domain::{Outcome, Right, Step, VerificationMethod, VerificationOutcome};
use rightsdesk::service::{Desk, Now};

fn at(day: &str) -> Now {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    Now::Fixed(Utc.from_utc_datetime(&d.and_hms_opt(12, 0, 0).unwrap()))
}

/// Opens, verifies and closes an access case for `name` on `day`.
fn closed_case(desk: &mut Desk, name: &str, email: &str, day: &str, reason: &str) -> String {
    desk.set_now(at(day));
    let c = desk
        .open_case({
            let mut new = common::new_case(name, email, vec![Right::Access]);
            new.received = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
            // A phone of the person's own, from the day they wrote.
            new.subject.phones = vec![format!("+353 87 {}", day.replace('-', ""))];
            new
        })
        .unwrap();
    desk.step(
        c.id,
        Step::Verify {
            method: VerificationMethod::KnownDetails,
            outcome: VerificationOutcome::Verified,
            note: format!("{name} confirmed the address"),
        },
        None,
    )
    .unwrap();
    desk.step(
        c.id,
        Step::Note {
            text: format!("called {name} back"),
        },
        None,
    )
    .unwrap();
    // The package went out by post, before the desk (its gap explained).
    let mut closing = Closing::new(Outcome::Fulfilled, reason);
    closing.gap_reasons = vec![("access-package".into(), "sent by post".into())];
    desk.step(c.id, Step::Close(closing), None).unwrap();
    c.id.to_string()
}

#[test]
fn purge_reduces_exactly_the_cases_past_retention_and_leaves_no_trace_on_disk() {
    let t = tempfile::tempdir().unwrap();
    let mut desk = common::desk(t.path());
    let old = closed_case(
        &mut desk,
        "Zofia Purgeable",
        "zofia@purge.example",
        "2019-03-04",
        "sent",
    );
    let edge = closed_case(
        &mut desk,
        "Edgar Edge",
        "edgar@edge.example",
        "2020-12-01",
        "sent",
    );
    let recent = closed_case(
        &mut desk,
        "Rita Recent",
        "rita@recent.example",
        "2025-06-02",
        "sent",
    );
    desk.set_now(at("2026-11-29"));

    // Default 6 years: closed 4 Mar 2019 is past; closed 1 Dec 2020 is not yet.
    let dry = desk.purge(false).unwrap();
    assert_eq!(dry.retention_years, 6);
    let due: Vec<String> = dry.due.iter().map(|c| c.to_string()).collect();
    assert_eq!(due, std::slice::from_ref(&old));
    assert_eq!(dry.reduced, 0);
    assert!(
        !desk.case(dry.due[0]).unwrap().case.purged(),
        "a dry run changes nothing"
    );

    let report = desk.purge(true).unwrap();
    assert_eq!(report.reduced, 1);
    let stub = desk.case(report.due[0]).unwrap().case;
    assert_eq!(stub.subject.name, "(purged)");
    assert!(stub.subject.emails.iter().all(|e| e.starts_with("hash:")));
    assert!(stub.subject.phones.is_empty() && stub.notes.is_empty());
    assert_eq!(stub.closure.as_ref().unwrap().outcome, Outcome::Fulfilled);
    assert_eq!(stub.rights, [Right::Access]);
    // The stub keeps the same pseudonym, so the closure log still counts it.
    let rows = desk.closure_rows(None, None, false).unwrap();
    assert_eq!(rows.len(), 3);
    let v = desk.verify_audit().expect("the chain verifies after purge");
    assert_eq!(v.cases, 3);
    assert_eq!(desk.purge(false).unwrap().due.len(), 0, "purged once");
    let kinds: Vec<String> = desk
        .audit_log(Some(report.due[0]))
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.last().map(String::as_str), Some("purged"));
    drop(desk);

    rightsdesk::service::rebuild(t.path()).unwrap();
    for gone in ["Zofia", "zofia@purge.example", "87 20190304"] {
        assert_eq!(
            files_holding(t.path(), gone.as_bytes()),
            Vec::<String>::new(),
            "{gone}"
        );
    }
    // The grep does see what was kept (so an empty result above means something).
    assert!(!files_holding(t.path(), "Rita Recent".as_bytes()).is_empty());
    assert!(!files_holding(t.path(), "edgar@edge.example".as_bytes()).is_empty());
    let desk = common::desk(t.path());
    desk.verify_audit().expect("verifies after the rebuild");
    let _ = (edge, recent);
}

#[test]
fn the_closure_log_names_subjects_only_when_asked_and_logs_that() {
    let t = tempfile::tempdir().unwrap();
    let mut desk = common::desk(t.path());
    closed_case(
        &mut desk,
        "Ana García",
        "ana@example.es",
        "2026-11-02",
        "=HYPERLINK(\"http://x\")",
    );
    closed_case(
        &mut desk,
        "Bo Li",
        "bo@example.cn",
        "2026-11-03",
        "+sent by post",
    );
    desk.set_now(at("2026-11-29"));

    let rows = desk.closure_rows(None, None, false).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r.subject.starts_with("P-") && r.subject.len() == 14));
    let csv = String::from_utf8(
        rightsdesk::service::records::write_log(
            &rows,
            rightsdesk::service::records::LogFormat::Csv,
        )
        .unwrap(),
    )
    .unwrap();
    assert!(!csv.contains("García") && !csv.contains("ana@example.es"));
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
    assert!(csv.contains(",'+sent by post,"), "{csv}");
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .starts_with("id,subject,rights,received,due"));

    let named = desk.closure_rows(None, None, true).unwrap();
    assert_eq!(named[0].subject, "Ana García");
    let only_bo = desk
        .closure_rows(NaiveDate::from_ymd_opt(2026, 11, 3), None, false)
        .unwrap();
    assert_eq!(only_bo.len(), 1);

    // Reading the rows is not an export; writing them is, and is logged.
    let exported = |desk: &rightsdesk::service::Desk| {
        desk.audit_log(None)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "closures-exported")
            .collect::<Vec<_>>()
    };
    assert!(exported(&desk).is_empty());
    let out = tempfile::tempdir().unwrap();
    let face = rightsdesk::remote::backend::Backend::from(desk.clone());
    for with_subjects in [false, true] {
        face.write_closure_log(
            None,
            None,
            with_subjects,
            rightsdesk::service::records::LogFormat::Csv,
            &out.path().join("log.csv"),
        )
        .unwrap();
    }
    let exports = exported(&desk);
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[1].detail["with_subjects"], true);
    assert_eq!(exports[1].actor, "alice");
}

#[test]
fn the_shell_exports_the_log_and_purges_as_a_dry_run_by_default() {
    let t = tempfile::tempdir().unwrap();
    let mut desk = common::desk(t.path());
    closed_case(
        &mut desk,
        "Old Case",
        "old@example.ie",
        "2018-01-08",
        "@SUM(1)",
    );
    drop(desk);
    let run = |args: &[&str]| common::cli::ok(t.path(), args);
    let jsonl = run(&["closures", "export", "--format", "jsonl"]);
    let row: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(row["responded"], "2018-01-08");
    assert_eq!(row["on_time"], true);
    assert!(row["subject"].as_str().unwrap().starts_with("P-"));
    let csv = run(&["closures", "export"]);
    assert!(csv.contains(",'@SUM(1),"), "{csv}");
    let dry = run(&["purge"]);
    assert!(
        dry.contains("1 case past 6 years would be reduced (dry run"),
        "{dry}"
    );
    let applied = run(&["purge", "--apply", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&applied).unwrap();
    assert_eq!(
        (v["reduced"].as_u64(), v["rebuilt"].as_bool()),
        (Some(1), Some(true))
    );
    assert!(files_holding(t.path(), "old@example.ie".as_bytes()).is_empty());
    assert!(run(&["audit", "verify"]).contains("intact"));
}

#[test]
fn purge_counts_from_the_response_and_keeps_the_pseudonym_of_an_erased_case() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    // Answered in 2018, entered into the desk today: due for purge today.
    let mut new = common::new_case(
        "Nora Late",
        "nora@late.example",
        vec![Right::Access, Right::Erasure],
    );
    new.received = NaiveDate::from_ymd_opt(2018, 5, 2).unwrap();
    new.subject.phones = vec!["+353 87 1111111".into()];
    new.subject.emails.push("nora.second@late.example".into());
    let c = desk.open_case(new).unwrap();
    desk.step(
        c.id,
        Step::Verify {
            method: VerificationMethod::KnownDetails,
            outcome: VerificationOutcome::Verified,
            note: String::new(),
        },
        Some(NaiveDate::from_ymd_opt(2018, 5, 3).unwrap()),
    )
    .unwrap();
    let before = desk.pseudonym(&desk.case(c.id).unwrap().case);
    let mut closing = Closing::new(Outcome::Fulfilled, "answered by post in 2018");
    closing.responded_on = Some(NaiveDate::from_ymd_opt(2018, 5, 20).unwrap());
    closing.gap_reasons = vec![
        ("access-package".into(), "sent by post in 2018".into()),
        (
            "backup-marks".into(),
            "the 2018 backups are long gone".into(),
        ),
        ("no-work".into(), "erased by hand in 2018".into()),
    ];
    desk.step(c.id, Step::Close(closing), None).unwrap();
    let erased = desk.case(c.id).unwrap().case;
    assert!(erased.pseudonymised());
    assert_eq!(
        desk.pseudonym(&erased),
        before,
        "erasure keeps the pseudonym"
    );

    let due = desk.purge(false).unwrap().due;
    assert_eq!(
        due,
        [c.id],
        "six years from the response, not from today's entry"
    );
    desk.purge(true).unwrap();
    let stub = desk.case(c.id).unwrap().case;
    assert!(stub.purged());
    assert_eq!(desk.pseudonym(&stub), before, "purge keeps the pseudonym");
}
