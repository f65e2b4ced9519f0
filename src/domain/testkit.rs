//! Cases for the domain's own tests: opened by "alice", stepped on given days
//! with the Irish calendar.

use super::case::*;
use super::ids::CaseId;
use super::lifecycle::{NewCase, Refusal, Step, StepContext};
use super::right::Right;
use super::HolidayCalendar;
use chrono::{NaiveDate, TimeZone, Utc};

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn cal() -> HolidayCalendar {
    HolidayCalendar::builtin("ireland").unwrap()
}

/// Case `n` for Ana (ana@example.ie), asking `rights` by `channel`, received on `received`.
pub fn opened(n: u32, rights: &[Right], channel: Channel, received: &str) -> Case {
    let new = NewCase {
        rights: rights.to_vec(),
        channel,
        received: d(received),
        requester: Requester::subject(),
        child: false,
        subject: Subject {
            name: "Ana".into(),
            emails: vec!["ana@example.ie".into()],
            phones: vec![],
        },
        records: vec![],
        message: None,
    };
    let at = Utc.from_utc_datetime(&d(received).and_hms_opt(9, 0, 0).unwrap());
    new.validate(d(received))
        .unwrap()
        .open(CaseId::new(2026, n), "alice", at)
}

/// Takes `step` on the day `on`, as alice at 10:00.
pub fn step_on(c: &mut Case, step: Step, on: &str) -> Result<(), Refusal> {
    let cal = cal();
    let cx = StepContext {
        actor: "alice",
        at: Utc.from_utc_datetime(&d(on).and_hms_opt(10, 0, 0).unwrap()),
        on: d(on),
        calendar: &cal,
    };
    c.apply(step, &cx).map(|_| ())
}

pub fn verify() -> Step {
    Step::Verify {
        method: VerificationMethod::KnownDetails,
        outcome: VerificationOutcome::Verified,
        note: String::new(),
    }
}
