//! CSV exports: one profile per system, naming the columns it reads.

use super::dates::parse_date;
use super::text::{unguard, MAX_CELL};
use super::{Format, ImportError};
use crate::domain::audit::sha256_hex;
use crate::domain::record::SourceRecord;

/// Which columns hold what, for one export format. Names match case-insensitively.
struct Profile {
    format: Format,
    /// Columns whose presence identifies the export.
    signature: &'static [&'static str],
    /// Columns joined with `-` to make the record key (else a hash of the row).
    key: &'static [&'static str],
    full_name: &'static [&'static str],
    first_name: &'static [&'static str],
    last_name: &'static [&'static str],
    emails: &'static [&'static str],
    phones: &'static [&'static str],
    company: &'static [&'static str],
    date: &'static [&'static str],
}

const PROFILES: &[Profile] = &[
    Profile {
        format: Format::Hubspot,
        signature: &["Record ID", "Email"],
        key: &["Record ID"],
        full_name: &[],
        first_name: &["First Name"],
        last_name: &["Last Name"],
        emails: &["Email", "Additional email addresses"],
        phones: &["Phone Number", "Mobile Phone Number"],
        company: &["Company Name", "Associated Company"],
        date: &["Last Activity Date", "Create Date"],
    },
    Profile {
        format: Format::Eventbrite,
        signature: &["Order #", "Attendee #"],
        key: &["Order #", "Attendee #"],
        full_name: &[],
        first_name: &["First Name"],
        last_name: &["Last Name"],
        emails: &["Email"],
        phones: &["Cell Phone", "Work Phone", "Home Phone"],
        company: &["Company"],
        date: &["Order Date"],
    },
    Profile {
        format: Format::Mailchimp,
        signature: &["Email Address", "LEID"],
        key: &["LEID"],
        full_name: &[],
        first_name: &["First Name"],
        last_name: &["Last Name"],
        emails: &["Email Address"],
        phones: &["Phone Number"],
        company: &["Company"],
        date: &["LAST_CHANGED", "OPTIN_TIME"],
    },
    Profile {
        format: Format::Flamingo,
        signature: &["your-email"],
        key: &[],
        full_name: &["your-name"],
        first_name: &[],
        last_name: &[],
        emails: &["your-email", "From"],
        phones: &["your-phone", "your-tel", "tel"],
        company: &["your-company"],
        date: &["Date"],
    },
    Profile {
        format: Format::Wpforms,
        signature: &["Entry ID"],
        key: &["Entry ID"],
        full_name: &["Name"],
        first_name: &["Name (First)"],
        last_name: &["Name (Last)"],
        emails: &["Email", "Email Address"],
        phones: &["Phone", "Phone Number"],
        company: &["Company", "Company Name"],
        date: &["Entry Date", "Date"],
    },
];

/// A generic column map: `name=Full Name,email=E-mail,phone=Tel,key=ID,company=Org,date=Updated`.
/// `email` and `phone` may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    pub key: Option<String>,
    pub name: Vec<String>,
    /// A first and a last name column, joined into one name.
    pub first: Option<String>,
    pub last: Option<String>,
    pub email: Vec<String>,
    pub phone: Vec<String>,
    pub company: Option<String>,
    pub date: Option<String>,
}

impl std::str::FromStr for ColumnMap {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut m = ColumnMap::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not field=Column"))?;
            let v = v.trim().to_string();
            match k.trim() {
                "key" => m.key = Some(v),
                "name" => m.name.push(v),
                "first" => m.first = Some(v),
                "last" => m.last = Some(v),
                "email" => m.email.push(v),
                "phone" => m.phone.push(v),
                "company" => m.company = Some(v),
                "date" => m.date = Some(v),
                other => {
                    return Err(format!(
                    "unknown field '{other}' (key, name, first, last, email, phone, company, date)"
                ))
                }
            }
        }
        if m.name.is_empty() && m.first.is_none() && m.email.is_empty() && m.phone.is_empty() {
            return Err("map at least one of name, email, phone".into());
        }
        Ok(m)
    }
}

