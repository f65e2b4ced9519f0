//! The README's key table is for staff: it must not drift from the key map.

use rightsdesk::tui::keymap::{KeyMap, Scope};

#[test]
fn readme_lists_every_default_key() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for b in KeyMap::default().bindings {
        let scope = match b.scope {
            Scope::Queue => "| queue |",
            Scope::Case => "| case |",
            Scope::Global => "| everywhere |",
        };
        for k in &b.keys {
            let key = format!("`{k}`");
            let found = readme.lines().any(|l| {
                (l.starts_with(scope) || b.scope == Scope::Global && l.starts_with("| queue |"))
                    && l.contains(&key)
            });
            assert!(
                found,
                "README's key table lacks {key} ({}) in {scope}",
                b.action.name()
            );
        }
    }
}
