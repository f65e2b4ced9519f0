//! The rights flows from a shell, each from a verified case to closure:
//! plans, the access package, erasure with backup marks, the suppression list.

mod common;

use common::cli::{files_holding, json, ok, run as rightsdesk, succeeded, work_every_task};
use std::path::Path;
use std::process::Command;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A store holding Jürgen Müller in HubSpot (web-forms) and Ana García, with
/// one case for Jürgen opened with `rights` and verified.
fn verified_case(dir: &Path, rights: &[&str]) -> String {
    ok(
        dir,
        &["import", "web-forms", &fixture("hubspot-contacts.csv")],
    );
    let mut args = vec!["case", "open", "--name", "Jürgen Müller"];
    for r in rights {
        args.extend(["--right", r]);
    }
    args.extend([
        "--email",
        "j.mueller@EXAMPLE.de",
        "--phone",
        "+49 30 1234567",
        "--channel",
        "email",
    ]);
    let id = ok(dir, &args).trim().to_string();
    ok(
        dir,
        &["case", "verify", &id, "--method", "reply-from-address"],
    );
    id
}

#[test]
fn access_and_portability_package_opens_only_with_the_password() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = verified_case(d, &["access", "portability"]);

    let plan = json(d, &["case", "plan", &id, "--json"]);
    assert_eq!(plan["found_in"], serde_json::json!(["web-forms"]));
    assert_eq!(plan["tasks"][0]["source"], "web-forms");
    assert_eq!(plan["tasks"][0]["action"], "collect");
    assert_eq!(plan["tasks"][0]["held"], true);
    // A proposal writes nothing.
    let c = json(d, &["case", "show", &id, "--json"]);
    assert_eq!(c["tasks"], serde_json::json!([]));
    ok(
        d,
        &[
            "case",
            "plan",
            &id,
            "--accept",
            "--skip",
            "third-party-widgets",
        ],
    );
    let c = json(d, &["case", "show", &id, "--json"]);
    let tasks = c["tasks"].as_array().unwrap();
    assert!(tasks.iter().all(|t| t["status"] == "pending"));
    assert!(tasks.iter().all(|t| t["source"] != "third-party-widgets"));
    assert!(tasks.iter().all(|t| t["source"] != "backups"));

    let pw = d.join("pw.txt");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let out = d.join("out");
    let export = common::cli::export_access_args(&id, &out, &pw, &["--json"]);
    // Sources still to search: no package yet, and the refusal names them.
    let refused = rightsdesk(d, &export);
    assert_eq!(refused.status.code(), Some(3));
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(
        why.contains("not yet searched")
            && why.contains("web-forms")
            && why.contains("--unsearched-reason"),
        "{why}"
    );
    assert!(!out.join(format!("{id}-access.pdf")).exists());
    // Each source searched: held in web-forms, nothing found elsewhere.
    for t in tasks {
        let (source, action) = (t["source"].as_str().unwrap(), t["action"].as_str().unwrap());
        let status = if source == "web-forms" {
            "done"
        } else {
            "not-found"
        };
        ok(
            d,
            &[
                "case",
                "task",
                &id,
                source,
                "--action",
                action,
                "--status",
                status,
                "--note",
                "searched by e-mail and name",
            ],
        );
    }
    let r = json(d, &export);
    assert_eq!(r["records"], 1);
    let pdf = std::fs::read(r["pdf"].as_str().unwrap()).unwrap();
    // Nothing of the person is readable in the file itself.
    assert!(!pdf.windows(6).any(|w| w == b"Mueller" || w == b"M\xfcller"));
    assert!(lopdf::Document::load_mem(&pdf)
        .map(|mut doc| doc.decrypt("wrong password").is_err())
        .unwrap_or(true));
    let doc = lopdf::Document::load_mem_with_options(
        &pdf,
        lopdf::LoadOptions::with_password("correct horse battery staple"),
    )
    .expect("opens with the password");
    let text = doc
        .extract_text(&doc.get_pages().keys().copied().collect::<Vec<_>>())
        .unwrap();
    // What was searched, when, by whom, and what came of it; no claim of a
    // search nobody recorded.
    let me = rightsdesk::service::actor::os_user();
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Website contact forms: searched") && flat.contains(&me),
        "{flat}"
    );
    assert!(flat.contains("nothing found"), "{flat}");
    assert!(!flat.contains("We searched every system"), "{flat}");
    for want in [
        "Jürgen",
        "j.mueller@example.de",
        "Your rights",
        "How long we keep it",
        "Who receives it",
        "supervisory authority",
        // Art. 15(1)(h) and 15(2), in the policy's terms, and what it leaves open.
        "no automated decisions",
        "stored in the United States and Ireland",
        "does not name the safeguards",
    ] {
        assert!(
            text.to_lowercase().contains(&want.to_lowercase()),
            "{want} missing from:\n{text}"
        );
    }
    if let Ok(o) = Command::new("pdftotext")
        .args(["-upw", "correct horse battery staple"])
        .arg(r["pdf"].as_str().unwrap())
        .arg("-")
        .output()
    {
        // A standard reader, where the machine has one.
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("Your rights"));
        let bad = Command::new("pdftotext")
            .args(["-upw", "wrong", r["pdf"].as_str().unwrap(), "-"])
            .output()
            .unwrap();
        assert!(!bad.status.success());
    }

    let zip_path = r["zip"].as_str().expect("portability zip");
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    for name in ["data.json", "data.csv"] {
        assert!(z.by_name(name).is_err(), "{name} opened without a password");
        let aes = z
            .get_aes_verification_key_and_salt(z.index_for_name(name).unwrap())
            .unwrap()
            .expect("an AES entry");
        assert_eq!(aes.aes_mode, zip::AesMode::Aes256);
        let mut f = z
            .by_name_decrypt(name, b"correct horse battery staple")
            .unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut f, &mut s).unwrap();
        assert!(s.contains("J.Mueller@Example.de"), "{name}: {s}");
    }
    // The export is logged, without the password.
    let log = ok(d, &["audit", "log", "--json"]);
    assert!(log.contains("access-exported"));
    assert!(!log.contains("correct horse"));
}

