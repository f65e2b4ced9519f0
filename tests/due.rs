//! Deadlines come to the staff: `rightsdesk due`, its login line and the
//! team's calendar, and the deadlines the store keeps beside every case.

mod common;

use chrono::{Days, Local, NaiveDate};
use common::cli::{json, ok, private_dir, run as rightsdesk};
use rightsdesk::domain::{Right, Step, VerificationMethod, VerificationOutcome};
use rightsdesk::service::ops::Operations;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn open_received(dir: &Path, name: &str, email: &str, right: &str, received: NaiveDate) -> String {
    ok(
        dir,
        &[
            "case",
            "open",
            "--right",
            right,
            "--name",
            name,
            "--email",
            email,
            "--channel",
            "email",
            "--received",
            &received.to_string(),
        ],
    )
    .trim()
    .to_string()
}

fn days_ago(n: u64) -> NaiveDate {
    Local::now().date_naive() - Days::new(n)
}

#[test]
fn due_lists_the_overdue_and_the_due_soon_and_exits_6_while_any_is_overdue() {
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    let late = open_received(&dir, "Ann Late", "ann@example.com", "access", days_ago(60));
    let soon = open_received(&dir, "Bo Soon", "bo@example.com", "erasure", days_ago(29));
    let fresh = open_received(&dir, "Cy Fresh", "cy@example.com", "objection", days_ago(0));

    // Every open case, with its days left as the clock counts them.
    let all = rightsdesk(&dir, &["due", "--within", "400", "--json"]);
    assert_eq!(all.status.code(), Some(6), "a case is overdue");
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let left = |id: &str| {
        all["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["days_left"]
            .as_i64()
            .unwrap()
    };
    assert!(left(&late) < 0);
    assert!((0..=7).contains(&left(&soon)), "{}", left(&soon));
    assert!(left(&fresh) > 7);

    let out = rightsdesk(&dir, &["due"]);
    assert_eq!(out.status.code(), Some(6));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0].split(',').next(), Some("1 overdue"), "{text}");
    assert!(
        lines[1].starts_with(&late) && lines[1].contains("OVERDUE"),
        "{text}"
    );
    assert!(lines[2].starts_with(&soon), "most urgent first: {text}");
    assert!(
        !text.contains(&fresh),
        "due in a month is not listed: {text}"
    );
    assert!(!text.contains("Ann"), "no names on the list: {text}");

    let login = rightsdesk(&dir, &["due", "--login"]);
    assert_eq!(
        String::from_utf8(login.stdout).unwrap(),
        "rightsdesk: 1 OVERDUE, 1 due this week — run rightsdesk\n"
    );

    // Closing the late case takes it off: nothing overdue, exit 0.
    ok(
        &dir,
        &[
            "case",
            "close",
            &late,
            "--outcome",
            "withdrawn",
            "--reason",
            "the person withdrew it",
        ],
    );
    let out = rightsdesk(&dir, &["due", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["overdue"], 0);
    assert_eq!(list["cases"].as_array().unwrap().len(), 1);
    assert_eq!(list["cases"][0]["id"], soon.as_str());
}

