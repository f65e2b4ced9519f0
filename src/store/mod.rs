//! The store: sled trees holding cases, the audit chain and metadata.
//!
//! Every change lands in one multi-tree transaction together with its audit
//! entry, and the store is flushed before the change is acknowledged.

pub mod backup;
pub mod chain;
mod deadlines;
pub mod doctor;
pub mod files;
pub mod layout;
mod record_blocks;
pub use record_blocks::laid_bare;
mod record_codec;
mod staging;

pub use files::{ensure_private_dir, tighten_files};

use crate::domain::audit::{sha256_hex, verify_chain, AuditEntry, ChainBreak};
use crate::domain::{Case, CaseId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;
use std::path::{Path, PathBuf};

/// Bumped whenever the stored shape changes incompatibly. 2: source
/// records in blocks (`record_blocks`), which a desk reading 1 would not
/// see; 3: blocks whose header gives their compressed length, which a
/// build reading 2 took for damaged (it never left the repository, but a
/// desk that cannot read the blocks must refuse the store, not index it
/// as empty). A store at 1 or 2 is taken as it is (its records are read
/// where and as they are) and marked 3.
pub const SCHEMA_VERSION: u32 = 3;
/// Schemas this desk opens and brings to `SCHEMA_VERSION` as they are.
const SCHEMA_OPENED: &[&str] = &["1", "2", "3"];

const TREE_CASES: &str = "cases";
const TREE_AUDIT: &str = "audit";
const TREE_META: &str = "meta";
const TREE_RECORDS: &str = "records";
const TREE_SPLITS: &str = "splits";
const TREE_SUPPRESSION: &str = "suppression";
const TREE_MARKS: &str = "marks";
/// The organisation's key for keyed hashes of identifiers (32 random bytes).
const KEY_PSEUDONYM: &[u8] = b"pseudonym_key";
const KEY_SCHEMA: &[u8] = b"schema_version";
/// Beside sled's files: the length of sled's `db` file when the desk last
/// closed the store cleanly. sled repairs a short file by rewriting it, so a
/// truncated store must be caught before sled opens it. It is written only
/// at a clean close and removed at open: after a kill sled's own recovery
/// may shorten the file (it drops the torn tail and freed segments), which
/// is no truncation; a store rolled back after a kill is caught by the
/// chain's seen head instead (`chain.rs`).
const SIZE_FILE: &str = "rightsdesk.size";
/// The desk's operations log, beside the store (see `Store::log_line`).
pub const LOG_FILE: &str = "rightsdesk.log";
const KEY_HEAD: &[u8] = b"audit_head";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store {} is in use by another rightsdesk process: close that desk (or wait for its command) and try again; if it is `rightsdesk serve`, reach it through its socket (RIGHTSDESK_SOCKET, or the machine's rightsdesk.toml)", .path.display())]
    Busy { path: PathBuf },
    #[error("the store {} is damaged ({detail}); nothing was changed. `rightsdesk doctor` lists what it finds without changing anything; if the store itself is damaged, restore it from a backup", .path.display())]
    Corrupt { path: PathBuf, detail: String },
    #[error("the store {} has schema version {found}; this rightsdesk reads version {expected}", .path.display())]
    Schema {
        path: PathBuf,
        found: String,
        expected: u32,
    },
    #[error("no case {0}")]
    NotFound(CaseId),
    /// One message, one case: the inbox never opens a request twice.
    #[error("this message is already case {case}: a message is opened as one case only")]
    MessageTaken { case: String },
    #[error("case {id} was changed by someone else (version {found}, expected {expected}); reload it and try again")]
    Conflict {
        id: CaseId,
        expected: u64,
        found: u64,
    },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store {}: {detail}", .path.display())]
    Sled { path: PathBuf, detail: String },
    #[error("the chain key {} is missing, and the store's audit chain is sealed with it: put back the copy kept with the server's credentials (nothing was changed)", .path.display())]
    ChainKeyMissing { path: PathBuf },
    #[error("the disk holding the store {} is full ({} KiB free; a change needs {} KiB spare): nothing was changed. Free some space and try again", .path.display(), .free / 1024, .need / 1024)]
    DiskFull { path: PathBuf, free: u64, need: u64 },
    /// An import in batches asked for something its state does not allow.
    #[error("import: {0}")]
    Import(String),
    /// An import committed (its audit entry written) whose rows could not
    /// all be applied yet: the next start applies them.
    #[error("import: the import was committed and its audit entry written, but applying its rows stopped ({why}); nothing is lost: the next start of the desk finishes it once the cause is gone")]
    ImportUnfinished { why: String },
    /// sled writes a snapshot as it opens a store, so even a read needs room.
    #[error("the disk holding the store {} is full ({} KiB free): the store cannot be opened, even to read, until some space is freed; nothing was changed and nothing is lost", .path.display(), .free / 1024)]
    NoRoomToOpen { path: PathBuf, free: u64 },
}

/// sled's page cache: what the store holds in memory at most, whatever
/// its size (measured in the issue 18 note).
const STORE_CACHE_BYTES: u64 = 64 << 20;

/// Space a change must leave free on the store's disk. sled does not fail
/// cleanly when the disk fills under it (a write can wait for ever, or leave
/// an unfinished snapshot), so the desk refuses a change that could bring it
/// near full: one clear error instead.
pub(crate) const SPARE_BYTES: u64 = 8 << 20;

/// What a change records in the audit chain, besides the case it touches.
#[derive(Debug, Clone)]
pub struct AuditNote {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub detail: serde_json::Value,
}

/// The newest audit entry: what the next one links to.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Head {
    seq: u64,
    hash: String,
}