impl std::fmt::Display for ColumnMap {
    /// As `--map` takes it, so the map used can be given back and changed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        let mut one = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        };
        one("key", &self.key);
        one("first", &self.first);
        one("last", &self.last);
        one("company", &self.company);
        one("date", &self.date);
        for (k, vs) in [
            ("name", &self.name),
            ("email", &self.email),
            ("phone", &self.phone),
        ] {
            for v in vs {
                parts.push(format!("{k}={v}"));
            }
        }
        f.write_str(&parts.join(","))
    }
}

/// The usual names of each field in the header of a plain export, in
/// English and the main EU languages, compared folded (case, accents,
/// spaces, `-`, `_` and `.` ignored).
const USUAL: &[(&str, &[&str])] = &[
    (
        "name",
        &[
            "name",
            "fullname",
            "contactname",
            "nomcomplet",
            "nombrecompleto",
            "nomecompleto",
            "imieinazwisko",
            "naam",
            "navn",
            "namn",
            "jmenoaprijmeni",
            "vollername",
        ],
    ),
    (
        "first",
        &[
            "firstname",
            "givenname",
            "forename",
            "vorname",
            "prenom",
            "nombre",
            "nome",
            "imie",
            "voornaam",
            "fornavn",
            "fornamn",
            "jmeno",
        ],
    ),
    (
        "last",
        &[
            "lastname",
            "surname",
            "familyname",
            "nachname",
            "nom",
            "apellido",
            "apellidos",
            "cognome",
            "nazwisko",
            "achternaam",
            "efternavn",
            "efternamn",
            "prijmeni",
        ],
    ),
    (
        "email",
        &[
            "email",
            "emailaddress",
            "mail",
            "emailadresse",
            "courriel",
            "adresseemail",
            "adressemail",
            "correo",
            "correoelectronico",
            "adrese-mail",
            "adresemail",
            "emailadres",
            "epost",
            "epostadress",
        ],
    ),
    (
        "phone",
        &[
            "phone",
            "phonenumber",
            "tel",
            "telephone",
            "telefon",
            "telefonnummer",
            "telefoonnummer",
            "mobiel",
            "numerodetelephone",
            "numerotelephone",
            "telefono",
            "mobile",
            "mobilephone",
            "mobil",
            "cell",
            "cellphone",
            "handy",
            "portable",
            "movil",
            "cellulare",
            "telefonkomorkowy",
            "gsm",
        ],
    ),
    (
        "company",
        &[
            "company",
            "organisation",
            "organization",
            "firma",
            "societe",
            "entreprise",
            "empresa",
            "azienda",
            "unternehmen",
            "bedrijf",
            "foretag",
            "companyname",
        ],
    ),
    (
        "key",
        &[
            "id",
            "key",
            "recordid",
            "contactid",
            "kontaktid",
            "sourcekey",
            "customerid",
            "kundennummer",
        ],
    ),
    (
        "date",
        &[
            "date",
            "lastactivity",
            "lastactivitydate",
            "updated",
            "updatedat",
            "modified",
            "lastmodified",
            "datum",
            "fecha",
            "geandert",
            "aktualisiert",
        ],
    ),
];

fn folded_header(h: &str) -> String {
    crate::domain::fold::folded(h)
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
        .collect()
}

/// A column map read from a plain CSV's header by the usual names, when it
/// names at least a person (a name, or an e-mail or phone); `None` when it
/// cannot tell (then `--map` is asked for).
pub fn guess_map(first_line: &str, sep: u8) -> Option<ColumnMap> {
    let headers = split_header(first_line, sep);
    let mut m = ColumnMap::default();
    for h in &headers {
        let f = folded_header(h);
        let Some((field, _)) = USUAL.iter().find(|(_, names)| names.contains(&f.as_str())) else {
            continue;
        };
        let h = h.clone();
        match *field {
            "name" => m.name.push(h),
            "first" if m.first.is_none() => m.first = Some(h),
            "last" if m.last.is_none() => m.last = Some(h),
            "email" => m.email.push(h),
            "phone" => m.phone.push(h),
            "company" if m.company.is_none() => m.company = Some(h),
            "key" if m.key.is_none() => m.key = Some(h),
            "date" if m.date.is_none() => m.date = Some(h),
            _ => {}
        }
    }
    // A last name alone is no person; nor is a company.
    if m.first.is_none() {
        m.last = None;
    }
    let person =
        !m.name.is_empty() || m.first.is_some() || !m.email.is_empty() || !m.phone.is_empty();
    person.then_some(m)
}

