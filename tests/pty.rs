//! End-to-end runs of the real binary in a pseudo-terminal (portable-pty), the
//! screen read back through a terminal emulator (vt100).

mod common;

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use std::os::fd::RawFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// Generous bound for "eventually": these are waits, not timing assertions.
const PATIENCE: Duration = Duration::from_secs(20);

struct Term {
    master: Option<Box<dyn MasterPty + Send>>,
    reader: Option<Box<dyn Read + Send>>,
    writer: Option<Box<dyn Write + Send>>,
    fd: RawFd,
    child: Box<dyn Child + Send + Sync>,
    parser: vt100::Parser,
    raw: Vec<u8>,
}

impl Term {
    fn spawn(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Term {
        Term::spawn_with(data_dir, env!("CARGO_BIN_EXE_rightsdesk"), args, env)
    }

    fn spawn_cmd(data_dir: &Path, program: &str, args: &[&str]) -> Term {
        Term::spawn_with(data_dir, program, args, &[])
    }

    fn spawn_with(data_dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Term {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("RIGHTSDESK_DATA_DIR", data_dir);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let fd = pair.master.as_raw_fd().unwrap();
        Term {
            master: Some(pair.master),
            reader: Some(reader),
            writer: Some(writer),
            fd,
            child,
            parser: vt100::Parser::new(24, 80, 0),
            raw: Vec::new(),
        }
    }

    /// Reads what the desk wrote, waiting at most `ms` for the first byte.
    fn pump(&mut self, ms: i32) {
        let Some(reader) = self.reader.as_mut() else {
            return;
        };
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for an fd we own.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n > 0 && pfd.revents & libc::POLLIN != 0 {
            let mut buf = [0u8; 65536];
            if let Ok(k) = reader.read(&mut buf) {
                self.parser.process(&buf[..k]);
                self.raw.extend_from_slice(&buf[..k]);
            }
        }
    }

    fn screen(&self) -> String {
        self.parser.screen().contents()
    }

    fn wait_for(&mut self, text: &str) {
        let end = Instant::now() + PATIENCE;
        while Instant::now() < end {
            self.pump(50);
            if self.screen().contains(text) {
                return;
            }
        }
        panic!("'{text}' never appeared; the screen:\n{}", self.screen());
    }

    fn send(&mut self, s: &str) {
        let w = self.writer.as_mut().unwrap();
        w.write_all(s.as_bytes()).unwrap();
        w.flush().unwrap();
        self.pump(30);
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let end = Instant::now() + PATIENCE;
        while Instant::now() < end {
            self.pump(20);
            if let Some(s) = self.child.try_wait().unwrap() {
                self.pump(0);
                return s;
            }
        }
        panic!("the desk did not exit; the screen:\n{}", self.screen());
    }

    /// Closes every handle on the master side, as sshd does when a link drops.
    fn hang_up(&mut self) {
        self.reader = None;
        self.writer = None;
        self.master = None;
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

use common::cli::ok as cli;

/// A case opened from the shell, by e-mail; its id.
fn open_by_email(d: &Path, right: &str, name: &str, email: &str) -> String {
    cli(
        d,
        &[
            "case",
            "open",
            "--right",
            right,
            "--name",
            name,
            "--email",
            email,
            "--channel",
            "email",
        ],
    )
    .trim()
    .to_string()
}

/// A case opened and verified from the shell, then opened on the desk's screen.
fn verified_case_on_screen(d: &Path, right: &str, name: &str, email: &str) -> (String, Term) {
    let id = open_by_email(d, right, name, email);
    cli(d, &["case", "verify", &id, "--method", "known-details"]);
    let mut term = Term::spawn(d, &[], &[]);
    term.wait_for(&id);
    term.send("\r");
    term.wait_for("Tasks 0/0");
    (id, term)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn starts_in_demo_copies_an_id_and_quits_restoring_the_terminal() {
    let t = tempfile::tempdir().unwrap();
    let mut term = Term::spawn(t.path(), &["--demo"], &[]);
    term.wait_for("OVERDUE");
    assert!(term.screen().contains("[DEMO]"));
    let first_id = term
        .screen()
        .lines()
        .find(|l| l.starts_with("DSR-"))
        .unwrap()[..13]
        .to_string();
    term.send("y");
    term.wait_for("copied");
    let b64 = {
        // The id's OSC 52 payload as the desk must send it.
        let out = rightsdesk::tui::term::osc52(&first_id);
        out.into_bytes()
    };
    assert!(
        contains(&term.raw, &b64),
        "OSC 52 with the case id reached the terminal"
    );
    term.send("q");
    let status = term.wait_exit();
    assert!(status.success(), "{status:?}");
    assert!(
        contains(&term.raw, b"\x1b[?1049h"),
        "entered the alternate screen"
    );
    let leave = term
        .raw
        .windows(8)
        .rposition(|w| w == b"\x1b[?1049l")
        .expect("left the alternate screen");
    let show = term
        .raw
        .windows(6)
        .rposition(|w| w == b"\x1b[?25h")
        .expect("showed the cursor again");
    assert!(
        leave > term.raw.len() - 64 && show > term.raw.len() - 64,
        "restoring is the last thing written"
    );
}

#[test]
fn open_a_case_from_the_queue_record_a_task_and_see_it() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let (id, mut term) = verified_case_on_screen(d, "erasure", "Ana García", "ana@example.ie");
    term.send("t");
    term.wait_for("Record work on");
    term.send("\x1b[C"); // → : web-forms
    term.send("\t\t\tdeleted in HubSpot");
    term.send("\x13"); // ctrl-s submits
    term.wait_for("Tasks 1/1");
    assert!(term.screen().contains("[x] web-forms"), "{}", term.screen());
    term.send("q");
    term.send("q");
    assert!(term.wait_exit().success());
    let shown: serde_json::Value =
        serde_json::from_str(&cli(d, &["case", "show", &id, "--json"])).unwrap();
    assert_eq!(shown["tasks"][0]["source"], "web-forms");
    assert_eq!(shown["tasks"][0]["note"], "deleted in HubSpot");
    cli(d, &["audit", "verify"]);
}

#[test]
fn a_hostile_subject_name_shows_inert_and_no_colour_with_no_color() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let name = "Eve \u{1b}]52;c;ZXZpbA==\u{7}\u{1b}]0;pwned\u{7}\u{1b}[31mRED\u{202e}";
    cli(
        d,
        &[
            "case",
            "open",
            "--right",
            "access",
            "--name",
            name,
            "--channel",
            "web-form",
        ],
    );
    let mut term = Term::spawn(d, &[], &[("NO_COLOR", "1")]);
    term.wait_for("Eve ^[]52");
    term.send("\r");
    term.wait_for("^[]0;pwned^G^[[31mRED<U+202E>");
    term.send("q");
    term.send("q");
    assert!(term.wait_exit().success());
    for bad in [
        &b"\x1b]52"[..],
        b"\x1b]0;",
        b"\x1b]2;",
        b"\x1b[31m",
        b"\xe2\x80\xae",
    ] {
        assert!(!contains(&term.raw, bad), "{bad:?} reached the terminal");
    }
    assert!(
        !contains(&term.raw, b"38;5;") && !contains(&term.raw, b"48;5;"),
        "NO_COLOR: no colour codes at all"
    );
}

#[test]
fn closing_the_terminal_ends_the_desk_with_its_last_change_saved() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = cli(
        d,
        &[
            "case",
            "open",
            "--right",
            "objection",
            "--name",
            "Liam Walsh",
            "--channel",
            "phone",
        ],
    )
    .trim()
    .to_string();
    let mut term = Term::spawn(d, &[], &[]);
    term.wait_for(&id);
    term.send("\r");
    term.send("a");
    term.wait_for("Note on");
    term.send("said just before the line dropped\r");
    term.wait_for("saved");
    let dropped = Instant::now();
    term.hang_up();
    let end = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(s) = term.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < end,
            "the desk kept running after the terminal closed"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    eprintln!(
        "desk exited {:?} after hangup ({status:?})",
        dropped.elapsed()
    );
    // The store is free again and holds the note.
    let shown: serde_json::Value =
        serde_json::from_str(&cli(d, &["case", "show", &id, "--json"])).unwrap();
    assert_eq!(
        shown["notes"][0]["text"],
        "said just before the line dropped"
    );
}

/// Like `cli`, for a process that must be gone: waits for the store to be free.
fn wait_gone(term: &mut Term) -> Duration {
    let start = Instant::now();
    let end = start + PATIENCE;
    loop {
        if term.child.try_wait().unwrap().is_some() {
            return start.elapsed();
        }
        assert!(Instant::now() < end, "the desk kept running");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn with_sighup_ignored_a_vanished_terminal_still_ends_the_desk() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = cli(
        d,
        &[
            "case",
            "open",
            "--right",
            "access",
            "--name",
            "Niamh Fitzgerald",
            "--channel",
            "email",
        ],
    )
    .trim()
    .to_string();
    // A wrapper that ignores SIGHUP, as nohup does; the desk inherits it.
    let script = format!("trap '' HUP; exec '{}'", env!("CARGO_BIN_EXE_rightsdesk"));
    let mut term = Term::spawn_cmd(d, "sh", &["-c", &script]);
    term.wait_for(&id);
    term.send("\r");
    term.send("a");
    term.wait_for("Note on");
    term.send("with SIGHUP ignored\r");
    term.wait_for("saved");
    term.hang_up();
    let took = wait_gone(&mut term);
    eprintln!("desk exited {took:?} after the terminal vanished (SIGHUP ignored)");
    let shown: serde_json::Value =
        serde_json::from_str(&cli(d, &["case", "show", &id, "--json"])).unwrap();
    assert_eq!(shown["notes"][0]["text"], "with SIGHUP ignored");
}

#[test]
fn sigterm_quits_cleanly_and_restores_the_terminal() {
    let t = tempfile::tempdir().unwrap();
    let mut term = Term::spawn(t.path(), &[], &[]);
    term.wait_for("No cases yet");
    let pid = term.child.process_id().unwrap() as libc::pid_t;
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let status = term.wait_exit();
    assert!(status.success(), "{status:?}");
    let leave = term
        .raw
        .windows(8)
        .rposition(|w| w == b"\x1b[?1049l")
        .expect("left the alternate screen");
    assert!(leave > term.raw.len() - 64);
}

#[test]
fn ctrl_z_suspends_to_the_shell_and_fg_brings_the_desk_back() {
    let t = tempfile::tempdir().unwrap();
    // A real interactive shell with job control, as staff have over SSH.
    let mut term = Term::spawn_cmd(t.path(), "bash", &["--norc", "--noprofile", "-i"]);
    // bash discards what was typed before its first prompt.
    term.wait_for("bash-");
    term.send(&format!(
        "PS1='$ '; '{}' --demo\r",
        env!("CARGO_BIN_EXE_rightsdesk")
    ));
    term.wait_for("OVERDUE");
    term.send("\x1a"); // ctrl-z
    term.wait_for("Stopped");
    assert!(
        !term.screen().contains("OVERDUE"),
        "the shell's screen is back:\n{}",
        term.screen()
    );
    term.send("fg\r");
    term.wait_for("OVERDUE");
    let before_quit = term.raw.len();
    term.send("q");
    let end = Instant::now() + PATIENCE;
    // The desk gave the terminal back and the shell prompts again.
    while !(contains(&term.raw[before_quit..], b"\x1b[?1049l")
        && contains(&term.raw[before_quit..], b"$ "))
    {
        assert!(Instant::now() < end, "the desk did not quit after fg");
        term.pump(20);
    }
    term.send("exit\r");
    assert!(term.wait_exit().success());
}

#[test]
fn a_panic_restores_the_terminal_before_its_message() {
    let t = tempfile::tempdir().unwrap();
    let mut term = Term::spawn(t.path(), &["--demo"], &[("RIGHTSDESK_TEST_PANIC_KEY", "Z")]);
    term.wait_for("OVERDUE");
    term.send("Z");
    let status = term.wait_exit();
    assert!(!status.success(), "a panic is a failure exit: {status:?}");
    let said = term
        .raw
        .windows(22)
        .position(|w| w == b"test panic requested b")
        .expect("the panic message reached the terminal");
    let (before, after) = term.raw.split_at(said);
    assert!(
        contains(before, b"\x1b[?1049l") && contains(before, b"\x1b[?25h"),
        "the terminal is restored before the message prints, so it is readable"
    );
    // Leaving the alternate screen a second time would restore the cursor saved
    // on entry, and the shell's prompt would then overwrite the message.
    assert!(
        !contains(after, b"\x1b[?1049l"),
        "restored once only: {:?}",
        String::from_utf8_lossy(&after[after.len().saturating_sub(120)..])
    );
}

/// The run loop's workers in the real binary: the plan is computed on a
/// thread and pops up; the closure log is written on a thread and reported.
#[test]
fn plans_and_the_closure_log_come_back_from_their_worker_threads() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let (id, mut term) = verified_case_on_screen(d, "objection", "Bo Li", "bo@example.ie");
    term.send("P");
    term.wait_for("Plan for");
    assert!(
        term.screen().contains("add to suppression list"),
        "{}",
        term.screen()
    );
    term.send("\r");
    term.wait_for("planned");
    term.send("q"); // back to the queue
    term.send("X");
    term.wait_for("Export the closure log");
    term.send("\r\r\r");
    term.wait_for("written to");
    term.send("\r");
    term.send("q");
    assert!(term.wait_exit().success());
    let shown: serde_json::Value =
        serde_json::from_str(&cli(d, &["case", "show", &id, "--json"])).unwrap();
    assert!(shown["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["action"] == "add to suppression list" && t["status"] == "done"));
    assert!(cli(d, &["suppression", "export"]).contains(",email,"));
}

/// `rightsdesk serve` as its own process, stopped (SIGTERM) when dropped.
struct Served(std::process::Child);

impl Served {
    fn start(dir: &Path) -> Served {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
            .arg("serve")
            .env("RIGHTSDESK_DATA_DIR", dir)
            .env_remove("RIGHTSDESK_SOCKET")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let socket = dir.join("rightsdesk.sock");
        let end = Instant::now() + PATIENCE;
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < end, "the service never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        Served(child)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let _ = self.0.wait();
    }
}

#[test]
fn with_the_service_running_the_desk_works_through_it_and_sees_other_changes_live() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = open_by_email(d, "access", "Ana García", "ana@example.ie");
    let served = Served::start(d);
    // The store is the service's now: the desk starts anyway, through it.
    let mut term = Term::spawn(d, &[], &[]);
    term.wait_for(&id);
    // Listening to the service before anyone else changes anything.
    term.wait_for("[SHARED]");
    term.send("\r");
    term.wait_for("Timeline");

    // Another officer (here: the command line, also through the service).
    cli(d, &["case", "note", &id, "rang Ana about the scope"]);
    let pushed = Instant::now();
    term.wait_for("was changed by");
    println!(
        "the desk showed the change {:?} after the command returned",
        pushed.elapsed()
    );
    term.wait_for("rang Ana about the scope");

    // The desk's own change goes through the service and is durable there.
    term.send("a");
    term.wait_for("Note on");
    term.send("sent the acknowledgement\x13");
    term.wait_for("saved");
    let shown: serde_json::Value =
        serde_json::from_str(&cli(d, &["case", "show", &id, "--json"])).unwrap();
    let notes = shown["notes"].to_string();
    assert!(
        notes.contains("sent the acknowledgement") && notes.contains("rang Ana"),
        "{notes}"
    );

    // The service restarts (an upgrade, a crash): the desk says it lost it,
    // reconnects by itself, and hears changes again.
    drop(served);
    term.wait_for("not answering");
    let served = Served::start(d);
    term.wait_for("service is back");
    cli(d, &["case", "note", &id, "after the restart"]);
    term.wait_for("after the restart");

    term.send("q");
    term.send("q");
    assert!(term.wait_exit().success());
    drop(served);
    // With the service stopped the store opens directly again, chain intact.
    cli(d, &["audit", "verify"]);
}

#[test]
fn a_pasted_line_lands_in_the_field_and_the_shell_keys_edit_it() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let (id, mut term) =
        verified_case_on_screen(d, "access", "Siobhán Ní Bhriain", "sio@example.ie");
    term.send("a");
    term.wait_for("Note on");
    // A bracketed paste with line breaks inside and at its end: it lands
    // as one line and does not submit the form.
    term.send("\x1b[200~called the subject\r\nback\r\n\x1b[201~");
    term.wait_for("called the subject back");
    assert!(term.screen().contains("Note on"), "{}", term.screen());
    term.send("\x1b[H"); // Home
    term.send("We ");
    term.send("\x1b[F"); // End
    term.send(" todayy");
    term.send("\x7f"); // Backspace
    term.send(" and wrote");
    term.send("\x17"); // ctrl-w: cuts "wrote"
    term.send("\x17"); // and "and "
    term.send("\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D"); // ← ×6: before "today "
    term.send("\x0b"); // ctrl-k: cuts "today "
    term.send(".");
    term.wait_for("We called the subject back .");
    term.send("\x13"); // ctrl-s
    term.wait_for("Notes");
    term.send("q");
    term.send("q");
    assert!(term.wait_exit().success());
    let shown: serde_json::Value =
        serde_json::from_str(&cli(d, &["case", "show", &id, "--json"])).unwrap();
    assert_eq!(shown["notes"][0]["text"], "We called the subject back .");
    assert!(
        contains(&term.raw, b"\x1b[?2004h") && contains(&term.raw, b"\x1b[?2004l"),
        "bracketed paste was asked for, and given back on the way out"
    );
}

#[test]
fn colours_come_in_the_form_the_terminal_declares() {
    for (term_name, red, forbidden) in [
        (
            "linux",
            Some(&b"31m"[..]),
            &[&b"38;5;"[..], b"[59m", b";90m"][..],
        ),
        (
            "xterm-16color",
            Some(&b"31m"[..]),
            &[&b"38;5;"[..], b"[59m"][..],
        ),
        ("vt100", None, &[&b"31m"[..], b"38;5;", b"[59m"][..]),
    ] {
        let t = tempfile::tempdir().unwrap();
        let mut term = Term::spawn(t.path(), &["--demo"], &[("TERM", term_name)]);
        term.wait_for("OVERDUE");
        term.send("q");
        assert!(term.wait_exit().success());
        for bad in forbidden {
            assert!(
                !contains(&term.raw, bad),
                "TERM={term_name}: the desk wrote {:?}",
                String::from_utf8_lossy(bad)
            );
        }
        if let Some(red) = red {
            assert!(contains(&term.raw, red), "TERM={term_name}: OVERDUE in red");
        }
    }
}
