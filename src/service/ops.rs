//! Every operation a face can ask for, defined once (ARCHITECTURE.md, "One
//! operations API").
//!
//! The `operations!` list below is the only place an operation is declared.
//! From it come:
//! - the `Operations` trait, which the store-backed `Desk` implements
//!   (`ops_desk.rs`) and every `Transport` (the team service's socket client)
//!   gets for free;
//! - `Call`, the operation as data: what travels on the wire, with who may
//!   send it (`Call::kind`);
//! - `dispatch`, the one function the team service runs a `Call` with.
//!
//! Adding an operation touches three places: a line here, its body in
//! `ops_desk.rs`, and the face that uses it. Faces hold one handle
//! (`remote::backend::Backend`, which derefs to `dyn Operations`) and never
//! learn which transport is behind it.

use super::{DeskError, ImportReport, ImportSummary, PlanProposal};
use crate::domain::audit::AuditEntry;
use crate::domain::closure_log::ClosureRow;
use crate::domain::plan::PlannedTask;
use crate::domain::record::SourceRecord;
use crate::domain::register::{BackupMark, Suppression};
use crate::domain::response::Report;
use crate::domain::settings::Settings;
use crate::domain::{Case, CaseId, NewCase, Step};
use crate::store::chain::ChainHead;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Who may send an operation, and what the service tells others after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any staff member; answered without waiting for changes in progress.
    Read,
    /// Any staff member; taken under the one lock (it writes an audit entry,
    /// or needs a view no change can tear).
    Logged,
    /// Any staff member; changes one case, which every desk is told of.
    Case,
    /// Any staff member; changes records or registers: lookups follow.
    Records,
    /// Only the service's administrators (settings: `admins`); reads.
    Admin,
    /// Only the service's administrators; changes cases or records, which
    /// every desk is told of.
    Maintenance,
    /// Only the service's administrators; runs on the data directory with
    /// the store closed: the service pauses every call, closes the store,
    /// runs it, opens the store again and carries on (desks are told).
    Offline,
}

impl Kind {
    /// Whether the service takes it under its one lock.
    pub fn locked(self) -> bool {
        !matches!(self, Kind::Read)
    }

    /// Whether only the service's administrators may send it.
    pub fn for_admins(self) -> bool {
        matches!(self, Kind::Admin | Kind::Maintenance | Kind::Offline)
    }
}

/// Why the service said no, as it travels (the message says the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The rules refused the step (as exit code 3).
    Refused,
    /// The case changed since the client loaded it.
    Conflict,
    NotFound,
    /// The caller is not allowed this operation (settings: `admins`).
    Forbidden,
    /// Bad frame, bad JSON, wrong protocol.
    Protocol,
    /// The service could not be reached, or went away mid-request.
    Unreachable,
    Failed,
}

/// How a call reaches a store it does not hold: the socket client.
pub trait Transport: Send + Sync {
    /// Sends one call and returns its answer's value, or the service's error
    /// as `DeskError::Remote`.
    fn call(&self, call: Call) -> Result<serde_json::Value, DeskError>;
}

