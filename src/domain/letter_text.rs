//! The sentences of the letters to the subject, as data: the shipped ones
//! (`data/letters.toml`), with the organisation's own wording over them
//! (`letters.toml` in its data directory).
//!
//! A sentence's `{placeholders}` carry the facts a letter must state (a date,
//! the case, an amount, the authority), so an organisation's sentence keeps
//! exactly the placeholders of the one it replaces: rephrased or translated,
//! never silent about a fact or inventing one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

/// The shipped file, as `rightsdesk letters show` prints it.
pub const SHIPPED: &str = include_str!("../../data/letters.toml");

/// The largest letters file read (the shipped one is under 10 KiB).
const MAX_OWN_BYTES: usize = 256 << 10;

/// Every sentence by `section.key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterTexts(Arc<BTreeMap<String, String>>);

/// A mistake in a letters file, named by file, line and sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {field}: {why}", .line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct LetterTextError {
    pub file: String,
    pub line: Option<usize>,
    pub field: String,
    pub why: String,
}

type Sections = BTreeMap<String, BTreeMap<String, toml::Spanned<String>>>;

/// The placeholders of a sentence, or why its braces do not read.
fn placeholders(text: &str) -> Result<BTreeSet<&str>, String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("a '}' without its '{'".into());
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "a '{' without its '}'".to_string())?;
        let name = &after[..close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(format!("'{{{name}}}' is no placeholder (a-z and _ only)"));
        }
        out.insert(name);
        rest = &after[close + 1..];
    }
    Ok(out)
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl LetterTexts {
    /// The shipped sentences.
    pub fn shipped() -> LetterTexts {
        static SHIPPED_TEXTS: OnceLock<LetterTexts> = OnceLock::new();
        SHIPPED_TEXTS
            .get_or_init(|| {
                let sections: Sections = toml::from_str(SHIPPED).expect("data/letters.toml reads");
                let mut all = BTreeMap::new();
                for (section, keys) in sections {
                    for (key, text) in keys {
                        let text = text.into_inner();
                        placeholders(&text).expect("shipped placeholders read");
                        all.insert(format!("{section}.{key}"), text);
                    }
                }
                LetterTexts(Arc::new(all))
            })
            .clone()
    }

    /// The shipped sentences with an organisation's own over them; `file`
    /// names `text` in errors.
    pub fn shipped_and(file: &str, text: &str) -> Result<LetterTexts, LetterTextError> {
        let err = |line: Option<usize>, field: &str, why: String| LetterTextError {
            file: file.to_string(),
            line,
            field: field.to_string(),
            why,
        };
        // A letters file is a few kilobytes; a huge one is a mistake, and
        // every start would read it.
        if text.len() > MAX_OWN_BYTES {
            return Err(err(
                None,
                "letters",
                format!(
                    "is {} KiB; a letters file is at most {} KiB",
                    text.len() / 1024,
                    MAX_OWN_BYTES / 1024
                ),
            ));
        }
        let sections: Sections = toml::from_str(text).map_err(|e| {
            err(
                e.span().map(|s| line_at(text, s.start)),
                "letters",
                e.message().to_string(),
            )
        })?;
        let shipped = LetterTexts::shipped();
        let mut all = (*shipped.0).clone();
        for (section, keys) in sections {
            for (key, own) in keys {
                let field = format!("{section}.{key}");
                let line = Some(line_at(text, own.span().start));
                let Some(theirs) = shipped.0.get(&field) else {
                    return Err(err(
                        line,
                        &field,
                        "no letter has this sentence (see `rightsdesk letters show`)".into(),
                    ));
                };
                let own = own.into_inner();
                if let Some(c) = own.chars().find(|c| crate::domain::text::is_unsafe(*c)) {
                    return Err(err(
                        line,
                        &field,
                        format!("holds the control character U+{:04X}", c as u32),
                    ));
                }
                if own.trim().is_empty() {
                    return Err(err(line, &field, "is empty".into()));
                }
                let have = placeholders(&own).map_err(|why| err(line, &field, why))?;
                let want = placeholders(theirs).expect("shipped placeholders read");
                if let Some(extra) = have.difference(&want).next() {
                    return Err(err(
                        line,
                        &field,
                        format!(
                            "{{{extra}}} is not one of this sentence's facts ({})",
                            listed(&want)
                        ),
                    ));
                }
                if let Some(missing) = want.difference(&have).next() {
                    return Err(err(
                        line,
                        &field,
                        format!("{{{missing}}} is missing: the letter must state it"),
                    ));
                }
                all.insert(field, own);
            }
        }
        Ok(LetterTexts(Arc::new(all)))
    }

    /// The sentence `key` with its placeholders filled in.
    pub fn fill(&self, key: &str, facts: &[(&str, &str)]) -> String {
        let text = self
            .0
            .get(key)
            .unwrap_or_else(|| panic!("no sentence {key} in data/letters.toml"));
        let mut out = String::with_capacity(text.len() + 64);
        let mut rest = text.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}').expect("checked when read");
            let name = &after[..close];
            let value = facts
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .unwrap_or_else(|| panic!("{key}: no value for {{{name}}}"));
            out.push_str(value);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The sentence `key` as it stands (no placeholders).
    pub fn text(&self, key: &str) -> String {
        self.fill(key, &[])
    }
}