/// The header's columns a map leaves unread (said with the map, so a
/// column of identifiers the usual names missed is not dropped unseen).
pub fn unread_columns(first_line: &str, sep: u8, map: &ColumnMap) -> Vec<String> {
    let read: Vec<&String> = map
        .name
        .iter()
        .chain(&map.email)
        .chain(&map.phone)
        .chain(map.first.iter())
        .chain(map.last.iter())
        .chain(map.company.iter())
        .chain(map.key.iter())
        .chain(map.date.iter())
        .collect();
    split_header(first_line, sep)
        .into_iter()
        .filter(|h| !h.is_empty() && !read.iter().any(|r| r.eq_ignore_ascii_case(h)))
        .collect()
}

fn split_header(first: &str, sep: u8) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(sep)
        .from_reader(first.as_bytes());
    r.records()
        .next()
        .and_then(Result::ok)
        .map(|rec| rec.iter().map(|h| h.trim().to_string()).collect())
        .unwrap_or_default()
}

pub fn detect(first: &str, sep: u8) -> Option<Format> {
    let headers = split_header(first, sep);
    PROFILES
        .iter()
        .find(|p| {
            p.signature
                .iter()
                .all(|s| headers.iter().any(|h| h.eq_ignore_ascii_case(s)))
        })
        .map(|p| p.format)
}

/// Column positions of a profile (or a map) in this file's header.
struct Columns {
    key: Vec<usize>,
    full_name: Vec<usize>,
    first_name: Vec<usize>,
    last_name: Vec<usize>,
    emails: Vec<usize>,
    phones: Vec<usize>,
    company: Vec<usize>,
    date: Vec<usize>,
    unsub: Option<usize>,
    clean: Option<usize>,
}

fn find(headers: &[String], names: &[&str]) -> Vec<usize> {
    names
        .iter()
        .filter_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n)))
        .collect()
}

fn find_owned(file: &str, headers: &[String], names: &[String]) -> Result<Vec<usize>, ImportError> {
    names
        .iter()
        .map(|n| {
            headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(n))
                .ok_or_else(|| {
                    ImportError::at(file, Some(1), Some(n), "no such column in the header")
                })
        })
        .collect()
}

fn columns(
    file: &str,
    headers: &[String],
    format: Format,
    map: Option<&ColumnMap>,
) -> Result<Columns, ImportError> {
    if let Some(m) = map {
        return Ok(Columns {
            key: find_owned(file, headers, &m.key.iter().cloned().collect::<Vec<_>>())?,
            full_name: find_owned(file, headers, &m.name)?,
            first_name: find_owned(file, headers, &m.first.iter().cloned().collect::<Vec<_>>())?,
            last_name: find_owned(file, headers, &m.last.iter().cloned().collect::<Vec<_>>())?,
            emails: find_owned(file, headers, &m.email)?,
            phones: find_owned(file, headers, &m.phone)?,
            company: find_owned(
                file,
                headers,
                &m.company.iter().cloned().collect::<Vec<_>>(),
            )?,
            date: find_owned(file, headers, &m.date.iter().cloned().collect::<Vec<_>>())?,
            // A marketing tool's own status columns count whatever map is
            // given: an unsubscribe is never lost to a --map.
            unsub: find(headers, &["UNSUB_TIME"]).first().copied(),
            clean: find(headers, &["CLEAN_TIME"]).first().copied(),
        });
    }
    let p = PROFILES
        .iter()
        .find(|p| p.format == format)
        .ok_or_else(|| {
            ImportError::at(
                file,
                None,
                None,
                format!("{format} needs a column map (--map)"),
            )
        })?;
    for s in p.signature {
        if find(headers, &[s]).is_empty() {
            return Err(ImportError::at(
                file,
                Some(1),
                Some(s),
                format!("a {format} export has this column; the header lacks it"),
            ));
        }
    }
    Ok(Columns {
        key: find(headers, p.key),
        full_name: find(headers, p.full_name),
        first_name: find(headers, p.first_name),
        last_name: find(headers, p.last_name),
        emails: find(headers, p.emails),
        phones: find(headers, p.phones),
        company: find(headers, p.company),
        date: find(headers, p.date),
        unsub: find(headers, &["UNSUB_TIME"]).first().copied(),
        clean: find(headers, &["CLEAN_TIME"]).first().copied(),
    })
}