#[test]
fn erasure_marks_backups_finds_restored_rows_and_leaves_no_address_on_disk() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = verified_case(d, &["erasure"]);
    ok(d, &["case", "plan", &id, "--accept"]);
    // A lookup writes the index's file beside the store, with the person in it.
    let index_file = d.join("store").join("lookup.idx");
    ok(d, &["lookup", "mueller"]);
    let in_index = |needle: &[u8]| {
        files_holding(&d.join("store"), needle)
            .iter()
            .any(|p| p.ends_with("lookup.idx"))
    };
    assert!(
        in_index(b"j.mueller@example.de") && in_index(b"49301234567"),
        "precondition: indexed"
    );
    let c = json(d, &["case", "show", &id, "--json"]);
    let task = |src: &str, action: &str| -> serde_json::Value {
        c["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["source"] == src && t["action"].as_str().unwrap().contains(action))
            .unwrap_or_else(|| panic!("no {src} {action} task in {c}"))
            .clone()
    };
    assert_eq!(task("web-forms", "erase")["status"], "pending");
    assert_eq!(task("backups", "mark backup")["status"], "done");
    assert_eq!(task("marketing", "suppression")["status"], "done");
    // Art. 19 is proposed only where the person's data is held: not in events.
    assert!(
        !c["tasks"].as_array().unwrap().iter().any(|t| t["action"]
            .as_str()
            .unwrap()
            .starts_with("notify recipient")),
        "{c}"
    );
    let marks = json(d, &["backups", "list", "--json"]);
    assert_eq!(
        marks.as_array().unwrap().len(),
        4,
        "one mark per backup set"
    );
    assert!(marks[0]["expires"].is_string());

    // Work every pending task, then close.
    for t in c["tasks"].as_array().unwrap() {
        if t["status"] != "pending" {
            continue;
        }
        let (status, note) = if t["action"].as_str().unwrap().starts_with("keep: exempt") {
            ("exempt", "invoices kept 6 years under tax law")
        } else if t["source"] == "web-forms" {
            ("done", "alice deleted the contact from HubSpot")
        } else {
            ("not-found", "searched")
        };
        ok(
            d,
            &[
                "case",
                "task",
                &id,
                t["source"].as_str().unwrap(),
                "--action",
                t["action"].as_str().unwrap(),
                "--status",
                status,
                "--note",
                note,
            ],
        );
    }
    ok(d, &["case", "ready", &id]);
    ok(
        d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "fulfilled",
            "--reason",
            "erased",
        ],
    );
    // The erasure took the person's words out of the index's file at once
    // (the shell has no index of its own running: the file goes, and the
    // next lookup writes it again without them).
    // (The phone as the index holds it: its digits, and reversed.)
    let gone = [
        &b"j.mueller@example.de"[..],
        b"juergen@privat.example",
        b"49301234567",
        b"76543210394",
    ];
    assert!(
        !gone.iter().any(|n| in_index(n)),
        "the erased person is still in {}",
        index_file.display()
    );
    ok(d, &["lookup", "mueller"]);
    assert!(index_file.exists(), "the next lookup wrote the index again");
    assert!(!gone.iter().any(|n| in_index(n)));
    let letter = ok(d, &["case", "letter", &id]);
    assert!(
        letter.contains("backup set(s)") && letter.contains("expire by"),
        "{letter}"
    );
    assert!(
        letter.contains("kept, because invoices kept 6 years"),
        "{letter}"
    );

    // A restored data set: Jürgen in another letter case and by phone, and Ana.
    let restored = d.join("restored.csv");
    std::fs::write(
        &restored,
        "Record ID,First Name,Last Name,Email,Phone Number\n\
         1,J,M,J.MUELLER@example.DE,\n\
         2,Ana,García,ana.garcia@example.es,\n\
         3,Jürgen,Müller,,0049 30 1234567\n\
         4,Other,Person,other@example.com,+353 1 234 5678\n",
    )
    .unwrap();
    let out = rightsdesk(
        d,
        &[
            "backups",
            "check",
            restored.to_str().unwrap(),
            "--format",
            "csv",
            "--map",
            "key=Record ID,email=Email,phone=Phone Number,name=First Name",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(6), "rows found → exit 6");
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["1", "3"]);
    assert_eq!(hits[1]["matched"], "phone");

    // The address is gone from the store once it is rebuilt.
    ok(d, &["rebuild"]);
    for needle in [&b"j.mueller@example.de"[..], b"1234567"] {
        assert_eq!(
            files_holding(d, needle)
                .iter()
                .filter(|p| !p.ends_with("restored.csv"))
                .count(),
            0,
            "{} still on disk: {:?}",
            String::from_utf8_lossy(needle),
            files_holding(d, needle)
        );
    }
    // …and the lookup still shows a re-import of the person as ERASED.
    ok(
        d,
        &["import", "web-forms", &fixture("hubspot-contacts.csv")],
    );
    let hits = json(d, &["lookup", "mueller", "--json"]);
    assert_eq!(hits[0]["flags"]["erased"], true, "{hits}");
    let verified = ok(d, &["audit", "verify"]);
    assert!(verified.contains("intact"), "{verified}");
}

