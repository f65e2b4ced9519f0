//! Where the desk keeps its data, and its settings file.

use crate::domain::settings::{Settings, SettingsError};
use crate::store::ensure_private_dir;
use std::path::{Path, PathBuf};

pub const SETTINGS_FILE: &str = "settings.toml";
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
