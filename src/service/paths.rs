//! Where the desk keeps its data, and its settings file.

use crate::domain::settings::{Settings, SettingsError};
use crate::store::ensure_private_dir;
use std::path::{Path, PathBuf};

pub const SETTINGS_FILE: &str = "settings.toml";
/// The organisation's own catalogue of sources; without it, the shipped one.
pub const SOURCES_FILE: &str = "sources.toml";

/// The text of a file of the organisation's in the data directory, or
/// `None` when it is not there. Never read through a symlink or a FIFO.
fn read_own_if_there(path: &Path) -> Result<Option<String>, super::DeskError> {
    let read = |source| super::DeskError::Read {
        path: path.to_path_buf(),
        source,
    };
    match crate::store::files::open_own_plain(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(read(e)),
        Ok(mut f) => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut f, &mut text).map_err(read)?;
            Ok(Some(text))
        }
    }
}

/// The holiday calendar called `name`: the organisation's own
/// (`holidays/NAME.toml` in the data directory, validated) before a
/// shipped one of that name.
pub fn load_calendar(
    data_dir: &Path,
    name: &str,
) -> Result<crate::domain::HolidayCalendar, super::DeskError> {
    let path = data_dir.join("holidays").join(format!("{name}.toml"));
    Ok(match read_own_if_there(&path)? {
        None => crate::domain::HolidayCalendar::builtin(name)?,
        Some(text) => crate::domain::HolidayCalendar::parse(&path.display().to_string(), &text)?,
    })
}

/// The catalogue of sources the desk works by: `sources.toml` in the data
/// directory when there is one (validated: an error names the file and
/// the line), else the shipped catalogue.
pub fn load_catalogue(data_dir: &Path) -> Result<crate::domain::Catalogue, super::DeskError> {
    let path = data_dir.join(SOURCES_FILE);
    Ok(match read_own_if_there(&path)? {
        None => crate::domain::Catalogue::builtin(),
        Some(text) => crate::domain::Catalogue::parse(&path.display().to_string(), &text)?,
    })
}

/// The organisation's own request phrases, added to the shipped ones.
pub const PHRASES_FILE: &str = "request-phrases.toml";

/// The phrase table the inbox reads messages by: the shipped one, with the
/// organisation's own (`request-phrases.toml` in the data directory,
/// validated with file and line) added.
pub fn request_phrases(
    data_dir: &Path,
) -> Result<crate::domain::request_words::PhraseTable, super::DeskError> {
    let path = data_dir.join(PHRASES_FILE);
    let own = read_own_if_there(&path)?;
    let label = path.display().to_string();
    Ok(crate::domain::request_words::PhraseTable::shipped_and(
        own.as_deref().map(|t| (label.as_str(), t)),
    )?)
}

/// The organisation's own wording of its letters.
pub const LETTERS_FILE: &str = "letters.toml";

/// The sentences of the letters: the shipped ones, with the organisation's
/// own (`letters.toml` in the data directory, validated with file and line)
/// over them.
pub fn load_letters(
    data_dir: &Path,
) -> Result<crate::domain::letter_text::LetterTexts, super::DeskError> {
    Ok(letters_from(&data_dir.join(LETTERS_FILE))?
        .unwrap_or_else(crate::domain::letter_text::LetterTexts::shipped))
}

/// The letters file at `path` over the shipped sentences; `None` if there
/// is none (`letters check` reads any file by the same rule).
pub fn letters_from(
    path: &Path,
) -> Result<Option<crate::domain::letter_text::LetterTexts>, super::DeskError> {
    read_own_if_there(path)?
        .map(|text| {
            crate::domain::letter_text::LetterTexts::shipped_and(&path.display().to_string(), &text)
                .map_err(super::DeskError::from)
        })
        .transpose()
}

pub const STORE_DIR: &str = "store";

