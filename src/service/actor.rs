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
    fn the_actor_is_the_effective_user() {
        let name = super::os_user();
        let uid = unsafe { libc::geteuid() };
        assert!(!name.is_empty());
        if uid == 0 {
            assert_eq!(name, "root");
        }
    }
}
