//! The records view, the audit viewer and the closure-log export in the desk.

use super::*;
use crate::domain::audit::AuditEntry;
use crate::domain::closure_log::Figures;
use std::collections::BTreeMap;

/// The audit viewer's state: the entries loaded when it opened, and filters.
#[derive(Debug, Clone)]
pub struct AuditView {
    pub case: Option<CaseId>,
    pub entries: Vec<AuditEntry>,
    pub actor: Option<String>,
    pub kind: Option<String>,
    pub selected: usize,
    /// The last `verify` result: (intact, what it said).
    pub verified: Option<(bool, String)>,
}

/// Most entries the viewer loads for "all" (the newest): the shell's
/// `audit log` has the rest.
pub const AUDIT_VIEW_LIMIT: usize = 20_000;

impl AuditView {
    pub fn shown(&self) -> Vec<&AuditEntry> {
        self.entries
            .iter()
            .filter(|e| self.actor.as_ref().is_none_or(|a| &e.actor == a))
            .filter(|e| self.kind.as_ref().is_none_or(|k| &e.kind == k))
            .collect()
    }

    fn cycle(current: &Option<String>, values: Vec<String>) -> Option<String> {
        let mut all: Vec<Option<String>> = vec![None];
        all.extend(values.into_iter().map(Some));
        let i = all.iter().position(|v| v == current).unwrap_or(0);
        all[(i + 1) % all.len()].clone()
    }

    fn distinct(&self, f: impl Fn(&AuditEntry) -> &str) -> Vec<String> {
        let mut v: Vec<String> = self.entries.iter().map(|e| f(e).to_string()).collect();
        v.sort();
        v.dedup();
        v
    }
}

impl App {
    pub(super) fn open_records(&mut self) {
        let cal = self.desk.calendar();
        let rows: Vec<_> = self
            .queue
            .views
            .iter()
            .filter_map(|v| crate::domain::closure_log::closure_row(&v.case, cal, String::new()))
            .collect();
        let (all, months) = crate::domain::closure_log::summarise(&rows);
        self.popups.push(Popup::Records {
            all: Box::new(all),
            months,
            scroll: 0,
        });
    }

    pub(super) fn records_key(
        &mut self,
        ev: KeyEvent,
        all: Box<Figures>,
        months: BTreeMap<String, Figures>,
        scroll: u16,
    ) {
        let scroll = match ev.code {
            KeyCode::Esc | KeyCode::Char('q') => return,
            KeyCode::Char('c') if ev.modifiers.contains(KeyModifiers::CONTROL) => return,
            KeyCode::Char('j') | KeyCode::Down => scroll.saturating_add(1),
            KeyCode::Char('k') | KeyCode::Up => scroll.saturating_sub(1),
            KeyCode::Char('g') | KeyCode::Home => 0,
            _ => scroll,
        };
        self.popups.push(Popup::Records {
            all,
            months,
            scroll,
        });
    }

    pub(super) fn open_audit(&mut self) {
        let case = match self.screen {
            Screen::Case(id) => Some(id),
            Screen::Queue => None,
        };
        match self.desk.audit_tail(case, AUDIT_VIEW_LIMIT) {
            Ok(entries) => {
                self.popups.push(Popup::Audit(Box::new(AuditView {
                    case,
                    entries,
                    actor: None,
                    kind: None,
                    selected: 0,
                    verified: None,
                })));
            }
            Err(e) => self.show_error("Cannot read the audit chain", &e.to_string()),
        }
    }

    pub(super) fn audit_key(&mut self, ev: KeyEvent, mut v: Box<AuditView>) {
        let n = v.shown().len();
        match ev.code {
            KeyCode::Esc | KeyCode::Char('q') => return,
            KeyCode::Char('c') if ev.modifiers.contains(KeyModifiers::CONTROL) => return,
            KeyCode::Char('j') | KeyCode::Down => {
                v.selected = (v.selected + 1).min(n.saturating_sub(1))
            }
            KeyCode::Char('k') | KeyCode::Up => v.selected = v.selected.saturating_sub(1),
            KeyCode::Char('g') | KeyCode::Home => v.selected = 0,
            KeyCode::Char('G') | KeyCode::End => v.selected = n.saturating_sub(1),
            KeyCode::Char('u') => {
                v.actor = AuditView::cycle(&v.actor, v.distinct(|e| &e.actor));
                v.selected = 0;
            }
            KeyCode::Char('t') => {
                v.kind = AuditView::cycle(&v.kind, v.distinct(|e| &e.kind));
                v.selected = 0;
            }
            KeyCode::Char('v') => {
                // Proving the whole chain is slow at scale: a worker does it.
                v.verified = Some((true, "verifying the chain…".into()));
                self.pending_effects.push(Effect::VerifyAudit);
            }
            _ => {}
        }
        self.popups.push(Popup::Audit(v));
    }

    /// A worker proved (or failed to prove) the chain: say so in the viewer.
    pub(super) fn on_audit_verified(&mut self, result: Result<(u64, u64), String>) {
        let said = match result {
            Ok((entries, cases)) => (
                true,
                format!(
                    "chain intact: {entries} entries; every case matches its last entry ({cases})"
                ),
            ),
            Err(e) => (false, format!("CHAIN BROKEN: {e}")),
        };
        if let Some(Popup::Audit(v)) = self
            .popups
            .iter_mut()
            .rev()
            .find(|p| matches!(p, Popup::Audit(_)))
        {
            v.verified = Some(said);
        }
    }

    pub(super) fn closures_form(&self) -> Form {
        let today = self.desk.today();
        Form::new(
            "Export the closure log",
            vec![
                Field::choice("format", "Format", &["csv", "jsonl"], 0),
                Field::text(
                    "file",
                    "File",
                    &format!("{}/closures-{today}.csv", self.desk.settings().export_dir),
                    "under the data directory, or an absolute path (written 0600)",
                ),
                Field::toggle("names", "Names", false),
            ],
        )
    }

    pub(super) fn submit_closures(&mut self, form: &Form) {
        let format = if form.get("format").value() == "jsonl" {
            crate::service::records::LogFormat::Jsonl
        } else {
            crate::service::records::LogFormat::Csv
        };
        let path = self.desk.data_dir().join(form.get("file").text.trim());
        self.say("writing the closure log…");
        self.pending_effects.push(Effect::ExportClosures {
            path,
            format,
            with_subjects: form.get("names").on(),
        });
    }

    pub(super) fn on_done(&mut self, title: String, result: Result<String, String>) {
        self.status = None;
        match result {
            Ok(body) => self.popups.push(Popup::Message {
                title,
                body,
                error: false,
            }),
            Err(e) => self.show_error(&title, &e),
        }
    }
}
