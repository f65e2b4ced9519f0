//! Popups drawn over the screen, top of the stack last.

use crate::domain::text::inert;
use crate::tui::app::{App, Popup};
use crate::tui::form::{FieldKind, Form};
use crate::tui::keymap::ALL_ACTIONS;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

/// The keys every form understands (shown in the hint bar and the help).
pub const FORM_KEYS: &[(&str, &str)] = &[
    ("tab/↓", "next"),
    ("↑", "back"),
    ("enter", "next/submit"),
    ("ctrl-s", "submit"),
    ("esc/ctrl-c", "cancel"),
];

/// The line-editing keys of a text field (`tui/line_edit.rs`), for `?`.
pub const FIELD_KEYS: &[(&str, &str)] = &[
    ("←/→", "move the cursor"),
    ("home/ctrl-a end/ctrl-e", "start, end of the line"),
    ("ctrl-←/→ alt-b/alt-f", "a word back, forward"),
    ("ctrl-w alt-backspace", "cut the word before the cursor"),
    ("ctrl-u / ctrl-k", "cut to the start / to the end"),
    ("delete/ctrl-d", "remove the letter under the cursor"),
    ("paste", "lands whole at the cursor, as one line"),
];

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(r);
    r
}

fn frame<'a>(app: &App, title: &str) -> Block<'a> {
    Block::bordered().title(Span::styled(format!(" {title} "), app.theme.title()))
}

pub fn render(app: &App, popup: &Popup, area: Rect, buf: &mut Buffer) {
    match popup {
        Popup::Help { scroll, search } => help(app, *scroll, search.as_deref(), area, buf),
        Popup::Inbox { inbox, selected } => super::mailbox::inbox(app, inbox, *selected, area, buf),
        Popup::Mail { mail, scroll } => super::mailbox::mail(app, mail, *scroll, area, buf),
        Popup::Letter {
            letter: kind,
            report,
            scroll,
            ..
        } => letter(app, *kind, report, *scroll, area, buf),
        Popup::Palette { filter, selected } => palette(app, filter, *selected, area, buf),
        Popup::Form { form, .. } => form_popup(app, form, area, buf),
        Popup::Confirm { title, body, .. } => {
            let mut lines: Vec<Line> = body
                .lines()
                .map(|l| Line::from(inert(l).into_owned()))
                .collect();
            lines.push(Line::from(""));
            lines.push(yes_no(app));
            // On a short screen the answer line stays in view (the title
            // still says what is asked): a question is never cut from its
            // yes and no.
            let last = lines.len() - 1;
            sized_box_showing(
                app,
                title,
                lines,
                Some(last),
                area.width.saturating_sub(4).min(64),
                area,
                buf,
            );
        }
        Popup::Lookup {
            query,
            groups,
            selected,
            micros,
            ..
        } => lookup(app, query, groups, *selected, *micros, area, buf),
        Popup::Subject { view, selected } => subject(app, view, *selected, area, buf),
        Popup::Plan {
            proposal,
            keep,
            selected,
        } => plan(app, proposal, keep, *selected, area, buf),
        Popup::Records {
            all,
            months,
            scroll,
        } => super::records::records(app, all, months, *scroll, area, buf),
        Popup::Audit(v) => super::records::audit(app, v, area, buf),
        Popup::ConfirmSplit { source, key } => {
            let lines = vec![
                Line::from(format!(
                    "Split {}:{} off this person?",
                    inert(source),
                    inert(key)
                )),
                Line::from("It will no longer be linked by its e-mails or phones."),
                Line::from(""),
                yes_no(app),
            ];
            box_text(app, "Split a wrong link", lines, area, buf);
        }
        Popup::Message { title, body, error } => {
            let style = if *error {
                app.theme.error()
            } else {
                ratatui::style::Style::default()
            };
            let mut lines: Vec<Line> = body
                .lines()
                .map(|l| Line::from(Span::styled(inert(l).into_owned(), style)))
                .collect();
            lines.push(Line::from(""));
            lines.push(Line::from(vec![
                Span::styled("enter/esc/q", app.theme.key()),
                Span::raw(" close"),
            ]));
            box_text(app, title, lines, area, buf);
        }
    }
}