#[test]
fn the_login_line_says_nothing_where_there_is_no_store_and_makes_none() {
    let tmp = private_dir();
    let dir = tmp.path().join("nobody");
    let out = rightsdesk(&dir, &["due", "--login"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    assert!(!dir.exists(), "a login made a data directory");
}

#[test]
fn the_calendar_file_holds_every_open_case_and_no_person() {
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    let a = open_received(
        &dir,
        "Zoë Ó Briain",
        "zoe@example.ie",
        "access",
        days_ago(3),
    );
    let b = open_received(
        &dir,
        "Ann Other",
        "ann@example.com",
        "erasure",
        days_ago(40),
    );
    let ics = tmp.path().join("team.ics");
    let out = rightsdesk(&dir, &["due", "--ics", ics.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(6), "one is overdue");
    let mode = std::fs::metadata(&ics).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&ics).unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
    assert!(
        text.split("\r\n")
            .all(|l| l.len() <= 75 && !l.contains('\n')),
        "lines are CRLF and folded at 75 octets"
    );
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 2);
    for id in [&a, &b] {
        assert!(text.contains(&format!("UID:{id}-due@rightsdesk")), "{text}");
    }
    assert!(text.contains(&format!("SUMMARY:{a} due: access")));
    for personal in ["Zo", "Briain", "zoe@", "Ann", "example"] {
        assert!(
            !text.contains(personal),
            "{personal} in the calendar: {text}"
        );
    }

    // A symlink planted where the file goes is refused, its target untouched.
    let target = tmp.path().join("theirs.txt");
    std::fs::write(&target, "keep").unwrap();
    let planted = tmp.path().join("planted.ics");
    std::os::unix::fs::symlink(&target, &planted).unwrap();
    let out = rightsdesk(&dir, &["due", "--ics", planted.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
}

#[test]
fn the_deadlines_follow_every_change_and_a_restore() {
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    let desk = common::desk(&dir);
    let today = common::today();
    let mut new = common::new_case("Ann", "ann@example.com", vec![Right::Access]);
    new.received = today - Days::new(28);
    let paused = desk.open_case(new.clone()).unwrap();
    let asked = desk.open_case(new).unwrap();
    let due = |d: &rightsdesk::service::Desk| {
        let l = d.due(Some(7)).unwrap();
        // The login line's counts read the dates alone: the same numbers.
        assert_eq!(d.due_counts(7).unwrap(), l.counts());
        l.cases.iter().map(|c| (c.id, c.paused)).collect::<Vec<_>>()
    };
    assert_eq!(due(&desk), [(paused.id, false), (asked.id, false)]);

    // A pause keeps its days left, and says so; asking for ID stops the
    // clock: no date, off the list.
    desk.take_step(
        paused.id,
        Step::Verify {
            method: VerificationMethod::KnownDetails,
            outcome: VerificationOutcome::Verified,
            note: "matched the address on file".into(),
        },
        None,
        None,
    )
    .unwrap();
    desk.take_step(
        paused.id,
        Step::Pause {
            reason: "which account?".into(),
        },
        None,
        None,
    )
    .unwrap();
    desk.take_step(
        asked.id,
        Step::RequestId {
            note: "a reply from the address on file".into(),
        },
        None,
        None,
    )
    .unwrap();
    assert_eq!(due(&desk), [(paused.id, true)]);

    // The list a restored store gives is the same: its deadlines are
    // rebuilt from its cases.
    let backup = tmp.path().join("b.jsonl");
    rightsdesk::service::files_at_hand::backup_file(&desk, &backup).unwrap();
    drop(desk);
    let again = tmp.path().join("again");
    let key = dir.join("audit.key");
    ok(
        &again,
        &[
            "restore",
            backup.to_str().unwrap(),
            "--chain-key",
            key.to_str().unwrap(),
        ],
    );
    let restored = common::desk(&again);
    assert_eq!(due(&restored), [(paused.id, true)]);
}

#[test]
fn a_store_opened_with_another_calendar_dates_its_deadlines_by_it() {
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    // Due 17 March 2026: St Patrick's Day in Ireland (the 18th there), a
    // working day in England.
    let id = open_received(
        &dir,
        "Ann",
        "ann@example.com",
        "access",
        NaiveDate::from_ymd_opt(2026, 2, 17).unwrap(),
    );
    let due = |dir: &Path| {
        let out = rightsdesk(dir, &["due", "--json"]);
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(list["cases"][0]["id"], id.as_str());
        list["cases"][0]["due"].as_str().unwrap().to_string()
    };
    assert_eq!(due(&dir), "2026-03-18");
    let settings = dir.join("settings.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(
        &settings,
        text.replace("calendar = \"ireland\"", "calendar = \"england-and-wales\""),
    )
    .unwrap();
    assert_eq!(due(&dir), "2026-03-17");
    assert_eq!(
        json(&dir, &["case", "show", &id, "--json"])["id"],
        id.as_str()
    );
}

#[test]
fn the_login_snippet_prints_the_line_in_an_interactive_shell_only() {
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    open_received(&dir, "Ann Late", "ann@example.com", "access", days_ago(60));
    let snippet = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/rightsdesk-login.sh");
    let bin = Path::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .parent()
        .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let login = |interactive: bool| {
        let mut cmd = std::process::Command::new("sh");
        if interactive {
            cmd.arg("-i");
        }
        let out = cmd
            .arg("-c")
            .arg(format!(". '{}'; echo done", snippet.display()))
            .env("PATH", &path)
            .env("RIGHTSDESK_DATA_DIR", &dir)
            .env_remove("RIGHTSDESK_SOCKET")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "a login never fails");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        login(true),
        "rightsdesk: 1 OVERDUE — run rightsdesk\ndone\n",
        "an overdue case is said at login, and the login goes on"
    );
    assert_eq!(login(false), "done\n", "scripts (scp, cron) get nothing");
}