#[test]
fn objection_suppresses_and_campaign_lists_are_checked() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = verified_case(d, &["objection"]);
    let plan = json(d, &["case", "plan", &id, "--json"]);
    let sources: std::collections::BTreeSet<&str> = plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["marketing"].into_iter().collect());
    ok(d, &["case", "plan", &id, "--accept"]);
    // Mailchimp's unsubscribes go on the list too.
    let said = ok(
        d,
        &[
            "suppression",
            "import",
            "marketing",
            &fixture("mailchimp-unsubscribed.csv"),
        ],
    );
    assert!(said.contains("1 new"), "{said}");

    let list = ok(d, &["suppression", "export"]);
    assert!(list.starts_with("# recipe: HMAC-SHA256"));
    assert!(!list.to_lowercase().contains("mueller"), "hashes only");
    assert_eq!(
        list.lines()
            .filter(|l| l.contains(",email,") || l.contains(",phone,"))
            .count(),
        // The case's e-mail and phone, the HubSpot record's two other
        // addresses, and the unsubscribed Mailchimp row.
        5
    );

    let campaign = d.join("campaign.csv");
    std::fs::write(
        &campaign,
        "Email Address,First Name,Last Name,Address,Phone Number,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS\n\
         J.Mueller@Example.DE,J,M,,,2,,,,,,,,,,,,,1,a,,\n\
         ana.garcia@example.es,Ana,G,,,2,,,,,,,,,,,,,2,b,,\n\
         x@example.com,X,Y,,+49-30-1234567,2,,,,,,,,,,,,,3,c,,\n\
         INGRID@example.se,I,S,,,2,,,,,,,,,,,,,4,d,,\n",
    )
    .unwrap();
    let out = rightsdesk(
        d,
        &["suppression", "check", campaign.to_str().unwrap(), "--json"],
    );
    assert_eq!(out.status.code(), Some(6));
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<u64> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 4, 5], "{hits}");
    assert_eq!(hits[0]["case"], id.as_str());
    assert_eq!(hits[2]["case"], serde_json::Value::Null);

    // DO NOT MARKET shows on the lookup hit.
    let hits = json(d, &["lookup", "mueller", "--json"]);
    assert_eq!(hits[0]["flags"]["do-not-market"], true, "{hits}");
}

