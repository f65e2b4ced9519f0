//! `backup` writes the whole store as versioned JSON lines; `restore` rebuilds a
//! store from it that holds the same cases, records and a chain that verifies.

mod common;

use common::cli::{ok, run};
use std::path::Path;

#[test]
fn backup_and_restore_round_trip() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    let held = {
        let mut desk = common::desk(&a);
        rightsdesk::service::demo::seed(&mut desk, common::today()).unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/import/hubspot-contacts.csv");
        desk.import("web-forms", &fixture, &Default::default(), &mut |_, _| {})
            .unwrap();
        desk.split_record("web-forms", "5103").unwrap();
        desk.record_reader().len()
    };
    assert!(held >= 3, "{held} records");
    let file = t.path().join("desk.jsonl");
    ok(&a, &["backup", "--out", file.to_str().unwrap()]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text
        .lines()
        .next()
        .unwrap()
        .contains("\"format\":\"rightsdesk-backup\""));

    // The backup's chain is sealed with a's chain key, kept apart from it.
    let out = run(&b, &["restore", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("--chain-key"), "{e}");
    assert!(!b.join("store").exists() && !b.join("audit.key").exists());
    let key = a.join("audit.key");
    let restored = ok(
        &b,
        &[
            "restore",
            file.to_str().unwrap(),
            "--chain-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(restored.contains("audit chain intact"), "{restored}");
    assert_eq!(
        ok(&a, &["case", "list", "--all", "--json"]),
        ok(&b, &["case", "list", "--all", "--json"])
    );
    // The backup is logged once its file is written, so the restored chain
    // is the original's up to that last entry.
    let original = ok(&a, &["audit", "log", "--json"]);
    let (before, last) = original.trim_end().rsplit_once('\n').unwrap();
    assert!(last.contains("\"kind\":\"backup\""), "{last}");
    assert_eq!(format!("{before}\n"), ok(&b, &["audit", "log", "--json"]));
    assert_eq!(
        ok(&a, &["lookup", "siobhan", "--json"]),
        ok(&b, &["lookup", "siobhan", "--json"])
    );
    // A second backup of the restored store holds the same lines (bar the header's time).
    let file2 = t.path().join("again.jsonl");
    ok(&b, &["backup", "--out", file2.to_str().unwrap()]);
    let body = |s: &str| {
        s.lines()
            .skip(1)
            .filter(|l| !l.contains("\"end\""))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (first, second) = (body(&text), body(&std::fs::read_to_string(&file2).unwrap()));
    // A backup is logged once its file is written, so the restored store's
    // backup holds exactly the lines of the one it came from.
    assert_eq!(second, first);
    // The store keeps records in blocks (schema 3); a backup holds one row
    // per record and says schema 1 throughout, header and meta alike, so a
    // desk from before blocks restores it and opens what it restored.
    let rows = |tree: &str| {
        text.lines()
            .filter(|l| l.contains(&format!("\"tree\":\"{tree}\"")))
            .count()
    };
    assert_eq!(rows("records"), held, "one row per record held");
    assert_eq!(rows("record-blocks"), 0);
    let schema_key = "schema_version"
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let schema_row = text
        .lines()
        .find(|l| l.contains(&schema_key))
        .expect("the schema row");
    assert!(schema_row.contains("{\"text\":\"1\"}"), "{schema_row}");
    assert!(text.lines().next().unwrap().contains("\"schema\":1"));
    // The restored store itself is schema 3: a desk from before blocks
    // refuses it rather than miss its records.
    let db = sled::Config::new().path(b.join("store")).open().unwrap();
    let meta = db.open_tree("meta").unwrap();
    assert_eq!(
        meta.get("schema_version").unwrap().as_deref(),
        Some(&b"3"[..])
    );
    drop((meta, db));
    // Case ids continue where the original left off.
    let id = ok(
        &b,
        &[
            "case",
            "open",
            "--right",
            "access",
            "--name",
            "After Restore",
            "--channel",
            "post",
        ],
    );
    assert!(
        ok(&a, &["case", "list", "--all"])
            .lines()
            .all(|l| !l.starts_with(id.trim())),
        "ids are not reused"
    );
}

#[test]
fn a_damaged_backup_is_refused_and_leaves_no_store() {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a");
    ok(
        &a,
        &[
            "case",
            "open",
            "--right",
            "erasure",
            "--name",
            "Ana García",
            "--channel",
            "email",
        ],
    );
    let file = t.path().join("desk.jsonl");
    ok(&a, &["backup", "--out", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).unwrap();
    for (name, damaged) in [
        (
            "truncated",
            text.lines().take(3).collect::<Vec<_>>().join("\n") + "\n",
        ),
        ("altered", text.replace("Ana Garc", "Ana Xarc")),
        (
            "foreign",
            text.replacen("rightsdesk-backup", "other-tool", 1),
        ),
    ] {
        let bad = t.path().join(format!("{name}.jsonl"));
        std::fs::write(&bad, damaged).unwrap();
        let target = t.path().join(format!("restore-{name}"));
        let out = run(&target, &["restore", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(
            e.contains("restore:") && e.contains(bad.to_str().unwrap()),
            "{name}: {e}"
        );
        assert!(
            !target.join("store").exists(),
            "{name}: no half-built store is left"
        );
        // A refused restore takes its own mark back: the directory is as free
        // as before, not held for a restore that will never finish.
        assert!(
            !target.join("restore.unfinished").exists() && !target.join("store.restoring").exists(),
            "{name}: the restore's mark is left"
        );
    }
    let out = run(&a, &["restore", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds a store"));
}

/// Every file under `dir` with its bytes, to prove nothing was touched.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_truncated_store_is_refused_before_anything_is_written() {
    let t = tempfile::tempdir().unwrap();
    {
        let mut desk = common::desk(t.path());
        rightsdesk::service::demo::seed(&mut desk, common::today()).unwrap();
    }
    let db = t.path().join("store/db");
    for keep in [100u64, 4096] {
        let len = std::fs::metadata(&db).unwrap().len();
        let copy = t.path().join("db.whole");
        std::fs::copy(&db, &copy).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&db)
            .unwrap()
            .set_len(keep)
            .unwrap();
        let before = snapshot(t.path());
        let out = run(t.path(), &["case", "list"]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("is damaged")
                && err.contains(&format!("db is {keep} bytes but was {len}")),
            "{err}"
        );
        assert!(err.contains("nothing was changed"), "{err}");
        assert_eq!(snapshot(t.path()), before, "not a byte changed");
        // Put the file back: the store opens and verifies again.
        std::fs::copy(&copy, &db).unwrap();
        std::fs::remove_file(&copy).unwrap();
        assert!(ok(t.path(), &["audit", "verify"]).contains("intact"));
    }
}

#[test]
fn a_backup_never_replaces_something_that_is_not_a_plain_file() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    let fifo = t.path().join("not-a-file");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let err = rightsdesk::remote::backend::Backend::from(desk.clone())
        .backup(&fifo)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a plain file"), "{err}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(
        desk.audit_log(None)
            .unwrap()
            .iter()
            .all(|e| e.kind != "backup"),
        "a refused backup is not logged as taken"
    );
}
