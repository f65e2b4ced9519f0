//! The lookup worker: answers queries off the input thread through the
//! desk's one handle (the store's index, or the service's; the worker does
//! not know which). Stale queries are dropped: only the newest waiting one
//! is run. An error reaches the officer: it is never shown as "no match".

use crate::lookup::{Group, SubjectView};
use crate::remote::backend::Backend;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub enum LookupRequest {
    Query {
        gen: u64,
        text: String,
    },
    Subject {
        id: String,
    },
    /// Read the index's size again (after an import or a split), and say
    /// `Loaded` once it is built.
    Refresh,
}

#[derive(Debug, Clone)]
pub enum LookupEvent {
    Loading,
    Loaded {
        records: usize,
        subjects: usize,
        millis: u128,
    },
    Results {
        gen: u64,
        groups: Vec<Group>,
        micros: u128,
    },
    Subject(Option<SubjectView>),
    /// The lookup cannot answer (the index cannot be built, or the service
    /// is gone): why, in words for the officer.
    Failed(String),
}

/// Starts the worker; it sends its events through `emit` and stops when
/// `emit` says nobody listens.
pub fn spawn(
    desk: Backend,
    emit: impl Fn(LookupEvent) -> bool + Send + 'static,
) -> Sender<LookupRequest> {
    let (tx, rx) = mpsc::channel::<LookupRequest>();
    let _ = std::thread::Builder::new()
        .name("lookup".into())
        .spawn(move || run(desk, rx, emit));
    tx
}

/// Waits until the index is there (its first build starts on the first
/// ask), saying `Loading`, then `Loaded` — or `Failed` with the reason, and
/// tries again a second later (a service restarting comes back).
fn load(desk: &Backend, emit: &dyn Fn(LookupEvent) -> bool) -> bool {
    if !emit(LookupEvent::Loading) {
        return false;
    }
    let t = Instant::now();
    loop {
        match desk.wait_for_index() {
            Ok(s) => {
                return emit(LookupEvent::Loaded {
                    records: s.records,
                    subjects: s.subjects,
                    millis: t.elapsed().as_millis(),
                })
            }
            Err(e) => {
                desk.reconnect();
                if !emit(LookupEvent::Failed(e.to_string())) {
                    return false;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

fn run(desk: Backend, rx: Receiver<LookupRequest>, emit: impl Fn(LookupEvent) -> bool) {
    if !load(&desk, &emit) {
        return;
    }
    while let Ok(first) = rx.recv() {
        // Drain what queued up while we were busy; keep only the newest query.
        let mut pending = vec![first];
        pending.extend(rx.try_iter());
        let newest_query = pending
            .iter()
            .rposition(|r| matches!(r, LookupRequest::Query { .. }));
        for (i, req) in pending.into_iter().enumerate() {
            let ok = match req {
                LookupRequest::Query { gen, text } => {
                    if Some(i) != newest_query {
                        continue;
                    }
                    let t = Instant::now();
                    match desk.lookup(text, 50) {
                        Ok(found) => emit(LookupEvent::Results {
                            gen,
                            groups: found.groups.into_iter().map(Into::into).collect(),
                            micros: t.elapsed().as_micros(),
                        }),
                        Err(e) => {
                            desk.reconnect();
                            emit(LookupEvent::Failed(e.to_string()))
                        }
                    }
                }
                LookupRequest::Subject { id } => match desk.subject(id) {
                    Ok(view) => emit(LookupEvent::Subject(view)),
                    Err(e) => emit(LookupEvent::Failed(e.to_string())),
                },
                LookupRequest::Refresh => load(&desk, &emit),
            };
            if !ok {
                return;
            }
        }
    }
}
