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

fn opening(case: &Case) -> Section {
    let rights = case
        .rights
        .iter()
        .map(|r| format!("{} under {}", r.words(), r.article()))
        .collect::<Vec<_>>()
        .join(", ");
    let (dear, whose) = super::response::addressee(case);
    Section {
        heading: "Your request".into(),
        lines: vec![format!(
            "Dear {dear}, we received {whose} {} on {}: {rights}.",
            case.id,
            day(case.received)
        )],
    }
}

fn your_rights(settings: &Settings) -> Section {
    Section {
        heading: "Your rights".into(),
        lines: vec![format!(
            "If you are not satisfied you may complain to the supervisory authority ({}) or seek a judicial remedy. Our Data Protection Officer can be reached at {}.",
            authority(settings),
            contact(settings)
        )],
    }
}

/// A notice on the way (`Letter::Response` is `response::closing_letter`).
/// Err says why the case has no such notice to send.
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
    let org = &settings.organisation;
    let mut sections = vec![opening(case)];
    let title = match letter {
        Letter::Response => return Err("the response is the closing letter".into()),
        Letter::IdRequest => {
            // Whose details: the subject's, also when a parent or agent asks.
            let whose = match case.requester.on_behalf() {
                None => "you".to_string(),
                Some(_) => case.subject.name.clone(),
            };
            // Only the ways open with what the case holds of the person.
            let mut accepted = Vec::new();
            if !case.subject.emails.is_empty() {
                accepted.push(format!(
                    "a reply to this letter from the e-mail address we already hold for {whose};"
                ));
            }
            accepted.push("answers to a few details we already hold about you;".into());
            if !case.subject.phones.is_empty() {
                accepted.push(format!(
                    "a call back on the phone number we already hold for {whose};"
                ));
            }
            accepted
                .push("an identity document shown to us: we look at it and keep no copy.".into());
            if case.requester.relation != Relation::Subject {
                accepted.push(
                    match case.requester.relation {
                        Relation::Parent => "As you ask for your child, also proof of your parental responsibility (or a court order).".into(),
                        _ => "As you act for someone else, also proof of your authority to do so (their signed authorisation, a power of attorney or a court order).".into(),
                    },
                );
            }
            sections.push(Section {
                heading: "Why we ask".into(),
                lines: vec![match case.requester.on_behalf() {
                    None => "Before we act on your request we must be sure that you are the person the data is about, so that we never give your data to someone else or change it at their word (Art. 12(6) GDPR). We ask only for what we need.".to_string(),
                    Some(_) => format!("Before we act on the request we must be sure that {whose} is the person the data is about and that you may act for them, so that we never give anyone's data to someone else (Art. 12(6) GDPR). We ask only for what we need."),
                }],
            });
            sections.push(Section {
                heading: "What we accept".into(),
                lines: accepted,
            });
            // The time allowed runs from the day the letter went out.
            let by = match case.notice_sent(Letter::IdRequest) {
                Some((sent, _)) => format!("by {}", day(sent.on + Days::new(ID_REPLY_DAYS))),
                None => format!("within {ID_REPLY_DAYS} days of the date of this letter"),
            };
            sections.push(Section {
                heading: "The time to answer".into(),
                lines: vec![format!(
                    "The month we have to answer your request starts on the day your proof reaches us; until then it does not run. If we have not heard from you {by}, we may close the request; you can make it again at any time."
                )],
            });
            format!("{org}: please confirm your identity (request {})", case.id)
        }
        Letter::Clarification => {
            let Action::Paused { reason } = &occasion.action else {
                return Err("no occasion".into());
            };
            sections.push(Section {
                heading: "What we need to know".into(),
                lines: vec![
                    format!(
                        "To answer your request we need you to tell us more: {}.",
                        clause(reason)
                    ),
                    "Please reply to this letter; you need not send anything else.".into(),
                ],
            });
            sections.push(Section {
                heading: "The time to answer".into(),
                lines: vec![format!(
                    "The time we have to answer is paused from {} until your reply reaches us, and then runs on.",
                    day(occasion.on)
                )],
            });
            format!("{org}: a question about your request {}", case.id)
        }
        Letter::Extension => {
            let Action::Extended { reason } = &occasion.action else {
                return Err("no occasion".into());
            };
            let clock = case.clock(cal, occasion.on);
            let mut lines = vec![format!(
                "We need more time to answer your request, because {}. The law allows two further months where a request is complex or we receive many (Art. 12(3) GDPR).",
                clause(reason)
            )];
            if let Some(by) = clock.extended_due {
                lines.push(format!("We will answer by {}.", day(by)));
            }
            sections.push(Section {
                heading: "Why we need more time".into(),
                lines,
            });
            format!("{org}: more time to answer your request {}", case.id)
        }
        Letter::FeeRequest => {
            let Action::FeeRequested { amount, reason } = &occasion.action else {
                return Err("no occasion".into());
            };
            sections.push(Section {
                heading: "A fee before we act".into(),
                lines: vec![
                    format!(
                        "We will act on your request once a reasonable fee of {amount} is paid, because {} (Art. 12(5)(a) GDPR allows a fee for a request that is manifestly unfounded or excessive).",
                        clause(reason)
                    ),
                    "The time we have to answer starts again on the day your payment reaches us; until then it does not run.".into(),
                ],
            });
            format!("{org}: a fee for your request {}", case.id)
        }
    };
    sections.push(your_rights(settings));
    Ok(Report { title, sections })
}
