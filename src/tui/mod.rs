//! The desk: the TUI staff work in over SSH (ratatui + crossterm).
//!
//! Shape (ARCHITECTURE.md, "Layers"): one [`app::App`] state, key events turned into
//! [`keymap::Action`]s, one `update`, views that only draw, popups on a stack.

pub mod app;
pub mod colour;
pub mod form;
pub mod keymap;
pub mod line_edit;
pub mod lookup;
pub mod path_complete;
pub mod prefs;
pub mod term;
pub mod view;
pub mod work;

use crate::remote::backend::Backend;
use app::{App, Effect, Msg};
use keymap::KeyMap;
use prefs::Prefs;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::Terminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
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
pub fn run(desk: Backend, demo: bool, inbox: Option<std::path::PathBuf>) -> anyhow::Result<Exit> {
    let data_dir = desk.data_dir().to_path_buf();
    let keymap = load_keymap(&data_dir)?;
    let prefs = if demo {
        Prefs::default()
    } else {
        Prefs::load(&data_dir)
    };
    let mut app = App::new(desk, keymap, view::theme::Theme::from_env(), &prefs)?;
    app.demo = demo;
    app.inbox_path = inbox;
    // The demo is where a newcomer learns the desk: a tip per screen.
    app.tour = demo;

    let hangup = Arc::new(AtomicBool::new(false));
    let terminate = Arc::new(AtomicBool::new(false));
    // Under `nohup` (SIGHUP ignored when we start) keep ignoring it, as such a
    // wrapper expects; a vanished terminal is still noticed through POLLHUP.
    if !signal_ignored(libc::SIGHUP) {
        signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&hangup))?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&terminate))?;
    term::install_panic_hook();
    let panic_key = std::env::var("RIGHTSDESK_TEST_PANIC_KEY").ok();

    let mut guard = term::TerminalGuard::enter()?;
    let depth = colour::Depth::from_env();
    let mut terminal = Terminal::new(colour::DepthBackend::new(std::io::stdout(), depth))?;
    if let Ok(s) = terminal.size() {
        app.update(Msg::Resize {
            width: s.width,
            height: s.height,
        });
    }

    let (tx, input) = mpsc::channel::<Input>();
    spawn_input_thread(tx.clone());
    // The index loads on its own thread: the first frame never waits for it.
    let lookup_tx = tx.clone();
    let emit = move |ev| lookup_tx.send(Input::Lookup(ev)).is_ok();
    app.lookup_tx = Some(lookup::spawn(app.desk.clone(), emit));
    // Through the shared service, other officers' changes arrive on their own
    // connection and thread, and refresh this desk as they happen.
    if app.desk.is_shared() {
        spawn_feed(app.desk.clone(), tx.clone());
    }
    // The queue's further pages, and whatever else waited for the loop.
    let first = app.take_effects();
    dispatch(&mut app, first, &mut terminal, &tx);
    let mut dirty = true;
    let exit = loop {
        if hangup.load(Ordering::Relaxed) || tty_hung_up() {
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
        // Sleep until a key arrives, waking every 200 ms to notice signals and a
        // vanished terminal (an SSH drop with SIGHUP ignored by a wrapper).
        let ev = match input.recv_timeout(Duration::from_millis(200)) {
            Ok(Input::Term(ev)) => ev,
            Ok(Input::Lookup(ev)) => {
                app.update(Msg::Lookup(ev));
                dirty = true;
                continue;
            }
            Ok(Input::Import(ev)) => {
                app.update(Msg::Import(ev));
                dirty = true;
                continue;
            }
            Ok(Input::Msg(m)) => {
                let effects = app.update(m);
                dispatch(&mut app, effects, &mut terminal, &tx);
                dirty = true;
                continue;
            }
            Ok(Input::Gone) | Err(RecvTimeoutError::Disconnected) => break Exit::Hangup,
            Err(RecvTimeoutError::Timeout) => continue,
        };
        match ev {
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                if k.code == KeyCode::Char('z') && k.modifiers.contains(KeyModifiers::CONTROL) {
                    suspend(&mut guard)?;
                    // A fresh Terminal redraws everything on the next frame.
                    // (ratatui's `clear` asks the terminal for the cursor position,
                    // and that answer would be read by our input thread instead:
                    // after `fg` the desk died waiting for it.)
                    ratatui::crossterm::execute!(
                        std::io::stdout(),
                        ratatui::crossterm::terminal::Clear(
                            ratatui::crossterm::terminal::ClearType::All
                        )
                    )?;
                    terminal = Terminal::new(colour::DepthBackend::new(std::io::stdout(), depth))?;
                } else {
                    // A test hook: the pty test of the panic hook presses this key.
                    if let (Some(want), KeyCode::Char(c)) = (&panic_key, k.code) {
                        if want.starts_with(c) {
                            panic!("test panic requested by RIGHTSDESK_TEST_PANIC_KEY");
                        }
                    }
                    let effects = app.update(Msg::Key(k));
                    dispatch(&mut app, effects, &mut terminal, &tx);
                }
                dirty = true;
            }
            Event::Paste(text) => {
                let effects = app.update(Msg::Paste(text));
                dispatch(&mut app, effects, &mut terminal, &tx);
                dirty = true;
            }
            Event::Resize(w, h) => {
                app.update(Msg::Resize {
                    width: w,
                    height: h,
                });
                dirty = true;
            }
            _ => {}
        }
    };

    // Every change was flushed when it was made; flush once more, then remember
    // the officer's filters (never in demo mode, whose store is thrown away).
    let _ = app.desk.flush();
    if !demo {
        let _ = app.prefs().save(&data_dir);
    }
    match exit {
        Exit::Hangup => {
            // The terminal is gone: ratatui's own drop would try to show the
            // cursor on it and print the failure to a dead stderr.
            std::mem::forget(terminal);
            guard.abandon();
        }
        Exit::Quit => {
            drop(terminal);
            drop(guard);
        }
    }
    Ok(exit)
}

