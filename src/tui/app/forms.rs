//! The forms staff fill in, and what submitting each one does.

use super::*;
use crate::domain::case::AuthorityKind;
use crate::tui::form::FieldKind;

impl App {
    /// The task form opens on the case's first pending task (its source and
    /// action), so working a plan is `t`, a status, the evidence, Enter.
    pub(super) fn task_form(&self, id: CaseId) -> Form {
        let sources: Vec<&str> = self.desk.catalogue().ids();
        let case = self.queue.views.iter().find(|v| v.case.id == id);
        let pending = case.and_then(|v| v.case.pending_tasks().next());
        let action = match (pending, case) {
            (Some(t), _) => t.action.clone(),
            (None, Some(v)) => v.case.rights[0].default_action().to_string(),
            _ => "search and collect".to_string(),
        };
        let source = pending
            .and_then(|t| sources.iter().position(|s| *s == t.source))
            .unwrap_or(0);
        let title = match pending {
            Some(_) => format!("Record work on {id} (next pending task)"),
            None => format!("Record work on {id}"),
        };
        Form::new(
            title,
            vec![
                Field::choice("source", "Source", &sources, source),
                Field::choice(
                    "status",
                    "Status",
                    &["done", "not-found", "exempt", "pending", "dropped"],
                    0,
                ),
                Field::text("action", "Action", &action, "what was done in the source"),
                Field::text(
                    "note",
                    "Evidence",
                    "",
                    "what you did or saw; the legal basis if exempt; why, if dropped",
                ),
            ],
        )
    }

    /// Tab in the import form's file field: completes the path, listing the
    /// choices when several remain. False when there is nothing to complete
    /// (Tab then moves on, as everywhere).
    pub(super) fn complete_import_path(&mut self, form: &mut Form) -> bool {
        let typed = form.get("file").text.clone();
        let done = crate::tui::path_complete::complete(&typed);
        let field = form.get_mut("file");
        if done.choices.len() > 1 {
            let shown: Vec<String> = done
                .choices
                .iter()
                .take(8)
                .map(|c| crate::domain::text::inert(c).into_owned())
                .collect();
            field.hint = format!(
                "{}{}",
                shown.join("  "),
                if done.choices.len() > 8 { "  …" } else { "" }
            )
            .into();
        }
        if done.text != typed {
            field.text = done.text;
            return true;
        }
        done.choices.len() > 1
    }

    /// Leaving the import form's file field: reads its first bytes and says
    /// how it will be read (format, charset, separator, columns), and picks
    /// the source that format went to last, or the one the catalogue names
    /// (`suggest`: only on leaving the file, never over a source chosen).
    pub(super) fn read_import_head(&mut self, form: &mut Form, suggest: bool) {
        // Read on a worker: a file (on a network share, say) never holds
        // the keys up. The answer is `Msg::ImportHead`.
        let how = crate::import::ReadAs {
            format: form.get("format").value().parse().ok(),
            map: form.get("columns").text.trim().parse().ok(),
            encoding: form.get("encoding").value().parse().ok(),
        };
        form.intro = vec!["Reading the file…".into()];
        self.pending_effects.push(Effect::ReadImportHead {
            path: crate::tui::path_complete::resolved(&form.get("file").text),
            how: Box::new(how),
            suggest,
        });
    }

    /// How the file chosen in the import form reads, back from the worker:
    /// said in the form, with the source suggested (`suggest`: only on
    /// leaving the file, never over a source chosen). An answer for a file
    /// no longer in the form is dropped.
    pub(super) fn on_import_head(
        &mut self,
        path: std::path::PathBuf,
        suggest: bool,
        result: Result<crate::import::Sniffed, HeadRefusal>,
    ) {
        let Some(Popup::Form { form, .. }) = self.popups.iter_mut().rev().find(|p| {
            matches!(
                p,
                Popup::Form {
                    purpose: Purpose::Import,
                    ..
                }
            )
        }) else {
            return;
        };
        if crate::tui::path_complete::resolved(&form.get("file").text) != path {
            return;
        }
        let shown = crate::domain::text::inert(&path.display().to_string()).into_owned();
        match result {
            Ok(s) => {
                let source = self
                    .import_sources
                    .get(s.format.as_str())
                    .cloned()
                    .or_else(|| crate::import::suggested_source(s.format, self.desk.catalogue()));
                let mut intro = vec![format!(
                    "Reads as: {}",
                    crate::domain::text::inert(&s.words())
                )];
                if let Some(src) = source.filter(|_| suggest) {
                    let f = form.get_mut("source");
                    if let FieldKind::Choice(opts) = &f.kind {
                        if let Some(i) = opts.iter().position(|o| *o == src) {
                            f.index = i;
                            intro
                                .push(format!("Source suggested for a {} export: {src}", s.format));
                        }
                    }
                }
                form.intro = intro;
            }
            Err(HeadRefusal::NotReadable) => {
                form.intro.clear();
                form.get_mut("file").error = Some(format!("{shown} is not a readable file"));
            }
            Err(HeadRefusal::Refused(why)) => {
                // The desk's words for the shell's flags.
                let why = why
                    .replace("give --encoding", "choose an Encoding, e.g.")
                    .replace("--map", "Columns");
                form.intro = vec![format!(
                    "Cannot be read as it is: {}",
                    crate::domain::text::inert(&why)
                )];
            }
        }
    }

