//! `rightsdesk serve`: one process owns the store; each connection gets a
//! thread; every change goes through one lock, so the audit chain stays
//! linear; subscribers hear of each change.
//!
//! Nothing here knows an operation by name: a `Call` is checked against who
//! may send it (`Call::kind` and the team's administrators), run by
//! `service::ops::dispatch`, and its kind says what to tell other desks.

use super::{read_message_bytes, write_frame, ErrorKind, FrameError, Request, Response, PROTOCOL};
use crate::service::ops::{dispatch, Call, Kind};
use crate::service::{Desk, DeskError};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
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

/// Bytes of one request (an import's records are the largest), and of all
/// requests being read at once: a client is trusted with its own import,
/// not with the service's memory.
const MAX_REQUEST: usize = 128 << 20;
const MAX_REQUESTS_TOTAL: usize = 256 << 20;
/// A connection with nothing to say for this long is closed (a desk
/// reconnects by itself on its next request).
const IDLE: Duration = Duration::from_secs(15 * 60);
/// A new connection must say hello within this, in at most this many bytes.
const HELLO_WITHIN: Duration = Duration::from_secs(10);
const HELLO_BYTES: usize = 4 << 10;
/// Once a frame has begun, the rest of it must arrive within this.
const FRAME_DEADLINE: Duration = Duration::from_secs(30);
/// Connections held at once: at most this many, and never more than the
/// open files the process may have leave room for (the store, the index and
/// a margin need some).
const MAX_CONNECTIONS: usize = 512;
const FILES_KEPT_FOR_THE_SERVICE: usize = 64;

struct Shared {
    /// The store the service holds. Every call reads it; maintenance that
    /// needs the store closed takes it out and puts it back. `None` only
    /// when it could not be opened again (said to every caller).
    held: RwLock<Option<Desk>>,
    /// Changes (and reads that must not see half of one) take this lock,
    /// one at a time, so the audit chain stays one line.
    writes: Mutex<()>,
    data_dir: std::path::PathBuf,
    subscribers: Mutex<Vec<(UnixStream, Slot)>>,
    slots: Arc<Slots>,
    /// Bytes of requests being read on all connections.
    reading: std::sync::atomic::AtomicUsize,
    team: super::team::Team,
}

/// Counts connections in total and per user; a `Slot` is one connection's
/// place, given back when it is dropped.
struct Slots {
    total: usize,
    per_user: usize,
    held: Mutex<std::collections::HashMap<u32, usize>>,
}

struct Slot {
    uid: u32,
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = held.get_mut(&self.uid) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.uid);
            }
        }
    }
}

impl Slots {
    fn new() -> Slots {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        let files = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
            usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
        } else {
            1024
        };
        let total = MAX_CONNECTIONS
            .min(files.saturating_sub(FILES_KEPT_FOR_THE_SERVICE))
            .max(4);
        Slots {
            total,
            per_user: (total / 4).max(4),
            held: Mutex::new(Default::default()),
        }
    }
}

/// Takes a place for a connection from `uid`, or says why there is none.
fn take_slot(shared: &Arc<Shared>, uid: u32) -> Result<Slot, String> {
    let slots = &shared.slots;
    let mut held = slots.held.lock().unwrap_or_else(|p| p.into_inner());
    let total: usize = held.values().sum();
    let mine = held.get(&uid).copied().unwrap_or(0);
    if total >= slots.total {
        return Err(format!(
            "the service holds {total} connections, its limit: try again in a moment"
        ));
    }
    if mine >= slots.per_user {
        return Err(format!(
            "this user already has {mine} connections open, the limit for one user: close a desk"
        ));
    }
    *held.entry(uid).or_default() += 1;
    Ok(Slot {
        uid,
        slots: shared.slots.clone(),
    })
}

/// Refuses a connection in one short, non-blocking write and closes it.
fn turn_away(stream: UnixStream, why: String) {
    let mut stream = stream;
    let _ = stream.set_nonblocking(true);
    let _ = write_frame(&mut stream, &error(ErrorKind::Failed, why));
}

/// Reads one request: waiting up to `IDLE` for it to begin, then up to
/// `FRAME_DEADLINE` in all for the rest, so a silent or trickling client
/// holds its own thread only, and not for ever. Its bytes count against
/// the service's budget while they are read.
fn read_request(
    stream: &mut UnixStream,
    reading: &std::sync::atomic::AtomicUsize,
) -> Result<Vec<u8>, FrameError> {
    let mut held = Held { reading, bytes: 0 };
    read_request_within(stream, IDLE, MAX_REQUEST, &mut |n| held.take(n))
}

