//! The team service's figures. Run: `cargo bench --bench service`.
//!
//! - one step (a note) through the socket, and the same in process;
//! - one lookup through the socket over 10,000 records;
//! - the lag from a step being asked to its push reaching a listening desk.
//!
//! The service runs in this process on a temporary socket, as the tests run
//! it; the client is the one every desk and command uses (`Backend`).

use criterion::{criterion_group, criterion_main, Criterion};
use rightsdesk::domain::{Channel, NewCase, Requester, Right, Step, Subject};
use rightsdesk::remote::backend::{Backend, Link};
use rightsdesk::service::Desk;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn new_case(name: &str) -> NewCase {
    NewCase {
        rights: vec![Right::Access],
        channel: Channel::Email,
        received: chrono::Local::now().date_naive(),
        requester: Requester::subject(),
        child: false,
        subject: Subject {
            name: name.into(),
            emails: vec!["bench@example.ie".into()],
            phones: vec![],
        },
        records: vec![],
        message: None,
    }
}

struct Running {
    _dir: tempfile::TempDir,
    socket: std::path::PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    fn start(records: usize) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let desk = Desk::open(dir.path()).unwrap();
        if records > 0 {
            let csv = dir.path().join("contacts.csv");
            let mut w = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
            rightsdesk::service::synth::write_hubspot(&mut w, records, 7).unwrap();
            drop(w);
            desk.import("web-forms", &csv, &Default::default(), &mut |_, _| {})
                .unwrap();
        }
        let socket = dir.path().join("bench.sock");
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (socket.clone(), stop.clone());
        let thread = std::thread::spawn(move || rightsdesk::remote::server::serve(desk, &s, st));
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            std::thread::sleep(Duration::from_millis(5));
        }
        Running {
            _dir: dir,
            socket,
            stop,
            thread: Some(thread),
        }
    }

    fn client(&self) -> Backend {
        Link::connect(&self.socket, &self.socket).unwrap().into()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn steps(c: &mut Criterion) {
    let svc = Running::start(0);
    let client = svc.client();
    let case = client.open_case(new_case("Through The Socket")).unwrap();
    c.bench_function("note through the socket", |b| {
        b.iter(|| {
            client
                .take_step(case.id, Step::Note { text: "n".into() }, None, None)
                .unwrap()
        })
    });
    let here = tempfile::tempdir().unwrap();
    let desk = Desk::open(here.path()).unwrap();
    let local = desk.open_case(new_case("In Process")).unwrap();
    c.bench_function("note in process", |b| {
        b.iter(|| {
            desk.step(local.id, Step::Note { text: "n".into() }, None)
                .unwrap()
        })
    });
    // A desk listening: the push of each note, timed from the ask.
    let mut feed = svc.client().subscribe().unwrap().expect("a feed");
    c.bench_function("note and its push to a listening desk", |b| {
        b.iter(|| {
            client
                .take_step(case.id, Step::Note { text: "p".into() }, None, None)
                .unwrap();
            feed.next_change().unwrap()
        })
    });
}

fn lookups(c: &mut Criterion) {
    let svc = Running::start(10_000);
    let client = svc.client();
    client.wait_for_index().unwrap();
    let queries = [
        "muller",
        "anna k",
        "example.com",
        "0871",
        "garcía",
        "smith j",
    ];
    let mut i = 0;
    c.bench_function("lookup through the socket, 10,000 records", |b| {
        b.iter(|| {
            i += 1;
            client
                .lookup(queries[i % queries.len()].into(), 20)
                .unwrap()
        })
    });
}

criterion_group! {
    name = service;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = steps, lookups
}
criterion_main!(service);
