//! The long operations (restore, rebuild, import, purge --apply, backup)
//! killed with SIGKILL at random moments and, where strace is installed, at
//! each of their renames (`strace -e inject=…:signal=KILL:when=N`). After
//! every kill the next start must find a whole store — never half of one,
//! never an acknowledged change missing — and never call a healthy store
//! damaged. The figures are printed for the notes; `RIGHTSDESK_CRASH_ROUNDS`
//! sets the random kills per operation (default 4, CI's short form).

mod common;

use common::cli::copy_dir;

use chrono::{NaiveDate, TimeZone, Utc};
use rightsdesk::domain::closure::Closing;
use rightsdesk::domain::{Outcome, Right, Step, VerificationMethod, VerificationOutcome};
use rightsdesk::service::{Desk, Now};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a whole store holds: every case at its version, and the registers.
#[derive(Debug, Clone, PartialEq)]
struct Holdings {
    cases: BTreeMap<String, u64>,
    records: usize,
    suppression: usize,
    marks: usize,
}

impl Holdings {
    fn items(&self) -> usize {
        self.cases.len() + self.records + self.suppression + self.marks
    }
}

#[derive(Default)]
struct Tally {
    rounds: usize,
    kills: usize,
    acked: usize,
    losses: usize,
    wrong_damaged: usize,
}

/// Opens the store as the next start would and counts every acknowledged
/// item of `whole` it still holds (losses otherwise); a refusal to open or a
/// chain that does not verify after a mere kill is a wrong "damaged" verdict.
fn open_whole(
    dir: &Path,
    whole: &Holdings,
    tally: &mut Tally,
    what: &str,
) -> Option<(Desk, Holdings)> {
    let desk = match Desk::open(dir) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{what}: the store does not open after a kill: {e}");
            tally.wrong_damaged += 1;
            return None;
        }
    };
    if let Err(e) = desk.verify_audit() {
        eprintln!("{what}: the chain does not verify after a kill: {e}");
        tally.wrong_damaged += 1;
        return None;
    }
    let h = holdings(&desk);
    let (n, lost) = compare(whole, &h);
    tally.acked += n;
    tally.losses += lost;
    Some((desk, h))
}

fn holdings(desk: &Desk) -> Holdings {
    Holdings {
        cases: desk
            .queue_all()
            .into_iter()
            .map(|(id, v)| (id.to_string(), v))
            .collect(),
        records: desk.record_reader().len(),
        suppression: desk.suppression_list().unwrap().len(),
        marks: desk.backup_marks().unwrap().len(),
    }
}

trait AllCases {
    fn queue_all(&self) -> Vec<(rightsdesk::domain::CaseId, u64)>;
}

impl AllCases for Desk {
    fn queue_all(&self) -> Vec<(rightsdesk::domain::CaseId, u64)> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let (cases, next) = self.cases_page(after, 1 << 20).unwrap();
            out.extend(cases.iter().map(|c| (c.id, c.version)));
            match next {
                Some(n) => after = Some(n),
                None => return out,
            }
        }
    }
}

/// Every acknowledged item of `before` is in `after` (a case at least at
/// its version); returns how many were checked and how many were missing.
fn compare(before: &Holdings, after: &Holdings) -> (usize, usize) {
    let mut lost = 0;
    for (id, v) in &before.cases {
        if after.cases.get(id).is_none_or(|a| a < v) {
            lost += 1;
        }
    }
    lost += before.records.saturating_sub(after.records);
    lost += before.suppression.saturating_sub(after.suppression);
    lost += before.marks.saturating_sub(after.marks);
    (before.items(), lost)
}

fn at(day: &str) -> Now {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    Now::Fixed(Utc.from_utc_datetime(&d.and_hms_opt(12, 0, 0).unwrap()))
}

/// A store with the demo's cases, old closed cases past retention, an
/// erasure with its suppression and backup marks, and a few thousand records.
fn seed(dir: &Path, records_csv: &Path) {
    let mut desk = common::desk(dir);
    rightsdesk::service::demo::seed(&mut desk, common::today()).unwrap();
    for (i, day) in ["2017-03-06", "2018-05-14", "2019-02-04"]
        .iter()
        .enumerate()
    {
        desk.set_now(at(day));
        let mut new = common::new_case(
            &format!("Old {i}"),
            &format!("old{i}@example.ie"),
            vec![Right::Access],
        );
        new.received = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        let c = desk.open_case(new).unwrap();
        desk.step(
            c.id,
            Step::Verify {
                method: VerificationMethod::KnownDetails,
                outcome: VerificationOutcome::Verified,
                note: "matched".into(),
            },
            None,
        )
        .unwrap();
        let mut closing = Closing::new(Outcome::Fulfilled, "sent");
        closing.gap_reasons = vec![("access-package".into(), "sent by post".into())];
        desk.step(c.id, rightsdesk::domain::Step::Close(closing), None)
            .unwrap();
    }
    drop(desk);
    cli(dir, &["import", "web-forms", records_csv.to_str().unwrap()]);
}

