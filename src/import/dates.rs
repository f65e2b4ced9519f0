//! The date styles exports use: ISO (`2024-03-05 14:22`), US (`03/05/2024`),
//! RFC 2822 (mbox), RFC 3339 (Zoom), and Eventbrite's `2024-03-05 14:22:01+00:00`.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// The years an export's date may fall in: outside them it was misread
/// (a two-digit year taken as year 26) or typed wrong.
pub const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// A date as exports write it, only within `YEARS` (else `None`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    parse_any(s, false).filter(|d| YEARS.contains(&chrono::Datelike::year(d)))
}

/// A date cell: empty is no date; one outside `YEARS`, or one that reads as
/// no date at all (`15/13/2024`, `2024-02-30`), is an error said with the
/// cell (the caller adds file, line and column). `day_first` reads an
/// ambiguous `03/04/24` as 3 April (an export made in Europe) rather than
/// March 4 (the US tools' style); `13/01/2024` and `01.02.2024` are read
/// day first whatever it says.
pub fn checked_date(s: &str, day_first: bool) -> Result<Option<NaiveDate>, String> {
    let shown = || crate::domain::text::inert(s.trim()).into_owned();
    if s.trim().is_empty() {
        return Ok(None);
    }
    match parse_any(s, day_first) {
        Some(d) if !YEARS.contains(&chrono::Datelike::year(&d)) => Err(format!(
            "the date '{}' falls in year {}, outside {}–{}",
            shown(),
            chrono::Datelike::year(&d),
            YEARS.start(),
            YEARS.end()
        )),
        Some(d) => Ok(Some(d)),
        None => Err(format!(
            "'{}' is not a date (YYYY-MM-DD, DD/MM/YYYY, DD.MM.YYYY, MM/DD/YYYY with a day over 12, or RFC 2822/3339); correct it, or leave the column out of --map",
            shown()
        )),
    }
}

/// A numeric date with its parts in some order: `13/01/2024`, `3.4.24`,
/// `03/04/2024 10:00`. Dots are always day first; slashes are day first
/// when the first part is over 12, month first when the second is, else
/// as `day_first` says.
fn numeric(t: &str, day_first: bool) -> Option<Option<NaiveDate>> {
    let date = t.split([' ', 'T']).next()?;
    let sep = if date.contains('/') {
        '/'
    } else if date.contains('.') {
        '.'
    } else {
        return None;
    };
    let parts: Vec<&str> = date.split(sep).collect();
    let [a, b, y] = parts.as_slice() else {
        return None;
    };
    let num = |p: &str| {
        (!p.is_empty() && p.len() <= 4 && p.bytes().all(|c| c.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    };
    let (a, b, yn) = (num(a)?, num(b)?, num(y)?);
    let year = match y.len() {
        2 => 2000 + yn as i32,
        4 => yn as i32,
        _ => return Some(None),
    };
    let (day, month) = if sep == '.' || a > 12 {
        (a, b)
    } else if b > 12 {
        (b, a)
    } else if day_first {
        (a, b)
    } else {
        (b, a)
    };
    Some(NaiveDate::from_ymd_opt(year, month, day))
}

fn parse_any(s: &str, day_first: bool) -> Option<NaiveDate> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Some(d) = numeric(t, day_first) {
        return d;
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
        let e = checked_date("0026-08-25", false).unwrap_err();
        assert!(e.contains("year 26, outside 1990–2100"), "{e}");
        assert_eq!(checked_date("", true), Ok(None));
        assert!(checked_date("soon", true)
            .unwrap_err()
            .contains("'soon' is not a date"));
    }

    #[test]
    fn european_dates_are_read_day_first_and_impossible_ones_refused() {
        let ymd = |y, m, d| Some(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert_eq!(checked_date("15/11/2023", false), Ok(ymd(2023, 11, 15)));
        assert_eq!(checked_date("13/01/2024", false), Ok(ymd(2024, 1, 13)));
        assert_eq!(checked_date("01.02.2024", false), Ok(ymd(2024, 2, 1)));
        assert_eq!(checked_date("3.4.24", false), Ok(ymd(2024, 4, 3)));
        // Ambiguous: as the export's origin says.
        assert_eq!(checked_date("03/04/24", true), Ok(ymd(2024, 4, 3)));
        assert_eq!(checked_date("03/04/24", false), Ok(ymd(2024, 3, 4)));
        for bad in ["2024-02-30", "31/02/2024", "15/13/2024"] {
            assert!(checked_date(bad, true).is_err(), "{bad}");
        }
    }
}
