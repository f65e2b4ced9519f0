//! Who is acting: the operating-system user running the desk, never a flag.

/// The login name of the effective user, or `uid:N` where it has none.
pub fn os_user() -> String {
    // SAFETY: geteuid cannot fail.
    user_name(unsafe { libc::geteuid() })
}

/// The login name of `uid` (or `uid:N`): the actor the audit log records,
/// for the desk's own user and for a peer of the shared service alike.
pub fn user_name(uid: u32) -> String {
    // SAFETY: getpwuid_r writes only into the buffers we own.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc == 0 && !result.is_null() && !pwd.pw_name.is_null() {
            let name = std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned();
            if !name.is_empty() {
                return name;
            }
        }
        format!("uid:{uid}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_come_from_the_user_database() {
        // uid 0 is root on every Unix; a uid nobody has gets its number.
        assert_eq!(super::user_name(0), "root");
        assert_eq!(super::user_name(4_294_000_123), "uid:4294000123");
        // The desk's own actor is what `id -un` says of this process.
        if let Ok(out) = std::process::Command::new("id").arg("-un").output() {
            if out.status.success() {
                let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
                assert_eq!(super::os_user(), id);
            }
        }
    }
}