#[test]
fn withdrawing_consent_puts_the_person_on_the_suppression_list() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let list = fixture("mailchimp-subscribed.csv");
    ok(d, &["import", "marketing", &list]);
    let id = ok(
        d,
        &[
            "case",
            "open",
            "--right",
            "withdraw-consent",
            "--name",
            "Łukasz Nowak",
            "--email",
            "lukasz@example.pl",
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
    // The subscribed list now has a row not to send to: his.
    let out = rightsdesk(d, &["suppression", "check", &list, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    assert_eq!(hits[0]["case"], id.as_str());
    let found = json(d, &["lookup", "lukasz", "--json"]);
    assert_eq!(found[0]["flags"]["do-not-market"], true, "{found}");
}

#[test]
fn restriction_shows_on_lookup_until_lifted_after_telling_the_subject() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = verified_case(d, &["restriction"]);
    ok(d, &["case", "plan", &id, "--accept"]);
    let hits = json(d, &["lookup", "mueller", "--json"]);
    assert_eq!(hits[0]["flags"]["restricted"], true, "{hits}");
    let today = chrono::Local::now().date_naive();
    let tomorrow = (today + chrono::Days::new(1)).to_string();
    let out = rightsdesk(
        d,
        &[
            "case",
            "lift-restriction",
            &id,
            "--told-on",
            &tomorrow,
            "--how",
            "letter",
            "--reason",
            "checked",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "must tell the subject first");
    let lift = [
        "case",
        "lift-restriction",
        &id,
        "--told-on",
        &today.to_string(),
        "--how",
        "letter of today",
        "--reason",
        "the address was checked and is right",
    ];
    // Not before the restriction is recorded as in place in every source.
    let out = rightsdesk(d, &lift);
    assert_eq!(out.status.code(), Some(3));
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(why.contains("not yet recorded as in place"), "{why}");
    let c = json(d, &["case", "show", &id, "--json"]);
    for t in c["tasks"].as_array().unwrap() {
        let (source, action) = (t["source"].as_str().unwrap(), t["action"].as_str().unwrap());
        ok(
            d,
            &[
                "case",
                "task",
                &id,
                source,
                "--action",
                action,
                "--status",
                "done",
                "--note",
                "marked restricted in the admin panel",
            ],
        );
    }
    ok(d, &lift);
    // When, how, why and by whom: on the case, in its JSON and in the letter.
    let c = json(d, &["case", "show", &id, "--json"]);
    assert_eq!(c["restriction_lifted"]["told_on"], today.to_string());
    assert_eq!(c["restriction_lifted"]["how"], "letter of today");
    assert_eq!(
        c["restriction_lifted"]["reason"],
        "the address was checked and is right"
    );
    let shown = ok(d, &["case", "show", &id]);
    assert!(shown.contains("restriction lifted on"), "{shown}");
    // No response while the case is open; once closed, it tells of the lift.
    let early = rightsdesk(d, &["case", "letter", &id]);
    assert_eq!(early.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&early.stderr).contains("ready to respond or closed"));
    ok(
        d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "withdrawn",
            "--reason",
            "asked",
        ],
    );
    let letter = ok(d, &["case", "letter", &id]);
    assert!(
        letter.contains("We lifted the restriction") && letter.contains("the address was checked"),
        "{letter}"
    );
    let hits = json(d, &["lookup", "mueller", "--json"]);
    assert_eq!(hits[0]["flags"]["restricted"], false, "{hits}");
}

#[test]
fn a_shell_task_completes_the_planned_task_of_its_source() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let id = common::cli::open_verified(&d, &["erasure"], "Ann Lee", "ann@example.ie");
    ok(&d, &["case", "plan", &id, "--accept"]);
    let planned = json(&d, &["case", "show", &id, "--json"])["tasks"]
        .as_array()
        .unwrap()
        .len();
    ok(
        &d,
        &[
            "case",
            "task",
            &id,
            "web-forms",
            "--status",
            "done",
            "--note",
            "deleted",
        ],
    );
    let c = json(&d, &["case", "show", &id, "--json"]);
    let tasks = c["tasks"].as_array().unwrap();
    assert_eq!(
        tasks.len(),
        planned,
        "no second task beside the planned one"
    );
    let web: Vec<_> = tasks
        .iter()
        .filter(|t| t["source"] == "web-forms")
        .collect();
    assert_eq!(web.len(), 1);
    assert_eq!(web[0]["status"], "done");
}

