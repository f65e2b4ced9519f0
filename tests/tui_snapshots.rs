//! Whole-desk snapshots on ratatui's TestBackend: every screen and popup at
//! 80×24, the queue at 40×10 and 120×40, and the "too small" message.

mod common;

use common::*;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode::*;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use rightsdesk::domain::State;
use rightsdesk::tui::app::App;

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| f.render_widget(app, f.area())).unwrap();
    term
}

fn snap(name: &str, app: &App, w: u16, h: u16) {
    insta::assert_snapshot!(name, draw(app, w, h).backend());
}

fn demo() -> (tempfile::TempDir, App) {
    let t = tempfile::tempdir().unwrap();
    let a = app(t.path(), true);
    (t, a)
}

#[test]
fn queue_at_three_sizes() {
    let (_t, mut a) = demo();
    snap("queue_80x24", &a, 80, 24);
    a.update(rightsdesk::tui::app::Msg::Resize {
        width: 40,
        height: 10,
    });
    snap("queue_40x10", &a, 40, 10);
    a.update(rightsdesk::tui::app::Msg::Resize {
        width: 120,
        height: 40,
    });
    snap("queue_120x40", &a, 120, 40);
}

#[test]
fn empty_queue_says_what_to_press() {
    let t = tempfile::tempdir().unwrap();
    let a = app(t.path(), false);
    snap("queue_empty_80x24", &a, 80, 24);
}

#[test]
fn too_small_below_40x10() {
    let (_t, a) = demo();
    snap("too_small_39x9", &a, 39, 9);
}

#[test]
fn case_screen_plain_and_masked() {
    let (_t, mut a) = demo();
    key(&mut a, Enter);
    snap("case_80x24", &a, 80, 24);
    key(&mut a, Char('M'));
    snap("case_masked_80x24", &a, 80, 24);
}

#[test]
fn help_and_palette() {
    let (_t, mut a) = demo();
    key(&mut a, Char('?'));
    snap("help_80x24", &a, 80, 24);
    snap("help_40x10", &a, 40, 10);
    // Searching the help: the queue's words are explained there too.
    key(&mut a, Char('/'));
    typ(&mut a, "era");
    snap("help_search_80x24", &a, 80, 24);
    key(&mut a, Esc);
    key(&mut a, Esc);
    key(&mut a, Char(':'));
    typ(&mut a, "ca");
    snap("palette_80x24", &a, 80, 24);
    snap("palette_40x10", &a, 40, 10);
}

#[test]
fn intake_form_empty_and_with_errors() {
    let t = tempfile::tempdir().unwrap();
    let mut a = app(t.path(), false);
    key(&mut a, Char('n'));
    snap("intake_80x24", &a, 80, 24);
    keys(&mut a, &[Enter, Enter, Enter, Down, Down, Down, Down, Down]);
    typ(&mut a, "Eve \u{1b}]0;owned\u{7}");
    key(&mut a, Enter);
    typ(&mut a, "eve-at-example");
    key(&mut a, Enter);
    key(&mut a, Enter);
    snap("intake_errors_80x24", &a, 80, 24);
}

/// Opens the first case of the queue that `pick` chooses.
fn open_first(a: &mut App, pick: impl Fn(&rightsdesk::service::CaseView) -> bool) {
    key(a, Char('q'));
    a.queue.selected = a
        .queue
        .rows
        .iter()
        .position(|&i| pick(&a.queue.views[i]))
        .expect("the demo has such a case");
    key(a, Enter);
}

