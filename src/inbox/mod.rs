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

/// One inbound message, as the desk reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// The Message-ID without its angle brackets; for a message without one,
    /// `sha256:` and the first 32 hex digits of its bytes' digest.
    pub message_id: String,
    pub date: Option<DateTime<FixedOffset>>,
    /// The day the organisation received it, in its time zone (the Date
    /// header's instant; none without a readable Date).
    pub received: Option<NaiveDate>,
    pub from: Party,
    pub reply_to: Option<Party>,
    pub subject: String,
    /// The decoded text (empty for a message that is neither request nor
    /// reply: it is not kept).
    pub body: String,
    pub reading: Reading,
    pub at: Locator,
}

impl Mail {
    /// Who the request is from: Reply-To when it names another address (a
    /// website form's notification is sent by the form), else From.
    pub fn person(&self) -> &Party {
        match &self.reply_to {
            Some(r)
                if !r.address.is_empty() && !r.address.eq_ignore_ascii_case(&self.from.address) =>
            {
                r
            }
            _ => &self.from,
        }
    }
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
            message_id: Some(self.message_id.clone()),
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
fn files_in(dir: &Path, want: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, InboxError> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|source| InboxError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in entries.flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_file()) && want(&p) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Reads a mailbox, handing each inbound message to `each` as it is read;
/// returns what could not be read.
pub fn read(
    path: &Path,
    table: &PhraseTable,
    settings: &Settings,
    each: &mut dyn FnMut(Mail),
) -> Result<Vec<Skipped>, InboxError> {
    let mut skipped = Vec::new();
    let mut one = |bytes: &[u8], at: Locator| match parse(bytes, &at, table, settings) {
        Ok(Some(m)) => each(m),
        Ok(None) => {}
        Err(why) => skipped.push(Skipped { at, why }),
    };
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
                one(
                    m.contents(),
                    Locator {
                        file: path.to_path_buf(),
                        index,
                    },
                );
            }
        }
        Shape::Maildir => {
            for sub in ["new", "cur"] {
                for p in files_in(&path.join(sub), |_| true)? {
                    one(&read_file(&p)?, Locator { file: p, index: 0 });
                }
            }
        }
        Shape::EmlFolder => {
            let eml = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
            let files = files_in(path, eml)?;
            if files.is_empty() {
                return Err(InboxError::NotAMailbox {
                    path: path.to_path_buf(),
                    why: "no .eml files here, and not a Maildir (no cur/ and new/)".into(),
                });
            }
            for p in files {
                one(&read_file(&p)?, Locator { file: p, index: 0 });
            }
        }
        Shape::Eml => one(
            &read_file(path)?,
            Locator {
                file: path.to_path_buf(),
                index: 0,
            },
        ),
    }
    Ok(skipped)
}

/// The message at `at` (read again, for showing it or opening a case).
pub fn message_at(
    at: &Locator,
    table: &PhraseTable,
    settings: &Settings,
) -> Result<Mail, InboxError> {
    let mut found = None;
    let path = &at.file;
    if shape_of(path)? == Shape::Mbox {
        let f = std::fs::File::open(path).map_err(|source| InboxError::Io {
            path: path.clone(),
            source,
        })?;
        let m = mail_parser::mailbox::mbox::MessageIterator::new(std::io::BufReader::new(f))
            .nth(at.index)
            .transpose()
            .map_err(|source| InboxError::Io {
                path: path.clone(),
                source,
            })?;
        if let Some(m) = m {
            found = parse_kept(m.contents(), at, table, settings).ok();
        }
    } else {
        let bytes = std::fs::read(path).map_err(|source| InboxError::Io {
            path: path.clone(),
            source,
        })?;
        found = parse_kept(&bytes, at, table, settings).ok();
    }
    found.ok_or_else(|| InboxError::NotAMailbox {
        path: path.clone(),
        why: format!("no readable message at {}", at.index + 1),
    })
}

/// The message with this Message-ID in a mailbox.
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
    let mut hit = None;
    read(path, table, settings, &mut |m| {
        if hit.is_none() && m.message_id == want {
            hit = Some(m.at);
        }
    })?;
    match hit {
        Some(at) => message_at(&at, table, settings),
        None => Err(InboxError::NotAMailbox {
            path: path.to_path_buf(),
            why: format!("no message with Message-ID <{want}>"),
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

/// Parses one message; `None` for one the mailbox's owner sent (Takeout's
/// "Sent" label): only inbound mail is a request.
fn parse(
    bytes: &[u8],
    at: &Locator,
    table: &PhraseTable,
    settings: &Settings,
) -> Result<Option<Mail>, String> {
    let (mut mail, sent) = read_one(bytes, at, table, settings)?;
    if sent {
        return Ok(None);
    }
    if matches!(mail.reading, Reading::Other { .. }) {
        mail.body = String::new();
    }
    Ok(Some(mail))
}

fn parse_kept(
    bytes: &[u8],
    at: &Locator,
    table: &PhraseTable,
    settings: &Settings,
) -> Result<Mail, String> {
    read_one(bytes, at, table, settings).map(|(m, _)| m)
}

/// One message, and whether the mailbox's owner sent it (Takeout's "Sent"
/// label).
fn read_one(
    bytes: &[u8],
    at: &Locator,
    table: &PhraseTable,
    settings: &Settings,
) -> Result<(Mail, bool), String> {
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
    let message_id = match m.message_id() {
        Some(id) if !id.trim().is_empty() => id.trim().to_string(),
        _ => {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(bytes);
            format!("sha256:{}", &hex::encode(digest)[..32])
        }
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
        received: date.map(|d| settings.day_at(d.with_timezone(&chrono::Utc))),
        date,
        from,
        reply_to,
        subject,
        body,
        reading,
        at: at.clone(),
    };
    Ok((mail, sent))
}
