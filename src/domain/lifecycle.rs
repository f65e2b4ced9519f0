//! The case state machine: the one place that decides which step is legal.
//!
//! ```text
//! received → [awaiting identity →] in progress ⇄ awaiting clarification
//!          → ready to respond → closed(outcome)
//! ```

pub use super::case::PlannedRef;
use super::case::*;
use super::ids::CaseId;
use super::notice::{Letter, ID_REPLY_DAYS};
use super::right::Right;
use super::HolidayCalendar;
use chrono::{DateTime, NaiveDate, Utc};

/// Longest free text the desk accepts in a reason or note.
pub const MAX_TEXT: usize = 4000;

/// What staff ask to do to a case. Serialisable so the shared service can
/// carry it over its socket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    RequestId {
        note: String,
    },
    Verify {
        method: VerificationMethod,
        outcome: VerificationOutcome,
        note: String,
    },
    Pause {
        reason: String,
    },
    Resume,
    Extend {
        reason: String,
    },
    RecordTask {
        source: String,
        action: Option<String>,
        status: TaskStatus,
        note: String,
    },
    MarkReady,
    Note {
        text: String,
    },
    Close(super::closure::Closing),
    /// Adds the accepted tasks of a plan as pending work.
    Plan {
        tasks: Vec<PlannedRef>,
    },
    Rectify {
        field: String,
        old: String,
        new: String,
        reason: String,
    },
    /// What staff found in a source, written for the subject: it goes into
    /// the access package (task notes and case notes never do).
    Finding {
        source: String,
        text: String,
    },
    /// Lifts a restriction; the subject must have been told on or before `on`.
    LiftRestriction {
        told_on: NaiveDate,
        how: String,
        /// Why the restriction ends (Art. 18(3): the subject is told).
        #[serde(default)]
        reason: String,
    },
    /// The access package was written (the desk's own step, once the
    /// files are there: never sent by a face).
    PackageSent {
        sources: usize,
        records: usize,
        portability: bool,
    },
    /// Asks a reasonable fee before acting on a manifestly unfounded or
    /// excessive request (Art. 12(5)(a)); the clock waits until it is paid.
    RequestFee {
        amount: String,
        reason: String,
    },
    /// The fee was paid: the period starts again from that day.
    FeePaid,
    /// A notice on the way went out (dated the day it was sent).
    NoticeSent {
        letter: super::notice::Letter,
        via: Channel,
    },
    /// Adds to the case identities staff found to be the same person's: an
    /// e-mail, a phone, or a record of the lookup (`source:key`, whose
    /// identifiers come with it). From then on the plan, the erasure, the
    /// suppression list and the backup marks cover them. `note` says why
    /// they are the same person (audited).
    LinkIdentity {
        #[serde(default)]
        emails: Vec<String>,
        #[serde(default)]
        phones: Vec<String>,
        #[serde(default)]
        records: Vec<String>,
        note: String,
    },
    /// Replaces the subject's e-mails and phones by keyed hashes (`hashes`,
    /// computed by the caller who holds the key) once erasure is done.
    Pseudonymise {
        hashes: Vec<String>,
    },
    /// Reduces a closed case past the desk's retention to its stub: id,
    /// rights, dates, outcome and the keyed hashes (`hashes`) of its subject.
    Purge {
        hashes: Vec<String>,
    },
}

impl Step {
    pub fn name(&self) -> &'static str {
        match self {
            Step::RequestId { .. } => "request ID for",
            Step::Verify { .. } => "verify",
            Step::Pause { .. } => "pause",
            Step::Resume => "resume",
            Step::Extend { .. } => "extend",
            Step::RecordTask { .. } => "record a task on",
            Step::MarkReady => "mark ready",
            Step::Note { .. } => "add a note to",
            Step::Close(_) => "close",
            Step::Plan { .. } => "plan tasks for",
            Step::Rectify { .. } => "record a rectification on",
            Step::Finding { .. } => "record a finding for the subject on",
            Step::LiftRestriction { .. } => "lift the restriction on",
            Step::NoticeSent { .. } => "record a notice sent on",
            Step::PackageSent { .. } => "record the package sent for",
            Step::RequestFee { .. } => "ask a fee for",
            Step::FeePaid => "record the fee paid for",
            Step::LinkIdentity { .. } => "link an identity to",
            Step::Pseudonymise { .. } => "pseudonymise",
            Step::Purge { .. } => "purge",
        }
    }
}

/// Who takes a step and when.
#[derive(Debug, Clone)]
pub struct StepContext<'a> {
    pub actor: &'a str,
    pub at: DateTime<Utc>,
    /// The day the step counts from (defaults to today).
    pub on: NaiveDate,
    pub calendar: &'a HolidayCalendar,
}

/// A step the rules do not allow, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {step} {case}: {why}")]
pub struct Refusal {
    pub case: CaseId,
    pub step: &'static str,
    pub why: String,
}

/// A new request as taken at intake.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewCase {
    pub rights: Vec<Right>,
    pub channel: Channel,
    pub received: NaiveDate,
    pub requester: Requester,
    pub child: bool,
    pub subject: Subject,
    /// Source records (`source:key`) found in the lookup and attached at intake.
    pub records: Vec<String>,
    /// The e-mail the request came in (intake from the inbox): a message
    /// becomes one case, never two.
    #[serde(default)]
    pub message: Option<super::case::MessageRef>,
}

/// A field of a new case that does not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {why}")]
pub struct FieldError {
    pub field: &'static str,
    pub why: String,
}

fn field(field: &'static str, why: impl Into<String>) -> FieldError {
    FieldError {
        field,
        why: why.into(),
    }
}

/// Intake checks e-mails and phones by the same rule as imports and the
/// lookup (`identifier`): one validator, so a person typed at intake is the
/// person found in an export.
pub use super::identifier::{check_email as normalise_email, check_phone as normalise_phone};

fn text(name: &'static str, raw: &str, required: bool) -> Result<String, FieldError> {
    let t = raw.trim();
    if required && t.is_empty() {
        return Err(field(name, "is required"));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(field(name, format!("is longer than {MAX_TEXT} characters")));
    }
    Ok(t.to_string())
}

impl NewCase {
    /// Checks and normalises the intake; every problem is named by its field.
    pub fn validate(mut self, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        self.rights.sort();
        self.rights.dedup();
        if self.rights.is_empty() {
            errs.push(field("rights", "at least one right is required"));
        }
        if self.received > today {
            errs.push(field(
                "received",
                format!("{} is in the future", self.received),
            ));
        }
        match text("name", &self.subject.name, true) {
            Ok(n) => self.subject.name = n,
            Err(e) => errs.push(e),
        }
        let mut emails = Vec::new();
        for e in &self.subject.emails {
            match normalise_email(e) {
                Ok(e) if !emails.contains(&e) => emails.push(e),
                Ok(_) => {}
                Err(why) => errs.push(field("email", why)),
            }
        }
        self.subject.emails = emails;
        let mut phones = Vec::new();
        for p in &self.subject.phones {
            match normalise_phone(p) {
                Ok(p) if !phones.contains(&p) => phones.push(p),
                Ok(_) => {}
                Err(why) => errs.push(field("phone", why)),
            }
        }
        self.subject.phones = phones;
        let r = &self.requester;
        if r.relation == Relation::Subject {
            // The subject asks for themselves: no one else's name or authority.
            if r.name.as_deref().is_some_and(|n| !n.trim().is_empty()) {
                errs.push(field(
                    "requester",
                    "the subject makes this request: a requester's name is for a parent or agent",
                ));
            }
            if r.authority_kind.is_some() {
                errs.push(field(
                    "authority",
                    "the subject needs no authority to ask for themselves",
                ));
            }
        } else {
            let who = r.name.as_deref().unwrap_or("");
            if who.trim().is_empty() {
                errs.push(field("requester", "a parent or agent must be named"));
            }
            let auth = r.authority.as_deref().unwrap_or("");
            if auth.trim().is_empty() {
                errs.push(field(
                    "authority",
                    "record the authority seen for a parent or agent",
                ));
            }
            let kinds = || {
                AuthorityKind::ALL
                    .iter()
                    .filter(|k| k.fits(r.relation))
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            match r.authority_kind {
                None => errs.push(field(
                    "authority",
                    format!(
                        "name the kind of authority seen for a {}: {}",
                        r.relation,
                        kinds()
                    ),
                )),
                Some(k) if !k.fits(r.relation) => errs.push(field(
                    "authority",
                    format!("{k} does not make someone a {}: {}", r.relation, kinds()),
                )),
                Some(_) => {}
            }
            if r.relation == Relation::Parent && !self.child {
                errs.push(field(
                    "child",
                    "a parent asks for a child: flag the subject as a child (the organisation's services are not directed to under-16s)",
                ));
            }
        }
        if errs.is_empty() {
            Ok(self)
        } else {
            Err(errs)
        }
    }

    /// The case this intake opens, with its first history entry.
    pub fn open(self, id: CaseId, actor: &str, at: DateTime<Utc>) -> Case {
        Case {
            id,
            rights: self.rights,
            channel: self.channel,
            requester: self.requester,
            child: self.child,
            subject: self.subject,
            received: self.received,
            state: State::Received,
            verifications: Vec::new(),
            tasks: Vec::new(),
            notes: Vec::new(),
            closure: None,
            history: vec![CaseEvent {
                at,
                on: self.received,
                actor: actor.to_string(),
                action: Action::Opened,
            }],
            records: self.records,
            no_backup_sets: false,
            message: self.message,
            version: 1,
        }
    }
}

impl Case {
    /// Whether the case's state lets it close with `outcome` (granting needs
    /// verified identity and work under way; refusing for identity needs it
    /// unverified; a refusal as unfounded or excessive, or a withdrawal,
    /// closes from any open state).
    pub fn state_allows(&self, outcome: Outcome) -> bool {
        match outcome {
            Outcome::Fulfilled | Outcome::PartlyFulfilled | Outcome::RefusedCompellingGrounds => {
                matches!(self.state, State::InProgress | State::ReadyToRespond)
            }
            Outcome::RefusedIdentity => {
                matches!(self.state, State::Received | State::AwaitingIdentity)
            }
            Outcome::RefusedUnfounded | Outcome::RefusedExcessive | Outcome::Withdrawn => true,
        }
    }

