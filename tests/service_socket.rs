//! The shared service on a temporary socket: two clients, conflicting edits,
//! live updates, the actor from the kernel, and a service that survives bad
//! frames, vanishing clients and twenty desks at once.

mod common;

use rightsdesk::domain::closure::Closing;
use rightsdesk::domain::{NewCase, Outcome, Right, Step, VerificationMethod, VerificationOutcome};
use rightsdesk::remote::backend::Backend;
use rightsdesk::remote::client::Client;
use rightsdesk::remote::{ErrorKind, Request, Response};
use rightsdesk::service::ops::{AuditCheck, Call};
use rightsdesk::service::DeskError;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::cli::{succeeded, Stopped};
use common::service::Service;

fn new_case(name: &str) -> NewCase {
    let email = format!("{}@example.ie", name.to_lowercase().replace(' ', "."));
    common::new_case(name, &email, vec![Right::Access])
}

/// (entries, cases) of an intact chain.
fn verified(c: &Backend) -> (u64, u64) {
    match c.verify_audit(None).unwrap() {
        AuditCheck::Intact { entries, cases, .. } => (entries, cases),
        broken => panic!("{broken:?}"),
    }
}

/// The service's pushes on a raw subscription.
fn subscription(svc: &Service) -> rightsdesk::remote::client::Subscription {
    svc.raw().subscribe().unwrap()
}

fn verify() -> Step {
    Step::Verify {
        method: VerificationMethod::KnownDetails,
        outcome: VerificationOutcome::Verified,
        note: String::new(),
    }
}

#[test]
fn two_officers_conflict_see_live_updates_and_are_named_by_the_kernel() {
    let svc = Service::start();
    let alice = svc.client();
    let bob = svc.client();
    let me = rightsdesk::remote::server::user_name(unsafe { libc::geteuid() });
    assert_eq!(alice.actor(), me, "the actor comes from SO_PEERCRED");

    let mut feed = subscription(&svc);
    // A generous bound: a missing push fails the test instead of hanging it.
    feed.set_timeout(Some(Duration::from_secs(30)));

    let case = alice.open_case(new_case("Ana Shared")).unwrap();
    // Both screens show version 1.
    let seen = case.version;
    let opened_at = Instant::now();
    let Response::Changed { id, version, .. } = feed.next_change().unwrap() else {
        panic!()
    };
    assert_eq!((id, version), (case.id, seen));
    eprintln!("push arrived {:?} after the open", opened_at.elapsed());

    // Alice verifies from version 1; Bob, still on version 1, tries too.
    let after = alice
        .take_step(case.id, verify(), None, Some(seen))
        .unwrap();
    let Response::Changed { version, by, .. } = feed.next_change().unwrap() else {
        panic!()
    };
    assert_eq!((version, by.as_str()), (after.version, me.as_str()));
    let e = bob
        .take_step(
            case.id,
            Step::Note {
                text: "called back".into(),
            },
            None,
            Some(seen),
        )
        .unwrap_err();
    let DeskError::Remote { kind, message } = e else {
        panic!("{e}")
    };
    assert_eq!(kind, ErrorKind::Conflict);
    assert!(message.contains("changed by someone else"), "{message}");
    // Reloaded, Bob's note goes in.
    let fresh = bob.load_case(case.id).unwrap();
    bob.take_step(
        case.id,
        Step::Note {
            text: "called back".into(),
        },
        None,
        Some(fresh.version),
    )
    .unwrap();
    // A refusal by the rules travels as such.
    let e = bob.take_step(case.id, verify(), None, None).unwrap_err();
    assert!(
        matches!(
            e,
            DeskError::Remote {
                kind: ErrorKind::Refused,
                ..
            }
        ),
        "{e}"
    );

    assert_eq!(
        verified(&alice),
        (3, 1),
        "one linear chain: opened, verified, noted"
    );
}

