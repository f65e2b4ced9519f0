//! The desk's files: private (directories 0700, files 0600), and the only
//! things whose modes it ever changes are the ones it made itself.
//!
//! Outputs (backups, closure logs, access packages, settings) are written
//! whole (see [`write_whole`]): into an unnamed 0600 file beside the target,
//! named only once complete under a fresh random name, then renamed over the
//! target — a symlink or file planted at a predictable name is never opened.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

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
/// plainly the desk's (see `plainly_ours`): empty (just made for it, e.g. by
/// `mktemp -d`) or holding nothing but the desk's own files. Anything else —
/// `/tmp`, `/dev`, a shared folder — is refused, never changed.
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
                "is open to others (mode {:o}) and is not plainly the desk's own: it is left as it is; give the desk a directory of its own (a new path, or an empty private directory)",
                m.permissions().mode() & 0o7777
            ),
        )),
    }
}

/// What the desk keeps in a data directory: its own files by name.
const DATA_NAMES: &[&str] = &[
    "settings.toml",
    "rebuild.jsonl",
    "rightsdesk.log",
    "rightsdesk.lock",
    "rightsdesk.sock",
    "audit.key",
    "audit.head",
    "keys.toml",
    "desk-state.toml",
    "restore.unfinished",
    "sources.toml",
    "request-phrases.toml",
    "letters.toml",
];
/// Store directories in a data directory (the store, and those a rebuild or
/// restore builds beside it).
const STORE_DIRS: &[&str] = &["store", "store.old", "store.rebuilding", "store.restoring"];
/// What sled (and the desk) keep in a store directory.
const STORE_NAMES: &[&str] = &["conf", "db", "blobs", "rightsdesk.size"];

fn names(dir: &Path) -> io::Result<Vec<(String, fs::Metadata)>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        let m = fs::symlink_metadata(e.path())?;
        out.push((e.file_name().to_string_lossy().into_owned(), m));
    }
    Ok(out)
}

/// A store directory holding nothing but sled's files: `conf`, `db`,
/// `rightsdesk.size` and `snap.*` as plain files, `blobs` as a folder.
fn plainly_a_store(dir: &Path) -> io::Result<bool> {
    Ok(names(dir)?.iter().all(|(n, m)| {
        if n == "blobs" {
            m.is_dir()
        } else {
            m.is_file()
                && (STORE_NAMES.contains(&n.as_str())
                    || n.starts_with("snap.")
                    || (n.starts_with("import-") && n.ends_with(".rows")))
        }
    }))
}

/// Empty, or holding nothing but what the desk keeps there: in a data
/// directory its own files by name and store folders that are plainly
/// stores; in a store folder, sled's files. A folder that merely holds a
/// `db` or a `store` among other things is not taken.
fn plainly_ours(dir: &Path) -> io::Result<bool> {
    let is_store = dir
        .file_name()
        .is_some_and(|n| STORE_DIRS.iter().any(|s| n == *s));
    if is_store {
        return plainly_a_store(dir);
    }
    for (n, m) in names(dir)? {
        let ours = if STORE_DIRS.contains(&n.as_str()) {
            m.is_dir() && plainly_a_store(&dir.join(&n))?
        } else {
            m.is_file() && DATA_NAMES.contains(&n.as_str())
        };
        if !ours {
            return Ok(false);
        }
    }
    Ok(true)
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
    use std::os::unix::fs::MetadataExt;
    match fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a plain file: give the path of a file to write (it is replaced whole)",
        )),
        // Another user's file in a folder open to all is theirs: never replaced.
        // SAFETY: geteuid has no preconditions.
        Ok(m) if m.uid() != unsafe { libc::geteuid() } => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "it belongs to another user: not replaced (choose another name)",
        )),
        _ => Ok(()),
    }
}

