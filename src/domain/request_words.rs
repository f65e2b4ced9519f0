//! Which messages in the privacy mailbox look like rights requests: words,
//! not magic. A table of phrases per language and right
//! (`data/request-phrases.toml`, extended by the organisation's own
//! `request-phrases.toml` in the data directory) is matched against a
//! message's subject and body, both folded as the lookup folds names (case,
//! accents, ß → ss), so "Löschung", "loschung" and "LOESCHUNG" are one
//! spelling when the table lists "loeschung" and "löschung".
//!
//! The rules, in order:
//! 1. a message sent by a machine (an auto-reply, a bounce, a mailing list or
//!    newsletter) is never a request;
//! 2. a message that names a case (`DSR-2026-0042`) is about that case: a
//!    reply, shown under it, never a new request;
//! 3. a message whose text holds a right's phrase asks for that right. A
//!    phrase with a digit in it ("art. 15") counts only beside one of the
//!    language's context words ("dsgvo", "personal data"): article numbers
//!    are everywhere in contracts and invoices.
//!
//! Quoted lines ("> …") are left out: a reply quoting the desk's own letter
//! would otherwise ask for everything the letter names.

use super::{CaseId, Right};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The shipped table.
pub const SHIPPED: &str = include_str!("../../data/request-phrases.toml");

/// Phrases of one language, folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Language {
    rights: Vec<(Right, Vec<String>)>,
    context: Vec<String>,
}

/// The phrase table: language code → its phrases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhraseTable {
    languages: BTreeMap<String, Language>,
}

/// A mistake in a phrase table, named by file, line and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {why}", .line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct PhraseError {
    pub file: String,
    pub line: Option<usize>,
    pub why: String,
}

fn right_named(name: &str) -> Option<Right> {
    match name {
        "withdraw-consent" => Some(Right::WithdrawConsent),
        "objection-legitimate-interests" => Some(Right::ObjectionLegitimate),
        other => Right::ALL.iter().copied().find(|r| r.as_str() == other),
    }
}

fn norm(s: &str) -> String {
    let folded = super::fold::folded(&s.replace(['\u{2019}', '\u{2018}', '`'], "'"));
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl PhraseTable {
    /// Reads a table; `label` names it in errors.
    pub fn parse(label: &str, text: &str) -> Result<PhraseTable, PhraseError> {
        let mut table = PhraseTable::default();
        table.extend(label, text)?;
        Ok(table)
    }

    /// The shipped table, then the organisation's own on top (its phrases
    /// are added to the shipped ones, its languages beside them).
    pub fn shipped_and(own: Option<(&str, &str)>) -> Result<PhraseTable, PhraseError> {
        let mut table = PhraseTable::parse("data/request-phrases.toml", SHIPPED)?;
        if let Some((label, text)) = own {
            table.extend(label, text)?;
        }
        Ok(table)
    }

    fn extend(&mut self, label: &str, text: &str) -> Result<(), PhraseError> {
        let err = |line: Option<usize>, why: String| PhraseError {
            file: label.to_string(),
            line,
            why,
        };
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            err(line, e.message().to_string())
        })?;
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(needle))
                .map(|i| i + 1)
        };
        for (lang, fields) in doc {
            let fields = fields.as_table().ok_or_else(|| {
                err(
                    line_of(&lang),
                    format!("'{lang}' must be a table: [{lang}] with a list of phrases per right"),
                )
            })?;
            let entry = self.languages.entry(lang.clone()).or_default();
            for (field, value) in fields {
                let at = || line_of(&format!("{field} ")).or_else(|| line_of(field));
                let phrases: Vec<String> = value
                    .as_array()
                    .ok_or_else(|| err(at(), format!("[{lang}] {field}: must be a list of phrases")))?
                    .iter()
                    .map(|p| {
                        p.as_str()
                            .map(norm)
                            .filter(|p| p.chars().filter(|c| c.is_alphanumeric()).count() >= 3)
                            .ok_or_else(|| {
                                err(
                                    at(),
                                    format!(
                                        "[{lang}] {field}: every phrase must be text with at least 3 letters"
                                    ),
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?;
                if field == "context" {
                    entry.context.extend(phrases);
                    continue;
                }
                let right = right_named(field).ok_or_else(|| {
                    err(
                        at(),
                        format!(
                            "[{lang}] {field}: not a right (access, rectification, erasure, restriction, portability, objection, withdraw-consent) nor context"
                        ),
                    )
                })?;
                match entry.rights.iter_mut().find(|(r, _)| *r == right) {
                    Some((_, list)) => list.extend(phrases),
                    None => entry.rights.push((right, phrases)),
                }
            }
        }
        Ok(())
    }

    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.languages.keys().map(String::as_str)
    }
}

/// Headers that say a machine sent the message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// `Auto-Submitted` other than `no`, `X-Autoreply`, `X-Autorespond`.
    pub auto_submitted: bool,
    /// `Precedence: bulk | list | junk | auto_reply`, `List-Id` or `List-Unsubscribe`.
    pub bulk: bool,
    /// A delivery report (`multipart/report`, `MAILER-DAEMON`, `postmaster`).
    pub bounce: bool,
}

/// What a message is, for the privacy desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reading {
    /// Looks like a request for these rights; `why` holds the words that
    /// matched, as folded ("auskunftsersuch", "dsgvo").
    Request {
        rights: Vec<Right>,
        why: Vec<String>,
        languages: Vec<String>,
    },
    /// Names a case: shown under it.
    Reply { case: CaseId },
    /// Sent by a machine, or no phrase matched.
    Other { why: String },
}

