//! Flow tests: key events through the App, then the store and audit checked.

mod common;

use common::*;
use ratatui::crossterm::event::KeyCode::*;
use rightsdesk::domain::{State, TaskStatus};
use rightsdesk::tui::app::{Effect, Popup, Purpose, Screen};

fn top(app: &rightsdesk::tui::app::App) -> Option<&Popup> {
    app.popups.last()
}

fn form_purpose(app: &rightsdesk::tui::app::App) -> Option<Purpose> {
    match top(app) {
        Some(Popup::Form { purpose, .. }) => Some(*purpose),
        _ => None,
    }
}

/// Intake: channel web-form, rights access + erasure, the subject's name and e-mail.
fn intake(app: &mut rightsdesk::tui::app::App, name: &str, email: &str) {
    key(app, Char('n'));
    assert_eq!(form_purpose(app), Some(Purpose::Intake));
    keys(app, &[Right, Enter]); // channel: web-form
    key(app, Enter); // received: today (default)
    keys(app, &[Char(' '), Right, Right, Char(' '), Enter]); // rights: access, erasure
    keys(app, &[Enter, Enter, Enter, Enter, Enter]); // requester subject, no name, no authority kind or words, not a child
    typ(app, name);
    key(app, Enter);
    typ(app, email);
    key(app, Enter);
    key(app, Enter); // phones: none → submit
}

#[test]
fn intake_verify_task_close_lands_in_the_store_and_the_audit_chain() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), false);
    intake(&mut app, "Jürgen Müller", "J.Mueller@Example.de");

    // The case is open on screen and identity verification is offered at once.
    let Screen::Case(id) = app.screen else {
        panic!("expected the case screen, popups: {:?}", app.popups)
    };
    assert_eq!(form_purpose(&app), Some(Purpose::Verify(id)));
    key(&mut app, Tab);
    typ(&mut app, "replied from the address on file");
    keys(&mut app, &[Tab, Tab, Enter]); // outcome verified, on today → submit
    assert_eq!(app.case.as_ref().unwrap().case.state, State::InProgress);
    // The plan is proposed at once; leave it for later here (tests/tui_rights.rs works it).
    assert!(
        matches!(top(&app), Some(Popup::Plan { .. })),
        "{:?}",
        app.popups
    );
    key(&mut app, Esc);
    assert!(app.popups.is_empty(), "{:?}", app.popups);

    key(&mut app, Char('t'));
    assert_eq!(form_purpose(&app), Some(Purpose::Task(id)));
    keys(&mut app, &[Right, Tab, Tab, Tab]); // source web-forms, status done, default action
    typ(&mut app, "deleted from HubSpot");
    key(&mut app, Enter);
    assert!(app.popups.is_empty(), "{:?}", app.popups);

    key(&mut app, Char('c'));
    // The form lists what is still open: no backup was marked for this erasure.
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(
        form.intro
            .iter()
            .any(|l| l.contains("backup marks missing")),
        "{:?}",
        form.intro
    );
    keys(&mut app, &[Tab, Tab, Tab]); // outcome fulfilled, responded today, sent by web-form
    typ(&mut app, "erased in every source");
    // summary, no fee, identifiers not kept, no reason for either gap (the
    // access package never sent, the backups never marked) → submit
    keys(&mut app, &[Enter, Enter, Enter, Enter, Enter]);
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!(
            "closing with open work and no reason is refused: {:?}",
            app.popups
        )
    };
    assert!(form
        .error
        .as_deref()
        .unwrap_or("")
        .contains("give a reason for each gap"));
    typ(&mut app, "the web form is not backed up");
    key(&mut app, BackTab);
    typ(&mut app, "handed over in person, outside the desk");
    keys(&mut app, &[Enter, Enter]);
    assert!(
        matches!(top(&app), Some(Popup::Confirm { .. })),
        "closing is confirmed in a modal"
    );
    // The close (it scans the index for the person's records) goes to a worker:
    // the key press only asks for it.
    let effects = app.update(rightsdesk::tui::app::Msg::Key(
        ratatui::crossterm::event::KeyEvent::from(Char('y')),
    ));
    assert!(
        matches!(effects.as_slice(), [rightsdesk::tui::app::Effect::SlowStep { case, .. }] if *case == id),
        "{effects:?}"
    );
    assert_eq!(app.desk.case(id).unwrap().case.state, State::InProgress);
    work(&mut app, effects);
    assert!(app.popups.is_empty());

    // What the desk said was saved is in the store.
    let v = app.desk.case(id).unwrap();
    let c = &v.case;
    assert_eq!(c.state, State::Closed);
    assert_eq!(c.subject.name, "Jürgen Müller");
    // Erasure granted: the closed case keeps a keyed hash, not the address.
    assert_eq!(c.subject.emails.len(), 1);
    assert!(c.subject.emails[0].starts_with("hash:"));
    assert_eq!(c.rights.len(), 2);
    assert_eq!(c.channel.as_str(), "web-form");
    assert_eq!(c.verified().unwrap().by, "alice");
    assert_eq!(c.tasks.len(), 1);
    assert_eq!(
        (c.tasks[0].source.as_str(), c.tasks[0].status),
        ("web-forms", TaskStatus::Done)
    );
    assert_eq!(c.tasks[0].action, "search and collect");
    assert_eq!(c.closure.as_ref().unwrap().reason, "erased in every source");
    let report = app.desk.verify_audit(None).unwrap();
    assert!(
        matches!(
            report,
            rightsdesk::service::ops::AuditCheck::Intact {
                entries: 4,
                cases: 1,
                ..
            }
        ),
        "{report:?}"
    );
    let kinds: Vec<_> = app
        .desk
        .local()
        .unwrap()
        .audit_log(Some(id))
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.actor))
        .collect();
    assert_eq!(
        kinds,
        [
            ("opened", "alice"),
            ("verified", "alice"),
            ("task-recorded", "alice"),
            ("closed", "alice")
        ]
        .map(|(k, a)| (k.to_string(), a.to_string()))
    );
    // The queue reflects the change without a reload: closed cases are hidden.
    assert!(app.queue.rows.is_empty());
}

