//! Imports of real export formats, hostile files, and lookup across sources.

mod common;

use rightsdesk::import::{ColumnMap, Format};
use rightsdesk::lookup::{matcher, Group};
use rightsdesk::service::Desk;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn import(desk: &Desk, source: &str, name: &str) -> rightsdesk::service::ImportReport {
    desk.import(source, &fixture(name), &Default::default(), &mut |_, _| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn all_fixtures(desk: &Desk) {
    import(desk, "web-forms", "hubspot-contacts.csv");
    import(desk, "events", "eventbrite-attendees.csv");
    import(desk, "marketing", "mailchimp-subscribed.csv");
    import(desk, "marketing", "mailchimp-unsubscribed.csv");
    import(desk, "marketing", "mailchimp-cleaned.csv");
    import(desk, "web-forms", "flamingo-inbound.csv");
    import(desk, "web-forms", "wpforms-entries.csv");
    import(desk, "correspondence", "takeout.mbox");
    import(desk, "meeting-recordings", "zoom-recordings.json");
}

fn find(desk: &Desk, q: &str) -> Vec<Group> {
    desk.load_index().unwrap().lookup(&matcher(), q, 10)
}

fn names(groups: &[Group]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| g.hits.iter().map(|h| h.name.clone()))
        .collect()
}

#[test]
fn each_real_format_is_detected_and_read() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    let cases = [
        ("hubspot-contacts.csv", "hubspot", 3),
        ("eventbrite-attendees.csv", "eventbrite", 2),
        ("mailchimp-subscribed.csv", "mailchimp", 1),
        ("mailchimp-unsubscribed.csv", "mailchimp", 1),
        ("mailchimp-cleaned.csv", "mailchimp", 1),
        ("flamingo-inbound.csv", "flamingo", 2),
        ("wpforms-entries.csv", "wpforms", 1),
        ("takeout.mbox", "mbox", 6),
        ("zoom-recordings.json", "zoom", 2),
    ];
    for (file, format, rows) in cases {
        let r = import(&desk, "web-forms", file);
        assert_eq!((r.format.as_str(), r.rows), (format, rows), "{file}");
    }
    let (records, bad) = desk.record_reader().load();
    assert_eq!(bad, 0);
    let by_key = |k: &str| {
        records
            .iter()
            .find(|r| r.key == k)
            .unwrap_or_else(|| panic!("no record {k}"))
    };
    // HubSpot: BOM stripped from the first label, ';' multi-values, both date styles.
    let j = by_key("5101");
    assert_eq!(j.names, vec!["Jürgen Müller"]);
    assert_eq!(
        j.emails,
        vec![
            "J.Mueller@Example.de",
            "juergen@privat.example",
            "jm@old.example"
        ]
    );
    assert_eq!(j.last_activity.unwrap().to_string(), "2024-03-05");
    assert_eq!(
        by_key("5102").last_activity.unwrap().to_string(),
        "2024-03-07"
    );
    assert_eq!(by_key("5102").phones, vec!["+34 612 345 678"]);
    // Eventbrite keys are order + attendee.
    assert_eq!(
        by_key("1234567890-2222222201").company.as_deref(),
        Some("Grün GmbH")
    );
    // Mailchimp statuses.
    assert_eq!(by_key("111").status.as_deref(), Some("subscribed"));
    assert_eq!(by_key("222").status.as_deref(), Some("unsubscribed"));
    assert_eq!(by_key("333").status.as_deref(), Some("cleaned"));
    // Flamingo: formula guards removed from values, CRLF and no final newline.
    let zoe = records
        .iter()
        .find(|r| r.format == "flamingo" && r.emails.contains(&"zoe@example.gr".to_string()))
        .unwrap();
    assert_eq!(zoe.phones, vec!["+30 21 0123 4567"]);
    let mallory = records
        .iter()
        .find(|r| r.emails.contains(&"mallory@example.com".to_string()))
        .unwrap();
    assert!(
        mallory.names[0].starts_with("=HYPERLINK"),
        "kept as data, unguarded: {:?}",
        mallory.names
    );
    // mbox: RFC 2047 names decoded, one record per address per message.
    let from = by_key("abc123@mail.example.de|j.mueller@example.de");
    assert_eq!(from.names, vec!["Jürgen Müller"]);
    assert_eq!(
        by_key("abc123@mail.example.de|ana.garcia@example.es").names,
        vec!["Ana García"]
    );
    assert_eq!(
        by_key("abc123@mail.example.de|jane.doe@example.com").names,
        vec!["Doe, Jane"]
    );
    assert!(from
        .raw
        .iter()
        .any(|(k, v)| k == "subject" && v == "Auskunft über meine Daten"));
    assert!(from
        .raw
        .iter()
        .any(|(k, v)| k == "x-gm-thrid" && v == "1780000000000000001"));
    // Zoom: host e-mail, topic and start.
    let z = by_key("4444AAAiAAAAAiAiAiiAii==");
    assert_eq!(z.emails, vec!["kenji@example.jp"]);
    assert_eq!(z.last_activity.unwrap().to_string(), "2024-04-15");
}

