//! Editing one line of text the way a shell does: the cursor moves with
//! ←/→, Home/End, ctrl-a/ctrl-e and word jumps (ctrl-←/→, alt-b/alt-f);
//! ctrl-u, ctrl-k and ctrl-w (or alt-backspace) cut; Delete and Backspace
//! remove a character; a paste lands whole at the cursor.
//!
//! The cursor counts characters, not bytes, so a name with accents or a
//! non-Latin script moves one letter per key.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Pasted text as one line: line breaks and tabs become spaces, a trailing
/// line break is dropped, and no control character is kept.
pub fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A line of text and where the cursor is in it.
pub struct Line<'a> {
    pub text: &'a mut String,
    /// Characters before the cursor.
    pub cursor: &'a mut usize,
    /// The most characters the line may hold.
    pub max: usize,
}

impl Line<'_> {
    fn len(&self) -> usize {
        self.text.chars().count()
    }

    fn byte(&self, at: usize) -> usize {
        self.text
            .char_indices()
            .nth(at)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Where the word before the cursor starts (shell `backward-word`).
    fn word_start(&self) -> usize {
        let cs: Vec<char> = self.text.chars().take(*self.cursor).collect();
        let mut i = cs.len();
        while i > 0 && !cs[i - 1].is_alphanumeric() {
            i -= 1;
        }
        while i > 0 && cs[i - 1].is_alphanumeric() {
            i -= 1;
        }
        i
    }

    /// Where the word after the cursor ends (shell `forward-word`).
    fn word_end(&self) -> usize {
        let cs: Vec<char> = self.text.chars().collect();
        let mut i = (*self.cursor).min(cs.len());
        while i < cs.len() && !cs[i].is_alphanumeric() {
            i += 1;
        }
        while i < cs.len() && cs[i].is_alphanumeric() {
            i += 1;
        }
        i
    }

    /// Removes characters `from..to` (character positions); the cursor goes to `from`.
    fn cut(&mut self, from: usize, to: usize) -> bool {
        if from >= to {
            return false;
        }
        let (a, b) = (self.byte(from), self.byte(to));
        self.text.replace_range(a..b, "");
        *self.cursor = from;
        true
    }

    /// Inserts text at the cursor, as much as fits.
    pub fn insert(&mut self, s: &str) -> bool {
        let room = self.max.saturating_sub(self.len());
        let s: String = s.chars().take(room).collect();
        if s.is_empty() {
            return false;
        }
        let at = self.byte(*self.cursor);
        self.text.insert_str(at, &s);
        *self.cursor += s.chars().count();
        true
    }

    /// A paste: one line, so line breaks and tabs become spaces and a
    /// trailing line break is dropped (a pasted line never submits the form).
    pub fn paste(&mut self, s: &str) -> bool {
        self.insert(&one_line(s))
    }

    /// Applies a key; `None` when it is not a line-editing key.
    pub fn key(&mut self, ev: &KeyEvent) -> Option<bool> {
        *self.cursor = (*self.cursor).min(self.len());
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        let at = *self.cursor;
        let len = self.len();
        let next = (at + 1).min(len);
        let prev = at.saturating_sub(1);
        enum Do {
            Go(usize),
            Cut(usize, usize),
            Type(char),
        }
        let what = match ev.code {
            KeyCode::Left if ctrl || alt => Do::Go(self.word_start()),
            KeyCode::Right if ctrl || alt => Do::Go(self.word_end()),
            KeyCode::Char('b') if alt => Do::Go(self.word_start()),
            KeyCode::Char('f') if alt => Do::Go(self.word_end()),
            KeyCode::Left => Do::Go(prev),
            KeyCode::Right => Do::Go(next),
            KeyCode::Home => Do::Go(0),
            KeyCode::Char('a') if ctrl => Do::Go(0),
            KeyCode::End => Do::Go(len),
            KeyCode::Char('e') if ctrl => Do::Go(len),
            KeyCode::Char('b') if ctrl => Do::Go(prev),
            KeyCode::Char('f') if ctrl => Do::Go(next),
            KeyCode::Char('u') if ctrl => Do::Cut(0, at),
            KeyCode::Char('k') if ctrl => Do::Cut(at, len),
            KeyCode::Char('w') if ctrl => Do::Cut(self.word_start(), at),
            KeyCode::Backspace if alt || ctrl => Do::Cut(self.word_start(), at),
            KeyCode::Char('d') if alt => Do::Cut(at, self.word_end()),
            KeyCode::Backspace => Do::Cut(prev, at),
            KeyCode::Delete => Do::Cut(at, next),
            KeyCode::Char('d') if ctrl => Do::Cut(at, next),
            KeyCode::Char(c) if !ctrl && !alt => Do::Type(c),
            _ => return None,
        };
        Some(match what {
            Do::Go(to) => {
                *self.cursor = to;
                to != at
            }
            Do::Cut(from, to) => self.cut(from, to),
            Do::Type(c) => self.insert(c.encode_utf8(&mut [0; 4])),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    fn run(start: &str, cursor: usize, keys: &[KeyEvent]) -> (String, usize) {
        let mut text = start.to_string();
        let mut cur = cursor;
        let mut l = Line {
            text: &mut text,
            cursor: &mut cur,
            max: 4000,
        };
        for k in keys {
            l.key(k);
        }
        (text, cur)
    }

    #[test]
    fn the_shell_keys_edit_where_the_cursor_is() {
        let n = KeyModifiers::NONE;
        let c = KeyModifiers::CONTROL;
        // Home, then type: inserted at the start.
        assert_eq!(
            run(
                "Müller",
                6,
                &[ev(KeyCode::Home, n), ev(KeyCode::Char('J'), n)]
            ),
            ("JMüller".into(), 1)
        );
        // ctrl-a / ctrl-e, ← and Backspace remove the letter before the cursor.
        assert_eq!(
            run(
                "Jürgen",
                0,
                &[
                    ev(KeyCode::Char('e'), c),
                    ev(KeyCode::Left, n),
                    ev(KeyCode::Backspace, n)
                ]
            ),
            ("Jürgn".into(), 4)
        );
        // ctrl-w cuts the word before the cursor, ctrl-u all before it.
        assert_eq!(
            run("stop all marketing", 18, &[ev(KeyCode::Char('w'), c)]),
            ("stop all ".into(), 9)
        );
        assert_eq!(
            run("stop all marketing", 8, &[ev(KeyCode::Char('u'), c)]),
            (" marketing".into(), 0)
        );
        // ctrl-k cuts to the end; Delete the letter under the cursor.
        assert_eq!(
            run("ab-cd", 2, &[ev(KeyCode::Char('k'), c)]),
            ("ab".into(), 2)
        );
        assert_eq!(
            run("ab-cd", 2, &[ev(KeyCode::Delete, n)]),
            ("abcd".into(), 2)
        );
        // Word jumps.
        assert_eq!(
            run("one two three", 0, &[ev(KeyCode::Right, c)]).1,
            3,
            "ctrl-→ ends the word"
        );
        assert_eq!(
            run(
                "one two three",
                13,
                &[ev(KeyCode::Left, c), ev(KeyCode::Left, c)]
            )
            .1,
            4
        );
        assert_eq!(
            run("one two", 7, &[ev(KeyCode::Char('b'), KeyModifiers::ALT)]).1,
            4
        );
    }

    #[test]
    fn a_pasted_line_lands_whole_and_never_submits() {
        let mut text = "Dear ".to_string();
        let mut cur = 5;
        let mut l = Line {
            text: &mut text,
            cursor: &mut cur,
            max: 20,
        };
        assert!(l.paste("Ms Ó Súilleabháin\r\n"));
        assert_eq!(
            text, "Dear Ms Ó Súilleabhá",
            "as much as fits, a letter at a time"
        );
        let mut text = String::new();
        let mut cur = 0;
        Line {
            text: &mut text,
            cursor: &mut cur,
            max: 100,
        }
        .paste("line one\nline\ttwo\n");
        assert_eq!(text, "line one line two");
        assert_eq!(cur, 17);
    }

    proptest! {
        /// Whatever the keys, the cursor stays inside the text on a
        /// character boundary, and the text never outgrows its limit.
        #[test]
        fn the_cursor_stays_inside(start in "[a-zé ü-]{0,12}", keys in proptest::collection::vec(0usize..14, 0..40)) {
            let all = [
                ev(KeyCode::Left, KeyModifiers::NONE),
                ev(KeyCode::Right, KeyModifiers::NONE),
                ev(KeyCode::Home, KeyModifiers::NONE),
                ev(KeyCode::End, KeyModifiers::NONE),
                ev(KeyCode::Backspace, KeyModifiers::NONE),
                ev(KeyCode::Delete, KeyModifiers::NONE),
                ev(KeyCode::Char('w'), KeyModifiers::CONTROL),
                ev(KeyCode::Char('u'), KeyModifiers::CONTROL),
                ev(KeyCode::Char('k'), KeyModifiers::CONTROL),
                ev(KeyCode::Left, KeyModifiers::CONTROL),
                ev(KeyCode::Right, KeyModifiers::CONTROL),
                ev(KeyCode::Char('ß'), KeyModifiers::NONE),
                ev(KeyCode::Char(' '), KeyModifiers::NONE),
                ev(KeyCode::Backspace, KeyModifiers::ALT),
            ];
            let mut text = start.clone();
            let mut cur = start.chars().count();
            for k in keys {
                let mut l = Line { text: &mut text, cursor: &mut cur, max: 16 };
                l.key(&all[k]);
                prop_assert!(cur <= text.chars().count());
                prop_assert!(text.chars().count() <= 16.max(start.chars().count()));
            }
        }
    }
}
