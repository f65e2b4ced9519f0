//! The JSON shapes the command line prints (README, "Working a case from the shell").

use crate::domain::{Case, Clock};
use crate::service::CaseView;
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Serialize)]
pub struct DeadlineJson<'a> {
    pub received: NaiveDate,
    pub calendar: &'a str,
    pub due: NaiveDate,
    pub extended_due: NaiveDate,
}

pub fn case_json(v: &CaseView) -> serde_json::Value {
    let c: &Case = &v.case;
    let k: &Clock = &v.clock;
    let open = c.state.is_open();
    serde_json::json!({
        "id": c.id,
        "rights": c.rights,
        "state": c.state,
        "channel": c.channel,
        "received": c.received,
        "due": k.due,
        "extended_due": k.extended_due,
        "paused_days": k.paused_days,
        "days_left": if open { k.days_left() } else { None },
        "overdue": open && k.is_overdue(),
        "clock": k.explain(),
        "requester": c.requester,
        "child": c.child,
        "subject": c.subject,
        // Records of the lookup staff attached or linked (SOURCE:KEY).
        "records": c.records,
        "history": c.history.iter().map(|e| serde_json::json!({
            "on": e.on, "kind": e.action.kind(), "by": e.actor, "gist": e.action.gist(),
        })).collect::<Vec<_>>(),
        "verification": c.verifications.last().map(|x| serde_json::json!({
            "method": x.method, "outcome": x.outcome, "by": x.by, "on": x.on, "note": x.note,
        })),
        "tasks": c.tasks.iter().map(|t| serde_json::json!({
            "source": t.source, "action": t.action, "status": t.status, "note": t.note,
            "by": t.by, "at": t.at.date_naive(),
        })).collect::<Vec<_>>(),
        "notes": c.notes.iter().map(|n| serde_json::json!({"text": n.text, "by": n.by, "at": n.at.date_naive()})).collect::<Vec<_>>(),
        "rectifications": c.rectifications().into_iter().map(|(e, field, old, new, reason)| serde_json::json!({
            "field": field, "old": old, "new": new, "reason": reason, "on": e.on, "by": e.actor,
        })).collect::<Vec<_>>(),
        "restriction_lifted": c.lift().map(|(e, told_on, how, reason)| serde_json::json!({
            "on": e.on, "by": e.actor, "told_on": told_on, "how": how, "reason": reason,
        })),
        "notices_sent": c.notices_sent().into_iter().map(|(e, letter, via)| serde_json::json!({
            "letter": letter, "on": e.on, "via": via, "by": e.actor,
        })).collect::<Vec<_>>(),
        "notices_owed": v.owed,
        "closure": c.closure.as_ref().map(|x| serde_json::json!({
            "outcome": x.outcome, "reason": x.reason, "closed_at": x.closed_at.date_naive(), "closed_by": x.closed_by,
            "responded_on": x.responded(), "via": x.via, "fee": x.fee, "gaps": x.gaps,
        })),
        "version": c.version,
    })
}

/// The next step as data: what the case waits for, the moves that take it
/// on, and every move the rules allow now (by name).
pub fn next_json(g: &crate::domain::guide::Guide) -> serde_json::Value {
    serde_json::json!({
        "waiting": g.next.waiting,
        "moves": g.next.moves.iter().map(|(m, what)| serde_json::json!({
            "move": m.name(), "what": what,
        })).collect::<Vec<_>>(),
        "allowed": g.moves.iter().map(|m| m.name()).collect::<Vec<_>>(),
    })
}
