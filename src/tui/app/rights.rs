//! The rights flows in the desk: the proposed plan, the access export, the
//! closing letter, rectification and lifting a restriction.

use super::*;
use crate::domain::notice::Letter;
use crate::domain::Channel;
use crate::service::package::Password;
use crate::service::{AccessExport, PlanProposal};

/// An access export the officer asked for, waiting for the worker. The
/// password sits here (zeroized on drop) and never travels in an `Effect`.
pub struct PendingExport {
    pub case: CaseId,
    pub dir: std::path::PathBuf,
    pub password: Password,
    /// Why sources still to search are left out (the package states it).
    pub unsearched_reason: Option<String>,
}

impl App {
    /// Asks the worker for a plan; the popup opens when it arrives.
    pub(super) fn start_plan(&mut self, id: CaseId) {
        self.say(&format!("{id}: proposing tasks from the catalogue…"));
        self.pending_effects.push(Effect::ProposePlan(id));
    }

    pub(super) fn on_plan(&mut self, result: Result<PlanProposal, String>) {
        match result {
            Ok(p) if p.tasks.is_empty() => {
                self.say(&format!(
                    "{}: every task the rights need is on the case",
                    p.case
                ));
            }
            Ok(p) => {
                self.status = None;
                let keep = vec![true; p.tasks.len()];
                self.popups.push(Popup::Plan {
                    proposal: p,
                    keep,
                    selected: 0,
                });
            }
            Err(e) => self.show_error("Cannot propose tasks", &e),
        }
    }

    pub(super) fn plan_key(
        &mut self,
        ev: KeyEvent,
        proposal: PlanProposal,
        mut keep: Vec<bool>,
        mut selected: usize,
    ) {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let n = proposal.tasks.len();
        match ev.code {
            KeyCode::Esc | KeyCode::Char('q') => {
                self.say("plan left for later: press P to see it again");
                return;
            }
            KeyCode::Char('c') if ctrl => return,
            KeyCode::Char('j') | KeyCode::Down => selected = (selected + 1).min(n - 1),
            KeyCode::Char('k') | KeyCode::Up => selected = selected.saturating_sub(1),
            KeyCode::Char(' ') | KeyCode::Char('x') => keep[selected] = !keep[selected],
            KeyCode::Char('a') => {
                let all = keep.iter().all(|k| *k);
                keep.iter_mut().for_each(|k| *k = !all);
            }
            KeyCode::Enter => {
                let tasks: Vec<_> = proposal
                    .tasks
                    .iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(t, _)| t.clone())
                    .collect();
                if tasks.is_empty() {
                    self.say("no task ticked: nothing recorded");
                    return;
                }
                let id = proposal.case;
                let expected = self.base_version(id);
                match self.desk.accept_plan(id, tasks.clone(), expected) {
                    Ok(case) => {
                        let v = self.desk.view(case);
                        self.say(&format!(
                            "{id}: {} planned — saved",
                            crate::domain::text::counted(tasks.len(), "task", "tasks")
                        ));
                        self.refresh_case(v);
                    }
                    Err(e) => {
                        let _ = self.after_step(id, "plan", Err(e.into()));
                    }
                }
                return;
            }
            _ => {}
        }
        self.popups.push(Popup::Plan {
            proposal,
            keep,
            selected,
        });
    }

    pub(super) fn export_form(&self, id: CaseId) -> Form {
        let dir = &self.desk.settings().export_dir;
        Form::new(
            format!("Access package for {id}"),
            vec![
                Field::text(
                    "dir",
                    "Folder",
                    dir,
                    "under the data directory, or an absolute path",
                ),
                Field::secret(
                    "password",
                    "Password",
                    "at least 10 characters; never stored",
                ),
                Field::secret("repeat", "Repeat", "the same password again"),
                Field::text(
                    "unsearched",
                    "Unsearched",
                    "",
                    "only if sources are still to search: why it goes now (stated in it)",
                ),
            ],
        )
    }

    /// Checks the export form; on success the export waits for the worker.
    pub(super) fn submit_export(&mut self, mut form: Form, id: CaseId) {
        let typed = zeroize::Zeroizing::new(form.get("password").text.clone());
        let same = form.get("password").text == form.get("repeat").text;
        let result = if same {
            Password::new(typed)
        } else {
            Err("the two passwords differ".into())
        };
        match result {
            Ok(password) => {
                // Relative folders are under the data directory (0700).
                let dir = self.desk.data_dir().join(form.get("dir").text.trim());
                let reason = form.get("unsearched").text.trim().to_string();
                self.pending_export = Some(PendingExport {
                    case: id,
                    dir,
                    password,
                    unsearched_reason: (!reason.is_empty()).then_some(reason),
                });
                self.say(&format!("{id}: writing the access package…"));
                self.pending_effects.push(Effect::StartExport(id));
            }
            Err(e) => {
                for k in ["password", "repeat"] {
                    zeroize::Zeroize::zeroize(&mut form.get_mut(k).text);
                }
                form.error = Some(e);
                form.focus = 1; // back to the password
                self.popups.push(Popup::Form {
                    form,
                    purpose: Purpose::Export(id),
                });
            }
        }
    }

    /// The export the run loop hands to a worker (taken once).
    pub fn take_export(&mut self) -> Option<PendingExport> {
        self.pending_export.take()
    }

    pub(super) fn on_exported(&mut self, result: Result<AccessExport, String>) {
        self.status = None;
        match result {
            Ok(r) => {
                // The case now records the package: show it as it is, so the
                // next step is not refused as made on an older version.
                if let Ok(v) = self.desk.case(r.case) {
                    self.refresh_case(v);
                }
                use crate::domain::text::counted;
                let mut body = format!(
                    "{} from {}.\nPDF: {}",
                    counted(r.records, "record", "records"),
                    counted(r.sources, "source", "sources"),
                    r.pdf.display()
                );
                if let Some(z) = &r.zip {
                    body.push_str(&format!("\nZip: {}", z.display()));
                }
                body.push_str("\nSend the password by another channel than the files.");
                self.popups.push(Popup::Message {
                    title: "Access package written".into(),
                    // (The message view makes each line inert as it draws it.)
                    body,
                    error: false,
                });
            }
            Err(e) => self.show_error("Cannot write the access package", &e),
        }
    }

    pub(super) fn on_checked(
        &mut self,
        restore: bool,
        result: Result<Vec<crate::service::CheckHit>, String>,
    ) {
        self.status = None;
        match result {
            Ok(hits) => {
                let (title, what) = if restore {
                    ("Restored data: erase these rows again", "erased under")
                } else {
                    ("Campaign list: do not send to these rows", "suppressed by")
                };
                let mut body = if hits.is_empty() {
                    "No row matches.".to_string()
                } else {
                    format!("{} row(s):\n", hits.len())
                };
                for h in hits.iter().take(200) {
                    body.push_str(&format!(
                        "line {}  key {}  by {}  {what} {}\n",
                        h.line,
                        h.key,
                        h.matched.as_str(),
                        h.case
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "the list or the lookup (DO NOT MARKET)".into())
                    ));
                }
                if hits.len() > 200 {
                    body.push_str("… use the command line for the full list\n");
                }
                self.popups.push(Popup::Message {
                    title: title.into(),
                    body: body.trim_end().to_string(),
                    error: !hits.is_empty(),
                });
            }
            Err(e) => self.show_error("Cannot check the file", &e),
        }
    }

    /// L: the response once there is one, else the latest letter on the
    /// way; a case with none yet says so.
    pub(super) fn show_letters(&mut self, id: CaseId) {
        let have = self
            .case
            .as_ref()
            .filter(|v| v.case.id == id)
            .map(|v| v.case.letters())
            .unwrap_or_default();
        match have.last() {
            Some(letter) => self.show_letter(id, *letter),
            None => self.popups.push(Popup::Message {
                title: "No letter yet".into(),
                body: "The response is written once the case is ready to respond or closed.\nThe letters on the way come with their step: i (request ID), p (pause for clarification), e (extend).".into(),
                error: false,
            }),
        }
    }

    pub(super) fn show_letter(&mut self, id: CaseId, letter: Letter) {
        match self.desk.letter(id, letter) {
            Ok(report) => self.popups.push(Popup::Letter {
                case: id,
                letter,
                report: Box::new(report),
                scroll: 0,
            }),
            Err(e) => self.show_error("Cannot write the letter", &e.to_string()),
        }
    }

    /// The letter after `now` among those the case has (the response
    /// always; a notice once the case had occasion for it), round.
    pub(super) fn next_letter(&self, id: CaseId, now: Letter) -> Letter {
        let Some(case) = self.case.as_ref().filter(|v| v.case.id == id) else {
            return Letter::Response;
        };
        let have = case.case.letters();
        match have.iter().position(|l| *l == now) {
            Some(at) => have[(at + 1) % have.len()],
            None => have.first().copied().unwrap_or(Letter::Response),
        }
    }
}

