//! The organisation's settings: a small TOML file in the data directory.

use super::calendar::{builtin_names, DEFAULT_CALENDAR};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Shown on response letters and packages.
    pub organisation: String,
    /// The holiday calendar the legal clock counts working days by.
    pub calendar: String,
    /// How long the desk keeps closed cases before reducing them to a stub
    /// (default: 6 years, the longest period in the policy).
    pub retention_years: u32,
    /// Where exports go; relative paths are under the data directory.
    pub export_dir: String,
    /// Who administers the team service besides its own user and root:
    /// `group:NAME` or `user:NAME`. Only they may back up, purge or rebuild
    /// through it; every staff member may read and verify the audit.
    #[serde(default)]
    pub admins: Vec<String>,
    /// The supervisory authority letters name for a complaint (empty: the
    /// calendar's jurisdiction's, e.g. the Data Protection Commission).
    #[serde(default)]
    pub supervisory_authority: String,
    /// How the subject reaches the Data Protection Officer (letters and
    /// packages say it).
    #[serde(default = "default_dpo")]
    pub dpo_contact: String,
    /// The organisation's time zone (IANA, e.g. "Europe/Dublin"): the day
    /// a request is received in, whatever the server's zone or the sender's.
    /// Empty: the calendar's (Ireland's or England's), else the machine's.
    #[serde(default)]
    pub time_zone: String,
    /// The organisation's sign-off at the end of every letter, lines
    /// separated by `\n` (e.g. "Yours sincerely,\nThe Privacy Team").
    #[serde(default)]
    pub letter_sign_off: String,
    /// A last paragraph for every letter: the organisation's address,
    /// registration, a reference.
    #[serde(default)]
    pub letter_footer: String,
    /// The sentences of the letters: the shipped ones, with the
    /// organisation's own `letters.toml` over them (read by the service).
    #[serde(skip)]
    pub letters: super::letter_text::LetterTexts,
}

impl Settings {
    /// The organisation's zone, when it can be named (see `time_zone`).
    pub fn zone(&self) -> Option<chrono_tz::Tz> {
        let name = match (self.time_zone.trim(), self.calendar.as_str()) {
            ("", "ireland") => "Europe/Dublin",
            ("", "england-and-wales") => "Europe/London",
            ("", _) => return None,
            (z, _) => z,
        };
        name.parse().ok()
    }

    /// The organisation's day at an instant: the day a message sent then
    /// was received (a message sent 23:30 on 31 March in New York is
    /// received on 1 April in Dublin).
    pub fn day_at(&self, at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        match self.zone() {
            Some(z) => at.with_timezone(&z).date_naive(),
            None => at.with_timezone(&chrono::Local).date_naive(),
        }
    }
}

fn default_dpo() -> String {
    "contact@infotrode.site".into()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            organisation: "Infotrode".into(),
            calendar: DEFAULT_CALENDAR.into(),
            retention_years: 6,
            export_dir: "exports".into(),
            admins: Vec::new(),
            supervisory_authority: String::new(),
            dpo_contact: default_dpo(),
            time_zone: String::new(),
            letter_sign_off: String::new(),
            letter_footer: String::new(),
            letters: Default::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("settings {file}: {field}: {why}")]
pub struct SettingsError {
    pub file: String,
    pub field: String,
    pub why: String,
}

impl Settings {
    /// The file written on first run, with comments for whoever edits it.
    pub fn default_file() -> String {
        let d = Settings::default();
        format!(
            "# rightsdesk settings. Edit and restart the desk; a bad value is refused with its name.\n\
             # organisation: shown on response letters and packages.\n\
             organisation = \"{}\"\n\
             # calendar: holidays for the legal clock: {}.\n\
             calendar = \"{}\"\n\
             # retention_years: closed cases older than this are reduced to a pseudonymised stub.\n\
             retention_years = {}\n\
             # export_dir: where exports go (relative to the data directory unless absolute).\n\
             export_dir = \"{}\"\n\
             # admins: who administers the team service (`rightsdesk serve`) besides its own\n\
             # user and root, as \"group:NAME\" or \"user:NAME\"; only they may back up, purge\n\
             # or rebuild through it.\n\
             admins = []\n\
             # supervisory_authority: named in letters for a complaint; empty: the calendar's\n\
             # jurisdiction's (the Data Protection Commission, or the ICO for england-and-wales).\n\
             supervisory_authority = \"\"\n\
             # dpo_contact: how the subject reaches your Data Protection Officer.\n\
             dpo_contact = \"{}\"\n\
             # time_zone: the organisation's (IANA name, e.g. Europe/Dublin): the day a request\n\
             # is received in; empty: the calendar's, else this machine's.\n\
             time_zone = \"\"\n\
             # letter_sign_off, letter_footer: your words at the end of every letter (\\n between\n\
             # lines), e.g. \"Yours sincerely,\\nThe Privacy Team\"; the sentences that state the law stay.\n\
             letter_sign_off = \"\"\n\
             letter_footer = \"\"\n",
            d.organisation,
            builtin_names().join(", "),
            d.calendar,
            d.retention_years,
            d.export_dir,
            d.dpo_contact
        )
    }