    /// The outcome a close form starts on: fulfilled where the state allows
    /// it, else refused for identity (an unverified case), else withdrawn.
    pub fn likely_outcome(&self) -> Outcome {
        [
            Outcome::Fulfilled,
            Outcome::RefusedIdentity,
            Outcome::Withdrawn,
        ]
        .into_iter()
        .find(|o| self.state_allows(*o))
        .unwrap_or(Outcome::Withdrawn)
    }

    /// Applies one step if the rules allow it, recording it in the history.
    ///
    /// On refusal the case is left exactly as it was.
    /// Why a step only an open case takes is refused (the case is closed),
    /// or `None`: what the desk says instead of opening the step's form.
    pub fn closed_refusal(&self) -> Option<String> {
        let c = self
            .closure
            .as_ref()
            .filter(|_| self.state == State::Closed)?;
        Some(format!(
            "it was closed ({}) on {} by {}",
            c.outcome,
            c.closed_at.date_naive(),
            c.closed_by
        ))
    }

    pub fn apply(&mut self, step: Step, cx: &StepContext<'_>) -> Result<&CaseEvent, Refusal> {
        let refuse = |why: String| Refusal {
            case: self.id,
            step: step.name(),
            why,
        };
        let need_text = |name: &'static str, raw: &str| {
            text(name, raw, true).map_err(|e| refuse(e.to_string()))
        };
        let after_closure = matches!(
            step,
            Step::Note { .. }
                | Step::NoticeSent { .. }
                | Step::LiftRestriction { .. }
                | Step::Pseudonymise { .. }
                | Step::Purge { .. }
        );
        if !after_closure {
            if let Some(why) = self.closed_refusal() {
                return Err(refuse(why));
            }
        }
        if cx.on < self.received {
            return Err(refuse(format!(
                "{} is before the request was received ({})",
                cx.on, self.received
            )));
        }
        // The clock's own events keep their order; a note, a task or a
        // notice written today does not stop ID that came by post last week
        // from being recorded on the day it came.
        let clock_step = |a: &Action| {
            matches!(
                a,
                Action::Opened
                    | Action::FeeRequested { .. }
                    | Action::FeePaid
                    | Action::IdRequested { .. }
                    | Action::Verified { .. }
                    | Action::Paused { .. }
                    | Action::Resumed
                    | Action::Extended { .. }
                    | Action::Closed { .. }
            )
        };
        // A notice keeps its own order (after its occasion, see below).
        let ordered = !matches!(step, Step::NoticeSent { .. });
        if let Some(last) = self
            .history
            .iter()
            .rev()
            .find(|e| ordered && clock_step(&e.action))
        {
            if cx.on < last.on {
                return Err(refuse(format!(
                    "{} is before the case's last step ({}, {})",
                    cx.on,
                    last.action.kind(),
                    last.on
                )));
            }
        }

