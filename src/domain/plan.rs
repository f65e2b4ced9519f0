//! Task plans: the per-source work a case's rights require, proposed from the
//! source catalogue and where the lookup found the person.
//!
//! Sources that hold the person come first; every other source the right
//! reaches gets a "search" task, because the lookup only knows what was
//! imported. Backups are never edited: erasure marks them instead.

use super::case::Case;
use super::right::Right;
use super::source::{Catalogue, ErasureMethod, Source};
use std::collections::BTreeSet;

/// One task the plan proposes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlannedTask {
    pub source: String,
    pub action: String,
    /// Why it is proposed, in words staff can check.
    pub why: String,
    /// The person was found in this source by the lookup.
    pub held: bool,
}

pub use super::task_action::{ACTION_MARK_BACKUP, ACTION_SUPPRESS};

/// Proposes the tasks for `case`, given the catalogue ids of the sources where
/// the person was found (`held`). Tasks already on the case are left out.
pub fn propose(case: &Case, catalogue: &Catalogue, held: &BTreeSet<String>) -> Vec<PlannedTask> {
    let mut out: Vec<PlannedTask> = Vec::new();
    let mut push = |s: &Source, action: String, why: String| {
        let exists = case
            .tasks
            .iter()
            .any(|t| t.source == s.id && t.action == action)
            || out.iter().any(|t| t.source == s.id && t.action == action);
        if !exists {
            out.push(PlannedTask {
                source: s.id.clone(),
                action,
                why,
                held: held.contains(&s.id),
            });
        }
    };
    for right in &case.rights {
        for s in &catalogue.sources {
            let h = held.contains(&s.id);
            let found = if h {
                "found in the lookup".to_string()
            } else {
                "not in the lookup; search it".to_string()
            };
            let verb = |done: &str| {
                if h {
                    done.to_string()
                } else {
                    format!("search and {done}")
                }
            };
            match right {
                Right::Access | Right::Portability => {
                    if s.backup {
                        continue; // beyond use: not searched for a response
                    }
                    if s.erasure == ErasureMethod::ThirdParty {
                        push(
                            s,
                            "tell the subject which third parties hold their data".into(),
                            "third parties answer under their own policies".into(),
                        );
                        continue;
                    }
                    // With access too, the search is the access task's; the
                    // machine-readable copy is of what was found.
                    if *right == Right::Portability && !h && case.rights.contains(&Right::Access) {
                        continue;
                    }
                    let act = if *right == Right::Access {
                        verb("collect")
                    } else {
                        verb("export machine-readable copy")
                    };
                    push(s, act, format!("{} ({})", right.article(), found));
                }
                Right::Erasure => {
                    if s.backup {
                        push(
                            s,
                            ACTION_MARK_BACKUP.into(),
                            "backups cannot be edited: marked so a restore erases again".into(),
                        );
                        continue;
                    }
                    let act = match s.erasure {
                        ErasureMethod::Exempt => format!("keep: exempt ({})", s.legal_basis),
                        ErasureMethod::Suppression => ACTION_SUPPRESS.to_string(),
                        ErasureMethod::ThirdParty => {
                            "point the subject to the third party's own erasure".into()
                        }
                        _ => verb("erase"),
                    };
                    push(s, act, format!("Art. 17 ({found})"));
                    // Art. 19 reaches recipients of data the source holds:
                    // proposed where the lookup found the person.
                    if s.recipient && h {
                        push(
                            s,
                            "notify recipient of erasure".into(),
                            "Art. 19: recipients are told".into(),
                        );
                    }
                }
                Right::Restriction => {
                    if s.backup {
                        continue;
                    }
                    if s.erasure != ErasureMethod::ThirdParty {
                        push(s, verb("mark restricted"), format!("Art. 18 ({found})"));
                    }
                    // Art. 19 reaches recipients of data the source holds:
                    // proposed where the lookup found the person.
                    if s.recipient && h {
                        push(
                            s,
                            "notify recipient of restriction".into(),
                            "Art. 19: recipients are told".into(),
                        );
                    }
                }
                Right::Objection => {
                    if s.marketing {
                        push(
                            s,
                            ACTION_SUPPRESS.into(),
                            "Art. 21(3): objection to direct marketing is absolute".into(),
                        );
                        push(
                            s,
                            "unsubscribe, remove from audiences, stop remarketing".into(),
                            format!("Art. 21(3) in {}", s.systems.join(", ")),
                        );
                    } else if s
                        .systems
                        .iter()
                        .any(|sys| sys.to_lowercase().contains("remarketing"))
                    {
                        push(
                            s,
                            "stop remarketing".into(),
                            "Art. 21(3): remarketing is direct marketing".into(),
                        );
                    }
                }
                Right::Rectification => {
                    if s.backup || s.erasure == ErasureMethod::ThirdParty {
                        continue;
                    }
                    push(s, verb("correct"), format!("Art. 16 ({found})"));
                    // Art. 19 reaches recipients of data the source holds:
                    // proposed where the lookup found the person.
                    if s.recipient && h {
                        push(
                            s,
                            "notify recipient of rectification".into(),
                            "Art. 19: recipients are told".into(),
                        );
                    }
                }
                Right::ObjectionLegitimate => {
                    if s.legitimate_interest && !s.backup {
                        push(
                            s,
                            super::task_action::ACTION_WEIGH.into(),
                            format!("Art. 21(1): processing here rests on legitimate interests ({found})"),
                        );
                    }
                }
                Right::WithdrawConsent => {
                    // Marketing on consent stops when it is withdrawn: the
                    // person goes on the suppression list like an objector.
                    if s.consent && s.marketing {
                        push(
                            s,
                            ACTION_SUPPRESS.into(),
                            "Art. 7(3): marketing on consent stops when consent is withdrawn"
                                .into(),
                        );
                        push(
                            s,
                            "unsubscribe, remove from audiences, stop remarketing".into(),
                            format!("Art. 7(3) in {}", s.systems.join(", ")),
                        );
                    } else if s.consent {
                        push(
                            s,
                            verb("stop consent-based processing"),
                            format!("Art. 7(3): processing here rests on consent ({found})"),
                        );
                    }
                }
            }
        }
    }
    // Where the person was found first; the rest keep catalogue order.
    out.sort_by_key(|t| !t.held);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::case::*;
    use crate::domain::ids::CaseId;
    use chrono::{NaiveDate, TimeZone, Utc};
    use proptest::prelude::*;

    fn case(rights: &[Right]) -> Case {
        Case {
            id: CaseId::new(2026, 1),
            rights: rights.to_vec(),
            channel: Channel::Email,
            requester: Requester::subject(),
            child: false,
            subject: Subject {
                name: "Ana".into(),
                emails: vec!["ana@example.ie".into()],
                phones: vec![],
            },
            received: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            state: State::InProgress,
            verifications: vec![],
            tasks: vec![],
            notes: vec![],
            closure: None,
            history: vec![],
            records: vec![],
            no_backup_sets: false,
            message: None,
            version: 1,
        }
    }

    fn held(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn erasure_erases_where_found_marks_backups_keeps_invoices_and_notifies() {
        let cat = Catalogue::builtin();
        let plan = propose(
            &case(&[Right::Erasure]),
            &cat,
            &held(&["customers", "events"]),
        );
        let find = |src: &str| -> Vec<&str> {
            plan.iter()
                .filter(|t| t.source == src)
                .map(|t| t.action.as_str())
                .collect()
        };
        assert_eq!(find("customers"), ["erase"]);
        assert_eq!(find("web-forms"), ["search and erase"]);
        assert_eq!(find("backups"), [ACTION_MARK_BACKUP]);
        assert!(
            find("invoicing")[0].starts_with("keep: exempt ("),
            "{plan:?}"
        );
        assert_eq!(find("events"), ["erase", "notify recipient of erasure"]);
        assert_eq!(find("marketing"), [ACTION_SUPPRESS]);
        // Found sources come first.
        assert!(plan[0].held && plan[1].held && !plan[3].held);
    }

    #[test]
    fn objection_reaches_every_marketing_channel_and_nothing_else() {
        let cat = Catalogue::builtin();
        let plan = propose(&case(&[Right::Objection]), &cat, &held(&[]));
        let sources: BTreeSet<_> = plan.iter().map(|t| t.source.as_str()).collect();
        assert_eq!(sources, ["marketing"].into_iter().collect());
        assert!(plan.iter().any(|t| t.action.contains("stop remarketing")));
    }

    #[test]
    fn an_objection_on_legitimate_interests_is_weighed_where_they_are_the_basis() {
        let cat = Catalogue::builtin();
        let plan = propose(
            &case(&[Right::ObjectionLegitimate]),
            &cat,
            &held(&["events"]),
        );
        let sources: BTreeSet<_> = plan.iter().map(|t| t.source.as_str()).collect();
        let expected: BTreeSet<_> = cat
            .sources
            .iter()
            .filter(|s| s.legitimate_interest)
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(sources, expected);
        // The events source (promotional mail on legitimate interest) is among them.
        assert_eq!(plan[0].source, "events");
        assert!(plan.iter().all(|t| t.action == ACTION_WEIGH_REF));
        assert!(!sources.contains("invoicing") && !sources.contains("backups"));
    }

    #[test]
    fn art_19_notices_are_proposed_where_the_person_is_held() {
        let cat = Catalogue::builtin();
        for (right, notice) in [
            (Right::Erasure, "notify recipient of erasure"),
            (Right::Restriction, "notify recipient of restriction"),
            (Right::Rectification, "notify recipient of rectification"),
        ] {
            let notices = |held_in: &[&str]| -> Vec<String> {
                propose(&case(&[right]), &cat, &held(held_in))
                    .into_iter()
                    .filter(|t| t.action == notice)
                    .map(|t| t.source)
                    .collect()
            };
            assert_eq!(notices(&["events"]), ["events"], "{right}");
            assert!(notices(&["web-forms"]).is_empty(), "{right}");
        }
    }

    const ACTION_WEIGH_REF: &str = crate::domain::task_action::ACTION_WEIGH;

    #[test]
    fn withdrawing_consent_suppresses_marketing_on_consent() {
        let cat = Catalogue::builtin();
        let plan = propose(&case(&[Right::WithdrawConsent]), &cat, &held(&[]));
        assert!(
            plan.iter()
                .any(|t| t.source == "marketing" && t.action == ACTION_SUPPRESS),
            "{plan:?}"
        );
    }

    #[test]
    fn access_skips_backups_and_consent_withdrawal_reaches_consent_sources() {
        let cat = Catalogue::builtin();
        let plan = propose(&case(&[Right::Access]), &cat, &held(&["chatbot"]));
        assert!(plan.iter().all(|t| t.source != "backups"));
        assert_eq!(plan[0].source, "chatbot");
        assert_eq!(plan[0].action, "collect");
        let plan = propose(&case(&[Right::WithdrawConsent]), &cat, &held(&[]));
        for t in &plan {
            assert!(cat.get(&t.source).unwrap().consent, "{t:?}");
        }
        assert!(plan.iter().any(|t| t.source == "website-analytics"));
    }

    #[test]
    fn tasks_already_on_the_case_are_not_proposed_again() {
        let cat = Catalogue::builtin();
        let mut c = case(&[Right::Erasure]);
        c.tasks.push(Task {
            source: "customers".into(),
            action: "erase".into(),
            status: TaskStatus::Done,
            note: String::new(),
            by: "alice".into(),
            at: Utc.with_ymd_and_hms(2026, 11, 3, 9, 0, 0).unwrap(),
        });
        let plan = propose(&c, &cat, &held(&["customers"]));
        assert!(!plan
            .iter()
            .any(|t| t.source == "customers" && t.action == "erase"));
    }

    fn right() -> impl Strategy<Value = Right> {
        proptest::sample::select(Right::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn plans_name_real_sources_once_and_never_edit_backups(
            rights in proptest::collection::vec(right(), 1..4),
            found in proptest::collection::btree_set(
                proptest::sample::select(Catalogue::builtin().ids().into_iter().map(String::from).collect::<Vec<_>>()), 0..6),
        ) {
            let cat = Catalogue::builtin();
            let mut rights = rights;
            rights.sort();
            rights.dedup();
            let plan = propose(&case(&rights), &cat, &found);
            let mut seen = BTreeSet::new();
            for t in &plan {
                let s = cat.get(&t.source);
                prop_assert!(s.is_some());
                prop_assert!(seen.insert((t.source.clone(), t.action.clone())), "duplicate {:?}", t);
                if s.unwrap().backup {
                    prop_assert_eq!(t.action.as_str(), ACTION_MARK_BACKUP);
                }
                prop_assert_eq!(t.held, found.contains(&t.source));
            }
            // Every source holding the person gets erased (or kept by law) under erasure.
            if rights.contains(&Right::Erasure) {
                for h in &found {
                    prop_assert!(plan.iter().any(|t| &t.source == h));
                }
            }
        }
    }
}
