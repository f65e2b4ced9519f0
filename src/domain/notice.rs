//! The letters a case sends: the response that closes it (for a refused
//! case, the Art. 12(4) refusal) and the notices on the way — the request
//! for identity, the request for clarification and the Art. 12(3)
//! extension notice — with which of them a case owes and never sent.

use super::case::{Action, Case, CaseEvent, Channel, Relation, State};
use super::named::named_enum;
use super::response::{authority, contact, Report, Section};
use super::settings::Settings;
use super::HolidayCalendar;
use chrono::{Days, NaiveDate};

named_enum!(
    /// A letter a case sends.
    Letter {
        Response => "response",
        IdRequest => "id-request",
        Clarification => "clarification",
        Extension => "extension",
        FeeRequest => "fee-request",
    }
);

/// How long the person has to send proof of identity before a request may
/// be refused for want of it (stated in the request for identity).
pub const ID_REPLY_DAYS: u64 = 30;

impl Letter {
    /// The notices whose sending is recorded on the case (the response's
    /// day and channel are recorded when the case is closed).
    pub const NOTICES: &'static [Letter] = &[
        Letter::IdRequest,
        Letter::Clarification,
        Letter::Extension,
        Letter::FeeRequest,
    ];

    /// In words, for lists and refusals.
    pub fn describe(self) -> &'static str {
        match self {
            Letter::Response => "the response",
            Letter::IdRequest => "the request for identity",
            Letter::Clarification => "the request for clarification",
            Letter::Extension => "the extension notice",
            Letter::FeeRequest => "the request for a fee",
        }
    }

    /// The step the notice follows, as it stands in the case's history: the
    /// latest, since a case may pause more than once.
    pub fn occasion(self, case: &Case) -> Option<&CaseEvent> {
        case.history.iter().rev().find(|e| {
            matches!(
                (self, &e.action),
                (Letter::IdRequest, Action::IdRequested { .. })
                    | (Letter::Clarification, Action::Paused { .. })
                    | (Letter::Extension, Action::Extended { .. })
                    | (Letter::FeeRequest, Action::FeeRequested { .. })
            )
        })
    }

    /// Why the letter cannot be written for this case yet, if it cannot:
    /// the response once the case is ready or closed, a notice once the
    /// case had occasion for it.
    pub fn not_yet(self, case: &Case) -> Option<String> {
        let missing = match self {
            Letter::Response => {
                if matches!(case.state, State::ReadyToRespond | State::Closed) {
                    return None;
                }
                let on_the_way: Vec<&str> = Letter::NOTICES
                    .iter()
                    .filter(|l| l.occasion(case).is_some())
                    .map(|l| l.as_str())
                    .collect();
                return Some(format!(
                    "the response is written once the case is ready to respond or closed; it is {}{}",
                    case.state,
                    if on_the_way.is_empty() {
                        String::new()
                    } else {
                        format!(" (the letters on the way: {})", on_the_way.join(", "))
                    }
                ));
            }
            Letter::IdRequest => "no ID was requested on this case",
            Letter::Clarification => "the case never waited for clarification",
            Letter::Extension => "the time to answer was not extended",
            Letter::FeeRequest => "no fee was asked for on this case",
        };
        self.occasion(case).is_none().then(|| missing.to_string())
    }
}

impl Case {
    /// The letters this case has now, in order (the response last).
    pub fn letters(&self) -> Vec<Letter> {
        [
            Letter::IdRequest,
            Letter::Clarification,
            Letter::Extension,
            Letter::FeeRequest,
            Letter::Response,
        ]
        .into_iter()
        .filter(|l| l.not_yet(self).is_none())
        .collect()
    }

    /// When each notice went out and how: (the event, the letter, the channel).
    pub fn notices_sent(&self) -> Vec<(&CaseEvent, Letter, Channel)> {
        self.history
            .iter()
            .filter_map(|e| match &e.action {
                Action::NoticeSent { letter, via } => Some((e, *letter, *via)),
                _ => None,
            })
            .collect()
    }

