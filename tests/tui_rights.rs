//! Each right worked in the desk from a verified case to closure, by keys:
//! the tasks the plan created, the marks and lists written, the audit entries.

mod common;

use common::*;
use ratatui::crossterm::event::KeyCode::*;
use rightsdesk::domain::{Case, CaseId, Right, State, TaskStatus};
use rightsdesk::tui::app::{App, Popup, Purpose, Screen};

fn top(app: &App) -> Option<&Popup> {
    app.popups.last()
}

/// A desk whose lookup holds Jürgen Müller (HubSpot, web-forms) and Łukasz
/// Nowak (Mailchimp, marketing), with one case for Jürgen asking `rights`,
/// opened on the case screen.
fn desk_with_case(dir: &std::path::Path, rights: &[Right]) -> (App, CaseId) {
    let fixture = |n: &str| {
        std::path::PathBuf::from(format!(
            "{}/tests/fixtures/import/{n}",
            env!("CARGO_MANIFEST_DIR")
        ))
    };
    let d = desk(dir);
    d.import(
        "web-forms",
        &fixture("hubspot-contacts.csv"),
        &Default::default(),
        &mut |_, _| {},
    )
    .unwrap();
    d.import(
        "marketing",
        &fixture("mailchimp-subscribed.csv"),
        &Default::default(),
        &mut |_, _| {},
    )
    .unwrap();
    let case = d
        .open_case({
            let mut new =
                common::new_case("Jürgen Müller", "J.Mueller@Example.de", rights.to_vec());
            new.subject.phones = vec!["+49 30 1234567".into()];
            new
        })
        .unwrap();
    let mut app = app_of(d);
    key(&mut app, Enter);
    assert_eq!(app.screen, Screen::Case(case.id));
    (app, case.id)
}

/// Verifies identity by keys; the plan pops up; returns its (source, action) rows.
fn verify_and_see_plan(app: &mut App) -> Vec<(String, String)> {
    key(app, Char('v'));
    key(app, Tab);
    typ(app, "replied from the address on file");
    keys(app, &[Tab, Tab, Enter]);
    let Some(Popup::Plan { proposal, .. }) = top(app) else {
        panic!(
            "the plan should pop up after verification: {:?}",
            app.popups
        )
    };
    proposal
        .tasks
        .iter()
        .map(|t| (t.source.clone(), t.action.clone()))
        .collect()
}

/// Works every pending task with `t` (the form opens on the next one), marks
/// the case ready and closes it as fulfilled, confirming in the modal.
fn work_and_close(app: &mut App, id: CaseId) -> Case {
    work_tasks(app, id);
    key(app, Char('m'));
    assert_eq!(app.desk.case(id).unwrap().case.state, State::ReadyToRespond);
    close_fulfilled(app, "")
}

/// Records every pending task with `t` (the form opens on the next one).
fn work_tasks(app: &mut App, id: CaseId) {
    for _ in 0..40 {
        let case = app.desk.case(id).unwrap().case;
        let Some(next) = case.pending_tasks().next().cloned() else {
            break;
        };
        key(app, Char('t'));
        assert!(matches!(
            top(app),
            Some(Popup::Form {
                purpose: Purpose::Task(_),
                ..
            })
        ));
        key(app, Tab); // the source is the pending task's
        let note = if next.action.starts_with("keep: exempt") {
            keys(app, &[Right, Right]); // exempt
            "invoices kept 6 years under tax law"
        } else if next.action.starts_with("search") {
            key(app, Right); // not-found
            "searched by e-mail and phone: nothing"
        } else {
            "alice deleted the contact from HubSpot"
        };
        keys(app, &[Tab, Tab]);
        typ(app, note);
        key(app, Enter);
        assert!(app.popups.is_empty(), "{:?}", app.popups);
    }
}