fn cli(dir: &Path, args: &[&str]) {
    common::cli::succeeded(&common::cli::run(dir, args));
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rightsdesk")
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .env("RIGHTSDESK_DATA_DIR", dir)
        .env_remove("RIGHTSDESK_SOCKET")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Runs `args` and kills it after `delay`; whether it had finished first.
fn kill_after(dir: &Path, args: &[&str], delay: Duration) -> bool {
    let mut child = command(dir, args).spawn().unwrap();
    let until = Instant::now() + delay;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if Instant::now() >= until {
            let _ = child.kill();
            child.wait().unwrap();
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn strace_present() -> bool {
    Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `args` under strace, killed at its `n`th rename; whether it
/// finished (fewer than `n` renames).
fn kill_at_rename(dir: &Path, args: &[&str], n: usize) -> bool {
    let inject = format!("inject=rename,renameat,renameat2:signal=KILL:when={n}");
    let mut c = Command::new("strace");
    c.args([
        "-f",
        "-qq",
        "-o",
        "/dev/null",
        "-e",
        "trace=rename,renameat,renameat2",
        "-e",
    ])
    .arg(&inject)
    .arg(bin())
    .args(args)
    .env("RIGHTSDESK_DATA_DIR", dir)
    .env_remove("RIGHTSDESK_SOCKET")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c.status().unwrap().success()
}

struct Fixture {
    _t: tempfile::TempDir,
    base: PathBuf,
    backup: PathBuf,
    extra_csv: PathBuf,
    whole: Holdings,
}

fn fixture() -> Fixture {
    let t = tempfile::tempdir().unwrap();
    let base = t.path().join("base");
    let csv = t.path().join("records.csv");
    let extra_csv = t.path().join("extra.csv");
    // The corpus is the officer's file: written outside the data directory.
    cli(
        &t.path().join("generator"),
        &[
            "demo",
            "generate",
            "--records",
            "4000",
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    // The corpus is the officer's file: written outside the data directory.
    cli(
        &t.path().join("generator"),
        &[
            "demo",
            "generate",
            "--records",
            "3000",
            "--seed",
            "7",
            "--out",
            extra_csv.to_str().unwrap(),
        ],
    );
    seed(&base, &csv);
    let backup = t.path().join("base.jsonl");
    cli(&base, &["backup", "--out", backup.to_str().unwrap()]);
    let whole = holdings(&Desk::open(&base).unwrap());
    assert!(whole.records >= 4000 && !whole.cases.is_empty());
    Fixture {
        _t: t,
        base,
        backup,
        extra_csv,
        whole,
    }
}

fn rounds() -> usize {
    std::env::var("RIGHTSDESK_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4)
}

/// One pseudo-random number after another (xorshift), for kill moments.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// How long `args` takes uninterrupted on a copy of the base store, so
/// random kills land across the whole operation.
fn duration_of(prepare: &dyn Fn(&Path), args: &[&str]) -> Duration {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    prepare(&dir);
    let started = Instant::now();
    let ok = command(&dir, args).status().unwrap().success();
    assert!(ok, "{args:?} fails even without a kill");
    started.elapsed()
}

/// Kills `args` at random moments and at each rename; `check` judges the
/// data directory after each kill.
fn harness(
    name: &str,
    prepare: &dyn Fn(&Path),
    args: &[&str],
    check: &dyn Fn(&Path, bool, &mut Tally),
) -> Tally {
    let mut tally = Tally::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
    let span = duration_of(prepare, args).as_micros() as u64 + 1;
    let mut plans: Vec<Option<usize>> = (0..rounds()).map(|_| None).collect();
    if strace_present() {
        plans.extend((1..=12).map(Some));
    } else {
        eprintln!(
            "{name}: strace is not installed; kills at each rename skipped (random kills only)"
        );
    }
    for plan in plans {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("d");
        prepare(&dir);
        let finished = match plan {
            None => kill_after(&dir, args, Duration::from_micros(rng.next() % span)),
            Some(n) => {
                let done = kill_at_rename(&dir, args, n);
                if done {
                    // Fewer renames than n: every rename has had its kill.
                    check(&dir, true, &mut tally);
                    tally.rounds += 1;
                    break;
                }
                done
            }
        };
        tally.rounds += 1;
        if !finished {
            tally.kills += 1;
        }
        check(&dir, finished, &mut tally);
    }
    eprintln!(
        "crash harness {name}: {} rounds, {} kills, {} acknowledged items checked, {} lost, {} wrong \"damaged\" verdicts",
        tally.rounds, tally.kills, tally.acked, tally.losses, tally.wrong_damaged
    );
    tally
}

fn assert_clean(t: &Tally) {
    assert_eq!(t.losses, 0, "acknowledged changes were lost");
    assert_eq!(t.wrong_damaged, 0, "a healthy store was called damaged");
    assert!(t.kills > 0, "no round was killed mid-operation");
}

#[test]
fn a_killed_rebuild_leaves_the_whole_store() {
    let f = fixture();
    let prepare = |d: &Path| copy_dir(&f.base, d);
    let t = harness("rebuild", &prepare, &["rebuild"], &|dir, _, tally| {
        open_whole(dir, &f.whole, tally, "rebuild");
        // Nothing of the operation is left beside the store.
        let left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("store.") || n.contains("rebuild"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    });
    assert_clean(&t);
}

#[test]
fn a_killed_restore_is_never_taken_for_a_store() {
    let f = fixture();
    let prepare = |_: &Path| {};
    let backup = f.backup.to_str().unwrap().to_string();
    let key = f.base.join("audit.key").to_str().unwrap().to_string();
    let args = ["restore", &backup, "--chain-key", &key];
    let t = harness("restore", &prepare, &args, &|dir, finished, tally| {
        let had_store = dir.join("store").exists();
        if finished {
            assert!(had_store);
        }
        if !had_store {
            // The next start sees no store: the restore is run again and works.
            // (A kill may come after the key was put in place: it stays.)
            let r = if dir.join("audit.key").exists() {
                common::cli::run(dir, &["restore", &backup])
            } else {
                common::cli::run(dir, &args)
            };
            assert!(
                r.status.success(),
                "a second restore after a kill: {}",
                String::from_utf8_lossy(&r.stderr)
            );
        }
        // A store that is there is the whole backup.
        open_whole(dir, &f.whole, tally, "restore");
    });
    assert_clean(&t);
}

#[test]
fn a_killed_import_lands_whole_or_not_at_all() {
    let f = fixture();
    let prepare = |d: &Path| copy_dir(&f.base, d);
    let extra = f.extra_csv.to_str().unwrap().to_string();
    let imported = {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("d");
        prepare(&d);
        cli(&d, &["import", "events", &extra]);
        holdings(&Desk::open(&d).unwrap()).records
    };
    let t = harness(
        "import",
        &prepare,
        &["import", "events", &extra],
        &|dir, finished, tally| {
            if let Some((desk, after)) = open_whole(dir, &f.whole, tally, "import") {
                // The start that opened it finished or dropped what the
                // kill cut off: no staging is left behind.
                assert_eq!(desk.imports_in_progress(), 0, "staging left after a start");
                assert!(
                    after.records == f.whole.records || after.records == imported,
                    "half an import is visible: {} records (before {}, whole {imported})",
                    after.records,
                    f.whole.records
                );
                if finished {
                    assert_eq!(after.records, imported, "an acknowledged import is missing");
                }
            }
        },
    );
    assert_clean(&t);
}

#[test]
fn a_killed_purge_reduces_whole_cases_and_keeps_the_rest() {
    let f = fixture();
    let prepare = |d: &Path| copy_dir(&f.base, d);
    let t = harness(
        "purge --apply",
        &prepare,
        &["purge", "--apply"],
        &|dir, _, tally| {
            if let Some((desk, after)) = open_whole(dir, &f.whole, tally, "purge") {
                // Each case is either whole or a stub, never between: a stub
                // keeps no name, a whole case its own.
                for id in after.cases.keys() {
                    let c = desk.case(id.parse().unwrap()).unwrap().case;
                    assert_eq!(c.purged(), c.subject.name == "(purged)", "{id}");
                }
            }
        },
    );
    assert_clean(&t);
}

#[test]
fn a_killed_backup_leaves_the_old_file_or_a_whole_new_one() {
    let f = fixture();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("nightly.jsonl");
    std::fs::write(&out, "yesterday's backup\n").unwrap();
    let prepare = |d: &Path| {
        copy_dir(&f.base, d);
        std::fs::write(&out, "yesterday's backup\n").unwrap();
    };
    let out_s = out.to_str().unwrap().to_string();
    let t = harness(
        "backup",
        &prepare,
        &["backup", "--out", &out_s],
        &|dir, finished, tally| {
            open_whole(dir, &f.whole, tally, "backup");
            let text = std::fs::read_to_string(&out).unwrap();
            if text == "yesterday's backup\n" {
                assert!(!finished, "a finished backup did not replace the file");
            } else {
                // A whole backup: it restores, and holds everything.
                let r = tempfile::tempdir().unwrap();
                let target = r.path().join("r");
                let key = f.base.join("audit.key");
                let res = common::cli::run(
                    &target,
                    &["restore", &out_s, "--chain-key", key.to_str().unwrap()],
                );
                assert!(
                    res.status.success(),
                    "{}",
                    String::from_utf8_lossy(&res.stderr)
                );
                let restored = holdings(&Desk::open(&target).unwrap());
                let (_, lost) = compare(&f.whole, &restored);
                tally.losses += lost;
            }
        },
    );
    assert_clean(&t);
}

/// Every file under `dir` with its length, to prove nothing was touched.
fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(listing(&p));
        } else {
            out.push((p.display().to_string(), e.metadata().unwrap().len()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_kill_between_rebuilds_renames_is_named_by_doctor_and_finished_by_the_next_start() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("d");
    let id = common::cli::open_case(&d, "Ann Lee");
    // Exactly what a kill between rebuild's two renames leaves: the old
    // store set aside, the complete rebuilt one beside it, no `store`.
    copy_dir(&d.join("store"), &d.join("store.rebuilding"));
    std::fs::rename(d.join("store"), d.join("store.old")).unwrap();
    let before = listing(&d);
    let out = common::cli::run(&d, &["doctor"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("resumes") && text.contains("store.old") && text.contains("puts it in place"),
        "{text}"
    );
    assert_eq!(listing(&d), before, "doctor changed nothing");
    // The next command finishes the swap: the case is there, the chain whole.
    let list = common::cli::ok(&d, &["case", "list"]);
    assert!(list.contains(&id), "{list}");
    assert!(common::cli::ok(&d, &["audit", "verify"]).contains("intact"));
    assert!(!d.join("store.old").exists() && !d.join("store.rebuilding").exists());
    // A new case does not reuse the number.
    let next = common::cli::open_case(&d, "Bob Ray");
    assert_ne!(next, id);
}

#[test]
fn an_interrupted_restore_keeps_the_directory_for_the_restore_run_again() {
    let t = tempfile::tempdir().unwrap();
    let (id, file, key) = backed_up_case(t.path());
    // What a kill mid-restore leaves: a half-built store, no `store`.
    let b = t.path().join("b");
    std::fs::create_dir(&b).unwrap();
    std::fs::create_dir(b.join("store.restoring")).unwrap();
    std::fs::write(b.join("store.restoring").join("db"), "half").unwrap();
    // An ordinary command, or a rebuild, does not open a fresh, empty store
    // in its place.
    for args in [&["case", "list", "--all"][..], &["rebuild"]] {
        let out = common::cli::run(&b, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("restore") && err.contains("interrupted"),
            "{err}"
        );
    }
    assert!(!b.join("store").exists() && !b.join("audit.key").exists());
    let doctor = common::cli::run(&b, &["doctor"]);
    assert!(
        String::from_utf8_lossy(&doctor.stdout).contains("run the same `rightsdesk restore` again")
    );
    // The restore run again starts over and works.
    common::cli::ok(
        &b,
        &[
            "restore",
            file.to_str().unwrap(),
            "--chain-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(common::cli::ok(&b, &["case", "list", "--all"]).contains(&id));
    assert!(common::cli::ok(&b, &["audit", "verify"]).contains("intact"));
}

#[test]
fn a_restore_killed_before_its_half_built_store_exists_still_holds_the_directory() {
    let t = tempfile::tempdir().unwrap();
    let (id, file, key) = backed_up_case(t.path());
    // The first thing a restore writes is its mark; a kill right after it
    // leaves nothing else (no settings, no key, no store.restoring).
    let b = t.path().join("b");
    std::fs::create_dir(&b).unwrap();
    std::fs::write(b.join("restore.unfinished"), "").unwrap();
    let out = common::cli::run(
        &b,
        &[
            "case",
            "open",
            "--right",
            "access",
            "--name",
            "X Y",
            "--channel",
            "email",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!b.join("store").exists() && !b.join("audit.key").exists());
    let doctor = common::cli::run(&b, &["doctor"]);
    assert_eq!(doctor.status.code(), Some(1));
    common::cli::ok(
        &b,
        &[
            "restore",
            file.to_str().unwrap(),
            "--chain-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(!b.join("restore.unfinished").exists(), "the mark comes off");
    assert!(common::cli::ok(&b, &["case", "list", "--all"]).contains(&id));
}

/// A data directory `a` under `root` with one case, and its backup; the
/// case's id, the backup file and `a`'s chain key.
fn backed_up_case(root: &Path) -> (String, PathBuf, PathBuf) {
    let a = root.join("a");
    let id = common::cli::open_case(&a, "Ann Lee");
    let file = root.join("a.jsonl");
    common::cli::ok(&a, &["backup", "--out", file.to_str().unwrap()]);
    (id, file, a.join("audit.key"))
}