#[test]
fn intake_validates_as_you_go_and_opens_nothing_until_fixed() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), false);
    key(&mut app, Char('n'));
    key(&mut app, Enter);
    // A date in the future is flagged when leaving the field.
    for _ in 0..10 {
        key(&mut app, Backspace);
    }
    typ(&mut app, "2030-01-01");
    key(&mut app, Enter);
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!()
    };
    assert_eq!(
        form.get("received").error.as_deref(),
        Some("2030-01-01 is in the future"),
        "the domain's own words"
    );
    // Leaving rights empty, then a bad e-mail, then submitting from the last field.
    keys(&mut app, &[Enter, Enter, Enter, Enter, Enter, Enter]);
    typ(&mut app, "Ana García");
    key(&mut app, Enter);
    typ(&mut app, "not-an-address");
    key(&mut app, Enter);
    key(&mut app, Enter);
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!("the form stays open")
    };
    assert!(form.get("rights").error.is_some());
    assert!(form
        .get("emails")
        .error
        .as_deref()
        .unwrap()
        .contains("not an e-mail address"));
    assert_eq!(form.error.as_deref(), Some("fix the marked fields"));
    assert_eq!(app.desk.queue().unwrap().len(), 0, "nothing was opened");
    // Esc cancels; so does ctrl-c (Esc is slow under tmux).
    ctrl(&mut app, 'c');
    assert!(app.popups.is_empty());
    assert!(!app.quit);
}

#[test]
fn the_desk_shows_the_domains_refusal() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), true);
    // Show closed cases and pick one.
    key(&mut app, Char('s'));
    while app.queue.state_filter != Some(State::Closed) {
        key(&mut app, Char('s'));
    }
    assert!(!app.queue.rows.is_empty());
    assert!(app
        .queue
        .rows
        .iter()
        .all(|&i| app.queue.views[i].case.state == State::Closed));
    key(&mut app, Enter);
    // A step only an open case takes opens no form: the domain's reason is
    // said at once (issue 19), for verify, extend and close alike.
    for k in ['v', 'e', 'c'] {
        key(&mut app, Char(k));
        match top(&app) {
            Some(Popup::Message { body, error, .. }) => {
                assert!(*error && body.contains("it was closed"), "{body}");
            }
            other => panic!("{k}: {other:?}"),
        }
        key(&mut app, Esc);
        assert!(app.popups.is_empty());
    }
}

