//! The data directory's store and the operations that replace it in several
//! steps (rebuild, restore). Each such operation works beside the store and
//! makes its result appear by one rename; [`recover`] is the rule every start
//! applies first, so a kill at any step is finished or rolled back and half a
//! store is never taken for a whole one:
//!
//! | left behind                          | means                               | the next start |
//! |--------------------------------------|-------------------------------------|----------------|
//! | `store.old` and `store`              | rebuild swapped, old not yet removed | removes `store.old` |
//! | `store.old` and `store.rebuilding`   | killed between rebuild's renames    | renames the rebuilt (complete, verified) store in, removes the old |
//! | `store.old` alone                    | (cannot happen, but)                | renames it back |
//! | `store.rebuilding` without `store.old` | rebuild killed before its swap    | removes it: the store is as it was |
//! | `restore.unfinished` or `store.restoring` (no `store`) | restore killed before it finished | kept as its mark: nothing opens the directory but the restore run again, which starts over |
//! | `restore.unfinished` and `store`     | restore killed after its store appeared | removes the mark: the restore is done |
//! | `rebuild.jsonl`, `.NAME.*.partial` of the desk's own files | a rebuild's dump, a write cut short | removed |
//! | `store/snap.*.generating`            | sled killed (or out of space) writing a snapshot | removed: sled rewrites it from its log |
//!
//! A lock file (`rightsdesk.lock`, flock) keeps these steps to one process:
//! an open store holds it shared; rebuild, restore and the recovery itself
//! hold it exclusively.

use std::fs;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

pub const STORE: &str = "store";
pub const REBUILDING: &str = "store.rebuilding";
pub const OLD: &str = "store.old";
pub const RESTORING: &str = "store.restoring";
pub const DUMP: &str = "rebuild.jsonl";
const LOCK: &str = "rightsdesk.lock";

/// A hold on the data directory's lock file; released when dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: fs::File,
}

/// Why the lock was not had.
#[derive(Debug)]
pub enum LockError {
    /// Another process is rebuilding or restoring the store (or, for an
    /// exclusive hold, has it open).
    Held,
    Io(io::Error),
}

fn open_lock_file(data_dir: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(data_dir.join(LOCK))
}

fn flock(f: &fs::File, op: i32) -> Result<(), LockError> {
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), op | libc::LOCK_NB) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Err(LockError::Held),
            _ => return Err(LockError::Io(e)),
        }
    }
}

impl DirLock {
    /// For rebuild and restore: nobody else may have the store open.
    pub fn exclusive(data_dir: &Path) -> Result<DirLock, LockError> {
        let f = open_lock_file(data_dir).map_err(LockError::Io)?;
        flock(&f, libc::LOCK_EX)?;
        Ok(DirLock { _file: f })
    }

    /// For opening the store: the recovery rule runs first when nobody else
    /// holds the directory; then the hold is shared, which keeps a rebuild
    /// or restore from swapping the store under an open one.
    pub fn for_open(data_dir: &Path) -> Result<DirLock, LockError> {
        let f = open_lock_file(data_dir).map_err(LockError::Io)?;
        match flock(&f, libc::LOCK_EX) {
            Ok(()) => {
                recover(data_dir).map_err(LockError::Io)?;
                flock(&f, libc::LOCK_SH)?;
            }
            // Someone has the store open (so it was recovered when they
            // opened it): share; a rebuild or restore under way refuses.
            Err(LockError::Held) => flock(&f, libc::LOCK_SH)?,
            Err(e) => return Err(e),
        }
        Ok(DirLock { _file: f })
    }
}

/// Whether another process holds the data directory (for `doctor`: the lock
/// file is opened only if it exists, and the hold let go at once).
pub fn in_use(data_dir: &Path) -> io::Result<bool> {
    let f = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(data_dir.join(LOCK))
    {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        r => r?,
    };
    match flock(&f, libc::LOCK_EX) {
        Ok(()) => Ok(false),
        Err(LockError::Held) => Ok(true),
        Err(LockError::Io(e)) => Err(e),
    }
}

fn exists(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok()
}

fn is_dir(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
}

/// Removes a directory or file the desk made (never follows a symlink into
/// one); nothing there is fine.
pub fn remove_ours(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
    }
}

/// Finishes or rolls back whatever multi-step operation a kill interrupted
/// (see the table above). Call with the exclusive lock held.
pub fn recover(data_dir: &Path) -> io::Result<()> {
    let at = |n: &str| data_dir.join(n);
    if is_dir(&at(OLD)) {
        if is_dir(&at(STORE)) {
            // A finished swap: the replaced store goes.
            remove_ours(&at(OLD))?;
        } else if is_dir(&at(REBUILDING)) {
            // Cut between the renames: the rebuilt store is complete.
            appear(&at(REBUILDING), &at(STORE))?;
            remove_ours(&at(OLD))?;
        } else {
            appear(&at(OLD), &at(STORE))?;
        }
    }
    // A rebuild cut before its swap: the store is as it was.
    remove_ours(&at(REBUILDING))?;
    // A restore that put its store in place but was killed before taking its
    // mark off is finished.
    if is_dir(&at(STORE)) && exists(&at(RESTORE_MARK)) {
        fs::remove_file(at(RESTORE_MARK))?;
    }
    // A half-restored store stays as the mark that a restore is unfinished:
    // until the restore runs again (and starts over), nothing opens the
    // directory, so an empty store never takes the backup's place.
    for entry in fs::read_dir(data_dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name == DUMP || is_our_partial(&name) {
            remove_ours(&at(&name))?;
        }
    }
    remove_sled_leftovers(&at(STORE))
}

