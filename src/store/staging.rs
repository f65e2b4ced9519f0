//! An import written in batches and made visible by one commit marker, so
//! neither the parser nor the store holds a whole export in memory, and an
//! import still lands whole or not at all.
//!
//! 1. `import_begin` creates the import's rows file beside the store
//!    (`store/import-ID.rows`: 0600, created exclusively, never through a
//!    link); nothing reads it;
//! 2. `import_stage` gathers rows as the store will keep them
//!    (`record_codec`) and appends them there in sorted runs of about
//!    4 MiB;
//! 3. `import_commit` makes the file durable, counts what the rows will do,
//!    then writes the commit marker (with the file's length and CRC-32) and
//!    the import's audit entry in one transaction — from then on the import
//!    has happened — and applies the rows to the records in bounded
//!    batches, then removes the marker and the file. The runs are merged
//!    as they are read, so the rows reach the records in key order and
//!    each block of records (`record_blocks`) is rewritten about once.
//!
//! A kill before the marker leaves a rows file the next start removes; a
//! kill after it leaves the marker, and the next start finishes applying.
//! Applying is idempotent: a row already applied is written again as is.
//!
//! The rows are staged in a plain file, not a sled tree: sled kept a staged
//! import's bytes in its own file until a rebuild (a 1M-row import left the
//! store twice its size), and writing every row into sled twice halved the
//! import's rate. A store from an older desk may still hold a staging tree
//! (`import-staging/ID`); the next start finishes or drops it the same way.

use super::record_blocks::{HeldCursor, Row};
use super::record_codec;
use super::{append_entry, AuditNote, ImportCounts, Store, StoreError};
use crate::domain::audit::AuditEntry;
use crate::domain::record::SourceRecord;
use crate::domain::register::Suppression;
use chrono::NaiveDate;
use sled::Transactional;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

/// sled trees an older desk staged imports in.
const LEGACY_STAGING_PREFIX: &str = "import-staging/";
const MARKER_PREFIX: &str = "import-commit/";
const ROWS_PREFIX: &str = "import-";
const ROWS_SUFFIX: &str = ".rows";
/// Rows applied per sled batch: bounds the memory of the apply step.
const APPLY_BATCH: usize = 10_000;
/// Rows gathered and sorted before they are written as one run: bounds
/// the memory of staging (a 1M-row export makes about 40 runs, a 10M-row
/// one about 400, read through one file handle). Small in
/// unit tests, so they merge many runs.
const RUN_BYTES: usize = if cfg!(test) { 4 << 10 } else { 4 << 20 };

/// What the commit marker holds: enough to finish applying after a kill,
/// and to know the rows file is the one committed, whole.
#[derive(serde::Serialize, serde::Deserialize)]
struct Marker {
    exported_on: Option<NaiveDate>,
    /// The rows file's length and CRC-32 (none for an older desk's tree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crc: Option<u32>,
    /// Where each sorted run of the rows file ends (none: one unsorted
    /// run, as an older desk wrote it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    runs: Option<Vec<u64>>,
}

/// An import being staged by this process: its rows file, open.
pub(super) struct Staging {
    file: BufWriter<File>,
    bytes: u64,
    /// Rows gathered for the next run, as frames one after the other, and
    /// where each begins (no allocation of its own per row: a stalled
    /// import holds little more than `RUN_BYTES`).
    run: Vec<u8>,
    run_at: Vec<u32>,
    /// Where each run written so far ends in the file.
    runs: Vec<u64>,
    crc: crc32fast::Hasher,
    /// The last header of columns seen and its id: an export has one.
    last_columns: Option<(Vec<String>, u64)>,
    /// The records' stamp when the import began, and whether every row
    /// staged so far is new to the store: then, if the stamp has not moved
    /// by the commit, every row is new and the commit need not read the
    /// rows again to count them.
    stamp: [u8; 16],
    rows: u64,
    all_new: bool,
    /// Suppression hashes of the rows staged (unsubscribed rows only).
    hashes: std::collections::HashSet<String>,
    /// A 64-bit hash of each key staged (8 bytes a row), sorted at the
    /// commit to see whether the export holds a record twice: then the
    /// rows cannot be counted as they were staged.
    keys: Vec<u64>,
}

/// A key's 64-bit hash (SipHash with fixed keys: the same in every run).
fn key_hash(key: &[u8]) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(key)
}

/// Imports this process is staging, by id (shared by every clone).
pub(super) type StagingMap =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Staging>>>;

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
    match (when, record_codec::last_activity(held)) {
        (Some(new), Some(old)) if new < old => Fate::Older,
        (None, Some(_)) => Fate::Undated,
        _ => Fate::Updated,
    }
}

fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One staged row: key and value, each after its length (u32 LE).
fn write_frame(out: &mut impl Write, key: &[u8], value: &[u8]) -> std::io::Result<()> {
    for part in [key, value] {
        out.write_all(&(part.len() as u32).to_le_bytes())?;
        out.write_all(part)?;
    }
    Ok(())
}