fn box_text(app: &App, title: &str, lines: Vec<Line>, area: Rect, buf: &mut Buffer) {
    sized_box(
        app,
        title,
        lines,
        area.width.saturating_sub(4).min(64),
        area,
        buf,
    );
}

/// A centred, bordered box as tall as its wrapped lines need.
fn sized_box(app: &App, title: &str, lines: Vec<Line>, w: u16, area: Rect, buf: &mut Buffer) {
    sized_box_showing(app, title, lines, None, w, area, buf)
}

/// A box sized to its lines; when the screen is shorter than them, it
/// scrolls so that line `keep` (a form's focused field) stays in view.
fn sized_box_showing(
    app: &App,
    title: &str,
    lines: Vec<Line>,
    keep: Option<usize>,
    w: u16,
    area: Rect,
    buf: &mut Buffer,
) {
    let inner = w.saturating_sub(2);
    // Rows the lines before `keep` take once wrapped (and `keep` itself).
    let upto = keep.map(|k| {
        Paragraph::new(lines[..(k + 1).min(lines.len())].to_vec())
            .wrap(Wrap { trim: false })
            .line_count(inner)
    });
    // Ask the paragraph how many rows its word wrapping takes: counting
    // characters underestimated wrapped lines and clipped the form's last line.
    let paragraph = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(frame(app, title));
    // (It wraps at the width it is given and adds the block's top and bottom,
    // so give it the width inside the borders.)
    let rows = paragraph.line_count(inner);
    let r = centered(area, w, u16::try_from(rows).unwrap_or(u16::MAX));
    let room = usize::from(r.height.saturating_sub(2));
    let scroll = upto.map_or(0, |u| u.saturating_sub(room));
    Clear.render(r, buf);
    paragraph
        .scroll((u16::try_from(scroll).unwrap_or(0), 0))
        .render(r, buf);
}

/// The help's sections: (title, rows of (keys, what they do)). The key
/// table's bindings, the form and field keys, and the queue's legend.
pub fn help_sections(app: &App) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for scope in crate::tui::keymap::ALL_SCOPES {
        let rows = app
            .keymap
            .bindings
            .iter()
            .filter(|b| b.scope == scope && !b.keys.is_empty())
            .map(|b| {
                let keys = b.keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
                (keys.join(" "), b.action.describe().to_string())
            })
            .collect();
        out.push((scope.title().to_string(), rows));
    }
    let pairs = |p: &[(&str, &str)]| {
        p.iter()
            .map(|(k, a)| (k.to_string(), a.to_string()))
            .collect::<Vec<_>>()
    };
    out.push(("In forms".into(), pairs(FORM_KEYS)));
    out.push(("In a text field".into(), pairs(FIELD_KEYS)));
    let mut legend: Vec<(String, String)> = crate::domain::Right::ALL
        .iter()
        .map(|r| (r.code().to_string(), format!("{r} ({})", r.article())))
        .collect();
    legend.extend(pairs(QUEUE_LEGEND));
    out.push(("The queue's words".into(), legend));
    out
}

/// The queue's columns and clock words, for `?`.
const QUEUE_LEGEND: &[(&str, &str)] = &[
    (
        "RECVD",
        "the day the request was received (the clock counts from it)",
    ),
    (
        "DUE",
        "the day the answer is due (after an extension, the new day)",
    ),
    ("OVERDUE 3d", "the due day passed three days ago"),
    ("DUE TODAY", "due today"),
    ("DUE SOON 4d", "due within a week"),
    (
        "on hold",
        "the clock waits: ID or a fee was asked for and has not come",
    ),
    (
        "LEFT",
        "days left to answer, or how late: the clock in words",
    ),
    (
        "+",
        "after the due day: the case was extended by two months",
    ),
    ("received", "state: opened, identity not yet checked"),
    ("await ID", "state: more ID was asked for; the clock waits"),
    (
        "in progress",
        "state: identity verified, the work in each source goes on",
    ),
    (
        "clarifying",
        "state: paused, the requester was asked to clarify",
    ),
    (
        "ready",
        "state: the work is done, the response is to go out",
    ),
    (
        "closed",
        "state: answered (or refused, or withdrawn) and logged",
    ),
];