        // When a step may be taken is decided once, in `forbids` (the desk
        // asks it too before opening a form); the arms below check the
        // step's own arguments.
        use super::guide::Move;
        let mv = match &step {
            Step::RequestId { .. } => Some(Move::RequestId),
            Step::Verify { .. } => Some(Move::Verify),
            Step::Pause { .. } => Some(Move::Pause),
            Step::Resume => Some(Move::Resume),
            Step::Extend { .. } => Some(Move::Extend),
            Step::RecordTask { .. } => Some(Move::RecordTask),
            Step::MarkReady => Some(Move::MarkReady),
            Step::Plan { .. } => Some(Move::Plan),
            Step::Rectify { .. } => Some(Move::Rectify),
            Step::LiftRestriction { .. } => Some(Move::LiftRestriction),
            Step::PackageSent { .. } => Some(Move::ExportAccess),
            _ => None,
        };
        if let Some(why) = mv.and_then(|m| self.forbids(m, cx.calendar, cx.on)) {
            return Err(refuse(why));
        }
        // Art. 12(5)(a): with a fee asked, the work waits until it is paid
        // (the moves above ask `forbids`; a finding and a granted closing
        // here).
        let work = match &step {
            Step::Finding { .. } => true,
            Step::Close(c) => c.outcome.is_granted(),
            _ => false,
        };
        if let Some(why) = self.fee_blocks_work().filter(|_| work) {
            return Err(refuse(why));
        }
        let (action, next) = match step.clone() {
            Step::RequestId { note } => (
                Action::IdRequested {
                    note: text("note", &note, false).map_err(|e| refuse(e.to_string()))?,
                },
                State::AwaitingIdentity,
            ),
            Step::Verify {
                method,
                outcome,
                note,
            } => {
                let note = text("note", &note, false).map_err(|e| refuse(e.to_string()))?;
                // For a parent or agent, their authority is checked like identity.
                if outcome == VerificationOutcome::Verified
                    && self.requester.relation != Relation::Subject
                    && note.is_empty()
                {
                    return Err(refuse(format!(
                        "{} asks for the subject: say in the note how their authority ({}) was checked",
                        self.requester.name.as_deref().unwrap_or("the requester"),
                        self.requester
                            .authority_kind
                            .map_or("not named", |k| k.as_str())
                    )));
                }
                let next = match outcome {
                    VerificationOutcome::Verified => State::InProgress,
                    VerificationOutcome::Failed => self.state,
                };
                self.verifications.push(Verification {
                    method,
                    outcome,
                    by: cx.actor.to_string(),
                    at: cx.at,
                    on: cx.on,
                    note: note.clone(),
                });
                (
                    Action::Verified {
                        method,
                        outcome,
                        note,
                    },
                    next,
                )
            }
            Step::Pause { reason } => (
                Action::Paused {
                    reason: need_text("reason", &reason)?,
                },
                State::AwaitingClarification,
            ),
            Step::Resume => (Action::Resumed, State::InProgress),
            Step::Extend { reason } => (
                Action::Extended {
                    reason: need_text("reason", &reason)?,
                },
                self.state,
            ),
            Step::RecordTask {
                source,
                action,
                status,
                note,
            } => {
                let note = text("note", &note, false).map_err(|e| refuse(e.to_string()))?;
                if status == TaskStatus::Exempt && note.is_empty() {
                    let weighing = action.as_deref() == Some(super::task_action::ACTION_WEIGH)
                        || (action.is_none()
                            && self.tasks.iter().any(|t| {
                                t.source == source
                                    && t.action == super::task_action::ACTION_WEIGH
                                    && t.status == TaskStatus::Pending
                            }));
                    return Err(refuse(if weighing {
                        "going on despite the objection needs the compelling legitimate grounds in the note (they are told to the person)".into()
                    } else {
                        "an exemption needs its legal basis in the note".into()
                    }));
                }
                if status == TaskStatus::Dropped && note.is_empty() {
                    return Err(refuse("dropping a task needs a reason in the note".into()));
                }
                // The record of the work is its evidence: what was done, or
                // where and how the person was looked for.
                if matches!(status, TaskStatus::Done | TaskStatus::NotFound) && note.is_empty() {
                    return Err(refuse(format!(
                        "say in the note what was {} (the evidence of the work: what was changed, or where and how the person was looked for)",
                        if status == TaskStatus::Done { "done" } else { "searched" }
                    )));
                }
                // A step names the task it completes: by source, and by action
                // only where the source has several still to do. Without an
                // action, the source's one pending task is completed (the
                // plan's "search and erase", say) rather than a second one
                // added beside it; the tasks the desk did itself at planning
                // (suppression, backup marks) do not make it ambiguous.
                let named = action
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty());
                let action = match named {
                    Some(a) => a,
                    None => {
                        let of_source = |pending: bool| -> Vec<&str> {
                            self.tasks
                                .iter()
                                .filter(|t| t.source == source)
                                .filter(|t| !pending || t.status == TaskStatus::Pending)
                                .map(|t| t.action.as_str())
                                .collect()
                        };
                        let pending = of_source(true);
                        let candidates = if pending.is_empty() {
                            of_source(false)
                        } else {
                            pending
                        };
                        match candidates.as_slice() {
                            [] => self.rights[0].default_action().to_string(),
                            [one] => one.to_string(),
                            several => {
                                return Err(refuse(format!(
                                    "{source} has {} tasks to do ({}): name the one this completes with its action (`--action` in the shell)",
                                    several.len(),
                                    several
                                        .iter()
                                        .map(|a| format!("'{a}'"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )))
                            }
                        }
                    }
                };
                let task = Task {
                    source: source.clone(),
                    action: action.clone(),
                    status,
                    note: note.clone(),
                    by: cx.actor.to_string(),
                    at: cx.at,
                };
                match self
                    .tasks
                    .iter_mut()
                    .find(|t| t.source == source && t.action == action)
                {
                    Some(t) => *t = task,
                    None => self.tasks.push(task),
                }
                let next = if status == TaskStatus::Pending && self.state == State::ReadyToRespond {
                    State::InProgress
                } else {
                    self.state
                };
                (
                    Action::TaskRecorded {
                        source,
                        action,
                        status,
                        note,
                    },
                    next,
                )
            }
            Step::MarkReady => (Action::Ready, State::ReadyToRespond),
            Step::Note { text: t } => {
                let t = need_text("note", &t)?;
                self.notes.push(Note {
                    text: t.clone(),
                    by: cx.actor.to_string(),
                    at: cx.at,
                });
                (Action::Noted { text: t }, self.state)
            }
            Step::Plan { tasks } => {
                let mut added = Vec::new();
                for t in tasks {
                    if t.source.trim().is_empty() || t.action.trim().is_empty() {
                        return Err(refuse("a planned task needs a source and an action".into()));
                    }
                    if self
                        .tasks
                        .iter()
                        .any(|x| x.source == t.source && x.action == t.action)
                    {
                        continue;
                    }
                    self.tasks.push(Task {
                        source: t.source.clone(),
                        action: t.action.clone(),
                        status: TaskStatus::Pending,
                        note: String::new(),
                        by: cx.actor.to_string(),
                        at: cx.at,
                    });
                    added.push(t);
                }
                if added.is_empty() {
                    return Err(refuse("every proposed task is already on the case".into()));
                }
                (Action::Planned { tasks: added }, self.state)
            }
            Step::Finding {
                source,
                text: found,
            } => {
                if !self.wants_package() {
                    return Err(refuse(
                        "only an access or portability case sends the subject what was found"
                            .into(),
                    ));
                }
                if !matches!(
                    self.state,
                    State::InProgress | State::AwaitingClarification | State::ReadyToRespond
                ) {
                    return Err(refuse(format!(
                        "work starts once identity is verified; the case is {}",
                        self.state
                    )));
                }
                let found = need_text("what was found, for the subject", &found)?;
                (
                    Action::Finding {
                        source,
                        text: found,
                    },
                    self.state,
                )
            }
            Step::LinkIdentity {
                emails,
                phones,
                records,
                note,
            } => {
                let note = need_text("note", &note)?;
                let mut added = (0, 0, Vec::new());
                for e in &emails {
                    let e = normalise_email(e).map_err(|why| refuse(format!("e-mail: {why}")))?;
                    if !self.subject.emails.contains(&e) {
                        self.subject.emails.push(e);
                        added.0 += 1;
                    }
                }
                for p in &phones {
                    let p = normalise_phone(p).map_err(|why| refuse(format!("phone: {why}")))?;
                    if !self.subject.phones.contains(&p) {
                        self.subject.phones.push(p);
                        added.1 += 1;
                    }
                }
                for r in &records {
                    let Some((source, key)) = r
                        .split_once(':')
                        .filter(|(s, k)| !s.is_empty() && !k.is_empty())
                    else {
                        return Err(refuse(format!("'{r}' is not SOURCE:KEY")));
                    };
                    let r = format!("{source}:{key}");
                    if !self.records.contains(&r) {
                        self.records.push(r);
                        added.2.push(source.to_string());
                    }
                }
                if added.0 + added.1 + added.2.len() == 0 {
                    return Err(refuse("every identity given is already on the case".into()));
                }
                (
                    Action::IdentityLinked {
                        emails: added.0,
                        phones: added.1,
                        sources: added.2,
                        note,
                    },
                    self.state,
                )
            }
            Step::Rectify {
                field,
                old,
                new,
                reason,
            } => {
                let field = need_text("field", &field)?;
                let new = need_text("new value", &new)?;
                let old = text("old value", &old, false).map_err(|e| refuse(e.to_string()))?;
                let reason = need_text("reason", &reason)?;
                if old == new {
                    return Err(refuse("the new value is the same as the old one".into()));
                }
                (
                    Action::Rectified {
                        field,
                        old,
                        new,
                        reason,
                    },
                    self.state,
                )
            }
            Step::LiftRestriction {
                told_on,
                how,
                reason,
            } => {
                let how = need_text("how the subject was told", &how)?;
                let reason = need_text("why the restriction ends", &reason)?;
                if told_on > cx.on {
                    return Err(refuse(format!(
                        "the subject must be told before the restriction is lifted (told {told_on}, lifting {})",
                        cx.on
                    )));
                }
                if told_on < self.received {
                    return Err(refuse(format!(
                        "{told_on} is before the request was received ({})",
                        self.received
                    )));
                }
                (
                    Action::RestrictionLifted {
                        told_on,
                        how,
                        reason,
                    },
                    self.state,
                )
            }
            Step::RequestFee { amount, reason } => {
                if let Some(why) = self.fee_request_refusal() {
                    return Err(refuse(why));
                }
                let amount = need_text("amount", &amount)?;
                let reason = need_text(
                    "why the request is manifestly unfounded or excessive",
                    &reason,
                )?;
                (Action::FeeRequested { amount, reason }, self.state)
            }
            Step::FeePaid => {
                if self.fee_awaited().is_none() {
                    return Err(refuse("no fee is awaited on this case".into()));
                }
                (Action::FeePaid, self.state)
            }
            Step::PackageSent {
                sources,
                records,
                portability,
            } => {
                // Which sources went out unsearched (their reason is free
                // text, so it stays in the package, not in the history).
                let unsearched = match super::response::unsearched(self) {
                    None => vec!["(no plan: every source)".to_string()],
                    Some(v) => v,
                };
                (
                    Action::PackageSent {
                        sources,
                        records,
                        portability,
                        unsearched,
                    },
                    self.state,
                )
            }
            Step::NoticeSent { letter, via } => {
                if letter == super::notice::Letter::Response {
                    return Err(refuse(
                        "the response's day and channel are recorded when the case is closed (`--responded`, `--via`)".into(),
                    ));
                }
                if let Some(why) = letter.not_yet(self) {
                    return Err(refuse(why));
                }
                if let Some(occasion) = letter.occasion(self) {
                    if cx.on < occasion.on {
                        return Err(refuse(format!(
                            "{} cannot go out before its occasion ({}, {})",
                            letter.describe(),
                            occasion.action.kind(),
                            occasion.on
                        )));
                    }
                    // Nor after what it asked for came: ID asked for after
                    // it arrived, a question after it was answered.
                    let answered = self
                        .history
                        .iter()
                        .skip_while(|e| !std::ptr::eq(*e, occasion))
                        .find(|e| {
                            matches!(
                                (letter, &e.action),
                                (
                                    super::notice::Letter::IdRequest,
                                    Action::Verified {
                                        outcome: VerificationOutcome::Verified,
                                        ..
                                    }
                                ) | (super::notice::Letter::Clarification, Action::Resumed)
                                    | (super::notice::Letter::FeeRequest, Action::FeePaid)
                            )
                        });
                    if let Some(end) = answered {
                        if cx.on > end.on {
                            return Err(refuse(format!(
                                "{} cannot go out after it was answered ({}, {})",
                                letter.describe(),
                                end.action.kind(),
                                end.on
                            )));
                        }
                    }
                }
                if let Some((e, via)) = self.notice_sent(letter) {
                    return Err(refuse(format!(
                        "{} was already recorded as sent on {} by {via} ({})",
                        letter.describe(),
                        e.on,
                        e.actor
                    )));
                }
                (Action::NoticeSent { letter, via }, self.state)
            }
            Step::Purge { hashes } => {
                if self.state != State::Closed {
                    return Err(refuse("only a closed case is reduced to its stub".into()));
                }
                if self.purged() {
                    return Err(refuse("it is already reduced to its stub".into()));
                }
                self.reduce_to_stub(hashes);
                (Action::Purged, self.state)
            }
            Step::Pseudonymise { hashes } => {
                if !self.rights.contains(&Right::Erasure) {
                    return Err(refuse("only an erasure case reduces its subject".into()));
                }
                if self.pseudonymised() {
                    return Err(refuse("the subject is already pseudonymised".into()));
                }
                if self.state != State::Closed {
                    return Err(refuse("the case must be closed first".into()));
                }
                self.subject.emails = hashes.iter().map(|h| format!("hash:{h}")).collect();
                self.subject.phones.clear();
                // Its Message-ID may hold the address; the store's digest
                // still refuses the message again.
                self.message = None;
                self.records = self
                    .records
                    .iter()
                    .map(|r| {
                        r.split_once(':').map(|(s, _)| s).unwrap_or("").to_string() + ":(erased)"
                    })
                    .collect();
                self.records.dedup();
                (Action::Pseudonymised, self.state)
            }
            Step::Close(super::closure::Closing {
                outcome,
                reason,
                fee,
                responded_on,
                via,
                gap_reasons,
                keep_identifiers: _, // the service's business (see Desk::close)
            }) => {
                let reason = need_text("reason", &reason)?;
                let responded_on = responded_on.unwrap_or(cx.on);
                if responded_on > cx.on || responded_on < self.received {
                    return Err(refuse(format!(
                        "the response date {responded_on} must be between the request ({}) and today",
                        self.received
                    )));
                }
                // The response answers the work done: it cannot go out before
                // the case's last step (a note, or an identity the desk took
                // in from the records it erases, excepted), nor make a late
                // case look on time.
                if let Some(last) = self.history.iter().rev().find(|e| {
                    !matches!(
                        e.action,
                        Action::Noted { .. } | Action::IdentityLinked { .. }
                    )
                }) {
                    if responded_on < last.on {
                        return Err(refuse(format!(
                            "the response date {responded_on} is before the case's last step ({}, {})",
                            last.action.kind(),
                            last.on
                        )));
                    }
                }
                for (_, r) in &gap_reasons {
                    text("gap reason", r, false).map_err(|e| refuse(e.to_string()))?;
                }
                // A reason for a gap that is not open is a typo, or work
                // that was since done: said, never silently dropped.
                let open = super::closure::open_gaps(self);
                let unknown: Vec<&str> = gap_reasons
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .filter(|k| !open.iter().any(|g| g.key == *k))
                    .collect();
                if !unknown.is_empty() {
                    let keys: Vec<&str> = open.iter().map(|g| g.key.as_str()).collect();
                    return Err(refuse(format!(
                        "no open gap is called {}; {}",
                        unknown.join(", "),
                        if keys.is_empty() {
                            "nothing is open".to_string()
                        } else {
                            format!("the open gaps are: {}", keys.join(", "))
                        }
                    )));
                }
                let gaps =
                    super::closure::check_gaps(self, outcome, &gap_reasons).map_err(|missing| {
                        refuse(format!(
                            "work is still open; give a reason for each gap or finish it: {}",
                            missing
                                .iter()
                                .map(|g| format!("{} [{}]", g.what, g.key))
                                .collect::<Vec<_>>()
                                .join("; ")
                        ))
                    })?;
                let fee = fee
                    .map(|f| text("fee", &f, false).map_err(|e| refuse(e.to_string())))
                    .transpose()?
                    .filter(|f| !f.is_empty());
                if fee.is_some()
                    && matches!(
                        outcome,
                        Outcome::Withdrawn
                            | Outcome::RefusedIdentity
                            | Outcome::RefusedCompellingGrounds
                    )
                {
                    return Err(refuse(format!(
                        "a fee is charged only for a manifestly unfounded or excessive request, not when {outcome}"
                    )));
                }
                if outcome == Outcome::Fulfilled
                    && self.tasks.iter().any(|t| {
                        t.action == super::task_action::ACTION_WEIGH
                            && t.status == TaskStatus::Exempt
                    })
                {
                    return Err(refuse("processing goes on in a source for compelling grounds, so the objection was not upheld in full: close as partly-fulfilled or refused-compelling-grounds".into()));
                }
                if outcome == Outcome::RefusedCompellingGrounds {
                    if let Some(why) = self.compelling_grounds_missing() {
                        return Err(refuse(why));
                    }
                }
                let allowed = self.state_allows(outcome);
                if allowed && outcome == Outcome::RefusedIdentity {
                    if let Some(why) = self.identity_refusal_early(cx.on) {
                        return Err(refuse(why));
                    }
                }
                if !allowed {
                    let why = match outcome {
                        Outcome::RefusedIdentity => {
                            "identity is already verified, so it cannot be refused for want of it"
                                .to_string()
                        }
                        _ if self.verified().is_none() => {
                            "identity has not been verified; verify it or close as refused-identity"
                                .to_string()
                        }
                        _ => format!(
                            "a case that is {} cannot be closed as {outcome}; resume it first",
                            self.state
                        ),
                    };
                    return Err(refuse(why));
                }
                self.closure = Some(Closure {
                    outcome,
                    reason: reason.clone(),
                    closed_at: cx.at,
                    closed_by: cx.actor.to_string(),
                    fee,
                    responded_on: Some(responded_on),
                    via: Some(via.unwrap_or(self.channel)),
                    gaps,
                });
                (Action::Closed { outcome, reason }, State::Closed)
            }
        };
        self.state = next;
        self.version += 1;
        self.history.push(CaseEvent {
            at: cx.at,
            on: cx.on,
            actor: cx.actor.to_string(),
            action,
        });
        Ok(self.history.last().expect("just pushed"))
    }
}

impl Case {
    /// Why a refusal for identity (Art. 12(6)) would come too early on `on`,
    /// if it would: the person must first be asked for proof and then either
    /// fail the check or let the time allowed (`ID_REPLY_DAYS`) pass.
    pub fn identity_refusal_early(&self, on: NaiveDate) -> Option<String> {
        if Letter::IdRequest.occasion(self).is_none() {
            return Some("the person was never asked for proof of identity: request ID first (the clock waits), then refuse if it does not come or does not match".into());
        }
        let Some((asked, failed)) = self.identity_refusal_facts() else {
            return Some("the request for identity was never recorded as sent (`case sent ID id-request`): the time allowed runs from the day it went out".into());
        };
        let deadline = asked + chrono::Days::new(ID_REPLY_DAYS);
        (!failed && on < deadline).then(|| {
            format!(
                "the person has until {deadline} to send proof of identity (asked on {asked}); refuse after that, or once a check of what they sent failed"
            )
        })
    }