/// Bytes of one request being read, given back when it is done.
struct Held<'a> {
    reading: &'a std::sync::atomic::AtomicUsize,
    bytes: usize,
}

impl Held<'_> {
    fn take(&mut self, n: usize) -> Result<(), String> {
        if self.reading.fetch_add(n, Ordering::SeqCst) + n > MAX_REQUESTS_TOTAL {
            self.reading.fetch_sub(n, Ordering::SeqCst);
            return Err(format!(
                "the service is already reading {} MiB of requests: try again once they are done",
                MAX_REQUESTS_TOTAL >> 20
            ));
        }
        self.bytes += n;
        Ok(())
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.reading.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

/// `read_request` with its own wait for the message to begin.
fn read_request_within(
    stream: &mut UnixStream,
    idle: Duration,
    limit: usize,
    take: &mut dyn FnMut(usize) -> Result<(), String>,
) -> Result<Vec<u8>, FrameError> {
    use std::io::Read;
    stream.set_read_timeout(Some(idle))?;
    let mut first = [0u8; 1];
    loop {
        match stream.read(&mut first) {
            Ok(0) => return Err(FrameError::Closed),
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let rest = Deadline {
        stream,
        until: std::time::Instant::now() + FRAME_DEADLINE,
    };
    read_message_bytes(&mut std::io::Read::chain(&first[..], rest), limit, take)
}

/// A reader that fails with `TimedOut` once `until` has passed.
struct Deadline<'a> {
    stream: &'a mut UnixStream,
    until: std::time::Instant,
}

impl std::io::Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self
            .until
            .checked_duration_since(std::time::Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::TimedOut, "frame too slow"))?;
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

fn error(kind: ErrorKind, message: impl Into<String>) -> Response {
    Response::Error {
        kind,
        message: message.into(),
    }
}

fn from_desk(e: DeskError) -> Response {
    error(e.kind(), e.to_string())
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
    remove_stale_socket(socket)?;
    let listener = UnixListener::bind(socket)?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))?;
    serve_on(desk, listener, Some(socket), stop)
}

/// Clears the way for our socket: only a socket that nobody answers on (a
/// service that died) is removed. A live socket is refused; a regular file,
/// a directory or a symlink at the path is not ours and is left alone.
fn remove_stale_socket(socket: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::symlink_metadata(socket) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(m) => m,
    };
    if !meta.file_type().is_socket() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} exists and is not a socket: it is left alone; choose another socket path (RIGHTSDESK_SOCKET) or move it",
                socket.display()
            ),
        ));
    }
    match UnixStream::connect(socket) {
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!("{} is served by another process", socket.display()),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => std::fs::remove_file(socket),
        Err(e) => Err(std::io::Error::new(
            e.kind(),
            format!("{}: {e}; it is left alone", socket.display()),
        )),
    }
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
    // Every desk looks people up in this one index: build it now, not on
    // the first officer's first keystroke.
    desk.start_index();
    let team = super::team::Team::of(desk.settings());
    let shared = Arc::new(Shared {
        data_dir: desk.data_dir().to_path_buf(),
        held: RwLock::new(Some(desk)),
        writes: Mutex::new(()),
        subscribers: Mutex::new(Vec::new()),
        slots: Arc::new(Slots::new()),
        reading: Default::default(),
        team,
    });
    let bound = owned.and_then(|p| std::fs::symlink_metadata(p).ok());
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => admit(&shared, stream),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Out of files or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), or a
            // client gone before it was accepted: the service carries on and
            // tries again once connections have closed.
            Err(e) => {
                crate::errln!("rightsdesk serve: cannot accept a connection: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    if let (Some(socket), Some(bound)) = (owned, bound) {
        // Only the socket we bound: not whatever may have replaced it since.
        use std::os::unix::fs::MetadataExt;
        if std::fs::symlink_metadata(socket)
            .is_ok_and(|m| m.ino() == bound.ino() && m.dev() == bound.dev())
        {
            let _ = std::fs::remove_file(socket);
        }
    }
    // Every acknowledged change is already on disk. A step stuck in the
    // store (a full disk) must not keep the service from stopping: wait for
    // the lock a moment only, and flush if it comes.
    let until = std::time::Instant::now() + Duration::from_millis(1500);
    loop {
        match shared.held.try_read() {
            Ok(held) => {
                if let Some(desk) = held.as_ref() {
                    let _ = desk.flush();
                }
                break;
            }
            Err(std::sync::TryLockError::Poisoned(p)) => {
                if let Some(desk) = p.into_inner().as_ref() {
                    let _ = desk.flush();
                }
                break;
            }
            Err(std::sync::TryLockError::WouldBlock) if std::time::Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(std::sync::TryLockError::WouldBlock) => break,
        }
    }
    Ok(())
}

