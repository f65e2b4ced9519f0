//! The team service as its administrators and staff use it, from the shell:
//! the audit, the backup and the purge work while the service runs and
//! officers write; who may do what comes from the service's settings and
//! the kernel's word for who is on the other end.

mod common;

use common::cli::{succeeded, Stopped};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// The binary and a socket folder in a place other users can reach (a
/// clone under a private folder is closed to them), with the service on it.
struct Team {
    _t: tempfile::TempDir,
    bin: PathBuf,
    data: PathBuf,
    socket: PathBuf,
    server: Option<Stopped>,
}

impl Team {
    fn start(settings_admins: &str) -> Team {
        let t = tempfile::Builder::new()
            .prefix("rightsdesk-team-test-")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = t.path().join("rightsdesk");
        std::fs::copy(env!("CARGO_BIN_EXE_rightsdesk"), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = t.path().join("data");
        // The settings file the desk writes on first run, with `admins` set.
        std::fs::create_dir_all(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
        let settings = rightsdesk::domain::settings::Settings::default_file()
            .replace("admins = []", &format!("admins = [{settings_admins}]"));
        std::fs::write(data.join("settings.toml"), settings).unwrap();
        let run = t.path().join("run");
        std::fs::create_dir(&run).unwrap();
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
        let socket = run.join("rightsdesk.sock");
        let server = common::cli::serve(&data, &socket, |_| {});
        // The staff's group is everyone here: the test's own socket.
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
        Team {
            _t: t,
            bin,
            data,
            socket,
            server: Some(server),
        }
    }

    /// The shell as user `uid` (this process's own when `None`).
    fn shell(&self, uid: Option<u32>, args: &[&str]) -> std::process::Output {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env("RIGHTSDESK_SOCKET", &self.socket)
            .env("RIGHTSDESK_DATA_DIR", "/nonexistent/rightsdesk");
        if let Some(uid) = uid {
            c.uid(uid).gid(uid);
        }
        c.output().unwrap()
    }

    fn admin(&self, args: &[&str]) -> String {
        let out = self.shell(None, args);
        succeeded(&out);
        String::from_utf8(out.stdout).unwrap()
    }

    fn stop(&mut self) {
        if let Some(mut s) = self.server.take() {
            unsafe {
                libc::kill(s.0.id() as libc::pid_t, libc::SIGTERM);
            }
            assert!(s.0.wait().unwrap().success());
        }
    }
}

/// Users that exist on every Debian-like system, to write as (root can
/// become them); each is named in the audit by the kernel's word.
fn writers() -> Vec<Option<u32>> {
    if !is_root() {
        eprintln!("not root: the ten writers are all this user");
        return vec![None; 10];
    }
    [1u32, 2, 3, 8, 9, 10, 13, 33, 34, 65534]
        .into_iter()
        .filter(|uid| !rightsdesk::service::actor::user_name(*uid).starts_with("uid:"))
        .map(Some)
        .collect()
}

fn name_of(uid: Option<u32>) -> String {
    rightsdesk::service::actor::user_name(uid.unwrap_or_else(|| unsafe { libc::geteuid() }))
}

#[test]
fn with_ten_officers_writing_the_audit_verifies_and_an_online_backup_restores_whole() {
    let mut team = Team::start("");
    let stop = Arc::new(AtomicBool::new(false));
    // Every change the service acknowledged: case -> (writer, last version).
    let acked: Arc<Mutex<BTreeMap<String, (String, u64)>>> = Default::default();
    let shell = Arc::new((team.bin.clone(), team.socket.clone()));
    let threads: Vec<_> = writers()
        .into_iter()
        .enumerate()
        .map(|(i, uid)| {
            let (stop, acked, shell) = (stop.clone(), acked.clone(), shell.clone());
            std::thread::spawn(move || {
                let run = |args: &[&str]| {
                    let mut c = Command::new(&shell.0);
                    c.args(args)
                        .env("RIGHTSDESK_SOCKET", &shell.1)
                        .env("RIGHTSDESK_DATA_DIR", "/nonexistent/rightsdesk");
                    if let Some(uid) = uid {
                        c.uid(uid).gid(uid);
                    }
                    let out = c.output().unwrap();
                    succeeded(&out);
                    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
                };
                let me = name_of(uid);
                let name = format!("Writer Number{i}");
                let case = run(&[
                    "case",
                    "open",
                    "--right",
                    "access",
                    "--name",
                    &name,
                    "--channel",
                    "email",
                    "--json",
                ]);
                let id = case["id"].as_str().unwrap().to_string();
                acked
                    .lock()
                    .unwrap()
                    .insert(id.clone(), (me.clone(), case["version"].as_u64().unwrap()));
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) || n < 3 {
                    let c = run(&["case", "note", &id, &format!("note {n}"), "--json"]);
                    acked
                        .lock()
                        .unwrap()
                        .insert(id.clone(), (me.clone(), c["version"].as_u64().unwrap()));
                    n += 1;
                }
            })
        })
        .collect();
    let writers = threads.len();
    // Once every writer has a case, back up while they go on writing.
    let until = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < writers {
        assert!(Instant::now() < until, "the writers did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before_backup = acked.lock().unwrap().clone();
    let backup = team.data.parent().unwrap().join("online-backup.jsonl");
    let out = team.shell(None, &["backup", "--out", backup.to_str().unwrap()]);
    succeeded(&out);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let after = acked.lock().unwrap().clone();

    // The chain verifies, and names each writer as the kernel did.
    assert!(team.admin(&["audit", "verify"]).contains("intact"));
    let log = team.admin(&["audit", "log", "--json"]);
    let mut by_case: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in log.lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(case) = e["case"].as_str() {
            by_case
                .entry(case.to_string())
                .or_default()
                .push(e["actor"].as_str().unwrap().to_string());
        }
    }
    eprintln!(
        "{} cases by {:?}",
        after.len(),
        after
            .values()
            .map(|(w, v)| format!("{w}@v{v}"))
            .collect::<Vec<_>>()
    );
    for (case, (writer, _)) in &after {
        let actors = &by_case[case];
        assert!(actors.iter().all(|a| a == writer), "{case}: {actors:?}");
    }

    // Restored elsewhere, the backup holds every change acknowledged before
    // it was asked for, and its chain verifies with the team's chain key.
    team.stop();
    let elsewhere = tempfile::tempdir().unwrap();
    let restored = elsewhere.path().join("restored");
    let key = team.data.join("audit.key");
    let out = Command::new(&team.bin)
        .args([
            "restore",
            backup.to_str().unwrap(),
            "--chain-key",
            key.to_str().unwrap(),
        ])
        .env("RIGHTSDESK_DATA_DIR", &restored)
        .env_remove("RIGHTSDESK_SOCKET")
        .output()
        .unwrap();
    succeeded(&out);
    let desk = common::desk(&restored);
    for (case, (_, version)) in &before_backup {
        let c = desk.case(case.parse().unwrap()).unwrap().case;
        assert!(c.version >= *version, "{case}: {} < {version}", c.version);
    }
    assert!(desk.verify_audit().is_ok());
}

#[test]
fn staff_verify_the_audit_but_only_administrators_purge() {
    if !is_root() {
        eprintln!("skipped: another user is needed to be refused, and only root can become one (the rule itself is tested in src/remote/team.rs)");
        return;
    }
    let mut team = Team::start("\"group:privacy-admins\"");
    let nobody = Some(65534);
    let verify = team.shell(nobody, &["audit", "verify"]);
    succeeded(&verify);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("intact"));
    // A dry run lists; applying it is the administrators'.
    succeeded(&team.shell(nobody, &["purge"]));
    for args in [
        &["purge", "--apply"][..],
        &["backup", "--out", "/tmp/never-written"],
    ] {
        let out = team.shell(nobody, args);
        assert_eq!(out.status.code(), Some(8), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("group:privacy-admins") && err.contains("nobody"),
            "{err}"
        );
    }
    assert!(!Path::new("/tmp/never-written").exists());
    // The service's own user is one.
    assert!(team.admin(&["purge", "--apply"]).contains("reduced"));
    team.stop();
}

#[test]
fn a_rebuild_through_the_service_pauses_officers_and_loses_nothing() {
    use rightsdesk::domain::Step;
    let svc = common::service::Service::start();
    let officer = svc.client();
    let mut feed = svc.client().subscribe().unwrap().expect("a feed");
    feed.set_timeout(Some(Duration::from_secs(30)));
    let case = officer
        .open_case(common::new_case(
            "Rebuilt Person",
            "rebuilt@example.ie",
            vec![rightsdesk::domain::Right::Access],
        ))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let last = Arc::new(Mutex::new(case.version));
    let writer = {
        let (stop, last, officer) = (stop.clone(), last.clone(), svc.client());
        std::thread::spawn(move || {
            let mut n = 0;
            // Every note is acknowledged, rebuild or not: none fails.
            while !stop.load(Ordering::Relaxed) || n < 5 {
                let c = officer
                    .take_step(
                        case.id,
                        Step::Note {
                            text: format!("during maintenance {n}"),
                        },
                        None,
                        None,
                    )
                    .expect("a change while the store is rebuilt waits, then lands");
                *last.lock().unwrap() = c.version;
                n += 1;
            }
            n
        })
    };
    let admin = svc.client();
    let report = admin.rebuild().unwrap();
    assert!(report.records > 0);
    stop.store(true, Ordering::Relaxed);
    let notes = writer.join().unwrap();
    // Desks heard of it: the store closing, then open again.
    let mut heard = Vec::new();
    for _ in 0..(notes + 4) {
        if let rightsdesk::remote::backend::Change::Maintenance { what, done, .. } =
            feed.next_change().unwrap()
        {
            heard.push((what, done));
            if done {
                break;
            }
        }
    }
    assert_eq!(
        heard,
        [
            ("rebuild".to_string(), false),
            ("rebuild".to_string(), true)
        ],
        "desks are told of the maintenance and its end"
    );
    // Every acknowledged change is in the rebuilt store, and the chain holds.
    let now = admin.load_case(case.id).unwrap();
    assert_eq!(now.version, *last.lock().unwrap());
    assert!(matches!(
        admin.verify_audit(None).unwrap(),
        rightsdesk::service::ops::AuditCheck::Intact { .. }
    ));
    eprintln!("{notes} notes written while the store was rebuilt: {report:?}");
}
