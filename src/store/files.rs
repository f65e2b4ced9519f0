//! The desk's files: private (directories 0700, files 0600), and the only
//! things whose modes it ever changes are the ones it made itself.
//!
//! Outputs (backups, closure logs, access packages, settings) are written
//! whole: into a temporary file created exclusively beside the target (a
//! fresh random name, `O_EXCL`, 0600 from birth — a symlink or file planted at
//! a predictable name is never opened), flushed, then renamed over the target.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` and any missing parents as 0700. A directory that already
/// exists is left exactly as it is: a shared `/tmp` (1777) or `/dev` must not
/// lose its mode because an export was written into it.
pub fn create_private_dirs(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// The desk's own data directory (or its store directory): created 0700 when
/// missing. One that exists must be a real directory (not a symlink) owned by
/// this user. If others can read it, it is made private only when it is
/// plainly the desk's: empty (just made for it, e.g. by `mktemp -d`) or
/// already holding the desk's settings or store. Anything else — `/tmp`,
/// `/dev`, a shared folder — is refused, never changed.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => create_private_dirs(dir),
        Err(e) => Err(e),
        Ok(m) if m.file_type().is_symlink() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a symbolic link: give the data directory's real path",
        )),
        Ok(m) if !m.is_dir() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is not a directory",
        )),
        // SAFETY: geteuid has no preconditions.
        Ok(m) if m.uid() != unsafe { libc::geteuid() } => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "belongs to another user: the desk keeps its data in a directory of its own",
        )),
        Ok(m) if m.permissions().mode() & 0o077 == 0 => Ok(()),
        Ok(m) if m.permissions().mode() & 0o7000 == 0 && plainly_ours(dir)? => {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        }
        Ok(m) => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "is open to others (mode {:o}) and holds files that are not the desk's: it is left as it is; give the desk a directory of its own (a new path, or an empty directory)",
                m.permissions().mode() & 0o7777
            ),
        )),
    }
}

/// Empty, or holding nothing but what the desk keeps in a data directory
/// (or sled keeps in a store).
fn plainly_ours(dir: &Path) -> io::Result<bool> {
    const DESKS: &[&str] = &["settings.toml", "store", "conf", "db", "blobs"];
    let mut names = Vec::new();
    for e in fs::read_dir(dir)? {
        names.push(e?.file_name());
    }
    Ok(names.is_empty() || names.iter().any(|n| DESKS.iter().any(|d| n == *d)))
}

/// Sets every file under `dir` (the desk's own store, made by it) to 0600 and
/// every directory to 0700, whatever the umask was when sled made them.
/// Symbolic links are neither followed nor changed.
pub fn tighten_files(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let meta = fs::symlink_metadata(entry.path())?;
        if meta.file_type().is_symlink() {
            continue;
        }
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        if meta.permissions().mode() & 0o777 != want {
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(want))?;
        }
        if meta.is_dir() {
            tighten_files(&entry.path())?;
        }
    }
    Ok(())
}

/// Refuses to let a rename replace anything but a plain file. Renaming over
/// `/dev/null` as root replaces the device with a regular file; renaming over
/// a symlink or directory would replace something that is not an output.
pub fn check_replaceable(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a plain file: give the path of a file to write (it is replaced whole)",
        )),
        _ => Ok(()),
    }
}

/// Writes `path` whole through `fill`: a temporary file created exclusively in
/// the same directory (0600 from birth), synced, renamed over `path`, and the
/// directory synced so the rename survives a crash. On any error the temporary
/// file (ours) is removed and `path` is untouched. Only a plain file (or
/// nothing) at `path` is ever replaced.
pub fn write_whole<T>(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    check_replaceable(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    // tempfile opens with O_CREAT|O_EXCL and mode 0600, retrying random names.
    let tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".partial")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    let mut w = io::BufWriter::new(tmp);
    let out = fill(&mut w)?;
    let tmp = w.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
    // Checked again just before the rename: what the caller named may have
    // been replaced by a device or a symlink while the file was being written.
    check_replaceable(path)?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)?;
    Ok(out)
}