/// Rows of two columns, the second wrapped at word boundaries under itself.
fn two_columns(
    rows: &[(String, String)],
    width: usize,
    key: ratatui::style::Style,
) -> Vec<Line<'static>> {
    // The keys' column narrows on a narrow screen (keys longer than it
    // get a line of their own).
    let keys_col = 24.min(width * 2 / 5).max(8);
    let room = width.saturating_sub(keys_col).max(12);
    let mut out = Vec::new();
    for (k, what) in rows {
        let mut parts: Vec<String> = Vec::new();
        for word in what.split(' ') {
            match parts.last_mut() {
                Some(l) if l.chars().count() + 1 + word.chars().count() <= room => {
                    l.push(' ');
                    l.push_str(word);
                }
                _ => parts.push(word.to_string()),
            }
        }
        let pad = keys_col - 2;
        let keys = format!("  {k:<pad$}");
        // At least one space between the keys and what they do.
        let wide = k.chars().count() + 3 > keys_col;
        for (i, p) in parts.into_iter().enumerate() {
            let lead = if i == 0 && !wide {
                Span::styled(keys.clone(), key)
            } else {
                Span::raw(" ".repeat(keys_col))
            };
            if i == 0 && wide {
                // Keys longer than their column get a line of their own.
                out.push(Line::from(Span::styled(keys.clone(), key)));
            }
            out.push(Line::from(vec![lead, Span::raw(p)]));
        }
    }
    out
}