    /// The fee asked for and not yet paid: (asked on, amount, why).
    pub fn fee_awaited(&self) -> Option<(NaiveDate, &str, &str)> {
        let mut awaited = None;
        for e in &self.history {
            match &e.action {
                Action::FeeRequested { amount, reason } => {
                    awaited = Some((e.on, amount.as_str(), reason.as_str()))
                }
                Action::FeePaid => awaited = None,
                _ => {}
            }
        }
        awaited
    }

    /// Why an Art. 21(1) objection cannot (yet) be refused for compelling
    /// grounds: it must be one, and every source's weighing recorded, with
    /// at least one going on for grounds stated in its note.
    pub fn compelling_grounds_missing(&self) -> Option<String> {
        use super::task_action::ACTION_WEIGH;
        if !self.rights.contains(&Right::ObjectionLegitimate) {
            return Some("only an objection to processing on legitimate interests (Art. 21(1)) is refused for compelling grounds".into());
        }
        let others: Vec<&str> = self
            .rights
            .iter()
            .filter(|r| **r != Right::ObjectionLegitimate)
            .map(|r| r.as_str())
            .collect();
        if !others.is_empty() {
            return Some(format!(
                "the case also asks for {}, which compelling grounds do not answer: close it as partly-fulfilled, with the grounds in the weighing tasks",
                others.join(", ")
            ));
        }
        let weighed: Vec<&Task> = self
            .tasks
            .iter()
            .filter(|t| t.action == ACTION_WEIGH && t.status != TaskStatus::Dropped)
            .collect();
        let pending: Vec<&str> = weighed
            .iter()
            .filter(|t| t.status == TaskStatus::Pending)
            .map(|t| t.source.as_str())
            .collect();
        if !pending.is_empty() {
            return Some(format!(
                "the objection is not yet weighed in {}: record each (done if the processing stopped, exempt with the compelling grounds if it goes on)",
                pending.join(", ")
            ));
        }
        if !weighed.iter().any(|t| t.status == TaskStatus::Exempt) {
            return Some("no source records compelling grounds (a weighing task recorded as exempt, the grounds in its note): without them the objection is upheld".into());
        }
        None
    }

