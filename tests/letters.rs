//! What reaches the subject, word for word: the text of one full access
//! package and of the closing letter for every outcome, as snapshots a
//! reviewer reads (tests/snapshots/letters__*.snap). A change to any of them
//! shows up in review as a diff of the letter itself.

mod common;

use rightsdesk::domain::closure::{open_gaps, Closing};
use rightsdesk::domain::{
    Case, Outcome, Right, Step, TaskStatus, VerificationMethod, VerificationOutcome,
};
use rightsdesk::service::Desk;

fn verified(desk: &Desk, name: &str, email: &str, rights: Vec<Right>) -> Case {
    let case = desk
        .open_case(common::new_case(name, email, rights))
        .unwrap();
    desk.step(
        case.id,
        Step::Verify {
            method: VerificationMethod::KnownDetails,
            outcome: VerificationOutcome::Verified,
            note: "matched the e-mail we hold".into(),
        },
        None,
    )
    .unwrap()
}

/// Plans the case, then records every task as `status`.
fn planned(desk: &Desk, case: &Case, status: TaskStatus) -> Case {
    let p = desk.propose_plan(case.id).unwrap();
    desk.accept_plan(case.id, &p.tasks).unwrap();
    let c = desk.case(case.id).unwrap().case;
    for t in c.pending_tasks().cloned().collect::<Vec<_>>() {
        let note = match status {
            TaskStatus::Exempt => "GDPR Art. 17(3)(b): kept for the tax authority".to_string(),
            _ => "internal: checked in the admin panel".to_string(),
        };
        desk.step(
            case.id,
            Step::RecordTask {
                source: t.source,
                action: Some(t.action),
                status,
                note,
            },
            None,
        )
        .unwrap();
    }
    desk.case(case.id).unwrap().case
}

fn close(desk: &Desk, case: &Case, outcome: Outcome, reason: &str, fee: Option<&str>) -> Case {
    let mut closing = Closing::new(outcome, reason);
    closing.fee = fee.map(str::to_string);
    let now = desk.case(case.id).unwrap().case;
    closing.gap_reasons = open_gaps(&now)
        .into_iter()
        .map(|g| (g.key, "handled outside the desk".into()))
        .collect();
    desk.step(case.id, Step::Close(closing), None).unwrap()
}

fn letter(desk: &Desk, case: &Case) -> String {
    desk.closing_letter(case.id).unwrap().to_text()
}

#[test]
fn the_closing_letter_for_every_outcome() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());

    let c = verified(
        &desk,
        "Łukasz Wróbel",
        "lukasz@example.pl",
        vec![Right::Erasure],
    );
    let c = planned(&desk, &c, TaskStatus::Done);
    let c = close(&desk, &c, Outcome::Fulfilled, "erased everywhere", None);
    insta::assert_snapshot!("fulfilled_erasure", letter(&desk, &c));

    let c = verified(
        &desk,
        "Işıl Öztürk",
        "isil@example.com.tr",
        vec![Right::Access],
    );
    let c = planned(&desk, &c, TaskStatus::NotFound);
    let c = close(
        &desk,
        &c,
        Outcome::PartlyFulfilled,
        "the recordings before 2025 were already deleted",
        None,
    );
    insta::assert_snapshot!("partly_fulfilled_access", letter(&desk, &c));

    let c = verified(
        &desk,
        "Seán O’Brien",
        "sean@example.ie",
        vec![Right::Access],
    );
    let c = close(
        &desk,
        &c,
        Outcome::RefusedExcessive,
        "the fourth identical request this month",
        Some("€ 10"),
    );
    insta::assert_snapshot!("refused_excessive", letter(&desk, &c));

    let c = verified(
        &desk,
        "Søren Østergaard",
        "soren@example.dk",
        vec![Right::Rectification],
    );
    let c = close(
        &desk,
        &c,
        Outcome::RefusedUnfounded,
        "the request names data we never held",
        None,
    );
    insta::assert_snapshot!("refused_unfounded", letter(&desk, &c));

    let c = desk
        .open_case(common::new_case(
            "Дмитрий Иванов",
            "dmitry@example.bg",
            vec![Right::Access],
        ))
        .unwrap();
    let c = close(
        &desk,
        &c,
        Outcome::RefusedIdentity,
        "no reply to our request for ID",
        None,
    );
    insta::assert_snapshot!("refused_identity", letter(&desk, &c));

    let c = verified(
        &desk,
        "Γιώργος Παπαδόπουλος",
        "giorgos@example.gr",
        vec![Right::Restriction],
    );
    let p = desk.propose_plan(c.id).unwrap();
    desk.accept_plan(c.id, &p.tasks).unwrap();
    let c = close(&desk, &c, Outcome::Withdrawn, "the person withdrew", None);
    let text = letter(&desk, &c);
    assert!(!text.contains("still in progress"), "{text}");
    insta::assert_snapshot!("withdrawn_restriction", text);
}

#[test]
fn the_access_package_as_the_subject_reads_it() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    desk.import(
        "web-forms",
        std::path::Path::new(&format!(
            "{}/tests/fixtures/import/hubspot-contacts.csv",
            env!("CARGO_MANIFEST_DIR")
        )),
        None,
        None,
        &mut |_, _| {},
    )
    .unwrap();
    let c = verified(
        &desk,
        "Jürgen Müller",
        "j.mueller@example.de",
        vec![Right::Access, Right::Portability],
    );
    planned(&desk, &c, TaskStatus::NotFound);
    let package = desk.access_package(c.id, None).unwrap();
    let text = package.report.to_text();
    // Staff's working notes stay internal.
    assert!(!text.contains("internal: checked"), "{text}");
    insta::assert_snapshot!("access_package", text);
}
