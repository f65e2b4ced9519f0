//! The rights flows from a shell: plans, the access export, backup marks and
//! the suppression list.

use super::args::{BackupsCommand, ExportCommand, ReadArgs, SuppressionCommand};
use super::{exit, fail, print_json, Failure};
use crate::domain::text::inert;
use crate::domain::CaseId;
use crate::remote::backend::Backend;
use crate::service::package::{spreadsheet_safe, Password};

pub fn plan(
    desk: &Backend,
    id: &CaseId,
    accept: bool,
    skip: &[String],
    json: bool,
) -> Result<(), Failure> {
    let p = desk.propose_plan(*id)?;
    let tasks: Vec<_> = p
        .tasks
        .iter()
        .filter(|t| !skip.contains(&t.source))
        .cloned()
        .collect();
    if accept {
        if tasks.is_empty() {
            return Err(fail(exit::REFUSED, format!("{id}: nothing to plan")));
        }
        desk.accept_plan(*id, tasks.clone(), None)?;
    }
    if json {
        let rows: Vec<_> = tasks
            .iter()
            .map(|t| {
                serde_json::json!({
                    "source": t.source, "action": t.action, "why": t.why, "held": t.held,
                })
            })
            .collect();
        print_json(&serde_json::json!({
            "case": id.to_string(),
            "accepted": accept,
            "found_in": p.held,
            "tasks": rows,
        }));
    } else {
        for t in &tasks {
            outln!(
                "{:<20} {:<55} {}",
                t.source,
                inert(&t.action),
                if t.held { "found" } else { "" }
            );
        }
        if accept {
            outln!(
                "{id}: {} recorded",
                crate::domain::text::counted(tasks.len(), "task", "tasks")
            );
        } else {
            outln!("(proposal only: add --accept to record these tasks)");
        }
    }
    Ok(())
}

pub fn export(desk: &Backend, cmd: &ExportCommand) -> Result<(), Failure> {
    match cmd {
        ExportCommand::Access {
            id,
            out,
            password_file,
            unsearched_reason,
            json,
        } => {
            let password = Password::from_file(password_file).map_err(|e| fail(exit::USAGE, e))?;
            let r = desk.export_access(
                super::parse_id(id)?,
                out,
                &password,
                unsearched_reason.as_deref(),
            )?;
            if *json {
                print_json(&r);
            } else {
                use crate::domain::text::counted;
                outln!(
                    "wrote {} ({} from {})",
                    r.pdf.display(),
                    counted(r.records, "record", "records"),
                    counted(r.sources, "source", "sources")
                );
                if let Some(z) = &r.zip {
                    outln!("wrote {}", z.display());
                }
                outln!("send the password by another channel than the files");
            }
            Ok(())
        }
    }
}

/// Prints a check's rows (or them as JSON) and exits 6 when there are any,
/// so a restore or campaign script can stop.
fn report_rows<T: serde::Serialize>(
    a: &ReadArgs,
    hits: &[T],
    lines: impl Iterator<Item = String>,
    what: &str,
) -> Result<(), Failure> {
    if a.json {
        print_json(&hits);
    } else {
        for l in lines {
            outln!("{l}");
        }
        if hits.is_empty() {
            outln!(
                "no row of {} is flagged",
                inert(&a.file.display().to_string())
            );
        } else {
            outln!(
                "{} row(s) of {} {what}",
                hits.len(),
                inert(&a.file.display().to_string())
            );
        }
    }
    if hits.is_empty() {
        Ok(())
    } else {
        std::process::exit(exit::ROWS_FOUND)
    }
}