/// The data directory this process works on: no output the officer names
/// may replace the desk's own files there (a PDF written over the chain's
/// key, the settings or the store would destroy them).
static PRIVATE_ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Sets the data directory whose own files outputs must leave alone (once,
/// at start).
pub fn keep_outputs_out_of(data_dir: &Path) {
    let root = fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let _ = PRIVATE_ROOT.set(root);
}

/// Whether `path` would land among the desk's own files: directly in the
/// data directory (its key, settings, logs) or in its store folders
/// (`store`, `store.rebuilding`, ...). Sub-folders for exports are fine.
fn among_own_files(path: &Path) -> bool {
    let Some(root) = PRIVATE_ROOT.get() else {
        return false;
    };
    // Where the write lands once the missing folders are made: the nearest
    // folder that exists, resolved (symlinks, `..` through real folders),
    // then what remains taken a part at a time, `..` stepping back (so
    // `nope/../audit.key` is the key itself once `nope` is made).
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let dir = folder_of(&absolute);
    let mut probe = dir.to_path_buf();
    let mut resolved = loop {
        if let Ok(c) = fs::canonicalize(&probe) {
            break c;
        }
        if !probe.pop() || probe.as_os_str().is_empty() {
            break PathBuf::from("/");
        }
    };
    for c in dir
        .strip_prefix(&probe)
        .unwrap_or(Path::new(""))
        .components()
    {
        match c {
            std::path::Component::ParentDir => {
                resolved.pop();
            }
            std::path::Component::CurDir => {}
            other => resolved.push(other),
        }
    }
    match resolved.strip_prefix(root) {
        Ok(rest) => match rest.components().next() {
            None => true,
            Some(first) => first.as_os_str().to_string_lossy().starts_with("store"),
        },
        Err(_) => false,
    }
}

/// `prepare_output` for a file the officer names (a PDF, a backup, an
/// export): never among the desk's own files.
pub fn prepare_officer_output(path: &Path) -> io::Result<()> {
    if among_own_files(path) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "among the desk's own files (its data directory or store): write it elsewhere, e.g. in a folder under the data directory",
        ));
    }
    prepare_output(path)
}

/// A path as C wants it (for the libc calls below).
fn c_path(path: &Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// The folder an output goes into (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Creates `path` with `bytes`, 0600, only if nothing is there (a symlink
/// included), and makes it durable: for files the desk must never replace
/// (the chain key, the mark of a restore under way).
pub fn create_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    sync_dir(folder_of(path))
}

/// Readies `path` for an output before anything is said to have been
/// written (an export is logged first): its folder is made if missing
/// (0700), must be a folder this process can write in, and `path` itself must
/// be absent or a plain file. Catches a symlink, `/dev/null` or a missing
/// folder before the audit chain records an export that never happened.
pub fn prepare_output(path: &Path) -> io::Result<()> {
    let dir = folder_of(path);
    create_private_dirs(dir)?;
    if !fs::metadata(dir)?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "its folder is not a folder",
        ));
    }
    let c = c_path(dir)?;
    // SAFETY: access reads the NUL-terminated path only.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    check_replaceable(path)
}

/// Writes `path` whole through `fill`, then makes it appear by one rename,
/// and syncs the directory so the rename survives a crash. Only a plain file
/// (or nothing) at `path` is ever replaced; on any error `path` is untouched.
///
/// The bytes go first to an unnamed file in the target's directory
/// (`O_TMPFILE`, 0600): a kill while writing leaves nothing behind — not
/// even a hidden, complete copy of a backup in someone's folder. Once it is
/// whole and synced it gets a fresh random name (`.NAME.XXXXXXXXXXXX.partial`,
/// linked exclusively: an existing path is never opened) and is renamed
/// over `path`. Where the file system has no unnamed files, a temporary file
/// is created exclusively instead (`tempfile`, 0600 from birth).
pub fn write_whole<T>(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    write_whole_as(path, true, fill)
}

/// Replaces a small file of the desk's own whole, by the same unnamed file
/// and rename, but without waiting for the disk: after a crash it holds the
/// old bytes or the new ones, never a torn mix (what the chain's last seen
/// head needs, written after every change).
pub fn replace_quickly(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_whole_as(path, false, |w| w.write_all(bytes))
}

fn write_whole_as<T>(
    path: &Path,
    durable: bool,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    check_replaceable(path)?;
    let dir = folder_of(path);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let file = match unnamed_in(dir) {
        Ok(f) => f,
        Err(e) if unnamed_unsupported(&e) => return write_named(path, dir, &prefix, fill),
        Err(e) => return Err(e),
    };
    let mut w = io::BufWriter::new(file);
    let out = fill(&mut w)?;
    let file = w.into_inner().map_err(|e| e.into_error())?;
    if durable {
        file.sync_all()?;
    }
    // Checked again just before the rename: what the caller named may have
    // been replaced by a device or a symlink while the file was being written.
    check_replaceable(path)?;
    match give_name(&file, dir, &prefix) {
        Ok(named) => {
            if let Err(e) = fs::rename(&named, path) {
                let _ = fs::remove_file(&named);
                return Err(e);
            }
        }
        // No /proc to name it through: copy it to a named temporary file.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut file = file;
            io::Seek::rewind(&mut file)?;
            write_named(path, dir, &prefix, |w| io::copy(&mut file, w).map(|_| ()))?;
            return Ok(out);
        }
        Err(e) => return Err(e),
    }
    if durable {
        sync_dir(dir)?;
    }
    Ok(out)
}

