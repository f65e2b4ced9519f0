//! Key bindings as data: the same table drives input, the hint bar, the `?`
//! help and the `:` palette, so they cannot disagree. Staff may override keys in
//! `keys.toml` in the data directory.

use crate::domain::guide::Move;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use std::fmt;

/// Where a binding applies. A confirmation and a person's view take their
/// keys from the table too (forms, the lookup and the palette are typed in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Global,
    Queue,
    Case,
    /// A yes/no question on top of a screen; only its own keys apply.
    Confirm,
    /// A person found by the lookup; only its own keys apply.
    Person,
}

/// Every scope, in the order `?` lists them.
pub const ALL_SCOPES: [Scope; 5] = [
    Scope::Queue,
    Scope::Case,
    Scope::Global,
    Scope::Confirm,
    Scope::Person,
];

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::Queue => "Queue",
            Scope::Case => "Case",
            Scope::Confirm => "In a confirmation",
            Scope::Person => "In a person's view (from the lookup)",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Queue => "queue",
            Scope::Case => "case",
            Scope::Confirm => "confirm",
            Scope::Person => "person",
        }
    }

    /// A popup's scope: the screen's and the global keys do not reach it.
    pub fn is_popup(self) -> bool {
        matches!(self, Scope::Confirm | Scope::Person)
    }
}

/// Everything the desk can be asked to do from a key or the palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    Lookup,
    Import,
    Palette,
    ToggleMask,
    CopyId,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Back,
    NewCase,
    CycleStateFilter,
    CycleRightFilter,
    ToggleClosed,
    ClearFilters,
    Verify,
    RequestId,
    Pause,
    Resume,
    Extend,
    Fee,
    RecordTask,
    AddNote,
    MarkReady,
    CloseCase,
    Plan,
    ExportAccess,
    Letter,
    Rectify,
    LiftRestriction,
    CheckRestore,
    CheckCampaign,
    Records,
    Mailbox,
    AuditLog,
    ExportClosures,
    Tour,
    Yes,
    No,
    PersonNewCase,
    PersonAddToCase,
    PersonSplit,
}

