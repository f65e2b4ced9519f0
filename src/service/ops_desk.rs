//! The body of each operation (declared once in `ops.rs`) on the store this
//! process holds. The team service runs exactly these, under its one lock,
//! as the user the kernel names for the socket's peer.

use super::ops::{
    AuditCheck, BackupSnapshot, CasesPage, CheckRef, Found, HashedFlagLists, IndexState,
    Operations, Suppressed, SuppressionList,
};
use super::{AccessPackage, Desk, DeskError, ImportReport, ImportSummary, PlanProposal};
use crate::domain::audit::AuditEntry;
use crate::domain::closure_log::ClosureRow;
use crate::domain::plan::PlannedTask;
use crate::domain::record::SourceRecord;
use crate::domain::register::BackupMark;
use crate::domain::response::Report;
use crate::domain::settings::Settings;
use crate::domain::{Case, CaseId, NewCase, Step};
use crate::store::chain::ChainHead;
use crate::store::VerifyError;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Most subjects one lookup returns.
use super::MAX_LOOKUP;

impl Operations for Desk {
    fn settings(&self) -> Result<Settings, DeskError> {
        Ok(Desk::settings(self).clone())
    }

    fn catalogue(&self) -> Result<crate::domain::Catalogue, DeskError> {
        Ok(Desk::catalogue(self).clone())
    }

    fn holiday_calendar(&self) -> Result<crate::domain::HolidayCalendar, DeskError> {
        Ok(Desk::calendar(self).clone())
    }

    fn cases_page(&self, after: Option<CaseId>) -> Result<CasesPage, DeskError> {
        let (cases, next) = Desk::cases_page(self, after, self.cases_page_bytes)?;
        Ok(CasesPage { cases, next })
    }

    fn due(&self, within: Option<u32>) -> Result<crate::domain::deadline::DueList, DeskError> {
        let today = self.today();
        let until = within.map(|w| later(today, w));
        let entries = self.store.deadline_entries(until)?;
        Ok(crate::domain::deadline::DueList::of(
            &entries,
            &self.calendar,
            today,
            within.unwrap_or(u32::MAX),
        ))
    }

    fn due_counts(&self, within: u32) -> Result<crate::domain::deadline::DueCounts, DeskError> {
        let today = self.today();
        let until = later(today, within);
        let (overdue, due_within, held) = self.store.deadline_counts(today, until)?;
        Ok(crate::domain::deadline::DueCounts::of(
            overdue,
            due_within,
            &held,
            &self.calendar,
            today,
            within,
        ))
    }

    fn cases_of_messages(
        &self,
        digests: Vec<String>,
    ) -> Result<std::collections::BTreeMap<String, String>, DeskError> {
        Ok(self.store.cases_of_messages(&digests)?)
    }

    fn load_case(&self, id: CaseId) -> Result<Case, DeskError> {
        Ok(self.store.case(id)?)
    }

    fn open_case(&self, new: NewCase) -> Result<Case, DeskError> {
        Desk::open_case(self, new)
    }

    fn take_step(
        &self,
        id: CaseId,
        step: Step,
        on: Option<NaiveDate>,
        expected: Option<u64>,
    ) -> Result<Case, DeskError> {
        self.step_expecting(id, step, on, expected)
    }

    fn propose_plan(&self, id: CaseId) -> Result<PlanProposal, DeskError> {
        Desk::propose_plan(self, id)
    }

    fn accept_plan(
        &self,
        id: CaseId,
        tasks: Vec<PlannedTask>,
        expected: Option<u64>,
    ) -> Result<Case, DeskError> {
        self.check_version(id, expected)?;
        Desk::accept_plan(self, id, &tasks)
    }

    fn letter(
        &self,
        id: CaseId,
        letter: crate::domain::notice::Letter,
    ) -> Result<Report, DeskError> {
        Desk::letter(self, id, letter)
    }

    fn audit_tail(&self, case: Option<CaseId>, limit: usize) -> Result<Vec<AuditEntry>, DeskError> {
        Desk::audit_tail(self, case, limit)
    }

