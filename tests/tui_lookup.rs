//! Lookup in the desk: `/` from anywhere, results from the worker thread as
//! you type, the person across sources, and a case opened from there.

mod common;

use common::*;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode::*;
use ratatui::Terminal;
use rightsdesk::tui::app::{App, Msg, Popup, Purpose, Screen};
use rightsdesk::tui::lookup::{self, LookupEvent};
use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

/// A desk with four sources imported and a real lookup worker attached.
fn desk_with_index(dir: &Path) -> (App, Receiver<LookupEvent>) {
    desk_with_sources(dir, &[])
}

/// The same, with more exports imported before the worker starts.
fn desk_with_sources(dir: &Path, more: &[(&str, &str)]) -> (App, Receiver<LookupEvent>) {
    let mut app = app(dir, false);
    for &(source, file) in [
        ("web-forms", "hubspot-contacts.csv"),
        ("events", "eventbrite-attendees.csv"),
        ("correspondence", "takeout.mbox"),
        ("meeting-recordings", "zoom-recordings.json"),
        ("marketing", "mailchimp-unsubscribed.csv"),
    ]
    .iter()
    .chain(more)
    {
        app.desk
            .local()
            .unwrap()
            .import(source, &fixture(file), &Default::default(), &mut |_, _| {})
            .unwrap();
    }
    let (tx, rx) = mpsc::channel();
    app.lookup_tx = Some(lookup::spawn(app.desk.clone(), move |ev| {
        tx.send(ev).is_ok()
    }));
    (app, rx)
}

/// Feeds worker events to the app until `done` holds (bounded wait, not a timing test).
fn pump(app: &mut App, rx: &Receiver<LookupEvent>, done: impl Fn(&App) -> bool) {
    let end = Instant::now() + Duration::from_secs(20);
    while !done(app) {
        assert!(Instant::now() < end, "the lookup worker did not answer");
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(50)) {
            app.update(Msg::Lookup(ev));
        }
    }
}

fn results(app: &App) -> Option<&Vec<rightsdesk::lookup::Group>> {
    app.popups.iter().rev().find_map(|p| match p {
        Popup::Lookup { groups, .. } => Some(groups),
        _ => None,
    })
}

#[test]
fn find_a_person_see_them_across_sources_and_open_a_case() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, rx) = desk_with_index(t.path());
    pump(&mut app, &rx, |a| !a.index.loading);
    assert_eq!(app.index.records, 14);

    key(&mut app, Char('/'));
    typ(&mut app, "muller");
    pump(&mut app, &rx, |a| results(a).is_some_and(|g| !g.is_empty()));
    let groups = results(&app).unwrap();
    let sources: std::collections::BTreeSet<&str> =
        groups[0].hits.iter().map(|h| h.source.as_str()).collect();
    assert_eq!(
        sources.into_iter().collect::<Vec<_>>(),
        vec![
            "correspondence",
            "events",
            "meeting-recordings",
            "web-forms"
        ]
    );

    key(&mut app, Enter);
    pump(&mut app, &rx, |a| {
        matches!(a.popups.last(), Some(Popup::Subject { .. }))
    });
    let Some(Popup::Subject { view, .. }) = app.popups.last() else {
        unreachable!()
    };
    let records = view.records.len();
    assert!(view
        .links
        .iter()
        .any(|(id, _)| id == "j.mueller@example.de"));

    key(&mut app, Char('n'));
    let Some(Popup::Form {
        form,
        purpose: Purpose::Intake,
    }) = app.popups.last()
    else {
        panic!("intake opens prefilled")
    };
    assert_eq!(form.get("name").text, "Jürgen Müller");
    assert!(form.get("emails").text.contains("j.mueller@example.de"));
    assert!(form.get("phones").text.contains("+49 30 1234567"));
    keys(&mut app, &[Tab, Tab, Char(' ')]); // rights: access
    ctrl(&mut app, 's');
    let Screen::Case(id) = app.screen else {
        panic!("the case opened: {:?}", app.popups.len())
    };
    let case = app.desk.case(id).unwrap().case;
    assert_eq!(
        case.records.len(),
        records,
        "the subject's records are attached to the case"
    );
    assert!(case
        .records
        .iter()
        .any(|r| r.starts_with("correspondence:")));
}

