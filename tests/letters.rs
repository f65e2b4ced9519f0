//! What reaches the subject, word for word: the text of one full access
//! package and of the closing letter for every outcome, as snapshots a
//! reviewer reads (tests/snapshots/letters__*.snap). A change to any of them
//! shows up in review as a diff of the letter itself.

mod common;

use rightsdesk::domain::closure::{open_gaps, Closing};
use rightsdesk::domain::notice::Letter;
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
    desk.letter(case.id, Letter::Response).unwrap().to_text()
}

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

#[test]
fn the_notices_on_the_way_and_the_warning_when_one_never_went_out() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    let mut new = common::new_case(
        "Małgorzata Wróblewska-Nowak",
        "malgorzata@example.pl",
        vec![Right::Access],
    );
    new.received = day("2026-10-20");
    let c = desk.open_case(new).unwrap();
    // No occasion yet: nothing to write.
    let e = desk.letter(c.id, Letter::Extension).unwrap_err();
    assert!(e.to_string().contains("was not extended"), "{e}");
    let step = |s: Step, on: &str| desk.step(c.id, s, Some(day(on))).unwrap();
    step(
        Step::RequestId {
            note: "internal: the address on file bounced once".into(),
        },
        "2026-10-21",
    );
    let text = desk.letter(c.id, Letter::IdRequest).unwrap().to_text();
    assert!(
        !text.contains("internal"),
        "the staff note stays in: {text}"
    );
    insta::assert_snapshot!("notice_id_request", text);
    let sent = |letter| Step::NoticeSent {
        letter,
        via: rightsdesk::domain::Channel::Email,
    };
    step(sent(Letter::IdRequest), "2026-10-21");
    step(
        Step::Verify {
            method: VerificationMethod::DocumentSeen,
            outcome: VerificationOutcome::Verified,
            note: String::new(),
        },
        "2026-10-24",
    );
    step(
        Step::Pause {
            reason: "which of your two accounts the request is about".into(),
        },
        "2026-10-26",
    );
    insta::assert_snapshot!(
        "notice_clarification",
        desk.letter(c.id, Letter::Clarification).unwrap().to_text()
    );
    step(sent(Letter::Clarification), "2026-10-26");
    step(Step::Resume, "2026-10-30");
    step(
        Step::Extend {
            reason: "your data is spread over eleven systems".into(),
        },
        "2026-11-02",
    );
    insta::assert_snapshot!(
        "notice_extension",
        desk.letter(c.id, Letter::Extension).unwrap().to_text()
    );
    // The extension notice never went out: the case says so, and closing
    // is still allowed (a warning, not a bar).
    let v = desk.case(c.id).unwrap();
    assert_eq!(v.owed.len(), 1, "{:?}", v.owed);
    assert!(
        v.owed[0].starts_with("the extension notice"),
        "{:?}",
        v.owed
    );
    step(sent(Letter::Extension), "2026-11-03");
    assert!(desk.case(c.id).unwrap().owed.is_empty());
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
    // Found in the event list after all: its recipients were told (Art. 19).
    desk.step(
        c.id,
        Step::RecordTask {
            source: "events".into(),
            action: Some("notify recipient of erasure".into()),
            status: TaskStatus::Done,
            note: "internal: told the Meetup organiser".into(),
        },
        None,
    )
    .unwrap();
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

    // Refused for identity only after asking and waiting the time allowed.
    let mut new = common::new_case("Дмитрий Иванов", "dmitry@example.bg", vec![Right::Access]);
    new.received = day("2026-10-12");
    let c = desk.open_case(new).unwrap();
    desk.step(
        c.id,
        Step::RequestId {
            note: String::new(),
        },
        Some(day("2026-10-13")),
    )
    .unwrap();
    desk.step(
        c.id,
        Step::NoticeSent {
            letter: Letter::IdRequest,
            via: rightsdesk::domain::Channel::Email,
        },
        Some(day("2026-10-14")),
    )
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
fn an_objection_on_legitimate_interests_weighed_and_refused_or_upheld() {
    use rightsdesk::domain::task_action::ACTION_WEIGH;
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    let weigh = |c: &Case, grounds: Option<&str>| {
        let p = desk.propose_plan(c.id).unwrap();
        desk.accept_plan(c.id, &p.tasks).unwrap();
        let now = desk.case(c.id).unwrap().case;
        for task in now.pending_tasks().cloned().collect::<Vec<_>>() {
            assert_eq!(task.action, ACTION_WEIGH);
            let (status, note) = match grounds {
                Some(g) if task.source == "correspondence" => (TaskStatus::Exempt, g),
                _ => (TaskStatus::Done, "internal: stopped in HubSpot"),
            };
            desk.step(
                c.id,
                Step::RecordTask {
                    source: task.source,
                    action: None,
                    status,
                    note: note.into(),
                },
                None,
            )
            .unwrap();
        }
    };
    let c = verified(
        &desk,
        "Tomáš Dvořák",
        "tomas@example.cz",
        vec![Right::ObjectionLegitimate],
    );
    weigh(
        &c,
        Some("our e-mails with you are needed to defend a claim you brought against us"),
    );
    let c = close(
        &desk,
        &c,
        Outcome::RefusedCompellingGrounds,
        "legal claim pending",
        None,
    );
    let text = letter(&desk, &c);
    assert!(!text.contains("internal:"), "{text}");
    insta::assert_snapshot!("objection_refused_compelling_grounds", text);

    let c = verified(
        &desk,
        "Søren Østergaard",
        "soren.o@example.dk",
        vec![Right::ObjectionLegitimate],
    );
    weigh(&c, None);
    let c = close(&desk, &c, Outcome::Fulfilled, "stopped everywhere", None);
    insta::assert_snapshot!("objection_upheld", letter(&desk, &c));
}

#[test]
fn letters_go_to_whoever_asked_and_say_for_whom() {
    use rightsdesk::domain::case::{AuthorityKind, Relation, Requester};
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    let mut new = common::new_case(
        "Γιώργος Παπαδόπουλος",
        "giorgos@example.gr",
        vec![Right::Access],
    );
    new.requester = Requester {
        relation: Relation::AuthorisedAgent,
        name: Some("Brennan & Co Solicitors".into()),
        authority: Some("signed authority of 3 November".into()),
        authority_kind: Some(AuthorityKind::SignedAuthorisation),
    };
    let c = desk.open_case(new).unwrap();
    desk.step(
        c.id,
        Step::RequestId {
            note: String::new(),
        },
        None,
    )
    .unwrap();
    let notice = desk.letter(c.id, Letter::IdRequest).unwrap().to_text();
    assert!(
        notice.contains("Dear Brennan & Co Solicitors, we received the request you made as authorised agent of Γιώργος Παπαδόπουλος,"),
        "{notice}"
    );
    assert!(notice.contains("proof of your authority"), "{notice}");
    // Verified only with a word on how the authority was checked.
    let verify = |note: &str| Step::Verify {
        method: VerificationMethod::DocumentSeen,
        outcome: VerificationOutcome::Verified,
        note: note.into(),
    };
    let e = desk.step(c.id, verify(""), None).unwrap_err();
    assert!(e.to_string().contains("how their authority"), "{e}");
    desk.step(
        c.id,
        verify("signature matched the firm's letterhead"),
        None,
    )
    .unwrap();
    let c = close(&desk, &c, Outcome::Withdrawn, "the firm withdrew it", None);
    let text = letter(&desk, &c);
    assert!(text.contains("Dear Brennan & Co Solicitors, this letter answers the request you made as authorised agent of Γιώργος Παπαδόπουλος,"), "{text}");
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
        &Default::default(),
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
