//! The demo store: `data/demo/cases.toml` replayed through the same services
//! staff use, with days relative to today so the queue always looks alive.

use super::{Desk, DeskError, Now};
use crate::domain::{Channel, NewCase, Relation, Requester, Right, Step, Subject};
use chrono::{Days, Local, NaiveDate, TimeZone, Utc};
use serde::Deserialize;

pub const DEMO_CASES: &str = include_str!("../../data/demo/cases.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    case: Vec<DemoCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoCase {
    name: String,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    phones: Vec<String>,
    rights: Vec<Right>,
    channel: Channel,
    received_days_ago: u64,
    #[serde(default)]
    requester: Option<Relation>,
    #[serde(default)]
    requester_name: Option<String>,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    authority_kind: Option<crate::domain::case::AuthorityKind>,
    #[serde(default)]
    child: bool,
    #[serde(default)]
    step: Vec<DemoStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoStep {
    days_ago: u64,
    #[serde(rename = "do")]
    action: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("data/demo/cases.toml: {0}")]
    Parse(String),
    #[error("data/demo/cases.toml case #{case} ({name}): {why}")]
    Case {
        case: usize,
        name: String,
        why: String,
    },
}

fn at(day: NaiveDate, minute: u32) -> chrono::DateTime<Utc> {
    let naive = day.and_hms_opt(9, 0, 0).expect("valid time")
        + chrono::Duration::minutes(i64::from(minute));
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// Fills an empty desk with the demo cases as of `today`; returns how many.
pub fn seed(desk: &mut Desk, today: NaiveDate) -> Result<usize, DemoError> {
    let file: DemoFile = toml::from_str(DEMO_CASES).map_err(|e| DemoError::Parse(e.to_string()))?;
    let before = desk.now;
    for (i, c) in file.case.iter().enumerate() {
        let fail = |why: String| DemoError::Case {
            case: i + 1,
            name: c.name.clone(),
            why,
        };
        let received = today - Days::new(c.received_days_ago);
        desk.set_now(Now::Fixed(at(received, 0)));
        let case = desk
            .open_case(NewCase {
                rights: c.rights.clone(),
                channel: c.channel,
                received,
                requester: Requester {
                    relation: c.requester.unwrap_or(Relation::Subject),
                    name: c.requester_name.clone(),
                    authority: c.authority.clone(),
                    authority_kind: c.authority_kind,
                },
                child: c.child,
                subject: Subject {
                    name: c.name.clone(),
                    emails: c.emails.clone(),
                    phones: c.phones.clone(),
                },
                records: vec![],
                message: None,
            })
            .map_err(|e| fail(e.to_string()))?;
        for (j, s) in c.step.iter().enumerate() {
            let day = today - Days::new(s.days_ago);
            desk.set_now(Now::Fixed(at(day, 10 + j as u32)));
            let parse = |what: &str, v: &Option<String>| {
                v.clone()
                    .ok_or_else(|| fail(format!("step {} needs {what}", j + 1)))
            };
            let step = match s.action.as_str() {
                "request-id" => Step::RequestId {
                    note: s.note.clone(),
                },
                "verify" => Step::Verify {
                    method: parse("method", &s.method)?.parse().map_err(fail)?,
                    outcome: crate::domain::VerificationOutcome::Verified,
                    note: s.note.clone(),
                },
                "pause" => Step::Pause {
                    reason: s.reason.clone(),
                },
                "resume" => Step::Resume,
                "extend" => Step::Extend {
                    reason: s.reason.clone(),
                },
                "task" => Step::RecordTask {
                    source: s.source.clone(),
                    action: None,
                    status: parse("status", &s.status)?.parse().map_err(fail)?,
                    note: s.note.clone(),
                },
                "ready" => Step::MarkReady,
                "close" => {
                    let mut c = crate::domain::closure::Closing::new(
                        parse("outcome", &s.outcome)?.parse().map_err(fail)?,
                        s.reason.clone(),
                    );
                    // Demo cases close with their gaps explained.
                    let now = desk.case(case.id).map_err(|e| fail(e.to_string()))?;
                    c.gap_reasons = crate::domain::closure::open_gaps(&now.case)
                        .into_iter()
                        .map(|g| (g.key, "demo case: handled before the desk was used".into()))
                        .collect();
                    Step::Close(c)
                }
                other => return Err(fail(format!("unknown step '{other}'"))),
            };
            // Staff send the notice a step calls for the same day, by the
            // channel the request came by (the demo shows good practice).
            let notice = match step {
                Step::RequestId { .. } => Some(crate::domain::notice::Letter::IdRequest),
                Step::Pause { .. } => Some(crate::domain::notice::Letter::Clarification),
                Step::Extend { .. } => Some(crate::domain::notice::Letter::Extension),
                _ => None,
            };
            desk.step(case.id, step, Some(day))
                .map_err(|e: DeskError| fail(e.to_string()))?;
            if let Some(letter) = notice {
                let via = c.channel;
                desk.step(case.id, Step::NoticeSent { letter, via }, Some(day))
                    .map_err(|e: DeskError| fail(e.to_string()))?;
            }
        }
    }
    desk.set_now(before);
    Ok(file.case.len())
}
