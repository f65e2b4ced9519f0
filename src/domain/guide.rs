//! What staff can do to a case now, and what comes next.
//!
//! `Case::forbids` holds the rules of *when* a step may be taken (the
//! case's state, its rights, a fee awaited, the clock): `Case::apply` asks
//! it first, and the desk asks it before opening a form, so a form is never
//! opened for a step the rules would refuse, and the hint bar offers only
//! what applies. `Case::next_step` reads the case's state, tasks and gaps
//! and says what the officer should do next.

use super::case::{Action, Case, State, TaskStatus};
use super::closure::{open_gaps, KEY_BACKUP_MARKS, KEY_NO_WORK, KEY_PACKAGE};
use super::right::Right;
use super::text::counted;
use super::HolidayCalendar;
use chrono::NaiveDate;

/// Days after receipt beyond which asking for more ID is late.
pub const ID_PROMPT_DAYS: i64 = 7;

/// A step staff take on a case from the desk or the shell, named apart from
/// its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Move {
    Verify,
    RequestId,
    Plan,
    RecordTask,
    Rectify,
    ExportAccess,
    MarkReady,
    Letter,
    Close,
    Pause,
    Resume,
    Extend,
    Fee,
    Note,
    LiftRestriction,
}

impl Move {
    /// Every move, in the order the hint bar offers them after the next step.
    pub const ALL: [Move; 15] = [
        Move::Verify,
        Move::RequestId,
        Move::Plan,
        Move::RecordTask,
        Move::Rectify,
        Move::ExportAccess,
        Move::MarkReady,
        Move::Letter,
        Move::Close,
        Move::Pause,
        Move::Resume,
        Move::Extend,
        Move::Fee,
        Move::Note,
        Move::LiftRestriction,
    ];
}

/// What comes next on a case: what it waits for, if anything, and the
/// moves that take it on (the first is the one to take).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NextStep {
    pub waiting: Option<String>,
    pub moves: Vec<(Move, String)>,
}

impl Case {
    /// Why the rules forbid `mv` on this case on `on`, or `None` when it may
    /// be taken (its arguments are checked by `apply`).
    pub fn forbids(&self, mv: Move, cal: &HolidayCalendar, on: NaiveDate) -> Option<String> {
        match mv {
            // A note and the letters stay open after closure.
            Move::Note | Move::Letter => return None,
            Move::LiftRestriction => return self.lift_refusal(),
            _ => {}
        }
        if let Some(why) = self.closed_refusal() {
            return Some(why);
        }
        let state = self.state;
        let work = |states: &[State], what: &str| {
            self.fee_blocks_work().or_else(|| {
                (!states.contains(&state)).then(|| format!("{what}; the case is {state}"))
            })
        };
        match mv {
            Move::Note | Move::Letter | Move::LiftRestriction | Move::Close => None,
            Move::RequestId => match state {
                State::Received => None,
                State::AwaitingIdentity => {
                    Some("ID has already been requested and not yet received".into())
                }
                _ => Some("identity is already verified".into()),
            },
            Move::Verify => {
                (!matches!(state, State::Received | State::AwaitingIdentity)).then(|| {
                    let when = self
                        .verified()
                        .map(|v| format!(" on {} by {}", v.on, v.by))
                        .unwrap_or_default();
                    format!("identity is already verified{when}")
                })
            }
            Move::Pause => (state != State::InProgress).then(|| {
                format!("only a case in progress can wait for clarification; it is {state}")
            }),
            Move::Resume => (state != State::AwaitingClarification)
                .then(|| format!("it is not paused; it is {state}")),
            Move::Extend => self.clock(cal, on).extension_refusal(on),
            Move::Fee => match self.fee_awaited() {
                Some(_) => None, // the move records it paid
                None => self.fee_request_refusal(),
            },
            Move::RecordTask => work(
                &[
                    State::InProgress,
                    State::AwaitingClarification,
                    State::ReadyToRespond,
                ],
                "work starts once identity is verified",
            ),
            Move::Plan => work(
                &[State::InProgress, State::AwaitingClarification],
                "tasks are planned once identity is verified and before the response",
            ),
            Move::Rectify => {
                if !self.rights.contains(&Right::Rectification) {
                    return Some("the case does not ask for rectification".into());
                }
                work(
                    &[State::InProgress, State::AwaitingClarification],
                    "work starts once identity is verified",
                )
            }
            Move::MarkReady => {
                if let Some(why) = self.fee_blocks_work() {
                    return Some(why);
                }
                if state != State::InProgress {
                    return Some(format!(
                        "only a case in progress can be made ready; it is {state}"
                    ));
                }
                let pending: Vec<_> = self.pending_tasks().map(|t| t.source.as_str()).collect();
                if self.tasks.is_empty() {
                    return Some(
                        "no work is recorded yet: propose the tasks for each source, or record the work in each, first"
                            .into(),
                    );
                }
                (!pending.is_empty())
                    .then(|| format!("tasks still pending in: {}", pending.join(", ")))
            }
            Move::ExportAccess => {
                if !self.wants_package() {
                    Some("only an access or portability case sends a package".into())
                } else if self.verified().is_none() {
                    Some(
                        "identity is not verified: the package goes only to the verified person"
                            .into(),
                    )
                } else {
                    None
                }
            }
        }
    }

