//! Mask mode (`M`) hides every trace of a person on every screen: the queue,
//! the case with its notes, identity note and task evidence, the letter, the
//! audit log, the figures, the lookup and the person across sources.

mod common;

use common::*;
use ratatui::crossterm::event::KeyCode::*;
use rightsdesk::domain::{Right, Step, TaskStatus, VerificationMethod, VerificationOutcome};
use rightsdesk::tui::app::{App, Msg, Popup, Screen};
use rightsdesk::tui::lookup::{self, LookupEvent};
use std::time::{Duration, Instant};

/// What identifies the test subject, as it might appear anywhere.
const TRACES: &[&str] = &[
    "jürgen",
    "jurgen",
    "müller",
    "muller",
    "mueller",
    "example.de",
    "1234567",
    "30 123",
];

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    term.draw(|f| f.render_widget(app, f.area())).unwrap();
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn assert_masked(app: &App, what: &str) {
    for (w, h) in [(80, 24), (120, 40)] {
        let text = screen(app, w, h);
        let lower = text.to_lowercase();
        for t in TRACES {
            assert!(
                !lower.contains(t),
                "{what} at {w}×{h} shows '{t}' with masking on:\n{text}"
            );
        }
    }
}

/// Feeds the lookup worker's events to the app until `done` (bounded wait).
fn pump(app: &mut App, rx: &std::sync::mpsc::Receiver<LookupEvent>, done: impl Fn(&App) -> bool) {
    let end = Instant::now() + Duration::from_secs(20);
    while !done(app) {
        assert!(Instant::now() < end, "the lookup worker did not answer");
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(50)) {
            app.update(Msg::Lookup(ev));
        }
    }
}

#[test]
fn masking_leaves_no_name_address_or_phone_on_any_screen() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), true);
    let desk = app.desk.local().unwrap().clone();
    desk.import(
        "web-forms",
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/import/hubspot-contacts.csv"),
        &Default::default(),
        &mut |_, _| {},
    )
    .unwrap();
    let mut new = new_case("Jürgen Müller", "j.mueller@example.de", vec![Right::Access]);
    new.subject.phones = vec!["+49 30 1234567".into()];
    let case = desk.open_case(new).unwrap();
    let id = case.id;
    desk.step(
        id,
        Step::Verify {
            method: VerificationMethod::CallBack,
            outcome: VerificationOutcome::Verified,
            note: "rang +49 30 1234567, Jürgen confirmed".into(),
        },
        None,
    )
    .unwrap();
    desk.step(
        id,
        Step::Note {
            text: "Jürgen Müller wrote again from j.mueller@example.de".into(),
        },
        None,
    )
    .unwrap();
    desk.step(
        id,
        Step::RecordTask {
            source: "web-forms".into(),
            action: None,
            status: TaskStatus::Done,
            note: "HubSpot record 5101 for J. Mueller (Müller)".into(),
        },
        None,
    )
    .unwrap();
    app = App::new(
        desk,
        rightsdesk::tui::keymap::KeyMap::default(),
        rightsdesk::tui::view::theme::Theme { mono: true },
        &rightsdesk::tui::prefs::Prefs::default(),
    )
    .unwrap();
    key(&mut app, Char('M'));
    assert!(app.masked);

    // The control: unmasked, the same screens do show the person.
    app.queue.selected = app
        .queue
        .rows
        .iter()
        .position(|&i| app.queue.views[i].case.id == id)
        .expect("the case is in the queue");
    key(&mut app, Enter);
    assert_eq!(app.screen, Screen::Case(id));
    app.masked = false;
    assert!(screen(&app, 120, 40).contains("Müller"));
    app.masked = true;

    assert_masked(&app, "the case screen");
    key(&mut app, Char('L'));
    assert!(!app.popups.is_empty(), "the letter opened");
    assert_masked(&app, "the letter");
    key(&mut app, Esc);
    key(&mut app, Char('A'));
    assert_masked(&app, "the audit log");
    key(&mut app, Esc);
    key(&mut app, Char('q'));
    assert_eq!(app.screen, Screen::Queue);
    assert_masked(&app, "the queue");
    key(&mut app, Char('T'));
    assert_masked(&app, "the figures");
    key(&mut app, Esc);

    // The lookup, with a real worker, and the person across sources.
    let (tx, rx) = std::sync::mpsc::channel();
    app.lookup_tx = Some(lookup::spawn(app.desk.clone(), move |ev| {
        tx.send(ev).is_ok()
    }));
    pump(&mut app, &rx, |a| !a.index.loading && a.index.records > 0);
    key(&mut app, Char('/'));
    typ(&mut app, "muller");
    pump(
        &mut app,
        &rx,
        |a| matches!(a.popups.last(), Some(Popup::Lookup { groups, .. }) if !groups.is_empty()),
    );
    assert_masked(&app, "the lookup");
    key(&mut app, Enter);
    pump(&mut app, &rx, |a| {
        matches!(a.popups.last(), Some(Popup::Subject { .. }))
    });
    assert_masked(&app, "the person across sources");
}
