//! The privacy mailbox as staff have it: an mbox (a Google Takeout export),
//! a Maildir (what `mbsync`, `fetchmail` or `getmail` leave on a server), a
//! folder of `.eml` files or one `.eml`. Each message is parsed by
//! `mail-parser` (MIME, RFC 2047 encoded words, quoted-printable, base64,
//! every charset `encoding_rs` knows, HTML turned into text) and read by the
//! domain's phrase table (`domain::request_words`).
//!
//! Like an export, the mailbox is the officer's file, read where the officer
//! is; nothing of it is written anywhere. Memory stays bounded: messages are
//! read one at a time, and only the requests and replies keep their text.

use crate::domain::request_words::{PhraseTable, Reading, Sender};
use crate::domain::{Channel, NewCase, Requester, Settings, Subject};
use chrono::{DateTime, FixedOffset, NaiveDate};
use mail_parser::MimeHeaders;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The body text kept of a message: a request is read by a person, never a
/// book; longer text is cut and says so.
pub const MAX_BODY: usize = 64 << 10;

/// Where a message is: its file, and for an mbox its place in it (0-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locator {
    pub file: PathBuf,
    pub index: usize,
}

/// A person as a header names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub address: String,
}

impl Party {
    /// "Name <address>" (or the one there is), inert: the sender's words
    /// never reach a terminal as codes.
    pub fn shown(&self) -> String {
        use crate::domain::text::inert;
        match (self.name.is_empty(), self.address.is_empty()) {
            (false, false) => format!("{} <{}>", inert(&self.name), inert(&self.address)),
            (true, _) => format!("<{}>", inert(&self.address)),
            (false, true) => inert(&self.name).into_owned(),
        }
    }

    /// The name, or the address when there is none, inert: one column.
    pub fn short(&self) -> String {
        let s = if self.name.is_empty() {
            &self.address
        } else {
            &self.name
        };
        crate::domain::text::inert(s).into_owned()
    }
}

/// The day a message was received as a list shows it.
pub fn day_shown(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string())
        .unwrap_or_else(|| "no date   ".into())
}

/// One inbound message, as the desk reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// The Message-ID without its angle brackets; for a message without one,
    /// `sha256:` and 32 hex digits of its sender, date, subject and text.
    pub message_id: String,
    /// What makes it this message (id, sender, date, subject): a second
    /// message reusing the id is another message.
    pub digest: String,
    /// The Date header: when the sender's machine says it was written.
    pub date: Option<DateTime<FixedOffset>>,
    /// When it reached the mailbox, where the mailbox says: the topmost
    /// Received header (the organisation's own server), the mbox's `From `
    /// line, a Maildir file's delivery time.
    pub arrived: Option<DateTime<chrono::Utc>>,
    /// The day the organisation received it, in its time zone: the day it
    /// arrived, else its Date's (none with neither).
    pub received: Option<NaiveDate>,
    /// Said when the Date and the arrival are days apart (a clock wrong, or
    /// a date made up): the day it arrived counts.
    pub date_note: Option<String>,
    pub from: Party,
    pub reply_to: Option<Party>,
    /// Who the request is from: Reply-To for a website form's notification
    /// (sent by a form, a no-reply address or the organisation's own
    /// domain), else From.
    pub person: Party,
    pub subject: String,
    /// The decoded text (empty for a message that is neither request nor
    /// reply: it is not kept).
    pub body: String,
    pub reading: Reading,
    pub at: Locator,
}

impl Mail {
    pub fn person(&self) -> &Party {
        &self.person
    }

    /// Why this message is not taken as a new request without staff saying
    /// which rights it asks for: a reply about a case (it belongs there),
    /// or a message that does not read as a request. `None` for a request.
    pub fn not_a_request(&self) -> Option<String> {
        match &self.reading {
            Reading::Request { .. } => None,
            Reading::Reply { case } => Some(format!(
                "this message is a reply about {case}, not a new request: read it with that case"
            )),
            Reading::Other { why } => {
                Some(format!("this message does not read as a request ({why})"))
            }
        }
    }
}