/// Closes the case on screen as fulfilled; a gap the form asks about gets
/// `gap_reason` (an empty one leaves the close refused).
fn close_fulfilled(app: &mut App, gap_reason: &str) -> Case {
    let id = app.current_case().expect("on a case");
    key(app, Char('c'));
    keys(app, &[Tab, Tab, Tab]); // fulfilled, responded today, by the request's channel
    typ(app, "done in every source");
    // summary, no fee (and for erasure, identifiers not kept) → submit
    for _ in 0..8 {
        key(app, Enter);
        if matches!(top(app), Some(Popup::Confirm { .. })) {
            break;
        }
        if let Some(Popup::Form { form, .. }) = top(app) {
            if form.fields[form.focus].key.starts_with("gap")
                && form.fields[form.focus].text.is_empty()
            {
                typ(app, gap_reason);
            }
        }
    }
    key(app, Char('y'));
    let c = app.desk.case(id).unwrap().case;
    assert_eq!(c.state, State::Closed);
    c
}

/// The screen as text, as ratatui's TestBackend draws it at 100×30.
fn screen(app: &App) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
    term.draw(|f| f.render_widget(app, f.area())).unwrap();
    format!("{:?}", term.backend())
}

fn audit_kinds(app: &App, id: CaseId) -> Vec<String> {
    let kinds = app
        .desk
        .local()
        .unwrap()
        .audit_log(Some(id))
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(matches!(
        app.desk.verify_audit(None),
        Ok(rightsdesk::service::ops::AuditCheck::Intact { .. })
    ));
    kinds
}