/// The next staged row, or `None` at the end of the file.
fn read_frame(input: &mut impl Read) -> std::io::Result<Option<Row>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let key = read_part(input, len)?;
    input.read_exact(&mut len)?;
    let value = read_part(input, len)?;
    Ok(Some((key, value)))
}

/// `len` bytes (u32 LE), never allocated ahead of reading them.
fn read_part(input: &mut impl Read, len: [u8; 4]) -> std::io::Result<Vec<u8>> {
    let len = u32::from_le_bytes(len);
    let mut v = Vec::new();
    input.take(u64::from(len)).read_to_end(&mut v)?;
    if v.len() != len as usize {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(v)
}

/// A row's date as the import counts it (its own, else the export's).
#[derive(Default)]
struct When(Option<NaiveDate>);

/// A staged row with its date.
type Dated = (Row, When);

/// Where a committed import's rows come from.
enum Rows {
    /// The file's sorted runs, merged: the rows in key order, each key
    /// once (its last row).
    Runs(Box<Merge>),
    /// An older desk's staging tree.
    Tree(Box<sled::Iter>),
}

fn unreadable(e: std::io::Error) -> StoreError {
    StoreError::Import(format!("the staged rows cannot be read: {e}"))
}

/// A rows file's sorted runs read as one stream in key order, each key
/// once: the export's last row of it. (Runs are written in the export's
/// order and sorted stably, and of one key in two runs the earlier run's
/// row comes first, so the last row seen is the export's last.)
struct Merge {
    runs: Vec<BufReader<RunReader>>,
    heads: std::collections::BinaryHeap<std::cmp::Reverse<(Vec<u8>, usize)>>,
    values: Vec<Option<Vec<u8>>>,
}

impl Merge {
    fn open(path: &std::path::Path, ends: &[u64]) -> std::io::Result<Merge> {
        let mut m = Merge {
            runs: Vec::with_capacity(ends.len()),
            heads: Default::default(),
            values: vec![None; ends.len()],
        };
        let file = std::sync::Arc::new(super::files::open_own_plain(path)?);
        let mut start = 0;
        for &end in ends {
            m.runs.push(BufReader::with_capacity(
                32 << 10,
                RunReader {
                    file: file.clone(),
                    at: start,
                    end: end.max(start),
                },
            ));
            start = end;
        }
        for i in 0..m.runs.len() {
            m.refill(i)?;
        }
        Ok(m)
    }

    fn refill(&mut self, run: usize) -> std::io::Result<()> {
        if let Some((k, v)) = read_frame(&mut self.runs[run])? {
            self.values[run] = Some(v);
            self.heads.push(std::cmp::Reverse((k, run)));
        }
        Ok(())
    }

    fn next(&mut self) -> std::io::Result<Option<Row>> {
        let Some(std::cmp::Reverse((k, run))) = self.heads.pop() else {
            return Ok(None);
        };
        let mut v = self.values[run].take().expect("a head has its value");
        self.refill(run)?;
        while let Some(std::cmp::Reverse((next, _))) = self.heads.peek() {
            if *next != k {
                break;
            }
            let std::cmp::Reverse((_, again)) = self.heads.pop().expect("peeked");
            v = self.values[again].take().expect("a head has its value");
            self.refill(again)?;
        }
        Ok(Some((k, v)))
    }
}

/// One run of a rows file, read at its own offset through the handle all
/// the runs share (one descriptor however many runs an import has).
struct RunReader {
    file: std::sync::Arc<File>,
    at: u64,
    end: u64,
}

impl Read for RunReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let want = (self.end - self.at).min(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        if n == 0 {
            // The file is shorter than its runs say: never a quiet end.
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.at += n as u64;
        Ok(n)
    }
}

impl Rows {
    fn next(&mut self, store: &Store) -> Result<Option<Row>, StoreError> {
        match self {
            Rows::Runs(m) => m.next().map_err(unreadable),
            Rows::Tree(t) => match t.next() {
                None => Ok(None),
                Some(Ok((k, v))) => Ok(Some((k.to_vec(), v.to_vec()))),
                Some(Err(e)) => Err(store.sled_err(e)),
            },
        }
    }
}

impl Store {
    fn rows_path(&self, id: &str) -> PathBuf {
        self.path.join(format!("{ROWS_PREFIX}{id}{ROWS_SUFFIX}"))
    }

    /// The ids of rows files beside the store (plain files only).
    fn staged_files(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(&self.path) else {
            return Vec::new();
        };
        dir.filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let id = name.strip_prefix(ROWS_PREFIX)?.strip_suffix(ROWS_SUFFIX)?;
                valid_id(id).then(|| id.to_string())
            })
            .collect()
    }

    /// An older desk's staging trees.
    fn legacy_staged(&self) -> Vec<String> {
        self.db
            .tree_names()
            .into_iter()
            .filter_map(|n| {
                let id = std::str::from_utf8(&n)
                    .ok()?
                    .strip_prefix(LEGACY_STAGING_PREFIX)?;
                valid_id(id).then(|| id.to_string())
            })
            .collect()
    }

    fn not_in_progress(id: &str) -> StoreError {
        StoreError::Import(format!("'{id}' is no import in progress"))
    }

    /// A write to a rows file that failed: a full disk said as such.
    fn rows_err(&self, id: &str, e: std::io::Error) -> StoreError {
        if e.raw_os_error() == Some(libc::ENOSPC) {
            return super::disk_full(&self.path);
        }
        StoreError::Io {
            path: self.rows_path(id),
            source: e,
        }
    }

    /// Starts an import: its id, and an empty rows file of its own.
    pub fn import_begin(&self) -> Result<String, StoreError> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut r = [0u8; 16];
        getrandom::fill(&mut r).map_err(|e| StoreError::Import(e.to_string()))?;
        let id = hex::encode(r);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(self.rows_path(&id))
            .map_err(|e| self.rows_err(&id, e))?;
        let staging = Staging {
            file: BufWriter::with_capacity(1 << 20, file),
            bytes: 0,
            run: Vec::new(),
            run_at: Vec::new(),
            runs: Vec::new(),
            crc: crc32fast::Hasher::new(),
            last_columns: None,
            stamp: self.records_stamp()?,
            rows: 0,
            all_new: true,
            hashes: Default::default(),
            keys: Default::default(),
        };
        self.staging
            .lock()
            .expect("staging lock")
            .insert(id.clone(), staging);
        Ok(id)
    }

    /// The id of `r`'s header of columns, kept in `meta` the first time
    /// it is seen (before any row that needs it is committed).
    fn intern_columns(
        &self,
        r: &SourceRecord,
        last: &mut Option<(Vec<String>, u64)>,
    ) -> Result<u64, StoreError> {
        if r.raw.is_empty() {
            return Ok(0);
        }
        if let Some((headers, id)) = last {
            if headers.len() == r.raw.len() && headers.iter().zip(&r.raw).all(|(a, (b, _))| a == b)
            {
                return Ok(*id);
            }
        }
        let headers: Vec<String> = r.raw.iter().map(|(h, _)| h.clone()).collect();
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let json = serde_json::to_vec(&headers).expect("headers serialise");
        // Another header may hold the id its hash gives: the next free one.
        let mut id = record_codec::columns_id(&refs);
        loop {
            if self
                .columns
                .get(&self.meta, id)
                .is_some_and(|held| *held == headers)
            {
                break;
            }
            let key = record_codec::columns_key(id);
            let taken = self
                .meta
                .compare_and_swap(&key, None as Option<&[u8]>, Some(json.as_slice()))
                .map_err(|e| self.sled_err(e))?;
            match taken {
                Ok(()) => {
                    self.columns.remember(id, headers.clone());
                    break;
                }
                Err(_) => id += 1,
            }
        }
        *last = Some((headers, id));
        Ok(id)
    }

    /// Writes one batch of an import's rows where nothing reads them yet;
    /// `suppress_of` gives an unsubscribed row's suppression entries.
    pub fn import_stage(
        &self,
        id: &str,
        records: &[SourceRecord],
        suppress_of: &dyn Fn(&SourceRecord) -> Vec<Suppression>,
    ) -> Result<(), StoreError> {
        let mut map = self.staging.lock().expect("staging lock");
        let staging = map.get_mut(id).ok_or_else(|| Self::not_in_progress(id))?;
        for r in records {
            let columns = self.intern_columns(r, &mut staging.last_columns)?;
            let key = r.store_key();
            staging
                .hashes
                .extend(suppress_of(r).into_iter().map(|s| s.hash));
            staging.keys.push(key_hash(&key));
            let value = record_codec::encode(r, columns);
            staging.run_at.push(staging.run.len() as u32);
            write_frame(&mut staging.run, &key, &value).expect("writes to memory");
        }
        staging.rows += records.len() as u64;
        if staging.run.len() >= RUN_BYTES {
            self.write_run(id, staging)?;
        }
        Ok(())
    }

    /// Writes the rows gathered as one run, in key order; notes whether any
    /// is a record held already (one pass over the blocks they fall in).
    fn write_run(&self, id: &str, staging: &mut Staging) -> Result<(), StoreError> {
        if staging.run.is_empty() {
            return Ok(());
        }
        let run = std::mem::take(&mut staging.run);
        let at = std::mem::take(&mut staging.run_at);
        // Frames written by `import_stage`: a length, then that many bytes.
        let part = |from: usize| -> (usize, usize) {
            let len = u32::from_le_bytes(run[from..from + 4].try_into().expect("4 bytes"));
            (from + 4, from + 4 + len as usize)
        };
        let key = |a: u32| {
            let (from, to) = part(a as usize);
            &run[from..to]
        };
        let frame = |a: u32| {
            let (_, key_end) = part(a as usize);
            &run[a as usize..part(key_end).1]
        };
        let mut order: Vec<(&[u8], u32)> = at.iter().map(|&a| (key(a), a)).collect();
        // Stable: of a key twice, the later row stays later.
        order.sort_by(|a, b| a.0.cmp(b.0));
        if staging.all_new {
            let keys: Vec<&[u8]> = order.iter().map(|(k, _)| *k).collect();
            if self.records.any_held(&keys).map_err(|e| self.sled_err(e))? {
                staging.all_new = false;
            }
        }
        // The rows file is a plain file: its own bytes and the spare.
        self.room_needed(super::SPARE_BYTES + run.len() as u64)?;
        // In order, then written and summed at once: one write and one CRC
        // update a run, not a row.
        let mut sorted = Vec::with_capacity(run.len());
        for &(_, a) in &order {
            sorted.extend_from_slice(frame(a));
        }
        staging
            .file
            .write_all(&sorted)
            .map_err(|e| self.rows_err(id, e))?;
        staging.crc.update(&sorted);
        staging.bytes += sorted.len() as u64;
        staging.runs.push(staging.bytes);
        Ok(())
    }

    /// A committed import's rows, from the start: its runs merged (all of
    /// the file as one run when it names none).
    fn staged_rows(&self, id: &str, runs: Option<&[u64]>) -> Result<Rows, StoreError> {
        let path = self.rows_path(id);
        let one = [std::fs::symlink_metadata(&path)
            .map_err(|e| self.rows_err(id, e))?
            .len()];
        Merge::open(&path, runs.unwrap_or(&one))
            .map(|m| Rows::Runs(Box::new(m)))
            .map_err(|e| self.rows_err(id, e))
    }

    /// Whether import `id` was committed (its marker is there).
    fn committed(&self, id: &str) -> Result<bool, StoreError> {
        self.meta
            .contains_key(format!("{MARKER_PREFIX}{id}").as_bytes())
            .map_err(|e| self.sled_err(e))
    }

    /// Drops an import not committed (its parse failed, or its caller left).
    /// A committed one is never dropped: its rows stay for the next start.
    pub fn import_abandon(&self, id: &str) -> Result<(), StoreError> {
        if !valid_id(id) || self.committed(id)? {
            return Ok(());
        }
        self.drop_staged(id)
    }

    /// Removes import `id`'s rows file or staging tree.
    fn drop_staged(&self, id: &str) -> Result<(), StoreError> {
        self.staging.lock().expect("staging lock").remove(id);
        super::files::remove_own_plain(&self.rows_path(id)).map_err(|e| self.rows_err(id, e))?;
        if self.legacy_staged().iter().any(|s| s == id) {
            self.db
                .drop_tree(format!("{LEGACY_STAGING_PREFIX}{id}"))
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
        let mut staging = self
            .staging
            .lock()
            .expect("staging lock")
            .remove(id)
            .ok_or_else(|| Self::not_in_progress(id))?;
        if let Err(e) = self.write_run(id, &mut staging) {
            drop(staging);
            self.import_abandon(id)?;
            return Err(e);
        }
        let runs = std::mem::take(&mut staging.runs);
        let (bytes, crc) = (staging.bytes, staging.crc.clone().finalize());
        // One record twice in the export (or two keys of one hash: then
        // the rows are only counted the slower way).
        let mut keys = std::mem::take(&mut staging.keys);
        keys.sort_unstable();
        let repeats = keys.windows(2).any(|w| w[0] == w[1]);
        drop(keys);
        let counted_at_staging =
            staging.all_new && !repeats && self.records_stamp()? == staging.stamp;
        let (staged_new, staged_hashes) = match counted_at_staging {
            true => (staging.rows, staging.hashes),
            false => (0, Default::default()),
        };
        let file = staging
            .file
            .into_inner()
            .map_err(|e| self.rows_err(id, e.into_error()))
            .and_then(|f| f.sync_all().map(|()| f).map_err(|e| self.rows_err(id, e)));
        let file = match file {
            Ok(f) => f,
            Err(e) => {
                let _ = self.import_abandon(id);
                return Err(e);
            }
        };
        if bytes == 0 {
            self.import_abandon(id)?;
            return Err(StoreError::Import("the import holds no rows".into()));
        }
        // Room for the rows in the store before anything is committed: a
        // commit the disk cannot take is refused while nothing has changed.
        // The store grew by about 0.6 times the rows' bytes in a 1M-row
        // import into record blocks (108 MB over 172 MB of rows): their
        // bytes once leave a margin without refusing what would fit.
        if let Err(e) = self.room_for_rows(bytes) {
            self.import_abandon(id)?;
            return Err(e);
        }
        drop(file);
        let mut counts = ImportCounts::default();
        // Only unsubscribed rows' hashes: small beside the import.
        let mut new_hashes = std::collections::HashSet::new();
        // Counted as they were staged, and nothing has changed since: only
        // the suppression entries are looked up; else the rows are read.
        counts.new = staged_new;
        for h in staged_hashes {
            if !self
                .suppression
                .contains_key(h.as_bytes())
                .map_err(|e| self.sled_err(e))?
            {
                new_hashes.insert(h);
            }
        }
        if !counted_at_staging {
            self.count_rows(
                id,
                &runs,
                exported_on,
                suppress_of,
                &mut counts,
                &mut new_hashes,
            )?;
        }
        counts.suppressed = new_hashes.len() as u64;
        let marker = serde_json::to_vec(&Marker {
            exported_on,
            bytes: Some(bytes),
            crc: Some(crc),
            runs: Some(runs.clone()),
        })
        .expect("serialises");
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
        // From here the import has happened: whatever stops the apply, its
        // rows and marker stay, and the next start finishes it.
        let changed = self
            .staged_rows(id, Some(&runs))
            .and_then(|rows| self.import_apply(id, rows, exported_on, suppress_of, keep))
            .map_err(|e| StoreError::ImportUnfinished {
                why: match e {
                    StoreError::DiskFull { free, .. } => {
                        format!(
                            "the disk holding the store is full: {} KiB free",
                            free / 1024
                        )
                    }
                    other => other.to_string(),
                },
            })?;
        Ok((counts, entry, changed))
    }

    /// Counts what a staged import's rows will do (read in key order, so
    /// each block of records held is read once) and the suppression
    /// entries they bring that are not held yet.
    fn count_rows(
        &self,
        id: &str,
        runs: &[u64],
        exported_on: Option<NaiveDate>,
        suppress_of: &dyn Fn(&SourceRecord) -> Vec<Suppression>,
        counts: &mut ImportCounts,
        new_hashes: &mut std::collections::HashSet<String>,
    ) -> Result<(), StoreError> {
        let mut rows = match self.staged_rows(id, Some(runs)) {
            Ok(rows) => rows,
            Err(e) => {
                let _ = self.import_abandon(id);
                return Err(e);
            }
        };
        let mut cursor = HeldCursor::new(&self.records);
        while let Some((k, v)) = rows.next(self)? {
            let record = self.decode_record(&k, &v)?;
            let when = record.last_activity.or(exported_on);
            let held = cursor.held(&k).map_err(|e| self.sled_err(e))?;
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
        Ok(())
    }

    fn legacy_tree(&self, id: &str) -> Result<sled::Tree, StoreError> {
        self.db
            .open_tree(format!("{LEGACY_STAGING_PREFIX}{id}"))
            .map_err(|e| self.sled_err(e))
    }

    /// The record at `key` in the store's encoding, or why it is not one.
    fn decode_record(&self, key: &[u8], value: &[u8]) -> Result<SourceRecord, StoreError> {
        self.record_from(key, value)
            .ok_or_else(|| StoreError::Import("a staged row does not read back".into()))
    }

    /// Applies a committed import's staged rows in bounded batches, then
    /// removes its marker and its rows.
    fn import_apply(
        &self,
        id: &str,
        mut rows: Rows,
        exported_on: Option<NaiveDate>,
        suppress_of: &dyn Fn(&SourceRecord) -> Vec<Suppression>,
        keep: usize,
    ) -> Result<Option<ChangedKeys>, StoreError> {
        // The records change from here: an index written from them now is
        // of a state that never lasts (stamped again when the rows are in).
        self.stamp_records()?;
        // Two cores: this thread reads and decodes the rows (each row's
        // date, its suppression entries), another writes them into blocks.
        let (to_writer, batches) = std::sync::mpsc::sync_channel::<(Vec<Dated>, sled::Batch)>(2);
        let changed = std::thread::scope(|scope| {
            let writer = scope.spawn(move || self.write_batches(batches, keep));
            let read = self.read_batches(&mut rows, exported_on, suppress_of, &to_writer);
            drop(to_writer);
            let written = writer.join().expect("the import's writer thread");
            // The writer's error first: a reader stopped by it says less.
            let changed = written?;
            read.map(|()| changed)
        })?;
        self.stamp_records()?;
        // The rows are there before the marker goes.
        self.flush()?;
        self.meta
            .remove(format!("{MARKER_PREFIX}{id}").as_bytes())
            .map_err(|e| self.sled_err(e))?;
        self.flush()?;
        // A kill here leaves rows without a marker: the next start removes
        // them, as it does an import never committed.
        self.drop_staged(id)?;
        Ok(changed)
    }

    /// Reads a committed import's rows in batches, each row with its date
    /// and each batch with the suppression entries it brings, for
    /// `write_batches`. Stops early when the writer has stopped.
    fn read_batches(
        &self,
        rows: &mut Rows,
        exported_on: Option<NaiveDate>,
        suppress_of: &dyn Fn(&SourceRecord) -> Vec<Suppression>,
        to_writer: &std::sync::mpsc::SyncSender<(Vec<Dated>, sled::Batch)>,
    ) -> Result<(), StoreError> {
        let mut batch: Vec<Dated> = Vec::with_capacity(APPLY_BATCH);
        let mut sup = sled::Batch::default();
        while let Some((k, v)) = rows.next(self)? {
            let record = self.decode_record(&k, &v)?;
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
            batch.push(((k, v), When(record.last_activity.or(exported_on))));
            if batch.len() == APPLY_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(APPLY_BATCH));
                if to_writer.send((full, std::mem::take(&mut sup))).is_err() {
                    return Ok(());
                }
            }
        }
        let _ = to_writer.send((batch, sup));
        Ok(())
    }

    /// Writes the batches `read_batches` sends into the records' blocks,
    /// each row where it replaces what is held (`fate`), and their
    /// suppression entries; returns the keys written if at most `keep`.
    /// Not atomic across batches, and need not be: the commit marker makes
    /// the import whole, and applying again is harmless (a row already in
    /// is written as is).
    fn write_batches(
        &self,
        batches: std::sync::mpsc::Receiver<(Vec<Dated>, sled::Batch)>,
        keep: usize,
    ) -> Result<Option<ChangedKeys>, StoreError> {
        // A row replaces the record held unless it is older, or undated
        // beside a dated one.
        let take = |held: Option<&[u8]>, when: &When| {
            matches!(fate(held, when.0), Fate::New | Fate::Updated)
        };
        let mut changed: Option<ChangedKeys> = Some(Vec::new());
        for (rows, sup) in batches {
            self.room_for(rows.iter().map(|((k, v), _)| k.len() + v.len()).sum())?;
            let written = self
                .records
                .put(rows, &take)
                .map_err(|e| self.sled_err(e))?;
            changed = changed.filter(|c| c.len() + written.len() <= keep);
            if let Some(c) = &mut changed {
                c.extend(written);
            }
            self.suppression
                .apply_batch(sup)
                .map_err(|e| self.sled_err(e))?;
        }
        Ok(changed)
    }

    /// A committed import's rows file, checked against its marker.
    fn committed_rows(&self, id: &str, m: &Marker) -> Result<Rows, StoreError> {
        let path = self.rows_path(id);
        let damaged = |why: &str| {
            StoreError::Import(format!(
                "import {id} was committed, but its rows ({}) {why}",
                path.display()
            ))
        };
        let mut f = super::files::open_own_plain(&path).map_err(|_| damaged("cannot be read"))?;
        let mut crc = crc32fast::Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut len = 0u64;
        loop {
            let n = f.read(&mut buf).map_err(|e| self.rows_err(id, e))?;
            if n == 0 {
                break;
            }
            crc.update(&buf[..n]);
            len += n as u64;
        }
        if Some(len) != m.bytes || Some(crc.finalize()) != m.crc {
            return Err(damaged("are not the rows committed (damaged)"));
        }
        drop(f);
        self.staged_rows(id, m.runs.as_deref())
    }

    /// At every start: an import committed before a kill is finished, one
    /// not committed is dropped. Returns (finished, dropped).
    pub fn recover_imports(
        &self,
        suppress_of: &dyn Fn(&SourceRecord) -> Vec<Suppression>,
    ) -> Result<(usize, usize), StoreError> {
        let (mut finished, mut dropped) = (0, 0);
        let marker = |id: &str| -> Result<Option<Marker>, StoreError> {
            let m = self
                .meta
                .get(format!("{MARKER_PREFIX}{id}").as_bytes())
                .map_err(|e| self.sled_err(e))?;
            m.map(|m| serde_json::from_slice(&m).map_err(|e| self.sled_err(e)))
                .transpose()
        };
        let busy: Vec<String> = self
            .staging
            .lock()
            .expect("staging lock")
            .keys()
            .cloned()
            .collect();
        for id in self.staged_files() {
            if busy.contains(&id) {
                continue;
            }
            match marker(&id)? {
                // An earlier desk counted an export with a record twice in
                // a tree: the file is a leftover; the tree below is the
                // import.
                Some(m) if m.bytes.is_none() => {
                    super::files::remove_own_plain(&self.rows_path(&id))
                        .map_err(|e| self.rows_err(&id, e))?;
                }
                Some(m) => match self.committed_rows(&id, &m) {
                    Ok(rows) => {
                        self.import_apply(&id, rows, m.exported_on, suppress_of, 0)?;
                        finished += 1;
                    }
                    Err(e) => {
                        self.give_up(&id, &e.to_string())?;
                        dropped += 1;
                    }
                },
                None => {
                    self.drop_staged(&id)?;
                    dropped += 1;
                }
            }
        }
        for id in self.legacy_staged() {
            if busy.contains(&id) {
                continue;
            }
            match marker(&id)? {
                Some(m) => {
                    let tree = self.legacy_tree(&id)?;
                    self.import_apply(
                        &id,
                        Rows::Tree(Box::new(tree.iter())),
                        m.exported_on,
                        suppress_of,
                        0,
                    )?;
                    finished += 1;
                }
                None => {
                    self.drop_staged(&id)?;
                    dropped += 1;
                }
            }
        }
        // A marker whose rows are gone (removed, or a link or a folder put in
        // their place) cannot be finished either.
        let left: Vec<String> = self
            .meta
            .scan_prefix(MARKER_PREFIX.as_bytes())
            .keys()
            .filter_map(Result::ok)
            .filter_map(|k| {
                let id = std::str::from_utf8(&k).ok()?.strip_prefix(MARKER_PREFIX)?;
                Some(id.to_string())
            })
            .filter(|id| !busy.contains(id))
            .collect();
        for id in left {
            self.give_up(&id, "its rows are gone, or are not a plain file")?;
            dropped += 1;
        }
        Ok((finished, dropped))
    }

    /// A committed import whose rows cannot be read back whole: the store
    /// opens (a kill or a damaged disk must not lock staff out of their
    /// backups), and the audit chain says the import did not finish, beside
    /// the entry that said it was made. Some of its rows may be in; the
    /// same export imported again brings the rest (rows already in are
    /// updated, never doubled).
    fn give_up(&self, id: &str, why: &str) -> Result<(), StoreError> {
        let note = AuditNote {
            at: chrono::Utc::now(),
            actor: "rightsdesk".into(),
            kind: "import-unfinished".into(),
            detail: serde_json::json!({
                "import": id,
                "why": why,
                "remedy": "import the same export again",
            }),
        };
        let entry = (&self.audit, &self.meta)
            .transaction(|(audit, meta)| {
                meta.remove(format!("{MARKER_PREFIX}{id}").as_bytes())?;
                append_entry(self.chain_key.as_deref(), audit, meta, &note, None, None)
            })
            .map_err(|e| self.tx_error(e, None))?;
        self.flush()?;
        self.log_line(&entry);
        if valid_id(id) {
            self.drop_staged(id)?;
        }
        Ok(())
    }

    /// Imports begun and not yet committed or dropped (what a kill left).
    pub fn imports_in_progress(&self) -> usize {
        self.staged_files().len() + self.legacy_staged().len()
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

    /// Opens the store in `dir` again once its last handle is gone: sled
    /// lets go of its lock a moment after the close (its flusher thread
    /// ends on its own), so this waits for that, within a bound.
    fn open_again(dir: &std::path::Path) -> Store {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match Store::open(dir) {
                Err(StoreError::Busy { .. }) if std::time::Instant::now() < until => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => break other.unwrap(),
            }
        }
    }

    /// What `import_commit` does up to its marker, and no further (a kill).
    fn marker_only(s: &Store, id: &str) {
        let mut staging = s.staging.lock().unwrap().remove(id).unwrap();
        s.write_run(id, &mut staging).unwrap();
        let (bytes, crc) = (staging.bytes, staging.crc.finalize());
        staging.file.into_inner().unwrap().sync_all().unwrap();
        let m = Marker {
            exported_on: None,
            bytes: Some(bytes),
            crc: Some(crc),
            runs: Some(staging.runs),
        };
        s.meta
            .insert(
                format!("{MARKER_PREFIX}{id}").as_bytes(),
                serde_json::to_vec(&m).unwrap(),
            )
            .unwrap();
        s.flush().unwrap();
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
            s.import_stage(&a, &[record("1", "a@example.es")], &none)
                .unwrap();
            assert_eq!(s.records.len(), 0);
            // Killed after its marker: the commit was decided.
            let b = s.import_begin().unwrap();
            s.import_stage(
                &b,
                &[record("2", "b@example.es"), record("3", "c@example.es")],
                &none,
            )
            .unwrap();
            marker_only(&s, &b);
            // An older desk's staging tree, committed, its row as JSON.
            let d = "0123456789abcdef0123456789abcdef";
            let old = record("5", "e@example.es");
            s.db.open_tree(format!("{LEGACY_STAGING_PREFIX}{d}"))
                .unwrap()
                .insert(old.store_key(), serde_json::to_vec(&old).unwrap())
                .unwrap();
            let m = serde_json::json!({ "exported_on": null });
            s.meta
                .insert(
                    format!("{MARKER_PREFIX}{d}"),
                    serde_json::to_vec(&m).unwrap(),
                )
                .unwrap();
            s.flush().unwrap();
            assert_eq!(s.imports_in_progress(), 3);
            // Never a record of either, nor sled's tree of a row, yet.
            assert_eq!(s.records.len(), 0);
        }
        let s = open_again(&dir);
        assert_eq!(s.recover_imports(&none).unwrap(), (2, 1));
        assert_eq!(s.imports_in_progress(), 0);
        let five = record("5", "e@example.es");
        let held = s.records.get(&five.store_key()).unwrap().unwrap();
        assert_eq!(s.record_from(&five.store_key(), &held), Some(five));
        let keys: Vec<Vec<u8>> = s.records.iter().map(|kv| kv.unwrap().0).collect();
        assert_eq!(
            keys,
            [
                record("2", "").store_key(),
                record("3", "").store_key(),
                record("5", "").store_key()
            ]
        );
        // A whole commit, counted by the store.
        let c = s.import_begin().unwrap();
        s.import_stage(
            &c,
            &[record("3", "c@example.es"), record("4", "d@example.es")],
            &none,
        )
        .unwrap();
        let (counts, entry, _) = s.import_commit(&c, &note(), None, &none, 0).unwrap();
        assert_eq!((counts.new, counts.updated), (1, 1));
        assert_eq!(entry.detail["new"], 1);
        assert_eq!(s.records.len(), 4);
        assert_eq!(s.imports_in_progress(), 0);
        // Rows counted new as they were staged are counted again at the
        // commit when the records changed in between (another import).
        let e = s.import_begin().unwrap();
        s.import_stage(&e, &[record("6", "f@example.es")], &none)
            .unwrap();
        let f = s.import_begin().unwrap();
        s.import_stage(
            &f,
            &[record("6", "f@example.es"), record("7", "g@example.es")],
            &none,
        )
        .unwrap();
        let (counts, ..) = s.import_commit(&f, &note(), None, &none, 0).unwrap();
        assert_eq!((counts.new, counts.updated), (2, 0));
        let (counts, ..) = s.import_commit(&e, &note(), None, &none, 0).unwrap();
        assert_eq!((counts.new, counts.updated), (0, 1));
        assert_eq!(s.records.len(), 6);
        // Nothing of the staging is left beside the store.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(ROWS_SUFFIX))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // An id that is not an import in progress is refused.
        assert!(s.import_stage("../cases", &[], &none).is_err());
        assert!(s.import_commit(&c, &note(), None, &none, 0).is_err());
    }

    #[test]
    fn a_record_twice_in_one_export_is_counted_once_and_its_last_row_wins() {
        let t = tempfile::tempdir().unwrap();
        let s = Store::open(&t.path().join("store")).unwrap();
        let none = |_: &SourceRecord| Vec::new();
        let mut rows: Vec<SourceRecord> = (0..25_000)
            .map(|i| record(&i.to_string(), &format!("p{i}@example.es")))
            .collect();
        // Record 7 three times, in three batches (so in three sorted runs);
        // record 9 three times in one batch (one run).
        rows[24_000] = record("7", "last@example.es");
        rows[12_345] = record("7", "middle@example.es");
        rows[100] = record("9", "second@example.es");
        rows[101] = record("9", "third@example.es");
        let id = s.import_begin().unwrap();
        for batch in rows.chunks(2_000) {
            s.import_stage(&id, batch, &none).unwrap();
        }
        let (counts, ..) = s.import_commit(&id, &note(), None, &none, 0).unwrap();
        // Rows 100, 101, 12,345 and 24,000 were records of their own: they
        // went.
        assert_eq!((counts.new, counts.updated), (24_996, 0));
        assert_eq!(s.records.len(), 24_996);
        for (key, last) in [("7", "last@example.es"), ("9", "third@example.es")] {
            let k = record(key, "").store_key();
            let held = s.records.get(&k).unwrap().unwrap();
            let back = s.record_from(&k, &held).unwrap();
            assert_eq!(back.emails, [last]);
        }
        assert_eq!(s.imports_in_progress(), 0);
    }

    #[test]
    fn a_committed_import_whose_rows_were_damaged_lets_the_store_open_and_says_so() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("store");
        let none = |_: &SourceRecord| Vec::new();
        {
            let s = Store::open(&dir).unwrap();
            let id = s.import_begin().unwrap();
            s.import_stage(&id, &[record("1", "a@example.es")], &none)
                .unwrap();
            marker_only(&s, &id);
            // The disk loses the file's last byte before the next start.
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(s.rows_path(&id))
                .unwrap();
            let len = f.metadata().unwrap().len();
            f.set_len(len - 1).unwrap();
            // A committed import is never abandoned by its caller.
            s.import_abandon(&id).unwrap();
            assert!(s.rows_path(&id).exists());
        }
        let s = open_again(&dir);
        assert_eq!(s.recover_imports(&none).unwrap(), (0, 1));
        assert_eq!(s.imports_in_progress(), 0);
        assert_eq!(s.records.len(), 0);
        let last = s.head().unwrap();
        let entry = s.entry_at(last.seq).unwrap();
        assert_eq!(entry.kind, "import-unfinished");
        assert!(entry.detail["why"].as_str().unwrap().contains("damaged"));
        // Nothing is left to finish at the next start.
        assert_eq!(s.recover_imports(&none).unwrap(), (0, 0));
    }

    #[test]
    fn a_kill_leaves_no_size_for_sleds_own_recovery_to_be_mistaken_for_truncation() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("store");
        let size = dir.join(super::super::SIZE_FILE);
        let none = |_: &SourceRecord| Vec::new();
        drop(Store::open(&dir).unwrap());
        assert!(size.exists(), "a clean close notes the size");
        let s = open_again(&dir);
        assert!(!size.exists(), "an open store has none to go stale");
        let id = s.import_begin().unwrap();
        s.import_stage(&id, &[record("1", "a@example.es")], &none)
            .unwrap();
        // A kill: no clean close, so no size for the next open to hold
        // sled's recovery (which may shorten the file) against.
        std::mem::forget(s);
        assert!(!size.exists());
    }
}
