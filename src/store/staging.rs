//! An import written in batches and made visible by one commit marker, so
//! neither the parser nor the store holds a whole export in memory, and an
//! import still lands whole or not at all.
//!
//! 1. `import_begin` opens a staging tree of its own (`import-staging/ID`);
//! 2. `import_stage` writes each batch there (nothing reads it);
//! 3. `import_commit` counts what the rows will do, then writes the commit
//!    marker and the import's audit entry in one transaction — from then on
//!    the import has happened — and applies the staged rows to the records
//!    in bounded batches, then removes the marker and the staging tree.
//!
//! A kill before the marker leaves a staging tree the next start drops; a
//! kill after it leaves the marker, and the next start finishes applying.
//! Applying is idempotent: a row already applied is written again as is.

use super::{append_entry, AuditNote, ImportCounts, Store, StoreError};
use crate::domain::audit::AuditEntry;
use crate::domain::record::SourceRecord;
use crate::domain::register::Suppression;
use chrono::NaiveDate;
use sled::Transactional;

const STAGING_PREFIX: &str = "import-staging/";
const MARKER_PREFIX: &str = "import-commit/";
/// Rows applied per sled batch: bounds the memory of the apply step.
const APPLY_BATCH: usize = 10_000;

/// What the commit marker holds: enough to finish applying after a kill.
#[derive(serde::Serialize, serde::Deserialize)]
struct Marker {
    exported_on: Option<NaiveDate>,
}

/// Store keys of the records an import added or changed.
pub type ChangedKeys = Vec<Vec<u8>>;

/// What one staged row will do to the records held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    New,
    Updated,
    /// Older than the record held: the held one stays.
    Older,
    /// No date, for a dated record held: the held one stays.
    Undated,
}

/// A row from an older export does not replace what a newer one brought
/// (dates where both records have one); nothing says an undated row is
/// newer than a dated record.
fn fate(held: Option<&[u8]>, when: Option<NaiveDate>) -> Fate {
    let Some(held) = held else {
        return Fate::New;
    };
    let held_when = serde_json::from_slice::<SourceRecord>(held)
        .ok()
        .and_then(|r| r.last_activity);
    match (when, held_when) {
        (Some(new), Some(old)) if new < old => Fate::Older,
        (None, Some(_)) => Fate::Undated,
        _ => Fate::Updated,
    }
}

fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Store {
    fn staging(&self, id: &str) -> Result<sled::Tree, StoreError> {
        if !valid_id(id) {
            return Err(StoreError::Import(format!(
                "'{id}' is no import in progress"
            )));
        }
        self.db
            .open_tree(format!("{STAGING_PREFIX}{id}"))
            .map_err(|e| self.sled_err(e))
    }

    fn staged_ids(&self) -> Vec<String> {
        self.db
            .tree_names()
            .into_iter()
            .filter_map(|n| {
                std::str::from_utf8(&n)
                    .ok()?
                    .strip_prefix(STAGING_PREFIX)
                    .map(str::to_string)
            })
            .collect()
    }

    /// Starts an import: its id, and an empty staging tree of its own.
    pub fn import_begin(&self) -> Result<String, StoreError> {
        let mut r = [0u8; 16];
        getrandom::fill(&mut r).map_err(|e| StoreError::Import(e.to_string()))?;
        let id = hex::encode(r);
        self.staging(&id)?;
        Ok(id)
    }

    /// Writes one batch of an import's rows where nothing reads them yet.
    pub fn import_stage(&self, id: &str, records: &[SourceRecord]) -> Result<(), StoreError> {
        if !self.staged_ids().iter().any(|s| s == id) {
            return Err(StoreError::Import(format!(
                "'{id}' is no import in progress"
            )));
        }
        let tree = self.staging(id)?;
        let mut batch = sled::Batch::default();
        let mut bytes = 0;
        for r in records {
            let k = r.store_key();
            let v = serde_json::to_vec(r).expect("record serialises");
            bytes += k.len() + v.len();
            batch.insert(k, v);
        }
        self.room_for(bytes)?;
        tree.apply_batch(batch).map_err(|e| self.sled_err(e))
    }

    /// Drops an import not committed (its parse failed, or its caller left).
    pub fn import_abandon(&self, id: &str) -> Result<(), StoreError> {
        if valid_id(id) && self.staged_ids().iter().any(|s| s == id) {
            self.db
                .drop_tree(format!("{STAGING_PREFIX}{id}"))
                .map_err(|e| self.sled_err(e))?;
            self.flush()?;
        }
        Ok(())
    }

    /// Makes a staged import visible: counts, then the marker and the audit
    /// entry in one transaction, then the rows (and, for a marketing tool's
    /// unsubscribed rows, their suppression entries from `suppress_of`).
    /// Also returns the store keys of the records it added or changed, if
    /// there were at most `keep` (for the lookup index to follow them).
    pub fn import_commit(
        &self,
        id: &str,
        note: &AuditNote,
        exported_on: Option<NaiveDate>,
        suppress_of: &dyn Fn(&SourceRecord) -> Vec<Suppression>,
        keep: usize,
    ) -> Result<(ImportCounts, AuditEntry, Option<ChangedKeys>), StoreError> {
        if !self.staged_ids().iter().any(|s| s == id) {
            return Err(StoreError::Import(format!(
                "'{id}' is no import in progress"
            )));
        }
        let tree = self.staging(id)?;
        tree.flush().map_err(|e| self.sled_err(e))?;
        if tree.is_empty() {
            self.import_abandon(id)?;
            return Err(StoreError::Import("the import holds no rows".into()));
        }
        let mut counts = ImportCounts::default();
        // Only unsubscribed rows' hashes: small beside the import.
        let mut new_hashes = std::collections::HashSet::new();
        for kv in tree.iter() {
            let (k, v) = kv.map_err(|e| self.sled_err(e))?;
            let record: SourceRecord = serde_json::from_slice(&v).map_err(|e| self.sled_err(e))?;
            let when = record.last_activity.or(exported_on);
            let held = self.records.get(&k).map_err(|e| self.sled_err(e))?;
            match fate(held.as_deref(), when) {
                Fate::New => counts.new += 1,
                Fate::Updated => counts.updated += 1,
                Fate::Older => counts.older += 1,
                Fate::Undated => counts.undated += 1,
            }
            for sup in suppress_of(&record) {
                let held = self
                    .suppression
                    .contains_key(sup.hash.as_bytes())
                    .map_err(|e| self.sled_err(e))?;
                if !held {
                    new_hashes.insert(sup.hash);
                }
            }
        }
        counts.suppressed = new_hashes.len() as u64;
        let marker = serde_json::to_vec(&Marker { exported_on }).expect("serialises");
        let entry = (&self.audit, &self.meta)
            .transaction(|(audit, meta)| {
                meta.insert(format!("{MARKER_PREFIX}{id}").as_bytes(), marker.as_slice())?;
                let mut note = note.clone();
                note.detail["new"] = serde_json::json!(counts.new);
                note.detail["updated"] = serde_json::json!(counts.updated);
                note.detail["older"] = serde_json::json!(counts.older);
                note.detail["undated"] = serde_json::json!(counts.undated);
                note.detail["suppressed"] = serde_json::json!(counts.suppressed);
                append_entry(self.chain_key.as_deref(), audit, meta, &note, None, None)
            })
            .map_err(|e| self.tx_error(e, None))?;
        self.flush()?;
        self.log_line(&entry);
        let changed = self.import_apply(id, exported_on, suppress_of, keep)?;
        Ok((counts, entry, changed))
    }

    /// Applies a committed import's staged rows in bounded batches, then
    /// removes its marker and staging tree.
    fn import_apply(
        &self,
        id: &str,
        exported_on: Option<NaiveDate>,
        suppress_of: &dyn Fn(&SourceRecord) -> Vec<Suppression>,
        keep: usize,
    ) -> Result<Option<ChangedKeys>, StoreError> {
        let tree = self.staging(id)?;
        // The records change from here: an index written from them now is
        // of a state that never lasts (stamped again when the rows are in).
        self.stamp_records()?;
        let mut changed: Option<ChangedKeys> = Some(Vec::new());
        let mut batch = sled::Batch::default();
        let mut sup = sled::Batch::default();
        let mut n = 0;
        let mut bytes = 0;
        for kv in tree.iter() {
            let (k, v) = kv.map_err(|e| self.sled_err(e))?;
            let record: SourceRecord = serde_json::from_slice(&v).map_err(|e| self.sled_err(e))?;
            let when = record.last_activity.or(exported_on);
            let held = self.records.get(&k).map_err(|e| self.sled_err(e))?;
            if matches!(fate(held.as_deref(), when), Fate::New | Fate::Updated) {
                if let Some(c) = &mut changed {
                    if c.len() < keep {
                        c.push(k.to_vec());
                    } else {
                        changed = None;
                    }
                }
                bytes += k.len() + v.len();
                batch.insert(k, v);
            }
            for s in suppress_of(&record) {
                if !self
                    .suppression
                    .contains_key(s.hash.as_bytes())
                    .map_err(|e| self.sled_err(e))?
                {
                    sup.insert(
                        s.hash.as_bytes(),
                        serde_json::to_vec(&s).expect("serialises"),
                    );
                }
            }
            n += 1;
            if n % APPLY_BATCH == 0 {
                self.room_for(bytes)?;
                self.records
                    .apply_batch(std::mem::take(&mut batch))
                    .map_err(|e| self.sled_err(e))?;
                self.suppression
                    .apply_batch(std::mem::take(&mut sup))
                    .map_err(|e| self.sled_err(e))?;
                bytes = 0;
            }
        }
        self.room_for(bytes)?;
        self.records
            .apply_batch(batch)
            .map_err(|e| self.sled_err(e))?;
        self.suppression
            .apply_batch(sup)
            .map_err(|e| self.sled_err(e))?;
        self.stamp_records()?;
        // The rows are there before the marker goes.
        self.flush()?;
        self.meta
            .remove(format!("{MARKER_PREFIX}{id}").as_bytes())
            .map_err(|e| self.sled_err(e))?;
        self.flush()?;
        self.db
            .drop_tree(format!("{STAGING_PREFIX}{id}"))
            .map_err(|e| self.sled_err(e))?;
        self.flush()?;
        Ok(changed)
    }

    /// At every start: an import committed before a kill is finished, one
    /// not committed is dropped. Returns (finished, dropped).
    pub fn recover_imports(
        &self,
        suppress_of: &dyn Fn(&SourceRecord) -> Vec<Suppression>,
    ) -> Result<(usize, usize), StoreError> {
        let (mut finished, mut dropped) = (0, 0);
        for id in self.staged_ids() {
            let marker = self
                .meta
                .get(format!("{MARKER_PREFIX}{id}").as_bytes())
                .map_err(|e| self.sled_err(e))?;
            match marker {
                Some(m) => {
                    let m: Marker = serde_json::from_slice(&m).map_err(|e| self.sled_err(e))?;
                    self.import_apply(&id, m.exported_on, suppress_of, 0)?;
                    finished += 1;
                }
                None => {
                    self.import_abandon(&id)?;
                    dropped += 1;
                }
            }
        }
        Ok((finished, dropped))
    }

    /// Imports begun and not yet committed or dropped (what a kill left).
    pub fn imports_in_progress(&self) -> usize {
        self.staged_ids().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, email: &str) -> SourceRecord {
        SourceRecord {
            source: "customers".into(),
            key: key.into(),
            names: vec!["Ana García".into()],
            emails: vec![email.into()],
            phones: vec![],
            company: None,
            last_activity: None,
            status: None,
            mentions: vec![],
            raw: vec![],
            format: "csv".into(),
            line: 2,
        }
    }

    fn note() -> AuditNote {
        AuditNote {
            at: chrono::Utc::now(),
            actor: "test".into(),
            kind: "imported".into(),
            detail: serde_json::json!({}),
        }
    }

    #[test]
    fn staged_rows_are_invisible_until_the_commit_and_a_start_drops_or_finishes() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("store");
        let none = |_: &SourceRecord| Vec::new();
        {
            let s = Store::open(&dir).unwrap();
            // Killed before its commit: staged, never visible.
            let a = s.import_begin().unwrap();
            s.import_stage(&a, &[record("1", "a@example.es")]).unwrap();
            assert_eq!(s.records.len(), 0);
            // Killed after its marker: the commit was decided.
            let b = s.import_begin().unwrap();
            s.import_stage(
                &b,
                &[record("2", "b@example.es"), record("3", "c@example.es")],
            )
            .unwrap();
            s.meta
                .insert(
                    format!("{MARKER_PREFIX}{b}").as_bytes(),
                    serde_json::to_vec(&Marker { exported_on: None }).unwrap(),
                )
                .unwrap();
            s.flush().unwrap();
            assert_eq!(s.imports_in_progress(), 2);
        }
        let s = Store::open(&dir).unwrap();
        assert_eq!(s.recover_imports(&none).unwrap(), (1, 1));
        assert_eq!(s.imports_in_progress(), 0);
        let keys: Vec<Vec<u8>> = s
            .records
            .iter()
            .keys()
            .map(|k| k.unwrap().to_vec())
            .collect();
        assert_eq!(
            keys,
            [record("2", "").store_key(), record("3", "").store_key()]
        );
        // A whole commit, counted by the store.
        let c = s.import_begin().unwrap();
        s.import_stage(
            &c,
            &[record("3", "c@example.es"), record("4", "d@example.es")],
        )
        .unwrap();
        let (counts, entry, _) = s.import_commit(&c, &note(), None, &none, 0).unwrap();
        assert_eq!((counts.new, counts.updated), (1, 1));
        assert_eq!(entry.detail["new"], 1);
        assert_eq!(s.records.len(), 3);
        assert_eq!(s.imports_in_progress(), 0);
        // An id that is not an import in progress is refused.
        assert!(s.import_stage("../cases", &[]).is_err());
        assert!(s.import_commit(&c, &note(), None, &none, 0).is_err());
    }

    #[test]
    fn a_kill_leaves_no_size_for_sleds_own_recovery_to_be_mistaken_for_truncation() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("store");
        let size = dir.join(super::super::SIZE_FILE);
        drop(Store::open(&dir).unwrap());
        assert!(size.exists(), "a clean close notes the size");
        // sled lets go of its lock file a moment after the close (its
        // flusher thread ends on its own): wait for it, within a bound.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let s = loop {
            match Store::open(&dir) {
                Err(super::super::StoreError::Busy { .. }) if std::time::Instant::now() < until => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => break other.unwrap(),
            }
        };
        assert!(!size.exists(), "an open store has none to go stale");
        let id = s.import_begin().unwrap();
        s.import_stage(&id, &[record("1", "a@example.es")]).unwrap();
        // A kill: no clean close, so no size for the next open to hold
        // sled's recovery (which may shorten the file) against.
        std::mem::forget(s);
        assert!(!size.exists());
    }
}
