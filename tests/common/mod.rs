//! Helpers shared by the desk's tests: a desk on a temporary store with a fixed
//! day and actor, and key presses fed through the App.
#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rightsdesk::service::{demo, Desk, Now};
use rightsdesk::tui::app::{App, Effect, Msg};
use rightsdesk::tui::keymap::KeyMap;
use rightsdesk::tui::prefs::Prefs;
use rightsdesk::tui::view::theme::Theme;

pub mod cli;
pub mod service;

pub const TODAY: &str = "2026-11-29";

pub fn today() -> NaiveDate {
    NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap()
}

/// A desk whose clock reads noon UTC on `TODAY` and whose actor is "alice".
pub fn desk(dir: &std::path::Path) -> Desk {
    // A desk of this test dropped just before may still hold sled's lock
    // for a moment (its background writes): wait for it, as the service does.
    let mut d = rightsdesk::service::once_released(|| Desk::open(dir)).unwrap();
    d.set_now(Now::Fixed(
        Utc.from_utc_datetime(&today().and_hms_opt(12, 0, 0).unwrap()),
    ));
    d.set_actor_for_tests("alice");
    d
}

/// The demo's seeding moves the clock; put it back on `TODAY` at noon.
pub fn desk_again(mut d: Desk) -> Desk {
    d.set_now(Now::Fixed(
        Utc.from_utc_datetime(&today().and_hms_opt(12, 0, 0).unwrap()),
    ));
    d
}

pub fn app(dir: &std::path::Path, demo_cases: bool) -> App {
    let mut d = desk(dir);
    if demo_cases {
        demo::seed(&mut d, today()).unwrap();
        d = desk_again(d);
    }
    app_of(d)
}

/// The desk on `d`, with the default keys, colours and preferences.
pub fn app_of(d: Desk) -> App {
    App::new(
        d,
        KeyMap::default(),
        Theme { mono: false },
        &Prefs::default(),
    )
    .unwrap()
}

pub fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let effects = app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    work(app, effects)
}

pub fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    let effects = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )));
    work(app, effects)
}

/// Does what the run loop's workers do for plans and exports, at once and on
/// this thread (the same service calls); returns the other effects.
pub fn work(app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
    let mut rest = Vec::new();
    for e in effects {
        match rightsdesk::tui::work::job(app, e) {
            Ok(job) => {
                let msg = job();
                let more = app.update(msg);
                rest.extend(work(app, more));
            }
            Err(other) => rest.push(other),
        }
    }
    rest
}

pub fn typ(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

pub fn keys(app: &mut App, codes: &[KeyCode]) {
    for c in codes {
        key(app, *c);
    }
}

/// An intake by the subject, by e-mail, received `TODAY`.
pub fn new_case(
    name: &str,
    email: &str,
    rights: Vec<rightsdesk::domain::Right>,
) -> rightsdesk::domain::NewCase {
    use rightsdesk::domain::{Channel, NewCase, Requester, Subject};
    NewCase {
        rights,
        channel: Channel::Email,
        received: today(),
        requester: Requester::subject(),
        child: false,
        subject: Subject {
            name: name.into(),
            emails: vec![email.into()],
            phones: vec![],
        },
        records: vec![],
        message: None,
    }
}
