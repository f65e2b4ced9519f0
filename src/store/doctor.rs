//! `rightsdesk doctor`: what state a data directory is in, read from its
//! files alone — without opening the store (sled writes when it opens) and
//! without changing anything. Each finding says what it means and what to do.

use super::{chain, layout};
use serde::Serialize;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// All is as it should be.
    Ok,
    /// Left by an interrupted operation; the next start finishes or rolls
    /// it back by itself.
    Recoverable,
    /// Needs a person.
    Problem,
    /// Works, but is worth a look (the shipped organisation's name, say).
    Advice,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub level: Level,
    pub what: String,
}

pub(crate) fn ok(what: impl Into<String>) -> Finding {
    Finding {
        level: Level::Ok,
        what: what.into(),
    }
}

pub(crate) fn advice(what: impl Into<String>) -> Finding {
    Finding {
        level: Level::Advice,
        what: what.into(),
    }
}

fn recoverable(what: impl Into<String>) -> Finding {
    Finding {
        level: Level::Recoverable,
        what: what.into(),
    }
}

pub(crate) fn problem(what: impl Into<String>) -> Finding {
    Finding {
        level: Level::Problem,
        what: what.into(),
    }
}

/// Looks at `data_dir` and lists what it finds, most important first.
pub fn examine(data_dir: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let meta = match std::fs::symlink_metadata(data_dir) {
        Ok(m) => m,
        Err(e) => {
            out.push(problem(format!(
                "{}: {e} (a first start creates it)",
                data_dir.display()
            )));
            return out;
        }
    };
    let mode = meta.permissions().mode() & 0o7777;
    if !meta.is_dir() {
        out.push(problem(format!(
            "{} is not a directory",
            data_dir.display()
        )));
        return out;
    }
    if mode & 0o077 != 0 {
        out.push(problem(format!(
            "the data directory is mode {mode:o}: others may read personal data (chmod 700)"
        )));
    } else {
        out.push(ok(format!("the data directory is private ({mode:o})")));
    }
    // SAFETY: geteuid has no preconditions.
    if meta.uid() != unsafe { libc::geteuid() } {
        out.push(problem(
            "the data directory belongs to another user: run the desk as that user".to_string(),
        ));
    }
    let at = |n: &str| data_dir.join(n);
    let exists = |n: &str| std::fs::symlink_metadata(at(n)).is_ok();
    if layout::restore_unfinished(data_dir) {
        out.push(problem(format!(
            "{}: a restore was interrupted; run the same `rightsdesk restore` again (it starts over): nothing else opens this directory until then",
            layout::RESTORING
        )));
    }
    for (name, meaning) in [
        (
            layout::OLD,
            "a rebuild was interrupted while swapping stores",
        ),
        (layout::REBUILDING, "a rebuild was interrupted"),
        (layout::DUMP, "a rebuild's dump was left behind"),
    ] {
        if exists(name) {
            out.push(recoverable(format!(
                "{name}: {meaning}; the next start finishes or rolls it back"
            )));
        }
    }
    if let Ok(rd) = std::fs::read_dir(data_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if layout::is_our_partial(&name) {
                out.push(recoverable(format!(
                    "{name}: a write the desk did not finish; the next start removes it"
                )));
            }
        }
    }
    let store = at(layout::STORE);
    if !store.is_dir() {
        if exists(layout::OLD) && exists(layout::REBUILDING) {
            out.push(recoverable(
                "no store: the rebuilt one is complete beside it and the next start puts it in place",
            ));
        } else if !layout::restore_unfinished(data_dir) {
            out.push(ok(
                "no store yet (a first start creates one, or restore a backup)",
            ));
        }
    } else {
        examine_store(&store, &mut out);
    }
    match chain::load_key(data_dir) {
        Ok(Some(k)) => out.push(ok(format!(
            "the chain key seals audit entries from #{} on",
            k.from
        ))),
        Ok(None) if store.is_dir() => out.push(recoverable(
            "no chain key yet: the next start makes one (unless the chain is already sealed: then put back the copy of audit.key)",
        )),
        Ok(None) => {}
        Err(e) => out.push(problem(format!(
            "the chain key cannot be read ({e}): put back the copy of audit.key"
        ))),
    }
    if let Some(h) = chain::seen_head(data_dir) {
        out.push(ok(format!(
            "this data directory last saw the audit chain at {h} (`audit verify` checks the store still holds it)"
        )));
    }
    match layout::in_use(data_dir) {
        Ok(false) => out.push(ok("no process has the store open")),
        Ok(true) => out.push(ok(
            "another process has the store open (a desk, a command or `serve`): the store files may be mid-change",
        )),
        Err(e) => out.push(problem(format!("the lock file cannot be opened: {e}"))),
    }
    match super::files::free_bytes(data_dir) {
        Ok(free) if free < super::SPARE_BYTES => out.push(problem(format!(
            "the disk is nearly full ({} KiB free): changes are refused until space is freed",
            free / 1024
        ))),
        Ok(free) => out.push(ok(format!("{} MiB free on the disk", free >> 20))),
        Err(_) => {}
    }
    out.sort_by_key(Finding::rank);
    out
}

