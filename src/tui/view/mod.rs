//! Views only draw: `Widget for &App`, no state changes, no store access.

pub mod case;
pub mod mailbox;
pub mod mask;
pub mod popup;
pub mod queue;
pub mod records;
pub mod theme;

use super::app::{App, Popup, Screen};
use super::keymap::{Action, Scope};
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// Below this the desk shows a message instead of a broken layout.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let msg = format!("Terminal too small: the desk needs at least {MIN_WIDTH}×{MIN_HEIGHT}, this one is {}×{}.", area.width, area.height);
            Paragraph::new(msg)
                .wrap(Wrap { trim: true })
                .alignment(Alignment::Center)
                .render(area, buf);
            return;
        }
        let [top, body, status, hints] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        title_bar(self, top, buf);
        match self.screen {
            Screen::Queue => queue::render(self, body, buf),
            Screen::Case(_) => case::render(self, body, buf),
        }
        status_line(self, status, buf);
        hint_bar(self, hints, buf);
        for p in &self.popups {
            popup::render(self, p, area, buf);
        }
        if self.masked {
            mask::scrub(buf, area, &self.personal_words());
        }
    }
}

fn title_bar(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let c = app.queue.counters();
    let mut spans = vec![Span::styled(" rightsdesk ", t.title())];
    if app.demo {
        spans.push(Span::styled("[DEMO] ", t.flag()));
    }
    if app.masked {
        spans.push(Span::styled("[MASKED] ", t.flag()));
    }
    if app.live {
        spans.push(Span::styled("[SHARED] ", t.key()));
    }
    if app.queue.loading {
        // First, so it shows at 80 columns: the figures after it count
        // only the cases read so far.
        spans.push(Span::styled(
            format!("reading cases… {} · ", app.queue.views.len()),
            t.muted(),
        ));
    }
    spans.push(Span::raw(format!("{} open · ", c.open)));
    spans.push(Span::styled(
        format!("{} OVERDUE", c.overdue),
        if c.overdue > 0 {
            t.overdue()
        } else {
            t.muted()
        },
    ));
    spans.push(Span::raw(" · "));
    spans.push(Span::styled(
        format!("{} due this week", c.due_this_week),
        if c.due_this_week > 0 {
            t.due_soon()
        } else {
            t.muted()
        },
    ));
    spans.push(Span::raw(format!(" · {} awaiting ID", c.awaiting_id)));
    Line::from(spans).render(area, buf);
}

fn status_line(app: &App, area: Rect, buf: &mut Buffer) {
    if app.status.is_none() && app.tour {
        if let Some(tip) = tour_tip(app) {
            Line::from(vec![
                Span::styled(" tip ", app.theme.flag()),
                Span::raw(format!("{tip} ")),
                Span::styled("(! hides tips)", app.theme.muted()),
            ])
            .render(area, buf);
        }
        return;
    }
    if let Some((text, error)) = &app.status {
        let style = if *error {
            app.theme.error()
        } else {
            app.theme.ok()
        };
        Line::from(Span::styled(
            format!(" {}", crate::domain::text::inert(text)),
            style,
        ))
        .render(area, buf);
    }
}

