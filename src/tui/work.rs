//! Slow work the desk hands to a worker thread. `job` turns an effect into a
//! closure that does the work and says what came of it as a `Msg`; the run
//! loop runs it on a thread, the flow tests run it inline — the same code.

use super::app::{App, Effect, Msg, StepFailure};
use crate::remote::backend::Backend;

/// Work that may take seconds (a scan of every record, a PDF, a file check).
pub type Job = Box<dyn FnOnce() -> Msg + Send>;

/// The job for `effect`, or the effect back when it is not a worker's
/// (clipboard, imports, which report progress on their own).
pub fn job(app: &mut App, effect: Effect) -> Result<Job, Effect> {
    let desk = app.desk.clone();
    Ok(match effect {
        Effect::LoadQueue { after } => Box::new(move || {
            Msg::QueuePage(
                desk.cases_page(Some(after))
                    .map(|p| {
                        let views = p.cases.into_iter().map(|c| desk.view(c)).collect();
                        (views, p.next)
                    })
                    .map_err(|e| e.to_string()),
            )
        }),
        Effect::ProposePlan(id) => {
            Box::new(move || Msg::Plan(desk.propose_plan(id).map_err(|e| e.to_string())))
        }
        Effect::ReadImportHead { path, how, suggest } => Box::new(move || {
            use super::app::HeadRefusal;
            let result =
                crate::service::files_at_hand::sniff_file(&path, &how).map_err(|e| match e {
                    crate::service::DeskError::Read { .. } => HeadRefusal::NotReadable,
                    other => HeadRefusal::Refused(other.to_string()),
                });
            Msg::ImportHead {
                path,
                suggest,
                result,
            }
        }),
        Effect::StartCheck {
            restore,
            path,
            format,
        } => Box::new(move || Msg::Checked {
            restore,
            result: desk
                .check_file(restore, &path, &crate::import::ReadAs::format(format))
                .map_err(|e| e.to_string()),
        }),
        Effect::ExportClosures {
            path,
            format,
            with_subjects,
        } => Box::new(move || Msg::Done {
            title: "Closure log".into(),
            result: export_closures(&desk, &path, format, with_subjects),
        }),
        Effect::ReadInbox(path) => Box::new(move || {
            Msg::Inbox(
                crate::service::paths::request_phrases(desk.data_dir())
                    .and_then(|table| {
                        crate::service::mailbox::read(&*desk, &path, &table, desk.settings())
                    })
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            )
        }),
        Effect::ReadMail { at, digest } => Box::new(move || {
            Msg::Mail(
                crate::service::paths::request_phrases(desk.data_dir())
                    .map_err(|e| e.to_string())
                    .and_then(|table| {
                        crate::inbox::message_at(&at, &digest, &table, desk.settings())
                            .map_err(|e| e.to_string())
                    })
                    .map(Box::new),
            )
        }),
        Effect::VerifyAudit => Box::new(move || {
            use crate::service::ops::AuditCheck;
            Msg::AuditVerified(match desk.verify_audit(None) {
                Ok(AuditCheck::Intact { entries, cases, .. }) => Ok((entries, cases)),
                Ok(AuditCheck::Broken { error, .. }) => Err(error),
                Err(e) => Err(e.to_string()),
            })
        }),
        Effect::SlowStep {
            case,
            step,
            expected,
        } => Box::new(move || Msg::Stepped {
            case,
            result: desk
                .take_step(case, *step, None, expected)
                .map(Box::new)
                .map_err(StepFailure::from),
        }),
        Effect::StartExport(id) => match app.take_export() {
            Some(job) => Box::new(move || {
                Msg::Exported(
                    desk.export_access(
                        job.case,
                        &job.dir,
                        &job.password,
                        job.unsearched_reason.as_deref(),
                    )
                    .map_err(|e| e.to_string()),
                )
            }),
            None => return Err(Effect::StartExport(id)),
        },
        other => return Err(other),
    })
}

/// Writes the closure log for the desk (on a worker thread).
pub fn export_closures(
    desk: &Backend,
    path: &std::path::Path,
    format: crate::service::records::LogFormat,
    with_subjects: bool,
) -> Result<String, String> {
    let n = desk
        .write_closure_log(None, None, with_subjects, format, path)
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "{} written to {}{}",
        crate::domain::text::counted(n, "closed case", "closed cases"),
        path.display(),
        if with_subjects {
            " with names (logged)"
        } else {
            " (subjects as pseudonyms)"
        }
    ))
}