fn help(app: &App, scroll: u16, search: Option<&str>, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let r = centered(
        area,
        area.width.saturating_sub(4).min(76),
        area.height.saturating_sub(2),
    );
    let width = usize::from(r.width.saturating_sub(2));
    let needle = search.map(|s| s.to_lowercase()).unwrap_or_default();
    let mut lines = Vec::new();
    if let Some(s) = search {
        lines.push(Line::from(vec![
            Span::styled("/ ", t.key()),
            Span::raw(inert(s).into_owned()),
            Span::styled("▏", t.key()),
        ]));
    }
    for (title, rows) in help_sections(app) {
        let rows: Vec<(String, String)> = rows
            .into_iter()
            .filter(|(k, a)| {
                needle.is_empty()
                    || k.to_lowercase().contains(&needle)
                    || a.to_lowercase().contains(&needle)
                    || title.to_lowercase().contains(&needle)
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        lines.push(Line::from(Span::styled(title, t.header())));
        lines.extend(two_columns(&rows, width, t.key()));
    }
    if lines.len() <= 1 && search.is_some() {
        lines.push(Line::from(Span::styled(" nothing matches", t.muted())));
    }
    // Scrolling stops with the last line at the bottom.
    let room = usize::from(r.height.saturating_sub(2));
    let max = u16::try_from(lines.len().saturating_sub(room)).unwrap_or(u16::MAX);
    app.popup_scroll_max.set(max);
    let title = match search {
        Some(_) => "Keys — type to search, esc: all",
        None => "Keys — / search, j/k scroll, q close",
    };
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(frame(app, title))
        .scroll((scroll.min(max), 0))
        .render(r, buf);
}

/// The letter, whole: headings, then each line (made inert one by one).
fn letter(
    app: &App,
    kind: crate::domain::notice::Letter,
    report: &crate::domain::response::Report,
    scroll: u16,
    area: Rect,
    buf: &mut Buffer,
) {
    let t = &app.theme;
    let mut lines = vec![
        Line::from(Span::styled(inert(&report.title).into_owned(), t.title())),
        Line::from(""),
    ];
    for s in &report.sections {
        lines.push(Line::from(Span::styled(
            inert(&s.heading).into_owned(),
            t.header(),
        )));
        for l in &s.lines {
            lines.push(Line::from(format!("  {}", inert(l))));
        }
        lines.push(Line::from(""));
    }
    let r = centered(
        area,
        area.width.saturating_sub(2).min(100),
        area.height.saturating_sub(2),
    );
    Clear.render(r, buf);
    let paragraph = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(frame(
            app,
            &format!(
                "{} (j/k scroll, Tab next letter{}, q close)",
                kind,
                if kind == crate::domain::notice::Letter::Response {
                    ""
                } else {
                    ", s record sent"
                }
            ),
        ));
    // Scrolling stops at the last line: the end of the letter stays in view.
    let rows = paragraph.line_count(r.width.saturating_sub(2));
    let last = u16::try_from(rows)
        .unwrap_or(u16::MAX)
        .saturating_sub(r.height.saturating_sub(2));
    paragraph.scroll((scroll.min(last), 0)).render(r, buf);
}

fn palette(app: &App, filter: &str, selected: usize, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let matches = app.palette_matches(filter);
    let mut lines = vec![Line::from(vec![
        Span::styled(": ", t.key()),
        Span::raw(inert(filter).into_owned()),
        Span::styled("▏", t.key()),
    ])];
    let w = area.width.saturating_sub(4).min(76);
    // The chosen action's whole description, wrapped, under the list.
    let about = matches
        .get(selected)
        .map(|a| format!(" {}: {}", a.name(), a.describe()));
    let about_rows = about.as_ref().map_or(0, |a| {
        a.chars().count() / usize::from(w.saturating_sub(2)).max(1) + 1
    });
    let want = u16::try_from(matches.len().clamp(1, ALL_ACTIONS.len()) + 4 + about_rows)
        .unwrap_or(u16::MAX);
    let r = centered(area, w, area.height.saturating_sub(2).min(want));
    // Rows: the filter, the actions, a blank and the chosen action's whole
    // description (a row's is cut with "…" where the box is narrow).
    let room = usize::from(r.height).saturating_sub(4 + about_rows).max(1);
    let start = selected.saturating_sub(room - 1);
    let inner = usize::from(r.width.saturating_sub(2));
    for (i, a) in matches.iter().enumerate().skip(start).take(room) {
        let keys = app.keymap.keys_label(app.scope(), *a);
        let what = inner.saturating_sub(17 + keys.chars().count() + 1).max(8);
        let text = format!(
            " {:<15} {:<what$} {}",
            a.name(),
            crate::domain::text::clip(a.describe(), what),
            keys
        );
        let style = if i == selected {
            t.selected()
        } else {
            ratatui::style::Style::default()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    if matches.is_empty() {
        lines.push(Line::from(Span::styled(" no action matches", t.muted())));
    }
    if let Some(a) = about {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(a, t.muted())));
    }
    Clear.render(r, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(frame(app, "Actions"))
        .render(r, buf);
}

fn form_popup(app: &App, form: &Form, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    // On a short screen the intro gives way to the fields: its first line,
    // and how many more a taller window shows.
    let intro: Vec<String> = if area.height < 20 && form.intro.len() > 1 {
        vec![format!(
            "{} (+{} lines in a taller window)",
            form.intro[0],
            form.intro.len() - 1
        )]
    } else {
        form.intro.clone()
    };
    let mut lines: Vec<Line> = intro
        .iter()
        .map(|l| Line::from(Span::styled(inert(l).into_owned(), t.muted())))
        .collect();
    let focus_line = lines.len() + form.focus;
    for (i, f) in form.fields.iter().enumerate() {
        let focus = i == form.focus;
        let marker = if focus {
            Span::styled("› ", t.key())
        } else {
            Span::raw("  ")
        };
        let mut spans = vec![
            marker,
            Span::styled(
                format!("{:<12}", f.label),
                if focus { t.title() } else { t.muted() },
            ),
        ];
        match &f.kind {
            FieldKind::Text | FieldKind::Secret => {
                let chars: Vec<String> = if f.kind == FieldKind::Secret {
                    vec!["•".to_string(); f.text.chars().count()]
                } else {
                    f.text
                        .chars()
                        .map(|c| inert(&c.to_string()).into_owned())
                        .collect()
                };
                let style = if focus {
                    t.selected()
                } else {
                    ratatui::style::Style::default()
                };
                if focus {
                    // The cursor stays in view: a line longer than the box
                    // shows the part around it.
                    let room = usize::from(area.width.saturating_sub(2).min(78))
                        .saturating_sub(2 + 14 + 1)
                        .max(8);
                    // Counted in the columns each piece takes once drawn
                    // (an inert control shows as "<U+202E>", eight wide).
                    let width = |s: &String| Span::raw(s.as_str()).width();
                    let at = f.cursor_at().min(chars.len());
                    let (mut from, mut used) = (at, 1);
                    while from > 0 && used + width(&chars[from - 1]) <= room {
                        from -= 1;
                        used += width(&chars[from]);
                    }
                    let mut to = at;
                    while to < chars.len() && used + width(&chars[to]) <= room {
                        used += width(&chars[to]);
                        to += 1;
                    }
                    spans.push(Span::styled(chars[from..at].concat(), style));
                    spans.push(Span::styled("▏", t.key()));
                    spans.push(Span::styled(chars[at..to].concat(), style));
                } else {
                    spans.push(Span::styled(chars.concat(), style));
                }
            }
            FieldKind::Choice(opts) => {
                spans.push(Span::styled(
                    format!("‹ {} ›", opts[f.index]),
                    if focus {
                        t.selected()
                    } else {
                        ratatui::style::Style::default()
                    },
                ));
            }
            FieldKind::Multi(opts) => {
                for (j, o) in opts.iter().enumerate() {
                    let mark = if f.checked[j] { "[x]" } else { "[·]" };
                    let style = if focus && j == f.index {
                        t.selected()
                    } else {
                        ratatui::style::Style::default()
                    };
                    spans.push(Span::styled(format!("{mark}{o}"), style));
                    spans.push(Span::raw(" "));
                }
            }
            FieldKind::Toggle => {
                spans.push(Span::styled(
                    if f.on() { "[x] yes" } else { "[ ] no" },
                    if focus {
                        t.selected()
                    } else {
                        ratatui::style::Style::default()
                    },
                ));
            }
        }
        if let Some(e) = &f.error {
            spans.push(Span::styled(format!("  ⚠ {}", inert(e)), t.error()));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        format!("  {}", form.focused().hint),
        t.muted(),
    )));
    if let Some(e) = &form.error {
        lines.push(Line::from(Span::styled(
            format!("  {}", inert(e)),
            t.error(),
        )));
    }
    sized_box_showing(
        app,
        &form.title,
        lines,
        Some(focus_line),
        area.width.saturating_sub(2).min(78),
        area,
        buf,
    );
}

fn flag_spans(app: &App, flags: &crate::lookup::Flags) -> Vec<Span<'static>> {
    flags
        .words()
        .into_iter()
        .map(|w| Span::styled(format!(" {w} "), app.theme.flag()))
        .collect()
}

/// The label with matched characters emphasised (never when masked: the
/// label itself is not shown then).
fn highlighted(app: &App, hit: &crate::lookup::Hit, width: usize) -> Vec<Span<'static>> {
    if app.masked {
        let mut s = super::mask::name(&hit.name);
        for e in &hit.emails {
            s.push_str(" · ");
            s.push_str(&super::mask::email(e));
        }
        return vec![Span::raw(s)];
    }
    let mark = app
        .theme
        .key()
        .add_modifier(ratatui::style::Modifier::UNDERLINED);
    let mut spans = Vec::new();
    for (i, c) in hit.label.chars().take(width).enumerate() {
        let text = inert(&c.to_string()).into_owned();
        let style = if hit.highlight.binary_search(&i).is_ok() {
            mark
        } else {
            ratatui::style::Style::default()
        };
        spans.push(Span::styled(text, style));
    }
    spans
}

