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
    progress("reading", 0);
    let (summary, rows) = read_rows(source, path, how)?;
    // The file is parsed on a thread of its own while the rows parsed so
    // far are staged: two cores each do half the work. A bounded channel
    // keeps memory to a few batches; when the staging stops (a refusal),
    // the channel closes and the parsing ends with it.
    let report = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        scope.spawn(move || {
            for batch in batched(rows) {
                let refused = batch.is_err();
                if tx.send(batch).is_err() || refused {
                    break;
                }
            }
        });
        write_batches(ops, source, summary, rx, progress)
    })?;
    progress("written", report.rows);
    Ok(report)
}

/// How an export will be read, told from its first bytes (what the desk's
/// import form says before anything is imported).
pub fn sniff_file(
    path: &Path,
    how: &crate::import::ReadAs,
) -> Result<crate::import::Sniffed, DeskError> {
    read_head(path, how).map(|(_, s)| s)
}

/// The first `SNIFF_BYTES` of a regular file, and how they read.
fn read_head(
    path: &Path,
    how: &crate::import::ReadAs,
) -> Result<(Vec<u8>, crate::import::Sniffed), DeskError> {
    use std::io::Read;
    let io = |source| DeskError::Read {
        path: path.to_path_buf(),
        source,
    };
    // A FIFO would wait for ever and a device never ends: only a file.
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(io(std::io::Error::other("is not a regular file")));
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(crate::import::SNIFF_BYTES as u64)
                .read_to_end(&mut head)
        })
        .map_err(io)?;
    let sniffed = crate::import::sniff(&path.display().to_string(), &head, how)?;
    Ok((head, sniffed))
}

type RowStream =
    Box<dyn Iterator<Item = Result<crate::domain::record::SourceRecord, DeskError>> + Send>;

/// Opens an export to be read as it goes: what it is (from its first
/// bytes, by the import's own rules) and its rows, one at a time, so a
/// file of any size is never held whole. A mailbox and a JSON export are
/// read whole (their parsers need it; they are not million-row files).
fn read_rows(
    source: &str,
    path: &Path,
    how: &crate::import::ReadAs,
) -> Result<(crate::service::ImportSummary, RowStream), DeskError> {
    use crate::import::Format;
    let io = |source| DeskError::Read {
        path: path.to_path_buf(),
        source,
    };
    let shown = path.display().to_string();
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (head, sniffed) = read_head(path, how)?;
    if matches!(sniffed.format, Format::Mbox | Format::Zoom | Format::Json) {
        let parsed = ParsedImport::read(source, path, how, &mut |_, _| {})?;
        return Ok((parsed.summary, Box::new(parsed.records.into_iter().map(Ok))));
    }
    // The file's fingerprint for the audit entry, read through once
    // without holding it.
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    std::io::copy(
        &mut std::fs::File::open(path).map_err(io)?,
        &mut DigestWriter(&mut hasher),
    )
    .map_err(io)?;
    let sha256 = hex::encode(sha2::Digest::finalize(hasher));
    let map = how
        .map
        .clone()
        .or_else(|| sniffed.columns.as_deref().and_then(|m| m.parse().ok()));
    let reader =
        crate::import::text::reader(std::fs::File::open(path).map_err(io)?, &head, how.encoding);
    let rows = crate::import::Rows::new(
        &shown,
        reader,
        sniffed.sep,
        source,
        sniffed.format,
        map.as_ref(),
    )?;
    let summary = crate::service::ImportSummary {
        exported_on: crate::service::date_in_name(&file),
        file,
        format: sniffed.format,
        sha256,
        skipped: Vec::new(),
        columns: sniffed.columns,
        encoding: sniffed.encoding,
        delimiter: sniffed.delimiter.map(str::to_string),
        unread_columns: sniffed.unread,
    };
    Ok((summary, Box::new(rows.map(|r| r.map_err(DeskError::from)))))
}

/// Feeds what is written to a digest.
struct DigestWriter<'a>(&'a mut sha2::Sha256);

impl std::io::Write for DigestWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Rows sent per batch: each travels in one frame and is staged at once,
/// so neither side holds more than a batch on the wire.
pub const IMPORT_BATCH_ROWS: usize = 2_000;

/// Sends an export's rows to the store's holder in batches and commits
/// them whole; a refusal part-way drops what was staged.
pub fn write_parsed(
    ops: &dyn Operations,
    source: &str,
    parsed: ParsedImport,
    progress: &mut dyn FnMut(&str, usize),
) -> Result<ImportReport, DeskError> {
    write_batches(
        ops,
        source,
        parsed.summary,
        batched(parsed.records.into_iter().map(Ok)),
        progress,
    )
}

/// Bytes of rows sent per batch, roughly (a row's text): well under a
/// request's limit, whatever the rows' width.
pub const IMPORT_BATCH_BYTES: usize = 8 << 20;

fn approx_size(r: &crate::domain::record::SourceRecord) -> usize {
    let strs = |v: &[String]| v.iter().map(|s| s.len() + 8).sum::<usize>();
    64 + r.key.len()
        + strs(&r.names)
        + strs(&r.emails)
        + strs(&r.phones)
        + strs(&r.mentions)
        + r.raw
            .iter()
            .map(|(k, v)| k.len() + v.len() + 16)
            .sum::<usize>()
}

/// Rows grouped into batches of at most `IMPORT_BATCH_ROWS` rows and about
/// `IMPORT_BATCH_BYTES`; the first refusal ends the stream.
pub fn batched<I>(
    rows: I,
) -> impl Iterator<Item = Result<Vec<crate::domain::record::SourceRecord>, DeskError>>
where
    I: IntoIterator<Item = Result<crate::domain::record::SourceRecord, DeskError>>,
{
    let mut rows = rows.into_iter();
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let mut batch = Vec::new();
        let mut bytes = 0;
        for row in rows.by_ref() {
            match row {
                Ok(r) => {
                    bytes += approx_size(&r);
                    batch.push(r);
                    if batch.len() >= IMPORT_BATCH_ROWS || bytes >= IMPORT_BATCH_BYTES {
                        return Some(Ok(batch));
                    }
                }
                Err(e) => {
                    failed = true;
                    return Some(Err(e));
                }
            }
        }
        (!batch.is_empty()).then_some(Ok(batch))
    })
}

/// The one path every import's rows take: begin, a batch at a time, commit
/// (or abandon on the first refusal, so nothing of it is ever visible).
pub fn write_batches(
    ops: &dyn Operations,
    source: &str,
    summary: crate::service::ImportSummary,
    batches: impl IntoIterator<Item = Result<Vec<crate::domain::record::SourceRecord>, DeskError>>,
    progress: &mut dyn FnMut(&str, usize),
) -> Result<ImportReport, DeskError> {
    let id = ops.import_begin(source.to_string())?;
    let mut sent = 0;
    let send = || -> Result<ImportReport, DeskError> {
        for batch in batches {
            let batch = batch?;
            sent += batch.len();
            ops.import_batch(id.clone(), source.to_string(), batch)?;
            progress("sent", sent);
        }
        ops.import_commit(id.clone(), source.to_string(), summary)
    };
    let result = send();
    if result.is_err() {
        let _ = ops.import_abandon(id);
    }
    result
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
