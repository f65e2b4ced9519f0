//! The desk's state and its one `update`: keys become actions, actions change
//! state through the services, and effects that touch the outside world
//! (clipboard) are returned to the run loop.

use super::form::{Field, Form, FormInput};
use super::keymap::{Action, KeyMap, Scope, ALL_ACTIONS};
use super::lookup::{LookupEvent, LookupRequest};
use super::prefs::Prefs;
use super::view::theme::Theme;
use crate::domain::lifecycle::{normalise_email, normalise_phone};
use crate::domain::{
    CaseId, Channel, NewCase, Outcome, Relation, Requester, Right, State, Step, Subject,
    TaskStatus, VerificationMethod, VerificationOutcome,
};
use crate::lookup::{Group, SubjectView};
use crate::service::{CaseView, Desk, DeskError};
use chrono::NaiveDate;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::mpsc::Sender;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Queue,
    Case(CaseId),
}

/// What a form is for: decides what submitting it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Intake,
    Import,
    Verify(CaseId),
    Pause(CaseId),
    Extend(CaseId),
    Task(CaseId),
    Note(CaseId),
    Close(CaseId),
}

/// Popups sit on a stack above the screen and get keys first.
#[derive(Debug, Clone)]
pub enum Popup {
    Help {
        scroll: u16,
    },
    Palette {
        filter: String,
        selected: usize,
    },
    Form {
        form: Form,
        purpose: Purpose,
    },
    /// A destructive or binding step, confirmed before it is taken.
    Confirm {
        title: String,
        body: String,
        case: CaseId,
        step: Step,
    },
    Message {
        title: String,
        body: String,
        error: bool,
    },
    /// Find a person across sources; results arrive from the lookup worker.
    Lookup {
        query: String,
        gen: u64,
        groups: Vec<Group>,
        selected: usize,
        micros: Option<u128>,
    },
    /// One person across sources, from a lookup.
    Subject {
        view: SubjectView,
        selected: usize,
    },
    /// Split a wrongly linked record off its subject.
    ConfirmSplit {
        source: String,
        key: String,
    },
}

/// What the desk knows of its lookup index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexInfo {
    pub loading: bool,
    pub records: usize,
    pub subjects: usize,
    pub millis: u128,
}

/// What the run loop must do outside the app's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Put text on the staff member's clipboard via OSC 52 (works over SSH).
    Copy(String),
    /// Run an import on a worker thread; progress comes back as `Msg::Import`.
    StartImport {
        source: String,
        path: std::path::PathBuf,
        format: Option<crate::import::Format>,
    },
}

/// What an import running on a worker reports.
#[derive(Debug, Clone)]
pub enum ImportEvent {
    Progress {
        file: String,
        stage: String,
        rows: usize,
        millis: u128,
    },
    Done(Result<crate::service::ImportReport, String>),
}

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize { width: u16, height: u16 },
    Lookup(LookupEvent),
    Import(ImportEvent),
}

/// The queue: every case with its clock, and what the filters let through.
#[derive(Debug, Default)]
pub struct Queue {
    pub views: Vec<CaseView>,
    /// Indices into `views` that pass the filters, most urgent first.
    pub rows: Vec<usize>,
    pub selected: usize,
    pub state_filter: Option<State>,
    pub right_filter: Option<Right>,
    pub show_closed: bool,
}

/// Figures for the queue's header.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub open: usize,
    pub overdue: usize,
    pub due_this_week: usize,
    pub awaiting_id: usize,
}

impl Queue {
    pub fn selected_view(&self) -> Option<&CaseView> {
        self.rows.get(self.selected).map(|&i| &self.views[i])
    }

    pub fn counters(&self) -> Counters {
        let mut c = Counters::default();
        for v in self.views.iter().filter(|v| v.case.state.is_open()) {
            c.open += 1;
            match v.clock.days_left() {
                Some(d) if d < 0 => c.overdue += 1,
                Some(d) if d <= 7 => c.due_this_week += 1,
                _ => {}
            }
            if v.case.state == State::AwaitingIdentity {
                c.awaiting_id += 1;
            }
        }
        c
    }