/// "Name <e@x>" → ("Name", "e@x"); a bare address → ("", address).
pub fn split_mailbox(s: &str) -> (String, String) {
    match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => (
            s[..a].trim().trim_matches('"').trim().to_string(),
            s[a + 1..b].trim().to_string(),
        ),
        _ => (String::new(), s.trim().to_string()),
    }
}

/// Parses a whole delimited export held in memory (tests, small files):
/// the rows of `Rows` collected.
pub fn parse(
    file: &str,
    text: &str,
    sep: u8,
    source: &str,
    format: Format,
    map: Option<&ColumnMap>,
) -> Result<Vec<SourceRecord>, ImportError> {
    Rows::new(file, text.as_bytes(), sep, source, format, map)?.collect()
}

/// Watches the bytes a CSV reader reads: the line of a quote still open,
/// so a cell never closed is named at the end without holding the file.
pub struct QuoteWatch<R> {
    inner: R,
    sep: u8,
    line: u64,
    open_at: Option<u64>,
    /// The byte before this one: a quote opens a cell only at its start
    /// (after the separator or a line break); one inside an unquoted cell,
    /// as in O"Brien, is a letter.
    prev: Option<u8>,
    just_closed: bool,
    /// The line of the last quote leaving an odd count: when the rows go
    /// wrong, a stray quote is the likely cause and is named.
    odd_at: Option<u64>,
}

impl<R: std::io::Read> std::io::Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            let closed = self.open_at.is_some() && b == b'"';
            if b == b'"' {
                self.odd_at = match self.odd_at {
                    Some(_) => None,
                    None => Some(self.line),
                };
            }
            match b {
                b'\n' => self.line += 1,
                b'"' if closed => self.open_at = None,
                // At a cell's start, or right after a closing quote (a
                // doubled quote inside a quoted cell): the quote opens.
                b'"' if self.just_closed
                    || matches!(self.prev, None | Some(b'\n' | b'\r'))
                    || self.prev == Some(self.sep) =>
                {
                    self.open_at = Some(self.line)
                }
                _ => {}
            }
            self.just_closed = closed;
            self.prev = Some(b);
        }
        Ok(n)
    }
}

/// The rows of a delimited export, read as they come: one record at a time
/// from any reader, so a file of any size is never held whole. The first
/// refusal (with file, line and field) ends the rows.
pub struct Rows<R: std::io::Read> {
    file: String,
    reader: csv::Reader<QuoteWatch<R>>,
    headers: Vec<String>,
    cols: Columns,
    format: Format,
    source: String,
    rows: usize,
    record: csv::ByteRecord,
    done: bool,
}

impl<R: std::io::Read> Rows<R> {
    /// Reads the header and finds the columns; the rows follow on demand.
    pub fn new(
        file: &str,
        reader: R,
        sep: u8,
        source: &str,
        format: Format,
        map: Option<&ColumnMap>,
    ) -> Result<Rows<R>, ImportError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .delimiter(sep)
            .from_reader(QuoteWatch {
                inner: reader,
                sep,
                line: 1,
                open_at: None,
                prev: None,
                just_closed: false,
                odd_at: None,
            });
        let raw = reader
            .byte_headers()
            .map_err(|e| csv_error(file, &e, &[]))?
            .clone();
        let mut headers = Vec::with_capacity(raw.len());
        for (i, h) in raw.iter().enumerate() {
            let h = utf8(file, 1, None, h)?;
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            };
            headers.push(unguard(h.trim()).to_string());
        }
        if headers.len() == 1 && headers[0].contains('|') {
            return Err(ImportError::at(file, Some(1), None, "the header is separated by pipes: export as comma-, semicolon- or tab-separated text"));
        }
        let cols = columns(file, &headers, format, map)?;
        Ok(Rows {
            file: file.to_string(),
            reader,
            headers,
            cols,
            format,
            source: source.to_string(),
            rows: 0,
            record: csv::ByteRecord::new(),
            done: false,
        })
    }

    fn end(&mut self) -> Option<Result<SourceRecord, ImportError>> {
        self.done = true;
        if let Some(line) = self.reader.get_ref().open_at {
            return Some(Err(ImportError::at(
                &self.file,
                Some(line),
                None,
                "a quoted cell is never closed",
            )));
        }
        (self.rows == 0).then(|| {
            Err(ImportError::at(
                &self.file,
                None,
                None,
                "the file has a header but no rows",
            ))
        })
    }
}

