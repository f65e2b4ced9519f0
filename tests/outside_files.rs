//! What the desk writes outside its store touches only what is its own, and
//! carries outside text inert: planted symlinks are never followed, shared
//! folders keep their modes, a file at the socket path is left alone,
//! control characters never reach a file or JSON raw, and a closed pipe ends
//! a command quietly.

mod common;

use common::cli::{ok, run, succeeded};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// A name with every control a hostile web form might send.
const HOSTILE: &str = "Eve\u{1b}[2J\u{7}\u{8}\r\u{9b}31m\u{202e}gpj.exe";

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

fn raw_controls(bytes: &[u8]) -> Vec<char> {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| *c != '\n' && rightsdesk::domain::text::is_unsafe(*c))
        .collect()
}

/// A case with a hostile name, identity verified, closed as withdrawn.
fn closed_hostile_case(d: &Path) -> String {
    let id = common::cli::open_verified(d, &["access"], HOSTILE, "eve@example.ie");
    ok(
        d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "withdrawn",
            "--reason",
            "asked\u{1b}]0;x\u{7}",
        ],
    );
    id
}

fn victim(dir: &Path) -> std::path::PathBuf {
    let v = dir.join("victim.txt");
    std::fs::write(&v, "someone else's file\n").unwrap();
    std::fs::set_permissions(&v, std::fs::Permissions::from_mode(0o644)).unwrap();
    v
}

#[test]
fn symlinks_planted_at_temporary_names_are_never_written_through() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    let id = closed_hostile_case(&d);
    let v = victim(o);
    // Every temporary name an earlier desk used, for every output.
    for n in [
        "backup.partial",
        "backup.tmp",
        "log.tmp",
        "log.partial",
        &format!("{id}-access.tmp"),
        &format!("{id}-access.partial"),
    ] {
        std::os::unix::fs::symlink(&v, o.join(n)).unwrap();
    }
    let backup = o.join("backup.jsonl");
    ok(&d, &["backup", "--out", backup.to_str().unwrap()]);
    let log = o.join("log.csv");
    ok(
        &d,
        &[
            "closures",
            "export",
            "--with-subjects",
            "--out",
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(&v).unwrap(),
        "someone else's file\n",
        "the symlink's target was written"
    );
    assert_eq!(mode(&v), 0o644);
    for f in [&backup, &log] {
        assert_eq!(mode(f), 0o600, "{}", f.display());
        assert!(!std::fs::symlink_metadata(f)
            .unwrap()
            .file_type()
            .is_symlink());
    }
    // No temporary file of ours is left beside them.
    let stray: Vec<String> = std::fs::read_dir(o)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    // An output path that is itself a symlink is refused, not followed.
    let link = o.join("link.csv");
    std::os::unix::fs::symlink(&v, &link).unwrap();
    let r = run(&d, &["closures", "export", "--out", link.to_str().unwrap()]);
    assert!(!r.status.success());
    assert_eq!(
        std::fs::read_to_string(&v).unwrap(),
        "someone else's file\n"
    );
}

