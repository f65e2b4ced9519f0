//! The operations staff perform: one API that both faces (desk and command line)
//! call. Each operation is one store transaction plus its audit entry.

pub mod actor;
pub mod checkup;
pub mod demo;
pub mod files_at_hand;
pub mod index;
mod index_files;
pub mod mailbox;
pub mod ops;
mod ops_desk;
pub use ops_desk::{offline, once_released};
pub mod package;
pub mod paths;
pub mod pdf;
pub mod records;
mod rights;
pub mod synth;
pub use rights::{
    check_rows, AccessExport, AccessPackage, BackupHit, CheckHit, Holdings, PlanProposal,
    SuppressionHit,
};

use crate::domain::audit::AuditEntry;
use crate::domain::change::{decide, Ask, Facts, Refused};
use crate::domain::lifecycle::FieldError;
use crate::domain::settings::Settings;
use crate::domain::source::CatalogueError;
use crate::domain::{Case, CaseId, Catalogue, Clock, HolidayCalendar, NewCase, Refusal, Step};
use crate::store::{AuditNote, Store, StoreError, VerifyError, VerifyReport};
use chrono::{DateTime, Local, NaiveDate, Utc};
use paths::SettingsLoadError;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the case cannot be opened: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("unknown source '{id}' (the catalogue has: {known})")]
    UnknownSource { id: String, known: String },
    /// `init` refused: the data directory is set up already, or not ours.
    #[error("init: {0}")]
    SetUp(String),
    #[error("there is no record '{}' from {} to split off", crate::domain::text::inert(.key), crate::domain::text::inert(.from))]
    NoSuchRecord { from: String, key: String },
    #[error(transparent)]
    Settings(#[from] SettingsLoadError),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Calendar(#[from] crate::domain::calendar::CalendarError),
    /// The organisation's request phrases (`request-phrases.toml`) are wrong.
    #[error("request phrases {0}")]
    Phrases(#[from] crate::domain::request_words::PhraseError),
    /// The organisation's letter sentences (`letters.toml`) are wrong.
    #[error("letters {0}")]
    Letters(#[from] crate::domain::letter_text::LetterTextError),
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("restore: {0}")]
    Restore(String),
    /// The team service refused or failed, or could not be reached (its
    /// message says which).
    #[error("{message}")]
    Remote {
        kind: ops::ErrorKind,
        message: String,
    },
}

impl From<Refused> for DeskError {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Rule(r) => DeskError::Refused(r),
            Refused::UnknownSource { id, known } => DeskError::UnknownSource { id, known },
        }
    }
}

impl DeskError {
    /// A source the catalogue does not have, with those it has.
    pub fn unknown_source(catalogue: &Catalogue, id: &str) -> DeskError {
        DeskError::UnknownSource {
            id: id.to_string(),
            known: catalogue.ids().join(", "),
        }
    }

    /// Another officer changed the case since this one loaded it.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            DeskError::Store(StoreError::Conflict { .. })
                | DeskError::Remote {
                    kind: ops::ErrorKind::Conflict,
                    ..
                }
        )
    }

    /// How the error travels to a client of the team service.
    pub fn kind(&self) -> ops::ErrorKind {
        use ops::ErrorKind;
        match self {
            DeskError::Refused(_)
            | DeskError::Invalid(_)
            | DeskError::SetUp(_)
            | DeskError::UnknownSource { .. }
            | DeskError::NoSuchRecord { .. }
            | DeskError::Store(StoreError::MessageTaken { .. }) => ErrorKind::Refused,
            DeskError::Store(StoreError::Conflict { .. }) => ErrorKind::Conflict,
            DeskError::Store(StoreError::NotFound(_)) => ErrorKind::NotFound,
            DeskError::Remote { kind, .. } => *kind,
            _ => ErrorKind::Failed,
        }
    }
}

/// Most urgent first: by effective due date, cases whose clock is stopped
/// (awaiting ID) after those with a date, then by id.
pub fn sort_queue(views: &mut [CaseView]) {
    views.sort_by_key(|v| {
        (
            v.clock.effective_due().is_none(),
            v.clock.effective_due(),
            v.case.id,
        )
    });
}

/// An export read and checked whole, not yet written: where the officer
/// runs the desk (their file), before it goes to the store (the
/// service's), in batches. (A delimited export is streamed instead: see
/// `files_at_hand::import_file`.)
#[derive(Debug, Clone)]
pub struct ParsedImport {
    pub summary: ImportSummary,
    pub records: Vec<crate::domain::record::SourceRecord>,
}

/// What an import says of its file besides the rows (which travel in
/// batches): where the report and the audit entry get it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ImportSummary {
    /// The file's name (no directories: those say nothing to the audit log).
    pub file: String,
    pub format: crate::import::Format,
    pub sha256: String,
    /// The export's own date, from its file name (e.g. contacts-2026-10-02.csv):
    /// the date of rows that carry none.
    #[serde(default)]
    pub exported_on: Option<NaiveDate>,
    /// Mailbox messages that could not be read, each with its line.
    #[serde(default)]
    pub skipped: Vec<crate::import::mbox::Skipped>,
    /// The column map read from a plain CSV's header (as `--map` takes it).
    #[serde(default)]
    pub columns: Option<String>,
    /// The charset it was read in, and a delimited file's separator.
    #[serde(default)]
    pub encoding: String,
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Columns of a plain CSV's header its map left unread.
    #[serde(default)]
    pub unread_columns: Vec<String>,
}