fn lookup(
    app: &App,
    query: &str,
    groups: &[crate::lookup::Group],
    selected: usize,
    micros: Option<u128>,
    area: Rect,
    buf: &mut Buffer,
) {
    let t = &app.theme;
    let r = centered(
        area,
        area.width.saturating_sub(2).min(110),
        area.height.saturating_sub(2),
    );
    let width = usize::from(r.width.saturating_sub(24));
    let status = if let Some(why) = &app.index.failed {
        format!("lookup unavailable: {}", inert(why))
    } else if app.index.loading {
        "loading the index…".to_string()
    } else {
        use crate::domain::text::counted;
        let mut s = format!(
            "{} · {}",
            counted(app.index.records, "record", "records"),
            counted(app.index.subjects, "person", "people")
        );
        if let Some(us) = micros {
            s.push_str(&format!(" · {:.1} ms", us as f64 / 1000.0));
        }
        s
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("/ ", t.key()),
            Span::raw(inert(query).into_owned()),
            Span::styled("▏", t.key()),
            Span::styled(format!("   {status}"), t.muted()),
        ]),
        Line::from(""),
    ];
    if query.trim().is_empty() {
        lines.push(Line::from(Span::styled(
            "Type a name, e-mail, phone (any format), company or record key. Accents are optional.",
            t.muted(),
        )));
    } else if let Some(why) = &app.index.failed {
        // Never "no match" when nothing was searched.
        lines.push(Line::from(Span::styled(
            format!("The lookup did not answer: {}", inert(why)),
            t.error(),
        )));
    } else if groups.is_empty() && !app.index.loading {
        lines.push(Line::from(Span::styled(
            "No match in any source.",
            t.muted(),
        )));
    }
    let room = usize::from(r.height.saturating_sub(4));
    let start = selected.saturating_sub(room / 4);
    for (gi, g) in groups.iter().enumerate().skip(start) {
        if lines.len() >= room + 2 {
            break;
        }
        let head_style = if gi == selected {
            t.selected()
        } else {
            t.title()
        };
        let mut head = vec![Span::styled(
            format!(
                "{} · {}",
                g.subject,
                crate::domain::text::counted(g.hits.len(), "record", "records")
            ),
            head_style,
        )];
        head.extend(flag_spans(app, &g.flags));
        lines.push(Line::from(head));
        for h in g.hits.iter().take(3) {
            let mut row = vec![Span::styled(format!("  {:<19}", h.source), t.muted())];
            if h.mentions.is_some() {
                // Not the person's record: a title that names them.
                row.push(Span::styled("MENTIONS ", t.flag()));
            }
            row.extend(highlighted(app, h, width));
            if let Some(d) = h.last_activity {
                row.push(Span::styled(format!("  last {d}"), t.muted()));
            }
            lines.push(Line::from(row));
        }
        if g.hits.len() > 3 {
            lines.push(Line::from(Span::styled(
                format!("  … {} more", g.hits.len() - 3),
                t.muted(),
            )));
        }
    }
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(frame(
            app,
            "Find a person (↑/↓ choose, enter open, esc close)",
        ))
        .render(r, buf);
}