#[test]
fn a_shared_folder_keeps_its_mode_and_new_folders_are_private() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let shared = t.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let id = common::cli::open_verified(&d, &["access"], "Ann Lee", "ann@example.ie");
    let r = export_access(&d, &id, &shared);
    succeeded(&r);
    ok(
        &d,
        &[
            "closures",
            "export",
            "--out",
            shared.join("log.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(mode(&shared), 0o1777, "the shared folder lost its mode");
    assert_eq!(mode(&shared.join(format!("{id}-access.pdf"))), 0o600);
    assert_eq!(mode(&shared.join("log.csv")), 0o600);
    // A folder the desk has to make is made private.
    let fresh = shared.join("new/exports");
    ok(
        &d,
        &[
            "closures",
            "export",
            "--out",
            fresh.join("log.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&shared.join("new")), 0o700);
    assert_eq!(mode(&shared), 0o1777);
}

#[test]
fn a_data_directory_that_is_not_the_desks_is_refused_and_left_alone() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("someone");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("notes.txt"), "theirs").unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = run(&d, &["case", "list"]);
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("open to others"), "{err}");
    assert_eq!(mode(&d), 0o755);
    assert!(!d.join("store").exists() && !d.join("settings.toml").exists());
}

#[test]
fn serve_leaves_a_file_at_the_socket_path_alone() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let path = t.path().join("important.txt");
    std::fs::write(&path, "not a socket").unwrap();
    let r = Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(["serve", "--socket", path.to_str().unwrap()])
        .env("RIGHTSDESK_DATA_DIR", &d)
        .env_remove("RIGHTSDESK_SOCKET")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("is not a socket"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a socket");
}

#[test]
fn control_characters_never_reach_a_file_or_json_raw() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let id = closed_hostile_case(&d);
    let csv = t.path().join("log.csv");
    ok(
        &d,
        &[
            "closures",
            "export",
            "--with-subjects",
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(&csv).unwrap();
    assert_eq!(raw_controls(&bytes), Vec::<char>::new());
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains("Eve^[[2J^G^H^M<U+009B>31m<U+202E>gpj.exe"),
        "{text}"
    );
    let jsonl = t.path().join("log.jsonl");
    ok(
        &d,
        &[
            "closures",
            "export",
            "--with-subjects",
            "--format",
            "jsonl",
            "--out",
            jsonl.to_str().unwrap(),
        ],
    );
    for json in [
        std::fs::read(&jsonl).unwrap(),
        run(&d, &["case", "show", &id, "--json"]).stdout,
        run(&d, &["audit", "log", "--json"]).stdout,
        run(&d, &["case", "list", "--all", "--json"]).stdout,
    ] {
        assert_eq!(raw_controls(&json), Vec::<char>::new());
        // Escaped, and exact for a JSON reader.
        let s = String::from_utf8(json).unwrap();
        assert!(!s.contains('\u{202e}') && !s.contains('\u{9b}'));
    }
    let show: serde_json::Value =
        serde_json::from_slice(&run(&d, &["case", "show", &id, "--json"]).stdout).unwrap();
    assert_eq!(show["subject"]["name"], HOSTILE);
    // An import refusal names the file inert.
    let bad = t.path().join("bad\u{1b}[31m.csv");
    std::fs::write(&bad, "Record ID,Email\n1,a@b.ie,extra\n").unwrap();
    let r = run(&d, &["import", "web-forms", bad.to_str().unwrap()]);
    assert!(!r.status.success());
    assert_eq!(raw_controls(&r.stderr), Vec::<char>::new());
    assert!(String::from_utf8_lossy(&r.stderr).contains("bad^[[31m.csv"));
}

/// `export access ID --out DIR` with a password file written beside DIR.
fn export_access(d: &Path, id: &str, out: &Path) -> std::process::Output {
    let pw = out.with_extension("password");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    run(
        d,
        &[
            "export",
            "access",
            id,
            "--out",
            out.to_str().unwrap(),
            "--password-file",
            pw.to_str().unwrap(),
            "--unsearched-reason",
            "test: the sources are not the point here",
        ],
    )
}

/// A pipe's two ends (reader, writer).
fn closed_pipe() -> (std::fs::File, std::fs::File) {
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors into `fds`, which we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just made by pipe and are owned here only.
    unsafe {
        use std::os::fd::FromRawFd;
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

/// Runs a command whose reader has already gone: its first write meets a
/// closed pipe.
fn into_a_closed_pipe(d: &Path, args: &[&str]) -> std::process::Output {
    let (reader, writer) = closed_pipe();
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(args)
        .env("RIGHTSDESK_DATA_DIR", d)
        .env_remove("RIGHTSDESK_SOCKET")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    closed_hostile_case(&d);
    let fixture = format!(
        "{}/tests/fixtures/import/hubspot-contacts.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    ok(&d, &["import", "web-forms", &fixture]);
    for args in [
        &["audit", "log"][..],
        &["audit", "log", "--json"],
        &["lookup", "a", "--limit", "50"],
        &["case", "list", "--all", "--json"],
    ] {
        let r = into_a_closed_pipe(&d, args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.is_empty(), "{args:?}: {err}");
        assert_eq!(r.status.code(), Some(141), "{args:?}");
    }
}

/// The audit entries of one kind.
fn logged(d: &Path, kind: &str) -> usize {
    let log = run(d, &["audit", "log", "--json"]).stdout;
    String::from_utf8_lossy(&log)
        .lines()
        .filter(|l| l.contains(&format!("\"kind\":\"{kind}\"")))
        .count()
}

#[test]
fn an_export_that_cannot_be_written_is_neither_written_nor_logged() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let id =
        common::cli::open_verified(&d, &["access", "portability"], "Ann Lee", "ann@example.ie");
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let v = victim(t.path());
    std::os::unix::fs::symlink(&v, out.join(format!("{id}-portability.zip"))).unwrap();
    let r = export_access(&d, &id, &out);
    assert_eq!(r.status.code(), Some(1));
    assert!(
        !out.join(format!("{id}-access.pdf")).exists(),
        "the PDF left unlogged"
    );
    assert_eq!(logged(&d, "access-exported"), 0);
    // A closure log to a symlink, to /dev/null or into a missing folder's
    // file that cannot be made: refused before it is logged.
    let link = t.path().join("log.csv");
    std::os::unix::fs::symlink(&v, &link).unwrap();
    for target in [link.to_str().unwrap(), "/dev/null", "/proc/nowhere/log.csv"] {
        let r = run(&d, &["closures", "export", "--out", target]);
        assert_eq!(r.status.code(), Some(1), "{target}");
    }
    assert_eq!(logged(&d, "closures-exported"), 0);
    let r = run(&d, &["backup", "--out", "/proc/nowhere/b.jsonl"]);
    assert_eq!(r.status.code(), Some(1));
    assert_eq!(logged(&d, "backup"), 0);
    assert_eq!(
        std::fs::read_to_string(&v).unwrap(),
        "someone else's file\n"
    );
}

#[test]
fn a_closed_stderr_does_not_stop_the_work() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let fixture = format!(
        "{}/tests/fixtures/import/hubspot-contacts.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let (reader, writer) = closed_pipe();
    drop(reader);
    let r = Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(["import", "web-forms", &fixture])
        .env("RIGHTSDESK_DATA_DIR", &d)
        .env_remove("RIGHTSDESK_SOCKET")
        .stderr(Stdio::from(writer))
        .output()
        .unwrap();
    assert!(r.status.success(), "{:?}", r.status);
    assert_eq!(logged(&d, "imported"), 1);
}

#[test]
fn a_backup_file_carries_no_raw_controls() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    closed_hostile_case(&d);
    let b = t.path().join("b.jsonl");
    ok(&d, &["backup", "--out", b.to_str().unwrap()]);
    assert_eq!(
        raw_controls(&std::fs::read(&b).unwrap()),
        Vec::<char>::new()
    );
}

#[test]
fn an_output_named_among_the_desks_own_files_is_refused_and_they_stay_whole() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let id = closed_hostile_case(&d);
    let key = std::fs::read(d.join("audit.key")).unwrap();
    let settings = std::fs::read(d.join("settings.toml")).unwrap();
    for target in [
        d.join("audit.key"),
        d.join("settings.toml"),
        d.join("store").join("conf"),
        d.join("new-file-beside-the-key.pdf"),
        // Through a folder that does not exist yet, and back out of it.
        d.join("nope").join("..").join("audit.key"),
        d.join("letters").join("..").join("settings.toml"),
    ] {
        let t = target.to_str().unwrap();
        for args in [
            vec!["case", "letter", id.as_str(), "--pdf", t],
            vec!["backup", "--out", t],
            vec!["closures", "export", "--out", t],
        ] {
            let out = run(&d, &args);
            assert!(!out.status.success(), "{args:?} was written");
            let why = String::from_utf8_lossy(&out.stderr);
            assert!(
                why.contains("among the desk's own files"),
                "{args:?}: {why}"
            );
        }
    }
    assert_eq!(std::fs::read(d.join("audit.key")).unwrap(), key);
    assert_eq!(std::fs::read(d.join("settings.toml")).unwrap(), settings);
    assert!(!d.join("new-file-beside-the-key.pdf").exists());
    ok(&d, &["audit", "verify"]);
    // A folder of its own under the data directory is fine (the default
    // export folder is one).
    let pdf = d.join("letters").join("letter.pdf");
    ok(&d, &["case", "letter", &id, "--pdf", pdf.to_str().unwrap()]);
    assert!(pdf.is_file());
}

#[test]
fn another_users_file_in_an_open_folder_is_not_replaced() {
    use std::os::unix::fs::MetadataExt;
    // Only root can make a file that belongs to someone else.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to give a file to another user");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let id = closed_hostile_case(&d);
    let shared = t.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let theirs = victim(&shared);
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let out = run(
        &d,
        &["case", "letter", &id, "--pdf", theirs.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("belongs to another user"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&theirs).unwrap(),
        "someone else's file\n"
    );
    assert_eq!(std::fs::metadata(&theirs).unwrap().uid(), 65534);
}

#[test]
fn the_demo_corpus_is_written_as_every_output_is() {
    let t = common::cli::private_dir();
    let dir = t.path().join("data");
    // A symlink planted where the corpus goes: refused, its target kept.
    let theirs = t.path().join("theirs.csv");
    std::fs::write(&theirs, "keep").unwrap();
    let planted = t.path().join("corpus.csv");
    std::os::unix::fs::symlink(&theirs, &planted).unwrap();
    let out = common::cli::run(
        &dir,
        &[
            "demo",
            "generate",
            "--records",
            "10",
            "--out",
            planted.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "keep");
    // A plain path: written whole, 0600.
    let fresh = t.path().join("fresh.csv");
    common::cli::ok(
        &dir,
        &[
            "demo",
            "generate",
            "--records",
            "10",
            "--out",
            fresh.to_str().unwrap(),
        ],
    );
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read_to_string(&fresh).unwrap().lines().count(), 11);
}
