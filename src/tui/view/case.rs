//! One case: request, subject, clock, identity, tasks, timeline, notes.

use super::mask;
use super::queue::urgency_style;
use crate::domain::text::{aside, clip, inert};
use crate::domain::TaskStatus;
use crate::tui::app::App;
use crate::tui::keymap::{Action, Scope};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(v) = &app.case else { return };
    let c = &v.case;
    let t = &app.theme;
    let u = v.urgency();
    let label = |s: &str| Span::styled(format!("{s:<10} "), t.muted());
    let mut lines: Vec<Line> = Vec::new();
    // On a short screen what comes next leads: below the request, subject
    // and clock it would be under the fold.
    let short = area.height < 16;
    if short {
        lines.push(next_step(app, label("Next")));
    }

    let mut request = format!(
        "{} · by {} · requester: {}",
        c.rights
            .iter()
            .map(|r| format!("{r} ({})", r.article()))
            .collect::<Vec<_>>()
            .join(", "),
        c.channel,
        c.requester.relation
    );
    if let Some(n) = &c.requester.name {
        request.push_str(&format!(" {}", mask::shown(app.masked, n, mask::name)));
    }
    if let Some(a) = &c.requester.authority {
        request.push_str(&format!(" (authority: {})", inert(a)));
    }
    if c.child {
        request.push_str(" · CHILD");
    }
    lines.push(Line::from(vec![label("Request"), Span::raw(request)]));
    if c.child {
        lines.push(Line::from(vec![
            label(""),
            Span::styled(
                "◆ a child: the policy says our services are not for under-16s; check who may act for them",
                t.due_soon(),
            ),
        ]));
    }

    let mut who = vec![mask::shown(app.masked, &c.subject.name, mask::name)];
    who.extend(
        c.subject
            .emails
            .iter()
            .map(|e| mask::shown(app.masked, e, mask::email)),
    );
    who.extend(
        c.subject
            .phones
            .iter()
            .map(|p| mask::shown(app.masked, p, mask::phone)),
    );
    let mut subject = vec![label("Subject"), Span::raw(who.join(" · "))];
    let f = app.case_flags;
    for (on, word) in [
        (f.restricted, "RESTRICTED"),
        (f.do_not_market, "DO NOT MARKET"),
        (f.erased, "ERASED"),
    ] {
        if on {
            subject.push(Span::raw(" "));
            subject.push(Span::styled(word, t.error()));
        }
    }
    lines.push(Line::from(subject));
    lines.push(Line::from(vec![
        label("Clock"),
        Span::styled(u.to_string(), urgency_style(app, u)),
        Span::raw(format!(" — {}", v.clock.explain())),
    ]));
    if !short {
        lines.push(next_step(app, label("Next")));
    }
    let identity = match (c.verified(), c.verifications.last()) {
        (Some(x), _) => Line::from(vec![
            label("Identity"),
            Span::styled("VERIFIED", t.ok()),
            Span::raw(format!(
                " by {} ({}) on {}{}",
                inert(&x.by),
                x.method,
                x.on,
                aside(&x.note)
            )),
        ]),
        (None, Some(x)) => Line::from(vec![
            label("Identity"),
            Span::styled("NOT VERIFIED", t.error()),
            Span::raw(format!(
                " — last check {} by {} on {}{}",
                x.outcome,
                inert(&x.by),
                x.on,
                aside(&x.note)
            )),
        ]),
        (None, None) => Line::from(vec![
            label("Identity"),
            Span::styled("NOT VERIFIED", t.error()),
            Span::raw(" — not yet checked"),
        ]),
    };
    lines.push(identity);
    if let Some(x) = &c.closure {
        lines.push(Line::from(vec![
            label("Closed"),
            Span::raw(format!(
                "{} on {} by {}: {}",
                x.outcome,
                x.closed_at.date_naive(),
                inert(&x.closed_by),
                inert(&x.reason)
            )),
        ]));
    }

    lines.push(Line::from(""));
    let done = c
        .tasks
        .iter()
        .filter(|x| x.status != TaskStatus::Pending)
        .count();
    lines.push(Line::from(Span::styled(
        format!("Tasks {done}/{}", c.tasks.len()),
        t.header(),
    )));
    if c.tasks.is_empty() {
        lines.push(Line::from(Span::styled("  none yet", t.muted())));
    }
    for x in &c.tasks {
        let mark = if x.status == TaskStatus::Pending {
            "[ ]"
        } else {
            "[x]"
        };
        lines.push(Line::from(format!(
            "  {mark} {:<19} {:<18} {:<9} {} {}{}",
            x.source,
            clip(&inert(&x.action), 18),
            x.status.as_str(),
            inert(&x.by),
            x.at.date_naive(),
            aside(&x.note)
        )));
    }

    lines.push(Line::from(""));
    let rectified = c.rectifications();
    if !rectified.is_empty() || c.lift().is_some() {
        lines.push(Line::from(Span::styled(
            "Corrections and lifts",
            t.header(),
        )));
        for (e, field, old, new, reason) in rectified {
            // The values are the person's data: hidden when masking.
            let value = |v: &str| {
                if app.masked {
                    "•••".to_string()
                } else {
                    inert(v).into_owned()
                }
            };
            lines.push(Line::from(format!(
                "  {} {}: '{}' → '{}' ({}) — {}",
                e.on,
                inert(field),
                value(old),
                value(new),
                inert(reason),
                inert(&e.actor)
            )));
        }
        if let Some((e, told_on, how, reason)) = c.lift() {
            lines.push(Line::from(format!(
                "  {} restriction lifted — told {} ({}): {} — {}",
                e.on,
                told_on,
                inert(how),
                inert(reason),
                inert(&e.actor)
            )));
        }
        lines.push(Line::from(""));
    }
    let sent = c.notices_sent();
    if !sent.is_empty() || !v.owed.is_empty() {
        lines.push(Line::from(Span::styled("Letters", t.header())));
        for (e, letter, via) in sent {
            lines.push(Line::from(format!(
                "  {} {} sent by {via} — {}",
                e.on,
                letter.describe(),
                inert(&e.actor)
            )));
        }
        for owed in &v.owed {
            lines.push(Line::from(Span::styled(
                format!("  ⚠ {owed}"),
                t.due_soon(),
            )));
        }
        lines.push(Line::from(""));
    }
    lines.push(Line::from(Span::styled("Timeline", t.header())));
    for e in &c.history {
        let gist = e
            .action
            .gist()
            .map(|g| format!("  {}", inert(&g)))
            .unwrap_or_default();
        lines.push(Line::from(format!(
            "  {} {:<16} {}{gist}",
            e.on,
            e.action.kind(),
            inert(&e.actor)
        )));
    }
    if !c.notes.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled("Notes", t.header())));
        for n in &c.notes {
            lines.push(Line::from(format!(
                "  {} {}: {}",
                n.at.date_naive(),
                inert(&n.by),
                inert(&n.text)
            )));
        }
    }

    let title = format!(
        " {} · {} · {} ",
        c.id,
        mask::shown(app.masked, &c.subject.name, mask::name),
        c.state
    );
    let page = Paragraph::new(lines)
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(Span::styled(title, t.title())),
        )
        .wrap(Wrap { trim: false });
    // Scrolling stops with the last line at the bottom: the app keeps the
    // furthest it may go (G, pgdn and j go no further than a full page).
    let rows = page.line_count(area.width);
    let max = u16::try_from(rows.saturating_sub(usize::from(area.height))).unwrap_or(u16::MAX);
    app.case_scroll_max.set(max);
    page.scroll((app.case_scroll.min(max), 0)).render(area, buf);
}

/// "Next: verify identity (v) · or ask for more ID (i)": the domain's next
/// step, with the keys this desk binds to its moves.
fn next_step<'a>(app: &'a App, label: Span<'a>) -> Line<'a> {
    let t = &app.theme;
    let mut spans = vec![label];
    let next = &app.guide.next;
    if let Some(w) = &next.waiting {
        spans.push(Span::styled(inert(w).into_owned(), t.due_soon()));
        if !next.moves.is_empty() {
            spans.push(Span::raw(" — "));
        }
    }
    for (i, (m, what)) in next.moves.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" · "));
        }
        spans.push(Span::raw(what.clone()));
        let action = Action::of_move(*m);
        if let Some(k) = app.keymap.first_key(Scope::Case, action) {
            spans.push(Span::raw(" "));
            spans.push(Span::styled(format!("({k})"), t.key()));
        }
    }
    Line::from(spans)
}
