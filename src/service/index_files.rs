//! The lookup index's files beside the store, for the desk: opened when
//! they are of the records as they are (the records stamp), written whole
//! otherwise, and followed by a delta after an import. The format is in
//! `lookup/generation.rs`; when a file is trusted is decided here.

use super::{Desk, DeskError};
use crate::store::files::{open_own_plain, remove_own_plain, write_whole};
use std::path::Path;

impl Desk {
    /// The lookup index: its files opened when they are of the records as
    /// they are, else the whole file written again from the store.
    pub(super) fn load_index_with(
        &self,
        flags: &crate::lookup::FlagSets,
    ) -> Result<crate::lookup::Index, DeskError> {
        let started = std::time::Instant::now();
        let path = self.store.lookup_index_path();
        let cc = self.default_cc();
        // The stamp is read before the records: a change while they are
        // read gives the store a new one, and this file is then never
        // taken for the records as they are.
        let mut stamp = self.store.records_stamp()?;
        if stamp == [0; 16] {
            self.store.stamp_records()?;
            stamp = self.store.records_stamp()?;
        }
        let delta = self.store.lookup_delta_path();
        if let Some(index) = open_index_file(&path, &delta, stamp, cc, flags) {
            timing("index: opened", started);
            return Ok(index);
        }
        let reader = self.record_reader();
        let splits = reader.splits();
        let scratch = self.store.path().to_path_buf();
        let io = |source: std::io::Error| DeskError::Read {
            path: path.clone(),
            source,
        };
        // An index without records the store holds would answer "no match"
        // for people it has: a record that cannot be read stops the index
        // (its file is never put in place), and the officer is told why.
        let unreadable = std::sync::atomic::AtomicUsize::new(0);
        write_whole(&path, |w| {
            crate::lookup::Index::write_file(
                w,
                &scratch,
                reader.each(&unreadable),
                &splits,
                cc,
                stamp,
                [0; 16],
            )?;
            match unreadable.load(std::sync::atomic::Ordering::Relaxed) {
                0 => Ok(()),
                n => Err(std::io::Error::other(format!(
                    "{n} of the store's source records (or blocks of them) cannot be read \
                     (damaged): a lookup without them would miss people. Restore the \
                     store from a backup (`rightsdesk restore`)"
                ))),
            }
        })
        .map_err(io)?;
        // A delta of the old file is of nothing now.
        let _ = remove_own_plain(&delta);
        timing("index: written", started);
        let file = open_own_plain(&path).map_err(io)?;
        crate::lookup::Index::open(&file, flags)
            .map_err(|e| io(std::io::Error::other(e.to_string())))
    }

    /// The index with the records an import changed laid over its whole
    /// file as a delta (`lookup.delta`, written whole like the file): the
    /// changed records and every record of the subjects they touch, read
    /// from the store as they now are. `None` when a delta would be too
    /// large, or cannot be written: the whole file is written again then.
    fn write_delta(
        &self,
        current: &crate::lookup::Index,
        before: [u8; 16],
        changed: &[Vec<u8>],
        flags: &crate::lookup::FlagSets,
    ) -> Option<crate::lookup::Index> {
        use crate::lookup::MAX_DELTA;
        let started = std::time::Instant::now();
        // A delta lies on the index as it was just before the import; one
        // of older records (an erasure since, its rewrite not yet done or
        // failed) would bring them back under a current stamp.
        if current.stamp() != before || changed.len() + current.delta_len() > MAX_DELTA {
            return None;
        }
        let stamp = self.store.records_stamp().ok()?;
        let reader = self.record_reader();
        let records: Vec<_> = changed.iter().filter_map(|k| reader.get(k)).collect();
        let mut keys = current.delta_with(&records);
        keys.extend(changed.iter().cloned());
        keys.sort();
        keys.dedup();
        if keys.len() > MAX_DELTA {
            return None;
        }
        let all: Vec<_> = keys.iter().filter_map(|k| reader.get(k)).collect();
        let splits = reader.splits();
        let (path, delta) = (
            self.store.lookup_index_path(),
            self.store.lookup_delta_path(),
        );
        let scratch = self.store.path().to_path_buf();
        let cc = self.default_cc();
        write_whole(&delta, |w| {
            crate::lookup::Index::write_file(
                w,
                &scratch,
                all,
                &splits,
                cc,
                stamp,
                current.whole_stamp(),
            )
        })
        .ok()?;
        let whole = crate::lookup::Index::open(&open_own_plain(&path).ok()?, flags).ok()?;
        let index = whole.with_delta(&open_own_plain(&delta).ok()?)?;
        timing("index: delta written", started);
        (index.stamp() == stamp).then_some(index)
    }

    /// After an import: the index follows the records it changed by a
    /// delta (well under a second for an import of hundreds of rows into
    /// a million), or, for a large import, by writing its file again; the
    /// import is acknowledged once its records are found.
    pub(super) fn follow_import(&self, before: [u8; 16], changed: Option<Vec<Vec<u8>>>) {
        if !self.index.started() {
            // No index runs here (a shell command); one written before the
            // import follows it by a delta now, so the next lookup opens
            // the files instead of writing the whole index again.
            let flags = crate::lookup::FlagSets::default();
            let (path, delta) = (
                self.store.lookup_index_path(),
                self.store.lookup_delta_path(),
            );
            if let Some(keys) = changed {
                if let Some(current) =
                    open_index_file(&path, &delta, before, self.default_cc(), &flags)
                {
                    let _ = self.write_delta(&current, before, &keys, &flags);
                }
            }
            return;
        }
        if let Some(keys) = changed {
            let flags = match self.flag_sets() {
                Ok(f) => f,
                Err(_) => return self.relink_index(),
            };
            if self
                .index
                .follow_delta(|current| self.write_delta(current, before, &keys, &flags))
            {
                return;
            }
        }
        self.relink_index();
    }
}

/// With `RIGHTSDESK_TIMINGS` set, how long a step took (to standard error).
fn timing(what: &str, since: std::time::Instant) {
    if std::env::var_os("RIGHTSDESK_TIMINGS").is_some() {
        crate::errln!("{what} in {:.2}s", since.elapsed().as_secs_f64());
    }
}

/// The lookup index file written at exactly this stamp, for this country
/// code; `None` (it is then written again) if there is none, or it is of
/// other records, or it cannot be read.
fn open_index_file(
    path: &Path,
    delta: &Path,
    stamp: [u8; 16],
    cc: &str,
    flags: &crate::lookup::FlagSets,
) -> Option<crate::lookup::Index> {
    let file = open_own_plain(path).ok()?;
    let index = crate::lookup::Index::open(&file, flags).ok()?;
    if index.country_code() != cc {
        return None;
    }
    if index.stamp() == stamp {
        // A delta left from before the whole file was written is stale.
        let _ = remove_own_plain(delta);
        return Some(index);
    }
    // The whole file and the delta the last imports laid over it.
    let index = index.with_delta(&open_own_plain(delta).ok()?)?;
    (index.stamp() == stamp).then_some(index)
}