impl Action {
    pub fn name(self) -> &'static str {
        use Action::*;
        match self {
            Quit => "quit",
            Help => "help",
            Lookup => "lookup",
            Import => "import",
            Palette => "palette",
            ToggleMask => "mask",
            CopyId => "copy-id",
            Up => "up",
            Down => "down",
            Top => "top",
            Bottom => "bottom",
            PageUp => "page-up",
            PageDown => "page-down",
            Open => "open",
            Back => "back",
            NewCase => "new-case",
            CycleStateFilter => "filter-state",
            CycleRightFilter => "filter-right",
            ToggleClosed => "show-closed",
            ClearFilters => "clear-filters",
            Verify => "verify",
            RequestId => "request-id",
            Pause => "pause",
            Resume => "resume",
            Extend => "extend",
            Fee => "fee",
            RecordTask => "task",
            AddNote => "note",
            MarkReady => "ready",
            CloseCase => "close",
            Plan => "plan",
            ExportAccess => "export-access",
            Letter => "letter",
            Rectify => "rectify",
            LiftRestriction => "lift-restriction",
            CheckRestore => "check-restore",
            CheckCampaign => "check-campaign",
            Records => "records",
            Mailbox => "mailbox",
            AuditLog => "audit",
            ExportClosures => "export-closures",
            Tour => "tour",
            Yes => "yes",
            No => "no",
            PersonNewCase => "new-case-for",
            PersonAddToCase => "add-to-case",
            PersonSplit => "split",
        }
    }

    pub fn describe(self) -> &'static str {
        use Action::*;
        match self {
            Quit => "quit the desk",
            Help => "show all keys",
            Lookup => "find a person across sources",
            Import => "import a system's export into the lookup",
            Palette => "run any action by name",
            ToggleMask => "mask personal data on screen",
            CopyId => "copy the case id (OSC 52)",
            Up => "move up",
            Down => "move down",
            Top => "first case",
            Bottom => "last case",
            PageUp => "page up",
            PageDown => "page down",
            Open => "open the selected case",
            Back => "back to the queue",
            NewCase => "new case (intake)",
            CycleStateFilter => "filter by state",
            CycleRightFilter => "filter by right",
            ToggleClosed => "show or hide closed cases",
            ClearFilters => "clear filters",
            Verify => "verify identity",
            RequestId => "request more ID (stops the clock)",
            Pause => "pause for clarification",
            Resume => "resume after clarification",
            Extend => "extend by two months",
            Fee => "ask a fee before acting, or record it paid",
            RecordTask => "record work in a source",
            AddNote => "add a note",
            MarkReady => "mark ready to respond",
            CloseCase => "close the case",
            Plan => "propose per-source tasks for the rights",
            ExportAccess => "export the access package (encrypted PDF, zip)",
            Letter => "show the letters: response and notices",
            Rectify => "record a rectification (old, new, why)",
            LiftRestriction => "lift a restriction, once the subject is told",
            CheckRestore => "rows of a restored data set that belong to erased people",
            CheckCampaign => "rows of a campaign list that must not be sent to",
            Records => "figures: per right, outcome, month; on time",
            Mailbox => "the privacy mailbox: requests not yet cases, replies by case",
            AuditLog => "the audit chain (this case, or all); verify it",
            ExportClosures => "write the closure log (CSV or JSON lines)",
            Tour => "show or hide a tip per screen (on in --demo)",
            Yes => "yes: take the step",
            No => "no: back to the form, or to the screen",
            PersonNewCase => "open a case for this person",
            PersonAddToCase => "add the chosen record to the open case (same person)",
            PersonSplit => "split the chosen record off: not the same person",
        }
    }

    /// Only in a popup: never run from the palette.
    pub fn in_popup_only(self) -> bool {
        matches!(
            self,
            Action::Yes
                | Action::No
                | Action::PersonNewCase
                | Action::PersonAddToCase
                | Action::PersonSplit
        )
    }

    /// A short label for the hint bar.
    pub fn hint(self) -> &'static str {
        use Action::*;
        match self {
            Open => "open",
            NewCase => "new",
            CycleStateFilter => "state",
            CycleRightFilter => "right",
            Quit => "quit",
            Help => "help",
            Back => "back",
            Verify => "verify",
            RecordTask => "task",
            CloseCase => "close",
            Pause => "pause",
            Extend => "extend",
            AddNote => "note",
            ToggleClosed => "closed",
            RequestId => "ask ID",
            Resume => "resume",
            MarkReady => "ready",
            ExportAccess => "export",
            Letter => "letters",
            LiftRestriction => "lift",
            PersonNewCase => "new case",
            PersonAddToCase => "add to case",
            Up => "up",
            Down => "move",
            _ => self.name(),
        }
    }

    /// The case move an action takes, if it takes one: the domain says
    /// whether it applies now (the hint bar, the form's guard).
    pub fn case_move(self) -> Option<Move> {
        use Action::*;
        Some(match self {
            Verify => Move::Verify,
            RequestId => Move::RequestId,
            Pause => Move::Pause,
            Resume => Move::Resume,
            Extend => Move::Extend,
            Fee => Move::Fee,
            RecordTask => Move::RecordTask,
            AddNote => Move::Note,
            MarkReady => Move::MarkReady,
            CloseCase => Move::Close,
            Plan => Move::Plan,
            ExportAccess => Move::ExportAccess,
            Letter => Move::Letter,
            Rectify => Move::Rectify,
            LiftRestriction => Move::LiftRestriction,
            _ => return None,
        })
    }

    /// The action that takes a case move.
    pub fn of_move(m: Move) -> Action {
        ALL_ACTIONS
            .iter()
            .copied()
            .find(|a| a.case_move() == Some(m))
            .expect("every move has an action")
    }

    fn from_name(s: &str) -> Option<Action> {
        ALL_ACTIONS.iter().copied().find(|a| a.name() == s)
    }
}

