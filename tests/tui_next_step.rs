//! The case screen says what comes next and offers only the keys that apply:
//! the next-step line and the hint bar of a case in each state, at 80×24,
//! and every key the bar offers opens its step while every move the rules
//! forbid says why instead of opening a form.

mod common;

use common::*;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode::{self, *};
use ratatui::Terminal;
use rightsdesk::domain::closure::Closing;
use rightsdesk::domain::guide::Move;
use rightsdesk::domain::plan::PlannedTask;
use rightsdesk::domain::{
    CaseId, Outcome, PlannedRef, Right, Step, TaskStatus, VerificationMethod, VerificationOutcome,
};
use rightsdesk::service::Desk;
use rightsdesk::tui::app::{App, Popup};
use rightsdesk::tui::keymap::{Action, Key, KeyMap, Scope};

fn verified() -> Step {
    Step::Verify {
        method: VerificationMethod::ReplyFromAddress,
        outcome: VerificationOutcome::Verified,
        note: String::new(),
    }
}

/// A plan accepted as the desk accepts one (P, `case plan --accept`).
fn planned(sources: &[&str]) -> Step {
    Step::Plan {
        tasks: sources
            .iter()
            .map(|s| PlannedRef {
                source: s.to_string(),
                action: "stop marketing".into(),
            })
            .collect(),
    }
}

fn done(source: &str) -> Step {
    Step::RecordTask {
        source: source.into(),
        action: Some("stop marketing".into()),
        status: TaskStatus::Done,
        note: "unsubscribed".into(),
    }
}

/// One case per state, opened and stepped through the services.
fn cases(d: &Desk) -> Vec<(&'static str, CaseId)> {
    let open = |name: &str, rights: Vec<Right>, steps: Vec<Step>| {
        let email = format!("{}@example.com", name.to_lowercase());
        let c = d.open_case(new_case(name, &email, rights)).unwrap();
        for s in steps {
            match s {
                Step::Plan { tasks } => {
                    let tasks: Vec<PlannedTask> = tasks
                        .into_iter()
                        .map(|t| PlannedTask {
                            source: t.source,
                            action: t.action,
                            why: "the subject is on its lists".into(),
                            held: false,
                        })
                        .collect();
                    d.accept_plan(c.id, &tasks).unwrap();
                }
                s => {
                    d.step(c.id, s, None).unwrap();
                }
            }
        }
        c.id
    };
    let objection = || vec![Right::Objection];
    vec![
        ("received", open("Ada", objection(), vec![])),
        (
            "awaiting-identity",
            open(
                "Bea",
                objection(),
                vec![Step::RequestId {
                    note: String::new(),
                }],
            ),
        ),
        (
            "in-progress-pending-tasks",
            open(
                "Cai",
                objection(),
                vec![verified(), planned(&["web-forms", "chatbot"])],
            ),
        ),
        (
            "awaiting-clarification",
            open(
                "Dee",
                objection(),
                vec![
                    verified(),
                    Step::Pause {
                        reason: "which newsletter?".into(),
                    },
                ],
            ),
        ),
        (
            "ready-to-respond",
            open(
                "Eve",
                objection(),
                vec![
                    verified(),
                    planned(&["web-forms"]),
                    done("web-forms"),
                    Step::MarkReady,
                ],
            ),
        ),
        (
            "access-searched",
            open(
                "Fay",
                vec![Right::Access],
                vec![verified(), planned(&["web-forms"]), done("web-forms")],
            ),
        ),
        (
            "closed",
            open(
                "Gus",
                objection(),
                vec![Step::Close(Closing::new(
                    Outcome::Withdrawn,
                    "the subject withdrew it",
                ))],
            ),
        ),
    ]
}

fn open_case(app: &mut App, id: CaseId) {
    key(app, KeyCode::Char('q'));
    if !app.queue.show_closed {
        key(app, Char('c')); // show closed cases too
    }
    let at = app
        .queue
        .rows
        .iter()
        .position(|&i| app.queue.views[i].case.id == id)
        .expect("the case is in the queue");
    app.queue.selected = at;
    key(app, Enter);
    assert_eq!(app.case.as_ref().map(|v| v.case.id), Some(id));
}

