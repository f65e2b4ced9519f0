//! What the desk remembers between runs: filters, selection, masking, and
//! the source each export format went to. Holds a case id at most, never
//! personal data (the import folder, which may be named after a person, is
//! remembered for the session only).

use serde::{Deserialize, Serialize};
use std::path::Path;

pub const PREFS_FILE: &str = "desk-state.toml";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub state_filter: Option<String>,
    pub right_filter: Option<String>,
    pub show_closed: bool,
    pub selected: Option<String>,
    pub masked: bool,
    /// The source each export format was last imported into.
    pub import_sources: std::collections::BTreeMap<String, String>,
}

impl Prefs {
    /// Reads the remembered state; a missing or unreadable file means defaults
    /// (losing a filter is harmless, refusing to start would not be).
    pub fn load(data_dir: &Path) -> Prefs {
        std::fs::read_to_string(data_dir.join(PREFS_FILE))
            .ok()
            .and_then(|t| toml::from_str(&t).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        crate::service::paths::write_private(&data_dir.join(PREFS_FILE), text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_garbage() {
        let t = tempfile::tempdir().unwrap();
        let p = Prefs {
            state_filter: Some("in-progress".into()),
            selected: Some("DSR-2026-0001".into()),
            masked: true,
            ..Prefs::default()
        };
        p.save(t.path()).unwrap();
        assert_eq!(Prefs::load(t.path()), p);
        std::fs::write(t.path().join(PREFS_FILE), "\u{0}not toml").unwrap();
        assert_eq!(Prefs::load(t.path()), Prefs::default());
    }
}
