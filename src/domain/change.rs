//! Each step staff take, as one function: given the case as stored and the
//! facts the step needs, either a refusal with its reason or the `Change`
//! with every side effect it implies — the case as it will be, its audit
//! entry, the records to remove, the suppression entries and backup marks to
//! write, whether the lookup's flags move. The service carries a change out
//! the same way for every caller (the desk, the shell, the team server),
//! dated or not (ARCHITECTURE.md, "Where a rule lives").

use super::case::Action;
use super::case::{Case, TaskStatus};
use super::closure::Closing;
use super::lifecycle::{PlannedRef, Refusal, Step, StepContext};
use super::plan::PlannedTask;
use super::pseudonym::Pseudonymiser;
use super::register::{overwrite_date, BackupMark, Suppression, SuppressionOrigin};
use super::right::Right;
use super::source::Catalogue;
use super::task_action::{ACTION_MARK_BACKUP, ACTION_SUPPRESS};
use super::CaseId;
use chrono::{DateTime, NaiveDate, Utc};

/// E-mails and phones (normalised) a person was found under.
pub type Identities = (Vec<String>, Vec<String>);

/// What a step is decided with, besides the case.
pub struct Facts<'a> {
    pub actor: &'a str,
    pub at: DateTime<Utc>,
    /// Today where the desk is: a step dated later is refused.
    pub today: NaiveDate,
    pub calendar: &'a super::HolidayCalendar,
    pub catalogue: &'a Catalogue,
    pub pseudo: &'a Pseudonymiser,
    /// The store keys of the records the desk holds about the case's
    /// subject (read only by a step that removes them).
    pub held: &'a dyn Fn(&Case) -> Vec<Vec<u8>>,
    /// The e-mails and phones on those records: every identity the person
    /// was found under (read only by the steps that write registers).
    pub identities: &'a dyn Fn(&Case) -> Identities,
    /// A record of the lookup by its `source:key` (read only by a step that
    /// links it to a case).
    pub record: &'a dyn Fn(&str) -> Option<super::record::SourceRecord>,
}

/// What staff ask of one case.
#[derive(Debug, Clone)]
pub enum Ask {
    /// A step, dated `on` (default today).
    Step { step: Step, on: Option<NaiveDate> },
    /// The plan's kept tasks, with the registers the desk writes itself.
    AcceptPlan(Vec<PlannedTask>),
    /// The access package was written (only the service's export asks this).
    PackageSent {
        sources: usize,
        records: usize,
        portability: bool,
        /// Why it went with sources unsearched, if it did.
        unsearched_reason: Option<String>,
    },
    /// Reduction of a closed case past retention to its stub.
    Purge { retention_years: u32 },
}

/// A decided change: everything that must be written, in one transaction.
#[derive(Debug, Clone)]
pub struct Change {
    pub case: Case,
    /// The audit entry's kind and its free-text-free detail.
    pub kind: String,
    pub detail: serde_json::Value,
    /// Source records (store keys) removed: from the store and the index.
    pub remove_records: Vec<Vec<u8>>,
    pub suppress: Vec<Suppression>,
    pub marks: Vec<BackupMark>,
    /// RESTRICTED, DO NOT MARKET or ERASED may show differently now.
    pub moves_flags: bool,
}

/// Why a step was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Rule(#[from] Refusal),
    #[error("unknown source '{id}' (the catalogue has: {known})")]
    UnknownSource { id: String, known: String },
}

/// Decides one step on `case` (as stored). The change's case is one version
/// on, whatever the step applied on its way.
pub fn decide(case: Case, ask: Ask, facts: &Facts) -> Result<Change, Refused> {
    let base = case.version;
    let mut change = match ask {
        Ask::Step {
            step: Step::Close(closing),
            on,
        } => close(case, closing, on, facts)?,
        Ask::Step {
            step: step @ Step::LinkIdentity { .. },
            on,
        } => link_identity(case, step, on, facts)?,
        Ask::Step { step, on } => step_on(case, step, on, facts)?,
        Ask::AcceptPlan(tasks) => accept_plan(case, &tasks, facts)?,
        Ask::PackageSent {
            sources,
            records,
            portability,
            unsearched_reason,
        } => {
            // The rule the package itself was made by: a caller cannot
            // record a package the desk would not have made.
            super::response::may_send_package(&case, unsearched_reason.as_deref()).map_err(
                |why| Refusal {
                    case: case.id,
                    step: "record the package sent for",
                    why,
                },
            )?;
            let step = Step::PackageSent {
                sources,
                records,
                portability,
            };
            recorded(case, step, facts.today, facts)?
        }
        Ask::Purge { retention_years } => purge(case, retention_years, facts)?,
    };
    change.case.version = base + 1;
    Ok(change)
}

