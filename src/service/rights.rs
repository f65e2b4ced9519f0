//! The rights flows as services: plans, the suppression list, backup marks,
//! erasure's reduction of the desk's own copy, and the checks operations run.

use super::ops::CheckRef;
use super::{Desk, DeskError};
use crate::domain::identifier::{email_key, phone_key};
use crate::domain::plan::{self, PlannedTask, ACTION_MARK_BACKUP, ACTION_SUPPRESS};
use crate::domain::pseudonym::{IdKind, Pseudonymiser};
use crate::domain::record::SourceRecord;
use crate::domain::register::{overwrite_date, BackupMark, Suppression, SuppressionOrigin};
use crate::domain::{Case, CaseId, Outcome, PlannedRef, Right, Step, TaskStatus};
use crate::store::Beside;
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Where the desk's index holds the subject of a case.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    /// Catalogue source id → the records found there.
    pub by_source: BTreeMap<String, Vec<SourceRecord>>,
    /// Store keys of those records (what erasure removes from the index).
    pub store_keys: Vec<Vec<u8>>,
}

impl Holdings {
    pub fn sources(&self) -> BTreeSet<String> {
        self.by_source.keys().cloned().collect()
    }
}

/// A proposed plan and what it was based on.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PlanProposal {
    pub case: CaseId,
    pub tasks: Vec<PlannedTask>,
    pub held: BTreeSet<String>,
}

/// A row of a restored data set that belongs to an erased person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupHit {
    pub line: u64,
    pub key: String,
    pub matched: IdKind,
    pub case: CaseId,
    pub set: String,
}

/// A row of a campaign list that must not be sent to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SuppressionHit {
    pub line: u64,
    pub key: String,
    pub matched: IdKind,
    pub case: Option<CaseId>,
}

impl Desk {
    /// Every backup mark with how its case ended (None while it is open).
    /// A case has a mark per backup set: each case is read once.
    pub(crate) fn marks_with_outcomes(
        &self,
    ) -> Result<Vec<(BackupMark, Option<Outcome>)>, DeskError> {
        let mut outcomes: std::collections::HashMap<CaseId, Option<Outcome>> = Default::default();
        let mut out = Vec::new();
        for m in self.store.marks()? {
            let outcome = match outcomes.get(&m.case) {
                Some(o) => *o,
                None => {
                    let o = self.store.case(m.case)?.closure.map(|c| c.outcome);
                    outcomes.insert(m.case, o);
                    o
                }
            };
            out.push((m, outcome));
        }
        Ok(out)
    }

    pub fn pseudonymiser(&self) -> &Pseudonymiser {
        &self.pseudo
    }

    /// Where the lookup index holds the case's subject: records sharing an
    /// e-mail or phone, and the records staff attached at intake.
    pub fn holdings(&self, case: &Case) -> Holdings {
        let cc = self.default_cc();
        let emails: Vec<String> = case
            .subject
            .emails
            .iter()
            .filter_map(|e| email_key(e))
            .collect();
        let phones: Vec<String> = case
            .subject
            .phones
            .iter()
            .filter_map(|p| phone_key(p, cc))
            .collect();
        let reader = self.record_reader();
        let mut h = Holdings::default();
        let mut found = reader.holding(&emails, &phones, cc);
        for attached in &case.records {
            if let Some((src, key)) = attached.split_once(':') {
                let mut k = src.as_bytes().to_vec();
                k.push(0);
                k.extend_from_slice(key.as_bytes());
                if found.iter().any(|(fk, _)| *fk == k) {
                    continue;
                }
                if let Some(r) = reader.get(&k) {
                    found.push((k, r));
                }
            }
        }
        for (k, r) in found {
            h.store_keys.push(k);
            h.by_source.entry(r.source.clone()).or_default().push(r);
        }
        h
    }

    /// The tasks the case's rights require, from the catalogue and where the
    /// person was found. Nothing is written.
    pub fn propose_plan(&self, id: CaseId) -> Result<PlanProposal, DeskError> {
        let case = self.store.case(id)?;
        let held = self.holdings(&case).sources();
        Ok(PlanProposal {
            case: id,
            tasks: plan::propose(&case, &self.catalogue, &held),
            held,
        })
    }