/// Writes `bytes` as the whole of `path` (see [`write_whole`]).
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_whole(path, |w| w.write_all(bytes))
}

/// Bytes an unprivileged writer may still use on the disk holding `path`.
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: statvfs writes into the zeroed struct we own; `c` is a valid
    // NUL-terminated path.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Makes a rename or creation in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Overwrites a small bookkeeping file inside the store (created 0600, a
/// symlink refused). Not atomic and not synced: it is written after every
/// change, and a torn copy is simply ignored by its reader.
pub fn write_private_small(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(bytes)
}

/// Appends to a file of the desk's own, created 0600; a symlink planted at its
/// name is refused (`O_NOFOLLOW`), not followed.
pub fn append_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn an_existing_shared_folder_keeps_its_mode() {
        let t = tempfile::tempdir().unwrap();
        let shared = t.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        create_private_dirs(&shared).unwrap();
        write_private(&shared.join("log.csv"), b"x").unwrap();
        assert_eq!(mode(&shared), 0o1777);
        assert_eq!(mode(&shared.join("log.csv")), 0o600);
        // A directory the desk makes is private.
        let made = shared.join("a/b");
        create_private_dirs(&made).unwrap();
        assert_eq!(mode(&made), 0o700);
        assert_eq!(mode(&shared.join("a")), 0o700);
    }

    #[test]
    fn a_data_directory_open_to_others_is_refused_not_changed() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("data");
        fs::create_dir(&d).unwrap();
        fs::write(d.join("someone-elses.txt"), "x").unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
        let e = ensure_private_dir(&d).unwrap_err();
        assert!(e.to_string().contains("open to others"), "{e}");
        assert_eq!(mode(&d), 0o755);
        // A shared, sticky folder is never the desk's, even when empty.
        let shared = t.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(ensure_private_dir(&shared).is_err());
        assert_eq!(mode(&shared), 0o1777);
        // An empty directory made for the desk is made private.
        let empty = t.path().join("empty");
        fs::create_dir(&empty).unwrap();
        fs::set_permissions(&empty, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&empty).unwrap();
        assert_eq!(mode(&empty), 0o700);
        let fresh = t.path().join("fresh");
        ensure_private_dir(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);
        ensure_private_dir(&fresh).unwrap();
    }

    #[test]
    fn symlinks_planted_at_temporary_names_are_never_followed() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("victim");
        fs::write(&target, b"theirs").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        let out = t.path().join("backup.jsonl");
        // Every name an earlier version used for its temporary file.
        for n in ["backup.partial", "backup.tmp", ".backup.jsonl.partial"] {
            std::os::unix::fs::symlink(&target, t.path().join(n)).unwrap();
        }
        write_private(&out, b"secret").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"theirs");
        assert_eq!(mode(&target), 0o644);
        assert_eq!(fs::read(&out).unwrap(), b"secret");
        assert_eq!(mode(&out), 0o600);
        // No temporary file of ours is left behind: the target, the three
        // planted links and the output.
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 5);
    }

    #[test]
    fn a_symlink_at_the_output_or_in_the_store_is_not_written_through() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("victim");
        fs::write(&target, b"theirs").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        let link = t.path().join("out.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(write_private(&link, b"x").is_err());
        let log = t.path().join("rightsdesk.log");
        std::os::unix::fs::symlink(&target, &log).unwrap();
        assert!(append_private(&log, b"x").is_err());
        let store = t.path().join("store");
        fs::create_dir(&store).unwrap();
        std::os::unix::fs::symlink(&target, store.join("conf")).unwrap();
        tighten_files(&store).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"theirs");
        assert_eq!(mode(&target), 0o644);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("f");
        write_private(&out, b"old").unwrap();
        let r: io::Result<()> = write_whole(&out, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&out).unwrap(), b"old");
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 1);
    }
}