#[test]
fn the_letter_prints_as_lines() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let id = common::cli::open_case(&d, "Ann Lee");
    ok(&d, &["case", "verify", &id, "--method", "known-details"]);
    ok(
        &d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "withdrawn",
            "--reason",
            "asked",
        ],
    );
    let letter = ok(&d, &["case", "letter", &id]);
    assert!(letter.lines().count() > 3, "{letter}");
    assert!(!letter.contains("^J"), "{letter}");
}

#[test]
fn notices_are_written_recorded_and_owed_from_the_shell() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let id = common::cli::open_case(&d, "Tomáš Dvořák");
    ok(&d, &["case", "verify", &id, "--method", "known-details"]);
    let ext = ["case", "letter", &id, "extension"];
    let refused = rightsdesk(&d, &ext);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("was not extended"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    ok(&d, &["case", "extend", &id, "--reason", "eleven systems"]);
    let letter = ok(&d, &ext);
    assert!(letter.contains("Dear Tomáš Dvořák"), "{letter}");
    assert!(letter.contains("because eleven systems"), "{letter}");
    let shown = ok(&d, &["case", "show", &id]);
    assert!(
        shown.contains("warning:    the extension notice of"),
        "{shown}"
    );
    let v = json(&d, &["case", "show", &id, "--json"]);
    assert_eq!(v["notices_owed"].as_array().unwrap().len(), 1, "{v}");

    // Closing with a notice owed is allowed, and says so.
    let out = rightsdesk(
        &d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "withdrawn",
            "--reason",
            "asked",
        ],
    );
    succeeded(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: the extension notice of"), "{err}");

    // On a case that recorded it, nothing is owed.
    let id = common::cli::open_case(&d, "Ann Lee");
    ok(&d, &["case", "verify", &id, "--method", "known-details"]);
    ok(&d, &["case", "extend", &id, "--reason", "many systems"]);
    ok(&d, &["case", "sent", &id, "extension", "--via", "post"]);
    let v = json(&d, &["case", "show", &id, "--json"]);
    assert_eq!(v["notices_owed"], serde_json::json!([]), "{v}");
    assert_eq!(v["notices_sent"][0]["letter"], "extension", "{v}");
    assert_eq!(v["notices_sent"][0]["via"], "post", "{v}");
}

#[test]
fn a_fee_asked_before_acting_stops_the_clock_until_it_is_paid() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let id = ok(
        &d,
        &[
            "case",
            "open",
            "--right",
            "access",
            "--name",
            "Işıl Öztürk",
            "--email",
            "isil@example.com.tr",
            "--channel",
            "email",
            "--received",
            "2026-11-02",
        ],
    )
    .trim()
    .to_string();
    ok(
        &d,
        &[
            "case",
            "verify",
            &id,
            "--method",
            "known-details",
            "--on",
            "2026-11-03",
        ],
    );
    let fee = [
        "case",
        "fee",
        &id,
        "--amount",
        "€ 10",
        "--reason",
        "the fourth copy of the same data this month?",
        "--on",
        "2026-11-04",
    ];
    ok(&d, &fee);
    let v = json(&d, &["case", "show", &id, "--json"]);
    assert_eq!(v["due"], serde_json::Value::Null, "on hold: {v}");
    assert!(
        v["clock"]
            .as_str()
            .unwrap()
            .contains("fee requested 4 Nov 2026"),
        "{v}"
    );
    // A second fee is refused; the work waits until the fee is paid.
    assert_eq!(rightsdesk(&d, &fee).status.code(), Some(3));
    let waits = rightsdesk(&d, &["case", "plan", &id, "--accept"]);
    assert_eq!(waits.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&waits.stderr).contains("not yet paid"));
    let letter = ok(&d, &["case", "letter", &id, "fee-request"]);
    assert!(letter.contains("a reasonable fee of € 10"), "{letter}");
    assert!(
        letter.contains("the same data this month (Art. 12(5)(a)"),
        "{letter}"
    );
    assert!(!letter.contains("?."), "{letter}");
    ok(
        &d,
        &[
            "case",
            "sent",
            &id,
            "fee-request",
            "--via",
            "email",
            "--on",
            "2026-11-04",
        ],
    );
    ok(&d, &["case", "fee-paid", &id, "--on", "2026-11-20"]);
    let v = json(&d, &["case", "show", &id, "--json"]);
    // A fresh month from the day it was paid.
    assert_eq!(v["due"], "2026-12-21", "{v}");
    assert!(
        v["clock"]
            .as_str()
            .unwrap()
            .contains("fee paid 20 Nov 2026"),
        "{v}"
    );
    ok(&d, &["case", "plan", &id, "--accept"]);
    assert_eq!(
        rightsdesk(&d, &fee).status.code(),
        Some(3),
        "one fee per request"
    );
}