/// Gives an accepted connection a place and a thread of its own, or turns
/// it away with the reason; the accept loop never waits on a client.
fn admit(shared: &Arc<Shared>, stream: UnixStream) {
    let uid = match peer_uid(&stream) {
        Ok(uid) => uid,
        Err(_) => return,
    };
    let slot = match take_slot(shared, uid) {
        Ok(s) => s,
        Err(why) => return turn_away(stream, why),
    };
    let Ok(spare) = stream.try_clone() else {
        return turn_away(
            stream,
            "the service is out of open files: try again in a moment".into(),
        );
    };
    let for_thread = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("rightsdesk-connection".into())
        .spawn(move || {
            let _ = stream.set_nonblocking(false);
            connection(stream, &for_thread, slot);
        });
    if spawned.is_err() {
        turn_away(
            spare,
            "the service cannot start another thread: try again in a moment".into(),
        );
    }
}

fn connection(mut stream: UnixStream, shared: &Shared, slot: Slot) {
    let actor = user_name(slot.uid);
    // A desk that stops reading its answers must not hold a thread for ever.
    let _ = stream.set_write_timeout(Some(FRAME_DEADLINE));
    // Handshake: the client names its protocol; a mismatch is said and ends it.
    match read_request_within(&mut stream, HELLO_WITHIN, HELLO_BYTES, &mut |_| Ok(()))
        .and_then(|b| Ok(serde_json::from_slice(&b)?))
    {
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
    let peer = super::team::Peer::of(slot.uid, actor);
    let mut imports = OwnImports {
        shared,
        ids: Vec::new(),
    };
    loop {
        let request = match read_request(&mut stream, &shared.reading) {
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
            Err(e @ (FrameError::TooLarge(..) | FrameError::Refused(_))) => {
                // The rest of that message cannot be skipped safely: say so, close.
                let (kind, why) = match e {
                    // The service's memory is busy with others' requests:
                    // not a rule, try again.
                    FrameError::Refused(why) => (ErrorKind::Failed, why),
                    FrameError::TooLarge(_, limit) if limit == super::MAX_FRAME => (
                        ErrorKind::Protocol,
                        format!("a frame of more than {} MiB is refused (longer messages go in several)", super::MAX_FRAME >> 20),
                    ),
                    _ => (
                        ErrorKind::Refused,
                        format!(
                            "a request of more than {} MiB is refused (an import travels in batches of at most a few MiB)",
                            MAX_REQUEST >> 20
                        ),
                    ),
                };
                let _ = write_frame(&mut stream, &error(kind, why));
                return;
            }
            Err(_) => return, // closed or broken: nothing was half done
        };
        let response = match request {
            Request::Subscribe => {
                // The connection keeps its place while it listens. It is
                // told it is listening under the lock pushes take, so it
                // hears every change made after its `subscribe` returned.
                let mut subs = shared.subscribers.lock().unwrap_or_else(|p| p.into_inner());
                let listening = Response::Answer {
                    value: serde_json::Value::Null,
                };
                if write_frame(&mut stream, &listening).is_ok() {
                    subs.push((stream, slot));
                }
                return; // this connection now only receives pushes
            }
            Request::Hello { .. } => error(ErrorKind::Protocol, "already said hello"),
            Request::Call { call } => imports.follow(call, |call| answer(shared, &peer, call)),
        };
        // A client that went away mid-request: the change is already durable.
        if write_frame(&mut stream, &response).is_err() {
            return;
        }
    }
}

/// Imports a connection began and has neither committed nor dropped: when
/// it ends (its desk killed mid-import, the network gone) they are dropped
/// at once, not left in the store's folder until the service restarts.
struct OwnImports<'a> {
    shared: &'a Shared,
    ids: Vec<String>,
}

impl OwnImports<'_> {
    /// Answers `call`, keeping note of the imports it begins or ends.
    fn follow(&mut self, call: Call, answer: impl FnOnce(Call) -> Response) -> Response {
        let ends = match &call {
            Call::import_commit { id, .. } | Call::import_abandon { id } => Some(id.clone()),
            _ => None,
        };
        let begins = matches!(call, Call::import_begin { .. });
        let response = answer(call);
        match (&response, ends) {
            (Response::Answer { value }, None) if begins => {
                if let Some(id) = value.as_str() {
                    self.ids.push(id.to_string());
                }
            }
            // Committed, failed or dropped: the store has dealt with it
            // (a committed import is never dropped).
            (_, Some(id)) => self.ids.retain(|i| *i != id),
            _ => {}
        }
        response
    }
}