impl Default for LetterTexts {
    fn default() -> Self {
        LetterTexts::shipped()
    }
}

fn listed(set: &BTreeSet<&str>) -> String {
    if set.is_empty() {
        return "it has none".into();
    }
    set.iter()
        .map(|p| format!("{{{p}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organisations_sentence_replaces_the_shipped_one_and_keeps_its_facts() {
        let own = "[extension]\nanswer_by = \"Wir antworten bis zum {due}.\"\n";
        let t = LetterTexts::shipped_and("letters.toml", own).unwrap();
        assert_eq!(
            t.fill("extension.answer_by", &[("due", "3 March 2027")]),
            "Wir antworten bis zum 3 March 2027."
        );
        // The rest keeps the shipped wording.
        assert_eq!(
            t.text("clarification.reply"),
            LetterTexts::shipped().text("clarification.reply")
        );
    }

    /// The letters name their sentences by key and give each its facts by
    /// name; a key or fact that does not match the shipped file would stop
    /// a letter only when that branch runs. This reads the letters' code:
    /// each sentence named is shipped, every placeholder it has is given
    /// after it, and every shipped sentence is used.
    #[test]
    fn every_sentence_the_letters_name_is_shipped_and_given_its_facts() {
        let shipped = LetterTexts::shipped();
        let code = [include_str!("notice.rs"), include_str!("response.rs")].concat();
        let sections: BTreeSet<&str> = shipped
            .0
            .keys()
            .filter_map(|k| k.split('.').next())
            .collect();
        // Every quoted "section.key" of a shipped section, where it stands.
        let mut named: Vec<(usize, &str)> = Vec::new();
        let mut at = 0;
        while let Some(open) = code[at..].find('"').map(|i| at + i) {
            let Some(close) = code[open + 1..].find('"').map(|i| open + 1 + i) else {
                break;
            };
            let lit = &code[open + 1..close];
            if let Some((section, key)) = lit.split_once('.') {
                let word = |w: &str| {
                    !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                };
                if sections.contains(section) && word(key) {
                    named.push((open, lit));
                }
            }
            at = close + 1;
        }
        assert!(named.len() > 50, "the scan found the keys: {named:?}");
        let mut used = BTreeSet::new();
        for (i, (pos, key)) in named.iter().enumerate() {
            let text = shipped
                .0
                .get(*key)
                .unwrap_or_else(|| panic!("{key} is named in the letters but not shipped"));
            used.insert(key.to_string());
            // A sentence said for someone else is named by its stem.
            let another = format!("{key}_for_another");
            if let Some(t) = shipped.0.get(&another) {
                used.insert(another.clone());
                assert!(
                    placeholders(t).unwrap().iter().all(|p| *p == "whose"),
                    "{another} may only have {{whose}}"
                );
            }
            // Up to the next sentence named in a call: a key chosen by a
            // `match` is given its facts where the call takes it.
            let in_call = |p: usize| {
                let before = code[..p].trim_end();
                before.ends_with("fill(") || before.ends_with("text(")
            };
            let end = named[i + 1..]
                .iter()
                .find(|(p, _)| in_call(*p))
                .map_or(code.len(), |(p, _)| *p);
            // rustfmt may put a fact's name on a line of its own.
            let given: String = code[*pos..end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            for p in placeholders(text).unwrap() {
                assert!(
                    given.contains(&format!("(\"{p}\",")),
                    "{key} has {{{p}}}, which its letter does not give: {given}"
                );
            }
        }
        let unused: Vec<&String> = shipped.0.keys().filter(|k| !used.contains(*k)).collect();
        assert!(unused.is_empty(), "shipped but never used: {unused:?}");
    }

    #[test]
    fn a_bad_letters_file_is_named_by_file_line_and_sentence() {
        let bad = |text: &str| LetterTexts::shipped_and("letters.toml", text).unwrap_err();
        let e = bad("[extension]\n\nanswer_by = \"We will answer soon.\"\n");
        assert_eq!((e.line, e.field.as_str()), (Some(3), "extension.answer_by"));
        assert!(e.why.contains("{due} is missing"), "{e}");
        let e = bad("[extension]\nanswer_by = \"By {due}, {name}.\"\n");
        assert!(e.why.contains("{name} is not one of"), "{e}");
        let e = bad("[extension]\nanswer_by = \"By {due.\"\n");
        assert!(e.why.contains("without its '}'"), "{e}");
        let e = bad("[extension]\nanswr_by = \"By {due}.\"\n");
        assert_eq!((e.line, e.field.as_str()), (Some(2), "extension.answr_by"));
        let e = bad("[extension]\nanswer_by = \"By {due}.\u{202e}\"\n");
        assert!(e.why.contains("U+202E"), "{e}");
        let e = bad("[extension\n");
        assert_eq!((e.file.as_str(), e.line), ("letters.toml", Some(1)));
        assert!(
            e.to_string().starts_with("letters.toml line 1: letters:"),
            "{e}"
        );
    }
}