pub const ALL_ACTIONS: &[Action] = &[
    Action::Quit,
    Action::Help,
    Action::Lookup,
    Action::Import,
    Action::Palette,
    Action::ToggleMask,
    Action::CopyId,
    Action::Up,
    Action::Down,
    Action::Top,
    Action::Bottom,
    Action::PageUp,
    Action::PageDown,
    Action::Open,
    Action::Back,
    Action::NewCase,
    Action::CycleStateFilter,
    Action::CycleRightFilter,
    Action::ToggleClosed,
    Action::ClearFilters,
    Action::Verify,
    Action::RequestId,
    Action::Pause,
    Action::Resume,
    Action::Extend,
    Action::Fee,
    Action::RecordTask,
    Action::AddNote,
    Action::MarkReady,
    Action::CloseCase,
    Action::Plan,
    Action::ExportAccess,
    Action::Letter,
    Action::Rectify,
    Action::LiftRestriction,
    Action::CheckRestore,
    Action::CheckCampaign,
    Action::Records,
    Action::Mailbox,
    Action::AuditLog,
    Action::ExportClosures,
    Action::Tour,
    Action::Yes,
    Action::No,
    Action::PersonNewCase,
    Action::PersonAddToCase,
    Action::PersonSplit,
];

/// One key with its modifiers, e.g. `ctrl-c`, `G`, `pgdn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub const fn ch(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: false,
        }
    }
    pub const fn code(code: KeyCode) -> Key {
        Key { code, ctrl: false }
    }
    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: true,
        }
    }

    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl != self.ctrl {
            return false;
        }
        match (self.code, ev.code) {
            // Shifted letters arrive as uppercase chars (with or without SHIFT).
            (KeyCode::Char(a), KeyCode::Char(b)) => a == b,
            (a, b) => a == b,
        }
    }

    pub fn parse(s: &str) -> Result<Key, String> {
        let t = s.trim();
        let (ctrl, rest) = match t.strip_prefix("ctrl-") {
            Some(r) => (true, r),
            None => (false, t),
        };
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backspace" => KeyCode::Backspace,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            _ => {
                let mut cs = rest.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) if !c.is_control() => KeyCode::Char(c),
                    _ => return Err(format!("'{s}' is not a key (a character, or enter, esc, tab, up, down, pgup, pgdn, home, end, space, with optional ctrl-)")),
                }
            }
        };
        Ok(Key { code, ctrl })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub scope: Scope,
    pub action: Action,
    pub keys: Vec<Key>,
    /// Shown in the one-line hint bar.
    pub hint: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    pub bindings: Vec<Binding>,
}

fn b(scope: Scope, action: Action, keys: &[Key], hint: bool) -> Binding {
    Binding {
        scope,
        action,
        keys: keys.to_vec(),
        hint,
    }
}

