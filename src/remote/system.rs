//! The machine's own word on where the team's service is:
//! `/etc/rightsdesk/rightsdesk.toml` (or the file `RIGHTSDESK_SYSTEM_CONFIG`
//! names). An officer who forgets `RIGHTSDESK_SOCKET` on the team server is
//! then still sent to the team's store, never to a second, empty one.
//!
//! ```toml
//! socket = "/run/rightsdesk/rightsdesk.sock"   # where `rightsdesk serve` listens
//! data_dir = "/var/lib/rightsdesk"             # the service's own data directory
//! ```

use std::path::{Path, PathBuf};

pub const DEFAULT_PATH: &str = "/etc/rightsdesk/rightsdesk.toml";

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// The team service's socket.
    pub socket: Option<PathBuf>,
    /// The service's data directory: opened directly when the service is
    /// stopped (maintenance by its user), never refused as "another store".
    pub data_dir: Option<PathBuf>,
}

/// The system file, if there is one; a file that does not read is an error
/// naming it and its field.
pub fn load() -> Result<Option<SystemConfig>, String> {
    let path = std::env::var_os("RIGHTSDESK_SYSTEM_CONFIG")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_PATH), PathBuf::from);
    parse_file(&path)
}

fn parse_file(path: &Path) -> Result<Option<SystemConfig>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Whether `dir` is the service's own data directory.
pub fn is_service_dir(config: &SystemConfig, dir: &Path) -> bool {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    config.data_dir.as_deref().is_some_and(|d| same(d, dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_names_the_socket_and_a_bad_field_is_named() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("rightsdesk.toml");
        assert!(parse_file(&p).unwrap().is_none());
        std::fs::write(&p, "socket = \"/run/x.sock\"\ndata_dir = \"/var/lib/x\"\n").unwrap();
        let c = parse_file(&p).unwrap().unwrap();
        assert_eq!(c.socket.as_deref(), Some(Path::new("/run/x.sock")));
        assert!(is_service_dir(&c, Path::new("/var/lib/x")));
        assert!(!is_service_dir(
            &c,
            Path::new("/home/alice/.local/share/rightsdesk")
        ));
        std::fs::write(&p, "sokcet = \"/run/x.sock\"\n").unwrap();
        let e = parse_file(&p).unwrap_err();
        assert!(e.contains("rightsdesk.toml") && e.contains("sokcet"), "{e}");
    }
}