#[test]
fn an_access_package_with_nothing_searched_goes_only_with_a_reason_it_states() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = verified_case(d, &["access"]);
    let pw = d.join("pw.txt");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let out = d.join("out");
    let mut export = common::cli::export_access_args(&id, &out, &pw, &[]);
    // No plan: nothing was searched, so no package says otherwise.
    let refused = rightsdesk(d, &export);
    assert_eq!(refused.status.code(), Some(3));
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("no source has been searched"), "{why}");
    let before = ok(d, &["audit", "log", "--case", &id]).lines().count();
    export.extend([
        "--unsearched-reason",
        "sent in part at the person's request",
    ]);
    ok(d, &export);
    let text = pdf_text(&out.join(format!("{id}-access.pdf")));
    assert!(
        text.contains("Not searched before this package was sent"),
        "{text}"
    );
    assert!(
        text.contains("The reason: sent in part at the person's request"),
        "{text}"
    );
    assert!(!text.contains("found no personal data"), "{text}");
    // The export is on the case's own timeline.
    let after = ok(d, &["audit", "log", "--case", &id]);
    assert_eq!(after.lines().count(), before + 1);
    assert!(
        after.lines().last().unwrap().contains("access-exported"),
        "{after}"
    );
    // The chain says the package went with sources unsearched (not the
    // reason: free text stays out of the chain).
    let last = ok(d, &["audit", "log", "--case", &id, "--json"]);
    let entry: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(
        entry["detail"]["unsearched"][0], "(no plan: every source)",
        "{entry}"
    );
}

#[test]
fn access_and_portability_close_fulfilled_only_once_the_package_went_out() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let id = verified_case(d, &["access", "portability"]);
    let close = [
        "case",
        "close",
        &id,
        "--outcome",
        "fulfilled",
        "--reason",
        "sent",
    ];
    let refused = rightsdesk(d, &close);
    assert_eq!(refused.status.code(), Some(3));
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(
        why.contains("package not sent") && why.contains("[access-package]"),
        "{why}"
    );
    // The package is what fulfils them; once it went out, the case closes.
    let pw = d.join("pw.txt");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let out = d.join("out");
    let mut export = common::cli::export_access_args(&id, &out, &pw, &[]);
    export.extend(["--unsearched-reason", "the person asked for HubSpot only"]);
    ok(d, &export);
    let v = json(d, &["case", "show", &id, "--json"]);
    assert!(
        v["closure"].is_null(),
        "the export alone does not close: {v}"
    );
    ok(d, &close);
}

