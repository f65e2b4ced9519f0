//! Several staff at once: `rightsdesk serve` owns the store and answers over
//! a Unix socket; the command line (and later the desk) talk to it.
//!
//! The transport is thin: each frame is a 4-byte big-endian length and a JSON
//! document (at most `MAX_FRAME` bytes); the first frame each way is a
//! handshake naming the protocol version. The actor is the user the kernel
//! reports for the socket's peer (SO_PEERCRED), never anything the client says.

pub mod backend;
pub mod client;
pub mod index;
pub mod server;
pub mod system;

use crate::domain::audit::AuditEntry;
use crate::domain::plan::PlannedTask;
use crate::domain::record::SourceRecord;
use crate::domain::response::Report;
use crate::domain::settings::Settings;
use crate::domain::{Case, CaseId, NewCase, Step};
use crate::service::PlanProposal;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// Bumped when requests or responses change incompatibly.
pub const PROTOCOL: u32 = 2;
/// Largest frame either side accepts.
pub const MAX_FRAME: usize = 4 << 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum Request {
    Hello {
        protocol: u32,
    },
    /// The cases after `after` (id order), a page at a time.
    Cases {
        after: Option<CaseId>,
    },
    Case {
        id: CaseId,
    },
    Open {
        new: NewCase,
    },
    /// A step, taken only if the case is still at `expected_version`.
    Step {
        id: CaseId,
        step: Step,
        on: Option<NaiveDate>,
        expected_version: Option<u64>,
    },
    /// This connection then only receives `Changed` pushes.
    Subscribe,
    VerifyAudit,
    /// The settings the service's desk runs with (calendar, organisation).
    Settings,
    ProposePlan {
        id: CaseId,
    },
    /// Record the plan's kept tasks, if the case is still at `expected_version`.
    AcceptPlan {
        id: CaseId,
        tasks: Vec<PlannedTask>,
        expected_version: Option<u64>,
    },
    Letter {
        id: CaseId,
    },
    /// The newest `limit` audit entries (of one case, or all), newest first.
    AuditTail {
        case: Option<CaseId>,
        limit: usize,
    },
    /// The keyed hashes behind DO NOT MARKET and ERASED, with the key.
    HashedFlags,
    SplitRecord {
        source: String,
        key: String,
    },
    /// The access package of a case (logged as released to this officer);
    /// the desk encrypts and writes it where the officer works.
    AccessPackage {
        id: CaseId,
    },
    /// The closure log's rows (the export is logged, names or not).
    ClosureLog {
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        with_subjects: bool,
    },
    /// Which of these keyed hashes are on the backup marks (restore) or the
    /// suppression list, with their cases: a desk checks a file it read
    /// itself without sending its rows.
    CheckHashes {
        restore: bool,
        hashes: Vec<String>,
    },
    /// A lookup in the service's index (one index for every desk).
    Lookup {
        query: String,
        limit: usize,
    },
    /// One linked subject of the service's index.
    Subject {
        id: String,
    },
    /// Whether the service's index is built, and its size.
    IndexState,
    /// Build the index again (flags changed); answered at once, built behind.
    ReloadIndex,
    /// Part of an import's records, held by the service for this connection
    /// until `ImportCommit`; a connection that ends first leaves nothing.
    ImportPart {
        records: Vec<SourceRecord>,
    },
    /// Writes the held records whole, with the `imported` audit entry.
    ImportCommit {
        source: String,
        file: String,
        /// The format's name, as `--format` takes it.
        format: String,
        sha256: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "kebab-case")]
