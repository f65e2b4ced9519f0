//! The rights flows as services: plans, the suppression list, backup marks,
//! erasure's reduction of the desk's own copy, and the checks operations run.

use super::ops::CheckRef;
use super::{Desk, DeskError};
use crate::domain::identifier::{email_key, phone_key};
use crate::domain::plan::{self, PlannedTask};
use crate::domain::pseudonym::{IdKind, Pseudonymiser};
use crate::domain::record::SourceRecord;
use crate::domain::register::{BackupMark, Suppression};
use crate::domain::{Case, CaseId, Outcome, Right};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Where the desk's index holds the subject of a case.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    /// Catalogue source id → the records found there.
    pub by_source: BTreeMap<String, Vec<SourceRecord>>,
    /// Store keys of those records (what erasure removes from the index).
    pub store_keys: Vec<Vec<u8>>,
    /// Every e-mail and phone on those records (normalised keys): the
    /// identities the person was found under.
    pub emails: Vec<String>,
    pub phones: Vec<String>,
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
        let (mut emails, mut phones) = (emails, phones);
        // A record is the person's when it shares an e-mail with the case
        // or with a record already found (as the lookup links them); one
        // that shares only a phone (a household, an office switchboard)
        // must also carry the person's name: never another person's data
        // in their package, nor their record erased.
        let mut found: Vec<(Vec<u8>, SourceRecord)> = Vec::new();
        for _hop in 0..MAX_HOPS {
            let mut more = reader.holding(&emails, &phones, cc);
            more.retain(|(k, r)| {
                !found.iter().any(|(fk, _)| fk == k)
                    && (r
                        .emails
                        .iter()
                        .filter_map(|e| email_key(e))
                        .any(|e| emails.contains(&e))
                        || same_person(&case.subject.name, &r.names))
            });
            if more.is_empty() {
                break;
            }
            for (_, r) in &more {
                for e in r.emails.iter().filter_map(|e| email_key(e)) {
                    if !emails.contains(&e) {
                        emails.push(e);
                    }
                }
                for p in r.phones.iter().filter_map(|p| phone_key(p, cc)) {
                    if !phones.contains(&p) {
                        phones.push(p);
                    }
                }
            }
            found.extend(more);
        }
        h.emails = emails;
        h.phones = phones;
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

    /// Accepts planned tasks, with the registers the desk writes itself
    /// (decided by `domain::change`).
    pub fn accept_plan(&self, id: CaseId, tasks: &[PlannedTask]) -> Result<Case, DeskError> {
        self.carry_out(id, crate::domain::change::Ask::AcceptPlan(tasks.to_vec()))
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
            let mut r = r.clone();
            r.source = source.to_string();
            let row = crate::domain::register::suppression_of_row(&self.pseudo, &r, today);
            if crate::domain::register::marketing_stopped(r.status.as_deref()).is_some() {
                rows += 1;
            }
            entries.extend(row);
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

/// Links followed from the case's identifiers to records and on to theirs:
/// as far as the lookup's grouping goes in practice, bounded so a long
/// chain of shared switchboards cannot walk the whole store.
const MAX_HOPS: usize = 4;

/// What an access export wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccessExport {
    pub case: CaseId,
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
            crate::store::files::prepare_officer_output(&p)
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
        super::package::write_pdf(&self.report, Some(password), &pdf).map_err(io(&pdf))?;
        let zip = if self.portability {
            let z = out_dir.join(format!("{id}-portability.zip"));
            super::package::write_portability_zip(&id.to_string(), &self.by_source, password, &z)
                .map_err(io(&z))?;
            Some(z)
        } else {
            None
        };
        Ok(AccessExport {
            case: id,
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
    pub fn access_package(
        &self,
        id: CaseId,
        unsearched_reason: Option<&str>,
    ) -> Result<AccessPackage, DeskError> {
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
        crate::domain::response::may_send_package(&case, unsearched_reason)
            .map_err(|why| refuse(&why))?;
        let mut held = self.holdings(&case);
        // A source staff recorded as exempt (Art. 15(4): another person's
        // data, say) sends nothing: the package states the exemption instead.
        held.by_source.retain(|source, _| {
            !case
                .tasks
                .iter()
                .any(|t| &t.source == source && t.status == crate::domain::TaskStatus::Exempt)
        });
        let report = crate::domain::response::access_report(
            &case,
            &held.by_source,
            &self.catalogue,
            &self.settings,
            self.today(),
            unsearched_reason,
        );
        Ok(AccessPackage {
            case: id,
            report,
            portability: case.rights.contains(&Right::Portability),
            by_source: held.by_source,
        })
    }

    /// Records on the case that its package went out (the `access-exported`
    /// entry: counts only, never the content); called once the package's
    /// files are written. A granted access or portability closes only after.
    pub fn record_package_sent(
        &self,
        id: CaseId,
        unsearched_reason: Option<&str>,
    ) -> Result<Case, DeskError> {
        let c = self.store.case(id)?;
        let held = self.holdings(&c);
        let ask = crate::domain::change::Ask::PackageSent {
            sources: held.by_source.len(),
            records: held.store_keys.len(),
            portability: c.rights.contains(&Right::Portability),
            unsearched_reason: unsearched_reason.map(str::to_string),
        };
        self.carry_out(id, ask)
    }

    /// One of the case's letters: the response (closing letter) or a notice
    /// on the way. A notice the case has no occasion for is refused.
    pub fn letter(
        &self,
        id: CaseId,
        letter: crate::domain::notice::Letter,
    ) -> Result<crate::domain::response::Report, DeskError> {
        use crate::domain::notice::{notice_letter, Letter};
        let case = self.store.case(id)?;
        if let Some(why) = letter.not_yet(&case) {
            return Err(DeskError::Refused(crate::domain::Refusal {
                case: id,
                step: "write the letter for",
                why,
            }));
        }
        let day = crate::domain::notice::letter_day(&case, letter, self.today());
        if letter != Letter::Response {
            return notice_letter(&case, letter, &self.settings, &self.calendar)
                .map(|r| crate::domain::notice::dated(r, day))
                .map(|r| crate::domain::notice::signed(r, &self.settings))
                .map_err(|why| {
                    DeskError::Refused(crate::domain::Refusal {
                        case: id,
                        step: "write the letter for",
                        why,
                    })
                });
        }
        let extended = case.history.iter().find_map(|e| match &e.action {
            crate::domain::Action::Extended { reason } => Some(reason.clone()),
            _ => None,
        });
        Ok(crate::domain::notice::signed(
            crate::domain::notice::dated(
                crate::domain::response::closing_letter(
                    &case,
                    &self.catalogue,
                    &self.store.marks()?,
                    &self.settings,
                    extended.as_deref(),
                ),
                day,
            ),
            &self.settings,
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
            let mut table: BTreeMap<String, CheckRef> = self
                .suppressed()?
                .into_iter()
                .map(|(h, case)| (h, CheckRef { case, set: None }))
                .collect();
            // One list: whoever the lookup shows DO NOT MARKET is caught too
            // (an open objection before its plan, a marketing tool's
            // unsubscribed row and every record linked to it).
            self.start_index();
            self.index.wait_built();
            // The cases' own identifiers too (an objection opened with an
            // address no import holds yet).
            let cases = super::flag_sets_of(&self.store.cases()?, self.default_cc()).do_not_market;
            for id in self.index.do_not_market_ids().into_iter().chain(cases) {
                if let Some(h) = self.pseudo.of_key(&id) {
                    table
                        .entry(crate::domain::pseudonym::hex(&h))
                        .or_insert(CheckRef {
                            case: None,
                            set: None,
                        });
                }
            }
            table
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

/// Whether a record's names are the case subject's: every word of one of
/// them is in the subject's name (accents and case folded), or the other
/// way round. "Seán O’Brien" is not "Siobhán O'Connor".
fn same_person(subject: &str, names: &[String]) -> bool {
    let words = |s: &str| -> Vec<String> {
        crate::domain::fold::fold(s)
            .text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mine = words(subject);
    if mine.is_empty() {
        return false;
    }
    let all: Vec<String> = names.iter().flat_map(|n| words(n)).collect();
    !all.is_empty()
        && (all.iter().all(|w| mine.contains(w)) || mine.iter().all(|w| all.contains(w)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_shared_phone_is_not_the_same_person() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(super::same_person("Seán O’Brien", &n(&["Sean", "O'Brien"])));
        assert!(super::same_person("Jürgen Müller", &n(&["Jurgen Muller"])));
        assert!(!super::same_person(
            "Seán O’Brien",
            &n(&["Siobhán O'Connor"])
        ));
        assert!(!super::same_person("Seán O’Brien", &n(&[])));
    }
}