/// The PDF's text, one space between words (lines wrap where the font says).
fn pdf_text(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let doc = lopdf::Document::load_mem_with_options(
        &bytes,
        lopdf::LoadOptions::with_password("correct horse battery staple"),
    )
    .unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn an_older_export_does_not_overwrite_newer_values() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let d = data.as_path();
    let header = "\"Record ID\",\"First Name\",\"Last Name\",\"Email\",\"Company Name\",\"Last Activity Date\"\n";
    let newer = t.path().join("contacts-2026-10.csv");
    std::fs::write(
        &newer,
        format!("{header}\"7001\",\"Rosa\",\"Jiménez\",\"rosa@example.es\",\"Nueva SL\",\"2026-10-02 10:00\"\n"),
    )
    .unwrap();
    let older = t.path().join("contacts-2025-03.csv");
    std::fs::write(
        &older,
        format!("{header}\"7001\",\"Rosa\",\"Jiménez\",\"rosa@example.es\",\"Vieja SA\",\"2025-03-01 09:00\"\n"),
    )
    .unwrap();
    ok(d, &["import", "web-forms", newer.to_str().unwrap()]);
    let said = ok(d, &["import", "web-forms", older.to_str().unwrap()]);
    assert!(
        said.contains("0 updated") && said.contains("1 older than the record held"),
        "{said}"
    );
    let hits = json(d, &["lookup", "rosa", "--json"]);
    assert_eq!(hits[0]["company"], "Nueva SL", "{hits}");
    // A newer export still replaces an older one.
    let newest = t.path().join("contacts-2026-11.csv");
    std::fs::write(
        &newest,
        format!("{header}\"7001\",\"Rosa\",\"Jiménez\",\"rosa@example.es\",\"Nueva SL (Madrid)\",\"2026-11-20 10:00\"\n"),
    )
    .unwrap();
    let said = ok(d, &["import", "web-forms", newest.to_str().unwrap()]);
    assert!(said.contains("1 updated"), "{said}");
    let hits = json(d, &["lookup", "rosa", "--json"]);
    assert_eq!(hits[0]["company"], "Nueva SL (Madrid)", "{hits}");
    // A row with no date of its own: kept as held, unless the file's name
    // dates the export (then it is compared like any row).
    let undated = "\"Record ID\",\"First Name\",\"Last Name\",\"Email\",\"Company Name\"\n\"7001\",\"Rosa\",\"Jiménez\",\"rosa@example.es\",\"Sin Fecha SL\"\n";
    let nameless = t.path().join("contacts.csv");
    std::fs::write(&nameless, undated).unwrap();
    let said = ok(d, &["import", "web-forms", nameless.to_str().unwrap()]);
    assert!(said.contains("1 without a date"), "{said}");
    let hits = json(d, &["lookup", "rosa", "--json"]);
    assert_eq!(hits[0]["company"], "Nueva SL (Madrid)", "{hits}");
    let dated = t.path().join("contacts-2026-11-25.csv");
    std::fs::write(&dated, undated).unwrap();
    let said = ok(d, &["import", "web-forms", dated.to_str().unwrap()]);
    assert!(said.contains("1 updated"), "{said}");
    let hits = json(d, &["lookup", "rosa", "--json"]);
    assert_eq!(hits[0]["company"], "Sin Fecha SL", "{hits}");
}

#[test]
fn a_finding_written_for_the_subject_reaches_the_package_and_notes_do_not() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let d = d.as_path();
    let id = verified_case(d, &["access"]);
    ok(d, &["case", "plan", &id, "--accept"]);
    let c = json(d, &["case", "show", &id, "--json"]);
    for t in c["tasks"].as_array().unwrap() {
        let (source, action) = (t["source"].as_str().unwrap(), t["action"].as_str().unwrap());
        ok(
            d,
            &[
                "case",
                "task",
                &id,
                source,
                "--action",
                action,
                "--status",
                "done",
                "--note",
                "internal: looked in the admin panel",
            ],
        );
    }
    ok(
        d,
        &[
            "case",
            "finding",
            &id,
            "correspondence",
            "three e-mails of March 2026 about your order, copies attached",
        ],
    );
    ok(d, &["case", "note", &id, "internal: the customer was rude"]);
    let pw = t.path().join("pw.txt");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let out = t.path().join("out");
    ok(d, &common::cli::export_access_args(&id, &out, &pw, &[]));
    let text = pdf_text(&out.join(format!("{id}-access.pdf")));
    assert!(
        text.contains("What we found: three e-mails of March 2026 about your order"),
        "{text}"
    );
    assert!(!text.contains("internal:"), "{text}");
    // Where something was found, the package never says "nothing found".
    assert!(text.contains("what we found is shown above"), "{text}");
    // Why and how long that source holds data is said too.
    assert!(
        text.contains("E-mail, messengers and phone calls: answering"),
        "{text}"
    );
}

