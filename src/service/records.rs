//! The organisation's records of its answers: the closure log and its
//! figures, the desk's own retention (purge), for both faces.

use super::{Desk, DeskError};
use crate::domain::closure_log::{closure_row, ClosureRow, CSV_HEADER};
use crate::domain::Case;
use chrono::NaiveDate;

/// The closure log's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Csv,
    Jsonl,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "csv" => Ok(LogFormat::Csv),
            "jsonl" => Ok(LogFormat::Jsonl),
            other => Err(format!("'{other}' is not a log format (csv, jsonl)")),
        }
    }
}

impl Desk {
    /// A stable pseudonym for a case's subject: the keyed hash of their first
    /// e-mail (also after erasure reduced it to a hash), else phone, else name.
    pub fn pseudonym(&self, case: &Case) -> String {
        let s = &case.subject;
        let hash = s
            .emails
            .iter()
            .find_map(|e| {
                e.strip_prefix("hash:")
                    .map(str::to_string)
                    .or_else(|| self.pseudo.email(e))
            })
            .or_else(|| s.phones.iter().find_map(|p| self.pseudo.phone(p)))
            .unwrap_or_else(|| {
                crate::domain::pseudonym::hex(&self.pseudo.raw(
                    crate::domain::pseudonym::IdKind::Email,
                    &format!("name:{}", crate::domain::fold::fold(&s.name).text),
                ))
            });
        format!("P-{}", &hash[..12.min(hash.len())])
    }

    /// The `closures-exported` audit entry, written once the export is
    /// (the file written, or the rows printed): never one that did not happen.
    pub fn log_closures_export(
        &self,
        rows: usize,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        with_subjects: bool,
    ) -> Result<(), DeskError> {
        let detail = serde_json::json!({
            "rows": rows,
            "from": from,
            "to": to,
            "with_subjects": with_subjects,
        });
        self.store.log(&self.note("closures-exported", detail))?;
        Ok(())
    }

    /// One row per case closed (responded) between `from` and `to`,
    /// inclusive; names only when asked for. Reading is not logged: an
    /// export is, once written (`log_closures_export`).
    pub fn closure_rows(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        with_subjects: bool,
    ) -> Result<Vec<ClosureRow>, DeskError> {
        let mut rows = Vec::new();
        for case in self.store.cases()? {
            let subject = if with_subjects {
                case.subject.name.clone()
            } else {
                self.pseudonym(&case)
            };
            if let Some(r) = closure_row(&case, &self.calendar, subject) {
                if from.is_some_and(|f| r.responded < f) || to.is_some_and(|t| r.responded > t) {
                    continue;
                }
                rows.push(r);
            }
        }
        rows.sort_by(|a, b| (a.responded, &a.id).cmp(&(b.responded, &b.id)));
        Ok(rows)
    }
}

/// The log as CSV (spreadsheet-safe cells) or JSON lines.
/// Writes the rows to `path` (0600; a directory it has to make, 0700); returns how many.
/// Checks the closure log's file can be written, before the export is logged.
pub fn prepare_log_file(path: &std::path::Path) -> Result<(), DeskError> {
    crate::store::files::prepare_officer_output(path).map_err(|source| DeskError::Read {
        path: path.to_path_buf(),
        source,
    })
}

pub fn write_log_file(
    rows: &[ClosureRow],
    format: LogFormat,
    path: &std::path::Path,
) -> Result<usize, DeskError> {
    let io = |e: std::io::Error| DeskError::Read {
        path: path.to_path_buf(),
        source: e,
    };
    let bytes = write_log(rows, format).map_err(|e| io(std::io::Error::other(e)))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::store::files::create_private_dirs(dir).map_err(io)?;
    }
    super::paths::write_private(path, &bytes).map_err(io)?;
    Ok(rows.len())
}

pub fn write_log(rows: &[ClosureRow], format: LogFormat) -> Result<Vec<u8>, String> {
    match format {
        LogFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(CSV_HEADER).map_err(|e| e.to_string())?;
            for r in rows {
                w.write_record(r.csv_cells()).map_err(|e| e.to_string())?;
            }
            w.into_inner().map_err(|e| e.to_string())
        }
        LogFormat::Jsonl => {
            let mut out = Vec::new();
            for r in rows {
                out.extend_from_slice(crate::domain::text::json_inert(r, false).as_bytes());
                out.push(b'\n');
            }
            Ok(out)
        }
    }
}

/// What a purge found (and, applied, reduced).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PurgeReport {
    /// Closed cases past the desk's retention, not yet reduced.
    pub due: Vec<crate::domain::CaseId>,
    pub reduced: usize,
    pub retention_years: u32,
}

impl Desk {
    /// Finds closed cases older than the configured retention and, when
    /// `apply`, reduces each to its stub with an audit entry. Run `rebuild`
    /// afterwards so the removed bytes leave sled's files.
    pub fn purge(&self, apply: bool) -> Result<PurgeReport, DeskError> {
        let years = self.settings.retention_years;
        let today = self.today();
        let mut report = PurgeReport {
            retention_years: years,
            ..PurgeReport::default()
        };
        for case in self.store.cases()? {
            if case.purged() || !case.past_retention(today, years) {
                continue;
            }
            report.due.push(case.id);
            if !apply {
                continue;
            }
            self.carry_out(
                case.id,
                crate::domain::change::Ask::Purge {
                    retention_years: years,
                },
            )?;
            report.reduced += 1;
        }
        Ok(report)
    }
}