    fn audit_log(&self, case: Option<CaseId>) -> Result<Vec<AuditEntry>, DeskError> {
        Desk::audit_log(self, case)
    }

    fn verify_audit(&self, against: Option<ChainHead>) -> Result<AuditCheck, DeskError> {
        let checked = against
            .as_ref()
            .map_or(Ok(()), |h| self.verify_audit_against(h))
            .and_then(|()| Desk::verify_audit(self));
        Ok(match checked {
            Ok(r) => AuditCheck::Intact {
                entries: r.entries,
                cases: r.cases,
                unsealed: r.unsealed,
            },
            Err(e) => AuditCheck::Broken {
                entry: match &e {
                    VerifyError::Chain(b) => Some(b.seq),
                    VerifyError::CaseAltered { seq, .. } => Some(*seq),
                    VerifyError::Rewritten { seen } => Some(seen.seq),
                    VerifyError::NotThisHead { given, .. } => Some(given.seq),
                    _ => None,
                },
                error: e.to_string(),
            },
        })
    }

    fn chain_head(&self) -> Result<Option<ChainHead>, DeskError> {
        Ok(Desk::chain_head(self))
    }

    fn hashed_flag_lists(&self) -> Result<HashedFlagLists, DeskError> {
        let (do_not_market, erased) = Desk::hashed_flag_lists(self)?;
        Ok(HashedFlagLists {
            key: self.pseudonymiser().key_hex(),
            do_not_market,
            erased,
        })
    }

    fn check_hashes(
        &self,
        restore: bool,
        hashes: Vec<String>,
    ) -> Result<BTreeMap<String, CheckRef>, DeskError> {
        let only = hashes.into_iter().collect();
        self.check_table(restore, Some(&only))
    }

    fn backup_marks(&self) -> Result<Vec<BackupMark>, DeskError> {
        Desk::backup_marks(self)
    }

    fn suppression_list(&self) -> Result<SuppressionList, DeskError> {
        Ok(SuppressionList {
            recipe: self.pseudonymiser().recipe(),
            key: self.pseudonymiser().key_hex(),
            entries: Desk::suppression_list(self)?,
        })
    }

    fn lookup(&self, query: String, limit: usize) -> Result<Found, DeskError> {
        let t = std::time::Instant::now();
        self.start_index();
        let groups = self.index.lookup(&query, limit.min(MAX_LOOKUP));
        Ok(Found {
            groups: groups.into_iter().map(Into::into).collect(),
            micros: t.elapsed().as_micros() as u64,
        })
    }

    fn subject(&self, id: String) -> Result<Option<crate::lookup::SubjectView>, DeskError> {
        self.start_index();
        Ok(self.index.subject(&id))
    }

    fn index_state(&self) -> Result<IndexState, DeskError> {
        self.start_index();
        Ok(self.index.state())
    }

    fn access_package(
        &self,
        id: CaseId,
        unsearched_reason: Option<String>,
    ) -> Result<AccessPackage, DeskError> {
        Desk::access_package(self, id, unsearched_reason.as_deref())
    }

    fn record_package_sent(
        &self,
        id: CaseId,
        unsearched_reason: Option<String>,
    ) -> Result<Case, DeskError> {
        Desk::record_package_sent(self, id, unsearched_reason.as_deref())
    }

    fn closure_rows(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        with_subjects: bool,
    ) -> Result<Vec<ClosureRow>, DeskError> {
        Desk::closure_rows(self, from, to, with_subjects)
    }

    fn log_closures_export(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        with_subjects: bool,
    ) -> Result<(), DeskError> {
        let rows = Desk::closure_rows(self, from, to, with_subjects)?.len();
        Desk::log_closures_export(self, rows, from, to, with_subjects)
    }

    fn split_record(&self, source: String, key: String) -> Result<(), DeskError> {
        Desk::split_record(self, &source, &key)
    }