/// Whether an address is a machine's that sends for someone else: a
/// website form or a no-reply sender. Only then is Reply-To the person:
/// anyone else's Reply-To is only where they want answers, not who they
/// are. (A domain is no sign: a DPO on gmail.com would make every gmail
/// sender a form.)
fn sends_for_others(address: &str) -> bool {
    let address = address.to_ascii_lowercase();
    let (local, _) = address.split_once('@').unwrap_or((&address, ""));
    const MACHINES: [&str; 12] = [
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "wordpress",
        "forms",
        "form",
        "notifications",
        "notification",
        "webmaster",
        "website",
        "mailer",
    ];
    MACHINES.contains(&local) || local.contains("noreply") || local.contains("no-reply")
}

impl Mail {
    /// The intake this message makes, for staff to confirm (the desk's
    /// form, the shell's `case open --from-message`): by e-mail, received on
    /// the organisation's day of its Date, from the person (Reply-To for a
    /// form), asking for the rights its words name, and the message kept on
    /// the case so it is never opened twice. A message with no readable Date
    /// is dated `undated` (today): staff see it in the form, the shell says so.
    pub fn intake(&self, undated: NaiveDate) -> NewCase {
        let person = self.person();
        let name = if person.name.trim().is_empty() {
            person.address.clone()
        } else {
            person.name.clone()
        };
        NewCase {
            rights: match &self.reading {
                Reading::Request { rights, .. } => rights.clone(),
                _ => Vec::new(),
            },
            channel: Channel::Email,
            received: self.received.unwrap_or(undated),
            requester: Requester::subject(),
            child: false,
            subject: Subject {
                name,
                emails: vec![person.address.clone()]
                    .into_iter()
                    .filter(|a| !a.is_empty())
                    .collect(),
                phones: Vec::new(),
            },
            records: Vec::new(),
            message: Some(crate::domain::case::MessageRef {
                id: self.message_id.clone(),
                digest: self.digest.clone(),
            }),
        }
    }
}

/// A message that could not be read: left out, and said with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub at: Locator,
    pub why: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {why}", .path.display())]
    NotAMailbox { path: PathBuf, why: String },
    /// The message cannot be told (one id on two messages): refused, as a
    /// rule refuses.
    #[error("{}: {why}", .path.display())]
    Ambiguous { path: PathBuf, why: String },
}

/// What kind of mailbox a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Mbox,
    Maildir,
    EmlFolder,
    Eml,
}

pub fn shape_of(path: &Path) -> Result<Shape, InboxError> {
    let io = |source| InboxError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        if path.join("cur").is_dir() && path.join("new").is_dir() {
            return Ok(Shape::Maildir);
        }
        return Ok(Shape::EmlFolder);
    }
    if !meta.is_file() {
        return Err(InboxError::NotAMailbox {
            path: path.to_path_buf(),
            why: "not a file or a folder (a FIFO or a device is never read)".into(),
        });
    }
    let mut head = [0u8; 5];
    let n =
        std::io::Read::read(&mut std::fs::File::open(path).map_err(io)?, &mut head).map_err(io)?;
    Ok(if &head[..n] == b"From " {
        Shape::Mbox
    } else {
        Shape::Eml
    })
}

/// The regular files of a folder, by name; anything else (a link, a FIFO,
/// a folder) is passed over, so a planted FIFO cannot hold the desk up.
fn files_in(
    dir: &Path,
    want: impl Fn(&Path) -> bool,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<PathBuf>, InboxError> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|source| InboxError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in entries.flatten() {
        let p = e.path();
        if !want(&p) {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_file() => out.push(p),
            Ok(t) if t.is_dir() => {}
            _ => skipped.push(Skipped {
                at: Locator { file: p, index: 0 },
                why: "not a plain file (a link, FIFO or device is never read)".into(),
            }),
        }
    }
    out.sort();
    Ok(out)
}