macro_rules! operations {
    ($(
        $(#[doc = $doc:literal])*
        $kind:ident fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty;
    )*) => {
        /// The operations staff perform, whichever way they reach the store.
        pub trait Operations: Send + Sync {
            $(
                $(#[doc = $doc])*
                fn $name(&self, $($arg: $ty),*) -> Result<$ret, DeskError>;
            )*
        }

        /// One operation as data, as it travels to the service.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "op", deny_unknown_fields)]
        pub enum Call {
            $( $(#[doc = $doc])* $name { $($arg: $ty),* }, )*
        }

        impl Call {
            pub fn name(&self) -> &'static str {
                match self { $( Call::$name { .. } => stringify!($name), )* }
            }

            pub fn kind(&self) -> Kind {
                match self { $( Call::$name { .. } => Kind::$kind, )* }
            }
        }

        /// Runs one call on `ops` (the service's desk); its answer as JSON.
        pub fn dispatch(ops: &dyn Operations, call: Call) -> Result<serde_json::Value, DeskError> {
            match call {
                $( Call::$name { $($arg),* } => {
                    let answer = ops.$name($($arg),*)?;
                    serde_json::to_value(&answer).map_err(|e| DeskError::Remote {
                        kind: ErrorKind::Failed,
                        message: format!("{}: cannot encode the answer: {e}", stringify!($name)),
                    })
                } )*
            }
        }

        impl<T: Transport + ?Sized> Operations for T {
            $(
                fn $name(&self, $($arg: $ty),*) -> Result<$ret, DeskError> {
                    let value = self.call(Call::$name { $($arg),* })?;
                    serde_json::from_value(value).map_err(|e| DeskError::Remote {
                        kind: ErrorKind::Protocol,
                        message: format!("{}: the service's answer does not fit: {e}", stringify!($name)),
                    })
                }
            )*
        }
    };
}

operations! {
    /// The settings the store runs by (calendar, organisation, admins).
    Read fn settings() -> Settings;
    /// The catalogue of sources the store works by (the organisation's own
    /// `sources.toml`, else the shipped one).
    Read fn catalogue() -> crate::domain::Catalogue;
    /// The holiday calendar the clock counts by.
    Read fn holiday_calendar() -> crate::domain::HolidayCalendar;
    /// The cases after `after` (id order), one page at a time.
    Read fn cases_page(after: Option<CaseId>) -> CasesPage;
    Read fn load_case(id: CaseId) -> Case;
    /// The open cases due within `within` days and the overdue, most urgent
    /// first (every open case with a due date when `None`): `due`, the login
    /// line and the team's calendar.
    Read fn due(within: Option<u32>) -> crate::domain::deadline::DueList;
    /// How many open cases are overdue and due within `within` days (the
    /// login line), counted without reading every entry.
    Read fn due_counts(within: u32) -> crate::domain::deadline::DueCounts;
    Case fn open_case(new: NewCase) -> Case;
    /// The cases these messages were opened as (message digest → case id),
    /// for the inbox to mark them.
    Read fn cases_of_messages(digests: Vec<String>) -> BTreeMap<String, String>;
    /// One step, dated `on` (default today), taken only if the case is still
    /// at `expected` (the version the officer saw).
    Case fn take_step(id: CaseId, step: Step, on: Option<NaiveDate>, expected: Option<u64>) -> Case;
    Read fn propose_plan(id: CaseId) -> PlanProposal;
    /// Records the plan's kept tasks and writes its registers.
    Case fn accept_plan(id: CaseId, tasks: Vec<PlannedTask>, expected: Option<u64>) -> Case;
    /// The response (closing letter) or a notice on the way, as the person reads it.
    Read fn letter(id: CaseId, letter: crate::domain::notice::Letter) -> Report;
    /// The newest `limit` audit entries (of one case, or all), newest first.
    Read fn audit_tail(case: Option<CaseId>, limit: usize) -> Vec<AuditEntry>;
    /// The whole audit log (of one case, or all), oldest first.
    Read fn audit_log(case: Option<CaseId>) -> Vec<AuditEntry>;
    /// Proves the chain (and that it still holds `against`, when given).
    Logged fn verify_audit(against: Option<ChainHead>) -> AuditCheck;
    Read fn chain_head() -> Option<ChainHead>;
    /// The keyed hashes behind DO NOT MARKET and ERASED, with the key.
    Read fn hashed_flag_lists() -> HashedFlagLists;
    /// Which of these keyed hashes are on the live backup marks (`restore`)
    /// or the suppression list: a desk checks a file it read itself without
    /// sending its rows.
    Read fn check_hashes(restore: bool, hashes: Vec<String>) -> BTreeMap<String, CheckRef>;
    Read fn backup_marks() -> Vec<BackupMark>;
    Read fn suppression_list() -> SuppressionList;
    /// A lookup in the store's index (one index for every desk).
    Read fn lookup(query: String, limit: usize) -> Found;
    Read fn subject(id: String) -> Option<crate::lookup::SubjectView>;
    /// Whether the index is built (its first build starts here), and its size.
    Read fn index_state() -> IndexState;
    /// What the access package of a verified case holds; refused while
    /// sources are unsearched unless a reason is given (the package states it).
    Read fn access_package(id: CaseId, unsearched_reason: Option<String>) -> super::AccessPackage;
    /// Records on the case (and in the chain, counts only) that its package
    /// left, once its files are written. The counts are the store's, never
    /// the caller's; a granted access or portability closes only after.
    /// Refused by the same rule as the package itself (sources unsearched
    /// without a reason).
    Case fn record_package_sent(id: CaseId, unsearched_reason: Option<String>) -> Case;
    /// The closure log's rows (names only when asked for).
    Read fn closure_rows(from: Option<NaiveDate>, to: Option<NaiveDate>, with_subjects: bool) -> Vec<ClosureRow>;
    /// Records in the audit chain that the closure log was exported, once
    /// its file is written (or its rows printed).
    /// The row count is the store's, never the caller's.
    Logged fn log_closures_export(from: Option<NaiveDate>, to: Option<NaiveDate>, with_subjects: bool) -> ();
    Records fn split_record(source: String, key: String) -> ();
    /// Begins an import into a source: its id. The caller reads its file
    /// and sends the rows in batches; nothing is visible until the commit.
    Records fn import_begin(source: String) -> String;
    /// Stages one batch of an import's rows.
    Records fn import_batch(id: String, source: String, records: Vec<SourceRecord>) -> ();
    /// Makes a staged import visible, whole, with its audit entry.
    Records fn import_commit(id: String, source: String, summary: ImportSummary) -> ImportReport;
    /// Drops an import not committed (its file was refused part-way).
    Records fn import_abandon(id: String) -> ();
    /// Puts the unsubscribed and cleaned rows on the suppression list.
    Records fn suppress_unsubscribed(source: String, records: Vec<SourceRecord>) -> Suppressed;
    /// Closed cases past retention (a dry run).
    Read fn purge_due() -> super::records::PurgeReport;
    /// Reduces closed cases past retention to their stubs.
    Maintenance fn purge() -> super::records::PurgeReport;
    /// The whole store as backup lines: one consistent snapshot.
    Admin fn backup_snapshot() -> BackupSnapshot;
    /// Records in the audit chain that a backup's file was written.
    Admin fn log_backup(file: String, records: u64) -> ();
    /// Writes the store afresh, so deleted bytes leave sled's files.
    Offline fn rebuild() -> super::RebuildReport;
}

/// One page of cases; `next` is where the next page starts (none: the end).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CasesPage {
    pub cases: Vec<Case>,
    pub next: Option<CaseId>,
}

/// What `audit verify` found: an intact chain, or the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum AuditCheck {
    Intact {
        entries: u64,
        cases: u64,
        unsealed: u64,
    },
    Broken {
        entry: Option<u64>,
        error: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HashedFlagLists {
    pub key: String,
    pub do_not_market: Vec<String>,
    pub erased: Vec<String>,
}

/// What a keyed hash found in a check: its case, and (backup marks) the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRef {
    pub case: Option<CaseId>,
    pub set: Option<String>,
}

/// The suppression list with the key and recipe that made its hashes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuppressionList {
    pub recipe: String,
    pub key: String,
    pub entries: Vec<Suppression>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Suppressed {
    pub rows: u64,
    pub new: u64,
}

/// A lookup's groups, with the desk's highlighting beside each hit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Found {
    pub groups: Vec<WireGroup>,
    pub micros: u64,
}

/// The lookup index as a desk sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexState {
    /// A build (the first, or one after an import) is running.
    pub building: bool,
    /// An index is there to answer (the previous one while rebuilding).
    pub ready: bool,
    /// How many builds have finished.
    pub builds: u64,
    pub records: usize,
    pub subjects: usize,
    pub millis: u64,
    /// Why the last build failed: said to whoever waits for the index.
    pub failed: Option<String>,
}

