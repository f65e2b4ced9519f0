//! The access response package: a password-protected PDF (AES-256, PDF 2.0
//! security handler) and, for portability, JSON and CSV in an AES-256 zip.
//! The password lives only in zeroizing memory and is never stored or logged.

use crate::domain::record::SourceRecord;
use crate::domain::response::Report;
use std::collections::BTreeMap;
use std::path::Path;
use zeroize::Zeroizing;

/// A password for a response package. Its memory is wiped when dropped.
pub struct Password(Zeroizing<String>);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Shortest password the desk accepts for a package.
pub const MIN_PASSWORD: usize = 10;

impl Password {
    /// Checks a typed password (the desk's form).
    pub fn new(text: Zeroizing<String>) -> Result<Password, String> {
        let n = text.chars().count();
        if n < MIN_PASSWORD {
            return Err(format!(
                "the password must be at least {MIN_PASSWORD} characters (it has {n})"
            ));
        }
        if text.chars().any(char::is_control) {
            return Err("the password holds a control character".into());
        }
        Ok(Password(text))
    }

    /// Reads the first line of a file (the shell's `--password-file`).
    pub fn from_file(path: &Path) -> Result<Password, String> {
        let bytes =
            Zeroizing::new(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?);
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| format!("{}: the password is not UTF-8 text", path.display()))?;
        let line = text.lines().next().unwrap_or("");
        Password::new(Zeroizing::new(line.to_string()))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn random_bytes(n: usize) -> std::io::Result<Zeroizing<Vec<u8>>> {
    use std::io::Read;
    let mut v = Zeroizing::new(vec![0u8; n]);
    std::fs::File::open("/dev/urandom")?.read_exact(&mut v)?;
    Ok(v)
}

/// Breaks text into lines no wider than `room` (as `measure` counts it) at
/// spaces, keeping the text's leading indent; a word wider than a line (an
/// address, a hash) is cut into pieces.
fn wrap(text: &str, room: f32, measure: &dyn Fn(&str) -> f32) -> Vec<String> {
    let indent: String = text.chars().take_while(|c| *c == ' ').collect();
    let room = (room - measure(&indent)).max(measure("M"));
    let mut pieces: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let mut piece = String::new();
        for c in word.chars() {
            piece.push(c);
            if measure(&piece) > room && piece.chars().count() > 1 {
                piece.pop();
                pieces.push(std::mem::take(&mut piece));
                piece.push(c);
            }
        }
        pieces.push(piece);
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for p in pieces {
        let joined = if line.is_empty() {
            p.clone()
        } else {
            format!("{line} {p}")
        };
        if !line.is_empty() && measure(&joined) > room {
            lines.push(format!("{indent}{line}"));
            line = p;
        } else {
            line = joined;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines
}

/// Lays the report out on A4 pages in the shipped Unicode font (every name
/// as stored, extractable as such) and encrypts it with AES-256 when a
/// password is given (the access package; a letter to print goes without).
pub fn write_pdf(report: &Report, password: Option<&Password>, path: &Path) -> std::io::Result<()> {
    use super::pdf::Font;
    use lopdf::content::{Content, Operation};
    use lopdf::{dictionary, Document, Object, Stream};
    let io = |e: lopdf::Error| std::io::Error::other(e.to_string());
    let (mut regular, mut bold) = (Font::regular(), Font::bold());
    // Text from outside never drives the page: control characters are shown.
    let safe = |s: &str| crate::domain::text::inert(s).into_owned();
    // The width between the margins, at 10 pt.
    const ROOM: f32 = 595.0 - 2.0 * 50.0;

    // (text, bold) lines, wrapped by the width the font gives them.
    let mut lines: Vec<(String, bool)> = Vec::new();
    for l in wrap(&safe(&report.title), ROOM, &|t| bold.width(t, 10.0)) {
        lines.push((l, true));
    }
    lines.push((String::new(), false));
    for s in &report.sections {
        for l in wrap(&safe(&s.heading), ROOM, &|t| bold.width(t, 10.0)) {
            lines.push((l, true));
        }
        for text in &s.lines {
            for l in wrap(&safe(text), ROOM, &|t| regular.width(t, 10.0)) {
                lines.push((l, false));
            }
        }
        lines.push((String::new(), false));
    }

    let mut doc = Document::with_version("2.0");
    let pages_id = doc.new_object_id();
    const PER_PAGE: usize = 58;
    let chunks: Vec<&[(String, bool)]> = lines.chunks(PER_PAGE).collect();
    let total = chunks.len();
    let mut kids = Vec::new();
    for (n, chunk) in chunks.into_iter().enumerate() {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("TL", vec![13.into()]),
        ];
        ops.push(Operation::new("Td", vec![50.into(), 792.into()]));
        for (text, is_bold) in chunk {
            ops.push(Operation::new(
                "Tf",
                vec![if *is_bold { "F2" } else { "F1" }.into(), 10.into()],
            ));
            let font = if *is_bold { &mut bold } else { &mut regular };
            ops.push(Operation::new(
                "Tj",
                vec![Object::String(
                    font.encode(text),
                    lopdf::StringFormat::Hexadecimal,
                )],
            ));
            ops.push(Operation::new("T*", vec![]));
        }
        ops.push(Operation::new("ET", vec![]));
        ops.push(Operation::new("BT", vec![]));
        ops.push(Operation::new("Tf", vec!["F1".into(), 8.into()]));
        ops.push(Operation::new("Td", vec![50.into(), 30.into()]));
        ops.push(Operation::new(
            "Tj",
            vec![Object::String(
                regular.encode(&format!("page {} of {total}", n + 1)),
                lopdf::StringFormat::Hexadecimal,
            )],
        ));
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops }.encode().map_err(io)?;
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        kids.push(Object::from(doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        })));
    }
    // The fonts go in last: they hold only the characters the pages use.
    let (f1, f2) = (regular.embed(&mut doc)?, bold.embed(&mut doc)?);
    let resources = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => f1, "F2" => f2 },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => total as i64,
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    // A PDF 2.0 file needs an ID for its encryption dictionary.
    let id = random_bytes(16)?;
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(id.to_vec(), lopdf::StringFormat::Hexadecimal),
            Object::String(id.to_vec(), lopdf::StringFormat::Hexadecimal),
        ]),
    );

    let Some(password) = password else {
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes)?;
        return crate::service::paths::write_private(path, &bytes);
    };
    let file_key = random_bytes(32)?;
    let owner = Zeroizing::new(crate::domain::pseudonym::hex(&random_bytes(24)?));
    let filters = std::collections::BTreeMap::from([(
        b"StdCF".to_vec(),
        std::sync::Arc::new(lopdf::encryption::crypt_filters::Aes256CryptFilter)
            as std::sync::Arc<dyn lopdf::encryption::crypt_filters::CryptFilter>,
    )]);
    let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V5 {
        encrypt_metadata: true,
        crypt_filters: filters,
        file_encryption_key: &file_key,
        stream_filter: b"StdCF".to_vec(),
        string_filter: b"StdCF".to_vec(),
        owner_password: &owner,
        user_password: password.expose(),
        // It is the subject's own data: print it well, copy from it, and let
        // assistive technology read it; the user password guards it.
        permissions: lopdf::Permissions::PRINTABLE
            | lopdf::Permissions::PRINTABLE_IN_HIGH_QUALITY
            | lopdf::Permissions::COPYABLE
            | lopdf::Permissions::COPYABLE_FOR_ACCESSIBILITY,
    })
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    doc.encrypt(&state).map_err(io)?;
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes)?;
    crate::service::paths::write_private(path, &bytes)
}