/// The case ids a text names (`DSR-2026-0042`, any case).
pub fn case_refs(text: &str) -> Vec<CaseId> {
    let mut out = Vec::new();
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut from = 0;
    while let Some(i) = upper[from..].find("DSR-") {
        let at = from + i;
        let rest = &bytes[at + 4..];
        let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
        let y = digits(rest);
        if y == 4 && rest.get(4) == Some(&b'-') {
            let n = digits(&rest[5..]);
            if (1..=9).contains(&n) {
                let year = upper[at + 4..at + 8].parse().ok();
                let number = upper[at + 9..at + 9 + n].parse().ok();
                if let (Some(year), Some(number)) = (year, number) {
                    let id = CaseId::new(year, number);
                    if !out.contains(&id) {
                        out.push(id);
                    }
                }
            }
        }
        from = at + 4;
    }
    out
}

/// Whether `phrase` starts a word in `text` (a stem may run on: "auskunftsersuch"
/// is found in "auskunftsersuchen").
fn holds(text: &str, phrase: &str) -> bool {
    let mut from = 0;
    while let Some(i) = text[from..].find(phrase) {
        let at = from + i;
        let starts_word = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        if starts_word {
            return true;
        }
        from = at + phrase.len().max(1);
        while !text.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// The text to match: subject and body, quoted lines left out, folded.
pub fn matchable(subject: &str, body: &str) -> String {
    let unquoted: Vec<&str> = body
        .lines()
        .filter(|l| !l.trim_start().starts_with('>'))
        .collect();
    norm(&format!("{subject}\n{}", unquoted.join("\n")))
}

impl PhraseTable {
    /// Reads one message by the rules at the top of this file.
    pub fn read(&self, sender: &Sender, subject: &str, body: &str) -> Reading {
        if sender.bounce {
            return Reading::Other {
                why: "a delivery report".into(),
            };
        }
        if sender.auto_submitted {
            return Reading::Other {
                why: "an automatic reply".into(),
            };
        }
        if sender.bulk {
            return Reading::Other {
                why: "a mailing list or newsletter".into(),
            };
        }
        let text = matchable(subject, body);
        if let Some(case) = case_refs(&text).first() {
            return Reading::Reply { case: *case };
        }
        let mut rights: Vec<Right> = Vec::new();
        let mut why: Vec<String> = Vec::new();
        let mut languages: Vec<String> = Vec::new();
        for (code, lang) in &self.languages {
            let context: Vec<&String> = lang.context.iter().filter(|c| holds(&text, c)).collect();
            let mut hit = false;
            for (right, phrases) in &lang.rights {
                for p in phrases {
                    let needs_context = p.chars().any(|c| c.is_ascii_digit());
                    if holds(&text, p) && (!needs_context || !context.is_empty()) {
                        if !rights.contains(right) {
                            rights.push(*right);
                        }
                        if !why.contains(p) {
                            why.push(p.clone());
                        }
                        hit = true;
                    }
                }
            }
            if hit {
                languages.push(code.clone());
                for c in context {
                    if !why.contains(c) {
                        why.push(c.clone());
                    }
                }
            }
        }
        if rights.is_empty() {
            return Reading::Other {
                why: "no request phrase".into(),
            };
        }
        rights.sort();
        Reading::Request {
            rights,
            why,
            languages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PhraseTable {
        PhraseTable::shipped_and(None).unwrap()
    }

    fn rights(r: Reading) -> Vec<Right> {
        match r {
            Reading::Request { rights, .. } => rights,
            other => panic!("not a request: {other:?}"),
        }
    }

    #[test]
    fn folded_phrases_match_any_spelling_at_a_word_start() {
        let t = shipped();
        let s = Sender::default();
        assert_eq!(
            rights(t.read(&s, "Auskunftsersuchen nach Art. 15 DSGVO", "")),
            [Right::Access]
        );
        assert_eq!(
            rights(t.read(&s, "", "zadost o pristup k osobnim udajum")),
            [Right::Access]
        );
        assert_eq!(
            rights(t.read(&s, "Hello", "Please stop sending me marketing emails.")),
            [Right::Objection]
        );
        // "art. 15" alone, in a contract: no context word, no request.
        assert!(matches!(
            t.read(&s, "Contract", "as set out in art. 15 of the agreement"),
            Reading::Other { .. }
        ));
    }

    #[test]
    fn a_named_case_is_a_reply_and_machines_never_ask() {
        let t = shipped();
        let s = Sender::default();
        assert_eq!(
            t.read(
                &s,
                "Re: Your request DSR-2026-0042",
                "I want a copy of my data"
            ),
            Reading::Reply {
                case: CaseId::new(2026, 42)
            }
        );
        let auto = Sender {
            auto_submitted: true,
            ..Sender::default()
        };
        assert!(matches!(
            t.read(&auto, "Out of office", "delete my data"),
            Reading::Other { .. }
        ));
        // A quoted letter asks for nothing.
        assert!(matches!(
            t.read(
                &s,
                "Thanks",
                "Thank you!\n> your right to erasure (Art. 17 GDPR)"
            ),
            Reading::Other { .. }
        ));
    }

    #[test]
    fn a_bad_table_is_named_by_file_and_line() {
        let e = PhraseTable::parse(
            "own.toml",
            "[de]\naccess = [\"auskunft\"]\nerase = [\"x y z\"]\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(
            e.to_string()
                .starts_with("own.toml line 3: [de] erase: not a right"),
            "{e}"
        );
        let e = PhraseTable::parse("own.toml", "[de]\naccess = [\"ab\"]\n").unwrap_err();
        assert!(e.to_string().contains("at least 3 letters"), "{e}");
        let e = PhraseTable::parse("own.toml", "[de\n").unwrap_err();
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn case_refs_are_found_in_any_case_and_only_whole() {
        assert_eq!(
            case_refs("re: dsr-2026-0007 and DSR-2026-0042, DSR-26-1"),
            [CaseId::new(2026, 7), CaseId::new(2026, 42)]
        );
    }
}
