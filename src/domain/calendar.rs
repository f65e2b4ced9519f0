//! Holiday calendars: which days count as working days for the legal clock.
//!
//! Calendars are data (`data/holidays/*.toml`); the shipped ones are embedded in
//! the binary so the desk works from any directory.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The calendars shipped with the desk, by name.
const BUILTIN: &[(&str, &str)] = &[
    ("ireland", include_str!("../../data/holidays/ireland.toml")),
    (
        "england-and-wales",
        include_str!("../../data/holidays/england-and-wales.toml"),
    ),
];

/// The organisation's default calendar (its data is hosted in Ireland, per the policy).
pub const DEFAULT_CALENDAR: &str = "ireland";

/// Serialisable so the team service gives its clients the calendar it
/// counts by (one of the organisation's own, perhaps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayCalendar {
    pub name: String,
    pub title: String,
    pub first_year: i32,
    pub last_year: i32,
    holidays: BTreeMap<NaiveDate, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("unknown holiday calendar '{0}' (shipped: {known}; or the organisation's own, holidays/NAME.toml in the data directory)", known = builtin_names().join(", "))]
    Unknown(String),
    #[error("holiday calendar '{name}': {detail}")]
    Invalid { name: String, detail: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    name: String,
    title: String,
    first_year: i32,
    last_year: i32,
    #[serde(default)]
    holiday: Vec<HolidayRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayRow {
    date: String,
    name: String,
}

pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

impl HolidayCalendar {
    /// One of the calendars shipped in `data/holidays/`.
    pub fn builtin(name: &str) -> Result<Self, CalendarError> {
        let (_, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| CalendarError::Unknown(name.to_string()))?;
        Self::parse(name, text)
    }

    /// Parses and validates a calendar file; `label` names it in errors.
    pub fn parse(label: &str, text: &str) -> Result<Self, CalendarError> {
        let invalid = |detail: String| CalendarError::Invalid {
            name: label.to_string(),
            detail,
        };
        let file: CalendarFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if file.first_year > file.last_year {
            return Err(invalid("first_year is after last_year".into()));
        }
        let mut holidays = BTreeMap::new();
        for (i, row) in file.holiday.iter().enumerate() {
            let date = NaiveDate::parse_from_str(&row.date, "%Y-%m-%d").map_err(|_| {
                invalid(format!(
                    "holiday #{} ('{}'): date '{}' is not YYYY-MM-DD",
                    i + 1,
                    row.name,
                    row.date
                ))
            })?;
            if date.year() < file.first_year || date.year() > file.last_year {
                return Err(invalid(format!(
                    "holiday {} lies outside {}–{}",
                    row.date, file.first_year, file.last_year
                )));
            }
            if holidays.insert(date, row.name.clone()).is_some() {
                return Err(invalid(format!("holiday {} is listed twice", row.date)));
            }
        }
        Ok(Self {
            name: file.name,
            title: file.title,
            first_year: file.first_year,
            last_year: file.last_year,
            holidays,
        })
    }

    /// A digest of what the calendar decides (its name and holidays): due
    /// dates kept ordered by it are recomputed when it changes.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.name.as_bytes());
        for d in self.holidays.keys() {
            h.update(d.to_string().as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// The holiday on this date, if any.
    pub fn holiday(&self, d: NaiveDate) -> Option<&str> {
        self.holidays.get(&d).map(String::as_str)
    }

    pub fn is_weekend(d: NaiveDate) -> bool {
        matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !Self::is_weekend(d) && self.holiday(d).is_none()
    }

    /// Whether the calendar knows the holidays of this date's year.
    pub fn covers(&self, d: NaiveDate) -> bool {
        (self.first_year..=self.last_year).contains(&d.year())
    }

    /// The date itself if it is a working day, else the next one.
    pub fn roll_forward(&self, mut d: NaiveDate) -> NaiveDate {
        while !self.is_working_day(d) {
            d = d.succ_opt().expect("date within chrono's range");
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn shipped_calendars_load_and_cover_2020_to_2030() {
        for name in builtin_names() {
            let c = HolidayCalendar::builtin(name).unwrap();
            assert_eq!((c.first_year, c.last_year), (2020, 2030), "{name}");
            for y in 2020..=2030 {
                let n = c.holidays.keys().filter(|h| h.year() == y).count();
                assert!(n >= 8, "{name} has only {n} holidays in {y}");
            }
        }
    }

    #[test]
    fn england_and_wales_knows_easter_christmas_and_one_offs() {
        let c = HolidayCalendar::builtin("england-and-wales").unwrap();
        for h in [
            "2024-03-29", // Good Friday
            "2024-04-01", // Easter Monday
            "2024-12-25",
            "2024-12-26",
            "2021-12-27", // Christmas on a Saturday: substitute days
            "2021-12-28",
            "2022-09-19", // State funeral
            "2023-05-08", // Coronation
            "2020-05-08", // VE day moved the early May holiday
        ] {
            assert!(c.holiday(d(h)).is_some(), "{h}");
        }
        assert!(
            c.holiday(d("2020-05-04")).is_none(),
            "2020's early May holiday moved to 8 May"
        );
    }

    #[test]
    fn ireland_has_its_own_days_and_no_good_friday() {
        let c = HolidayCalendar::builtin("ireland").unwrap();
        for h in [
            "2024-03-18",
            "2024-02-05",
            "2025-06-02",
            "2025-10-27",
            "2026-12-26",
            "2022-03-18",
        ] {
            assert!(c.holiday(d(h)).is_some(), "{h}");
        }
        assert!(
            c.holiday(d("2024-03-29")).is_none(),
            "Good Friday is not an Irish public holiday"
        );
        // St Brigid's Day only exists from 2023.
        assert!(c.holiday(d("2022-02-07")).is_none());
        assert!(c.holiday(d("2023-02-06")).is_some());
    }

    #[test]
    fn roll_forward_skips_weekends_and_holidays() {
        let c = HolidayCalendar::builtin("england-and-wales").unwrap();
        assert_eq!(c.roll_forward(d("2024-12-25")), d("2024-12-27"));
        assert_eq!(c.roll_forward(d("2024-03-29")), d("2024-04-02"));
        assert_eq!(c.roll_forward(d("2024-10-03")), d("2024-10-03"));
    }

    #[test]
    fn a_bad_calendar_names_the_problem() {
        let e = HolidayCalendar::parse(
            "custom",
            "name='x'\ntitle='x'\nfirst_year=2024\nlast_year=2024\n[[holiday]]\ndate='2024-13-01'\nname='Nope'\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("custom") && e.to_string().contains("2024-13-01"),
            "{e}"
        );
        assert!(matches!(
            HolidayCalendar::builtin("mars"),
            Err(CalendarError::Unknown(_))
        ));
    }
}