/// Result of proving the store: the chain and every case against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    pub cases: u64,
    /// Entries not sealed with the chain key: written before it existed, or
    /// taken from a backup with `restore --unsealed`. Said with every proof.
    pub unsealed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Chain(#[from] ChainBreak),
    #[error("case {case} does not match its last audit entry #{seq} (altered outside the desk)")]
    CaseAltered { case: CaseId, seq: u64 },
    #[error("case {case} has no audit entry (written outside the desk)")]
    CaseUnlogged { case: CaseId },
    #[error("{0}")]
    Unreadable(String),
    #[error("the store's chain ends at entry #{now}, but this data directory saw it reach #{}: the store was rolled back (an older copy put in its place); the head it saw was {seen}", .seen.seq)]
    RolledBack { seen: chain::ChainHead, now: u64 },
    #[error("entry #{} is not the one this data directory saw ({seen}): the store was rolled back and written on, or its chain rewritten", .seen.seq)]
    Rewritten { seen: chain::ChainHead },
    #[error("the head this data directory saw cannot be read ({0}): it was emptied or edited; compare the chain with a head written down elsewhere (`audit verify --against SEQ:HASH`)")]
    HeadUnreadable(String),
    #[error("the chain does not hold the head {given}: {why}")]
    NotThisHead {
        given: chain::ChainHead,
        why: String,
    },
}

/// Cheap to clone: every clone shares the same sled database.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    cases: sled::Tree,
    audit: sled::Tree,
    meta: sled::Tree,
    /// Source records, in blocks (`record_blocks`).
    records: record_blocks::Records,
    splits: sled::Tree,
    suppression: sled::Tree,
    marks: sled::Tree,
    /// One entry per open case by due date (`deadlines.rs`).
    deadlines: sled::Tree,
    /// The calendar the deadlines are kept with; none in a store opened
    /// bare, whose case writes then mark the tree for a rebuild.
    deadline_calendar: Option<std::sync::Arc<crate::domain::HolidayCalendar>>,
    /// The `db` length last seen (written to `SIZE_FILE` at a clean close).
    recorded_len: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Writes `SIZE_FILE` when the last clone of the store goes.
    _close: std::sync::Arc<CloseMark>,
    /// Seals new audit entries (see `chain`); none for a store not yet
    /// given one (a restore in progress, a store from before the key).
    chain_key: Option<std::sync::Arc<crate::domain::audit::ChainKey>>,
    /// Whether this store's chain still holds the head its data directory
    /// last saw. When it does not (an older store copied back), the seen head
    /// is kept as it is: new changes must not write the evidence over.
    continues_seen: bool,
    /// Headers of the records' columns, by id (`record_codec`).
    columns: record_codec::ColumnCache,
    /// Imports this process is staging (`staging.rs`).
    staging: staging::StagingMap,
}

/// What a case change writes beside the case, in the same transaction.
#[derive(Debug, Default, Clone)]
pub struct Beside {
    /// Suppression list entries, keyed by hash.
    pub suppress: Vec<crate::domain::register::Suppression>,
    pub marks: Vec<crate::domain::register::BackupMark>,
    /// Source records (store keys) removed from the index.
    pub remove_records: Vec<Vec<u8>>,
}

/// How an import changed the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub new: u64,
    pub updated: u64,
    /// Rows older than the record already held (by the record's own last
    /// activity): the newer one is kept, never replaced by an old export.
    pub older: u64,
    /// Rows with no date of their own nor an export date, for a record held
    /// with one: kept as held.
    pub undated: u64,
    /// Identifiers newly put on the suppression list (unsubscribed rows).
    pub suppressed: u64,
}

/// A read-only handle on the source records, for a worker thread.
#[derive(Clone)]
pub struct RecordReader {
    records: record_blocks::Records,
    splits: sled::Tree,
    meta: sled::Tree,
    columns: record_codec::ColumnCache,
}

impl RecordReader {
    /// Every stored record; a record that cannot be read is skipped and
    /// counted (a damaged block once). For tests and tools: the desk reads
    /// records one at a time (`each`).
    pub fn load(&self) -> (Vec<crate::domain::record::SourceRecord>, usize) {
        let unreadable = std::sync::atomic::AtomicUsize::new(0);
        let records = self.each(&unreadable).collect();
        (records, unreadable.into_inner())
    }

