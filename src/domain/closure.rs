//! Closing a case: what is still open, and the reasons staff give for each
//! gap before a case may be closed as (partly) fulfilled.

use super::case::{Case, Channel, Outcome, TaskStatus};
use super::right::Right;
use super::task_action::ACTION_MARK_BACKUP;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One piece of required work still open at closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// Stable key: `source/action` for a task, `backup-marks` for marks.
    pub key: String,
    /// In words, for the closure form and the closure log.
    pub what: String,
}

/// A gap with the reason staff gave for closing all the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapReason {
    pub key: String,
    pub what: String,
    pub reason: String,
}

/// What staff say when closing a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closing {
    pub outcome: Outcome,
    /// The summary, or why refused.
    pub reason: String,
    /// A reasonable fee charged under Art. 12(5) (e.g. "EUR 25").
    pub fee: Option<String>,
    /// The day the response went out (default: the day of closing).
    pub responded_on: Option<NaiveDate>,
    /// How the response went out (default: the channel the request came by).
    pub via: Option<Channel>,
    /// (gap key, reason) for each open gap.
    pub gap_reasons: Vec<(String, String)>,
    /// Erasure: keep the subject's e-mails and phones in the closed case as
    /// evidence staff chose to keep (by default they become keyed hashes).
    #[serde(default)]
    pub keep_identifiers: bool,
}

impl Closing {
    pub fn new(outcome: Outcome, reason: impl Into<String>) -> Closing {
        Closing {
            outcome,
            reason: reason.into(),
            fee: None,
            responded_on: None,
            via: None,
            gap_reasons: Vec::new(),
            keep_identifiers: false,
        }
    }
}

pub const KEY_BACKUP_MARKS: &str = "backup-marks";
pub const KEY_PACKAGE: &str = "access-package";
pub const KEY_NO_WORK: &str = "no-work";

/// Required work still open on a case: pending tasks (unsent Art. 19 notices
/// among them), for erasure backups never marked, and for access or
/// portability a package never sent (fulfilling them is sending it).
pub fn open_gaps(case: &Case) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = case
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Pending)
        .map(|t| Gap {
            key: format!("{}/{}", t.source, t.action),
            what: if t.action.starts_with("notify") {
                format!("notice unsent: {} ({})", t.source, t.action)
            } else {
                format!("task pending: {} — {}", t.source, t.action)
            },
        })
        .collect();
    let marked = case
        .tasks
        .iter()
        .any(|t| t.action == ACTION_MARK_BACKUP && t.status == TaskStatus::Done);
    // The package answers what was found: one sent before the last search
    // result or finding is out of date.
    let sent_at = case
        .history
        .iter()
        .rposition(|e| matches!(e.action, super::case::Action::PackageSent { .. }));
    if let Some(at) = sent_at.filter(|_| case.wants_package()) {
        let later = case.history[at + 1..]
            .iter()
            .filter(|e| {
                matches!(
                    e.action,
                    super::case::Action::TaskRecorded { .. } | super::case::Action::Finding { .. }
                )
            })
            .count();
        if later > 0 {
            gaps.push(Gap {
                key: KEY_PACKAGE.into(),
                what: format!(
                    "package out of date: {later} search result(s) or finding(s) recorded since it was exported; export it again"
                ),
            });
        }
    }
    // Rights that change something in the sources are fulfilled by work
    // recorded there.
    let needs_work = case
        .rights
        .iter()
        .any(|r| !matches!(r, Right::Access | Right::Portability));
    if needs_work && case.tasks.is_empty() {
        gaps.push(Gap {
            key: KEY_NO_WORK.into(),
            what: "no work recorded: no source has a task (accept the plan, or record the work)"
                .into(),
        });
    }
    if case.wants_package() && case.package_sent().is_none() {
        let what = if case.rights.contains(&Right::Portability) {
            "package not sent: no access package or machine-readable copy was exported (E in the desk, `export access`)"
        } else {
            "package not sent: no access package was exported (E in the desk, `export access`)"
        };
        gaps.push(Gap {
            key: KEY_PACKAGE.into(),
            what: what.into(),
        });
    }
    if case.rights.contains(&Right::Erasure) && !marked && !case.no_backup_sets {
        gaps.push(Gap {
            key: KEY_BACKUP_MARKS.into(),
            what: "backup marks missing: no backup set was marked for re-erasure".into(),
        });
    }
    gaps
}

/// The gaps a closing must explain, each with its reason; the ones left
/// without a reason as Err. Only a granted outcome must explain its gaps.
pub fn check_gaps(
    case: &Case,
    outcome: Outcome,
    reasons: &[(String, String)],
) -> Result<Vec<GapReason>, Vec<Gap>> {
    if outcome.is_granted() {
        explain_gaps(&open_gaps(case), reasons)
    } else {
        Ok(Vec::new())
    }
}

