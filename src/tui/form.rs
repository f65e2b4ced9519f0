//! Small forms in popups: intake, identity, tasks, pause, extend, note, close.
//!
//! A form only holds what was typed and chosen; turning it into a domain value
//! (and every rule about it) happens in the domain and service layers.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text.
    Text,
    /// One of a list; ←/→ or space change it.
    Choice(Vec<String>),
    /// Several of a list; ←/→ move, space toggles.
    Multi(Vec<String>),
    /// Yes or no; space toggles.
    Toggle,
    /// Text shown as dots (a package password); wiped when the form goes.
    Secret,
}

/// The most characters a text field holds.
pub const MAX_FIELD_CHARS: usize = 4000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub text: String,
    /// Selected index (Choice) or cursor (Multi).
    pub index: usize,
    /// Ticked items (Multi) or the toggle's value in `checked[0]`.
    pub checked: Vec<bool>,
    pub hint: std::borrow::Cow<'static, str>,
    pub error: Option<String>,
    /// Characters before the cursor in a text field; `None` is the end
    /// (where it stays when the text is set from outside, e.g. Tab
    /// completing a path).
    pub cursor: Option<usize>,
}

impl Field {
    pub fn text(
        key: &'static str,
        label: &'static str,
        value: &str,
        hint: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Field {
        Field {
            key,
            label,
            kind: FieldKind::Text,
            text: value.to_string(),
            index: 0,
            checked: vec![],
            hint: hint.into(),
            error: None,
            cursor: None,
        }
    }

    /// A password: typed like text, drawn as dots.
    pub fn secret(key: &'static str, label: &'static str, hint: &'static str) -> Field {
        let mut f = Field::text(key, label, "", hint);
        f.kind = FieldKind::Secret;
        // Room for a long pass phrase, so typing never reallocates (and so
        // never leaves a copy of the first characters behind).
        f.text = String::with_capacity(256);
        f
    }

    pub fn choice(
        key: &'static str,
        label: &'static str,
        options: &[&str],
        selected: usize,
    ) -> Field {
        Field {
            key,
            label,
            kind: FieldKind::Choice(options.iter().map(|s| s.to_string()).collect()),
            text: String::new(),
            index: selected.min(options.len().saturating_sub(1)),
            checked: vec![],
            hint: "←/→ to change".into(),
            error: None,
            cursor: None,
        }
    }

    pub fn multi(key: &'static str, label: &'static str, options: &[&str]) -> Field {
        Field {
            key,
            label,
            kind: FieldKind::Multi(options.iter().map(|s| s.to_string()).collect()),
            text: String::new(),
            index: 0,
            checked: vec![false; options.len()],
            hint: "←/→ move, space ticks".into(),
            error: None,
            cursor: None,
        }
    }

    pub fn toggle(key: &'static str, label: &'static str, value: bool) -> Field {
        Field {
            key,
            label,
            kind: FieldKind::Toggle,
            text: String::new(),
            index: 0,
            checked: vec![value],
            hint: "space to change".into(),
            error: None,
            cursor: None,
        }
    }

    /// The chosen option (Choice), or the text.
    pub fn value(&self) -> &str {
        match &self.kind {
            FieldKind::Choice(opts) => &opts[self.index],
            _ => &self.text,
        }
    }

    pub fn ticked(&self) -> Vec<&str> {
        match &self.kind {
            FieldKind::Multi(opts) => opts
                .iter()
                .zip(&self.checked)
                .filter(|(_, c)| **c)
                .map(|(o, _)| o.as_str())
                .collect(),
            _ => vec![],
        }
    }

    pub fn on(&self) -> bool {
        self.checked.first().copied().unwrap_or(false)
    }

    /// Where the cursor is, in characters from the start.
    pub fn cursor_at(&self) -> usize {
        let len = self.text.chars().count();
        self.cursor.map_or(len, |c| c.min(len))
    }

    /// Edits a text field as a shell line: `f(line)` with the cursor, which
    /// is kept (or `None` again at the end).
    fn edit_line(
        &mut self,
        f: impl FnOnce(&mut super::line_edit::Line) -> Option<bool>,
    ) -> Option<bool> {
        let mut cur = self.cursor_at();
        let mut line = super::line_edit::Line {
            text: &mut self.text,
            cursor: &mut cur,
            max: MAX_FIELD_CHARS,
        };
        let out = f(&mut line);
        self.cursor = (cur < self.text.chars().count()).then_some(cur);
        out
    }

    /// A paste into a text field (one line, at the cursor).
    pub fn paste(&mut self, s: &str) -> bool {
        matches!(self.kind, FieldKind::Text | FieldKind::Secret)
            && self.edit_line(|l| Some(l.paste(s))) == Some(true)
    }

    /// Comma-separated values of a text field.
    pub fn list(&self) -> Vec<String> {
        self.text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// What a key did to a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormInput {
    Edited,
    Moved { from: usize },
    Submit,
    Cancel,
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// A problem with the form as a whole (e.g. the domain's refusal).
    pub error: Option<String>,
    /// Lines shown above the fields (e.g. the work still open at closure).
    pub intro: Vec<String>,
}

impl Form {
    pub fn new(title: impl Into<String>, fields: Vec<Field>) -> Form {
        Form {
            title: title.into(),
            fields,
            focus: 0,
            error: None,
            intro: Vec::new(),
        }
    }

    pub fn get(&self, key: &str) -> &Field {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .expect("field exists")
    }

    /// The position of a field, to move the focus to it.
    pub fn index_of(&self, key: &str) -> usize {
        self.fields.iter().position(|f| f.key == key).unwrap_or(0)
    }

    pub fn get_mut(&mut self, key: &str) -> &mut Field {
        self.fields
            .iter_mut()
            .find(|f| f.key == key)
            .expect("field exists")
    }

    pub fn focused(&self) -> &Field {
        &self.fields[self.focus]
    }

    /// Keys inside a form: typing edits the focused field, Tab/↓ and Shift-Tab/↑
    /// move, Enter moves on and submits from the last field, Ctrl-S submits from
    /// anywhere, Esc or Ctrl-C cancel.
    pub fn handle(&mut self, ev: &KeyEvent) -> FormInput {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let from = self.focus;
        let last = self.fields.len() - 1;
        match ev.code {
            KeyCode::Esc => return FormInput::Cancel,
            KeyCode::Char('c') | KeyCode::Char('g') if ctrl => return FormInput::Cancel,
            KeyCode::Char('s') if ctrl => return FormInput::Submit,
            KeyCode::Enter if self.focus == last => return FormInput::Submit,
            KeyCode::Enter | KeyCode::Tab | KeyCode::Down => {
                self.focus = (self.focus + 1).min(last);
                return if from == self.focus {
                    FormInput::Ignored
                } else {
                    FormInput::Moved { from }
                };
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = self.focus.saturating_sub(1);
                return if from == self.focus {
                    FormInput::Ignored
                } else {
                    FormInput::Moved { from }
                };
            }
            _ => {}
        }
        let f = &mut self.fields[self.focus];
        if matches!(f.kind, FieldKind::Text | FieldKind::Secret) {
            let before = f.text.len();
            return match f.edit_line(|l| l.key(ev)) {
                None => FormInput::Ignored,
                Some(_) if f.text.len() == before && !matches!(ev.code, KeyCode::Char(_)) => {
                    // The cursor moved (or nothing changed): the text stands.
                    FormInput::Ignored
                }
                Some(_) => {
                    f.error = None;
                    self.error = None;
                    FormInput::Edited
                }
            };
        }
        if ctrl {
            return FormInput::Ignored;
        }
        let changed = match (&f.kind, ev.code) {
            (FieldKind::Choice(opts), KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('l')) => {
                f.index = (f.index + 1) % opts.len();
                true
            }
            (FieldKind::Choice(opts), KeyCode::Left | KeyCode::Char('h')) => {
                f.index = (f.index + opts.len() - 1) % opts.len();
                true
            }
            (FieldKind::Multi(opts), KeyCode::Right | KeyCode::Char('l')) => {
                f.index = (f.index + 1) % opts.len();
                true
            }
            (FieldKind::Multi(opts), KeyCode::Left | KeyCode::Char('h')) => {
                f.index = (f.index + opts.len() - 1) % opts.len();
                true
            }
            (FieldKind::Multi(_), KeyCode::Char(' ') | KeyCode::Char('x')) => {
                f.checked[f.index] = !f.checked[f.index];
                true
            }
            (
                FieldKind::Toggle,
                KeyCode::Char(' ')
                | KeyCode::Char('y')
                | KeyCode::Char('n')
                | KeyCode::Left
                | KeyCode::Right,
            ) => {
                f.checked[0] = match ev.code {
                    KeyCode::Char('y') => true,
                    KeyCode::Char('n') => false,
                    _ => !f.checked[0],
                };
                true
            }
            _ => false,
        };
        if changed {
            f.error = None;
            self.error = None;
            FormInput::Edited
        } else {
            FormInput::Ignored
        }
    }
}

impl Drop for Field {
    fn drop(&mut self) {
        if self.kind == FieldKind::Secret {
            zeroize::Zeroize::zeroize(&mut self.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn typing_moving_and_submitting() {
        let mut f = Form::new(
            "t",
            vec![
                Field::text("a", "A", "", ""),
                Field::choice("b", "B", &["x", "y"], 0),
                Field::multi("c", "C", &["p", "q"]),
            ],
        );
        assert_eq!(f.handle(&key(KeyCode::Char('h'))), FormInput::Edited);
        assert_eq!(f.handle(&key(KeyCode::Char('i'))), FormInput::Edited);
        assert_eq!(f.get("a").text, "hi");
        assert_eq!(f.handle(&key(KeyCode::Enter)), FormInput::Moved { from: 0 });
        f.handle(&key(KeyCode::Right));
        assert_eq!(f.get("b").value(), "y");
        f.handle(&key(KeyCode::Tab));
        f.handle(&key(KeyCode::Right));
        f.handle(&key(KeyCode::Char(' ')));
        assert_eq!(f.get("c").ticked(), vec!["q"]);
        assert_eq!(f.handle(&key(KeyCode::Enter)), FormInput::Submit);
        assert_eq!(
            f.handle(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            FormInput::Cancel
        );
    }

    #[test]
    fn q_is_text_inside_a_field() {
        let mut f = Form::new("t", vec![Field::text("a", "A", "", "")]);
        f.handle(&key(KeyCode::Char('q')));
        assert_eq!(f.get("a").text, "q");
    }
}