    /// The settings file for these values, with the same comments.
    pub fn to_file(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let admins: Vec<String> = self.admins.iter().map(|a| q(a)).collect();
        let mut out = String::new();
        for line in Settings::default_file().lines() {
            let (key, _) = line.split_once(" = ").unwrap_or(("", ""));
            let value = match key {
                "organisation" => q(&self.organisation),
                "calendar" => q(&self.calendar),
                "retention_years" => self.retention_years.to_string(),
                "export_dir" => q(&self.export_dir),
                "admins" => format!("[{}]", admins.join(", ")),
                "supervisory_authority" => q(&self.supervisory_authority),
                "dpo_contact" => q(&self.dpo_contact),
                "time_zone" => q(&self.time_zone),
                "letter_sign_off" => q(&self.letter_sign_off),
                "letter_footer" => q(&self.letter_footer),
                _ => {
                    out.push_str(line);
                    out.push('\n');
                    continue;
                }
            };
            out.push_str(&format!("{key} = {value}\n"));
        }
        out
    }

    pub fn parse(file: &str, text: &str) -> Result<Settings, SettingsError> {
        let err = |field: &str, why: String| SettingsError {
            file: file.into(),
            field: field.into(),
            why,
        };
        let s: Settings = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|sp| {
                    format!(
                        "line {}",
                        text[..sp.start.min(text.len())].lines().count().max(1)
                    )
                })
                .unwrap_or_else(|| "file".into());
            err(&line, e.message().to_string())
        })?;
        if s.organisation.trim().is_empty() {
            return Err(err("organisation", "must not be empty".into()));
        }
        if s.dpo_contact.trim().is_empty() {
            return Err(err(
                "dpo_contact",
                "must not be empty: letters tell the subject how to reach the Data Protection Officer".into(),
            ));
        }
        // A shipped calendar, or the organisation's own in the data
        // directory (`holidays/NAME.toml`, checked when it is loaded).
        if s.calendar.is_empty()
            || !s
                .calendar
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(err(
                "calendar",
                format!(
                    "'{}' is not a calendar name: one of {}, or your own holidays/NAME.toml (lowercase letters, digits, '-')",
                    s.calendar,
                    builtin_names().join(", ")
                ),
            ));
        }
        if !s.time_zone.trim().is_empty() && s.time_zone.trim().parse::<chrono_tz::Tz>().is_err() {
            return Err(err(
                "time_zone",
                format!(
                    "'{}' is not a time zone: an IANA name such as Europe/Dublin, Europe/Berlin",
                    s.time_zone
                ),
            ));
        }
        for (field, text) in [
            ("letter_sign_off", &s.letter_sign_off),
            ("letter_footer", &s.letter_footer),
        ] {
            if text
                .chars()
                .any(|c| c != '\n' && crate::domain::text::is_unsafe(c))
            {
                return Err(err(
                    field,
                    "holds a control character: only line breaks (\\n) belong in it".into(),
                ));
            }
            if text.lines().count() > 8 || text.chars().count() > 600 {
                return Err(err(
                    field,
                    "at most 8 lines and 600 characters: a sign-off or footer, not a letter".into(),
                ));
            }
        }
        if !(1..=50).contains(&s.retention_years) {
            return Err(err(
                "retention_years",
                format!("{} is not between 1 and 50", s.retention_years),
            ));
        }
        if s.export_dir.trim().is_empty() {
            return Err(err("export_dir", "must not be empty".into()));
        }
        for a in &s.admins {
            let named = a
                .strip_prefix("group:")
                .or_else(|| a.strip_prefix("user:"))
                .is_some_and(|n| !n.trim().is_empty() && !n.contains(char::is_whitespace));
            if !named {
                return Err(err(
                    "admins",
                    format!("'{a}' is not \"group:NAME\" or \"user:NAME\""),
                ));
            }
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_parses_to_the_defaults() {
        assert_eq!(
            Settings::parse("s", &Settings::default_file()).unwrap(),
            Settings::default()
        );
        assert_eq!(Settings::default().calendar, "ireland");
        assert_eq!(Settings::default().retention_years, 6);
    }

    #[test]
    fn bad_values_are_named() {
        // (An unknown calendar name is refused when it is loaded: it may be
        // the organisation's own file.)
        let t = Settings::default_file().replace("\"ireland\"", "\"Narnia!\"");
        let e = Settings::parse("settings.toml", &t).unwrap_err();
        assert_eq!(e.field, "calendar");
        let t = Settings::default_file().replace("retention_years = 6", "retention_years = 0");
        assert_eq!(
            Settings::parse("s", &t).unwrap_err().field,
            "retention_years"
        );
        let t = Settings::default_file().replace("admins = []", "admins = [\"wheel\"]");
        assert_eq!(Settings::parse("s", &t).unwrap_err().field, "admins");
        let t = Settings::default_file().replace("admins = []", "admins = [\"group:dpo\"]");
        assert_eq!(Settings::parse("s", &t).unwrap().admins, ["group:dpo"]);
        let t = Settings::default_file() + "colour = \"red\"\n";
        let e = Settings::parse("s", &t).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }
}
