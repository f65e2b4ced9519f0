//! A case: one request from one person about one or more rights.

use super::clock::{Clock, ClockEvent};
use super::ids::CaseId;
use super::right::Right;
use super::HolidayCalendar;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::named::named_enum;

named_enum!(
    /// How the request reached the organisation.
    Channel {
        Email => "email",
        WebForm => "web-form",
        Chatbot => "chatbot",
        Phone => "phone",
        Post => "post",
        InPerson => "in-person",
    }
);

named_enum!(
    /// Who made the request, relative to the data subject.
    Relation {
        Subject => "subject",
        Parent => "parent",
        AuthorisedAgent => "authorised-agent",
    }
);

named_enum!(
    /// Where a case stands. Identity is always verified before `InProgress`.
    State {
        Received => "received",
        AwaitingIdentity => "awaiting-identity",
        InProgress => "in-progress",
        AwaitingClarification => "awaiting-clarification",
        ReadyToRespond => "ready-to-respond",
        Closed => "closed",
    }
);

named_enum!(
    /// How identity was checked. The document itself is never stored.
    VerificationMethod {
        KnownDetails => "known-details",
        ReplyFromAddress => "reply-from-address",
        CallBack => "call-back",
        DocumentSeen => "document-seen",
    }
);

named_enum!(
    VerificationOutcome {
        Verified => "verified",
        Failed => "failed",
    }
);

named_enum!(
    /// The state of one piece of work in one source.
    TaskStatus {
        Pending => "pending",
        Done => "done",
        NotFound => "not-found",
        Exempt => "exempt",
        Dropped => "dropped",
    }
);

named_enum!(
    /// How a closed case ended.
    Outcome {
        Fulfilled => "fulfilled",
        PartlyFulfilled => "partly-fulfilled",
        RefusedUnfounded => "refused-unfounded",
        RefusedExcessive => "refused-excessive",
        RefusedIdentity => "refused-identity",
        // Art. 21(1): the objection weighed and refused, the processing
        // going on for compelling legitimate grounds (stated per source).
        RefusedCompellingGrounds => "refused-compelling-grounds",
        Withdrawn => "withdrawn",
    }
);

impl Outcome {
    /// The request was granted, in full or in part (the rights' work is done).
    pub fn is_granted(self) -> bool {
        matches!(self, Outcome::Fulfilled | Outcome::PartlyFulfilled)
    }
}

impl State {
    pub fn is_open(self) -> bool {
        self != State::Closed
    }
}

named_enum!(
    /// The kind of authority a parent or agent showed to act for the subject.
    AuthorityKind {
        SignedAuthorisation => "signed-authorisation",
        PowerOfAttorney => "power-of-attorney",
        ParentalResponsibility => "parental-responsibility",
        CourtOrder => "court-order",
    }
);