#[test]
fn erasure_plans_marks_backups_suppresses_and_reduces_the_case() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, id) = desk_with_case(t.path(), &[Right::Erasure]);
    // The desk's index is running and its file holds the person.
    let index_file = t.path().join("store").join("lookup.idx");
    let in_index = |needle: &[u8]| {
        common::cli::files_holding(&t.path().join("store"), needle)
            .iter()
            .any(|p| p.ends_with("lookup.idx"))
    };
    {
        use rightsdesk::service::ops::Operations;
        let d = app.desk.local().unwrap();
        // The first lookup starts the index; the next finds the person.
        Operations::lookup(d, "mueller".into(), 5).unwrap();
        d.settle();
        let found = Operations::lookup(d, "mueller".into(), 5).unwrap();
        assert!(!found.groups.is_empty());
    }
    assert!(in_index(b"j.mueller@example.de"), "precondition: indexed");
    let plan = verify_and_see_plan(&mut app);
    assert_eq!(plan[0], ("web-forms".into(), "erase".into()), "found first");
    assert!(plan.contains(&(
        "backups".into(),
        "mark backup for re-erasure on restore".into()
    )));
    assert!(plan
        .iter()
        .any(|(s, a)| s == "invoicing" && a.starts_with("keep: exempt")));
    // Not found in events: no Art. 19 notice proposed there.
    assert!(!plan.contains(&("events".into(), "notify recipient of erasure".into())));
    key(&mut app, Enter); // record every proposed task
    assert!(app.popups.is_empty());

    let marks = app.desk.local().unwrap().backup_marks().unwrap();
    assert_eq!(marks.len(), 4, "one mark per backup set");
    assert!(marks
        .iter()
        .all(|m| m.case == id && m.re_erase_on_restore && m.expires.is_some()));
    let list = app.desk.local().unwrap().suppression_list().unwrap();
    // The case's e-mail and phone, and the two other addresses of the
    // HubSpot record the person was found under: hashed.
    assert_eq!(list.len(), 4, "every identity the person was found under");

    let c = work_and_close(&mut app, id);
    assert!(c.tasks.iter().all(|t| t.status != TaskStatus::Pending));
    let exempt = c.tasks.iter().find(|t| t.source == "invoicing").unwrap();
    assert_eq!(exempt.status, TaskStatus::Exempt);
    assert!(c.subject.emails[0].starts_with("hash:") && c.subject.phones.is_empty());
    // The person's records left the desk's index, and once its file is
    // written again (behind the scenes) their bytes are in no file of it.
    assert!(app.desk.local().unwrap().holdings(&c).by_source.is_empty());
    app.desk.local().unwrap().settle();
    for needle in [
        &b"j.mueller@example.de"[..],
        b"juergen@privat.example",
        b"49301234567",
    ] {
        assert!(
            !in_index(needle),
            "{} still in {}",
            String::from_utf8_lossy(needle),
            index_file.display()
        );
    }
    assert!(index_file.exists(), "written again, not just removed");
    // An import at once after: it lays no delta over an index of the
    // records as they were before the erasure.
    {
        let d = app.desk.local().unwrap();
        d.import(
            "marketing",
            std::path::Path::new(&format!(
                "{}/tests/fixtures/import/mailchimp-subscribed.csv",
                env!("CARGO_MANIFEST_DIR")
            )),
            &Default::default(),
            &mut |_, _| {},
        )
        .unwrap();
        d.settle();
    }
    for needle in [&b"j.mueller@example.de"[..], b"49301234567"] {
        assert!(!in_index(needle), "{}", String::from_utf8_lossy(needle));
    }
    assert!(app.case_flags.erased && app.case_flags.do_not_market);
    assert!(screen(&app).contains("ERASED"), "{}", screen(&app));
    let kinds = audit_kinds(&app, id);
    assert_eq!(kinds.first().map(String::as_str), Some("opened"));
    assert!(kinds.contains(&"planned".to_string()));
    assert_eq!(kinds.last().map(String::as_str), Some("closed"));
    let entries = app.desk.local().unwrap().audit_log(Some(id)).unwrap();
    let planned = entries.iter().find(|e| e.kind == "planned").unwrap();
    assert_eq!(planned.detail["backup_marks"], 4);
    let closed = entries.last().unwrap();
    assert_eq!(closed.detail["records_removed"], 1);
    assert_eq!(closed.detail["pseudonymised"], true);

    // After a restore, B on the queue finds the person's rows (any letter case,
    // any phone format) and nobody else's.
    let restored = t.path().join("restored-hubspot.csv");
    std::fs::write(
        &restored,
        "Record ID,First Name,Last Name,Email,Phone Number\n\
         9001,J,M,J.MUELLER@EXAMPLE.DE,\n\
         9002,Ana,García,ana.garcia@example.es,\n\
         9003,Jürgen,Müller,,0049-30-1234567\n",
    )
    .unwrap();
    key(&mut app, Char('B'));
    typ(&mut app, restored.to_str().unwrap());
    keys(&mut app, &[Enter, Enter]);
    let Some(Popup::Message { body, error, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(*error, "rows to erase again are a warning");
    assert!(body.starts_with("2 row(s)"), "{body}");
    assert!(
        body.contains("key 9001") && body.contains("key 9003") && !body.contains("9002"),
        "{body}"
    );
    key(&mut app, Enter);

    // The closing letter says when the backups expire.
    key(&mut app, Char('L'));
    let Some(Popup::Letter { report, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    let body = report.to_text();
    assert!(body.contains("expire by"), "{body}");
    // The letter scrolls at 80x24: its last section is reachable.
    for _ in 0..60 {
        key(&mut app, Char('j'));
    }
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    term.draw(|f| f.render_widget(&app, f.area())).unwrap();
    let shown = format!("{:?}", term.backend());
    assert!(shown.contains("supervisory"), "{shown}");

    // After a restart, the lookup has no record of the erased person.
    drop(app);
    let d = common::desk(t.path());
    use rightsdesk::service::ops::Operations;
    Operations::lookup(&d, "mueller".into(), 10).unwrap();
    d.settle();
    let found = Operations::lookup(&d, "j.mueller".into(), 10).unwrap();
    assert!(
        !found
            .groups
            .iter()
            .flat_map(|g| &g.hits)
            .any(|h| h.hit.source == "web-forms"),
        "{found:?}"
    );
}

#[test]
fn access_with_portability_exports_an_encrypted_package_from_the_desk() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, id) = desk_with_case(t.path(), &[Right::Access, Right::Portability]);
    let plan = verify_and_see_plan(&mut app);
    assert_eq!(plan[0], ("web-forms".into(), "collect".into()));
    assert!(plan.iter().all(|(s, _)| s != "backups"));
    // Untick the third-party task (the last one) before recording.
    key(&mut app, Char('G'));
    for _ in 0..plan.len() {
        key(&mut app, Char('j'));
    }
    key(&mut app, Char(' '));
    key(&mut app, Enter);
    let c = app.desk.case(id).unwrap().case;
    assert_eq!(c.tasks.len(), plan.len() - 1);

    key(&mut app, Char('E'));
    assert!(matches!(
        top(&app),
        Some(Popup::Form {
            purpose: Purpose::Export(_),
            ..
        })
    ));
    let out = t.path().join("exports-test");
    // Replace the folder, then a password typed twice (wrong once).
    for _ in 0..200 {
        key(&mut app, Backspace);
    }
    typ(&mut app, out.to_str().unwrap());
    key(&mut app, Tab);
    typ(&mut app, "a long enough pass");
    key(&mut app, Tab);
    typ(&mut app, "a long enough pasS");
    // Enter moves on to the last field (a reason, for unsearched sources),
    // then submits.
    key(&mut app, Enter);
    key(&mut app, Enter);
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!("a mismatch keeps the form open: {:?}", app.popups)
    };
    assert_eq!(form.error.as_deref(), Some("the two passwords differ"));
    assert!(
        form.get("password").text.is_empty(),
        "typed passwords are wiped"
    );
    typ(&mut app, "a long enough pass");
    key(&mut app, Tab);
    typ(&mut app, "a long enough pass");
    // Sources are still to search: the package goes only with a reason.
    key(&mut app, Tab);
    typ(&mut app, "the person asked for the online data first");
    key(&mut app, Enter);
    let Some(Popup::Message { title, error, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert_eq!((title.as_str(), *error), ("Access package written", false));
    let pdf = std::fs::read(out.join(format!("{id}-access.pdf"))).unwrap();
    let doc = lopdf::Document::load_mem_with_options(
        &pdf,
        lopdf::LoadOptions::with_password("a long enough pass"),
    )
    .unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    assert!(text.contains("j.mueller@example.de") || text.contains("J.Mueller@Example.de"));
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("The reason: the person asked for the online data first"),
        "{text}"
    );
    assert!(out.join(format!("{id}-portability.zip")).exists());
    key(&mut app, Enter);

    // Searches recorded after the package went out leave it out of date:
    // the close form asks why it goes without a fresh one.
    work_tasks(&mut app, id);
    key(&mut app, Char('m'));
    key(&mut app, Char('c'));
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(
        form.intro.iter().any(|l| l.contains("package out of date")),
        "{:?}",
        form.intro
    );
    key(&mut app, Esc);
    let c = close_fulfilled(&mut app, "nothing more was found: the package stands");
    assert_eq!(c.state, State::Closed);
    assert_eq!(
        c.subject.emails,
        ["j.mueller@example.de"],
        "access keeps the case whole"
    );
    let log = app.desk.local().unwrap().audit_log(None).unwrap();
    let exported = log.iter().find(|e| e.kind == "access-exported").unwrap();
    assert_eq!(exported.detail["records"], 1);
    assert!(!exported.detail.to_string().contains("pass"));
}

#[test]
fn objection_reaches_marketing_only_and_suppresses_at_once() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, id) = desk_with_case(t.path(), &[Right::Objection]);
    let plan = verify_and_see_plan(&mut app);
    assert!(plan.iter().all(|(s, _)| s == "marketing"), "{plan:?}");
    key(&mut app, Enter);
    let list = app.desk.local().unwrap().suppression_list().unwrap();
    // The case's e-mail and phone, and the HubSpot record's other two
    // addresses the lookup found him under.
    assert_eq!(list.len(), 4);
    assert!(list.iter().all(|s| s.case() == Some(id)));
    let c = work_and_close(&mut app, id);
    assert!(c
        .tasks
        .iter()
        .any(|t| t.action.contains("stop remarketing") && t.status == TaskStatus::Done));
    assert_eq!(
        c.subject.emails,
        [
            "j.mueller@example.de",
            "juergen@privat.example",
            "jm@old.example"
        ]
    );
    assert!(app.flag_sets().hashed.unwrap().do_not_market.len() == 4);
    assert!(app.case_flags.do_not_market && !app.case_flags.restricted);
    assert!(screen(&app).contains("DO NOT MARKET"));
    assert!(audit_kinds(&app, id).contains(&"planned".to_string()));
}