impl Default for KeyMap {
    fn default() -> Self {
        use Action::*;
        use KeyCode as K;
        use Scope::*;
        KeyMap {
            bindings: vec![
                b(Queue, Open, &[Key::code(K::Enter)], true),
                b(Queue, NewCase, &[Key::ch('n')], true),
                b(Queue, CycleStateFilter, &[Key::ch('s')], true),
                b(Queue, CycleRightFilter, &[Key::ch('r')], true),
                b(Queue, ToggleClosed, &[Key::ch('c')], false),
                b(Queue, ClearFilters, &[Key::ch('0')], false),
                b(Queue, Import, &[Key::ch('I')], false),
                b(Global, CheckRestore, &[Key::ch('B')], false),
                b(Global, CheckCampaign, &[Key::ch('S')], false),
                b(Queue, Records, &[Key::ch('T')], false),
                b(Queue, Mailbox, &[Key::ch('m')], false),
                b(Queue, ExportClosures, &[Key::ch('X')], false),
                b(Global, AuditLog, &[Key::ch('A')], false),
                b(Queue, Quit, &[Key::ch('q'), Key::ctrl('c')], true),
                b(
                    Case,
                    Back,
                    &[
                        Key::ch('q'),
                        Key::code(K::Esc),
                        Key::code(K::Backspace),
                        Key::ch('h'),
                    ],
                    true,
                ),
                b(Case, Verify, &[Key::ch('v')], true),
                b(Case, RequestId, &[Key::ch('i')], false),
                b(Case, RecordTask, &[Key::ch('t')], true),
                b(Case, Pause, &[Key::ch('p')], true),
                b(Case, Resume, &[Key::ch('u')], false),
                b(Case, Extend, &[Key::ch('e')], true),
                b(Case, Fee, &[Key::ch('f')], false),
                b(Case, AddNote, &[Key::ch('a')], false),
                b(Case, MarkReady, &[Key::ch('m')], false),
                b(Case, CloseCase, &[Key::ch('c')], true),
                b(Case, Plan, &[Key::ch('P')], true),
                b(Case, ExportAccess, &[Key::ch('E')], false),
                b(Case, Letter, &[Key::ch('L')], false),
                b(Case, Rectify, &[Key::ch('R')], false),
                b(Case, LiftRestriction, &[Key::ch('U')], false),
                b(Global, Up, &[Key::ch('k'), Key::code(K::Up)], false),
                b(Global, Down, &[Key::ch('j'), Key::code(K::Down)], false),
                b(Global, Top, &[Key::ch('g'), Key::code(K::Home)], false),
                b(Global, Bottom, &[Key::ch('G'), Key::code(K::End)], false),
                b(Global, PageUp, &[Key::code(K::PageUp)], false),
                b(Global, PageDown, &[Key::code(K::PageDown)], false),
                b(Global, CopyId, &[Key::ch('y')], false),
                b(Global, ToggleMask, &[Key::ch('M')], false),
                b(Global, Lookup, &[Key::ch('/')], true),
                b(Global, Palette, &[Key::ch(':')], false),
                b(Global, Help, &[Key::ch('?')], true),
                b(Global, Quit, &[Key::ctrl('c')], false),
                b(Global, Tour, &[Key::ch('!')], false),
                b(Confirm, Yes, &[Key::ch('y'), Key::code(K::Enter)], true),
                b(
                    Confirm,
                    No,
                    &[Key::ch('n'), Key::code(K::Esc), Key::ch('q')],
                    true,
                ),
                b(Person, PersonNewCase, &[Key::ch('n')], true),
                b(Person, PersonAddToCase, &[Key::ch('a')], true),
                b(Person, PersonSplit, &[Key::ch('x')], true),
                b(Person, Down, &[Key::ch('j'), Key::code(K::Down)], true),
                b(Person, Up, &[Key::ch('k'), Key::code(K::Up)], false),
                b(Person, Back, &[Key::code(K::Esc), Key::ch('q')], true),
            ],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key map {file}: {why}")]
pub struct KeyMapError {
    pub file: String,
    pub why: String,
}

impl KeyMap {
    /// The action a key triggers in a scope; the screen's own scope wins over global.
    pub fn action_for(&self, scope: Scope, ev: &KeyEvent) -> Option<Action> {
        [scope, Scope::Global].into_iter().find_map(|s| {
            self.bindings
                .iter()
                .find(|b| b.scope == s && b.keys.iter().any(|k| k.matches(ev)))
                .map(|b| b.action)
        })
    }

    /// The action a key triggers in a popup's own scope (nothing else
    /// reaches a popup).
    pub fn action_in(&self, scope: Scope, ev: &KeyEvent) -> Option<Action> {
        self.bindings
            .iter()
            .find(|b| b.scope == scope && b.keys.iter().any(|k| k.matches(ev)))
            .map(|b| b.action)
    }

    /// Bindings of a scope plus the global ones (a popup's: its own only),
    /// for the hint bar.
    pub fn hints(&self, scope: Scope) -> Vec<(String, &'static str)> {
        self.bindings
            .iter()
            .filter(|b| {
                b.hint
                    && (b.scope == scope || b.scope == Scope::Global && !scope.is_popup())
                    && !b.keys.is_empty()
            })
            .map(|b| (b.keys[0].to_string(), b.action.hint()))
            .collect()
    }

    /// The first key of an action in a scope (or global), if it has one.
    pub fn first_key(&self, scope: Scope, action: Action) -> Option<Key> {
        [scope, Scope::Global].into_iter().find_map(|s| {
            self.bindings
                .iter()
                .find(|b| b.scope == s && b.action == action)
                .and_then(|b| b.keys.first().copied())
        })
    }

    /// Keys of an action in a scope (or global), joined for help and palette
    /// (each once: quit is ctrl-c on the queue and everywhere).
    pub fn keys_label(&self, scope: Scope, action: Action) -> String {
        let mut keys: Vec<String> = Vec::new();
        for k in self
            .bindings
            .iter()
            .filter(|b| b.action == action && (b.scope == scope || b.scope == Scope::Global))
            .flat_map(|b| b.keys.iter().map(|k| k.to_string()))
        {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys.join(" ")
    }

    /// Applies overrides from a TOML file of `[scope] action = "key"` or `["k1", "k2"]`.
    pub fn with_overrides(mut self, file: &str, text: &str) -> Result<KeyMap, KeyMapError> {
        let err = |why: String| KeyMapError {
            file: file.to_string(),
            why,
        };
        let table: BTreeMap<String, BTreeMap<String, toml::Value>> =
            toml::from_str(text).map_err(|e| {
                let line = e
                    .span()
                    .map(|s| {
                        format!(
                            "line {}: ",
                            text[..s.start.min(text.len())].lines().count().max(1)
                        )
                    })
                    .unwrap_or_default();
                err(format!("{line}{}", e.message()))
            })?;
        for (scope_name, actions) in table {
            let scope = ALL_SCOPES
                .into_iter()
                .find(|s| s.name() == scope_name)
                .ok_or_else(|| {
                    err(format!(
                        "[{scope_name}]: unknown section (global, queue, case, confirm, person)"
                    ))
                })?;
            for (action_name, value) in actions {
                let at = line_of(text, &scope_name, &action_name)
                    .map(|n| format!("line {n}: "))
                    .unwrap_or_default();
                let action = Action::from_name(&action_name).ok_or_else(|| {
                    err(format!(
                        "{at}[{scope_name}] {action_name}: unknown action (the names `:` lists)"
                    ))
                })?;
                let texts: Vec<String> = match value {
                    toml::Value::String(s) => vec![s],
                    toml::Value::Array(a) => a
                        .into_iter()
                        .map(|v| {
                            v.as_str().map(str::to_string).ok_or_else(|| {
                                err(format!(
                                    "[{scope_name}] {action_name}: keys must be strings"
                                ))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    _ => {
                        return Err(err(format!(
                            "[{scope_name}] {action_name}: give a key or a list of keys"
                        )))
                    }
                };
                let keys = texts
                    .iter()
                    .map(|t| Key::parse(t))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| err(format!("[{scope_name}] {action_name}: {e}")))?;
                match self
                    .bindings
                    .iter_mut()
                    .find(|b| b.scope == scope && b.action == action)
                {
                    Some(bd) => bd.keys = keys,
                    None => self.bindings.push(Binding {
                        scope,
                        action,
                        keys,
                        hint: false,
                    }),
                }
            }
        }
        if let Some((a, b, key)) = self.clash() {
            // Name the line staff wrote (the other side may be a default).
            let line = [&a, &b]
                .into_iter()
                .find_map(|(scope, action)| line_of(text, scope.name(), action.name()))
                .map(|n| format!("line {n}: "))
                .unwrap_or_default();
            let side =
                |(scope, action): &(Scope, Action)| format!("[{}] {}", scope.name(), action.name());
            return Err(err(format!(
                "{line}{key} is bound to both {} and {}; one key, one action: give one of them another key",
                side(&a),
                side(&b)
            )));
        }
        Ok(self)
    }

    /// Two actions one key would reach on the same screen: both in one
    /// scope, or a screen's binding hiding a global one (the screen's
    /// would win, and the other action could not be reached there).
    pub fn clash(&self) -> Option<(Bound, Bound, Key)> {
        let all: Vec<(Scope, Action, Key)> = self
            .bindings
            .iter()
            .flat_map(|b| b.keys.iter().map(move |k| (b.scope, b.action, *k)))
            .collect();
        for (i, (s1, a1, k1)) in all.iter().enumerate() {
            for (s2, a2, k2) in &all[i + 1..] {
                // Global keys reach the queue and the case, never a popup.
                let same_screen = s1 == s2
                    || (*s1 == Scope::Global && !s2.is_popup())
                    || (*s2 == Scope::Global && !s1.is_popup());
                if k1 == k2 && a1 != a2 && same_screen {
                    return Some(((*s1, *a1), (*s2, *a2), *k1));
                }
            }
        }
        None
    }
}

/// An action where it is bound.
pub type Bound = (Scope, Action);

/// The line (from 1) of `action = …` in `[section]` of a keys file.
fn line_of(text: &str, section: &str, action: &str) -> Option<usize> {
    let mut here = false;
    for (n, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.starts_with('[') {
            here = l.trim_matches(|c| c == '[' || c == ']').trim() == section;
        } else if here
            && l.strip_prefix(action)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return Some(n + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn screen_scope_wins_over_global() {
        let km = KeyMap::default();
        let q = ev(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(km.action_for(Scope::Queue, &q), Some(Action::Quit));
        assert_eq!(km.action_for(Scope::Case, &q), Some(Action::Back));
        let c = ev(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(km.action_for(Scope::Case, &c), Some(Action::Quit));
        let big_g = ev(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(km.action_for(Scope::Queue, &big_g), Some(Action::Bottom));
    }

    #[test]
    fn a_clash_in_keys_toml_is_refused_naming_the_line_and_both_actions() {
        let text = "[queue]\nnew-case = \"N\"\n\n[case]\nclose = \"t\"\n";
        let e = KeyMap::default()
            .with_overrides("/data/keys.toml", text)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/data/keys.toml")
                && e.contains("line 5")
                && e.contains("[case] task")
                && e.contains("[case] close"),
            "{e}"
        );
        // A screen's key hiding a global one is a clash too.
        let e = KeyMap::default()
            .with_overrides("keys.toml", "[case]\nnote = \"j\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("[case] note") && e.contains("[global] down"),
            "{e}"
        );
        // Moving an action to a free key, or swapping two, is fine.
        KeyMap::default()
            .with_overrides("keys.toml", "[case]\nclose = \"X\"\n")
            .unwrap();
        KeyMap::default()
            .with_overrides("keys.toml", "[case]\nclose = \"t\"\ntask = \"c\"\n")
            .unwrap();
    }

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        let km = KeyMap::default();
        assert_eq!(km.clash(), None, "the defaults never clash");
        for s in ALL_SCOPES {
            let mut seen: Vec<(Key, Action)> = Vec::new();
            for bd in km.bindings.iter().filter(|bd| bd.scope == s) {
                for k in &bd.keys {
                    if let Some((_, a)) = seen.iter().find(|(x, _)| x == k) {
                        panic!(
                            "{k} is bound to both {} and {} in {s:?}",
                            a.name(),
                            bd.action.name()
                        );
                    }
                    seen.push((*k, bd.action));
                }
            }
        }
    }

    #[test]
    fn hints_come_from_the_table() {
        let km = KeyMap::default();
        let h = km.hints(Scope::Queue);
        assert!(h.contains(&("n".to_string(), "new")));
        assert!(h.contains(&("?".to_string(), "help")));
        assert!(!km.hints(Scope::Case).iter().any(|(_, a)| *a == "new"));
    }

    #[test]
    fn overrides_rebind_and_bad_ones_are_named() {
        let km = KeyMap::default()
            .with_overrides("keys.toml", "[queue]\nnew-case = [\"N\", \"ctrl-n\"]\n")
            .unwrap();
        let n = ev(KeyCode::Char('n'), KeyModifiers::CONTROL);
        assert_eq!(km.action_for(Scope::Queue, &n), Some(Action::NewCase));
        assert_eq!(
            km.action_for(Scope::Queue, &ev(KeyCode::Char('n'), KeyModifiers::NONE)),
            None
        );
        assert!(
            km.hints(Scope::Queue).contains(&("N".to_string(), "new")),
            "the hint follows the override"
        );
        let e = KeyMap::default()
            .with_overrides("keys.toml", "[queue]\nfly = \"f\"\n")
            .unwrap_err();
        assert!(
            e.to_string().contains("keys.toml") && e.to_string().contains("fly"),
            "{e}"
        );
        let e = KeyMap::default()
            .with_overrides("keys.toml", "[queue]\nopen = \"hyper-x\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("hyper-x"), "{e}");
    }
}
