//! Importers for the real exports of the policy's systems. Each turns a file
//! into source records or refuses it whole with the file, line and field named.

mod csvfmt;
mod dates;
pub mod mbox;
pub mod text;
mod zoom;

use crate::domain::record::SourceRecord;
use std::fmt;

pub use csvfmt::{ColumnMap, Rows};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    pub file: String,
    pub line: Option<u64>,
    pub field: Option<String>,
    pub why: String,
}

impl ImportError {
    pub fn at(
        file: &str,
        line: Option<u64>,
        field: Option<&str>,
        why: impl Into<String>,
    ) -> ImportError {
        ImportError {
            file: file.to_string(),
            line,
            field: field.map(str::to_string),
            why: why.into(),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ", line {l}")?;
        }
        if let Some(fl) = &self.field {
            write!(f, ", field '{}'", crate::domain::text::inert(fl))?;
        }
        write!(f, ": {}", self.why)
    }
}

/// The export formats the desk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Hubspot,
    Eventbrite,
    Mailchimp,
    Flamingo,
    Wpforms,
    Mbox,
    Zoom,
    Csv,
    Json,
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::Hubspot,
        Format::Eventbrite,
        Format::Mailchimp,
        Format::Flamingo,
        Format::Wpforms,
        Format::Mbox,
        Format::Zoom,
        Format::Csv,
        Format::Json,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Hubspot => "hubspot",
            Format::Eventbrite => "eventbrite",
            Format::Mailchimp => "mailchimp",
            Format::Flamingo => "flamingo",
            Format::Wpforms => "wpforms",
            Format::Mbox => "mbox",
            Format::Zoom => "zoom",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

// Travels by its name, as `--format` takes it.
impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let want = s.trim().to_ascii_lowercase();
        let want = if want == "cf7" || want == "contact-form-7" {
            "flamingo".to_string()
        } else {
            want
        };
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == want)
            .ok_or_else(|| {
                format!(
                    "unknown format '{s}' (one of: {})",
                    Format::ALL.map(|f| f.as_str()).join(", ")
                )
            })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the officer asks for an export to be read; what is not given is
/// detected from the content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadAs {
    pub format: Option<Format>,
    /// For csv/json, or to override the map read from a plain CSV's header.
    pub map: Option<ColumnMap>,
    /// The charset of a file with no byte-order mark (default UTF-8).
    pub encoding: Option<text::Charset>,
}

impl ReadAs {
    pub fn format(format: Option<Format>) -> ReadAs {
        ReadAs {
            format,
            ..ReadAs::default()
        }
    }
}

/// Parses a whole export. Nothing is returned unless every row passed.
///
/// `format` is detected from the content when `None`; `Csv` and `Json` need a
/// column map. Records get `source` and the default country code for phones.
pub fn parse(
    file: &str,
    bytes: &[u8],
    source: &str,
    format: Option<Format>,
    map: Option<&ColumnMap>,
) -> Result<(Format, Vec<SourceRecord>), ImportError> {
    let how = ReadAs {
        format,
        map: map.cloned(),
        encoding: None,
    };
    parse_with_skipped(file, bytes, source, &how).map(|p| (p.format, p.records))
}

/// An export read whole, and how it was read (said back to the officer).
#[derive(Debug)]
pub struct Parsed {
    pub format: Format,
    pub records: Vec<SourceRecord>,
    /// Mailbox messages left out because they could not be read.
    pub skipped: Vec<mbox::Skipped>,
    /// The column map read from a plain CSV's header.
    pub columns: Option<ColumnMap>,
    /// The charset the file was read in ("per message" for a mailbox).
    pub encoding: String,
    /// "comma", "semicolon" or "tab" for a delimited export.
    pub delimiter: Option<&'static str>,
}

/// `parse`, with the mailbox messages that could not be read (an mbox is
/// never refused whole for one message; every other format lands whole).
pub fn parse_with_skipped(
    file: &str,
    bytes: &[u8],
    source: &str,
    how: &ReadAs,
) -> Result<Parsed, ImportError> {
    if is_mbox(bytes, how) {
        let (records, skipped) = mbox::parse(file, bytes, source)?;
        return Ok(Parsed {
            format: Format::Mbox,
            records,
            skipped,
            columns: None,
            encoding: "per message".into(),
            delimiter: None,
        });
    }
    let decoded = text::decoded(file, bytes, how.encoding)?;
    let text: &str = &decoded.text;
    let (format, guessed, sep) = reading(file, text, how)?;
    let map = how.map.as_ref().or(guessed.as_ref());
    let (records, delimiter) = match format {
        Format::Mbox => unreachable!("read as bytes above"),
        Format::Zoom => (zoom::parse(file, text, source)?, None),
        Format::Json => {
            let map = map.ok_or_else(|| {
                ImportError::at(
                    file,
                    None,
                    None,
                    "a JSON import needs a column map (--map name=…,email=…)",
                )
            })?;
            (csvfmt::parse_json(file, text, source, map)?, None)
        }
        f => (
            csvfmt::parse(file, text, sep, source, f, map)?,
            Some(text::delimiter_name(sep)),
        ),
    };
    Ok(Parsed {
        format,
        records,
        skipped: Vec::new(),
        columns: guessed,
        encoding: decoded.encoding,
        delimiter,
    })
}

/// How a file would be read, told from its first bytes: what the import
/// form says before anything is imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub format: Format,
    pub encoding: String,
    pub delimiter: Option<&'static str>,
    /// The column map a plain CSV's header gives (as `--map` takes it).
    pub columns: Option<String>,
    /// The separator's byte (a comma when not delimited).
    pub sep: u8,
    /// Columns of a plain CSV's header its map leaves unread.
    pub unread: Vec<String>,
}

