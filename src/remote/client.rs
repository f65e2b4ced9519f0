//! The client side of the team service: connect, say hello, call.

use super::{read_frame, read_message, write_frame, ErrorKind, FrameError, Request, Response};
use crate::service::ops::Call;
use crate::service::DeskError;
use std::os::unix::net::UnixStream;
use std::path::Path;

/// Largest answer a client takes (a backup snapshot is the largest).
pub const MAX_ANSWER: usize = 2 << 30;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the rightsdesk service at {path}: {source}")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Frame(#[from] FrameError),
    /// The request could not be written: the service never saw it (it
    /// closed an idle connection, or went away), so it is safe to send again.
    #[error("{0}")]
    NotSent(FrameError),
    #[error("{message}")]
    Service { kind: ErrorKind, message: String },
    #[error("the service answered something unexpected")]
    Unexpected,
}

/// At the boundary with the operations: the service's own refusal keeps its
/// kind; a connection that failed is `Unreachable`.
impl From<ClientError> for DeskError {
    fn from(e: ClientError) -> Self {
        let kind = match &e {
            ClientError::Service { kind, .. } => *kind,
            ClientError::Connect { .. } | ClientError::NotSent(_) => ErrorKind::Unreachable,
            ClientError::Frame(FrameError::Closed | FrameError::Io(_)) => ErrorKind::Unreachable,
            ClientError::Frame(_) | ClientError::Unexpected => ErrorKind::Protocol,
        };
        DeskError::Remote {
            kind,
            message: e.to_string(),
        }
    }
}

pub struct Client {
    stream: UnixStream,
    /// Who the service says we are (from the kernel, not from us).
    pub actor: String,
}

impl Client {
    pub fn connect(socket: &Path) -> Result<Client, ClientError> {
        let mut stream = UnixStream::connect(socket).map_err(|source| ClientError::Connect {
            path: socket.display().to_string(),
            source,
        })?;
        write_frame(
            &mut stream,
            &Request::Hello {
                protocol: super::PROTOCOL,
            },
        )?;
        match read_frame(&mut stream)? {
            Response::Hello { actor, .. } => Ok(Client { stream, actor }),
            Response::Error { kind, message } => Err(ClientError::Service { kind, message }),
            _ => Err(ClientError::Unexpected),
        }
    }

    /// One call, one answer; a service error becomes `ClientError::Service`.
    pub fn call(&mut self, call: Call) -> Result<serde_json::Value, ClientError> {
        if let Err(e) = write_frame(&mut self.stream, &Request::Call { call }) {
            // The service may have refused the request part-way (too large)
            // and said why before it closed: that reason, not a broken pipe.
            let _ = self
                .stream
                .set_read_timeout(Some(std::time::Duration::from_secs(5)));
            if let Ok(Response::Error { kind, message }) = read_frame(&mut self.stream) {
                return Err(ClientError::Service { kind, message });
            }
            return Err(ClientError::NotSent(e));
        }
        match read_message(&mut self.stream, MAX_ANSWER)? {
            Response::Answer { value } => Ok(value),
            Response::Error { kind, message } => Err(ClientError::Service { kind, message }),
            _ => Err(ClientError::Unexpected),
        }
    }

    /// Turns this connection into a feed of pushes; returns once the
    /// service listed it, so no change made after this is missed.
    pub fn subscribe(mut self) -> Result<Subscription, ClientError> {
        write_frame(&mut self.stream, &Request::Subscribe)?;
        match read_frame(&mut self.stream)? {
            Response::Answer { .. } => Ok(Subscription {
                stream: self.stream,
            }),
            Response::Error { kind, message } => Err(ClientError::Service { kind, message }),
            _ => Err(ClientError::Unexpected),
        }
    }
}

pub struct Subscription {
    stream: UnixStream,
}

impl Subscription {
    /// The next push, or an error when the service is gone.
    pub fn next_change(&mut self) -> Result<Response, ClientError> {
        Ok(read_frame(&mut self.stream)?)
    }

    pub fn set_timeout(&self, t: Option<std::time::Duration>) {
        let _ = self.stream.set_read_timeout(t);
    }
}