    fn import_begin(&self, source: String) -> Result<String, DeskError> {
        Desk::import_begin(self, &source)
    }

    fn import_batch(
        &self,
        id: String,
        source: String,
        records: Vec<SourceRecord>,
    ) -> Result<(), DeskError> {
        Desk::import_batch(self, &id, &source, records)
    }

    fn import_commit(
        &self,
        id: String,
        source: String,
        summary: ImportSummary,
    ) -> Result<ImportReport, DeskError> {
        Desk::import_commit(self, &id, &source, &summary)
    }

    fn import_abandon(&self, id: String) -> Result<(), DeskError> {
        Desk::import_abandon(self, &id)
    }

    fn suppress_unsubscribed(
        &self,
        source: String,
        records: Vec<SourceRecord>,
    ) -> Result<Suppressed, DeskError> {
        let (rows, new) = self.suppress_rows(&source, &records)?;
        Ok(Suppressed { rows, new })
    }

    fn purge_due(&self) -> Result<super::records::PurgeReport, DeskError> {
        Desk::purge(self, false)
    }

    fn purge(&self) -> Result<super::records::PurgeReport, DeskError> {
        Desk::purge(self, true)
    }

    fn backup_snapshot(&self) -> Result<BackupSnapshot, DeskError> {
        let mut bytes = Vec::new();
        let records = self
            .store
            .write_backup(&mut bytes, &self.now().to_rfc3339())
            .map_err(|e| DeskError::Remote {
                kind: super::ops::ErrorKind::Failed,
                message: format!("backup: {e}"),
            })?;
        let text = String::from_utf8(bytes).map_err(|_| DeskError::Remote {
            kind: super::ops::ErrorKind::Failed,
            message: "backup: the store wrote bytes that are not UTF-8".into(),
        })?;
        Ok(BackupSnapshot {
            text,
            records,
            head: Desk::chain_head(self),
        })
    }

    fn log_backup(&self, file: String, records: u64) -> Result<(), DeskError> {
        self.log_backup_written(&file, records)
    }

    /// A rebuild needs the store closed: the one who holds it open (the
    /// team service) closes it and runs `offline`; a desk holding it is
    /// refused, as a second process would be.
    fn rebuild(&self) -> Result<super::RebuildReport, DeskError> {
        Err(DeskError::Store(crate::store::StoreError::Busy {
            path: self.store_path().to_path_buf(),
        }))
    }
}

/// Runs an operation of `Kind::Offline` on a data directory whose store is
/// closed: the team service's way to the same functions the shell calls
/// when no service runs.
pub fn offline(
    data_dir: &std::path::Path,
    call: super::ops::Call,
) -> Result<serde_json::Value, DeskError> {
    use super::ops::Call;
    let value = match call {
        Call::rebuild {} => serde_json::to_value(once_released(|| super::rebuild(data_dir))?),
        other => {
            return Err(DeskError::Remote {
                kind: super::ops::ErrorKind::Protocol,
                message: format!("{} does not run with the store closed", other.name()),
            })
        }
    };
    value.map_err(|e| DeskError::Remote {
        kind: super::ops::ErrorKind::Failed,
        message: format!("cannot encode the answer: {e}"),
    })
}

/// Runs `f` once sled has let go of the store just closed: sled finishes
/// its background writes on threads of its own and holds the store's file
/// lock until they end, a moment after the last handle is dropped. A store
/// still busy after that (another process) is the error it was.
pub fn once_released<T>(mut f: impl FnMut() -> Result<T, DeskError>) -> Result<T, DeskError> {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match f() {
            Err(DeskError::Store(crate::store::StoreError::Busy { .. }))
                if std::time::Instant::now() < until =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// `days` after `today`, or the last day there is: a client may ask for any
/// number, and a service never panics on one.
fn later(today: NaiveDate, days: u32) -> NaiveDate {
    today
        .checked_add_days(chrono::Days::new(days.into()))
        .unwrap_or(NaiveDate::MAX)
}