#[test]
fn bad_frames_wrong_versions_and_vanishing_clients_leave_the_service_standing() {
    let svc = Service::start();
    // Wrong protocol version: told, and closed.
    let mut s = UnixStream::connect(&svc.socket).unwrap();
    rightsdesk::remote::write_frame(&mut s, &Request::Hello { protocol: 99 }).unwrap();
    let r: Response = rightsdesk::remote::read_frame(&mut s).unwrap();
    assert!(
        matches!(r, Response::Error { kind: ErrorKind::Protocol, ref message } if message.contains(&format!("protocol {}", rightsdesk::remote::PROTOCOL))),
        "{r:?}"
    );
    // Malformed JSON after a good hello: an error, and the connection still works.
    let mut c = greeted(&svc.socket);
    c.write_all(&5u32.to_be_bytes()).unwrap();
    c.write_all(b"{oops").unwrap();
    let r: Response = rightsdesk::remote::read_frame(&mut c).unwrap();
    assert!(matches!(
        r,
        Response::Error {
            kind: ErrorKind::Protocol,
            ..
        }
    ));
    rightsdesk::remote::write_frame(
        &mut c,
        &Request::Call {
            call: Call::cases_page { after: None },
        },
    )
    .unwrap();
    let r: Response = rightsdesk::remote::read_frame(&mut c).unwrap();
    assert!(matches!(r, Response::Answer { .. }));
    // An operation that does not exist, or a field it does not take: told.
    let bad = br#"{"request":"call","call":{"op":"drop_tables"}}"#;
    c.write_all(&(bad.len() as u32).to_be_bytes()).unwrap();
    c.write_all(bad).unwrap();
    let r: Response = rightsdesk::remote::read_frame(&mut c).unwrap();
    assert!(
        matches!(
            r,
            Response::Error {
                kind: ErrorKind::Protocol,
                ..
            }
        ),
        "{r:?}"
    );
    // An oversized frame: refused before it is read, connection closed.
    c.write_all(&(u32::MAX >> 1).to_be_bytes()).unwrap();
    let r: Response = rightsdesk::remote::read_frame(&mut c).unwrap();
    assert!(
        matches!(r, Response::Error { ref message, .. } if message.contains("refused")),
        "{r:?}"
    );
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    // A client that sends half a frame and vanishes.
    let mut h = greeted(&svc.socket);
    h.write_all(&100u32.to_be_bytes()).unwrap();
    h.write_all(b"{\"request\":\"open\"").unwrap();
    drop(h);
    // A client that asks for a change and leaves before the answer: the change
    // is whole (case and audit entry), nothing is half done. The service's
    // push of that change is the event to wait for.
    let mut feed = subscription(&svc);
    feed.set_timeout(Some(Duration::from_secs(30)));
    let mut g = greeted(&svc.socket);
    rightsdesk::remote::write_frame(
        &mut g,
        &Request::Call {
            call: Call::open_case {
                new: new_case("Gone Early"),
            },
        },
    )
    .unwrap();
    drop(g);
    let Response::Changed { .. } = feed.next_change().expect("the change was pushed") else {
        panic!()
    };
    let ok = svc.client();
    let cases = ok.cases_page(None).unwrap().cases;
    assert_eq!(
        cases.len(),
        1,
        "the request was whole, so the case is there"
    );
    let (entries, n) = verified(&ok);
    assert_eq!(entries as usize, cases.len());
    assert_eq!(n as usize, cases.len());
}