impl<R: std::io::Read> Iterator for Rows<R> {
    type Item = Result<SourceRecord, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return self.end(),
                Err(e) => {
                    self.done = true;
                    // A quote never closed swallows the rest of the file:
                    // say that, not what it did to the row's shape.
                    let w = self.reader.get_ref();
                    if let Some(line) = w.open_at.or(w.odd_at) {
                        return Some(Err(ImportError::at(
                            &self.file,
                            Some(line),
                            None,
                            "a quoted cell is never closed",
                        )));
                    }
                    return Some(Err(csv_error(&self.file, &e, &self.headers)));
                }
                Ok(true) => match record_of(self) {
                    Ok(Some(r)) => {
                        self.rows += 1;
                        return Some(Ok(r));
                    }
                    Ok(None) => continue,
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                },
            }
        }
        None
    }
}

/// A cell's text: UTF-8 (a charset given with `--encoding` is decoded
/// before the reader), else refused with its line and a hint.
fn utf8<'a>(
    file: &str,
    line: u64,
    field: Option<&str>,
    bytes: &'a [u8],
) -> Result<&'a str, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let why = super::text::not_utf8(&bytes[e.valid_up_to()..]);
        ImportError::at(file, Some(line), field, why)
    })?;
    if text.contains('\0') {
        return Err(ImportError::at(
            file,
            Some(line),
            field,
            super::text::NUL_WHY,
        ));
    }
    // A decoder's replacement character: the bytes were not in the charset.
    if text.contains('\u{fffd}') {
        return Err(ImportError::at(
            file,
            Some(line),
            field,
            "holds bytes its charset cannot read (give --encoding with the charset it was saved in)",
        ));
    }
    Ok(text)
}

