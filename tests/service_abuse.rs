//! The team server under abuse: a staff client is trusted with its own
//! actions, not with the service's life. A flood of idle connections, an
//! oversized import and crafted steps are refused with a reason, and the
//! service keeps answering everyone else.

mod common;

use common::service::Service;
use rightsdesk::domain::closure::{open_gaps, Closing};
use rightsdesk::domain::record::SourceRecord;
use rightsdesk::domain::{Case, Outcome, Right, Step, VerificationMethod, VerificationOutcome};
use rightsdesk::remote::backend::Backend;
use rightsdesk::remote::client::Client;
use rightsdesk::remote::{ErrorKind, Request, Response};
use rightsdesk::service::files_at_hand::write_parsed;
use rightsdesk::service::{DeskError, ImportSummary, ParsedImport};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

fn refused<T: std::fmt::Debug>(r: Result<T, DeskError>) -> String {
    match r {
        Err(DeskError::Remote {
            kind: ErrorKind::Refused,
            message,
        }) => message,
        other => panic!("not refused: {other:?}"),
    }
}

/// Opens an erasure case for a person and verifies them.
fn verified_erasure(c: &Backend, email: &str) -> Case {
    let mut new = common::new_case("Ann Lee", email, vec![Right::Erasure]);
    new.received = common::today();
    let case = c.open_case(new).unwrap();
    verify(c, &case)
}

/// Records the person's identity as verified by known details.
fn verify(c: &Backend, case: &Case) -> Case {
    c.take_step(
        case.id,
        Step::Verify {
            method: VerificationMethod::KnownDetails,
            outcome: VerificationOutcome::Verified,
            note: String::new(),
        },
        None,
        None,
    )
    .unwrap()
}

#[test]
fn crafted_purge_and_pseudonymise_steps_are_refused() {
    let svc = Service::start();
    let c = svc.client();
    let case = verified_erasure(&c, "ann@example.ie");
    for step in [
        Step::Plan {
            tasks: vec![rightsdesk::domain::PlannedRef {
                source: "invoicing".into(),
                action: rightsdesk::domain::plan::ACTION_MARK_BACKUP.into(),
            }],
        },
        Step::Purge {
            hashes: vec!["deadbeef".into()],
        },
        Step::Pseudonymise {
            hashes: vec!["deadbeef".into()],
        },
        // A package claimed without its files would let access close.
        Step::PackageSent {
            sources: 9,
            records: 99,
            portability: false,
        },
    ] {
        let why = refused(c.take_step(case.id, step, None, None));
        assert!(
            why.contains("the desk does this itself")
                || why.contains("accepted as a whole")
                || why.contains("once the package's files are written"),
            "{why}"
        );
    }
    let now = c.load_case(case.id).unwrap();
    assert_eq!(now.subject.emails, ["ann@example.ie"]);
    assert!(!now.purged() && !now.pseudonymised());
}

#[test]
fn a_client_cannot_record_a_package_the_desk_would_not_have_made() {
    let svc = Service::start();
    let c = svc.client();
    let mut new = common::new_case("Ann Lee", "ann@example.ie", vec![Right::Access]);
    new.received = common::today();
    let case = c.open_case(new).unwrap();
    // Not verified: no package goes out.
    let why = refused(c.record_package_sent(case.id, None));
    assert!(why.contains("no source has been searched"), "{why}");
    verify(&c, &case);
    // Nothing searched and no reason: the same refusal as the export's.
    let why = refused(c.record_package_sent(case.id, None));
    assert!(why.contains("no source has been searched"), "{why}");
    assert!(c.load_case(case.id).unwrap().package_sent().is_none());
    // So a fulfilled close still finds the package missing.
    let why = refused(c.take_step(
        case.id,
        Step::Close(rightsdesk::domain::closure::Closing::new(
            rightsdesk::domain::Outcome::Fulfilled,
            "sent",
        )),
        None,
        None,
    ));
    assert!(why.contains("[access-package]"), "{why}");
}

#[test]
fn a_crafted_plan_cannot_write_registers_where_they_do_not_belong() {
    let mut svc = Service::start();
    let c = svc.client();
    let case = verified_erasure(&c, "ann@example.ie");
    let task = |source: &str, action: &str| rightsdesk::domain::plan::PlannedTask {
        source: source.into(),
        action: action.into(),
        why: "crafted".into(),
        held: false,
    };
    for t in [
        task("web-forms", rightsdesk::domain::plan::ACTION_MARK_BACKUP),
        task("invoicing", rightsdesk::domain::plan::ACTION_SUPPRESS),
    ] {
        let why = refused(c.accept_plan(case.id, vec![t], None));
        assert!(why.contains("catalogue"), "{why}");
    }
    let now = c.load_case(case.id).unwrap();
    assert!(now.tasks.is_empty(), "nothing was planned");
    drop(c);
    svc.stop();
    let desk = common::desk(svc.dir.path());
    assert!(desk.backup_marks().unwrap().is_empty());
    assert!(desk.suppression_list().unwrap().is_empty());
}