    /// Accepts planned tasks. Work the desk does itself is done in the same
    /// transaction: suppression entries for the subject, and backup exclusion
    /// marks for each backup set, each task recorded done with what was written.
    pub fn accept_plan(&self, id: CaseId, tasks: &[PlannedTask]) -> Result<Case, DeskError> {
        let mut case = self.store.case(id)?;
        let base = case.version;
        let today = self.today();
        let cx = self.cx(today);
        for t in tasks {
            let Some(src) = self.catalogue.get(&t.source) else {
                return Err(DeskError::UnknownSource {
                    id: t.source.clone(),
                    known: self.catalogue.ids().join(", "),
                });
            };
            // The two actions the desk carries out itself write registers:
            // only where the catalogue says they belong, whoever sent the plan.
            let misplaced = (t.action == ACTION_MARK_BACKUP && !src.backup)
                || (t.action == ACTION_SUPPRESS && !src.marketing);
            if misplaced {
                return Err(crate::domain::Refusal {
                    case: id,
                    step: "plan tasks for",
                    why: format!(
                        "'{}' is not done in {} (the catalogue does not mark it as {})",
                        t.action,
                        t.source,
                        if t.action == ACTION_SUPPRESS {
                            "a marketing channel"
                        } else {
                            "a backup"
                        }
                    ),
                }
                .into());
            }
        }
        let refs = tasks
            .iter()
            .map(|t| PlannedRef {
                source: t.source.clone(),
                action: t.action.clone(),
            })
            .collect();
        case.apply(Step::Plan { tasks: refs }, &cx)?;
        let hashes = self.pseudo.all(&case.subject.emails, &case.subject.phones);
        let mut beside = Beside::default();
        let mut done: Vec<(String, String, String)> = Vec::new();
        for t in tasks {
            if t.action == ACTION_SUPPRESS {
                if hashes.is_empty() {
                    continue; // no e-mail or phone to suppress: staff do it by hand
                }
                for (kind, hash) in &hashes {
                    beside.suppress.push(Suppression {
                        hash: hash.clone(),
                        id_kind: *kind,
                        added: today,
                        origin: SuppressionOrigin::Case { case: id },
                    });
                }
                done.push((
                    t.source.clone(),
                    t.action.clone(),
                    format!(
                        "{} identifier(s) put on the desk's suppression list as keyed hashes; export with `rightsdesk suppression export`",
                        hashes.len()
                    ),
                ));
            } else if t.action == ACTION_MARK_BACKUP {
                let src = self.catalogue.get(&t.source).expect("checked above");
                let expires = overwrite_date(today, src.retention.months);
                for set in &src.systems {
                    beside.marks.push(BackupMark {
                        case: id,
                        source: src.id.clone(),
                        set: set.clone(),
                        marked_on: today,
                        expires,
                        re_erase_on_restore: true,
                        hashes: hashes.clone(),
                    });
                }
                let until = expires
                    .map(|d| format!("until {d}"))
                    .unwrap_or_else(|| "until overwritten".into());
                done.push((
                    t.source.clone(),
                    t.action.clone(),
                    format!(
                        "{} backup set(s) marked {until}: after any restore run `rightsdesk backups check` and erase again",
                        src.systems.len()
                    ),
                ));
            }
        }
        for (source, action, note) in done {
            case.apply(
                Step::RecordTask {
                    source,
                    action: Some(action),
                    status: TaskStatus::Done,
                    note,
                },
                &cx,
            )?;
        }
        case.version = base + 1;
        let detail = serde_json::json!({
            "on": today,
            "tasks": tasks.len(),
            "suppressed": beside.suppress.len(),
            "backup_marks": beside.marks.len(),
        });
        self.store
            .update_case_with(&case, &self.note("planned", detail), &beside)?;
        self.follow_in_index(&[]);
        Ok(case)
    }

    /// Closes a case. An erasure granted in full or in part also removes the
    /// subject's records from the desk's index and, unless staff keep them as
    /// evidence, replaces the case's e-mails and phones by keyed hashes — in
    /// the same transaction. (Run `rightsdesk rebuild` afterwards so the
    /// removed bytes leave sled's files too.)
    pub fn close(
        &self,
        id: CaseId,
        closing: crate::domain::closure::Closing,
        on: Option<NaiveDate>,
    ) -> Result<Case, DeskError> {
        let outcome = closing.outcome;
        let keep_identifiers = closing.keep_identifiers;
        let step = Step::Close(closing);
        let today = self.step_day(id, &step, on)?;
        let mut case = self.store.case(id)?;
        let base = case.version;
        let cx = self.cx(today);
        case.apply(step, &cx)?;
        let erasing = case.rights.contains(&Right::Erasure) && outcome.is_granted();
        let mut beside = Beside::default();
        let mut removed = 0;
        if erasing {
            // Exempt sources keep their data in the source system; the desk's own
            // copy of the index goes for every source.
            let h = self.holdings(&case);
            removed = h.store_keys.len();
            beside.remove_records = h.store_keys;
            if !keep_identifiers {
                let hashes = self
                    .pseudo
                    .all(&case.subject.emails, &case.subject.phones)
                    .into_iter()
                    .map(|(_, h)| h)
                    .collect();
                case.apply(Step::Pseudonymise { hashes }, &cx)?;
            }
        }
        case.version = base + 1;
        let detail = serde_json::json!({
            "on": today,
            "outcome": outcome,
            "records_removed": removed,
            "pseudonymised": case.pseudonymised(),
        });
        self.store
            .update_case_with(&case, &self.note("closed", detail), &beside)?;
        // The next lookup, from any desk, shows the erasure.
        self.follow_in_index(&beside.remove_records);
        Ok(case)
    }

