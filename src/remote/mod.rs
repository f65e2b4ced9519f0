//! Several staff at once: `rightsdesk serve` owns the store and answers over
//! a Unix socket; the command line (and later the desk) talk to it.
//!
//! The transport is thin: each frame is a 4-byte big-endian length and a JSON
//! document (at most `MAX_FRAME` bytes); the first frame each way is a
//! handshake naming the protocol version. The actor is the user the kernel
//! reports for the socket's peer (SO_PEERCRED), never anything the client says.

pub mod backend;
pub mod client;
pub mod server;
pub mod system;
pub mod team;

use crate::domain::CaseId;
use crate::service::ops::Call;
pub use crate::service::ops::ErrorKind;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// Bumped when requests or responses change incompatibly.
pub const PROTOCOL: u32 = 3;
/// Largest frame either side accepts; a longer message is sent as several
/// frames, each but the last marked `MORE`.
pub const MAX_FRAME: usize = 4 << 20;
const MORE: u32 = 1 << 31;

/// What a client sends: the handshake, a wish to hear of changes, or one
/// operation (`service::ops::Call`, the one definition of every operation).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
// One request is built per call and written out at once: a variant larger
// than another costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
pub enum Request {
    Hello {
        protocol: u32,
    },
    /// This connection then only receives pushes.
    Subscribe,
    Call {
        call: Call,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "kebab-case")]
pub enum Response {
    Hello {
        protocol: u32,
        actor: String,
    },
    /// A call's answer, as the operation's return type encodes it.
    Answer {
        value: serde_json::Value,
    },
    Error {
        kind: ErrorKind,
        message: String,
    },
    /// Pushed to subscribers after a case changed.
    Changed {
        id: CaseId,
        version: u64,
        by: String,
    },
    /// Pushed to subscribers after records or registers changed (an import,
    /// a split, a suppression import, a purge): lookups and queues reload.
    RecordsChanged {
        by: String,
    },
    /// Pushed before maintenance that closes the store for a moment (a
    /// rebuild), and again when it is open (`done`): calls wait meanwhile.
    Maintenance {
        what: String,
        by: String,
        done: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the other side closed the connection")]
    Closed,
    #[error("a message of {0} bytes or more is larger than the {1}-byte limit")]
    TooLarge(usize, usize),
    /// Refused before reading it whole (the service's memory budget).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a valid message: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes one message: one frame, or several when it is longer than
/// `MAX_FRAME` (each but the last with the `MORE` bit in its length).
pub fn write_frame(w: &mut impl Write, msg: &impl Serialize) -> Result<(), FrameError> {
    let body = serde_json::to_vec(msg)?;
    let mut chunks = body.chunks(MAX_FRAME).peekable();
    if chunks.peek().is_none() {
        w.write_all(&0u32.to_be_bytes())?;
    }
    while let Some(chunk) = chunks.next() {
        let more = if chunks.peek().is_some() { MORE } else { 0 };
        w.write_all(&(chunk.len() as u32 | more).to_be_bytes())?;
        w.write_all(chunk)?;
    }
    w.flush()?;
    Ok(())
}

fn closed_or(e: std::io::Error) -> FrameError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        FrameError::Closed
    } else {
        FrameError::Io(e)
    }
}

/// Reads one message's bytes, at most `limit` of them. Bytes are offered to
/// `take` as they arrive, a chunk at a time (a budget may refuse them), so a
/// header that announces a large frame holds nothing until its bytes come.
/// A frame marked `MORE` carries a full `MAX_FRAME`, as `write_frame` sends
/// it: a stream of small or empty continuation frames is refused.
pub fn read_message_bytes(
    r: &mut impl Read,
    limit: usize,
    take: &mut dyn FnMut(usize) -> Result<(), String>,
) -> Result<Vec<u8>, FrameError> {
    const CHUNK: usize = 64 << 10;
    let mut body = Vec::new();
    loop {
        let mut len = [0u8; 4];
        r.read_exact(&mut len).map_err(closed_or)?;
        let word = u32::from_be_bytes(len);
        let n = (word & !MORE) as usize;
        let more = word & MORE != 0;
        if n > MAX_FRAME {
            return Err(FrameError::TooLarge(n, MAX_FRAME));
        }
        if body.len() + n > limit {
            return Err(FrameError::TooLarge(body.len() + n, limit));
        }
        if more && n != MAX_FRAME {
            return Err(FrameError::Refused(format!(
                "a frame marked as continued must carry {MAX_FRAME} bytes, not {n}"
            )));
        }
        let mut left = n;
        while left > 0 {
            let step = left.min(CHUNK);
            take(step).map_err(FrameError::Refused)?;
            let start = body.len();
            body.resize(start + step, 0);
            r.read_exact(&mut body[start..]).map_err(closed_or)?;
            left -= step;
        }
        if !more {
            return Ok(body);
        }
    }
}

/// One frame's worth of message (`MAX_FRAME`), for tests and handshakes.
pub fn read_frame_bytes(r: &mut impl Read) -> Result<Vec<u8>, FrameError> {
    read_message_bytes(r, MAX_FRAME, &mut |_| Ok(()))
}

/// Reads one message of at most `limit` bytes.
pub fn read_message<T: serde::de::DeserializeOwned>(
    r: &mut impl Read,
    limit: usize,
) -> Result<T, FrameError> {
    Ok(serde_json::from_slice(&read_message_bytes(
        r,
        limit,
        &mut |_| Ok(()),
    )?)?)
}

pub fn read_frame<T: serde::de::DeserializeOwned>(r: &mut impl Read) -> Result<T, FrameError> {
    read_message(r, MAX_FRAME)
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
        write_frame(&mut buf, &Request::Subscribe).unwrap();
        let back: Request = read_frame(&mut buf.as_slice()).unwrap();
        assert!(matches!(back, Request::Subscribe));
        let huge = ((MAX_FRAME + 1) as u32).to_be_bytes();
        assert!(matches!(
            read_frame_bytes(&mut huge.as_slice()),
            Err(FrameError::TooLarge(..))
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
    fn a_message_longer_than_a_frame_travels_in_several() {
        let text = "x".repeat(MAX_FRAME * 2 + 10);
        let msg = Response::Answer {
            value: serde_json::Value::String(text.clone()),
        };
        let mut buf = Vec::new();
        write_frame(&mut buf, &msg).unwrap();
        // Three frames: two full ones marked MORE, then the rest.
        let first = u32::from_be_bytes(buf[..4].try_into().unwrap());
        assert_eq!(first, MAX_FRAME as u32 | MORE);
        // One frame's limit refuses it; a larger limit takes it whole.
        assert!(matches!(
            read_frame::<Response>(&mut buf.as_slice()),
            Err(FrameError::TooLarge(..))
        ));
        let Response::Answer { value } = read_message(&mut buf.as_slice(), 3 * MAX_FRAME).unwrap()
        else {
            panic!()
        };
        assert_eq!(value.as_str(), Some(text.as_str()));
        // A budget that says no stops the read where it refuses.
        let mut given = 0;
        let refused = read_message_bytes(&mut buf.as_slice(), 3 * MAX_FRAME, &mut |n| {
            given += n;
            if given > MAX_FRAME {
                Err("over budget".into())
            } else {
                Ok(())
            }
        });
        assert!(matches!(refused, Err(FrameError::Refused(_))));
    }
}