/// Matches reasons to gaps; the gaps left without a reason are returned as Err.
pub fn explain_gaps(
    gaps: &[Gap],
    reasons: &[(String, String)],
) -> Result<Vec<GapReason>, Vec<Gap>> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for g in gaps {
        match reasons
            .iter()
            .find(|(k, r)| *k == g.key && !r.trim().is_empty())
        {
            Some((_, r)) => out.push(GapReason {
                key: g.key.clone(),
                what: g.what.clone(),
                reason: r.trim().to_string(),
            }),
            None => missing.push(g.clone()),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::case::*;
    use crate::domain::lifecycle::Step;
    use crate::domain::testkit::{d, opened, step_on, verify};

    fn step(c: &mut Case, s: Step) -> Result<(), crate::domain::Refusal> {
        step_on(c, s, "2026-03-10")
    }

    fn case(rights: &[Right]) -> Case {
        opened(1, rights, Channel::Post, "2026-03-02")
    }

    fn verified(rights: &[Right]) -> Case {
        let mut c = case(rights);
        step(&mut c, verify()).unwrap();
        step(
            &mut c,
            Step::Plan {
                tasks: vec![
                    PlannedRef {
                        source: "customers".into(),
                        action: "erase".into(),
                    },
                    PlannedRef {
                        source: "events".into(),
                        action: "notify recipient of erasure".into(),
                    },
                ],
            },
        )
        .unwrap();
        c
    }

    #[test]
    fn open_work_is_listed_with_unsent_notices_and_missing_marks() {
        let c = verified(&[Right::Erasure]);
        let gaps: Vec<String> = open_gaps(&c).into_iter().map(|g| g.what).collect();
        assert_eq!(
            gaps,
            [
                "task pending: customers — erase",
                "notice unsent: events (notify recipient of erasure)",
                "backup marks missing: no backup set was marked for re-erasure",
            ]
        );
        let access: Vec<String> = open_gaps(&case(&[Right::Access]))
            .into_iter()
            .map(|g| g.key)
            .collect();
        assert_eq!(
            access,
            [KEY_PACKAGE],
            "fulfilling access is sending the package"
        );
        let objection: Vec<String> = open_gaps(&case(&[Right::Objection]))
            .into_iter()
            .map(|g| g.key)
            .collect();
        assert_eq!(
            objection,
            [KEY_NO_WORK],
            "an objection is fulfilled by work"
        );
    }

    #[test]
    fn fulfilled_with_open_work_needs_a_reason_for_each_gap() {
        let mut c = verified(&[Right::Erasure]);
        let mut closing = Closing::new(Outcome::Fulfilled, "done");
        closing.gap_reasons = vec![
            (
                "customers/erase".into(),
                "customer deleted it themselves".into(),
            ),
            ("backup-marks".into(), " ".into()),
        ];
        let e = step(&mut c, Step::Close(closing.clone())).unwrap_err();
        assert!(
            e.why.contains("[events/notify recipient of erasure]"),
            "{e}"
        );
        assert!(
            e.why.contains("[backup-marks]"),
            "a blank reason is no reason: {e}"
        );
        assert!(!e.why.contains("[customers/erase]"), "{e}");
        assert_eq!(c.state, State::InProgress, "nothing changed");
        closing.gap_reasons = vec![
            (
                "customers/erase".into(),
                "customer deleted it themselves".into(),
            ),
            (
                "events/notify recipient of erasure".into(),
                "event list already purged".into(),
            ),
            ("backup-marks".into(), "no backups of this system".into()),
        ];
        // A response dated before the plan it answers is refused.
        closing.responded_on = Some(d("2026-03-09"));
        let e = step(&mut c, Step::Close(closing.clone())).unwrap_err();
        assert!(
            e.why
                .contains("before the case's last step (planned, 2026-03-10)"),
            "{e}"
        );
        closing.responded_on = Some(d("2026-03-10"));
        step(&mut c, Step::Close(closing)).unwrap();
        let closure = c.closure.unwrap();
        assert_eq!(closure.gaps.len(), 3);
        assert_eq!(closure.gaps[0].reason, "customer deleted it themselves");
        assert_eq!(closure.responded(), d("2026-03-10"));
        assert_eq!(closure.via, Some(Channel::Post), "the channel it came by");
    }

    #[test]
    fn refusals_need_no_gap_reasons_and_responses_cannot_be_dated_oddly() {
        let mut c = verified(&[Right::Erasure]);
        let mut closing = Closing::new(Outcome::RefusedExcessive, "fourth request this month");
        closing.responded_on = Some(d("2026-03-11"));
        assert!(
            step(&mut c, Step::Close(closing.clone())).is_err(),
            "tomorrow"
        );
        closing.responded_on = Some(d("2026-03-01"));
        assert!(
            step(&mut c, Step::Close(closing.clone())).is_err(),
            "before receipt"
        );
        closing.responded_on = None;
        step(&mut c, Step::Close(closing)).unwrap();
        assert!(c.closure.unwrap().gaps.is_empty());
    }
}
