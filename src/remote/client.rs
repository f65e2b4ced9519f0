//! The client side of the shared service: connect, say hello, ask.

use super::{read_frame, write_frame, ErrorKind, FrameError, Request, Response, PROTOCOL};
use std::os::unix::net::UnixStream;
use std::path::Path;

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
        write_frame(&mut stream, &Request::Hello { protocol: PROTOCOL })?;
        match read_frame(&mut stream)? {
            Response::Hello { actor, .. } => Ok(Client { stream, actor }),
            Response::Error { kind, message } => Err(ClientError::Service { kind, message }),
            _ => Err(ClientError::Unexpected),
        }
    }

    /// One request, one answer; a service error becomes `ClientError::Service`.
    pub fn call(&mut self, request: &Request) -> Result<Response, ClientError> {
        write_frame(&mut self.stream, request).map_err(ClientError::NotSent)?;
        match read_frame(&mut self.stream)? {
            Response::Error { kind, message } => Err(ClientError::Service { kind, message }),
            r => Ok(r),
        }
    }

    /// Turns this connection into a feed of `Changed` pushes.
    pub fn subscribe(mut self) -> Result<Subscription, ClientError> {
        write_frame(&mut self.stream, &Request::Subscribe)?;
        Ok(Subscription {
            stream: self.stream,
        })
    }
}

pub struct Subscription {
    stream: UnixStream,
}

impl Subscription {
    /// The next change, or an error when the service is gone.
    pub fn next_change(&mut self) -> Result<Response, ClientError> {
        Ok(read_frame(&mut self.stream)?)
    }

    pub fn set_timeout(&self, t: Option<std::time::Duration>) {
        let _ = self.stream.set_read_timeout(t);
    }
}