#[test]
fn stale_answers_never_replace_the_current_query() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, rx) = desk_with_index(t.path());
    pump(&mut app, &rx, |a| !a.index.loading);
    key(&mut app, Char('/'));
    typ(&mut app, "ana");
    for _ in 0..3 {
        key(&mut app, Backspace);
    }
    typ(&mut app, "kenji");
    pump(&mut app, &rx, |a| results(a).is_some_and(|g| !g.is_empty()));
    // Every older answer still on its way arrives before the worker ends:
    // close its queue and take them all (a bounded wait, not a timed one);
    // each must be ignored.
    app.lookup_tx = None;
    while let Ok(ev) = rx.recv_timeout(Duration::from_secs(30)) {
        app.update(Msg::Lookup(ev));
    }
    let groups = results(&app).unwrap();
    assert!(
        groups.iter().all(|g| g
            .hits
            .iter()
            .any(|h| h.emails.iter().any(|e| e.contains("kenji")))),
        "{groups:#?}"
    );
}

#[test]
fn the_desk_draws_before_the_index_is_loaded() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), false);
    // No worker yet: the index is "loading", and the desk still draws and takes keys.
    key(&mut app, Char('/'));
    typ(&mut app, "muller");
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| f.render_widget(&app, f.area())).unwrap();
    let screen = format!("{}", term.backend());
    assert!(screen.contains("loading the index"), "{screen}");
}

#[test]
fn lookup_and_person_snapshots() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, rx) = desk_with_index(t.path());
    pump(&mut app, &rx, |a| !a.index.loading);
    key(&mut app, Char('/'));
    typ(&mut app, "garcia");
    pump(&mut app, &rx, |a| results(a).is_some_and(|g| !g.is_empty()));
    // The timing figure varies run to run: blank it for the snapshot.
    if let Some(Popup::Lookup { micros, .. }) = app.popups.last_mut() {
        *micros = None;
    }
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| f.render_widget(&app, f.area())).unwrap();
    insta::assert_snapshot!("lookup_80x24", term.backend());
    key(&mut app, Enter);
    pump(&mut app, &rx, |a| {
        matches!(a.popups.last(), Some(Popup::Subject { .. }))
    });
    term.draw(|f| f.render_widget(&app, f.area())).unwrap();
    insta::assert_snapshot!("person_80x24", term.backend());
}

#[test]
fn import_from_the_desk_runs_as_an_effect_and_reports() {
    use rightsdesk::tui::app::{Effect, ImportEvent};
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), false);
    key(&mut app, Char('I'));
    assert!(matches!(
        app.popups.last(),
        Some(Popup::Form {
            purpose: Purpose::Import,
            ..
        })
    ));
    typ(&mut app, "/no/such/export.csv");
    key(&mut app, Tab);
    let none = ctrl(&mut app, 's');
    assert!(none.is_empty(), "a missing file is refused in the form");
    let Some(Popup::Form { form, .. }) = app.popups.last() else {
        panic!()
    };
    assert!(form
        .error
        .as_deref()
        .unwrap()
        .contains("not a readable file"));
    key(&mut app, Up);
    for _ in 0.."/no/such/export.csv".len() {
        key(&mut app, Backspace);
    }
    let path = fixture("hubspot-contacts.csv");
    typ(&mut app, &path.display().to_string());
    keys(&mut app, &[Tab]);
    let effects = ctrl(&mut app, 's');
    let Some(Effect::StartImport {
        source,
        path: p,
        how,
    }) = effects.first().cloned()
    else {
        panic!("{effects:?}")
    };
    assert!(app.importing && app.popups.is_empty());
    // What the run loop does on its worker thread, with progress coming back.
    let desk = app.desk.clone();
    let mut events = Vec::new();
    let result = desk.import(&source, &p, &how, &mut |stage, rows| {
        events.push(ImportEvent::Progress {
            file: "hubspot-contacts.csv".into(),
            stage: stage.into(),
            rows,
            millis: 0,
        })
    });
    for ev in events {
        app.update(Msg::Import(ev));
        assert!(app
            .status
            .as_ref()
            .unwrap()
            .0
            .starts_with("importing hubspot-contacts.csv"));
    }
    app.update(Msg::Import(ImportEvent::Done(
        result.map_err(|e| e.to_string()),
    )));
    let Some(Popup::Message {
        body, error: false, ..
    }) = app.popups.last()
    else {
        panic!()
    };
    assert!(body.contains("3 rows") && body.contains("3 new"), "{body}");
    assert!(!app.importing);
    assert_eq!(app.desk.local().unwrap().record_reader().len(), 3);
}

