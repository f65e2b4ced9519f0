//! The desk's state and its one `update`: keys become actions, actions change
//! state through the services, and effects that touch the outside world
//! (clipboard) are returned to the run loop.

mod forms;
mod lookup_events;
pub mod mailbox;
mod popup_keys;
mod records;
mod rights;
pub use records::AuditView;
pub use rights::PendingExport;

use forms::{close_form, fee_form, reason_form};
pub use forms::{intake_form, parse_day, pause_form, request_id_form, resume_form, verify_form};

use super::form::{Field, Form};
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
use crate::remote::backend::Backend;
use crate::service::{CaseView, DeskError};
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
    /// More ID asked for (the day and what was asked).
    RequestId(CaseId),
    /// The clarification came (the day).
    Resume(CaseId),
    Extend(CaseId),
    Task(CaseId),
    Note(CaseId),
    Close(CaseId),
    Export(CaseId),
    Rectify(CaseId),
    LiftRestriction(CaseId),
    /// Records that a notice (ID request, clarification, extension) went out.
    NoticeSent(CaseId, crate::domain::notice::Letter),
    /// A fee asked before acting (Art. 12(5)(a)).
    Fee(CaseId),
    /// A record of the lookup added to the case as the same person's.
    LinkIdentity(CaseId),
    /// A restored data set (true) or a campaign list (false) to check.
    Check {
        restore: bool,
    },
    Closures,
}

/// Popups sit on a stack above the screen and get keys first.
#[derive(Debug, Clone)]
pub enum Popup {
    Help {
        scroll: u16,
        /// What is typed after `/`: only matching keys are shown.
        search: Option<String>,
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
        /// The day the step counts from (`None`: today).
        on: Option<NaiveDate>,
        /// The form the step came from: "no" goes back to it, and so does a
        /// refusal, with what the officer typed.
        back: Option<Box<(Form, Purpose)>>,
    },
    Message {
        title: String,
        body: String,
        error: bool,
    },
    /// A letter as the subject will read it, scrolled with j/k at any size.
    Letter {
        case: CaseId,
        letter: crate::domain::notice::Letter,
        report: Box<crate::domain::response::Report>,
        scroll: u16,
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
    /// The tasks proposed for a case's rights; ticked ones are recorded.
    Plan {
        proposal: crate::service::PlanProposal,
        keep: Vec<bool>,
        selected: usize,
    },
    /// Figures of the closed cases: all time and per month.
    Records {
        all: Box<crate::domain::closure_log::Figures>,
        months: std::collections::BTreeMap<String, crate::domain::closure_log::Figures>,
        scroll: u16,
    },
    /// The audit chain, filtered; `v` verifies it.
    Audit(Box<AuditView>),
    /// The privacy mailbox: requests not yet cases, replies under their case.
    Inbox {
        inbox: Box<crate::service::mailbox::Inbox>,
        selected: usize,
    },
    /// One message, shown inert; `n` opens intake from it.
    Mail {
        mail: Box<crate::inbox::Mail>,
        scroll: u16,
    },
    /// Split a wrongly linked record off its subject.
    ConfirmSplit {
        source: String,
        key: String,
    },
}

/// What the desk knows of its lookup index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexInfo {
    pub loading: bool,
    pub records: usize,
    pub subjects: usize,
    pub millis: u128,
    /// Why the lookup cannot answer now (shown instead of "no match").
    pub failed: Option<String>,
}

/// Why the import form's file could not be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadRefusal {
    /// Not there, not a regular file, or not ours to read.
    NotReadable,
    /// Read, and refused as the import would refuse it.
    Refused(String),
}

/// The charsets the import form offers for a file with no byte-order mark
/// (one with a BOM, as Excel's "Unicode Text", is read as it says).
const ENCODINGS: [&str; 4] = ["detect", "windows-1252", "iso-8859-2", "windows-1250"];

