//! The privacy mailbox and one message, as the desk draws them. Every word
//! of a message is the sender's: drawn inert, never as terminal codes.

use super::records::big;
use crate::domain::text::{clip, inert};
use crate::inbox::Mail;
use crate::service::mailbox::Inbox;
use crate::tui::app::mailbox::{rows, Row};
use crate::tui::app::App;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

pub fn inbox(app: &App, inbox: &Inbox, selected: usize, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let r = big(area);
    let w = usize::from(r.width.saturating_sub(2));
    let counted = crate::domain::text::counted;
    let mut lines = vec![Line::from(vec![
        Span::raw(format!(
            "{} waiting · {} · ",
            counted(inbox.waiting().count(), "request", "requests"),
            counted(
                inbox.threads.iter().map(|t| t.replies.len()).sum(),
                "reply",
                "replies"
            ),
        )),
        Span::styled("enter", t.key()),
        Span::raw(" read "),
        Span::styled("n", t.key()),
        Span::raw(" new case "),
        Span::styled("r", t.key()),
        Span::raw(" read again"),
    ])];
    let all = rows(inbox);
    if all.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "no requests and no replies among {}",
                counted(inbox.messages, "message", "messages")
            ),
            t.muted(),
        )));
    }
    let room = usize::from(r.height.saturating_sub(3)).max(1);
    let start = selected.saturating_sub(room - 1);
    for (i, row) in all.iter().enumerate().skip(start).take(room) {
        let text = match *row {
            Row::Request(k) => {
                let q = &inbox.requests[k];
                let rights: Vec<&str> = q.rights.iter().map(|r| r.as_str()).collect();
                // Opened already: its case in place of the rights, so it
                // shows at any width.
                let what = q.case.clone().unwrap_or_else(|| rights.join(","));
                format!(
                    "{}  {:<13} {:<22} {}",
                    crate::inbox::day_shown(q.received),
                    clip(&what, 13),
                    clip(&q.person.short(), 22),
                    inert(&q.subject),
                )
            }
            Row::Reply { thread, reply } => {
                let th = &inbox.threads[thread];
                let m = &th.replies[reply];
                format!(
                    "{}  ↳ {}{} {:<22} {}",
                    crate::inbox::day_shown(m.received),
                    th.case,
                    if th.known { "" } else { " (not here)" },
                    clip(&m.from.short(), 22),
                    inert(&m.subject)
                )
            }
        };
        let opened = matches!(*row, Row::Request(k) if inbox.requests[k].case.is_some());
        let style = if i == selected {
            t.selected()
        } else if opened {
            t.muted()
        } else {
            ratatui::style::Style::default()
        };
        lines.push(Line::from(Span::styled(clip(&text, w), style)));
    }
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(Block::bordered().title(Span::styled(" Mailbox (j/k move, q close) ", t.title())))
        .render(r, buf);
}

pub fn mail(app: &App, mail: &Mail, scroll: u16, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let r = big(area);
    let mut lines = vec![Line::from(vec![
        Span::styled("From:    ", t.header()),
        Span::raw(mail.from.shown()),
    ])];
    if mail.person() != &mail.from {
        lines.push(Line::from(vec![
            Span::styled("For:     ", t.header()),
            Span::raw(mail.person().shown()),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled("Date:    ", t.header()),
        Span::raw(match (mail.date, mail.received) {
            (Some(d), Some(day)) => {
                format!("{} (received {day})", d.format("%a %-d %b %Y %H:%M %z"))
            }
            _ => "none readable".into(),
        }),
    ]));
    lines.push(Line::from(vec![
        Span::styled("Subject: ", t.header()),
        Span::raw(inert(&mail.subject).into_owned()),
    ]));
    if let crate::domain::request_words::Reading::Request { rights, why, .. } = &mail.reading {
        let rights: Vec<&str> = rights.iter().map(|r| r.as_str()).collect();
        lines.push(Line::from(vec![
            Span::styled("Asks:    ", t.header()),
            Span::raw(format!(
                "{} (words: {})",
                rights.join(", "),
                inert(&why.join(", "))
            )),
        ]));
    }
    lines.push(Line::from(""));
    lines.extend(mail.body.lines().map(|l| Line::from(inert(l).into_owned())));
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let room = r.height.saturating_sub(2);
    let total = u16::try_from(paragraph.line_count(r.width.saturating_sub(2))).unwrap_or(u16::MAX);
    let max = total.saturating_sub(room);
    app.popup_scroll_max.set(max);
    Clear.render(r, buf);
    paragraph
        .block(Block::bordered().title(Span::styled(
            " Message (j/k scroll, n new case, q close) ",
            t.title(),
        )))
        .scroll((scroll.min(max), 0))
        .render(r, buf);
}