#[test]
fn a_late_extension_is_refused_in_words() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), true);
    // The first row is the most overdue open case.
    let first = app.queue.selected_view().unwrap();
    assert!(first.clock.is_overdue());
    key(&mut app, Enter);
    // The rules say no before a form is opened: nothing typed is lost.
    key(&mut app, Char('e'));
    let Some(Popup::Message { body, error, .. }) = top(&app) else {
        panic!("{:?}", top(&app))
    };
    assert!(
        *error && body.contains("before the first month ends"),
        "{body}"
    );
    assert!(
        !app.guide
            .moves
            .contains(&rightsdesk::domain::guide::Move::Extend),
        "and the hint bar does not offer it"
    );
}

#[test]
fn queue_navigation_filters_and_counters() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), true);
    let n = app.queue.rows.len();
    assert!(n >= 30, "demo shows a real queue: {n}");
    let c = app.queue.counters();
    assert!(c.overdue >= 1 && c.awaiting_id >= 1, "{c:?}");
    // Sorted by due date, stopped clocks last.
    let dues: Vec<_> = app
        .queue
        .rows
        .iter()
        .map(|&i| app.queue.views[i].clock.effective_due())
        .collect();
    let with_date: Vec<_> = dues.iter().take_while(|d| d.is_some()).collect();
    assert!(with_date.windows(2).all(|w| w[0] <= w[1]));
    key(&mut app, Char('G'));
    assert_eq!(app.queue.selected, n - 1);
    key(&mut app, Char('g'));
    assert_eq!(app.queue.selected, 0);
    keys(&mut app, &[Char('j'), Down, PageDown]);
    assert!(app.queue.selected > 2);
    key(&mut app, PageUp);
    key(&mut app, Up);
    key(&mut app, Char('k'));
    assert_eq!(app.queue.selected, 0);
    key(&mut app, Char('r')); // right: access
    assert!(app.queue.rows.iter().all(|&i| app.queue.views[i]
        .case
        .rights
        .contains(&rightsdesk::domain::Right::Access)));
    key(&mut app, Char('0'));
    assert_eq!(app.queue.rows.len(), n);
    key(&mut app, Char('c'));
    assert!(app.queue.rows.len() > n, "closed cases shown");
}

#[test]
fn copy_mask_palette_help_and_quit() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), true);
    let id = app.queue.selected_view().unwrap().case.id;
    assert_eq!(key(&mut app, Char('y')), vec![Effect::Copy(id.to_string())]);
    key(&mut app, Char('M'));
    assert!(app.masked);
    key(&mut app, Char('?'));
    assert!(matches!(top(&app), Some(Popup::Help { .. })));
    key(&mut app, Char('q'));
    assert!(
        app.popups.is_empty() && !app.quit,
        "q closes the popup first"
    );
    key(&mut app, Char(':'));
    typ(&mut app, "new");
    key(&mut app, Enter);
    assert_eq!(
        form_purpose(&app),
        Some(Purpose::Intake),
        "the palette runs actions by name"
    );
    typ(&mut app, "q"); // inside a form, q never quits
    assert!(!app.quit);
    key(&mut app, Esc);
    key(&mut app, Char('q'));
    assert!(app.quit);
}

#[test]
fn filters_and_selection_are_remembered() {
    let t = tempfile::tempdir().unwrap();
    let mut a = app(t.path(), true);
    keys(&mut a, &[Char('s'), Char('s'), Char('s'), Char('j')]);
    let prefs = a.prefs();
    let state = a.queue.state_filter;
    let selected = a.queue.selected_view().map(|v| v.case.id);
    drop(a);
    let desk = desk(t.path());
    let b = rightsdesk::tui::app::App::new(
        desk,
        Default::default(),
        rightsdesk::tui::view::theme::Theme { mono: true },
        &prefs,
    )
    .unwrap();
    assert_eq!(b.queue.state_filter, state);
    assert_eq!(b.queue.selected_view().map(|v| v.case.id), selected);
}