    /// The identity refusal's facts for the letter: (the day the request
    /// for identity went out, a check failed after it). None until the
    /// request was recorded as sent: a refusal never claims an unsent one.
    pub fn identity_refusal_facts(&self) -> Option<(NaiveDate, bool)> {
        let (sent, _) = self.notice_sent(Letter::IdRequest)?;
        // After it in the case's history, not merely on a later day: a check
        // that failed before the request does not answer it.
        let failed = self
            .history
            .iter()
            .skip_while(|e| !std::ptr::eq(*e, sent))
            .any(|e| {
                matches!(
                    e.action,
                    Action::Verified {
                        outcome: VerificationOutcome::Failed,
                        ..
                    }
                )
            });
        Some((sent.on, failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn cal() -> HolidayCalendar {
        HolidayCalendar::builtin("england-and-wales").unwrap()
    }

    fn intake(received: &str) -> NewCase {
        NewCase {
            rights: vec![Right::Erasure, Right::Access, Right::Erasure],
            channel: Channel::Email,
            received: d(received),
            requester: Requester::subject(),
            child: false,
            subject: Subject {
                name: "  Jürgen Müller ".into(),
                emails: vec![" Juergen@Example.COM ".into(), "juergen@example.com".into()],
                phones: vec!["+49 30 1234567".into()],
            },
            records: vec![],
            message: None,
        }
    }

    fn open(received: &str) -> Case {
        let at = Utc.from_utc_datetime(&d(received).and_hms_opt(9, 0, 0).unwrap());
        intake(received)
            .validate(d(received))
            .unwrap()
            .open(CaseId::new(2024, 1), "alice", at)
    }

    fn step(c: &mut Case, mut s: Step, on: &str) -> Result<(), Refusal> {
        // `close` gives "*": a reason for whatever gaps the case has open.
        if let Step::Close(closing) = &mut s {
            if closing.gap_reasons.iter().any(|(k, _)| k == "*") {
                closing.gap_reasons = super::super::closure::open_gaps(c)
                    .into_iter()
                    .map(|g| (g.key, "handled outside the desk".into()))
                    .collect();
            }
        }
        let cal = cal();
        let at = Utc.from_utc_datetime(&d(on).and_hms_opt(10, 0, 0).unwrap());
        let cx = StepContext {
            actor: "alice",
            at,
            on: d(on),
            calendar: &cal,
        };
        c.apply(s, &cx).map(|_| ())
    }

    fn verify() -> Step {
        Step::Verify {
            method: VerificationMethod::ReplyFromAddress,
            outcome: VerificationOutcome::Verified,
            note: String::new(),
        }
    }

    fn close(outcome: Outcome) -> Step {
        let mut c = super::super::closure::Closing::new(outcome, "all sources done");
        // These tests are about the state machine: every gap has its reason.
        c.gap_reasons = vec![("*".into(), String::new())];
        Step::Close(c)
    }

    #[test]
    fn intake_normalises_and_dedups() {
        let c = open("2024-09-03");
        assert_eq!(c.rights, vec![Right::Access, Right::Erasure]);
        assert_eq!(c.subject.name, "Jürgen Müller");
        assert_eq!(c.subject.emails, vec!["juergen@example.com"]);
        assert_eq!(c.state, State::Received);
    }

    #[test]
    fn intake_names_each_bad_field() {
        let mut n = intake("2024-09-03");
        n.rights.clear();
        n.subject.name = " ".into();
        n.subject.emails = vec!["not-an-address".into()];
        n.subject.phones = vec!["call me".into()];
        n.requester.relation = Relation::AuthorisedAgent;
        let errs = n.validate(d("2024-09-01")).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "rights",
                "received",
                "name",
                "email",
                "phone",
                "requester",
                "authority",
                "authority"
            ]
        );
    }

    #[test]
    fn who_asks_is_checked_against_how_they_may_ask() {
        let validate = |f: &dyn Fn(&mut NewCase)| {
            let mut n = intake("2024-09-03");
            f(&mut n);
            n.validate(d("2024-09-03"))
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        };
        // The subject asks for themselves: no requester's name.
        let e = validate(&|n| n.requester.name = Some("Her Lawyer".into()));
        assert!(
            e[0].contains("a requester's name is for a parent or agent"),
            "{e:?}"
        );
        // A parent, with parental responsibility, for a child only.
        let parent = |n: &mut NewCase| {
            n.requester = Requester {
                relation: Relation::Parent,
                name: Some("Máire Byrne".into()),
                authority: Some("birth certificate seen".into()),
                authority_kind: Some(AuthorityKind::ParentalResponsibility),
            };
        };
        let e = validate(&|n| parent(n));
        assert!(
            e[0].starts_with("child: a parent asks for a child"),
            "{e:?}"
        );
        assert!(validate(&|n| {
            parent(n);
            n.child = true;
        })
        .is_empty());
        // "Said so" is no authority: its kind is named, and fits.
        let e = validate(&|n| {
            parent(n);
            n.child = true;
            n.requester.authority_kind = Some(AuthorityKind::SignedAuthorisation);
        });
        assert!(e[0].contains("does not make someone a parent"), "{e:?}");
        let e = validate(&|n| {
            parent(n);
            n.child = true;
            n.requester.authority_kind = None;
        });
        assert!(e[0].contains("name the kind of authority"), "{e:?}");
        // Verifying a parent's request says how their authority was checked.
        let mut n = intake("2024-09-03");
        parent(&mut n);
        n.child = true;
        let at = Utc.from_utc_datetime(&d("2024-09-03").and_hms_opt(9, 0, 0).unwrap());
        let mut c = n
            .validate(d("2024-09-03"))
            .unwrap()
            .open(CaseId::new(2024, 9), "alice", at);
        let e = step(&mut c, verify(), "2024-09-03").unwrap_err();
        assert!(
            e.why
                .contains("how their authority (parental-responsibility) was checked"),
            "{e}"
        );
    }

    #[test]
    fn the_happy_path_walks_every_state() {
        let mut c = open("2024-09-03");
        step(
            &mut c,
            Step::RequestId {
                note: "asked for a reply from the address on file".into(),
            },
            "2024-09-03",
        )
        .unwrap();
        assert_eq!(c.state, State::AwaitingIdentity);
        step(&mut c, verify(), "2024-09-10").unwrap();
        assert_eq!(c.state, State::InProgress);
        step(
            &mut c,
            Step::Pause {
                reason: "which account?".into(),
            },
            "2024-09-20",
        )
        .unwrap();
        assert_eq!(c.state, State::AwaitingClarification);
        step(&mut c, Step::Resume, "2024-09-24").unwrap();
        step(
            &mut c,
            Step::RecordTask {
                source: "web-forms".into(),
                action: None,
                status: TaskStatus::Done,
                note: "deleted".into(),
            },
            "2024-09-25",
        )
        .unwrap();
        assert_eq!(c.tasks[0].action, "search and collect");
        step(&mut c, Step::MarkReady, "2024-09-25").unwrap();
        assert_eq!(c.state, State::ReadyToRespond);
        step(&mut c, close(Outcome::Fulfilled), "2024-09-26").unwrap();
        assert_eq!(c.state, State::Closed);
        assert_eq!(c.clock(&cal(), d("2025-01-01")).due, Some(d("2024-10-14")));
        assert_eq!(c.history.len(), 8);
        assert_eq!(c.version, 8);
    }

    #[test]
    fn closing_twice_is_refused_and_changes_nothing() {
        let mut c = open("2024-09-03");
        step(&mut c, verify(), "2024-09-03").unwrap();
        step(&mut c, close(Outcome::Fulfilled), "2024-09-04").unwrap();
        let before = c.clone();
        let e = step(&mut c, close(Outcome::Withdrawn), "2024-09-05").unwrap_err();
        assert!(e.to_string().contains("it was closed (fulfilled)"), "{e}");
        assert_eq!(c, before);
    }

    #[test]
    fn verifying_a_closed_case_is_refused() {
        let mut c = open("2024-09-03");
        step(&mut c, close(Outcome::Withdrawn), "2024-09-04").unwrap();
        let e = step(&mut c, verify(), "2024-09-05").unwrap_err();
        assert_eq!(e.step, "verify");
        assert!(
            e.to_string()
                .starts_with("cannot verify DSR-2024-0001: it was closed"),
            "{e}"
        );
    }

    #[test]
    fn extending_after_the_first_month_is_refused() {
        let mut c = open("2024-09-03");
        step(&mut c, verify(), "2024-09-03").unwrap();
        let e = step(
            &mut c,
            Step::Extend {
                reason: "complex".into(),
            },
            "2024-10-04",
        )
        .unwrap_err();
        assert!(e.why.contains("before the first month ends"), "{e}");
        step(
            &mut c,
            Step::Extend {
                reason: "complex: 9 systems".into(),
            },
            "2024-10-03",
        )
        .unwrap();
        assert_eq!(
            c.clock(&cal(), d("2024-10-03")).extended_due,
            Some(d("2024-12-03"))
        );
    }

    #[test]
    fn pause_extend_and_close_need_a_reason() {
        let mut c = open("2024-09-03");
        step(&mut c, verify(), "2024-09-03").unwrap();
        for s in [
            Step::Pause { reason: " ".into() },
            Step::Extend { reason: "".into() },
            Step::Close(super::super::closure::Closing::new(
                Outcome::RefusedExcessive,
                "\t",
            )),
        ] {
            let e = step(&mut c, s, "2024-09-04").unwrap_err();
            assert!(e.why.contains("reason: is required"), "{e}");
        }
    }

    #[test]
    fn work_needs_verified_identity() {
        let mut c = open("2024-09-03");
        let e = step(
            &mut c,
            Step::RecordTask {
                source: "crm".into(),
                action: None,
                status: TaskStatus::Done,
                note: "searched by e-mail".into(),
            },
            "2024-09-03",
        )
        .unwrap_err();
        assert!(e.why.contains("once identity is verified"), "{e}");
        let e = step(&mut c, close(Outcome::Fulfilled), "2024-09-03").unwrap_err();
        assert!(e.why.contains("identity has not been verified"), "{e}");
    }

    #[test]
    fn a_refusal_for_identity_comes_after_asking_and_the_time_allowed() {
        let mut c = open("2024-09-03");
        let e = step(&mut c, close(Outcome::RefusedIdentity), "2024-09-03").unwrap_err();
        assert!(e.why.contains("never asked for proof of identity"), "{e}");
        step(
            &mut c,
            Step::RequestId {
                note: String::new(),
            },
            "2024-09-04",
        )
        .unwrap();
        // Never recorded as sent: no refusal may claim it was asked.
        let e = step(&mut c, close(Outcome::RefusedIdentity), "2024-10-30").unwrap_err();
        assert!(e.why.contains("never recorded as sent"), "{e}");
        let sent = Step::NoticeSent {
            letter: Letter::IdRequest,
            via: Channel::Post,
        };
        step(&mut c, sent.clone(), "2024-09-04").unwrap();
        let e = step(&mut c, close(Outcome::RefusedIdentity), "2024-10-03").unwrap_err();
        assert!(e.why.contains("until 2024-10-04"), "{e}");
        assert_eq!(c.state, State::AwaitingIdentity, "nothing changed");
        step(&mut c, close(Outcome::RefusedIdentity), "2024-10-04").unwrap();
        assert_eq!(c.identity_refusal_facts(), Some((d("2024-09-04"), false)));

        // A check that failed after the request ends the wait at once; one
        // that failed before it does not answer it.
        let mut c = open("2024-09-03");
        let failed = Step::Verify {
            method: VerificationMethod::CallBack,
            outcome: VerificationOutcome::Failed,
            note: "no answer".into(),
        };
        step(&mut c, failed, "2024-09-04").unwrap();
        step(
            &mut c,
            Step::RequestId {
                note: String::new(),
            },
            "2024-09-04",
        )
        .unwrap();
        step(&mut c, sent, "2024-09-04").unwrap();
        let e = step(&mut c, close(Outcome::RefusedIdentity), "2024-09-05").unwrap_err();
        assert!(e.why.contains("until 2024-10-04"), "{e}");
        step(
            &mut c,
            Step::Verify {
                method: VerificationMethod::DocumentSeen,
                outcome: VerificationOutcome::Failed,
                note: "the name on the document differs".into(),
            },
            "2024-09-06",
        )
        .unwrap();
        step(&mut c, close(Outcome::RefusedIdentity), "2024-09-06").unwrap();
        assert_eq!(c.identity_refusal_facts(), Some((d("2024-09-04"), true)));
    }

    #[test]
    fn an_objection_is_refused_for_compelling_grounds_only_once_weighed_with_them() {
        use crate::domain::task_action::ACTION_WEIGH;
        let mut c = crate::domain::testkit::opened(
            7,
            &[Right::ObjectionLegitimate],
            Channel::Email,
            "2026-11-02",
        );
        step(&mut c, verify(), "2026-11-02").unwrap();
        let refuse = |c: &mut Case| {
            step(
                c,
                Step::Close(super::super::closure::Closing::new(
                    Outcome::RefusedCompellingGrounds,
                    "fraud prevention outweighs",
                )),
                "2026-11-10",
            )
            .unwrap_err()
        };
        step(
            &mut c,
            Step::Plan {
                tasks: ["events", "correspondence"]
                    .map(|s| PlannedRef {
                        source: s.into(),
                        action: ACTION_WEIGH.into(),
                    })
                    .to_vec(),
            },
            "2026-11-03",
        )
        .unwrap();
        assert!(refuse(&mut c)
            .why
            .contains("not yet weighed in events, correspondence"));
        let record = |status, note: &str| Step::RecordTask {
            source: "events".into(),
            action: None,
            status,
            note: note.into(),
        };
        let e = step(&mut c, record(TaskStatus::Exempt, ""), "2026-11-04").unwrap_err();
        assert!(e.why.contains("compelling legitimate grounds"), "{e}");
        step(
            &mut c,
            record(TaskStatus::Done, "stopped the mailings"),
            "2026-11-04",
        )
        .unwrap();
        step(
            &mut c,
            Step::RecordTask {
                source: "correspondence".into(),
                action: None,
                status: TaskStatus::Done,
                note: "stopped".into(),
            },
            "2026-11-04",
        )
        .unwrap();
        // Every source stopped: nothing to refuse with; the objection is upheld.
        assert!(refuse(&mut c)
            .why
            .contains("no source records compelling grounds"));
        step(
            &mut c,
            Step::RecordTask {
                source: "correspondence".into(),
                action: Some(ACTION_WEIGH.into()),
                status: TaskStatus::Exempt,
                note: "the contract history is needed to defend a pending legal claim".into(),
            },
            "2026-11-05",
        )
        .unwrap();
        step(
            &mut c,
            Step::Close(super::super::closure::Closing::new(
                Outcome::RefusedCompellingGrounds,
                "legal claim pending",
            )),
            "2026-11-10",
        )
        .unwrap();
        // Any other case cannot use it.
        let mut other = open("2024-09-03");
        step(&mut other, verify(), "2024-09-03").unwrap();
        assert!(refuse(&mut other)
            .why
            .contains("only an objection to processing"));
    }

    #[test]
    fn a_note_does_not_stop_id_being_recorded_on_the_day_it_came() {
        let mut c = open("2024-09-03");
        let ask = Step::RequestId {
            note: String::new(),
        };
        step(&mut c, ask, "2024-09-04").unwrap();
        step(
            &mut c,
            Step::Note {
                text: "the ID letter is in the post tray".into(),
            },
            "2024-09-12",
        )
        .unwrap();
        // The ID arrived on the 6th: recorded on the 6th, after today's note.
        step(&mut c, verify(), "2024-09-06").unwrap();
        assert_eq!(c.clock(&cal(), d("2024-09-12")).start, d("2024-09-06"));
        // The clock's own events still keep their order.
        let e = step(
            &mut c,
            Step::Pause {
                reason: "which account".into(),
            },
            "2024-09-05",
        )
        .unwrap_err();
        assert!(
            e.why
                .contains("before the case's last step (verified, 2024-09-06)"),
            "{e}"
        );
    }

    #[test]
    fn notices_are_recorded_once_after_their_occasion_and_owed_until_then() {
        use crate::domain::notice::{notices_owed, Letter};
        let mut c = open("2024-09-03");
        let sent = |letter| Step::NoticeSent {
            letter,
            via: Channel::Email,
        };
        let e = step(&mut c, sent(Letter::IdRequest), "2024-09-03").unwrap_err();
        assert!(e.why.contains("no ID was requested"), "{e}");
        step(
            &mut c,
            Step::RequestId {
                note: String::new(),
            },
            "2024-09-03",
        )
        .unwrap();
        assert_eq!(
            notices_owed(&c, &cal()).len(),
            1,
            "{:?}",
            notices_owed(&c, &cal())
        );
        step(&mut c, sent(Letter::IdRequest), "2024-09-03").unwrap();
        assert!(notices_owed(&c, &cal()).is_empty());
        let e = step(&mut c, sent(Letter::IdRequest), "2024-09-04").unwrap_err();
        assert!(
            e.why.contains("already recorded as sent on 2024-09-03"),
            "{e}"
        );
        let e = step(&mut c, sent(Letter::Response), "2024-09-04").unwrap_err();
        assert!(e.why.contains("recorded when the case is closed"), "{e}");
        step(&mut c, verify(), "2024-09-05").unwrap();
        step(
            &mut c,
            Step::Extend {
                reason: "eleven systems to search".into(),
            },
            "2024-09-20",
        )
        .unwrap();
        let owed = notices_owed(&c, &cal());
        assert!(owed[0].starts_with("the extension notice"), "{owed:?}");
        // Sent after the first month: owed no more, but late (Art. 12(3)).
        step(&mut c, sent(Letter::Extension), "2024-10-08").unwrap();
        let owed = notices_owed(&c, &cal());
        assert!(owed[0].contains("after the first month ended"), "{owed:?}");
    }

    #[test]
    fn failed_verification_is_recorded_but_does_not_start_work() {
        let mut c = open("2024-09-03");
        step(
            &mut c,
            Step::Verify {
                method: VerificationMethod::CallBack,
                outcome: VerificationOutcome::Failed,
                note: "number on file unanswered".into(),
            },
            "2024-09-04",
        )
        .unwrap();
        assert_eq!(c.state, State::Received);
        assert_eq!(c.verifications.len(), 1);
        assert!(c.verified().is_none());
    }

    #[test]
    fn ready_is_refused_while_tasks_are_pending() {
        let mut c = open("2024-09-03");
        step(&mut c, verify(), "2024-09-03").unwrap();
        step(
            &mut c,
            Step::RecordTask {
                source: "crm".into(),
                action: None,
                status: TaskStatus::Pending,
                note: String::new(),
            },
            "2024-09-03",
        )
        .unwrap();
        let e = step(&mut c, Step::MarkReady, "2024-09-04").unwrap_err();
        assert!(e.why.contains("crm"), "{e}");
        let e = step(
            &mut c,
            Step::RecordTask {
                source: "invoicing".into(),
                action: Some("erase".into()),
                status: TaskStatus::Exempt,
                note: String::new(),
            },
            "2024-09-04",
        )
        .unwrap_err();
        assert!(e.why.contains("legal basis"), "{e}");
    }

    fn task(source: &str, action: Option<&str>, status: TaskStatus) -> Step {
        Step::RecordTask {
            source: source.into(),
            action: action.map(str::to_string),
            status,
            note: "searched by e-mail".into(),
        }
    }

    #[test]
    fn work_recorded_done_or_not_found_says_what_was_done() {
        let mut c = open("2024-09-03");
        step(&mut c, verify(), "2024-09-03").unwrap();
        for status in [TaskStatus::Done, TaskStatus::NotFound] {
            let e = step(
                &mut c,
                Step::RecordTask {
                    source: "web-forms".into(),
                    action: None,
                    status,
                    note: "  ".into(),
                },
                "2024-09-04",
            )
            .unwrap_err();
            assert!(e.why.contains("evidence"), "{e}");
        }
        assert!(c.tasks.is_empty(), "nothing recorded");
    }

    #[test]
    fn a_step_completes_the_planned_task_of_its_source() {
        let mut c = open("2024-09-03");
        step(&mut c, verify(), "2024-09-03").unwrap();
        // The plan's task, then "done" from the shell without an action.
        step(
            &mut c,
            task("web-forms", Some("search and erase"), TaskStatus::Pending),
            "2024-09-03",
        )
        .unwrap();
        step(
            &mut c,
            task("web-forms", None, TaskStatus::Done),
            "2024-09-04",
        )
        .unwrap();
        assert_eq!(c.tasks.len(), 1, "{:?}", c.tasks);
        assert_eq!(c.tasks[0].action, "search and erase");
        assert_eq!(c.tasks[0].status, TaskStatus::Done);
        step(&mut c, Step::MarkReady, "2024-09-04").unwrap();
    }

    #[test]
    fn a_source_with_several_tasks_needs_the_action_named() {
        let mut c = open("2024-09-03");
        step(&mut c, verify(), "2024-09-03").unwrap();
        step(
            &mut c,
            task("crm", Some("erase"), TaskStatus::Pending),
            "2024-09-03",
        )
        .unwrap();
        step(
            &mut c,
            task("crm", Some("notify recipient"), TaskStatus::Pending),
            "2024-09-03",
        )
        .unwrap();
        let e = step(&mut c, task("crm", None, TaskStatus::Done), "2024-09-04").unwrap_err();
        assert!(
            e.why.contains("'erase'") && e.why.contains("'notify recipient'"),
            "{e}"
        );
        step(
            &mut c,
            task("crm", Some("erase"), TaskStatus::Done),
            "2024-09-04",
        )
        .unwrap();
        assert_eq!(c.tasks.len(), 2);
    }

    #[test]
    fn backdating_before_receipt_or_the_last_step_is_refused() {
        let mut c = open("2024-09-03");
        assert!(step(&mut c, verify(), "2024-09-02").is_err());
        step(
            &mut c,
            Step::RequestId {
                note: String::new(),
            },
            "2024-09-05",
        )
        .unwrap();
        assert!(step(&mut c, verify(), "2024-09-04").is_err());
    }

    #[test]
    fn awaiting_clarification_case_cannot_be_fulfilled_until_resumed() {
        let mut c = open("2024-09-03");
        step(&mut c, verify(), "2024-09-03").unwrap();
        step(
            &mut c,
            Step::Pause {
                reason: "which account?".into(),
            },
            "2024-09-04",
        )
        .unwrap();
        let e = step(&mut c, close(Outcome::Fulfilled), "2024-09-05").unwrap_err();
        assert!(e.why.contains("resume it first"), "{e}");
        step(&mut c, close(Outcome::Withdrawn), "2024-09-05").unwrap();
    }

    #[test]
    fn a_plan_adds_pending_work_once_and_dropping_needs_a_reason() {
        let mut c = open("2024-09-03");
        let t = |src: &str| PlannedRef {
            source: src.into(),
            action: "erase".into(),
        };
        let e = step(
            &mut c,
            Step::Plan {
                tasks: vec![t("customers")],
            },
            "2024-09-03",
        )
        .unwrap_err();
        assert!(e.why.contains("identity"), "{e}");
        step(&mut c, verify(), "2024-09-03").unwrap();
        step(
            &mut c,
            Step::Plan {
                tasks: vec![t("customers"), t("events")],
            },
            "2024-09-04",
        )
        .unwrap();
        assert_eq!(c.pending_tasks().count(), 2);
        let e = step(
            &mut c,
            Step::Plan {
                tasks: vec![t("events")],
            },
            "2024-09-04",
        )
        .unwrap_err();
        assert!(e.why.contains("already"), "{e}");
        let drop = |note: &str| Step::RecordTask {
            source: "events".into(),
            action: Some("erase".into()),
            status: TaskStatus::Dropped,
            note: note.into(),
        };
        assert!(step(&mut c, drop(" "), "2024-09-05").is_err());
        step(&mut c, drop("never attended an event"), "2024-09-05").unwrap();
        // A dropped task is not pending work.
        assert_eq!(c.pending_tasks().count(), 1);
    }

    #[test]
    fn lifting_a_restriction_needs_the_subject_told_first() {
        let mut c = open("2024-09-03");
        c.rights.push(Right::Restriction);
        let lift_early = Step::LiftRestriction {
            told_on: d("2024-09-03"),
            how: "letter".into(),
            reason: "early".into(),
        };
        // Never put in place: not before verification, nor before the plan.
        assert!(step(&mut c, lift_early.clone(), "2024-09-03").is_err());
        step(&mut c, verify(), "2024-09-03").unwrap();
        assert!(step(&mut c, lift_early, "2024-09-03").is_err());
        step(
            &mut c,
            Step::Plan {
                tasks: vec![PlannedRef {
                    source: "web-forms".into(),
                    action: "search and mark restricted".into(),
                }],
            },
            "2024-09-04",
        )
        .unwrap();
        step(
            &mut c,
            Step::RecordTask {
                source: "web-forms".into(),
                action: None,
                status: TaskStatus::Done,
                note: "searched by e-mail".into(),
            },
            "2024-09-05",
        )
        .unwrap();
        step(&mut c, close(Outcome::Fulfilled), "2024-09-10").unwrap();
        let lift_why = |told: &str, reason: &str| Step::LiftRestriction {
            told_on: d(told),
            how: "letter".into(),
            reason: reason.into(),
        };
        let lift = |told: &str| lift_why(told, "accuracy confirmed");
        let e = step(&mut c, lift("2024-10-02"), "2024-10-01").unwrap_err();
        assert!(e.why.contains("told before"), "{e}");
        // The subject is told why, so the reason is required.
        assert!(step(&mut c, lift_why("2024-09-30", " "), "2024-10-01").is_err());
        step(&mut c, lift("2024-09-30"), "2024-10-01").unwrap();
        assert_eq!(c.restriction_lifted(), Some(d("2024-10-01")));
        assert!(step(&mut c, lift("2024-09-30"), "2024-10-02").is_err());
    }

    #[test]
    fn rectification_records_old_and_new_and_refuses_no_change() {
        let mut c = open("2024-09-03");
        c.rights = vec![Right::Rectification];
        step(&mut c, verify(), "2024-09-03").unwrap();
        let r = |old: &str, new: &str| Step::Rectify {
            field: "postal address".into(),
            old: old.into(),
            new: new.into(),
            reason: "moved house".into(),
        };
        assert!(step(&mut c, r("1 Main St", "1 Main St"), "2024-09-04").is_err());
        step(&mut c, r("1 Main St", "2 High St"), "2024-09-04").unwrap();
        assert!(matches!(
            c.history.last().unwrap().action,
            Action::Rectified { .. }
        ));
    }

    #[test]
    fn only_a_closed_erasure_case_is_pseudonymised_and_only_once() {
        let mut c = open("2024-09-03");
        c.records = vec!["customers:juergen@example.com".into()];
        step(&mut c, verify(), "2024-09-03").unwrap();
        let p = || Step::Pseudonymise {
            hashes: vec!["ab".into()],
        };
        assert!(step(&mut c, p(), "2024-09-04").is_err());
        step(&mut c, close(Outcome::Fulfilled), "2024-09-10").unwrap();
        step(&mut c, p(), "2024-09-10").unwrap();
        assert_eq!(c.subject.emails, ["hash:ab"]);
        assert!(c.subject.phones.is_empty());
        assert_eq!(c.records, ["customers:(erased)"]);
        assert!(step(&mut c, p(), "2024-09-10").is_err());
    }

    #[test]
    fn a_task_step_completes_the_sources_one_pending_task_and_names_the_choice_when_there_are_several(
    ) {
        use crate::domain::testkit::{opened, step_on, verify};
        let mut c = opened(1, &[Right::Objection], Channel::Email, "2026-11-02");
        step_on(&mut c, verify(), "2026-11-02").unwrap();
        let plan = |a: &str| PlannedRef {
            source: "marketing".into(),
            action: a.into(),
        };
        let task = |action: Option<&str>| Step::RecordTask {
            source: "marketing".into(),
            action: action.map(str::to_string),
            status: TaskStatus::Done,
            note: "searched by e-mail".into(),
        };
        step_on(
            &mut c,
            Step::Plan {
                tasks: vec![
                    plan("add to suppression list"),
                    plan("unsubscribe"),
                    plan("stop ads"),
                ],
            },
            "2026-11-03",
        )
        .unwrap();
        // Two still to do: the step must say which, and lists them.
        let why = step_on(&mut c, task(None), "2026-11-03").unwrap_err().why;
        assert!(
            why.contains("'unsubscribe'") && why.contains("'stop ads'") && why.contains("--action"),
            "{why}"
        );
        step_on(&mut c, task(Some("add to suppression list")), "2026-11-03").unwrap();
        step_on(&mut c, task(Some("stop ads")), "2026-11-03").unwrap();
        // One left to do: done tasks do not make it ambiguous.
        step_on(&mut c, task(None), "2026-11-04").unwrap();
        let marketing: Vec<_> = c.tasks.iter().filter(|t| t.source == "marketing").collect();
        assert_eq!(marketing.len(), 3, "completed, not added: {marketing:?}");
        assert!(marketing.iter().all(|t| t.status == TaskStatus::Done));
    }
}

#[cfg(test)]
mod likely_outcome_tests {
    use crate::domain::testkit::{opened, step_on, verify};
    use crate::domain::{Channel, Outcome, Right};

    #[test]
    fn a_close_starts_on_an_outcome_the_state_allows() {
        let mut c = opened(1, &[Right::Access], Channel::Email, "2026-11-02");
        assert_eq!(c.likely_outcome(), Outcome::RefusedIdentity, "unverified");
        assert!(!c.state_allows(Outcome::Fulfilled));
        step_on(&mut c, verify(), "2026-11-03").unwrap();
        assert_eq!(c.likely_outcome(), Outcome::Fulfilled);
        assert!(!c.state_allows(Outcome::RefusedIdentity));
    }
}