#[test]
fn restriction_is_flagged_and_lifted_only_after_telling_the_subject() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, id) = desk_with_case(t.path(), &[Right::Restriction]);
    let plan = verify_and_see_plan(&mut app);
    assert_eq!(plan[0], ("web-forms".into(), "mark restricted".into()));
    assert!(!plan.contains(&("events".into(), "notify recipient of restriction".into())));
    key(&mut app, Enter);
    assert!(app.flag_sets().restricted.contains("j.mueller@example.de"));
    assert!(app.case_flags.restricted);
    assert!(screen(&app).contains("RESTRICTED"), "{}", screen(&app));
    work_and_close(&mut app, id);
    assert!(
        app.flag_sets().restricted.contains("j.mueller@example.de"),
        "granted: still restricted"
    );

    key(&mut app, Char('U'));
    // The day the subject was told is typed, never assumed: empty is refused.
    key(&mut app, Tab);
    typ(&mut app, "letter");
    key(&mut app, Tab);
    typ(&mut app, "checked");
    key(&mut app, Enter);
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(form.error.is_some(), "an empty day is refused in the form");
    assert!(app.desk.case(id).unwrap().case.lift().is_none());
    key(&mut app, Esc);
    key(&mut app, Char('U'));
    // Told tomorrow: refused, the form stays with the reason.
    typ(&mut app, "2026-11-30");
    key(&mut app, Tab);
    typ(&mut app, "letter");
    key(&mut app, Tab);
    typ(&mut app, "checked");
    key(&mut app, Enter);
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(
        form.error.as_deref().unwrap_or("").contains("told before"),
        "{:?}",
        form.error
    );
    assert_eq!(
        app.popups.len(),
        1,
        "the refusal is in the form, not in a box behind it"
    );
    key(&mut app, Esc);
    assert!(app.popups.is_empty(), "{:?}", app.popups);
    key(&mut app, Char('U'));
    typ(&mut app, "2026-11-29");
    key(&mut app, Tab);
    typ(&mut app, "e-mail of today");
    key(&mut app, Tab);
    typ(&mut app, "the address was checked and is right");
    key(&mut app, Enter);
    // Lifting cannot be undone: it is confirmed first (issue 19).
    let Some(Popup::Confirm { body, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(body.contains("cannot be put back"), "{body}");
    assert!(
        app.desk.case(id).unwrap().case.lift().is_none(),
        "not before yes"
    );
    key(&mut app, Char('y'));
    assert!(app.popups.is_empty(), "{:?}", app.popups);
    let lifted = app.desk.case(id).unwrap().case;
    let (_, told_on, how, why) = lifted.lift().expect("lifted");
    assert_eq!(
        (told_on.to_string().as_str(), how, why),
        (
            "2026-11-29",
            "e-mail of today",
            "the address was checked and is right"
        )
    );
    assert!(!app.flag_sets().restricted.contains("j.mueller@example.de"));
    assert!(!app.case_flags.restricted);
    assert!(!screen(&app).contains("RESTRICTED"));
    assert!(audit_kinds(&app, id).contains(&"restriction-lifted".to_string()));
}

#[test]
fn rectification_and_consent_withdrawal_plan_their_sources() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, id) = desk_with_case(t.path(), &[Right::Rectification, Right::WithdrawConsent]);
    let plan = verify_and_see_plan(&mut app);
    assert!(plan.contains(&("web-forms".into(), "correct".into())));
    assert!(!plan.contains(&("events".into(), "notify recipient of rectification".into())));
    assert!(plan.contains(&(
        "website-analytics".into(),
        "search and stop consent-based processing".into()
    )));
    key(&mut app, Enter);
    key(&mut app, Char('R'));
    typ(&mut app, "phone");
    key(&mut app, Tab);
    typ(&mut app, "+49 30 1234567");
    key(&mut app, Tab);
    typ(&mut app, "+49 30 7654321");
    key(&mut app, Tab);
    typ(&mut app, "the subject's new number, confirmed by call-back");
    key(&mut app, Enter);
    assert!(app.popups.is_empty(), "{:?}", app.popups);
    let c = work_and_close(&mut app, id);
    assert!(c.history.iter().any(|e| matches!(&e.action, rightsdesk::domain::Action::Rectified { new, .. } if new == "+49 30 7654321")));
    let kinds = audit_kinds(&app, id);
    assert!(kinds.contains(&"rectified".to_string()));
}

