//! Several desks on one shared service (`rightsdesk serve` on a temporary
//! socket): each desk is the real App driven by keys, working through the
//! service. One officer's change reaches the other desks as it is made; two
//! officers changing one case get a conflict, never a silent overwrite.

mod common;

use common::service::Service;
use common::{ctrl, key, typ, work};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode::*;
use ratatui::Terminal;
use rightsdesk::domain::{Action, CaseId, Right};
use rightsdesk::remote::backend::{Backend, Feed, Link};
use rightsdesk::service::Now;
use rightsdesk::tui::app::{App, Msg, Popup, Screen};
use rightsdesk::tui::keymap::KeyMap;
use rightsdesk::tui::prefs::Prefs;
use rightsdesk::tui::view::theme::Theme;
use std::time::{Duration, Instant};

/// A desk working through the service, with its own feed of changes.
fn desk_on(svc: &Service) -> (App, Feed) {
    let home = svc.dir.path().join("home");
    let link = Link::connect(&svc.socket, &home).expect("the desk connects");
    let mut backend = Backend::from(link);
    let feed = backend
        .subscribe()
        .expect("the desk subscribes")
        .expect("a desk of the service has a feed");
    feed.set_timeout(Some(Duration::from_secs(10)));
    backend.set_now(Now::Fixed(chrono::TimeZone::from_utc_datetime(
        &chrono::Utc,
        &common::today().and_hms_opt(12, 0, 0).unwrap(),
    )));
    let app = App::new(
        backend,
        KeyMap::default(),
        Theme { mono: true },
        &Prefs::default(),
    )
    .expect("the queue loads through the service");
    (app, feed)
}

/// Takes the next pushed change into `app`; returns how long it took to come.
fn receive(app: &mut App, feed: &mut Feed) -> (CaseId, Duration) {
    let t = Instant::now();
    let change = feed.next_change().expect("a change is pushed");
    let waited = t.elapsed();
    let rightsdesk::remote::backend::Change::Case { view, .. } = &change else {
        panic!("a case change: {change:?}")
    };
    let id = view.case.id;
    app.update(Msg::Changed(Box::new(change)));
    (id, waited)
}

fn screen(app: &App) -> String {
    let mut term = Terminal::new(TestBackend::new(110, 40)).unwrap();
    term.draw(|f| f.render_widget(app, f.area())).unwrap();
    format!("{}", term.backend())
}

fn open_case_screen(app: &mut App, id: CaseId) {
    let row = app
        .queue
        .rows
        .iter()
        .position(|&i| app.queue.views[i].case.id == id)
        .expect("the case is in the queue");
    app.queue.selected = row;
    key(app, Enter);
    assert_eq!(app.screen, Screen::Case(id));
}

fn shown_version(app: &App) -> u64 {
    app.case.as_ref().expect("a case is open").case.version
}