/// The formats a file form offers: detection first, then each export format
/// (plain CSV and JSON need a column map, which the shell takes).
pub(super) fn format_choices() -> Vec<&'static str> {
    let mut formats = vec!["detect"];
    formats.extend(
        crate::import::Format::ALL
            .iter()
            .map(|f| f.as_str())
            .filter(|f| *f != "csv" && *f != "json"),
    );
    formats
}

pub(super) fn check_form(restore: bool) -> Form {
    let formats = format_choices();
    let title = if restore {
        "Check a restored data set against the erasure marks"
    } else {
        "Check a campaign list against the suppression list"
    };
    Form::new(
        title,
        vec![
            Field::text(
                "file",
                "File",
                "",
                "path on this server, in any importable format",
            ),
            Field::choice("format", "Format", &formats, 0),
        ],
    )
}

pub(super) fn rectify_form(id: CaseId) -> Form {
    Form::new(
        format!("Rectify data for {id}"),
        vec![
            Field::text("field", "Field", "", "what is wrong, e.g. postal address"),
            Field::text("old", "Old value", "", "as held (may be empty)"),
            Field::text("new", "New value", "", "as it should be"),
            Field::text("reason", "Reason", "", "why, e.g. evidence seen"),
        ],
    )
}

/// When and how a notice went out: the day is typed (today by default),
/// the channel chosen.
pub(super) fn sent_form(
    id: CaseId,
    letter: Letter,
    channel: Channel,
    today: chrono::NaiveDate,
) -> Form {
    let channels: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
    // By default, the channel the request came by.
    let via = Channel::ALL.iter().position(|c| *c == channel).unwrap_or(0);
    Form::new(
        format!("{id}: {} went out", letter.describe()),
        vec![
            Field::choice("via", "Sent by", &channels, via),
            Field::text(
                "on",
                "Sent on",
                &today.to_string(),
                "YYYY-MM-DD: the day it went out",
            ),
        ],
    )
}

pub(super) fn lift_form(id: CaseId) -> Form {
    Form::new(
        format!("Lift the restriction on {id}"),
        vec![
            Field::text(
                "told",
                "Told on",
                "",
                "YYYY-MM-DD: the day the subject was told (Art. 18(3)); before the lift",
            ),
            Field::text("how", "How", "", "e.g. e-mail of that day"),
            Field::text(
                "reason",
                "Why",
                "",
                "why the restriction ends, as the subject was told",
            ),
        ],
    )
}