#[test]
fn case_popups() {
    let (_t, mut a) = demo();
    // Each form on a case whose rules allow its step (the desk refuses the
    // others before a form opens).
    open_first(&mut a, |v| v.case.state == State::Received);
    key(&mut a, Char('v'));
    snap("verify_form_80x24", &a, 80, 24);
    key(&mut a, Esc);
    open_first(&mut a, |v| {
        v.case.state == State::InProgress
            && !v.clock.is_overdue()
            && v.clock.extended_on.is_none()
            && v.clock.due.is_some()
    });
    key(&mut a, Char('e'));
    snap("extend_form_80x24", &a, 80, 24);
    key(&mut a, Esc);
    key(&mut a, Char('q'));
    a.queue.selected = 0;
    key(&mut a, Enter);
    key(&mut a, Char('t'));
    snap("task_form_80x24", &a, 80, 24);
    key(&mut a, Esc);
    key(&mut a, Char('c'));
    snap("close_form_80x24", &a, 80, 24);
    snap("close_form_40x10", &a, 40, 10);
    // At 40×10 the focused field stays in view as the officer moves down.
    keys(&mut a, &[Tab, Tab, Tab, Tab, Tab]);
    snap("close_form_last_field_40x10", &a, 40, 10);
    keys(&mut a, &[BackTab, BackTab, BackTab, BackTab, BackTab]);
    // A refusal needs no reason for the open work, and the form says so.
    key(&mut a, Right);
    key(&mut a, Right);
    snap("close_form_refused_80x24", &a, 80, 24);
    key(&mut a, Left);
    key(&mut a, Left);
    keys(&mut a, &[Tab, Tab, Tab]);
    typ(&mut a, "all sources done");
    keys(&mut a, &[Enter, Enter]);
    for _ in 0..8 {
        typ(&mut a, "handled outside the desk");
        key(&mut a, Enter);
        if matches!(
            a.popups.last(),
            Some(rightsdesk::tui::app::Popup::Confirm { .. })
        ) {
            break;
        }
    }
    snap("close_confirm_80x24", &a, 80, 24);
    key(&mut a, Char('n')); // back to the form, as typed
    key(&mut a, Esc);
    key(&mut a, Char('u')); // resume a case that is not paused
    snap("refusal_80x24", &a, 80, 24);
}

#[test]
fn urgency_is_in_words_and_colour_and_mono_has_no_colour() {
    let (_t, mut a) = demo();
    let term = draw(&a, 80, 24);
    let buf = term.backend().buffer();
    let row = (0..24)
        .find(|&y| {
            (0..80)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .contains("OVERDUE ")
        })
        .expect("an OVERDUE row");
    let x = (0..80)
        .find(|&x| buf[(x, row)].symbol() == "O" && buf[(x + 1, row)].symbol() == "V")
        .unwrap();
    assert_eq!(buf[(x, row)].fg, Color::Red);
    // The selected row is REVERSED, not just coloured.
    assert!(buf[(0, 3)].modifier.contains(Modifier::REVERSED));

    a.theme.mono = true;
    let term = draw(&a, 80, 24);
    let buf = term.backend().buffer();
    for y in 0..24 {
        for x in 0..80 {
            assert_eq!(
                buf[(x, y)].fg,
                Color::Reset,
                "colour at {x},{y} in the monochrome theme"
            );
        }
    }
    assert!(buf[(0, 3)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn plan_and_export_popups() {
    let (_t, mut a) = demo();
    // The first access case in progress: its plan, then the export form with a
    // password typed (drawn as dots).
    let pos = a
        .queue
        .rows
        .iter()
        .position(|&i| {
            let c = &a.queue.views[i].case;
            c.state == rightsdesk::domain::State::InProgress && c.wants_package()
        })
        .expect("the demo has an access case in progress");
    for _ in 0..pos {
        key(&mut a, Char('j'));
    }
    key(&mut a, Enter);
    key(&mut a, Char('P'));
    assert!(matches!(
        a.popups.last(),
        Some(rightsdesk::tui::app::Popup::Plan { .. })
    ));
    key(&mut a, Char('j'));
    key(&mut a, Char(' '));
    snap("plan_popup_80x24", &a, 80, 24);
    key(&mut a, Esc);
    key(&mut a, Char('E'));
    key(&mut a, Tab);
    typ(&mut a, "secret pass");
    let screen = format!("{:?}", draw(&a, 80, 24).backend());
    assert!(!screen.contains("secret pass"), "a password is never drawn");
    snap("export_form_80x24", &a, 80, 24);
}

#[test]
fn records_and_audit_views() {
    let (_t, mut a) = demo();
    key(&mut a, Char('T'));
    snap("records_80x24", &a, 80, 24);
    snap("records_40x10", &a, 40, 10);
    key(&mut a, Char('q'));
    key(&mut a, Char('A'));
    key(&mut a, Char('t')); // filter to the first kind (alphabetical): `closed` in the demo
    key(&mut a, Char('v'));
    snap("audit_80x24", &a, 80, 24);
}