fn cx<'a>(facts: &'a Facts, on: NaiveDate) -> StepContext<'a> {
    StepContext {
        actor: facts.actor,
        at: facts.at,
        on,
        calendar: facts.calendar,
    }
}

fn unknown(facts: &Facts, id: &str) -> Refused {
    Refused::UnknownSource {
        id: id.to_string(),
        known: facts.catalogue.ids().join(", "),
    }
}

/// The day a step is recorded on: `on`, or today; never in the future.
fn day(
    case: &Case,
    step: &Step,
    on: Option<NaiveDate>,
    facts: &Facts,
) -> Result<NaiveDate, Refusal> {
    recorded_on(case, step, on, facts.today)
}

/// The day a step is recorded on, as `decide` takes it (a face checking a
/// step before its confirmation asks the same).
pub fn recorded_on(
    case: &Case,
    step: &Step,
    on: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<NaiveDate, Refusal> {
    let on = on.unwrap_or(today);
    if on > today {
        return Err(Refusal {
            case: case.id,
            step: step.name(),
            why: format!("{on} is in the future"),
        });
    }
    Ok(on)
}

fn step_on(
    case: Case,
    step: Step,
    on: Option<NaiveDate>,
    facts: &Facts,
) -> Result<Change, Refused> {
    // Steps only the desk's own operations take, with the checks and side
    // effects that belong to them: never sent by a face (or a crafted
    // request) on their own.
    let reserved = match step {
        Step::Plan { .. } => Some("a plan is accepted as a whole (`case plan --accept`, or P in the desk), which checks it against the catalogue and writes its registers; it is not a step to send"),
        Step::Pseudonymise { .. } | Step::Purge { .. } => Some("the desk does this itself (when an erasure closes, or by `rightsdesk purge`); it is not a step to send"),
        Step::PackageSent { .. } => Some("the desk records it itself once the package's files are written (`export access`, or E in the desk); it is not a step to send"),
        _ => None,
    };
    if let Some(why) = reserved {
        return Err(Refusal {
            case: case.id,
            step: step.name(),
            why: why.into(),
        }
        .into());
    }
    if let Step::RecordTask { source, .. } | Step::Finding { source, .. } = &step {
        if facts.catalogue.get(source).is_none() {
            return Err(unknown(facts, source));
        }
    }
    let on = day(&case, &step, on, facts)?;
    let mut change = recorded(case, step, on, facts)?;
    // A register task recorded done by hand is done: the desk writes what
    // it says (the case's identities as keyed hashes), as the plan would.
    if let Some(Action::TaskRecorded {
        source,
        action,
        status: TaskStatus::Done,
        ..
    }) = change.case.history.last().map(|e| &e.action)
    {
        let hashes = facts
            .pseudo
            .all(&change.case.subject.emails, &change.case.subject.phones);
        if action == ACTION_SUPPRESS {
            change.suppress = suppression_entries(change.case.id, &hashes, facts.today);
            change.moves_flags = true;
        } else if action == ACTION_MARK_BACKUP && !hashes.is_empty() {
            if let Some(src) = facts.catalogue.get(source) {
                change.marks = backup_marks(change.case.id, src, &hashes, facts.today);
            }
        }
    }
    Ok(change)
}

/// A step whose only side effect is its record (and, for a lift, the flags).
fn recorded(mut case: Case, step: Step, on: NaiveDate, facts: &Facts) -> Result<Change, Refused> {
    let moves_flags = matches!(step, Step::LiftRestriction { .. });
    let event = case.apply(step, &cx(facts, on))?.clone();
    Ok(Change {
        kind: event.action.kind().to_string(),
        detail: audit_detail(&event.action, event.on),
        case,
        remove_records: Vec::new(),
        suppress: Vec::new(),
        marks: Vec::new(),
        moves_flags,
    })
}

/// Linking an identity: a record named by `source:key` brings its e-mails
/// and phones; the desk's registers already written for the case (the
/// suppression list, the backup marks) are written again to cover the new
/// identities, in the same change, so nothing the case promised misses them.
fn link_identity(
    mut case: Case,
    step: Step,
    on: Option<NaiveDate>,
    facts: &Facts,
) -> Result<Change, Refused> {
    let Step::LinkIdentity {
        mut emails,
        mut phones,
        records,
        note,
    } = step
    else {
        unreachable!("decide sends only a link here")
    };
    for r in &records {
        let Some(found) = (facts.record)(r) else {
            return Err(Refusal {
                case: case.id,
                step: "link an identity to",
                why: format!(
                    "no record '{r}' in the lookup (give SOURCE:KEY as the lookup shows it)"
                ),
            }
            .into());
        };
        // A record found by a title naming the person (a recording's
        // topic) is theirs to erase or hand over, but its identifiers are
        // its host's: it joins the case without them.
        if !found.mentions.is_empty() {
            continue;
        }
        // An address the system stored oddly is still the person's: it
        // is added as written only when it reads as one.
        emails.extend(
            found
                .emails
                .into_iter()
                .filter(|e| super::identifier::check_email(e).is_ok()),
        );
        phones.extend(
            found
                .phones
                .into_iter()
                .filter(|p| super::identifier::check_phone(p).is_ok()),
        );
    }
    let before: std::collections::BTreeSet<String> = facts
        .pseudo
        .all(&case.subject.emails, &case.subject.phones)
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    let step = Step::LinkIdentity {
        emails,
        phones,
        records,
        note,
    };
    let on = day(&case, &step, on, facts)?;
    let cx = cx(facts, on);
    let event = case.apply(step, &cx)?.clone();
    let all = facts.pseudo.all(&case.subject.emails, &case.subject.phones);
    let new: Vec<_> = all
        .iter()
        .filter(|(_, h)| !before.contains(h))
        .cloned()
        .collect();
    // The plan holds the task (done, or still pending because the case
    // had no identifier to suppress then): the new identities go on now.
    let done = |action: &str| {
        case.tasks
            .iter()
            .filter(|t| t.action == action && t.status != TaskStatus::Dropped)
            .map(|t| t.source.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let mut suppress = Vec::new();
    if !done(ACTION_SUPPRESS).is_empty() {
        suppress = suppression_entries(case.id, &new, facts.today);
    }
    let mut marks = Vec::new();
    if !new.is_empty() {
        for source in done(ACTION_MARK_BACKUP) {
            if let Some(src) = facts.catalogue.get(&source) {
                marks.extend(backup_marks(case.id, src, &all, facts.today));
            }
        }
    }
    let mut detail = audit_detail(&event.action, event.on);
    detail["suppressed"] = serde_json::json!(suppress.len());
    detail["backup_marks"] = serde_json::json!(marks.len());
    Ok(Change {
        kind: event.action.kind().to_string(),
        detail,
        case,
        remove_records: Vec::new(),
        suppress,
        marks,
        // Restricted, DO NOT MARKET and ERASED follow the case's identities.
        moves_flags: true,
    })
}

/// Adds to the case the e-mails and phones of the records the person was
/// found under that it does not hold yet (a `LinkIdentity` step, in its
/// history): what erasure, suppression and the backup marks cover.
fn take_in_found(case: &mut Case, facts: &Facts, cx: &StepContext) -> Result<(), Refused> {
    use super::identifier::{check_email, check_phone};
    let (emails, phones) = (facts.identities)(case);
    let mut new_emails: Vec<String> = Vec::new();
    for e in emails.iter().filter_map(|e| check_email(e).ok()) {
        if !case.subject.emails.contains(&e) && !new_emails.contains(&e) {
            new_emails.push(e);
        }
    }
    let mut new_phones: Vec<String> = Vec::new();
    for p in phones.iter().filter_map(|p| check_phone(p).ok()) {
        if !case.subject.phones.contains(&p) && !new_phones.contains(&p) {
            new_phones.push(p);
        }
    }
    if new_emails.is_empty() && new_phones.is_empty() {
        return Ok(());
    }
    case.apply(
        Step::LinkIdentity {
            emails: new_emails,
            phones: new_phones,
            records: Vec::new(),
            note: "found on the person's records in the lookup".into(),
        },
        cx,
    )?;
    Ok(())
}

/// The suppression entries of a case's identities (keyed hashes).
fn suppression_entries(
    case: CaseId,
    hashes: &[(super::pseudonym::IdKind, String)],
    today: NaiveDate,
) -> Vec<Suppression> {
    hashes
        .iter()
        .map(|(kind, hash)| Suppression {
            hash: hash.clone(),
            id_kind: *kind,
            added: today,
            origin: SuppressionOrigin::Case { case },
        })
        .collect()
}

/// One backup exclusion mark per backup set of a source, holding every
/// identity of the case (a mark is kept per case and set: written again,
/// it replaces the one before).
fn backup_marks(
    case: CaseId,
    src: &super::source::Source,
    hashes: &[(super::pseudonym::IdKind, String)],
    today: NaiveDate,
) -> Vec<BackupMark> {
    let expires = overwrite_date(today, src.retention.months);
    src.systems
        .iter()
        .map(|set| BackupMark {
            case,
            source: src.id.clone(),
            set: set.clone(),
            marked_on: today,
            expires,
            re_erase_on_restore: true,
            hashes: hashes.to_vec(),
        })
        .collect()
}

/// Closing. An erasure granted in full or in part also removes the
/// subject's records the desk holds (every source: exempt sources keep
/// theirs in the source system, not in the desk) and, unless staff keep
/// them as evidence, reduces the case's e-mails and phones to keyed hashes.
fn close(
    mut case: Case,
    closing: Closing,
    on: Option<NaiveDate>,
    facts: &Facts,
) -> Result<Change, Refused> {
    let outcome = closing.outcome;
    let keep_identifiers = closing.keep_identifiers;
    let step = Step::Close(closing);
    let on = day(&case, &step, on, facts)?;
    let cx = cx(facts, on);
    let erasing = case.rights.contains(&Right::Erasure) && outcome.is_granted();
    if erasing {
        // Every identity the erased records carried stays erased (the
        // lookup's flag, the case's keyed hashes), not only those typed in;
        // taken in while the case is open, then closed in the same change
        // (a refused close returns before anything is written).
        take_in_found(&mut case, facts, &cx)?;
    }
    case.apply(step, &cx)?;
    let mut remove_records = Vec::new();
    if erasing {
        remove_records = (facts.held)(&case);
        if !keep_identifiers {
            let hashes = facts
                .pseudo
                .ordered(&case.subject.emails, &case.subject.phones);
            case.apply(Step::Pseudonymise { hashes }, &cx)?;
        }
    }
    let detail = serde_json::json!({
        "on": on,
        "outcome": outcome,
        "records_removed": remove_records.len(),
        "pseudonymised": case.pseudonymised(),
    });
    let moves_flags = case.rights.iter().any(|r| {
        matches!(
            r,
            Right::Erasure | Right::Restriction | Right::Objection | Right::WithdrawConsent
        )
    });
    Ok(Change {
        case,
        kind: "closed".into(),
        detail,
        remove_records,
        suppress: Vec::new(),
        marks: Vec::new(),
        moves_flags,
    })
}

/// Accepting a plan. Work the desk does itself is done in the same change:
/// suppression entries for the subject, backup exclusion marks for each
/// backup set — only where the catalogue says they belong, whoever sent the
/// plan — each task recorded done with what was written.
fn accept_plan(mut case: Case, tasks: &[PlannedTask], facts: &Facts) -> Result<Change, Refused> {
    let today = facts.today;
    let cx = cx(facts, today);
    for t in tasks {
        let Some(src) = facts.catalogue.get(&t.source) else {
            return Err(unknown(facts, &t.source));
        };
        let misplaced = (t.action == ACTION_MARK_BACKUP && !src.backup)
            || (t.action == ACTION_SUPPRESS && !src.marketing);
        if misplaced {
            return Err(Refusal {
                case: case.id,
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
    // An organisation whose catalogue lists no backup set has none to mark
    // for an erasure (the plan was checked against that catalogue).
    case.no_backup_sets = !facts.catalogue.sources.iter().any(|s| s.backup);
    if case.rights.iter().any(|r| {
        matches!(
            r,
            Right::Erasure | Right::Restriction | Right::Objection | Right::WithdrawConsent
        )
    }) {
        // The registers cover every identity the person was found under.
        take_in_found(&mut case, facts, &cx)?;
    }
    let id: CaseId = case.id;
    let hashes = facts.pseudo.all(&case.subject.emails, &case.subject.phones);
    let mut suppress = Vec::new();
    let mut marks = Vec::new();
    let mut done: Vec<(String, String, String)> = Vec::new();
    for t in tasks {
        if t.action == ACTION_SUPPRESS {
            if hashes.is_empty() {
                continue; // no e-mail or phone to suppress: staff do it by hand
            }
            suppress.extend(suppression_entries(id, &hashes, today));
            done.push((
                t.source.clone(),
                t.action.clone(),
                format!(
                    "{} identifier(s) put on the desk's suppression list as keyed hashes; export with `rightsdesk suppression export`",
                    hashes.len()
                ),
            ));
        } else if t.action == ACTION_MARK_BACKUP {
            let src = facts.catalogue.get(&t.source).expect("checked above");
            let expires = overwrite_date(today, src.retention.months);
            marks.extend(backup_marks(id, src, &hashes, today));
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
    let detail = serde_json::json!({
        "on": today,
        "tasks": tasks.len(),
        "suppressed": suppress.len(),
        "backup_marks": marks.len(),
    });
    Ok(Change {
        moves_flags: !suppress.is_empty(),
        case,
        kind: "planned".into(),
        detail,
        remove_records: Vec::new(),
        suppress,
        marks,
    })
}

/// Purging: a closed case past retention becomes its stub, keeping only
/// the keyed hashes its registers need.
fn purge(mut case: Case, retention_years: u32, facts: &Facts) -> Result<Change, Refused> {
    // In the order they stand (the first e-mail's first): the pseudonym is
    // the first hash, so the stub keeps the one the person's other cases have.
    let hashes = facts
        .pseudo
        .ordered(&case.subject.emails, &case.subject.phones);
    case.apply(Step::Purge { hashes }, &cx(facts, facts.today))?;
    Ok(Change {
        case,
        kind: "purged".into(),
        detail: serde_json::json!({ "on": facts.today, "retention_years": retention_years }),
        remove_records: Vec::new(),
        suppress: Vec::new(),
        marks: Vec::new(),
        moves_flags: true,
    })
}

/// The structured, free-text-free part of a step for the audit chain.
pub fn audit_detail(action: &Action, on: NaiveDate) -> serde_json::Value {
    use Action::*;
    let mut v = match action {
        Verified {
            method, outcome, ..
        } => serde_json::json!({ "method": method, "outcome": outcome }),
        TaskRecorded {
            source,
            action,
            status,
            ..
        } => serde_json::json!({ "source": source, "action": action, "status": status }),
        Closed { outcome, .. } => serde_json::json!({ "outcome": outcome }),
        Planned { tasks } => serde_json::json!({ "tasks": tasks.len() }),
        RestrictionLifted { told_on, .. } => serde_json::json!({ "told_on": told_on }),
        Finding { source, .. } => serde_json::json!({ "source": source }),
        NoticeSent { letter, via } => serde_json::json!({ "letter": letter, "via": via }),
        IdentityLinked {
            emails,
            phones,
            sources,
            ..
        } => serde_json::json!({ "emails": emails, "phones": phones, "sources": sources }),
        PackageSent {
            sources,
            records,
            portability,
            unsearched,
        } => serde_json::json!({
            "sources": sources, "records": records, "portability": portability, "unsearched": unsearched,
        }),
        _ => serde_json::json!({}),
    };
    v["on"] = serde_json::json!(on);
    v
}
