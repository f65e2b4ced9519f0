//! Diff rendering keeps a keypress cheap on a slow SSH link: moving the
//! selection rewrites the two rows that changed, not the screen.

mod common;

use common::*;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::sync::{Arc, Mutex};

/// A terminal that only counts what it is sent.
#[derive(Clone, Default)]
struct Wire(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Wire {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn one_j_keypress_writes_only_the_changed_rows() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), true);
    let wire = Wire::default();
    let backend = CrosstermBackend::new(wire.clone());
    let mut term = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .unwrap();
    term.draw(|f| f.render_widget(&app, f.area())).unwrap();
    let first = std::mem::take(&mut *wire.0.lock().unwrap()).len();
    key(&mut app, KeyCode::Char('j'));
    term.draw(|f| f.render_widget(&app, f.area())).unwrap();
    let after_j = wire.0.lock().unwrap().len();
    eprintln!("bytes: first frame {first}, one j keypress {after_j}");
    assert!(
        first > 1500,
        "the first frame draws the whole queue ({first} bytes)"
    );
    // Two rows of 80 cells with their style changes, and nothing else.
    assert!(after_j < 2 * 80 * 4, "a j keypress wrote {after_j} bytes");
}

#[test]
fn scrolling_down_the_queue_costs_about_as_little_as_moving_within_a_page() {
    let t = tempfile::tempdir().unwrap();
    let mut app = app(t.path(), true);
    let wire = Wire::default();
    let mut term = Terminal::with_options(
        CrosstermBackend::new(wire.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .unwrap();
    term.draw(|f| f.render_widget(&app, f.area())).unwrap();
    wire.0.lock().unwrap().clear();
    // Down the whole demo queue (34 open cases, 19 rows shown): past the
    // page's end every keypress would shift every row by one.
    let presses = 33;
    let mut per_key = Vec::new();
    for _ in 0..presses {
        key(&mut app, KeyCode::Char('j'));
        term.draw(|f| f.render_widget(&app, f.area())).unwrap();
        per_key.push(std::mem::take(&mut *wire.0.lock().unwrap()).len());
    }
    let total: usize = per_key.iter().sum();
    let big = per_key.iter().filter(|b| **b > 1000).count();
    eprintln!("bytes per j: {per_key:?}; mean {}", total / presses);
    assert!(
        big <= 2,
        "the page moved {big} times in {presses} keypresses: {per_key:?}"
    );
    assert!(
        total / presses < 600,
        "mean {} bytes a keypress",
        total / presses
    );
}