fn notes(app: &App, id: CaseId) -> Vec<String> {
    app.desk
        .case(id)
        .unwrap()
        .case
        .history
        .iter()
        .filter_map(|e| match &e.action {
            Action::Noted { text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn one_officers_change_reaches_the_other_desk_as_it_is_made() {
    let svc = Service::start_with(true);
    let (mut alice, _alice_feed) = desk_on(&svc);
    let (mut bob, mut bob_feed) = desk_on(&svc);
    assert!(bob.desk.is_shared());
    assert!(
        !alice.queue.views.is_empty(),
        "the demo's queue, through the service"
    );
    let id = alice.queue.selected_view().unwrap().case.id;
    open_case_screen(&mut alice, id);
    open_case_screen(&mut bob, id);
    let before = shown_version(&bob);

    key(&mut alice, Char('a'));
    typ(&mut alice, "rang the requester about the scope");
    key(&mut alice, Enter);
    assert!(alice.popups.is_empty(), "{:?}", alice.popups);
    assert_eq!(shown_version(&alice), before + 1);

    let (changed, waited) = receive(&mut bob, &mut bob_feed);
    println!("the change reached the other desk after {waited:?}");
    assert_eq!(changed, id);
    assert_eq!(
        shown_version(&bob),
        before + 1,
        "bob's case screen refreshed"
    );
    let queued = bob.queue.views.iter().find(|v| v.case.id == id).unwrap();
    assert_eq!(queued.case.version, before + 1, "and bob's queue");
    let text = screen(&bob);
    assert!(
        text.contains("rang the requester about the scope"),
        "{text}"
    );
    assert!(
        text.contains("was changed by"),
        "the status line says who: {text}"
    );

    // A case opened elsewhere (the command line, through the service) joins
    // the queue of a desk showing the queue.
    key(&mut bob, Esc);
    let cli = svc.client();
    cli.open_case(new_case(
        "Zofia Nowak",
        "zofia@example.pl",
        vec![Right::Access],
    ))
    .unwrap();
    let (opened, _) = receive(&mut bob, &mut bob_feed);
    assert!(bob.queue.views.iter().any(|v| v.case.id == opened));
    let text = screen(&bob);
    assert!(text.contains("Zofia Nowak"));
    // Said as what happened: opened, not "changed".
    assert!(
        text.contains(&format!("{opened} opened by")),
        "the status line: {text}"
    );

    // The audit log names the officer the kernel reported, not the client.
    let entries = bob.desk.audit_tail(Some(id), 10).unwrap();
    assert_eq!(entries[0].kind, "noted");
    assert_eq!(entries[0].actor, alice.desk.actor());
    assert_eq!(
        alice.desk.actor(),
        rightsdesk::service::actor::os_user(),
        "the service's name for this test's user"
    );
}

#[test]
fn two_officers_changing_one_case_get_a_conflict_not_an_overwrite() {
    let svc = Service::start_with(true);
    let (mut alice, _alice_feed) = desk_on(&svc);
    let (mut bob, mut bob_feed) = desk_on(&svc);
    let id = alice.queue.selected_view().unwrap().case.id;
    open_case_screen(&mut alice, id);
    open_case_screen(&mut bob, id);
    let before = shown_version(&bob);

    // Bob starts a note; meanwhile Alice saves hers, and the push reaches
    // Bob's desk while his form is still open.
    key(&mut bob, Char('a'));
    typ(&mut bob, "bob: the requester asked for call recordings too");
    key(&mut alice, Char('a'));
    typ(&mut alice, "alice: scope agreed by phone");
    key(&mut alice, Enter);
    receive(&mut bob, &mut bob_feed);
    key(&mut bob, Enter);

    // Nothing of Bob's was saved; his form is still there with his words and
    // says why; the screen behind it shows the case as Alice left it.
    let Some(Popup::Form { form, .. }) = bob.popups.last() else {
        panic!("bob's form stays open: {:?}", bob.popups)
    };
    let error = form.error.clone().unwrap_or_default();
    assert!(
        error.contains("was changed by") && error.contains("not saved"),
        "{error}"
    );
    assert!(form.get("note").text.contains("call recordings"));
    // What Bob sees: his words and the reason, over the case as it now is.
    // (No insta snapshot: the login the kernel reports differs per machine.)
    let text = screen(&bob);
    for shown in [
        "bob: the requester asked for call recordings too",
        "not saved",
        "was changed by",
    ] {
        assert!(text.contains(shown), "{shown:?} in {text}");
    }
    assert_eq!(notes(&bob, id), ["alice: scope agreed by phone"]);
    assert_eq!(shown_version(&bob), before + 1);

    // Having seen Alice's note, Bob saves his on top of it.
    key(&mut bob, Enter);
    assert!(bob.popups.is_empty(), "{:?}", bob.popups);
    assert_eq!(
        notes(&alice, id),
        [
            "alice: scope agreed by phone",
            "bob: the requester asked for call recordings too"
        ]
    );

    // The other way round: Alice's desk has not yet taken Bob's change when
    // she acts. The service still refuses her step, by version.
    key(&mut alice, Char('a'));
    typ(&mut alice, "alice: second note");
    key(&mut alice, Enter);
    let Some(Popup::Form { form, .. }) = alice.popups.last() else {
        panic!("alice's form stays open: {:?}", alice.popups)
    };
    assert!(form
        .error
        .as_deref()
        .is_some_and(|e| e.contains("was changed by")));
    assert_eq!(notes(&alice, id).len(), 2);
    assert_eq!(
        shown_version(&alice),
        before + 2,
        "her screen now shows Bob's note"
    );

    // The chain is one line through both officers' changes.
    assert!(matches!(
        bob.desk.verify_audit(None),
        Ok(rightsdesk::service::ops::AuditCheck::Intact { entries, .. }) if entries > 0
    ));
}

use common::new_case;

fn verify(desk: &rightsdesk::service::Desk, id: CaseId) {
    desk.step(
        id,
        rightsdesk::domain::Step::Verify {
            method: rightsdesk::domain::VerificationMethod::KnownDetails,
            outcome: rightsdesk::domain::VerificationOutcome::Verified,
            note: String::new(),
        },
        None,
    )
    .unwrap();
}

/// The desk's file work through the service: the officer's files are read
/// and written where the desk runs, the store's data comes from the service.
#[test]
fn exports_and_checks_from_a_desk_on_the_service_write_where_the_officer_works() {
    let hubspot = format!(
        "{}/tests/fixtures/import/hubspot-contacts.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut access = None;
    let svc = Service::start_after(|desk| {
        desk.import(
            "web-forms",
            std::path::Path::new(&hubspot),
            &Default::default(),
            &mut |_, _| {},
        )
        .unwrap();
        let a = desk
            .open_case(new_case(
                "Jürgen Müller",
                "j.mueller@example.de",
                vec![Right::Access, Right::Portability],
            ))
            .unwrap()
            .id;
        verify(desk, a);
        let o = desk
            .open_case(new_case(
                "Ola Objector",
                "ola@example.no",
                vec![Right::Objection],
            ))
            .unwrap()
            .id;
        verify(desk, o);
        let plan = desk.propose_plan(o).unwrap();
        desk.accept_plan(o, &plan.tasks).unwrap();
        access = Some(a);
    });
    let id = access.unwrap();
    let (mut app, _feed) = desk_on(&svc);
    let home = app.desk.data_dir().to_path_buf();
    assert_eq!(
        home,
        svc.dir.path().join("home"),
        "the officer's own directory"
    );

    // E: the access package, encrypted here with the officer's password.
    open_case_screen(&mut app, id);
    key(&mut app, Char('E'));
    key(&mut app, Tab);
    typ(&mut app, "a long enough pass");
    key(&mut app, Tab);
    typ(&mut app, "a long enough pass");
    key(&mut app, Tab);
    typ(&mut app, "test: no plan on this case");
    let effects = key(&mut app, Enter);
    assert!(work(&mut app, effects).is_empty());
    let Some(Popup::Message { title, body, .. }) = app.popups.last() else {
        panic!("{:?}", app.popups)
    };
    assert_eq!(title, "Access package written", "{body}");
    let pdf = home.join("exports").join(format!("{id}-access.pdf"));
    let doc = lopdf::Document::load_with_options(
        &pdf,
        lopdf::LoadOptions::with_password("a long enough pass"),
    )
    .unwrap();
    let text = doc.extract_text(&[1]).unwrap();
    assert!(
        text.contains("j.mueller@example.de") || text.contains("J.Mueller@Example.de"),
        "{text}"
    );
    assert!(home
        .join("exports")
        .join(format!("{id}-portability.zip"))
        .exists());
    let last = &app.desk.audit_tail(None, 1).unwrap()[0];
    assert_eq!(last.kind, "access-exported");
    assert_eq!(
        last.detail["records"], 1,
        "the service found his HubSpot row"
    );
    assert!(
        !last.detail.to_string().contains("long enough"),
        "the password stays on the desk"
    );
    key(&mut app, Enter);
    key(&mut app, Esc);

    // S: a campaign list checked against the suppression list, by hashes.
    let campaign = svc.dir.path().join("campaign.csv");
    std::fs::write(
        &campaign,
        "Record ID,First Name,Last Name,Email,Phone Number\n\
         501,Ola,O,OLA@example.no,\n\
         502,Kim,K,kim@example.ie,\n",
    )
    .unwrap();
    key(&mut app, Char('S'));
    typ(&mut app, campaign.to_str().unwrap());
    let effects = common::ctrl(&mut app, 's');
    assert!(work(&mut app, effects).is_empty());
    let Some(Popup::Message { body, .. }) = app.popups.last() else {
        panic!("{:?}", app.popups)
    };
    assert!(body.starts_with("1 row(s)"), "{body}");
    assert!(body.contains("key 501") && !body.contains("502"), "{body}");
    key(&mut app, Enter);

    // X: the closure log, written 0600 under the officer's directory.
    key(&mut app, Char('X'));
    let effects = common::ctrl(&mut app, 's');
    assert!(work(&mut app, effects).is_empty());
    let Some(Popup::Message { body, error, .. }) = app.popups.last() else {
        panic!("{:?}", app.popups)
    };
    assert!(!error, "{body}");
    let log = home.join(format!("exports/closures-{}.csv", common::TODAY));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let last = &app.desk.audit_tail(None, 1).unwrap()[0];
    assert_eq!(last.kind, "closures-exported");

    // `v` in the audit viewer proves the chain on a worker, through the service.
    key(&mut app, Enter);
    key(&mut app, Char('A'));
    let effects = key(&mut app, Char('v'));
    assert!(work(&mut app, effects).is_empty());
    let Some(Popup::Audit(view)) = app.popups.last() else {
        panic!("{:?}", app.popups)
    };
    assert!(
        view.verified.as_ref().is_some_and(|(ok, _)| *ok),
        "{:?}",
        view.verified
    );
}

#[test]
fn the_lookup_asks_the_services_one_index_and_an_intake_from_it_opens_there() {
    let fixture = |n: &str| {
        std::path::PathBuf::from(format!(
            "{}/tests/fixtures/import/{n}",
            env!("CARGO_MANIFEST_DIR")
        ))
    };
    let mut stored = 0;
    let svc = Service::start_after(|desk| {
        for (source, file) in [
            ("web-forms", "hubspot-contacts.csv"),
            ("events", "eventbrite-attendees.csv"),
            ("marketing", "mailchimp-unsubscribed.csv"),
        ] {
            desk.import(source, &fixture(file), &Default::default(), &mut |_, _| {})
                .unwrap();
        }
        stored = desk.record_reader().len();
    });
    let (mut app, _feed) = desk_on(&svc);
    let (tx, rx) = std::sync::mpsc::channel();
    let link = app.desk.clone();
    // The desk's lookup asks the service's one index, as the run loop wires it.
    app.lookup_tx = Some(rightsdesk::tui::lookup::spawn(link.clone(), move |ev| {
        tx.send(ev).is_ok()
    }));
    let pump = |app: &mut App, done: &dyn Fn(&App) -> bool| {
        let end = Instant::now() + Duration::from_secs(20);
        while !done(app) {
            assert!(Instant::now() < end, "the lookup worker did not answer");
            if let Ok(ev) = rx.recv_timeout(Duration::from_millis(50)) {
                app.update(Msg::Lookup(ev));
            }
        }
    };
    pump(&mut app, &|a| !a.index.loading);
    assert_eq!(
        app.index.records, stored,
        "the service indexed every record"
    );
    let state = link.index_state().unwrap();
    assert_eq!(
        (state.builds, state.building),
        (1, false),
        "a desk starting uses the service's index, never rebuilds it"
    );

    // The unsubscribed Mailchimp row is DO NOT MARKET: the flag's keyed
    // hashes came from the service too.
    key(&mut app, Char('/'));
    typ(&mut app, "ingrid");
    let found = |a: &App| {
        a.popups.iter().rev().find_map(|p| match p {
            Popup::Lookup { groups, .. } if !groups.is_empty() => Some(groups.clone()),
            _ => None,
        })
    };
    pump(&mut app, &|a| found(a).is_some());
    assert!(found(&app).unwrap()[0].flags.do_not_market);
    key(&mut app, Esc);

    // Find Müller, and open a case for him from the lookup: the case is
    // opened by the service, with his records attached.
    key(&mut app, Char('/'));
    typ(&mut app, "muller");
    pump(&mut app, &|a| found(a).is_some());
    key(&mut app, Enter);
    pump(&mut app, &|a| {
        matches!(a.popups.last(), Some(Popup::Subject { .. }))
    });
    key(&mut app, Char('n'));
    common::keys(&mut app, &[Tab, Tab, Char(' ')]); // rights: access
    common::ctrl(&mut app, 's');
    let Screen::Case(id) = app.screen else {
        panic!("the case opened: {:?}", app.popups)
    };
    let case = svc.client().load_case(id).unwrap();
    assert_eq!(case.subject.name, "Jürgen Müller");
    assert!(case.records.iter().any(|r| r.starts_with("web-forms:")));
}

#[test]
fn an_import_from_the_desk_is_read_here_and_written_by_the_service_whole() {
    use rightsdesk::tui::app::{Effect, ImportEvent};
    let svc = Service::start_with(true);
    let (mut app, _feed) = desk_on(&svc);
    let (mut other, mut other_feed) = desk_on(&svc);
    let path = format!(
        "{}/tests/fixtures/import/hubspot-contacts.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    key(&mut app, Char('I'));
    typ(&mut app, &path);
    key(&mut app, Tab);
    let effects = ctrl(&mut app, 's');
    let Some(Effect::StartImport { source, path, how }) = effects.first().cloned() else {
        panic!("{effects:?}")
    };
    // What the run loop's import thread does.
    let mut stages = Vec::new();
    let result = app.desk.import(&source, &path, &how, &mut |stage, _| {
        stages.push(stage.to_string())
    });
    assert_eq!(stages.first().map(String::as_str), Some("reading"));
    assert!(stages.iter().any(|s| s == "sent"), "{stages:?}");
    app.update(Msg::Import(ImportEvent::Done(
        result.map_err(|e| e.to_string()),
    )));
    let Some(Popup::Message { body, error, .. }) = app.popups.last() else {
        panic!("{:?}", app.popups)
    };
    assert!(!error, "{body}");
    assert!(body.contains("3 rows from hubspot-contacts.csv"), "{body}");
    let last = &app.desk.audit_tail(None, 1).unwrap()[0];
    assert_eq!(
        (last.kind.as_str(), last.actor.as_str()),
        ("imported", app.desk.actor())
    );
    // The import was acknowledged once the service's index held it: the
    // very next lookup finds the new rows.
    let found = app.desk.lookup("müller".into(), 10).unwrap().groups;
    assert!(
        found
            .iter()
            .any(|g| g.hits.iter().any(|h| h.hit.source == source)),
        "{found:?}"
    );
    // Another desk hears of it and reloads its lookup index.
    let pushed = other_feed.next_change().unwrap();
    assert!(
        matches!(pushed, rightsdesk::remote::backend::Change::Records { .. }),
        "{pushed:?}"
    );
    other.update(Msg::Changed(Box::new(pushed)));
    let status = other.status.clone().unwrap().0;
    assert!(status.contains("reloading the index"), "{status}");
}