/// The one-line hint bar, generated from the key map (or the popup's own keys).
fn hint_bar(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let pairs: Vec<(String, String)> = match app.popups.last() {
        Some(Popup::Form { .. }) => popup::FORM_KEYS
            .iter()
            .map(|(k, a)| (k.to_string(), a.to_string()))
            .collect(),
        Some(Popup::Confirm { .. } | Popup::ConfirmSplit { .. }) => {
            popup_hints(app, Scope::Confirm)
        }
        Some(Popup::Lookup { .. }) => vec![
            ("type".into(), "search".into()),
            ("↑/↓".into(), "choose".into()),
            ("enter".into(), "person".into()),
            ("esc".into(), "close".into()),
        ],
        Some(Popup::Subject { .. }) => {
            // Adding a record needs a case to add it to.
            let on_case = match app.screen {
                Screen::Case(id) => Some(id),
                Screen::Queue => None,
            };
            popup_hints(app, Scope::Person)
                .into_iter()
                .filter_map(|(k, a)| match (a.as_str(), on_case) {
                    ("add to case", None) => None,
                    ("add to case", Some(id)) => Some((k, format!("add to {id}"))),
                    _ => Some((k, a)),
                })
                .collect()
        }
        Some(Popup::Help { search: None, .. }) => vec![
            ("/".into(), "search".into()),
            ("j/k".into(), "scroll".into()),
            ("q/esc".into(), "close".into()),
        ],
        Some(Popup::Help {
            search: Some(_), ..
        }) => vec![
            ("type".into(), "search".into()),
            ("↑/↓".into(), "scroll".into()),
            ("esc".into(), "all keys".into()),
        ],
        Some(Popup::Palette { .. }) => vec![
            ("type".into(), "filter".into()),
            ("↑/↓".into(), "choose".into()),
            ("enter".into(), "run".into()),
            ("esc".into(), "close".into()),
        ],
        Some(Popup::Inbox { .. }) => vec![
            ("j/k".into(), "move".into()),
            ("enter".into(), "read".into()),
            ("n".into(), "new case".into()),
            ("r".into(), "read again".into()),
            ("q/esc".into(), "close".into()),
        ],
        Some(Popup::Mail { .. }) => vec![
            ("j/k".into(), "scroll".into()),
            ("n".into(), "new case".into()),
            ("q/esc".into(), "close".into()),
        ],
        Some(_) => vec![("q/esc/enter".into(), "close".into())],
        None if app.scope() == Scope::Case => case_hints(app),
        None => app
            .keymap
            .hints(app.scope())
            .into_iter()
            .map(|(k, a)| (k, a.to_string()))
            .collect(),
    };
    // What does not fit is left out whole (never cut mid-word); help
    // comes last and always shows, since it lists the rest.
    let width = usize::from(area.width);
    let cost = |(k, a): &(String, String)| k.chars().count() + a.chars().count() + 3;
    let (help, rest): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(_, a)| a == "help");
    let mut used: usize = help.iter().map(cost).sum();
    let mut shown = Vec::new();
    for p in rest {
        if used + cost(&p) > width {
            break;
        }
        used += cost(&p);
        shown.push(p);
    }
    shown.extend(help);
    let mut spans = Vec::new();
    for (k, a) in shown {
        spans.push(Span::styled(format!(" {k}"), t.key()));
        spans.push(Span::raw(format!(" {a} ")));
    }
    Line::from(spans).render(area, buf);
}

/// The case screen's keys: back, then the moves of the next step, then the
/// other moves the case's rules allow now (none that would be refused),
/// then lookup and help.
fn case_hints(app: &App) -> Vec<(String, String)> {
    let key = |a: Action| app.keymap.first_key(Scope::Case, a).map(|k| k.to_string());
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut push = |a: Action| {
        if let Some(k) = key(a) {
            let hint = a.hint().to_string();
            if !pairs.iter().any(|(_, h)| *h == hint) {
                pairs.push((k, hint));
            }
        }
    };
    push(Action::Back);
    let g = &app.guide;
    for (m, _) in &g.next.moves {
        push(Action::of_move(*m));
    }
    for m in &g.moves {
        push(Action::of_move(*m));
    }
    push(Action::Lookup);
    push(Action::Help);
    pairs
}

/// A popup's keys for the hint bar, from the key table (keys.toml moves
/// them; the first of each action's keys is shown, joined with "/" for two).
fn popup_hints(app: &App, scope: Scope) -> Vec<(String, String)> {
    app.keymap
        .bindings
        .iter()
        .filter(|b| b.scope == scope && b.hint && !b.keys.is_empty())
        .map(|b| {
            let keys: Vec<String> = b.keys.iter().take(2).map(|k| k.to_string()).collect();
            (keys.join("/"), b.action.hint().to_string())
        })
        .collect()
}

/// The tour's tip for what is on screen: what it is and the one key to try.
fn tour_tip(app: &App) -> Option<&'static str> {
    Some(match (app.popups.last(), app.screen) {
        (Some(Popup::Form { .. }), _) => {
            "Tab moves between fields, ctrl-s submits, esc cancels; a refusal stays in the form."
        }
        (Some(Popup::Confirm { .. }), _) => "Read it, then y to take the step or n to go back.",
        (Some(Popup::Lookup { .. }), _) => {
            "Type part of a name, e-mail or phone; accents optional. Enter shows the person."
        }
        (Some(Popup::Subject { .. }), _) => {
            "Every record of this person across sources; n opens a case for them."
        }
        (Some(Popup::Help { .. }), _) => "Every key; / searches them. q closes.",
        (Some(_), _) => return None,
        (None, Screen::Queue) if app.queue.rows.is_empty() => {
            "No cases yet: n opens the first, / finds a person."
        }
        (None, Screen::Queue) => {
            "Most urgent first. Enter opens a case; n starts a new one; ? lists every key."
        }
        (None, Screen::Case(_)) => {
            "The Next line says what to do; the bar offers only keys that apply now."
        }
    })
}