#[test]
fn reimporting_updates_rather_than_duplicates() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    let a = import(&desk, "web-forms", "hubspot-contacts.csv");
    let b = import(&desk, "web-forms", "hubspot-contacts.csv");
    assert_eq!((a.new, a.updated), (3, 0));
    assert_eq!((b.new, b.updated), (0, 3));
    let f1 = import(&desk, "web-forms", "flamingo-inbound.csv");
    let f2 = import(&desk, "web-forms", "flamingo-inbound.csv");
    assert_eq!(
        (f1.new, f2.updated),
        (2, 2),
        "rows without an id are keyed by their content"
    );
    assert_eq!(desk.record_reader().len(), 5);
    let report = desk.verify_audit().unwrap();
    assert_eq!(report.entries, 4, "each import is one audit entry");
}

#[test]
fn generic_csv_and_json_with_a_column_map() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    let map: ColumnMap =
        "key=Kontakt-ID,name=Voller Name,email=E-Mail,phone=Telefon,company=Firma,date=Geändert"
            .parse()
            .unwrap();
    let r = desk
        .import(
            "customers",
            &fixture("generic-crm.csv"),
            &rightsdesk::import::ReadAs {
                format: None,
                map: Some(map.clone()),
                encoding: None,
            },
            &mut |_, _| {},
        )
        .unwrap();
    assert_eq!((r.format.as_str(), r.rows), ("csv", 1));
    let e = desk
        .import(
            "customers",
            &fixture("generic-crm.csv"),
            &Default::default(),
            &mut |_, _| {},
        )
        .unwrap();
    // Without --map the German header is read by its usual names, and the
    // map used is said back.
    assert_eq!(
        e.columns.as_deref(),
        Some("key=Kontakt-ID,company=Firma,date=Geändert,name=Voller Name,email=E-Mail,phone=Telefon")
    );
    let bad: ColumnMap = "name=Nope".parse().unwrap();
    let e = desk
        .import(
            "customers",
            &fixture("generic-crm.csv"),
            &rightsdesk::import::ReadAs {
                format: Some(Format::Csv),
                map: Some(bad.clone()),
                encoding: None,
            },
            &mut |_, _| {},
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1") && e.contains("field 'Nope'"), "{e}");
    let json = t.path().join("people.json");
    std::fs::write(
        &json,
        r#"[{"id": 7, "full": "Maja Kowalczyk", "mail": "maja@example.pl"}]"#,
    )
    .unwrap();
    let m: ColumnMap = "key=id,name=full,email=mail".parse().unwrap();
    let r = desk
        .import(
            "customers",
            &json,
            &rightsdesk::import::ReadAs {
                format: Some(Format::Json),
                map: Some(m.clone()),
                encoding: None,
            },
            &mut |_, _| {},
        )
        .unwrap();
    assert_eq!(r.rows, 1);
    assert_eq!(names(&find(&desk, "kowalczyk")), vec!["Maja Kowalczyk"]);
}

#[test]
fn hostile_files_are_refused_whole_naming_file_line_and_field() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    import(&desk, "web-forms", "hubspot-contacts.csv");
    let before = desk.verify_audit().unwrap();
    let expect: &[(&str, &str)] = &[
        ("invalid-utf8.csv", "line 2: is not valid UTF-8"),
        ("latin1.csv", "line 2: is not UTF-8 (it looks like Windows-1252 / Latin-1: give --encoding windows-1252"),
        (
            "huge-cell.csv",
            "line 2, field 'First Name': the cell is larger than 32 KiB",
        ),
        ("ragged.csv", "line 3"),
        ("nul.csv", "line 2: holds a NUL byte"),
        ("pipes.csv", "line 1: the header is separated by pipes"),
        ("empty.csv", "the file is empty"),
        ("unterminated-quote.csv", "a quoted cell is never closed"),
        ("header-only.csv", "no rows"),
        ("not-mbox.mbox", "line 2"),
        ("bad.json", "not valid JSON"),
    ];
    for (file, want) in expect {
        let path = fixture(&format!("hostile/{file}"));
        let e = desk
            .import("web-forms", &path, &Default::default(), &mut |_, _| {})
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&path.display().to_string()),
            "{file}: the error names the file: {e}"
        );
        assert!(e.contains(want), "{file}: expected '{want}' in: {e}");
    }
    // Nothing was written by any of them.
    assert_eq!(desk.record_reader().len(), 3);
    assert_eq!(desk.verify_audit().unwrap(), before);
}