/// What the run loop must do outside the app's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Put text on the staff member's clipboard via OSC 52 (works over SSH).
    Copy(String),
    /// Read the queue's next page of cases on a worker; the answer comes
    /// back as `Msg::QueuePage`.
    LoadQueue { after: CaseId },
    /// Run an import on a worker thread; progress comes back as `Msg::Import`.
    StartImport {
        source: String,
        path: std::path::PathBuf,
        how: Box<crate::import::ReadAs>,
    },
    /// Read the first bytes of the file chosen in the import form on a
    /// worker; the answer comes back as `Msg::ImportHead`.
    ReadImportHead {
        path: std::path::PathBuf,
        how: Box<crate::import::ReadAs>,
        suggest: bool,
    },
    /// Propose a plan on a worker; the answer comes back as `Msg::Plan`.
    ProposePlan(CaseId),
    /// Write the pending access export (`App::take_export`) on a worker;
    /// the answer comes back as `Msg::Exported`.
    StartExport(CaseId),
    /// Check a file against the backup marks or the suppression list on a
    /// worker; the answer comes back as `Msg::Checked`.
    StartCheck {
        restore: bool,
        path: std::path::PathBuf,
        format: Option<crate::import::Format>,
    },
    /// Read the privacy mailbox on a worker; the answer is `Msg::Inbox`.
    ReadInbox(std::path::PathBuf),
    /// Read one message again on a worker, if it is still the one with
    /// `digest`; the answer is `Msg::Mail`.
    ReadMail {
        at: crate::inbox::Locator,
        digest: String,
    },
    /// Prove the audit chain on a worker; the answer is `Msg::AuditVerified`.
    VerifyAudit,
    /// Take a slow step (closing an erasure scans the index) on a worker;
    /// the answer is `Msg::Stepped`.
    SlowStep {
        case: CaseId,
        step: Box<Step>,
        /// The case's version when the officer confirmed.
        expected: Option<u64>,
    },
    /// Write the closure log on a worker; the answer is a `Msg::Done`.
    ExportClosures {
        path: std::path::PathBuf,
        format: crate::service::records::LogFormat,
        with_subjects: bool,
    },
}

/// Why a step was not taken, and whether it was because another officer
/// changed the case first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub message: String,
    pub conflict: bool,
}