impl Finding {
    /// Most important first: problems, then what resumes, advice, and what is well.
    pub fn rank(&self) -> u8 {
        match self.level {
            Level::Problem => 0,
            Level::Recoverable => 1,
            Level::Advice => 2,
            Level::Ok => 3,
        }
    }
}

fn examine_store(store: &Path, out: &mut Vec<Finding>) {
    let Ok(rd) = std::fs::read_dir(store) else {
        out.push(problem("the store directory cannot be read"));
        return;
    };
    let mut has_db = false;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "db" {
            has_db = true;
        }
        let plain = std::fs::symlink_metadata(e.path()).is_ok_and(|m| m.is_file());
        if name.starts_with("import-") && name.ends_with(".rows") && plain {
            out.push(recoverable(format!(
                "store/{name}: the rows of an import cut short (a kill or a full disk); the next start finishes it if it was committed, else removes it"
            )));
        } else if name.starts_with("import-") && name.ends_with(".rows") {
            out.push(problem(format!(
                "store/{name} is not a plain file: not the desk's, which never reads or removes it; move it away"
            )));
        }
        if name.starts_with("snap.") && name.ends_with(".generating") {
            out.push(recoverable(format!(
                "store/{name}: a snapshot sled never finished (a kill or a full disk); the next start removes it"
            )));
        }
        if let Ok(m) = std::fs::symlink_metadata(e.path()) {
            if m.file_type().is_symlink() {
                out.push(problem(format!(
                    "store/{name} is a symbolic link: the store holds none of its own; move it away"
                )));
            } else if m.permissions().mode() & 0o077 != 0 {
                out.push(recoverable(format!(
                    "store/{name} is readable by others; the next start makes it private"
                )));
            }
        }
    }
    if !has_db {
        out.push(problem(
            "the store has no db file: it is not a whole store (restore from a backup)",
        ));
        return;
    }
    match super::check_not_truncated(store) {
        Ok(()) => out.push(ok(
            "the store's db file is as long as when it was last used",
        )),
        Err(e) => out.push(problem(format!("{e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_rebuild_is_named_and_nothing_changes() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
        for n in [layout::OLD, layout::REBUILDING] {
            std::fs::create_dir(d.join(n)).unwrap();
            std::fs::write(d.join(n).join("db"), "x").unwrap();
        }
        let before: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let f = examine(d);
        assert!(f
            .iter()
            .any(|f| f.level == Level::Recoverable && f.what.contains("puts it in place")));
        assert!(!f.iter().any(|f| f.level == Level::Problem), "{f:?}");
        let after: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(before, after, "nothing was created or removed");
    }
}
