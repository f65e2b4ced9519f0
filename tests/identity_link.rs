//! One person, several identities: Jürgen Müller is in HubSpot by his work
//! address and in Mailchimp by a private one the lookup cannot link. Staff
//! add the Mailchimp record to his erasure case (audited); from then on the
//! plan, the erasure, the suppression list and the backup marks cover both.

mod common;

use common::cli::{flagged_keys, json, ok, run, work_every_task};
use std::path::Path;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

const WORK: &str = "j.mueller@example.de";
const PRIVATE: &str = "juergen.mueller@web.example";

/// HubSpot and Mailchimp imported, and a verified case for Jürgen's work address.
fn two_identities(d: &Path, rights: &[&str]) -> String {
    ok(
        d,
        &["import", "web-forms", &fixture("hubspot-contacts.csv")],
    );
    ok(
        d,
        &[
            "import",
            "marketing",
            &fixture("mailchimp-second-address.csv"),
        ],
    );
    let mut args = vec!["case", "open", "--name", "Jürgen Müller"];
    for r in rights {
        args.extend(["--right", r]);
    }
    args.extend(["--email", WORK, "--channel", "email"]);
    let id = ok(d, &args).trim().to_string();
    ok(
        d,
        &["case", "verify", &id, "--method", "reply-from-address"],
    );
    id
}

/// The Mailchimp record as the lookup shows it: SOURCE:KEY.
fn private_record(d: &Path) -> String {
    let hits = json(d, &["lookup", PRIVATE, "--json"]);
    let h = hits
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["source"] == "marketing")
        .unwrap_or_else(|| panic!("{hits}"));
    format!("marketing:{}", h["record"].as_str().unwrap())
}

/// Records every pending task (done; exempt where the catalogue keeps the
/// data), then closes the erasure as fulfilled.
fn work_and_close(d: &Path, id: &str) {
    work_every_task(d, id, &|_, action| {
        let status = if action.starts_with("keep: exempt") {
            "exempt"
        } else {
            "done"
        };
        (
            status,
            "deleted in the tool; invoices kept under tax law".into(),
        )
    });
    ok(d, &["case", "ready", id]);
    ok(
        d,
        &[
            "case",
            "close",
            id,
            "--outcome",
            "fulfilled",
            "--reason",
            "erased",
        ],
    );
}