fn subject(
    app: &App,
    view: &crate::lookup::SubjectView,
    selected: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let t = &app.theme;
    let r = centered(
        area,
        area.width.saturating_sub(2).min(110),
        area.height.saturating_sub(2),
    );
    let mut head = vec![Span::styled(
        format!(
            "{} · {}",
            view.id,
            crate::domain::text::counted(view.records.len(), "record", "records")
        ),
        t.title(),
    )];
    head.extend(flag_spans(app, &view.flags));
    let mut lines = vec![Line::from(head)];
    if view.links.is_empty() {
        lines.push(Line::from(Span::styled(
            "not linked to other records",
            t.muted(),
        )));
    } else {
        let links: Vec<String> = view
            .links
            .iter()
            .map(|(id, n)| {
                format!(
                    "{} ({n})",
                    if app.masked {
                        "•••".to_string()
                    } else {
                        inert(id).into_owned()
                    }
                )
            })
            .collect();
        lines.push(Line::from(vec![
            Span::styled("linked by ", t.muted()),
            Span::raw(links.join(", ")),
        ]));
    }
    lines.push(Line::from(""));
    let row = |i: usize, rec: &crate::domain::record::SourceRecord, extra: &str| {
        let who = super::mask::shown(app.masked, rec.display_name(), super::mask::name);
        let emails: Vec<String> = rec
            .emails
            .iter()
            .map(|e| super::mask::shown(app.masked, e, super::mask::email))
            .collect();
        let phones: Vec<String> = rec
            .phones
            .iter()
            .map(|p| super::mask::shown(app.masked, p, super::mask::phone))
            .collect();
        let last = rec
            .last_activity
            .map(|d| format!(" · last {d}"))
            .unwrap_or_default();
        let text = format!(
            "{:<19} {} · {}{}{}{extra}",
            rec.source,
            who,
            emails.join(", "),
            if phones.is_empty() {
                String::new()
            } else {
                format!(" · {}", phones.join(", "))
            },
            last
        );
        let style = if i == selected {
            t.selected()
        } else {
            ratatui::style::Style::default()
        };
        Line::from(Span::styled(text, style))
    };
    for (i, rec) in view.records.iter().enumerate() {
        lines.push(row(i, rec, ""));
    }
    if !view.similar.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "Possibly the same person: same name, no shared e-mail or phone (check before adding)",
            t.header(),
        )));
        for (j, s) in view.similar.iter().enumerate() {
            let extra = if s.same_company {
                " · same company"
            } else {
                ""
            };
            lines.push(row(view.records.len() + j, &s.record, extra));
        }
    }
    lines.push(Line::from(""));
    let mut keys = vec![
        Span::styled("n", t.key()),
        Span::raw(" open a case for this person   "),
    ];
    if let crate::tui::app::Screen::Case(id) = app.screen {
        keys.push(Span::styled("a", t.key()));
        keys.push(Span::raw(format!(" add the selected record to {id}   ")));
    }
    keys.extend([
        Span::styled("x", t.key()),
        Span::raw(" split the selected record off   "),
        Span::styled("esc", t.key()),
        Span::raw(" back"),
    ]);
    lines.push(Line::from(keys));
    Clear.render(r, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(frame(app, "Person across sources"))
        .render(r, buf);
}

