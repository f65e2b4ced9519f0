//! The date styles exports use: ISO (`2024-03-05 14:22`), US (`03/05/2024`),
//! RFC 2822 (mbox), RFC 3339 (Zoom), and Eventbrite's `2024-03-05 14:22:01+00:00`.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// The years an export's date may fall in: outside them it was misread
/// (a two-digit year taken as year 26) or typed wrong.
pub const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// A date as exports write it, only within `YEARS` (else `None`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    parse_any(s).filter(|d| YEARS.contains(&chrono::Datelike::year(d)))
}

/// A date cell: empty or unreadable is no date; a readable one outside
/// `YEARS` is an error, said with the year (the caller adds file and line).
pub fn checked_date(s: &str) -> Result<Option<NaiveDate>, String> {
    match parse_any(s) {
        Some(d) if !YEARS.contains(&chrono::Datelike::year(&d)) => Err(format!(
            "the date '{}' falls in year {}, outside {}–{}",
            crate::domain::text::inert(s.trim()),
            chrono::Datelike::year(&d),
            YEARS.start(),
            YEARS.end()
        )),
        d => Ok(d),
    }
}

fn parse_any(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.date_naive());
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Some(d.date_naive());
    }
    if let Ok(d) = DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%:z") {
        return Some(d.date_naive());
    }
    // Two-digit years first (Eventbrite's "8/25/26 10:00 AM"): `%Y` would
    // read "26" as the year 26.
    let two_digit_year = t
        .split([' ', 'T'])
        .next()
        .and_then(|d| d.rsplit('/').next())
        .is_some_and(|y| y.len() == 2 && y.bytes().all(|b| b.is_ascii_digit()));
    if two_digit_year {
        for f in ["%m/%d/%y %H:%M:%S", "%m/%d/%y %H:%M", "%m/%d/%y %I:%M %p"] {
            if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
                return Some(d.date());
            }
        }
        return NaiveDate::parse_from_str(t, "%m/%d/%y").ok();
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y %I:%M %p",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(d.date());
        }
    }
    for f in ["%Y-%m-%d", "%m/%d/%Y", "%B %d, %Y", "%b %d, %Y", "%d %B %Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Some(d);
        }
    }
    // Leading date with anything after it (e.g. "2024-03-05 14:22 GMT").
    t.get(..10)
        .and_then(|p| NaiveDate::parse_from_str(p, "%Y-%m-%d").ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_hubspot_styles_and_others() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        for s in [
            "2024-03-05 14:22",
            "03/05/2024 14:22",
            "2024-03-05",
            "Tue, 5 Mar 2024 14:22:01 +0000",
            "2024-03-05T14:22:01Z",
            "2024-03-05 14:22:01+00:00",
            "03/05/2024 2:22 PM",
            "March 5, 2024",
        ] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        assert_eq!(parse_date("soon"), None);
    }

    #[test]
    fn two_digit_years_are_this_century_and_odd_years_are_refused() {
        let d = NaiveDate::from_ymd_opt(2026, 8, 25).unwrap();
        for s in [
            "8/25/26 10:00 AM",
            "08/25/26",
            "8/25/26 10:00",
            "08/25/2026",
        ] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        assert_eq!(parse_date("0026-08-25"), None);
        let e = checked_date("0026-08-25").unwrap_err();
        assert!(e.contains("year 26, outside 1990–2100"), "{e}");
        assert_eq!(checked_date(""), Ok(None));
        assert_eq!(checked_date("soon"), Ok(None));
    }
}
