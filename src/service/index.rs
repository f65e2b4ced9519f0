//! The desk's one lookup index: built on a thread of its own the first time
//! someone looks a person up, then kept current. Every change that moves a
//! flag (a restriction, an objection, an erasure, a suppression) or removes
//! records is applied to the index before the change is acknowledged, so the
//! next lookup — from any desk of the service — shows it. An import lays a
//! delta over the index's file (`follow_delta`; a large one builds the index
//! again) and is acknowledged once its records are found; a split (new
//! links) builds the index again. The index lives in files beside the store
//! (`lookup/generation.rs`): a build opens them when they are of the records
//! as they are, and writes them otherwise.
//!
//! Queries read the current index and what changed since it was built
//! (`lookup::Live`); they never wait for the store's lock.

use super::ops::IndexState;
use super::DeskError;
use crate::lookup::{FlagSets, Index, Live};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::Instant;

#[derive(Default)]
struct Builds {
    started: bool,
    building: bool,
    /// Asked again while building: build once more when this one is done.
    again: bool,
    records: usize,
    subjects: usize,
    millis: u64,
    builds: u64,
    failed: Option<String>,
}

#[derive(Default)]
pub struct LookupIndex {
    current: RwLock<Option<Arc<Index>>>,
    live: RwLock<LiveState>,
    builds: Mutex<Builds>,
    built: Condvar,
    /// The build thread, joined when the store is closed for maintenance
    /// (it holds the store open while it runs).
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// `Live` with the count of changes, so a build knows which ones it saw.
#[derive(Default)]
struct LiveState {
    live: Live,
    /// Bumped by every change applied; a build notes it when it starts.
    changes: u64,
    /// The change count the current flags were set at.
    flags_at: u64,
}

thread_local! {
    // fuzzy-matcher: one matcher per thread (its cache is not shared).
    static MATCHER: fuzzy_matcher::skim::SkimMatcherV2 = crate::lookup::matcher();
}

/// What a build needs from the store: its records, splits and flags now.
pub trait Source: Send + 'static {
    fn build(&self) -> Result<(Index, FlagSets), DeskError>;
}

impl LookupIndex {
    /// Starts the first build, if none has started.
    pub fn start(self: &Arc<Self>, source: impl Source) {
        let first = {
            let mut b = self.builds.lock().unwrap_or_else(|p| p.into_inner());
            !std::mem::replace(&mut b.started, true)
        };
        if first {
            self.rebuild(source);
        }
    }

    /// Whether anyone has asked for the index yet (before that, changes need
    /// not be applied: the first build reads them from the store).
    pub fn started(&self) -> bool {
        self.builds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .started
    }

    /// Builds again on a thread (once started); asks made while a build runs
    /// are folded into one more build after it.
    pub fn rebuild(self: &Arc<Self>, source: impl Source) {
        {
            let mut b = self.builds.lock().unwrap_or_else(|p| p.into_inner());
            if !b.started {
                return;
            }
            if b.building {
                b.again = true;
                return;
            }
            b.building = true;
        }
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("index".into())
            .spawn(move || loop {
                let seen = me.live.read().unwrap_or_else(|p| p.into_inner()).changes;
                let t = Instant::now();
                let built = source.build();
                let mut b = me.builds.lock().unwrap_or_else(|p| p.into_inner());
                match built {
                    Ok((index, flags)) => {
                        b.records = index.len();
                        b.subjects = index.subjects();
                        b.millis = t.elapsed().as_millis() as u64;
                        b.builds += 1;
                        b.failed = None;
                        me.install(index, flags, seen);
                    }
                    Err(e) => {
                        // The index in place is of records as they were
                        // (an import or erasure it has not taken in): it
                        // answers no more, and lookups say why instead.
                        b.failed = Some(e.to_string());
                        *me.current.write().unwrap_or_else(|p| p.into_inner()) = None;
                    }
                }
                if std::mem::take(&mut b.again) {
                    continue;
                }
                b.building = false;
                me.built.notify_all();
                return;
            });
        match spawned {
            Ok(handle) => {
                let old = self
                    .thread
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .replace(handle);
                // A finished build's thread, replaced: reap it.
                if let Some(old) = old {
                    let _ = old.join();
                }
            }
            Err(e) => {
                let mut b = self.builds.lock().unwrap_or_else(|p| p.into_inner());
                b.building = false;
                b.failed = Some(format!("cannot start the index's thread: {e}"));
                self.built.notify_all();
            }
        }
    }

