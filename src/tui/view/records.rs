//! The records view and the audit viewer: big popups that only draw.

use crate::domain::closure_log::Figures;
use crate::domain::text::{clip, inert};
use crate::tui::app::{App, AuditView};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};
use std::collections::BTreeMap;

/// A popup over the whole screen but its edge.
pub(super) fn big(area: Rect) -> Rect {
    Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    }
}

fn pct(f: &Figures) -> String {
    f.on_time_rate()
        .map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn days(d: Option<i64>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "–".into())
}

fn counts(m: &BTreeMap<String, usize>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A bar of `n` out of `max` in `width` cells (at least one cell when n > 0).
fn bar(n: usize, max: usize, width: usize) -> String {
    if max == 0 || n == 0 {
        return String::new();
    }
    let cells = ((n * width).div_ceil(max)).clamp(1, width);
    "█".repeat(cells)
}

pub fn records(
    app: &App,
    all: &Figures,
    months: &BTreeMap<String, Figures>,
    scroll: u16,
    area: Rect,
    buf: &mut Buffer,
) {
    let t = &app.theme;
    let r = big(area);
    let mut lines = vec![
        Line::from(Span::styled("All closed cases", t.title())),
        Line::from(format!(
            "{} closed · on time {} · median {} days · 90th percentile {} days · extended {}",
            all.closed,
            pct(all),
            days(all.median_days),
            days(all.p90_days),
            all.extended
        )),
        Line::from(format!("by right: {}", counts(&all.by_right))),
        Line::from(format!("by outcome: {}", counts(&all.by_outcome))),
        Line::from(format!("refusals: {}", counts(&all.refusals))),
        Line::from(""),
        Line::from(Span::styled(
            "month    closed  on time  median  p90  extended  refused",
            t.title(),
        )),
    ];
    for (m, f) in months.iter().rev() {
        lines.push(Line::from(format!(
            "{m}  {:>6}  {:>7}  {:>6}  {:>3}  {:>8}  {:>7}",
            f.closed,
            pct(f),
            days(f.median_days),
            days(f.p90_days),
            f.extended,
            f.refusals.values().sum::<usize>()
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "closed per month (█ on time, ░ late)",
        t.title(),
    )));
    let max = months.values().map(|f| f.closed).max().unwrap_or(0);
    let width = usize::from(r.width.saturating_sub(22)).max(4);
    for (m, f) in months.iter().rev() {
        let on = bar(f.on_time, max, width);
        let late = bar(f.closed - f.on_time, max, width).replace('█', "░");
        lines.push(Line::from(vec![
            Span::raw(format!("{m} ")),
            Span::styled(on, t.ok()),
            Span::styled(late, t.error()),
            Span::raw(format!(" {} ({})", f.closed, pct(f))),
        ]));
    }
    if months.is_empty() {
        lines.push(Line::from(Span::styled("no closed case yet", t.muted())));
    }
    Clear.render(r, buf);
    // The summary lines wrap at word boundaries rather than being cut;
    // scrolling stops with the last line at the bottom.
    let page = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::bordered().title(Span::styled(
            " Records (j/k scroll, q close; X exports the closure log) ",
            t.title(),
        )));
    let rows = page.line_count(r.width.saturating_sub(2));
    let max = u16::try_from(rows.saturating_sub(usize::from(r.height))).unwrap_or(u16::MAX);
    page.scroll((scroll.min(max), 0)).render(r, buf);
}

pub fn audit(app: &App, v: &AuditView, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let r = big(area);
    let shown = v.shown();
    let scope = v
        .case
        .map(|c| c.to_string())
        .unwrap_or_else(|| "all cases".into());
    let mut lines = vec![Line::from(vec![
        Span::raw(format!(
            "{scope} · actor {} · kind {} · {} of {} entries  ",
            v.actor.as_deref().map(inert).unwrap_or("any".into()),
            v.kind.as_deref().map(inert).unwrap_or("any".into()),
            shown.len(),
            v.entries.len()
        )),
        Span::styled("u", t.key()),
        Span::raw(" actor "),
        Span::styled("t", t.key()),
        Span::raw(" kind "),
        Span::styled("v", t.key()),
        Span::raw(" verify"),
    ])];
    if let Some((ok, said)) = &v.verified {
        lines.push(Line::from(Span::styled(
            inert(said).into_owned(),
            if *ok { t.ok() } else { t.error() },
        )));
    }
    let room = usize::from(r.height.saturating_sub(2 + lines.len() as u16)).max(1);
    let start = v.selected.saturating_sub(room - 1);
    let w = usize::from(r.width.saturating_sub(2));
    for (i, e) in shown.iter().enumerate().skip(start).take(room) {
        let case = e.case.map(|c| c.to_string()).unwrap_or_default();
        let text = format!(
            "{:>6} {} {:<10} {:<20} {:<13} {}",
            e.seq,
            e.at.format("%Y-%m-%d %H:%M"),
            clip(&inert(&e.actor), 10),
            clip(&e.kind, 20),
            case,
            inert(&e.detail.to_string())
        );
        let style = if i == v.selected {
            t.selected()
        } else {
            ratatui::style::Style::default()
        };
        lines.push(Line::from(Span::styled(clip(&text, w), style)));
    }
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(
            Block::bordered().title(Span::styled(" Audit chain (j/k move, q close) ", t.title())),
        )
        .render(r, buf);
}
