//! Random key sequences never panic the desk and keep its invariants: the
//! selection stays inside the queue, the screen shows a case that exists, the
//! store's audit chain still proves itself, and every frame draws.

mod common;

use common::*;
use proptest::prelude::*;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use rightsdesk::tui::app::{Msg, Screen};

fn any_key() -> impl Strategy<Value = KeyEvent> {
    let codes = prop_oneof![
        any::<char>().prop_map(KeyCode::Char),
        "[jkgGnqvitpueamcsry0M?:/ xIPELRUBSTXAhlo]"
            .prop_map(|s| KeyCode::Char(s.chars().next().unwrap())),
        Just(KeyCode::Enter),
        Just(KeyCode::Esc),
        Just(KeyCode::Tab),
        Just(KeyCode::BackTab),
        Just(KeyCode::Backspace),
        Just(KeyCode::Up),
        Just(KeyCode::Down),
        Just(KeyCode::Left),
        Just(KeyCode::Right),
        Just(KeyCode::PageUp),
        Just(KeyCode::PageDown),
        Just(KeyCode::Home),
        Just(KeyCode::End),
    ];
    let mods = prop_oneof![4 => Just(KeyModifiers::NONE), 1 => Just(KeyModifiers::CONTROL), 1 => Just(KeyModifiers::SHIFT)];
    (codes, mods).prop_map(|(c, m)| KeyEvent::new(c, m))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_keys_never_panic_and_keep_invariants(keys in proptest::collection::vec(any_key(), 1..250), w in 20u16..140, h in 5u16..50) {
        let t = tempfile::tempdir().unwrap();
        let mut app = app(t.path(), true);
        app.update(Msg::Resize { width: w, height: h });
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        for k in keys {
            // Worker effects (plans, exports, checks) run at once, as the run loop would.
            let effects = app.update(Msg::Key(k));
            work(&mut app, effects);
            if app.quit {
                break;
            }
            let q = &app.queue;
            prop_assert!(q.rows.is_empty() || q.selected < q.rows.len());
            prop_assert!(q.rows.iter().all(|&i| i < q.views.len()));
            if let Screen::Case(id) = app.screen {
                prop_assert_eq!(app.case.as_ref().map(|v| v.case.id), Some(id));
            }
            term.draw(|f| f.render_widget(&app, f.area())).unwrap();
        }
        let intact = matches!(
            app.desk.verify_audit(None),
            Ok(rightsdesk::service::ops::AuditCheck::Intact { .. })
        );
        prop_assert!(intact);
    }
}
