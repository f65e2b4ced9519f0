//! The desk: the TUI staff work in over SSH (ratatui + crossterm).
//!
//! Shape (design.md §2): one [`app::App`] state, key events turned into
//! [`keymap::Action`]s, one `update`, views that only draw, popups on a stack.

pub mod app;
pub mod form;
pub mod keymap;
pub mod prefs;
pub mod term;
pub mod view;

use crate::service::Desk;
use app::{App, Effect, Msg};
use keymap::KeyMap;
use prefs::Prefs;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::Terminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const KEYS_FILE: &str = "keys.toml";

/// How the desk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// The terminal went away (SSH drop): data saved, terminal untouched.
    Hangup,
}

/// The default key map with the data directory's `keys.toml` applied.
pub fn load_keymap(data_dir: &std::path::Path) -> anyhow::Result<KeyMap> {
    let path = data_dir.join(KEYS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(KeyMap::default().with_overrides(&path.display().to_string(), &text)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeyMap::default()),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

/// Runs the desk until the officer quits or the terminal hangs up.
pub fn run(desk: Desk, demo: bool) -> anyhow::Result<Exit> {
    let data_dir = desk.data_dir().to_path_buf();
    let keymap = load_keymap(&data_dir)?;
    let prefs = if demo {
        Prefs::default()
    } else {
        Prefs::load(&data_dir)
    };
    let mut app = App::new(desk, keymap, view::theme::Theme::from_env(), &prefs)?;
    app.demo = demo;

    let hangup = Arc::new(AtomicBool::new(false));
    let terminate = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&hangup))?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&terminate))?;
    term::install_panic_hook();

    let mut guard = term::TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    if let Ok(s) = terminal.size() {
        app.update(Msg::Resize {
            width: s.width,
            height: s.height,
        });
    }

    let mut dirty = true;
    let exit = loop {
        if hangup.load(Ordering::Relaxed) {
            break Exit::Hangup;
        }
        if terminate.load(Ordering::Relaxed) || app.quit {
            break Exit::Quit;
        }
        if dirty {
            if terminal.draw(|f| f.render_widget(&app, f.area())).is_err() {
                break Exit::Hangup;
            }
            dirty = false;
        }
        // Wake at least every 200 ms to notice signals; sleep in poll otherwise.
        match event::poll(Duration::from_millis(200)) {
            Err(_) => break Exit::Hangup,
            Ok(false) => continue,
            Ok(true) => {}
        }
        match event::read() {
            Err(_) => break Exit::Hangup,
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => {
                if k.code == KeyCode::Char('z') && k.modifiers.contains(KeyModifiers::CONTROL) {
                    suspend(&mut guard)?;
                    terminal.clear()?;
                } else {
                    for effect in app.update(Msg::Key(k)) {
                        match effect {
                            Effect::Copy(text) => {
                                let _ = term::write_osc52(terminal.backend_mut(), &text);
                            }
                        }
                    }
                }
                dirty = true;
            }
            Ok(Event::Resize(w, h)) => {
                app.update(Msg::Resize {
                    width: w,
                    height: h,
                });
                dirty = true;
            }
            Ok(_) => {}
        }
    };

    // Every change was flushed when it was made; flush once more, then remember
    // the officer's filters (never in demo mode, whose store is thrown away).
    let _ = app.desk.flush();
    if !demo {
        let _ = app.prefs().save(&data_dir);
    }
    match exit {
        Exit::Hangup => guard.abandon(),
        Exit::Quit => drop(guard),
    }
    Ok(exit)
}

/// Ctrl-Z: give the terminal back, stop, and take it again on `fg`.
fn suspend(guard: &mut term::TerminalGuard) -> std::io::Result<()> {
    guard.suspend();
    // SAFETY: raising SIGTSTP stops this process with the default action; it
    // continues here on SIGCONT.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    guard.resume()
}