#[test]
fn request_id_stops_the_clock_after_confirmation() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), false);
    intake(&mut app, "Ana García", "ana@example.ie");
    key(&mut app, Esc); // decline verification for now
    key(&mut app, Char('i'));
    // The day it was asked and what was asked, then the clock's effect.
    assert!(matches!(form_purpose(&app), Some(Purpose::RequestId(_))));
    key(&mut app, Tab);
    typ(&mut app, "a utility bill with the address");
    ctrl(&mut app, 's');
    let Some(Popup::Confirm { body, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(
        body.contains("Clock now:") && body.contains("After:"),
        "{body}"
    );
    assert!(
        !body.contains("⚠"),
        "asked the day it came: no warning: {body}"
    );
    key(&mut app, Char('y'));
    let v = app.case.as_ref().unwrap();
    assert_eq!(v.case.state, State::AwaitingIdentity);
    assert_eq!(v.clock.due, None);
    assert_eq!(app.queue.counters().awaiting_id, 1);
}

#[test]
fn id_asked_late_is_said_with_the_clocks_effect_before_it_is_taken() {
    let t = tempfile::tempdir().unwrap();
    let d = desk(t.path());
    let mut new = new_case(
        "Ana García",
        "ana@example.ie",
        vec![rightsdesk::domain::Right::Access],
    );
    new.received = today() - chrono::Days::new(27);
    let id = d.open_case(new).unwrap().id;
    let mut app = app_of(d);
    key(&mut app, Enter);
    assert_eq!(app.case.as_ref().unwrap().case.id, id);
    key(&mut app, Char('i'));
    ctrl(&mut app, 's');
    let Some(Popup::Confirm { body, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(
        body.contains("⚠ asked 27 days after the request came")
            && body.contains("ID should be asked for at once"),
        "{body}"
    );
    // "No" goes back to the form, to record the day it really went out;
    // the form keeps a bad day.
    key(&mut app, Char('n'));
    assert!(matches!(form_purpose(&app), Some(Purpose::RequestId(_))));
    ctrl(&mut app, 'u');
    typ(&mut app, "2026-13-01");
    ctrl(&mut app, 's');
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    let said = format!("{:?} {:?}", form.error, form.get("on").error);
    assert!(said.contains("YYYY-MM-DD"), "never silently today: {said}");
    ctrl(&mut app, 'u');
    let asked = today() - chrono::Days::new(25);
    typ(&mut app, &asked.to_string());
    ctrl(&mut app, 's');
    let Some(Popup::Confirm { body, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(
        !body.contains("⚠"),
        "asked two days after it came: prompt: {body}"
    );
    key(&mut app, Char('y'));
    let c = app.desk.case(id).unwrap().case;
    assert_eq!(c.history.last().unwrap().on, asked);
    assert_eq!(c.state, State::AwaitingIdentity);
}

#[test]
fn q_types_inside_text_fields() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), true);
    key(&mut app, Enter);
    key(&mut app, Char('a'));
    typ(&mut app, "quick call");
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!()
    };
    assert_eq!(form.get("note").text, "quick call");
    key(&mut app, Enter);
    assert_eq!(
        app.case.as_ref().unwrap().case.notes.last().unwrap().text,
        "quick call"
    );
}

#[test]
fn records_audit_viewer_and_closure_log_from_the_desk() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), true);
    let closed = app
        .queue
        .views
        .iter()
        .filter(|v| v.case.closure.is_some())
        .count();
    assert!(closed > 0);

    key(&mut app, Char('T'));
    let Some(Popup::Records { all, months, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert_eq!(all.closed, closed);
    assert_eq!(months.values().map(|f| f.closed).sum::<usize>(), closed);
    key(&mut app, Char('q'));

    key(&mut app, Char('A'));
    let Some(Popup::Audit(v)) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    let everything = v.shown().len();
    assert_eq!(v.case, None);
    // Filter to one kind: only that kind shows.
    while !matches!(top(&app), Some(Popup::Audit(v)) if v.kind.as_deref() == Some("closed")) {
        key(&mut app, Char('t'));
    }
    let Some(Popup::Audit(v)) = top(&app) else {
        unreachable!()
    };
    assert!(v.shown().iter().all(|e| e.kind == "closed"));
    assert_eq!(v.shown().len(), closed);
    assert!(v.shown().len() < everything);
    key(&mut app, Char('v'));
    let Some(Popup::Audit(v)) = top(&app) else {
        unreachable!()
    };
    assert_eq!(v.verified.as_ref().map(|(ok, _)| *ok), Some(true));
    key(&mut app, Char('q'));

    // From a case: only its entries, newest first.
    let id = app
        .queue
        .views
        .iter()
        .find(|v| v.case.closure.is_some())
        .unwrap()
        .case
        .id;
    key(&mut app, Char('c')); // show closed cases
    app.queue.selected = app
        .queue
        .rows
        .iter()
        .position(|&i| app.queue.views[i].case.id == id)
        .unwrap();
    key(&mut app, Enter);
    key(&mut app, Char('A'));
    let Some(Popup::Audit(v)) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    let expected = app.desk.local().unwrap().audit_log(Some(id)).unwrap();
    assert_eq!(v.entries.len(), expected.len());
    assert!(v.entries.iter().all(|e| e.case == Some(id)));
    assert_eq!(
        v.entries.first().map(|e| e.seq),
        expected.last().map(|e| e.seq)
    );
    key(&mut app, Char('q'));
    key(&mut app, Char('q')); // back to the queue

    key(&mut app, Char('X'));
    keys(&mut app, &[Enter, Enter, Enter]);
    let Some(Popup::Message { body, error, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(!error, "{body}");
    assert!(
        body.contains(&format!("{closed} closed cases written")),
        "{body}"
    );
    let file = t.path().join(format!("exports/closures-{}.csv", today()));
    let csv = std::fs::read_to_string(&file).unwrap();
    assert_eq!(csv.lines().count(), closed + 1);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let log = app.desk.local().unwrap().audit_log(None).unwrap();
    assert_eq!(log.last().unwrap().kind, "closures-exported");
    assert_eq!(log.last().unwrap().detail["with_subjects"], false);
}

/// A queue of any size: the desk shows its first page at once and the rest
/// pages in behind it, sorted as one queue, each case once.
#[test]
fn the_queue_pages_in_behind_the_first_frame() {
    let t = tempfile::tempdir().unwrap();
    let all = app(t.path(), true);
    assert!(!all.queue.loading, "the demo's queue fits one page");
    let every: Vec<_> = all.queue.views.iter().map(|v| v.case.id).collect();
    drop(all);

    let mut d = common::desk(t.path());
    d.set_cases_page_for_tests(4 << 10);
    let mut app = app_of(d);
    assert!(app.queue.loading);
    assert!(app.queue.views.len() < every.len(), "only the first page");
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    term.draw(|f| f.render_widget(&app, f.area())).unwrap();
    let top: String = (0..80)
        .map(|x| term.backend().buffer()[(x, 0)].symbol().to_string())
        .collect();
    assert!(top.contains("reading cases"), "{top}");

    let pending = app.take_effects();
    assert_eq!(pending.len(), 1, "the next page is asked for");
    // Ran twice (a page answered twice): no case is shown twice.
    work(&mut app, pending.clone());
    work(&mut app, pending);
    assert!(!app.queue.loading);
    let mut got: Vec<_> = app.queue.views.iter().map(|v| v.case.id).collect();
    let mut want = every.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "every case once");
    let order: Vec<_> = app.queue.views.iter().map(|v| v.case.id).collect();
    assert_eq!(order, every, "sorted as one queue");
    assert_eq!(
        app.queue.selected, 0,
        "an officer at the top stays at the top: the most urgent case"
    );
}

/// A case due today says so: not "DUE SOON 0d".
#[test]
fn a_case_due_today_says_due_today() {
    use chrono::TimeZone;
    let t = tempfile::tempdir().unwrap();
    let mut d = common::desk(t.path());
    // A Monday: a working day a deadline can fall on.
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    d.set_now(rightsdesk::service::Now::Fixed(
        chrono::Utc.from_utc_datetime(&monday.and_hms_opt(12, 0, 0).unwrap()),
    ));
    let mut said = None;
    for back in 25..45 {
        let mut new = new_case(
            &format!("Due Test {back}"),
            &format!("due{back}@example.ie"),
            vec![rightsdesk::domain::Right::Access],
        );
        new.received = monday - chrono::Duration::days(back);
        let case = d.open_case(new).unwrap();
        let view = d.view(case);
        if view.clock.days_left() == Some(0) {
            said = Some(view.urgency().to_string());
            break;
        }
    }
    assert_eq!(said.as_deref(), Some("DUE TODAY"));
}

/// Extending and closing cannot be undone: the domain is asked before the
/// confirmation, a refusal keeps the form with its words, and an extension
/// is confirmed with its new due date in front of the officer (issue 19).
#[test]
fn extend_and_close_are_checked_then_confirmed() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), true);
    let row = app
        .queue
        .rows
        .iter()
        .position(|&i| {
            let v = &app.queue.views[i];
            v.case.state == State::InProgress
                && !v.clock.is_overdue()
                && v.clock.extended_on.is_none()
        })
        .expect("the demo has a case in progress, in time");
    app.queue.selected = row;
    let id = app.queue.selected_view().unwrap().case.id;
    let due = app.queue.selected_view().unwrap().clock.effective_due();
    key(&mut app, Enter);

    // Close with no reason: the form stays, saying what is missing.
    key(&mut app, Char('c'));
    ctrl(&mut app, 's');
    match top(&app) {
        Some(Popup::Form { form, .. }) => {
            assert!(
                form.error
                    .as_deref()
                    .is_some_and(|e| e.contains("reason: is required")),
                "{:?}",
                form.error
            )
        }
        other => panic!("{other:?}"),
    }
    key(&mut app, Esc);
    app.popups.clear();

    // Extend: confirmed with the new due date; "n" leaves the case as it was.
    key(&mut app, Char('e'));
    typ(&mut app, "the request covers eleven systems");
    key(&mut app, Enter);
    let Some(Popup::Confirm { body, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(
        body.contains("new due date is") && body.contains("cannot be undone"),
        "{body}"
    );
    key(&mut app, Char('n'));
    assert_eq!(app.desk.case(id).unwrap().clock.effective_due(), due);
    // "No" is back in the form, with the reason as typed.
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert_eq!(form.get("reason").text, "the request covers eleven systems");
    key(&mut app, Enter);
    key(&mut app, Char('y'));
    let after = app.desk.case(id).unwrap();
    assert!(after.clock.extended_on.is_some());
    assert!(after.clock.effective_due() > due, "two months more");
}

#[test]
fn a_future_day_is_refused_in_the_form_and_a_refusal_after_yes_keeps_it() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), false);
    intake(&mut app, "Ana García", "ana@example.ie");
    key(&mut app, Esc);
    // A day in the future is refused before any confirmation.
    key(&mut app, Char('i'));
    ctrl(&mut app, 'u');
    typ(&mut app, &(today() + chrono::Days::new(30)).to_string());
    key(&mut app, Tab);
    typ(&mut app, "a utility bill");
    ctrl(&mut app, 's');
    let Some(Popup::Form { form, .. }) = top(&app) else {
        panic!("{:?}", app.popups)
    };
    assert!(
        form.error
            .as_deref()
            .is_some_and(|e| e.contains("in the future")),
        "{:?}",
        form.error
    );
    assert_eq!(
        form.get("note").text,
        "a utility bill",
        "what was typed stays"
    );
}