/// A date in a file name: YYYY-MM-DD, else YYYY-MM (its first day).
pub fn date_in_name(name: &str) -> Option<NaiveDate> {
    let b = name.as_bytes();
    let digits = |i: usize, n: usize| {
        b.get(i..i + n)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let mut month = None;
    for i in 0..b.len() {
        if digits(i, 4) && matches!(b.get(i + 4), Some(b'-' | b'_')) && digits(i + 5, 2) {
            let y = &name[i..i + 4];
            let m = &name[i + 5..i + 7];
            if matches!(b.get(i + 7), Some(b'-' | b'_')) && digits(i + 8, 2) {
                let d = &name[i + 8..i + 10];
                if let Ok(date) = NaiveDate::parse_from_str(&format!("{y}-{m}-{d}"), "%Y-%m-%d") {
                    return Some(date);
                }
            }
            month = month
                .or_else(|| NaiveDate::parse_from_str(&format!("{y}-{m}-01"), "%Y-%m-%d").ok());
        }
    }
    month
}

impl ParsedImport {
    /// Reads and parses one export; a bad row is refused with file, line and field.
    pub fn read(
        source: &str,
        path: &Path,
        how: &crate::import::ReadAs,
        progress: &mut dyn FnMut(&str, usize),
    ) -> Result<ParsedImport, DeskError> {
        progress("reading", 0);
        // A FIFO would wait for ever and a device never ends: only a file.
        let regular = std::fs::metadata(path)
            .map(|m| m.is_file())
            .map_err(|source| DeskError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        if !regular {
            return Err(DeskError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::other("is not a regular file"),
            });
        }
        let bytes = std::fs::read(path).map_err(|source| DeskError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parsed =
            crate::import::parse_with_skipped(&path.display().to_string(), &bytes, source, how)?;
        progress("parsed", parsed.records.len());
        Ok(ParsedImport {
            summary: ImportSummary {
                exported_on: date_in_name(&file),
                file,
                format: parsed.format,
                sha256: crate::domain::audit::sha256_hex(&bytes),
                skipped: parsed.skipped,
                columns: parsed.columns.map(|m| m.to_string()),
                encoding: parsed.encoding,
                delimiter: parsed.delimiter.map(str::to_string),
                unread_columns: Vec::new(),
            },
            records: parsed.records,
        })
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RebuildReport {
    pub records: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Rewrites the store from scratch so that deleted and overwritten bytes are
/// really gone (sled keeps them in its files until it happens to rewrite them).
/// Backup → restore into `store.rebuilding` → verify → swap by two renames;
/// a kill at any step is finished or rolled back by the next start (see
/// [`crate::store::layout`]), and on any error the store is left as it was.
pub fn rebuild(data_dir: &Path) -> Result<RebuildReport, DeskError> {
    use crate::store::layout::{self, DirLock};
    let lock =
        std::sync::Arc::new(DirLock::exclusive(data_dir).map_err(|e| lock_error(data_dir, e))?);
    layout::recover(data_dir).map_err(io_at(data_dir))?;
    let store_dir = data_dir.join(layout::STORE);
    let new_dir = data_dir.join(layout::REBUILDING);
    let old_dir = data_dir.join(layout::OLD);
    let dump = data_dir.join(layout::DUMP);
    let bytes_before = dir_size(&store_dir);
    {
        let desk = Desk::open_held(data_dir, lock.clone())?;
        desk.store
            .log(&desk.note("rebuild", serde_json::json!({})))?;
        desk.write_backup_file(&dump)?;
    }
    let result = build_store_from(&dump, &new_dir, "rebuilt");
    let _ = std::fs::remove_file(&dump);
    let records = match result {
        Ok((n, ..)) => n,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&new_dir);
            return Err(e);
        }
    };
    std::fs::rename(&store_dir, &old_dir).map_err(io_at(&store_dir))?;
    // A kill here leaves store.old and store.rebuilding: the next start
    // finishes the swap (the rebuilt store is complete and verified).
    if let Err(e) = layout::appear(&new_dir, &store_dir) {
        let _ = std::fs::rename(&old_dir, &store_dir);
        return Err(io_at(&new_dir)(e));
    }
    std::fs::remove_dir_all(&old_dir).map_err(io_at(&old_dir))?;
    drop(lock);
    Ok(RebuildReport {
        records,
        bytes_before,
        bytes_after: dir_size(&store_dir),
    })
}

fn io_at(path: &Path) -> impl Fn(std::io::Error) -> DeskError {
    let path = path.to_path_buf();
    move |source| DeskError::Read {
        path: path.clone(),
        source,
    }
}

fn lock_error(data_dir: &Path, e: crate::store::layout::LockError) -> DeskError {
    match e {
        crate::store::layout::LockError::Held => DeskError::Store(StoreError::Busy {
            path: data_dir.join(paths::STORE_DIR),
        }),
        crate::store::layout::LockError::Io(source) => DeskError::Read {
            path: data_dir.to_path_buf(),
            source,
        },
    }
}

/// Builds a complete store in `dir` from the backup `file`, proves its chain
/// and makes it durable; `what` names the result in errors. Returns the
/// records, the proof, the chain's head, and whether any entry is sealed.
fn build_store_from(
    file: &Path,
    dir: &Path,
    what: &str,
) -> Result<
    (
        u64,
        VerifyReport,
        Option<crate::store::chain::ChainHead>,
        bool,
    ),
    DeskError,
> {
    let f = std::fs::File::open(file).map_err(io_at(file))?;
    let store = Store::open(dir)?;
    let n = store
        .read_backup(&file.display().to_string(), std::io::BufReader::new(f))
        .map_err(|e| DeskError::Restore(e.to_string()))?;
    let report = store
        .verify_restored()
        .map_err(|e| DeskError::Restore(format!("the {what} audit chain does not verify: {e}")))?;
    store.flush()?;
    Ok((n, report, store.head(), store.chain_is_sealed()))
}

/// Identifiers that carry RESTRICTED, DO NOT MARKET or ERASED, from cases: a
/// restriction or objection that is open or was granted, an erasure completed.
pub fn flag_sets_of<'a>(
    cases: impl IntoIterator<Item = &'a crate::domain::Case>,
    cc: &str,
) -> crate::lookup::FlagSets {
    use crate::domain::identifier::{email_key, phone_key};
    use crate::domain::Right;
    let mut f = crate::lookup::FlagSets::default();
    for c in cases {
        let granted_or_open = c.closure.as_ref().is_none_or(|x| x.outcome.is_granted());
        let lifted = c.restriction_lifted().is_some();
        let done = c.closure.as_ref().is_some_and(|x| x.outcome.is_granted());
        let ids = c
            .subject
            .emails
            .iter()
            .filter_map(|e| email_key(e))
            .chain(c.subject.phones.iter().filter_map(|p| phone_key(p, cc)));
        let sets = [
            (
                c.rights.contains(&Right::Restriction) && granted_or_open && !lifted,
                &mut f.restricted,
            ),
            (
                // Marketing stops on an objection and on consent withdrawn.
                (c.rights.contains(&Right::Objection)
                    || c.rights.contains(&Right::WithdrawConsent))
                    && granted_or_open,
                &mut f.do_not_market,
            ),
            (c.rights.contains(&Right::Erasure) && done, &mut f.erased),
        ];
        let ids: Vec<String> = ids.collect();
        for (applies, set) in sets {
            if applies {
                set.extend(ids.iter().cloned());
            }
        }
    }
    f
}

/// Rebuilds a store in `data_dir` from a backup. The data directory must not
/// hold a store yet. The store is built in `store.restoring`, verified, and
/// appears as `store` by one rename: a kill leaves no store, never half of
/// one, and until the restore is run again nothing else opens the directory
/// (so no fresh empty store takes the backup's place).
///
/// The backup's chain is sealed with the chain key of the data directory it
/// came from: that key must be in `data_dir` already, or given as
/// `chain_key` (it is then kept there). A chain with no sealed entry cannot
/// be told from one rewritten by someone without the key, so it is taken
/// only with `unsealed`, said plainly in the report. The data directory's
/// last seen head becomes the restored chain's, before the store appears.
pub fn restore(
    data_dir: &Path,
    file: &Path,
    chain_key: Option<&Path>,
    unsealed: bool,
) -> Result<Restored, DeskError> {
    use crate::store::chain;
    use crate::store::layout::{self, DirLock};
    crate::store::ensure_private_dir(data_dir).map_err(io_at(data_dir))?;
    let lock = DirLock::exclusive(data_dir).map_err(|e| lock_error(data_dir, e))?;
    layout::recover(data_dir).map_err(io_at(data_dir))?;
    let store_dir = data_dir.join(layout::STORE);
    if store_dir.exists() {
        return Err(DeskError::Restore(format!(
            "{} already holds a store: restore into a new data directory",
            data_dir.display()
        )));
    }
    std::fs::File::open(file).map_err(io_at(file))?;
    // The mark goes down before anything else this restore writes (settings,
    // the key, the half-built store) and comes off only once the store is in
    // place: a kill at any step leaves a directory nothing but this restore
    // run again will open. It also keeps the head the directory had seen.
    let mark = layout::mark_restore(data_dir, chain::seen_head(data_dir).map(|h| h.seq))
        .map_err(io_at(data_dir))?;
    paths::load_or_create_settings(data_dir)?;
    let have = chain::load_key(data_dir).map_err(io_at(&chain::key_path(data_dir)))?;
    let mut installed = false;
    match (chain_key, have) {
        // The same key again (a restore run a second time after a kill).
        (Some(k), Some(have)) if chain::same_key(k, &have) => {}
        (Some(_), Some(_)) => {
            return Err(DeskError::Restore(format!(
                "{} already has another chain key: restore without --chain-key, or into a new data directory",
                data_dir.display()
            )))
        }
        (Some(k), None) => {
            chain::install_key(data_dir, k).map_err(io_at(k))?;
            // A key this restore put in place goes again if the restore fails.
            installed = true;
        }
        (None, _) => {}
    }
    let building = data_dir.join(layout::RESTORING);
    // What an earlier, killed restore left is started over.
    layout::remove_ours(&building).map_err(io_at(&building))?;
    let result = (|| {
        let (records, report, head, sealed) = build_store_from(file, &building, "restored")
            .map_err(|e| match e {
                DeskError::Restore(m) if m.contains("audit.key") => DeskError::Restore(format!(
                    "{m}. Give the chain key of the data directory the backup came from: --chain-key PATH/audit.key"
                )),
                other => other,
            })?;
        if !sealed && !unsealed {
            return Err(DeskError::Restore(format!(
                "{}: its audit chain is not sealed with a chain key (written before the key existed, or rewritten by someone without it), so it cannot be proven. To take it as it is, run the restore again with --unsealed, then check it against a head written down elsewhere (`rightsdesk audit verify --against SEQ:HASH`)",
                file.display()
            )));
        }
        // The head first: a kill between it and the rename leaves no store
        // (the restore is run again), never a store that looks rolled back.
        chain::reset_head(data_dir, head.as_ref()).map_err(io_at(data_dir))?;
        layout::appear(&building, &store_dir).map_err(io_at(&store_dir))?;
        layout::unmark_restore(data_dir).map_err(io_at(data_dir))?;
        let taken_unsealed = !sealed;
        Ok(Restored {
            records,
            report,
            unsealed: taken_unsealed,
            older_than_seen: mark
                .seen
                .filter(|s| head.as_ref().is_none_or(|h| h.seq < *s)),
        })
    })();
    match result {
        Ok(r) => {
            drop(lock);
            Ok(r)
        }
        // A refused restore (a damaged backup, a wrong key) takes back what
        // this run put down; a mark an interrupted run left stays.
        Err(e) => {
            let _ = layout::remove_ours(&building);
            if installed {
                let _ = std::fs::remove_file(chain::key_path(data_dir));
            }
            if mark.made_now {
                let _ = layout::unmark_restore(data_dir);
            }
            Err(e)
        }
    }
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub records: u64,
    pub report: VerifyReport,
    /// The chain held no sealed entry and was taken with `--unsealed`.
    pub unsealed: bool,
    /// The data directory had seen the chain reach this entry, past the
    /// restored chain's end (an older backup was chosen).
    pub older_than_seen: Option<u64>,
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub file: String,
    pub source: String,
    pub format: String,
    pub rows: usize,
    pub new: u64,
    pub updated: u64,
    /// Rows older than the record held: kept as held.
    #[serde(default)]
    pub older: u64,
    /// Rows with no date (nor one in the file's name) for a dated record
    /// held: kept as held.
    #[serde(default)]
    pub undated: u64,
    /// Identifiers of unsubscribed or cleaned rows newly put on the
    /// suppression list.
    #[serde(default)]
    pub suppressed: u64,
    /// Mailbox messages left out because they could not be read.
    #[serde(default)]
    pub skipped: Vec<crate::import::mbox::Skipped>,
    /// The column map read from a plain CSV's header, as `--map` takes it.
    #[serde(default)]
    pub columns: Option<String>,
    /// The charset it was read in ("per message" for a mailbox).
    #[serde(default)]
    pub encoding: String,
    /// A delimited file's separator: comma, semicolon or tab.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Columns of a plain CSV's header the map read from it left unread.
    #[serde(default)]
    pub unread_columns: Vec<String>,
}

impl ImportReport {
    /// How the file was read, in words: "hubspot, UTF-16LE (BOM), tab-separated".
    pub fn read_as(&self) -> String {
        let mut words = vec![self.format.clone()];
        if !self.encoding.is_empty() {
            words.push(self.encoding.clone());
        }
        if let Some(d) = &self.delimiter {
            words.push(format!("{d}-separated"));
        }
        words.join(", ")
    }

    /// The mailbox messages left out, and the column map read from a plain
    /// CSV's header, in words (neither: nothing).
    pub fn skipped_words(&self) -> String {
        let suppressed = if self.suppressed > 0 {
            format!(
                "; {} identifier(s) of unsubscribed or cleaned rows put on the suppression list",
                self.suppressed
            )
        } else {
            String::new()
        };
        let columns = suppressed
            + &self
                .columns
                .as_ref()
                .map(|m| {
                    format!(
                        "; columns read from the header: --map {} (give --map to change it){}",
                        crate::domain::text::inert(m),
                        if self.unread_columns.is_empty() {
                            String::new()
                        } else {
                            format!(
                                "; columns not read: {}",
                                crate::domain::text::inert(&self.unread_columns.join(", "))
                            )
                        }
                    )
                })
                .unwrap_or_default();
        columns
            + &match self.skipped.as_slice() {
                [] => String::new(),
                s => format!(
                    "; {} message(s) could not be read and were left out: {}",
                    s.len(),
                    s.iter()
                        .take(5)
                        .map(|m| crate::domain::text::inert(&m.why).into_owned())
                        .collect::<Vec<_>>()
                        .join("; ")
                        + if s.len() > 5 { "; …" } else { "" }
                ),
            }
    }

    /// The rows kept as held, in words for the shell and the desk.
    pub fn kept_words(older: u64, undated: u64) -> String {
        let mut s = String::new();
        if older > 0 {
            s.push_str(&format!(
                ", {older} older than the record held (kept as held)"
            ));
        }
        if undated > 0 {
            s.push_str(&format!(
                ", {undated} without a date for a record held with one (kept as held; a date in the file's name, e.g. contacts-2026-11-30.csv, dates them)"
            ));
        }
        s
    }
}

/// What time it is for the desk: the system clock, or a fixed instant (demo
/// data and tests that need past dates).
#[derive(Debug, Clone, Copy)]
pub enum Now {
    System,
    Fixed(DateTime<Utc>),
}

impl Now {
    pub fn resolve(self) -> DateTime<Utc> {
        match self {
            Now::System => Utc::now(),
            Now::Fixed(t) => t,
        }
    }
}

/// The desk's services over one store. Cloning shares the store, so slow
/// work (plans, exports) can run on a worker thread.
#[derive(Clone)]
pub struct Desk {
    /// Held while the store is open: no rebuild or restore swaps it away.
    _lock: std::sync::Arc<crate::store::layout::DirLock>,
    store: Store,
    data_dir: PathBuf,
    settings: Settings,
    catalogue: Catalogue,
    calendar: HolidayCalendar,
    actor: String,
    now: Now,
    pseudo: crate::domain::pseudonym::Pseudonymiser,
    /// The lookup index (built the first time someone looks; shared by
    /// every clone of this desk, and so by every desk of the team service).
    index: std::sync::Arc<index::LookupIndex>,
    /// Stored bytes of cases per page of the queue.
    pub(crate) cases_page_bytes: usize,
}

/// Stored bytes of cases per page of the queue: the desk shows the first
/// page at once and the rest arrive behind it.
pub const CASES_PAGE_BYTES: usize = 1 << 20;

/// One case with its clock as of today, as both faces show it.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: Case,
    pub clock: Clock,
    /// Notices the case owed and never sent, or sent late (a warning).
    pub owed: Vec<String>,
}

impl CaseView {
    /// The case with its clock and owed notices as of `today`.
    pub fn of(case: Case, cal: &HolidayCalendar, today: chrono::NaiveDate) -> CaseView {
        let clock = case.clock(cal, today);
        let owed = crate::domain::notice::notices_owed(&case, cal);
        CaseView { case, clock, owed }
    }
}

pub use crate::domain::deadline::{Urgency, DUE_SOON_DAYS};

/// The most people one lookup ranks and returns (the shell's `--limit`
/// is refused above it rather than cut without a word).
pub const MAX_LOOKUP: usize = 200;

impl CaseView {
    /// The queue's urgency: the domain's rule, on this case's clock.
    pub fn urgency(&self) -> Urgency {
        Urgency::of(self.case.state, &self.clock)
    }
}

impl Desk {
    /// Opens the desk on a data directory: settings (created on first run),
    /// the source catalogue, the holiday calendar and the store.
    pub fn open(data_dir: &Path) -> Result<Desk, DeskError> {
        paths::load_or_create_settings(data_dir)?;
        let lock = crate::store::layout::DirLock::for_open(data_dir)
            .map_err(|e| lock_error(data_dir, e))?;
        Desk::open_held(data_dir, std::sync::Arc::new(lock))
    }

    /// Opens the store under a hold on the data directory already taken.
    fn open_held(
        data_dir: &Path,
        lock: std::sync::Arc<crate::store::layout::DirLock>,
    ) -> Result<Desk, DeskError> {
        if crate::store::layout::restore_unfinished(data_dir) {
            return Err(DeskError::Restore(format!(
                "a restore into {} was interrupted: run the same `rightsdesk restore` again (it starts over); nothing opens this data directory until then, so no empty store takes the backup's place",
                data_dir.display()
            )));
        }
        let mut settings = paths::load_or_create_settings(data_dir)?;
        settings.letters = paths::load_letters(data_dir)?;
        // An unknown name is the settings' mistake: said so, with the file.
        let calendar = paths::load_calendar(data_dir, &settings.calendar).map_err(|e| match e {
            DeskError::Calendar(c @ crate::domain::calendar::CalendarError::Unknown(_)) => {
                DeskError::Settings(SettingsLoadError::from(
                    crate::domain::settings::SettingsError {
                        file: data_dir.join(paths::SETTINGS_FILE).display().to_string(),
                        field: "calendar".into(),
                        why: c.to_string(),
                    },
                ))
            }
            other => other,
        })?;
        let catalogue = paths::load_catalogue(data_dir)?;
        let mut store = Store::open(&data_dir.join(paths::STORE_DIR))?;
        store.ensure_chain_key()?;
        store.keep_deadlines(std::sync::Arc::new(calendar.clone()))?;
        let pseudo = crate::domain::pseudonym::Pseudonymiser::new(
            &store.pseudonym_key()?,
            crate::domain::identifier::default_country_code(&settings.calendar),
        );
        // An import killed after its commit is finished; one killed before
        // it is dropped: never half of one.
        let today = Local::now().date_naive();
        store
            .recover_imports(&|r| crate::domain::register::suppression_of_row(&pseudo, r, today))?;
        Ok(Desk {
            _lock: lock,
            pseudo,
            store,
            data_dir: data_dir.to_path_buf(),
            settings,
            catalogue,
            calendar,
            actor: actor::os_user(),
            now: Now::System,
            index: Default::default(),
            cases_page_bytes: CASES_PAGE_BYTES,
        })
    }

    pub fn set_now(&mut self, now: Now) {
        self.now = now;
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now.resolve()
    }

    /// Today in the organisation's time zone (settings: `time_zone`): the
    /// day a request "is received", whatever the server's zone.
    pub fn today(&self) -> NaiveDate {
        self.settings.day_at(self.now())
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn calendar(&self) -> &HolidayCalendar {
        &self.calendar
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store_path(&self) -> &Path {
        self.store.path()
    }

    fn note(&self, kind: &str, detail: serde_json::Value) -> AuditNote {
        AuditNote {
            at: self.now(),
            actor: self.actor.clone(),
            kind: kind.into(),
            detail,
        }
    }

    /// Opens a case from an intake; returns it once it is durable.
    pub fn open_case(&self, new: NewCase) -> Result<Case, DeskError> {
        let today = self.today();
        let new = new.validate(today).map_err(DeskError::Invalid)?;
        let detail = serde_json::json!({
            "rights": new.rights,
            "channel": new.channel,
            "received": new.received,
            "relation": new.requester.relation,
            "child": new.child,
        });
        let at = self.now();
        let year = u16::try_from(chrono::Datelike::year(&today)).unwrap_or(0);
        let (case, _) = self.store.insert_new_case(
            year,
            |id| new.clone().open(id, &self.actor, at),
            &self.note("opened", detail),
        )?;
        // An open restriction or objection flags the person at once.
        self.follow_in_index(&[]);
        Ok(case)
    }

    /// Takes one step on a case, dated `on` (default today); returns the case
    /// once the change and its audit entry are durable. A close, dated or
    /// not, takes its side effects with it: they are decided with the step
    /// (`domain::change::decide`), not by how it arrived.
    pub fn step(&self, id: CaseId, step: Step, on: Option<NaiveDate>) -> Result<Case, DeskError> {
        self.carry_out(id, Ask::Step { step, on })
    }

    /// Decides what staff ask of one case (the domain's one function for
    /// it), then writes the change whole: the case, its audit entry and every
    /// side effect in one transaction; then the index follows.
    pub(crate) fn carry_out(&self, id: CaseId, ask: Ask) -> Result<Case, DeskError> {
        let case = self.store.case(id)?;
        let held = |c: &Case| self.holdings(c).store_keys;
        let identities = |c: &Case| {
            let h = self.holdings(c);
            (h.emails, h.phones)
        };
        let record = |r: &str| {
            let (source, key) = r.split_once(':')?;
            let mut k = source.as_bytes().to_vec();
            k.push(0);
            k.extend_from_slice(key.as_bytes());
            self.record_reader().get(&k)
        };
        let facts = Facts {
            actor: &self.actor,
            at: self.now(),
            today: self.today(),
            calendar: &self.calendar,
            catalogue: &self.catalogue,
            pseudo: &self.pseudo,
            held: &held,
            identities: &identities,
            record: &record,
        };
        let change = decide(case, ask, &facts)?;
        let beside = crate::store::Beside {
            suppress: change.suppress,
            marks: change.marks,
            remove_records: change.remove_records,
        };
        let note = self.note(&change.kind, change.detail);
        if beside.suppress.is_empty() && beside.marks.is_empty() && beside.remove_records.is_empty()
        {
            self.store.update_case(&change.case, &note)?;
        } else {
            self.store.update_case_with(&change.case, &note, &beside)?;
        }
        if change.moves_flags || !beside.remove_records.is_empty() {
            // The next lookup, from any desk, shows it.
            self.follow_in_index(&beside.remove_records);
        }
        Ok(change.case)
    }

    pub fn case(&self, id: CaseId) -> Result<CaseView, DeskError> {
        let case = self.store.case(id)?;
        Ok(self.view(case))
    }

    pub fn view(&self, case: Case) -> CaseView {
        CaseView::of(case, &self.calendar, self.today())
    }

    /// Every case with its clock, most urgent first: by effective due date, cases
    /// whose clock is stopped (awaiting ID) after those with a date, then by id.
    pub fn queue(&self) -> Result<Vec<CaseView>, DeskError> {
        let mut all: Vec<CaseView> = self
            .store
            .cases()?
            .into_iter()
            .map(|c| self.view(c))
            .collect();
        sort_queue(&mut all);
        Ok(all)
    }

    /// A page of cases in id order (the service's queue, sent in pages).
    pub fn cases_page(
        &self,
        after: Option<CaseId>,
        budget: usize,
    ) -> Result<(Vec<Case>, Option<CaseId>), DeskError> {
        Ok(self.store.cases_page(after, budget)?)
    }

    pub fn audit_log(&self, case: Option<CaseId>) -> Result<Vec<AuditEntry>, DeskError> {
        Ok(self.store.audit_entries(case)?)
    }

    /// The newest `limit` entries, newest first (the desk's audit viewer).
    pub fn audit_tail(
        &self,
        case: Option<CaseId>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, DeskError> {
        Ok(self.store.audit_tail(case, limit)?)
    }

    /// Imports one export into the lookup index, whole or not at all.
    /// `progress` hears (stage, rows) as the file is parsed and written.
    pub fn import(
        &self,
        source: &str,
        path: &Path,
        how: &crate::import::ReadAs,
        progress: &mut dyn FnMut(&str, usize),
    ) -> Result<ImportReport, DeskError> {
        files_at_hand::import_file(self, &self.catalogue, source, path, how, progress)
    }

    /// A handle a worker thread can load the source records through.
    pub fn record_reader(&self) -> crate::store::RecordReader {
        self.store.record_reader()
    }

    /// The country code assumed for national phone numbers.
    pub fn default_cc(&self) -> &'static str {
        crate::domain::identifier::default_country_code(&self.settings.calendar)
    }

    /// Identifiers that carry RESTRICTED, DO NOT MARKET or ERASED, from cases:
    /// a restriction or objection that is open or was granted, an erasure done.
    pub fn flag_sets(&self) -> Result<crate::lookup::FlagSets, DeskError> {
        let mut f = flag_sets_of(&self.store.cases()?, self.default_cc());
        f.hashed = Some(self.hashed_flags()?);
        Ok(f)
    }

    /// DO NOT MARKET from the suppression list and ERASED from live backup
    /// marks (their cases' e-mails may already be reduced to hashes).
    pub fn hashed_flags(&self) -> Result<crate::lookup::HashedFlags, DeskError> {
        let (suppressed, erased) = self.hashed_flag_lists()?;
        Ok(crate::lookup::HashedFlags::new(
            self.pseudo.clone(),
            suppressed.iter().map(String::as_str),
            erased.iter().map(String::as_str),
        ))
    }

    /// The keyed hashes behind DO NOT MARKET and ERASED, as hex.
    pub fn hashed_flag_lists(&self) -> Result<(Vec<String>, Vec<String>), DeskError> {
        // ERASED means "this person was erased": only once the case is closed
        // as granted (the marks are written when the plan is accepted).
        // One mark per backup set holds the same hashes: each hash once.
        let erased: Vec<String> = self
            .marks_with_outcomes()?
            .into_iter()
            .filter(|(_, o)| o.is_some_and(|o| o.is_granted()))
            .flat_map(|(m, _)| m.hashes.into_iter().map(|(_, h)| h))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let suppressed: Vec<String> = self
            .store
            .suppression()?
            .into_iter()
            .map(|s| s.hash)
            .collect();
        Ok((suppressed, erased))
    }

    /// Loads the whole lookup index (for the command line; the desk loads it on
    /// a worker thread).
    pub fn load_index(&self) -> Result<crate::lookup::Index, DeskError> {
        self.load_index_with(&self.flag_sets()?)
    }

    /// Splits a record off its linked subject (a wrong link), with an audit
    /// entry; the index links again behind the scenes (the desk asks for the
    /// split on its input thread: it must not wait for a whole build).
    pub fn split_record(&self, source: &str, key: &str) -> Result<(), DeskError> {
        let mut k = source.as_bytes().to_vec();
        k.push(0);
        k.extend_from_slice(key.as_bytes());
        if self.record_reader().get(&k).is_none() {
            return Err(DeskError::NoSuchRecord {
                from: source.to_string(),
                key: key.to_string(),
            });
        }
        let detail = serde_json::json!({ "source": source });
        self.store
            .split_record(&k, &self.note("record-split", detail))?;
        if self.index.started() {
            self.index.rebuild(IndexSource(self.clone()));
        }
        Ok(())
    }

    /// Begins an import into `source`: its id. Rows go in with
    /// `import_batch` and become visible, whole, at `import_commit`.
    pub fn import_begin(&self, source: &str) -> Result<String, DeskError> {
        if self.catalogue.get(source).is_none() {
            return Err(DeskError::unknown_source(&self.catalogue, source));
        }
        Ok(self.store.import_begin()?)
    }

    /// Stages one batch of an import's rows (nothing reads them yet); they
    /// belong to `source` whatever the rows say.
    pub fn import_batch(
        &self,
        id: &str,
        source: &str,
        mut records: Vec<crate::domain::record::SourceRecord>,
    ) -> Result<(), DeskError> {
        if self.catalogue.get(source).is_none() {
            return Err(DeskError::unknown_source(&self.catalogue, source));
        }
        for r in &mut records {
            r.source = source.to_string();
        }
        let (today, pseudo) = (self.today(), &self.pseudo);
        let suppress_of = |r: &crate::domain::record::SourceRecord| {
            crate::domain::register::suppression_of_row(pseudo, r, today)
        };
        Ok(self.store.import_stage(id, &records, &suppress_of)?)
    }

    /// Makes a staged import visible, whole, with its audit entry (the
    /// counts are the store's); its records are found by the next lookup.
    pub fn import_commit(
        &self,
        id: &str,
        source: &str,
        summary: &ImportSummary,
    ) -> Result<ImportReport, DeskError> {
        if self.catalogue.get(source).is_none() {
            return Err(DeskError::unknown_source(&self.catalogue, source));
        }
        let detail = serde_json::json!({
            "source": source,
            "format": summary.format.as_str(),
            "file_sha256": summary.sha256,
        });
        let today = self.today();
        let pseudo = &self.pseudo;
        let suppress_of = |r: &crate::domain::record::SourceRecord| {
            crate::domain::register::suppression_of_row(pseudo, r, today)
        };
        let before = self.store.records_stamp()?;
        let (counts, _, changed) = self.store.import_commit(
            id,
            &self.note("imported", detail),
            summary.exported_on,
            &suppress_of,
            crate::lookup::MAX_DELTA,
        )?;
        self.follow_import(before, changed);
        Ok(ImportReport {
            file: summary.file.clone(),
            source: source.to_string(),
            format: summary.format.to_string(),
            rows: (counts.new + counts.updated + counts.older + counts.undated) as usize,
            new: counts.new,
            updated: counts.updated,
            older: counts.older,
            undated: counts.undated,
            suppressed: counts.suppressed,
            skipped: summary.skipped.clone(),
            columns: summary.columns.clone(),
            encoding: summary.encoding.clone(),
            delimiter: summary.delimiter.clone(),
            unread_columns: summary.unread_columns.clone(),
        })
    }

    /// Imports begun and neither committed nor dropped: what a kill left
    /// (the next start clears them).
    pub fn imports_in_progress(&self) -> usize {
        self.store.imports_in_progress()
    }

    /// Drops an import not committed (its file was refused part-way).
    pub fn import_abandon(&self, id: &str) -> Result<(), DeskError> {
        Ok(self.store.import_abandon(id)?)
    }

    /// Waits for a lookup index build in progress (it holds the store open):
    /// before the team service closes the store for maintenance.
    pub fn settle(&self) {
        self.index.join();
    }

    /// Starts the lookup index's first build (a no-op once started).
    pub(crate) fn start_index(&self) {
        self.index.start(IndexSource(self.clone()));
    }

    /// After new records or links: the index is built again, and this waits
    /// for it, so the caller's next lookup finds them.
    fn relink_index(&self) {
        if self.index.started() {
            self.index.rebuild(IndexSource(self.clone()));
            self.index.wait_built();
        }
    }

    /// After a change that moves RESTRICTED, DO NOT MARKET or ERASED: the
    /// index takes the flags as they now are, and drops `removed` records.
    /// The change is already durable; if the flags cannot be read, the index
    /// is built again instead, so no lookup shows the old flags for long.
    pub(crate) fn follow_in_index(&self, removed: &[Vec<u8>]) {
        // The index's files hold the removed records' words: they go now
        // (if rewriting them fails, no file of the index holds the person),
        // and are written again without them — behind the scenes here, at
        // the next lookup after a shell command (which runs no index).
        if !removed.is_empty() {
            self.store.drop_lookup_files();
        }
        if !self.index.started() {
            return;
        }
        if !removed.is_empty() {
            self.index.remove(removed);
        }
        match self.flag_sets() {
            Ok(flags) => self.index.set_flags(flags),
            Err(_) => self.index.rebuild(IndexSource(self.clone())),
        }
        if !removed.is_empty() {
            self.index.rebuild(IndexSource(self.clone()));
        }
    }

    /// The `backup` audit entry: only once the backup's file is written.
    pub fn log_backup_written(&self, file: &str, records: u64) -> Result<(), DeskError> {
        self.store.log(&self.note(
            "backup",
            serde_json::json!({ "file": file, "records": records }),
        ))?;
        Ok(())
    }

    /// The backup's file alone, not logged (a rebuild logs itself).
    fn write_backup_file(&self, path: &Path) -> Result<u64, DeskError> {
        let io = |source| DeskError::Read {
            path: path.to_path_buf(),
            source,
        };
        crate::store::files::prepare_output(path).map_err(io)?;
        let at = self.now().to_rfc3339();
        crate::store::files::write_whole(path, |mut w| self.store.write_backup(&mut w, &at))
            .map_err(io)
    }

    pub fn flush(&self) -> Result<(), DeskError> {
        Ok(self.store.flush()?)
    }

    /// Smaller pages of the queue (a test of paging need not store a
    /// megabyte of cases).
    #[doc(hidden)]
    pub fn set_cases_page_for_tests(&mut self, bytes: usize) {
        self.cases_page_bytes = bytes;
    }

    /// Records steps under another actor. Only for tests that need stable output
    /// across machines; the faces never call it (the actor is the OS user).
    #[doc(hidden)]
    pub fn set_actor_for_tests(&mut self, actor: &str) {
        self.actor = actor.to_string();
    }

    /// The shared service acts for the user the operating system says is on
    /// the other end of the socket (never for what the client claims).
    pub(crate) fn act_as(&mut self, actor: &str) {
        self.actor = actor.to_string();
    }

    /// Takes a step only if the case is still at `expected` (the version the
    /// officer's screen showed): two officers editing one case get a conflict,
    /// never a silent overwrite.
    pub fn step_expecting(
        &self,
        id: CaseId,
        step: Step,
        on: Option<NaiveDate>,
        expected: Option<u64>,
    ) -> Result<Case, DeskError> {
        self.check_version(id, expected)?;
        self.step(id, step, on)
    }

    /// A conflict unless the case is still at `expected` (when one is given).
    /// The service runs this and the change under one lock.
    pub fn check_version(&self, id: CaseId, expected: Option<u64>) -> Result<(), DeskError> {
        if let Some(expected) = expected {
            let found = self.store.case(id)?.version;
            if found != expected {
                return Err(StoreError::Conflict {
                    id,
                    expected,
                    found,
                }
                .into());
            }
        }
        Ok(())
    }

    pub fn verify_audit(&self) -> Result<VerifyReport, VerifyError> {
        self.store.verify()
    }

    /// Whether the chain still holds a head written down earlier.
    pub fn verify_audit_against(
        &self,
        head: &crate::store::chain::ChainHead,
    ) -> Result<(), VerifyError> {
        self.store.verify_against(head)
    }

    /// Said at every start while the chain does not hold the head this data
    /// directory last saw (a store copied back, or rewritten).
    pub fn chain_warning(&self) -> Option<String> {
        self.store.seen_head_problem().map(|e| {
            format!("warning: {e}. `rightsdesk audit verify` fails until this is looked into")
        })
    }

    /// The audit chain's last entry (number and hash).
    pub fn chain_head(&self) -> Option<crate::store::chain::ChainHead> {
        self.store.head()
    }
}

/// What the lookup index is built from: this desk's store as it is now.
struct IndexSource(Desk);

impl index::Source for IndexSource {
    fn build(&self) -> Result<(crate::lookup::Index, crate::lookup::FlagSets), DeskError> {
        let flags = self.0.flag_sets()?;
        let index = self.0.load_index_with(&flags)?;
        Ok((index, flags))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_exports_date_is_read_from_its_name() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert_eq!(
            super::date_in_name("contacts-2026-10-02.csv"),
            d("2026-10-02")
        );
        assert_eq!(super::date_in_name("hubspot_2025_03.csv"), d("2025-03-01"));
        assert_eq!(super::date_in_name("export 2026-13-45.csv"), None);
        assert_eq!(super::date_in_name("contacts.csv"), None);
    }
}
