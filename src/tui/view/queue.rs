//! The queue: open cases, most urgent first.

use super::mask;
use crate::domain::State;
use crate::service::{CaseView, Urgency};
use crate::tui::app::App;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, StatefulWidget, Table, TableState, Widget, Wrap};

pub fn state_label(s: State) -> &'static str {
    match s {
        State::Received => "received",
        State::AwaitingIdentity => "await ID",
        State::InProgress => "in progress",
        State::AwaitingClarification => "clarifying",
        State::ReadyToRespond => "ready",
        State::Closed => "closed",
    }
}

pub fn urgency_style(app: &App, u: Urgency) -> Style {
    match u {
        Urgency::Overdue(_) => app.theme.overdue(),
        Urgency::DueSoon(_) => app.theme.due_soon(),
        Urgency::Closed | Urgency::OnHold => app.theme.muted(),
        Urgency::Due(_) => Style::default(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Width {
    Narrow,
    Medium,
    Wide,
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let [filters, table] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let q = &app.queue;
    let t = &app.theme;
    let f = |s: Option<String>| s.unwrap_or_else(|| "all".into());
    Line::from(vec![
        Span::styled(" state: ", t.muted()),
        Span::raw(f(q.state_filter.map(|s| s.to_string()))),
        Span::styled("  right: ", t.muted()),
        Span::raw(f(q.right_filter.map(|r| r.to_string()))),
        Span::styled("  closed: ", t.muted()),
        Span::raw(if q.show_closed { "shown" } else { "hidden" }),
        Span::styled(format!("  {} shown", q.rows.len()), t.muted()),
    ])
    .render(filters, buf);

    if q.rows.is_empty() {
        let msg = if q.views.is_empty() {
            "No cases yet. Press n to open one from a request (intake), m for the requests in the mailbox, or ? for all keys."
        } else {
            "No cases match the filters. Press 0 to clear them, or c to show closed cases."
        };
        Paragraph::new(msg)
            .wrap(Wrap { trim: true })
            .render(table.inner(ratatui::layout::Margin::new(1, 1)), buf);
        return;
    }

    let width = match area.width {
        w if w < 60 => Width::Narrow,
        w if w < 100 => Width::Medium,
        _ => Width::Wide,
    };
    let (headers, widths): (Vec<&str>, Vec<Constraint>) = match width {
        Width::Narrow => (
            // The column holds the clock's words ("OVERDUE 3d", "30d left").
            vec!["ID", "SUBJECT", "LEFT"],
            vec![
                Constraint::Length(13),
                Constraint::Fill(1),
                Constraint::Length(13),
            ],
        ),
        Width::Medium => (
            vec!["ID", "SUBJECT", "RIGHTS", "STATE", "RECVD", "DUE", "LEFT"],
            vec![
                Constraint::Length(13),
                Constraint::Fill(1),
                Constraint::Length(7),
                Constraint::Length(11),
                Constraint::Length(6),
                Constraint::Length(7),
                Constraint::Length(13),
            ],
        ),
        Width::Wide => (
            vec![
                "ID",
                "SUBJECT",
                "RIGHTS",
                "STATE",
                "RECEIVED",
                "DUE",
                "DAYS LEFT",
            ],
            vec![
                Constraint::Length(13),
                Constraint::Fill(1),
                Constraint::Length(20),
                Constraint::Length(22),
                Constraint::Length(10),
                Constraint::Length(11),
                Constraint::Length(13),
            ],
        ),
    };

    // Build only the rows that fit: the queue may hold many thousands of cases.
    let visible = usize::from(table.height.saturating_sub(1)).max(1);
    let start = page_top(app.queue_top.get(), q.selected, visible, q.rows.len());
    app.queue_top.set(start);
    let rows: Vec<Row> = q.rows[start..(start + visible).min(q.rows.len())]
        .iter()
        .map(|&i| row(app, &q.views[i], width))
        .collect();
    let header = Row::new(headers).style(t.header());
    let mut state = TableState::default().with_selected(Some(q.selected - start));
    StatefulWidget::render(
        Table::new(rows, widths)
            .header(header)
            .row_highlight_style(t.selected())
            .column_spacing(1),
        table,
        buf,
        &mut state,
    );
}

/// The first row shown. The page stays put while the selection moves
/// within it; past an edge it moves by half a page, not a row: a list that
/// shifts by one row repaints every row (1.5 KB a keypress over SSH at
/// 80x24), so one jump every half page keeps scrolling about as cheap as
/// moving within the page.
pub fn page_top(top: usize, selected: usize, visible: usize, len: usize) -> usize {
    let last_top = len.saturating_sub(visible);
    let half = (visible / 2).max(1);
    let top = if selected < top {
        selected.saturating_sub(half - 1)
    } else if selected >= top + visible {
        (selected + half + 1).saturating_sub(visible)
    } else {
        top
    };
    top.min(last_top)
}

/// A day in six characters: "18 Oct" this year, "Oct'25" another year (a
/// request from last December is not this December's).
fn short_day(d: chrono::NaiveDate, today: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    if d.year() == today.year() {
        d.format("%d %b").to_string()
    } else {
        d.format("%b'%y").to_string()
    }
}

fn row<'a>(app: &App, v: &'a CaseView, width: Width) -> Row<'a> {
    let c = &v.case;
    let u = v.urgency();
    let due = v.clock.effective_due();
    let mut subject = mask::shown(app.masked, &c.subject.name, mask::name);
    if c.child {
        // A child's request: who may act for them is checked (see the case).
        subject = format!("◆ {subject}");
    }
    let ext = if v.clock.extended_due.is_some() {
        "+"
    } else {
        ""
    };
    let urgency = Cell::from(Span::styled(u.to_string(), urgency_style(app, u)));
    match width {
        Width::Narrow => Row::new(vec![
            Cell::from(c.id.to_string()),
            Cell::from(subject),
            urgency,
        ]),
        Width::Medium => Row::new(vec![
            Cell::from(c.id.to_string()),
            Cell::from(subject),
            Cell::from(
                c.rights
                    .iter()
                    .map(|r| r.code())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Cell::from(state_label(c.state)),
            Cell::from(short_day(c.received, v.clock.as_of)),
            Cell::from(
                due.map(|d| format!("{}{ext}", short_day(d, v.clock.as_of)))
                    .unwrap_or_else(|| "—".into()),
            ),
            urgency,
        ]),
        Width::Wide => Row::new(vec![
            Cell::from(c.id.to_string()),
            Cell::from(subject),
            Cell::from(
                c.rights
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Cell::from(c.state.as_str()),
            Cell::from(c.received.to_string()),
            Cell::from(
                due.map(|d| format!("{d}{ext}"))
                    .unwrap_or_else(|| "—".into()),
            ),
            urgency,
        ]),
    }
}

#[cfg(test)]
mod day_tests {
    use super::{page_top, short_day};

    #[test]
    fn the_page_moves_by_half_a_page_and_keeps_the_selection_in_view() {
        // 20 rows shown of 100.
        assert_eq!(page_top(0, 19, 20, 100), 0, "within the page: no move");
        let top = page_top(0, 20, 20, 100);
        assert_eq!(
            top, 11,
            "one past the bottom: half a page on, the selection mid-page"
        );
        assert!((top..top + 20).contains(&20));
        assert_eq!(page_top(10, 9, 20, 100), 0, "one above: half a page back");
        assert_eq!(page_top(80, 99, 20, 100), 80, "never past the end");
        assert_eq!(page_top(0, 5, 20, 8), 0, "a short list never scrolls");
        for sel in 0..100 {
            for top in [0, 7, 50, 80] {
                let t = page_top(top, sel, 20, 100);
                assert!((t..t + 20).contains(&sel), "sel {sel} top {top} → {t}");
            }
        }
    }
    use chrono::NaiveDate;

    #[test]
    fn a_day_of_another_year_says_its_year() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(short_day(d(2026, 1, 3), today), "03 Jan");
        assert_eq!(short_day(d(2025, 12, 18), today), "Dec'25");
        assert_eq!(short_day(d(2027, 2, 1), today).len(), 6);
    }
}