/// One row as a source record (`None` for an empty row).
fn record_of<R: std::io::Read>(rows: &Rows<R>) -> Result<Option<SourceRecord>, ImportError> {
    let (file, headers, cols, format) = (&rows.file, &rows.headers, &rows.cols, rows.format);
    let rec = &rows.record;
    let line = rec.position().map(|p| p.line()).unwrap_or(0);
    let mut cells: Vec<&str> = Vec::with_capacity(rec.len());
    for (i, c) in rec.iter().enumerate() {
        let field = headers.get(i).map(String::as_str);
        if c.len() > MAX_CELL {
            return Err(ImportError::at(
                file,
                Some(line),
                field,
                format!("the cell is larger than {} KiB", MAX_CELL / 1024),
            ));
        }
        cells.push(unguard(utf8(file, line, field, c)?.trim()));
    }
    if cells.iter().all(|c| c.is_empty()) {
        return Ok(None);
    }
    let get = |idx: &[usize]| -> Vec<String> {
        idx.iter()
            .map(|&i| cells[i])
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut names = get(&cols.full_name);
    let first = get(&cols.first_name).join(" ");
    let last = get(&cols.last_name).join(" ");
    let joined = format!("{first} {last}").trim().to_string();
    if !joined.is_empty() {
        names.insert(0, joined);
    }
    let mut emails = Vec::new();
    for cell in get(&cols.emails) {
        // HubSpot puts several values in one cell separated by ';'.
        for part in cell.split(';') {
            let (name, addr) = split_mailbox(part);
            if !name.is_empty() && names.is_empty() {
                names.push(name);
            }
            if !addr.is_empty() && !emails.contains(&addr) {
                emails.push(addr);
            }
        }
    }
    let phones: Vec<String> = get(&cols.phones)
        .iter()
        .flat_map(|c| c.split(';').map(|p| p.trim().to_string()))
        .filter(|p| !p.is_empty())
        .collect();
    let key = {
        let k = get(&cols.key).join("-");
        if !k.is_empty() {
            k
        } else {
            // No id column (Flamingo): the row itself is the key, so a
            // re-import of the same file updates rather than duplicates.
            sha256_hex(cells.join("\u{1f}").as_bytes())[..24].to_string()
        }
    };
    // A date read outside 1990–2100 was misread or mistyped: said with
    // its line and column rather than stored as year 26.
    let mut last_activity = None;
    for &i in &cols.date {
        // The US tools write month first; any other export is European.
        let day_first = !matches!(
            format,
            Format::Hubspot | Format::Eventbrite | Format::Mailchimp
        );
        match super::dates::checked_date(cells[i], day_first) {
            Ok(Some(d)) if last_activity.is_none() => last_activity = Some(d),
            Ok(_) => {}
            Err(why) => {
                return Err(ImportError::at(
                    file,
                    Some(line),
                    headers.get(i).map(String::as_str),
                    why,
                ))
            }
        }
    }
    let status = if format == Format::Mailchimp {
        let set = |i: Option<usize>| i.is_some_and(|i| !cells[i].is_empty());
        Some(
            if set(cols.unsub) {
                "unsubscribed"
            } else if set(cols.clean) {
                "cleaned"
            } else {
                "subscribed"
            }
            .to_string(),
        )
    } else {
        None
    };
    Ok(Some(SourceRecord {
        source: rows.source.clone(),
        key,
        names,
        emails,
        phones,
        company: get(&cols.company).into_iter().next(),
        last_activity,
        status,
        mentions: vec![],
        raw: headers
            .iter()
            .cloned()
            .zip(cells.iter().map(|c| c.to_string()))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
        format: format.as_str().to_string(),
        line,
    }))
}

fn csv_error(file: &str, e: &csv::Error, headers: &[String]) -> ImportError {
    let line = e.position().map(|p| p.line());
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            let field = if len > expected_len {
                None
            } else {
                headers.get(*len as usize).map(String::as_str)
            };
            ImportError::at(
                file,
                line,
                field,
                format!("the row has {len} cells, the header {expected_len} (a ragged row)"),
            )
        }
        csv::ErrorKind::Utf8 { .. } => ImportError::at(file, line, None, "is not valid UTF-8"),
        _ => ImportError::at(file, line, None, e.to_string()),
    }
}

/// A JSON array of objects with a column map (keys play the columns).
pub fn parse_json(
    file: &str,
    text: &str,
    source: &str,
    map: &ColumnMap,
) -> Result<Vec<SourceRecord>, ImportError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        ImportError::at(
            file,
            Some(e.line() as u64),
            None,
            format!("not valid JSON: {e}"),
        )
    })?;
    let rows = v
        .as_array()
        .ok_or_else(|| ImportError::at(file, Some(1), None, "expected a JSON array of objects"))?;
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let obj = row.as_object().ok_or_else(|| {
            ImportError::at(
                file,
                None,
                None,
                format!("item #{} is not an object", i + 1),
            )
        })?;
        let cell = |k: &str| -> Option<String> {
            obj.get(k).and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let all = |ks: &[String]| -> Vec<String> {
            ks.iter()
                .filter_map(|k| cell(k))
                .filter(|s| !s.is_empty())
                .collect()
        };
        for (k, v) in obj {
            if let serde_json::Value::String(s) = v {
                if s.len() > MAX_CELL {
                    return Err(ImportError::at(
                        file,
                        None,
                        Some(k),
                        format!(
                            "item #{}: the value is larger than {} KiB",
                            i + 1,
                            MAX_CELL / 1024
                        ),
                    ));
                }
            }
        }
        let raw: Vec<(String, String)> = obj
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect();
        let key = map.key.as_deref().and_then(cell).unwrap_or_else(|| {
            sha256_hex(serde_json::to_string(row).unwrap_or_default().as_bytes())[..24].to_string()
        });
        out.push(SourceRecord {
            source: source.to_string(),
            key,
            names: all(&map.name),
            emails: all(&map.email),
            phones: all(&map.phone),
            company: map.company.as_deref().and_then(cell),
            last_activity: map
                .date
                .as_deref()
                .and_then(cell)
                .and_then(|d| parse_date(&d)),
            status: None,
            mentions: vec![],
            raw,
            format: "json".into(),
            line: i as u64 + 1,
        });
    }
    Ok(out)
}