/// The proposed tasks, ticked to keep; the selected one's reason below.
fn plan(
    app: &App,
    p: &crate::service::PlanProposal,
    keep: &[bool],
    selected: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let t = &app.theme;
    let want = u16::try_from(p.tasks.len() + 6).unwrap_or(u16::MAX);
    let r = centered(
        area,
        area.width.saturating_sub(4).min(96),
        area.height.saturating_sub(2).min(want),
    );
    let found = if p.held.is_empty() {
        "not found in the lookup: every source is a search".to_string()
    } else {
        format!(
            "found in: {}",
            p.held.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    };
    let mut lines = vec![Line::from(Span::styled(
        inert(&found).into_owned(),
        t.muted(),
    ))];
    let room = usize::from(r.height.saturating_sub(6)).max(1);
    let start = selected.saturating_sub(room - 1);
    for (i, task) in p.tasks.iter().enumerate().skip(start).take(room) {
        let mark = if keep[i] { "[x]" } else { "[ ]" };
        let text = format!(
            "{mark} {:<20} {}{}",
            task.source,
            inert(&task.action),
            if task.held { "  (found)" } else { "" }
        );
        let style = if i == selected {
            t.selected()
        } else {
            ratatui::style::Style::default()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    let why = p
        .tasks
        .get(selected)
        .map(|t| format!("why: {}", t.why))
        .unwrap_or_default();
    lines.push(Line::from(Span::styled(
        inert(&why).into_owned(),
        t.muted(),
    )));
    lines.push(Line::from(vec![
        Span::styled("space", t.key()),
        Span::raw(" tick  "),
        Span::styled("a", t.key()),
        Span::raw(" all  "),
        Span::styled("enter", t.key()),
        Span::raw(" record ticked  "),
        Span::styled("esc", t.key()),
        Span::raw(" later"),
    ]));
    let kept = keep.iter().filter(|k| **k).count();
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(frame(
            app,
            &format!("Plan for {}: {kept} of {} tasks", p.case, p.tasks.len()),
        ))
        .render(r, buf);
}

/// "y/enter yes   n/esc/q no", from the key table (keys.toml moves them).
fn yes_no(app: &App) -> Line<'static> {
    use crate::tui::keymap::{Action, Scope};
    let keys = |a: Action| app.keymap.keys_label(Scope::Confirm, a).replace(' ', "/");
    Line::from(vec![
        Span::styled(keys(Action::Yes), app.theme.key()),
        Span::raw(" yes   "),
        Span::styled(keys(Action::No), app.theme.key()),
        Span::raw(" no"),
    ])
}
