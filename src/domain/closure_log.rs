//! The closure log: one row per closed case, as an auditor or a supervisory
//! authority asks for it, and the figures of the records view.

use super::case::{Case, Outcome, TaskStatus};
use super::right::Right;
use super::HolidayCalendar;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// One closed case in the log. `subject` is the case's pseudonym unless staff
/// asked for names (and that request is itself logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ClosureRow {
    pub id: String,
    pub subject: String,
    pub rights: Vec<Right>,
    pub received: NaiveDate,
    pub due: Option<NaiveDate>,
    pub extended_due: Option<NaiveDate>,
    pub paused_days: u32,
    pub responded: NaiveDate,
    pub on_time: bool,
    /// Calendar days from receipt to the response.
    pub days_to_respond: i64,
    /// Days after the (extended) due date; 0 when on time.
    pub days_late: i64,
    pub outcome: Outcome,
    pub reason: String,
    pub fee: Option<String>,
    /// Work left open at closure, each with its reason.
    pub gaps: Vec<String>,
    /// Each source touched and how it ended (`customers: done`).
    pub sources: Vec<String>,
    pub closed_by: String,
}

/// The log row of a closed case (None while it is open). The clock is taken
/// as of the response day, so pauses and extensions count as they happened.
pub fn closure_row(case: &Case, cal: &HolidayCalendar, subject: String) -> Option<ClosureRow> {
    let c = case.closure.as_ref()?;
    let responded = c.responded();
    let clock = super::clock::Clock::compute(&case.clock_events(), cal, responded);
    let due = clock.effective_due();
    let days_late = due.map(|d| (responded - d).num_days().max(0)).unwrap_or(0);
    let mut sources: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in &case.tasks {
        if t.status != TaskStatus::Dropped {
            sources
                .entry(&t.source)
                .or_default()
                .push(t.status.as_str());
        }
    }
    Some(ClosureRow {
        id: case.id.to_string(),
        subject,
        rights: case.rights.clone(),
        received: case.received,
        due: clock.due,
        extended_due: clock.extended_due,
        paused_days: clock.paused_days,
        responded,
        on_time: days_late == 0,
        days_to_respond: (responded - case.received).num_days(),
        days_late,
        outcome: c.outcome,
        reason: c.reason.clone(),
        fee: c.fee.clone(),
        gaps: c
            .gaps
            .iter()
            .map(|g| format!("{}: {}", g.what, g.reason))
            .collect(),
        sources: sources
            .into_iter()
            .map(|(s, st)| {
                let mut st = st;
                st.dedup();
                format!("{s}: {}", st.join("/"))
            })
            .collect(),
        closed_by: c.closed_by.clone(),
    })
}

pub const CSV_HEADER: [&str; 18] = [
    "id",
    "subject",
    "rights",
    "received",
    "due",
    "extended_due",
    "paused_days",
    "responded",
    "on_time",
    "days_to_respond",
    "days_late",
    "outcome",
    "reason",
    "fee",
    "gaps",
    "sources",
    "closed_by",
    "extended",
];

impl ClosureRow {
    /// The row's cells, each safe to open in a spreadsheet.
    pub fn csv_cells(&self) -> Vec<String> {
        let opt = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        [
            self.id.clone(),
            self.subject.clone(),
            self.rights
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            self.received.to_string(),
            opt(self.due),
            opt(self.extended_due),
            self.paused_days.to_string(),
            self.responded.to_string(),
            if self.on_time { "yes" } else { "no" }.to_string(),
            self.days_to_respond.to_string(),
            self.days_late.to_string(),
            self.outcome.as_str().to_string(),
            self.reason.clone(),
            self.fee.clone().unwrap_or_default(),
            self.gaps.join("; "),
            self.sources.join("; "),
            self.closed_by.clone(),
            if self.extended_due.is_some() {
                "yes"
            } else {
                "no"
            }
            .to_string(),
        ]
        .into_iter()
        .map(|c| super::text::csv_cell(&c))
        .collect()
    }
}

/// Figures for one month (or all time) of closed cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub closed: usize,
    pub on_time: usize,
    pub extended: usize,
    pub by_right: BTreeMap<String, usize>,
    pub by_outcome: BTreeMap<String, usize>,
    /// Refusals by outcome (unfounded, excessive, identity).
    pub refusals: BTreeMap<String, usize>,
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
}

impl Figures {
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.closed > 0).then(|| self.on_time as f64 / self.closed as f64)
    }
}

/// The nearest-rank percentile (p in 0..=100) of sorted values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p as f64 / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn figures<'a>(rows: impl Iterator<Item = &'a ClosureRow>) -> Figures {
    let mut f = Figures::default();
    let mut days = Vec::new();
    for r in rows {
        f.closed += 1;
        f.on_time += usize::from(r.on_time);
        f.extended += usize::from(r.extended_due.is_some());
        for right in &r.rights {
            *f.by_right.entry(right.as_str().into()).or_default() += 1;
        }
        *f.by_outcome.entry(r.outcome.as_str().into()).or_default() += 1;
        if matches!(
            r.outcome,
            Outcome::RefusedUnfounded
                | Outcome::RefusedExcessive
                | Outcome::RefusedIdentity
                | Outcome::RefusedCompellingGrounds
        ) {
            *f.refusals.entry(r.outcome.as_str().into()).or_default() += 1;
        }
        days.push(r.days_to_respond);
    }
    days.sort_unstable();
    f.median_days = percentile(&days, 50);
    f.p90_days = percentile(&days, 90);
    f
}