impl From<DeskError> for StepFailure {
    fn from(e: DeskError) -> Self {
        StepFailure {
            conflict: e.is_conflict(),
            message: e.to_string(),
        }
    }
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
    /// Text pasted in one piece (bracketed paste): it goes into the field
    /// or search being typed, never read as keys.
    Paste(String),
    /// A page of the queue, and the case after which the next begins.
    QueuePage(Result<(Vec<CaseView>, Option<CaseId>), String>),
    Resize {
        width: u16,
        height: u16,
    },
    Lookup(LookupEvent),
    Import(ImportEvent),
    Plan(Result<crate::service::PlanProposal, String>),
    Exported(Result<crate::service::AccessExport, String>),
    /// How the file chosen in the import form reads.
    ImportHead {
        path: std::path::PathBuf,
        suggest: bool,
        result: Result<crate::import::Sniffed, HeadRefusal>,
    },
    /// Rows found by a check: (line, key, matched by, case), or why it failed.
    Checked {
        restore: bool,
        result: Result<Vec<crate::service::CheckHit>, String>,
    },
    /// (entries, cases) of a verified chain, or why it is broken.
    AuditVerified(Result<(u64, u64), String>),
    Inbox(Result<Box<crate::service::mailbox::Inbox>, String>),
    Mail(Result<Box<crate::inbox::Mail>, String>),
    /// A step taken on a worker: the case as saved, or why it was refused.
    Stepped {
        case: CaseId,
        result: Result<Box<crate::domain::Case>, StepFailure>,
    },
    /// A case changed in the shared store (pushed by the service).
    Changed(Box<crate::remote::backend::Change>),
    /// The desk listens to the shared service: other officers' changes show
    /// as they land.
    ServiceLive,
    /// The shared service cannot be reached (changes will fail until it is back).
    ServiceLost,
    /// The service is back, with the queue as it now is (read on the feed's
    /// thread: a whole queue is too slow for the input path).
    ServiceBack(Result<Vec<CaseView>, String>),
    /// A background job finished: what to say, or why it failed.
    Done {
        title: String,
        result: Result<String, String>,
    },
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
    /// More pages of cases are on their way (the header says so).
    pub loading: bool,
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
            // The same rule that words each row (OVERDUE, DUE SOON).
            match v.urgency() {
                crate::service::Urgency::Overdue(_) => c.overdue += 1,
                crate::service::Urgency::DueSoon(_) => c.due_this_week += 1,
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
    /// The store itself, or the shared service that owns it.
    pub desk: Backend,
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
    /// Listening to the shared service's changes (the title bar says SHARED).
    pub live: bool,
    pub status: Option<(String, bool)>,
    pub quit: bool,
    pub demo: bool,
    /// A short tip per screen on the status line (on in `--demo`; `!`
    /// hides or shows it).
    pub tour: bool,
    pub size: (u16, u16),
    /// Where lookup queries go; `None` until a worker is attached.
    pub lookup_tx: Option<Sender<LookupRequest>>,
    pub index: IndexInfo,
    lookup_gen: u64,
    /// Cases changed since the index's flags were computed.
    /// Records to attach to the case the intake form will open.
    pub intake_records: Vec<String>,
    /// The message the intake form was filled from (kept on the case).
    pub intake_message: Option<crate::domain::case::MessageRef>,
    /// The privacy mailbox (`--inbox`, `RIGHTSDESK_INBOX`).
    pub inbox_path: Option<std::path::PathBuf>,
    /// `n` in the mailbox: the message being read opens intake.
    intake_after_read: bool,
    /// A worker is reading the mailbox: `m` and `r` wait for it.
    reading_inbox: bool,
    /// An import is running on a worker.
    pub importing: bool,
    /// Effects produced deep inside key handling, returned by `update`.
    pending_effects: Vec<Effect>,
    /// An access export waiting for the worker (holds the password).
    pending_export: Option<PendingExport>,
    /// RESTRICTED / DO NOT MARKET / ERASED for the open case's subject, from
    /// every case and the registers (not only this case).
    pub case_flags: crate::lookup::Flags,
    /// The open case's next step and the moves its rules allow now (the
    /// domain's, read when the case is loaded; the views only draw it).
    pub guide: crate::domain::guide::Guide,
    /// The furthest the case screen scrolls, as last drawn (a view's
    /// measure, so `G` and scrolling stop at the last line).
    pub case_scroll_max: std::cell::Cell<u16>,
    /// The same for the help popup.
    pub popup_scroll_max: std::cell::Cell<u16>,
    /// The queue's first row shown, as last drawn (the view keeps it so a
    /// page moves in half-page jumps: `view::queue::page_top`).
    pub queue_top: std::cell::Cell<usize>,
    /// Versions a step in progress is based on, recorded when another
    /// officer's change arrived while a form or confirmation was open.
    editing_base: std::collections::HashMap<CaseId, u64>,
    /// Where the last import came from (this session only: a folder may be
    /// named after a person), and the source each format went to
    /// (remembered between runs).
    pub import_folder: Option<String>,
    pub import_sources: std::collections::BTreeMap<String, String>,
}

impl App {
    pub fn new(
        desk: impl Into<Backend>,
        keymap: KeyMap,
        theme: Theme,
        prefs: &Prefs,
    ) -> Result<App, DeskError> {
        let mut app = App {
            desk: desk.into(),
            keymap,
            theme,
            screen: Screen::Queue,
            popups: Vec::new(),
            queue: Queue::default(),
            case: None,
            case_scroll: 0,
            masked: prefs.masked,
            live: false,
            status: None,
            quit: false,
            demo: false,
            tour: false,
            size: (80, 24),
            lookup_tx: None,
            index: IndexInfo {
                loading: true,
                ..IndexInfo::default()
            },
            lookup_gen: 0,
            intake_records: Vec::new(),
            intake_message: None,
            inbox_path: None,
            intake_after_read: false,
            reading_inbox: false,
            importing: false,
            pending_effects: Vec::new(),
            pending_export: None,
            case_flags: crate::lookup::Flags::default(),
            guide: Default::default(),
            case_scroll_max: std::cell::Cell::new(u16::MAX),
            popup_scroll_max: std::cell::Cell::new(u16::MAX),
            queue_top: std::cell::Cell::new(0),
            editing_base: Default::default(),
            import_folder: None,
            import_sources: prefs.import_sources.clone(),
        };
        app.queue.state_filter = prefs.state_filter.as_deref().and_then(|s| s.parse().ok());
        app.queue.right_filter = prefs.right_filter.as_deref().and_then(|s| s.parse().ok());
        app.queue.show_closed = prefs.show_closed;
        // The first page only: the first frame never waits for a queue of
        // any size; the rest pages in behind it (`Msg::QueuePage`).
        let first = app.desk.cases_page(None)?;
        app.queue.views = first.cases.into_iter().map(|c| app.desk.view(c)).collect();
        crate::service::sort_queue(&mut app.queue.views);
        if let Some(after) = first.next {
            app.queue.loading = true;
            app.pending_effects.push(Effect::LoadQueue { after });
        }
        let keep = prefs.selected.as_deref().and_then(|s| s.parse().ok());
        app.queue.refilter(keep);
        Ok(app)
    }

