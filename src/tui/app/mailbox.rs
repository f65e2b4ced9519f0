//! The privacy mailbox in the desk: `m` from the queue reads it on a worker
//! (`service::mailbox::read`, the shell's `inbox`), Enter reads a message,
//! `n` opens intake filled from it (`inbox::Mail::intake`, the shell's
//! `case open --from-message`).

use super::*;
use crate::service::mailbox::Inbox;
use crate::tui::form::FieldKind;

/// One line of the mailbox list: a request, or a reply under its case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Request(usize),
    Reply { thread: usize, reply: usize },
}

pub fn rows(inbox: &Inbox) -> Vec<Row> {
    let mut out: Vec<Row> = (0..inbox.requests.len()).map(Row::Request).collect();
    for (t, thread) in inbox.threads.iter().enumerate() {
        for r in 0..thread.replies.len() {
            out.push(Row::Reply {
                thread: t,
                reply: r,
            });
        }
    }
    out
}

impl App {
    pub(super) fn open_inbox(&mut self) {
        match self.inbox_path.clone() {
            Some(_) if self.reading_inbox => self.say("still reading the mailbox…"),
            Some(path) => {
                self.say("reading the mailbox…");
                self.reading_inbox = true;
                self.pending_effects.push(Effect::ReadInbox(path));
            }
            None => self.popups.push(Popup::Message {
                title: "No mailbox".into(),
                body: "Start the desk with --inbox MAILBOX (or set RIGHTSDESK_INBOX): an mbox such as a Google Takeout export, a Maildir (what mbsync or fetchmail keep), or a folder of .eml files.".into(),
                error: false,
            }),
        }
    }

    pub(super) fn on_inbox(&mut self, result: Result<Box<Inbox>, String>) {
        self.reading_inbox = false;
        match result {
            Ok(inbox) => {
                let waiting = inbox.waiting().count();
                self.say(&format!(
                    "{} waiting in the mailbox",
                    crate::domain::text::counted(waiting, "request", "requests")
                ));
                // Read again (`r`): the list replaces the one shown.
                self.popups.retain(|p| !matches!(p, Popup::Inbox { .. }));
                self.popups.push(Popup::Inbox { inbox, selected: 0 });
            }
            Err(e) => self.popups.push(Popup::Message {
                title: "The mailbox cannot be read".into(),
                body: e,
                error: true,
            }),
        }
    }

    pub(super) fn on_mail(&mut self, result: Result<Box<crate::inbox::Mail>, String>) {
        match result {
            Ok(mail) if std::mem::take(&mut self.intake_after_read) => self.intake_from_mail(&mail),
            Ok(mail) => self.popups.push(Popup::Mail { mail, scroll: 0 }),
            Err(e) => {
                self.intake_after_read = false;
                self.popups.push(Popup::Message {
                    title: "The message cannot be read".into(),
                    body: e,
                    error: true,
                });
            }
        }
    }

    pub(super) fn inbox_key(&mut self, ev: KeyEvent, inbox: Box<Inbox>, mut selected: usize) {
        let rows = rows(&inbox);
        let n = rows.len();
        let row = rows.get(selected).copied();
        match ev.code {
            KeyCode::Esc | KeyCode::Char('q') => return,
            KeyCode::Char('c') if ev.modifiers.contains(KeyModifiers::CONTROL) => return,
            KeyCode::Char('j') | KeyCode::Down => {
                selected = (selected + 1).min(n.saturating_sub(1))
            }
            KeyCode::Char('k') | KeyCode::Up => selected = selected.saturating_sub(1),
            KeyCode::Char('g') | KeyCode::Home => selected = 0,
            KeyCode::Char('G') | KeyCode::End => selected = n.saturating_sub(1),
            KeyCode::Char('r') => match self.inbox_path.clone() {
                Some(_) if self.reading_inbox => self.say("still reading the mailbox…"),
                Some(path) => {
                    self.say("reading the mailbox again…");
                    self.reading_inbox = true;
                    self.pending_effects.push(Effect::ReadInbox(path));
                }
                None => {}
            },
            KeyCode::Enter => match row {
                Some(Row::Request(i)) => {
                    let r = &inbox.requests[i];
                    self.pending_effects.push(Effect::ReadMail {
                        at: r.at.clone(),
                        digest: r.digest.clone(),
                    });
                }
                Some(Row::Reply { thread, reply }) => {
                    let t = &inbox.threads[thread];
                    if t.known {
                        // A reply belongs to its case: open it there.
                        let id = t.case;
                        self.popups.clear();
                        self.open_case_screen(id);
                        return;
                    }
                    let r = &t.replies[reply];
                    self.pending_effects.push(Effect::ReadMail {
                        at: r.at.clone(),
                        digest: r.digest.clone(),
                    });
                }
                None => {}
            },
            KeyCode::Char('n') => {
                if let Some(Row::Request(i)) = row {
                    let r = &inbox.requests[i];
                    if let Some(case) = &r.case {
                        self.say(&format!("this message is {case} already"));
                    } else {
                        self.pending_effects.push(Effect::ReadMail {
                            at: r.at.clone(),
                            digest: r.digest.clone(),
                        });
                        self.intake_after_read = true;
                    }
                }
            }
            _ => {}
        }
        self.popups.push(Popup::Inbox { inbox, selected });
    }