    /// Turns a submitted form into a service call; a refusal stays in the form.
    pub(super) fn submit(&mut self, mut form: Form, purpose: Purpose) {
        for i in 0..form.fields.len() {
            check_field(&mut form, i, purpose, self.desk.today());
        }
        if form.fields.iter().any(|f| f.error.is_some()) {
            form.error = Some("fix the marked fields".into());
            self.popups.push(Popup::Form { form, purpose });
            return;
        }
        // A refused step is said in the form itself; `take_step` would also put
        // an error box under it, which outlived the form when it was cancelled.
        let depth = self.popups.len();
        let result = match purpose {
            Purpose::Intake => return self.submit_intake(form),
            Purpose::Export(id) => return self.submit_export(form, id),
            Purpose::Closures => {
                self.submit_closures(&form);
                return;
            }
            Purpose::Check { restore } => {
                let path = std::path::PathBuf::from(form.get("file").text.trim());
                if path.is_file() {
                    self.say("checking…");
                    self.pending_effects.push(Effect::StartCheck {
                        restore,
                        path,
                        format: form.get("format").value().parse().ok(),
                    });
                    Ok(())
                } else {
                    Err(format!(
                        "{} is not a readable file",
                        crate::domain::text::inert(&path.display().to_string())
                    ))
                }
            }
            Purpose::LinkIdentity(id) => self.take_step(
                id,
                Step::LinkIdentity {
                    emails: vec![],
                    phones: vec![],
                    records: vec![form.get("record").text.trim().to_string()],
                    note: form.get("note").text.clone(),
                },
                None,
            ),
            Purpose::Rectify(id) => self.take_step(
                id,
                Step::Rectify {
                    field: form.get("field").text.clone(),
                    old: form.get("old").text.clone(),
                    new: form.get("new").text.clone(),
                    reason: form.get("reason").text.clone(),
                },
                None,
            ),
            Purpose::LiftRestriction(id) => {
                // The day the subject was told is typed, never assumed.
                let Some(told_on) = parse_day(&form.get("told").text) else {
                    form.error =
                        Some("told on: the day the subject was told, as YYYY-MM-DD".into());
                    form.focus = 0;
                    self.popups.push(Popup::Form {
                        form,
                        purpose: Purpose::LiftRestriction(id),
                    });
                    return;
                };
                let step = Step::LiftRestriction {
                    told_on,
                    how: form.get("how").text.clone(),
                    reason: form.get("reason").text.clone(),
                };
                self.check_then_confirm(id, step, None, "Lift the restriction", |_, _| {
                    format!("Lift the restriction on {id}? The processing it held back may go on.\nThe subject was told on {told_on}.\nA lifted restriction cannot be put back: a new request would be needed.")
                })
            }
            Purpose::NoticeSent(id, letter) => {
                let Some(on) = parse_day(&form.get("on").text) else {
                    form.error = Some("sent on: the day it went out, as YYYY-MM-DD".into());
                    form.focus = 1;
                    self.popups.push(Popup::Form { form, purpose });
                    return;
                };
                let via = form.get("via").value().parse().unwrap_or(Channel::Email);
                self.take_step(id, Step::NoticeSent { letter, via }, Some(on))
            }
            Purpose::Import => {
                let path = crate::tui::path_complete::resolved(&form.get("file").text);
                let format = form.get("format").value().parse().ok();
                let map = match form.get("columns").text.trim() {
                    "" => None,
                    m => match m.parse::<crate::import::ColumnMap>() {
                        Ok(m) => Some(m),
                        Err(e) => {
                            form.error = Some(format!("columns: {e}"));
                            form.focus = form.index_of("columns");
                            self.popups.push(Popup::Form { form, purpose });
                            return;
                        }
                    },
                };
                let encoding = form.get("encoding").value().parse().ok();
                if !path.is_file() {
                    form.error = Some(format!(
                        "{} is not a readable file",
                        crate::domain::text::inert(&path.display().to_string())
                    ));
                    self.popups.push(Popup::Form { form, purpose });
                    return;
                }
                self.import_folder = path.parent().map(|p| p.display().to_string());
                self.importing = true;
                self.pending_effects.push(Effect::StartImport {
                    source: form.get("source").value().to_string(),
                    path,
                    how: Box::new(crate::import::ReadAs {
                        format,
                        map,
                        encoding,
                    }),
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
                let on = match day_field(&form, "on") {
                    Ok(on) => on,
                    Err(e) => {
                        form.error = Some(e);
                        self.popups.push(Popup::Form { form, purpose });
                        return;
                    }
                };
                match form.get("outcome").value() {
                    "request more ID" => self.ask_for_id(id, note, on),
                    o => {
                        let outcome: VerificationOutcome = o.parse().expect("choice from the list");
                        let r = self.take_step(
                            id,
                            Step::Verify {
                                method,
                                outcome,
                                note,
                            },
                            on,
                        );
                        // Identity is verified: the work can be planned at once.
                        if r.is_ok() && outcome == VerificationOutcome::Verified {
                            self.start_plan(id);
                        }
                        r
                    }
                }
            }
            Purpose::Pause(id) => match day_field(&form, "on") {
                Err(e) => Err(e),
                Ok(on) => self.take_step(
                    id,
                    Step::Pause {
                        reason: form.get("reason").text.clone(),
                    },
                    on,
                ),
            },
            Purpose::Resume(id) => match day_field(&form, "on") {
                Err(e) => Err(e),
                Ok(on) => self.take_step(id, Step::Resume, on),
            },
            Purpose::RequestId(id) => match day_field(&form, "on") {
                Err(e) => Err(e),
                Ok(on) => self.ask_for_id(id, form.get("note").text.clone(), on),
            },
            Purpose::Fee(id) => self.take_step(
                id,
                Step::RequestFee {
                    amount: form.get("amount").text.clone(),
                    reason: form.get("reason").text.clone(),
                },
                None,
            ),
            Purpose::Extend(id) => {
                // Only one extension is allowed: the officer confirms with
                // the new due date in front of them.
                let step = Step::Extend {
                    reason: form.get("reason").text.clone(),
                };
                self.check_then_confirm(id, step, None, "Extend the deadline", |_, after| {
                    let due = after
                        .clock
                        .effective_due()
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "—".into());
                    format!(
                        "Extend {id} by two months? The new due date is {due}.\nOnly one extension is allowed, and the requester must be told, with the reasons, within the first month.\nAn extension cannot be undone."
                    )
                })
            }
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
                let mut closing = crate::domain::closure::Closing::new(outcome, reason.clone());
                closing.fee =
                    Some(form.get("fee").text.trim().to_string()).filter(|f| !f.is_empty());
                closing.responded_on = parse_day(&form.get("responded").text);
                closing.via = form.get("via").value().parse().ok();
                closing.keep_identifiers = form.fields.iter().any(|f| f.key == "keep" && f.on());
                match self.desk.case(id) {
                    Err(e) => Err(e.to_string()),
                    Ok(v) => {
                        closing.gap_reasons = gap_reasons(&form, &v.case);
                        let checked = crate::domain::closure::check_gaps(
                            &v.case,
                            outcome,
                            &closing.gap_reasons,
                        );
                        // The domain is asked before the confirmation (a
                        // reason missing, a fee unpaid…): a refusal is said
                        // in the form, which stays open.
                        let refused = self
                            .desk
                            .dry_run(&v.case, &Step::Close(closing.clone()), None)
                            .err();
                        match (checked, refused) {
                            (Err(missing), _) => Err(format!(
                                "work is still open: give a reason for each gap ({} without one)",
                                missing.len()
                            )),
                            (Ok(_), Some(why)) => Err(why),
                            (Ok(explained), None) => {
                                let fee_line = closing
                                    .fee
                                    .as_ref()
                                    .map(|f| format!("\nFee charged: {f}"))
                                    .unwrap_or_default();
                                let open_line = if explained.is_empty() {
                                    String::new()
                                } else {
                                    format!(
                                        "\nClosing with {} explained.",
                                        crate::domain::text::counted(
                                            explained.len(),
                                            "gap",
                                            "gaps"
                                        )
                                    )
                                };
                                let owed: String =
                                    v.owed.iter().map(|o| format!("\nWarning: {o}.")).collect();
                                self.popups.push(Popup::Confirm {
                                    title: "Close the case".into(),
                                    body: format!("Close {id} as {outcome}?\nReason: {reason}{fee_line}{open_line}{owed}\nA closed case cannot be reopened."),
                                    case: id,
                                    step: Step::Close(closing),
                                    on: None,
                                    back: None,
                                });
                                Ok(())
                            }
                        }
                    }
                }
            }
        };
        match result {
            Err(msg) => {
                self.popups.truncate(depth);
                form.error = Some(msg);
                self.popups.push(Popup::Form { form, purpose });
            }
            // A confirmation came of the form: it keeps the form to go
            // back to on "no" or a refusal.
            Ok(()) => {
                let just_asked = self.popups.len() == depth + 1;
                if let Some(Popup::Confirm { back, .. }) = self.popups.last_mut() {
                    if back.is_none() && just_asked {
                        *back = Some(Box::new((form, purpose)));
                    }
                }
            }
        }
    }

