//! The deadlines tree: one small entry per open case, ordered by its due
//! date, written with the case in the same transaction. `rightsdesk due` and
//! the login line read the part of it near today instead of every case, so
//! they cost the cases near their deadline, not the store's size.
//!
//! Keys:
//! - `d/` + due date (`YYYY-MM-DD`) + case key: an open case whose clock
//!   runs (its due date is fixed until its next event);
//! - `h/` + case key: an open case whose clock is held (paused, or waiting for
//!   ID or a fee): its date moves or is unknown, so it is computed on reading;
//! - `c/` + case key: the case's current entry key, to replace it;
//! - `!calendar`: the fingerprint of the calendar the dates were computed
//!   with. A store opened with another calendar, or written by a process
//!   that kept no deadlines (a restore), has none or another: the tree is
//!   then rebuilt from the cases once, and the mark written last, so a kill
//!   during it leaves a tree that is rebuilt again.

use super::{Store, StoreError};
use crate::domain::deadline::{DeadlineEntry, Standing};
use crate::domain::{Case, HolidayCalendar};
use chrono::NaiveDate;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use std::sync::Arc;

pub(super) const TREE_DEADLINES: &str = "deadlines";
const MARK: &[u8] = b"!calendar";
const REBUILD_BATCH: usize = 10_000;

fn current_key(case_key: &[u8]) -> Vec<u8> {
    [b"c/".as_slice(), case_key].concat()
}

/// The entry's key under the calendar, or `None` for a closed case.
fn entry_key(case: &Case, cal: &HolidayCalendar) -> Option<(Vec<u8>, DeadlineEntry)> {
    let entry = DeadlineEntry::of(case)?;
    let case_key = case.id.to_key();
    let key = match entry.standing(cal, case.received) {
        Standing::Due(d) => [b"d/".as_slice(), d.to_string().as_bytes(), &case_key].concat(),
        Standing::Held => [b"h/".as_slice(), &case_key].concat(),
    };
    Some((key, entry))
}

/// Writes the case's entry (or removes it once closed) inside the case's
/// own transaction. Without a calendar (a store opened bare), the mark is
/// removed instead: the next desk to open the store rebuilds the tree.
pub(super) fn write(
    tree: &TransactionalTree,
    cal: Option<&HolidayCalendar>,
    case: &Case,
) -> Result<(), ConflictableTransactionError<super::TxAbort>> {
    let Some(cal) = cal else {
        tree.remove(MARK)?;
        return Ok(());
    };
    let current = current_key(&case.id.to_key());
    if let Some(old) = tree.get(&current)? {
        tree.remove(old)?;
    }
    match entry_key(case, cal) {
        Some((key, entry)) => {
            let bytes = serde_json::to_vec(&entry).expect("an entry serialises");
            tree.insert(key.as_slice(), bytes)?;
            tree.insert(current, key)?;
        }
        None => {
            tree.remove(current)?;
        }
    }
    Ok(())
}

impl Store {
    /// Keeps the deadlines tree from now on with `cal`, rebuilding it from
    /// the cases first when it was kept with another calendar or not at all.
    pub fn keep_deadlines(&mut self, cal: Arc<HolidayCalendar>) -> Result<(), StoreError> {
        let fingerprint = cal.fingerprint();
        let kept = self.deadlines.get(MARK).map_err(|e| self.sled_err(e))?;
        if kept.as_deref() != Some(fingerprint.as_bytes()) {
            self.rebuild_deadlines(&cal, &fingerprint)?;
        }
        self.deadline_calendar = Some(cal);
        Ok(())
    }

    fn rebuild_deadlines(
        &self,
        cal: &HolidayCalendar,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        // Cleared first, mark and all: a kill mid-way leaves no mark.
        self.deadlines.clear().map_err(|e| self.sled_err(e))?;
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for kv in self.cases.iter() {
            let (_, v) = kv.map_err(|e| self.sled_err(e))?;
            let case = self.decode_case(&v)?;
            if let Some((key, entry)) = entry_key(&case, cal) {
                let bytes = serde_json::to_vec(&entry).expect("an entry serialises");
                batch.insert(current_key(&case.id.to_key()), key.as_slice());
                batch.insert(key, bytes);
                n += 1;
                if n % REBUILD_BATCH == 0 {
                    self.deadlines
                        .apply_batch(std::mem::take(&mut batch))
                        .map_err(|e| self.sled_err(e))?;
                }
            }
        }
        batch.insert(MARK, fingerprint.as_bytes());
        self.deadlines
            .apply_batch(batch)
            .map_err(|e| self.sled_err(e))?;
        self.flush()
    }

    /// Forgets the tree's calendar: the next desk to keep deadlines rebuilds
    /// it (after a restore wrote cases around it).
    pub(super) fn forget_deadlines(&self) -> Result<(), StoreError> {
        self.deadlines.remove(MARK).map_err(|e| self.sled_err(e))?;
        Ok(())
    }

    /// For the login line, without reading an entry whose clock runs:
    /// how many such cases are due before `today`, how many from `today` to
    /// `until`, and the entries of those whose clock is held.
    pub fn deadline_counts(
        &self,
        today: NaiveDate,
        until: NaiveDate,
    ) -> Result<(usize, usize, Vec<DeadlineEntry>), StoreError> {
        self.keeps_deadlines()?;
        let bound = |d: NaiveDate| [b"d/".as_slice(), d.to_string().as_bytes()].concat();
        let count = |range: sled::Iter| -> Result<usize, StoreError> {
            let mut n = 0;
            for k in range.keys() {
                k.map_err(|e| self.sled_err(e))?;
                n += 1;
            }
            Ok(n)
        };
        let overdue = count(self.deadlines.range(b"d/".to_vec()..bound(today)))?;
        let end = until.succ_opt().unwrap_or(until);
        let within = count(self.deadlines.range(bound(today)..bound(end)))?;
        let held = self.decode_entries(self.deadlines.scan_prefix(b"h/"))?;
        Ok((overdue, within, held))
    }

    fn keeps_deadlines(&self) -> Result<(), StoreError> {
        match self.deadline_calendar {
            Some(_) => Ok(()),
            None => Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: "the deadlines are not kept by this store handle".into(),
            }),
        }
    }

    fn decode_entries(
        &self,
        iter: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    ) -> Result<Vec<DeadlineEntry>, StoreError> {
        iter.map(|kv| {
            let (_, v) = kv.map_err(|e| self.sled_err(e))?;
            serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!("a deadline entry cannot be read: {e}"),
            })
        })
        .collect()
    }

    /// The entries of open cases due on or before `until` (every open case
    /// when `None`), and every case whose clock is held.
    pub fn deadline_entries(
        &self,
        until: Option<NaiveDate>,
    ) -> Result<Vec<DeadlineEntry>, StoreError> {
        self.keeps_deadlines()?;
        let dated = match until {
            // Keys sort by date; the day after `until` is the bound.
            Some(d) => {
                let end = d.succ_opt().unwrap_or(d).to_string();
                self.deadlines
                    .range(b"d/".to_vec()..[b"d/".as_slice(), end.as_bytes()].concat())
            }
            None => self.deadlines.scan_prefix(b"d/"),
        };
        self.decode_entries(dated.chain(self.deadlines.scan_prefix(b"h/")))
    }
}