    /// Waits until no build thread holds the store: it has finished and
    /// let go of everything it held.
    pub fn join(&self) {
        self.wait_built();
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    /// Puts a finished build in place. Changes applied after it started are
    /// kept on top of it; those it read from the store are dropped.
    fn install(&self, index: Index, flags: FlagSets, seen: u64) {
        let mut l = self.live.write().unwrap_or_else(|p| p.into_inner());
        l.live.removed.retain(|_, at| *at > seen);
        if l.flags_at <= seen {
            l.live.flags = Some(Arc::new(flags));
            l.flags_at = seen;
        }
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(index));
    }

    /// Puts in place an index made from the current one by `make` (an
    /// import's delta), while no build runs; `false` if a build is running,
    /// none is in place, or `make` gave none (the caller builds instead).
    /// Records removed and flags changed stay applied on top: the delta
    /// lies on the same whole file, which still holds removed records.
    pub fn follow_delta(&self, make: impl FnOnce(&Index) -> Option<Index>) -> bool {
        let mut b = self.builds.lock().unwrap_or_else(|p| p.into_inner());
        if b.building {
            return false;
        }
        let Some(current) = self.current() else {
            return false;
        };
        let Some(index) = make(&current) else {
            return false;
        };
        b.records = index.len();
        b.subjects = index.subjects();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(index));
        drop(b);
        true
    }

    /// Waits until no build is running (the import's caller waits for its
    /// records to be found).
    pub fn wait_built(&self) {
        let mut b = self.builds.lock().unwrap_or_else(|p| p.into_inner());
        while b.building {
            b = self.built.wait(b).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The flags as they are now (after a change to cases or registers).
    pub fn set_flags(&self, flags: FlagSets) {
        let mut l = self.live.write().unwrap_or_else(|p| p.into_inner());
        l.changes += 1;
        l.flags_at = l.changes;
        l.live.flags = Some(Arc::new(flags));
    }

    /// Records removed from the store (a granted erasure).
    pub fn remove(&self, keys: &[Vec<u8>]) {
        let mut l = self.live.write().unwrap_or_else(|p| p.into_inner());
        l.changes += 1;
        let at = l.changes;
        l.live.removed.extend(keys.iter().map(|k| (k.clone(), at)));
    }

    fn current(&self) -> Option<Arc<Index>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn state(&self) -> IndexState {
        let ready = self.current().is_some();
        let b = self.builds.lock().unwrap_or_else(|p| p.into_inner());
        IndexState {
            building: b.building,
            ready,
            builds: b.builds,
            records: b.records,
            subjects: b.subjects,
            millis: b.millis,
            failed: b.failed.clone(),
        }
    }

    /// The best `limit` subjects for a query; none while no index is built.
    pub fn lookup(&self, query: &str, limit: usize) -> Vec<crate::lookup::Group> {
        let Some(index) = self.current() else {
            return Vec::new();
        };
        let l = self.live.read().unwrap_or_else(|p| p.into_inner());
        MATCHER.with(|m| index.lookup_live(m, query, limit, &l.live))
    }

    /// The identifier keys of everyone the lookup shows DO NOT MARKET
    /// (none before the first build: the caller waits for it).
    pub fn do_not_market_ids(&self) -> Vec<String> {
        let Some(index) = self.current() else {
            return Vec::new();
        };
        let l = self.live.read().unwrap_or_else(|p| p.into_inner());
        index.do_not_market_ids(&l.live)
    }

    pub fn subject(&self, id: &str) -> Option<crate::lookup::SubjectView> {
        let index = self.current()?;
        let l = self.live.read().unwrap_or_else(|p| p.into_inner());
        index.subject_live(id, &l.live)
    }
}
