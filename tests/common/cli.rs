//! The real binary run as a command on a data directory, as a shell would.

use std::path::Path;
use std::process::{Command, Output};

pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(args)
        .env("RIGHTSDESK_DATA_DIR", dir)
        .env_remove("RIGHTSDESK_SOCKET")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run rightsdesk")
}

/// A command that must have worked; its stderr says why not.
pub fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command that must work; its standard output.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(dir, args)).expect("valid JSON")
}

/// Every file under `dir` holding `needle` (ASCII letters in any case):
/// what is left on disk after erasure, purge or rebuild. Record blocks in
/// a file are searched decompressed too: LZ4 may keep an address only as
/// references to earlier bytes, which a plain search never sees.
pub fn files_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if rightsdesk::store::laid_bare(&std::fs::read(&p).unwrap_or_default())
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
            {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

/// Opens an access case for `name` by e-mail; its id.
pub fn open_case(dir: &Path, name: &str) -> String {
    ok(
        dir,
        &[
            "case",
            "open",
            "--right",
            "access",
            "--name",
            name,
            "--channel",
            "email",
        ],
    )
    .trim()
    .to_string()
}

/// Copies a directory tree (a store set aside, as someone might).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let kind = e.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else if kind.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A child process killed if the test fails before it stops it.
pub struct Stopped(pub std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `rightsdesk serve` on `socket` for the store in `dir`, once it answers
/// (a generous bound on the wait, not a sleep standing in for it).
pub fn serve(dir: &Path, socket: &Path, configure: impl FnOnce(&mut Command)) -> Stopped {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rightsdesk"));
    cmd.args(["serve", "--socket", socket.to_str().unwrap()])
        .env("RIGHTSDESK_DATA_DIR", dir)
        .env_remove("RIGHTSDESK_SOCKET")
        .stderr(std::process::Stdio::null());
    configure(&mut cmd);
    let server = Stopped(cmd.spawn().unwrap());
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(
            std::time::Instant::now() < until,
            "the service did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    server
}

/// Opens a case for `rights` (by e-mail, with `email`) and verifies the
/// person's identity from known details; its id.
pub fn open_verified(dir: &Path, rights: &[&str], name: &str, email: &str) -> String {
    let mut args = vec!["case", "open"];
    for r in rights {
        args.extend(["--right", r]);
    }
    args.extend(["--name", name, "--email", email, "--channel", "email"]);
    let id = ok(dir, &args).trim().to_string();
    ok(dir, &["case", "verify", &id, "--method", "known-details"]);
    id
}

/// The arguments of `export access ID --out OUT --password-file PW`, then
/// `extra` (a reason, --json).
pub fn export_access_args<'a>(
    id: &'a str,
    out: &'a Path,
    password_file: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "export",
        "access",
        id,
        "--out",
        out.to_str().unwrap(),
        "--password-file",
        password_file.to_str().unwrap(),
    ];
    args.extend(extra);
    args
}

/// Records every pending task of a case with the status and note `choose`
/// gives for its source and action.
pub fn work_every_task(
    dir: &Path,
    id: &str,
    choose: &dyn Fn(&str, &str) -> (&'static str, String),
) {
    let c = json(dir, &["case", "show", id, "--json"]);
    for t in c["tasks"].as_array().unwrap() {
        if t["status"] != "pending" {
            continue;
        }
        let (source, action) = (t["source"].as_str().unwrap(), t["action"].as_str().unwrap());
        let (status, note) = choose(source, action);
        ok(
            dir,
            &[
                "case", "task", id, source, "--action", action, "--status", status, "--note", &note,
            ],
        );
    }
}

/// The `key`s of the rows a check (`suppression check`, `backups check`,
/// with `--json`) flags; its exit status must say the same (6 when any).
pub fn flagged_keys(dir: &Path, args: &[&str]) -> Vec<String> {
    let out = run(dir, args);
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let keys: Vec<String> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        out.status.code(),
        Some(if keys.is_empty() { 0 } else { 6 }),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    keys
}

/// A temporary folder only its owner may enter (0700), as a data directory
/// must be.
pub fn private_dir() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        t.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    t
}
