//! Deadlines that come to the staff: which open cases are overdue or due
//! soon, in the clock's words, for `rightsdesk due`, the login line and the
//! team's calendar.
//!
//! The list is computed from a small entry kept beside each open case (its
//! rights, state and clock events), never from whole cases, so it costs the
//! open cases near their deadline, not the whole store. The rule of urgency
//! is the one the queue colours by.

use super::calendar::HolidayCalendar;
use super::clock::{Clock, ClockEvent, Hold};
use super::{Case, CaseId, Right, State};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Days left at or under which a case is "due soon".
pub const DUE_SOON_DAYS: i64 = 7;

/// How urgent a case is, in words as well as colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Closed,
    /// The clock is stopped (ID or a fee asked for).
    OnHold,
    Overdue(i64),
    /// Due within a week.
    DueSoon(i64),
    Due(i64),
}

impl Urgency {
    pub fn of(state: State, clock: &Clock) -> Urgency {
        if !state.is_open() {
            return Urgency::Closed;
        }
        match clock.days_left() {
            None => Urgency::OnHold,
            Some(d) if d < 0 => Urgency::Overdue(-d),
            Some(d) if d <= DUE_SOON_DAYS => Urgency::DueSoon(d),
            Some(d) => Urgency::Due(d),
        }
    }
}

impl std::fmt::Display for Urgency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Urgency::Closed => f.write_str("closed"),
            Urgency::OnHold => f.write_str("on hold"),
            Urgency::Overdue(d) => write!(f, "OVERDUE {d}d"),
            // Due today is said so: "0d" reads as no time, or as a glitch.
            Urgency::DueSoon(0) => f.write_str("DUE TODAY"),
            Urgency::DueSoon(d) => write!(f, "DUE SOON {d}d"),
            Urgency::Due(d) => write!(f, "{d}d left"),
        }
    }
}

/// What the deadline list needs of one open case; the store keeps one per
/// open case, written with the case in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineEntry {
    pub id: CaseId,
    pub rights: Vec<Right>,
    pub state: State,
    pub events: Vec<ClockEvent>,
}

/// Where an open case's deadline stands for the store's ordering: a date
/// that does not move while the clock runs, or none while it is held (a
/// pause moves the date every day; ID or a fee asked for stops it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Due(NaiveDate),
    Held,
}

impl DeadlineEntry {
    /// The entry of a case, or `None` once it is closed (nothing is due).
    pub fn of(case: &Case) -> Option<DeadlineEntry> {
        case.state.is_open().then(|| DeadlineEntry {
            id: case.id,
            rights: case.rights.clone(),
            state: case.state,
            events: case.clock_events(),
        })
    }

    pub fn clock(&self, cal: &HolidayCalendar, today: NaiveDate) -> Clock {
        Clock::compute(&self.events, cal, today)
    }

    /// The fixed due date while the clock runs. Computed on any day, it is
    /// the same: only an open pause makes the date depend on the day.
    pub fn standing(&self, cal: &HolidayCalendar, today: NaiveDate) -> Standing {
        let clock = self.clock(cal, today);
        match (clock.hold, clock.effective_due()) {
            (None, Some(due)) => Standing::Due(due),
            _ => Standing::Held,
        }
    }
}

/// One case on the deadline list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub id: CaseId,
    pub rights: Vec<Right>,
    pub state: State,
    /// The date the response is due (the extended date once extended).
    pub due: NaiveDate,
    /// Negative once overdue.
    pub days_left: i64,
    /// The urgency in the queue's words: "OVERDUE 3d", "DUE TODAY", ….
    pub words: String,
    /// The clock's arithmetic: "received 3 Sep 2026 → due 5 Oct 2026".
    pub clock: String,
    pub paused: bool,
}

/// The open cases due within a number of days, and the overdue, most
/// urgent first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueList {
    pub today: NaiveDate,
    pub within: u32,
    pub cases: Vec<Deadline>,
    pub overdue: usize,
    /// Due within the days asked for, not yet overdue.
    pub due_within: usize,
}

impl DueList {
    /// Builds the list from the entries of open cases; those past `within`
    /// days are left out.
    pub fn of<'a>(
        entries: impl IntoIterator<Item = &'a DeadlineEntry>,
        cal: &HolidayCalendar,
        today: NaiveDate,
        within: u32,
    ) -> DueList {
        let mut cases: Vec<Deadline> = entries
            .into_iter()
            .filter_map(|e| {
                let clock = e.clock(cal, today);
                let due = clock.effective_due()?;
                let days_left = clock.days_left()?;
                (days_left <= i64::from(within)).then(|| Deadline {
                    id: e.id,
                    rights: e.rights.clone(),
                    state: e.state,
                    due,
                    days_left,
                    words: Urgency::of(e.state, &clock).to_string(),
                    clock: clock.explain().to_string(),
                    paused: matches!(clock.hold, Some(Hold::Paused(_))),
                })
            })
            .collect();
        cases.sort_by_key(|c| (c.days_left, c.id));
        let overdue = cases.iter().filter(|c| c.days_left < 0).count();
        DueList {
            today,
            within,
            due_within: cases.len() - overdue,
            overdue,
            cases,
        }
    }

    pub fn counts(&self) -> DueCounts {
        DueCounts {
            today: self.today,
            within: self.within,
            overdue: self.overdue,
            due_within: self.due_within,
        }
    }
}

/// How many open cases are overdue and due within a number of days: the
/// login line, which must answer at once whatever the store's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueCounts {
    pub today: NaiveDate,
    pub within: u32,
    pub overdue: usize,
    pub due_within: usize,
}