#[test]
fn a_second_identity_from_the_lookup_is_erased_suppressed_and_marked_with_the_first() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = two_identities(d, &["erasure"]);
    // Two people to the lookup: no shared e-mail or phone.
    let subjects = |q: &str| {
        let hits = json(d, &["lookup", q, "--json"]);
        let mut s: Vec<String> = hits
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["subject"].as_str().unwrap().to_string())
            .collect();
        s.sort();
        s.dedup();
        s
    };
    assert_eq!(subjects("jurgen muller").len(), 2);

    let record = private_record(d);
    // The shell's lookup names the record as `case link --record` takes it.
    let said = ok(d, &["lookup", PRIVATE]);
    assert!(said.contains(&format!("[{record}]")), "{said}");
    let said = ok(
        d,
        &[
            "case",
            "link",
            &id,
            "--record",
            &record,
            "--note",
            "same name; he wrote from both addresses",
        ],
    );
    assert!(said.contains("in-progress"), "{said}");
    let shown = ok(d, &["case", "show", &id]);
    assert!(
        shown.contains("identity-linked") && shown.contains("record(s) from marketing: same name"),
        "{shown}"
    );
    let c = json(d, &["case", "show", &id, "--json"]);
    let emails = c["subject"]["emails"].to_string();
    assert!(emails.contains(WORK) && emails.contains(PRIVATE), "{c}");
    assert!(c["records"].to_string().contains(&record), "{c}");
    // Audited with counts and the source, never the address.
    let log = ok(d, &["audit", "log", "--json"]);
    let linked = log
        .lines()
        .find(|l| l.contains("identity-linked"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(linked.contains("\"sources\":[\"marketing\"]"), "{linked}");
    assert!(!linked.contains("web.example"), "{linked}");
    // Twice is refused, and so is a record the lookup does not hold.
    let again = run(
        d,
        &["case", "link", &id, "--record", &record, "--note", "x"],
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already on the case"));
    let none = run(
        d,
        &[
            "case",
            "link",
            &id,
            "--record",
            "marketing:nope",
            "--note",
            "x",
        ],
    );
    assert!(String::from_utf8_lossy(&none.stderr).contains("no record 'marketing:nope'"));

    // The plan covers both: marketing (erased by suppression, as the
    // catalogue says) puts both addresses on the list.
    ok(d, &["case", "plan", &id, "--accept"]);
    let c = json(d, &["case", "show", &id, "--json"]);
    assert!(
        c["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["source"] == "marketing"
                && t["note"].as_str().unwrap().starts_with("5 identifier(s)")),
        "{c}"
    );
    work_and_close(d, &id);

    // No live record for either identity.
    for q in [WORK, PRIVATE] {
        let hits = json(d, &["lookup", q, "--json"]);
        assert_eq!(hits.as_array().unwrap().len(), 0, "{q}: {hits}");
    }
    // A restored backup and a campaign list holding both: both flagged.
    let list = d.join("list.csv");
    std::fs::write(
        &list,
        format!("id,name,email\n1,Jürgen Müller,{WORK}\n2,J. Müller,{PRIVATE}\n3,Ana García,ana.garcia@example.es\n"),
    )
    .unwrap();
    let list = list.to_str().unwrap();
    assert_eq!(
        flagged_keys(d, &["backups", "check", list, "--json"]),
        ["1", "2"]
    );
    assert_eq!(
        flagged_keys(d, &["suppression", "check", list, "--json"]),
        ["1", "2"]
    );
}

#[test]
fn an_identity_linked_after_the_plan_is_suppressed_and_marked_at_once() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = two_identities(d, &["erasure"]);
    ok(d, &["case", "plan", &id, "--accept"]);
    let marks_before = json(d, &["backups", "list", "--json"]);
    ok(
        d,
        &[
            "case",
            "link",
            &id,
            "--email",
            PRIVATE,
            "--note",
            "his private address, per his e-mail of 3 Nov",
        ],
    );
    // The registers the plan wrote now cover the new address too, before
    // the case closes: one mark per set still (rewritten, not doubled).
    let marks = json(d, &["backups", "list", "--json"]);
    assert_eq!(
        marks.as_array().unwrap().len(),
        marks_before.as_array().unwrap().len()
    );
    let list = d.join("campaign.csv");
    std::fs::write(&list, format!("email\n{PRIVATE}\nlukasz@example.pl\n")).unwrap();
    let out = run(
        d,
        &["suppression", "check", list.to_str().unwrap(), "--json"],
    );
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"line\": 2"));
    let out = run(d, &["backups", "check", list.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(6));
}

#[test]
fn an_erasure_reaches_every_record_the_lookup_links_to_the_person() {
    let t = tempfile::tempdir().unwrap();
    let d = &t.path().join("data");
    // HubSpot: his work address, two more, and his phone; the CRM: another
    // address, linked to him only through that phone (and his name).
    ok(
        d,
        &["import", "web-forms", &fixture("hubspot-contacts.csv")],
    );
    let crm = t.path().join("crm.csv");
    std::fs::write(
        &crm,
        "id,name,email,phone\nK-1001,Jürgen Müller,j.mueller@mueller-logistik.example,+49 30 1234567\n",
    )
    .unwrap();
    ok(d, &["import", "customers", crm.to_str().unwrap()]);
    let id = ok(
        d,
        &[
            "case",
            "open",
            "--right",
            "erasure",
            "--name",
            "Jürgen Müller",
            "--email",
            WORK,
            "--channel",
            "email",
        ],
    )
    .trim()
    .to_string();
    ok(
        d,
        &["case", "verify", &id, "--method", "reply-from-address"],
    );
    ok(d, &["case", "plan", &id, "--accept"]);
    let c = json(d, &["case", "show", &id, "--json"]);
    // Found there (not "search and erase"): the lookup's link by phone.
    assert!(
        c["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["source"] == "customers" && t["action"] == "erase"),
        "{c}"
    );
    work_and_close(d, &id);
    for q in [
        "j.mueller@mueller-logistik.example",
        "juergen@privat.example",
        "+49 30 1234567",
    ] {
        assert_eq!(
            json(d, &["lookup", q, "--json"]).as_array().unwrap().len(),
            0,
            "{q} still found"
        );
    }
    let list = t.path().join("campaign.csv");
    std::fs::write(
        &list,
        "key,email\n1,juergen@privat.example\n2,jm@old.example\n3,j.mueller@mueller-logistik.example\n4,ana.garcia@example.es\n",
    )
    .unwrap();
    assert_eq!(
        flagged_keys(
            d,
            &["suppression", "check", list.to_str().unwrap(), "--json"]
        ),
        ["1", "2", "3"]
    );
}