impl AuthorityKind {
    /// The kinds that make someone a parent or an agent for the subject.
    pub fn fits(self, relation: Relation) -> bool {
        match relation {
            Relation::Subject => false,
            Relation::Parent => matches!(
                self,
                AuthorityKind::ParentalResponsibility | AuthorityKind::CourtOrder
            ),
            Relation::AuthorisedAgent => matches!(
                self,
                AuthorityKind::SignedAuthorisation
                    | AuthorityKind::PowerOfAttorney
                    | AuthorityKind::CourtOrder
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub relation: Relation,
    /// The requester's name when it is not the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The authority seen for a parent or agent (e.g. "signed letter of authority").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// Its kind (cases opened before it was asked: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority_kind: Option<AuthorityKind>,
}

impl Requester {
    /// The subject asking for themselves.
    pub fn subject() -> Requester {
        Requester {
            relation: Relation::Subject,
            name: None,
            authority: None,
            authority_kind: None,
        }
    }

    /// Who the letters go to, when not the subject: (their name, relation).
    pub fn on_behalf(&self) -> Option<(&str, Relation)> {
        match (self.relation, self.name.as_deref()) {
            (Relation::Subject, _) | (_, None) => None,
            (r, Some(n)) => Some((n, r)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub method: VerificationMethod,
    pub outcome: VerificationOutcome,
    pub by: String,
    pub at: DateTime<Utc>,
    /// The day the ID arrived or the check was made.
    pub on: NaiveDate,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub source: String,
    pub action: String,
    pub status: TaskStatus,
    #[serde(default)]
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub text: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub outcome: Outcome,
    pub reason: String,
    pub closed_at: DateTime<Utc>,
    pub closed_by: String,
    /// A fee charged under Art. 12(5), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
    /// The day the response went out (cases closed before this was asked: None).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded_on: Option<NaiveDate>,
    /// How the response went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Channel>,
    /// Work still open at closure, each with the reason staff gave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<super::closure::GapReason>,
}

impl Closure {
    /// The day the response went out (the day of closing when not recorded).
    pub fn responded(&self) -> NaiveDate {
        self.responded_on.unwrap_or(self.closed_at.date_naive())
    }
}

/// One step taken on a case, as recorded in its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    Opened,
    IdRequested {
        note: String,
    },
    Verified {
        method: VerificationMethod,
        outcome: VerificationOutcome,
        note: String,
    },
    Paused {
        reason: String,
    },
    Resumed,
    Extended {
        reason: String,
    },
    TaskRecorded {
        source: String,
        action: String,
        status: TaskStatus,
        note: String,
    },
    Ready,
    Noted {
        text: String,
    },
    Closed {
        outcome: Outcome,
        reason: String,
    },
    /// Tasks proposed from the catalogue and accepted by staff.
    Planned {
        tasks: Vec<PlannedRef>,
    },
    /// Art. 16: what was wrong, what it is now, and why.
    Rectified {
        field: String,
        old: String,
        new: String,
        reason: String,
    },
    /// What staff found in a source, written for the subject.
    Finding {
        source: String,
        text: String,
    },
    /// Art. 18(3): a restriction lifted, after the subject was told.
    RestrictionLifted {
        told_on: NaiveDate,
        how: String,
        #[serde(default)]
        reason: String,
    },
    /// The access package (and for portability its machine-readable zip)
    /// was written for the subject: counts only, and the sources it went
    /// without (their reason stays in the package).
    PackageSent {
        sources: usize,
        records: usize,
        portability: bool,
        unsearched: Vec<String>,
    },
    /// Art. 12(5)(a): a reasonable fee asked for before acting on a
    /// manifestly unfounded or excessive request; the clock waits.
    FeeRequested {
        amount: String,
        reason: String,
    },
    /// The fee arrived: the period starts again.
    FeePaid,
    /// A notice on the way (ID request, clarification, extension) went out.
    NoticeSent {
        letter: super::notice::Letter,
        via: Channel,
    },
    /// Identities found to be the same person's added to the case: how many
    /// e-mails and phones, the sources of the records (the identifiers
    /// themselves are on the subject, where pseudonymisation reaches them),
    /// and why staff hold them the same person's.
    IdentityLinked {
        emails: usize,
        phones: usize,
        sources: Vec<String>,
        note: String,
    },
    /// The subject's identifiers in the case replaced by keyed hashes after erasure.
    Pseudonymised,
    /// Reduced to its stub once past the desk's own retention.
    Purged,
}

/// A planned task as the history records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRef {
    pub source: String,
    pub action: String,
}

impl Action {
    /// What a step did, in a few words beside its kind in a timeline
    /// (none for steps whose kind says it all).
    pub fn gist(&self) -> Option<String> {
        match self {
            Action::IdentityLinked {
                emails,
                phones,
                sources,
                note,
            } => {
                let mut parts = Vec::new();
                if *emails > 0 {
                    parts.push(format!("{emails} e-mail(s)"));
                }
                if *phones > 0 {
                    parts.push(format!("{phones} phone(s)"));
                }
                if !sources.is_empty() {
                    parts.push(format!("record(s) from {}", sources.join(", ")));
                }
                Some(format!("{}: {note}", parts.join(", ")))
            }
            _ => None,
        }
    }

    /// A short kebab-case name for audit logs and timelines.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Opened => "opened",
            Action::IdRequested { .. } => "id-requested",
            Action::Verified {
                outcome: VerificationOutcome::Failed,
                ..
            } => "verification-failed",
            Action::Verified { .. } => "verified",
            Action::Paused { .. } => "paused",
            Action::Resumed => "resumed",
            Action::Extended { .. } => "extended",
            Action::TaskRecorded { .. } => "task-recorded",
            Action::Ready => "ready",
            Action::Noted { .. } => "noted",
            Action::Finding { .. } => "finding",
            Action::Closed { .. } => "closed",
            Action::Planned { .. } => "planned",
            Action::Rectified { .. } => "rectified",
            Action::RestrictionLifted { .. } => "restriction-lifted",
            Action::NoticeSent { .. } => "notice-sent",
            Action::FeeRequested { .. } => "fee-requested",
            Action::FeePaid => "fee-paid",
            Action::PackageSent { .. } => "access-exported",
            Action::IdentityLinked { .. } => "identity-linked",
            Action::Pseudonymised => "pseudonymised",
            Action::Purged => "purged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The day it counts from for the clock (may be earlier than `at`, e.g. ID that
    /// arrived by post yesterday).
    pub on: NaiveDate,
    pub actor: String,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub rights: Vec<Right>,
    pub channel: Channel,
    pub requester: Requester,
    pub child: bool,
    pub subject: Subject,
    pub received: NaiveDate,
    pub state: State,
    pub verifications: Vec<Verification>,
    pub tasks: Vec<Task>,
    pub notes: Vec<Note>,
    pub closure: Option<Closure>,
    pub history: Vec<CaseEvent>,
    /// Source records (`source:key`) staff attached from the lookup at intake.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<String>,
    /// Set when a plan was accepted by a catalogue that lists no backup set:
    /// an erasure then has no backups to mark (no gap for them).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_backup_sets: bool,
    /// The e-mail the request came in, when it was opened from the inbox:
    /// the store refuses a second case of the same message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageRef>,
    /// Bumped on every change; lets a later shared service detect conflicting edits.
    pub version: u64,
}

/// The e-mail a case was opened from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRef {
    /// Its Message-ID (what `rightsdesk inbox` lists).
    pub id: String,
    /// A digest of its id, sender, date and subject: what makes it this
    /// message, so a second message reusing the id (forged, or a client's
    /// bug) is not taken for it.
    pub digest: String,
}

impl Case {
    /// The clock events in this case's history.
    pub fn clock_events(&self) -> Vec<ClockEvent> {
        let mut out = vec![ClockEvent::Received(self.received)];
        let mut awaiting_id = false;
        for ev in &self.history {
            match &ev.action {
                Action::IdRequested { .. } => {
                    awaiting_id = true;
                    out.push(ClockEvent::IdRequested(ev.on));
                }
                Action::Verified {
                    outcome: VerificationOutcome::Verified,
                    ..
                } if awaiting_id => {
                    awaiting_id = false;
                    out.push(ClockEvent::IdArrived(ev.on));
                }
                Action::Paused { .. } => out.push(ClockEvent::Paused(ev.on)),
                Action::Resumed => out.push(ClockEvent::Resumed(ev.on)),
                Action::Extended { .. } => out.push(ClockEvent::Extended(ev.on)),
                Action::FeeRequested { .. } => out.push(ClockEvent::FeeRequested(ev.on)),
                Action::FeePaid => out.push(ClockEvent::FeePaid(ev.on)),
                _ => {}
            }
        }
        out
    }

    /// The legal clock as of `today`. A closed case's clock stops at closure.
    pub fn clock(&self, cal: &HolidayCalendar, today: NaiveDate) -> Clock {
        let as_of = self
            .closure
            .as_ref()
            .map(|c| c.closed_at.date_naive())
            .unwrap_or(today);
        Clock::compute(&self.clock_events(), cal, as_of)
    }

    /// The latest verification, if identity was verified.
    pub fn verified(&self) -> Option<&Verification> {
        self.verifications
            .iter()
            .rev()
            .find(|v| v.outcome == VerificationOutcome::Verified)
    }

    pub fn pending_tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Pending)
    }

    /// Access and portability are answered with a package of the person's data.
    pub fn wants_package(&self) -> bool {
        self.rights
            .iter()
            .any(|r| matches!(r, Right::Access | Right::Portability))
    }

    /// The day the access package last went out, if it did.
    pub fn package_sent(&self) -> Option<NaiveDate> {
        self.history.iter().rev().find_map(|e| match e.action {
            Action::PackageSent { .. } => Some(e.on),
            _ => None,
        })
    }

    /// The restriction's lift, if it was lifted: (the event, told on, how, why).
    pub fn lift(&self) -> Option<(&CaseEvent, NaiveDate, &str, &str)> {
        self.history.iter().rev().find_map(|e| match &e.action {
            Action::RestrictionLifted {
                told_on,
                how,
                reason,
            } => Some((e, *told_on, how.as_str(), reason.as_str())),
            _ => None,
        })
    }

    /// What staff wrote for the subject per source: (source, text).
    pub fn findings(&self) -> Vec<(&str, &str)> {
        self.history
            .iter()
            .filter_map(|e| match &e.action {
                Action::Finding { source, text } => Some((source.as_str(), text.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Every rectification: (the event, field, old value, new value, why).
    pub fn rectifications(&self) -> Vec<(&CaseEvent, &str, &str, &str, &str)> {
        self.history
            .iter()
            .filter_map(|e| match &e.action {
                Action::Rectified {
                    field,
                    old,
                    new,
                    reason,
                } => Some((
                    e,
                    field.as_str(),
                    old.as_str(),
                    new.as_str(),
                    reason.as_str(),
                )),
                _ => None,
            })
            .collect()
    }

    /// The day a restriction on this case was lifted, if it was.
    pub fn restriction_lifted(&self) -> Option<NaiveDate> {
        self.history.iter().rev().find_map(|e| match e.action {
            Action::RestrictionLifted { .. } => Some(e.on),
            _ => None,
        })
    }

    /// True once the case was reduced to its stub (desk retention).
    pub fn purged(&self) -> bool {
        self.history
            .iter()
            .any(|e| matches!(e.action, Action::Purged))
    }

    /// Whether the desk's retention (`years` after the response went out)
    /// has run out by `today`: a case answered years ago and entered today
    /// is counted from its answer.
    pub fn past_retention(&self, today: NaiveDate, years: u32) -> bool {
        self.closure.as_ref().is_some_and(|c| {
            c.responded()
                .checked_add_months(chrono::Months::new(years * 12))
                .is_some_and(|end| end < today)
        })
    }

    /// Keeps id, rights, channel, dates, states, actors, outcome and the
    /// subject's keyed hashes; every name, identifier and free text goes.
    pub fn reduce_to_stub(&mut self, hashes: Vec<String>) {
        const GONE: &str = "(purged)";
        self.subject = Subject {
            name: GONE.into(),
            emails: hashes.into_iter().map(|h| format!("hash:{h}")).collect(),
            phones: vec![],
        };
        self.requester.name = None;
        self.requester.authority = None;
        self.records.clear();
        // The store keeps only its digest, to refuse the message again.
        self.message = None;
        self.notes.clear();
        for v in &mut self.verifications {
            v.note.clear();
        }
        for t in &mut self.tasks {
            t.note.clear();
        }
        if let Some(c) = &mut self.closure {
            c.reason = GONE.into();
            for g in &mut c.gaps {
                g.reason.clear();
            }
        }
        for e in &mut self.history {
            match &mut e.action {
                Action::IdRequested { note } | Action::Verified { note, .. } => note.clear(),
                Action::Paused { reason } | Action::Extended { reason } => reason.clear(),
                Action::FeeRequested { reason, .. } => reason.clear(),
                Action::TaskRecorded { note, .. } => note.clear(),
                Action::Noted { text } => text.clear(),
                Action::IdentityLinked { note, .. } => note.clear(),
                Action::Finding { text, .. } => text.clear(),
                Action::Closed { reason, .. } => *reason = GONE.into(),
                Action::Rectified {
                    old, new, reason, ..
                } => {
                    old.clear();
                    new.clear();
                    reason.clear();
                }
                Action::RestrictionLifted { how, reason, .. } => {
                    how.clear();
                    reason.clear();
                }
                _ => {}
            }
        }
    }

    /// True once the subject's identifiers were replaced by keyed hashes.
    pub fn pseudonymised(&self) -> bool {
        self.history
            .iter()
            .any(|e| matches!(e.action, Action::Pseudonymised))
    }

    pub fn rights_label(&self) -> String {
        self.rights
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
