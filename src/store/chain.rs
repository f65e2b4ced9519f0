//! What proves the audit chain from outside the store: the chain key that
//! seals each entry, and the last head this data directory saw. Both live in
//! the data directory beside the store (`audit.key`, `audit.head`, 0600), not
//! in it and not in its backups, so a copy of the store or a backup cannot
//! carry a rewritten chain past them.

use crate::domain::audit::ChainKey;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "audit.key";
pub const HEAD_FILE: &str = "audit.head";

#[derive(Serialize, Deserialize)]
struct KeyFile {
    /// 32 random bytes, hex.
    key: String,
    /// The first entry sealed with it.
    from: u64,
}

/// The chain's head: its last entry's number and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: u64,
    pub hash: String,
}

impl std::fmt::Display for ChainHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for ChainHead {
    type Err = String;
    /// `SEQ:HASH`, as `rightsdesk audit head` prints it.
    fn from_str(s: &str) -> Result<ChainHead, String> {
        let (seq, hash) = s
            .trim()
            .split_once(':')
            .ok_or("a chain head is SEQ:HASH, as `rightsdesk audit head` prints it")?;
        let seq = seq
            .parse()
            .map_err(|_| format!("'{seq}' is not an entry number"))?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the hash of a chain head is 64 hex digits".into());
        }
        Ok(ChainHead {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// The data directory's chain key, if it has one.
pub fn load_key(data_dir: &Path) -> io::Result<Option<ChainKey>> {
    let text = match std::fs::read_to_string(key_path(data_dir)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        r => r?,
    };
    parse_key(&text).map(Some)
}

fn parse_key(text: &str) -> io::Result<ChainKey> {
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, format!("{KEY_FILE}: {why}"));
    let f: KeyFile = serde_json::from_str(text).map_err(|_| bad("not a chain key file"))?;
    let key = hex::decode(&f.key).map_err(|_| bad("the key is not hex"))?;
    if key.len() < 32 {
        return Err(bad("the key is shorter than 32 bytes"));
    }
    Ok(ChainKey::new(key, f.from.max(1)))
}

/// Makes a new chain key that seals entries from `from` on; never replaces
/// one that exists (created exclusively, 0600).
pub fn create_key(data_dir: &Path, from: u64) -> io::Result<ChainKey> {
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| io::Error::other(e.to_string()))?;
    let text = serde_json::to_string(&KeyFile {
        key: hex::encode(&key),
        from,
    })
    .expect("key file serialises");
    super::files::create_new_private(&key_path(data_dir), text.as_bytes())?;
    Ok(ChainKey::new(key, from))
}

/// Copies a chain key given on the command line (restore into a new data
/// directory) after checking it reads as one.
pub fn install_key(data_dir: &Path, from_file: &Path) -> io::Result<()> {
    let text = std::fs::read_to_string(from_file)?;
    parse_key(&text)?;
    super::files::create_new_private(&key_path(data_dir), text.as_bytes())
}

/// Whether the key file at `path` holds `key`.
pub fn same_key(path: &Path, key: &ChainKey) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| parse_key(&t).ok())
        .is_some_and(|k| k.bytes() == key.bytes() && k.from == key.from)
}

/// The last head this data directory saw, if it kept one that reads.
pub fn seen_head(data_dir: &Path) -> Option<ChainHead> {
    read_seen_head(data_dir).ok().flatten()
}

/// The last head this data directory saw: none if it never noted one, an
/// error if the file is there but does not read (emptied or edited: that
/// is itself evidence, never taken for "none").
pub fn read_seen_head(data_dir: &Path) -> Result<Option<ChainHead>, String> {
    let path = data_dir.join(HEAD_FILE);
    match std::fs::read_to_string(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| format!("{} does not read as a chain head", path.display())),
    }
}

/// Notes the head after a change: replaced whole by a rename (old or new
/// after a crash, never torn), not synced: at worst it lags one change
/// behind the store, which the check allows.
pub fn note_head(data_dir: &Path, head: &ChainHead) {
    let text = serde_json::to_string(head).expect("head serialises");
    let _ = super::files::replace_quickly(&data_dir.join(HEAD_FILE), text.as_bytes());
}

/// Sets the head after a restore: the administrator chose this chain.
pub fn reset_head(data_dir: &Path, head: Option<&ChainHead>) -> io::Result<()> {
    match head {
        Some(h) => super::files::write_private(
            &data_dir.join(HEAD_FILE),
            serde_json::to_string(h)
                .expect("head serialises")
                .as_bytes(),
        ),
        None => match std::fs::remove_file(data_dir.join(HEAD_FILE)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_private_and_reads_back() {
        let t = tempfile::tempdir().unwrap();
        assert!(load_key(t.path()).unwrap().is_none());
        let k = create_key(t.path(), 7).unwrap();
        let back = load_key(t.path()).unwrap().unwrap();
        assert_eq!((back.bytes(), back.from), (k.bytes(), 7));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key_path(t.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(
            create_key(t.path(), 1).is_err(),
            "an existing key is never replaced"
        );
    }

    #[test]
    fn heads_read_as_printed() {
        let h: ChainHead = format!("12:{}", "AB".repeat(32)).parse().unwrap();
        assert_eq!(h.seq, 12);
        assert_eq!(h.to_string(), format!("12:{}", "ab".repeat(32)));
        assert!("12".parse::<ChainHead>().is_err());
        assert!("x:00".parse::<ChainHead>().is_err());
    }
}