impl Drop for OwnImports<'_> {
    fn drop(&mut self) {
        if self.ids.is_empty() {
            return;
        }
        let _one_at_a_time = self.shared.writes.lock().unwrap_or_else(|p| p.into_inner());
        let held = self.shared.held.read().unwrap_or_else(|p| p.into_inner());
        if let Some(desk) = held.as_ref() {
            for id in &self.ids {
                // An import committed meanwhile is never dropped by this.
                let _ = desk.import_abandon(id);
            }
        }
    }
}

/// One call's answer: refused unless the caller may send it; reads that
/// need no lock are answered at once; the rest are taken under the one lock,
/// as the caller; then every other desk is told what changed.
fn answer(shared: &Shared, peer: &super::team::Peer, call: Call) -> Response {
    let kind = call.kind();
    if let Err(why) = shared.team.allows(peer, &call) {
        return error(ErrorKind::Forbidden, why);
    }
    let answered = match kind {
        Kind::Offline => offline(shared, peer, call),
        Kind::Read => match &*shared.held.read().unwrap_or_else(|p| p.into_inner()) {
            Some(desk) => dispatch(desk, call),
            None => Err(closed()),
        },
        _ => {
            let _one_at_a_time = shared.writes.lock().unwrap_or_else(|p| p.into_inner());
            let held = shared.held.read().unwrap_or_else(|p| p.into_inner());
            match held.as_ref() {
                Some(desk) => {
                    let mut desk = desk.clone();
                    desk.act_as(&peer.name);
                    dispatch(&desk, call)
                }
                None => Err(closed()),
            }
        }
    };
    let value = match answered {
        Ok(v) => v,
        Err(e) => return from_desk(e),
    };
    match kind {
        Kind::Case => {
            // The answer is the case as it now is.
            let id = value.get("id").cloned().map(serde_json::from_value);
            let version = value.get("version").and_then(serde_json::Value::as_u64);
            if let (Some(Ok(id)), Some(version)) = (id, version) {
                push(
                    shared,
                    &Response::Changed {
                        id,
                        version,
                        by: peer.name.clone(),
                    },
                );
            }
        }
        Kind::Offline => {} // said by `offline` itself, before and after
        Kind::Records | Kind::Maintenance => push(
            shared,
            &Response::RecordsChanged {
                by: peer.name.clone(),
            },
        ),
        Kind::Read | Kind::Logged | Kind::Admin => {}
    }
    Response::Answer { value }
}

/// The store could not be opened again after maintenance.
fn closed() -> DeskError {
    DeskError::Remote {
        kind: ErrorKind::Failed,
        message: "the team service could not open its store again after maintenance: its administrator must look at the service's log and restart it".into(),
    }
}

/// Runs an operation that needs the store closed: every call waits (new
/// changes on the write lock, reads on the store's), desks are told, the
/// store is closed, the operation runs on the data directory, and the store
/// is opened again; then the calls that waited carry on.
fn offline(
    shared: &Shared,
    peer: &super::team::Peer,
    call: Call,
) -> Result<serde_json::Value, DeskError> {
    let _one_at_a_time = shared.writes.lock().unwrap_or_else(|p| p.into_inner());
    push(
        shared,
        &Response::Maintenance {
            what: call.name().to_string(),
            by: peer.name.clone(),
            done: false,
        },
    );
    let what = call.name().to_string();
    let mut held = shared.held.write().unwrap_or_else(|p| p.into_inner());
    if let Some(desk) = held.take() {
        // The index's build thread holds the store open: let it finish.
        desk.settle();
        let _ = desk.flush();
    }
    let result = crate::service::offline(&shared.data_dir, call);
    let reopened = match crate::service::once_released(|| Desk::open(&shared.data_dir)) {
        Ok(desk) => {
            desk.start_index();
            *held = Some(desk);
            true
        }
        Err(e) => {
            crate::errln!("rightsdesk serve: cannot open the store again: {e}");
            false
        }
    };
    drop(held);
    // "Done" only when it is: otherwise every call says the store is closed.
    if reopened {
        push(
            shared,
            &Response::Maintenance {
                what,
                by: peer.name.clone(),
                done: true,
            },
        );
    }
    result
}

/// Tells every subscriber; one that cannot take it within 200 ms is dropped
/// (its desk reconnects and reloads), so a stuck desk never holds up others.
fn push(shared: &Shared, message: &Response) {
    let mut subs = shared.subscribers.lock().unwrap_or_else(|p| p.into_inner());
    subs.retain_mut(|(s, _)| {
        let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
        write_frame(s, message).is_ok()
    });
}