/// The desk's own files in a data directory, written whole through a
/// temporary `.NAME.XXXXXX.partial` beside them (see `files::write_whole`).
const WRITTEN_WHOLE: &[&str] = &[
    "settings.toml",
    "audit.head",
    "desk-state.toml",
    "keys.toml",
    DUMP,
];

/// A temporary file one of the desk's own writes left in its data directory.
pub fn is_our_partial(name: &str) -> bool {
    WRITTEN_WHOLE.iter().any(|n| {
        name.strip_prefix('.')
            .and_then(|r| r.strip_prefix(n))
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|r| r.ends_with(".partial") && !r.contains('/'))
    })
}

/// sled writes a snapshot to `snap.N.generating` and renames it when done;
/// one left behind (a kill, a full disk) is incomplete by construction and
/// makes sled report corruption at the next open.
fn remove_sled_leftovers(store: &Path) -> io::Result<()> {
    let Ok(rd) = fs::read_dir(store) else {
        return Ok(());
    };
    for entry in rd {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            if let Ok(m) = fs::symlink_metadata(entry.path()) {
                if m.is_file() {
                    fs::remove_file(entry.path())?;
                }
            }
        }
    }
    Ok(())
}

/// The mark of a restore under way: written first, removed last.
pub const RESTORE_MARK: &str = "restore.unfinished";

/// Whether a restore was cut short here (and must be run again).
pub fn restore_unfinished(data_dir: &Path) -> bool {
    !is_dir(&data_dir.join(STORE))
        && (exists(&data_dir.join(RESTORE_MARK)) || is_dir(&data_dir.join(RESTORING)))
}

/// The mark of a restore as this run found or put it down.
pub struct RestoreMark {
    /// The head the directory had seen before the first run began.
    pub seen: Option<u64>,
    /// This run put the mark down (an interrupted run had not).
    pub made_now: bool,
}

/// Puts down the mark of a restore, keeping one an interrupted run left
/// (with the head the directory had seen before it).
pub fn mark_restore(data_dir: &Path, seen: Option<u64>) -> io::Result<RestoreMark> {
    let path = data_dir.join(RESTORE_MARK);
    if let Ok(text) = fs::read_to_string(&path) {
        return Ok(RestoreMark {
            seen: text.trim().parse().ok(),
            made_now: false,
        });
    }
    let text = seen.map(|s| s.to_string()).unwrap_or_default();
    super::files::create_new_private(&path, text.as_bytes())?;
    Ok(RestoreMark {
        seen,
        made_now: true,
    })
}

/// Takes the mark off once the restored store is in place.
pub fn unmark_restore(data_dir: &Path) -> io::Result<()> {
    match fs::remove_file(data_dir.join(RESTORE_MARK)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => super::files::sync_dir(data_dir),
    }
}

/// Replaces `target` by the complete directory `built` in one rename, then
/// makes the rename durable.
pub fn appear(built: &Path, target: &Path) -> io::Result<()> {
    fs::rename(built, target)?;
    if let Some(dir) = target.parent() {
        super::files::sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(names: &[&str]) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for n in names {
            fs::create_dir(t.path().join(n)).unwrap();
            fs::write(t.path().join(n).join("marker"), n).unwrap();
        }
        t
    }

    fn marker(t: &tempfile::TempDir) -> String {
        fs::read_to_string(t.path().join(STORE).join("marker")).unwrap()
    }

    fn left(t: &tempfile::TempDir) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_kill_between_rebuilds_renames_finishes_the_rebuild() {
        let t = dir_with(&[OLD, REBUILDING]);
        recover(t.path()).unwrap();
        assert_eq!(marker(&t), REBUILDING);
        assert_eq!(left(&t), [STORE]);
    }

    #[test]
    fn a_kill_after_the_swap_removes_the_old_store() {
        let t = dir_with(&[OLD, STORE]);
        recover(t.path()).unwrap();
        assert_eq!(marker(&t), STORE);
        assert_eq!(left(&t), [STORE]);
    }

    #[test]
    fn a_kill_before_the_swap_keeps_the_store_as_it_was() {
        let t = dir_with(&[STORE, REBUILDING]);
        fs::write(t.path().join(DUMP), "half").unwrap();
        recover(t.path()).unwrap();
        assert_eq!(marker(&t), STORE);
        assert_eq!(left(&t), [STORE]);
    }

    #[test]
    fn a_half_restored_store_is_never_taken_for_one() {
        let t = dir_with(&[RESTORING]);
        recover(t.path()).unwrap();
        // Kept as the mark of an unfinished restore; no store appears.
        assert_eq!(left(&t), [RESTORING]);
        assert!(restore_unfinished(t.path()));
    }

    #[test]
    fn a_snapshot_sled_never_finished_is_removed() {
        let t = dir_with(&[STORE]);
        let snap = t
            .path()
            .join(STORE)
            .join("snap.0000000000001234.generating");
        fs::write(&snap, "").unwrap();
        fs::write(t.path().join(STORE).join("snap.0000000000001234"), "kept").unwrap();
        recover(t.path()).unwrap();
        assert!(!snap.exists());
        assert!(t.path().join(STORE).join("snap.0000000000001234").exists());
    }

    #[test]
    fn an_exclusive_hold_keeps_others_out() {
        let t = tempfile::tempdir().unwrap();
        let ex = DirLock::exclusive(t.path()).unwrap();
        assert!(matches!(DirLock::for_open(t.path()), Err(LockError::Held)));
        drop(ex);
        let open = DirLock::for_open(t.path()).unwrap();
        let second = DirLock::for_open(t.path()).unwrap();
        assert!(matches!(DirLock::exclusive(t.path()), Err(LockError::Held)));
        drop((open, second));
        DirLock::exclusive(t.path()).unwrap();
    }
}