#[test]
fn a_confirmations_keys_come_from_the_key_table() {
    use rightsdesk::tui::keymap::KeyMap;
    let t = tempfile::tempdir().unwrap();
    let keys = KeyMap::default()
        .with_overrides(
            "keys.toml",
            "[confirm]\nyes = \"o\"\nno = [\"x\", \"esc\"]\n",
        )
        .unwrap();
    let mut app = rightsdesk::tui::app::App::new(
        desk(t.path()),
        keys,
        rightsdesk::tui::view::theme::Theme { mono: true },
        &rightsdesk::tui::prefs::Prefs::default(),
    )
    .unwrap();
    intake(&mut app, "Ana García", "ana@example.ie");
    key(&mut app, Esc);
    key(&mut app, Char('i'));
    ctrl(&mut app, 's');
    assert!(matches!(top(&app), Some(Popup::Confirm { .. })));
    let bar = {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        term.draw(|f| f.render_widget(&app, f.area())).unwrap();
        let buf = term.backend().buffer().clone();
        (0..80).map(|x| buf[(x, 23)].symbol()).collect::<String>()
    };
    assert!(bar.contains(" o yes") && bar.contains("x/esc no"), "{bar}");
    let screen = {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        term.draw(|f| f.render_widget(&app, f.area())).unwrap();
        format!("{:?}", term.backend())
    };
    assert!(
        screen.contains("o yes   x/esc no") && !screen.contains("y/enter"),
        "the confirmation says the keys that work: {screen}"
    );
    key(&mut app, Char('y'));
    assert!(
        matches!(top(&app), Some(Popup::Confirm { .. })),
        "y is not yes any more"
    );
    key(&mut app, Char('o'));
    assert_eq!(
        app.case.as_ref().unwrap().case.state,
        State::AwaitingIdentity
    );
}