    fn refilter(&mut self, keep: Option<CaseId>) {
        self.rows = self
            .views
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                self.show_closed
                    || v.case.state.is_open()
                    || self.state_filter == Some(State::Closed)
            })
            .filter(|(_, v)| self.state_filter.is_none_or(|s| v.case.state == s))
            .filter(|(_, v)| self.right_filter.is_none_or(|r| v.case.rights.contains(&r)))
            .map(|(i, _)| i)
            .collect();
        if let Some(id) = keep {
            if let Some(pos) = self.rows.iter().position(|&i| self.views[i].case.id == id) {
                self.selected = pos;
            }
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }
}

pub struct App {
    pub desk: Desk,
    pub keymap: KeyMap,
    pub theme: Theme,
    pub screen: Screen,
    pub popups: Vec<Popup>,
    pub queue: Queue,
    /// The case on the case screen, as last loaded.
    pub case: Option<CaseView>,
    pub case_scroll: u16,
    /// Personal data shown masked (screen sharing, open offices).
    pub masked: bool,
    pub status: Option<(String, bool)>,
    pub quit: bool,
    pub demo: bool,
    pub size: (u16, u16),
    /// Where lookup queries go; `None` until a worker is attached.
    pub lookup_tx: Option<Sender<LookupRequest>>,
    pub index: IndexInfo,
    lookup_gen: u64,
    /// Cases changed since the index's flags were computed.
    flags_dirty: bool,
    /// Records to attach to the case the intake form will open.
    pub intake_records: Vec<String>,
    /// An import is running on a worker.
    pub importing: bool,
    /// Effects produced deep inside key handling, returned by `update`.
    pending_effects: Vec<Effect>,
}

impl App {
    pub fn new(desk: Desk, keymap: KeyMap, theme: Theme, prefs: &Prefs) -> Result<App, DeskError> {
        let mut app = App {
            desk,
            keymap,
            theme,
            screen: Screen::Queue,
            popups: Vec::new(),
            queue: Queue::default(),
            case: None,
            case_scroll: 0,
            masked: prefs.masked,
            status: None,
            quit: false,
            demo: false,
            size: (80, 24),
            lookup_tx: None,
            index: IndexInfo {
                loading: true,
                ..IndexInfo::default()
            },
            lookup_gen: 0,
            flags_dirty: false,
            intake_records: Vec::new(),
            importing: false,
            pending_effects: Vec::new(),
        };
        app.queue.state_filter = prefs.state_filter.as_deref().and_then(|s| s.parse().ok());
        app.queue.right_filter = prefs.right_filter.as_deref().and_then(|s| s.parse().ok());
        app.queue.show_closed = prefs.show_closed;
        app.queue.views = app.desk.queue()?;
        let keep = prefs.selected.as_deref().and_then(|s| s.parse().ok());
        app.queue.refilter(keep);
        Ok(app)
    }

    /// What to remember for the next run: filters, selection, masking.
    pub fn prefs(&self) -> Prefs {
        Prefs {
            state_filter: self.queue.state_filter.map(|s| s.to_string()),
            right_filter: self.queue.right_filter.map(|r| r.to_string()),
            show_closed: self.queue.show_closed,
            selected: self.queue.selected_view().map(|v| v.case.id.to_string()),
            masked: self.masked,
        }
    }

    pub fn scope(&self) -> Scope {
        match self.screen {
            Screen::Queue => Scope::Queue,
            Screen::Case(_) => Scope::Case,
        }
    }

    /// The case an action applies to: the open one, else the queue's selection.
    pub fn current_case(&self) -> Option<CaseId> {
        match self.screen {
            Screen::Case(id) => Some(id),
            Screen::Queue => self.queue.selected_view().map(|v| v.case.id),
        }
    }