    /// Work to start as soon as the desk runs (the queue's next pages).
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.pending_effects)
    }

    /// What to remember for the next run: filters, selection, masking.
    pub fn prefs(&self) -> Prefs {
        Prefs {
            state_filter: self.queue.state_filter.map(|s| s.to_string()),
            right_filter: self.queue.right_filter.map(|r| r.to_string()),
            show_closed: self.queue.show_closed,
            selected: self.queue.selected_view().map(|v| v.case.id.to_string()),
            masked: self.masked,
            import_sources: self.import_sources.clone(),
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
            Msg::QueuePage(Ok((views, next))) => {
                let keep = self.queue.selected_view().map(|v| v.case.id);
                // An officer at the top stays at the top: the most urgent
                // case may be on a page that came later.
                let at_top = self.queue.selected == 0;
                // A case changed while its page was on its way is already
                // shown as it now is.
                let known: std::collections::HashSet<CaseId> =
                    self.queue.views.iter().map(|v| v.case.id).collect();
                self.queue
                    .views
                    .extend(views.into_iter().filter(|v| !known.contains(&v.case.id)));
                crate::service::sort_queue(&mut self.queue.views);
                self.queue.refilter(keep);
                if at_top {
                    self.queue.selected = 0;
                }
                self.queue.loading = next.is_some();
                next.map(|after| vec![Effect::LoadQueue { after }])
                    .unwrap_or_default()
            }
            Msg::QueuePage(Err(e)) => {
                self.queue.loading = false;
                self.status = Some((format!("the queue could not be read whole: {e}"), true));
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
                        // The next export of this format is offered this source.
                        self.import_sources
                            .insert(r.format.clone(), r.source.clone());
                        self.popups.push(Popup::Message {
                            title: "Import done".into(),
                            body: format!(
                                "{} rows from {} ({}) into {}: {} new, {} updated{}{}.",
                                r.rows,
                                crate::domain::text::inert(&r.file),
                                r.read_as(),
                                r.source,
                                r.new,
                                r.updated,
                                crate::service::ImportReport::kept_words(r.older, r.undated),
                                // The desk's words for the shell's flag.
                                r.skipped_words()
                                    .replace("give --map to change it", "change it in Columns")
                            ),
                            error: false,
                        });
                        self.refresh_index();
                    }
                    Err(e) => {
                        self.status = None;
                        self.show_error("Import refused: nothing was written", &e);
                    }
                }
                vec![]
            }
            Msg::Plan(result) => {
                self.on_plan(result);
                vec![]
            }
            Msg::Exported(result) => {
                self.on_exported(result);
                vec![]
            }
            Msg::ImportHead {
                path,
                suggest,
                result,
            } => {
                self.on_import_head(path, suggest, result);
                vec![]
            }
            Msg::Checked { restore, result } => {
                self.on_checked(restore, result);
                vec![]
            }
            Msg::AuditVerified(result) => {
                self.on_audit_verified(result);
                vec![]
            }
            Msg::Inbox(result) => {
                self.on_inbox(result);
                vec![]
            }
            Msg::Mail(result) => {
                self.on_mail(result);
                vec![]
            }
            Msg::Changed(change) => {
                self.on_changed(*change);
                vec![]
            }
            Msg::ServiceLive => {
                self.live = true;
                vec![]
            }
            Msg::ServiceLost => {
                self.live = false;
                self.desk.reconnect();
                self.status = Some((
                    "the shared service is not answering: changes will fail until it is back"
                        .into(),
                    true,
                ));
                vec![]
            }
            Msg::ServiceBack(queue) => {
                self.live = true;
                self.desk.reconnect();
                match queue {
                    Ok(views) => {
                        let keep = self.queue.selected_view().map(|v| v.case.id);
                        let open = match self.screen {
                            Screen::Case(id) => views.iter().find(|v| v.case.id == id).cloned(),
                            Screen::Queue => None,
                        };
                        self.queue.views = views;
                        self.queue.refilter(keep);
                        if let Some(v) = open {
                            self.refresh_case(v);
                        }
                        self.say("the shared service is back: the queue is up to date");
                    }
                    Err(e) => self.status = Some((e, true)),
                }
                vec![]
            }
            Msg::Stepped { case, result } => {
                self.on_stepped(case, result);
                vec![]
            }
            Msg::Done { title, result } => {
                self.on_done(title, result);
                vec![]
            }
            Msg::Key(ev) => {
                if self.popups.is_empty() {
                    // No step in progress: the next one starts from what is shown.
                    self.editing_base.clear();
                }
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
            Msg::Paste(text) => self.paste(&text),
        }
    }

    /// A paste goes whole into what is being typed: the focused text field
    /// at its cursor, the palette's filter or the lookup's query (which
    /// searches once, for the whole of it). Anywhere else it is dropped:
    /// pasted text is never taken as key presses.
    fn paste(&mut self, text: &str) -> Vec<Effect> {
        let line = crate::tui::line_edit::one_line(text);
        match self.popups.last_mut() {
            Some(Popup::Form { form, .. }) => {
                let focus = form.focus;
                let room = crate::tui::form::MAX_FIELD_CHARS
                    .saturating_sub(form.fields[focus].text.chars().count());
                let given = line.chars().count();
                if form.fields[focus].paste(&line) {
                    form.fields[focus].error = None;
                    form.error = None;
                }
                // Never cut without a word.
                if given > room {
                    self.say(&format!(
                        "pasted {room} of {given} characters: a field holds {}",
                        crate::tui::form::MAX_FIELD_CHARS
                    ));
                }
                vec![]
            }
            Some(Popup::Palette { filter, selected }) => {
                filter.push_str(&line);
                *selected = 0;
                vec![]
            }
            Some(Popup::Lookup { query, .. }) => {
                let mut cs = line.chars();
                let Some(last) = cs.next_back() else {
                    return vec![];
                };
                query.push_str(cs.as_str());
                // The last character as a key: the query goes out once.
                self.update(Msg::Key(KeyEvent::new(
                    KeyCode::Char(last),
                    ratatui::crossterm::event::KeyModifiers::NONE,
                )))
            }
            _ => vec![],
        }
    }

    /// Runs one action (from a key or the palette).
    pub fn perform(&mut self, action: Action) -> Vec<Effect> {
        use Action::*;
        self.status = None;
        // A step the case's rules forbid now opens no form: the desk says
        // why at once, in the domain's words.
        if let (Some(m), Some(id)) = (action.case_move(), self.current_case()) {
            let why = self
                .shown(id)
                .and_then(|v| v.case.forbids(m, self.desk.calendar(), self.desk.today()));
            if let Some(why) = why {
                self.show_error(
                    &format!("Not now: {}", action.hint()),
                    &format!("{id}: {why}."),
                );
                return vec![];
            }
        }
        match action {
            Quit => self.quit = true,
            Help => self.popups.push(Popup::Help {
                scroll: 0,
                search: None,
            }),
            Import => {
                if self.importing {
                    self.say("an import is already running");
                } else {
                    let sources: Vec<&str> = self.desk.catalogue().ids();
                    let formats = rights::format_choices();
                    // The file first: how it reads suggests its source.
                    let folder = self
                        .import_folder
                        .as_deref()
                        .map(|f| format!("{}/", f.trim_end_matches('/')))
                        .unwrap_or_default();
                    let mut form = Form::new(
                        "Import an export into the lookup",
                        vec![
                            Field::text(
                                "file",
                                "File",
                                &folder,
                                "path on this server; Tab completes it",
                            ),
                            Field::choice("source", "Source", &sources, 0),
                            Field::choice("format", "Format", &formats, 0),
                            Field::text(
                                "columns",
                                "Columns",
                                "",
                                "empty: read from the header; else name=Full Name,email=E-mail",
                            ),
                            Field::choice("encoding", "Encoding", &ENCODINGS, 0),
                        ],
                    );
                    form.intro =
                        vec!["Leaving the file says how it reads and suggests its source.".into()];
                    self.popups.push(Popup::Form {
                        form,
                        purpose: Purpose::Import,
                    });
                }
            }
            Lookup => {
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
            NewCase => {
                // A plain intake: no message of an earlier one rides along.
                self.intake_message = None;
                self.popups.push(Popup::Form {
                    form: intake_form(self.desk.today()),
                    purpose: Purpose::Intake,
                });
            }
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
                        Pause => (pause_form(id, today), Purpose::Pause(id)),
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
                        _ => match self.desk.case(id) {
                            Ok(v) => (close_form(&v, today), Purpose::Close(id)),
                            Err(e) => {
                                self.show_error("Cannot close", &e.to_string());
                                return vec![];
                            }
                        },
                    };
                    self.popups.push(Popup::Form { form, purpose });
                }
            }
            Fee => {
                if let Some(id) = self.current_case() {
                    let awaited = self
                        .case
                        .as_ref()
                        .filter(|v| v.case.id == id)
                        .and_then(|v| v.case.fee_awaited())
                        .map(|(on, amount, _)| (on, amount.to_string()));
                    match awaited {
                        // A fee is awaited: f records it paid (confirmed:
                        // the clock starts again from today).
                        Some((on, amount)) => self.popups.push(Popup::Confirm {
                            title: "Fee paid".into(),
                            body: format!("Record that the fee of {amount} asked on {on} for {id} was paid today?\nThe time to answer starts again from today."),
                            case: id,
                            step: Step::FeePaid,
                            on: None,
                            back: None,
                        }),
                        None => self.popups.push(Popup::Form {
                            form: fee_form(id),
                            purpose: Purpose::Fee(id),
                        }),
                    }
                }
            }
            RequestId => {
                if let Some(id) = self.current_case() {
                    self.popups.push(Popup::Form {
                        form: request_id_form(id, self.desk.today()),
                        purpose: Purpose::RequestId(id),
                    });
                }
            }
            Resume => {
                if let Some(id) = self.current_case() {
                    self.popups.push(Popup::Form {
                        form: resume_form(id, self.desk.today()),
                        purpose: Purpose::Resume(id),
                    });
                }
            }
            MarkReady => {
                if let Some(id) = self.current_case() {
                    let _ = self.take_step(id, Step::MarkReady, None);
                }
            }
            Plan => {
                if let Some(id) = self.current_case() {
                    self.start_plan(id);
                }
            }
            // Keys of a popup: its handler takes them (popup_keys.rs).
            Yes | No | PersonNewCase | PersonAddToCase | PersonSplit => {}
            Tour => {
                self.tour = !self.tour;
                self.say(if self.tour {
                    "tips on: one per screen, on this line"
                } else {
                    "tips off (! brings them back)"
                });
            }
            Records => self.open_records(),
            Mailbox => self.open_inbox(),
            AuditLog => self.open_audit(),
            ExportClosures => self.popups.push(Popup::Form {
                form: self.closures_form(),
                purpose: Purpose::Closures,
            }),
            CheckRestore | CheckCampaign => {
                let restore = action == CheckRestore;
                self.popups.push(Popup::Form {
                    form: rights::check_form(restore),
                    purpose: Purpose::Check { restore },
                });
            }
            Letter => {
                if let Some(id) = self.current_case() {
                    self.show_letters(id);
                }
            }
            ExportAccess | Rectify | LiftRestriction => {
                if let Some(id) = self.current_case() {
                    let (form, purpose) = match action {
                        ExportAccess => (self.export_form(id), Purpose::Export(id)),
                        Rectify => (rights::rectify_form(id), Purpose::Rectify(id)),
                        _ => (rights::lift_form(id), Purpose::LiftRestriction(id)),
                    };
                    self.popups.push(Popup::Form { form, purpose });
                }
            }
        }
        std::mem::take(&mut self.pending_effects)
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
                Action::Bottom => u16::MAX,
                Action::PageUp => self.case_scroll.saturating_sub(10),
                Action::PageDown => self.case_scroll.saturating_add(10),
                _ => self.case_scroll,
            }
            .min(self.case_scroll_max.get());
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
                self.refresh_case_flags();
            }
            Err(e) => self.show_error("Cannot open the case", &e.to_string()),
        }
    }

    /// The name words of everyone this desk holds in memory (the queue's
    /// subjects and requesters, the people a lookup shows), folded and
    /// lowercased: what masking hides wherever it is drawn.
    pub fn personal_words(&self) -> std::collections::HashSet<String> {
        let mut words = std::collections::HashSet::new();
        let mut add = |name: &str| {
            for w in name.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’') {
                let w = w.trim_matches(|c: char| !c.is_alphanumeric());
                if w.chars().count() >= 2 {
                    words.insert(crate::domain::fold::fold(w).text);
                    // The spelling systems without umlauts use: Müller, Mueller.
                    let spelled = w
                        .to_lowercase()
                        .replace('ü', "ue")
                        .replace('ö', "oe")
                        .replace('ä', "ae")
                        .replace('ß', "ss");
                    words.insert(crate::domain::fold::fold(&spelled).text);
                }
            }
        };
        for v in &self.queue.views {
            add(&v.case.subject.name);
            if let Some(n) = &v.case.requester.name {
                add(n);
            }
        }
        if let Some(v) = &self.case {
            add(&v.case.subject.name);
            // A corrected name or address is the person's too.
            for (_, _, old, new, _) in v.case.rectifications() {
                add(old);
                add(new);
            }
        }
        for p in &self.popups {
            match p {
                Popup::Lookup { groups, .. } => {
                    for h in groups.iter().flat_map(|g| &g.hits) {
                        add(&h.name);
                    }
                }
                Popup::Subject { view, .. } => {
                    for r in &view.records {
                        for n in &r.names {
                            add(n);
                        }
                    }
                }
                _ => {}
            }
        }
        words
    }

    /// Recomputes the open case's subject flags (on open and after a change).
    fn refresh_case_flags(&mut self) {
        self.guide = match &self.case {
            Some(v) => v.case.guide(self.desk.calendar(), self.desk.today()),
            None => Default::default(),
        };
        self.case_flags = match &self.case {
            Some(v) => self.flag_sets().of_person(
                &v.case.subject.emails,
                &v.case.subject.phones,
                self.desk.default_cc(),
            ),
            None => crate::lookup::Flags::default(),
        };
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
            self.refresh_case_flags();
        }
    }

    /// Takes a step through the services; the desk shows the domain's refusal.
    fn take_step(&mut self, id: CaseId, step: Step, on: Option<NaiveDate>) -> Result<(), String> {
        let name = step.name();
        let expected = self.base_version(id);
        let result = self
            .desk
            .take_step(id, step, on, expected)
            .map_err(StepFailure::from);
        self.after_step(id, name, result)
    }

    /// A step taken on a worker came back.
    fn on_stepped(&mut self, id: CaseId, result: Result<Box<crate::domain::Case>, StepFailure>) {
        let _ = self.after_step(id, "close", result.map(|c| *c));
    }

    /// The version of a case as this desk shows it.
    fn shown_version(&self, id: CaseId) -> Option<u64> {
        self.shown(id).map(|v| v.case.version)
    }

    /// The case as this desk shows it (its screen, else the queue): read
    /// from memory, never from the store.
    fn shown(&self, id: CaseId) -> Option<&CaseView> {
        match &self.case {
            Some(v) if v.case.id == id => Some(v),
            _ => self.queue.views.iter().find(|v| v.case.id == id),
        }
    }

    /// The version a step is based on: the one shown when the officer began
    /// (a form or confirmation was open when someone else changed the case),
    /// else the one shown now. The store refuses the step if the case moved on.
    pub(crate) fn base_version(&mut self, id: CaseId) -> Option<u64> {
        self.editing_base
            .remove(&id)
            .or_else(|| self.shown_version(id))
    }

    /// Another officer's change (or this desk's own, echoed by the service).
    fn on_changed(&mut self, change: crate::remote::backend::Change) {
        let (view, by) = match change {
            crate::remote::backend::Change::Case { view, by } => (view, by),
            crate::remote::backend::Change::Maintenance { what, by, done } => {
                // Said, not shown as a failure: the desk's next call waits
                // until the store is open again, then carries on.
                let (what, by) = (
                    crate::domain::text::inert(&what).into_owned(),
                    crate::domain::text::inert(&by).into_owned(),
                );
                if done {
                    self.refresh_index();
                    self.say(&format!("{what} by {by} done: the store is open again"));
                } else {
                    self.say(&format!("{by}: {what} — changes wait a moment"));
                }
                return;
            }
            crate::remote::backend::Change::Records { by } => {
                // An import or a split elsewhere: the lookup reads them again
                // (on its worker). This desk's own import reloads it already.
                if !self.importing {
                    self.refresh_index();
                    self.say(&format!(
                        "the lookup's records were changed by {} — reloading the index",
                        crate::domain::text::inert(&by)
                    ));
                }
                return;
            }
        };
        let id = view.case.id;
        let version = view.case.version;
        let shown = self.shown_version(id);
        if shown.is_some_and(|s| s >= version) {
            return; // this desk already shows it (its own change, echoed)
        }
        if let (Some(s), false) = (shown, self.popups.is_empty()) {
            // The officer may be writing a change on top of the version shown.
            self.editing_base.entry(id).or_insert(s);
        }
        // Newer than shown, so made elsewhere: another officer, or the same
        // login at another desk or the command line. A case this desk has
        // never shown was opened, not changed (this desk's own intake too,
        // when the echo comes before its answer).
        let by = crate::domain::text::inert(&by);
        if shown.is_none() {
            self.say(&format!("{id} opened by {by} — {}", view.case.state));
        } else {
            self.say(&format!(
                "{id} was changed by {by} — now {}",
                view.case.state
            ));
        }
        self.refresh_case(*view);
    }

    /// Shows a step's result: the saved case in the queue and on screen, or
    /// the refusal (in a box, unless a form will show it).
    fn after_step(
        &mut self,
        id: CaseId,
        name: &str,
        result: Result<crate::domain::Case, StepFailure>,
    ) -> Result<(), String> {
        let result = result.map_err(|f| {
            if !f.conflict {
                return f.message;
            }
            // Never a silent overwrite: show the case as it now is and say why
            // nothing was saved. A form keeps what the officer typed.
            let mut who = String::from("another officer");
            if let Ok(v) = self.desk.case(id) {
                if let Some(last) = v.case.history.last() {
                    who = crate::domain::text::inert(&last.actor).into_owned();
                }
                self.refresh_case(v);
            }
            format!(
                "{id} was changed by {who} while you were working on it: your change was not saved. The screen now shows the case as it is; check it, then do it again if it still applies."
            )
        });
        match result {
            Ok(case) => {
                let v = self.desk.view(case);
                self.say(&format!("{id}: {} — saved", v.case.state));
                self.refresh_case(v);
                Ok(())
            }
            Err(msg) => {
                if self.popups.is_empty() {
                    self.show_error(&format!("Cannot {name} {id}"), &msg);
                }
                Err(msg)
            }
        }
    }
}

fn next_of<T: PartialEq + Copy>(list: &[T], cur: T) -> T {
    let i = list.iter().position(|x| *x == cur).unwrap_or(0);
    list[(i + 1) % list.len()]
}