/// `--data-dir`, else `RIGHTSDESK_DATA_DIR` (clap reads both), else the platform
/// data directory: `$XDG_DATA_HOME/rightsdesk` or `~/.local/share/rightsdesk`.
pub fn default_data_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("rightsdesk");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/rightsdesk")
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsLoadError {
    #[error(transparent)]
    Invalid(#[from] SettingsError),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads the settings, writing the commented defaults on first run.
pub fn load_or_create_settings(data_dir: &Path) -> Result<Settings, SettingsLoadError> {
    let path = data_dir.join(SETTINGS_FILE);
    let io = |source| SettingsLoadError::Io {
        path: path.clone(),
        source,
    };
    ensure_private_dir(data_dir).map_err(|source| SettingsLoadError::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    if !path.exists() {
        write_private(&path, Settings::default_file().as_bytes()).map_err(io)?;
    }
    read_settings(&path)
}

/// Reads settings if the file exists (without creating anything).
pub fn peek_settings(data_dir: &Path) -> Result<Option<Settings>, SettingsLoadError> {
    let path = data_dir.join(SETTINGS_FILE);
    if path.exists() {
        read_settings(&path).map(Some)
    } else {
        Ok(None)
    }
}

fn read_settings(path: &Path) -> Result<Settings, SettingsLoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsLoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Settings::parse(&path.display().to_string(), &text)?)
}

pub use crate::store::files::{check_replaceable, write_private};

/// Sets a data directory up for an organisation of its own: its settings
/// (name, calendar, supervisory authority, DPO contact) and a catalogue of
/// sources to edit. Both are checked before either is written; the
/// catalogue is written first, the settings last, each whole (0600, then
/// renamed). Refused where the organisation was already set up: settings
/// edited since the first start, or another catalogue already there.
pub fn init_organisation(
    data_dir: &Path,
    settings: &Settings,
    catalogue_text: &str,
) -> Result<(), super::DeskError> {
    let settings_path = data_dir.join(SETTINGS_FILE);
    let sources_path = data_dir.join(SOURCES_FILE);
    let text = settings.to_file();
    Settings::parse(&settings_path.display().to_string(), &text)
        .map_err(SettingsLoadError::from)?;
    crate::domain::Catalogue::parse(&sources_path.display().to_string(), catalogue_text)?;
    load_calendar(data_dir, &settings.calendar)?;
    let refuse = super::DeskError::SetUp;
    // Everything is checked before anything is written: a path that is not
    // a plain file of ours (a folder, a symlink, dangling or not) refuses.
    let plain = |p: &Path| -> Result<bool, super::DeskError> {
        match std::fs::symlink_metadata(p) {
            Err(_) => Ok(false),
            Ok(m) if m.file_type().is_file() => Ok(true),
            Ok(_) => Err(refuse(format!(
                "{} is not a plain file (a folder or a symlink): remove it first",
                p.display()
            ))),
        }
    };
    if plain(&settings_path)? {
        let t =
            std::fs::read_to_string(&settings_path).map_err(|source| super::DeskError::Read {
                path: settings_path.clone(),
                source,
            })?;
        if t != Settings::default_file() {
            return Err(refuse(format!(
                "{} is set up already ({} was edited): change it there",
                data_dir.display(),
                settings_path.display()
            )));
        }
    }
    // The catalogue is written first and the settings last: a kill between
    // leaves this catalogue with the settings untouched, and running the
    // same init again finishes it. Any other catalogue there is staff's.
    if plain(&sources_path)?
        && std::fs::read_to_string(&sources_path).ok().as_deref() != Some(catalogue_text)
    {
        return Err(refuse(format!(
            "{} is there already: edit it, and check it with `rightsdesk sources check`",
            sources_path.display()
        )));
    }
    // Once cases exist they were planned by the catalogue they have:
    // another one would leave their tasks in sources it does not know.
    if data_dir.join(STORE_DIR).exists() {
        let desk = super::Desk::open(data_dir)?;
        if !desk.cases_page(None, 1)?.0.is_empty() {
            return Err(refuse(format!(
                "{} holds cases already: init sets up a new organisation before its first case (edit settings.toml and sources.toml instead, keeping the sources its cases name)",
                data_dir.display()
            )));
        }
    }
    ensure_private_dir(data_dir).map_err(|source| SettingsLoadError::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| super::DeskError::Read { path, source }
    };
    write_private(&sources_path, catalogue_text.as_bytes()).map_err(io(&sources_path))?;
    write_private(&settings_path, text.as_bytes()).map_err(io(&settings_path))?;
    Ok(())
}

#[cfg(test)]
mod replace_tests {
    use super::*;

    #[test]
    fn only_a_plain_file_is_ever_replaced() {
        let t = tempfile::tempdir().unwrap();
        // A FIFO stands in for /dev/null (a test cannot make device nodes).
        let fifo = t.path().join("pipe");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = write_private(&fifo, b"secret").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        // A directory neither; a plain file (or none yet) is written.
        assert!(write_private(t.path(), b"x").is_err());
        let file = t.path().join("prefs.toml");
        write_private(&file, b"one").unwrap();
        write_private(&file, b"two").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"two");
    }
}