pub enum Response {
    Hello {
        protocol: u32,
        actor: String,
    },
    /// One page of cases; `next` is where the next page starts (none: the end).
    /// The client computes each clock with the service's calendar.
    Cases {
        cases: Vec<Case>,
        next: Option<CaseId>,
    },
    Case {
        case: Box<Case>,
        view: serde_json::Value,
    },
    /// Pushed to subscribers after any change.
    Changed {
        id: CaseId,
        version: u64,
        by: String,
    },
    /// Pushed to subscribers after an import or a split: lookups reload.
    RecordsChanged {
        by: String,
    },
    Verified {
        entries: u64,
        cases: u64,
    },
    Settings {
        settings: Settings,
    },
    Plan {
        proposal: PlanProposal,
    },
    Letter {
        report: Report,
    },
    Audit {
        entries: Vec<AuditEntry>,
    },
    HashedFlags {
        key: String,
        do_not_market: Vec<String>,
        erased: Vec<String>,
    },
    Done,
    AccessPackage {
        package: Box<crate::service::AccessPackage>,
    },
    ClosureLog {
        rows: Vec<crate::domain::closure_log::ClosureRow>,
    },
    CheckTable {
        table: std::collections::BTreeMap<String, Option<CaseId>>,
    },
    Lookup {
        groups: Vec<WireGroup>,
        micros: u64,
    },
    Subject {
        view: Option<crate::lookup::SubjectView>,
    },
    IndexState {
        /// A build (the first, or a reload) is running.
        building: bool,
        /// An index is there to answer (the previous one while reloading).
        ready: bool,
        /// How many builds have finished since the service started.
        builds: u64,
        records: usize,
        subjects: usize,
        millis: u64,
    },
    /// Records held so far for the import in progress.
    Staged {
        rows: usize,
    },
    Imported {
        report: crate::service::ImportReport,
    },
    Error {
        kind: ErrorKind,
        message: String,
    },
}

/// A lookup group as it travels: the desk's highlighting (label and the
/// matched characters) is not part of `Group`'s JSON for scripts, so it is
/// carried beside each hit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireGroup {
    pub subject: String,
    pub flags: crate::lookup::Flags,
    pub hits: Vec<WireHit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireHit {
    #[serde(flatten)]
    pub hit: crate::lookup::Hit,
    pub label: String,
    pub highlight: Vec<usize>,
}

impl From<crate::lookup::Group> for WireGroup {
    fn from(g: crate::lookup::Group) -> Self {
        WireGroup {
            subject: g.subject,
            flags: g.flags,
            hits: g
                .hits
                .into_iter()
                .map(|h| WireHit {
                    label: h.label.clone(),
                    highlight: h.highlight.clone(),
                    hit: h,
                })
                .collect(),
        }
    }
}

