//! The lookup worker: loads the index and answers queries off the input
//! thread. Stale queries are dropped: only the newest waiting one is run.

use crate::lookup::{matcher, FlagSets, Group, Index, SubjectView};
use crate::remote::backend::RecordSource;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Instant;

#[derive(Debug, Clone)]
pub enum LookupRequest {
    Query {
        gen: u64,
        text: String,
    },
    Subject {
        id: String,
    },
    /// Rebuild the index (after a split, or with new flags from cases).
    Reload {
        flags: Box<FlagSets>,
    },
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
}

/// Starts the worker; it sends its events through `emit`.
pub fn spawn(
    reader: Box<dyn RecordSource>,
    flags: FlagSets,
    cc: String,
    emit: impl Fn(LookupEvent) -> bool + Send + 'static,
) -> Sender<LookupRequest> {
    let (tx, rx) = mpsc::channel::<LookupRequest>();
    let _ = std::thread::Builder::new()
        .name("lookup".into())
        .spawn(move || run(reader, flags, cc, rx, emit));
    tx
}

fn build(
    reader: &dyn RecordSource,
    flags: &FlagSets,
    cc: &str,
    emit: &impl Fn(LookupEvent) -> bool,
) -> Index {
    emit(LookupEvent::Loading);
    let t = Instant::now();
    let (records, _) = reader.load();
    let index = Index::build(records, &reader.splits(), flags, cc);
    emit(LookupEvent::Loaded {
        records: index.len(),
        subjects: index.subjects(),
        millis: t.elapsed().as_millis(),
    });
    index
}

fn run(
    reader: Box<dyn RecordSource>,
    flags: FlagSets,
    cc: String,
    rx: Receiver<LookupRequest>,
    emit: impl Fn(LookupEvent) -> bool,
) {
    // One matcher per thread (fuzzy-matcher's cache is not shared).
    let m = matcher();
    let mut index = build(reader.as_ref(), &flags, &cc, &emit);
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
                    let groups = index.lookup(&m, &text, 50);
                    emit(LookupEvent::Results {
                        gen,
                        groups,
                        micros: t.elapsed().as_micros(),
                    })
                }
                LookupRequest::Subject { id } => emit(LookupEvent::Subject(index.subject(&id))),
                LookupRequest::Reload { flags } => {
                    index = build(reader.as_ref(), &flags, &cc, &emit);
                    true
                }
            };
            if !ok {
                return;
            }
        }
    }
}