#[test]
fn an_excessive_request_is_refused_with_a_fee_and_the_right_to_complain() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, id) = desk_with_case(t.path(), &[Right::Access]);
    verify_and_see_plan(&mut app);
    key(&mut app, Esc);
    key(&mut app, Char('c'));
    keys(&mut app, &[Right, Right, Right]); // refused-excessive
    keys(&mut app, &[Tab, Tab, Tab]);
    typ(&mut app, "the fourth identical request this month");
    key(&mut app, Tab);
    typ(&mut app, "EUR 25");
    ctrl(&mut app, 's'); // a refusal explains no gaps: submit from here
    key(&mut app, Char('y'));
    let c = app.desk.case(id).unwrap().case;
    let closure = c.closure.as_ref().expect("closed");
    assert_eq!(
        closure.outcome,
        rightsdesk::domain::Outcome::RefusedExcessive
    );
    assert_eq!(closure.fee.as_deref(), Some("EUR 25"));
    key(&mut app, Char('L'));
    let Some(Popup::Letter { report, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    let body = report.to_text();
    assert!(body.contains("manifestly excessive (Art. 12(5))"), "{body}");
    assert!(body.contains("fee of EUR 25"), "{body}");
    assert!(body.contains("supervisory authority"), "{body}");
}

#[test]
fn an_erasure_closed_with_keep_ids_keeps_the_address_as_evidence() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, id) = desk_with_case(t.path(), &[Right::Erasure]);
    verify_and_see_plan(&mut app);
    key(&mut app, Enter); // record the plan
    let c = app.desk.case(id).unwrap().case;
    for task in c.pending_tasks().cloned().collect::<Vec<_>>() {
        app.desk
            .take_step(
                id,
                rightsdesk::domain::Step::RecordTask {
                    source: task.source,
                    action: Some(task.action),
                    status: TaskStatus::Exempt,
                    note: "kept for the test".into(),
                },
                None,
                None,
            )
            .unwrap();
    }
    // The tasks were recorded past the desk: reopen the case so the desk
    // shows (and closes) the version that is stored, not a conflict.
    keys(&mut app, &[Esc, Enter]);
    assert_eq!(
        app.case.as_ref().unwrap().case.version,
        app.desk.case(id).unwrap().case.version
    );
    key(&mut app, Char('c'));
    keys(&mut app, &[Tab, Tab, Tab]);
    typ(
        &mut app,
        "erased; the address kept as evidence on counsel's advice",
    );
    keys(&mut app, &[Enter, Enter]); // to "Keep ids"
    key(&mut app, Char(' '));
    key(&mut app, Enter);
    key(&mut app, Char('y'));
    let c = app.desk.case(id).unwrap().case;
    assert_eq!(c.state, State::Closed);
    assert_eq!(
        c.subject.emails,
        [
            "j.mueller@example.de",
            "juergen@privat.example",
            "jm@old.example"
        ],
        "kept, as staff chose"
    );
    assert!(!c.pseudonymised());
    // The person's records still leave the index.
    assert!(app.desk.local().unwrap().holdings(&c).by_source.is_empty());
}