impl Sniffed {
    /// "mailchimp · UTF-8 · comma-separated · columns …".
    pub fn words(&self) -> String {
        let mut w = vec![self.format.to_string(), self.encoding.clone()];
        if let Some(d) = self.delimiter {
            w.push(format!("{d}-separated"));
        }
        if let Some(c) = &self.columns {
            w.push(format!("columns {c}"));
        }
        if !self.unread.is_empty() {
            w.push(format!("not read: {}", self.unread.join(", ")));
        }
        w.join(" · ")
    }
}

/// A mailbox holds bodies in every charset: it is read as bytes, and only
/// its headers are decoded (see `mbox::parse`).
fn is_mbox(bytes: &[u8], how: &ReadAs) -> bool {
    how.format == Some(Format::Mbox)
        || (how.format.is_none()
            && bytes
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(bytes)
                .starts_with(b"From "))
}

/// How a text export is to be read: its format, the column map read from a
/// plain CSV's header, and its separator. One rule for the import and for
/// what the desk's form says before it (`sniff`). A plain CSV whose header
/// names its columns by their usual names needs no --map; a one-column
/// list (`email`) is a header too.
fn reading(
    file: &str,
    text: &str,
    how: &ReadAs,
) -> Result<(Format, Option<ColumnMap>, u8), ImportError> {
    let first = text.lines().next().unwrap_or("");
    let sep = text::delimiter(first);
    let guess = || {
        how.map
            .is_none()
            .then(|| csvfmt::guess_map(first, sep))
            .flatten()
    };
    let (format, guessed) = match how.format {
        Some(Format::Csv) => (Format::Csv, guess()),
        Some(f) => (f, None),
        None => match detect(file, text, how.map.is_some()) {
            Ok(f) => (f, None),
            Err(e) => match guess() {
                Some(g) => (Format::Csv, Some(g)),
                None => return Err(e),
            },
        },
    };
    Ok((format, guessed, sep))
}

/// Bytes read to tell a file's format: its header is near the start.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Tells how `head` (the first `SNIFF_BYTES` of a file, or all of it) would
/// be read, by the same rules as the import; refused as the import would
/// refuse it.
pub fn sniff(file: &str, head: &[u8], how: &ReadAs) -> Result<Sniffed, ImportError> {
    if is_mbox(head, how) {
        return Ok(Sniffed {
            format: Format::Mbox,
            encoding: "per message".into(),
            delimiter: None,
            columns: None,
            sep: b',',
            unread: Vec::new(),
        });
    }
    // Whole lines only (and whole UTF-16 units).
    let cut = if head.len() < SNIFF_BYTES {
        head.len()
    } else {
        head.iter()
            .rposition(|&b| b == b'\n')
            .map_or(head.len(), |i| i + 1)
    };
    let cut = if matches!(head, [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]) {
        cut + cut % 2
    } else {
        cut
    }
    .min(head.len());
    let decoded = text::decoded(file, &head[..cut], how.encoding)?;
    let text: &str = &decoded.text;
    let first = text.lines().next().unwrap_or("");
    let (format, columns, sep) = reading(file, text, how)?;
    let delimited = !matches!(format, Format::Zoom | Format::Json | Format::Mbox);
    let unread = columns
        .as_ref()
        .map(|m| csvfmt::unread_columns(first, sep, m))
        .unwrap_or_default();
    Ok(Sniffed {
        unread,
        format,
        encoding: decoded.encoding,
        delimiter: delimited.then(|| text::delimiter_name(sep)),
        columns: columns.map(|m| m.to_string()),
        sep,
    })
}

/// The catalogue source an export of `format` most likely belongs to: the
/// first whose systems name the tool (a Mailchimp audience: the marketing
/// source). `None` for a plain CSV or JSON.
pub fn suggested_source(
    format: Format,
    catalogue: &crate::domain::source::Catalogue,
) -> Option<String> {
    let named = |word: &str| {
        catalogue
            .sources
            .iter()
            .find(|s| s.systems.iter().any(|x| x.to_lowercase().contains(word)))
    };
    let found = match format {
        Format::Hubspot => named("hubspot"),
        Format::Eventbrite => named("eventbrite"),
        Format::Mailchimp => {
            named("mailchimp").or_else(|| catalogue.sources.iter().find(|s| s.marketing))
        }
        Format::Flamingo | Format::Wpforms => named("wordpress"),
        Format::Mbox => named("mailbox"),
        Format::Zoom => named("zoom"),
        Format::Csv | Format::Json => None,
    };
    found.map(|s| s.id.clone())
}

/// Recognises an export by its first line.
pub fn detect(file: &str, text: &str, have_map: bool) -> Result<Format, ImportError> {
    let first = text.lines().next().unwrap_or("");
    if first.starts_with("From ") {
        return Ok(Format::Mbox);
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if trimmed.contains("\"recording_files\"") || trimmed.contains("\"host_email\"") {
            return Ok(Format::Zoom);
        }
        return if have_map {
            Ok(Format::Json)
        } else {
            Err(ImportError::at(
                file,
                Some(1),
                None,
                "JSON that is not a Zoom recordings export: give --format json and --map",
            ))
        };
    }
    let sep = text::delimiter(first);
    if sep == b',' && !first.contains(',') && first.contains('|') {
        return Err(ImportError::at(
            file,
            Some(1),
            None,
            "the header is separated by pipes: export as comma-, semicolon- or tab-separated text",
        ));
    }
    if let Some(f) = csvfmt::detect(first, sep) {
        return Ok(f);
    }
    if have_map {
        return Ok(Format::Csv);
    }
    Err(ImportError::at(
        file,
        Some(1),
        None,
        "the header matches no known export (hubspot, eventbrite, mailchimp, flamingo, wpforms, mbox, zoom); give --format csv with --map",
    ))
}