    /// The moves to offer now, in `Move::ALL`'s order: those the rules
    /// allow, less planning once the plan's work is on the case (it would
    /// add nothing; it stays allowed, for a source found since).
    pub fn moves(&self, cal: &HolidayCalendar, on: NaiveDate) -> Vec<Move> {
        let gaps = open_gaps(self);
        let plan_adds = self.tasks.is_empty()
            || gaps
                .iter()
                .any(|g| g.key == KEY_NO_WORK || g.key == KEY_BACKUP_MARKS);
        Move::ALL
            .into_iter()
            .filter(|m| *m != Move::Plan || plan_adds)
            .filter(|m| self.forbids(*m, cal, on).is_none())
            .collect()
    }

    /// Art. 12(5)(a): with a fee asked and not paid, the work waits.
    pub(crate) fn fee_blocks_work(&self) -> Option<String> {
        self.fee_awaited().map(|(on, amount, _)| format!(
            "the fee of {amount} asked on {on} is not yet paid: the work waits until it is (record it paid first), or close the request as refused or withdrawn"
        ))
    }

    /// Why a fee cannot be asked now: only once, while the work goes on.
    pub(crate) fn fee_request_refusal(&self) -> Option<String> {
        if !matches!(self.state, State::InProgress | State::AwaitingClarification) {
            return Some(format!(
                "a fee is asked once identity is verified and before the response; the case is {}",
                self.state
            ));
        }
        self.history
            .iter()
            .find(|e| matches!(e.action, Action::FeeRequested { .. }))
            .map(|e| {
                format!(
                    "a fee was already asked for on {} (one fee per request)",
                    e.on
                )
            })
    }

    /// Why a restriction cannot be lifted now: it must have been asked for,
    /// put in place (the person verified, each source marked), and not yet
    /// lifted. A closed case may still lift it.
    pub(crate) fn lift_refusal(&self) -> Option<String> {
        if !self.rights.contains(&Right::Restriction) {
            return Some("the case does not ask for restriction".into());
        }
        if let Some(day) = self.restriction_lifted() {
            return Some(format!("the restriction was already lifted on {day}"));
        }
        if self.verified().is_none() {
            return Some("the restriction was never put in place: identity is not verified".into());
        }
        if !self
            .tasks
            .iter()
            .any(|t| t.action.contains("mark restricted"))
        {
            return Some(
                "the restriction was never put in place: accept the plan and mark each source first"
                    .into(),
            );
        }
        let mut unmarked: Vec<&str> = self
            .pending_tasks()
            .filter(|t| t.action.contains("mark restricted"))
            .map(|t| t.source.as_str())
            .collect();
        unmarked.dedup();
        (!unmarked.is_empty()).then(|| format!(
            "the restriction is not yet recorded as in place in {} ({}): record each (done, not-found, or dropped with a reason) before lifting it",
            counted(unmarked.len(), "source", "sources"),
            unmarked.join(", ")
        ))
    }

    /// A word when more ID is asked for late: it should be asked for at
    /// once, and the month starts again only when the ID arrives, so a late
    /// ask delays the answer by as long.
    pub fn late_id_request(&self, on: NaiveDate) -> Option<String> {
        let days = (on - self.received).num_days();
        (days > ID_PROMPT_DAYS).then(|| {
            format!(
                "asked {} after the request came ({}): ID should be asked for at once. The month starts again only when the ID arrives, so the answer comes that much later; record the day it was really asked, or verify with what you have",
                counted(usize::try_from(days).unwrap_or(0), "day", "days"),
                self.received
            )
        })
    }

    /// What the officer should do next, read from the state, the tasks and
    /// the work still open; a letter owed and not recorded as sent (the ID
    /// request, the question, the extension notice) comes first.
    pub fn next_step(&self, cal: &HolidayCalendar, on: NaiveDate) -> NextStep {
        let mut next = self.next_work(cal, on);
        if self.state.is_open() && !super::notice::notices_owed(self, cal).is_empty() {
            next.moves.insert(
                0,
                (
                    Move::Letter,
                    "send the letter owed and record it sent".to_string(),
                ),
            );
            if let Some((_, what)) = next.moves.get_mut(1) {
                *what = format!("then {what}");
            }
        }
        next
    }