/// All-time figures and figures per month of response (`YYYY-MM`).
pub fn summarise(rows: &[ClosureRow]) -> (Figures, BTreeMap<String, Figures>) {
    let mut months: BTreeMap<String, Vec<&ClosureRow>> = BTreeMap::new();
    for r in rows {
        months
            .entry(format!("{}-{:02}", r.responded.year(), r.responded.month()))
            .or_default()
            .push(r);
    }
    (
        figures(rows.iter()),
        months
            .into_iter()
            .map(|(m, rs)| (m, figures(rs.into_iter())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::case::*;
    use crate::domain::closure::Closing;
    use crate::domain::lifecycle::Step;
    use crate::domain::testkit::{cal, d, opened, step_on, verify};

    fn step(c: &mut Case, s: Step, on: &str) {
        step_on(c, s, on).unwrap();
    }

    /// An access case received on `received` and verified the same day.
    fn case(n: u32, received: &str) -> Case {
        let mut c = opened(n, &[Right::Access], Channel::Email, received);
        step(&mut c, verify(), received);
        // Access is fulfilled by its package.
        step(
            &mut c,
            Step::PackageSent {
                sources: 1,
                records: 1,
                portability: false,
            },
            received,
        );
        c
    }

    fn close(c: &mut Case, outcome: Outcome, reason: &str, responded: &str) {
        let mut closing = Closing::new(outcome, reason);
        closing.responded_on = Some(d(responded));
        step(c, Step::Close(closing), responded);
    }

    /// Three cases worked out by hand with the Irish calendar.
    fn hand_computed() -> Vec<ClosureRow> {
        // A: received Mon 2 Mar 2026 → due Thu 2 Apr; answered 30 Mar: on time, 28 days.
        let mut a = case(1, "2026-03-02");
        close(&mut a, Outcome::Fulfilled, "sent the PDF", "2026-03-30");
        // B: received 5 Jan, extended 20 Jan → due 5 Feb, extended due 5 Apr
        // (a Sunday; Mon 6 Apr is Easter Monday) → Tue 7 Apr; answered 20 Mar:
        // on time, 74 days.
        let mut b = case(2, "2026-01-05");
        step(
            &mut b,
            Step::Extend {
                reason: "complex".into(),
            },
            "2026-01-20",
        );
        close(
            &mut b,
            Outcome::PartlyFulfilled,
            "=HYPERLINK(\"x\")",
            "2026-03-20",
        );
        // C: received 2 Feb, paused 10–20 Feb (10 days) → due 2 Mar + 10 = Thu
        // 12 Mar; answered Mon 16 Mar: 4 days late, 42 days.
        let mut c = case(3, "2026-02-02");
        step(
            &mut c,
            Step::Pause {
                reason: "which account?".into(),
            },
            "2026-02-10",
        );
        step(&mut c, Step::Resume, "2026-02-20");
        close(
            &mut c,
            Outcome::RefusedExcessive,
            "repeat request",
            "2026-03-16",
        );
        [a, b, c]
            .iter()
            .map(|x| closure_row(x, &cal(), "P-test".into()).unwrap())
            .collect()
    }

    #[test]
    fn rows_match_the_hand_computed_clock() {
        let rows = hand_computed();
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.due,
                    r.extended_due,
                    r.paused_days,
                    r.on_time,
                    r.days_to_respond,
                    r.days_late,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some(d("2026-04-02")), None, 0, true, 28, 0),
                (Some(d("2026-02-05")), Some(d("2026-04-07")), 0, true, 74, 0),
                (Some(d("2026-03-12")), None, 10, false, 42, 4),
            ]
        );
    }

    #[test]
    fn csv_cells_neutralise_formulas() {
        let rows = hand_computed();
        let cells = rows[1].csv_cells();
        assert_eq!(cells.len(), CSV_HEADER.len());
        assert_eq!(cells[12], "'=HYPERLINK(\"x\")");
        assert_eq!(cells[8], "yes");
        assert_eq!(rows[2].csv_cells()[8], "no");
    }

    #[test]
    fn figures_count_rates_and_percentiles() {
        let rows = hand_computed();
        let (all, months) = summarise(&rows);
        assert_eq!((all.closed, all.on_time, all.extended), (3, 2, 1));
        assert_eq!(all.median_days, Some(42));
        assert_eq!(all.p90_days, Some(74));
        assert_eq!(all.refusals.get("refused-excessive"), Some(&1));
        assert_eq!(all.by_right.get("access"), Some(&3));
        assert!((all.on_time_rate().unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(months.keys().collect::<Vec<_>>(), ["2026-03"]);
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[5], 90), Some(5));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(percentile(&(1..=10).collect::<Vec<_>>(), 90), Some(9));
    }
}