/// An unnamed file in `dir`, 0600, gone if the process dies before naming it.
fn unnamed_in(dir: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
        .open(dir)
}

fn unnamed_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP) | Some(libc::EISDIR) | Some(libc::EINVAL)
    )
}

/// Links the unnamed `file` into `dir` under a fresh random name; an
/// existing name is never reused (linkat refuses it: EEXIST, then another).
fn give_name(
    file: &fs::File,
    dir: &Path,
    prefix: &std::ffi::OsStr,
) -> io::Result<std::path::PathBuf> {
    use std::os::unix::io::AsRawFd;
    let from = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .expect("no NUL in a number");
    for _ in 0..32 {
        let mut r = [0u8; 6];
        getrandom::fill(&mut r).map_err(|e| io::Error::other(e.to_string()))?;
        let mut n = prefix.to_os_string();
        n.push(hex::encode(r));
        n.push(".partial");
        let to = dir.join(n);
        let c = c_path(&to)?;
        // SAFETY: both paths are valid NUL-terminated strings we own.
        let rc = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                c.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if rc == 0 {
            return Ok(to);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EEXIST) {
            return Err(e);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary name",
    ))
}

/// The fallback: a temporary file created exclusively beside `path` (0600
/// from birth, a random name), synced and renamed over it.
fn write_named<T>(
    path: &Path,
    dir: &Path,
    prefix: &std::ffi::OsStr,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    // tempfile opens with O_CREAT|O_EXCL and mode 0600, retrying random names.
    let tmp = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".partial")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    let mut w = io::BufWriter::new(tmp);
    let out = fill(&mut w)?;
    let tmp = w.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
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
    let c = c_path(path)?;
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

/// Removes a file of the desk's own if it is a plain file: a symlink, a
/// FIFO or a folder planted in its place is left as it is, never followed.
pub fn remove_own_plain(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => fs::remove_file(path),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Opens a plain file of the desk's own, never through a symlink.
pub fn open_own_plain(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: a FIFO planted in its place must not hold the open up
    // (it is then refused as no plain file; for a file it changes nothing).
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::other("not a plain file"));
    }
    Ok(f)
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
        // A folder holding sled-like names is not the desk's data directory.
        for (name, dir_too) in [("db", true), ("store", true), ("conf", false)] {
            let o = t.path().join(format!("looks-{name}"));
            fs::create_dir(&o).unwrap();
            if dir_too {
                fs::create_dir(o.join(name)).unwrap();
                fs::write(o.join(name).join("index.html"), "x").unwrap();
            } else {
                fs::write(o.join(name), "x").unwrap();
                fs::write(o.join("snap.holiday-photos"), "x").unwrap();
            }
            fs::set_permissions(&o, fs::Permissions::from_mode(0o755)).unwrap();
            assert!(ensure_private_dir(&o).is_err(), "{name}");
            assert_eq!(mode(&o), 0o755, "{name}");
        }
        // A folder holding a `db` among other things is not the desk's.
        let other = t.path().join("other");
        fs::create_dir(&other).unwrap();
        fs::write(other.join("db"), "x").unwrap();
        fs::write(other.join("user"), "x").unwrap();
        fs::set_permissions(&other, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(ensure_private_dir(&other).is_err());
        assert_eq!(mode(&other), 0o755);
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
    fn a_write_cut_short_leaves_no_file_behind() {
        // While `fill` runs, the directory holds no name for the bytes: a
        // kill at that moment leaves nothing to find.
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("backup.jsonl");
        write_whole(&out, |w| {
            w.write_all(b"secret")?;
            w.flush()?;
            let names: Vec<_> = fs::read_dir(t.path()).unwrap().collect();
            assert!(names.is_empty(), "a name exists mid-write");
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"secret");
        assert_eq!(mode(&out), 0o600);
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
