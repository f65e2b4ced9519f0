//! Tamper evidence beyond the chain's own links: a store copied back over a
//! newer one (rollback) and a backup whose chain was rewritten with hashes
//! recomputed are both caught, and a head written down elsewhere proves the
//! chain later (`audit head`, `audit verify --against`).

mod common;

use common::cli::{copy_dir, ok, open_case, run};
use rightsdesk::domain::audit::AuditEntry;
use sha2::{Digest, Sha256};

#[test]
fn an_older_store_copied_back_is_caught_as_a_rollback() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    open_case(&d, "Ann Lee");
    let head = ok(&d, &["audit", "head"]).trim().to_string();
    assert!(head.starts_with("1:"), "{head}");
    let saved = t.path().join("saved-store");
    copy_dir(&d.join("store"), &saved);
    let id = open_case(&d, "Bob Ray");
    ok(&d, &["case", "note", &id, "called back"]);
    let later = ok(&d, &["audit", "head"]).trim().to_string();
    // The head written down earlier is still in the chain.
    ok(&d, &["audit", "verify", "--against", &head]);
    // Someone puts the older store back.
    std::fs::remove_dir_all(d.join("store")).unwrap();
    copy_dir(&saved, &d.join("store"));
    let out = run(&d, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rolled back") && err.contains("#3"), "{err}");
    // From another machine's record of the head, too.
    let out = run(&d, &["audit", "verify", "--against", &later]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rolled back"));
    let out = run(&d, &["audit", "verify", "--against", "3:nothex"]);
    assert_eq!(out.status.code(), Some(2));
    // Ordinary work on the rolled-back store does not wipe the evidence:
    // every command warns, and verify keeps failing past the old head.
    for i in 0..3 {
        let r = run(
            &d,
            &["case", "note", &id_of_first(&d), &format!("routine {i}")],
        );
        assert!(r.status.success());
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(
            err.contains("warning") && err.contains("rolled back"),
            "{err}"
        );
    }
    let out = run(&d, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(5), "the rollback was forgotten");
}

fn id_of_first(d: &std::path::Path) -> String {
    let list = common::cli::json(d, &["case", "list", "--all", "--json"]);
    list[0]["id"].as_str().unwrap().to_string()
}

/// A backup with every actor rewritten and each hash recomputed as plain
/// SHA-256 (what someone without the chain key can do), its trailer fixed.
fn rewritten(backup: &str) -> String {
    let mut lines: Vec<String> = backup.lines().map(str::to_string).collect();
    lines.pop(); // the trailer
    let mut prev = rightsdesk::domain::audit::GENESIS.to_string();
    for l in lines.iter_mut() {
        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["tree"] != "audit" {
            continue;
        }
        let mut e: AuditEntry = serde_json::from_str(v["value"]["text"].as_str().unwrap()).unwrap();
        e.actor = "mallory".into();
        e.v = 1;
        e.prev = prev.clone();
        e.hash = e.compute_hash(None).unwrap();
        prev = e.hash.clone();
        v["value"]["text"] = serde_json::Value::String(serde_json::to_string(&e).unwrap());
        *l = serde_json::to_string(&v).unwrap();
    }
    let mut h = Sha256::new();
    for l in &lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    let trailer = serde_json::json!({
        "end": true,
        "records": lines.len() - 1,
        "sha256": hex::encode(h.finalize()),
    });
    lines.push(trailer.to_string());
    lines.join("\n") + "\n"
}

#[test]
fn a_backup_rewritten_without_the_chain_key_does_not_restore() {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a");
    let id = open_case(&a, "Ann Lee");
    ok(&a, &["case", "note", &id, "called back"]);
    let file = t.path().join("a.jsonl");
    ok(&a, &["backup", "--out", file.to_str().unwrap()]);
    let key = a.join("audit.key");
    let forged = t.path().join("forged.jsonl");
    std::fs::write(&forged, rewritten(&std::fs::read_to_string(&file).unwrap())).unwrap();
    let b = t.path().join("b");
    let out = run(
        &b,
        &[
            "restore",
            forged.to_str().unwrap(),
            "--chain-key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not sealed") && err.contains("#1"), "{err}");
    assert!(!b.join("store").exists());
    // Without a key it cannot be told from a backup older than the key:
    // refused unless taken knowingly, and then said so.
    let e = t.path().join("e");
    let out = run(&e, &["restore", forged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not sealed") && err.contains("--unsealed"),
        "{err}"
    );
    assert!(!e.join("store").exists());
    let out = run(&e, &["restore", forged.to_str().unwrap(), "--unsealed"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT sealed"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("unsealed"));
    // The genuine backup restores with the same key.
    let c = t.path().join("c");
    let restored = ok(
        &c,
        &[
            "restore",
            file.to_str().unwrap(),
            "--chain-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(restored.contains("intact"), "{restored}");
    ok(&c, &["audit", "verify"]);
    // The chain key stays out of the backup.
    let k = std::fs::read_to_string(&key).unwrap();
    let hexkey: serde_json::Value = serde_json::from_str(&k).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(hexkey["key"].as_str().unwrap()));
}

#[test]
fn a_store_whose_chain_key_is_gone_says_so_rather_than_seal_anew() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    open_case(&d, "Ann Lee");
    std::fs::remove_file(d.join("audit.key")).unwrap();
    let out = run(&d, &["case", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("chain key") && err.contains("audit.key"),
        "{err}"
    );
    assert!(!d.join("audit.key").exists(), "no new key was made");
}

#[test]
fn an_emptied_head_record_is_evidence_not_a_blank() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let id = open_case(&d, "Ann Lee");
    ok(&d, &["case", "note", &id, "one"]);
    std::fs::write(d.join("audit.head"), "").unwrap();
    let out = run(&d, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be read"));
    // Later changes warn and do not write over it.
    let r = run(&d, &["case", "note", &id, "two"]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("cannot be read"));
    assert_eq!(std::fs::read_to_string(d.join("audit.head")).unwrap(), "");
}
