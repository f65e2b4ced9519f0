//! The inbox of requests: a mailbox read where the officer is (their file,
//! like an export), each message read by the phrase table, and set beside
//! the store: which requests are cases already, which replies are about a
//! case it holds. One function for the shell's `inbox` and the desk's
//! Inbox screen.

use super::ops::Operations;
use super::DeskError;
use crate::domain::request_words::{PhraseTable, Reading};
use crate::domain::{CaseId, Right, Settings};
use crate::inbox::{Locator, Mail, Party, Skipped};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A message that looks like a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub message_id: String,
    /// What makes it this message (`inbox::Mail::digest`).
    pub digest: String,
    /// The organisation's day it was received (none without a readable Date).
    pub received: Option<NaiveDate>,
    pub from: Party,
    /// Who the request is from (Reply-To for a website form's notification).
    pub person: Party,
    pub subject: String,
    pub rights: Vec<Right>,
    /// The words that matched, folded.
    pub why: Vec<String>,
    pub languages: Vec<String>,
    /// The case it was opened as, once it was.
    pub case: Option<String>,
    pub at: Locator,
}

/// A message about a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub message_id: String,
    pub digest: String,
    pub received: Option<NaiveDate>,
    pub from: Party,
    pub subject: String,
    pub at: Locator,
}

/// The replies about one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub case: CaseId,
    /// Whether the store holds the case (a reply may name another desk's).
    pub known: bool,
    pub replies: Vec<Reply>,
}

/// What a mailbox holds for the desk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    pub messages: usize,
    /// Newest first.
    pub requests: Vec<Request>,
    pub threads: Vec<Thread>,
    /// Messages that are neither (business mail, newsletters, auto-replies).
    pub other: usize,
    pub skipped: Vec<Skipped>,
}

impl Inbox {
    /// The requests not yet opened as cases.
    pub fn waiting(&self) -> impl Iterator<Item = &Request> {
        self.requests.iter().filter(|r| r.case.is_none())
    }
}

/// Reads the mailbox at `path` and sets it beside the store.
pub fn read(
    ops: &dyn Operations,
    path: &Path,
    table: &PhraseTable,
    settings: &Settings,
) -> Result<Inbox, DeskError> {
    let mut inbox = Inbox::default();
    let mut replies: Vec<(CaseId, Reply)> = Vec::new();
    let skipped = crate::inbox::read(path, table, settings, &mut |m: Mail| {
        inbox.messages += 1;
        let person = m.person.clone();
        match m.reading {
            Reading::Request {
                rights,
                why,
                languages,
            } => inbox.requests.push(Request {
                message_id: m.message_id,
                digest: m.digest,
                received: m.received,
                from: m.from,
                person,
                subject: m.subject,
                rights,
                why,
                languages,
                case: None,
                at: m.at,
            }),
            Reading::Reply { case } => replies.push((
                case,
                Reply {
                    message_id: m.message_id,
                    digest: m.digest,
                    received: m.received,
                    from: m.from,
                    subject: m.subject,
                    at: m.at,
                },
            )),
            Reading::Other { .. } => inbox.other += 1,
        }
    })
    .map_err(|e| DeskError::SetUp(e.to_string()))?;
    inbox.skipped = skipped;
    let ids: Vec<String> = inbox.requests.iter().map(|r| r.digest.clone()).collect();
    let taken = ops.cases_of_messages(ids)?;
    for r in &mut inbox.requests {
        r.case = taken.get(&r.digest).cloned();
    }
    inbox
        .requests
        .sort_by(|a, b| (b.received, &b.message_id).cmp(&(a.received, &a.message_id)));
    replies.sort_by_key(|(case, r)| (*case, r.received));
    for (case, reply) in replies {
        match inbox.threads.last_mut() {
            Some(t) if t.case == case => t.replies.push(reply),
            _ => inbox.threads.push(Thread {
                case,
                known: ops.load_case(case).is_ok(),
                replies: vec![reply],
            }),
        }
    }
    Ok(inbox)
}