    /// Every record readable, one at a time (memory does not grow with
    /// the store); `unreadable` counts what could not be read (a record,
    /// or a damaged block of them), for the caller to refuse to go on.
    pub fn each<'a>(
        &'a self,
        unreadable: &'a std::sync::atomic::AtomicUsize,
    ) -> impl Iterator<Item = crate::domain::record::SourceRecord> + 'a {
        self.records.iter().filter_map(move |kv| {
            let record = kv.ok().and_then(|(k, v)| self.record_from(&k, &v));
            if record.is_none() {
                unreadable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            record
        })
    }

    /// Store keys of records staff split off from their linked subject.
    pub fn splits(&self) -> std::collections::HashSet<Vec<u8>> {
        self.splits
            .iter()
            .keys()
            .filter_map(Result::ok)
            .map(|k| k.to_vec())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// One record by store key, if it is there and readable.
    pub fn get(&self, store_key: &[u8]) -> Option<crate::domain::record::SourceRecord> {
        let v = self.records.get(store_key).ok()??;
        self.record_from(store_key, &v)
    }

    /// A record from its store key and stored bytes (any encoding the
    /// desk ever wrote); `None` if they are not one.
    pub(crate) fn record_from(
        &self,
        key: &[u8],
        value: &[u8],
    ) -> Option<crate::domain::record::SourceRecord> {
        record_codec::decode(key, value, &|id| self.columns.get(&self.meta, id))
    }

    /// Records holding any of `email_keys` / `phone_keys` (normalised), by a
    /// scan that decodes only rows whose bytes could match. Returns the store
    /// key and the record.
    pub fn holding(
        &self,
        email_keys: &[String],
        phone_keys: &[String],
        default_cc: &str,
    ) -> Vec<(Vec<u8>, crate::domain::record::SourceRecord)> {
        use crate::domain::identifier::{email_key, phone_key};
        // An e-mail is stored as typed (any case); the last 6 digits of a phone
        // appear in any format that keeps digits together at the end.
        let needles: Vec<Vec<u8>> = email_keys
            .iter()
            .map(|e| e.as_bytes().to_vec())
            .chain(phone_keys.iter().map(|p| {
                let d: String = p.chars().filter(char::is_ascii_digit).collect();
                d.as_bytes()[d.len().saturating_sub(4)..].to_vec()
            }))
            .filter(|n| !n.is_empty())
            .collect();
        if needles.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for kv in self.records.iter().filter_map(Result::ok) {
            let (k, v) = kv;
            let lower = v.to_ascii_lowercase();
            if !needles.iter().any(|n| contains(&lower, n)) {
                continue;
            }
            let Some(r) = self.record_from(&k, &v) else {
                continue;
            };
            let hit = r
                .emails
                .iter()
                .filter_map(|e| email_key(e))
                .any(|e| email_keys.contains(&e))
                || r.phones
                    .iter()
                    .filter_map(|p| phone_key(p, default_cc))
                    .any(|p| phone_keys.contains(&p));
            if hit {
                out.push((k.to_vec(), r));
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// Errors raised inside a transaction closure.
enum TxAbort {
    Conflict {
        expected: u64,
        found: u64,
    },
    Decode(String),
    /// The message a new case is opened from is another case's already.
    Taken {
        case: String,
    },
}

impl Store {
    /// Opens (or creates) the store in `dir`, which is created private (0700).
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        ensure_private_dir(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.to_path_buf();
        check_not_truncated(dir)?;
        let chain_key = chain::load_key(&data_dir_of(dir))
            .map_err(|source| StoreError::Io {
                path: chain::key_path(&data_dir_of(dir)),
                source,
            })?
            .map(std::sync::Arc::new);
        let db = sled::Config::new()
            .path(dir)
            // sled's page cache defaults to 1 GiB: the desk's memory would
            // grow with the store up to it. The index and the OS's file
            // cache do the reading; this bounds the store's share.
            .cache_capacity(STORE_CACHE_BYTES)
            .open()
            .map_err(|e| open_error(dir, e))?;
        let tree = |name: &str| db.open_tree(name).map_err(|e| open_error(dir, e));
        // Checked above; from now on a kill leaves no size to check against
        // (sled's recovery may shorten the file), a clean close writes it.
        let _ = std::fs::remove_file(dir.join(SIZE_FILE));
        let close = std::sync::Arc::new(CloseMark {
            path: dir.to_path_buf(),
            db: db.clone(),
        });
        let store = Store {
            cases: tree(TREE_CASES)?,
            audit: tree(TREE_AUDIT)?,
            meta: tree(TREE_META)?,
            records: record_blocks::Records::new(
                tree(record_blocks::TREE_BLOCKS)?,
                tree(TREE_RECORDS)?,
            ),
            splits: tree(TREE_SPLITS)?,
            suppression: tree(TREE_SUPPRESSION)?,
            marks: tree(TREE_MARKS)?,
            deadlines: tree(deadlines::TREE_DEADLINES)?,
            deadline_calendar: None,
            db,
            path,
            recorded_len: Default::default(),
            _close: close,
            chain_key,
            continues_seen: true,
            columns: Default::default(),
            staging: Default::default(),
        };
        store.record_len();
        store.check_schema()?;
        let mut store = store;
        store.continues_seen = store.seen_head_problem().is_none();
        tighten_files(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A record from its store key and stored bytes; `None` if not one.
    fn record_from(&self, key: &[u8], value: &[u8]) -> Option<crate::domain::record::SourceRecord> {
        record_codec::decode(key, value, &|id| self.columns.get(&self.meta, id))
    }

    /// Gives the store its chain key when its data directory has none yet:
    /// entries from the next one on are sealed. A chain already sealed
    /// whose key is gone is refused rather than sealed anew.
    pub fn ensure_chain_key(&mut self) -> Result<(), StoreError> {
        if self.chain_key.is_some() {
            return Ok(());
        }
        let data_dir = data_dir_of(&self.path);
        if self.chain_is_sealed() {
            return Err(StoreError::ChainKeyMissing {
                path: chain::key_path(&data_dir),
            });
        }
        let from = self.head().map_or(1, |h| h.seq + 1);
        let key = chain::create_key(&data_dir, from).map_err(|source| StoreError::Io {
            path: chain::key_path(&data_dir),
            source,
        })?;
        self.chain_key = Some(std::sync::Arc::new(key));
        Ok(())
    }

    /// Why the chain does not hold the head its data directory last saw
    /// (rolled back, or rewritten), if it does not.
    pub fn seen_head_problem(&self) -> Option<VerifyError> {
        let seen = match chain::read_seen_head(&data_dir_of(&self.path)) {
            Ok(s) => s?,
            Err(why) => return Some(VerifyError::HeadUnreadable(why)),
        };
        let now = self.head().map_or(0, |h| h.seq);
        if seen.seq > now {
            return Some(VerifyError::RolledBack { seen, now });
        }
        self.verify_against(&seen)
            .err()
            .map(|_| VerifyError::Rewritten { seen })
    }

    /// Whether any audit entry is sealed with a chain key (a sealed chain
    /// ends sealed: no unsealed entry may follow a sealed one).
    pub fn chain_is_sealed(&self) -> bool {
        self.head()
            .and_then(|h| self.entry_at(h.seq))
            .is_some_and(|e| e.v >= 2)
    }

    /// The audit entry numbered `seq`, if it is there and reads.
    fn entry_at(&self, seq: u64) -> Option<AuditEntry> {
        let v = self.audit.get(seq.to_be_bytes()).ok()??;
        serde_json::from_slice(&v).ok()
    }

    /// The chain's last entry: its number and hash.
    pub fn head(&self) -> Option<chain::ChainHead> {
        let v = self.meta.get(KEY_HEAD).ok()??;
        let h: Head = serde_json::from_slice(&v).ok()?;
        Some(chain::ChainHead {
            seq: h.seq,
            hash: h.hash,
        })
    }

    /// Whether the chain holds `head` (a head written down earlier, away
    /// from the store): a rollback or a rewrite since then fails.
    pub fn verify_against(&self, head: &chain::ChainHead) -> Result<(), VerifyError> {
        let not = |why: String| VerifyError::NotThisHead {
            given: head.clone(),
            why,
        };
        let now = self.head().map_or(0, |h| h.seq);
        if head.seq > now {
            return Err(not(format!(
                "the chain ends at #{now}: it was rolled back past it"
            )));
        }
        let entry = self
            .entry_at(head.seq)
            .ok_or_else(|| not(format!("entry #{} cannot be read", head.seq)))?;
        if entry.hash != head.hash {
            return Err(not(format!(
                "entry #{} has another hash: the chain was rewritten",
                head.seq
            )));
        }
        Ok(())
    }

    fn sled_err(&self, e: impl std::fmt::Display) -> StoreError {
        let detail = e.to_string();
        // sled reports a full disk as its own IO error, with the OS code.
        if detail.contains("code: 28") || detail.contains("No space left") {
            return disk_full(&self.path);
        }
        StoreError::Sled {
            path: self.path.clone(),
            detail,
        }
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        match self.meta.get(KEY_SCHEMA).map_err(|e| self.sled_err(e))? {
            Some(v) => {
                let found = String::from_utf8_lossy(&v).to_string();
                if !SCHEMA_OPENED.contains(&found.as_str()) {
                    return Err(StoreError::Schema {
                        path: self.path.clone(),
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
                if found != SCHEMA_VERSION.to_string() {
                    self.meta
                        .insert(KEY_SCHEMA, SCHEMA_VERSION.to_string().as_bytes())
                        .map_err(|e| self.sled_err(e))?;
                    self.flush()?;
                }
            }
            None => {
                if !self.cases.is_empty() || !self.audit.is_empty() {
                    return Err(StoreError::Schema {
                        path: self.path.clone(),
                        found: "none".into(),
                        expected: SCHEMA_VERSION,
                    });
                }
                self.meta
                    .insert(KEY_SCHEMA, SCHEMA_VERSION.to_string().as_bytes())
                    .map_err(|e| self.sled_err(e))?;
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Refuses a change of about `bytes` when the disk could fill under it.
    /// Room for an import's staged rows (`bytes` of them) in sled's file.
    fn room_for_rows(&self, bytes: u64) -> Result<(), StoreError> {
        self.room_needed(SPARE_BYTES + bytes)
    }

    fn room_for(&self, bytes: usize) -> Result<(), StoreError> {
        self.room_needed(SPARE_BYTES + 4 * bytes as u64)
    }

    fn room_needed(&self, need: u64) -> Result<(), StoreError> {
        match files::free_bytes(&self.path) {
            Ok(free) if free < need => Err(StoreError::DiskFull {
                path: self.path.clone(),
                free,
                need,
            }),
            _ => Ok(()),
        }
    }

    /// Makes every acknowledged change durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(|e| self.sled_err(e))?;
        self.record_len();
        Ok(())
    }

    /// Appends one line per acknowledged change to `rightsdesk.log` beside the
    /// store: time, actor, kind, case and the audit entry's detail — which by
    /// design holds ids, counts and choices, never names, addresses or free
    /// text — so operations can follow the desk without personal data.
    fn log_line(&self, entry: &AuditEntry) {
        let Some(dir) = self.path.parent() else {
            return;
        };
        if self.continues_seen {
            chain::note_head(
                dir,
                &chain::ChainHead {
                    seq: entry.seq,
                    hash: entry.hash.clone(),
                },
            );
        }
        let line = format!(
            "{} {} {} {} {}\n",
            entry.at.format("%Y-%m-%dT%H:%M:%SZ"),
            crate::domain::text::inert(&entry.actor),
            entry.kind,
            entry
                .case
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
            crate::domain::text::inert(&entry.detail.to_string()),
        );
        let _ = files::append_private(&dir.join(LOG_FILE), line.as_bytes());
    }

    /// Notes sled's `db` length (written beside it at a clean close).
    fn record_len(&self) {
        use std::sync::atomic::Ordering;
        if let Ok(meta) = std::fs::metadata(self.path.join("db")) {
            self.recorded_len.store(meta.len(), Ordering::Relaxed);
        }
    }

    /// Opens a new case: allocates the next id of `year` and writes the case
    /// and its audit entry in one transaction.
    pub fn insert_new_case(
        &self,
        year: u16,
        make: impl Fn(CaseId) -> Case,
        note: &AuditNote,
    ) -> Result<(Case, AuditEntry), StoreError> {
        self.room_for(64 << 10)?;
        let counter_key = format!("next_case/{year}");
        let out = (&self.cases, &self.audit, &self.meta, &self.deadlines)
            .transaction(|(cases, audit, meta, deadlines)| {
                let n = match meta.get(counter_key.as_bytes())? {
                    Some(v) => String::from_utf8_lossy(&v)
                        .parse::<u32>()
                        .map_err(|e| abort(TxAbort::Decode(e.to_string())))?,
                    None => 1,
                };
                let id = CaseId::new(year, n);
                let case = make(id);
                // A message opened as a case is noted by its Message-ID's
                // digest, in `meta` (so backups carry it): never a second
                // case of it.
                if let Some(message) = &case.message {
                    let key = message_key(&message.digest);
                    if let Some(taken) = meta.get(&key)? {
                        let case = String::from_utf8_lossy(&taken).into_owned();
                        return Err(abort(TxAbort::Taken { case }));
                    }
                    meta.insert(key, id.to_string().as_bytes())?;
                }
                meta.insert(counter_key.as_bytes(), (n + 1).to_string().as_bytes())?;
                let entry = self.write_case_and_entry(
                    Trees {
                        cases,
                        audit,
                        meta,
                        deadlines,
                    },
                    &case,
                    note,
                )?;
                Ok((case, entry))
            })
            .map_err(|e| self.tx_error(e, None))?;
        self.flush()?;
        self.log_line(&out.1);
        Ok(out)
    }

    /// Replaces a case whose stored version is `case.version - 1`, with its audit
    /// entry, in one transaction. A different stored version is a conflict.
    pub fn update_case(&self, case: &Case, note: &AuditNote) -> Result<AuditEntry, StoreError> {
        self.room_for(case_size(case))?;
        let entry = (&self.cases, &self.audit, &self.meta, &self.deadlines)
            .transaction(|(cases, audit, meta, deadlines)| {
                check_version(cases, case)?;
                let trees = Trees {
                    cases,
                    audit,
                    meta,
                    deadlines,
                };
                self.write_case_and_entry(trees, case, note)
            })
            .map_err(|e| self.tx_error(e, Some(case.id)))?;
        self.flush()?;
        self.log_line(&entry);
        Ok(entry)
    }

    /// Like `update_case`, and writes `beside` in the same transaction: a case
    /// never says a person was suppressed, marked or removed unless it happened.
    pub fn update_case_with(
        &self,
        case: &Case,
        note: &AuditNote,
        beside: &Beside,
    ) -> Result<AuditEntry, StoreError> {
        let sup: Vec<(Vec<u8>, Vec<u8>)> = beside
            .suppress
            .iter()
            .map(|x| {
                (
                    x.hash.as_bytes().to_vec(),
                    serde_json::to_vec(x).expect("serialises"),
                )
            })
            .collect();
        let marks: Vec<(Vec<u8>, Vec<u8>)> = beside
            .marks
            .iter()
            .map(|m| (m.store_key(), serde_json::to_vec(m).expect("serialises")))
            .collect();
        let beside_bytes: usize = sup
            .iter()
            .chain(&marks)
            .map(|(k, v)| k.len() + v.len())
            .sum();
        self.room_for(case_size(case) + beside_bytes)?;
        // The blocks the removed records are in, without them; no other
        // writer changes a block until this transaction is written.
        let removal = self
            .records
            .removal(&beside.remove_records)
            .map_err(|e| self.sled_err(e))?;
        let entry = (
            &self.cases,
            &self.audit,
            &self.meta,
            self.records.blocks_tree(),
            self.records.legacy_tree(),
            &self.suppression,
            &self.marks,
            &self.deadlines,
        )
            .transaction(
                |(cases, audit, meta, blocks, records, suppression, mark_tree, deadlines)| {
                    check_version(cases, case)?;
                    for (k, v) in &sup {
                        // The first reason a person was suppressed is kept.
                        if suppression.get(k)?.is_none() {
                            suppression.insert(k.as_slice(), v.as_slice())?;
                        }
                    }
                    for (k, v) in &marks {
                        mark_tree.insert(k.as_slice(), v.as_slice())?;
                    }
                    for (at, was, now) in &removal.blocks {
                        if blocks.get(at)?.as_ref() != Some(was) {
                            return Err(ConflictableTransactionError::Abort(TxAbort::Decode(
                                "the records changed while they were removed".into(),
                            )));
                        }
                        match now {
                            Some(v) => blocks.insert(at, v.as_slice())?,
                            None => blocks.remove(at)?,
                        };
                    }
                    for k in &removal.legacy {
                        records.remove(k.as_slice())?;
                    }
                    if !beside.remove_records.is_empty() {
                        meta.insert(RECORDS_STAMP, &new_stamp()[..])?;
                    }
                    let trees = Trees {
                        cases,
                        audit,
                        meta,
                        deadlines,
                    };
                    self.write_case_and_entry(trees, case, note)
                },
            )
            .map_err(|e| self.tx_error(e, Some(case.id)))?;
        drop(removal);
        self.flush()?;
        self.log_line(&entry);
        Ok(entry)
    }

    /// Adds suppression entries that come from no case (a marketing tool's
    /// unsubscribes), with one audit entry; returns how many were new.
    pub fn add_suppressions(
        &self,
        entries: &[crate::domain::register::Suppression],
        note: &AuditNote,
    ) -> Result<(u64, AuditEntry), StoreError> {
        self.room_for(entries.len() * 256)?;
        let out = (&self.suppression, &self.audit, &self.meta)
            .transaction(|(suppression, audit, meta)| {
                let mut new = 0u64;
                for x in entries {
                    if suppression.get(x.hash.as_bytes())?.is_none() {
                        suppression.insert(
                            x.hash.as_bytes(),
                            serde_json::to_vec(x).expect("serialises"),
                        )?;
                        new += 1;
                    }
                }
                let mut note = note.clone();
                note.detail["new"] = serde_json::json!(new);
                let entry =
                    append_entry(self.chain_key.as_deref(), audit, meta, &note, None, None)?;
                Ok((new, entry))
            })
            .map_err(|e| self.tx_error(e, None))?;
        self.flush()?;
        self.log_line(&out.1);
        Ok(out)
    }

    /// The suppression list, in hash order.
    pub fn suppression(&self) -> Result<Vec<crate::domain::register::Suppression>, StoreError> {
        self.decode_all(&self.suppression, "suppression entry")
    }

    /// Every backup exclusion mark, by case.
    pub fn marks(&self) -> Result<Vec<crate::domain::register::BackupMark>, StoreError> {
        self.decode_all(&self.marks, "backup mark")
    }

    fn decode_all<T: serde::de::DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        what: &str,
    ) -> Result<Vec<T>, StoreError> {
        tree.iter()
            .values()
            .map(|v| {
                let v = v.map_err(|e| self.sled_err(e))?;
                serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                    path: self.path.clone(),
                    detail: format!("a {what} cannot be read: {e}"),
                })
            })
            .collect()
    }

    /// The key for keyed hashes, made on first use and kept in the store (so a
    /// backup and restore keep every hash valid).
    pub fn pseudonym_key(&self) -> Result<Vec<u8>, StoreError> {
        if let Some(k) = self.meta.get(KEY_PSEUDONYM).map_err(|e| self.sled_err(e))? {
            return Ok(k.to_vec());
        }
        let mut key = vec![0u8; 32];
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut key))
            .map_err(|source| StoreError::Io {
                path: "/dev/urandom".into(),
                source,
            })?;
        // Two desks racing here: the first key written wins, both use it.
        let _ = self
            .meta
            .compare_and_swap(KEY_PSEUDONYM, None as Option<&[u8]>, Some(key.as_slice()))
            .map_err(|e| self.sled_err(e))?;
        self.flush()?;
        let k = self
            .meta
            .get(KEY_PSEUDONYM)
            .map_err(|e| self.sled_err(e))?
            .expect("just written");
        Ok(k.to_vec())
    }

    fn tx_error(&self, e: TransactionError<TxAbort>, id: Option<CaseId>) -> StoreError {
        match e {
            TransactionError::Abort(TxAbort::Conflict { expected, found }) => match id {
                Some(id) if found == 0 => StoreError::NotFound(id),
                Some(id) => StoreError::Conflict {
                    id,
                    expected,
                    found,
                },
                None => self.sled_err("conflict while opening a case"),
            },
            TransactionError::Abort(TxAbort::Taken { case }) => StoreError::MessageTaken { case },
            TransactionError::Abort(TxAbort::Decode(d)) => StoreError::Corrupt {
                path: self.path.clone(),
                detail: d,
            },
            TransactionError::Storage(e) => self.sled_err(e),
        }
    }

    /// Marks a record as not linked to anyone else (a wrong link split by staff).
    pub fn split_record(
        &self,
        store_key: &[u8],
        note: &AuditNote,
    ) -> Result<AuditEntry, StoreError> {
        self.room_for(4 << 10)?;
        let entry = (&self.splits, &self.audit, &self.meta)
            .transaction(|(splits, audit, meta)| {
                splits.insert(store_key, &[][..])?;
                meta.insert(RECORDS_STAMP, &new_stamp()[..])?;
                append_entry(self.chain_key.as_deref(), audit, meta, note, None, None)
            })
            .map_err(|e| self.tx_error(e, None))?;
        self.flush()?;
        self.log_line(&entry);
        Ok(entry)
    }

    /// Appends an entry about a case that does not change it (an access
    /// package sent): it joins the case's timeline, naming the case as it
    /// is stored.
    pub fn log_about(&self, id: CaseId, note: &AuditNote) -> Result<AuditEntry, StoreError> {
        self.room_for(4 << 10)?;
        let entry = (&self.cases, &self.audit, &self.meta)
            .transaction(|(cases, audit, meta)| {
                let bytes = cases.get(id.to_key())?.ok_or_else(|| {
                    abort(TxAbort::Conflict {
                        expected: 0,
                        found: 0,
                    })
                })?;
                append_entry(
                    self.chain_key.as_deref(),
                    audit,
                    meta,
                    note,
                    Some(id),
                    Some(sha256_hex(&bytes)),
                )
            })
            .map_err(|e| self.tx_error(e, Some(id)))?;
        self.flush()?;
        self.log_line(&entry);
        Ok(entry)
    }

    /// Appends an entry that concerns no case (backups, restores).
    pub fn log(&self, note: &AuditNote) -> Result<AuditEntry, StoreError> {
        self.room_for(4 << 10)?;
        let entry = (&self.audit, &self.meta)
            .transaction(|(audit, meta)| {
                append_entry(self.chain_key.as_deref(), audit, meta, note, None, None)
            })
            .map_err(|e| self.tx_error(e, None))?;
        self.flush()?;
        self.log_line(&entry);
        Ok(entry)
    }

    pub fn record_reader(&self) -> RecordReader {
        RecordReader {
            records: self.records.clone(),
            meta: self.meta.clone(),
            columns: self.columns.clone(),
            splits: self.splits.clone(),
        }
    }

    pub fn case(&self, id: CaseId) -> Result<Case, StoreError> {
        let v = self
            .cases
            .get(id.to_key())
            .map_err(|e| self.sled_err(e))?
            .ok_or(StoreError::NotFound(id))?;
        self.decode_case(&v)
    }

    fn decode_case(&self, v: &[u8]) -> Result<Case, StoreError> {
        serde_json::from_slice(v).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            detail: format!("a case record cannot be read: {e}"),
        })
    }

    /// Every case, in id order.
    pub fn cases(&self) -> Result<Vec<Case>, StoreError> {
        self.cases
            .iter()
            .map(|kv| {
                let (_, v) = kv.map_err(|e| self.sled_err(e))?;
                self.decode_case(&v)
            })
            .collect()
    }

    /// Cases after `after` in id order, up to about `budget` stored bytes;
    /// with the last id read when more may follow. (The service sends the
    /// queue in pages of this: a frame has a size limit, a queue has not.)
    pub fn cases_page(
        &self,
        after: Option<CaseId>,
        budget: usize,
    ) -> Result<(Vec<Case>, Option<CaseId>), StoreError> {
        use std::ops::Bound;
        let start = match after {
            Some(id) => Bound::Excluded(id.to_key().to_vec()),
            None => Bound::Unbounded,
        };
        let mut out = Vec::new();
        let mut used = 0;
        for kv in self.cases.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
            let (_, v) = kv.map_err(|e| self.sled_err(e))?;
            used += v.len();
            let case = self.decode_case(&v)?;
            let id = case.id;
            out.push(case);
            if used >= budget {
                return Ok((out, Some(id)));
            }
        }
        Ok((out, None))
    }

    /// The audit chain in order; entries that cannot be decoded carry the error.
    pub fn audit_raw(&self) -> impl Iterator<Item = (u64, Result<AuditEntry, String>)> + '_ {
        self.audit.iter().map(|kv| match kv {
            Ok((k, v)) => {
                let seq = k.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
                (
                    seq,
                    serde_json::from_slice::<AuditEntry>(&v).map_err(|e| e.to_string()),
                )
            }
            Err(e) => (0, Err(e.to_string())),
        })
    }

    /// The readable audit entries, optionally for one case.
    pub fn audit_entries(&self, case: Option<CaseId>) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        for (seq, e) in self.audit_raw() {
            let e = e.map_err(|d| StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!("audit entry #{seq}: {d}"),
            })?;
            if case.is_none() || e.case == case {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// The newest `limit` entries (of one case, or all), newest first: read
    /// from the end of the chain, so a viewer never decodes all of it.
    pub fn audit_tail(
        &self,
        case: Option<CaseId>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        // One case's entries are found by their id's bytes before decoding.
        let needle = case.map(|c| format!("\"{c}\""));
        for kv in self.audit.iter().rev() {
            if out.len() >= limit {
                break;
            }
            let (k, v) = kv.map_err(|e| self.sled_err(e))?;
            if let Some(n) = &needle {
                if !contains(&v, n.as_bytes()) {
                    continue;
                }
            }
            let e: AuditEntry = serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!("audit entry {}: {e}", crate::domain::pseudonym::hex(&k)),
            })?;
            if case.is_none() || e.case == case {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Proves the chain, then that every case is exactly what its last entry bound.
    /// Proves the chain (with the chain key), every case against it, and
    /// that the chain still holds the last head this data directory saw.
    pub fn verify(&self) -> Result<VerifyReport, VerifyError> {
        let report = self.verify_restored()?;
        match self.seen_head_problem() {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Proves the chain and every case, without the data directory's last
    /// seen head: for a store just rebuilt from a backup.
    pub fn verify_restored(&self) -> Result<VerifyReport, VerifyError> {
        let mut last_hash_of_case = std::collections::HashMap::new();
        let entries: Vec<_> = self.audit_raw().collect();
        let unsealed = entries
            .iter()
            .filter(|(_, e)| e.as_ref().is_ok_and(|e| e.v < 2))
            .count() as u64;
        for (seq, e) in &entries {
            if let Ok(e) = e {
                if let (Some(c), Some(h)) = (e.case, &e.case_sha256) {
                    last_hash_of_case.insert(c, (*seq, h.clone()));
                }
            }
        }
        let n = verify_chain(entries, self.chain_key.as_deref())?;
        let mut cases = 0;
        for kv in self.cases.iter() {
            let (k, v) = kv.map_err(|e| VerifyError::Unreadable(e.to_string()))?;
            let id = CaseId::from_key(&k)
                .ok_or_else(|| VerifyError::Unreadable("a case key is malformed".into()))?;
            match last_hash_of_case.get(&id) {
                None => return Err(VerifyError::CaseUnlogged { case: id }),
                Some((seq, h)) if *h != sha256_hex(&v) => {
                    return Err(VerifyError::CaseAltered {
                        case: id,
                        seq: *seq,
                    })
                }
                Some(_) => cases += 1,
            }
        }
        Ok(VerifyReport {
            entries: n,
            cases,
            unsealed,
        })
    }
}

fn abort(a: TxAbort) -> ConflictableTransactionError<TxAbort> {
    ConflictableTransactionError::Abort(a)
}

/// Inside a transaction: the stored case must be the version before `case`
/// (a different one is a conflict; none at all, not found).
fn check_version(
    cases: &TransactionalTree,
    case: &Case,
) -> Result<(), ConflictableTransactionError<TxAbort>> {
    let expected = case.version.saturating_sub(1);
    let stored = cases
        .get(case.id.to_key())?
        .ok_or_else(|| abort(TxAbort::Conflict { expected, found: 0 }))?;
    let found = serde_json::from_slice::<Case>(&stored)
        .map_err(|e| abort(TxAbort::Decode(e.to_string())))?
        .version;
    if found != expected {
        return Err(abort(TxAbort::Conflict { expected, found }));
    }
    Ok(())
}

/// The trees every case write touches, inside one transaction.
struct Trees<'a> {
    cases: &'a TransactionalTree,
    audit: &'a TransactionalTree,
    meta: &'a TransactionalTree,
    deadlines: &'a TransactionalTree,
}

impl Store {
    /// The one way a case is written: the case, its audit entry and its
    /// deadline entry, in the caller's transaction.
    fn write_case_and_entry(
        &self,
        t: Trees<'_>,
        case: &Case,
        note: &AuditNote,
    ) -> Result<AuditEntry, ConflictableTransactionError<TxAbort>> {
        let bytes = serde_json::to_vec(case).map_err(|e| abort(TxAbort::Decode(e.to_string())))?;
        let entry = append_entry(
            self.chain_key.as_deref(),
            t.audit,
            t.meta,
            note,
            Some(case.id),
            Some(sha256_hex(&bytes)),
        )?;
        t.cases.insert(&case.id.to_key(), bytes)?;
        deadlines::write(t.deadlines, self.deadline_calendar.as_deref(), case)?;
        Ok(entry)
    }
}

/// Where a message opened as a case is noted: by its digest (of id,
/// sender, date and subject), so `meta` holds nothing of a sender's address
/// and a case reduced to its stub leaves none behind.
fn message_key(digest: &str) -> Vec<u8> {
    [b"message/".as_slice(), digest.as_bytes()].concat()
}

impl Store {
    /// The cases these messages were opened as (those that were).
    pub fn cases_of_messages(
        &self,
        digests: &[String],
    ) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        for m in digests {
            if let Some(v) = self
                .meta
                .get(message_key(m))
                .map_err(|e| self.sled_err(e))?
            {
                out.insert(m.clone(), String::from_utf8_lossy(&v).into_owned());
            }
        }
        Ok(out)
    }
}

/// Where the records' stamp is kept: a random value given anew by every
/// change to the records or their splits, so a lookup index written at one
/// stamp is known to be of exactly those records.
const RECORDS_STAMP: &[u8] = b"records-stamp";

fn new_stamp() -> [u8; 16] {
    let mut s = [0u8; 16];
    // Without randomness, a stamp that cannot repeat across starts still
    // does: the time in nanoseconds.
    if getrandom::fill(&mut s).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        s = t.to_le_bytes();
    }
    s
}

impl Store {
    /// The records' stamp now (all zeros: never stamped, so no index
    /// written before can claim it — an index file's stamp is never zero).
    pub fn records_stamp(&self) -> Result<[u8; 16], StoreError> {
        let mut s = [0u8; 16];
        if let Some(v) = self.meta.get(RECORDS_STAMP).map_err(|e| self.sled_err(e))? {
            if v.len() == 16 {
                s.copy_from_slice(&v);
            }
        }
        Ok(s)
    }

    /// Gives the records a new stamp (their change has begun or ended).
    pub(crate) fn stamp_records(&self) -> Result<(), StoreError> {
        self.meta
            .insert(RECORDS_STAMP, &new_stamp()[..])
            .map_err(|e| self.sled_err(e))?;
        Ok(())
    }

    /// Where the lookup index's file lives: in the store's own directory,
    /// so a rebuild or restore, which replaces the directory, takes it too.
    pub fn lookup_index_path(&self) -> PathBuf {
        self.path.join(LOOKUP_INDEX)
    }

    /// Where the lookup index's delta lives (the records imports changed
    /// since its whole file was written).
    pub fn lookup_delta_path(&self) -> PathBuf {
        self.path.join(LOOKUP_DELTA)
    }

    /// Removes the lookup index's files (after records were removed: they
    /// hold their words). A mapped index reads on from the unlinked file.
    pub fn drop_lookup_files(&self) {
        let _ = files::remove_own_plain(&self.lookup_index_path());
        let _ = files::remove_own_plain(&self.lookup_delta_path());
    }
}

/// The lookup index's file, in the store's directory.
pub const LOOKUP_INDEX: &str = "lookup.idx";
pub const LOOKUP_DELTA: &str = "lookup.delta";

/// Appends one entry to the chain inside a transaction and moves the head.
fn append_entry(
    key: Option<&crate::domain::audit::ChainKey>,
    audit: &TransactionalTree,
    meta: &TransactionalTree,
    note: &AuditNote,
    case: Option<CaseId>,
    case_sha256: Option<String>,
) -> Result<AuditEntry, ConflictableTransactionError<TxAbort>> {
    let head: Option<Head> = match meta.get(KEY_HEAD)? {
        Some(v) => {
            Some(serde_json::from_slice(&v).map_err(|e| abort(TxAbort::Decode(e.to_string())))?)
        }
        None => None,
    };
    let entry = AuditEntry::next(
        key,
        head.as_ref().map(|h| (h.seq, h.hash.as_str())),
        note.at,
        &note.actor,
        case,
        &note.kind,
        note.detail.clone(),
        case_sha256,
    );
    let entry_bytes =
        serde_json::to_vec(&entry).map_err(|e| abort(TxAbort::Decode(e.to_string())))?;
    audit.insert(&entry.seq.to_be_bytes(), entry_bytes)?;
    let new_head = Head {
        seq: entry.seq,
        hash: entry.hash.clone(),
    };
    meta.insert(
        KEY_HEAD,
        serde_json::to_vec(&new_head).expect("head serialises"),
    )?;
    Ok(entry)
}

/// Turns sled's open errors into ones that name the store and say what to do.
fn open_error(dir: &Path, e: sled::Error) -> StoreError {
    let path = dir.to_path_buf();
    match e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Busy { path }
        }
        sled::Error::Corruption { at, .. } => StoreError::Corrupt {
            path,
            detail: match at {
                Some(at) => format!("corruption detected at {at}"),
                None => "corruption detected".into(),
            },
        },
        sled::Error::Io(source) if source.raw_os_error() == Some(libc::ENOSPC) => {
            StoreError::NoRoomToOpen {
                free: files::free_bytes(&path).unwrap_or(0),
                path,
            }
        }
        sled::Error::Io(source) => StoreError::Io { path, source },
        other => StoreError::Sled {
            path,
            detail: other.to_string(),
        },
    }
}

/// The disk under the store has no room (sled met ENOSPC, or a change
/// would bring it too near).
fn disk_full(path: &Path) -> StoreError {
    StoreError::DiskFull {
        path: path.to_path_buf(),
        free: files::free_bytes(path).unwrap_or(0),
        need: SPARE_BYTES,
    }
}

/// The data directory a store directory sits in.
fn data_dir_of(store: &Path) -> PathBuf {
    store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// About how many bytes a case takes when written.
fn case_size(case: &Case) -> usize {
    serde_json::to_vec(case).map(|v| v.len()).unwrap_or(0)
}

/// Whether `needle` occurs in `hay` (both already lower-cased).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Refuses a store whose `db` file is shorter than when it was last used,
/// before sled can "repair" it (and so overwrite what is left).
/// At a clean close (the last clone of the store dropped): the store is
/// flushed and its `db` length noted for the next open's check.
struct CloseMark {
    path: PathBuf,
    db: sled::Db,
}

impl Drop for CloseMark {
    fn drop(&mut self) {
        if self.db.flush().is_ok() {
            if let Ok(m) = std::fs::metadata(self.path.join("db")) {
                let _ = files::write_private_small(
                    &self.path.join(SIZE_FILE),
                    m.len().to_string().as_bytes(),
                );
            }
        }
    }
}

pub(crate) fn check_not_truncated(dir: &Path) -> Result<(), StoreError> {
    let Ok(text) = std::fs::read_to_string(dir.join(SIZE_FILE)) else {
        return Ok(()); // a new store, or one from before this check
    };
    let Ok(expected) = text.trim().parse::<u64>() else {
        return Ok(());
    };
    let actual = std::fs::metadata(dir.join("db"))
        .map(|m| m.len())
        .unwrap_or(0);
    if actual < expected {
        return Err(StoreError::Corrupt {
            path: dir.to_path_buf(),
            detail: format!(
                "its file db is {actual} bytes but was {expected} when last used: it was truncated or replaced"
            ),
        });
    }
    Ok(())
}