#[test]
fn a_dated_close_takes_the_same_rules_and_side_effects_as_any_close() {
    let svc = Service::start();
    let c = svc.client();
    let case = verified_erasure(&c, "ann@example.ie");
    let mut closing = Closing::new(Outcome::Fulfilled, "erased");
    closing.gap_reasons = open_gaps(&case)
        .into_iter()
        .map(|g| (g.key, "done outside the desk".into()))
        .collect();
    // A date in the future is refused whatever the path.
    let tomorrow = common::today().succ_opt().unwrap();
    refused(c.take_step(case.id, Step::Close(closing.clone()), Some(tomorrow), None));
    let closed = c
        .take_step(case.id, Step::Close(closing), Some(common::today()), None)
        .unwrap();
    assert!(closed.closure.is_some());
    // The granted erasure reduced the identifiers to keyed hashes.
    assert!(closed.pseudonymised(), "{:?}", closed.subject.emails);
    assert!(closed
        .subject
        .emails
        .iter()
        .all(|e| !e.contains("ann@example.ie")));
}

/// Records of about `bytes_each` bytes each once encoded.
fn bulky_records(n: usize, bytes_each: usize, from: usize) -> Vec<SourceRecord> {
    (0..n)
        .map(|i| SourceRecord {
            source: "web-forms".into(),
            key: format!("k{}", from + i),
            names: vec!["Bulk".into()],
            emails: vec![format!("bulk{}@example.ie", from + i)],
            phones: vec![],
            company: None,
            last_activity: None,
            status: None,
            mentions: vec![],
            raw: vec![("notes".into(), "x".repeat(bytes_each))],
            format: "csv".into(),
            line: (from + i) as u64,
        })
        .collect()
}

fn parsed(records: Vec<SourceRecord>) -> ParsedImport {
    ParsedImport {
        summary: ImportSummary {
            file: "big.csv".into(),
            format: rightsdesk::import::Format::Csv,
            sha256: String::new(),
            exported_on: None,
            skipped: Vec::new(),
            columns: None,
            encoding: "UTF-8".into(),
            delimiter: Some("comma".into()),
            unread_columns: Vec::new(),
        },
        records,
    }
}

#[test]
fn an_oversized_import_is_refused_and_the_service_answers_on() {
    let mut svc = Service::start();
    let c = svc.client();
    // About 300 MiB of rows in one batch (a crafted client: the desk's own
    // batches are a few MiB): more than one request may be.
    let id = c.import_begin("web-forms".into()).unwrap();
    let why = refused(c.import_batch(id, "web-forms".into(), bulky_records(9_600, 32 << 10, 0)));
    assert!(
        why.contains("MiB") && why.contains("travels in batches"),
        "{why}"
    );
    // The service answers this client and others.
    assert!(c.cases_page(None).is_ok());
    let other = svc.client();
    assert!(other.cases_page(None).is_ok());
    // Nothing of it was written.
    drop((c, other));
    svc.stop();
    assert_eq!(common::desk(svc.dir.path()).record_reader().len(), 0);
}

