//! The work done with the officer's own files, written once over the
//! operations, whoever holds the store: this process (`Desk`) or the team
//! service (through its socket). The file is read or written here, where
//! the officer runs the desk; the store's holder does the rest.

use super::ops::Operations;
use super::{DeskError, ImportReport, ParsedImport};
use crate::domain::source::Catalogue;
use std::path::Path;

/// Imports one export whole or not at all: read and checked here (errors
/// name the file, line and field), written by the store's holder in one
/// transaction with its audit entry. `progress` hears each stage.
pub fn import_file(
    ops: &dyn Operations,
    catalogue: &Catalogue,
    source: &str,
    path: &Path,
    how: &crate::import::ReadAs,
    progress: &mut dyn FnMut(&str, usize),
) -> Result<ImportReport, DeskError> {
    // Refused before a large file is read, not after.
    if catalogue.get(source).is_none() {
        return Err(DeskError::unknown_source(catalogue, source));
    }
    let parsed = ParsedImport::read(source, path, how, progress)?;
    progress("sent", parsed.records.len());
    let report = ops.write_import(source.to_string(), parsed)?;
    progress("written", report.rows);
    Ok(report)
}

/// Writes a backup of the whole store to `path` (0600, written whole: a
/// kill leaves the old file or the new one), then logs it — only once the
/// file is there. The snapshot is consistent: the holder takes it while
/// changes wait. Returns (records, the chain head it ends at).
pub fn backup_file(
    ops: &dyn Operations,
    path: &Path,
) -> Result<(u64, Option<crate::store::chain::ChainHead>), DeskError> {
    let io = |source| DeskError::Read {
        path: path.to_path_buf(),
        source,
    };
    crate::store::files::prepare_officer_output(path).map_err(io)?;
    let snap = ops.backup_snapshot()?;
    crate::store::files::write_whole(path, |w| std::io::Write::write_all(w, snap.text.as_bytes()))
        .map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ops.log_backup(name, snap.records)?;
    Ok((snap.records, snap.head))
}