#[test]
fn the_import_form_completes_paths_says_how_a_file_reads_and_remembers() {
    use rightsdesk::tui::app::Effect;
    let t = tempfile::tempdir().unwrap();
    let exports = t.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    for name in ["members_export_unsub.csv", "eventbrite-attendees.csv"] {
        let from = if name.starts_with("members") {
            "mailchimp-unsubscribed.csv"
        } else {
            name
        };
        std::fs::copy(fixture(from), exports.join(name)).unwrap();
    }
    let mut app = app(&t.path().join("data"), false);
    let form = |app: &App| match app.popups.last() {
        Some(Popup::Form { form, .. }) => form.clone(),
        other => panic!("{other:?}"),
    };
    key(&mut app, Char('I'));
    assert_eq!(form(&app).focused().key, "file", "the file comes first");
    // Tab completes the folder, then the file.
    typ(&mut app, &format!("{}/exp", t.path().display()));
    key(&mut app, Tab);
    assert_eq!(
        form(&app).get("file").text,
        format!("{}/", exports.display())
    );
    typ(&mut app, "mem");
    key(&mut app, Tab);
    assert_eq!(
        form(&app).get("file").text,
        exports
            .join("members_export_unsub.csv")
            .display()
            .to_string()
    );
    // Complete: Tab moves on, and the form says how the file reads and
    // which source a Mailchimp audience belongs to.
    // The file is read on a worker; run inline here.
    let read = key(&mut app, Tab);
    work(&mut app, read);
    let f = form(&app);
    assert_eq!(f.focused().key, "source");
    assert_eq!(f.get("source").value(), "marketing");
    let intro = f.intro.join("\n");
    assert!(
        intro.contains("Reads as: mailchimp · UTF-8 · comma-separated"),
        "{intro}"
    );
    let effects = ctrl(&mut app, 's');
    assert!(
        matches!(effects.as_slice(), [Effect::StartImport { source, .. }] if source == "marketing")
    );
    app.importing = false;

    // The next import starts in the same folder; a relative path that is not
    // there is said in full.
    key(&mut app, Char('I'));
    assert_eq!(
        form(&app).get("file").text,
        format!("{}/", exports.display())
    );
    for _ in 0..form(&app).get("file").text.chars().count() {
        key(&mut app, Backspace);
    }
    typ(&mut app, "eventbrite-attendees.csv");
    // The file is read on a worker; run inline here.
    let read = key(&mut app, Tab);
    work(&mut app, read);
    let cwd = std::env::current_dir().unwrap();
    let err = form(&app).get("file").error.clone().unwrap();
    assert_eq!(
        err,
        format!(
            "{} is not a readable file",
            cwd.join("eventbrite-attendees.csv").display()
        )
    );
    // The folder is remembered for the session only (it may be named after
    // a person); the source a format went to is kept between runs.
    let kept = toml::to_string(&app.prefs()).unwrap();
    assert!(!kept.contains("exports"), "{kept}");
}

/// The group holding a record of `source`, as the lookup lists it.
fn group_with(app: &App, source: &str) -> usize {
    results(app)
        .unwrap()
        .iter()
        .position(|g| g.hits.iter().any(|h| h.source == source))
        .unwrap_or_else(|| panic!("no group with {source}"))
}