    /// The suppression list, and the case of each entry.
    pub fn suppression_list(&self) -> Result<Vec<Suppression>, DeskError> {
        Ok(self.store.suppression()?)
    }

    pub fn backup_marks(&self) -> Result<Vec<BackupMark>, DeskError> {
        Ok(self.store.marks()?)
    }

    /// Puts the unsubscribed and cleaned rows of a marketing tool's export
    /// (read by the caller, where the file is) on the suppression list
    /// (hashes only); returns (rows taken, new entries).
    pub fn suppress_rows(
        &self,
        source: &str,
        records: &[SourceRecord],
    ) -> Result<(u64, u64), DeskError> {
        let today = self.today();
        let mut entries = Vec::new();
        let mut rows = 0;
        for r in records {
            let status = r.status.as_deref().unwrap_or("").to_ascii_lowercase();
            if !matches!(status.as_str(), "unsubscribed" | "cleaned") {
                continue;
            }
            rows += 1;
            for (kind, hash) in self.pseudo.all(&r.emails, &r.phones) {
                entries.push(Suppression {
                    hash,
                    id_kind: kind,
                    added: today,
                    origin: SuppressionOrigin::Import {
                        source: source.to_string(),
                        status: status.clone(),
                    },
                });
            }
        }
        let detail = serde_json::json!({ "source": source, "rows": rows });
        let (new, _) = self
            .store
            .add_suppressions(&entries, &self.note("suppression-imported", detail))?;
        self.follow_in_index(&[]);
        Ok((rows, new))
    }

    /// The keyed hashes of live backup marks, each with its case and set: an
    /// erasure withdrawn or refused is not re-applied on restore.
    fn live_marks(&self) -> Result<BTreeMap<String, (CaseId, String)>, DeskError> {
        let mut live = BTreeMap::new();
        for (m, outcome) in self.marks_with_outcomes()? {
            if outcome.is_some_and(|o| !o.is_granted()) {
                continue;
            }
            for (_, h) in &m.hashes {
                live.entry(h.clone()).or_insert((m.case, m.set.clone()));
            }
        }
        Ok(live)
    }

    /// The suppression list's keyed hashes, each with its case (if any).
    fn suppressed(&self) -> Result<BTreeMap<String, Option<CaseId>>, DeskError> {
        Ok(self
            .store
            .suppression()?
            .into_iter()
            .map(|s| (s.hash.clone(), s.case()))
            .collect())
    }
}

/// What an access export wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccessExport {
    pub pdf: std::path::PathBuf,
    pub zip: Option<std::path::PathBuf>,
    pub sources: usize,
    pub records: usize,
}

/// An access package read from the store, to be written where the officer
/// works (encrypted with the password they choose).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AccessPackage {
    pub case: CaseId,
    pub report: crate::domain::response::Report,
    pub by_source: BTreeMap<String, Vec<SourceRecord>>,
    pub portability: bool,
}

impl AccessPackage {
    pub fn records(&self) -> usize {
        self.by_source.values().map(Vec::len).sum()
    }

    /// Checks `ID-access.pdf` and `ID-portability.zip` can be written into
    /// `out_dir` (made 0700 if missing), before anything is written or logged.
    pub fn prepare(id: CaseId, out_dir: &Path) -> Result<(), DeskError> {
        for name in [format!("{id}-access.pdf"), format!("{id}-portability.zip")] {
            let p = out_dir.join(name);
            crate::store::files::prepare_output(&p)
                .map_err(|source| DeskError::Read { path: p, source })?;
        }
        Ok(())
    }

    /// Writes `ID-access.pdf` (and `ID-portability.zip`) into `out_dir`
    /// (made 0700 if missing; an existing one keeps its mode), both AES-256.
    pub fn write(
        &self,
        out_dir: &Path,
        password: &super::package::Password,
    ) -> Result<AccessExport, DeskError> {
        let id = self.case;
        crate::store::files::create_private_dirs(out_dir).map_err(|source| DeskError::Read {
            path: out_dir.to_path_buf(),
            source,
        })?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DeskError::Read { path, source }
        };
        let pdf = out_dir.join(format!("{id}-access.pdf"));
        super::package::write_pdf(&self.report, password, &pdf).map_err(io(&pdf))?;
        let zip = if self.portability {
            let z = out_dir.join(format!("{id}-portability.zip"));
            super::package::write_portability_zip(&id.to_string(), &self.by_source, password, &z)
                .map_err(io(&z))?;
            Some(z)
        } else {
            None
        };
        Ok(AccessExport {
            pdf,
            zip,
            sources: self.by_source.len(),
            records: self.records(),
        })
    }
}

