//! Checks every import makes before parsing: the bytes must be text we can trust.

use super::ImportError;

/// Largest cell (or header value) accepted, in bytes.
pub const MAX_CELL: usize = 32 * 1024;

/// Refuses NUL bytes and invalid UTF-8 (naming the line), strips a BOM.
pub fn checked_text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::at(file, None, None, "the file is empty"));
    }
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        return Err(ImportError::at(
            file,
            Some(line_of(bytes, pos)),
            None,
            "holds a NUL byte (not a text export)",
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let pos = e.valid_up_to();
        let why = if looks_latin1(&bytes[pos..]) {
            "is not UTF-8 (it looks like Latin-1 / Windows-1252: export it as UTF-8)"
        } else {
            "is not valid UTF-8"
        };
        ImportError::at(file, Some(line_of(bytes, pos)), None, why)
    })
}

/// A lone accented Latin-1 letter (0xC0–0xFE) followed by plain ASCII.
fn looks_latin1(rest: &[u8]) -> bool {
    matches!(rest, [b, next, ..] if (0xC0..=0xFE).contains(b) && next.is_ascii())
}

/// 1-based line number of a byte offset.
pub fn line_of(bytes: &[u8], pos: usize) -> u64 {
    bytes[..pos.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

/// Spreadsheet exports guard formulas with a leading `'`; the value is what follows.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => cell,
    }
}
