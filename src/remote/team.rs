//! Who may do what through the team service. Anyone who can reach the
//! socket (its mode and group are the staff's) may work cases and read and
//! verify the audit; operations of `Kind::Admin` or `Kind::Maintenance`
//! (backup, purge, …) are for the service's administrators: its own user,
//! root, and those the settings' `admins` name by Unix user or group. Who
//! the caller is comes from the kernel (SO_PEERCRED), never from the client.

use crate::domain::settings::Settings;
use crate::service::ops::Call;

/// The caller of one connection, as the user database knows them.
pub struct Peer {
    pub uid: u32,
    pub name: String,
    /// The names of every group the user is in (primary and supplementary).
    pub groups: Vec<String>,
}

impl Peer {
    pub fn of(uid: u32, name: String) -> Peer {
        Peer {
            uid,
            groups: groups_of(&name),
            name,
        }
    }
}

pub struct Team {
    /// The user the service runs as.
    service_uid: u32,
    admins: Vec<String>,
}

impl Team {
    pub fn of(settings: &Settings) -> Team {
        Team {
            // SAFETY: geteuid cannot fail.
            service_uid: unsafe { libc::geteuid() },
            admins: settings.admins.clone(),
        }
    }

    fn is_admin(&self, peer: &Peer) -> bool {
        peer.uid == 0
            || peer.uid == self.service_uid
            || self.admins.iter().any(|a| match a.split_once(':') {
                Some(("user", n)) => n == peer.name,
                Some(("group", g)) => peer.groups.iter().any(|pg| pg == g),
                _ => false,
            })
    }

    /// Whether `peer` may send `call`; if not, what it needs, named.
    pub fn allows(&self, peer: &Peer, call: &Call) -> Result<(), String> {
        if !call.kind().for_admins() || self.is_admin(peer) {
            return Ok(());
        }
        let mut who = vec![format!(
            "its own user ({})",
            crate::service::actor::user_name(self.service_uid)
        )];
        if self.service_uid != 0 {
            who.push("root".into());
        }
        who.extend(self.admins.iter().cloned());
        Err(format!(
            "{} is for the team service's administrators: {}; {} is not one (an administrator adds a group or user to `admins` in the service's settings.toml)",
            what(call),
            who.join(", "),
            peer.name
        ))
    }
}

/// The command a call comes from, as staff typed it.
fn what(call: &Call) -> String {
    match call {
        Call::purge {} => "`rightsdesk purge --apply`".into(),
        Call::rebuild {} => "`rightsdesk rebuild`".into(),
        Call::backup_snapshot {} | Call::log_backup { .. } => "`rightsdesk backup`".into(),
        other => format!("`{}`", other.name()),
    }
}

/// Every group `user` is in, by name (getgrouplist over the user database).
fn groups_of(user: &str) -> Vec<String> {
    let Ok(c_user) = std::ffi::CString::new(user) else {
        return Vec::new();
    };
    // SAFETY: getpwnam_r, getgrouplist and getgrgid_r write only into the
    // buffers we own and size; pointers are read only when the call says so.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        if libc::getpwnam_r(
            c_user.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        ) != 0
            || found.is_null()
        {
            return Vec::new();
        }
        let primary = pwd.pw_gid;
        let mut n: libc::c_int = 64;
        let mut gids: Vec<libc::gid_t> = vec![0; n as usize];
        loop {
            let mut count = n;
            let rc = libc::getgrouplist(c_user.as_ptr(), primary, gids.as_mut_ptr(), &mut count);
            if rc >= 0 {
                gids.truncate(count as usize);
                break;
            }
            if count <= n || count > 65_536 {
                return Vec::new();
            }
            n = count;
            gids.resize(n as usize, 0);
        }
        gids.into_iter().filter_map(group_name).collect()
    }
}

fn group_name(gid: libc::gid_t) -> Option<String> {
    // SAFETY: as above; the name is copied out before the buffer goes.
    unsafe {
        let mut grp: libc::group = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut found: *mut libc::group = std::ptr::null_mut();
        if libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr(), buf.len(), &mut found) != 0
            || found.is_null()
            || grp.gr_name.is_null()
        {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(grp.gr_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(admins: &[&str]) -> Team {
        Team {
            service_uid: 4_000_000_001,
            admins: admins.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn peer(uid: u32, name: &str, groups: &[&str]) -> Peer {
        Peer {
            uid,
            name: name.into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn staff_work_and_verify_but_only_administrators_purge() {
        let t = team(&["group:dpo", "user:alice"]);
        let bob = peer(1001, "bob", &["staff"]);
        let verify = Call::verify_audit { against: None };
        assert!(t.allows(&bob, &verify).is_ok());
        let why = t.allows(&bob, &Call::purge {}).unwrap_err();
        assert!(why.contains("group:dpo") && why.contains("bob"), "{why}");
        assert!(t
            .allows(&peer(1002, "carol", &["dpo"]), &Call::purge {})
            .is_ok());
        assert!(t.allows(&peer(1003, "alice", &[]), &Call::purge {}).is_ok());
        assert!(t.allows(&peer(0, "root", &[]), &Call::purge {}).is_ok());
        assert!(t
            .allows(&peer(4_000_000_001, "svc", &[]), &Call::backup_snapshot {})
            .is_ok());
        // A user named like a group is not that group.
        assert!(t.allows(&peer(1004, "dpo", &[]), &Call::purge {}).is_err());
    }

    #[test]
    fn groups_come_from_the_user_database() {
        assert!(groups_of("root").iter().any(|g| g == "root"));
        assert!(groups_of("no-such-user-here").is_empty());
    }
}
