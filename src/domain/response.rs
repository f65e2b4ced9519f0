//! What the organisation tells the person: the access report (their data per
//! source plus the supplementary information of Art. 15(1)(a)–(h)) and the
//! closing letter. Plain text sections; the PDF writer only lays them out.

use super::case::{Case, Outcome, TaskStatus};
use super::record::SourceRecord;
use super::register::BackupMark;
use super::right::Right;
use super::settings::Settings;
use super::source::{Catalogue, ErasureMethod, RetentionFrom};
use super::text::counted;
use chrono::NaiveDate;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Section {
    pub heading: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub title: String,
    pub sections: Vec<Section>,
}

impl Report {
    /// The report as lines of text. Each line is made inert on its own, so
    /// a line break inside a name or a reason shows as `^J` and never starts
    /// a line of the letter.
    pub fn to_text(&self) -> String {
        use super::text::inert;
        let mut out = format!("{}\n\n", inert(&self.title));
        for s in &self.sections {
            out.push_str(&inert(&s.heading));
            out.push('\n');
            for l in &s.lines {
                out.push_str("  ");
                out.push_str(&inert(l));
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

/// "How we searched": per source, what was done, when and by whom, and what
/// came of it. "Nothing found" is said only of a source whose search was
/// recorded; a source not searched is named as such, with the reason staff
/// gave for sending the package without it.
fn search_section(
    case: &Case,
    found: &BTreeMap<String, Vec<SourceRecord>>,
    catalogue: &Catalogue,
    unsearched_reason: Option<&str>,
    held_any: bool,
) -> Section {
    let reason = unsearched_reason.map(str::trim).filter(|r| !r.is_empty());
    let mut lines = Vec::new();
    let mut searched_nothing_found = 0;
    let mut searched_other = 0;
    let mut not_searched = Vec::new();
    let mut outside_plan = Vec::new();
    for s in &catalogue.sources {
        let tasks: Vec<_> = case
            .tasks
            .iter()
            .filter(|t| t.source == s.id && t.status != TaskStatus::Dropped)
            .collect();
        let records = found.get(&s.id).map_or(0, Vec::len);
        let written = case
            .findings()
            .iter()
            .filter(|(src, _)| *src == s.id)
            .count();
        let n = records + written;
        let held = match (records, written) {
            (0, _) => "what we found is shown above".to_string(),
            (r, 0) => format!("{}, shown above", counted(r, "record", "records")),
            (r, _) => format!(
                "{} and what we found, shown above",
                counted(r, "record", "records")
            ),
        };
        let line = if tasks.is_empty() {
            if n > 0 {
                format!(
                    "{}: not searched by hand; the desk's copy of its data holds {held}",
                    s.name
                )
            } else if case.tasks.is_empty() {
                not_searched.push(s.name.clone());
                continue;
            } else {
                // The plan left it out (a backup, say): said as such.
                outside_plan.push(s.name.clone());
                continue;
            }
        } else if let Some(t) = tasks.iter().find(|t| t.status == TaskStatus::Exempt) {
            format!(
                "{}: not searched, exempt ({}); recorded {} by {}",
                s.name,
                t.note,
                t.at.format("%-d %B %Y"),
                t.by
            )
        } else if tasks
            .iter()
            .any(|t| t.status == TaskStatus::Pending && searches(&t.action))
        {
            not_searched.push(s.name.clone());
            continue;
        } else {
            let last = tasks.iter().max_by_key(|t| t.at).expect("not empty");
            let nothing = tasks.iter().all(|t| t.status == TaskStatus::NotFound);
            // "Nothing found" only where staff recorded that; a search done
            // whose results are not in the desk's copy claims nothing.
            let outcome = match (n, nothing) {
                (0, true) => {
                    searched_nothing_found += 1;
                    ": nothing found".to_string()
                }
                (0, false) => String::new(),
                _ => format!(": {held}"),
            };
            searched_other += usize::from(!(n == 0 && nothing));
            format!(
                "{}: searched {} by {}{outcome}",
                s.name,
                last.at.format("%-d %B %Y"),
                last.by
            )
        };
        lines.push(line);
    }
    if !outside_plan.is_empty() {
        lines.push(format!(
            "Not searched for this request: {}.",
            outside_plan.join(", ")
        ));
    }
    if !not_searched.is_empty() {
        lines.push(format!(
            "Not searched before this package was sent: {}.{}",
            not_searched.join(", "),
            match reason {
                Some(r) => format!(" The reason: {r}"),
                None => String::new(),
            }
        ));
    }
    if !held_any
        && not_searched.is_empty()
        && outside_plan.is_empty()
        && searched_other == 0
        && searched_nothing_found > 0
    {
        lines.insert(
            0,
            "We searched each system below and found no personal data about you.".into(),
        );
    }
    Section {
        heading: "How we searched".into(),
        lines,
    }
}

/// How long a source keeps data, in words.
pub fn retention_words(catalogue: &Catalogue, id: &str) -> String {
    let Some(s) = catalogue.get(id) else {
        return String::new();
    };
    let months = s.retention.months.map(|m| {
        if m % 12 == 0 {
            format!("{} year{}", m / 12, if m == 12 { "" } else { "s" })
        } else {
            format!("{m} months")
        }
    });
    let m = months.clone().unwrap_or_default();
    match s.retention.from {
        RetentionFrom::Collection => format!("{m} from collection"),
        RetentionFrom::LastContact => format!("{m} after our last contact with you"),
        RetentionFrom::LastServiceDelivery => format!("{m} after we last delivered a service"),
        RetentionFrom::LastEvent => format!("{m} after the last event you registered for"),
        RetentionFrom::FollowsSource => "as long as the data it comes from".into(),
        RetentionFrom::Overwrite => match months {
            Some(m) => format!("until the backup set is overwritten (within {m})"),
            None => "until the backup set is overwritten".into(),
        },
        RetentionFrom::ThirdPartyPolicy => "under the third party's own policy".into(),
    }
}

/// Sources whose search is still to do: the case's pending tasks. A case
/// with no task at all has searched nothing (`None`): the whole catalogue
/// is unsearched.
pub fn unsearched(case: &Case) -> Option<Vec<String>> {
    if case.tasks.is_empty() {
        return None;
    }
    let mut v: Vec<String> = case
        .pending_tasks()
        .filter(|t| searches(&t.action))
        .map(|t| t.source.clone())
        .collect();
    v.dedup();
    Some(v)
}

/// Whether a task is a search of its source: the portability copy is not
/// (the export writes it itself from what the searches found).
fn searches(action: &str) -> bool {
    action != Right::Portability.default_action()
}

/// Whether an access package may go out now: every source searched, or a
/// reason staff give for the ones that are not (the package states it).
pub fn may_send_package(case: &Case, unsearched_reason: Option<&str>) -> Result<(), String> {
    let reason = unsearched_reason.map(str::trim).filter(|r| !r.is_empty());
    match (unsearched(case), reason) {
        (_, Some(_)) => Ok(()),
        (None, None) => Err("no source has been searched yet (the case has no plan): accept a plan and record each source's search (`case task ID SOURCE --status done|not-found`), or give the reason the package goes out without (`--unsearched-reason`), which it then states".into()),
        (Some(v), None) if v.is_empty() => Ok(()),
        (Some(v), None) => Err(format!(
            "{} not yet searched ({}): record each search first, or give the reason the package goes out without them (`--unsearched-reason`), which it then states",
            counted(v.len(), "source", "sources"),
            v.join(", ")
        )),
    }
}

/// The access report: data found per source, how each source was searched
/// (when, by whom, what came of it), and the supplementary information, in
/// plain language. Staff's working notes are internal: none is copied here.
pub fn access_report(
    case: &Case,
    found: &BTreeMap<String, Vec<SourceRecord>>,
    catalogue: &Catalogue,
    settings: &Settings,
    today: NaiveDate,
    unsearched_reason: Option<&str>,
) -> Report {
    let org = &settings.organisation;
    let mut sections = vec![Section {
        heading: "About this response".into(),
        lines: vec![
            match case.requester.on_behalf() {
                None => format!("To: {}", case.subject.name),
                Some((who, relation)) => format!(
                    "To: {who}, {} of {}, whose data this is",
                    settings.letters.text(relation_key(relation)),
                    case.subject.name
                ),
            },
            format!(
                "{} {} of {} ({}).",
                if case.requester.on_behalf().is_some() {
                    "The request"
                } else {
                    "Your request"
                },
                case.id,
                case.received.format("%-d %B %Y"),
                case.rights
                    .iter()
                    .map(|r| format!("{} {}", r.as_str(), r.article()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "Prepared by {org} on {}. It lists the personal data we hold about you in each of our systems, and then why we hold it, who receives it, how long we keep it, where it came from and your rights.",
                today.format("%-d %B %Y")
            ),
        ],
    }];
    let findings = case.findings();
    for s in &catalogue.sources {
        let written: Vec<&str> = findings
            .iter()
            .filter(|(src, _)| *src == s.id)
            .map(|(_, t)| *t)
            .collect();
        let records = found.get(&s.id).map(Vec::as_slice).unwrap_or_default();
        if records.is_empty() && written.is_empty() {
            continue;
        }
        let mut lines = Vec::new();
        for t in written {
            lines.push(format!("What we found: {t}"));
        }
        for r in records {
            lines.push(format!("Record {} ({})", r.key, r.format));
            for (k, v) in &r.raw {
                if !v.trim().is_empty() {
                    lines.push(format!("    {k}: {v}"));
                }
            }
        }
        sections.push(Section {
            heading: format!("Your data in: {} ({})", s.name, s.systems.join(", ")),
            lines,
        });
    }
    let held_any = !found.is_empty() || !findings.is_empty();
    sections.push(search_section(
        case,
        found,
        catalogue,
        unsearched_reason,
        held_any,
    ));
    let held: Vec<&super::source::Source> = catalogue
        .sources
        .iter()
        .filter(|s| found.contains_key(&s.id) || findings.iter().any(|(src, _)| *src == s.id))
        .collect();
    let shown: Vec<&super::source::Source> = if held.is_empty() {
        catalogue.sources.iter().collect()
    } else {
        held
    };
    let mut purposes = Vec::new();
    let mut categories = Vec::new();
    let mut retention = Vec::new();
    for s in &shown {
        purposes.push(format!("{}: {}", s.name, s.purposes.join("; ")));
        categories.push(format!("{}: {}", s.name, s.categories.join(", ")));
        retention.push(format!("{}: {}", s.name, retention_words(catalogue, &s.id)));
    }
    let recipients: Vec<String> = catalogue
        .sources
        .iter()
        .filter(|s| s.recipient || s.erasure == ErasureMethod::ThirdParty)
        .map(|s| format!("{} ({})", s.name, s.systems.join(", ")))
        .collect();
    let origins: Vec<String> = found
        .iter()
        .map(|(src, rs)| {
            let formats: std::collections::BTreeSet<&str> =
                rs.iter().map(|r| r.format.as_str()).collect();
            let name = catalogue.get(src).map(|s| s.name.as_str()).unwrap_or(src);
            format!(
                "{name}: collected from you or your use of our services (records from {})",
                formats.into_iter().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    sections.extend([
        Section {
            heading: "Why we use your data (purposes)".into(),
            lines: purposes,
        },
        Section {
            heading: "What kinds of data (categories)".into(),
            lines: categories,
        },
        Section {
            heading: "Who receives it (recipients)".into(),
            lines: recipients,
        },
        Section {
            heading: "How long we keep it".into(),
            lines: retention,
        },
        Section {
            heading: "Where it came from".into(),
            lines: if origins.is_empty() {
                vec!["We hold no data about you, so it came from nowhere.".into()]
            } else {
                origins
            },
        },
        Section {
            heading: "Automated decisions".into(),
            lines: vec![if catalogue.policy.automated_decisions.trim().is_empty() {
                format!("Our privacy policy does not say whether we make automated decisions about you; ask our Data Protection Officer ({}).", contact(settings))
            } else {
                catalogue.policy.automated_decisions.clone()
            }],
        },
        Section {
            heading: "Transfers outside the EEA".into(),
            lines: {
                let p = &catalogue.policy;
                let mut v = Vec::new();
                if p.transfers.trim().is_empty() {
                    v.push(format!("Our privacy policy does not say whether your data leaves the EEA; ask our Data Protection Officer ({}).", contact(settings)));
                } else {
                    v.push(p.transfers.clone());
                    v.push(if p.transfer_safeguards.trim().is_empty() {
                        format!("Our privacy policy does not name the safeguards for these transfers (GDPR Art. 46); you may ask our Data Protection Officer for them ({}).", contact(settings))
                    } else {
                        format!("Safeguards: {}", p.transfer_safeguards)
                    });
                }
                v
            },
        },
        Section {
            heading: "Your rights".into(),
            lines: vec![
                "You may ask us to correct your data (Art. 16), erase it (Art. 17), restrict its use (Art. 18), give it to you in a machine-readable form (Art. 20), object to its use, including for direct marketing at any time (Art. 21), and withdraw consent you gave (Art. 7(3)).".into(),
                format!("You may complain to the supervisory authority ({}).", authority(settings)),
                format!("Contact {org}'s Data Protection Officer: {}.", contact(settings)),
            ],
        },
    ]);
    Report {
        title: format!("{org}: your personal data (request {})", case.id),
        sections,
    }
}

/// Who a letter greets, and how it names the request: the subject's own
/// ("your request"), or the one a parent or agent made for them.
pub(super) fn addressee(case: &Case, t: &super::letter_text::LetterTexts) -> (String, String) {
    match case.requester.on_behalf() {
        None => (case.subject.name.clone(), t.text("opening.whose_own")),
        Some((who, relation)) => (
            who.to_string(),
            t.fill(
                "opening.whose_for_another",
                &[
                    ("relation", &t.text(relation_key(relation))),
                    ("subject", case.subject.name.as_str()),
                ],
            ),
        ),
    }
}

fn relation_key(r: super::case::Relation) -> &'static str {
    match r {
        super::case::Relation::Parent => "opening.relation_parent",
        _ => "opening.relation_agent",
    }
}

/// The supervisory authority the subject may complain to: the settings'
/// own, else the one of the calendar's jurisdiction.
pub(super) fn authority(settings: &Settings) -> &str {
    if !settings.supervisory_authority.trim().is_empty() {
        return settings.supervisory_authority.trim();
    }
    match settings.calendar.as_str() {
        "england-and-wales" => "the Information Commissioner's Office, ico.org.uk",
        "ireland" => "the Data Protection Commission, dataprotection.ie",
        // An organisation's own calendar names no authority: never a
        // wrong one (Art. 77: where the person lives or works will do).
        _ => "the data protection authority of the country where you live or work",
    }
}

/// How the subject reaches the organisation's Data Protection Officer.
pub(super) fn contact(settings: &Settings) -> &str {
    settings.dpo_contact.trim()
}

/// The closing letter: what was done, per source, and for erasure when the
/// backups that may still hold the person expire.
pub fn closing_letter(
    case: &Case,
    catalogue: &Catalogue,
    marks: &[BackupMark],
    settings: &Settings,
    extended_reason: Option<&str>,
) -> Report {
    let t = &settings.letters;
    let org = settings.organisation.as_str();
    let id = &case.id.to_string();
    let long = |d: NaiveDate| d.format("%-d %B %Y").to_string();
    let mut sections = Vec::new();
    let closure = case.closure.as_ref();
    let (dear, whose) = addressee(case, t);
    let mut intro = vec![t.fill(
        "response.text",
        &[
            ("dear", &dear),
            ("whose", &whose),
            ("case", id),
            ("received", &long(case.received)),
        ],
    )];
    if let Some(r) = extended_reason {
        intro.push(t.fill("response.extended", &[("reason", r)]));
    }
    sections.push(Section {
        heading: t.text("response.heading"),
        lines: intro,
    });
    match closure.map(|c| c.outcome) {
        Some(Outcome::RefusedUnfounded | Outcome::RefusedExcessive) => {
            let c = closure.expect("matched");
            let kind = t.text(if c.outcome == Outcome::RefusedUnfounded {
                "response.kind_unfounded"
            } else {
                "response.kind_excessive"
            });
            sections.push(Section {
                heading: t.text("response.decision_heading"),
                lines: vec![t.fill(
                    "response.refused",
                    &[
                        ("kind", &kind),
                        ("reason", super::notice::clause(&c.reason)),
                    ],
                )]
                .into_iter()
                .chain(
                    c.fee
                        .as_ref()
                        .map(|f| t.fill("response.refused_fee", &[("fee", f)])),
                )
                .collect(),
            });
        }
        Some(Outcome::RefusedIdentity) => {
            // Said as it happened: asked when, and whether proof never came
            // or did not match (cases closed before this was recorded: neither).
            let what = match case.identity_refusal_facts() {
                Some((asked, true)) => t.fill(
                    "response.identity_not_confirmed",
                    &[("asked", &long(asked))],
                ),
                Some((asked, false)) => t.fill(
                    "response.identity_not_received",
                    &[
                        ("asked", &long(asked)),
                        ("days", &super::notice::ID_REPLY_DAYS.to_string()),
                    ],
                ),
                None => t.text("response.identity_unverified"),
            };
            sections.push(Section {
                heading: t.text("response.decision_heading"),
                lines: vec![what, t.text("response.identity_refused")],
            })
        }
        outcome => {
            let rights = case
                .rights
                .iter()
                .map(|r| format!("{} under {}", r.words(), r.article()))
                .collect::<Vec<_>>()
                .join(", ");
            let rights = rights.as_str();
            // The decision first, in words: every letter states it.
            let decision = match outcome {
                Some(Outcome::Fulfilled) => t.fill("response.fulfilled", &[("rights", rights)]),
                Some(Outcome::PartlyFulfilled) => t.fill(
                    "response.partly_fulfilled",
                    &[
                        ("rights", rights),
                        (
                            "reason",
                            super::notice::clause(
                                closure.map(|c| c.reason.as_str()).unwrap_or_default(),
                            ),
                        ),
                    ],
                ),
                Some(Outcome::RefusedCompellingGrounds) => t.text("response.compelling_grounds"),
                Some(Outcome::Withdrawn) => t.fill(
                    "response.withdrawn",
                    &[(
                        "stopped",
                        &long(closure.map_or(case.received, |c| c.closed_at.date_naive())),
                    )],
                ),
                _ if case.state == super::case::State::ReadyToRespond => {
                    t.fill("response.finished", &[("rights", rights)])
                }
                _ => t.fill("response.not_finished", &[("rights", rights)]),
            };
            sections.push(Section {
                heading: t.text("response.decision_heading"),
                lines: vec![decision],
            });
            let withdrawn = outcome == Some(Outcome::Withdrawn);
            let mut lines = Vec::new();
            for task in &case.tasks {
                if task.status == TaskStatus::Dropped {
                    continue;
                }
                let name = catalogue
                    .get(&task.source)
                    .map(|s| s.name.as_str())
                    .unwrap_or(&task.source);
                let weighing = task.action == super::task_action::ACTION_WEIGH;
                let key = match task.status {
                    // Art. 21(1): the weighing's result, in words.
                    TaskStatus::Done if weighing => "response.task_stopped",
                    TaskStatus::Exempt if weighing => "response.task_grounds",
                    TaskStatus::Done => "response.task_done",
                    TaskStatus::NotFound => "response.task_not_found",
                    TaskStatus::Exempt => "response.task_kept",
                    // Work a withdrawal stopped is not "in progress".
                    TaskStatus::Pending if withdrawn => "response.task_withdrawn",
                    // A closed case has nothing "in progress".
                    TaskStatus::Pending if closure.is_some() => "response.task_not_done",
                    TaskStatus::Pending => "response.task_in_progress",
                    TaskStatus::Dropped => unreachable!(),
                };
                lines.push(t.fill(
                    key,
                    &[
                        ("source", name),
                        ("action", task.action.as_str()),
                        ("note", task.note.as_str()),
                    ],
                ));
            }
            if lines.is_empty() {
                lines.push(t.text("response.no_work"));
            }
            if let Some(f) = closure.and_then(|c| c.fee.as_ref()) {
                lines.push(t.fill("response.fee_charged", &[("fee", f)]));
            }
            sections.push(Section {
                heading: t.text("response.done_heading"),
                lines,
            });
        }
    }
    // Art. 16 and 18(3): what was corrected, and a restriction's end.
    let mut told = Vec::new();
    for (_, field, old, new, _) in case.rectifications() {
        told.push(if old.trim().is_empty() {
            t.fill("response.corrected_new", &[("field", field), ("new", new)])
        } else {
            t.fill(
                "response.corrected",
                &[("field", field), ("old", old), ("new", new)],
            )
        });
    }
    if let Some((e, told_on, _, reason)) = case.lift() {
        told.push(t.fill(
            "response.lifted",
            &[
                ("lifted", &long(e.on)),
                ("told", &long(told_on)),
                ("reason", super::notice::clause(reason)),
            ],
        ));
    }
    // Art. 19, second sentence: the person may learn which recipients were told.
    let recipients: Vec<&str> = case
        .tasks
        .iter()
        .filter(|t| t.action.starts_with("notify recipient") && t.status == TaskStatus::Done)
        .map(|t| {
            catalogue
                .get(&t.source)
                .map_or(t.source.as_str(), |s| s.name.as_str())
        })
        .collect();
    if !told.is_empty() {
        sections.push(Section {
            heading: t.text("response.corrected_heading"),
            lines: told,
        });
    }
    if !recipients.is_empty() {
        sections.push(Section {
            heading: t.text("response.recipients_heading"),
            lines: vec![t.fill(
                "response.recipients",
                &[("recipients", &recipients.join(", "))],
            )],
        });
    }
    // Backups are re-erased only for an erasure granted (a withdrawn or
    // refused one leaves its marks dead).
    let erased = closure.is_some_and(|c| c.outcome.is_granted());
    if case.rights.contains(&Right::Erasure) && erased {
        let mine: Vec<&BackupMark> = marks.iter().filter(|m| m.case == case.id).collect();
        if !mine.is_empty() {
            let latest = mine.iter().filter_map(|m| m.expires).max();
            let expire = match latest {
                Some(d) => t.fill("response.expire_by", &[("date", &long(d))]),
                None => t.text("response.expire_overwritten"),
            };
            sections.push(Section {
                heading: t.text("response.backups_heading"),
                lines: vec![t.fill(
                    "response.backups",
                    &[("sets", &mine.len().to_string()), ("expire", &expire)],
                )],
            });
        }
    }
    sections.push(super::notice::your_rights(settings));
    Report {
        title: t.fill("response.title", &[("org", org), ("case", id)]),
        sections,
    }
}
