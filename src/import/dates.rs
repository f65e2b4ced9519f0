//! The date styles exports use: ISO (`2024-03-05 14:22`), US (`03/05/2024`),
//! RFC 2822 (mbox), RFC 3339 (Zoom), and Eventbrite's `2024-03-05 14:22:01+00:00`.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

pub fn parse_date(s: &str) -> Option<NaiveDate> {
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
}