    /// Asking for more ID, from `i` or the verify form: confirmed with the
    /// clock before and after, and a word if it comes late (the month
    /// restarts only when the ID arrives).
    fn ask_for_id(
        &mut self,
        id: crate::domain::CaseId,
        note: String,
        on: Option<NaiveDate>,
    ) -> Result<(), String> {
        let day = on.unwrap_or(self.desk.today());
        let step = Step::RequestId { note };
        self.check_then_confirm(id, step, on, "Request more ID", |before, after| {
            let late = before
                .case
                .late_id_request(day)
                .map(|w| format!("\n\n⚠ {w}"))
                .unwrap_or_default();
            format!(
                "Ask the requester of {id} for more identification, on {day}?\nClock now:  {}\nAfter:      {}{late}",
                before.clock.explain(),
                after.clock.explain()
            )
        })
    }

    /// A step that cannot be undone: the domain is asked first (a refusal
    /// comes back as the form's error, and the form stays), then the
    /// officer confirms, with what the case would be in front of them.
    fn check_then_confirm(
        &mut self,
        id: crate::domain::CaseId,
        step: Step,
        on: Option<NaiveDate>,
        title: &str,
        body: impl FnOnce(&crate::service::CaseView, &crate::service::CaseView) -> String,
    ) -> Result<(), String> {
        let v = self.desk.case(id).map_err(|e| e.to_string())?;
        let after = self.desk.dry_run(&v.case, &step, on)?;
        let body = body(&v, &self.desk.view(after));
        self.popups.push(Popup::Confirm {
            title: title.into(),
            body,
            case: id,
            step,
            on,
            back: None,
        });
        Ok(())
    }