    /// The notice sent after the latest occasion for it, if it was.
    pub fn notice_sent(&self, letter: Letter) -> Option<(&CaseEvent, Channel)> {
        let occasion = letter.occasion(self)?;
        let mut after = false;
        let mut found = None;
        for e in &self.history {
            if std::ptr::eq(e, occasion) {
                after = true;
            }
            if let Action::NoticeSent { letter: l, via } = &e.action {
                if after && *l == letter {
                    found = Some((e, *via));
                }
            }
        }
        found
    }
}

/// The notices the case owed and never sent, or sent late, in words for the
/// close form and `case close` (a warning: the case may still be closed).
pub fn notices_owed(case: &Case, cal: &HolidayCalendar) -> Vec<String> {
    let mut out = Vec::new();
    for &letter in Letter::NOTICES {
        let Some(occasion) = letter.occasion(case) else {
            continue;
        };
        match case.notice_sent(letter) {
            None => out.push(format!(
                "{} of {}: not recorded as sent",
                letter.describe(),
                occasion.on
            )),
            Some((sent, _)) if letter == Letter::Extension => {
                // Art. 12(3): the person is told within one month of receipt.
                if let Some(due) = case.clock(cal, sent.on).due {
                    if sent.on > due {
                        out.push(format!(
                            "the extension notice went out on {}, after the first month ended ({due}); Art. 12(3) asks for it within the month",
                            sent.on
                        ));
                    }
                }
            }
            Some(_) => {}
        }
    }
    out
}

/// The day a letter bears: the day it went out where that is recorded (a
/// notice sent, the response of a closed case), else `today` (a draft).
pub fn letter_day(case: &Case, letter: Letter, today: NaiveDate) -> NaiveDate {
    match letter {
        Letter::Response => case.closure.as_ref().map_or(today, |c| c.responded()),
        notice => case.notice_sent(notice).map_or(today, |(e, _)| e.on),
    }
}

/// The letter with its date as its first line.
pub fn dated(mut report: Report, day: NaiveDate) -> Report {
    let line = super::notice::day(day);
    match report.sections.first_mut() {
        Some(first) => first.lines.insert(0, line),
        None => report.sections.push(Section {
            heading: String::new(),
            lines: vec![line],
        }),
    }
    report
}

/// The organisation's own words at the end of every letter (settings
/// `letter_sign_off`, `letter_footer`), one line of the letter per line.
/// The sentences that state the law stay the desk's: a wrong edit there
/// would tell the subject something untrue.
pub fn signed(mut report: Report, settings: &Settings) -> Report {
    for (heading, text) in [
        ("", settings.letter_sign_off.as_str()),
        ("", settings.letter_footer.as_str()),
    ] {
        let lines: Vec<String> = text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        if !lines.is_empty() {
            report.sections.push(Section {
                heading: heading.into(),
                lines,
            });
        }
    }
    report
}

