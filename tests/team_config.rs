//! A team server names its service for the whole machine
//! (`/etc/rightsdesk/rightsdesk.toml`, here `RIGHTSDESK_SYSTEM_CONFIG`): an
//! officer who forgets `RIGHTSDESK_SOCKET` is sent to the team's store, and
//! when it does not answer is told so — never given a second, empty store.

mod common;

use std::process::Command;

fn rightsdesk(
    config: &std::path::Path,
    data: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(args)
        .env("RIGHTSDESK_SYSTEM_CONFIG", config)
        .env("RIGHTSDESK_DATA_DIR", data)
        .env_remove("RIGHTSDESK_SOCKET")
        .output()
        .unwrap()
}

#[test]
fn the_machines_team_service_is_used_or_its_absence_said() {
    let t = tempfile::tempdir().unwrap();
    let team = t.path().join("team");
    let socket = t.path().join("team.sock");
    let config = t.path().join("rightsdesk.toml");
    std::fs::write(
        &config,
        format!(
            "socket = \"{}\"\ndata_dir = \"{}\"\n",
            socket.display(),
            team.display()
        ),
    )
    .unwrap();
    let alice = t.path().join("alice");
    // The team's store, made by its own user while the service is stopped.
    let out = rightsdesk(
        &config,
        &team,
        &[
            "case",
            "open",
            "--right",
            "access",
            "--name",
            "Ann Lee",
            "--channel",
            "email",
        ],
    );
    common::cli::succeeded(&out);
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // Alice forgot every variable: with the service down she is told, and no
    // private store is made for her.
    let out = rightsdesk(&config, &alice, &["case", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("team service") && err.contains("team.sock"),
        "{err}"
    );
    assert!(!alice.join("store").exists());
    // With the service up she works on the team's store.
    let mut server = common::cli::serve(&team, &socket, |c| {
        c.env("RIGHTSDESK_SYSTEM_CONFIG", &config);
    });
    let out = rightsdesk(&config, &alice, &["case", "list", "--all"]);
    common::cli::succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id));
    assert!(!alice.join("store").exists());
    // A system file that does not read is named, with its field.
    let bad = t.path().join("bad.toml");
    std::fs::write(&bad, "sokcet = \"/run/x\"\n").unwrap();
    let out = rightsdesk(&bad, &alice, &["case", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sokcet"));
    unsafe {
        libc::kill(server.0.id() as libc::pid_t, libc::SIGTERM);
    }
    assert!(server.0.wait().unwrap().success());
}