impl Desk {
    /// What the access package of a verified case holds: the report and the
    /// person's records per source. Refused unless the case asks for access
    /// or portability and identity is verified.
    pub fn access_package(&self, id: CaseId) -> Result<AccessPackage, DeskError> {
        let case = self.store.case(id)?;
        let refuse = |why: &str| {
            DeskError::Refused(crate::domain::Refusal {
                case: id,
                step: "export the access package for",
                why: why.to_string(),
            })
        };
        if !case.wants_package() {
            return Err(refuse("the case does not ask for access or portability"));
        }
        if case.verified().is_none() {
            return Err(refuse("identity is not verified"));
        }
        let held = self.holdings(&case);
        let report = crate::domain::response::access_report(
            &case,
            &held.by_source,
            &self.catalogue,
            &self.settings,
            self.today(),
        );
        Ok(AccessPackage {
            case: id,
            report,
            portability: case.rights.contains(&Right::Portability),
            by_source: held.by_source,
        })
    }

    /// The `access-exported` audit entry: counts only, never the content;
    /// written once the package's files are.
    pub fn log_access_export(
        &self,
        case: CaseId,
        sources: usize,
        records: usize,
        portability: bool,
    ) -> Result<(), DeskError> {
        let detail = serde_json::json!({
            "case": case.to_string(),
            "sources": sources,
            "records": records,
            "portability": portability,
        });
        self.store.log(&self.note("access-exported", detail))?;
        Ok(())
    }

    /// The closing letter for a case, as text.
    pub fn closing_letter(&self, id: CaseId) -> Result<crate::domain::response::Report, DeskError> {
        let case = self.store.case(id)?;
        let extended = case.history.iter().find_map(|e| match &e.action {
            crate::domain::Action::Extended { reason } => Some(reason.clone()),
            _ => None,
        });
        Ok(crate::domain::response::closing_letter(
            &case,
            &self.catalogue,
            &self.store.marks()?,
            &self.settings,
            extended.as_deref(),
        ))
    }
}

/// A row found by either check, as the desk lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckHit {
    pub line: u64,
    pub key: String,
    pub matched: IdKind,
    pub case: Option<CaseId>,
    /// The backup set a mark was written for (backups check only).
    pub set: Option<String>,
}

impl Desk {
    /// What a check compares rows with: the keyed hashes of live backup
    /// marks (restore) or of the suppression list, each with its case;
    /// only those in `only` when given (the service answers a desk's hashes).
    pub fn check_table(
        &self,
        restore: bool,
        only: Option<&std::collections::HashSet<String>>,
    ) -> Result<BTreeMap<String, CheckRef>, DeskError> {
        let mut table: BTreeMap<String, CheckRef> = if restore {
            self.live_marks()?
                .into_iter()
                .map(|(h, (case, set))| {
                    (
                        h,
                        CheckRef {
                            case: Some(case),
                            set: Some(set),
                        },
                    )
                })
                .collect()
        } else {
            self.suppressed()?
                .into_iter()
                .map(|(h, case)| (h, CheckRef { case, set: None }))
                .collect()
        };
        if let Some(only) = only {
            table.retain(|h, _| only.contains(h));
        }
        Ok(table)
    }
}

/// The rows whose e-mail or phone, hashed with the organisation's key, is in
/// `table`: the first identifier that matches, with the case behind it.
pub fn check_rows(
    pseudo: &Pseudonymiser,
    records: &[SourceRecord],
    table: &BTreeMap<String, CheckRef>,
) -> Vec<CheckHit> {
    rows_matching(pseudo, records, table)
        .map(|(r, matched, found)| CheckHit {
            line: r.line,
            key: r.key.clone(),
            matched,
            case: found.case,
            set: found.set,
        })
        .collect()
}

/// The rows whose e-mail or phone, hashed with the organisation's key, is in
/// `table`: the first identifier that matches, and what the table holds for it.
fn rows_matching<'a, T: Clone>(
    pseudo: &'a Pseudonymiser,
    records: &'a [SourceRecord],
    table: &'a BTreeMap<String, T>,
) -> impl Iterator<Item = (&'a SourceRecord, IdKind, T)> + 'a {
    records.iter().filter_map(move |r| {
        pseudo
            .all(&r.emails, &r.phones)
            .into_iter()
            .find_map(|(k, h)| table.get(&h).map(|v| (r, k, v.clone())))
    })
}
