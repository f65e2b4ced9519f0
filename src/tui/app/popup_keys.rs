//! Keys while a popup is open: the top of the stack gets them first.

use super::forms::check_field;
use super::*;
use crate::tui::form::FormInput;

impl App {
    pub(super) fn popup_key(&mut self, ev: KeyEvent) -> Vec<Effect> {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let top = self.popups.pop().expect("a popup is open");
        match top {
            Popup::Help {
                scroll,
                search: Some(mut s),
            } => match ev.code {
                // Typing searches; ↑/↓ scroll what matches; esc shows all.
                KeyCode::Esc => self.popups.push(Popup::Help {
                    scroll: 0,
                    search: None,
                }),
                KeyCode::Char('c') if ctrl => {}
                // ctrl-u clears the search, as in a shell line.
                KeyCode::Char('u') if ctrl => self.popups.push(Popup::Help {
                    scroll: 0,
                    search: Some(String::new()),
                }),
                KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown => {
                    let scroll = help_scroll(scroll, ev.code, self.popup_scroll_max.get());
                    self.popups.push(Popup::Help {
                        scroll,
                        search: Some(s),
                    })
                }
                KeyCode::Backspace => {
                    let search = s.pop().map(|_| s);
                    self.popups.push(Popup::Help { scroll: 0, search })
                }
                KeyCode::Enter => self.popups.push(Popup::Help {
                    scroll: 0,
                    search: Some(s),
                }),
                KeyCode::Char(c) if !ctrl => {
                    s.push(c);
                    self.popups.push(Popup::Help {
                        scroll: 0,
                        search: Some(s),
                    })
                }
                _ => self.popups.push(Popup::Help {
                    scroll,
                    search: Some(s),
                }),
            },
            Popup::Help {
                scroll,
                search: None,
            } => match ev.code {
                KeyCode::Char('/') => self.popups.push(Popup::Help {
                    scroll: 0,
                    search: Some(String::new()),
                }),
                KeyCode::Char('j')
                | KeyCode::Down
                | KeyCode::Char('k')
                | KeyCode::Up
                | KeyCode::PageDown
                | KeyCode::PageUp
                | KeyCode::Char('g')
                | KeyCode::Char('G')
                | KeyCode::Home
                | KeyCode::End => {
                    let scroll = help_scroll(scroll, ev.code, self.popup_scroll_max.get());
                    self.popups.push(Popup::Help {
                        scroll,
                        search: None,
                    })
                }
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter => {}
                KeyCode::Char('c') if ctrl => {}
                _ => self.popups.push(Popup::Help {
                    scroll,
                    search: None,
                }),
            },
            Popup::Plan {
                proposal,
                keep,
                selected,
            } => self.plan_key(ev, proposal, keep, selected),
            Popup::Records {
                all,
                months,
                scroll,
            } => self.records_key(ev, all, months, scroll),
            Popup::Audit(v) => self.audit_key(ev, v),
            Popup::Inbox { inbox, selected } => self.inbox_key(ev, inbox, selected),
            Popup::Mail { mail, scroll } => self.mail_key(ev, mail, scroll),
            Popup::Letter {
                case,
                letter,
                report,
                scroll,
            } => {
                let scroll = match ev.code {
                    KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => return vec![],
                    KeyCode::Char('c') if ctrl => return vec![],
                    // The case's next letter (the response, then each notice
                    // the case has had occasion for).
                    KeyCode::Tab => {
                        self.show_letter(case, self.next_letter(case, letter));
                        return vec![];
                    }
                    KeyCode::Char('s') if letter != crate::domain::notice::Letter::Response => {
                        self.popups.push(Popup::Letter {
                            case,
                            letter,
                            report,
                            scroll,
                        });
                        self.popups.push(Popup::Form {
                            form: super::rights::sent_form(
                                case,
                                letter,
                                self.case
                                    .as_ref()
                                    .filter(|v| v.case.id == case)
                                    .map_or(crate::domain::Channel::Email, |v| v.case.channel),
                                self.desk.today(),
                            ),
                            purpose: Purpose::NoticeSent(case, letter),
                        });
                        return vec![];
                    }
                    KeyCode::Char('j') | KeyCode::Down => scroll.saturating_add(1),
                    KeyCode::Char('k') | KeyCode::Up => scroll.saturating_sub(1),
                    KeyCode::PageDown | KeyCode::Char(' ') => scroll.saturating_add(10),
                    KeyCode::PageUp => scroll.saturating_sub(10),
                    KeyCode::Char('g') | KeyCode::Home => 0,
                    _ => scroll,
                };
                self.popups.push(Popup::Letter {
                    case,
                    letter,
                    report,
                    scroll,
                });
            }
            Popup::Message { .. } => {
                if !matches!(
                    ev.code,
                    KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter | KeyCode::Char(' ')
                ) && !ctrl
                {
                    self.popups.push(top);
                }
            }
            Popup::Confirm {
                title,
                body,
                case,
                step,
                on,
                back,
            } => match self.keymap.action_in(Scope::Confirm, &ev) {
                _ if ctrl && ev.code == KeyCode::Char('c') => {}
                Some(Action::Yes) => {
                    if matches!(step, Step::Close(_)) {
                        // Closing an erasure removes the person's records from
                        // the index (a scan of every record): never on the
                        // input path.
                        self.say(&format!("{case}: closing…"));
                        let expected = self.base_version(case);
                        self.pending_effects.push(Effect::SlowStep {
                            case,
                            step: Box::new(step),
                            expected,
                        });
                    } else {
                        if let (Err(msg), Some(b)) = (self.take_step(case, step, on), back) {
                            // Refused after all: back to the form, as typed.
                            if matches!(self.popups.last(), Some(Popup::Message { .. })) {
                                self.popups.pop();
                            }
                            let (mut form, purpose) = *b;
                            form.error = Some(msg);
                            self.popups.push(Popup::Form { form, purpose });
                        }
                    }
                }
                // "No": back to the form it came from, to change it.
                Some(Action::No) => {
                    if let Some(b) = back {
                        let (form, purpose) = *b;
                        self.popups.push(Popup::Form { form, purpose });
                    }
                }
                _ => self.popups.push(Popup::Confirm {
                    title,
                    body,
                    case,
                    step,
                    on,
                    back,
                }),
            },
            Popup::Palette {
                mut filter,
                mut selected,
            } => {
                let matches = self.palette_matches(&filter);
                match ev.code {
                    KeyCode::Esc => {}
                    KeyCode::Char('c') if ctrl => {}
                    KeyCode::Enter => {
                        if let Some(a) = matches.get(selected) {
                            return self.perform(*a);
                        }
                    }
                    KeyCode::Up => {
                        selected = selected.saturating_sub(1);
                        self.popups.push(Popup::Palette { filter, selected });
                    }
                    KeyCode::Down | KeyCode::Tab => {
                        selected = (selected + 1).min(matches.len().saturating_sub(1));
                        self.popups.push(Popup::Palette { filter, selected });
                    }
                    KeyCode::Backspace => {
                        filter.pop();
                        self.popups.push(Popup::Palette {
                            filter,
                            selected: 0,
                        });
                    }
                    KeyCode::Char(c) if !ctrl => {
                        filter.push(c);
                        self.popups.push(Popup::Palette {
                            filter,
                            selected: 0,
                        });
                    }
                    _ => self.popups.push(Popup::Palette { filter, selected }),
                }
            }
            Popup::Lookup {
                mut query,
                gen,
                groups,
                mut selected,
                micros,
            } => match ev.code {
                KeyCode::Esc => {}
                KeyCode::Char('c') | KeyCode::Char('g') if ctrl => {}
                KeyCode::Up => {
                    selected = selected.saturating_sub(1);
                    self.popups.push(Popup::Lookup {
                        query,
                        gen,
                        groups,
                        selected,
                        micros,
                    });
                }
                KeyCode::Down | KeyCode::Tab => {
                    selected = (selected + 1).min(groups.len().saturating_sub(1));
                    self.popups.push(Popup::Lookup {
                        query,
                        gen,
                        groups,
                        selected,
                        micros,
                    });
                }
                KeyCode::Enter => {
                    if let (Some(g), Some(tx)) = (groups.get(selected), &self.lookup_tx) {
                        let _ = tx.send(LookupRequest::Subject {
                            id: g.subject.clone(),
                        });
                    }
                    self.popups.push(Popup::Lookup {
                        query,
                        gen,
                        groups,
                        selected,
                        micros,
                    });
                }
                KeyCode::Backspace | KeyCode::Char(_) if !ctrl => {
                    match ev.code {
                        KeyCode::Char(c) => query.push(c),
                        _ => {
                            query.pop();
                        }
                    }
                    self.lookup_gen += 1;
                    let gen = self.lookup_gen;
                    if let Some(tx) = &self.lookup_tx {
                        let _ = tx.send(LookupRequest::Query {
                            gen,
                            text: query.clone(),
                        });
                    }
                    let groups = if query.trim().is_empty() {
                        vec![]
                    } else {
                        groups
                    };
                    self.popups.push(Popup::Lookup {
                        query,
                        gen,
                        groups,
                        selected: 0,
                        micros,
                    });
                }
                _ => self.popups.push(Popup::Lookup {
                    query,
                    gen,
                    groups,
                    selected,
                    micros,
                }),
            },
            Popup::Subject { view, mut selected } => {
                match self.keymap.action_in(Scope::Person, &ev) {
                    _ if ctrl && ev.code == KeyCode::Char('c') => {}
                    Some(Action::Back) => {}
                    Some(Action::Down) => {
                        // Down the person's records, then the possible matches.
                        let rows = view.records.len() + view.similar.len();
                        selected = (selected + 1).min(rows.saturating_sub(1));
                        self.popups.push(Popup::Subject { view, selected });
                    }
                    Some(Action::PersonAddToCase) => {
                        let record = view
                            .records
                            .get(selected)
                            .or_else(|| {
                                view.similar
                                    .get(selected - view.records.len().min(selected))
                                    .map(|s| &s.record)
                            })
                            .cloned();
                        self.popups.push(Popup::Subject { view, selected });
                        if let Some(r) = record {
                            self.link_form(&r);
                        }
                    }
                    Some(Action::Up) => {
                        selected = selected.saturating_sub(1);
                        self.popups.push(Popup::Subject { view, selected });
                    }
                    Some(Action::PersonNewCase) => self.intake_for(&view),
                    Some(Action::PersonSplit) => {
                        let split = view
                            .records
                            .get(selected)
                            .map(|r| (r.source.clone(), r.key.clone()));
                        self.popups.push(Popup::Subject { view, selected });
                        if let Some((source, key)) = split {
                            self.popups.push(Popup::ConfirmSplit { source, key });
                        }
                    }
                    _ => self.popups.push(Popup::Subject { view, selected }),
                }
            }
            Popup::ConfirmSplit { source, key } => match self.keymap.action_in(Scope::Confirm, &ev)
            {
                _ if ctrl && ev.code == KeyCode::Char('c') => {}
                Some(Action::Yes) => {
                    match self.desk.split_record(source.clone(), key.clone()) {
                        Ok(()) => {
                            // Close the subject view: its grouping is stale now.
                            if matches!(self.popups.last(), Some(Popup::Subject { .. })) {
                                self.popups.pop();
                            }
                            self.refresh_index();
                            self.say("record split off; the index links it again");
                        }
                        Err(e) => self.show_error("Cannot split the record", &e.to_string()),
                    }
                }
                Some(Action::No) => {}
                _ => self.popups.push(Popup::ConfirmSplit { source, key }),
            },
            Popup::Form { mut form, purpose }
                if purpose == Purpose::Import
                    && ev.code == KeyCode::Tab
                    && form.focused().key == "file" =>
            {
                // Tab completes the path; with nothing to complete it moves on.
                if !self.complete_import_path(&mut form) {
                    if let FormInput::Moved { from } = form.handle(&ev) {
                        check_field(&mut form, from, purpose, self.desk.today());
                        self.read_import_head(&mut form, true);
                    }
                }
                self.popups.push(Popup::Form { form, purpose });
            }
            Popup::Form { mut form, purpose } => match form.handle(&ev) {
                FormInput::Cancel => {}
                FormInput::Submit => self.submit(form, purpose),
                FormInput::Moved { from } => {
                    check_field(&mut form, from, purpose, self.desk.today());
                    // How the file reads follows what says how to read it.
                    if purpose == Purpose::Import
                        && matches!(
                            form.fields[from].key,
                            "file" | "format" | "columns" | "encoding"
                        )
                    {
                        let suggest = form.fields[from].key == "file";
                        self.read_import_head(&mut form, suggest);
                    }
                    self.popups.push(Popup::Form { form, purpose });
                }
                FormInput::Edited | FormInput::Ignored => {
                    if purpose == Purpose::Intake && form.get("requester").value() == "subject" {
                        form.get_mut("requester_name").error = None;
                    }
                    // The close form says what the chosen outcome must explain.
                    if let Purpose::Close(id) = purpose {
                        if form.focused().key == "outcome" {
                            let outcome = form.get("outcome").value().parse().ok();
                            if let (Some(v), Some(o)) = (self.shown(id), outcome) {
                                form.intro = super::forms::close_intro(v, o);
                            }
                        }
                    }
                    // A format or charset chosen: the file is read again at once.
                    if purpose == Purpose::Import
                        && matches!(form.focused().key, "format" | "encoding")
                        && matches!(ev.code, KeyCode::Left | KeyCode::Right | KeyCode::Char(' '))
                    {
                        self.read_import_head(&mut form, false);
                    }
                    self.popups.push(Popup::Form { form, purpose });
                }
            },
        }
        vec![]
    }

    /// Actions whose name or description contains the filter, in table order.
    pub fn palette_matches(&self, filter: &str) -> Vec<Action> {
        let f = filter.to_lowercase();
        ALL_ACTIONS
            .iter()
            .copied()
            .filter(|a| !a.in_popup_only())
            .filter(|a| f.is_empty() || a.name().contains(&f) || a.describe().contains(&f))
            .collect()
    }
}

/// Where a scroll key takes the help, stopping at its last page.
fn help_scroll(scroll: u16, code: KeyCode, max: u16) -> u16 {
    match code {
        KeyCode::Char('j') | KeyCode::Down => scroll.saturating_add(1),
        KeyCode::Char('k') | KeyCode::Up => scroll.saturating_sub(1),
        KeyCode::PageDown => scroll.saturating_add(10),
        KeyCode::PageUp => scroll.saturating_sub(10),
        KeyCode::Char('g') | KeyCode::Home => 0,
        KeyCode::Char('G') | KeyCode::End => max,
        _ => scroll,
    }
    .min(max)
}
