//! `rightsdesk due`: deadlines that come to the staff — the list, the login
//! line and the team's calendar (iCalendar, RFC 5545).

use super::{exit, fail, print_json, Failure};
use crate::domain::deadline::{Deadline, DueList};
use crate::remote::backend::Backend;
use chrono::{DateTime, Utc};
use std::path::Path;

fn rights(d: &Deadline) -> String {
    d.rights
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The list in words, most urgent first.
pub fn human(list: &DueList) -> String {
    let mut out = String::new();
    let within = crate::domain::text::counted(list.within as usize, "day", "days");
    if list.cases.is_empty() {
        out.push_str(&format!(
            "nothing overdue or due within {within} (today {})\n",
            list.today
        ));
        return out;
    }
    out.push_str(&format!(
        "{} overdue, {} due within {within} (today {})\n",
        list.overdue, list.due_within, list.today
    ));
    for d in &list.cases {
        out.push_str(&format!(
            "{}  {:<13} due {}  {:<23} {}{}\n",
            d.id,
            d.words,
            d.due,
            d.state.as_str(),
            rights(d),
            if d.paused { "  (paused)" } else { "" }
        ));
    }
    out
}

/// Text for an iCalendar value: backslash, semicolon, comma and line
/// breaks escaped (RFC 5545 §3.3.11).
fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Lines longer than 75 octets are folded (RFC 5545 §3.1), never inside a
/// character; every line ends CRLF.
fn push_line(out: &mut String, line: &str) {
    let mut start = 0;
    let mut first = true;
    while start < line.len() {
        let room = if first { 75 } else { 74 };
        let mut end = (start + room).min(line.len());
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        if !first {
            out.push(' ');
        }
        out.push_str(&line[start..end]);
        out.push_str("\r\n");
        start = end;
        first = false;
    }
}

/// The open cases' due dates as all-day events. Titles and descriptions
/// hold the case id, its rights and the clock's arithmetic: never a name or
/// an address, so the team's calendar holds no personal data.
pub fn ics(list: &DueList, stamp: DateTime<Utc>) -> String {
    let mut out = String::new();
    let stamp = stamp.format("%Y%m%dT%H%M%SZ").to_string();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//rightsdesk//deadlines//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:rightsdesk deadlines",
    ] {
        push_line(&mut out, line);
    }
    for d in &list.cases {
        let day = d.due.format("%Y%m%d");
        let next = d.due.succ_opt().unwrap_or(d.due).format("%Y%m%d");
        for line in [
            "BEGIN:VEVENT".to_string(),
            // Stable per case: a calendar that subscribes replaces the event
            // when the date moves (a pause, an extension).
            format!("UID:{}-due@rightsdesk", d.id),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART;VALUE=DATE:{day}"),
            format!("DTEND;VALUE=DATE:{next}"),
            format!(
                "SUMMARY:{}",
                ics_text(&format!("{} due: {}", d.id, rights(d)))
            ),
            format!(
                "DESCRIPTION:{}",
                // No "3d left": a calendar keeps the text for days.
                ics_text(&format!("{}: {}", d.state.as_str(), d.clock))
            ),
            "TRANSP:TRANSPARENT".to_string(),
            "END:VEVENT".to_string(),
        ] {
            push_line(&mut out, &line);
        }
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

/// Runs `due`; exit 6 when any open case is overdue.
pub fn run(
    dir: &Path,
    within: u32,
    login: bool,
    ics_file: Option<&Path>,
    json: bool,
    open: impl FnOnce() -> Result<Backend, Failure>,
) -> Result<(), Failure> {
    // A login line never makes a store where there is none (a staff member
    // with no desk of their own and no team service configured).
    if login {
        let here = match crate::remote::door(dir) {
            Ok(crate::remote::Door::Service(_)) => true,
            Ok(crate::remote::Door::Store) => dir.join(crate::service::paths::STORE_DIR).is_dir(),
            // A team service that does not answer: the login is not the
            // place to say so (every command says it).
            Err(_) => false,
        };
        if !here {
            return Ok(());
        }
    }
    let desk = open()?;
    if login {
        let counts = desk.due_counts(within)?;
        if let Some(line) = counts.login_line() {
            outln!("{line}");
        }
        if counts.overdue > 0 {
            std::process::exit(exit::OVERDUE);
        }
        return Ok(());
    }
    let list = match ics_file {
        Some(_) => desk.due(None)?,
        None => desk.due(Some(within))?,
    };
    if let Some(path) = ics_file {
        crate::service::paths::write_private(path, ics(&list, Utc::now()).as_bytes())
            .map_err(|e| fail(exit::FAILED, format!("{}: {e}", path.display())))?;
        crate::errln!(
            "wrote {} to {}",
            crate::domain::text::counted(list.cases.len(), "due date", "due dates"),
            path.display()
        );
    } else if json {
        print_json(&list);
    } else {
        out!("{}", human(&list));
    }
    if list.overdue > 0 {
        std::process::exit(exit::OVERDUE);
    }
    Ok(())
}