/// The store as backup lines, taken in one go while writes wait.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupSnapshot {
    pub text: String,
    pub records: u64,
    pub head: Option<ChainHead>,
}

/// A lookup group as it travels: the desk's highlighting (label and the
/// matched characters) is not part of `Group`'s JSON for scripts, so it is
/// carried beside each hit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireGroup {
    pub subject: String,
    pub flags: crate::lookup::Flags,
    pub hits: Vec<WireHit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireHit {
    #[serde(flatten)]
    pub hit: crate::lookup::Hit,
    pub label: String,
    pub highlight: Vec<usize>,
}

impl From<crate::lookup::Group> for WireGroup {
    fn from(g: crate::lookup::Group) -> Self {
        WireGroup {
            subject: g.subject,
            flags: g.flags,
            hits: g
                .hits
                .into_iter()
                .map(|h| WireHit {
                    label: h.label.clone(),
                    highlight: h.highlight.clone(),
                    hit: h,
                })
                .collect(),
        }
    }
}

impl From<WireGroup> for crate::lookup::Group {
    fn from(g: WireGroup) -> Self {
        crate::lookup::Group {
            subject: g.subject,
            flags: g.flags,
            hits: g
                .hits
                .into_iter()
                .map(|w| {
                    let mut h = w.hit;
                    h.label = w.label;
                    h.highlight = w.highlight;
                    h
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_travels_whole_and_keeps_its_kind() {
        let step = Step::Close(crate::domain::closure::Closing::new(
            crate::domain::Outcome::Withdrawn,
            "asked to stop",
        ));
        let call = Call::take_step {
            id: CaseId::new(2026, 7),
            step: step.clone(),
            on: None,
            expected: Some(3),
        };
        let text = serde_json::to_string(&call).unwrap();
        let Call::take_step {
            step: back,
            expected,
            ..
        } = serde_json::from_str(&text).unwrap()
        else {
            panic!("{text}")
        };
        assert_eq!((back, expected), (step, Some(3)));
        assert_eq!(call.kind(), Kind::Case);
        assert_eq!(Call::purge {}.kind(), Kind::Maintenance);
        assert_eq!(Call::backup_snapshot {}.kind(), Kind::Admin);
        assert!(serde_json::from_str::<Call>(r#"{"op":"purge","apply":true}"#).is_err());
    }
}