    fn page(&self) -> usize {
        usize::from(self.size.1.saturating_sub(7)).max(1)
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Resize { width, height } => {
                self.size = (width, height);
                vec![]
            }
            Msg::Lookup(ev) => {
                self.lookup_event(ev);
                vec![]
            }
            Msg::Import(ImportEvent::Progress {
                file,
                stage,
                rows,
                millis,
            }) => {
                self.status = Some((
                    format!(
                        "importing {}: {stage} {rows} rows ({:.1}s)…",
                        crate::domain::text::inert(&file),
                        millis as f64 / 1000.0
                    ),
                    false,
                ));
                vec![]
            }
            Msg::Import(ImportEvent::Done(result)) => {
                self.importing = false;
                match result {
                    Ok(r) => {
                        self.status = None;
                        self.popups.push(Popup::Message {
                            title: "Import done".into(),
                            body: format!(
                                "{} rows from {} ({}) into {}: {} new, {} updated.",
                                r.rows, r.file, r.format, r.source, r.new, r.updated
                            ),
                            error: false,
                        });
                        self.reload_index();
                    }
                    Err(e) => {
                        self.status = None;
                        self.show_error("Import refused: nothing was written", &e);
                    }
                }
                vec![]
            }
            Msg::Key(ev) => {
                let mut effects = if !self.popups.is_empty() {
                    self.popup_key(ev)
                } else {
                    match self.keymap.action_for(self.scope(), &ev) {
                        Some(a) => self.perform(a),
                        None => vec![],
                    }
                };
                effects.append(&mut self.pending_effects);
                effects
            }
        }
    }

    /// Runs one action (from a key or the palette).
    pub fn perform(&mut self, action: Action) -> Vec<Effect> {
        use Action::*;
        self.status = None;
        match action {
            Quit => self.quit = true,
            Help => self.popups.push(Popup::Help { scroll: 0 }),
            Import => {
                if self.importing {
                    self.say("an import is already running");
                } else {
                    let sources: Vec<&str> = self.desk.catalogue().ids();
                    let mut formats = vec!["detect"];
                    formats.extend(
                        crate::import::Format::ALL
                            .iter()
                            .map(|f| f.as_str())
                            .filter(|f| *f != "csv" && *f != "json"),
                    );
                    let form = Form::new(
                        "Import an export into the lookup",
                        vec![
                            Field::choice("source", "Source", &sources, 0),
                            Field::text("file", "File", "", "path to the export on this server"),
                            Field::choice("format", "Format", &formats, 0),
                        ],
                    );
                    self.popups.push(Popup::Form {
                        form,
                        purpose: Purpose::Import,
                    });
                }
            }
            Lookup => {
                if self.flags_dirty {
                    self.reload_index();
                }
                self.popups.push(Popup::Lookup {
                    query: String::new(),
                    gen: 0,
                    groups: vec![],
                    selected: 0,
                    micros: None,
                });
            }
            Palette => self.popups.push(Popup::Palette {
                filter: String::new(),
                selected: 0,
            }),
            ToggleMask => {
                self.masked = !self.masked;
                self.say(if self.masked {
                    "personal data masked"
                } else {
                    "personal data shown"
                });
            }
            CopyId => {
                if let Some(id) = self.current_case() {
                    self.say(&format!("copied {id} to the clipboard"));
                    return vec![Effect::Copy(id.to_string())];
                }
            }
            Up | Down | Top | Bottom | PageUp | PageDown => self.move_selection(action),
            Open => {
                if let (Screen::Queue, Some(id)) = (self.screen, self.current_case()) {
                    self.open_case_screen(id);
                }
            }
            Back => {
                self.screen = Screen::Queue;
                self.case = None;
            }
            NewCase => self.popups.push(Popup::Form {
                form: intake_form(self.desk.today()),
                purpose: Purpose::Intake,
            }),
            CycleStateFilter => {
                let mut states: Vec<Option<State>> = vec![None];
                states.extend(State::ALL.iter().copied().map(Some));
                self.queue.state_filter = next_of(&states, self.queue.state_filter);
                self.refilter();
            }
            CycleRightFilter => {
                let mut rights: Vec<Option<Right>> = vec![None];
                rights.extend(Right::ALL.iter().copied().map(Some));
                self.queue.right_filter = next_of(&rights, self.queue.right_filter);
                self.refilter();
            }
            ToggleClosed => {
                self.queue.show_closed = !self.queue.show_closed;
                self.refilter();
            }
            ClearFilters => {
                self.queue.state_filter = None;
                self.queue.right_filter = None;
                self.queue.show_closed = false;
                self.refilter();
            }
            Verify | Pause | Extend | RecordTask | AddNote | CloseCase => {
                if let Some(id) = self.current_case() {
                    let today = self.desk.today();
                    let (form, purpose) = match action {
                        Verify => (verify_form(id, today), Purpose::Verify(id)),
                        Pause => (
                            reason_form(
                                &format!("Pause {id} for clarification"),
                                "reason",
                                "what was asked of the requester",
                            ),
                            Purpose::Pause(id),
                        ),
                        Extend => (
                            reason_form(
                                &format!("Extend {id} by two months"),
                                "reason",
                                "why: told to the requester with reasons",
                            ),
                            Purpose::Extend(id),
                        ),
                        RecordTask => (self.task_form(id), Purpose::Task(id)),
                        AddNote => (
                            reason_form(&format!("Note on {id}"), "note", "what happened"),
                            Purpose::Note(id),
                        ),
                        _ => (close_form(id), Purpose::Close(id)),
                    };
                    self.popups.push(Popup::Form { form, purpose });
                }
            }
            RequestId => {
                if let Some(id) = self.current_case() {
                    self.popups.push(Popup::Confirm {
                        title: "Request more ID".into(),
                        body: format!("Ask the requester of {id} for more identification?\nThe clock stops until it arrives."),
                        case: id,
                        step: Step::RequestId { note: String::new() },
                    });
                }
            }
            Resume => {
                if let Some(id) = self.current_case() {
                    let _ = self.take_step(id, Step::Resume, None);
                }
            }
            MarkReady => {
                if let Some(id) = self.current_case() {
                    let _ = self.take_step(id, Step::MarkReady, None);
                }
            }
        }
        vec![]
    }

    fn say(&mut self, s: &str) {
        self.status = Some((s.to_string(), false));
    }

    fn refilter(&mut self) {
        let keep = self.queue.selected_view().map(|v| v.case.id);
        self.queue.refilter(keep);
    }

    fn move_selection(&mut self, a: Action) {
        if let Screen::Case(_) = self.screen {
            self.case_scroll = match a {
                Action::Up => self.case_scroll.saturating_sub(1),
                Action::Down => self.case_scroll.saturating_add(1),
                Action::Top => 0,
                Action::PageUp => self.case_scroll.saturating_sub(10),
                Action::PageDown => self.case_scroll.saturating_add(10),
                _ => self.case_scroll,
            };
            return;
        }
        let n = self.queue.rows.len();
        if n == 0 {
            return;
        }
        let s = self.queue.selected;
        self.queue.selected = match a {
            Action::Up => s.saturating_sub(1),
            Action::Down => (s + 1).min(n - 1),
            Action::Top => 0,
            Action::Bottom => n - 1,
            Action::PageUp => s.saturating_sub(self.page()),
            Action::PageDown => (s + self.page()).min(n - 1),
            _ => s,
        };
    }

    fn open_case_screen(&mut self, id: CaseId) {
        match self.desk.case(id) {
            Ok(v) => {
                self.case = Some(v);
                self.case_scroll = 0;
                self.screen = Screen::Case(id);
            }
            Err(e) => self.show_error("Cannot open the case", &e.to_string()),
        }
    }

    fn show_error(&mut self, title: &str, body: &str) {
        self.popups.push(Popup::Message {
            title: title.into(),
            body: body.into(),
            error: true,
        });
    }

    /// Puts a changed case back in the queue and on the case screen.
    fn refresh_case(&mut self, v: CaseView) {
        let id = v.case.id;
        let keep = self.queue.selected_view().map(|x| x.case.id).or(Some(id));
        match self.queue.views.iter().position(|x| x.case.id == id) {
            Some(i) => self.queue.views[i] = v.clone(),
            None => self.queue.views.push(v.clone()),
        }
        self.queue.views.sort_by_key(|x| {
            (
                x.clock.effective_due().is_none(),
                x.clock.effective_due(),
                x.case.id,
            )
        });
        self.queue.refilter(keep);
        if self.screen == Screen::Case(id) {
            self.case = Some(v);
        }
    }

    /// Takes a step through the services; the desk shows the domain's refusal.
    fn take_step(&mut self, id: CaseId, step: Step, on: Option<NaiveDate>) -> Result<(), String> {
        let name = step.name();
        match self.desk.step(id, step, on) {
            Ok(case) => {
                self.flags_dirty = true;
                let v = self.desk.view(case);
                self.say(&format!("{id}: {} — saved", v.case.state));
                self.refresh_case(v);
                Ok(())
            }
            Err(e) => {
                let msg = e.to_string();
                if self.popups.is_empty() {
                    self.show_error(&format!("Cannot {name} {id}"), &msg);
                }
                Err(msg)
            }
        }
    }

    fn popup_key(&mut self, ev: KeyEvent) -> Vec<Effect> {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let top = self.popups.pop().expect("a popup is open");
        match top {
            Popup::Help { scroll } => match ev.code {
                KeyCode::Char('j') | KeyCode::Down => self.popups.push(Popup::Help {
                    scroll: scroll.saturating_add(1),
                }),
                KeyCode::Char('k') | KeyCode::Up => self.popups.push(Popup::Help {
                    scroll: scroll.saturating_sub(1),
                }),
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter => {}
                KeyCode::Char('c') if ctrl => {}
                _ => self.popups.push(Popup::Help { scroll }),
            },
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
            } => match ev.code {
                KeyCode::Char('y') | KeyCode::Enter => {
                    let _ = self.take_step(case, step, None);
                }
                KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q') => {}
                KeyCode::Char('c') if ctrl => {}
                _ => self.popups.push(Popup::Confirm {
                    title,
                    body,
                    case,
                    step,
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
            Popup::Subject { view, mut selected } => match ev.code {
                KeyCode::Esc | KeyCode::Char('q') => {}
                KeyCode::Char('c') if ctrl => {}
                KeyCode::Char('j') | KeyCode::Down => {
                    selected = (selected + 1).min(view.records.len().saturating_sub(1));
                    self.popups.push(Popup::Subject { view, selected });
                }
                KeyCode::Char('k') | KeyCode::Up => {
                    selected = selected.saturating_sub(1);
                    self.popups.push(Popup::Subject { view, selected });
                }
                KeyCode::Char('n') => self.intake_for(&view),
                KeyCode::Char('x') => {
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
            },
            Popup::ConfirmSplit { source, key } => match ev.code {
                KeyCode::Char('y') | KeyCode::Enter => {
                    match self.desk.split_record(&source, &key) {
                        Ok(()) => {
                            // Close the subject view: its grouping is stale now.
                            if matches!(self.popups.last(), Some(Popup::Subject { .. })) {
                                self.popups.pop();
                            }
                            self.reload_index();
                            self.say("record split off; the index is being rebuilt");
                        }
                        Err(e) => self.show_error("Cannot split the record", &e.to_string()),
                    }
                }
                KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q') => {}
                _ => self.popups.push(Popup::ConfirmSplit { source, key }),
            },
            Popup::Form { mut form, purpose } => match form.handle(&ev) {
                FormInput::Cancel => {}
                FormInput::Submit => self.submit(form, purpose),
                FormInput::Moved { from } => {
                    check_field(&mut form, from, purpose, self.desk.today());
                    self.popups.push(Popup::Form { form, purpose });
                }
                FormInput::Edited | FormInput::Ignored => {
                    if purpose == Purpose::Intake && form.get("requester").value() == "subject" {
                        form.get_mut("requester_name").error = None;
                    }
                    self.popups.push(Popup::Form { form, purpose });
                }
            },
        }
        vec![]
    }

    /// Applies what the lookup worker reports.
    fn lookup_event(&mut self, ev: LookupEvent) {
        match ev {
            LookupEvent::Loading => self.index.loading = true,
            LookupEvent::Loaded {
                records,
                subjects,
                millis,
            } => {
                self.index = IndexInfo {
                    loading: false,
                    records,
                    subjects,
                    millis,
                };
                // Re-run an open query against the fresh index.
                if let (Some(Popup::Lookup { query, .. }), Some(tx)) = (
                    self.popups
                        .iter()
                        .rev()
                        .find(|p| matches!(p, Popup::Lookup { .. })),
                    &self.lookup_tx,
                ) {
                    if !query.trim().is_empty() {
                        self.lookup_gen += 1;
                        let _ = tx.send(LookupRequest::Query {
                            gen: self.lookup_gen,
                            text: query.clone(),
                        });
                    }
                }
                if let Some(Popup::Lookup { gen, .. }) = self
                    .popups
                    .iter_mut()
                    .rev()
                    .find(|p| matches!(p, Popup::Lookup { .. }))
                {
                    *gen = self.lookup_gen;
                }
            }
            LookupEvent::Results {
                gen,
                groups,
                micros,
            } => {
                // Only the answer to what is typed now; older answers are stale.
                if let Some(Popup::Lookup {
                    gen: want,
                    groups: g,
                    selected,
                    micros: m,
                    query,
                }) = self
                    .popups
                    .iter_mut()
                    .rev()
                    .find(|p| matches!(p, Popup::Lookup { .. }))
                {
                    if *want == gen && !query.trim().is_empty() {
                        *g = groups;
                        *selected = 0;
                        *m = Some(micros);
                    }
                }
            }
            LookupEvent::Subject(Some(view)) => {
                if matches!(self.popups.last(), Some(Popup::Lookup { .. })) {
                    self.popups.push(Popup::Subject { view, selected: 0 });
                }
            }
            LookupEvent::Subject(None) => self.say("that subject is gone from the index (rebuilt)"),
        }
    }

    /// Asks the lookup worker to rebuild the index with the current flags.
    fn reload_index(&mut self) {
        if let Some(tx) = &self.lookup_tx {
            let _ = tx.send(LookupRequest::Reload {
                flags: self.flag_sets(),
            });
            self.flags_dirty = false;
        }
    }

    /// The lookup's flags, from the cases the desk already holds in memory.
    pub fn flag_sets(&self) -> crate::lookup::FlagSets {
        crate::service::flag_sets_of(
            self.queue.views.iter().map(|v| &v.case),
            self.desk.default_cc(),
        )
    }

    /// Opens intake with the subject's identifiers filled in and its records attached.
    fn intake_for(&mut self, view: &SubjectView) {
        let mut form = intake_form(self.desk.today());
        // The name most records give; on a tie, the one with its accents (a
        // system that strips them is the usual reason for two spellings).
        let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for n in view.records.iter().flat_map(|r| r.names.first()) {
            *counts.entry(n.as_str()).or_default() += 1;
        }
        let name = counts
            .into_iter()
            .max_by_key(|(n, c)| {
                (
                    *c,
                    n.chars().filter(|ch| !ch.is_ascii()).count(),
                    std::cmp::Reverse(*n),
                )
            })
            .map(|(n, _)| n.to_string())
            .unwrap_or_default();
        let mut emails: Vec<String> = Vec::new();
        let mut phones: Vec<String> = Vec::new();
        for r in &view.records {
            for e in &r.emails {
                if let Ok(e) = normalise_email(e) {
                    if !emails.contains(&e) {
                        emails.push(e);
                    }
                }
            }
            for p in &r.phones {
                if let Ok(p) = normalise_phone(p) {
                    if !phones.contains(&p) {
                        phones.push(p);
                    }
                }
            }
        }
        form.get_mut("name").text = name;
        form.get_mut("emails").text = emails.join(", ");
        form.get_mut("phones").text = phones.join(", ");
        self.intake_records = view
            .records
            .iter()
            .map(|r| format!("{}:{}", r.source, r.key))
            .collect();
        self.popups.clear();
        self.popups.push(Popup::Form {
            form,
            purpose: Purpose::Intake,
        });
    }

    /// Actions whose name or description contains the filter, in table order.
    pub fn palette_matches(&self, filter: &str) -> Vec<Action> {
        let f = filter.to_lowercase();
        ALL_ACTIONS
            .iter()
            .copied()
            .filter(|a| f.is_empty() || a.name().contains(&f) || a.describe().contains(&f))
            .collect()
    }

    fn task_form(&self, id: CaseId) -> Form {
        let sources: Vec<&str> = self.desk.catalogue().ids();
        let action = self
            .queue
            .views
            .iter()
            .find(|v| v.case.id == id)
            .map(|v| v.case.rights[0].default_action())
            .unwrap_or("search and collect");
        Form::new(
            format!("Record work on {id}"),
            vec![
                Field::choice("source", "Source", &sources, 0),
                Field::choice(
                    "status",
                    "Status",
                    &["done", "not-found", "exempt", "pending"],
                    0,
                ),
                Field::text("action", "Action", action, "what was done in the source"),
                Field::text(
                    "note",
                    "Evidence",
                    "",
                    "what you did or saw; the legal basis if exempt",
                ),
            ],
        )
    }

    /// Turns a submitted form into a service call; a refusal stays in the form.
    fn submit(&mut self, mut form: Form, purpose: Purpose) {
        for i in 0..form.fields.len() {
            check_field(&mut form, i, purpose, self.desk.today());
        }
        if form.fields.iter().any(|f| f.error.is_some()) {
            form.error = Some("fix the marked fields".into());
            self.popups.push(Popup::Form { form, purpose });
            return;
        }
        let result = match purpose {
            Purpose::Intake => return self.submit_intake(form),
            Purpose::Import => {
                let path = std::path::PathBuf::from(form.get("file").text.trim());
                let format = form.get("format").value().parse().ok();
                if !path.is_file() {
                    form.error = Some(format!(
                        "{} is not a readable file",
                        crate::domain::text::inert(&path.display().to_string())
                    ));
                    self.popups.push(Popup::Form { form, purpose });
                    return;
                }
                self.importing = true;
                self.pending_effects.push(Effect::StartImport {
                    source: form.get("source").value().to_string(),
                    path,
                    format,
                });
                return;
            }
            Purpose::Verify(id) => {
                let method: VerificationMethod = form
                    .get("method")
                    .value()
                    .parse()
                    .expect("choice from the list");
                let note = form.get("checked").text.clone();
                let on = parse_day(&form.get("on").text);
                match form.get("outcome").value() {
                    "request more ID" => self.take_step(id, Step::RequestId { note }, on),
                    o => {
                        let outcome: VerificationOutcome = o.parse().expect("choice from the list");
                        self.take_step(
                            id,
                            Step::Verify {
                                method,
                                outcome,
                                note,
                            },
                            on,
                        )
                    }
                }
            }
            Purpose::Pause(id) => self.take_step(
                id,
                Step::Pause {
                    reason: form.get("reason").text.clone(),
                },
                None,
            ),
            Purpose::Extend(id) => self.take_step(
                id,
                Step::Extend {
                    reason: form.get("reason").text.clone(),
                },
                None,
            ),
            Purpose::Note(id) => self.take_step(
                id,
                Step::Note {
                    text: form.get("note").text.clone(),
                },
                None,
            ),
            Purpose::Task(id) => {
                let status: TaskStatus = form
                    .get("status")
                    .value()
                    .parse()
                    .expect("choice from the list");
                let step = Step::RecordTask {
                    source: form.get("source").value().to_string(),
                    action: Some(form.get("action").text.clone()),
                    status,
                    note: form.get("note").text.clone(),
                };
                self.take_step(id, step, None)
            }
            Purpose::Close(id) => {
                let outcome: Outcome = form
                    .get("outcome")
                    .value()
                    .parse()
                    .expect("choice from the list");
                let reason = form.get("reason").text.trim().to_string();
                self.popups.push(Popup::Confirm {
                    title: "Close the case".into(),
                    body: format!("Close {id} as {outcome}?\nReason: {reason}\nA closed case cannot be reopened."),
                    case: id,
                    step: Step::Close { outcome, reason },
                });
                Ok(())
            }
        };
        if let Err(msg) = result {
            form.error = Some(msg);
            self.popups.push(Popup::Form { form, purpose });
        }
    }

    fn submit_intake(&mut self, mut form: Form) {
        let today = self.desk.today();
        let new = NewCase {
            rights: form
                .get("rights")
                .ticked()
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect(),
            channel: form
                .get("channel")
                .value()
                .parse()
                .unwrap_or(Channel::Email),
            received: parse_day(&form.get("received").text).unwrap_or(today),
            requester: Requester {
                relation: form
                    .get("requester")
                    .value()
                    .parse()
                    .unwrap_or(Relation::Subject),
                name: Some(form.get("requester_name").text.clone())
                    .filter(|s| !s.trim().is_empty()),
                authority: Some(form.get("authority").text.clone())
                    .filter(|s| !s.trim().is_empty()),
            },
            child: form.get("child").on(),
            subject: Subject {
                name: form.get("name").text.clone(),
                emails: form.get("emails").list(),
                phones: form.get("phones").list(),
            },
            records: std::mem::take(&mut self.intake_records),
        };
        match self.desk.open_case(new) {
            Ok(case) => {
                self.flags_dirty = true;
                let id = case.id;
                let v = self.desk.view(case);
                self.refresh_case(v);
                self.open_case_screen(id);
                self.say(&format!(
                    "{id} opened — now verify the requester's identity"
                ));
                // Offer identity verification at once: work cannot start without it.
                self.popups.push(Popup::Form {
                    form: verify_form(id, today),
                    purpose: Purpose::Verify(id),
                });
            }
            Err(DeskError::Invalid(errs)) => {
                for e in errs {
                    let key = match e.field {
                        "email" => "emails",
                        "phone" => "phones",
                        "requester" => "requester_name",
                        other => other,
                    };
                    if let Some(f) = form.fields.iter_mut().find(|f| f.key == key) {
                        f.error = Some(e.why);
                    }
                }
                form.error = Some("fix the marked fields".into());
                self.popups.push(Popup::Form {
                    form,
                    purpose: Purpose::Intake,
                });
            }
            Err(e) => {
                form.error = Some(e.to_string());
                self.popups.push(Popup::Form {
                    form,
                    purpose: Purpose::Intake,
                });
            }
        }
    }
}

fn next_of<T: PartialEq + Copy>(list: &[T], cur: T) -> T {
    let i = list.iter().position(|x| *x == cur).unwrap_or(0);
    list[(i + 1) % list.len()]
}

/// A day typed as `YYYY-MM-DD`, optionally followed by a time (the hour does not
/// matter to the clock: the day of receipt counts).
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    let day = t.get(..10).unwrap_or(t);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// Validates one field as the officer leaves it, with the domain's own checks.
fn check_field(form: &mut Form, i: usize, purpose: Purpose, today: NaiveDate) {
    let key = form.fields[i].key;
    let requester_is_subject =
        purpose != Purpose::Intake || form.get("requester").value() == "subject";
    let f = &form.fields[i];
    let err = match key {
        "received" | "on" => match parse_day(&f.text) {
            None => Some("a date as YYYY-MM-DD".to_string()),
            Some(d) if d > today => Some("cannot be in the future".into()),
            Some(_) => None,
        },
        "rights" if f.ticked().is_empty() => Some("tick at least one right".into()),
        "name" if f.text.trim().is_empty() => Some("the subject's name is required".into()),
        "emails" => f.list().iter().find_map(|e| normalise_email(e).err()),
        "phones" => f.list().iter().find_map(|p| normalise_phone(p).err()),
        "requester_name" if !requester_is_subject && f.text.trim().is_empty() => {
            Some("name the parent or agent".into())
        }
        "authority" if !requester_is_subject && f.text.trim().is_empty() => {
            Some("record the authority seen".into())
        }
        "reason" | "note" if f.text.trim().is_empty() && !matches!(purpose, Purpose::Task(_)) => {
            Some("required".into())
        }
        "note"
            if matches!(purpose, Purpose::Task(_))
                && f.text.trim().is_empty()
                && form.get("status").value() == "exempt" =>
        {
            Some("give the legal basis for the exemption".into())
        }
        _ => None,
    };
    form.fields[i].error = err;
}

pub fn intake_form(today: NaiveDate) -> Form {
    let channels: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
    let rights: Vec<&str> = Right::ALL.iter().map(|r| r.as_str()).collect();
    let relations: Vec<&str> = Relation::ALL.iter().map(|r| r.as_str()).collect();
    Form::new(
        "New case (intake)",
        vec![
            Field::choice("channel", "Channel", &channels, 0),
            Field::text(
                "received",
                "Received",
                &format!("{}", today.format("%Y-%m-%d")),
                "YYYY-MM-DD; the day counts, not the hour",
            ),
            Field::multi("rights", "Rights", &rights),
            Field::choice("requester", "Requester", &relations, 0),
            Field::text("requester_name", "Their name", "", "parent or agent only"),
            Field::text(
                "authority",
                "Authority",
                "",
                "what authority was seen (parent or agent)",
            ),
            Field::toggle("child", "Child", false),
            Field::text("name", "Subject", "", "the data subject's full name"),
            Field::text("emails", "E-mails", "", "comma-separated"),
            Field::text("phones", "Phones", "", "comma-separated"),
        ],
    )
}

pub fn verify_form(id: CaseId, today: NaiveDate) -> Form {
    let methods: Vec<&str> = VerificationMethod::ALL.iter().map(|m| m.as_str()).collect();
    Form::new(
        format!("Verify identity for {id}"),
        vec![
            Field::choice("method", "Method", &methods, 0),
            Field::text(
                "checked",
                "Checked",
                "",
                "what was checked; never store the document",
            ),
            Field::choice(
                "outcome",
                "Outcome",
                &["verified", "failed", "request more ID"],
                0,
            ),
            Field::text(
                "on",
                "On",
                &today.format("%Y-%m-%d").to_string(),
                "the day ID arrived / was checked",
            ),
        ],
    )
}

fn reason_form(title: &str, key: &'static str, hint: &'static str) -> Form {
    let label = if key == "note" { "Note" } else { "Reason" };
    Form::new(title, vec![Field::text(key, label, "", hint)])
}

fn close_form(id: CaseId) -> Form {
    let outcomes: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
    Form::new(
        format!("Close {id}"),
        vec![
            Field::choice("outcome", "Outcome", &outcomes, 0),
            Field::text("reason", "Reason", "", "what was done, or why refused"),
        ],
    )
}
