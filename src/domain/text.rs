//! Making untrusted text inert before it reaches a terminal.
//!
//! Names from web forms, imported cells and notes may carry escape sequences
//! (which can retitle a window, write the clipboard via OSC 52, or move the
//! cursor) and bidi controls (which reorder what staff read). Every face shows
//! such text through [`inert`]: controls become visible caret or `<U+XXXX>` forms.

use std::borrow::Cow;

/// Whether a character must not reach a terminal as itself.
/// "1 record", "2 records": a count with its noun in the right number.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn is_unsafe(c: char) -> bool {
    c.is_control() // C0, DEL and C1 (incl. U+009B CSI, U+009D OSC)
        || matches!(c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' // ALM, LRM, RLM
            | '\u{202A}'..='\u{202E}'            // LRE RLE PDF LRO RLO
            | '\u{2066}'..='\u{2069}'            // LRI RLI FSI PDI
            | '\u{2028}' | '\u{2029}'            // line/paragraph separators
            | '\u{FEFF}')
}

/// The text with every unsafe character shown inert: `ESC` as `^[`, other C0
/// controls in caret notation, DEL as `^?`, and C1 or bidi controls as `<U+202E>`.
pub fn inert(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) < 0x20 {
            out.push('^');
            out.push(char::from(b'@' + c as u8));
        } else if c == '\u{7f}' {
            out.push_str("^?");
        } else {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        }
    }
    Cow::Owned(out)
}

/// At most `n` characters, the last one `…` when cut.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A note appended after a dash, made inert; nothing for an empty note.
pub fn aside(note: &str) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!(" — {}", inert(note))
    }
}

/// Like `inert`, line by line: newlines stay, everything else unsafe is shown.
pub fn inert_lines(s: &str) -> String {
    s.split_inclusive('\n')
        .map(|l| match l.strip_suffix('\n') {
            Some(body) => format!("{}\n", inert(body)),
            None => inert(l).into_owned(),
        })
        .collect()
}

/// A spreadsheet treats a cell starting with = + - @ (or a tab/CR) as a
/// formula: such cells get a leading apostrophe, which spreadsheets show as text.
pub fn spreadsheet_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// A CSV cell written to a file that staff will open: every unsafe character
/// shown inert (line breaks inside a cell stay, the CSV quoting holds them),
/// then guarded against spreadsheet formulas.
pub fn csv_cell(cell: &str) -> String {
    spreadsheet_safe(&inert_lines(cell))
}

/// JSON whose strings carry no raw control or bidi character: each is
/// written as a `\uXXXX` escape, so the text is exact for a JSON reader and
/// inert for a terminal or an editor showing the file.
pub fn json_inert(value: &impl serde::Serialize, pretty: bool) -> String {
    let mut out = Vec::new();
    let written = if pretty {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            InertJson(serde_json::ser::PrettyFormatter::new()),
        );
        value.serialize(&mut ser)
    } else {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            InertJson(serde_json::ser::CompactFormatter),
        );
        value.serialize(&mut ser)
    };
    written.expect("JSON output serialises");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// A serde_json formatter that escapes the characters `is_unsafe` names
/// (serde_json itself escapes only C0 controls) and otherwise defers to `F`.
struct InertJson<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for InertJson<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escape_sequences_show_as_carets() {
        assert_eq!(inert("\u{1b}]52;c;aGk=\u{7}Eve"), "^[]52;c;aGk=^GEve");
        assert_eq!(inert("a\tb\r\n"), "a^Ib^M^J");
        assert_eq!(inert("x\u{9b}31m"), "x<U+009B>31m");
        assert_eq!(inert("abc\u{202E}fdp.exe"), "abc<U+202E>fdp.exe");
    }

    #[test]
    fn clip_and_aside() {
        assert_eq!(clip("Kierkegaard-Holm", 8), "Kierkeg…");
        assert_eq!(clip("Ana", 8), "Ana");
        assert_eq!(aside(""), "");
        assert_eq!(aside("sent \u{1b}[2J"), " — sent ^[[2J");
    }

    #[test]
    fn ordinary_text_is_untouched_and_not_copied() {
        assert!(matches!(
            inert("Jürgen Müller, Łukasz, Søren"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn files_get_inert_cells_and_escaped_json() {
        assert_eq!(csv_cell("Eve\u{1b}[2J\u{7}\u{8}\r"), "Eve^[[2J^G^H^M");
        assert_eq!(csv_cell("\u{202E}=1+1"), "<U+202E>=1+1");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("two\nlines"), "two\nlines");
        let v = serde_json::json!({"name": "a\u{202E}b\u{9b}c\u{1b}d Łukasz"});
        let j = json_inert(&v, false);
        assert_eq!(j, r#"{"name":"a\u202eb\u009bc\u001bd Łukasz"}"#);
        let back: serde_json::Value = serde_json::from_str(&json_inert(&v, true)).unwrap();
        assert_eq!(back, v);
    }

    proptest! {
        #[test]
        fn json_output_is_exact_and_inert(s in any::<String>()) {
            let v = serde_json::json!({ "s": s });
            let j = json_inert(&v, false);
            prop_assert!(!j.chars().any(is_unsafe));
            let back: serde_json::Value = serde_json::from_str(&j).unwrap();
            prop_assert_eq!(back, v);
        }

        #[test]
        fn output_never_holds_an_unsafe_char(s in any::<String>()) {
            let out = inert(&s);
            prop_assert!(!out.chars().any(is_unsafe));
        }

        #[test]
        fn safe_text_is_kept_whole(s in "[\\p{L}\\p{N} .,'@+-]{0,40}") {
            prop_assert_eq!(inert(&s), s.as_str());
        }
    }
}