/// Free text set inside a sentence: without the full stop or question
/// mark it may end with, so the sentence does not end twice ("?.").
pub(super) fn clause(text: &str) -> &str {
    text.trim()
        .trim_end_matches(['.', '?', '!', ';', ':'])
        .trim_end()
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn opening(case: &Case, settings: &Settings) -> Section {
    let t = &settings.letters;
    let rights = case
        .rights
        .iter()
        .map(|r| format!("{} under {}", r.words(), r.article()))
        .collect::<Vec<_>>()
        .join(", ");
    let (dear, whose) = super::response::addressee(case, t);
    Section {
        heading: t.text("opening.heading"),
        lines: vec![t.fill(
            "opening.text",
            &[
                ("dear", &dear),
                ("whose", &whose),
                ("case", &case.id.to_string()),
                ("received", &day(case.received)),
                ("rights", &rights),
            ],
        )],
    }
}

pub(super) fn your_rights(settings: &Settings) -> Section {
    let t = &settings.letters;
    Section {
        heading: t.text("your_rights.heading"),
        lines: vec![t.fill(
            "your_rights.text",
            &[
                ("authority", authority(settings)),
                ("dpo", contact(settings)),
            ],
        )],
    }
}

/// A notice on the way (`Letter::Response` is `response::closing_letter`).
/// Err says why the case has no such notice to send. Its sentences are the
/// organisation's (`settings.letters`).
pub fn notice_letter(
    case: &Case,
    letter: Letter,
    settings: &Settings,
    cal: &HolidayCalendar,
) -> Result<Report, String> {
    if let Some(why) = letter.not_yet(case) {
        return Err(why);
    }
    let occasion = letter.occasion(case).ok_or("no occasion")?;
    let t = &settings.letters;
    let org = settings.organisation.as_str();
    let id = &case.id.to_string();
    let mut sections = vec![opening(case, settings)];
    let title = match letter {
        Letter::Response => return Err("the response is the closing letter".into()),
        Letter::IdRequest => {
            // Whose details: the subject's, also when a parent or agent asks.
            let whose = case.subject.name.as_str();
            // Only the ways open with what the case holds of the person.
            let for_another = case.requester.on_behalf().is_some();
            // "the address we already hold for you" / "… for Ana García"
            let whose_own = |key: &str| match for_another {
                false => t.text(key),
                true => t.fill(&format!("{key}_for_another"), &[("whose", whose)]),
            };
            let mut accepted = Vec::new();
            if !case.subject.emails.is_empty() {
                accepted.push(whose_own("id_request.accept_email"));
            }
            accepted.push(t.text("id_request.accept_details"));
            if !case.subject.phones.is_empty() {
                accepted.push(whose_own("id_request.accept_phone"));
            }
            accepted.push(t.text("id_request.accept_document"));
            match case.requester.relation {
                Relation::Subject => {}
                Relation::Parent => accepted.push(t.text("id_request.accept_parent")),
                _ => accepted.push(t.text("id_request.accept_agent")),
            }
            sections.push(Section {
                heading: t.text("id_request.why_heading"),
                lines: vec![match for_another {
                    false => t.text("id_request.why"),
                    true => t.fill("id_request.why_for_another", &[("whose", whose)]),
                }],
            });
            sections.push(Section {
                heading: t.text("id_request.accepted_heading"),
                lines: accepted,
            });
            // The time allowed runs from the day the letter went out.
            let by = match case.notice_sent(Letter::IdRequest) {
                Some((sent, _)) => t.fill(
                    "id_request.by_date",
                    &[("date", &day(sent.on + Days::new(ID_REPLY_DAYS)))],
                ),
                None => t.fill(
                    "id_request.by_days",
                    &[("days", &ID_REPLY_DAYS.to_string())],
                ),
            };
            sections.push(Section {
                heading: t.text("id_request.time_heading"),
                lines: vec![t.fill("id_request.time", &[("by", &by)])],
            });
            t.fill("id_request.title", &[("org", org), ("case", id)])
        }
        Letter::Clarification => {
            let Action::Paused { reason } = &occasion.action else {
                return Err("no occasion".into());
            };
            sections.push(Section {
                heading: t.text("clarification.heading"),
                lines: vec![
                    t.fill("clarification.need", &[("question", clause(reason))]),
                    t.text("clarification.reply"),
                ],
            });
            sections.push(Section {
                heading: t.text("clarification.time_heading"),
                lines: vec![t.fill("clarification.time", &[("paused", &day(occasion.on))])],
            });
            t.fill("clarification.title", &[("org", org), ("case", id)])
        }
        Letter::Extension => {
            let Action::Extended { reason } = &occasion.action else {
                return Err("no occasion".into());
            };
            let clock = case.clock(cal, occasion.on);
            let mut lines = vec![t.fill("extension.why", &[("reason", clause(reason))])];
            if let Some(by) = clock.extended_due {
                lines.push(t.fill("extension.answer_by", &[("due", &day(by))]));
            }
            sections.push(Section {
                heading: t.text("extension.heading"),
                lines,
            });
            t.fill("extension.title", &[("org", org), ("case", id)])
        }
        Letter::FeeRequest => {
            let Action::FeeRequested { amount, reason } = &occasion.action else {
                return Err("no occasion".into());
            };
            sections.push(Section {
                heading: t.text("fee_request.heading"),
                lines: vec![
                    t.fill(
                        "fee_request.fee",
                        &[("amount", amount.as_str()), ("reason", clause(reason))],
                    ),
                    t.text("fee_request.time"),
                ],
            });
            t.fill("fee_request.title", &[("org", org), ("case", id)])
        }
    };
    sections.push(your_rights(settings));
    Ok(Report { title, sections })
}