    pub(super) fn submit_intake(&mut self, mut form: Form) {
        let today = self.desk.today();
        let mut new = intake_from_form(&form, today);
        new.records = std::mem::take(&mut self.intake_records);
        new.message = self.intake_message.clone();
        match self.desk.open_case(new) {
            Ok(case) => {
                self.intake_message = None;
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
                    let key = intake_field(e.field);
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

/// A day typed as `YYYY-MM-DD`, optionally followed by a time (the hour does not
/// matter to the clock: the day of receipt counts).
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    // Exactly a day, or a day and a time: anything else ("+2026-11-20",
    // "2025-12-200", "2025-12-20 junk") is no day, never part of one.
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return (t.len() == 10).then_some(d);
    }
    [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
    .filter(|_| t.as_bytes().first().is_some_and(u8::is_ascii_digit))
    .map(|dt| dt.date())
}

/// The intake as typed so far, as the domain's `NewCase` (not yet validated).
fn intake_from_form(form: &Form, today: NaiveDate) -> NewCase {
    let text = |k: &str| Some(form.get(k).text.clone()).filter(|s| !s.trim().is_empty());
    NewCase {
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
            name: text("requester_name"),
            authority: text("authority"),
            authority_kind: match form.get("authority_kind").value() {
                "none" => None,
                k => k.parse().ok(),
            },
        },
        child: form.get("child").on(),
        subject: Subject {
            name: form.get("name").text.clone(),
            emails: form.get("emails").list(),
            phones: form.get("phones").list(),
        },
        records: vec![],
        message: None,
    }
}

/// The intake form's field for a field the domain names in its errors.
fn intake_field(domain_field: &str) -> &str {
    match domain_field {
        "email" => "emails",
        "phone" => "phones",
        "requester" => "requester_name",
        other => other,
    }
}

/// Checks one field as the officer leaves it. Reading the typed date is the
/// form's job; every rule about the case is the domain's own (`NewCase::validate`),
/// and steps are refused by the domain on submit, with the reason in the form.
pub(super) fn check_field(form: &mut Form, i: usize, purpose: Purpose, today: NaiveDate) {
    let key = form.fields[i].key;
    let err = match key {
        "received" | "on" | "told" | "responded" if parse_day(&form.fields[i].text).is_none() => {
            Some("a date as YYYY-MM-DD".to_string())
        }
        _ if purpose == Purpose::Intake => match intake_from_form(form, today).validate(today) {
            Ok(_) => None,
            Err(errs) => errs
                .into_iter()
                .find(|e| intake_field(e.field) == key)
                .map(|e| e.why),
        },
        _ => None,
    };
    form.fields[i].error = err;
}

pub fn intake_form(today: NaiveDate) -> Form {
    let channels: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
    let rights: Vec<&str> = Right::ALL.iter().map(|r| r.as_str()).collect();
    let relations: Vec<&str> = Relation::ALL.iter().map(|r| r.as_str()).collect();
    let mut authority_kinds = vec!["none"];
    authority_kinds.extend(AuthorityKind::ALL.iter().map(|k| k.as_str()));
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
            Field::choice("authority_kind", "Authority", &authority_kinds, 0),
            Field::text(
                "authority",
                "Seen",
                "",
                "the authority seen, in words (parent or agent)",
            ),
            Field::toggle("child", "Child", false),
            Field::text("name", "Subject", "", "the data subject's full name"),
            Field::text("emails", "E-mails", "", "comma-separated"),
            Field::text("phones", "Phones", "", "comma-separated"),
        ],
    )
}

