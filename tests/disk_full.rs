//! A full disk: a change is one clear error (no hang), nothing acknowledged
//! is lost, the store opens normally once space is back, and the service
//! stops on SIGTERM. Needs a small tmpfs, which only a privileged user can
//! mount; elsewhere the test says so and skips.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A 24 MiB tmpfs, unmounted when dropped.
struct Tmpfs {
    _t: tempfile::TempDir,
    at: PathBuf,
}

impl Tmpfs {
    fn mount() -> Option<Tmpfs> {
        let t = tempfile::tempdir().ok()?;
        let at = t.path().join("small");
        std::fs::create_dir(&at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs"])
            .arg(&at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs { _t: t, at })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.at).status();
    }
}

/// Fills the disk holding `dir` to the last byte.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 << 10];
    while f.write_all(&block).is_ok() {}
    let small = [0u8; 512];
    while f.write_all(&small).is_ok() {}
    let _ = f.sync_all();
    filler
}

/// Runs the binary; a command still running after `bound` counts as hung.
fn run_bounded(dir: &Path, args: &[&str], bound: Duration) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(args)
        .env("RIGHTSDESK_DATA_DIR", dir)
        .env_remove("RIGHTSDESK_SOCKET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(bound) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            panic!("{args:?} hung on a full disk (still running after {bound:?})");
        }
    }
}

#[test]
fn a_full_disk_is_one_clear_error_and_nothing_acknowledged_is_lost() {
    let Some(fs) = Tmpfs::mount() else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)");
        return;
    };
    let dir = fs.at.join("data");
    let bound = Duration::from_secs(60);
    let id = common::cli::open_case(&dir, "Ann Lee");
    // Notes until the case is past 128 KiB, where sled keeps it as a blob
    // (where the disk filling up once hung the desk).
    let mut acked = Vec::new();
    for i in 0..48 {
        let note = format!("note {i} {}", "x".repeat(2900));
        let out = run_bounded(&dir, &["case", "note", &id, &note], bound);
        assert!(out.status.success());
        acked.push(format!("note {i} "));
    }
    let filler = fill(&fs.at);
    for text in ["y".repeat(3000), "small".to_string()] {
        let out = run_bounded(&dir, &["case", "note", &id, &text], bound);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("full") && err.contains("nothing was changed"),
            "{err}"
        );
    }
    // An export to a full disk elsewhere is not logged as done.
    std::fs::remove_file(&filler).unwrap();
    if let Some(out_fs) = Tmpfs::mount() {
        let _other = fill(&out_fs.at);
        let entries = || {
            common::cli::ok(&dir, &["audit", "log", "--json"])
                .lines()
                .count()
        };
        let before = entries();
        let target = out_fs.at.join("out.file");
        for cmd in ["closures", "backup"] {
            let mut args = if cmd == "closures" {
                vec!["closures", "export"]
            } else {
                vec!["backup"]
            };
            args.extend(["--out", target.to_str().unwrap()]);
            let r = run_bounded(&dir, &args, bound);
            assert_eq!(r.status.code(), Some(1), "{args:?}");
        }
        assert_eq!(
            entries(),
            before,
            "an export that was not written was logged"
        );
    }
    let filler = fill(&fs.at);
    // Reading while full does not damage anything.
    let _ = run_bounded(&dir, &["case", "show", &id], bound);
    let _ = run_bounded(&dir, &["audit", "verify"], bound);
    // Space comes back: the store opens normally, every note is there.
    std::fs::remove_file(&filler).unwrap();
    let show = common::cli::json(&dir, &["case", "show", &id, "--json"]);
    let notes = show["notes"].to_string();
    for n in &acked {
        assert!(notes.contains(n), "{n} was lost");
    }
    common::cli::ok(&dir, &["case", "note", &id, "after"]);
    let verify = common::cli::ok(&dir, &["audit", "verify"]);
    assert!(verify.contains("intact"), "{verify}");
}

#[test]
fn the_service_on_a_full_disk_refuses_changes_and_stops_on_sigterm() {
    let Some(fs) = Tmpfs::mount() else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)");
        return;
    };
    let dir = fs.at.join("data");
    let socket = fs.at.join("svc.sock");
    let id = common::cli::open_case(&dir, "Ann Lee");
    let mut server = common::cli::serve(&dir, &socket, |_| {});
    let _filler = fill(&fs.at);
    let out = Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(["case", "note", &id, &"y".repeat(3000)])
        .env("RIGHTSDESK_DATA_DIR", &dir)
        .env("RIGHTSDESK_SOCKET", &socket)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("full"));
    let asked = Instant::now();
    unsafe {
        libc::kill(server.0.id() as libc::pid_t, libc::SIGTERM);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(server.0.wait());
    });
    let status = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the service hung after SIGTERM on a full disk")
        .unwrap();
    eprintln!(
        "serve stopped {:?} after SIGTERM on a full disk",
        asked.elapsed()
    );
    assert!(status.success());
    assert!(!socket.exists(), "the socket is removed");
}
