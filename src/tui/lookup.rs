//! The lookup worker: loads the index and answers queries off the input
//! thread. Stale queries are dropped: only the newest waiting one is run.

use crate::lookup::{matcher, FlagSets, Group, Index, SubjectView};
use crate::store::RecordReader;
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

/// Where a worker finds people: its own index, or the service's.
trait Finder {
    fn query(&mut self, text: &str) -> Vec<Group>;
    fn subject(&mut self, id: &str) -> Option<SubjectView>;
    /// Builds again (with these flags, for an index of its own); says
    /// `Loading` and then `Loaded` through `emit`.
    fn reload(&mut self, flags: &FlagSets, emit: &dyn Fn(LookupEvent) -> bool);
    /// The first load, when the worker starts.
    fn load(&mut self, flags: &FlagSets, emit: &dyn Fn(LookupEvent) -> bool) {
        self.reload(flags, emit)
    }
}

/// The index in this process, built from a record source.
struct OwnIndex {
    reader: RecordReader,
    cc: String,
    index: Option<Index>,
    // One matcher per thread (fuzzy-matcher's cache is not shared).
    matcher: fuzzy_matcher::skim::SkimMatcherV2,
}

impl Finder for OwnIndex {
    fn query(&mut self, text: &str) -> Vec<Group> {
        match &self.index {
            Some(index) => index.lookup(&self.matcher, text, 50),
            None => Vec::new(),
        }
    }
    fn subject(&mut self, id: &str) -> Option<SubjectView> {
        self.index.as_ref().and_then(|i| i.subject(id))
    }
    fn reload(&mut self, flags: &FlagSets, emit: &dyn Fn(LookupEvent) -> bool) {
        emit(LookupEvent::Loading);
        let t = Instant::now();
        self.index = None; // the old one goes before the new one is built
        let (records, _) = self.reader.load();
        let index = Index::build(records, &self.reader.splits(), flags, &self.cc);
        emit(LookupEvent::Loaded {
            records: index.len(),
            subjects: index.subjects(),
            millis: t.elapsed().as_millis(),
        });
        self.index = Some(index);
    }
}

/// The service's index: one for every desk, queried over the socket.
struct ServiceIndex {
    link: crate::remote::backend::Link,
}

impl Finder for ServiceIndex {
    fn query(&mut self, text: &str) -> Vec<Group> {
        self.link.lookup(text, 50).unwrap_or_default()
    }
    fn subject(&mut self, id: &str) -> Option<SubjectView> {
        self.link.subject(id).ok().flatten()
    }
    fn reload(&mut self, _flags: &FlagSets, emit: &dyn Fn(LookupEvent) -> bool) {
        // The service builds from its own cases and registers; a build it is
        // already running (after an import) is waited for, not doubled.
        if !self.link.index_state().is_ok_and(|s| s.building) {
            let _ = self.link.reload_index();
        }
        self.wait(true, emit)
    }

    /// A desk starting: the service's index is used as it is (built when
    /// the service started), never rebuilt for it.
    fn load(&mut self, _flags: &FlagSets, emit: &dyn Fn(LookupEvent) -> bool) {
        self.wait(false, emit)
    }
}

impl ServiceIndex {
    /// Waits until the service has an index (and, with `built`, until the
    /// build in progress is done), then says `Loaded`.
    fn wait(&mut self, built: bool, emit: &dyn Fn(LookupEvent) -> bool) {
        emit(LookupEvent::Loading);
        let t = Instant::now();
        loop {
            match self.link.index_state() {
                Ok(s) if s.ready && !(built && s.building) => {
                    emit(LookupEvent::Loaded {
                        records: s.records,
                        subjects: s.subjects,
                        millis: t.elapsed().as_millis(),
                    });
                    return;
                }
                Ok(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
                // The service is gone: the desk says so; try again later.
                Err(_) => std::thread::sleep(std::time::Duration::from_secs(1)),
            }
        }
    }
}

/// Starts the worker on an index of its own; it sends its events through `emit`.
pub fn spawn(
    reader: RecordReader,
    flags: FlagSets,
    cc: String,
    emit: impl Fn(LookupEvent) -> bool + Send + 'static,
) -> Sender<LookupRequest> {
    let finder = OwnIndex {
        reader,
        cc,
        index: None,
        matcher: matcher(),
    };
    start(finder, flags, emit)
}

/// Starts the worker on the service's index.
pub fn spawn_shared(
    link: crate::remote::backend::Link,
    emit: impl Fn(LookupEvent) -> bool + Send + 'static,
) -> Sender<LookupRequest> {
    start(ServiceIndex { link }, FlagSets::default(), emit)
}

fn start(
    finder: impl Finder + Send + 'static,
    flags: FlagSets,
    emit: impl Fn(LookupEvent) -> bool + Send + 'static,
) -> Sender<LookupRequest> {
    let (tx, rx) = mpsc::channel::<LookupRequest>();
    let _ = std::thread::Builder::new()
        .name("lookup".into())
        .spawn(move || run(finder, flags, rx, emit));
    tx
}

fn run(
    mut finder: impl Finder,
    flags: FlagSets,
    rx: Receiver<LookupRequest>,
    emit: impl Fn(LookupEvent) -> bool,
) {
    finder.load(&flags, &emit);
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
                    let groups = finder.query(&text);
                    emit(LookupEvent::Results {
                        gen,
                        groups,
                        micros: t.elapsed().as_micros(),
                    })
                }
                LookupRequest::Subject { id } => emit(LookupEvent::Subject(finder.subject(&id))),
                LookupRequest::Reload { flags } => {
                    finder.reload(&flags, &emit);
                    true
                }
            };
            if !ok {
                return;
            }
        }
    }
}
