//! Checks every import makes before parsing: the bytes must be text we can trust.

use super::ImportError;
use std::borrow::Cow;

/// Why a NUL is refused: no text export holds one.
pub const NUL_WHY: &str =
    "holds a NUL byte (not a text export; UTF-16 without a byte-order mark? give --encoding utf-16le)";

/// Largest cell (or header value) accepted, in bytes.
pub const MAX_CELL: usize = 32 * 1024;

/// A charset the officer names with `--encoding` (any label the WHATWG
/// Encoding Standard knows: windows-1252, latin1, iso-8859-2, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charset(pub &'static encoding_rs::Encoding);

impl std::str::FromStr for Charset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        encoding_rs::Encoding::for_label(s.trim().as_bytes())
            .map(Charset)
            .ok_or_else(|| {
                format!("unknown encoding '{s}' (e.g. utf-8, windows-1252, iso-8859-2, utf-16le)")
            })
    }
}

/// An export's text and the charset it was read in.
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// As said back to the officer: "UTF-8", "UTF-16LE (BOM)", "windows-1252".
    pub encoding: String,
}

/// Reads an export's bytes as text. A byte-order mark decides (UTF-8,
/// Excel's "Unicode Text" UTF-16LE, or UTF-16BE); else the charset asked
/// for; else UTF-8, refused at the first line that is not, naming it. A NUL
/// is refused after decoding: it is no character of any text export.
pub fn decoded<'a>(
    file: &str,
    bytes: &'a [u8],
    asked: Option<Charset>,
) -> Result<Decoded<'a>, ImportError> {
    let (text, encoding) = if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        (
            decode_strict(file, enc, &bytes[bom..])?,
            format!("{} (BOM)", enc.name()),
        )
    } else {
        match asked {
            Some(Charset(enc)) if enc != encoding_rs::UTF_8 => {
                (decode_strict(file, enc, bytes)?, enc.name().to_string())
            }
            _ => (Cow::Borrowed(checked_utf8(file, bytes)?), "UTF-8".into()),
        }
    };
    if text.chars().all(char::is_whitespace) {
        return Err(ImportError::at(file, None, None, "the file is empty"));
    }
    if let Some(pos) = text.find('\0') {
        return Err(ImportError::at(
            file,
            Some(line_of(text.as_bytes(), pos)),
            None,
            NUL_WHY,
        ));
    }
    Ok(Decoded { text, encoding })
}

/// Decodes in `enc`, refusing (with the line) a byte sequence it cannot map.
fn decode_strict<'a>(
    file: &str,
    enc: &'static encoding_rs::Encoding,
    bytes: &'a [u8],
) -> Result<Cow<'a, str>, ImportError> {
    if let Some(text) = enc.decode_without_bom_handling_and_without_replacement(bytes) {
        return Ok(text);
    }
    let (lossy, _) = enc.decode_without_bom_handling(bytes);
    let pos = lossy.find('\u{FFFD}').unwrap_or(0);
    Err(ImportError::at(
        file,
        Some(line_of(lossy.as_bytes(), pos)),
        None,
        format!("is not valid {}", enc.name()),
    ))
}

/// Plain UTF-8 (no BOM): refused at the first line that is not, naming it.
fn checked_utf8<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, ImportError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let pos = e.valid_up_to();
        ImportError::at(
            file,
            Some(line_of(bytes, pos)),
            None,
            not_utf8(&bytes[pos..]),
        )
    })
}

/// Why bytes starting at `rest` are not UTF-8, naming the likely charset:
/// a lone accented Latin-1 letter (0xC0–0xFE) followed by plain ASCII, or
/// ending the text, is Windows-1252 / Latin-1.
pub fn not_utf8(rest: &[u8]) -> &'static str {
    let latin1 = matches!(rest, [b, next, ..] if (0xC0..=0xFE).contains(b) && next.is_ascii())
        || matches!(rest, [b] if (0xC0..=0xFE).contains(b));
    if latin1 {
        "is not UTF-8 (it looks like Windows-1252 / Latin-1: give --encoding windows-1252, or export it as UTF-8)"
    } else {
        "is not valid UTF-8 (give --encoding with the charset it was saved in)"
    }
}

/// A reader giving an export's text as UTF-8, as `decoded` would read it:
/// the file itself when it is UTF-8 (its cells are checked as they come),
/// else decoded as it streams (a UTF-16 byte-order mark, or the charset
/// asked for). Bytes a charset cannot read become U+FFFD, which the rows
/// refuse with their line.
pub fn reader<R: std::io::Read + Send + 'static>(
    raw: R,
    head: &[u8],
    asked: Option<Charset>,
) -> Box<dyn std::io::Read + Send> {
    let utf16_bom = matches!(head, [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]);
    let asked = asked.map(|c| c.0).filter(|e| *e != encoding_rs::UTF_8);
    if !utf16_bom && asked.is_none() {
        return Box::new(std::io::BufReader::with_capacity(1 << 16, raw));
    }
    Box::new(
        encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(asked)
            .bom_override(true)
            .strip_bom(true)
            .build(raw),
    )
}

/// The separator of a delimited export, read from its header: the most
/// frequent of comma, semicolon (Excel in German, French and other locales
/// whose decimal mark is a comma) and tab (Excel's "Unicode Text"), counted
/// outside quotes; a comma when none appears.
pub fn delimiter(header: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                c.1 += 1;
            }
        }
    }
    // Ties go to the comma, the first listed.
    counts
        .iter()
        .fold((b',', 0), |best, &c| if c.1 > best.1 { c } else { best })
        .0
}

/// The separator in words, for the report.
pub fn delimiter_name(d: u8) -> &'static str {
    match d {
        b';' => "semicolon",
        b'\t' => "tab",
        _ => "comma",
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_separator_is_read_from_the_header() {
        assert_eq!(delimiter("name,email,phone"), b',');
        assert_eq!(delimiter("Name;E-Mail;Telefon"), b';');
        assert_eq!(delimiter("Name\tE-Mail\tTelefon"), b'\t');
        // A comma inside a quoted header cell does not count.
        assert_eq!(delimiter("\"Name, full\";E-Mail;Tel"), b';');
        assert_eq!(delimiter("email"), b',');
    }

    #[test]
    fn a_bom_decides_the_charset() {
        let mut utf16: Vec<u8> = vec![0xFF, 0xFE];
        for u in "Name\tE-Mail\r\nJürgen\tj@x.example\r\n".encode_utf16() {
            utf16.extend(u.to_le_bytes());
        }
        let d = decoded("f.txt", &utf16, None).unwrap();
        assert_eq!(d.encoding, "UTF-16LE (BOM)");
        assert!(d.text.contains("Jürgen"));
    }

    #[test]
    fn windows_1252_is_read_only_when_asked_and_otherwise_refused_with_its_line() {
        let bytes = b"name,email\nRen\xe9e \x80,r@x.example\n";
        let e = decoded("f.csv", bytes, None).err().unwrap();
        assert_eq!(e.line, Some(2));
        assert!(e.why.contains("--encoding windows-1252"), "{e}");
        let d = decoded("f.csv", bytes, Some("windows-1252".parse().unwrap())).unwrap();
        assert!(d.text.contains("Renée €"));
        assert_eq!(d.encoding, "windows-1252");
    }
}