impl DueCounts {
    /// The counts from cases whose clock runs, counted by their fixed due
    /// dates alone (`overdue`: before today; `due_within`: from today to
    /// `within` days on — the same bounds `DueList::of` draws), and the
    /// entries of the cases whose clock is held, whose dates are computed.
    pub fn of(
        overdue: usize,
        due_within: usize,
        held: &[DeadlineEntry],
        cal: &HolidayCalendar,
        today: NaiveDate,
        within: u32,
    ) -> DueCounts {
        let held = DueList::of(held, cal, today, within);
        DueCounts {
            today,
            within,
            overdue: overdue + held.overdue,
            due_within: due_within + held.due_within,
        }
    }

    /// The login line: "rightsdesk: 2 OVERDUE, 3 due this week — run
    /// rightsdesk", or `None` when nothing is due (a login says nothing).
    pub fn login_line(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.overdue > 0 {
            parts.push(format!("{} OVERDUE", self.overdue));
        }
        if self.due_within > 0 {
            let when = if self.within == 7 {
                "this week".to_string()
            } else {
                format!(
                    "within {}",
                    super::text::counted(self.within as usize, "day", "days")
                )
            };
            parts.push(format!("{} due {when}", self.due_within));
        }
        (!parts.is_empty()).then(|| format!("rightsdesk: {} — run rightsdesk", parts.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn entry(n: u32, state: State, events: Vec<ClockEvent>) -> DeadlineEntry {
        DeadlineEntry {
            id: CaseId::new(2026, n),
            rights: vec![Right::Access],
            state,
            events,
        }
    }

    fn cal() -> HolidayCalendar {
        HolidayCalendar::builtin("ireland").unwrap()
    }

    #[test]
    fn the_list_holds_the_overdue_and_the_due_soon_most_urgent_first() {
        let today = d("2026-12-01");
        let entries = [
            // Due 4 Jan 2027: outside a week.
            entry(
                1,
                State::InProgress,
                vec![ClockEvent::Received(d("2026-12-01"))],
            ),
            // Due 2 Dec: due tomorrow.
            entry(
                2,
                State::InProgress,
                vec![ClockEvent::Received(d("2026-11-02"))],
            ),
            // Due 20 Nov: 11 days overdue.
            entry(
                3,
                State::Received,
                vec![ClockEvent::Received(d("2026-10-20"))],
            ),
            // Due today.
            entry(
                4,
                State::InProgress,
                vec![ClockEvent::Received(d("2026-11-01"))],
            ),
            // Waiting for ID: no date, never on the list.
            entry(
                5,
                State::AwaitingIdentity,
                vec![
                    ClockEvent::Received(d("2026-09-01")),
                    ClockEvent::IdRequested(d("2026-09-02")),
                ],
            ),
        ];
        let list = DueList::of(&entries, &cal(), today, 7);
        let ids: Vec<u32> = list.cases.iter().map(|c| c.id.number).collect();
        assert_eq!(ids, [3, 4, 2]);
        let words: Vec<&str> = list.cases.iter().map(|c| c.words.as_str()).collect();
        assert_eq!(words, ["OVERDUE 11d", "DUE TODAY", "DUE SOON 1d"]);
        assert_eq!((list.overdue, list.due_within), (1, 2));
        assert_eq!(
            list.counts().login_line().as_deref(),
            Some("rightsdesk: 1 OVERDUE, 2 due this week — run rightsdesk")
        );
        let wide = DueList::of(&entries, &cal(), today, 40);
        assert_eq!(wide.cases.len(), 4, "case 1 is due within 40 days");
        assert_eq!(
            DueList::of(&entries[..1], &cal(), today, 3)
                .counts()
                .login_line()
                .as_deref(),
            None,
            "nothing due: a login says nothing"
        );
        assert_eq!(
            DueList::of(&entries[..2], &cal(), today, 3)
                .counts()
                .login_line()
                .as_deref(),
            Some("rightsdesk: 1 due within 3 days — run rightsdesk")
        );
    }

    #[test]
    fn a_running_clock_has_a_fixed_date_and_a_paused_one_is_held() {
        let running = entry(
            1,
            State::InProgress,
            vec![ClockEvent::Received(d("2026-11-02"))],
        );
        let due = Standing::Due(d("2026-12-02"));
        assert_eq!(running.standing(&cal(), d("2026-11-02")), due);
        assert_eq!(running.standing(&cal(), d("2027-03-01")), due);
        let paused = entry(
            2,
            State::AwaitingClarification,
            vec![
                ClockEvent::Received(d("2026-11-02")),
                ClockEvent::Paused(d("2026-11-28")),
            ],
        );
        assert_eq!(paused.standing(&cal(), d("2026-11-29")), Standing::Held);
        // Paused with 4 days left: its date moves with every day paused, so
        // it is due soon on any day while the pause lasts, never overdue.
        let list = DueList::of([&paused], &cal(), d("2026-12-20"), 7);
        assert_eq!(list.overdue, 0);
        assert!(list.cases[0].paused);
        assert!(list.cases[0].due > d("2026-12-20"));
    }

    #[test]
    fn a_closed_case_has_no_entry() {
        let mut case = crate::domain::testkit::opened(
            1,
            &[Right::Access],
            crate::domain::Channel::Email,
            "2026-11-02",
        );
        assert!(DeadlineEntry::of(&case).is_some());
        case.state = State::Closed;
        assert!(DeadlineEntry::of(&case).is_none());
    }
}