/// A Maildir file's delivery time: its name starts with the seconds.
fn delivered(p: &Path) -> Option<DateTime<chrono::Utc>> {
    let name = p.file_name()?.to_str()?;
    let secs: i64 = name.split('.').next()?.parse().ok()?;
    plausible(secs)
}

/// A time a mailbox gives, when it is one (1990 to 2100).
fn plausible(secs: i64) -> Option<DateTime<chrono::Utc>> {
    (631_152_000..4_102_444_800)
        .contains(&secs)
        .then(|| DateTime::from_timestamp(secs, 0))
        .flatten()
}

/// What takes each raw message: its bytes, where it is, when it arrived.
type RawSink<'a> = dyn FnMut(&[u8], Locator, Option<DateTime<chrono::Utc>>) + 'a;

/// Every message of a mailbox as raw bytes, with where it is and when the
/// mailbox says it arrived; `skipped` gets what is not a plain file.
fn each_raw(
    path: &Path,
    skipped: &mut Vec<Skipped>,
    each: &mut RawSink<'_>,
) -> Result<(), InboxError> {
    let read_file = |p: &Path| {
        std::fs::read(p).map_err(|source| InboxError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    match shape_of(path)? {
        Shape::Mbox => {
            let f = std::fs::File::open(path).map_err(|source| InboxError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let reader = std::io::BufReader::new(f);
            for (index, m) in mail_parser::mailbox::mbox::MessageIterator::new(reader).enumerate() {
                let m = m.map_err(|source| InboxError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                let at = Locator {
                    file: path.to_path_buf(),
                    index,
                };
                each(m.contents(), at, plausible(m.internal_date() as i64));
            }
        }
        Shape::Maildir => {
            for sub in ["new", "cur"] {
                for p in files_in(&path.join(sub), |_| true, skipped)? {
                    let when = delivered(&p);
                    each(&read_file(&p)?, Locator { file: p, index: 0 }, when);
                }
            }
        }
        Shape::EmlFolder => {
            let eml = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
            let files = files_in(path, eml, skipped)?;
            if files.is_empty() && skipped.is_empty() {
                return Err(InboxError::NotAMailbox {
                    path: path.to_path_buf(),
                    why: "no .eml files here, and not a Maildir (no cur/ and new/)".into(),
                });
            }
            for p in files {
                each(&read_file(&p)?, Locator { file: p, index: 0 }, None);
            }
        }
        Shape::Eml => each(
            &read_file(path)?,
            Locator {
                file: path.to_path_buf(),
                index: 0,
            },
            None,
        ),
    }
    Ok(())
}

/// Reads a mailbox, handing each inbound message to `each` as it is read
/// (the text of all but requests and replies dropped at once); returns what
/// could not be read.
pub fn read(
    path: &Path,
    table: &PhraseTable,
    settings: &Settings,
    each: &mut dyn FnMut(Mail),
) -> Result<Vec<Skipped>, InboxError> {
    let mut skipped = Vec::new();
    let mut bad = Vec::new();
    each_raw(path, &mut skipped, &mut |bytes, at, when| match read_one(
        bytes, &at, when, table, settings,
    ) {
        Ok((_, true)) => {}
        Ok((mut m, false)) => {
            if matches!(m.reading, Reading::Other { .. }) {
                m.body = String::new();
            }
            each(m)
        }
        Err(why) => bad.push(Skipped { at, why }),
    })?;
    skipped.extend(bad);
    Ok(skipped)
}

/// The message at `at`, read again (to show it, or to open a case), if it
/// is still the message with `digest`. A mailbox can change under the desk
/// (a client compacts an mbox, a Maildir file moves): then the same message
/// is looked for by its digest, and never another taken in its place.
pub fn message_at(
    at: &Locator,
    digest: &str,
    table: &PhraseTable,
    settings: &Settings,
) -> Result<Mail, InboxError> {
    let mut here = None;
    let mut moved = None;
    let mut skipped = Vec::new();
    // A Maildir message moves between `new/` and `cur/` as it is read (and
    // its name gains flags): then the Maildir is searched. Any other file
    // is read where it is, or is gone.
    let maildir = at
        .file
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == "new" || n == "cur"))
        .and_then(Path::parent)
        .filter(|m| shape_of(m).is_ok_and(|s| s == Shape::Maildir));
    let source = match maildir {
        Some(m) if !at.file.exists() => m.to_path_buf(),
        _ => at.file.clone(),
    };
    each_raw(&source, &mut skipped, &mut |bytes, loc, when| {
        if here.is_some() {
            return;
        }
        let Ok((m, _)) = read_one(bytes, &loc, when, table, settings) else {
            return;
        };
        if m.digest == digest {
            if loc == *at {
                here = Some(m);
            } else if moved.is_none() {
                moved = Some(m);
            }
        }
    })?;
    here.or(moved).ok_or_else(|| InboxError::NotAMailbox {
        path: at.file.clone(),
        why: "the mailbox changed since it was read and no longer holds this message: read it again (r)".into(),
    })
}

/// The message with this Message-ID in a mailbox. Two different messages
/// with one id (a forged id, or a client's bug) are refused by name: the
/// officer saves the one meant as its own `.eml` and opens that.
pub fn find(
    path: &Path,
    message_id: &str,
    table: &PhraseTable,
    settings: &Settings,
) -> Result<Mail, InboxError> {
    let want = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let mut hits: Vec<Mail> = Vec::new();
    let mut sent = false;
    let mut skipped = Vec::new();
    each_raw(path, &mut skipped, &mut |bytes, at, when| {
        if let Ok((m, by_owner)) = read_one(bytes, &at, when, table, settings) {
            if m.message_id == want {
                if by_owner {
                    sent = true;
                } else if !hits.iter().any(|h| h.digest == m.digest) {
                    hits.push(m);
                }
            }
        }
    })?;
    let why = |why: String| InboxError::NotAMailbox {
        path: path.to_path_buf(),
        why,
    };
    match hits.len() {
        1 => Ok(hits.remove(0)),
        0 if sent => Err(why(format!(
            "<{want}> is a message the mailbox's owner sent (Takeout's \"Sent\" label), not a request that came in"
        ))),
        0 => Err(why(format!("no message with Message-ID <{want}>"))),
        n => Err(InboxError::Ambiguous {
            path: path.to_path_buf(),
            why: format!(
            "{n} different messages carry Message-ID <{want}> ({}): a forged or reused id; save the one meant as its own .eml file and open it from that",
            hits.iter()
                .map(|m| format!(
                    "from {} on {}",
                    crate::domain::text::inert(&m.from.address),
                    m.date.map(|d| d.to_rfc2822()).unwrap_or_else(|| "no date".into())
                ))
                .collect::<Vec<_>>()
                .join("; ")
            ),
        }),
    }
}

fn party(a: Option<&mail_parser::Address>) -> Option<Party> {
    let first = a?.first()?;
    Some(Party {
        name: first.name().unwrap_or_default().trim().to_string(),
        address: first.address().unwrap_or_default().trim().to_string(),
    })
}

fn sender_of(m: &mail_parser::Message, from: &Party) -> Sender {
    let text = |h: &str| {
        m.header_raw(h)
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default()
    };
    let auto = text("Auto-Submitted");
    let precedence = text("Precedence");
    let ctype = m
        .content_type()
        .map(|c| {
            format!(
                "{}/{}",
                c.ctype().to_ascii_lowercase(),
                c.subtype().unwrap_or_default().to_ascii_lowercase()
            )
        })
        .unwrap_or_default();
    let local = from
        .address
        .split('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    Sender {
        auto_submitted: (!auto.is_empty() && auto != "no")
            || m.header_raw("X-Autoreply").is_some()
            || m.header_raw("X-Autorespond").is_some(),
        bulk: ["bulk", "list", "junk", "auto_reply"].contains(&precedence.as_str())
            || m.header_raw("List-Id").is_some()
            || m.header_raw("List-Unsubscribe").is_some(),
        bounce: ctype == "multipart/report" || local == "mailer-daemon" || local == "postmaster",
    }
}

/// One message, and whether the mailbox's owner sent it (Takeout's "Sent"
/// label): only inbound mail is a request.
fn read_one(
    bytes: &[u8],
    at: &Locator,
    arrived_hint: Option<DateTime<chrono::Utc>>,
    table: &PhraseTable,
    settings: &Settings,
) -> Result<(Mail, bool), String> {
    use sha2::Digest;
    let m = mail_parser::MessageParser::default()
        .parse(bytes)
        .ok_or("not a message: no headers")?;
    if m.from().is_none() && m.subject().is_none() && m.message_id().is_none() {
        return Err("not a message: no From, Subject or Message-ID".into());
    }
    let from = party(m.from()).unwrap_or_default();
    let reply_to = party(m.reply_to());
    let subject = m.subject().unwrap_or_default().to_string();
    let mut body = m.body_text(0).map(|b| b.into_owned()).unwrap_or_default();
    if body.len() > MAX_BODY {
        let mut cut = MAX_BODY;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
        body.push_str("\n[… the rest of this message is not shown]");
    }
    let date = m
        .date()
        .and_then(|d| DateTime::parse_from_rfc3339(&d.to_rfc3339()).ok());
    // When it arrived: first what the mailbox itself recorded (the mbox's
    // `From ` line, a Maildir file's delivery time), then the topmost
    // Received line (the last server's, on top; every line below it the
    // sender may have written), then nothing.
    let arrived = arrived_hint.or_else(|| {
        m.received_all()
            .next()
            .and_then(|r| r.date.as_ref())
            .and_then(|d| plausible(d.to_timestamp()))
    });
    let stamp = date.map(|d| d.to_rfc3339()).unwrap_or_default();
    let message_id = match m.message_id() {
        Some(id) if !id.trim().is_empty() => id.trim().to_string(),
        // No id: one made of what the message says, not of its bytes (a
        // mail client's flags and labels change those).
        _ => {
            let mut h = sha2::Sha256::new();
            for part in [&from.address, &stamp, &subject, &body] {
                h.update(part.as_bytes());
                h.update([0]);
            }
            format!("sha256:{}", &hex::encode(h.finalize())[..32])
        }
    };
    let digest = {
        let mut h = sha2::Sha256::new();
        for part in [
            &message_id,
            &from.address.to_ascii_lowercase(),
            &stamp,
            &subject,
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    };
    let day = |t: DateTime<chrono::Utc>| settings.day_at(t);
    let received = arrived
        .map(day)
        .or(date.map(|d| day(d.with_timezone(&chrono::Utc))));
    let date_note = match (date, arrived) {
        (Some(d), Some(a)) if (d.with_timezone(&chrono::Utc) - a).num_hours().abs() > 36 => {
            Some(format!(
                "its Date says {}, but it arrived on {}: the day it arrived counts",
                d.format("%-d %b %Y"),
                day(a).format("%-d %b %Y")
            ))
        }
        _ => None,
    };
    let person = match &reply_to {
        Some(r) if !r.address.is_empty() && sends_for_others(&from.address) => r.clone(),
        _ => from.clone(),
    };
    let sender = sender_of(&m, &from);
    let reading = table.read(&sender, &subject, &body);
    let sent = m
        .header_raw("X-Gmail-Labels")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .split(',')
        .any(|l| l.trim() == "sent");
    let mail = Mail {
        message_id,
        digest,
        date,
        arrived,
        received,
        date_note,
        from,
        reply_to,
        person,
        subject,
        body,
        reading,
        at: at.clone(),
    };
    Ok((mail, sent))
}