#[test]
fn a_record_the_lookup_could_not_link_is_offered_and_added_to_the_open_case() {
    let t = tempfile::tempdir().unwrap();
    let (mut app, rx) =
        desk_with_sources(t.path(), &[("marketing", "mailchimp-second-address.csv")]);
    pump(&mut app, &rx, |a| !a.index.loading);

    // Open a case for Jürgen from his HubSpot group.
    let find = |app: &mut App| {
        key(app, Char('/'));
        typ(app, "jurgen muller");
        pump(app, &rx, |a| {
            results(a).is_some_and(|g| g.len() >= 2) && !a.index.loading
        });
        for _ in 0..group_with(app, "web-forms") {
            key(app, Down);
        }
        key(app, Enter);
        pump(app, &rx, |a| {
            matches!(a.popups.last(), Some(Popup::Subject { .. }))
        });
    };
    find(&mut app);
    key(&mut app, Char('n'));
    keys(&mut app, &[Tab, Tab, Char(' ')]);
    ctrl(&mut app, 's');
    let Screen::Case(id) = app.screen else {
        panic!("the case opened")
    };
    // The desk goes on to identity; that can wait.
    key(&mut app, Esc);
    assert!(app.popups.is_empty());

    // From the case, the person view names the Mailchimp record as possibly
    // the same person — a hint, not a link.
    find(&mut app);
    let Some(Popup::Subject { view, .. }) = app.popups.last() else {
        unreachable!()
    };
    assert!(view.records.iter().all(|r| !r
        .emails
        .contains(&"juergen.mueller@web.example".to_string())));
    let hint = view
        .similar
        .iter()
        .position(|s| s.record.source == "marketing")
        .expect("the Mailchimp record is offered as possibly the same person");
    let own = view.records.len();
    let mut term = Terminal::new(TestBackend::new(110, 30)).unwrap();
    term.draw(|f| f.render_widget(&app, f.area())).unwrap();
    let screen = format!("{}", term.backend());
    assert!(
        screen.contains("Possibly the same person")
            && screen.contains(&format!("add the selected record to {id}")),
        "{screen}"
    );
    for _ in 0..own + hint {
        key(&mut app, Char('j'));
    }
    key(&mut app, Char('a'));
    let Some(Popup::Form {
        purpose: Purpose::LinkIdentity(to),
        form,
    }) = app.popups.last()
    else {
        panic!("the add form opens")
    };
    assert_eq!(*to, id);
    assert_eq!(form.get("record").text, "marketing:444");
    // Without a reason it stays open and says why.
    ctrl(&mut app, 's');
    assert!(matches!(
        app.popups.last(),
        Some(Popup::Form {
            purpose: Purpose::LinkIdentity(_),
            ..
        })
    ));
    typ(&mut app, "he wrote from both addresses");
    ctrl(&mut app, 's');
    let case = app.desk.case(id).unwrap().case;
    assert!(case.records.contains(&"marketing:444".to_string()));
    assert!(case
        .subject
        .emails
        .contains(&"juergen.mueller@web.example".to_string()));
}

#[test]
fn the_import_form_reads_a_windows_1252_file_once_its_encoding_is_chosen() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(&t.path().join("data"), false);
    let intro = |app: &App| match app.popups.last() {
        Some(Popup::Form { form, .. }) => form.intro.join("\n"),
        other => panic!("{other:?}"),
    };
    key(&mut app, Char('I'));
    typ(
        &mut app,
        &fixture("excel-semikolon-1252.csv").display().to_string(),
    );
    // The file is read on a worker; run inline here.
    let read = key(&mut app, Tab);
    work(&mut app, read);
    let said = intro(&app);
    assert!(
        said.contains("line 2") && said.contains("choose an Encoding, e.g. windows-1252"),
        "{said}"
    );
    // Source, Format, Columns, then Encoding: windows-1252 is its second choice.
    keys(&mut app, &[Tab, Tab, Tab]);
    let read = key(&mut app, Right);
    work(&mut app, read);
    let said = intro(&app);
    assert!(
        said.contains("Reads as: csv · windows-1252 · semicolon-separated"),
        "{said}"
    );
}
