//! `rightsdesk inbox`: the requests in a mailbox that are not cases yet, the
//! replies about cases, and what was passed over.

use super::{print_json, Failure};
use crate::domain::text::inert;
use crate::service::mailbox::Inbox;

pub fn human(inbox: &Inbox) -> String {
    let waiting = inbox.waiting().count();
    let opened = inbox.requests.len() - waiting;
    let replies: usize = inbox.threads.iter().map(|t| t.replies.len()).sum();
    let counted = crate::domain::text::counted;
    let mut out = format!(
        "{} waiting, {} opened as {}; {} about {}; {} other; {} read\n",
        counted(waiting, "request", "requests"),
        opened,
        if opened == 1 { "a case" } else { "cases" },
        counted(replies, "reply", "replies"),
        counted(inbox.threads.len(), "case", "cases"),
        inbox.other,
        counted(inbox.messages, "message", "messages"),
    );
    for r in &inbox.requests {
        let rights: Vec<&str> = r.rights.iter().map(|r| r.as_str()).collect();
        out.push_str(&format!(
            "\n{}  {}  {}{}\n  subject: {}\n  asks: {} (words: {})\n  id: {}\n",
            crate::inbox::day_shown(r.received),
            r.person.shown(),
            if r.person != r.from {
                format!(" (sent by {})", r.from.shown())
            } else {
                String::new()
            },
            match &r.case {
                Some(c) => format!("  — opened as {c}"),
                None => String::new(),
            },
            inert(&r.subject),
            rights.join(", "),
            inert(&r.why.join(", ")),
            inert(&r.message_id),
        ));
    }
    for t in &inbox.threads {
        out.push_str(&format!(
            "\n{}{}\n",
            t.case,
            if t.known {
                ""
            } else {
                " (not a case of this desk)"
            }
        ));
        for r in &t.replies {
            out.push_str(&format!(
                "  {}  {}  {}\n",
                crate::inbox::day_shown(r.received),
                r.from.shown(),
                inert(&r.subject)
            ));
        }
    }
    for s in &inbox.skipped {
        out.push_str(&format!(
            "\nnot read: {} (message {}): {}\n",
            inert(&s.at.file.display().to_string()),
            s.at.index + 1,
            inert(&s.why)
        ));
    }
    out
}

pub fn run(inbox: &Inbox, json: bool) -> Result<(), Failure> {
    if json {
        print_json(inbox);
    } else {
        out!("{}", human(inbox));
    }
    Ok(())
}
