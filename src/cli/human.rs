//! Plain-text output for people. Every piece of outside text goes through
//! `inert` so nothing a requester typed can drive the terminal.

use crate::domain::audit::AuditEntry;
use crate::domain::guide::{Guide, Move};
use crate::domain::text::{aside, clip, inert};
use crate::service::CaseView;
use std::fmt::Write;

pub fn queue_table(views: &[CaseView]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<14} {:<24} {:<22} {:<22} {:<10} {:<10} LEFT",
        "ID", "SUBJECT", "RIGHTS", "STATE", "RECEIVED", "DUE"
    );
    for v in views {
        let c = &v.case;
        let due = v
            .clock
            .effective_due()
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "{:<14} {:<24} {:<22} {:<22} {:<10} {:<10} {}",
            c.id.to_string(),
            clip(&inert(&c.subject.name), 24),
            clip(&c.rights_label(), 22),
            c.state.as_str(),
            c.received.to_string(),
            due,
            v.urgency()
        );
    }
    if views.is_empty() {
        s.push_str("(no cases)\n");
    }
    s
}

/// The shell command that takes a move on case `id`, with what it needs
/// in capitals (runnable once they are filled in).
fn shell_move(m: Move, c: &crate::domain::Case) -> String {
    let id = c.id;
    let rest = match m {
        Move::ExportAccess => {
            return format!("rightsdesk export access {id} --out DIR --password-file FILE")
        }
        Move::Fee if c.fee_awaited().is_some() => return format!("rightsdesk case fee-paid {id}"),
        Move::Verify => " --method METHOD",
        Move::RecordTask => " SOURCE --status done|not-found --note EVIDENCE",
        Move::Close => " --outcome OUTCOME --reason TEXT",
        Move::Pause | Move::Extend => " --reason TEXT",
        Move::Fee => " --amount AMOUNT --reason TEXT",
        Move::Rectify => " --field F --old OLD --new NEW --reason TEXT",
        Move::LiftRestriction => " --told-on DATE --how HOW --reason TEXT",
        Move::Note => " TEXT",
        Move::Plan => " --accept",
        Move::RequestId | Move::Resume | Move::MarkReady | Move::Letter => "",
    };
    format!("rightsdesk case {} {id}{rest}", m.name())
}

/// "next: verify identity (rightsdesk case verify DSR-…)": the domain's next
/// step with the commands that take it.
pub fn next_line(v: &CaseView, g: &Guide) -> String {
    let mut s = g.next.waiting.clone().unwrap_or_default();
    let moves: Vec<String> = g
        .next
        .moves
        .iter()
        .map(|(m, what)| format!("{what} ({})", shell_move(*m, &v.case)))
        .collect();
    if !s.is_empty() && !moves.is_empty() {
        s.push_str(" — ");
    }
    s.push_str(&moves.join(" · "));
    // The fee's amount is staff's text.
    inert(&s).into_owned()
}

pub fn case_detail(v: &CaseView, g: &Guide) -> String {
    let c = &v.case;
    let mut s = String::new();
    let _ = writeln!(s, "{}  {}  [{}]", c.id, inert(&c.subject.name), c.state);
    let _ = writeln!(
        s,
        "rights:     {}",
        c.rights
            .iter()
            .map(|r| format!("{r} ({})", r.article()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(s, "channel:    {}", c.channel);
    let mut who = c.requester.relation.to_string();
    if let Some(n) = &c.requester.name {
        who.push_str(&format!(" {}", inert(n)));
    }
    if let Some(a) = &c.requester.authority {
        who.push_str(&format!(" (authority: {})", inert(a)));
    }
    let _ = writeln!(
        s,
        "requester:  {who}{}",
        if c.child { "; subject is a child" } else { "" }
    );
    if !c.subject.emails.is_empty() {
        let _ = writeln!(s, "e-mail:     {}", inert(&c.subject.emails.join(", ")));
    }
    if !c.subject.phones.is_empty() {
        let _ = writeln!(s, "phone:      {}", inert(&c.subject.phones.join(", ")));
    }
    let _ = writeln!(s, "clock:      {}", v.clock.explain());
    let _ = writeln!(s, "status:     {}", v.urgency());
    let _ = writeln!(s, "next:       {}", next_line(v, g));
    match c.verifications.last() {
        Some(x) => {
            let _ = writeln!(
                s,
                "identity:   {} by {} ({}) on {}{}",
                x.outcome,
                inert(&x.by),
                x.method,
                x.on,
                aside(&x.note)
            );
        }
        None => {
            let _ = writeln!(s, "identity:   not yet verified");
        }
    }
    if !c.tasks.is_empty() {
        let _ = writeln!(s, "tasks:");
        for t in &c.tasks {
            let _ = writeln!(
                s,
                "  [{}] {:<20} {:<20} {} {}{}",
                mark(t.status),
                t.source,
                inert(&t.action),
                t.status,
                t.at.date_naive(),
                aside(&t.note)
            );
        }
    }
    if !c.notes.is_empty() {
        let _ = writeln!(s, "notes:");
        for n in &c.notes {
            let _ = writeln!(
                s,
                "  {} {}: {}",
                n.at.date_naive(),
                inert(&n.by),
                inert(&n.text)
            );
        }
    }
    for (e, field, old, new, reason) in c.rectifications() {
        let _ = writeln!(
            s,
            "rectified:  {} on {} by {}: '{}' → '{}' ({})",
            inert(field),
            e.on,
            inert(&e.actor),
            inert(old),
            inert(new),
            inert(reason)
        );
    }
    if let Some((e, told_on, how, reason)) = c.lift() {
        let _ = writeln!(
            s,
            "restriction lifted on {} by {}; the subject was told on {} ({}): {}",
            e.on,
            inert(&e.actor),
            told_on,
            inert(how),
            inert(reason)
        );
    }
    for (e, letter, via) in c.notices_sent() {
        let _ = writeln!(
            s,
            "sent:       {} on {} by {} ({})",
            letter.describe(),
            e.on,
            via,
            inert(&e.actor)
        );
    }
    for owed in &v.owed {
        let _ = writeln!(s, "warning:    {owed}");
    }
    if let Some(x) = &c.closure {
        let _ = writeln!(
            s,
            "closed:     {} on {} by {}: {}",
            x.outcome,
            x.closed_at.date_naive(),
            inert(&x.closed_by),
            inert(&x.reason)
        );
    }
    let _ = writeln!(s, "history:");
    for e in &c.history {
        let gist = e
            .action
            .gist()
            .map(|g| format!("  {}", inert(&g)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {} {:<16} {}{gist}",
            e.on,
            e.action.kind(),
            inert(&e.actor)
        );
    }
    s
}

fn mark(st: crate::domain::TaskStatus) -> char {
    if st == crate::domain::TaskStatus::Pending {
        ' '
    } else {
        'x'
    }
}

pub fn audit_line(e: &AuditEntry) -> String {
    let case = e.case.map(|c| c.to_string()).unwrap_or_else(|| "-".into());
    let detail = if e.detail.as_object().is_some_and(|o| o.is_empty()) {
        String::new()
    } else {
        e.detail.to_string()
    };
    format!(
        "#{:<5} {} {:<10} {:<14} {:<14} {} {}",
        e.seq,
        e.at.format("%Y-%m-%d %H:%M:%S"),
        inert(&e.actor),
        case,
        e.kind,
        inert(&detail),
        &e.hash[..12]
    )
}
