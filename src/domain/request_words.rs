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

/// What one phrase of the automaton stands for.
#[derive(Debug, Clone)]
struct Pattern {
    lang: usize,
    /// `None`: a context word.
    right: Option<Right>,
    phrase: String,
    /// A phrase with a digit ("art. 15") counts only beside a context word.
    needs_context: bool,
}

/// The phrase table: language code → its phrases, and one automaton over
/// all of them, so a message is read in one pass whatever the table's size.
#[derive(Debug, Clone, Default)]
pub struct PhraseTable {
    languages: BTreeMap<String, Language>,
    matcher: Option<std::sync::Arc<(aho_corasick::AhoCorasick, Vec<Pattern>)>>,
}

/// The text of a message read for phrases: its first part, where a request
/// says what it is (a long thread or a pasted document is not read to its end).
pub const READ_CHARS: usize = 16 << 10;

/// A mistake in a phrase table, named by file, line and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {why}", .line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct PhraseError {
    pub file: String,
    pub line: Option<usize>,
    pub why: String,
}

const RIGHT_NAMES: [&str; 8] = [
    "access",
    "rectification",
    "erasure",
    "restriction",
    "portability",
    "objection",
    "objection-legitimate-interests",
    "withdraw-consent",
];

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
        table.build();
        Ok(table)
    }

    fn build(&mut self) {
        let mut patterns = Vec::new();
        for (lang, (_, l)) in self.languages.iter().enumerate() {
            for (right, phrases) in &l.rights {
                for p in phrases {
                    patterns.push(Pattern {
                        lang,
                        right: Some(*right),
                        phrase: p.clone(),
                        needs_context: p.chars().any(|c| c.is_ascii_digit()),
                    });
                }
            }
            for c in &l.context {
                patterns.push(Pattern {
                    lang,
                    right: None,
                    phrase: c.clone(),
                    needs_context: false,
                });
            }
        }
        let ac = aho_corasick::AhoCorasick::new(patterns.iter().map(|p| p.phrase.as_str()))
            .expect("phrases of at most a few thousand short strings build");
        self.matcher = Some(std::sync::Arc::new((ac, patterns)));
    }

    /// The shipped table, then the organisation's own on top (its phrases
    /// are added to the shipped ones, its languages beside them).
    pub fn shipped_and(own: Option<(&str, &str)>) -> Result<PhraseTable, PhraseError> {
        let mut table = PhraseTable::default();
        table.extend("data/request-phrases.toml", SHIPPED)?;
        if let Some((label, text)) = own {
            table.extend(label, text)?;
        }
        table.build();
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
            let code_ok =
                (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
            if !code_ok {
                return Err(err(
                    line_of(&format!("[{lang}]")),
                    format!(
                        "[{lang}]: a language is named by its ISO 639 code, e.g. [de], [pl], [sv]"
                    ),
                ));
            }
            let fields = fields.as_table().ok_or_else(|| {
                err(
                    line_of(&lang),
                    format!("'{lang}' must be a table: [{lang}] with a list of phrases per right"),
                )
            })?;
            let entry = self.languages.entry(lang.clone()).or_default();
            for (field, value) in fields {
                let at = || line_of(&format!("{field} ")).or_else(|| line_of(field));
                let right = match field.as_str() {
                    "context" => None,
                    f => Some(right_named(f).ok_or_else(|| {
                        err(
                            at(),
                            format!(
                                "[{lang}] {field}: not a right ({}) nor context",
                                RIGHT_NAMES.join(", ")
                            ),
                        )
                    })?),
                };
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
                let Some(right) = right else {
                    entry.context.extend(phrases);
                    continue;
                };
                match entry.rights.iter_mut().find(|(r, _)| *r == right) {
                    Some((_, list)) => list.extend(phrases),
                    None => entry.rights.push((right, phrases)),
                }
            }
        }
        Ok(())
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

/// The text to match: subject and body, quoted lines left out, folded.
pub fn matchable(subject: &str, body: &str) -> String {
    let mut cut = body.len().min(READ_CHARS);
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    let unquoted: Vec<&str> = body[..cut]
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
        let Some(m) = &self.matcher else {
            return Reading::Other {
                why: "no phrase table".into(),
            };
        };
        let (ac, patterns) = (&m.0, &m.1);
        // Every phrase found at the start of a word, once each.
        let mut found: Vec<usize> = ac
            .find_overlapping_iter(text.as_str())
            .filter(|hit| {
                text[..hit.start()]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric())
            })
            .map(|hit| hit.pattern().as_usize())
            .collect();
        found.sort_unstable();
        found.dedup();
        let codes: Vec<&String> = self.languages.keys().collect();
        let with_context: Vec<usize> = found
            .iter()
            .filter(|&&i| patterns[i].right.is_none())
            .map(|&i| patterns[i].lang)
            .collect();
        let mut hit_langs: Vec<usize> = Vec::new();
        for &i in &found {
            let p = &patterns[i];
            let Some(right) = p.right else { continue };
            if p.needs_context && !with_context.contains(&p.lang) {
                continue;
            }
            if !rights.contains(&right) {
                rights.push(right);
            }
            if !why.contains(&p.phrase) {
                why.push(p.phrase.clone());
            }
            if !hit_langs.contains(&p.lang) {
                hit_langs.push(p.lang);
            }
        }
        hit_langs.sort_unstable();
        for &l in &hit_langs {
            languages.push(codes[l].clone());
            for &i in &found {
                let p = &patterns[i];
                if p.lang == l && p.right.is_none() && !why.contains(&p.phrase) {
                    why.push(p.phrase.clone());
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
        // A misspelt right is named as one, whatever its phrases.
        let e = PhraseTable::parse("own.toml", "[de]\nerasur = [\"x\"]\n").unwrap_err();
        assert!(e.to_string().contains("erasur: not a right"), "{e}");
        assert!(
            e.to_string().contains("objection-legitimate-interests"),
            "{e}"
        );
        let e = PhraseTable::parse("own.toml", "[German]\naccess = [\"auskunft bitte\"]\n")
            .unwrap_err();
        assert!(e.to_string().contains("ISO 639"), "{e}");
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