    pub(super) fn mail_key(
        &mut self,
        ev: KeyEvent,
        mail: Box<crate::inbox::Mail>,
        mut scroll: u16,
    ) {
        match ev.code {
            KeyCode::Esc | KeyCode::Char('q') => return,
            KeyCode::Char('c') if ev.modifiers.contains(KeyModifiers::CONTROL) => return,
            KeyCode::Char('j') | KeyCode::Down => {
                scroll = scroll.saturating_add(1).min(self.popup_scroll_max.get())
            }
            KeyCode::Char('k') | KeyCode::Up => scroll = scroll.saturating_sub(1),
            KeyCode::Char(' ') | KeyCode::PageDown => {
                scroll = scroll
                    .saturating_add(self.size.1.saturating_sub(4))
                    .min(self.popup_scroll_max.get())
            }
            KeyCode::Char('g') | KeyCode::Home => scroll = 0,
            KeyCode::Char('n') => {
                self.intake_from_mail(&mail);
                return;
            }
            _ => {}
        }
        self.popups.push(Popup::Mail { mail, scroll });
    }

    /// The intake form filled from a message, for staff to confirm. A reply
    /// or a message that does not read as a request opens none (the shell's
    /// rule too): staff open a plain intake (`n` on the queue) if it asks
    /// for something.
    pub(super) fn intake_from_mail(&mut self, mail: &crate::inbox::Mail) {
        if let Some(why) = mail.not_a_request() {
            self.popups.push(Popup::Message {
                title: "Not a new request".into(),
                body: format!(
                    "{why}. If it asks for something, open a plain intake: n on the queue."
                ),
                error: false,
            });
            return;
        }
        let today = self.desk.today();
        let new = mail.intake(today);
        let mut form = intake_form(today);
        let channel = form.get("channel");
        if let FieldKind::Choice(opts) = &channel.kind {
            let at = opts
                .iter()
                .position(|o| o == new.channel.as_str())
                .unwrap_or(0);
            form.get_mut("channel").index = at;
        }
        form.get_mut("received").text = new.received.format("%Y-%m-%d").to_string();
        if let FieldKind::Multi(opts) = form.get("rights").kind.clone() {
            let f = form.get_mut("rights");
            for (i, o) in opts.iter().enumerate() {
                f.checked[i] = new.rights.iter().any(|r| r.as_str() == o);
            }
        }
        form.get_mut("name").text = new.subject.name.clone();
        form.get_mut("emails").text = new.subject.emails.join(", ");
        if mail.received.is_none() {
            form.error = Some("the message has no readable Date: check the day received".into());
        } else if let Some(note) = &mail.date_note {
            form.error = Some(note.clone());
        }
        self.intake_message = new.message;
        self.intake_records.clear();
        self.popups.clear();
        self.popups.push(Popup::Form {
            form,
            purpose: Purpose::Intake,
        });
        self.say("intake from the message: check the rights and the person, then ctrl-s");
    }
}
