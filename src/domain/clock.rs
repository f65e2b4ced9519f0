//! The legal clock of GDPR Art. 12(3), counted as the regulators count it.
//!
//! The clock is a pure function of a case's dated events; nothing like "days
//! left" is ever stored. Rules (README, "The legal clock"):
//! - the period starts on the day the request is received, whatever the hour,
//!   or on the day requested ID (or a fee) arrives, whichever is latest;
//! - due = the same date in the next month, else that month's last day;
//! - days paused awaiting clarification push the due date out;
//! - a weekend or public holiday rolls to the next working day;
//! - an extension makes it three months from the same start, same rules, and
//!   must be made before the first month ends.

use super::calendar::HolidayCalendar;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// What happened to a case, as far as the clock cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClockEvent {
    Received(NaiveDate),
    /// More ID (or a fee) was asked for: the clock stops.
    IdRequested(NaiveDate),
    /// The ID or fee arrived: the period starts again from this day.
    IdArrived(NaiveDate),
    /// Waiting for clarification from the requester.
    Paused(NaiveDate),
    Resumed(NaiveDate),
    Extended(NaiveDate),
    /// A fee was asked for before acting (Art. 12(5)(a)): the clock stops.
    FeeRequested(NaiveDate),
    /// The fee was paid: the period starts again from this day.
    FeePaid(NaiveDate),
}

/// Why the clock is not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "since", rename_all = "kebab-case")]
pub enum Hold {
    AwaitingId(NaiveDate),
    Paused(NaiveDate),
    AwaitingFee(NaiveDate),
}

/// The clock of one case as of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub received: NaiveDate,
    /// The day the period runs from (received, or the day ID arrived).
    pub start: NaiveDate,
    /// Whole days spent paused, an open pause counted up to `as_of`.
    pub paused_days: u32,
    pub hold: Option<Hold>,
    pub extended_on: Option<NaiveDate>,
    /// The one-month due date; `None` while the period has not started (awaiting ID).
    pub due: Option<NaiveDate>,
    /// The three-month due date, once extended.
    pub extended_due: Option<NaiveDate>,
    pub as_of: NaiveDate,
    explanation: String,
}

/// Adds calendar months; where the target month lacks the day, its last day.
pub fn add_months_clamped(d: NaiveDate, months: u32) -> NaiveDate {
    // chrono's checked_add_months already clamps to the month's last day.
    d.checked_add_months(Months::new(months))
        .expect("date within chrono's range")
}

/// The due date for a period of `months` from `start`, with pauses and rolling.
pub fn due_date(
    start: NaiveDate,
    months: u32,
    paused_days: u32,
    cal: &HolidayCalendar,
) -> NaiveDate {
    let raw = add_months_clamped(start, months) + Days::new(paused_days.into());
    cal.roll_forward(raw)
}