fn rows(app: &App) -> Vec<String> {
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| f.render_widget(app, f.area())).unwrap();
    let buf = term.backend().buffer().clone();
    (0..24)
        .map(|y| {
            (0..80)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

fn setup() -> (tempfile::TempDir, App, Vec<(&'static str, CaseId)>) {
    let t = tempfile::tempdir().unwrap();
    let d = desk(t.path());
    let cases = cases(&d);
    (t, app_of(d), cases)
}

#[test]
fn each_state_says_what_comes_next_and_offers_its_keys() {
    let (_t, mut app, cases) = setup();
    for (state, id) in cases {
        open_case(&mut app, id);
        let rows = rows(&app);
        let next: Vec<&String> = rows
            .iter()
            .skip_while(|r| !r.starts_with("Next "))
            .take_while(|r| !r.starts_with("Identity "))
            .collect();
        assert!(!next.is_empty(), "{state}: no next step in {rows:#?}");
        let shown = format!(
            "{}\n{}\n\nhint bar:\n{}",
            rows[1].trim(),
            next.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            rows[23]
        );
        insta::assert_snapshot!(format!("next_step_{state}"), shown);
    }
}

/// The keys the hint bar shows, read from the screen.
fn hinted(app: &App) -> Vec<String> {
    let bar = rows(app)[23].clone();
    let words: Vec<&str> = bar.split_whitespace().collect();
    words.chunks(2).map(|w| w[0].to_string()).collect()
}

#[test]
fn the_bar_offers_only_what_applies_and_the_rest_says_why() {
    let km = KeyMap::default();
    let states = setup().2.len();
    for n in 0..states {
        // A fresh store per state: a move that goes ahead changes the case.
        let (_t, mut app, cases) = setup();
        let (state, id) = cases[n];
        open_case(&mut app, id);
        let guide = app.guide.clone();
        let bar = hinted(&app);
        // Marking ready and resuming take their step at once (both can be
        // undone): pressed last, so the case is as the guide read it.
        let mut moves = Move::ALL.to_vec();
        moves.sort_by_key(|m| matches!(m, Move::MarkReady | Move::Resume));
        for m in moves {
            let action = Action::of_move(m);
            let Some(k) = km.first_key(Scope::Case, action) else {
                continue;
            };
            let Key {
                code: KeyCode::Char(c),
                ctrl: false,
            } = k
            else {
                continue;
            };
            // Offered by the bar: what the guide offers; refused: what the
            // rules forbid (planning again is allowed but not offered).
            let offered = guide.moves.contains(&m);
            let allowed = app
                .case
                .as_ref()
                .unwrap()
                .case
                .forbids(m, app.desk.calendar(), app.desk.today())
                .is_none();
            assert!(
                !offered || allowed,
                "{state}: {} offered but forbidden",
                m.name()
            );
            if !offered {
                assert!(
                    !bar.contains(&c.to_string()),
                    "{state}: the bar offers {c} ({}) that the rules forbid: {bar:?}",
                    m.name()
                );
            }
            key(&mut app, Char(c));
            let refused = matches!(
                app.popups.last(),
                Some(Popup::Message { title, error: true, .. }) if title.starts_with("Not now")
            );
            assert_eq!(
                refused,
                !allowed,
                "{state}: {c} ({}) {} but the rules {}: {:?}",
                m.name(),
                if refused { "was refused" } else { "went ahead" },
                if allowed { "allow it" } else { "forbid it" },
                app.popups.last()
            );
            // Back to the case as it was: close whatever opened, without
            // taking a step (a confirmation answered no).
            while !app.popups.is_empty() {
                key(&mut app, Esc);
            }
            if app.case.as_ref().map(|v| v.case.id) != Some(id) {
                open_case(&mut app, id);
            }
        }
    }
}

#[test]
fn g_goes_to_the_last_line_and_scrolling_stops_there() {
    let (_t, mut app, cases) = setup();
    // The pending-tasks case at 40×10: its screen is longer than the window.
    open_case(&mut app, cases[2].1);
    let draw = |app: &App| {
        let mut term = Terminal::new(TestBackend::new(40, 10)).unwrap();
        term.draw(|f| f.render_widget(app, f.area())).unwrap();
        let buf = term.backend().buffer().clone();
        (0..10)
            .map(|y| (0..40).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect::<Vec<_>>()
    };
    let first = draw(&app);
    key(&mut app, Char('G'));
    let bottom = draw(&app);
    assert_ne!(first, bottom, "G moved");
    assert!(
        bottom
            .iter()
            .any(|r| r.contains("task-recorded") || r.contains("planned")),
        "the timeline's end is in view: {bottom:#?}"
    );
    for _ in 0..50 {
        key(&mut app, Char('j'));
    }
    assert_eq!(draw(&app), bottom, "past the end the page stays full");
    key(&mut app, Char('k'));
    assert_ne!(draw(&app), bottom, "and one line up moves at once");
}

#[test]
fn the_tour_gives_a_tip_per_screen_and_hides_with_a_key() {
    let (_t, mut app, cases) = setup();
    app.tour = true;
    let status = |app: &App| rows(app)[22].clone();
    assert!(
        status(&app).contains("Enter opens a case"),
        "{}",
        status(&app)
    );
    open_case(&mut app, cases[0].1);
    assert!(
        status(&app).contains("The Next line says what to do"),
        "{}",
        status(&app)
    );
    key(&mut app, Char('a'));
    assert!(status(&app).contains("ctrl-s submits"), "{}", status(&app));
    key(&mut app, Esc);
    key(&mut app, Char('!'));
    assert!(!app.tour);
    key(&mut app, Char('j'));
    assert!(!status(&app).contains("tip"), "hidden: {}", status(&app));
}