/// What wakes the main loop.
enum Input {
    Term(Event),
    /// The terminal cannot be read any more.
    Gone,
    Lookup(lookup::LookupEvent),
    Import(app::ImportEvent),
    /// A worker's answer, or a change another officer made.
    Msg(Msg),
}

pub use work::export_closures;

/// Carries out what an update asked for: the clipboard here, an import and
/// every slow job on a thread of its own, whose answer comes back as a `Msg`.
fn dispatch(
    app: &mut App,
    effects: Vec<Effect>,
    terminal: &mut Terminal<colour::DepthBackend<std::io::Stdout>>,
    tx: &mpsc::Sender<Input>,
) {
    for effect in effects {
        match effect {
            Effect::Copy(text) => {
                let _ = term::write_osc52(terminal.backend_mut(), &text);
            }
            Effect::StartImport { source, path, how } => {
                spawn_import(app.desk.clone(), source, path, *how, tx.clone())
            }
            other => {
                if let Ok(job) = work::job(app, other) {
                    let tx = tx.clone();
                    std::thread::spawn(move || {
                        let _ = tx.send(Input::Msg(job()));
                    });
                }
            }
        }
    }
}

/// Listens for the service's change pushes; when the service goes away, says
/// so and keeps trying to reconnect (once a second), then reloads the queue.
fn spawn_feed(desk: Backend, tx: Sender<Input>) {
    let _ = std::thread::Builder::new()
        .name("feed".into())
        .spawn(move || {
            let mut lost = false;
            loop {
                if let Ok(Some(mut feed)) = desk.subscribe() {
                    if lost {
                        desk.reconnect();
                        let queue = desk.queue().map_err(|e| e.to_string());
                        if tx.send(Input::Msg(Msg::ServiceBack(queue))).is_err() {
                            return;
                        }
                    }
                    // Subscribed: from now on no change is missed.
                    if !lost && tx.send(Input::Msg(Msg::ServiceLive)).is_err() {
                        return;
                    }
                    lost = false;
                    while let Ok(change) = feed.next_change() {
                        if tx.send(Input::Msg(Msg::Changed(Box::new(change)))).is_err() {
                            return;
                        }
                    }
                }
                if !lost {
                    lost = true;
                    if tx.send(Input::Msg(Msg::ServiceLost)).is_err() {
                        return;
                    }
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        });
}

/// Runs one import on its own thread, reporting each stage.
fn spawn_import(
    desk: Backend,
    source: String,
    path: std::path::PathBuf,
    how: crate::import::ReadAs,
    tx: Sender<Input>,
) {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let _ = std::thread::Builder::new()
        .name("import".into())
        .spawn(move || {
            let started = std::time::Instant::now();
            let progress_tx = tx.clone();
            let mut progress = |stage: &str, rows: usize| {
                let _ = progress_tx.send(Input::Import(app::ImportEvent::Progress {
                    file: file.clone(),
                    stage: stage.to_string(),
                    rows,
                    millis: started.elapsed().as_millis(),
                }));
            };
            let result = desk
                .import(&source, &path, &how, &mut progress)
                .map_err(|e| e.to_string());
            let _ = tx.send(Input::Import(app::ImportEvent::Done(result)));
        });
}

/// Reads terminal events on their own thread. crossterm's reader loops forever
/// on a terminal that has hung up (it retries on EIO), so it must never run on
/// the thread that decides to exit.
fn spawn_input_thread(tx: Sender<Input>) {
    let _ = std::thread::Builder::new()
        .name("input".into())
        .spawn(move || loop {
            match event::read() {
                Ok(ev) => {
                    if tx.send(Input::Term(ev)).is_err() {
                        return;
                    }
                }
                Err(_) => {
                    let _ = tx.send(Input::Gone);
                    return;
                }
            }
        });
}

/// Whether a signal's disposition is "ignore" (inherited from a wrapper).
fn signal_ignored(sig: libc::c_int) -> bool {
    // SAFETY: a null new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Whether the controlling terminal has hung up (POLLHUP/POLLERR on stdin).
fn tty_hung_up() -> bool {
    let mut pfd = libc::pollfd {
        fd: 0,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd; a zero timeout never blocks.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && pfd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
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