impl From<WireGroup> for crate::lookup::Group {
    fn from(g: WireGroup) -> Self {
        crate::lookup::Group {
            subject: g.subject,
            flags: g.flags,
            hits: g
                .hits
                .into_iter()
                .map(|w| {
                    let mut h = w.hit;
                    h.label = w.label;
                    h.highlight = w.highlight;
                    h
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The rules refused the step (as exit code 3).
    Refused,
    /// The case changed since the client loaded it.
    Conflict,
    NotFound,
    /// Bad frame, bad JSON, wrong protocol.
    Protocol,
    Failed,
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the other side closed the connection")]
    Closed,
    #[error("a frame of {0} bytes is larger than the {MAX_FRAME}-byte limit")]
    TooLarge(usize),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a valid message: {0}")]
    Json(#[from] serde_json::Error),
}

pub fn write_frame(w: &mut impl Write, msg: &impl Serialize) -> Result<(), FrameError> {
    let body = serde_json::to_vec(msg)?;
    if body.len() > MAX_FRAME {
        return Err(FrameError::TooLarge(body.len()));
    }
    w.write_all(&(body.len() as u32).to_be_bytes())?;
    w.write_all(&body)?;
    w.flush()?;
    Ok(())
}

/// Reads one frame's bytes; an oversized length is refused before reading it.
pub fn read_frame_bytes(r: &mut impl Read) -> Result<Vec<u8>, FrameError> {
    let mut len = [0u8; 4];
    if let Err(e) = r.read_exact(&mut len) {
        return Err(if e.kind() == std::io::ErrorKind::UnexpectedEof {
            FrameError::Closed
        } else {
            FrameError::Io(e)
        });
    }
    let n = u32::from_be_bytes(len) as usize;
    if n > MAX_FRAME {
        return Err(FrameError::TooLarge(n));
    }
    let mut body = vec![0u8; n];
    r.read_exact(&mut body).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            FrameError::Closed
        } else {
            FrameError::Io(e)
        }
    })?;
    Ok(body)
}

pub fn read_frame<T: serde::de::DeserializeOwned>(r: &mut impl Read) -> Result<T, FrameError> {
    Ok(serde_json::from_slice(&read_frame_bytes(r)?)?)
}

/// The team service named by `RIGHTSDESK_SOCKET`, if any.
pub fn configured_socket() -> Option<std::path::PathBuf> {
    std::env::var_os("RIGHTSDESK_SOCKET")
        .filter(|s| !s.is_empty())
        .map(Into::into)
}

/// How a command reaches the data: through the running service, or by
/// opening the store in the data directory itself.
pub enum Door {
    Service(std::path::PathBuf),
    Store,
}

/// A team socket that was configured but does not answer. Never a quiet
/// fall-back to a private store: a case opened there would take a number
/// the team store already used, and nobody else would ever see it.
#[derive(Debug, thiserror::Error)]
pub enum Unreachable {
    #[error("cannot reach the team service at {socket} ({why}): {source}; nothing was done (start `rightsdesk serve` there, or {escape})")]
    Socket {
        socket: String,
        why: &'static str,
        escape: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    SystemConfig(String),
}

/// Which service a command should use, and what happens when it does not
/// answer:
/// - `RIGHTSDESK_SOCKET` set: that service; not answering is an error.
/// - else the machine's `/etc/rightsdesk/rightsdesk.toml` names the team's
///   socket: that service; not answering is an error too, except for the
///   service's own data directory (its user's maintenance, service stopped).
/// - else the data directory's own socket when a service answers there,
///   otherwise the store itself (the single-officer default).
pub fn door(data_dir: &std::path::Path) -> Result<Door, Unreachable> {
    // The service where one answers, else the store itself.
    let service_or_store = |s: std::path::PathBuf| match std::os::unix::net::UnixStream::connect(&s)
    {
        Ok(_) => Door::Service(s),
        Err(_) => Door::Store,
    };
    let system = system::load().map_err(Unreachable::SystemConfig)?;
    let (socket, why, escape) = match (configured_socket(), system.as_ref()) {
        (Some(s), _) => (
            s,
            "RIGHTSDESK_SOCKET",
            format!(
                "unset RIGHTSDESK_SOCKET to work on the private store in {}",
                data_dir.display()
            ),
        ),
        (
            None,
            Some(
                sys @ system::SystemConfig {
                    socket: Some(s), ..
                },
            ),
        ) => {
            let s = s.clone();
            if system::is_service_dir(sys, data_dir) {
                // The team store itself: its user works on it directly
                // while the service is stopped.
                return Ok(service_or_store(s));
            }
            (
                s,
                "named by the machine's rightsdesk.toml",
                "ask the administrator; this machine's desks work on the team's store".to_string(),
            )
        }
        _ => return Ok(service_or_store(data_dir.join("rightsdesk.sock"))),
    };
    match std::os::unix::net::UnixStream::connect(&socket) {
        Ok(_) => Ok(Door::Service(socket)),
        Err(source) => Err(Unreachable::Socket {
            socket: socket.display().to_string(),
            why,
            escape,
            source,
        }),
    }
}

/// Where the service listens: `RIGHTSDESK_SOCKET`, else the machine's
/// configured socket, else the data directory.
pub fn socket_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    configured_socket()
        .or_else(|| system::load().ok().flatten().and_then(|s| s.socket))
        .unwrap_or_else(|| data_dir.join("rightsdesk.sock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_oversized_ones_are_refused_unread() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &Request::Cases { after: None }).unwrap();
        let back: Request = read_frame(&mut buf.as_slice()).unwrap();
        assert!(matches!(back, Request::Cases { after: None }));
        let huge = ((MAX_FRAME + 1) as u32).to_be_bytes();
        assert!(matches!(
            read_frame_bytes(&mut huge.as_slice()),
            Err(FrameError::TooLarge(_))
        ));
        assert!(matches!(
            read_frame_bytes(&mut [0u8, 0].as_slice()),
            Err(FrameError::Closed)
        ));
        let mut bad = 3u32.to_be_bytes().to_vec();
        bad.extend(b"{{{");
        assert!(matches!(
            read_frame::<Request>(&mut bad.as_slice()),
            Err(FrameError::Json(_))
        ));
    }

    #[test]
    fn a_step_travels_whole() {
        let step = Step::Close(crate::domain::closure::Closing::new(
            crate::domain::Outcome::Withdrawn,
            "asked to stop",
        ));
        let req = Request::Step {
            id: CaseId::new(2026, 7),
            step: step.clone(),
            on: None,
            expected_version: Some(3),
        };
        let mut buf = Vec::new();
        write_frame(&mut buf, &req).unwrap();
        let Request::Step {
            step: back,
            expected_version,
            ..
        } = read_frame(&mut buf.as_slice()).unwrap()
        else {
            panic!()
        };
        assert_eq!((back, expected_version), (step, Some(3)));
    }
}