#[test]
fn the_letters_popup_shows_each_notice_and_records_it_as_sent() {
    use rightsdesk::domain::notice::Letter;
    let t = tempfile::tempdir().unwrap();
    let (mut app, id) = desk_with_case(t.path(), &[Right::Access]);
    // Ask for ID (confirmed), then the case owes the request's letter.
    key(&mut app, Char('i'));
    ctrl(&mut app, 's');
    key(&mut app, Char('y'));
    let owed = app.desk.case(id).unwrap().owed;
    assert_eq!(owed.len(), 1, "{owed:?}");
    let shown = {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        term.draw(|f| f.render_widget(&app, f.area())).unwrap();
        format!("{:?}", term.backend())
    };
    assert!(
        shown.contains("the request for identity of 2026-11-29: not recorded as sent"),
        "{shown}"
    );

    // L: no response before the case is ready, so the request for ID, as
    // the person reads it; Tab stays on it (the only letter the case has).
    key(&mut app, Char('L'));
    let Some(Popup::Letter { letter, report, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert_eq!(*letter, Letter::IdRequest);
    assert!(report.to_text().contains("What we accept"));
    key(&mut app, Tab);
    assert!(matches!(
        top(&app),
        Some(Popup::Letter {
            letter: Letter::IdRequest,
            ..
        })
    ));
    assert_eq!(
        app.popups.len(),
        1,
        "Tab replaces the letter: {:?}",
        app.popups
    );

    // s: when and how it went out; the default is today, by the first channel.
    key(&mut app, Char('s'));
    assert!(matches!(
        top(&app),
        Some(Popup::Form {
            purpose: Purpose::NoticeSent(_, Letter::IdRequest),
            ..
        })
    ));
    key(&mut app, ratatui::crossterm::event::KeyCode::Right);
    ctrl(&mut app, 's');
    let v = app.desk.case(id).unwrap();
    assert!(v.owed.is_empty(), "{:?}", v.owed);
    let sent = v.case.notices_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, Letter::IdRequest);
    assert_eq!(sent[0].0.on, today());
    assert_eq!(sent[0].2, rightsdesk::domain::Channel::WebForm);
}

#[test]
fn f_asks_a_fee_and_then_records_it_paid() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, id) = desk_with_case(t.path(), &[Right::Access]);
    verify_and_see_plan(&mut app);
    key(&mut app, Esc);
    key(&mut app, Char('f'));
    assert!(matches!(
        top(&app),
        Some(Popup::Form {
            purpose: Purpose::Fee(_),
            ..
        })
    ));
    typ(&mut app, "EUR 25");
    key(&mut app, Tab);
    typ(&mut app, "the fourth identical request this month");
    ctrl(&mut app, 's');
    assert!(app.popups.is_empty(), "{:?}", app.popups);
    let v = app.desk.case(id).unwrap();
    assert_eq!(
        v.case.fee_awaited().map(|(_, a, _)| a.to_string()),
        Some("EUR 25".into())
    );
    assert_eq!(v.clock.due, None, "the clock waits for the fee");
    // Asked: f now records it paid, after a confirmation.
    key(&mut app, Char('f'));
    let Some(Popup::Confirm { body, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(body.contains("fee of EUR 25"), "{body}");
    key(&mut app, Char('y'));
    let v = app.desk.case(id).unwrap();
    assert!(v.case.fee_awaited().is_none());
    assert!(v.clock.due.is_some(), "{}", v.clock.explain());
}
