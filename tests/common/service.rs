//! `rightsdesk serve` on a temporary socket, in a thread of the test.

use rightsdesk::remote::backend::{Backend, Link};
use rightsdesk::remote::client::Client;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct Service {
    pub dir: tempfile::TempDir,
    pub socket: std::path::PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Service {
    /// A service on an empty store.
    pub fn start() -> Service {
        Service::start_with(false)
    }

    /// A service on a store holding the demo's cases.
    pub fn start_with(demo_cases: bool) -> Service {
        Service::start_after(|desk| {
            if demo_cases {
                rightsdesk::service::demo::seed(desk, super::today()).unwrap();
                *desk = super::desk_again(desk.clone());
            }
        })
    }

    /// A service on a store `setup` filled first.
    pub fn start_after(setup: impl FnOnce(&mut rightsdesk::service::Desk)) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("rightsdesk.sock");
        let mut desk = super::desk(dir.path());
        setup(&mut desk);
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (socket.clone(), stop.clone());
        let thread = std::thread::spawn(move || rightsdesk::remote::server::serve(desk, &s, st));
        // The file appears at bind, before the listen: wait for a connection.
        for _ in 0..500 {
            if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Service {
            dir,
            socket,
            stop,
            thread: Some(thread),
        }
    }

    /// A desk's handle on the service: the operations, typed.
    pub fn client(&self) -> Backend {
        Link::connect(&self.socket, &self.dir.path().join("home"))
            .unwrap()
            .into()
    }

    /// The bare protocol, for tests that speak it wrongly on purpose.
    #[allow(dead_code)]
    pub fn raw(&self) -> Client {
        Client::connect(&self.socket).unwrap()
    }
}

impl Service {
    /// Stops the service (it flushes and lets go of the store), keeping its
    /// data directory to look at.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}