#[test]
fn the_package_holds_only_the_persons_own_records_and_none_from_an_exempt_source() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let d = data.as_path();
    ok(
        d,
        &["import", "web-forms", &fixture("hubspot-contacts.csv")],
    );
    let pw = t.path().join("pw.txt");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let export = |id: &str, out: &Path| {
        ok(
            d,
            &common::cli::export_access_args(id, out, &pw, &["--unsearched-reason", "test"]),
        );
        pdf_text(&out.join(format!("{id}-access.pdf")))
    };
    // Someone who shares only a phone number with a record (a household,
    // a switchboard) is not that record's person.
    let mut args = vec![
        "case",
        "open",
        "--right",
        "access",
        "--name",
        "Seán O’Brien",
    ];
    args.extend([
        "--email",
        "sean@example.ie",
        "--phone",
        "01 234 5678",
        "--channel",
        "email",
    ]);
    let id = ok(d, &args).trim().to_string();
    ok(d, &["case", "verify", &id, "--method", "known-details"]);
    let text = export(&id, &t.path().join("out-sean"));
    assert!(
        !text.contains("Siobhán") && !text.contains("O'Connor"),
        "{text}"
    );
    // A source recorded as exempt sends nothing, and says why.
    let id = verified_case(d, &["access"]);
    ok(d, &["case", "plan", &id, "--accept"]);
    ok(
        d,
        &[
            "case",
            "task",
            &id,
            "web-forms",
            "--status",
            "exempt",
            "--note",
            "Art. 15(4): the record also holds another person's data",
        ],
    );
    let text = export(&id, &t.path().join("out-exempt"));
    assert!(!text.contains("Record 5101"), "{text}");
    assert!(text.contains("not searched, exempt (Art. 15(4)"), "{text}");
}

/// Records every pending task of `id` through the shell: `choose` gives the
/// status and evidence for (source, action).
#[test]
fn rectification_objection_and_consent_worked_through_the_shell_to_their_letters() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();

    // Rectification (Art. 16): the correction, its letter, and the recipients told.
    let id = verified_case(d, &["rectification"]);
    ok(d, &["case", "plan", &id, "--accept"]);
    ok(
        d,
        &[
            "case",
            "rectify",
            &id,
            "--field",
            "phone",
            "--old",
            "+49 30 1234567",
            "--new",
            "+49 30 7654321",
            "--reason",
            "the person's new number, confirmed by call-back",
        ],
    );
    work_every_task(d, &id, &|source, _| match source {
        "web-forms" => ("done", "corrected in HubSpot".into()),
        _ => ("not-found", "searched: nothing held".into()),
    });
    ok(
        d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "fulfilled",
            "--reason",
            "corrected",
        ],
    );
    let letter = ok(d, &["case", "letter", &id]);
    assert!(
        letter.contains("We corrected your phone from \"+49 30 1234567\" to \"+49 30 7654321\""),
        "{letter}"
    );

    // Objection on legitimate interests (Art. 21(1)): upheld only if every
    // source stopped; refused with the grounds stated.
    let id = verified_case(d, &["objection-legitimate-interests"]);
    ok(d, &["case", "plan", &id, "--accept"]);
    let grounds = "the project files are needed to defend a claim you brought";
    work_every_task(d, &id, &|source, _| match source {
        "customers" => ("exempt", grounds.into()),
        _ => ("done", "internal: stopped the processing".into()),
    });
    let upheld = rightsdesk(
        d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "fulfilled",
            "--reason",
            "stopped",
        ],
    );
    assert_eq!(upheld.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&upheld.stderr).contains("not upheld in full"));
    ok(
        d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "refused-compelling-grounds",
            "--reason",
            "claim pending",
        ],
    );
    let letter = ok(d, &["case", "letter", &id]);
    assert!(letter.contains(grounds), "{letter}");
    assert!(!letter.contains("internal:"), "{letter}");

    // Withdrawal of consent (Art. 7(3)): suppressed at once, every consent
    // source's task recorded, then closed.
    let id = verified_case(d, &["withdraw-consent"]);
    ok(d, &["case", "plan", &id, "--accept"]);
    let hits = json(d, &["lookup", "mueller", "--json"]);
    assert_eq!(hits[0]["flags"]["do-not-market"], true, "{hits}");
    work_every_task(d, &id, &|_, _| {
        ("done", "consent-based processing stopped".into())
    });
    ok(
        d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "fulfilled",
            "--reason",
            "stopped",
        ],
    );
    let letter = ok(d, &["case", "letter", &id]);
    assert!(
        letter.contains("the withdrawal of your consent under Art. 7(3)"),
        "{letter}"
    );
}