pub use crate::domain::text::spreadsheet_safe;

/// The portability set: `data.json` (every record, every field as exported)
/// and `data.csv` (source, record, field, value), each an AES-256 zip entry.
pub fn write_portability_zip(
    case_id: &str,
    found: &BTreeMap<String, Vec<SourceRecord>>,
    password: &Password,
    path: &Path,
) -> std::io::Result<()> {
    let records: Vec<serde_json::Value> = found
        .values()
        .flatten()
        .map(|r| {
            serde_json::json!({
                "source": r.source,
                "record": r.key,
                "format": r.format,
                "fields": r.raw.iter().map(|(k, v)| serde_json::json!({"name": k, "value": v})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let json = serde_json::to_vec_pretty(&serde_json::json!({
        "request": case_id,
        "records": records,
    }))
    .map_err(std::io::Error::other)?;
    let mut csv_out = csv::Writer::from_writer(Vec::new());
    csv_out.write_record(["source", "record", "field", "value"])?;
    for r in found.values().flatten() {
        for (k, v) in &r.raw {
            csv_out.write_record([
                spreadsheet_safe(&r.source),
                spreadsheet_safe(&r.key),
                spreadsheet_safe(k),
                spreadsheet_safe(v),
            ])?;
        }
    }
    let csv_bytes = csv_out
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .with_aes_encryption(zip::AesMode::Aes256, password.expose());
    for (name, bytes) in [("data.json", &json), ("data.csv", &csv_bytes)] {
        zip.start_file(name, opts).map_err(std::io::Error::other)?;
        std::io::Write::write_all(&mut zip, bytes)?;
    }
    let bytes = zip.finish().map_err(std::io::Error::other)?.into_inner();
    crate::service::paths::write_private(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_passwords_are_refused_and_never_printed() {
        assert!(Password::new(Zeroizing::new("short".into())).is_err());
        let p = Password::new(Zeroizing::new("correct horse battery".into())).unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("+353 1"), "'+353 1");
        assert_eq!(spreadsheet_safe("Ana"), "Ana");
    }

    proptest! {
        #[test]
        fn wrapping_keeps_every_word_and_the_width(words in proptest::collection::vec("[a-z]{1,30}", 0..40), width in 10usize..60) {
            let text = words.join(" ");
            let count = |t: &str| t.chars().count() as f32;
            let lines = wrap(&text, width as f32, &count);
            for l in &lines {
                prop_assert!(l.chars().count() <= width, "{l:?}");
            }
            let joined: String = lines.concat().split_whitespace().collect::<Vec<_>>().concat();
            prop_assert_eq!(joined, words.concat());
        }
    }
}