fn short(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

impl Clock {
    /// Computes the clock from a case's events, in the order they happened.
    ///
    /// `as_of` is today: an open pause counts up to it, and overdue is judged by it.
    pub fn compute(events: &[ClockEvent], cal: &HolidayCalendar, as_of: NaiveDate) -> Clock {
        let mut received = None;
        let mut start = None;
        let mut id_arrived = None;
        let mut fee_paid = None;
        let mut hold: Option<Hold> = None;
        let mut paused_days: u32 = 0;
        let mut extended_on = None;

        for ev in events {
            match *ev {
                ClockEvent::Received(d) => {
                    received = Some(d);
                    start = Some(d);
                }
                ClockEvent::IdRequested(d) => hold = Some(Hold::AwaitingId(d)),
                ClockEvent::IdArrived(d) => {
                    if matches!(hold, Some(Hold::AwaitingId(_))) {
                        hold = None;
                        // A fresh period starts: earlier pauses belonged to the old one.
                        if start.is_none_or(|s| d > s) {
                            start = Some(d);
                            id_arrived = Some(d);
                            paused_days = 0;
                        }
                    }
                }
                ClockEvent::Paused(d) => {
                    if hold.is_none() {
                        hold = Some(Hold::Paused(d));
                    }
                }
                ClockEvent::Resumed(d) => {
                    if let Some(Hold::Paused(p)) = hold {
                        paused_days += days_between(p, d);
                        hold = None;
                    }
                }
                ClockEvent::Extended(d) => extended_on = Some(d),
                ClockEvent::FeeRequested(d) => {
                    if hold.is_none() {
                        hold = Some(Hold::AwaitingFee(d));
                    }
                }
                ClockEvent::FeePaid(d) => {
                    if matches!(hold, Some(Hold::AwaitingFee(_))) {
                        hold = None;
                        // As for ID: a fresh period from the day it was paid.
                        if start.is_none_or(|s| d > s) {
                            start = Some(d);
                            fee_paid = Some(d);
                            paused_days = 0;
                        }
                    }
                }
            }
        }

        let received = received.unwrap_or(as_of);
        let start = start.unwrap_or(received);
        if let Some(Hold::Paused(p)) = hold {
            paused_days += days_between(p, as_of);
        }
        let running = !matches!(hold, Some(Hold::AwaitingId(_) | Hold::AwaitingFee(_)));
        let due = running.then(|| due_date(start, 1, paused_days, cal));
        let extended_due = match (running, extended_on) {
            (true, Some(_)) => Some(due_date(start, 3, paused_days, cal)),
            _ => None,
        };

        let mut clock = Clock {
            received,
            start,
            paused_days,
            hold,
            extended_on,
            due,
            extended_due,
            as_of,
            explanation: String::new(),
        };
        clock.explanation = clock.explain_with(cal, id_arrived, fee_paid);
        clock
    }

    /// The date the response is due: the extended date once extended.
    pub fn effective_due(&self) -> Option<NaiveDate> {
        self.extended_due.or(self.due)
    }

    /// Days from `as_of` to the effective due date (negative once overdue).
    pub fn days_left(&self) -> Option<i64> {
        self.effective_due().map(|d| (d - self.as_of).num_days())
    }

    pub fn is_overdue(&self) -> bool {
        self.days_left().is_some_and(|n| n < 0)
    }

    /// Whether an extension decided on `on` is still allowed: before the first
    /// month ends (on or before the one-month due date), and only once.
    pub fn extension_refusal(&self, on: NaiveDate) -> Option<String> {
        if self.extended_on.is_some() {
            return Some(
                "the case is already extended; the law allows one extension of two further months"
                    .into(),
            );
        }
        match self.due {
            None => Some("the clock has not started: the requested ID has not arrived yet".into()),
            Some(due) if on > due => Some(format!(
                "an extension must be decided and told to the requester before the first month ends ({}); it is now {}",
                short(due),
                short(on)
            )),
            Some(_) => None,
        }
    }

    /// The clock in words, e.g. "received 3 Sep 2024, ID arrived 10 Sep 2024,
    /// paused 4 days → due 14 Oct 2024".
    pub fn explain(&self) -> &str {
        &self.explanation
    }

    fn explain_with(
        &self,
        cal: &HolidayCalendar,
        id_arrived: Option<NaiveDate>,
        fee_paid: Option<NaiveDate>,
    ) -> String {
        let mut s = format!("received {}", short(self.received));
        if let Some(a) = id_arrived {
            s.push_str(&format!(", ID arrived {}", short(a)));
        }
        if let Some(p) = fee_paid {
            s.push_str(&format!(", fee paid {}", short(p)));
        }
        if let Some(Hold::AwaitingFee(since)) = self.hold {
            s.push_str(&format!(
                ", fee requested {} → clock stopped until it is paid",
                short(since)
            ));
            return s;
        }
        if let Some(Hold::AwaitingId(since)) = self.hold {
            s.push_str(&format!(
                ", ID requested {} → clock stopped until it arrives",
                short(since)
            ));
            return s;
        }
        if self.paused_days > 0 {
            let open = matches!(self.hold, Some(Hold::Paused(_)));
            s.push_str(&format!(
                ", paused {}{}",
                super::text::counted(self.paused_days as usize, "day", "days"),
                if open { " so far" } else { "" }
            ));
        }
        let one = self.due.expect("running clock has a due date");
        s.push_str(&format!(" → due {}", short(one)));
        s.push_str(&roll_note(self.start, 1, self.paused_days, cal));
        if let (Some(on), Some(ext)) = (self.extended_on, self.extended_due) {
            s.push_str(&format!("; extended on {} → due {}", short(on), short(ext)));
            s.push_str(&roll_note(self.start, 3, self.paused_days, cal));
        }
        if let Some(Hold::Paused(since)) = self.hold {
            s.push_str(&format!(
                " (paused since {}: the date moves out each day)",
                short(since)
            ));
        }
        if let Some(d) = self.effective_due() {
            if !cal.covers(d) {
                s.push_str(&format!(
                    " (the {} calendar lists holidays only for {}–{})",
                    cal.name, cal.first_year, cal.last_year
                ));
            }
        }
        s
    }
}

/// Why a due date moved, e.g. " (Sun 13 Oct 2024 is a weekend day)".
fn roll_note(start: NaiveDate, months: u32, paused: u32, cal: &HolidayCalendar) -> String {
    let month_end = add_months_clamped(start, months);
    let mut notes = Vec::new();
    if month_end.day() != start.day() {
        notes.push(format!(
            "{} has no day {}: its last day",
            month_end.format("%B %Y"),
            start.day()
        ));
    }
    let raw = month_end + Days::new(paused.into());
    let rolled = cal.roll_forward(raw);
    if rolled != raw {
        let first = match cal.holiday(raw) {
            Some(h) => format!("{} {} is {h}", raw.format("%a"), short(raw)),
            None => format!("{} {} falls on a weekend", raw.format("%a"), short(raw)),
        };
        notes.push(format!("{first}, so the next working day"));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn ew() -> HolidayCalendar {
        HolidayCalendar::builtin("england-and-wales").unwrap()
    }
    fn ie() -> HolidayCalendar {
        HolidayCalendar::builtin("ireland").unwrap()
    }
    fn due(received: &str, cal: &HolidayCalendar) -> NaiveDate {
        due_date(d(received), 1, 0, cal)
    }
    fn ext(received: &str, cal: &HolidayCalendar) -> NaiveDate {
        due_date(d(received), 3, 0, cal)
    }

    #[test]
    fn regulators_worked_examples() {
        // README, "The legal clock" (England & Wales holidays).
        assert_eq!(due("2024-09-03", &ew()), d("2024-10-03"));
        assert_eq!(due("2025-03-31", &ew()), d("2025-04-30"));
        assert_eq!(due("2024-01-31", &ew()), d("2024-02-29"));
        assert_eq!(due("2024-11-25", &ew()), d("2024-12-27"));
        assert_eq!(ext("2025-01-31", &ew()), d("2025-04-30"));
        assert_eq!(due("2025-01-31", &ew()), d("2025-02-28"));
    }

    #[test]
    fn month_ends_and_leap_years() {
        assert_eq!(due("2023-01-31", &ew()), d("2023-02-28"));
        assert_eq!(due("2024-01-30", &ew()), d("2024-02-29"));
        // 2028 is a leap year; 29 Feb 2028 is a Tuesday.
        assert_eq!(due("2028-01-31", &ie()), d("2028-02-29"));
        // 31 Aug 2025 → 30 Sep 2025 (Tuesday).
        assert_eq!(due("2025-08-31", &ie()), d("2025-09-30"));
        // 29 Feb 2024 + 3 months = 29 May 2024 (Wednesday).
        assert_eq!(ext("2024-02-29", &ew()), d("2024-05-29"));
        // 30 Nov 2024 → 30 Dec 2024 (Monday, not a holiday).
        assert_eq!(due("2024-11-30", &ew()), d("2024-12-30"));
    }

    #[test]
    fn easter_rolls_differ_between_calendars() {
        // 29 Feb 2024 → 29 Mar 2024: Good Friday in England, a working day in Ireland.
        assert_eq!(due("2024-02-29", &ew()), d("2024-04-02"));
        assert_eq!(due("2024-02-29", &ie()), d("2024-03-29"));
        // 1 Mar 2024 → 1 Apr 2024 is Easter Monday in both.
        assert_eq!(due("2024-03-01", &ew()), d("2024-04-02"));
        assert_eq!(due("2024-03-01", &ie()), d("2024-04-02"));
        // 17 Feb 2025 → 17 Mar 2025, St Patrick's Day: only Ireland rolls.
        assert_eq!(due("2025-02-17", &ie()), d("2025-03-18"));
        assert_eq!(due("2025-02-17", &ew()), d("2025-03-17"));
    }

    #[test]
    fn christmas_rolls() {
        // 25 Nov 2021 → Sat 25 Dec 2021: E&W substitute days 27 and 28 Dec.
        assert_eq!(due("2021-11-25", &ew()), d("2021-12-29"));
        assert_eq!(due("2021-11-25", &ie()), d("2021-12-29"));
        // 26 Nov 2026 → Sat 26 Dec 2026; E&W: 28 Dec is Boxing Day's substitute.
        assert_eq!(due("2026-11-26", &ew()), d("2026-12-29"));
        // Ireland: St Stephen's Day observed on Mon 28 Dec 2026.
        assert_eq!(due("2026-11-26", &ie()), d("2026-12-29"));
        // 1 Dec 2024 → 1 Jan 2025, New Year's Day.
        assert_eq!(due("2024-12-01", &ew()), d("2025-01-02"));
    }

    #[test]
    fn id_arrival_restarts_and_pauses_push_out() {
        let cal = ew();
        let events = [
            ClockEvent::Received(d("2024-09-03")),
            ClockEvent::IdRequested(d("2024-09-04")),
            ClockEvent::IdArrived(d("2024-09-10")),
            ClockEvent::Paused(d("2024-09-20")),
            ClockEvent::Resumed(d("2024-09-24")),
        ];
        let c = Clock::compute(&events, &cal, d("2024-09-25"));
        assert_eq!(c.start, d("2024-09-10"));
        assert_eq!(c.paused_days, 4);
        assert_eq!(c.due, Some(d("2024-10-14")));
        assert!(
            c.explain().starts_with(
                "received 3 Sep 2024, ID arrived 10 Sep 2024, paused 4 days → due 14 Oct 2024"
            ),
            "{}",
            c.explain()
        );
    }

    #[test]
    fn design_pause_example_explains_itself() {
        let events = [
            ClockEvent::Received(d("2024-09-03")),
            ClockEvent::Paused(d("2024-09-10")),
            ClockEvent::Resumed(d("2024-09-14")),
        ];
        let c = Clock::compute(&events, &ew(), d("2024-09-15"));
        assert_eq!(c.due, Some(d("2024-10-07")));
        assert_eq!(
            c.explain(),
            "received 3 Sep 2024, paused 4 days → due 7 Oct 2024"
        );
    }

    #[test]
    fn awaiting_id_has_no_due_date() {
        let events = [
            ClockEvent::Received(d("2024-09-03")),
            ClockEvent::IdRequested(d("2024-09-03")),
        ];
        let c = Clock::compute(&events, &ew(), d("2024-12-01"));
        assert_eq!(c.due, None);
        assert!(!c.is_overdue());
        assert!(c.explain().contains("clock stopped"), "{}", c.explain());
    }

    #[test]
    fn an_open_pause_counts_up_to_today() {
        let events = [
            ClockEvent::Received(d("2024-09-03")),
            ClockEvent::Paused(d("2024-09-10")),
        ];
        let c = Clock::compute(&events, &ew(), d("2024-09-20"));
        assert_eq!(c.paused_days, 10);
        assert_eq!(c.due, Some(d("2024-10-14")));
    }

    #[test]
    fn extension_three_months_from_the_same_start() {
        let events = [
            ClockEvent::Received(d("2025-01-31")),
            ClockEvent::Extended(d("2025-02-10")),
        ];
        let c = Clock::compute(&events, &ew(), d("2025-02-11"));
        assert_eq!(c.due, Some(d("2025-02-28")));
        assert_eq!(c.extended_due, Some(d("2025-04-30")));
        assert_eq!(c.effective_due(), Some(d("2025-04-30")));
        assert!(
            c.explain()
                .contains("extended on 10 Feb 2025 → due 30 Apr 2025"),
            "{}",
            c.explain()
        );
        let christmas = Clock::compute(
            &[ClockEvent::Received(d("2024-11-25"))],
            &ew(),
            d("2024-11-25"),
        );
        assert_eq!(
            christmas.explain(),
            "received 25 Nov 2024 → due 27 Dec 2024 (Wed 25 Dec 2024 is Christmas Day, so the next working day)"
        );
    }

    #[test]
    fn late_or_second_extensions_are_refused() {
        let events = [ClockEvent::Received(d("2025-01-31"))];
        let c = Clock::compute(&events, &ew(), d("2025-03-03"));
        assert!(
            c.extension_refusal(d("2025-02-28")).is_none(),
            "the due day itself is still in time"
        );
        let late = c.extension_refusal(d("2025-03-01")).unwrap();
        assert!(late.contains("before the first month ends"), "{late}");
        let events = [
            ClockEvent::Received(d("2025-01-31")),
            ClockEvent::Extended(d("2025-02-01")),
        ];
        let c = Clock::compute(&events, &ew(), d("2025-02-02"));
        assert!(c
            .extension_refusal(d("2025-02-02"))
            .unwrap()
            .contains("already extended"));
    }

    #[test]
    fn overdue_and_days_left() {
        let events = [ClockEvent::Received(d("2024-09-03"))];
        assert_eq!(
            Clock::compute(&events, &ew(), d("2024-10-01")).days_left(),
            Some(2)
        );
        let late = Clock::compute(&events, &ew(), d("2024-10-04"));
        assert!(late.is_overdue());
        assert_eq!(late.days_left(), Some(-1));
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0u32..(11 * 365)).prop_map(|n| d("2020-01-01") + Days::new(n.into()))
    }

    proptest! {
        #[test]
        fn due_is_never_before_received_and_is_a_working_day(
            received in any_date(), paused in 0u32..60, ireland in any::<bool>(), months in 1u32..=3
        ) {
            let cal = if ireland { ie() } else { ew() };
            let due = due_date(received, months, paused, &cal);
            prop_assert!(due > received);
            prop_assert!(cal.is_working_day(due));
            // Never more than a week of rolling past the raw date.
            let raw = add_months_clamped(received, months) + Days::new(paused.into());
            prop_assert!((due - raw).num_days() < 7);
        }

        #[test]
        fn adding_a_pause_never_moves_due_earlier(
            received in any_date(), before in 0u32..40, gap in 1u32..30, len in 0u32..30, ireland in any::<bool>()
        ) {
            let cal = if ireland { ie() } else { ew() };
            let base = vec![ClockEvent::Received(received)];
            let p = received + Days::new(gap.into());
            let mut paused = base.clone();
            paused.push(ClockEvent::Paused(p));
            paused.push(ClockEvent::Resumed(p + Days::new(len.into())));
            let today = received + Days::new(before.into());
            let a = Clock::compute(&base, &cal, today).due.unwrap();
            let b = Clock::compute(&paused, &cal, today).due.unwrap();
            prop_assert!(b >= a);
        }

        #[test]
        fn extended_due_is_never_before_due(received in any_date(), ireland in any::<bool>()) {
            let cal = if ireland { ie() } else { ew() };
            let c = Clock::compute(&[ClockEvent::Received(received), ClockEvent::Extended(received)], &cal, received);
            prop_assert!(c.extended_due.unwrap() > c.due.unwrap());
        }
    }
}