/// A fee asked before acting (Art. 12(5)(a)): how much, and why.
pub fn fee_form(id: CaseId) -> Form {
    Form::new(
        format!("Ask a fee before acting on {id}"),
        vec![
            Field::text("amount", "Amount", "", "a reasonable fee, e.g. EUR 25"),
            Field::text(
                "reason",
                "Why",
                "",
                "why the request is manifestly unfounded or excessive (the letter states it)",
            ),
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

/// A day typed in a form's field: `None` when left empty (today), an
/// error naming the field when it is not a day (never silently today).
pub(super) fn day_field(form: &Form, key: &str) -> Result<Option<NaiveDate>, String> {
    let f = form.get(key);
    let text = f.text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parse_day(text).map(Some).ok_or_else(|| {
        format!(
            "{}: '{}' is not a day (YYYY-MM-DD)",
            f.label.trim(),
            crate::domain::text::inert(text)
        )
    })
}

fn day(key: &'static str, label: &'static str, today: NaiveDate, hint: &'static str) -> Field {
    Field::text(key, label, &today.format("%Y-%m-%d").to_string(), hint)
}

pub fn request_id_form(id: CaseId, today: NaiveDate) -> Form {
    Form::new(
        format!("Request more ID for {id}"),
        vec![
            day(
                "on",
                "Asked on",
                today,
                "the day the request for ID went out",
            ),
            Field::text(
                "note",
                "Asked for",
                "",
                "what was asked for (never a copy of a document)",
            ),
        ],
    )
}

pub fn pause_form(id: CaseId, today: NaiveDate) -> Form {
    Form::new(
        format!("Pause {id} for clarification"),
        vec![
            Field::text("reason", "Reason", "", "what was asked of the requester"),
            day("on", "Asked on", today, "the day the question went out"),
        ],
    )
}

pub fn resume_form(id: CaseId, today: NaiveDate) -> Form {
    Form::new(
        format!("Resume {id}"),
        vec![day(
            "on",
            "Answered on",
            today,
            "the day the clarification came",
        )],
    )
}

pub(super) fn reason_form(title: &str, key: &'static str, hint: &'static str) -> Form {
    let label = if key == "note" { "Note" } else { "Reason" };
    Form::new(title, vec![Field::text(key, label, "", hint)])
}

/// Labels for the reason fields of the gaps a closure form lists.
const GAP_KEYS: [&str; 8] = [
    "gap0", "gap1", "gap2", "gap3", "gap4", "gap5", "gap6", "gap7",
];
const GAP_LABELS: [&str; 8] = [
    "Why open 1",
    "Why open 2",
    "Why open 3",
    "Why open 4",
    "Why open 5",
    "Why open 6",
    "Why open 7",
    "Why others",
];

/// The closure form: what is still open (from the domain), the outcome, the
/// response date and channel, the summary, a fee, and a reason per gap (the
/// eighth field answers for any further gaps).
pub(super) fn close_form(v: &crate::service::CaseView, today: NaiveDate) -> Form {
    let case = &v.case;
    let id = case.id;
    let outcomes: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
    let channels: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
    let via = Channel::ALL
        .iter()
        .position(|c| *c == case.channel)
        .unwrap_or(0);
    let gaps = crate::domain::closure::open_gaps(case);
    let mut fields = vec![
        Field::choice(
            "outcome",
            "Outcome",
            &outcomes,
            Outcome::ALL
                .iter()
                .position(|o| *o == case.likely_outcome())
                .unwrap_or(0),
        ),
        Field::text(
            "responded",
            "Responded",
            &today.format("%Y-%m-%d").to_string(),
            "the day the response went out",
        ),
        Field::choice("via", "Sent by", &channels, via),
        Field::text("reason", "Summary", "", "what was done, or why refused"),
        Field::text(
            "fee",
            "Fee",
            "",
            "only for a manifestly unfounded or excessive request, e.g. EUR 25",
        ),
    ];
    if case.rights.contains(&Right::Erasure) {
        // Off by default: a granted erasure leaves keyed hashes in the case.
        fields.push(Field::toggle("keep", "Keep ids", false));
    }
    for (i, g) in gaps.iter().enumerate().take(GAP_KEYS.len()) {
        let hint = if i + 1 == GAP_KEYS.len() && gaps.len() > GAP_KEYS.len() {
            format!("why the other {} gaps stay open", gaps.len() - i)
        } else {
            format!("why closing with this open: {}", g.what)
        };
        fields.push(Field::text(GAP_KEYS[i], GAP_LABELS[i], "", hint));
    }
    let mut form = Form::new(format!("Close {id}"), fields);
    form.intro = close_intro(v, Outcome::ALL[0]);
    form
}

/// What the close form says above its fields, for the outcome chosen: the
/// work still open, and whether that outcome must explain it.
pub(super) fn close_intro(v: &crate::service::CaseView, outcome: Outcome) -> Vec<String> {
    use crate::domain::closure::{check_gaps, open_gaps};
    let gaps = open_gaps(&v.case);
    let mut intro: Vec<String> = v.owed.iter().map(|o| format!("⚠ {o}")).collect();
    // Which outcome must explain the open work is the domain's rule.
    match check_gaps(&v.case, outcome, &[]) {
        _ if gaps.is_empty() => intro.push("Nothing is open: every task is done.".into()),
        Err(to_explain) => {
            intro.push(format!(
                "Still open ({}) — to close as {outcome}, say why for each:",
                to_explain.len()
            ));
            intro.extend(to_explain.iter().map(|g| format!("• {}", g.what)));
        }
        Ok(_) => intro.push(format!(
            "Still open ({}) — closing as {outcome} needs no reason for it.",
            gaps.len()
        )),
    }
    intro
}

/// The gap reasons typed into a closure form, matched to the case's gaps.
pub(super) fn gap_reasons(form: &Form, case: &crate::domain::Case) -> Vec<(String, String)> {
    let gaps = crate::domain::closure::open_gaps(case);
    let mut out = Vec::new();
    for (i, g) in gaps.iter().enumerate() {
        let slot = i.min(GAP_KEYS.len() - 1);
        if let Some(f) = form.fields.iter().find(|f| f.key == GAP_KEYS[slot]) {
            out.push((g.key.clone(), f.text.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod day_tests {
    use super::parse_day;

    #[test]
    fn only_a_whole_day_is_a_day() {
        let d = |s: &str| parse_day(s).map(|d| d.to_string());
        assert_eq!(d(" 2026-11-20 ").as_deref(), Some("2026-11-20"));
        assert_eq!(d("2026-11-20 14:05").as_deref(), Some("2026-11-20"));
        assert_eq!(d("2026-11-20T14:05:09").as_deref(), Some("2026-11-20"));
        for bad in [
            "+2026-11-20",
            "2025-12-200",
            "2025-12-20x",
            "2025-12-20T10",
            "2025-12-20 junk",
            "2026-13-01",
            "20251220",
            "today",
            "",
        ] {
            assert_eq!(d(bad), None, "{bad:?}");
        }
    }
}
