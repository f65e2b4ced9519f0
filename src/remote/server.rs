//! `rightsdesk serve`: one process owns the store; each connection gets a
//! thread; every change goes through one lock, so the audit chain stays
//! linear; subscribers hear of each change.

use super::{read_frame_bytes, write_frame, ErrorKind, FrameError, Request, Response, PROTOCOL};
use crate::service::{Desk, DeskError};
use crate::store::StoreError;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The user on the other end of a Unix socket, as the kernel reports it.
pub fn peer_uid(stream: &UnixStream) -> std::io::Result<u32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`, which we own.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut cred as *mut libc::ucred as *mut libc::c_void,
            &mut len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(cred.uid)
}

pub use crate::service::actor::user_name;

/// Stored bytes of cases per page.
const CASES_PAGE: usize = 1 << 20;

/// Rows one connection may hold for an import before committing it.
const MAX_STAGED_ROWS: usize = 5_000_000;

struct Shared {
    desk: Mutex<Desk>,
    subscribers: Mutex<Vec<UnixStream>>,
    /// The lookup index every desk queries (read without the desk's lock).
    index: Arc<super::index::SharedIndex>,
}

impl Shared {
    /// Builds the lookup index again behind the scenes.
    fn reindex(&self) {
        let desk = self.desk.lock().unwrap_or_else(|p| p.into_inner()).clone();
        self.index.rebuild(desk);
    }
}

fn error(kind: ErrorKind, message: impl Into<String>) -> Response {
    Response::Error {
        kind,
        message: message.into(),
    }
}

fn from_desk(e: DeskError) -> Response {
    let kind = match &e {
        DeskError::Refused(_) | DeskError::Invalid(_) | DeskError::UnknownSource { .. } => {
            ErrorKind::Refused
        }
        DeskError::Store(StoreError::Conflict { .. }) => ErrorKind::Conflict,
        DeskError::Store(StoreError::NotFound(_)) => ErrorKind::NotFound,
        _ => ErrorKind::Failed,
    };
    error(kind, e.to_string())
}

/// Listens on `socket` (mode 0660: the owner and the staff group) until
/// `stop` is set. A stale socket file from a dead service is replaced; a live
/// one is refused.
pub fn serve(desk: Desk, socket: &Path, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    // Started by systemd's socket unit: the socket is already bound (its
    // path, owner, group and mode are the unit's), and stays when we stop.
    if let Some(listener) = inherited_listener() {
        return serve_on(desk, listener, None, stop);
    }
    if socket.exists() {
        if UnixStream::connect(socket).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("{} is served by another process", socket.display()),
            ));
        }
        std::fs::remove_file(socket)?;
    }
    let listener = UnixListener::bind(socket)?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))?;
    serve_on(desk, listener, Some(socket), stop)
}

/// The listening socket systemd passed (socket activation: `LISTEN_PID` is
/// this process and `LISTEN_FDS` at least 1; the socket is fd 3).
fn inherited_listener() -> Option<UnixListener> {
    let pid: u32 = std::env::var("LISTEN_PID").ok()?.parse().ok()?;
    let fds: u32 = std::env::var("LISTEN_FDS").ok()?.parse().ok()?;
    if pid != std::process::id() || fds < 1 {
        return None;
    }
    // Not for our children.
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
    std::env::remove_var("LISTEN_FDNAMES");
    const SD_LISTEN_FDS_START: i32 = 3;
    // SAFETY: fstat only reads into a zeroed stat we own.
    let is_socket = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(SD_LISTEN_FDS_START, &mut st) == 0
            && st.st_mode & libc::S_IFMT == libc::S_IFSOCK
    };
    if !is_socket {
        return None; // LISTEN_FDS without a socket on fd 3: bind our own
    }
    // SAFETY: systemd hands this process fd 3 as its listening socket and
    // nothing else in the process owns it.
    Some(unsafe { <UnixListener as std::os::fd::FromRawFd>::from_raw_fd(SD_LISTEN_FDS_START) })
}

/// Accepts connections until `stop`; removes `owned` (a socket file we
/// bound ourselves) on the way out.
fn serve_on(
    desk: Desk,
    listener: UnixListener,
    owned: Option<&Path>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let index = Arc::new(super::index::SharedIndex::default());
    index.rebuild(desk.clone());
    let shared = Arc::new(Shared {
        desk: Mutex::new(desk),
        subscribers: Mutex::new(Vec::new()),
        index,
    });
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    connection(stream, &shared);
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(socket) = owned {
        let _ = std::fs::remove_file(socket);
    }
    let desk = shared.desk.lock().unwrap_or_else(|p| p.into_inner());
    let _ = desk.flush();
    Ok(())
}

fn connection(mut stream: UnixStream, shared: &Shared) {
    let actor = match peer_uid(&stream) {
        Ok(uid) => user_name(uid),
        Err(_) => return,
    };
    // Handshake: the client names its protocol; a mismatch is said and ends it.
    match read_frame_bytes(&mut stream).and_then(|b| Ok(serde_json::from_slice(&b)?)) {
        Ok(Request::Hello { protocol }) if protocol == PROTOCOL => {
            let _ = write_frame(
                &mut stream,
                &Response::Hello {
                    protocol: PROTOCOL,
                    actor: actor.clone(),
                },
            );
        }
        Ok(Request::Hello { protocol }) => {
            let _ = write_frame(
                &mut stream,
                &error(
                    ErrorKind::Protocol,
                    format!("this service speaks protocol {PROTOCOL}, the client {protocol}: use the same rightsdesk version"),
                ),
            );
            return;
        }
        _ => {
            let _ = write_frame(
                &mut stream,
                &error(ErrorKind::Protocol, "the first message must be a hello"),
            );
            return;
        }
    }
    let mut staged: Vec<crate::domain::record::SourceRecord> = Vec::new();
    loop {
        let request = match read_frame_bytes(&mut stream) {
            Ok(bytes) => match serde_json::from_slice::<Request>(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    // A malformed request is answered; the connection stays.
                    if write_frame(
                        &mut stream,
                        &error(ErrorKind::Protocol, format!("not a request: {e}")),
                    )
                    .is_err()
                    {
                        return;
                    }
                    continue;
                }
            },
            Err(FrameError::TooLarge(n)) => {
                // The rest of that frame cannot be skipped safely: say so, close.
                let _ = write_frame(
                    &mut stream,
                    &error(
                        ErrorKind::Protocol,
                        format!("a frame of {n} bytes is too large"),
                    ),
                );
                return;
            }
            Err(_) => return, // closed or broken: nothing was half done
        };
        if let Request::Subscribe = request {
            if let Ok(s) = stream.try_clone() {
                shared
                    .subscribers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(s);
            }
            return; // this connection now only receives pushes
        }
        let response = answer(shared, &actor, &mut staged, request);
        // A client that went away mid-request: the change is already durable.
        if write_frame(&mut stream, &response).is_err() {
            return;
        }
    }
}

/// One request's answer. Lookups read the shared index without waiting for
/// the lock changes take; an import's records wait here, per connection,
/// until its commit (a client gone before it leaves the store untouched);
/// the rest is taken under the one lock, and each change is pushed.
fn answer(
    shared: &Shared,
    actor: &str,
    staged: &mut Vec<crate::domain::record::SourceRecord>,
    request: Request,
) -> Response {
    match request {
        Request::Lookup { query, limit } => shared.index.lookup(&query, limit),
        Request::Subject { id } => shared.index.subject(&id),
        Request::IndexState => shared.index.state(),
        Request::ReloadIndex => {
            shared.reindex();
            Response::Done
        }
        Request::ImportPart { records } => {
            if staged.len() + records.len() > MAX_STAGED_ROWS {
                staged.clear();
                return error(
                    ErrorKind::Refused,
                    format!(
                        "an import of more than {MAX_STAGED_ROWS} rows is refused; split the file"
                    ),
                );
            }
            staged.extend(records);
            Response::Staged { rows: staged.len() }
        }
        Request::ImportCommit {
            source,
            file,
            format,
            sha256,
        } => {
            let records = std::mem::take(staged);
            if records.is_empty() {
                return error(
                    ErrorKind::Refused,
                    "nothing to import: no rows were sent on this connection",
                );
            }
            let format = match format.parse::<crate::import::Format>() {
                Ok(f) => f,
                Err(e) => return error(ErrorKind::Refused, e),
            };
            let parsed = crate::service::ParsedImport {
                file,
                format,
                sha256,
                records,
            };
            let written = {
                let mut desk = shared.desk.lock().unwrap_or_else(|p| p.into_inner());
                desk.act_as(actor);
                desk.importer().write(&source, &parsed)
            };
            match written {
                Ok(report) => {
                    records_changed(shared, actor);
                    Response::Imported { report }
                }
                Err(e) => from_desk(e),
            }
        }
        other => {
            let split = matches!(other, Request::SplitRecord { .. });
            let (response, changed) = handle(shared, actor, other);
            if let Some((id, version)) = changed {
                push(
                    shared,
                    &Response::Changed {
                        id,
                        version,
                        by: actor.to_string(),
                    },
                );
            }
            if split && matches!(response, Response::Done) {
                records_changed(shared, actor);
            }
            response
        }
    }
}

/// After an import or a split: the index is built again, desks are told.
fn records_changed(shared: &Shared, actor: &str) {
    shared.reindex();
    push(
        shared,
        &Response::RecordsChanged {
            by: actor.to_string(),
        },
    );
}

/// Tells every subscriber; one that cannot take it within 200 ms is dropped
/// (its desk reconnects and reloads), so a stuck desk never holds up others.
fn push(shared: &Shared, message: &Response) {
    let mut subs = shared.subscribers.lock().unwrap_or_else(|p| p.into_inner());
    subs.retain_mut(|s| {
        let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
        write_frame(s, message).is_ok()
    });
}

fn case_response(desk: &Desk, case: crate::domain::Case) -> Response {
    let view = crate::cli::json::case_json(&desk.view(case.clone()));
    Response::Case {
        case: Box::new(case),
        view,
    }
}

/// Runs one request under the one lock, as `actor`.
fn handle(
    shared: &Shared,
    actor: &str,
    request: Request,
) -> (Response, Option<(crate::domain::CaseId, u64)>) {
    let mut desk = shared.desk.lock().unwrap_or_else(|p| p.into_inner());
    desk.act_as(actor);
    match request {
        Request::Hello { .. } => (error(ErrorKind::Protocol, "already said hello"), None),
        Request::Subscribe
        | Request::ImportPart { .. }
        | Request::ImportCommit { .. }
        | Request::Lookup { .. }
        | Request::Subject { .. }
        | Request::IndexState
        | Request::ReloadIndex => unreachable!("handled by the connection"),
        Request::Cases { after } => match desk.cases_page(after, CASES_PAGE) {
            Ok((cases, next)) => (Response::Cases { cases, next }, None),
            Err(e) => (from_desk(e), None),
        },
        Request::Case { id } => match desk.case(id) {
            Ok(v) => (case_response(&desk, v.case), None),
            Err(e) => (from_desk(e), None),
        },
        Request::Open { new } => match desk.open_case(new) {
            Ok(case) => {
                let changed = Some((case.id, case.version));
                (case_response(&desk, case), changed)
            }
            Err(e) => (from_desk(e), None),
        },
        Request::Step {
            id,
            step,
            on,
            expected_version,
        } => match desk.step_expecting(id, step, on, expected_version) {
            Ok(case) => {
                let changed = Some((case.id, case.version));
                (case_response(&desk, case), changed)
            }
            Err(e) => (from_desk(e), None),
        },
        Request::Settings => (
            Response::Settings {
                settings: desk.settings().clone(),
            },
            None,
        ),
        Request::ProposePlan { id } => match desk.propose_plan(id) {
            Ok(proposal) => (Response::Plan { proposal }, None),
            Err(e) => (from_desk(e), None),
        },
        Request::AcceptPlan {
            id,
            tasks,
            expected_version,
        } => match desk
            .check_version(id, expected_version)
            .and_then(|()| desk.accept_plan(id, &tasks))
        {
            Ok(case) => {
                let changed = Some((case.id, case.version));
                (case_response(&desk, case), changed)
            }
            Err(e) => (from_desk(e), None),
        },
        Request::AccessPackage { id } => match desk
            .access_package(id)
            .and_then(|p| desk.log_access_export(&p).map(|()| p))
        {
            Ok(package) => (
                Response::AccessPackage {
                    package: Box::new(package),
                },
                None,
            ),
            Err(e) => (from_desk(e), None),
        },
        Request::ClosureLog {
            from,
            to,
            with_subjects,
        } => match desk.closure_log(from, to, with_subjects) {
            Ok(rows) => (Response::ClosureLog { rows }, None),
            Err(e) => (from_desk(e), None),
        },
        Request::CheckHashes { restore, hashes } => {
            let only = hashes.into_iter().collect();
            match desk.check_table(restore, Some(&only)) {
                Ok(table) => (Response::CheckTable { table }, None),
                Err(e) => (from_desk(e), None),
            }
        }
        Request::Letter { id } => match desk.closing_letter(id) {
            Ok(report) => (Response::Letter { report }, None),
            Err(e) => (from_desk(e), None),
        },
        Request::AuditTail { case, limit } => match desk.audit_tail(case, limit) {
            Ok(entries) => (Response::Audit { entries }, None),
            Err(e) => (from_desk(e), None),
        },
        Request::HashedFlags => match desk.hashed_flag_lists() {
            Ok((do_not_market, erased)) => (
                Response::HashedFlags {
                    key: desk.pseudonymiser().key_hex(),
                    do_not_market,
                    erased,
                },
                None,
            ),
            Err(e) => (from_desk(e), None),
        },
        Request::SplitRecord { source, key } => match desk.split_record(&source, &key) {
            Ok(()) => (Response::Done, None),
            Err(e) => (from_desk(e), None),
        },
        Request::VerifyAudit => match desk.verify_audit() {
            Ok(r) => (
                Response::Verified {
                    entries: r.entries,
                    cases: r.cases,
                },
                None,
            ),
            Err(e) => (error(ErrorKind::Failed, e.to_string()), None),
        },
    }
}