#[test]
fn twenty_desks_at_once_keep_one_linear_chain() {
    // Behaviour only: the figures (step latency, push lag) are in
    // `cargo bench --bench service`.
    let svc = Service::start();
    let socket = svc.socket.clone();
    let per_client = 15;
    let changes = 20 * (per_client + 2);
    // Twenty desks listening: each must hear of every change, in order per case.
    let listeners: Vec<_> = (0..20)
        .map(|_| {
            let mut sub = subscription(&svc);
            sub.set_timeout(Some(Duration::from_secs(60)));
            std::thread::spawn(move || {
                let mut heard: HashMap<String, Vec<u64>> = HashMap::new();
                for _ in 0..changes {
                    let Ok(Response::Changed { id, version, .. }) = sub.next_change() else {
                        break;
                    };
                    heard.entry(id.to_string()).or_default().push(version);
                }
                heard
            })
        })
        .collect();
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let socket = socket.clone();
            let home = svc.dir.path().join("home");
            std::thread::spawn(move || {
                let c: Backend = rightsdesk::remote::backend::Link::connect(&socket, &home)
                    .unwrap()
                    .into();
                let case = c.open_case(new_case(&format!("Load {i}"))).unwrap();
                let mut version = case.version;
                for n in 0..per_client {
                    version = c
                        .take_step(
                            case.id,
                            Step::Note {
                                text: format!("note {n}"),
                            },
                            None,
                            Some(version),
                        )
                        .unwrap()
                        .version;
                }
                c.take_step(
                    case.id,
                    Step::Close(Closing::new(Outcome::Withdrawn, "load test")),
                    None,
                    Some(version),
                )
                .unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for l in listeners {
        let heard = l.join().unwrap();
        assert_eq!(
            heard.values().map(Vec::len).sum::<usize>(),
            changes,
            "every desk hears of every change"
        );
        for versions in heard.values() {
            assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
        }
    }
    let (entries, cases) = verified(&svc.client());
    assert_eq!((entries as usize, cases), (changes, 20));
}

/// `rightsdesk serve` as a real process; `case` commands go through it.
#[test]
fn the_shell_goes_through_a_running_service_and_others_are_kept_out() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    // Another user (uid 65534) runs the binary and reaches the socket below:
    // both sit in a folder this test makes in /tmp and opens to others,
    // wherever the clone and its target directory are (a clone under root's
    // home, or in a `mktemp -d`, is 0700 and closed to that user).
    let t = tempfile::Builder::new()
        .prefix("rightsdesk-socket-test-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin_path = t.path().join("rightsdesk");
    std::fs::copy(env!("CARGO_BIN_EXE_rightsdesk"), &bin_path).unwrap();
    std::fs::set_permissions(&bin_path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = bin_path.as_path();
    let data = t.path().join("data");
    let run_dir = t.path().join("run");
    std::fs::create_dir(&run_dir).unwrap();
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let socket = run_dir.join("rightsdesk.sock");
    let cmd = |args: &[&str]| {
        let mut c = std::process::Command::new(bin);
        c.args(args)
            .env("RIGHTSDESK_DATA_DIR", &data)
            .env("RIGHTSDESK_SOCKET", &socket);
        c
    };
    let mut server = Stopped(cmd(&["serve"]).spawn().unwrap());
    let server = &mut server.0;
    // Until the socket answers, for up to a minute (a slow machine).
    for _ in 0..6000 {
        if UnixStream::connect(&socket).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660, "owner and staff group only");

    let out = cmd(&[
        "case",
        "open",
        "--right",
        "access",
        "--name",
        "Via Service",
        "--channel",
        "email",
    ])
    .output()
    .unwrap();
    succeeded(&out);
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let out = cmd(&["case", "verify", &id, "--method", "call-back", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state"], "in-progress");
    assert_eq!(
        v["verification"]["by"],
        rightsdesk::remote::server::user_name(unsafe { libc::geteuid() })
    );
    // The access package: the service reads the records, the caller encrypts
    // and writes the files where it runs.
    let pass = data.join("pass.txt");
    std::fs::write(&pass, "a long enough pass\n").unwrap();
    let out_dir = data.join("out");
    let out = cmd(&[
        "export",
        "access",
        &id,
        "--out",
        out_dir.to_str().unwrap(),
        "--password-file",
        pass.to_str().unwrap(),
        "--unsearched-reason",
        "test: the sources are not the point here",
    ])
    .output()
    .unwrap();
    succeeded(&out);
    assert!(out_dir.join(format!("{id}-access.pdf")).exists());
    // Closing through the service, with the domain's gap rule intact.
    let out = cmd(&[
        "case",
        "close",
        &id,
        "--outcome",
        "withdrawn",
        "--reason",
        "asked to stop",
    ])
    .output()
    .unwrap();
    succeeded(&out);
    let out = cmd(&[
        "case",
        "close",
        &id,
        "--outcome",
        "withdrawn",
        "--reason",
        "again",
    ])
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "refused by the rules, through the service"
    );
    // The queue's filters work the same through the service.
    let out = cmd(&[
        "case",
        "open",
        "--right",
        "erasure",
        "--name",
        "Still Open",
        "--channel",
        "email",
    ])
    .output()
    .unwrap();
    succeeded(&out);
    let open_id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let ids = |args: &[&str]| -> Vec<String> {
        let out = cmd(args).output().unwrap();
        succeeded(&out);
        let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        v.iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&["case", "list", "--json"]), [open_id.as_str()]);
    assert_eq!(
        ids(&["case", "list", "--state", "closed", "--json"]),
        [id.as_str()]
    );
    assert_eq!(ids(&["case", "list", "--all", "--json"]).len(), 2);
    // An import is read by the caller and written by the service.
    let fixture = format!(
        "{}/tests/fixtures/import/hubspot-contacts.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = cmd(&["import", "web-forms", &fixture, "--json"])
        .output()
        .unwrap();
    succeeded(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["new"].as_u64().unwrap() > 0, "{report}");
    // The lookup reads the service's records (paged through the socket).
    let out = cmd(&["lookup", "muller"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Müller"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The audit goes through the service too, naming who did each step.
    let out = cmd(&["audit", "log", "--json"]).output().unwrap();
    succeeded(&out);
    let me = rightsdesk::remote::server::user_name(unsafe { libc::geteuid() });
    let lines = String::from_utf8(out.stdout).unwrap();
    assert!(lines.lines().count() > 3, "{lines}");
    for l in lines.lines() {
        let e: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(e["actor"], me.as_str(), "{l}");
    }

    // Someone outside the group: the socket (0660, root's group) refuses them.
    if unsafe { libc::geteuid() } == 0 {
        let out = cmd(&["case", "list"])
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "nobody got in: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        // Refused by the socket, and told so: not a missing binary.
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot reach the team service"), "{err}");
        // Given the socket's group, they get in, and are named by the kernel.
        std::os::unix::fs::chown(&socket, None, Some(65534)).unwrap();
        let c = UnixStream::connect(&socket);
        assert!(c.is_ok());
        let probe = std::process::Command::new(bin)
            .args(["case", "list", "--json"])
            .env("RIGHTSDESK_DATA_DIR", "/nonexistent")
            .env("RIGHTSDESK_SOCKET", &socket)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        assert!(
            probe.status.success(),
            "{}",
            String::from_utf8_lossy(&probe.stderr)
        );
    }

    // SIGTERM: the service stops and removes its socket.
    unsafe {
        libc::kill(server.id() as libc::pid_t, libc::SIGTERM);
    }
    assert!(server.wait().unwrap().success());
    assert!(!socket.exists());
    // The team socket is still configured: no command quietly falls back to
    // a private store (a new case there would reuse a team case's number).
    for args in [
        &[
            "case",
            "open",
            "--right",
            "access",
            "--name",
            "Ann Lee",
            "--channel",
            "email",
        ][..],
        &["case", "list"],
        &["audit", "verify"],
    ] {
        let out = cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cannot reach the team service") && err.contains("rightsdesk.sock"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    // The service's own user, without the team socket, opens the store directly.
    let out = cmd(&["audit", "verify"])
        .env_remove("RIGHTSDESK_SOCKET")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));
    let out = cmd(&["case", "list", "--all", "--json"])
        .env_remove("RIGHTSDESK_SOCKET")
        .output()
        .unwrap();
    let cases: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        cases.len(),
        2,
        "no case was opened while the service was down"
    );
}

#[test]
fn an_import_whose_client_vanishes_part_way_leaves_nothing() {
    let mut svc = Service::start();
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/import/hubspot-contacts.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (format, records) =
        rightsdesk::import::parse("hubspot-contacts.csv", &bytes, "web-forms", None, None).unwrap();
    assert!(!records.is_empty());
    let _ = format;
    // An import's first batch goes in; its second request is cut off
    // half-way, and its commit never comes.
    {
        let c = svc.client();
        let id = c.import_begin("web-forms".into()).unwrap();
        c.import_batch(id.clone(), "web-forms".into(), records[..1].to_vec())
            .unwrap();
        let call = Request::Call {
            call: Call::import_batch {
                id,
                source: "web-forms".into(),
                records: records[1..].to_vec(),
            },
        };
        let mut whole = Vec::new();
        rightsdesk::remote::write_frame(&mut whole, &call).unwrap();
        let mut g = greeted(&svc.socket);
        g.write_all(&whole[..whole.len() / 2]).unwrap();
        // both dropped here, mid-import
    }
    // Nobody sees any of it.
    let probe = svc.client();
    assert!(probe.lookup("mueller".into(), 5).unwrap().groups.is_empty());
    drop(probe);
    let c = svc.client();
    let entries = c.audit_tail(None, 10).unwrap();
    assert!(entries.iter().all(|e| e.kind != "imported"));
    // The service drops the rows the vanished client staged when its
    // connection ends, without a restart (waited for within a bound: the
    // connection's thread notices the close on its own).
    let staged = || {
        std::fs::read_dir(svc.dir.path().join("store"))
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".rows"))
    };
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while staged() {
        assert!(
            std::time::Instant::now() < until,
            "the vanished client's rows file is still there"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The store itself, once the service has let go of it: no row, no entry.
    drop(c);
    svc.stop();
    let desk = common::desk(svc.dir.path());
    assert_eq!(desk.record_reader().len(), 0, "nothing was written");
    // The next start dropped what was staged.
    assert_eq!(desk.imports_in_progress(), 0);
    assert!(desk
        .audit_log(None)
        .unwrap()
        .iter()
        .all(|e| e.kind != "imported"));
}

#[test]
fn the_queue_travels_in_pages_that_cover_every_case_once_in_order() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    let opened: Vec<_> = (0..25)
        .map(|i| desk.open_case(new_case(&format!("Page {i}"))).unwrap().id)
        .collect();
    for budget in [1, 700, 1 << 20] {
        let mut seen = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let (cases, next) = desk.cases_page(after, budget).unwrap();
            pages += 1;
            seen.extend(cases.iter().map(|c| c.id));
            match next {
                Some(id) => after = Some(id),
                None => break,
            }
        }
        assert_eq!(seen, opened, "budget {budget}");
        if budget == 1 {
            assert!(pages >= 25, "one case a page");
        }
        if budget == 1 << 20 {
            assert_eq!(pages, 1);
        }
    }
}

#[test]
fn started_by_a_systemd_socket_unit_the_service_takes_the_socket_it_is_given() {
    use std::os::unix::process::CommandExt;
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let socket = t.path().join("activated.sock");
    // What systemd does: bind the socket with the unit's mode, then start the
    // service with it as fd 3, LISTEN_FDS=1 and LISTEN_PID set to its pid.
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o660)).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&listener);
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        &format!(
            "LISTEN_PID=$$ LISTEN_FDS=1 exec {} serve",
            env!("CARGO_BIN_EXE_rightsdesk")
        ),
    ])
    .env("RIGHTSDESK_DATA_DIR", &data)
    // Elsewhere on purpose: the service must not bind this path.
    .env("RIGHTSDESK_SOCKET", t.path().join("not-this.sock"))
    .stderr(std::process::Stdio::null());
    // SAFETY: dup2 and fcntl are async-signal-safe; fd 3 becomes the
    // listening socket, open across exec.
    unsafe {
        cmd.pre_exec(move || {
            let rc = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 3)
            };
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut server = Stopped(cmd.spawn().unwrap());
    drop(listener);
    let mut c = Client::connect(&socket).expect("the service answers on the given socket");
    let page = c.call(Call::cases_page { after: None }).unwrap();
    assert_eq!(page["cases"], serde_json::json!([]));
    assert!(!t.path().join("not-this.sock").exists());
    unsafe {
        libc::kill(server.0.id() as libc::pid_t, libc::SIGTERM);
    }
    assert!(server.0.wait().unwrap().success());
    assert!(socket.exists(), "the socket is the unit's: it stays");
}

/// A raw connection past the handshake, to send it frames by hand.
fn greeted(socket: &std::path::Path) -> UnixStream {
    let mut s = UnixStream::connect(socket).unwrap();
    rightsdesk::remote::write_frame(
        &mut s,
        &Request::Hello {
            protocol: rightsdesk::remote::PROTOCOL,
        },
    )
    .unwrap();
    let hello: Response = rightsdesk::remote::read_frame(&mut s).unwrap();
    assert!(matches!(hello, Response::Hello { .. }), "{hello:?}");
    s
}
