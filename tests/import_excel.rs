//! Excel's own formats, as an officer saves them: "Unicode Text" (UTF-16LE
//! with a byte-order mark, tab-separated), "CSV UTF-8" (a BOM, semicolons in
//! a German or French locale), and the plain "CSV" of a German Excel
//! (Windows-1252, semicolons), read when `--encoding windows-1252` says so.
//! Each import says what it detected.

mod common;

use common::cli::{json, ok, run};
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
        .display()
        .to_string()
}

fn names_found(d: &std::path::Path, query: &str) -> String {
    json(d, &["lookup", query, "--json"]).to_string()
}

#[test]
fn unicode_text_is_read_as_utf16_with_tabs_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let said = ok(
        &d,
        &["import", "customers", &fixture("excel-unicode-text.txt")],
    );
    assert!(
        said.contains("imported 3 rows") && said.contains("(csv, UTF-16LE (BOM), tab-separated)"),
        "{said}"
    );
    assert!(said.contains("first=Vorname,last=Nachname"), "{said}");
    let found = names_found(&d, "muller");
    assert!(found.contains("Jürgen Müller"), "{found}");
    // A quoted cell with quotes inside, and letters beyond Latin-1.
    let found = names_found(&d, "lukasz");
    assert!(
        found.contains("Łukasz Wróbel") && found.contains("Wróbel \\\"Transport\\\" Sp. z o.o."),
        "{found}"
    );
}

#[test]
fn excel_csv_utf8_with_semicolons_is_read_and_the_report_says_how() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let r = json(
        &d,
        &[
            "import",
            "customers",
            &fixture("excel-csv-utf8.csv"),
            "--json",
        ],
    );
    assert_eq!(r["encoding"], "UTF-8 (BOM)", "{r}");
    assert_eq!(r["delimiter"], "semicolon", "{r}");
    assert_eq!(r["format"], "csv", "{r}");
    assert_eq!(r["rows"], 3, "{r}");
    assert!(r["columns"]
        .as_str()
        .unwrap()
        .contains("email=E-Mail-Adresse"));
    // A known export saved from a German Excel: still recognised by its header.
    let said = ok(
        &d,
        &["import", "web-forms", &fixture("excel-semicolons.csv")],
    );
    assert!(
        said.contains("(hubspot, UTF-8, semicolon-separated)"),
        "{said}"
    );
    assert!(names_found(&d, "garcia").contains("Ana García"));
}

#[test]
fn windows_1252_is_refused_naming_its_line_until_the_encoding_is_given() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let file = fixture("excel-semikolon-1252.csv");
    let out = run(&d, &["import", "customers", &file]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("excel-semikolon-1252.csv, line 2: is not UTF-8")
            && err.contains("--encoding windows-1252"),
        "{err}"
    );
    // Nothing landed.
    assert!(!names_found(&d, "muller").contains("Müller"));

    let said = ok(
        &d,
        &["import", "customers", &file, "--encoding", "windows-1252"],
    );
    assert!(
        said.contains("(csv, windows-1252, semicolon-separated)"),
        "{said}"
    );
    // € is 0x80 in Windows-1252 (a C1 control in Latin-1): read as the euro.
    let found = names_found(&d, "renee");
    assert!(
        found.contains("Renée Dupont") && found.contains("Café € Co"),
        "{found}"
    );
    assert!(names_found(&d, "muller").contains("Jürgen Müller"));

    let out = run(&d, &["import", "customers", &file, "--encoding", "klingon"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown encoding 'klingon'"));
}

#[test]
fn a_campaign_list_from_excel_is_checked_as_it_is_imported() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    // Renée objected to marketing; the German campaign list (Windows-1252,
    // semicolons) is read as the import reads it, and her row is caught.
    ok(
        &d,
        &[
            "case",
            "open",
            "--right",
            "objection",
            "--name",
            "Renée Dupont",
            "--email",
            "renee.dupont@example.fr",
            "--channel",
            "email",
        ],
    );
    let keys = common::cli::flagged_keys(
        &d,
        &[
            "suppression",
            "check",
            &fixture("excel-semikolon-1252.csv"),
            "--encoding",
            "windows-1252",
            "--json",
        ],
    );
    assert_eq!(keys, ["K-1004"]);
}

#[test]
fn the_desks_form_tells_the_same_reading_from_the_first_bytes() {
    // What the import form shows on leaving the file field: the reading the
    // import will use, from the head of the file only.
    let how = rightsdesk::import::ReadAs::default();
    let bytes = std::fs::read(fixture("excel-unicode-text.txt")).unwrap();
    let s = rightsdesk::import::sniff("kunden.txt", &bytes, &how).unwrap();
    assert_eq!(
        s.words(),
        "csv · UTF-16LE (BOM) · tab-separated · columns key=Kundennummer,first=Vorname,last=Nachname,company=Firma,email=E-Mail-Adresse,phone=Telefon"
    );
    // A head cut mid-line (a large file) reads the same.
    let mut big = bytes.clone();
    while big.len() < rightsdesk::import::SNIFF_BYTES + 10 {
        big.extend_from_slice(&bytes[2..]);
    }
    let head = &big[..rightsdesk::import::SNIFF_BYTES + 1];
    assert_eq!(
        rightsdesk::import::sniff("kunden.txt", head, &how).unwrap(),
        s
    );
    let s = rightsdesk::import::sniff(
        "kunden.csv",
        &std::fs::read(fixture("excel-semikolon-1252.csv")).unwrap(),
        &rightsdesk::import::ReadAs {
            encoding: Some("windows-1252".parse().unwrap()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.delimiter, Some("semicolon"));
    assert_eq!(s.encoding, "windows-1252");
}