    fn next_work(&self, cal: &HolidayCalendar, on: NaiveDate) -> NextStep {
        let step = |m: Move, what: &str| (m, what.to_string());
        let last_on = |f: fn(&Action) -> bool| {
            self.history
                .iter()
                .rev()
                .find(|e| f(&e.action))
                .map(|e| e.on)
        };
        match self.state {
            State::Closed => {
                if self.lift_refusal().is_none() {
                    return NextStep {
                        waiting: Some("closed; the restriction stays until lifted".into()),
                        moves: vec![step(
                            Move::LiftRestriction,
                            "lift it once the subject is told",
                        )],
                    };
                }
                NextStep {
                    waiting: Some("closed: nothing left to do".into()),
                    moves: vec![step(Move::Note, "a note can still be added")],
                }
            }
            State::Received => NextStep {
                waiting: None,
                moves: vec![
                    step(Move::Verify, "verify identity"),
                    step(Move::RequestId, "or ask for more ID"),
                ],
            },
            State::AwaitingIdentity => NextStep {
                waiting: Some(match last_on(|a| matches!(a, Action::IdRequested { .. })) {
                    Some(d) => format!("waiting for ID asked for on {d}; the clock waits"),
                    None => "waiting for ID; the clock waits".into(),
                }),
                moves: vec![step(Move::Verify, "verify it when it arrives")],
            },
            State::AwaitingClarification => NextStep {
                waiting: Some(match last_on(|a| matches!(a, Action::Paused { .. })) {
                    Some(d) => format!("waiting for the requester's clarification, asked on {d}"),
                    None => "waiting for the requester's clarification".into(),
                }),
                moves: vec![step(Move::Resume, "resume when it comes")],
            },
            State::InProgress | State::ReadyToRespond => {
                if let Some((asked, amount, _)) = self.fee_awaited() {
                    return NextStep {
                        waiting: Some(format!(
                            "the fee of {amount} asked on {asked} is not paid; the work waits"
                        )),
                        moves: vec![step(Move::Fee, "record it paid")],
                    };
                }
                let mut pending: Vec<&str> = self
                    .tasks
                    .iter()
                    .filter(|t| t.status == TaskStatus::Pending)
                    .map(|t| t.source.as_str())
                    .collect();
                pending.sort_unstable();
                pending.dedup();
                if !pending.is_empty() {
                    return NextStep {
                        waiting: None,
                        moves: vec![step(
                            Move::RecordTask,
                            &match pending.len() {
                                1 => format!("record the work in {}", pending[0]),
                                n @ 2..=3 => {
                                    format!(
                                        "record the work in {n} sources: {}",
                                        pending.join(", ")
                                    )
                                }
                                n => format!("record the work in {n} sources"),
                            },
                        )],
                    };
                }
                let gaps = open_gaps(self);
                let gap = |k: &str| gaps.iter().any(|g| g.key == k);
                if self.tasks.is_empty() || gap(KEY_NO_WORK) || gap(KEY_BACKUP_MARKS) {
                    let what = if gap(KEY_BACKUP_MARKS) && !self.tasks.is_empty() {
                        "accept the plan: it marks the backups for re-erasure"
                    } else {
                        "propose the tasks for each source"
                    };
                    if self.forbids(Move::Plan, cal, on).is_none() {
                        return NextStep {
                            waiting: None,
                            moves: vec![step(Move::Plan, what)],
                        };
                    }
                }
                if gap(KEY_PACKAGE) {
                    return NextStep {
                        waiting: None,
                        moves: vec![
                            step(Move::ExportAccess, "send the access package"),
                            step(Move::Close, "then close"),
                        ],
                    };
                }
                if self.state == State::InProgress {
                    return NextStep {
                        waiting: None,
                        moves: vec![
                            step(Move::MarkReady, "mark ready to respond"),
                            step(Move::Close, "or close with the response"),
                        ],
                    };
                }
                NextStep {
                    waiting: None,
                    moves: vec![
                        step(Move::Letter, "send the response"),
                        step(Move::Close, "then close"),
                    ],
                }
            }
        }
    }
}

/// What the desk shows of a case's way on: the next step and every move
/// the rules allow now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Guide {
    pub next: NextStep,
    pub moves: Vec<Move>,
}

impl Case {
    pub fn guide(&self, cal: &HolidayCalendar, on: NaiveDate) -> Guide {
        Guide {
            next: self.next_step(cal, on),
            moves: self.moves(cal, on),
        }
    }
}

impl Move {
    /// The move's name in JSON and in the shell's words.
    pub fn name(self) -> &'static str {
        match self {
            Move::Verify => "verify",
            Move::RequestId => "request-id",
            Move::Plan => "plan",
            Move::RecordTask => "task",
            Move::Rectify => "rectify",
            Move::ExportAccess => "export-access",
            Move::MarkReady => "ready",
            Move::Letter => "letter",
            Move::Close => "close",
            Move::Pause => "pause",
            Move::Resume => "resume",
            Move::Extend => "extend",
            Move::Fee => "fee",
            Move::Note => "note",
            Move::LiftRestriction => "lift-restriction",
        }
    }
}