#[test]
fn escape_sequences_in_imported_cells_are_stored_but_shown_inert() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(["import", "web-forms"])
        .arg(fixture("hostile/escape-name.csv"))
        .env("RIGHTSDESK_DATA_DIR", d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(["lookup", "eve"])
        .env("RIGHTSDESK_DATA_DIR", d)
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("Eve ^[]52;c;ZXZpbA==^G^[]0;pwned^G <U+202E>evil"),
        "{s}"
    );
    assert!(!s.contains('\u{1b}') && !s.contains('\u{7}') && !s.contains('\u{202e}'));
}

#[test]
fn folding_finds_names_typed_without_accents() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    all_fixtures(&desk);
    for (q, want) in [
        ("muller", "Jürgen Müller"),
        ("garcia", "Ana García"),
        ("lukasz", "Łukasz Nowak"),
        ("soren", "Søren Kierkegaard"),
        ("strasse", "Ingrid Straße"),
        ("siobhan o'connor", "Siobhán O'Connor"),
    ] {
        let found = names(&find(&desk, q));
        assert!(
            found.iter().any(|n| n == want),
            "{q} should find {want}: {found:?}"
        );
    }
}

#[test]
fn phone_queries_in_three_formats_find_the_same_person() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    all_fixtures(&desk);
    for q in [
        "+353 1 234 5678",
        "(01) 234-5678",
        "0035312345678",
        "01 2345678",
    ] {
        let found = names(&find(&desk, q));
        assert_eq!(found, vec!["Siobhán O'Connor"], "{q}");
    }
    // The last digits alone find every number that ends with them.
    let found = names(&find(&desk, "2345678"));
    assert!(
        found.contains(&"Siobhán O'Connor".to_string())
            && found.contains(&"Ana García".to_string()),
        "{found:?}"
    );
}

#[test]
fn one_persons_records_from_several_sources_group_into_one_subject() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    all_fixtures(&desk);
    let groups = find(&desk, "j.mueller@example.de");
    let g = &groups[0];
    let mut sources: Vec<&str> = g.hits.iter().map(|h| h.source.as_str()).collect();
    sources.sort();
    sources.dedup();
    assert_eq!(
        sources,
        vec![
            "correspondence",
            "events",
            "meeting-recordings",
            "web-forms"
        ],
        "{g:#?}"
    );
    assert!(g.hits.iter().all(|h| h.subject == g.subject));
    // The link is explainable: which identifier joined them.
    let index = desk.load_index().unwrap();
    let view = index.subject(&g.subject).unwrap();
    assert!(
        view.links
            .iter()
            .any(|(id, n)| id == "j.mueller@example.de" && *n >= 4),
        "{:?}",
        view.links
    );
    // And splittable: the Zoom recording goes its own way.
    desk.split_record("meeting-recordings", "5555BBBiBBBBBiBiBiiBii==")
        .unwrap();
    let groups = find(&desk, "j.mueller@example.de");
    let main = groups
        .iter()
        .find(|g| g.hits.iter().any(|h| h.source == "web-forms"))
        .unwrap();
    assert!(
        !main.hits.iter().any(|h| h.source == "meeting-recordings"),
        "{main:#?}"
    );
    let alone = groups
        .iter()
        .find(|g| g.hits.iter().any(|h| h.source == "meeting-recordings"))
        .unwrap();
    assert_eq!(alone.hits.len(), 1);
    assert_ne!(alone.subject, main.subject);
    desk.verify_audit().unwrap();
}

#[test]
fn flags_come_from_mailchimp_and_from_cases() {
    use rightsdesk::domain::*;
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    all_fixtures(&desk);
    let g = &find(&desk, "ingrid")[0];
    assert!(
        g.flags.do_not_market,
        "an unsubscribed Mailchimp row is DO NOT MARKET"
    );
    assert!(!g.flags.restricted);
    let c = desk
        .open_case(common::new_case(
            "Zoë Papadopoulos",
            "ZOE@example.gr",
            vec![Right::Restriction],
        ))
        .unwrap();
    let g = &find(&desk, "papadopoulos")[0];
    assert!(
        g.flags.restricted,
        "an open restriction case marks every hit RESTRICTED"
    );
    assert_eq!(g.flags.words(), vec!["RESTRICTED"]);
    let _ = c;
}