#[test]
fn an_import_larger_than_one_frame_lands_whole() {
    let svc = Service::start();
    let c = svc.client();
    // About 12 MiB: sent as batches, each several frames' worth.
    let report = write_parsed(
        &*c,
        "web-forms",
        parsed(bulky_records(384, 32 << 10, 0)),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!((report.rows, report.new), (384, 384));
}

/// Connects and says hello; the service's answer to the hello.
fn hello(socket: &std::path::Path) -> Result<(UnixStream, Response), String> {
    let mut s = UnixStream::connect(socket).map_err(|e| e.to_string())?;
    rightsdesk::remote::write_frame(
        &mut s,
        &Request::Hello {
            protocol: rightsdesk::remote::PROTOCOL,
        },
    )
    .map_err(|e| e.to_string())?;
    let r: Response = rightsdesk::remote::read_frame(&mut s).map_err(|e| e.to_string())?;
    Ok((s, r))
}

#[test]
fn a_flood_of_idle_connections_is_bounded_and_the_service_stays_up() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let socket = t.path().join("flood.sock");
    let mut server = common::cli::serve(&data, &socket, |cmd| {
        // SAFETY: setrlimit is async-signal-safe; it lowers the child's own limit.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: 128,
                    rlim_max: 128,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    // 400 connections that say nothing, then 400 that said hello: far more
    // than the 128 files the service may open.
    let mut silent: Vec<UnixStream> = Vec::new();
    for _ in 0..400 {
        if let Ok(s) = UnixStream::connect(&socket) {
            silent.push(s);
        }
    }
    let mut turned_away = None;
    let mut greeted = Vec::new();
    for _ in 0..400 {
        match hello(&socket) {
            Ok((s, Response::Hello { .. })) => greeted.push(s),
            Ok((_, Response::Error { message, .. })) => turned_away = Some(message),
            Ok((_, other)) => panic!("{other:?}"),
            Err(_) => {}
        }
    }
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "the service died under the flood"
    );
    let why = turned_away.expect("nobody was turned away");
    assert!(why.contains("connections"), "{why}");
    // Once the flood goes, an officer gets in again (the service notices
    // each closed connection; the wait has a generous bound, not a sleep).
    drop(silent);
    drop(greeted);
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok((_, Response::Hello { .. })) = hello(&socket) {
            break;
        }
        assert!(
            Instant::now() < until,
            "the service never took new officers"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut c = Client::connect(&socket).unwrap();
    assert!(c
        .call(rightsdesk::service::ops::Call::cases_page { after: None })
        .is_ok());
    unsafe {
        libc::kill(server.0.id() as libc::pid_t, libc::SIGTERM);
    }
    assert!(server.0.wait().unwrap().success());
}

#[test]
fn a_frame_that_never_finishes_does_not_hold_up_others() {
    let svc = Service::start();
    // Half a frame: the length says 1000 bytes, ten arrive.
    let mut slow = UnixStream::connect(&svc.socket).unwrap();
    std::io::Write::write_all(&mut slow, &1000u32.to_be_bytes()).unwrap();
    std::io::Write::write_all(&mut slow, b"{\"request\"").unwrap();
    assert!(svc.client().cases_page(None).is_ok());
}

fn hits(c: &Backend, query: &str) -> usize {
    c.lookup(query.into(), 10).unwrap().groups.len()
}

#[test]
fn a_dated_erasure_closed_through_the_service_leaves_every_desks_lookup() {
    let svc = Service::start();
    let c = svc.client();
    c.wait_for_index().unwrap();
    let record = SourceRecord {
        source: "web-forms".into(),
        key: "77".into(),
        names: vec!["Zelda Quartermain".into()],
        emails: vec!["zelda@example.ie".into()],
        phones: vec![],
        company: None,
        last_activity: None,
        status: None,
        mentions: vec![],
        raw: vec![("Email".into(), "zelda@example.ie".into())],
        format: "hubspot".into(),
        line: 2,
    };
    write_parsed(&*c, "web-forms", parsed(vec![record]), &mut |_, _| {}).unwrap();
    // The import is acknowledged once the index holds it: no waiting here.
    let other_desk = svc.client();
    assert_eq!(hits(&other_desk, "quartermain"), 1);
    // Erasure, closed with a date, through the service.
    let case = verified_erasure(&c, "zelda@example.ie");
    let mut closing = Closing::new(Outcome::Fulfilled, "erased");
    closing.gap_reasons = open_gaps(&case)
        .into_iter()
        .map(|g| (g.key, "done outside the desk".into()))
        .collect();
    let closed = c
        .take_step(case.id, Step::Close(closing), Some(common::today()), None)
        .unwrap();
    assert!(closed.pseudonymised());
    // Another desk's very next lookup: no live record of the person.
    assert_eq!(hits(&other_desk, "quartermain"), 0);
    assert_eq!(hits(&other_desk, "zelda@example.ie"), 0);
}

#[test]
fn frames_announced_but_never_sent_hold_no_memory_budget() {
    let svc = Service::start();
    // Each says hello, then announces 4 MiB more to come, and sends nothing:
    // together more than the service reads at once, were it counted up front.
    let mut idle = Vec::new();
    for _ in 0..80 {
        let mut s = UnixStream::connect(&svc.socket).unwrap();
        rightsdesk::remote::write_frame(
            &mut s,
            &Request::Hello {
                protocol: rightsdesk::remote::PROTOCOL,
            },
        )
        .unwrap();
        let _: Response = rightsdesk::remote::read_frame(&mut s).unwrap();
        let announce = (1u32 << 31) | (rightsdesk::remote::MAX_FRAME as u32);
        std::io::Write::write_all(&mut s, &announce.to_be_bytes()).unwrap();
        idle.push(s);
    }
    // Everyone else is answered at once.
    let c = svc.client();
    let case = c
        .open_case(common::new_case(
            "Still Served",
            "still@example.ie",
            vec![Right::Access],
        ))
        .expect("announced bytes that never came reserve nothing");
    assert_eq!(c.load_case(case.id).unwrap().id, case.id);
    // A continued frame that is not full is refused, not counted on.
    let mut s = UnixStream::connect(&svc.socket).unwrap();
    rightsdesk::remote::write_frame(
        &mut s,
        &Request::Hello {
            protocol: rightsdesk::remote::PROTOCOL,
        },
    )
    .unwrap();
    let _: Response = rightsdesk::remote::read_frame(&mut s).unwrap();
    std::io::Write::write_all(&mut s, &(1u32 << 31).to_be_bytes()).unwrap();
    let r: Response = rightsdesk::remote::read_frame(&mut s).unwrap();
    assert!(
        matches!(r, Response::Error { ref message, .. } if message.contains("continued")),
        "{r:?}"
    );
}