pub fn backups(desk: &Backend, cmd: &BackupsCommand) -> Result<(), Failure> {
    match cmd {
        BackupsCommand::List { json } => {
            let marks = desk.backup_marks()?;
            if *json {
                let rows: Vec<_> = marks
                    .iter()
                    .map(|m| {
                        serde_json::json!({
                            "case": m.case.to_string(), "source": m.source, "set": m.set,
                            "marked_on": m.marked_on, "expires": m.expires,
                            "re_erase_on_restore": m.re_erase_on_restore,
                            "identifiers": m.hashes.len(),
                        })
                    })
                    .collect();
                print_json(&rows);
            } else {
                for m in &marks {
                    outln!(
                        "{}  {:<28} marked {}  expires {}  re-erase on restore",
                        m.case,
                        m.set,
                        m.marked_on,
                        m.expires
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "when overwritten".into())
                    );
                }
                outln!("{} mark(s)", marks.len());
            }
            Ok(())
        }
        BackupsCommand::Check(a) => {
            let hits: Vec<crate::service::BackupHit> = desk
                .check_file(true, &a.file, &a.how())?
                .into_iter()
                .filter_map(|h| {
                    Some(crate::service::BackupHit {
                        line: h.line,
                        key: h.key,
                        matched: h.matched,
                        case: h.case?,
                        set: h.set?,
                    })
                })
                .collect();
            let lines = hits.iter().map(|h| {
                format!(
                    "line {}  key {}  matched by {}  erased under {} ({})",
                    h.line,
                    inert(&h.key),
                    h.matched.as_str(),
                    h.case,
                    h.set
                )
            });
            report_rows(a, &hits, lines, "belong to erased people: erase them again")
        }
    }
}

pub fn suppression(desk: &Backend, cmd: &SuppressionCommand) -> Result<(), Failure> {
    match cmd {
        SuppressionCommand::Export { out, format } => {
            let listed = desk.suppression_list()?;
            let list = &listed.entries;
            let text = match format.as_str() {
                "json" => {
                    serde_json::to_string_pretty(&serde_json::json!({
                        "recipe": listed.recipe,
                        "key": listed.key,
                        "entries": list.iter().map(|s| serde_json::json!({
                            "hash": s.hash, "kind": s.id_kind, "added": s.added,
                            "case": s.case().map(|c| c.to_string()),
                        })).collect::<Vec<_>>(),
                    }))
                    .expect("serialises")
                        + "\n"
                }
                "csv" => {
                    let mut w = csv::Writer::from_writer(Vec::new());
                    let io = |e: csv::Error| fail(exit::FAILED, e.to_string());
                    w.write_record(["hash", "kind", "added", "case"])
                        .map_err(io)?;
                    for s in list {
                        w.write_record([
                            s.hash.clone(),
                            s.id_kind.as_str().to_string(),
                            s.added.to_string(),
                            spreadsheet_safe(&s.case().map(|c| c.to_string()).unwrap_or_default()),
                        ])
                        .map_err(io)?;
                    }
                    let body = String::from_utf8(
                        w.into_inner()
                            .map_err(|e| fail(exit::FAILED, e.to_string()))?,
                    )
                    .expect("csv of ASCII");
                    format!("# recipe: {}\n# key: {}\n{body}", listed.recipe, listed.key)
                }
                other => {
                    return Err(fail(
                        exit::USAGE,
                        format!("--format {other}: use csv or json"),
                    ))
                }
            };
            match out {
                Some(path) => {
                    crate::service::paths::write_private(path, text.as_bytes())
                        .map_err(|e| fail(exit::FAILED, format!("{}: {e}", path.display())))?;
                    crate::errln!("wrote {} entries to {}", list.len(), path.display());
                }
                None => out!("{text}"),
            }
            Ok(())
        }
        SuppressionCommand::Check(a) => {
            let hits: Vec<crate::service::SuppressionHit> = desk
                .check_file(false, &a.file, &a.how())?
                .into_iter()
                .map(|h| crate::service::SuppressionHit {
                    line: h.line,
                    key: h.key,
                    matched: h.matched,
                    case: h.case,
                })
                .collect();
            let lines = hits.iter().map(|h| {
                format!(
                    "line {}  key {}  suppressed by {}{}",
                    h.line,
                    inert(&h.key),
                    h.matched.as_str(),
                    h.case.map(|c| format!(" ({c})")).unwrap_or_default()
                )
            });
            report_rows(a, &hits, lines, "must not be sent to")
        }
        SuppressionCommand::Import {
            source,
            file,
            format,
            encoding,
        } => {
            let how = crate::import::ReadAs {
                format: *format,
                map: None,
                encoding: *encoding,
            };
            let done = desk.suppress_file(source, file, &how)?;
            outln!(
                "{} unsubscribed or cleaned row(s): {} new suppression entries",
                done.rows,
                done.new
            );
            Ok(())
        }
    }
}
