//! The service's one lookup index, shared by every desk: built on a thread of
//! its own when the service starts and again when asked (an import, a split,
//! changed flags); queries read the current one meanwhile, and never wait
//! for the lock that changes take.

use super::{Response, WireGroup};
use crate::lookup::Index;
use crate::service::Desk;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

#[derive(Default)]
struct BuildState {
    building: bool,
    /// Asked again while building: build once more when this one is done.
    again: bool,
    records: usize,
    subjects: usize,
    millis: u64,
    builds: u64,
}

#[derive(Default)]
pub struct SharedIndex {
    current: RwLock<Option<Arc<Index>>>,
    state: Mutex<BuildState>,
}

thread_local! {
    // fuzzy-matcher: one matcher per thread (its cache is not shared).
    static MATCHER: fuzzy_matcher::skim::SkimMatcherV2 = crate::lookup::matcher();
}

impl SharedIndex {
    /// Builds (again) on a thread; requests while a build runs are folded
    /// into one more build after it.
    pub fn rebuild(self: &Arc<Self>, desk: Desk) {
        {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if st.building {
                st.again = true;
                return;
            }
            st.building = true;
        }
        let me = self.clone();
        let _ = std::thread::Builder::new()
            .name("index".into())
            .spawn(move || loop {
                let t = Instant::now();
                let built = desk.load_index().ok();
                let mut st = me.state.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(index) = built {
                    st.records = index.len();
                    st.subjects = index.subjects();
                    st.millis = t.elapsed().as_millis() as u64;
                    st.builds += 1;
                    *me.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(index));
                }
                if st.again {
                    st.again = false;
                    continue;
                }
                st.building = false;
                return;
            });
    }

    fn current(&self) -> Option<Arc<Index>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn state(&self) -> Response {
        let ready = self.current().is_some();
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Response::IndexState {
            building: st.building,
            ready,
            builds: st.builds,
            records: st.records,
            subjects: st.subjects,
            millis: st.millis,
        }
    }

    pub fn lookup(&self, query: &str, limit: usize) -> Response {
        let t = Instant::now();
        let groups = match self.current() {
            Some(index) => MATCHER.with(|m| index.lookup(m, query, limit.min(200))),
            None => Vec::new(),
        };
        Response::Lookup {
            groups: groups.into_iter().map(WireGroup::from).collect(),
            micros: t.elapsed().as_micros() as u64,
        }
    }

    pub fn subject(&self, id: &str) -> Response {
        Response::Subject {
            view: self.current().and_then(|index| index.subject(id)),
        }
    }
}
